use super::*;
use crate::policy::chain::GENESIS;

#[test]
fn escapes_control_characters_and_quotes() {
    let mut r = Record::new();
    r.str("a", b"x\"y\\z\n\r\t\x00\x1b\x7f");
    assert_eq!(r.to_line(), b"{\"a\":\"x\\\"y\\\\z\\n\\r\\t\\u0000\\u001b\\u007f\"}\n".to_vec());
}

#[test]
fn escapes_c1_controls_and_line_separators() {
    let mut r = Record::new();
    r.str("a", "\u{80}\u{85}\u{9b}\u{9f}\u{a0}\u{2028}\u{2029}");
    assert_eq!(r.to_line(), "{\"a\":\"\\u0080\\u0085\\u009b\\u009f\u{a0}\\u2028\\u2029\"}\n".as_bytes());
}

#[test]
fn text_for_a_terminal_carries_no_control_character() {
    assert_eq!(
        printable("a\u{85}b\u{9b}2J\u{1b}c\n\u{2028}\u{7f}é"),
        "a\\u{85}b\\u{9b}2J\\u{1b}c\\u{a}\\u{2028}\\u{7f}é"
    );
    assert!(matches!(printable("plain text"), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn replaces_invalid_utf8() {
    let mut r = Record::new();
    r.str("a", b"ok\xff\xfeend");
    let line = String::from_utf8(r.to_line()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["a"], "ok\u{fffd}\u{fffd}end");
}

#[test]
fn every_line_parses_as_json_with_lists_and_ints() {
    let mut r = Record::new();
    r.str("s", "ünï").int("n", -5).set("l", Field::List(vec![b"a b".to_vec(), b"\xc3".to_vec()]));
    let line = r.to_line();
    assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["n"], -5);
    assert_eq!(v["l"][1], "\u{fffd}");
}

#[test]
fn setting_a_key_twice_keeps_one() {
    let mut r = Record::new();
    r.str("k", "1").str("k", "2");
    assert_eq!(r.to_line(), b"{\"k\":\"2\"}\n".to_vec());
}

/// Length of a line with the chain field the log adds, newline not counted.
fn chained_len(r: &Record) -> usize {
    let mut r = r.clone();
    r.str(CHAIN_FIELD, GENESIS);
    r.to_line().len() - 1
}

#[test]
fn cuts_long_fields_and_commands_on_their_escaped_size_but_keeps_their_hash() {
    let mut r = Record::new();
    r.str("m", vec![1u8; 10_000]);
    let huge = vec![vec![1u8; 10_000]; 100];
    r.command(&huge);
    let v: serde_json::Value = serde_json::from_slice(&r.to_line()).unwrap();
    // 256 escaped bytes: 42 characters of six bytes each.
    assert_eq!(v["m"].as_str().unwrap().len(), 42);
    assert_eq!(v["command_truncated"], 1);
    assert_eq!(v["command_sha256"], link_of(Some(&huge.join(&0u8))));
    let cmd = v["command"].as_array().unwrap();
    assert_eq!(cmd.len(), 1, "{cmd:?}");
    assert!(chained_len(&r) <= MAX_RECORD);
}

#[test]
fn cuts_at_character_boundaries_and_counts_invalid_utf8_as_its_replacement() {
    assert_eq!(fit("aé€😀".as_bytes(), 9), "aé€".as_bytes());
    assert_eq!(fit(b"ab\xff\xfecd", 5), b"ab\xff");
    assert_eq!(fit(b"\"\"\"", 5), b"\"\"");
    assert_eq!(fit(b"\x01\x01", 11), b"\x01");
    assert_eq!(fit(b"short", 256), b"short");
}

#[test]
fn the_worst_unverified_record_stays_within_max_record() {
    // Every field a refusal can carry before verification, in the order main sets them,
    // each the caller controls as long as it can make it (user and host come from
    // /etc/passwd and uname: the longest a name can be there).
    let hostile = "\u{85}".repeat(5000);
    let mut r = Record::new();
    r.str("timestamp", rfc3339(0, 0)).int("real_uid", i64::MAX).str("user", "u".repeat(32)).int("pid", i64::MAX);
    r.str("host", "h".repeat(64)).str("cwd", &hostile).command(&vec![hostile.clone().into_bytes(); 50]);
    for k in [
        "claimed_issuer",
        "claimed_requester",
        "claimed_approver",
        "claimed_grant_id",
        "claimed_jti",
        "claimed_grant_type",
    ] {
        r.str(k, &hostile);
    }
    r.str("key_source", "pinned").str("key_cache", "stale: refetched");
    r.str("event", "refused").str("result", "refused").str("error", "signature_invalid").str("message", &hostile);
    assert!(chained_len(&r) <= MAX_RECORD, "{}", chained_len(&r));
    // Nothing of ours was squeezed out by the caller's fields.
    let v: serde_json::Value = serde_json::from_slice(&r.to_line()).unwrap();
    assert_eq!((v["error"].as_str(), v["command_truncated"].as_i64()), (Some("signature_invalid"), Some(1)));
    assert_eq!(v["command_sha256"].as_str().map(str::len), Some(71));
    assert_eq!(v["message"].as_str().map(|m| m.chars().count()), Some(512 / 6));
}

#[test]
fn a_verified_record_carries_the_approved_command_up_to_max_command() {
    let argv: Vec<Vec<u8>> = (0..40).map(|i| vec![b'a' + (i % 26) as u8; 3000]).collect();
    let mut r = Record::new();
    r.command(&argv);
    assert_eq!(r.get("command_truncated"), Some(&Field::Int(1)));
    r.verified(&argv);
    let Some(Field::List(kept)) = r.get("command") else { panic!() };
    assert!(kept.len() == 21 && kept.iter().take(21).all(|a| a.len() == 3000) || kept.len() == 22, "{}", kept.len());
    assert!(chained_len(&r) <= MAX_RECORD_VERIFIED);
    let short = [b"id".to_vec(), b"-u".to_vec()];
    r.command(&short);
    assert_eq!(
        (r.get("command_truncated"), r.get("command_sha256")),
        (None, None),
        "a command that fits is not marked cut"
    );
}

#[test]
fn short_commands_are_recorded_whole() {
    let mut r = Record::new();
    r.command(&[b"id".to_vec(), b"-u".to_vec()]);
    assert_eq!(r.to_line(), b"{\"command\":[\"id\",\"-u\"]}\n".to_vec());
}

#[test]
fn formats_rfc3339() {
    assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339(951_782_400, 5_000_000), "2000-02-29T00:00:00.005Z");
    assert_eq!(rfc3339(1_798_761_599, 999_999_999), "2026-12-31T23:59:59.999Z");
    assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.000Z");
}
