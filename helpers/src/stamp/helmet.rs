//! The `stamp` helper: allow only while every `STAMP_SPEC*` names a live stamp whose tableau
//! passes the spec's checks and whose holder, asked last, answers `y`.
//!
//! Verdict order for each spec (§4.7), in byte order of the variable names: nothing at the path
//! → deny; a plain file → deny and print its text on stderr (not `STAMP_WARN`); a socket with no
//! holder, or one that does not answer within `client::ANSWER_DEADLINE` (for all specs
//! together) → deny; query the
//! entries the checks and `STAMP_SET<n>` need → deny on the first failing check; then, once every
//! spec's checks passed, ask each holder for its status on the same connection that answered
//! the queries: anything but `y` denies. A directory on the way that is not root's, is
//! group/world-writable or is a symlink is refused with a reason. As a jacket (`-P pid`) it then
//! keeps the alphabetically last spec's idle timer fresh while the command runs.

use super::client::{self, ConnError, Located};
use super::path::{self, PathError, StampPath};
use super::spec::{self, Spec, SpecError};
use super::wire::{Reply, Request};
use super::ROOT;
use crate::env::Env;
use crate::helper::{self, Helper, Verdict};
use crate::params::{ParamError, Params};
use crate::sys;
use opwire::reply::is_name;
use opwire::sysexits::{EX_IOERR, EX_NOPERM, EX_SOFTWARE};
use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

pub const FACILITY: &str = "STAMP_FACILITY";
pub const SPEC: &str = "STAMP_SPEC";
pub const SET: &str = "STAMP_SET";
pub const WARN: &str = "STAMP_WARN";
pub const REVEAL: &str = "STAMP_REVEAL";
/// Most specs one rule may list.
pub const MAX_SPECS: usize = 32;
/// §4.7's default warning.
pub const DEFAULT_WARN: &[u8] = b"Sorry.";

pub const STAMP: Helper = Helper {
    name: "stamp",
    about: "Allows the command only while every STAMP_SPEC* names a live stamp (made by stampctl -M)\n\
            whose tableau passes the spec's checks and whose holder answers y. As a jacket (-P) it\n\
            keeps the idle timer of the alphabetically last spec fresh while the command runs.",
    reads: &[
        "STAMP_FACILITY",
        "STAMP_SPEC<n>",
        "STAMP_SET<n>",
        "STAMP_WARN<n>",
        "STAMP_WARN",
        "STAMP_REVEAL",
    ],
    grammar: &[
        ("STAMP_FACILITY", ". | dir[/dir]* | absolute path under the stamp root  (default .: the root)"),
        ("STAMP_SPEC<n>", "stamp[:check]*  stamp: name[/name]* under the facility (no . or ..); check: NAME | NAME=v | NAME!v | NAME(< <= > >= == !=)int[text] | NAME=~RE | NAME!~RE; all specs must pass"),
        ("STAMP_SET<n>", "NAME[:NAME]*  tableau entries of STAMP_SPEC<n> copied into the command's environment when present"),
        ("STAMP_WARN<n>", "text printed when STAMP_SPEC<n> refuses (instead of STAMP_WARN)"),
        ("STAMP_WARN", "text printed on stderr when refused (default Sorry.; not for a lock file)"),
        ("STAMP_REVEAL", "prefix: reply ~prefix after removing the STAMP_ parameters"),
    ],
    warn_var: WARN,
    reveal_var: REVEAL,
};

/// One spec with everything that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `STAMP_SPEC<n>`, for messages.
    pub var: String,
    pub spec: Spec,
    pub path: StampPath,
    /// `STAMP_SET<n>`: entries to copy into the environment.
    pub set: Vec<Vec<u8>>,
    /// `STAMP_WARN<n>`, else `STAMP_WARN`.
    pub warn: Option<Vec<u8>>,
}

/// The parsed parameters: rules in byte order of their variable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub rules: Vec<Rule>,
}

/// Why `STAMP_SET` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetError {
    Empty,
    /// Element (1-based) that is not a name of at most 64 bytes.
    BadName(usize),
    /// Element (1-based) that names a STAMP_ variable: the reply deletes those.
    OwnName(usize),
}

