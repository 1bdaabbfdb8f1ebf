use super::*;

fn malformed(fault: Fault) -> Fault {
    fault
}

const PASSWD: &[u8] = b"# comment\n\
root:x:0:0:root:/root:/bin/bash\n\
\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
alice:x:1000:1000:Alice,,,:/home/alice:/bin/sh\n\
toor:x:0:0:second root:/root:/bin/sh\n\
alice:x:2000:2000:dup:/home/alice2:/bin/sh\n";

const GROUP: &[u8] = b"root:x:0:\n\
# comment\n\
wheel:x:10:alice,bob\n\
users:x:100:bob\n\
\n\
docker:x:999:carol,alice\n\
again:x:10:alice\n\
staff:x:50:alice,alice\n";

// --- passwd lines ---

#[test]
fn parses_a_well_formed_passwd_line() {
    let u = parse_passwd_line(b"alice:x:1000:100:Alice A.:/home/alice:/bin/bash\n").unwrap();
    assert_eq!(
        u,
        User {
            name: b"alice".to_vec(),
            uid: 1000,
            gid: 100,
            home: b"/home/alice".to_vec(),
            shell: b"/bin/bash".to_vec(),
        }
    );
}

#[test]
fn accepts_machine_account_with_trailing_dollar() {
    assert_eq!(parse_passwd_line(b"host01$:x:5000:5000::/var/empty:/sbin/nologin").unwrap().name, b"host01$");
}

#[test]
fn accepts_largest_uid_below_minus_one() {
    assert_eq!(parse_passwd_line(b"a:x:4294967294:0::/:/bin/sh").unwrap().uid, 4294967294);
}

#[test]
fn refuses_passwd_line_with_missing_fields() {
    assert_eq!(parse_passwd_line(b"alice:x:1000:1000:/home/alice:/bin/sh"), Err(malformed(Fault::FieldCount)));
    assert_eq!(parse_passwd_line(b"alice"), Err(malformed(Fault::FieldCount)));
}

#[test]
fn refuses_empty_passwd_line() {
    assert_eq!(parse_passwd_line(b""), Err(malformed(Fault::FieldCount)));
    assert_eq!(parse_passwd_line(b"\n"), Err(malformed(Fault::FieldCount)));
}

#[test]
fn refuses_passwd_line_with_extra_fields() {
    assert_eq!(parse_passwd_line(b"alice:x:1000:1000::/home/alice:/bin/sh:"), Err(malformed(Fault::FieldCount)));
}

#[test]
fn refuses_uid_overflow() {
    assert_eq!(parse_passwd_line(b"a:x:4294967296:0::/:/bin/sh"), Err(malformed(Fault::IdOverflow)));
    assert_eq!(parse_passwd_line(b"a:x:99999999999999999999999:0::/:/bin/sh"), Err(malformed(Fault::IdOverflow)));
}

#[test]
fn refuses_uid_minus_one() {
    assert_eq!(parse_passwd_line(b"a:x:4294967295:0::/:/bin/sh"), Err(malformed(Fault::ReservedId)));
    assert_eq!(parse_passwd_line(b"a:x:0:4294967295::/:/bin/sh"), Err(malformed(Fault::ReservedId)));
}

#[test]
fn refuses_negative_or_signed_uid() {
    assert_eq!(parse_passwd_line(b"a:x:-1:0::/:/bin/sh"), Err(malformed(Fault::BadId)));
    assert_eq!(parse_passwd_line(b"a:x:+0:0::/:/bin/sh"), Err(malformed(Fault::BadId)));
}

#[test]
fn refuses_non_canonical_uid() {
    for uid in [&b"00"[..], b"01", b" 1", b"1 ", b"0x10", b"", b"\xd9\xa1"] {
        let mut line = b"a:x:".to_vec();
        line.extend_from_slice(uid);
        line.extend_from_slice(b":0::/:/bin/sh");
        assert!(parse_passwd_line(&line).is_err(), "{line:?}");
    }
}

#[test]
fn refuses_nul_bytes() {
    assert_eq!(parse_passwd_line(b"root\0:x:0:0::/root:/bin/sh"), Err(malformed(Fault::ControlByte)));
    assert_eq!(parse_passwd_line(b"a:x:1:1::/home/a\0/evil:/bin/sh"), Err(malformed(Fault::ControlByte)));
}

#[test]
fn refuses_carriage_return() {
    assert_eq!(parse_passwd_line(b"a:x:1:1::/home/a:/bin/sh\r\n"), Err(malformed(Fault::ControlByte)));
}

