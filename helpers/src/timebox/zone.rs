//! Time zones, read by our own code rather than libc's: TZif files (RFC 8536, versions 1–4, the
//! footer rule for times after the last transition) and POSIX TZ strings. Doing it here keeps
//! the helper free of setenv/tzset, makes every conversion a pure function of (zone, timestamp)
//! that tests can pin to DST changes, and lets a TZ that names no zone fail closed instead of
//! silently meaning UTC as it does in libc.

use super::civil::{days_from_civil, days_in_month, is_leap, weekday, LocalTime};
use std::fmt;
use std::path::PathBuf;

/// Where zone files are read from. TZDIR is deliberately not honoured: the environment is not
/// the admin's alone.
pub const ZONEINFO: &str = "/usr/share/zoneinfo";
/// Used when TZ is unset, as libc does.
pub const LOCALTIME: &str = "/etc/localtime";
/// Zone files larger than this are refused (real ones are under 4 KiB).
pub const MAX_TZIF: u64 = 256 * 1024;
/// |UTC offset| allowed for a local time type.
const MAX_UTOFF: i32 = 26 * 3600;

/// One kind of local time: offset east of UTC, DST flag, abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalType {
    pub utoff: i32,
    pub isdst: bool,
    pub abbr: String,
}

/// A day of the year in a POSIX rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDay {
    /// `Jn`: 1–365, February 29 never counted.
    Julian1(u32),
    /// `n`: 0–365, February 29 counted.
    Julian0(u32),
    /// `Mm.w.d`: day d (0 = Sunday) of week w (5 = last) of month m.
    Month { m: u32, w: u32, d: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Change {
    day: RuleDay,
    /// Seconds after local midnight, −167h … 167h.
    time: i64,
}

/// A POSIX TZ rule: standard time and optionally daylight time with its two changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    std: LocalType,
    dst: Option<(LocalType, Change, Change)>,
}

/// A zone: a fixed rule, or a TZif table with an optional footer rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    Rule(Rule),
    Table { transitions: Vec<(i64, usize)>, types: Vec<LocalType>, footer: Option<Rule> },
}

/// Why a TZif file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TzifError {
    Truncated,
    BadMagic,
    BadVersion,
    BadCounts,
    /// Leap-second ("right/") zones are not supported.
    LeapSeconds,
    BadTypeIndex,
    BadAbbreviation,
    BadOffset,
    Unsorted,
    BadFooter(PosixError),
    TrailingData,
}

/// Why a POSIX TZ string is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosixError {
    BadName,
    BadOffset,
    /// Daylight time named without the rule saying when it applies.
    MissingRule,
    BadRule,
    TrailingText,
}

/// Why a TZ value gives no zone.
#[derive(Debug)]
pub enum LoadError {
    /// Neither a zone file nor a POSIX TZ string.
    Unknown(String),
    /// A path outside the zone directory, or with `..`.
    BadPath(String),
    Read(String, std::io::Error),
    Tzif(String, TzifError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Unknown(s) => write!(f, "TZ={s:?} is neither a zone under {ZONEINFO} nor a POSIX TZ string"),
            LoadError::BadPath(s) => {
                write!(f, "TZ={s:?} must name a zone under {ZONEINFO} (no '..')")
            }
            LoadError::Read(s, e) => write!(f, "zone {s}: {e}"),
            LoadError::Tzif(s, e) => write!(f, "zone {s}: bad TZif data ({e:?})"),
        }
    }
}

/// The time cannot be converted (outside ±2^40 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

impl Zone {
    pub fn utc() -> Zone {
        Zone::Rule(Rule { std: LocalType { utoff: 0, isdst: false, abbr: "UTC".into() }, dst: None })
    }

    /// The wall-clock reading of `t` in this zone.
    pub fn local_time(&self, t: i64) -> Result<LocalTime, OutOfRange> {
        let ty = self.type_at(t);
        LocalTime::at(t, ty.utoff, ty.isdst, &ty.abbr).ok_or(OutOfRange)
    }

