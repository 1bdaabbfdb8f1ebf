//! The shared reply parser as coat and escapes use it: one language (opwire::reply::parse).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::reply_relay(data));
