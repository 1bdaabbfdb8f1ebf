//! timebox: allow the escalation only at the times the rule names.
//!
//! `TIMEBOX_INSIDE` lists windows: the clock must be inside **at least one** (relations joined
//! by OR, like the old `2200-2400,0000-0600`). `TIMEBOX_FORBID` lists conditions that **must
//! all hold**: the escalation is forbidden as soon as one of them is false.
//!
//! Why FORBID reads that way (the notes leave its polarity open, §4.1): the one documented
//! example is `TIMEBOX_FORBID=%u!=Thu` with the warning "No su on Thursday". Read as "deny when a
//! relation is true" it would deny every day *except* Thursday, the opposite of its own warning.
//! Read as "each entry states what must be true, and its failure is what is forbidden", the
//! example means exactly what it says: Thursday is refused, every other day passes. So FORBID
//! entries are requirements (AND), INSIDE entries are alternatives (OR), and when both are set
//! both must pass. A rule that sets neither is refused as misconfigured.

pub mod civil;
pub mod spec;
pub mod strftime;
pub mod zone;

pub use civil::LocalTime;
use spec::{Spec, SpecError};
use std::fmt;
pub use zone::Zone;

/// A parsed timebox policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timebox {
    inside: Option<Spec>,
    forbid: Option<Spec>,
}

/// Why a policy is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeboxError {
    /// Neither TIMEBOX_INSIDE nor TIMEBOX_FORBID is set.
    Nothing,
    Inside(SpecError),
    Forbid(SpecError),
}

impl fmt::Display for TimeboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeboxError::Nothing => f.write_str("neither TIMEBOX_INSIDE nor TIMEBOX_FORBID is set"),
            TimeboxError::Inside(e) => write!(f, "TIMEBOX_INSIDE: {e}"),
            TimeboxError::Forbid(e) => write!(f, "TIMEBOX_FORBID: {e}"),
        }
    }
}

impl Timebox {
    pub fn parse(inside: Option<&[u8]>, forbid: Option<&[u8]>) -> Result<Timebox, TimeboxError> {
        if inside.is_none() && forbid.is_none() {
            return Err(TimeboxError::Nothing);
        }
        Ok(Timebox {
            inside: inside.map(spec::parse).transpose().map_err(TimeboxError::Inside)?,
            forbid: forbid.map(spec::parse).transpose().map_err(TimeboxError::Forbid)?,
        })
    }

    /// The decision for a wall-clock reading.
    pub fn allows(&self, t: &LocalTime) -> bool {
        self.inside.as_ref().is_none_or(|s| s.any_holds(t)) && self.forbid.as_ref().is_none_or(|s| s.all_hold(t))
    }

    /// The decision at `t` (seconds since the epoch) in `zone`; `None` for an unconvertible time.
    pub fn allows_at(&self, zone: &Zone, t: i64) -> Option<bool> {
        zone.local_time(t).ok().map(|l| self.allows(&l))
    }
}

// ---------------------------------------------------------------- the timebox program

/// What `timebox -h`, `-H` and `-V` say, and its standard suffixes.
pub const HELPER: crate::helper::Helper = crate::helper::Helper {
    name: "timebox",
    about: "Allows the command only inside TIMEBOX_INSIDE (any window) and when every TIMEBOX_FORBID\n\
            condition holds, reading the clock in TZ (a zone name, or a POSIX TZ string).",
    reads: &["TIMEBOX_INSIDE", "TIMEBOX_FORBID", "TIMEBOX_WARN", "TIMEBOX_REVEAL", "TZ"],
    grammar: &[
        (
            "TIMEBOX_INSIDE",
            "relation[,relation]*  relation: !* fmt (< | <= | > | >= | == | !=) fmt ...; allow if ANY holds",
        ),
        ("TIMEBOX_FORBID", "relation[,relation]*  (same grammar); forbidden unless EVERY relation holds, e.g. %u!=Thu"),
        ("TIMEBOX_WARN", "text printed on stderr when refused"),
        ("TIMEBOX_REVEAL", "prefix: reply ~prefix after removing the TIMEBOX_ parameters"),
        ("TZ", "zone name under /usr/share/zoneinfo (optionally :name) or POSIX TZ string; unset = /etc/localtime"),
    ],
    warn_var: "TIMEBOX_WARN",
    reveal_var: "TIMEBOX_REVEAL",
};

/// The timebox program: allow only inside the rule's time windows.
pub fn main() -> ! {
    use crate::helper::{self, Verdict};
    use crate::params::Params;
    use crate::timebox::{Timebox, Zone};
    use opwire::sysexits::{EX_CONFIG, EX_NOPERM, EX_SOFTWARE};
    use std::time::{SystemTime, UNIX_EPOCH};
    helper::main(&HELPER, Params::prefixed("TIMEBOX_"), |s| {
        if let Err(e) = s.params.only(&["TIMEBOX_INSIDE", "TIMEBOX_FORBID", "TIMEBOX_WARN", "TIMEBOX_REVEAL"], &[]) {
            return e.into();
        }
        let policy = match Timebox::parse(s.params.get("TIMEBOX_INSIDE"), s.params.get("TIMEBOX_FORBID")) {
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

#[cfg(test)]
mod tests;
