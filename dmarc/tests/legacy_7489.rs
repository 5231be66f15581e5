//! RFC 7489 records in both modes: Tree Walk (RFC 9989, legacy tags reported and ignored) and
//! PSL mode (RFC 7489 §3.2 Organizational Domains, §6.6.3 discovery, §6.6.4 pct).

#![cfg(feature = "psl")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use mailward_dmarc::evaluate::{
    AlignmentStatus, DiscoveryMode, Disposition, DmarcResult, Options, PolicyTag,
};
use mailward_dmarc::record::{DmarcRecord, LegacyTag, RecordWarning, RequestedPolicy};

fn psl(sample: Option<u8>) -> Options {
    let mut o = Options::with_mode(DiscoveryMode::PublicSuffixList);
    o.pct_sample = sample;
    o
}

/// RFC 7489 Appendix B.2.4-style record with every legacy tag.
const LEGACY: &str = "v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc-feedback@example.com!10m; rf=afrf; ri=86400; fo=1; ruf=mailto:auth-reports@example.com";

#[test]
fn legacy_record_parses_and_reports_removed_tags() {
    let (r, w) = DmarcRecord::parse_with_warnings(LEGACY.as_bytes()).unwrap();
    assert_eq!(
        r.legacy,
        [
            LegacyTag::Pct(50),
            LegacyTag::Rf(vec!["afrf".into()]),
            LegacyTag::Ri(86400)
        ]
    );
    assert_eq!(r.rua[0].size_limit.as_deref(), Some("10m"));
    for tag in ["pct", "rf", "ri"] {
        assert!(
            w.contains(&RecordWarning::RemovedTag { tag: tag.into() }),
            "{tag}"
        );
    }
}

#[test]
fn tree_walk_mode_ignores_pct() {
    let z = zone(&format!("_dmarc.example.com. IN TXT \"{LEGACY}\""));
    for _ in 0..3 {
        let out = eval(&z, "example.com", None, &[]);
        assert_eq!(out.disposition, Disposition::Quarantine);
    }
}

#[test]
fn psl_mode_samples_pct() {
    let z = zone(&format!("_dmarc.example.com. IN TXT \"{LEGACY}\""));
    // sample < pct: the policy applies; otherwise the next lower one (RFC 7489 §6.6.4).
    let out = eval_with(&z, "example.com", None, &[], &psl(Some(10)));
    assert_eq!(out.disposition, Disposition::Quarantine);
    let out = eval_with(&z, "example.com", None, &[], &psl(Some(49)));
    assert_eq!(out.disposition, Disposition::Quarantine);
    let out = eval_with(&z, "example.com", None, &[], &psl(Some(50)));
    assert_eq!(out.disposition, Disposition::None);
    assert_eq!(out.requested_policy, Some(RequestedPolicy::Quarantine));
    assert_eq!(out.effective_policy, Some(RequestedPolicy::None));
    // pct=0 without a sample lowers; reject lowers to quarantine.
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; pct=0\"");
    let out = eval_with(&z, "example.com", None, &[], &psl(None));
    assert_eq!(out.disposition, Disposition::Quarantine);
}

#[test]
fn psl_mode_ignores_t() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; t=y\"");
    let out = eval_with(&z, "example.com", None, &[], &psl(None));
    assert_eq!(out.disposition, Disposition::Reject);
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.disposition, Disposition::Quarantine);
}

#[test]
fn psl_mode_org_domains() {
    let z = zone(
        "_dmarc.example.co.uk. IN TXT \"v=DMARC1; p=reject; sp=quarantine\"
         a.b.example.co.uk. IN A 192.0.2.1",
    );
    let out = eval_with(
        &z,
        "a.b.example.co.uk",
        Some(spf_pass("mail.example.co.uk")),
        &[],
        &psl(None),
    );
    assert_eq!(
        out.organizational_domain.as_ref().unwrap().as_str(),
        "example.co.uk"
    );
    assert_eq!(out.policy, Some(PolicyTag::Sp));
    assert_eq!(out.spf.as_ref().unwrap().status, AlignmentStatus::Relaxed);
    assert_eq!(out.result, DmarcResult::Pass);
    // Only the Author Domain and the Organizational Domain are queried (RFC 7489 §6.6.3).
    assert_eq!(
        txt_queries(&out),
        ["_dmarc.a.b.example.co.uk", "_dmarc.example.co.uk"]
    );
}

#[test]
fn psl_mode_and_tree_walk_differ_on_intermediate_records() {
    // A record at mail.example.com only: the Tree Walk finds it (it is the Organizational
    // Domain), RFC 7489 never looks there for a.mail.example.com.
    let z = zone("_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject\"");
    let walk = eval(&z, "a.mail.example.com", None, &[]);
    assert_eq!(walk.result, DmarcResult::Fail);
    let psl_out = eval_with(&z, "a.mail.example.com", None, &[], &psl(None));
    assert_eq!(psl_out.result, DmarcResult::None);
}

#[test]
fn psl_mode_multiple_records_terminate() {
    let z = zone(
        "_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=none\"
         _dmarc.mail.example.com. IN TXT \"v=DMARC1; p=quarantine\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"",
    );
    let out = eval_with(&z, "mail.example.com", None, &[], &psl(None));
    assert_eq!(out.result, DmarcResult::None);
    // RFC 9989 discards them and walks on.
    let out = eval(&z, "mail.example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::Fail);
}

#[test]
fn psl_mode_temperror() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"")
        .with_timeout(d("_dmarc.mail.example.com"));
    let out = eval_with(&z, "mail.example.com", None, &[], &psl(None));
    assert_eq!(out.result, DmarcResult::TempError);
}
