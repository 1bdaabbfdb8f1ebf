//! The small TOML subset the escapes configuration is written in.
//!
//! Anything outside the subset is an error with a line and column, never skipped: a security
//! config that is only partly understood must not be partly applied. One forward pass over at
//! most [`MAX_INPUT`] bytes, no recursion (arrays hold strings only, so nothing nests), and
//! duplicate detection through ordered sets, so cost stays linear-ish whatever the input.
//! Arrays of tables (`[[name]]`) are flat too: each header opens one more instance, with its own
//! duplicate-key check, and a name is either a table or an array of tables, never both.
#![deny(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

/// Larger inputs are refused before any parsing: a config is a page of text, not a data file.
pub const MAX_INPUT: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    StrArray(Vec<String>),
}

/// One `key = value` line; `line` and `col` locate the key, for error messages further up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub line: usize,
    pub col: usize,
}

/// A `[name]` section (or one `[[name]]` instance, `array` true) and its entries in file order;
/// the root table has name "" and line 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub line: usize,
    pub array: bool,
    pub entries: Vec<Entry>,
}

/// Tables in file order; `tables[0]` is always the root table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    TooLarge,
    ByteOrderMark,
    InvalidUtf8,
    LoneCarriageReturn,
    /// A raw control character inside a string or comment.
    ControlCharacter(char),
    Unexpected {
        found: char,
        expected: &'static str,
    },
    UnexpectedEnd {
        expected: &'static str,
    },
    UnterminatedString,
    UnterminatedArray,
    InvalidEscape(char),
    InvalidUnicodeEscape,
    EmptyKey,
    DuplicateKey {
        key: String,
        first_line: usize,
    },
    DuplicateTable {
        name: String,
        first_line: usize,
    },
    /// `[name]` and `[[name]]` in one document.
    MixedTableKinds {
        name: String,
        first_line: usize,
    },
    LeadingZero,
    MisplacedUnderscore,
    IntegerOutOfRange,
    InvalidInteger,
    InvalidValue,
    /// Valid TOML this subset refuses; the text names the feature, in the plural.
    Unsupported(&'static str),
}

/// `line` and `col` are 1-based; columns count characters, a tab counting as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub col: usize,
    pub kind: ErrorKind,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => write!(f, "the file is larger than 64 KiB ({MAX_INPUT} bytes)"),
            Self::ByteOrderMark => write!(f, "the file starts with a byte order mark; save it as UTF-8 without BOM"),
            Self::InvalidUtf8 => write!(f, "the file is not valid UTF-8"),
            Self::LoneCarriageReturn => {
                write!(f, "carriage return not followed by a line feed; use LF or CRLF line ends")
            }
            Self::ControlCharacter(c) => write!(
                f,
                "control character U+{:04X} is not allowed here (inside a \"string\" write it as an escape)",
                u32::from(*c)
            ),
            Self::Unexpected { found, expected } => match found {
                '\n' | '\r' => write!(f, "the line ends where {expected} was expected"),
                c => write!(f, "found {c:?} where {expected} was expected"),
            },
            Self::UnexpectedEnd { expected } => write!(f, "the file ends where {expected} was expected"),
            Self::UnterminatedString => {
                write!(f, "string is not closed on the line it starts (multi-line strings are not supported)")
            }
            Self::UnterminatedArray => write!(f, "array is not closed with ]"),
            Self::InvalidEscape(c) => write!(f, "unknown escape sequence \\{} in string", c.escape_debug()),
            Self::InvalidUnicodeEscape => {
                write!(f, "\\u needs 4 and \\U needs 8 hex digits naming a Unicode character (not a surrogate)")
            }
            Self::EmptyKey => write!(f, "empty key or table name"),
            Self::DuplicateKey { key, first_line } => {
                write!(f, "duplicate key {key:?} (first set on line {first_line})")
            }
            Self::DuplicateTable { name, first_line } => {
                write!(f, "duplicate table [{name:?}] (first opened on line {first_line})")
            }
            Self::MixedTableKinds { name, first_line } => write!(
                f,
                "{name:?} is used both as a [table] and as an array of tables [[...]] (first on line {first_line})"
            ),
            Self::LeadingZero => write!(f, "integers must not have leading zeros"),
            Self::MisplacedUnderscore => write!(f, "an underscore in an integer must sit between two digits"),
            Self::IntegerOutOfRange => write!(f, "integer does not fit in a signed 64-bit number"),
            Self::InvalidInteger => write!(f, "not a valid decimal integer"),
            Self::InvalidValue => {
                write!(f, "not a valid value: expected a \"string\", an integer, true, false or an array of strings")
            }
            Self::Unsupported(what) => write!(f, "{what} are not supported in this subset of TOML"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.kind)
    }
}

