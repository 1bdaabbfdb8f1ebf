use super::*;

/// A chained log of `n` records on `host`, as lines.
fn log(n: usize, host: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for i in 0..n {
        let prev = lines.last().map_or(GENESIS.to_string(), |l| line_hash(l.as_bytes()));
        lines.push(format!(r#"{{"timestamp":"t{i}","pid":{i},"host":"{host}","event":"run","prev_hash":"{prev}"}}"#));
    }
    lines
}

fn rsyslog_5424(lines: &[String]) -> Vec<u8> {
    let mut out = String::from("<86>1 2026-01-01T00:00:00+00:00 web-1 sshd 77 - - Accepted publickey for al\n");
    for l in lines {
        let d = crate::root::syslog::syslog_datagram(l.as_bytes(), &crate::fuzz_entry::line_members(l.as_bytes()));
        out.push_str(&format!("{}\n", String::from_utf8(d).unwrap()));
    }
    out.into_bytes()
}

fn rsyslog_default(lines: &[String]) -> Vec<u8> {
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        out.push_str(&format!("2026-01-01T00:00:0{i}.000000+00:00 web-1 escapes[{i}] {l}\n"));
    }
    out.into_bytes()
}

fn journal(lines: &[String], uid: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(b"__CURSOR=s=1;i=2\n_UID=");
        out.extend_from_slice(uid.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&crate::root::syslog::journal_datagram(
            l.as_bytes(),
            &crate::fuzz_entry::line_members(l.as_bytes()),
            false,
        ));
        out.push(b'\n');
    }
    out
}

fn compare(local: &[String], anchors: Vec<Anchor>) -> Result<Summary, Finding> {
    let mut c = Compare::new(anchors);
    for (i, l) in local.iter().enumerate() {
        let v = json::parse(l.as_bytes()).unwrap();
        let prev = v.get("prev_hash").and_then(json::Value::as_str).unwrap().to_string();
        c.feed(Place { file: 0, line: i + 1 }, &line_hash(l.as_bytes()), &prev)?;
    }
    c.finish()
}

/// The outside review's forgery: edit a middle record, re-chain everything after it.
fn rechain_from(lines: &mut [String], edited: usize) {
    lines[edited] = lines[edited].replace("\"run\"", "\"refused\"");
    for i in edited + 1..lines.len() {
        let prev = line_hash(lines[i - 1].as_bytes());
        let at = lines[i].find("\"prev_hash\":\"").unwrap() + 13;
        lines[i].replace_range(at..at + 71, &prev);
    }
}

#[test]
fn every_format_reads_back_the_hashes_escapes_sent() {
    let lines = log(3, "web-1");
    for anchors in [
        syslog_file(&rsyslog_5424(&lines)),
        syslog_file(&rsyslog_default(&lines)),
        journal_export(&journal(&lines, "0")).unwrap(),
    ] {
        assert_eq!(anchors.len(), 3, "{anchors:?}");
        for (a, l) in anchors.iter().zip(&lines) {
            assert_eq!(a.hash, line_hash(l.as_bytes()));
            assert_eq!(a.host.as_deref(), Some("web-1"));
        }
        assert_eq!(anchors[0].prev.as_deref(), Some(GENESIS));
        assert_eq!(anchors[2].prev, Some(line_hash(lines[1].as_bytes())));
    }
}

#[test]
fn an_intact_log_agrees_with_its_copy() {
    let lines = log(5, "web-1");
    let s = compare(&lines, syslog_file(&rsyslog_5424(&lines))).unwrap();
    assert_eq!(s, Summary { anchored: 5, older: 0, newer: 0, newer_file_follows: false });
}

#[test]
fn a_rechained_forgery_is_contradicted_at_the_edited_line() {
    let lines = log(6, "web-1");
    let export = rsyslog_5424(&lines);
    let mut forged = lines.clone();
    rechain_from(&mut forged, 2);
    let mut chain = crate::unprivileged::chain::Chain::default();
    assert!(forged.iter().all(|l| chain.feed(l.as_bytes()).is_ok()), "the forgery re-chains");
    match compare(&forged, syslog_file(&export)) {
        Err(Finding::Contradicted { at, theirs, .. }) => {
            assert_eq!(at.line, 3);
            assert_eq!(theirs, line_hash(lines[2].as_bytes()));
        }
        other => panic!("{other:?}"),
    }
    for export in [rsyslog_default(&lines), journal(&lines, "0")] {
        assert!(matches!(
            compare(&forged, parse(&export).unwrap()),
            Err(Finding::Contradicted { at: Place { line: 3, .. }, .. })
        ));
    }
}

