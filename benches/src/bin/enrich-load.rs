//! Does sender enrichment slow ingest down? Ingests generated report e-mails into a fresh
//! SQLite store twice: alone, and with reverse-name enrichment running at the same time on
//! its own thread and connection (as `mailward report ingest` runs it), against a zone that
//! names 100 000 of the source addresses and where 10 % of those lookups time out after the
//! lookup timeout. Prints the ingest time of each run.
//!
//! ```text
//! cargo run --release -p mailward-benches --bin enrich-load -- [MESSAGES] [REPEATS]
//! ```
//!
//! The zone is a `ZoneResolver` built in memory: for each named address a PTR record and
//! (for nine in ten) the matching A/AAAA record, so names verify; the reverse names of one in
//! ten are marked to time out, and this tool turns that answer into a wait of the lookup
//! timeout (2 s) first, as a server that never answers would; every other answer comes after
//! 20 ms, as from a recursive resolver nearby with a cold cache. Addresses outside the 100 000
//! get NXDOMAIN (after the same 20 ms).

// A measuring tool: any failure ends the run with its message.
#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mailward_benches::reportmail::{MailboxSpec, report_email, report_for};
use mailward_dns::ZoneResolver;
use mailward_dns::zone::RecordData;
use mailward_store::enrich::EnrichOptions;
use mailward_store::source::Input;
use mailward_store::{IngestOptions, Store};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Mx, Resolver, Txt, reverse_name};

// The allocator the `mailward` binary uses, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NAMED: usize = 100_000;
const TIMEOUT: Duration = Duration::from_secs(2);
/// How long an answer takes (a recursive resolver nearby, its cache cold).
const ANSWER: Duration = Duration::from_millis(20);

/// The zone, with timeouts that take [`TIMEOUT`] to come.
struct SlowTimeouts(ZoneResolver);

impl SlowTimeouts {
    async fn slow<T>(r: DnsResult<T>) -> DnsResult<T> {
        let wait = if matches!(r, Err(DnsError::Timeout)) {
            TIMEOUT
        } else {
            ANSWER
        };
        tokio::time::sleep(wait).await;
        r
    }
}

impl Resolver for SlowTimeouts {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        Self::slow(self.0.txt(name).await).await
    }
    async fn a(&self, name: &Domain) -> DnsResult<std::net::Ipv4Addr> {
        Self::slow(self.0.a(name).await).await
    }
    async fn aaaa(&self, name: &Domain) -> DnsResult<std::net::Ipv6Addr> {
        Self::slow(self.0.aaaa(name).await).await
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        Self::slow(self.0.mx(name).await).await
    }
    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        Self::slow(self.0.ptr(ip).await).await
    }
}

fn zone(ips: &BTreeSet<IpAddr>) -> ZoneResolver {
    let mut z = ZoneResolver::new();
    for (i, ip) in ips.iter().take(NAMED).enumerate() {
        let rev = reverse_name(*ip);
        if i % 10 == 3 {
            z.mark_timeout(rev);
            continue;
        }
        let name: Domain = format!("h{i}.out.sender{}.example", i % 50)
            .parse()
            .unwrap_or_else(|e| panic!("{e:?}"));
        z.insert(rev, 3600, RecordData::Ptr(name.clone()))
            .unwrap_or_else(|e| panic!("{e:?}"));
        if i % 10 != 7 {
            let data = match ip {
                IpAddr::V4(v4) => RecordData::A(*v4),
                IpAddr::V6(v6) => RecordData::Aaaa(*v6),
            };
            z.insert(name, 3600, data)
                .unwrap_or_else(|e| panic!("{e:?}"));
        }
    }
    z
}

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let repeats: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(3);
    let spec = MailboxSpec::new(messages, 1);
    let mails: Arc<Vec<Vec<u8>>> =
        Arc::new((0..messages).map(|i| report_email(&spec, i)).collect());
    let ips: BTreeSet<IpAddr> = (0..messages)
        .flat_map(|i| {
            report_for(&spec, i)
                .records
                .into_iter()
                .map(|r| r.row.source_ip)
        })
        .collect();
    println!(
        "{messages} report e-mails, {} distinct source addresses, {} named in the zone ({} of them time out after {} s)",
        ips.len(),
        ips.len().min(NAMED),
        ips.len().min(NAMED) / 10,
        TIMEOUT.as_secs()
    );
    let resolver = Arc::new(SlowTimeouts(zone(&ips)));
    let dir = std::env::temp_dir().join(format!("mailward-enrich-load-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    println!("| run | ingest s | messages/s | addresses looked up meanwhile |");
    println!("|---|---:|---:|---:|");
    for round in 0..repeats {
        for enrich in [false, true] {
            let path = dir.join(format!("r{round}-{enrich}.db"));
            let (secs, looked) = run(&path, &mails, enrich.then(|| Arc::clone(&resolver)));
            println!(
                "| {} | {secs:.2} | {:.0} | {looked} |",
                if enrich { "with enrichment" } else { "alone" },
                messages as f64 / secs
            );
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn run(
    path: &std::path::Path,
    mails: &Arc<Vec<Vec<u8>>>,
    resolver: Option<Arc<SlowTimeouts>>,
) -> (f64, u64) {
    let rt = runtime();
    let store = rt
        .block_on(Store::open_sqlite(path))
        .unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let enricher = resolver.map(|resolver| {
        let path = path.to_owned();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            runtime().block_on(async {
                let store = Store::open_sqlite(&path)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let mut looked = 0;
                while !stop.load(Ordering::Relaxed) {
                    let stats = store
                        .enrich(&*resolver, &EnrichOptions::default(), &stop)
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    looked += stats.looked_up;
                    if stats.looked_up == 0 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                looked
            })
        })
    });
    let started = Instant::now();
    let inputs: Vec<Result<Input, mailward_store::source::InputError>> = mails
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Ok(Input {
                location: format!("gen/{i}"),
                bytes: m.clone(),
            })
        })
        .collect();
    rt.block_on(store.ingest_inputs(inputs, &IngestOptions::new(), |_| {}))
        .unwrap_or_else(|e| panic!("{e}"));
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let looked = enricher
        .map(|h| h.join().unwrap_or_else(|_| panic!("enrichment thread")))
        .unwrap_or(0);
    (secs, looked)
}
