//! A small POSIX-ERE-like regular expression engine over bytes, for envauth and manifest.
//!
//! Accepted: literals, `.`, bracket expressions (`[a-z]`, `[^…]`, `[]…]`, `[[:alpha:]]`), `*`,
//! `+`, `?`, `{n}`, `{n,}`, `{n,m}` (n, m ≤ 255), `|`, `(…)`, the anchors `^` and `$`, and `\`
//! before any non-alphanumeric byte. Refused rather than guessed: `\` + letter or digit (no
//! backreferences, no `\d`), `\` inside brackets (POSIX reads it as a literal, Perl as an escape:
//! write `\\` outside a bracket instead), collating elements, a quantifier with nothing before it
//! or stacked on another (`a**`), unbalanced parentheses. Matching searches anywhere in the
//! input (unanchored, like regexec) and is a Thompson-NFA simulation: time O(input × program),
//! memory O(program), no backtracking, whatever the pattern.

use std::fmt;

/// Longest pattern accepted.
pub const MAX_PATTERN: usize = 4096;
/// Largest compiled program (instructions); bounds both time per byte and memory.
pub const MAX_PROGRAM: usize = 10_000;
/// Deepest parenthesis nesting.
pub const MAX_DEPTH: usize = 64;
/// Largest bound in `{n,m}`.
pub const MAX_REPEAT: u32 = 255;

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let members: Vec<u8> = (0..=255u8).filter(|&b| self.contains(b)).collect();
        write!(f, "ByteSet({:?})", String::from_utf8_lossy(&members))
    }
}

impl ByteSet {
    pub const EMPTY: ByteSet = ByteSet([0; 4]);
    pub const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    pub fn single(b: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.insert(b);
        s
    }
    pub fn insert(&mut self, b: u8) {
        if let Some(w) = self.0.get_mut(usize::from(b >> 6)) {
            *w |= 1 << (b & 63);
        }
    }
    pub fn contains(&self, b: u8) -> bool {
        self.0.get(usize::from(b >> 6)).is_some_and(|w| (w >> (b & 63)) & 1 == 1)
    }
    fn insert_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.insert(b);
        }
    }
    fn negate(&mut self) {
        for w in &mut self.0 {
            *w = !*w;
        }
    }
}

/// The parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Empty,
    Set(ByteSet),
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat { node: Box<Node>, min: u32, max: Option<u32> },
}

