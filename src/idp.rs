//! The two questions escapes asks its IdP, and what the answers mean:
//! `GET {iss}/.well-known/jwks.json` (the issuer's keys) and
//! `POST {iss}/api/grants/{grant_id}/consume` with the grant as bearer token (single use for
//! `once` grants; a revocation check for `timed` and `always`).
//!
//! Only issuers in `allowed_issuers` are ever contacted. Consume answers (openape-wire.md):
//! 200 without `error` and with the expected `status` → go on; 200 with `error` → the IdP
//! refuses the grant (exit 5); anything else (other status, redirect, unreadable body, no
//! connection) → exit 1. Nothing runs in either failure case.

use std::fmt;

use crate::policy::config::Config;
use crate::parse::http::{self, Method};
use crate::parse::json::{self, Value};
use crate::parse::jwks;
use crate::net;
use crate::parse::pem;
use crate::tls;
use crate::trusted_file;
use crate::policy::verify::GrantType;

const EXIT_ERROR: i32 = 1;
const EXIT_REFUSED: i32 = 5;

/// A grant id goes into the URL path: 1–128 RFC 3986 unreserved characters, not `.` or `..`.
const MAX_GRANT_ID: usize = 128;

/// The IdP's consume answer for a grant it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    /// `consumed` (once) or `valid` (timed, always).
    pub status: String,
}

/// A fetched key set: the usable keys and the body they came from (for the cache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<crate::policy::token::Key>,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    IssuerNotAllowed { issuer: String },
    CaBundle(trusted_file::Error),
    Pem { path: String, error: pem::Error },
    Trust { path: String, error: tls::TrustError },
    /// The token's grant_id cannot be put in a URL path as is.
    BadGrantId { grant_id: String },
    Net { issuer: String, error: net::Error },
    /// Any HTTP status but 200 (redirects included: they are not followed).
    Status { url: String, status: u16, detail: Option<String> },
    Body { url: String, what: String },
    Jwks { url: String, error: jwks::Error },
    /// 200 with an `error` member: the IdP says this grant may not be used.
    Refused { error: String, state: Option<String> },
    /// 200 without `error`, but not the status this grant type must produce.
    UnexpectedStatus { expected: &'static str, got: String },
}

impl Error {
    /// 5 when the IdP refused the grant or the token's grant_id is unusable; 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Refused { .. } | Error::BadGrantId { .. } => EXIT_REFUSED,
            _ => EXIT_ERROR,
        }
    }

    /// The stable code for the audit log and `--json-errors`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Refused { error, .. } => match error.as_str() {
                "already_consumed" => "consumed",
                "revoked" => "revoked",
                "denied" => "denied",
                "expired" => "grant_expired",
                "not_approved" => "not_approved",
                _ => "idp_refused",
            },
            Error::BadGrantId { .. } => "grant_id_invalid",
            Error::IssuerNotAllowed { .. } => "issuer_not_allowed",
            Error::CaBundle(_) | Error::Pem { .. } | Error::Trust { .. } => "ca_bundle",
            Error::Net { error, .. } if error.is_unreachable() => "idp_unreachable",
            _ => "idp_error",
        }
    }
}

/// At most this much of anything the IdP says goes into a message.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::IssuerNotAllowed { issuer } => write!(f, "issuer {issuer:?} is not in allowed_issuers; not contacting it"),
            Error::CaBundle(e) => write!(f, "[tls] ca_bundle {e}"),
            Error::Pem { path, error } => write!(f, "[tls] ca_bundle {path}: {error}"),
            Error::Trust { path, error } => write!(f, "[tls] ca_bundle {path}: {error}"),
            Error::BadGrantId { grant_id } => write!(f, "grant_id {:?} is not a plain identifier", excerpt(grant_id)),
            Error::Net { issuer, error } if error.is_unreachable() => write!(f, "IdP {issuer} unreachable: {error}"),
            Error::Net { issuer, error } => write!(f, "IdP {issuer}: {error}"),
            Error::Status { url, status, detail: Some(d) } => write!(f, "IdP answered {status} for {url}: {}", excerpt(d)),
            Error::Status { url, status, detail: None } if (300..400).contains(status) => {
                write!(f, "IdP answered {status} (a redirect, not followed) for {url}")
            }
            Error::Status { url, status, detail: None } => write!(f, "IdP answered {status} for {url}"),
            Error::Body { url, what } => write!(f, "IdP answer from {url} is unusable: {what}"),
            Error::Jwks { url, error } => write!(f, "IdP key set from {url}: {error}"),
            Error::Refused { error, state: Some(s) } if s != error => {
                write!(f, "the IdP refuses this grant: {:?} (grant is {:?})", excerpt(error), excerpt(s))
            }
            Error::Refused { error, .. } => write!(f, "the IdP refuses this grant: {:?}", excerpt(error)),
            Error::UnexpectedStatus { expected, got } => {
                write!(f, "IdP answered status {:?} where {expected:?} was required; not running", excerpt(got))
            }
        }
    }
}

