//! What escapes asks of a confined child. Both sides read this (the spawner and the child), so
//! it holds values only, and nothing that runs.

#![forbid(unsafe_code)]

use crate::policy::verify::GrantType;

/// The work a confined child does.
pub enum Work<'a> {
    /// The parse service: answers parse requests on its request pipe until that closes.
    Parse,
    /// One HTTPS exchange with an issuer, reported once; then the child exits.
    Network(&'a NetJob),
    /// Unit tests only: this work under the parse service's rules, its result as the answer.
    #[cfg(test)]
    Test(fn() -> Vec<u8>),
}

/// One question to one allowed issuer.
pub struct NetJob {
    pub issuer: String,
    pub ask: Ask,
    /// `[tls] ca_bundle`, read by the root process as a trusted file: (path, PEM bytes).
    /// None: Mozilla's roots (webpki-roots).
    pub ca_bundle: Option<(String, Vec<u8>)>,
}

pub enum Ask {
    /// `GET {iss}/.well-known/jwks.json`.
    Jwks,
    /// `GET {iss}/.well-known/openid-configuration` (`escapes trust`, for root only).
    Discovery,
    /// `POST {iss}/api/grants/{grant_id}/consume` with the grant as bearer token.
    Consume { grant_id: String, token: String, grant_type: GrantType },
}

/// The first byte of a parse-service request; the payload follows (see `confined::service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    Config = 2,
    Token = 3,
    UserByName = 4,
    UserByUid = 5,
    Jwks = 6,
    JwksCache = 7,
    Certificates = 8,
    /// A helmet's or jacket's reply (`opwire::reply::parse`).
    Reply = 10,
    /// `escapes trust`: the config with the trust settings applied (`config_edit::edit`).
    ConfigEdit = 11,
}

impl Parse {
    pub fn from_u8(b: u8) -> Option<Parse> {
        Some(match b {
            2 => Parse::Config,
            3 => Parse::Token,
            4 => Parse::UserByName,
            5 => Parse::UserByUid,
            6 => Parse::Jwks,
            7 => Parse::JwksCache,
            8 => Parse::Certificates,
            10 => Parse::Reply,
            11 => Parse::ConfigEdit,
            _ => return None,
        })
    }
}

/// Largest request the service reads: /etc/passwd and /etc/group at their cap (16 MiB each)
/// and a little framing.
pub const MAX_REQUEST: usize = 33 << 20;

/// The first byte of an answer: the parser's value follows, or its refusal in words.
pub const ANSWER_OK: u8 = 0;
pub const ANSWER_REFUSED: u8 = 1;
