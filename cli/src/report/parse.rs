//! `mailward report parse`: each input's reports, normalised, with the defects found; or one
//! JSON line per input.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use mailward_reports::tls::ParsedTlsReport;
use mailward_reports::{Limits, ParsedReport};

use super::input::read_input;
use super::json;

#[derive(Debug, clap::Args)]
pub(super) struct ParseArgs {
    /// Report files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
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

pub(super) fn run(json: bool, args: &ParseArgs) -> anyhow::Result<ExitCode> {
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
                .map_err(|e| format!("{} [{}]", mailward_types::Causes(&e), e.kind()))
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

/// Where in its input a report was found (`gzip`, …), as ` [gzip]`; nothing for a report
/// read as it is.
fn where_found(source: &str) -> String {
    if source.is_empty() {
        String::new()
    } else {
        format!(" [{source}]")
    }
}

fn describe(name: &str, p: &ParsedReport) -> String {
    let r = &p.report;
    let m = &r.report_metadata;
    let mut s = String::new();
    let source = where_found(&p.source);
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
    let source = where_found(&p.source);
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