#[test]
fn lines_newer_or_older_than_the_export_are_counted_not_failed() {
    let lines = log(6, "web-1");
    let s = compare(&lines, syslog_file(&rsyslog_5424(&lines[2..4]))).unwrap();
    // Line 2 is pinned by line 3's prev_hash, line 5 by nothing.
    assert_eq!(s, Summary { anchored: 3, older: 1, newer: 2, newer_file_follows: false });
}

#[test]
fn a_line_whose_copy_was_lost_is_pinned_by_the_next_one() {
    let lines = log(5, "web-1");
    let mut copied = lines.clone();
    copied.remove(2);
    assert_eq!(compare(&lines, syslog_file(&rsyslog_5424(&copied))).unwrap().anchored, 5);
}

#[test]
fn a_line_inserted_between_anchored_lines_is_found() {
    let lines = log(5, "web-1");
    let export = syslog_file(&rsyslog_5424(&lines));
    let mut local = lines.clone();
    // An extra record that links to line 2 and that line 3 does not link to: line 3 is then
    // a broken chain, but the anchors name the insertion itself.
    local.insert(
        2,
        lines[1].replace("t1", "tX").replace(&line_hash(lines[0].as_bytes()), &line_hash(lines[1].as_bytes())),
    );
    assert!(matches!(compare(&local, export), Err(Finding::Contradicted { at: Place { line: 3, .. }, .. })));
}

#[test]
fn a_line_missing_between_confirmed_lines_is_found() {
    // A copy that keeps only the explicit line hashes (no prev_hash): nothing pins line 3.
    let lines = log(4, "web-1");
    let mut export = String::new();
    for l in [&lines[0], &lines[1], &lines[3]] {
        export.push_str(&format!("x escapes: [escapes@32473 line_hash=\"{}\"] cut\n", line_hash(l.as_bytes())));
    }
    assert_eq!(
        compare(&lines, syslog_file(export.as_bytes())),
        Err(Finding::Missing { at: Place { file: 0, line: 3 } })
    );
}

#[test]
fn a_cut_off_tail_is_found_unless_a_newer_file_follows() {
    let lines = log(5, "web-1");
    let export = syslog_file(&rsyslog_5424(&lines));
    match compare(&lines[..3], export.clone()) {
        Err(Finding::Truncated { last, theirs, .. }) => {
            assert_eq!(last.line, 3);
            assert_eq!(theirs, line_hash(lines[3].as_bytes()));
        }
        other => panic!("{other:?}"),
    }
    let mut rotated = lines.clone();
    rotated[3] = rotated[3].replace("\"event\"", "\"rotated_from\":\"/l.1\",\"event\"");
    rotated[4] = rotated[4].replace(&line_hash(lines[3].as_bytes()), &line_hash(rotated[3].as_bytes()));
    let s = compare(&rotated[..3], syslog_file(&rsyslog_5424(&rotated))).unwrap();
    assert!(s.newer_file_follows);
}

#[test]
fn forged_copies_can_fail_a_true_log_but_never_pass_a_forged_one() {
    let lines = log(4, "web-1");
    let mut forged = lines.clone();
    rechain_from(&mut forged, 1);
    // Someone logged the forgery's lines too (anyone can write to /dev/log).
    let mut export = rsyslog_5424(&lines);
    export.extend_from_slice(&rsyslog_5424(&forged));
    assert!(matches!(compare(&forged, syslog_file(&export)), Err(Finding::Contradicted { .. })));
    assert!(matches!(compare(&lines, syslog_file(&export)), Err(Finding::Contradicted { .. })));
    // journald knows who sent it: a non-root sender's entry is no anchor.
    let mut j = journal(&lines, "0");
    j.extend_from_slice(&journal(&forged, "1000"));
    assert!(compare(&lines, journal_export(&j).unwrap()).is_ok());
    assert!(matches!(compare(&forged, journal_export(&j).unwrap()), Err(Finding::Contradicted { .. })));
}

