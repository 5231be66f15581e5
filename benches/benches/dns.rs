//! mailward-dns hot paths: reading a master file, a ZoneResolver TXT lookup through a CNAME,
//! and a CachingResolver hit.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use mailward_dns::{CachingResolver, ZoneResolver};
use mailward_types::Domain;
use mailward_types::dns::Resolver;

const EXAMPLE: &str = include_str!("../../examples/example.zone");

fn bench(c: &mut Criterion) {
    c.bench_function("dns/zone_parse_example", |b| {
        b.iter(|| ZoneResolver::parse(std::hint::black_box(EXAMPLE), "").unwrap())
    });

    let zone = ZoneResolver::parse(EXAMPLE, "").unwrap();
    let www = Domain::new("www.example.com").unwrap();
    c.bench_function("dns/zone_a_via_cname", |b| {
        b.iter(|| pollster::block_on(zone.a(std::hint::black_box(&www))).unwrap())
    });

    let cache = CachingResolver::new(zone.clone());
    let apex = Domain::new("example.com").unwrap();
    pollster::block_on(cache.txt(&apex)).unwrap();
    c.bench_function("dns/cache_txt_hit", |b| {
        b.iter(|| pollster::block_on(cache.txt(std::hint::black_box(&apex))).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
