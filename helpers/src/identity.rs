//! Whose rights a helper borrows. The **caller** (who asked for the escalation) is the one whose
//! resources — an ssh-agent socket, an X authority file — a helper may hand on, so it reaches
//! them with the caller's rights, never root's. The **target** is `EUID:EGID` from argv.
//!
//! Under escapes helpers run with every uid 0, and escapes names the caller in
//! `ESCAPES_CALLER_UID` / `ESCAPES_CALLER_GID`. Under op the real uid is the client's, but the
//! gids are already the target's (op sets them before it runs helpers), so the caller's group
//! is its primary group from /etc/passwd. Those two variables are believed only when the real
//! uid is 0: op copies client variables into a helper's environment when a rule asks, so a
//! client could otherwise name itself root. With a real uid other than 0 they must agree with
//! it, or the run is refused.

use crate::env::Env;
use crate::invocation::decimal_u32;
use crate::passwd;
use opwire::sysexits::{EX_CONFIG, EX_NOPERM, EX_NOUSER};
use std::fmt;

pub const CALLER_UID: &str = "ESCAPES_CALLER_UID";
pub const CALLER_GID: &str = "ESCAPES_CALLER_GID";

/// A uid and its primary gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

/// Why the caller cannot be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityError {
    /// The variable is not one decimal number (or appears twice).
    BadFact(&'static str),
    /// Only one of the two variables is set.
    HalfFact,
    /// escapes facts (`ESCAPES_*`) are present but none names the caller: an escapes too old
    /// to say, whose helpers would otherwise take root for the caller.
    Unnamed,
    /// Under op, the variables name someone other than the real uid.
    Conflict { real: u32 },
    /// Under op, the real uid has no /etc/passwd entry, so its group is unknown.
    NoAccount(u32),
}

impl IdentityError {
    pub fn exit_code(&self) -> u8 {
        match self {
            IdentityError::Conflict { .. } => EX_NOPERM,
            IdentityError::NoAccount(_) => EX_NOUSER,
            _ => EX_CONFIG,
        }
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::BadFact(v) => write!(f, "{v} must be one decimal number"),
            IdentityError::HalfFact => write!(f, "{CALLER_UID} and {CALLER_GID} come together"),
            IdentityError::Unnamed => {
                write!(f, "ESCAPES_* facts without {CALLER_UID}: this escapes does not name the caller")
            }
            IdentityError::Conflict { real } => {
                write!(f, "{CALLER_UID}/{CALLER_GID} disagree with the real uid {real} and its account")
            }
            IdentityError::NoAccount(uid) => {
                write!(f, "caller uid {uid} has no {} entry", passwd::PASSWD)
            }
        }
    }
}

fn fact(env: &Env, name: &'static str) -> Result<Option<u32>, IdentityError> {
    let mut values = env.values(name.as_bytes());
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => decimal_u32(v).map(Some).ok_or(IdentityError::BadFact(name)),
        (Some(_), Some(_)) => Err(IdentityError::BadFact(name)),
    }
}

/// The caller, from the environment a helper was given, its real uid and /etc/passwd.
pub fn caller(env: &Env, real_uid: u32, passwd_data: &[u8]) -> Result<Ids, IdentityError> {
    let named = match (fact(env, CALLER_UID)?, fact(env, CALLER_GID)?) {
        (Some(uid), Some(gid)) => Some(Ids { uid, gid }),
        (None, None) => None,
        _ => return Err(IdentityError::HalfFact),
    };
    let account = |uid: u32| passwd::by_uid(passwd_data, uid).map(|e| Ids { uid, gid: e.gid });
    if real_uid == 0 {
        if let Some(ids) = named {
            return Ok(ids);
        }
        let escapes = env.entries().iter().any(|(k, _)| k.starts_with(b"ESCAPES_"));
        if escapes {
            return Err(IdentityError::Unnamed);
        }
        return Ok(account(0).unwrap_or(Ids { uid: 0, gid: 0 }));
    }
    let ids = account(real_uid).ok_or(IdentityError::NoAccount(real_uid))?;
    match named {
        Some(n) if n != ids => Err(IdentityError::Conflict { real: real_uid }),
        _ => Ok(ids),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0::/root:/bin/sh\nksb:x:1000:100::/home/ksb:/bin/sh\n";

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    #[test]
    fn escapes_names_the_caller() {
        let e = env(&[(CALLER_UID, "1000"), (CALLER_GID, "50"), ("ESCAPES_GRANT_ID", "g")]);
        assert_eq!(caller(&e, 0, PASSWD), Ok(Ids { uid: 1000, gid: 50 }));
    }

    #[test]
    fn under_op_the_real_uid_and_its_passwd_group_are_the_caller() {
        assert_eq!(caller(&env(&[]), 1000, PASSWD), Ok(Ids { uid: 1000, gid: 100 }));
        assert_eq!(caller(&env(&[]), 1001, PASSWD), Err(IdentityError::NoAccount(1001)));
    }

    #[test]
    fn under_op_a_client_cannot_name_someone_else() {
        for (u, g) in [("0", "0"), ("1000", "0"), ("0", "100")] {
            let e = env(&[(CALLER_UID, u), (CALLER_GID, g)]);
            assert_eq!(caller(&e, 1000, PASSWD), Err(IdentityError::Conflict { real: 1000 }), "{u}:{g}");
        }
        let e = env(&[(CALLER_UID, "1000"), (CALLER_GID, "100")]);
        assert_eq!(caller(&e, 1000, PASSWD), Ok(Ids { uid: 1000, gid: 100 }));
    }

    #[test]
    fn root_without_facts_is_root_but_escapes_without_them_is_refused() {
        assert_eq!(caller(&env(&[]), 0, PASSWD), Ok(Ids { uid: 0, gid: 0 }));
        assert_eq!(caller(&env(&[("ESCAPES_GRANT_ID", "g")]), 0, PASSWD), Err(IdentityError::Unnamed));
    }

    #[test]
    fn refuses_malformed_facts() {
        let bad: &[&[(&str, &str)]] = &[
            &[(CALLER_UID, "1000")],
            &[(CALLER_GID, "100")],
            &[(CALLER_UID, "x"), (CALLER_GID, "1")],
            &[(CALLER_UID, "-1"), (CALLER_GID, "1")],
            &[(CALLER_UID, ""), (CALLER_GID, "1")],
            &[(CALLER_UID, "1"), (CALLER_UID, "2"), (CALLER_GID, "1")],
        ];
        for e in bad {
            assert!(caller(&env(e), 0, PASSWD).is_err(), "{e:?}");
        }
    }
}