    fn type_at(&self, t: i64) -> LocalType {
        match self {
            Zone::Rule(r) => r.type_at(t),
            Zone::Table { transitions, types, footer } => {
                let after = transitions.partition_point(|(at, _)| *at <= t);
                if after == transitions.len() {
                    if let Some(rule) = footer {
                        return rule.type_at(t);
                    }
                }
                let index = match after.checked_sub(1).and_then(|i| transitions.get(i)) {
                    Some((_, ty)) => *ty,
                    None => 0,
                };
                types.get(index).or(types.first()).cloned().unwrap_or(LocalType {
                    utoff: 0,
                    isdst: false,
                    abbr: "UTC".into(),
                })
            }
        }
    }

    /// Parses a TZif file (RFC 8536); version 2+ files are read from their 64-bit part.
    pub fn parse_tzif(data: &[u8]) -> Result<Zone, TzifError> {
        let mut r = Reader { data, pos: 0 };
        let h1 = Header::read(&mut r)?;
        if h1.version == 0 {
            let (transitions, types) = h1.body(&mut r, 4)?;
            if r.pos != data.len() {
                return Err(TzifError::TrailingData);
            }
            return Ok(Zone::Table { transitions, types, footer: None });
        }
        r.skip(h1.body_len(4).ok_or(TzifError::BadCounts)?)?;
        let h2 = Header::read(&mut r)?;
        let (transitions, types) = h2.body(&mut r, 8)?;
        if r.take(1)? != b"\n" {
            return Err(TzifError::BadFooter(PosixError::TrailingText));
        }
        let rest = data.get(r.pos..).unwrap_or_default();
        let end = rest.iter().position(|&c| c == b'\n').ok_or(TzifError::BadFooter(PosixError::TrailingText))?;
        if end + 1 != rest.len() {
            return Err(TzifError::TrailingData);
        }
        let text = rest.get(..end).unwrap_or_default();
        let footer = if text.is_empty() { None } else { Some(Rule::parse(text).map_err(TzifError::BadFooter)?) };
        Ok(Zone::Table { transitions, types, footer })
    }

    /// Parses a POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3` or `<+0330>-3:30`.
    pub fn parse_posix(s: &[u8]) -> Result<Zone, PosixError> {
        Rule::parse(s).map(Zone::Rule)
    }

