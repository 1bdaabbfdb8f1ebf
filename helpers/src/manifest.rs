//! manifest: the program must be on a list. `MANIFEST_LIST<spec>=FILE` names a list file (any
//! suffix: `MANIFEST_LIST`, `MANIFEST_LIST_2`, …); files are consulted in byte order of their
//! variable names, lines in file order, and the **first** matching line decides: a plain RE line
//! allows, an `N=RE` line exits N (0 allows, anything else denies with N). No match denies
//! with 77. Blank lines and lines starting with `#` are skipped; one trailing CR is dropped.
//! `MANIFEST_WARN<spec>` is the warning for a denial by that list (`MANIFEST_WARN` otherwise).
//! List files must be root's and not group/world-writable, in directories that are the same.

use crate::params::{ParamError, Params};
use crate::regex::{Regex, RegexError};
use crate::trusted::{self, TrustError};
use opwire::reply::parse::code as parse_code;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub const LIST: &str = "MANIFEST_LIST";
pub const WARN: &str = "MANIFEST_WARN";
/// Largest list file read.
pub const MAX_LIST: u64 = 1024 * 1024;

/// One line of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    pub code: u8,
    pub regex: Regex,
}

/// Why a list file is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListError {
    /// `N=` with N not a decimal 0–255.
    BadCode {
        line: usize,
    },
    Regex {
        line: usize,
        error: RegexError,
    },
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::BadCode { line } => {
                write!(f, "line {line}: code before '=' is not a decimal 0-255")
            }
            ListError::Regex { line, error } => write!(f, "line {line}: {error}"),
        }
    }
}

/// Parses a list file.
pub fn parse_list(data: &[u8]) -> Result<Vec<Entry>, ListError> {
    let mut out = Vec::new();
    for (i, raw) in data.split(|&c| c == b'\n').enumerate() {
        let line = i + 1;
        let text = raw.strip_suffix(b"\r").unwrap_or(raw);
        if text.iter().all(u8::is_ascii_whitespace) || text.first() == Some(&b'#') {
            continue;
        }
        let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
        let (code, pattern) = match (digits, text.get(digits)) {
            (1.., Some(b'=')) => {
                let code =
                    parse_code(text.get(..digits).unwrap_or_default()).map_err(|_| ListError::BadCode { line })?;
                (code, text.get(digits + 1..).unwrap_or_default())
            }
            _ => (0, text),
        };
        let regex = Regex::new(pattern).map_err(|error| ListError::Regex { line, error })?;
        out.push(Entry { line, code, regex });
    }
    Ok(out)
}

/// A list and the suffix that names it.
#[derive(Debug, Clone)]
pub struct List {
    pub spec: Vec<u8>,
    pub entries: Vec<Entry>,
}

/// The decision: which list and line matched and its code, or no match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Matched { list: usize, line: usize, code: u8 },
    NoMatch,
}

/// The first matching line over all lists, in order.
pub fn decide(lists: &[List], program: &[u8]) -> Decision {
    for (li, list) in lists.iter().enumerate() {
        if let Some(e) = list.entries.iter().find(|e| e.regex.is_match(program)) {
            return Decision::Matched { list: li, line: e.line, code: e.code };
        }
    }
    Decision::NoMatch
}

/// Why the manifest cannot be consulted.
#[derive(Debug)]
pub enum LoadError {
    Param(ParamError),
    /// A `MANIFEST_WARN<spec>` whose `MANIFEST_LIST<spec>` is not set.
    OrphanWarn(String),
    File {
        variable: String,
        error: TrustError,
    },
    List {
        variable: String,
        error: ListError,
    },
}

impl LoadError {
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::File { error, .. } => trusted::exit_code(error),
            _ => opwire::sysexits::EX_CONFIG,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Param(e) => e.fmt(f),
            LoadError::OrphanWarn(v) => write!(f, "{v} has no matching {LIST} parameter"),
            LoadError::File { variable, error } => write!(f, "{variable}: {error}"),
            LoadError::List { variable, error } => write!(f, "{variable}: {error}"),
        }
    }
}

/// Reads every list the parameters name, in variable-name order.
pub fn load(params: &Params) -> Result<Vec<List>, LoadError> {
    params.only(&["MANIFEST_REVEAL"], &[LIST, WARN]).map_err(LoadError::Param)?;
    let mut named: Vec<(&[u8], &[u8])> =
        params.iter().filter_map(|(k, v)| k.strip_prefix(LIST.as_bytes()).map(|spec| (spec, v))).collect();
    named.sort();
    if named.is_empty() {
        return Err(LoadError::Param(ParamError::Missing(LIST)));
    }
    for (k, _) in params.iter() {
        if let Some(spec) = k.strip_prefix(WARN.as_bytes()) {
            if !spec.is_empty() && !named.iter().any(|(s, _)| *s == spec) {
                return Err(LoadError::OrphanWarn(String::from_utf8_lossy(k).into_owned()));
            }
        }
    }
    let mut lists = Vec::new();
    for (spec, path) in named {
        let variable = format!("{LIST}{}", String::from_utf8_lossy(spec));
        let path = Path::new(OsStr::from_bytes(path));
        let data =
            trusted::read(path, MAX_LIST).map_err(|error| LoadError::File { variable: variable.clone(), error })?;
        let entries = parse_list(&data).map_err(|error| LoadError::List { variable, error })?;
        lists.push(List { spec: spec.to_vec(), entries });
    }
    Ok(lists)
}

