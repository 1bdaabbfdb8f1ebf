//! Writer::set: every value is refused for an unrepresentable byte or written as one line the
//! strict reply parser reads back exactly.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::reply_set(data));
