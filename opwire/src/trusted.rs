//! The one rule for believing a file, used by escapes (its config, key sets, CA bundle, audit
//! log, passwd and group, helper programs) and by the helpers (manifest lists, the program
//! `signed` hashes and `manifest` names, the programs `coat` runs):
//! 1. The path is absolute and every component is a plain name (no empty, `.` or `..`), so
//!    what a reviewer reads is where the file is.
//! 2. It is walked from `/` one component at a time with `openat(O_NOFOLLOW)`: a symbolic link
//!    anywhere is refused, and each directory is checked on the descriptor that the next step
//!    opens from, so no rename of a name already walked can redirect the walk.
//! 3. Every directory on the way and the file itself are owned by root or by the checking
//!    process's effective uid (root, when escapes or op runs a helper), and are neither group-
//!    nor world-writable: nobody else can change which file the name means, or its bytes.
//! 4. The file is opened without following a final link, never blocking (a FIFO or device
//!    planted there cannot hang the reader), and checked by fstat on that descriptor.
//!
//! Directories checked once are kept open (O_PATH, close-on-exec) for the rest of the process,
//! and later walks start from the deepest one they share.
//!
//! `crate::dir` hands out the walked directory itself, for callers that work in it.

#![forbid(unsafe_code)]

use crate::sys::{self, Errno, Fd, ReadError, Stat};
use std::ffi::{CStr, CString};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The path is not absolute, has an empty, `.` or `..` component, or contains NUL.
    BadPath,
    Open {
        path: String,
        errno: Errno,
    },
    NotRegular {
        path: String,
    },
    NotDirectory {
        path: String,
    },
    NotRootOwned {
        path: String,
        uid: u32,
    },
    Writable {
        path: String,
        by: &'static str,
    },
    HardLinked {
        path: String,
    },
    TooLarge {
        path: String,
        cap: usize,
    },
    Read {
        path: String,
        errno: Errno,
    },
}

impl Error {
    /// The file is not there (ENOENT on its last component or on a directory above it).
    pub fn is_missing(&self) -> bool {
        matches!(self, Error::Open { errno: Errno(libc::ENOENT), .. })
    }
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
            Error::NotRootOwned { path, uid } => {
                write!(f, "{path}: owned by uid {uid}, must be owned by root: chown root {path}")
            }
            Error::Writable { path, by } => write!(f, "{path}: is {by}-writable: chmod go-w {path}"),
            Error::HardLinked { path } => write!(f, "{path}: has more than one hard link"),
            Error::TooLarge { path, cap } => write!(f, "{path}: larger than {cap} bytes"),
            Error::Read { path, errno } => write!(f, "{path}: cannot read: {errno}"),
        }
    }
}

impl std::error::Error for Error {}

pub(crate) fn shown(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Rule 1: the components of an absolute path, refusing anything but plain names.
pub fn components(path: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let rest = path.strip_prefix(b"/").ok_or(Error::BadPath)?;
    if path.contains(&0) {
        return Err(Error::BadPath);
    }
    let parts: Vec<&[u8]> = rest.split(|&b| b == b'/').collect();
    if !parts.iter().all(|p| is_component(p)) {
        return Err(Error::BadPath);
    }
    Ok(parts)
}

/// One plain path component: not empty, not `.` or `..`, no `/` and no NUL.
pub fn is_component(c: &[u8]) -> bool {
    !c.is_empty() && c != b"." && c != b".." && !c.iter().any(|&b| b == b'/' || b == 0)
}

/// Rule 3 for one file or directory, with the checking process's effective uid.
pub fn check_owner_and_mode(path: &str, st: &Stat) -> Result<(), Error> {
    if st.uid != 0 && st.uid != sys::geteuid() {
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

pub(crate) fn cstr(s: &[u8]) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::BadPath)
}

/// Directories this process has already walked to and checked, by path. Each is an O_PATH,
/// close-on-exec descriptor held for the rest of the process: the checks were made on it, and
/// it names the same directory even if the path is renamed meanwhile.
static WALKED: Mutex<Vec<(Vec<u8>, &'static Fd)>> = Mutex::new(Vec::new());

fn walked(path: &[u8]) -> Option<&'static Fd> {
    let list = WALKED.lock().ok()?;
    list.iter().find(|(p, _)| p == path).map(|&(_, fd)| fd)
}

fn remember(path: &[u8], fd: Fd) -> &'static Fd {
    let fd: &'static Fd = Box::leak(Box::new(fd));
    if let Ok(mut list) = WALKED.lock() {
        list.push((path.to_vec(), fd));
    }
    fd
}

