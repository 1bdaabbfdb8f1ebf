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
