//! The text of `report summarize`, from files or from a store: each policy domain's block and
//! the SMTP TLS part.

use std::io::Write;

use mailward_reports::tls::TlsSummary;

pub(super) fn pct(part: u64, whole: u64) -> String {
    format!("{:.1}%", mailward_reports::ratio(part, whole) * 100.0)
}

/// The SMTP TLS part of `report summarize`: sessions per policy domain, failures by result type
/// and receiving MX.
pub(super) fn write_tls(out: &mut impl Write, tls: &TlsSummary) -> std::io::Result<()> {
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

/// One policy domain's block in the text of `report summarize`.
pub(super) fn write_domain(
    out: &mut impl Write,
    d: &mailward_reports::DomainSummary,
) -> std::io::Result<()> {
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
