//! Descriptors and the I/O on them: the standard descriptors at start-up, closing, dup2, pipes
//! and descriptor flags, capped reads, writes (bounded by [`within`] on the descriptors the
//! caller gave us), send(2) and poll. Called by the root process (which also sends the
//! system-log copy with `send`) and by both confined children (their fd 0 and 1, their report,
//! send and poll on the network child's sockets).

use opwire::sys::{check, read_into, read_to_end, read_to_end_until, Errno, Fd, ReadError};

use super::clock::monotonic_ms;
use super::proc::get_rlimit;
use super::signal::within;

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

pub fn pipe_cloexec() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just returned these two descriptors, which nothing else owns.
    Ok(unsafe { (Fd::from_raw(fds[0]), Fd::from_raw(fds[1])) })
}

/// Lets `fd` survive execve (clears FD_CLOEXEC): for a script executed from its descriptor,
/// whose interpreter then opens `/dev/fd/N`, the very file, instead of a path.
pub fn clear_cloexec(fd: &Fd) -> Result<(), Errno> {
    // SAFETY: F_SETFD only changes this descriptor's flags.
    check(unsafe { libc::fcntl(fd.raw(), libc::F_SETFD, 0) }).map(|_| ())
}

/// Makes reads and writes on `fd` (our own end of a pipe to a child) return EAGAIN instead of
/// blocking, so every wait on it goes through poll with a deadline.
pub fn set_nonblocking(fd: &Fd) -> Result<(), Errno> {
    // SAFETY: F_GETFL/F_SETFL only read and change this descriptor's status flags.
    let flags = check(unsafe { libc::fcntl(fd.raw(), libc::F_GETFL) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd.raw(), libc::F_SETFL, flags | libc::O_NONBLOCK) }).map(|_| ())
}

/// Reads until EOF, refusing more than `cap` bytes (reads at most cap+1 before refusing).
pub fn read_capped(fd: &Fd, cap: usize) -> Result<Vec<u8>, ReadError> {
    read_to_end(fd.raw(), cap, None)
}

/// [`read_capped`] of a regular file whose fstat size is `size`: once that many bytes have
/// come, a read that stopped short of its buffer was the end of the file, so the extra read(2)
/// that would return 0 is skipped. A file that grows meanwhile is read like any other. (The
/// trusted-file reads take this path inside opwire; its tests are here.)
#[cfg(test)]
fn read_capped_sized(fd: &Fd, cap: usize, size: i64) -> Result<Vec<u8>, ReadError> {
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

/// True when fd 0 is a terminal (`escapes trust` asks for confirmation only then). std's
/// `IsTerminal` makes the isatty(3) call (an ioctl TCGETS), so there is no unsafe block here.
pub fn stdin_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdin())
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

pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{exit_code_of, exit_now, fork, getpid, openat, waitpid, Forked};

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
        // SAFETY: (test) the child only makes syscalls and leaves with exit_now.
        match unsafe { fork() }.unwrap() {
            Forked::Child => {
                let (_r, w) = pipe_cloexec().unwrap();
                let flags = fill_pipe(&w);
                let start = monotonic_ms();
                let timed_out = write_all_within(w.raw(), b"x", 200) == Err(Errno(libc::ETIMEDOUT));
                let took = monotonic_ms() - start;
                // SAFETY: (test) a zeroed sigaction is a valid out-parameter; query only.
                let mut now: libc::sigaction = unsafe { core::mem::zeroed() };
                // SAFETY: (test) query SIGALRM's action.
                unsafe { libc::sigaction(libc::SIGALRM, core::ptr::null(), &mut now) };
                let restored = now.sa_sigaction == libc::SIG_DFL;
                exit_now(if flags && timed_out && (200..1000).contains(&took) && restored { 0 } else { 1 })
            }
            Forked::Parent(pid) => assert_eq!(exit_code_of(waitpid(pid).unwrap()), 0),
        }
    }

    /// Fills a pipe through its write end without leaving it non-blocking; true when it worked.
    fn fill_pipe(w: &Fd) -> bool {
        // SAFETY: (test) fcntl and write on a pipe this test owns.
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
        // SAFETY: (test) the child calls only async-signal-safe syscalls and exit_now.
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
