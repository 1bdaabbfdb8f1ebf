//! Reading the escapes configuration: bytes in, validated [`Config`] out; opening the file
//! safely is the caller's job. Strict on purpose: an unknown table or key, a wrong type, an
//! empty string, a duplicate or a wildcard is an error, so that a typo in a security setting
//! stops escapes instead of quietly changing what it allows.

use std::collections::BTreeSet;
use std::fmt;

use crate::parse::toml::{self, Entry, Value};
use crate::policy::config::{
    issuer_fault, never_set, Config, Helper, IssuerFault, DEFAULT_AUDIENCE, DEFAULT_AUDIT_LOG, DEFAULT_HELPER_TIMEOUT,
    MAX_HELPER_TIMEOUT,
};
use crate::policy::facts;

/// 1-based line and column of the key a setting was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub line: usize,
    pub col: usize,
}

/// The tables a config may contain; `Root` holds the keys before the first `[header]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Root,
    Security,
    Tls,
    Keys,
    Audit,
    /// The n-th `[[helmet]]` table (1-based).
    Helmet(usize),
    /// The n-th `[[jacket]]` table (1-based).
    Jacket(usize),
}

/// A key together with the table it sits in, as named in error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub section: Section,
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    String,
    Bool,
    StringList,
    Integer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Syntax(toml::Error),
    UnknownTable {
        line: usize,
        name: String,
    },
    UnknownKey {
        at: At,
        setting: Setting,
    },
    WrongType {
        at: At,
        setting: Setting,
        expected: Expected,
    },
    Missing {
        setting: Setting,
    },
    EmptyString {
        at: At,
        setting: Setting,
    },
    EmptyList {
        at: At,
        setting: Setting,
    },
    DuplicateInList {
        at: At,
        setting: Setting,
        value: String,
    },
    /// Whitespace or a control character in a name that is compared exactly.
    ForbiddenCharacter {
        at: At,
        setting: Setting,
        value: String,
    },
    Wildcard {
        at: At,
        setting: Setting,
        value: String,
    },
    IssuerNotHttps {
        at: At,
        value: String,
    },
    IssuerTrailingSlash {
        at: At,
        value: String,
    },
    PathNotAbsolute {
        at: At,
        setting: Setting,
        value: String,
    },
    PathControlCharacter {
        at: At,
        setting: Setting,
        value: String,
    },
    PathParentComponent {
        at: At,
        setting: Setting,
        value: String,
    },
    KeyForUnlistedIssuer {
        at: At,
        issuer: String,
    },
    /// `[helmet]` where `[[helmet]]` is meant, or `[[security]]` where `[security]` is.
    TableKind {
        line: usize,
        name: String,
        array: bool,
    },
    /// A helper parameter that is not `NAME=value` with NAME `[A-Za-z_][A-Za-z0-9_]*`, or that
    /// names an `ESCAPES_` variable (those carry grant facts and cannot be overridden).
    BadParam {
        at: At,
        setting: Setting,
        value: String,
    },
    /// A parameter's value names a `$` fact that does not exist.
    BadFact {
        at: At,
        setting: Setting,
        why: String,
    },
    /// An `env` name a helper may never set (or not a variable name).
    ForbiddenEnv {
        at: At,
        setting: Setting,
        name: String,
    },
    DuplicateParam {
        at: At,
        setting: Setting,
        name: String,
    },
    TimeoutOutOfRange {
        at: At,
        setting: Setting,
        value: i64,
    },
    /// A string setting that takes one of a few words (`[audit] syslog`).
    NotOneOf {
        at: At,
        setting: Setting,
        value: String,
        choices: &'static str,
    },
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Root => "the top level (before any [table] header)",
            Self::Security => "[security]",
            Self::Tls => "[tls]",
            Self::Keys => "[keys]",
            Self::Audit => "[audit]",
            Self::Helmet(n) => return write!(f, "[[helmet]] number {n}"),
            Self::Jacket(n) => return write!(f, "[[jacket]] number {n}"),
        })
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug formatting quotes the key and escapes anything that could upset a terminal.
        match self.section {
            Section::Root => write!(f, "{:?}", self.key),
            section => write!(f, "{:?} in {section}", self.key),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "a \"string\"",
            Self::Bool => "true or false",
            Self::StringList => "a list of strings, like [\"a\", \"b\"]",
            Self::Integer => "a whole number",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(e) => write!(f, "{e}"),
            Self::UnknownTable { line, name } => write!(
                f,
                "line {line}: unknown table {name:?} (the known tables are [security], [tls], [keys], [audit], [[helmet]] and [[jacket]])"
            ),
            Self::UnknownKey { at, setting } => {
                let place = if setting.section == Section::Root { "at" } else { "in" };
                write!(f, "{at}: unknown key {:?} {place} {}", setting.key, setting.section)
            }
            Self::WrongType { at, setting, expected } => write!(f, "{at}: {setting} must be {expected}"),
            Self::Missing { setting } => write!(f, "{setting} is required but missing"),
            Self::EmptyString { at, setting } => write!(f, "{at}: {setting} must not contain an empty string"),
            Self::EmptyList { at, setting } => write!(f, "{at}: {setting} must list at least one entry"),
            Self::DuplicateInList { at, setting, value } => write!(f, "{at}: {setting} lists {value:?} twice"),
            Self::ForbiddenCharacter { at, setting, value } => {
                write!(f, "{at}: {setting}: {value:?} contains whitespace or a control character")
            }
            Self::Wildcard { at, setting, value } => write!(
                f,
                "{at}: {setting}: {value:?} contains a wildcard; entries are matched exactly, so write each one out"
            ),
            Self::IssuerNotHttps { at, value } => {
                write!(f, "{at}: allowed issuer {value:?} must be an https:// URL with a host name")
            }
            Self::IssuerTrailingSlash { at, value } => write!(
                f,
                "{at}: allowed issuer {value:?} must not end with a slash (issuers are compared character for character)"
            ),
            Self::PathNotAbsolute { at, setting, value } => {
                write!(f, "{at}: {setting}: {value:?} must be an absolute path, starting with /")
            }
            Self::PathControlCharacter { at, setting, value } => {
                write!(f, "{at}: {setting}: path {value:?} contains a control character")
            }
            Self::PathParentComponent { at, setting, value } => {
                write!(f, "{at}: {setting}: path {value:?} must not contain a .. component")
            }
            Self::KeyForUnlistedIssuer { at, issuer } => write!(
                f,
                "{at}: [keys] pins a key for {issuer:?}, which is not in allowed_issuers in [security]"
            ),
            Self::TableKind { line, name, array: true } => write!(
                f,
                "line {line}: {name:?} must be written [{name}], not [[{name}]] (there is only one)"
            ),
            Self::TableKind { line, name, array: false } => write!(
                f,
                "line {line}: {name:?} must be written [[{name}]] (one table per helper, any number of them)"
            ),
            Self::BadParam { at, setting, value } => write!(
                f,
                "{at}: {setting}: {value:?} must be NAME=value with NAME made of letters, digits and _ (not starting with a digit, not ESCAPES_...)"
            ),
            Self::DuplicateParam { at, setting, name } => write!(f, "{at}: {setting} sets {name:?} twice"),
            Self::BadFact { at, setting, why } => write!(f, "{at}: {setting}: {why}"),
            Self::ForbiddenEnv { at, setting, name } => {
                write!(f, "{at}: {setting}: {name:?} is not a variable a helper may set for the command")
            }
            Self::TimeoutOutOfRange { at, setting, value } => {
                write!(f, "{at}: {setting}: {value} is not between 1 and {MAX_HELPER_TIMEOUT} seconds")
            }
            Self::NotOneOf { at, setting, value, choices } => write!(f, "{at}: {setting} is {value:?}, must be one of {choices}"),
        }
    }
}

