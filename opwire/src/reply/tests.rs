//! The reply language as a specification: what escapes reads, what coat relays, what the
//! helpers write, and that what is written reads back exactly.

use super::parse::{line, parse, ErrorKind, Line, Redirects};
use super::relay::parse_relayed;
use super::write::{WriteError, Writer};
use super::{is_name, Edit, Reply, MAX_REPLY};

fn ok(s: &str) -> Reply {
    parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn kind(s: &str) -> (usize, ErrorKind) {
    let e = parse(s.as_bytes()).expect_err(s);
    (e.line, e.kind)
}

fn set(n: &str, v: &str) -> Edit {
    Edit::Set { name: n.into(), value: v.into() }
}

fn relayed(s: &[u8]) -> Result<Line, ErrorKind> {
    line(s, Redirects::Relay)
}

// ---------------------------------------------------------------- reading (escapes' reader)

#[test]
fn an_empty_reply_allows_with_no_edits() {
    assert_eq!(ok(""), Reply::default());
    assert_eq!(ok("\n\n   \n").code, 0);
}

#[test]
fn reads_the_documented_helmet_reply() {
    let r = ok("-TIMEBOX_INSIDE\n-TIMEBOX_WARN\n0\n");
    assert_eq!(
        r.edits,
        vec![Edit::Remove { name: "TIMEBOX_INSIDE".into() }, Edit::Remove { name: "TIMEBOX_WARN".into() }]
    );
    assert_eq!((r.code, r.explicit), (0, true));
}

#[test]
fn the_last_code_wins() {
    assert_eq!(ok("77\n0\n").code, 0);
    assert_eq!(ok("0\n77").code, 77);
    assert_eq!(ok("255").code, 255);
}

#[test]
fn sets_copies_removes_and_reveals() {
    let r = ok("# c\n  $TERM=vt100 \n$LANG\n-X=ignored\n~hide_\n");
    assert_eq!(
        r.edits,
        vec![
            set("TERM", "vt100 "),
            Edit::Copy { name: "LANG".into() },
            Edit::Remove { name: "X".into() },
            Edit::Reveal { prefix: "hide_".into() }
        ]
    );
}

#[test]
fn values_keep_everything_after_the_first_equals_sign() {
    assert_eq!(ok("$A=b=c  d").edits, vec![set("A", "b=c  d")]);
    assert_eq!(ok("$A=").edits, vec![set("A", "")]);
}

#[test]
fn strips_one_carriage_return_and_trailing_blanks_after_codes() {
    assert_eq!(ok("77\r\n").code, 77);
    assert_eq!(ok("0 \t\n").code, 0);
    assert_eq!(ok("-NAME \r\n").edits, vec![Edit::Remove { name: "NAME".into() }]);
}

#[test]
fn a_vertical_tab_is_not_a_blank() {
    assert_eq!(kind("\x0b0").1, ErrorKind::Junk);
    assert_eq!(kind("0\x0b").1, ErrorKind::BadCode);
}

#[test]
fn a_protocol_error_is_sticky_even_when_a_zero_follows() {
    assert_eq!(kind("junk\n0\n"), (1, ErrorKind::Junk));
    assert_eq!(kind("0\n77 please\n0\n"), (2, ErrorKind::BadCode));
    assert_eq!(parse_relayed(b"junk\n0\n").unwrap_err().line, 1);
    assert_eq!(parse_relayed(b"77\n0\n").unwrap().code, Some(0));
    assert_eq!(parse_relayed(b"").unwrap().code, None);
    assert_eq!(parse_relayed(b"\n\n# c\n").unwrap().code, None);
}

#[test]
fn codes_are_decimal_from_0_to_255_only() {
    for bad in ["256", "4294967296", "010", "00", "0x4d", "1e2", "77a", "9999"] {
        assert_eq!(kind(bad).1, ErrorKind::BadCode, "{bad}");
    }
    assert_eq!(kind("+1").1, ErrorKind::Junk);
    assert_eq!(kind("-1").1, ErrorKind::BadName);
    assert_eq!(relayed(b"77"), Ok(Line::Code(77)));
    assert_eq!(relayed(b"0\r"), Ok(Line::Code(0)));
    assert_eq!(relayed(b"  255"), Ok(Line::Code(255)));
}

#[test]
fn names_follow_the_identifier_rule() {
    assert!(is_name(b"TIMEBOX_INSIDE"));
    assert!(is_name(b"_x1"));
    assert!(!is_name(b""));
    assert!(!is_name(b"1X"));
    assert!(!is_name(b"A B"));
    assert!(!is_name(b"A\n0"));
    assert!(!is_name(b"A="));
}

#[test]
fn names_are_validated() {
    for bad in ["$=x", "$1A=x", "$A B=x", "$", "-", "-a-b", "$A-B", "~", "~a-b", "~1x", "$A\x00"] {
        assert_eq!(kind(bad).1, ErrorKind::BadName, "{bad:?}");
    }
}

#[test]
fn refuses_redirections_and_unknown_lines() {
    assert_eq!(kind("&0/etc/motd").1, ErrorKind::Redirect);
    assert_eq!(kind("&3").1, ErrorKind::Redirect);
    assert_eq!(kind("Sorry, not now").1, ErrorKind::Junk);
    assert_eq!(kind("0\n\x00").1, ErrorKind::Junk);
}

#[test]
fn refuses_nul_in_values() {
    assert_eq!(kind("$A=x\x00y").1, ErrorKind::Nul);
}

#[test]
fn reads_quoted_lines_with_their_escapes() {
    let r = ok("\"$MSG=say \\dhi\\d\\tnow\\n\\q\\o\\\\\"\n\"77\"");
    assert_eq!(r.edits, vec![set("MSG", "say \"hi\"\tnow\n'`\\")]);
    assert_eq!(r.code, 77);
    assert_eq!(ok("\"\"").edits, vec![]);
}

#[test]
fn refuses_malformed_quoted_lines() {
    assert_eq!(kind("\"77").1, ErrorKind::UnterminatedQuote);
    assert_eq!(kind("\"77\\").1, ErrorKind::UnterminatedQuote);
    assert_eq!(kind("\"77\" ").1, ErrorKind::TextAfterQuote);
    assert_eq!(kind("\"\\101\"").1, ErrorKind::BadEscape(b'1'));
    assert_eq!(kind("\"\\x\"").1, ErrorKind::BadEscape(b'x'));
    assert_eq!(kind("\"\"77\"\"").1, ErrorKind::TextAfterQuote);
}

#[test]
fn a_quoted_line_cannot_nest_another_quote() {
    assert_eq!(kind("\"\\d77\\d\"").1, ErrorKind::Junk);
}

#[test]
fn a_newline_in_a_quoted_line_stands_only_in_a_value() {
    assert_eq!(ok("\"$A=one\\ntwo\\d\"").edits, vec![set("A", "one\ntwo\"")]);
    assert_eq!(kind("\"-A\\n0\"").1, ErrorKind::BadName);
    assert_eq!(kind("\"# c\\n0\"").1, ErrorKind::Newline);
}

#[test]
fn refuses_replies_over_the_cap() {
    let big = "#".repeat(MAX_REPLY + 1);
    assert_eq!(kind(&big), (0, ErrorKind::TooLarge));
    let mut fits = "#".repeat(MAX_REPLY - 2);
    fits.push_str("\n0");
    assert_eq!(ok(&fits).code, 0);
    assert_eq!(parse_relayed(big.as_bytes()).unwrap_err().kind, ErrorKind::TooLarge);
}

#[test]
fn never_panics_on_any_prefix_of_a_mixed_reply() {
    let full = "# hi\n$A=b\n\"$Q=\\d\\n\"\n-A\n~p_\n&1>/x\n\r\n 77\n0";
    for i in 0..=full.len() {
        let _ = parse(&full.as_bytes()[..i]);
        let _ = parse_relayed(&full.as_bytes()[..i]);
    }
}

// ---------------------------------------------------------------- relaying (coat's reader)

#[test]
fn a_value_ending_in_cr_is_relayed_with_its_cr() {
    // Found by the reply_relay fuzz target: "$A=1\r\r" means A = "1\r"; relayed as "$A=1\r"
    // it would read back as A = "1".
    for input in [&b"$A=1\r\r\n"[..], b"$A=1\r\r", b"\r\r$A=1\r\r\r\n"] {
        let r = parse_relayed(input).unwrap();
        for (text, meaning) in &r.lines {
            assert_eq!(line(text, Redirects::Relay).as_ref(), Ok(meaning), "{input:?}");
        }
    }
}

#[test]
fn coat_relays_redirections_with_their_text_and_in_order() {
    let r = parse_relayed(b"  $A=1\r\n&1>/tmp/x\n# c\n-B\n\"$C=\\n\"\n0\n").unwrap();
    let texts: Vec<&[u8]> = r.lines.iter().map(|(t, _)| t.as_slice()).collect();
    assert_eq!(texts, [&b"$A=1"[..], b"&1>/tmp/x", b"-B", b"\"$C=\\n\""]);
    assert_eq!(r.lines[1].1, Line::Redirect);
    assert_eq!(r.lines[3].1, Line::Edit(set("C", "\n")));
    assert_eq!(r.code, Some(0));
    assert_eq!(relayed(b"&x"), Err(ErrorKind::BadRedirect));
    assert_eq!(relayed(b"&"), Err(ErrorKind::BadRedirect));
    assert_eq!(relayed(b"hello"), Err(ErrorKind::Junk));
}

// ---------------------------------------------------------------- writing (the helpers)

#[test]
fn writes_deletions_reveal_and_code() {
    let mut r = Writer::new();
    r.delete(b"TIMEBOX_INSIDE").unwrap();
    r.reveal(b"J_").unwrap();
    r.code(0);
    assert_eq!(r.bytes(), b"-TIMEBOX_INSIDE\n~J_\n0\n");
}

#[test]
fn writer_refuses_injection() {
    let mut r = Writer::new();
    assert_eq!(r.delete(b"A\n0"), Err(WriteError::BadName));
    assert_eq!(r.relay(b"$A=1\n0"), Err(WriteError::Newline));
    assert_eq!(r.reveal(b""), Err(WriteError::BadName));
    assert!(r.bytes().is_empty());
}

#[test]
fn set_writes_plain_lines_and_quotes_only_what_needs_it() {
    let mut r = Writer::new();
    r.set(b"MyARCH", b"x86_64").unwrap();
    r.set(b"A", b" spaced\tand \"quoted\" \\ ").unwrap();
    r.set(b"B", b"one\ntwo\r").unwrap();
    r.set(b"C", b"").unwrap();
    assert_eq!(r.bytes(), b"$MyARCH=x86_64\n$A= spaced\tand \"quoted\" \\ \n\"$B=one\\ntwo\\r\"\n$C=\n");
}

#[test]
fn set_values_read_back_exactly() {
    let values: &[&[u8]] = &[
        b"",
        b"x",
        b"a\nb",
        b"\n",
        b"\"",
        b"\"\n\"",
        b"\\n",
        b"x\r",
        b"\r\n",
        b" # 0",
        b"$B=1\n0",
        b"\x07\x08\x0b\x0c\x1b\t",
        "caf\u{e9}".as_bytes(),
        b"\xff\xfe",
    ];
    for v in values {
        let mut r = Writer::new();
        r.set(b"V", v).unwrap();
        for reply in [parse(r.bytes()).unwrap(), {
            let p = parse_relayed(r.bytes()).unwrap();
            assert_eq!(p.code, None);
            Reply {
                edits: p
                    .lines
                    .into_iter()
                    .map(|(_, l)| match l {
                        Line::Edit(e) => e,
                        other => panic!("{other:?}"),
                    })
                    .collect(),
                ..Reply::default()
            }
        }] {
            assert_eq!(reply.edits, vec![Edit::Set { name: b"V".to_vec(), value: v.to_vec() }], "{v:?}");
            assert!(!reply.explicit);
        }
    }
}

#[test]
fn set_refuses_bad_names_and_unrepresentable_bytes() {
    let mut r = Writer::new();
    assert_eq!(r.set(b"1X", b"v"), Err(WriteError::BadName));
    assert_eq!(r.set(b"X\n0", b"v"), Err(WriteError::BadName));
    assert_eq!(r.set(b"X", b"a\0b"), Err(WriteError::Unrepresentable(0)));
    assert_eq!(r.set(b"X", b"a\nb\x01"), Err(WriteError::Unrepresentable(1)));
    assert_eq!(r.set(b"X", b"\x7f"), Err(WriteError::Unrepresentable(0x7f)));
    assert!(r.bytes().is_empty());
}
