//! Before a helper believes a file (a manifest list, the program `signed` hashes and `manifest`
//! names, an inner helper of `coat`), it must pass the one rule escapes applies to its own
//! files (`opwire::trusted`): reached from `/` without a symbolic link, through directories and
//! to a file that only root (or the helper's own effective uid, root when escapes or op runs
//! it) can change. Otherwise whoever can write there decides what the check reads, or swaps the
//! name between the check and the exec.

use opwire::dir::Dir;
use opwire::sys::Stat;
use opwire::sysexits::{EX_CONFIG, EX_NOINPUT};
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
/// target home, proxy-agent's socket parent). These are rules of their own beside the trust
/// rule, but they judge each directory on the same walk (`opwire::dir::walk`: from `/`,
/// openat with O_NOFOLLOW, every directory checked on the descriptor the next step opens from):
/// a symbolic link or a dotted spelling anywhere is refused.
#[derive(Debug)]
pub enum OwnError {
    /// The walk itself refused (a link, a bad spelling, something missing or unreadable).
    Walk(TrustError),
    NotRegular(PathBuf),
    /// A symbolic link where a file was expected: whoever planted it chooses what is written.
    Symlink(PathBuf),
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

impl From<TrustError> for OwnError {
    fn from(e: TrustError) -> OwnError {
        OwnError::Walk(e)
    }
}

impl OwnError {
    /// EX_NOINPUT when something is not there or cannot be read, EX_CONFIG otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            OwnError::Walk(e) => exit_code(e),
            _ => EX_CONFIG,
        }
    }
}

impl std::fmt::Display for OwnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OwnError::Walk(e) => write!(f, "{e}"),
            OwnError::NotRegular(p) => write!(f, "{} is not a regular file", p.display()),
            OwnError::Symlink(p) => write!(f, "{} is a symbolic link", p.display()),
            OwnError::Owner(p) => write!(f, "{} is not owned by root", p.display()),
            OwnError::Foreign { path, owner } => {
                write!(f, "{} is owned by neither root nor uid {owner}", path.display())
            }
            OwnError::Writable(p) => write!(f, "{} is writable by group or others", p.display()),
        }
    }
}

fn shown(p: &[u8]) -> PathBuf {
    PathBuf::from(std::ffi::OsStr::from_bytes(p))
}

/// A directory on the way: owned by root or `owner`, and writable by nobody else unless it is
/// sticky (like /tmp: others may add entries there, but not move or remove ours).
fn owned_or_sticky(p: &[u8], st: &Stat, owner: u32) -> Result<(), OwnError> {
    if st.uid != 0 && st.uid != owner {
        return Err(OwnError::Foreign { path: shown(p), owner });
    }
    if st.mode & 0o022 != 0 && st.mode & 0o1000 == 0 {
        return Err(OwnError::Writable(shown(p)));
    }
    Ok(())
}

/// The directory in which a program run as `owner` will write (xdisplay's target home): walked
/// from `/`, every directory on the way `owner`'s or root's and writable by nobody else (a
/// sticky world-writable ancestor such as /tmp is accepted), and `dir` itself not group- or
/// world-writable at all. Then only `owner` and root can change what is in it.
pub fn owned_dir(dir: &Path, owner: u32) -> Result<Dir, OwnError> {
    let walked = opwire::dir::walk(dir.as_os_str().as_bytes(), |p, st| owned_or_sticky(p, st, owner))?;
    if walked.stat()?.mode & 0o022 != 0 {
        return Err(OwnError::Writable(dir.to_path_buf()));
    }
    Ok(walked)
}

/// A file `owner`'s program will rewrite in such a directory: `name` in [`owned_dir`]`(dir)`,
/// absent, or a regular file of `owner`'s (or root's), looked at without following a symlink
/// (a symlink is refused, whoever made it).
pub fn owned_file_or_absent(dir: &Path, name: &[u8], owner: u32) -> Result<(), OwnError> {
    let home = owned_dir(dir, owner)?;
    let path = dir.join(std::ffi::OsStr::from_bytes(name));
    let Some((_, st)) = home.entry(name)? else {
        return Ok(());
    };
    if st.is_symlink() {
        return Err(OwnError::Symlink(path));
    }
    if !st.is_regular() {
        return Err(OwnError::NotRegular(path));
    }
    if st.uid != owner && st.uid != 0 {
        return Err(OwnError::Foreign { path, owner });
    }
    Ok(())
}

/// A directory root alone controls, in which a helper (as root) creates something: walked from
/// `/`, it and every directory above it root's (or ours) and not group/world-writable, except
/// that a sticky one such as /tmp is accepted (others can add entries there but not move or
/// remove ours).
pub fn root_dir(dir: &Path) -> Result<Dir, OwnError> {
    let euid = crate::sys::effective_uid();
    let own = |p: &[u8], st: &Stat| match owned_or_sticky(p, st, euid) {
        Err(OwnError::Foreign { path, .. }) => Err(OwnError::Owner(path)),
        r => r,
    };
    opwire::dir::walk(dir.as_os_str().as_bytes(), own)
}
