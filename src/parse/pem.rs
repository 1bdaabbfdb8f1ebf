//! PEM (RFC 7468) as found in a CA bundle named by `[tls] ca_bundle`: the DER bytes of every
//! `CERTIFICATE` block.
//!
//! Decisions, all in the direction of refusing a bundle that might not mean what it seems:
//! - Text between blocks is skipped (Mozilla-derived bundles carry `# Issuer:` comments and
//!   `openssl x509 -text` dumps), but any line there starting with `-----` (after blanks) must
//!   be a well-formed BEGIN line, so a damaged or indented boundary cannot hide a certificate.
//! - A block of any other type is refused, not skipped: a private key in a trust bundle is a
//!   mistake worth stopping for, and `TRUSTED CERTIFICATE` carries OpenSSL trust settings we
//!   would silently ignore.
//! - Inside a block only base64 lines are allowed (no RFC 1421 headers, no blank lines); the
//!   base64 is the standard alphabet with `=` padding, canonical (unused bits zero).

use crate::policy::config::MAX_BUNDLE;
use std::fmt;

/// More roots than any real bundle has.
pub const MAX_CERTS: usize = 1000;

/// Why a bundle was refused; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    TooLarge,
    TooManyCertificates,
    NoCertificates,
    /// A line outside any block starts with `-----` but is not a BEGIN line we can read.
    BadBoundary {
        line: usize,
    },
    OtherBlock {
        line: usize,
        label: String,
    },
    NestedBegin {
        line: usize,
    },
    WrongEnd {
        line: usize,
    },
    Unterminated {
        line: usize,
    },
    BadBase64 {
        line: usize,
    },
    EmptyBlock {
        line: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge => write!(f, "CA bundle is larger than {MAX_BUNDLE} bytes"),
            Error::TooManyCertificates => write!(f, "CA bundle holds more than {MAX_CERTS} certificates"),
            Error::NoCertificates => f.write_str("CA bundle holds no CERTIFICATE block"),
            Error::BadBoundary { line } => {
                write!(f, "line {line}: malformed PEM boundary (expected -----BEGIN CERTIFICATE-----)")
            }
            Error::OtherBlock { line, label } => {
                write!(f, "line {line}: a {label:?} block; a CA bundle may hold only CERTIFICATE blocks")
            }
            Error::NestedBegin { line } => write!(f, "line {line}: BEGIN inside a block that has not ended"),
            Error::WrongEnd { line } => write!(f, "line {line}: block does not end with -----END CERTIFICATE-----"),
            Error::Unterminated { line } => write!(f, "block starting at line {line} never ends"),
            Error::BadBase64 { line } => write!(f, "line {line}: not valid base64 certificate data"),
            Error::EmptyBlock { line } => write!(f, "line {line}: certificate block is empty"),
        }
    }
}

impl std::error::Error for Error {}

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// Accepts text of at most [`MAX_BUNDLE`] bytes holding 1 to [`MAX_CERTS`] `CERTIFICATE`
/// blocks (LF or CRLF line ends, trailing blanks ignored) and nothing but skippable text
/// between them; returns each block's decoded DER in order.
pub fn certificates(input: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    if input.len() > MAX_BUNDLE {
        return Err(Error::TooLarge);
    }
    let mut certs = Vec::new();
    // Inside a block: the line it began on and the base64 gathered so far.
    let mut open: Option<(usize, Vec<u8>)> = None;
    // The newline ending the last line does not start another one.
    let text = input.strip_suffix(b"\n").unwrap_or(input);
    for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        let line = trim_end(raw);
        match open.as_mut() {
            None => {
                // Indented boundaries are refused below rather than skipped as text.
                if !line.trim_ascii_start().starts_with(DASHES) {
                    continue;
                }
                let label = boundary(line, BEGIN).ok_or(Error::BadBoundary { line: n })?;
                if label != b"CERTIFICATE" {
                    return Err(Error::OtherBlock { line: n, label: String::from_utf8_lossy(label).into_owned() });
                }
                open = Some((n, Vec::new()));
            }
            Some((start, b64)) => {
                if line.starts_with(BEGIN) {
                    return Err(Error::NestedBegin { line: n });
                }
                if line.starts_with(DASHES) {
                    if boundary(line, END) != Some(b"CERTIFICATE") {
                        return Err(Error::WrongEnd { line: n });
                    }
                    let der = decode(b64).ok_or(Error::BadBase64 { line: *start })?;
                    if der.is_empty() {
                        return Err(Error::EmptyBlock { line: *start });
                    }
                    if certs.len() == MAX_CERTS {
                        return Err(Error::TooManyCertificates);
                    }
                    certs.push(der);
                    open = None;
                    continue;
                }
                if line.is_empty() || !line.iter().all(|b| b64_value(*b).is_some() || *b == b'=') {
                    return Err(Error::BadBase64 { line: n });
                }
                b64.extend_from_slice(line);
            }
        }
    }
    if let Some((start, _)) = open {
        return Err(Error::Unterminated { line: start });
    }
    if certs.is_empty() {
        return Err(Error::NoCertificates);
    }
    Ok(certs)
}