#[test]
fn refuses_embedded_newline() {
    assert_eq!(parse_passwd_line(b"a:x:1:1::/home/a:/bin/sh\nb:x:2:2::/:/bin/sh"), Err(malformed(Fault::ControlByte)));
}

#[test]
fn refuses_nis_compat_lines() {
    assert_eq!(parse_passwd_line(b"+::::::"), Err(malformed(Fault::NisCompat)));
    assert_eq!(parse_passwd_line(b"+alice::::::"), Err(malformed(Fault::NisCompat)));
    assert_eq!(parse_passwd_line(b"-bob::::::"), Err(malformed(Fault::NisCompat)));
    assert_eq!(parse_group_line(b"+:::"), Err(malformed(Fault::NisCompat)));
}

#[test]
fn refuses_empty_name() {
    assert_eq!(parse_passwd_line(b":x:0:0::/root:/bin/sh"), Err(malformed(Fault::EmptyName)));
}

#[test]
fn refuses_unsafe_name_bytes() {
    for name in [&b"ro ot"[..], b"a/b", b"$", b"a$b", b"a$$", b"caf\xc3\xa9", b"a*", b"a,b"] {
        let mut line = name.to_vec();
        line.extend_from_slice(b":x:1:1::/:/bin/sh");
        assert_eq!(parse_passwd_line(&line), Err(malformed(Fault::BadName)), "{line:?}");
    }
}

#[test]
fn refuses_overlong_name() {
    let mut line = vec![b'a'; 257];
    line.extend_from_slice(b":x:1:1::/:/bin/sh");
    assert_eq!(parse_passwd_line(&line), Err(malformed(Fault::BadName)));
}

#[test]
fn refuses_relative_or_empty_home() {
    assert_eq!(parse_passwd_line(b"a:x:1:1::home/a:/bin/sh"), Err(malformed(Fault::HomeNotAbsolute)));
    assert_eq!(parse_passwd_line(b"a:x:1:1:::/bin/sh"), Err(malformed(Fault::HomeNotAbsolute)));
}

#[test]
fn refuses_relative_or_empty_shell() {
    assert_eq!(parse_passwd_line(b"a:x:1:1::/home/a:sh"), Err(malformed(Fault::ShellNotAbsolute)));
    assert_eq!(parse_passwd_line(b"a:x:1:1::/home/a:"), Err(malformed(Fault::ShellNotAbsolute)));
}

// --- group lines ---

#[test]
fn parses_a_well_formed_group_line() {
    let g = parse_group_line(b"wheel:x:10:alice,bob\n").unwrap();
    assert_eq!(g, Group { name: b"wheel".to_vec(), gid: 10, members: vec![b"alice".to_vec(), b"bob".to_vec()] });
}

#[test]
fn parses_group_without_members() {
    assert_eq!(parse_group_line(b"nogroup:x:65534:").unwrap().members, Vec::<Vec<u8>>::new());
}

#[test]
fn refuses_group_line_with_missing_or_extra_fields() {
    assert_eq!(parse_group_line(b"wheel:x:10"), Err(malformed(Fault::FieldCount)));
    assert_eq!(parse_group_line(b"wheel:x:10:a:b"), Err(malformed(Fault::FieldCount)));
}

#[test]
fn refuses_empty_or_invalid_member() {
    for members in [&b"alice,"[..], b",alice", b"a,,b", b"a b", b"-alice", b"a\0"] {
        let mut line = b"g:x:1:".to_vec();
        line.extend_from_slice(members);
        assert!(parse_group_line(&line).is_err(), "{line:?}");
    }
    assert_eq!(parse_group_line(b"g:x:1:alice,"), Err(malformed(Fault::BadMember)));
}

#[test]
fn refuses_gid_minus_one_and_overflow() {
    assert_eq!(parse_group_line(b"g:x:4294967295:"), Err(malformed(Fault::ReservedId)));
    assert_eq!(parse_group_line(b"g:x:4294967296:"), Err(malformed(Fault::IdOverflow)));
    assert_eq!(parse_group_line(b"g:x:-1:"), Err(malformed(Fault::BadId)));
}

#[test]
fn parses_huge_member_list() {
    let mut line = b"big:x:7:".to_vec();
    for i in 0..100_000 {
        if i > 0 {
            line.push(b',');
        }
        line.extend_from_slice(format!("u{i}").as_bytes());
    }
    assert_eq!(parse_group_line(&line).unwrap().members.len(), 100_000);
}

// --- lookups ---

#[test]
fn finds_user_by_name_skipping_comments_and_blank_lines() {
    let u = find_user_by_name(PASSWD, b"daemon").unwrap().unwrap();
    assert_eq!((u.uid, u.gid, u.home.as_slice()), (1, 1, &b"/usr/sbin"[..]));
}

