//! `/etc/group`, read by the helpers themselves (no NSS, as for `/etc/passwd`): stampctl's
//! `-g group`.

use crate::invocation::decimal_u32;
use crate::trusted;
use std::path::Path;

pub const GROUP: &str = "/etc/group";
/// Largest group file read.
pub const MAX_GROUP: u64 = 4 * 1024 * 1024;

/// One group: its name and gid (members are not needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: Vec<u8>,
    pub gid: u32,
}

/// Why a line is not a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    TooLong,
    /// Not exactly four `:`-separated fields.
    Fields(usize),
    /// Empty, or a NIS `+`/`-` compat entry.
    BadName,
    BadGid,
}

/// Parses one line `name:password:gid:members` (without its newline).
pub fn parse_line(line: &[u8]) -> Result<Group, LineError> {
    if line.len() > crate::passwd::MAX_LINE {
        return Err(LineError::TooLong);
    }
    let fields: Vec<&[u8]> = line.split(|&c| c == b':').collect();
    let [name, _pw, gid, _members] = fields.as_slice() else {
        return Err(LineError::Fields(fields.len()));
    };
    if name.is_empty() || matches!(name.first(), Some(b'+' | b'-')) {
        return Err(LineError::BadName);
    }
    let gid = decimal_u32(gid).ok_or(LineError::BadGid)?;
    Ok(Group { name: name.to_vec(), gid })
}

/// The first group named `name`, as getgrnam(3) would find it in files; lines that are not
/// groups are skipped.
pub fn by_name(data: &[u8], name: &[u8]) -> Option<Group> {
    data.split(|&c| c == b'\n').filter_map(|l| parse_line(l).ok()).find(|g| g.name == name)
}

/// Reads `/etc/group`, which must pass the file-trust rule like any file a helper believes.
pub fn load() -> Result<Vec<u8>, trusted::TrustError> {
    trusted::read(Path::new(GROUP), MAX_GROUP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_and_finds_the_first_by_name() {
        assert_eq!(parse_line(b"wheel:x:10:ksb,root"), Ok(Group { name: b"wheel".to_vec(), gid: 10 }));
        assert_eq!(parse_line(b"nogroup:x:65534:"), Ok(Group { name: b"nogroup".to_vec(), gid: 65534 }));
        let data = b"# c\n+nis\nwheel:x:10:\nbad:x:zz:\nwheel:x:11:\nops:x:20:a\n";
        assert_eq!(by_name(data, b"wheel").map(|g| g.gid), Some(10));
        assert_eq!(by_name(data, b"ops").map(|g| g.gid), Some(20));
        assert_eq!(by_name(data, b"bad"), None);
        assert_eq!(by_name(data, b"+nis"), None);
        assert_eq!(by_name(data, b"nobody"), None);
    }

    #[test]
    fn refuses_malformed_lines() {
        assert_eq!(parse_line(b"wheel:x:10"), Err(LineError::Fields(3)));
        assert_eq!(parse_line(b"wheel:x:10:a:b"), Err(LineError::Fields(5)));
        assert_eq!(parse_line(b":x:10:"), Err(LineError::BadName));
        assert_eq!(parse_line(b"-x:x:10:"), Err(LineError::BadName));
        assert_eq!(parse_line(b"w:x:-1:"), Err(LineError::BadGid));
        assert_eq!(parse_line(b"w:x:4294967296:"), Err(LineError::BadGid));
        assert_eq!(parse_line(&[b'a'; 5000]), Err(LineError::TooLong));
    }
}