/// Why the parameters are refused (exit 78).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Param(ParamError),
    NoSpec,
    TooManySpecs,
    Facility(PathError),
    Spec {
        var: String,
        error: SpecError,
    },
    Stamp {
        var: String,
        error: PathError,
    },
    Set {
        var: String,
        error: SetError,
    },
    /// `STAMP_SET<n>` or `STAMP_WARN<n>` without its `STAMP_SPEC<n>`.
    Orphan(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Param(e) => e.fmt(f),
            ConfigError::NoSpec => f.write_str("no STAMP_SPEC parameter"),
            ConfigError::TooManySpecs => write!(f, "more than {MAX_SPECS} STAMP_SPEC parameters"),
            ConfigError::Facility(e) => write!(f, "{FACILITY}: {e}"),
            ConfigError::Spec { var, error } => write!(f, "{var}: {error}"),
            ConfigError::Stamp { var, error } => write!(f, "{var}: stamp name: {error}"),
            ConfigError::Set { var, error } => match error {
                SetError::Empty => write!(f, "{var} is empty"),
                SetError::BadName(i) => write!(f, "{var}: entry {i} is not a variable name"),
                SetError::OwnName(i) => {
                    write!(f, "{var}: entry {i} names a STAMP_ variable")
                }
            },
            ConfigError::Orphan(v) => write!(f, "{v} has no matching STAMP_SPEC"),
        }
    }
}