impl std::error::Error for Error {}

/// Accepts a TOML-subset document (see [`toml::parse`]) holding only the tables and keys of
/// [`Config`], each with the right type and a value that passes its check below.
pub fn parse(input: &[u8]) -> Result<Config, Error> {
    let document = toml::parse(input).map_err(Error::Syntax)?;
    let mut draft = Draft::default();
    for table in &document.tables {
        let section = match (table.name.as_str(), table.array) {
            ("", _) => Section::Root,
            ("security", false) => Section::Security,
            ("tls", false) => Section::Tls,
            ("keys", false) => Section::Keys,
            ("audit", false) => Section::Audit,
            ("helmet", true) => {
                draft.helmets.push(HelperDraft::new());
                Section::Helmet(draft.helmets.len())
            }
            ("jacket", true) => {
                draft.jackets.push(HelperDraft::new());
                Section::Jacket(draft.jackets.len())
            }
            (name @ ("security" | "tls" | "keys" | "audit" | "helmet" | "jacket"), array) => {
                return Err(Error::TableKind { line: table.line, name: name.to_owned(), array })
            }
            _ => return Err(Error::UnknownTable { line: table.line, name: table.name.clone() }),
        };
        for entry in &table.entries {
            draft.set(Site { section, entry })?;
        }
    }
    draft.finish()
}

/// A `[[helmet]]` or `[[jacket]]` table as read so far.
struct HelperDraft {
    path: Option<String>,
    programs: Option<Vec<String>>,
    params: Vec<(String, String)>,
    copies: Vec<String>,
    env: Vec<String>,
    timeout_secs: Option<u64>,
}

impl HelperDraft {
    fn new() -> HelperDraft {
        HelperDraft {
            path: None,
            programs: None,
            params: Vec::new(),
            copies: Vec::new(),
            env: Vec::new(),
            timeout_secs: None,
        }
    }

    fn set(&mut self, site: Site<'_>) -> Result<(), Error> {
        match site.entry.key.as_str() {
            "path" => self.path = Some(site.string(path)?),
            "programs" => self.programs = Some(site.list(path)?),
            "params" => {
                let Value::StrArray(items) = &site.entry.value else {
                    return Err(site.wrong_type(Expected::StringList));
                };
                for item in items {
                    let (name, value) = param(site, item)?;
                    if self.params.iter().any(|(n, _)| *n == name) || self.copies.contains(&name) {
                        return Err(Error::DuplicateParam { at: site.at(), setting: site.setting(), name });
                    }
                    match value {
                        Some(v) => self.params.push((name, v)),
                        None => self.copies.push(name),
                    }
                }
            }
            "env" => self.env = site.list(env_name)?,
            "timeout" => {
                let Value::Int(n) = site.entry.value else {
                    return Err(site.wrong_type(Expected::Integer));
                };
                match u64::try_from(n) {
                    Ok(secs) if (1..=MAX_HELPER_TIMEOUT).contains(&secs) => self.timeout_secs = Some(secs),
                    _ => return Err(Error::TimeoutOutOfRange { at: site.at(), setting: site.setting(), value: n }),
                }
            }
            _ => return Err(Error::UnknownKey { at: site.at(), setting: site.setting() }),
        }
        Ok(())
    }

    fn finish(self, section: Section) -> Result<Helper, Error> {
        let path = self.path.ok_or(Error::Missing { setting: Setting { section, key: "path".to_owned() } })?;
        Ok(Helper {
            path,
            programs: self.programs,
            params: self.params,
            copies: self.copies,
            env: self.env,
            timeout_secs: self.timeout_secs.unwrap_or(DEFAULT_HELPER_TIMEOUT),
        })
    }
}

/// `NAME=value` (a portable environment name, and a value without NUL, whose `$` facts are
/// ones `policy::facts` knows), or `$NAME` (the caller's own NAME, value None). `ESCAPES_*`
/// names are ours: a parameter must not pose as a grant fact.
fn param(site: Site<'_>, item: &str) -> Result<(String, Option<String>), Error> {
    let bad = || Error::BadParam { at: site.at(), setting: site.setting(), value: item.to_owned() };
    let (name, value) = match item.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (item.strip_prefix('$').ok_or_else(bad)?, None),
    };
    if !is_env_name(name) || name.starts_with("ESCAPES_") || value.is_some_and(|v| v.contains('\0')) {
        return Err(bad());
    }
    if let Some(v) = value {
        facts::expand(v, None).map_err(|e| Error::BadFact {
            at: site.at(),
            setting: site.setting(),
            why: e.to_string(),
        })?;
    }
    Ok((name.to_owned(), value.map(str::to_owned)))
}

