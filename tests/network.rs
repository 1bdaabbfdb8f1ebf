//! escapes against a real IdP over TLS on loopback (tools/testidp): JWKS fetched and cached,
//! grants consumed before they run, and every network fault refused in bounded time with
//! nothing run. The installed setuid binary runs as the unprivileged test user.

mod support;

use escapes_testidp::{ChunkedFault, ContentLengthFault, Fault, GrantSpec, GrantType, Idp};
use std::fs;
use std::time::{Duration, Instant};
use support::*;

const CA: &str = "/run/escapes-test/etc/ca.pem";
const MARK: &str = "/run/escapes-test/ran";

/// A config trusting `idp` through the test CA, with no pinned keys.
fn online(f: &Fixture, idp: &Idp, offline: bool) {
    write_root_file(CA, idp.ca_pem(), 0o644);
    f.write_config(&format!(
        "host = \"testhost\"\naudit_log = \"{ROOT}/log/audit.log\"\n\n[security]\nallowed_issuers = [\"{}\"]\nallowed_approvers = [\"{APPROVER}\"]\noffline = {offline}\n\n[tls]\nca_bundle = \"{CA}\"\n",
        idp.issuer()
    ));
}

/// Runs `touch MARK` with the token; returns the output and whether the command ran.
fn run_touch(f: &Fixture, token: &str) -> (std::process::Output, bool) {
    let _ = fs::remove_file(MARK);
    let o = f.run_grant(token, &["touch", MARK]);
    let ran = std::path::Path::new(MARK).exists();
    let _ = fs::remove_file(MARK);
    (o, ran)
}

fn touch_grant(idp: &Idp, t: GrantType) -> escapes_testidp::Issued {
    idp.issue(GrantSpec::new(t, &["touch", MARK]))
}

#[test]
fn fetches_the_issuers_keys_over_tls_and_runs_an_always_grant() {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, false);
    let g = touch_grant(&idp, GrantType::Always);
    let (o, ran) = run_touch(&f, &g.token);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(ran);
    assert_eq!(idp.jwks_fetches(), 1);
    assert_eq!(idp.consume_calls(&g.id), 1, "timed/always grants are checked for revocation");
}

#[test]
fn a_once_grant_runs_once_and_its_replay_is_refused() {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, false);
    let g = touch_grant(&idp, GrantType::Once);
    let (o, ran) = run_touch(&f, &g.token);
    assert_eq!((code(&o), ran), (0, true), "{}", stderr(&o));
    let (o, ran) = run_touch(&f, &g.token);
    assert_eq!((code(&o), ran), (5, false), "{}", stderr(&o));
    let last = f.last_audit();
    assert_eq!(last["event"], "refused");
    assert_eq!(last["error"], "consumed", "{last}");
    assert_eq!(idp.consume_calls(&g.id), 2);
}

#[test]
fn revoked_denied_expired_and_pending_grants_are_refused() {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, false);
    for (i, how) in ["revoke", "deny", "expire", "pending"].iter().enumerate() {
        f.reset();
        online(&f, &idp, false);
        let t = if i % 2 == 0 { GrantType::Always } else { GrantType::Once };
        let g = touch_grant(&idp, t);
        match *how {
            "revoke" => idp.revoke(&g.id),
            "deny" => idp.deny(&g.id),
            "expire" => idp.expire(&g.id),
            _ => idp.set_status(&g.id, escapes_testidp::GrantStatus::Pending),
        }
        let (o, ran) = run_touch(&f, &g.token);
        assert_eq!((code(&o), ran), (5, false), "{how}: {}", stderr(&o));
        assert_eq!(f.last_audit()["event"], "refused", "{how}");
    }
}

#[test]
fn offline_hosts_never_ask_the_idp_and_refuse_once_grants() {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, true);
    let g = touch_grant(&idp, GrantType::Always);
    let (o, ran) = run_touch(&f, &g.token);
    assert_eq!((code(&o), ran), (0, true), "{}", stderr(&o));
    assert_eq!(idp.consume_calls(&g.id), 0);
    let g = touch_grant(&idp, GrantType::Once);
    let (o, ran) = run_touch(&f, &g.token);
    assert_eq!((code(&o), ran), (1, false), "{}", stderr(&o));
    assert_eq!(idp.consume_calls(&g.id), 0);
}

