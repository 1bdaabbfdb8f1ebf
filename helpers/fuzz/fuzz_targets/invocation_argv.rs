//! The helper argv (words split at NUL): no panic; a parsed run round-trips through to_args.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| escapes_helpers::fuzz_entry::invocation_argv(data));
