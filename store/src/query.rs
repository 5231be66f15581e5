//! The questions the CLI and the web view ask, answered the same way for both: every number a
//! page shows comes from one of these functions.
//!
//! A [`Window`] is a range of whole UTC days. Message counts come from the daily rollup (each
//! record's messages spread over the days of its report's period, see [`crate::spread`]), so
//! they are exact for any window; a report counts in a window when its period has a day
//! inside it. An SMTP TLS report counts whole on one day, the day its period covers (see
//! [`Store::tls_summary`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

use mailward_reports::tls::TlsSummary;
use mailward_reports::{
    AggregateReport, Defect, DefectKind, DomainSummary, ReportedPolicy, SummaryRow,
};
use serde::Serialize;

use crate::db::{Conn, P, Row};
use crate::error::Error;
#[cfg(test)]
use crate::spread;
use crate::spread::SECONDS_PER_DAY;
use crate::{Store, now};

/// Longest window, in days (ten years).
pub const MAX_WINDOW_DAYS: i64 = 3650;

/// A range of whole UTC days (days since 1970-01-01), both ends included; open ends mean
/// "since the beginning" and "until now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Window {
    /// First day, if bounded.
    pub first_day: Option<i64>,
    /// Last day, if bounded.
    pub last_day: Option<i64>,
}

/// A window that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// `--days` outside 1..=3650.
    #[error("the number of days must be between 1 and {MAX_WINDOW_DAYS}, not {0}")]
    Days(i64),
    /// A date that is not `YYYY-MM-DD`.
    #[error("not a date in YYYY-MM-DD form: {0:?}")]
    Date(String),
}

impl Window {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// The last `days` days up to and including `today`.
    ///
    /// # Errors
    ///
    /// [`WindowError::Days`] outside 1..=[`MAX_WINDOW_DAYS`].
    pub fn last_days(days: i64, today: i64) -> Result<Self, WindowError> {
        if !(1..=MAX_WINDOW_DAYS).contains(&days) {
            return Err(WindowError::Days(days));
        }
        Ok(Self {
            first_day: Some(today - days + 1),
            last_day: Some(today),
        })
    }

    /// From `date` (`YYYY-MM-DD`) up to and including `today`.
    ///
    /// # Errors
    ///
    /// [`WindowError::Date`] for anything but a valid date.
    pub fn since(date: &str, today: i64) -> Result<Self, WindowError> {
        let first = parse_date(date).ok_or_else(|| WindowError::Date(date.to_owned()))?;
        Ok(Self {
            first_day: Some(first),
            last_day: Some(today.max(first)),
        })
    }

    /// The same number of days just before this window (for trends); `None` for an open
    /// window.
    pub fn previous(&self) -> Option<Self> {
        let (first, last) = (self.first_day?, self.last_day?);
        let len = last - first + 1;
        Some(Self {
            first_day: Some(first - len),
            last_day: Some(first - 1),
        })
    }

    pub(crate) fn days(&self) -> (i64, i64) {
        (
            self.first_day.unwrap_or(i64::MIN / 2),
            self.last_day.unwrap_or(i64::MAX / 2),
        )
    }

    /// The window in seconds: `[lo, hi)`.
    fn seconds(&self) -> (i64, i64) {
        let day = i64::try_from(SECONDS_PER_DAY).unwrap_or(86_400);
        let (first, last) = self.days();
        (
            first.saturating_mul(day).max(0),
            last.saturating_add(1).saturating_mul(day).max(0),
        )
    }
}

/// Today as a day number (UTC).
pub fn today() -> i64 {
    now() / 86_400
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian calendar).
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date: the era-based algorithm (400-year cycles of
/// 146 097 days; March-based years so the leap day ends the year).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The summary `mailward report summarize --store` prints: the same numbers, per policy
/// domain, that the file mode computes from the same reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreSummary {
    /// Distinct inputs that carried the reports counted (aggregate and TLS), plus the
    /// rejected inputs listed.
    pub files: u64,
    /// Aggregate reports whose period has a day in the window.
    pub reports: u64,
    /// Further deliveries of those reports (each distinct input beyond the first).
    pub duplicates: u64,
    /// Rejected inputs (first seen in the window; all of them without a domain filter).
    pub rejected: Vec<Rejection>,
    /// Per policy domain.
    pub domains: BTreeMap<String, DomainSummary>,
    /// The SMTP TLS reports of the window ([`Store::tls_summary`]), each counted once.
    pub tls: TlsSummary,
}

