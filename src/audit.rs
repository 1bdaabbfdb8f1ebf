//! The audit log: one JSON object per line, appended under an exclusive lock, fsynced (all but
//! the record of how a command ended, `Log::append_after_run`).
//! Formatting is pure (`Record::to_line`); `Log` is the I/O shell around it.

use crate::json;
use crate::rotation;
use crate::sys::{self, Errno, Fd};
use crate::syslog;
use crate::trusted_file;
use crate::verify::hex_sha256;
use std::cell::RefCell;

/// The chain field: `sha256:` + hex of the previous line's bytes (without its newline).
pub const CHAIN_FIELD: &str = "prev_hash";

/// Set on a record whose system-log copy failed (issue 15): why this record, or the one before
/// it in the same run, did not reach the system logger.
pub const SYSLOG_ERROR_FIELD: &str = "syslog_error";

/// What the first line of a log chains to.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Lines longer than this cannot be chained to. Our own lines stay far below it: every string
/// field is cut at MAX_FIELD bytes and the command at MAX_COMMAND, so a caller cannot write a
/// line that stops the next record from chaining (or fill the disk quickly).
pub const MAX_LINE: usize = 32 * 1024 * 1024;

/// Longest string field, in input bytes (escaping can make it up to six times longer).
pub const MAX_FIELD: usize = 4096;

/// Most bytes of argv recorded; beyond it the record says `command_truncated` and carries the
/// SHA-256 of the whole argv.
pub const MAX_COMMAND: usize = 64 * 1024;

/// How long to wait for another escapes holding the log's lock before refusing.
pub const LOCK_WAIT_MS: u64 = 10_000;

/// The chain value for a line that follows `prev`.
pub fn link_of(prev: Option<&[u8]>) -> String {
    match prev {
        None => GENESIS.to_string(),
        Some(line) => format!("sha256:{}", hex_sha256(line)),
    }
}

/// Why a log fails verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    NotJson,
    NoLink,
    WrongLink,
    Unterminated,
}

impl core::fmt::Display for Broken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Broken::NotJson => write!(f, "not a JSON object"),
            Broken::NoLink => write!(f, "has no {CHAIN_FIELD}"),
            Broken::WrongLink => write!(f, "{CHAIN_FIELD} does not match the line before (edited, deleted or reordered)"),
            Broken::Unterminated => write!(f, "last line is incomplete"),
        }
    }
}

/// Checks a log's hash chain line by line; feed every line (without its newline) in order.
#[derive(Debug, Default)]
pub struct Chain {
    prev: Option<Vec<u8>>,
    pub lines: usize,
    /// The first line fed links to a rotated file that was not given (its `rotated_from`).
    pub starts_after: Option<String>,
}

impl Chain {
    /// Verifies `line` links to the line before it.
    pub fn feed(&mut self, line: &[u8]) -> Result<(), Broken> {
        self.lines += 1;
        let value = json::parse(line).map_err(|_| Broken::NotJson)?;
        let link = match value.get(CHAIN_FIELD) {
            Some(json::Value::Str(s)) => s.clone(),
            Some(_) => return Err(Broken::NoLink),
            None if matches!(value, json::Value::Object(_)) => return Err(Broken::NoLink),
            None => return Err(Broken::NotJson),
        };
        if link != link_of(self.prev.as_deref()) {
            // The first record of a rotated log links to the last one of the file before it
            // (rotation.rs); given on its own, that file's chain starts there.
            match value.get(rotation::ROTATED_FROM) {
                Some(json::Value::Str(from)) if self.lines == 1 => self.starts_after = Some(from.clone()),
                _ => return Err(Broken::WrongLink),
            }
        }
        self.prev = Some(line.to_vec());
        Ok(())
    }
}

/// A value in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Str(Vec<u8>),
    Int(i64),
    List(Vec<Vec<u8>>),
}

