//! What xdisplay hands between two xauth runs: xauth's numeric entry format (`nextract` writes
//! it, `nmerge` reads it), one entry per line, `FAMILY ADDRLEN ADDR NUMLEN NUM NAMELEN NAME
//! DATALEN DATA` with every field hex (lengths four digits, data two per byte). It is parsed and
//! written again here, so the target's xauth reads only well-formed entries of bounded size, and
//! the display name is checked before it reaches xauth's argv.

use std::fmt;

/// Most entries moved for one display.
pub const MAX_ENTRIES: usize = 16;
/// Largest nextract output accepted.
pub const MAX_LIST: usize = 64 * 1024;
/// Longest DISPLAY accepted.
pub const MAX_DISPLAY: usize = 255;

/// One X authority entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub family: u16,
    pub address: Vec<u8>,
    /// The display number, as text (`42`).
    pub number: Vec<u8>,
    /// The protocol, e.g. `MIT-MAGIC-COOKIE-1`.
    pub name: Vec<u8>,
    pub data: Vec<u8>,
}

/// Why xauth's output is refused; `line` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NlistError {
    TooLarge,
    TooMany,
    /// Not nine space-separated fields.
    Fields {
        line: usize,
    },
    /// A length or family field that is not four hex digits.
    BadNumber {
        line: usize,
    },
    /// A data field that is not hex of the length announced.
    BadData {
        line: usize,
    },
}

impl fmt::Display for NlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlistError::TooLarge => write!(f, "xauth wrote more than {MAX_LIST} bytes"),
            NlistError::TooMany => write!(f, "more than {MAX_ENTRIES} entries"),
            NlistError::Fields { line } => write!(f, "xauth line {line}: not 9 fields"),
            NlistError::BadNumber { line } => {
                write!(f, "xauth line {line}: a length is not 4 hex digits")
            }
            NlistError::BadData { line } => {
                write!(f, "xauth line {line}: data does not match its length")
            }
        }
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn number(s: &[u8]) -> Option<u16> {
    if s.len() != 4 {
        return None;
    }
    s.iter().try_fold(0u16, |n, &c| Some(n * 16 + u16::from(hex_digit(c)?)))
}

fn data(len: &[u8], hex: &[u8]) -> Option<Vec<u8>> {
    let n = usize::from(number(len)?);
    if hex.len() != 2 * n {
        return None;
    }
    hex.chunks(2)
        .map(|p| match p {
            [a, b] => Some(hex_digit(*a)? * 16 + hex_digit(*b)?),
            _ => None,
        })
        .collect()
}

/// Parses nextract output: one entry per line, a final newline optional, no blank lines.
pub fn parse(s: &[u8]) -> Result<Vec<Entry>, NlistError> {
    if s.len() > MAX_LIST {
        return Err(NlistError::TooLarge);
    }
    let body = s.strip_suffix(b"\n").unwrap_or(s);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (i, l) in body.split(|&c| c == b'\n').enumerate() {
        let line = i + 1;
        if out.len() == MAX_ENTRIES {
            return Err(NlistError::TooMany);
        }
        let fields: Vec<&[u8]> = l.split(|&c| c == b' ').collect();
        let [family, al, a, nl, n, ml, m, dl, d] = fields.as_slice() else {
            return Err(NlistError::Fields { line });
        };
        let family = number(family).ok_or(NlistError::BadNumber { line })?;
        let field = |len: &[u8], hex: &[u8]| {
            number(len).ok_or(NlistError::BadNumber { line })?;
            data(len, hex).ok_or(NlistError::BadData { line })
        };
        out.push(Entry {
            family,
            address: field(al, a)?,
            number: field(nl, n)?,
            name: field(ml, m)?,
            data: field(dl, d)?,
        });
    }
    Ok(out)
}

/// Writes entries in the format nmerge reads (lower-case hex, one line each).
pub fn write(entries: &[Entry]) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::new();
    for e in entries {
        let _ = write!(s, "{:04x}", e.family);
        for f in [&e.address, &e.number, &e.name, &e.data] {
            let _ = write!(s, " {:04x} ", f.len().min(0xffff));
            for b in f.iter().take(0xffff) {
                let _ = write!(s, "{b:02x}");
            }
        }
        s.push('\n');
    }
    s.into_bytes()
}

/// Why a DISPLAY value is not passed to xauth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayError {
    Empty,
    TooLong,
    /// A byte outside `[A-Za-z0-9._:/+-]`.
    BadByte(u8),
    /// It starts with `-`, which xauth would read as an option.
    LeadingDash,
    /// No `:NUMBER[.SCREEN]` at the end.
    NoNumber,
}

impl fmt::Display for DisplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisplayError::Empty => f.write_str("DISPLAY is empty"),
            DisplayError::TooLong => write!(f, "DISPLAY is longer than {MAX_DISPLAY} bytes"),
            DisplayError::BadByte(b) => {
                write!(f, "DISPLAY holds '{}', not a display-name character", char::from(*b).escape_default())
            }
            DisplayError::LeadingDash => f.write_str("DISPLAY starts with '-'"),
            DisplayError::NoNumber => f.write_str("DISPLAY does not end in :NUMBER or :NUMBER.SCREEN"),
        }
    }
}

