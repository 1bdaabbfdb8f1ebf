//! Differential: whatever escapes::fuzz_entry::parse::toml::parse accepts, the `toml` crate accepts too, with the
//! same values. (The converse does not hold: escapes parses a subset.)
#![no_main]
use escapes::fuzz_entry::parse::toml::{Document, Value};

fn value(v: &Value) -> toml::Value {
    match v {
        Value::Str(s) => toml::Value::String(s.clone()),
        Value::Int(i) => toml::Value::Integer(*i),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::StrArray(a) => toml::Value::Array(a.iter().map(|s| toml::Value::String(s.clone())).collect()),
    }
}

/// The document as the `toml` crate would build it; `None` if two names collide (which TOML
/// forbids, so escapes must not have accepted it).
fn expected(doc: &Document) -> Option<toml::Table> {
    fn entries(t: &escapes::fuzz_entry::parse::toml::Table) -> Option<toml::Table> {
        let mut out = toml::Table::new();
        for e in &t.entries {
            if out.insert(e.key.clone(), value(&e.value)).is_some() {
                return None;
            }
        }
        Some(out)
    }
    let (root, rest) = doc.tables.split_first()?;
    assert_eq!(root.name, "");
    let mut out = entries(root)?;
    for t in rest {
        let body = toml::Value::Table(entries(t)?);
        if t.array {
            match out.entry(t.name.clone()).or_insert_with(|| toml::Value::Array(Vec::new())) {
                toml::Value::Array(items) => items.push(body),
                _ => return None,
            }
        } else if out.insert(t.name.clone(), body).is_some() {
            return None;
        }
    }
    Some(out)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(doc) = escapes::fuzz_entry::parse::toml::parse(data) else { return };
    let text = std::str::from_utf8(data).expect("escapes accepted invalid UTF-8");
    let theirs: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => panic!("escapes accepted what toml refuses: {e}\n{doc:?}"),
    };
    let ours = expected(&doc).unwrap_or_else(|| panic!("escapes accepted colliding names: {doc:?}"));
    assert_eq!(ours, theirs, "escapes and toml read different values");
});
