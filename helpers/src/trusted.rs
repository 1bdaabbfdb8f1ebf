//! Before a helper believes a file (a manifest list, the program `signed` hashes and `manifest`
//! names, an inner helper of `coat`), it must pass the one rule escapes applies to its own
//! files (`opwire::trusted`): reached from `/` without a symbolic link, through directories and
//! to a file that only root (or the helper's own effective uid, root when escapes or op runs
//! it) can change. Otherwise whoever can write there decides what the check reads, or swaps the
//! name between the check and the exec.

use crate::sysexits::{EX_CONFIG, EX_NOINPUT};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

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
