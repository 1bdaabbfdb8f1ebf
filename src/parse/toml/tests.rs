use super::*;

fn doc(s: &str) -> Document {
    parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn root(s: &str) -> Vec<(String, Value)> {
    doc(s).tables[0].entries.iter().map(|e| (e.key.clone(), e.value.clone())).collect()
}

fn value(s: &str) -> Value {
    root(&format!("k = {s}")).remove(0).1
}

fn err(s: &[u8]) -> Error {
    match parse(s) {
        Ok(d) => panic!("{:?} accepted as {d:?}", String::from_utf8_lossy(s)),
        Err(e) => e,
    }
}

fn kind(s: &str) -> ErrorKind {
    err(s.as_bytes()).kind
}

fn pos(s: &str) -> (usize, usize) {
    let e = err(s.as_bytes());
    (e.line, e.col)
}

fn strs(v: &[&str]) -> Value {
    Value::StrArray(v.iter().map(|s| s.to_string()).collect())
}

// Document structure

#[test]
fn empty_input_is_a_document_with_only_the_root_table() {
    let d = doc("");
    assert_eq!(d.tables, vec![Table { name: String::new(), line: 0, array: false, entries: vec![] }]);
}

#[test]
fn keeps_tables_and_entries_in_file_order_with_positions() {
    let d = doc("a = 1\n\n[t]\n  b = 'x'\n[u]\n");
    assert_eq!(d.tables.len(), 3);
    assert_eq!(d.tables[0].entries, vec![Entry { key: "a".into(), value: Value::Int(1), line: 1, col: 1 }]);
    assert_eq!((d.tables[1].name.as_str(), d.tables[1].line), ("t", 3));
    assert_eq!(d.tables[1].entries, vec![Entry { key: "b".into(), value: Value::Str("x".into()), line: 4, col: 3 }]);
    assert_eq!((d.tables[2].name.as_str(), d.tables[2].line, d.tables[2].entries.len()), ("u", 5, 0));
}

#[test]
fn accepts_crlf_line_ends() {
    assert_eq!(doc("a = 1\r\n[t]\r\nb = [\r\n'x', # c\r\n]\r\n").tables.len(), 2);
}

#[test]
fn accepts_comments_blank_lines_and_tabs() {
    assert_eq!(root("# top\n\n\t a\t=\t1\t# why\n   \n# end"), vec![("a".into(), Value::Int(1))]);
}

#[test]
fn accepts_non_ascii_in_comments_and_strings() {
    assert_eq!(root("# grüße\nk = \"日本\""), vec![("k".into(), Value::Str("日本".into()))]);
}

#[test]
fn accepts_exactly_64_kib() {
    let mut s = "a = 1\n".to_string();
    s.push_str(&"#".repeat(MAX_INPUT - s.len()));
    assert_eq!(s.len(), MAX_INPUT);
    doc(&s);
}

#[test]
fn rejects_64_kib_plus_one() {
    let s = "#".repeat(MAX_INPUT + 1);
    assert_eq!(err(s.as_bytes()).kind, ErrorKind::TooLarge);
}

#[test]
fn rejects_byte_order_mark() {
    assert_eq!(err(b"\xEF\xBB\xBFa = 1").kind, ErrorKind::ByteOrderMark);
}

#[test]
fn reports_line_and_column_of_invalid_utf8() {
    let e = err(b"a = 1\nb = \"\xC3\xA4\xFF\"");
    assert_eq!((e.line, e.col, e.kind), (2, 7, ErrorKind::InvalidUtf8));
}

#[test]
fn rejects_truncated_utf8_sequence_at_end() {
    assert_eq!(err(b"# \xE6\x97").kind, ErrorKind::InvalidUtf8);
}

#[test]
fn reports_line_and_column_of_lone_cr() {
    let e = err(b"a = 1\r\nb = 2\r c = 3");
    assert_eq!((e.line, e.col, e.kind), (2, 6, ErrorKind::LoneCarriageReturn));
}

#[test]
fn rejects_lone_cr_inside_comment_and_string() {
    assert_eq!(kind("# a\rb"), ErrorKind::LoneCarriageReturn);
    assert_eq!(kind("a = \"x\ry\""), ErrorKind::LoneCarriageReturn);
    assert_eq!(kind("a = 1\r"), ErrorKind::LoneCarriageReturn);
}

#[test]
fn rejects_nul_outside_strings() {
    assert!(matches!(kind("\0"), ErrorKind::Unexpected { found: '\0', .. }));
    assert!(matches!(kind("a = 1\0"), ErrorKind::Unexpected { found: '\0', .. }));
}

#[test]
fn rejects_control_characters_in_comments_but_not_tab() {
    doc("# a\tb");
    assert_eq!(kind("# a\0b"), ErrorKind::ControlCharacter('\0'));
    assert_eq!(kind("a = 1 # \u{7f}"), ErrorKind::ControlCharacter('\u{7f}'));
    assert_eq!(pos("\n# ab\u{1b}[2J"), (2, 5));
}

// Tables

#[test]
fn accepts_quoted_table_names_and_spaces_around_them() {
    let d = doc("[ \"x y\" ]\n[\t'z'\t]\n[ w ]");
    let names: Vec<_> = d.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["", "x y", "z", "w"]);
}

