//! TIMEBOX_INSIDE/FORBID specs, POSIX TZ strings and TZif files (byte 0 selects): no panic, and
//! every conversion yields a valid calendar reading.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::timebox_spec(data));
