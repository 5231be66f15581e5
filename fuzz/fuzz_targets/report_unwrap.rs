#![no_main]
//! Format detection and unwrapping (gzip, zip, e-mail, nested, under small limits), through
//! the one reader of every report kind: aggregate, SMTP TLS and failure reports.

use libfuzzer_sys::fuzz_target;
use mailward_reports::Limits;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_decompressed_bytes: 4 << 20,
        ..Limits::default()
    };
    let _ = mailward_reports::read_with(data, &limits);
});
