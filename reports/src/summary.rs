//! Summarising many aggregate reports for a Domain Owner: who sends as my domain, does it
//! authenticate, and what would happen at `p=quarantine` / `p=reject`.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use serde::Serialize;

#[cfg(doc)]
use crate::model::Record;
use crate::model::{AggregateReport, AlignedResult, ReportedPolicy};

/// Most distinct report identities remembered for duplicate detection (RFC 9990 §3.5.4); past
/// it, duplicates are no longer detected but nothing else changes.
pub const MAX_REMEMBERED_REPORT_IDS: usize = 1_000_000;

/// What makes two aggregate reports the same report: the Reporting Organization (name and
/// contact address), its `report_id`, the policy domain and the reporting period.
///
/// RFC 9990 §3.5.4 makes `report_id` unique per Reporting Organization only, and reporters
/// reuse ids across policy domains and days (some use a counter per domain, some a date), so
/// the id alone would merge distinct reports; the domain and period keep them apart. Text is
/// compared after trimming; the policy domain and the contact address ignore ASCII case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ReportIdentity {
    /// `org_name`, trimmed.
    pub org_name: String,
    /// `email`, trimmed and lower-cased.
    pub email: String,
    /// `report_id`, trimmed.
    pub report_id: String,
    /// `policy_published/domain`, trimmed and lower-cased.
    pub policy_domain: String,
    /// `date_range/begin`.
    pub begin: u64,
    /// `date_range/end`.
    pub end: u64,
}

impl ReportIdentity {
    /// The identity of `report`.
    pub fn of(report: &AggregateReport) -> Self {
        let m = &report.report_metadata;
        Self {
            org_name: m.org_name.trim().to_owned(),
            email: m.email.trim().to_ascii_lowercase(),
            report_id: m.report_id.trim().to_owned(),
            policy_domain: policy_domain(report),
            begin: m.date_range.begin,
            end: m.date_range.end,
        }
    }
}

/// The policy domain of a report as summaries key it: trimmed and lower-cased.
pub fn policy_domain(report: &AggregateReport) -> String {
    report.policy_published.domain.trim().to_ascii_lowercase()
}

/// The name a summary files a reporter under: its `org_name`, or `(unnamed reporter)`.
pub fn reporter_label(org_name: &str) -> String {
    let org = org_name.trim();
    if org.is_empty() {
        "(unnamed reporter)".to_owned()
    } else {
        org.to_owned()
    }
}

/// Running totals over any number of reports. Memory grows with the number of distinct policy
/// domains, sources and reporters, not with the number of reports or messages.
///
/// Duplicates are recognised by [`ReportIdentity`]; the first copy seen is counted. (A store
/// that keeps reports, such as `mailward-store`, also replaces a stored copy by a more complete
/// later one; a running summary cannot take back what it counted.)
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Reports counted.
    pub reports: u64,
    /// Reports skipped because a report with the same [`ReportIdentity`] was already counted.
    pub duplicates: u64,
    /// Per policy domain, sorted.
    pub domains: BTreeMap<String, DomainSummary>,
    #[serde(skip)]
    seen: HashSet<ReportIdentity>,
}

/// What the reports say about one policy domain.
#[derive(Debug, Default, Clone, Serialize)]
pub struct DomainSummary {
    /// The policy domain.
    pub domain: String,
    /// The `p` of the most recent report that has one (greatest `date_range.end`; among equal
    /// ends, the one added last).
    pub published_p: Option<ReportedPolicy>,
    #[serde(skip)]
    published_at: Option<u64>,
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
    /// contains `reverse`, `ptr` or `hostname`; see [`Record::reported_reverse_name`]).
    pub reverse_name: Option<String>,
    /// Messages from this source.
    pub volume: u64,
    /// Messages with an aligned DKIM pass.
    pub dkim_aligned_pass: u64,
    /// Messages with an aligned SPF pass.
    pub spf_aligned_pass: u64,
    /// Messages failing DMARC (neither aligned result passing).
    pub dmarc_fail: u64,
    /// Reporting organisations that saw this source, sorted, each once. (A sorted `Vec`
    /// rather than a set: a summary holds one per source, often hundreds of thousands, and a
    /// one-element set costs a 300-byte node.)
    pub reporters: Vec<String>,
}

