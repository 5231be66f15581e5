//! `mailward report`: parse, summarise and generate DMARC reports.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mailward_reports::tls::{ParsedTlsReport, TlsSummary};
use mailward_reports::{
    AggregateReport, Aggregator, DateRange, Limits, MessageOutcome, ParsedReport, ReportEmail,
    Reporter, Summary,
};

use crate::global::GlobalArgs;

mod imap;
mod json;
mod stored;

pub(crate) use stored::{StoreArgs, service_map};

/// Deepest directory recursion for `summarize DIR` (far beyond any report archive layout).
const MAX_DIR_DEPTH: usize = 16;
/// Longest line accepted in an outcomes file.
const MAX_LINE: usize = 1 << 20;

/// Arguments of `mailward report`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Read reports (XML, .gz, .zip, e-mail; aggregate or ARF failure reports) and print each
    /// normalised, with the defects found. Exit status 1 if any input was rejected.
    Parse(ParseArgs),
    /// Summarise aggregate reports per policy domain: sources, alignment pass rates, reporters,
    /// and what would happen at p=quarantine / p=reject.
    Summarize(SummarizeArgs),
    /// Build RFC 9990 aggregate reports from a JSON-lines file of per-message outcomes.
    Generate(GenerateArgs),
    /// Fetch reports into the store (files, directories, maildir:DIR, mbox:FILE): each report
    /// kept once, duplicates counted, rejections stored with their reason. Exit status 1 if
    /// any input was rejected.
    Ingest(stored::IngestArgs),
    /// Remove old reports from the store.
    Prune(stored::PruneArgs),
    /// Write the stored records, with their report's metadata, as CSV or JSON lines.
    Export(stored::ExportArgs),
    /// Look up the reverse names of the source addresses in the store (--zone works).
    Enrich(stored::EnrichArgs),
}

#[derive(Debug, clap::Args)]
struct ParseArgs {
    /// Report files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct SummarizeArgs {
    /// Report files or directories (searched recursively). Without any, the store is
    /// summarised (--store, $MAILWARD_STORE, or the default store).
    #[arg(value_name = "FILE-or-DIR")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    stored: stored::SummarizeStoreArgs,
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// JSON lines, one outcome per line (`-` for standard input). Fields: policy (the published
    /// policy, with its domain), source_ip, header_from, envelope_from, envelope_to,
    /// disposition, dkim_aligned, spf_aligned, reasons, dkim, spf, count.
    #[arg(value_name = "OUTCOMES")]
    outcomes: PathBuf,
    /// Reporting organisation (`org_name`).
    #[arg(long)]
    org_name: String,
    /// Reporter contact address (`email`).
    #[arg(long)]
    email: String,
    /// Domain of the receiver generating the reports (file names, report ids, Subject).
    #[arg(long)]
    receiver: String,
    /// Start of the reporting period, seconds since the epoch.
    #[arg(long)]
    begin: u64,
    /// End of the reporting period, seconds since the epoch.
    #[arg(long)]
    end: u64,
    /// Write each report into this directory under its RFC 9990 §3.5.2 file name instead of
    /// printing the XML.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Gzip the files written to --out-dir (`.xml.gz`).
    #[arg(long)]
    gzip: bool,
    /// Write report e-mails (`.eml`, gzip attachment) to --out-dir, addressed to this address.
    #[arg(long, value_name = "ADDR", requires = "out_dir")]
    email_to: Option<String>,
    /// `Date:` of the report e-mails (RFC 5322 date).
    #[arg(long, default_value = "Thu, 01 Jan 1970 00:00:00 +0000")]
    date: String,
}

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Parse(a) => parse(global.json, &a),
        Command::Summarize(a) if a.paths.is_empty() => {
            stored::summarize(global.json, &a.stored).await
        }
        Command::Summarize(a) => {
            if a.stored.window.is_set() {
                anyhow::bail!("--days, --since and --domain select from a store; give no files");
            }
            summarize(global.json, &a)
        }
        Command::Generate(a) => generate(&a),
        Command::Ingest(a) => stored::ingest(global, &a).await,
        Command::Prune(a) => stored::prune(&a).await,
        Command::Export(a) => stored::export(&a).await,
        Command::Enrich(a) => stored::enrich(global, &a).await,
    }
}

