//! SMTP TLS reports ([RFC 8460](https://www.rfc-editor.org/rfc/rfc8460)) in the store: kept
//! once per (`organization-name`, `report-id`), with a row per policy and per failure detail
//! that the summary reads.
//!
//! - **Identity.** RFC 8460 §4.4: `report-id` is "a unique identifier for the report", chosen
//!   by the reporting organization; the unique key on (`org_name`, `report_id`) makes
//!   concurrent ingest store a report once, as `reports` does for aggregate reports. A later
//!   copy replaces the stored one when it is more complete: more policies, or as many with
//!   more failure details, or as many of both with fewer defects (defects of the container, a
//!   skipped e-mail part, do not count). Any other copy is a duplicate, and a new input that
//!   delivered it is recorded in `tls_deliveries`.
//! - **One day per report.** RFC 8460 §4.2: "The report SHOULD cover a full day, from
//!   00:00-24:00 UTC". Session counts are not spread over days as aggregate records are: a
//!   report counts whole on [`report_day`], the UTC day of the middle of its period, which is
//!   the day it covers whatever time zone offset or end second (`23:59:59Z` or the next
//!   `00:00:00Z`) the reporter wrote. A window holds the reports whose day is in it.
//! - **The same numbers as the file mode.** [`summary`] fills a
//!   [`TlsSummary`](mailward_reports::tls::TlsSummary) with the domains and MX host names
//!   normalised as [`TlsSummary::add`](mailward_reports::tls::TlsSummary::add) does, so the
//!   store's summary of some reports equals the file mode's of the same reports, each once.

use mailward_reports::tls::{ParsedTlsReport, PolicyType, TlsReport, TlsSummary, to_json};

use crate::db::{ColumnType, Conn, Param, Row, Table, from_bigint, to_bigint};
use crate::error::Error;
use crate::ingest::{
    Completeness, Deliveries, Kept, KeptOnce, Provenance, ReportStatus, TlsReportOutcome,
    content_defects,
};

/// Seconds in a UTC day.
const SECONDS_PER_DAY: i64 = 86_400;

/// The UTC day (days since 1970-01-01) a report with the period `begin..=end` (Unix times)
/// counts on: the day of the middle of the period, or of `begin` when `end` is not after it.
pub(crate) fn report_day(begin: i64, end: i64) -> i64 {
    let middle = if end > begin {
        // The mean of two i64 values lies between them, so it is an i64 again.
        i64::try_from((i128::from(begin) + i128::from(end)).div_euclid(2)).unwrap_or(begin)
    } else {
        begin
    };
    middle.div_euclid(SECONDS_PER_DAY)
}

/// A domain as [`TlsSummary`] keys it: trimmed, lower-cased, without a trailing dot.
fn normalise(domain: &str) -> String {
    let d = domain.trim();
    d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase()
}

/// Stores one TLS report in a transaction of its own (inside the caller's, if one is open).
pub(crate) async fn store_report(
    conn: &mut Conn,
    parsed: &ParsedTlsReport,
    from: &Provenance<'_>,
) -> Result<TlsReportOutcome, Error> {
    conn.begin().await?;
    let result = store_report_tx(conn, parsed, from).await;
    let status = conn.commit_or_rollback(result).await?;
    let r = &parsed.report;
    Ok(TlsReportOutcome {
        organization_name: r.organization_name.clone(),
        report_id: r.report_id.clone(),
        policy_domain: r.policy_domain().map(str::to_owned),
        status,
    })
}

/// The columns of `tls_reports` other than identity and provenance.
struct Columns<'a> {
    report: &'a TlsReport,
    begin: i64,
    end: i64,
    day: i64,
    domains: String,
    policies: i64,
    details: i64,
    successful: i64,
    failed: i64,
    json: String,
    defects: Option<String>,
    defect_count: i64,
}

impl<'a> Columns<'a> {
    fn of(parsed: &'a ParsedTlsReport) -> Self {
        let r = &parsed.report;
        // The reader refuses a report whose dates are not RFC 3339 date-times, so these are
        // `Some` for every report read; a report built otherwise counts on 1970-01-01.
        let begin = r.date_range.start_unix().unwrap_or(0);
        let end = r.date_range.end_unix().unwrap_or(begin);
        let mut domains: Vec<String> = r
            .policies
            .iter()
            .map(|p| normalise(&p.policy.policy_domain))
            .filter(|d| !d.is_empty())
            .collect();
        domains.sort();
        domains.dedup();
        Self {
            report: r,
            begin,
            end,
            day: report_day(begin, end),
            domains: domains.join(" "),
            policies: to_bigint(r.policies.len()),
            details: to_bigint(
                r.policies
                    .iter()
                    .map(|p| p.failure_details.len())
                    .sum::<usize>(),
            ),
            successful: to_bigint(r.successful_sessions()),
            failed: to_bigint(r.failed_sessions()),
            json: to_json(r),
            defects: (!parsed.defects.is_empty())
                .then(|| serde_json::to_string(&parsed.defects).ok())
                .flatten(),
            defect_count: to_bigint(content_defects(&parsed.defects)),
        }
    }

