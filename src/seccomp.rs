//! The seccomp allow-lists of the network child and the parse child, generated at build time
//! (build.rs) from the `network` and `parse` lines of audit/syscalls: the list that is audited
//! is the list that is enforced. `net::child` installs its list right after dropping privileges
//! and closing descriptors, before it touches a byte from the network; `sandbox::child` right
//! after closing every descriptor but its report pipe, before it parses the grant. Any other
//! syscall kills the child with SIGSYS.

use crate::sys::{self, Errno};

include!(concat!(env!("OUT_DIR"), "/seccomp_lists.rs"));

/// Confines the calling process to [`NETWORK_SYSCALLS`] for good.
pub fn confine_network() -> Result<(), Errno> {
    confine(NETWORK_SYSCALLS)
}

/// Confines the calling process to [`PARSE_SYSCALLS`] for good.
pub fn confine_parse() -> Result<(), Errno> {
    confine(PARSE_SYSCALLS)
}

fn confine(list: &[(&str, libc::c_long)]) -> Result<(), Errno> {
    #[allow(unused_mut)] // extended only in valgrind builds
    let mut nrs: Vec<i64> = list.iter().map(|&(_, nr)| nr).collect();
    // `make bench`'s callgrind copies only (see build.rs); never in a shipped build.
    #[cfg(feature = "valgrind")]
    nrs.extend(VALGRIND_SYSCALLS.iter().map(|&(_, nr)| nr).filter(|nr| !list.iter().any(|&(_, n)| n == *nr)));
    sys::seccomp_allow_only(&nrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_audited_network_phase() {
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
    fn the_parse_list_is_memory_the_report_and_exit() {
        let mut names: Vec<&str> = PARSE_SYSCALLS.iter().map(|&(n, _)| n).collect();
        names.sort_unstable();
        assert_eq!(names, ["brk", "exit_group", "mmap", "mremap", "munmap", "write"]);
    }

    /// A listed call works, an unlisted one (getppid) kills the process with SIGSYS.
    #[test]
    fn an_unlisted_syscall_kills_the_confined_process() {
        for (call_unlisted, want) in [(false, None), (true, Some(libc::SIGSYS))] {
            match sys::fork().unwrap() {
                sys::Forked::Child => {
                    if confine_network().is_err() {
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
