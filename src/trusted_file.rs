//! Opening files that decide policy (config, pinned keys, audit log): only root may have been
//! able to write them or any directory on the way to them.

use crate::sys::{self, Errno, Fd};
use std::ffi::{CStr, CString};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The path is not absolute, has an empty, `.` or `..` component, or contains NUL.
    BadPath,
    Open { path: String, errno: Errno },
    NotRegular { path: String },
    NotDirectory { path: String },
    NotRootOwned { path: String, uid: u32 },
    Writable { path: String, by: &'static str },
    HardLinked { path: String },
    TooLarge { path: String, cap: usize },
    Read { path: String, errno: Errno },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::BadPath => write!(f, "path must be absolute and free of '.', '..' and empty components"),
            Error::Open { path, errno } if errno.0 == libc::ELOOP => {
                write!(f, "{path}: refusing a symbolic link (use the real path)")
            }
            Error::Open { path, errno } => write!(f, "{path}: cannot open: {errno}"),
            Error::NotRegular { path } => write!(f, "{path}: not a regular file"),
            Error::NotDirectory { path } => write!(f, "{path}: not a directory"),
            Error::NotRootOwned { path, uid } => write!(f, "{path}: owned by uid {uid}, must be owned by root: chown root {path}"),
            Error::Writable { path, by } => write!(f, "{path}: is {by}-writable: chmod go-w {path}"),
            Error::HardLinked { path } => write!(f, "{path}: has more than one hard link"),
            Error::TooLarge { path, cap } => write!(f, "{path}: larger than {cap} bytes"),
            Error::Read { path, errno } => write!(f, "{path}: cannot read: {errno}"),
        }
    }
}

/// Splits an absolute path into its components, refusing anything but plain names.
fn components(path: &str) -> Result<Vec<&str>, Error> {
    let rest = path.strip_prefix('/').ok_or(Error::BadPath)?;
    if path.contains('\0') {
        return Err(Error::BadPath);
    }
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
        return Err(Error::BadPath);
    }
    Ok(parts)
}

fn check_owner_and_mode(path: &str, st: &sys::Stat) -> Result<(), Error> {
    if st.uid != 0 {
        return Err(Error::NotRootOwned { path: path.to_string(), uid: st.uid });
    }
    if st.mode & 0o002 != 0 {
        return Err(Error::Writable { path: path.to_string(), by: "world" });
    }
    if st.mode & 0o020 != 0 {
        return Err(Error::Writable { path: path.to_string(), by: "group" });
    }
    Ok(())
}

fn cstr(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::BadPath)
}

/// Directories this run has already walked to and checked, by path. A later walk starts from
/// the deepest one it shares instead of from `/` (the config, keys, passwd, group and the audit
/// log mostly share their first levels). Each is an O_PATH, close-on-exec descriptor held for
/// the rest of the run: the checks were made on it, and it names the same directory even if
/// the path is renamed meanwhile.
static WALKED: Mutex<Vec<(String, &'static Fd)>> = Mutex::new(Vec::new());

fn walked(path: &str) -> Option<&'static Fd> {
    let list = WALKED.lock().ok()?;
    list.iter().find(|(p, _)| p == path).map(|&(_, fd)| fd)
}

fn remember(path: &str, fd: Fd) -> &'static Fd {
    let fd: &'static Fd = Box::leak(Box::new(fd));
    if let Ok(mut list) = WALKED.lock() {
        list.push((path.to_string(), fd));
    }
    fd
}

/// Walks from `/` to the parent directory of `path` with O_NOFOLLOW at every step, checking
/// each directory on the open descriptor (no path re-resolution, so no race with renames).
/// Returns the parent's descriptor and the final component.
pub fn open_parent(path: &str) -> Result<(&'static Fd, String), Error> {
    let parts = components(path)?;
    let (last, dirs) = parts.split_last().ok_or(Error::BadPath)?;
    let mut dir = checked_dir(None, c"/", "/")?;
    let mut walked_to = String::new();
    for name in dirs {
        walked_to.push('/');
        walked_to.push_str(name);
        dir = checked_dir(Some(dir), &cstr(name)?, &walked_to)?;
    }
    Ok((dir, (*last).to_string()))
}

/// The directory `path` (`name` in `parent`, or `/`), opened O_PATH without following a
/// symlink and checked, or the one an earlier walk already checked.
fn checked_dir(parent: Option<&Fd>, name: &CStr, path: &str) -> Result<&'static Fd, Error> {
    if let Some(d) = walked(path) {
        return Ok(d);
    }
    let fd = sys::openat(parent, name, sys::O_PATH | sys::O_DIRECTORY | sys::O_NOFOLLOW, 0)
        .map_err(|errno| Error::Open { path: path.into(), errno })?;
    check_dir(&fd, path)?;
    Ok(remember(path, fd))
}

fn check_dir(fd: &Fd, path: &str) -> Result<(), Error> {
    let st = sys::fstat(fd).map_err(|errno| Error::Open { path: path.into(), errno })?;
    if !st.is_dir() {
        return Err(Error::NotDirectory { path: path.into() });
    }
    check_owner_and_mode(path, &st)
}

/// Reads a root-owned, not group/world-writable regular file of at most `cap` bytes, whose
/// every parent directory is the same. Symbolic links anywhere on the path are refused.
pub fn read(path: &str, cap: usize) -> Result<Vec<u8>, Error> {
    let (dir, name) = open_parent(path)?;
    let fd = sys::openat(Some(dir), &cstr(&name)?, sys::O_RDONLY | sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_NOCTTY, 0)
        .map_err(|errno| Error::Open { path: path.into(), errno })?;
    let st = sys::fstat(&fd).map_err(|errno| Error::Open { path: path.into(), errno })?;
    if !st.is_regular() {
        return Err(Error::NotRegular { path: path.into() });
    }
    check_owner_and_mode(path, &st)?;
    sys::read_capped_sized(&fd, cap, st.size).map_err(|e| match e {
        sys::ReadError::TooLarge => Error::TooLarge { path: path.into(), cap },
        sys::ReadError::Io(errno) => Error::Read { path: path.into(), errno },
    })
}

/// Opens (creating with mode 0600 if absent) a root-owned log for appending (and reading its
/// tail, for the hash chain): a regular file
/// with exactly one link, in a directory chain only root can write.
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
    if !st.is_regular() {
        return Err(Error::NotRegular { path: path.into() });
    }
    check_owner_and_mode(path, &st)?;
    if st.nlink != 1 {
        return Err(Error::HardLinked { path: path.into() });
    }
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
    if st.mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(Error::Open { path: path.into(), errno: Errno(libc::ELOOP) });
    }
    if !st.is_regular() {
        return Err(Error::NotRegular { path: path.into() });
    }
    check_owner_and_mode(path, &st)?;
    if st.nlink != 1 {
        return Err(Error::HardLinked { path: path.into() });
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_relative_and_dotted_paths() {
        for p in ["etc/x", "/etc/../x", "/etc/./x", "/etc//x", "/etc/x/", "", "/"] {
            assert_eq!(components(p).err(), Some(Error::BadPath), "{p}");
        }
    }

    #[test]
    fn splits_plain_absolute_path() {
        assert_eq!(components("/etc/openape/config.toml").ok(), Some(vec!["etc", "openape", "config.toml"]));
    }
}
