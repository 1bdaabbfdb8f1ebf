//! Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard
//! Hinnant's `days_from_civil`/`civil_from_days`; exact for every i64 day count used here.

/// Days since 1970-01-01 of year `y`, month `m` (1–12), day `d` (1–31).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1–12, day 1–31) of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

pub fn is_leap(y: i64) -> bool {
    y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0)
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 0 = Sunday … 6 = Saturday.
pub fn weekday(days: i64) -> u32 {
    u32::try_from((days + 4).rem_euclid(7)).unwrap_or(0)
}

/// A moment as read on a wall clock in some zone: what strftime formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    /// Seconds since the epoch (UTC), for `%s`.
    pub epoch: i64,
    pub year: i64,
    /// 1–12
    pub month: u32,
    /// 1–31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday
    pub weekday: u32,
    /// 0–365
    pub yearday: u32,
    /// Seconds east of UTC.
    pub utoff: i32,
    pub isdst: bool,
    pub abbr: String,
}

/// The largest |timestamp| the helpers convert: far beyond any window anyone schedules, small
/// enough that no arithmetic on it can overflow.
pub const MAX_ABS_TIME: i64 = 1 << 40;

impl LocalTime {
    /// `t` read with offset `utoff`; `None` outside ±MAX_ABS_TIME.
    pub fn at(t: i64, utoff: i32, isdst: bool, abbr: &str) -> Option<LocalTime> {
        if !(-MAX_ABS_TIME..=MAX_ABS_TIME).contains(&t) {
            return None;
        }
        let local = t + i64::from(utoff);
        let days = local.div_euclid(86_400);
        let secs = u32::try_from(local.rem_euclid(86_400)).ok()?;
        let (year, month, day) = civil_from_days(days);
        let yearday = u32::try_from(days - days_from_civil(year, 1, 1)).ok()?;
        Some(LocalTime {
            epoch: t,
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            weekday: weekday(days),
            yearday,
            utoff,
            isdst,
            abbr: abbr.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days() {
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(weekday(0), 4);
    }

    #[test]
    fn breaks_down_a_known_moment() {
        let t = LocalTime::at(1_700_000_000, 3600, false, "CET").unwrap();
        assert_eq!((t.year, t.month, t.day, t.hour, t.minute, t.second), (2023, 11, 14, 23, 13, 20));
        assert_eq!(t.weekday, 2);
        assert_eq!(t.yearday, 317);
        assert!(LocalTime::at(i64::MAX, 0, false, "UTC").is_none());
    }
}