/// An `env` entry: a variable name a helper may set for the command, never one of
/// `policy::config::NEVER_SET`.
fn env_name(site: Site<'_>, s: &str) -> Result<(), Error> {
    if !is_env_name(s) || never_set(s) {
        return Err(Error::ForbiddenEnv { at: site.at(), setting: site.setting(), name: s.to_owned() });
    }
    Ok(())
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the names a shell can set and every helper can read.
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Settings seen so far; requirements spanning several tables are checked in `finish`.
#[derive(Default)]
struct Draft {
    host: Option<String>,
    run_as: Option<String>,
    audit_log: Option<String>,
    allowed_issuers: Option<Vec<String>>,
    allowed_approvers: Option<Vec<String>>,
    allowed_audiences: Option<Vec<String>>,
    offline: Option<bool>,
    ca_bundle: Option<String>,
    keys: Vec<(String, String, At)>,
    helmets: Vec<HelperDraft>,
    jackets: Vec<HelperDraft>,
    syslog: crate::policy::config::SyslogSettings,
}

impl Draft {
    fn set(&mut self, site: Site<'_>) -> Result<(), Error> {
        match (site.section, site.entry.key.as_str()) {
            (Section::Root, "host") => self.host = Some(site.string(name)?),
            (Section::Root, "run_as") => self.run_as = Some(site.string(name)?),
            (Section::Root, "audit_log") => self.audit_log = Some(site.string(path)?),
            (Section::Security, "allowed_issuers") => self.allowed_issuers = Some(site.list(issuer)?),
            (Section::Security, "allowed_approvers") => self.allowed_approvers = Some(site.list(exact_name)?),
            (Section::Security, "allowed_audiences") => self.allowed_audiences = Some(site.list(exact_name)?),
            (Section::Security, "offline") => self.offline = Some(site.bool()?),
            (Section::Tls, "ca_bundle") => self.ca_bundle = Some(site.string(path)?),
            (Section::Audit, "syslog") => {
                let word = site.string(|_, _| Ok(()))?;
                self.syslog.mode = crate::policy::config::SyslogMode::parse(&word).ok_or(Error::NotOneOf {
                    at: site.at(),
                    setting: site.setting(),
                    value: word,
                    choices: crate::policy::config::SYSLOG_MODES,
                })?;
            }
            (Section::Audit, "syslog_required") => self.syslog.required = site.bool()?,
            (Section::Keys, issuer) => self.keys.push((issuer.to_owned(), site.string(path)?, site.at())),
            (Section::Helmet(n), _) => {
                if let Some(h) = self.helmets.get_mut(n.wrapping_sub(1)) {
                    h.set(site)?;
                }
            }
            (Section::Jacket(n), _) => {
                if let Some(h) = self.jackets.get_mut(n.wrapping_sub(1)) {
                    h.set(site)?;
                }
            }
            _ => return Err(Error::UnknownKey { at: site.at(), setting: site.setting() }),
        }
        Ok(())
    }

    fn finish(self) -> Result<Config, Error> {
        let missing =
            |key: &str| Error::Missing { setting: Setting { section: Section::Security, key: key.to_owned() } };
        let allowed_issuers = self.allowed_issuers.ok_or_else(|| missing("allowed_issuers"))?;
        let allowed_approvers = self.allowed_approvers.ok_or_else(|| missing("allowed_approvers"))?;
        let issuers: BTreeSet<&str> = allowed_issuers.iter().map(String::as_str).collect();
        let mut keys = Vec::with_capacity(self.keys.len());
        for (issuer, file, at) in self.keys {
            // A key pinned for an issuer that is not allowed is a mistake in one of the two places.
            if !issuers.contains(issuer.as_str()) {
                return Err(Error::KeyForUnlistedIssuer { at, issuer });
            }
            keys.push((issuer, file));
        }
        let mut helmets = Vec::with_capacity(self.helmets.len());
        for (i, h) in self.helmets.into_iter().enumerate() {
            helmets.push(h.finish(Section::Helmet(i + 1))?);
        }
        let mut jackets = Vec::with_capacity(self.jackets.len());
        for (i, h) in self.jackets.into_iter().enumerate() {
            jackets.push(h.finish(Section::Jacket(i + 1))?);
        }
        Ok(Config {
            host: self.host,
            run_as: self.run_as,
            audit_log: self.audit_log.unwrap_or_else(|| DEFAULT_AUDIT_LOG.to_owned()),
            allowed_issuers,
            allowed_approvers,
            allowed_audiences: self.allowed_audiences.unwrap_or_else(|| vec![DEFAULT_AUDIENCE.to_owned()]),
            offline: self.offline.unwrap_or(false),
            ca_bundle: self.ca_bundle,
            keys,
            helmets,
            jackets,
            syslog: self.syslog,
        })
    }
}

/// One entry and the table it was found in: everything an error message needs.
#[derive(Clone, Copy)]
struct Site<'a> {
    section: Section,
    entry: &'a Entry,
}

/// A check on one string value, given where it came from for the error.
type Check = fn(Site<'_>, &str) -> Result<(), Error>;

impl Site<'_> {
    fn at(self) -> At {
        At { line: self.entry.line, col: self.entry.col }
    }

    fn setting(self) -> Setting {
        Setting { section: self.section, key: self.entry.key.clone() }
    }

    fn wrong_type(self, expected: Expected) -> Error {
        Error::WrongType { at: self.at(), setting: self.setting(), expected }
    }

    fn bool(self) -> Result<bool, Error> {
        match self.entry.value {
            Value::Bool(b) => Ok(b),
            _ => Err(self.wrong_type(Expected::Bool)),
        }
    }

    fn string(self, check: Check) -> Result<String, Error> {
        match &self.entry.value {
            Value::Str(s) => self.item(s, check).map(|()| s.clone()),
            _ => Err(self.wrong_type(Expected::String)),
        }
    }

    fn list(self, check: Check) -> Result<Vec<String>, Error> {
        let Value::StrArray(items) = &self.entry.value else {
            return Err(self.wrong_type(Expected::StringList));
        };
        if items.is_empty() {
            return Err(Error::EmptyList { at: self.at(), setting: self.setting() });
        }
        let mut seen = BTreeSet::new();
        for s in items {
            self.item(s, check)?;
            if !seen.insert(s.as_str()) {
                return Err(Error::DuplicateInList { at: self.at(), setting: self.setting(), value: s.clone() });
            }
        }
        Ok(items.clone())
    }

    fn item(self, s: &str, check: Check) -> Result<(), Error> {
        if s.is_empty() {
            return Err(Error::EmptyString { at: self.at(), setting: self.setting() });
        }
        check(self, s)
    }
}