/// Rule 2: walks from `/` to the parent directory of `path`, checking each directory on its
/// descriptor. Returns the parent's descriptor and the final component.
pub fn open_parent(path: &[u8]) -> Result<(&'static Fd, Vec<u8>), Error> {
    let parts = components(path)?;
    let (last, dirs) = parts.split_last().ok_or(Error::BadPath)?;
    Ok((walk_kept(dirs)?, last.to_vec()))
}

/// `/` and then `dirs`, each checked by rule 3 (or found checked by an earlier walk).
pub(crate) fn walk_kept(dirs: &[&[u8]]) -> Result<&'static Fd, Error> {
    let mut dir = checked_dir(None, c"/", b"/")?;
    let mut walked_to = Vec::new();
    for name in dirs {
        walked_to.push(b'/');
        walked_to.extend_from_slice(name);
        dir = checked_dir(Some(dir), &cstr(name)?, &walked_to)?;
    }
    Ok(dir)
}

/// The directory `name` in `parent` (or `/`), opened O_PATH without following a link.
pub(crate) fn open_dir(parent: Option<&Fd>, name: &CStr, path: &[u8]) -> Result<Fd, Error> {
    match sys::openat(parent, name, libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW, 0) {
        Ok(fd) => Ok(fd),
        // With O_DIRECTORY a link fails as ENOTDIR: say which it was.
        Err(Errno(libc::ENOTDIR)) => {
            let link = sys::openat(parent, name, libc::O_PATH | libc::O_NOFOLLOW, 0)
                .and_then(|fd| sys::fstat(&fd))
                .is_ok_and(|st| st.is_symlink());
            let errno = Errno(if link { libc::ELOOP } else { libc::ENOTDIR });
            Err(Error::Open { path: shown(path), errno })
        }
        Err(errno) => Err(Error::Open { path: shown(path), errno }),
    }
}

pub(crate) fn stat_of(fd: &Fd, path: &[u8]) -> Result<Stat, Error> {
    sys::fstat(fd).map_err(|errno| Error::Open { path: shown(path), errno })
}

/// The directory `path` (`name` in `parent`, or `/`), opened and checked by rule 3, or the one
/// an earlier walk already checked.
fn checked_dir(parent: Option<&Fd>, name: &CStr, path: &[u8]) -> Result<&'static Fd, Error> {
    if let Some(d) = walked(path) {
        return Ok(d);
    }
    let fd = open_dir(parent, name, path)?;
    let st = stat_of(&fd, path)?;
    if !st.is_dir() {
        return Err(Error::NotDirectory { path: shown(path) });
    }
    check_owner_and_mode(&shown(path), &st)?;
    Ok(remember(path, fd))
}

/// `name` (one plain component) in the directory `dir`, opened with `flags` plus O_NOFOLLOW,
/// O_NONBLOCK, O_NOCTTY and O_CLOEXEC, whatever it is; `path` names it in messages.
pub(crate) fn open_in(dir: &Fd, name: &[u8], flags: i32, path: &str) -> Result<(Fd, Stat), Error> {
    if !is_component(name) {
        return Err(Error::BadPath);
    }
    let flags = flags | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY;
    let fd = sys::openat(Some(dir), &cstr(name)?, flags, 0)
        .map_err(|errno| Error::Open { path: path.to_string(), errno })?;
    let st = sys::fstat(&fd).map_err(|errno| Error::Open { path: path.to_string(), errno })?;
    Ok((fd, st))
}

/// Rules 3 and 4 for an opened file: a regular file (not the link an O_PATH open lands on)
/// that nobody else can change.
pub(crate) fn regular(opened: (Fd, Stat), path: &str) -> Result<(Fd, Stat), Error> {
    let (fd, st) = opened;
    if st.is_symlink() {
        return Err(Error::Open { path: path.to_string(), errno: Errno(libc::ELOOP) });
    }
    if !st.is_regular() {
        return Err(Error::NotRegular { path: path.to_string() });
    }
    check_owner_and_mode(path, &st)?;
    Ok((fd, st))
}

/// Rules 1–4: opens the regular file `path` with `flags` (O_NOFOLLOW, O_NONBLOCK, O_NOCTTY and
/// O_CLOEXEC are added) and returns it with its metadata.
pub fn open(path: &[u8], flags: i32) -> Result<(Fd, Stat), Error> {
    let (dir, name) = open_parent(path)?;
    let shown = shown(path);
    regular(open_in(dir, &name, flags, &shown)?, &shown)
}