impl StoreSummary {
    /// The summary as `report summarize --store --json` prints it: [`summary_json`] of it,
    /// with a `tls` member ([`TlsSummary`]) when the window has TLS reports, as the file mode
    /// has.
    pub fn to_json(&self) -> serde_json::Value {
        let mut doc = summary_json(
            self.files,
            self.reports,
            self.duplicates,
            self.rejected
                .iter()
                .map(|r| (r.source.as_str(), r.reason.as_str())),
            self.domains.values(),
        );
        if self.tls.reports > 0
            && let serde_json::Value::Object(map) = &mut doc
        {
            map.insert(
                "tls".into(),
                serde_json::to_value(&self.tls).unwrap_or(serde_json::Value::Null),
            );
        }
        doc
    }
}

/// A stored rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Where the input came from.
    pub source: String,
    /// The `Message-ID` of an e-mail input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The error class.
    pub class: String,
    /// Why it was rejected.
    pub reason: String,
    /// First seen (Unix time).
    pub first_seen: i64,
    /// Last seen (Unix time).
    pub last_seen: i64,
}

/// Filters of a query: the window and, optionally, one policy domain.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The days.
    pub window: Window,
    /// One policy domain (lower-case), or all.
    pub domain: Option<String>,
}

impl Filter {
    /// All domains in `window`.
    pub fn new(window: Window) -> Self {
        Self {
            window,
            domain: None,
        }
    }

    /// One domain in `window`.
    #[must_use]
    pub fn domain(mut self, domain: &str) -> Self {
        self.domain = Some(domain.trim().to_ascii_lowercase());
        self
    }
}

/// A report row in the window.
#[derive(Debug, Clone)]
struct WindowReport {
    id: i64,
    domain: String,
    p: Option<String>,
    end: i64,
    deliveries: i64,
    org_name: String,
    email: String,
}

// A report is in a window when its days (`first_day` ..= `last_day`, a contiguous range, see
// `spread::days_of`) meet the window's.
const REPORTS_IN_WINDOW: &str = "SELECT id, policy_domain, p, date_end, deliveries, org_name, email
     FROM reports WHERE last_day >= $1 AND first_day <= $2
     ORDER BY date_end, id";
const REPORTS_IN_WINDOW_DOMAIN: &str =
    "SELECT id, policy_domain, p, date_end, deliveries, org_name, email
     FROM reports WHERE policy_domain = $3 AND last_day >= $1 AND first_day <= $2
     ORDER BY date_end, id";

async fn window_reports(conn: &mut Conn, filter: &Filter) -> Result<Vec<WindowReport>, Error> {
    let (first, last) = filter.window.days();
    let mut params = vec![P::int(first), P::int(last)];
    let sql = match &filter.domain {
        Some(d) => {
            params.push(P::from(d));
            REPORTS_IN_WINDOW_DOMAIN
        }
        None => REPORTS_IN_WINDOW,
    };
    conn.collect(sql, &params, |row| {
        Ok(WindowReport {
            id: row.req_int(0)?,
            domain: row.req_text(1)?,
            p: row.opt_text(2)?,
            end: row.req_int(3)?,
            deliveries: row.req_int(4)?,
            org_name: row.req_text(5)?,
            email: row.req_text(6)?,
        })
    })
    .await
}

const DAILY_ROWS_DOMAIN: &str = "SELECT domain, org, source_ip, dkim_pass, spf_pass, reverse_name,
        count, day, disposition
     FROM daily WHERE domain = $3 AND day >= $1 AND day <= $2";

/// A visitor of daily rollup rows: `(domain, row, day, disposition)`.
type DailyVisitor<'f> = dyn FnMut(&str, &SummaryRow<'_>, i64, Option<&str>) + Send + 'f;

