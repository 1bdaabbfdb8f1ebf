//! Processes: fork, exec, wait, exit, signals sent to a child, process ids, resource limits,
//! the umask, the process group and the parent-death signal, and `main`'s own argv. Called by
//! the root process (and by its exec and helper children before execve); a confined child ends
//! with `exit_now` and sets its own RLIMIT_DATA.

use core::ffi::CStr;
use std::ffi::CString;

use opwire::sys::{check, Errno, Fd};

/// A process id the kernel handed back (fork, getpid): always > 0, so a `kill` or `waitpid`
/// on it can never mean every process (-1), our own group (0) or some other group (< -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pid(libc::pid_t);

impl Pid {
    pub fn raw(self) -> libc::pid_t {
        self.0
    }
}

impl core::fmt::Display for Pid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

pub enum Forked {
    Child,
    Parent(Pid),
}

/// fork(2).
///
/// # Safety
/// The process must be single-threaded at the call, so that the child's copy of the heap and
/// of every lock is consistent (it may then allocate), and the child must end in execve or
/// [`exit_now`], never by returning into code that assumes it is the parent.
pub unsafe fn fork() -> Result<Forked, Errno> {
    // SAFETY: the caller upholds the contract above; fork itself takes no pointers.
    let pid = unsafe { libc::fork() };
    match pid {
        p if p < 0 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        p => Ok(Forked::Parent(Pid(p))),
    }
}

pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and runs no atexit handlers (right in a forked child).
    unsafe { libc::_exit(code) }
}

pub fn getpid() -> Pid {
    // SAFETY: cannot fail.
    Pid(unsafe { libc::getpid() })
}

/// getppid(2); None when the parent is outside our pid namespace (the kernel says 0).
pub fn getppid() -> Option<Pid> {
    // SAFETY: cannot fail.
    let p = unsafe { libc::getppid() };
    (p > 0).then_some(Pid(p))
}

pub fn kill(pid: Pid, sig: i32) {
    // SAFETY: plain syscall; failure (child gone) is harmless.
    unsafe { libc::kill(pid.0, sig) };
}

/// kill(2) of the process group `leader` leads (the negative id, made here and only here).
pub fn kill_group(leader: Pid, sig: i32) {
    // SAFETY: plain syscall; failure (group gone) is harmless.
    unsafe { libc::kill(-leader.0, sig) };
}

/// Non-blocking reap: Some(status) once the child has ended.
pub fn waitpid_nohang(pid: Pid) -> Result<Option<i32>, Errno> {
    let mut status = 0;
    // SAFETY: status is valid for writes.
    let r = check(unsafe { libc::waitpid(pid.0, &mut status, libc::WNOHANG) })?;
    Ok(if r == pid.0 { Some(status) } else { None })
}