/// Host, user, approver and audience names are compared exactly; a stray space or control
/// character would make an entry that can never match, or look like one it is not.
fn name(site: Site<'_>, s: &str) -> Result<(), Error> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::ForbiddenCharacter { at: site.at(), setting: site.setting(), value: s.to_owned() });
    }
    Ok(())
}

/// An admin writing `*` expects a wildcard; matching it literally would surprise them either way.
fn exact_name(site: Site<'_>, s: &str) -> Result<(), Error> {
    name(site, s)?;
    if s.contains('*') {
        return Err(Error::Wildcard { at: site.at(), setting: site.setting(), value: s.to_owned() });
    }
    Ok(())
}

/// Issuers are compared character for character with a token's `iss`, and their keys are
/// fetched from them, so only exact https URLs are allowed.
fn issuer(site: Site<'_>, s: &str) -> Result<(), Error> {
    name(site, s)?;
    let (at, value) = (site.at(), s.to_owned());
    match issuer_fault(s) {
        None => Ok(()),
        Some(IssuerFault::Wildcard) => Err(Error::Wildcard { at, setting: site.setting(), value }),
        Some(IssuerFault::NotHttps) => Err(Error::IssuerNotHttps { at, value }),
        Some(IssuerFault::TrailingSlash) => Err(Error::IssuerTrailingSlash { at, value }),
    }
}

