//! libFuzzer entry for the form properties in `checks::form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::form::check(data));
