//! Running the approved command: resolve it with the safe PATH, fork, become the target user
//! in the child, exec the very file that was resolved, forward signals, wait.

use crate::env::SAFE_PATH;
use crate::process::Inherited;
use crate::sys::{self, Errno, Fd};
use std::ffi::CString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    NotFound(String),
    RelativePath(String),
    NotExecutable(String),
    Fork(Errno),
    Pipe(Errno),
    /// The child could not become the target user or could not exec; errno from the child.
    Child { stage: Stage, errno: Errno },
    /// A jacketed command found its jacket gone after the release, and did not start.
    JacketGone,
}

impl Error {
    /// 127 not found, 126 found but not runnable, 1 for failures of ours.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NotFound(_) | Error::RelativePath(_) => 127,
            Error::Child { stage: Stage::Exec, errno } if errno.0 == libc::ENOENT => 127,
            Error::NotExecutable(_) | Error::Child { stage: Stage::Exec, .. } => 126,
            Error::JacketGone => 77,
            _ => 1,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NotFound(c) => write!(f, "{c:?}: command not found in {SAFE_PATH}"),
            Error::RelativePath(c) => write!(f, "{c:?}: relative paths are refused; give an absolute path or a bare name"),
            Error::NotExecutable(c) => write!(f, "{c:?}: not an executable file"),
            Error::Fork(e) => write!(f, "cannot fork: {e}"),
            Error::Pipe(e) => write!(f, "cannot create pipe: {e}"),
            Error::Child { stage, errno } => write!(f, "cannot {}: {errno}", stage.describe()),
            Error::JacketGone => write!(f, "its jacket was gone when it was released; not started"),
        }
    }
}

/// A program found on disk: the open O_PATH descriptor we will execute, and its path.
pub struct Program {
    pub fd: Fd,
    pub path: Vec<u8>,
}

/// Finds argv[0]: absolute paths as they are, bare names in the safe PATH, never the caller's.
pub fn resolve(name: &[u8]) -> Result<Program, Error> {
    let shown = String::from_utf8_lossy(name).into_owned();
    if name.is_empty() {
        return Err(Error::NotFound(shown));
    }
    if name.contains(&b'/') {
        if !name.starts_with(b"/") {
            return Err(Error::RelativePath(shown));
        }
        return open_program(name.to_vec()).map_err(|e| match e {
            Some(e) => e,
            None => Error::NotFound(shown),
        });
    }
    let mut denied = None;
    for dir in SAFE_PATH.split(':') {
        let path = [dir.as_bytes(), b"/", name].concat();
        match open_program(path) {
            Ok(p) => return Ok(p),
            Err(Some(e)) => denied = denied.or(Some(e)),
            Err(None) => {}
        }
    }
    Err(denied.unwrap_or(Error::NotFound(shown)))
}

/// Ok: a regular file with an execute bit. Err(None): nothing usable here, keep looking.
/// Err(Some): found, but not runnable.
fn open_program(path: Vec<u8>) -> Result<Program, Option<Error>> {
    let shown = String::from_utf8_lossy(&path).into_owned();
    let c = CString::new(path.clone()).map_err(|_| None)?;
    let fd = match sys::openat(None, &c, sys::O_PATH, 0) {
        Ok(fd) => fd,
        Err(e) if e.0 == libc::EACCES => return Err(Some(Error::NotExecutable(shown))),
        Err(_) => return Err(None),
    };
    let st = sys::fstat(&fd).map_err(|_| None)?;
    if st.is_dir() {
        return Err(None);
    }
    if !st.is_regular() || st.mode & 0o111 == 0 {
        return Err(Some(Error::NotExecutable(shown)));
    }
    Ok(Program { fd, path })
}

/// Who the command runs as.
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Sorted, without duplicates (the child compares getgroups against it).
    pub groups: Vec<u32>,
}

