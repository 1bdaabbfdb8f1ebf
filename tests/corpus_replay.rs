//! Replays every committed fuzz corpus file through the same entry points the fuzz targets use,
//! so each `cargo test` run exercises the corpora on stable Rust without a fuzzer.

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

macro_rules! corpus_tests {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            replay(stringify!($name), escapes::fuzz_entry::$name);
        }
    )*};
}

corpus_tests!(
    toml,
    config,
    config_edit,
    base64url,
    json,
    jwt,
    jwks,
    ed25519,
    passwd,
    group,
    cli,
    http,
    pem,
    dns,
    hosts,
    jacket_reply,
    handoff,
    proc_status,
    proc_stat,
    facts,
    journal_export,
    syslog_file
);
