#![no_main]
//! Full verification of a fuzzed message against a fixed zone (the RFC 8463 Appendix A keys at
//! football.example.com): never panics.

use libfuzzer_sys::fuzz_target;
use mailward_dkim::{Verifier, VerifyOptions};
use mailward_dns::ZoneResolver;

const ZONE: &str = include_str!("../../dkim/tests/data/rfc8463.zone");

fuzz_target!(|data: &[u8]| {
    let zone = ZoneResolver::parse(ZONE, "football.example.com").expect("fixed zone parses");
    let v = Verifier::new(VerifyOptions::default().with_allow_sha1(true));
    let _ = pollster::block_on(v.verify(&zone, data, 1_528_637_909));
});
