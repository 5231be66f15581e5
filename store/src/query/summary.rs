//! The summary of a window as `mailward report summarize --store` prints it: per policy
//! domain the numbers the file mode computes from the same reports, with the SMTP TLS reports
//! and the rejected inputs of the window.

use std::collections::{BTreeMap, HashSet};

use mailward_reports::tls::TlsSummary;
use mailward_reports::{DomainSummary, ReportedPolicy};
use serde::Serialize;

use super::reports::{Rejection, rejections_in};
use super::{Filter, WindowReport, daily_rows, window_reports};
use crate::Store;
use crate::db::{Conn, Param, from_bigint};
use crate::error::Error;

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
                .saturating_add(from_bigint(r.deliveries.saturating_sub(1)));
            let d = out
                .domains
                .entry(r.domain.clone())
                .or_insert_with(|| DomainSummary::new(r.domain.clone()));
            let p = r.p.as_deref().map(ReportedPolicy::from_token);
            d.observe_policy(p.as_ref(), from_bigint(r.end));
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
            &[Param::int(r.id)],
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