#[test]
fn rejects_dotted_table_name_as_unsupported() {
    assert_eq!(kind("[a.b]"), ErrorKind::Unsupported("dotted table names"));
    assert_eq!(kind("[ a . b ]"), ErrorKind::Unsupported("dotted table names"));
}

#[test]
fn accepts_arrays_of_tables_as_one_table_per_header_in_file_order() {
    let d = doc("a = 1\n[[h]]\npath = '/x'\n[t]\n[[h]]\npath = '/y'\nn = 2\n[[ j ]]\n");
    let shape: Vec<(&str, usize, bool, usize)> =
        d.tables.iter().map(|t| (t.name.as_str(), t.line, t.array, t.entries.len())).collect();
    assert_eq!(shape, [("", 0, false, 1), ("h", 2, true, 1), ("t", 4, false, 0), ("h", 5, true, 2), ("j", 8, true, 0)]);
    assert_eq!(d.tables[3].entries[0].value, Value::Str("/y".into()));
}

#[test]
fn detects_duplicate_keys_within_one_array_table_instance() {
    let e = err(b"[[h]]\np = 1\n[[h]]\np = 2\np = 3");
    assert_eq!((e.line, e.col), (5, 1));
    assert_eq!(e.kind, ErrorKind::DuplicateKey { key: "p".into(), first_line: 4 });
}

#[test]
fn refuses_a_name_used_as_table_and_as_array_of_tables() {
    let e = err(b"[h]\n[[h]]");
    assert_eq!((e.line, e.kind), (2, ErrorKind::MixedTableKinds { name: "h".into(), first_line: 1 }));
    let e = err(b"[[h]]\n[h]");
    assert_eq!((e.line, e.kind), (2, ErrorKind::MixedTableKinds { name: "h".into(), first_line: 1 }));
}

#[test]
fn refuses_malformed_array_of_tables_headers() {
    assert!(matches!(kind("[[h]"), ErrorKind::UnexpectedEnd { .. }));
    assert!(matches!(kind("[[h] ]"), ErrorKind::Unexpected { found: ' ', .. }));
    assert!(matches!(kind("[ [h]]"), ErrorKind::Unexpected { found: '[', .. }));
    assert!(matches!(kind("[[]]"), ErrorKind::Unexpected { found: ']', .. }));
    assert_eq!(kind("[[a.b]]"), ErrorKind::Unsupported("dotted table names"));
    assert!(matches!(kind("[[h]] x = 1"), ErrorKind::Unexpected { found: 'x', .. }));
    assert_eq!(pos("a = 1\n[[h]\n"), (2, 5));
}

#[test]
fn rejects_duplicate_table_header() {
    let e = err(b"[a]\nx = 1\n[a]");
    assert_eq!((e.line, e.col), (3, 1));
    assert_eq!(e.kind, ErrorKind::DuplicateTable { name: "a".into(), first_line: 1 });
}

#[test]
fn rejects_duplicate_table_header_spelled_quoted() {
    assert!(matches!(kind("[a]\n[\"a\"]"), ErrorKind::DuplicateTable { .. }));
}

#[test]
fn rejects_empty_table_name() {
    assert!(matches!(kind("[]"), ErrorKind::Unexpected { found: ']', .. }));
    assert_eq!(kind("[\"\"]"), ErrorKind::EmptyKey);
}

