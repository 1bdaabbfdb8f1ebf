//! escapes: grant-based privilege elevation. The folders say where code runs:
//!
//! - `parse`: pure parsers, `&[u8] -> Result<T, Error>`, each with a fuzz target; most run only
//!   inside confined children.
//! - `policy`: pure decisions and the values they decide on (config, token, request, verify).
//! - `confined`: the children that parse for the root process and talk to the network, under
//!   seccomp and without root's ids (`confined::child`), and the parent's side of them.
//! - `root`: the root process's own work with files, accounts, the IdP, the system log.
//! - `unprivileged`: what runs only after every id was dropped to the caller's (`--verify-log`).
//! - `sys`: every `unsafe` block and raw libc call.
//!
//! `audit`, `exec`, `grant`, `jacket` and `process` are the root process's pipeline steps.

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
