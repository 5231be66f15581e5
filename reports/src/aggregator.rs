//! Folding per-message DMARC outcomes into aggregate reports.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::model::{
    ActionDisposition, AggregateReport, AlignedResult, AuthResults, DateRange, DkimAuthResult,
    Identifiers, PolicyEvaluated, PolicyOverrideReason, PolicyPublished, Record, ReportMetadata,
    Row, Schema, SpfAuthResult,
};

/// One message's DMARC outcome, as plain values (what a receiver knows after evaluating DMARC
/// on one message). It deserialises from JSON, one object per line, for
/// `mailward report generate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageOutcome {
    /// The policy published at the DMARC Policy Domain (its `domain` is the Policy Domain).
    pub policy: PolicyPublished,
    /// The connecting IP address.
    pub source_ip: IpAddr,
    /// RFC5322.From domain.
    pub header_from: String,
    /// RFC5321.MailFrom domain.
    #[serde(default)]
    pub envelope_from: Option<String>,
    /// Envelope recipient domain.
    #[serde(default)]
    pub envelope_to: Option<String>,
    /// The action applied.
    pub disposition: ActionDisposition,
    /// DMARC-aligned DKIM result.
    pub dkim_aligned: AlignedResult,
    /// DMARC-aligned SPF result.
    pub spf_aligned: AlignedResult,
    /// Policy overrides applied.
    #[serde(default)]
    pub reasons: Vec<PolicyOverrideReason>,
    /// Raw DKIM results, one per signature.
    #[serde(default)]
    pub dkim: Vec<DkimAuthResult>,
    /// The raw SPF result, if SPF was evaluated.
    #[serde(default)]
    pub spf: Option<SpfAuthResult>,
    /// Number of messages with this outcome (default 1).
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

/// Who is reporting: the `report_metadata` fields that do not depend on the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    /// `org_name`.
    pub org_name: String,
    /// `email`.
    pub email: String,
    /// The Mail Receiver's domain, used in report ids (`<begin>.<policy domain>@<receiver>`).
    pub receiver: String,
    /// `extra_contact_info`.
    #[serde(default)]
    pub extra_contact_info: Option<String>,
    /// `generator`.
    #[serde(default)]
    pub generator: Option<String>,
}

/// The rows of one policy domain.
#[derive(Debug, Default)]
struct DomainRows {
    policy: PolicyPublished,
    rows: BTreeMap<RowKey, u64>,
}

/// Everything in a record except the count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    source_ip: IpAddr,
    policy_evaluated: PolicyEvaluated,
    identifiers: Identifiers,
    auth_results: AuthResults,
}

/// Folds [`MessageOutcome`]s into one report per policy domain for one reporting period.
///
/// Memory is proportional to the number of distinct rows (source IP, identifiers, results,
/// disposition), not to the number of messages; output is deterministic (domains and rows in
/// sorted order, whatever the order of [`Aggregator::add`] calls). When the published policy of
/// a domain changes during the period, the last one added is reported (RFC 9990 §3.1: "SHOULD
/// note only the final configuration observed").
///
/// # Examples
///
/// ```
/// use mailward_reports::{Aggregator, DateRange, MessageOutcome, Reporter};
/// let reporter = Reporter {
///     org_name: "Receiver".into(), email: "dmarc@receiver.example".into(),
///     receiver: "receiver.example".into(), extra_contact_info: None, generator: None,
/// };
/// let mut agg = Aggregator::new(reporter, DateRange { begin: 0, end: 86399 });
/// let line = r#"{"policy":{"domain":"example.com","p":"none"},"source_ip":"192.0.2.1",
///   "header_from":"example.com","disposition":"none","dkim_aligned":"pass",
///   "spf_aligned":"fail"}"#;
/// let outcome: MessageOutcome = serde_json::from_str(line).unwrap();
/// agg.add(&outcome);
/// agg.add(&outcome);
/// let reports = agg.finish();
/// assert_eq!(reports[0].records[0].row.count, 2);
/// ```
#[derive(Debug)]
pub struct Aggregator {
    reporter: Reporter,
    period: DateRange,
    domains: BTreeMap<String, DomainRows>,
}

impl Aggregator {
    /// An empty aggregator for one reporting period.
    pub fn new(reporter: Reporter, period: DateRange) -> Self {
        Self {
            reporter,
            period,
            domains: BTreeMap::new(),
        }
    }

    /// Adds one outcome (`count` messages).
    pub fn add(&mut self, outcome: &MessageOutcome) {
        let domain = outcome.policy.domain.to_ascii_lowercase();
        let entry = self.domains.entry(domain.clone()).or_default();
        entry.policy = PolicyPublished {
            domain,
            ..outcome.policy.clone()
        };
        let mut reasons = outcome.reasons.clone();
        reasons.sort();
        let mut dkim = outcome.dkim.clone();
        dkim.sort();
        let key = RowKey {
            source_ip: outcome.source_ip,
            policy_evaluated: PolicyEvaluated {
                disposition: Some(outcome.disposition.clone()),
                dkim: Some(outcome.dkim_aligned.clone()),
                spf: Some(outcome.spf_aligned.clone()),
                reasons,
            },
            identifiers: Identifiers {
                header_from: outcome.header_from.to_ascii_lowercase(),
                envelope_from: outcome
                    .envelope_from
                    .as_ref()
                    .map(|s| s.to_ascii_lowercase()),
                envelope_to: outcome.envelope_to.as_ref().map(|s| s.to_ascii_lowercase()),
            },
            auth_results: AuthResults {
                dkim,
                spf: outcome.spf.iter().cloned().collect(),
            },
        };
        let count = entry.rows.entry(key).or_insert(0);
        *count = count.saturating_add(outcome.count);
    }

    /// Number of distinct rows held.
    pub fn row_count(&self) -> usize {
        self.domains.values().map(|d| d.rows.len()).sum()
    }

    /// One RFC 9990 report per policy domain, sorted by domain. The report id is
    /// `<begin>.<policy domain>@<receiver>` (RFC 9990 §3.5.1 suggests receiving domain, sending
    /// domain and a timestamp).
    pub fn finish(self) -> Vec<AggregateReport> {
        let Self {
            reporter,
            period,
            domains,
        } = self;
        domains
            .into_values()
            .map(|d| AggregateReport {
                schema: Schema::Rfc9990,
                version: Some("1.0".into()),
                report_metadata: ReportMetadata {
                    org_name: reporter.org_name.clone(),
                    email: reporter.email.clone(),
                    extra_contact_info: reporter.extra_contact_info.clone(),
                    report_id: format!(
                        "{}.{}@{}",
                        period.begin, d.policy.domain, reporter.receiver
                    ),
                    date_range: period,
                    errors: Vec::new(),
                    generator: reporter.generator.clone(),
                },
                policy_published: d.policy,
                extension: None,
                records: d
                    .rows
                    .into_iter()
                    .map(|(k, count)| Record {
                        row: Row {
                            source_ip: k.source_ip,
                            count,
                            policy_evaluated: k.policy_evaluated,
                        },
                        identifiers: k.identifiers,
                        auth_results: k.auth_results,
                        extensions: Vec::new(),
                    })
                    .collect(),
            })
            .collect()
    }
}
