//! Unpadded base64url (RFC 4648 §5) encoding: the one spelling `parse::base64url::decode`
//! accepts for a byte string. Apart from the decoder because the root process needs only this
//! (it checks a token's signature segment is the spelling of the signature it verifies).

#![forbid(unsafe_code)]

/// Encodes without padding; `parse::base64url::decode(encode(b)) == Ok(b)` for every `b`.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity((input.len() / 3).saturating_mul(4).saturating_add(4));
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in input {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(symbol(acc >> bits));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(symbol(acc << (6 - bits)));
    }
    out
}

fn symbol(v: u32) -> char {
    // Callers mask to 6 bits; the final arm therefore only ever sees 63.
    let b = match v & 0x3f {
        n @ 0..=25 => b'A' + low_byte(n),
        n @ 26..=51 => b'a' + low_byte(n - 26),
        n @ 52..=61 => b'0' + low_byte(n - 52),
        62 => b'-',
        _ => b'_',
    };
    char::from(b)
}

/// The low eight bits of `v`.
pub(crate) fn low_byte(v: u32) -> u8 {
    let [_, _, _, b] = v.to_be_bytes();
    b
}