#[test]
fn duplicate_name_first_match_wins() {
    assert_eq!(find_user_by_name(PASSWD, b"alice").unwrap().unwrap().uid, 1000);
}

#[test]
fn duplicate_uid_first_match_wins() {
    assert_eq!(find_user_by_uid(PASSWD, 0).unwrap().unwrap().name, b"root");
}

#[test]
fn unknown_user_is_none() {
    assert_eq!(find_user_by_name(PASSWD, b"mallory"), Ok(None));
    assert_eq!(find_user_by_uid(PASSWD, 4242), Ok(None));
    assert_eq!(find_user_by_name(b"", b"root"), Ok(None));
}

#[test]
fn name_lookup_is_exact() {
    assert_eq!(find_user_by_name(PASSWD, b"roo"), Ok(None));
    assert_eq!(find_user_by_name(PASSWD, b"ROOT"), Ok(None));
    assert_eq!(find_user_by_name(PASSWD, b""), Ok(None));
}

#[test]
fn file_without_final_newline_is_accepted() {
    assert_eq!(find_user_by_uid(b"root:x:0:0::/root:/bin/sh", 0).unwrap().unwrap().name, b"root");
}

#[test]
fn malformed_line_after_match_fails_lookup() {
    let file = b"root:x:0:0::/root:/bin/sh\nbroken\n";
    assert_eq!(find_user_by_name(file, b"root"), Err(Error::MalformedAt { line: 2, fault: Fault::FieldCount }));
    assert_eq!(find_user_by_uid(file, 0), Err(Error::MalformedAt { line: 2, fault: Fault::FieldCount }));
}

#[test]
fn nis_compat_line_fails_lookup() {
    let file = b"root:x:0:0::/root:/bin/sh\n+::::::\n";
    assert_eq!(find_user_by_name(file, b"root"), Err(Error::MalformedAt { line: 2, fault: Fault::NisCompat }));
}

#[test]
fn crlf_file_fails_lookup() {
    let file = b"root:x:0:0::/root:/bin/sh\r\n";
    assert_eq!(find_user_by_uid(file, 0), Err(Error::MalformedAt { line: 1, fault: Fault::ControlByte }));
}

#[test]
fn whitespace_only_line_is_malformed() {
    let file = b"root:x:0:0::/root:/bin/sh\n \n";
    assert_eq!(find_user_by_uid(file, 0), Err(Error::MalformedAt { line: 2, fault: Fault::FieldCount }));
}

#[test]
fn supplementary_groups_lists_primary_first_then_memberships_in_file_order() {
    assert_eq!(supplementary_groups(GROUP, b"alice", 1000), Ok(vec![1000, 10, 999, 50]));
    assert_eq!(supplementary_groups(GROUP, b"bob", 100), Ok(vec![100, 10]));
}

#[test]
fn supplementary_groups_without_memberships_is_primary_only() {
    assert_eq!(supplementary_groups(GROUP, b"mallory", 5), Ok(vec![5]));
    assert_eq!(supplementary_groups(b"", b"root", 0), Ok(vec![0]));
}

#[test]
fn supplementary_groups_does_not_match_group_name_or_prefix() {
    assert_eq!(supplementary_groups(GROUP, b"wheel", 1), Ok(vec![1]));
    assert_eq!(supplementary_groups(GROUP, b"ali", 1), Ok(vec![1]));
}

#[test]
fn supplementary_groups_fails_on_malformed_line() {
    let file = b"wheel:x:10:alice\nbad:x:10\n";
    assert_eq!(supplementary_groups(file, b"alice", 1), Err(Error::MalformedAt { line: 2, fault: Fault::FieldCount }));
}

#[test]
fn supplementary_groups_refuses_primary_minus_one() {
    assert_eq!(supplementary_groups(GROUP, b"alice", u32::MAX), Err(Error::ReservedPrimaryGid));
}

#[test]
fn supplementary_groups_caps_at_65536() {
    let mut file = Vec::new();
    for gid in 1..=65535u32 {
        file.extend_from_slice(format!("g{gid}:x:{gid}:u\n").as_bytes());
    }
    assert_eq!(supplementary_groups(&file, b"u", 0).map(|g| g.len()), Ok(65536));
    file.extend_from_slice(b"one-more:x:70000:u\n");
    assert_eq!(supplementary_groups(&file, b"u", 0), Err(Error::TooManyGroups));
}

#[test]
fn errors_display_line_numbers() {
    let e = Error::MalformedAt { line: 3, fault: Fault::ReservedId };
    assert_eq!(e.to_string(), "line 3: id 4294967295 is reserved");
}
