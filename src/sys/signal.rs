//! Signals and timers: dispositions at start-up and before exec, masks, sigwaitinfo, interval
//! timers, and [`within`], the alarm that bounds a read or write of a descriptor the caller
//! gave us (fd.rs). Called by the root process only (and by its exec and helper children before
//! execve); the confined children make none of these calls.

use opwire::sys::{check, Errno};

use super::clock::monotonic_ms;

/// The kernel's `struct sigaction` for rt_sigaction(2) (x86_64 and the generic layout), used so
/// that glibc's reserved signals 32 and 33, which its sigaction() refuses, are reset too.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// Sets `sig`'s disposition to default or ignore with the raw syscall; needs no restorer.
fn raw_disposition(sig: i32, ignore: bool) {
    let sa =
        KernelSigaction { handler: if ignore { libc::SIG_IGN } else { libc::SIG_DFL }, flags: 0, restorer: 0, mask: 0 };
    // SAFETY: sa is a valid kernel sigaction; the old action is not wanted; 8 = sizeof(sigset)
    // as the kernel counts it.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &sa as *const KernelSigaction,
            core::ptr::null_mut::<KernelSigaction>(),
            8usize,
        )
    };
}

/// Every signal number whose disposition can be changed (all but KILL and STOP).
fn catchable_signals() -> impl Iterator<Item = i32> {
    (1..65).filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP)
}

/// Signals we ignore for ourselves: a closed stderr pipe (SIGPIPE) or a file-size limit we could
/// not raise (SIGXFSZ) must turn into a failed write we handle, not a death between the checks
/// and the audit record.
const IGNORED_FOR_US: [i32; 2] = [libc::SIGPIPE, libc::SIGXFSZ];

/// Every signal back to its default action, except SIGPIPE and SIGXFSZ, which we ignore.
/// `ignored` is the caller's SigIgn mask (bit n-1 for signal n) when it is known: after execve
/// a disposition is either default or ignored, so only the ignored ones need a syscall. When it
/// is not known, every catchable signal gets one.
pub fn reset_signal_dispositions(ignored: Option<u64>) {
    for sig in catchable_signals() {
        let ours = IGNORED_FOR_US.contains(&sig);
        if ours || ignored.is_none_or(|mask| mask & (1u64 << (sig - 1)) != 0) {
            raw_disposition(sig, ours);
        }
    }
}

/// In the child before exec: SIGPIPE and SIGXFSZ back to their defaults (an ignored
/// disposition would survive execve).
pub fn restore_ignored_signals() {
    for sig in IGNORED_FOR_US {
        raw_disposition(sig, false);
    }
}

/// Cancels interval timers the caller left running: an inherited alarm would otherwise kill us
/// while we wait for the command.
pub fn clear_interval_timers() {
    let zero = libc::itimerval {
        it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
        it_value: libc::timeval { tv_sec: 0, tv_usec: 0 },
    };
    for which in [libc::ITIMER_REAL, libc::ITIMER_VIRTUAL, libc::ITIMER_PROF] {
        // SAFETY: zero is a valid itimerval; the old value is not wanted.
        unsafe { libc::setitimer(which, &zero, core::ptr::null_mut()) };
    }
}

/// A signal set, for masks and sigwaitinfo.
pub struct SigSet(libc::sigset_t);

impl SigSet {
    pub fn empty() -> SigSet {
        // SAFETY: sigemptyset initialises the set it is given.
        unsafe {
            let mut s: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut s);
            SigSet(s)
        }
    }
    /// Every signal (the kernel silently leaves KILL and STOP unblockable).
    pub fn full() -> SigSet {
        // SAFETY: sigfillset initialises the set it is given.
        unsafe {
            let mut s: libc::sigset_t = core::mem::zeroed();
            libc::sigfillset(&mut s);
            SigSet(s)
        }
    }

    pub fn of(signals: &[i32]) -> SigSet {
        let mut s = SigSet::empty();
        for &sig in signals {
            // SAFETY: s.0 is an initialised set; sig is a valid signal number.
            unsafe { libc::sigaddset(&mut s.0, sig) };
        }
        s
    }
}

/// Adds `set` to the signal mask; returns the mask as it was.
pub fn block_signals(set: &SigSet) -> Result<SigSet, Errno> {
    let mut old = SigSet::empty();
    // SAFETY: both sets are initialised.
    check(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set.0, &mut old.0) })?;
    Ok(old)
}

