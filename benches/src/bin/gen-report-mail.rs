//! `gen-report-mail --messages N --seed S --out PATH [--format maildir|mbox|files]
//! [--domains D] [--days D] [--start-day DAYS]`: writes a deterministic mailbox of DMARC
//! aggregate report e-mails (see `mailward_benches::reportmail`) and prints one summary line
//! (messages, bytes, mean/median/p99/max message size, time) to stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use mailward_benches::reportmail::{MailboxSpec, OutputFormat, write_output};

const USAGE: &str = "usage: gen-report-mail --messages N --seed S --out PATH \
                     [--format maildir|mbox|files] [--domains D] [--days D] [--start-day DAYS]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-report-mail: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut spec = MailboxSpec::default();
    let mut out: Option<PathBuf> = None;
    let mut format = OutputFormat::Maildir;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            return Ok(());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{flag} {v}: {e}"))
        };
        match flag.as_str() {
            "--messages" | "-n" => {
                spec.messages = usize::try_from(number(&value)?).map_err(|e| e.to_string())?;
            }
            "--seed" | "-s" => spec.seed = number(&value)?,
            "--domains" => {
                spec.domains = usize::try_from(number(&value)?).map_err(|e| e.to_string())?;
            }
            "--days" => spec.days = u32::try_from(number(&value)?).map_err(|e| e.to_string())?,
            "--start-day" => spec.start_day = number(&value)?,
            "--out" | "-o" => out = Some(PathBuf::from(value)),
            "--format" | "-f" => {
                format = match value.as_str() {
                    "maildir" => OutputFormat::Maildir,
                    "mbox" => OutputFormat::Mbox,
                    "files" | "eml" => OutputFormat::Files,
                    other => return Err(format!("unknown format {other:?}")),
                };
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let out = out.ok_or("--out is required")?;
    let start = Instant::now();
    let sizes = write_output(&spec, &out, format).map_err(|e| format!("{}: {e}", out.display()))?;
    let secs = start.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        sizes.messages as f64 / secs
    } else {
        0.0
    };
    eprintln!(
        "gen-report-mail: {sizes} (seed {}, {format:?} at {}) in {secs:.2} s, {rate:.0} messages/s",
        spec.seed,
        out.display()
    );
    Ok(())
}
