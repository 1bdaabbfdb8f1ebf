//! The network child's connection: a non-blocking TCP socket that waits (through poll) until its
//! deadline, and the failures the exchange can meet, by kind. Shared by the resolver, TLS and
//! the exchange, and depending on none of them.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

use crate::sys::{self, Errno, Fd};
use crate::time::Deadline;

/// For the whole exchange: resolve, connect, handshake, request, response.
pub const TOTAL_TIMEOUT_MS: u64 = 10_000;
/// Raw bytes read from the TLS stream before giving up on a response that never completes.
pub const MAX_RAW_RESPONSE: usize = 256 * 1024;
/// Per connection attempt.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Addresses tried, in resolver order.
const MAX_ADDRESSES: usize = 4;

/// Words for the errno values the network path can meet (sys::Errno::describe covers files).
pub fn describe_errno(e: Errno) -> String {
    let what = match e.0 {
        libc::ECONNREFUSED => "connection refused",
        libc::ECONNRESET => "connection reset by peer",
        libc::ENETUNREACH => "network unreachable",
        libc::EHOSTUNREACH => "host unreachable",
        libc::ETIMEDOUT => "timed out",
        libc::EADDRNOTAVAIL => "address not available",
        libc::EAFNOSUPPORT => "address family not supported",
        libc::EPIPE => "connection closed by peer",
        libc::ENETDOWN => "network is down",
        _ => return e.to_string(),
    };
    format!("{what} (errno {})", e.0)
}

/// Where an issuer lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

/// What went wrong in the child, by kind; the detail is the child's own typed error in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Resolve,
    Connect,
    Tls,
    Timeout,
    /// The server closed the connection before the response was complete.
    Closed,
    /// A response arrived but its framing or size is wrong.
    Response,
    /// Could not set up: dropping privileges, creating a socket, building the TLS config.
    Local,
}

/// A failure inside the child, before it is flattened into a report.
pub struct ChildFailure {
    pub kind: Kind,
    pub detail: String,
}

impl ChildFailure {
    pub fn new(kind: Kind, detail: impl fmt::Display) -> ChildFailure {
        ChildFailure { kind, detail: detail.to_string() }
    }
}

/// The first address (of at most [`MAX_ADDRESSES`]) that accepts a connection within its
/// [`CONNECT_TIMEOUT_MS`] and the overall deadline.
pub fn connect_any(addrs: &[IpAddr], port: u16, deadline: &Deadline) -> Result<Stream, ChildFailure> {
    let mut last = ChildFailure::new(Kind::Connect, "no address to connect to");
    for ip in addrs.iter().take(MAX_ADDRESSES) {
        let addr = SocketAddr::new(*ip, port);
        match connect(&addr, &deadline.within(CONNECT_TIMEOUT_MS)) {
            Ok(fd) => return Ok(Stream { fd, deadline: *deadline }),
            Err(f) => last = f,
        }
        if deadline.expired() {
            break;
        }
    }
    Err(last)
}

fn connect(addr: &SocketAddr, deadline: &Deadline) -> Result<Fd, ChildFailure> {
    let fail = |e: Errno| ChildFailure::new(Kind::Connect, format!("cannot connect to {addr}: {}", describe_errno(e)));
    let fd = sys::net::socket(addr, false)
        .map_err(|e| ChildFailure::new(Kind::Local, format!("cannot create a socket: {e}")))?;
    sys::net::set_tcp_nodelay(&fd)
        .map_err(|e| ChildFailure::new(Kind::Local, format!("cannot set TCP_NODELAY: {e}")))?;
    match sys::net::connect(&fd, addr) {
        Ok(()) => return Ok(fd),
        Err(e) if e.0 == libc::EINPROGRESS || e.0 == libc::EINTR => {}
        Err(e) => return Err(fail(e)),
    }
    loop {
        let Some(wait) = deadline.poll_ms() else {
            return Err(ChildFailure::new(
                Kind::Timeout,
                format!("cannot connect to {addr}: no answer within {} s", CONNECT_TIMEOUT_MS / 1000),
            ));
        };
        if sys::poll_one(fd.raw(), sys::POLLOUT, wait).map_err(fail)? != 0 {
            break;
        }
    }
    match sys::net::socket_error(&fd).map_err(fail)? {
        0 => Ok(fd),
        e => Err(fail(Errno(e))),
    }
}

/// A connected non-blocking socket that blocks (via poll) until its deadline, for rustls.
pub struct Stream {
    fd: Fd,
    deadline: Deadline,
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no answer in time")
}

fn io_error(e: Errno) -> io::Error {
    io::Error::other(describe_errno(e))
}

impl Stream {
    fn wait(&self, events: i16) -> io::Result<()> {
        loop {
            let wait = self.deadline.poll_ms().ok_or_else(timed_out)?;
            if sys::poll_one(self.fd.raw(), events, wait).map_err(io_error)? != 0 {
                return Ok(());
            }
        }
    }
}

impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match sys::net::recv(&self.fd, buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.0 == libc::EAGAIN || e.0 == libc::EINTR => self.wait(sys::POLLIN)?,
                Err(e) => return Err(io_error(e)),
            }
        }
    }
}

impl io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match sys::send(&self.fd, buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.0 == libc::EAGAIN || e.0 == libc::EINTR => self.wait(sys::POLLOUT)?,
                Err(e) => return Err(io_error(e)),
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
