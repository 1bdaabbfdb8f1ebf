//! The strftime(3) conversions timebox formats, in the C locale, computed here rather than by libc
//! so the output depends on nothing but the broken-down time. Unknown conversions (and the
//! `E`/`O`/flag modifiers) are refused when the spec is parsed, never guessed at.

use super::civil::LocalTime;

const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// True when `%c` is a conversion this implementation formats.
pub fn supported(c: u8) -> bool {
    b"aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZ%".contains(&c)
}

fn day_name(t: &LocalTime) -> &'static str {
    DAYS.get(t.weekday as usize).copied().unwrap_or("?")
}

fn month_name(t: &LocalTime) -> &'static str {
    MONTHS.get((t.month as usize).wrapping_sub(1)).copied().unwrap_or("?")
}

fn abbrev(s: &str) -> &str {
    s.get(..3).unwrap_or(s)
}

/// ISO 8601 week-based year and week number.
fn iso_week(t: &LocalTime) -> (i64, i64) {
    fn weeks_in(y: i64) -> i64 {
        let p = |y: i64| (y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)).rem_euclid(7);
        if p(y) == 4 || p(y - 1) == 3 {
            53
        } else {
            52
        }
    }
    let iso_wday = i64::from((t.weekday + 6) % 7 + 1);
    let week = (i64::from(t.yearday) + 1 - iso_wday + 10).div_euclid(7);
    if week < 1 {
        (t.year - 1, weeks_in(t.year - 1))
    } else if week > weeks_in(t.year) {
        (t.year + 1, 1)
    } else {
        (t.year, week)
    }
}

/// Appends the expansion of `%c` for `t` to `out` (nothing for an unsupported `c`).
pub fn expand(c: u8, t: &LocalTime, out: &mut String) {
    use std::fmt::Write;
    let h12 = match t.hour % 12 {
        0 => 12,
        h => h,
    };
    let _ = match c {
        b'a' => write!(out, "{}", abbrev(day_name(t))),
        b'A' => write!(out, "{}", day_name(t)),
        b'b' | b'h' => write!(out, "{}", abbrev(month_name(t))),
        b'B' => write!(out, "{}", month_name(t)),
        b'c' => {
            write!(
                out,
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                abbrev(day_name(t)),
                abbrev(month_name(t)),
                t.day,
                t.hour,
                t.minute,
                t.second,
                t.year
            )
        }
        b'C' => write!(out, "{:02}", t.year.div_euclid(100)),
        b'd' => write!(out, "{:02}", t.day),
        b'D' | b'x' => write!(out, "{:02}/{:02}/{:02}", t.month, t.day, t.year.rem_euclid(100)),
        b'e' => write!(out, "{:2}", t.day),
        b'F' => write!(out, "{}-{:02}-{:02}", t.year, t.month, t.day),
        b'g' => write!(out, "{:02}", iso_week(t).0.rem_euclid(100)),
        b'G' => write!(out, "{}", iso_week(t).0),
        b'H' => write!(out, "{:02}", t.hour),
        b'I' => write!(out, "{:02}", h12),
        b'j' => write!(out, "{:03}", t.yearday + 1),
        b'k' => write!(out, "{:2}", t.hour),
        b'l' => write!(out, "{:2}", h12),
        b'm' => write!(out, "{:02}", t.month),
        b'M' => write!(out, "{:02}", t.minute),
        b'n' => out.write_char('\n'),
        b'p' => write!(out, "{}", if t.hour < 12 { "AM" } else { "PM" }),
        b'P' => write!(out, "{}", if t.hour < 12 { "am" } else { "pm" }),
        b'r' => write!(out, "{:02}:{:02}:{:02} {}", h12, t.minute, t.second, if t.hour < 12 { "AM" } else { "PM" }),
        b'R' => write!(out, "{:02}:{:02}", t.hour, t.minute),
        b's' => write!(out, "{}", t.epoch),
        b'S' => write!(out, "{:02}", t.second),
        b't' => out.write_char('\t'),
        b'T' | b'X' => write!(out, "{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
        b'u' => write!(out, "{}", (t.weekday + 6) % 7 + 1),
        b'U' => write!(out, "{:02}", (t.yearday + 7 - t.weekday) / 7),
        b'V' => write!(out, "{:02}", iso_week(t).1),
        b'w' => write!(out, "{}", t.weekday),
        b'W' => write!(out, "{:02}", (t.yearday + 7 - (t.weekday + 6) % 7) / 7),
        b'y' => write!(out, "{:02}", t.year.rem_euclid(100)),
        b'Y' => write!(out, "{}", t.year),
        b'z' => {
            let a = t.utoff.unsigned_abs();
            write!(out, "{}{:02}{:02}", if t.utoff < 0 { '-' } else { '+' }, a / 3600, a / 60 % 60)
        }
        b'Z' => write!(out, "{}", t.abbr),
        b'%' => write!(out, "%"),
        _ => Ok(()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(spec: &str, t: &LocalTime) -> String {
        let mut out = String::new();
        let mut it = spec.bytes();
        while let Some(c) = it.next() {
            if c == b'%' {
                expand(it.next().unwrap(), t, &mut out);
            } else {
                out.push(char::from(c));
            }
        }
        out
    }

    #[test]
    fn formats_like_c_locale_strftime() {
        // 2024-12-30 15:04:05 UTC+01:00, a Monday in ISO week 1 of 2025.
        let t = LocalTime::at(1_735_567_445, 3600, false, "CET").unwrap();
        assert_eq!(fmt("%Y-%m-%d %H:%M:%S %Z %z", &t), "2024-12-30 15:04:05 CET +0100");
        assert_eq!(fmt("%a %A %b %B %u %w %j", &t), "Mon Monday Dec December 1 1 365");
        assert_eq!(fmt("%G-W%V %g %U %W", &t), "2025-W01 25 52 53");
        assert_eq!(
            fmt("%I %l %p %r %R %T %D %e %k %C %y", &t),
            "03  3 PM 03:04:05 PM 15:04 15:04:05 12/30/24 30 15 20 24"
        );
        assert_eq!(fmt("%c|%%|%s", &t), "Mon Dec 30 15:04:05 2024|%|1735567445");
        let t = LocalTime::at(0, -18_000, false, "EST").unwrap();
        assert_eq!(fmt("%z %H%M %G %V", &t), "-0500 1900 1970 01");
        // 2021-01-03 (Sunday) still belongs to ISO week 53 of 2020.
        let t = LocalTime::at(1_609_675_200, 0, false, "UTC").unwrap();
        assert_eq!(fmt("%G %V", &t), "2020 53");
    }
}
