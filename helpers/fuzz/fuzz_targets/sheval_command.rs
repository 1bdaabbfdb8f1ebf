//! sheval's command splitter and SHEVAL_UNSET list (byte 0 selects): no panic, and split words
//! survive a round trip through single quotes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::sheval_command(data));
