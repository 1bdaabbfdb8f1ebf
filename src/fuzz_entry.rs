//! One entry point per parser for the fuzz targets in `fuzz/` and for the corpus replay test
//! (`tests/corpus_replay.rs`), so both exercise exactly the same code.
//! Each function must return normally for every input: a panic is a bug.

/// What the differential fuzz targets and the integration tests call directly.
pub mod parse {
    pub use crate::parse::{base64url, json, toml};
}
pub mod policy {
    pub use crate::policy::{base64url, ed25519};
}
pub mod confined {
    pub use crate::confined::child::drop_to;
}

pub fn toml(data: &[u8]) {
    let _ = crate::parse::toml::parse(data);
}

pub fn config(data: &[u8]) {
    let _ = crate::parse::config::parse(data);
}

/// `config_edit::edit`: the first byte picks the options (bit 0 a CA bundle, bit 1 a pin,
/// bit 2 replace), the rest is the old config. Whatever is written parses as a config, and
/// editing it again changes nothing.
pub fn config_edit(data: &[u8]) {
    use crate::parse::config_edit::{edit, Trust};
    let Some((&flags, old)) = data.split_first() else { return };
    let approvers = ["a@x".to_string(), "b@y".to_string()];
    let t = Trust {
        issuer: "https://id.example.com",
        approvers: &approvers,
        ca_bundle: (flags & 1 != 0).then_some("/etc/openape/ca.pem"),
        pinned: (flags & 2 != 0).then_some("/etc/openape/keys/id.jwks.json"),
        replace: flags & 4 != 0,
    };
    if let Ok(new) = edit(old, &t) {
        assert!(crate::parse::config::parse(&new).is_ok());
        assert_eq!(edit(&new, &t).ok().as_deref(), Some(new.as_slice()));
    }
}

pub fn base64url(data: &[u8]) {
    if let Ok(bytes) = crate::parse::base64url::decode(data) {
        // Round trip: whatever we accept re-encodes to exactly the input.
        assert_eq!(crate::policy::base64url::encode(&bytes).as_bytes(), data);
    }
}

pub fn json(data: &[u8]) {
    let _ = crate::parse::json::parse(data);
}

pub fn jwt(data: &[u8]) {
    let _ = crate::parse::jwt::parse(data);
}

pub fn jwks(data: &[u8]) {
    let _ = crate::parse::jwks::parse(data);
}

/// The ed25519 targets' input layout: 32-byte key, 64-byte signature, then the message.
pub fn ed25519_input(data: &[u8]) -> Option<([u8; 32], [u8; 64], &[u8])> {
    let (key, rest) = data.split_first_chunk::<32>()?;
    let (sig, msg) = rest.split_first_chunk::<64>()?;
    Some((*key, *sig, msg))
}

pub fn ed25519(data: &[u8]) {
    if let Some((k, s, msg)) = ed25519_input(data) {
        let _ = crate::policy::ed25519::verify_strict(&k, msg, &s);
    }
}

pub fn passwd(data: &[u8]) {
    let _ = crate::parse::passwd::find_user_by_name(data, b"root");
    let _ = crate::parse::passwd::find_user_by_uid(data, 0);
    for line in data.split(|b| *b == b'\n') {
        let _ = crate::parse::passwd::parse_passwd_line(line);
    }
}

pub fn group(data: &[u8]) {
    let _ = crate::parse::passwd::supplementary_groups(data, b"root", 0);
    for line in data.split(|b| *b == b'\n') {
        let _ = crate::parse::passwd::parse_group_line(line);
    }
}

pub fn cli(data: &[u8]) {
    // NUL separates arguments, as in /proc/PID/cmdline.
    let args: Vec<Vec<u8>> = data.split(|b| *b == 0).map(|a| a.to_vec()).collect();
    let _ = crate::parse::cli::parse_with_env(&args, None);
}

pub fn http(data: &[u8]) {
    if let Ok(r) = crate::parse::http::parse_response(data) {
        assert!(r.body.len() <= crate::parse::http::MAX_BODY);
        // The network loop stops at the first complete parse: a complete response must not
        // already look complete one byte earlier.
        if let Some(prefix) = data.get(..data.len().saturating_sub(1)) {
            assert_eq!(crate::parse::http::parse_response(prefix), Err(crate::parse::http::Error::Incomplete));
        }
    }
    // The verdict the unprivileged network child sends its root parent: read back totally.
    let _ = crate::confined::net::decode(data);
}

