//! Stamp names and facilities: where under the stamp root a stamp's socket lives.
//!
//! A name is `component(/component)*`, each component 1–64 bytes of `[A-Za-z0-9._,+@%=~-]`, never
//! `.` or `..`, at most 16 components below the root in all. A relative stamp name is taken
//! under the facility; a facility is relative to the root, or `.` for the root itself. Either may
//! be absolute, but then it must spell the compiled-in root as its leading components (byte for
//! byte, no `.`/`..`/`//` games) and the rest follows the same rules: an absolute name is a
//! longer way of writing a relative one, never a way out of the root.

use opwire::trusted::is_component;
use std::fmt;

/// Longest component: short enough that `/proc/self/fd/N/` plus it fits in `sun_path`.
pub const MAX_COMPONENT: usize = 64;
/// Most components below the root (facility and name together).
pub const MAX_DEPTH: usize = 16;

/// Why a name or facility is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    Empty,
    /// `a//b`, a leading or trailing `/` (in a relative name).
    EmptyComponent,
    /// A `.` or `..` component.
    Dot,
    /// A byte outside `[A-Za-z0-9._,+@%=~-]`.
    BadByte(u8),
    ComponentTooLong,
    TooDeep,
    /// An absolute path that does not begin with the stamp root.
    OutsideRoot,
    /// An absolute stamp name that is the root itself (a stamp needs a name).
    NoName,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Empty => f.write_str("empty name"),
            PathError::EmptyComponent => f.write_str("empty path component ('//' or a stray '/')"),
            PathError::Dot => f.write_str("'.' and '..' components are refused"),
            PathError::BadByte(b) => {
                write!(f, "byte {:?} is not allowed (only A-Z a-z 0-9 . _ , + @ % = ~ -)", char::from(*b))
            }
            PathError::ComponentTooLong => {
                write!(f, "a path component is longer than {MAX_COMPONENT} bytes")
            }
            PathError::TooDeep => write!(f, "more than {MAX_DEPTH} components below the root"),
            PathError::OutsideRoot => f.write_str("an absolute name must be under the stamp root"),
            PathError::NoName => f.write_str("the stamp root itself is not a stamp"),
        }
    }
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._,+@%=~-".contains(&b)
}

/// A relative path: its components, each checked.
pub fn parse_relative(s: &[u8]) -> Result<Vec<Vec<u8>>, PathError> {
    if s.is_empty() {
        return Err(PathError::Empty);
    }
    let mut out = Vec::new();
    for c in s.split(|&b| b == b'/') {
        if c.is_empty() {
            return Err(PathError::EmptyComponent);
        }
        if c == b"." || c == b".." {
            return Err(PathError::Dot);
        }
        if let Some(&b) = c.iter().find(|&&b| !allowed(b)) {
            return Err(PathError::BadByte(b));
        }
        if c.len() > MAX_COMPONENT {
            return Err(PathError::ComponentTooLong);
        }
        debug_assert!(is_component(c));
        out.push(c.to_vec());
        if out.len() > MAX_DEPTH {
            return Err(PathError::TooDeep);
        }
    }
    Ok(out)
}

/// Where an absolute path is relative to the root.
enum Under<'a> {
    /// Exactly the root.
    Root,
    /// Below it: the text after `root/` (still to be checked; may be empty for `root/`).
    Below(&'a [u8]),
}

fn below_root<'a>(s: &'a [u8], root: &[u8]) -> Result<Under<'a>, PathError> {
    let rest = s.strip_prefix(root).ok_or(PathError::OutsideRoot)?;
    if rest.is_empty() {
        return Ok(Under::Root);
    }
    rest.strip_prefix(b"/").map(Under::Below).ok_or(PathError::OutsideRoot)
}

/// `STAMP_FACILITY`: `.` (the root), a relative path, or an absolute one under `root`.
pub fn parse_facility(s: &[u8], root: &[u8]) -> Result<Vec<Vec<u8>>, PathError> {
    if s == b"." {
        return Ok(Vec::new());
    }
    if s.first() == Some(&b'/') {
        return match below_root(s, root)? {
            Under::Root => Ok(Vec::new()),
            Under::Below(rest) => parse_relative(rest),
        };
    }
    parse_relative(s)
}

/// A stamp's location below the root: the directories, then the socket's name (at least one
/// component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampPath {
    components: Vec<Vec<u8>>,
}

impl StampPath {
    /// `name` under `facility` (already parsed), or absolute under `root`.
    pub fn parse(name: &[u8], facility: &[Vec<u8>], root: &[u8]) -> Result<StampPath, PathError> {
        let components = if name.first() == Some(&b'/') {
            match below_root(name, root)? {
                Under::Root => return Err(PathError::NoName),
                Under::Below(rest) => parse_relative(rest)?,
            }
        } else {
            let mut c = facility.to_vec();
            c.extend(parse_relative(name)?);
            c
        };
        if components.len() > MAX_DEPTH {
            return Err(PathError::TooDeep);
        }
        if components.is_empty() {
            return Err(PathError::NoName);
        }
        Ok(StampPath { components })
    }

