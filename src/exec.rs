//! Running the approved command: resolve it with the safe PATH, fork, become the target user
//! in the child, exec the very file that was resolved, forward signals, wait.

use crate::policy::account::Identity;
use crate::policy::env::SAFE_PATH;
use crate::process::Inherited;
use crate::sys::{self, Errno, Fd, Stat};
use opwire::sysexits::Exit;
use std::ffi::CString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    NotFound(String),
    RelativePath(String),
    /// An absolute path with an empty, `.` or `..` component: one program, one spelling.
    NotCanonical(String),
    NotExecutable(String),
    /// The program's path no longer names the file that was opened and judged.
    Swapped(String),
    Fork(Errno),
    Pipe(Errno),
    /// The child could not become the target user or could not exec; errno from the child.
    Child {
        stage: Stage,
        errno: Errno,
    },
    /// A jacketed command found its jacket gone after the release, and did not start.
    JacketGone,
}

impl Error {
    /// 127 not found (or not given in a usable form), 126 found but not runnable, 1 for
    /// failures of ours.
    pub fn exit(&self) -> Exit {
        match self {
            Error::NotFound(_) | Error::RelativePath(_) | Error::NotCanonical(_) => Exit::NotFound,
            Error::Child { stage: Stage::Exec, errno } if errno.0 == libc::ENOENT => Exit::NotFound,
            Error::NotExecutable(_) | Error::Child { stage: Stage::Exec, .. } => Exit::NotExecutable,
            Error::JacketGone => Exit::Helper(opwire::sysexits::EX_NOPERM),
            _ => Exit::Error,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NotFound(c) => write!(f, "{c:?}: command not found in {SAFE_PATH}"),
            Error::RelativePath(c) => {
                write!(f, "{c:?}: relative paths are refused; give an absolute path or a bare name")
            }
            Error::NotCanonical(c) => {
                write!(f, "{c:?}: a program path with an empty, '.' or '..' component is refused; give its plain absolute path")
            }
            Error::NotExecutable(c) => write!(f, "{c:?}: not an executable file"),
            Error::Swapped(c) => write!(f, "{c:?}: no longer names the file that was checked; not running it"),
            Error::Fork(e) => write!(f, "cannot fork: {e}"),
            Error::Pipe(e) => write!(f, "cannot create pipe: {e}"),
            Error::Child { stage, errno } => write!(f, "cannot {}: {errno}", stage.describe()),
            Error::JacketGone => write!(f, "its jacket was gone when it was released; not started"),
        }
    }
}

/// A program found on disk. `fd` (O_PATH) is what will be executed; `canonical` is the one
/// name helpers are told and judge: reached from `/` without a symbolic link, `.` or `..`,
/// naming the same file as `fd` when it was opened (`stat`).
pub struct Program {
    pub fd: Fd,
    /// As resolved: the absolute argv[0], or the safe-PATH directory joined with a bare name.
    pub path: Vec<u8>,
    pub canonical: Vec<u8>,
    pub stat: Stat,
    /// Every directory of `canonical` is root's and not group/world-writable: nobody but root
    /// can make the name mean another file.
    pub root_only_dirs: bool,
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
        if opwire::trusted::components(name).is_err() {
            return Err(Error::NotCanonical(shown));
        }
        return open_program(name.to_vec()).map_err(|e| e.unwrap_or(Error::NotFound(shown)));
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

/// Most symbolic links followed while resolving one program (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// A step of the walk that did not reach a file: ENOENT and the like mean "not here".
enum Miss {
    Absent,
    Denied,
}

/// Walks `path` from `/` one component at a time with `openat(O_PATH | O_NOFOLLOW)`, following
/// each symbolic link by reading it and splicing its target in (at most [`MAX_LINKS`]), so that
/// the name reached is canonical and every directory of it was checked on the descriptor the
/// next step opened from. Returns the final file's descriptor, its canonical path, its stat and
/// whether every directory of that path is root-only.
fn walk(path: &[u8]) -> Result<(Fd, Vec<u8>, Stat, bool), Miss> {
    let open = |dir: &Fd, name: &[u8]| -> Result<Fd, Miss> {
        let c = CString::new(name).map_err(|_| Miss::Absent)?;
        sys::openat(Some(dir), &c, sys::O_PATH | sys::O_NOFOLLOW, 0).map_err(|e| match e.0 {
            libc::EACCES => Miss::Denied,
            _ => Miss::Absent,
        })
    };
    // Not O_DIRECTORY: audit/phases.py tells trusted-file walks by that flag on "/".
    let root = sys::openat(None, c"/", sys::O_PATH, 0).map_err(|_| Miss::Absent)?;
    let root_st = sys::fstat(&root).map_err(|_| Miss::Absent)?;
    // The directories walked into so far: (descriptor, canonical path, root-only).
    let mut dirs: Vec<(Fd, Vec<u8>, bool)> = vec![(root, Vec::new(), root_only(&root_st))];
    let mut todo: std::collections::VecDeque<Vec<u8>> = split(path).collect();
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        match name.as_slice() {
            b"" | b"." => continue,
            b".." => {
                if dirs.len() > 1 {
                    dirs.pop();
                }
                continue;
            }
            _ => {}
        }
        let (dir, dir_path, dir_ok) = dirs.last().ok_or(Miss::Absent)?;
        let fd = open(dir, &name)?;
        let st = sys::fstat(&fd).map_err(|_| Miss::Absent)?;
        let here = [dir_path.as_slice(), b"/", &name].concat();
        if st.is_symlink() {
            links += 1;
            let target = sys::readlink_fd(&fd).map_err(|_| Miss::Absent)?;
            if links > MAX_LINKS || target.is_empty() {
                return Err(Miss::Absent);
            }
            if target.starts_with(b"/") {
                dirs.truncate(1);
            }
            for part in split(&target).rev() {
                todo.push_front(part);
            }
            continue;
        }
        if st.is_dir() {
            let ok = *dir_ok && root_only(&st);
            dirs.push((fd, here, ok));
            continue;
        }
        if !todo.is_empty() {
            return Err(Miss::Absent);
        }
        return Ok((fd, here, st, *dir_ok));
    }
    // The path ended on a directory.
    Err(Miss::Absent)
}

