//! Exit codes from sysexits(3), the vocabulary op, escapes and the helpers share (§3 of the
//! notes).

pub const EX_OK: u8 = 0;
/// Bad argv: unknown positional count, missing option value, bad pid.
pub const EX_USAGE: u8 = 64;
/// Bad `euid:egid` word.
pub const EX_DATAERR: u8 = 65;
/// A file the helper needs (list, program) cannot be opened.
pub const EX_NOINPUT: u8 = 66;
/// A user or group that does not exist: the caller or target has no account to go by, or
/// stampctl names one.
pub const EX_NOUSER: u8 = 67;
/// An inner helper cannot be executed.
pub const EX_UNAVAILABLE: u8 = 69;
/// A helper bug or an inner helper killed by a signal.
pub const EX_SOFTWARE: u8 = 70;
/// A system call failed.
pub const EX_OSERR: u8 = 71;
/// Reading or writing failed.
pub const EX_IOERR: u8 = 74;
/// An inner helper did not answer in time.
pub const EX_TEMPFAIL: u8 = 75;
/// A reply or credential word that does not follow the protocol.
pub const EX_PROTOCOL: u8 = 76;
/// The usual denial.
pub const EX_NOPERM: u8 = 77;
/// The helper's parameters are wrong: it refuses rather than guess.
pub const EX_CONFIG: u8 = 78;

// --- escapes' own statuses -----------------------------------------------------------------------
// escapes' own say which of a few things happened, so that a caller can tell them apart; when a
// helper refuses, escapes passes the helper's word on (its reply code, or the status above for
// how it failed) instead of inventing one.

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
