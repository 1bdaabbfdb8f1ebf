//! escapes-helper: every standard helper in one program, installed as a hard link per name. It
//! runs the helper its argv[0] names (the basename, so `/usr/local/libexec/jacket/timebox` is
//! timebox); any other name gets the list and exit 64 (EX_USAGE).

use escapes_helpers::{coat, envauth, manifest, proxy_agent, sheval, signed, stamp, timebox, xdisplay};
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

fn main() {
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
