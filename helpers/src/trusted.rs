//! Before a helper believes a file (a manifest list, the program it hashes, an inner helper of
//! `coat`), the file and every directory above it must be out of reach of anyone but root (or the
//! helper's own effective uid, which is root when escapes runs it): otherwise whoever can write
//! there decides what the check reads.

use crate::sys;
use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Why a file is not believed.
#[derive(Debug)]
pub enum TrustError {
    NotAbsolute,
    /// It cannot be opened or examined (the errno kind says why).
    Unreadable(io::Error),
    NotRegular,
    /// A symbolic link where a file was expected: whoever planted it chooses what is written.
    Symlink(PathBuf),
    /// Not a directory where one was expected.
    NotDirectory(PathBuf),
    /// Owned by someone other than root or us.
    Owner(PathBuf),
    /// Owned by someone other than root or the user a program will run as.
    Foreign {
        path: PathBuf,
        owner: u32,
    },
    /// Writable by group or others.
    Writable(PathBuf),
}

impl TrustError {
    /// EX_NOINPUT when the file is not there or not readable; EX_CONFIG when it is there but
    /// cannot be trusted.
    pub fn exit_code(&self) -> u8 {
        match self {
            TrustError::Unreadable(_) => crate::sysexits::EX_NOINPUT,
            _ => crate::sysexits::EX_CONFIG,
        }
    }
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::NotAbsolute => f.write_str("not an absolute path"),
            TrustError::Unreadable(e) => write!(f, "cannot open: {e}"),
            TrustError::NotRegular => f.write_str("not a regular file"),
            TrustError::Symlink(p) => write!(f, "{} is a symbolic link", p.display()),
            TrustError::NotDirectory(p) => write!(f, "{} is not a directory", p.display()),
            TrustError::Owner(p) => write!(f, "{} is not owned by root", p.display()),
            TrustError::Foreign { path, owner } => {
                write!(
                    f,
                    "{} is owned by neither root nor uid {owner}",
                    path.display()
                )
            }
            TrustError::Writable(p) => write!(f, "{} is writable by group or others", p.display()),
        }
    }
}

/// A directory may be world-writable if it is sticky (like /tmp): others cannot then rename or
/// remove the root-owned entry below it, whose owner and mode are checked in turn.
fn check(path: &Path, meta: &Metadata, euid: u32) -> Result<(), TrustError> {
    check_owned(path, meta, euid)
}

/// `meta` belongs to root or `owner` and nobody else can write it (sticky directories aside).
fn check_owned(path: &Path, meta: &Metadata, owner: u32) -> Result<(), TrustError> {
    if meta.uid() != 0 && meta.uid() != owner {
        return Err(TrustError::Owner(path.to_path_buf()));
    }
    let sticky_dir = meta.is_dir() && meta.mode() & 0o1000 != 0;
    if meta.mode() & 0o022 != 0 && !sticky_dir {
        return Err(TrustError::Writable(path.to_path_buf()));
    }
    Ok(())
}

/// Opens `path` read-only and checks the open file (by fstat, so it is the file we read) and,
/// by path, every directory above its canonical location.
pub fn open(path: &Path) -> Result<File, TrustError> {
    if !path.is_absolute() {
        return Err(TrustError::NotAbsolute);
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(TrustError::Unreadable)?;
    let meta = file.metadata().map_err(TrustError::Unreadable)?;
    if !meta.file_type().is_file() {
        return Err(TrustError::NotRegular);
    }
    let euid = sys::effective_uid();
    check(path, &meta, euid)?;
    let canonical = std::fs::canonicalize(path).map_err(TrustError::Unreadable)?;
    for dir in canonical.ancestors().skip(1) {
        let m = std::fs::metadata(dir).map_err(TrustError::Unreadable)?;
        check(dir, &m, euid)?;
    }
    Ok(file)
}

/// Reads a trusted file whole, refusing more than `cap` bytes.
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, TrustError> {
    use std::io::Read;
    let file = open(path)?;
    let mut out = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut out)
        .map_err(TrustError::Unreadable)?;
    if out.len() as u64 > cap {
        return Err(TrustError::Unreadable(io::Error::new(
            io::ErrorKind::InvalidData,
            "file too large",
        )));
    }
    Ok(out)
}

/// The directories in which a program run as `owner` will write (xdisplay's target home): the
/// canonical `dir` must be `owner`'s or root's and not group/world-writable, and so must every
/// directory above it (a sticky world-writable ancestor such as /tmp is accepted). Then only
/// `owner` and root can change what is in it. Returns the canonical path.
pub fn owned_dir(dir: &Path, owner: u32) -> Result<PathBuf, TrustError> {
    if !dir.is_absolute() {
        return Err(TrustError::NotAbsolute);
    }
    let canonical = std::fs::canonicalize(dir).map_err(TrustError::Unreadable)?;
    let meta = std::fs::metadata(&canonical).map_err(TrustError::Unreadable)?;
    if !meta.is_dir() {
        return Err(TrustError::NotDirectory(canonical));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(TrustError::Writable(canonical));
    }
    let foreign = |e: TrustError| match e {
        TrustError::Owner(path) => TrustError::Foreign { path, owner },
        e => e,
    };
    check_owned(&canonical, &meta, owner).map_err(foreign)?;
    for up in canonical.ancestors().skip(1) {
        let m = std::fs::metadata(up).map_err(TrustError::Unreadable)?;
        check_owned(up, &m, owner).map_err(foreign)?;
    }
    Ok(canonical)
}

/// A file `owner`'s program will rewrite in such a directory: absent, or a regular file of
/// `owner`'s, looked at without following a symlink (a symlink is refused, whoever made it).
pub fn owned_file_or_absent(path: &Path, owner: u32) -> Result<(), TrustError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(TrustError::Unreadable(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(TrustError::Symlink(path.to_path_buf()));
    }
    if !meta.file_type().is_file() {
        return Err(TrustError::NotRegular);
    }
    if meta.uid() != owner && meta.uid() != 0 {
        return Err(TrustError::Foreign {
            path: path.to_path_buf(),
            owner,
        });
    }
    Ok(())
}

/// A directory root alone controls, in which a helper (as root) creates something: `dir` must
/// be canonical (no symlink anywhere in it), and it and every directory above it root's (or
/// ours) and not group/world-writable, except that a sticky one such as /tmp is accepted
/// (others can add entries there but not move or remove ours). Returns it opened.
pub fn root_dir(dir: &Path) -> Result<File, TrustError> {
    if !dir.is_absolute() {
        return Err(TrustError::NotAbsolute);
    }
    let canonical = std::fs::canonicalize(dir).map_err(TrustError::Unreadable)?;
    if canonical != dir {
        return Err(TrustError::Symlink(dir.to_path_buf()));
    }
    let euid = sys::effective_uid();
    for d in canonical.ancestors() {
        let m = std::fs::metadata(d).map_err(TrustError::Unreadable)?;
        if !m.is_dir() {
            return Err(TrustError::NotDirectory(d.to_path_buf()));
        }
        check(d, &m, euid)?;
    }
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&canonical)
        .map_err(TrustError::Unreadable)
}
