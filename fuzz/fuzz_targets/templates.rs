//! libFuzzer entry for the templates properties in `checks::templates`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::templates::check(data));
