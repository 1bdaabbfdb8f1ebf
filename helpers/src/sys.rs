//! The only place with `unsafe`: small safe wrappers over the few libc calls the helpers make
//! that std does not offer (waiting for a pid that std did not spawn, replacing fd 1, signals,
//! the parent-death signal, ids and credential changes, fork, peer credentials, `*at` calls).

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// How a waited-for process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(u8),
    Signaled(i32),
}

impl Ended {
    /// The shell convention: the exit status, or 128 + signal number.
    pub fn exit_code(self) -> u8 {
        match self {
            Ended::Exited(c) => c,
            Ended::Signaled(s) => u8::try_from(128 + s.clamp(0, 127)).unwrap_or(255),
        }
    }
}

/// The effective uid of this process.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The effective gid of this process.
pub fn effective_gid() -> u32 {
    // SAFETY: getegid has no preconditions and cannot fail.
    unsafe { libc::getegid() }
}

/// The real uid and gid of this process.
pub fn real_ids() -> (u32, u32) {
    // SAFETY: getuid and getgid have no preconditions and cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// This process's pid.
pub fn pid() -> i32 {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

fn wait_status(pid: i32, flags: libc::c_int) -> io::Result<Option<Ended>> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid, writable c_int for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            return Ok(None);
        }
        if libc::WIFEXITED(status) {
            return Ok(Some(Ended::Exited(
                u8::try_from(libc::WEXITSTATUS(status) & 0xff).unwrap_or(255),
            )));
        }
        if libc::WIFSIGNALED(status) {
            return Ok(Some(Ended::Signaled(libc::WTERMSIG(status))));
        }
        // Stopped or continued: not an end; keep waiting.
        if flags & libc::WNOHANG != 0 {
            return Ok(None);
        }
    }
}

/// Blocks until `pid` (which must be our child) ends, retrying on EINTR.
pub fn wait_pid(pid: i32) -> io::Result<Ended> {
    loop {
        if let Some(e) = wait_status(pid, 0)? {
            return Ok(e);
        }
    }
}

/// Reaps `pid` if it has ended; `Ok(None)` while it runs, ECHILD if it is not our child.
pub fn try_wait_pid(pid: i32) -> io::Result<Option<Ended>> {
    wait_status(pid, libc::WNOHANG)
}

/// True once our child `pid` has ended, without reaping it: while it is a zombie its pid (and
/// process group id) cannot be reused, so the group can still be signalled safely.
pub fn has_ended(pid: i32) -> io::Result<bool> {
    let Ok(id) = libc::id_t::try_from(pid) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    loop {
        // SAFETY: siginfo_t is plain data; waitid writes it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is writable; WNOWAIT leaves the child waitable.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                id,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r != 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // SAFETY: after a successful waitid, si_pid is valid (0 when nothing has ended).
        return Ok(unsafe { info.si_pid() } != 0);
    }
}

/// A signal set of `sigs`.
fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before any use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; the signal numbers are valid constants.
    unsafe {
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
    }
    set
}

/// The command a jacket waits for: its own child (op's shape, and escapes'), or — inside
/// `coat`, whose child the command is — another process, watched through a pidfd opened while
/// it was known to be alive, so a recycled pid can never be mistaken for it.
#[derive(Debug)]
pub enum Watched {
    Child(i32),
    Foreign { pid: i32, pidfd: OwnedFd },
}

/// Finds `pid` alive: our running child, or another live process. An already ended child or a
/// pid that names nothing is an error.
pub fn watch(pid: i32) -> io::Result<Watched> {
    match try_wait_pid(pid) {
        Ok(None) => return Ok(Watched::Child(pid)),
        Ok(Some(_)) => return Err(io::Error::from_raw_os_error(libc::ESRCH)),
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => {}
        Err(e) => return Err(e),
    }
    // SAFETY: pidfd_open takes plain integers and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: `fd` was just returned by pidfd_open and is owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(Watched::Foreign { pid, pidfd })
}

impl Watched {
    pub fn pid(&self) -> i32 {
        match self {
            Watched::Child(p) | Watched::Foreign { pid: p, .. } => *p,
        }
    }

    /// Sends `sig` to the command: by pid to our child (whose pid nobody else can reap and
    /// recycle), through the pidfd otherwise.
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        match self {
            Watched::Child(p) => signal(*p, sig),
            Watched::Foreign { pidfd, .. } => {
                // SAFETY: pidfd_send_signal takes a pidfd we own, a signal number, a null
                // siginfo (meaning: as kill(2) would send it) and no flags.
                let r = unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        pidfd.as_raw_fd(),
                        sig,
                        std::ptr::null::<libc::siginfo_t>(),
                        0u32,
                    )
                };
                if r < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            }
        }
    }
}

