//! The one way escapes starts a confined child, and the parent's side of talking to it. Each
//! numbered rule of `confined/mod.rs` is carried out here, once, for both children.

use crate::confined::child;
use crate::confined::job::Work;
use crate::sys::{self, Errno, Fd};
use crate::time::Deadline;
use std::fmt;

include!(concat!(env!("OUT_DIR"), "/seccomp_lists.rs"));

/// Rule 2: the parse service's heap and private mappings. Its largest request (passwd and
/// group at their 16 MiB caps) and what parsing it takes fit well inside; a child taken over
/// cannot press the machine for memory in the time it has.
#[cfg(not(feature = "valgrind"))]
const PARSE_DATA_LIMIT: u64 = 128 << 20;

/// A running confined child: its pid, the pipe it reads requests from (the parse service
/// only), and the pipe it answers on.
pub struct Child {
    pid: libc::pid_t,
    requests: Option<Fd>,
    answers: Fd,
}

/// Why a child gave no usable answer. Every case fails closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// pipe(2), fork(2) or a descriptor flag failed.
    Spawn(Errno),
    /// Rule 6: no complete answer by the deadline; the child was killed.
    Timeout,
    /// More bytes than any answer can have; the child was killed.
    Oversized,
    /// Rule 7: the child ended without exiting 0 (SIGSYS: a syscall outside its list), or
    /// closed its pipe without a whole answer.
    Died { signal: Option<i32>, status: Option<i32> },
}

