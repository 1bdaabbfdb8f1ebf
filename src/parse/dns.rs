//! DNS and resolver files for issuer hosts, as pure parsers: `hosts_lookup` (/etc/hosts),
//! `nameservers` (/etc/resolv.conf), `query` (a question) and `parse_response` (an answer).
//! The network child's resolver (`resolve`) sends the questions and reads the files.
//!
//! No search domains (an issuer URL names a full host), no TCP (an answer that does not fit in
//! 512 bytes is refused), TTLs ignored (nothing is cached).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record types we ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    A,
    Aaaa,
}

impl QType {
    fn code(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Aaaa => 28,
        }
    }
}

const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;
/// Longest CNAME chain followed inside one answer.
const MAX_CNAME_HOPS: usize = 8;
/// Compression pointers followed while reading one name.
const MAX_POINTER_HOPS: usize = 32;
/// Answer records looked at; more than a plain A/AAAA answer ever has.
const MAX_ANSWERS: usize = 64;
/// Addresses returned (the connect loop tries only a few anyway).
const MAX_ADDRESSES: usize = 8;
/// glibc's MAXNS.
const MAX_NAMESERVERS: usize = 3;

/// Why a DNS response was not an answer to our question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not our query's id: a late or forged datagram, to be ignored.
    WrongId,
    NotResponse,
    Truncated,
    /// RCODE 3: the name does not exist.
    NameNotFound,
    /// RCODE other than 0 and 3 (SERVFAIL, REFUSED...).
    Server {
        rcode: u8,
    },
    /// The name exists but has no record of the type asked.
    NoData,
    QuestionMismatch,
    Malformed {
        what: &'static str,
    },
    BadName,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongId => f.write_str("answer for a different query"),
            Error::NotResponse => f.write_str("DNS message is not a response"),
            Error::Truncated => f.write_str("DNS answer truncated (TCP fallback is not supported)"),
            Error::NameNotFound => f.write_str("name does not exist (NXDOMAIN)"),
            Error::Server { rcode } => write!(f, "DNS server failure (rcode {rcode})"),
            Error::NoData => f.write_str("no address record"),
            Error::QuestionMismatch => f.write_str("DNS answer does not repeat our question"),
            Error::Malformed { what } => write!(f, "malformed DNS answer: {what}"),
            Error::BadName => f.write_str("not a valid host name"),
        }
    }
}

impl std::error::Error for Error {}

/// A host name as an issuer URL may carry it: 1–253 characters, dot-separated labels of 1–63
/// letters, digits and inner hyphens; no trailing dot.
pub fn valid_hostname(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Addresses `/etc/hosts` gives `name` (case-insensitive), in file order, duplicates dropped.
/// Accepts any bytes: lines are `address name...` with `#` comments; lines whose address is
/// not a plain IPv4 or IPv6 literal (scoped addresses included) are skipped.
pub fn hosts_lookup(data: &[u8], name: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        let line = line.split(|b| *b == b'#').next().unwrap_or(&[]);
        let mut fields = line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
        let Some(addr) = fields.next().and_then(ip_literal) else {
            continue;
        };
        if fields.any(|f| f.eq_ignore_ascii_case(name.as_bytes())) && !out.contains(&addr) && out.len() < MAX_ADDRESSES
        {
            out.push(addr);
        }
    }
    out
}

/// The first three `nameserver` addresses of a resolv.conf, in order. Accepts any bytes:
/// only lines starting with `nameserver` and a blank count; other lines, comments (`#`, `;`)
/// and unparsable or scoped addresses are skipped.
pub fn nameservers(data: &[u8]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        // As glibc reads it: the keyword starts the line.
        if !line.starts_with(b"nameserver") {
            continue;
        }
        let mut fields = line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
        if fields.next() != Some(b"nameserver") {
            continue;
        }
        if let Some(addr) = fields.next().and_then(ip_literal) {
            if out.len() < MAX_NAMESERVERS {
                out.push(addr);
            }
        }
    }
    out
}

fn ip_literal(field: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(field).ok()?;
    s.parse::<Ipv4Addr>().map(IpAddr::V4).or_else(|_| s.parse::<Ipv6Addr>().map(IpAddr::V6)).ok()
}

/// A recursive (RD) query for `name`'s `qtype` records in class IN, without EDNS.
pub fn query(id: u16, name: &str, qtype: QType) -> Result<Vec<u8>, Error> {
    if !valid_hostname(name) {
        return Err(Error::BadName);
    }
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.code().to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(q)
}

/// A name as its labels, lowercased, so that comparisons are per label (a label holding a dot
/// cannot pass for two).
type Name = Vec<Vec<u8>>;

fn name_of(host: &str) -> Name {
    host.split('.').map(|l| l.as_bytes().to_ascii_lowercase()).collect()
}

fn u16_at(msg: &[u8], at: usize) -> Result<u16, Error> {
    match msg.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(Error::Malformed { what: "message ends inside a field" }),
    }
}

