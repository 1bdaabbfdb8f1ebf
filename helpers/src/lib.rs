//! The standard helpers of op(1l)'s helmet/jacket protocol, for escapes and for op itself, as
//! one program (`src/main.rs` runs the helper its argv[0] names: each module's `main`).
//!
//! Shared with escapes, in `opwire`: the file-trust rule and the walked directory, the reply
//! language (coat reads inner replies with `opwire::reply::parse`, every helper writes with
//! `opwire::reply::write`), the exit codes.
//!
//! Pure parsers (no I/O, `&[u8] -> Result<T, Error>`): `invocation` (the helper argv),
//! `timebox::spec`, `timebox::zone` (TZif and POSIX TZ strings), `regex` (the envauth/manifest
//! engine), `manifest::parse_list`, `signed::parse_digests`, `coat::parse_list`,
//! `stamp::{path, duration, spec, wire}`, `stamp::ctl::parse_args`, `sheval::parse_command` /
//! `parse_unset`, `passwd::parse_line`, `group::parse_line`, `xdisplay::nlist` (xauth's entry
//! list, DISPLAY names), `proxy_agent::template` (SPROXY_TO). Policy on top of them, still pure:
//! `timebox`, `envauth`, `manifest`, `stamp::holder::Stamp`, `identity` (who the caller is).
//! I/O shells: `helper` (the common main: argv, parameters, reply, warning, jacket mode),
//! `trusted` (before a file is believed: `opwire::trusted`, and the rules of xdisplay and
//! proxy-agent judged on the same walk), `stamp::place` (stamps' directories, on the same walk),
//! `program` (running a program as a given user with a deadline and an output cap),
//! `signed::sha256_of`, `coat::run`, `stamp::client`, `stamp::holder::serve`, and the programs:
//! `timebox::main`, `envauth::main`, `manifest::main`, `signed::main`, `coat::main`,
//! `stamp::main`, `stamp::ctl::main` (stampctl), `sheval::main`, `xdisplay::main`,
//! `proxy_agent::main` (with `proxy_agent::relay`, the proxy process).
//! Every `unsafe` block and raw libc call lives in `sys`.

#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod coat;
pub mod env;
pub mod envauth;
pub mod fuzz_entry;
pub mod group;
pub mod helper;
pub mod identity;
pub mod invocation;
pub mod manifest;
pub mod params;
pub mod passwd;
pub mod program;
pub mod proxy_agent;
pub mod regex;
pub mod sheval;
pub mod signed;
pub mod stamp;
#[allow(unsafe_code)]
pub mod sys;
pub mod timebox;
pub mod trusted;
pub mod xdisplay;