/// Reads a file, refusing anything larger than the input limit before reading it.
fn read_input(path: &Path, limits: &Limits) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    // Sized once from the file's length (growing a large report's buffer step by step costs
    // copies and fresh pages).
    let size = file.metadata().map_or(0, |m| m.len());
    if let Some(data) = read_in_halves(&file, size, limits) {
        return Ok(data);
    }
    let mut data =
        Vec::with_capacity(usize::try_from(size.min(limits.max_input_bytes)).unwrap_or(0) + 1);
    file.take(limits.max_input_bytes.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read: {e}"))?;
    if data.len() as u64 > limits.max_input_bytes {
        return Err(mailward_reports::Error::Limit(mailward_reports::Limit::InputSize).to_string());
    }
    Ok(data)
}

/// Files from this size are read by two threads, each into its half of the buffer.
const READ_IN_HALVES_MIN: u64 = 4 << 20;

/// Reads a large regular file with two threads, one per half of a buffer sized from its
/// length: most of the time of reading a large report into memory goes to the kernel clearing
/// the buffer's fresh pages, and two threads clear their halves at once. `None` (read it the
/// ordinary way) for small files, one core, a file that changed size, or any error.
fn read_in_halves(file: &std::fs::File, size: u64, limits: &Limits) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt as _;
    if size < READ_IN_HALVES_MIN
        || size > limits.max_input_bytes
        || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) < 2
    {
        return None;
    }
    let len = usize::try_from(size).ok()?;
    let mut data = vec![0u8; len];
    let (head, tail) = data.split_at_mut(len / 2);
    let offset = u64::try_from(head.len()).ok()?;
    let (a, b) = std::thread::scope(|scope| {
        let second = scope.spawn(|| file.read_exact_at(tail, offset));
        (file.read_exact_at(head, 0), second.join())
    });
    // A file that grew while being read is read again the ordinary way.
    let mut probe = [0u8; 1];
    (a.is_ok() && matches!(b, Ok(Ok(()))) && file.read_at(&mut probe, size).ok()? == 0)
        .then_some(data)
}

/// One input's result in `parse --json` (serialised straight from the parsed values).
#[derive(serde::Serialize)]
struct FileResult<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reports: Option<json::Reports<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_reports: Option<&'a [ParsedTlsReport]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_report: Option<&'a mailward_reports::FailureReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