/// One summarised row: `count` messages from `source_ip`, as one reporter saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryRow<'a> {
    /// The reporter, as [`reporter_label`] names it.
    pub reporter: &'a str,
    /// The sending source.
    pub source_ip: IpAddr,
    /// Messages.
    pub count: u64,
    /// `policy_evaluated/dkim` was `pass`.
    pub dkim_aligned_pass: bool,
    /// `policy_evaluated/spf` was `pass`.
    pub spf_aligned_pass: bool,
    /// A reverse name the reporter gave for the source.
    pub reverse_name: Option<&'a str>,
}

/// What enforcing a policy would do to the reported traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The policy considered (`quarantine` or `reject`).
    pub policy: ReportedPolicy,
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

    /// Adds one report. Returns `false` (and counts a duplicate) if a report with the same
    /// [`ReportIdentity`] was already added.
    pub fn add(&mut self, report: &AggregateReport) -> bool {
        let identity = ReportIdentity::of(report);
        if !identity.report_id.is_empty() {
            if self.seen.contains(&identity) {
                self.duplicates = self.duplicates.saturating_add(1);
                return false;
            }
            if self.seen.len() < MAX_REMEMBERED_REPORT_IDS {
                self.seen.insert(identity);
            }
        }
        self.reports = self.reports.saturating_add(1);
        let domain = policy_domain(report);
        let d = self
            .domains
            .entry(domain.clone())
            .or_insert_with(|| DomainSummary::new(domain));
        let m = &report.report_metadata;
        d.observe_policy(report.policy_published.p.as_ref(), m.date_range.end);
        let org = reporter_label(&m.org_name);
        for r in &report.records {
            let pe = &r.row.policy_evaluated;
            d.add_row(&SummaryRow {
                reporter: &org,
                source_ip: r.row.source_ip,
                count: r.row.count,
                dkim_aligned_pass: pe.dkim == Some(AlignedResult::Pass),
                spf_aligned_pass: pe.spf == Some(AlignedResult::Pass),
                reverse_name: r.reported_reverse_name(),
            });
        }
        true
    }
}

impl DomainSummary {
    /// An empty summary of `domain`.
    pub fn new(domain: String) -> Self {
        Self {
            domain,
            ..Self::default()
        }
    }

    /// Takes note of a report's published `p` and the end of its period: the `p` kept is the
    /// one of the report with the greatest end (the later call wins a tie). A report without
    /// `p` changes nothing.
    pub fn observe_policy(&mut self, p: Option<&ReportedPolicy>, end: u64) {
        let Some(p) = p else { return };
        if self.published_at.is_none_or(|at| end >= at) {
            self.published_p = Some(p.clone());
            self.published_at = Some(end);
        }
    }

    /// Adds one row of messages.
    pub fn add_row(&mut self, row: &SummaryRow<'_>) {
        let n = row.count;
        self.volume = self.volume.saturating_add(n);
        if let Some(count) = self.reporters.get_mut(row.reporter) {
            *count = count.saturating_add(n);
        } else {
            self.reporters.insert(row.reporter.to_owned(), n);
        }
        let s = self.sources.entry(row.source_ip).or_default();
        s.volume = s.volume.saturating_add(n);
        if let Err(at) = s
            .reporters
            .binary_search_by(|r| r.as_str().cmp(row.reporter))
        {
            s.reporters.insert(at, row.reporter.to_owned());
        }
        if s.reverse_name.is_none() {
            s.reverse_name = row.reverse_name.map(str::to_owned);
        }
        if row.dkim_aligned_pass {
            self.dkim_aligned_pass = self.dkim_aligned_pass.saturating_add(n);
            s.dkim_aligned_pass = s.dkim_aligned_pass.saturating_add(n);
        }
        if row.spf_aligned_pass {
            self.spf_aligned_pass = self.spf_aligned_pass.saturating_add(n);
            s.spf_aligned_pass = s.spf_aligned_pass.saturating_add(n);
        }
        if row.dkim_aligned_pass || row.spf_aligned_pass {
            self.dmarc_pass = self.dmarc_pass.saturating_add(n);
        } else {
            s.dmarc_fail = s.dmarc_fail.saturating_add(n);
        }
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
        [v(ReportedPolicy::Quarantine), v(ReportedPolicy::Reject)]
    }
}
