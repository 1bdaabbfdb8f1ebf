//! Strict RFC 8259 JSON.
//!
//! Invariant: a document has exactly one meaning. Inputs that other parsers read differently
//! (duplicate keys, lone surrogates, a BOM, trailing data, lax numbers) are refused rather than
//! interpreted, so what escapes verifies is what the issuer signed. Nesting is capped at
//! [`MAX_DEPTH`] so the recursion is bounded.

#![deny(unsafe_code)]

use std::collections::BTreeSet;
use std::fmt;

/// Deepest nesting of arrays/objects accepted; grants and key sets need far less.
pub const MAX_DEPTH: usize = 32;

/// A parsed JSON value. Objects keep their members in document order; keys are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integer written without fraction or exponent that fits in `i64`.
    Int(i64),
    /// Any other valid number, as written (floats, exponents, integers beyond `i64`).
    Number(String),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member named `key`, if `self` is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// What was wrong; see [`Error`] for where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidUtf8,
    ByteOrderMark,
    UnexpectedEnd,
    ExpectedValue,
    InvalidLiteral,
    ExpectedKey,
    ExpectedColon,
    ExpectedCommaOrBracket,
    ExpectedCommaOrBrace,
    TrailingComma,
    TrailingData,
    TooDeep,
    DuplicateKey,
    ControlCharacter,
    InvalidEscape,
    InvalidUnicodeEscape,
    LoneSurrogate,
    InvalidNumber,
    LeadingZero,
}

/// A refused document: `offset` is the byte at which the problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub offset: usize,
    pub kind: ErrorKind,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::InvalidUtf8 => "the text is not valid UTF-8",
            ErrorKind::ByteOrderMark => "the text starts with a byte order mark",
            ErrorKind::UnexpectedEnd => "the text ends in the middle of a value",
            ErrorKind::ExpectedValue => "expected a value",
            ErrorKind::InvalidLiteral => "unknown word (only true, false and null are allowed)",
            ErrorKind::ExpectedKey => "expected a quoted member name",
            ErrorKind::ExpectedColon => "expected ':' after the member name",
            ErrorKind::ExpectedCommaOrBracket => "expected ',' or ']' in the array",
            ErrorKind::ExpectedCommaOrBrace => "expected ',' or '}' in the object",
            ErrorKind::TrailingComma => "a comma is followed by the end of the array or object",
            ErrorKind::TrailingData => "unexpected data after the end of the document",
            ErrorKind::TooDeep => "arrays and objects are nested more than 32 deep",
            ErrorKind::DuplicateKey => "the same member name appears twice in one object",
            ErrorKind::ControlCharacter => "a string contains a raw control character",
            ErrorKind::InvalidEscape => "a string contains an unknown backslash escape",
            ErrorKind::InvalidUnicodeEscape => "a \\u escape is not followed by four hex digits",
            ErrorKind::LoneSurrogate => "a \\u escape is an unpaired UTF-16 surrogate",
            ErrorKind::InvalidNumber => "a number is malformed",
            ErrorKind::LeadingZero => "a number has a leading zero",
        };
        f.write_str(s)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for Error {}