fn split(path: &[u8]) -> impl DoubleEndedIterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/').map(<[u8]>::to_vec)
}

fn root_only(st: &Stat) -> bool {
    st.uid == 0 && st.mode & 0o022 == 0
}

/// Ok: a regular file with an execute bit. Err(None): nothing usable here, keep looking.
/// Err(Some): found, but not runnable.
fn open_program(path: Vec<u8>) -> Result<Program, Option<Error>> {
    let shown = String::from_utf8_lossy(&path).into_owned();
    let (fd, canonical, stat, root_only_dirs) = match walk(&path) {
        Ok(found) => found,
        Err(Miss::Denied) => return Err(Some(Error::NotExecutable(shown))),
        Err(Miss::Absent) => return Err(None),
    };
    if !stat.is_regular() || stat.mode & 0o111 == 0 {
        return Err(Some(Error::NotExecutable(shown)));
    }
    Ok(Program { fd, path, canonical, stat, root_only_dirs })
}

impl Program {
    /// Whether `entry` (a configured program path) names this program: by spelling, or by
    /// the file it resolves to (device and inode, so hard links and symlinked directories such
    /// as a merged /bin count too).
    pub fn is_named_by(&self, entry: &[u8]) -> bool {
        entry == self.path.as_slice()
            || entry == self.canonical.as_slice()
            || walk(entry).is_ok_and(|(_, _, st, _)| st.same_file(&self.stat))
    }

    /// Right before the command is started: the canonical name still reaches the very file
    /// that was opened (and that helpers judged by that name).
    pub fn still_named(&self) -> Result<(), Error> {
        match walk(&self.canonical) {
            Ok((_, canonical, st, _)) if canonical == self.canonical && st.same_file(&self.stat) => Ok(()),
            _ => Err(Error::Swapped(String::from_utf8_lossy(&self.canonical).into_owned())),
        }
    }
}

/// Everything the child needs, prepared before fork so the child only makes syscalls.
pub struct Launch {
    pub program: Program,
    /// The program's canonical path, for a script in root-only directories (made before fork).
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub identity: Identity,
    pub inherited: Inherited,
}

/// Signals a caller may send to escapes that are meant for the command.
const FORWARDED: &[i32] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
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
    #[allow(unsafe_code)] // fork's soundness is process-wide state only this caller can vouch for
    // SAFETY: escapes never starts a thread, so it is single-threaded here; the child only
    // changes its credentials and execs, or reports and calls sys::exit_now.
    let forked = unsafe { sys::fork() };
    let pid = match forked.map_err(Error::Fork)? {
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
pub(crate) fn child(l: &Launch, envp: &[CString], partner: Option<sys::Pid>) -> (Stage, Errno) {
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
        if sys::getppid() != Some(jacket) {
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
    if e.0 != libc::ENOENT {
        return (Stage::Exec, e);
    }
    // A script run from a close-on-exec descriptor cannot be reopened by its interpreter
    // (ENOENT). Where only root can change what its canonical name means, the interpreter may
    // open it by that name (and its $0 stays a path). Anywhere else the caller could swap the
    // name meanwhile, so the interpreter is handed /dev/fd/N: the file that was checked.
    if l.program.root_only_dirs {
        return (Stage::Exec, sys::execve_args(&l.path, &args));
    }
    if let Err(e) = sys::clear_cloexec(&l.program.fd) {
        return (Stage::Exec, e);
    }
    (Stage::Exec, sys::execveat_args(&l.program.fd, &args))
}

/// Waits for the child, passing on signals that a process (not the terminal, which already
/// signals the whole foreground group) sent to us.
pub(crate) fn wait_forwarding(pid: sys::Pid, set: &sys::SigSet) -> i32 {
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
