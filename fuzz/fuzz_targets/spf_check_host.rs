#![no_main]
//! check_host() over a zone read from the input (origin example.com): never panics, never
//! spends more than the RFC 7208 §4.6.4 limits allow.

use libfuzzer_sys::fuzz_target;
use mailward_dns::ZoneResolver;
use mailward_spf::{MAX_DNS_TERMS, MAX_VOID_LOOKUPS, Query, evaluate};
use mailward_types::Domain;

fuzz_target!(|data: &[u8]| {
    let mut zone = ZoneResolver::new();
    let _ = zone.load_bytes(data, Domain::new("example.com").ok().as_ref(), "fuzz");
    for ip in ["192.0.2.1", "2001:db8::1"] {
        let q = Query::mail_from(ip.parse().unwrap(), "user+x@example.com", "mx.example.com");
        let o = pollster::block_on(evaluate(&zone, &q));
        assert!(o.lookups <= MAX_DNS_TERMS + 1 && o.void_lookups <= MAX_VOID_LOOKUPS + 1);
    }
});
