//! Clocks and sleeping: the wall clock for records, the monotonic clock every deadline is
//! measured on (`time::Deadline`, `within`), and a short sleep. Called by the root process and
//! by both confined children (their deadlines).

/// Seconds and nanoseconds since the epoch.
pub fn realtime() -> (i64, u32) {
    clock(libc::CLOCK_REALTIME)
}

/// A monotonic clock in milliseconds, for durations.
pub fn monotonic_ms() -> u64 {
    let (s, ns) = clock(libc::CLOCK_MONOTONIC);
    (s.max(0) as u64).saturating_mul(1000).saturating_add(u64::from(ns / 1_000_000))
}

fn clock(id: libc::clockid_t) -> (i64, u32) {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is valid for writes; both clocks always exist on Linux.
    unsafe { libc::clock_gettime(id, &mut ts) };
    (ts.tv_sec, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}

/// Sleeps for `ms` milliseconds (an interrupted sleep just ends early).
pub fn sleep_ms(ms: u64) {
    let ts = libc::timespec { tv_sec: (ms / 1000) as libc::time_t, tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long };
    // SAFETY: ts is a valid timespec; the remainder is not wanted.
    unsafe { libc::nanosleep(&ts, core::ptr::null_mut()) };
}
