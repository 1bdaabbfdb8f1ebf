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
