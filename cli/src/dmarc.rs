//! `mailward dmarc DOMAIN`: discover and explain the DMARC policy that applies to mail from a
//! domain (RFC 9989 §4.10 DNS Tree Walk, or `--psl` for RFC 7489 receivers).
//!
//! JSON (`--json`) is one object:
//!
//! | key | value |
//! | --- | --- |
//! | `domain` | the Author Domain asked about (A-label) |
//! | `mode` | `tree_walk` or `public_suffix_list` |
//! | `status` | `found`, `no_record`, `unusable`, `multiple_records`, `temperror` |
//! | `error` | the DNS error (temperror only), else null |
//! | `policy_domain` | where the applied record was found, or null |
//! | `record_location` | `author_domain`, `organizational_domain`, `public_suffix_domain` or null |
//! | `organizational_domain` | the domain's Organizational Domain (Tree Walk, §4.10.2, or PSL) |
//! | `record` | the TXT record as published, `canonical_record` its canonical form |
//! | `policy` | the tag that applies to this domain: `p`, `sp` or `np` (null if none) |
//! | `requested_policy` | that tag's value: `none`, `quarantine`, `reject` |
//! | `effective_policy` | after `t=y` (one level lower), what a failing message gets |
//! | `testing` | `t=y` |
//! | `policies` | `{p, sp, np}` after the §4.10.1 fallbacks (`np → sp → p`) |
//! | `domain_exists` | whether the domain exists (NXDOMAIN → false), when it was needed or evident |
//! | `adkim`, `aspf` | `r` or `s`; `psd`: `y`, `n`, `u` |
//! | `rua`, `ruf` | URIs; `report_destinations`: RFC 9990 §4 verification of each |
//! | `warnings` | removed tags (pct, rf, ri), unknown tags, syntax problems |
//! | `walk` | the Tree Walk queries: `{domain, outcome: {kind, ...}}` |
//!
//! Exit code: 0 for every discovery outcome (a policy found, no record, an unusable record,
//! several records, a DNS error: `status` tells which); 2 for usage errors (an argument that is
//! not a domain name, an unreadable zone file).

use std::process::ExitCode;

use anyhow::Context;
use mailward_dmarc::evaluate::{
    DiscoveryMode, DiscoveryStatus, Options, RecordLocation, discover_policy,
};
use mailward_dmarc::report_dest::{DestinationStatus, ReportKind, verify_destinations};
use mailward_dmarc::walk::QueryOutcome;
use mailward_types::Domain;
use serde_json::{Value, json};

use crate::global::GlobalArgs;