/// Why a pattern is refused; `at` is a byte offset into the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexError {
    TooLong,
    TooDeep { at: usize },
    TooBig,
    NothingToRepeat { at: usize },
    StackedQuantifier { at: usize },
    UnmatchedOpen { at: usize },
    UnmatchedClose { at: usize },
    TrailingBackslash,
    BadEscape { at: usize },
    UnterminatedClass { at: usize },
    BadRange { at: usize },
    BackslashInClass { at: usize },
    UnknownClassName { at: usize },
    Collating { at: usize },
    BadInterval { at: usize },
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegexError::TooLong => write!(f, "pattern longer than {MAX_PATTERN} bytes"),
            RegexError::TooDeep { at } => {
                write!(f, "parentheses nested deeper than {MAX_DEPTH} at byte {at}")
            }
            RegexError::TooBig => write!(f, "pattern compiles to more than {MAX_PROGRAM} instructions"),
            RegexError::NothingToRepeat { at } => {
                write!(f, "quantifier with nothing to repeat at byte {at}")
            }
            RegexError::StackedQuantifier { at } => {
                write!(f, "quantifier after a quantifier at byte {at}")
            }
            RegexError::UnmatchedOpen { at } => write!(f, "unclosed '(' at byte {at}"),
            RegexError::UnmatchedClose { at } => write!(f, "unmatched ')' at byte {at}"),
            RegexError::TrailingBackslash => f.write_str("pattern ends in '\\'"),
            RegexError::BadEscape { at } => write!(f, "'\\' before a letter or digit at byte {at} (not supported)"),
            RegexError::UnterminatedClass { at } => write!(f, "unclosed '[' at byte {at}"),
            RegexError::BadRange { at } => write!(f, "range end before range start at byte {at}"),
            RegexError::BackslashInClass { at } => {
                write!(f, "'\\' inside [...] at byte {at} is ambiguous")
            }
            RegexError::UnknownClassName { at } => write!(f, "unknown [:class:] at byte {at}"),
            RegexError::Collating { at } => write!(f, "collating elements [. .] [= =] at byte {at} are not supported"),
            RegexError::BadInterval { at } => {
                write!(f, "bad {{n,m}} at byte {at} (n <= m <= {MAX_REPEAT})")
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

/// Parses a pattern into its syntax tree.
pub fn parse(pattern: &[u8]) -> Result<Node, RegexError> {
    if pattern.len() > MAX_PATTERN {
        return Err(RegexError::TooLong);
    }
    let mut p = Parser { s: pattern, pos: 0, depth: 0 };
    let node = p.alternation()?;
    if p.pos < pattern.len() {
        return Err(RegexError::UnmatchedClose { at: p.pos });
    }
    Ok(node)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn alternation(&mut self) -> Result<Node, RegexError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RegexError::TooDeep { at: self.pos });
        }
        let mut alts = vec![self.concatenation()?];
        while self.peek() == Some(b'|') {
            self.pos += 1;
            alts.push(self.concatenation()?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 { alts.pop().unwrap_or(Node::Empty) } else { Node::Alt(alts) })
    }

    fn concatenation(&mut self) -> Result<Node, RegexError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    fn atom(&mut self) -> Result<Node, RegexError> {
        let at = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Node::Empty);
        };
        self.pos += 1;
        Ok(match c {
            b'(' => {
                let inner = self.alternation()?;
                if self.peek() != Some(b')') {
                    return Err(RegexError::UnmatchedOpen { at });
                }
                self.pos += 1;
                inner
            }
            b'.' => Node::Set(ByteSet::ALL),
            b'^' => Node::Start,
            b'$' => Node::End,
            b'[' => Node::Set(self.bracket(at)?),
            b'\\' => match self.peek() {
                None => return Err(RegexError::TrailingBackslash),
                Some(e) if e.is_ascii_alphanumeric() => return Err(RegexError::BadEscape { at }),
                Some(e) => {
                    self.pos += 1;
                    Node::Set(ByteSet::single(e))
                }
            },
            b'*' | b'+' | b'?' | b'{' => return Err(RegexError::NothingToRepeat { at }),
            other => Node::Set(ByteSet::single(other)),
        })
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, RegexError> {
        let at = self.pos;
        let (min, max) = match self.peek() {
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'?') => (0, Some(1)),
            Some(b'{') => {
                self.pos += 1;
                let (min, max) = self.interval(at)?;
                self.pos -= 1;
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if matches!(self.peek(), Some(b'*' | b'+' | b'?' | b'{')) {
            return Err(RegexError::StackedQuantifier { at: self.pos });
        }
        Ok(Node::Repeat { node: Box::new(atom), min, max })
    }

    /// After `{`: `n}`, `n,}` or `n,m}`; leaves `pos` after the `}`.
    fn interval(&mut self, at: usize) -> Result<(u32, Option<u32>), RegexError> {
        let min = self.number().ok_or(RegexError::BadInterval { at })?;
        let max = if self.peek() == Some(b',') {
            self.pos += 1;
            if self.peek() == Some(b'}') {
                None
            } else {
                Some(self.number().ok_or(RegexError::BadInterval { at })?)
            }
        } else {
            Some(min)
        };
        if self.peek() != Some(b'}') || max.is_some_and(|m| m < min) {
            return Err(RegexError::BadInterval { at });
        }
        self.pos += 1;
        Ok((min, max))
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = self.s.get(start..self.pos)?;
        if digits.is_empty() || digits.len() > 3 {
            return None;
        }
        let n = digits.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
        (n <= MAX_REPEAT).then_some(n)
    }

    /// After `[`: the members up to the closing `]`.
    fn bracket(&mut self, at: usize) -> Result<ByteSet, RegexError> {
        let mut set = ByteSet::EMPTY;
        let negated = self.peek() == Some(b'^');
        if negated {
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or(RegexError::UnterminatedClass { at })?;
            let here = self.pos;
            self.pos += 1;
            match c {
                b']' if !first => break,
                b'\\' => return Err(RegexError::BackslashInClass { at: here }),
                b'[' if matches!(self.peek(), Some(b'.' | b'=')) => return Err(RegexError::Collating { at: here }),
                b'[' if self.peek() == Some(b':') => {
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c.is_ascii_lowercase()) {
                        self.pos += 1;
                    }
                    let name = self.s.get(start..self.pos).unwrap_or_default();
                    if self.s.get(self.pos..self.pos + 2) != Some(b":]") {
                        return Err(RegexError::UnknownClassName { at: here });
                    }
                    self.pos += 2;
                    named_class(name, &mut set).ok_or(RegexError::UnknownClassName { at: here })?;
                }
                lo => {
                    // `a-z`, unless the `-` is last (`[a-]`).
                    if self.peek() == Some(b'-') && self.s.get(self.pos + 1).is_some_and(|&n| n != b']') {
                        let hi = self.s.get(self.pos + 1).copied().ok_or(RegexError::UnterminatedClass { at })?;
                        if hi == b'\\' {
                            return Err(RegexError::BackslashInClass { at: self.pos + 1 });
                        }
                        if hi == b'[' {
                            return Err(RegexError::BadRange { at: here });
                        }
                        if hi < lo {
                            return Err(RegexError::BadRange { at: here });
                        }
                        self.pos += 2;
                        set.insert_range(lo, hi);
                    } else {
                        set.insert(lo);
                    }
                }
            }
            first = false;
        }
        if negated {
            set.negate();
        }
        Ok(set)
    }
}

