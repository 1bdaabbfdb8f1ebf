//! Opening files that decide policy (config, pinned keys, CA bundle, passwd and group, the JWKS
//! cache, helper programs, the audit log): the one rule of `opwire::trusted` (no symbolic link
//! anywhere, every directory and the file root's and not group/world-writable), which the
//! helpers apply too. This module adds what only escapes needs: the audit log's create-and-append
//! open and its single-link rule.

use crate::sys::{self, Errno, Fd};
use std::ffi::CString;

pub use opwire::trusted::Error;

fn cstr(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::BadPath)
}

/// Walks to the parent directory of `path` (see `opwire::trusted::open_parent`).
pub fn open_parent(path: &str) -> Result<(&'static Fd, String), Error> {
    let (dir, name) = opwire::trusted::open_parent(path.as_bytes())?;
    Ok((dir, String::from_utf8_lossy(&name).into_owned()))
}

/// Reads a trusted regular file of at most `cap` bytes.
pub fn read(path: &str, cap: usize) -> Result<Vec<u8>, Error> {
    opwire::trusted::read(path.as_bytes(), cap)
}

fn check_log(path: &str, st: &sys::Stat) -> Result<(), Error> {
    if !st.is_regular() {
        return Err(Error::NotRegular { path: path.into() });
    }
    opwire::trusted::check_owner_and_mode(path, st)?;
    if st.nlink != 1 {
        return Err(Error::HardLinked { path: path.into() });
    }
    Ok(())
}

/// Opens (creating with mode 0600 if absent) a root-owned log for appending (and reading its
/// tail, for the hash chain): a regular file with exactly one link, in a directory chain only
/// root can write.
pub fn open_append(path: &str) -> Result<Fd, Error> {
    let (dir, name) = open_parent(path)?;
    let fd = sys::openat(
        Some(dir),
        &cstr(&name)?,
        sys::O_RDWR | sys::O_APPEND | sys::O_CREAT | sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_NOCTTY,
        0o600,
    )
    .map_err(|errno| Error::Open { path: path.into(), errno })?;
    let st = sys::fstat(&fd).map_err(|errno| Error::Open { path: path.into(), errno })?;
    check_log(path, &st)?;
    Ok(fd)
}

/// Checks a log path without creating anything: the directory chain, and the file if it exists
/// (Ok(false) when it does not exist yet and would be created on first use).
pub fn inspect_log(path: &str) -> Result<bool, Error> {
    let (dir, name) = open_parent(path)?;
    let fd = match sys::openat(Some(dir), &cstr(&name)?, sys::O_PATH | sys::O_NOFOLLOW, 0) {
        Ok(fd) => fd,
        Err(errno) if errno.0 == libc::ENOENT => return Ok(false),
        Err(errno) => return Err(Error::Open { path: path.into(), errno }),
    };
    let st = sys::fstat(&fd).map_err(|errno| Error::Open { path: path.into(), errno })?;
    if st.is_symlink() {
        return Err(Error::Open { path: path.into(), errno: Errno(libc::ELOOP) });
    }
    check_log(path, &st)?;
    Ok(true)
}

/// The directory `path` itself, opened for fsync and for names in it, after the trusted walk
/// to its parent; None when it does not exist.
fn open_dir_checked(path: &str) -> Result<Option<Fd>, Error> {
    let (parent, name) = open_parent(path)?;
    match sys::openat(Some(parent), &cstr(&name)?, sys::O_RDONLY | sys::O_DIRECTORY | sys::O_NOFOLLOW, 0) {
        Ok(dir) => {
            let st = sys::fstat(&dir).map_err(|errno| Error::Open { path: path.into(), errno })?;
            opwire::trusted::check_owner_and_mode(path, &st)?;
            Ok(Some(dir))
        }
        Err(errno) if errno.0 == libc::ENOENT => Ok(None),
        Err(errno) => Err(Error::Open { path: path.into(), errno }),
    }
}

/// Creates the directory `path` (0755, root:root) unless it exists; either way it must then
/// pass the trusted-file rules (root's, not group- or world-writable, no link on the way).
pub fn ensure_dir(path: &str) -> Result<(), Error> {
    if open_dir_checked(path)?.is_some() {
        return Ok(());
    }
    let (parent, name) = open_parent(path)?;
    match sys::mkdirat(parent, &cstr(&name)?, 0o755) {
        Ok(()) => {}
        Err(errno) if errno.0 == libc::EEXIST => {}
        Err(errno) => return Err(Error::Open { path: path.into(), errno }),
    }
    let dir = open_dir_checked(path)?.ok_or(Error::Open { path: path.into(), errno: Errno(libc::ENOENT) })?;
    // Explicit, rather than relying on process::harden having made our ids root.
    sys::fchown(&dir, 0, 0).map_err(|errno| Error::Open { path: path.into(), errno })
}

/// Why [`replace`] left the file as it was.
#[derive(Debug)]
pub enum ReplaceError {
    File(Error),
    Write {
        path: String,
        errno: Errno,
    },
    /// The check refused the new file (its words).
    Check(String),
}

impl core::fmt::Display for ReplaceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReplaceError::File(e) => write!(f, "{e}"),
            ReplaceError::Write { path, errno } => write!(f, "{path}: cannot write: {errno}"),
            ReplaceError::Check(why) => f.write_str(why),
        }
    }
}

/// Replaces the file at `path` atomically with `data`, in a directory that passes the
/// trusted-file rules: a fresh temporary file beside it (0644 under escapes' umask,
/// root:root), written and fsynced; `check` then judges it by its temporary path; then it is
/// renamed over `path` and the directory fsynced. On any failure the temporary file is removed
/// and `path` is as it was.
pub fn replace(path: &str, data: &[u8], check: impl FnOnce(&str) -> Result<(), String>) -> Result<(), ReplaceError> {
    let (_, name) = open_parent(path).map_err(ReplaceError::File)?;
    let dir_path = path.rsplit_once('/').map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
    let dir = open_dir_checked(dir_path)
        .map_err(ReplaceError::File)?
        .ok_or(ReplaceError::File(Error::Open { path: dir_path.into(), errno: Errno(libc::ENOENT) }))?;
    let tmp_name = format!(".{name}.{}.tmp", sys::getpid());
    let tmp_path = format!("{}/{tmp_name}", dir_path.trim_end_matches('/'));
    let (tmp, final_name) = (cstr(&tmp_name).map_err(ReplaceError::File)?, cstr(&name).map_err(ReplaceError::File)?);
    let failed = |errno| ReplaceError::Write { path: path.into(), errno };
    // A leftover from a crashed run with our pid would make O_EXCL fail.
    let _ = sys::unlinkat(&dir, &tmp);
    let fd = sys::openat(
        Some(&dir),
        &tmp,
        sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL | sys::O_NOFOLLOW | sys::O_NOCTTY,
        0o644,
    )
    .map_err(failed)?;
    let written = sys::write_all(fd.raw(), data).and_then(|()| sys::fchown(&fd, 0, 0)).and_then(|()| sys::fsync(&fd));
    drop(fd);
    let done = written
        .map_err(failed)
        .and_then(|()| check(&tmp_path).map_err(ReplaceError::Check))
        .and_then(|()| sys::renameat(&dir, &tmp, &final_name).map_err(failed));
    if done.is_err() {
        let _ = sys::unlinkat(&dir, &tmp);
        return done;
    }
    sys::fsync(&dir).map_err(failed)
}
