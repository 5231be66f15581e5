#![no_main]
//! The SPF record parser over arbitrary text: never panics.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mailward_spf::SpfRecord::parse(text);
    }
});
