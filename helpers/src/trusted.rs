//! Before a helper believes a file (a manifest list, the program `signed` hashes and `manifest`
//! names, an inner helper of `coat`), it must pass the one rule escapes applies to its own
//! files (`opwire::trusted`): reached from `/` without a symbolic link, through directories and
//! to a file that only root (or the helper's own effective uid, root when escapes or op runs
//! it) can change. Otherwise whoever can write there decides what the check reads, or swaps the
//! name between the check and the exec.

use crate::sysexits::{EX_CONFIG, EX_NOINPUT};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub use opwire::trusted::Error as TrustError;

/// EX_NOINPUT when the file is not there or cannot be read; EX_CONFIG when it is there but
/// cannot be trusted (or its name is not one the rule accepts).
pub fn exit_code(e: &TrustError) -> u8 {
    match e {
        TrustError::Open { errno, .. } if errno.0 != libc::ELOOP => EX_NOINPUT,
        TrustError::Read { .. } => EX_NOINPUT,
        _ => EX_CONFIG,
    }
}

/// Whether the file exists but the rule refuses it (as opposed to missing or unreadable).
pub fn is_untrusted(e: &TrustError) -> bool {
    exit_code(e) == EX_CONFIG
}

/// Opens `path` read-only under the rule.
pub fn open(path: &Path) -> Result<File, TrustError> {
    opwire::trusted::open(path.as_os_str().as_bytes(), libc::O_RDONLY).map(|(fd, _)| fd.into_file())
}

/// Checks `path` under the rule without reading it (O_PATH): for a name that is judged, not read.
pub fn inspect(path: &Path) -> Result<(), TrustError> {
    opwire::trusted::open(path.as_os_str().as_bytes(), libc::O_PATH).map(|_| ())
}

/// Reads a trusted file whole, refusing more than `cap` bytes.
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, TrustError> {
    opwire::trusted::read(path.as_os_str().as_bytes(), usize::try_from(cap).unwrap_or(usize::MAX))
}

/// The refusal in words: the rule's own message, which names the path, or the path and why its
/// spelling is refused.
pub fn describe(path: &Path, e: &TrustError) -> String {
    match e {
        TrustError::BadPath => format!("{}: {e}", path.display()),
        _ => e.to_string(),
    }
}

/// Why a directory or file another user's program will write in is not believed (xdisplay's
/// target home, proxy-agent's socket parent): a rule of its own, beside the file-trust rule.
#[derive(Debug)]
pub enum OwnError {
    NotAbsolute,
    /// It cannot be opened or examined (the errno kind says why).
    Unreadable(std::io::Error),
    NotRegular,
    /// A symbolic link where a file was expected: whoever planted it chooses what is written.
    Symlink(PathBuf),
    /// Not a directory where one was expected.
    NotDirectory(PathBuf),
    /// Owned by someone other than root or us.
    Owner(PathBuf),
    /// Owned by someone other than root or the user a program will run as.
    Foreign { path: PathBuf, owner: u32 },
    /// Writable by group or others.
    Writable(PathBuf),
}

impl std::fmt::Display for OwnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OwnError::NotAbsolute => f.write_str("not an absolute path"),
            OwnError::Unreadable(e) => write!(f, "cannot open: {e}"),
            OwnError::NotRegular => f.write_str("not a regular file"),
            OwnError::Symlink(p) => write!(f, "{} is a symbolic link", p.display()),
            OwnError::NotDirectory(p) => write!(f, "{} is not a directory", p.display()),
            OwnError::Owner(p) => write!(f, "{} is not owned by root", p.display()),
            OwnError::Foreign { path, owner } => {
                write!(f, "{} is owned by neither root nor uid {owner}", path.display())
            }
            OwnError::Writable(p) => write!(f, "{} is writable by group or others", p.display()),
        }
    }
}

/// `meta` belongs to root or `owner` and nobody else can write it (sticky directories aside).
fn check_owned(path: &Path, meta: &std::fs::Metadata, owner: u32) -> Result<(), OwnError> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != 0 && meta.uid() != owner {
        return Err(OwnError::Owner(path.to_path_buf()));
    }
    let sticky_dir = meta.is_dir() && meta.mode() & 0o1000 != 0;
    if meta.mode() & 0o022 != 0 && !sticky_dir {
        return Err(OwnError::Writable(path.to_path_buf()));
    }
    Ok(())
}

/// The directories in which a program run as `owner` will write (xdisplay's target home): the
/// canonical `dir` must be `owner`'s or root's and not group/world-writable, and so must every
/// directory above it (a sticky world-writable ancestor such as /tmp is accepted). Then only
/// `owner` and root can change what is in it. Returns the canonical path.
pub fn owned_dir(dir: &Path, owner: u32) -> Result<PathBuf, OwnError> {
    use std::os::unix::fs::MetadataExt;
    if !dir.is_absolute() {
        return Err(OwnError::NotAbsolute);
    }
    let canonical = std::fs::canonicalize(dir).map_err(OwnError::Unreadable)?;
    let meta = std::fs::metadata(&canonical).map_err(OwnError::Unreadable)?;
    if !meta.is_dir() {
        return Err(OwnError::NotDirectory(canonical));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(OwnError::Writable(canonical));
    }
    let foreign = |e: OwnError| match e {
        OwnError::Owner(path) => OwnError::Foreign { path, owner },
        e => e,
    };
    check_owned(&canonical, &meta, owner).map_err(foreign)?;
    for up in canonical.ancestors().skip(1) {
        let m = std::fs::metadata(up).map_err(OwnError::Unreadable)?;
        check_owned(up, &m, owner).map_err(foreign)?;
    }
    Ok(canonical)
}

/// A file `owner`'s program will rewrite in such a directory: absent, or a regular file of
/// `owner`'s, looked at without following a symlink (a symlink is refused, whoever made it).
pub fn owned_file_or_absent(path: &Path, owner: u32) -> Result<(), OwnError> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OwnError::Unreadable(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(OwnError::Symlink(path.to_path_buf()));
    }
    if !meta.file_type().is_file() {
        return Err(OwnError::NotRegular);
    }
    if meta.uid() != owner && meta.uid() != 0 {
        return Err(OwnError::Foreign { path: path.to_path_buf(), owner });
    }
    Ok(())
}

/// A directory root alone controls, in which a helper (as root) creates something: `dir` must
/// be canonical (no symlink anywhere in it), and it and every directory above it root's (or
/// ours) and not group/world-writable, except that a sticky one such as /tmp is accepted
/// (others can add entries there but not move or remove ours). Returns it opened.
pub fn root_dir(dir: &Path) -> Result<File, OwnError> {
    use std::os::unix::fs::OpenOptionsExt;
    if !dir.is_absolute() {
        return Err(OwnError::NotAbsolute);
    }
    let canonical = std::fs::canonicalize(dir).map_err(OwnError::Unreadable)?;
    if canonical != dir {
        return Err(OwnError::Symlink(dir.to_path_buf()));
    }
    let euid = crate::sys::effective_uid();
    for d in canonical.ancestors() {
        let m = std::fs::metadata(d).map_err(OwnError::Unreadable)?;
        if !m.is_dir() {
            return Err(OwnError::NotDirectory(d.to_path_buf()));
        }
        check_owned(d, &m, euid)?;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&canonical)
        .map_err(OwnError::Unreadable)
}
