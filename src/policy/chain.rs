//! The audit log's hash chain, as a format: each line carries the hash of the line before it
//! (`prev_hash`), the first one a fixed genesis value. The root process writes it
//! (`audit::Log`), the system-log copy carries it (`root::syslog`), `--verify-log` checks it
//! (`unprivileged::chain`).

use crate::policy::verify::hex_sha256;

/// The chain field: `sha256:` + hex of the previous line's bytes (without its newline).
pub const CHAIN_FIELD: &str = "prev_hash";

/// What the first line of a log chains to.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// The chain value for a line that follows `prev`.
pub fn link_of(prev: Option<&[u8]>) -> String {
    match prev {
        None => GENESIS.to_string(),
        Some(line) => line_hash(line),
    }
}

/// The chain hash of a line (without its newline): what the next line's `prev_hash` holds, and
/// what the system-log copy carries as its anchor.
pub fn line_hash(line: &[u8]) -> String {
    format!("sha256:{}", hex_sha256(line))
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_chain_hash(s: &[u8]) -> bool {
    s.strip_prefix(b"sha256:")
        .is_some_and(|h| h.len() == 64 && h.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)))
}

/// The field naming the file a log's first record links to (`root::rotation`).
pub const ROTATED_FROM: &str = "rotated_from";
