//! Writing a reply (the helpers): one line per edit, the code last, and nothing that could be
//! read back as more than was meant: names are checked, relayed text is one line, and a value
//! that no plain line can carry is written in the quoted form.

use super::edit::is_name;
use super::parse::ESCAPES;

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

/// A reply being built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// `-NAME`: the command will not see NAME.
    pub fn delete(&mut self, name: &[u8]) -> Result<(), WriteError> {
        if !is_name(name) {
            return Err(WriteError::BadName);
        }
        self.line(b"-", name);
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

    /// `$NAME=value`. A value with no control character but tab is written plainly, as op 2.81
    /// reads it; any other is written in newer op's quoted form (`"$NAME=a\nb"`), since a plain
    /// line would end at the newline (or lose a trailing CR). Bytes that no escape stands for are
    /// refused, so what is read back is always exactly `value`.
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), WriteError> {
        if !is_name(name) {
            return Err(WriteError::BadName);
        }
        if value.iter().all(|&c| c == b'\t' || !c.is_ascii_control()) {
            let mut line = Vec::with_capacity(name.len() + value.len() + 1);
            line.extend_from_slice(name);
            line.push(b'=');
            line.extend_from_slice(value);
            self.line(b"$", &line);
            return Ok(());
        }
        let mut line = Vec::with_capacity(value.len() + name.len() + 8);
        line.extend_from_slice(b"$");
        line.extend_from_slice(name);
        line.push(b'=');
        for &c in value {
            let needs_escape = c == b'"' || c == b'\\' || (c.is_ascii_control() && c != b'\t');
            if !needs_escape {
                line.push(c);
                continue;
            }
            let &(letter, _) = ESCAPES.iter().find(|&&(_, byte)| byte == c).ok_or(WriteError::Unrepresentable(c))?;
            line.extend_from_slice(&[b'\\', letter]);
        }
        line.push(b'"');
        self.line(b"\"", &line);
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
