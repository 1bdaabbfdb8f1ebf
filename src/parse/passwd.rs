//! `/etc/passwd` and `/etc/group`, parsed here rather than through NSS: a setuid process must not
//! load modules named by a file the caller may influence, and needs only local accounts.
//!
//! Strict and fail-closed: one malformed line anywhere in a file makes every lookup in it fail,
//! so the answer never depends on which line happens to be broken. Lookups return the first
//! matching entry, as glibc does.
#![deny(unsafe_code)]

use std::collections::BTreeSet;
use std::fmt;

use crate::policy::account::User;

/// One validated `/etc/group` entry (password field is not kept).
#[cfg(any(test, feature = "fuzz"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: Vec<u8>,
    pub gid: u32,
    pub members: Vec<Vec<u8>>,
}

/// What is wrong with a single line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Not exactly 7 (passwd) or 4 (group) colon-separated fields.
    FieldCount,
    /// The name field is empty.
    EmptyName,
    /// The name is longer than 256 bytes, starts with `-`, or has a byte outside `[A-Za-z0-9._-]`
    /// (a single trailing `$` is allowed for machine accounts).
    BadName,
    /// A uid/gid that is empty, not plain decimal digits, or has a leading zero.
    BadId,
    /// A uid/gid that does not fit in 32 bits.
    IdOverflow,
    /// uid/gid 4294967295, which is `(uid_t)-1`, "no change" to the set*id calls.
    ReservedId,
    /// A line starting with `+` or `-` (NIS compat entries are not supported).
    NisCompat,
    /// A control byte (NUL, CR, embedded LF, ...) in the line.
    ControlByte,
    /// The home directory is not an absolute path.
    HomeNotAbsolute,
    /// The shell is not an absolute path.
    ShellNotAbsolute,
    /// A group member list with an empty or invalid member name.
    BadMember,
}

/// Why a parse or lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Line `line` (1-based) of the file is malformed.
    MalformedAt { line: usize, fault: Fault },
    /// The user would have more than 65536 groups (Linux `NGROUPS_MAX`).
    TooManyGroups,
    /// The primary gid passed to `supplementary_groups` is 4294967295.
    ReservedPrimaryGid,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::FieldCount => "wrong number of fields",
            Fault::EmptyName => "empty name",
            Fault::BadName => "name too long, starting with '-' or outside [A-Za-z0-9._-] (optional trailing '$')",
            Fault::BadId => "id is not a canonical decimal number",
            Fault::IdOverflow => "id does not fit in 32 bits",
            Fault::ReservedId => "id 4294967295 is reserved",
            Fault::NisCompat => "NIS compat entry ('+' or '-') not supported",
            Fault::ControlByte => "control byte in line",
            Fault::HomeNotAbsolute => "home directory is not an absolute path",
            Fault::ShellNotAbsolute => "shell is not an absolute path",
            Fault::BadMember => "empty or invalid group member",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MalformedAt { line, fault } => write!(f, "line {line}: {fault}"),
            Error::TooManyGroups => f.write_str("more than 65536 groups"),
            Error::ReservedPrimaryGid => f.write_str("primary gid 4294967295 is reserved"),
        }
    }
}

impl std::error::Error for Error {}

/// Linux `NGROUPS_MAX`: the most groups `setgroups` accepts.
const MAX_GROUPS: usize = 65536;
/// Linux `LOGIN_NAME_MAX`, generous for any real account name.
const MAX_NAME: usize = 256;

/// Accepts one passwd line `name:pw:uid:gid:gecos:home:shell` (optionally ending in `\n`) with a
/// safe name, canonical decimal ids below 4294967295, absolute home and shell, and no control bytes.
/// (The lookups below parse each line the same way; this one is for tests and fuzzing.)
#[cfg(any(test, feature = "fuzz"))]
pub fn parse_passwd_line(line: &[u8]) -> Result<User, Fault> {
    passwd_entry(line).map(|u| u.to_owned())
}

/// Accepts one group line `name:pw:gid:member,member` (optionally ending in `\n`) with a safe
/// name, a canonical decimal gid below 4294967295, safe member names, and no control bytes.
#[cfg(any(test, feature = "fuzz"))]
pub fn parse_group_line(line: &[u8]) -> Result<Group, Fault> {
    let g = group_entry(line)?;
    Ok(Group { name: g.name.to_vec(), gid: g.gid, members: g.members().map(<[u8]>::to_vec).collect() })
}

/// Accepts a passwd file of valid lines, empty lines and `#` comments, and returns the first
/// entry named `name`.
pub fn find_user_by_name(file: &[u8], name: &[u8]) -> Result<Option<User>, Error> {
    find_user(file, |u| u.name == name)
}

/// Accepts a passwd file of valid lines, empty lines and `#` comments, and returns the first
/// entry with uid `uid`.
pub fn find_user_by_uid(file: &[u8], uid: u32) -> Result<Option<User>, Error> {
    find_user(file, |u| u.uid == uid)
}

/// Accepts a group file of valid lines, empty lines and `#` comments, and returns `primary`
/// followed by the gids of the groups listing `user` as a member, in file order, without
/// duplicates, at most 65536 in all.
pub fn supplementary_groups(file: &[u8], user: &[u8], primary: u32) -> Result<Vec<u32>, Error> {
    if primary == u32::MAX {
        return Err(Error::ReservedPrimaryGid);
    }
    let mut gids = vec![primary];
    let mut seen = BTreeSet::from([primary]);
    for (line, text) in entries(file) {
        let group = group_entry(text).map_err(|fault| Error::MalformedAt { line, fault })?;
        if group.members().any(|m| m == user) && seen.insert(group.gid) {
            if gids.len() >= MAX_GROUPS {
                return Err(Error::TooManyGroups);
            }
            gids.push(group.gid);
        }
    }
    Ok(gids)
}

