//! The decision: may this grant run this command? One pipeline for a real run and for
//! `--check`. Each step is written once; [`Steps`] decides what a failure means: a run stops at
//! the first, a check writes a pass/FAIL/skip line for every step and goes on where the next
//! step can still be judged. So the two can never disagree, in verdict or in wording.
//!
//! The order is the security argument: the token is read and parsed (in a confined child),
//! then authenticated (header, issuer, key, signature); only an authentic token has its
//! claims judged, its run-as user looked up and the IdP asked; the program is resolved last.

use crate::audit::{Field, Record};
use crate::exec::{self, Program};
use crate::grant;
use crate::mode::failure::Failure;
use crate::policy::config::Config;
use crate::policy::request::Run;
use crate::policy::token::{Claims, Token};
use crate::policy::verify::{self, GrantType};
use crate::root::{idp, keys, users};
use crate::sys;
use opwire::sysexits::Exit;

/// What an authentic grant allows, once every step passed.
pub struct Decision {
    pub grant_type: GrantType,
    pub target: users::Resolved,
    pub program: Program,
}

/// How the pipeline treats a step's outcome.
pub struct Steps {
    /// `None` in a run; a check's report lines.
    report: Option<String>,
    /// A check's first failure (a run returns its first).
    first_failure: Option<Failure>,
}

impl Steps {
    pub fn run() -> Steps {
        Steps { report: None, first_failure: None }
    }

    pub fn check() -> Steps {
        Steps { report: Some(String::new()), first_failure: None }
    }

    pub fn is_check(&self) -> bool {
        self.report.is_some()
    }

    /// A check's report, and its first failure.
    pub fn finish(self) -> (String, Option<Failure>) {
        (self.report.unwrap_or_default(), self.first_failure)
    }

    /// One step's outcome, `detail` saying what passed. In a run a failure ends the pipeline
    /// (`Err`); in a check it is a FAIL line and the step has no value (`Ok(None)`).
    fn step<T>(
        &mut self,
        name: &str,
        outcome: Result<T, Failure>,
        detail: impl FnOnce(&T) -> String,
    ) -> Result<Option<T>, Failure> {
        match (outcome, &mut self.report) {
            (Ok(v), None) => Ok(Some(v)),
            (Err(f), None) => Err(f),
            (Ok(v), Some(out)) => {
                report_line(out, "pass", name, &detail(&v));
                Ok(Some(v))
            }
            (Err(f), Some(out)) => {
                report_line(out, "FAIL", name, &f.message);
                self.first_failure.get_or_insert(f);
                Ok(None)
            }
        }
    }

    /// A step a check cannot judge (what it needs failed) or does not perform.
    fn skip(&mut self, name: &str, why: &str) {
        if let Some(out) = &mut self.report {
            report_line(out, "skip", name, why);
        }
    }

    fn failed(&self) -> bool {
        self.first_failure.is_some()
    }
}

/// One line of a report (`--check`, `--check-config`): verdict, step, detail, for a terminal.
pub fn report_line(out: &mut String, verdict: &str, step: &str, detail: &str) {
    out.push_str(&format!("{verdict:<5} {step:<12} {}\n", crate::audit::printable(detail)));
}

