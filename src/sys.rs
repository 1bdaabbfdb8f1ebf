//! The only place with `unsafe`: thin, safe wrappers over the libc calls escapes makes.
//!
//! Every raw syscall of the binary goes through here, which keeps `audit/syscalls` easy to keep
//! true. Wrappers return `Result<_, Errno>` and never panic.

use core::ffi::CStr;
use std::ffi::CString;

pub use opwire::sys::{check, Errno, Fd, ReadError, Stat};
use opwire::sys::{read_into, read_to_end, read_to_end_until};

// --- the process entry point (x86_64 Linux; build.rs links the escapes binary with it) -------

// escapes_start runs first, before glibc's _start: it walks the initial stack's envp and renames
// in place (first byte to '_') every entry named GLIBC_TUNABLES or starting with LD_ or MALLOC_,
// then jumps to _start with the registers the kernel (or, dynamically linked, ld.so) set up.
// In the static binary glibc's start-up parses GLIBC_TUNABLES and the MALLOC_ aliases of its
// tunables (filtered for AT_SECURE, but parsed) and reads LD_LIBRARY_PATH, LD_BIND_NOW and
// others before main; renamed, none of them is read. Dynamically linked, ld.so has read them
// before this runs; what is left is renamed before libc's start-up and escapes' code.
//
// It touches no global data and calls nothing: static-pie relocations have not run yet. It
// reads only the stack ([rsp] = argc, then argv, NULL, envp, NULL) and the strings it points
// to, compares byte by byte (a NUL mismatches every letter, so no read goes past a string's
// end), writes one byte into a matching string, and keeps rsp and rdx (the atexit function
// _start passes on) as they were; rax, rcx, rsi and rdi are free at process entry.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
core::arch::global_asm!(
    ".pushsection .text.escapes_start,\"ax\",@progbits",
    ".globl escapes_start",
    ".type escapes_start,@function",
    "escapes_start:",
    "    mov rcx, qword ptr [rsp]",
    "    lea rsi, [rsp + 8*rcx + 16]",
    "2:",
    "    mov rdi, qword ptr [rsi]",
    "    test rdi, rdi",
    "    jz 9f",
    "    add rsi, 8",
    "    movzx eax, byte ptr [rdi]",
    "    cmp al, 0x4c", // L: LD_
    "    je 3f",
    "    cmp al, 0x4d", // M: MALLOC_
    "    je 4f",
    "    cmp al, 0x47", // G: GLIBC_TUNABLES=
    "    je 5f",
    "    jmp 2b",
    "3:",
    "    cmp byte ptr [rdi + 1], 0x44", // D
    "    jne 2b",
    "    cmp byte ptr [rdi + 2], 0x5f", // _
    "    jne 2b",
    "    jmp 8f",
    "4:",
    "    cmp byte ptr [rdi + 1], 0x41", // A
    "    jne 2b",
    "    cmp byte ptr [rdi + 2], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 3], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 4], 0x4f", // O
    "    jne 2b",
    "    cmp byte ptr [rdi + 5], 0x43", // C
    "    jne 2b",
    "    cmp byte ptr [rdi + 6], 0x5f", // _
    "    jne 2b",
    "    jmp 8f",
    "5:",
    "    cmp byte ptr [rdi + 1], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 2], 0x49", // I
    "    jne 2b",
    "    cmp byte ptr [rdi + 3], 0x42", // B
    "    jne 2b",
    "    cmp byte ptr [rdi + 4], 0x43", // C
    "    jne 2b",
    "    cmp byte ptr [rdi + 5], 0x5f", // _
    "    jne 2b",
    "    cmp byte ptr [rdi + 6], 0x54", // T
    "    jne 2b",
    "    cmp byte ptr [rdi + 7], 0x55", // U
    "    jne 2b",
    "    cmp byte ptr [rdi + 8], 0x4e", // N
    "    jne 2b",
    "    cmp byte ptr [rdi + 9], 0x41", // A
    "    jne 2b",
    "    cmp byte ptr [rdi + 10], 0x42", // B
    "    jne 2b",
    "    cmp byte ptr [rdi + 11], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 12], 0x45", // E
    "    jne 2b",
    "    cmp byte ptr [rdi + 13], 0x53", // S
    "    jne 2b",
    "    cmp byte ptr [rdi + 14], 0x3d", // =
    "    jne 2b",
    "8:",
    "    mov byte ptr [rdi], 0x5f", // the first byte becomes _
    "    jmp 2b",
    "9:",
    "    jmp _start",
    ".size escapes_start, . - escapes_start",
    ".popsection",
);


