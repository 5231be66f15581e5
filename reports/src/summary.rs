//! Summarising many aggregate reports for a Domain Owner: who sends as my domain, does it
//! authenticate, and what would happen at `p=quarantine` / `p=reject`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use crate::model::{AggregateReport, Disposition, DmarcResult};

/// Most distinct `(org_name, report_id)` pairs remembered for duplicate detection
/// (RFC 9990 §3.5.4); past it, duplicates are no longer detected but nothing else changes.
pub const MAX_REMEMBERED_REPORT_IDS: usize = 1_000_000;

/// Running totals over any number of reports. Memory grows with the number of distinct policy
/// domains, sources and reporters, not with the number of reports or messages.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Reports counted.
    pub reports: u64,
    /// Reports skipped because the same `(org_name, report_id)` was already counted.
    pub duplicates: u64,
    /// Per policy domain, sorted.
    pub domains: BTreeMap<String, DomainSummary>,
    #[serde(skip)]
    seen: BTreeSet<(String, String)>,
}

/// What the reports say about one policy domain.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DomainSummary {
    /// The policy domain.
    pub domain: String,
    /// The `p` of the most recent report (by `date_range.end`).
    pub published_p: Option<Disposition>,
    #[serde(skip)]
    published_at: u64,
    /// Messages reported.
    pub volume: u64,
    /// Messages whose DKIM result was aligned and passing (`policy_evaluated/dkim = pass`).
    pub dkim_aligned_pass: u64,
    /// Messages whose SPF result was aligned and passing.
    pub spf_aligned_pass: u64,
    /// Messages passing DMARC (either aligned result passing).
    pub dmarc_pass: u64,
    /// Reporting organisations and how many messages each reported.
    pub reporters: BTreeMap<String, u64>,
    /// Sending sources by IP.
    pub sources: BTreeMap<IpAddr, SourceSummary>,
}

/// One sending source (IP address) of a policy domain.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SourceSummary {
    /// Reverse DNS name, when a reporter included one (as a record extension whose name
    /// contains `reverse`, `ptr` or `hostname`).
    pub reverse_name: Option<String>,
    /// Messages from this source.
    pub volume: u64,
    /// Messages with an aligned DKIM pass.
    pub dkim_aligned_pass: u64,
    /// Messages with an aligned SPF pass.
    pub spf_aligned_pass: u64,
    /// Messages failing DMARC (neither aligned result passing).
    pub dmarc_fail: u64,
    /// Reporting organisations that saw this source.
    pub reporters: BTreeSet<String>,
}

/// What enforcing a policy would do to the reported traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The policy considered (`quarantine` or `reject`).
    pub policy: Disposition,
    /// Messages that fail DMARC and so would be quarantined/rejected.
    pub affected: u64,
    /// `affected / volume` (0 when there is no volume).
    pub affected_share: f64,
    /// Sources with failing messages, most failing volume first: `(ip, failing messages,
    /// share of that source's volume that fails)`.
    pub failing_sources: Vec<(IpAddr, u64, f64)>,
}

impl Summary {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one report. Returns `false` (and counts a duplicate) if the same reporter's same
    /// report id was already added.
    pub fn add(&mut self, report: &AggregateReport) -> bool {
        let m = &report.report_metadata;
        let key = (m.org_name.clone(), m.report_id.clone());
        if !m.report_id.is_empty() {
            if self.seen.contains(&key) {
                self.duplicates = self.duplicates.saturating_add(1);
                return false;
            }
            if self.seen.len() < MAX_REMEMBERED_REPORT_IDS {
                self.seen.insert(key);
            }
        }
        self.reports = self.reports.saturating_add(1);
        let domain = report.policy_published.domain.to_ascii_lowercase();
        let d = self.domains.entry(domain.clone()).or_default();
        d.domain = domain;
        if d.published_p.is_none() || m.date_range.end >= d.published_at {
            d.published_p = report.policy_published.p.clone().or(d.published_p.take());
            d.published_at = m.date_range.end;
        }
        let org = if m.org_name.is_empty() {
            "(unnamed reporter)".to_owned()
        } else {
            m.org_name.clone()
        };
        for r in &report.records {
            let n = r.row.count;
            let pe = &r.row.policy_evaluated;
            let dkim = pe.dkim == Some(DmarcResult::Pass);
            let spf = pe.spf == Some(DmarcResult::Pass);
            d.volume = d.volume.saturating_add(n);
            let rep = d.reporters.entry(org.clone()).or_insert(0);
            *rep = rep.saturating_add(n);
            let s = d.sources.entry(r.row.source_ip).or_default();
            s.volume = s.volume.saturating_add(n);
            if !s.reporters.contains(&org) {
                s.reporters.insert(org.clone());
            }
            if s.reverse_name.is_none() {
                s.reverse_name = r
                    .extensions
                    .iter()
                    .find(|e| {
                        let n = e.name.to_ascii_lowercase();
                        n.contains("reverse") || n.contains("ptr") || n.contains("hostname")
                    })
                    .map(|e| e.text.clone());
            }
            if dkim {
                d.dkim_aligned_pass = d.dkim_aligned_pass.saturating_add(n);
                s.dkim_aligned_pass = s.dkim_aligned_pass.saturating_add(n);
            }
            if spf {
                d.spf_aligned_pass = d.spf_aligned_pass.saturating_add(n);
                s.spf_aligned_pass = s.spf_aligned_pass.saturating_add(n);
            }
            if dkim || spf {
                d.dmarc_pass = d.dmarc_pass.saturating_add(n);
            } else {
                s.dmarc_fail = s.dmarc_fail.saturating_add(n);
            }
        }
        true
    }
}

/// `part / whole` as a fraction, 0 for an empty whole.
pub fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        // Precision loss is irrelevant for a displayed share.
        #[allow(clippy::cast_precision_loss)]
        let r = part as f64 / whole as f64;
        r
    }
}

impl DomainSummary {
    /// The verdicts for `p=quarantine` and `p=reject`: under either, every message failing DMARC
    /// is affected (RFC 9989 applies the policy to messages that fail DMARC; local policy
    /// overrides such as mailing-list exemptions are the receiver's choice and are not
    /// assumed).
    pub fn verdicts(&self) -> [Verdict; 2] {
        let affected = self.volume.saturating_sub(self.dmarc_pass);
        let mut failing: Vec<(IpAddr, u64, f64)> = self
            .sources
            .iter()
            .filter(|(_, s)| s.dmarc_fail > 0)
            .map(|(ip, s)| (*ip, s.dmarc_fail, ratio(s.dmarc_fail, s.volume)))
            .collect();
        failing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let v = |policy| Verdict {
            policy,
            affected,
            affected_share: ratio(affected, self.volume),
            failing_sources: failing.clone(),
        };
        [v(Disposition::Quarantine), v(Disposition::Reject)]
    }
}
