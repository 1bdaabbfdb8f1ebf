//! Reaching a directory one component at a time from `/` with openat(2) and O_NOFOLLOW, checking
//! each directory (by fstat of the descriptor just opened) before the next step is taken from it.
//!
//! Unlike `trusted` (canonicalize, then stat by path), nothing here resolves a path twice or
//! follows a symlink: a symlink anywhere on the way is refused, and the descriptor returned is
//! the very directory that was checked, so the caller creates, inspects or connects to entries
//! *in that descriptor* (`Dir::proc_path` names an entry through /proc/self/fd for the socket
//! calls that take only paths). Invariant of a `Dir`: every directory from `/` to it, itself
//! included, passed `Rules` when it was opened.

use crate::sys;
use std::ffi::CString;
use std::fmt;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a directory on the way must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Accept a group/world-writable directory if it is sticky (like /tmp). Stamps do not.
    pub sticky_ok: bool,
}

/// Owned by root and writable by nobody else, sticky or not: stamp paths.
pub const ROOT_ONLY: Rules = Rules { sticky_ok: false };

/// Why a walk stopped.
#[derive(Debug)]
pub enum WalkError {
    /// A component that is empty, `.`, `..`, or contains `/` or NUL: never walked.
    BadComponent(Vec<u8>),
    /// Nothing exists at this path.
    Missing(PathBuf),
    /// A symlink where a directory should be.
    Symlink(PathBuf),
    /// Something other than a directory where one should be.
    NotDirectory(PathBuf),
    /// Owned by someone other than root (the uid found).
    Owner(PathBuf, u32),
    /// Writable by group or others (the mode found).
    Writable(PathBuf, u32),
    Io(PathBuf, io::Error),
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::BadComponent(c) => write!(
                f,
                "path component {:?} is refused (empty, '.', '..', '/' or NUL)",
                String::from_utf8_lossy(c)
            ),
            WalkError::Missing(p) => write!(f, "{} does not exist", p.display()),
            WalkError::Symlink(p) => write!(f, "{} is a symlink", p.display()),
            WalkError::NotDirectory(p) => write!(f, "{} is not a directory", p.display()),
            WalkError::Owner(p, uid) => {
                write!(f, "{} is owned by uid {uid}, not root", p.display())
            }
            WalkError::Writable(p, mode) => write!(
                f,
                "{} is writable by group or others (mode {:o})",
                p.display(),
                mode & 0o7777
            ),
            WalkError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// True for a component a walk may take: not empty, not `.` or `..`, no `/` or NUL.
pub fn is_component(c: &[u8]) -> bool {
    !c.is_empty() && c != b"." && c != b".." && !c.iter().any(|&b| b == b'/' || b == 0)
}

/// Checks one directory's owner and mode.
pub fn check(path: &Path, meta: &Metadata, rules: Rules) -> Result<(), WalkError> {
    if !meta.is_dir() {
        return Err(WalkError::NotDirectory(path.to_path_buf()));
    }
    if meta.uid() != 0 {
        return Err(WalkError::Owner(path.to_path_buf(), meta.uid()));
    }
    let sticky = meta.mode() & 0o1000 != 0;
    if meta.mode() & 0o022 != 0 && !(rules.sticky_ok && sticky) {
        return Err(WalkError::Writable(path.to_path_buf(), meta.mode()));
    }
    Ok(())
}

/// A directory reached by a checked walk.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// An entry of a `Dir`, opened with O_PATH|O_NOFOLLOW (a symlink is the link itself).
#[derive(Debug)]
pub struct Entry {
    pub file: File,
    pub meta: Metadata,
}

fn cname(name: &[u8]) -> Result<CString, WalkError> {
    if !is_component(name) {
        return Err(WalkError::BadComponent(name.to_vec()));
    }
    CString::new(name).map_err(|_| WalkError::BadComponent(name.to_vec()))
}

const O_DIR: libc::c_int = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;

impl Dir {
    /// `/`, checked.
    pub fn root(rules: Rules) -> Result<Dir, WalkError> {
        let path = PathBuf::from("/");
        let fd = sys::open_at(None, c"/", O_DIR).map_err(|e| WalkError::Io(path.clone(), e))?;
        let meta = File::from(fd.try_clone().map_err(|e| WalkError::Io(path.clone(), e))?)
            .metadata()
            .map_err(|e| WalkError::Io(path.clone(), e))?;
        check(&path, &meta, rules)?;
        Ok(Dir { fd, path })
    }

    /// `/` then each of `components`, every directory checked before it is used.
    pub fn walk<C: AsRef<[u8]>>(components: &[C], rules: Rules) -> Result<Dir, WalkError> {
        let mut dir = Dir::root(rules)?;
        for c in components {
            dir = dir.child(c.as_ref(), rules)?;
        }
        Ok(dir)
    }

