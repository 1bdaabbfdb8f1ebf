//! coat: several helpers as one. `COAT=/path/one:/path/two` (`:` or `,` between absolute paths)
//! runs each in turn with the same argv (and `-P` in jacket mode) and the environment as edited
//! by the ones before it; all must allow. Each inner reply is parsed with the strict rules
//! (a protocol error is final), its edits are applied for the next helper and relayed to our
//! caller, and the first refusal ends the chain with that helper's code.
//!
//! Helmet mode: an inner helper passes when it replied 0 (or nothing) *and* exited 0.
//! Jacket mode (`-P`): an inner jacket passes when it replied 0 and has not exited non-zero;
//! jackets still running are kept until the command ends, then sent SIGTERM (SIGKILL after
//! `COAT_STALL`), since only coat, the command's parent, can wait for it.
//!
//! `COAT_STALL=seconds` (1–3600, default 10) bounds the whole chain's replies; `COAT_WARN`,
//! `COAT_REVEAL` as usual. Inner helpers must be root's and not group/world-writable, get
//! /dev/null on stdin and our stderr, lead their own process group (killed as a group when they
//! fail or time out), and die with coat (PR_SET_PDEATHSIG).

use crate::env::Env;
use crate::helper::Verdict;
use crate::invocation::Invocation;
use crate::params::{ParamError, Params};
use crate::program::{ended, kill};
use crate::sys::{self, Ended};
use crate::trusted::{self, TrustError};
use opwire::reply::parse::{ErrorKind, Line};
use opwire::reply::relay::{self, Relayed};
use opwire::reply::Edit;
use opwire::sysexits::{EX_OSERR, EX_PROTOCOL, EX_SOFTWARE, EX_TEMPFAIL, EX_UNAVAILABLE};
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const COAT: &str = "COAT";
pub const STALL: &str = "COAT_STALL";
/// Most helpers in one coat.
pub const MAX_HELPERS: usize = 32;
/// Largest reply read from one inner helper.
pub const MAX_REPLY: usize = 64 * 1024;
pub const DEFAULT_STALL: Duration = Duration::from_secs(10);

/// coat's own parameters: `COAT` and `COAT_…`.
pub fn is_own(name: &[u8]) -> bool {
    name == COAT.as_bytes() || name.starts_with(b"COAT_")
}

/// Why `COAT` is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    Empty,
    /// Entry (1-based) that is empty, or neither an absolute path nor (when coat knows its own
    /// directory) a helper name.
    NotAbsolute {
        entry: usize,
    },
    TooMany,
    /// Entry (1-based) is a helper name, but no such helper is installed beside coat.
    NoSuchHelper {
        entry: usize,
        path: PathBuf,
    },
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::Empty => write!(f, "{COAT} lists no helper"),
            ListError::NotAbsolute { entry } => {
                write!(f, "{COAT}: entry {entry} is neither an absolute path nor the name of a helper beside coat")
            }
            ListError::TooMany => write!(f, "{COAT} lists more than {MAX_HELPERS} helpers"),
            ListError::NoSuchHelper { entry, path } => {
                write!(f, "{COAT}: entry {entry} names no helper beside coat ({} does not exist)", path.display())
            }
        }
    }
}

/// Parses a helper list of absolute paths.
pub fn parse_list(s: &[u8]) -> Result<Vec<PathBuf>, ListError> {
    parse_list_beside(s, None)
}

/// A helper name: what op-jacket(7l)'s `COAT=stamp,xdisplay` lists.
fn is_helper_name(p: &[u8]) -> bool {
    !p.is_empty() && p != b"." && p != b".." && p.iter().all(|c| c.is_ascii_alphanumeric() || b"._+-".contains(c))
}

/// Parses a helper list whose entries are absolute paths or, given `siblings` (the directory
/// coat itself was run from), bare helper names such as `stamp`, which name the helper of that
/// name in that directory (the page's `COAT=stamp,xdisplay`).
pub fn parse_list_beside(s: &[u8], siblings: Option<&Path>) -> Result<Vec<PathBuf>, ListError> {
    if s.is_empty() {
        return Err(ListError::Empty);
    }
    let paths = s
        .split(|&c| c == b':' || c == b',')
        .enumerate()
        .map(|(i, p)| match siblings {
            _ if p.first() == Some(&b'/') => Ok(PathBuf::from(OsStr::from_bytes(p))),
            Some(dir) if is_helper_name(p) => Ok(dir.join(OsStr::from_bytes(p))),
            _ => Err(ListError::NotAbsolute { entry: i + 1 }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if paths.len() > MAX_HELPERS {
        return Err(ListError::TooMany);
    }
    Ok(paths)
}

/// What coat runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub helpers: Vec<PathBuf>,
    pub stall: Duration,
}

/// Why coat's parameters are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Param(ParamError),
    List(ListError),
    /// `COAT_STALL` not whole seconds in 1–3600.
    BadStall,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Param(e) => e.fmt(f),
            ConfigError::List(e) => e.fmt(f),
            ConfigError::BadStall => write!(f, "{STALL} must be whole seconds, 1-3600"),
        }
    }
}

