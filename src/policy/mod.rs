//! Decisions and the values they are made on, with no I/O: the configuration, the grant token,
//! the verification chain, the strict Ed25519 check, the command's environment.

#![forbid(unsafe_code)]

pub mod account;
pub mod base64url;
pub mod chain;
pub mod config;
pub mod ed25519;
pub mod env;
pub mod facts;
pub mod request;
pub mod text;
pub mod token;
pub mod verify;