impl std::error::Error for Error {}

/// The roots for talking to any issuer: the `[tls] ca_bundle` (read as a root-owned file,
/// every block a CERTIFICATE) or the compiled-in Mozilla roots.
pub fn trust(cfg: &Config) -> Result<tls::Trust, Error> {
    let Some(path) = &cfg.ca_bundle else {
        return Ok(tls::Trust::mozilla());
    };
    let bytes = trusted_file::read(path, pem::MAX_BUNDLE).map_err(Error::CaBundle)?;
    let certs = pem::certificates(&bytes).map_err(|error| Error::Pem { path: path.clone(), error })?;
    tls::Trust::from_der(&certs).map_err(|error| Error::Trust { path: path.clone(), error })
}

/// True for 1–128 characters from `A-Z a-z 0-9 - . _ ~`, other than `.` and `..`.
pub fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_GRANT_ID
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// One request to an allowed issuer; returns the URL (for messages) and the response.
fn call(cfg: &Config, issuer: &str, method: Method, path: &str, headers: &[(&str, &str)]) -> Result<(String, http::Response), Error> {
    if !cfg.allowed_issuers.iter().any(|i| i == issuer) {
        return Err(Error::IssuerNotAllowed { issuer: issuer.into() });
    }
    let net_err = |error| Error::Net { issuer: issuer.into(), error };
    let ep = net::endpoint(issuer).map_err(|e| net_err(net::Error::Url(e)))?;
    let target = format!("{}{path}", ep.base_path);
    let url = format!("{issuer}{path}");
    let request = http::request(method, &ep.authority, &target, headers).map_err(|e| net_err(net::Error::Request(e)))?;
    let trust = trust(cfg)?;
    let response = net::exchange(&ep, &request, &trust).map_err(net_err)?;
    Ok((url, response))
}

/// `title: detail` of an RFC 9457 problem document, when the body is one.
fn problem_detail(body: &[u8]) -> Option<String> {
    let v = json::parse(body).ok()?;
    let title = v.get("title").and_then(Value::as_str);
    let detail = v.get("detail").and_then(Value::as_str);
    match (title, detail) {
        (Some(t), Some(d)) => Some(format!("{t}: {d}")),
        (Some(t), None) => Some(t.to_string()),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => v.get("error").and_then(Value::as_str).map(str::to_string),
    }
}

fn require_200(url: &str, r: &http::Response) -> Result<(), Error> {
    if r.status == 200 {
        return Ok(());
    }
    Err(Error::Status { url: url.into(), status: r.status, detail: problem_detail(&r.body) })
}

/// The issuer's published Ed25519 keys (`GET {iss}/.well-known/jwks.json`, status 200, a key
/// set [`jwks::parse`] accepts).
pub fn fetch_jwks(cfg: &Config, issuer: &str) -> Result<Jwks, Error> {
    let (url, r) = call(cfg, issuer, Method::Get, "/.well-known/jwks.json", &[])?;
    require_200(&url, &r)?;
    let keys = jwks::parse(&r.body).map_err(|error| Error::Jwks { url, error })?;
    Ok(Jwks { keys, raw: r.body })
}

/// Asks the IdP to consume (`once`) or confirm (`timed`, `always`) the grant, presenting the
/// grant token itself as the bearer credential.
pub fn consume(cfg: &Config, issuer: &str, grant_id: &str, token: &str, kind: GrantType) -> Result<Consumed, Error> {
    if !is_safe_segment(grant_id) {
        return Err(Error::BadGrantId { grant_id: grant_id.into() });
    }
    let auth = format!("Bearer {token}");
    let path = format!("/api/grants/{grant_id}/consume");
    let (url, r) = call(cfg, issuer, Method::Post, &path, &[("Authorization", &auth)])?;
    interpret_consume(&url, &r, kind)
}

