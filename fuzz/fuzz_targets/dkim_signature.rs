#![no_main]
//! DKIM-Signature parsing (RFC 6376 §3.5): never panics on any input.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailward_dkim::DkimSignature::parse_bytes(data);
});
