//! The stamp socket protocol: request lines from a client, one reply line for each.
//!
//! Every line ends in `\n`; no `\r`, no NUL, no other control bytes (a value may hold a tab).
//! Requests (at most `MAX_REQUEST` bytes with the newline):
//!
//! | request | meaning | reply |
//! |---|---|---|
//! | `Q NAME` | the tableau entry NAME | `+value` or `-` (absent) |
//! | `S` | the status; last, after the checks | `y` (allow: counts one use and resets the idle timer), `p` (penalty), `n` (ended) |
//! | `R UID` | reset the idle timer | `ok IDLE` (idle timeout in seconds, 0 = none), `p`, `denied` |
//! | `N UID` | penalty mode from now on | `ok IDLE`, `denied` |
//! | `k UID` | end the stamp, unless in penalty mode | `ok IDLE`, `p`, `denied` |
//! | `K UID` | end the stamp, penalty or not | `ok IDLE`, `denied` |
//!
//! A request that does not parse gets `?` and the connection is closed. `UID` is the decimal
//! uid the client acts for; the holder believes it only from a peer whose SO_PEERCRED uid is 0
//! (stampctl run by op or escapes), and uses the peer's own uid otherwise. No request names a
//! stamp: a holder answers for its own stamp only. Replies are at most `MAX_REPLY` bytes.

use opwire::reply::is_name;
use std::fmt;

/// Longest request line, newline included.
pub const MAX_REQUEST: usize = 128;
/// Longest tableau value.
pub const MAX_VALUE: usize = 1024;
/// Longest reply line, newline included.
pub const MAX_REPLY: usize = MAX_VALUE + 2;
/// Longest entry name on the wire (as in specs).
pub const MAX_NAME: usize = super::spec::MAX_NAME;

/// A client's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Query(Vec<u8>),
    Status,
    Refresh(u32),
    Penalty(u32),
    End(u32),
    EndPenalty(u32),
}

/// A holder's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Value(Vec<u8>),
    Absent,
    Yes,
    Penalty,
    No,
    Ok { idle_secs: u64 },
    Denied,
    BadRequest,
}

/// Why a line is not part of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// No newline within the cap.
    TooLong,
    Empty,
    Unknown,
    BadName,
    BadUid,
    BadValue,
    BadNumber,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::TooLong => "line too long",
            WireError::Empty => "empty line",
            WireError::Unknown => "unknown request or reply",
            WireError::BadName => "bad entry name",
            WireError::BadUid => "bad uid",
            WireError::BadValue => "value with control bytes or too long",
            WireError::BadNumber => "bad number",
        })
    }
}

/// True for a byte a value may hold: anything but control bytes (tab allowed) and DEL.
pub fn value_byte_ok(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// A tableau value that can travel in one reply line and one `$NAME=value` helmet line.
pub fn is_value(v: &[u8]) -> bool {
    v.len() <= MAX_VALUE && v.iter().all(|&b| value_byte_ok(b))
}

/// The first complete line in `buf`: `Ok(Some((line, consumed)))` with the line without its
/// newline; `Ok(None)` if more bytes are needed; `TooLong` once `cap` bytes hold no newline.
pub fn next_line(buf: &[u8], cap: usize) -> Result<Option<(&[u8], usize)>, WireError> {
    let window = buf.get(..cap.min(buf.len())).unwrap_or_default();
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => Ok(Some((buf.get(..i).unwrap_or_default(), i + 1))),
        None if buf.len() >= cap => Err(WireError::TooLong),
        None => Ok(None),
    }
}

/// A decimal u32 in canonical form (no sign, no leading zero).
fn canonical_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || (s.len() > 1 && s.first() == Some(&b'0')) {
        return None;
    }
    crate::invocation::decimal_u32(s)
}

fn canonical_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || (s.len() > 1 && s.first() == Some(&b'0')) || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0')))
}

/// Parses one request line (without its newline).
pub fn parse_request(line: &[u8]) -> Result<Request, WireError> {
    if line.len() >= MAX_REQUEST {
        return Err(WireError::TooLong);
    }
    let Some((&verb, rest)) = line.split_first() else {
        return Err(WireError::Empty);
    };
    if verb == b'S' {
        return if rest.is_empty() { Ok(Request::Status) } else { Err(WireError::Unknown) };
    }
    let arg = rest.strip_prefix(b" ").ok_or(WireError::Unknown)?;
    let uid = || canonical_u32(arg).ok_or(WireError::BadUid);
    match verb {
        b'Q' if is_name(arg) && arg.len() <= MAX_NAME => Ok(Request::Query(arg.to_vec())),
        b'Q' => Err(WireError::BadName),
        b'R' => Ok(Request::Refresh(uid()?)),
        b'N' => Ok(Request::Penalty(uid()?)),
        b'k' => Ok(Request::End(uid()?)),
        b'K' => Ok(Request::EndPenalty(uid()?)),
        _ => Err(WireError::Unknown),
    }
}

/// Parses one reply line (without its newline).
pub fn parse_reply(line: &[u8]) -> Result<Reply, WireError> {
    if line.len() >= MAX_REPLY {
        return Err(WireError::TooLong);
    }
    if let Some(v) = line.strip_prefix(b"+") {
        return if is_value(v) { Ok(Reply::Value(v.to_vec())) } else { Err(WireError::BadValue) };
    }
    if let Some(n) = line.strip_prefix(b"ok ") {
        return canonical_u64(n).map(|idle_secs| Reply::Ok { idle_secs }).ok_or(WireError::BadNumber);
    }
    match line {
        b"" => Err(WireError::Empty),
        b"-" => Ok(Reply::Absent),
        b"y" => Ok(Reply::Yes),
        b"p" => Ok(Reply::Penalty),
        b"n" => Ok(Reply::No),
        b"denied" => Ok(Reply::Denied),
        b"?" => Ok(Reply::BadRequest),
        _ => Err(WireError::Unknown),
    }
}

