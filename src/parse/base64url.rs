//! Strict unpadded base64url (RFC 4648 §5).
//!
//! Invariant: every byte string has exactly one accepted encoding, so a token cannot be
//! re-encoded into a different-looking but equally valid form (no padding, no whitespace,
//! no non-zero leftover bits). The encoder, which the root process needs, is
//! `policy::base64url`.

#![deny(unsafe_code)]

use crate::policy::base64url::low_byte;
use std::fmt;

/// Why a base64url string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A byte outside `A-Z a-z 0-9 - _` (this includes `=` padding and whitespace).
    InvalidCharacter { offset: usize, byte: u8 },
    /// Length leaves a single 6-bit symbol at the end, which cannot encode a whole byte.
    InvalidLength { len: usize },
    /// The final symbol carries bits that no byte uses; a canonical encoder writes zeros there.
    NonCanonical,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidCharacter { offset, byte } => write!(
                f,
                "base64url: byte 0x{byte:02x} at offset {offset} is not in the base64url alphabet \
                 (padding and whitespace are not allowed)"
            ),
            Error::InvalidLength { len } => {
                write!(f, "base64url: length {len} is impossible for unpadded base64url")
            }
            Error::NonCanonical => {
                write!(f, "base64url: the last character has unused bits set (not a canonical encoding)")
            }
        }
    }
}

impl std::error::Error for Error {}

fn symbol_value(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Accepts exactly the canonical, unpadded RFC 4648 §5 encoding of a byte string.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    // `acc` holds at most 6 + 7 = 13 significant bits: whole bytes are flushed as soon as they form.
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for (offset, &byte) in input.iter().enumerate() {
        let v = symbol_value(byte).ok_or(Error::InvalidCharacter { offset, byte })?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(low_byte(acc >> bits));
            acc &= (1 << bits) - 1;
        }
    }
    // Checked after the alphabet so that a stray newline or '=' is reported as such.
    if input.len() % 4 == 1 {
        return Err(Error::InvalidLength { len: input.len() });
    }
    if acc != 0 {
        return Err(Error::NonCanonical);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::base64url::encode;

    // RFC 4648 §10 vectors, unpadded (the alphabet differences do not arise for these inputs).
    const RFC4648: &[(&str, &str)] = &[
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn decodes_rfc4648_vectors() {
        for (plain, enc) in RFC4648 {
            assert_eq!(decode(enc.as_bytes()), Ok(plain.as_bytes().to_vec()), "{enc}");
        }
    }

    #[test]
    fn encodes_rfc4648_vectors() {
        for (plain, enc) in RFC4648 {
            assert_eq!(encode(plain.as_bytes()), *enc);
        }
    }

    #[test]
    fn uses_url_safe_alphabet() {
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(decode(b"-_-_"), Ok(vec![0xfb, 0xff, 0xbf]));
    }

    #[test]
    fn refuses_standard_alphabet_symbols() {
        assert_eq!(decode(b"+/+/"), Err(Error::InvalidCharacter { offset: 0, byte: b'+' }));
        assert_eq!(decode(b"ab/c"), Err(Error::InvalidCharacter { offset: 2, byte: b'/' }));
    }

    #[test]
    fn refuses_padding() {
        assert_eq!(decode(b"Zg=="), Err(Error::InvalidCharacter { offset: 2, byte: b'=' }));
        assert_eq!(decode(b"Zm8="), Err(Error::InvalidCharacter { offset: 3, byte: b'=' }));
    }

    #[test]
    fn refuses_whitespace() {
        assert_eq!(decode(b"Zm9v\n"), Err(Error::InvalidCharacter { offset: 4, byte: b'\n' }));
        assert_eq!(decode(b"Zm 9v"), Err(Error::InvalidCharacter { offset: 2, byte: b' ' }));
    }

    #[test]
    fn refuses_non_ascii() {
        assert_eq!(decode(&[b'Z', 0xc3, 0xa9]), Err(Error::InvalidCharacter { offset: 1, byte: 0xc3 }));
    }

    #[test]
    fn refuses_length_one_mod_four() {
        assert_eq!(decode(b"Z"), Err(Error::InvalidLength { len: 1 }));
        assert_eq!(decode(b"Zm9vY"), Err(Error::InvalidLength { len: 5 }));
    }

    #[test]
    fn refuses_nonzero_trailing_bits() {
        // "Zh" and "Zm9" differ from "Zg"/"Zm8" only in bits no byte uses.
        assert_eq!(decode(b"Zh"), Err(Error::NonCanonical));
        assert_eq!(decode(b"Zm9"), Err(Error::NonCanonical));
        assert_eq!(decode(b"Zm9vYh"), Err(Error::NonCanonical));
    }

    #[test]
    fn round_trips_every_length_and_byte() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            let slice = data.get(..len).unwrap_or_default();
            let enc = encode(slice);
            assert_eq!(decode(enc.as_bytes()).as_deref(), Ok(slice));
        }
    }

    #[test]
    fn accepted_input_reencodes_to_itself() {
        // Exhaustive over all 2- and 3-symbol strings: each accepted one is canonical.
        let alphabet: Vec<u8> = (0u8..=255).filter(|b| symbol_value(*b).is_some()).collect();
        for &a in &alphabet {
            for &b in &alphabet {
                let two = [a, b];
                if let Ok(bytes) = decode(&two) {
                    assert_eq!(encode(&bytes).as_bytes(), &two);
                }
                for &c in &alphabet {
                    let three = [a, b, c];
                    if let Ok(bytes) = decode(&three) {
                        assert_eq!(encode(&bytes).as_bytes(), &three);
                    }
                }
            }
        }
    }
}
