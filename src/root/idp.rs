//! The two questions escapes asks its IdP: its keys (`GET {iss}/.well-known/jwks.json`) and
//! whether a grant may run (`POST {iss}/api/grants/{grant_id}/consume`, with the grant as
//! bearer token: single use for `once` grants, a revocation check for `timed` and `always`).
//! Only issuers in `allowed_issuers` are contacted, and only through the network child
//! (`confined::net`), which also judges the answer.

use opwire::sysexits::Exit;
use std::fmt;

use crate::confined::job::{Ask, NetJob};
use crate::confined::net::{self, Answer, Refusal};
use crate::policy::config::Config;
use crate::policy::text::excerpt;
use crate::policy::token::Key;
use crate::policy::verify::GrantType;
use crate::root::trusted_file;

/// A grant id goes into the URL path: 1–128 RFC 3986 unreserved characters, not `.` or `..`.
const MAX_GRANT_ID: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    IssuerNotAllowed {
        issuer: String,
    },
    CaBundle(trusted_file::Error),
    /// The token's grant_id cannot be put in a URL path as is.
    BadGrantId {
        grant_id: String,
    },
    /// The network child's verdict: unreachable, a bad answer, or the IdP's refusal.
    Idp(Refusal),
}

impl Error {
    /// 5 when the IdP refused the grant or the token's grant_id is unusable; 1 otherwise.
    pub fn exit(&self) -> Exit {
        match self {
            Error::BadGrantId { .. } => Exit::Refused,
            Error::Idp(r) => r.exit,
            _ => Exit::Error,
        }
    }

    /// The stable code for the audit log and `--json-errors`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadGrantId { .. } => "grant_id_invalid",
            Error::IssuerNotAllowed { .. } => "issuer_not_allowed",
            Error::CaBundle(_) => "ca_bundle",
            Error::Idp(r) => r.code,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::IssuerNotAllowed { issuer } => {
                write!(f, "issuer {issuer:?} is not in allowed_issuers; not contacting it")
            }
            Error::CaBundle(e) => write!(f, "[tls] ca_bundle {e}"),
            Error::BadGrantId { grant_id } => write!(f, "grant_id {:?} is not a plain identifier", excerpt(grant_id)),
            Error::Idp(r) => f.write_str(&r.message),
        }
    }
}

impl std::error::Error for Error {}

/// A grant id goes into the URL path as is: refused unless [`is_safe_segment`].
pub fn check_grant_id(grant_id: &str) -> Result<(), Error> {
    if is_safe_segment(grant_id) {
        Ok(())
    } else {
        Err(Error::BadGrantId { grant_id: grant_id.into() })
    }
}

/// True for 1–128 characters from `A-Z a-z 0-9 - . _ ~`, other than `.` and `..`.
fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_GRANT_ID
        && s != "."
        && s != ".."
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// One question to an allowed issuer, in the network child; the CA bundle is read here, as a
/// trusted file, and parsed there.
fn ask(cfg: &Config, issuer: &str, ask: Ask) -> Result<Answer, Error> {
    if !cfg.allowed_issuers.iter().any(|i| i == issuer) {
        return Err(Error::IssuerNotAllowed { issuer: issuer.into() });
    }
    let ca_bundle = match &cfg.ca_bundle {
        None => None,
        Some(path) => {
            Some((path.clone(), trusted_file::read(path, crate::policy::config::MAX_BUNDLE).map_err(Error::CaBundle)?))
        }
    };
    net::ask(&NetJob { issuer: issuer.into(), ask, ca_bundle }).map_err(Error::Idp)
}

/// The issuer's published Ed25519 keys, and the body they came from (for the cache).
pub fn fetch_jwks(cfg: &Config, issuer: &str) -> Result<(Vec<Key>, Vec<u8>), Error> {
    match ask(cfg, issuer, Ask::Jwks)? {
        Answer::Keys { keys, raw } => Ok((keys, raw)),
        Answer::Consumed(_) | Answer::Discovery { .. } => Err(mismatch(issuer)),
    }
}

/// Asks the IdP to consume (`once`) or confirm (`timed`, `always`) the grant; the status it
/// answered (`consumed` or `valid`).
pub fn consume(
    cfg: &Config,
    issuer: &str,
    grant_id: &str,
    token: &str,
    grant_type: GrantType,
) -> Result<String, Error> {
    check_grant_id(grant_id)?;
    let job = Ask::Consume { grant_id: grant_id.into(), token: token.into(), grant_type };
    match ask(cfg, issuer, job)? {
        Answer::Consumed(status) => Ok(status),
        Answer::Keys { .. } | Answer::Discovery { .. } => Err(mismatch(issuer)),
    }
}

/// What `escapes trust` learns about an issuer it is asked to trust (not yet in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introduction {
    /// The discovery document's `issuer`, as the IdP wrote it.
    pub issuer: String,
    pub jwks_uri: Option<String>,
    pub keys: Vec<Key>,
    /// The key set as served, for pinning.
    pub raw: Vec<u8>,
}

/// `escapes trust` (root only): the discovery document and the key set of `issuer`, each in
/// an exchange of the network child's, with the CA bundle root named (None: Mozilla's roots).
/// The keys are asked for only when the document names `issuer` exactly.
pub fn introduce(issuer: &str, ca_bundle: Option<(String, Vec<u8>)>) -> Result<Introduction, Error> {
    let job = |ask| NetJob { issuer: issuer.into(), ask, ca_bundle: ca_bundle.clone() };
    let (named, jwks_uri) = match net::ask(&job(Ask::Discovery)).map_err(Error::Idp)? {
        Answer::Discovery { issuer, jwks_uri } => (issuer, jwks_uri),
        _ => return Err(mismatch(issuer)),
    };
    if named != issuer {
        return Ok(Introduction { issuer: named, jwks_uri, keys: Vec::new(), raw: Vec::new() });
    }
    match net::ask(&job(Ask::Jwks)).map_err(Error::Idp)? {
        Answer::Keys { keys, raw } => Ok(Introduction { issuer: named, jwks_uri, keys, raw }),
        _ => Err(mismatch(issuer)),
    }
}

fn mismatch(issuer: &str) -> Error {
    Error::Idp(Refusal {
        exit: Exit::Error,
        code: "idp_error",
        message: format!("IdP {issuer}: the network helper process answered another question"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_ids_must_be_plain_path_segments() {
        assert!(is_safe_segment("0b7e4a52-0000-4000-8000-000000000002"));
        for bad in ["", ".", "..", "a/b", "a%2fb", "a b", "a?b", "a#b", "ä", &"a".repeat(129)] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
    }

    #[test]
    fn refuses_unsafe_grant_id_before_any_network() {
        let cfg = crate::parse::config::parse(
            b"[security]\nallowed_issuers = [\"https://id.example\"]\nallowed_approvers = [\"a\"]\n",
        )
        .unwrap();
        let e = consume(&cfg, "https://id.example", "../admin", "t", GrantType::Once).unwrap_err();
        assert_eq!((e.exit().code(), e.code()), (5, "grant_id_invalid"));
    }

    #[test]
    fn never_contacts_an_issuer_that_is_not_allowed() {
        let cfg = crate::parse::config::parse(
            b"[security]\nallowed_issuers = [\"https://id.example\"]\nallowed_approvers = [\"a\"]\n",
        )
        .unwrap();
        let e = fetch_jwks(&cfg, "https://evil.example").unwrap_err();
        assert_eq!(e, Error::IssuerNotAllowed { issuer: "https://evil.example".into() });
    }
}
