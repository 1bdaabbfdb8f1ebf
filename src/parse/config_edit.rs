//! The config editor behind `escapes trust`: the old config's bytes and the trust settings in,
//! the new config's bytes out, or a typed refusal. Pure (no I/O), so it has a fuzz target.
//!
//! It edits lines, never re-serialises: every comment, blank line and unrelated key or table of
//! the admin's stays byte for byte where it was. Only these entries are removed and written
//! again, in the place of the first one removed from their table (or after the table's last
//! entry, or in a new table at the end of the file):
//! - `[security] allowed_issuers` (the one issuer) and `allowed_approvers` (the given list);
//! - `[tls] ca_bundle`, when a bundle is given;
//! - `[keys]` the issuer's entry, when keys are pinned; with `replace`, every other issuer's
//!   entry too (it would name an issuer that is no longer allowed).
//!
//! Without `replace`, a config that already allows another issuer is refused. The result must
//! pass `config::parse` and carry exactly the settings asked for, or the edit is refused.

use std::collections::BTreeMap;
use std::fmt;

use crate::parse::config;
use crate::parse::toml::{self, Entry};
pub use crate::policy::config::TrustEdit as Trust;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The existing config is not in the TOML subset escapes reads.
    Old(toml::Error),
    /// The existing config allows other issuers, and `replace` was not asked for.
    OtherIssuer(Vec<String>),
    /// An entry's value could not be delimited (the line the entry starts on).
    Unscannable(usize),
    /// The edited config would not be a valid escapes config.
    New(config::Error),
    /// The edited config parses, but does not carry the settings asked for.
    Lost,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Old(e) => write!(f, "the existing config cannot be read: {e}"),
            Error::OtherIssuer(v) => {
                write!(f, "the config already allows another issuer ({}); use --replace to replace it", v.join(", "))
            }
            Error::Unscannable(line) => write!(f, "the existing config's entry on line {line} cannot be edited"),
            Error::New(e) => write!(f, "the edited config would not be valid: {e}"),
            Error::Lost => f.write_str("the edited config does not carry the settings asked for"),
        }
    }
}

impl std::error::Error for Error {}

/// One table's edit: its name, the lines written into it, which of its entries go.
type TableEdit<'a> = (&'static str, Vec<String>, Box<dyn Fn(&Entry) -> bool + 'a>);

