//! escapes: verify an OpenApe grant, record it, run exactly the approved command.
//!
//! `run` reads top to bottom as the security argument: harden, parse, load config, open the
//! audit log, read and verify the grant, record, execute. Every failure goes through `refuse`,
//! which writes one audit line and then one stderr line, and picks the exit code.

// std's runtime start-up (stack guard probing via /proc, fd sanitising, SIGPIPE) is skipped:
// `process::harden` does what we need, with fewer syscalls and no dependency on /proc.
#![no_main]
#![deny(unsafe_code)]

use escapes::audit::{self, Record};
use escapes::policy::request::{self, Request};
use escapes::policy::config::{self, Config};
use escapes::policy::verify::{self, GrantType};
use escapes::jacket::{self, Kind, Verdict};
use escapes::parse::cli;
use escapes::policy::env;
use escapes::root::{keys, trusted_file, users};
use escapes::{exec, grant, process, sys};
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--json-errors`: set once at start, read wherever a refusal is reported.
static JSON_ERRORS: AtomicBool = AtomicBool::new(false);

/// The compiled-in config path; a packager or test build sets ESCAPES_CONFIG_PATH at build time.
const CONFIG_PATH: &str = match option_env!("ESCAPES_CONFIG_PATH") {
    Some(p) => p,
    None => "/etc/openape/config.toml",
};
const _: () = assert!(matches!(CONFIG_PATH.as_bytes().first(), Some(b'/')), "ESCAPES_CONFIG_PATH must be absolute");

const MAX_CONFIG: usize = 64 * 1024;

/// Exit codes of our own (the command's code is passed through otherwise).
const EXIT_ERROR: i32 = 1;
const EXIT_REFUSED: i32 = 5;

#[allow(unsafe_code)] // the C entry point has to be unmangled, and argv is the C runtime's
#[no_mangle]
pub extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    let started_ms = sys::monotonic_ms();
    // First, before any allocation: a caller's tiny RLIMIT_AS is lifted here.
    let inherited = match process::harden() {
        Ok(i) => i,
        Err(e) => {
            say(e.0);
            return EXIT_ERROR;
        }
    };
    // SAFETY: argc and argv are what the C runtime passed to main: argc NUL-terminated strings
    // on the initial stack, writable, and referenced by nothing else (std's copy is not used).
    let mut args = unsafe { sys::Argv::from_main(argc, argv) };
    // Before anything else can block: a token on the command line stops showing in
    // /proc/PID/cmdline, which every local user can read.
    for (word, from) in cli::grant_positions(args.words()) {
        args.blank(word, from);
    }
    run(args.words().to_vec(), inherited, started_ms)
}

/// A refusal on its way out: exit code, stable code word, message for humans.
struct Failure {
    exit: i32,
    code: &'static str,
    message: String,
    expected_hash: Option<String>,
    actual_hash: Option<String>,
}

fn fail(exit: i32, code: &'static str, message: impl Into<String>) -> Failure {
    Failure { exit, code, message: message.into(), expected_hash: None, actual_hash: None }
}

fn run(args: Vec<Vec<u8>>, inherited: process::Inherited, started_ms: u64) -> i32 {
    JSON_ERRORS.store(cli::wants_json_errors(&args), Ordering::Relaxed);
    let env_grant = std::env::var_os("ESCAPES_GRANT").map(|v| v.into_vec());
    let request = cli::parse_with_env(&args, env_grant.as_deref());
    match request {
        Ok(Request::Help) => {
            let _ = sys::write_stdout(request::USAGE.as_bytes());
            return 0;
        }
        Ok(Request::Version) => {
            let v = format!("escapes {}\nconfig: {CONFIG_PATH}\n", env!("CARGO_PKG_VERSION"));
            let _ = sys::write_stdout(v.as_bytes());
            return 0;
        }
        Ok(Request::VerifyLog(ref v)) => return verify_log(v),
        Ok(Request::CheckConfig { ref config }) => return check_config(config.as_deref()),
        _ => {}
    }

    let mut rec = base_record();
    let real_uid = process::caller().uid;

    // --config is for root only: anyone else could point us at a policy of their own.
    let config_path = match &request {
        Ok(Request::Run(r)) => match &r.config {
            Some(_) if real_uid != 0 => None,
            Some(p) => match String::from_utf8(p.clone()) {
                Ok(p) => Some(p),
                Err(_) => return refuse_unlogged(&mut rec, fail(EXIT_ERROR, "usage", "--config path is not valid UTF-8")),
            },
            None => Some(CONFIG_PATH.to_string()),
        },
        _ => Some(CONFIG_PATH.to_string()),
    };
    let Some(config_path) = config_path else {
        return refuse_unlogged(&mut rec, fail(EXIT_ERROR, "usage", "--config is only accepted from root"));
    };
    let cfg = match load_config(&config_path) {
        Ok(c) => c,
        Err(f) => return refuse_unlogged(&mut rec, f),
    };
    let log = match audit::Log::open_with(&cfg.audit_log, cfg.syslog) {
        Ok(l) => l,
        Err(e) => {
            report(&fail(EXIT_ERROR, "audit", format!("{e}; refusing to run anything")));
            return EXIT_ERROR;
        }
    };

    let run = match request {
        Ok(Request::Run(r)) => r,
        Ok(_) => return EXIT_ERROR,
        Err(e) => return refuse(&log, &mut rec, fail(EXIT_ERROR, "usage", format!("{e} (see escapes --help)"))),
    };
    rec.command(&run.argv);
    // A kill timer or a cap the caller set that escapes could not lift: refused before the
    // grant is even read, as soon as the refusal can be recorded.
    if let Some(limit) = inherited.unsafe_limit {
        return refuse(&log, &mut rec, fail(EXIT_ERROR, "rlimit", limit.to_string()));
    }
    if run.check_only {
        return check(&run, &cfg, &log, &mut rec);
    }

    match authorize(&run, &cfg, &mut rec) {
        Ok(auth) => execute(&log, &mut rec, &run, &cfg, &config_path, auth, inherited, started_ms),
        Err(f) => refuse(&log, &mut rec, f),
    }
}

/// `--verify-log FILE [FILE...] [--anchors EXPORT]`: first gives up root for good (any user may
/// run it on files they can read), then walks the hash chain across the files and names the
/// first broken line; with `--anchors`, compares each line with the system logger's copy
/// (`escapes::verify_log`). 0 intact, 5 broken or disagreeing.
fn verify_log(v: &request::VerifyLog) -> i32 {
    let caller = process::caller();
    let (uid, gid) = (caller.uid, caller.gid);
    if sys::set_all_gids(gid).and_then(|_| sys::set_all_uids(uid)).is_err() {
        say("cannot drop privileges");
        return EXIT_ERROR;
    }
    escapes::unprivileged::verify_log::run(&v.files, v.anchors.as_deref())
}

/// `--check-config` (root only): the config and every file it names, each problem on its own
/// line, all of them at once. 0 when everything is usable, 1 otherwise.
fn check_config(path: Option<&[u8]>) -> i32 {
    if process::caller().uid != 0 {
        report(&fail(EXIT_ERROR, "usage", "--check-config is only for root"));
        return EXIT_ERROR;
    }
    let path = path.map_or_else(|| CONFIG_PATH.to_string(), |p| String::from_utf8_lossy(p).into_owned());
    let mut r = Report::default();
    let cfg = match load_config(&path) {
        Ok(c) => {
            r.pass("config", &path);
            c
        }
        Err(f) => {
            r.fail("config", f);
            let _ = sys::write_stdout(r.out.as_bytes());
            return EXIT_ERROR;
        }
    };
    for (issuer, file) in &cfg.keys {
        match keys::read_pinned(file) {
            Ok(k) if k.is_empty() => r.fail("keys", fail(EXIT_ERROR, "keys", format!("{file}: no usable Ed25519 key for {issuer}"))),
            Ok(k) => r.pass("keys", format!("{file}: {} Ed25519 key(s) for {issuer}", k.len())),
            Err(e) => r.fail("keys", fail(EXIT_ERROR, "keys", e.to_string())),
        }
    }
    for issuer in cfg.allowed_issuers.iter().filter(|i| !cfg.keys.iter().any(|(k, _)| k == *i)) {
        r.pass("keys", format!("{issuer}: no pinned keys, fetched from the IdP when needed"));
    }
    match trusted_file::inspect_log(&cfg.audit_log) {
        Ok(true) => r.pass("audit_log", &cfg.audit_log),
        Ok(false) => r.pass("audit_log", format!("{} (created on first use)", cfg.audit_log)),
        Err(e) => r.fail("audit_log", fail(EXIT_ERROR, "audit", e.to_string())),
    }
    // The system-log copy (issue 15): unreachable stops runs only with syslog_required.
    match escapes::root::syslog::Copy::new(cfg.syslog).describe() {
        Ok(None) => r.pass("syslog", "off ([audit] syslog = \"off\")"),
        Ok(Some(to)) => r.pass("syslog", to),
        Err(e) if cfg.syslog.required => r.fail("syslog", fail(EXIT_ERROR, "syslog_unavailable", format!("{e}; with syslog_required = true nothing would run"))),
        Err(e) => r.pass("syslog", format!("{e} (runs go on; each record says its copy failed)")),
    }
    if let Some(ca) = &cfg.ca_bundle {
        match trusted_file::read(ca, 1 << 20) {
            Ok(_) => r.pass("ca_bundle", ca),
            Err(e) => r.fail("ca_bundle", fail(EXIT_ERROR, "config", e.to_string())),
        }
    }
    let run_as = cfg.run_as.as_deref().unwrap_or("root");
    match users::resolve(run_as.as_bytes()) {
        Ok(u) => r.pass("run_as", format!("{run_as} (uid {})", u.user.uid)),
        Err(e) => r.fail("run_as", fail(EXIT_ERROR, "run_as", e.to_string())),
    }
    let _ = sys::write_stdout(r.out.as_bytes());
    if r.first_failure.is_some() { EXIT_ERROR } else { 0 }
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
    rec.int("pid", i64::from(sys::getpid()));
    if let Ok(h) = hostname() {
        rec.str("host", h);
    }
    match sys::getcwd() {
        Some(cwd) => rec.str("cwd", cwd),
        None => rec.str("cwd", "(unreachable)"),
    };
    rec
}

fn load_config(path: &str) -> Result<Config, Failure> {
    let bytes = trusted_file::read(path, MAX_CONFIG).map_err(|e| fail(EXIT_ERROR, "config", format!("config {e}")))?;
    match escapes::confined::service::config(&bytes) {
        Ok(Ok(cfg)) => Ok(cfg),
        Ok(Err(e)) => Err(fail(EXIT_ERROR, "config", format!("config {path}: {e}"))),
        Err(e) => Err(fail(EXIT_ERROR, "sandbox", e.to_string())),
    }
}

/// What the verified grant allows.
struct Authorized {
    grant_type: GrantType,
    target: users::Resolved,
}

/// Reads and verifies the grant; fills the audit record with what the token says as soon as
/// it is known, so a refusal is recorded with everything an investigator needs.
fn authorize(run: &request::Run, cfg: &Config, rec: &mut Record) -> Result<Authorized, Failure> {
    let token_bytes = grant::read(&run.grant).map_err(|e| fail(if e.is_io() { EXIT_ERROR } else { EXIT_REFUSED }, "grant", e.to_string()))?;
    let token = parse_token(&token_bytes)?;
    record_claims(rec, &token.claims, false);

    let kid = verify::header(&token.header).map_err(refused)?;
    let issuer = verify::issuer(&token.claims, cfg).map_err(refused)?;
    let (key, _) = key_for(cfg, issuer, kid, rec)?;
    verify::signature(&token, &key).map_err(refused)?;
    record_claims(rec, &token.claims, true);
    // Signed by an allowed issuer: the record may now carry more of the command.
    rec.verified(&run.argv);

    let hostname = hostname().map_err(|e| fail(EXIT_ERROR, "internal", format!("cannot read hostname: {e}")))?;
    let facts = verify::Facts { now: sys::realtime().0, hostname: &hostname, argv: &run.argv, cli_run_as: run.run_as.as_deref() };
    let ok = verify::claims(&token.claims, cfg, &facts).map_err(refused)?;
    rec.str("run_as", &ok.run_as);

    // Before the IdP is asked: a once grant consumed for a user that does not exist is spent
    // for nothing.
    let target = users::resolve(&ok.run_as).map_err(|e| fail(EXIT_ERROR, "run_as", e.to_string()))?;

    // The IdP has the last word: a once grant is consumed there (single use), a timed or always
    // grant is confirmed (so a revocation takes effect) unless this host is offline. A once
    // grant never runs unconsumed, so an offline host refuses it.
    if cfg.offline {
        if ok.grant_type == GrantType::Once {
            return Err(fail(EXIT_ERROR, "idp_unreachable", "once grant cannot be consumed: IdP consume not available ([security] offline = true)"));
        }
        rec.str("consume", "offline");
    } else {
        let grant_id = token.claims.grant_id.as_deref().ok_or_else(|| {
            fail(EXIT_REFUSED, "claim_missing", "token has no grant_id claim, so the IdP cannot be asked about the grant")
        })?;
        // The parse child said these bytes are a compact JWS; the header line we build from them
        // does not take its word for it.
        let bearer = std::str::from_utf8(&token_bytes)
            .ok()
            .filter(|t| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
            .ok_or_else(|| fail(EXIT_REFUSED, "jwt", "grant is not base64url and dots"))?;
        match escapes::root::idp::consume(cfg, issuer, grant_id, bearer, ok.grant_type) {
            Ok(status) => rec.str("consume", &status),
            Err(e) => {
                rec.str("consume", if e.exit_code() == EXIT_REFUSED { "refused" } else { "failed" });
                return Err(fail(e.exit_code(), e.code(), e.to_string()));
            }
        };
    }
    Ok(Authorized { grant_type: ok.grant_type, target })
}

/// The lines of a `--check` report and the first failure's exit code.
#[derive(Default)]
struct Report {
    out: String,
    first_failure: Option<(i32, &'static str)>,
}

impl Report {
    fn pass(&mut self, step: &str, detail: impl AsRef<str>) {
        self.out.push_str(&format!("pass  {step:<12} {}\n", audit::printable(detail.as_ref())));
    }
    fn fail(&mut self, step: &str, f: Failure) {
        self.out.push_str(&format!("FAIL  {step:<12} {}\n", audit::printable(&f.message)));
        self.first_failure.get_or_insert((f.exit, f.code));
    }
    fn skip(&mut self, step: &str, why: &str) {
        self.out.push_str(&format!("skip  {step:<12} {}\n", audit::printable(why)));
    }
}

/// `--check`: every verification step, one line each on stdout; nothing is consumed and
/// nothing runs. Exit 0 when the command would run, else the code a real run would give.
fn check(run: &request::Run, cfg: &Config, log: &audit::Log, rec: &mut Record) -> i32 {
    let mut r = Report::default();
    check_steps(run, cfg, rec, &mut r);
    rec.str("event", "check");
    match r.first_failure {
        None => rec.str("result", "would_run"),
        Some((_, code)) => rec.str("result", "would_refuse").str("error", code),
    };
    // The record first: a stdout nobody reads must not keep it from the log.
    let recorded = log.append(rec);
    let _ = sys::write_stdout(r.out.as_bytes());
    if let Err(e) = recorded {
        report(&fail(EXIT_ERROR, "audit", e.to_string()));
        return EXIT_ERROR;
    }
    r.first_failure.map_or(0, |(exit, _)| exit)
}

fn check_steps(run: &request::Run, cfg: &Config, rec: &mut Record, r: &mut Report) {
    let token_bytes = match grant::read(&run.grant) {
        Ok(b) => {
            r.pass("grant", format!("{} bytes", b.len()));
            b
        }
        Err(e) => return r.fail("grant", fail(EXIT_REFUSED, "grant", e.to_string())),
    };
    let token = match parse_token(&token_bytes) {
        Ok(t) => {
            r.pass("token", "well-formed compact JWS");
            t
        }
        Err(f) => return r.fail("token", f),
    };
    record_claims(rec, &token.claims, false);
    let kid = match verify::header(&token.header) {
        Ok(kid) => {
            r.pass("header", format!("alg EdDSA, kid {kid:?}"));
            Some(kid)
        }
        Err(e) => {
            r.fail("header", refused(e));
            None
        }
    };
    let issuer = match verify::issuer(&token.claims, cfg) {
        Ok(i) => {
            r.pass("issuer", format!("{i:?} is allowed"));
            Some(i)
        }
        Err(e) => {
            r.fail("issuer", refused(e));
            None
        }
    };
    match (kid, issuer) {
        (Some(kid), Some(issuer)) => match key_for(cfg, issuer, kid, rec) {
            Ok((key, source)) => {
                r.pass(
                    "key",
                    match source {
                        keys::Source::Pinned => "found in the pinned keys",
                        keys::Source::Cached => "found in the cached key set of the issuer",
                        keys::Source::Fetched => "found in the key set fetched from the issuer",
                    },
                );
                match verify::signature(&token, &key) {
                    Ok(()) => r.pass("signature", "valid (strict Ed25519)"),
                    Err(e) => r.fail("signature", refused(e)),
                }
            }
            Err(f) => {
                r.fail("key", f);
                r.skip("signature", "no key to check it with");
            }
        },
        _ => {
            r.skip("key", "needs a valid header and an allowed issuer");
            r.skip("signature", "needs the key");
        }
    }
    // An unauthenticated token learns nothing more: neither which approvers, audiences or
    // hosts the policy allows, nor (through user and program lookups done as root) which files
    // exist.
    if r.first_failure.is_some() {
        r.skip("claims", "not evaluated: the token is not authentic");
        return;
    }
    record_claims(rec, &token.claims, true);
    rec.verified(&run.argv);
    let hostname = hostname().unwrap_or_default();
    let facts = verify::Facts { now: sys::realtime().0, hostname: &hostname, argv: &run.argv, cli_run_as: run.run_as.as_deref() };
    for (name, result) in verify::claim_checks(&token.claims, cfg, &facts) {
        match result {
            Ok(()) => r.pass(name, "ok"),
            Err(e) => r.fail(name, refused(e)),
        }
    }
    let Ok(ok) = verify::claims(&token.claims, cfg, &facts) else {
        r.skip("consume", "the claims were refused");
        return;
    };
    rec.str("run_as", &ok.run_as);
    // What a run would ask the IdP; --check never asks (asking consumes a once grant).
    let iss = token.claims.iss.as_deref().unwrap_or("");
    match (ok.grant_type, cfg.offline, token.claims.grant_id.as_deref()) {
        (GrantType::Once, true, _) => r.fail(
            "consume",
            fail(EXIT_ERROR, "idp_unreachable", "a once grant must be consumed at the IdP: IdP consume not available ([security] offline = true)"),
        ),
        (kind, true, _) => r.pass("consume", format!("{} grant: [security] offline = true, the IdP is not asked", kind.as_str())),
        (_, false, None) => r.fail("consume", fail(EXIT_REFUSED, "claim_missing", "token has no grant_id claim, so the IdP cannot be asked about the grant")),
        (_, false, Some(id)) if !escapes::root::idp::is_safe_segment(id) => {
            r.fail("consume", fail(EXIT_REFUSED, "grant_id_invalid", format!("grant_id {id:?} is not a plain identifier")))
        }
        (kind, false, Some(id)) => r.pass(
            "consume",
            format!(
                "{} grant: a run would {} at {iss}/api/grants/{id}/consume (--check does not ask)",
                kind.as_str(),
                if kind == GrantType::Once { "consume it" } else { "confirm it is not revoked" }
            ),
        ),
    }
    match users::resolve(&ok.run_as) {
        Ok(u) => r.pass("user", format!("runs as {:?} (uid {})", String::from_utf8_lossy(&u.user.name), u.user.uid)),
        Err(e) => r.fail("user", fail(EXIT_ERROR, "run_as", e.to_string())),
    }
    match run.argv.first().map(|n| exec::resolve(n)) {
        Some(Ok(p)) => {
            r.pass("program", String::from_utf8_lossy(&p.path));
            // Helpers are programs with their own verdict and side effects: named, not run.
            for (kind, list) in [("helmet", &cfg.helmets), ("jacket", &cfg.jackets)] {
                for h in list.iter().filter(|h| h.applies_to(|e| p.is_named_by(e))) {
                    r.skip(kind, &format!("{} would be asked at run time (--check does not run it)", h.path));
                }
            }
        }
        Some(Err(e)) => r.fail("program", fail(e.exit_code(), "exec", e.to_string())),
        None => r.fail("program", fail(EXIT_ERROR, "usage", "no command")),
    }
}

/// The token parsed in the confined child (`sandbox`): a malformed token is the caller's
/// fault (5); a child that died, hung or sent garbage fails closed as our own error (1).
fn parse_token(token_bytes: &[u8]) -> Result<escapes::policy::token::Token<'_>, Failure> {
    match escapes::confined::service::token(token_bytes) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(fail(EXIT_REFUSED, "jwt", format!("malformed grant: {e}"))),
        Err(e) => Err(fail(EXIT_ERROR, "sandbox", e.to_string())),
    }
}

/// Key lookup (pinned, cached or fetched) with its failure mapped to an exit code: the admin's
/// or the IdP's problem (1), or the token's (5); the key's source goes into the audit record.
fn key_for(cfg: &Config, issuer: &str, kid: &str, rec: &mut Record) -> Result<([u8; 32], keys::Source), Failure> {
    match keys::find(cfg, issuer, kid) {
        Ok(found) => {
            rec.str("key_source", found.source.as_str());
            if let Some(note) = found.cache_note {
                rec.str("key_cache", note);
            }
            Ok((found.key, found.source))
        }
        Err(e) => Err(fail(e.exit_code(), e.code(), e.to_string())),
    }
}

fn refused(r: verify::Refusal) -> Failure {
    Failure {
        exit: EXIT_REFUSED,
        code: r.check.code(),
        message: r.detail,
        expected_hash: r.expected_hash,
        actual_hash: r.actual_hash,
    }
}

/// Token facts for the audit record. Until the signature has been checked they are only what
/// the token claims, and are recorded under `claimed_*` names; afterwards under their own.
fn record_claims(rec: &mut Record, c: &escapes::policy::token::Claims, verified: bool) {
    let fields: [(&'static str, &'static str, &Option<String>); 6] = [
        ("issuer", "claimed_issuer", &c.iss),
        ("requester", "claimed_requester", &c.sub),
        ("approver", "claimed_approver", &c.decided_by),
        ("grant_id", "claimed_grant_id", &c.grant_id),
        ("jti", "claimed_jti", &c.jti),
        ("grant_type", "claimed_grant_type", &c.grant_type),
    ];
    for (name, claimed, v) in fields {
        if let Some(v) = v {
            if verified {
                rec.remove(claimed).str(name, v);
            } else {
                rec.str(claimed, v);
            }
        }
    }
}

/// Resolves the program, asks the helmets, writes the durable "run" record (after the jackets
/// released the command, when there are any), runs it, records how it ended.
#[allow(clippy::too_many_arguments)]
fn execute(
    log: &audit::Log,
    rec: &mut Record,
    run: &request::Run,
    cfg: &Config,
    config_path: &str,
    auth: Authorized,
    inherited: process::Inherited,
    started_ms: u64,
) -> i32 {
    let argv = &run.argv;
    let Some(name) = argv.first() else {
        return refuse(log, rec, fail(EXIT_ERROR, "usage", "no command"));
    };
    let program = match exec::resolve(name) {
        Ok(p) => p,
        Err(e) => return refuse(log, rec, fail(e.exit_code(), "exec", e.to_string())),
    };
    rec.str("program", &program.path);
    rec.str("program_canonical", &program.canonical);
    rec.str("grant_type", auth.grant_type.as_str());
    let user = &auth.target.user;
    // Only what env::build may look at is copied: a huge environment costs escapes nothing more.
    let caller_env: Vec<(Vec<u8>, Vec<u8>)> =
        std::env::vars_os().take(env::MAX_CALLER_VARS).map(|(k, v)| (k.into_vec(), v.into_vec())).collect();
    let mut envp = env::build(&caller_env, &env::Target { name: &user.name, home: &user.home, shell: &user.shell });

    // Helmets, in order, each seeing the resolved program and the edits of those before it.
    let caller = process::caller();
    let ctx = jacket::Context {
        config_path,
        run_as_arg: run.run_as.as_deref(),
        mnemonic: name,
        program: &program.canonical,
        euid: auth.target.identity.uid,
        egid: auth.target.identity.gid,
        login: users::name_of(caller.uid).unwrap_or_else(|| format!("#{}", caller.uid).into_bytes()),
        facts: grant_facts(rec),
        caller_env: &caller_env,
    };
    let applies = |h: &&config::Helper| h.applies_to(|e| program.is_named_by(e));
    let helmets: Vec<&config::Helper> = cfg.helmets.iter().filter(applies).collect();
    let jackets: Vec<&config::Helper> = cfg.jackets.iter().filter(applies).collect();
    if !helmets.is_empty() || !jackets.is_empty() {
        // Which clock each helper reads: its TZ param, else the system's; never the caller's.
        let system = jacket::system_zone();
        let zones = helmets.iter().map(|h| (Kind::Helmet, h)).chain(jackets.iter().map(|h| (Kind::Jacket, h)));
        let zones = zones.map(|(k, h)| [format!("{} {}: ", k.as_str(), h.path).as_bytes(), &jacket::zone_of(h, &system)].concat());
        rec.set("helpers_tz", audit::Field::List(zones.collect()));
    }
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for helper in helmets {
        let (verdict, reply) = match jacket::arm(Kind::Helmet, helper, &ctx, &envp) {
            Ok(armed) => jacket::helmet(&armed),
            Err(v) => (v, None),
        };
        let refused = match (&verdict, reply) {
            (Verdict::Allow, Some(r)) => jacket::apply(&mut envp, &r.edits, &caller_env),
            _ => Vec::new(),
        };
        entries.push(jacket::audit_entry(Kind::Helmet, helper, &verdict, &refused));
        rec.set("helpers", audit::Field::List(entries.clone()));
        if verdict != Verdict::Allow {
            return refuse(log, rec, fail(verdict.exit_code(), "helmet", format!("helmet {}: {verdict}", helper.path)));
        }
    }

    let (Some(argv_c), Some(envp_c)) = (exec::cstrings(argv), exec::cstrings(&envp)) else {
        return refuse(log, rec, fail(EXIT_ERROR, "exec", "argument or environment contains NUL"));
    };
    let Ok(path) = std::ffi::CString::new(program.canonical.clone()) else {
        return refuse(log, rec, fail(EXIT_ERROR, "exec", "program path contains NUL"));
    };
    let mut armed = Vec::with_capacity(jackets.len());
    for helper in &jackets {
        match jacket::arm(Kind::Jacket, helper, &ctx, &envp) {
            Ok(a) => armed.push(a),
            Err(v) => {
                entries.push(jacket::audit_entry(Kind::Jacket, helper, &v, &[]));
                rec.set("helpers", audit::Field::List(entries.clone()));
                return refuse(log, rec, fail(v.exit_code(), "jacket", format!("jacket {}: {v}", helper.path)));
            }
        }
    }
    let launch = exec::Launch { program, path, argv: argv_c, envp: envp_c, identity: auth.target.identity, inherited };

    rec.str("event", "run").str("result", "allowed");
    // Nothing is parsed from here on: the confined parsers end before the command starts.
    escapes::confined::service::stop();
    let outcome = if armed.is_empty() {
        // The name the helmets judged still reaches the file that will run.
        if let Err(e) = launch.program.still_named() {
            return refuse(log, rec, fail(e.exit_code(), "program_changed", e.to_string()));
        }
        // Nothing runs unless the log durably holds the record that it is about to.
        match log.append_before_run(rec) {
            Ok(()) => {}
            Err(e @ audit::Error::Syslog(_)) => return refuse(log, rec, syslog_refusal(&e)),
            Err(e) => {
                report(&fail(EXIT_ERROR, "audit", format!("{e}; not running the command")));
                return EXIT_ERROR;
            }
        }
        exec::run(&launch)
    } else {
        let program = &launch.program;
        let mut release = |all: &[Vec<u8>]| -> bool {
            rec.set("helpers", audit::Field::List(all.to_vec()));
            // After the jackets judged it: the name still reaches the file that will run.
            if let Err(e) = program.still_named() {
                let f = fail(e.exit_code(), "program_changed", e.to_string());
                describe(rec, &f);
                let _ = log.append(rec);
                return false;
            }
            match log.append_before_run(rec) {
                Ok(()) => true,
                Err(e @ audit::Error::Syslog(_)) => {
                    let f = syslog_refusal(&e);
                    describe(rec, &f);
                    let _ = log.append(rec);
                    false
                }
                Err(e) => {
                    report(&fail(EXIT_ERROR, "audit", format!("{e}; not running the command")));
                    false
                }
            }
        };
        let mut all = entries.clone();
        let ended = jacket::run_jacketed(&launch, &armed, &envp, &caller_env, &mut all, &mut release);
        match ended {
            jacket::Ended::Ran { status, start } => start.map(|()| status),
            jacket::Ended::Aborted => return EXIT_ERROR,
            jacket::Ended::Refused { index, verdict } => {
                rec.set("helpers", audit::Field::List(all));
                let shown = jackets.get(index).map_or("", |h| h.path.as_str());
                return refuse(log, rec, fail(verdict.exit_code(), "jacket", format!("jacket {shown}: {verdict}")));
            }
        }
    };
    let duration = sys::monotonic_ms().saturating_sub(started_ms);
    let (secs, nanos) = sys::realtime();
    rec.str("timestamp", audit::rfc3339(secs, nanos));
    rec.int("duration_ms", i64::try_from(duration).unwrap_or(i64::MAX));
    let (code, failed) = match outcome {
        Ok(code) => {
            rec.str("event", "exit").str("result", "success").int("exit_code", i64::from(code));
            (code, None)
        }
        Err(e) => {
            let code = e.exit_code();
            rec.str("event", "exec_failed").str("result", "error").str("error", "exec").str("message", e.to_string());
            rec.int("exit_code", i64::from(code));
            (code, Some(e.to_string()))
        }
    };
    // The record first, then the one stderr line (which may wait on a pipe nobody reads).
    match (log.append_after_run(rec), failed) {
        (Ok(()), Some(why)) => report(&fail(code, "exec", why)),
        (Err(e), Some(why)) => report(&fail(code, "exec", format!("{why} (not recorded: {e})"))),
        (Err(e), None) => report(&fail(code, "audit", format!("{e} (the command has already run)"))),
        (Ok(()), None) => {}
    }
    code
}

/// `[audit] syslog_required = true` and the system logger did not take the run record: nothing
/// runs (issue 15).
fn syslog_refusal(e: &audit::Error) -> Failure {
    fail(EXIT_ERROR, "syslog_unavailable", format!("{e}; not running the command"))
}

/// The verified grant facts a helper can check, as `ESCAPES_*` variables (absent ones omitted),
/// and the caller's real uid and gid.
fn grant_facts(rec: &Record) -> Vec<(&'static str, Vec<u8>)> {
    let names = [
        ("ESCAPES_GRANT_ID", "grant_id"),
        ("ESCAPES_REQUESTER", "requester"),
        ("ESCAPES_APPROVER", "approver"),
        ("ESCAPES_GRANT_TYPE", "grant_type"),
        ("ESCAPES_ISSUER", "issuer"),
        ("ESCAPES_RUN_AS", "run_as"),
    ];
    let mut facts: Vec<(&'static str, Vec<u8>)> = names
        .iter()
        .filter_map(|&(var, field)| match rec.get(field) {
            Some(audit::Field::Str(v)) => Some((var, v.clone())),
            _ => None,
        })
        .collect();
    // Helpers run fully root: the caller's ids are a fact they are told, not their own.
    let caller = process::caller();
    facts.push(("ESCAPES_CALLER_UID", caller.uid.to_string().into_bytes()));
    facts.push(("ESCAPES_CALLER_GID", caller.gid.to_string().into_bytes()));
    facts
}

/// One audit line, then one stderr line, and the exit code. The record comes first: the stderr
/// line may wait (at most sys::STDERR_WAIT_MS) on a pipe nobody reads. If the audit line cannot
/// be written the refusal still stands (nothing ran), and the stderr line says so.
fn refuse(log: &audit::Log, rec: &mut Record, f: Failure) -> i32 {
    describe(rec, &f);
    if let Err(e) = log.append(rec) {
        // Unrecorded, the refusal becomes a failure of ours (exit 1), whatever refused it.
        report(&fail(EXIT_ERROR, "audit", format!("{} (not recorded: {e})", f.message)));
        return EXIT_ERROR;
    }
    report(&f);
    f.exit
}

/// A refusal before the audit log is known (no usable config): the default log gets the record
/// if it can be opened; the single stderr line says when there was nowhere to record it.
fn refuse_unlogged(rec: &mut Record, mut f: Failure) -> i32 {
    let log = audit::Log::open(config::DEFAULT_AUDIT_LOG).ok();
    describe(rec, &f);
    match log {
        Some(log) => {
            let _ = log.append(rec);
        }
        None => f.message.push_str(" (no audit log to record this in)"),
    }
    report(&f);
    f.exit
}

/// The one stderr line of a failure: words for people, or with --json-errors a JSON object
/// with a stable `error` code for programs.
fn report(f: &Failure) {
    if JSON_ERRORS.load(Ordering::Relaxed) {
        let mut j = Record::new();
        j.str("error", f.code).str("message", &f.message).int("exit_code", i64::from(f.exit));
        if let (Some(expected), Some(got)) = (&f.expected_hash, &f.actual_hash) {
            j.str("expected", expected).str("got", got);
        }
        sys::write_stderr(&j.to_line());
    } else {
        let kind = if f.exit == EXIT_REFUSED { "refused: " } else { "" };
        say(&format!("{kind}{}", f.message));
    }
}

/// One line on stderr, `escapes: ` first; no control character of the caller's gets through.
fn say(line: &str) {
    sys::write_stderr(format!("escapes: {}\n", audit::printable(line)).as_bytes());
}

/// A refusal's fields in its audit record.
fn describe(rec: &mut Record, f: &Failure) {
    rec.str("event", "refused").str("result", "refused").str("error", f.code).str("message", &f.message);
    if let Some(h) = &f.expected_hash {
        rec.str("expected_hash", h);
    }
    if let Some(h) = &f.actual_hash {
        rec.str("actual_hash", h);
    }
}
