//! `--verify-log FILE [FILE...] [--anchors EXPORT]`, after `main` has given up root for good:
//! everything here runs with the caller's rights only, on files the caller can read.
//!
//! The files are one log, or a rotated set oldest first (`audit.log.2 audit.log.1 audit.log`):
//! the chain goes on across them, so a file left out, or two in the wrong order, is a broken
//! link at the first line of the file after the gap. The oldest file given may start with a
//! record that links to an older file (`rotated_from`); that is said, not failed. With
//! `--anchors`, every line is then compared with the system logger's copy (`unprivileged::anchors`).
//! Exit 0 intact (and, with anchors, agreeing), 5 broken or disagreeing, 1 unreadable.

use crate::parse::json;
use crate::policy::chain::line_hash;
use crate::sys;
use crate::unprivileged::anchors::{self, Compare, Finding, Place};
use crate::unprivileged::chain::{Broken, Chain};
use std::ffi::OsStr;
use std::io::{BufRead, Read};
use std::os::unix::ffi::OsStrExt;

const EXIT_ERROR: i32 = 1;
const EXIT_BROKEN: i32 = 5;

/// Largest export read for `--anchors` (the caller's memory, the caller's file; filter a big
/// journal with `journalctl -t escapes -o export`).
pub const MAX_EXPORT: u64 = 256 * 1024 * 1024;

/// A file name as the caller gave it, with control characters escaped for the terminal.
fn shown(path: &[u8]) -> String {
    crate::audit::printable(&String::from_utf8_lossy(path)).into_owned()
}

fn fail(msg: String) -> i32 {
    sys::write_stderr(format!("escapes: {msg}\n").as_bytes());
    EXIT_ERROR
}

/// Runs the check and returns the exit code.
pub fn run(files: &[Vec<u8>], anchors: Option<&[u8]>) -> i32 {
    let mut compare = match anchors.map(read_export).transpose() {
        Ok(c) => c,
        Err(msg) => return fail(msg),
    };
    let several = files.len() > 1;
    let place = |at: Place| match files.get(at.file) {
        Some(f) if several => format!("line {} of {}", at.line, shown(f)),
        _ => format!("line {}", at.line),
    };
    let mut chain = Chain::default();
    for (index, path) in files.iter().enumerate() {
        let file = match std::fs::File::open(OsStr::from_bytes(path)) {
            Ok(f) => f,
            Err(e) => return fail(format!("cannot open {}: {e}", shown(path))),
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        if reader.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])) {
            return fail(format!("{} is compressed: give it uncompressed (zcat {} > FILE)", shown(path), shown(path)));
        }
        let mut line = Vec::new();
        let mut n = 0usize;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return fail(format!("read error in {}: {e}", shown(path))),
            }
            n += 1;
            let at = Place { file: index, line: n };
            let complete = line.last() == Some(&b'\n');
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let verdict = if complete { chain.feed(body) } else { Err(Broken::Unterminated) };
            if let Err(e) = verdict {
                sys::write_stderr(format!("escapes: audit log broken at {}: {e}\n", place(at)).as_bytes());
                return EXIT_BROKEN;
            }
            if let Some(c) = compare.as_mut() {
                if let Err(finding) = c.feed(at, &line_hash(body), &link_of(body)) {
                    return disagree(&finding, &place);
                }
            }
        }
    }
    let mut out = match files.len() {
        1 => format!("audit log intact: {} lines chained\n", chain.lines),
        k => format!("audit log intact: {} lines chained across {k} files\n", chain.lines),
    };
    if let Some(from) = &chain.starts_after {
        out.push_str(&format!("note: the first line continues the chain of {from:?}, which was not given\n"));
    }
    if let (Some(c), Some(export)) = (compare, anchors) {
        let entries = c.entries();
        match c.finish() {
            Ok(s) => {
                out.push_str(&format!(
                    "anchors: {} of {} lines confirmed by {} ({entries} records of escapes in it)\n",
                    s.anchored,
                    chain.lines,
                    shown(export)
                ));
                if s.older > 0 {
                    out.push_str(&format!(
                        "note: the first {} lines are older than anything in the export (not anchored)\n",
                        s.older
                    ));
                }
                if s.newer > 0 {
                    out.push_str(&format!(
                        "note: the last {} lines are newer than anything in the export, or their copies were lost (not anchored)\n",
                        s.newer
                    ));
                }
                if s.newer_file_follows {
                    out.push_str("note: the export goes on in a newer file of the rotated set, which was not given\n");
                }
            }
            Err(finding) => return disagree(&finding, &place),
        }
    }
    let _ = sys::write_stdout(out.as_bytes());
    0
}

/// Reads and indexes the export (as the caller, at most MAX_EXPORT bytes).
fn read_export(path: &[u8]) -> Result<Compare, String> {
    let file = std::fs::File::open(OsStr::from_bytes(path)).map_err(|e| format!("cannot open {}: {e}", shown(path)))?;
    let mut data = Vec::new();
    file.take(MAX_EXPORT + 1).read_to_end(&mut data).map_err(|e| format!("read error in {}: {e}", shown(path)))?;
    if data.len() as u64 > MAX_EXPORT {
        return Err(format!(
            "{} is larger than {} MiB: filter it (journalctl -t escapes -o export, grep escapes)",
            shown(path),
            MAX_EXPORT >> 20
        ));
    }
    let found = anchors::parse(&data).map_err(|e| format!("{}: {e}", shown(path)))?;
    Ok(Compare::new(found))
}

/// A chained line's `prev_hash` (the chain check has just accepted it).
fn link_of(line: &[u8]) -> String {
    let v = json::parse(line).unwrap_or(json::Value::Null);
    v.get(crate::policy::chain::CHAIN_FIELD).and_then(json::Value::as_str).unwrap_or_default().to_string()
}

fn disagree(finding: &Finding, place: &dyn Fn(Place) -> String) -> i32 {
    let msg = match finding {
        Finding::Contradicted { at, ours, theirs, export_at } => format!(
            "audit log disagrees with the export at {}: the export holds another record after the line before it ({theirs}, its entry {export_at}); this line is {ours}: edited, replaced or inserted",
            place(*at)
        ),
        Finding::Missing { at } => format!(
            "audit log disagrees with the export at {}: this line is not in the export, though the lines before and after it are (inserted)",
            place(*at)
        ),
        Finding::Truncated { last, theirs, export_at } => format!(
            "audit log disagrees with the export after {}: the export holds a later record ({theirs}, its entry {export_at}): lines were cut off the end",
            place(*last)
        ),
        Finding::NothingAnchored => "audit log disagrees with the export: no line of the log is in it (another host's export, or none of its records was copied)".to_string(),
    };
    sys::write_stderr(format!("escapes: {msg}\n").as_bytes());
    EXIT_BROKEN
}
