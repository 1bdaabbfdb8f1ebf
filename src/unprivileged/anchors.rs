//! Tamper evidence that left the host (issue 15): the system logger's copy of the audit log
//! (`root::syslog` sent it) pins the local file. `--verify-log FILE --anchors EXPORT` compares them.
//!
//! Two pure parsers read what a collector holds, each `&[u8] -> Result<Vec<Anchor>, Error>`
//! with a fuzz target: `journal_export` (the output of `journalctl -o export`) and
//! `syslog_file` (the lines rsyslog wrote, in any template that keeps the message). Each gives
//! one `Anchor` per copied record: its line hash, the hash it chains to, its host. `Compare`
//! then walks the local lines in order against them.
//!
//! What a line can be, against the export:
//! - **anchored**: the export holds its hash, as a record of its own or as the `prev_hash` of
//!   the record after it;
//! - **contradicted**: the export holds a *different* record after the same predecessor (an
//!   edited, replaced or inserted line, or a forged re-chain from it on);
//! - **not in the export**: before the first anchored line (older than the export) or after
//!   the last (newer than the export; these are reported, not failed), or between anchored
//!   lines (a failure: the copy cannot have skipped it unless it was inserted).
//!
//! The export may also hold records the local log lacks: a record that chains to the last local
//! line means lines were cut off the end (or a newer file of a rotated set was not given, when
//! that record says `rotated_from`). Anyone on the host can write to the system log, so an
//! export may hold forged entries; they can only make the comparison fail (a second record
//! after the same predecessor is a contradiction), never make a forged local line pass. Journal
//! entries that journald says a non-root process sent (`_UID` other than 0) are not anchors.

use crate::parse::json;
use crate::policy::chain::{is_chain_hash, line_hash};
use crate::root::syslog::SD_ID;
use std::collections::{BTreeMap, BTreeSet};

/// The genesis link: every log's first line chains to it (another host's, this host's before
/// its log was started afresh), so a record after it says nothing about our first line.
const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// One record's copy, as the collector holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The record's chain hash (`sha256:` of its line).
    pub hash: String,
    /// The hash of the record before it (its `prev_hash`), when the copy carries it.
    pub prev: Option<String>,
    pub host: Option<String>,
    /// The record is the first of a rotated log (it has `rotated_from`).
    pub starts_file: bool,
    /// 1-based line (syslog file) or entry (journal export) where it was read.
    pub at: usize,
}

/// Why an export could not be read at all. Entries that are not escapes' are skipped, not
/// errors; these are breaks in the export format itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// journal export: a field name that is empty or not `[A-Z0-9_]`.
    BadFieldName { entry: usize },
    /// journal export: a field or binary value that runs past the end of the input.
    Truncated { entry: usize },
    /// journal export: a binary value not followed by a newline.
    NoNewlineAfterBinary { entry: usize },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::BadFieldName { entry } => write!(f, "journal export entry {entry}: field name is not [A-Z0-9_]+"),
            Error::Truncated { entry } => write!(f, "journal export entry {entry}: cut off before its end"),
            Error::NoNewlineAfterBinary { entry } => {
                write!(f, "journal export entry {entry}: binary field not followed by a newline")
            }
        }
    }
}

/// Which parser an export needs: a journal export starts with a field (`__CURSOR=...`, or any
/// `NAME=`/`NAME\n`); anything else is read as syslog lines.
pub fn is_journal_export(data: &[u8]) -> bool {
    let first = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let name = first.split(|&b| b == b'=').next().unwrap_or_default();
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Either parser, by `is_journal_export`.
pub fn parse(data: &[u8]) -> Result<Vec<Anchor>, Error> {
    if is_journal_export(data) {
        journal_export(data)
    } else {
        Ok(syslog_file(data))
    }
}

/// The anchors in `journalctl -o export` output: entries separated by an empty line, each field
/// `NAME=value\n` or `NAME\n` + 64-bit little-endian length + value + `\n`. An entry is an
/// anchor when it has a valid `ESCAPES_LINE_HASH` and, if journald recorded the sender's
/// `_UID`, that is 0.
pub fn journal_export(data: &[u8]) -> Result<Vec<Anchor>, Error> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut entry = 1usize;
    let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
    loop {
        match rest.first() {
            None => break,
            Some(b'\n') => {
                rest = rest.get(1..).unwrap_or_default();
                if !fields.is_empty() {
                    out.extend(journal_anchor(&fields, entry));
                    fields.clear();
                    entry += 1;
                }
                continue;
            }
            Some(_) => {}
        }
        let end = rest.iter().position(|&b| b == b'=' || b == b'\n').ok_or(Error::Truncated { entry })?;
        let name = rest.get(..end).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            return Err(Error::BadFieldName { entry });
        }
        let sep = rest.get(end).copied();
        rest = rest.get(end + 1..).unwrap_or_default();
        if sep == Some(b'=') {
            let nl = rest.iter().position(|&b| b == b'\n').ok_or(Error::Truncated { entry })?;
            fields.push((name, rest.get(..nl).unwrap_or_default()));
            rest = rest.get(nl + 1..).unwrap_or_default();
        } else {
            let (len, after) = rest.split_first_chunk::<8>().ok_or(Error::Truncated { entry })?;
            let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| Error::Truncated { entry })?;
            let value = after.get(..len).ok_or(Error::Truncated { entry })?;
            match after.get(len) {
                Some(b'\n') => {}
                Some(_) => return Err(Error::NoNewlineAfterBinary { entry }),
                None => return Err(Error::Truncated { entry }),
            }
            fields.push((name, value));
            rest = after.get(len + 1..).unwrap_or_default();
        }
    }
    if !fields.is_empty() {
        out.extend(journal_anchor(&fields, entry));
    }
    Ok(out)
}

