//! `STAMP_SPEC=stamp[:check]*` (§4.7): the stamp's name, then checks on its tableau.
//!
//! A check is `NAME` (the entry exists), `NAME=value` (equals, byte for byte), `NAME!value` (is
//! not), `NAME<v` `<=` `>` `>=` `==` `!=` (numeric), `NAME=~RE` or `NAME!~RE` (matches or does
//! not match envauth's regex, unanchored). The operator is the longest that fits, so `a==1` is
//! numeric and `a=~x` a match; a value that itself begins with `=` or `~` cannot follow `=` or
//! `!`. Every check needs the entry to exist (a missing entry fails even `!value` and `!~RE`).
//! Numeric: both sides start with an optional sign and at least one digit; the integers compare
//! by value (any length); if they are equal and *both* sides have text after their digits, that
//! text decides, byte-wise (`3rc1 < 3rc2`, but `3 == 3rc1`). A check value must be numeric for a
//! numeric operator (else the spec is refused); an entry that is not makes the check fail.
//! NAME is `[A-Za-z_][A-Za-z0-9_]*`, at most 64 bytes. `:` separates checks, so no value can
//! hold one; there is no OR.

use super::path::{self, PathError};
use crate::regex::{Regex, RegexError};
use opwire::reply::is_name;
use std::cmp::Ordering;
use std::fmt;

/// Longest spec accepted.
pub const MAX_SPEC: usize = 4096;
/// Most checks in one spec.
pub const MAX_CHECKS: usize = 64;
/// Longest tableau entry name.
pub const MAX_NAME: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A leading integer and the text after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    negative: bool,
    /// Decimal digits without leading zeros (empty for zero).
    digits: Vec<u8>,
    rest: Vec<u8>,
}

impl Number {
    /// `[+-]?[0-9]+` at the start of `s`, or None.
    pub fn parse(s: &[u8]) -> Option<Number> {
        let (negative, body) = match s.split_first() {
            Some((b'-', r)) => (true, r),
            Some((b'+', r)) => (false, r),
            _ => (false, s),
        };
        let n = body.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let digits = body.get(..n).unwrap_or_default();
        let zeros = digits.iter().take_while(|&&b| b == b'0').count();
        let digits = digits.get(zeros..).unwrap_or_default().to_vec();
        Some(Number {
            negative: negative && !digits.is_empty(),
            digits,
            rest: body.get(n..).unwrap_or_default().to_vec(),
        })
    }

    fn cmp_value(&self, other: &Number) -> Ordering {
        let magnitude = self.digits.len().cmp(&other.digits.len()).then_with(|| self.digits.cmp(&other.digits));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }

    /// The §4.7 comparison: value first, then the trailing text if both have some.
    pub fn compare(&self, other: &Number) -> Ordering {
        self.cmp_value(other).then_with(|| {
            if self.rest.is_empty() || other.rest.is_empty() {
                Ordering::Equal
            } else {
                self.rest.cmp(&other.rest)
            }
        })
    }
}

/// What one check demands of its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Exists,
    Equals(Vec<u8>),
    Differs(Vec<u8>),
    Numeric(NumOp, Number),
    Matches(Regex),
    NotMatches(Regex),
}

/// One check on one tableau entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: Vec<u8>,
    pub test: Test,
}

impl Check {
    /// Whether the entry's value (None: not in the tableau) passes.
    pub fn passes(&self, entry: Option<&[u8]>) -> bool {
        let Some(v) = entry else {
            return false;
        };
        match &self.test {
            Test::Exists => true,
            Test::Equals(want) => v == want.as_slice(),
            Test::Differs(not) => v != not.as_slice(),
            Test::Numeric(op, want) => Number::parse(v).is_some_and(|n| {
                let o = n.compare(want);
                match op {
                    NumOp::Lt => o == Ordering::Less,
                    NumOp::Le => o != Ordering::Greater,
                    NumOp::Gt => o == Ordering::Greater,
                    NumOp::Ge => o != Ordering::Less,
                    NumOp::Eq => o == Ordering::Equal,
                    NumOp::Ne => o != Ordering::Equal,
                }
            }),
            Test::Matches(re) => re.is_match(v),
            Test::NotMatches(re) => !re.is_match(v),
        }
    }
}

/// A parsed spec: the stamp name as written (resolved later against the facility) and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub stamp: Vec<u8>,
    pub checks: Vec<Check>,
}

impl Spec {
    /// The entry names the checks need, each once, in order.
    pub fn names(&self) -> Vec<&[u8]> {
        let mut out: Vec<&[u8]> = Vec::new();
        for c in &self.checks {
            if !out.contains(&c.name.as_slice()) {
                out.push(&c.name);
            }
        }
        out
    }
}