    /// The zone TZ names: unset means /etc/localtime (UTC if absent), empty means UTC, a zone name
    /// (optionally `:`-prefixed, or an absolute path inside the zone directory) is read from
    /// /usr/share/zoneinfo, and anything else must be a POSIX TZ string. A name that is none of
    /// these is an error, never a silent UTC.
    pub fn load(tz: Option<&[u8]>) -> Result<Zone, LoadError> {
        let shown = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
        let Some(tz) = tz else {
            return match read_tzif(PathBuf::from(LOCALTIME), LOCALTIME) {
                Err(LoadError::Read(_, e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(Zone::utc()),
                other => other,
            };
        };
        if tz.is_empty() {
            return Ok(Zone::utc());
        }
        let (spec, file_only) = match tz.strip_prefix(b":") {
            Some(rest) => (rest, true),
            None => (tz, false),
        };
        let relative = match spec.strip_prefix(ZONEINFO.as_bytes()) {
            Some(rest) if spec.first() == Some(&b'/') => {
                rest.strip_prefix(b"/").ok_or_else(|| LoadError::BadPath(shown(tz)))?
            }
            _ if spec.first() == Some(&b'/') => return Err(LoadError::BadPath(shown(tz))),
            _ => spec,
        };
        if is_zone_name(relative) {
            let name = String::from_utf8_lossy(relative).into_owned();
            match read_tzif(PathBuf::from(ZONEINFO).join(&name), &name) {
                Err(LoadError::Read(_, e)) if e.kind() == std::io::ErrorKind::NotFound && !file_only => {}
                other => return other,
            }
        } else if file_only || relative.split(|&c| c == b'/').any(|c| c == b"..") {
            return Err(LoadError::BadPath(shown(tz)));
        }
        Zone::parse_posix(spec).map_err(|_| LoadError::Unknown(shown(tz)))
    }
}

/// A relative zone name: components of `[A-Za-z0-9_+-.]`, none empty, `.` or `..`.
fn is_zone_name(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.split(|&c| c == b'/').all(|part| {
            !part.is_empty()
                && part != b"."
                && part != b".."
                && part.iter().all(|&c| c.is_ascii_alphanumeric() || b"_+-.".contains(&c))
        })
}

fn read_tzif(path: PathBuf, name: &str) -> Result<Zone, LoadError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| LoadError::Read(name.to_string(), e))?;
    let meta = file.metadata().map_err(|e| LoadError::Read(name.to_string(), e))?;
    if !meta.is_file() {
        return Err(LoadError::Read(
            name.to_string(),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
        ));
    }
    let mut data = Vec::new();
    file.take(MAX_TZIF + 1).read_to_end(&mut data).map_err(|e| LoadError::Read(name.to_string(), e))?;
    if data.len() as u64 > MAX_TZIF {
        return Err(LoadError::Tzif(name.to_string(), TzifError::BadCounts));
    }
    Zone::parse_tzif(&data).map_err(|e| LoadError::Tzif(name.to_string(), e))
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TzifError> {
        let end = self.pos.checked_add(n).ok_or(TzifError::Truncated)?;
        let s = self.data.get(self.pos..end).ok_or(TzifError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn skip(&mut self, n: usize) -> Result<(), TzifError> {
        self.take(n).map(|_| ())
    }
    fn u32(&mut self) -> Result<u32, TzifError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes(b.try_into().map_err(|_| TzifError::Truncated)?))
    }
    fn time(&mut self, size: usize) -> Result<i64, TzifError> {
        let b = self.take(size)?;
        Ok(match size {
            4 => i64::from(i32::from_be_bytes(b.try_into().map_err(|_| TzifError::Truncated)?)),
            _ => i64::from_be_bytes(b.try_into().map_err(|_| TzifError::Truncated)?),
        })
    }
}

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl Header {
    fn read(r: &mut Reader<'_>) -> Result<Header, TzifError> {
        if r.take(4)? != b"TZif" {
            return Err(TzifError::BadMagic);
        }
        let version = match r.take(1)? {
            [0] => 0,
            [v @ b'2'..=b'4'] => *v - b'0',
            _ => return Err(TzifError::BadVersion),
        };
        r.skip(15)?;
        let mut n = || r.u32().map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        let h = Header {
            version,
            isutcnt: n()?,
            isstdcnt: n()?,
            leapcnt: n()?,
            timecnt: n()?,
            typecnt: n()?,
            charcnt: n()?,
        };
        if h.typecnt == 0
            || h.typecnt > 256
            || h.charcnt == 0
            || (h.isutcnt != 0 && h.isutcnt != h.typecnt)
            || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)
        {
            return Err(TzifError::BadCounts);
        }
        if h.leapcnt != 0 {
            return Err(TzifError::LeapSeconds);
        }
        Ok(h)
    }

    fn body_len(&self, size: usize) -> Option<usize> {
        self.timecnt
            .checked_mul(size + 1)?
            .checked_add(self.typecnt.checked_mul(6)?)?
            .checked_add(self.charcnt)?
            .checked_add(self.leapcnt.checked_mul(size + 4)?)?
            .checked_add(self.isstdcnt)?
            .checked_add(self.isutcnt)
    }

    #[allow(clippy::type_complexity)]
    fn body(&self, r: &mut Reader<'_>, size: usize) -> Result<(Vec<(i64, usize)>, Vec<LocalType>), TzifError> {
        let need = self.body_len(size).ok_or(TzifError::BadCounts)?;
        if r.data.len().saturating_sub(r.pos) < need {
            return Err(TzifError::Truncated);
        }
        let mut times = Vec::with_capacity(self.timecnt);
        for _ in 0..self.timecnt {
            let t = r.time(size)?;
            if times.last().is_some_and(|&p| p >= t) {
                return Err(TzifError::Unsorted);
            }
            times.push(t);
        }
        let indices = r.take(self.timecnt)?;
        let mut raw_types = Vec::with_capacity(self.typecnt);
        for _ in 0..self.typecnt {
            let b = r.take(6)?;
            let off = i32::from_be_bytes(b.get(..4).and_then(|s| s.try_into().ok()).ok_or(TzifError::Truncated)?);
            let isdst = match b.get(4) {
                Some(0) => false,
                Some(1) => true,
                _ => return Err(TzifError::BadCounts),
            };
            let idx = usize::from(b.get(5).copied().ok_or(TzifError::Truncated)?);
            if !(-MAX_UTOFF..=MAX_UTOFF).contains(&off) {
                return Err(TzifError::BadOffset);
            }
            raw_types.push((off, isdst, idx));
        }
        let chars = r.take(self.charcnt)?;
        r.skip(self.isstdcnt + self.isutcnt)?;
        let mut types = Vec::with_capacity(self.typecnt);
        for (utoff, isdst, idx) in raw_types {
            let tail = chars.get(idx..).ok_or(TzifError::BadAbbreviation)?;
            let end = tail.iter().position(|&c| c == 0).ok_or(TzifError::BadAbbreviation)?;
            let abbr = tail.get(..end).unwrap_or_default();
            if !abbr.iter().all(|c| c.is_ascii_graphic()) {
                return Err(TzifError::BadAbbreviation);
            }
            types.push(LocalType { utoff, isdst, abbr: String::from_utf8_lossy(abbr).into_owned() });
        }
        let mut transitions = Vec::with_capacity(self.timecnt);
        for (t, &i) in times.into_iter().zip(indices) {
            let i = usize::from(i);
            if i >= types.len() {
                return Err(TzifError::BadTypeIndex);
            }
            transitions.push((t, i));
        }
        Ok((transitions, types))
    }
}

