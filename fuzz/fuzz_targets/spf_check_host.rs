#![no_main]
//! check_host() over a zone read from the input (origin example.com): never panics, never
//! spends more than the RFC 7208 §4.6.4 limits allow, and gives the same outcome through a
//! RecordCache (records parsed and cached on the first evaluation, answered from the cache
//! within their TTL on the second) as without one.

use libfuzzer_sys::fuzz_target;
use mailward_dns::ZoneResolver;
use mailward_spf::{MAX_DNS_TERMS, MAX_VOID_LOOKUPS, Query, RecordCache, SpfOutcome, evaluate};
use mailward_types::Domain;

/// Everything but the trace (a cached lookup is traced as `cached`).
fn summary(o: &SpfOutcome) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        o.result,
        &o.explanation,
        &o.mechanism,
        &o.problem,
        &o.domain,
        o.lookups,
        o.void_lookups,
    )
}

fuzz_target!(|data: &[u8]| {
    let mut zone = ZoneResolver::new();
    let _ = zone.load_bytes(data, Domain::new("example.com").ok().as_ref(), "fuzz");
    for ip in ["192.0.2.1", "2001:db8::1"] {
        let q = Query::mail_from(ip.parse().unwrap(), "user+x@example.com", "mx.example.com")
            .with_timestamp(1_700_000_000);
        let o = pollster::block_on(evaluate(&zone, &q));
        assert!(o.lookups <= MAX_DNS_TERMS + 1 && o.void_lookups <= MAX_VOID_LOOKUPS + 1);
        let cached = q.with_record_cache(RecordCache::new());
        for _ in 0..2 {
            let c = pollster::block_on(evaluate(&zone, &cached));
            assert_eq!(summary(&c), summary(&o));
        }
    }
});
