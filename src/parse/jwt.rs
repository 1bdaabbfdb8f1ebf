//! Compact JWS (RFC 7515) carrying an `OpenApe` grant (AuthZ-JWT).
//!
//! Parsing is structural only: nothing here says a token is trustworthy (that is `verify`'s job),
//! but anything malformed or ambiguous is refused here, so the verifier only ever sees one
//! reading of the bytes that were signed. Strings of known claims never contain control
//! characters, because they reach `execve` and the audit log.

#![deny(unsafe_code)]

use std::fmt;

use crate::parse::base64url;
use crate::parse::json::{self, Value};
use crate::policy::token::{Claims, Header, Token, MAX_TOKEN_LEN};

/// Which of the three dot-separated segments an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Header,
    Claims,
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Claims => "claims",
            Part::Signature => "signature",
        })
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    TooLong {
        len: usize,
    },
    /// Not exactly three segments separated by '.'.
    Segments,
    EmptySegment {
        part: Part,
    },
    Base64 {
        part: Part,
        error: base64url::Error,
    },
    SignatureLength {
        len: usize,
    },
    HeaderJson(json::Error),
    ClaimsJson(json::Error),
    HeaderNotObject,
    ClaimsNotObject,
    MissingAlg,
    /// `alg`, `kid` or `typ` is present but not a string.
    HeaderType {
        field: &'static str,
    },
    HeaderControlCharacter {
        field: &'static str,
    },
    /// The header lists extensions that must be understood; we understand none.
    Crit,
    ClaimType {
        claim: &'static str,
    },
    /// `aud` or `command` is an empty array.
    EmptyArray {
        claim: &'static str,
    },
    ControlCharacter {
        claim: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLong { len } => {
                write!(f, "grant token is {len} bytes long; at most {MAX_TOKEN_LEN} are accepted")
            }
            Error::Segments => f.write_str("grant token must be three base64url parts separated by '.'"),
            Error::EmptySegment { part } => write!(f, "grant token {part} part is empty"),
            Error::Base64 { part, error } => write!(f, "grant token {part} part: {error}"),
            Error::SignatureLength { len } => {
                write!(f, "grant token signature is {len} bytes long; an Ed25519 signature is 64 bytes")
            }
            Error::HeaderJson(e) => write!(f, "grant token header: {e}"),
            Error::ClaimsJson(e) => write!(f, "grant token claims: {e}"),
            Error::HeaderNotObject => f.write_str("grant token header is not a JSON object"),
            Error::ClaimsNotObject => f.write_str("grant token claims are not a JSON object"),
            Error::MissingAlg => f.write_str("grant token header has no \"alg\""),
            Error::HeaderType { field } => {
                write!(f, "grant token header \"{field}\" must be a string")
            }
            Error::HeaderControlCharacter { field } => {
                write!(f, "grant token header \"{field}\" contains a control character")
            }
            Error::Crit => f.write_str("grant token header has \"crit\": it requires extensions escapes does not know"),
            Error::ClaimType { claim } => {
                write!(f, "claim \"{claim}\" must be {}", expected(claim))
            }
            Error::EmptyArray { claim } => {
                write!(f, "claim \"{claim}\" must not be an empty array")
            }
            Error::ControlCharacter { claim } => {
                write!(f, "claim \"{claim}\" contains a control character")
            }
        }
    }
}

impl std::error::Error for Error {}

fn expected(claim: &str) -> &'static str {
    match claim {
        "iat" | "exp" | "nbf" => "an integer",
        "aud" => "a string or an array of strings",
        "command" => "an array of strings",
        _ => "a string",
    }
}