pub const O_RDONLY: i32 = libc::O_RDONLY;
pub const O_PATH: i32 = libc::O_PATH;
pub const O_DIRECTORY: i32 = libc::O_DIRECTORY;
pub const O_NOFOLLOW: i32 = libc::O_NOFOLLOW;
pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;
pub const O_RDWR: i32 = libc::O_RDWR;
pub const O_APPEND: i32 = libc::O_APPEND;
pub const O_CREAT: i32 = libc::O_CREAT;
pub const O_NOCTTY: i32 = libc::O_NOCTTY;

pub use opwire::sys::{fstat, openat, readlink_fd};

/// Reads until EOF, refusing more than `cap` bytes (reads at most cap+1 before refusing).
pub fn read_capped(fd: &Fd, cap: usize) -> Result<Vec<u8>, ReadError> {
    read_to_end(fd.raw(), cap, None)
}

/// [`read_capped`] of a regular file whose fstat size is `size`: once that many bytes have
/// come, a read that stopped short of its buffer was the end of the file, so the extra read(2)
/// that would return 0 is skipped. A file that grows meanwhile is read like any other.
pub fn read_capped_sized(fd: &Fd, cap: usize, size: i64) -> Result<Vec<u8>, ReadError> {
    let want = usize::try_from(size.max(0)).unwrap_or(usize::MAX);
    if want > cap {
        return Err(ReadError::TooLarge);
    }
    read_to_end(fd.raw(), cap, Some(want))
}

/// Same as [`read_capped`] on a raw descriptor of our own (a pipe a jacket inherited).
pub fn read_capped_raw(fd: libc::c_int, cap: usize) -> Result<Vec<u8>, ReadError> {
    read_to_end(fd, cap, None)
}

/// Same as [`read_capped`] on a descriptor the caller gave us (stdin), giving up with ETIMEDOUT
/// after `ms` ([`within`]).
pub fn read_capped_within(fd: libc::c_int, cap: usize, ms: u64) -> Result<Vec<u8>, ReadError> {
    within(ms, |deadline| read_to_end_until(fd, cap, None, &|| monotonic_ms() >= deadline)).map_err(ReadError::Io)?
}

/// One write(2) call, retried on EINTR; returns how many bytes were written.
pub fn write_once(fd: libc::c_int, data: &[u8]) -> Result<usize, Errno> {
    loop {
        match write_raw(fd, data) {
            Err(e) if e.0 == libc::EINTR => continue,
            r => return r,
        }
    }
}

/// One write(2) call, EINTR included.
fn write_raw(fd: libc::c_int, data: &[u8]) -> Result<usize, Errno> {
    // SAFETY: data is valid for reads of data.len() bytes.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    if n >= 0 {
        Ok(n as usize)
    } else {
        Err(Errno::last())
    }
}

/// Writes all of `data` to `fd`, resuming after short writes (pipes); stops at an error. For
/// descriptors of our own (pipes to children); the caller's go through [`write_all_within`].
pub fn write_all(fd: libc::c_int, data: &[u8]) -> Result<(), Errno> {
    let mut rest = data;
    while !rest.is_empty() {
        match write_once(fd, rest)? {
            0 => return Err(Errno(libc::EIO)),
            n => rest = rest.get(n..).unwrap_or(&[]),
        }
    }
    Ok(())
}