#[test]
fn rejects_unclosed_table_header() {
    assert!(matches!(kind("[a"), ErrorKind::UnexpectedEnd { .. }));
    assert!(matches!(kind("[a\nb = 1"), ErrorKind::Unexpected { found: '\n', .. }));
    assert!(matches!(kind("[a b]"), ErrorKind::Unexpected { found: 'b', .. }));
}

#[test]
fn rejects_text_after_table_header() {
    assert!(matches!(kind("[a] b = 1"), ErrorKind::Unexpected { found: 'b', .. }));
    doc("[a] # fine");
}

// Keys

#[test]
fn accepts_bare_keys_with_digits_dashes_and_underscores() {
    assert_eq!(root("a-b_C9 = 1\n1234 = 2")[1].0, "1234");
}

#[test]
fn decodes_quoted_keys() {
    let keys: Vec<_> = root("\"a b\" = 1\n'c\\d' = 2\n\"\\u00e9\" = 3").into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a b", "c\\d", "é"]);
}

#[test]
fn rejects_table_named_like_a_root_key() {
    // Found by fuzz/fuzz_targets/toml_diff.rs: TOML refuses both.
    for input in ["d = 3\n[d]\n", "d = 'x'\n[[\"d\"]]\n", "a = 1\nd = 3\n[b]\n[d]\n"] {
        assert!(matches!(kind(input), ErrorKind::DuplicateKey { ref key, .. } if key == "d"), "{input:?}");
    }
    // A key inside one table may share its name with another table.
    assert!(parse(b"[a]\nb = 1\n[b]\na = 2\n").is_ok());
}

#[test]
fn rejects_dotted_key_as_unsupported() {
    assert_eq!(kind("a.b = 1"), ErrorKind::Unsupported("dotted keys"));
    assert_eq!(kind("a .b = 1"), ErrorKind::Unsupported("dotted keys"));
}

#[test]
fn rejects_empty_quoted_key() {
    assert_eq!(kind("\"\" = 1"), ErrorKind::EmptyKey);
    assert_eq!(kind("'' = 1"), ErrorKind::EmptyKey);
}

#[test]
fn rejects_duplicate_key() {
    let e = err(b"a = 1\n a = 2");
    assert_eq!((e.line, e.col), (2, 2));
    assert_eq!(e.kind, ErrorKind::DuplicateKey { key: "a".into(), first_line: 1 });
}

#[test]
fn rejects_duplicate_key_spelled_quoted() {
    assert!(matches!(kind("a = 1\n\"a\" = 2"), ErrorKind::DuplicateKey { .. }));
    assert!(matches!(kind("'a' = 1\n\"\\u0061\" = 2"), ErrorKind::DuplicateKey { .. }));
}

#[test]
fn allows_same_key_in_different_tables() {
    assert_eq!(doc("a = 1\n[t]\na = 2\n[u]\na = 3").tables.len(), 3);
}

#[test]
fn rejects_key_without_equals_or_value() {
    assert!(matches!(kind("a"), ErrorKind::UnexpectedEnd { .. }));
    assert!(matches!(kind("a b = 1"), ErrorKind::Unexpected { found: 'b', .. }));
    assert!(matches!(kind("a =\nb = 1"), ErrorKind::Unexpected { found: '\n', .. }));
    assert!(matches!(kind("a = "), ErrorKind::UnexpectedEnd { .. }));
    assert!(matches!(kind("= 1"), ErrorKind::Unexpected { found: '=', .. }));
}

#[test]
fn rejects_two_entries_on_one_line() {
    assert!(matches!(kind("a = 1 b = 2"), ErrorKind::Unexpected { found: 'b', .. }));
    assert!(matches!(kind("a = \"x\" \"y\""), ErrorKind::Unexpected { found: '"', .. }));
    assert!(matches!(kind("a = 1,"), ErrorKind::Unexpected { found: ',', .. }));
}

#[test]
fn accepts_comment_directly_after_value() {
    assert_eq!(
        root("a = true#c\nb = 'x'#c"),
        vec![("a".into(), Value::Bool(true)), ("b".into(), Value::Str("x".into()))]
    );
}

// Strings

