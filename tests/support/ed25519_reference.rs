//! An independent pure-Rust reference for strict Ed25519, on `salty`'s arithmetic (a
//! dev-dependency: never linked into escapes). The unit tests of `policy::ed25519` and
//! tests/ed25519_vectors.rs include this file; `Error` must be in scope where it is included.
//!
//! On its own salty is not strict: it multiplies by S without reducing it (so S + L verifies
//! like S), and it accepts small-order keys (so the identity key with R = identity, S = 0
//! verifies for every message). The checks here exist for those cases.

#![allow(dead_code)]

use super::Error;
use salty::{CompressedY, EdwardsPoint, PublicKey, Signature};

/// The group order L, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// The field prime p = 2^255 - 19, little-endian.
const P: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The canonical encoding of the neutral element (x = 0, y = 1).
pub const IDENTITY: [u8; 32] =
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

fn is_below(x: &[u8; 32], bound: &[u8; 32]) -> bool {
    for (a, b) in x.iter().rev().zip(bound.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

/// The strict rules on salty's arithmetic.
pub fn verify_strict_salty(public: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> Result<(), Error> {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    s.copy_from_slice(&sig[32..]);

    if !is_below(&s, &L) {
        return Err(Error::NonCanonicalS);
    }
    check_point(public).map_err(|fault| match fault {
        PointFault::NonCanonical => Error::NonCanonicalKey,
        PointFault::NotOnCurve => Error::InvalidKey,
        PointFault::SmallOrder => Error::SmallOrderKey,
    })?;
    check_point(&r).map_err(|fault| match fault {
        PointFault::NonCanonical => Error::NonCanonicalR,
        PointFault::NotOnCurve => Error::InvalidR,
        PointFault::SmallOrder => Error::SmallOrderR,
    })?;

    // check_point already decompressed A, but salty's PublicKey can only be built by
    // decompressing again; the failure branch is therefore unreachable, not ignored.
    let key = PublicKey::try_from(public).map_err(|_| Error::InvalidKey)?;
    // Salty hashes the key bytes exactly as given and compares the recomputed R to the given
    // R bytewise: the cofactorless equation, as dalek's verify_strict evaluates it.
    key.verify(msg, &Signature::from(sig)).map_err(|_| Error::BadSignature)
}

enum PointFault {
    NonCanonical,
    NotOnCurve,
    SmallOrder,
}

/// Accepts the canonical encoding of a curve point whose order does not divide 8.
fn check_point(bytes: &[u8; 32]) -> Result<(), PointFault> {
    let mut y = *bytes;
    y[31] &= 0x7f;
    // Salty would silently reduce y mod p, giving a second spelling of the same point.
    if !is_below(&y, &P) {
        return Err(PointFault::NonCanonical);
    }
    let point = CompressedY(*bytes).decompressed().map_err(|_| PointFault::NotOnCurve)?;
    // The other second spelling: x = 0 (y = ±1) with the sign bit set, which salty decodes
    // as if the bit were clear; only recompression notices.
    if point.compressed().0 != *bytes {
        return Err(PointFault::NonCanonical);
    }
    if is_small_order(&point) {
        return Err(PointFault::SmallOrder);
    }
    Ok(())
}

/// Whether [8]P is the identity, i.e. P lies in the 8-torsion subgroup. Computed rather than
/// looked up, so it cannot depend on which encodings of those points a list happens to hold.
pub fn is_small_order(point: &EdwardsPoint) -> bool {
    let p2 = point + point;
    let p4 = &p2 + &p2;
    let p8 = &p4 + &p4;
    // Comparing encodings spares the inversion that compressing the neutral element would cost.
    p8.compressed().0 == IDENTITY
}
