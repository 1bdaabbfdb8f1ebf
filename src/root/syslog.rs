//! The system-log copy of every audit record (issue 15): after a record is written to the file
//! (which stays the durable record), the same line goes to journald's native socket or, in the
//! RFC 5424 format, to `/dev/log`, with its own chain hash, so a copy collected elsewhere pins
//! the local file (`--verify-log --anchors`, `unprivileged::anchors`).
//!
//! The encoders are pure: they take the JSON line exactly as written and derive everything
//! from it, so the copy can never say something the file does not. `Copy` is the I/O shell: one
//! non-blocking datagram socket per process, each send bounded by `SEND_WAIT_MS`.

use crate::policy::chain::{is_chain_hash, line_hash};
use crate::policy::config::{SyslogMode as Mode, SyslogSettings as Settings};
use crate::root::trusted_file;
use crate::sys::{self, Errno, Fd};
use std::cell::RefCell;
use std::ffi::CString;

pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
pub const DEV_LOG: &str = "/dev/log";

/// How long one record may wait for room in the logger's queue. Once a send has timed out, the
/// rest of the run sends nothing, so a logger that stopped reading costs a run this once.
pub const SEND_WAIT_MS: u64 = 200;

/// Most bytes of the JSON line carried as the copy's message text (journald's MESSAGE, the
/// RFC 5424 MSG). Below rsyslog's default `maxMessageSize` (8 KiB) with the header; the
/// hashes always travel whole, so a cut record still anchors.
pub const MAX_TEXT: usize = 7680;

/// Most bytes of one `ESCAPES_*` journal field: with ~30 fields a datagram stays far below the
/// socket buffer, so journald never needs the memfd path.
pub const MAX_JOURNAL_VALUE: usize = 2048;

/// syslog facility authpriv (RFC 5424 section 6.2.1).
pub const FACILITY_AUTHPRIV: u8 = 10;

pub const IDENTIFIER: &str = "escapes";

/// The RFC 5424 SD-ID of our element. 32473 is the private enterprise number RFC 5612 reserves
/// for documentation; we have none of our own.
pub const SD_ID: &str = "escapes@32473";

/// syslog severity for a record: refusals and failed execs are warnings, the rest notices
/// (`check` is informational).
fn severity(event: Option<&str>) -> u8 {
    match event {
        Some("refused" | "exec_failed") => 4,
        Some("check") => 6,
        _ => 5,
    }
}

/// The first `max` bytes of `s`, cut at a UTF-8 boundary (our lines are valid UTF-8).
fn cut(s: &[u8], max: usize) -> (&[u8], bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while end > 0 && s.get(end).is_some_and(|b| b & 0xc0 == 0x80) {
        end -= 1;
    }
    (s.get(..end).unwrap_or_default(), true)
}

/// A record's members as the copy carries them, (key, text) in the line's order
/// (`audit::Record::texts`).
pub type Members<K> = [(K, Vec<u8>)];

fn member<'a, K: AsRef<str>>(members: &'a Members<K>, key: &str) -> Option<&'a str> {
    members.iter().find(|(k, _)| k.as_ref() == key).and_then(|(_, v)| core::str::from_utf8(v).ok())
}

/// The record's pid, if it is a number.
fn pid_of<K: AsRef<str>>(members: &Members<K>) -> Option<String> {
    member(members, "pid").filter(|p| p.parse::<i64>().is_ok()).map(str::to_owned)
}

/// `ESCAPES_` + the member name in upper case, anything but `[A-Z0-9_]` as `_`, at most 64
/// bytes (journald's limit on field names).
fn journal_name(key: &str) -> String {
    let mut name: String = "ESCAPES_".to_string();
    name.extend(key.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }));
    name.truncate(64);
    name
}

