//! The reply language a helmet or jacket writes on its stdout (op(1l), `op-jacket-protocol.md`
//! §2), parsed purely: bytes in, [`Reply`] out.
//!
//! Accepted, one command per `\n`-terminated line (the last newline optional):
//! * leading blanks are skipped and one trailing `\r` is dropped; blank lines are ignored;
//! * `#text` — a comment;
//! * `$NAME=value` — set NAME (the value is everything after `=`, blanks included);
//! * `$NAME` — copy NAME from the caller's original environment;
//! * `-NAME` — remove NAME (an `=` and what follows it are ignored, as op does);
//! * `~PREFIX` — rename every `PREFIXname` entry to `name` (op's later "reveal");
//! * `N` — a decimal exit code 0–255, no sign, no leading zero; the last one wins;
//! * `"…"` — any of the above, double-quoted, with the escapes `\d` (`"`), `\o` (backquote),
//!   `\q` (`'`), `\\`, `\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\e`; the closing quote ends the
//!   line.
//!
//! Trailing blanks after `$NAME`, `-NAME`, `~PREFIX` and codes are ignored; names are
//! `[A-Za-z_][A-Za-z0-9_]*`. Anything else — op's `&` redirections included, which escapes does
//! not implement — is a protocol error, and it is **sticky**: the whole reply is refused (op would
//! let a later `0` line undo it, flaw F5). So is a reply over [`MAX_REPLY`] bytes.

/// Longest reply read from a helper; more is a protocol error (op reads without limit, F7).
pub const MAX_REPLY: usize = 64 * 1024;

/// One environment edit, applied in order to the command's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Set { name: Vec<u8>, value: Vec<u8> },
    Copy { name: Vec<u8> },
    Remove { name: Vec<u8> },
    Reveal { prefix: Vec<u8> },
}

/// A well-formed reply: its edits in order and the last code written (0 if none was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub edits: Vec<Edit>,
    pub code: u8,
    /// Whether any code line was written at all.
    pub explicit: bool,
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
    /// `&…`: op's redirections, not supported here.
    Redirect,
    UnterminatedQuote,
    BadEscape(u8),
    TextAfterQuote,
    /// A line of none of the forms above.
    Junk,
}

/// The first offending line (1-based; 0 for [`ErrorKind::TooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub kind: ErrorKind,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.kind {
            ErrorKind::TooLarge => return write!(f, "reply larger than {MAX_REPLY} bytes"),
            ErrorKind::BadCode => "exit code is not a decimal number from 0 to 255",
            ErrorKind::BadName => "environment name is not [A-Za-z_][A-Za-z0-9_]*",
            ErrorKind::Nul => "NUL byte in a value",
            ErrorKind::Redirect => "& redirections are not supported",
            ErrorKind::UnterminatedQuote => "quoted line has no closing quote",
            ErrorKind::BadEscape(_) => "unknown escape in a quoted line",
            ErrorKind::TextAfterQuote => "text after the closing quote",
            ErrorKind::Junk => "not a reply command",
        };
        write!(f, "reply line {}: {what}", self.line)
    }
}

/// Parses a whole reply; the first bad line refuses all of it.
pub fn parse(input: &[u8]) -> Result<Reply, Error> {
    if input.len() > MAX_REPLY {
        return Err(Error { line: 0, kind: ErrorKind::TooLarge });
    }
    let mut reply = Reply::default();
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    if input.is_empty() {
        return Ok(reply);
    }
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = trim_start(raw);
        let decoded;
        let command = if let Some(quoted) = text.strip_prefix(b"\"") {
            decoded = unquote(quoted).map_err(|kind| Error { line, kind })?;
            decoded.as_slice()
        } else {
            text
        };
        match one(command).map_err(|kind| Error { line, kind })? {
            Line::Blank => {}
            Line::Code(c) => {
                reply.code = c;
                reply.explicit = true;
            }
            Line::Edit(e) => reply.edits.push(e),
        }
    }
    Ok(reply)
}

