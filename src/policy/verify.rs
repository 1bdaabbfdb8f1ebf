//! The verification chain, as pure functions over a parsed token, the config and the facts of
//! this run. `main` calls them in order: header, issuer, (key lookup), signature, claims — so
//! nothing expensive or key-dependent happens for a token from an issuer we do not trust.

use crate::policy::config::Config;
use crate::policy::ed25519;
use crate::policy::token::{Claims, Header, Token};
use sha2::{Digest, Sha256};

/// Seconds of clock skew tolerated on exp, nbf and iat.
pub const LEEWAY_SECS: i64 = 30;

/// Which check refused, named for the audit log, stderr and machine-readable errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Algorithm,
    KeyId,
    Issuer,
    Signature,
    MissingClaim,
    Expired,
    NotYetValid,
    IssuedInFuture,
    Approver,
    Audience,
    Host,
    GrantType,
    Command,
    CommandHash,
    AmbiguousHash,
    RunAs,
}

impl Check {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Check::Algorithm => "alg_not_allowed",
            Check::KeyId => "kid_missing",
            Check::Issuer => "issuer_not_allowed",
            Check::Signature => "signature_invalid",
            Check::MissingClaim => "claim_missing",
            Check::Expired => "expired",
            Check::NotYetValid => "not_yet_valid",
            Check::IssuedInFuture => "issued_in_future",
            Check::Approver => "approver_not_allowed",
            Check::Audience => "audience_not_allowed",
            Check::Host => "host_mismatch",
            Check::GrantType => "grant_type_invalid",
            Check::Command => "command_mismatch",
            Check::CommandHash => "cmd_hash_mismatch",
            Check::AmbiguousHash => "cmd_hash_ambiguous",
            Check::RunAs => "run_as_mismatch",
        }
    }
}

/// A failed check: what, and why in words an admin understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub check: Check,
    pub detail: String,
    pub expected_hash: Option<String>,
    pub actual_hash: Option<String>,
}

fn refuse(check: Check, detail: impl Into<String>) -> Refusal {
    Refusal { check, detail: detail.into(), expected_hash: None, actual_hash: None }
}

/// What the run looks like, gathered by `main` from the system (never from the environment).
pub struct Facts<'a> {
    pub now: i64,
    pub hostname: &'a str,
    pub argv: &'a [Vec<u8>],
    pub cli_run_as: Option<&'a [u8]>,
}

/// The grant passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    pub run_as: Vec<u8>,
    pub grant_type: GrantType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    Once,
    Timed,
    Always,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::Once => "once",
            GrantType::Timed => "timed",
            GrantType::Always => "always",
        }
    }
}

/// `alg` is pinned to EdDSA (never taken from the token) and a `kid` is required.
pub fn header(h: &Header) -> Result<&str, Refusal> {
    if h.alg != "EdDSA" {
        return Err(refuse(Check::Algorithm, format!("token alg {:?} is not EdDSA", h.alg)));
    }
    match h.kid.as_deref() {
        Some(kid) if !kid.is_empty() => Ok(kid),
        _ => Err(refuse(Check::KeyId, "token header has no kid")),
    }
}

/// The issuer must be one of `allowed_issuers`, compared exactly.
pub fn issuer<'a>(c: &'a Claims, cfg: &Config) -> Result<&'a str, Refusal> {
    let iss = c.iss.as_deref().ok_or_else(|| refuse(Check::MissingClaim, "token has no iss claim"))?;
    if cfg.allowed_issuers.iter().any(|a| a == iss) {
        Ok(iss)
    } else {
        Err(refuse(Check::Issuer, format!("issuer {iss:?} is not in allowed_issuers")))
    }
}

/// Strict Ed25519 over the signing input.
pub fn signature(t: &Token<'_>, key: &[u8; 32]) -> Result<(), Refusal> {
    ed25519::verify_strict(key, t.signing_input, &t.signature)
        .map_err(|e| refuse(Check::Signature, format!("signature check failed: {e}")))
}

/// Every claim check after the signature: time, approver, audience, host, grant type, command,
/// run-as. Stops at the first refusal.
pub fn claims(c: &Claims, cfg: &Config, facts: &Facts<'_>) -> Result<Authorized, Refusal> {
    for (_, result) in claim_checks(c, cfg, facts) {
        result?;
    }
    Ok(Authorized { run_as: run_as(c, cfg, facts.cli_run_as)?, grant_type: grant_type(c)? })
}

/// The claim checks one by one, named, each judged on its own (for `--check`, which reports
/// them all).
pub fn claim_checks(c: &Claims, cfg: &Config, facts: &Facts<'_>) -> Vec<(&'static str, Result<(), Refusal>)> {
    vec![
        ("times", times(c, facts.now)),
        ("approver", approver(c, cfg)),
        ("audience", audience(c, cfg)),
        ("host", host(c, cfg, facts.hostname)),
        ("grant_type", grant_type(c).map(|_| ())),
        ("command", command(c, facts.argv)),
        ("run_as", run_as(c, cfg, facts.cli_run_as).map(|_| ())),
    ]
}

fn times(c: &Claims, now: i64) -> Result<(), Refusal> {
    let exp = c.exp.ok_or_else(|| refuse(Check::MissingClaim, "token has no exp claim"))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(refuse(Check::Expired, format!("grant expired {} s ago", now.saturating_sub(exp))));
    }
    if let Some(nbf) = c.nbf {
        if now < nbf.saturating_sub(LEEWAY_SECS) {
            return Err(refuse(
                Check::NotYetValid,
                format!("grant not valid for another {} s", nbf.saturating_sub(now)),
            ));
        }
    }
    if let Some(iat) = c.iat {
        if now < iat.saturating_sub(LEEWAY_SECS) {
            return Err(refuse(
                Check::IssuedInFuture,
                format!("grant issued {} s in the future", iat.saturating_sub(now)),
            ));
        }
    }
    Ok(())
}

