//! Name resolution for issuer hosts without NSS: no resolver library, no modules loaded into a
//! setuid process, no environment (`LOCALDOMAIN`, `RES_OPTIONS`, `HOSTALIASES` mean nothing).
//!
//! Order: `/etc/hosts`, then one UDP query at a time to the first three `nameserver`s of
//! `/etc/resolv.conf` (127.0.0.1 when there is none, as glibc does): A first, AAAA only when the
//! name has no A record. DNS is not trusted for anything but reachability: TLS authenticates
//! the server, so a forged answer can only make the call fail. The parsers are `parse::dns`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::confined::child::stream::describe_errno;
use crate::parse::dns::{hosts_lookup, nameservers, parse_response, query, valid_hostname, Error, QType};
use crate::sys::{self, Errno};
use crate::time::Deadline;

/// Each query gets this long (or less, if the call's deadline is nearer).
const QUERY_TIMEOUT_MS: u64 = 2000;
/// Datagrams read per query before giving up on a server that sends junk.
const MAX_DATAGRAMS: usize = 16;
const MAX_HOSTS_FILE: usize = 1024 * 1024;
const MAX_RESOLV_CONF: usize = 64 * 1024;

/// Why a host could not be turned into addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    BadName {
        host: String,
    },
    NotFound {
        host: String,
    },
    NoAddress {
        host: String,
    },
    /// Every nameserver failed; the last failure is kept.
    NoAnswer {
        host: String,
        server: IpAddr,
        why: String,
    },
    Timeout {
        host: String,
    },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::BadName { host } => write!(f, "{host:?} is not a valid host name"),
            ResolveError::NotFound { host } => {
                write!(f, "cannot resolve {host}: not in /etc/hosts and the name does not exist in DNS")
            }
            ResolveError::NoAddress { host } => write!(f, "cannot resolve {host}: DNS has no A or AAAA record for it"),
            ResolveError::NoAnswer { host, server, why } => {
                write!(f, "cannot resolve {host}: no usable DNS answer (last from nameserver {server}: {why})")
            }
            ResolveError::Timeout { host } => write!(f, "cannot resolve {host}: DNS did not answer in time"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Reads a small system file with the rights we have (the network child runs as the caller);
/// missing or unreadable counts as empty, as it would for the C library.
fn read_system_file(path: &core::ffi::CStr, cap: usize) -> Vec<u8> {
    let Ok(fd) = sys::openat(None, path, sys::O_RDONLY | sys::O_NONBLOCK | sys::O_NOCTTY, 0) else {
        return Vec::new();
    };
    match sys::fstat(&fd) {
        Ok(st) if st.is_regular() => sys::read_capped(&fd, cap).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The addresses of `host` (a name; IP literals never get here), by `/etc/hosts` then DNS,
/// within `deadline`.
pub fn resolve(host: &str, deadline: &Deadline) -> Result<Vec<IpAddr>, ResolveError> {
    if !valid_hostname(host) {
        return Err(ResolveError::BadName { host: host.into() });
    }
    let from_hosts = hosts_lookup(&read_system_file(c"/etc/hosts", MAX_HOSTS_FILE), host);
    if !from_hosts.is_empty() {
        return Ok(from_hosts);
    }
    let mut servers = nameservers(&read_system_file(c"/etc/resolv.conf", MAX_RESOLV_CONF));
    if servers.is_empty() {
        servers.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let mut last: Option<(IpAddr, String)> = None;
    'servers: for server in servers {
        for qtype in [QType::A, QType::Aaaa] {
            if deadline.expired() {
                return Err(ResolveError::Timeout { host: host.into() });
            }
            match ask(server, host, qtype, &deadline.within(QUERY_TIMEOUT_MS)) {
                Ok(addrs) => return Ok(addrs),
                Err(Ask::Answer(Error::NameNotFound)) => return Err(ResolveError::NotFound { host: host.into() }),
                Err(Ask::Answer(Error::NoData)) if qtype == QType::A => continue,
                Err(Ask::Answer(Error::NoData)) => return Err(ResolveError::NoAddress { host: host.into() }),
                Err(e) => {
                    last = Some((server, e.to_string()));
                    continue 'servers;
                }
            }
        }
    }
    match last {
        Some((server, why)) => Err(ResolveError::NoAnswer { host: host.into(), server, why }),
        None => Err(ResolveError::Timeout { host: host.into() }),
    }
}

/// How one query to one server went wrong.
enum Ask {
    Answer(Error),
    Io(&'static str, Errno),
    Timeout,
    Random,
}

impl fmt::Display for Ask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ask::Answer(e) => write!(f, "{e}"),
            Ask::Io(what, e) => write!(f, "{what}: {}", describe_errno(*e)),
            Ask::Timeout => f.write_str("no answer in time"),
            Ask::Random => f.write_str("no random query id available"),
        }
    }
}

/// One query over a connected UDP socket (the kernel then drops datagrams from any other
/// address, and picks a random source port); datagrams with another id are skipped.
fn ask(server: IpAddr, host: &str, qtype: QType, deadline: &Deadline) -> Result<Vec<IpAddr>, Ask> {
    let mut idb = [0u8; 2];
    rustls::crypto::ring::default_provider().secure_random.fill(&mut idb).map_err(|_| Ask::Random)?;
    let id = u16::from_be_bytes(idb);
    let q = query(id, host, qtype).map_err(Ask::Answer)?;
    let addr = SocketAddr::new(server, 53);
    let sock = sys::net::socket(&addr, true).map_err(|e| Ask::Io("socket", e))?;
    sys::net::connect(&sock, &addr).map_err(|e| Ask::Io("connect", e))?;
    sys::send(&sock, &q).map_err(|e| Ask::Io("send", e))?;
    let mut buf = [0u8; 4096];
    for _ in 0..MAX_DATAGRAMS {
        let wait = deadline.poll_ms().ok_or(Ask::Timeout)?;
        let ev = sys::poll_one(sock.raw(), sys::POLLIN, wait).map_err(|e| Ask::Io("poll", e))?;
        if ev == 0 {
            continue;
        }
        let n = match sys::net::recv(&sock, &mut buf) {
            Ok(n) => n,
            Err(e) if e.0 == libc::EAGAIN || e.0 == libc::EINTR => continue,
            Err(e) => return Err(Ask::Io("receive", e)),
        };
        match parse_response(buf.get(..n).unwrap_or(&[]), id, host, qtype) {
            Err(Error::WrongId) => continue,
            other => return other.map_err(Ask::Answer),
        }
    }
    Err(Ask::Timeout)
}