impl Identity {
    pub fn new(uid: u32, gid: u32, mut groups: Vec<u32>) -> Identity {
        groups.sort_unstable();
        groups.dedup();
        Identity { uid, gid, groups }
    }
}

/// Everything the child needs, prepared before fork so the child only makes syscalls.
pub struct Launch {
    pub program: Program,
    /// The program's path, for the script fallback (made before fork).
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub identity: Identity,
    pub inherited: Inherited,
}

/// Signals a caller may send to escapes that are meant for the command.
const FORWARDED: &[i32] = &[
    libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2,
    libc::SIGWINCH, libc::SIGCONT,
];

/// Stop requests that escapes honours by stopping itself while it waits.
const JOB_STOPS: &[i32] = &[libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

/// Converts byte strings to C strings; argv and environment entries never contain NUL (the
/// kernel hands them to us NUL-terminated), but we check rather than assume.
pub fn cstrings(items: &[Vec<u8>]) -> Option<Vec<CString>> {
    items.iter().map(|i| CString::new(i.clone()).ok()).collect()
}

/// Forks and execs; returns the command's wait status converted to an exit code.
/// `started` is called in the parent once the exec has succeeded.
pub fn run(launch: &Launch) -> Result<i32, Error> {
    // Every signal is blocked and taken with sigwaitinfo: forwarded, or dropped, but never the
    // death of the parent (that would lose the exit record and orphan the command). Blocked
    // before fork so nothing is lost between fork and sigwaitinfo.
    let wait_set = sys::SigSet::full();
    sys::set_sigmask(&wait_set).map_err(Error::Fork)?;
    let (rx, tx) = sys::pipe_cloexec().map_err(Error::Pipe)?;
    let pid = match sys::fork().map_err(Error::Fork)? {
        sys::Forked::Child => {
            drop(rx);
            let (stage, errno) = child(launch, &launch.envp, None);
            report_failure(tx.raw(), stage, errno)
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(tx);
    // The pipe closes on a successful exec (close-on-exec) or carries the child's failure.
    if let Some(e) = read_failure(&rx) {
        let _ = wait_forwarding(pid, &wait_set);
        return Err(e);
    }
    Ok(wait_forwarding(pid, &wait_set))
}

/// Where a child stopped short of exec; its number is what crosses the report pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Groups = 1,
    Gid = 2,
    Uid = 3,
    Verify = 4,
    Exec = 5,
    /// The jacket that should be our parent is gone.
    Partner = 6,
}

impl Stage {
    fn from_code(code: u8) -> Stage {
        match code {
            1 => Stage::Groups,
            2 => Stage::Gid,
            3 => Stage::Uid,
            4 => Stage::Verify,
            6 => Stage::Partner,
            _ => Stage::Exec,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Stage::Groups => "set supplementary groups",
            Stage::Gid => "set group id",
            Stage::Uid => "set user id",
            Stage::Verify => "verify dropped credentials",
            Stage::Exec => "exec",
            Stage::Partner => "find the jacket that holds the command",
        }
    }
}

/// In a child that could not exec: the failed stage and errno to the parent, then exit 127.
pub(crate) fn report_failure(fd: libc::c_int, stage: Stage, errno: Errno) -> ! {
    let mut msg = [0u8; 5];
    msg[0] = stage as u8;
    msg[1..].copy_from_slice(&errno.0.to_le_bytes());
    let _ = sys::write_once(fd, &msg);
    sys::exit_now(127);
}

/// The parent's side of [`report_failure`]: None when the pipe closed empty (the exec happened).
pub(crate) fn read_failure(rx: &Fd) -> Option<Error> {
    let report = sys::read_capped(rx, 5).unwrap_or_default();
    let [code, e0, e1, e2, e3] = report[..] else {
        return None;
    };
    match Stage::from_code(code) {
        Stage::Partner => Some(Error::JacketGone),
        stage => Some(Error::Child { stage, errno: Errno(i32::from_le_bytes([e0, e1, e2, e3])) }),
    }
}

/// In the child: become the target user, verify nothing of root is left, exec. Returns only on
/// failure, with the stage that failed. `partner`: the jacket that must still be our parent; the
/// parent-death signal (which the credential change cleared) is armed again and the parent
/// checked once more, last thing before exec.
pub(crate) fn child(l: &Launch, envp: &[CString], partner: Option<libc::pid_t>) -> (Stage, Errno) {
    // process::harden left every disposition at its default but SIGPIPE and SIGXFSZ (ignored,
    // which execve would pass on); the umask is already 022.
    sys::restore_ignored_signals();
    if let Err(e) = sys::set_sigmask(&sys::SigSet::empty()) {
        return (Stage::Verify, e);
    }
    let id = &l.identity;
    if let Err(e) = sys::setgroups(&id.groups) {
        return (Stage::Groups, e);
    }
    if let Err(e) = sys::set_all_gids(id.gid) {
        return (Stage::Gid, e);
    }
    if let Err(e) = sys::set_all_uids(id.uid) {
        return (Stage::Uid, e);
    }
    let uids_ok = sys::getresuid().is_ok_and(|(r, e, s)| r == id.uid && e == id.uid && s == id.uid);
    let gids_ok = sys::getresgid().is_ok_and(|(r, e, s)| r == id.gid && e == id.gid && s == id.gid);
    // One slot more than we set: a kernel holding more groups than that fails the check.
    let groups_ok = sys::getgroups(id.groups.len() + 1).is_ok_and(|mut g| {
        g.sort_unstable();
        g.dedup();
        g == id.groups
    });
    if !(uids_ok && gids_ok && groups_ok) {
        return (Stage::Verify, Errno(libc::EPERM));
    }
    if let Some(jacket) = partner {
        if let Err(e) = sys::set_parent_death_signal(libc::SIGKILL) {
            return (Stage::Partner, e);
        }
        if sys::getppid() != jacket {
            return (Stage::Partner, Errno(libc::ESRCH));
        }
    }
    // The caller's own limits (CPU, RTTIME, FSIZE, AS, DATA, STACK, NOFILE, CORE), where we
    // changed them for ourselves: last, so that nothing of ours runs (or allocates: the exec
    // arrays are built first) under them. The CPU time this child has used is near zero.
    let args = sys::ExecArgs::new(&l.argv, envp);
    for &(res, soft, hard) in l.inherited.limits.iter().flatten() {
        let _ = sys::set_rlimit(res, soft, hard);
    }
    let e = sys::execveat_args(&l.program.fd, &args);
    // A script run from a close-on-exec descriptor cannot be reopened by its interpreter
    // (ENOENT); only then fall back to the path resolved a moment ago.
    if e.0 == libc::ENOENT {
        return (Stage::Exec, sys::execve_args(&l.path, &args));
    }
    (Stage::Exec, e)
}

/// Waits for the child, passing on signals that a process (not the terminal, which already
/// signals the whole foreground group) sent to us.
pub(crate) fn wait_forwarding(pid: libc::pid_t, set: &sys::SigSet) -> i32 {
    loop {
        match sys::waitpid_nohang(pid) {
            Ok(Some(status)) => return sys::exit_code_of(status),
            Ok(None) => {}
            Err(_) => return 1,
        }
        match sys::sigwaitinfo(set) {
            Ok(r) if r.from_process && FORWARDED.contains(&r.signo) => sys::kill(pid, r.signo),
            // Job control: stop alongside the command (the terminal stopped it already; a
            // process's stop request is passed on), so the shell gets its prompt back. SIGCONT
            // later wakes us and is forwarded.
            Ok(r) if JOB_STOPS.contains(&r.signo) => {
                if r.from_process {
                    sys::kill(pid, r.signo);
                }
                sys::kill(sys::getpid(), libc::SIGSTOP);
            }
            Ok(_) | Err(_) => {}
        }
    }
}
