use super::*;
use crate::policy::base64url::encode;

const HEADER: &str = r#"{"alg":"EdDSA","typ":"JWT","kid":"key-1700000000000"}"#;
const CLAIMS: &str = r#"{
        "iss":"https://id.example.com","sub":"agent+deploy@example.com","aud":"escapes",
        "target_host":"web-1","iat":1700000000,"exp":1700000300,
        "jti":"4b1c6a8e-0d2f-4f0e-9d1a-111111111111","grant_id":"9f0e-22","grant_type":"once",
        "approval":"once","decided_by":"admin@example.com","command":["rm","-rf","/tmp/test"],
        "cmd_hash":"2fc3ad14f3d4d200227b09becf4024e5f6c410fa277e011ed3025b05021fea50",
        "run_as":"root","permissions":["x"],"authorization_details":[{"type":"command"}],
        "scope":null,"delegate":{"a":1},"execution_context":7.5}"#;

fn token_with(header: &str, claims: &str, signature: &[u8]) -> String {
    format!("{}.{}.{}", encode(header.as_bytes()), encode(claims.as_bytes()), encode(signature))
}

fn token(header: &str, claims: &str) -> String {
    token_with(header, claims, &[0u8; 64])
}

fn parsed_claims(claims: &str) -> Claims {
    let raw = token(HEADER, claims);
    parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{claims}: {e}")).claims
}

fn claims_err(claims: &str) -> Error {
    match parse(token(HEADER, claims).as_bytes()) {
        Err(e) => e,
        Ok(t) => panic!("accepted claims {claims}: {t:?}"),
    }
}

fn header_err(header: &str) -> Error {
    match parse(token(header, "{}").as_bytes()) {
        Err(e) => e,
        Ok(t) => panic!("accepted header {header}: {t:?}"),
    }
}

#[test]
fn parses_well_formed_grant() {
    let mut sig = [0u8; 64];
    sig[0] = 0xab;
    sig[63] = 0xcd;
    let raw = token_with(HEADER, CLAIMS, &sig);
    let t = parse(raw.as_bytes()).unwrap();
    assert_eq!(
        t.header,
        Header { alg: "EdDSA".into(), kid: Some("key-1700000000000".into()), typ: Some("JWT".into()) }
    );
    assert_eq!(
        t.claims,
        Claims {
            iss: Some("https://id.example.com".into()),
            sub: Some("agent+deploy@example.com".into()),
            aud: vec!["escapes".into()],
            target_host: Some("web-1".into()),
            iat: Some(1_700_000_000),
            exp: Some(1_700_000_300),
            nbf: None,
            jti: Some("4b1c6a8e-0d2f-4f0e-9d1a-111111111111".into()),
            grant_id: Some("9f0e-22".into()),
            grant_type: Some("once".into()),
            decided_by: Some("admin@example.com".into()),
            command: Some(vec!["rm".into(), "-rf".into(), "/tmp/test".into()]),
            cmd_hash: Some("2fc3ad14f3d4d200227b09becf4024e5f6c410fa277e011ed3025b05021fea50".into()),
            run_as: Some("root".into()),
        }
    );
    assert_eq!(t.signature, sig);
    let last_dot = raw.rfind('.').unwrap();
    assert_eq!(t.signing_input, &raw.as_bytes()[..last_dot]);
}

