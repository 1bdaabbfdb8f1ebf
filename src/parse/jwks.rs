//! JSON Web Key Set (RFC 7517) reduced to the Ed25519 verification keys an issuer publishes.
//!
//! Keys of other kinds, or Ed25519 keys declared for another purpose, are skipped; but an
//! Ed25519 key that is malformed, carries private material, or shares its `kid` with another
//! usable key makes the whole set an error, because each of those signals a misconfigured or
//! tampered issuer and would make key selection ambiguous.

#![deny(unsafe_code)]

use std::fmt;

use crate::parse::base64url;
use crate::parse::json::{self, Value};
use crate::policy::token::{find, Key, MAX_JWKS_LEN};

/// Why a key set was refused. `index` counts entries of `keys` from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    TooLarge {
        len: usize,
    },
    Json(json::Error),
    NotObject,
    MissingKeys,
    KeysNotArray,
    KeyNotObject {
        index: usize,
    },
    PrivateKey {
        index: usize,
    },
    MissingKid {
        index: usize,
    },
    /// `kid` is not a string, is empty, or contains a control character.
    InvalidKid {
        index: usize,
    },
    MissingX {
        index: usize,
    },
    XNotString {
        index: usize,
    },
    XBase64 {
        index: usize,
        error: base64url::Error,
    },
    XLength {
        index: usize,
        len: usize,
    },
    DuplicateKid {
        kid: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge { len } => {
                write!(f, "key set is {len} bytes long; at most {MAX_JWKS_LEN} are accepted")
            }
            Error::Json(e) => write!(f, "key set: {e}"),
            Error::NotObject => f.write_str("key set is not a JSON object"),
            Error::MissingKeys => f.write_str("key set has no \"keys\" member"),
            Error::KeysNotArray => f.write_str("key set \"keys\" is not an array"),
            Error::KeyNotObject { index } => write!(f, "key set entry {index} is not an object"),
            Error::PrivateKey { index } => write!(
                f,
                "key set entry {index} contains private key material (\"d\"); \
                 the issuer is publishing the wrong file"
            ),
            Error::MissingKid { index } => {
                write!(f, "Ed25519 key at entry {index} has no \"kid\"")
            }
            Error::InvalidKid { index } => write!(
                f,
                "Ed25519 key at entry {index}: \"kid\" must be a non-empty string \
                 without control characters"
            ),
            Error::MissingX { index } => write!(f, "Ed25519 key at entry {index} has no \"x\""),
            Error::XNotString { index } => {
                write!(f, "Ed25519 key at entry {index}: \"x\" must be a string")
            }
            Error::XBase64 { index, error } => {
                write!(f, "Ed25519 key at entry {index}: \"x\": {error}")
            }
            Error::XLength { index, len } => {
                write!(f, "Ed25519 key at entry {index}: \"x\" is {len} bytes; an Ed25519 public key is 32")
            }
            Error::DuplicateKid { kid } => {
                write!(f, "key set has two Ed25519 keys with kid \"{kid}\"")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Accepts a JSON object of at most [`MAX_JWKS_LEN`] bytes with a `keys` array, returning its
/// usable Ed25519 signature keys in document order.
pub fn parse(input: &[u8]) -> Result<Vec<Key>, Error> {
    if input.len() > MAX_JWKS_LEN {
        return Err(Error::TooLarge { len: input.len() });
    }
    let doc = json::parse(input).map_err(Error::Json)?;
    if !matches!(doc, Value::Object(_)) {
        return Err(Error::NotObject);
    }
    let entries = match doc.get("keys") {
        None => return Err(Error::MissingKeys),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(Error::KeysNotArray),
    };
    let mut keys: Vec<Key> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let Some(key) = usable_key(index, entry)? else {
            continue;
        };
        if find(&keys, &key.kid).is_some() {
            return Err(Error::DuplicateKid { kid: key.kid });
        }
        keys.push(key);
    }
    Ok(keys)
}

fn is(entry: &Value, member: &str, wanted: &str) -> bool {
    entry.get(member).and_then(Value::as_str) == Some(wanted)
}

/// `Ok(None)` for a key that is well-formed but not for us.
fn usable_key(index: usize, entry: &Value) -> Result<Option<Key>, Error> {
    if !matches!(entry, Value::Object(_)) {
        return Err(Error::KeyNotObject { index });
    }
    // Checked for every key type: any published private key means the wrong file is served.
    if entry.get("d").is_some() {
        return Err(Error::PrivateKey { index });
    }
    if !is(entry, "kty", "OKP") || !is(entry, "crv", "Ed25519") {
        return Ok(None);
    }
    if entry.get("alg").is_some() && !is(entry, "alg", "EdDSA") {
        return Ok(None);
    }
    if entry.get("use").is_some() && !is(entry, "use", "sig") {
        return Ok(None);
    }
    let kid = match entry.get("kid") {
        None => return Err(Error::MissingKid { index }),
        Some(Value::Str(kid)) if !kid.is_empty() && !kid.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') => kid.clone(),
        Some(_) => return Err(Error::InvalidKid { index }),
    };
    let x_b64 = match entry.get("x") {
        None => return Err(Error::MissingX { index }),
        Some(Value::Str(x)) => x,
        Some(_) => return Err(Error::XNotString { index }),
    };
    let x_bytes = base64url::decode(x_b64.as_bytes()).map_err(|error| Error::XBase64 { index, error })?;
    let x = <[u8; 32]>::try_from(x_bytes.as_slice()).map_err(|_| Error::XLength { index, len: x_bytes.len() })?;
    Ok(Some(Key { kid, x }))
}

#[cfg(test)]
mod tests;
