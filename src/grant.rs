//! Reading the grant token: from argv, stdin, or a file opened with the *caller's* rights.

use crate::policy::request::GrantSource;
use crate::policy::token::MAX_TOKEN_LEN;
use crate::process;
use crate::sys::{self, Errno, ReadError};
use std::ffi::CString;

/// How long `--grant-stdin` waits for the whole token (until end of file) before refusing.
pub const STDIN_WAIT_MS: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    TooLarge,
    Empty,
    Stdin(Errno),
    /// Standard input did not deliver the token and its end within STDIN_WAIT_MS.
    StdinTimeout,
    /// The caller could not open it: what they could learn with their own `cat`.
    Open(Errno),
    NotRegular,
    Read(Errno),
    Credentials(Errno),
}

impl Error {
    /// A failure of ours or of the system (exit 1), not of the grant itself (exit 5).
    pub fn is_io(&self) -> bool {
        matches!(self, Error::Stdin(_) | Error::StdinTimeout | Error::Read(_) | Error::Credentials(_))
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::TooLarge => write!(f, "grant is larger than {MAX_TOKEN_LEN} bytes"),
            Error::Empty => write!(f, "grant is empty"),
            Error::Stdin(e) => write!(f, "cannot read grant from standard input: {e}"),
            Error::StdinTimeout => {
                write!(f, "no grant (ended by end of file) on standard input within {} s", STDIN_WAIT_MS / 1000)
            }
            Error::Open(e) => write!(f, "cannot open grant file: {}", e.describe()),
            Error::NotRegular => write!(f, "grant file is not a regular file"),
            Error::Read(e) => write!(f, "cannot read grant file: {}", e.describe()),
            Error::Credentials(e) => write!(f, "cannot switch to the caller's rights to open the grant file: {e}"),
        }
    }
}

/// The token bytes, trailing whitespace (a file's final newline) removed.
pub fn read(src: &GrantSource) -> Result<Vec<u8>, Error> {
    let raw = match src {
        GrantSource::Arg(t) | GrantSource::Env(t) => t.clone(),
        GrantSource::Stdin => sys::read_capped_within(0, MAX_TOKEN_LEN + 2, STDIN_WAIT_MS).map_err(|e| match e {
            ReadError::TooLarge => Error::TooLarge,
            ReadError::Io(e) if e.0 == libc::ETIMEDOUT => Error::StdinTimeout,
            ReadError::Io(e) => Error::Stdin(e),
        })?,
        GrantSource::File(path) => read_as_caller(path)?,
    };
    let mut token = raw;
    while token.last().is_some_and(u8::is_ascii_whitespace) {
        token.pop();
    }
    if token.is_empty() {
        return Err(Error::Empty);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::TooLarge);
    }
    Ok(token)
}

/// Opens `path` with the caller's effective uid/gid (their groups are still in place: a setuid
/// program keeps them), so root's rights never open a file for the caller.
fn read_as_caller(path: &[u8]) -> Result<Vec<u8>, Error> {
    let c = CString::new(path.to_vec()).map_err(|_| Error::Open(Errno(libc::ENOENT)))?;
    let (euid, egid) = (sys::geteuid(), sys::getegid());
    let caller = process::caller();
    sys::set_egid(caller.gid).map_err(Error::Credentials)?;
    if let Err(e) = sys::set_euid(caller.uid) {
        let _ = sys::set_egid(egid);
        return Err(Error::Credentials(e));
    }
    // Non-blocking: a FIFO must not hang us; it is refused below as not regular.
    let opened = sys::openat(None, &c, sys::O_RDONLY | sys::O_NONBLOCK | sys::O_NOCTTY, 0);
    // Changing the effective ids resets the dumpable flag: set it again before going on.
    let restored = sys::set_euid(euid).and_then(|_| sys::set_egid(egid)).and_then(|_| sys::set_not_dumpable());
    if let Err(e) = restored {
        return Err(Error::Credentials(e));
    }
    let fd = opened.map_err(Error::Open)?;
    let st = sys::fstat(&fd).map_err(Error::Read)?;
    if !st.is_regular() {
        return Err(Error::NotRegular);
    }
    sys::read_capped(&fd, MAX_TOKEN_LEN + 2).map_err(|e| match e {
        ReadError::TooLarge => Error::TooLarge,
        ReadError::Io(e) => Error::Read(e),
    })
}