/// Reads the (possibly compressed) name at `start`; returns it and the position after it in
/// place. Every compression pointer must point before the lowest position read so far, so
/// pointers can only go backwards and cannot loop; hops and total length are bounded too.
fn read_name(msg: &[u8], start: usize) -> Result<(Name, usize), Error> {
    let bad = |what| Error::Malformed { what };
    let mut labels: Name = Vec::new();
    let mut pos = start;
    let mut lowest = start;
    let mut after: Option<usize> = None;
    let mut hops = 0usize;
    let mut wire_len = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(bad("name runs past the end"))?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Ok((labels, after.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = msg.get(pos + 1..pos + 1 + usize::from(len)).ok_or(bad("label runs past the end"))?;
                wire_len += 1 + label.len();
                if wire_len > 254 {
                    return Err(bad("name longer than 255 bytes"));
                }
                labels.push(label.to_ascii_lowercase());
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or(bad("pointer runs past the end"))?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= lowest {
                    return Err(bad("compression pointer does not point backwards"));
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(bad("too many compression pointers"));
                }
                after.get_or_insert(pos + 2);
                lowest = target;
                pos = target;
            }
            _ => return Err(bad("unknown label type")),
        }
    }
}

/// One resource record of the answer section.
struct Record {
    owner: Name,
    rtype: u16,
    class: u16,
    rdata_at: usize,
    rdata: Vec<u8>,
}

/// Accepts a DNS response (RFC 1035) to the query [`query`]`(id, name, qtype)` built: same id,
/// QR set, opcode 0, not truncated, RCODE 0, exactly our question echoed. Returns the `qtype`
/// addresses owned by `name` or by the end of a CNAME chain starting at it (at most 8 hops);
/// records for other names, the authority and additional sections, and TTLs are ignored.
pub fn parse_response(msg: &[u8], id: u16, name: &str, qtype: QType) -> Result<Vec<IpAddr>, Error> {
    if u16_at(msg, 0)? != id {
        return Err(Error::WrongId);
    }
    let flags = u16_at(msg, 2)?;
    if flags & 0x8000 == 0 || (flags >> 11) & 0xf != 0 {
        return Err(Error::NotResponse);
    }
    if flags & 0x0200 != 0 {
        return Err(Error::Truncated);
    }
    match (flags & 0xf) as u8 {
        0 => {}
        3 => return Err(Error::NameNotFound),
        rcode => return Err(Error::Server { rcode }),
    }
    if u16_at(msg, 4)? != 1 {
        return Err(Error::QuestionMismatch);
    }
    let answers = usize::from(u16_at(msg, 6)?);

    let (qname, mut pos) = read_name(msg, 12)?;
    if qname != name_of(name) || u16_at(msg, pos)? != qtype.code() || u16_at(msg, pos + 2)? != CLASS_IN {
        return Err(Error::QuestionMismatch);
    }
    pos += 4;

    let mut records = Vec::new();
    for _ in 0..answers.min(MAX_ANSWERS) {
        let (owner, p) = read_name(msg, pos)?;
        let rtype = u16_at(msg, p)?;
        let class = u16_at(msg, p + 2)?;
        // p+4..p+8 is the TTL: ignored, nothing is cached.
        let rdlen = usize::from(u16_at(msg, p + 8)?);
        let rdata_at = p + 10;
        let rdata =
            msg.get(rdata_at..rdata_at + rdlen).ok_or(Error::Malformed { what: "record data runs past the end" })?;
        records.push(Record { owner, rtype, class, rdata_at, rdata: rdata.to_vec() });
        pos = rdata_at + rdlen;
    }

    let mut canonical = name_of(name);
    for _ in 0..MAX_CNAME_HOPS {
        let Some(alias) = records.iter().find(|r| r.class == CLASS_IN && r.rtype == TYPE_CNAME && r.owner == canonical)
        else {
            break;
        };
        let (target, end) = read_name(msg, alias.rdata_at)?;
        if end != alias.rdata_at + alias.rdata.len() {
            return Err(Error::Malformed { what: "CNAME data is not exactly one name" });
        }
        canonical = target;
    }

    let mut out = Vec::new();
    for r in records.iter().filter(|r| r.class == CLASS_IN && r.rtype == qtype.code() && r.owner == canonical) {
        let addr = match (qtype, r.rdata.as_slice()) {
            (QType::A, &[a, b, c, d]) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            (QType::Aaaa, bytes) => {
                let octets: [u8; 16] =
                    bytes.try_into().map_err(|_| Error::Malformed { what: "AAAA record is not 16 bytes" })?;
                IpAddr::V6(Ipv6Addr::from(octets))
            }
            _ => return Err(Error::Malformed { what: "A record is not 4 bytes" }),
        };
        if !out.contains(&addr) && out.len() < MAX_ADDRESSES {
            out.push(addr);
        }
    }
    if out.is_empty() {
        return Err(Error::NoData);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