/// Validates every entry of the file, keeping the first that `wanted` picks.
fn find_user(file: &[u8], wanted: impl Fn(&UserRef<'_>) -> bool) -> Result<Option<User>, Error> {
    let mut found = None;
    for (line, text) in entries(file) {
        let user = passwd_entry(text).map_err(|fault| Error::MalformedAt { line, fault })?;
        if found.is_none() && wanted(&user) {
            found = Some(user.to_owned());
        }
    }
    Ok(found)
}

/// The lines of a file that are entries, with their 1-based numbers: empty lines and comments
/// are left out.
fn entries(file: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    file.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, text)| !text.is_empty() && !text.starts_with(b"#"))
        .map(|(i, text)| (i.saturating_add(1), text))
}

/// A checked passwd line, borrowing from the file: every line is checked on every lookup, but
/// only the one that matches is copied.
struct UserRef<'a> {
    name: &'a [u8],
    uid: u32,
    gid: u32,
    home: &'a [u8],
    shell: &'a [u8],
}

impl UserRef<'_> {
    fn to_owned(&self) -> User {
        User {
            name: self.name.to_vec(),
            uid: self.uid,
            gid: self.gid,
            home: self.home.to_vec(),
            shell: self.shell.to_vec(),
        }
    }
}

fn passwd_entry(line: &[u8]) -> Result<UserRef<'_>, Fault> {
    let [name, _pw, uid, gid, _gecos, home, shell] = fields::<7>(line)?;
    Ok(UserRef {
        name: account_name(name)?,
        uid: id(uid)?,
        gid: id(gid)?,
        home: absolute(home).ok_or(Fault::HomeNotAbsolute)?,
        shell: absolute(shell).ok_or(Fault::ShellNotAbsolute)?,
    })
}

/// A checked group line, borrowing from the file; each member in `members` has been checked.
struct GroupRef<'a> {
    #[cfg_attr(not(any(test, feature = "fuzz")), allow(dead_code))] // checked; kept for parse_group_line
    name: &'a [u8],
    gid: u32,
    members: &'a [u8],
}

impl GroupRef<'_> {
    fn members(&self) -> impl Iterator<Item = &[u8]> {
        self.members.split(|b| *b == b',').filter(|_| !self.members.is_empty())
    }
}

fn group_entry(line: &[u8]) -> Result<GroupRef<'_>, Fault> {
    let [name, _pw, gid, members] = fields::<4>(line)?;
    let group = GroupRef { name: account_name(name)?, gid: id(gid)?, members };
    for m in group.members() {
        account_name(m).map_err(|_| Fault::BadMember)?;
    }
    Ok(group)
}

/// Splits a line into exactly `N` colon-separated fields after the line-level checks.
fn fields<const N: usize>(line: &[u8]) -> Result<[&[u8]; N], Fault> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    if line.starts_with(b"+") || line.starts_with(b"-") {
        return Err(Fault::NisCompat);
    }
    if line.iter().any(|b| b.is_ascii_control()) {
        return Err(Fault::ControlByte);
    }
    let mut out: [&[u8]; N] = [&[]; N];
    let mut parts = line.split(|b| *b == b':');
    for slot in out.iter_mut() {
        *slot = parts.next().ok_or(Fault::FieldCount)?;
    }
    match parts.next() {
        Some(_) => Err(Fault::FieldCount),
        None => Ok(out),
    }
}

fn account_name(name: &[u8]) -> Result<&[u8], Fault> {
    if name.is_empty() {
        return Err(Fault::EmptyName);
    }
    let body = name.strip_suffix(b"$").unwrap_or(name);
    let safe = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    if name.len() > MAX_NAME || body.is_empty() || body.starts_with(b"-") || !body.iter().all(safe) {
        return Err(Fault::BadName);
    }
    Ok(name)
}

/// A uid/gid: canonical decimal (no sign, no leading zero), below `(u32)-1`.
fn id(field: &[u8]) -> Result<u32, Fault> {
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) || (field.len() > 1 && field.starts_with(b"0")) {
        return Err(Fault::BadId);
    }
    let mut value: u32 = 0;
    for byte in field {
        let digit = char::from(*byte).to_digit(10).ok_or(Fault::BadId)?;
        value = value.checked_mul(10).and_then(|v| v.checked_add(digit)).ok_or(Fault::IdOverflow)?;
    }
    if value == u32::MAX {
        return Err(Fault::ReservedId);
    }
    Ok(value)
}

fn absolute(path: &[u8]) -> Option<&[u8]> {
    path.starts_with(b"/").then_some(path)
}

#[cfg(test)]
mod tests {
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
        assert_eq!(
            parse_passwd_line(b"a:x:1:1::/home/a:/bin/sh\nb:x:2:2::/:/bin/sh"),
            Err(malformed(Fault::ControlByte))
        );
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
        assert_eq!(
            supplementary_groups(file, b"alice", 1),
            Err(Error::MalformedAt { line: 2, fault: Fault::FieldCount })
        );
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
}
