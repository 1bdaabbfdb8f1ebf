//! The JWKS cache file's format: a header naming the format, the issuer and the fetch time, then
//! the key set exactly as the issuer served it. [`decode`] is the parser; `keys::cache_entry`
//! writes what it accepts.

use crate::parse::jwks;
use crate::policy::token::{Key, CACHE_MAGIC, CLOCK_SKEW_SECS, MAX_CACHE_AGE_SECS};

/// Why a cache entry is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    Format,
    OtherIssuer,
    Stale { age: i64 },
    FromTheFuture,
    Jwks(jwks::Error),
}

impl core::fmt::Display for CacheError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CacheError::Format => f.write_str("not an escapes JWKS cache file"),
            CacheError::OtherIssuer => f.write_str("entry is for another issuer"),
            CacheError::Stale { age } => write!(f, "entry is {age} s old (limit {MAX_CACHE_AGE_SECS} s)"),
            CacheError::FromTheFuture => f.write_str("entry is dated in the future"),
            CacheError::Jwks(e) => write!(f, "{e}"),
        }
    }
}

/// Accepts what `keys::cache_entry` writes for `issuer`, fetched at most
/// [`MAX_CACHE_AGE_SECS`] before `now` (and not more than a minute after it), holding a key
/// set [`jwks::parse`] accepts.
pub fn decode(bytes: &[u8], issuer: &str, now: i64) -> Result<Vec<Key>, CacheError> {
    let mut parts = bytes.splitn(5, |b| *b == b'\n');
    let mut next = || parts.next().ok_or(CacheError::Format);
    if next()? != CACHE_MAGIC.as_bytes() {
        return Err(CacheError::Format);
    }
    let iss = next()?.strip_prefix(b"issuer ").ok_or(CacheError::Format)?;
    if iss != issuer.as_bytes() {
        return Err(CacheError::OtherIssuer);
    }
    let t = next()?.strip_prefix(b"fetched ").ok_or(CacheError::Format)?;
    let t = std::str::from_utf8(t)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(CacheError::Format)?;
    let fetched: i64 = t.parse().map_err(|_| CacheError::Format)?;
    if !next()?.is_empty() {
        return Err(CacheError::Format);
    }
    let raw = next()?;
    if fetched > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(CacheError::FromTheFuture);
    }
    let age = now.saturating_sub(fetched);
    if age > MAX_CACHE_AGE_SECS {
        return Err(CacheError::Stale { age });
    }
    jwks::parse(raw).map_err(CacheError::Jwks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::root::keys::cache_entry as encode;

    const ISS: &str = "https://id.example.com";
    const JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1","alg":"EdDSA","use":"sig"}]}"#;

    #[test]
    fn cache_round_trips_while_fresh() {
        let c = encode(ISS, 1000, JWKS.as_bytes());
        let keys = decode(&c, ISS, 1000 + MAX_CACHE_AGE_SECS).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid, "k1");
    }

    #[test]
    fn stale_or_future_cache_is_not_used() {
        let c = encode(ISS, 1000, JWKS.as_bytes());
        assert_eq!(decode(&c, ISS, 1001 + MAX_CACHE_AGE_SECS), Err(CacheError::Stale { age: MAX_CACHE_AGE_SECS + 1 }));
        assert_eq!(decode(&c, ISS, 1000 - CLOCK_SKEW_SECS - 1), Err(CacheError::FromTheFuture));
    }

    #[test]
    fn cache_for_another_issuer_is_not_used() {
        let c = encode("https://other.example", 1000, JWKS.as_bytes());
        assert_eq!(decode(&c, ISS, 1000), Err(CacheError::OtherIssuer));
    }

    #[test]
    fn damaged_cache_is_not_used() {
        for bad in [
            &b""[..],
            b"escapes-jwks-cache 2\nissuer https://id.example.com\nfetched 1000\n\n{}",
            b"escapes-jwks-cache 1\nissuer https://id.example.com\nfetched -1\n\n{}",
            b"escapes-jwks-cache 1\nissuer https://id.example.com\nfetched 1000\nx\n{}",
            b"escapes-jwks-cache 1\nissuer https://id.example.com\nfetched 1000",
        ] {
            assert_eq!(decode(bad, ISS, 1000), Err(CacheError::Format), "{}", String::from_utf8_lossy(bad));
        }
        let c = encode(ISS, 1000, b"{\"keys\":1}");
        assert!(matches!(decode(&c, ISS, 1000), Err(CacheError::Jwks(_))));
    }
}
