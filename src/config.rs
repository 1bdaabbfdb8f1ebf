//! Config validation (stub: to be implemented).
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/openape/audit.log";
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub host: Option<String>,
    pub run_as: Option<String>,
    pub audit_log: String,
    pub allowed_issuers: Vec<String>,
    pub allowed_approvers: Vec<String>,
    pub allowed_audiences: Vec<String>,
    pub offline: bool,
    pub ca_bundle: Option<String>,
    pub keys: Vec<(String, String)>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error { Stub }
impl core::fmt::Display for Error { fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result { write!(f, "stub") } }
pub fn parse(_input: &[u8]) -> Result<Config, Error> { Err(Error::Stub) }
