//! `MessageOutcome::from_dmarc`: a real `mailward-dmarc` evaluation (over an in-memory zone)
//! folded into a report. Expected values are read off the zone and RFC 9989 / RFC 9990.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_dmarc::evaluate::{DkimInput, DkimVerdict, Options, SpfInput, SpfScope, SpfVerdict};
use mailward_dns::ZoneResolver;
use mailward_reports::*;
use mailward_types::Domain;

const ZONE: &str = "$TTL 300
_dmarc.example.com. IN TXT \"v=DMARC1; p=quarantine; adkim=s; t=y; fo=1\"
example.com. IN A 192.0.2.1
_dmarc.example.net. IN TXT \"v=DMARC1; p=reject\"
example.net. IN A 192.0.2.2
example.org. IN A 192.0.2.3
";

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

fn eval(author: &str, spf: &SpfInput, dkim: &[DkimInput]) -> mailward_dmarc::DmarcOutcome {
    let zone = ZoneResolver::parse(ZONE, "").unwrap();
    pollster::block_on(mailward_dmarc::evaluate(
        &zone,
        &d(author),
        Some(spf),
        dkim,
        &Options::default(),
    ))
}

#[test]
fn failing_message_in_testing_mode() {
    // SPF passes for an unrelated domain, the only signature fails: DMARC fails; t=y lowers
    // quarantine to none (RFC 9989 testing mode), reported as policy_test_mode.
    let spf = SpfInput {
        result: SpfVerdict::Pass,
        domain: d("bounce.example.org"),
        scope: SpfScope::MailFrom,
    };
    let dkim = [DkimInput {
        result: DkimVerdict::Fail,
        domain: d("example.com"),
        selector: "s1".into(),
    }];
    let outcome = eval("example.com", &spf, &dkim);
    let m = MessageOutcome::from_dmarc(
        &outcome,
        "198.51.100.7".parse().unwrap(),
        Some("bounce.example.org"),
        None,
    )
    .unwrap();
    assert_eq!(m.policy.domain, "example.com");
    assert_eq!(m.policy.p, Some(ReportedPolicy::Quarantine));
    assert_eq!(m.policy.adkim, Some(Alignment::Strict));
    assert_eq!(m.policy.aspf, None);
    assert_eq!(m.policy.testing, Some(Testing::Yes));
    assert_eq!(m.policy.fo.as_deref(), Some("1"));
    assert_eq!(m.policy.discovery_method, Some(DiscoveryMethod::Treewalk));
    assert_eq!(m.header_from, "example.com");
    assert_eq!(m.dkim_aligned, AlignedResult::Fail);
    assert_eq!(m.spf_aligned, AlignedResult::Fail);
    assert_eq!(m.disposition, ActionDisposition::None);
    assert_eq!(m.reasons[0].kind, PolicyOverride::PolicyTestMode);
    assert_eq!(m.dkim[0].selector.as_deref(), Some("s1"));
    assert_eq!(m.dkim[0].result, Some(DkimResult::Fail));
    assert_eq!(
        m.spf.as_ref().unwrap().result,
        Some(ReportedSpfResult::Pass)
    );
    assert_eq!(m.spf.as_ref().unwrap().domain, "bounce.example.org");

    // Folded and written, it is a valid report.
    let mut agg = Aggregator::new(
        Reporter {
            org_name: "r".into(),
            email: "d@r.example".into(),
            receiver: "r.example".into(),
            extra_contact_info: None,
            generator: None,
        },
        DateRange {
            begin: 0,
            end: 86_399,
        },
    );
    agg.add(&m);
    let reports = agg.finish();
    let back = parse_xml(to_xml(&reports[0]).as_bytes()).unwrap();
    assert!(back.defects.is_empty(), "{:?}", back.defects);
    assert_eq!(
        back.report.records[0].row.policy_evaluated.reasons[0].kind,
        PolicyOverride::PolicyTestMode
    );
}

#[test]
fn aligned_pass_under_reject() {
    let spf = SpfInput {
        result: SpfVerdict::Pass,
        domain: d("example.net"),
        scope: SpfScope::MailFrom,
    };
    let outcome = eval("example.net", &spf, &[]);
    let m = MessageOutcome::from_dmarc(
        &outcome,
        "192.0.2.9".parse().unwrap(),
        Some("example.net"),
        Some("example.com"),
    )
    .unwrap();
    assert_eq!(m.policy.p, Some(ReportedPolicy::Reject));
    assert_eq!(m.spf_aligned, AlignedResult::Pass);
    assert_eq!(m.dkim_aligned, AlignedResult::Fail);
    // RFC 9990: "pass": no action, passing DMARC with an enforcing policy.
    assert_eq!(m.disposition, ActionDisposition::Pass);
    assert!(m.reasons.is_empty());
    assert_eq!(m.envelope_to.as_deref(), Some("example.com"));
}

#[test]
fn no_policy_no_report() {
    let spf = SpfInput {
        result: SpfVerdict::Pass,
        domain: d("example.org"),
        scope: SpfScope::MailFrom,
    };
    let outcome = eval("example.org", &spf, &[]);
    assert!(
        MessageOutcome::from_dmarc(&outcome, "192.0.2.9".parse().unwrap(), None, None).is_none()
    );
}