/// The directory coat was run from, if it was run by absolute path (op and escapes always run
/// helpers so): bare names in `COAT` are looked up there.
pub fn own_directory() -> Option<PathBuf> {
    let argv0 = PathBuf::from(std::env::args_os().next()?);
    argv0.is_absolute().then(|| argv0.parent().map(Path::to_path_buf)).flatten()
}

/// The chain and its time limit, from coat's parameters (absolute helper paths only).
pub fn config(params: &Params) -> Result<Config, ConfigError> {
    config_beside(params, None)
}

/// The chain and its time limit; bare helper names resolve in `siblings`.
pub fn config_beside(params: &Params, siblings: Option<&Path>) -> Result<Config, ConfigError> {
    params.only(&[COAT, STALL, "COAT_WARN", "COAT_REVEAL"], &[]).map_err(ConfigError::Param)?;
    let list = params.get(COAT).ok_or(ConfigError::Param(ParamError::Missing(COAT)))?;
    let helpers = parse_list_beside(list, siblings).map_err(ConfigError::List)?;
    // A name that finds nothing is a misconfiguration (78), like any other bad entry; a missing
    // absolute path is left to the run (66), as before.
    let named = list.split(|&c| c == b':' || c == b',').map(|p| p.first() != Some(&b'/'));
    for (i, (path, named)) in helpers.iter().zip(named).enumerate() {
        if named && std::fs::symlink_metadata(path).is_err() {
            return Err(ConfigError::List(ListError::NoSuchHelper { entry: i + 1, path: path.clone() }));
        }
    }
    let stall = match params.get(STALL) {
        None => DEFAULT_STALL,
        Some(v) => match crate::invocation::decimal_u32(v) {
            Some(n @ 1..=3600) => Duration::from_secs(u64::from(n)),
            _ => return Err(ConfigError::BadStall),
        },
    };
    Ok(Config { helpers, stall })
}

/// Why the chain stopped.
#[derive(Debug)]
pub enum Failure {
    Untrusted(PathBuf, TrustError),
    Spawn(PathBuf, io::Error),
    Timeout(PathBuf),
    TooLong(PathBuf),
    Protocol(PathBuf, usize, ErrorKind),
    /// The helper replied this non-zero code.
    Denied(PathBuf, u8),
    /// The helper replied 0 (or nothing) but ended badly.
    Ended(PathBuf, Ended),
    Wait(PathBuf, io::Error),
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Untrusted(_, e) => trusted::exit_code(e),
            Failure::Spawn(..) => EX_UNAVAILABLE,
            Failure::Timeout(_) => EX_TEMPFAIL,
            Failure::TooLong(_) | Failure::Protocol(..) => EX_PROTOCOL,
            Failure::Denied(_, c) => *c,
            Failure::Ended(_, Ended::Exited(c)) => *c,
            Failure::Ended(_, Ended::Signaled(_)) => EX_SOFTWARE,
            Failure::Wait(..) => EX_OSERR,
        }
    }

    /// An inner helper's own denial was already explained by that helper: coat adds only its
    /// `COAT_WARN`, if set. Anything coat found itself gets a reason and the usual warning.
    pub fn verdict(&self, params: &Params) -> Verdict {
        match self {
            Failure::Denied(..) => Verdict::Deny {
                code: self.code(),
                warn: params.get("COAT_WARN").is_none().then(Vec::new),
                reason: None,
            },
            _ => Verdict::refuse(self.code(), self.to_string()),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Untrusted(p, e) => write!(f, "{}: {e}", p.display()),
            Failure::Spawn(p, e) => write!(f, "{}: cannot run: {e}", p.display()),
            Failure::Timeout(p) => write!(f, "{}: no verdict in time", p.display()),
            Failure::TooLong(p) => {
                write!(f, "{}: reply longer than {MAX_REPLY} bytes", p.display())
            }
            Failure::Protocol(p, line, e) => write!(f, "{}: reply line {line}: {e}", p.display()),
            Failure::Denied(p, c) => write!(f, "{}: denied with {c}", p.display()),
            Failure::Ended(p, Ended::Exited(c)) => write!(f, "{}: exited {c}", p.display()),
            Failure::Ended(p, Ended::Signaled(s)) => {
                write!(f, "{}: killed by signal {s}", p.display())
            }
            Failure::Wait(p, e) => write!(f, "{}: wait: {e}", p.display()),
        }
    }
}