/// One audit record: fields in insertion order, rendered as one line of JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    fields: Vec<(&'static str, Field)>,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// Sets `key`, replacing an earlier value so no line can carry a duplicate key.
    pub fn set(&mut self, key: &'static str, value: Field) -> &mut Record {
        if let Some(slot) = self.fields.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.fields.push((key, value));
        }
        self
    }

    /// A string field, cut at MAX_FIELD bytes.
    pub fn str(&mut self, key: &'static str, value: impl AsRef<[u8]>) -> &mut Record {
        let v = value.as_ref();
        self.set(key, Field::Str(v.get(..MAX_FIELD).unwrap_or(v).to_vec()))
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &str) -> &mut Record {
        self.fields.retain(|(k, _)| *k != key);
        self
    }

    /// The command as a list, each argument cut at MAX_FIELD and the whole at MAX_COMMAND; when
    /// anything was cut, `command_truncated` and `command_sha256` (over the arguments joined by
    /// NUL) let an investigator still match the exact argv.
    pub fn command(&mut self, argv: &[Vec<u8>]) -> &mut Record {
        let mut kept = Vec::new();
        let mut total = 0usize;
        let mut cut = false;
        for a in argv {
            let piece = a.get(..MAX_FIELD).unwrap_or(a);
            cut |= piece.len() < a.len();
            total = total.saturating_add(piece.len());
            if total > MAX_COMMAND {
                cut = true;
                break;
            }
            kept.push(piece.to_vec());
        }
        self.set("command", Field::List(kept));
        if cut {
            self.set("command_truncated", Field::Int(1));
            self.str("command_sha256", link_of(Some(&argv.join(&0u8))));
        }
        self
    }

    pub fn int(&mut self, key: &'static str, value: i64) -> &mut Record {
        self.set(key, Field::Int(value))
    }

    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The record as one line of JSON ending in `\n`. Invalid UTF-8 becomes U+FFFD and every
    /// control character is escaped, so each line parses as JSON and never spans two lines.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(b'{');
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_string(&mut out, k.as_bytes());
            out.push(b':');
            match v {
                Field::Str(s) => json_string(&mut out, s),
                Field::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
                Field::List(items) => {
                    out.push(b'[');
                    for (j, s) in items.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        json_string(&mut out, s);
                    }
                    out.push(b']');
                }
            }
        }
        out.extend_from_slice(b"}\n");
        out
    }
}

/// Appends `s` as a JSON string literal.
pub fn json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                // U+2028/2029 are valid JSON but break line-oriented JavaScript readers.
                c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

/// RFC 3339 UTC timestamp with milliseconds, from seconds and nanoseconds since the epoch.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        nanos / 1_000_000
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Open(trusted_file::Error),
    Lock(Errno),
    LockTimeout,
    Write(Errno),
    ShortWrite,
    Sync(Errno),
    Read(Errno),
    /// `[audit] syslog_required = true` and the system logger did not take the record.
    Syslog(String),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Open(e) => write!(f, "audit log: {e}"),
            Error::Lock(e) => write!(f, "audit log: cannot lock: {e}"),
            Error::LockTimeout => write!(f, "audit log: still locked by another process after {} s", LOCK_WAIT_MS / 1000),
            Error::Write(e) => write!(f, "audit log: cannot write: {e}"),
            Error::ShortWrite => write!(f, "audit log: record only partly written (disk full or file size limit)"),
            Error::Sync(e) => write!(f, "audit log: cannot flush to disk: {e}"),
            Error::Read(e) => write!(f, "audit log: cannot read the last line to chain to: {e}"),
            Error::Syslog(why) => write!(f, "audit log: {why} (syslog_required = true)"),
        }
    }
}

/// An open audit log, and the system-log copy of what is written to it (`syslog.rs`).
pub struct Log {
    fd: RefCell<Fd>,
    path: String,
    copy: syslog::Copy,
    /// Why the last record's copy failed after it was written: the next record says so.
    missed: RefCell<Option<String>>,
}

impl Log {
    /// The log with the default copy (`[audit] syslog = "auto"`), for when no config is usable.
    pub fn open(path: &str) -> Result<Log, Error> {
        Log::open_with(path, syslog::Settings::default())
    }

