//! JWT compact form (stub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header { pub alg: String, pub kid: Option<String>, pub typ: Option<String> }
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    pub iss: Option<String>, pub sub: Option<String>, pub aud: Vec<String>,
    pub target_host: Option<String>, pub iat: Option<i64>, pub exp: Option<i64>, pub nbf: Option<i64>,
    pub jti: Option<String>, pub grant_id: Option<String>, pub grant_type: Option<String>,
    pub decided_by: Option<String>, pub command: Option<Vec<String>>, pub cmd_hash: Option<String>,
    pub run_as: Option<String>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> { pub header: Header, pub claims: Claims, pub signing_input: &'a [u8], pub signature: [u8; 64] }
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error { Stub }
pub fn parse(_input: &[u8]) -> Result<Token<'_>, Error> { Err(Error::Stub) }
