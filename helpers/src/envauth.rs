//! envauth: environment conditions. `ENVAUTH_VAR_<name>=RE`: `<name>` must be set and match RE;
//! `ENVAUTH_NOT_<name>=RE`: `<name>` must not match RE (unset passes). Every check must pass.
//! REs are unanchored (write `^…$` for a whole value) and run on the environment the command
//! will get, minus envauth's own parameters (under escapes, the `ESCAPES_ENV_*` entries:
//! `Env::command_env`). If `<name>` appears more than once, every value is
//! checked: whichever one the command's getenv picks must be acceptable.

use crate::env::Env;
use crate::params::{ParamError, Params};
use crate::regex::{Regex, RegexError};
use std::fmt;

pub const VAR: &str = "ENVAUTH_VAR_";
pub const NOT: &str = "ENVAUTH_NOT_";

/// One condition on one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: Vec<u8>,
    /// true for `_VAR_` (must match), false for `_NOT_` (must not).
    pub must_match: bool,
    pub regex: Regex,
}

/// Why the parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvauthError {
    Param(ParamError),
    /// No `_VAR_` or `_NOT_` parameter: nothing would be checked.
    NoChecks,
    /// `ENVAUTH_VAR_` with nothing after it.
    EmptyName(String),
    Regex {
        variable: String,
        error: RegexError,
    },
}

impl fmt::Display for EnvauthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvauthError::Param(e) => e.fmt(f),
            EnvauthError::NoChecks => f.write_str("no ENVAUTH_VAR_<name> or ENVAUTH_NOT_<name> parameter"),
            EnvauthError::EmptyName(v) => write!(f, "{v} names no variable"),
            EnvauthError::Regex { variable, error } => write!(f, "{variable}: {error}"),
        }
    }
}

/// The checks the parameters ask for, in environment order.
pub fn checks(params: &Params) -> Result<Vec<Check>, EnvauthError> {
    params.only(&["ENVAUTH_WARN", "ENVAUTH_REVEAL"], &[VAR, NOT]).map_err(EnvauthError::Param)?;
    let mut out = Vec::new();
    for (key, value) in params.iter() {
        let (must_match, name) = if let Some(n) = key.strip_prefix(VAR.as_bytes()) {
            (true, n)
        } else if let Some(n) = key.strip_prefix(NOT.as_bytes()) {
            (false, n)
        } else {
            continue;
        };
        let variable = String::from_utf8_lossy(key).into_owned();
        if name.is_empty() {
            return Err(EnvauthError::EmptyName(variable));
        }
        let regex = Regex::new(value).map_err(|error| EnvauthError::Regex { variable, error })?;
        out.push(Check { name: name.to_vec(), must_match, regex });
    }
    if out.is_empty() {
        return Err(EnvauthError::NoChecks);
    }
    Ok(out)
}

impl Check {
    pub fn passes(&self, env: &Env) -> bool {
        let mut values = env.values(&self.name).peekable();
        if self.must_match {
            values.peek().is_some() && values.all(|v| self.regex.is_match(v))
        } else {
            values.all(|v| !self.regex.is_match(v))
        }
    }
}

/// The first check that fails, if any.
pub fn first_failure<'a>(checks: &'a [Check], env: &Env) -> Option<&'a Check> {
    checks.iter().find(|c| !c.passes(env))
}

// ---------------------------------------------------------------- the envauth program

/// What `envauth -h`, `-H` and `-V` say, and its standard suffixes.
pub const HELPER: crate::helper::Helper = crate::helper::Helper {
    name: "envauth",
    about: "Allows the command only when every ENVAUTH_VAR_<name> matches and no ENVAUTH_NOT_<name>\n\
            matches, checked on the environment the command will get (minus envauth's parameters).",
    reads: &["ENVAUTH_VAR_<name>", "ENVAUTH_NOT_<name>", "ENVAUTH_WARN", "ENVAUTH_REVEAL"],
    grammar: &[
        ("ENVAUTH_VAR_<name>", "RE  (<name> must be set and match; unanchored, POSIX ERE subset)"),
        ("ENVAUTH_NOT_<name>", "RE  (<name> must not match; unset passes)"),
        ("ENVAUTH_WARN", "text printed on stderr when refused"),
        ("ENVAUTH_REVEAL", "prefix: reply ~prefix after removing the ENVAUTH_ parameters"),
    ],
    warn_var: "ENVAUTH_WARN",
    reveal_var: "ENVAUTH_REVEAL",
};