/// A passed chain: reply lines to relay, and jackets still running (jacket mode).
#[derive(Debug)]
pub struct Passed {
    pub relay: Vec<Vec<u8>>,
    pub jackets: Vec<Child>,
}

enum Read_ {
    Done(Vec<u8>),
    TooLong,
    Failed,
}

/// Asks running jackets to stop, gives them `grace`, then kills and reaps them.
pub fn dismiss(jackets: &mut Vec<Child>, grace: Duration) {
    for j in jackets.iter_mut() {
        if matches!(j.try_wait(), Ok(None)) {
            if let Ok(pid) = i32::try_from(j.id()) {
                let _ = sys::signal(-pid, libc::SIGTERM);
            }
        }
    }
    let deadline = Instant::now() + grace;
    for j in jackets.iter_mut() {
        while matches!(j.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        kill(j);
    }
    jackets.clear();
}

/// Applies an inner helper's edit to the environment the next helper will see. `$NAME` copies
/// need the client's original environment, which coat does not have: they change nothing here
/// (op or escapes applies them when the relayed line reaches it).
pub fn apply(env: &mut Env, edit: &Edit) {
    match edit {
        Edit::Set { name, value } => env.set(name, value),
        Edit::Remove { name } => env.remove(name),
        Edit::Reveal { prefix } => env.reveal(prefix),
        Edit::Copy { .. } => {}
    }
}

/// Runs the chain. `env` is the environment without coat's own parameters.
pub fn run(config: &Config, invocation: &Invocation, mut env: Env) -> Result<Passed, Failure> {
    let deadline = Instant::now() + config.stall;
    let mut passed = Passed { relay: Vec::new(), jackets: Vec::new() };
    for path in &config.helpers {
        match run_one(path, invocation, &env, deadline) {
            Ok((parsed, child)) => {
                for (text, line) in parsed.lines {
                    if let Line::Edit(edit) = &line {
                        apply(&mut env, edit);
                    }
                    passed.relay.push(text);
                }
                passed.jackets.extend(child);
            }
            Err(f) => {
                dismiss(&mut passed.jackets, config.stall);
                return Err(f);
            }
        }
    }
    Ok(passed)
}

fn run_one(
    path: &PathBuf,
    inv: &Invocation,
    env: &Env,
    deadline: Instant,
) -> Result<(Relayed, Option<Child>), Failure> {
    trusted::open(path).map_err(|e| Failure::Untrusted(path.clone(), e))?;
    let mut cmd = Command::new(path);
    cmd.args(inv.to_args().iter().map(|a| OsStr::from_bytes(a)))
        .env_clear()
        .envs(env.entries().iter().map(|(k, v)| (OsStr::from_bytes(k), OsStr::from_bytes(v))))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0);
    sys::kill_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| Failure::Spawn(path.clone(), e))?;
    let Some(mut out) = child.stdout.take() else {
        kill(&mut child);
        return Err(Failure::Spawn(path.clone(), io::Error::other("no stdout pipe")));
    };
    // A thread reads so the wait can time out even if a descendant keeps the pipe open.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = match (&mut out).take(MAX_REPLY as u64 + 1).read_to_end(&mut buf) {
            Ok(_) if buf.len() > MAX_REPLY => Read_::TooLong,
            Ok(_) => Read_::Done(buf),
            Err(_) => Read_::Failed,
        };
        let _ = tx.send(r);
    });
    let bytes = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Read_::Done(b)) => b,
        Ok(Read_::TooLong) => {
            kill(&mut child);
            return Err(Failure::TooLong(path.clone()));
        }
        Ok(Read_::Failed) => {
            kill(&mut child);
            return Err(Failure::Wait(path.clone(), io::Error::other("reading the reply failed")));
        }
        Err(_) => {
            kill(&mut child);
            return Err(Failure::Timeout(path.clone()));
        }
    };
    let parsed = match relay::parse_relayed(&bytes) {
        Ok(p) => p,
        Err(e) => {
            kill(&mut child);
            return Err(Failure::Protocol(path.clone(), e.line, e.kind));
        }
    };
    if let Some(code @ 1..) = parsed.code {
        kill(&mut child);
        return Err(Failure::Denied(path.clone(), code));
    }
    if inv.pid.is_some() {
        return match child.try_wait() {
            Ok(None) => Ok((parsed, Some(child))),
            Ok(Some(s)) if s.success() => Ok((parsed, None)),
            Ok(Some(s)) => Err(Failure::Ended(path.clone(), ended(s))),
            Err(e) => Err(Failure::Wait(path.clone(), e)),
        };
    }
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok((parsed, None)),
            Ok(Some(s)) => return Err(Failure::Ended(path.clone(), ended(s))),
            Ok(None) if Instant::now() >= deadline => {
                kill(&mut child);
                return Err(Failure::Timeout(path.clone()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Failure::Wait(path.clone(), e)),
        }
    }
}

