//! The reply language a helper writes on stdout (§2 of the notes): writing our own replies, and
//! parsing an inner helper's reply for `coat` with the strict rules of §6 (decimal 0–255, sticky
//! protocol errors, validated names, blank lines and one trailing CR allowed).

use crate::env::{is_name, Env};
use std::fmt;

/// Why a line cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// Not a `[A-Za-z_][A-Za-z0-9_]*` name (or prefix).
    BadName,
    /// Relayed text containing a newline would become two lines.
    Newline,
    /// A value byte that neither form can carry: NUL, DEL, or a control character without a
    /// quoted-form escape.
    Unrepresentable(u8),
}

/// A reply being built; one line per edit, the code last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    buf: Vec<u8>,
}

impl Reply {
    pub fn new() -> Reply {
        Reply::default()
    }

    /// `-NAME`: the command will not see NAME.
    pub fn delete(&mut self, name: &[u8]) -> Result<(), WriteError> {
        if !is_name(name) {
            return Err(WriteError::BadName);
        }
        self.line(b"-", name);
        Ok(())
    }

    /// `$NAME=value`. A value with no control character but tab is written plainly, as op 2.81
    /// reads it; any other is written in newer op's quoted form (`"$NAME=a\nb"`), since a plain
    /// line would end at the newline (or lose a trailing CR). Bytes that no escape stands for are
    /// refused, so what is read back is always exactly `value`.
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), WriteError> {
        if !is_name(name) {
            return Err(WriteError::BadName);
        }
        let plain = |c: &u8| *c == b'\t' || !(c.is_ascii_control());
        if value.iter().all(plain) {
            self.buf.push(b'$');
            self.buf.extend_from_slice(name);
            self.buf.push(b'=');
            self.buf.extend_from_slice(value);
            self.buf.push(b'\n');
            return Ok(());
        }
        let mut line = Vec::with_capacity(value.len() + name.len() + 8);
        line.extend_from_slice(b"\"$");
        line.extend_from_slice(name);
        line.push(b'=');
        for &c in value {
            let escaped: &[u8] = match c {
                b'"' => b"\\d",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                7 => b"\\a",
                8 => b"\\b",
                11 => b"\\v",
                12 => b"\\f",
                27 => b"\\e",
                b'\t' => b"\t",
                c if c.is_ascii_control() => return Err(WriteError::Unrepresentable(c)),
                _ => {
                    line.push(c);
                    continue;
                }
            };
            line.extend_from_slice(escaped);
        }
        line.extend_from_slice(b"\"\n");
        self.buf.extend_from_slice(&line);
        Ok(())
    }

    /// `~PREFIX`: entries named PREFIX… lose the prefix (newer op; 2.81 treats it as junk).
    pub fn reveal(&mut self, prefix: &[u8]) -> Result<(), WriteError> {
        if !is_name(prefix) {
            return Err(WriteError::BadName);
        }
        self.line(b"~", prefix);
        Ok(())
    }

    /// A line another helper wrote, passed on unchanged.
    pub fn relay(&mut self, line: &[u8]) -> Result<(), WriteError> {
        if line.contains(&b'\n') {
            return Err(WriteError::Newline);
        }
        self.line(b"", line);
        Ok(())
    }

    /// The verdict: a decimal code, 0 to allow.
    pub fn code(&mut self, code: u8) {
        self.line(b"", code.to_string().as_bytes());
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    fn line(&mut self, lead: &[u8], body: &[u8]) {
        self.buf.extend_from_slice(lead);
        self.buf.extend_from_slice(body);
        self.buf.push(b'\n');
    }
}

/// One parsed reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Blank,
    Comment,
    /// `$NAME=value`
    Set {
        name: Vec<u8>,
        value: Vec<u8>,
    },
    /// `$NAME`: copy from the client's original environment (which only op/escapes has).
    Copy {
        name: Vec<u8>,
    },
    /// `-NAME` (anything from `=` on is ignored, as op does)
    Delete {
        name: Vec<u8>,
    },
    /// `~PREFIX`
    Reveal {
        prefix: Vec<u8>,
    },
    /// `&…`: a redirection or close-from request for the command; opaque to the helpers.
    Redirect,
    /// A decimal exit code 0–255.
    Code(u8),
}

