//! The only place with `unsafe`: small safe wrappers over the few libc calls the helpers make
//! that std does not offer (waiting for a pid that std did not spawn, replacing fd 1, signals,
//! the parent-death signal, ids and credential changes, fork, peer credentials, `*at` calls; for
//! stamp and stampctl: openat-style directory access, UNIX socket connects, poll, the holder's
//! identity, the boot-time clock).

use std::ffi::{CStr, CString};
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
            return Ok(Some(Ended::Exited(u8::try_from(libc::WEXITSTATUS(status) & 0xff).unwrap_or(255))));
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
        let r = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT) };
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
    let mut p = libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: `p` is one valid pollfd, and we pass a count of 1.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(r > 0)
}

/// A jacket's wait for its command when it must clean up afterwards: SIGTERM and SIGHUP are
/// passed on to the command instead of ending us, SIGINT and SIGQUIT (which the terminal sends
/// the command too) are swallowed, and we return only when the command has ended: with its
/// status when it is our child, `None` when it is not (coat's case: coat reaps it). The signals
/// stay blocked afterwards, so one arriving late cannot interrupt the cleanup.
pub fn hold(w: &Watched) -> io::Result<Option<Ended>> {
    let set = sigset(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT]);
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
        let timeout = libc::timespec { tv_sec: wait_ms / 1000, tv_nsec: 0 };
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

