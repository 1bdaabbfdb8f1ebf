//! The network child's sockets (confined::child: `stream` for TCP, `resolve` for UDP DNS):
//! create one, set TCP_NODELAY, connect without blocking, read the connect's result, recv.
//! Called only from src/confined/child/, so mod.rs does not re-export it: callers write
//! `sys::net::connect`, and `make tcb` counts this file as child code. `send` is in fd.rs, since
//! the root process sends the system-log copy with it.

use opwire::sys::{check, Errno, Fd};

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
        libc::setsockopt(
            fd.raw(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&one as *const libc::c_int).cast(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
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
    check(unsafe {
        libc::getsockopt(fd.raw(), libc::SOL_SOCKET, libc::SO_ERROR, (&mut err as *mut libc::c_int).cast(), &mut len)
    })?;
    Ok(err)
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
