//! What escapes and its op(1l) helpers share, so that each rule exists once:
//! - [`trusted`]: when a file (a config, a key set, a manifest list, the program a helper
//!   judges) may be believed: reached from `/` without following a symbolic link, through
//!   directories that only root (or the checking process's own effective uid) can change, and
//!   itself a regular file that nobody else can write.
//! - [`reply`]: the reply language a helper writes and escapes (and coat) reads: the values a
//!   reply means ([`reply::edit`]), the parser ([`reply::parse`]) and the writer
//!   ([`reply::write`]).
//! - [`sysexits`]: the exit codes op, escapes and the helpers share, and [`sysexits::Exit`],
//!   what escapes' own exit status says.
//! - [`dir`]: the directory a trust walk reached, for callers that work inside it (the helpers).
//! - [`sys`]: the owned descriptor and errno types and the handful of system calls the rule
//!   needs; the only `unsafe` in this crate.
//!
//! Non-goals: no name service (NSS), no environment variables, no allocation-free guarantees.

#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod dir;
pub mod reply;
#[allow(unsafe_code)]
pub mod sys;
pub mod sysexits;
pub mod trusted;