/// Calls `f` with each daily rollup row in the filter.
async fn daily_rows(
    conn: &mut Conn,
    filter: &Filter,
    f: &mut DailyVisitor<'_>,
) -> Result<(), Error> {
    let (first, last) = filter.window.days();
    // The rollup is kept in (domain, day) order: one range per domain.
    let domains = filter_domains(conn, filter).await?;
    for domain in &domains {
        let params = [P::int(first), P::int(last), P::from(domain)];
        daily_range(conn, &params, f).await?;
    }
    Ok(())
}

/// The filter's domain, or every policy domain in the store.
pub(crate) async fn filter_domains(conn: &mut Conn, filter: &Filter) -> Result<Vec<String>, Error> {
    match &filter.domain {
        Some(d) => Ok(vec![d.clone()]),
        None => {
            // One index seek per domain (a loose index scan), not a pass over every report.
            conn.collect(
                "WITH RECURSIVE d (name) AS (
                   SELECT MIN(policy_domain) FROM reports
                   UNION ALL
                   SELECT (SELECT MIN(policy_domain) FROM reports WHERE policy_domain > d.name)
                   FROM d WHERE d.name IS NOT NULL)
                 SELECT name FROM d WHERE name IS NOT NULL",
                &[],
                |r| r.req_text(0),
            )
            .await
        }
    }
}

async fn daily_range(
    conn: &mut Conn,
    params: &[P<'_>],
    f: &mut DailyVisitor<'_>,
) -> Result<(), Error> {
    conn.for_each(DAILY_ROWS_DOMAIN, params, &mut |row: &dyn Row| {
        let ip: IpAddr = row
            .text(2)?
            .unwrap_or_default()
            .parse()
            .map_err(|_| Error::Corrupt("a stored source IP does not parse"))?;
        let summary_row = SummaryRow {
            reporter: row.text(1)?.unwrap_or_default(),
            source_ip: ip,
            count: count(row.req_int(6)?),
            dkim_aligned_pass: row.req_int(3)? != 0,
            spf_aligned_pass: row.req_int(4)? != 0,
            reverse_name: row.text(5)?,
        };
        f(
            row.text(0)?.unwrap_or_default(),
            &summary_row,
            row.req_int(7)?,
            row.text(8)?,
        );
        Ok(())
    })
    .await
}

/// A row of the `domain_days` rollup.
struct DomainDayRow<'a> {
    org: &'a str,
    disposition: Option<&'a str>,
    dkim_aligned_pass: bool,
    spf_aligned_pass: bool,
    count: u64,
}

const DOMAIN_DAY_ROWS: &str = "SELECT day, org, disposition, dkim_pass, spf_pass, count
     FROM domain_days WHERE domain = $3 AND day >= $1 AND day <= $2";