impl std::error::Error for Error {}

/// Accepts at most 64 KiB of UTF-8 text (LF or CRLF, no BOM) made of comments, `[name]` and
/// `[[name]]` headers and `key = value` lines whose values are strings, decimal i64 integers, booleans or arrays of
/// strings; everything else is an [`Error`] with its position.
pub fn parse(input: &[u8]) -> Result<Document, Error> {
    if input.len() > MAX_INPUT {
        return Err(Error { line: 1, col: 1, kind: ErrorKind::TooLarge });
    }
    if input.starts_with(b"\xEF\xBB\xBF") {
        return Err(Error { line: 1, col: 1, kind: ErrorKind::ByteOrderMark });
    }
    let text = match std::str::from_utf8(input) {
        Ok(text) => text,
        Err(e) => {
            let valid = input.get(..e.valid_up_to()).and_then(|p| std::str::from_utf8(p).ok());
            return Err(error_after(valid.unwrap_or(""), ErrorKind::InvalidUtf8));
        }
    };
    // Settled up front so that everywhere below a CR always begins a CRLF.
    let lone_cr =
        text.match_indices('\r').map(|(i, _)| i).find(|&i| !text.get(i..).is_some_and(|rest| rest.starts_with("\r\n")));
    if let Some(i) = lone_cr {
        return Err(error_after(text.get(..i).unwrap_or(""), ErrorKind::LoneCarriageReturn));
    }
    Cursor { rest: text, line: 1, col: 1 }.document()
}

/// An error located just after `prefix`, for the checks made before the cursor runs.
fn error_after(prefix: &str, kind: ErrorKind) -> Error {
    let line = prefix.matches('\n').count().saturating_add(1);
    let last_line = prefix.rsplit('\n').next().unwrap_or("");
    Error { line, col: last_line.chars().count().saturating_add(1), kind }
}

/// TOML's control characters: those must be escaped in strings and may not appear in comments.
fn is_control(c: char) -> bool {
    (c < ' ' && c != '\t') || c == '\u{7f}'
}

fn is_bare_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Characters of unquoted values: wide enough to take in a whole float or date so the error can
/// name what it was, rather than stop halfway through it.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.' | ':')
}