/// Why a reply line is a protocol error (exit 76).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// No recognised form (op 2.81's "text" line).
    Junk,
    BadName,
    /// Digits that are not a plain decimal 0–255 (`010`, `256`, `7 `).
    BadCode,
    /// `"…"` without a closing quote right at the end, or an unknown `\x` escape.
    BadQuote,
    /// A decoded quoted line that holds a newline outside a `$NAME=value` value.
    Newline,
    /// `&` not followed by a file descriptor digit.
    BadRedirect,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LineError::Junk => "unrecognised line",
            LineError::BadName => "bad variable name",
            LineError::BadCode => "exit code is not a decimal 0-255",
            LineError::BadQuote => "bad quoted line",
            LineError::Newline => "newline outside a value",
            LineError::BadRedirect => "bad redirection",
        })
    }
}

/// Parses one line (without its `\n`): leading whitespace and one trailing CR are dropped.
pub fn parse_line(raw: &[u8]) -> Result<Line, LineError> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let start = raw
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(raw.len());
    let line = raw.get(start..).unwrap_or_default();
    if let Some(inner) = line.strip_prefix(b"\"") {
        let decoded = unquote(inner)?;
        if decoded.first() == Some(&b'"') {
            return Err(LineError::BadQuote);
        }
        let parsed = parse_plain(&decoded)?;
        let newline_ok = matches!(&parsed, Line::Set { name, .. } if !name.contains(&b'\n'));
        if decoded.contains(&b'\n') && !newline_ok {
            return Err(LineError::Newline);
        }
        return Ok(parsed);
    }
    parse_plain(line)
}

fn parse_plain(line: &[u8]) -> Result<Line, LineError> {
    let Some((&first, rest)) = line.split_first() else {
        return Ok(Line::Blank);
    };
    match first {
        b'#' => Ok(Line::Comment),
        b'$' => match rest.iter().position(|&c| c == b'=') {
            Some(eq) => {
                let name = rest.get(..eq).unwrap_or_default();
                if !is_name(name) {
                    return Err(LineError::BadName);
                }
                let value = rest.get(eq + 1..).unwrap_or_default();
                Ok(Line::Set {
                    name: name.to_vec(),
                    value: value.to_vec(),
                })
            }
            None if is_name(rest) => Ok(Line::Copy {
                name: rest.to_vec(),
            }),
            None => Err(LineError::BadName),
        },
        b'-' => {
            let name = rest.split(|&c| c == b'=').next().unwrap_or_default();
            if !is_name(name) {
                return Err(LineError::BadName);
            }
            Ok(Line::Delete {
                name: name.to_vec(),
            })
        }
        b'~' if is_name(rest) => Ok(Line::Reveal {
            prefix: rest.to_vec(),
        }),
        b'~' => Err(LineError::BadName),
        b'&' => match rest.first() {
            Some(c) if c.is_ascii_digit() => Ok(Line::Redirect),
            _ => Err(LineError::BadRedirect),
        },
        b'0'..=b'9' => parse_code(line).map(Line::Code),
        _ => Err(LineError::Junk),
    }
}

/// A decimal 0–255 with no sign, no leading zero and nothing after it.
pub fn parse_code(s: &[u8]) -> Result<u8, LineError> {
    if s.is_empty()
        || s.len() > 3
        || !s.iter().all(u8::is_ascii_digit)
        || (s.len() > 1 && s.first() == Some(&b'0'))
    {
        return Err(LineError::BadCode);
    }
    let n = s.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    u8::try_from(n).map_err(|_| LineError::BadCode)
}

/// Decodes the text after an opening `"`: the closing quote must end the line.
fn unquote(s: &[u8]) -> Result<Vec<u8>, LineError> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&c) = it.next() {
        match c {
            b'"' => {
                return if it.next().is_none() {
                    Ok(out)
                } else {
                    Err(LineError::BadQuote)
                };
            }
            b'\\' => out.push(match it.next() {
                Some(b'd') => b'"',
                Some(b'o') => b'`',
                Some(b'q') => b'\'',
                Some(b'n') => b'\n',
                Some(b't') => b'\t',
                Some(b'r') => b'\r',
                Some(b'a') => 7,
                Some(b'b') => 8,
                Some(b'f') => 12,
                Some(b'v') => 11,
                Some(b'e') => 27,
                Some(b'\\') => b'\\',
                _ => return Err(LineError::BadQuote),
            }),
            _ => out.push(c),
        }
    }
    Err(LineError::BadQuote)
}

