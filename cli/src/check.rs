//! `mailward check MESSAGE --ip IP --helo HELO --mail-from ADDR`: SPF (RFC 7208) on the MAIL
//! FROM identity, every DKIM signature (RFC 6376), and DMARC (RFC 9989) on one message; prints
//! the Authentication-Results and Received-SPF header fields.
//!
//! JSON (`--json`) is one object with four keys:
//!
//! - `spf`: `{result, domain, identity, mechanism, explanation, problem, lookups, void_lookups}`;
//! - `dkim`: one object per DKIM-Signature, top first: `{result, domain, selector, reason,
//!   testing, key_bits}`;
//! - `dmarc`: the DMARC outcome: `result` (`pass`/`fail`/`none`/`temperror`/`permerror`),
//!   `disposition` (`pass`/`none`/`quarantine`/`reject`), `policy` (the tag applied: `p`, `sp`
//!   or `np`), `requested_policy` (its value), `effective_policy` (after `t=y`; the
//!   `policy.dmarc` of the Authentication-Results), `testing`, `author_domain`,
//!   `domain_exists` (the Author Domain exists; same key as `mailward dmarc --json`),
//!   `organizational_domain` (the Author Domain's, RFC 9989 §4.10.2; null only without a
//!   single Author Domain or after a DNS error), `policy_domain`, `record_location`, `record`,
//!   `alignment` (`{spf: {domain, result, aligned, status, mode}, dkim: [{domain, selector,
//!   result, aligned, status, mode}]}`), `spf_aligned`, `dkim_aligned`, `spf` and `dkim` (the
//!   same alignment entries with the identifiers' Organizational Domains), `rua`, `ruf`, `mode`,
//!   `walk`, `queries`, `reason`, `warnings`;
//! - `authentication_results` and `received_spf`: the header fields as printed.
//!
//! `status` of an alignment entry is `strict` or `relaxed` (aligned), `not_aligned`,
//! `not_authenticated` (the mechanism did not pass, or SPF checked HELO) or `temperror` (a
//! DNS error left it unknown: the identifier's Organizational Domain lookup failed, or its
//! SPF/DKIM check ended in `temperror` while its domain would align; RFC 9989 §5.3.6).
//!
//! The exit code is 0 whatever the authentication results are.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use mailward_dkim::{SignatureResult, Verifier, VerifyOptions};
use mailward_dmarc::evaluate::{
    DiscoveryMode, DkimInput, DkimVerdict, DmarcOutcome, Options, SpfInput, SpfScope, SpfVerdict,
};
use mailward_dmarc::from::author_domain;
use mailward_spf::{Query, SpfOutcome, SpfResult};
use mailward_types::Domain;
use mailward_types::auth_results::AuthenticationResults;
use mailward_types::message::Message;
use serde_json::{Value, json};

use crate::global::GlobalArgs;

