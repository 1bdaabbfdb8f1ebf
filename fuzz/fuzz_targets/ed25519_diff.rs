//! Differential: escapes::fuzz_entry::policy::ed25519::verify_strict and the pure-Rust reference on salty's
//! arithmetic (tests/support/ed25519_reference.rs) against ed25519-dalek 2's
//! `VerifyingKey::verify_strict`. Same verdict on every input.
//! Input layout as the `ed25519` target: 32-byte key, 64-byte signature, then the message.
#![no_main]
use ed25519_dalek::{Signature, VerifyingKey};
use escapes::fuzz_entry::policy::ed25519::Error;

#[path = "../../tests/support/ed25519_reference.rs"]
mod reference;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((k, s, msg)) = escapes::fuzz_entry::ed25519_input(data) else {
        return;
    };
    let ours = escapes::fuzz_entry::policy::ed25519::verify_strict(&k, msg, &s);
    let salty = reference::verify_strict_salty(&k, msg, &s);
    let dalek = VerifyingKey::from_bytes(&k)
        .map_err(|_| ())
        .and_then(|vk| vk.verify_strict(msg, &Signature::from_bytes(&s)).map_err(|_| ()));
    assert_eq!(ours.is_ok(), dalek.is_ok(), "verify_strict {ours:?} vs dalek {dalek:?}");
    assert_eq!(salty.is_ok(), dalek.is_ok(), "verify_strict_salty {salty:?} vs dalek {dalek:?}");
});