/// Calls `f` with each `domain_days` row in the filter: `(domain, day, row)`.
async fn domain_day_rows(
    conn: &mut Conn,
    filter: &Filter,
    f: &mut (dyn FnMut(&str, i64, &DomainDayRow<'_>) + Send),
) -> Result<(), Error> {
    let (first, last) = filter.window.days();
    for domain in filter_domains(conn, filter).await? {
        conn.for_each(
            DOMAIN_DAY_ROWS,
            &[P::int(first), P::int(last), P::from(&domain)],
            &mut |r| {
                let disposition = r.text(2)?.filter(|d| !d.is_empty());
                f(
                    &domain,
                    r.req_int(0)?,
                    &DomainDayRow {
                        org: r.text(1)?.unwrap_or_default(),
                        disposition,
                        dkim_aligned_pass: r.req_int(3)? != 0,
                        spf_aligned_pass: r.req_int(4)? != 0,
                        count: count(r.req_int(5)?),
                    },
                );
                Ok(())
            },
        )
        .await?;
    }
    Ok(())
}

/// Every day of a bounded window, as zeros; nothing for an open one.
pub(crate) fn empty_days(window: &Window) -> BTreeMap<i64, DayPoint> {
    let mut days = BTreeMap::new();
    if let (Some(first), Some(last)) = (window.first_day, window.last_day) {
        for day in first..=last {
            days.insert(day, DayPoint::new(day));
        }
    }
    days
}

impl Store {
    /// The per-domain summary of `report summarize --store`, with the SMTP TLS reports of the
    /// window.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn summary(&self, filter: &Filter) -> Result<StoreSummary, Error> {
        let mut conn = self.conn().await?;
        let reports = window_reports(&mut conn, filter).await?;
        let mut out = StoreSummary {
            reports: reports.len() as u64,
            ..StoreSummary::default()
        };
        for r in &reports {
            out.duplicates = out
                .duplicates
                .saturating_add(count(r.deliveries.saturating_sub(1)));
            let d = out
                .domains
                .entry(r.domain.clone())
                .or_insert_with(|| DomainSummary::new(r.domain.clone()));
            let p = r.p.as_deref().map(ReportedPolicy::from_token);
            d.observe_policy(p.as_ref(), to_u64(r.end));
        }
        let domains = &mut out.domains;
        daily_rows(&mut conn, filter, &mut |domain, row, _, _| {
            if let Some(d) = domains.get_mut(domain) {
                d.add_row(row);
            } else {
                let mut d = DomainSummary::new(domain.to_owned());
                d.add_row(row);
                domains.insert(domain.to_owned(), d);
            }
        })
        .await?;
        let days = filter.window.days();
        let domain = filter.domain.as_deref();
        out.tls = crate::tls::summary(&mut conn, days, domain).await?;
        let mut hashes = distinct_inputs(&mut conn, &reports).await?;
        crate::tls::delivery_hashes(&mut conn, days, domain, |h| {
            hashes.insert(hash_key(h));
        })
        .await?;
        out.files = hashes.len() as u64;
        if filter.domain.is_none() {
            out.rejected = rejections_in(&mut conn, &filter.window).await?;
            out.files += out.rejected.len() as u64;
        }
        Ok(out)
    }

    /// The SMTP TLS reports (RFC 8460) of the window, each counted once however often it was
    /// delivered: sessions per policy domain and failures by result type and receiving MX,
    /// the numbers [`TlsSummary::add`] gives over the same reports. A TLS report counts whole
    /// on the UTC day of the middle of its period (RFC 8460 §4.2: a report "SHOULD cover a
    /// full day"), so any window sums whole reports. With a domain filter, only that policy
    /// domain's policies and their failures count, and `reports` is the number of reports
    /// with a policy for it.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn tls_summary(&self, filter: &Filter) -> Result<TlsSummary, Error> {
        let mut conn = self.conn().await?;
        crate::tls::summary(&mut conn, filter.window.days(), filter.domain.as_deref()).await
    }

    /// Messages per day: the series behind the daily chart. With a bounded window every day
    /// is present, days without reports as zeros.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn daily(&self, filter: &Filter) -> Result<Vec<DayPoint>, Error> {
        let mut days = empty_days(&filter.window);
        let mut conn = self.conn().await?;
        domain_day_rows(&mut conn, filter, &mut |_, day, row| {
            days.entry(day)
                .or_insert_with(|| DayPoint::new(day))
                .add_counts(
                    row.count,
                    row.dkim_aligned_pass,
                    row.spf_aligned_pass,
                    row.disposition,
                );
        })
        .await?;
        Ok(days.into_values().collect())
    }

    /// Per policy domain: messages, aligned passes and reporters in the window, and the `p`
    /// of its latest report, from the `domain_days` rollup (a few hundred rows for any
    /// window). The same numbers as [`summary`](Self::summary), without its per-address
    /// table.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn totals(&self, filter: &Filter) -> Result<BTreeMap<String, DomainSummary>, Error> {
        let policies = self.policies(filter).await?;
        let mut out: BTreeMap<String, DomainSummary> = BTreeMap::new();
        let mut conn = self.conn().await?;
        domain_day_rows(&mut conn, filter, &mut |domain, _, row| {
            let d = match out.get_mut(domain) {
                Some(d) => d,
                None => out
                    .entry(domain.to_owned())
                    .or_insert_with(|| DomainSummary::new(domain.to_owned())),
            };
            let n = row.count;
            d.volume = d.volume.saturating_add(n);
            if row.dkim_aligned_pass {
                d.dkim_aligned_pass = d.dkim_aligned_pass.saturating_add(n);
            }
            if row.spf_aligned_pass {
                d.spf_aligned_pass = d.spf_aligned_pass.saturating_add(n);
            }
            if row.dkim_aligned_pass || row.spf_aligned_pass {
                d.dmarc_pass = d.dmarc_pass.saturating_add(n);
            }
            match d.reporters.get_mut(row.org) {
                Some(v) => *v = v.saturating_add(n),
                None => {
                    d.reporters.insert(row.org.to_owned(), n);
                }
            }
        })
        .await?;
        for (domain, policy) in policies {
            let d = out
                .entry(domain.clone())
                .or_insert_with(|| DomainSummary::new(domain));
            let p = policy.p.as_deref().map(ReportedPolicy::from_token);
            d.observe_policy(p.as_ref(), to_u64(policy.as_of));
        }
        Ok(out)
    }

    /// [`daily`](Self::daily) for some source addresses only.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn daily_for(
        &self,
        filter: &Filter,
        addresses: &BTreeSet<IpAddr>,
    ) -> Result<Vec<DayPoint>, Error> {
        self.daily_where(filter, |row| addresses.contains(&row.source_ip))
            .await
    }

    async fn daily_where(
        &self,
        filter: &Filter,
        keep: impl Fn(&SummaryRow<'_>) -> bool + Send + Sync,
    ) -> Result<Vec<DayPoint>, Error> {
        let mut conn = self.conn().await?;
        let mut days = empty_days(&filter.window);
        daily_rows(&mut conn, filter, &mut |_, row, day, disposition| {
            if keep(row) {
                days.entry(day)
                    .or_insert_with(|| DayPoint::new(day))
                    .add(row, disposition);
            }
        })
        .await?;
        Ok(days.into_values().collect())
    }

    /// Reporting organisations in the window: reports and messages each sent.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn reporters(&self, filter: &Filter) -> Result<Vec<ReporterRow>, Error> {
        let mut conn = self.conn().await?;
        let mut rows: BTreeMap<String, ReporterRow> = BTreeMap::new();
        daily_rows(&mut conn, filter, &mut |domain, row, _, _| {
            let r = rows
                .entry(row.reporter.to_owned())
                .or_insert_with(|| ReporterRow::new(row.reporter));
            r.messages = r.messages.saturating_add(row.count);
            if !r.domains.contains(domain) {
                r.domains.insert(domain.to_owned());
            }
        })
        .await?;
        for report in window_reports(&mut conn, filter).await? {
            let org = mailward_reports::reporter_label(&report.org_name);
            let r = rows
                .entry(org.clone())
                .or_insert_with(|| ReporterRow::new(&org));
            r.reports += 1;
            r.emails.insert(report.email);
        }
        let mut out: Vec<ReporterRow> = rows.into_values().collect();
        out.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.org.cmp(&b.org)));
        Ok(out)
    }

    /// The reports in the window, most recent first, with their defects: `limit` of them
    /// from `offset`, and how many there are in all.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn reports(
        &self,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ReportRow>, usize), Error> {
        let mut conn = self.conn().await?;
        let mut all = window_reports(&mut conn, filter).await?;
        let total = all.len();
        all.reverse();
        let page: Vec<i64> = all.iter().skip(offset).take(limit).map(|r| r.id).collect();
        let mut out = Vec::with_capacity(page.len());
        for id in page {
            if let Some(row) = report_row(&mut conn, id).await? {
                out.push(row);
            }
        }
        Ok((out, total))
    }

    /// One stored report: its row, the report as stored (normalised), its defects and every
    /// input that delivered it.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn report(&self, id: i64) -> Result<Option<StoredReport>, Error> {
        let mut conn = self.conn().await?;
        let Some(row) = report_row(&mut conn, id).await? else {
            return Ok(None);
        };
        let report = crate::load::load_report(&mut conn, id).await?;
        let deliveries = conn
            .collect(
                "SELECT source, container, message_id, ingested_at, content_hash
                 FROM deliveries WHERE report = $1 ORDER BY ingested_at, content_hash",
                &[P::int(id)],
                |r| {
                    Ok(Delivery {
                        source: r.req_text(0)?,
                        container: r.req_text(1)?,
                        message_id: r.opt_text(2)?,
                        ingested_at: r.req_int(3)?,
                        content_hash: r.req_text(4)?,
                    })
                },
            )
            .await?;
        Ok(report.map(|report| StoredReport {
            row,
            report,
            deliveries,
        }))
    }

    /// Stored rejections, most recent first.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn rejections(&self, window: &Window) -> Result<Vec<Rejection>, Error> {
        let mut conn = self.conn().await?;
        rejections_in(&mut conn, window).await
    }

    /// Policy domains with reports in the window, sorted.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn domains(&self, window: &Window) -> Result<Vec<String>, Error> {
        let mut conn = self.conn().await?;
        let reports = window_reports(&mut conn, &Filter::new(*window)).await?;
        let set: BTreeSet<String> = reports.into_iter().map(|r| r.domain).collect();
        Ok(set.into_iter().collect())
    }

    /// Removes reports (aggregate and SMTP TLS) whose period ended before `cutoff` (Unix
    /// time), with everything that hangs off them, rejections last seen before it, and stored
    /// inputs no longer needed. Returns the number of reports removed, of both kinds.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn prune(&self, cutoff: i64) -> Result<u64, Error> {
        let mut conn = self.conn().await?;
        conn.begin().await?;
        let result = async {
            // The rollup has no foreign key (see the schema): its rows go first, and their
            // sums with them.
            crate::rollup::subtract(
                &mut conn,
                crate::rollup::Taken::EndedBefore,
                &[P::int(cutoff)],
            )
            .await?;
            conn.execute(
                "DELETE FROM daily WHERE report IN (SELECT id FROM reports WHERE date_end < $1)",
                &[P::int(cutoff)],
            )
            .await?;
            let removed = conn
                .execute("DELETE FROM reports WHERE date_end < $1", &[P::int(cutoff)])
                .await?;
            let removed = removed.saturating_add(crate::tls::prune(&mut conn, cutoff).await?);
            conn.execute(
                "DELETE FROM rejections WHERE last_seen < $1",
                &[P::int(cutoff)],
            )
            .await?;
            conn.execute(
                "DELETE FROM raw_inputs WHERE NOT EXISTS
                   (SELECT 1 FROM deliveries d WHERE d.content_hash = raw_inputs.content_hash)
                 AND NOT EXISTS
                   (SELECT 1 FROM tls_deliveries t WHERE t.content_hash = raw_inputs.content_hash)
                 AND NOT EXISTS
                   (SELECT 1 FROM rejections r WHERE r.content_hash = raw_inputs.content_hash)",
                &[],
            )
            .await?;
            Ok::<u64, Error>(removed)
        }
        .await;
        match result {
            Ok(n) => {
                conn.commit().await?;
                Ok(n)
            }
            Err(e) => {
                let _ = conn.rollback().await;
                Err(e)
            }
        }
    }
}

