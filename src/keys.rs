//! Finding the issuer's public key by `kid`. Pinned JWKS files (root-owned, named in
//! `[keys]`) are the offline source; fetching over HTTPS slots in where `NoSource` is returned.

use crate::config::Config;
use crate::jwks;
use crate::trusted_file;

/// Pinned key files are small; anything bigger is a mistake.
pub const MAX_JWKS_FILE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No pinned keys for this issuer, and no network source (yet).
    NoSource { issuer: String },
    File(trusted_file::Error),
    Jwks { path: String, error: jwks::Error },
    UnknownKid { issuer: String, kid: String },
}

impl Error {
    /// A missing or broken key source is the admin's problem (exit 1); an unknown kid is the
    /// token's (exit 5).
    pub fn is_token_fault(&self) -> bool {
        matches!(self, Error::UnknownKid { .. })
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::NoSource { issuer } => write!(f, "no pinned keys for issuer {issuer:?} in [keys], and fetching JWKS is not available"),
            Error::File(e) => write!(f, "key file {e}"),
            Error::Jwks { path, error } => write!(f, "key file {path}: {error}"),
            Error::UnknownKid { issuer, kid } => write!(f, "issuer {issuer:?} has no Ed25519 key with kid {kid:?}"),
        }
    }
}

/// The 32-byte Ed25519 public key that `issuer` publishes under `kid`.
pub fn lookup(cfg: &Config, issuer: &str, kid: &str) -> Result<[u8; 32], Error> {
    let path = cfg
        .keys
        .iter()
        .find(|(iss, _)| iss == issuer)
        .map(|(_, p)| p.as_str())
        .ok_or_else(|| Error::NoSource { issuer: issuer.into() })?;
    let bytes = trusted_file::read(path, MAX_JWKS_FILE).map_err(Error::File)?;
    let keys = jwks::parse(&bytes).map_err(|error| Error::Jwks { path: path.into(), error })?;
    jwks::find(&keys, kid)
        .map(|k| k.x)
        .ok_or_else(|| Error::UnknownKid { issuer: issuer.into(), kid: kid.into() })
}
