//! escapes: grant-based privilege elevation.
//!
//! Pure parsers (no I/O, `&[u8] -> Result<T, Error>`, each with a fuzz target):
//! `toml`, `base64url`, `json`, `jwt`, `jwks`, `passwd`, `cli`.
//! Policy on top of them, still pure: `config`, `ed25519`, `verify`, `env`, `audit` formatting.
//! I/O shells: `trusted_file`, `grant`, `keys`, `users`, `audit::Log`, `exec`, `process`.
//! Every `unsafe` block and raw libc call lives in `sys`.

#![deny(unsafe_code)]

pub mod audit;
pub mod base64url;
pub mod cli;
pub mod config;
pub mod ed25519;
pub mod env;
pub mod exec;
pub mod fuzz_entry;
pub mod grant;
pub mod json;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod passwd;
pub mod process;
#[allow(unsafe_code)]
pub mod sys;
pub mod toml;
pub mod trusted_file;
pub mod users;
pub mod verify;
