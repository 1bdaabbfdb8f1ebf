//! The parse child's report (`sandbox`): a parsed grant token, or the parser's refusal, in a
//! fixed length-prefixed binary form the trusted parent can read back without a second
//! text parser. Decoding is total and strict: one report, every field in order, nothing after it.
//!
//! The signed bytes never travel: the child says how long the signing input is, and the parent
//! takes that prefix of the token it holds itself, so the signature it checks is over bytes it
//! read from the caller.

#![deny(unsafe_code)]

use std::fmt;

use crate::parse::base64url;
use crate::policy::token::{Claims, Header, Token};

const TOKEN: u8 = b'T';
const REFUSED: u8 = b'E';

/// Why a report could not be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The report ends inside a field.
    Truncated,
    /// Bytes follow the last field.
    Trailing,
    /// Not one of the report tags, or an option marker other than 0 or 1.
    BadTag,
    /// A text field is not UTF-8.
    NotUtf8,
    /// The signing input the child names is not `header.claims` of the token the parent holds.
    SigningInput,
    /// The signature the child reports is not the token's third part.
    Signature,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "report is truncated",
            Error::Trailing => "report has bytes after its end",
            Error::BadTag => "report has an unknown tag",
            Error::NotUtf8 => "report text is not UTF-8",
            Error::SigningInput => "report names a signing input the token does not have",
            Error::Signature => "report carries a signature the token does not have",
        })
    }
}

impl std::error::Error for Error {}

/// What the parent gets back: the token, or the parser's refusal as the text it would print.
pub type Parsed<'a> = Result<Token<'a>, String>;

/// Encodes `jwt::parse`'s result, with the error as its display text.
pub fn encode(parsed: &Result<Token<'_>, crate::parse::jwt::Error>) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(512));
    match parsed {
        Err(e) => {
            w.0.push(REFUSED);
            w.str(&e.to_string());
        }
        Ok(t) => {
            w.0.push(TOKEN);
            w.len(t.signing_input.len());
            w.0.extend_from_slice(&t.signature);
            w.str(&t.header.alg);
            w.opt_str(&t.header.kid);
            w.opt_str(&t.header.typ);
            let c = &t.claims;
            w.opt_str(&c.iss);
            w.opt_str(&c.sub);
            w.list(&c.aud);
            w.opt_str(&c.target_host);
            for n in [&c.iat, &c.exp, &c.nbf] {
                w.opt(n, |w, n| w.0.extend_from_slice(&n.to_be_bytes()));
            }
            for s in [&c.jti, &c.grant_id, &c.grant_type, &c.decided_by] {
                w.opt_str(s);
            }
            w.opt(&c.command, |w, v| w.list(v));
            w.opt_str(&c.cmd_hash);
            w.opt_str(&c.run_as);
        }
    }
    w.0
}

/// Reads back exactly one report as [`encode`] writes it; `token` is the grant the parent read,
/// whose prefix becomes the signing input.
pub fn decode<'a>(report: &[u8], token: &'a [u8]) -> Result<Parsed<'a>, Error> {
    let mut r = Reader(report);
    let parsed = match r.u8()? {
        REFUSED => Err(r.str()?),
        TOKEN => {
            let len = r.len()?;
            // `header.claims`: exactly one '.' inside, and the token's last '.' right after it.
            let signing_input = token
                .get(..len)
                .filter(|s| token.get(len) == Some(&b'.') && s.iter().filter(|&&b| b == b'.').count() == 1)
                .ok_or(Error::SigningInput)?;
            let signature: [u8; 64] = r.take(64)?.try_into().map_err(|_| Error::Truncated)?;
            // And the rest of the token is that signature, in the only spelling jwt::parse
            // accepts: so every byte the parent holds is what the issuer signed or wrote, and
            // nothing unsigned can ride along (an encoder, not a second parser).
            if token.get(len + 1..) != Some(base64url::encode(&signature).as_bytes()) {
                return Err(Error::Signature);
            }
            let header = Header { alg: r.str()?, kid: r.opt_str()?, typ: r.opt_str()? };
            let claims = Claims {
                iss: r.opt_str()?,
                sub: r.opt_str()?,
                aud: r.list()?,
                target_host: r.opt_str()?,
                iat: r.opt_i64()?,
                exp: r.opt_i64()?,
                nbf: r.opt_i64()?,
                jti: r.opt_str()?,
                grant_id: r.opt_str()?,
                grant_type: r.opt_str()?,
                decided_by: r.opt_str()?,
                command: r.opt(Reader::list)?,
                cmd_hash: r.opt_str()?,
                run_as: r.opt_str()?,
            };
            Ok(Token { header, claims, signing_input, signature })
        }
        _ => return Err(Error::BadTag),
    };
    if !r.0.is_empty() {
        return Err(Error::Trailing);
    }
    Ok(parsed)
}