impl Failure {
    /// In words, for the `name` process that answers within `secs`.
    pub fn describe(&self, name: &str, secs: u64) -> String {
        match self {
            Failure::Spawn(e) => format!("cannot start the {name} process: {e}"),
            Failure::Timeout => format!("the {name} process gave no answer within {secs} s"),
            Failure::Oversized => format!("the {name} process sent more than any answer can be"),
            Failure::Died { signal: Some(s), .. } if *s == libc::SIGSYS => {
                format!("the {name} process ended without an answer: it was killed for a syscall outside its seccomp list")
            }
            Failure::Died { signal: Some(s), .. } => format!("the {name} process ended without an answer: killed by signal {s}"),
            Failure::Died { status: Some(s), .. } => format!("the {name} process ended without an answer (wait status {s:#x})"),
            Failure::Died { .. } => format!("the {name} process ended without an answer"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("confined", 0))
    }
}

/// Forks a confined child for `work` (rules 1–5 in the child, before any of its work runs).
pub fn spawn(work: Work<'_>) -> Result<Child, Failure> {
    let (ans_r, ans_w) = sys::pipe_cloexec().map_err(Failure::Spawn)?;
    let req = match work {
        Work::Network(_) => None,
        _ => Some(sys::pipe_cloexec().map_err(Failure::Spawn)?),
    };
    #[allow(unsafe_code)] // fork's soundness is process-wide state only this caller can vouch for
    // SAFETY: escapes never starts a thread, so at this fork it is single-threaded; the child
    // runs only `confine` and its work and ends in sys::exit_now.
    let forked = unsafe { sys::fork() };
    let pid = match forked.map_err(Failure::Spawn)? {
        sys::Forked::Child => {
            drop(ans_r);
            let requests = req.map(|(r, w)| {
                drop(w);
                r
            });
            confine(&work, requests, ans_w)
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(ans_w);
    let requests = req.map(|(r, w)| {
        drop(r);
        w
    });
    let child = Child { pid, requests, answers: ans_r };
    let flags = child.requests.iter().chain([&child.answers]).try_for_each(sys::set_nonblocking);
    match flags {
        Ok(()) => Ok(child),
        Err(e) => {
            child.kill();
            Err(Failure::Spawn(e))
        }
    }
}

/// In the child: rules 1–5, then the work. Never returns.
fn confine(work: &Work<'_>, requests: Option<Fd>, answers: Fd) -> ! {
    // Rule 1: the answer pipe is fd 1, the request pipe (if any) fd 0, and nothing else is
    // open: not the audit log, not the caller's terminal.
    let moved = sys::dup2(answers.raw(), 1).and_then(|()| match &requests {
        Some(r) => sys::dup2(r.raw(), 0),
        None => Ok(()),
    });
    if moved.is_err() {
        sys::exit_now(2);
    }
    core::mem::forget(answers);
    core::mem::forget(requests);
    if matches!(work, Work::Network(_)) {
        sys::close_raw(0);
    }
    sys::close_from(2);
    let confined = match work {
        // Rule 3: the network child gives up root for good before it touches the network.
        Work::Network(_) => drop_to_caller().and_then(|()| seccomp(NETWORK_SYSCALLS)),
        _ => limit_data().and_then(|()| seccomp(PARSE_SYSCALLS)),
    };
    if confined.is_err() {
        sys::exit_now(2);
    }
    // Debug builds with the `seccomp-test-hook` feature only (tests/seccomp.rs): an unlisted
    // syscall right after the network child's filter, to show that a violation kills it.
    #[cfg(all(debug_assertions, feature = "seccomp-test-hook"))]
    if matches!(work, Work::Network(_)) {
        let _ = sys::getppid();
    }
    child::run(work)
}

#[cfg(not(feature = "valgrind"))]
fn limit_data() -> Result<(), Errno> {
    sys::set_rlimit(libc::RLIMIT_DATA, PARSE_DATA_LIMIT, PARSE_DATA_LIMIT)
}

/// valgrind needs address space of its own.
#[cfg(feature = "valgrind")]
fn limit_data() -> Result<(), Errno> {
    Ok(())
}

/// Rule 3: real, effective and saved ids become the caller's as they were at start-up, and the
/// supplementary groups just the caller's gid. The order keeps the caller from ptracing the
/// child at any step even where `fs.suid_dumpable` is 1 (each id change resets dumpability to
/// that value): while the saved uid is still 0 the caller's uid does not match all three of the
/// child's, so the kernel refuses the attach; dumpability is cleared before the last uid change,
/// which (changing only the saved uid) does not reset it. A root caller stays root.
pub fn drop_to_caller() -> Result<(), Errno> {
    drop_to_caller_with(|| {})
}

/// [`drop_to_caller`], calling `between` after each step (tests check each step's state).
pub fn drop_to_caller_with(mut between: impl FnMut()) -> Result<(), Errno> {
    let caller = crate::process::caller();
    let (uid, gid) = (caller.uid, caller.gid);
    sys::setgroups(&[gid])?;
    between();
    sys::set_all_gids(gid)?;
    between();
    sys::setresuid(Some(uid), Some(uid), Some(0))?;
    between();
    sys::set_not_dumpable()?;
    between();
    sys::setresuid(None, None, Some(uid))?;
    between();
    if sys::getresuid()? != (uid, uid, uid) || sys::getresgid()? != (gid, gid, gid) || sys::is_dumpable()? {
        return Err(Errno(libc::EPERM));
    }
    Ok(())
}

/// Rule 4: from here on only the listed syscalls (audit/syscalls); any other kills the child.
fn seccomp(list: &[(&str, libc::c_long)]) -> Result<(), Errno> {
    #[allow(unused_mut)] // extended only in valgrind builds
    let mut nrs: Vec<i64> = list.iter().map(|&(_, nr)| nr).collect();
    // `make bench`'s callgrind copies only (see build.rs); never in a shipped build.
    #[cfg(feature = "valgrind")]
    nrs.extend(VALGRIND_SYSCALLS.iter().map(|&(_, nr)| nr).filter(|nr| !list.iter().any(|&(_, n)| n == *nr)));
    sys::seccomp_allow_only(&nrs)
}

impl Child {
    /// Rule 5, the parent's side: writes a whole request, within `deadline`.
    pub fn send(&self, data: &[u8], deadline: &Deadline) -> Result<(), Failure> {
        let Some(fd) = &self.requests else {
            return Err(Failure::Died { signal: None, status: None });
        };
        let mut rest = data;
        while !rest.is_empty() {
            let wait = deadline.poll_ms().ok_or(Failure::Timeout)?;
            if sys::poll_one(fd.raw(), sys::POLLOUT, wait).map_err(|_| Failure::Timeout)? == 0 {
                continue;
            }
            match sys::write_once(fd.raw(), rest) {
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) if e.0 == libc::EAGAIN => {}
                Err(_) => return Err(Failure::Died { signal: None, status: None }),
            }
        }
        Ok(())
    }

    /// Rule 5: reads exactly `n` bytes of an answer (Ok(None) at a clean end of stream before
    /// the first byte), within `deadline`.
    fn read_exact(&self, n: usize, deadline: &Deadline) -> Result<Option<Vec<u8>>, Failure> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let wait = deadline.poll_ms().ok_or(Failure::Timeout)?;
            if sys::poll_one(self.answers.raw(), sys::POLLIN, wait).map_err(|_| Failure::Timeout)? == 0 {
                continue;
            }
            let want = n - out.len();
            match sys::read_append(&self.answers, &mut out, want) {
                Ok(0) if out.is_empty() => return Ok(None),
                Ok(0) => return Err(Failure::Died { signal: None, status: None }),
                Ok(_) => {}
                Err(e) if e.0 == libc::EAGAIN || e.0 == libc::EINTR => {}
                Err(_) => return Err(Failure::Died { signal: None, status: None }),
            }
        }
        Ok(Some(out))
    }