    /// The directories below the root that hold the socket.
    pub fn dirs(&self) -> &[Vec<u8>] {
        self.components.split_last().map_or(&[], |(_, d)| d)
    }

    /// The socket's own name.
    pub fn leaf(&self) -> &[u8] {
        self.components.last().map_or(&[], Vec::as_slice)
    }

    /// `root/a/b/name`, for messages.
    pub fn display(&self, root: &str) -> String {
        let mut s = root.to_string();
        for c in &self.components {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(c));
        }
        s
    }
}

/// The components of the compiled-in root (absolute, no empty, `.` or `..` parts).
pub fn root_components(root: &str) -> Result<Vec<Vec<u8>>, PathError> {
    let rest = root.as_bytes().strip_prefix(b"/").ok_or(PathError::OutsideRoot)?;
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for c in rest.split(|&b| b == b'/') {
        if !is_component(c) {
            return Err(PathError::Dot);
        }
        out.push(c.to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &[u8] = b"/run/escapes/stamp";

    fn stamp(name: &str, facility: &str) -> Result<StampPath, PathError> {
        let f = parse_facility(facility.as_bytes(), ROOT)?;
        StampPath::parse(name.as_bytes(), &f, ROOT)
    }

    #[test]
    fn relative_names_go_under_the_facility() {
        let p = stamp("alice", "ecru").unwrap();
        assert_eq!(p.dirs(), &[b"ecru".to_vec()]);
        assert_eq!(p.leaf(), b"alice");
        let p = stamp("ecru/alice", ".").unwrap();
        assert_eq!(p.display("/run/escapes/stamp"), "/run/escapes/stamp/ecru/alice");
        let p = stamp("ready-42", "commit").unwrap();
        assert_eq!(p.leaf(), b"ready-42");
    }

    #[test]
    fn absolute_names_must_spell_the_root() {
        let p = stamp("/run/escapes/stamp/ecru/alice", "other").unwrap();
        assert_eq!(p, stamp("ecru/alice", ".").unwrap());
        for bad in [
            "/run/escapes/stampX/a",
            "/run/escapes/a",
            "/etc/passwd",
            "/run/escapes/stamp/../x",
            "/run/escapes/stamp//x",
            "/run/escapes//stamp/x",
            "/run/escapes/stamp/./x",
        ] {
            assert!(stamp(bad, ".").is_err(), "{bad}");
        }
        assert_eq!(stamp("/run/escapes/stamp", "."), Err(PathError::NoName));
        assert_eq!(stamp("/run/escapes/stamp/", "."), Err(PathError::Empty));
    }

    #[test]
    fn hostile_names_are_refused() {
        let cases: &[(&str, PathError)] = &[
            ("", PathError::Empty),
            ("..", PathError::Dot),
            ("a/../b", PathError::Dot),
            ("a/./b", PathError::Dot),
            (".", PathError::Dot),
            ("a//b", PathError::EmptyComponent),
            ("a/", PathError::EmptyComponent),
            ("a b", PathError::BadByte(b' ')),
            ("a:b", PathError::BadByte(b':')),
            ("a\nb", PathError::BadByte(b'\n')),
            ("a\0b", PathError::BadByte(0)),
            ("caf\u{e9}", PathError::BadByte(0xc3)),
            ("a*", PathError::BadByte(b'*')),
        ];
        for (name, want) in cases {
            assert_eq!(stamp(name, "f").as_ref().err(), Some(want), "{name:?}");
        }
        let long = "x".repeat(65);
        assert_eq!(stamp(&long, "f"), Err(PathError::ComponentTooLong));
        assert!(stamp(&"x".repeat(64), "f").is_ok());
        let deep = ["d"; 16].join("/");
        assert_eq!(stamp(&deep, "f"), Err(PathError::TooDeep));
        assert!(stamp(&deep, ".").is_ok());
    }

    #[test]
    fn facility_rules() {
        assert_eq!(parse_facility(b".", ROOT), Ok(vec![]));
        assert_eq!(parse_facility(ROOT, ROOT), Ok(vec![]));
        assert_eq!(parse_facility(b"/run/escapes/stamp/ecru", ROOT), Ok(vec![b"ecru".to_vec()]));
        assert_eq!(parse_facility(b"/var/op", ROOT), Err(PathError::OutsideRoot));
        assert_eq!(parse_facility(b"..", ROOT), Err(PathError::Dot));
        assert_eq!(parse_facility(b"", ROOT), Err(PathError::Empty));
        assert_eq!(parse_facility(b"./ecru", ROOT), Err(PathError::Dot));
    }

    #[test]
    fn root_components_split_the_compiled_root() {
        assert_eq!(
            root_components("/run/escapes/stamp"),
            Ok(vec![b"run".to_vec(), b"escapes".to_vec(), b"stamp".to_vec()])
        );
        assert!(root_components("run/x").is_err());
        assert!(root_components("/run/../x").is_err());
        assert!(root_components("/run//x").is_err());
        assert_eq!(root_components("/"), Ok(vec![]));
    }
}