fn named_class(name: &[u8], set: &mut ByteSet) -> Option<()> {
    let pred: fn(&u8) -> bool = match name {
        b"alpha" => u8::is_ascii_alphabetic,
        b"digit" => u8::is_ascii_digit,
        b"alnum" => u8::is_ascii_alphanumeric,
        b"upper" => u8::is_ascii_uppercase,
        b"lower" => u8::is_ascii_lowercase,
        b"space" => |c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 11 | 12),
        b"blank" => |c| matches!(c, b' ' | b'\t'),
        b"punct" => u8::is_ascii_punctuation,
        b"print" => |c| (0x20..0x7f).contains(c),
        b"graph" => u8::is_ascii_graphic,
        b"cntrl" => u8::is_ascii_control,
        b"xdigit" => u8::is_ascii_hexdigit,
        _ => return None,
    };
    for b in 0..=255u8 {
        if pred(&b) {
            set.insert(b);
        }
    }
    Some(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Inst {
    Set(ByteSet),
    Split(usize, usize),
    Jmp(usize),
    Start,
    End,
    Match,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    prog: Vec<Inst>,
}

struct Compiler {
    prog: Vec<Inst>,
}

impl Compiler {
    fn push(&mut self, i: Inst) -> Result<usize, RegexError> {
        if self.prog.len() >= MAX_PROGRAM {
            return Err(RegexError::TooBig);
        }
        self.prog.push(i);
        Ok(self.prog.len() - 1)
    }

    fn patch(&mut self, at: usize, i: Inst) {
        if let Some(slot) = self.prog.get_mut(at) {
            *slot = i;
        }
    }

    fn emit(&mut self, n: &Node) -> Result<(), RegexError> {
        match n {
            Node::Empty => {}
            Node::Set(s) => {
                self.push(Inst::Set(*s))?;
            }
            Node::Start => {
                self.push(Inst::Start)?;
            }
            Node::End => {
                self.push(Inst::End)?;
            }
            Node::Concat(items) => {
                for i in items {
                    self.emit(i)?;
                }
            }
            Node::Alt(alts) => {
                let mut jumps = Vec::new();
                let last = alts.len().saturating_sub(1);
                for (i, a) in alts.iter().enumerate() {
                    if i < last {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(a)?;
                        jumps.push(self.push(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.patch(split, Inst::Split(split + 1, next));
                    } else {
                        self.emit(a)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.patch(j, Inst::Jmp(end));
                }
            }
            Node::Repeat { node, min, max } => {
                for _ in 0..*min {
                    self.emit(node)?;
                }
                match max {
                    None => {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(node)?;
                        self.push(Inst::Jmp(split))?;
                        let out = self.prog.len();
                        self.patch(split, Inst::Split(split + 1, out));
                    }
                    Some(max) => {
                        // (e(e(e)?)?)? : each optional copy is entered only after the previous one.
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.push(Inst::Split(0, 0))?);
                            self.emit(node)?;
                        }
                        let out = self.prog.len();
                        for s in splits {
                            self.patch(s, Inst::Split(s + 1, out));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A set of program counters with O(1) insert, test and clear.
struct Sparse {
    dense: Vec<usize>,
    sparse: Vec<usize>,
}

impl Sparse {
    fn new(n: usize) -> Sparse {
        Sparse { dense: Vec::with_capacity(n), sparse: vec![0; n] }
    }
    fn contains(&self, pc: usize) -> bool {
        self.sparse.get(pc).and_then(|&i| self.dense.get(i)) == Some(&pc)
    }
    fn insert(&mut self, pc: usize) {
        if let Some(slot) = self.sparse.get_mut(pc) {
            *slot = self.dense.len();
            self.dense.push(pc);
        }
    }
    fn clear(&mut self) {
        self.dense.clear();
    }
}

impl Regex {
    pub fn new(pattern: &[u8]) -> Result<Regex, RegexError> {
        Regex::from_node(&parse(pattern)?)
    }

    pub fn from_node(node: &Node) -> Result<Regex, RegexError> {
        let mut c = Compiler { prog: Vec::new() };
        c.emit(node)?;
        c.push(Inst::Match)?;
        Ok(Regex { prog: c.prog })
    }

    /// True when the pattern matches somewhere in `hay`.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        let n = self.prog.len();
        let mut current = Sparse::new(n);
        let mut next = Sparse::new(n);
        let mut stack = Vec::new();
        if self.close(&mut current, &mut stack, 0, 0, hay.len()) {
            return true;
        }
        for (pos, &b) in hay.iter().enumerate() {
            next.clear();
            for &pc in &current.dense {
                if let Some(Inst::Set(s)) = self.prog.get(pc) {
                    if s.contains(b) && self.close(&mut next, &mut stack, pc + 1, pos + 1, hay.len()) {
                        return true;
                    }
                }
            }
            // Unanchored search: a new attempt starts at every position.
            if self.close(&mut next, &mut stack, 0, pos + 1, hay.len()) {
                return true;
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }

    /// Adds `pc` and everything reachable from it without consuming input at `pos` to `list`;
    /// true if that reaches Match. Iterative, so no pattern can exhaust the call stack.
    fn close(&self, list: &mut Sparse, stack: &mut Vec<usize>, pc: usize, pos: usize, len: usize) -> bool {
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if list.contains(pc) {
                continue;
            }
            list.insert(pc);
            match self.prog.get(pc) {
                Some(Inst::Match) => return true,
                Some(Inst::Jmp(x)) => stack.push(*x),
                Some(Inst::Split(x, y)) => {
                    stack.push(*y);
                    stack.push(*x);
                }
                Some(Inst::Start) if pos == 0 => stack.push(pc + 1),
                Some(Inst::End) if pos == len => stack.push(pc + 1),
                _ => {}
            }
        }
        false
    }
}

/// An obviously-correct (and slow) matcher over the syntax tree: the set of end positions each
/// node can reach. Differential fuzzing compares the NFA against it on small inputs.
pub mod reference {
    use super::Node;
    use std::collections::BTreeSet;

    fn ends(n: &Node, hay: &[u8], starts: &BTreeSet<usize>) -> BTreeSet<usize> {
        match n {
            Node::Empty => starts.clone(),
            Node::Set(s) => {
                starts.iter().filter(|&&p| hay.get(p).is_some_and(|&b| s.contains(b))).map(|p| p + 1).collect()
            }
            Node::Start => starts.iter().copied().filter(|&p| p == 0).collect(),
            Node::End => starts.iter().copied().filter(|&p| p == hay.len()).collect(),
            Node::Concat(items) => items.iter().fold(starts.clone(), |acc, i| ends(i, hay, &acc)),
            Node::Alt(alts) => alts.iter().flat_map(|a| ends(a, hay, starts)).collect(),
            Node::Repeat { node, min, max } => {
                let mut cur = starts.clone();
                for _ in 0..*min {
                    cur = ends(node, hay, &cur);
                }
                let mut all = cur.clone();
                let mut k = *min;
                while max.is_none_or(|m| k < m) {
                    let next = ends(node, hay, &cur);
                    let fresh: BTreeSet<usize> = next.difference(&all).copied().collect();
                    all.extend(next.iter().copied());
                    if max.is_none() && fresh.is_empty() {
                        break;
                    }
                    cur = if max.is_none() { fresh } else { next };
                    k += 1;
                }
                all
            }
        }
    }

    pub fn is_match(n: &Node, hay: &[u8]) -> bool {
        let starts: BTreeSet<usize> = (0..=hay.len()).collect();
        !ends(n, hay, &starts).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn m(p: &str, h: &str) -> bool {
        let re = Regex::new(p.as_bytes()).unwrap_or_else(|e| panic!("{p}: {e}"));
        let r = re.is_match(h.as_bytes());
        assert_eq!(r, reference::is_match(&parse(p.as_bytes()).unwrap(), h.as_bytes()), "{p} vs {h}");
        r
    }

    #[test]
    fn matches_like_regexec() {
        assert!(m("abc", "xxabcxx"));
        assert!(!m("^abc", "xxabc"));
        assert!(m("^abc$", "abc"));
        assert!(!m("^abc$", "abcd"));
        assert!(m("a.c", "a\nc"));
        assert!(m("^(ab|cd)+$", "abcdab"));
        assert!(!m("^(ab|cd)+$", "abc"));
        assert!(m("^a?b*c+$", "c"));
        assert!(m("^[a-c]{2,3}$", "abc"));
        assert!(!m("^[a-c]{2,3}$", "abca"));
        assert!(m("^x{3}$", "xxx"));
        assert!(m("^x{2,}$", "xxxxx"));
        assert!(!m("^x{2,}$", "x"));
        assert!(m("^[^/]+$", "name"));
        assert!(!m("^[^/]+$", "a/b"));
        assert!(m("^[]a]+$", "]a]"));
        assert!(m("^[a-]+$", "-a-"));
        assert!(m("^[[:digit:][:upper:]]+$", "A1Z9"));
        assert!(m(r"^/usr/bin/\.hidden$", "/usr/bin/.hidden"));
        assert!(!m(r"^/usr/bin/\.hidden$", "/usr/bin/xhidden"));
        assert!(m("", "anything"));
        assert!(m("a|", "zzz"));
        assert!(m("()", ""));
        assert!(!m("x^", "x"));
        assert!(m("$^", ""));
        assert!(!m("[^a]", "a"));
        assert!(m("[^a]", "ab"));
    }

    #[test]
    fn matches_bytes_not_characters() {
        let re = Regex::new(b"^.$").unwrap();
        assert!(re.is_match(&[0xff]));
        assert!(!re.is_match("é".as_bytes()));
        assert!(Regex::new(b"^..$").unwrap().is_match("é".as_bytes()));
    }

    #[test]
    fn refuses_what_it_would_have_to_guess() {
        let cases: &[(&[u8], RegexError)] = &[
            (b"*a", RegexError::NothingToRepeat { at: 0 }),
            (b"a|*", RegexError::NothingToRepeat { at: 2 }),
            (b"(+)", RegexError::NothingToRepeat { at: 1 }),
            (b"a**", RegexError::StackedQuantifier { at: 2 }),
            (b"a*{2}", RegexError::StackedQuantifier { at: 2 }),
            (b"(a", RegexError::UnmatchedOpen { at: 0 }),
            (b"a)", RegexError::UnmatchedClose { at: 1 }),
            (b"a\\", RegexError::TrailingBackslash),
            (b"\\d", RegexError::BadEscape { at: 0 }),
            (b"(a)\\1", RegexError::BadEscape { at: 3 }),
            (b"[abc", RegexError::UnterminatedClass { at: 0 }),
            (b"[]", RegexError::UnterminatedClass { at: 0 }),
            (b"[z-a]", RegexError::BadRange { at: 1 }),
            (b"[\\n]", RegexError::BackslashInClass { at: 1 }),
            (b"[a-\\]", RegexError::BackslashInClass { at: 3 }),
            (b"[[:word:]]", RegexError::UnknownClassName { at: 1 }),
            (b"[[:alpha]", RegexError::UnknownClassName { at: 1 }),
            (b"[[.a.]]", RegexError::Collating { at: 1 }),
            (b"a{", RegexError::BadInterval { at: 1 }),
            (b"a{2,1}", RegexError::BadInterval { at: 1 }),
            (b"a{256}", RegexError::BadInterval { at: 1 }),
            (b"a{1,2", RegexError::BadInterval { at: 1 }),
            (b"a{,2}", RegexError::BadInterval { at: 1 }),
            (b"{1}", RegexError::NothingToRepeat { at: 0 }),
        ];
        for (p, e) in cases {
            assert_eq!(Regex::new(p).unwrap_err(), *e, "{:?}", String::from_utf8_lossy(p));
        }
    }

    #[test]
    fn refuses_patterns_too_large_to_run_in_bounded_time() {
        assert_eq!(Regex::new(&vec![b'a'; MAX_PATTERN + 1]), Err(RegexError::TooLong));
        assert_eq!(Regex::new(b"((a{255}){255}){255}"), Err(RegexError::TooBig));
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(matches!(Regex::new(deep.as_bytes()), Err(RegexError::TooDeep { .. })));
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
        assert!(Regex::new(ok.as_bytes()).is_ok());
    }

    fn fast(p: &[u8], hay: &[u8], expect: bool) {
        let re = Regex::new(p).unwrap();
        let t = Instant::now();
        assert_eq!(re.is_match(hay), expect);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?} took {:?}", String::from_utf8_lossy(p), t.elapsed());
    }

    #[test]
    fn nested_stars_do_not_backtrack() {
        let a = vec![b'a'; 10_000];
        fast(b"(a*)*b", &a, false);
        fast(b"(a|a)*b", &a, false);
        fast(b"(a|aa)+$", &a, true);
        fast(b"^(a?){30}a{30}$", &[b'a'; 30], true);
        fast(b"(x+x+)+y", &vec![b'x'; 10_000], false);
        fast(b"((a*)*)*(b|c)", &a, false);
        fast(b"(.*)*(.*)*(.*)*z", &a, false);
    }

    #[test]
    fn large_bounded_program_stays_linear() {
        let re = Regex::new(b"[a-z]{200}[0-9]{200}x").unwrap();
        let hay = vec![b'a'; 100_000];
        let t = Instant::now();
        assert!(!re.is_match(&hay));
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