#[test]
fn decodes_every_basic_string_escape() {
    assert_eq!(value(r#""\b\t\n\f\r\"\\\u00E9\U0001F600""#), Value::Str("\u{8}\t\n\u{c}\r\"\\é\u{1F600}".into()));
}

#[test]
fn keeps_literal_strings_verbatim() {
    assert_eq!(value(r"'C:\n\u0000 #x'"), Value::Str(r"C:\n\u0000 #x".into()));
}

#[test]
fn accepts_empty_strings_as_values() {
    assert_eq!(value("\"\""), Value::Str(String::new()));
    assert_eq!(value("''"), Value::Str(String::new()));
}

#[test]
fn accepts_escaped_nul_and_leaves_refusal_to_the_caller() {
    assert_eq!(value("\"a\\u0000b\""), Value::Str("a\0b".into()));
}

#[test]
fn accepts_tab_inside_strings() {
    assert_eq!(value("\"a\tb\""), Value::Str("a\tb".into()));
    assert_eq!(value("'a\tb'"), Value::Str("a\tb".into()));
}

#[test]
fn rejects_unknown_escape() {
    assert_eq!(kind(r#"a = "\x41""#), ErrorKind::InvalidEscape('x'));
    assert_eq!(kind(r#"a = "\e""#), ErrorKind::InvalidEscape('e'));
    assert_eq!(kind(r#"a = "\ ""#), ErrorKind::InvalidEscape(' '));
    assert_eq!(pos(r#"a = "ok\q""#), (1, 8));
}

#[test]
fn rejects_surrogate_unicode_escape() {
    assert_eq!(kind(r#"a = "\uD800""#), ErrorKind::InvalidUnicodeEscape);
    assert_eq!(kind(r#"a = "\U0000DFFF""#), ErrorKind::InvalidUnicodeEscape);
}

#[test]
fn rejects_unicode_escape_beyond_last_code_point() {
    assert_eq!(kind(r#"a = "\U00110000""#), ErrorKind::InvalidUnicodeEscape);
    assert_eq!(kind(r#"a = "\UFFFFFFFF""#), ErrorKind::InvalidUnicodeEscape);
}

#[test]
fn rejects_short_unicode_escape() {
    assert_eq!(kind(r#"a = "\u12""#), ErrorKind::InvalidUnicodeEscape);
    assert_eq!(kind(r#"a = "\U1234567""#), ErrorKind::InvalidUnicodeEscape);
    assert_eq!(kind(r#"a = "\u+123""#), ErrorKind::InvalidUnicodeEscape);
    assert_eq!(kind("a = \"\\u12"), ErrorKind::InvalidUnicodeEscape);
}

#[test]
fn rejects_backslash_at_end_of_input() {
    assert_eq!(kind("a = \"\\"), ErrorKind::UnterminatedString);
}

#[test]
fn reports_start_of_unterminated_string() {
    let e = err(b"a = 1\nb = \"abc\nc = 2");
    assert_eq!((e.line, e.col, e.kind), (2, 5, ErrorKind::UnterminatedString));
    assert_eq!(kind("b = 'abc"), ErrorKind::UnterminatedString);
    assert_eq!(kind("b = \"abc\r\n\""), ErrorKind::UnterminatedString);
}

#[test]
fn rejects_raw_control_characters_in_strings() {
    for c in ['\0', '\u{1}', '\u{1f}', '\u{7f}'] {
        assert_eq!(kind(&format!("a = \"x{c}\"")), ErrorKind::ControlCharacter(c));
        assert_eq!(kind(&format!("a = 'x{c}'")), ErrorKind::ControlCharacter(c));
    }
    assert_eq!(pos("a = 'ab\0'"), (1, 8));
}

#[test]
fn rejects_multi_line_strings_as_unsupported() {
    assert_eq!(kind("a = \"\"\"x\"\"\""), ErrorKind::Unsupported("multi-line strings"));
    assert_eq!(kind("a = '''x'''"), ErrorKind::Unsupported("multi-line strings"));
    assert_eq!(kind("a = [\"\"\"x\"\"\"]"), ErrorKind::Unsupported("multi-line strings"));
}

// Integers

#[test]
fn accepts_decimal_integers_with_sign_and_underscores() {
    assert_eq!(value("0"), Value::Int(0));
    assert_eq!(value("+0"), Value::Int(0));
    assert_eq!(value("-0"), Value::Int(0));
    assert_eq!(value("+42"), Value::Int(42));
    assert_eq!(value("-17"), Value::Int(-17));
    assert_eq!(value("1_000_000"), Value::Int(1_000_000));
    assert_eq!(value("5_3_4"), Value::Int(534));
}

#[test]
fn accepts_the_extremes_of_i64() {
    assert_eq!(value("9223372036854775807"), Value::Int(i64::MAX));
    assert_eq!(value("-9223372036854775808"), Value::Int(i64::MIN));
}

#[test]
fn rejects_integer_just_beyond_i64() {
    assert_eq!(kind("a = 9223372036854775808"), ErrorKind::IntegerOutOfRange);
    assert_eq!(kind("a = -9223372036854775809"), ErrorKind::IntegerOutOfRange);
}

#[test]
fn rejects_huge_integer() {
    assert_eq!(kind(&format!("a = {}", "9".repeat(60_000))), ErrorKind::IntegerOutOfRange);
}

#[test]
fn rejects_leading_zeros() {
    for v in ["01", "00", "-01", "+007", "0_1"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::LeadingZero, "{v}");
    }
}

#[test]
fn rejects_underscores_not_between_digits() {
    for v in ["1_", "1__2", "-1_", "+1__0"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::MisplacedUnderscore, "{v}");
    }
    for v in ["_1", "-_1", "+_1"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::InvalidValue, "{v}");
    }
}

#[test]
fn rejects_malformed_integers() {
    for v in ["1a", "1-2", "1+", "12abc", "-1-"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::InvalidInteger, "{v}");
    }
    for v in ["+", "-", "+-1", "--1"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::InvalidValue, "{v}");
    }
}

#[test]
fn rejects_hex_octal_and_binary_as_unsupported() {
    for v in ["0xff", "0o17", "0b101", "0xDEAD_BEEF"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::Unsupported("hexadecimal, octal and binary integers"));
    }
}

// Other values

#[test]
fn accepts_booleans() {
    assert_eq!(value("true"), Value::Bool(true));
    assert_eq!(value("false"), Value::Bool(false));
}

#[test]
fn rejects_misspelled_booleans() {
    for v in ["True", "FALSE", "yes", "on", "truex", "t"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::InvalidValue, "{v}");
    }
}

#[test]
fn reports_line_and_column_of_float() {
    let e = err(b"a = 1\n\n  b =  3.14");
    assert_eq!((e.line, e.col, e.kind), (3, 8, ErrorKind::Unsupported("floats")));
}

#[test]
fn rejects_every_float_spelling_as_unsupported() {
    for v in ["1.0", "-0.5", "1e6", "1E-6", "6.02e+23", "inf", "-inf", "nan", "+nan", "1_0.0"] {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::Unsupported("floats"), "{v}");
    }
}

#[test]
fn rejects_dates_and_times_as_unsupported() {
    for v in
        ["1979-05-27", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00", "07:32:00", "1979-05-27T00:32:00.999999-07:00"]
    {
        assert_eq!(kind(&format!("a = {v}")), ErrorKind::Unsupported("dates and times"), "{v}");
    }
}

#[test]
fn rejects_inline_table_as_unsupported() {
    assert_eq!(kind("a = { b = 1 }"), ErrorKind::Unsupported("inline tables"));
}

#[test]
fn rejects_bare_words_and_stray_characters_as_values() {
    assert_eq!(kind("a = hello"), ErrorKind::InvalidValue);
    assert!(matches!(kind("a = @"), ErrorKind::Unexpected { found: '@', .. }));
    assert!(matches!(kind("a = ]"), ErrorKind::Unexpected { found: ']', .. }));
}

// Arrays

#[test]
fn accepts_arrays_of_strings_of_both_quotings() {
    assert_eq!(value("[\"a\", 'b']"), strs(&["a", "b"]));
}

#[test]
fn accepts_empty_array() {
    assert_eq!(value("[]"), strs(&[]));
    assert_eq!(value("[ \n # nothing\n ]"), strs(&[]));
}

#[test]
fn accepts_multi_line_array_with_comments_and_trailing_comma() {
    let v = value("[ # issuers\n  \"a\", # first\n\n  'b' # second\n  ,\n  \"c\",\n]  # done");
    assert_eq!(v, strs(&["a", "b", "c"]));
}

#[test]
fn rejects_array_with_missing_or_doubled_comma() {
    assert!(matches!(kind("a = [\"x\" \"y\"]"), ErrorKind::Unexpected { found: '"', .. }));
    assert!(matches!(kind("a = [\"x\",,]"), ErrorKind::Unexpected { found: ',', .. }));
    assert!(matches!(kind("a = [,]"), ErrorKind::Unexpected { found: ',', .. }));
}

#[test]
fn reports_start_of_unterminated_array() {
    let e = err(b"x = 1\na = [\"x\",\n\"y\"\n");
    assert_eq!((e.line, e.col, e.kind), (2, 5, ErrorKind::UnterminatedArray));
    assert_eq!(kind("a = ["), ErrorKind::UnterminatedArray);
}

#[test]
fn rejects_arrays_of_other_types_naming_them() {
    assert_eq!(kind("a = [1, 2]"), ErrorKind::Unsupported("arrays of integers"));
    assert_eq!(kind("a = [\"x\", true]"), ErrorKind::Unsupported("arrays of booleans"));
    assert_eq!(kind("a = [1.5]"), ErrorKind::Unsupported("floats"));
    assert_eq!(kind("a = [{}]"), ErrorKind::Unsupported("arrays of inline tables"));
    assert_eq!(pos("a = [\"x\",\n  7]"), (2, 3));
}

#[test]
fn rejects_nested_arrays_as_unsupported() {
    assert_eq!(kind("a = [[\"x\"]]"), ErrorKind::Unsupported("nested arrays"));
    assert_eq!(kind("a = [\"x\", []]"), ErrorKind::Unsupported("nested arrays"));
}

#[test]
fn rejects_control_character_in_array_comment() {
    assert_eq!(kind("a = [ # \u{7}\n]"), ErrorKind::ControlCharacter('\u{7}'));
}

// Hostile inputs

#[test]
fn refuses_deeply_bracketed_input_without_recursing() {
    assert_eq!(kind(&format!("a = {}", "[".repeat(60_000))), ErrorKind::Unsupported("nested arrays"));
    assert!(matches!(kind(&"[".repeat(60_000)), ErrorKind::Unexpected { found: '[', expected: "a table name" }));
    assert_eq!(
        kind(&"{".repeat(60_000)),
        ErrorKind::Unexpected { found: '{', expected: "a key, a [table] header or a # comment" }
    );
}

#[test]
fn handles_many_distinct_keys_quickly() {
    let mut s = String::new();
    for i in 0..8_000 {
        s.push_str(&format!("k{i}=1\n"));
    }
    assert!(s.len() <= MAX_INPUT);
    assert_eq!(doc(&s).tables[0].entries.len(), 8_000);
    s.push_str("k0=1\n");
    assert!(matches!(kind(&s), ErrorKind::DuplicateKey { first_line: 1, .. }));
}

#[test]
fn handles_many_tables_quickly() {
    let s: String = (0..6_000).map(|i| format!("[t{i}]\n")).collect();
    assert!(s.len() <= MAX_INPUT);
    assert_eq!(doc(&s).tables.len(), 6_001);
}

#[test]
fn handles_long_array_and_long_string() {
    let items = vec!["'x'"; 12_000].join(",");
    assert!(matches!(value(&format!("[{items}]")), Value::StrArray(v) if v.len() == 12_000));
    assert!(matches!(value(&format!("\"{}\"", "é".repeat(30_000))), Value::Str(s) if s.len() == 60_000));
}

#[test]
fn never_panics_on_any_prefix_of_a_valid_document() {
    let full = "# c\na = \"x\\u00e9\" # c\nb = -1_0\n[t]\n'k' = [ 'a',\r\n \"b\" ,\n]\nc = true\n";
    for i in 0..=full.len() {
        let _ = parse(&full.as_bytes()[..i]);
    }
}

#[test]
fn displays_errors_with_position_in_plain_words() {
    let e = err(b"[security]\nallowed = 1.5");
    assert_eq!(e.to_string(), "line 2, column 11: floats are not supported in this subset of TOML");
    let e = err(b"a = \"\x1b[2J\"");
    assert_eq!(
        e.to_string(),
        "line 1, column 6: control character U+001B is not allowed here (inside a \"string\" write it as an escape)"
    );
    let e = err(b"a = 1\na = 2");
    assert_eq!(e.to_string(), "line 2, column 1: duplicate key \"a\" (first set on line 1)");
    let e = err(b"a = 1 x");
    assert_eq!(e.to_string(), "line 1, column 7: found 'x' where the end of the line (or a # comment) was expected");
}

// Differential check against the reference `toml` crate.

fn reference(d: &Document) -> ::toml::Value {
    fn convert(v: &Value) -> ::toml::Value {
        match v {
            Value::Str(s) => ::toml::Value::String(s.clone()),
            Value::Int(i) => ::toml::Value::Integer(*i),
            Value::Bool(b) => ::toml::Value::Boolean(*b),
            Value::StrArray(a) => ::toml::Value::Array(a.iter().cloned().map(::toml::Value::String).collect()),
        }
    }
    let entries = |t: &Table| t.entries.iter().map(|e| (e.key.clone(), convert(&e.value))).collect::<::toml::Table>();
    let mut top = entries(&d.tables[0]);
    for t in &d.tables[1..] {
        if t.array {
            let slot = top.entry(t.name.clone()).or_insert_with(|| ::toml::Value::Array(Vec::new()));
            if let ::toml::Value::Array(items) = slot {
                items.push(::toml::Value::Table(entries(t)));
            }
        } else {
            top.insert(t.name.clone(), ::toml::Value::Table(entries(t)));
        }
    }
    ::toml::Value::Table(top)
}

#[test]
fn agrees_with_reference_toml_crate_on_accepted_documents() {
    let accepted = [
            "",
            "\n\n# only a comment\n",
            "a = 1\nb = -9223372036854775808\nc = 9223372036854775807\nd = +0\ne = 1_000",
            "s = \"\\b\\t\\n\\f\\r\\\"\\\\\\u00e9\\U0001F600\"\nl = 'C:\\x\\y'\nempty = \"\"",
            "t = true\nf = false # trailing comment",
            "arr = [ # c\n  \"a\",\n  'b', # c\n]\nnone = []\none = [\"x\"]",
            "[security]\nallowed_issuers = [\"https://id.example.com\"]\noffline = false\n[tls]\n[keys]\n\"https://id.example.com\" = \"/etc/k.json\"",
            "\"quoted key\" = 1\n'lit key' = 2\n\"\\u0041\" = 3\n[\"quoted table\"]\nx = 'y'\n[ 'lit' ]\ny = 1",
            "a = 1\r\n[t]\r\nb = [\r\n 'x',\r\n]\r\n",
            "\ta\t=\t'tab\there'\t#\ttab\n",
            "k = \"日本語\" # ünïcode",
            "1234 = 1\n-_- = 2\ntrue = 3",
            "[[helmet]]\npath = \"/a\"\nparams = [\"A=1\"]\n[[helmet]]\npath = \"/b\"\ntimeout = 3\n[security]\n[[jacket]]\n",
            "x = 1\n[[ \"quoted\" ]]\n[['lit']]\nk = 'v'\n[[quoted]]\n[[\"lit\"]]\n",
        ];
    for s in accepted {
        let ours = reference(&doc(s));
        let theirs = ::toml::from_str::<::toml::Value>(s).unwrap_or_else(|e| panic!("{s:?}: reference rejects: {e}"));
        assert_eq!(ours, theirs, "{s:?}");
    }
}

#[test]
fn agrees_with_reference_toml_crate_on_invalid_documents() {
    let invalid = [
        "a = 1\na = 2",
        "a = 1\n\"a\" = 2",
        "[a]\n[a]",
        "a = 01",
        "a = 1__0",
        "a = _1",
        "a = 1_",
        "a = 9223372036854775808",
        "a = \"\\x41\"",
        "a = \"\\uD800\"",
        "a = \"unterminated",
        "a = 'x\0y'",
        "# nul \0 here",
        "a = 1\rb = 2",
        "a = [\"x\",,]",
        "a = [,]",
        "a = ",
        "a = 1 b = 2",
        "[a] b = 1",
        "= 1",
        "a = True",
        "[]",
        "[a]\n[[a]]",
        "[[a]]\n[a]",
        "[[a]]\nx = 1\nx = 2",
        "[[a]",
        "[[a] ]",
        "[[]]",
    ];
    for s in invalid {
        assert!(::toml::from_str::<::toml::Value>(s).is_err(), "reference accepts {s:?}");
        assert!(parse(s.as_bytes()).is_err(), "we accept {s:?}");
    }
}
