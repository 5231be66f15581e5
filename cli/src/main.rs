//! `mailward`: SPF, DKIM, DMARC and DMARC reports from the command line.
//!
//! Every DNS-using command resolves offline from `--zone FILE` master files when any is given,
//! otherwise through real DNS (`--dns-server IP:PORT`, or the system configuration).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that returns the write error (a closed pipe among them) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `print!` that returns the write error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod check;
mod dkim;
mod dmarc;
mod dns;
mod global;
mod report;
mod serve;
mod spf;

use global::GlobalArgs;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SPF, DKIM, DMARC and DMARC reports: check messages, test records offline, sign, verify,
/// read reports.
#[derive(Debug, Parser)]
#[command(name = "mailward", version, about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Look up a name like dig: prints the records, or NXDOMAIN / NODATA / TIMEOUT / SERVFAIL.
    Dns(dns::Args),
    /// Evaluate SPF (RFC 7208) for a client IP, HELO name and envelope sender.
    Spf(spf::Args),
    /// DKIM: verify signatures, sign messages, generate keys.
    Dkim(dkim::Args),
    /// Discover and explain the DMARC policy of a domain.
    Dmarc(dmarc::Args),
    /// SPF + DKIM + DMARC on one message; prints Authentication-Results.
    Check(check::Args),
    /// DMARC reports: parse, summarise, generate, ingest into a store.
    Report(report::Args),
    /// Serve a read-only web view of a report store (http://127.0.0.1:8025/ by default).
    Serve(serve::Args),
}

/// A write error of ours that says the reader of our output went away (`mailward … | head`):
/// it has all it asked for, so the command ends quietly. Every write to standard output goes
/// through [`outln!`] / [`out!`] or a writer, so a closed pipe comes back here as an error,
/// never as a panic.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == pipe
            // serde_json wraps the writer's error without exposing it as a source.
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == pipe
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The web view serves requests on every core (store queries block their thread); every
    // other command is one task.
    let mut builder = if matches!(cli.command, Command::Serve(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailward: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Dns(args) => dns::run(&cli.global, args).await,
            Command::Spf(args) => spf::run(&cli.global, args).await,
            Command::Dkim(args) => dkim::run(&cli.global, args).await,
            Command::Dmarc(args) => dmarc::run(&cli.global, args).await,
            Command::Check(args) => check::run(&cli.global, args).await,
            Command::Report(args) => report::run(&cli.global, args).await,
            Command::Serve(args) => serve::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        // The reader of our output went away (`mailward … | head`): it has all it asked for.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailward: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
