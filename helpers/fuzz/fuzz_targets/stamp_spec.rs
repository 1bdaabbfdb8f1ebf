//! stamp's and stampctl's parsers (byte 0 selects): STAMP_SPEC with its checks, durations, stamp
//! names and facilities, stampctl's argv, STAMP_SET, numbers. No panic, and every accepted path
//! stays inside the root.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::stamp_spec(data));
