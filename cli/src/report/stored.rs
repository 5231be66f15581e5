//! The store commands: `report ingest`, `summarize` over a store, `prune`, `export`,
//! `enrich`, and the choice of store (`--store`, `MAILWARD_STORE`, or a file in the user's
//! data directory).

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use mailward_store::enrich::EnrichOptions;
use mailward_store::imap::{ImapUrl, StopSignal, is_imap_url};
use mailward_store::query::{Filter, StoreSummary, Window, today};
use mailward_store::services::ServiceMap;
use mailward_store::source::Source;
use mailward_store::sources::SourceGroup;
use mailward_store::{
    ExportFormat, IngestCounts, IngestOptions, InputKind, OpenOptions, Store, StoreUrl,
};
use serde_json::{Value, json};

use crate::global::{GlobalArgs, TimeoutResolver};

/// Where the store is: `--store`, else `MAILWARD_STORE`, else the user's data directory.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The store: `sqlite:PATH` (or a path) or `postgres://USER@HOST/DB`. Default:
    /// `$MAILWARD_STORE`, else reports.db in the user's data directory
    /// (`$XDG_DATA_HOME/mailward`).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Seconds to wait for another process's write to the store before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    lock_timeout: u64,
}

impl StoreArgs {
    pub(crate) fn url(&self) -> anyhow::Result<StoreUrl> {
        if let Some(s) = &self.store {
            return Ok(StoreUrl::parse(s)?);
        }
        if let Ok(s) = std::env::var("MAILWARD_STORE")
            && !s.trim().is_empty()
        {
            return StoreUrl::parse(&s).context("MAILWARD_STORE");
        }
        let dir = dirs::data_dir()
            .context("no data directory (set HOME or XDG_DATA_HOME, or pass --store)")?;
        let path = dir.join("mailward").join("reports.db");
        if !path.exists() {
            eprintln!("mailward: creating the store sqlite:{}", path.display());
        }
        Ok(StoreUrl::Sqlite(path))
    }

    pub(crate) async fn open(&self) -> anyhow::Result<Store> {
        let url = self.url()?;
        self.open_url(&url).await
    }

    async fn open_url(&self, url: &StoreUrl) -> anyhow::Result<Store> {
        let options = OpenOptions::default().lock_timeout(Duration::from_secs(self.lock_timeout));
        Store::open_with(url, &options)
            .await
            .with_context(|| format!("cannot open the store {url}"))
    }
}

/// The window options of store queries.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WindowArgs {
    /// Only the last N days (1 to 3650), today included.
    #[arg(long, value_name = "N", conflicts_with = "since")]
    days: Option<i64>,
    /// Only from this day (YYYY-MM-DD, UTC) on.
    #[arg(long, value_name = "YYYY-MM-DD")]
    since: Option<String>,
    /// Only this policy domain.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
}

impl WindowArgs {
    pub(crate) fn filter(&self) -> anyhow::Result<Filter> {
        let window = match (&self.days, &self.since) {
            (Some(n), _) => Window::last_days(*n, today())?,
            (None, Some(d)) => Window::since(d, today())?,
            (None, None) => Window::all(),
        };
        let filter = Filter::new(window);
        Ok(match &self.domain {
            Some(d) => filter.domain(d),
            None => filter,
        })
    }

    pub(crate) fn is_set(&self) -> bool {
        self.days.is_some() || self.since.is_some() || self.domain.is_some()
    }
}

/// Arguments of `report ingest`.
#[derive(Debug, clap::Args)]
pub(crate) struct IngestArgs {
    /// Where reports come from: a file or directory (xml, gz, zip, eml, json; recursive),
    /// `maildir:DIR`, `mbox:FILE`, or an IMAP mailbox `imaps://USER@HOST[:PORT]/MAILBOX`
    /// (`imap://…` upgrades with STARTTLS).
    #[arg(value_name = "SOURCE", required_unless_present = "retry_rejected")]
    sources: Vec<String>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    imap: super::imap::ImapArgs,
    /// Keep every input verbatim (compressed) in the store.
    #[arg(long)]
    keep_raw: bool,
    /// Do not look up reverse names of new source addresses in the background.
    #[arg(long)]
    no_enrich: bool,
    /// Read the stored rejections again (after an upgrade that reads more).
    #[arg(long)]
    retry_rejected: bool,
    /// Seconds each reverse lookup may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 3)]
    lookup_timeout: u64,
}