/// Writes all of `data` to a descriptor the caller gave us, resuming after short writes
/// (pipes), giving up with ETIMEDOUT after `ms` ([`within`]): a pipe nobody drains cannot hold
/// escapes. What was written by then stays written.
pub fn write_all_within(fd: libc::c_int, data: &[u8], ms: u64) -> Result<(), Errno> {
    within(ms, |deadline| {
        let mut rest = data;
        while !rest.is_empty() {
            // Checked before every call, so a reader that drains a byte at a time cannot keep
            // us past the deadline either.
            if monotonic_ms() >= deadline {
                return Err(Errno(libc::ETIMEDOUT));
            }
            match write_raw(fd, rest) {
                Ok(0) => return Err(Errno(libc::EIO)),
                Ok(n) => rest = rest.get(n..).unwrap_or(&[]),
                Err(e) if e.0 == libc::EINTR => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })?
}

/// How long one line on stderr may take to write before escapes gives up on it.
pub const STDERR_WAIT_MS: u64 = 1_000;

/// How long a report on stdout (`--help`, `--version`, `--check`, `--check-config`,
/// `--verify-log`) may take to write.
pub const STDOUT_WAIT_MS: u64 = 5_000;

/// Best-effort write of a whole message to stderr (fd 2), for at most STDERR_WAIT_MS; errors
/// are ignored on purpose: there is nowhere left to report them, and the audit record, written
/// first, already says what happened.
pub fn write_stderr(msg: &[u8]) {
    let _ = write_all_within(2, msg, STDERR_WAIT_MS);
}

/// A report on stdout (fd 1), for at most STDOUT_WAIT_MS.
pub fn write_stdout(msg: &[u8]) -> Result<(), Errno> {
    write_all_within(1, msg, STDOUT_WAIT_MS)
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
fn within<T>(ms: u64, op: impl FnOnce(u64) -> T) -> Result<T, Errno> {
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

pub fn fsync(fd: &Fd) -> Result<(), Errno> {
    // SAFETY: plain syscall on an open descriptor.
    check(unsafe { libc::fsync(fd.raw()) }).map(|_| ())
}

pub fn flock_exclusive(fd: &Fd) -> Result<(), Errno> {
    loop {
        // SAFETY: plain syscall on an open descriptor.
        match check(unsafe { libc::flock(fd.raw(), libc::LOCK_EX) }) {
            Ok(_) => return Ok(()),
            Err(e) if e.0 == libc::EINTR => continue,
            Err(e) => return Err(e),
        }
    }
}

/// One non-blocking attempt at an exclusive lock: Ok(false) while someone else holds it.
pub fn flock_try_exclusive(fd: &Fd) -> Result<bool, Errno> {
    // SAFETY: plain syscall on an open descriptor.
    match check(unsafe { libc::flock(fd.raw(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(e) if e.0 == libc::EWOULDBLOCK || e.0 == libc::EINTR => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sleeps for `ms` milliseconds (an interrupted sleep just ends early).
pub fn sleep_ms(ms: u64) {
    let ts = libc::timespec { tv_sec: (ms / 1000) as libc::time_t, tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long };
    // SAFETY: ts is a valid timespec; the remainder is not wanted.
    unsafe { libc::nanosleep(&ts, core::ptr::null_mut()) };
}

pub fn flock_unlock(fd: &Fd) {
    // SAFETY: plain syscall on an open descriptor; failure only delays the unlock to close.
    unsafe { libc::flock(fd.raw(), libc::LOCK_UN) };
}

pub fn ftruncate(fd: &Fd, len: i64) -> Result<(), Errno> {
    // SAFETY: plain syscall on an open descriptor.
    check(unsafe { libc::ftruncate(fd.raw(), len) }).map(|_| ())
}

pub fn pread(fd: &Fd, buf: &mut [u8], offset: i64) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::pread(fd.raw(), buf.as_mut_ptr().cast(), buf.len(), offset) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

// --- credentials -------------------------------------------------------------------------------

pub fn getuid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::getuid() }
}
pub fn getgid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::getgid() }
}
pub fn geteuid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::geteuid() }
}
pub fn getegid() -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::getegid() }
}

/// Sets only the effective uid (real and saved stay), to act with the caller's rights.
pub fn set_euid(uid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall; -1 leaves real and saved ids unchanged.
    check(unsafe { libc::setresuid(u32::MAX, uid, u32::MAX) }).map(|_| ())
}
pub fn set_egid(gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall; -1 leaves real and saved ids unchanged.
    check(unsafe { libc::setresgid(u32::MAX, gid, u32::MAX) }).map(|_| ())
}

/// Sets real, effective and saved ids at once, so none of root is left.
pub fn set_all_uids(uid: u32) -> Result<(), Errno> {
    set_uids(uid, uid, uid)
}

/// setresuid(2) as given; `u32::MAX` (-1) leaves that id unchanged.
pub fn set_uids(real: u32, effective: u32, saved: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall.
    check(unsafe { libc::setresuid(real, effective, saved) }).map(|_| ())
}
pub fn set_all_gids(gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall.
    check(unsafe { libc::setresgid(gid, gid, gid) }).map(|_| ())
}

pub fn getresuid() -> Result<(u32, u32, u32), Errno> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: the three pointers are valid for writes.
    check(unsafe { libc::getresuid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}
pub fn getresgid() -> Result<(u32, u32, u32), Errno> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: the three pointers are valid for writes.
    check(unsafe { libc::getresgid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

pub fn setgroups(gids: &[u32]) -> Result<(), Errno> {
    // SAFETY: gids points to gids.len() valid gid_t values.
    check(unsafe { libc::setgroups(gids.len(), gids.as_ptr()) }).map(|_| ())
}

/// The supplementary groups, when there are at most `cap` of them (EINVAL when more).
pub fn getgroups(cap: usize) -> Result<Vec<u32>, Errno> {
    let mut buf = vec![0u32; cap.max(1)];
    let len = libc::c_int::try_from(buf.len()).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: buf holds `len` gid_t slots, the size we pass.
    let n = check(unsafe { libc::getgroups(len, buf.as_mut_ptr()) })?;
    buf.truncate(n as usize);
    Ok(buf)
}

// --- process state -----------------------------------------------------------------------------

/// Which of the descriptors 0, 1 and 2 are closed, in one poll(2) in the usual case: an open
/// one never reports POLLNVAL, a closed one does. An O_PATH descriptor reports POLLNVAL too,
/// so only those are asked again with F_GETFD (all three, if poll itself fails).
pub fn closed_std_fds() -> [bool; 3] {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
    // SAFETY: fds is a valid array of 3 pollfd; timeout 0 never blocks.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } >= 0;
    fds.map(|p| (!polled || p.revents & libc::POLLNVAL != 0) && !fd_is_open(p.fd))
}

/// True when descriptor `fd` is open.
fn fd_is_open(fd: libc::c_int) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    (unsafe { libc::fcntl(fd, libc::F_GETFD) }) >= 0
}

/// Opens /dev/null read-write; used to fill closed standard descriptors.
pub fn open_dev_null() -> Result<libc::c_int, Errno> {
    // SAFETY: constant NUL-terminated path. No O_CLOEXEC: this descriptor becomes fd 0, 1 or 2.
    check(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_NOCTTY) })
}

pub fn close_raw(fd: libc::c_int) {
    // SAFETY: closing a descriptor number; harmless if not open.
    unsafe { libc::close(fd) };
}

/// Closes every descriptor below `below`.
pub fn close_below(below: u32) {
    if let Some(last) = below.checked_sub(1) {
        close_fds(0, last);
    }
}

/// Closes every descriptor >= `from`.
pub fn close_from(from: u32) {
    close_fds(from, u32::MAX);
}

/// Closes descriptors `first..=last`: close_range(2) where the kernel has it, else one by one
/// up to the descriptor limit.
fn close_fds(first: u32, last: u32) {
    // SAFETY: close_range takes plain integers and only closes descriptors.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    if r == 0 {
        return;
    }
    let max = match get_rlimit(libc::RLIMIT_NOFILE) {
        Ok((_, hard)) if hard != libc::RLIM_INFINITY => hard.min(1 << 20),
        _ => 1 << 16,
    };
    for fd in u64::from(first)..max.min(u64::from(last).saturating_add(1)) {
        close_raw(fd as libc::c_int);
    }
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

pub fn set_not_dumpable() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) }).map(|_| ())
}

