//! `escapes [--check] (--grant ...) [--run-as USER] -- CMD [ARGS...]`: read as the security
//! argument, top to bottom: load the config (root only may name another), open the audit log,
//! decide (`pipeline`), ask the helmets, write the durable `run` record (after the jackets
//! released the command, when there are any), run exactly that program, record how it ended.
//! `--check` takes the same decision and reports every step instead of running anything.

use crate::audit::{self, Field, Log, Record};
use crate::exec::{self, Launch};
use crate::jacket::{self, Kind, Verdict};
use crate::mode::failure::Failure;
use crate::mode::pipeline::{self, Decision, Steps};
use crate::mode::{load_config, CONFIG_PATH};
use crate::parse::cli;
use crate::policy::config::{Config, Helper};
use crate::policy::env;
use crate::policy::request::{self, Request};
use crate::policy::verify::hex_sha256;
use crate::process::{self, Inherited};
use crate::root::{tty, users};
use crate::sys;
use opwire::sysexits::Exit;
use std::os::unix::ffi::OsStringExt;

/// What a run has gathered by the time it executes.
struct Context<'a> {
    log: &'a Log,
    req: &'a request::Run,
    cfg: &'a Config,
    config_path: &'a str,
    inherited: Inherited,
    started_ms: u64,
}

/// A grant request: `request` is argv as `parse::cli` read it (an unusable one is refused and
/// recorded once the log is open).
pub fn run(request: Result<Request, cli::Error>, mut rec: Record, inherited: Inherited, started_ms: u64) -> i32 {
    // --config is for root only: anyone else could point us at a policy of their own.
    let config_path = match &request {
        Ok(Request::Run(request::Run { config: Some(_), .. })) if process::caller().uid != 0 => {
            return Failure::error("usage", "--config is only accepted from root").refuse_unlogged(&mut rec)
        }
        Ok(Request::Run(request::Run { config: Some(p), .. })) => match String::from_utf8(p.clone()) {
            Ok(p) => p,
            Err(_) => return Failure::error("usage", "--config path is not valid UTF-8").refuse_unlogged(&mut rec),
        },
        _ => CONFIG_PATH.to_string(),
    };
    let cfg = match load_config(&config_path) {
        Ok(c) => c,
        Err(f) => return f.refuse_unlogged(&mut rec),
    };
    let log = match Log::open_with(&cfg.audit_log, cfg.syslog) {
        Ok(l) => l,
        Err(e) => return Failure::error("audit", format!("{e}; refusing to run anything")).report(),
    };
    let req = match request {
        Ok(Request::Run(r)) => r,
        Ok(_) => return Exit::Error.code(),
        Err(e) => return Failure::error("usage", format!("{e} (see escapes --help)")).refuse(&log, &mut rec),
    };
    rec.command(&req.argv);
    // As IdPs spell a grant's cmd_hash (argv joined with single spaces), prefixed like every
    // hash in the log: the record can be matched to the approval.
    rec.str("cmd_hash", format!("sha256:{}", hex_sha256(&req.argv.join(&b' '))));
    // A kill timer or a cap the caller set that escapes could not lift: refused before the
    // grant is even read, as soon as the refusal can be recorded.
    if let Some(limit) = inherited.unsafe_limit {
        return Failure::error("rlimit", limit.to_string()).refuse(&log, &mut rec);
    }
    let ctx = Context { log: &log, req: &req, cfg: &cfg, config_path: &config_path, inherited, started_ms };
    if req.check_only {
        return check(&ctx, &mut rec);
    }
    match pipeline::decide(&req, &cfg, &mut rec, &mut Steps::run()) {
        Ok(Some(decision)) => execute(&ctx, &mut rec, decision),
        Ok(None) => Failure::error("internal", "the decision ended without a verdict").refuse(&log, &mut rec),
        Err(f) => f.refuse(&log, &mut rec),
    }
}

/// `--check`: every step of the decision, one line each on stdout; nothing is consumed and
/// nothing runs. Exit 0 when the command would run, else the status a real run would give.
fn check(ctx: &Context<'_>, rec: &mut Record) -> i32 {
    let mut steps = Steps::check();
    let ended = pipeline::decide(ctx.req, ctx.cfg, rec, &mut steps);
    let (out, mut first) = steps.finish();
    if let Err(f) = ended {
        first.get_or_insert(f);
    }
    rec.str("event", "check");
    match &first {
        None => rec.str("result", "would_run"),
        Some(f) => rec.str("result", "would_refuse").str("error", f.code),
    };
    // The record first: a stdout nobody reads must not keep it from the log.
    let recorded = ctx.log.append(rec);
    let _ = sys::write_stdout(out.as_bytes());
    if let Err(e) = recorded {
        return Failure::error("audit", e.to_string()).report();
    }
    first.map_or(0, |f| f.exit.code())
}