/// One journal entry's anchor, if it is a copy escapes sent (as root).
fn journal_anchor(fields: &[(&[u8], &[u8])], entry: usize) -> Option<Anchor> {
    let one = |name: &[u8]| -> Result<Option<&[u8]>, ()> {
        let mut found = fields.iter().filter(|(n, _)| *n == name).map(|&(_, v)| v);
        let first = found.next();
        // A field given twice with different values: no way to tell which is ours.
        if found.any(|v| Some(v) != first) {
            return Err(());
        }
        Ok(first)
    };
    let hash = one(b"ESCAPES_LINE_HASH").ok()??;
    if !is_chain_hash(hash) {
        return None;
    }
    if one(b"_UID").ok()?.is_some_and(|uid| uid != b"0") {
        return None;
    }
    let prev = match one(b"ESCAPES_PREV_HASH").ok()? {
        Some(p) if is_chain_hash(p) => Some(text(p)),
        Some(_) => return None,
        None => None,
    };
    Some(Anchor {
        hash: text(hash),
        prev,
        host: one(b"ESCAPES_HOST").ok()?.map(text),
        starts_file: one(b"ESCAPES_ROTATED_FROM").ok()?.is_some(),
        at: entry,
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The anchors in a syslog file, one line each, whatever the template put before the message:
/// the `[escapes@32473 line_hash="…" prev_hash="…"]` element where the line still has it
/// (RFC 5424 templates, or rsyslog's special parser, which leaves it in the message), and the
/// JSON record after it, whose hash is recomputed where the element was dropped (rsyslog's
/// default file format). Lines with neither are someone else's and are skipped.
pub fn syslog_file(data: &[u8]) -> Vec<Anchor> {
    let mut out = Vec::new();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(a) = syslog_anchor(line, i + 1) {
            out.push(a);
        }
    }
    out
}

fn syslog_anchor(line: &[u8], at: usize) -> Option<Anchor> {
    let element = find_element(line);
    let (params, after) = match element {
        Some((params, after)) => (params, after),
        None => (Vec::new(), 0),
    };
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    // The JSON record: right after the element, else the first `{"` on the line.
    let tail = line.get(after..).unwrap_or_default();
    let record =
        tail.iter().position(|&b| b == b'{').and_then(|start| tail.get(start..)).filter(|r| r.starts_with(b"{\""));
    let parsed = record.and_then(|r| match json::parse(r) {
        Ok(v @ json::Value::Object(_)) if v.get("prev_hash").and_then(json::Value::as_str).is_some() => Some((r, v)),
        _ => None,
    });
    let hash = match (param("line_hash"), &parsed) {
        (Some(h), _) => h.to_string(),
        (None, Some((r, _))) => line_hash(r),
        (None, None) => return None,
    };
    if !is_chain_hash(hash.as_bytes()) {
        return None;
    }
    let json_str =
        |key: &str| parsed.as_ref().and_then(|(_, v)| v.get(key)).and_then(json::Value::as_str).map(str::to_string);
    let prev = param("prev_hash")
        .map(str::to_string)
        .or_else(|| json_str("prev_hash"))
        .filter(|p| is_chain_hash(p.as_bytes()));
    Some(Anchor {
        hash,
        prev,
        host: json_str("host"),
        starts_file: parsed.as_ref().is_some_and(|(_, v)| v.get(crate::policy::chain::ROTATED_FROM).is_some()),
        at,
    })
}

/// Our SD element `[escapes@32473 name="value" ...]` on the line: its parameters (values
/// unescaped: `\"`, `\\`, `\]`) and the offset just past it. The first well-formed one that
/// carries a `line_hash` wins (what a header field or the record's text may look like cannot
/// displace the element escapes wrote); a malformed one is not ours.
fn find_element(line: &[u8]) -> Option<(Vec<(String, String)>, usize)> {
    let open = format!("[{SD_ID}");
    let mut from = 0;
    while let Some(start) = line.get(from..)?.windows(open.len()).position(|w| w == open.as_bytes()) {
        let start = from + start;
        if let Some((params, end)) = element_at(line, start + open.len()) {
            if params.iter().any(|(n, _)| n == "line_hash") {
                return Some((params, end));
            }
        }
        from = start + 1;
    }
    None
}

/// The parameters of an element whose SD-ID ends just before `i`.
fn element_at(line: &[u8], mut i: usize) -> Option<(Vec<(String, String)>, usize)> {
    let mut params = Vec::new();
    loop {
        match line.get(i)? {
            b']' => return Some((params, i + 1)),
            b' ' => i += 1,
            _ => return None,
        }
        let name_len = line.get(i..)?.iter().position(|&b| b == b'=')?;
        let name = line.get(i..i + name_len)?;
        if name.is_empty()
            || name.len() > 32
            || !name.iter().all(|&b| b.is_ascii_graphic() && !matches!(b, b'=' | b']' | b'"'))
        {
            return None;
        }
        i += name_len + 1;
        if line.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        let mut value = Vec::new();
        loop {
            match *line.get(i)? {
                b'"' => break,
                b'\\' if matches!(line.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                    value.push(*line.get(i + 1)?);
                    i += 2;
                }
                b => {
                    value.push(b);
                    i += 1;
                }
            }
        }
        i += 1;
        params.push((text(name), text(&value)));
    }
}

/// A place in the local log: which file of the set (0-based) and which line (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub file: usize,
    pub line: usize,
}

/// Where the local log and the export disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The export holds another record after this line's predecessor.
    Contradicted { at: Place, ours: String, theirs: String, export_at: usize },
    /// Not in the export, though lines before and after it are.
    Missing { at: Place },
    /// The export holds a record after the last local line.
    Truncated { last: Place, theirs: String, export_at: usize },
    /// No local line is in the export at all.
    NothingAnchored,
}

