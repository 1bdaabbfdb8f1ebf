//! The `TIMEBOX_INSIDE` / `TIMEBOX_FORBID` grammar: a comma-separated list of relations, each
//! `!* OPERAND (OP OPERAND)+` with OP one of `<` `<=` `>` `>=` `==` `!=`. An operand is literal
//! text with strftime conversions (`%H%M.%S`); after formatting, an English day name becomes its
//! `%u` number (Mon=1 … Sun=7) and a month name its `%m` number, case-insensitively, full or
//! three-letter. Two operands that both read as decimal numbers (`0930`, `1030.00`) compare
//! numerically, exactly; anything else compares byte-wise. A chain `a<=b<c` holds when every
//! link does; each leading `!` negates the relation.

use super::civil::LocalTime;
use super::strftime;
use std::cmp::Ordering;
use std::fmt;

/// Longest spec accepted: rules are one line in a config file.
pub const MAX_SPEC: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    Conversion(u8),
}

/// Text with strftime conversions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operand {
    pieces: Vec<Piece>,
}

/// One relation of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub negated: bool,
    first: Operand,
    rest: Vec<(CmpOp, Operand)>,
}

/// A parsed list of relations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    relations: Vec<Relation>,
}

/// Where and why a spec is refused; `relation` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecError {
    TooLong,
    EmptyRelation {
        relation: usize,
    },
    EmptyOperand {
        relation: usize,
    },
    /// A relation with no comparison at all.
    NoComparison {
        relation: usize,
    },
    /// `!` inside a relation not followed by `=`.
    StrayBang {
        relation: usize,
    },
    /// `=` alone: write `==`.
    SingleEquals {
        relation: usize,
    },
    UnknownConversion {
        relation: usize,
        conversion: u8,
    },
    TrailingPercent {
        relation: usize,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::TooLong => write!(f, "longer than {MAX_SPEC} bytes"),
            SpecError::EmptyRelation { relation } => write!(f, "relation {relation} is empty"),
            SpecError::EmptyOperand { relation } => {
                write!(f, "relation {relation}: an operand is empty")
            }
            SpecError::NoComparison { relation } => {
                write!(f, "relation {relation}: no comparison (< <= > >= == !=)")
            }
            SpecError::StrayBang { relation } => {
                write!(f, "relation {relation}: '!' inside a relation must be '!='")
            }
            SpecError::SingleEquals { relation } => {
                write!(f, "relation {relation}: '=' alone; write '=='")
            }
            SpecError::UnknownConversion { relation, conversion } => {
                write!(f, "relation {relation}: unsupported conversion %{}", char::from(*conversion).escape_default())
            }
            SpecError::TrailingPercent { relation } => {
                write!(f, "relation {relation}: '%' at the end of an operand")
            }
        }
    }
}

/// Parses a relation list.
pub fn parse(s: &[u8]) -> Result<Spec, SpecError> {
    if s.len() > MAX_SPEC {
        return Err(SpecError::TooLong);
    }
    let relations =
        s.split(|&c| c == b',').enumerate().map(|(i, r)| parse_relation(r, i + 1)).collect::<Result<Vec<_>, _>>()?;
    Ok(Spec { relations })
}

fn parse_relation(r: &[u8], relation: usize) -> Result<Relation, SpecError> {
    let r = r.trim_ascii();
    if r.is_empty() {
        return Err(SpecError::EmptyRelation { relation });
    }
    let mut pos = 0;
    let mut negated = false;
    while let Some(&c) = r.get(pos) {
        if c == b'!' && r.get(pos + 1) != Some(&b'=') {
            negated = !negated;
        } else if !c.is_ascii_whitespace() {
            break;
        }
        pos += 1;
    }
    let mut operands = Vec::new();
    let mut ops = Vec::new();
    let mut start = pos;
    loop {
        let op = match (r.get(pos), r.get(pos + 1)) {
            (None, _) => None,
            (Some(b'<'), Some(b'=')) => Some((CmpOp::Le, 2)),
            (Some(b'<'), _) => Some((CmpOp::Lt, 1)),
            (Some(b'>'), Some(b'=')) => Some((CmpOp::Ge, 2)),
            (Some(b'>'), _) => Some((CmpOp::Gt, 1)),
            (Some(b'='), Some(b'=')) => Some((CmpOp::Eq, 2)),
            (Some(b'='), _) => return Err(SpecError::SingleEquals { relation }),
            (Some(b'!'), Some(b'=')) => Some((CmpOp::Ne, 2)),
            (Some(b'!'), _) => return Err(SpecError::StrayBang { relation }),
            (Some(b'%'), next) => {
                let c = *next.ok_or(SpecError::TrailingPercent { relation })?;
                if !strftime::supported(c) {
                    return Err(SpecError::UnknownConversion { relation, conversion: c });
                }
                pos += 2;
                continue;
            }
            (Some(_), _) => {
                pos += 1;
                continue;
            }
        };
        operands.push(parse_operand(r.get(start..pos).unwrap_or_default(), relation)?);
        match op {
            None => break,
            Some((op, len)) => {
                ops.push(op);
                pos += len;
                start = pos;
            }
        }
    }
    let mut operands = operands.into_iter();
    let first = operands.next().ok_or(SpecError::EmptyOperand { relation })?;
    if ops.is_empty() {
        return Err(SpecError::NoComparison { relation });
    }
    Ok(Relation { negated, first, rest: ops.into_iter().zip(operands).collect() })
}