/// Replaces the signal mask.
pub fn set_sigmask(set: &SigSet) -> Result<(), Errno> {
    // SAFETY: set is initialised; old mask not wanted.
    let r = unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set.0, core::ptr::null_mut()) };
    check(r).map(|_| ())
}

/// A signal taken by sigwaitinfo: number, and whether a process (not the kernel) sent it.
pub struct Received {
    pub signo: i32,
    pub from_process: bool,
}

pub fn sigwaitinfo(set: &SigSet) -> Result<Received, Errno> {
    // SAFETY: info is valid for writes; set is initialised.
    unsafe {
        let mut info: libc::siginfo_t = core::mem::zeroed();
        check(libc::sigwaitinfo(&set.0, &mut info))?;
        let code = info.si_code;
        Ok(Received {
            signo: info.si_signo,
            from_process: code == libc::SI_USER || code == libc::SI_QUEUE || code == libc::SI_TKILL,
        })
    }
}

/// Once a bound has passed, SIGALRM comes again this often, so a read or write that started
/// just after one alarm is still cut short by the next.
const ALARM_REPEAT_MS: u64 = 20;

/// SIGALRM's handler while [`within`] runs: it only has to exist, so that the blocked call
/// returns EINTR instead of the signal killing us.
extern "C" fn on_alarm(_: libc::c_int) {}

fn timeval_ms(ms: u64) -> libc::timeval {
    libc::timeval { tv_sec: (ms / 1000) as libc::time_t, tv_usec: ((ms % 1000) * 1000) as libc::suseconds_t }
}

/// The one bound on blocking reads and writes of descriptors the caller gave us (stdin,
/// stdout, stderr): runs `op` with SIGALRM due in `ms` (and every ALARM_REPEAT_MS after),
/// taken by a handler that does nothing and is installed without SA_RESTART, so a read(2) or
/// write(2) blocked on such a descriptor returns EINTR; `op` gets the deadline on the
/// monotonic clock and gives up once an EINTR comes after it. The descriptor's flags are never
/// touched (O_NONBLOCK would change the caller's shared open file description). SIGALRM is
/// unblocked for the call (escapes blocks every signal while it waits for the command and
/// inside audit appends); the timer, the mask and SIGALRM's disposition are restored after.
/// Err only when the alarm cannot be set up, and then `op` does not run.
pub(super) fn within<T>(ms: u64, op: impl FnOnce(u64) -> T) -> Result<T, Errno> {
    let deadline = monotonic_ms().saturating_add(ms);
    // SAFETY: an all-zero sigaction is a valid value (SIG_DFL, no flags, empty mask).
    let mut act: libc::sigaction = unsafe { core::mem::zeroed() };
    act.sa_sigaction = on_alarm as extern "C" fn(libc::c_int) as libc::sighandler_t;
    act.sa_mask = SigSet::empty().0;
    // SAFETY: as above; the old action is written here.
    let mut old_act: libc::sigaction = unsafe { core::mem::zeroed() };
    // SAFETY: both point to valid sigaction values; glibc supplies the restorer; no SA_RESTART.
    check(unsafe { libc::sigaction(libc::SIGALRM, &act, &mut old_act) })?;
    let timer = libc::itimerval { it_interval: timeval_ms(ALARM_REPEAT_MS), it_value: timeval_ms(ms.max(1)) };
    let off = libc::itimerval { it_interval: timeval_ms(0), it_value: timeval_ms(0) };
    // SAFETY: valid itimerval; the old value is not wanted (process::harden cleared the timer).
    let armed = check(unsafe { libc::setitimer(libc::ITIMER_REAL, &timer, core::ptr::null_mut()) });
    let mut old_mask = SigSet::empty();
    let unblocked = armed.and_then(|_| {
        // SAFETY: both sets are initialised.
        check(unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &SigSet::of(&[libc::SIGALRM]).0, &mut old_mask.0) })
    });
    let result = unblocked.map(|_| op(deadline));
    // SAFETY: as above. Stopped first: an alarm still pending now goes to our handler.
    unsafe { libc::setitimer(libc::ITIMER_REAL, &off, core::ptr::null_mut()) };
    if unblocked.is_ok() {
        let _ = set_sigmask(&old_mask);
    }
    // SAFETY: old_act is what sigaction returned above.
    unsafe { libc::sigaction(libc::SIGALRM, &old_act, core::ptr::null_mut()) };
    result
}
