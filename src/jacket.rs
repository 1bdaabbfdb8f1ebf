//! Helmets and jackets: op(1l)'s authorization helpers around every escalation, fail-closed
//! (`op-jacket-protocol.md` §1, §2, §6; each op flaw it avoids is named by its number, F1–F18).
//!
//! **Invocation** (as op does): argv `PATH [-P PID] [-u USER] -C CONFIG -- MNEMONIC PROGRAM
//! EUID:EGID users:LOGIN`, where MNEMONIC is argv[0] as the caller typed it, PROGRAM the resolved
//! absolute path whose open descriptor is what will be executed (F9), `-u` the caller's
//! `--run-as` as typed. Environment: the command's proposed environment (after earlier helpers'
//! edits), then the helper's `params`, then the grant facts `ESCAPES_GRANT_ID`,
//! `ESCAPES_REQUESTER`, `ESCAPES_APPROVER`, `ESCAPES_GRANT_TYPE`, `ESCAPES_ISSUER`,
//! `ESCAPES_RUN_AS` (verified values; a parameter cannot override them). Parameters go to the
//! helper only, never to the command, so a helper's `-NAME` cleanup is harmless but unneeded.
//! stdin is /dev/null (for jackets too, F10), stdout a pipe to escapes, stderr the caller's.
//!
//! **Credentials** (F3, F11): helpers run with real, effective and saved uid 0, gid 0 and no
//! supplementary groups, so the caller can neither signal nor ptrace them, and `sh`, `bash` and
//! perl see no set-id state (no privilege drop, no taint mode). They are opened before anything
//! runs, by absolute path, through root-owned directories, and must be root-owned regular files,
//! not group- or world-writable, with an execute bit (F8); they are executed from that descriptor
//! (a script through its path, whose every directory is root-only). Every descriptor of escapes
//! is close-on-exec, so a helper inherits only 0, 1 and 2.
//!
//! **Environment edits** from a reply (`$NAME=value`, `$NAME`, `~PREFIX`) reach the command only
//! when the resulting entry is one the command's environment allow-list ([`crate::policy::env`]) would
//! pass from the caller (TERM, TZ, LANG, LC_*, with their value checks): a helper must not become
//! a way around it (for `$NAME`, whose value is the caller's, F14). Refused edits are not applied
//! and are named in the audit record; `-NAME` always applies (removing only narrows).
//!
//! **Verdicts and exit codes.** A helper allows only with a reply code 0 (or no code at all, as
//! op) and, for a helmet, exit status 0; for a jacket, only while it is still alive and still the
//! parent of the held command (F2, F3, F4). Otherwise escapes refuses, exiting with: the reply
//! code N it gave; else the helmet's non-zero exit status N; 76 (EX_PROTOCOL) for a malformed or
//! oversized reply; 75 (EX_TEMPFAIL) when it overran its timeout; 69 (EX_UNAVAILABLE) when it
//! could not be executed; 77 (EX_NOPERM) when it was killed by a signal or a jacket was gone
//! before the command was released; 1 when the helper file is not trustworthy (the admin's
//! problem, like a bad config). These may coincide with escapes' own 1/5/126/127: the audit
//! record's `error` (`helmet`/`jacket`) and `helpers` fields say which it was.
//!
//! **Jackets** nest like op's: escapes forks a process that forks the next one and then becomes
//! jacket 1 with `-P` = that child; the innermost jacket's child is the command, held on a pipe
//! (with `PR_SET_PDEATHSIG(SIGKILL)`, so a dying jacket takes everything inside it along). When
//! every jacket has closed its stdout with a 0 reply (within its timeout) and jacket 1 is still
//! running, escapes writes the durable "run" record and sends the release, with the final
//! environment, down the pipe; the command checks its parent is still its jacket, drops to the
//! target user, arms the death signal again and execs. Each jacket waits for its child (op's
//! `waitpid(P)`) and the outermost jacket's exit status is escapes' exit status, as under op
//! (F15: a jacket should exit with its child's code, or 128+signal). Signals a process sends to
//! escapes go to jacket 1. A jacket denial is sent to the held command as its exit code, so the
//! jacket reaps a child that exited with the denial. If a jacket dies while the command runs, the
//! command is killed (op would leave it running unjacketed).

pub mod reply;

use crate::exec::{self, Launch};
use crate::policy::config::Helper;
use crate::policy::env;
use crate::policy::facts::{self, RunFacts, MAX_FACT};
use crate::root::trusted_file;
use crate::sys::{self, Errno, Fd};
use opwire::sysexits::{Exit, EX_NOPERM, EX_PROTOCOL, EX_TEMPFAIL, EX_UNAVAILABLE};
use reply::{Edit, Reply};
use std::ffi::CString;

/// Most bytes of the release message (the final environment) the held command accepts.
const MAX_RELEASE: usize = 1 << 20;

/// Pause between the last jacket's EOF and the check that the outer jacket is alive.
const SETTLE_MS: u64 = 10;

/// How long a refused jacket gets to reap its child and exit before it is killed.
const DENIED_GRACE_MS: u64 = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Helmet,
    Jacket,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Helmet => "helmet",
            Kind::Jacket => "jacket",
        }
    }
}

/// What a helper is told about the escalation.
pub struct Context<'a> {
    pub config_path: &'a str,
    /// `--run-as` exactly as the caller typed it.
    pub run_as_arg: Option<&'a [u8]>,
    pub mnemonic: &'a [u8],
    pub program: &'a [u8],
    pub euid: u32,
    pub egid: u32,
    /// The caller's login name, or `#uid` when the uid has none.
    pub login: Vec<u8>,
    /// `ESCAPES_*` name and value, for the facts the grant established.
    pub facts: Vec<(&'static str, Vec<u8>)>,
    /// The caller's environment as escapes received it, for `$NAME` copies.
    pub caller_env: &'a [(Vec<u8>, Vec<u8>)],
    /// The per-run facts a parameter may name (`policy::facts`): the caller's controlling
    /// terminal, the command's words as given, the target's home.
    pub tty: Option<&'a [u8]>,
    pub argv: &'a [Vec<u8>],
    pub target_home: &'a [u8],
}

