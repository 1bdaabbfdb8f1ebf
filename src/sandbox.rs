//! The parse child. The grant token is the one input every local user controls, so its parsers
//! (base64url, JSON, claim types: `jwt::parse`) never run in the root process: a forked child
//! closes every descriptor but its report pipe, confines itself to the `parse` syscalls of
//! audit/syscalls (allocate memory, write the report, exit; src/seccomp.rs), parses, reports
//! (`handoff`), and exits. A parser bug that takes the child over can do nothing but write a
//! report; any other syscall kills it (SIGSYS).
//!
//! The trusted parent keeps everything that decides: it checks the Ed25519 signature itself
//! over the prefix of the token it holds (the child only says where that prefix ends), then
//! every claim, then the audit log and the exec. The price is one fork per run (see
//! bench/RESULTS.md and SECURITY.md).

#![deny(unsafe_code)]

use std::fmt;

use crate::handoff;
use crate::parse::jwt;
use crate::net::{self, Deadline};
use crate::sys::{self, Errno, Fd};

/// The child parses at most a 16 KiB token; a second is generous even under load.
pub const TIMEOUT_MS: u64 = 2_000;

/// A report is the token's decoded strings plus framing: at most a few times the token.
const MAX_REPORT: usize = 8 * crate::policy::token::MAX_TOKEN_LEN;

/// The child's RLIMIT_DATA (heap and private mappings): parsing a 16 KiB token needs well under
/// a megabyte; what the parent had at the fork is a few hundred KiB.
#[cfg(not(feature = "valgrind"))]
const MAX_DATA: u64 = 64 << 20;