/// The meaning of a consume answer (pure; see the module comment).
pub fn interpret_consume(url: &str, r: &http::Response, kind: GrantType) -> Result<Consumed, Error> {
    require_200(url, r)?;
    let body = |what: &str| Error::Body { url: url.into(), what: what.into() };
    let v = json::parse(&r.body).map_err(|e| body(&format!("not JSON: {e}")))?;
    if !matches!(v, Value::Object(_)) {
        return Err(body("not a JSON object"));
    }
    let status = match v.get("status") {
        None => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(_) => return Err(body("\"status\" is not a string")),
    };
    match v.get("error") {
        None => {}
        Some(Value::Str(e)) => return Err(Error::Refused { error: e.clone(), state: status }),
        Some(_) => return Err(body("\"error\" is not a string")),
    }
    let expected = match kind {
        GrantType::Once => "consumed",
        GrantType::Timed | GrantType::Always => "valid",
    };
    match status {
        Some(s) if s == expected => Ok(Consumed { status: s }),
        Some(got) => Err(Error::UnexpectedStatus { expected, got }),
        None => Err(body("no \"status\" and no \"error\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> http::Response {
        http::Response { status, content_type: Some("application/json".into()), body: body.as_bytes().to_vec() }
    }

    fn consume_answer(status: u16, body: &str, kind: GrantType) -> Result<Consumed, Error> {
        interpret_consume("https://id.example/api/grants/g/consume", &resp(status, body), kind)
    }

    #[test]
    fn a_consumed_once_grant_may_run() {
        let r = consume_answer(200, r#"{"status":"consumed","grant":{"id":"g","status":"used"}}"#, GrantType::Once);
        assert_eq!(r, Ok(Consumed { status: "consumed".into() }));
    }

    #[test]
    fn a_valid_timed_grant_may_run() {
        assert!(consume_answer(200, r#"{"status":"valid","grant":{}}"#, GrantType::Timed).is_ok());
        assert!(consume_answer(200, r#"{"status":"valid","grant":{}}"#, GrantType::Always).is_ok());
    }

    #[test]
    fn a_once_grant_reported_valid_but_not_consumed_does_not_run() {
        let e = consume_answer(200, r#"{"status":"valid"}"#, GrantType::Once).unwrap_err();
        assert_eq!((e.exit_code(), e.code()), (1, "idp_error"));
    }

    #[test]
    fn idp_refusals_exit_5_with_their_own_code() {
        for (error, code) in [
            ("already_consumed", "consumed"),
            ("revoked", "revoked"),
            ("denied", "denied"),
            ("expired", "grant_expired"),
            ("not_approved", "not_approved"),
            ("something_new", "idp_refused"),
        ] {
            let e = consume_answer(200, &format!(r#"{{"error":"{error}","status":"x"}}"#), GrantType::Once).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (5, code), "{error}");
        }
    }

    #[test]
    fn other_statuses_and_bodies_exit_1() {
        let problem = r#"{"type":"https://openape.org/errors/grant_not_found","title":"Grant not found","status":404}"#;
        for (status, body) in [(404, problem), (401, "{}"), (500, "oops"), (302, ""), (201, r#"{"status":"consumed"}"#)] {
            let e = consume_answer(status, body, GrantType::Once).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (1, "idp_error"), "{status}");
        }
        for body in ["", "not json", "[]", r#"{"error":1}"#, r#"{"status":1}"#, "{}", r#"{"a":1,"a":2}"#] {
            let e = consume_answer(200, body, GrantType::Once).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (1, "idp_error"), "{body}");
        }
    }

    #[test]
    fn problem_details_reach_the_message() {
        let e = consume_answer(404, r#"{"title":"Grant not found","status":404,"detail":"no such grant"}"#, GrantType::Once).unwrap_err();
        assert!(e.to_string().contains("Grant not found: no such grant"), "{e}");
    }

    #[test]
    fn grant_ids_must_be_plain_path_segments() {
        assert!(is_safe_segment("0b7e4a52-0000-4000-8000-000000000002"));
        for bad in ["", ".", "..", "a/b", "a%2fb", "a b", "a?b", "a#b", "ä", &"a".repeat(129)] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
    }

    #[test]
    fn refuses_unsafe_grant_id_before_any_network() {
        let cfg = crate::parse::config::parse(b"[security]\nallowed_issuers = [\"https://id.example\"]\nallowed_approvers = [\"a\"]\n").unwrap();
        let e = consume(&cfg, "https://id.example", "../admin", "t", GrantType::Once).unwrap_err();
        assert_eq!((e.exit_code(), e.code()), (5, "grant_id_invalid"));
    }

    #[test]
    fn never_contacts_an_issuer_that_is_not_allowed() {
        let cfg = crate::parse::config::parse(b"[security]\nallowed_issuers = [\"https://id.example\"]\nallowed_approvers = [\"a\"]\n").unwrap();
        let e = fetch_jwks(&cfg, "https://evil.example").unwrap_err();
        assert_eq!(e, Error::IssuerNotAllowed { issuer: "https://evil.example".into() });
    }
}
