#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes::fuzz_entry::config_edit(data));
