//! First thing in `main`: put the inherited process state, which the caller controls, into a
//! known shape before anything else happens.

use crate::sys;

/// What the caller had, kept so the command can get it back (we raise limits for ourselves).
#[derive(Debug, Clone, Copy)]
pub struct Inherited {
    pub fsize: Option<(u64, u64)>,
}

/// Failures here are fatal before any output is possible, so there is no error type: the caller
/// exits 1.
#[derive(Debug)]
pub struct HardenError(pub &'static str);

/// Standard fds valid, every other fd closed, no core dumps, not dumpable (no ptrace by the
/// caller), signals at their defaults with none blocked, a fixed umask, and a file-size limit
/// that cannot cut an audit record in half.
pub fn harden() -> Result<Inherited, HardenError> {
    // Fill closed 0-2 first: otherwise the next file we open (config, audit log) would become
    // the caller's "stderr".
    for fd in 0..3 {
        if !sys::fd_is_open(fd) {
            let got = sys::open_dev_null().map_err(|_| HardenError("cannot open /dev/null for a closed standard descriptor"))?;
            if got != fd {
                sys::close_raw(got);
                return Err(HardenError("standard descriptors in an unexpected state"));
            }
        }
    }
    sys::close_from(3);
    sys::set_not_dumpable().map_err(|_| HardenError("cannot mark the process not dumpable"))?;
    sys::set_rlimit(libc::RLIMIT_CORE, 0, 0).map_err(|_| HardenError("cannot disable core dumps"))?;
    let fsize = sys::get_rlimit(libc::RLIMIT_FSIZE).ok();
    // As root we may raise it; if that fails, audit writes still check for short writes.
    let _ = sys::set_rlimit(libc::RLIMIT_FSIZE, libc::RLIM_INFINITY, libc::RLIM_INFINITY);
    sys::reset_signal_dispositions();
    sys::set_sigmask(&sys::SigSet::empty()).map_err(|_| HardenError("cannot reset the signal mask"))?;
    // The caller's umask (0777, say) must not shape our files or the command's.
    sys::set_umask(0o022);
    Ok(Inherited { fsize })
}
