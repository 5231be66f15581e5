#![no_main]
//! A parsed DKIM-Signature written back in canonical form parses to the same value.

use libfuzzer_sys::fuzz_target;
use mailward_dkim::DkimSignature;

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = DkimSignature::parse_bytes(data) {
        assert_eq!(DkimSignature::parse(&sig.to_string()), Ok(sig));
    }
});
