//! escapes: grant-based privilege elevation. The folders say where code runs:
//!
//! - `parse`: pure parsers, `&[u8] -> Result<T, Error>`, each with a fuzz target; most run only
//!   inside confined children.
//! - `policy`: pure decisions and the values they decide on (config, token, request, verify).
//! - `confined`: the children that parse for the root process and talk to the network, under
//!   seccomp and without root's ids (`confined::child`), and the parent's side of them.
//! - `root`: the root process's own work with files, accounts, the IdP, the system log.
//! - `unprivileged`: what runs only after every id was dropped to the caller's (`--verify-log`).
//! - `sys`: every `unsafe` block and raw libc call.
//!
//! `audit`, `exec`, `grant`, `jacket` and `process` are the root process's pipeline steps.

#![deny(unsafe_code)]
// No panic reachable from input: nothing outside the tests unwraps, expects or indexes.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub(crate) mod audit;
pub(crate) mod confined;
pub(crate) mod exec;
pub(crate) mod grant;
pub(crate) mod jacket;
pub(crate) mod mode;
pub(crate) mod parse;
pub(crate) mod policy;
pub(crate) mod process;
pub(crate) mod root;
#[allow(unsafe_code)]
pub(crate) mod sys;
pub(crate) mod time;
pub(crate) mod unprivileged;

/// The fuzz targets' entry points, and the internals the differential targets and the
/// integration tests call directly; not built into the installed binary (`--features fuzz`).
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz_entry;

/// The process: hardened first, before any allocation (a caller's tiny RLIMIT_AS is lifted
/// there); then every `--grant` value in argv is overwritten, before anything can block,
/// because `/proc/PID/cmdline` is readable by every local user; then the mode argv asks for.
///
/// # Safety
///
/// `argc` and `argv` must be what the C runtime passed to `main`: `argc` NUL-terminated,
/// writable strings that nothing else references.
#[allow(unsafe_code)]
pub unsafe fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    let started_ms = sys::monotonic_ms();
    let inherited = match process::harden() {
        Ok(i) => i,
        Err(e) => {
            mode::say(e.0);
            return opwire::sysexits::Exit::Error.code();
        }
    };
    // SAFETY: this function's own contract.
    let mut args = unsafe { sys::Argv::from_main(argc, argv) };
    for (word, from) in parse::cli::grant_positions(args.words()) {
        args.blank(word, from);
    }
    mode::main(args.words().to_vec(), inherited, started_ms)
}