fn parse(json: bool, args: &ParseArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let mut rejected = 0usize;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if json {
        out.write_all(b"[")?;
    }
    // Inputs are printed one at a time, so memory does not grow with the number of files.
    for (i, path) in args.files.iter().enumerate() {
        let name = path.display().to_string();
        let data = read_input(path, &limits);
        let outcome = data.as_ref().map_err(Clone::clone).and_then(|data| {
            mailward_reports::read_with(data, &limits)
                .map_err(|e| format!("{} [{}]", with_causes(&e), e.kind()))
        });
        let mut result = FileResult {
            file: &name,
            reports: None,
            tls_reports: None,
            failure_report: None,
            error: None,
        };
        match &outcome {
            Ok(found) => {
                if !json {
                    for r in &found.aggregate {
                        writeln!(out, "{}", describe(&name, r))?;
                    }
                    for r in &found.tls {
                        writeln!(out, "{}", describe_tls(&name, r))?;
                    }
                    if let Some(r) = &found.failure {
                        writeln!(out, "{}", describe_failure(&name, r))?;
                    }
                }
                result.reports = Some(&found.aggregate)
                    .filter(|r| !r.is_empty())
                    .map(|r| json::Reports(r));
                result.tls_reports = Some(&found.tls).filter(|r| !r.is_empty()).map(|r| &r[..]);
                result.failure_report = found.failure.as_ref();
            }
            Err(reason) => {
                rejected += 1;
                if !json {
                    writeln!(out, "{name}: rejected: {reason}")?;
                }
                result.error = Some(reason);
            }
        }
        if json {
            // One compact line per input: a 10 000-record report prints in a fraction of the
            // time pretty-printing takes, and each input's result stays one line for tools.
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut out, &result).map_err(std::io::Error::from)?;
        }
        if i + 1 == args.files.len() {
            // The process ends next, which returns the memory at once: freeing the last input
            // and its reports first, one allocation at a time and then page by page, would add
            // about a tenth to the run time of a large report.
            std::mem::forget(outcome);
            std::mem::forget(data);
        }
    }
    if json {
        out.write_all(b"\n]\n")?;
    }
    out.flush()?;
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(name: &str, p: &ParsedReport) -> String {
    let r = &p.report;
    let m = &r.report_metadata;
    let mut s = String::new();
    let source = if p.source.is_empty() {
        String::new()
    } else {
        format!(" [{}]", p.source)
    };
    let _ = writeln!(
        s,
        "{name}{source}: {:?} report {} from {} <{}> for {}, {}..{}",
        r.schema,
        m.report_id,
        m.org_name,
        m.email,
        r.policy_published.domain,
        m.date_range.begin,
        m.date_range.end
    );
    let pp = &r.policy_published;
    let show = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let _ = writeln!(
        s,
        "  policy: p={} sp={} np={} adkim={} aspf={} testing={} pct={}",
        show(pp.p.as_ref().map(ToString::to_string)),
        show(pp.sp.as_ref().map(ToString::to_string)),
        show(pp.np.as_ref().map(ToString::to_string)),
        show(pp.adkim.as_ref().map(ToString::to_string)),
        show(pp.aspf.as_ref().map(ToString::to_string)),
        show(pp.testing.as_ref().map(ToString::to_string)),
        show(pp.pct.map(|v| v.to_string())),
    );
    for e in &m.errors {
        let _ = writeln!(s, "  reporter error: {e}");
    }
    let _ = writeln!(
        s,
        "  {} records, {} messages",
        r.records.len(),
        r.message_count()
    );
    for rec in &r.records {
        let pe = &rec.row.policy_evaluated;
        let dkim: Vec<String> = rec
            .auth_results
            .dkim
            .iter()
            .map(ToString::to_string)
            .collect();
        let spf: Vec<String> = rec
            .auth_results
            .spf
            .iter()
            .map(ToString::to_string)
            .collect();
        let _ = writeln!(
            s,
            "  {:<39} {:>7}  disposition={} dkim={} spf={}  from={}  dkim[{}] spf[{}]",
            rec.row.source_ip.to_string(),
            rec.row.count,
            show(pe.disposition.as_ref().map(ToString::to_string)),
            show(pe.dkim.as_ref().map(ToString::to_string)),
            show(pe.spf.as_ref().map(ToString::to_string)),
            rec.identifiers.header_from,
            dkim.join(" "),
            spf.join(" "),
        );
    }
    write_defects(&mut s, &p.defects);
    s
}

/// An error and each error it wraps, once each (`ours: the library's`): the report reader
/// keeps a library's error as its source rather than in its own message.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The defects list of a report's description (the aggregate report's line ends before it).
fn write_defects(s: &mut String, defects: &[mailward_reports::Defect]) {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    if defects.is_empty() {
        s.push_str("  no defects");
        return;
    }
    let _ = write!(s, "  {} defects:", defects.len());
    for d in defects {
        let kind = serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = write!(
            s,
            "\n    {kind} at {}",
            if d.path.is_empty() {
                "(document)"
            } else {
                &d.path
            }
        );
        if let Some(v) = &d.value {
            let _ = write!(s, ": {v:?}");
        }
    }
}