/// `NAME[:NAME]*`.
pub fn parse_set(s: &[u8]) -> Result<Vec<Vec<u8>>, SetError> {
    if s.is_empty() {
        return Err(SetError::Empty);
    }
    let mut out = Vec::new();
    for (i, n) in s.split(|&b| b == b':').enumerate() {
        if !is_name(n) || n.len() > spec::MAX_NAME {
            return Err(SetError::BadName(i + 1));
        }
        if n.starts_with(b"STAMP_") {
            return Err(SetError::OwnName(i + 1));
        }
        if !out.iter().any(|o: &Vec<u8>| o == n) {
            out.push(n.to_vec());
        }
    }
    Ok(out)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads the parameters (already taken out of the environment).
pub fn config(params: &Params, root: &str) -> Result<Config, ConfigError> {
    let root_b = root.as_bytes();
    let facility = match params.get(FACILITY) {
        None => Vec::new(),
        Some(f) => path::parse_facility(f, root_b).map_err(ConfigError::Facility)?,
    };
    let mut specs: Vec<(&[u8], &[u8])> = Vec::new();
    for (name, value) in params.iter() {
        if let Some(sfx) = name.strip_prefix(SPEC.as_bytes()) {
            specs.push((sfx, value));
            continue;
        }
        let known = name.starts_with(SET.as_bytes())
            || name.starts_with(WARN.as_bytes())
            || name == FACILITY.as_bytes()
            || name == REVEAL.as_bytes();
        if !known {
            return Err(ConfigError::Param(ParamError::Unknown(lossy(name))));
        }
    }
    if specs.is_empty() {
        return Err(ConfigError::NoSpec);
    }
    if specs.len() > MAX_SPECS {
        return Err(ConfigError::TooManySpecs);
    }
    // Every STAMP_SET<n> and STAMP_WARN<n> (n non-empty) belongs to a STAMP_SPEC<n>.
    for name in params.names() {
        let sfx =
            name.strip_prefix(SET.as_bytes()).or_else(|| name.strip_prefix(WARN.as_bytes()).filter(|s| !s.is_empty()));
        if let Some(sfx) = sfx {
            if !specs.iter().any(|(s, _)| *s == sfx) {
                return Err(ConfigError::Orphan(lossy(name)));
            }
        }
    }
    specs.sort();
    let mut rules = Vec::new();
    for (sfx, value) in specs {
        let var = format!("{SPEC}{}", lossy(sfx));
        let spec = spec::parse(value, root_b).map_err(|error| ConfigError::Spec { var: var.clone(), error })?;
        let path = StampPath::parse(&spec.stamp, &facility, root_b)
            .map_err(|error| ConfigError::Stamp { var: var.clone(), error })?;
        let set_var = [SET.as_bytes(), sfx].concat();
        let set = match params.iter().find(|(k, _)| *k == set_var.as_slice()) {
            None => Vec::new(),
            Some((_, v)) => parse_set(v).map_err(|error| ConfigError::Set { var: lossy(&set_var), error })?,
        };
        let warn_var = [WARN.as_bytes(), sfx].concat();
        let warn = params
            .iter()
            .find(|(k, _)| *k == warn_var.as_slice())
            .or_else(|| params.iter().find(|(k, _)| *k == WARN.as_bytes()))
            .map(|(_, v)| v.to_vec());
        rules.push(Rule { var, spec, path, set, warn });
    }
    Ok(Config { rules })
}

/// A denial by `rule`: its warning (or the default).
fn deny(rule: &Rule, reason: Option<String>) -> Verdict {
    Verdict::Deny { code: EX_NOPERM, warn: Some(rule.warn.clone().unwrap_or_else(|| DEFAULT_WARN.to_vec())), reason }
}

/// The judgement, and the text of a lock file that denied (printed instead of the warning).
#[derive(Debug)]
pub struct Judged {
    pub verdict: Verdict,
    pub lock: Option<Vec<u8>>,
}

/// Asks every stamp; `root` is the stamp root's components. All of them together get
/// `client::ANSWER_DEADLINE` to accept and answer.
pub fn judge(config: &Config, root: &[Vec<u8>]) -> Judged {
    let plain = |verdict| Judged { verdict, lock: None };
    let deadline = Instant::now() + client::ANSWER_DEADLINE;
    let mut open = Vec::new();
    for rule in &config.rules {
        let shown = rule.path.display(ROOT);
        let socket = match client::locate(root, &rule.path) {
            Ok(Located::Nothing) => return plain(deny(rule, None)),
            Ok(Located::Lock(text)) => {
                return Judged {
                    verdict: Verdict::Deny { code: EX_NOPERM, warn: Some(Vec::new()), reason: None },
                    lock: Some(text),
                }
            }
            Ok(Located::Other(kind)) => return plain(deny(rule, Some(format!("{shown} is {kind}, not a stamp")))),
            Ok(Located::Socket(s)) => s,
            Err(e) => return plain(deny(rule, Some(format!("{}: {e}", rule.var)))),
        };
        let mut conn = match socket.connect(deadline) {
            Ok(c) => c,
            Err(e @ (ConnError::Io(_) | ConnError::NotRoot(_))) => {
                return plain(deny(rule, Some(format!("{shown}: {e}"))));
            }
            Err(_) => return plain(deny(rule, None)),
        };
        let mut names: Vec<&[u8]> = rule.spec.names();
        for n in &rule.set {
            if !names.contains(&n.as_slice()) {
                names.push(n);
            }
        }
        let mut values: Vec<(&[u8], Option<Vec<u8>>)> = Vec::new();
        for n in names {
            match conn.ask(&Request::Query(n.to_vec())) {
                Ok(Reply::Value(v)) => values.push((n, Some(v))),
                Ok(Reply::Absent) => values.push((n, None)),
                Ok(_) => {
                    return plain(deny(rule, Some(format!("{shown}: unexpected answer"))));
                }
                Err(e @ (ConnError::Protocol(_) | ConnError::Io(_))) => {
                    return plain(deny(rule, Some(format!("{shown}: {e}"))));
                }
                Err(_) => return plain(deny(rule, None)),
            }
        }
        let value_of = |n: &[u8]| values.iter().find(|(k, _)| *k == n).and_then(|(_, v)| v.as_deref());
        if !rule.spec.checks.iter().all(|c| c.passes(value_of(&c.name))) {
            return plain(deny(rule, None));
        }
        let relay: Vec<Vec<u8>> =
            rule.set.iter().filter_map(|n| value_of(n).map(|v| [b"$".as_slice(), n, b"=", v].concat())).collect();
        open.push((rule, conn, relay));
    }
    // Status last, on the connections that answered the checks: the holder that said the
    // tableau was right is the one that says y.
    let mut relay = Vec::new();
    for (rule, mut conn, lines) in open {
        match conn.ask(&Request::Status) {
            Ok(Reply::Yes) => relay.extend(lines),
            Ok(_) => return plain(deny(rule, None)),
            Err(e @ (ConnError::Protocol(_) | ConnError::Io(_))) => {
                let shown = rule.path.display(ROOT);
                return plain(deny(rule, Some(format!("{shown}: {e}"))));
            }
            Err(_) => return plain(deny(rule, None)),
        }
    }
    plain(Verdict::Allow { relay })
}

/// A lock file's text for stderr: lines kept, other control bytes shown as `?`.
pub fn lock_text(text: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> =
        text.iter().map(|&c| if c.is_ascii_control() && c != b'\n' && c != b'\t' { b'?' } else { c }).collect();
    if out.last().is_some_and(|&c| c != b'\n') {
        out.push(b'\n');
    }
    out
}

/// One refresh of `path`'s idle timer; its idle timeout if it has one.
fn refresh(root: &[Vec<u8>], path: &StampPath) -> Option<Duration> {
    let Ok(Located::Socket(s)) = client::locate(root, path) else {
        return None;
    };
    let mut conn = s.connect(Instant::now() + client::ANSWER_DEADLINE).ok()?;
    match conn.ask(&Request::Refresh(0)) {
        Ok(Reply::Ok { idle_secs }) if idle_secs > 0 => Some(Duration::from_secs(idle_secs)),
        _ => None,
    }
}

/// How often a jacket refreshes a stamp whose idle timeout is `idle`.
pub fn refresh_interval(idle: Duration) -> Duration {
    (idle / 3).clamp(Duration::from_millis(100), Duration::from_secs(60))
}

/// Jacket mode after an allow: release the command, refresh `path` while it runs, exit with
/// its status.
fn keep_fresh(pid: i32, root: &[Vec<u8>], path: &StampPath) -> u8 {
    if sys::release_stdout().is_err() {
        return EX_IOERR;
    }
    let mut next = Some(Instant::now());
    loop {
        let Some(at) = next else {
            return sys::wait_pid(pid).map_or(0, |e| e.exit_code());
        };
        match sys::wait_pid_timeout(pid, at.saturating_duration_since(Instant::now())) {
            Ok(Some(ended)) => return ended.exit_code(),
            Ok(None) => {}
            // Not our child: our own verdict stands.
            Err(_) => return 0,
        }
        next = refresh(root, path).map(|idle| Instant::now() + refresh_interval(idle));
    }
}

/// The whole life of the stamp helper.
pub fn main() -> ! {
    if sys::ensure_std_fds().is_err() {
        std::process::exit(i32::from(opwire::sysexits::EX_OSERR));
    }
    let s = match helper::setup(&STAMP, &helper::args(), Env::from_process(), Params::prefixed("STAMP_")) {
        Ok(Ok(s)) => s,
        Ok(Err(request)) => {
            let mut text = helper::describe(&STAMP, &request);
            if request == crate::invocation::Request::Version {
                text.push_str(&format!("stamp: stamp root {ROOT}\n"));
            }
            let _ = std::io::stdout().write_all(text.as_bytes());
            std::process::exit(0)
        }
        Err((verdict, params)) => helper::finish(&STAMP, None, &params, &verdict),
    };
    let root = match super::root_components() {
        Ok(r) => r,
        Err(e) => {
            let v = Verdict::refuse(EX_SOFTWARE, format!("compiled-in stamp root {ROOT}: {e}"));
            helper::finish(&STAMP, s.invocation.pid, &s.params, &v)
        }
    };
    let (verdict, refreshed) = match config(&s.params, ROOT) {
        Err(e) => (Verdict::config(e), None),
        Ok(cfg) => {
            let judged = judge(&cfg, &root);
            if let Some(text) = judged.lock {
                let _ = std::io::stderr().write_all(&lock_text(&text));
            }
            (judged.verdict, cfg.rules.last().map(|r| r.path.clone()))
        }
    };
    let mut code = helper::deliver(&STAMP, &s.params, &verdict);
    if let Some(pid) = s.invocation.pid {
        code = match (&verdict, refreshed) {
            (Verdict::Allow { .. }, Some(path)) if code == 0 => keep_fresh(pid, &root, &path),
            _ => helper::release_and_wait(pid, code),
        };
    }
    std::process::exit(i32::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(p: &[(&str, &str)]) -> Params {
        let mut env = Env::from_pairs(p);
        Params::take(&mut env, Params::prefixed("STAMP_")).unwrap()
    }

    fn cfg(p: &[(&str, &str)]) -> Result<Config, ConfigError> {
        config(&params(p), "/run/escapes/stamp")
    }

    #[test]
    fn specs_are_ordered_and_paired_with_their_set_and_warn() {
        let c = cfg(&[
            ("STAMP_SPEC_2", "qm/42"),
            ("STAMP_SPEC_1", "ops/42"),
            ("STAMP_SET_1", "Who:Where"),
            ("STAMP_WARN_2", "need qm"),
            ("STAMP_WARN", "need both"),
            ("STAMP_FACILITY", "mgr"),
        ])
        .unwrap();
        let vars: Vec<_> = c.rules.iter().map(|r| r.var.as_str()).collect();
        assert_eq!(vars, ["STAMP_SPEC_1", "STAMP_SPEC_2"]);
        assert_eq!(c.rules[0].path.display("/r"), "/r/mgr/ops/42");
        assert_eq!(c.rules[0].set, vec![b"Who".to_vec(), b"Where".to_vec()]);
        assert_eq!(c.rules[0].warn.as_deref(), Some(b"need both".as_slice()));
        assert_eq!(c.rules[1].warn.as_deref(), Some(b"need qm".as_slice()));
        assert!(c.rules[1].set.is_empty());
    }

    #[test]
    fn set_and_warn_belong_to_a_spec() {
        assert_eq!(cfg(&[("STAMP_SPEC", "a"), ("STAMP_SET_1", "X")]), Err(ConfigError::Orphan("STAMP_SET_1".into())));
        assert_eq!(cfg(&[("STAMP_SPEC", "a"), ("STAMP_WARN_1", "X")]), Err(ConfigError::Orphan("STAMP_WARN_1".into())));
        assert!(cfg(&[("STAMP_SPEC", "a"), ("STAMP_SET", "X")]).is_ok());
    }

    #[test]
    fn refuses_bad_parameters() {
        assert_eq!(cfg(&[("STAMP_WARN", "w")]), Err(ConfigError::NoSpec));
        assert!(matches!(
            cfg(&[("STAMP_SPEC", "a"), ("STAMP_STALL", "3")]),
            Err(ConfigError::Param(ParamError::Unknown(_)))
        ));
        assert!(matches!(cfg(&[("STAMP_SPEC", "../a")]), Err(ConfigError::Spec { .. })));
        assert!(matches!(
            cfg(&[("STAMP_SPEC", "a"), ("STAMP_FACILITY", "..")]),
            Err(ConfigError::Facility(PathError::Dot))
        ));
        assert!(matches!(
            cfg(&[("STAMP_SPEC", "a"), ("STAMP_FACILITY", "/var/op")]),
            Err(ConfigError::Facility(PathError::OutsideRoot))
        ));
        let deep = ["d"; 10].join("/");
        assert!(matches!(
            cfg(&[("STAMP_SPEC", deep.as_str()), ("STAMP_FACILITY", deep.as_str())]),
            Err(ConfigError::Stamp { .. })
        ));
        let many: Vec<(String, String)> = (0..33).map(|i| (format!("STAMP_SPEC_{i}"), "a".to_string())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(cfg(&many), Err(ConfigError::TooManySpecs));
    }

    #[test]
    fn set_lists() {
        assert_eq!(
            parse_set(b"TERMCAP:TERM:DISPLAY"),
            Ok(vec![b"TERMCAP".to_vec(), b"TERM".to_vec(), b"DISPLAY".to_vec()])
        );
        assert_eq!(parse_set(b""), Err(SetError::Empty));
        assert_eq!(parse_set(b"A::B"), Err(SetError::BadName(2)));
        assert_eq!(parse_set(b"A:B C"), Err(SetError::BadName(2)));
        assert_eq!(parse_set(b"A\n0"), Err(SetError::BadName(1)));
        assert_eq!(parse_set(b"STAMP_WARN"), Err(SetError::OwnName(1)));
        assert_eq!(parse_set(b"A:A"), Ok(vec![b"A".to_vec()]));
    }

    #[test]
    fn lock_text_keeps_lines_and_hides_escapes() {
        assert_eq!(lock_text(b"down for\nmaintenance"), b"down for\nmaintenance\n");
        assert_eq!(lock_text(b"\x1b[2Jx\r\n"), b"?[2Jx?\n");
        assert_eq!(lock_text(b""), b"");
    }

    #[test]
    fn refresh_interval_is_a_third_of_idle_within_bounds() {
        assert_eq!(refresh_interval(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(refresh_interval(Duration::from_secs(1)).as_millis(), 333);
        assert_eq!(refresh_interval(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(refresh_interval(Duration::from_millis(10)), Duration::from_millis(100));
    }
}
