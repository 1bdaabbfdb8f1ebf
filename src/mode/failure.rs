//! The one failure type, and the one way a failure leaves escapes: its audit record first (the
//! stderr line may wait, at most `sys::STDERR_WAIT_MS`, on a pipe nobody reads), then one line
//! on stderr, then the exit status.

use crate::audit::{self, Log, Record};
use crate::policy::config::DEFAULT_AUDIT_LOG;
use crate::policy::verify;
use crate::sys;
use opwire::sysexits::Exit;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--json-errors`: set once at start, read wherever a failure is reported.
static JSON_ERRORS: AtomicBool = AtomicBool::new(false);

pub fn set_json_errors(on: bool) {
    JSON_ERRORS.store(on, Ordering::Relaxed);
}

/// Why escapes does not run the command: its exit status, a stable code word for programs
/// (the audit record's `error`, `--json-errors`), a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub exit: Exit,
    pub code: &'static str,
    pub message: String,
    /// The approved and the actual command hash, when they differ.
    hashes: Option<(String, String)>,
}

impl Failure {
    pub fn new(exit: Exit, code: &'static str, message: impl Into<String>) -> Failure {
        Failure { exit, code, message: message.into(), hashes: None }
    }

    /// A failure of ours, the config's or the system's (exit 1).
    pub fn error(code: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(Exit::Error, code, message)
    }

    /// Written to the log, then reported. Unrecorded, the refusal becomes a failure of ours
    /// (exit 1), whatever refused it; nothing ran either way.
    pub fn refuse(self, log: &Log, rec: &mut Record) -> i32 {
        self.describe(rec);
        if let Err(e) = log.append(rec) {
            return Failure::error("audit", format!("{} (not recorded: {e})", self.message)).report();
        }
        self.report()
    }

    /// Before the config named an audit log: the default one gets the record if it can be
    /// opened, and the stderr line says when there was nowhere to record it.
    pub fn refuse_unlogged(mut self, rec: &mut Record) -> i32 {
        self.describe(rec);
        match Log::open(DEFAULT_AUDIT_LOG) {
            Ok(log) => {
                let _ = log.append(rec);
            }
            Err(_) => self.message.push_str(" (no audit log to record this in)"),
        }
        self.report()
    }

    /// The refusal's fields in its audit record.
    pub fn describe(&self, rec: &mut Record) {
        rec.str("event", "refused").str("result", "refused").str("error", self.code).str("message", &self.message);
        if let Some((expected, actual)) = &self.hashes {
            rec.str("expected_hash", expected).str("actual_hash", actual);
        }
    }

    /// Only the stderr line, and the exit status: for when the audit log itself failed, or the
    /// record is already written. Words for people, or with `--json-errors` one JSON object.
    pub fn report(&self) -> i32 {
        if JSON_ERRORS.load(Ordering::Relaxed) {
            let mut j = Record::new();
            j.str("error", self.code).str("message", &self.message).int("exit_code", i64::from(self.exit.code()));
            if let Some((expected, actual)) = &self.hashes {
                j.str("expected", expected).str("got", actual);
            }
            sys::write_stderr(&j.to_line());
        } else {
            let kind = if self.exit == Exit::Refused { "refused: " } else { "" };
            say(&format!("{kind}{}", self.message));
        }
        self.exit.code()
    }
}

impl From<verify::Refusal> for Failure {
    fn from(r: verify::Refusal) -> Failure {
        let hashes = r.expected_hash.zip(r.actual_hash);
        Failure { exit: Exit::Refused, code: r.check.code(), message: r.detail, hashes }
    }
}

/// One line on stderr, `escapes: ` first; no control character of the caller's gets through.
pub fn say(line: &str) {
    sys::write_stderr(format!("escapes: {}\n", audit::printable(line)).as_bytes());
}