/// Arguments of `mailward dmarc`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Author Domain (or a From address, whose domain is used); U-labels are converted to
    /// A-labels.
    domain: String,
    /// Behave as an RFC 7489 receiver: Organizational Domains from the Public Suffix List.
    #[arg(long)]
    psl: bool,
}

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    // An address is accepted too: its domain is the Author Domain.
    let text = args.domain.trim();
    let text = text
        .rsplit_once('@')
        .map_or(text, |(_, d)| d.trim_end_matches('>'));
    let domain =
        Domain::new(text).with_context(|| format!("{:?} is not a domain name", args.domain))?;
    let resolver = global.resolver()?;
    let mode = if args.psl {
        DiscoveryMode::PublicSuffixList
    } else {
        DiscoveryMode::TreeWalk
    };
    let found = discover_policy(&resolver, &domain, &Options::with_mode(mode)).await;
    let mut destinations = Vec::new();
    if let Some(rec) = &found.record {
        for kind in [ReportKind::Rua, ReportKind::Ruf] {
            destinations
                .extend(verify_destinations(&resolver, &rec.domain, &rec.record, kind, mode).await);
        }
    }
    if global.json {
        let record = found.record.as_ref();
        let parsed = record.map(|r| &r.record);
        let value = json!({
            "domain": domain,
            "mode": mode,
            "status": status_word(&found.status),
            "error": match &found.status {
                DiscoveryStatus::TempError { error } => Value::from(error.clone()),
                _ => Value::Null,
            },
            "policy_domain": record.map(|r| &r.domain),
            "record_location": found.location,
            "organizational_domain": found.organizational_domain,
            "record": record.map(|r| &r.text),
            "canonical_record": parsed.map(ToString::to_string),
            "policy": found.policy,
            "requested_policy": found.requested_policy,
            "effective_policy": found.effective_policy,
            "testing": found.testing,
            "policies": found.policies,
            "domain_exists": found.author_exists,
            "adkim": parsed.map(|p| p.adkim().as_str()),
            "aspf": parsed.map(|p| p.aspf().as_str()),
            "psd": parsed.map(|p| p.psd().as_str()),
            "rua": parsed.map(|p| &p.rua),
            "ruf": parsed.map(|p| &p.ruf),
            "report_destinations": destinations.iter().map(|d| json!({
                "uri": d.uri,
                "host": d.host,
                "status": d.status,
            })).collect::<Vec<_>>(),
            "warnings": record
                .map(|r| r.warnings.iter().map(ToString::to_string).collect::<Vec<_>>())
                .unwrap_or_default(),
            "walk": found.walk,
        });
        outln!("{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        outln!("domain: {domain}")?;
        if let Some(org) = &found.organizational_domain {
            outln!("organizational domain: {org}")?;
        }
        match &found.status {
            DiscoveryStatus::Found => {}
            DiscoveryStatus::NoRecord => outln!("no DMARC policy record: DMARC does not apply")?,
            DiscoveryStatus::Unusable => outln!(
                "the record has no valid p (or an invalid sp/np) and no valid rua: DMARC does not apply"
            )?,
            DiscoveryStatus::MultipleRecords => {
                outln!("several DMARC records at one name: DMARC does not apply")?
            }
            DiscoveryStatus::TempError { error } => outln!("temperror: {error}")?,
            _ => outln!("DMARC does not apply")?,
        }
        if let Some(rec) = &found.record {
            let location = match found.location {
                Some(RecordLocation::AuthorDomain) => "the domain's own record",
                Some(RecordLocation::OrganizationalDomain) => "organizational domain",
                Some(RecordLocation::PublicSuffixDomain) => "public suffix domain, psd=y",
                None => "",
            };
            outln!("record at _dmarc.{} ({location}):", rec.domain)?;
            outln!("  {}", rec.text)?;
            if let (Some(tag), Some(req)) = (found.policy, found.requested_policy) {
                out!("policy: {}={}", tag.as_str(), req)?;
                if found.testing {
                    out!(
                        " with t=y: {} applied",
                        found.effective_policy.unwrap_or(req)
                    )?;
                }
                outln!()?;
            }
            if let Some(exists) = found.author_exists {
                outln!(
                    "domain exists: {}",
                    if exists { "yes" } else { "no (NXDOMAIN)" }
                )?;
            }
            outln!(
                "alignment: adkim={} aspf={}; psd={}",
                rec.record.adkim().as_str(),
                rec.record.aspf().as_str(),
                rec.record.psd().as_str()
            )?;
            for d in &destinations {
                outln!(
                    "report destination {}: {}",
                    d.uri,
                    destination_word(&d.status)
                )?;
            }
            if !rec.warnings.is_empty() {
                outln!("warnings:")?;
                for w in &rec.warnings {
                    outln!("  - {w}")?;
                }
            }
        }
        outln!("queries:")?;
        for q in &found.walk {
            outln!("  _dmarc.{}  {}", q.domain, outcome_word(&q.outcome))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_word(s: &DiscoveryStatus) -> &'static str {
    match s {
        DiscoveryStatus::Found => "found",
        DiscoveryStatus::NoRecord => "no_record",
        DiscoveryStatus::Unusable => "unusable",
        DiscoveryStatus::MultipleRecords => "multiple_records",
        DiscoveryStatus::TempError { .. } => "temperror",
        _ => "other",
    }
}

fn destination_word(s: &DestinationStatus) -> String {
    match s {
        DestinationStatus::Internal => "inside the policy's organizational domain".into(),
        DestinationStatus::Authorized { uris } => {
            let list: Vec<String> = uris.iter().map(ToString::to_string).collect();
            format!("authorized by the destination ({})", list.join(", "))
        }
        DestinationStatus::NotAuthorized => "NOT authorized (reports must not be sent)".into(),
        DestinationStatus::Forbidden => {
            "override points elsewhere (reports must not be sent)".into()
        }
        DestinationStatus::NoHost => "no host to verify".into(),
        DestinationStatus::TempError => "temperror while verifying".into(),
        _ => "unknown".into(),
    }
}

fn outcome_word(o: &QueryOutcome) -> String {
    match o {
        QueryOutcome::Record => "record".into(),
        QueryOutcome::NoDmarcRecord => "no DMARC record".into(),
        QueryOutcome::MultipleRecords { count } => format!("{count} records (discarded)"),
        QueryOutcome::NxDomain => "NXDOMAIN".into(),
        QueryOutcome::NoData => "NODATA".into(),
        QueryOutcome::NameTooLong => "name too long (not queried)".into(),
        QueryOutcome::Error { error } => error.to_uppercase(),
        _ => "?".into(),
    }
}
