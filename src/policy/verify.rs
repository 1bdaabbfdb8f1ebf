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
mod tests;