/// A helper's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Replied this non-zero code.
    Deny(u8),
    /// Replied 0 (or nothing) but exited with this non-zero status.
    Exited(i32),
    /// Killed by this signal.
    Killed(i32),
    /// Its reply broke the protocol (the parser's words, from the child that read it).
    Protocol(String),
    /// Overran its timeout (seconds) and was killed.
    Timeout(u64),
    ExecFailed(Errno),
    Untrusted(String),
    /// Its parameters name a fact this run lacks, or one whose value may not reach a helper.
    Params(String),
    /// A jacket that exited, or was killed, before the command was released.
    Gone,
    Internal(String),
}

impl Verdict {
    /// The exit status escapes ends with when this verdict refuses (see the module comment);
    /// never 0, so an `Allow` asked anyway reads as a denial.
    pub fn exit(&self) -> Exit {
        match self {
            Verdict::Allow => Exit::Helper(EX_NOPERM),
            Verdict::Deny(n) => Exit::helper(i32::from(*n)),
            Verdict::Exited(n) => Exit::helper(*n),
            Verdict::Protocol(_) => Exit::Helper(EX_PROTOCOL),
            Verdict::Timeout(_) => Exit::Helper(EX_TEMPFAIL),
            Verdict::ExecFailed(_) => Exit::Helper(EX_UNAVAILABLE),
            Verdict::Killed(_) | Verdict::Gone => Exit::Helper(EX_NOPERM),
            Verdict::Untrusted(_) | Verdict::Params(_) | Verdict::Internal(_) => Exit::Error,
        }
    }
}

impl core::fmt::Display for Verdict {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Verdict::Allow => write!(f, "allowed"),
            Verdict::Deny(n) => write!(f, "denied with code {n}"),
            Verdict::Exited(n) => write!(f, "replied 0 but exited with status {n}"),
            Verdict::Killed(s) => write!(f, "killed by signal {s}"),
            Verdict::Protocol(e) => write!(f, "protocol error: {e}"),
            Verdict::Timeout(s) => write!(f, "no complete reply within {s} s; killed"),
            Verdict::ExecFailed(e) => write!(f, "cannot be executed: {e}"),
            Verdict::Untrusted(m) => write!(f, "not trusted: {m}"),
            Verdict::Params(m) => write!(f, "not asked: {m}"),
            Verdict::Gone => write!(f, "was gone before the command was released"),
            Verdict::Internal(m) => write!(f, "{m}"),
        }
    }
}

/// One audit entry: `helmet /path: allowed` (plus the names of refused environment edits).
pub fn audit_entry(kind: Kind, helper: &Helper, verdict: &Verdict, refused: &[Vec<u8>]) -> Vec<u8> {
    let mut s = format!("{} {}: {verdict}", kind.as_str(), helper.path).into_bytes();
    if !refused.is_empty() {
        s.extend_from_slice(b" (environment edits refused: ");
        s.extend_from_slice(&refused.join(&b' '));
        s.push(b')');
    }
    s
}

/// One `helper_env` audit entry: `jacket /path: NAME=value`, a variable a helper set for the
/// command.
pub fn helper_env_entry(kind: Kind, helper: &Helper, entry: &[u8]) -> Vec<u8> {
    [format!("{} {}: ", kind.as_str(), helper.path).as_bytes(), entry].concat()
}

// --- pure: argv, environment, edits --------------------------------------------------------------

/// The helper's argv; `jacket_child` adds `-P PID` (a placeholder is filled in after the fork).
pub fn argv(path: &str, jacket_child: Option<i32>, ctx: &Context<'_>) -> Vec<Vec<u8>> {
    let mut a = vec![path.as_bytes().to_vec()];
    if let Some(pid) = jacket_child {
        a.push(b"-P".to_vec());
        a.push(pid.to_string().into_bytes());
    }
    if let Some(u) = ctx.run_as_arg {
        a.push(b"-u".to_vec());
        a.push(u.to_vec());
    }
    a.push(b"-C".to_vec());
    a.push(ctx.config_path.as_bytes().to_vec());
    a.push(b"--".to_vec());
    a.push(ctx.mnemonic.to_vec());
    a.push(ctx.program.to_vec());
    a.push(format!("{}:{}", ctx.euid, ctx.egid).into_bytes());
    a.push([b"users:".as_slice(), &ctx.login].concat());
    a
}

fn entry_name(entry: &[u8]) -> &[u8] {
    entry.split(|&b| b == b'=').next().unwrap_or_default()
}

/// Marks an environment made by escapes: the command's proposed environment is then in the
/// `ESCAPES_ENV_<NAME>` variables (envauth judges those; see helpers/README.md).
pub const COMMAND_ENV_MARKER: &[u8] = b"ESCAPES_ENV=1";
/// The prefix that carries each entry of the command's proposed environment to a helper.
pub const COMMAND_ENV_PREFIX: &[u8] = b"ESCAPES_ENV_";

