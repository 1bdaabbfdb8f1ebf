//! Timebox decisions across real zones and their DST changes, with the clock as a parameter.

use super::*;

fn zone(name: &str) -> Zone {
    Zone::load(Some(name.as_bytes())).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
    civil::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60
}

fn allows(inside: Option<&str>, forbid: Option<&str>, z: &Zone, t: i64) -> bool {
    Timebox::parse(inside.map(str::as_bytes), forbid.map(str::as_bytes)).unwrap().allows_at(z, t).unwrap()
}

#[test]
fn worked_exchange_backups_window_in_denver() {
    let z = zone("America/Denver");
    // 02:30 MDT on 2024-07-10 is 08:30 UTC; 14:00 MDT is 20:00 UTC.
    assert!(allows(Some("0100<=%H%M<0500"), None, &z, utc(2024, 7, 10, 8, 30)));
    assert!(!allows(Some("0100<=%H%M<0500"), None, &z, utc(2024, 7, 10, 20, 0)));
    // In winter (MST, UTC-7) the same wall-clock window moves by an hour in UTC.
    assert!(allows(Some("0100<=%H%M<0500"), None, &z, utc(2024, 1, 10, 9, 30)));
    assert!(!allows(Some("0100<=%H%M<0500"), None, &z, utc(2024, 1, 10, 12, 0)));
}

#[test]
fn negated_window_allows_only_outside_office_hours() {
    let z = zone("UTC");
    let s = Some("!1030.00<=%H%M.%S<1630.00");
    assert!(allows(s, None, &z, utc(2024, 5, 2, 10, 29)));
    assert!(!allows(s, None, &z, utc(2024, 5, 2, 10, 30)));
    assert!(!allows(s, None, &z, utc(2024, 5, 2, 16, 29)));
    assert!(allows(s, None, &z, utc(2024, 5, 2, 16, 30)));
}

#[test]
fn forbid_example_refuses_thursday_only() {
    let z = zone("Europe/Berlin");
    // 2024-06-13 is a Thursday; 2024-06-12 a Wednesday, 2024-06-14 a Friday.
    assert!(!allows(None, Some("%u!=Thu"), &z, utc(2024, 6, 13, 10, 0)));
    assert!(allows(None, Some("%u!=Thu"), &z, utc(2024, 6, 12, 10, 0)));
    assert!(allows(None, Some("%u!=Thu"), &z, utc(2024, 6, 14, 10, 0)));
    // Thursday in Berlin begins at 22:00 UTC on Wednesday in summer.
    assert!(!allows(None, Some("%u!=Thu"), &z, utc(2024, 6, 12, 22, 0)));
    assert!(allows(None, Some("%u!=Thu"), &z, utc(2024, 6, 12, 21, 59)));
}

#[test]
fn forbid_entries_must_all_hold_and_combine_with_inside() {
    let z = zone("UTC");
    let forbid = Some("%u!=Sat,%u!=Sun");
    assert!(allows(None, forbid, &z, utc(2024, 6, 14, 10, 0))); // Friday
    assert!(!allows(None, forbid, &z, utc(2024, 6, 15, 10, 0))); // Saturday
    assert!(!allows(None, forbid, &z, utc(2024, 6, 16, 10, 0))); // Sunday
    let inside = Some("0900<=%H%M<1700");
    assert!(allows(inside, forbid, &z, utc(2024, 6, 14, 10, 0)));
    assert!(!allows(inside, forbid, &z, utc(2024, 6, 14, 18, 0)));
    assert!(!allows(inside, forbid, &z, utc(2024, 6, 15, 10, 0)));
}

#[test]
fn berlin_spring_forward_skips_two_oclock() {
    let z = zone("Europe/Berlin");
    // 2024-03-31: 01:59:59 CET (00:59:59 UTC) is followed by 03:00:00 CEST (01:00 UTC).
    let before = utc(2024, 3, 31, 0, 59) + 59;
    let after = utc(2024, 3, 31, 1, 0);
    let l = z.local_time(before).unwrap();
    assert_eq!((l.hour, l.minute, l.second, l.isdst, l.abbr.as_str()), (1, 59, 59, false, "CET"));
    let l = z.local_time(after).unwrap();
    assert_eq!((l.hour, l.minute, l.isdst, l.abbr.as_str()), (3, 0, true, "CEST"));
    // A window of 02:00-03:00 local never opens that night.
    let w = Some("0200<=%H%M<0300");
    for m in 0..180 {
        assert!(!allows(w, None, &z, utc(2024, 3, 30, 23, 0) + m * 60), "minute {m}");
    }
    // …but it does on an ordinary night (2024-03-30, CET: 02:30 is 01:30 UTC).
    assert!(allows(w, None, &z, utc(2024, 3, 30, 1, 30)));
}

#[test]
fn berlin_fall_back_opens_two_oclock_twice() {
    let z = zone("Europe/Berlin");
    // 2024-10-27: 02:00-03:00 local happens at 00:00-01:00 UTC (CEST) and 01:00-02:00 UTC (CET).
    let w = Some("0200<=%H%M<0300");
    assert!(!allows(w, None, &z, utc(2024, 10, 26, 23, 59)));
    assert!(allows(w, None, &z, utc(2024, 10, 27, 0, 30)));
    assert!(allows(w, None, &z, utc(2024, 10, 27, 1, 30)));
    assert!(!allows(w, None, &z, utc(2024, 10, 27, 2, 0)));
    assert!(allows(None, Some("%Z==CEST"), &z, utc(2024, 10, 27, 0, 59)));
    assert!(allows(None, Some("%Z==CET"), &z, utc(2024, 10, 27, 1, 0)));
    // The same wall-clock time, told apart by its offset.
    assert!(allows(Some("%H%M%z==0230+0200"), None, &z, utc(2024, 10, 27, 0, 30)));
    assert!(allows(Some("%H%M%z==0230+0100"), None, &z, utc(2024, 10, 27, 1, 30)));
}