/// PR_GET_DUMPABLE: 0 when this process is not dumpable.
pub fn dumpable() -> Result<i32, Errno> {
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) })
}

pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: cannot fail.
    unsafe { libc::umask(mask) }
}

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
    let sa = KernelSigaction { handler: if ignore { libc::SIG_IGN } else { libc::SIG_DFL }, flags: 0, restorer: 0, mask: 0 };
    // SAFETY: sa is a valid kernel sigaction; the old action is not wanted; 8 = sizeof(sigset)
    // as the kernel counts it.
    unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, &sa as *const KernelSigaction, core::ptr::null_mut::<KernelSigaction>(), 8usize) };
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

/// This process's `/proc/self/status` in one read(2) (the kernel hands a seq_file over whole
/// when the buffer is big enough; a short one only makes the SigIgn parse fail, and the caller
/// then resets every signal), or an error where /proc is not mounted.
pub fn read_proc_self_status() -> Result<Vec<u8>, Errno> {
    let fd = openat(None, c"/proc/self/status", libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY, 0)?;
    let mut buf = Vec::new();
    read_append(&fd, &mut buf, 8192)?;
    Ok(buf)
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
        Ok(Received { signo: info.si_signo, from_process: code == libc::SI_USER || code == libc::SI_QUEUE || code == libc::SI_TKILL })
    }
}

// --- processes ---------------------------------------------------------------------------------

pub enum Forked {
    Child,
    Parent(libc::pid_t),
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
        p => Ok(Forked::Parent(p)),
    }
}

pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and runs no atexit handlers (right in a forked child).
    unsafe { libc::_exit(code) }
}

pub fn getpid() -> i32 {
    // SAFETY: cannot fail.
    unsafe { libc::getpid() }
}

pub fn kill(pid: libc::pid_t, sig: i32) {
    // SAFETY: plain syscall; failure (child gone) is harmless.
    unsafe { libc::kill(pid, sig) };
}

/// Non-blocking reap: Some(status) once the child has ended.
pub fn waitpid_nohang(pid: libc::pid_t) -> Result<Option<i32>, Errno> {
    let mut status = 0;
    // SAFETY: status is valid for writes.
    let r = check(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) })?;
    Ok(if r == pid { Some(status) } else { None })
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

pub fn pipe_cloexec() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just returned these two descriptors, which nothing else owns.
    Ok(unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) })
}

/// The target of the symbolic link `path` (EINVAL when it is not a link), at most 4 KiB.
pub fn readlink(path: &CStr) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: path is NUL-terminated; buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(Errno::last());
    }
    buf.truncate((n as usize).min(buf.len()));
    Ok(buf)
}