/// The helper's environment: nothing of the caller's under its own name (no TZ, LANG, LC_* or
/// TERM a caller chose: an unset TZ is /etc/localtime, no locale is C) unless the rule copies
/// it (`$NAME`), only the system's PATH, the rule's params with their per-run facts filled in
/// (which may set TZ or PATH), the facts escapes established (`ESCAPES_*`), and the command's
/// proposed environment renamed to `ESCAPES_ENV_<NAME>`, for helpers that judge it. A fact the
/// run lacks, or a value with a control character, refuses the run (`Verdict::Params`).
pub fn environment(command_env: &[Vec<u8>], helper: &Helper, ctx: &Context<'_>) -> Result<Vec<Vec<u8>>, Verdict> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(helper.params.len() + ctx.facts.len() + command_env.len() + 2);
    if !helper.params.iter().any(|(n, _)| n == "PATH") {
        out.push([b"PATH=".as_slice(), env::SAFE_PATH.as_bytes()].concat());
    }
    let run = RunFacts { login: &ctx.login, tty: ctx.tty, argv: ctx.argv, target_home: ctx.target_home };
    for (n, template) in &helper.params {
        let value = facts::expand(template, Some(&run)).map_err(|e| Verdict::Params(format!("parameter {n}: {e}")))?;
        out.push([n.as_bytes(), b"=", &value].concat());
    }
    for name in &helper.copies {
        // op: a variable the caller does not have is not passed.
        let Some((_, value)) = ctx.caller_env.iter().find(|(n, _)| n == name.as_bytes()) else { continue };
        if !facts::acceptable(value, MAX_FACT) {
            return Err(Verdict::Params(format!(
                "${name}: the caller's value holds a control character or is longer than {MAX_FACT} bytes"
            )));
        }
        out.push([name.as_bytes(), b"=", value].concat());
    }
    for (n, v) in &ctx.facts {
        out.push([n.as_bytes(), b"=", v].concat());
    }
    out.push(COMMAND_ENV_MARKER.to_vec());
    for e in command_env {
        out.push([COMMAND_ENV_PREFIX, e].concat());
    }
    Ok(out)
}

/// The time zone a helper reads the clock in, for the audit record: its `TZ` param, else the
/// system's (`system`, from /etc/localtime).
pub fn zone_of(helper: &Helper, system: &[u8]) -> Vec<u8> {
    match helper.params.iter().find(|(n, _)| n == "TZ") {
        Some((_, tz)) => format!("TZ={tz}").into_bytes(),
        None => system.to_vec(),
    }
}

/// What /etc/localtime says, as the audit record shows it.
pub fn system_zone() -> Vec<u8> {
    match sys::readlink(c"/etc/localtime") {
        Ok(target) => [b"/etc/localtime -> ".as_slice(), &target].concat(),
        Err(e) if e.0 == libc::EINVAL => b"/etc/localtime".to_vec(),
        Err(_) => b"UTC (no /etc/localtime)".to_vec(),
    }
}

/// Whether the caller could have passed `name=value` to the command through the allow-list.
/// Asked of `env::build` itself, so the two can never disagree: it keeps the pair (ahead of its
/// `env::FIXED` entries) exactly when the allow-list accepts it.
fn allow_listed(name: &[u8], value: &[u8]) -> bool {
    let probe = env::build(
        &[(name.to_vec(), value.to_vec())],
        &env::Target { name: b"", home: b"", shell: b"", caller_uid: 0, caller_gid: 0 },
    );
    probe.len() > env::FIXED
}

/// Whether a reply may set `name=value` for the command: the allow-list would pass it from the
/// caller, or the rule names it in `env` (never one of `policy::config::NEVER_SET`, checked
/// when the config is read) and the value is plain text of at most MAX_FACT bytes.
fn permitted(name: &[u8], value: &[u8], extra: &[String]) -> bool {
    allow_listed(name, value) || (extra.iter().any(|n| n.as_bytes() == name) && facts::acceptable(value, MAX_FACT))
}

/// What a reply's edits did to the command's environment.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The names of edits not applied.
    pub refused: Vec<Vec<u8>>,
    /// Every `NAME=value` a helper set, for the audit record.
    pub set: Vec<Vec<u8>>,
}

impl Applied {
    fn set(&mut self, env: &mut Vec<Vec<u8>>, name: &[u8], value: &[u8]) {
        env.retain(|e| entry_name(e) != name);
        let entry = [name, b"=", value].concat();
        self.set.push(entry.clone());
        env.push(entry);
    }
}

/// Applies a reply's edits in order (see the module comment); `extra` is the rule's `env`.
pub fn apply(env: &mut Vec<Vec<u8>>, edits: &[Edit], caller_env: &[(Vec<u8>, Vec<u8>)], extra: &[String]) -> Applied {
    let mut done = Applied::default();
    for edit in edits {
        match edit {
            Edit::Set { name, value } if permitted(name, value, extra) => done.set(env, name, value),
            Edit::Set { name, .. } => done.refused.push(name.clone()),
            Edit::Copy { name } => match caller_env.iter().find(|(n, _)| n == name) {
                // op: a variable the caller does not have changes nothing.
                None => {}
                Some((_, value)) if permitted(name, value, extra) => done.set(env, name, value),
                Some(_) => done.refused.push(name.clone()),
            },
            Edit::Remove { name } => env.retain(|e| entry_name(e) != name.as_slice()),
            Edit::Reveal { prefix } => {
                let hidden: Vec<Vec<u8>> = env
                    .iter()
                    .filter(|e| {
                        let n = entry_name(e);
                        n.len() > prefix.len() && n.starts_with(prefix)
                    })
                    .cloned()
                    .collect();
                for entry in hidden {
                    let name = entry_name(&entry).to_vec();
                    let value = entry.get(name.len() + 1..).unwrap_or_default();
                    env.retain(|e| entry_name(e) != name.as_slice());
                    let shown = name.get(prefix.len()..).unwrap_or_default();
                    if reply::is_name(shown) && permitted(shown, value, extra) {
                        done.set(env, shown, value);
                    } else {
                        done.refused.push(name.clone());
                    }
                }
            }
        }
    }
    done
}

// --- opening and running helpers -----------------------------------------------------------------

/// A helper opened and checked, with its argv and environment ready for exec.
pub struct Armed<'h> {
    pub helper: &'h Helper,
    fd: Fd,
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