// ---------------------------------------------------------------- the manifest program

/// What `manifest -h`, `-H` and `-V` say, and its standard suffixes.
pub const HELPER: crate::helper::Helper = crate::helper::Helper {
    name: "manifest",
    about: "Allows the command only when its program path matches a line of a MANIFEST_LIST<spec> file;\n\
            the first matching line decides (RE allows, N=RE exits N); no match exits 77. The path must\n\
            name a file through root-only directories and no symbolic link (else 77; missing: 66).",
    reads: &["MANIFEST_LIST<spec>", "MANIFEST_WARN<spec>", "MANIFEST_WARN", "MANIFEST_REVEAL"],
    grammar: &[
        ("MANIFEST_LIST<spec>", "/absolute/file of lines: RE | N=RE | #comment | blank (files in name order)"),
        ("MANIFEST_WARN<spec>", "text printed when the list MANIFEST_LIST<spec> refuses"),
        ("MANIFEST_WARN", "text printed on stderr when refused"),
        ("MANIFEST_REVEAL", "prefix: reply ~prefix after removing the MANIFEST_ parameters"),
    ],
    warn_var: "MANIFEST_WARN",
    reveal_var: "MANIFEST_REVEAL",
};

/// The manifest program: allow only programs a list names; `N=RE` lines force exit N.
pub fn main() -> ! {
    use crate::helper::{self, Verdict};
    use crate::manifest::{self, Decision};
    use crate::params::Params;
    use crate::trusted;
    use opwire::sysexits::EX_NOPERM;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    helper::main(&HELPER, Params::prefixed("MANIFEST_"), |s| {
        let lists = match manifest::load(&s.params) {
            Ok(l) => l,
            Err(e) => return Verdict::refuse(e.exit_code(), e.to_string()),
        };
        // The name is what is judged, so it must be one nobody but root can make mean another
        // file: a plain absolute path, no symbolic link on it, root-only directories.
        let program = Path::new(OsStr::from_bytes(&s.invocation.program));
        match trusted::inspect(program) {
            Ok(()) => {}
            Err(e) if trusted::is_untrusted(&e) => return Verdict::refuse(EX_NOPERM, trusted::describe(program, &e)),
            Err(e) => return Verdict::refuse(trusted::exit_code(&e), trusted::describe(program, &e)),
        }
        match manifest::decide(&lists, &s.invocation.program) {
            Decision::Matched { code: 0, .. } => Verdict::allow(),
            Decision::Matched { list, code, .. } => {
                let spec = lists.get(list).map(|l| l.spec.clone()).unwrap_or_default();
                let var = [manifest::WARN.as_bytes(), &spec].concat();
                let warn = s.params.iter().find(|(k, _)| *k == var.as_slice()).map(|(_, v)| v.to_vec());
                Verdict::Deny { code, warn, reason: None }
            }
            Decision::NoMatch => Verdict::deny(EX_NOPERM),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> List {
        List { spec: Vec::new(), entries: parse_list(s.as_bytes()).unwrap() }
    }

    #[test]
    fn documented_example_allows_three_programs_and_denies_the_rest() {
        let l = [list("^/bin/ls$\n^/bin/cat$\n^/bin/true$\n77=.*\n")];
        assert_eq!(decide(&l, b"/bin/ls"), Decision::Matched { list: 0, line: 1, code: 0 });
        assert_eq!(decide(&l, b"/bin/true"), Decision::Matched { list: 0, line: 3, code: 0 });
        assert_eq!(decide(&l, b"/bin/sh"), Decision::Matched { list: 0, line: 4, code: 77 });
        assert_eq!(decide(&l, b"/bin/lsx"), Decision::Matched { list: 0, line: 4, code: 77 });
    }

    #[test]
    fn first_match_wins_across_lists_in_order() {
        let l = [list("69=^/usr/sbin/\n"), list("^/usr/")];
        assert_eq!(decide(&l, b"/usr/sbin/x"), Decision::Matched { list: 0, line: 1, code: 69 });
        assert_eq!(decide(&l, b"/usr/bin/x"), Decision::Matched { list: 1, line: 1, code: 0 });
        assert_eq!(decide(&l, b"/opt/x"), Decision::NoMatch);
    }

    #[test]
    fn comments_blanks_crlf_and_zero_codes() {
        let l = parse_list(b"# comment\n\n   \n0=^/a$\r\n^/b$\r\n").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].line, l[0].code), (4, 0));
        assert!(l[1].regex.is_match(b"/b"));
        assert!(!l[1].regex.is_match(b"/b\r"));
    }

    #[test]
    fn refuses_hostile_lists() {
        assert_eq!(parse_list(b"^/a$\n256=x"), Err(ListError::BadCode { line: 2 }));
        assert_eq!(parse_list(b"077=x"), Err(ListError::BadCode { line: 1 }));
        assert!(matches!(parse_list(b"(x"), Err(ListError::Regex { line: 1, .. })));
        assert!(matches!(parse_list(b"[z-a]"), Err(ListError::Regex { .. })));
        // Not a code: digits not followed by '=' are part of the pattern.
        assert!(parse_list(b"123").unwrap()[0].regex.is_match(b"/x123"));
    }
}
