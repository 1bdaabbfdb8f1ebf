//! escapes: verify an OpenApe grant, record it, run exactly the approved command.
//!
//! `run` reads top to bottom as the security argument: harden, parse, load config, open the
//! audit log, read and verify the grant, record, execute. Every failure goes through `refuse`,
//! which writes one stderr line and one audit line and picks the exit code.

// std's runtime start-up (stack guard probing via /proc, fd sanitising, SIGPIPE) is skipped:
// `process::harden` does what we need, with fewer syscalls and no dependency on /proc.
#![no_main]

use escapes::audit::{self, Field, Record};
use escapes::cli::{self, Request};
use escapes::config::{self, Config};
use escapes::verify::{self, GrantType};
use escapes::{env, exec, grant, jwt, keys, process, sys, trusted_file, users};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

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

#[allow(unsafe_code)] // the C entry point has to be unmangled
#[no_mangle]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    run()
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

fn run() -> i32 {
    let started_ms = sys::monotonic_ms();
    let inherited = match process::harden() {
        Ok(i) => i,
        Err(e) => {
            sys::write_stderr(format!("escapes: {}\n", e.0).as_bytes());
            return EXIT_ERROR;
        }
    };
    let args: Vec<Vec<u8>> = std::env::args_os().map(|a| a.into_vec()).collect();
    let request = cli::parse(&args);
    match request {
        Ok(Request::Help) => {
            sys::write_stderr(cli::USAGE.as_bytes());
            return 0;
        }
        Ok(Request::Version) => {
            let v = format!("escapes {}\nconfig: {CONFIG_PATH}\n", env!("CARGO_PKG_VERSION"));
            let _ = sys::write_once(1, v.as_bytes());
            return 0;
        }
        Ok(Request::VerifyLog(ref path)) => return verify_log(path),
        _ => {}
    }

    let mut rec = base_record();
    let real_uid = sys::getuid();

    // --config is for root only: anyone else could point us at a policy of their own.
    let config_path = match &request {
        Ok(Request::Run(r)) => match &r.config {
            Some(_) if real_uid != 0 => None,
            Some(p) => Some(String::from_utf8_lossy(p).into_owned()),
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
    let log = match audit::Log::open(&cfg.audit_log) {
        Ok(l) => l,
        Err(e) => {
            sys::write_stderr(format!("escapes: {e}; refusing to run anything\n").as_bytes());
            return EXIT_ERROR;
        }
    };

    let run = match request {
        Ok(Request::Run(r)) => r,
        Ok(_) => return EXIT_ERROR,
        Err(e) => return refuse(&log, &mut rec, fail(EXIT_ERROR, "usage", format!("{e} (see escapes --help)"))),
    };
    rec.set("command", Field::List(run.argv.clone()));

    match authorize(&run, &cfg, &mut rec) {
        Ok(auth) => execute(&log, &mut rec, &run.argv, auth, inherited, started_ms),
        Err(f) => refuse(&log, &mut rec, f),
    }
}

/// `--verify-log FILE`: first gives up root for good (any user may run it on a file they can
/// read), then walks the hash chain and names the first broken line. 0 intact, 5 broken.
fn verify_log(path: &[u8]) -> i32 {
    let (uid, gid) = (sys::getuid(), sys::getgid());
    if sys::set_all_gids(gid).and_then(|_| sys::set_all_uids(uid)).is_err() {
        sys::write_stderr(b"escapes: cannot drop privileges\n");
        return EXIT_ERROR;
    }
    let file = match std::fs::File::open(std::ffi::OsStr::from_bytes(path)) {
        Ok(f) => f,
        Err(e) => {
            sys::write_stderr(format!("escapes: cannot open {}: {e}\n", String::from_utf8_lossy(path)).as_bytes());
            return EXIT_ERROR;
        }
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut chain = audit::Chain::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        match std::io::BufRead::read_until(&mut reader, b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                sys::write_stderr(format!("escapes: read error: {e}\n").as_bytes());
                return EXIT_ERROR;
            }
        }
        let complete = line.last() == Some(&b'\n');
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let verdict = if complete { chain.feed(body) } else { Err(audit::Broken::Unterminated) };
        if let Err(e) = verdict {
            let n = if complete { chain.lines } else { chain.lines + 1 };
            sys::write_stderr(format!("escapes: audit log broken at line {n}: {e}\n").as_bytes());
            return EXIT_REFUSED;
        }
    }
    let _ = sys::write_once(1, format!("audit log intact: {} lines chained\n", chain.lines).as_bytes());
    0
}

/// Fields every record carries: when, who called, from where.
fn base_record() -> Record {
    let mut rec = Record::new();
    let (secs, nanos) = sys::realtime();
    rec.str("timestamp", audit::rfc3339(secs, nanos));
    let uid = sys::getuid();
    rec.int("real_uid", i64::from(uid));
    if let Some(name) = users::name_of(uid) {
        rec.str("user", name);
    }
    rec.int("pid", i64::from(sys::getpid()));
    if let Ok(h) = sys::hostname() {
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
    config::parse(&bytes).map_err(|e| fail(EXIT_ERROR, "config", format!("config {path}: {e}")))
}

/// What the verified grant allows.
struct Authorized {
    grant_type: GrantType,
    target: users::Resolved,
}

/// Reads and verifies the grant; fills the audit record with what the token says as soon as
/// it is known, so a refusal is recorded with everything an investigator needs.
fn authorize(run: &cli::Run, cfg: &Config, rec: &mut Record) -> Result<Authorized, Failure> {
    let token_bytes = grant::read(&run.grant).map_err(|e| fail(EXIT_REFUSED, "grant", e.to_string()))?;
    let token = jwt::parse(&token_bytes).map_err(|e| fail(EXIT_REFUSED, "jwt", format!("malformed grant: {e}")))?;
    record_claims(rec, &token.claims);

    let kid = verify::header(&token.header).map_err(refused)?;
    let issuer = verify::issuer(&token.claims, cfg).map_err(refused)?;
    let key = keys::lookup(cfg, issuer, kid).map_err(|e| {
        let exit = if e.is_token_fault() { EXIT_REFUSED } else { EXIT_ERROR };
        fail(exit, if e.is_token_fault() { "unknown_kid" } else { "keys" }, e.to_string())
    })?;
    verify::signature(&token, &key).map_err(refused)?;

    let hostname = sys::hostname().map_err(|e| fail(EXIT_ERROR, "internal", format!("cannot read hostname: {e}")))?;
    let facts = verify::Facts { now: sys::realtime().0, hostname: &hostname, argv: &run.argv, cli_run_as: run.run_as.as_deref() };
    let ok = verify::claims(&token.claims, cfg, &facts).map_err(refused)?;
    rec.str("run_as", &ok.run_as);

    // A once grant must be consumed at the IdP before it runs; until that path exists it never
    // runs at all.
    if ok.grant_type == GrantType::Once {
        return Err(fail(EXIT_ERROR, "idp_unreachable", "once grant cannot be consumed: IdP consume not available"));
    }
    let target = users::resolve(&ok.run_as).map_err(|e| fail(EXIT_ERROR, "run_as", e.to_string()))?;
    Ok(Authorized { grant_type: ok.grant_type, target })
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

fn record_claims(rec: &mut Record, c: &jwt::Claims) {
    let fields: [(&'static str, &Option<String>); 6] = [
        ("issuer", &c.iss),
        ("requester", &c.sub),
        ("approver", &c.decided_by),
        ("grant_id", &c.grant_id),
        ("jti", &c.jti),
        ("grant_type", &c.grant_type),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            rec.str(k, v);
        }
    }
}

/// Resolves the program, writes the durable "run" record, runs it, records how it ended.
fn execute(log: &audit::Log, rec: &mut Record, argv: &[Vec<u8>], auth: Authorized, inherited: process::Inherited, started_ms: u64) -> i32 {
    let Some(name) = argv.first() else {
        return refuse(log, rec, fail(EXIT_ERROR, "usage", "no command"));
    };
    let program = match exec::resolve(name) {
        Ok(p) => p,
        Err(e) => return refuse(log, rec, fail(e.exit_code(), "exec", e.to_string())),
    };
    rec.str("program", &program.path);
    let user = &auth.target.user;
    let caller_env: Vec<(Vec<u8>, Vec<u8>)> = std::env::vars_os().map(|(k, v)| (k.into_vec(), v.into_vec())).collect();
    let envp = env::build(&caller_env, &env::Target { name: &user.name, home: &user.home, shell: &user.shell });
    let (Some(argv_c), Some(envp_c)) = (exec::cstrings(argv), exec::cstrings(&envp)) else {
        return refuse(log, rec, fail(EXIT_ERROR, "exec", "argument or environment contains NUL"));
    };
    let launch = exec::Launch { program, argv: argv_c, envp: envp_c, identity: auth.target.identity, inherited };

    // Nothing runs unless the log durably holds the record that it is about to.
    rec.str("event", "run").str("result", "allowed");
    rec.str("grant_type", auth.grant_type.as_str());
    if let Err(e) = log.append(rec) {
        sys::write_stderr(format!("escapes: {e}; not running the command\n").as_bytes());
        return EXIT_ERROR;
    }

    let outcome = exec::run(&launch);
    let duration = sys::monotonic_ms().saturating_sub(started_ms);
    let (secs, nanos) = sys::realtime();
    rec.str("timestamp", audit::rfc3339(secs, nanos));
    rec.int("duration_ms", i64::try_from(duration).unwrap_or(i64::MAX));
    let code = match outcome {
        Ok(code) => {
            rec.str("event", "exit").str("result", "success").int("exit_code", i64::from(code));
            code
        }
        Err(e) => {
            let code = e.exit_code();
            sys::write_stderr(format!("escapes: {e}\n").as_bytes());
            rec.str("event", "exec_failed").str("result", "error").str("error", "exec").str("message", e.to_string());
            rec.int("exit_code", i64::from(code));
            code
        }
    };
    if let Err(e) = log.append(rec) {
        sys::write_stderr(format!("escapes: {e} (the command has already run)\n").as_bytes());
    }
    code
}

/// One stderr line, one audit line, the exit code. If the audit line cannot be written the
/// refusal still stands (nothing ran), and stderr says so.
fn refuse(log: &audit::Log, rec: &mut Record, f: Failure) -> i32 {
    describe(rec, &f);
    if let Err(e) = log.append(rec) {
        sys::write_stderr(format!("escapes: {e}\n").as_bytes());
    }
    f.exit
}

/// A refusal before the audit log is known (no usable config): try the default log.
fn refuse_unlogged(rec: &mut Record, f: Failure) -> i32 {
    describe(rec, &f);
    match audit::Log::open(config::DEFAULT_AUDIT_LOG) {
        Ok(log) => {
            let _ = log.append(rec);
        }
        Err(_) => sys::write_stderr(b"escapes: (no audit log available for this refusal)\n"),
    }
    f.exit
}

fn describe(rec: &mut Record, f: &Failure) {
    let kind = if f.exit == EXIT_REFUSED { "refused: " } else { "" };
    sys::write_stderr(format!("escapes: {kind}{}\n", f.message).as_bytes());
    rec.str("event", "refused").str("result", "refused").str("error", f.code).str("message", &f.message);
    if let Some(h) = &f.expected_hash {
        rec.str("expected_hash", h);
    }
    if let Some(h) = &f.actual_hash {
        rec.str("actual_hash", h);
    }
}
