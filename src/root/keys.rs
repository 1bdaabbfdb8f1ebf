//! Finding the issuer's public key by `kid`, in this order:
//! 1. a pinned JWKS file named in `[keys]` (root-owned): it wins, and no network is used;
//! 2. the JWKS cache: one root-owned file per issuer in [`CACHE_DIR`], used while younger than
//!    [`MAX_CACHE_AGE_SECS`];
//! 3. `GET {iss}/.well-known/jwks.json` — when there is no fresh cache, or the cache lacks the
//!    `kid` (a rotated key). At most one fetch per lookup; the result replaces the cache.
//!
//! `[security] offline = true` does not change this: it means grants are not checked at the
//! IdP (no consume call), not that keys cannot be fetched. A host with no network at all pins
//! its issuers' keys in `[keys]`.
//!
//! The cache only saves a round trip: a cache file that is missing, stale, damaged or not
//! trustworthy (wrong owner or mode) is ignored and refetched, never trusted, and failing to
//! write it does not stop a run (the reason goes into the audit record).

use crate::confined::service;
use crate::policy::config::Config;
use crate::policy::token::{self, Key};
use crate::policy::verify::hex_sha256;
use crate::root::idp;
use crate::root::trusted_file;
use crate::sys::{self, Fd};
use opwire::sysexits::Exit;
use std::ffi::CString;

/// Pinned key files are small; anything bigger is a mistake.
pub const MAX_JWKS_FILE: usize = 64 * 1024;

/// Where fetched key sets are kept; fixed at build time (`ESCAPES_CACHE_DIR`) like the config.
pub const CACHE_DIR: &str = match option_env!("ESCAPES_CACHE_DIR") {
    Some(p) => p,
    None => "/var/cache/openape",
};
const _: () = assert!(matches!(CACHE_DIR.as_bytes().first(), Some(b'/')), "ESCAPES_CACHE_DIR must be absolute");

const MAX_CACHE_FILE: usize = token::MAX_JWKS_LEN + 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    File(trusted_file::Error),
    /// The key file's bytes are not a usable key set (the parse service's words).
    Jwks {
        path: String,
        error: String,
    },
    /// The parse service failed (exit 1).
    Service(service::Error),
    Fetch(idp::Error),
    UnknownKid {
        issuer: String,
        kid: String,
    },
}

impl Error {
    /// The stable code for the audit log and `--json-errors`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownKid { .. } => "unknown_kid",
            Error::Fetch(e) => e.code(),
            _ => "keys",
        }
    }

    /// 5 for the token's fault, 1 for everything else (including every fetch failure).
    pub fn exit(&self) -> Exit {
        match self {
            Error::UnknownKid { .. } => Exit::Refused,
            Error::Fetch(e) => e.exit(),
            _ => Exit::Error,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::File(e) => write!(f, "key file {e}"),
            Error::Jwks { path, error } => write!(f, "key file {path}: {error}"),
            Error::Service(e) => write!(f, "{e}"),
            Error::Fetch(e) => write!(f, "cannot fetch the issuer's keys: {e}"),
            Error::UnknownKid { issuer, kid } => write!(f, "issuer {issuer:?} has no Ed25519 key with kid {kid:?}"),
        }
    }
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Pinned,
    Cached,
    Fetched,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Pinned => "pinned",
            Source::Cached => "cache",
            Source::Fetched => "fetched",
        }
    }
}

/// A key, where it came from, and why the cache could not be used or written, if it could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub key: [u8; 32],
    pub source: Source,
    pub cache_note: Option<String>,
}

/// The usable Ed25519 keys of a pinned JWKS file (root-owned, read by trusted_file rules).
pub fn read_pinned(path: &str) -> Result<Vec<Key>, Error> {
    let bytes = trusted_file::read(path, MAX_JWKS_FILE).map_err(Error::File)?;
    service::jwks(&bytes).map_err(Error::Service)?.map_err(|error| Error::Jwks { path: path.into(), error })
}

/// The 32-byte Ed25519 key that `issuer` publishes under `kid`, and where it came from; see the
/// module comment for the order.
pub fn find(cfg: &Config, issuer: &str, kid: &str) -> Result<Found, Error> {
    let unknown = || Error::UnknownKid { issuer: issuer.into(), kid: kid.into() };
    if let Some((_, path)) = cfg.keys.iter().find(|(iss, _)| iss == issuer) {
        let keys = read_pinned(path)?;
        let key = token::find(&keys, kid).ok_or_else(unknown)?;
        return Ok(Found { key: key.x, source: Source::Pinned, cache_note: None });
    }
    let now = sys::realtime().0;
    let mut note = None;
    match read_cache(issuer, now) {
        Ok(Some(keys)) => {
            if let Some(k) = token::find(&keys, kid) {
                return Ok(Found { key: k.x, source: Source::Cached, cache_note: None });
            }
        }
        Ok(None) => {}
        Err(why) => note = Some(format!("cache not used: {why}")),
    }
    let (keys, raw) = idp::fetch_jwks(cfg, issuer).map_err(Error::Fetch)?;
    if let Err(why) = write_cache(issuer, now, &raw) {
        note = Some(format!("cache not written: {why}"));
    }
    let key = token::find(&keys, kid).ok_or_else(unknown)?;
    Ok(Found { key: key.x, source: Source::Fetched, cache_note: note })
}

