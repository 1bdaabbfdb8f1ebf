use super::*;

fn cfg() -> Config {
    Config {
        host: None,
        run_as: None,
        audit_log: "/var/log/openape/audit.log".into(),
        allowed_issuers: vec!["https://id.example.com".into()],
        allowed_approvers: vec!["admin@example.com".into()],
        allowed_audiences: vec!["escapes".into()],
        offline: false,
        ca_bundle: None,
        keys: vec![],
        helmets: vec![],
        jackets: vec![],
        syslog: crate::policy::config::SyslogSettings::default(),
    }
}

fn claims_for(argv: &[&str]) -> Claims {
    Claims {
        iss: Some("https://id.example.com".into()),
        sub: Some("agent@example.com".into()),
        aud: vec!["escapes".into()],
        target_host: Some("box".into()),
        iat: Some(1000),
        exp: Some(1300),
        nbf: None,
        jti: Some("j".into()),
        grant_id: Some("g".into()),
        grant_type: Some("always".into()),
        decided_by: Some("admin@example.com".into()),
        command: Some(argv.iter().map(|s| s.to_string()).collect()),
        cmd_hash: None,
        run_as: None,
    }
}

fn argv(a: &[&str]) -> Vec<Vec<u8>> {
    a.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn run(c: &Claims, a: &[&str], now: i64) -> Result<Authorized, Refusal> {
    let av = argv(a);
    claims(c, &cfg(), &Facts { now, hostname: "box", argv: &av, cli_run_as: None })
}

fn check_of(r: Result<Authorized, Refusal>) -> Check {
    r.expect_err("should be refused").check
}

#[test]
fn accepts_matching_grant_and_defaults_to_root() {
    let ok = run(&claims_for(&["id"]), &["id"], 1100).unwrap();
    assert_eq!(ok.run_as, b"root".to_vec());
    assert_eq!(ok.grant_type, GrantType::Always);
}

#[test]
fn refuses_expired_beyond_leeway_only() {
    let c = claims_for(&["id"]);
    assert!(run(&c, &["id"], 1300 + LEEWAY_SECS).is_ok());
    assert_eq!(check_of(run(&c, &["id"], 1301 + LEEWAY_SECS)), Check::Expired);
}

#[test]
fn refuses_missing_exp() {
    let mut c = claims_for(&["id"]);
    c.exp = None;
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::MissingClaim);
}

#[test]
fn refuses_nbf_and_iat_in_the_future() {
    let mut c = claims_for(&["id"]);
    c.nbf = Some(1200);
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::NotYetValid);
    let mut c = claims_for(&["id"]);
    c.iat = Some(1200);
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::IssuedInFuture);
}

#[test]
fn refuses_unknown_approver_audience_host_grant_type() {
    let mut c = claims_for(&["id"]);
    c.decided_by = Some("mallory@example.com".into());
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::Approver);
    let mut c = claims_for(&["id"]);
    c.aud = vec!["other".into()];
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::Audience);
    let mut c = claims_for(&["id"]);
    c.target_host = Some("elsewhere".into());
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::Host);
    let mut c = claims_for(&["id"]);
    c.grant_type = Some("forever".into());
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::GrantType);
}

#[test]
fn accepts_audience_array_containing_allowed_one() {
    let mut c = claims_for(&["id"]);
    c.aud = vec!["x".into(), "escapes".into()];
    assert!(run(&c, &["id"], 1100).is_ok());
}

#[test]
fn configured_host_replaces_system_hostname() {
    let mut conf = cfg();
    conf.host = Some("configured".into());
    let mut c = claims_for(&["id"]);
    c.target_host = Some("configured".into());
    let av = argv(&["id"]);
    assert!(claims(&c, &conf, &Facts { now: 1100, hostname: "box", argv: &av, cli_run_as: None }).is_ok());
    c.target_host = Some("box".into());
    assert!(claims(&c, &conf, &Facts { now: 1100, hostname: "box", argv: &av, cli_run_as: None }).is_err());
}

#[test]
fn command_must_match_element_by_element() {
    let c = claims_for(&["rm", "-rf", "/tmp/x"]);
    assert!(run(&c, &["rm", "-rf", "/tmp/x"], 1100).is_ok());
    assert_eq!(check_of(run(&c, &["rm", "-rf /tmp/x"], 1100)), Check::Command);
    assert_eq!(check_of(run(&c, &["rm", "-rf", "/tmp/x", "/"], 1100)), Check::Command);
}