/// Reads the trusted regular file `path` whole, refusing more than `cap` bytes.
pub fn read(path: &[u8], cap: usize) -> Result<Vec<u8>, Error> {
    let (fd, st) = open(path, libc::O_RDONLY)?;
    let size = usize::try_from(st.size.max(0)).unwrap_or(usize::MAX);
    sys::read_to_end(fd.raw(), cap, Some(size)).map_err(|e| match e {
        ReadError::TooLarge => Error::TooLarge { path: shown(path), cap },
        ReadError::Io(errno) => Error::Read { path: shown(path), errno },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn refuses_relative_and_dotted_paths() {
        for p in ["etc/x", "/etc/../x", "/etc/./x", "/etc//x", "/etc/x/", "", "/", "//etc/x", "/etc/x\0y"] {
            assert_eq!(components(p.as_bytes()).err(), Some(Error::BadPath), "{p:?}");
        }
    }

    #[test]
    fn splits_plain_absolute_path() {
        let want: Vec<&[u8]> = vec![b"etc", b"openape", b"config.toml"];
        assert_eq!(components(b"/etc/openape/config.toml").ok(), Some(want));
    }

    /// A directory of ours under /run (root-owned, not group/world-writable), or None when the
    /// tests do not run as root (then the walk's positive cases cannot be set up).
    pub(crate) fn scratch(name: &str) -> Option<std::path::PathBuf> {
        let d = std::path::PathBuf::from(format!("/run/opwire-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).ok()?;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).ok()?;
        (sys::geteuid() == 0).then_some(d)
    }

    pub(crate) fn bytes(p: &std::path::Path) -> Vec<u8> {
        p.as_os_str().as_encoded_bytes().to_vec()
    }

    #[test]
    fn reads_a_trusted_file_and_keeps_its_cap() {
        let Some(d) = scratch("ok") else { return };
        std::fs::write(d.join("f"), b"hello").unwrap();
        assert_eq!(read(&bytes(&d.join("f")), 10).unwrap(), b"hello");
        assert!(matches!(read(&bytes(&d.join("f")), 4), Err(Error::TooLarge { cap: 4, .. })));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_symbolic_link_is_refused_as_the_file_and_as_a_directory() {
        let Some(d) = scratch("link") else { return };
        std::fs::create_dir(d.join("real")).unwrap();
        std::fs::write(d.join("real/f"), b"x").unwrap();
        symlink(d.join("real/f"), d.join("link")).unwrap();
        symlink(d.join("real"), d.join("dirlink")).unwrap();
        let e = open(&bytes(&d.join("link")), libc::O_RDONLY).unwrap_err();
        assert!(e.to_string().contains("refusing a symbolic link"), "{e}");
        let e = open(&bytes(&d.join("dirlink/f")), libc::O_RDONLY).unwrap_err();
        assert!(e.to_string().contains("refusing a symbolic link"), "{e}");
        assert!(open(&bytes(&d.join("real/f")), libc::O_RDONLY).is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn writable_directories_and_foreign_files_are_refused() {
        let Some(d) = scratch("mode") else { return };
        std::fs::create_dir(d.join("gw")).unwrap();
        std::fs::write(d.join("gw/f"), b"x").unwrap();
        std::fs::set_permissions(d.join("gw"), std::fs::Permissions::from_mode(0o775)).unwrap();
        assert!(matches!(read(&bytes(&d.join("gw/f")), 10), Err(Error::Writable { by: "group", .. })));
        std::fs::write(d.join("theirs"), b"x").unwrap();
        std::os::unix::fs::chown(d.join("theirs"), Some(65534), None).unwrap();
        assert!(matches!(read(&bytes(&d.join("theirs")), 10), Err(Error::NotRootOwned { uid: 65534, .. })));
        std::fs::write(d.join("ww"), b"x").unwrap();
        std::fs::set_permissions(d.join("ww"), std::fs::Permissions::from_mode(0o646)).unwrap();
        assert!(matches!(read(&bytes(&d.join("ww")), 10), Err(Error::Writable { by: "world", .. })));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let Some(d) = scratch("fifo") else { return };
        assert!(std::process::Command::new("mkfifo").arg(d.join("p")).status().unwrap().success());
        assert!(matches!(read(&bytes(&d.join("p")), 10), Err(Error::NotRegular { .. })));
        let _ = std::fs::remove_dir_all(&d);
    }

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
    fn world_writable_tmp_is_refused_sticky_or_not() {
        std::fs::write(std::env::temp_dir().join("opwire-tmp-probe"), b"x").unwrap();
        let e = read(&bytes(&std::env::temp_dir().join("opwire-tmp-probe")), 10).unwrap_err();
        assert!(matches!(e, Error::Writable { by: "world", .. }), "{e}");
    }
}
