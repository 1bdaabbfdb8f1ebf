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
mod tests {
    use super::*;
    use crate::policy::base64url::encode;

    // RFC 8037 §A.2 public key.
    const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn x_bytes() -> [u8; 32] {
        <[u8; 32]>::try_from(base64url::decode(X.as_bytes()).unwrap().as_slice()).unwrap()
    }

    fn okp(kid: &str) -> String {
        format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"{kid}","alg":"EdDSA","use":"sig"}}"#)
    }

    fn set(entries: &[String]) -> String {
        format!(r#"{{"keys":[{}]}}"#, entries.join(","))
    }

    fn err(doc: &str) -> Error {
        match parse(doc.as_bytes()) {
            Err(e) => e,
            Ok(k) => panic!("accepted {doc}: {k:?}"),
        }
    }

    #[test]
    fn parses_openape_key_set() {
        let keys = parse(set(&[okp("key-1"), okp("key-2")]).as_bytes()).unwrap();
        assert_eq!(keys, vec![Key { kid: "key-1".into(), x: x_bytes() }, Key { kid: "key-2".into(), x: x_bytes() }]);
    }

    #[test]
    fn find_selects_by_exact_kid() {
        let keys = parse(set(&[okp("key-1"), okp("key-2")]).as_bytes()).unwrap();
        assert_eq!(find(&keys, "key-2").map(|k| k.kid.as_str()), Some("key-2"));
        assert_eq!(find(&keys, "key-"), None);
        assert_eq!(find(&keys, "KEY-1"), None);
    }

    #[test]
    fn alg_and_use_are_optional() {
        let doc = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"k"}}]}}"#);
        assert_eq!(parse(doc.as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn empty_key_set_is_not_an_error() {
        assert_eq!(parse(br#"{"keys":[]}"#), Ok(vec![]));
    }

    #[test]
    fn skips_other_key_types() {
        let rsa = r#"{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"key-1","alg":"RS256"}"#.to_string();
        let ec = r#"{"kty":"EC","crv":"P-256","x":"!","y":"!","kid":"ec"}"#.to_string();
        let x448 = r#"{"kty":"OKP","crv":"X25519","x":"short","kid":"key-1"}"#.to_string();
        let no_kty = r#"{"crv":"Ed25519","x":"AA"}"#.to_string();
        let keys = parse(set(&[rsa, ec, x448, no_kty, okp("key-1")]).as_bytes()).unwrap();
        assert_eq!(keys, vec![Key { kid: "key-1".into(), x: x_bytes() }]);
    }

    #[test]
    fn skips_ed25519_keys_for_other_algorithms_or_uses() {
        let other_alg = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"a","alg":"Ed448"}}"#);
        let enc = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"b","use":"enc"}}"#);
        let typed = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"c","alg":1}}"#);
        let keys = parse(set(&[other_alg, enc, typed]).as_bytes()).unwrap();
        assert_eq!(keys, vec![]);
    }

    #[test]
    fn skipped_keys_are_not_checked_further() {
        let bad_x = r#"{"kty":"OKP","crv":"Ed25519","x":"AA","alg":"RS256"}"#.to_string();
        assert_eq!(parse(set(&[bad_x]).as_bytes()), Ok(vec![]));
    }

    #[test]
    fn refuses_oversized_key_set() {
        let doc = format!(r#"{{"keys":[],"pad":"{}"}}"#, "a".repeat(MAX_JWKS_LEN));
        assert!(matches!(parse(doc.as_bytes()), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn refuses_invalid_json() {
        assert!(matches!(err(r#"{"keys":[],}"#), Error::Json(_)));
        assert!(matches!(err(r#"{"keys":[],"keys":[]}"#), Error::Json(_)));
    }

    #[test]
    fn refuses_wrong_top_level_shape() {
        assert_eq!(err("[]"), Error::NotObject);
        assert_eq!(err("{}"), Error::MissingKeys);
        assert_eq!(err(r#"{"keys":{}}"#), Error::KeysNotArray);
        assert_eq!(err(r#"{"keys":null}"#), Error::KeysNotArray);
        assert_eq!(err(r#"{"keys":[1]}"#), Error::KeyNotObject { index: 0 });
    }

    #[test]
    fn refuses_private_key_material() {
        let with_d = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":"k","d":"AA"}}"#);
        assert_eq!(err(&set(&[with_d])), Error::PrivateKey { index: 0 });
        let rsa_private = r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#.to_string();
        assert_eq!(err(&set(&[okp("k"), rsa_private])), Error::PrivateKey { index: 1 });
    }

    #[test]
    fn refuses_ed25519_key_without_kid() {
        let doc = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}"}}]}}"#);
        assert_eq!(err(&doc), Error::MissingKid { index: 0 });
    }

    #[test]
    fn refuses_bad_kid() {
        for kid in ["1", "null", r#""""#, r#""k\n""#, r#""k\u0000""#, r#""k\u007f""#] {
            let doc = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{X}","kid":{kid}}}]}}"#);
            assert_eq!(err(&doc), Error::InvalidKid { index: 0 }, "{kid}");
        }
    }

    #[test]
    fn refuses_missing_or_mistyped_x() {
        let doc = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k"}]}"#;
        assert_eq!(err(doc), Error::MissingX { index: 0 });
        let doc = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":[1]}]}"#;
        assert_eq!(err(doc), Error::XNotString { index: 0 });
    }

    #[test]
    fn refuses_x_that_is_not_strict_base64url() {
        let padded = format!("{X}=");
        let standard = X.replace('_', "/");
        for x in [padded.as_str(), standard.as_str(), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp"] {
            let doc = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{x}"}}]}}"#);
            assert!(matches!(err(&doc), Error::XBase64 { index: 0, .. }), "{x}");
        }
    }

    #[test]
    fn refuses_x_of_wrong_length() {
        for len in [0usize, 31, 33, 64] {
            let x = encode(&vec![7u8; len]);
            let doc = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{x}"}}]}}"#);
            assert_eq!(err(&doc), Error::XLength { index: 0, len }, "{len}");
        }
    }

    #[test]
    fn refuses_duplicate_kid() {
        assert_eq!(err(&set(&[okp("key-1"), okp("key-2"), okp("key-1")])), Error::DuplicateKid { kid: "key-1".into() });
    }

    #[test]
    fn same_kid_on_a_skipped_key_is_not_ambiguous() {
        let rsa = r#"{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"key-1"}"#.to_string();
        assert_eq!(parse(set(&[rsa, okp("key-1")]).as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn error_messages_name_the_entry() {
        assert_eq!(
            Error::XLength { index: 2, len: 31 }.to_string(),
            "Ed25519 key at entry 2: \"x\" is 31 bytes; an Ed25519 public key is 32"
        );
    }
}
