//! One HTTPS exchange with an issuer, done by an unprivileged child process.
//!
//! Why a child: everything that touches bytes from the network (DNS answers, the TLS stack,
//! the HTTP framing) runs in a process that has given up root for good (real, effective and
//! saved uid and gid set to the caller's, supplementary groups dropped, not dumpable, every
//! descriptor but one pipe closed).
//! Merely lowering the effective uid would leave the saved uid 0 for a memory-safety bug in
//! that code to take back. The parent (still root) gets back a small length-prefixed report
//! on the pipe, decodes it with [`decode_report`], and alone writes the cache and the audit log.
//!
//! Limits, fixed here: 5 s per connection attempt, 10 s for the whole exchange (DNS included),
//! at most 4 addresses tried, one TLS connection per exchange, 256 KiB of raw response (head,
//! framing and body; the decoded body is capped at 64 KiB by `http`). No proxies, no redirects,
//! no cookies, and no environment variable is read anywhere on this path.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

use crate::dns;
use crate::http;
use crate::sys::{self, Errno, Fd};
use crate::tls;

/// Per connection attempt.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// For the whole exchange: resolve, connect, handshake, request, response.
pub const TOTAL_TIMEOUT_MS: u64 = 10_000;
/// Raw bytes read from the TLS stream before giving up on a response that never completes.
pub const MAX_RAW_RESPONSE: usize = 256 * 1024;
/// Addresses tried, in resolver order.
const MAX_ADDRESSES: usize = 4;
/// The parent waits this much longer than the child's own deadline before killing it.
const CHILD_GRACE_MS: u64 = 1_000;

/// A point on the monotonic clock by which something must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at_ms: u64,
}

impl Deadline {
    pub fn after_ms(ms: u64) -> Deadline {
        Deadline { at_ms: sys::monotonic_ms().saturating_add(ms) }
    }
    /// The sooner of this deadline and `ms` from now.
    pub fn within(&self, ms: u64) -> Deadline {
        Deadline { at_ms: self.at_ms.min(sys::monotonic_ms().saturating_add(ms)) }
    }
    pub fn expired(&self) -> bool {
        sys::monotonic_ms() >= self.at_ms
    }
    /// Milliseconds left as a poll(2) timeout, None once expired.
    pub fn poll_ms(&self) -> Option<i32> {
        let left = self.at_ms.saturating_sub(sys::monotonic_ms());
        (left > 0).then(|| i32::try_from(left).unwrap_or(i32::MAX))
    }
}

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

/// An issuer URL taken apart: what to connect to, what to send as Host, what to prefix paths
/// with (the issuer's own path, without a trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Host,
    pub port: u16,
    pub authority: String,
    pub base_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    NotHttps,
    UserInfo,
    QueryOrFragment,
    BadHost,
    BadPort,
    BadPath,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::NotHttps => "issuer URL must start with https://",
            UrlError::UserInfo => "issuer URL must not contain user:password@",
            UrlError::QueryOrFragment => "issuer URL must not contain ? or #",
            UrlError::BadHost => "issuer URL host is not a DNS name, an IPv4 address or a bracketed IPv6 address",
            UrlError::BadPort => "issuer URL port is not a number from 1 to 65535",
            UrlError::BadPath => "issuer URL path contains characters not allowed in a URL path",
        })
    }
}

impl std::error::Error for UrlError {}

/// Accepts `https://host[:port][/path]` where host is a DNS name ([`dns::valid_hostname`]),
/// a dotted IPv4 address or `[IPv6]`, port is 1–65535 (default 443) without leading zeros,
/// and path holds only URL path characters. Names are lowercased (DNS and certificates
/// compare them case-insensitively).
pub fn endpoint(issuer: &str) -> Result<Endpoint, UrlError> {
    let rest = issuer.strip_prefix("https://").ok_or(UrlError::NotHttps)?;
    if rest.contains(['?', '#']) {
        return Err(UrlError::QueryOrFragment);
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    if !path.bytes().all(http::is_path_char) {
        return Err(UrlError::BadPath);
    }
    let (host_part, port_part) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']').ok_or(UrlError::BadHost)?;
        let ip: std::net::Ipv6Addr = inside.parse().map_err(|_| UrlError::BadHost)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlError::BadPort)?),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (h, p) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let host = if let Ok(v4) = h.parse::<std::net::Ipv4Addr>() {
            Host::Ip(IpAddr::V4(v4))
        } else if dns::valid_hostname(h) && !h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            Host::Name(h.to_ascii_lowercase())
        } else {
            return Err(UrlError::BadHost);
        };
        (host, p)
    };
    let port = match port_part {
        None => 443,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0') => {
            p.parse::<u16>().ok().filter(|n| *n != 0).ok_or(UrlError::BadPort)?
        }
        Some(_) => return Err(UrlError::BadPort),
    };
    let host_text = match &host_part {
        Host::Name(n) => n.clone(),
        Host::Ip(IpAddr::V4(a)) => a.to_string(),
        Host::Ip(IpAddr::V6(a)) => format!("[{a}]"),
    };
    let authority = if port == 443 { host_text } else { format!("{host_text}:{port}") };
    Ok(Endpoint { host: host_part, port, authority, base_path: path.to_string() })
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

