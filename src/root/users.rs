//! The target user and groups, from /etc/passwd and /etc/group: read here as trusted files,
//! looked up by the parse service (no NSS modules in a setuid process).

use crate::confined::service;
use crate::policy::account::{Identity, User};
use crate::root::trusted_file;

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";
const MAX_DB: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    File(trusted_file::Error),
    /// A malformed line (the parse service's words, naming the file and line).
    Parse(String),
    Service(service::Error),
    NoSuchUser(String),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::File(e) => write!(f, "{e}"),
            Error::Parse(e) => f.write_str(e),
            Error::Service(e) => write!(f, "{e}"),
            Error::NoSuchUser(u) => write!(f, "run-as user {u:?} does not exist on this host"),
        }
    }
}

/// /etc/passwd, read once per run however many lookups need it.
fn passwd_db() -> &'static Result<Vec<u8>, trusted_file::Error> {
    static DB: std::sync::OnceLock<Result<Vec<u8>, trusted_file::Error>> = std::sync::OnceLock::new();
    DB.get_or_init(|| trusted_file::read(PASSWD, MAX_DB))
}

/// A user with the identity the command will have.
pub struct Resolved {
    pub user: User,
    pub identity: Identity,
}

/// Looks up `name`; `root` works even where /etc/passwd does not exist (a minimal image).
pub fn resolve(name: &[u8]) -> Result<Resolved, Error> {
    let db = match passwd_db() {
        Ok(db) => db,
        Err(e) if e.is_missing() && name == b"root" => {
            let user =
                User { name: b"root".to_vec(), uid: 0, gid: 0, home: b"/root".to_vec(), shell: b"/bin/sh".to_vec() };
            return Ok(Resolved { user, identity: Identity::new(0, 0, vec![0]) });
        }
        Err(e) => return Err(Error::File(e.clone())),
    };
    let groups = match trusted_file::read(GROUP, MAX_DB) {
        Ok(g) => Some(g),
        Err(e) if e.is_missing() => None,
        Err(e) => return Err(Error::File(e)),
    };
    let (user, gids) = service::user_by_name(db, groups.as_deref(), name)
        .map_err(Error::Service)?
        .map_err(Error::Parse)?
        .ok_or_else(|| Error::NoSuchUser(String::from_utf8_lossy(name).into_owned()))?;
    let identity = Identity::new(user.uid, user.gid, gids);
    Ok(Resolved { user, identity })
}

/// The caller's login name for the audit log, if /etc/passwd knows it.
pub fn name_of(uid: u32) -> Option<Vec<u8>> {
    let db = passwd_db().as_ref().ok()?;
    service::user_by_uid(db, uid).ok()?.ok()?.map(|u| u.name)
}