impl Rule {
    fn parse(s: &[u8]) -> Result<Rule, PosixError> {
        let mut p = Posix { s, pos: 0 };
        let std_name = p.name()?;
        let std_off = p.offset(24)?.ok_or(PosixError::BadOffset)?;
        let std = LocalType { utoff: -std_off, isdst: false, abbr: std_name };
        if p.at_end() {
            return Ok(Rule { std, dst: None });
        }
        let dst_name = p.name()?;
        let dst_utoff = match p.offset(24)? {
            Some(o) => -o,
            None => std.utoff + 3600,
        };
        if !p.eat(b',') {
            return Err(if p.at_end() { PosixError::MissingRule } else { PosixError::TrailingText });
        }
        let start = p.change()?;
        if !p.eat(b',') {
            return Err(PosixError::BadRule);
        }
        let end = p.change()?;
        if !p.at_end() {
            return Err(PosixError::TrailingText);
        }
        Ok(Rule { std, dst: Some((LocalType { utoff: dst_utoff, isdst: true, abbr: dst_name }, start, end)) })
    }

    fn type_at(&self, t: i64) -> LocalType {
        let Some((dst, start, end)) = &self.dst else {
            return self.std.clone();
        };
        let t = t.clamp(-super::civil::MAX_ABS_TIME, super::civil::MAX_ABS_TIME);
        let (year, _, _) = super::civil::civil_from_days((t + i64::from(self.std.utoff)).div_euclid(86_400));
        // The changes of the year before, this year and the next, as (instant, becomes_dst),
        // sorted; at equal instants the switch to DST sorts last so a year-round DST rule
        // (`…,0/0,J365/25`) stays in DST across New Year.
        let mut events: Vec<(i64, bool)> = Vec::with_capacity(6);
        for y in [year - 1, year, year + 1] {
            events.push((start.instant(y, self.std.utoff), true));
            events.push((end.instant(y, dst.utoff), false));
        }
        events.sort();
        match events.iter().rev().find(|(at, _)| *at <= t) {
            Some((_, true)) => dst.clone(),
            _ => self.std.clone(),
        }
    }
}