/// Asks the helmets, arms the jackets, writes the durable "run" record, runs the program,
/// records how it ended.
fn execute(ctx: &Context<'_>, rec: &mut Record, decision: Decision) -> i32 {
    let Decision { grant_type, target, program } = decision;
    let (log, argv) = (ctx.log, &ctx.req.argv);
    rec.str("program", &program.path);
    rec.str("program_canonical", &program.canonical);
    rec.str("grant_type", grant_type.as_str());
    let user = &target.user;
    // Only what env::build may look at is copied: a huge environment costs escapes nothing more.
    let caller_env: Vec<(Vec<u8>, Vec<u8>)> =
        std::env::vars_os().take(env::MAX_CALLER_VARS).map(|(k, v)| (k.into_vec(), v.into_vec())).collect();
    let caller = process::caller();
    let target_env = env::Target {
        name: &user.name,
        home: &user.home,
        shell: &user.shell,
        caller_uid: caller.uid,
        caller_gid: caller.gid,
    };
    let mut envp = env::build(&caller_env, &target_env);

    // Helmets, in order, each seeing the resolved program and the edits of those before it.
    let helper_ctx = jacket::Context {
        config_path: ctx.config_path,
        run_as_arg: ctx.req.run_as.as_deref(),
        mnemonic: argv.first().map_or(&[][..], Vec::as_slice),
        program: &program.canonical,
        euid: target.identity.uid,
        egid: target.identity.gid,
        login: users::name_of(caller.uid).unwrap_or_else(|| format!("#{}", caller.uid).into_bytes()),
        facts: grant_facts(rec),
        caller_env: &caller_env,
        tty: tty::controlling(),
        argv,
        target_home: &user.home,
    };
    let applies = |h: &&Helper| h.applies_to(|e| program.is_named_by(e));
    let helmets: Vec<&Helper> = ctx.cfg.helmets.iter().filter(applies).collect();
    let jackets: Vec<&Helper> = ctx.cfg.jackets.iter().filter(applies).collect();
    if !helmets.is_empty() || !jackets.is_empty() {
        // Which clock each helper reads: its TZ param, else the system's; never the caller's.
        let system = jacket::system_zone();
        let zones = helmets.iter().map(|h| (Kind::Helmet, h)).chain(jackets.iter().map(|h| (Kind::Jacket, h)));
        let zones = zones
            .map(|(k, h)| [format!("{} {}: ", k.as_str(), h.path).as_bytes(), &jacket::zone_of(h, &system)].concat());
        rec.set("helpers_tz", Field::List(zones.collect()));
    }
    let refused = |kind: Kind, helper: &Helper, v: &Verdict| {
        Failure::new(v.exit(), kind.as_str(), format!("{} {}: {v}", kind.as_str(), helper.path))
    };
    // The audit record's `helpers` (each one's verdict) and `helper_env` (every variable one set).
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut set_env: Vec<Vec<u8>> = Vec::new();
    for helper in helmets {
        let (verdict, reply) = match jacket::arm(Kind::Helmet, helper, &helper_ctx, &envp) {
            Ok(armed) => jacket::helmet(&armed),
            Err(v) => (v, None),
        };
        let done = match (&verdict, reply) {
            (Verdict::Allow, Some(r)) => jacket::apply(&mut envp, &r.edits, &caller_env, &helper.env),
            _ => jacket::Applied::default(),
        };
        entries.push(jacket::audit_entry(Kind::Helmet, helper, &verdict, &done.refused));
        set_env.extend(done.set.iter().map(|e| jacket::helper_env_entry(Kind::Helmet, helper, e)));
        rec.set("helpers", Field::List(entries.clone()));
        if !set_env.is_empty() {
            rec.set("helper_env", Field::List(set_env.clone()));
        }
        if verdict != Verdict::Allow {
            return refused(Kind::Helmet, helper, &verdict).refuse(log, rec);
        }
    }

    let (Some(argv_c), Some(envp_c)) = (exec::cstrings(argv), exec::cstrings(&envp)) else {
        return Failure::error("exec", "argument or environment contains NUL").refuse(log, rec);
    };
    let Ok(path) = std::ffi::CString::new(program.canonical.clone()) else {
        return Failure::error("exec", "program path contains NUL").refuse(log, rec);
    };
    let mut armed = Vec::with_capacity(jackets.len());
    for helper in &jackets {
        match jacket::arm(Kind::Jacket, helper, &helper_ctx, &envp) {
            Ok(a) => armed.push(a),
            Err(v) => {
                entries.push(jacket::audit_entry(Kind::Jacket, helper, &v, &[]));
                rec.set("helpers", Field::List(entries.clone()));
                return refused(Kind::Jacket, helper, &v).refuse(log, rec);
            }
        }
    }
    let launch =
        Launch { program, path, argv: argv_c, envp: envp_c, identity: target.identity, inherited: ctx.inherited };

    rec.str("event", "run").str("result", "allowed");
    // Nothing is parsed from here on: the confined parsers end before the command starts.
    crate::confined::service::stop();
    let outcome = if armed.is_empty() {
        if let Err(f) = record_run(log, rec, &launch) {
            return f;
        }
        exec::run(&launch)
    } else {
        let mut release = |all: &[Vec<u8>], set: &[Vec<u8>]| -> bool {
            rec.set("helpers", Field::List(all.to_vec()));
            if !set.is_empty() {
                rec.set("helper_env", Field::List(set.to_vec()));
            }
            record_run(log, rec, &launch).is_ok()
        };
        let mut all = entries.clone();
        match jacket::run_jacketed(&launch, &armed, &envp, &caller_env, &mut all, &mut set_env, &mut release) {
            jacket::Ended::Ran { status, start } => start.map(|()| status),
            jacket::Ended::Aborted => return Exit::Error.code(),
            jacket::Ended::Refused { index, verdict } => {
                rec.set("helpers", Field::List(all));
                let shown = jackets.get(index).map_or("", |h| h.path.as_str());
                return Failure::new(verdict.exit(), "jacket", format!("jacket {shown}: {verdict}")).refuse(log, rec);
            }
        }
    };
    let duration = sys::monotonic_ms().saturating_sub(ctx.started_ms);
    let (secs, nanos) = sys::realtime();
    rec.str("timestamp", audit::rfc3339(secs, nanos));
    rec.int("duration_ms", i64::try_from(duration).unwrap_or(i64::MAX));
    let (code, failed) = match outcome {
        Ok(code) => {
            rec.str("event", "exit").str("result", "success").int("exit_code", i64::from(code));
            (code, None)
        }
        Err(e) => {
            let code = e.exit().code();
            rec.str("event", "exec_failed").str("result", "error").str("error", "exec").str("message", e.to_string());
            rec.int("exit_code", i64::from(code));
            (code, Some(e))
        }
    };
    // The record first, then the one stderr line (which may wait on a pipe nobody reads).
    let report = match (log.append_after_run(rec), failed) {
        (Ok(()), Some(e)) => Failure::new(e.exit(), "exec", e.to_string()),
        (Err(a), Some(e)) => Failure::new(e.exit(), "exec", format!("{e} (not recorded: {a})")),
        (Err(a), None) => Failure::error("audit", format!("{a} (the command has already run)")),
        (Ok(()), None) => return code,
    };
    report.report();
    code
}