/// Runs the steps; fills the audit record with what the token says as soon as it is known, so
/// a refusal is recorded with everything an investigator needs. `Ok(None)`: a check that
/// found a failure (in `steps`).
pub fn decide(run: &Run, cfg: &Config, rec: &mut Record, steps: &mut Steps) -> Result<Option<Decision>, Failure> {
    let read = grant::read(&run.grant)
        .map_err(|e| Failure::new(if e.is_io() { Exit::Error } else { Exit::Refused }, "grant", e.to_string()));
    let Some(token_bytes) = steps.step("grant", read, |b| format!("{} bytes", b.len()))? else {
        return Ok(None);
    };
    let Some(token) = steps.step("token", parse_token(&token_bytes), |_| "well-formed compact JWS".into())? else {
        return Ok(None);
    };
    record_claims(rec, &token.claims, false);

    // Authentic?
    let kid = steps.step("header", verify::header(&token.header).map_err(Failure::from), |kid| {
        format!("alg EdDSA, kid {kid:?}")
    })?;
    let issuer = steps
        .step("issuer", verify::issuer(&token.claims, cfg).map_err(Failure::from), |i| format!("{i:?} is allowed"))?;
    let (Some(kid), Some(issuer)) = (kid, issuer) else {
        steps.skip("key", "needs a valid header and an allowed issuer");
        steps.skip("signature", "needs the key");
        return Ok(None);
    };
    let Some(key) = steps.step("key", key_for(cfg, issuer, kid, rec), |(_, source)| {
        match source {
            keys::Source::Pinned => "found in the pinned keys",
            keys::Source::Cached => "found in the cached key set of the issuer",
            keys::Source::Fetched => "found in the key set fetched from the issuer",
        }
        .into()
    })?
    else {
        steps.skip("signature", "no key to check it with");
        return Ok(None);
    };
    steps.step("signature", verify::signature(&token, &key.0).map_err(Failure::from), |_| {
        "valid (strict Ed25519)".into()
    })?;
    // An unauthenticated token learns nothing more: neither which approvers, audiences or
    // hosts the policy allows, nor (through user and program lookups done as root) which files
    // exist.
    if steps.failed() {
        steps.skip("claims", "not evaluated: the token is not authentic");
        return Ok(None);
    }
    record_claims(rec, &token.claims, true);
    // Signed by an allowed issuer: the record may now carry more of the command.
    rec.verified(&run.argv);

    // Allowed?
    let hostname = match crate::mode::hostname() {
        Ok(h) => h,
        Err(e) => {
            steps.step::<()>("host", Err(Failure::error("internal", format!("cannot read hostname: {e}"))), |_| {
                String::new()
            })?;
            return Ok(None);
        }
    };
    let facts = verify::Facts {
        now: sys::realtime().0,
        hostname: &hostname,
        argv: &run.argv,
        cli_run_as: run.run_as.as_deref(),
    };
    for (name, result) in verify::claim_checks(&token.claims, cfg, &facts) {
        steps.step(name, result.map_err(Failure::from), |_| "ok".into())?;
    }
    if steps.failed() {
        steps.skip("consume", "the claims were refused");
        return Ok(None);
    }
    let ok = verify::claims(&token.claims, cfg, &facts).map_err(Failure::from)?;
    rec.str("run_as", &ok.run_as);

    // Before the IdP is asked: a once grant consumed for a user that does not exist is spent
    // for nothing.
    let target =
        steps.step("user", users::resolve(&ok.run_as).map_err(|e| Failure::error("run_as", e.to_string())), |u| {
            format!("runs as {:?} (uid {})", String::from_utf8_lossy(&u.user.name), u.user.uid)
        })?;
    let consumed = consume(cfg, issuer, &token, &token_bytes, ok.grant_type, steps.is_check(), rec);
    steps.step("consume", consumed, String::clone)?;

    let program = match run.argv.first() {
        Some(name) => exec::resolve(name).map_err(|e| Failure::new(e.exit(), "exec", e.to_string())),
        None => Err(Failure::error("usage", "no command")),
    };
    let program = steps.step("program", program, |p| String::from_utf8_lossy(&p.path).into_owned())?;
    if let Some(p) = program.as_ref().filter(|_| steps.is_check()) {
        // Helpers are programs with their own verdict and side effects: named, not run.
        for (kind, list) in [("helmet", &cfg.helmets), ("jacket", &cfg.jackets)] {
            for h in list.iter().filter(|h| h.applies_to(|e| p.is_named_by(e))) {
                steps.skip(kind, &format!("{} would be asked at run time (--check does not run it)", h.path));
            }
        }
    }
    match (target, program) {
        (Some(target), Some(program)) if !steps.failed() => {
            Ok(Some(Decision { grant_type: ok.grant_type, target, program }))
        }
        _ => Ok(None),
    }
}

