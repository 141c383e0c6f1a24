//! libFuzzer entry for the twiml properties in `checks::twiml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::twiml::check(data));
