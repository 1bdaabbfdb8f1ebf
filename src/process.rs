//! First thing in `main`: put the inherited process state, which the caller controls, into a
//! known shape before anything else happens.

use crate::sys;
use std::sync::OnceLock;

/// Who called us: the real ids at start, before we become fully root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
}

static CALLER: OnceLock<Caller> = OnceLock::new();

/// The caller's real uid and gid as they were when escapes started.
pub fn caller() -> Caller {
    *CALLER.get_or_init(|| Caller { uid: sys::getuid(), gid: sys::getgid() })
}

/// A limit the caller may set and the kernel enforces on escapes: (resource, its name, what
/// escapes wants for itself, the least it runs under). Where the caller's hard limit is below
/// the first and cannot be raised (root without CAP_SYS_RESOURCE), escapes runs with the soft
/// limit at the hard one if that is at least the second, and refuses otherwise.
///
/// Not normalised, and why (the command gets them as the caller set them either way):
/// - NPROC counts the real uid's processes, and escapes' real uid is root, for whom fork does
///   not check it; the command's execve checks the target user's count, and a failure there is
///   an exec_failed record;
/// - MEMLOCK, MSGQUEUE, RTPRIO and NICE cap calls escapes never makes (mlock, mq_open,
///   sched_setscheduler, setpriority), and LOCKS is not enforced by Linux;
/// - SIGPENDING only caps queued siginfo: standard signals are still delivered (the kernel
///   synthesises the info; a_zero_pending_signal_limit_still_forwards_and_records), and the
///   kernel's own SIGALRM/SIGCHLD are not counted.
///
/// CORE is lowered (soft 0) instead, in [`harden`].
const LIMITS: [(sys::Resource, &str, u64, u64); 7] = [
    // The soft limit is SIGXCPU and the hard one SIGKILL, at a CPU time the caller can use up
    // before exec: any finite value kills escapes wherever the caller timed it.
    (libc::RLIMIT_CPU, "RLIMIT_CPU", INF, INF),
    // The same for CPU a realtime (SCHED_FIFO/RR) caller spends without sleeping.
    (libc::RLIMIT_RTTIME, "RLIMIT_RTTIME", INF, INF),
    // A write past it fails (SIGXFSZ is ignored, EFBIG handled): the audit log has no size
    // bound, so any value could cut the exit record of a command that ran.
    (libc::RLIMIT_FSIZE, "RLIMIT_FSIZE", INF, INF),
    // An allocation that fails aborts escapes. 256 MiB is ten times the most it was measured to
    // use (VmPeak 25 MB static, 29 MB debug, with 4.6 MiB of argv and environment, near the
    // kernel's 6 MiB), with room for 16 MiB passwd and group files.
    (libc::RLIMIT_AS, "RLIMIT_AS", INF, MIN_MEMORY),
    (libc::RLIMIT_DATA, "RLIMIT_DATA", INF, MIN_MEMORY),
    // A stack overflow is SIGSEGV; escapes needs well under 32 KiB beyond argv and environment
    // (a_small_stack_limit_the_caller_can_lift_still_runs_the_command).
    (libc::RLIMIT_STACK, "RLIMIT_STACK", 8 << 20, 256 << 10),
    // Config, key files, the directory walk, the log, the program and the children's pipes.
    (libc::RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024, 64),
];

const INF: u64 = libc::RLIM_INFINITY;

/// Where AS or DATA cannot reach this, escapes refuses (recorded, `rlimit`).
const MIN_MEMORY: u64 = 256 << 20;

/// Below this it refuses at once, unrecorded: too little to even write the refusal safely.
const TINY_MEMORY: u64 = 32 << 20;

/// What the caller had, kept so the command gets it back.
#[derive(Debug, Clone, Copy)]
pub struct Inherited {
    /// (resource, soft, hard) for each limit we changed, CORE included.
    pub limits: [Option<(sys::Resource, u64, u64)>; 8],
    /// A hard limit below what escapes needs that it could not raise: main refuses (`rlimit`)
    /// as soon as the refusal can be recorded.
    pub unsafe_limit: Option<UnsafeLimit>,
}

/// A caller's hard limit escapes will not run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsafeLimit {
    pub name: &'static str,
    pub hard: u64,
    pub least: u64,
}

