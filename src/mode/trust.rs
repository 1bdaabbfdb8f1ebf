//! `escapes trust --idp URL --approvers A[,B...] [--ca-bundle FILE] [--pin] [--replace]`: make
//! an IdP a trust anchor. Only for the real uid 0: the setuid bit gives every caller euid 0, and
//! rewriting the trust anchors is root's decision alone.
//!
//! 1. The URL must be `https://`, without a trailing slash (the config's issuer rules).
//! 2. `{idp}/.well-known/openid-configuration` and `{idp}/.well-known/jwks.json` are fetched by
//!    the network child (with the `--ca-bundle`, read as a trusted file, or Mozilla's roots),
//!    which also reads their JSON; the document's `issuer` must equal the URL exactly.
//! 3. What was found (issuer, key ids, approvers) goes to stdout. On a terminal, root confirms;
//!    otherwise (a script, a pipe) escapes goes on without asking.
//! 4. With `--pin`, the key set (checked again by the parse service) replaces
//!    `<config dir>/keys/<sha256 of the issuer>.jwks.json`.
//! 5. The parse service edits the config (`config_edit`, which keeps everything it does not
//!    set); the new file is written beside the old one, passes `--check-config`'s checks under
//!    its temporary name, and only then is renamed over the config.

use crate::confined::service;
use crate::mode::failure::{say, Failure};
use crate::mode::{check_config, CONFIG_PATH, MAX_CONFIG};
use crate::policy::config::{issuer_fault, IssuerFault, TrustEdit, MAX_BUNDLE};
use crate::policy::request::Trust;
use crate::policy::text::excerpt;
use crate::policy::verify::hex_sha256;
use crate::process;
use crate::root::{idp, trusted_file};
use crate::sys;
use opwire::sysexits::Exit;

/// How long the confirmation prompt waits for root's answer.
const CONFIRM_WAIT_MS: i32 = 120_000;

pub fn run(t: &Trust) -> i32 {
    match trust(t) {
        Ok(code) => code,
        Err(f) => f.report(),
    }
}

/// The directory pinned key sets are written to: `keys` beside the config
/// (`/etc/openape/keys` for the default config path).
pub fn keys_dir() -> String {
    let dir = CONFIG_PATH.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{dir}/keys")
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::error("usage", message)
}

fn text(bytes: &[u8], what: &str) -> Result<String, Failure> {
    String::from_utf8(bytes.to_vec()).map_err(|_| usage(format!("{what} is not UTF-8")))
}

/// The config's issuer rules, before anything is fetched: https, a host, no trailing slash,
/// nothing that is not compared literally.
fn check_url(url: &str) -> Result<(), Failure> {
    let shown = excerpt(url);
    match issuer_fault(url) {
        Some(IssuerFault::NotHttps) => {
            return Err(usage(format!("--idp {shown:?} is not an https:// URL with a host name")))
        }
        Some(IssuerFault::TrailingSlash) => {
            return Err(usage(format!("--idp {shown:?} must not end with '/' (the issuer is compared exactly)")))
        }
        Some(IssuerFault::Wildcard) => return Err(usage(format!("--idp {shown:?} must not contain '*' or '?'"))),
        None => {}
    }
    // Beyond the config's rule: what a URL typed on a command line should never hold.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) || url.contains(['#', '@']) {
        return Err(usage(format!("--idp {shown:?} must not contain blanks, control characters, '#' or '@'")));
    }
    Ok(())
}