/// Checks an X display name: `[host]:number[.screen]` (the host may be `unix`, a name, an
/// address, or a socket path as XQuartz uses), so it can go on xauth's command line as one
/// display argument and nothing else.
pub fn check_display(d: &[u8]) -> Result<(), DisplayError> {
    if d.is_empty() {
        return Err(DisplayError::Empty);
    }
    if d.len() > MAX_DISPLAY {
        return Err(DisplayError::TooLong);
    }
    if let Some(&b) = d.iter().find(|&&b| !(b.is_ascii_alphanumeric() || b"._:/+-".contains(&b))) {
        return Err(DisplayError::BadByte(b));
    }
    if d.first() == Some(&b'-') {
        return Err(DisplayError::LeadingDash);
    }
    let colon = d.iter().rposition(|&c| c == b':').ok_or(DisplayError::NoNumber)?;
    let tail = d.get(colon + 1..).unwrap_or_default();
    let mut parts = tail.split(|&c| c == b'.');
    let digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(n), None, None) if digits(n) => Ok(()),
        (Some(n), Some(s), None) if digits(n) && digits(s) => Ok(()),
        _ => Err(DisplayError::NoNumber),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XAUTH_LINE: &[u8] =
        b"0100 0002 766d 0002 3432 0012 4d49542d4d414749432d434f4f4b49452d31 0010 00112233445566778899aabbccddeeff\n";

    #[test]
    fn parses_what_xauth_nextract_writes() {
        let e = parse(XAUTH_LINE).unwrap();
        assert_eq!(
            e,
            [Entry {
                family: 256,
                address: b"vm".to_vec(),
                number: b"42".to_vec(),
                name: b"MIT-MAGIC-COOKIE-1".to_vec(),
                data: vec![0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
            }]
        );
        assert_eq!(write(&e), XAUTH_LINE);
        assert_eq!(parse(b"").unwrap(), []);
        assert_eq!(parse(b"ffff 0000  0001 30 0000  0000 \n").unwrap().len(), 1);
    }

    #[test]
    fn refuses_malformed_or_oversized_lists() {
        let cases: &[(&[u8], NlistError)] = &[
            (b"\n\n", NlistError::Fields { line: 1 }),
            (b"0100 0002 766d", NlistError::Fields { line: 1 }),
            (b"0100  0002 766d 0002 3432 0000  0000 ", NlistError::Fields { line: 1 }),
            (b"100 0002 766d 0002 3432 0000  0000 ", NlistError::BadNumber { line: 1 }),
            (b"0100 002 766d 0002 3432 0000  0000 ", NlistError::BadNumber { line: 1 }),
            (b"0100 +002 766d 0002 3432 0000  0000 ", NlistError::BadNumber { line: 1 }),
            (b"0100 0002 766 0002 3432 0000  0000 ", NlistError::BadData { line: 1 }),
            (b"0100 0002 76zz 0002 3432 0000  0000 ", NlistError::BadData { line: 1 }),
            (b"0100 0001 766d 0002 3432 0000  0000 ", NlistError::BadData { line: 1 }),
            (b"0100 0002 766d 0002 3432 0000  0000 \r", NlistError::BadData { line: 1 }),
        ];
        for (s, e) in cases {
            assert_eq!(parse(s), Err(*e), "{:?}", String::from_utf8_lossy(s));
        }
        let many = XAUTH_LINE.repeat(MAX_ENTRIES + 1);
        assert_eq!(parse(&many), Err(NlistError::TooMany));
        assert_eq!(parse(&XAUTH_LINE.repeat(MAX_ENTRIES)).unwrap().len(), MAX_ENTRIES);
        assert_eq!(parse(&vec![b'0'; MAX_LIST + 1]), Err(NlistError::TooLarge));
    }

    #[test]
    fn display_names_are_checked_before_they_reach_xauth() {
        for ok in [
            ":0",
            ":42",
            ":0.1",
            "localhost:10.0",
            "unix:0",
            "vm/unix:42",
            "10.0.0.1:3",
            "/private/tmp/com.apple.launchd.x/org.xquartz:0",
            "::1:0",
        ] {
            assert_eq!(check_display(ok.as_bytes()), Ok(()), "{ok}");
        }
        let cases: &[(&str, DisplayError)] = &[
            ("", DisplayError::Empty),
            ("-f", DisplayError::LeadingDash),
            ("-:0", DisplayError::LeadingDash),
            (":0 :1", DisplayError::BadByte(b' ')),
            (":0\n", DisplayError::BadByte(b'\n')),
            ("host", DisplayError::NoNumber),
            ("host:", DisplayError::NoNumber),
            (":x", DisplayError::NoNumber),
            (":0.", DisplayError::NoNumber),
            (":0.1.2", DisplayError::NoNumber),
            (":0;id", DisplayError::BadByte(b';')),
        ];
        for (d, e) in cases {
            assert_eq!(check_display(d.as_bytes()), Err(*e), "{d:?}");
        }
        assert_eq!(check_display(format!(":{}", "1".repeat(MAX_DISPLAY)).as_bytes()), Err(DisplayError::TooLong));
    }
}
