//! Reading a reply: one line at a time ([`line`]) or a whole stream ([`parse`], escapes'
//! reading; coat's, which passes `&` lines on, is `super::relay`), every protocol error final.

use super::edit::{is_name, Edit, Reply, MAX_REPLY};

/// What `&…` lines are to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// A protocol error (escapes implements none of op's redirections).
    Refuse,
    /// Opaque lines to pass on (coat): `&` followed by a descriptor digit.
    Relay,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank or a comment.
    Blank,
    Code(u8),
    Edit(Edit),
    /// `&…` under [`Redirects::Relay`].
    Redirect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    TooLarge,
    /// A digit line that is not a decimal 0–255 without leading zeros.
    BadCode,
    /// A `$`, `-` or `~` line whose name is not `[A-Za-z_][A-Za-z0-9_]*`.
    BadName,
    /// A NUL byte in a value.
    Nul,
    /// `&…` while redirections are refused.
    Redirect,
    /// `&` not followed by a descriptor digit.
    BadRedirect,
    UnterminatedQuote,
    BadEscape(u8),
    TextAfterQuote,
    /// A decoded quoted line with a newline outside a `$NAME=value` value.
    Newline,
    /// A line of none of the forms above.
    Junk,
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ErrorKind::TooLarge => "reply too large",
            ErrorKind::BadCode => "exit code is not a decimal number from 0 to 255",
            ErrorKind::BadName => "environment name is not [A-Za-z_][A-Za-z0-9_]*",
            ErrorKind::Nul => "NUL byte in a value",
            ErrorKind::Redirect => "& redirections are not supported",
            ErrorKind::BadRedirect => "& is not followed by a file descriptor digit",
            ErrorKind::UnterminatedQuote => "quoted line has no closing quote",
            ErrorKind::BadEscape(_) => "unknown escape in a quoted line",
            ErrorKind::TextAfterQuote => "text after the closing quote",
            ErrorKind::Newline => "newline outside a value in a quoted line",
            ErrorKind::Junk => "not a reply command",
        })
    }
}

/// The first offending line (1-based; 0 for [`ErrorKind::TooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub kind: ErrorKind,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.kind {
            ErrorKind::TooLarge => write!(f, "reply larger than {MAX_REPLY} bytes"),
            kind => write!(f, "reply line {}: {kind}", self.line),
        }
    }
}

/// The quoted form's escapes, `\letter` for the byte: read by [`line`], written by
/// [`super::write::Writer::set`].
pub(crate) const ESCAPES: [(u8, u8); 12] = [
    (b'd', b'"'),
    (b'o', b'`'),
    (b'q', b'\''),
    (b'\\', b'\\'),
    (b'n', b'\n'),
    (b't', b'\t'),
    (b'r', b'\r'),
    (b'a', 7),
    (b'b', 8),
    (b'f', 12),
    (b'v', 11),
    (b'e', 27),
];

/// Parses a whole reply, `&` lines refused; the first bad line refuses all of it.
pub fn parse(input: &[u8]) -> Result<Reply, Error> {
    let mut reply = Reply::default();
    each_line(input, Redirects::Refuse, |_, line| match line {
        Line::Code(c) => {
            reply.code = c;
            reply.explicit = true;
        }
        Line::Edit(e) => reply.edits.push(e),
        Line::Blank | Line::Redirect => {}
    })?;
    Ok(reply)
}

/// Parses `input` line by line, handing each line's text (less leading blanks and a CRLF's CR)
/// and meaning to `take`; the first bad line ends it.
pub(crate) fn each_line(input: &[u8], redirects: Redirects, mut take: impl FnMut(&[u8], Line)) -> Result<(), Error> {
    if input.len() > MAX_REPLY {
        return Err(Error { line: 0, kind: ErrorKind::TooLarge });
    }
    if input.is_empty() {
        return Ok(());
    }
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let parsed = line(raw, redirects).map_err(|kind| Error { line: i + 1, kind })?;
        take(relay_text(raw), parsed);
    }
    Ok(())
}

