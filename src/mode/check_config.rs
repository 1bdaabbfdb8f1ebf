//! `--check-config [--config PATH]` (root only): the config and every file it names, each
//! problem on its own line, all of them at once. 0 when everything is usable, 1 otherwise.
//! Nothing is created, fetched or written.

use crate::confined::service;
use crate::mode::failure::Failure;
use crate::mode::pipeline::report_line;
use crate::mode::{load_config, CONFIG_PATH};
use crate::process;
use crate::root::{keys, syslog, trusted_file, users};
use crate::sys;

/// The report's lines, and whether any failed.
#[derive(Default)]
struct Report {
    out: String,
    failed: bool,
}

impl Report {
    fn pass(&mut self, step: &str, detail: impl AsRef<str>) {
        report_line(&mut self.out, "pass", step, detail.as_ref());
    }

    fn fail(&mut self, step: &str, why: impl AsRef<str>) {
        report_line(&mut self.out, "FAIL", step, why.as_ref());
        self.failed = true;
    }
}

pub fn run(path: Option<&[u8]>) -> i32 {
    if process::caller().uid != 0 {
        return Failure::error("usage", "--check-config is only for root").report();
    }
    let path = path.map_or_else(|| CONFIG_PATH.to_string(), |p| String::from_utf8_lossy(p).into_owned());
    let mut r = Report::default();
    let cfg = match load_config(&path) {
        Ok(c) => {
            r.pass("config", &path);
            c
        }
        Err(f) => {
            r.fail("config", &f.message);
            let _ = sys::write_stdout(r.out.as_bytes());
            return f.exit.code();
        }
    };
    for (issuer, file) in &cfg.keys {
        match keys::read_pinned(file) {
            Ok(k) if k.is_empty() => r.fail("keys", format!("{file}: no usable Ed25519 key for {issuer}")),
            Ok(k) => r.pass("keys", format!("{file}: {} Ed25519 key(s) for {issuer}", k.len())),
            Err(e) => r.fail("keys", e.to_string()),
        }
    }
    for issuer in cfg.allowed_issuers.iter().filter(|i| !cfg.keys.iter().any(|(k, _)| k == *i)) {
        r.pass("keys", format!("{issuer}: no pinned keys, fetched from the IdP when needed"));
    }
    match trusted_file::inspect_log(&cfg.audit_log) {
        Ok(true) => r.pass("audit_log", &cfg.audit_log),
        Ok(false) => r.pass("audit_log", format!("{} (created on first use)", cfg.audit_log)),
        Err(e) => r.fail("audit_log", e.to_string()),
    }
    // The system-log copy: unreachable stops runs only with syslog_required.
    match syslog::Copy::new(cfg.syslog).describe() {
        Ok(None) => r.pass("syslog", "off ([audit] syslog = \"off\")"),
        Ok(Some(to)) => r.pass("syslog", to),
        Err(e) if cfg.syslog.required => {
            r.fail("syslog", format!("{e}; with syslog_required = true nothing would run"))
        }
        Err(e) => r.pass("syslog", format!("{e} (runs go on; each record says its copy failed)")),
    }
    // Parsed as the network child will parse it, so a bundle it would refuse fails here.
    if let Some(ca) = &cfg.ca_bundle {
        match trusted_file::read(ca, crate::policy::config::MAX_BUNDLE).map(|b| service::certificates(&b)) {
            Ok(Ok(Ok(n))) => r.pass("ca_bundle", format!("{ca}: {n} certificate(s)")),
            Ok(Ok(Err(why))) => r.fail("ca_bundle", format!("{ca}: {why}")),
            Ok(Err(e)) => r.fail("ca_bundle", e.to_string()),
            Err(e) => r.fail("ca_bundle", e.to_string()),
        }
    }
    let run_as = cfg.run_as.as_deref().unwrap_or("root");
    match users::resolve(run_as.as_bytes()) {
        Ok(u) => r.pass("run_as", format!("{run_as} (uid {})", u.user.uid)),
        Err(e) => r.fail("run_as", e.to_string()),
    }
    let _ = sys::write_stdout(r.out.as_bytes());
    i32::from(r.failed)
}