/// Accepts exactly one RFC 8259 value in UTF-8 (no BOM), with unique object keys, paired
/// surrogates, and at most [`MAX_DEPTH`] levels of nesting.
pub fn parse(input: &[u8]) -> Result<Value, Error> {
    if input.starts_with(&[0xef, 0xbb, 0xbf]) {
        return Err(Error { offset: 0, kind: ErrorKind::ByteOrderMark });
    }
    let text =
        std::str::from_utf8(input).map_err(|e| Error { offset: e.valid_up_to(), kind: ErrorKind::InvalidUtf8 })?;
    let mut p = Parser { text, bytes: input, pos: 0 };
    p.skip_whitespace();
    let value = p.value(0)?;
    p.skip_whitespace();
    if p.pos < p.bytes.len() {
        return Err(p.error(ErrorKind::TrailingData));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, kind: ErrorKind) -> Error {
        Error { offset: self.pos, kind }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<u8, Error> {
        let b = self.peek().ok_or(self.error(ErrorKind::UnexpectedEnd))?;
        self.pos += 1;
        Ok(b)
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `depth` counts the arrays/objects enclosing this value, which bounds the recursion.
    fn value(&mut self, depth: usize) -> Result<Value, Error> {
        match self.peek() {
            None => Err(self.error(ErrorKind::UnexpectedEnd)),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(_) => Err(self.error(ErrorKind::ExpectedValue)),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, Error> {
        let end = self.pos.saturating_add(word.len());
        if self.bytes.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(value)
        } else {
            Err(self.error(ErrorKind::InvalidLiteral))
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, Error> {
        let inner = depth.saturating_add(1);
        if inner > MAX_DEPTH {
            return Err(self.error(ErrorKind::TooDeep));
        }
        Ok(inner)
    }

    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        let depth = self.enter(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        return Err(self.error(ErrorKind::TrailingComma));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                Some(_) => return Err(self.error(ErrorKind::ExpectedCommaOrBracket)),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Error> {
        let depth = self.enter(depth)?;
        self.pos += 1; // '{'
        let mut members = Vec::new();
        // A set rather than a scan of `members` keeps large objects linear-logarithmic.
        let mut seen = BTreeSet::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            let key_offset = self.pos;
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                Some(_) => return Err(self.error(ErrorKind::ExpectedKey)),
            }
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                return Err(Error { offset: key_offset, kind: ErrorKind::DuplicateKey });
            }
            self.skip_whitespace();
            match self.peek() {
                Some(b':') => self.pos += 1,
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                Some(_) => return Err(self.error(ErrorKind::ExpectedColon)),
            }
            self.skip_whitespace();
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        return Err(self.error(ErrorKind::TrailingComma));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                Some(_) => return Err(self.error(ErrorKind::ExpectedCommaOrBrace)),
            }
        }
    }

    /// The raw text between two positions that sit next to ASCII delimiters, hence on
    /// character boundaries; `get` keeps that an error rather than a panic if it were ever false.
    fn slice(&self, start: usize, end: usize) -> Result<&str, Error> {
        self.text.get(start..end).ok_or(Error { offset: start, kind: ErrorKind::InvalidUtf8 })
    }

    fn string(&mut self) -> Result<String, Error> {
        self.pos += 1; // opening '"'
        let mut out = String::new();
        let mut run_start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    out.push_str(self.slice(run_start, self.pos)?);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.slice(run_start, self.pos)?);
                    out.push(self.escape()?);
                    run_start = self.pos;
                }
                Some(0x00..=0x1f) => return Err(self.error(ErrorKind::ControlCharacter)),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn escape(&mut self) -> Result<char, Error> {
        let start = self.pos;
        self.pos += 1; // '\\'
        let c = match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(start),
            _ => return Err(Error { offset: start, kind: ErrorKind::InvalidEscape }),
        };
        Ok(c)
    }

    /// Called after `\u`; `start` is the offset of the backslash, for error reports.
    fn unicode_escape(&mut self, start: usize) -> Result<char, Error> {
        let lone = Error { offset: start, kind: ErrorKind::LoneSurrogate };
        let first = self.hex4()?;
        let code = match first {
            0xd800..=0xdbff => {
                let end = self.pos.saturating_add(2);
                if self.bytes.get(self.pos..end) != Some(b"\\u") {
                    return Err(lone);
                }
                self.pos = end;
                let second = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&second) {
                    return Err(lone);
                }
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(lone),
            _ => first,
        };
        char::from_u32(code).ok_or(lone)
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut code: u32 = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                None => return Err(self.error(ErrorKind::UnexpectedEnd)),
                Some(_) => return Err(self.error(ErrorKind::InvalidUnicodeEscape)),
            };
            self.pos += 1;
            code = (code << 4) | u32::from(digit);
        }
        Ok(code)
    }

    fn number(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error(ErrorKind::LeadingZero));
                }
            }
            Some(b'1'..=b'9') => {
                self.skip_digits();
            }
            _ => return Err(self.error(ErrorKind::InvalidNumber)),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
            if self.skip_digits() == 0 {
                return Err(self.error(ErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.skip_digits() == 0 {
                return Err(self.error(ErrorKind::InvalidNumber));
            }
        }
        let raw = self.slice(start, self.pos)?;
        if integral {
            if let Ok(i) = raw.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        Ok(Value::Number(raw.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(input: &[u8]) -> ErrorKind {
        match parse(input) {
            Err(e) => e.kind,
            Ok(v) => panic!("accepted {:?} as {v:?}", String::from_utf8_lossy(input)),
        }
    }

    fn s(x: &str) -> Value {
        Value::Str(x.to_owned())
    }

    #[test]
    fn parses_scalars() {
        assert_eq!(parse(b"null"), Ok(Value::Null));
        assert_eq!(parse(b"true"), Ok(Value::Bool(true)));
        assert_eq!(parse(b"false"), Ok(Value::Bool(false)));
        assert_eq!(parse(b"\"hi\""), Ok(s("hi")));
        assert_eq!(parse(b" \t\r\n42 \t\r\n"), Ok(Value::Int(42)));
    }

    #[test]
    fn parses_nested_document_in_order() {
        let v = parse(br#"{"b":[1,{"c":null}],"a":"x"}"#);
        assert_eq!(
            v,
            Ok(Value::Object(vec![
                ("b".into(), Value::Array(vec![Value::Int(1), Value::Object(vec![("c".into(), Value::Null)])])),
                ("a".into(), s("x")),
            ]))
        );
    }

    #[test]
    fn integers_in_i64_range_are_int() {
        assert_eq!(parse(b"9223372036854775807"), Ok(Value::Int(i64::MAX)));
        assert_eq!(parse(b"-9223372036854775808"), Ok(Value::Int(i64::MIN)));
        assert_eq!(parse(b"-0"), Ok(Value::Int(0)));
    }

    #[test]
    fn integers_beyond_i64_are_raw_numbers() {
        assert_eq!(parse(b"9223372036854775808"), Ok(Value::Number("9223372036854775808".into())));
        assert_eq!(parse(b"-9223372036854775809"), Ok(Value::Number("-9223372036854775809".into())));
        let huge = "9".repeat(5000);
        assert_eq!(parse(huge.as_bytes()), Ok(Value::Number(huge)));
    }

    #[test]
    fn fractions_and_exponents_are_raw_numbers() {
        for n in ["1.0", "-0.5", "1e3", "1E+3", "1e-3", "0.0e0", "1e400"] {
            assert_eq!(parse(n.as_bytes()), Ok(Value::Number(n.into())), "{n}");
        }
    }

    #[test]
    fn refuses_lax_numbers() {
        assert_eq!(kind(b"01"), ErrorKind::LeadingZero);
        assert_eq!(kind(b"-01"), ErrorKind::LeadingZero);
        for n in ["+1", ".5", "1.", "-", "1e", "1e+", "-.5", "1.e3"] {
            let k = kind(n.as_bytes());
            assert!(matches!(k, ErrorKind::InvalidNumber | ErrorKind::ExpectedValue), "{n}: {k:?}");
        }
        for n in ["NaN", "Infinity", "-Infinity", "0x10"] {
            assert!(parse(n.as_bytes()).is_err(), "{n}");
        }
    }

    #[test]
    fn decodes_every_escape() {
        assert_eq!(
            parse(br#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC""#),
            Ok(s("\"\\/\u{8}\u{c}\n\r\t\u{41}\u{e9}\u{20ac}"))
        );
    }

    #[test]
    fn decodes_surrogate_pair() {
        assert_eq!(parse(br#""\ud83d\ude00""#), Ok(s("\u{1f600}")));
    }

    #[test]
    fn keeps_raw_utf8() {
        assert_eq!(parse("\"h\u{e9}\u{1f600}\"".as_bytes()), Ok(s("h\u{e9}\u{1f600}")));
    }

    #[test]
    fn refuses_lone_and_reversed_surrogates() {
        for input in [
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\ud800\n""#,
            r#""\ud800\u0041""#,
            r#""\udc00""#,
            r#""\ude00\ud83d""#,
            r#""\ud800\ud800""#,
        ] {
            assert_eq!(kind(input.as_bytes()), ErrorKind::LoneSurrogate, "{input}");
        }
    }

    #[test]
    fn refuses_unknown_escapes() {
        for input in [r#""\a""#, r#""\x41""#, r#""\'""#, r#""\U0041""#, "\"\\\u{e9}\""] {
            assert_eq!(kind(input.as_bytes()), ErrorKind::InvalidEscape, "{input}");
        }
        assert_eq!(kind(br#""\u00g0""#), ErrorKind::InvalidUnicodeEscape);
        assert_eq!(kind(br#""\u00""#), ErrorKind::InvalidUnicodeEscape);
    }

    #[test]
    fn refuses_raw_control_characters_in_strings() {
        assert_eq!(parse(b"\"a\0b\""), Err(Error { offset: 2, kind: ErrorKind::ControlCharacter }));
        assert_eq!(kind(b"\"a\nb\""), ErrorKind::ControlCharacter);
        assert_eq!(kind(b"\"\x1f\""), ErrorKind::ControlCharacter);
        // DEL is not a JSON control character; callers that care check it themselves.
        assert_eq!(parse(b"\"\x7f\""), Ok(s("\u{7f}")));
    }

    #[test]
    fn refuses_duplicate_keys() {
        assert_eq!(parse(br#"{"a":1,"a":2}"#), Err(Error { offset: 7, kind: ErrorKind::DuplicateKey }));
    }

    #[test]
    fn refuses_duplicate_keys_nested() {
        assert_eq!(kind(br#"{"x":[{"k":1,"j":2,"k":3}]}"#), ErrorKind::DuplicateKey);
    }

    #[test]
    fn refuses_duplicate_keys_after_decoding_escapes() {
        assert_eq!(kind(br#"{"a":1,"\u0061":2}"#), ErrorKind::DuplicateKey);
    }

    #[test]
    fn same_key_in_sibling_objects_is_fine() {
        assert!(parse(br#"[{"a":1},{"a":2}]"#).is_ok());
    }

    #[test]
    fn refuses_trailing_commas() {
        assert_eq!(kind(b"[1,]"), ErrorKind::TrailingComma);
        assert_eq!(kind(br#"{"a":1,}"#), ErrorKind::TrailingComma);
        assert_eq!(kind(b"[,]"), ErrorKind::ExpectedValue);
    }

    #[test]
    fn refuses_trailing_data() {
        assert_eq!(parse(b"{} x"), Err(Error { offset: 3, kind: ErrorKind::TrailingData }));
        assert_eq!(kind(b"1 2"), ErrorKind::TrailingData);
        assert_eq!(kind(b"{}{}"), ErrorKind::TrailingData);
        assert_eq!(kind(b"null\0"), ErrorKind::TrailingData);
        assert_eq!(kind(b"truex"), ErrorKind::TrailingData);
    }

    #[test]
    fn refuses_empty_and_truncated_input() {
        for input in ["", "   ", "[", "{", "{\"a\"", "{\"a\":", "\"abc", "[1", "\"\\u12", "\"\\"] {
            assert_eq!(kind(input.as_bytes()), ErrorKind::UnexpectedEnd, "{input:?}");
        }
    }

    #[test]
    fn refuses_non_json_whitespace() {
        assert_eq!(kind(b"\x0c1"), ErrorKind::ExpectedValue);
        assert_eq!(kind("\u{a0}1".as_bytes()), ErrorKind::ExpectedValue);
        assert_eq!(kind(b"1\x0b"), ErrorKind::TrailingData);
    }

    #[test]
    fn refuses_bom() {
        assert_eq!(kind(b"\xef\xbb\xbf{}"), ErrorKind::ByteOrderMark);
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(parse(b"\"a\xff\""), Err(Error { offset: 2, kind: ErrorKind::InvalidUtf8 }));
        // Overlong encoding of '/' and an encoded surrogate.
        assert_eq!(kind(b"\"\xc0\xaf\""), ErrorKind::InvalidUtf8);
        assert_eq!(kind(b"\"\xed\xa0\x80\""), ErrorKind::InvalidUtf8);
    }

    #[test]
    fn refuses_structural_mistakes() {
        assert_eq!(kind(b"{1:2}"), ErrorKind::ExpectedKey);
        assert_eq!(kind(b"{'a':2}"), ErrorKind::ExpectedKey);
        assert_eq!(kind(br#"{"a" 2}"#), ErrorKind::ExpectedColon);
        assert_eq!(kind(br#"{"a":1 "b":2}"#), ErrorKind::ExpectedCommaOrBrace);
        assert_eq!(kind(b"[1 2]"), ErrorKind::ExpectedCommaOrBracket);
        assert_eq!(kind(b"[tru]"), ErrorKind::InvalidLiteral);
        assert_eq!(kind(b"nul"), ErrorKind::InvalidLiteral);
        assert_eq!(kind(b"True"), ErrorKind::ExpectedValue);
        assert_eq!(kind(b"]"), ErrorKind::ExpectedValue);
    }

    #[test]
    fn accepts_nesting_up_to_the_limit() {
        let doc = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(doc.as_bytes()).is_ok());
        let doc = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(parse(doc.as_bytes()).is_ok());
    }

    #[test]
    fn refuses_nesting_beyond_the_limit() {
        let doc = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(doc.as_bytes()), Err(Error { offset: MAX_DEPTH, kind: ErrorKind::TooDeep }));
    }

    #[test]
    fn refuses_hostile_deep_nesting_without_overflowing_the_stack() {
        assert_eq!(kind("[".repeat(10_000).as_bytes()), ErrorKind::TooDeep);
        assert_eq!(kind("{\"a\":".repeat(10_000).as_bytes()), ErrorKind::TooDeep);
    }

    #[test]
    fn error_display_names_offset_and_problem() {
        let e = parse(br#"{"a":1,"a":2}"#).unwrap_err();
        assert_eq!(e.to_string(), "invalid JSON at byte 7: the same member name appears twice in one object");
    }

    #[test]
    fn get_finds_object_members_only() {
        let v = parse(br#"{"a":1,"b":"x"}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Int(1)));
        assert_eq!(v.get("b").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("c"), None);
        assert_eq!(Value::Array(vec![]).get("a"), None);
    }

    fn same_as_serde(ours: &Value, theirs: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (ours, theirs) {
            (Value::Null, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Int(a), J::Number(b)) => b.as_i64() == Some(*a),
            (Value::Number(a), J::Number(b)) => {
                // Raw text: compare numerically where serde can represent it.
                let ours: f64 = a.parse().unwrap_or(f64::NAN);
                b.as_f64().is_some_and(|t| t == ours)
            }
            (Value::Str(a), J::String(b)) => a == b,
            (Value::Array(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_as_serde(x, y)),
            (Value::Object(a), J::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_as_serde(v, w)))
            }
            _ => false,
        }
    }

    #[test]
    fn agrees_with_serde_json_on_valid_documents() {
        let docs: &[&str] = &[
            "null",
            "true",
            "0",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "1.5",
            "-2.25e10",
            "1E-7",
            "18446744073709551615",
            r#""""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\u20ac\ud83d\ude00 raw é €""#,
            "[]",
            "{}",
            " [ 1 , [ 2 , [ 3 ] ] ] ",
            r#"{"alg":"EdDSA","typ":"JWT","kid":"key-1700000000000"}"#,
            r#"{"iss":"https://id.example.com","sub":"agent+deploy@example.com","aud":"escapes",
               "iat":1700000000,"exp":1700000300,"command":["rm","-rf","/tmp/test"],
               "authorization_details":[{"type":"command","x":{"y":[null,true,false,0.5]}}]}"#,
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"key-1"}]}"#,
        ];
        for doc in docs {
            let ours = parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{doc}: {e}"));
            let theirs: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert!(same_as_serde(&ours, &theirs), "{doc}: {ours:?} vs {theirs:?}");
        }
    }
}