fn describe_tls(name: &str, p: &ParsedTlsReport) -> String {
    let r = &p.report;
    let mut s = String::new();
    let source = if p.source.is_empty() {
        String::new()
    } else {
        format!(" [{}]", p.source)
    };
    let _ = write!(
        s,
        "{name}{source}: SMTP TLS report {} from {} <{}>, {}..{}",
        r.report_id,
        r.organization_name,
        r.contact_info.as_deref().unwrap_or("-"),
        r.date_range.start_datetime,
        r.date_range.end_datetime,
    );
    for policy in &r.policies {
        let _ = write!(
            s,
            "\n  {} ({}): {} sessions ok, {} failed",
            policy.policy.policy_domain,
            policy
                .policy
                .policy_type
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string),
            policy.summary.total_successful_session_count,
            policy.summary.total_failure_session_count,
        );
        for d in &policy.failure_details {
            let _ = write!(
                s,
                "\n    {} x {} mx={} ip={}",
                d.failed_session_count,
                d.result_type
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                d.receiving_mx_hostname.as_deref().unwrap_or("-"),
                d.receiving_ip
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
            );
        }
    }
    write_defects(&mut s, &p.defects);
    s
}

fn describe_failure(name: &str, r: &mailward_reports::FailureReport) -> String {
    let mut s = format!(
        "{name}: failure report ({}{})",
        if r.feedback_type.is_empty() {
            "no Feedback-Type"
        } else {
            &r.feedback_type
        },
        if r.text_notice {
            ", read from its text"
        } else {
            ""
        }
    );
    let mut line = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = write!(s, "\n  {k}: {v}");
        }
    };
    line(
        "Auth-Failure",
        r.auth_failure.as_ref().map(ToString::to_string),
    );
    line(
        "Identity-Alignment",
        r.identity_alignment.map(|a| a.to_string()),
    );
    line(
        "Reported-Domain",
        Some(r.reported_domain.join(", ")).filter(|v| !v.is_empty()),
    );
    line("Source-IP", r.source_ip.map(|ip| ip.to_string()));
    line("Original-Mail-From", r.original_mail_from.clone());
    line("DKIM-Domain", r.dkim_domain.clone());
    line("DKIM-Selector", r.dkim_selector.clone());
    for a in &r.authentication_results {
        line("Authentication-Results", Some(a.clone()));
    }
    for v in &r.spf_dns {
        line("SPF-DNS", Some(v.clone()));
    }
    line(
        "Delivery-Result",
        r.delivery_result.as_ref().map(ToString::to_string),
    );
    line(
        "original",
        Some(format!(
            "{} header fields{}",
            r.original_headers.len(),
            if r.original_has_body { " and body" } else { "" }
        )),
    );
    write_defects(&mut s, &r.defects);
    s
}

/// Collects files under the given paths (directories recursively, sorted).
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        if depth > MAX_DIR_DEPTH {
            anyhow::bail!("{}: directories nested too deeply", dir.display());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, depth + 1, out)?;
            } else if p.is_file() {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, 0, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn pct(part: u64, whole: u64) -> String {
    format!("{:.1}%", mailward_reports::ratio(part, whole) * 100.0)
}

fn summarize(json: bool, args: &SummarizeArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits::default();
    let files = collect_files(&args.paths)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} reports  {elapsed_precise} {wide_msg}",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let mut summary = Summary::new();
    let mut tls = TlsSummary::new();
    let mut rejected: Vec<(String, String)> = Vec::new();
    // Files are read on every core, a batch at a time, and added in file order (the summary
    // does not depend on which core was faster; memory holds one batch).
    for batch in files.chunks(SUMMARIZE_BATCH) {
        for (path, outcome) in batch.iter().zip(read_files(batch, &limits, bar.as_ref())) {
            match outcome {
                Ok(found) => {
                    for r in &found.aggregate {
                        summary.add(&r.report);
                    }
                    for r in &found.tls {
                        tls.add(&r.report);
                    }
                }
                Err(e) => rejected.push((path.display().to_string(), e)),
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let doc = mailward_store::query::summary_json(
            files.len() as u64,
            summary.reports,
            summary.duplicates,
            rejected.iter().map(|(f, e)| (f.as_str(), e.as_str())),
            summary.domains.values(),
        );
        let mut doc = doc;
        if tls.reports > 0
            && let serde_json::Value::Object(map) = &mut doc
        {
            map.insert("tls".into(), serde_json::to_value(&tls)?);
        }
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} files, {} reports ({} duplicates skipped), {} rejected",
            files.len(),
            summary.reports,
            summary.duplicates,
            rejected.len()
        )?;
        for (f, e) in &rejected {
            writeln!(out, "  rejected {f}: {e}")?;
        }
        for d in summary.domains.values() {
            write_domain(&mut out, d)?;
        }
        if tls.reports > 0 {
            write_tls(&mut out, &tls)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Files read per batch by `summarize` (parsed reports of one batch are held at once).
const SUMMARIZE_BATCH: usize = 256;

/// Reads and parses `paths` on every core; the results are in the order of `paths`.
fn read_files(
    paths: &[PathBuf],
    limits: &Limits,
    bar: Option<&indicatif::ProgressBar>,
) -> Vec<Result<mailward_reports::Reports, String>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, paths.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let read_one = |path: &Path| {
        read_input(path, limits)
            .and_then(|d| mailward_reports::read_with(&d, limits).map_err(|e| with_causes(&e)))
    };
    let mut slots: Vec<Option<Result<mailward_reports::Reports, String>>> =
        paths.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = paths.get(i) else {
                            break;
                        };
                        mine.push((i, read_one(path)));
                        if let Some(b) = bar {
                            b.inc(1);
                        }
                    }
                    mine
                })
            })
            .collect();
        for handle in handles {
            for (i, outcome) in handle.join().unwrap_or_default() {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(outcome);
                }
            }
        }
    });
    slots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err("not read (a reader thread failed)".into())))
        .collect()
}

