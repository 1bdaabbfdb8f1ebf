//! The grant token as escapes reads it: the header, the claims it knows, and the signed bytes.
//! `parse::jwt` builds it; `policy::verify` decides on it. Nothing here says a token is
//! trustworthy.

/// Longest token accepted; real grants are well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    /// Empty when the token has no `aud`; a single string becomes one element.
    pub aud: Vec<String>,
    pub target_host: Option<String>,
    pub iat: Option<i64>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub jti: Option<String>,
    pub grant_id: Option<String>,
    pub grant_type: Option<String>,
    pub decided_by: Option<String>,
    pub command: Option<Vec<String>>,
    pub cmd_hash: Option<String>,
    pub run_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub header: Header,
    pub claims: Claims,
    /// `header_b64.payload_b64` exactly as received: the bytes the signature covers.
    pub signing_input: &'a [u8],
    pub signature: [u8; 64],
}

/// An Ed25519 public key usable for verifying grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub kid: String,
    pub x: [u8; 32],
}

/// The key whose `kid` is exactly `kid`; `parse` guarantees there is at most one.
pub fn find<'a>(keys: &'a [Key], kid: &str) -> Option<&'a Key> {
    keys.iter().find(|k| k.kid == kid)
}

/// How long a fetched key set is used without asking again: one hour, so a key the issuer
/// withdraws stops working within the hour (and a new `kid` is fetched at once anyway).
pub const MAX_CACHE_AGE_SECS: i64 = 3600;
/// A cache entry dated this far in the future means the clock moved: refetch.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The first line of a JWKS cache file (`parse::jwks_cache`).
pub const CACHE_MAGIC: &str = "escapes-jwks-cache 1";

/// Largest key set accepted; a real one holds a handful of keys in well under 4 KiB.
pub const MAX_JWKS_LEN: usize = 64 * 1024;
