//! stamp and stampctl: sudo's timestamp done op's way (§4.7, §4.8).
//!
//! `stampctl -M name … NAME=value …` leaves a holder process owning a UNIX socket at
//! `ROOT/facility/name`; the `stamp` helmet (or jacket) walks to that socket, asks the holder for
//! the tableau entries its `STAMP_SPEC` checks need and, last, for the status: only `y` allows.
//!
//! Modules: `path` (stamp names and facilities, pure), `duration` (pure), `spec` (the
//! `STAMP_SPEC` grammar and checks, pure), `wire` (the socket protocol, pure), `holder` (the
//! holder's state machine, pure, and its poll loop), `place` (the walked directories, on
//! `opwire::trusted`), `client` (walk, classify, connect, ask),
//! `helmet` (the stamp helper: `stamp::main`), `ctl` (stampctl: `stamp::ctl::main`).

pub mod client;
pub mod ctl;
pub mod duration;
pub mod helmet;
pub mod holder;
pub mod path;
pub mod place;
pub mod spec;
pub mod wire;

pub use helmet::main;

/// The stamp root, compiled in. A packager or a test build sets `ESCAPES_STAMP_ROOT` at build
/// time; nothing at run time can move it. Every directory from `/` to a stamp must be root's
/// and not group/world-writable, this one included.
pub const ROOT: &str = match option_env!("ESCAPES_STAMP_ROOT") {
    Some(p) => p,
    None => "/run/escapes/stamp",
};

const _: () = assert!(matches!(ROOT.as_bytes().first(), Some(b'/')), "ESCAPES_STAMP_ROOT must be absolute");

/// The root's components, or why the compiled-in root is unusable (a build error in spirit:
/// `.`/`..`/empty components, or `/` itself).
pub fn root_components() -> Result<Vec<Vec<u8>>, path::PathError> {
    let c = path::root_components(ROOT)?;
    if c.is_empty() {
        return Err(path::PathError::NoName);
    }
    Ok(c)
}