/// Why a spec is refused; `check` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    TooLong,
    TooManyChecks,
    Stamp(PathError),
    EmptyCheck {
        check: usize,
    },
    /// The check does not start with a `[A-Za-z_][A-Za-z0-9_]*` name of at most 64 bytes.
    BadName {
        check: usize,
    },
    /// A numeric operator with a value that does not start with an integer.
    NotNumeric {
        check: usize,
    },
    Regex {
        check: usize,
        error: RegexError,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::TooLong => write!(f, "longer than {MAX_SPEC} bytes"),
            SpecError::TooManyChecks => write!(f, "more than {MAX_CHECKS} checks"),
            SpecError::Stamp(e) => write!(f, "stamp name: {e}"),
            SpecError::EmptyCheck { check } => write!(f, "check {check} is empty"),
            SpecError::BadName { check } => write!(
                f,
                "check {check}: expected NAME (A-Za-z_ then A-Za-z0-9_, at most {MAX_NAME} bytes) then an operator = ! < <= > >= == != =~ !~"
            ),
            SpecError::NotNumeric { check } => write!(
                f,
                "check {check}: a numeric operator needs a value starting with an integer"
            ),
            SpecError::Regex { check, error } => write!(f, "check {check}: {error}"),
        }
    }
}

/// Operators, longest first so the longest match wins.
const OPERATORS: &[&[u8]] = &[b"==", b"=~", b"!=", b"!~", b"<=", b">=", b"=", b"!", b"<", b">"];

fn parse_check(text: &[u8], check: usize) -> Result<Check, SpecError> {
    if text.is_empty() {
        return Err(SpecError::EmptyCheck { check });
    }
    let n = text.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
    let name = text.get(..n).unwrap_or_default();
    if !is_name(name) || name.len() > MAX_NAME {
        return Err(SpecError::BadName { check });
    }
    let rest = text.get(n..).unwrap_or_default();
    if rest.is_empty() {
        return Ok(Check { name: name.to_vec(), test: Test::Exists });
    }
    let op = OPERATORS.iter().find(|op| rest.starts_with(op)).ok_or(SpecError::BadName { check })?;
    let value = rest.get(op.len()..).unwrap_or_default();
    let numeric = |op: NumOp| Number::parse(value).map(|n| Test::Numeric(op, n)).ok_or(SpecError::NotNumeric { check });
    let regex = |v: &[u8]| Regex::new(v).map_err(|error| SpecError::Regex { check, error });
    let test = match *op {
        b"==" => numeric(NumOp::Eq)?,
        b"!=" => numeric(NumOp::Ne)?,
        b"<=" => numeric(NumOp::Le)?,
        b">=" => numeric(NumOp::Ge)?,
        b"<" => numeric(NumOp::Lt)?,
        b">" => numeric(NumOp::Gt)?,
        b"=~" => Test::Matches(regex(value)?),
        b"!~" => Test::NotMatches(regex(value)?),
        b"=" => Test::Equals(value.to_vec()),
        _ => Test::Differs(value.to_vec()),
    };
    Ok(Check { name: name.to_vec(), test })
}

