//! escapes: verify an OpenApe grant, record it, run exactly the approved command.
//!
//! The entry point only: `escapes::main` hardens the process, hides any token in argv and hands
//! over to the mode argv asks for (`src/mode/`, where `run.rs` reads top to bottom as the
//! security argument).

// std's runtime start-up (stack guard probing via /proc, fd sanitising, SIGPIPE) is skipped:
// `process::harden` does what we need, with fewer syscalls and no dependency on /proc.
#![no_main]
#![deny(unsafe_code)]

/// # Safety
///
/// Called by the C runtime only, with its argc and argv.
#[allow(unsafe_code)] // the C entry point has to be unmangled, and argv is the C runtime's
#[no_mangle]
pub unsafe extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: argc and argv are what the C runtime passed to main: argc NUL-terminated strings
    // on the initial stack, writable, and referenced by nothing else (std's copy is not used).
    unsafe { escapes::main(argc, argv) }
}
