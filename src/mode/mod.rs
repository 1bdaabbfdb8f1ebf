//! The modes escapes runs in, one file each, and what they share. `main` hands over argv once
//! the process is hardened; [`main`] picks the mode:
//! - `run`: a grant request, and `--check` of one (`pipeline` is the decision both take);
//! - `check_config`: `--check-config`, root only;
//! - `verify_log`: `--verify-log`, after every id was dropped to the caller's;
//! - `trust`: `escapes trust`, real uid 0 only;
//! - `--help` and `--version`, here.
//!
//! Every failure leaves through `failure::Failure`: record, one stderr line, exit status.

mod check_config;
mod failure;
mod pipeline;
mod run;
mod trust;
mod verify_log;

pub use failure::{say, Failure};

use crate::audit::{self, Record};
use crate::parse::cli;
use crate::policy::config::Config;
use crate::policy::request::{self, Request};
use crate::process::{self, Inherited};
use crate::root::{trusted_file, tty, users};
use crate::sys;
use std::os::unix::ffi::OsStringExt;

/// The compiled-in config path; a packager or test build sets ESCAPES_CONFIG_PATH at build time.
pub const CONFIG_PATH: &str = match option_env!("ESCAPES_CONFIG_PATH") {
    Some(p) => p,
    None => "/etc/openape/config.toml",
};
const _: () = assert!(matches!(CONFIG_PATH.as_bytes().first(), Some(b'/')), "ESCAPES_CONFIG_PATH must be absolute");

/// Largest config file read.
const MAX_CONFIG: usize = 64 * 1024;

/// Runs the mode argv asks for; returns the exit status.
pub fn main(args: Vec<Vec<u8>>, inherited: Inherited, started_ms: u64) -> i32 {
    failure::set_json_errors(cli::wants_json_errors(&args));
    let env_grant = std::env::var_os("ESCAPES_GRANT").map(|v| v.into_vec());
    let request = cli::parse_with_env(&args, env_grant.as_deref());
    match request {
        Ok(Request::Help) => {
            let _ = sys::write_stdout(request::USAGE.as_bytes());
            0
        }
        Ok(Request::Version) => {
            let _ =
                sys::write_stdout(format!("escapes {}\nconfig: {CONFIG_PATH}\n", env!("CARGO_PKG_VERSION")).as_bytes());
            0
        }
        Ok(Request::VerifyLog(ref v)) => verify_log::run(v),
        Ok(Request::CheckConfig { ref config }) => check_config::run(config.as_deref()),
        Ok(Request::Trust(ref t)) => trust::run(t),
        _ => run::run(request, base_record(), inherited, started_ms),
    }
}

/// The config at `path`, read under the trusted-file rules and parsed in a confined child.
fn load_config(path: &str) -> Result<Config, Failure> {
    let bytes = trusted_file::read(path, MAX_CONFIG).map_err(|e| Failure::error("config", format!("config {e}")))?;
    match crate::confined::service::config(&bytes) {
        Ok(Ok(cfg)) => Ok(cfg),
        Ok(Err(e)) => Err(Failure::error("config", format!("config {path}: {e}"))),
        Err(e) => Err(Failure::error("sandbox", e.to_string())),
    }
}

/// The kernel's node name, asked once per run (the audit record and the host check both need
/// it).
fn hostname() -> Result<String, sys::Errno> {
    static NAME: std::sync::OnceLock<Result<String, sys::Errno>> = std::sync::OnceLock::new();
    NAME.get_or_init(sys::hostname).clone()
}

/// Fields every record carries: when, who called, from where.
fn base_record() -> Record {
    let mut rec = Record::new();
    let (secs, nanos) = sys::realtime();
    rec.str("timestamp", audit::rfc3339(secs, nanos));
    let uid = process::caller().uid;
    rec.int("real_uid", i64::from(uid));
    if let Some(name) = users::name_of(uid) {
        rec.str("user", name);
    }
    rec.int("pid", i64::from(sys::getpid().raw()));
    if let Ok(h) = hostname() {
        rec.str("host", h);
    }
    match sys::getcwd() {
        Some(cwd) => rec.str("cwd", cwd),
        None => rec.str("cwd", "(unreachable)"),
    };
    if let Some(t) = tty::controlling() {
        rec.str("tty", t);
    }
    rec
}
