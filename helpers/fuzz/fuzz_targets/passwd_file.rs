//! /etc/passwd lines and lookups by uid: no panic, accepted accounts are well formed, by_uid
//! finds the first one.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::passwd_file(data));
