//! `CachingResolver`: TTLs honoured with an injected clock, RFC 2308 negative caching bounded,
//! failures never cached, entries bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mailward_dns::ZoneResolver;
use mailward_dns::cache::{CacheConfig, CachingResolver, ManualClock};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Mx, Resolver, Txt};
use pollster::block_on;

/// Counts the queries that reach the zone.
struct Counting {
    zone: ZoneResolver,
    calls: AtomicUsize,
}

impl Counting {
    fn new(text: &str) -> Self {
        Self {
            zone: ZoneResolver::parse(text, "example.com").unwrap(),
            calls: AtomicUsize::new(0),
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Resolver for Counting {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.zone.txt(name).await
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.zone.a(name).await
    }
    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.zone.aaaa(name).await
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.zone.mx(name).await
    }
    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.zone.ptr(ip).await
    }
}

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

const ZONE: &str = "$TTL 100
@ SOA ns host 1 7200 900 1209600 50
@ TXT \"v=spf1 -all\"
www 30 A 192.0.2.1
long 999999 A 192.0.2.2
zero 0 A 192.0.2.3
";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn positive_answers_live_for_their_ttl() {
    let clock = ManualClock::new();
    let c = CachingResolver::with_clock(Counting::new(ZONE), CacheConfig::default(), clock.clone());
    let www = d("www.example.com");
    assert_eq!(block_on(c.a(&www)).unwrap().ttl, 30);
    assert_eq!(c.inner().calls(), 1);
    clock.advance(secs(10));
    let hit = block_on(c.a(&www)).unwrap();
    assert_eq!(hit.records, [Ipv4Addr::new(192, 0, 2, 1)]);
    assert_eq!(hit.ttl, 20);
    assert_eq!(c.inner().calls(), 1);
    // At 30 s the entry has expired: the next lookup asks again.
    clock.advance(secs(20));
    assert_eq!(block_on(c.a(&www)).unwrap().ttl, 30);
    assert_eq!(c.inner().calls(), 2);
    // Different types are different entries.
    block_on(c.aaaa(&www)).unwrap_err();
    assert_eq!(c.inner().calls(), 3);
}

#[test]
fn ttl_zero_is_not_cached_and_long_ttls_are_capped() {
    let clock = ManualClock::new();
    let config = CacheConfig::default().with_max_ttl(60);
    let c = CachingResolver::with_clock(Counting::new(ZONE), config, clock.clone());
    block_on(c.a(&d("zero.example.com"))).unwrap();
    block_on(c.a(&d("zero.example.com"))).unwrap();
    assert_eq!(c.inner().calls(), 2);
    block_on(c.a(&d("long.example.com"))).unwrap();
    clock.advance(secs(59));
    assert_eq!(block_on(c.a(&d("long.example.com"))).unwrap().ttl, 1);
    assert_eq!(c.inner().calls(), 3);
    clock.advance(secs(1));
    block_on(c.a(&d("long.example.com"))).unwrap();
    assert_eq!(c.inner().calls(), 4);
}

#[test]
fn negative_answers_cached_for_the_soa_negative_ttl_bounded() {
    // The zone's negative TTL is min(SOA TTL 100, MINIMUM 50) = 50 (RFC 2308 §5).
    let clock = ManualClock::new();
    let c = CachingResolver::with_clock(Counting::new(ZONE), CacheConfig::default(), clock.clone());
    let nx = d("nope.example.com");
    assert!(matches!(
        block_on(c.txt(&nx)),
        Err(DnsError::NxDomain {
            negative_ttl: Some(50)
        })
    ));
    clock.advance(secs(49));
    assert!(matches!(
        block_on(c.txt(&nx)),
        Err(DnsError::NxDomain {
            negative_ttl: Some(1)
        })
    ));
    assert_eq!(c.inner().calls(), 1);
    clock.advance(secs(1));
    block_on(c.txt(&nx)).unwrap_err();
    assert_eq!(c.inner().calls(), 2);
    // NODATA is cached too, and stays NODATA.
    assert_eq!(block_on(c.mx(&d("www.example.com"))), Err(DnsError::NODATA));
    assert_eq!(block_on(c.mx(&d("www.example.com"))), Err(DnsError::NODATA));
    assert_eq!(c.inner().calls(), 3);

    // With max_negative_ttl = 10 the same answer is kept only 10 s.
    let clock = ManualClock::new();
    let config = CacheConfig::default().with_max_negative_ttl(10);
    let c = CachingResolver::with_clock(Counting::new(ZONE), config, clock.clone());
    block_on(c.txt(&nx)).unwrap_err();
    clock.advance(secs(9));
    block_on(c.txt(&nx)).unwrap_err();
    assert_eq!(c.inner().calls(), 1);
    clock.advance(secs(1));
    block_on(c.txt(&nx)).unwrap_err();
    assert_eq!(c.inner().calls(), 2);
}

