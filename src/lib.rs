//! escapes: grant-based privilege elevation.
//!
//! Pure parsers (no I/O, `&[u8] -> Result<T, Error>`, each with a fuzz target):
//! `toml`, `base64url`, `json`, `jwt`, `jwks`, `passwd`, `cli`.
//! Policy on top of them: `config` (pure validation), `ed25519` (strict verify), `verify`.
//! I/O shells: `trusted_file`, `grant`, `keys`, `audit`, `exec`, `process`.
//! Every `unsafe` block and raw libc call lives in `sys`.

pub mod base64url;
pub mod cli;
pub mod config;
pub mod ed25519;
pub mod fuzz_entry;
pub mod json;
pub mod jwks;
pub mod jwt;
pub mod passwd;
pub mod toml;