#[test]
fn new_york_changes_on_its_own_sundays() {
    let z = zone("America/New_York");
    // 2024-03-10 02:00 EST -> 03:00 EDT at 07:00 UTC; 2024-11-03 02:00 EDT -> 01:00 EST at 06:00 UTC.
    let l = z.local_time(utc(2024, 3, 10, 6, 59)).unwrap();
    assert_eq!((l.hour, l.minute, l.utoff), (1, 59, -5 * 3600));
    let l = z.local_time(utc(2024, 3, 10, 7, 0)).unwrap();
    assert_eq!((l.hour, l.minute, l.utoff), (3, 0, -4 * 3600));
    let l = z.local_time(utc(2024, 11, 3, 5, 59)).unwrap();
    assert_eq!((l.hour, l.minute, l.abbr.as_str()), (1, 59, "EDT"));
    let l = z.local_time(utc(2024, 11, 3, 6, 0)).unwrap();
    assert_eq!((l.hour, l.minute, l.abbr.as_str()), (1, 0, "EST"));
    // Europe has already changed back (10-27) while New York has not: the zones disagree for a week.
    let t = utc(2024, 10, 30, 12, 0);
    assert_eq!(z.local_time(t).unwrap().utoff, -4 * 3600);
    assert_eq!(zone("Europe/Berlin").local_time(t).unwrap().utoff, 3600);
}

#[test]
fn the_same_instant_is_judged_in_the_rule_s_zone() {
    let t = utc(2024, 7, 10, 8, 30); // 08:30 UTC = 10:30 Berlin = 04:30 New York = 02:30 Denver
    let w = Some("0100<=%H%M<0500");
    assert!(allows(w, None, &zone("America/Denver"), t));
    assert!(allows(w, None, &zone("America/New_York"), t));
    assert!(!allows(w, None, &zone("Europe/Berlin"), t));
    assert!(!allows(w, None, &zone("UTC"), t));
    assert!(allows(w, None, &zone("Asia/Kolkata"), utc(2024, 7, 10, 21, 0))); // 02:30 IST
}

#[test]
fn zone_files_and_posix_strings_agree_for_future_years() {
    // Beyond the last transition a TZif file answers from its footer rule.
    let file = zone("Europe/Berlin");
    let rule = Zone::parse_posix(b"CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    for year in [2024, 2037, 2038, 2100] {
        for (mo, d) in [(1, 15), (3, 20), (3, 31), (7, 1), (10, 25), (10, 31), (12, 31)] {
            for h in [0, 1, 2, 12, 23] {
                let t = utc(year, mo, d, h, 30);
                assert_eq!(file.local_time(t), rule.local_time(t), "{year}-{mo}-{d} {h}:30");
            }
        }
    }
}

#[test]
fn historical_zone_data_is_used() {
    // Berlin had no DST in 1975; the POSIX rule alone would say otherwise.
    let l = zone("Europe/Berlin").local_time(utc(1975, 7, 1, 12, 0)).unwrap();
    assert_eq!((l.utoff, l.isdst), (3600, false));
}

#[test]
fn tz_colon_and_absolute_zoneinfo_paths() {
    let t = utc(2024, 7, 10, 8, 30);
    let a = zone(":America/Denver").local_time(t).unwrap();
    let b = zone("/usr/share/zoneinfo/America/Denver").local_time(t).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.hour, 2);
}

#[test]
fn refuses_a_policy_with_nothing_in_it() {
    assert_eq!(Timebox::parse(None, None), Err(TimeboxError::Nothing));
    assert!(matches!(Timebox::parse(Some(b"%H"), None), Err(TimeboxError::Inside(_))));
    assert!(matches!(Timebox::parse(None, Some(b"x=y")), Err(TimeboxError::Forbid(_))));
}

#[test]
fn page_jacket_example_with_epoch_seconds_never_opens() {
    // op-jacket(7l): `$TIMEBOX_INSIDE=000000<=%H%M%s<045960`, "from midnight to before 05:00".
    // `%s` is the seconds since the epoch (as in C's strftime), not `%S`: at 00:00 UTC on
    // 2024-06-13 the middle operand is "0000" + "1718236800" = 00001718236800, far above 045960.
    // Only in the first 1000 s of 1970 (UTC) is it small enough.
    let page = Some("000000<=%H%M%s<045960");
    let z = zone("UTC");
    for (h, m) in [(0, 0), (0, 1), (2, 30), (4, 59), (5, 0), (12, 0), (23, 59)] {
        assert!(!allows(page, None, &z, utc(2024, 6, 13, h, m)), "{h}:{m}");
    }
    assert!(allows(page, None, &z, 999));
    assert!(!allows(page, None, &z, 1000));
    // What the page describes is `%S`: 00:00:00 up to 04:59:59 (045960 also admits a leap
    // second, which Unix clocks never show).
    let meant = Some("000000<=%H%M%S<045960");
    assert!(allows(meant, None, &z, utc(2024, 6, 13, 0, 0)));
    assert!(allows(meant, None, &z, utc(2024, 6, 13, 4, 59) + 59));
    assert!(!allows(meant, None, &z, utc(2024, 6, 13, 5, 0)));
    assert!(!allows(meant, None, &z, utc(2024, 6, 12, 23, 59) + 59));
}
