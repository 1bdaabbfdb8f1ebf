//! Durations as stampctl's page writes them (`10m`, `4h`, `6m`, `15m`): one or more
//! `<digits><unit>` terms, units `d` (days), `h`, `m`, `s`, each used at most once and in that
//! order (`1h30m`, `1d12h`, `90s`, `2m30s`). A unit is required — a bare `10` could mean seconds
//! (op) or minutes (sudo), so it is refused — and the total must be 1 s to 366 days.

use std::fmt;

/// The longest duration accepted, in seconds (366 days).
pub const MAX_SECS: u64 = 366 * 86_400;

/// Why a duration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    Empty,
    /// Digits with no unit after them.
    NoUnit,
    /// A unit with no digits before it, or a byte that is neither.
    Unexpected(u8),
    UnknownUnit(u8),
    /// A unit again, or after a smaller one (`30m1h`).
    Order(u8),
    TooLong,
    Zero,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => f.write_str("empty duration"),
            DurationError::NoUnit => f.write_str("a duration needs a unit: d, h, m or s (e.g. 10m, 1h30m)"),
            DurationError::Unexpected(b) => {
                write!(f, "unexpected {:?} in duration", char::from(*b))
            }
            DurationError::UnknownUnit(b) => {
                write!(f, "unknown unit {:?} (use d, h, m or s)", char::from(*b))
            }
            DurationError::Order(b) => {
                write!(f, "unit {:?} repeated or out of order (write units d, h, m, s in that order)", char::from(*b))
            }
            DurationError::TooLong => write!(f, "duration longer than 366 days"),
            DurationError::Zero => f.write_str("duration must be at least 1s"),
        }
    }
}

/// Parses a duration into seconds.
pub fn parse(s: &[u8]) -> Result<u64, DurationError> {
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    // Rank of the last unit used: 4 = none yet, 3 = d, 2 = h, 1 = m, 0 = s.
    let mut last_rank = 4u8;
    for &b in s {
        if b.is_ascii_digit() {
            let n = number.unwrap_or(0);
            let n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
                .filter(|&n| n <= MAX_SECS)
                .ok_or(DurationError::TooLong)?;
            number = Some(n);
            continue;
        }
        let (rank, unit) = match b {
            b'd' => (3, 86_400),
            b'h' => (2, 3_600),
            b'm' => (1, 60),
            b's' => (0, 1),
            _ if b.is_ascii_alphabetic() => return Err(DurationError::UnknownUnit(b)),
            _ => return Err(DurationError::Unexpected(b)),
        };
        let n = number.take().ok_or(DurationError::Unexpected(b))?;
        if rank >= last_rank {
            return Err(DurationError::Order(b));
        }
        last_rank = rank;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .filter(|&t| t <= MAX_SECS)
            .ok_or(DurationError::TooLong)?;
    }
    if number.is_some() {
        return Err(DurationError::NoUnit);
    }
    if total == 0 {
        return Err(DurationError::Zero);
    }
    Ok(total)
}

/// The canonical spelling of a number of seconds (`5400` → `1h30m`).
pub fn format(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, n) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if secs >= n {
            out.push_str(&format!("{}{unit}", secs / n));
            secs %= n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_s_durations() {
        assert_eq!(parse(b"10m"), Ok(600));
        assert_eq!(parse(b"4h"), Ok(14_400));
        assert_eq!(parse(b"6m"), Ok(360));
        assert_eq!(parse(b"15m"), Ok(900));
    }

    #[test]
    fn combined_terms() {
        assert_eq!(parse(b"30s"), Ok(30));
        assert_eq!(parse(b"1h30m"), Ok(5_400));
        assert_eq!(parse(b"1d12h"), Ok(129_600));
        assert_eq!(parse(b"2m30s"), Ok(150));
        assert_eq!(parse(b"90s"), Ok(90));
        assert_eq!(parse(b"0h5m"), Ok(300));
        assert_eq!(parse(b"366d"), Ok(MAX_SECS));
    }

    #[test]
    fn hostile_durations() {
        let cases: &[(&[u8], DurationError)] = &[
            (b"", DurationError::Empty),
            (b"10", DurationError::NoUnit),
            (b"1h30", DurationError::NoUnit),
            (b"m", DurationError::Unexpected(b'm')),
            (b"1hm", DurationError::Unexpected(b'm')),
            (b"30m1h", DurationError::Order(b'h')),
            (b"1m1m", DurationError::Order(b'm')),
            (b"5y", DurationError::UnknownUnit(b'y')),
            (b"5M", DurationError::UnknownUnit(b'M')),
            (b"-5m", DurationError::Unexpected(b'-')),
            (b"5 m", DurationError::Unexpected(b' ')),
            (b"0s", DurationError::Zero),
            (b"0m0s", DurationError::Zero),
            (b"367d", DurationError::TooLong),
            (b"99999999999999999999999s", DurationError::TooLong),
            (b"8784h1s", DurationError::TooLong),
        ];
        for (s, want) in cases {
            assert_eq!(parse(s), Err(*want), "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn format_round_trips() {
        for secs in [1, 59, 60, 61, 3_600, 5_400, 86_399, 86_400, 129_601, MAX_SECS] {
            assert_eq!(parse(format(secs).as_bytes()), Ok(secs), "{secs}");
        }
    }
}