/// A whole reply, parsed line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Every line but codes, comments and blanks, as (line text, meaning), in order.
    pub edits: Vec<(Vec<u8>, Line)>,
    /// The last code written, if any.
    pub code: Option<u8>,
    /// The first protocol error: sticky, later lines cannot undo it.
    pub error: Option<(usize, LineError)>,
}

impl Parsed {
    /// The verdict: a protocol error is 76 whatever follows; otherwise the last code (none = 0).
    pub fn verdict(&self) -> u8 {
        match self.error {
            Some(_) => crate::sysexits::EX_PROTOCOL,
            None => self.code.unwrap_or(0),
        }
    }
}

/// Parses a reply stream; a final newline is optional.
pub fn parse(stream: &[u8]) -> Parsed {
    let mut p = Parsed {
        edits: Vec::new(),
        code: None,
        error: None,
    };
    let body = stream.strip_suffix(b"\n").unwrap_or(stream);
    if stream.is_empty() {
        return p;
    }
    for (i, raw) in body.split(|&c| c == b'\n').enumerate() {
        match parse_line(raw) {
            Ok(Line::Blank | Line::Comment) => {}
            Ok(Line::Code(c)) => p.code = Some(c),
            Ok(line) => {
                let text = raw.strip_suffix(b"\r").unwrap_or(raw);
                let start = text
                    .iter()
                    .position(|c| !c.is_ascii_whitespace())
                    .unwrap_or(text.len());
                p.edits
                    .push((text.get(start..).unwrap_or_default().to_vec(), line));
            }
            Err(e) => {
                if p.error.is_none() {
                    p.error = Some((i + 1, e));
                }
            }
        }
    }
    p
}

