//! The one way escapes starts a confined child, and the parent's side of talking to it: rules
//! 5–7 of `confined/mod.rs` are carried out here; the fork hands the child to
//! `child::enter`, which carries out rules 1–4 before any of its work runs.

use crate::confined::child;
use crate::confined::job::Work;
use crate::sys::{self, Errno, Fd};
use crate::time::Deadline;
use std::fmt;

/// A running confined child: its pid, the pipe it reads requests from (the parse service
/// only), and the pipe it answers on.
pub struct Child {
    pid: sys::Pid,
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
                format!(
                    "the {name} process ended without an answer: it was killed for a syscall outside its seccomp list"
                )
            }
            Failure::Died { signal: Some(s), .. } => {
                format!("the {name} process ended without an answer: killed by signal {s}")
            }
            Failure::Died { status: Some(s), .. } => {
                format!("the {name} process ended without an answer (wait status {s:#x})")
            }
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
            child::enter(&work, requests, ans_w)
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
        self.read_exact(len, deadline)?.ok_or(Failure::Died { signal: None, status: None })
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
}
