//! DMARC hot paths: record parsing, and a full evaluation (policy discovery, Tree Walks for
//! relaxed alignment of SPF and DKIM) for a 5-label Author Domain over an in-memory zone.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use mailward_dmarc::evaluate::{
    DkimInput, DkimVerdict, Options, SpfInput, SpfScope, SpfVerdict, evaluate,
};
use mailward_dmarc::record::DmarcRecord;
use mailward_dns::ZoneResolver;
use mailward_types::Domain;

const RECORD: &[u8] = b"v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=r; aspf=r; fo=1:d; \
rua=mailto:dmarc-agg@example.com,mailto:agg@reports.example.net!10m; \
ruf=mailto:dmarc-fail@example.com; pct=100; ri=86400";

const ZONE: &str = "$TTL 300
_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc-agg@example.com\"
_dmarc.eu.example.com. IN TXT \"v=DMARC1; p=quarantine\"
a.b.eu.example.com. IN A 192.0.2.1
bounce.example.com. IN A 192.0.2.2
";

fn bench(c: &mut Criterion) {
    c.bench_function("dmarc/record_parse", |b| {
        b.iter(|| DmarcRecord::parse(std::hint::black_box(RECORD)).unwrap())
    });

    let zone = ZoneResolver::parse(ZONE, "").unwrap();
    let author = Domain::new("x.a.b.eu.example.com").unwrap();
    let spf = SpfInput {
        result: SpfVerdict::Pass,
        domain: Domain::new("bounce.example.com").unwrap(),
        scope: SpfScope::MailFrom,
    };
    let dkim = [DkimInput {
        result: DkimVerdict::Pass,
        domain: Domain::new("mail.example.com").unwrap(),
        selector: "s1".into(),
    }];
    let options = Options::default();
    c.bench_function("dmarc/evaluate_5_labels", |b| {
        b.iter(|| {
            let out = pollster::block_on(evaluate(&zone, &author, Some(&spf), &dkim, &options));
            assert!(out.spf_aligned);
            out
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
