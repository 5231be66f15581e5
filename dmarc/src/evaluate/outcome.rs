//! What an evaluation decided: the DMARC result, the disposition asked for, and everything that
//! led there ([`DmarcOutcome`]).

use std::fmt;

use mailward_types::Domain;
use mailward_types::auth_results::MethodResult;

use super::alignment::{DkimAlignment, SpfAlignment};
use super::discovery::{PolicyTag, RecordLocation};
use super::inputs::DiscoveryMode;
use super::lookups::LoggedQuery;
use crate::record::{DmarcRecord, RequestedPolicy};
use crate::uri::ReportUri;
use crate::walk::WalkQuery;

/// The DMARC result (RFC 9989 §9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum DmarcResult {
    /// A record exists and an Authenticated Identifier aligns.
    Pass,
    /// A record exists and no Authenticated Identifier aligns.
    Fail,
    /// No (applicable) DMARC Policy Record.
    None,
    /// A DNS query needed for the result did not complete (§5.3.6).
    TempError,
    /// The message cannot be evaluated: no single Author Domain (§5.3.1).
    PermError,
}

impl DmarcResult {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::None => "none",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

impl fmt::Display for DmarcResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the receiver is asked to do with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Disposition {
    /// DMARC passed.
    Pass,
    /// No policy to apply (`p=none`, no record, or an error).
    None,
    /// Quarantine.
    Quarantine,
    /// Reject.
    Reject,
}

impl Disposition {
    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }
}

impl From<RequestedPolicy> for Disposition {
    fn from(p: RequestedPolicy) -> Self {
        match p {
            RequestedPolicy::None => Self::None,
            RequestedPolicy::Quarantine => Self::Quarantine,
            RequestedPolicy::Reject => Self::Reject,
        }
    }
}

/// Everything DMARC decided about one message.
///
/// With the `serde` feature it serializes to an object whose keys are the field names, except
/// `author_exists`, written `domain_exists` (the key `mailward dmarc --json` uses too), and
/// `parsed_record`, which is skipped (`record` has the text). Enums are lower-case words
/// (`snake_case` for multi-word ones such as `not_aligned` or `author_domain`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DmarcOutcome {
    /// pass / fail / none / temperror / permerror.
    pub result: DmarcResult,
    /// pass / none / quarantine / reject.
    pub disposition: Disposition,
    /// The tag applied (`p`, `sp`, `np`), when a record applies.
    pub policy: Option<PolicyTag>,
    /// The value of that tag.
    pub requested_policy: Option<RequestedPolicy>,
    /// The policy after `t=y` (or PSL-mode `pct`) lowering: `policy.dmarc` of RFC 9989 §9.1.
    pub effective_policy: Option<RequestedPolicy>,
    /// `t=y` was set and honoured.
    pub testing: bool,
    /// The Author Domain, when exactly one was found.
    pub author_domain: Option<Domain>,
    /// Whether the Author Domain exists, when known. Serialized as `domain_exists`, the key
    /// `mailward dmarc --json` uses for the same fact.
    #[cfg_attr(feature = "serde", serde(rename = "domain_exists"))]
    pub author_exists: Option<bool>,
    /// The Author Domain's Organizational Domain (§4.10.2): filled whenever policy discovery
    /// did not fail, `None` only when a DNS error prevented finding it. When the Author Domain
    /// has its own record and every Authenticated Identifier is that same domain, it is the
    /// Author Domain ("this common domain is treated as the Organizational Domain").
    pub organizational_domain: Option<Domain>,
    /// Where the applied record was found.
    pub policy_domain: Option<Domain>,
    /// Which location that is.
    pub record_location: Option<RecordLocation>,
    /// The record as published.
    pub record: Option<String>,
    /// The record parsed (not serialized: `record` has the text).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub parsed_record: Option<DmarcRecord>,
    /// SPF alignment, when an SPF result was given.
    pub spf: Option<SpfAlignment>,
    /// DKIM alignment, one per signature given (at most [`MAX_DKIM_RESULTS`](super::MAX_DKIM_RESULTS)).
    pub dkim: Vec<DkimAlignment>,
    /// Whether SPF produced an aligned identifier.
    pub spf_aligned: bool,
    /// Whether any DKIM signature produced an aligned identifier.
    pub dkim_aligned: bool,
    /// Aggregate report URIs of the applied record.
    pub rua: Vec<ReportUri>,
    /// Failure report URIs of the applied record.
    pub ruf: Vec<ReportUri>,
    /// How Organizational Domains were found.
    pub mode: DiscoveryMode,
    /// The Tree Walk of policy discovery.
    pub walk: Vec<WalkQuery>,
    /// Every DNS query actually made, in order.
    pub queries: Vec<LoggedQuery>,
    /// Human-readable explanation.
    pub reason: String,
    /// Record problems and other notes.
    pub warnings: Vec<String>,
}

impl DmarcOutcome {
    /// An outcome for a message without exactly one Author Domain (RFC 9989 §5.3.1: "If zero
    /// or more than one domain is extracted from the RFC5322.From header field, then DMARC
    /// validation is not possible and the process terminates").
    pub fn no_author_domain(reason: impl Into<String>) -> Self {
        Self::empty(None, DmarcResult::PermError, reason.into())
    }

    /// An outcome with `result` and `reason` and nothing else decided yet.
    pub(super) fn empty(author: Option<Domain>, result: DmarcResult, reason: String) -> Self {
        Self {
            result,
            disposition: Disposition::None,
            policy: None,
            requested_policy: None,
            effective_policy: None,
            testing: false,
            author_domain: author,
            author_exists: None,
            organizational_domain: None,
            policy_domain: None,
            record_location: None,
            record: None,
            parsed_record: None,
            spf: None,
            dkim: Vec::new(),
            spf_aligned: false,
            dkim_aligned: false,
            rua: Vec::new(),
            ruf: Vec::new(),
            mode: DiscoveryMode::default(),
            walk: Vec::new(),
            queries: Vec::new(),
            reason,
            warnings: Vec::new(),
        }
    }

    /// The `dmarc` entry of an Authentication-Results header field: the result, `header.from`
    /// and `policy.dmarc` (RFC 9989 §9.1), with the applied tag and disposition as a comment.
    pub fn to_method_result(&self) -> MethodResult {
        let mut m = MethodResult::new("dmarc", self.result.as_str());
        if let (Some(tag), Some(p)) = (self.policy, self.requested_policy) {
            let mut comment = format!("{}={}", tag.as_str(), p.as_str());
            if self.testing {
                comment.push_str(" t=y");
            }
            comment.push_str(&format!(" dis={}", self.disposition.as_str()));
            m = m.with_comment(comment);
        } else if matches!(self.result, DmarcResult::PermError | DmarcResult::TempError)
            && !self.reason.is_empty()
        {
            m = m.with_comment(self.reason.clone());
        }
        if let Some(author) = &self.author_domain {
            m = m.with_property("header", "from", author.as_str());
        }
        if let Some(p) = self.effective_policy {
            m = m.with_property("policy", "dmarc", p.as_str());
        }
        m
    }
}