pub fn pem(data: &[u8]) {
    if let Ok(certs) = crate::parse::pem::certificates(data) {
        assert!(!certs.is_empty() && certs.len() <= crate::parse::pem::MAX_CERTS);
        assert!(certs.iter().all(|c| !c.is_empty()));
    }
}

pub fn dns(data: &[u8]) {
    // Expect the id the message carries, so the fuzzer gets past the id check.
    let id = match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    for qtype in [crate::parse::dns::QType::A, crate::parse::dns::QType::Aaaa] {
        if let Ok(addrs) = crate::parse::dns::parse_response(data, id, "id.example.com", qtype) {
            assert!(!addrs.is_empty());
        }
    }
}

pub fn hosts(data: &[u8]) {
    let _ = crate::parse::dns::hosts_lookup(data, "id.example.com");
    assert!(crate::parse::dns::nameservers(data).len() <= 3);
}

pub fn jacket_reply(data: &[u8]) {
    match opwire::reply::parse::parse(data) {
        Ok(r) => {
            assert!(data.len() <= crate::jacket::reply::MAX_REPLY);
            // Whatever is accepted applies without panicking, and only allow-listed names are set.
            let mut env = vec![b"TERM=xterm".to_vec(), b"PATH=/usr/bin".to_vec()];
            let caller = [(b"LANG".to_vec(), b"C".to_vec()), (b"LD_PRELOAD".to_vec(), b"/x".to_vec())];
            let _ = crate::jacket::apply(&mut env, &r.edits, &caller, &["DISPLAY".to_string()]);
            assert!(env.iter().all(|e| !e.starts_with(b"LD_")));
        }
        Err(e) => assert!(e.line <= data.len()),
    }
}

/// The parse service's answers, as the root process reads them back: any bytes, against any
/// token, decode or are refused, never panic; and a token the parser accepts reaches the parent
/// unchanged and bound to the bytes it holds.
pub fn handoff(data: &[u8]) {
    use crate::confined::service;
    let _ = service::decode_answer(data);
    let _ = service::decode_config(data);
    let _ = service::decode_token(data, data);
    let _ = service::decode_user_and_groups(data);
    let _ = service::decode_user(data);
    let _ = service::decode_keys(data);
    let _ = service::decode_reply(&mut crate::confined::wire::Reader::new(data));
    // A reply the parser accepts reaches the root process unchanged.
    if let Ok(reply) = opwire::reply::parse::parse(data) {
        let report = crate::confined::child::service::encode_reply_for_test(&reply);
        let back = service::decode_reply(&mut crate::confined::wire::Reader::new(&report));
        assert_eq!(back.ok(), Some(reply));
    }
    if let Ok(token) = crate::parse::jwt::parse(data) {
        let report = crate::confined::child::service::encode_token_for_test(&token);
        assert_eq!(service::decode_token(&report, data).ok(), Some(token));
    }
}

pub fn proc_status(data: &[u8]) {
    if let Ok(mask) = crate::parse::proc_status::sig_ignored(data) {
        // Exactly one line carried it, and it says so again on its own.
        let line = format!("SigIgn:\t{mask:016x}");
        assert_eq!(crate::parse::proc_status::sig_ignored(line.as_bytes()), Ok(mask));
    }
}

pub fn proc_stat(data: &[u8]) {
    if let Ok(n) = crate::parse::proc_stat::tty_nr(data) {
        // The field it read is the 5th after the last ')', as written.
        assert!(data.windows(n.to_string().len()).any(|w| w == n.to_string().as_bytes()));
    }
}

