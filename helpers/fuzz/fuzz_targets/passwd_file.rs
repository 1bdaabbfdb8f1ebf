//! /etc/passwd and /etc/group lines and lookups by uid and name: no panic, accepted entries are
//! well formed, the lookups find the first one.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::passwd_file(data));
