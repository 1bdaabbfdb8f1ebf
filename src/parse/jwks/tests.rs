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
