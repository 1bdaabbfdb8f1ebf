//! The system-log copy's socket (root::syslog): an AF_UNIX datagram socket connected to the
//! logger. Called by the root process only; it sends on it with `send` (fd.rs).

use opwire::sys::{check, Errno, Fd};

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
    let fd =
        check(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket(2) just returned this descriptor, which nothing else owns.
    let fd = unsafe { Fd::from_raw(fd) };
    let len = (core::mem::size_of::<libc::sa_family_t>() + path.len() + 1) as libc::socklen_t;
    // SAFETY: sa is a valid sockaddr_un; len covers the family, the path and its NUL.
    check(unsafe { libc::connect(fd.raw(), (&sa as *const libc::sockaddr_un).cast(), len) })?;
    Ok(fd)
}
