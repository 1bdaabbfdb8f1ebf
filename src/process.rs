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

/// Resource limits we normalise for ourselves and give back to the command.
const LIMITS: [(sys::Resource, u64); 5] = [
    // A tiny file-size limit would cut an audit record in half.
    (libc::RLIMIT_FSIZE, libc::RLIM_INFINITY),
    // Config, key files, directory walk, audit log and pipes need a handful of descriptors.
    (libc::RLIMIT_NOFILE, 1024),
    // Tiny memory or stack limits would make us abort halfway, after a record but before exec.
    (libc::RLIMIT_AS, libc::RLIM_INFINITY),
    (libc::RLIMIT_DATA, libc::RLIM_INFINITY),
    (libc::RLIMIT_STACK, 8 << 20),
];

/// The least address space and data size escapes needs (it uses a few MiB).
const MIN_MEMORY: u64 = 32 << 20;

/// What the caller had, kept so the command gets it back.
#[derive(Debug, Clone, Copy)]
pub struct Inherited {
    /// (resource, soft, hard) for each limit we changed.
    pub limits: [Option<(sys::Resource, u64, u64)>; 5],
}

/// Failures here are fatal before any output is possible, so there is no error type: the caller
/// exits 1.
#[derive(Debug)]
pub struct HardenError(pub &'static str);

/// Standard fds valid, every other fd closed, no core dumps, not dumpable (no ptrace by the
/// caller), real and saved ids root (so the caller cannot stop or kill us halfway, e.g. while we
/// hold the audit log's lock), signals at their defaults with none blocked, a fixed umask, and
/// resource limits that cannot cut an audit record in half.
pub fn harden() -> Result<Inherited, HardenError> {
    // Fill closed 0-2 first: otherwise the next file we open (config, audit log) would become
    // the caller's "stderr".
    for (fd, closed) in (0..3).zip(sys::closed_std_fds()) {
        if closed {
            let got = sys::open_dev_null().map_err(|_| HardenError("cannot open /dev/null for a closed standard descriptor"))?;
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
    sys::set_rlimit(libc::RLIMIT_CORE, 0, 0).map_err(|_| HardenError("cannot disable core dumps"))?;
    let mut limits = [None; 5];
    for (slot, &(res, want)) in limits.iter_mut().zip(LIMITS.iter()) {
        let Ok((soft, hard)) = sys::get_rlimit(res) else { continue };
        let mut now = soft;
        if soft < want || hard < want {
            // If raising fails (not root), later steps still fail closed on their own.
            if sys::set_rlimit(res, soft.max(want), hard.max(want)).is_ok() {
                *slot = Some((res, soft, hard));
                now = soft.max(want);
            }
        }
        // Below this we would abort on an allocation halfway through, unrecorded: refuse up front.
        if (res == libc::RLIMIT_AS || res == libc::RLIMIT_DATA) && now < MIN_MEMORY {
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
    Ok(Inherited { limits })
}
