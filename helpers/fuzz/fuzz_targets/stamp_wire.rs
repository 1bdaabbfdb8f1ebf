//! The stamp socket protocol (byte 0 selects): requests and replies re-encode exactly, and a
//! holder fed arbitrary request streams keeps its promises (count, penalty, ownership, end).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::stamp_wire(data));