/// One CR (of CRLF) and trailing spaces and tabs removed.
fn trim_end(line: &[u8]) -> &[u8] {
    let end = line.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\r')).map_or(0, |p| p + 1);
    line.get(..end).unwrap_or(&[])
}

/// The label of `-----BEGIN label-----` (or END): printable ASCII, not starting or ending
/// with a space, no hyphen runs that could blur the boundary.
fn boundary<'a>(line: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    let label = line.strip_prefix(kind)?.strip_suffix(DASHES)?;
    let ok = !label.is_empty()
        && label.iter().all(|b| (0x21..0x7f).contains(b) || *b == b' ')
        && !label.starts_with(b" ")
        && !label.ends_with(b" ")
        && !label.ends_with(b"-")
        && !label.starts_with(b"-");
    ok.then_some(label)
}

fn b64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Standard base64 with padding: length a multiple of 4, `=` only as the last one or two
/// characters, and the bits padding discards must be zero (one encoding per byte string).
fn decode(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let pad = s.iter().rev().take_while(|b| **b == b'=').count();
    if pad > 2 {
        return None;
    }
    let data = s.get(..s.len() - pad)?;
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in data {
        acc = (acc << 6) | u32::from(b64_value(*b)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // What is left over is the padding's share: it must be zero.
    if acc != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBAQ==\n-----END CERTIFICATE-----\n";

    #[test]
    fn reads_certificate_blocks_and_skips_text_between() {
        let s = format!("# Issuer: CN=Test\n{CERT}\nsome text\n{}", CERT.replace("MIIBAQ==", "MIIB\r\nAg=="));
        assert_eq!(certificates(s.as_bytes()), Ok(vec![vec![0x30, 0x82, 0x01, 0x01], vec![0x30, 0x82, 0x01, 0x02]]));
    }

    #[test]
    fn accepts_crlf_and_trailing_blanks() {
        let s = "-----BEGIN CERTIFICATE----- \r\nMIIBAQ==\t\r\n-----END CERTIFICATE-----\r\n";
        assert_eq!(certificates(s.as_bytes()).map(|c| c.len()), Ok(1));
    }

    #[test]
    fn refuses_private_keys_and_trusted_certificates() {
        for label in ["PRIVATE KEY", "RSA PRIVATE KEY", "TRUSTED CERTIFICATE", "X509 CRL"] {
            let s = format!("{CERT}-----BEGIN {label}-----\nMIIBAQ==\n-----END {label}-----\n");
            assert_eq!(certificates(s.as_bytes()), Err(Error::OtherBlock { line: 4, label: label.into() }));
        }
    }

    #[test]
    fn refuses_damaged_boundaries() {
        assert_eq!(certificates(b"-----BEGIN CERTIFICATE\nMIIBAQ==\n"), Err(Error::BadBoundary { line: 1 }));
        assert_eq!(
            certificates(b"-----BEGIN CERTIFICATE-----\nMIIBAQ==\n-----END CERT-----\n"),
            Err(Error::WrongEnd { line: 3 })
        );
        assert_eq!(certificates(b"-----BEGIN CERTIFICATE-----\nMIIBAQ==\n"), Err(Error::Unterminated { line: 1 }));
        assert_eq!(
            certificates(b"-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n"),
            Err(Error::NestedBegin { line: 2 })
        );
        assert_eq!(
            certificates(b" -----BEGIN CERTIFICATE-----\nMIIBAQ==\n-----END CERTIFICATE-----\n"),
            Err(Error::BadBoundary { line: 1 })
        );
        assert_eq!(certificates(b"text\n-----END CERTIFICATE-----\n"), Err(Error::BadBoundary { line: 2 }));
    }

    #[test]
    fn refuses_non_canonical_or_unpadded_base64() {
        for body in
            ["MIIBAQ", "MIIBAR==", "MIIB=Q==", "MIIBAQ===", "MI-BAQ==", "MI_BAQ==", "Proc-Type: 4,ENCRYPTED", ""]
        {
            let s = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
            assert!(matches!(certificates(s.as_bytes()), Err(Error::BadBase64 { .. })), "{body:?}");
        }
    }

    #[test]
    fn refuses_padding_in_the_middle() {
        let s = "-----BEGIN CERTIFICATE-----\nMA==\nMA==\n-----END CERTIFICATE-----\n";
        assert_eq!(certificates(s.as_bytes()), Err(Error::BadBase64 { line: 1 }));
    }

    #[test]
    fn refuses_empty_bundles_and_blocks() {
        assert_eq!(certificates(b"# nothing here\n"), Err(Error::NoCertificates));
        assert_eq!(
            certificates(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
            Err(Error::EmptyBlock { line: 1 })
        );
    }

    #[test]
    fn round_trips_every_length() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for len in 0..40usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let mut enc = String::new();
            for chunk in data.chunks(3) {
                let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for k in 0..4 {
                    if k <= chunk.len() {
                        enc.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
                    } else {
                        enc.push('=');
                    }
                }
            }
            assert_eq!(decode(enc.as_bytes()), Some(data), "{enc}");
        }
    }
}