struct Writer(Vec<u8>);

impl Writer {
    fn len(&mut self, n: usize) {
        // Every length here is bounded by the 16 KiB token; saturate rather than wrap.
        self.0.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    /// A marker byte, 0 for None or 1, then the value.
    fn opt<T>(&mut self, v: &Option<T>, put: impl FnOnce(&mut Self, &T)) {
        match v {
            None => self.0.push(0),
            Some(v) => {
                self.0.push(1);
                put(self, v);
            }
        }
    }
    fn opt_str(&mut self, s: &Option<String>) {
        self.opt(s, |w, s| w.str(s));
    }
    fn list(&mut self, v: &[String]) {
        self.len(v.len());
        for s in v {
            self.str(s);
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.0.len() {
            return Err(Error::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, Error> {
        Ok(*self.take(1)?.first().ok_or(Error::Truncated)?)
    }
    fn len(&mut self) -> Result<usize, Error> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| Error::Truncated)?;
        usize::try_from(u32::from_be_bytes(b)).map_err(|_| Error::Truncated)
    }
    /// [`Writer::opt`]'s marker, then the value if there is one.
    fn opt<T>(&mut self, get: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<Option<T>, Error> {
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            _ => Err(Error::BadTag),
        }
    }
    fn str(&mut self) -> Result<String, Error> {
        let n = self.len()?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| Error::NotUtf8)
    }
    fn opt_str(&mut self) -> Result<Option<String>, Error> {
        self.opt(Reader::str)
    }
    fn opt_i64(&mut self) -> Result<Option<i64>, Error> {
        self.opt(|r| {
            let b: [u8; 8] = r.take(8)?.try_into().map_err(|_| Error::Truncated)?;
            Ok(i64::from_be_bytes(b))
        })
    }
    fn list(&mut self) -> Result<Vec<String>, Error> {
        let n = self.len()?;
        // Each element needs at least its 4-byte length: a count the rest cannot hold is a lie,
        // refused before anything is allocated for it.
        if n > self.0.len() / 4 {
            return Err(Error::Truncated);
        }
        (0..n).map(|_| self.str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::jwt;

    fn token(claims: &str) -> String {
        let h = base64url::encode(br#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#);
        format!("{h}.{}.{}", base64url::encode(claims.as_bytes()), base64url::encode(&[7u8; 64]))
    }

    const FULL: &str = r#"{"iss":"https://id.example","sub":"agent@example","aud":["escapes","x"],"target_host":"h","iat":1,"exp":-2,"nbf":9223372036854775807,"jti":"j","grant_id":"g","grant_type":"once","decided_by":"alice@example","command":["/bin/echo","a b",""],"cmd_hash":"SHA-256:00","run_as":"root"}"#;

    #[test]
    fn a_token_round_trips_with_every_claim() {
        for claims in [FULL, r#"{}"#, r#"{"aud":"escapes","command":["x"]}"#] {
            let t = token(claims);
            let parsed = jwt::parse(t.as_bytes());
            assert!(parsed.is_ok(), "{claims}");
            let back = decode(&encode(&parsed), t.as_bytes()).unwrap();
            assert_eq!(back, parsed.map_err(|e| e.to_string()), "{claims}");
        }
    }

    #[test]
    fn a_refusal_round_trips_as_its_text() {
        let parsed = jwt::parse(b"not.a-token");
        let want = parsed.as_ref().err().unwrap().to_string();
        assert_eq!(decode(&encode(&parsed), b"not.a-token").unwrap(), Err(want));
    }

    #[test]
    fn every_truncation_and_any_trailing_byte_is_refused() {
        let t = token(FULL);
        let report = encode(&jwt::parse(t.as_bytes()));
        for n in 0..report.len() {
            assert!(decode(&report[..n], t.as_bytes()).is_err(), "prefix {n}");
        }
        let mut long = report.clone();
        long.push(0);
        assert_eq!(decode(&long, t.as_bytes()), Err(Error::Trailing));
    }

    #[test]
    fn the_signing_input_must_end_where_the_token_has_its_dot() {
        let t = token(FULL);
        let mut report = encode(&jwt::parse(t.as_bytes()));
        let real = u32::from_be_bytes(report[1..5].try_into().unwrap());
        for bad in [real - 1, real + 1, u32::MAX, t.len() as u32] {
            report[1..5].copy_from_slice(&bad.to_be_bytes());
            assert_eq!(decode(&report, t.as_bytes()), Err(Error::SigningInput), "{bad}");
        }
        // The same report against a shorter token the parent holds.
        report[1..5].copy_from_slice(&real.to_be_bytes());
        assert_eq!(decode(&report, &t.as_bytes()[..real as usize]), Err(Error::SigningInput));
    }

    #[test]
    fn the_signature_must_be_the_tokens_own_third_part() {
        let t = token(FULL);
        let mut report = encode(&jwt::parse(t.as_bytes()));
        // Another signature than the token carries.
        report[5] ^= 1;
        assert_eq!(decode(&report, t.as_bytes()), Err(Error::Signature));
        report[5] ^= 1;
        // The same report against the token with unsigned bytes appended to its signature part.
        let longer = format!("{t}AAAA");
        assert_eq!(decode(&report, longer.as_bytes()), Err(Error::Signature));
        // Or as a fourth segment.
        let four = format!("{t}.AAAA");
        assert_eq!(decode(&report, four.as_bytes()), Err(Error::Signature));
        assert!(decode(&report, t.as_bytes()).is_ok());
    }

    #[test]
    fn hostile_reports_are_refused_without_allocating_for_their_counts() {
        assert_eq!(decode(b"", b""), Err(Error::Truncated));
        assert_eq!(decode(b"X", b""), Err(Error::BadTag));
        assert_eq!(decode(b"E\xff\xff\xff\xff", b""), Err(Error::Truncated));
        assert_eq!(decode(b"E\x00\x00\x00\x01\xff", b""), Err(Error::NotUtf8));
        // A list count of 2^32-1 with nothing behind it.
        let t = token("{}");
        let mut w = Writer(vec![TOKEN]);
        let dot2 = t.rfind('.').unwrap();
        w.len(dot2);
        w.0.extend_from_slice(&[7u8; 64]);
        w.str("EdDSA");
        w.0.extend_from_slice(&[0, 0, 0, 0]); // kid, typ, iss, sub absent
        w.0.extend_from_slice(&u32::MAX.to_be_bytes()); // aud: 4 billion strings
        assert_eq!(decode(&w.0, t.as_bytes()), Err(Error::Truncated));
        // An option marker other than 0/1.
        let mut w = Writer(vec![TOKEN]);
        w.len(dot2);
        w.0.extend_from_slice(&[7u8; 64]);
        w.str("EdDSA");
        w.0.push(2);
        assert_eq!(decode(&w.0, t.as_bytes()), Err(Error::BadTag));
    }
}
