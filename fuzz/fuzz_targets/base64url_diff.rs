//! Differential: escapes::fuzz_entry::parse::base64url::decode against the `base64` crate's URL-safe, unpadded,
//! strict engine (padding refused, non-zero trailing bits refused). Same accept set, same bytes.
#![no_main]
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ours = escapes::fuzz_entry::parse::base64url::decode(data);
    let theirs = STRICT.decode(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "different bytes"),
        (Err(_), Err(_)) => {}
        _ => panic!("verdicts differ: escapes {ours:?}, base64 {theirs:?}"),
    }
    if let Ok(bytes) = &ours {
        assert_eq!(escapes::fuzz_entry::policy::base64url::encode(bytes), STRICT.encode(bytes));
    }
});