/// Paths escapes opens as root: absolute so they do not depend on the working directory, and
/// without `..` so that what a reviewer reads is where the file is.
fn path(site: Site<'_>, s: &str) -> Result<(), Error> {
    let (at, setting, value) = (site.at(), site.setting(), s.to_owned());
    if s.chars().any(char::is_control) {
        return Err(Error::PathControlCharacter { at, setting, value });
    }
    if !s.starts_with('/') {
        return Err(Error::PathNotAbsolute { at, setting, value });
    }
    if s.split('/').any(|component| component == "..") {
        return Err(Error::PathParentComponent { at, setting, value });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"# escapes configuration
host = "build-01"
run_as = "root"
audit_log = "/var/log/escapes/audit.log"

[security]
allowed_issuers = [
  "https://id.example.com",
  "https://id.example.org/realms/ops",
]
allowed_approvers = ["alice@example.com", "bob"]
allowed_audiences = ["escapes", "escapes-build"]
offline = true

[tls]
ca_bundle = "/etc/ssl/certs/ca-certificates.crt"

[keys]
"https://id.example.org/realms/ops" = "/etc/openape/ops.jwks.json"
"https://id.example.com" = "/etc/openape/example.jwks.json"
"#;

    const MINIMAL: &str =
        "[security]\nallowed_issuers = [\"https://id.example.com\"]\nallowed_approvers = [\"alice\"]\n";

    fn ok(s: &str) -> Config {
        parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> Error {
        match parse(s.as_bytes()) {
            Ok(c) => panic!("{s:?} accepted as {c:?}"),
            Err(e) => e,
        }
    }

    /// A valid config: `root` on line 1, `security` on line 5 inside [security], `rest` from line 6.
    fn with(root: &str, security: &str, rest: &str) -> String {
        format!(
            "{root}\n[security]\nallowed_issuers = [\"https://id.example.com\"]\nallowed_approvers = [\"alice\"]\n{security}\n{rest}"
        )
    }

    fn security(line: &str) -> String {
        format!("[security]\n{line}\n")
    }

    fn at(line: usize, col: usize) -> At {
        At { line, col }
    }

    fn setting(section: Section, key: &str) -> Setting {
        Setting { section, key: key.to_owned() }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn reads_every_setting_of_a_full_config() {
        assert_eq!(
            ok(FULL),
            Config {
                host: Some("build-01".into()),
                run_as: Some("root".into()),
                audit_log: "/var/log/escapes/audit.log".into(),
                allowed_issuers: s(&["https://id.example.com", "https://id.example.org/realms/ops"]),
                allowed_approvers: s(&["alice@example.com", "bob"]),
                allowed_audiences: s(&["escapes", "escapes-build"]),
                offline: true,
                ca_bundle: Some("/etc/ssl/certs/ca-certificates.crt".into()),
                keys: vec![
                    ("https://id.example.org/realms/ops".into(), "/etc/openape/ops.jwks.json".into()),
                    ("https://id.example.com".into(), "/etc/openape/example.jwks.json".into()),
                ],
                helmets: vec![],
                jackets: vec![],
                syslog: crate::policy::config::SyslogSettings::default(),
            }
        );
    }

    #[test]
    fn fills_defaults_for_everything_optional() {
        let c = ok(MINIMAL);
        assert_eq!(c.host, None);
        assert_eq!(c.run_as, None);
        assert_eq!(c.audit_log, DEFAULT_AUDIT_LOG);
        assert_eq!(c.allowed_audiences, s(&["escapes"]));
        assert!(!c.offline);
        assert_eq!(c.ca_bundle, None);
        assert!(c.keys.is_empty());
    }

    #[test]
    fn accepts_empty_tls_and_keys_tables() {
        assert_eq!(ok(&with("", "", "[tls]\n[keys]\n")), ok(MINIMAL));
    }

    #[test]
    fn accepts_tables_in_any_order() {
        let c = ok("[keys]\n\"https://a.example\" = \"/k\"\n[security]\nallowed_issuers = [\"https://a.example\"]\nallowed_approvers = [\"x\"]\n");
        assert_eq!(c.keys, vec![("https://a.example".into(), "/k".into())]);
    }

    #[test]
    fn wraps_syntax_errors_with_their_position() {
        let e = err("[security]\nallowed_issuers = [\"https://a\"\n");
        assert!(matches!(&e, Error::Syntax(t) if t.line == 2 && t.col == 19));
        assert_eq!(e.to_string(), "line 2, column 19: array is not closed with ]");
    }

    #[test]
    fn refuses_unknown_table() {
        let e = err(&format!("{MINIMAL}\n[secuirty]\n"));
        assert_eq!(e, Error::UnknownTable { line: 5, name: "secuirty".into() });
        assert_eq!(e.to_string(), "line 5: unknown table \"secuirty\" (the known tables are [security], [tls], [keys], [audit], [[helmet]] and [[jacket]])");
    }

    #[test]
    fn refuses_unknown_key_in_security() {
        let e = err("[security]\nallowed_issuers = [\"https://a\"]\nallowed_approvers = [\"x\"]\nalowed_issuers = [\"https://b\"]\n");
        assert_eq!(e, Error::UnknownKey { at: at(4, 1), setting: setting(Section::Security, "alowed_issuers") });
        assert_eq!(e.to_string(), "line 4, column 1: unknown key \"alowed_issuers\" in [security]");
    }

    #[test]
    fn refuses_security_key_placed_at_the_top_level() {
        let e = err("allowed_issuers = [\"https://a\"]\n");
        assert_eq!(
            e.to_string(),
            "line 1, column 1: unknown key \"allowed_issuers\" at the top level (before any [table] header)"
        );
    }

    #[test]
    fn refuses_unknown_key_in_tls() {
        assert!(matches!(err(&with("", "", "[tls]\nca_file = \"/x\"")), Error::UnknownKey { .. }));
    }

    #[test]
    fn refuses_key_of_one_table_in_another() {
        assert!(matches!(err(&with("", "", "[tls]\noffline = true")), Error::UnknownKey { .. }));
        assert!(matches!(err(&with("", "host = \"h\"", "")), Error::UnknownKey { .. }));
    }

    #[test]
    fn refuses_integer_where_a_setting_expects_another_type() {
        let e = err(&with("host = 7", "", ""));
        assert_eq!(
            e,
            Error::WrongType { at: at(1, 1), setting: setting(Section::Root, "host"), expected: Expected::String }
        );
        assert_eq!(e.to_string(), "line 1, column 1: \"host\" must be a \"string\"");
    }

    #[test]
    fn refuses_string_for_offline() {
        let e = err(&with("", "offline = \"false\"", ""));
        assert!(matches!(e, Error::WrongType { expected: Expected::Bool, .. }));
        assert_eq!(e.to_string(), "line 5, column 1: \"offline\" in [security] must be true or false");
    }

    #[test]
    fn refuses_single_string_for_a_list() {
        let e = err(&security("allowed_issuers = \"https://a\"\nallowed_approvers = [\"x\"]"));
        assert!(matches!(e, Error::WrongType { expected: Expected::StringList, .. }));
    }

    #[test]
    fn refuses_list_for_a_path() {
        let e = err(&with("", "", "[tls]\nca_bundle = [\"/a\"]"));
        assert!(matches!(e, Error::WrongType { expected: Expected::String, .. }));
        assert!(matches!(err(&with("", "", "[keys]\n\"https://id.example.com\" = true")), Error::WrongType { .. }));
    }

    #[test]
    fn requires_allowed_issuers() {
        let e = err("[security]\nallowed_approvers = [\"x\"]\n");
        assert_eq!(e, Error::Missing { setting: setting(Section::Security, "allowed_issuers") });
        assert_eq!(e.to_string(), "\"allowed_issuers\" in [security] is required but missing");
    }

    #[test]
    fn requires_allowed_approvers() {
        let e = err("[security]\nallowed_issuers = [\"https://a\"]\n");
        assert_eq!(e, Error::Missing { setting: setting(Section::Security, "allowed_approvers") });
    }

    #[test]
    fn requires_a_security_table() {
        assert!(matches!(err(""), Error::Missing { .. }));
        assert!(matches!(err("host = \"h\"\n[tls]\n"), Error::Missing { .. }));
    }

    #[test]
    fn refuses_empty_list_of_issuers() {
        let e = err(&security("allowed_issuers = []\nallowed_approvers = [\"x\"]"));
        assert_eq!(e, Error::EmptyList { at: at(2, 1), setting: setting(Section::Security, "allowed_issuers") });
    }

    #[test]
    fn refuses_empty_list_of_approvers() {
        let e = err(&security("allowed_issuers = [\"https://a\"]\nallowed_approvers = []"));
        assert!(matches!(e, Error::EmptyList { .. }));
    }

    #[test]
    fn refuses_empty_list_of_audiences() {
        assert!(matches!(err(&with("", "allowed_audiences = []", "")), Error::EmptyList { .. }));
    }

    #[test]
    fn refuses_empty_string_in_a_list() {
        let e = err(&security("allowed_issuers = [\"https://a\"]\nallowed_approvers = [\"x\", \"\"]"));
        assert_eq!(e, Error::EmptyString { at: at(3, 1), setting: setting(Section::Security, "allowed_approvers") });
    }

    #[test]
    fn refuses_empty_string_settings() {
        for line in ["host = \"\"", "run_as = ''", "audit_log = \"\""] {
            assert!(matches!(err(&with(line, "", "")), Error::EmptyString { .. }), "{line}");
        }
        assert!(matches!(err(&with("", "", "[tls]\nca_bundle = \"\"")), Error::EmptyString { .. }));
        assert!(matches!(err(&with("", "", "[keys]\n\"https://id.example.com\" = \"\"")), Error::EmptyString { .. }));
    }

    #[test]
    fn refuses_duplicate_issuer() {
        let e = err(&security(
            "allowed_issuers = [\"https://a\", \"https://b\", \"https://a\"]\nallowed_approvers = [\"x\"]",
        ));
        assert_eq!(
            e,
            Error::DuplicateInList {
                at: at(2, 1),
                setting: setting(Section::Security, "allowed_issuers"),
                value: "https://a".into()
            }
        );
    }

    #[test]
    fn refuses_duplicate_approver_and_audience() {
        assert!(matches!(err(&with("", "allowed_audiences = ['a', \"a\"]", "")), Error::DuplicateInList { .. }));
        let e = err(&security("allowed_issuers = [\"https://a\"]\nallowed_approvers = [\"x\", 'x']"));
        assert!(matches!(e, Error::DuplicateInList { .. }));
    }

    #[test]
    fn refuses_issuer_that_is_not_https() {
        for url in ["http://id.example.com", "HTTPS://id.example.com", "id.example.com", "https:/x", "ftp://x"] {
            let e = err(&security(&format!("allowed_issuers = [\"{url}\"]\nallowed_approvers = [\"x\"]")));
            assert!(matches!(e, Error::IssuerNotHttps { .. }), "{url}: {e}");
        }
    }

    #[test]
    fn refuses_loopback_http_issuer() {
        for url in ["http://127.0.0.1:8080", "http://localhost"] {
            let e = err(&security(&format!("allowed_issuers = [\"{url}\"]\nallowed_approvers = [\"x\"]")));
            assert!(matches!(e, Error::IssuerNotHttps { .. }), "{url}");
        }
    }

    #[test]
    fn refuses_issuer_without_host() {
        for url in ["https://", "https:///path"] {
            let e = err(&security(&format!("allowed_issuers = [\"{url}\"]\nallowed_approvers = [\"x\"]")));
            assert!(matches!(e, Error::IssuerNotHttps { .. }), "{url}");
        }
    }

    #[test]
    fn refuses_issuer_with_trailing_slash() {
        let e = err(&security("allowed_issuers = [\"https://id.example.com/\"]\nallowed_approvers = [\"x\"]"));
        assert_eq!(e, Error::IssuerTrailingSlash { at: at(2, 1), value: "https://id.example.com/".into() });
    }

    #[test]
    fn refuses_wildcard_issuer() {
        for url in ["https://*.example.com", "https://id.example.co?", "*"] {
            let e = err(&security(&format!("allowed_issuers = [\"{url}\"]\nallowed_approvers = [\"x\"]")));
            assert!(matches!(e, Error::Wildcard { .. }), "{url}: {e}");
        }
    }

    #[test]
    fn refuses_wildcard_approver() {
        let e = err(&security("allowed_issuers = [\"https://a\"]\nallowed_approvers = [\"*\"]"));
        assert_eq!(
            e,
            Error::Wildcard {
                at: at(3, 1),
                setting: setting(Section::Security, "allowed_approvers"),
                value: "*".into()
            }
        );
        let e = err(&security("allowed_issuers = [\"https://a\"]\nallowed_approvers = [\"*@example.com\"]"));
        assert!(matches!(e, Error::Wildcard { .. }));
    }

    #[test]
    fn refuses_wildcard_audience() {
        assert!(matches!(err(&with("", "allowed_audiences = [\"*\"]", "")), Error::Wildcard { .. }));
    }

    #[test]
    fn refuses_whitespace_in_issuer() {
        let e = err(&security("allowed_issuers = [\"https://a \"]\nallowed_approvers = [\"x\"]"));
        assert!(matches!(e, Error::ForbiddenCharacter { .. }));
    }

    #[test]
    fn refuses_whitespace_or_control_in_approver() {
        for v in ["alice ", " alice", "al\\tice", "alice\\n", "al\\u0000ice", "al\\u00a0ice", "al\\u0085ice"] {
            let e = err(&security(&format!("allowed_issuers = [\"https://a\"]\nallowed_approvers = [\"{v}\"]")));
            assert!(matches!(e, Error::ForbiddenCharacter { .. }), "{v}: {e}");
        }
    }

    #[test]
    fn refuses_whitespace_or_control_in_audience_host_and_run_as() {
        assert!(matches!(err(&with("", "allowed_audiences = [\"a b\"]", "")), Error::ForbiddenCharacter { .. }));
        assert!(matches!(err(&with("host = \"web 01\"", "", "")), Error::ForbiddenCharacter { .. }));
        assert!(matches!(err(&with("run_as = \"ro\\u001bot\"", "", "")), Error::ForbiddenCharacter { .. }));
    }

    #[test]
    fn refuses_relative_paths() {
        let e = err(&with("audit_log = \"var/log/a.log\"", "", ""));
        assert_eq!(
            e,
            Error::PathNotAbsolute {
                at: at(1, 1),
                setting: setting(Section::Root, "audit_log"),
                value: "var/log/a.log".into()
            }
        );
        assert!(matches!(err(&with("", "", "[tls]\nca_bundle = \"./ca.pem\"")), Error::PathNotAbsolute { .. }));
        let e = err(&with("", "", "[keys]\n\"https://id.example.com\" = \"~/k.json\""));
        assert_eq!(
            e,
            Error::PathNotAbsolute {
                at: at(7, 1),
                setting: setting(Section::Keys, "https://id.example.com"),
                value: "~/k.json".into()
            }
        );
    }

    #[test]
    fn refuses_nul_in_paths() {
        assert!(matches!(
            err(&with("audit_log = \"/var/log/a\\u0000.log\"", "", "")),
            Error::PathControlCharacter { .. }
        ));
        assert!(matches!(err(&with("", "", "[tls]\nca_bundle = \"/ca\\u0000\"")), Error::PathControlCharacter { .. }));
    }

    #[test]
    fn refuses_other_control_characters_in_paths() {
        assert!(matches!(err(&with("audit_log = \"/var/log/a\\n.log\"", "", "")), Error::PathControlCharacter { .. }));
    }

    #[test]
    fn accepts_spaces_and_dots_in_path_names() {
        let c = ok(&with("audit_log = \"/var/log/my logs/.audit..log\"", "", "[tls]\nca_bundle = \"/etc/./ca.pem\""));
        assert_eq!(c.audit_log, "/var/log/my logs/.audit..log");
    }

    #[test]
    fn refuses_dot_dot_component_in_paths() {
        for p in ["/var/log/../../etc/shadow", "/..", "/a/..", "/a/../"] {
            let e = err(&with(&format!("audit_log = \"{p}\""), "", ""));
            assert!(matches!(e, Error::PathParentComponent { .. }), "{p}");
        }
        assert!(matches!(err(&with("", "", "[tls]\nca_bundle = \"/etc/../ca\"")), Error::PathParentComponent { .. }));
        assert!(matches!(
            err(&with("", "", "[keys]\n\"https://id.example.com\" = \"/etc/openape/../k\"")),
            Error::PathParentComponent { .. }
        ));
    }

    #[test]
    fn refuses_pinned_key_for_issuer_not_allowed() {
        let e = err(&with("", "", "[keys]\n\"https://evil.example\" = \"/etc/openape/evil.json\""));
        assert_eq!(e, Error::KeyForUnlistedIssuer { at: at(7, 1), issuer: "https://evil.example".into() });
        assert_eq!(
            e.to_string(),
            "line 7, column 1: [keys] pins a key for \"https://evil.example\", which is not in allowed_issuers in [security]"
        );
    }

    #[test]
    fn refuses_pinned_key_for_issuer_differing_only_by_trailing_slash() {
        let e = err(&with("", "", "[keys]\n\"https://id.example.com/\" = \"/k\""));
        assert!(matches!(e, Error::KeyForUnlistedIssuer { .. }));
    }

    #[test]
    fn refuses_same_issuer_pinned_twice() {
        let e = err(&with("", "", "[keys]\n\"https://id.example.com\" = \"/a\"\n'https://id.example.com' = \"/b\""));
        assert!(matches!(e, Error::Syntax(toml::Error { kind: toml::ErrorKind::DuplicateKey { .. }, .. })));
    }

    #[test]
    fn refuses_duplicate_security_table() {
        let e = err(&format!("{MINIMAL}[security]\noffline = true\n"));
        assert!(matches!(e, Error::Syntax(toml::Error { kind: toml::ErrorKind::DuplicateTable { .. }, .. })));
    }

    #[test]
    fn escapes_hostile_text_in_error_messages() {
        let e = err("[\"\\u001b[31mred\"]\n");
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
        let e = err(&security("allowed_issuers = [\"https://a\\u001b]0;x\\u0007\"]\nallowed_approvers = [\"x\"]"));
        assert!(!e.to_string().chars().any(char::is_control), "{e}");
    }

    #[test]
    fn never_panics_on_hostile_inputs() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\xff\xfe",
            b"\0\0\0",
            b"[security]\nallowed_issuers = [",
            b"[keys]\n\"\" = \"/x\"",
            b"\xEF\xBB\xBF[security]",
            b"[[security]]",
            b"host = \"\\uD800\"",
        ];
        for input in inputs {
            assert!(parse(input).is_err());
        }
        let big = vec![b'#'; toml::MAX_INPUT + 1];
        assert!(matches!(parse(&big), Err(Error::Syntax(toml::Error { kind: toml::ErrorKind::TooLarge, .. }))));
    }

    #[test]
    fn never_panics_on_any_prefix_of_the_full_config() {
        for i in 0..=FULL.len() {
            let _ = parse(&FULL.as_bytes()[..i]);
        }
    }

    #[test]
    fn handles_many_issuers_and_keys_quickly() {
        let issuers: Vec<String> = (0..1500).map(|i| format!("\"https://i{i}\"")).collect();
        let keys: String = (0..1500).map(|i| format!("\"https://i{i}\" = \"/k\"\n")).collect();
        let text = format!(
            "[security]\nallowed_issuers = [{}]\nallowed_approvers = [\"x\"]\n[keys]\n{keys}",
            issuers.join(",")
        );
        assert!(text.len() <= toml::MAX_INPUT);
        assert_eq!(ok(&text).keys.len(), 1500);
    }

    // Helmets and jackets

    const HELPERS: &str = r#"
[[helmet]]
path = "/usr/local/libexec/jacket/timebox"
programs = ["/usr/local/libexec/doBackups"]
params = ["TZ=America/Denver", "TIMEBOX_INSIDE=0100<=%H%M<0500", "TIMEBOX_WARN=Backups run 01:00-05:00 only"]
timeout = 3

[[jacket]]
path = "/usr/local/libexec/jacket/stamp"

[[helmet]]
path = "/usr/local/libexec/jacket/envauth"
params = []
"#;

    #[test]
    fn reads_helmets_and_jackets_in_file_order_with_defaults() {
        let c = ok(&format!("{MINIMAL}{HELPERS}"));
        assert_eq!(
            c.helmets,
            vec![
                Helper {
                    path: "/usr/local/libexec/jacket/timebox".into(),
                    programs: Some(s(&["/usr/local/libexec/doBackups"])),
                    params: vec![
                        ("TZ".into(), "America/Denver".into()),
                        ("TIMEBOX_INSIDE".into(), "0100<=%H%M<0500".into()),
                        ("TIMEBOX_WARN".into(), "Backups run 01:00-05:00 only".into()),
                    ],
                    copies: vec![],
                    env: vec![],
                    timeout_secs: 3,
                },
                Helper {
                    path: "/usr/local/libexec/jacket/envauth".into(),
                    programs: None,
                    params: vec![],
                    copies: vec![],
                    env: vec![],
                    timeout_secs: DEFAULT_HELPER_TIMEOUT
                },
            ]
        );
        assert_eq!(c.jackets.len(), 1);
        assert_eq!(c.jackets[0].timeout_secs, DEFAULT_HELPER_TIMEOUT);
        assert!(ok(MINIMAL).helmets.is_empty() && ok(MINIMAL).jackets.is_empty());
    }

    #[test]
    fn a_helper_without_programs_applies_to_every_program_and_with_them_only_to_those() {
        let c = ok(&format!("{MINIMAL}{HELPERS}"));
        let is = |want: &'static [u8]| move |p: &[u8]| p == want;
        assert!(c.helmets[0].applies_to(is(b"/usr/local/libexec/doBackups")));
        assert!(!c.helmets[0].applies_to(is(b"/usr/local/libexec/doBackups2")));
        assert!(!c.helmets[0].applies_to(is(b"doBackups")));
        assert!(c.helmets[1].applies_to(is(b"/bin/anything")));
    }

    #[test]
    fn requires_a_path_for_every_helper() {
        let e = err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\n[[helmet]]\ntimeout = 2\n"));
        assert_eq!(e, Error::Missing { setting: setting(Section::Helmet(2), "path") });
        assert_eq!(e.to_string(), "\"path\" in [[helmet]] number 2 is required but missing");
    }

    #[test]
    fn refuses_relative_helper_paths_and_programs() {
        assert!(matches!(err(&format!("{MINIMAL}[[jacket]]\npath = \"jacket\"\n")), Error::PathNotAbsolute { .. }));
        assert!(matches!(
            err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\nprograms = [\"id\"]\n")),
            Error::PathNotAbsolute { .. }
        ));
        assert!(matches!(
            err(&format!("{MINIMAL}[[helmet]]\npath = \"/a/../b\"\n")),
            Error::PathParentComponent { .. }
        ));
        assert!(matches!(
            err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\nprograms = []\n")),
            Error::EmptyList { .. }
        ));
    }

    #[test]
    fn refuses_unknown_keys_in_helpers() {
        let e = err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\nprogram = [\"/x\"]\n"));
        assert_eq!(e, Error::UnknownKey { at: at(6, 1), setting: setting(Section::Helmet(1), "program") });
        assert_eq!(e.to_string(), "line 6, column 1: unknown key \"program\" in [[helmet]] number 1");
    }

    #[test]
    fn refuses_malformed_params() {
        for p in ["NOEQUALS", "=x", "1A=x", "A-B=x", "A B=x", "ESCAPES_GRANT_ID=forged", "A=x\\u0000y"] {
            let e = err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\nparams = [\"{p}\"]\n"));
            assert!(matches!(e, Error::BadParam { .. }), "{p}: {e}");
        }
        let c = ok(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\nparams = [\"_A1=\", \"B=x=y \"]\n"));
        assert_eq!(c.helmets[0].params, vec![("_A1".into(), "".into()), ("B".into(), "x=y ".into())]);
    }

    #[test]
    fn refuses_a_param_set_twice() {
        let e = err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\nparams = [\"A=1\", \"A=2\"]\n"));
        assert!(matches!(e, Error::DuplicateParam { ref name, .. } if name == "A"));
    }

    #[test]
    fn refuses_timeouts_out_of_range_or_of_the_wrong_type() {
        for t in ["0", "-1", "3601"] {
            let e = err(&format!("{MINIMAL}[[jacket]]\npath = \"/a\"\ntimeout = {t}\n"));
            assert!(matches!(e, Error::TimeoutOutOfRange { .. }), "{t}");
        }
        let e = err(&format!("{MINIMAL}[[jacket]]\npath = \"/a\"\ntimeout = \"5\"\n"));
        assert!(matches!(e, Error::WrongType { expected: Expected::Integer, .. }));
        assert_eq!(ok(&format!("{MINIMAL}[[jacket]]\npath = \"/a\"\ntimeout = 3600\n")).jackets[0].timeout_secs, 3600);
    }

    #[test]
    fn refuses_helpers_written_as_plain_tables_and_plain_tables_written_as_arrays() {
        let e = err(&format!("{MINIMAL}[helmet]\npath = \"/a\"\n"));
        assert_eq!(e, Error::TableKind { line: 4, name: "helmet".into(), array: false });
        assert!(e.to_string().contains("[[helmet]]"));
        let e = err("[[security]]\nallowed_issuers = [\"https://a\"]\nallowed_approvers = [\"x\"]\n");
        assert_eq!(e, Error::TableKind { line: 1, name: "security".into(), array: true });
        assert!(matches!(err(&format!("{MINIMAL}[[coat]]\n")), Error::UnknownTable { .. }));
    }

    #[test]
    fn a_duplicate_key_in_one_helper_is_an_error_but_the_same_key_in_two_is_not() {
        assert!(matches!(
            err(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\npath = \"/b\"\n")),
            Error::Syntax(toml::Error { kind: toml::ErrorKind::DuplicateKey { .. }, .. })
        ));
        assert_eq!(ok(&format!("{MINIMAL}[[helmet]]\npath = \"/a\"\n[[helmet]]\npath = \"/a\"\n")).helmets.len(), 2);
    }

    #[test]
    fn helper_params_may_copy_the_callers_variables_and_name_per_run_facts() {
        let c = ok(&format!("{MINIMAL}[[jacket]]\npath = \"/j\"\nparams = [\"$DISPLAY\", \"HOME=$H\", \"STAMP_SPEC=ecru/$l:TTY=$y\"]\nenv = [\"DISPLAY\", \"SSH_AUTH_SOCK\"]\n"));
        let j = &c.jackets[0];
        assert_eq!(j.copies, ["DISPLAY"]);
        assert_eq!(
            j.params,
            [("HOME".to_string(), "$H".to_string()), ("STAMP_SPEC".to_string(), "ecru/$l:TTY=$y".to_string())]
        );
        assert_eq!(j.env, ["DISPLAY", "SSH_AUTH_SOCK"]);
    }

    #[test]
    fn refuses_unknown_facts_and_names_a_helper_may_never_set() {
        for bad in [
            "params = [\"A=$x\"]",
            "params = [\"A=cost$\"]",
            "params = [\"$1X\"]",
            "params = [\"$DISPLAY\", \"DISPLAY=x\"]",
        ] {
            let e = err(&format!("{MINIMAL}[[helmet]]\npath = \"/h\"\n{bad}\n"));
            assert!(
                matches!(e, Error::BadFact { .. } | Error::BadParam { .. } | Error::DuplicateParam { .. }),
                "{bad}: {e}"
            );
        }
        for name in
            ["LD_PRELOAD", "PATH", "BASH_ENV", "LC_ALL", "TZ", "ESCAPES_RUN_AS", "PYTHONPATH", "HOME", "1X", "A-B"]
        {
            let e = err(&format!("{MINIMAL}[[helmet]]\npath = \"/h\"\nenv = [\"{name}\"]\n"));
            assert!(matches!(e, Error::ForbiddenEnv { .. }), "{name}: {e}");
            assert!(e.to_string().contains("is not a variable a helper may set"), "{e}");
        }
    }

    // --- [audit]: the system-log copy (issue 15) ---------------------------------------------

    #[test]
    fn audit_table_sets_the_system_log_copy() {
        use crate::policy::config::{SyslogMode as Mode, SyslogSettings as Settings};
        assert_eq!(ok(MINIMAL).syslog, Settings { mode: Mode::Auto, required: false });
        for (word, mode) in
            [("auto", Mode::Auto), ("journald", Mode::Journald), ("syslog", Mode::Syslog), ("off", Mode::Off)]
        {
            let c = ok(&format!("{MINIMAL}[audit]\nsyslog = \"{word}\"\nsyslog_required = true\n"));
            assert_eq!(c.syslog, Settings { mode, required: true });
        }
    }

    #[test]
    fn audit_table_refuses_other_words_types_and_keys() {
        let e = err(&format!("{MINIMAL}[audit]\nsyslog = \"rsyslog\"\n"));
        assert_eq!(e.to_string(), "line 5, column 1: \"syslog\" in [audit] is \"rsyslog\", must be one of \"auto\", \"journald\", \"syslog\" or \"off\"");
        assert!(matches!(err(&format!("{MINIMAL}[audit]\nsyslog = true\n")), Error::WrongType { .. }));
        assert!(matches!(err(&format!("{MINIMAL}[audit]\nsyslog = \"\"\n")), Error::EmptyString { .. }));
        assert!(matches!(err(&format!("{MINIMAL}[audit]\nsyslog_required = \"yes\"\n")), Error::WrongType { .. }));
        assert!(matches!(err(&format!("{MINIMAL}[audit]\nsyslog_timeout = 5\n")), Error::UnknownKey { .. }));
        assert!(matches!(err(&format!("{MINIMAL}[[audit]]\n")), Error::TableKind { .. }));
        assert!(matches!(err(&format!("{MINIMAL}[audit]\nsyslog = \"off\"\n[audit]\n")), Error::Syntax(_)));
    }
}
