//! `/proc/self/status`, the one line of it escapes reads: `SigIgn`, the mask of signals the
//! caller left ignored (the only dispositions besides the default that survive execve).
//! `process::harden` resets just those instead of making a syscall for each of the 62
//! catchable signals; when this parser refuses, it resets them all, so a surprise in the file
//! costs time, never safety.

#![deny(unsafe_code)]

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No line starts with `SigIgn:`.
    Missing,
    /// More than one `SigIgn:` line.
    Repeated,
    /// The value is not a tab and 16 hex digits.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Missing => "no SigIgn line",
            Error::Repeated => "more than one SigIgn line",
            Error::Malformed => "SigIgn is not a tab and 16 hex digits",
        })
    }
}

impl std::error::Error for Error {}

/// The `SigIgn` mask: bit n-1 set means signal n is ignored. Accepts exactly one line
/// `SigIgn:\t` followed by 16 hex digits, as every Linux since 2.6 writes it.
pub fn sig_ignored(status: &[u8]) -> Result<u64, Error> {
    let mut found = None;
    for line in status.split(|&b| b == b'\n') {
        let Some(value) = line.strip_prefix(b"SigIgn:") else { continue };
        if found.is_some() {
            return Err(Error::Repeated);
        }
        let digits = value.strip_prefix(b"\t").ok_or(Error::Malformed)?;
        if digits.len() != 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(Error::Malformed);
        }
        let text = std::str::from_utf8(digits).map_err(|_| Error::Malformed)?;
        found = Some(u64::from_str_radix(text, 16).map_err(|_| Error::Malformed)?);
    }
    found.ok_or(Error::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &[u8] = b"Name:\tcat\nUmask:\t0022\nState:\tR (running)\nSigQ:\t0/96364\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001001\nSigCgt:\t0000000000000000\nCapInh:\t0000000000000000\n";

    #[test]
    fn reads_the_mask_of_a_real_status_file() {
        // SIGHUP (1) and SIGPIPE (13) ignored.
        assert_eq!(sig_ignored(REAL), Ok((1 << 0) | (1 << 12)));
        assert_eq!(sig_ignored(b"SigIgn:\tffffffffffffffff"), Ok(u64::MAX));
        assert_eq!(sig_ignored(b"SigIgn:\t000000018000FFFF\n"), Ok(0x1_8000_ffff));
    }

    #[test]
    fn reads_this_processs_own_status() {
        let own = std::fs::read("/proc/self/status").unwrap();
        assert!(sig_ignored(&own).is_ok());
    }

    #[test]
    fn refuses_anything_but_one_well_formed_line() {
        for (bad, want) in [
            (&b""[..], Error::Missing),
            (b"SigBlk:\t0000000000000000\n", Error::Missing),
            (b" SigIgn:\t0000000000000000\n", Error::Missing),
            (b"SigIgn:\t0000000000000000\nSigIgn:\t0000000000000000\n", Error::Repeated),
            (b"SigIgn: 0000000000000000\n", Error::Malformed),
            (b"SigIgn:\t000000000000000\n", Error::Malformed),
            (b"SigIgn:\t00000000000000000\n", Error::Malformed),
            (b"SigIgn:\t000000000000000g\n", Error::Malformed),
            (b"SigIgn:\t+000000000000000\n", Error::Malformed),
            (b"SigIgn:\t0000000000000000\r\n", Error::Malformed),
            (b"SigIgn:\t\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\n", Error::Malformed),
        ] {
            assert_eq!(sig_ignored(bad), Err(want), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