    pub fn open_with(path: &str, copy: syslog::Settings) -> Result<Log, Error> {
        let fd = trusted_file::open_append(path).map_err(Error::Open)?;
        Ok(Log { fd: RefCell::new(fd), path: path.to_string(), copy: syslog::Copy::new(copy), missed: RefCell::new(None) })
    }

    /// Appends one whole line and fsyncs it; a partly written line is cut off again, so the log
    /// never holds half a record. Then the system-log copy; its failure is noted in the log
    /// (`syslog_error`), never an error.
    pub fn append(&self, record: &Record) -> Result<(), Error> {
        self.append_with(record, true, false)
    }

    /// The record that a command is about to run: like `append`, but with
    /// `syslog_required = true` a copy the system logger did not take within the bound is
    /// `Error::Syslog`, and nothing may run. When the logger is known to be unreachable before
    /// the write, the record is not written at all.
    pub fn append_before_run(&self, record: &Record) -> Result<(), Error> {
        self.append_with(record, true, true)
    }

    /// The record of how a command ended: appended the same way but not fsynced. The command
    /// has run by then, and the "run" record before it was made durable. The next append's
    /// fsync (or the kernel's writeback within seconds) makes this one durable too. A crash in
    /// between can lose this last line, or leave part of it: the next record then starts on a
    /// line of its own and chains to the fragment, and `--verify-log` reports the fragment as
    /// the first broken line, which after a crash means "torn", not "tampered".
    pub fn append_after_run(&self, record: &Record) -> Result<(), Error> {
        self.append_with(record, false, false)
    }

    fn append_with(&self, record: &Record, sync: bool, before_run: bool) -> Result<(), Error> {
        // The terminal may still signal us (Ctrl-C, Ctrl-Z): not while we hold the lock and
        // write, or a record could be cut in half or the log left locked; nor between the write
        // and the system-log copy.
        let old_mask = sys::block_signals(&sys::SigSet::full()).map_err(Error::Lock)?;
        let result = self.append_blocked(record, sync, before_run);
        let _ = sys::set_sigmask(&old_mask);
        result
    }

    fn append_blocked(&self, record: &Record, sync: bool, before_run: bool) -> Result<(), Error> {
        let strict = before_run && self.copy.settings().required;
        let ready = self.copy.ready();
        if let (true, Err(f)) = (strict, &ready) {
            return Err(Error::Syslog(f.to_string()));
        }
        let mut record = record.clone();
        let mut notes = Vec::new();
        if let Some(m) = self.missed.borrow_mut().take() {
            notes.push(format!("the previous record was not copied: {m}"));
        }
        if let Err(f) = &ready {
            notes.push(format!("not copied: {f}"));
        }
        if !notes.is_empty() {
            record.str(SYSLOG_ERROR_FIELD, notes.join("; "));
        }
        self.follow_rotation()?;
        let fd = self.fd.borrow();
        let line = Log::lock(&fd).and_then(|()| {
            let r = self.append_locked(&fd, record, sync);
            sys::flock_unlock(&fd);
            r
        })?;
        if ready.is_ok() {
            if let Err(f) = self.copy.send(&line) {
                if strict {
                    return Err(Error::Syslog(f.to_string()));
                }
                *self.missed.borrow_mut() = Some(f.to_string());
            }
        }
        Ok(())
    }

    /// logrotate renamed the log since we opened it (a long command, then its exit record):
    /// append to the new file at the path, not to the rotated one.
    fn follow_rotation(&self) -> Result<(), Error> {
        if rotation::is_current(&self.fd.borrow(), &self.path) {
            return Ok(());
        }
        let fresh = trusted_file::open_append(&self.path).map_err(Error::Open)?;
        *self.fd.borrow_mut() = fresh;
        Ok(())
    }

