//! escapes-helper: every standard helper in one program, installed as a hard link per name. It
//! runs the helper its argv[0] names (the basename, so `/usr/local/libexec/jacket/timebox` is
//! timebox); any other name gets the list and exit 64 (EX_USAGE).
//!
//! std's runtime start-up is skipped (`#![no_main]`, as escapes itself does): in the static
//! binary its probing of the main thread's stack guard (pthread_getattr_np) links glibc's scanf
//! and strtod family, and its stack-overflow handler more: 110 KB of the program. `sys::start`
//! does the part of it the helpers need (closed standard descriptors onto /dev/null, SIGPIPE
//! ignored); argv still reaches `std::env::args_os` (glibc hands it to std's initialiser), and
//! the helpers leave through `std::process::exit`, which flushes stdout as a return from std's
//! `main` would.

#![no_main]

use escapes_helpers::{coat, envauth, manifest, proxy_agent, sheval, signed, stamp, timebox, xdisplay};
use std::ffi::{c_char, c_int};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

/// Each name and its program.
const HELPERS: [(&str, fn() -> !); 10] = [
    ("timebox", timebox::main),
    ("envauth", envauth::main),
    ("manifest", manifest::main),
    ("signed", signed::main),
    ("coat", coat::main),
    ("stamp", stamp::main),
    ("stampctl", stamp::ctl::main),
    ("sheval", sheval::main),
    ("xdisplay", xdisplay::main),
    ("proxy-agent", proxy_agent::main),
];

/// The C runtime's entry point; argv is read through `std::env::args_os`.
#[no_mangle]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    if escapes_helpers::sys::start().is_err() {
        std::process::exit(i32::from(opwire::sysexits::EX_OSERR))
    }
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let name = argv0.as_bytes().rsplit(|&b| b == b'/').next().unwrap_or_default();
    if let Some((_, run)) = HELPERS.iter().find(|(n, _)| n.as_bytes() == name) {
        run()
    }
    let names: Vec<&str> = HELPERS.iter().map(|(n, _)| *n).collect();
    let _ = writeln!(
        std::io::stderr(),
        "escapes-helper: run as one of {} (a link of that name to this program)",
        names.join(", ")
    );
    std::process::exit(i32::from(opwire::sysexits::EX_USAGE))
}