/// Lets `fd` survive execve (clears FD_CLOEXEC): for a script executed from its descriptor,
/// whose interpreter then opens `/dev/fd/N`, the very file, instead of a path.
pub fn clear_cloexec(fd: &Fd) -> Result<(), Errno> {
    // SAFETY: F_SETFD only changes this descriptor's flags.
    check(unsafe { libc::fcntl(fd.raw(), libc::F_SETFD, 0) }).map(|_| ())
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
        libc::syscall(libc::SYS_execveat, fd.raw(), c"".as_ptr(), args.argv.as_ptr(), args.envp.as_ptr(), libc::AT_EMPTY_PATH);
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

// --- facts about the system --------------------------------------------------------------------

/// The kernel's node name, from uname(2) (never from $HOSTNAME).
pub fn hostname() -> Result<String, Errno> {
    // SAFETY: a zeroed utsname is a valid out-parameter.
    let mut u: libc::utsname = unsafe { core::mem::zeroed() };
    // SAFETY: u is valid for writes.
    check(unsafe { libc::uname(&mut u) })?;
    let bytes: Vec<u8> = u.nodename.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8(bytes).map_err(|_| Errno(libc::EINVAL))
}

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

/// The working directory, or None when it is deleted, unreadable or too long.
pub fn getcwd() -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let p = unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
    if p.is_null() {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0)?;
    buf.truncate(len);
    // Linux prefixes "(unreachable)" when the cwd is outside our root.
    if buf.first() != Some(&b'/') {
        return None;
    }
    Some(buf)
}

// --- network and cache (the IdP path: net, dns, keys' JWKS cache) ------------------------------

pub const O_WRONLY: i32 = libc::O_WRONLY;
pub const O_EXCL: i32 = libc::O_EXCL;
pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;

