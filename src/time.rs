//! Deadlines on the monotonic clock: every wait escapes does on a pipe, a socket or a child
//! has one.

#![forbid(unsafe_code)]

use crate::sys;

/// A point on the monotonic clock by which something must be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at_ms: u64,
}

impl Deadline {
    pub fn after_ms(ms: u64) -> Deadline {
        Deadline { at_ms: sys::monotonic_ms().saturating_add(ms) }
    }
    /// The sooner of this deadline and `ms` from now.
    pub fn within(&self, ms: u64) -> Deadline {
        Deadline { at_ms: self.at_ms.min(sys::monotonic_ms().saturating_add(ms)) }
    }
    pub fn expired(&self) -> bool {
        sys::monotonic_ms() >= self.at_ms
    }
    /// Milliseconds left as a poll(2) timeout, None once expired.
    pub fn poll_ms(&self) -> Option<i32> {
        let left = self.at_ms.saturating_sub(sys::monotonic_ms());
        (left > 0).then(|| i32::try_from(left).unwrap_or(i32::MAX))
    }
}
