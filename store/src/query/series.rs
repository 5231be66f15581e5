//! Series and totals of a window from the rollups: messages per day, per policy domain and per
//! reporting organisation.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use mailward_reports::{DomainSummary, ReportedPolicy, SummaryRow};
use serde::Serialize;

use super::window::{Window, format_day};
use super::{Filter, daily_rows, filter_domains, window_reports};
use crate::Store;
use crate::db::{Conn, Param, from_bigint};
use crate::error::Error;

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
            &[Param::int(first), Param::int(last), Param::from(&domain)],
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
                        count: from_bigint(r.req_int(5)?),
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
            d.observe_policy(p.as_ref(), from_bigint(policy.as_of));
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
