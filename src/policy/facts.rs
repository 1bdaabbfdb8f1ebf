//! The per-run facts a helper's parameters may name, written as op(1l) writes them in a rule:
//! `$l` the caller's login, `$y` the caller's controlling terminal, `$H` the target user's
//! home, `$0`…`$9` the command's words (`$0` as typed, then its arguments), `$.` a space and
//! `$$` a dollar sign. Anything else after `$` is refused when the config is read, so a typo
//! never reaches a helper as literal text.
//!
//! Every fact is checked before it reaches a helper: no control character, at most
//! [`MAX_FACT`] bytes. A parameter that names a fact the run does not have (`$y` with no
//! terminal, `$3` for a two-word command) refuses the run: a helper must never judge a value
//! it was not meant to get.

#![forbid(unsafe_code)]

use std::fmt;

/// Longest fact substituted into a parameter.
pub const MAX_FACT: usize = 1024;

/// What this run knows about its caller and its command.
pub struct RunFacts<'a> {
    pub login: &'a [u8],
    /// The caller's controlling terminal (`/dev/pts/3`), if it has one.
    pub tty: Option<&'a [u8]>,
    /// The command's words as the caller gave them.
    pub argv: &'a [Vec<u8>],
    pub target_home: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `$` followed by something that names no fact (or by nothing).
    Unknown(String),
    /// The run has no such fact.
    Missing(&'static str),
    /// The fact holds a control character or is longer than [`MAX_FACT`].
    Unacceptable(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unknown(s) => write!(f, "{s:?} names no per-run fact ($l $y $H $0-$9 $. $$)"),
            Error::Missing(what) => write!(f, "the parameters need {what}, which this run does not have"),
            Error::Unacceptable(what) => {
                write!(f, "{what} holds a control character or is longer than {MAX_FACT} bytes; not given to a helper")
            }
        }
    }
}

/// Whether `v` may be handed to a helper as (part of) a parameter.
pub fn acceptable(v: &[u8], max: usize) -> bool {
    v.len() <= max && !String::from_utf8_lossy(v).chars().any(char::is_control)
}

/// `template` with its facts substituted; with `facts` None, only its spelling is checked
/// (when the config is read).
pub fn expand(template: &str, facts: Option<&RunFacts<'_>>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(template.len());
    let mut rest = template.as_bytes();
    while let Some(at) = rest.iter().position(|&b| b == b'$') {
        out.extend_from_slice(rest.get(..at).unwrap_or_default());
        let spec = rest.get(at + 1).copied();
        rest = rest.get(at + 2..).unwrap_or_default();
        let (what, value): (&'static str, Option<&[u8]>) = match spec {
            Some(b'$') => ("$$", Some(b"$")),
            Some(b'.') => ("$.", Some(b" ")),
            Some(b'l') => ("the caller's login ($l)", facts.map(|f| f.login)),
            Some(b'y') => ("the caller's terminal ($y)", facts.map(|f| f.tty.unwrap_or_default())),
            Some(b'H') => ("the target's home ($H)", facts.map(|f| f.target_home)),
            Some(d @ b'0'..=b'9') => {
                let i = usize::from(d - b'0');
                ("a word of the command ($0-$9)", facts.map(|f| f.argv.get(i).map_or(&[][..], Vec::as_slice)))
            }
            other => {
                let shown = other.map_or(String::from("$"), |b| format!("${}", char::from(b)));
                return Err(Error::Unknown(shown));
            }
        };
        let Some(facts) = facts else { continue };
        let missing = match spec {
            Some(b'y') => facts.tty.is_none(),
            Some(d @ b'0'..=b'9') => facts.argv.len() <= usize::from(d - b'0'),
            _ => false,
        };
        if missing {
            return Err(Error::Missing(what));
        }
        let value = value.unwrap_or_default();
        if !acceptable(value, MAX_FACT) {
            return Err(Error::Unacceptable(what));
        }
        out.extend_from_slice(value);
    }
    out.extend_from_slice(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(argv: &'a [Vec<u8>], tty: Option<&'a [u8]>) -> RunFacts<'a> {
        RunFacts { login: b"ksb", tty, argv, target_home: b"/root" }
    }

    #[test]
    fn substitutes_ops_facts() {
        let argv = vec![b"commit".to_vec(), b"42".to_vec()];
        let f = facts(&argv, Some(b"/dev/pts/3"));
        assert_eq!(expand("ecru/$l:TTY=$y", Some(&f)).unwrap(), b"ecru/ksb:TTY=/dev/pts/3");
        assert_eq!(expand("commit/ready-$1:Auth!$l", Some(&f)).unwrap(), b"commit/ready-42:Auth!ksb");
        assert_eq!(expand("$0 in $H costs $$5$.now", Some(&f)).unwrap(), b"commit in /root costs $5 now");
        assert_eq!(expand("plain", Some(&f)).unwrap(), b"plain");
    }

    #[test]
    fn refuses_unknown_facts_when_the_config_is_read() {
        for bad in ["$x", "a$", "$TIMEBOX", "$ "] {
            assert!(matches!(expand(bad, None), Err(Error::Unknown(_))), "{bad}");
        }
        assert!(expand("$l $y $H $0 $9 $. $$", None).is_ok());
    }

    #[test]
    fn a_fact_the_run_lacks_refuses_it() {
        let argv = vec![b"id".to_vec()];
        assert_eq!(expand("TTY=$y", Some(&facts(&argv, None))), Err(Error::Missing("the caller's terminal ($y)")));
        assert_eq!(expand("$2", Some(&facts(&argv, None))), Err(Error::Missing("a word of the command ($0-$9)")));
    }

    #[test]
    fn hostile_facts_never_reach_a_helper() {
        for word in [&b"a\nb"[..], b"\x1b[2J", "\u{85}".as_bytes(), &[b'x'; MAX_FACT + 1]] {
            let argv = vec![b"cmd".to_vec(), word.to_vec()];
            assert!(matches!(expand("$1", Some(&facts(&argv, None))), Err(Error::Unacceptable(_))), "{word:?}");
        }
    }
}