/// A stream (TCP) or datagram (UDP) socket for `addr`'s family, non-blocking and close-on-exec
/// from the start, so no timeout can be forgotten and no descriptor leaks into the command.
pub fn socket(addr: &std::net::SocketAddr, datagram: bool) -> Result<Fd, Errno> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let kind = if datagram { libc::SOCK_DGRAM } else { libc::SOCK_STREAM };
    // SAFETY: plain syscall with integer arguments.
    let fd = check(unsafe { libc::socket(family, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket(2) just returned this descriptor, which nothing else owns.
    Ok(unsafe { Fd::from_raw(fd) })
}

/// TCP_NODELAY: our requests go out in a few small TLS records; without it Nagle holds the last
/// one until the peer's delayed ACK (about 40 ms on loopback).
pub fn set_tcp_nodelay(fd: &Fd) -> Result<(), Errno> {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int for the duration of the call, and its size is passed.
    let r = unsafe {
        libc::setsockopt(fd.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY, (&one as *const libc::c_int).cast(), core::mem::size_of::<libc::c_int>() as libc::socklen_t)
    };
    check(r).map(|_| ())
}

/// connect(2) on a non-blocking socket: `Err(EINPROGRESS)` means "wait for POLLOUT, then ask
/// [`socket_error`]".
pub fn connect(fd: &Fd, addr: &std::net::SocketAddr) -> Result<(), Errno> {
    match addr {
        std::net::SocketAddr::V4(a) => {
            // SAFETY: an all-zero sockaddr_in is valid; the fields are filled below.
            let mut sa: libc::sockaddr_in = unsafe { core::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_port = a.port().to_be();
            sa.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            let len = core::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: sa is a valid sockaddr_in of the length passed.
            check(unsafe { libc::connect(fd.raw(), (&sa as *const libc::sockaddr_in).cast(), len) }).map(|_| ())
        }
        std::net::SocketAddr::V6(a) => {
            // SAFETY: an all-zero sockaddr_in6 is valid; the fields are filled below.
            let mut sa: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = a.port().to_be();
            sa.sin6_addr.s6_addr = a.ip().octets();
            sa.sin6_flowinfo = a.flowinfo();
            sa.sin6_scope_id = a.scope_id();
            let len = core::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            // SAFETY: sa is a valid sockaddr_in6 of the length passed.
            check(unsafe { libc::connect(fd.raw(), (&sa as *const libc::sockaddr_in6).cast(), len) }).map(|_| ())
        }
    }
}

/// The pending error of a socket (SO_ERROR): 0 once a non-blocking connect has succeeded.
pub fn socket_error(fd: &Fd) -> Result<i32, Errno> {
    let mut err: libc::c_int = 0;
    let mut len = core::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: err and len are valid for writes and len holds err's size.
    check(unsafe { libc::getsockopt(fd.raw(), libc::SOL_SOCKET, libc::SO_ERROR, (&mut err as *mut libc::c_int).cast(), &mut len) })?;
    Ok(err)
}

/// Waits up to `timeout_ms` for `events` on one descriptor; returns the events that occurred
/// (0 on timeout or when a signal interrupted the wait: the caller re-checks its deadline).
pub fn poll_one(fd: libc::c_int, events: i16, timeout_ms: i32) -> Result<i16, Errno> {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: p is one valid pollfd.
    match check(unsafe { libc::poll(&mut p, 1, timeout_ms) }) {
        Ok(_) => Ok(p.revents),
        Err(e) if e.0 == libc::EINTR => Ok(0),
        Err(e) => Err(e),
    }
}

/// send(2) without SIGPIPE; EAGAIN comes back as an error for the caller to poll on.
pub fn send(fd: &Fd, data: &[u8]) -> Result<usize, Errno> {
    // SAFETY: data is valid for reads of data.len() bytes.
    let n = unsafe { libc::send(fd.raw(), data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// recv(2) into `buf`; 0 is end of stream.
pub fn recv(fd: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::recv(fd.raw(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// One read(2) of at most `max` bytes appended to `out`, into its spare capacity (nothing is
/// zeroed first); returns how many came, 0 at end of file.
pub fn read_append(fd: &Fd, out: &mut Vec<u8>, max: usize) -> Result<usize, Errno> {
    read_into(fd.raw(), out, max)
}

/// [`read_append`] on a descriptor number (the confined child's fd 0).
pub fn read_raw(fd: libc::c_int, out: &mut Vec<u8>, max: usize) -> Result<usize, Errno> {
    read_into(fd, out, max)
}

/// One read(2) on a descriptor we own (a pipe), at most `buf.len()` bytes; 0 is end of file.
pub fn read_some(fd: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = unsafe { libc::read(fd.raw(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// Blocking reap of one child; returns its wait status.
pub fn waitpid(pid: libc::pid_t) -> Result<i32, Errno> {
    let mut status = 0;
    loop {
        // SAFETY: status is valid for writes.
        match check(unsafe { libc::waitpid(pid, &mut status, 0) }) {
            Ok(_) => return Ok(status),
            Err(e) if e.0 == libc::EINTR => continue,
            Err(e) => return Err(e),
        }
    }
}

pub fn mkdirat(dir: &Fd, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: name is a valid NUL-terminated string; dir is open.
    check(unsafe { libc::mkdirat(dir.raw(), name.as_ptr(), mode) }).map(|_| ())
}

/// Renames within one directory (atomic replace of `to`).
pub fn renameat(dir: &Fd, from: &CStr, to: &CStr) -> Result<(), Errno> {
    // SAFETY: both names are valid NUL-terminated strings; dir is open.
    check(unsafe { libc::renameat(dir.raw(), from.as_ptr(), dir.raw(), to.as_ptr()) }).map(|_| ())
}

/// Removes a file (not a directory) from `dir`.
pub fn unlinkat(dir: &Fd, name: &CStr) -> Result<(), Errno> {
    // SAFETY: name is a valid NUL-terminated string; dir is open.
    check(unsafe { libc::unlinkat(dir.raw(), name.as_ptr(), 0) }).map(|_| ())
}

/// fchown(2) on an open descriptor (never by path, so no race with renames).
pub fn fchown(fd: &Fd, uid: u32, gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall on an open descriptor.
    check(unsafe { libc::fchown(fd.raw(), uid, gid) }).map(|_| ())
}

// --- helmets and jackets (jacket, exec) --------------------------------------------------------

pub const POLLHUP: i16 = libc::POLLHUP;
pub const POLLERR: i16 = libc::POLLERR;

/// dup2(2): `old` becomes `new` (without close-on-exec), for a helper's stdin and stdout.
pub fn dup2(old: libc::c_int, new: libc::c_int) -> Result<(), Errno> {
    loop {
        // SAFETY: plain syscall on descriptor numbers.
        match check(unsafe { libc::dup2(old, new) }) {
            Ok(_) => return Ok(()),
            Err(e) if e.0 == libc::EINTR => continue,
            Err(e) => return Err(e),
        }
    }
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

pub fn getppid() -> libc::pid_t {
    // SAFETY: cannot fail.
    unsafe { libc::getppid() }
}

/// poll(2) on several descriptors: `fds` holds (fd, events); returns each one's revents, all 0
/// on timeout or when a signal interrupted the wait (the caller re-checks its deadline).
pub fn poll_many(fds: &[(libc::c_int, i16)], timeout_ms: i32) -> Result<Vec<i16>, Errno> {
    let mut p: Vec<libc::pollfd> = fds.iter().map(|&(fd, events)| libc::pollfd { fd, events, revents: 0 }).collect();
    // SAFETY: p holds p.len() valid pollfd entries.
    match check(unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) }) {
        Ok(_) => Ok(p.iter().map(|x| x.revents).collect()),
        Err(e) if e.0 == libc::EINTR => Ok(vec![0; p.len()]),
        Err(e) => Err(e),
    }
}

// --- seccomp (the network child's confinement: src/seccomp.rs, audit/syscalls) -----------------

/// AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE); not exported by libc.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH_NATIVE: u32 = 0xC000_003E;
/// Offsets in `struct seccomp_data { int nr; __u32 arch; __u64 ip; __u64 args[6]; }`.
const SECCOMP_DATA_NR: u32 = 0;
const SECCOMP_DATA_ARCH: u32 = 4;

fn bpf_stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

fn bpf_jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16, jt, jf, k }
}

/// For the rest of this process's life (and of anything it could fork or exec), only the
/// syscalls numbered in `nrs` are allowed; any other call, or any call made through another
/// architecture's entry point (i386 `int 0x80`), kills the whole process with SIGSYS
/// (SECCOMP_RET_KILL_PROCESS). Sets PR_SET_NO_NEW_PRIVS first, as the kernel requires of an
/// unprivileged caller (and as we want: no setuid gain after this). x86_64 only: elsewhere it
/// fails with ENOSYS, and callers must then fail closed. At most 250 numbers (8-bit BPF jumps).
pub fn seccomp_allow_only(nrs: &[i64]) -> Result<(), Errno> {
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = nrs;
        return Err(Errno(libc::ENOSYS));
    }
    #[cfg(target_arch = "x86_64")]
    {
        if nrs.len() > 250 || nrs.iter().any(|&n| !(0..=i64::from(u32::MAX)).contains(&n)) {
            return Err(Errno(libc::EINVAL));
        }
        let n = nrs.len();
        let mut prog: Vec<libc::sock_filter> = Vec::with_capacity(n + 5);
        prog.push(bpf_stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, SECCOMP_DATA_ARCH));
        prog.push(bpf_jeq(AUDIT_ARCH_NATIVE, 1, 0));
        prog.push(bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS));
        prog.push(bpf_stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, SECCOMP_DATA_NR));
        // x32 calls (nr | 0x40000000) share the arch value and match no listed number.
        for (i, &nr) in nrs.iter().enumerate() {
            // From instruction i (0-based among the comparisons) to the ALLOW after the KILL.
            prog.push(bpf_jeq(nr as u32, (n - i) as u8, 0));
        }
        prog.push(bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS));
        prog.push(bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW));
        let fprog = libc::sock_fprog { len: prog.len() as libc::c_ushort, filter: prog.as_mut_ptr() };
        // SAFETY: prctl with integer arguments.
        check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) })?;
        // SAFETY: fprog points at `prog`, which is alive and holds fprog.len valid instructions
        // for the duration of the call; the kernel copies the program before returning.
        check(unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER as libc::c_ulong, &fprog as *const libc::sock_fprog as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) })?;
        Ok(())
    }
}