/// `old` (empty for a new config) with the trust settings of `t` applied; see the module
/// comment for exactly what changes.
pub fn edit(old: &[u8], t: &Trust<'_>) -> Result<Vec<u8>, Error> {
    let doc = toml::parse(old).map_err(Error::Old)?;
    // toml::parse accepted it, so it is UTF-8.
    let text = std::str::from_utf8(old).map_err(|_| Error::Unscannable(1))?;
    let table = |name: &str| doc.tables.iter().find(|tb| tb.name == name && !tb.array);
    let security = table("security");
    let others: Vec<String> = security
        .and_then(|s| s.entries.iter().find(|e| e.key == "allowed_issuers"))
        .map(|e| match &e.value {
            toml::Value::StrArray(v) => v.iter().filter(|i| *i != t.issuer).cloned().collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default();
    if !others.is_empty() && !t.replace {
        return Err(Error::OtherIssuer(others));
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut keep = vec![true; lines.len()];
    let mut inserts: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut appended = String::new();

    let approvers: Vec<&str> = t.approvers.iter().map(String::as_str).collect();
    let security_lines = vec![
        format!("allowed_issuers = [{}]\n", quote(t.issuer)),
        format!("allowed_approvers = [{}]\n", approvers.iter().map(|a| quote(a)).collect::<Vec<_>>().join(", ")),
    ];
    let plan: [TableEdit<'_>; 3] = [
        ("security", security_lines, Box::new(|e: &Entry| e.key == "allowed_issuers" || e.key == "allowed_approvers")),
        (
            "tls",
            t.ca_bundle.map(|p| vec![format!("ca_bundle = {}\n", quote(p))]).unwrap_or_default(),
            Box::new(|e: &Entry| t.ca_bundle.is_some() && e.key == "ca_bundle"),
        ),
        (
            "keys",
            t.pinned.map(|p| vec![format!("{} = {}\n", quote(t.issuer), quote(p))]).unwrap_or_default(),
            Box::new(|e: &Entry| (t.pinned.is_some() && e.key == t.issuer) || (t.replace && e.key != t.issuer)),
        ),
    ];
    for (name, new_lines, remove) in &plan {
        match table(name) {
            Some(tb) => {
                let mut first_removed = None;
                // Just below the header: its 1-based line number is the 0-based index of the next line.
                let mut after_last = tb.line;
                for e in &tb.entries {
                    let (start, end) = span(text, &lines, e)?;
                    after_last = after_last.max(end + 1);
                    if remove(e) {
                        first_removed.get_or_insert(start);
                        for k in keep.iter_mut().take(end + 1).skip(start) {
                            *k = false;
                        }
                    }
                }
                if !new_lines.is_empty() {
                    inserts.entry(first_removed.unwrap_or(after_last)).or_default().extend(new_lines.iter().cloned());
                }
            }
            None if new_lines.is_empty() => {}
            None => {
                appended.push_str(&format!("\n[{name}]\n"));
                new_lines.iter().for_each(|l| appended.push_str(l));
            }
        }
    }
    let mut out = String::with_capacity(text.len() + 256);
    for (i, line) in lines.iter().enumerate() {
        if let Some(add) = inserts.get(&i) {
            add.iter().for_each(|l| out.push_str(l));
        }
        if keep.get(i).copied().unwrap_or(true) {
            out.push_str(line);
            if i + 1 == lines.len() && !line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    for add in inserts.range(lines.len()..).map(|(_, v)| v) {
        add.iter().for_each(|l| out.push_str(l));
    }
    if out.is_empty() && !appended.is_empty() {
        appended.remove(0);
    }
    out.push_str(&appended);
    let bytes = out.into_bytes();
    let cfg = config::parse(&bytes).map_err(Error::New)?;
    let carried = cfg.allowed_issuers.iter().any(|i| i == t.issuer)
        && (!t.replace || cfg.allowed_issuers.len() == 1)
        && cfg.allowed_approvers == t.approvers
        && t.ca_bundle.is_none_or(|c| cfg.ca_bundle.as_deref() == Some(c))
        && t.pinned.is_none_or(|p| cfg.keys.iter().any(|(i, f)| i == t.issuer && f == p));
    if !carried {
        return Err(Error::Lost);
    }
    Ok(bytes)
}

/// A TOML basic string: `"`, `\` and control characters escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The 0-based indices of the first and last line of entry `e` (a multi-line array ends on
/// the line of its `]`).
fn span(text: &str, lines: &[&str], e: &Entry) -> Result<(usize, usize), Error> {
    let start = e.line.checked_sub(1).ok_or(Error::Unscannable(e.line))?;
    let offset: usize = lines.iter().take(start).map(|l| l.len()).sum();
    let bytes = text.as_bytes().get(offset..).ok_or(Error::Unscannable(e.line))?;
    let bad = || Error::Unscannable(e.line);
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied();
    let skip_ws = |mut i: usize| {
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    // A quoted string starting at i; the index just past its closing quote.
    let string = |mut i: usize| -> Option<usize> {
        let q = *bytes.get(i)?;
        i += 1;
        loop {
            match *bytes.get(i)? {
                b'\n' => return None,
                b'\\' if q == b'"' => i += 2,
                c if c == q => return Some(i + 1),
                _ => i += 1,
            }
        }
    };
    i = skip_ws(i);
    i = match at(i) {
        Some(b'"' | b'\'') => string(i).ok_or_else(bad)?,
        _ => {
            while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                i += 1;
            }
            i
        }
    };
    i = skip_ws(i);
    if at(i) != Some(b'=') {
        return Err(bad());
    }
    i = skip_ws(i + 1);
    if at(i) != Some(b'[') {
        return Ok((start, start));
    }
    i += 1;
    let mut newlines = 0;
    loop {
        match at(i).ok_or_else(bad)? {
            b']' => return Ok((start, start + newlines)),
            b'"' | b'\'' => i = string(i).ok_or_else(bad)?,
            b'#' => {
                while at(i).is_some_and(|c| c != b'\n') {
                    i += 1;
                }
            }
            b'\n' => {
                newlines += 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://id.example.com";

    fn approvers(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn trust<'a>(a: &'a [String]) -> Trust<'a> {
        Trust { issuer: ISS, approvers: a, ca_bundle: None, pinned: None, replace: false }
    }

    fn text(old: &str, t: &Trust<'_>) -> String {
        String::from_utf8(edit(old.as_bytes(), t).unwrap()).unwrap()
    }

    #[test]
    fn writes_a_new_config_from_nothing() {
        let a = approvers(&["a@x", "b@y"]);
        let t = Trust { ca_bundle: Some("/etc/openape/ca.pem"), pinned: Some("/etc/openape/keys/k.json"), ..trust(&a) };
        let out = text("", &t);
        let cfg = config::parse(out.as_bytes()).unwrap();
        assert_eq!(cfg.allowed_issuers, vec![ISS]);
        assert_eq!(cfg.allowed_approvers, a);
        assert_eq!(cfg.ca_bundle.as_deref(), Some("/etc/openape/ca.pem"));
        assert_eq!(cfg.keys, vec![(ISS.to_string(), "/etc/openape/keys/k.json".to_string())]);
        assert!(out.starts_with("[security]\n"), "{out}");
    }

    #[test]
    fn keeps_comments_and_unrelated_settings_byte_for_byte() {
        let old = "# the admin's words\nhost = \"web-1\" # inline\n\n[security]\n# who may approve\nallowed_issuers = [\n  \"https://id.example.com\", # ours\n]\nallowed_approvers = [\"old@x\"]\noffline = true\n\n[[helmet]]\npath = \"/usr/local/libexec/escapes/timebox\"\n";
        let a = approvers(&["new@x"]);
        let out = text(old, &trust(&a));
        assert_eq!(
            out,
            "# the admin's words\nhost = \"web-1\" # inline\n\n[security]\n# who may approve\nallowed_issuers = [\"https://id.example.com\"]\nallowed_approvers = [\"new@x\"]\noffline = true\n\n[[helmet]]\npath = \"/usr/local/libexec/escapes/timebox\"\n"
        );
        let cfg = config::parse(out.as_bytes()).unwrap();
        assert!(cfg.offline);
        assert_eq!(cfg.host.as_deref(), Some("web-1"));
        assert_eq!(cfg.helmets.len(), 1);
    }

    #[test]
    fn an_edit_applied_twice_is_the_edit_applied_once() {
        let a = approvers(&["a@x"]);
        let t = Trust { ca_bundle: Some("/ca.pem"), pinned: Some("/k.json"), ..trust(&a) };
        for old in ["", "host = \"h\"", "[tls]\n[keys]\n", "[security]\noffline = false\n# end\n"] {
            let once = edit(old.as_bytes(), &t).unwrap();
            assert_eq!(edit(&once, &t).unwrap(), once, "{old:?}");
        }
    }

    #[test]
    fn refuses_another_issuer_without_replace() {
        let old = "[security]\nallowed_issuers = [\"https://other.example\"]\nallowed_approvers = [\"a\"]\n[keys]\n\"https://other.example\" = \"/k\"\n";
        let a = approvers(&["a@x"]);
        assert_eq!(edit(old.as_bytes(), &trust(&a)), Err(Error::OtherIssuer(vec!["https://other.example".into()])));
        let also = "[security]\nallowed_issuers = [\"https://id.example.com\", \"https://other.example\"]\nallowed_approvers = [\"a\"]\n";
        assert!(matches!(edit(also.as_bytes(), &trust(&a)), Err(Error::OtherIssuer(_))));
    }

    #[test]
    fn replace_drops_the_other_issuer_and_its_pinned_keys() {
        let old = "[security]\nallowed_issuers = [\"https://other.example\"]\nallowed_approvers = [\"a\"]\n[keys]\n# pinned\n\"https://other.example\" = \"/k\"\n";
        let a = approvers(&["a@x"]);
        let out = text(old, &Trust { replace: true, ..trust(&a) });
        let cfg = config::parse(out.as_bytes()).unwrap();
        assert_eq!(cfg.allowed_issuers, vec![ISS]);
        assert!(cfg.keys.is_empty());
        assert!(out.contains("# pinned\n"), "{out}");
    }

    #[test]
    fn the_same_issuer_is_updated_in_place() {
        let old = "[security]\nallowed_issuers = [\"https://id.example.com\"]\nallowed_approvers = [\"a\"]\n[tls]\nca_bundle = \"/old.pem\"\n[keys]\n\"https://id.example.com\" = \"/old.json\"\n";
        let a = approvers(&["b"]);
        let t = Trust { ca_bundle: Some("/new.pem"), pinned: Some("/new.json"), ..trust(&a) };
        let out = text(old, &t);
        assert!(!out.contains("/old"), "{out}");
        assert_eq!(out.matches("[keys]").count(), 1);
        // Without a bundle or a pin, the old ones stay.
        let out = text(old, &trust(&a));
        assert!(out.contains("/old.pem") && out.contains("/old.json"), "{out}");
    }

    #[test]
    fn refuses_an_old_config_outside_the_subset_and_a_result_that_is_invalid() {
        let a = approvers(&["a"]);
        assert!(matches!(edit(b"x = 1.5\n", &trust(&a)), Err(Error::Old(_))));
        assert!(matches!(edit(b"\xff", &trust(&a)), Err(Error::Old(_))));
        // An unknown key the admin had: the result fails the config parser.
        assert!(matches!(edit(b"nonsense = \"x\"\n", &trust(&a)), Err(Error::New(_))));
        // Bad settings asked for are the config parser's refusals.
        for bad in [&["a b"][..], &["*"], &[""], &[]] {
            assert!(matches!(edit(b"", &trust(&approvers(bad))), Err(Error::New(_))), "{bad:?}");
        }
        let t = Trust { issuer: "https://id.example.com/", ..trust(&a) };
        assert!(matches!(edit(b"", &t), Err(Error::New(_))));
        let t = Trust { issuer: "http://id.example.com", ..trust(&a) };
        assert!(matches!(edit(b"", &t), Err(Error::New(_))));
    }

    #[test]
    fn hostile_strings_are_quoted_not_interpreted() {
        let a = approvers(&["a\"]\nallowed_audiences = [\"x"]);
        assert!(matches!(edit(b"", &trust(&a)), Err(Error::New(_))), "whitespace in an approver");
        let a = approvers(&["q\"uote\\d"]);
        let out = edit(b"", &trust(&a)).unwrap();
        assert_eq!(config::parse(&out).unwrap().allowed_approvers, a);
        let t = Trust { ca_bundle: Some("/ca\"\n[x]"), ..trust(&a) };
        assert!(matches!(edit(b"", &t), Err(Error::New(_))));
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_kept_readable() {
        let a = approvers(&["a"]);
        let out = text("host = \"h\"\r\n[security]\r\nallowed_approvers = [\"z\"]", &trust(&a));
        assert!(out.starts_with("host = \"h\"\r\n[security]\r\n"), "{out:?}");
        assert!(config::parse(out.as_bytes()).is_ok());
    }
}
