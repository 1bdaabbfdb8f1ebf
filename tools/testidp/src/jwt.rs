//! Ed25519 signing keys, compact JWS signing/verification, and small encoding helpers.
//! Signing uses `ring` (escapes verifies with `salty`: two independent implementations).

use ring::rand::SecureRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde_json::{json, Value};

pub struct SigningKey {
    pub kid: String,
    pub seed: [u8; 32],
    pair: Ed25519KeyPair,
    /// Listed in the JWKS. Retired keys stay here (for verifying our own old tokens) unlisted.
    pub published: bool,
}

impl SigningKey {
    pub fn new(kid: String, seed: [u8; 32]) -> SigningKey {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("ed25519 seed");
        SigningKey { kid, seed, pair, published: true }
    }

    pub fn public(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// One JWK, members in the order the OpenApe IdP (and escapes-testkit) writes them.
    pub fn jwk(&self) -> String {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":{},"alg":"EdDSA","use":"sig"}}"#,
            b64url(self.public()),
            json!(self.kid)
        )
    }

    /// Compact JWS with header `{"alg":"EdDSA","typ":"JWT","kid":…}` (in that order) over the
    /// claims' JSON.
    pub fn sign(&self, claims: &Value) -> String {
        let header = format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":{}}}"#, json!(self.kid));
        let input = format!("{}.{}", b64url(header.as_bytes()), b64url(claims.to_string().as_bytes()));
        let sig = self.pair.sign(input.as_bytes());
        format!("{input}.{}", b64url(sig.as_ref()))
    }
}

/// Verifies a compact JWS against `keys` (by kid, EdDSA only); returns the claims.
pub fn verify(token: &str, keys: &[SigningKey], now: i64) -> Result<Value, &'static str> {
    let mut parts = token.split('.');
    let (h, c, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => (h, c, s),
        _ => return Err("not a compact JWS"),
    };
    let header: Value =
        serde_json::from_slice(&b64url_decode(h).ok_or("bad header encoding")?).map_err(|_| "bad header JSON")?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err("alg must be EdDSA");
    }
    let kid = header.get("kid").and_then(Value::as_str).ok_or("missing kid")?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or("unknown kid")?;
    let sig = b64url_decode(s).ok_or("bad signature encoding")?;
    let input = &token[..h.len() + 1 + c.len()];
    UnparsedPublicKey::new(&ED25519, key.public()).verify(input.as_bytes(), &sig).map_err(|_| "bad signature")?;
    let claims: Value =
        serde_json::from_slice(&b64url_decode(c).ok_or("bad claims encoding")?).map_err(|_| "bad claims JSON")?;
    if !claims.is_object() {
        return Err("claims are not an object");
    }
    if let Some(exp) = claims.get("exp") {
        let exp = exp.as_i64().ok_or("exp is not an integer")?;
        if exp < now {
            return Err("token expired");
        }
    }
    Ok(claims)
}

pub fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for s in &[n >> 18, n >> 12, n >> 6, n][..chunk.len() + 1] {
            out.push(char::from(A[(s & 63) as usize]));
        }
    }
    out
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    ring::rand::SystemRandom::new().fill(&mut b).expect("system random");
    b
}

/// A random (version 4) UUID.
pub fn uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// OpenApe cmd_hash: lowercase hex SHA-256 of the argv joined with single spaces.
pub fn cmd_hash(argv: &[String]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, argv.join(" ").as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64url_roundtrip_and_vectors() {
        for (i, o) in [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg")] {
            assert_eq!(b64url(i.as_bytes()), o);
            assert_eq!(b64url_decode(o).unwrap(), i.as_bytes());
        }
        assert_eq!(b64url_decode("a"), None);
        assert_eq!(b64url_decode("a=="), None);
    }

    #[test]
    fn cmd_hash_matches_wire_doc() {
        assert_eq!(cmd_hash(&["whoami".into()]), "f25297859cf0a70af5c053a5464a5fa647a35ceee1d91397331903846d79ffc1");
        assert_eq!(
            cmd_hash(&["apt-get".into(), "upgrade".into()]),
            "2599c6943bd5e3728bb2b3c170785891392a1fec3b23496f9f6dfcfc22d51106"
        );
    }

    #[test]
    fn rfc8032_public_key_and_sign_verify() {
        let seed = unhex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
        let k = SigningKey::new("key-1".into(), seed);
        assert_eq!(hex(k.public()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let t = k.sign(&json!({"a":1,"exp":100}));
        assert_eq!(verify(&t, std::slice::from_ref(&k), 50).unwrap()["a"], 1);
        assert_eq!(verify(&t, std::slice::from_ref(&k), 101), Err("token expired"));
        let i = t.len() - 10;
        let bad = format!("{}{}{}", &t[..i], if &t[i..i + 1] == "A" { "B" } else { "A" }, &t[i + 1..]);
        assert!(verify(&bad, std::slice::from_ref(&k), 50).is_err());
    }
}