    /// contact_info … defect_count, 12 parameters.
    fn params(&self) -> Vec<Param<'_>> {
        vec![
            Param::from(self.report.contact_info.as_deref()),
            Param::int(self.begin),
            Param::int(self.end),
            Param::int(self.day),
            Param::from(&self.domains),
            Param::int(self.policies),
            Param::int(self.details),
            Param::int(self.successful),
            Param::int(self.failed),
            Param::from(&self.json),
            Param::from(self.defects.as_deref()),
            Param::int(self.defect_count),
        ]
    }
}

/// SMTP TLS reports, kept once per (`organization-name`, `report-id`).
const TLS_REPORTS: KeptOnce = KeptOnce {
    insert: "INSERT INTO tls_reports (org_name, report_id, contact_info, date_begin, date_end, day,
            policy_domains, policy_count, detail_count, successful, failed, report_json,
            defects, defect_count, deliveries, source, container, message_id, content_hash,
            ingested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $16,
            $17, $18, $19)
         ON CONFLICT (org_name, report_id) DO NOTHING RETURNING id",
    identity: 2,
    #[cfg(feature = "sqlite")]
    select_stored: "SELECT id, policy_count, detail_count, defect_count FROM tls_reports
         WHERE org_name = $1 AND report_id = $2",
    #[cfg(feature = "postgres")]
    select_stored_for_update: "SELECT id, policy_count, detail_count, defect_count
         FROM tls_reports WHERE org_name = $1 AND report_id = $2 FOR UPDATE",
    children: &[
        "DELETE FROM tls_policies WHERE report = $1",
        "DELETE FROM tls_failures WHERE report = $1",
    ],
    update: "UPDATE tls_reports SET contact_info = $1, date_begin = $2, date_end = $3, day = $4,
            policy_domains = $5, policy_count = $6, detail_count = $7, successful = $8,
            failed = $9, report_json = $10, defects = $11, defect_count = $12, source = $13,
            container = $14, message_id = $15, content_hash = $16, ingested_at = $17
         WHERE id = $18",
    deliveries: Deliveries {
        insert: "INSERT INTO tls_deliveries (report, content_hash, source, container, message_id,
                ingested_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report, content_hash) DO NOTHING",
        count: "UPDATE tls_reports SET deliveries = deliveries + 1 WHERE id = $1",
    },
};

async fn store_report_tx(
    conn: &mut Conn,
    parsed: &ParsedTlsReport,
    from: &Provenance<'_>,
) -> Result<ReportStatus, Error> {
    let report = &parsed.report;
    let columns = Columns::of(parsed);
    let mut params = vec![
        Param::from(&report.organization_name),
        Param::from(&report.report_id),
    ];
    params.extend(columns.params());
    params.extend(from.params());
    let candidate = Completeness {
        counts: &[columns.policies, columns.details],
        defects: columns.defect_count,
    };
    let status = match TLS_REPORTS
        .insert_or_compare(conn, &params, candidate, from)
        .await?
    {
        Kept::New(pk) => {
            insert_children(conn, pk, &columns).await?;
            ReportStatus::Stored
        }
        Kept::Duplicate => ReportStatus::Duplicate,
        Kept::Replacing(pk) => {
            TLS_REPORTS.update(conn, pk, columns.params(), from).await?;
            insert_children(conn, pk, &columns).await?;
            ReportStatus::Replaced
        }
    };
    Ok(status)
}

const POLICIES: Table = Table {
    name: "tls_policies",
    columns: &[
        ("report", ColumnType::Int),
        ("seq", ColumnType::Int),
        ("domain", ColumnType::Text),
        ("day", ColumnType::Int),
        ("policy_type", ColumnType::Text),
        ("successful", ColumnType::Int),
        ("failed", ColumnType::Int),
    ],
    on_conflict: "",
};