    /// Takes the exclusive lock, waiting at most LOCK_WAIT_MS for another holder.
    fn lock(fd: &Fd) -> Result<(), Error> {
        let deadline = sys::monotonic_ms().saturating_add(LOCK_WAIT_MS);
        loop {
            if sys::flock_try_exclusive(fd).map_err(Error::Lock)? {
                return Ok(());
            }
            if sys::monotonic_ms() >= deadline {
                return Err(Error::LockTimeout);
            }
            sys::sleep_ms(5);
        }
    }

    /// Writes the record chained to the line before it; returns the line as written (without
    /// its newline), for the system-log copy.
    fn append_locked(&self, fd: &Fd, mut record: Record, sync: bool) -> Result<Vec<u8>, Error> {
        let before = sys::fstat(fd).map_err(Error::Write)?.size;
        let (prev, terminated) = if before > 0 {
            last_line(fd, before)?
        } else {
            // A new file: after a rotation, the chain goes on from the rotated file's last line.
            match rotation::open_predecessor(&self.path).map_err(Error::Open)? {
                Some((old, size, name)) => {
                    let (prev, _) = last_line(&old, size)?;
                    if prev.is_some() {
                        record.str(rotation::ROTATED_FROM, name);
                    }
                    (prev, true)
                }
                None => (None, true),
            }
        };
        record.str(CHAIN_FIELD, link_of(prev.as_deref()));
        let mut line = record.to_line();
        if !terminated {
            // A fragment left by a crash: start on a line of our own, in the same write.
            line.insert(0, b'\n');
        }
        match sys::write_once(fd.raw(), &line) {
            Ok(n) if n == line.len() => {}
            Ok(_) => {
                let _ = sys::ftruncate(fd, before);
                return Err(Error::ShortWrite);
            }
            Err(e) => {
                let _ = sys::ftruncate(fd, before);
                return Err(Error::Write(e));
            }
        }
        if sync {
            sys::fsync(fd).map_err(Error::Sync)?;
        }
        let start = usize::from(!terminated);
        Ok(line.get(start..line.len().saturating_sub(1)).unwrap_or_default().to_vec())
    }
}

