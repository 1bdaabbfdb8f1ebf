//! The parse service, inside its confined child: the parsers of the grant token, of what
//! escapes reads from files (the config, passwd and group, key sets, the CA bundle) and of the
//! helpers' replies run here,
//! never in the root process. Which child gets which input is `confined::service`'s rule. It reads one request from fd 0,
//! answers on fd 1, and ends at the end of its input.
//!
//! Request: kind (u8, `job::Parse`), payload length (u32), payload. Answer: length (u32), then
//! `ANSWER_OK` and the value, or `ANSWER_REFUSED` and the parser's refusal in words. The value
//! formats are the `encode_*` functions below; `confined::service` reads them back.

use crate::confined::job::{Parse, ANSWER_OK, ANSWER_REFUSED, MAX_REQUEST};
use crate::confined::wire::{Reader, Writer};
use crate::parse::{config, config_edit, jwks, jwks_cache, jwt, passwd, pem};
use crate::policy::account::User;
use crate::policy::config::{Config, Helper};
use crate::policy::token::{Key, Token};
use crate::sys;
use opwire::reply::edit::{Edit, Reply};

/// Answers requests until fd 0 ends; exits 0 then, or 3 on a broken request or pipe.
pub fn serve() -> ! {
    loop {
        let Some(head) = read_exact(5) else { sys::exit_now(0) };
        let (kind, len) = match head.as_slice() {
            [k, a, b, c, d] => (*k, u32::from_be_bytes([*a, *b, *c, *d]) as usize),
            _ => sys::exit_now(3),
        };
        if len > MAX_REQUEST {
            sys::exit_now(3);
        }
        let payload = if len == 0 { Some(Vec::new()) } else { read_exact(len) };
        let Some(payload) = payload else { sys::exit_now(3) };
        let answer = match Parse::from_u8(kind).map(|k| handle(k, &payload)) {
            Some(Some(a)) => a,
            _ => refused("a request the parse service does not know"),
        };
        let mut framed = Writer::new();
        framed.bytes(&answer);
        if sys::write_all(1, &framed.into_bytes()).is_err() {
            sys::exit_now(3);
        }
    }
}

/// Exactly `n` bytes from fd 0; None at its end (or on a read error).
fn read_exact(n: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let want = n - out.len();
        match sys::read_raw(0, &mut out, want) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    Some(out)
}

fn ok(value: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(ANSWER_OK);
    value(&mut w);
    w.into_bytes()
}

fn refused(why: &str) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(ANSWER_REFUSED).str(why);
    w.into_bytes()
}

/// The answer to one request; None for a payload that does not have the request's shape.
/// Each kind is a function of its own, so the stack holds one kind's locals at a time (a
/// caller's small RLIMIT_STACK is this child's too).
fn handle(kind: Parse, payload: &[u8]) -> Option<Vec<u8>> {
    match kind {
        Parse::Config => Some(config_of(payload)),
        Parse::Token => Some(token_of(payload)),
        Parse::UserByName => user_by_name_of(payload),
        Parse::UserByUid => user_by_uid_of(payload),
        Parse::Jwks => Some(jwks_of(payload)),
        Parse::JwksCache => jwks_cache_of(payload),
        Parse::Certificates => Some(certificates_of(payload)),
        Parse::Reply => Some(reply_of(payload)),
        Parse::ConfigEdit => config_edit_of(payload),
    }
}

#[inline(never)]
fn config_edit_of(payload: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(payload);
    let (old, issuer, approvers) = (r.bytes().ok()?, r.str().ok()?, r.strs().ok()?);
    let (ca_bundle, pinned, replace) = (r.opt_str().ok()?, r.opt_str().ok()?, r.bool().ok()?);
    r.finish().ok()?;
    let t = config_edit::Trust {
        issuer: &issuer,
        approvers: &approvers,
        ca_bundle: ca_bundle.as_deref(),
        pinned: pinned.as_deref(),
        replace,
    };
    Some(match config_edit::edit(old, &t) {
        Ok(new) => ok(|w| {
            w.bytes(&new);
        }),
        Err(e) => refused(&e.to_string()),
    })
}

#[inline(never)]
fn reply_of(payload: &[u8]) -> Vec<u8> {
    match opwire::reply::parse::parse(payload) {
        Ok(r) => ok(|w| encode_reply(w, &r)),
        Err(e) => refused(&e.to_string()),
    }
}

fn encode_reply(w: &mut Writer, r: &Reply) {
    w.u8(r.code).bool(r.explicit);
    w.list(&r.edits, |w, e| {
        match e {
            Edit::Set { name, value } => w.u8(b'$').bytes(name).bytes(value),
            Edit::Copy { name } => w.u8(b'c').bytes(name),
            Edit::Remove { name } => w.u8(b'-').bytes(name),
            Edit::Reveal { prefix } => w.u8(b'~').bytes(prefix),
        };
    });
}

#[inline(never)]
fn config_of(payload: &[u8]) -> Vec<u8> {
    match config::parse(payload) {
        Ok(c) => ok(|w| encode_config(w, &c)),
        Err(e) => refused(&e.to_string()),
    }
}

#[inline(never)]
fn token_of(payload: &[u8]) -> Vec<u8> {
    // Debug builds with the `seccomp-test-hook` feature only (tests/seccomp.rs): a token that
    // starts with this marker makes the confined child call getppid (unlisted).
    #[cfg(all(debug_assertions, feature = "seccomp-test-hook"))]
    if payload.starts_with(b"seccomp-test-hook") {
        let _ = sys::getppid();
    }
    match jwt::parse(payload) {
        Ok(t) => ok(|w| encode_token(w, &t)),
        Err(e) => refused(&e.to_string()),
    }
}