/// How a child ended, from its wait status: Some(signal) if a signal killed it.
pub fn killed_by(status: i32) -> Option<i32> {
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}

// --- the system-log copy (root::syslog) and following a rotated audit log (root::rotation) -----------

/// The metadata of `name` in the directory `dir` without following a symbolic link
/// (fstatat(AT_SYMLINK_NOFOLLOW)): a socket is inspected by name, since it cannot be opened.
pub fn fstatat_nofollow(dir: &Fd, name: &CStr) -> Result<Stat, Errno> {
    // SAFETY: a zeroed stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: name is NUL-terminated; st points to writable memory of the right size.
    check(unsafe { libc::fstatat(dir.raw(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(Stat::from(&st))
}

/// Whether `st` is a socket.
pub fn is_socket(st: &Stat) -> bool {
    st.mode & libc::S_IFMT == libc::S_IFSOCK
}

/// An AF_UNIX datagram socket (non-blocking, close-on-exec) connected to the socket at `path`,
/// so each record is one `send` and a full queue is EAGAIN, never a wait.
pub fn unix_datagram_connect(path: &[u8]) -> Result<Fd, Errno> {
    // SAFETY: a zeroed sockaddr_un is valid; sun_path is filled below.
    let mut sa: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    if path.is_empty() || path.len() >= sa.sun_path.len() || path.contains(&0) {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (slot, &b) in sa.sun_path.iter_mut().zip(path) {
        *slot = b as libc::c_char;
    }
    // SAFETY: plain syscall with integer arguments.
    let fd = check(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket(2) just returned this descriptor, which nothing else owns.
    let fd = unsafe { Fd::from_raw(fd) };
    let len = (core::mem::size_of::<libc::sa_family_t>() + path.len() + 1) as libc::socklen_t;
    // SAFETY: sa is a valid sockaddr_un; len covers the family, the path and its NUL.
    check(unsafe { libc::connect(fd.raw(), (&sa as *const libc::sockaddr_un).cast(), len) })?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (Fd, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("escapes-sys-test-{}-{}", getpid(), bytes.len()));
        std::fs::write(&path, bytes).unwrap();
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        (openat(None, &c, libc::O_RDONLY, 0).unwrap(), path)
    }

    #[test]
    fn a_sized_read_returns_the_whole_file_whatever_the_size_hint() {
        for len in [0usize, 1, 4095, 4096, 70_000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            // The real size, a stale smaller one (the file grew), and a stale larger one.
            for hint in [len as i64, len as i64 / 2, len as i64 + 10, -1] {
                let (fd, path) = file_with(&data);
                let got = read_capped_sized(&fd, 1 << 20, hint).ok();
                let _ = std::fs::remove_file(&path);
                assert_eq!(got.as_deref(), Some(&data[..]), "len {len} hint {hint}");
            }
        }
    }

    #[test]
    fn a_sized_read_keeps_its_cap() {
        let (fd, path) = file_with(&[7u8; 100]);
        assert!(matches!(read_capped_sized(&fd, 99, 100), Err(ReadError::TooLarge)));
        let (fd2, _) = file_with(&[7u8; 100]);
        // A stale small size does not let the file past the cap either.
        assert!(matches!(read_capped_sized(&fd2, 99, 10), Err(ReadError::TooLarge)));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn closed_standard_descriptors_are_seen_in_one_poll() {
        // The test harness has 0-2 open.
        assert_eq!(closed_std_fds(), [false, false, false]);
    }

    #[test]
    fn a_write_to_a_pipe_nobody_drains_gives_up_at_its_bound_and_puts_sigalrm_back() {
        // In a child: SIGALRM is process-directed, and the harness has other threads.
        // SAFETY (test): the child only makes syscalls and leaves with exit_now.
        match unsafe { fork() }.unwrap() {
            Forked::Child => {
                let (_r, w) = pipe_cloexec().unwrap();
                let flags = fill_pipe(&w);
                let start = monotonic_ms();
                let timed_out = write_all_within(w.raw(), b"x", 200) == Err(Errno(libc::ETIMEDOUT));
                let took = monotonic_ms() - start;
                // SAFETY (test): a zeroed sigaction is a valid out-parameter; query only.
                let mut now: libc::sigaction = unsafe { core::mem::zeroed() };
                // SAFETY (test): query SIGALRM's action.
                unsafe { libc::sigaction(libc::SIGALRM, core::ptr::null(), &mut now) };
                let restored = now.sa_sigaction == libc::SIG_DFL;
                exit_now(if flags && timed_out && (200..1000).contains(&took) && restored { 0 } else { 1 })
            }
            Forked::Parent(pid) => assert_eq!(exit_code_of(waitpid(pid).unwrap()), 0),
        }
    }

    /// Fills a pipe through its write end without leaving it non-blocking; true when it worked.
    fn fill_pipe(w: &Fd) -> bool {
        // SAFETY (test): fcntl and write on a pipe this test owns.
        unsafe {
            let fl = libc::fcntl(w.raw(), libc::F_GETFL);
            libc::fcntl(w.raw(), libc::F_SETFL, fl | libc::O_NONBLOCK);
            while libc::write(w.raw(), [0u8; 4096].as_ptr().cast(), 4096) > 0 {}
            libc::fcntl(w.raw(), libc::F_SETFL, fl) == 0
        }
    }

    #[test]
    fn an_o_path_standard_descriptor_counts_as_open() {
        // In a child, so the harness keeps its own fd 0: O_PATH on 0, then 2 closed.
        // SAFETY (test only): the child calls only async-signal-safe syscalls and exit_now.
        match unsafe { fork() }.unwrap() {
            Forked::Child => {
                let ok = openat(None, c"/", libc::O_PATH, 0).and_then(|fd| dup2(fd.raw(), 0)).is_ok();
                close_raw(2);
                exit_now(if ok && closed_std_fds() == [false, false, true] { 0 } else { 1 })
            }
            Forked::Parent(pid) => assert_eq!(exit_code_of(waitpid(pid).unwrap()), 0),
        }
    }
}

// --- confined children (src/confined/spawn.rs) ---------------------------------------------------

/// Makes reads and writes on `fd` (our own end of a pipe to a child) return EAGAIN instead of
/// blocking, so every wait on it goes through poll with a deadline.
pub fn set_nonblocking(fd: &Fd) -> Result<(), Errno> {
    // SAFETY: F_GETFL/F_SETFL only read and change this descriptor's status flags.
    let flags = check(unsafe { libc::fcntl(fd.raw(), libc::F_GETFL) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd.raw(), libc::F_SETFL, flags | libc::O_NONBLOCK) }).map(|_| ())
}

// --- the process's own argv (main.rs) ------------------------------------------------------------

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
