#![no_main]
//! check_host() over a zone read from the input (origin example.com): never panics, never
//! spends more than the RFC 7208 §4.6.4 limits allow, and gives the same outcome through a
//! RecordCache (records parsed and cached on the first evaluation, answered from the cache
//! within their TTL on the second) as without one, or with the trace off; and its trace reads the
//! same line by line through `iter` and `get`, within `MAX_TRACE_ENTRIES` and one truncation line.

use libfuzzer_sys::fuzz_target;
use mailward_dns::ZoneResolver;
use mailward_spf::{
    MAX_DNS_TERMS, MAX_TRACE_ENTRIES, MAX_VOID_LOOKUPS, Query, RecordCache, SpfOutcome, Trace,
    evaluate,
};
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

/// The trace's length, its lines by index and its lines in order agree.
fn check_trace(trace: &Trace) {
    assert!(trace.len() <= MAX_TRACE_ENTRIES + 1);
    let mut it = trace.iter();
    for i in 0..trace.len() {
        assert_eq!(it.size_hint(), (trace.len() - i, Some(trace.len() - i)));
        let line = it.next().map(|e| e.to_string());
        assert!(line.is_some());
        assert_eq!(trace.get(i).map(|e| e.to_string()), line);
    }
    assert!(it.next().is_none() && trace.get(trace.len()).is_none());
}

fuzz_target!(|data: &[u8]| {
    let mut zone = ZoneResolver::new();
    let _ = zone.load_bytes(data, Domain::new("example.com").ok().as_ref(), "fuzz");
    for ip in ["192.0.2.1", "2001:db8::1"] {
        let q = Query::mail_from(ip.parse().unwrap(), "user+x@example.com", "mx.example.com")
            .with_timestamp(1_700_000_000);
        let o = pollster::block_on(evaluate(&zone, &q));
        assert!(o.lookups <= MAX_DNS_TERMS + 1 && o.void_lookups <= MAX_VOID_LOOKUPS + 1);
        check_trace(&o.trace);
        let untraced = pollster::block_on(evaluate(&zone, &q.clone().with_trace(false)));
        assert_eq!(summary(&untraced), summary(&o));
        assert!(untraced.trace.is_empty());
        let cached = q.with_record_cache(RecordCache::new());
        for _ in 0..2 {
            let c = pollster::block_on(evaluate(&zone, &cached));
            assert_eq!(summary(&c), summary(&o));
        }
    }
});