/// Right before the command starts: the name the helpers judged still reaches the file that
/// will run, and the log durably holds the record that it is about to. `Err` carries the exit
/// status, the refusal recorded and reported.
fn record_run(log: &Log, rec: &mut Record, launch: &Launch) -> Result<(), i32> {
    if let Err(e) = launch.program.still_named() {
        return Err(Failure::new(e.exit(), "program_changed", e.to_string()).refuse(log, rec));
    }
    match log.append_before_run(rec) {
        Ok(()) => Ok(()),
        // `[audit] syslog_required = true` and the system logger did not take the record.
        Err(e @ audit::Error::Syslog(_)) => {
            Err(Failure::error("syslog_unavailable", format!("{e}; not running the command")).refuse(log, rec))
        }
        Err(e) => Err(Failure::error("audit", format!("{e}; not running the command")).report()),
    }
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
            Some(Field::Str(v)) => Some((var, v.clone())),
            _ => None,
        })
        .collect();
    // Helpers run fully root: the caller's ids are a fact they are told, not their own.
    let caller = process::caller();
    facts.push(("ESCAPES_CALLER_UID", caller.uid.to_string().into_bytes()));
    facts.push(("ESCAPES_CALLER_GID", caller.gid.to_string().into_bytes()));
    facts
}
