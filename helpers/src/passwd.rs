//! `/etc/passwd`, read by the helpers themselves (no NSS, no getpwuid: nothing a library loads
//! on our behalf decides whose home or group we use).

use crate::invocation::decimal_u32;
use crate::trusted;
use std::fmt;
use std::path::Path;

pub const PASSWD: &str = "/etc/passwd";
/// Largest passwd file read.
pub const MAX_PASSWD: u64 = 4 * 1024 * 1024;
/// Longest line considered.
pub const MAX_LINE: usize = 4096;

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub home: Vec<u8>,
}

/// Why a line is not an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    TooLong,
    /// Not exactly seven `:`-separated fields.
    Fields(usize),
    /// Empty, or a NIS `+`/`-` compat entry.
    BadName,
    BadUid,
    BadGid,
    /// The home directory is not an absolute path.
    BadHome,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong => write!(f, "line longer than {MAX_LINE} bytes"),
            LineError::Fields(n) => write!(f, "{n} fields, not 7"),
            LineError::BadName => f.write_str("bad login name"),
            LineError::BadUid => f.write_str("uid is not a decimal number"),
            LineError::BadGid => f.write_str("gid is not a decimal number"),
            LineError::BadHome => f.write_str("home is not an absolute path"),
        }
    }
}

/// Parses one line `name:password:uid:gid:gecos:home:shell` (without its newline).
pub fn parse_line(line: &[u8]) -> Result<Entry, LineError> {
    if line.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    let fields: Vec<&[u8]> = line.split(|&c| c == b':').collect();
    let [name, _pw, uid, gid, _gecos, home, _shell] = fields.as_slice() else {
        return Err(LineError::Fields(fields.len()));
    };
    if name.is_empty() || matches!(name.first(), Some(b'+' | b'-')) {
        return Err(LineError::BadName);
    }
    let uid = decimal_u32(uid).ok_or(LineError::BadUid)?;
    let gid = decimal_u32(gid).ok_or(LineError::BadGid)?;
    if home.first() != Some(&b'/') || home.iter().any(|c| c.is_ascii_control()) {
        return Err(LineError::BadHome);
    }
    Ok(Entry { name: name.to_vec(), uid, gid, home: home.to_vec() })
}

/// The first account with `uid`, as getpwuid(3) would find it; lines that are not accounts
/// (comments, blanks, malformed or NIS compat lines) are skipped, as libc's files backend does.
pub fn by_uid(data: &[u8], uid: u32) -> Option<Entry> {
    data.split(|&c| c == b'\n').filter_map(|l| parse_line(l).ok()).find(|e| e.uid == uid)
}

/// The first account named `name`, as getpwnam(3) would find it in files.
pub fn by_name(data: &[u8], name: &[u8]) -> Option<Entry> {
    data.split(|&c| c == b'\n').filter_map(|l| parse_line(l).ok()).find(|e| e.name == name)
}

/// Reads `/etc/passwd`, which must be root's and not group/world-writable like any file a
/// helper believes.
pub fn load() -> Result<Vec<u8>, trusted::TrustError> {
    trusted::read(Path::new(PASSWD), MAX_PASSWD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_accounts() {
        let e = parse_line(b"ksb:x:1000:100:K S B,,,:/home/ksb:/bin/sh").unwrap();
        assert_eq!(e, Entry { name: b"ksb".to_vec(), uid: 1000, gid: 100, home: b"/home/ksb".to_vec() });
        assert_eq!(parse_line(b"r::0:0:::").unwrap_err(), LineError::BadHome);
        assert_eq!(parse_line(b"r::0:0::/:").unwrap().home, b"/");
    }

    #[test]
    fn refuses_hostile_lines() {
        let cases: &[(&[u8], LineError)] = &[
            (b"", LineError::Fields(1)),
            (b"# comment", LineError::Fields(1)),
            (b"a:x:1:1::/h", LineError::Fields(6)),
            (b"a:x:1:1::/h:/bin/sh:extra", LineError::Fields(8)),
            (b":x:1:1::/h:/bin/sh", LineError::BadName),
            (b"+nis:x:1:1::/h:/bin/sh", LineError::BadName),
            (b"-nis:x:1:1::/h:/bin/sh", LineError::BadName),
            (b"a:x:-1:1::/h:/bin/sh", LineError::BadUid),
            (b"a:x: 1:1::/h:/bin/sh", LineError::BadUid),
            (b"a:x:4294967296:1::/h:/bin/sh", LineError::BadUid),
            (b"a:x:0x10:1::/h:/bin/sh", LineError::BadUid),
            (b"a:x::1::/h:/bin/sh", LineError::BadUid),
            (b"a:x:1:g::/h:/bin/sh", LineError::BadGid),
            (b"a:x:1:1::relative:/bin/sh", LineError::BadHome),
            (b"a:x:1:1::/h\r:/bin/sh", LineError::BadHome),
        ];
        for (line, e) in cases {
            assert_eq!(parse_line(line), Err(*e), "{:?}", String::from_utf8_lossy(line));
        }
        let long = [b"a:x:1:1::/".as_slice(), &[b'h'; MAX_LINE], b":/bin/sh"].concat();
        assert_eq!(parse_line(&long), Err(LineError::TooLong));
    }

    #[test]
    fn by_uid_takes_the_first_well_formed_match() {
        let data = b"root:x:0:0:root:/root:/bin/sh\n\
                     broken:x:1000\n\
                     +:::::: \n\
                     ksb:x:1000:100::/home/ksb:/bin/sh\n\
                     dup:x:1000:1::/home/dup:/bin/sh\n";
        assert_eq!(by_uid(data, 1000).unwrap().home, b"/home/ksb");
        assert_eq!(by_uid(data, 0).unwrap().name, b"root");
        assert_eq!(by_uid(data, 7), None);
        assert_eq!(by_uid(b"", 0), None);
    }
}
