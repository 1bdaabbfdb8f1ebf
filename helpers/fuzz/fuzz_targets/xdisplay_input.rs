//! xdisplay's inputs (byte 0 selects): xauth's numeric entry list (parse/write round trip) and
//! DISPLAY values (never an xauth option).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::xdisplay_input(data));
