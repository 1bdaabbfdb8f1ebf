//! What a well-formed reply means: environment edits in order and the verdict.

/// Longest reply read from a helper; more is a protocol error (op reads without limit, F7).
pub const MAX_REPLY: usize = 64 * 1024;

/// One environment edit, applied in order to the command's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Set { name: Vec<u8>, value: Vec<u8> },
    Copy { name: Vec<u8> },
    Remove { name: Vec<u8> },
    Reveal { prefix: Vec<u8> },
}

/// A well-formed reply: its edits in order and the last code written (0 if none was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub edits: Vec<Edit>,
    pub code: u8,
    /// Whether any code line was written at all.
    pub explicit: bool,
}

/// An environment name the reply language can carry: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_name(s: &[u8]) -> bool {
    matches!(s.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
        && s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}
