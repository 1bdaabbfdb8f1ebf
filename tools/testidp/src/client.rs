//! A tiny, deliberately dumb HTTPS/HTTP client for testing the IdP itself: sends one request,
//! reads raw bytes until close/error/timeout, no body decoding. Not a model for escapes.

use crate::Idp;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What came back: the raw bytes, and how the exchange ended.
#[derive(Debug)]
pub struct Exchange {
    pub raw: Vec<u8>,
    /// The error that ended reading (handshake failure, reset, timeout, EOF without
    /// close_notify…), None if the peer closed cleanly.
    pub error: Option<io::Error>,
}

/// Status, headers (lower-cased names), head length.
type Head = (u16, Vec<(String, String)>, usize);

impl Exchange {
    fn head(&self) -> Option<Head> {
        let mut h = [httparse::EMPTY_HEADER; 64];
        let mut r = httparse::Response::new(&mut h);
        match r.parse(&self.raw) {
            Ok(httparse::Status::Complete(n)) => Some((
                r.code?,
                r.headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect(),
                n,
            )),
            _ => None,
        }
    }
    pub fn status(&self) -> Option<u16> {
        self.head().map(|h| h.0)
    }
    /// All values of a header (name case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.head().map_or_else(Vec::new, |h| {
            h.1.into_iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v).collect()
        })
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_all(name).into_iter().next()
    }
    /// Bytes after the head, exactly as sent (no de-chunking, no length check).
    pub fn body(&self) -> &[u8] {
        self.head().map_or(&[][..], |h| &self.raw[h.2..])
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(self.body())
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", String::from_utf8_lossy(self.body())))
    }
}

fn read_all<S: Read>(s: &mut S, deadline: Instant) -> Exchange {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if Instant::now() > deadline {
            return Exchange { raw, error: Some(io::ErrorKind::TimedOut.into()) };
        }
        match s.read(&mut buf) {
            Ok(0) => return Exchange { raw, error: None },
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Exchange { raw, error: Some(e) },
        }
    }
}

/// Sends `request` (raw bytes) over TLS to `addr`, trusting only `ca`, checking `server_name`.
pub fn send_tls(
    addr: SocketAddr,
    server_name: &str,
    ca: &CertificateDer<'static>,
    request: &[u8],
    timeout: Duration,
) -> Exchange {
    let deadline = Instant::now() + timeout;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).expect("CA certificate");
    let cfg = rustls::ClientConfig::builder_with_provider(crate::certs::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_string()).expect("server name");
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("client connection");
    let tcp = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(t) => t,
        Err(e) => return Exchange { raw: Vec::new(), error: Some(e) },
    };
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    if let Err(e) = tls.write_all(request).and_then(|_| tls.flush()) {
        return Exchange { raw: Vec::new(), error: Some(e) };
    }
    read_all(&mut tls, deadline)
}

/// Plain HTTP (the admin port).
pub fn send_plain(addr: SocketAddr, request: &[u8], timeout: Duration) -> Exchange {
    let deadline = Instant::now() + timeout;
    let mut tcp = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(t) => t,
        Err(e) => return Exchange { raw: Vec::new(), error: Some(e) },
    };
    let _ = tcp.set_read_timeout(Some(timeout));
    if let Err(e) = tcp.write_all(request) {
        return Exchange { raw: Vec::new(), error: Some(e) };
    }
    read_all(&mut tcp, deadline)
}

/// The first certificate of a PEM file (e.g. the CA the server wrote with `--ca-out`).
pub fn ca_from_pem(pem: &[u8]) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem).expect("PEM certificate")
}

/// A request's bytes: `Host`, `Connection: close`, optional bearer and body (Content-Length).
pub fn build(method: &str, host: &str, path: &str, bearer: Option<&str>, body: Option<&[u8]>) -> Vec<u8> {
    let mut r =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: application/json\r\n");
    if let Some(t) = bearer {
        r.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let mut out = r.into_bytes();
    if let Some(b) = body {
        out.extend_from_slice(
            format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n", b.len()).as_bytes(),
        );
        out.extend_from_slice(b);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One request to the IdP over TLS (server name `127.0.0.1`, 5 s timeout).
pub fn request(idp: &Idp, method: &str, path: &str, bearer: Option<&str>, body: Option<&[u8]>) -> Exchange {
    request_with(idp, "127.0.0.1", Duration::from_secs(5), method, path, bearer, body)
}

pub fn request_with(
    idp: &Idp,
    server_name: &str,
    timeout: Duration,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&[u8]>,
) -> Exchange {
    let host = format!("{server_name}:{}", idp.port());
    send_tls(idp.addr(), server_name, &idp.ca_der(), &build(method, &host, path, bearer, body), timeout)
}

/// One request to the plain-HTTP admin port.
pub fn admin(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> Exchange {
    send_plain(addr, &build(method, &addr.to_string(), path, None, body), Duration::from_secs(5))
}
