//! The escapes configuration as a value: which issuers, approvers and audiences a grant may
//! name, and where the pinned keys, the CA bundle, the audit log and the helpers live.
//! `parse::config` builds it from the file's bytes, and refuses anything it does not know.

pub const DEFAULT_AUDIT_LOG: &str = "/var/log/openape/audit.log";

/// Used when `[security] allowed_audiences` is absent.
pub const DEFAULT_AUDIENCE: &str = "escapes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `None`: compare grants against the system hostname.
    pub host: Option<String>,
    pub run_as: Option<String>,
    pub audit_log: String,
    pub allowed_issuers: Vec<String>,
    pub allowed_approvers: Vec<String>,
    pub allowed_audiences: Vec<String>,
    pub offline: bool,
    pub ca_bundle: Option<String>,
    /// Pinned JWKS file per issuer, in file order; every issuer is in `allowed_issuers`.
    pub keys: Vec<(String, String)>,
    /// `[[helmet]]` tables in file order: programs that must also say yes before a command runs.
    pub helmets: Vec<Helper>,
    /// `[[jacket]]` tables in file order: programs that hold the command until they release it
    /// and stay around it while it runs.
    pub jackets: Vec<Helper>,
    /// `[audit]`: the system-log copy of every record (`root::syslog`).
    pub syslog: SyslogSettings,
}

/// Helmet timeout when none is configured (seconds): long enough for a lookup, short enough
/// that a hung helper cannot hold the caller for long.
pub const DEFAULT_HELPER_TIMEOUT: u64 = 5;

/// Longest configurable helper timeout (seconds).
pub const MAX_HELPER_TIMEOUT: u64 = 3600;

/// One `[[helmet]]` or `[[jacket]]` table: an op(1l)-style authorization helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    /// Absolute path of a root-owned executable (checked like the config when it is run).
    pub path: String,
    /// Exact resolved program paths this helper applies to; `None` means every program.
    pub programs: Option<Vec<String>>,
    /// `NAME=value` parameters added to the helper's environment (op's `$NAME=value`), in order;
    /// the value may name per-run facts (`policy::facts`).
    pub params: Vec<(String, String)>,
    /// `$NAME` parameters: the caller's own NAME, if it has one, for the helper to judge.
    pub copies: Vec<String>,
    /// Variables beyond the command's allow-list that this helper's reply may set for the
    /// command (`SSH_AUTH_SOCK`, `DISPLAY`, ...); never one of [`NEVER_SET`].
    pub env: Vec<String>,
    /// Seconds: for a helmet, to reply and exit; for a jacket, to release the command.
    pub timeout_secs: u64,
}

impl Helper {
    /// Whether this helper applies to the program that will run: `named(entry)` says whether a
    /// `programs` entry names it (by the file, not only the spelling: `exec::Program::is_named_by`).
    pub fn applies_to(&self, named: impl Fn(&[u8]) -> bool) -> bool {
        self.programs.as_ref().is_none_or(|list| list.iter().any(|p| named(p.as_bytes())))
    }
}

/// `[audit] syslog`: where the copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogMode {
    /// journald when its socket is there, else `/dev/log`.
    Auto,
    Journald,
    Syslog,
    Off,
}

/// The values `[audit] syslog` accepts, as an error message names them.
pub const SYSLOG_MODES: &str = "\"auto\", \"journald\", \"syslog\" or \"off\"";

impl SyslogMode {
    pub fn parse(s: &str) -> Option<SyslogMode> {
        match s {
            "auto" => Some(SyslogMode::Auto),
            "journald" => Some(SyslogMode::Journald),
            "syslog" => Some(SyslogMode::Syslog),
            "off" => Some(SyslogMode::Off),
            _ => None,
        }
    }

    /// Its number on the wire from the parse child (`confined::service`).
    pub fn index(self) -> i64 {
        self as i64
    }

    pub fn from_index(i: i64) -> Option<SyslogMode> {
        [SyslogMode::Auto, SyslogMode::Journald, SyslogMode::Syslog, SyslogMode::Off]
            .into_iter()
            .find(|m| m.index() == i)
    }
}

/// The `[audit]` settings for the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogSettings {
    pub mode: SyslogMode,
    /// `syslog_required`: a command runs only if its `run` record reached the system logger.
    pub required: bool,
}

impl Default for SyslogSettings {
    fn default() -> SyslogSettings {
        SyslogSettings { mode: SyslogMode::Auto, required: false }
    }
}

/// A system bundle (ca-certificates.crt) is about 220 KB.
pub const MAX_BUNDLE: usize = 1024 * 1024;

/// Names a helper may never set for the command, whatever `env` says: what the dynamic loader,
/// a shell or an interpreter reads to run other code, what escapes sets itself, and the names
/// the allow-list already passes only after checking their values. A name ending in `*` is a
/// prefix.
pub const NEVER_SET: &[&str] = &[
    "LD_*",
    "GLIBC_TUNABLES",
    "MALLOC_*",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RES_OPTIONS",
    "LOCALDOMAIN",
    "BASH_ENV",
    "ENV",
    "BASH_FUNC_*",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "IFS",
    "CDPATH",
    "PATH",
    "TMPDIR",
    "PYTHON*",
    "PERL*",
    "RUBY*",
    "NODE_*",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "LUA_*",
    "TCL*",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "TZ",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "ESCAPES_*",
];

/// What makes a string no issuer escapes may trust: issuers are compared character for
/// character with a token's `iss` and their keys are fetched from them, so only an exact https
/// URL with a host will do. The one rule the config parser and `escapes trust` both apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerFault {
    /// `*` or `?`: a pattern, where an exact name is compared.
    Wildcard,
    /// Not `https://` followed by a host.
    NotHttps,
    /// A trailing `/`, which no token's `iss` has.
    TrailingSlash,
}

/// The first [`IssuerFault`] of `s`, in the order above; None when it is a usable issuer.
pub fn issuer_fault(s: &str) -> Option<IssuerFault> {
    if s.contains(['*', '?']) {
        return Some(IssuerFault::Wildcard);
    }
    match s.strip_prefix("https://") {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {}
        _ => return Some(IssuerFault::NotHttps),
    }
    s.ends_with('/').then_some(IssuerFault::TrailingSlash)
}

/// Whether `name` is one of [`NEVER_SET`].
pub fn never_set(name: &str) -> bool {
    NEVER_SET.iter().any(|n| match n.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *n,
    })
}

/// What `escapes trust` sets in the config (`parse::config_edit`, in the parse service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEdit<'a> {
    pub issuer: &'a str,
    pub approvers: &'a [String],
    /// `[tls] ca_bundle`; None leaves an existing one alone.
    pub ca_bundle: Option<&'a str>,
    /// The pinned key file for the issuer (`[keys]`); None leaves `[keys]` alone (but see
    /// `replace`).
    pub pinned: Option<&'a str>,
    /// Replace the trust settings even when another issuer is configured.
    pub replace: bool,
}
