use super::*;
use crate::fuzz_entry::line_members;

fn journal_of(line: &[u8], minimal: bool) -> Vec<u8> {
    journal_datagram(line, &line_members(line), minimal)
}

fn syslog_of(line: &[u8]) -> Vec<u8> {
    syslog_datagram(line, &line_members(line))
}

const LINE: &[u8] = br#"{"timestamp":"2026-01-02T03:04:05.678Z","real_uid":1000,"user":"al","pid":4242,"host":"web-1","cwd":"/","command":["id","-u"],"event":"run","result":"allowed","prev_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}"#;

/// Parses journald's native protocol back into (name, value) pairs.
fn journal_fields(mut d: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while !d.is_empty() {
        let nl = d.iter().position(|&b| b == b'\n').unwrap();
        let head = &d[..nl];
        if let Some(eq) = head.iter().position(|&b| b == b'=') {
            out.push((String::from_utf8(head[..eq].to_vec()).unwrap(), head[eq + 1..].to_vec()));
            d = &d[nl + 1..];
        } else {
            let len = u64::from_le_bytes(d[nl + 1..nl + 9].try_into().unwrap()) as usize;
            out.push((String::from_utf8(head.to_vec()).unwrap(), d[nl + 9..nl + 9 + len].to_vec()));
            assert_eq!(d[nl + 9 + len], b'\n');
            d = &d[nl + 10 + len..];
        }
    }
    out
}

fn get<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
}