/// True once the pidfd's process has exited.
fn pidfd_ended(pidfd: &OwnedFd, timeout_ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `p` is one valid pollfd, and we pass a count of 1.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(r > 0)
}

/// A jacket's wait for its command when it must clean up afterwards: SIGTERM and SIGHUP are
/// passed on to the command instead of ending us, SIGINT and SIGQUIT (which the terminal sends
/// the command too) are swallowed, and we return only when the command has ended: with its
/// status when it is our child, `None` when it is not (coat's case: coat reaps it). The signals
/// stay blocked afterwards, so one arriving late cannot interrupt the cleanup.
pub fn hold(w: &Watched) -> io::Result<Option<Ended>> {
    let set = sigset(&[
        libc::SIGCHLD,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
    ]);
    // SAFETY: `set` is a valid sigset_t; a null old-set pointer is allowed.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    let pid = w.pid();
    loop {
        let wait_ms = match w {
            Watched::Child(_) => {
                if let Some(e) = try_wait_pid(pid)? {
                    return Ok(Some(e));
                }
                1000
            }
            Watched::Foreign { pidfd, .. } => {
                if pidfd_ended(pidfd, 100)? {
                    return Ok(None);
                }
                0
            }
        };
        let timeout = libc::timespec {
            tv_sec: wait_ms / 1000,
            tv_nsec: 0,
        };
        // SAFETY: `set` and `timeout` are valid for the call; a null siginfo pointer is allowed.
        let sig = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &timeout) };
        if sig == libc::SIGTERM || sig == libc::SIGHUP {
            let _ = w.signal(sig);
        }
    }
}