/// Arguments of `mailward check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The message file (RFC 5322; CRLF or LF line ends); `-` reads standard input.
    message: PathBuf,
    /// The SMTP client's IP address.
    #[arg(long)]
    ip: IpAddr,
    /// The HELO/EHLO name the client gave.
    #[arg(long)]
    helo: String,
    /// The MAIL FROM address (empty for the null reverse-path `<>`).
    #[arg(long = "mail-from", value_name = "ADDR")]
    mail_from: String,
    /// The authserv-id of the Authentication-Results field.
    #[arg(long = "authserv-id", default_value = "mailward")]
    authserv_id: String,
    /// Current time for DKIM `x=`/`t=` checks, in seconds since the Unix epoch (default: now).
    #[arg(long)]
    now: Option<u64>,
    /// DMARC as an RFC 7489 receiver: Public Suffix List Organizational Domains, `pct` honoured.
    #[arg(long)]
    psl: bool,
    /// With --psl: the random number (0-99) that decides `pct` sampling; default: drawn here.
    #[arg(long = "pct-sample", value_name = "0-99", requires = "psl")]
    pct_sample: Option<u8>,
}

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let raw = read_message(&args.message)?;
    let resolver = global.resolver()?;
    let now = match args.now {
        Some(n) => n,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let message = Message::parse(&raw).context("the message cannot be parsed")?;

    // SPF: the MAIL FROM identity (postmaster@HELO for a null reverse-path, RFC 7208 §2.4).
    let mail_from = args
        .mail_from
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let query = Query::mail_from(args.ip, mail_from, args.helo.clone());
    let spf = mailward_spf::evaluate(&resolver, &query).await;

    // DKIM: every signature.
    let verifier = Verifier::new(VerifyOptions::default());
    let dkim = verifier
        .verify(&resolver, &raw, now)
        .await
        .context("the message cannot be parsed for DKIM")?;

    // DMARC.
    let mode = if args.psl {
        DiscoveryMode::PublicSuffixList
    } else {
        DiscoveryMode::TreeWalk
    };
    let spf_input = spf.domain.as_ref().map(|domain| SpfInput {
        result: spf_verdict(spf.result),
        domain: domain.clone(),
        scope: SpfScope::MailFrom,
    });
    let dkim_inputs: Vec<DkimInput> = dkim.iter().filter_map(dkim_input).collect();
    let mut options = Options::with_mode(mode);
    if args.psl {
        // RFC 7489 §6.6.4 sampling; the sub-second clock is random enough for a CLI.
        let sample = args.pct_sample.unwrap_or_else(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            u8::try_from(nanos % 100).unwrap_or(0)
        });
        options = options.with_pct_sample(sample);
    }
    let dmarc = match author_domain(&message) {
        Ok(author) => {
            mailward_dmarc::evaluate(
                &resolver,
                &author,
                spf_input.as_ref(),
                &dkim_inputs,
                &options,
            )
            .await
        }
        Err(e) => DmarcOutcome::no_author_domain(e.to_string()),
    };

    let mut ar = AuthenticationResults::new(args.authserv_id.clone())
        .with_result(mailward_spf::auth_results_entry(&spf, &query));
    for r in &dkim {
        ar = ar.with_result(r.to_method_result());
    }
    ar = ar.with_result(dmarc.to_method_result());
    let ar_field = ar.to_header_field();
    let received_spf = mailward_spf::received_spf_field(&spf, &query, &args.authserv_id);

    if global.json {
        let value = json!({
            "spf": spf_json(&spf, &query),
            "dkim": dkim.iter().map(dkim_json).collect::<Vec<_>>(),
            "dmarc": dmarc_json(&dmarc)?,
            "authentication_results": ar_field,
            "received_spf": received_spf,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        outln!("{ar_field}")?;
        outln!("{received_spf}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_message(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn spf_verdict(r: SpfResult) -> SpfVerdict {
    match r {
        SpfResult::Pass => SpfVerdict::Pass,
        SpfResult::Fail => SpfVerdict::Fail,
        SpfResult::SoftFail => SpfVerdict::SoftFail,
        SpfResult::Neutral => SpfVerdict::Neutral,
        SpfResult::None => SpfVerdict::None,
        SpfResult::TempError => SpfVerdict::TempError,
        SpfResult::PermError => SpfVerdict::PermError,
    }
}

fn dkim_input(r: &SignatureResult) -> Option<DkimInput> {
    let domain = Domain::new(r.domain.as_deref()?).ok()?;
    let result = match r.outcome.result() {
        "pass" => DkimVerdict::Pass,
        "fail" => DkimVerdict::Fail,
        "neutral" => DkimVerdict::Neutral,
        "policy" => DkimVerdict::Policy,
        "temperror" => DkimVerdict::TempError,
        "permerror" => DkimVerdict::PermError,
        _ => DkimVerdict::None,
    };
    Some(DkimInput {
        result,
        domain,
        selector: r.selector.clone().unwrap_or_default(),
    })
}

fn spf_json(spf: &SpfOutcome, query: &Query) -> Value {
    json!({
        "result": spf.result.as_str(),
        "domain": spf.domain,
        "identity": query.identity.as_str(),
        "sender": query.effective_sender(),
        "mechanism": spf.mechanism.as_ref().map(ToString::to_string),
        "explanation": spf.explanation,
        "problem": spf.problem,
        "lookups": spf.lookups,
        "void_lookups": spf.void_lookups,
    })
}

fn dkim_json(r: &SignatureResult) -> Value {
    json!({
        "result": r.outcome.result(),
        "domain": r.domain,
        "selector": r.selector,
        "reason": r.outcome.to_string(),
        "testing": r.testing,
        "key_bits": r.key_bits,
    })
}

fn dmarc_json(out: &DmarcOutcome) -> anyhow::Result<Value> {
    let mut value = serde_json::to_value(out)?;
    let alignment = json!({
        "spf": out.spf.as_ref().map(|a| json!({
            "domain": a.domain,
            "result": a.result,
            "aligned": a.aligned,
            "status": a.status,
            "mode": a.mode,
        })),
        "dkim": out.dkim.iter().map(|a| json!({
            "domain": a.domain,
            "selector": a.selector,
            "result": a.result,
            "aligned": a.aligned,
            "status": a.status,
            "mode": a.mode,
        })).collect::<Vec<_>>(),
    });
    if let Value::Object(map) = &mut value {
        map.insert("alignment".into(), alignment);
    }
    Ok(value)
}