impl Request {
    /// The request line, newline included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match self {
            Request::Query(n) => [b"Q ".as_slice(), n].concat(),
            Request::Status => b"S".to_vec(),
            Request::Refresh(u) => format!("R {u}").into_bytes(),
            Request::Penalty(u) => format!("N {u}").into_bytes(),
            Request::End(u) => format!("k {u}").into_bytes(),
            Request::EndPenalty(u) => format!("K {u}").into_bytes(),
        };
        out.push(b'\n');
        out
    }
}

impl Reply {
    /// The reply line, newline included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match self {
            Reply::Value(v) => [b"+".as_slice(), v].concat(),
            Reply::Absent => b"-".to_vec(),
            Reply::Yes => b"y".to_vec(),
            Reply::Penalty => b"p".to_vec(),
            Reply::No => b"n".to_vec(),
            Reply::Ok { idle_secs } => format!("ok {idle_secs}").into_bytes(),
            Reply::Denied => b"denied".to_vec(),
            Reply::BadRequest => b"?".to_vec(),
        };
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for r in [
            Request::Query(b"TTY".to_vec()),
            Request::Status,
            Request::Refresh(0),
            Request::Penalty(4_294_967_295),
            Request::End(1000),
            Request::EndPenalty(7),
        ] {
            let line = r.encode();
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(parse_request(&line[..line.len() - 1]), Ok(r));
        }
    }

    #[test]
    fn replies_round_trip() {
        for r in [
            Reply::Value(b"/dev/pts/3".to_vec()),
            Reply::Value(b"".to_vec()),
            Reply::Value(b"a\tb \xff".to_vec()),
            Reply::Absent,
            Reply::Yes,
            Reply::Penalty,
            Reply::No,
            Reply::Ok { idle_secs: 0 },
            Reply::Ok { idle_secs: 31_622_400 },
            Reply::Denied,
            Reply::BadRequest,
        ] {
            let line = r.encode();
            assert_eq!(parse_reply(&line[..line.len() - 1]), Ok(r));
        }
    }

    #[test]
    fn hostile_requests() {
        let cases: &[(&[u8], WireError)] = &[
            (b"", WireError::Empty),
            (b"S ", WireError::Unknown),
            (b"S\r", WireError::Unknown),
            (b"s", WireError::Unknown),
            (b"Q", WireError::Unknown),
            (b"Q  TTY", WireError::BadName),
            (b"Q TTY\r", WireError::BadName),
            (b"Q 1TTY", WireError::BadName),
            (b"Q TTY=x", WireError::BadName),
            (b"QTTY", WireError::Unknown),
            (b"R", WireError::Unknown),
            (b"R -1", WireError::BadUid),
            (b"R 01", WireError::BadUid),
            (b"R 4294967296", WireError::BadUid),
            (b"K 0 0", WireError::BadUid),
            (b"X 0", WireError::Unknown),
            (b"y", WireError::Unknown),
        ];
        for (line, want) in cases {
            assert_eq!(parse_request(line), Err(*want), "{:?}", String::from_utf8_lossy(line));
        }
        let long = [b"Q ".as_slice(), &[b'A'; 200]].concat();
        assert_eq!(parse_request(&long), Err(WireError::TooLong));
        let name65 = [b"Q ".as_slice(), &[b'A'; 65]].concat();
        assert_eq!(parse_request(&name65), Err(WireError::BadName));
    }

    #[test]
    fn hostile_replies() {
        let cases: &[(&[u8], WireError)] = &[
            (b"", WireError::Empty),
            (b"Y", WireError::Unknown),
            (b"y ", WireError::Unknown),
            (b"yes", WireError::Unknown),
            (b"y\r", WireError::Unknown),
            (b"+a\rb", WireError::BadValue),
            (b"+a\0b", WireError::BadValue),
            (b"+\x1b[2J", WireError::BadValue),
            (b"+\x7f", WireError::BadValue),
            (b"ok", WireError::Unknown),
            (b"ok -1", WireError::BadNumber),
            (b"ok 01", WireError::BadNumber),
            (b"ok 99999999999999999999", WireError::BadNumber),
        ];
        for (line, want) in cases {
            assert_eq!(parse_reply(line), Err(*want), "{:?}", String::from_utf8_lossy(line));
        }
        let big = [b"+".as_slice(), &[b'v'; MAX_VALUE + 1]].concat();
        assert_eq!(parse_reply(&big), Err(WireError::TooLong));
        let max = [b"+".as_slice(), &[b'v'; MAX_VALUE]].concat();
        assert!(parse_reply(&max).is_ok());
    }

    #[test]
    fn framing_caps_lines() {
        assert_eq!(next_line(b"S\nQ A\n", 128), Ok(Some((b"S".as_slice(), 2))));
        assert_eq!(next_line(b"Q A", 128), Ok(None));
        assert_eq!(next_line(b"", 128), Ok(None));
        assert_eq!(next_line(&[b'x'; 128], 128), Err(WireError::TooLong));
        assert_eq!(next_line(&[b'x'; 127], 128), Ok(None));
        let mut at_cap = vec![b'x'; 127];
        at_cap.push(b'\n');
        assert_eq!(next_line(&at_cap, 128).unwrap().unwrap().1, 128);
        // A newline beyond the cap does not count.
        let mut beyond = vec![b'x'; 200];
        beyond.push(b'\n');
        assert_eq!(next_line(&beyond, 128), Err(WireError::TooLong));
    }
}