impl Kind {
    fn tag(self) -> u8 {
        match self {
            Kind::Resolve => 1,
            Kind::Connect => 2,
            Kind::Tls => 3,
            Kind::Timeout => 4,
            Kind::Closed => 5,
            Kind::Response => 6,
            Kind::Local => 7,
        }
    }
    fn from_tag(t: u8) -> Option<Kind> {
        Some(match t {
            1 => Kind::Resolve,
            2 => Kind::Connect,
            3 => Kind::Tls,
            4 => Kind::Timeout,
            5 => Kind::Closed,
            6 => Kind::Response,
            7 => Kind::Local,
            _ => return None,
        })
    }
}

/// Why an exchange produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Url(UrlError),
    Request(http::RequestError),
    /// pipe(2) or fork(2) failed.
    Spawn(Errno),
    /// The unprivileged child reported a failure.
    Child { kind: Kind, detail: String },
    /// The child ended without a readable report (killed, or crashed).
    NoReport,
    /// The child overran its deadline and was killed.
    Timeout,
}

impl Error {
    /// True when the IdP could not be reached or did not finish answering; false when it
    /// answered something unusable (or we could not even try).
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Child { kind, .. } => !matches!(kind, Kind::Response | Kind::Local),
            Error::NoReport | Error::Timeout => true,
            Error::Url(_) | Error::Request(_) | Error::Spawn(_) => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url(e) => write!(f, "{e}"),
            Error::Request(e) => write!(f, "{e}"),
            Error::Spawn(e) => write!(f, "cannot start the network helper process: {e}"),
            Error::Child { detail, .. } => f.write_str(detail),
            Error::NoReport => f.write_str("the network helper process ended without an answer"),
            Error::Timeout => write!(f, "no complete answer within {} s", TOTAL_TIMEOUT_MS / 1000),
        }
    }
}

impl std::error::Error for Error {}

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

/// Sends `request` to `ep` over TLS checked against `trust` and returns the framed response.
/// Forks; the network work happens in the child, see the module comment.
pub fn exchange(ep: &Endpoint, request: &[u8], trust: &tls::Trust) -> Result<http::Response, Error> {
    let deadline = Deadline::after_ms(TOTAL_TIMEOUT_MS);
    let (reader, writer) = sys::pipe_cloexec().map_err(Error::Spawn)?;
    let pid = match sys::fork().map_err(Error::Spawn)? {
        sys::Forked::Child => {
            drop(reader);
            child(writer, ep, request, trust, &deadline)
        }
        sys::Forked::Parent(pid) => pid,
    };
    drop(writer);
    let report = read_report(&reader, &Deadline { at_ms: deadline.at_ms.saturating_add(CHILD_GRACE_MS) }, MAX_REPORT);
    if report.is_err() {
        sys::kill(pid, libc::SIGKILL);
    }
    let _ = sys::waitpid(pid);
    match decode_report(&report?) {
        Some(Ok(r)) => Ok(r),
        Some(Err(f)) => Err(Error::Child { kind: f.kind, detail: f.detail }),
        None => Err(Error::NoReport),
    }
}