/// Points fd 1 at /dev/null. For a jacket this is the release: the reader of our old stdout sees
/// EOF once every other holder has closed it too.
pub fn release_stdout() -> io::Result<()> {
    let null = OpenOptions::new().write(true).open("/dev/null")?;
    // SAFETY: both descriptors are valid; dup2 atomically replaces fd 1, closing the old one.
    let r = unsafe { libc::dup2(null.as_raw_fd(), 1) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `sig` to `pid`.
pub fn signal(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    let r = unsafe { libc::kill(pid, sig) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Arranges SIGKILL for this process when its parent dies, and checks that `parent` (the pid
/// the caller expects) has not died already. Async-signal-safe. A credential change clears the
/// setting, so call it after [`become_user`].
pub fn die_with_parent(parent: i32) -> io::Result<()> {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes plain integers.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getppid has no preconditions. The parent may have died before prctl took effect.
    if unsafe { libc::getppid() } != parent {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}

/// Most supplementary groups [`become_user`] sets and verifies.
pub const MAX_GROUPS: usize = 32;

/// Makes this process `uid`:`gid` with exactly the supplementary `groups`, real, effective and
/// saved ids alike, and then verifies that this is what the kernel now says (so a partial change
/// can never go unnoticed). Allocates nothing: usable between fork and exec.
pub fn become_user(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    if groups.len() > MAX_GROUPS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `groups` is a valid slice of gid_t (u32) of the length passed.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: setresgid and setresuid take plain integers. The gid goes first: after the uid
    // change we could no longer set it.
    if unsafe { libc::setresgid(gid, gid, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::setresuid(uid, uid, uid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let (mut r, mut e, mut s) = (0, 0, 0);
    let (mut rg, mut eg, mut sg) = (0, 0, 0);
    let mut now = [0u32; MAX_GROUPS];
    // SAFETY: every pointer is to a live, writable local of the right type; getgroups is told
    // the array's length.
    let (a, b, n) = unsafe {
        (
            libc::getresuid(&mut r, &mut e, &mut s),
            libc::getresgid(&mut rg, &mut eg, &mut sg),
            libc::getgroups(MAX_GROUPS as libc::c_int, now.as_mut_ptr()),
        )
    };
    let listed = usize::try_from(n).ok().and_then(|n| now.get(..n));
    if a != 0
        || b != 0
        || [r, e, s] != [uid; 3]
        || [rg, eg, sg] != [gid; 3]
        || listed != Some(groups)
    {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(())
}

/// Makes the spawned process `uid`:`gid` with exactly `groups` (verified, see [`become_user`])
/// and then kills it with SIGKILL if this process dies. Spawn from the main thread: the death
/// signal follows the spawning thread.
pub fn spawn_as(cmd: &mut Command, uid: u32, gid: u32, groups: Vec<u32>) {
    let parent = pid();
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe functions
    // (setgroups, setres[ug]id, getres[ug]id, getgroups, prctl, getppid); it allocates nothing
    // (`groups` was allocated before the fork and is only read).
    unsafe {
        cmd.pre_exec(move || {
            become_user(uid, gid, &groups)?;
            die_with_parent(parent)
        });
    }
}

/// Makes the spawned process receive SIGKILL when this process dies, so an inner helper never
/// outlives the `coat` that judges it. Spawn from the main thread: the signal follows the
/// spawning thread.
pub fn kill_with_parent(cmd: &mut Command) {
    let parent = pid();
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe functions
    // (prctl, getppid); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || die_with_parent(parent));
    }
}

/// Which side of a [`fork`] we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    Child,
    Parent(i32),
}

/// fork(2), refused unless this process has exactly one thread (read from /proc/self/task), so
/// the child is a whole copy that may allocate and run ordinary Rust.
pub fn fork() -> io::Result<Forked> {
    let threads = std::fs::read_dir("/proc/self/task")?.count();
    if threads != 1 {
        return Err(io::Error::other(format!(
            "fork: {threads} threads (must be 1)"
        )));
    }
    // SAFETY: the process is single-threaded (checked just above; nothing here starts threads),
    // so no lock can be held by a thread that does not exist in the child.
    match unsafe { libc::fork() } {
        r if r < 0 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        child => Ok(Forked::Parent(child)),
    }
}

/// Sets the file-creation mask, returning the old one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask takes and returns a plain mode and cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// The credentials the kernel recorded for the peer of a connected UNIX socket (SO_PEERCRED):
/// (pid, uid, gid) of the process that connected, or for the connecting side, of the one that
/// called listen(2).
pub fn peer_credentials(sock: &impl AsRawFd) -> io::Result<(i32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is a writable ucred and `len` its size, as SO_PEERCRED requires.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != std::mem::size_of::<libc::ucred>() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok((cred.pid, cred.uid, cred.gid))
}

/// A single path component as a C string: no NUL, no `/`, not empty.
fn component(name: &[u8]) -> io::Result<CString> {
    if name.is_empty() || name.contains(&b'/') {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// (device, inode) of the entry `name` in `dir`, not following a symlink.
pub fn identity_at(dir: &File, name: &[u8]) -> io::Result<(u64, u64)> {
    let c = component(name)?;
    // SAFETY: stat is plain data, fully written by a successful fstatat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `dir` is an open descriptor, `c` a NUL-terminated name, `st` writable.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((st.st_dev, st.st_ino))
}

/// Removes the entry `name` of `dir` (a directory entry if `is_dir`), never following a symlink:
/// the directory is the one `dir` was opened on, wherever it has been moved since.
pub fn remove_at(dir: &File, name: &[u8], is_dir: bool) -> io::Result<()> {
    let c = component(name)?;
    let flags = if is_dir { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: `dir` is an open descriptor and `c` a NUL-terminated name.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Closes every descriptor from 3 up except those in `keep`, and points 0 and 1 at /dev/null
/// (a forked child must not hold a jacket's reply pipe).
pub fn close_all_but(keep: &[RawFd]) -> io::Result<()> {
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open(Path::new("/dev/null"))?;
    for fd in [0, 1] {
        // SAFETY: both descriptors are valid; dup2 atomically replaces `fd`.
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    drop(null);
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&k| k > 2).collect();
    keep.sort_unstable();
    let mut first: u32 = 3;
    for k in keep {
        let Ok(k) = u32::try_from(k) else { continue };
        if k > first {
            close_range(first, k - 1)?;
        }
        first = k.saturating_add(1);
    }
    close_range(first, u32::MAX)
}

fn close_range(first: u32, last: u32) -> io::Result<()> {
    // SAFETY: close_range takes plain integers and only closes descriptors; nothing in this
    // process uses the closed ones afterwards (the caller keeps what it needs).
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::ENOSYS) {
        return Err(e);
    }
    // Kernels before 5.9: close what /proc says is open.
    let open: Vec<u32> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= first && fd <= last)
        .collect();
    for fd in open {
        // SAFETY: closing a descriptor number that nothing here uses any more.
        unsafe { libc::close(fd as RawFd) };
    }
    Ok(())
}
