//! Strict Ed25519 verification (RFC 8032 §5.1.7 with every malleability door closed).
//!
//! Invariant: `verify_strict` returns `Ok` exactly when `ed25519-dalek` 2.x
//! `VerifyingKey::verify_strict` would, with one deliberate, unobservable tightening: a key whose
//! y is written as y + p is refused here, while dalek reduces it. Producing a signature that
//! dalek accepts for such a key needs the discrete logarithm of a point with tiny y, so no
//! input anyone can construct tells the two apart (`tests/ed25519_vectors.rs` checks the rest).
//!
//! The strictness checks are byte comparisons (S < L; A and R canonical and not among the eight
//! small-order encodings), then `ring` (already linked for TLS) evaluates the cofactorless
//! equation; see the benchmark (bench/RESULTS.md) and SECURITY.md. A point that is not on the
//! curve is refused by ring, so it is reported as `BadSignature`.
//!
//! The tests hold it against an independent pure-Rust reference on `salty`'s arithmetic
//! (`tests/support/ed25519_reference.rs`, a dev-dependency only), which proves the tables below
//! by computation, and against `ed25519-dalek` (tests/ed25519_vectors.rs).

use core::fmt;

/// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// The field prime p = 2^255 - 19, little-endian.
const P: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// S ≥ L: S and S + L verify alike, so accepting it would make signatures malleable.
    NonCanonicalS,
    /// The key's y is not below p, or the key encodes x = 0 with the sign bit set.
    NonCanonicalKey,
    /// The key's y is not the y of any curve point (the pure-Rust reference says so; ring,
    /// which escapes uses, reports it as `BadSignature`).
    #[allow(dead_code)]
    InvalidKey,
    /// The key's order divides 8: with it, one signature can verify for many messages.
    SmallOrderKey,
    /// R's y is not below p, or R encodes x = 0 with the sign bit set.
    NonCanonicalR,
    /// R's y is not the y of any curve point (as `InvalidKey`).
    #[allow(dead_code)]
    InvalidR,
    /// R's order divides 8.
    SmallOrderR,
    /// The encodings are sound but [S]B ≠ R + [H(R ‖ A ‖ M)]A.
    BadSignature,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::NonCanonicalS => "signature scalar S is not below the group order",
            Error::NonCanonicalKey => "public key is not a canonical point encoding",
            Error::InvalidKey => "public key is not a point on the curve",
            Error::SmallOrderKey => "public key is a small-order point",
            Error::NonCanonicalR => "signature point R is not a canonical point encoding",
            Error::InvalidR => "signature point R is not a point on the curve",
            Error::SmallOrderR => "signature point R is a small-order point",
            Error::BadSignature => "signature does not verify",
        })
    }
}

/// The canonical encodings of the eight points of order dividing 8 (the whole 8-torsion
/// subgroup: the unit tests prove it with the reference's arithmetic).
const SMALL_ORDER: [[u8; 32]; 8] = [
    hex32("0100000000000000000000000000000000000000000000000000000000000000"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("0000000000000000000000000000000000000000000000000000000000000000"),
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
];

/// x = 0 written with the sign bit set (y = 1 and y = p - 1): a second spelling of two of the
/// points above.
const NEGATIVE_ZERO_X: [[u8; 32]; 2] = [
    hex32("0100000000000000000000000000000000000000000000000000000000000080"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
];

/// Compile-time hex to bytes, for the tables above: evaluated while building, so a mistake in
/// a table fails the build and nothing here can panic at run time.
#[allow(clippy::indexing_slicing, clippy::panic)]
const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[allow(clippy::panic)] // compile time only, as hex32
const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lowercase hex"),
    }
}

/// Accepts `sig` = R ‖ S over `msg` under `public` = A only if S < L, A and R are canonical
/// encodings of curve points whose order does not divide 8, and [S]B = R + [H(R ‖ A ‖ M)]A.
pub fn verify_strict(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> Result<(), Error> {
    let (r, s) = sig.split_at(32);
    let mut r_bytes = [0u8; 32];
    let mut s_bytes = [0u8; 32];
    r_bytes.copy_from_slice(r);
    s_bytes.copy_from_slice(s);
    if !is_below(&s_bytes, &L) {
        return Err(Error::NonCanonicalS);
    }
    check_encoding(public).map_err(|fault| match fault {
        Fault::SmallOrder => Error::SmallOrderKey,
        Fault::NonCanonical => Error::NonCanonicalKey,
    })?;
    check_encoding(&r_bytes).map_err(|fault| match fault {
        Fault::SmallOrder => Error::SmallOrderR,
        Fault::NonCanonical => Error::NonCanonicalR,
    })?;
    // ring decodes A (refusing points off the curve), recomputes R from S and H(R ‖ A ‖ M) and
    // compares its encoding with the given R bytes: the cofactorless equation, as dalek's
    // verify_strict evaluates it.
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public)
        .verify(msg, sig)
        .map_err(|_| Error::BadSignature)
}

enum Fault {
    NonCanonical,
    SmallOrder,
}

/// Refuses non-canonical encodings and the small-order points, by their bytes alone.
fn check_encoding(bytes: &[u8; 32]) -> Result<(), Fault> {
    let mut y = *bytes;
    y[31] &= 0x7f;
    if !is_below(&y, &P) || NEGATIVE_ZERO_X.contains(bytes) {
        return Err(Fault::NonCanonical);
    }
    if SMALL_ORDER.contains(bytes) {
        return Err(Fault::SmallOrder);
    }
    Ok(())
}

#[cfg(test)]
#[path = "../../tests/support/ed25519_reference.rs"]
mod reference;

/// Whether the little-endian integer `x` is below `bound`.
fn is_below(x: &[u8; 32], bound: &[u8; 32]) -> bool {
    for (a, b) in x.iter().rev().zip(bound.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

#[cfg(test)]
mod tests;