#[test]
fn negative_answers_without_soa_use_the_default() {
    let text = "$TTL 100\nwww A 192.0.2.1\n";
    let nx = d("nope.example.com");
    // Default: not cached (RFC 2308 §5: without SOA, SHOULD NOT be cached).
    let clock = ManualClock::new();
    let c = CachingResolver::with_clock(Counting::new(text), CacheConfig::default(), clock.clone());
    block_on(c.txt(&nx)).unwrap_err();
    block_on(c.txt(&nx)).unwrap_err();
    assert_eq!(c.inner().calls(), 2);
    // A configured default is used, still bounded by the maximum.
    let config = CacheConfig::default()
        .with_default_negative_ttl(600)
        .with_max_negative_ttl(5);
    let c = CachingResolver::with_clock(Counting::new(text), config, clock.clone());
    block_on(c.txt(&nx)).unwrap_err();
    clock.advance(secs(4));
    block_on(c.txt(&nx)).unwrap_err();
    assert_eq!(c.inner().calls(), 1);
    clock.advance(secs(1));
    block_on(c.txt(&nx)).unwrap_err();
    assert_eq!(c.inner().calls(), 2);
}

#[test]
fn failures_are_never_cached() {
    let clock = ManualClock::new();
    let mut zone = Counting::new(ZONE);
    zone.zone.mark_timeout(d("slow.example.com"));
    zone.zone.mark_servfail(d("broken.example.com"));
    let c = CachingResolver::with_clock(zone, CacheConfig::default(), clock);
    for _ in 0..3 {
        assert_eq!(
            block_on(c.txt(&d("slow.example.com"))),
            Err(DnsError::Timeout)
        );
        assert_eq!(
            block_on(c.txt(&d("broken.example.com"))),
            Err(DnsError::ServFail)
        );
    }
    assert_eq!(c.inner().calls(), 6);
    assert!(c.is_empty());
}

#[test]
fn entries_are_bounded() {
    let clock = ManualClock::new();
    let mut text = String::from("$TTL 1000\n");
    for i in 0..50 {
        text.push_str(&format!("h{i} {} A 192.0.2.1\n", 100 + i));
    }
    let config = CacheConfig::default().with_max_entries(10);
    let c = CachingResolver::with_clock(Counting::new(&text), config, clock.clone());
    for i in 0..50 {
        block_on(c.a(&d(&format!("h{i}.example.com")))).unwrap();
        assert!(c.len() <= 10);
    }
    assert_eq!(c.len(), 10);
    // The most recent entry (longest expiry) is still there: no new query.
    block_on(c.a(&d("h49.example.com"))).unwrap();
    assert_eq!(c.inner().calls(), 50);
    // The first ones, closest to expiry, were evicted.
    block_on(c.a(&d("h0.example.com"))).unwrap();
    assert_eq!(c.inner().calls(), 51);
    c.clear();
    assert!(c.is_empty());
}

#[test]
fn shared_across_threads() {
    let c = std::sync::Arc::new(CachingResolver::new(Counting::new(ZONE)));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    block_on(c.txt(&d("example.com"))).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // At most one query per thread can miss before the first answer is stored.
    assert!(c.inner().calls() <= 4);
}

