//! The report store: ingest throughput of realistic report e-mails into a fresh SQLite store,
//! and the 30-day summary query on a store of generated reports.
//!
//! Inputs come from `mailward_benches::reportmail` (seeded): report e-mails from Google-,
//! Microsoft-, Yahoo-like and small receivers, 45 % gzip / 35 % zip / 20 % plain XML
//! attachments, heavy-tailed record counts (mean about 4.5 KB per message), duplicate
//! deliveries and a few non-reports. The 10 000 000-row figure comes from the
//! `store-scale` binary (see its docs); this bench tracks the same query on a smaller store.

#![allow(missing_docs, clippy::panic)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mailward_benches::reportmail::{MailboxSpec, report_email, report_for};
use mailward_store::query::{Filter, Window};
use mailward_store::{IngestOptions, Store};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailward-bench-store-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn ingest(c: &mut Criterion) {
    const MESSAGES: usize = 2000;
    let spec = MailboxSpec::new(MESSAGES, 7);
    let mails: Vec<Vec<u8>> = (0..MESSAGES).map(|i| report_email(&spec, i)).collect();
    let bytes: usize = mails.iter().map(Vec::len).sum();
    let rt = runtime();
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MESSAGES as u64));
    let mut n = 0;
    group.bench_function(
        format!(
            "ingest {MESSAGES} report e-mails ({} KB) into fresh SQLite",
            bytes / 1000
        ),
        |b| {
            b.iter_batched(
                || {
                    n += 1;
                    let path = scratch(&format!("ingest-{n}.db"));
                    remove_db(&path);
                    let store = rt
                        .block_on(Store::open_sqlite(&path))
                        .unwrap_or_else(|e| panic!("{e}"));
                    (store, path)
                },
                |(store, path)| {
                    rt.block_on(async {
                        let options = IngestOptions::new();
                        for (i, m) in mails.iter().enumerate() {
                            let o = store
                                .ingest(&format!("bench/{i}"), m, &options)
                                .await
                                .unwrap_or_else(|e| panic!("{e}"));
                            black_box(o);
                        }
                    });
                    drop(store);
                    remove_db(&path);
                },
                BatchSize::PerIteration,
            );
        },
    );
    group.finish();
}

fn summary(c: &mut Criterion) {
    // About 20 000 reports, ~1 000 000 record rows over 90 days and 20 domains.
    const REPORTS: usize = 20_000;
    let spec = MailboxSpec {
        messages: REPORTS,
        seed: 3,
        start_day: 20_000,
        ..MailboxSpec::default()
    };
    let rt = runtime();
    let path = scratch("summary.db");
    remove_db(&path);
    let store = rt
        .block_on(async {
            let store = Store::open_sqlite(&path).await?;
            let options = IngestOptions::new();
            for i in 0..REPORTS {
                let xml = mailward_reports::to_xml(&report_for(&spec, i));
                store
                    .ingest(&format!("gen/{i}"), xml.as_bytes(), &options)
                    .await?;
            }
            Ok::<_, mailward_store::Error>(store)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let last = 20_000 + 89;
    let window = Window {
        first_day: Some(last - 29),
        last_day: Some(last),
    };
    let all = rt
        .block_on(store.summary(&Filter::new(window)))
        .unwrap_or_else(|e| panic!("{e}"));
    let biggest = all
        .domains
        .values()
        .max_by_key(|d| d.volume)
        .map(|d| d.domain.clone())
        .unwrap_or_default();
    let filter = Filter::new(window).domain(&biggest);
    let mut group = c.benchmark_group("store");
    group.bench_function("30-day summary of the biggest domain (1M-row store)", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(store.summary(&filter))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        });
    });
    group.bench_function("30-day daily series of the biggest domain", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(store.daily(&filter))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
        });
    });
    group.finish();
    drop(store);
    remove_db(&path);
}

criterion_group!(benches, ingest, summary);
criterion_main!(benches);
