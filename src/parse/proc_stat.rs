//! `/proc/self/stat`, the one field of it escapes reads: `tty_nr`, the device of the
//! controlling terminal (0 when there is none). The line is `pid (comm) state ppid pgrp
//! session tty_nr …`, where comm may hold spaces and parentheses: fields are counted after the
//! last `)`.

#![forbid(unsafe_code)]

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No `)` ends the command name, or too few fields follow it.
    Short,
    /// The field is not a decimal number that fits 32 bits.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Short => "too few fields",
            Error::Malformed => "tty_nr is not a decimal number",
        })
    }
}

impl std::error::Error for Error {}

/// The `tty_nr` field (the 7th) of a stat line.
pub fn tty_nr(stat: &[u8]) -> Result<u32, Error> {
    let close = stat.iter().rposition(|&b| b == b')').ok_or(Error::Short)?;
    let after = stat.get(close + 1..).unwrap_or_default();
    // After comm: state, ppid, pgrp, session, tty_nr.
    let field = after.split(|&b| b == b' ').filter(|f| !f.is_empty()).nth(4).ok_or(Error::Short)?;
    if field.is_empty() || field.len() > 10 || !field.iter().all(u8::is_ascii_digit) {
        return Err(Error::Malformed);
    }
    std::str::from_utf8(field).ok().and_then(|s| s.parse().ok()).ok_or(Error::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tty_nr_after_the_command_name() {
        let real = b"4242 (bash) S 4241 4242 4242 34816 4300 4194304 1084 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n";
        assert_eq!(tty_nr(real), Ok(34816));
        // A command name with spaces and parentheses cannot shift the fields.
        let odd = b"7 (a) b (c) 9) R 1 7 7 0 -1 0\n";
        assert_eq!(tty_nr(odd), Ok(0));
    }

    #[test]
    fn refuses_what_is_not_a_stat_line() {
        for bad in [
            &b""[..],
            b"1 (x",
            b"1 (x) S 1 1",
            b"1 (x) S 1 1 1 -5 0",
            b"1 (x) S 1 1 1 99999999999 0",
            b"1 (x) S 1 1 1 12a 0",
        ] {
            assert!(tty_nr(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