#[test]
fn accepts_join_form_hash_from_wire_doc() {
    let mut c = claims_for(&[]);
    c.command = None;
    c.cmd_hash = Some("2fc3ad14f3d4d200227b09becf4024e5f6c410fa277e011ed3025b05021fea50".into());
    assert!(run(&c, &["rm", "-rf", "/tmp/test"], 1100).is_ok());
    let r = run(&c, &["rm", "-rf", "/tmp/other"], 1100).unwrap_err();
    assert_eq!(r.check, Check::CommandHash);
    assert!(r.expected_hash.unwrap().starts_with("sha256:2fc3ad"));
    assert!(r.actual_hash.is_some());
}

#[test]
fn refuses_ambiguous_join_form_hash() {
    let mut c = claims_for(&[]);
    c.command = None;
    c.cmd_hash = Some(hex_sha256(b"echo a b"));
    assert_eq!(check_of(run(&c, &["echo", "a b"], 1100)), Check::AmbiguousHash);
    assert_eq!(check_of(run(&c, &["echo", ""], 1100)), Check::AmbiguousHash);
    assert!(run(&c, &["echo", "a", "b"], 1100).is_ok());
}

#[test]
fn accepts_spec_form_hash_over_json_array() {
    let mut c = claims_for(&[]);
    c.command = None;
    c.cmd_hash = Some(format!("SHA-256:{}", hex_sha256(br#"["echo","a b","q\"\\\n"]"#)));
    assert!(run(&c, &["echo", "a b", "q\"\\\n"], 1100).is_ok());
    c.cmd_hash = Some(format!("sha256:{}", hex_sha256(br#"["echo","a b"]"#)));
    assert!(run(&c, &["echo", "a b"], 1100).is_ok());
    assert_eq!(check_of(run(&c, &["echo", "a", "b"], 1100)), Check::CommandHash);
}

#[test]
fn refuses_uppercase_or_short_hash() {
    let mut c = claims_for(&[]);
    c.command = None;
    c.cmd_hash = Some(hex_sha256(b"whoami").to_uppercase());
    assert_eq!(check_of(run(&c, &["whoami"], 1100)), Check::CommandHash);
    c.cmd_hash = Some("abc".into());
    assert_eq!(check_of(run(&c, &["whoami"], 1100)), Check::CommandHash);
}

#[test]
fn both_command_and_hash_must_match() {
    let mut c = claims_for(&["whoami"]);
    c.cmd_hash = Some(hex_sha256(b"id"));
    assert_eq!(check_of(run(&c, &["whoami"], 1100)), Check::CommandHash);
}

#[test]
fn refuses_grant_without_command_binding() {
    let mut c = claims_for(&[]);
    c.command = None;
    assert_eq!(check_of(run(&c, &["id"], 1100)), Check::MissingClaim);
}

#[test]
fn run_as_precedence() {
    let av = argv(&["id"]);
    let mut c = claims_for(&["id"]);
    let facts = |cli| Facts { now: 1100, hostname: "box", argv: &av, cli_run_as: cli };
    assert_eq!(claims(&c, &cfg(), &facts(Some(b"bob"))).unwrap().run_as, b"bob".to_vec());
    let mut conf = cfg();
    conf.run_as = Some("svc".into());
    assert_eq!(claims(&c, &conf, &facts(None)).unwrap().run_as, b"svc".to_vec());
    c.run_as = Some("alice".into());
    assert_eq!(claims(&c, &conf, &facts(None)).unwrap().run_as, b"alice".to_vec());
    assert_eq!(claims(&c, &conf, &facts(Some(b"alice"))).unwrap().run_as, b"alice".to_vec());
    assert_eq!(claims(&c, &conf, &facts(Some(b"root"))).unwrap_err().check, Check::RunAs);
}

#[test]
fn header_pins_eddsa_and_requires_kid() {
    let h = Header { alg: "EdDSA".into(), kid: Some("k".into()), typ: None };
    assert_eq!(header(&h), Ok("k"));
    for alg in ["none", "HS256", "eddsa", "ES256"] {
        let h = Header { alg: alg.into(), kid: Some("k".into()), typ: None };
        assert_eq!(header(&h).unwrap_err().check, Check::Algorithm);
    }
    let h = Header { alg: "EdDSA".into(), kid: None, typ: None };
    assert_eq!(header(&h).unwrap_err().check, Check::KeyId);
}

#[test]
fn issuer_is_exact_match() {
    let mut c = claims_for(&["id"]);
    assert!(issuer(&c, &cfg()).is_ok());
    for iss in ["https://id.example.com/", "https://ID.example.com", "https://id.example.com.evil"] {
        c.iss = Some(iss.into());
        assert_eq!(issuer(&c, &cfg()).unwrap_err().check, Check::Issuer);
    }
}

#[test]
fn argv_json_matches_javascript_stringify() {
    assert_eq!(argv_json(&argv(&["a", "\u{1}/é"])).unwrap(), "[\"a\",\"\\u0001/é\"]");
    assert_eq!(argv_json(&[vec![0xff]]), None);
}