#[test]
fn the_line_hash_is_what_the_next_line_chains_to() {
    assert_eq!(line_hash(b"abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert!(is_chain_hash(line_hash(LINE).as_bytes()));
    assert!(!is_chain_hash(b"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    assert!(!is_chain_hash(b"sha256:abc"));
}

#[test]
fn journal_datagram_carries_the_record_its_hash_and_one_field_per_audit_field() {
    let f = journal_fields(&journal_of(LINE, false));
    assert_eq!(get(&f, "MESSAGE"), Some(LINE));
    assert_eq!(get(&f, "PRIORITY"), Some(&b"5"[..]));
    assert_eq!(get(&f, "SYSLOG_IDENTIFIER"), Some(&b"escapes"[..]));
    assert_eq!(get(&f, "SYSLOG_FACILITY"), Some(&b"10"[..]));
    assert_eq!(get(&f, "SYSLOG_PID"), Some(&b"4242"[..]));
    assert_eq!(get(&f, "ESCAPES_LINE_HASH"), Some(line_hash(LINE).as_bytes()));
    assert_eq!(
        get(&f, "ESCAPES_PREV_HASH"),
        Some(&b"sha256:0000000000000000000000000000000000000000000000000000000000000000"[..])
    );
    assert_eq!(get(&f, "ESCAPES_USER"), Some(&b"al"[..]));
    assert_eq!(get(&f, "ESCAPES_REAL_UID"), Some(&b"1000"[..]));
    assert_eq!(get(&f, "ESCAPES_COMMAND"), Some(&br#"["id","-u"]"#[..]));
    assert_eq!(get(&f, "ESCAPES_TRUNCATED"), None);
}

#[test]
fn journal_values_with_newlines_use_the_length_form() {
    let line = br#"{"message":"a\nb","event":"refused","prev_hash":"x"}"#;
    let d = journal_of(line, false);
    let f = journal_fields(&d);
    assert_eq!(get(&f, "ESCAPES_MESSAGE"), Some(&b"a\nb"[..]));
    assert_eq!(get(&f, "PRIORITY"), Some(&b"4"[..]));
    let needle = [&b"ESCAPES_MESSAGE\n"[..], &3u64.to_le_bytes(), b"a\nb\n"].concat();
    assert!(d.windows(needle.len()).any(|w| w == needle.as_slice()));
}

#[test]
fn a_huge_record_is_cut_but_keeps_both_hashes() {
    let big = format!(
        r#"{{"command":["{}"],"m":"{}","prev_hash":"sha256:{}"}}"#,
        "x".repeat(300_000),
        "ü".repeat(5000),
        "1".repeat(64)
    );
    let d = journal_of(big.as_bytes(), false);
    assert!(d.len() < 64 * 1024, "{}", d.len());
    let f = journal_fields(&d);
    assert_eq!(get(&f, "ESCAPES_TRUNCATED"), Some(&b"1"[..]));
    assert_eq!(get(&f, "ESCAPES_LINE_HASH"), Some(line_hash(big.as_bytes()).as_bytes()));
    assert!(std::str::from_utf8(get(&f, "ESCAPES_M").unwrap()).is_ok(), "cut at a character boundary");
    let s = syslog_of(big.as_bytes());
    assert!(s.len() <= 8096, "{}", s.len());
    let text = String::from_utf8(s).unwrap();
    assert!(text.contains(&format!(
        "line_hash=\"{}\" prev_hash=\"sha256:{}\" truncated=\"1\"]",
        line_hash(big.as_bytes()),
        "1".repeat(64)
    )));
    let minimal = journal_fields(&journal_of(big.as_bytes(), true));
    assert!(get(&minimal, "ESCAPES_COMMAND").is_none() && get(&minimal, "ESCAPES_PREV_HASH").is_some());
}

#[test]
fn syslog_datagram_is_rfc5424_authpriv_with_the_hashes_and_the_line() {
    let s = String::from_utf8(syslog_of(LINE)).unwrap();
    let want = format!(
            "<85>1 2026-01-02T03:04:05.678Z web-1 escapes 4242 run [escapes@32473 line_hash=\"{}\" prev_hash=\"sha256:{}\"] {}",
            line_hash(LINE),
            "0".repeat(64),
            std::str::from_utf8(LINE).unwrap()
        );
    assert_eq!(s, want);
}

#[test]
fn hostile_header_values_become_nil() {
    let line = br#"{"timestamp":"now now","host":"a]b c","pid":"x","event":"run\n","prev_hash":"sha256:z"}"#;
    let s = String::from_utf8(syslog_of(line)).unwrap();
    assert!(s.starts_with("<85>1 - - escapes - - [escapes@32473 line_hash=\"sha256:"), "{s}");
    assert!(!s.contains("prev_hash=\""), "an invalid prev_hash is not put in the element: {s}");
    // Not JSON at all: still a well-formed message with the hash.
    let s = String::from_utf8_lossy(&syslog_of(b"\xff garbage")).into_owned();
    assert!(s.starts_with("<85>1 - - escapes - - [escapes@32473 line_hash=\"sha256:"), "{s}");
}

#[test]
fn journal_names_are_sanitised_and_bounded() {
    assert_eq!(journal_name("prev_hash"), "ESCAPES_PREV_HASH");
    assert_eq!(journal_name("a-b.c"), "ESCAPES_A_B_C");
    assert_eq!(journal_name(&"k".repeat(100)).len(), 64);
}

#[test]
fn modes_parse_exactly() {
    assert_eq!(Mode::parse("auto"), Some(Mode::Auto));
    assert_eq!(Mode::parse("journald"), Some(Mode::Journald));
    assert_eq!(Mode::parse("syslog"), Some(Mode::Syslog));
    assert_eq!(Mode::parse("off"), Some(Mode::Off));
    assert_eq!(Mode::parse("Auto"), None);
    assert_eq!(Mode::parse(""), None);
}

#[test]
fn a_logger_that_never_reads_costs_one_bound_then_nothing() {
    let dir = std::env::temp_dir().join(format!("escapes-syslog-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("sock");
    let _ = std::fs::remove_file(&path);
    let _listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    let fd = sys::unix_datagram_connect(path.as_os_str().as_encoded_bytes()).unwrap();
    // Fill the queue.
    while sys::send(&fd, &[0u8; 1024]).is_ok() {}
    let start = std::time::Instant::now();
    assert_eq!(send_bounded(&fd, b"x", "test"), Err(Failure::TimedOut("test")));
    let took = start.elapsed().as_millis() as u64;
    assert!((SEND_WAIT_MS..SEND_WAIT_MS + 500).contains(&took), "{took} ms");
    let _ = std::fs::remove_dir_all(&dir);
}