/// Applies an edit to the environment the next helper will see. `$NAME` copies need the client's
/// original environment, which a helper does not have: they change nothing here (op/escapes
/// applies them when the relayed line reaches it).
pub fn apply(env: &mut Env, line: &Line) {
    match line {
        Line::Set { name, value } => env.set(name, value),
        Line::Delete { name } => env.remove(name),
        Line::Reveal { prefix } => env.reveal(prefix),
        Line::Blank | Line::Comment | Line::Copy { .. } | Line::Redirect | Line::Code(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_deletions_reveal_and_code() {
        let mut r = Reply::new();
        r.delete(b"TIMEBOX_INSIDE").unwrap();
        r.reveal(b"J_").unwrap();
        r.code(0);
        assert_eq!(r.bytes(), b"-TIMEBOX_INSIDE\n~J_\n0\n");
    }

    #[test]
    fn writer_refuses_injection() {
        let mut r = Reply::new();
        assert_eq!(r.delete(b"A\n0"), Err(WriteError::BadName));
        assert_eq!(r.relay(b"$A=1\n0"), Err(WriteError::Newline));
        assert_eq!(r.reveal(b""), Err(WriteError::BadName));
        assert!(r.bytes().is_empty());
    }

    #[test]
    fn set_writes_plain_lines_and_quotes_only_what_needs_it() {
        let mut r = Reply::new();
        r.set(b"MyARCH", b"x86_64").unwrap();
        r.set(b"A", b" spaced\tand \"quoted\" \\ ").unwrap();
        r.set(b"B", b"one\ntwo\r").unwrap();
        r.set(b"C", b"").unwrap();
        assert_eq!(
            r.bytes(),
            b"$MyARCH=x86_64\n$A= spaced\tand \"quoted\" \\ \n\"$B=one\\ntwo\\r\"\n$C=\n"
        );
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
            let mut r = Reply::new();
            r.set(b"V", v).unwrap();
            let p = parse(r.bytes());
            assert_eq!(p.error, None, "{v:?}");
            assert_eq!(p.code, None);
            let want = Line::Set {
                name: b"V".to_vec(),
                value: v.to_vec(),
            };
            assert_eq!(p.edits.len(), 1, "{v:?}");
            assert_eq!(p.edits[0].1, want, "{v:?}");
        }
    }

    #[test]
    fn set_refuses_bad_names_and_unrepresentable_bytes() {
        let mut r = Reply::new();
        assert_eq!(r.set(b"1X", b"v"), Err(WriteError::BadName));
        assert_eq!(r.set(b"X\n0", b"v"), Err(WriteError::BadName));
        assert_eq!(r.set(b"X", b"a\0b"), Err(WriteError::Unrepresentable(0)));
        assert_eq!(
            r.set(b"X", b"a\nb\x01"),
            Err(WriteError::Unrepresentable(1))
        );
        assert_eq!(r.set(b"X", b"\x7f"), Err(WriteError::Unrepresentable(0x7f)));
        assert!(r.bytes().is_empty());
    }

    #[test]
    fn codes_are_plain_decimal_bytes() {
        assert_eq!(parse_line(b"77"), Ok(Line::Code(77)));
        assert_eq!(parse_line(b"0\r"), Ok(Line::Code(0)));
        assert_eq!(parse_line(b"  255"), Ok(Line::Code(255)));
        for bad in [&b"256"[..], b"010", b"0x4d", b"77 ", b"4294967296", b"1e2"] {
            assert_eq!(parse_line(bad), Err(LineError::BadCode), "{bad:?}");
        }
    }

    #[test]
    fn protocol_errors_are_sticky() {
        let p = parse(b"junk\n0\n");
        assert_eq!(p.verdict(), 76);
        assert_eq!(p.error, Some((1, LineError::Junk)));
        assert_eq!(parse(b"77\n0\n").verdict(), 0);
        assert_eq!(parse(b"").verdict(), 0);
        assert_eq!(parse(b"\n\n# c\n").verdict(), 0);
    }

    #[test]
    fn environment_forms() {
        assert_eq!(
            parse_line(b"$A=x y"),
            Ok(Line::Set {
                name: b"A".to_vec(),
                value: b"x y".to_vec()
            })
        );
        assert_eq!(
            parse_line(b"$HOME"),
            Ok(Line::Copy {
                name: b"HOME".to_vec()
            })
        );
        assert_eq!(
            parse_line(b"-A=junk"),
            Ok(Line::Delete {
                name: b"A".to_vec()
            })
        );
        assert_eq!(
            parse_line(b"~hide_"),
            Ok(Line::Reveal {
                prefix: b"hide_".to_vec()
            })
        );
        assert_eq!(parse_line(b"$=x"), Err(LineError::BadName));
        assert_eq!(parse_line(b"-1"), Err(LineError::BadName));
        assert_eq!(parse_line(b"$A B=x"), Err(LineError::BadName));
        assert_eq!(parse_line(b"&1>/tmp/x"), Ok(Line::Redirect));
        assert_eq!(parse_line(b"&x"), Err(LineError::BadRedirect));
        assert_eq!(parse_line(b"hello"), Err(LineError::Junk));
    }

    #[test]
    fn quoted_lines() {
        assert_eq!(
            parse_line(br#""$A=one\ntwo\d""#),
            Ok(Line::Set {
                name: b"A".to_vec(),
                value: b"one\ntwo\"".to_vec()
            })
        );
        assert_eq!(parse_line(br#""77""#), Ok(Line::Code(77)));
        assert_eq!(parse_line(br#""77" "#), Err(LineError::BadQuote));
        assert_eq!(parse_line(br#""77"#), Err(LineError::BadQuote));
        assert_eq!(parse_line(br#""\x""#), Err(LineError::BadQuote));
        assert_eq!(parse_line(br#""-A\n0""#), Err(LineError::BadName));
        assert_eq!(parse_line(b"\"# c\\n0\""), Err(LineError::Newline));
        assert_eq!(parse_line(br#"""77"""#), Err(LineError::BadQuote));
    }

    #[test]
    fn applies_edits_in_order() {
        let mut env = Env::from_pairs(&[("A", "1"), ("J_COAT", "/x")]);
        for line in parse(b"$B=2\n-A\n~J_\n").edits {
            apply(&mut env, &line.1);
        }
        assert_eq!(env, Env::from_pairs(&[("B", "2"), ("COAT", "/x")]));
    }
}