// ---------------------------------------------------------------- the coat program

/// What `coat -h`, `-H` and `-V` say, and its standard suffixes.
pub const HELPER: crate::helper::Helper = crate::helper::Helper {
    name: "coat",
    about: "Runs each helper listed in COAT in turn with the same argv and the environment as edited\n\
            by the ones before it; allows only if all allow. With -P it is a jacket: inner jackets\n\
            get -P too, and coat waits for the command and then stops them.",
    reads: &["COAT", "COAT_STALL", "COAT_WARN", "COAT_REVEAL"],
    grammar: &[
        ("COAT", "helper[:helper]*  (',' also separates; an absolute path, or a name such as stamp for the helper beside coat; root's, not group/world-writable)"),
        ("COAT_STALL", "seconds the whole chain may take to answer, 1-3600 (default 10)"),
        ("COAT_WARN", "text printed on stderr when refused"),
        ("COAT_REVEAL", "prefix: reply ~prefix after the inner replies and the removal of COAT parameters"),
    ],
    warn_var: "COAT_WARN",
    reveal_var: "COAT_REVEAL",
};

/// The coat program: run the helpers listed in COAT in turn; all must allow.
pub fn main() -> ! {
    use crate::coat;
    use crate::env::Env;
    use crate::helper::{self, Verdict};
    use std::io::Write;
    let s = match helper::setup(&HELPER, &helper::args(), Env::from_process(), coat::is_own) {
        Ok(Ok(s)) => s,
        Ok(Err(request)) => {
            let _ = std::io::stdout().write_all(helper::describe(&HELPER, &request).as_bytes());
            std::process::exit(0)
        }
        Err((verdict, params)) => helper::finish(&HELPER, None, &params, &verdict),
    };
    let (verdict, mut jackets, stall) = match coat::config_beside(&s.params, coat::own_directory().as_deref()) {
        Err(e) => (Verdict::config(e), Vec::new(), coat::DEFAULT_STALL),
        Ok(cfg) => match coat::run(&cfg, &s.invocation, s.env.clone()) {
            Ok(p) => (Verdict::Allow { relay: p.relay }, p.jackets, cfg.stall),
            Err(f) => (f.verdict(&s.params), Vec::new(), cfg.stall),
        },
    };
    let mut code = helper::deliver(&HELPER, &s.params, &verdict);
    if let Some(pid) = s.invocation.pid {
        code = helper::release_and_wait(pid, code);
    }
    coat::dismiss(&mut jackets, stall);
    std::process::exit(i32::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_edits_in_order() {
        let mut env = Env::from_pairs(&[("A", "1"), ("J_COAT", "/x")]);
        for (_, line) in relay::parse_relayed(b"$B=2\n-A\n~J_\n$HOME\n").unwrap().lines {
            if let Line::Edit(e) = line {
                apply(&mut env, &e);
            }
        }
        assert_eq!(env, Env::from_pairs(&[("B", "2"), ("COAT", "/x")]));
    }

    #[test]
    fn parses_helper_lists() {
        assert_eq!(parse_list(b"/a:/b,/c").unwrap().len(), 3);
        assert_eq!(parse_list(b""), Err(ListError::Empty));
        assert_eq!(parse_list(b"/a::/b"), Err(ListError::NotAbsolute { entry: 2 }));
        assert_eq!(parse_list(b"/a:b"), Err(ListError::NotAbsolute { entry: 2 }));
        assert_eq!(parse_list(b"/a:"), Err(ListError::NotAbsolute { entry: 2 }));
        assert_eq!(parse_list("/a:".repeat(40).trim_end_matches(':').as_bytes()), Err(ListError::TooMany));
    }

    #[test]
    fn bare_names_are_helpers_beside_coat() {
        let dir = Path::new("/usr/local/libexec/jacket");
        assert_eq!(parse_list_beside(b"stamp,xdisplay", Some(dir)).unwrap(), [dir.join("stamp"), dir.join("xdisplay")]);
        assert_eq!(
            parse_list_beside(b"/opt/x:proxy-agent", Some(dir)).unwrap(),
            [PathBuf::from("/opt/x"), dir.join("proxy-agent")]
        );
        assert_eq!(parse_list(b"stamp,xdisplay"), Err(ListError::NotAbsolute { entry: 1 }));
        for bad in [&b"../stamp"[..], b"a/b", b"..", b".", b"st amp", b"x,"] {
            assert!(parse_list_beside(bad, Some(dir)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn own_parameters_are_coat_and_coat_underscore() {
        assert!(is_own(b"COAT"));
        assert!(is_own(b"COAT_REVEAL"));
        assert!(!is_own(b"COATING"));
        assert!(!is_own(b"J_COAT"));
    }
}