/// One field of journald's native protocol: `NAME=value\n`, or for a value with a newline
/// `NAME\n`, its length as 64-bit little endian, the value, `\n`.
fn journal_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// The journald datagram for `line` (without its newline): MESSAGE (the JSON line, cut at
/// MAX_TEXT), PRIORITY, SYSLOG_IDENTIFIER=escapes, SYSLOG_FACILITY=10, SYSLOG_PID,
/// ESCAPES_LINE_HASH, then one ESCAPES_<NAME> per audit field (ESCAPES_PREV_HASH among them),
/// each cut at MAX_JOURNAL_VALUE; ESCAPES_TRUNCATED=1 when anything was cut. `minimal` leaves
/// out the per-field copies (for a socket that refused the whole datagram as too large).
pub fn journal_datagram<K: AsRef<str>>(line: &[u8], members: &Members<K>, minimal: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() * 2 + 256);
    let (text, mut truncated) = cut(line, MAX_TEXT);
    journal_field(&mut out, "MESSAGE", text);
    journal_field(&mut out, "PRIORITY", severity(member(members, "event")).to_string().as_bytes());
    journal_field(&mut out, "SYSLOG_IDENTIFIER", IDENTIFIER.as_bytes());
    journal_field(&mut out, "SYSLOG_FACILITY", FACILITY_AUTHPRIV.to_string().as_bytes());
    if let Some(pid) = pid_of(members) {
        journal_field(&mut out, "SYSLOG_PID", pid.as_bytes());
    }
    journal_field(&mut out, "ESCAPES_LINE_HASH", line_hash(line).as_bytes());
    for (key, full) in members {
        let key = key.as_ref();
        if minimal && key != "prev_hash" {
            continue;
        }
        let (v, cut_here) = cut(full, MAX_JOURNAL_VALUE);
        truncated |= cut_here;
        journal_field(&mut out, &journal_name(key), v);
    }
    truncated |= minimal;
    if truncated {
        journal_field(&mut out, "ESCAPES_TRUNCATED", b"1");
    }
    out
}

/// An RFC 5424 header field: printable ASCII without spaces, at most `max` bytes, else `-`.
fn header_field(s: Option<&str>, max: usize) -> &str {
    match s {
        Some(v) if !v.is_empty() && v.len() <= max && v.bytes().all(|b| b.is_ascii_graphic()) => v,
        _ => "-",
    }
}

/// The RFC 5424 message for `line` (without its newline), as sent to `/dev/log`:
/// `<PRI>1 TIMESTAMP HOST escapes PID EVENT [escapes@32473 line_hash="…" prev_hash="…"] JSON`,
/// facility authpriv, the record's own timestamp, host, pid and event; the JSON line cut at
/// MAX_TEXT (then `truncated="1"` is in the element). No BOM, so the MSG is the line's bytes.
pub fn syslog_datagram<K: AsRef<str>>(line: &[u8], members: &Members<K>) -> Vec<u8> {
    let pri = u16::from(FACILITY_AUTHPRIV) * 8 + u16::from(severity(member(members, "event")));
    let pid = pid_of(members);
    let (text, truncated) = cut(line, MAX_TEXT);
    let mut out = format!(
        "<{pri}>1 {} {} {IDENTIFIER} {} {} [{SD_ID} line_hash=\"{}\"",
        header_field(member(members, "timestamp"), 64),
        header_field(member(members, "host"), 255),
        header_field(pid.as_deref(), 128),
        header_field(member(members, "event"), 32),
        line_hash(line),
    )
    .into_bytes();
    if let Some(prev) = member(members, "prev_hash").filter(|p| is_chain_hash(p.as_bytes())) {
        out.extend_from_slice(format!(" prev_hash=\"{prev}\"").as_bytes());
    }
    if truncated {
        out.extend_from_slice(b" truncated=\"1\"");
    }
    out.extend_from_slice(b"] ");
    out.extend_from_slice(text);
    out
}