    /// Rule 5: one length-prefixed answer of at most `cap` bytes.
    pub fn answer(&self, deadline: &Deadline, cap: usize) -> Result<Vec<u8>, Failure> {
        let head = self.read_exact(4, deadline)?.ok_or(Failure::Died { signal: None, status: None })?;
        let len = head.try_into().map(u32::from_be_bytes).map_err(|_| Failure::Oversized)?;
        let len = usize::try_from(len).map_err(|_| Failure::Oversized)?;
        if len > cap {
            return Err(Failure::Oversized);
        }
        self.read_exact(len, deadline)?.map_or(Err(Failure::Died { signal: None, status: None }), Ok)
    }

    /// Rule 7: a child that answered once and must then exit 0 by `deadline`; anything else
    /// (killed, a non-zero exit, still running) fails, and it is killed and reaped.
    pub fn finish(self, deadline: &Deadline) -> Result<(), Failure> {
        let Child { pid, requests, answers, .. } = self;
        drop(requests);
        drop(answers);
        loop {
            match sys::waitpid_nohang(pid) {
                Ok(Some(status)) => {
                    return match (sys::killed_by(status), sys::exit_code_of(status)) {
                        (None, 0) => Ok(()),
                        (signal, _) => Err(Failure::Died { signal, status: Some(status) }),
                    };
                }
                Ok(None) if !deadline.expired() => sys::sleep_ms(1),
                _ => {
                    sys::kill(pid, libc::SIGKILL);
                    let _ = sys::waitpid(pid);
                    return Err(Failure::Timeout);
                }
            }
        }
    }

    /// Ends the child now (the parse service, once escapes needs no more parsing, or any child
    /// after a failure), and reaps it.
    pub fn kill(self) {
        sys::kill(self.pid, libc::SIGKILL);
        let _ = sys::waitpid(self.pid);
    }

    /// Ends a child whose answer failed, and says why: if it had already died of a signal of
    /// its own (SIGSYS: a syscall outside its list), that; otherwise `why`. It is killed first
    /// (it may be spinning with its pipe closed), so the reap cannot wait.
    pub fn fail(self, why: Failure) -> Failure {
        sys::kill(self.pid, libc::SIGKILL);
        match sys::waitpid(self.pid).ok().and_then(sys::killed_by) {
            Some(signal) if signal != libc::SIGKILL => Failure::Died { signal: Some(signal), status: None },
            _ => why,
        }
    }
}

#[cfg(test)]
mod tests {
    // The children really fork and install their filters; these run as any user (seccomp with
    // no_new_privs needs no privilege).
    use super::*;

    /// `work` in a child under the parse service's rules: its answer, or why there was none.
    fn run(work: fn() -> Vec<u8>) -> Result<Vec<u8>, Failure> {
        let deadline = Deadline::after_ms(crate::confined::service::TIMEOUT_MS);
        let child = spawn(Work::Test(work))?;
        match child.answer(&deadline, 8 * crate::policy::token::MAX_TOKEN_LEN) {
            Ok(a) => child.finish(&deadline).map(|()| a),
            Err(why) => Err(child.fail(why)),
        }
    }