/// Opens the helper (see the module comment for the checks) and prepares its argv and env.
pub fn arm<'h>(
    kind: Kind,
    helper: &'h Helper,
    ctx: &Context<'_>,
    command_env: &[Vec<u8>],
) -> Result<Armed<'h>, Verdict> {
    let (dir, name) = trusted_file::open_parent(&helper.path).map_err(|e| Verdict::Untrusted(e.to_string()))?;
    let c_name = CString::new(name).map_err(|_| Verdict::Untrusted("path contains NUL".into()))?;
    let fd = sys::openat(Some(dir), &c_name, sys::O_PATH | sys::O_NOFOLLOW, 0).map_err(Verdict::ExecFailed)?;
    let st = sys::fstat(&fd).map_err(Verdict::ExecFailed)?;
    if st.mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(Verdict::Untrusted(format!("{}: is a symbolic link (use the real path)", helper.path)));
    }
    if !st.is_regular() || st.mode & 0o111 == 0 {
        return Err(Verdict::ExecFailed(Errno(libc::EACCES)));
    }
    if st.uid != 0 {
        return Err(Verdict::Untrusted(format!("{}: owned by uid {}, must be owned by root", helper.path, st.uid)));
    }
    if st.mode & 0o022 != 0 {
        return Err(Verdict::Untrusted(format!("{}: is group- or world-writable", helper.path)));
    }
    let pid = (kind == Kind::Jacket).then_some(0);
    let argv = exec::cstrings(&argv(&helper.path, pid, ctx))
        .ok_or_else(|| Verdict::Internal("helper argument contains NUL".into()))?;
    let envp = exec::cstrings(&environment(command_env, helper, ctx)?)
        .ok_or_else(|| Verdict::Internal("helper environment contains NUL".into()))?;
    let path = CString::new(helper.path.clone()).map_err(|_| Verdict::Untrusted("path contains NUL".into()))?;
    Ok(Armed { helper, fd, path, argv, envp })
}

/// In a forked child about to become a helper: root with no supplementary groups, default
/// signals, stdin /dev/null, stdout `out`. Exec; on failure the errno is returned.
fn become_helper(a: &Armed<'_>, out: libc::c_int, argv: &[CString]) -> Errno {
    sys::restore_ignored_signals();
    if let Err(e) = sys::set_sigmask(&sys::SigSet::empty()) {
        return e;
    }
    if let Err(e) = sys::setgroups(&[]) {
        return e;
    }
    let null = match sys::open_dev_null() {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    if let Err(e) = sys::dup2(null, 0).and_then(|()| sys::dup2(out, 1)) {
        return e;
    }
    sys::close_raw(null);
    let e = sys::execveat_fd(&a.fd, argv, &a.envp);
    // A script cannot be run from a close-on-exec descriptor (ENOENT): its path, in a directory
    // chain only root can change, is the fallback, as for the command.
    if e.0 == libc::ENOENT {
        return sys::execve(&a.path, argv, &a.envp);
    }
    e
}

/// How reading one helper's stdout ended.
#[derive(Debug, PartialEq, Eq)]
enum Collected {
    Eof(Vec<u8>),
    TooLarge,
    Timeout,
}

/// Reads every pipe to EOF, each within its own deadline (monotonic ms) and cap.
fn collect(pipes: &[(&Fd, u64, usize)]) -> Vec<Collected> {
    /// One pipe's reading: what came so far, and how it ended once it has.
    struct Reading<'f> {
        fd: &'f Fd,
        deadline: u64,
        cap: usize,
        got: Vec<u8>,
        done: Option<Collected>,
    }
    let mut all: Vec<Reading<'_>> =
        pipes.iter().map(|&(fd, deadline, cap)| Reading { fd, deadline, cap, got: Vec::new(), done: None }).collect();
    let mut chunk = [0u8; 4096];
    loop {
        let now = sys::monotonic_ms();
        for r in all.iter_mut().filter(|r| r.done.is_none() && now >= r.deadline) {
            r.done = Some(Collected::Timeout);
        }
        let mut open: Vec<&mut Reading<'_>> = all.iter_mut().filter(|r| r.done.is_none()).collect();
        let Some(next) = open.iter().map(|r| r.deadline).min() else {
            break;
        };
        let wait = i32::try_from(next.saturating_sub(now).min(1000)).unwrap_or(1000);
        let fds: Vec<(libc::c_int, i16)> = open.iter().map(|r| (r.fd.raw(), sys::POLLIN)).collect();
        let Ok(revents) = sys::poll_many(&fds, wait) else {
            for r in open {
                r.done = Some(Collected::Timeout);
            }
            break;
        };
        for (r, _) in open.iter_mut().zip(revents).filter(|(_, rev)| *rev != 0) {
            match sys::read_some(r.fd, &mut chunk) {
                Ok(n) if n > 0 => {
                    r.got.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    if r.got.len() > r.cap {
                        r.done = Some(Collected::TooLarge);
                    }
                }
                Err(e) if e.0 == libc::EINTR || e.0 == libc::EAGAIN => {}
                // End of file, or a pipe that cannot be read any more: what came is the reply.
                _ => r.done = Some(Collected::Eof(std::mem::take(&mut r.got))),
            }
        }
    }
    all.into_iter().map(|r| r.done.unwrap_or(Collected::Timeout)).collect()
}

fn verdict_of_reply(c: Collected, timeout: u64) -> Result<Reply, Verdict> {
    match c {
        Collected::Timeout => Err(Verdict::Timeout(timeout)),
        Collected::TooLarge => Err(Verdict::Protocol(format!("reply larger than {} bytes", reply::MAX_REPLY))),
        // Read in a confined child of its own: a reply can carry what the caller gave the helper.
        Collected::Eof(bytes) => match crate::confined::service::reply(&bytes) {
            Err(e) => Err(Verdict::Internal(format!("cannot read its reply: {e}"))),
            Ok(Err(why)) => Err(Verdict::Protocol(why)),
            Ok(Ok(r)) if r.code != 0 => Err(Verdict::Deny(r.code)),
            Ok(Ok(r)) => Ok(r),
        },
    }
}

fn kill_and_reap(pid: sys::Pid, group: bool) {
    if group {
        sys::kill_group(pid, libc::SIGKILL);
    }
    sys::kill(pid, libc::SIGKILL);
    let _ = sys::waitpid(pid);
}