/// Everything up to `cap` bytes a child writes, until it closes the pipe (also the parse
/// child's, `sandbox`): Timeout once `deadline` passes, NoReport on anything longer or broken.
pub fn read_report(pipe: &Fd, deadline: &Deadline, cap: usize) -> Result<Vec<u8>, Error> {
    // Straight into the heap buffer: nothing large on the stack (a caller's tiny RLIMIT_STACK,
    // which we may not be allowed to raise) and nothing zeroed first.
    let mut out = Vec::new();
    loop {
        let wait = deadline.poll_ms().ok_or(Error::Timeout)?;
        let ev = sys::poll_one(pipe.raw(), sys::POLLIN, wait).map_err(|_| Error::NoReport)?;
        if ev == 0 {
            continue;
        }
        match sys::read_append(pipe, &mut out, 16 * 1024) {
            Ok(0) => return Ok(out),
            Ok(_) => {}
            Err(e) if e.0 == libc::EINTR || e.0 == libc::EAGAIN => continue,
            Err(_) => return Err(Error::NoReport),
        }
        if out.len() > cap {
            return Err(Error::NoReport);
        }
    }
}

/// The child: drop root for good, do the exchange, report, exit. Never returns.
fn child(pipe: Fd, ep: &Endpoint, request: &[u8], trust: &tls::Trust, deadline: &Deadline) -> ! {
    // The audit log and any other descriptor of the parent must not be reachable from here.
    let keep = pipe.raw();
    sys::close_below(keep as u32);
    sys::close_from(keep as u32 + 1);
    let result = drop_privileges().and_then(|()| confine()).and_then(|()| fetch(ep, request, trust, deadline));
    let report = match &result {
        Ok(r) => encode_response(r),
        Err(f) => encode_failure(f.kind, &f.detail),
    };
    let mut rest = report.as_slice();
    while !rest.is_empty() {
        match sys::write_once(pipe.raw(), rest) {
            Ok(0) | Err(_) => break,
            Ok(n) => rest = rest.get(n..).unwrap_or(&[]),
        }
    }
    sys::exit_now(0)
}

/// Real, effective and saved ids all become the caller's as they were at start-up
/// (`process::harden` has since made all of ours root), and the supplementary groups just the
/// caller's gid: the network needs no file but world-readable /etc/hosts and /etc/resolv.conf.
/// Groups first, while we may still, and never dumpable with only the caller's ids
/// ([`drop_to`]). A root caller stays root: nothing to protect from them.
fn drop_privileges() -> Result<(), ChildFailure> {
    let caller = crate::process::caller();
    drop_to(caller.uid, caller.gid, &mut |_| {}).map_err(|e| ChildFailure::new(Kind::Local, e))
}

/// Why [`drop_to`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropError {
    Call(Errno),
    NotDropped,
}

impl fmt::Display for DropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropError::Call(e) => write!(f, "cannot drop privileges for the network: {e}"),
            DropError::NotDropped => f.write_str("privileges were not fully dropped for the network"),
        }
    }
}

/// The drop itself, step by step; `after` is called with each step's name once it is done
/// (a test pauses there and tries to ptrace the process as the caller).
///
/// The order keeps the caller's debugger out at every step. A change of the effective uid or
/// gid resets dumpability to fs.suid_dumpable (commit_creds), and the caller may ptrace a
/// dumpable process whose real, effective and saved ids are all its own (ptrace_may_access).
/// So the saved uid stays 0 until dumpability is off again: setresuid(u, u, 0) resets it but
/// leaves a root id; PR_SET_DUMPABLE 0; then setresuid(-1, -1, u) changes only the saved uid,
/// which resets nothing (effective and fs ids, and the capabilities' being a subset, decide).
pub fn drop_to(uid: u32, gid: u32, after: &mut dyn FnMut(&'static str)) -> Result<(), DropError> {
    let call = DropError::Call;
    sys::setgroups(&[gid]).map_err(call)?;
    after("setgroups");
    sys::set_all_gids(gid).map_err(call)?;
    after("setresgid");
    sys::set_uids(uid, uid, 0).map_err(call)?;
    after("setresuid, saved uid still 0");
    sys::set_not_dumpable().map_err(call)?;
    after("not dumpable");
    sys::set_uids(u32::MAX, u32::MAX, uid).map_err(call)?;
    after("saved uid");
    if sys::getresuid().map_err(call)? != (uid, uid, uid) || sys::getresgid().map_err(call)? != (gid, gid, gid) {
        return Err(DropError::NotDropped);
    }
    if sys::dumpable().map_err(call)? != 0 {
        return Err(DropError::NotDropped);
    }
    Ok(())
}

/// From here on only the `network` syscalls of audit/syscalls are allowed (src/seccomp.rs); any
/// other kills this child with SIGSYS, which the parent sees as a missing report. Fails closed:
/// no filter, no network.
fn confine() -> Result<(), ChildFailure> {
    crate::seccomp::confine_network().map_err(|e| ChildFailure::new(Kind::Local, format!("cannot confine the network helper process (seccomp): {e}")))?;
    // Debug builds with the `seccomp-test-hook` feature only (tests/seccomp.rs): an unlisted
    // syscall, to show that a violation kills the child. Nothing at run time turns it on.
    #[cfg(all(debug_assertions, feature = "seccomp-test-hook"))]
    let _ = sys::getppid();
    Ok(())
}

fn fetch(ep: &Endpoint, request: &[u8], trust: &tls::Trust, deadline: &Deadline) -> Result<http::Response, ChildFailure> {
    let addrs = match &ep.host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => dns::resolve(name, deadline).map_err(|e| ChildFailure::new(Kind::Resolve, e))?,
    };
    let stream = connect_any(&addrs, ep.port, deadline)?;
    tls::exchange(stream, &ep.host, request, trust, deadline)
}