struct Cursor<'a> {
    rest: &'a str,
    line: usize,
    col: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        self.rest = chars.as_str();
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    fn take_while(&mut self, f: fn(char) -> bool) -> &'a str {
        let start = self.rest;
        while self.peek().is_some_and(f) {
            self.bump();
        }
        start.get(..start.len().saturating_sub(self.rest.len())).unwrap_or("")
    }

    fn at(&self, kind: ErrorKind) -> Error {
        Error { line: self.line, col: self.col, kind }
    }

    fn unexpected(&self, expected: &'static str) -> Error {
        match self.peek() {
            Some(found) => self.at(ErrorKind::Unexpected { found, expected }),
            None => self.at(ErrorKind::UnexpectedEnd { expected }),
        }
    }

    fn skip_blanks(&mut self) {
        self.take_while(|c| c == ' ' || c == '\t');
    }

    /// Consumes one LF or CRLF, if that is what comes next.
    fn newline(&mut self) -> bool {
        let crlf = self.rest.starts_with("\r\n");
        if !crlf && !self.rest.starts_with('\n') {
            return false;
        }
        if crlf {
            self.bump();
        }
        self.bump();
        true
    }

    fn comment(&mut self) -> Result<(), Error> {
        self.bump();
        while let Some(c) = self.peek() {
            if c == '\n' || c == '\r' {
                break;
            }
            if is_control(c) {
                return Err(self.at(ErrorKind::ControlCharacter(c)));
            }
            self.bump();
        }
        Ok(())
    }

    /// Blanks, an optional comment, then the end of the line or of the file.
    fn end_of_line(&mut self) -> Result<(), Error> {
        self.skip_blanks();
        if self.peek() == Some('#') {
            self.comment()?;
        }
        if self.peek().is_none() || self.newline() {
            Ok(())
        } else {
            Err(self.unexpected("the end of the line (or a # comment)"))
        }
    }

    fn document(mut self) -> Result<Document, Error> {
        let mut done = Vec::new();
        let mut current = Table { name: String::new(), line: 0, array: false, entries: Vec::new() };
        // Name -> (first line, is an array of tables).
        let mut table_lines: BTreeMap<String, (usize, bool)> = BTreeMap::new();
        let mut key_lines: BTreeMap<String, usize> = BTreeMap::new();
        // The root table's keys, kept once the first header is seen: TOML forbids a [table]
        // or [[table]] whose name is already a root key (`a = 1` then `[a]`).
        let mut root_keys: Option<BTreeMap<String, usize>> = None;
        loop {
            self.skip_blanks();
            let (line, col) = (self.line, self.col);
            match self.peek() {
                None => break,
                Some('#' | '\n' | '\r') => {}
                Some('[') => {
                    let (name, array) = self.table_header()?;
                    let root = root_keys.get_or_insert_with(|| std::mem::take(&mut key_lines));
                    if let Some(&first_line) = root.get(&name) {
                        return Err(Error { line, col, kind: ErrorKind::DuplicateKey { key: name, first_line } });
                    }
                    match table_lines.get(&name) {
                        // One more instance of an array of tables.
                        Some(&(_, true)) if array => {}
                        Some(&(first_line, was_array)) => {
                            let kind = if was_array || array {
                                ErrorKind::MixedTableKinds { name, first_line }
                            } else {
                                ErrorKind::DuplicateTable { name, first_line }
                            };
                            return Err(Error { line, col, kind });
                        }
                        None => {
                            table_lines.insert(name.clone(), (line, array));
                        }
                    }
                    key_lines.clear();
                    let next = Table { name, line, array, entries: Vec::new() };
                    done.push(std::mem::replace(&mut current, next));
                }
                Some(_) => {
                    let key = self.key("a key, a [table] header or a # comment")?;
                    if let Some(&first_line) = key_lines.get(&key) {
                        return Err(Error { line, col, kind: ErrorKind::DuplicateKey { key, first_line } });
                    }
                    self.skip_blanks();
                    if self.peek() == Some('.') {
                        return Err(self.at(ErrorKind::Unsupported("dotted keys")));
                    }
                    if self.peek() != Some('=') {
                        return Err(self.unexpected("= after the key"));
                    }
                    self.bump();
                    self.skip_blanks();
                    let value = self.value()?;
                    key_lines.insert(key.clone(), line);
                    current.entries.push(Entry { key, value, line, col });
                }
            }
            self.end_of_line()?;
        }
        done.push(current);
        Ok(Document { tables: done })
    }

    /// `[name]` or `[[name]]`; the flag says which. The brackets of `[[` and `]]` must touch.
    fn table_header(&mut self) -> Result<(String, bool), Error> {
        self.bump();
        let array = self.peek() == Some('[');
        if array {
            self.bump();
        }
        self.skip_blanks();
        let name = self.key("a table name")?;
        self.skip_blanks();
        if self.peek() == Some('.') {
            return Err(self.at(ErrorKind::Unsupported("dotted table names")));
        }
        let close = if array { "]] to close the array-of-tables header" } else { "] to close the table header" };
        if self.peek() != Some(']') {
            return Err(self.unexpected(close));
        }
        self.bump();
        if array {
            if self.peek() != Some(']') {
                return Err(self.unexpected(close));
            }
            self.bump();
        }
        Ok((name, array))
    }

    /// A bare or quoted key; quoted keys are decoded so that `a` and `"a"` compare equal.
    fn key(&mut self, expected: &'static str) -> Result<String, Error> {
        let empty = self.at(ErrorKind::EmptyKey);
        let key = match self.peek() {
            Some('"') => self.basic_string()?,
            Some('\'') => self.literal_string()?,
            Some(c) if is_bare_key_char(c) => self.take_while(is_bare_key_char).to_owned(),
            _ => return Err(self.unexpected(expected)),
        };
        if key.is_empty() {
            return Err(empty);
        }
        Ok(key)
    }

    fn value(&mut self) -> Result<Value, Error> {
        match self.peek() {
            Some('"' | '\'') => Ok(Value::Str(self.string()?)),
            Some('[') => self.string_array(),
            Some('{') => Err(self.at(ErrorKind::Unsupported("inline tables"))),
            Some(c) if is_token_char(c) => self.scalar(),
            _ => Err(self.unexpected("a value")),
        }
    }

    fn string(&mut self) -> Result<String, Error> {
        if self.rest.starts_with("\"\"\"") || self.rest.starts_with("'''") {
            return Err(self.at(ErrorKind::Unsupported("multi-line strings")));
        }
        match self.peek() {
            Some('"') => self.basic_string(),
            Some('\'') => self.literal_string(),
            _ => Err(self.unexpected("a string")),
        }
    }

    fn basic_string(&mut self) -> Result<String, Error> {
        let unterminated = self.at(ErrorKind::UnterminatedString);
        self.bump();
        let mut out = String::new();
        loop {
            let (line, col) = (self.line, self.col);
            match self.bump() {
                None | Some('\n' | '\r') => return Err(unterminated),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape(line, col)?),
                Some(c) if is_control(c) => return Err(Error { line, col, kind: ErrorKind::ControlCharacter(c) }),
                Some(c) => out.push(c),
            }
        }
    }

    /// The character after a backslash; errors point at the backslash.
    fn escape(&mut self, line: usize, col: usize) -> Result<char, Error> {
        let fail = |kind| Error { line, col, kind };
        match self.bump() {
            Some('b') => Ok('\u{8}'),
            Some('t') => Ok('\t'),
            Some('n') => Ok('\n'),
            Some('f') => Ok('\u{c}'),
            Some('r') => Ok('\r'),
            Some('"') => Ok('"'),
            Some('\\') => Ok('\\'),
            Some('u') => self.unicode_escape(4).ok_or(fail(ErrorKind::InvalidUnicodeEscape)),
            Some('U') => self.unicode_escape(8).ok_or(fail(ErrorKind::InvalidUnicodeEscape)),
            Some(c) => Err(fail(ErrorKind::InvalidEscape(c))),
            None => Err(fail(ErrorKind::UnterminatedString)),
        }
    }

    fn unicode_escape(&mut self, digits: usize) -> Option<char> {
        let mut code: u32 = 0;
        for _ in 0..digits {
            let digit = self.peek()?.to_digit(16)?;
            self.bump();
            code = code.checked_mul(16)?.checked_add(digit)?;
        }
        // from_u32 refuses surrogates and values beyond U+10FFFF.
        char::from_u32(code)
    }

    fn literal_string(&mut self) -> Result<String, Error> {
        let unterminated = self.at(ErrorKind::UnterminatedString);
        self.bump();
        let mut out = String::new();
        loop {
            let (line, col) = (self.line, self.col);
            match self.bump() {
                None | Some('\n' | '\r') => return Err(unterminated),
                Some('\'') => return Ok(out),
                Some(c) if is_control(c) => return Err(Error { line, col, kind: ErrorKind::ControlCharacter(c) }),
                Some(c) => out.push(c),
            }
        }
    }

    /// Strings only, so the loop never recurses; newlines and comments may sit between items.
    fn string_array(&mut self) -> Result<Value, Error> {
        let unterminated = self.at(ErrorKind::UnterminatedArray);
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_array_space()?;
            match self.peek() {
                Some(']') => break,
                None => return Err(unterminated),
                _ => items.push(self.array_item()?),
            }
            self.skip_array_space()?;
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(']') => break,
                None => return Err(unterminated),
                Some(_) => return Err(self.unexpected(", or ] after an array item")),
            }
        }
        self.bump();
        Ok(Value::StrArray(items))
    }

    fn skip_array_space(&mut self) -> Result<(), Error> {
        loop {
            self.skip_blanks();
            if self.peek() == Some('#') {
                self.comment()?;
            }
            if !self.newline() {
                return Ok(());
            }
        }
    }

    fn array_item(&mut self) -> Result<String, Error> {
        let (line, col) = (self.line, self.col);
        let unsupported = |what| Error { line, col, kind: ErrorKind::Unsupported(what) };
        match self.peek() {
            Some('"' | '\'') => self.string(),
            Some('[') => Err(unsupported("nested arrays")),
            Some('{') => Err(unsupported("arrays of inline tables")),
            Some(c) if is_token_char(c) => Err(match self.scalar()? {
                Value::Int(_) => unsupported("arrays of integers"),
                Value::Bool(_) => unsupported("arrays of booleans"),
                Value::Str(_) | Value::StrArray(_) => unsupported("arrays of values other than strings"),
            }),
            _ => Err(self.unexpected("a string")),
        }
    }

    /// An unquoted value: a boolean or a decimal integer, or an error naming what else it is.
    fn scalar(&mut self) -> Result<Value, Error> {
        let (line, col) = (self.line, self.col);
        let token = self.take_while(is_token_char);
        scalar(token).map_err(|kind| Error { line, col, kind })
    }
}

