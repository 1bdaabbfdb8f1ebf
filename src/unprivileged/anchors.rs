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
mod tests {
    use super::*;

    /// A chained log of `n` records on `host`, as lines.
    fn log(n: usize, host: &str) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for i in 0..n {
            let prev = lines.last().map_or(GENESIS.to_string(), |l| line_hash(l.as_bytes()));
            lines.push(format!(
                r#"{{"timestamp":"t{i}","pid":{i},"host":"{host}","event":"run","prev_hash":"{prev}"}}"#
            ));
        }
        lines
    }

    fn rsyslog_5424(lines: &[String]) -> Vec<u8> {
        let mut out = String::from("<86>1 2026-01-01T00:00:00+00:00 web-1 sshd 77 - - Accepted publickey for al\n");
        for l in lines {
            let d = crate::root::syslog::syslog_datagram(l.as_bytes(), &crate::fuzz_entry::line_members(l.as_bytes()));
            out.push_str(&format!("{}\n", String::from_utf8(d).unwrap()));
        }
        out.into_bytes()
    }

    fn rsyslog_default(lines: &[String]) -> Vec<u8> {
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            out.push_str(&format!("2026-01-01T00:00:0{i}.000000+00:00 web-1 escapes[{i}] {l}\n"));
        }
        out.into_bytes()
    }

    fn journal(lines: &[String], uid: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(b"__CURSOR=s=1;i=2\n_UID=");
            out.extend_from_slice(uid.as_bytes());
            out.push(b'\n');
            out.extend_from_slice(&crate::root::syslog::journal_datagram(
                l.as_bytes(),
                &crate::fuzz_entry::line_members(l.as_bytes()),
                false,
            ));
            out.push(b'\n');
        }
        out
    }

    fn compare(local: &[String], anchors: Vec<Anchor>) -> Result<Summary, Finding> {
        let mut c = Compare::new(anchors);
        for (i, l) in local.iter().enumerate() {
            let v = json::parse(l.as_bytes()).unwrap();
            let prev = v.get("prev_hash").and_then(json::Value::as_str).unwrap().to_string();
            c.feed(Place { file: 0, line: i + 1 }, &line_hash(l.as_bytes()), &prev)?;
        }
        c.finish()
    }

    /// The outside review's forgery: edit a middle record, re-chain everything after it.
    fn rechain_from(lines: &mut [String], edited: usize) {
        lines[edited] = lines[edited].replace("\"run\"", "\"refused\"");
        for i in edited + 1..lines.len() {
            let prev = line_hash(lines[i - 1].as_bytes());
            let at = lines[i].find("\"prev_hash\":\"").unwrap() + 13;
            lines[i].replace_range(at..at + 71, &prev);
        }
    }

    #[test]
    fn every_format_reads_back_the_hashes_escapes_sent() {
        let lines = log(3, "web-1");
        for anchors in [
            syslog_file(&rsyslog_5424(&lines)),
            syslog_file(&rsyslog_default(&lines)),
            journal_export(&journal(&lines, "0")).unwrap(),
        ] {
            assert_eq!(anchors.len(), 3, "{anchors:?}");
            for (a, l) in anchors.iter().zip(&lines) {
                assert_eq!(a.hash, line_hash(l.as_bytes()));
                assert_eq!(a.host.as_deref(), Some("web-1"));
            }
            assert_eq!(anchors[0].prev.as_deref(), Some(GENESIS));
            assert_eq!(anchors[2].prev, Some(line_hash(lines[1].as_bytes())));
        }
    }

    #[test]
    fn an_intact_log_agrees_with_its_copy() {
        let lines = log(5, "web-1");
        let s = compare(&lines, syslog_file(&rsyslog_5424(&lines))).unwrap();
        assert_eq!(s, Summary { anchored: 5, older: 0, newer: 0, newer_file_follows: false });
    }

    #[test]
    fn a_rechained_forgery_is_contradicted_at_the_edited_line() {
        let lines = log(6, "web-1");
        let export = rsyslog_5424(&lines);
        let mut forged = lines.clone();
        rechain_from(&mut forged, 2);
        let mut chain = crate::unprivileged::chain::Chain::default();
        assert!(forged.iter().all(|l| chain.feed(l.as_bytes()).is_ok()), "the forgery re-chains");
        match compare(&forged, syslog_file(&export)) {
            Err(Finding::Contradicted { at, theirs, .. }) => {
                assert_eq!(at.line, 3);
                assert_eq!(theirs, line_hash(lines[2].as_bytes()));
            }
            other => panic!("{other:?}"),
        }
        for export in [rsyslog_default(&lines), journal(&lines, "0")] {
            assert!(matches!(
                compare(&forged, parse(&export).unwrap()),
                Err(Finding::Contradicted { at: Place { line: 3, .. }, .. })
            ));
        }
    }

    #[test]
    fn lines_newer_or_older_than_the_export_are_counted_not_failed() {
        let lines = log(6, "web-1");
        let s = compare(&lines, syslog_file(&rsyslog_5424(&lines[2..4]))).unwrap();
        // Line 2 is pinned by line 3's prev_hash, line 5 by nothing.
        assert_eq!(s, Summary { anchored: 3, older: 1, newer: 2, newer_file_follows: false });
    }

    #[test]
    fn a_line_whose_copy_was_lost_is_pinned_by_the_next_one() {
        let lines = log(5, "web-1");
        let mut copied = lines.clone();
        copied.remove(2);
        assert_eq!(compare(&lines, syslog_file(&rsyslog_5424(&copied))).unwrap().anchored, 5);
    }

    #[test]
    fn a_line_inserted_between_anchored_lines_is_found() {
        let lines = log(5, "web-1");
        let export = syslog_file(&rsyslog_5424(&lines));
        let mut local = lines.clone();
        // An extra record that links to line 2 and that line 3 does not link to: line 3 is then
        // a broken chain, but the anchors name the insertion itself.
        local.insert(
            2,
            lines[1].replace("t1", "tX").replace(&line_hash(lines[0].as_bytes()), &line_hash(lines[1].as_bytes())),
        );
        assert!(matches!(compare(&local, export), Err(Finding::Contradicted { at: Place { line: 3, .. }, .. })));
    }

    #[test]
    fn a_line_missing_between_confirmed_lines_is_found() {
        // A copy that keeps only the explicit line hashes (no prev_hash): nothing pins line 3.
        let lines = log(4, "web-1");
        let mut export = String::new();
        for l in [&lines[0], &lines[1], &lines[3]] {
            export.push_str(&format!("x escapes: [escapes@32473 line_hash=\"{}\"] cut\n", line_hash(l.as_bytes())));
        }
        assert_eq!(
            compare(&lines, syslog_file(export.as_bytes())),
            Err(Finding::Missing { at: Place { file: 0, line: 3 } })
        );
    }

    #[test]
    fn a_cut_off_tail_is_found_unless_a_newer_file_follows() {
        let lines = log(5, "web-1");
        let export = syslog_file(&rsyslog_5424(&lines));
        match compare(&lines[..3], export.clone()) {
            Err(Finding::Truncated { last, theirs, .. }) => {
                assert_eq!(last.line, 3);
                assert_eq!(theirs, line_hash(lines[3].as_bytes()));
            }
            other => panic!("{other:?}"),
        }
        let mut rotated = lines.clone();
        rotated[3] = rotated[3].replace("\"event\"", "\"rotated_from\":\"/l.1\",\"event\"");
        rotated[4] = rotated[4].replace(&line_hash(lines[3].as_bytes()), &line_hash(rotated[3].as_bytes()));
        let s = compare(&rotated[..3], syslog_file(&rsyslog_5424(&rotated))).unwrap();
        assert!(s.newer_file_follows);
    }

    #[test]
    fn forged_copies_can_fail_a_true_log_but_never_pass_a_forged_one() {
        let lines = log(4, "web-1");
        let mut forged = lines.clone();
        rechain_from(&mut forged, 1);
        // Someone logged the forgery's lines too (anyone can write to /dev/log).
        let mut export = rsyslog_5424(&lines);
        export.extend_from_slice(&rsyslog_5424(&forged));
        assert!(matches!(compare(&forged, syslog_file(&export)), Err(Finding::Contradicted { .. })));
        assert!(matches!(compare(&lines, syslog_file(&export)), Err(Finding::Contradicted { .. })));
        // journald knows who sent it: a non-root sender's entry is no anchor.
        let mut j = journal(&lines, "0");
        j.extend_from_slice(&journal(&forged, "1000"));
        assert!(compare(&lines, journal_export(&j).unwrap()).is_ok());
        assert!(matches!(compare(&forged, journal_export(&j).unwrap()), Err(Finding::Contradicted { .. })));
    }

    #[test]
    fn other_logs_first_records_do_not_contradict_ours_but_a_forged_first_line_is_caught() {
        let ours = log(3, "web-1");
        let theirs = log(3, "web-2");
        let mut export = rsyslog_5424(&theirs);
        export.extend_from_slice(&rsyslog_5424(&ours));
        assert_eq!(compare(&ours, syslog_file(&export)).unwrap().anchored, 3);
        assert_eq!(compare(&ours, syslog_file(&rsyslog_5424(&theirs))), Err(Finding::NothingAnchored));
        let mut forged = ours.clone();
        rechain_from(&mut forged, 0);
        assert_eq!(compare(&forged, syslog_file(&export)), Err(Finding::NothingAnchored));
    }

    #[test]
    fn the_journal_export_parser_reads_binary_fields_and_refuses_broken_framing() {
        let mut d = b"__CURSOR=x\nESCAPES_LINE_HASH=".to_vec();
        d.extend_from_slice(line_hash(b"a").as_bytes());
        d.extend_from_slice(b"\nMESSAGE\n");
        d.extend_from_slice(&5u64.to_le_bytes());
        d.extend_from_slice(b"a\nb\n\n\n\nESCAPES_LINE_HASH=bad\n");
        let a = journal_export(&d).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].hash, line_hash(b"a"));
        assert_eq!(a[0].prev, None);
        assert_eq!(journal_export(b"A=1\nB\n\x05\0\0\0\0\0\0\0ab"), Err(Error::Truncated { entry: 1 }));
        assert_eq!(journal_export(b"A=1\nB\n\x01\0\0\0\0\0\0\0abc\n"), Err(Error::NoNewlineAfterBinary { entry: 1 }));
        assert_eq!(journal_export(b"A=1\n\nB=2\na=3\n"), Err(Error::BadFieldName { entry: 2 }));
        assert_eq!(journal_export(b"A=1"), Err(Error::Truncated { entry: 1 }));
        assert_eq!(journal_export(b"A\n\xff\xff\xff\xff\xff\xff\xff\xff"), Err(Error::Truncated { entry: 1 }));
        assert_eq!(journal_export(b""), Ok(vec![]));
        // Two different hashes in one entry: not an anchor.
        let two = format!("ESCAPES_LINE_HASH={}\nESCAPES_LINE_HASH={}\n", line_hash(b"a"), line_hash(b"b"));
        assert_eq!(journal_export(two.as_bytes()), Ok(vec![]));
    }

    #[test]
    fn the_syslog_parser_skips_what_is_not_ours_and_bad_elements() {
        let h = line_hash(b"x");
        let junk = format!(
            "plain text\n{{not json\n[escapes@32473 line_hash=\"{h}\"\n[escapes@32473 line_hash={h}]\n[escapes@32473 line_hash=\"nope\"]\n{{\"a\":1}}\n\u{0}\u{ff}\n"
        );
        assert_eq!(syslog_file(junk.as_bytes()), vec![]);
        let esc = format!("x [escapes@32473 note=\"a\\\"b\\]c\\\\\" line_hash=\"{h}\"] tail");
        let a = syslog_file(esc.as_bytes());
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].hash, h);
        assert_eq!(a[0].prev, None);
    }

    #[test]
    fn detects_the_export_format() {
        assert!(is_journal_export(b"__CURSOR=s=1\n"));
        assert!(is_journal_export(b"MESSAGE\n\x01\0\0\0\0\0\0\0a\n"));
        assert!(!is_journal_export(b"2026-01-01T00:00:00+00:00 host escapes[1] {}\n"));
        assert!(!is_journal_export(b"<85>1 - - escapes - - [escapes@32473] {}\n"));
        assert!(!is_journal_export(b"Dec  2 03:30:14 vm escapes[4242]: x\n"));
        assert!(!is_journal_export(b""));
    }
}
