//! `mailward report generate`: RFC 9990 aggregate reports from a JSON-lines file of
//! per-message outcomes.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mailward_reports::{
    AggregateReport, Aggregator, DateRange, MessageOutcome, ReportEmail, Reporter,
};

/// Longest line accepted in an outcomes file.
const MAX_LINE: usize = 1 << 20;

#[derive(Debug, clap::Args)]
pub(super) struct GenerateArgs {
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

pub(super) fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
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