    /// The subdirectory `name`, checked; a symlink is refused, not followed.
    pub fn child(&self, name: &[u8], rules: Rules) -> Result<Dir, WalkError> {
        let c = cname(name)?;
        let path = self.path.join(std::ffi::OsStr::from_bytes(name));
        let fd = match sys::open_at(Some(self.fd.as_fd()), &c, O_DIR) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(WalkError::Missing(path))
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {
                return Err(match self.entry(name) {
                    Ok(Some(en)) if en.meta.file_type().is_symlink() => WalkError::Symlink(path),
                    _ => WalkError::NotDirectory(path),
                });
            }
            Err(e) => return Err(WalkError::Io(path, e)),
        };
        let file = File::from(fd);
        let meta = file
            .metadata()
            .map_err(|e| WalkError::Io(path.clone(), e))?;
        check(&path, &meta, rules)?;
        Ok(Dir {
            fd: file.into(),
            path,
        })
    }

    /// The entry `name` without following it, or None if nothing is there.
    pub fn entry(&self, name: &[u8]) -> Result<Option<Entry>, WalkError> {
        let c = cname(name)?;
        let path = self.path.join(std::ffi::OsStr::from_bytes(name));
        match sys::open_at(Some(self.fd.as_fd()), &c, libc::O_PATH | libc::O_NOFOLLOW) {
            Ok(fd) => {
                let file = File::from(fd);
                let meta = file.metadata().map_err(|e| WalkError::Io(path, e))?;
                Ok(Some(Entry { file, meta }))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(WalkError::Io(path, e)),
        }
    }

    /// Opens the entry `name` with `flags` (O_NOFOLLOW is always added).
    pub fn open(&self, name: &[u8], flags: libc::c_int) -> Result<File, WalkError> {
        let c = cname(name)?;
        sys::open_at(Some(self.fd.as_fd()), &c, flags | libc::O_NOFOLLOW)
            .map(File::from)
            .map_err(|e| WalkError::Io(self.path.join(std::ffi::OsStr::from_bytes(name)), e))
    }

    /// Creates the directory `name` (mode before the umask).
    pub fn mkdir(&self, name: &[u8], mode: u32) -> Result<(), WalkError> {
        let c = cname(name)?;
        sys::mkdir_at(self.fd.as_fd(), &c, mode)
            .map_err(|e| WalkError::Io(self.path.join(std::ffi::OsStr::from_bytes(name)), e))
    }

    /// Removes the non-directory entry `name`.
    pub fn unlink(&self, name: &[u8]) -> io::Result<()> {
        let c = cname(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        sys::unlink_at(self.fd.as_fd(), &c)
    }

    /// `/proc/self/fd/N/name`: `name` in *this* directory, for bind(2) and connect(2), which
    /// take only paths. The kernel resolves `N` to the walked directory itself.
    pub fn proc_path(&self, name: &[u8]) -> Vec<u8> {
        let mut p = format!("/proc/self/fd/{}/", self.fd.as_raw_fd()).into_bytes();
        p.extend_from_slice(name);
        p
    }

    /// The path this directory was reached by (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `/proc/self/fd/N` for an open entry: connect(2) to exactly the inode that was inspected.
pub fn proc_fd_path(file: &File) -> Vec<u8> {
    format!("/proc/self/fd/{}", file.as_raw_fd()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_that_could_escape_are_refused() {
        for bad in [&b""[..], b".", b"..", b"a/b", b"/", b"a\0b"] {
            assert!(!is_component(bad), "{bad:?}");
        }
        for good in [&b"a"[..], b"...", b".x", b"x..", b"ready-42"] {
            assert!(is_component(good), "{good:?}");
        }
    }

    #[test]
    fn walks_root_owned_system_directories() {
        // /usr and /usr/bin are root's and 0755 on any system the tests run on.
        let d = Dir::walk(&["usr", "bin"], ROOT_ONLY).unwrap();
        assert_eq!(d.path(), Path::new("/usr/bin"));
        assert!(d.entry(b"sh").unwrap().is_some());
        assert!(d.entry(b"no-such-entry-here").unwrap().is_none());
    }

    #[test]
    fn refuses_dot_dot_before_touching_the_filesystem() {
        let e = Dir::walk(&["usr", "..", "etc"], ROOT_ONLY).unwrap_err();
        assert!(matches!(e, WalkError::BadComponent(c) if c == b".."));
    }

    #[test]
    fn refuses_a_sticky_world_writable_directory_unless_allowed() {
        let e = Dir::walk(&["tmp"], ROOT_ONLY).unwrap_err();
        assert!(matches!(e, WalkError::Writable(..)), "{e}");
        assert!(Dir::walk(&["tmp"], Rules { sticky_ok: true }).is_ok());
    }

    #[test]
    fn reports_a_missing_directory() {
        let e = Dir::walk(&["no-such-dir-anywhere"], ROOT_ONLY).unwrap_err();
        assert!(matches!(e, WalkError::Missing(_)));
    }
}
