//! Entry points shared by the fuzz targets (helpers/fuzz) and the corpus replay test, so a
//! plain `cargo test` runs every committed seed through the same code the fuzzer drives.

use crate::regex::{self, Regex};
use crate::timebox::{spec, Timebox, Zone};

const INSTANTS: [i64; 6] = [
    0,
    -1,
    1_711_846_800,
    1_729_990_799,
    4_102_444_800,
    -2_208_988_800,
];

fn exercise(zone: &Zone) {
    for t in INSTANTS {
        if let Ok(l) = zone.local_time(t) {
            assert!(l.month >= 1 && l.month <= 12 && l.day >= 1 && l.day <= 31);
            assert!(
                l.hour < 24 && l.minute < 60 && l.second < 60 && l.weekday < 7 && l.yearday < 366
            );
            assert!(l.utoff.unsigned_abs() <= 26 * 3600);
        }
    }
}

/// Byte 0 picks the parser: a timebox spec (evaluated at fixed instants in UTC and a DST zone),
/// a POSIX TZ string, or a TZif file.
pub fn timebox_spec(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            if let Ok(s) = spec::parse(rest) {
                let tb = Timebox::parse(Some(rest), Some(rest)).ok();
                let zones = [
                    Zone::utc(),
                    Zone::parse_posix(b"CET-1CEST,M3.5.0,M10.5.0/3")
                        .unwrap_or_else(|_| Zone::utc()),
                ];
                for z in &zones {
                    for t in INSTANTS {
                        if let Ok(l) = z.local_time(t) {
                            let any = s.any_holds(&l);
                            let all = s.all_hold(&l);
                            assert!(!all || any || s.relations().is_empty());
                            if let Some(tb) = &tb {
                                assert_eq!(tb.allows(&l), any && all);
                            }
                        }
                    }
                }
            }
        }
        1 => {
            if let Ok(z) = Zone::parse_posix(rest) {
                exercise(&z);
            }
        }
        _ => {
            if let Ok(z) = Zone::parse_tzif(rest) {
                exercise(&z);
            }
        }
    }
}

/// Pattern, a 0 byte, then the input. The NFA must agree with the reference matcher wherever
/// the reference is cheap enough to run.
pub fn envauth_regex(data: &[u8]) {
    let (pattern, hay) = match data.iter().position(|&b| b == 0) {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i + 1..).unwrap_or_default(),
        ),
        None => (data, &b""[..]),
    };
    let Ok(node) = regex::parse(pattern) else {
        return;
    };
    let Ok(re) = Regex::from_node(&node) else {
        return;
    };
    let got = re.is_match(hay);
    if pattern.len() <= 48 && hay.len() <= 48 && !pattern.contains(&b'{') {
        assert_eq!(
            got,
            regex::reference::is_match(&node, hay),
            "pattern {:?} input {:?}",
            String::from_utf8_lossy(pattern),
            String::from_utf8_lossy(hay)
        );
    }
}
