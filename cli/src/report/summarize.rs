//! `mailward report summarize FILE-or-DIR…`: aggregate and SMTP TLS reports read from files,
//! summarised per policy domain.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mailward_reports::tls::TlsSummary;
use mailward_reports::{Limits, Summary};

use super::input::{collect_files, read_input};
use super::stored::SummarizeStoreArgs;
use super::text::{write_domain, write_tls};

#[derive(Debug, clap::Args)]
pub(super) struct SummarizeArgs {
    /// Report files or directories (searched recursively). Without any, the store is
    /// summarised (--store, $MAILWARD_STORE, or the default store).
    #[arg(value_name = "FILE-or-DIR")]
    pub(super) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(super) stored: SummarizeStoreArgs,
}

pub(super) fn run(json: bool, args: &SummarizeArgs) -> anyhow::Result<ExitCode> {
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
        read_input(path, limits).and_then(|d| {
            mailward_reports::read_with(&d, limits)
                .map_err(|e| mailward_types::Causes(&e).to_string())
        })
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
