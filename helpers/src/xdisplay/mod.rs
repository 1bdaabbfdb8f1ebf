//! xdisplay: the caller's X display for the escalated command. It copies the caller's xauth
//! entry for `DISPLAY` into the target's `$HOME/.Xauthority` (HOME is the target's home, set by
//! the rule) under the same display name and replies `$DISPLAY=…`; as a jacket (`-P`) it takes
//! the entry out again when the command has ended, putting back whatever entry the target had
//! for that display before. As a helmet it copies and leaves the entry in place.
//!
//! Rights: every xauth run is the real `/usr/bin/xauth` (no PATH search) with an empty
//! environment, cwd `/`, in its own process group, bounded in time and output. The caller's
//! file (`XAUTHORITY` if the environment has it, else `.Xauthority` in the caller's home from
//! /etc/passwd) is read by an xauth running **as the caller** (uid, primary gid, no other
//! groups; see [`crate::identity`]), so nothing the caller could not read is ever copied. The
//! entries it prints are parsed and rewritten ([`nlist`]) and merged by an xauth running **as
//! the target**, into a home that only the target and root can change and a `.Xauthority` that
//! is not a symlink: a planted link is refused, never followed.
//!
//! Nothing to do: `DISPLAY` unset or empty (allowed, nothing copied), or caller and target the
//! same user or with the same home (the page: "no action is taken").

pub mod nlist;

use crate::env::Env;
use crate::helper::{self, Helper, Verdict};
use crate::identity::{self, Ids};
use crate::params::{ParamError, Params};
use crate::passwd;
use crate::program::{self, Run, RunError};
use crate::sys::{self, Ended};
use crate::trusted;
use nlist::Entry;
use opwire::reply::write::Writer;
use opwire::sysexits::{EX_CONFIG, EX_IOERR, EX_NOINPUT, EX_NOPERM, EX_NOUSER, EX_TEMPFAIL, EX_UNAVAILABLE, EX_USAGE};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The xauth that is run; compiled in.
pub const XAUTH: &[u8] = b"/usr/bin/xauth";
/// How long one xauth run may take (xauth itself waits for locks).
pub const XAUTH_DEADLINE: Duration = Duration::from_secs(20);
pub const WARN: &str = "XDISPLAY_WARN";
/// The target's authority file, in its home.
const AUTHORITY: &[u8] = b".Xauthority";
pub const REVEAL: &str = "XDISPLAY_REVEAL";

pub const HELPER: Helper = Helper {
    name: "xdisplay",
    about: "Copies the caller's xauth entry for DISPLAY into the target's $HOME/.Xauthority (read\n\
            as the caller, written as the target) and replies $DISPLAY; with -P it removes the\n\
            entry again after the command. Nothing is done when both have the same home.",
    reads: &["XDISPLAY_WARN", "XDISPLAY_REVEAL", "DISPLAY", "HOME", "XAUTHORITY"],
    grammar: &[
        ("XDISPLAY_WARN", "text printed on stderr when refused"),
        ("XDISPLAY_REVEAL", "prefix: reply ~prefix after removing the XDISPLAY_ parameters"),
        ("DISPLAY", "[host]:number[.screen]  (the caller's; unset = nothing to do)"),
        ("HOME", "/absolute  the target's home directory (required; the rule sets it, e.g. HOME=$H)"),
        ("XAUTHORITY", "/absolute  the caller's authority file (default: .Xauthority in the caller's passwd home)"),
    ],
    warn_var: WARN,
    reveal_var: REVEAL,
};

/// What one run will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Reply (`$DISPLAY`, if set) and nothing else.
    Nothing {
        display: Option<Vec<u8>>,
    },
    Copy(Copy),
}

/// A copy from the caller's authority file to the target's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub display: Vec<u8>,
    pub caller: Ids,
    pub source: PathBuf,
    pub target: Ids,
    /// The target's home, as walked (no symbolic link, no `.` or `..`).
    pub home: PathBuf,
    /// XAUTHORITY was in the environment: the command gets the target's file instead.
    pub had_xauthority: bool,
}

impl Copy {
    pub fn target_file(&self) -> PathBuf {
        self.home.join(OsStr::from_bytes(AUTHORITY))
    }
}

fn path_value(v: &[u8]) -> Option<PathBuf> {
    (v.first() == Some(&b'/') && !v.iter().any(u8::is_ascii_control)).then(|| PathBuf::from(OsStr::from_bytes(v)))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => {
            let trim = |p: &Path| {
                let s = p.as_os_str().as_bytes();
                let t = s.strip_suffix(b"/").filter(|t| !t.is_empty()).unwrap_or(s);
                t.to_vec()
            };
            trim(a) == trim(b)
        }
    }
}

