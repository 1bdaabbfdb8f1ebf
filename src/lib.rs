//! escapes: grant-based privilege elevation.
//!
//! Pure parsers (no I/O, `&[u8] -> Result<T, Error>`, each with a fuzz target):
//! `toml`, `base64url`, `json`, `jwt`, `jwks`, `passwd`, `cli`, `http`, `pem`, `dns` (its message
//! and file parsers), `jacket::reply`, `handoff`, `proc_status`, `anchors` (a collector's copy
//! of the audit log: journal export, syslog file).
//! Policy on top of them, still pure: `config`, `ed25519`, `verify`, `env`, `audit` formatting.
//! The grant token is parsed in a confined child (`sandbox`), which hands it back (`handoff`).
//! I/O shells: `trusted_file`, `grant`, `keys`, `users`, `audit::Log`, `exec`, `jacket` (helmets
//! and jackets around the command), `process`, and
//! the IdP path `idp` -> `net` (an unprivileged child) -> `dns`, `tls`; the system-log copy of
//! each audit record (`syslog`, pure encoders and the sender) and log rotation (`rotation`);
//! `verify_log` (`--verify-log`, after the privilege drop).
//! Every `unsafe` block and raw libc call lives in `sys`.

#![deny(unsafe_code)]

pub mod anchors;
pub mod audit;
pub mod base64url;
pub mod cli;
pub mod config;
pub mod dns;
pub mod ed25519;
pub mod env;
pub mod exec;
pub mod fuzz_entry;
pub mod grant;
pub mod handoff;
pub mod http;
pub mod jacket;
pub mod idp;
pub mod json;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod net;
pub mod passwd;
pub mod pem;
pub mod proc_status;
pub mod process;
pub mod rotation;
pub mod sandbox;
pub mod seccomp;
#[allow(unsafe_code)]
pub mod sys;
pub mod syslog;
pub mod tls;
pub mod toml;
pub mod trusted_file;
pub mod users;
pub mod verify;
pub mod verify_log;