/// The cache file for `issuer`: the hex SHA-256 of its URL, so any issuer string maps to a
/// plain file name.
pub fn cache_path(issuer: &str) -> String {
    format!("{CACHE_DIR}/{}", hex_sha256(issuer.as_bytes()))
}

/// A cache entry: a header naming the format, the issuer and the fetch time, then the key set
/// exactly as the issuer served it.
pub fn cache_entry(issuer: &str, fetched_at: i64, raw: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\nissuer {issuer}\nfetched {fetched_at}\n\n", token::CACHE_MAGIC).into_bytes();
    out.extend_from_slice(raw);
    out
}

/// The cached keys, None when there is no cache file (the usual first run); an error says why
/// an existing one is not used.
fn read_cache(issuer: &str, now: i64) -> Result<Option<Vec<Key>>, String> {
    match trusted_file::read(&cache_path(issuer), MAX_CACHE_FILE) {
        Ok(bytes) => match service::jwks_cache(&bytes, issuer, now) {
            Ok(parsed) => parsed.map(Some),
            Err(e) => Err(e.to_string()),
        },
        Err(trusted_file::Error::Open { errno, .. }) if errno.0 == libc::ENOENT => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Creates (0700, root:root) or checks the cache directory, whose parents must all be
/// root-owned and not group/world-writable; returns it opened for *at calls and fsync.
fn cache_dir() -> Result<Fd, String> {
    let (parent, name) = trusted_file::open_parent(CACHE_DIR).map_err(|e| e.to_string())?;
    let cname = CString::new(name).map_err(|_| "bad cache directory name".to_string())?;
    let created = match sys::mkdirat(parent, &cname, 0o700) {
        Ok(()) => true,
        Err(e) if e.0 == libc::EEXIST => false,
        Err(e) => return Err(format!("{CACHE_DIR}: cannot create: {e}")),
    };
    let dir = sys::openat(Some(parent), &cname, sys::O_RDONLY | sys::O_DIRECTORY | sys::O_NOFOLLOW, 0)
        .map_err(|e| format!("{CACHE_DIR}: cannot open: {e}"))?;
    if created {
        // Explicit, rather than relying on process::harden having made our gid root.
        sys::fchown(&dir, 0, 0).map_err(|e| format!("{CACHE_DIR}: cannot chown: {e}"))?;
    }
    let st = sys::fstat(&dir).map_err(|e| format!("{CACHE_DIR}: {e}"))?;
    if !st.is_dir() || st.uid != 0 || st.mode & 0o022 != 0 {
        return Err(format!("{CACHE_DIR}: must be a directory owned by root and writable only by root"));
    }
    Ok(dir)
}

/// Replaces the issuer's cache file atomically: a fresh temporary file (0600, root:root),
/// written and fsynced, renamed over the old one, then the directory fsynced.
fn write_cache(issuer: &str, now: i64, raw: &[u8]) -> Result<(), String> {
    let dir = cache_dir()?;
    let name = hex_sha256(issuer.as_bytes());
    let final_name = CString::new(name.clone()).map_err(|_| "bad cache file name".to_string())?;
    let tmp = CString::new(format!(".{name}.{}.tmp", sys::getpid())).map_err(|_| "bad cache file name".to_string())?;
    // A leftover from a crashed run with our pid would make O_EXCL fail.
    let _ = sys::unlinkat(&dir, &tmp);
    let fd = sys::openat(
        Some(&dir),
        &tmp,
        sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL | sys::O_NOFOLLOW | sys::O_NOCTTY,
        0o600,
    )
    .map_err(|e| format!("cannot create a cache file in {CACHE_DIR}: {e}"))?;
    let written =
        fill(&fd, &cache_entry(issuer, now, raw)).and_then(|()| sys::fchown(&fd, 0, 0)).and_then(|()| sys::fsync(&fd));
    drop(fd);
    if let Err(e) = written.and_then(|()| sys::renameat(&dir, &tmp, &final_name)) {
        let _ = sys::unlinkat(&dir, &tmp);
        return Err(format!("cannot write the cache file in {CACHE_DIR}: {e}"));
    }
    sys::fsync(&dir).map_err(|e| format!("{CACHE_DIR}: fsync: {e}"))
}

fn fill(fd: &Fd, data: &[u8]) -> Result<(), sys::Errno> {
    let mut rest = data;
    while !rest.is_empty() {
        match sys::write_once(fd.raw(), rest)? {
            0 => return Err(sys::Errno(libc::EIO)),
            n => rest = rest.get(n..).unwrap_or(&[]),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://id.example.com";

    #[test]
    fn cache_file_names_are_hashes() {
        let p = cache_path(ISS);
        let name = p.rsplit('/').next().unwrap();
        assert_eq!(name.len(), 64);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