/// Waits for `pid` until `deadline`; None when it is still running then.
fn reap_by(pid: sys::Pid, deadline: u64) -> Option<Result<i32, Errno>> {
    loop {
        match sys::waitpid_nohang(pid) {
            Ok(Some(status)) => return Some(Ok(status)),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        if sys::monotonic_ms() >= deadline {
            return None;
        }
        sys::sleep_ms(5);
    }
}

/// Runs a helmet to completion: its verdict, and its reply when it allowed.
pub fn helmet(a: &Armed<'_>) -> (Verdict, Option<Reply>) {
    let timeout = a.helper.timeout_secs;
    let deadline = sys::monotonic_ms().saturating_add(timeout.saturating_mul(1000));
    let pipes = sys::pipe_cloexec().and_then(|out| sys::pipe_cloexec().map(|st| (out, st)));
    let ((out_r, out_w), (st_r, st_w)) = match pipes {
        Ok(p) => p,
        Err(e) => return (Verdict::Internal(format!("cannot create pipe: {e}")), None),
    };
    #[allow(unsafe_code)] // fork's soundness is process-wide state only this caller can vouch for
    // SAFETY: escapes never starts a thread, so it is single-threaded here; the child only
    // rearranges descriptors and execs the helper, or reports and calls sys::exit_now.
    let forked = unsafe { sys::fork() };
    let pid = match forked {
        Err(e) => return (Verdict::Internal(format!("cannot fork: {e}")), None),
        Ok(sys::Forked::Child) => {
            // Its own process group: on a timeout, whatever it started dies with it.
            let _ = sys::setpgid_self();
            let e = become_helper(a, out_w.raw(), &a.argv);
            let _ = sys::write_once(st_w.raw(), &e.0.to_le_bytes());
            sys::exit_now(69);
        }
        Ok(sys::Forked::Parent(pid)) => pid,
    };
    drop(out_w);
    drop(st_w);
    if let [e0, e1, e2, e3] = sys::read_capped(&st_r, 4).unwrap_or_default()[..] {
        let _ = sys::waitpid(pid);
        return (Verdict::ExecFailed(Errno(i32::from_le_bytes([e0, e1, e2, e3]))), None);
    }
    let collected = collect(&[(&out_r, deadline, reply::MAX_REPLY)]).pop().unwrap_or(Collected::Timeout);
    drop(out_r);
    if collected != Collected::Timeout && !matches!(collected, Collected::TooLarge) {
        // Read to EOF: now it must exit, still within its time.
        let status = match reap_by(pid, deadline) {
            None => {
                kill_and_reap(pid, true);
                return (Verdict::Timeout(timeout), None);
            }
            Some(Err(e)) => return (Verdict::Internal(format!("cannot wait for the helmet: {e}")), None),
            Some(Ok(status)) => status,
        };
        let reply = match verdict_of_reply(collected, timeout) {
            Ok(r) => r,
            Err(v) => return (v, None),
        };
        return match (libc::WIFEXITED(status), libc::WEXITSTATUS(status), libc::WTERMSIG(status)) {
            (true, 0, _) => (Verdict::Allow, Some(reply)),
            (true, n, _) => (Verdict::Exited(n), None),
            (false, _, sig) => (Verdict::Killed(sig), None),
        };
    }
    kill_and_reap(pid, true);
    (verdict_of_reply(collected, timeout).err().unwrap_or(Verdict::Timeout(timeout)), None)
}

// --- jackets -------------------------------------------------------------------------------------

/// Writes the durable run record, given the `helpers` and `helper_env` audit entries; the
/// command is released only when it returns true.
pub type Release<'a> = dyn FnMut(&[Vec<u8>], &[Vec<u8>]) -> bool + 'a;

/// How a jacketed run ended.
pub enum Ended {
    /// Every jacket released the command. `start`: whether it was started; `status`: the outer
    /// jacket's exit status as an exit code (128+signal when killed).
    Ran { status: i32, start: Result<(), exec::Error> },
    /// Jacket `index` refused (or something failed before the release).
    Refused { index: usize, verdict: Verdict },
    /// `release` returned false (the run record could not be written): nothing ran.
    Aborted,
}

/// Descriptors of the jacket chain, as plain numbers for the forked processes.
struct Chain<'a, 'h> {
    jackets: &'a [Armed<'h>],
    /// (read, write) of each jacket's stdout pipe.
    outs: Vec<(libc::c_int, libc::c_int)>,
    jst: (libc::c_int, libc::c_int),
    rel: (libc::c_int, libc::c_int),
    cst: (libc::c_int, libc::c_int),
    launch: &'a Launch,
}

