//! escapes: verify an OpenApe grant, record it, run exactly the approved command.
//!
//! The entry point only: harden the process, hide any token in argv, hand over to the mode
//! argv asks for (`escapes::mode`, where `run.rs` reads top to bottom as the security
//! argument).

// std's runtime start-up (stack guard probing via /proc, fd sanitising, SIGPIPE) is skipped:
// `process::harden` does what we need, with fewer syscalls and no dependency on /proc.
#![no_main]
#![deny(unsafe_code)]

use escapes::mode;
use escapes::parse::cli;
use escapes::{process, sys};

#[allow(unsafe_code)] // the C entry point has to be unmangled, and argv is the C runtime's
#[no_mangle]
pub extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    let started_ms = sys::monotonic_ms();
    // First, before any allocation: a caller's tiny RLIMIT_AS is lifted here.
    let inherited = match process::harden() {
        Ok(i) => i,
        Err(e) => {
            mode::say(e.0);
            return opwire::sysexits::Exit::Error.code();
        }
    };
    // SAFETY: argc and argv are what the C runtime passed to main: argc NUL-terminated strings
    // on the initial stack, writable, and referenced by nothing else (std's copy is not used).
    let mut args = unsafe { sys::Argv::from_main(argc, argv) };
    // Before anything else can block: a token on the command line stops showing in
    // /proc/PID/cmdline, which every local user can read.
    for (word, from) in cli::grant_positions(args.words()) {
        args.blank(word, from);
    }
    mode::main(args.words().to_vec(), inherited, started_ms)
}

