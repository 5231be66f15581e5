//! What a warm evaluation allocates: with the record and the A/AAAA/MX answers fresh in a
//! `RecordCache` and the trace off, checking a record without include or redirect allocates
//! nothing (a busy MTA's threads then never meet in the allocator). Counted per thread by
//! `allocation-counter`'s global allocator; the future is polled with a no-op waker, since an
//! executor's own bookkeeping (pollster's per-call signal) is not the evaluation's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use mailward_spf::{Query, RecordCache, SpfOutcome, SpfResult, evaluate};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

/// `ip.example` publishes `v=spf1 ip4:192.0.2.0/24 -all`; `mx.example` publishes
/// `v=spf1 mx a -all` with two exchanges (198.51.100.1 and .2); `chain.example` includes
/// `ip.example`.
struct Zone;

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

impl Resolver for Zone {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        let record = match name.as_str() {
            "ip.example" => "v=spf1 ip4:192.0.2.0/24 -all",
            "mx.example" => "v=spf1 mx a -all",
            "chain.example" => "v=spf1 include:ip.example -all",
            _ => return Err(DnsError::NXDOMAIN),
        };
        Ok(Lookup::new(vec![Txt::from(record)], 300))
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        match name.as_str() {
            "mx1.mx.example" => Ok(Lookup::new(vec![Ipv4Addr::new(198, 51, 100, 1)], 300)),
            "mx2.mx.example" => Ok(Lookup::new(vec![Ipv4Addr::new(198, 51, 100, 2)], 300)),
            _ => Err(DnsError::NXDOMAIN),
        }
    }
    async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> {
        Err(DnsError::NXDOMAIN)
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        match name.as_str() {
            "mx.example" => Ok(Lookup::new(
                vec![
                    Mx::new(10, d("mx1.mx.example")),
                    Mx::new(20, d("mx2.mx.example")),
                ],
                300,
            )),
            _ => Err(DnsError::NXDOMAIN),
        }
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        Err(DnsError::NXDOMAIN)
    }
}

/// One evaluation, polled once (the zone's answers are ready at once), and the allocations it
/// made on this thread.
fn counted(q: &Query) -> (SpfOutcome, u64) {
    let mut outcome = None;
    let info = allocation_counter::measure(|| {
        let mut fut = pin!(evaluate(&Zone, q));
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(o) = fut.as_mut().poll(&mut cx) else {
            panic!("the zone answers at once");
        };
        outcome = Some(o);
    });
    (outcome.expect("evaluated"), info.count_total)
}

fn warm_query(ip: &str, sender: &str, trace: bool) -> Query {
    Query::mail_from(ip.parse().unwrap(), sender, "helo.example")
        .with_record_cache(RecordCache::new())
        .with_timestamp(1_700_000_000)
        .with_trace(trace)
}

#[test]
fn warm_single_record_checks_allocate_nothing_with_the_trace_off() {
    for (ip, sender) in [
        ("192.0.2.7", "a@ip.example"),
        // The second exchange matches: the MX answer and both address answers come from the
        // cache.
        ("198.51.100.2", "a@mx.example"),
    ] {
        let q = warm_query(ip, sender, false);
        let (cold, cold_allocs) = counted(&q);
        assert_eq!(cold.result, SpfResult::Pass, "{sender}");
        // The cold run parsed and cached: it did allocate (so the counter works).
        assert!(cold_allocs > 0, "{sender}");
        for _ in 0..3 {
            let (warm, allocs) = counted(&q);
            assert_eq!(warm.result, SpfResult::Pass, "{sender}");
            assert_eq!(allocs, 0, "{sender}: warm evaluation allocated");
        }
    }
}

#[test]
fn what_still_allocates_when_warm() {
    // The trace's lines are stored in one block when the trace is on.
    let q = warm_query("192.0.2.7", "a@ip.example", true);
    counted(&q);
    let (o, allocs) = counted(&q);
    assert_eq!(o.result, SpfResult::Pass);
    assert!(!o.trace.is_empty());
    assert_eq!(allocs, 1, "the trace's lines");
    // An `mx` term's exchanges are kept for the trace with the frame: still one.
    let q = warm_query("198.51.100.2", "a@mx.example", true);
    counted(&q);
    let (o, allocs) = counted(&q);
    assert_eq!(o.result, SpfResult::Pass);
    assert_eq!(allocs, 1, "the trace's lines");
    // An include adds a frame table beyond the checked domain and a stack for the frame that
    // waits for it (one block each, for all the includes and redirects that follow).
    let q = warm_query("192.0.2.7", "a@chain.example", false);
    counted(&q);
    let (o, allocs) = counted(&q);
    assert_eq!(o.result, SpfResult::Pass);
    assert_eq!(allocs, 2, "frame table and frame stack");
}