/// The SMTP TLS part of `report summarize`: sessions per policy domain, failures by result type
/// and receiving MX.
pub(crate) fn write_tls(out: &mut impl Write, tls: &TlsSummary) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "SMTP TLS ({} reports): {} sessions, {} failed ({})",
        tls.reports,
        tls.successful_sessions.saturating_add(tls.failed_sessions),
        tls.failed_sessions,
        pct(
            tls.failed_sessions,
            tls.successful_sessions.saturating_add(tls.failed_sessions)
        ),
    )?;
    writeln!(
        out,
        "  {:<40} {:>10} {:>10} {:>8}  policy",
        "policy domain", "sessions", "failed", "failed%"
    )?;
    for (domain, d) in &tls.domains {
        let total = d.successful_sessions.saturating_add(d.failed_sessions);
        let types: Vec<String> = d.policy_types.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "  {:<40} {:>10} {:>10} {:>8}  {}",
            if domain.is_empty() { "-" } else { domain },
            total,
            d.failed_sessions,
            pct(d.failed_sessions, total),
            types.join(", ")
        )?;
    }
    let rows = tls.failure_rows();
    if !rows.is_empty() {
        writeln!(out, "  failures by type and MX:")?;
        for row in rows {
            writeln!(
                out,
                "    {:>8}  {:<28} {}",
                row.failed_sessions,
                if row.result_type.is_empty() {
                    "-"
                } else {
                    &row.result_type
                },
                if row.receiving_mx_hostname.is_empty() {
                    "-"
                } else {
                    &row.receiving_mx_hostname
                },
            )?;
        }
    }
    Ok(())
}

