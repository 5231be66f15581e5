//! `mailward spf --ip IP --sender SENDER --helo HELO`: RFC 7208 `check_host()` for one client.
//!
//! Human output: the result word on the first line, then `explanation:`, `mechanism:`,
//! `problem:` and the lookup counts (and the trace with `--trace`, the header fields with
//! `--headers`). `--json`: one object with `result`, `explanation` (null when the domain gave
//! none), `mechanism`, `problem`, `domain`, `identity`, `lookups`, `void_lookups`, `trace`,
//! `received_spf` and `authentication_results`. Exit code 0 for every SPF result, 2 for usage
//! errors.

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::bail;
use mailward_spf::{Query, SpfOutcome, auth_results_entry, evaluate, received_spf_field};
use mailward_types::AuthenticationResults;
use serde_json::json;

use crate::global::GlobalArgs;

/// Which identity `mailward spf` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IdentityArg {
    /// The MAIL FROM reverse-path (`--sender`; `""` is the null reverse-path, checked as
    /// `postmaster@<helo>`).
    Mailfrom,
    /// The HELO/EHLO name (`--sender` is ignored).
    Helo,
}

/// Arguments of `mailward spf`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The SMTP client's IP address (an IPv4-mapped IPv6 address is treated as IPv4).
    #[arg(long, value_name = "IP")]
    ip: IpAddr,
    /// The MAIL FROM reverse-path; `--sender ""` is the null reverse-path.
    #[arg(long, value_name = "SENDER")]
    sender: Option<String>,
    /// The HELO/EHLO name the client gave.
    #[arg(long, value_name = "HELO")]
    helo: String,
    /// Which identity to check.
    #[arg(long, value_enum, default_value = "mailfrom")]
    identity: IdentityArg,
    /// This host's name: `%{r}` in explanations, `receiver=` in Received-SPF.
    #[arg(long, value_name = "NAME")]
    receiver: Option<String>,
    /// Seconds since the epoch for `%{t}` (default: now).
    #[arg(long, value_name = "SECONDS")]
    timestamp: Option<u64>,
    /// Also print every term and DNS query evaluated.
    #[arg(long)]
    trace: bool,
    /// Also print the Received-SPF and Authentication-Results header fields.
    #[arg(long)]
    headers: bool,
}

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let mut query = match args.identity {
        IdentityArg::Helo => Query::helo(args.ip, args.helo.clone()),
        IdentityArg::Mailfrom => match &args.sender {
            Some(sender) => Query::mail_from(args.ip, sender.clone(), args.helo.clone()),
            None => bail!(
                "--sender is required to check the MAIL FROM identity (use --sender \"\" for the null reverse-path, or --identity helo)"
            ),
        },
    };
    if let Some(r) = &args.receiver {
        query = query.with_receiver(r.clone());
    }
    let now = args.timestamp.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    query = query.with_timestamp(now);
    let resolver = global.resolver()?;
    let outcome = evaluate(&resolver, &query).await;
    let receiver = args.receiver.as_deref().unwrap_or("unknown");
    let received = received_spf_field(&outcome, &query, receiver);
    let ar = AuthenticationResults::new(receiver)
        .with_result(auth_results_entry(&outcome, &query))
        .to_header_field();
    if global.json {
        outln!("{}", to_json(&outcome, &query, &received, &ar))?;
    } else {
        print_human(&outcome, &args, &received, &ar)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json(o: &SpfOutcome, q: &Query, received: &str, ar: &str) -> serde_json::Value {
    json!({
        "result": o.result.as_str(),
        "explanation": o.explanation,
        "mechanism": o.mechanism.as_ref().map(ToString::to_string),
        "problem": o.problem,
        "domain": o.domain.as_ref().map(ToString::to_string),
        "identity": q.identity.as_str(),
        "sender": q.effective_sender(),
        "lookups": o.lookups,
        "void_lookups": o.void_lookups,
        "trace": o.trace.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        "received_spf": received,
        "authentication_results": ar,
    })
}

fn print_human(o: &SpfOutcome, args: &Args, received: &str, ar: &str) -> std::io::Result<()> {
    outln!("{}", o.result)?;
    if let Some(e) = &o.explanation {
        outln!("explanation: {e}")?;
    }
    match &o.mechanism {
        Some(m) => outln!("mechanism: {m}")?,
        None => outln!("mechanism: default")?,
    }
    if let Some(p) = &o.problem {
        outln!("problem: {p}")?;
    }
    outln!(
        "lookups: {} of 10, void lookups: {} of 2",
        o.lookups,
        o.void_lookups
    )?;
    if args.trace {
        outln!("trace:")?;
        for e in &o.trace {
            outln!("  {e}")?;
        }
    }
    if args.headers {
        outln!("{received}")?;
        outln!("{ar}")?;
    }
    Ok(())
}
