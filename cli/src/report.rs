//! `mailward report`: parse, summarise and generate DMARC reports, and keep them in a store.

use std::process::ExitCode;

use crate::global::GlobalArgs;

mod generate;
mod imap;
mod input;
mod json;
mod parse;
mod stored;
mod summarize;
mod text;

pub(crate) use stored::{StoreArgs, service_map};

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
    Parse(parse::ParseArgs),
    /// Summarise aggregate reports per policy domain: sources, alignment pass rates, reporters,
    /// and what would happen at p=quarantine / p=reject.
    Summarize(summarize::SummarizeArgs),
    /// Build RFC 9990 aggregate reports from a JSON-lines file of per-message outcomes.
    Generate(generate::GenerateArgs),
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

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Parse(a) => parse::run(global.json, &a),
        Command::Summarize(a) if a.paths.is_empty() => {
            stored::summarize(global.json, &a.stored).await
        }
        Command::Summarize(a) => {
            if a.stored.window.is_set() {
                anyhow::bail!("--days, --since and --domain select from a store; give no files");
            }
            summarize::run(global.json, &a)
        }
        Command::Generate(a) => generate::run(&a),
        Command::Ingest(a) => stored::ingest(global, &a).await,
        Command::Prune(a) => stored::prune(&a).await,
        Command::Export(a) => stored::export(&a).await,
        Command::Enrich(a) => stored::enrich(global, &a).await,
    }
}