fn scalar(token: &str) -> Result<Value, ErrorKind> {
    match token {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        "inf" | "+inf" | "-inf" | "nan" | "+nan" | "-nan" => return Err(ErrorKind::Unsupported("floats")),
        _ => {}
    }
    let unsigned = token.strip_prefix(['+', '-']).unwrap_or(token);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(ErrorKind::InvalidValue);
    }
    let is_date =
        matches!(unsigned.as_bytes(), [a, b, c, d, b'-', ..] if [a, b, c, d].iter().all(|x| x.is_ascii_digit()));
    if is_date || unsigned.contains(':') {
        return Err(ErrorKind::Unsupported("dates and times"));
    }
    if ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p)) {
        return Err(ErrorKind::Unsupported("hexadecimal, octal and binary integers"));
    }
    if unsigned.contains(['.', 'e', 'E']) {
        return Err(ErrorKind::Unsupported("floats"));
    }
    decimal(token).map(Value::Int)
}

/// TOML decimal integer: optional sign, no leading zero, `_` only between digits, fits i64.
fn decimal(token: &str) -> Result<i64, ErrorKind> {
    let (negative, digits) = match token.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] | rest => (false, rest),
    };
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return Err(ErrorKind::LeadingZero);
    }
    let mut value: i64 = 0;
    let mut after_digit = false;
    for &b in digits {
        if b == b'_' {
            if !after_digit {
                return Err(ErrorKind::MisplacedUnderscore);
            }
            after_digit = false;
            continue;
        }
        let digit = i64::from(char::from(b).to_digit(10).ok_or(ErrorKind::InvalidInteger)?);
        // Negative numbers accumulate downwards so that i64::MIN is reachable.
        value = value
            .checked_mul(10)
            .and_then(|v| if negative { v.checked_sub(digit) } else { v.checked_add(digit) })
            .ok_or(ErrorKind::IntegerOutOfRange)?;
        after_digit = true;
    }
    match (after_digit, digits.is_empty()) {
        (true, _) => Ok(value),
        (false, true) => Err(ErrorKind::InvalidInteger),
        (false, false) => Err(ErrorKind::MisplacedUnderscore),
    }
}

#[cfg(test)]
mod tests;
