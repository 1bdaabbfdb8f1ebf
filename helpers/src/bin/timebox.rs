//! timebox: allow only inside the rule's time windows (see escapes_helpers::timebox).

use escapes_helpers::helper::{self, Helper, Verdict};
use escapes_helpers::params::Params;
use opwire::sysexits::{EX_CONFIG, EX_NOPERM, EX_SOFTWARE};
use escapes_helpers::timebox::{Timebox, Zone};
use std::time::{SystemTime, UNIX_EPOCH};

const TIMEBOX: Helper = Helper {
    name: "timebox",
    about: "Allows the command only inside TIMEBOX_INSIDE (any window) and when every TIMEBOX_FORBID\n\
            condition holds, reading the clock in TZ (a zone name, or a POSIX TZ string).",
    reads: &["TIMEBOX_INSIDE", "TIMEBOX_FORBID", "TIMEBOX_WARN", "TIMEBOX_REVEAL", "TZ"],
    grammar: &[
        ("TIMEBOX_INSIDE", "relation[,relation]*  relation: !* fmt (< | <= | > | >= | == | !=) fmt ...; allow if ANY holds"),
        ("TIMEBOX_FORBID", "relation[,relation]*  (same grammar); forbidden unless EVERY relation holds, e.g. %u!=Thu"),
        ("TIMEBOX_WARN", "text printed on stderr when refused"),
        ("TIMEBOX_REVEAL", "prefix: reply ~prefix after removing the TIMEBOX_ parameters"),
        ("TZ", "zone name under /usr/share/zoneinfo (optionally :name) or POSIX TZ string; unset = /etc/localtime"),
    ],
    warn_var: "TIMEBOX_WARN",
    reveal_var: "TIMEBOX_REVEAL",
};

fn main() {
    helper::main(&TIMEBOX, Params::prefixed("TIMEBOX_"), |s| {
        if let Err(e) = s.params.only(
            &[
                "TIMEBOX_INSIDE",
                "TIMEBOX_FORBID",
                "TIMEBOX_WARN",
                "TIMEBOX_REVEAL",
            ],
            &[],
        ) {
            return e.into();
        }
        let policy = match Timebox::parse(
            s.params.get("TIMEBOX_INSIDE"),
            s.params.get("TIMEBOX_FORBID"),
        ) {
            Ok(p) => p,
            Err(e) => return Verdict::config(e),
        };
        let zone = match Zone::load(s.env.get(b"TZ")) {
            Ok(z) => z,
            Err(e) => return Verdict::refuse(EX_CONFIG, e.to_string()),
        };
        let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => return Verdict::refuse(EX_SOFTWARE, "the clock is before 1970"),
        };
        match policy.allows_at(&zone, now) {
            Some(true) => Verdict::allow(),
            Some(false) => Verdict::deny(EX_NOPERM),
            None => Verdict::refuse(EX_SOFTWARE, "the clock is out of range"),
        }
    })
}