/// Why the child gave no usable answer. Every case fails closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// pipe(2) or fork(2) failed.
    Spawn(Errno),
    /// No complete report within [`TIMEOUT_MS`]; the child was killed.
    Timeout,
    /// The child ended without exiting 0: killed by a signal (SIGSYS: a syscall outside its
    /// list) or a failed exit.
    Died { signal: Option<i32>, status: i32 },
    /// More bytes than any report of a token within the size cap can have; the child was killed.
    Oversized,
    /// The report could not be read back.
    Report(handoff::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spawn(e) => write!(f, "cannot start the confined parser process: {e}"),
            Error::Timeout => write!(f, "the confined parser process gave no answer within {} s", TIMEOUT_MS / 1000),
            Error::Died { signal: Some(s), .. } if *s == libc::SIGSYS => {
                f.write_str("the confined parser process was killed for a syscall outside its seccomp list")
            }
            Error::Died { signal: Some(s), .. } => write!(f, "the confined parser process was killed by signal {s}"),
            Error::Died { status, .. } => write!(f, "the confined parser process failed (wait status {status:#x})"),
            Error::Oversized => f.write_str("the confined parser process sent more than any report can be"),
            Error::Report(e) => write!(f, "the confined parser process sent a bad report: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// `jwt::parse(token)`, run in the confined child: the token, or the parser's refusal text.
pub fn parse_token(token: &[u8]) -> Result<handoff::Parsed<'_>, Error> {
    let report = run(|| {
        // Debug builds with the `seccomp-test-hook` feature only (tests/seccomp.rs): a token
        // that starts with this marker makes the confined child call getppid (unlisted).
        #[cfg(all(debug_assertions, feature = "seccomp-test-hook"))]
        if token.starts_with(b"seccomp-test-hook") {
            let _ = sys::getppid();
        }
        handoff::encode(&jwt::parse(token))
    })?;
    handoff::decode(&report, token).map_err(Error::Report)
}

/// Forks, runs `work` confined in the child, and returns the bytes it produced. The report
/// counts only when the child also exited 0 after writing all of it.
fn run(work: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>, Error> {
    let deadline = Deadline::after_ms(TIMEOUT_MS);
    let (reader, writer) = sys::pipe_cloexec().map_err(Error::Spawn)?;
    let pid = match sys::fork().map_err(Error::Spawn)? {
        sys::Forked::Child => {
            drop(reader);
            child(writer, work)
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(writer);
    let report = net::read_report(&reader, &deadline, MAX_REPORT);
    if report.is_err() {
        sys::kill(pid, libc::SIGKILL);
    }
    let status = sys::waitpid(pid).map_err(|_| Error::Died { signal: None, status: -1 })?;
    match (report, sys::killed_by(status)) {
        // We killed it: the reason is ours, not the signal.
        (Err(net::Error::Timeout), _) => Err(Error::Timeout),
        (Err(_), None | Some(libc::SIGKILL)) => Err(Error::Oversized),
        (_, Some(signal)) => Err(Error::Died { signal: Some(signal), status }),
        (Ok(_), None) if sys::exit_code_of(status) != 0 => Err(Error::Died { signal: None, status }),
        (Ok(r), None) => Ok(r),
    }
}

/// The child: nothing open but the pipe, then the filter, then the work. Never returns; exits
/// 0 only after the whole report is written.
fn child(pipe: Fd, work: impl FnOnce() -> Vec<u8>) -> ! {
    let keep = pipe.raw();
    sys::close_below(keep as u32);
    sys::close_from(keep as u32 + 1);
    // A child taken over can still allocate: bounded, it cannot press the machine for memory
    // in the time it has. (Not under valgrind, which needs address space of its own.)
    #[cfg(not(feature = "valgrind"))]
    if sys::set_rlimit(libc::RLIMIT_DATA, MAX_DATA, MAX_DATA).is_err() {
        sys::exit_now(2);
    }
    if crate::seccomp::confine_parse().is_err() {
        sys::exit_now(2);
    }
    let report = work();
    match sys::write_all(keep, &report) {
        Ok(()) => sys::exit_now(0),
        Err(_) => sys::exit_now(3),
    }
}

#[cfg(test)]
mod tests {
    // The child really forks and installs its filter; these run as any user (seccomp with
    // no_new_privs needs no privilege).
    use super::*;
    use crate::parse::base64url;

    #[test]
    fn a_token_parsed_in_the_child_is_the_token_parsed_here() {
        let h = base64url::encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        let c = base64url::encode(br#"{"iss":"https://id.example","command":["/bin/true"],"exp":5}"#);
        let t = format!("{h}.{c}.{}", base64url::encode(&[1u8; 64]));
        assert_eq!(parse_token(t.as_bytes()).unwrap(), Ok(jwt::parse(t.as_bytes()).unwrap()));
    }

    #[test]
    fn a_malformed_token_comes_back_as_the_parsers_words() {
        for bad in [&b"a.b"[..], b"", b"!!.!!.!!", &[b'a'; crate::policy::token::MAX_TOKEN_LEN + 1]] {
            let want = jwt::parse(bad).err().unwrap().to_string();
            assert_eq!(parse_token(bad).unwrap(), Err(want));
        }
    }

    #[test]
    fn an_unlisted_syscall_in_the_work_kills_the_child_and_fails_closed() {
        let r = run(|| {
            let _ = sys::getppid();
            b"never".to_vec()
        });
        assert!(matches!(r, Err(Error::Died { signal: Some(libc::SIGSYS), .. })), "{r:?}");
    }

    #[test]
    fn the_child_cannot_open_files() {
        let r = run(|| {
            let _ = std::fs::read("/etc/hostname");
            b"read it".to_vec()
        });
        assert!(matches!(r, Err(Error::Died { signal: Some(libc::SIGSYS), .. })), "{r:?}");
    }

    #[test]
    fn the_child_cannot_allocate_without_bound() {
        let r = run(|| {
            let big = vec![1u8; 256 << 20];
            big.get(..4).unwrap_or(&[]).to_vec()
        });
        assert!(matches!(r, Err(Error::Died { .. })), "{r:?}");
    }

    #[test]
    fn a_report_longer_than_any_real_one_is_refused() {
        // Made before the fork: in the threaded test harness a large allocation in the child can
        // grow a thread's malloc arena with mprotect, which the parse list rightly refuses.
        // (escapes itself is single-threaded: its heap grows with brk.)
        let big = vec![b'T'; MAX_REPORT + 1];
        let r = run(move || big);
        assert_eq!(r, Err(Error::Oversized));
    }

    #[test]
    fn a_child_that_never_answers_is_killed_at_the_deadline() {
        let started = sys::monotonic_ms();
        let r = run(|| loop {
            std::hint::spin_loop();
        });
        assert_eq!(r, Err(Error::Timeout));
        assert!(sys::monotonic_ms() - started < TIMEOUT_MS + 1_000);
    }
}