#[inline(never)]
fn user_by_name_of(payload: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(payload);
    let (db, groups, name) = (r.bytes().ok()?, r.opt(Reader::bytes).ok()?, r.bytes().ok()?);
    r.finish().ok()?;
    Some(user_by_name(db, groups, name))
}

#[inline(never)]
fn user_by_uid_of(payload: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(payload);
    let (db, uid) = (r.bytes().ok()?, r.u32().ok()?);
    r.finish().ok()?;
    Some(match passwd::find_user_by_uid(db, uid) {
        Ok(u) => ok(|w| {
            w.opt(u.as_ref(), encode_user);
        }),
        Err(e) => refused(&format!("/etc/passwd: {e}")),
    })
}

#[inline(never)]
fn jwks_of(payload: &[u8]) -> Vec<u8> {
    match jwks::parse(payload) {
        Ok(keys) => ok(|w| encode_keys(w, &keys)),
        Err(e) => refused(&e.to_string()),
    }
}

#[inline(never)]
fn jwks_cache_of(payload: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(payload);
    let (file, issuer, now) = (r.bytes().ok()?, r.str().ok()?, r.i64().ok()?);
    r.finish().ok()?;
    Some(match jwks_cache::decode(file, &issuer, now) {
        Ok(keys) => ok(|w| encode_keys(w, &keys)),
        Err(e) => refused(&e.to_string()),
    })
}

#[inline(never)]
fn certificates_of(payload: &[u8]) -> Vec<u8> {
    match pem::certificates(payload) {
        Ok(certs) => ok(|w| {
            w.len(certs.len());
        }),
        Err(e) => refused(&e.to_string()),
    }
}

fn user_by_name(db: &[u8], groups: Option<&[u8]>, name: &[u8]) -> Vec<u8> {
    let user = match passwd::find_user_by_name(db, name) {
        Ok(Some(u)) => u,
        Ok(None) => {
            return ok(|w| {
                w.opt(None::<&(User, Vec<u32>)>, |_, _| {});
            })
        }
        Err(e) => return refused(&format!("/etc/passwd: {e}")),
    };
    let gids = match groups {
        None => vec![user.gid],
        Some(g) => match passwd::supplementary_groups(g, &user.name, user.gid) {
            Ok(gids) => gids,
            Err(e) => return refused(&format!("/etc/group: {e}")),
        },
    };
    ok(|w| {
        w.opt(Some(&(user, gids)), |w, (u, gids)| {
            encode_user(w, u);
            w.list(gids, |w, g| {
                w.u32(*g);
            });
        });
    })
}

fn encode_config(w: &mut Writer, c: &Config) {
    w.opt_str(c.host.as_deref()).opt_str(c.run_as.as_deref()).str(&c.audit_log);
    w.strs(&c.allowed_issuers).strs(&c.allowed_approvers).strs(&c.allowed_audiences).bool(c.offline);
    w.opt_str(c.ca_bundle.as_deref());
    w.list(&c.keys, |w, (issuer, path)| {
        w.str(issuer).str(path);
    });
    for helpers in [&c.helmets, &c.jackets] {
        w.list(helpers, encode_helper);
    }
    w.i64(c.syslog.mode.index()).bool(c.syslog.required);
}

fn encode_helper(w: &mut Writer, h: &Helper) {
    w.str(&h.path).opt(h.programs.as_ref(), |w, p| {
        w.strs(p);
    });
    w.list(&h.params, |w, (n, v)| {
        w.str(n).str(v);
    });
    w.strs(&h.copies).strs(&h.env);
    w.i64(i64::try_from(h.timeout_secs).unwrap_or(i64::MAX));
}

/// The token's parts. The signed bytes do not travel: only the signing input's length, whose
/// prefix of its own copy of the token the parent then checks (`confined::service::token`).
fn encode_token(w: &mut Writer, t: &Token<'_>) {
    w.len(t.signing_input.len()).raw(&t.signature);
    w.str(&t.header.alg).opt_str(t.header.kid.as_deref()).opt_str(t.header.typ.as_deref());
    let c = &t.claims;
    w.opt_str(c.iss.as_deref()).opt_str(c.sub.as_deref()).strs(&c.aud).opt_str(c.target_host.as_deref());
    for n in [&c.iat, &c.exp, &c.nbf] {
        w.opt(n.as_ref(), |w, n| {
            w.i64(*n);
        });
    }
    for s in [&c.jti, &c.grant_id, &c.grant_type, &c.decided_by] {
        w.opt_str(s.as_deref());
    }
    w.opt(c.command.as_ref(), |w, v| {
        w.strs(v);
    });
    w.opt_str(c.cmd_hash.as_deref()).opt_str(c.run_as.as_deref());
}

fn encode_user(w: &mut Writer, u: &User) {
    w.bytes(&u.name).u32(u.uid).u32(u.gid).bytes(&u.home).bytes(&u.shell);
}

fn encode_keys(w: &mut Writer, keys: &[Key]) {
    w.list(keys, |w, k| {
        w.str(&k.kid).raw(&k.x);
    });
}

/// A reply report's bytes as [`serve`] answers them (for the fuzz target's round trip).
#[cfg(any(test, feature = "fuzz"))]
pub fn encode_reply_for_test(r: &Reply) -> Vec<u8> {
    let mut w = Writer::new();
    encode_reply(&mut w, r);
    w.into_bytes()
}

/// The token report's bytes as [`serve`] answers them (for the fuzz target's round trip).
#[cfg(any(test, feature = "fuzz"))]
pub fn encode_token_for_test(t: &Token<'_>) -> Vec<u8> {
    let mut w = Writer::new();
    encode_token(&mut w, t);
    w.into_bytes()
}
