//! The audit log: one JSON object per line, appended under an exclusive lock, fsynced (all but
//! the record of how a command ended, `Log::append_after_run`).
//! Formatting is pure (`Record::to_line`); `Log` is the I/O shell around it.

use crate::policy::chain::{link_of, CHAIN_FIELD, ROTATED_FROM};
use crate::root::{rotation, syslog, trusted_file};
use crate::sys::{self, Errno, Fd};
use std::cell::RefCell;

/// Set on a record whose system-log copy failed (issue 15): why this record, or the one before
/// it in the same run, did not reach the system logger.
pub const SYSLOG_ERROR_FIELD: &str = "syslog_error";

/// Lines longer than this cannot be chained to (`--verify-log` and the append's read of the
/// last line stop there). Our own lines stay far below it (MAX_RECORD, MAX_RECORD_VERIFIED).
pub const MAX_LINE: usize = 32 * 1024 * 1024;

/// The longest line (newline not counted) of a record written before the grant's signature has
/// been verified: what anyone can make escapes write, refusal after refusal, without a grant.
pub const MAX_RECORD: usize = 4096;

/// The longest line of a record once the signature has been verified ([`Record::verified`]),
/// which may carry the approved command up to MAX_COMMAND.
pub const MAX_RECORD_VERIFIED: usize = 96 * 1024;

/// The command as recorded before the signature is verified: its JSON array (escapes, quotes
/// and commas counted) is cut to this many bytes, and `command_sha256` names the whole argv.
pub const MAX_COMMAND_UNVERIFIED: usize = 1024;

/// The same for the approved command, once the signature is verified.
pub const MAX_COMMAND: usize = 64 * 1024;

/// One argument of the command, escaped.
const MAX_ARGUMENT: usize = 4096;

/// Room the record keeps for `prev_hash`, which the log adds last
/// (`,"prev_hash":"sha256:` + 64 hex + `"` is 86 bytes).
const CHAIN_ROOM: usize = 96;

/// Room a cut command keeps for `command_truncated` and `command_sha256` (116 bytes).
const TRUNCATION_ROOM: usize = 128;

/// The most escaped bytes (quotes not counted) one string value may take. Claims are short
/// when honest; the cwd, the message and paths get more room.
fn value_cap(key: &str) -> usize {
    match key {
        "cwd" | "message" | "program" | "helpers" => 512,
        k if k.starts_with("claimed_") => 128,
        _ => 256,
    }
}

/// How long to wait for another escapes holding the log's lock before refusing.
pub const LOCK_WAIT_MS: u64 = 10_000;

/// A value in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Str(Vec<u8>),
    Int(i64),
    List(Vec<Vec<u8>>),
}