/// Blocking reap of one child; returns its wait status.
pub fn waitpid(pid: Pid) -> Result<i32, Errno> {
    let mut status = 0;
    loop {
        // SAFETY: status is valid for writes.
        match check(unsafe { libc::waitpid(pid.0, &mut status, 0) }) {
            Ok(_) => return Ok(status),
            Err(e) if e.0 == libc::EINTR => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Exit code of a wait status the shell way: the code, or 128+signal.
pub fn exit_code_of(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// How a child ended, from its wait status: Some(signal) if a signal killed it.
pub fn killed_by(status: i32) -> Option<i32> {
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}

/// argv and envp as the NULL-terminated pointer arrays execve wants, built ahead: the exec
/// child builds them before it gives the caller's resource limits back, so nothing of ours
/// allocates under those limits.
pub struct ExecArgs<'a> {
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    _strings: core::marker::PhantomData<&'a CString>,
}

impl<'a> ExecArgs<'a> {
    pub fn new(argv: &'a [CString], envp: &'a [CString]) -> ExecArgs<'a> {
        ExecArgs { argv: null_terminated(argv), envp: null_terminated(envp), _strings: core::marker::PhantomData }
    }
}

/// Executes the file behind `fd` (opened O_PATH at resolution), so what was checked is what
/// runs. Returns only on failure.
pub fn execveat_fd(fd: &Fd, argv: &[CString], envp: &[CString]) -> Errno {
    execveat_args(fd, &ExecArgs::new(argv, envp))
}

/// execve(2) by path; used only when execveat cannot run a script from a close-on-exec fd.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> Errno {
    execve_args(path, &ExecArgs::new(argv, envp))
}

/// [`execveat_fd`] with the arrays built ahead.
pub fn execveat_args(fd: &Fd, args: &ExecArgs<'_>) -> Errno {
    // SAFETY: both arrays are NULL-terminated and point into CStrings that outlive `args`.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.raw(),
            c"".as_ptr(),
            args.argv.as_ptr(),
            args.envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    Errno::last()
}

/// [`execve`] with the arrays built ahead.
pub fn execve_args(path: &CStr, args: &ExecArgs<'_>) -> Errno {
    // SAFETY: both arrays are NULL-terminated and point into CStrings that outlive `args`.
    unsafe { libc::execve(path.as_ptr(), args.argv.as_ptr(), args.envp.as_ptr()) };
    Errno::last()
}

fn null_terminated(v: &[CString]) -> Vec<*const libc::c_char> {
    let mut p: Vec<*const libc::c_char> = v.iter().map(|s| s.as_ptr()).collect();
    p.push(core::ptr::null());
    p
}

pub type Resource = libc::__rlimit_resource_t;

pub fn get_rlimit(res: Resource) -> Result<(u64, u64), Errno> {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: rl is valid for writes.
    check(unsafe { libc::getrlimit(res, &mut rl) })?;
    Ok((rl.rlim_cur, rl.rlim_max))
}

pub fn set_rlimit(res: Resource, soft: u64, hard: u64) -> Result<(), Errno> {
    let rl = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: rl is a valid rlimit value.
    check(unsafe { libc::setrlimit(res, &rl) }).map(|_| ())
}

pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::umask(mask) }
}

/// Puts the calling process into a process group of its own, so a helmet and every process it
/// starts can be killed together when it overruns its time.
pub fn setpgid_self() -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    check(unsafe { libc::setpgid(0, 0) }).map(|_| ())
}

/// PR_SET_PDEATHSIG: `sig` is delivered to us when our parent dies (cleared by the kernel when
/// our credentials change, so it is set again after a credential drop).
pub fn set_parent_death_signal(sig: i32) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(|_| ())
}

/// The argv `main` received: copies of its words, and where they live, so one of them can be
/// blanked in place (what /proc/PID/cmdline shows).
pub struct Argv {
    words: Vec<Vec<u8>>,
    raw: Vec<*mut libc::c_char>,
}

impl Argv {
    /// # Safety
    /// `argc` and `argv` must be what the C runtime passed to `main`: `argc` entries, each a
    /// NUL-terminated string in writable memory that nothing else holds a reference to.
    pub unsafe fn from_main(argc: libc::c_int, argv: *const *const libc::c_char) -> Argv {
        let n = usize::try_from(argc).unwrap_or(0);
        let mut words = Vec::with_capacity(n);
        let mut raw = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: the caller guarantees argv holds argc valid pointers.
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                break;
            }
            // SAFETY: each is a NUL-terminated string (the caller's contract).
            words.push(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec());
            raw.push(p.cast_mut());
        }
        Argv { words, raw }
    }

    pub fn words(&self) -> &[Vec<u8>] {
        &self.words
    }

    /// Overwrites word `index` from byte `from` on with `x`, in the process's own memory; the
    /// copy in [`Argv::words`] keeps the original.
    pub fn blank(&mut self, index: usize, from: usize) {
        let (Some(&p), Some(word)) = (self.raw.get(index), self.words.get(index)) else { return };
        for i in from..word.len() {
            // SAFETY: p points at word.len() + 1 writable bytes (from_main's contract), i < len.
            unsafe { *p.add(i) = b'x' as libc::c_char };
        }
    }
}
