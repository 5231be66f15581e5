//! Aggregate report parsing throughput (MB/s of XML) on a generated report of 50 000 records,
//! plus the gzip + unwrap path and writing.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailward_reports::{
    ActionDisposition, Aggregator, AlignedResult, DateRange, DkimAuthResult, DkimResult,
    MessageOutcome, PolicyPublished, ReportedSpfResult, Reporter, SpfAuthResult, SpfScope,
};

/// One report with `n` distinct rows (one per source IP), shaped like a large receiver's.
pub fn large_report_xml(n: u32) -> String {
    let reporter = Reporter {
        org_name: "Large Receiver".into(),
        email: "dmarc-noreply@receiver.example".into(),
        receiver: "receiver.example".into(),
        extra_contact_info: None,
        generator: Some("bench".into()),
    };
    let mut agg = Aggregator::new(
        reporter,
        DateRange {
            begin: 1_700_000_000,
            end: 1_700_086_399,
        },
    );
    let policy = PolicyPublished {
        domain: "example.com".into(),
        p: Some(mailward_reports::ReportedPolicy::None),
        ..PolicyPublished::default()
    };
    for i in 0..n {
        let pass = i % 3 != 0;
        agg.add(&MessageOutcome {
            policy: policy.clone(),
            source_ip: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
            header_from: "example.com".into(),
            envelope_from: Some("bounces.example.com".into()),
            envelope_to: Some("receiver.example".into()),
            disposition: ActionDisposition::None,
            dkim_aligned: if pass {
                AlignedResult::Pass
            } else {
                AlignedResult::Fail
            },
            spf_aligned: AlignedResult::Fail,
            reasons: Vec::new(),
            dkim: vec![DkimAuthResult {
                domain: "example.com".into(),
                selector: Some("selector1".into()),
                result: Some(if pass {
                    DkimResult::Pass
                } else {
                    DkimResult::Fail
                }),
                human_result: None,
            }],
            spf: Some(SpfAuthResult {
                domain: "bounces.example.com".into(),
                scope: Some(SpfScope::MailFrom),
                result: Some(ReportedSpfResult::SoftFail),
                human_result: None,
            }),
            count: u64::from(i % 97 + 1),
        });
    }
    let reports = agg.finish();
    mailward_reports::to_xml(&reports[0])
}

fn bench(c: &mut Criterion) {
    let xml = large_report_xml(50_000);
    let gz = mailward_reports::gzip(xml.as_bytes());
    let mut g = c.benchmark_group("reports");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(xml.len() as u64));
    g.bench_function("parse_xml_50k_records", |b| {
        b.iter(|| mailward_reports::parse_xml(black_box(xml.as_bytes())).unwrap())
    });
    g.bench_function("parse_gzip_50k_records", |b| {
        b.iter(|| mailward_reports::parse(black_box(&gz)).unwrap())
    });
    // What `mailward --json report parse` does in-process: read every report of the input
    // and write it as JSON (the output buffer is kept between iterations).
    let mut out = Vec::with_capacity(xml.len() * 2);
    g.bench_function("read_to_json_50k_records", |b| {
        b.iter(|| {
            out.clear();
            let found = mailward_reports::read(black_box(xml.as_bytes())).unwrap();
            serde_json::to_writer(&mut out, &found).unwrap();
            out.len()
        })
    });
    let report = mailward_reports::parse_xml(xml.as_bytes()).unwrap().report;
    g.bench_function("to_xml_50k_records", |b| {
        b.iter(|| mailward_reports::to_xml(black_box(&report)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
