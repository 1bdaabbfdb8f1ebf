//! Exit statuses. escapes' own say which of a few things happened, so that a caller can tell
//! them apart; when a helper refuses, escapes passes the helper's word on (its reply code, or
//! the sysexits(3) status for how it failed) instead of inventing one.

/// What escapes' exit status says (the command's own status is passed through otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A failure of escapes', of the configuration or of the system: nothing ran.
    Error,
    /// The grant does not allow this: nothing ran.
    Refused,
    /// The program was found but cannot be run.
    NotExecutable,
    /// The program was not found.
    NotFound,
    /// A helper refused: its reply code or sysexits status, never 0.
    Helper(u8),
}

/// sysexits(3): a helper did not answer in time.
pub const EX_TEMPFAIL: u8 = 75;
/// sysexits(3): a helper's reply does not follow the protocol.
pub const EX_PROTOCOL: u8 = 76;
/// sysexits(3): a helper could not be executed.
pub const EX_UNAVAILABLE: u8 = 69;
/// sysexits(3): the usual denial; also a helper killed or gone.
pub const EX_NOPERM: u8 = 77;

impl Exit {
    /// The status as the process exits with it.
    pub const fn code(self) -> i32 {
        match self {
            Exit::Error => 1,
            Exit::Refused => 5,
            Exit::NotExecutable => 126,
            Exit::NotFound => 127,
            Exit::Helper(0) => 1,
            Exit::Helper(n) => n as i32,
        }
    }

    /// A helper's own status: 0 (which cannot mean a refusal) and anything beyond 255 read as
    /// the usual denial.
    pub fn helper(status: i32) -> Exit {
        match u8::try_from(status) {
            Ok(0) | Err(_) => Exit::Helper(EX_NOPERM),
            Ok(n) => Exit::Helper(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!([Exit::Error, Exit::Refused, Exit::NotExecutable, Exit::NotFound].map(Exit::code), [1, 5, 126, 127]);
        assert_eq!(Exit::Helper(EX_PROTOCOL).code(), 76);
        assert_eq!(Exit::helper(3), Exit::Helper(3));
        assert_eq!(Exit::helper(0), Exit::Helper(EX_NOPERM));
        assert_eq!(Exit::helper(300), Exit::Helper(EX_NOPERM));
        assert_eq!(Exit::Helper(0).code(), 1, "never 0: that would say the command ran");
    }
}
