//! mailward-spf hot paths: parsing realistic records, a full check_host() over a provider-style
//! include chain (4 nested includes, 30 ip4/ip6 terms, the match in the last term of the deepest
//! record) answered by an in-memory resolver, and the four scenarios of
//! `spf/scenarios/{chain_pass, ip4_pass, mx_a_pass, chain_fail}/{cold, warm}/{trace, no_trace}`:
//! cold = no cache (every record fetched and parsed), warm = a `RecordCache` with a timestamp
//! (records and A/MX answers from the cache, the production steady state).
//! `benches/spf-peers` times the same scenarios beside viaspf and mail-auth.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, criterion_group};
use mailward_spf::{Query, RecordCache, SpfRecord, SpfResult, evaluate};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

const CHAIN: &str = include_str!("../../spf/tests/data/provider_chain.txt");

const RECORDS: &[&str] = &[
    "v=spf1 include:_spf.google.com ~all",
    "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip6:2001:db8::/32 include:_spf.example.net include:mail.example.org mx a:out.%{d}/28 -all",
    "v=spf1 exists:%{ir}.%{l1r+}._spf.%{d} ptr:example.com redirect=_spf.example.com exp=explain._spf.%{d}",
];

/// TXT, A and MX records; every other query is NXDOMAIN.
#[derive(Default)]
struct Memory {
    txt: HashMap<Domain, Vec<Txt>>,
    a: HashMap<Domain, Vec<Ipv4Addr>>,
    mx: HashMap<Domain, Vec<Mx>>,
}

fn answer<T: Clone>(map: &HashMap<Domain, Vec<T>>, name: &Domain) -> DnsResult<T> {
    map.get(name)
        .map(|t| Lookup::new(t.clone(), 300))
        .ok_or(DnsError::NXDOMAIN)
}

impl Resolver for Memory {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        answer(&self.txt, name)
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        answer(&self.a, name)
    }
    async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> {
        Err(DnsError::NXDOMAIN)
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        answer(&self.mx, name)
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        Err(DnsError::NXDOMAIN)
    }
}

fn d(name: &str) -> Domain {
    Domain::new(name).unwrap()
}

/// The chain file's records, `v=spf1 ip4:192.0.2.0/24 -all` at example.org, and
/// `v=spf1 mx a -all` at example.net with two MX hosts.
fn chain() -> Memory {
    let mut m = Memory::default();
    for line in CHAIN
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, record) = line.split_once(' ').unwrap();
        m.txt.insert(d(name), vec![Txt::from(record)]);
    }
    m.txt.insert(
        d("example.org"),
        vec![Txt::from("v=spf1 ip4:192.0.2.0/24 -all")],
    );
    m.txt
        .insert(d("example.net"), vec![Txt::from("v=spf1 mx a -all")]);
    let mx = |preference, host: &str| Mx {
        preference,
        exchange: Some(d(host)),
    };
    m.mx.insert(
        d("example.net"),
        vec![mx(10, "mx1.example.net"), mx(20, "mx2.example.net")],
    );
    m.a.insert(d("mx1.example.net"), vec![Ipv4Addr::new(198, 51, 100, 1)]);
    m.a.insert(d("mx2.example.net"), vec![Ipv4Addr::new(198, 51, 100, 2)]);
    m.a.insert(d("example.net"), vec![Ipv4Addr::new(198, 51, 100, 80)]);
    m
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

/// The four scenarios: name, client, MAIL FROM, expected result.
const CASES: [(&str, &str, &str, SpfResult); 4] = [
    (
        "chain_pass",
        "203.0.113.77",
        "user@example.com",
        SpfResult::Pass,
    ),
    (
        "ip4_pass",
        "192.0.2.10",
        "user@example.org",
        SpfResult::Pass,
    ),
    // The client is the second MX host by preference.
    (
        "mx_a_pass",
        "198.51.100.2",
        "user@example.net",
        SpfResult::Pass,
    ),
    // No term matches; each include ends in ~all, which include does not pass up.
    (
        "chain_fail",
        "192.0.2.200",
        "user@example.com",
        SpfResult::Fail,
    ),
];

/// The query of a scenario, cold (no cache) or warm (a `RecordCache` with a clock reading).
fn scenario_query(ip: &str, sender: &str, warm: bool, trace: bool) -> Query {
    let q = Query::mail_from(ip.parse().unwrap(), sender, "mx.example.com").with_trace(trace);
    if warm {
        q.with_timestamp(1_700_000_000)
            .with_record_cache(RecordCache::new())
    } else {
        q
    }
}

/// The four scenarios of the SPF issue, cold and warm, trace on and off.
fn scenarios(c: &mut Criterion) {
    let resolver = chain();
    for (name, ip, sender, want) in CASES {
        for warm in [false, true] {
            for trace in [true, false] {
                let q = scenario_query(ip, sender, warm, trace);
                assert_eq!(pollster::block_on(evaluate(&resolver, &q)).result, want);
                let id = format!(
                    "spf/scenarios/{name}/{}/{}",
                    if warm { "warm" } else { "cold" },
                    if trace { "trace" } else { "no_trace" }
                );
                c.bench_function(&id, |b| {
                    b.iter(|| pollster::block_on(evaluate(&resolver, black_box(&q))))
                });
            }
        }
    }
}

criterion_group!(benches, parse, evaluate_chain, scenarios);

/// `SPF_PROFILE=<scenario>/<cold|warm>/<trace|no_trace>/<iterations>` (scenario as in
/// `spf/scenarios/…`): runs one scenario that many times and nothing else, for callgrind
/// (`valgrind --tool=callgrind $B --bench` with the bench executable as `$B`). Instruction counts
/// per evaluation come from two runs' difference, which cancels the setup.
fn profile(spec: &str) {
    let parts: Vec<&str> = spec.split('/').collect();
    let [name, temp, trace, iterations] = parts[..] else {
        panic!("SPF_PROFILE=<scenario>/<cold|warm>/<trace|no_trace>/<iterations>, not {spec}")
    };
    let (_, ip, sender, want) = CASES
        .into_iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("unknown scenario {name}"));
    let q = scenario_query(ip, sender, temp == "warm", trace == "trace");
    let resolver = chain();
    let n: u64 = iterations.parse().unwrap();
    for _ in 0..n {
        let outcome = pollster::block_on(evaluate(&resolver, black_box(&q)));
        assert_eq!(outcome.result, want);
    }
    println!("{spec}: {n} evaluations");
}

fn main() {
    if let Ok(spec) = std::env::var("SPF_PROFILE") {
        profile(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
