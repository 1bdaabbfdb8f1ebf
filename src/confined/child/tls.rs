//! TLS for the IdP path: rustls with the ring provider (one crypto provider, no OpenSSL),
//! TLS 1.2 and 1.3 with rustls' safe defaults, server certificate checked by webpki against
//! either the `[tls] ca_bundle` roots or the Mozilla roots compiled into `webpki-roots` — never
//! both, and never anything named by the environment (SSL_CERT_FILE and friends are not read).
//! SNI and certificate name are the issuer's host (an IP literal is matched against IP SANs).

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, DnsName, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::confined::child::stream::{ChildFailure, Host, Kind, Stream, MAX_RAW_RESPONSE, TOTAL_TIMEOUT_MS};
use crate::parse::http;
use crate::time::Deadline;

/// The roots a server certificate must chain to, built (as root, before forking) from the
/// trusted configuration.
#[derive(Debug, Clone)]
pub struct Trust {
    roots: Arc<RootCertStore>,
}

/// A CA bundle certificate webpki cannot use as a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustError {
    /// 1-based position of the certificate in the bundle.
    pub index: usize,
    pub reason: String,
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "certificate {} of the CA bundle cannot be used as a trust anchor: {}", self.index, self.reason)
    }
}

impl std::error::Error for TrustError {}

impl Trust {
    /// Mozilla's roots, as shipped in `webpki-roots`.
    pub fn mozilla() -> Trust {
        Trust { roots: Arc::new(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }) }
    }

    /// Exactly the given DER certificates (from a PEM bundle); any unusable one is an error,
    /// so the admin learns about it instead of losing a root silently.
    pub fn from_der(certs: &[Vec<u8>]) -> Result<Trust, TrustError> {
        let mut store = RootCertStore::empty();
        for (i, der) in certs.iter().enumerate() {
            store
                .add(CertificateDer::from(der.as_slice()))
                .map_err(|e| TrustError { index: i + 1, reason: e.to_string() })?;
        }
        Ok(Trust { roots: Arc::new(store) })
    }
}

fn server_name(host: &Host) -> Result<ServerName<'static>, ChildFailure> {
    match host {
        Host::Ip(ip) => Ok(ServerName::from(*ip)),
        Host::Name(n) => DnsName::try_from(n.clone())
            .map(ServerName::DnsName)
            .map_err(|_| ChildFailure::new(Kind::Local, format!("{n:?} cannot be used as a TLS server name"))),
    }
}

fn host_text(host: &Host) -> String {
    match host {
        Host::Ip(ip) => ip.to_string(),
        Host::Name(n) => n.clone(),
    }
}

/// What an I/O error out of rustls' stream means for us.
fn classify(host: &Host, e: &std::io::Error) -> ChildFailure {
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return ChildFailure::new(Kind::Tls, format!("TLS with {} failed: {tls}", host_text(host)));
    }
    match e.kind() {
        std::io::ErrorKind::TimedOut => ChildFailure::new(
            Kind::Timeout,
            format!("{} did not answer within {} s", host_text(host), TOTAL_TIMEOUT_MS / 1000),
        ),
        std::io::ErrorKind::UnexpectedEof => ChildFailure::new(
            Kind::Closed,
            format!("{} closed the connection before the response was complete", host_text(host)),
        ),
        _ => ChildFailure::new(Kind::Closed, format!("connection to {} failed: {e}", host_text(host))),
    }
}

/// Handshake, send `request`, read until the response is framed completely (see
/// [`http::parse_response`]), the server closes, or the deadline passes. One connection, used
/// once; nothing is read after the framed end.
pub fn exchange(
    mut sock: Stream,
    host: &Host,
    request: &[u8],
    trust: &Trust,
    deadline: &Deadline,
) -> Result<http::Response, ChildFailure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ChildFailure::new(Kind::Local, format!("TLS setup: {e}")))?
        .with_root_certificates(trust.roots.clone())
        .with_no_client_auth();
    let mut conn = ClientConnection::new(Arc::new(config), server_name(host)?)
        .map_err(|e| ChildFailure::new(Kind::Local, format!("TLS setup: {e}")))?;
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(request).map_err(|e| classify(host, &e))?;
    tls.flush().map_err(|e| classify(host, &e))?;

    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if deadline.expired() {
            return Err(classify(host, &std::io::Error::from(std::io::ErrorKind::TimedOut)));
        }
        let n = match tls.read(&mut buf) {
            Ok(n) => n,
            // No close_notify: the framing below decides whether what we have is complete.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(classify(host, &e)),
        };
        raw.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        match http::parse_response(&raw) {
            Ok(r) => return Ok(r),
            Err(http::Error::Incomplete) if n == 0 => {
                return Err(ChildFailure::new(
                    Kind::Closed,
                    format!("{} closed the connection before the response was complete", host_text(host)),
                ))
            }
            Err(http::Error::Incomplete) if raw.len() > MAX_RAW_RESPONSE => {
                return Err(ChildFailure::new(
                    Kind::Response,
                    format!("response from {} exceeds {} bytes", host_text(host), MAX_RAW_RESPONSE),
                ))
            }
            Err(http::Error::Incomplete) => {}
            Err(e) => {
                return Err(ChildFailure::new(
                    Kind::Response,
                    format!("bad HTTP response from {}: {e}", host_text(host)),
                ))
            }
        }
    }
}