fn trust(t: &Trust) -> Result<i32, Failure> {
    if process::caller().uid != 0 {
        return Err(Failure::new(Exit::Refused, "not_root", "escapes trust is only for root (real uid 0)"));
    }
    let issuer = text(&t.idp, "--idp")?;
    check_url(&issuer)?;
    let mut approvers = Vec::with_capacity(t.approvers.len());
    for a in &t.approvers {
        let a = text(a, "--approvers")?;
        if a.is_empty() {
            return Err(usage("--approvers has an empty entry"));
        }
        approvers.push(a);
    }
    let ca_bundle = match &t.ca_bundle {
        None => None,
        Some(p) => {
            let path = text(p, "--ca-bundle")?;
            if !path.starts_with('/') {
                return Err(usage(format!("--ca-bundle {:?} must be an absolute path", excerpt(&path))));
            }
            let bytes = trusted_file::read(&path, MAX_BUNDLE)
                .map_err(|e| Failure::error("ca_bundle", format!("--ca-bundle {e}")))?;
            Some((path, bytes))
        }
    };

    let found =
        idp::introduce(&issuer, ca_bundle.clone()).map_err(|e| Failure::new(e.exit(), e.code(), e.to_string()))?;
    if found.issuer != issuer {
        return Err(Failure::new(
            Exit::Refused,
            "issuer_mismatch",
            format!(
                "the discovery document at {issuer} names issuer {:?}, not {issuer:?}; not trusting it",
                excerpt(&found.issuer)
            ),
        ));
    }
    let kids: Vec<&str> = found.keys.iter().map(|k| k.kid.as_str()).collect();
    let mut shown = format!("issuer: {issuer}\n");
    if let Some(uri) = &found.jwks_uri {
        shown.push_str(&format!("jwks_uri: {} (escapes reads {issuer}/.well-known/jwks.json)\n", excerpt(uri)));
    }
    shown.push_str(&format!(
        "keys: {}\napprovers: {}\nconfig: {CONFIG_PATH}\n",
        if kids.is_empty() { "(no usable Ed25519 key)".to_string() } else { kids.join(", ") },
        approvers.join(", ")
    ));
    let _ = sys::write_stdout(shown.as_bytes());
    if found.keys.is_empty() && t.pin {
        return Err(Failure::error("keys", format!("{issuer} publishes no usable Ed25519 key; nothing to pin")));
    }
    if sys::stdin_is_terminal() && !confirm()? {
        return Err(Failure::error("usage", "not confirmed; nothing written"));
    }

    let old = match trusted_file::read(CONFIG_PATH, MAX_CONFIG) {
        Ok(b) => b,
        Err(trusted_file::Error::Open { errno, .. }) if errno.0 == libc::ENOENT => Vec::new(),
        Err(e) => return Err(Failure::error("config", format!("config {e}"))),
    };
    let pinned = t.pin.then(|| format!("{}/{}.jwks.json", keys_dir(), hex_sha256(issuer.as_bytes())));
    let edit = TrustEdit {
        issuer: &issuer,
        approvers: &approvers,
        ca_bundle: ca_bundle.as_ref().map(|(p, _)| p.as_str()),
        pinned: pinned.as_deref(),
        replace: t.replace,
    };
    let new = match service::config_edit(&old, &edit) {
        Ok(Ok(new)) => new,
        Ok(Err(why)) => return Err(Failure::error("config", format!("config {CONFIG_PATH}: {why}; nothing written"))),
        Err(e) => return Err(Failure::error("sandbox", e.to_string())),
    };
    if let Some(file) = &pinned {
        pin(file, &found.raw)?;
    }
    // --check-config's report on the new file, under its temporary name, before it counts.
    let checked = |tmp: &str| match check_config::run(Some(tmp.as_bytes())) {
        0 => Ok(()),
        _ => Err(format!("the new config fails --check-config (above); {CONFIG_PATH} is unchanged")),
    };
    trusted_file::replace(CONFIG_PATH, &new, checked).map_err(|e| Failure::error("config", e.to_string()))?;
    say(&format!("trusting {issuer}: {CONFIG_PATH} written"));
    Ok(0)
}

/// Writes the key set to `file` (in the keys directory, created if missing), once the parse
/// service has found a usable key in it.
fn pin(file: &str, raw: &[u8]) -> Result<(), Failure> {
    let keys = |m: String| Failure::error("keys", m);
    match service::jwks(raw) {
        Ok(Ok(k)) if !k.is_empty() => {}
        Ok(Ok(_)) => return Err(keys("the key set holds no usable Ed25519 key; nothing written".into())),
        Ok(Err(why)) => return Err(keys(format!("the key set is not usable: {why}; nothing written"))),
        Err(e) => return Err(Failure::error("sandbox", e.to_string())),
    }
    trusted_file::ensure_dir(&keys_dir()).map_err(|e| keys(format!("keys directory {e}")))?;
    trusted_file::replace(file, raw, |_| Ok(())).map_err(|e| keys(format!("key file: {e}")))
}

/// Asks on the terminal; true for an answer starting with y or Y.
fn confirm() -> Result<bool, Failure> {
    let _ = sys::write_stdout(b"write this config? [y/N] ");
    let ready = sys::poll_one(0, sys::POLLIN, CONFIRM_WAIT_MS).map_err(|e| usage(format!("stdin: {e}")))?;
    if ready == 0 {
        return Err(usage("no answer within 2 minutes; nothing written"));
    }
    let mut answer = Vec::with_capacity(16);
    sys::read_raw(0, &mut answer, 16).map_err(|e| usage(format!("stdin: {e}")))?;
    Ok(matches!(answer.first(), Some(b'y' | b'Y')))
}