const FAILURES: Table = Table {
    name: "tls_failures",
    columns: &[
        ("report", ColumnType::Int),
        ("seq", ColumnType::Int),
        ("policy", ColumnType::Int),
        ("domain", ColumnType::Text),
        ("day", ColumnType::Int),
        ("result_type", ColumnType::Text),
        ("receiving_mx", ColumnType::Text),
        ("sending_mta_ip", ColumnType::Text),
        ("receiving_ip", ColumnType::Text),
        ("failed", ColumnType::Int),
    ],
    on_conflict: "",
};

/// The text of one failure detail's row.
struct DetailText {
    policy: i64,
    domain: usize,
    mx: String,
    sending: Option<String>,
    receiving: Option<String>,
}

async fn insert_children(conn: &mut Conn, pk: i64, c: &Columns<'_>) -> Result<(), Error> {
    let policies = &c.report.policies;
    let domains: Vec<String> = policies
        .iter()
        .map(|p| normalise(&p.policy.policy_domain))
        .collect();
    let rows: Vec<Vec<Param<'_>>> = policies
        .iter()
        .zip(&domains)
        .enumerate()
        .map(|(seq, (p, domain))| {
            vec![
                Param::int(pk),
                Param::int(to_bigint(seq)),
                Param::from(domain),
                Param::int(c.day),
                Param::from(p.policy.policy_type.as_ref().map(PolicyType::as_str)),
                Param::int(to_bigint(p.summary.total_successful_session_count)),
                Param::int(to_bigint(p.summary.total_failure_session_count)),
            ]
        })
        .collect();
    conn.insert_rows(&POLICIES, &rows).await?;

    let mut texts = Vec::new();
    let mut details = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        for f in &p.failure_details {
            texts.push(DetailText {
                policy: to_bigint(i),
                domain: i,
                mx: f
                    .receiving_mx_hostname
                    .as_deref()
                    .map_or_else(String::new, normalise),
                sending: f.sending_mta_ip.as_ref().map(ToString::to_string),
                receiving: f.receiving_ip.as_ref().map(ToString::to_string),
            });
            details.push(f);
        }
    }
    let rows: Vec<Vec<Param<'_>>> = details
        .iter()
        .zip(&texts)
        .enumerate()
        .map(|(seq, (f, t))| {
            vec![
                Param::int(pk),
                Param::int(to_bigint(seq)),
                Param::int(t.policy),
                Param::from(domains.get(t.domain).map_or("", String::as_str)),
                Param::int(c.day),
                Param::from(f.result_type.as_ref().map_or("", |r| r.as_str())),
                Param::from(&t.mx),
                Param::from(t.sending.as_deref()),
                Param::from(t.receiving.as_deref()),
                Param::int(to_bigint(f.failed_session_count)),
            ]
        })
        .collect();
    conn.insert_rows(&FAILURES, &rows).await?;
    Ok(())
}

// A window of days, all domains ($1, $2) or one ($3): every statement reads one range of a
// covering index (see the schema).
const REPORTS_IN: &str = "SELECT COUNT(*) FROM tls_reports WHERE day >= $1 AND day <= $2";
const REPORTS_IN_DOMAIN: &str = "SELECT COUNT(DISTINCT report) FROM tls_policies
     WHERE domain = $3 AND day >= $1 AND day <= $2";
const POLICIES_IN: &str = "SELECT domain, policy_type, successful, failed FROM tls_policies
     WHERE day >= $1 AND day <= $2";
const POLICIES_IN_DOMAIN: &str = "SELECT domain, policy_type, successful, failed
     FROM tls_policies WHERE domain = $3 AND day >= $1 AND day <= $2";
const FAILURES_IN: &str = "SELECT result_type, receiving_mx, failed FROM tls_failures
     WHERE day >= $1 AND day <= $2";
const FAILURES_IN_DOMAIN: &str = "SELECT result_type, receiving_mx, failed FROM tls_failures
     WHERE domain = $3 AND day >= $1 AND day <= $2";
const HASHES_IN: &str = "SELECT d.content_hash FROM tls_reports r
     JOIN tls_deliveries d ON d.report = r.id WHERE r.day >= $1 AND r.day <= $2";
const HASHES_IN_DOMAIN: &str = "SELECT d.content_hash FROM tls_policies p
     JOIN tls_deliveries d ON d.report = p.report
     WHERE p.domain = $3 AND p.day >= $1 AND p.day <= $2";

/// The statement for all domains or for `domain`, with its parameters.
fn pick<'a>(
    (first, last): (i64, i64),
    domain: Option<&'a str>,
    all: &'static str,
    one: &'static str,
) -> (&'static str, Vec<Param<'a>>) {
    match domain {
        Some(d) => (
            one,
            vec![Param::int(first), Param::int(last), Param::from(d)],
        ),
        None => (all, vec![Param::int(first), Param::int(last)]),
    }
}