fn approver(c: &Claims, cfg: &Config) -> Result<(), Refusal> {
    let by = c.decided_by.as_deref().ok_or_else(|| refuse(Check::MissingClaim, "token has no decided_by claim"))?;
    if cfg.allowed_approvers.iter().any(|a| a == by) {
        Ok(())
    } else {
        Err(refuse(Check::Approver, format!("approver {by:?} is not in allowed_approvers")))
    }
}

fn audience(c: &Claims, cfg: &Config) -> Result<(), Refusal> {
    if c.aud.is_empty() {
        return Err(refuse(Check::MissingClaim, "token has no aud claim"));
    }
    if c.aud.iter().any(|a| cfg.allowed_audiences.iter().any(|x| x == a)) {
        Ok(())
    } else {
        Err(refuse(Check::Audience, format!("audience {:?} is not in allowed_audiences", c.aud)))
    }
}

fn host(c: &Claims, cfg: &Config, system: &str) -> Result<(), Refusal> {
    let target =
        c.target_host.as_deref().ok_or_else(|| refuse(Check::MissingClaim, "token has no target_host claim"))?;
    let here = cfg.host.as_deref().unwrap_or(system);
    if target == here {
        Ok(())
    } else {
        Err(refuse(Check::Host, format!("grant is for host {target:?}, this is {here:?}")))
    }
}

fn grant_type(c: &Claims) -> Result<GrantType, Refusal> {
    match c.grant_type.as_deref() {
        Some("once") => Ok(GrantType::Once),
        Some("timed") => Ok(GrantType::Timed),
        Some("always") => Ok(GrantType::Always),
        Some(other) => Err(refuse(Check::GrantType, format!("unknown grant_type {other:?}"))),
        None => Err(refuse(Check::MissingClaim, "token has no grant_type claim")),
    }
}

/// The approved command: the `command` claim must equal argv element by element; a `cmd_hash`,
/// when present, must match too; with only a hash, the space-joined form is refused when it is
/// ambiguous.
fn command(c: &Claims, argv: &[Vec<u8>]) -> Result<(), Refusal> {
    if let Some(approved) = &c.command {
        let same = approved.len() == argv.len() && approved.iter().zip(argv).all(|(a, b)| a.as_bytes() == b.as_slice());
        if !same {
            return Err(refuse(Check::Command, "command differs from the approved command"));
        }
    }
    match c.cmd_hash.as_deref() {
        Some(h) => cmd_hash(h, argv, c.command.is_some()),
        None if c.command.is_some() => Ok(()),
        None => Err(refuse(Check::MissingClaim, "token has neither a command nor a cmd_hash claim")),
    }
}

fn cmd_hash(claimed: &str, argv: &[Vec<u8>], exact_command_checked: bool) -> Result<(), Refusal> {
    let spec_hex = claimed.strip_prefix("SHA-256:").or_else(|| claimed.strip_prefix("sha256:"));
    let (actual_hex, expected_hex) = match spec_hex {
        Some(hex) => {
            let json = argv_json(argv).ok_or_else(|| {
                refuse(Check::CommandHash, "command is not valid UTF-8, cannot match a JSON cmd_hash")
            })?;
            (hex_sha256(json.as_bytes()), hex)
        }
        None => {
            // "a b" and "a","b" join to the same string; only the exact command claim can
            // tell them apart.
            let ambiguous = argv.iter().any(|a| a.is_empty() || a.iter().any(u8::is_ascii_whitespace));
            if ambiguous && !exact_command_checked {
                return Err(refuse(Check::AmbiguousHash, "cmd_hash over space-joined arguments is ambiguous for this command (an argument is empty or contains whitespace)"));
            }
            (hex_sha256(&argv.join(&b' ')), claimed)
        }
    };
    if !is_lower_hex_64(expected_hex) {
        return Err(refuse(Check::CommandHash, "cmd_hash is not 64 lowercase hex digits"));
    }
    if actual_hex == expected_hex {
        Ok(())
    } else {
        Err(Refusal {
            check: Check::CommandHash,
            detail: "command does not match the approved cmd_hash".into(),
            expected_hash: Some(format!("sha256:{expected_hex}")),
            actual_hash: Some(format!("sha256:{actual_hex}")),
        })
    }
}

fn is_lower_hex_64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lowercase hex SHA-256.
pub fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// argv serialised as JavaScript's JSON.stringify does it, which is what the spec form of
/// cmd_hash hashes.
pub fn argv_json(argv: &[Vec<u8>]) -> Option<String> {
    let mut out = String::from("[");
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for ch in core::str::from_utf8(a).ok()?.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    Some(out)
}

/// Token `run_as` wins (a different `--run-as` is refused); else `--run-as`; else config;
/// else root.
fn run_as(c: &Claims, cfg: &Config, cli: Option<&[u8]>) -> Result<Vec<u8>, Refusal> {
    if let Some(approved) = c.run_as.as_deref() {
        if let Some(asked) = cli {
            if asked != approved.as_bytes() {
                return Err(refuse(
                    Check::RunAs,
                    format!(
                        "--run-as {:?} differs from the approved run_as {approved:?}",
                        String::from_utf8_lossy(asked)
                    ),
                ));
            }
        }
        return Ok(approved.as_bytes().to_vec());
    }
    if let Some(asked) = cli {
        return Ok(asked.to_vec());
    }
    Ok(cfg.run_as.as_deref().unwrap_or("root").as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
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
}