impl Change {
    /// The UTC instant of this change in year `y`, read in a clock with offset `utoff`.
    fn instant(&self, y: i64, utoff: i32) -> i64 {
        let yday = match self.day {
            RuleDay::Julian1(n) => i64::from(n) - 1 + i64::from(is_leap(y) && n >= 60),
            RuleDay::Julian0(n) => i64::from(n),
            RuleDay::Month { m, w, d } => {
                let first = days_from_civil(y, m, 1);
                let mut day = 1 + (d + 7 - weekday(first)) % 7 + 7 * (w - 1);
                while day > days_in_month(y, m) {
                    day -= 7;
                }
                first - days_from_civil(y, 1, 1) + i64::from(day) - 1
            }
        };
        (days_from_civil(y, 1, 1) + yday) * 86_400 + self.time - i64::from(utoff)
    }
}

struct Posix<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Posix<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `abc` (3+ letters) or `<...>` (3+ of `[A-Za-z0-9+-]`).
    fn name(&mut self) -> Result<String, PosixError> {
        let start = self.pos;
        let name = if self.eat(b'<') {
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-') {
                self.pos += 1;
            }
            let n = self.s.get(start + 1..self.pos).unwrap_or_default();
            if !self.eat(b'>') {
                return Err(PosixError::BadName);
            }
            n
        } else {
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.pos += 1;
            }
            self.s.get(start..self.pos).unwrap_or_default()
        };
        if name.len() < 3 || name.len() > 32 {
            return Err(PosixError::BadName);
        }
        Ok(String::from_utf8_lossy(name).into_owned())
    }

    fn number(&mut self, max_digits: usize) -> Option<i64> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) && self.pos - start < max_digits {
            self.pos += 1;
        }
        let digits = self.s.get(start..self.pos)?;
        if digits.is_empty() || self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(digits.iter().fold(0i64, |n, &c| n * 10 + i64::from(c - b'0')))
    }

    /// `[+-]hh[:mm[:ss]]` as signed seconds, hours ≤ `max_hours`; `None` if no offset starts here.
    fn offset(&mut self, max_hours: i64) -> Result<Option<i32>, PosixError> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == b'+' || c == b'-' => {}
            _ => return Ok(None),
        }
        let secs = self.hms(max_hours, PosixError::BadOffset)?;
        i32::try_from(secs).map(Some).map_err(|_| PosixError::BadOffset)
    }

    fn hms(&mut self, max_hours: i64, err: PosixError) -> Result<i64, PosixError> {
        let sign = if self.eat(b'-') {
            -1
        } else {
            self.eat(b'+');
            1
        };
        let h = self.number(3).filter(|h| *h <= max_hours).ok_or(err)?;
        let mut secs = h * 3600;
        if self.eat(b':') {
            secs += self.number(2).filter(|m| *m < 60).ok_or(err)? * 60;
            if self.eat(b':') {
                secs += self.number(2).filter(|s| *s < 60).ok_or(err)?;
            }
        }
        Ok(sign * secs)
    }

    fn change(&mut self) -> Result<Change, PosixError> {
        let day = if self.eat(b'J') {
            RuleDay::Julian1(
                self.number(3)
                    .filter(|n| (1..=365).contains(n))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or(PosixError::BadRule)?,
            )
        } else if self.eat(b'M') {
            let m = self.number(2).filter(|n| (1..=12).contains(n)).ok_or(PosixError::BadRule)?;
            if !self.eat(b'.') {
                return Err(PosixError::BadRule);
            }
            let w = self.number(1).filter(|n| (1..=5).contains(n)).ok_or(PosixError::BadRule)?;
            if !self.eat(b'.') {
                return Err(PosixError::BadRule);
            }
            let d = self.number(1).filter(|n| (0..=6).contains(n)).ok_or(PosixError::BadRule)?;
            let u = |n: i64| u32::try_from(n).map_err(|_| PosixError::BadRule);
            RuleDay::Month { m: u(m)?, w: u(w)?, d: u(d)? }
        } else {
            RuleDay::Julian0(
                self.number(3)
                    .filter(|n| (0..=365).contains(n))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or(PosixError::BadRule)?,
            )
        };
        let time = if self.eat(b'/') { self.hms(167, PosixError::BadRule)? } else { 7200 };
        Ok(Change { day, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(z: &Zone, t: i64) -> (i64, u32, u32, u32, u32, i32, bool, String) {
        let l = z.local_time(t).unwrap();
        (l.year, l.month, l.day, l.hour, l.minute, l.utoff, l.isdst, l.abbr)
    }

    #[test]
    fn posix_rule_for_central_europe() {
        let z = Zone::parse_posix(b"CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // 2024-03-31 00:59:59 UTC: last second of CET; 01:00:00 UTC: 03:00 CEST.
        assert_eq!(civil(&z, 1_711_846_799), (2024, 3, 31, 1, 59, 3600, false, "CET".into()));
        assert_eq!(civil(&z, 1_711_846_800), (2024, 3, 31, 3, 0, 7200, true, "CEST".into()));
        // 2024-10-27 00:59:59 UTC: 02:59:59 CEST; 01:00:00 UTC: 02:00 CET (the hour repeats).
        assert_eq!(civil(&z, 1_729_990_799), (2024, 10, 27, 2, 59, 7200, true, "CEST".into()));
        assert_eq!(civil(&z, 1_729_990_800), (2024, 10, 27, 2, 0, 3600, false, "CET".into()));
    }

    #[test]
    fn posix_rule_for_the_southern_hemisphere() {
        let z = Zone::parse_posix(b"AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert!(z.local_time(1_704_067_200).unwrap().isdst); // 2024-01-01: summer
        assert!(!z.local_time(1_719_792_000).unwrap().isdst); // 2024-07-01: winter
    }

    #[test]
    fn posix_year_round_dst_stays_dst_over_new_year() {
        let z = Zone::parse_posix(b"EST5EDT4,0/0,J365/25").unwrap();
        for t in [1_704_067_200 - 1, 1_704_067_200, 1_704_085_200, 1_719_792_000] {
            assert!(z.local_time(t).unwrap().isdst, "{t}");
        }
    }

    #[test]
    fn posix_forms() {
        assert_eq!(civil(&Zone::parse_posix(b"<+0330>-3:30").unwrap(), 0).5, 12_600);
        assert_eq!(civil(&Zone::parse_posix(b"UTC0").unwrap(), 0).5, 0);
        assert_eq!(civil(&Zone::parse_posix(b"EST+5").unwrap(), 0).5, -18_000);
        let bad: &[&[u8]] = &[
            b"",
            b"UT0",
            b"EST",
            b"EST5EDT",
            b"EST5EDT,M3",
            b"EST5EDT,M13.1.0,M11.1.0",
            b"EST5EDT,M3.2.0,M11.1.0x",
            b"EST25",
            b"<AB>0",
            b"<ABC0",
            b"EST5EDT,M3.2.0/168,M11.1.0",
            b"EST5 ",
        ];
        for b in bad {
            assert!(Zone::parse_posix(b).is_err(), "{:?}", String::from_utf8_lossy(b));
        }
    }

    #[test]
    fn tzif_refuses_hostile_files() {
        assert_eq!(Zone::parse_tzif(b""), Err(TzifError::Truncated));
        assert_eq!(Zone::parse_tzif(b"TZxf\0"), Err(TzifError::BadMagic));
        let mut h = b"TZif2".to_vec();
        h.extend([0; 15]);
        for n in [0u32, 0, 0, u32::MAX, 1, 4] {
            h.extend(n.to_be_bytes());
        }
        assert!(Zone::parse_tzif(&h).is_err());
    }

    #[test]
    fn loads_names_paths_and_strings_and_refuses_the_rest() {
        assert!(matches!(Zone::load(Some(b"")), Ok(z) if z == Zone::utc()));
        assert!(matches!(Zone::load(Some(b"Europe/Nowhere")), Err(LoadError::Unknown(_))));
        assert!(matches!(Zone::load(Some(b"../../etc/passwd")), Err(LoadError::BadPath(_))));
        assert!(matches!(Zone::load(Some(b"/etc/passwd")), Err(LoadError::BadPath(_))));
        assert!(matches!(Zone::load(Some(b":Nowhere")), Err(LoadError::Read(..))));
        assert!(Zone::load(Some(b"CET-1CEST,M3.5.0,M10.5.0/3")).is_ok());
    }
}