/// The ids of the reports in the filter, most recent first.
pub(crate) async fn report_ids(store: &Store, filter: &Filter) -> Result<Vec<i64>, Error> {
    let mut conn = store.conn().await?;
    let reports = window_reports(&mut conn, filter).await?;
    Ok(reports.iter().rev().map(|r| r.id).collect())
}

/// Distinct inputs that delivered the reports: an input that carried two reports is one.
async fn distinct_inputs(
    conn: &mut Conn,
    reports: &[WindowReport],
) -> Result<HashSet<[u8; 32]>, Error> {
    let mut hashes: HashSet<[u8; 32]> = HashSet::with_capacity(reports.len());
    for r in reports {
        conn.for_each(
            "SELECT content_hash FROM deliveries WHERE report = $1",
            &[P::int(r.id)],
            &mut |row| {
                hashes.insert(hash_key(row.text(0)?.unwrap_or_default()));
                Ok(())
            },
        )
        .await?;
    }
    Ok(hashes)
}

/// The first 32 bytes of a hex digest, as a fixed-size key (no allocation per input).
fn hash_key(hex: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (k, b) in key.iter_mut().zip(hex.bytes()) {
        *k = b;
    }
    key
}

async fn rejections_in(conn: &mut Conn, window: &Window) -> Result<Vec<Rejection>, Error> {
    let (lo, hi) = window.seconds();
    conn.collect(
        "SELECT source, message_id, kind, reason, first_seen, last_seen FROM rejections
         WHERE first_seen >= $1 AND first_seen < $2 ORDER BY last_seen DESC, id DESC",
        &[P::int(lo), P::int(hi)],
        |r| {
            Ok(Rejection {
                source: r.req_text(0)?,
                message_id: r.opt_text(1)?,
                class: r.req_text(2)?,
                reason: r.req_text(3)?,
                first_seen: r.req_int(4)?,
                last_seen: r.req_int(5)?,
            })
        },
    )
    .await
}

