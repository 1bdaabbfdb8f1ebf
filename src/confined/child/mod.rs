//! Code that runs only in a confined child. The root process never calls into this folder: its
//! one entry is [`enter`], called in the child right after the fork in `confined::spawn`
//! (`make tcb` checks that no other reference exists). `enter` carries out rules 1–4 of
//! `confined/mod.rs`, then the child's work.

mod idp;
mod net;
mod resolve;
pub mod service;
mod stream;
mod tls;

use crate::confined::job::Work;
use crate::sys::{self, Errno, Fd};

include!(concat!(env!("OUT_DIR"), "/seccomp_lists.rs"));

/// Rule 2: the parse service's heap and private mappings. Its largest request (passwd and
/// group at their 16 MiB caps) and what parsing it takes fit well inside; a child taken over
/// cannot press the machine for memory in the time it has.
#[cfg(not(feature = "valgrind"))]
const PARSE_DATA_LIMIT: u64 = 128 << 20;

/// The child's work; it ends the process.
fn run(work: &Work<'_>) -> ! {
    match work {
        Work::Parse => service::serve(),
        Work::Network(job) => net::exchange(job),
        #[cfg(test)]
        Work::Test(work) => {
            // Written as it is, without a framed copy: a test thread's malloc arena grows by
            // mprotect, which the parse list rightly refuses.
            let out = work();
            let len = u32::try_from(out.len()).unwrap_or(u32::MAX).to_be_bytes();
            let _ = crate::sys::write_all(1, &len).and_then(|()| crate::sys::write_all(1, &out));
            crate::sys::exit_now(0)
        }
    }
}

/// In the child: rules 1–4, then the work. Never returns.
pub fn enter(work: &Work<'_>, requests: Option<Fd>, answers: Fd) -> ! {
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
    run(work)
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
    let caller = crate::process::caller();
    drop_to(caller.uid, caller.gid, &mut |_| {})
}

/// The drop itself, step by step; `after` is called with each step's name once it is done (a
/// test pauses there and tries to ptrace the process as the caller: tests/hostile.rs).
pub fn drop_to(uid: u32, gid: u32, after: &mut dyn FnMut(&'static str)) -> Result<(), Errno> {
    sys::setgroups(&[gid])?;
    after("setgroups");
    sys::set_all_gids(gid)?;
    after("setresgid");
    sys::set_uids(uid, uid, 0)?;
    after("setresuid, saved uid still 0");
    sys::set_not_dumpable()?;
    after("not dumpable");
    sys::set_uids(u32::MAX, u32::MAX, uid)?;
    after("saved uid");
    if sys::getresuid()? != (uid, uid, uid) || sys::getresgid()? != (gid, gid, gid) || sys::dumpable()? != 0 {
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
    sys::bpf::seccomp_allow_only(&nrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_list_is_the_audited_network_phase() {
        let names: Vec<&str> = NETWORK_SYSCALLS.iter().map(|&(n, _)| n).collect();
        for needed in ["recvfrom", "sendto", "poll", "write", "getrandom", "exit_group", "restart_syscall"] {
            assert!(names.contains(&needed), "{needed} missing");
        }
        // What the child must never be able to do once it parses network bytes.
        for never in [
            "execve",
            "execveat",
            "setresuid",
            "setuid",
            "ptrace",
            "clone",
            "fork",
            "kill",
            "prctl",
            "getppid",
            "uname",
        ] {
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
            // SAFETY: (test) the child makes a few syscalls and calls exit_now.
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