/// A helper parameter's template: checked alone (as the config is read) and expanded against
/// hostile facts (as a run does); an expansion never holds a control character the facts did
/// not put there, and never a fact that failed its checks.
pub fn facts(data: &[u8]) {
    use crate::policy::facts::{expand, RunFacts};
    let Ok(template) = std::str::from_utf8(data) else { return };
    let checked = expand(template, None);
    let argv = [b"cmd".to_vec(), b"a\nb".to_vec(), b"ok".to_vec()];
    let f = RunFacts { login: b"ksb", tty: Some(b"/dev/pts/1"), argv: &argv, target_home: b"/root" };
    if let Ok(out) = expand(template, Some(&f)) {
        assert!(checked.is_ok());
        assert!(!names_fact(template.as_bytes(), b'1'), "the word with a newline must never be substituted");
        assert!(out.len() <= template.len() * 1024 + 1024);
    }
}

/// Whether `template` names the fact `$<spec>` (`$$` is a literal dollar, so `$$1` does not).
fn names_fact(template: &[u8], spec: u8) -> bool {
    let mut rest = template;
    while let Some(at) = rest.iter().position(|&b| b == b'$') {
        if rest.get(at + 1) == Some(&spec) {
            return true;
        }
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    false
}

/// A journal export (`--anchors`): every anchor it yields is a well-formed chain hash, and the
/// comparison over any local lines never panics.
pub fn journal_export(data: &[u8]) {
    if let Ok(anchors) = crate::unprivileged::anchors::journal_export(data) {
        check_anchors(data, anchors);
    }
}

/// A syslog file (`--anchors`): likewise; also the system-log encoders over the same bytes
/// taken as an audit line, whose copies must read back with that line's hash.
pub fn syslog_file(data: &[u8]) {
    check_anchors(data, crate::unprivileged::anchors::syslog_file(data));
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let members = line_members(line);
    let datagram = crate::root::syslog::syslog_datagram(line, &members);
    assert!(datagram.len() <= crate::root::syslog::MAX_TEXT + 1024);
    let back = crate::unprivileged::anchors::syslog_file(&datagram);
    assert_eq!(back.first().map(|a| a.hash.clone()), Some(crate::policy::chain::line_hash(line)));
    let _ = crate::root::syslog::journal_datagram(line, &members, false);
}

fn check_anchors(data: &[u8], anchors: Vec<crate::unprivileged::anchors::Anchor>) {
    for a in &anchors {
        assert!(crate::policy::chain::is_chain_hash(a.hash.as_bytes()));
        assert!(a.prev.as_deref().is_none_or(|p| crate::policy::chain::is_chain_hash(p.as_bytes())));
    }
    let mut c = crate::unprivileged::anchors::Compare::new(anchors);
    for (i, line) in data.split(|&b| b == b'\n').take(64).enumerate() {
        let at = crate::unprivileged::anchors::Place { file: 0, line: i + 1 };
        if c.feed(at, &crate::policy::chain::line_hash(line), &crate::policy::chain::line_hash(data)).is_err() {
            return;
        }
    }
    let _ = c.finish();
}

/// An audit line's members as `audit::Record::texts` gives them to the system-log encoders,
/// read back from the JSON (for the fuzz targets and tests, which start from lines): strings
/// as their characters, numbers as written, anything else as compact JSON text. Not JSON: none.
pub fn line_members(line: &[u8]) -> Vec<(String, Vec<u8>)> {
    use crate::parse::json::Value;
    fn text(out: &mut Vec<u8>, v: &Value, top: bool) {
        match v {
            Value::Str(s) if top => out.extend_from_slice(s.as_bytes()),
            Value::Str(s) => crate::audit::json_string(out, s.as_bytes()),
            Value::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Number(n) => out.extend_from_slice(n.as_bytes()),
            Value::Bool(b) => out.extend_from_slice(b.to_string().as_bytes()),
            Value::Null => out.extend_from_slice(b"null"),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    text(out, item, false);
                }
                out.push(b']');
            }
            Value::Object(members) => {
                out.push(b'{');
                for (i, (k, item)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    crate::audit::json_string(out, k.as_bytes());
                    out.push(b':');
                    text(out, item, false);
                }
                out.push(b'}');
            }
        }
    }
    let Ok(Value::Object(members)) = crate::parse::json::parse(line) else { return Vec::new() };
    members
        .into_iter()
        .map(|(k, v)| {
            let mut out = Vec::new();
            text(&mut out, &v, true);
            (k, out)
        })
        .collect()
}
