use super::*;
// These tests pin the error of each rule on the pure-Rust reference; the ring path must give
// the same verdicts (`both_paths_agree_on_every_unit_case` and tests/ed25519_vectors.rs).
use super::reference::{is_small_order, verify_strict_salty as verify_strict, IDENTITY};
use salty::{CompressedY, EdwardsPoint, PublicKey, Signature};

fn hex<const N: usize>(s: &str) -> [u8; N] {
    assert_eq!(s.len(), 2 * N, "{s}");
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn hex_vec(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

struct Vector {
    seed: &'static str,
    public: &'static str,
    msg: &'static str,
    sig: &'static str,
}

// RFC 8032 §7.1, TEST 1, 2 and 3.
const RFC8032: [Vector; 3] = [
    Vector {
        seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        msg: "",
        sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
                  5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    Vector {
        seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        msg: "72",
        sig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                  085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    Vector {
        seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        msg: "af82",
        sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac\
                  18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
];

fn vector(i: usize) -> ([u8; 32], Vec<u8>, [u8; 64]) {
    let v = &RFC8032[i];
    (hex(v.public), hex_vec(v.msg), hex(v.sig))
}

/// The eight points of order dividing 8, canonically encoded (identity, order 2, two of
/// order 4, four of order 8).
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

fn small_order_points() -> Vec<[u8; 32]> {
    SMALL_ORDER.iter().map(|s| hex(s)).collect()
}

/// p + k, little-endian, for small k (no carry out of the low byte for k ≤ 18).
fn p_plus(k: u8) -> [u8; 32] {
    let mut y = P;
    y[0] += k;
    y
}

fn with_s(sig: &[u8; 64], s: &[u8; 32]) -> [u8; 64] {
    let mut out = *sig;
    out[32..].copy_from_slice(s);
    out
}

fn with_r(sig: &[u8; 64], r: &[u8; 32]) -> [u8; 64] {
    let mut out = *sig;
    out[..32].copy_from_slice(r);
    out
}

/// Little-endian addition mod 2^256.
fn add(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let t = a[i] as u16 + b[i] as u16 + carry;
        out[i] = t as u8;
        carry = t >> 8;
    }
    out
}

#[test]
fn rfc8032_vectors_are_what_salty_signs() {
    for v in &RFC8032 {
        let pair = salty::Keypair::from(&hex::<32>(v.seed));
        assert_eq!(pair.public.to_bytes(), hex::<32>(v.public));
        let sig = pair.sign(&hex_vec(v.msg));
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&sig.r.0);
        bytes[32..].copy_from_slice(&sig.s.0);
        assert_eq!(bytes, hex::<64>(v.sig));
    }
}

#[test]
fn accepts_rfc8032_test_vector_1() {
    let (key, msg, sig) = vector(0);
    assert_eq!(verify_strict(&key, &msg, &sig), Ok(()));
}

#[test]
fn accepts_rfc8032_test_vector_2() {
    let (key, msg, sig) = vector(1);
    assert_eq!(verify_strict(&key, &msg, &sig), Ok(()));
}

#[test]
fn accepts_rfc8032_test_vector_3() {
    let (key, msg, sig) = vector(2);
    assert_eq!(verify_strict(&key, &msg, &sig), Ok(()));
}

#[test]
fn refuses_signature_over_another_message() {
    let (key, _, sig) = vector(1);
    assert_eq!(verify_strict(&key, b"\x73", &sig), Err(Error::BadSignature));
}

#[test]
fn refuses_signature_under_another_key() {
    let (_, msg, sig) = vector(0);
    let (other, _, _) = vector(1);
    assert_eq!(verify_strict(&other, &msg, &sig), Err(Error::BadSignature));
}

#[test]
fn refuses_signature_with_s_equal_to_l() {
    let (key, msg, sig) = vector(0);
    assert_eq!(verify_strict(&key, &msg, &with_s(&sig, &L)), Err(Error::NonCanonicalS));
}

#[test]
fn refuses_signature_with_s_plus_l_that_salty_alone_accepts() {
    for i in 0..RFC8032.len() {
        let (key, msg, sig) = vector(i);
        let mut s = [0u8; 32];
        s.copy_from_slice(&sig[32..]);
        let malleated = with_s(&sig, &add(&s, &L));
        // The reason for the S check: salty's ladder uses all 256 bits of S unreduced.
        let salty_key = PublicKey::try_from(&key).unwrap();
        assert!(salty_key.verify(&msg, &Signature::from(&malleated)).is_ok());
        assert_eq!(verify_strict(&key, &msg, &malleated), Err(Error::NonCanonicalS));
    }
}

#[test]
fn refuses_signature_with_s_of_all_ones() {
    let (key, msg, sig) = vector(0);
    let s = [0xff; 32];
    assert_eq!(verify_strict(&key, &msg, &with_s(&sig, &s)), Err(Error::NonCanonicalS));
}

#[test]
fn treats_s_equal_to_l_minus_one_as_canonical() {
    let (key, msg, sig) = vector(0);
    let mut s = L;
    s[0] -= 1;
    assert_eq!(verify_strict(&key, &msg, &with_s(&sig, &s)), Err(Error::BadSignature));
}

#[test]
fn small_order_list_is_the_whole_8_torsion_subgroup() {
    let points = small_order_points();
    let decoded: Vec<EdwardsPoint> = points.iter().map(|b| CompressedY(*b).decompressed().unwrap()).collect();
    for (bytes, point) in points.iter().zip(&decoded) {
        assert_eq!(point.compressed().0, *bytes, "canonical");
        assert!(is_small_order(point));
    }
    for i in 0..8 {
        for j in 0..8 {
            assert_eq!(i == j, points[i] == points[j], "distinct");
            // Closed under addition: a subgroup of E[8], and with 8 elements all of it.
            let sum = (&decoded[i] + &decoded[j]).compressed().0;
            assert!(points.contains(&sum), "closed");
        }
    }
    // Points of genuine order 8 are present, so no smaller multiple would do.
    assert!(decoded.iter().any(|p| {
        let p2 = p + p;
        &p2 + &p2 != EdwardsPoint::neutral_element()
    }));
}

#[test]
fn identity_constant_is_the_neutral_element() {
    assert_eq!(EdwardsPoint::neutral_element().compressed().0, IDENTITY);
}

#[test]
fn basepoint_and_keys_are_not_small_order() {
    assert!(!is_small_order(&EdwardsPoint::basepoint()));
    for i in 0..RFC8032.len() {
        let (key, _, _) = vector(i);
        assert!(!is_small_order(&CompressedY(key).decompressed().unwrap()));
    }
}

#[test]
fn refuses_small_order_public_key() {
    let (_, msg, sig) = vector(0);
    for key in small_order_points() {
        assert_eq!(verify_strict(&key, &msg, &sig), Err(Error::SmallOrderKey));
    }
}

#[test]
fn refuses_identity_key_forgery_that_salty_alone_accepts() {
    // A = R = identity, S = 0: [0]B = O + [k]O for every message k hashes to.
    let identity = hex::<32>(SMALL_ORDER[0]);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&identity);
    let salty_key = PublicKey::try_from(&identity).unwrap();
    for msg in [&b"run rm -rf / as root"[..], b"", b"anything"] {
        assert!(salty_key.verify(msg, &Signature::from(&sig)).is_ok());
        assert_eq!(verify_strict(&identity, msg, &sig), Err(Error::SmallOrderKey));
    }
}

#[test]
fn refuses_non_canonical_key_encoding() {
    let (_, msg, sig) = vector(0);
    for k in 0..=18u8 {
        for sign in [0x00, 0x80] {
            let mut key = p_plus(k);
            key[31] |= sign;
            assert_eq!(verify_strict(&key, &msg, &sig), Err(Error::NonCanonicalKey));
        }
    }
    let all_ones = [0xff; 32];
    assert_eq!(verify_strict(&all_ones, &msg, &sig), Err(Error::NonCanonicalKey));
}

#[test]
fn refuses_key_with_sign_bit_set_on_x_equal_to_zero() {
    let (_, msg, sig) = vector(0);
    // y = 1 and y = -1 are the only points with x = 0; "-0" is a second spelling.
    for y in [SMALL_ORDER[0], SMALL_ORDER[1]] {
        let mut key = hex::<32>(y);
        key[31] |= 0x80;
        assert_eq!(verify_strict(&key, &msg, &sig), Err(Error::NonCanonicalKey));
    }
}

#[test]
fn refuses_key_that_is_not_on_the_curve() {
    let (_, msg, sig) = vector(0);
    // y = 2: (y² - 1)/(d y² + 1) has no square root mod p.
    let mut key = [0u8; 32];
    key[0] = 2;
    assert!(CompressedY(key).decompressed().is_err());
    assert_eq!(verify_strict(&key, &msg, &sig), Err(Error::InvalidKey));
}

#[test]
fn refuses_small_order_r() {
    let (key, msg, sig) = vector(0);
    for r in small_order_points() {
        assert_eq!(verify_strict(&key, &msg, &with_r(&sig, &r)), Err(Error::SmallOrderR));
    }
}

#[test]
fn refuses_non_canonical_r() {
    let (key, msg, sig) = vector(0);
    for k in 0..=18u8 {
        for sign in [0x00, 0x80] {
            let mut r = p_plus(k);
            r[31] |= sign;
            let got = verify_strict(&key, &msg, &with_r(&sig, &r));
            assert_eq!(got, Err(Error::NonCanonicalR));
        }
    }
    for y in [SMALL_ORDER[0], SMALL_ORDER[1]] {
        let mut r = hex::<32>(y);
        r[31] |= 0x80;
        let got = verify_strict(&key, &msg, &with_r(&sig, &r));
        assert_eq!(got, Err(Error::NonCanonicalR));
    }
}

#[test]
fn refuses_r_that_is_not_on_the_curve() {
    let (key, msg, sig) = vector(0);
    let mut r = [0u8; 32];
    r[0] = 2;
    assert_eq!(verify_strict(&key, &msg, &with_r(&sig, &r)), Err(Error::InvalidR));
}

#[test]
fn refuses_flipped_signature_bits() {
    let (key, msg, sig) = vector(2);
    for bit in 0..512 {
        let mut bad = sig;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(verify_strict(&key, &msg, &bad).is_err(), "bit {bit}");
    }
}

#[test]
fn errors_display_a_reason() {
    assert_eq!(Error::SmallOrderKey.to_string(), "public key is a small-order point");
}
