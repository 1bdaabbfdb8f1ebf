//! Pure parsers: each is a total function from bytes to a typed value or a typed error, with
//! no I/O, no `unsafe` and no panic on any input, and each has a fuzz target (`fuzz/`). Where
//! each one runs (in the root process or only in a confined child) is decided by who calls it;
//! `make tcb` counts that.

#![forbid(unsafe_code)]

pub mod base64url;
pub mod cli;
pub mod config;
pub mod config_edit;
pub mod dns;
pub mod http;
pub mod json;
pub mod jwks;
pub mod jwks_cache;
pub mod jwt;
pub mod passwd;
pub mod pem;
pub mod proc_stat;
pub mod proc_status;
pub mod toml;
