//! A helper's own parameters: taken out of the environment it was given (so the rest can be passed
//! on and the command never sees them) and checked once, up front.

use crate::env::Env;
use opwire::reply::is_name;
use std::fmt;

/// What is wrong with the parameter set as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// A name with the helper's prefix that the reply language cannot delete (`-NAME` would be
    /// unsafe to write): shown lossily.
    BadName(String),
    /// The same parameter appears twice: which one the command's getenv would see is unclear.
    Duplicate(String),
    /// A parameter this helper does not know (usually a typo; refusing beats ignoring it).
    Unknown(String),
    /// A parameter the helper cannot work without.
    Missing(&'static str),
    /// `X_REVEAL` must be a name prefix `[A-Za-z_][A-Za-z0-9_]*`.
    BadReveal(String),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::BadName(n) => {
                write!(f, "parameter name {n:?} is not [A-Za-z_][A-Za-z0-9_]*")
            }
            ParamError::Duplicate(n) => write!(f, "parameter {n} is set more than once"),
            ParamError::Unknown(n) => write!(f, "unknown parameter {n}"),
            ParamError::Missing(n) => write!(f, "parameter {n} is required"),
            ParamError::BadReveal(n) => {
                write!(f, "{n} must be a name prefix [A-Za-z_][A-Za-z0-9_]*")
            }
        }
    }
}

/// The parameters a helper consumed, in environment order, names valid and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Params {
    /// Removes from `env` every entry whose name `is_own` claims, and checks the names.
    pub fn take(env: &mut Env, is_own: impl Fn(&[u8]) -> bool) -> Result<Params, ParamError> {
        let entries = env.take_where(is_own);
        for (i, (name, _)) in entries.iter().enumerate() {
            if !is_name(name) {
                return Err(ParamError::BadName(String::from_utf8_lossy(name).into_owned()));
            }
            if entries.iter().take(i).any(|(n, _)| n == name) {
                return Err(ParamError::Duplicate(String::from_utf8_lossy(name).into_owned()));
            }
        }
        Ok(Params { entries })
    }

    /// `is_own` for the usual `PREFIX_` convention.
    pub fn prefixed(prefix: &'static str) -> impl Fn(&[u8]) -> bool {
        move |n: &[u8]| n.starts_with(prefix.as_bytes())
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries.iter().find(|(k, _)| k.as_slice() == name.as_bytes()).map(|(_, v)| v.as_slice())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.entries.iter().map(|(k, _)| k.as_slice())
    }

    /// Refuses any parameter that is neither one of `exact` nor starts with one of `prefixes`.
    pub fn only(&self, exact: &[&str], prefixes: &[&str]) -> Result<(), ParamError> {
        for name in self.names() {
            let known =
                exact.iter().any(|e| e.as_bytes() == name) || prefixes.iter().any(|p| name.starts_with(p.as_bytes()));
            if !known {
                return Err(ParamError::Unknown(String::from_utf8_lossy(name).into_owned()));
            }
        }
        Ok(())
    }

    /// The checked `X_REVEAL` prefix, if set.
    pub fn reveal(&self, var: &'static str) -> Result<Option<Vec<u8>>, ParamError> {
        match self.get(var) {
            None => Ok(None),
            Some(p) if is_name(p) => Ok(Some(p.to_vec())),
            Some(_) => Err(ParamError::BadReveal(var.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_own_parameters_and_leaves_the_rest() {
        let mut env = Env::from_pairs(&[("TIMEBOX_INSIDE", "x"), ("TZ", "UTC"), ("TIMEBOX_WARN", "w")]);
        let p = Params::take(&mut env, Params::prefixed("TIMEBOX_")).unwrap();
        assert_eq!(p.get("TIMEBOX_INSIDE"), Some(b"x".as_slice()));
        assert_eq!(env, Env::from_pairs(&[("TZ", "UTC")]));
    }

    #[test]
    fn refuses_duplicate_parameters() {
        let mut env = Env::from_pairs(&[("TIMEBOX_INSIDE", "x"), ("TIMEBOX_INSIDE", "y")]);
        assert_eq!(
            Params::take(&mut env, Params::prefixed("TIMEBOX_")),
            Err(ParamError::Duplicate("TIMEBOX_INSIDE".into()))
        );
    }

    #[test]
    fn refuses_a_parameter_name_that_would_inject_a_reply_line() {
        let mut env = Env::from_pairs(&[("TIMEBOX_X\n0", "x")]);
        assert!(matches!(Params::take(&mut env, Params::prefixed("TIMEBOX_")), Err(ParamError::BadName(_))));
    }

    #[test]
    fn refuses_unknown_parameters() {
        let mut env = Env::from_pairs(&[("TIMEBOX_WARNING", "x")]);
        let p = Params::take(&mut env, Params::prefixed("TIMEBOX_")).unwrap();
        assert_eq!(p.only(&["TIMEBOX_WARN"], &[]), Err(ParamError::Unknown("TIMEBOX_WARNING".into())));
    }

    #[test]
    fn reveal_must_be_a_name_prefix() {
        let mut env = Env::from_pairs(&[("X_REVEAL", "J_\n0")]);
        let p = Params::take(&mut env, Params::prefixed("X_")).unwrap();
        assert!(p.reveal("X_REVEAL").is_err());
    }
}