impl core::fmt::Display for UnsafeLimit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let need = if self.least == INF { "unlimited".to_string() } else { self.least.to_string() };
        write!(
            f,
            "the caller's hard {} limit is {}, escapes needs {need} and cannot raise it (no CAP_SYS_RESOURCE); \
             raise the hard limit (ulimit -H) and try again",
            self.name, self.hard
        )
    }
}

/// Failures here are fatal before any output is possible, so there is no error type: the caller
/// exits 1.
#[derive(Debug)]
pub struct HardenError(pub &'static str);

/// Standard fds valid, every other fd closed, no core dumps, not dumpable (no ptrace by the
/// caller), real and saved ids root (so the caller cannot stop or kill us halfway, e.g. while we
/// hold the audit log's lock), signals at their defaults with none blocked, a fixed umask, and
/// resource limits that can neither kill escapes nor fail one of its calls halfway ([`LIMITS`]),
/// or else an [`UnsafeLimit`] for main to refuse.
pub fn harden() -> Result<Inherited, HardenError> {
    // Fill closed 0-2 first: otherwise the next file we open (config, audit log) would become
    // the caller's "stderr".
    for (fd, closed) in (0..3).zip(sys::closed_std_fds()) {
        if closed {
            let got = sys::open_dev_null()
                .map_err(|_| HardenError("cannot open /dev/null for a closed standard descriptor"))?;
            if got != fd {
                sys::close_raw(got);
                return Err(HardenError("standard descriptors in an unexpected state"));
            }
        }
    }
    sys::close_from(3);
    caller();
    if sys::geteuid() == 0 {
        // Files we create get group root, and signals from the caller's uid no longer reach us
        // (the terminal's still do).
        sys::set_all_gids(0).map_err(|_| HardenError("cannot set the group ids to root"))?;
        sys::set_all_uids(0).map_err(|_| HardenError("cannot set the user ids to root"))?;
    }
    sys::set_not_dumpable().map_err(|_| HardenError("cannot mark the process not dumpable"))?;
    let mut limits = [None; 8];
    // No core of ours; the soft limit is enough, and the command gets the caller's back.
    if let Ok((soft, hard)) = sys::get_rlimit(libc::RLIMIT_CORE) {
        sys::set_rlimit(libc::RLIMIT_CORE, 0, hard).map_err(|_| HardenError("cannot disable core dumps"))?;
        limits[7] = Some((libc::RLIMIT_CORE, soft, hard));
    }
    let mut unsafe_limit = None;
    for (slot, &(res, name, want, least)) in limits.iter_mut().zip(LIMITS.iter()) {
        let Ok((soft, hard)) = sys::get_rlimit(res) else { continue };
        if soft >= want && hard >= want {
            continue;
        }
        let now = if sys::set_rlimit(res, soft.max(want), hard.max(want)).is_ok() {
            soft.max(want)
        } else {
            // The hard limit cannot be raised: the most we can have is the hard limit itself.
            if soft < hard && sys::set_rlimit(res, hard, hard).is_err() {
                return Err(HardenError("cannot raise a soft resource limit to its hard limit"));
            }
            if hard < least {
                unsafe_limit = unsafe_limit.or(Some(UnsafeLimit { name, hard, least }));
            }
            hard
        };
        *slot = Some((res, soft, hard));
        // Below this we could abort on an allocation before the refusal is even recorded.
        if (res == libc::RLIMIT_AS || res == libc::RLIMIT_DATA) && now < TINY_MEMORY {
            return Err(HardenError("memory limit (RLIMIT_AS/RLIMIT_DATA) too small to run safely"));
        }
    }
    sys::clear_interval_timers();
    // Only what the caller left ignored needs resetting; without /proc, everything.
    let ignored = sys::read_proc_self_status().ok().and_then(|s| crate::parse::proc_status::sig_ignored(&s).ok());
    sys::reset_signal_dispositions(ignored);
    sys::set_sigmask(&sys::SigSet::empty()).map_err(|_| HardenError("cannot reset the signal mask"))?;
    // The caller's umask (0777, say) must not shape our files or the command's.
    sys::set_umask(0o022);
    Ok(Inherited { limits, unsafe_limit })
}