/// The first address (of at most [`MAX_ADDRESSES`]) that accepts a connection within its
/// [`CONNECT_TIMEOUT_MS`] and the overall deadline.
fn connect_any(addrs: &[IpAddr], port: u16, deadline: &Deadline) -> Result<Stream, ChildFailure> {
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
    let fd = sys::socket(addr, false).map_err(|e| ChildFailure::new(Kind::Local, format!("cannot create a socket: {e}")))?;
    sys::set_tcp_nodelay(&fd).map_err(|e| ChildFailure::new(Kind::Local, format!("cannot set TCP_NODELAY: {e}")))?;
    match sys::connect(&fd, addr) {
        Ok(()) => return Ok(fd),
        Err(e) if e.0 == libc::EINPROGRESS || e.0 == libc::EINTR => {}
        Err(e) => return Err(fail(e)),
    }
    loop {
        let Some(wait) = deadline.poll_ms() else {
            return Err(ChildFailure::new(Kind::Timeout, format!("cannot connect to {addr}: no answer within {} s", CONNECT_TIMEOUT_MS / 1000)));
        };
        if sys::poll_one(fd.raw(), sys::POLLOUT, wait).map_err(fail)? != 0 {
            break;
        }
    }
    match sys::socket_error(&fd).map_err(fail)? {
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
            match sys::recv(&self.fd, buf) {
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

/// Largest report: tag, status, content type, body.
pub const MAX_REPORT: usize = 1 + 2 + 2 + 1024 + 4 + http::MAX_BODY;

/// `R` status:u16 ctlen:u16 ct bodylen:u32 body (big-endian), or `E` kind:u8 len:u16 detail.
/// A content type over 1 KiB is dropped (it is informational only).
pub fn encode_response(r: &http::Response) -> Vec<u8> {
    let ct = r.content_type.as_deref().filter(|c| c.len() <= 1024).unwrap_or("");
    let mut out = Vec::with_capacity(9 + ct.len() + r.body.len());
    out.push(b'R');
    out.extend_from_slice(&r.status.to_be_bytes());
    out.extend_from_slice(&(ct.len() as u16).to_be_bytes());
    out.extend_from_slice(ct.as_bytes());
    out.extend_from_slice(&(r.body.len().min(http::MAX_BODY) as u32).to_be_bytes());
    out.extend_from_slice(r.body.get(..http::MAX_BODY).unwrap_or(&r.body));
    out
}

pub fn encode_failure(kind: Kind, detail: &str) -> Vec<u8> {
    let mut d = detail.as_bytes();
    d = d.get(..1024).unwrap_or(d);
    let mut out = vec![b'E', kind.tag()];
    out.extend_from_slice(&(d.len() as u16).to_be_bytes());
    out.extend_from_slice(d);
    out
}

/// Accepts exactly one report as [`encode_response`] or [`encode_failure`] write it (body at
/// most 64 KiB, text fields UTF-8) and nothing after it; None for anything else.
pub fn decode_report(b: &[u8]) -> Option<Result<http::Response, ChildFailure>> {
    let (tag, rest) = b.split_first()?;
    let u16_at = |b: &[u8], i: usize| b.get(i..i + 2).and_then(|s| s.try_into().ok()).map(u16::from_be_bytes);
    match tag {
        b'R' => {
            let status = u16_at(rest, 0)?;
            let ctlen = usize::from(u16_at(rest, 2)?);
            let ct = std::str::from_utf8(rest.get(4..4 + ctlen)?).ok()?;
            let lenb: [u8; 4] = rest.get(4 + ctlen..8 + ctlen)?.try_into().ok()?;
            let blen = u32::from_be_bytes(lenb) as usize;
            if blen > http::MAX_BODY || rest.len() != 8 + ctlen + blen {
                return None;
            }
            let body = rest.get(8 + ctlen..)?.to_vec();
            let content_type = (!ct.is_empty()).then(|| ct.to_string());
            Some(Ok(http::Response { status, content_type, body }))
        }
        b'E' => {
            let kind = Kind::from_tag(*rest.first()?)?;
            let len = usize::from(u16_at(rest, 1)?);
            if rest.len() != 3 + len {
                return None;
            }
            let detail = std::str::from_utf8(rest.get(3..)?).ok()?.to_string();
            Some(Err(ChildFailure { kind, detail }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_issuer_urls_apart() {
        let e = endpoint("https://ID.Example.com").unwrap();
        assert_eq!(e, Endpoint { host: Host::Name("id.example.com".into()), port: 443, authority: "id.example.com".into(), base_path: "".into() });
        let e = endpoint("https://127.0.0.1:8443/tenant/a").unwrap();
        assert_eq!((e.host, e.port, e.authority.as_str(), e.base_path.as_str()), (Host::Ip("127.0.0.1".parse().unwrap()), 8443, "127.0.0.1:8443", "/tenant/a"));
        let e = endpoint("https://[::1]:9000").unwrap();
        assert_eq!((e.host, e.authority.as_str()), (Host::Ip("::1".parse().unwrap()), "[::1]:9000"));
        assert_eq!(endpoint("https://a.example:443/").unwrap().authority, "a.example");
    }

    #[test]
    fn refuses_odd_issuer_urls() {
        for (url, want) in [
            ("http://a.example", UrlError::NotHttps),
            ("https://user@a.example", UrlError::UserInfo),
            ("https://a.example?x", UrlError::QueryOrFragment),
            ("https://a.example#x", UrlError::QueryOrFragment),
            ("https://a_b.example", UrlError::BadHost),
            ("https://", UrlError::BadHost),
            ("https://::1", UrlError::BadHost),
            ("https://[::1", UrlError::BadHost),
            ("https://1.2.3", UrlError::BadHost),
            ("https://010.0.0.1", UrlError::BadHost),
            ("https://a.example:", UrlError::BadPort),
            ("https://a.example:0", UrlError::BadPort),
            ("https://a.example:08443", UrlError::BadPort),
            ("https://a.example:65536", UrlError::BadPort),
            ("https://a.example:+1", UrlError::BadPort),
            ("https://[::1]x", UrlError::BadPort),
            ("https://a.example/x y", UrlError::BadPath),
            ("https://a.example/\"", UrlError::BadPath),
        ] {
            assert_eq!(endpoint(url), Err(want), "{url}");
        }
    }

    #[test]
    fn reports_round_trip() {
        let r = http::Response { status: 200, content_type: Some("application/json".into()), body: b"{}".to_vec() };
        assert_eq!(decode_report(&encode_response(&r)).unwrap().ok(), Some(r));
        let f = decode_report(&encode_failure(Kind::Tls, "bad certificate")).unwrap().err().unwrap();
        assert_eq!((f.kind, f.detail.as_str()), (Kind::Tls, "bad certificate"));
    }

    #[test]
    fn refuses_damaged_reports() {
        let r = encode_response(&http::Response { status: 200, content_type: None, body: b"{}".to_vec() });
        for n in 0..r.len() {
            assert!(decode_report(&r[..n]).is_none(), "prefix {n}");
        }
        let mut long = r.clone();
        long.push(0);
        assert!(decode_report(&long).is_none());
        assert!(decode_report(b"E\x09\x00\x00").is_none());
        assert!(decode_report(b"X").is_none());
    }
}