/// Starts the jackets around the held command, decides, releases or refuses, and waits.
/// `release(entries, env)` gets the audit entries of the jackets and the command's final
/// environment, and must durably record the run; only if it returns true does the command run.
pub fn run_jacketed(
    launch: &Launch,
    jackets: &[Armed<'_>],
    command_env: &[Vec<u8>],
    caller_env: &[(Vec<u8>, Vec<u8>)],
    entries: &mut Vec<Vec<u8>>,
    set_env: &mut Vec<Vec<u8>>,
    release: &mut Release<'_>,
) -> Ended {
    let internal = |m: String| Ended::Refused { index: 0, verdict: Verdict::Internal(m) };
    let wait_set = sys::SigSet::full();
    if let Err(e) = sys::set_sigmask(&wait_set) {
        return internal(format!("cannot block signals: {e}"));
    }
    let mut owned: Vec<(Fd, Fd)> = Vec::new();
    for _ in 0..jackets.len() + 3 {
        match sys::pipe_cloexec() {
            Ok(p) => owned.push(p),
            Err(e) => return internal(format!("cannot create pipe: {e}")),
        }
    }
    let raw: Vec<(libc::c_int, libc::c_int)> = owned.iter().map(|(r, w)| (r.raw(), w.raw())).collect();
    let n = jackets.len();
    let chain = Chain {
        jackets,
        outs: raw.get(..n).unwrap_or_default().to_vec(),
        jst: raw.get(n).copied().unwrap_or((-1, -1)),
        rel: raw.get(n + 1).copied().unwrap_or((-1, -1)),
        cst: raw.get(n + 2).copied().unwrap_or((-1, -1)),
        launch,
    };
    let started = sys::monotonic_ms();
    let me = sys::getpid();
    #[allow(unsafe_code)] // fork's soundness is process-wide state only this caller can vouch for
    // SAFETY: escapes never starts a thread, so it is single-threaded here; the child becomes
    // jacket 1 (chain_link), which ends in execve or sys::exit_now.
    let forked = unsafe { sys::fork() };
    let pid = match forked {
        Err(e) => return internal(format!("cannot fork: {e}")),
        Ok(sys::Forked::Child) => chain_link(&chain, 0, me),
        Ok(sys::Forked::Parent(pid)) => pid,
    };
    // Keep our ends: every read end but the release pipe's, and the release pipe's write end.
    let mut reads: Vec<Fd> = Vec::new();
    let mut rel_w = None;
    for (i, (r, w)) in owned.into_iter().enumerate() {
        if i == n + 1 {
            rel_w = Some(w);
        } else {
            reads.push(r);
        }
    }
    let Some(rel_w) = rel_w else {
        kill_and_reap(pid, false);
        return internal("release pipe missing".into());
    };
    let longest = jackets.iter().map(|j| j.helper.timeout_secs).max().unwrap_or(0);
    let mut pipes: Vec<(&Fd, u64, usize)> = Vec::new();
    for (i, r) in reads.iter().enumerate() {
        let secs = jackets.get(i).map_or(longest, |j| j.helper.timeout_secs);
        let cap = if i < n { reply::MAX_REPLY } else { 64 };
        pipes.push((r, started.saturating_add(secs.saturating_mul(1000)), cap));
    }
    let mut collected = collect(pipes.get(..n + 1).unwrap_or_default());
    let failures = match collected.pop() {
        Some(Collected::Eof(b)) => b,
        _ => Vec::new(),
    };
    let mut env = command_env.to_vec();
    let mut refusal = None;
    let before = entries.len();
    for (i, (c, a)) in collected.into_iter().zip(jackets.iter()).enumerate() {
        let exec_failed = failures.chunks_exact(5).find_map(|r| match *r {
            [k, e0, e1, e2, e3] if usize::from(k) == i => Some(Errno(i32::from_le_bytes([e0, e1, e2, e3]))),
            _ => None,
        });
        let verdict = match (exec_failed, verdict_of_reply(c, a.helper.timeout_secs)) {
            (Some(e), _) => Err(Verdict::ExecFailed(e)),
            (None, r) => r,
        };
        match verdict {
            Ok(r) => {
                let done = apply(&mut env, &r.edits, caller_env, &a.helper.env);
                entries.push(audit_entry(Kind::Jacket, a.helper, &Verdict::Allow, &done.refused));
                set_env.extend(done.set.iter().map(|e| helper_env_entry(Kind::Jacket, a.helper, e)));
            }
            Err(v) => {
                entries.push(audit_entry(Kind::Jacket, a.helper, &v, &[]));
                refusal = Some((i, v));
                break;
            }
        }
    }
    // Released only while the outer jacket still runs (op runs the command when its jacket
    // died, F2/F4); the inner ones are its descendants and die with it.
    if refusal.is_none() {
        // A jacket's stdout reaches EOF while it is still dying (the kernel closes its files
        // before it becomes a zombie): give a death that closed the pipe a moment to show.
        sys::sleep_ms(SETTLE_MS);
        match sys::waitpid_nohang(pid) {
            Ok(None) => {}
            gone => {
                if gone.is_err() {
                    kill_and_reap(pid, false);
                }
                entries.truncate(before);
                if let Some(a) = jackets.first() {
                    entries.push(audit_entry(Kind::Jacket, a.helper, &Verdict::Gone, &[]));
                }
                return Ended::Refused { index: 0, verdict: Verdict::Gone };
            }
        }
    }
    if let Some((index, verdict)) = refusal {
        let timed_out = matches!(verdict, Verdict::Timeout(_));
        // The held command exits with the denial code, for its jacket to reap.
        let code = u8::try_from(verdict.exit().code()).unwrap_or(EX_NOPERM).max(1);
        let _ = sys::write_all(rel_w.raw(), &[code]);
        drop(rel_w);
        if timed_out || reap_by(pid, sys::monotonic_ms().saturating_add(DENIED_GRACE_MS)).is_none() {
            kill_and_reap(pid, false);
        }
        return Ended::Refused { index, verdict };
    }
    if !release(entries, set_env) {
        kill_and_reap(pid, false);
        return Ended::Aborted;
    }
    let mut msg = vec![0u8];
    for e in &env {
        msg.extend_from_slice(e);
        msg.push(0);
    }
    let sent = sys::write_all(rel_w.raw(), &msg);
    drop(rel_w);
    let start = match sent {
        Err(_) => Err(exec::Error::JacketGone),
        Ok(()) => match reads.get(n + 1).and_then(exec::read_failure) {
            Some(e) => Err(e),
            None => Ok(()),
        },
    };
    let status = exec::wait_forwarding(pid, &wait_set);
    Ended::Ran { status, start }
}

/// In the forked process that becomes jacket `k` (or, past the last, the command): never
/// returns. `parent` is the process that forked it.
fn chain_link(c: &Chain<'_, '_>, k: usize, parent: sys::Pid) -> ! {
    // escapes' own ends, and the stdout pipes of the jackets outside this one.
    for &(r, _) in &c.outs {
        sys::close_raw(r);
    }
    for &(r, _) in [c.jst, c.cst].iter() {
        sys::close_raw(r);
    }
    sys::close_raw(c.rel.1);
    for &(_, w) in c.outs.iter().take(k) {
        sys::close_raw(w);
    }
    if k > 0 && (sys::set_parent_death_signal(libc::SIGKILL).is_err() || sys::getppid() != Some(parent)) {
        sys::exit_now(77);
    }
    let Some(a) = c.jackets.get(k) else {
        held_command(c, parent);
    };
    let me = sys::getpid();
    let fail = |e: Errno| -> ! {
        let mut msg = [0u8; 5];
        msg[0] = u8::try_from(k).unwrap_or(u8::MAX);
        msg[1..].copy_from_slice(&e.0.to_le_bytes());
        let _ = sys::write_once(c.jst.1, &msg);
        sys::exit_now(69);
    };
    #[allow(unsafe_code)] // fork's soundness is process-wide state only this caller can vouch for
    // SAFETY: this process (a forked link of the chain) is single-threaded like escapes; both
    // sides end in execve or sys::exit_now.
    let forked = unsafe { sys::fork() };
    match forked {
        Err(e) => fail(e),
        Ok(sys::Forked::Child) => chain_link(c, k + 1, me),
        Ok(sys::Forked::Parent(child)) => {
            sys::close_raw(c.rel.0);
            sys::close_raw(c.cst.1);
            let mut argv = a.argv.clone();
            if let Some(slot) = argv.get_mut(2) {
                *slot = CString::new(child.to_string()).unwrap_or_default();
            }
            let out = c.outs.get(k).map_or(-1, |&(_, w)| w);
            fail(become_helper(a, out, &argv))
        }
    }
}

/// The command, held: waits for the release, checks its jacket, then execs as the target.
fn held_command(c: &Chain<'_, '_>, jacket: sys::Pid) -> ! {
    sys::close_raw(c.jst.1);
    let msg = sys::read_capped_raw(c.rel.0, MAX_RELEASE).unwrap_or_default();
    sys::close_raw(c.rel.0);
    let env = match msg.split_first() {
        Some((0, rest)) => rest,
        Some((&code, _)) => sys::exit_now(i32::from(code)),
        None => sys::exit_now(77),
    };
    let entries: Vec<Vec<u8>> = env.split(|&b| b == 0).filter(|e| !e.is_empty()).map(<[u8]>::to_vec).collect();
    let Some(envp) = exec::cstrings(&entries) else {
        exec::report_failure(c.cst.1, exec::Stage::Exec, Errno(libc::EINVAL));
    };
    if sys::getppid() != Some(jacket) {
        exec::report_failure(c.cst.1, exec::Stage::Partner, Errno(libc::ESRCH));
    }
    let (stage, e) = exec::child(c.launch, &envp, Some(jacket));
    exec::report_failure(c.cst.1, stage, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(caller_env: &'a [(Vec<u8>, Vec<u8>)]) -> Context<'a> {
        Context {
            config_path: "/etc/openape/config.toml",
            run_as_arg: None,
            mnemonic: b"backup",
            program: b"/usr/local/libexec/doBackups",
            euid: 0,
            egid: 0,
            login: b"ksb".to_vec(),
            facts: vec![("ESCAPES_GRANT_ID", b"g-1".to_vec()), ("ESCAPES_RUN_AS", b"root".to_vec())],
            caller_env,
            tty: None,
            argv: &[],
            target_home: b"/root",
        }
    }

    fn helper(params: &[(&str, &str)]) -> Helper {
        Helper {
            path: "/usr/local/libexec/jacket/timebox".into(),
            programs: None,
            params: params.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            copies: vec![],
            env: vec![],
            timeout_secs: 5,
        }
    }

    fn strs(v: &[Vec<u8>]) -> Vec<String> {
        v.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect()
    }

    #[test]
    fn builds_the_helmet_argv_exactly_as_op() {
        let e = [];
        let a = strs(&argv("/usr/local/libexec/jacket/timebox", None, &ctx(&e)));
        assert_eq!(
            a,
            [
                "/usr/local/libexec/jacket/timebox",
                "-C",
                "/etc/openape/config.toml",
                "--",
                "backup",
                "/usr/local/libexec/doBackups",
                "0:0",
                "users:ksb"
            ]
        );
    }

    #[test]
    fn builds_the_jacket_argv_with_pid_and_user_first() {
        let e = [];
        let mut c = ctx(&e);
        c.run_as_arg = Some(b"operator");
        let a = strs(&argv("/j", Some(4242), &c));
        assert_eq!(
            a,
            [
                "/j",
                "-P",
                "4242",
                "-u",
                "operator",
                "-C",
                "/etc/openape/config.toml",
                "--",
                "backup",
                "/usr/local/libexec/doBackups",
                "0:0",
                "users:ksb"
            ]
        );
    }

    #[test]
    fn helper_environment_is_params_facts_and_the_command_env_under_its_own_prefix() {
        let e = [];
        let cmd = vec![b"TERM=xterm".to_vec(), b"TZ=Asia/Tokyo".to_vec(), b"LANG=de_DE.UTF-8".to_vec()];
        let env = strs(
            &environment(&cmd, &helper(&[("TZ", "America/Denver"), ("TIMEBOX_INSIDE", "0100<=%H%M<0500")]), &ctx(&e))
                .unwrap(),
        );
        assert_eq!(
            env,
            [
                format!("PATH={}", env::SAFE_PATH).as_str(),
                "TZ=America/Denver",
                "TIMEBOX_INSIDE=0100<=%H%M<0500",
                "ESCAPES_GRANT_ID=g-1",
                "ESCAPES_RUN_AS=root",
                "ESCAPES_ENV=1",
                "ESCAPES_ENV_TERM=xterm",
                "ESCAPES_ENV_TZ=Asia/Tokyo",
                "ESCAPES_ENV_LANG=de_DE.UTF-8",
            ]
        );
    }

    #[test]
    fn a_caller_tz_never_reaches_a_helper_as_its_own_tz() {
        let e = [];
        let cmd = vec![b"TZ=XXX-9".to_vec(), b"LC_ALL=C.UTF-8".to_vec(), b"TERM=xterm".to_vec()];
        let env = strs(&environment(&cmd, &helper(&[("TIMEBOX_INSIDE", "0900<=%H%M<1700")]), &ctx(&e)).unwrap());
        for own in ["TZ=", "LC_ALL=", "TERM=", "LANG="] {
            assert!(!env.iter().any(|v| v.starts_with(own)), "{own} in {env:?}");
        }
        assert_eq!(zone_of(&helper(&[]), b"/etc/localtime"), b"/etc/localtime");
        assert_eq!(zone_of(&helper(&[("TZ", "UTC")]), b"x"), b"TZ=UTC");
    }

    #[test]
    fn edits_reach_the_command_only_through_the_allow_list() {
        let caller = vec![(b"LANG".to_vec(), b"de_DE.UTF-8".to_vec()), (b"LC_ALL".to_vec(), b"/tmp/evil".to_vec())];
        let mut env = vec![b"TERM=xterm".to_vec(), b"PATH=/usr/bin".to_vec()];
        let edits = opwire::reply::parse::parse(
            b"$TERM=vt100\n$LD_PRELOAD=/tmp/x.so\n$PATH=/tmp\n$LANG\n$LC_ALL\n$NOT_SET\n-PATH\n$TZ=../../etc/shadow",
        )
        .unwrap()
        .edits;
        let done = apply(&mut env, &edits, &caller, &[]);
        assert_eq!(strs(&env), ["TERM=vt100", "LANG=de_DE.UTF-8"]);
        assert_eq!(strs(&done.refused), ["LD_PRELOAD", "PATH", "LC_ALL", "TZ"]);
        assert_eq!(strs(&done.set), ["TERM=vt100", "LANG=de_DE.UTF-8"], "every variable a helper set is listed");
    }

    #[test]
    fn reveal_renames_only_into_allowed_names() {
        let mut env = vec![b"hide_TZ=UTC".to_vec(), b"hide_LD_PRELOAD=/x".to_vec(), b"TZ=Europe/Berlin".to_vec()];
        let done = apply(&mut env, &[Edit::Reveal { prefix: b"hide_".to_vec() }], &[], &[]);
        assert_eq!(strs(&env), ["TZ=UTC"]);
        assert_eq!(strs(&done.refused), ["hide_LD_PRELOAD"]);
    }

    #[test]
    fn a_rules_env_lets_its_helpers_set_those_names_and_no_others() {
        let caller = vec![(b"DISPLAY".to_vec(), b":0".to_vec()), (b"XAUTHORITY".to_vec(), b"/tmp/x\n".to_vec())];
        let extra = ["SSH_AUTH_SOCK".to_string(), "DISPLAY".to_string(), "XAUTHORITY".to_string()];
        let mut env = vec![b"TERM=xterm".to_vec()];
        let edits = opwire::reply::parse::parse(
            b"$SSH_AUTH_SOCK=/tmp/escapes-sproxy.1/agent\n$DISPLAY\n$XAUTHORITY\n$GIT_DIR=/x\n$LD_PRELOAD=/x.so",
        )
        .unwrap()
        .edits;
        let done = apply(&mut env, &edits, &caller, &extra);
        assert_eq!(strs(&env), ["TERM=xterm", "SSH_AUTH_SOCK=/tmp/escapes-sproxy.1/agent", "DISPLAY=:0"]);
        assert_eq!(strs(&done.set), ["SSH_AUTH_SOCK=/tmp/escapes-sproxy.1/agent", "DISPLAY=:0"]);
        // A value with a control character, a name the rule does not give, a loader variable.
        assert_eq!(strs(&done.refused), ["XAUTHORITY", "GIT_DIR", "LD_PRELOAD"]);
        let mut env = vec![];
        let long = vec![b'x'; MAX_FACT + 1];
        let done = apply(&mut env, &[Edit::Set { name: b"DISPLAY".to_vec(), value: long }], &[], &extra);
        assert_eq!((env.len(), strs(&done.refused)), (0, vec!["DISPLAY".to_string()]));
    }

    #[test]
    fn params_get_the_runs_facts_and_copies_the_callers_own_values() {
        let caller = vec![(b"DISPLAY".to_vec(), b":1".to_vec()), (b"EVIL".to_vec(), b"a\x1b[2J".to_vec())];
        let argv = vec![b"commit".to_vec(), b"42".to_vec()];
        let mut c = ctx(&caller);
        c.tty = Some(b"/dev/pts/3");
        c.argv = &argv;
        let mut h = helper(&[("STAMP_SPEC", "ecru/$l:TTY=$y"), ("STAMP_SPEC_2", "commit/ready-$1:Auth!$l")]);
        h.copies = vec!["DISPLAY".into(), "NOT_SET".into()];
        let env = strs(&environment(&[], &h, &c).unwrap());
        assert_eq!(
            env[1..4],
            ["STAMP_SPEC=ecru/ksb:TTY=/dev/pts/3", "STAMP_SPEC_2=commit/ready-42:Auth!ksb", "DISPLAY=:1"]
        );
        // The run lacks a fact: the helper is not asked at all.
        c.tty = None;
        assert!(matches!(environment(&[], &h, &c), Err(Verdict::Params(m)) if m.contains("$y")));
        // A copied value a helper must not be shown raw.
        c.tty = Some(b"/dev/pts/3");
        h.copies = vec!["EVIL".into()];
        let v = environment(&[], &h, &c).unwrap_err();
        assert_eq!(v.exit().code(), 1);
        assert!(v.to_string().contains("$EVIL"), "{v}");
    }

    #[test]
    fn exit_codes_follow_the_documented_semantics() {
        assert_eq!(Verdict::Deny(77).exit().code(), 77);
        assert_eq!(Verdict::Exited(3).exit().code(), 3);
        assert_eq!(Verdict::Protocol("line 1: junk".into()).exit().code(), 76);
        assert_eq!(Verdict::Timeout(5).exit().code(), 75);
        assert_eq!(Verdict::ExecFailed(Errno(libc::ENOENT)).exit().code(), 69);
        assert_eq!(Verdict::Killed(9).exit().code(), 77);
        assert_eq!(Verdict::Gone.exit().code(), 77);
        assert_eq!(Verdict::Untrusted(String::new()).exit().code(), 1);
    }
}
