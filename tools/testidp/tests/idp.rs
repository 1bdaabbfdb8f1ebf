//! The test IdP itself: endpoint shapes (wire doc), grant lifecycle, request log, admin API,
//! every fault mode, curl interop and the CLI.

use escapes_testidp::client::{self, Exchange};
use escapes_testidp::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const OTHER_SEED: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

fn get(idp: &Idp, path: &str) -> Exchange {
    client::request(idp, "GET", path, None, None)
}

fn consume(idp: &Idp, id: &str, token: Option<&str>) -> Exchange {
    client::request(idp, "POST", &format!("/api/grants/{id}/consume"), token, None)
}

/// A well-framed response: clean close, Content-Length equal to the body, given status/type.
fn expect(ex: &Exchange, status: u16, content_type: &str) -> Value {
    assert!(ex.error.is_none(), "exchange failed: {:?}", ex.error);
    assert_eq!(ex.status(), Some(status), "{}", String::from_utf8_lossy(&ex.raw));
    assert_eq!(ex.header("content-type").as_deref(), Some(content_type));
    assert_eq!(ex.header_all("content-length"), vec![ex.body().len().to_string()]);
    ex.json()
}

fn ok(ex: &Exchange) -> Value {
    expect(ex, 200, "application/json")
}

fn problem(ex: &Exchange, status: u16) -> Value {
    let v = expect(ex, status, "application/problem+json");
    assert_eq!(v["status"], status);
    assert!(v["type"].is_string() && v["title"].is_string(), "{v}");
    v
}

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    let bytes = b64url_decode(part);
    serde_json::from_slice(&bytes).unwrap()
}

fn header_of(token: &str) -> Vec<u8> {
    b64url_decode(token.split('.').next().unwrap())
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let v = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        _ => 63,
    } as u32;
    let mut out = Vec::new();
    for ch in s.as_bytes().chunks(4) {
        let mut n = 0;
        for (i, &c) in ch.iter().enumerate() {
            n |= v(c) << (18 - 6 * i);
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..ch.len() - 1]);
    }
    out
}

fn mint(args: &[&str]) -> String {
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
    String::from_utf8(escapes_testkit::run(&args).unwrap()).unwrap()
}

fn seeded() -> Idp {
    Idp::start_with(Options { seed: parse_seed(SEED), kid: Some("key-1".into()), ..Options::default() }).unwrap()
}

// ---------------------------------------------------------------- endpoints and tokens