/// Parses `stamp[:check]*`. The stamp name is checked with the path rules (no `..`, no empty
/// or `.` components, allowed bytes) but not yet resolved: that needs the facility and the root.
pub fn parse(s: &[u8], root: &[u8]) -> Result<Spec, SpecError> {
    if s.len() > MAX_SPEC {
        return Err(SpecError::TooLong);
    }
    let mut parts = s.split(|&b| b == b':');
    let stamp = parts.next().unwrap_or_default();
    // Facility-independent validation: resolved against a dummy facility here, the real one
    // later; an absolute name is checked against the root now.
    path::StampPath::parse(stamp, &[], root).map_err(SpecError::Stamp)?;
    let mut checks = Vec::new();
    for (i, text) in parts.enumerate() {
        if checks.len() == MAX_CHECKS {
            return Err(SpecError::TooManyChecks);
        }
        checks.push(parse_check(text, i + 1)?);
    }
    Ok(Spec { stamp: stamp.to_vec(), checks })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &[u8] = b"/run/escapes/stamp";

    fn spec(s: &str) -> Spec {
        parse(s.as_bytes(), ROOT).unwrap()
    }

    fn check(c: &str) -> Check {
        spec(&format!("x:{c}")).checks.remove(0)
    }

    fn passes(c: &str, v: Option<&str>) -> bool {
        check(c).passes(v.map(str::as_bytes))
    }

    #[test]
    fn the_page_s_specs() {
        let s = spec("ecru/alice:TTY=/dev/pts/3");
        assert_eq!(s.stamp, b"ecru/alice");
        assert_eq!(s.checks.len(), 1);
        assert!(s.checks[0].passes(Some(b"/dev/pts/3")));
        assert!(!s.checks[0].passes(Some(b"/dev/pts/4")));
        let s = spec("commit/ready-42:Auth!alice");
        assert!(s.checks[0].passes(Some(b"bob")));
        assert!(!s.checks[0].passes(Some(b"alice")));
        let s = spec("ops/42");
        assert!(s.checks.is_empty());
        let s = spec("f:Intention=recovery:Who=root");
        assert_eq!(s.names(), vec![b"Intention".as_slice(), b"Who".as_slice()]);
    }

    #[test]
    fn longest_operator_wins() {
        assert_eq!(check("a==1").test, Test::Numeric(NumOp::Eq, Number::parse(b"1").unwrap()));
        assert!(matches!(check("a=~^x").test, Test::Matches(_)));
        assert!(matches!(check("a!~^x").test, Test::NotMatches(_)));
        assert!(matches!(check("a!=1").test, Test::Numeric(NumOp::Ne, _)));
        assert!(matches!(check("a<=1").test, Test::Numeric(NumOp::Le, _)));
        assert!(matches!(check("a>=1").test, Test::Numeric(NumOp::Ge, _)));
        assert_eq!(check("a=x").test, Test::Equals(b"x".to_vec()));
        assert_eq!(check("a=").test, Test::Equals(b"".to_vec()));
        assert_eq!(check("a!x").test, Test::Differs(b"x".to_vec()));
        assert_eq!(check("a=>").test, Test::Equals(b">".to_vec()));
        assert_eq!(check("a").test, Test::Exists);
    }

    #[test]
    fn every_check_needs_the_entry() {
        for c in ["a", "a=", "a!x", "a!~x", "a!=1", "a<9"] {
            assert!(!passes(c, None), "{c}");
        }
        assert!(passes("a", Some("")));
        assert!(passes("a!~x", Some("y")));
        assert!(!passes("a!~x", Some("xx")));
        assert!(passes("a=~^b.*z$", Some("buzz"))); // unanchored unless written
        assert!(passes("a=~u", Some("buzz")));
    }

    #[test]
    fn numeric_comparison() {
        assert!(passes("n<10", Some("9")));
        assert!(!passes("n<10", Some("10")));
        assert!(passes("n<=10", Some("10")));
        assert!(passes("n>-3", Some("-2")));
        assert!(passes("n<-2", Some("-3")));
        assert!(passes("n==0", Some("-0")));
        assert!(passes("n==007", Some("7")));
        assert!(passes("n>99999999999999999999999", Some("100000000000000000000000")));
        assert!(passes("n!=5", Some("6")));
        assert!(!passes("n<10", Some("abc")), "non-numeric entry fails");
        assert!(!passes("n!=10", Some("abc")), "even for !=");
        // Trailing text decides only when both sides have some.
        assert!(passes("v<3rc2", Some("3rc1")));
        assert!(passes("v==3", Some("3rc1")));
        assert!(passes("v==3rc1", Some("3")));
        assert!(!passes("v==3rc1", Some("3rc2")));
        assert!(passes("v>2zzz", Some("3a")), "the integer decides first");
    }

    #[test]
    fn hostile_specs() {
        let bad: &[(&str, SpecError)] = &[
            ("", SpecError::Stamp(PathError::Empty)),
            ("../x", SpecError::Stamp(PathError::Dot)),
            ("a/../../etc", SpecError::Stamp(PathError::Dot)),
            ("a//b", SpecError::Stamp(PathError::EmptyComponent)),
            ("/etc/x", SpecError::Stamp(PathError::OutsideRoot)),
            ("x:", SpecError::EmptyCheck { check: 1 }),
            ("x:a::b", SpecError::EmptyCheck { check: 2 }),
            ("x:1a=2", SpecError::BadName { check: 1 }),
            ("x:=2", SpecError::BadName { check: 1 }),
            ("x:a b=2", SpecError::BadName { check: 1 }),
            ("x:a~2", SpecError::BadName { check: 1 }),
            ("x:a<", SpecError::NotNumeric { check: 1 }),
            ("x:a<b", SpecError::NotNumeric { check: 1 }),
            ("x:a==-", SpecError::NotNumeric { check: 1 }),
        ];
        for (s, want) in bad {
            assert_eq!(parse(s.as_bytes(), ROOT).as_ref().err(), Some(want), "{s:?}");
        }
        assert!(matches!(parse(b"x:a=~(", ROOT), Err(SpecError::Regex { check: 1, .. })));
        let long_name = format!("x:{}", "N".repeat(65));
        assert_eq!(parse(long_name.as_bytes(), ROOT), Err(SpecError::BadName { check: 1 }));
        let many = format!("x{}", ":a".repeat(65));
        assert_eq!(parse(many.as_bytes(), ROOT), Err(SpecError::TooManyChecks));
        let huge = "x".repeat(MAX_SPEC + 1);
        assert_eq!(parse(huge.as_bytes(), ROOT), Err(SpecError::TooLong));
    }

    #[test]
    fn a_hostile_regex_answers_quickly() {
        let c = check("a=~(a*)*b");
        let hay = vec![b'a'; 100_000];
        let t = std::time::Instant::now();
        assert!(!c.passes(Some(&hay)));
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