/// Accepts `b64(header).b64(claims).b64(signature)` of at most [`MAX_TOKEN_LEN`] bytes, with
/// strict base64url, strict JSON objects, correctly typed known fields and a 64-byte signature.
pub fn parse(input: &[u8]) -> Result<Token<'_>, Error> {
    if input.len() > MAX_TOKEN_LEN {
        return Err(Error::TooLong { len: input.len() });
    }
    let mut segments = input.split(|&b| b == b'.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(Error::Segments);
    };
    let header_bytes = segment(header_b64, Part::Header)?;
    let claims_bytes = segment(claims_b64, Part::Claims)?;
    let signature_bytes = segment(signature_b64, Part::Signature)?;

    let signature = <[u8; 64]>::try_from(signature_bytes.as_slice())
        .map_err(|_| Error::SignatureLength { len: signature_bytes.len() })?;
    let signing_len =
        header_b64.len().checked_add(1).and_then(|n| n.checked_add(claims_b64.len())).ok_or(Error::Segments)?;
    let signing_input = input.get(..signing_len).ok_or(Error::Segments)?;

    let header = header(&json::parse(&header_bytes).map_err(Error::HeaderJson)?)?;
    let claims = claims(&json::parse(&claims_bytes).map_err(Error::ClaimsJson)?)?;
    Ok(Token { header, claims, signing_input, signature })
}

fn segment(b64: &[u8], part: Part) -> Result<Vec<u8>, Error> {
    if b64.is_empty() {
        return Err(Error::EmptySegment { part });
    }
    base64url::decode(b64).map_err(|error| Error::Base64 { part, error })
}

/// U+0000–U+001F and U+007F: what terminals, log readers and argv consumers may interpret.
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}')
}

fn header(value: &Value) -> Result<Header, Error> {
    if !matches!(value, Value::Object(_)) {
        return Err(Error::HeaderNotObject);
    }
    if value.get("crit").is_some() {
        return Err(Error::Crit);
    }
    let field = |name: &'static str| -> Result<Option<String>, Error> {
        match value.get(name) {
            None => Ok(None),
            Some(Value::Str(s)) if has_control(s) => Err(Error::HeaderControlCharacter { field: name }),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::HeaderType { field: name }),
        }
    };
    Ok(Header { alg: field("alg")?.ok_or(Error::MissingAlg)?, kid: field("kid")?, typ: field("typ")? })
}

fn string_value(value: &Value, claim: &'static str) -> Result<String, Error> {
    match value {
        Value::Str(s) if has_control(s) => Err(Error::ControlCharacter { claim }),
        Value::Str(s) => Ok(s.clone()),
        _ => Err(Error::ClaimType { claim }),
    }
}

fn string_claim(claims: &Value, claim: &'static str) -> Result<Option<String>, Error> {
    claims.get(claim).map(|v| string_value(v, claim)).transpose()
}

fn int_claim(claims: &Value, claim: &'static str) -> Result<Option<i64>, Error> {
    match claims.get(claim) {
        None => Ok(None),
        Some(Value::Int(i)) => Ok(Some(*i)),
        Some(_) => Err(Error::ClaimType { claim }),
    }
}

fn string_array(value: &Value, claim: &'static str) -> Result<Vec<String>, Error> {
    let Value::Array(items) = value else {
        return Err(Error::ClaimType { claim });
    };
    if items.is_empty() {
        return Err(Error::EmptyArray { claim });
    }
    items.iter().map(|item| string_value(item, claim)).collect()
}

fn claims(value: &Value) -> Result<Claims, Error> {
    if !matches!(value, Value::Object(_)) {
        return Err(Error::ClaimsNotObject);
    }
    let aud = match value.get("aud") {
        None => Vec::new(),
        Some(v @ Value::Str(_)) => vec![string_value(v, "aud")?],
        Some(v) => string_array(v, "aud")?,
    };
    let command = value.get("command").map(|v| string_array(v, "command")).transpose()?;
    Ok(Claims {
        iss: string_claim(value, "iss")?,
        sub: string_claim(value, "sub")?,
        aud,
        target_host: string_claim(value, "target_host")?,
        iat: int_claim(value, "iat")?,
        exp: int_claim(value, "exp")?,
        nbf: int_claim(value, "nbf")?,
        jti: string_claim(value, "jti")?,
        grant_id: string_claim(value, "grant_id")?,
        grant_type: string_claim(value, "grant_type")?,
        decided_by: string_claim(value, "decided_by")?,
        command,
        cmd_hash: string_claim(value, "cmd_hash")?,
        run_as: string_claim(value, "run_as")?,
    })
}

#[cfg(test)]
mod tests;
