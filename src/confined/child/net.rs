//! The network child's work: one HTTPS exchange with an allowed issuer, and the verdict on its
//! answer, reported once on fd 1. Everything that touches bytes from the network (DNS answers,
//! the TLS stack, the HTTP framing, the JSON of the answer) runs here, in a process that has
//! given up root for good and may make only the `network` syscalls of audit/syscalls.
//!
//! Limits, fixed here: 5 s per connection attempt, 10 s for the whole exchange (DNS included),
//! at most 4 addresses tried, one TLS connection per exchange, 256 KiB of raw response (head,
//! framing and body; the decoded body is capped at 64 KiB by `http`). No proxies, no redirects,
//! no cookies, and no environment variable is read anywhere on this path.
//!
//! The report: `K` (the key set: each kid and key, then the raw body for the cache), `C` (the
//! consume status), `D` (the discovery document's `issuer` and `jwks_uri`, if any), or `E`
//! (exit code, stable code, message), in the `wire` format.

use std::fmt;
use std::net::IpAddr;

use crate::confined::child::stream::{connect_any, ChildFailure, Host, Kind, TOTAL_TIMEOUT_MS};
use crate::confined::child::{idp, resolve, tls};
use crate::confined::job::{Ask, NetJob};
use crate::confined::wire::Writer;
use crate::parse::http::{self, Method};
use crate::parse::{dns, pem};
use crate::sys;
use crate::time::Deadline;

/// Does the job, reports, exits 0 (a report written is the child's whole job; the parent
/// decides what it means).
pub fn exchange(job: &NetJob) -> ! {
    let deadline = Deadline::after_ms(TOTAL_TIMEOUT_MS);
    let mut w = Writer::new();
    match answer(job, &deadline) {
        Ok(Answer::Keys { keys, raw }) => {
            w.u8(b'K').list(&keys, |w, k| {
                w.str(&k.kid).raw(&k.x);
            });
            w.bytes(&raw);
        }
        Ok(Answer::Consumed(status)) => {
            w.u8(b'C').str(&status);
        }
        Ok(Answer::Discovery { issuer, jwks_uri }) => {
            w.u8(b'D').str(&issuer).opt_str(jwks_uri.as_deref());
        }
        Err(Verdict { exit, code, message }) => {
            w.u8(b'E').u8(exit).str(code).str(&message);
        }
    }
    let mut framed = Writer::new();
    framed.bytes(&w.into_bytes());
    match sys::write_all(1, &framed.into_bytes()) {
        Ok(()) => sys::exit_now(0),
        Err(_) => sys::exit_now(3),
    }
}

enum Answer {
    Keys { keys: Vec<crate::policy::token::Key>, raw: Vec<u8> },
    Consumed(String),
    Discovery { issuer: String, jwks_uri: Option<String> },
}

/// A refusal as the parent will report it.
struct Verdict {
    exit: u8,
    code: &'static str,
    message: String,
}

fn local(issuer: &str, what: impl fmt::Display) -> Verdict {
    Verdict { exit: 1, code: "idp_error", message: format!("IdP {issuer}: {what}") }
}

fn answer(job: &NetJob, deadline: &Deadline) -> Result<Answer, Verdict> {
    let issuer = job.issuer.as_str();
    let trust = match &job.ca_bundle {
        None => tls::Trust::mozilla(),
        Some((path, bytes)) => {
            let bundle = |what: String| Verdict {
                exit: 1,
                code: "ca_bundle",
                message: format!("[tls] ca_bundle {path}: {what}"),
            };
            let certs = pem::certificates(bytes).map_err(|e| bundle(e.to_string()))?;
            tls::Trust::from_der(&certs).map_err(|e| bundle(e.to_string()))?
        }
    };
    let ep = endpoint(issuer).map_err(|e| local(issuer, e))?;
    let (method, path, auth) = match &job.ask {
        Ask::Jwks => (Method::Get, "/.well-known/jwks.json".to_string(), None),
        Ask::Discovery => (Method::Get, "/.well-known/openid-configuration".to_string(), None),
        Ask::Consume { grant_id, token, .. } => {
            (Method::Post, format!("/api/grants/{grant_id}/consume"), Some(format!("Bearer {token}")))
        }
    };
    let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| ("Authorization", a)).into_iter().collect();
    let url = format!("{issuer}{path}");
    let request = http::request(method, &ep.authority, &format!("{}{path}", ep.base_path), &headers)
        .map_err(|e| local(issuer, e))?;
    let response = fetch(&ep, &request, &trust, deadline).map_err(|f| match f.kind {
        Kind::Response | Kind::Local => local(issuer, f.detail),
        _ => Verdict { exit: 1, code: "idp_unreachable", message: format!("IdP {issuer} unreachable: {}", f.detail) },
    })?;
    let refused = |e: idp::Error| Verdict {
        exit: u8::try_from(e.exit_code()).unwrap_or(1),
        code: e.code(),
        message: e.to_string(),
    };
    match &job.ask {
        Ask::Jwks => {
            let keys = idp::keys_of(&url, &response).map_err(refused)?;
            Ok(Answer::Keys { keys, raw: response.body })
        }
        Ask::Discovery => {
            let (issuer, jwks_uri) = idp::discovery_of(&url, &response).map_err(refused)?;
            Ok(Answer::Discovery { issuer, jwks_uri })
        }
        Ask::Consume { grant_type, .. } => {
            idp::consume_answer_of(&url, &response, *grant_type).map(Answer::Consumed).map_err(refused)
        }
    }
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

fn fetch(
    ep: &Endpoint,
    request: &[u8],
    trust: &tls::Trust,
    deadline: &Deadline,
) -> Result<http::Response, ChildFailure> {
    let addrs = match &ep.host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => resolve::resolve(name, deadline).map_err(|e| ChildFailure::new(Kind::Resolve, e))?,
    };
    let stream = connect_any(&addrs, ep.port, deadline)?;
    tls::exchange(stream, &ep.host, request, trust, deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_issuer_urls_apart() {
        let e = endpoint("https://ID.Example.com").unwrap();
        assert_eq!(
            e,
            Endpoint {
                host: Host::Name("id.example.com".into()),
                port: 443,
                authority: "id.example.com".into(),
                base_path: "".into()
            }
        );
        let e = endpoint("https://127.0.0.1:8443/tenant/a").unwrap();
        assert_eq!(
            (e.host, e.port, e.authority.as_str(), e.base_path.as_str()),
            (Host::Ip("127.0.0.1".parse().unwrap()), 8443, "127.0.0.1:8443", "/tenant/a")
        );
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
}
