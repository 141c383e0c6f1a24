//! libFuzzer entry for the signature properties in `checks::signature`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::signature::check(data));