/// How a log that agrees with the export was covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Local lines the export confirms.
    pub anchored: usize,
    /// Lines before the first anchored one: older than the export.
    pub older: usize,
    /// Lines after the last anchored one: newer than the export (or their copies were lost).
    pub newer: usize,
    /// The export holds the first record of a newer rotated file after the last line given.
    pub newer_file_follows: bool,
}

/// The export, indexed by hash and by predecessor.
pub struct Compare {
    anchors: Vec<Anchor>,
    hashes: BTreeSet<String>,
    successors: BTreeMap<String, Vec<usize>>,
    seen_anchored: bool,
    pending: Option<(Place, usize)>,
    last: Option<(Place, String)>,
    summary: Summary,
}

impl Compare {
    pub fn new(anchors: Vec<Anchor>) -> Compare {
        let mut hashes = BTreeSet::new();
        let mut successors: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, a) in anchors.iter().enumerate() {
            hashes.insert(a.hash.clone());
            if let Some(p) = &a.prev {
                successors.entry(p.clone()).or_default().push(i);
            }
        }
        Compare {
            anchors,
            hashes,
            successors,
            seen_anchored: false,
            pending: None,
            last: None,
            summary: Summary::default(),
        }
    }

    pub fn entries(&self) -> usize {
        self.anchors.len()
    }

    /// The export's records after `prev` (none for the genesis link: a forged first line is
    /// still caught, since nothing after it can then be confirmed).
    fn after<'a>(&'a self, prev: &str) -> impl Iterator<Item = &'a Anchor> + 'a {
        let list = if prev == GENESIS { None } else { self.successors.get(prev) };
        list.into_iter().flatten().filter_map(|&i| self.anchors.get(i))
    }

    /// The next local line: its hash and the hash it chains to.
    pub fn feed(&mut self, at: Place, hash: &str, prev: &str) -> Result<(), Finding> {
        if let Some(other) = self.after(prev).find(|a| a.hash != hash) {
            return Err(Finding::Contradicted {
                at,
                ours: hash.to_string(),
                theirs: other.hash.clone(),
                export_at: other.at,
            });
        }
        let anchored = self.hashes.contains(hash) || self.successors.contains_key(hash);
        if anchored {
            match self.pending.take() {
                Some((first, _)) if self.seen_anchored => return Err(Finding::Missing { at: first }),
                Some((_, n)) => self.summary.older = n,
                None => {}
            }
            self.seen_anchored = true;
            self.summary.anchored += 1;
        } else {
            let (first, n) = self.pending.get_or_insert((at, 0));
            *n += 1;
            let _ = first;
        }
        self.last = Some((at, hash.to_string()));
        Ok(())
    }

    /// After the last local line.
    pub fn finish(mut self) -> Result<Summary, Finding> {
        if let Some((last, hash)) = &self.last {
            let next: Vec<&Anchor> = self.after(hash).collect();
            if let Some(cut) = next.iter().find(|a| !a.starts_file) {
                return Err(Finding::Truncated { last: *last, theirs: cut.hash.clone(), export_at: cut.at });
            }
            self.summary.newer_file_follows = !next.is_empty();
        }
        if !self.seen_anchored {
            return Err(Finding::NothingAnchored);
        }
        if let Some((_, n)) = self.pending {
            self.summary.newer = n;
        }
        Ok(self.summary)
    }
}

#[cfg(test)]
mod tests;
