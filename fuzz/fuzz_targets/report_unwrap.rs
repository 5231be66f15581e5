#![no_main]
//! Format detection and unwrapping: gzip, zip, e-mail, nested, under small limits.

use libfuzzer_sys::fuzz_target;
use mailward_reports::Limits;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decompressed_bytes: 4 << 20,
        ..Limits::default()
    };
    let _ = mailward_reports::parse_with(data, &limits);
});