/// The TLS reports whose day is in `first..=last`, summed as
/// [`TlsSummary::add`](mailward_reports::tls::TlsSummary::add) sums them; with `domain`
/// (normalised), only its policies and their failures, and only the reports with a policy of
/// it.
pub(crate) async fn summary(
    conn: &mut Conn,
    days: (i64, i64),
    domain: Option<&str>,
) -> Result<TlsSummary, Error> {
    let mut out = TlsSummary::new();
    let (sql, params) = pick(days, domain, REPORTS_IN, REPORTS_IN_DOMAIN);
    out.reports = from_bigint(conn.int_opt(sql, &params).await?.unwrap_or(0));

    let (sql, params) = pick(days, domain, POLICIES_IN, POLICIES_IN_DOMAIN);
    let (mut successful, mut failed_sessions) = (0u64, 0u64);
    let domains = &mut out.domains;
    conn.for_each(sql, &params, &mut |row: &dyn Row| {
        let name = row.text(0)?.unwrap_or_default();
        let (ok, failed) = (from_bigint(row.req_int(2)?), from_bigint(row.req_int(3)?));
        successful = successful.saturating_add(ok);
        failed_sessions = failed_sessions.saturating_add(failed);
        let d = match domains.get_mut(name) {
            Some(d) => d,
            None => domains.entry(name.to_owned()).or_default(),
        };
        d.policies = d.policies.saturating_add(1);
        d.successful_sessions = d.successful_sessions.saturating_add(ok);
        d.failed_sessions = d.failed_sessions.saturating_add(failed);
        if let Some(t) = row.text(1)? {
            d.policy_types.insert(PolicyType::from_token(t));
        }
        Ok(())
    })
    .await?;
    out.successful_sessions = successful;
    out.failed_sessions = failed_sessions;

    let (sql, params) = pick(days, domain, FAILURES_IN, FAILURES_IN_DOMAIN);
    let failures = &mut out.failures;
    conn.for_each(sql, &params, &mut |row: &dyn Row| {
        let kind = row.text(0)?.unwrap_or_default();
        let mx = row.text(1)?.unwrap_or_default();
        let n = from_bigint(row.req_int(2)?);
        let by_mx = match failures.get_mut(kind) {
            Some(m) => m,
            None => failures.entry(kind.to_owned()).or_default(),
        };
        match by_mx.get_mut(mx) {
            Some(v) => *v = v.saturating_add(n),
            None => {
                by_mx.insert(mx.to_owned(), n);
            }
        }
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The content hashes of the inputs that delivered the TLS reports of the window (and of
/// `domain`), each at least once.
pub(crate) async fn delivery_hashes(
    conn: &mut Conn,
    days: (i64, i64),
    domain: Option<&str>,
    mut each: impl FnMut(&str) + Send,
) -> Result<(), Error> {
    let (sql, params) = pick(days, domain, HASHES_IN, HASHES_IN_DOMAIN);
    conn.for_each(sql, &params, &mut |row: &dyn Row| {
        each(row.text(0)?.unwrap_or_default());
        Ok(())
    })
    .await
}

/// Removes the TLS reports whose period ended before `cutoff` (Unix time), with their
/// policies, failures and deliveries (foreign keys); returns how many.
pub(crate) async fn prune(conn: &mut Conn, cutoff: i64) -> Result<u64, Error> {
    conn.execute(
        "DELETE FROM tls_reports WHERE date_end < $1",
        &[Param::int(cutoff)],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_a_report_counts_on() {
        // RFC 8460 Appendix B: 2016-04-01T00:00:00Z to 2016-04-01T23:59:59Z, day 16 892.
        assert_eq!(report_day(1_459_468_800, 1_459_555_199), 16_892);
        // Ending at the next midnight: the same day.
        assert_eq!(report_day(1_459_468_800, 1_459_555_200), 16_892);
        // The same day written at +02:00 begins at 22:00 UTC the day before.
        assert_eq!(report_day(1_459_461_600, 1_459_547_999), 16_892);
        // An end before the begin: the day of the begin; before 1970: negative days.
        assert_eq!(report_day(1_459_468_800, 0), 16_892);
        assert_eq!(report_day(-1, -1), -1);
        assert_eq!(report_day(i64::MIN, i64::MAX), -1);
    }

    #[test]
    fn domains_are_normalised_as_the_summary_does() {
        assert_eq!(normalise(" Mail.Example.NET. "), "mail.example.net");
        assert_eq!(normalise(""), "");
    }
}
