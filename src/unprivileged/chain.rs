//! An audit log's hash chain, checked after the process has given up root for good
//! (`--verify-log`): the JSON parser it needs is not code the root process runs.

use crate::parse::json;
use crate::policy::chain::{link_of, CHAIN_FIELD, ROTATED_FROM};

/// Why a log fails verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    NotJson,
    NoLink,
    WrongLink,
    Unterminated,
}

impl core::fmt::Display for Broken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Broken::NotJson => write!(f, "not a JSON object"),
            Broken::NoLink => write!(f, "has no {CHAIN_FIELD}"),
            Broken::WrongLink => {
                write!(f, "{CHAIN_FIELD} does not match the line before (edited, deleted or reordered)")
            }
            Broken::Unterminated => write!(f, "last line is incomplete"),
        }
    }
}

/// Checks a log's hash chain line by line; feed every line (without its newline) in order.
#[derive(Debug, Default)]
pub struct Chain {
    prev: Option<Vec<u8>>,
    pub lines: usize,
    /// The first line fed links to a rotated file that was not given (its `rotated_from`).
    pub starts_after: Option<String>,
}

impl Chain {
    /// Verifies `line` links to the line before it.
    pub fn feed(&mut self, line: &[u8]) -> Result<(), Broken> {
        self.lines += 1;
        let value = json::parse(line).map_err(|_| Broken::NotJson)?;
        let link = match value.get(CHAIN_FIELD) {
            Some(json::Value::Str(s)) => s.clone(),
            Some(_) => return Err(Broken::NoLink),
            None if matches!(value, json::Value::Object(_)) => return Err(Broken::NoLink),
            None => return Err(Broken::NotJson),
        };
        if link != link_of(self.prev.as_deref()) {
            // The first record of a rotated log links to the last one of the file before it
            // (`root::rotation`); given on its own, that file's chain starts there.
            match value.get(ROTATED_FROM) {
                Some(json::Value::Str(from)) if self.lines == 1 => self.starts_after = Some(from.clone()),
                _ => return Err(Broken::WrongLink),
            }
        }
        self.prev = Some(line.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Record;

    fn chain_all(text: &[u8]) -> Result<usize, (usize, Broken)> {
        let mut c = Chain::default();
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            c.feed(line).map_err(|e| (c.lines, e))?;
        }
        Ok(c.lines)
    }

    fn chained(n: usize) -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for i in 0..n {
            let mut r = Record::new();
            r.int("n", i as i64).str(CHAIN_FIELD, link_of(lines.last().map(|l| l.as_slice())));
            let mut l = r.to_line();
            l.pop();
            lines.push(l);
        }
        lines
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(chain_all(&chained(5).join(&b'\n')), Ok(5));
    }

    #[test]
    fn detects_an_edited_line() {
        let mut lines = chained(4);
        lines[1] = lines[1].replace_bytes(b"\"n\":1", b"\"n\":9");
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((3, Broken::WrongLink)));
    }

    #[test]
    fn detects_a_deleted_line() {
        let mut lines = chained(4);
        lines.remove(2);
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((3, Broken::WrongLink)));
        let mut lines = chained(4);
        lines.remove(0);
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((1, Broken::WrongLink)));
    }

    #[test]
    fn detects_reordered_lines() {
        let mut lines = chained(4);
        lines.swap(1, 2);
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((2, Broken::WrongLink)));
    }

    #[test]
    fn detects_garbage_and_unchained_lines() {
        assert_eq!(chain_all(b"not json"), Err((1, Broken::NotJson)));
        assert_eq!(chain_all(b"{\"a\":1}"), Err((1, Broken::NoLink)));
    }

    trait ReplaceBytes {
        fn replace_bytes(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }
    impl ReplaceBytes for Vec<u8> {
        fn replace_bytes(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
            let s = String::from_utf8(self.clone()).unwrap();
            s.replace(std::str::from_utf8(from).unwrap(), std::str::from_utf8(to).unwrap()).into_bytes()
        }
    }
}