#[test]
fn jwks_and_discovery_shapes() {
    let idp = Idp::start();
    assert_eq!(idp.issuer(), format!("https://127.0.0.1:{}", idp.port()));
    let ex = get(&idp, "/.well-known/jwks.json");
    let jwks = ok(&ex);
    assert_eq!(ex.body(), idp.jwks().as_bytes());
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(
        (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str(), k["use"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"), Some("sig"))
    );
    assert_eq!(k["kid"].as_str().unwrap(), idp.current_kid());
    assert!(idp.current_kid().starts_with("key-") && idp.current_kid()[4..].parse::<u64>().is_ok());
    assert_eq!(b64url_decode(k["x"].as_str().unwrap()).len(), 32);

    let d = ok(&get(&idp, "/.well-known/openid-configuration"));
    assert_eq!(d["issuer"], idp.issuer());
    assert_eq!(d["jwks_uri"], format!("{}/.well-known/jwks.json", idp.issuer()));
    assert_eq!(d["openape_grants_endpoint"], format!("{}/api/grants", idp.issuer()));

    problem(&get(&idp, "/nope"), 404);
    problem(&client::request(&idp, "POST", "/.well-known/jwks.json", None, None), 405);
}

#[test]
fn tokens_and_jwks_match_the_testkit_minter_byte_for_byte() {
    let idp = seeded();
    assert_eq!(idp.jwks(), mint(&["jwks", "--seed", SEED, "--kid", "key-1"]));
    let claims = json!({"iss": idp.issuer(), "sub": "x", "exp": 4_000_000_000i64});
    assert_eq!(
        idp.sign_claims(&claims),
        mint(&["sign", "--seed", SEED, "--kid", "key-1", "--claims", &claims.to_string()])
    );
    assert_eq!(idp.current_seed_hex(), SEED);
}

#[test]
fn token_claims_per_grant_type() {
    let idp = Idp::start();
    let g = idp.issue(GrantSpec::new(GrantType::Once, &["whoami"]).run_as("root"));
    assert_eq!(
        header_of(&g.token),
        format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#, idp.current_kid()).as_bytes()
    );
    let c = claims_of(&g.token);
    assert_eq!(idp.verify_token(&g.token).unwrap(), c);
    assert_eq!(c["iss"], idp.issuer());
    assert_eq!(c["sub"], DEFAULT_REQUESTER);
    assert_eq!(c["aud"], "escapes");
    assert_eq!(c["target_host"], DEFAULT_TARGET_HOST);
    assert_eq!(c["grant_id"], g.id.as_str());
    assert_eq!((c["grant_type"].as_str(), c["approval"].as_str()), (Some("once"), Some("once")));
    assert_eq!(c["decided_by"], DEFAULT_APPROVER);
    assert_eq!(c["command"], json!(["whoami"]));
    assert_eq!(c["cmd_hash"], "f25297859cf0a70af5c053a5464a5fa647a35ceee1d91397331903846d79ffc1");
    assert_eq!(c["run_as"], "root");
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);
    let jti = c["jti"].as_str().unwrap();
    assert_eq!((jti.len(), jti.as_bytes()[14]), (36, b'4'));
    assert_ne!(claims_of(&idp.token(&g.id))["jti"], c["jti"], "fresh jti per token");

    let a = claims_of(&idp.issue(GrantSpec::new(GrantType::Always, &["id"])).token);
    assert_eq!(a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(), 3600);
    let t = idp.issue(GrantSpec::new(GrantType::Timed, &["id"]).duration(120));
    let tc = claims_of(&t.token);
    assert_eq!(tc["exp"], idp.grant_json(&t.id).unwrap()["expires_at"]);

    // extra claims override / remove
    let odd = idp.issue(
        GrantSpec::new(GrantType::Once, &["id"]).claim("aud", json!(["x", "escapes"])).claim("cmd_hash", Value::Null),
    );
    let oc = claims_of(&odd.token);
    assert_eq!(oc["aud"], json!(["x", "escapes"]));
    assert!(oc.get("cmd_hash").is_none());
}

// ---------------------------------------------------------------- consume

#[test]
fn consume_once_then_replay() {
    let idp = Idp::start();
    let g = idp.issue(GrantSpec::new(GrantType::Once, &["whoami"]));
    let v = ok(&consume(&idp, &g.id, Some(&g.token)));
    assert_eq!(v["status"], "consumed");
    assert!(v.get("error").is_none());
    assert_eq!(v["grant"]["id"], g.id.as_str());
    assert_eq!(v["grant"]["status"], "used");
    assert!(v["grant"]["used_at"].is_i64());
    assert_eq!(idp.status(&g.id), Some(GrantStatus::Used));
    assert_eq!(ok(&consume(&idp, &g.id, Some(&g.token))), json!({"error":"already_consumed","status":"used"}));
    assert_eq!(ok(&get(&idp, &format!("/api/grants/{}", g.id)))["status"], "used");
    assert_eq!(idp.consume_calls(&g.id), 2);
}

#[test]
fn consume_timed_and_always_stay_valid() {
    let idp = Idp::start();
    for gt in [GrantType::Timed, GrantType::Always] {
        let g = idp.issue(GrantSpec::new(gt, &["id"]));
        for _ in 0..2 {
            let v = ok(&consume(&idp, &g.id, Some(&g.token)));
            assert_eq!(v["status"], "valid");
            assert_eq!(v["grant"]["status"], "approved");
            assert_eq!(v["grant"]["type"], gt.as_str());
        }
    }
}

#[test]
fn consume_refusals_are_200_with_error() {
    let idp = Idp::start();
    type Transition = fn(&Idp, &str);
    let cases: [(Transition, &str, &str); 3] =
        [(Idp::revoke, "revoked", "revoked"), (Idp::deny, "denied", "denied"), (Idp::expire, "expired", "expired")];
    for (f, error, status) in cases {
        let g = idp.issue(GrantSpec::new(GrantType::Once, &["id"]));
        f(&idp, &g.id);
        assert_eq!(ok(&consume(&idp, &g.id, Some(&g.token))), json!({"error": error, "status": status}));
    }
    let id = idp.create_grant(GrantSpec::new(GrantType::Once, &["id"]));
    assert_eq!(ok(&consume(&idp, &id, Some(&idp.token(&id)))), json!({"error":"not_approved","status":"pending"}));
    // a timed grant past its expiry expires by itself
    let t = idp.issue(GrantSpec::new(GrantType::Timed, &["id"]).duration(0).claim("exp", json!(4_000_000_000i64)));
    assert_eq!(ok(&consume(&idp, &t.id, Some(&t.token))), json!({"error":"expired","status":"expired"}));
    // revoking an always grant takes effect
    let a = idp.issue(GrantSpec::new(GrantType::Always, &["id"]));
    ok(&consume(&idp, &a.id, Some(&a.token)));
    idp.revoke(&a.id);
    assert_eq!(ok(&consume(&idp, &a.id, Some(&a.token)))["error"], "revoked");
}

#[test]
fn consume_auth_mismatch_and_unknown() {
    let idp = seeded();
    let g = idp.issue(GrantSpec::new(GrantType::Once, &["id"]));
    problem(&consume(&idp, &g.id, None), 401);
    problem(&consume(&idp, &g.id, Some("not-a-jwt")), 401);
    let basic = client::send_tls(
        idp.addr(),
        "127.0.0.1",
        &idp.ca_der(),
        format!("POST /api/grants/{}/consume HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Zm9vOmJhcg==\r\nConnection: close\r\n\r\n", g.id).as_bytes(),
        Duration::from_secs(5),
    );
    problem(&basic, 401);
    // same kid, another key: bad signature
    let forged = mint(&["sign", "--seed", OTHER_SEED, "--kid", "key-1", "--claims", &claims_of(&g.token).to_string()]);
    assert!(problem(&consume(&idp, &g.id, Some(&forged)), 401)["detail"].as_str().unwrap().contains("bad signature"));
    // expired token
    let old = idp.sign_claims(&json!({"grant_id": g.id, "exp": 1}));
    problem(&consume(&idp, &g.id, Some(&old)), 401);
    // token for another grant
    let other = idp.issue(GrantSpec::new(GrantType::Once, &["id"]));
    problem(&consume(&idp, &g.id, Some(&other.token)), 400);
    // unknown grant
    let unknown = "00000000-0000-4000-8000-000000000000";
    let t = idp.sign_claims(&json!({"grant_id": unknown, "exp": 4_000_000_000i64}));
    assert_eq!(problem(&consume(&idp, unknown, Some(&t)), 404)["type"], GRANT_NOT_FOUND);
    problem(&client::request(&idp, "GET", &format!("/api/grants/{}/consume", g.id), Some(&g.token), None), 405);
    assert_eq!(idp.status(&g.id), Some(GrantStatus::Approved), "nothing consumed it");
    assert_eq!(ok(&consume(&idp, &g.id, Some(&g.token)))["status"], "consumed");
}

#[test]
fn lifecycle_endpoints() {
    let idp = Idp::start();
    let body = json!({"requester":"agent@x","target_host":"h1","audience":"escapes","grant_type":"once","command":["ls","-l"],"reason":"r","run_as":"root"});
    let b = body.to_string();
    problem(&client::request(&idp, "POST", "/api/grants", None, Some(b.as_bytes())), 401);
    problem(&client::request(&idp, "POST", "/api/grants", Some("t"), Some(b"{\"grant_type\":\"forever\"}")), 400);
    let created = expect(
        &client::request(&idp, "POST", "/api/grants", Some("agent-token"), Some(b.as_bytes())),
        201,
        "application/json",
    );
    assert_eq!(created["status"], "pending");
    assert!(created["created_at"].is_i64());
    assert_eq!(created["request"]["command"], json!(["ls", "-l"]));
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(ok(&get(&idp, &format!("/api/grants/{id}")))["status"], "pending");
    problem(&client::request(&idp, "POST", &format!("/api/grants/{id}/token"), None, None), 400);
    assert_eq!(problem(&get(&idp, "/api/grants/nope"), 404)["type"], GRANT_NOT_FOUND);
    let approved = ok(&client::request(
        &idp,
        "POST",
        &format!("/api/grants/{id}/approve"),
        Some("x"),
        Some(br#"{"decided_by":"boss@x"}"#),
    ));
    assert_eq!((approved["status"].as_str(), approved["decided_by"].as_str()), (Some("approved"), Some("boss@x")));
    let tok = ok(&client::request(&idp, "POST", &format!("/api/grants/{id}/token"), None, None));
    assert_eq!(tok["grant"]["id"], id.as_str());
    let jwt = tok["authz_jwt"].as_str().unwrap();
    let c = idp.verify_token(jwt).unwrap();
    assert_eq!(
        (c["sub"].as_str(), c["target_host"].as_str(), c["decided_by"].as_str()),
        (Some("agent@x"), Some("h1"), Some("boss@x"))
    );
    assert_eq!(ok(&consume(&idp, &id, Some(jwt)))["status"], "consumed");
    assert_eq!(
        ok(&client::request(&idp, "POST", &format!("/api/grants/{id}/revoke"), None, None))["status"],
        "revoked"
    );
}

#[test]
fn key_rotation() {
    let idp = Idp::start();
    let old_kid = idp.current_kid();
    let g = idp.issue(GrantSpec::new(GrantType::Always, &["id"]));
    let new_kid = idp.rotate_key(false);
    assert_ne!(new_kid, old_kid);
    assert!(new_kid.starts_with("key-"));
    let kids = |idp: &Idp| -> Vec<String> {
        ok(&get(idp, "/.well-known/jwks.json"))["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kids(&idp), vec![new_kid.clone()]);
    let t2 = idp.token(&g.id);
    assert!(String::from_utf8(header_of(&t2)).unwrap().contains(&new_kid));
    // the IdP still honours its own older tokens at /consume
    assert_eq!(ok(&consume(&idp, &g.id, Some(&g.token)))["status"], "valid");
    let third = idp.rotate_key(true);
    assert_eq!(kids(&idp), vec![new_kid, third]);
}

#[test]
fn request_log() {
    let idp = Idp::start();
    let g = idp.issue(GrantSpec::new(GrantType::Once, &["id"]));
    get(&idp, "/.well-known/jwks.json");
    get(&idp, "/.well-known/jwks.json?x=1");
    consume(&idp, &g.id, Some(&g.token));
    client::request(&idp, "GET", "/_test/info", None, None);
    assert_eq!(idp.jwks_fetches(), 2);
    assert_eq!(idp.consume_calls(&g.id), 1);
    let r = idp.requests();
    assert_eq!(r.len(), 3, "admin requests are not logged");
    assert!(!r[0].has_bearer() && r[0].authorization.is_none());
    assert_eq!((r[2].method.as_str(), r[2].has_bearer()), ("POST", true));
    assert_eq!(r[2].authorization.as_deref(), Some(format!("Bearer {}", g.token).as_str()));
    assert_eq!(r[2].header("host"), Some(format!("127.0.0.1:{}", idp.port()).as_str()));
    assert_eq!(idp.connections(), 4);
    idp.clear_requests();
    assert!(idp.requests().is_empty());
}

// ---------------------------------------------------------------- admin API

#[test]
fn admin_api_over_plain_http_and_tls() {
    let idp = Idp::start_with(Options { admin_port: Some(0), ..Options::default() }).unwrap();
    let admin = idp.admin_addr().unwrap();
    let call = |m: &str, p: &str, b: Option<&str>| client::admin(admin, m, p, b.map(str::as_bytes));
    let created = expect(
        &call("POST", "/_test/grants", Some(r#"{"grant_type":"once","command":["whoami"],"target_host":"web1"}"#)),
        201,
        "application/json",
    );
    assert_eq!(created["status"], "approved");
    let (id, token) = (created["id"].as_str().unwrap(), created["token"].as_str().unwrap());
    assert_eq!(claims_of(token)["target_host"], "web1");
    assert_eq!(ok(&consume(&idp, id, Some(token)))["status"], "consumed");

    let pending = expect(
        &call("POST", "/_test/grants", Some(r#"{"grant_type":"always","approve":false}"#)),
        201,
        "application/json",
    );
    assert_eq!(pending["status"], "pending");
    let pid = pending["id"].as_str().unwrap();
    assert_eq!(ok(&call("POST", &format!("/_test/grants/{pid}/approve"), None))["status"], "approved");
    assert_eq!(ok(&call("POST", &format!("/_test/grants/{pid}/revoke"), None))["status"], "revoked");
    let fresh = ok(&call("POST", &format!("/_test/grants/{pid}/token"), None))["token"].as_str().unwrap().to_string();
    assert_eq!(ok(&consume(&idp, pid, Some(&fresh)))["error"], "revoked");
    problem(&call("POST", "/_test/grants/nope/revoke", None), 404);

    // faults: JWKS only, once
    ok(&call(
        "POST",
        "/_test/fault",
        Some(r#"{"mode":"status","code":503,"path":"/.well-known/jwks.json","times":1}"#),
    ));
    assert_eq!(idp.faults(), vec![Fault::Status(503).on("/.well-known/jwks.json").times(1)]);
    assert_eq!(get(&idp, "/.well-known/jwks.json").status(), Some(503));
    assert_eq!(get(&idp, "/.well-known/jwks.json").status(), Some(200));
    ok(&call("POST", "/_test/fault", Some(r#"{"rules":[{"mode":"wrong_ca"},{"mode":"slow","secs":0.5}]}"#)));
    assert_eq!(idp.faults(), vec![Fault::WrongCa.into(), Fault::Slow(Duration::from_millis(500)).into()]);
    ok(&call("POST", "/_test/fault", Some(r#"{"mode":"none"}"#)));
    assert!(idp.faults().is_empty());
    problem(&call("POST", "/_test/fault", Some(r#"{"mode":"bogus"}"#)), 400);
    problem(&call("POST", "/_test/fault", Some(r#"{"mode":"chunked","kind":"bogus"}"#)), 400);

    // /_test/ on the TLS port ignores response faults
    idp.set_fault(Fault::Status(500));
    assert_eq!(ok(&client::request(&idp, "GET", "/_test/info", None, None))["issuer"], idp.issuer());
    idp.clear_faults();

    let r = ok(&call("GET", "/_test/requests", None));
    assert!(r["requests"].as_array().unwrap().iter().any(|x| x["bearer"] == true && x["method"] == "POST"));
    ok(&call("DELETE", "/_test/requests", None));
    assert!(idp.requests().is_empty());
    let rot = ok(&call("POST", "/_test/rotate", Some(r#"{"keep_old":true}"#)));
    assert_eq!(rot["kid"], idp.current_kid());
    assert_eq!(rot["jwks"]["keys"].as_array().unwrap().len(), 2);
    let signed = ok(&call("POST", "/_test/sign", Some(r#"{"claims":{"a":1}}"#)));
    assert_eq!(idp.verify_token(signed["token"].as_str().unwrap()).unwrap(), json!({"a":1}));
    problem(&call("GET", "/.well-known/jwks.json", None), 404);
}

// ---------------------------------------------------------------- response faults

#[test]
fn fault_slow_and_drip() {
    let idp = Idp::start();
    idp.set_fault(Fault::Slow(Duration::from_millis(600)));
    let t = Instant::now();
    ok(&get(&idp, "/.well-known/jwks.json"));
    assert!(t.elapsed() >= Duration::from_millis(600));

    idp.set_fault(Fault::Drip(Duration::from_millis(1)));
    ok(&get(&idp, "/.well-known/jwks.json"));
    idp.set_fault(Fault::Drip(Duration::from_millis(100)));
    let t = Instant::now();
    let ex = client::request_with(
        &idp,
        "127.0.0.1",
        Duration::from_millis(700),
        "GET",
        "/.well-known/jwks.json",
        None,
        None,
    );
    assert!(ex.error.is_some() && !ex.raw.is_empty() && ex.raw.len() < 20, "{ex:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn fault_body_framing() {
    let idp = Idp::start();
    let normal = get(&idp, "/.well-known/jwks.json");
    let len = normal.body().len();

    idp.set_fault(Fault::Truncated);
    let ex = get(&idp, "/.well-known/jwks.json");
    assert!(ex.error.is_none(), "clean close_notify");
    assert_eq!(ex.header_all("content-length"), vec![(len + 100).to_string()]);
    assert_eq!(ex.body(), normal.body());

    idp.set_fault(Fault::Oversized { bytes: 1 << 20, chunked: false });
    let ex = get(&idp, "/.well-known/jwks.json");
    assert_eq!(ex.header_all("content-length"), vec![(1usize << 20).to_string()]);
    assert_eq!(ex.body().len(), 1 << 20);
    assert_eq!(ex.json()["keys"], json!([]));

    idp.set_fault(Fault::Oversized { bytes: 1 << 20, chunked: true });
    let ex = get(&idp, "/.well-known/jwks.json");
    assert_eq!(ex.header("transfer-encoding").as_deref(), Some("chunked"));
    assert!(ex.header("content-length").is_none());
    assert!(
        ex.body().starts_with(b"4000\r\n{\"keys\":[]")
            && ex.body().ends_with(b"\r\n0\r\n\r\n")
            && ex.body().len() > 1 << 20
    );

    idp.set_fault(Fault::OversizedHead { bytes: 64 * 1024 });
    let ex = get(&idp, "/.well-known/jwks.json");
    assert_eq!(ex.header("x-padding").map(|p| p.len()), Some(64 * 1024));

    use ContentLengthFault as C;
    for (kind, want) in [
        (C::Smaller, vec![(len / 2).to_string()]),
        (C::Duplicate, vec![len.to_string(), (len + 1).to_string()]),
        (C::DuplicateSame, vec![len.to_string(), len.to_string()]),
        (C::NonNumeric, vec!["abc".into()]),
        (C::Plus, vec![format!("+{len}")]),
        (C::Negative, vec!["-1".into()]),
        (C::Missing, vec![]),
    ] {
        idp.set_fault(Fault::ContentLength(kind));
        let ex = get(&idp, "/.well-known/jwks.json");
        assert_eq!(ex.header_all("content-length"), want, "{kind:?}");
        assert!(ex.header("transfer-encoding").is_none());
        assert_eq!(ex.body(), normal.body(), "{kind:?}: whole body sent");
        assert!(ex.error.is_none());
    }
    idp.set_fault(Fault::ContentLength(C::WithChunked));
    let ex = get(&idp, "/.well-known/jwks.json");
    assert_eq!(
        (ex.header("transfer-encoding").as_deref(), ex.header_all("content-length")),
        (Some("chunked"), vec![len.to_string()])
    );
    assert!(ex.body().starts_with(format!("{len:x}\r\n").as_bytes()));

    idp.set_fault(Fault::ContentLength(C::Larger));
    let t = Instant::now();
    let ex = client::request_with(
        &idp,
        "127.0.0.1",
        Duration::from_millis(500),
        "GET",
        "/.well-known/jwks.json",
        None,
        None,
    );
    assert!(ex.error.is_some(), "server keeps the connection open");
    assert_eq!(ex.header_all("content-length"), vec![(len + 100).to_string()]);
    assert_eq!(ex.body(), normal.body());
    assert!(t.elapsed() < Duration::from_secs(2));
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&b[..nl]).ok()?, 16).ok()?;
        b = &b[nl + 2..];
        if size == 0 {
            return (b == b"\r\n").then_some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        if b.get(size..size + 2)? != b"\r\n" {
            return None;
        }
        b = &b[size + 2..];
    }
}

#[test]
fn fault_chunked() {
    let idp = Idp::start();
    let body = get(&idp, "/.well-known/jwks.json").body().to_vec();
    let len = body.len();
    use ChunkedFault as K;
    for (kind, prefix) in [
        (K::Valid, "7\r\n".to_string()),
        (K::NonHex, "zz\r\n".into()),
        (K::Overflow, "10000000000000000\r\n".into()),
        (K::Negative, format!("-{len:x}\r\n")),
        (K::EmptySize, "\r\n".into()),
        (K::MissingCrlf, format!("{len:x}\r\n")),
        (K::LargerThanSent, format!("{:x}\r\n", len + 100)),
        (K::Truncated, "7\r\n".into()),
    ] {
        idp.set_fault(Fault::Chunked(kind));
        let ex = get(&idp, "/.well-known/jwks.json");
        assert!(ex.error.is_none(), "{kind:?}");
        assert_eq!(ex.header("transfer-encoding").as_deref(), Some("chunked"), "{kind:?}");
        assert!(ex.header("content-length").is_none());
        assert!(ex.body().starts_with(prefix.as_bytes()), "{kind:?}: {:?}", String::from_utf8_lossy(ex.body()));
        let decoded = dechunk(ex.body());
        assert_eq!(decoded.is_some(), kind == K::Valid, "{kind:?}");
        if kind == K::Valid {
            assert_eq!(decoded.unwrap(), body);
        }
    }
    idp.set_fault(Fault::Chunked(K::Truncated));
    assert!(!get(&idp, "/.well-known/jwks.json").body().ends_with(b"0\r\n\r\n"));
}

#[test]
fn fault_redirect_status_raw_close() {
    let idp = Idp::start();
    idp.set_fault(Fault::Redirect { status: 302, location: "https://evil.example/jwks".into() });
    let ex = get(&idp, "/.well-known/jwks.json");
    assert_eq!((ex.status(), ex.header("location").as_deref()), (Some(302), Some("https://evil.example/jwks")));
    assert!(ex.body().is_empty());

    idp.set_fault(Fault::Status(500));
    problem(&get(&idp, "/.well-known/jwks.json"), 500);

    idp.set_fault(Fault::Raw(b"HTTP/1.1 200 OK\r\n\r\nhello".to_vec()));
    assert_eq!(get(&idp, "/x").raw, b"HTTP/1.1 200 OK\r\n\r\nhello");

    let g = idp.issue(GrantSpec::new(GrantType::Once, &["id"]));
    idp.set_fault(Fault::CloseAfterRequest);
    let ex = consume(&idp, &g.id, Some(&g.token));
    assert!(ex.raw.is_empty() && ex.error.is_some(), "{ex:?}");
    assert_eq!(idp.consume_calls(&g.id), 1, "the request was read and logged");
    assert_eq!(idp.status(&g.id), Some(GrantStatus::Approved), "a faulted consume does not consume");
}

#[test]
fn fault_scoping_by_path_and_times() {
    let idp = Idp::start();
    let g = idp.issue(GrantSpec::new(GrantType::Always, &["id"]));
    idp.set_fault(Fault::Status(502).on("/api/grants/"));
    ok(&get(&idp, "/.well-known/jwks.json"));
    assert_eq!(consume(&idp, &g.id, Some(&g.token)).status(), Some(502));
    idp.set_fault(Fault::Truncated.times(2));
    idp.add_fault(Fault::Status(503));
    for want in [200, 200, 503] {
        assert_eq!(get(&idp, "/.well-known/jwks.json").status(), Some(want));
    }
    idp.clear_faults();
    ok(&get(&idp, "/.well-known/jwks.json"));
}

// ---------------------------------------------------------------- connection faults

fn err_text(ex: &Exchange) -> String {
    format!("{:?}", ex.error.as_ref().expect("an error"))
}

#[test]
fn fault_certificates() {
    let idp = Idp::start();
    for (fault, want) in
        [(Fault::WrongCa, "UnknownIssuer"), (Fault::WrongHost, "NotValidForName"), (Fault::ExpiredCert, "Expired")]
    {
        idp.set_fault(fault.clone());
        let ex = get(&idp, "/.well-known/jwks.json");
        assert!(ex.raw.is_empty());
        assert!(err_text(&ex).contains(want), "{fault:?}: {}", err_text(&ex));
    }
    assert!(idp.requests().is_empty());
    assert_eq!(idp.connections(), 3);
    // wrong-host cert is fine for its own name; wrong-CA cert is for the right names
    idp.set_fault(Fault::WrongHost);
    let ex =
        client::request_with(&idp, WRONG_NAME, Duration::from_secs(5), "GET", "/.well-known/jwks.json", None, None);
    ok(&ex);
    idp.set_fault(Fault::WrongCa.times(1));
    assert!(get(&idp, "/.well-known/jwks.json").error.is_some());
    ok(&get(&idp, "/.well-known/jwks.json"));
    assert!(idp.other_ca_pem().starts_with("-----BEGIN CERTIFICATE-----") && idp.other_ca_pem() != idp.ca_pem());
}

#[test]
fn fault_closed_connections() {
    let idp = Idp::start();
    idp.set_fault(Fault::CloseOnAccept);
    let ex = get(&idp, "/.well-known/jwks.json");
    assert!(ex.raw.is_empty());
    assert!(ex.error.is_some() || ex.raw.is_empty());

    idp.set_fault(Fault::CloseAfterHandshake);
    let ex = get(&idp, "/.well-known/jwks.json");
    assert!(ex.raw.is_empty(), "{ex:?}");

    idp.set_fault(Fault::NotTls);
    let ex = get(&idp, "/.well-known/jwks.json");
    assert!(ex.raw.is_empty());
    err_text(&ex);

    idp.set_fault(Fault::HandshakeStall);
    let t = Instant::now();
    let ex = client::request_with(
        &idp,
        "127.0.0.1",
        Duration::from_millis(300),
        "GET",
        "/.well-known/jwks.json",
        None,
        None,
    );
    assert!(ex.raw.is_empty());
    err_text(&ex);
    assert!(t.elapsed() < Duration::from_secs(2));

    assert!(idp.requests().is_empty(), "no request got through");
    assert_eq!(idp.connections(), 4);
    idp.clear_faults();
    ok(&get(&idp, "/.well-known/jwks.json"));
}

// ---------------------------------------------------------------- names, CA file, curl, CLI

#[test]
fn localhost_issuer_and_ca_file() {
    let dir = tempdir("ca");
    let ca = dir.join("ca.pem");
    let idp =
        Idp::start_with(Options { issuer_host: "localhost".into(), ca_out: Some(ca.clone()), ..Options::default() })
            .unwrap();
    assert_eq!(idp.issuer(), format!("https://localhost:{}", idp.port()));
    assert_eq!(std::fs::read_to_string(&ca).unwrap(), idp.ca_pem());
    let ex = client::request_with(
        &idp,
        "localhost",
        Duration::from_secs(5),
        "GET",
        "/.well-known/openid-configuration",
        None,
        None,
    );
    assert_eq!(ok(&ex)["issuer"], idp.issuer());
    assert!(Idp::start_with(Options { issuer_host: "example.com".into(), ..Options::default() }).is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn curl_with_cacert() {
    if std::process::Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl not installed: skipped");
        return;
    }
    let dir = tempdir("curl");
    let ca = dir.join("ca.pem");
    let idp = Idp::start();
    idp.write_ca_pem(&ca).unwrap();
    let curl = |url: &str| {
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "5", "--cacert"])
            .arg(&ca)
            .arg(url)
            .output()
            .unwrap()
    };
    for host in ["127.0.0.1", "localhost"] {
        let out = curl(&format!("https://{host}:{}/.well-known/jwks.json", idp.port()));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout).unwrap(), idp.jwks());
    }
    idp.set_fault(Fault::WrongHost);
    assert!(!curl(&format!("{}/.well-known/jwks.json", idp.issuer())).status.success());
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "escapes-testidp-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn cli_serve_grant_call() {
    let dir = tempdir("cli");
    let exe = env!("CARGO_BIN_EXE_escapes-testidp");
    let mut child = std::process::Command::new(exe)
        .args(["serve", "--seed", SEED, "--kid", "key-1", "--ca-out"])
        .arg(dir.join("ca.pem"))
        .arg("--port-file")
        .arg(dir.join("port"))
        .arg("--admin-port-file")
        .arg(dir.join("admin-port"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(dir.join("port")) {
            break p.trim().parse::<u16>().unwrap();
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), format!("https://127.0.0.1:{port}"));

    let run = |args: &[&str]| {
        let out = std::process::Command::new(exe).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let apf = dir.join("admin-port");
    let apf = apf.to_str().unwrap();
    let token = run(&["grant", "--admin-port-file", apf, "--type", "once", "--", "systemctl", "restart", "nginx"]);
    let c = claims_of(&token);
    assert_eq!(
        (c["grant_type"].as_str(), c["iss"].as_str()),
        (Some("once"), Some(format!("https://127.0.0.1:{port}").as_str()))
    );
    assert_eq!(c["command"], json!(["systemctl", "restart", "nginx"]));
    let id = c["grant_id"].as_str().unwrap();

    let ca = client::ca_from_pem(&std::fs::read(dir.join("ca.pem")).unwrap());
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let consume_req = client::build("POST", "127.0.0.1", &format!("/api/grants/{id}/consume"), Some(&token), None);
    let ex = client::send_tls(addr, "127.0.0.1", &ca, &consume_req, Duration::from_secs(5));
    assert_eq!(ok(&ex)["status"], "consumed");
    let jwks = client::send_tls(
        addr,
        "127.0.0.1",
        &ca,
        &client::build("GET", "x", "/.well-known/jwks.json", None, None),
        Duration::from_secs(5),
    );
    assert_eq!(String::from_utf8_lossy(jwks.body()), mint(&["jwks", "--seed", SEED, "--kid", "key-1"]));

    let reqs: Value =
        serde_json::from_str(&run(&["call", "--admin-port-file", apf, "GET", "/_test/requests"])).unwrap();
    assert_eq!(reqs["requests"][0]["bearer"], true);
    run(&["call", "--admin-port-file", apf, "POST", "/_test/fault", r#"{"mode":"status","code":500}"#]);
    let ex = client::send_tls(addr, "127.0.0.1", &ca, &consume_req, Duration::from_secs(5));
    assert_eq!(ex.status(), Some(500));
    let pid = run(&["grant", "--admin-port-file", apf, "--pending", "--print", "id"]);
    run(&["call", "--admin-port-file", apf, "POST", &format!("/_test/grants/{pid}/revoke")]);
    let bad = std::process::Command::new(exe)
        .args(["call", "--admin-port-file", apf, "POST", "/_test/fault", "{}"])
        .output()
        .unwrap();
    assert!(!bad.status.success());

    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
