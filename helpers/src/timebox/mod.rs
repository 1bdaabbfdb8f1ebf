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
            TimeboxError::Nothing => {
                f.write_str("neither TIMEBOX_INSIDE nor TIMEBOX_FORBID is set")
            }
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
            inside: inside
                .map(spec::parse)
                .transpose()
                .map_err(TimeboxError::Inside)?,
            forbid: forbid
                .map(spec::parse)
                .transpose()
                .map_err(TimeboxError::Forbid)?,
        })
    }

    /// The decision for a wall-clock reading.
    pub fn allows(&self, t: &LocalTime) -> bool {
        self.inside.as_ref().is_none_or(|s| s.any_holds(t))
            && self.forbid.as_ref().is_none_or(|s| s.all_hold(t))
    }

    /// The decision at `t` (seconds since the epoch) in `zone`; `None` for an unconvertible time.
    pub fn allows_at(&self, zone: &Zone, t: i64) -> Option<bool> {
        zone.local_time(t).ok().map(|l| self.allows(&l))
    }
}

#[cfg(test)]
mod tests;