#[test]
fn the_jwks_is_cached_and_a_new_kid_triggers_one_refetch() {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, false);
    for _ in 0..3 {
        let (o, ran) = run_touch(&f, &touch_grant(&idp, GrantType::Always).token);
        assert_eq!((code(&o), ran), (0, true), "{}", stderr(&o));
    }
    assert_eq!(idp.jwks_fetches(), 1, "later runs use the cache");
    idp.rotate_key(false);
    let (o, ran) = run_touch(&f, &touch_grant(&idp, GrantType::Always).token);
    assert_eq!((code(&o), ran), (0, true), "{}", stderr(&o));
    assert_eq!(idp.jwks_fetches(), 2, "an unknown kid refetches once");
    // A kid the IdP does not publish either: one refetch, then a refusal.
    let forged = mint(&[
        "sign",
        "--seed",
        OTHER_SEED,
        "--kid",
        "key-nope",
        "--claims",
        &f.claims(&["touch", MARK]).to_string().replace(ISSUER, idp.issuer()),
    ]);
    let (o, ran) = run_touch(&f, &forged);
    assert_eq!((code(&o), ran), (5, false), "{}", stderr(&o));
    assert_eq!(idp.jwks_fetches(), 3);
}

#[test]
fn check_does_not_consume_a_once_grant() {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, false);
    let g = touch_grant(&idp, GrantType::Once);
    let o = f.run(&["--check", "--grant", &g.token, "--", "touch", MARK]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(idp.consume_calls(&g.id), 0);
    let (o, ran) = run_touch(&f, &g.token);
    assert_eq!((code(&o), ran), (0, true), "still usable after --check: {}", stderr(&o));
}

/// Every fault: exit 1, nothing runs, an audit line, and well within the 10 s bound.
fn assert_fault_refused(fault: Fault, on_consume_only: bool) {
    let f = Fixture::new();
    let idp = Idp::start();
    online(&f, &idp, false);
    let label = format!("{fault:?}");
    if on_consume_only {
        idp.set_fault(fault.on("/api/grants/"));
    } else {
        idp.set_fault(fault);
    }
    let g = touch_grant(&idp, GrantType::Once);
    let start = Instant::now();
    let (o, ran) = run_touch(&f, &g.token);
    let took = start.elapsed();
    assert_eq!((code(&o), ran), (1, false), "{label}: {}", stderr(&o));
    assert!(took < Duration::from_secs(12), "{label} took {took:?}");
    assert_eq!(stderr(&o).lines().count(), 1, "{label}: {}", stderr(&o));
    assert_eq!(f.last_audit()["event"], "refused", "{label}");
}

#[test]
fn tls_faults_are_refused() {
    for fault in [
        Fault::WrongCa,
        Fault::WrongHost,
        Fault::ExpiredCert,
        Fault::CloseOnAccept,
        Fault::CloseAfterHandshake,
        Fault::NotTls,
    ] {
        assert_fault_refused(fault, false);
    }
}

#[test]
fn malformed_http_from_the_idp_is_refused() {
    let faults = [
        Fault::Truncated,
        Fault::Oversized { bytes: 1 << 20, chunked: false },
        Fault::Oversized { bytes: 1 << 20, chunked: true },
        Fault::OversizedHead { bytes: 64 << 10 },
        Fault::ContentLength(ContentLengthFault::Duplicate),
        Fault::ContentLength(ContentLengthFault::NonNumeric),
        Fault::ContentLength(ContentLengthFault::Plus),
        Fault::ContentLength(ContentLengthFault::Negative),
        Fault::ContentLength(ContentLengthFault::WithChunked),
        Fault::Chunked(ChunkedFault::NonHex),
        Fault::Chunked(ChunkedFault::Overflow),
        Fault::Chunked(ChunkedFault::Negative),
        Fault::Chunked(ChunkedFault::EmptySize),
        Fault::Chunked(ChunkedFault::MissingCrlf),
        Fault::Chunked(ChunkedFault::Truncated),
        Fault::Redirect { status: 302, location: "https://127.0.0.1:1/".into() },
        Fault::Status(500),
        Fault::Status(404),
        Fault::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!".to_vec()),
        Fault::CloseAfterRequest,
    ];
    for fault in faults {
        assert_fault_refused(fault, true);
    }
}

#[test]
fn a_slow_or_silent_idp_is_cut_off_by_the_timeout() {
    for fault in
        [Fault::Slow(Duration::from_secs(30)), Fault::HandshakeStall, Fault::ContentLength(ContentLengthFault::Larger)]
    {
        let on_consume = !fault.is_connection_level();
        assert_fault_refused(fault, on_consume);
    }
}
