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
mod tests;