#[test]
fn other_logs_first_records_do_not_contradict_ours_but_a_forged_first_line_is_caught() {
    let ours = log(3, "web-1");
    let theirs = log(3, "web-2");
    let mut export = rsyslog_5424(&theirs);
    export.extend_from_slice(&rsyslog_5424(&ours));
    assert_eq!(compare(&ours, syslog_file(&export)).unwrap().anchored, 3);
    assert_eq!(compare(&ours, syslog_file(&rsyslog_5424(&theirs))), Err(Finding::NothingAnchored));
    let mut forged = ours.clone();
    rechain_from(&mut forged, 0);
    assert_eq!(compare(&forged, syslog_file(&export)), Err(Finding::NothingAnchored));
}

#[test]
fn the_journal_export_parser_reads_binary_fields_and_refuses_broken_framing() {
    let mut d = b"__CURSOR=x\nESCAPES_LINE_HASH=".to_vec();
    d.extend_from_slice(line_hash(b"a").as_bytes());
    d.extend_from_slice(b"\nMESSAGE\n");
    d.extend_from_slice(&5u64.to_le_bytes());
    d.extend_from_slice(b"a\nb\n\n\n\nESCAPES_LINE_HASH=bad\n");
    let a = journal_export(&d).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].hash, line_hash(b"a"));
    assert_eq!(a[0].prev, None);
    assert_eq!(journal_export(b"A=1\nB\n\x05\0\0\0\0\0\0\0ab"), Err(Error::Truncated { entry: 1 }));
    assert_eq!(journal_export(b"A=1\nB\n\x01\0\0\0\0\0\0\0abc\n"), Err(Error::NoNewlineAfterBinary { entry: 1 }));
    assert_eq!(journal_export(b"A=1\n\nB=2\na=3\n"), Err(Error::BadFieldName { entry: 2 }));
    assert_eq!(journal_export(b"A=1"), Err(Error::Truncated { entry: 1 }));
    assert_eq!(journal_export(b"A\n\xff\xff\xff\xff\xff\xff\xff\xff"), Err(Error::Truncated { entry: 1 }));
    assert_eq!(journal_export(b""), Ok(vec![]));
    // Two different hashes in one entry: not an anchor.
    let two = format!("ESCAPES_LINE_HASH={}\nESCAPES_LINE_HASH={}\n", line_hash(b"a"), line_hash(b"b"));
    assert_eq!(journal_export(two.as_bytes()), Ok(vec![]));
}

#[test]
fn the_syslog_parser_skips_what_is_not_ours_and_bad_elements() {
    let h = line_hash(b"x");
    let junk = format!(
            "plain text\n{{not json\n[escapes@32473 line_hash=\"{h}\"\n[escapes@32473 line_hash={h}]\n[escapes@32473 line_hash=\"nope\"]\n{{\"a\":1}}\n\u{0}\u{ff}\n"
        );
    assert_eq!(syslog_file(junk.as_bytes()), vec![]);
    let esc = format!("x [escapes@32473 note=\"a\\\"b\\]c\\\\\" line_hash=\"{h}\"] tail");
    let a = syslog_file(esc.as_bytes());
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].hash, h);
    assert_eq!(a[0].prev, None);
}

#[test]
fn detects_the_export_format() {
    assert!(is_journal_export(b"__CURSOR=s=1\n"));
    assert!(is_journal_export(b"MESSAGE\n\x01\0\0\0\0\0\0\0a\n"));
    assert!(!is_journal_export(b"2026-01-01T00:00:00+00:00 host escapes[1] {}\n"));
    assert!(!is_journal_export(b"<85>1 - - escapes - - [escapes@32473] {}\n"));
    assert!(!is_journal_export(b"Dec  2 03:30:14 vm escapes[4242]: x\n"));
    assert!(!is_journal_export(b""));
}