/// Answers every A query with one address and a TTL of an hour, counting the queries.
struct AnyName {
    calls: AtomicUsize,
}

impl Resolver for AnyName {
    async fn txt(&self, _: &Domain) -> DnsResult<Txt> {
        Err(DnsError::NODATA)
    }
    async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(mailward_types::dns::Lookup::new(
            vec![Ipv4Addr::new(192, 0, 2, 1)],
            3600,
        ))
    }
    async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> {
        Err(DnsError::NODATA)
    }
    async fn mx(&self, _: &Domain) -> DnsResult<Mx> {
        Err(DnsError::NODATA)
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        Err(DnsError::NODATA)
    }
}

/// A full cache evicts one entry per insert without scanning the others: 60 000 inserts past a
/// bound of 20 000 entries. Scanning 20 000 entries per eviction takes minutes in a debug
/// build; the budget below is some 20 times what indexed eviction needs on a loaded machine.
#[test]
fn a_full_cache_keeps_its_bound_and_evicts_by_expiry() {
    // Speed of eviction is a bench matter (benches/benches/dns.rs); this checks the behaviour
    // over many evictions.
    const CAP: usize = 20_000;
    const INSERTS: usize = 80_000;
    let clock = ManualClock::new();
    let c = CachingResolver::with_clock(
        AnyName {
            calls: AtomicUsize::new(0),
        },
        CacheConfig::default().with_max_entries(CAP),
        clock.clone(),
    );
    let names: Vec<Domain> = (0..INSERTS)
        .map(|i| d(&format!("h{i}.example.com")))
        .collect();
    for (i, name) in names.iter().enumerate() {
        block_on(c.a(name)).unwrap();
        assert!(c.len() <= CAP);
        if i % 1000 == 0 {
            // Every entry expires at a different instant.
            clock.advance(Duration::from_millis(1));
        }
    }
    assert_eq!(c.len(), CAP);
    // The last CAP names are cached, the earlier ones evicted.
    block_on(c.a(&names[INSERTS - 1])).unwrap();
    block_on(c.a(&names[INSERTS - CAP])).unwrap();
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), INSERTS);
    block_on(c.a(&names[INSERTS - CAP - 1])).unwrap();
    assert_eq!(c.inner().calls.load(Ordering::SeqCst), INSERTS + 1);
}

/// When full, expired entries go first, then the one closest to expiry, judged by the expiry of
/// the latest answer (an entry fetched again after expiring counts with its new expiry).
#[test]
fn eviction_order_follows_expiry() {
    let clock = ManualClock::new();
    let text = "$TTL 1000\na 10 A 192.0.2.1\nb 100 A 192.0.2.2\nc 1000 A 192.0.2.3\n\
                e 1000 A 192.0.2.5\nf 1000 A 192.0.2.6\n";
    let config = CacheConfig::default().with_max_entries(2);
    let c = CachingResolver::with_clock(Counting::new(text), config, clock.clone());
    let q = |n: &str| block_on(c.a(&d(&format!("{n}.example.com")))).unwrap();
    q("a"); // expires at 10
    q("b"); // expires at 100
    clock.advance(secs(11));
    q("a"); // expired: fetched again (call 3), now expires at 21
    assert_eq!(c.inner().calls(), 3);
    assert_eq!(c.len(), 2);
    q("c"); // full: `a` (21) is closer to expiry than `b` (100)
    assert_eq!(c.inner().calls(), 4);
    q("b"); // still cached
    assert_eq!(c.inner().calls(), 4);
    clock.advance(secs(100)); // `b` expired at 100, `c` lives to 1011
    q("e"); // full: the expired `b` goes
    assert_eq!(c.inner().calls(), 5);
    q("c");
    assert_eq!(c.inner().calls(), 5);
    q("b");
    assert_eq!(c.inner().calls(), 6);
    assert_eq!(c.len(), 2);
}