/// A record's fields as text, (key, text) in the line's order ([`Record::texts`]).
pub type Texts = Vec<(&'static str, Vec<u8>)>;

/// One audit record: fields in insertion order, rendered as one line of JSON.
///
/// Size is decided as values are set, on their escaped form: each string is cut to its
/// [`value_cap`] and to what is left of the record's own cap (MAX_RECORD, or
/// MAX_RECORD_VERIFIED once [`Record::verified`]), with room kept for the `prev_hash` the log
/// adds. Strings are cut at character boundaries; integers and keys are never cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Key, value, and the bytes `"key":value` takes in the line.
    fields: Vec<(&'static str, Field, usize)>,
    verified: bool,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// Sets `key`, replacing an earlier value so no line can carry a duplicate key; strings
    /// (and a list's items) are cut to fit, see the type's comment.
    pub fn set(&mut self, key: &'static str, value: Field) -> &mut Record {
        let room = self.room_for(key);
        let value = match value {
            Field::Str(s) => Field::Str(fit(&s, value_cap(key).min(room.saturating_sub(2))).to_vec()),
            Field::List(items) => Field::List(fit_list(&items, value_cap(key), room).0),
            v @ Field::Int(_) => v,
        };
        self.put(key, value)
    }

    /// Stores a value that already fits.
    fn put(&mut self, key: &'static str, value: Field) -> &mut Record {
        let len = field_len(key, &value);
        if let Some(slot) = self.fields.iter_mut().find(|(k, _, _)| *k == key) {
            *slot = (key, value, len);
        } else {
            self.fields.push((key, value, len));
        }
        self
    }

    /// Bytes left for `key`'s value (its quotes or brackets included): the record's cap, less
    /// the braces, the other fields and their commas, the chain's room, and this field's key,
    /// colon and comma.
    fn room_for(&self, key: &str) -> usize {
        let cap = if self.verified { MAX_RECORD_VERIFIED } else { MAX_RECORD };
        let others: usize = self.fields.iter().filter(|(k, _, _)| *k != key).map(|(_, _, n)| n + 1).sum();
        cap.saturating_sub(2 + others + CHAIN_ROOM + json_len(key.as_bytes()) + 2)
    }

    /// A string field.
    pub fn str(&mut self, key: &'static str, value: impl AsRef<[u8]>) -> &mut Record {
        self.set(key, Field::Str(value.as_ref().to_vec()))
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &str) -> &mut Record {
        self.fields.retain(|(k, _, _)| *k != key);
        self
    }

    /// The command as a list: each argument cut at MAX_ARGUMENT escaped bytes and the whole at
    /// MAX_COMMAND_UNVERIFIED (MAX_COMMAND once verified); when anything was cut,
    /// `command_truncated` and `command_sha256` (over the arguments joined by NUL) let an
    /// investigator still match the exact argv.
    pub fn command(&mut self, argv: &[Vec<u8>]) -> &mut Record {
        self.remove("command_truncated").remove("command_sha256");
        let cap = if self.verified { MAX_COMMAND } else { MAX_COMMAND_UNVERIFIED };
        let room = self.room_for("command");
        let (kept, cut) = match fit_list(argv, MAX_ARGUMENT, cap.min(room)) {
            (kept, false) => (kept, false),
            // Cut: keep room for the two fields that say so.
            _ => (fit_list(argv, MAX_ARGUMENT, cap.min(room.saturating_sub(TRUNCATION_ROOM))).0, true),
        };
        self.put("command", Field::List(kept));
        if cut {
            self.set("command_truncated", Field::Int(1));
            self.str("command_sha256", link_of(Some(&argv.join(&0u8))));
        }
        self
    }

    /// The grant's signature has been verified: the record may grow to MAX_RECORD_VERIFIED,
    /// and `argv`, now the approved command, is recorded again with MAX_COMMAND.
    pub fn verified(&mut self, argv: &[Vec<u8>]) -> &mut Record {
        self.verified = true;
        self.command(argv)
    }

    pub fn int(&mut self, key: &'static str, value: i64) -> &mut Record {
        self.set(key, Field::Int(value))
    }

    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|(k, _, _)| *k == key).map(|(_, v, _)| v)
    }

    /// The record as one line of JSON ending in `\n`. Invalid UTF-8 becomes U+FFFD and every
    /// control character is escaped, so each line parses as JSON and never spans two lines.
    /// Each field as the system-log copy carries it (`root::syslog`), in the line's order: a
    /// string as the characters a JSON reader of the line gets back, a number as written, a
    /// list as its JSON text in the line. So the copy never says what the line does not, and
    /// the root process needs no JSON parser to make it.
    pub fn texts(&self) -> Texts {
        let text = |v: &Field| match v {
            Field::Str(s) => String::from_utf8_lossy(s).into_owned().into_bytes(),
            Field::Int(n) => n.to_string().into_bytes(),
            list => {
                let mut out = Vec::new();
                render_value(&mut out, list);
                out
            }
        };
        self.fields.iter().map(|(k, v, _)| (*k, text(v))).collect()
    }

    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.fields.iter().map(|(_, _, n)| n + 1).sum::<usize>());
        out.push(b'{');
        for (i, (k, v, _)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            render_field(&mut out, k, v);
        }
        out.extend_from_slice(b"}\n");
        out
    }
}

/// `"key":value` as it goes into the line.
fn render_field(out: &mut Vec<u8>, key: &str, value: &Field) {
    json_string(out, key.as_bytes());
    out.push(b':');
    render_value(out, value);
}

fn render_value(out: &mut Vec<u8>, value: &Field) {
    match value {
        Field::Str(s) => json_string(out, s),
        Field::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Field::List(items) => {
            out.push(b'[');
            for (j, s) in items.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                json_string(out, s);
            }
            out.push(b']');
        }
    }
}

fn field_len(key: &str, value: &Field) -> usize {
    let mut out = Vec::new();
    render_field(&mut out, key, value);
    out.len()
}

/// Bytes of `s` as a JSON string literal, quotes included.
fn json_len(s: &[u8]) -> usize {
    let mut out = Vec::new();
    json_string(&mut out, s);
    out.len()
}

