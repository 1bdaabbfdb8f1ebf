//! What the caller asked for, as `parse::cli` read it from argv.

/// Where the grant token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantSource {
    Arg(Vec<u8>),
    Stdin,
    File(Vec<u8>),
    /// The value of `ESCAPES_GRANT`.
    Env(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub grant: GrantSource,
    pub run_as: Option<Vec<u8>>,
    /// Only honoured when the real uid is 0; `main` enforces that.
    pub config: Option<Vec<u8>>,
    /// Verify and report every check, but neither consume nor execute.
    pub check_only: bool,
    pub argv: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Help,
    Version,
    /// Check an audit log's hash chain; runs with the caller's rights only.
    VerifyLog(VerifyLog),
    /// Validate the config and every file it names, reporting all problems (root only).
    CheckConfig {
        config: Option<Vec<u8>>,
    },
    /// `trust`: fetch an issuer's discovery document and keys, and write the config trusting
    /// it (root only).
    Trust(Trust),
    Run(Run),
}

/// `escapes trust --idp URL --approvers A,B [--ca-bundle FILE] [--pin] [--replace]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub idp: Vec<u8>,
    /// The `--approvers` list split at commas, in order (an empty item stays, and is refused).
    pub approvers: Vec<Vec<u8>>,
    pub ca_bundle: Option<Vec<u8>>,
    /// Write the key set under the keys directory and name it in `[keys]`.
    pub pin: bool,
    /// Replace the trust settings when another issuer is configured.
    pub replace: bool,
}

/// `--verify-log FILE [FILE...] [--anchors EXPORT]`: a log, or a rotated set oldest first, and
/// optionally the system logger's copy to compare it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyLog {
    pub files: Vec<Vec<u8>>,
    pub anchors: Option<Vec<u8>>,
}

/// What `--help` prints.
pub const USAGE: &str = "usage: escapes [--check] [--json-errors] (--grant JWT | --grant-stdin | --grant-file PATH) [--run-as USER] -- CMD [ARGS...]\n       escapes --verify-log FILE [FILE...] [--anchors EXPORT]\n       escapes --check-config [--config PATH]\n       escapes trust --idp URL --approvers A[,B...] [--ca-bundle FILE] [--pin] [--replace]\n       escapes --help | --version\n";
