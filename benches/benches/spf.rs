//! mailward-spf hot paths: parsing realistic records, and a full check_host() over a
//! provider-style include chain (4 nested includes, 30 ip4/ip6 terms, the match in the last
//! term of the deepest record) answered by an in-memory resolver.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use mailward_spf::{Query, RecordCache, SpfRecord, SpfResult, evaluate};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

const CHAIN: &str = include_str!("../../spf/tests/data/provider_chain.txt");

const RECORDS: &[&str] = &[
    "v=spf1 include:_spf.google.com ~all",
    "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip6:2001:db8::/32 include:_spf.example.net include:mail.example.org mx a:out.%{d}/28 -all",
    "v=spf1 exists:%{ir}.%{l1r+}._spf.%{d} ptr:example.com redirect=_spf.example.com exp=explain._spf.%{d}",
];

/// TXT records from the chain file; every other query is NXDOMAIN.
struct Memory(HashMap<Domain, Vec<Txt>>);

impl Resolver for Memory {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.0
            .get(name)
            .map(|t| Lookup::new(t.clone(), 300))
            .ok_or(DnsError::NXDOMAIN)
    }
    async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> {
        Err(DnsError::NXDOMAIN)
    }
    async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> {
        Err(DnsError::NXDOMAIN)
    }
    async fn mx(&self, _: &Domain) -> DnsResult<Mx> {
        Err(DnsError::NXDOMAIN)
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        Err(DnsError::NXDOMAIN)
    }
}

fn chain() -> Memory {
    let mut m = HashMap::new();
    for line in CHAIN
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, record) = line.split_once(' ').unwrap();
        m.insert(Domain::new(name).unwrap(), vec![Txt::from(record)]);
    }
    Memory(m)
}

fn parse(c: &mut Criterion) {
    for (i, r) in RECORDS.iter().enumerate() {
        c.bench_function(&format!("spf/parse/{i}"), |b| {
            b.iter(|| SpfRecord::parse(black_box(r)).unwrap())
        });
    }
}

fn evaluate_chain(c: &mut Criterion) {
    let resolver = chain();
    let q = Query::mail_from(
        "203.0.113.77".parse().unwrap(),
        "user@example.com",
        "mx.example.com",
    );
    assert_eq!(
        pollster::block_on(evaluate(&resolver, &q)).result,
        SpfResult::Pass
    );
    c.bench_function("spf/evaluate/provider_chain", |b| {
        b.iter(|| pollster::block_on(evaluate(&resolver, black_box(&q))))
    });
    let untraced = q.clone().with_trace(false);
    c.bench_function("spf/evaluate/provider_chain_no_trace", |b| {
        b.iter(|| pollster::block_on(evaluate(&resolver, black_box(&untraced))))
    });
    // Opt-in: parsed records shared between evaluations (by domain, checked against the text).
    let cached = q.clone().with_record_cache(RecordCache::new());
    c.bench_function("spf/evaluate/provider_chain_record_cache", |b| {
        b.iter(|| pollster::block_on(evaluate(&resolver, black_box(&cached))))
    });
    // With a clock reading the cache answers record lookups itself while their TTL lasts (no
    // resolver call): the configuration of resolvers that keep parsed records, e.g. mail-auth.
    let fresh = q
        .clone()
        .with_timestamp(1_700_000_000)
        .with_record_cache(RecordCache::new());
    c.bench_function("spf/evaluate/provider_chain_record_cache_fresh", |b| {
        b.iter(|| pollster::block_on(evaluate(&resolver, black_box(&fresh))))
    });
    let fresh_untraced = fresh.clone().with_trace(false);
    c.bench_function(
        "spf/evaluate/provider_chain_record_cache_fresh_no_trace",
        |b| b.iter(|| pollster::block_on(evaluate(&resolver, black_box(&fresh_untraced)))),
    );
}

criterion_group!(benches, parse, evaluate_chain);
criterion_main!(benches);