/// Decides what to do from the environment and argv (reads /etc/passwd, looks at the target's
/// home; changes nothing).
pub fn plan(s: &helper::Setup) -> Result<Plan, Verdict> {
    s.params.only(&[WARN, REVEAL], &[]).map_err(Verdict::from)?;
    let display = match s.env.get(b"DISPLAY") {
        None | Some(b"") => return Ok(Plan::Nothing { display: None }),
        Some(d) => d.to_vec(),
    };
    nlist::check_display(&display).map_err(Verdict::config)?;
    let home = s.env.get(b"HOME").ok_or_else(|| Verdict::config(ParamError::Missing("HOME (the target's home)")))?;
    let home = path_value(home).ok_or_else(|| Verdict::refuse(EX_CONFIG, "HOME must be an absolute path"))?;
    let passwd_data =
        passwd::load().map_err(|e| Verdict::refuse(trusted::exit_code(&e), format!("{}: {e}", passwd::PASSWD)))?;
    let (real_uid, _) = sys::real_ids();
    let caller =
        identity::caller(&s.env, real_uid, &passwd_data).map_err(|e| Verdict::refuse(e.exit_code(), e.to_string()))?;
    let target = Ids { uid: s.invocation.euid, gid: s.invocation.egid };
    let caller_home = passwd::by_uid(&passwd_data, caller.uid).map(|e| PathBuf::from(OsStr::from_bytes(&e.home)));
    if caller.uid == target.uid || caller_home.as_deref().is_some_and(|c| same_dir(c, &home)) {
        return Ok(Plan::Nothing { display: Some(display) });
    }
    let had_xauthority = s.env.get(b"XAUTHORITY").is_some();
    let source = match s.env.get(b"XAUTHORITY") {
        Some(x) => path_value(x).ok_or_else(|| Verdict::refuse(EX_CONFIG, "XAUTHORITY must be an absolute path"))?,
        None => caller_home
            .ok_or_else(|| {
                Verdict::refuse(EX_NOUSER, format!("caller uid {} has no home in {}", caller.uid, passwd::PASSWD))
            })?
            .join(".Xauthority"),
    };
    trusted::owned_dir(&home, target.uid).map_err(|e| Verdict::refuse(EX_NOPERM, format!("target home: {e}")))?;
    let copy = Copy { display, caller, source, target, home, had_xauthority };
    trusted::owned_file_or_absent(&copy.home, AUTHORITY, target.uid)
        .map_err(|e| Verdict::refuse(EX_NOPERM, format!("target authority file: {e}")))?;
    Ok(Plan::Copy(copy))
}

fn as_user(ids: Ids) -> (u32, u32, Vec<u32>) {
    (ids.uid, ids.gid, vec![ids.gid])
}

/// Runs `xauth -f FILE ARGS…` as `user`, feeding `stdin`; its stdout if it exited 0, else a
/// refusal with `failed` (the code for a non-zero exit).
fn xauth(user: Ids, file: &Path, args: &[&[u8]], stdin: Option<&[u8]>, failed: u8) -> Result<Vec<u8>, Verdict> {
    let what =
        String::from_utf8_lossy(args.iter().find(|a| !a.starts_with(b"-")).copied().unwrap_or_default()).into_owned();
    let args: Vec<&[u8]> = [&b"-f"[..], bytes(file)].into_iter().chain(args.iter().copied()).collect();
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    let r = program::run(&Run {
        path: XAUTH,
        args: &args,
        env: &[],
        stdin,
        user: Some(as_user(user)),
        deadline: Instant::now() + XAUTH_DEADLINE,
        cap: nlist::MAX_LIST,
    });
    match r {
        Ok(f) if f.ended == Ended::Exited(0) => Ok(f.stdout),
        Ok(f) => Err(Verdict::refuse(
            failed,
            format!("xauth {what} on {} as uid {} failed ({})", file.display(), user.uid, f.ended.exit_code()),
        )),
        Err(e @ (RunError::Spawn(_) | RunError::NotAbsolute)) => {
            Err(Verdict::refuse(EX_UNAVAILABLE, format!("{}: {e}", String::from_utf8_lossy(XAUTH))))
        }
        Err(RunError::Timeout) => Err(Verdict::refuse(EX_TEMPFAIL, format!("xauth {what} did not finish in time"))),
        Err(e) => Err(Verdict::refuse(EX_IOERR, format!("xauth {what}: {e}"))),
    }
}

fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// The caller's entries for the display, read with the caller's rights.
fn caller_entries(c: &Copy) -> Result<Vec<Entry>, Verdict> {
    // -i: reading needs no lock, and the caller may not be able to make one there.
    let out = xauth(c.caller, &c.source, &[b"-i", b"-q", b"nextract", b"-", &c.display], None, EX_NOINPUT)?;
    let entries = nlist::parse(&out).map_err(|e| Verdict::refuse(EX_IOERR, e.to_string()))?;
    if entries.is_empty() {
        return Err(Verdict::refuse(
            EX_NOINPUT,
            format!(
                "no xauth entry for {} in {} readable by uid {}",
                String::from_utf8_lossy(&c.display),
                c.source.display(),
                c.caller.uid
            ),
        ));
    }
    Ok(entries)
}

/// The target's own entries for the display (to put back afterwards), read as the target.
fn target_entries(c: &Copy) -> Result<Vec<Entry>, Verdict> {
    let file = c.target_file();
    if std::fs::symlink_metadata(&file).is_err() {
        return Ok(Vec::new());
    }
    let out = xauth(c.target, &file, &[b"-q", b"nextract", b"-", &c.display], None, EX_IOERR)?;
    nlist::parse(&out).map_err(|e| Verdict::refuse(EX_IOERR, e.to_string()))
}

fn merge(c: &Copy, entries: &[Entry]) -> Result<(), Verdict> {
    let file = c.target_file();
    xauth(c.target, &file, &[b"-q", b"nmerge", b"-"], Some(&nlist::write(entries)), EX_IOERR).map(|_| ())
}

/// After the command: the display's entries come out of the target's file, and the ones it had
/// before go back in.
fn restore(c: &Copy, previous: &[Entry]) -> Result<(), Verdict> {
    let file = c.target_file();
    trusted::owned_file_or_absent(&c.home, AUTHORITY, c.target.uid)
        .map_err(|e| Verdict::refuse(EX_NOPERM, format!("target authority file: {e}")))?;
    xauth(c.target, &file, &[b"-q", b"remove", &c.display], None, EX_IOERR)?;
    if !previous.is_empty() {
        merge(c, previous)?;
    }
    Ok(())
}

/// The reply lines for the command.
fn relay(display: Option<&[u8]>, copy: Option<&Copy>) -> Vec<Vec<u8>> {
    let mut r = Writer::new();
    if let Some(d) = display {
        let _ = r.set(b"DISPLAY", d);
    }
    if let Some(c) = copy.filter(|c| c.had_xauthority) {
        let _ = r.delete(b"XAUTHORITY");
        let _ = r.set(b"XAUTHORITY", bytes(&c.target_file()));
    }
    r.bytes().split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

/// The xdisplay program.
pub fn main() -> ! {
    let s = match helper::setup(&HELPER, &helper::args(), Env::from_process(), Params::prefixed("XDISPLAY_")) {
        Ok(Ok(s)) => s,
        Ok(Err(request)) => helper::print_and_exit(&HELPER, &request),
        Err((verdict, params)) => helper::finish(&HELPER, None, &params, &verdict),
    };
    let pid = s.invocation.pid;
    let params = &s.params;
    let fail = |v: Verdict| -> ! { helper::finish(&HELPER, pid, params, &v) };
    let watched = pid.map(|p| {
        sys::watch(p).unwrap_or_else(|e| {
            fail(Verdict::refuse(EX_USAGE, format!("-P {p} names no running process to wait for: {e}")))
        })
    });
    let copy = match plan(&s) {
        Err(v) => fail(v),
        Ok(Plan::Nothing { display }) => fail(Verdict::Allow { relay: relay(display.as_deref(), None) }),
        Ok(Plan::Copy(c)) => c,
    };
    let entries = caller_entries(&copy).unwrap_or_else(|v| fail(v));
    let previous = match pid {
        Some(_) => target_entries(&copy).unwrap_or_else(|v| fail(v)),
        None => Vec::new(),
    };
    if let Err(v) = merge(&copy, &entries) {
        fail(v)
    }
    let verdict = Verdict::Allow { relay: relay(Some(&copy.display), Some(&copy)) };
    let code = helper::deliver(&HELPER, params, &verdict);
    let (Some(p), Some(watched)) = (pid, watched) else { std::process::exit(i32::from(code)) };
    if code != 0 {
        let _ = restore(&copy, &previous);
        std::process::exit(i32::from(helper::release_and_wait(p, code)))
    }
    let ended = helper::release_and_hold(&watched);
    if let Err(v) = restore(&copy, &previous) {
        helper::complain(&HELPER, &v);
    }
    std::process::exit(i32::from(ended))
}