/// Arguments of `report prune`.
#[derive(Debug, clap::Args)]
pub(crate) struct PruneArgs {
    /// Remove reports whose period ended more than DAYS days ago.
    #[arg(long, value_name = "DAYS")]
    older_than: u32,
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `report export`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// csv or jsonl.
    #[arg(long, value_name = "FORMAT", value_parser = ["csv", "jsonl"])]
    format: String,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    window: WindowArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Arguments of `report enrich`.
#[derive(Debug, clap::Args)]
pub(crate) struct EnrichArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Lookups in flight at once.
    #[arg(long, value_name = "N", default_value_t = 64)]
    concurrency: usize,
    /// Seconds each reverse lookup may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 3)]
    lookup_timeout: u64,
}

/// Arguments of `report summarize` that select a store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SummarizeStoreArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(flatten)]
    pub(crate) window: WindowArgs,
    /// More sending services, one per line: `DOMAIN KIND NAME…` (kinds: esp,
    /// mailbox_provider, marketing, security_gateway, application, other).
    #[arg(long, value_name = "FILE")]
    pub(crate) services: Option<PathBuf>,
}

fn bar(enabled: bool) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn progress_line(c: &IngestCounts, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    // SMTP TLS reports are mentioned once there are any.
    let tls = if c.tls_stored > 0 || c.tls_duplicates > 0 {
        format!(
            "{} TLS reports stored, {} TLS duplicates, ",
            c.tls_stored, c.tls_duplicates
        )
    } else {
        String::new()
    };
    format!(
        "{} messages: {} stored, {} duplicates, {tls}{} skipped, {} rejected ({:.0}/s)",
        c.inputs,
        c.stored,
        c.duplicates,
        c.skipped,
        c.rejected,
        c.inputs as f64 / secs
    )
}

/// Starts looking up reverse names in the background, on a thread of its own with its own
/// connection, so ingest never waits for DNS. The thread stops when `stop` is set, and the
/// process does not wait for it.
fn start_enrichment(url: StoreUrl, global: &GlobalArgs, timeout: Duration, stop: Arc<AtomicBool>) {
    let resolver = match global.resolver() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mailward: reverse names not looked up: {e:#}");
            return;
        }
    };
    crate::global::spawn_on_own_runtime(
        "enrich",
        "reverse names not looked up",
        move || async move {
            let Ok(store) = Store::open(&url).await else {
                return;
            };
            let resolver = TimeoutResolver::new(resolver, timeout);
            // New addresses keep arriving while ingest runs: go round until stopped.
            while !stop.load(Ordering::Relaxed) {
                match store
                    .enrich(&resolver, &EnrichOptions::default(), &stop)
                    .await
                {
                    Ok(stats) if stats.looked_up == 0 => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        },
    );
}

/// A source of `report ingest`: local files or an IMAP mailbox.
enum IngestSource {
    Local(Source),
    Imap(ImapUrl),
}

impl std::fmt::Display for IngestSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(s) => s.fmt(f),
            Self::Imap(u) => u.fmt(f),
        }
    }
}