/// The JSON document of a summary, as `mailward report summarize --json` prints it (files or
/// store) and the web view's `/api/summary` serves it: `files`, `reports`, `duplicates`,
/// `rejected` (`[{"file", "error"}]`), and `domains` (each [`DomainSummary`] with its
/// `verdicts`).
pub fn summary_json<'a>(
    files: u64,
    reports: u64,
    duplicates: u64,
    rejected: impl Iterator<Item = (&'a str, &'a str)>,
    domains: impl Iterator<Item = &'a DomainSummary>,
) -> serde_json::Value {
    let domains: Vec<serde_json::Value> = domains
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or(serde_json::Value::Null);
            if let serde_json::Value::Object(map) = &mut v {
                map.insert(
                    "verdicts".into(),
                    serde_json::to_value(d.verdicts()).unwrap_or(serde_json::Value::Null),
                );
            }
            v
        })
        .collect();
    let rejected: Vec<serde_json::Value> = rejected
        .map(|(f, e)| serde_json::json!({"file": f, "error": e}))
        .collect();
    serde_json::json!({
        "files": files,
        "reports": reports,
        "duplicates": duplicates,
        "rejected": rejected,
        "domains": domains,
    })
}

/// One day of the daily series.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayPoint {
    /// The day (days since 1970-01-01).
    pub day: i64,
    /// The day as `YYYY-MM-DD`.
    pub date: String,
    /// Messages.
    pub messages: u64,
    /// Messages passing DMARC (an aligned DKIM or SPF pass).
    pub dmarc_pass: u64,
    /// Messages failing DMARC.
    pub dmarc_fail: u64,
    /// Messages with an aligned DKIM pass.
    pub dkim_aligned: u64,
    /// Messages with an aligned SPF pass.
    pub spf_aligned: u64,
    /// Messages by the disposition the receiver applied (`none`, `pass`, `quarantine`,
    /// `reject`, or as reported).
    pub disposition: BTreeMap<String, u64>,
}

