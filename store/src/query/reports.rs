//! Stored reports one by one: a page of the window's reports, one report with everything
//! stored about it, the policy domains and the rejected inputs of a window, and pruning old
//! ones.

use std::collections::BTreeSet;

use mailward_reports::{AggregateReport, Defect, DefectKind};
use serde::Serialize;

use super::window::Window;
use super::{Filter, window_reports};
use crate::Store;
use crate::db::{Conn, Param};
use crate::error::Error;

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

impl Store {
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
                &[Param::int(id)],
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
                &[Param::int(cutoff)],
            )
            .await?;
            conn.execute(
                "DELETE FROM daily WHERE report IN (SELECT id FROM reports WHERE date_end < $1)",
                &[Param::int(cutoff)],
            )
            .await?;
            let removed = conn
                .execute(
                    "DELETE FROM reports WHERE date_end < $1",
                    &[Param::int(cutoff)],
                )
                .await?;
            let removed = removed.saturating_add(crate::tls::prune(&mut conn, cutoff).await?);
            conn.execute(
                "DELETE FROM rejections WHERE last_seen < $1",
                &[Param::int(cutoff)],
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
        conn.commit_or_rollback(result).await
    }
}

pub(super) async fn rejections_in(
    conn: &mut Conn,
    window: &Window,
) -> Result<Vec<Rejection>, Error> {
    let (lo, hi) = window.seconds();
    conn.collect(
        "SELECT source, message_id, kind, reason, first_seen, last_seen FROM rejections
         WHERE first_seen >= $1 AND first_seen < $2 ORDER BY last_seen DESC, id DESC",
        &[Param::int(lo), Param::int(hi)],
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
            &[Param::int(id)],
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
            &[Param::int(id)],
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