/// A line's text to relay: less leading blanks and the CR of a CRLF, unless the text would then
/// end in a CR of its own, which a reader would take for a CRLF's and drop from the value: then
/// the CR stays, and the line reads back as the same edit.
fn relay_text(raw: &[u8]) -> &[u8] {
    let text = trim_start(raw);
    match text.strip_suffix(b"\r") {
        Some(less) if !less.ends_with(b"\r") => less,
        _ => text,
    }
}

/// Parses one line (without its `\n`).
pub fn line(raw: &[u8], redirects: Redirects) -> Result<Line, ErrorKind> {
    let text = trim_start(raw.strip_suffix(b"\r").unwrap_or(raw));
    let Some(quoted) = text.strip_prefix(b"\"") else {
        return plain(text, redirects);
    };
    let decoded = unquote(quoted)?;
    let parsed = plain(&decoded, redirects)?;
    let in_value = matches!(&parsed, Line::Edit(Edit::Set { .. }));
    if decoded.contains(&b'\n') && !in_value {
        return Err(ErrorKind::Newline);
    }
    Ok(parsed)
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c' | b'\r')
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_blank(b)).count();
    s.get(n..).unwrap_or_default()
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&b| is_blank(b)).count();
    s.get(..s.len().saturating_sub(n)).unwrap_or_default()
}

fn name(s: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    let s = trim_end(s);
    if is_name(s) {
        Ok(s.to_vec())
    } else {
        Err(ErrorKind::BadName)
    }
}

fn plain(text: &[u8], redirects: Redirects) -> Result<Line, ErrorKind> {
    let Some((&first, rest)) = text.split_first() else {
        return Ok(Line::Blank);
    };
    match first {
        b'#' => Ok(Line::Blank),
        b'$' => match rest.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let (n, v) = (rest.get(..eq).unwrap_or_default(), rest.get(eq + 1..).unwrap_or_default());
                if !is_name(n) {
                    return Err(ErrorKind::BadName);
                }
                if v.contains(&0) {
                    return Err(ErrorKind::Nul);
                }
                Ok(Line::Edit(Edit::Set { name: n.to_vec(), value: v.to_vec() }))
            }
            None => Ok(Line::Edit(Edit::Copy { name: name(rest)? })),
        },
        b'-' => {
            let n = rest.split(|&b| b == b'=').next().unwrap_or_default();
            Ok(Line::Edit(Edit::Remove { name: name(n)? }))
        }
        b'~' => Ok(Line::Edit(Edit::Reveal { prefix: name(rest)? })),
        b'&' => match (redirects, rest.first()) {
            (Redirects::Refuse, _) => Err(ErrorKind::Redirect),
            (Redirects::Relay, Some(d)) if d.is_ascii_digit() => Ok(Line::Redirect),
            (Redirects::Relay, _) => Err(ErrorKind::BadRedirect),
        },
        b'0'..=b'9' => code(trim_end(text)).map(Line::Code),
        _ => Err(ErrorKind::Junk),
    }
}

/// A decimal 0–255 with no sign, no leading zero and nothing after it: op's base-0 strtol read
/// `010` as 8 and `0x4d` as 77, and let `256` wrap to 0 (allow); here each is an error (F6).
pub fn code(s: &[u8]) -> Result<u8, ErrorKind> {
    if s.is_empty() || s.len() > 3 || !s.iter().all(u8::is_ascii_digit) || (s.len() > 1 && s.first() == Some(&b'0')) {
        return Err(ErrorKind::BadCode);
    }
    let n = s.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    u8::try_from(n).map_err(|_| ErrorKind::BadCode)
}

/// The inside of a `"…"` line (after the opening quote): decoded, closing quote last.
fn unquote(s: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&b) = it.next() {
        match b {
            b'"' => {
                return if it.as_slice().is_empty() { Ok(out) } else { Err(ErrorKind::TextAfterQuote) };
            }
            b'\\' => {
                let &e = it.next().ok_or(ErrorKind::UnterminatedQuote)?;
                let &(_, byte) = ESCAPES.iter().find(|(letter, _)| *letter == e).ok_or(ErrorKind::BadEscape(e))?;
                out.push(byte);
            }
            _ => out.push(b),
        }
    }
    Err(ErrorKind::UnterminatedQuote)
}
