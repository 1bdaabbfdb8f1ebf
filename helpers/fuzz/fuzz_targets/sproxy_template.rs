//! proxy-agent's SPROXY_TO templates: no panic; accepted templates fill to socket paths with no
//! XXXXXX left.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::sproxy_template(data));