    #[test]
    fn an_unlisted_syscall_in_the_work_kills_the_child_and_fails_closed() {
        let r = run(|| {
            let _ = sys::getppid();
            b"never".to_vec()
        });
        assert!(matches!(r, Err(Failure::Died { signal: Some(libc::SIGSYS), .. })), "{r:?}");
    }

    #[test]
    fn the_child_cannot_open_files() {
        let r = run(|| {
            let _ = std::fs::read("/etc/hostname");
            b"read it".to_vec()
        });
        assert!(matches!(r, Err(Failure::Died { signal: Some(libc::SIGSYS), .. })), "{r:?}");
    }

    #[test]
    fn the_child_cannot_allocate_without_bound() {
        let r = run(|| {
            let big = vec![1u8; 256 << 20];
            big.get(..4).unwrap_or(&[]).to_vec()
        });
        assert!(matches!(r, Err(Failure::Died { .. })), "{r:?}");
    }

    #[test]
    fn a_report_longer_than_any_real_one_is_refused() {
        // Made before the fork: in the threaded test harness a large allocation in the child can
        // grow a thread's malloc arena with mprotect, which the parse list rightly refuses.
        // (escapes itself is single-threaded: its heap grows with brk.)
        static BIG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
        *BIG.lock().unwrap() = vec![b'T'; 8 * crate::policy::token::MAX_TOKEN_LEN + 1];
        let r = run(|| BIG.try_lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default());
        assert_eq!(r, Err(Failure::Oversized));
    }

    #[test]
    fn a_child_that_never_answers_is_killed_at_the_deadline() {
        let started = sys::monotonic_ms();
        let r = run(|| loop {
            std::hint::spin_loop();
        });
        assert_eq!(r, Err(Failure::Timeout));
        assert!(sys::monotonic_ms() - started < crate::confined::service::TIMEOUT_MS + 1_000);
    }

    #[test]
    fn a_child_that_answers_and_exits_0_is_heard() {
        assert_eq!(run(|| b"fine".to_vec()), Ok(b"fine".to_vec()));
    }

    #[test]
    fn the_network_list_is_the_audited_network_phase() {
        let names: Vec<&str> = NETWORK_SYSCALLS.iter().map(|&(n, _)| n).collect();
        for needed in ["recvfrom", "sendto", "poll", "write", "getrandom", "exit_group", "restart_syscall"] {
            assert!(names.contains(&needed), "{needed} missing");
        }
        // What the child must never be able to do once it parses network bytes.
        for never in ["execve", "execveat", "setresuid", "setuid", "ptrace", "clone", "fork", "kill", "prctl", "getppid", "uname"] {
            assert!(!names.contains(&never), "{never} allowed");
        }
    }

    #[test]
    fn the_parse_list_is_memory_its_two_pipes_and_exit() {
        let mut names: Vec<&str> = PARSE_SYSCALLS.iter().map(|&(n, _)| n).collect();
        names.sort_unstable();
        assert_eq!(names, ["brk", "exit_group", "mmap", "mremap", "munmap", "read", "write"]);
    }

    /// A listed call works, an unlisted one (getppid) kills the process with SIGSYS.
    #[test]
    #[allow(unsafe_code)]
    fn an_unlisted_syscall_kills_the_confined_process() {
        for (call_unlisted, want) in [(false, None), (true, Some(libc::SIGSYS))] {
            // SAFETY (test only): the child makes a few syscalls and calls exit_now.
            match unsafe { sys::fork() }.unwrap() {
                sys::Forked::Child => {
                    if seccomp(NETWORK_SYSCALLS).is_err() {
                        sys::exit_now(3);
                    }
                    let _ = sys::monotonic_ms();
                    if call_unlisted {
                        let _ = sys::getppid();
                    }
                    sys::exit_now(0)
                }
                sys::Forked::Parent(pid) => {
                    let status = sys::waitpid(pid).unwrap();
                    assert_eq!(sys::killed_by(status), want, "status {status:#x}");
                    if want.is_none() {
                        assert_eq!(sys::exit_code_of(status), 0, "status {status:#x}");
                    }
                }
            }
        }
    }
}
