//! escapes: grant-based privilege elevation.
//!
//! Pure parsers (no I/O, `&[u8] -> Result<T, Error>`, each with a fuzz target):
//! `toml`, `base64url`, `json`, `jwt`, `jwks`, `passwd`, `cli`, `http`, `pem`, `dns` (its message
//! and file parsers), `jacket::reply`, `handoff`, `proc_status`.
//! Policy on top of them, still pure: `config`, `ed25519`, `verify`, `env`, `audit` formatting.
//! The grant token is parsed in a confined child (`sandbox`), which hands it back (`handoff`).
//! I/O shells: `trusted_file`, `grant`, `keys`, `users`, `audit::Log`, `exec`, `jacket` (helmets
//! and jackets around the command), `process`, and
//! the IdP path `idp` -> `net` (an unprivileged child) -> `dns`, `tls`.
//! Every `unsafe` block and raw libc call lives in `sys`.

#![deny(unsafe_code)]

pub mod audit;
pub mod confined;
pub mod exec;
pub mod fuzz_entry;
pub mod grant;
pub mod jacket;
pub mod parse;
pub mod policy;
pub mod process;
pub mod root;
#[allow(unsafe_code)]
pub mod sys;
pub mod unprivileged;
pub mod time;
