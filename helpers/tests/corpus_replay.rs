//! Replays every committed fuzz seed (helpers/fuzz/corpus/<target>) through the entry points the
//! fuzz targets use, so plain `cargo test` exercises the corpora without a fuzzer.

use std::fs;
use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.unwrap().path();
        if path.is_file() {
            entry(&fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "corpus {target} is empty: commit at least one seed");
}

#[test]
fn timebox_spec() {
    replay("timebox_spec", escapes_helpers::fuzz_entry::timebox_spec);
}

#[test]
fn envauth_regex() {
    replay("envauth_regex", escapes_helpers::fuzz_entry::envauth_regex);
}

#[test]
fn stamp_spec() {
    replay("stamp_spec", escapes_helpers::fuzz_entry::stamp_spec);
}

#[test]
fn stamp_wire() {
    replay("stamp_wire", escapes_helpers::fuzz_entry::stamp_wire);
}

#[test]
fn reply_set() {
    replay("reply_set", escapes_helpers::fuzz_entry::reply_set);
}

#[test]
fn reply_relay() {
    replay("reply_relay", escapes_helpers::fuzz_entry::reply_relay);
}

#[test]
fn sheval_command() {
    replay("sheval_command", escapes_helpers::fuzz_entry::sheval_command);
}

#[test]
fn xdisplay_input() {
    replay("xdisplay_input", escapes_helpers::fuzz_entry::xdisplay_input);
}

#[test]
fn passwd_file() {
    replay("passwd_file", escapes_helpers::fuzz_entry::passwd_file);
}

#[test]
fn sproxy_template() {
    replay("sproxy_template", escapes_helpers::fuzz_entry::sproxy_template);
}

#[test]
fn invocation_argv() {
    replay("invocation_argv", escapes_helpers::fuzz_entry::invocation_argv);
}

#[test]
fn coat_list() {
    replay("coat_list", escapes_helpers::fuzz_entry::coat_list);
}