/// The longest prefix of `s`, ending on a character (or invalid sequence) boundary, whose JSON
/// literal has at most `budget` bytes besides its quotes.
fn fit(s: &[u8], budget: usize) -> &[u8] {
    let mut at = 0;
    let mut used = 0;
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            used += escaped_len(c);
            if used > budget {
                return s.get(..at).unwrap_or_default();
            }
            at += c.len_utf8();
        }
        if !chunk.invalid().is_empty() {
            used += '\u{fffd}'.len_utf8();
            if used > budget {
                return s.get(..at).unwrap_or_default();
            }
            at += chunk.invalid().len();
        }
    }
    s
}

/// As many of `items` as fit a JSON array of at most `budget` bytes (brackets included), each
/// cut to `item_cap` escaped bytes; the item that meets the end of the budget is cut to fill it,
/// and the rest dropped. True when anything was cut.
fn fit_list(items: &[Vec<u8>], item_cap: usize, budget: usize) -> (Vec<Vec<u8>>, bool) {
    let mut kept = Vec::new();
    let mut used = 2; // the brackets
    let mut cut = false;
    for item in items {
        let sep = usize::from(!kept.is_empty());
        // What is left once the separator and the item's quotes are counted.
        let Some(room) = budget.checked_sub(used + sep + 2) else {
            cut = true;
            break;
        };
        let piece = fit(item, item_cap.min(room));
        let whole = piece.len() == item.len();
        cut |= !whole;
        if !whole && room < item_cap {
            // The budget, not the item's own cap, cut it: nothing more fits after it.
            if !piece.is_empty() {
                kept.push(piece.to_vec());
            }
            break;
        }
        used += sep + json_len(piece);
        kept.push(piece.to_vec());
    }
    (kept, cut)
}

/// Bytes `c` takes inside a JSON string literal written by [`json_string`].
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' => 2,
        c if is_hostile(c) => 6,
        c => c.len_utf8(),
    }
}

/// Characters never written raw, in a record or on a terminal: every control character (C0,
/// DEL and C1: U+0085 NEL ends a line for Unicode line readers, U+009B is an 8-bit CSI that
/// drives terminals), and U+2028/U+2029, which are valid JSON but end lines for JavaScript and
/// other Unicode-aware readers.
fn is_hostile(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// `s` for a terminal or a log that is read as text (stderr, `--check` reports): every
/// [`is_hostile`] character as `\u{..}`, the way Rust's `{:?}` spells it.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hostile(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
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
                c if is_hostile(c) => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
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
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, nanos / 1_000_000)
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
            Error::LockTimeout => {
                write!(f, "audit log: still locked by another process after {} s", LOCK_WAIT_MS / 1000)
            }
            Error::Write(e) => write!(f, "audit log: cannot write: {e}"),
            Error::ShortWrite => write!(f, "audit log: record only partly written (disk full or file size limit)"),
            Error::Sync(e) => write!(f, "audit log: cannot flush to disk: {e}"),
            Error::Read(e) => write!(f, "audit log: cannot read the last line to chain to: {e}"),
            Error::Syslog(why) => write!(f, "audit log: {why} (syslog_required = true)"),
        }
    }
}

/// An open audit log, and the system-log copy of what is written to it (`root::syslog`).
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
        Log::open_with(path, crate::policy::config::SyslogSettings::default())
    }

    pub fn open_with(path: &str, copy: crate::policy::config::SyslogSettings) -> Result<Log, Error> {
        let fd = trusted_file::open_append(path).map_err(Error::Open)?;
        Ok(Log {
            fd: RefCell::new(fd),
            path: path.to_string(),
            copy: syslog::Copy::new(copy),
            missed: RefCell::new(None),
        })
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
        let (line, members) = Log::lock(&fd).and_then(|()| {
            let r = self.append_locked(&fd, record, sync);
            sys::flock_unlock(&fd);
            r
        })?;
        if ready.is_ok() {
            if let Err(f) = self.copy.send(&line, &members) {
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
    /// its newline) and its fields as text, for the system-log copy.
    fn append_locked(&self, fd: &Fd, mut record: Record, sync: bool) -> Result<(Vec<u8>, Texts), Error> {
        let before = sys::fstat(fd).map_err(Error::Write)?.size;
        let (prev, terminated) = if before > 0 {
            last_line(fd, before)?
        } else {
            // A new file: after a rotation, the chain goes on from the rotated file's last line.
            match rotation::open_predecessor(&self.path).map_err(Error::Open)? {
                Some((old, size, name)) => {
                    let (prev, _) = last_line(&old, size)?;
                    if prev.is_some() {
                        record.str(ROTATED_FROM, name);
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
        let written = line.get(start..line.len().saturating_sub(1)).unwrap_or_default().to_vec();
        Ok((written, record.texts()))
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
mod tests;