enum Line {
    Blank,
    Code(u8),
    Edit(Edit),
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r')
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_blank(b)).count();
    s.get(n..).unwrap_or_default()
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&b| is_blank(b)).count();
    s.get(..s.len() - n).unwrap_or_default()
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_name(s: &[u8]) -> bool {
    matches!(s.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_') && s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn name(s: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    let s = trim_end(s);
    if is_name(s) {
        Ok(s.to_vec())
    } else {
        Err(ErrorKind::BadName)
    }
}

fn one(text: &[u8]) -> Result<Line, ErrorKind> {
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
        b'~' => {
            let p = trim_end(rest);
            if p.is_empty() || !p.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
                return Err(ErrorKind::BadName);
            }
            Ok(Line::Edit(Edit::Reveal { prefix: p.to_vec() }))
        }
        b'&' => Err(ErrorKind::Redirect),
        b'0'..=b'9' => code(trim_end(text)).map(Line::Code),
        _ => Err(ErrorKind::Junk),
    }
}

/// Decimal 0–255: op's base-0 strtol read `010` as 8 and `0x4d` as 77, and let `256` wrap to 0
/// (allow); here each of those is an error (F6).
fn code(s: &[u8]) -> Result<u8, ErrorKind> {
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
                out.push(match e {
                    b'd' => b'"',
                    b'o' => b'`',
                    b'q' => b'\'',
                    b'\\' => b'\\',
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'a' => 7,
                    b'b' => 8,
                    b'f' => 12,
                    b'v' => 11,
                    b'e' => 27,
                    other => return Err(ErrorKind::BadEscape(other)),
                });
            }
            _ => out.push(b),
        }
    }
    Err(ErrorKind::UnterminatedQuote)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn an_empty_reply_allows_with_no_edits() {
        assert_eq!(ok(""), Reply::default());
        assert_eq!(ok("\n\n   \n").code, 0);
    }

    #[test]
    fn reads_the_documented_helmet_reply() {
        let r = ok("-TIMEBOX_INSIDE\n-TIMEBOX_WARN\n0\n");
        assert_eq!(r.edits, vec![Edit::Remove { name: "TIMEBOX_INSIDE".into() }, Edit::Remove { name: "TIMEBOX_WARN".into() }]);
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
            vec![set("TERM", "vt100 "), Edit::Copy { name: "LANG".into() }, Edit::Remove { name: "X".into() }, Edit::Reveal { prefix: "hide_".into() }]
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
    fn a_protocol_error_is_sticky_even_when_a_zero_follows() {
        assert_eq!(kind("junk\n0\n"), (1, ErrorKind::Junk));
        assert_eq!(kind("0\n77 please\n0\n"), (2, ErrorKind::BadCode));
    }

    #[test]
    fn codes_are_decimal_from_0_to_255_only() {
        for bad in ["256", "4294967296", "010", "00", "0x4d", "1e2", "77a", "9999"] {
            assert_eq!(kind(bad).1, ErrorKind::BadCode, "{bad}");
        }
        assert_eq!(kind("+1").1, ErrorKind::Junk);
        assert_eq!(kind("-1").1, ErrorKind::BadName);
    }

    #[test]
    fn names_are_validated() {
        for bad in ["$=x", "$1A=x", "$A B=x", "$", "-", "-a-b", "$A-B", "~", "~a-b"] {
            assert_eq!(kind(bad).1, ErrorKind::BadName, "{bad}");
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
        assert_eq!(kind("\"\"77\"\"").1, ErrorKind::TextAfterQuote);
    }

    #[test]
    fn a_quoted_line_cannot_nest_another_quote() {
        assert_eq!(kind("\"\\d77\\d\"").1, ErrorKind::Junk);
    }

    #[test]
    fn refuses_replies_over_the_cap() {
        let big = "#".repeat(MAX_REPLY + 1);
        assert_eq!(kind(&big), (0, ErrorKind::TooLarge));
        let mut fits = "#".repeat(MAX_REPLY - 2);
        fits.push_str("\n0");
        assert_eq!(ok(&fits).code, 0);
    }

    #[test]
    fn never_panics_on_any_prefix_of_a_mixed_reply() {
        let full = "# hi\n$A=b\n\"$Q=\\d\\n\"\n-A\n~p_\n\r\n 77\n0";
        for i in 0..=full.len() {
            let _ = parse(&full.as_bytes()[..i]);
        }
    }
}