/// Why a record's copy did not reach the system logger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No usable socket: missing, not a root-owned socket, or nothing listening.
    Unreachable(String),
    /// The logger took nothing within SEND_WAIT_MS.
    TimedOut(&'static str),
    Send(&'static str, Errno),
    /// An earlier record of this run failed; nothing more is sent.
    GaveUp,
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Unreachable(why) => write!(f, "system logger unreachable: {why}"),
            Failure::TimedOut(path) => write!(f, "system logger at {path} took nothing within {SEND_WAIT_MS} ms"),
            Failure::Send(path, e) => write!(f, "system logger at {path}: cannot send: {}", why(*e)),
            Failure::GaveUp => write!(f, "the system logger failed earlier in this run"),
        }
    }
}

enum State {
    NotYet,
    Connected { fd: Fd, path: &'static str, journal: bool },
    Down(Failure),
}

/// The copy of one run's records: connected on first use, one datagram per record.
pub struct Copy {
    settings: Settings,
    state: RefCell<State>,
}

impl Copy {
    pub fn new(settings: Settings) -> Copy {
        Copy { settings, state: RefCell::new(State::NotYet) }
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    pub fn enabled(&self) -> bool {
        self.settings.mode != Mode::Off
    }

    /// Before a record is written: connects if this run has not yet, and says why the record
    /// cannot be copied when that is already known.
    pub fn ready(&self) -> Result<(), Failure> {
        if !self.enabled() {
            return Ok(());
        }
        let mut state = self.state.borrow_mut();
        if matches!(*state, State::NotYet) {
            *state = match connect(self.settings.mode) {
                Ok((fd, path, journal)) => State::Connected { fd, path, journal },
                Err(f) => State::Down(f),
            };
        }
        match &*state {
            State::Down(f) => Err(f.clone()),
            _ => Ok(()),
        }
    }

    /// For `--check-config`: where the copy goes, connecting as a run would (nothing is sent);
    /// `Ok(None)` when it is off.
    pub fn describe(&self) -> Result<Option<String>, Failure> {
        if !self.enabled() {
            return Ok(None);
        }
        self.ready()?;
        match &*self.state.borrow() {
            State::Connected { path, journal: true, .. } => Ok(Some(format!("{path} (journald native protocol)"))),
            State::Connected { path, .. } => Ok(Some(format!("{path} (RFC 5424, facility authpriv)"))),
            _ => Err(Failure::GaveUp),
        }
    }

    /// Sends the copy of `line` (as written, without its newline), waiting at most
    /// SEND_WAIT_MS for room. A failure is kept: the rest of the run sends nothing.
    pub fn send(&self, line: &[u8], members: &Members<&str>) -> Result<(), Failure> {
        if !self.enabled() {
            return Ok(());
        }
        self.ready()?;
        let mut state = self.state.borrow_mut();
        let State::Connected { fd, path, journal } = &*state else {
            return Err(Failure::GaveUp);
        };
        let (path, journal) = (*path, *journal);
        let datagram = if journal { journal_datagram(line, members, false) } else { syslog_datagram(line, members) };
        let mut result = send_bounded(fd, &datagram, path);
        if journal && matches!(result, Err(Failure::Send(_, Errno(libc::EMSGSIZE | libc::ENOBUFS)))) {
            result = send_bounded(fd, &journal_datagram(line, members, true), path);
        }
        if matches!(result, Err(Failure::Send(_, Errno(libc::ECONNREFUSED | libc::ENOTCONN)))) {
            // The logger restarted since we connected: once more on a fresh socket.
            result = sys::unix_datagram_connect(path.as_bytes())
                .map_err(|e| Failure::Unreachable(format!("{path}: {}", why(e))))
                .and_then(|fresh| {
                    let r = send_bounded(&fresh, &datagram, path);
                    *state = State::Connected { fd: fresh, path, journal };
                    r
                });
        }
        if let Err(f) = &result {
            *state = State::Down(f.clone());
        }
        result
    }
}

/// Errno words for what a connect or send to a logger's socket can meet.
fn why(e: Errno) -> String {
    match e.0 {
        libc::ECONNREFUSED => "connection refused (nobody is listening)".into(),
        libc::ENOENT => "no such socket".into(),
        libc::EACCES | libc::EPERM => "permission denied".into(),
        libc::EMSGSIZE => "message too long".into(),
        libc::ENOBUFS => "no buffer space".into(),
        _ => e.to_string(),
    }
}

/// One datagram, waiting for room (POLLOUT) until the deadline.
fn send_bounded(fd: &Fd, datagram: &[u8], path: &'static str) -> Result<(), Failure> {
    let deadline = sys::monotonic_ms().saturating_add(SEND_WAIT_MS);
    loop {
        match sys::send(fd, datagram) {
            Ok(_) => return Ok(()),
            Err(Errno(libc::EINTR)) => {}
            Err(Errno(libc::EAGAIN)) => {
                let now = sys::monotonic_ms();
                if now >= deadline {
                    return Err(Failure::TimedOut(path));
                }
                let wait = i32::try_from(deadline - now).unwrap_or(i32::MAX);
                sys::poll_one(fd.raw(), sys::POLLOUT, wait).map_err(|e| Failure::Send(path, e))?;
            }
            Err(e) => return Err(Failure::Send(path, e)),
        }
    }
}

/// The socket for `mode`: journald's, `/dev/log`, or (auto) journald's when it is there.
fn connect(mode: Mode) -> Result<(Fd, &'static str, bool), Failure> {
    let candidates: &[(&'static str, bool)] = match mode {
        Mode::Journald => &[(JOURNAL_SOCKET, true)],
        Mode::Syslog => &[(DEV_LOG, false)],
        Mode::Auto | Mode::Off => &[(JOURNAL_SOCKET, true), (DEV_LOG, false)],
    };
    let mut last = Failure::Unreachable("no socket".into());
    for &(path, journal) in candidates {
        match checked_socket(path).and_then(|target| {
            sys::unix_datagram_connect(target.as_bytes())
                .map_err(|e| Failure::Unreachable(format!("{path}: {}", why(e))))
        }) {
            Ok(fd) => return Ok((fd, path, journal)),
            Err(f) => last = f,
        }
    }
    Err(last)
}

/// The path to connect to for the socket at `path`: every directory above it root's and not
/// group/world-writable (the trusted-file walk, no symbolic link), the socket itself root's.
/// Nobody but root can then change what the name means. A symbolic link there (`/dev/log` ->
/// `/run/systemd/journal/dev-log`) is root's too, and its target is checked the same way; a
/// link to a link is refused.
fn checked_socket(path: &'static str) -> Result<String, Failure> {
    let unreachable = |why: String| Failure::Unreachable(format!("{path}: {why}"));
    let mut at = path.to_string();
    for hop in 0..2 {
        let (dir, name) = trusted_file::open_parent(&at).map_err(|e| unreachable(e.to_string()))?;
        let cname = CString::new(name.as_bytes()).map_err(|_| unreachable("bad name".into()))?;
        let st = sys::fstatat_nofollow(dir, &cname).map_err(|e| unreachable(why(e)))?;
        if st.uid != 0 {
            return Err(unreachable(format!("owned by uid {}, not root", st.uid)));
        }
        if sys::is_socket(&st) {
            return Ok(at);
        }
        if !st.is_symlink() || hop > 0 {
            return Err(unreachable("not a socket".into()));
        }
        let link =
            sys::openat(Some(dir), &cname, sys::O_PATH | sys::O_NOFOLLOW, 0).and_then(|fd| sys::readlink_fd(&fd));
        let target = link.map_err(|e| unreachable(why(e)))?;
        at = String::from_utf8(target).map_err(|_| unreachable("link target is not UTF-8".into()))?;
    }
    Err(unreachable("not a socket".into()))
}

#[cfg(test)]
mod tests;
