//! One entry point per parser for the fuzz targets in `fuzz/` and for the corpus replay test
//! (`tests/corpus_replay.rs`), so both exercise exactly the same code.
//! Each function must return normally for every input: a panic is a bug.

pub fn toml(data: &[u8]) {
    let _ = crate::toml::parse(data);
}

pub fn config(data: &[u8]) {
    let _ = crate::config::parse(data);
}

pub fn base64url(data: &[u8]) {
    if let Ok(bytes) = crate::base64url::decode(data) {
        // Round trip: whatever we accept re-encodes to exactly the input.
        assert_eq!(crate::base64url::encode(&bytes).as_bytes(), data);
    }
}

pub fn json(data: &[u8]) {
    let _ = crate::json::parse(data);
}

pub fn jwt(data: &[u8]) {
    let _ = crate::jwt::parse(data);
}

pub fn jwks(data: &[u8]) {
    let _ = crate::jwks::parse(data);
}

/// The ed25519 targets' input layout: 32-byte key, 64-byte signature, then the message.
pub fn ed25519_input(data: &[u8]) -> Option<([u8; 32], [u8; 64], &[u8])> {
    let (key, rest) = data.split_first_chunk::<32>()?;
    let (sig, msg) = rest.split_first_chunk::<64>()?;
    Some((*key, *sig, msg))
}

pub fn ed25519(data: &[u8]) {
    if let Some((k, s, msg)) = ed25519_input(data) {
        let _ = crate::ed25519::verify_strict(&k, msg, &s);
    }
}

pub fn passwd(data: &[u8]) {
    let _ = crate::passwd::find_user_by_name(data, b"root");
    let _ = crate::passwd::find_user_by_uid(data, 0);
    for line in data.split(|b| *b == b'\n') {
        let _ = crate::passwd::parse_passwd_line(line);
    }
}

pub fn group(data: &[u8]) {
    let _ = crate::passwd::supplementary_groups(data, b"root", 0);
    for line in data.split(|b| *b == b'\n') {
        let _ = crate::passwd::parse_group_line(line);
    }
}

pub fn cli(data: &[u8]) {
    // NUL separates arguments, as in /proc/PID/cmdline.
    let args: Vec<Vec<u8>> = data.split(|b| *b == 0).map(|a| a.to_vec()).collect();
    let _ = crate::cli::parse(&args);
}

pub fn http(data: &[u8]) {
    if let Ok(r) = crate::http::parse_response(data) {
        assert!(r.body.len() <= crate::http::MAX_BODY);
        // The network loop stops at the first complete parse: a complete response must not
        // already look complete one byte earlier.
        if let Some(prefix) = data.get(..data.len().saturating_sub(1)) {
            assert_eq!(crate::http::parse_response(prefix), Err(crate::http::Error::Incomplete));
        }
    }
    // The report the unprivileged network child sends its root parent is framed bytes too.
    if let Some(Ok(r)) = crate::net::decode_report(data) {
        assert_eq!(crate::net::encode_response(&r), data);
    }
}

pub fn pem(data: &[u8]) {
    if let Ok(certs) = crate::pem::certificates(data) {
        assert!(!certs.is_empty() && certs.len() <= crate::pem::MAX_CERTS);
        assert!(certs.iter().all(|c| !c.is_empty()));
    }
}

pub fn dns(data: &[u8]) {
    // Expect the id the message carries, so the fuzzer gets past the id check.
    let id = match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    for qtype in [crate::dns::QType::A, crate::dns::QType::Aaaa] {
        if let Ok(addrs) = crate::dns::parse_response(data, id, "id.example.com", qtype) {
            assert!(!addrs.is_empty());
        }
    }
}

pub fn hosts(data: &[u8]) {
    let _ = crate::dns::hosts_lookup(data, "id.example.com");
    assert!(crate::dns::nameservers(data).len() <= 3);
}

pub fn jacket_reply(data: &[u8]) {
    match crate::jacket::reply::parse(data) {
        Ok(r) => {
            assert!(data.len() <= crate::jacket::reply::MAX_REPLY);
            // Whatever is accepted applies without panicking, and only allow-listed names are set.
            let mut env = vec![b"TERM=xterm".to_vec(), b"PATH=/usr/bin".to_vec()];
            let caller = [(b"LANG".to_vec(), b"C".to_vec()), (b"LD_PRELOAD".to_vec(), b"/x".to_vec())];
            let _ = crate::jacket::apply(&mut env, &r.edits, &caller);
            assert!(env.iter().all(|e| !e.starts_with(b"LD_")));
        }
        Err(e) => assert!(e.line <= data.len()),
    }
}

pub fn handoff(data: &[u8]) {
    // The parent's side: any report, read against any token it holds, never panics.
    let _ = crate::handoff::decode(data, data);
    // The child's side: whatever jwt::parse makes of the bytes reaches the parent unchanged.
    let parsed = crate::jwt::parse(data);
    let back = crate::handoff::decode(&crate::handoff::encode(&parsed), data);
    assert_eq!(back, Ok(parsed.map_err(|e| e.to_string())));
}

pub fn proc_status(data: &[u8]) {
    if let Ok(mask) = crate::proc_status::sig_ignored(data) {
        // Exactly one line carried it, and it says so again on its own.
        let line = format!("SigIgn:\t{mask:016x}");
        assert_eq!(crate::proc_status::sig_ignored(line.as_bytes()), Ok(mask));
    }
}

/// A journal export (`--anchors`): every anchor it yields is a well-formed chain hash, and the
/// comparison over any local lines never panics.
pub fn journal_export(data: &[u8]) {
    if let Ok(anchors) = crate::anchors::journal_export(data) {
        check_anchors(data, anchors);
    }
}

/// A syslog file (`--anchors`): likewise; also the system-log encoders over the same bytes
/// taken as an audit line, whose copies must read back with that line's hash.
pub fn syslog_file(data: &[u8]) {
    check_anchors(data, crate::anchors::syslog_file(data));
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let datagram = crate::syslog::syslog_datagram(line);
    assert!(datagram.len() <= crate::syslog::MAX_TEXT + 1024);
    let back = crate::anchors::syslog_file(&datagram);
    assert_eq!(back.first().map(|a| a.hash.clone()), Some(crate::syslog::line_hash(line)));
    let _ = crate::syslog::journal_datagram(line, false);
}

fn check_anchors(data: &[u8], anchors: Vec<crate::anchors::Anchor>) {
    for a in &anchors {
        assert!(crate::syslog::is_chain_hash(a.hash.as_bytes()));
        assert!(a.prev.as_deref().is_none_or(|p| crate::syslog::is_chain_hash(p.as_bytes())));
    }
    let mut c = crate::anchors::Compare::new(anchors);
    for (i, line) in data.split(|&b| b == b'\n').take(64).enumerate() {
        let at = crate::anchors::Place { file: 0, line: i + 1 };
        if c.feed(at, &crate::syslog::line_hash(line), &crate::syslog::line_hash(data)).is_err() {
            return;
        }
    }
    let _ = c.finish();
}