/// The IdP has the last word: a once grant is consumed there (single use), a timed or always
/// grant is confirmed (so a revocation takes effect) unless this host is offline. A once grant
/// never runs unconsumed, so an offline host refuses it. A check says what a run would ask,
/// and never asks (asking consumes a once grant).
fn consume(
    cfg: &Config,
    issuer: &str,
    token: &Token<'_>,
    token_bytes: &[u8],
    kind: GrantType,
    check: bool,
    rec: &mut Record,
) -> Result<String, Failure> {
    if cfg.offline {
        if kind == GrantType::Once {
            return Err(Failure::error(
                "idp_unreachable",
                "once grant cannot be consumed: IdP consume not available ([security] offline = true)",
            ));
        }
        rec.str("consume", "offline");
        return Ok(format!("{} grant: [security] offline = true, the IdP is not asked", kind.as_str()));
    }
    let grant_id = token.claims.grant_id.as_deref().ok_or_else(|| {
        Failure::new(
            Exit::Refused,
            "claim_missing",
            "token has no grant_id claim, so the IdP cannot be asked about the grant",
        )
    })?;
    let to_fail = |e: idp::Error| Failure::new(e.exit(), e.code(), e.to_string());
    idp::check_grant_id(grant_id).map_err(to_fail)?;
    if check {
        let would = if kind == GrantType::Once { "consume it" } else { "confirm it is not revoked" };
        return Ok(format!(
            "{} grant: a run would {would} at {issuer}/api/grants/{grant_id}/consume (--check does not ask)",
            kind.as_str()
        ));
    }
    // The parse child said these bytes are a compact JWS; the header line we build from them
    // does not take its word for it.
    let bearer = std::str::from_utf8(token_bytes)
        .ok()
        .filter(|t| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
        .ok_or_else(|| Failure::new(Exit::Refused, "jwt", "grant is not base64url and dots"))?;
    match idp::consume(cfg, issuer, grant_id, bearer, kind) {
        Ok(status) => {
            rec.str("consume", &status);
            Ok(status)
        }
        Err(e) => {
            rec.str("consume", if e.exit() == Exit::Refused { "refused" } else { "failed" });
            Err(to_fail(e))
        }
    }
}

/// The token parsed in a confined child: a malformed token is the caller's fault (5); a child
/// that died, hung or sent garbage fails closed as our own error (1).
fn parse_token(token_bytes: &[u8]) -> Result<Token<'_>, Failure> {
    match crate::confined::service::token(token_bytes) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(Failure::new(Exit::Refused, "jwt", format!("malformed grant: {e}"))),
        Err(e) => Err(Failure::error("sandbox", e.to_string())),
    }
}

/// Key lookup (pinned, cached or fetched) with its failure mapped to an exit code: the admin's
/// or the IdP's problem (1), or the token's (5); the key's source goes into the audit record.
fn key_for(cfg: &Config, issuer: &str, kid: &str, rec: &mut Record) -> Result<([u8; 32], keys::Source), Failure> {
    let found = keys::find(cfg, issuer, kid).map_err(|e| Failure::new(e.exit(), e.code(), e.to_string()))?;
    rec.str("key_source", found.source.as_str());
    if let Some(note) = found.cache_note {
        rec.str("key_cache", note);
    }
    Ok((found.key, found.source))
}

/// Token facts for the audit record. Until the signature has been checked they are only what
/// the token claims, and are recorded under `claimed_*` names; afterwards under their own.
fn record_claims(rec: &mut Record, c: &Claims, verified: bool) {
    let one = |v: &Option<String>| v.as_ref().map(|s| Field::Str(s.clone().into_bytes()));
    let audience = (!c.aud.is_empty()).then(|| Field::List(c.aud.iter().map(|a| a.clone().into_bytes()).collect()));
    let fields: [(&'static str, &'static str, Option<Field>); 8] = [
        ("issuer", "claimed_issuer", one(&c.iss)),
        ("requester", "claimed_requester", one(&c.sub)),
        ("approver", "claimed_approver", one(&c.decided_by)),
        ("grant_id", "claimed_grant_id", one(&c.grant_id)),
        ("jti", "claimed_jti", one(&c.jti)),
        ("grant_type", "claimed_grant_type", one(&c.grant_type)),
        ("audience", "claimed_audience", audience),
        ("target_host", "claimed_target_host", one(&c.target_host)),
    ];
    for (name, claimed, v) in fields {
        if let Some(v) = v {
            if verified {
                rec.remove(claimed).set(name, v);
            } else {
                rec.set(claimed, v);
            }
        }
    }
}
