//! Summarising many SMTP TLS reports: how many sessions to each Policy Domain negotiated TLS
//! as its policy asks, and what went wrong with which MX host.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{PolicyType, TlsReport};

/// Running totals over any number of SMTP TLS reports, in a deterministic order (every map is
/// a `BTreeMap`). Memory grows with the number of distinct policy domains and of distinct
/// (result type, MX host) pairs, not with the number of reports or sessions. Counts saturate
/// at `u64::MAX`.
///
/// Session totals come from each policy's `summary`; failures by type come from
/// `failure-details`, whose counts may overlap (RFC 8460 §4: a session that met several
/// errors may be counted under each), so they need not add up to the failed sessions.
///
/// Reports are counted as given: one delivered twice is counted twice.
///
/// # Examples
///
/// ```
/// use mailward_reports::tls::{SessionCounts, TlsPolicy, TlsPolicyResult, TlsReport, TlsSummary};
///
/// let report = TlsReport {
///     policies: vec![TlsPolicyResult {
///         policy: TlsPolicy { policy_domain: "Example.NET".into(), ..TlsPolicy::default() },
///         summary: SessionCounts {
///             total_successful_session_count: 9,
///             total_failure_session_count: 1,
///         },
///         failure_details: Vec::new(),
///     }],
///     ..TlsReport::default()
/// };
/// let summary = TlsSummary::from_reports([&report, &report]);
/// assert_eq!(summary.successful_sessions, 18);
/// assert_eq!(summary.domains["example.net"].failed_sessions, 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSummary {
    /// Reports added.
    pub reports: u64,
    /// `total-successful-session-count` over every policy of every report.
    pub successful_sessions: u64,
    /// `total-failure-session-count` over every policy of every report.
    pub failed_sessions: u64,
    /// Totals per Policy Domain (trimmed, lower-cased, without a trailing dot; empty when a
    /// policy named none).
    pub domains: BTreeMap<String, TlsDomainSummary>,
    /// `failed-session-count` per `result-type` (its token; empty when a detail had none) and
    /// per `receiving-mx-hostname` (lower-cased; empty when a detail had none).
    pub failures: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The totals of one Policy Domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsDomainSummary {
    /// Policies reported for the domain (one report may carry several).
    pub policies: u64,
    /// `total-successful-session-count`.
    pub successful_sessions: u64,
    /// `total-failure-session-count`.
    pub failed_sessions: u64,
    /// The `policy-type`s reported.
    pub policy_types: BTreeSet<PolicyType>,
}

/// One (result type, MX host) failure count of a [`TlsSummary`], as [`TlsSummary::failure_rows`]
/// lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFailureRow {
    /// The `result-type` token (empty when the details had none).
    pub result_type: String,
    /// The `receiving-mx-hostname`, lower-cased (empty when the details had none).
    pub receiving_mx_hostname: String,
    /// Sum of `failed-session-count`.
    pub failed_sessions: u64,
}

impl TlsSummary {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds `reports` into a new summary.
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a TlsReport>) -> Self {
        let mut summary = Self::new();
        for report in reports {
            summary.add(report);
        }
        summary
    }

    /// Adds one report.
    pub fn add(&mut self, report: &TlsReport) {
        self.reports = self.reports.saturating_add(1);
        for p in &report.policies {
            let ok = p.summary.total_successful_session_count;
            let failed = p.summary.total_failure_session_count;
            self.successful_sessions = self.successful_sessions.saturating_add(ok);
            self.failed_sessions = self.failed_sessions.saturating_add(failed);
            let domain = normalise_domain(&p.policy.policy_domain);
            let d = self.domains.entry(domain).or_default();
            d.policies = d.policies.saturating_add(1);
            d.successful_sessions = d.successful_sessions.saturating_add(ok);
            d.failed_sessions = d.failed_sessions.saturating_add(failed);
            if let Some(t) = &p.policy.policy_type {
                d.policy_types.insert(t.clone());
            }
            for f in &p.failure_details {
                let kind = f.result_type.as_ref().map_or("", |t| t.as_str());
                let mx = f
                    .receiving_mx_hostname
                    .as_deref()
                    .map_or_else(String::new, normalise_domain);
                let by_mx = self.failures.entry(kind.to_owned()).or_default();
                let n = by_mx.entry(mx).or_default();
                *n = n.saturating_add(f.failed_session_count);
            }
        }
    }

    /// The failure counts as rows, most failed sessions first (ties by result type, then MX
    /// host).
    pub fn failure_rows(&self) -> Vec<TlsFailureRow> {
        let mut rows: Vec<TlsFailureRow> = self
            .failures
            .iter()
            .flat_map(|(kind, by_mx)| {
                by_mx.iter().map(|(mx, n)| TlsFailureRow {
                    result_type: kind.clone(),
                    receiving_mx_hostname: mx.clone(),
                    failed_sessions: *n,
                })
            })
            .collect();
        // Stable sort: equal counts keep the maps' (result type, MX) order.
        rows.sort_by_key(|r| std::cmp::Reverse(r.failed_sessions));
        rows
    }
}

/// Trimmed, lower-cased, without a trailing dot.
fn normalise_domain(domain: &str) -> String {
    let d = domain.trim();
    d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised() {
        assert_eq!(normalise_domain(" Mail.Example.NET. "), "mail.example.net");
        assert_eq!(normalise_domain(""), "");
    }
}