impl DayPoint {
    pub(crate) fn new(day: i64) -> Self {
        Self {
            day,
            date: format_day(day),
            ..Self::default()
        }
    }

    fn add(&mut self, row: &SummaryRow<'_>, disposition: Option<&str>) {
        self.add_counts(
            row.count,
            row.dkim_aligned_pass,
            row.spf_aligned_pass,
            disposition,
        );
    }

    pub(crate) fn add_counts(&mut self, n: u64, dkim: bool, spf: bool, disposition: Option<&str>) {
        self.messages = self.messages.saturating_add(n);
        if dkim || spf {
            self.dmarc_pass = self.dmarc_pass.saturating_add(n);
        } else {
            self.dmarc_fail = self.dmarc_fail.saturating_add(n);
        }
        if dkim {
            self.dkim_aligned = self.dkim_aligned.saturating_add(n);
        }
        if spf {
            self.spf_aligned = self.spf_aligned.saturating_add(n);
        }
        let key = disposition.unwrap_or("unknown");
        match self.disposition.get_mut(key) {
            Some(v) => *v = v.saturating_add(n),
            None => {
                self.disposition.insert(key.to_owned(), n);
            }
        }
    }
}

/// One reporting organisation in a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReporterRow {
    /// `org_name` (or `(unnamed reporter)`).
    pub org: String,
    /// Contact addresses it used.
    pub emails: BTreeSet<String>,
    /// Reports in the window.
    pub reports: u64,
    /// Messages it reported in the window.
    pub messages: u64,
    /// Policy domains it reported on.
    pub domains: BTreeSet<String>,
}

impl ReporterRow {
    fn new(org: &str) -> Self {
        Self {
            org: org.to_owned(),
            ..Self::default()
        }
    }
}