/// The envauth program: allow only when the environment satisfies every ENVAUTH_VAR_/ENVAUTH_NOT_ check.
pub fn main() -> ! {
    use crate::envauth;
    use crate::helper::{self, Verdict};
    use crate::params::Params;
    use opwire::sysexits::EX_NOPERM;
    helper::main(&HELPER, Params::prefixed("ENVAUTH_"), |s| {
        let checks = match envauth::checks(&s.params) {
            Ok(c) => c,
            Err(e) => return Verdict::config(e),
        };
        match envauth::first_failure(&checks, &s.env.command_env()) {
            None => Verdict::allow(),
            Some(_) => Verdict::deny(EX_NOPERM),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(params: &[(&str, &str)], env: &[(&str, &str)]) -> Result<bool, EnvauthError> {
        let mut all = Env::from_pairs(env);
        for (k, v) in params {
            all.set(k.as_bytes(), v.as_bytes());
        }
        let p = Params::take(&mut all, Params::prefixed("ENVAUTH_")).map_err(EnvauthError::Param)?;
        let c = checks(&p)?;
        Ok(first_failure(&c, &all).is_none())
    }

    #[test]
    fn var_must_be_set_and_match() {
        let p = [("ENVAUTH_VAR_TICKET", "^OPS-[0-9]+$")];
        assert_eq!(run(&p, &[("TICKET", "OPS-42")]), Ok(true));
        assert_eq!(run(&p, &[("TICKET", "OPS-42x")]), Ok(false));
        assert_eq!(run(&p, &[]), Ok(false));
    }

    #[test]
    fn not_must_not_match_and_unset_passes() {
        let p = [("ENVAUTH_NOT_LD_PRELOAD", "")];
        assert_eq!(run(&p, &[]), Ok(true));
        assert_eq!(run(&p, &[("LD_PRELOAD", "")]), Ok(false));
        let p = [("ENVAUTH_NOT_SHELL", "csh$")];
        assert_eq!(run(&p, &[("SHELL", "/bin/tcsh")]), Ok(false));
        assert_eq!(run(&p, &[("SHELL", "/bin/sh")]), Ok(true));
    }

    #[test]
    fn every_check_must_pass() {
        let p = [("ENVAUTH_VAR_A", "^1$"), ("ENVAUTH_NOT_B", "x")];
        assert_eq!(run(&p, &[("A", "1"), ("B", "y")]), Ok(true));
        assert_eq!(run(&p, &[("A", "1"), ("B", "x")]), Ok(false));
        assert_eq!(run(&p, &[("A", "2"), ("B", "y")]), Ok(false));
    }

    #[test]
    fn every_duplicate_value_is_checked() {
        let p = [("ENVAUTH_VAR_A", "^ok$")];
        assert_eq!(run(&p, &[("A", "ok"), ("A", "evil")]), Ok(false));
        assert_eq!(run(&p, &[("A", "evil"), ("A", "ok")]), Ok(false));
        let p = [("ENVAUTH_NOT_A", "evil")];
        assert_eq!(run(&p, &[("A", "ok"), ("A", "evil")]), Ok(false));
    }

    #[test]
    fn own_parameters_are_not_checked_values() {
        // ENVAUTH_WARN is removed before the checks run, so it is "unset" here.
        let p = [("ENVAUTH_NOT_ENVAUTH_WARN", ""), ("ENVAUTH_WARN", "w")];
        assert_eq!(run(&p, &[]), Ok(true));
    }

    #[test]
    fn refuses_bad_parameters() {
        assert_eq!(run(&[("ENVAUTH_WARN", "w")], &[]), Err(EnvauthError::NoChecks));
        assert_eq!(run(&[("ENVAUTH_VAR_", "x")], &[]), Err(EnvauthError::EmptyName("ENVAUTH_VAR_".into())));
        assert!(matches!(run(&[("ENVAUTH_VAR_A", "(")], &[]), Err(EnvauthError::Regex { .. })));
        assert!(matches!(run(&[("ENVAUTH_MUST_A", "x")], &[]), Err(EnvauthError::Param(ParamError::Unknown(_)))));
    }
}