/// The last line of a file of `size` bytes (without its newline), and whether the file ends in
/// a newline; read backwards from the end in chunks: the cost depends on that line's length,
/// never on the size of the log.
fn last_line(fd: &Fd, size: i64) -> Result<(Option<Vec<u8>>, bool), Error> {
    if size <= 0 {
        return Ok((None, true));
    }
    let mut terminated = true;
    let mut end = size;
    let mut tail: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 8192];
    let mut first = true;
    loop {
        let start = end.saturating_sub(chunk.len() as i64).max(0);
        let want = (end - start) as usize;
        let buf = chunk.get_mut(..want).ok_or(Error::Read(Errno(libc::EIO)))?;
        let n = sys::pread(fd, buf, start).map_err(Error::Read)?;
        if n != want {
            return Err(Error::Read(Errno(libc::EIO)));
        }
        let mut part: &[u8] = buf;
        if first {
            // The newline that ends the last line is not part of it.
            terminated = part.last() == Some(&b'\n');
            part = part.strip_suffix(b"\n").unwrap_or(part);
            first = false;
        }
        if let Some(nl) = part.iter().rposition(|&b| b == b'\n') {
            let mut line = part.get(nl + 1..).unwrap_or_default().to_vec();
            line.extend_from_slice(&tail);
            return Ok((Some(line), terminated));
        }
        let mut joined = part.to_vec();
        joined.extend_from_slice(&tail);
        tail = joined;
        if tail.len() > MAX_LINE {
            return Err(Error::Read(Errno(libc::EFBIG)));
        }
        if start == 0 {
            return Ok((Some(tail), terminated));
        }
        end = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_all(text: &[u8]) -> Result<usize, (usize, Broken)> {
        let mut c = Chain::default();
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            c.feed(line).map_err(|e| (c.lines, e))?;
        }
        Ok(c.lines)
    }

    fn chained(n: usize) -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for i in 0..n {
            let mut r = Record::new();
            r.int("n", i as i64).str(CHAIN_FIELD, link_of(lines.last().map(|l| l.as_slice())));
            let mut l = r.to_line();
            l.pop();
            lines.push(l);
        }
        lines
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(chain_all(&chained(5).join(&b'\n')), Ok(5));
    }

    #[test]
    fn detects_an_edited_line() {
        let mut lines = chained(4);
        lines[1] = lines[1].replace_bytes(b"\"n\":1", b"\"n\":9");
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((3, Broken::WrongLink)));
    }

    #[test]
    fn detects_a_deleted_line() {
        let mut lines = chained(4);
        lines.remove(2);
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((3, Broken::WrongLink)));
        let mut lines = chained(4);
        lines.remove(0);
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((1, Broken::WrongLink)));
    }

    #[test]
    fn detects_reordered_lines() {
        let mut lines = chained(4);
        lines.swap(1, 2);
        assert_eq!(chain_all(&lines.join(&b'\n')), Err((2, Broken::WrongLink)));
    }

    #[test]
    fn detects_garbage_and_unchained_lines() {
        assert_eq!(chain_all(b"not json"), Err((1, Broken::NotJson)));
        assert_eq!(chain_all(b"{\"a\":1}"), Err((1, Broken::NoLink)));
    }

    trait ReplaceBytes {
        fn replace_bytes(&self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }
    impl ReplaceBytes for Vec<u8> {
        fn replace_bytes(&self, from: &[u8], to: &[u8]) -> Vec<u8> {
            let s = String::from_utf8(self.clone()).unwrap();
            s.replace(std::str::from_utf8(from).unwrap(), std::str::from_utf8(to).unwrap()).into_bytes()
        }
    }

    #[test]
    fn escapes_control_characters_and_quotes() {
        let mut r = Record::new();
        r.str("a", b"x\"y\\z\n\r\t\x00\x1b\x7f");
        assert_eq!(r.to_line(), b"{\"a\":\"x\\\"y\\\\z\\n\\r\\t\\u0000\\u001b\\u007f\"}\n".to_vec());
    }

    #[test]
    fn replaces_invalid_utf8() {
        let mut r = Record::new();
        r.str("a", b"ok\xff\xfeend");
        let line = String::from_utf8(r.to_line()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["a"], "ok\u{fffd}\u{fffd}end");
    }

    #[test]
    fn every_line_parses_as_json_with_lists_and_ints() {
        let mut r = Record::new();
        r.str("s", "ünï").int("n", -5).set("l", Field::List(vec![b"a b".to_vec(), b"\xc3".to_vec()]));
        let line = r.to_line();
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["n"], -5);
        assert_eq!(v["l"][1], "\u{fffd}");
    }

    #[test]
    fn setting_a_key_twice_keeps_one() {
        let mut r = Record::new();
        r.str("k", "1").str("k", "2");
        assert_eq!(r.to_line(), b"{\"k\":\"2\"}\n".to_vec());
    }

    #[test]
    fn cuts_long_fields_and_commands_but_keeps_their_hash() {
        let mut r = Record::new();
        r.str("m", vec![b'x'; MAX_FIELD * 3]);
        let huge = vec![vec![1u8; MAX_FIELD * 2]; 100];
        r.command(&huge);
        let line = r.to_line();
        assert!(line.len() < MAX_FIELD + MAX_COMMAND * 6 + 1024, "{}", line.len());
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["m"].as_str().unwrap().len(), MAX_FIELD);
        assert_eq!(v["command_truncated"], 1);
        assert_eq!(v["command_sha256"], link_of(Some(&huge.join(&0u8))));
        assert!(v["command"].as_array().unwrap().len() < 100);
    }

    #[test]
    fn short_commands_are_recorded_whole() {
        let mut r = Record::new();
        r.command(&[b"id".to_vec(), b"-u".to_vec()]);
        assert_eq!(r.to_line(), b"{\"command\":[\"id\",\"-u\"]}\n".to_vec());
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5_000_000), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_798_761_599, 999_999_999), "2026-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.000Z");
    }
}
