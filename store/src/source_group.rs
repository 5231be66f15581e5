//! What a source group is: the data [`Store::source_list`](crate::Store::source_list) fills
//! and [`assess`](crate::readiness::assess) reads.

use std::collections::BTreeSet;
use std::net::IpAddr;

use mailward_reports::SourceSummary;
use serde::Serialize;

use crate::enrich::NameStatus;
use crate::evidence::Evidence;
use crate::services::Service;

/// One service (or one lone address) sending as a policy domain.
#[derive(Debug, Clone, Serialize)]
pub struct SourceGroup {
    /// What the group is: a service's organizational domain, or the address itself.
    pub key: String,
    /// The organizational domain of the verified reverse names, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_domain: Option<String>,
    /// The known service, when the domain is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
    /// Messages.
    pub messages: u64,
    /// Messages with an aligned DKIM pass.
    pub dkim_aligned_pass: u64,
    /// Messages with an aligned SPF pass.
    pub spf_aligned_pass: u64,
    /// Messages failing DMARC.
    pub dmarc_fail: u64,
    /// What its records show beyond the counts (any of its addresses).
    pub evidence: Evidence,
    /// Reporters that saw the group's addresses.
    pub reporters: BTreeSet<String>,
    /// DKIM signing domains and selectors seen (`d=`, `s=`), with their results.
    pub dkim: BTreeSet<AuthSeen>,
    /// SPF domains checked, with their results.
    pub spf: BTreeSet<AuthSeen>,
    /// The addresses, most messages first.
    pub addresses: Vec<SourceAddress>,
}

/// A DKIM signature or SPF check seen in records: domain, selector (DKIM), result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AuthSeen {
    /// `d=` or the SPF domain.
    pub domain: String,
    /// `s=` (DKIM only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// The result as reported.
    pub result: String,
}

/// One sending address.
#[derive(Debug, Clone, Serialize)]
pub struct SourceAddress {
    /// The address.
    pub ip: IpAddr,
    /// Its reverse name (looked up, or given by a reporter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_name: Option<String>,
    /// What the lookup found.
    pub name_status: NameStatus,
    /// Per-address numbers, as in the summary.
    #[serde(flatten)]
    pub summary: SourceSummary,
}

impl SourceGroup {
    /// A group without messages yet.
    pub(crate) fn empty(key: String) -> Self {
        Self {
            key,
            org_domain: None,
            service: None,
            messages: 0,
            dkim_aligned_pass: 0,
            spf_aligned_pass: 0,
            dmarc_fail: 0,
            evidence: Evidence::default(),
            reporters: BTreeSet::new(),
            dkim: BTreeSet::new(),
            spf: BTreeSet::new(),
            addresses: Vec::new(),
        }
    }
}
