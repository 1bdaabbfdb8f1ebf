//! Differential: escapes::fuzz_entry::parse::json::parse against serde_json (with `float_roundtrip`, so its floats
//! are correctly rounded).
//! - Whatever escapes accepts, serde_json accepts with equal values. Int(i) must be the same
//!   integer; Number(raw) must be the same f64 (and the same u64/i64 when serde_json keeps it as
//!   an integer).
//! - Whatever serde_json accepts, escapes accepts, except for its deliberate refusals:
//!   duplicate member names (serde_json keeps the last), lone surrogates, nesting deeper than
//!   `escapes::fuzz_entry::parse::json::MAX_DEPTH`.
//! Deliberate difference the other way: a number beyond f64's range (`1e400`) is accepted by
//!   escapes (kept as text, `Value::Number`) and refused by serde_json ("number out of range").
#![no_main]
use escapes::fuzz_entry::parse::json::{ErrorKind, Value, MAX_DEPTH};

fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (ours, theirs) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Str(a), J::String(b)) => a == b,
        (Value::Int(i), J::Number(n)) => {
            // "-0" is an f64 (-0.0) for serde_json.
            n.as_i64() == Some(*i) || (n.is_f64() && n.as_f64() == Some(*i as f64))
        }
        (Value::Number(raw), J::Number(n)) => {
            let ok_f64 = raw.parse::<f64>().ok() == n.as_f64();
            let ok_int = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => raw.parse::<u64>().ok() == Some(u),
                (None, Some(i)) => raw.parse::<i64>().ok() == Some(i),
                (None, None) => true,
            };
            ok_f64 && ok_int
        }
        (Value::Array(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), J::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

/// A number whose magnitude overflows f64: the one thing escapes accepts and serde_json refuses.
fn out_of_f64_range(v: &Value) -> bool {
    match v {
        Value::Number(raw) => raw.parse::<f64>().map_or(true, |f| f.is_infinite()),
        Value::Array(items) => items.iter().any(out_of_f64_range),
        Value::Object(members) => members.iter().any(|(_, v)| out_of_f64_range(v)),
        _ => false,
    }
}

/// Deepest bracket nesting in the text, outside strings.
fn nesting(data: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for &b in data {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_str = true,
                b'[' | b'{' => {
                    depth += 1;
                    max = max.max(depth);
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    max
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ours = escapes::fuzz_entry::parse::json::parse(data);
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert!(same(a, b), "different values: {a:?} vs {b:?}"),
        (Err(_), Err(_)) => {}
        (Ok(a), Err(e)) => assert!(out_of_f64_range(a), "escapes accepts, serde_json refuses ({e}): {a:?}"),
        (Err(e), Ok(b)) => match e.kind {
            ErrorKind::DuplicateKey | ErrorKind::LoneSurrogate => {}
            ErrorKind::TooDeep => assert!(nesting(data) > MAX_DEPTH, "TooDeep at depth {}", nesting(data)),
            _ => panic!("serde_json accepts, escapes refuses ({e}): {b:?}"),
        },
    }
});
