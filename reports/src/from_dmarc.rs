//! From a `mailward-dmarc` evaluation to the plain [`MessageOutcome`] the [`Aggregator`] folds.
//!
//! [`Aggregator`]: crate::Aggregator

use std::net::IpAddr;

use mailward_dmarc::evaluate::SpfScope as DmarcSpfScope;
use mailward_dmarc::{AlignmentMode, DiscoveryMode, DmarcOutcome};

use crate::aggregator::MessageOutcome;
use crate::model::{
    ActionDisposition, AlignedResult, Alignment, DiscoveryMethod, DkimAuthResult, DkimResult,
    PolicyOverride, PolicyOverrideReason, PolicyPublished, ReportedPolicy, ReportedSpfResult,
    SpfAuthResult, SpfScope, Testing,
};

fn alignment(mode: AlignmentMode) -> Alignment {
    match mode {
        AlignmentMode::Strict => Alignment::Strict,
        _ => Alignment::Relaxed,
    }
}

fn aligned(yes: bool) -> AlignedResult {
    if yes {
        AlignedResult::Pass
    } else {
        AlignedResult::Fail
    }
}

impl MessageOutcome {
    /// The aggregate-report view of one message's DMARC evaluation: the policy published at the
    /// Policy Domain, the disposition, the aligned results and the raw DKIM and SPF results.
    /// `source_ip` and the envelope domains come from the SMTP session, which the evaluation
    /// does not see.
    ///
    /// Returns `None` when no DMARC Policy Record applied (no Policy Domain: RFC 9990 §3.1
    /// reports are per Policy Domain). An honoured `t=y` is reported as the
    /// `policy_test_mode` override (RFC 9990 §3.1.6). Only the MAIL FROM SPF result is kept
    /// (the RFC 9990 `SPFDomainScope` has `mfrom` only).
    pub fn from_dmarc(
        outcome: &DmarcOutcome,
        source_ip: IpAddr,
        envelope_from: Option<&str>,
        envelope_to: Option<&str>,
    ) -> Option<Self> {
        let domain = outcome.policy_domain.as_ref()?;
        let record = outcome.parsed_record.as_ref();
        let disposition = |v: Option<mailward_dmarc::RequestedPolicy>| {
            v.map(|p| ReportedPolicy::from_token(p.as_str()))
        };
        let policy = PolicyPublished {
            domain: domain.as_str().to_owned(),
            discovery_method: Some(if matches!(outcome.mode, DiscoveryMode::TreeWalk) {
                DiscoveryMethod::Treewalk
            } else {
                DiscoveryMethod::Psl
            }),
            p: record.and_then(|r| disposition(r.p.valid())),
            sp: record.and_then(|r| disposition(r.sp.valid())),
            np: record.and_then(|r| disposition(r.np.valid())),
            adkim: record.and_then(|r| r.adkim).map(alignment),
            aspf: record.and_then(|r| r.aspf).map(alignment),
            pct: None,
            fo: record.and_then(|r| r.fo.as_ref()).map(ToString::to_string),
            testing: record
                .and_then(|r| r.t)
                .map(|t| if t { Testing::Yes } else { Testing::No }),
        };
        let reasons = if outcome.testing {
            vec![PolicyOverrideReason {
                kind: PolicyOverride::PolicyTestMode,
                comment: None,
            }]
        } else {
            Vec::new()
        };
        Some(Self {
            policy,
            source_ip,
            header_from: outcome
                .author_domain
                .as_ref()
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            envelope_from: envelope_from.map(str::to_owned),
            envelope_to: envelope_to.map(str::to_owned),
            disposition: ActionDisposition::from_token(outcome.disposition.as_str()),
            dkim_aligned: aligned(outcome.dkim_aligned),
            spf_aligned: aligned(outcome.spf_aligned),
            reasons,
            dkim: outcome
                .dkim
                .iter()
                .map(|d| DkimAuthResult {
                    domain: d.domain.as_str().to_owned(),
                    selector: Some(d.selector.clone()),
                    result: Some(DkimResult::from_token(d.result.as_str())),
                    human_result: None,
                })
                .collect(),
            spf: outcome
                .spf
                .as_ref()
                .filter(|s| matches!(s.scope, DmarcSpfScope::MailFrom))
                .map(|s| SpfAuthResult {
                    domain: s.domain.as_str().to_owned(),
                    scope: Some(SpfScope::MailFrom),
                    result: Some(ReportedSpfResult::from_token(s.result.as_str())),
                    human_result: None,
                }),
            count: 1,
        })
    }
}
