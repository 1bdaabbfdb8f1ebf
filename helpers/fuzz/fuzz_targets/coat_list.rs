//! COAT helper lists: no panic; entries are absolute, bare names stay beside coat.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::coat_list(data));