/// The JSON of `report summarize`, the same shape from files and from a store: the counts,
/// the rejected inputs as `{file, error}`, and each domain's summary with its verdicts.
fn write_domain(out: &mut impl Write, d: &mailward_reports::DomainSummary) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{}  (published p={}; {} messages, {} reporters)",
        d.domain,
        d.published_p
            .as_ref()
            .map_or_else(|| "?".to_owned(), ToString::to_string),
        d.volume,
        d.reporters.len()
    )?;
    writeln!(
        out,
        "  DMARC pass {}   DKIM aligned pass {}   SPF aligned pass {}",
        pct(d.dmarc_pass, d.volume),
        pct(d.dkim_aligned_pass, d.volume),
        pct(d.spf_aligned_pass, d.volume)
    )?;
    let reporters: Vec<String> = d
        .reporters
        .iter()
        .map(|(r, n)| format!("{r} ({n})"))
        .collect();
    writeln!(out, "  reporters: {}", reporters.join(", "))?;
    writeln!(out, "  sources:")?;
    writeln!(
        out,
        "    {:<39} {:<30} {:>9} {:>8} {:>8} {:>9}  reporters",
        "ip", "reverse name", "messages", "dkim ok", "spf ok", "dmarc fail"
    )?;
    let mut sources: Vec<_> = d.sources.iter().collect();
    sources.sort_by(|a, b| b.1.volume.cmp(&a.1.volume).then(a.0.cmp(b.0)));
    for (ip, s) in sources {
        let reporters: Vec<&str> = s.reporters.iter().map(String::as_str).collect();
        writeln!(
            out,
            "    {:<39} {:<30} {:>9} {:>8} {:>8} {:>9}  {}",
            ip.to_string(),
            s.reverse_name.as_deref().unwrap_or("-"),
            s.volume,
            pct(s.dkim_aligned_pass, s.volume),
            pct(s.spf_aligned_pass, s.volume),
            s.dmarc_fail,
            reporters.join(", ")
        )?;
    }
    writeln!(out, "  what would happen:")?;
    for v in d.verdicts() {
        let action = match v.policy {
            mailward_reports::ReportedPolicy::Quarantine => "quarantined",
            _ => "rejected",
        };
        writeln!(
            out,
            "    p={:<10} {} of {} messages ({}) would be {action}",
            v.policy.to_string(),
            v.affected,
            d.volume,
            pct(v.affected, d.volume),
        )?;
    }
    let [verdict, _] = d.verdicts();
    if verdict.failing_sources.is_empty() {
        writeln!(out, "    no source fails alignment")?;
    } else {
        writeln!(out, "    sources failing alignment:")?;
        for (ip, n, share) in &verdict.failing_sources {
            writeln!(
                out,
                "      {ip}: {n} messages ({:.1}% of its volume)",
                share * 100.0
            )?;
        }
    }
    Ok(())
}

fn generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn BufRead> = if args.outcomes.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(&args.outcomes)
            .with_context(|| format!("cannot open {}", args.outcomes.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let reporter = Reporter {
        org_name: args.org_name.clone(),
        email: args.email.clone(),
        receiver: args.receiver.clone(),
        extra_contact_info: None,
        generator: Some(format!("mailward {}", env!("CARGO_PKG_VERSION"))),
    };
    let mut agg = Aggregator::new(
        reporter,
        DateRange {
            begin: args.begin,
            end: args.end,
        },
    );
    let mut reader = reader.take(u64::MAX);
    let mut line = String::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_line(&mut line)
            .context("cannot read outcomes")?;
        if n == 0 {
            break;
        }
        number += 1;
        if n > MAX_LINE {
            anyhow::bail!("outcomes line {number}: longer than {MAX_LINE} bytes");
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let outcome: MessageOutcome = serde_json::from_str(trimmed)
            .with_context(|| format!("outcomes line {number}: not a valid outcome"))?;
        agg.add(&outcome);
    }
    let reports = agg.finish();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &args.out_dir {
        None => {
            for r in &reports {
                out.write_all(mailward_reports::to_xml(r).as_bytes())?;
            }
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for r in &reports {
                let (file, bytes) = build_output(args, r);
                let path = dir.join(&file);
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                writeln!(out, "{}", path.display())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn build_output(args: &GenerateArgs, r: &AggregateReport) -> (String, Vec<u8>) {
    if let Some(to) = &args.email_to {
        let env = ReportEmail {
            from: args.email.clone(),
            to: to.clone(),
            submitter: args.receiver.clone(),
            date: args.date.clone(),
            unique_id: None,
            gzip: true,
        };
        let name = mailward_reports::file_name(&args.receiver, r, None, true);
        let name = name.trim_end_matches(".xml.gz").to_owned() + ".eml";
        return (name, mailward_reports::to_email(r, &env));
    }
    let name = mailward_reports::file_name(&args.receiver, r, None, args.gzip);
    let xml = mailward_reports::to_xml(r);
    let bytes = if args.gzip {
        mailward_reports::gzip(xml.as_bytes())
    } else {
        xml.into_bytes()
    };
    (name, bytes)
}