pub(crate) async fn ingest(global: &GlobalArgs, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let sources = args
        .sources
        .iter()
        .map(|s| {
            if is_imap_url(s) {
                Ok(IngestSource::Imap(ImapUrl::parse(s)?))
            } else {
                Ok(IngestSource::Local(
                    Source::parse(s).with_context(|| format!("source {s:?}"))?,
                ))
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let watching = sources.iter().any(|s| matches!(s, IngestSource::Imap(_))) && args.imap.watch();
    anyhow::ensure!(
        !args.imap.watch() || (watching && sources.len() == 1),
        "--watch needs exactly one source, an IMAP mailbox"
    );
    let url = args.store.url()?;
    let store = args.store.open_url(&url).await?;
    let stop = Arc::new(AtomicBool::new(false));
    if !args.no_enrich {
        start_enrichment(
            url.clone(),
            global,
            Duration::from_secs(args.lookup_timeout.max(1)),
            Arc::clone(&stop),
        );
    }
    let imap_stop = StopSignal::new();
    if watching {
        super::imap::stop_on_signals(imap_stop.clone());
    }
    let options = IngestOptions::new().keep_raw(args.keep_raw);
    let started = Instant::now();
    let progress = bar(std::io::stdout().is_terminal() && !global.json);
    let mut counts = IngestCounts::default();
    let mut rejected: Vec<Value> = Vec::new();
    let mut note = |o: &mailward_store::InputOutcome, counts: &IngestCounts| {
        if let InputKind::Rejected { reason, .. } = &o.kind {
            rejected.push(json!({"source": o.source, "reason": reason}));
        }
        if let Some(b) = &progress {
            b.set_message(progress_line(counts, started));
        }
    };
    if args.retry_rejected {
        for o in store.retry_rejections(&options).await? {
            counts.add(&o);
            note(&o, &counts);
        }
    }
    for source in &sources {
        let mut running = counts.clone();
        let each = |o: &mailward_store::InputOutcome| {
            running.add(o);
            note(o, &running);
        };
        let result = match source {
            IngestSource::Local(local) => store
                .ingest_source(local, &options, each)
                .await
                .with_context(|| format!("{source}"))?,
            IngestSource::Imap(imap_url) => {
                let mailbox = args
                    .imap
                    .open(imap_url, &imap_stop)
                    .with_context(|| format!("{source}"))?;
                let acks = mailbox.acks();
                let fatal = mailbox.fatal();
                let result = store
                    .ingest_inputs_acked(mailbox, &options, each, |done| {
                        if let Some(a) = &acks {
                            a.committed(done);
                        }
                    })
                    .await
                    .with_context(|| format!("{source}"))?;
                if let Some(e) = fatal.take() {
                    merge(&mut counts, &result);
                    stop.store(true, Ordering::Relaxed);
                    if let Some(b) = &progress {
                        b.finish_and_clear();
                    }
                    eprintln!("mailward: {}", progress_line(&counts, started));
                    return Err(super::imap::explain(e, args.imap.has_ca()))
                        .with_context(|| format!("{source}"));
                }
                result
            }
        };
        merge(&mut counts, &result);
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if global.json {
        let doc = json!({
            "stored": counts.stored,
            "duplicates": counts.duplicates,
            "tls_stored": counts.tls_stored,
            "tls_duplicates": counts.tls_duplicates,
            "skipped": counts.skipped,
            "rejected": rejected,
        });
        serde_json::to_writer(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", progress_line(&counts, started))?;
        for r in &rejected {
            writeln!(
                out,
                "  rejected {}: {}",
                r["source"].as_str().unwrap_or_default(),
                r["reason"].as_str().unwrap_or_default()
            )?;
        }
    }
    Ok(if counts.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn merge(into: &mut IngestCounts, c: &IngestCounts) {
    into.inputs += c.inputs;
    into.stored += c.stored;
    into.duplicates += c.duplicates;
    into.tls_stored += c.tls_stored;
    into.tls_duplicates += c.tls_duplicates;
    into.skipped += c.skipped;
    into.rejected += c.rejected;
}

/// The built-in map of sending services, extended by the file `--services` names.
pub(crate) fn service_map(extension: Option<&std::path::Path>) -> anyhow::Result<ServiceMap> {
    let mut services = ServiceMap::builtin();
    if let Some(path) = extension {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        services
            .parse_extension(&text)
            .with_context(|| format!("{}", path.display()))?;
    }
    Ok(services)
}

/// `report summarize` over a store: the aggregate reports per domain with their senders by
/// service, then the SMTP TLS reports of the window (as the file mode prints them).
pub(crate) async fn summarize(
    json_out: bool,
    args: &SummarizeStoreArgs,
) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let filter = args.window.filter()?;
    let summary = store.summary(&filter).await?;
    print_summary(json_out, &summary)?;
    if !json_out {
        let services = service_map(args.services.as_deref())?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for domain in summary.domains.keys() {
            let groups = store
                .sources(&filter.clone().domain(domain), &services)
                .await?;
            write_groups(&mut out, domain, &groups)?;
        }
        if summary.tls.reports > 0 {
            super::text::write_tls(&mut out, &summary.tls)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Senders grouped by service (the organizational domain of forward-confirmed reverse
/// names), the view that tells a service to fix from a forger.
fn write_groups(out: &mut impl Write, domain: &str, groups: &[SourceGroup]) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{domain}: senders by service (forward-confirmed reverse DNS)"
    )?;
    writeln!(
        out,
        "    {:<40} {:>9} {:>9} {:>8} {:>8}  dkim signers",
        "service", "addresses", "messages", "dkim ok", "spf ok"
    )?;
    for g in groups {
        let name = match (&g.service, &g.org_domain) {
            (Some(s), _) => format!("{} ({})", s.name, s.kind),
            (None, Some(org)) => org.clone(),
            (None, None) => match g.addresses.first().and_then(|a| a.reverse_name.as_deref()) {
                Some(n) => format!(
                    "{} ({n}, {})",
                    g.key,
                    g.addresses.first().map_or("", |a| a.name_status.as_str())
                ),
                None => g.key.clone(),
            },
        };
        let signers: BTreeSet<&str> = g.dkim.iter().map(|a| a.domain.as_str()).collect();
        writeln!(
            out,
            "    {:<40} {:>9} {:>9} {:>8} {:>8}  {}",
            name,
            g.addresses.len(),
            g.messages,
            super::text::pct(g.dkim_aligned_pass, g.messages),
            super::text::pct(g.spf_aligned_pass, g.messages),
            signers.into_iter().collect::<Vec<_>>().join(" ")
        )?;
    }
    Ok(())
}

fn print_summary(json_out: bool, s: &StoreSummary) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json_out {
        serde_json::to_writer_pretty(&mut out, &s.to_json())?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} inputs, {} reports ({} duplicates skipped), {} rejected",
        s.files,
        s.reports,
        s.duplicates,
        s.rejected.len()
    )?;
    for r in &s.rejected {
        writeln!(out, "  rejected {}: {}", r.source, r.reason)?;
    }
    for d in s.domains.values() {
        super::text::write_domain(&mut out, d)?;
    }
    Ok(())
}

pub(crate) async fn prune(args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let now = today() * 86_400;
    let cutoff = now - i64::from(args.older_than) * 86_400;
    let removed = store.prune(cutoff).await?;
    outln!(
        "removed {removed} reports whose period ended before {}",
        mailward_store::query::format_day(cutoff / 86_400)
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let filter = args.window.filter()?;
    let format = if args.format == "csv" {
        ExportFormat::Csv
    } else {
        ExportFormat::JsonLines
    };
    let mut out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let n = store.export(&filter, format, &mut *out).await?;
    drop(out);
    if args.output.is_some() {
        eprintln!("mailward: exported {n} records");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn enrich(global: &GlobalArgs, args: &EnrichArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let resolver = TimeoutResolver::new(
        global.resolver()?,
        Duration::from_secs(args.lookup_timeout.max(1)),
    );
    let options = EnrichOptions::default().concurrency(args.concurrency);
    let stats = store
        .enrich(&resolver, &options, &AtomicBool::new(false))
        .await?;
    if global.json {
        outln!("{}", serde_json::to_string(&stats)?)?;
    } else {
        outln!(
            "{} addresses looked up: {} verified names, {} unverified, {} without a name, {} failed (retried later)",
            stats.looked_up,
            stats.verified,
            stats.unverified,
            stats.no_name,
            stats.failed
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
