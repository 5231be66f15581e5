//! The questions the CLI and the web view ask, answered the same way for both: every number a
//! page shows comes from one of these functions.
//!
//! A [`Window`] is a range of whole UTC days. Message counts come from the daily rollup (each
//! record's messages spread over the days of its report's period, see [`crate::spread`]), so
//! they are exact for any window; a report counts in a window when its period has a day
//! inside it. An SMTP TLS report counts whole on one day, the day its period covers (see
//! [`Store::tls_summary`]).

mod reports;
mod series;
mod summary;
mod window;

use std::net::IpAddr;

use mailward_reports::SummaryRow;

use crate::Store;
use crate::db::{Conn, Param, Row, from_bigint};
use crate::error::Error;

pub use self::reports::{Delivery, Rejection, ReportRow, StoredReport};
pub(crate) use self::series::empty_days;
pub use self::series::{DayPoint, ReporterRow};
pub use self::summary::{StoreSummary, summary_json};
pub use self::window::{MAX_WINDOW_DAYS, Window, WindowError, format_day, parse_date, today};

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
    let mut params = vec![Param::int(first), Param::int(last)];
    let sql = match &filter.domain {
        Some(d) => {
            params.push(Param::from(d));
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
        let params = [Param::int(first), Param::int(last), Param::from(domain)];
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
    params: &[Param<'_>],
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
            count: from_bigint(row.req_int(6)?),
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

/// The ids of the reports in the filter, most recent first.
pub(crate) async fn report_ids(store: &Store, filter: &Filter) -> Result<Vec<i64>, Error> {
    let mut conn = store.conn().await?;
    let reports = window_reports(&mut conn, filter).await?;
    Ok(reports.iter().rev().map(|r| r.id).collect())
}