fn parse_operand(s: &[u8], relation: usize) -> Result<Operand, SpecError> {
    let s = s.trim_ascii();
    if s.is_empty() {
        return Err(SpecError::EmptyOperand { relation });
    }
    let mut pieces = Vec::new();
    let mut lit = Vec::new();
    let mut it = s.iter();
    while let Some(&c) = it.next() {
        if c == b'%' {
            let conv = *it.next().ok_or(SpecError::TrailingPercent { relation })?;
            if !lit.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut lit)));
            }
            pieces.push(Piece::Conversion(conv));
        } else {
            lit.push(c);
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Literal(lit));
    }
    Ok(Operand { pieces })
}

const DAY_NAMES: [&[u8]; 7] = [b"monday", b"tuesday", b"wednesday", b"thursday", b"friday", b"saturday", b"sunday"];
const MONTH_NAMES: [&[u8]; 12] = [
    b"january",
    b"february",
    b"march",
    b"april",
    b"may",
    b"june",
    b"july",
    b"august",
    b"september",
    b"october",
    b"november",
    b"december",
];

/// A day or month name's number, else the text itself.
fn normalise(v: Vec<u8>) -> Vec<u8> {
    let named = |names: &[&[u8]]| {
        names.iter().position(|n| {
            v.eq_ignore_ascii_case(n) || (v.len() == 3 && n.get(..3).is_some_and(|a| v.eq_ignore_ascii_case(a)))
        })
    };
    match named(&DAY_NAMES).or_else(|| named(&MONTH_NAMES)) {
        Some(i) => (i + 1).to_string().into_bytes(),
        None => v,
    }
}

impl Operand {
    fn value(&self, t: &LocalTime) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.extend_from_slice(l),
                Piece::Conversion(c) => {
                    let mut s = String::new();
                    strftime::expand(*c, t, &mut s);
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        normalise(out)
    }
}

/// `digits[.digits]` (or `digits.`): the integer and fraction parts.
fn decimal(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let (int, frac) = match v.iter().position(|&c| c == b'.') {
        Some(dot) => (v.get(..dot)?, v.get(dot + 1..)?),
        None => (v, &[][..]),
    };
    (!int.is_empty() && int.iter().all(u8::is_ascii_digit) && frac.iter().all(u8::is_ascii_digit))
        .then_some((int, frac))
}