/// What std's runtime start-up did before `main` that the helpers rely on, for src/main.rs,
/// which skips that start-up (`#![no_main]`: its probing of the main thread's stack guard links
/// pthread_getattr_np, and with it glibc's scanf and strtod family, into the static binary).
/// Closed fds 0, 1 and 2 are opened on /dev/null ([`ensure_std_fds`]), and SIGPIPE is ignored,
/// so a write to a closed pipe or socket is an EPIPE error rather than death (std's
/// `Command` still gives the programs it spawns the default SIGPIPE). Not done: std's
/// SIGSEGV handler that prints "stack overflow" first; an overflow still hits the guard page
/// and the kernel's SIGSEGV ends the process.
pub fn start() -> io::Result<()> {
    ensure_std_fds()?;
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    if unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) } == libc::SIG_ERR {
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
    let r = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) };
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
    if a != 0 || b != 0 || [r, e, s] != [uid; 3] || [rg, eg, sg] != [gid; 3] || listed != Some(groups) {
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
        return Err(io::Error::other(format!("fork: {threads} threads (must be 1)")));
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
    let mut cred = libc::ucred { pid: 0, uid: u32::MAX, gid: u32::MAX };
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

/// A single path component as a C string: not empty, `.` or `..`, no NUL or `/`.
fn component(name: &[u8]) -> io::Result<CString> {
    if !opwire::trusted::is_component(name) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Removes the entry `name` of `dir` (a directory entry if `is_dir`), never following a symlink:
/// the directory is the one `dir` was opened on, wherever it has been moved since.
pub fn remove_at(dir: &impl AsRawFd, name: &[u8], is_dir: bool) -> io::Result<()> {
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
    let null = OpenOptions::new().read(true).write(true).open(Path::new("/dev/null"))?;
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

// ---------------------------------------------------------------- stamp and stampctl
//
// Directory walks without following symlinks, UNIX sockets reached through /proc/self/fd (so the
// walked directory, not a re-resolved path, is what we bind or connect in), the holder process
// (fork, session, identity, descriptors), the boot-time clock, peer credentials, user lookups.

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// openat(2): `name` relative to `dir` (or the cwd when `None`; absolute names ignore it).
/// O_CLOEXEC is always added.
pub fn open_at(dir: Option<BorrowedFd<'_>>, name: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let base = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    loop {
        // SAFETY: `name` is NUL-terminated and outlives the call; `base` is AT_FDCWD or a
        // descriptor borrowed for the duration of the call; mode 0 is ignored without O_CREAT.
        let fd = unsafe { libc::openat(base, name.as_ptr(), flags | libc::O_CLOEXEC, 0) };
        if fd >= 0 {
            // SAFETY: openat returned a fresh descriptor that nothing else owns.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Opens /dev/null on any of fds 0, 1, 2 that is closed, so that no descriptor opened later
/// (a walked directory, a socket) takes a standard number: stdout is where a helper's reply
/// goes, and a holder points all three at /dev/null.
pub fn ensure_std_fds() -> io::Result<()> {
    for fd in 0..=2 {
        // SAFETY: F_GETFD only queries the descriptor.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0 {
            continue;
        }
        // SAFETY: the path is NUL-terminated; open returns the lowest free descriptor, `fd`.
        let got = cvt(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) })?;
        if got != fd {
            // SAFETY: `got` was just opened here and is owned by nothing else.
            unsafe { libc::close(got) };
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
    }
    Ok(())
}

/// mkdirat(2): a new directory `name` in `dir` (the umask applies; chmod afterwards).
pub fn mkdir_in(dir: &impl AsRawFd, name: &[u8], mode: u32) -> io::Result<()> {
    let c = component(name)?;
    // SAFETY: `name` is NUL-terminated; `dir` is a valid descriptor for the call.
    cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// The boot-time clock: unlike CLOCK_MONOTONIC it keeps counting while the machine is
/// suspended, so a stamp's time limits cannot be stretched by closing a laptop lid.
pub fn boottime() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    if r != 0 {
        // CLOCK_BOOTTIME exists since Linux 2.6.39; without it, fall back to std's monotonic
        // clock measured from the first call (still never goes backwards).
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        return START.get_or_init(std::time::Instant::now).elapsed();
    }
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

/// listen(2) again on a listening socket: besides the backlog, Linux records the caller's
/// credentials as the ones connecting clients see in SO_PEERCRED. A holder calls it after the
/// fork so that clients see the holder's pid and its (root) identity, not stampctl's.
pub fn relisten(sock: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: listen has no memory-safety preconditions.
    cvt(unsafe { libc::listen(sock.as_raw_fd(), backlog) }).map(drop)
}

/// A non-blocking connect(2) of a new SOCK_STREAM UNIX socket to `path`. A UNIX connect either
/// completes at once or fails: EAGAIN means the listener's backlog is full (try again later),
/// ECONNREFUSED that nobody listens (a dead stamp).
pub fn connect_unix(path: &[u8]) -> io::Result<OwnedFd> {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if path.len() >= addr.sun_path.len() || path.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    for (slot, &b) in addr.sun_path.iter_mut().zip(path) {
        *slot = b as libc::c_char;
    }
    // SAFETY: socket has no memory-safety preconditions.
    let fd =
        cvt(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) })?;
    // SAFETY: socket returned a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let len = (std::mem::size_of::<libc::sa_family_t>() + path.len() + 1) as libc::socklen_t;
    loop {
        // SAFETY: `addr` is a valid sockaddr_un and `len` does not exceed its size.
        let r = unsafe { libc::connect(sock.as_raw_fd(), (&addr as *const libc::sockaddr_un).cast(), len) };
        if r == 0 {
            return Ok(sock);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// poll(2) for readability/writability. `fds` are (descriptor, events); returns the revents of
/// each, in order. `timeout` None waits forever; EINTR returns all zeros.
pub fn poll(fds: &[(BorrowedFd<'_>, i16)], timeout: Option<Duration>) -> io::Result<Vec<i16>> {
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|(fd, events)| libc::pollfd { fd: fd.as_raw_fd(), events: *events, revents: 0 }).collect();
    let ms = match timeout {
        None => -1,
        // Round up so a deadline 0.4 ms away does not spin.
        Some(t) => i32::try_from(t.as_micros().div_ceil(1000)).unwrap_or(i32::MAX),
    };
    // SAFETY: `pfds` is a valid, writable array of `pfds.len()` pollfd structures.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![0; pfds.len()]);
        }
        return Err(e);
    }
    Ok(pfds.iter().map(|p| p.revents).collect())
}

/// setsid(2): a new session and process group, no controlling terminal.
pub fn new_session() -> io::Result<()> {
    // SAFETY: setsid has no memory-safety preconditions.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// With effective uid 0: real, effective and saved uid and gid 0, no supplementary groups. Under
/// op a helper's real uid is the client's, which would let the client signal (stop, kill) a
/// stamp holder and so end a penalty early.
pub fn become_root() -> io::Result<()> {
    // SAFETY: setgroups with a zero-length list reads no memory.
    cvt(unsafe { libc::setgroups(0, std::ptr::null()) })?;
    // SAFETY: setresgid/setresuid have no memory-safety preconditions.
    cvt(unsafe { libc::setresgid(0, 0, 0) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::setresuid(0, 0, 0) })?;
    Ok(())
}

/// Points fds 0, 1 and 2 at `null` (an open /dev/null): a holder must not keep its caller's
/// terminal or the pipe escapes reads stampctl's output from.
pub fn detach_stdio(null: BorrowedFd<'_>) -> io::Result<()> {
    for fd in 0..=2 {
        // SAFETY: `null` is valid; dup2 atomically replaces `fd`.
        cvt(unsafe { libc::dup2(null.as_raw_fd(), fd) })?;
    }
    Ok(())
}

/// Closes every descriptor above 2 except those in `keep`.
pub fn close_fds_except(keep: &[RawFd]) {
    let mut keep: Vec<libc::c_uint> =
        keep.iter().filter_map(|&f| libc::c_uint::try_from(f).ok()).filter(|&f| f > 2).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut from: libc::c_uint = 3;
    for k in keep {
        if k > from {
            let _ = close_range(from, k - 1);
        }
        from = k.saturating_add(1);
    }
    let _ = close_range(from, libc::c_uint::MAX);
}

/// Waits up to `timeout` for `pid` (our child) to end: a pidfd polled for the timeout, then
/// waitpid. `Ok(None)`: still running. Without pidfds (before Linux 5.3) it polls every 20 ms.
pub fn wait_pid_timeout(pid: i32, timeout: Duration) -> io::Result<Option<Ended>> {
    // SAFETY: pidfd_open has no memory-safety preconditions.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if let Ok(fd) = RawFd::try_from(r) {
        if fd >= 0 {
            // SAFETY: pidfd_open returned a fresh descriptor that nothing else owns.
            let pidfd = unsafe { OwnedFd::from_raw_fd(fd) };
            let ready = poll(&[(pidfd.as_fd(), libc::POLLIN)], Some(timeout))?;
            if ready.first().copied().unwrap_or(0) == 0 {
                return Ok(None);
            }
            return wait_pid(pid).map(Some);
        }
    }
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid, writable c_int for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == pid {
            if libc::WIFEXITED(status) {
                return Ok(Some(Ended::Exited(u8::try_from(libc::WEXITSTATUS(status) & 0xff).unwrap_or(255))));
            }
            if libc::WIFSIGNALED(status) {
                return Ok(Some(Ended::Signaled(libc::WTERMSIG(status))));
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}

/// A new pseudo-terminal: (master, path of the slave). The tests run stampctl on one so that
/// `TTY=$(tty)` names a real terminal; no helper opens terminals.
pub fn open_pty() -> io::Result<(OwnedFd, Vec<u8>)> {
    // SAFETY: posix_openpt has no memory-safety preconditions.
    let fd = cvt(unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
    // SAFETY: posix_openpt returned a fresh descriptor that nothing else owns.
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: grantpt/unlockpt take a valid master descriptor.
    cvt(unsafe { libc::grantpt(master.as_raw_fd()) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::unlockpt(master.as_raw_fd()) })?;
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: `name` is writable and its length is passed.
    let r = unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated path.
    let path = unsafe { CStr::from_ptr(name.as_ptr()) }.to_bytes().to_vec();
    Ok((master, path))
}