#[test]
fn absent_claims_are_none() {
    let raw = token(r#"{"alg":"EdDSA"}"#, "{}");
    let t = parse(raw.as_bytes()).unwrap();
    assert_eq!(t.claims, Claims::default());
    assert_eq!(t.header.kid, None);
    assert_eq!(t.header.typ, None);
}

#[test]
fn audience_array_is_kept_in_order() {
    assert_eq!(parsed_claims(r#"{"aud":["a","escapes"]}"#).aud, vec!["a".to_string(), "escapes".to_string()]);
}

#[test]
fn unknown_header_members_are_ignored() {
    assert!(parse(token(r#"{"alg":"EdDSA","x5u":5,"zip":null}"#, "{}").as_bytes()).is_ok());
}

#[test]
fn refuses_oversized_token() {
    let raw = vec![b'A'; MAX_TOKEN_LEN + 1];
    assert_eq!(parse(&raw), Err(Error::TooLong { len: MAX_TOKEN_LEN + 1 }));
}

#[test]
fn refuses_wrong_segment_count() {
    let good = token(HEADER, "{}");
    assert_eq!(parse(b""), Err(Error::Segments));
    assert_eq!(parse(b"abc"), Err(Error::Segments));
    assert_eq!(parse(b"ab.cd"), Err(Error::Segments));
    assert_eq!(parse(format!("{good}.").as_bytes()), Err(Error::Segments));
    assert_eq!(parse(format!("{good}.AAAA").as_bytes()), Err(Error::Segments));
}

#[test]
fn refuses_empty_segments() {
    let h = encode(HEADER.as_bytes());
    let c = encode(b"{}");
    let s = encode(&[0u8; 64]);
    assert_eq!(parse(format!(".{c}.{s}").as_bytes()), Err(Error::EmptySegment { part: Part::Header }));
    assert_eq!(parse(format!("{h}..{s}").as_bytes()), Err(Error::EmptySegment { part: Part::Claims }));
    assert_eq!(parse(format!("{h}.{c}.").as_bytes()), Err(Error::EmptySegment { part: Part::Signature }));
    assert_eq!(parse(b".."), Err(Error::EmptySegment { part: Part::Header }));
}

#[test]
fn refuses_padded_or_non_canonical_base64() {
    let raw = format!("{}=", token(HEADER, "{}"));
    assert!(matches!(parse(raw.as_bytes()), Err(Error::Base64 { part: Part::Signature, .. })));
    // "{}" encodes as "e30"; "e31" carries a stray low bit.
    let h = encode(HEADER.as_bytes());
    let s = encode(&[0u8; 64]);
    assert_eq!(
        parse(format!("{h}.e31.{s}").as_bytes()),
        Err(Error::Base64 { part: Part::Claims, error: base64url::Error::NonCanonical })
    );
}

#[test]
fn refuses_trailing_newline() {
    let raw = format!("{}\n", token(HEADER, "{}"));
    assert!(matches!(parse(raw.as_bytes()), Err(Error::Base64 { part: Part::Signature, .. })));
}

#[test]
fn refuses_signature_of_wrong_length() {
    assert_eq!(parse(token_with(HEADER, "{}", &[0u8; 63]).as_bytes()), Err(Error::SignatureLength { len: 63 }));
    assert_eq!(parse(token_with(HEADER, "{}", &[0u8; 65]).as_bytes()), Err(Error::SignatureLength { len: 65 }));
}

#[test]
fn refuses_malformed_header_json() {
    assert!(matches!(header_err("{\"alg\":\"EdDSA\""), Error::HeaderJson(_)));
    assert!(matches!(header_err("{\"alg\":\"EdDSA\"} x"), Error::HeaderJson(_)));
}

#[test]
fn refuses_duplicate_header_members() {
    let e = header_err(r#"{"alg":"none","alg":"EdDSA"}"#);
    assert!(matches!(e, Error::HeaderJson(json::Error { kind: json::ErrorKind::DuplicateKey, .. })));
}

#[test]
fn refuses_header_that_is_not_an_object() {
    assert_eq!(header_err(r#"["alg","EdDSA"]"#), Error::HeaderNotObject);
    assert_eq!(header_err(r#""EdDSA""#), Error::HeaderNotObject);
}

#[test]
fn refuses_header_without_alg() {
    assert_eq!(header_err(r#"{"kid":"k"}"#), Error::MissingAlg);
}

#[test]
fn refuses_mistyped_header_fields() {
    assert_eq!(header_err(r#"{"alg":null}"#), Error::HeaderType { field: "alg" });
    assert_eq!(header_err(r#"{"alg":"EdDSA","kid":1}"#), Error::HeaderType { field: "kid" });
    assert_eq!(header_err(r#"{"alg":"EdDSA","typ":["JWT"]}"#), Error::HeaderType { field: "typ" });
}

#[test]
fn refuses_header_fields_with_control_characters() {
    assert_eq!(header_err(r#"{"alg":"EdDSA","kid":"k\u0000"}"#), Error::HeaderControlCharacter { field: "kid" });
}

#[test]
fn refuses_crit_header() {
    assert_eq!(header_err(r#"{"alg":"EdDSA","crit":["exp"]}"#), Error::Crit);
    assert_eq!(header_err(r#"{"alg":"EdDSA","crit":[]}"#), Error::Crit);
}

#[test]
fn refuses_claims_that_are_not_an_object() {
    assert_eq!(claims_err("[]"), Error::ClaimsNotObject);
    assert_eq!(claims_err("null"), Error::ClaimsNotObject);
}

#[test]
fn refuses_malformed_claims_json() {
    assert!(matches!(claims_err(r#"{"exp":1,}"#), Error::ClaimsJson(_)));
    assert!(matches!(claims_err("{\"sub\":\"a\u{0}\"}"), Error::ClaimsJson(_)));
}

#[test]
fn refuses_duplicate_claims() {
    let e = claims_err(r#"{"sub":"alice","sub":"root"}"#);
    assert!(matches!(e, Error::ClaimsJson(json::Error { kind: json::ErrorKind::DuplicateKey, .. })));
    // Also when one spelling hides behind an escape.
    let e = claims_err(r#"{"sub":"alice","s\u0075b":"root"}"#);
    assert!(matches!(e, Error::ClaimsJson(json::Error { kind: json::ErrorKind::DuplicateKey, .. })));
}

#[test]
fn refuses_mistyped_string_claims() {
    for claim in ["iss", "sub", "target_host", "jti", "grant_id", "grant_type", "decided_by", "cmd_hash", "run_as"] {
        for bad in ["1", "true", "[\"x\"]", "{}"] {
            let e = claims_err(&format!(r#"{{"{claim}":{bad}}}"#));
            assert_eq!(e.to_string(), format!("claim \"{claim}\" must be a string"));
        }
    }
}

#[test]
fn refuses_null_for_known_claims() {
    for claim in ["iss", "aud", "exp", "command", "run_as"] {
        let e = claims_err(&format!(r#"{{"{claim}":null}}"#));
        assert!(matches!(e, Error::ClaimType { .. }), "{claim}: {e:?}");
    }
}

#[test]
fn refuses_non_integer_times() {
    for claim in ["iat", "exp", "nbf"] {
        for bad in ["1.5", "1e9", "\"1700000000\"", "9223372036854775808", "true"] {
            let e = claims_err(&format!(r#"{{"{claim}":{bad}}}"#));
            assert_eq!(e, Error::ClaimType { claim }, "{claim}={bad}");
        }
    }
    assert_eq!(claims_err(r#"{"exp":1.0}"#).to_string(), "claim \"exp\" must be an integer");
}

#[test]
fn accepts_negative_and_extreme_integer_times() {
    let c = parsed_claims(r#"{"nbf":-1,"exp":9223372036854775807}"#);
    assert_eq!(c.nbf, Some(-1));
    assert_eq!(c.exp, Some(i64::MAX));
}

#[test]
fn refuses_bad_audience() {
    assert_eq!(claims_err(r#"{"aud":[]}"#), Error::EmptyArray { claim: "aud" });
    assert_eq!(claims_err(r#"{"aud":["escapes",1]}"#), Error::ClaimType { claim: "aud" });
    assert_eq!(claims_err(r#"{"aud":7}"#), Error::ClaimType { claim: "aud" });
    assert_eq!(claims_err(r#"{"aud":{"0":"escapes"}}"#), Error::ClaimType { claim: "aud" });
}

#[test]
fn refuses_bad_command() {
    assert_eq!(claims_err(r#"{"command":[]}"#), Error::EmptyArray { claim: "command" });
    assert_eq!(claims_err(r#"{"command":"rm -rf /"}"#), Error::ClaimType { claim: "command" });
    assert_eq!(claims_err(r#"{"command":["rm",null]}"#), Error::ClaimType { claim: "command" });
    assert_eq!(claims_err(r#"{"command":[["rm"]]}"#), Error::ClaimType { claim: "command" });
}

#[test]
fn refuses_control_characters_in_known_claims() {
    for (claims, claim) in [
        (r#"{"sub":"a\u0000b"}"#, "sub"),
        (r#"{"decided_by":"admin\n@example.com"}"#, "decided_by"),
        (r#"{"target_host":"h\u001b[2J"}"#, "target_host"),
        (r#"{"run_as":"root\u007f"}"#, "run_as"),
        (r#"{"aud":"esc\tapes"}"#, "aud"),
        (r#"{"aud":["ok","bad\r"]}"#, "aud"),
        (r#"{"command":["echo","a\u0000b"]}"#, "command"),
    ] {
        let e = claims_err(claims);
        assert_eq!(e, Error::ControlCharacter { claim }, "{claims}");
    }
    assert_eq!(
        Error::ControlCharacter { claim: "command" }.to_string(),
        "claim \"command\" contains a control character"
    );
}

#[test]
fn unknown_claims_are_ignored_whatever_their_type() {
    let c = parsed_claims(r#"{"scope":null,"permissions":[1,"a\u0000"],"approval":{"x":[]}}"#);
    assert_eq!(c, Claims::default());
}

#[test]
fn non_ascii_claims_are_kept() {
    let c = parsed_claims(r#"{"sub":"jörg@example.com","command":["echo","€"]}"#);
    assert_eq!(c.sub.as_deref(), Some("jörg@example.com"));
    assert_eq!(c.command, Some(vec!["echo".to_string(), "€".to_string()]));
}

#[test]
fn refuses_hostile_inputs_without_panicking() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(matches!(claims_err(&deep), Error::ClaimsJson(_)));
    let mut invalid_utf8 = format!("{}.", encode(HEADER.as_bytes())).into_bytes();
    invalid_utf8.extend_from_slice(encode(b"{\"sub\":\"\xff\"}").as_bytes());
    invalid_utf8.extend_from_slice(format!(".{}", encode(&[0u8; 64])).as_bytes());
    assert!(matches!(parse(&invalid_utf8), Err(Error::ClaimsJson(_))));
    for raw in [&b"..."[..], b"\xff.\xff.\xff", b"\0", b"A.A.A", b"AA.AA.AA"] {
        assert!(parse(raw).is_err());
    }
}