/// Exact numeric order of two decimals, without converting to a machine number.
fn numeric_cmp(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> Ordering {
    let strip = |s: &[u8]| -> Vec<u8> { s.iter().copied().skip_while(|&c| c == b'0').collect() };
    let (ai, bi) = (strip(a.0), strip(b.0));
    let int = ai.len().cmp(&bi.len()).then_with(|| ai.cmp(&bi));
    int.then_with(|| {
        let n = a.1.len().max(b.1.len());
        let pad = |s: &[u8]| -> Vec<u8> { s.iter().copied().chain(std::iter::repeat(b'0')).take(n).collect() };
        pad(a.1).cmp(&pad(b.1))
    })
}

/// Numeric when both sides are decimals, byte-wise otherwise.
pub fn compare(a: &[u8], b: &[u8]) -> Ordering {
    match (decimal(a), decimal(b)) {
        (Some(x), Some(y)) => numeric_cmp(x, y),
        _ => a.cmp(b),
    }
}

impl Relation {
    pub fn holds(&self, t: &LocalTime) -> bool {
        let mut left = self.first.value(t);
        let mut chain = true;
        for (op, operand) in &self.rest {
            let right = operand.value(t);
            chain &= op.holds(compare(&left, &right));
            left = right;
        }
        chain != self.negated
    }
}

impl Spec {
    /// True when at least one relation holds.
    pub fn any_holds(&self, t: &LocalTime) -> bool {
        self.relations.iter().any(|r| r.holds(t))
    }

    /// True when every relation holds.
    pub fn all_hold(&self, t: &LocalTime) -> bool {
        self.relations.iter().all(|r| r.holds(t))
    }

    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32, s: u32) -> LocalTime {
        // 2024-06-13 is a Thursday.
        LocalTime::at(1_718_236_800 + i64::from(h * 3600 + m * 60 + s), 0, false, "UTC").unwrap()
    }

    fn holds(spec: &str, t: &LocalTime) -> bool {
        parse(spec.as_bytes()).unwrap().any_holds(t)
    }

    #[test]
    fn a_window_is_a_chain() {
        assert!(holds("0100<=%H%M<0500", &at(1, 0, 0)));
        assert!(holds("0100<=%H%M<0500", &at(4, 59, 59)));
        assert!(!holds("0100<=%H%M<0500", &at(5, 0, 0)));
        assert!(!holds("0100<=%H%M<0500", &at(0, 59, 59)));
    }

    #[test]
    fn bang_negates_the_whole_chain() {
        let s = "!1030.00<=%H%M.%S<1630.00";
        assert!(holds(s, &at(10, 29, 59)));
        assert!(!holds(s, &at(10, 30, 0)));
        assert!(!holds(s, &at(16, 29, 59)));
        assert!(holds(s, &at(16, 30, 0)));
        assert!(holds("!!0100<=%H%M<0500", &at(2, 0, 0)));
        assert!(holds("! ! 0100<=%H%M<0500", &at(2, 0, 0)));
    }

    #[test]
    fn day_and_month_names_become_numbers() {
        let thu = at(12, 0, 0);
        assert!(holds("%u==Thu", &thu));
        assert!(holds("%u==thursday", &thu));
        assert!(holds("%a==THU", &thu));
        assert!(holds("%u!=Fri", &thu));
        assert!(holds("%m==Jun", &thu));
        assert!(holds("Mar<%b<=June", &thu));
        assert!(!holds("%u!=Thu", &thu));
    }

    #[test]
    fn alternatives_and_whitespace() {
        let s = "2200<=%H%M, %H%M < 0600";
        assert!(holds(s, &at(23, 0, 0)));
        assert!(holds(s, &at(5, 0, 0)));
        assert!(!holds(s, &at(12, 0, 0)));
        assert!(parse(b"0100<=%H%M<0500").unwrap().all_hold(&at(2, 0, 0)));
    }

    #[test]
    fn numbers_compare_exactly_and_text_bytewise() {
        assert_eq!(compare(b"0930", b"930"), Ordering::Equal);
        assert_eq!(compare(b"1629.59", b"1630.00"), Ordering::Less);
        assert_eq!(compare(b"1630.", b"1630.00"), Ordering::Equal);
        assert_eq!(compare(b"99999999999999999999999", b"100000000000000000000000"), Ordering::Less);
        assert_eq!(compare(b"10:30", b"9:30"), Ordering::Less);
        assert_eq!(compare(b"+0100", b"+0100"), Ordering::Equal);
    }

    #[test]
    fn refuses_hostile_and_ambiguous_specs() {
        let cases: &[(&[u8], SpecError)] = &[
            (b"", SpecError::EmptyRelation { relation: 1 }),
            (b"0100<%H,", SpecError::EmptyRelation { relation: 2 }),
            (b"%H", SpecError::NoComparison { relation: 1 }),
            (b"<%H", SpecError::EmptyOperand { relation: 1 }),
            (b"%H<", SpecError::EmptyOperand { relation: 1 }),
            (b"%H<<1", SpecError::EmptyOperand { relation: 1 }),
            (b"%u=Thu", SpecError::SingleEquals { relation: 1 }),
            (b"%u!Thu", SpecError::StrayBang { relation: 1 }),
            (b"%Q<1", SpecError::UnknownConversion { relation: 1, conversion: b'Q' }),
            (b"%-H<1", SpecError::UnknownConversion { relation: 1, conversion: b'-' }),
            (b"1<%", SpecError::TrailingPercent { relation: 1 }),
            (b"!", SpecError::EmptyOperand { relation: 1 }),
            (b"!=1", SpecError::EmptyOperand { relation: 1 }),
        ];
        for (s, e) in cases {
            assert_eq!(parse(s), Err(*e), "{:?}", String::from_utf8_lossy(s));
        }
        assert_eq!(parse(&vec![b'1'; MAX_SPEC + 1]), Err(SpecError::TooLong));
    }

    #[test]
    fn percent_escapes_an_operator_character() {
        assert!(holds("%%<%%%H", &at(1, 0, 0)));
    }
}
