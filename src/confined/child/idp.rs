//! What the IdP's answers mean, decided inside the network child so that no byte of them is
//! parsed by the root process: `GET {iss}/.well-known/jwks.json` (the issuer's keys),
//! `GET {iss}/.well-known/openid-configuration` (`escapes trust`: the issuer it names) and
//! `POST {iss}/api/grants/{grant_id}/consume` (single use for `once` grants; a revocation
//! check for `timed` and `always`).
//!
//! Consume answers (openape-wire.md): 200 without `error` and with the expected `status` → go
//! on; 200 with `error` → the IdP refuses the grant (exit 5); anything else (other status,
//! redirect, unreadable body) → exit 1. The child reports the verdict; nothing runs on either
//! failure.

use std::fmt;

use crate::parse::http;
use crate::parse::json::{self, Value};
use crate::parse::jwks;
use crate::policy::text::excerpt;
use crate::policy::token::Key;
use crate::policy::verify::GrantType;

const EXIT_ERROR: i32 = 1;
const EXIT_REFUSED: i32 = 5;

/// Why an answer does not let the grant run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Any HTTP status but 200 (redirects included: they are not followed).
    Status {
        url: String,
        status: u16,
        detail: Option<String>,
    },
    Body {
        url: String,
        what: String,
    },
    Jwks {
        url: String,
        error: jwks::Error,
    },
    /// 200 with an `error` member: the IdP says this grant may not be used.
    Refused {
        error: String,
        state: Option<String>,
    },
    /// 200 without `error`, but not the status this grant type must produce.
    UnexpectedStatus {
        expected: &'static str,
        got: String,
    },
}

impl Error {
    /// 5 when the IdP refused the grant; 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Refused { .. } => EXIT_REFUSED,
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
            _ => "idp_error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Status { url, status, detail: Some(d) } => {
                write!(f, "IdP answered {status} for {url}: {}", excerpt(d))
            }
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

/// The issuer's published Ed25519 keys: status 200 and a key set [`jwks::parse`] accepts.
pub fn keys_of(url: &str, r: &http::Response) -> Result<Vec<Key>, Error> {
    require_200(url, r)?;
    jwks::parse(&r.body).map_err(|error| Error::Jwks { url: url.into(), error })
}

/// The discovery document's `issuer` and `jwks_uri` (`escapes trust`): status 200, a JSON
/// object whose `issuer` is a string (compared with the URL asked for by the root process) and
/// whose `jwks_uri`, when present, is a string.
pub fn discovery_of(url: &str, r: &http::Response) -> Result<(String, Option<String>), Error> {
    require_200(url, r)?;
    let body = |what: &str| Error::Body { url: url.into(), what: what.into() };
    let v = json::parse(&r.body).map_err(|e| body(&format!("not JSON: {e}")))?;
    if !matches!(v, Value::Object(_)) {
        return Err(body("not a JSON object"));
    }
    let issuer = match v.get("issuer") {
        Some(Value::Str(s)) => s.clone(),
        Some(_) => return Err(body("\"issuer\" is not a string")),
        None => return Err(body("no \"issuer\"")),
    };
    let jwks_uri = match v.get("jwks_uri") {
        None => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(_) => return Err(body("\"jwks_uri\" is not a string")),
    };
    Ok((issuer, jwks_uri))
}

/// The meaning of a consume answer for a grant of `kind`: the status it reported.
pub fn consume_answer_of(url: &str, r: &http::Response, kind: GrantType) -> Result<String, Error> {
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
        Some(s) if s == expected => Ok(s),
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

    fn consume_answer(status: u16, body: &str, kind: GrantType) -> Result<String, Error> {
        consume_answer_of("https://id.example/api/grants/g/consume", &resp(status, body), kind)
    }

    #[test]
    fn a_consumed_once_grant_may_run() {
        let r = consume_answer(200, r#"{"status":"consumed","grant":{"id":"g","status":"used"}}"#, GrantType::Once);
        assert_eq!(r, Ok("consumed".to_string()));
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
            let e =
                consume_answer(200, &format!(r#"{{"error":"{error}","status":"x"}}"#), GrantType::Once).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (5, code), "{error}");
        }
    }

    #[test]
    fn other_statuses_and_bodies_exit_1() {
        let problem = r#"{"type":"https://openape.org/errors/grant_not_found","title":"Grant not found","status":404}"#;
        for (status, body) in [(404, problem), (401, "{}"), (500, "oops"), (302, ""), (201, r#"{"status":"consumed"}"#)]
        {
            let e = consume_answer(status, body, GrantType::Once).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (1, "idp_error"), "{status}");
        }
        for body in ["", "not json", "[]", r#"{"error":1}"#, r#"{"status":1}"#, "{}", r#"{"a":1,"a":2}"#] {
            let e = consume_answer(200, body, GrantType::Once).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (1, "idp_error"), "{body}");
        }
    }

    #[test]
    fn a_discovery_document_gives_its_issuer_and_jwks_uri() {
        let url = "https://id.example/.well-known/openid-configuration";
        let r = resp(200, r#"{"issuer":"https://id.example","jwks_uri":"https://id.example/k","x":[1]}"#);
        assert_eq!(discovery_of(url, &r), Ok(("https://id.example".into(), Some("https://id.example/k".into()))));
        assert_eq!(discovery_of(url, &resp(200, r#"{"issuer":"i"}"#)), Ok(("i".into(), None)));
        for (status, body) in [
            (404, "{}"),
            (302, ""),
            (200, ""),
            (200, "[]"),
            (200, "{}"),
            (200, r#"{"issuer":1}"#),
            (200, r#"{"issuer":"a","issuer":"b"}"#),
            (200, r#"{"issuer":"a","jwks_uri":null}"#),
        ] {
            let e = discovery_of(url, &resp(status, body)).unwrap_err();
            assert_eq!((e.exit_code(), e.code()), (1, "idp_error"), "{status} {body}");
        }
    }

    #[test]
    fn problem_details_reach_the_message() {
        let e = consume_answer(
            404,
            r#"{"title":"Grant not found","status":404,"detail":"no such grant"}"#,
            GrantType::Once,
        )
        .unwrap_err();
        assert!(e.to_string().contains("Grant not found: no such grant"), "{e}");
    }
}
