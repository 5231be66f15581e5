//! Builds (once) an SQLite store of generated reports with at least `--records` record rows,
//! then times the store's queries on it: the numbers behind "a 30-day domain summary on a
//! store of 10 000 000 record rows".
//!
//! ```text
//! cargo run --release -p mailward-benches --bin store-scale -- \
//!     --store /tmp/scale.db --records 10000000 [--domains 20] [--days 90] [--seed 1]
//! ```
//!
//! The reports come from `mailward_benches::reportmail` (heavy-tailed record counts, a few
//! hundred legitimate sources per domain plus forgers), serialised and ingested through
//! `Store::ingest` like any input. Each query is run 7 times; the table gives the median and
//! the slowest, in milliseconds, with the rows it covered.

// A measuring tool: any failure ends the run with its message.
#![allow(clippy::panic)]

use std::time::Instant;

// The allocator the `mailward` binary uses, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use mailward_benches::reportmail::{MailboxSpec, report_for};
use mailward_store::query::{Filter, Window};
use mailward_store::services::ServiceMap;
use mailward_store::source::Input;
use mailward_store::{IngestOptions, Store};

struct Args {
    store: std::path::PathBuf,
    records: u64,
    domains: usize,
    days: u32,
    seed: u64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        store: "/tmp/mailward-scale.db".into(),
        records: 10_000_000,
        domains: 20,
        days: 90,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("bad value for {flag}");
        match flag.as_str() {
            "--store" => a.store = value.into(),
            "--records" => a.records = value.parse().map_err(bad)?,
            "--domains" => a.domains = value.parse().map_err(bad)?,
            "--days" => a.days = value.parse().map_err(bad)?,
            "--seed" => a.seed = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn record_rows(path: &std::path::Path) -> u64 {
    rusqlite::Connection::open(path)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM records", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| u64::try_from(n).unwrap_or(0))
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("store-scale: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    rt.block_on(run(a));
}

async fn run(a: Args) {
    // The generator spreads messages evenly over its days by index, so it is told about how
    // many reports make the records asked for (47 records per report on average).
    let spec = MailboxSpec {
        messages: usize::try_from(a.records / 47).unwrap_or(usize::MAX).max(1),
        seed: a.seed,
        domains: a.domains,
        days: a.days,
        start_day: 20_000,
        ..MailboxSpec::default()
    };
    let store = Store::open_sqlite(&a.store)
        .await
        .unwrap_or_else(|e| panic!("open: {e}"));
    let have = record_rows(&a.store);
    if have < a.records {
        let started = Instant::now();
        // Reports are generated on the reader thread and stored through the same grouped
        // ingest as `mailward report ingest`.
        let mut rows = have;
        let mut index = usize::try_from(have).unwrap_or(0); // resume past earlier reports
        let need = a.records;
        let gen_spec = spec.clone();
        let inputs = std::iter::from_fn(move || {
            if rows >= need {
                return None;
            }
            let report = report_for(&gen_spec, index);
            rows += report.records.len() as u64;
            let input = Input {
                location: format!("gen/{index}"),
                bytes: mailward_reports::to_xml(&report).into_bytes(),
            };
            index += 1;
            Some(Ok(input))
        });
        let mut done = 0u64;
        store
            .ingest_inputs(inputs, &IngestOptions::new(), |_| {
                done += 1;
                if done.is_multiple_of(20_000) {
                    eprintln!("{done} reports, {:.0} s", started.elapsed().as_secs_f64());
                }
            })
            .await
            .unwrap_or_else(|e| panic!("ingest: {e}"));
        eprintln!(
            "built: {} record rows in {:.0} s",
            record_rows(&a.store),
            started.elapsed().as_secs_f64()
        );
    }
    let rows = record_rows(&a.store);
    // The window: the last 30 days of the generated period.
    let last = i64::try_from(spec.start_day).unwrap_or(0) + i64::from(a.days) - 1;
    let window = Window {
        first_day: Some(last - 29),
        last_day: Some(last),
    };
    let all = store
        .summary(&Filter::new(window))
        .await
        .unwrap_or_else(|e| panic!("summary: {e}"));
    let mut domains: Vec<(u64, String)> = all
        .domains
        .values()
        .map(|d| (d.volume, d.domain.clone()))
        .collect();
    domains.sort();
    let biggest = domains.last().map(|d| d.1.clone()).unwrap_or_default();
    let median = domains
        .get(domains.len() / 2)
        .map(|d| d.1.clone())
        .unwrap_or_default();
    println!(
        "store {} : {rows} record rows, {} domains; window {}..{} (30 days)",
        a.store.display(),
        domains.len(),
        mailward_store::query::format_day(last - 29),
        mailward_store::query::format_day(last)
    );
    println!("| query | median ms | max ms | covered |");
    println!("|---|---:|---:|---|");
    let services = ServiceMap::builtin();
    if std::env::var_os("STORE_SCALE_SUMMARY_ONLY").is_some() {
        let f = Filter::new(window).domain(&biggest);
        for _ in 0..20 {
            store.summary(&f).await.unwrap_or_else(|e| panic!("{e}"));
        }
        return;
    }
    for (label, domain) in [("biggest", &biggest), ("median", &median)] {
        let f = Filter::new(window).domain(domain);
        let s = store.summary(&f).await.unwrap_or_else(|e| panic!("{e}"));
        let d = s.domains.get(domain.as_str());
        let covered = format!(
            "{domain}: {} reports, {} messages, {} sources",
            s.reports,
            d.map_or(0, |d| d.volume),
            d.map_or(0, |d| d.sources.len())
        );
        time(
            &format!("30-day summary, {label} domain"),
            &covered,
            || async { store.summary(&f).await.map(|_| ()) },
        )
        .await;
        time(
            &format!("30-day daily series, {label} domain"),
            &covered,
            || async { store.daily(&f).await.map(|_| ()) },
        )
        .await;
        time(
            &format!("30-day reporters, {label} domain"),
            &covered,
            || async { store.reporters(&f).await.map(|_| ()) },
        )
        .await;
        time(
            &format!("30-day reports page (50), {label} domain"),
            &covered,
            || async { store.reports(&f, 0, 50).await.map(|_| ()) },
        )
        .await;
        time(
            &format!("30-day sources by service, {label} domain"),
            &covered,
            || async { store.sources(&f, &services).await.map(|_| ()) },
        )
        .await;
    }
    let f = Filter::new(window);
    time(
        "30-day summary, all domains",
        &format!("{} reports", all.reports),
        || async { store.summary(&f).await.map(|_| ()) },
    )
    .await;
    println!("peak RSS of this process: {} MiB", peak_rss_mib());
}

async fn time<F, Fut>(label: &str, covered: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), mailward_store::Error>>,
{
    let mut ms = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        f().await.unwrap_or_else(|e| panic!("{label}: {e}"));
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "| {label} | {:.1} | {:.1} | {covered} |",
        ms.get(3).copied().unwrap_or(0.0),
        ms.last().copied().unwrap_or(0.0)
    );
}
