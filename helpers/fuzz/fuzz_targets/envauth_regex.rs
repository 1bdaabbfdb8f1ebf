//! The envauth/manifest regex engine: pattern, NUL, input. No panic, and the NFA agrees with the
//! reference matcher on small cases.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::envauth_regex(data));