/// A stored report, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// The store's id of the report (for links).
    pub id: i64,
    /// `org_name`.
    pub org_name: String,
    /// `email`.
    pub email: String,
    /// `report_id`.
    pub report_id: String,
    /// The policy domain.
    pub policy_domain: String,
    /// Period start (Unix time).
    pub begin: i64,
    /// Period end (Unix time).
    pub end: i64,
    /// Records.
    pub records: i64,
    /// Messages.
    pub messages: i64,
    /// Distinct inputs that delivered it.
    pub deliveries: i64,
    /// Where the kept copy came from.
    pub source: String,
    /// The `Message-ID` of the kept copy's e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// When the kept copy was ingested (Unix time).
    pub ingested_at: i64,
    /// Defects found while reading the kept copy.
    pub defects: Vec<Defect>,
}

/// One input that delivered a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Where it came from.
    pub source: String,
    /// `xml`, `gzip`, `zip`, `email` or `json`.
    pub container: String,
    /// Its `Message-ID`, for an e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// When it was ingested.
    pub ingested_at: i64,
    /// SHA-256 of the input.
    pub content_hash: String,
}

/// One report with everything stored about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredReport {
    /// The listing row (defects included).
    pub row: ReportRow,
    /// The report, normalised as stored.
    pub report: AggregateReport,
    /// Every distinct input that delivered it.
    pub deliveries: Vec<Delivery>,
}

async fn report_row(conn: &mut Conn, id: i64) -> Result<Option<ReportRow>, Error> {
    let rows = conn
        .collect(
            "SELECT id, org_name, email, report_id, policy_domain, date_begin, date_end,
                record_count, message_count, deliveries, source, message_id, ingested_at
             FROM reports WHERE id = $1",
            &[P::int(id)],
            |r| {
                Ok(ReportRow {
                    id: r.req_int(0)?,
                    org_name: r.req_text(1)?,
                    email: r.req_text(2)?,
                    report_id: r.req_text(3)?,
                    policy_domain: r.req_text(4)?,
                    begin: r.req_int(5)?,
                    end: r.req_int(6)?,
                    records: r.req_int(7)?,
                    messages: r.req_int(8)?,
                    deliveries: r.req_int(9)?,
                    source: r.req_text(10)?,
                    message_id: r.opt_text(11)?,
                    ingested_at: r.req_int(12)?,
                    defects: Vec::new(),
                })
            },
        )
        .await?;
    let Some(mut row) = rows.into_iter().next() else {
        return Ok(None);
    };
    row.defects = conn
        .collect(
            "SELECT kind, path, value FROM defects WHERE report = $1 ORDER BY seq",
            &[P::int(id)],
            |r| {
                let kind = r.req_text(0)?;
                Ok(Defect {
                    kind: defect_kind(&kind),
                    path: r.req_text(1)?,
                    value: r.opt_text(2)?,
                })
            },
        )
        .await?;
    Ok(Some(row))
}

fn defect_kind(token: &str) -> DefectKind {
    serde_json::from_value(serde_json::Value::String(token.to_owned()))
        .unwrap_or(DefectKind::UnknownValue)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        // Day numbers from `date -u -d YYYY-MM-DD +%s` / 86400.
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-12-06"), Some(20_793));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-1-1"), None);
        assert_eq!(format_day(20_793), "2026-12-06");
        assert_eq!(format_day(19_782), "2024-02-29");
        for d in -1000..30_000 {
            assert_eq!(parse_date(&format_day(d)), Some(d));
        }
    }

    #[test]
    fn windows() {
        let w = Window::last_days(7, 100).unwrap();
        assert_eq!((w.first_day, w.last_day), (Some(94), Some(100)));
        let p = w.previous().unwrap();
        assert_eq!((p.first_day, p.last_day), (Some(87), Some(93)));
        assert!(Window::last_days(0, 100).is_err());
        assert!(Window::last_days(3651, 100).is_err());
        assert!(Window::last_days(3650, 100).is_ok());
        // A one-day report of day 94 counts; one of day 93 does not.
        assert!(spread::overlaps(94 * 86_400, 95 * 86_400 - 1, 94, 100));
        assert!(!spread::overlaps(93 * 86_400, 94 * 86_400, 94, 100));
    }
}
