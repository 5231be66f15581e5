//! generate → parse is the identity for every report RFC 9990 can express (property test), also
//! through gzip and the report e-mail; and the writer's fixed points: file name and Subject.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;

use mailward_reports::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Text without surrounding whitespace (the reader trims and reports whitespace), with markup
/// characters and non-ASCII to exercise escaping.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.@&<>'\"_é€-]([a-zA-Z0-9 .@&<>'\"_é€\n-]{0,16}[a-zA-Z0-9.@&<>'\"_é€-])?"
}

fn domain() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,10}\\.(example|test|invalid)"
}

fn pick<T: Clone + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

/// The RFC 9990 `PolicyOverrideType` values (`forwarded` and `sampled_out` are RFC 7489 only).
const RFC9990_OVERRIDES: &[PolicyOverride] = &[
    PolicyOverride::LocalPolicy,
    PolicyOverride::MailingList,
    PolicyOverride::Other,
    PolicyOverride::PolicyTestMode,
    PolicyOverride::TrustedForwarder,
];

prop_compose! {
    fn metadata()(
        org_name in text(), email in text(), extra_contact_info in option::of(text()),
        report_id in text(), begin in any::<u64>(), end in any::<u64>(),
        errors in vec(text(), 0..=1), generator in option::of(text()),
    ) -> ReportMetadata {
        ReportMetadata {
            org_name, email, extra_contact_info, report_id,
            date_range: DateRange { begin, end }, errors, generator,
        }
    }
}

prop_compose! {
    fn policy()(
        domain in domain(),
        discovery_method in option::of(pick(DiscoveryMethod::ALL)),
        p in pick(ReportedPolicy::ALL).prop_map(Some),
        sp in option::of(pick(ReportedPolicy::ALL)),
        np in option::of(pick(ReportedPolicy::ALL)),
        adkim in option::of(pick(Alignment::ALL)),
        aspf in option::of(pick(Alignment::ALL)),
        fo in option::of("[01ds:]{1,7}"),
        testing in option::of(pick(Testing::ALL)),
    ) -> PolicyPublished {
        PolicyPublished { domain, discovery_method, p, sp, np, adkim, aspf, pct: None, fo, testing }
    }
}

prop_compose! {
    fn reason()(kind in pick(RFC9990_OVERRIDES), comment in option::of(text())) -> PolicyOverrideReason {
        PolicyOverrideReason { kind, comment }
    }
}

prop_compose! {
    fn dkim()(domain in domain(), selector in "[a-z0-9-]{1,12}", result in pick(DkimResult::ALL),
              human_result in option::of(text())) -> DkimAuthResult {
        DkimAuthResult { domain, selector: Some(selector), result: Some(result), human_result }
    }
}

prop_compose! {
    fn spf()(domain in domain(), scope in option::of(Just(SpfScope::MailFrom)),
             result in pick(ReportedSpfResult::ALL), human_result in option::of(text())) -> SpfAuthResult {
        SpfAuthResult { domain, scope, result: Some(result), human_result }
    }
}

prop_compose! {
    fn element()(n in 0..10u8, text in option::of(text())) -> XmlElement {
        XmlElement {
            name: format!("e:n{n}"),
            attributes: vec![("xmlns:e".into(), "urn:example:e".into())],
            text: text.unwrap_or_default(),
            children: Vec::new(),
        }
    }
}

prop_compose! {
    fn record()(
        source_ip in any::<IpAddr>(), count in any::<u64>(),
        disposition in pick(ActionDisposition::ALL),
        dkim_aligned in pick(AlignedResult::ALL), spf_aligned in pick(AlignedResult::ALL),
        reasons in vec(reason(), 0..3),
        header_from in domain(), envelope_from in option::of(domain()),
        envelope_to in option::of(domain()),
        dkims in vec(dkim(), 0..3), spfs in vec(spf(), 0..=1),
        extensions in vec(element(), 0..2),
    ) -> Record {
        Record {
            row: Row {
                source_ip, count,
                policy_evaluated: PolicyEvaluated {
                    disposition: Some(disposition), dkim: Some(dkim_aligned), spf: Some(spf_aligned),
                    reasons,
                },
            },
            identifiers: Identifiers { header_from, envelope_from, envelope_to },
            auth_results: AuthResults { dkim: dkims, spf: spfs },
            extensions,
        }
    }
}

prop_compose! {
    fn report()(
        version in option::of(Just("1.0".to_owned())),
        report_metadata in metadata(), policy_published in policy(),
        extension in option::of(vec(element(), 0..3)),
        records in vec(record(), 1..5),
    ) -> AggregateReport {
        AggregateReport {
            schema: Schema::Rfc9990, version, report_metadata, policy_published, extension, records,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn xml_round_trip(report in report()) {
        let xml = to_xml(&report);
        let parsed = parse_xml(xml.as_bytes()).unwrap();
        prop_assert_eq!(&parsed.defects, &Vec::<Defect>::new(), "{}", xml);
        prop_assert_eq!(parsed.report, report);
    }

    #[test]
    fn gzip_and_email_round_trip(report in report()) {
        let env = ReportEmail {
            from: "dmarc@receiver.example".into(),
            to: "rua@example.com".into(),
            submitter: "receiver.example".into(),
            date: "Tue, 14 Nov 2023 22:13:20 +0000".into(),
            unique_id: None,
            gzip: true,
        };
        let gz = gzip(to_xml(&report).as_bytes());
        let from_gz = parse(&gz).unwrap();
        prop_assert_eq!(&from_gz[0].report, &report);
        let message = to_email(&report, &env);
        let from_mail = parse(&message).unwrap();
        prop_assert_eq!(from_mail.len(), 1);
        prop_assert_eq!(&from_mail[0].report, &report);
    }

    /// JSON (the CLI's output) is also lossless.
    #[test]
    fn json_round_trip(report in report()) {
        let json = serde_json::to_string(&report).unwrap();
        let back: AggregateReport = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, report);
    }
}

fn sample() -> AggregateReport {
    let xml = include_bytes!("data/golden/base.xml");
    parse_xml(xml).unwrap().report
}

#[test]
fn file_name_follows_rfc9990_3_5_2() {
    let mut r = sample();
    r.report_metadata.date_range = DateRange {
        begin: 1_013_662_812,
        end: 1_013_749_130,
    };
    // The example of RFC 9990 §3.5.2.
    assert_eq!(
        file_name("mail.receiver.example", &r, None, true),
        "mail.receiver.example!example.com!1013662812!1013749130.xml.gz"
    );
    // unique-id = 1*(ALPHA / DIGIT): other characters dropped.
    assert_eq!(
        file_name("mail.receiver.example", &r, Some("a-1_b"), false),
        "mail.receiver.example!example.com!1013662812!1013749130!a1b.xml"
    );
}

#[test]
fn subject_follows_rfc9990_3_5_2() {
    let mut r = sample();
    r.report_metadata.report_id = "<sample-ridtxt@example.com>".into();
    // RFC 9990 §3.5.2's example, folded the same way.
    assert_eq!(
        subject(&r, "mail.receiver.example"),
        "Report Domain: example.com\r\n Submitter: mail.receiver.example\r\n Report-ID: <sample-ridtxt@example.com>"
    );
    // A report id that is not a ridtxt is left out rather than breaking the ABNF.
    r.report_metadata.report_id = "has space".into();
    assert_eq!(
        subject(&r, "mail.receiver.example"),
        "Report Domain: example.com\r\n Submitter: mail.receiver.example"
    );
}

#[test]
fn legacy_values_are_mapped_to_rfc9990() {
    let legacy = parse_xml(include_bytes!("data/golden/rfc7489.xml"))
        .unwrap()
        .report;
    let written = parse_xml(to_xml(&legacy).as_bytes()).unwrap();
    assert!(written.defects.is_empty(), "{:?}", written.defects);
    let r = &written.report.records[0];
    let reasons = &r.row.policy_evaluated.reasons;
    // <type>forwarded</type><comment>via list</comment> and <type>sampled_out</type>.
    assert_eq!(reasons[0].kind, PolicyOverride::Other);
    assert_eq!(reasons[0].comment.as_deref(), Some("forwarded: via list"));
    assert_eq!(reasons[1].comment.as_deref(), Some("sampled_out"));
    // The helo result is dropped, the mfrom one kept.
    assert_eq!(r.auth_results.spf.len(), 1);
    assert_eq!(r.auth_results.spf[0].domain, "example.org");
    assert_eq!(
        r.auth_results.spf[0].result,
        Some(ReportedSpfResult::SoftFail)
    );
    assert_eq!(written.report.policy_published.pct, None);
    assert_eq!(
        written.report.report_metadata.errors,
        vec!["first error\nsecond error".to_owned()]
    );
}

#[test]
fn ridtxt() {
    assert!(is_ridtxt("1721054318-example.com@example.org"));
    assert!(is_ridtxt("2024-03-27_example.com@example.org"));
    assert!(is_ridtxt("<a.b@c>"));
    assert!(is_ridtxt("3v98abbp8ya9n3va8yr8oa3ya"));
    assert!(!is_ridtxt("a..b"));
    assert!(!is_ridtxt("a@b@c"));
    assert!(!is_ridtxt(""));
    assert!(!is_ridtxt("a b"));
}

#[test]
fn email_has_the_required_parts() {
    let r = sample();
    let env = ReportEmail {
        from: "dmarc@receiver.example".into(),
        to: "rua@example.com".into(),
        submitter: "receiver.example".into(),
        date: "Tue, 14 Nov 2023 22:13:20 +0000".into(),
        unique_id: None,
        gzip: true,
    };
    let m = String::from_utf8(to_email(&r, &env)).unwrap();
    assert!(m.contains(
        "Subject: Report Domain: example.com\r\n Submitter: receiver.example\r\n Report-ID: r-1\r\n"
    ));
    assert!(m.contains("Content-Type: application/gzip; name=\"receiver.example!example.com!1700000000!1700086399.xml.gz\""));
    assert!(m.contains("MIME-Version: 1.0\r\n"));
    // Every line is within RFC 5322's 78-character recommendation.
    assert!(m.split("\r\n").all(|l| l.len() <= 998));
    let plain = ReportEmail { gzip: false, ..env };
    let m = String::from_utf8(to_email(&r, &plain)).unwrap();
    assert!(m.contains(
        "Content-Type: text/xml; name=\"receiver.example!example.com!1700000000!1700086399.xml\""
    ));
}

/// Runs `xmllint --noout --schema` on the files; `None` when xmllint is not installed (a failure
/// instead when `MAILWARD_REQUIRE_XMLLINT=1`, as in CI).
fn xmllint(files: &[std::path::PathBuf]) -> Option<std::process::Output> {
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dmarc-2.0.xsd");
    match std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .args(files)
        .output()
    {
        Ok(out) => Some(out),
        Err(e) => {
            assert!(
                std::env::var("MAILWARD_REQUIRE_XMLLINT").as_deref() != Ok("1"),
                "xmllint is required (MAILWARD_REQUIRE_XMLLINT=1) but cannot run: {e}"
            );
            eprintln!("xmllint not available ({e}); XSD validation skipped");
            None
        }
    }
}

#[test]
fn written_reports_validate_against_the_rfc9990_xsd() {
    use proptest::strategy::ValueTree;
    let dir = std::env::temp_dir().join(format!("mailward-reports-xsd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut files = Vec::new();
    for i in 0..64 {
        let r = report().new_tree(&mut runner).unwrap().current();
        let f = dir.join(format!("r{i}.xml"));
        std::fs::write(&f, to_xml(&r)).unwrap();
        files.push(f);
    }
    // The Appendix B sample and a legacy report, re-written in RFC 9990 form.
    for (i, src) in [
        include_str!("data/golden/rfc9990_appendix_b.xml"),
        include_str!("data/golden/rfc7489.xml"),
    ]
    .iter()
    .enumerate()
    {
        let r = parse_xml(src.as_bytes()).unwrap().report;
        let f = dir.join(format!("fixed{i}.xml"));
        std::fs::write(&f, to_xml(&r)).unwrap();
        files.push(f);
    }
    let Some(out) = xmllint(&files) else { return };
    assert!(
        out.status.success(),
        "xmllint rejected written reports:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Control: the check can fail. A legacy report as written by its reporter is not RFC 9990.
    let legacy = dir.join("legacy.xml");
    std::fs::write(&legacy, include_str!("data/golden/rfc7489.xml")).unwrap();
    let out = xmllint(&[legacy]).unwrap();
    assert!(
        !out.status.success(),
        "the XSD check accepted a non-RFC 9990 document"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The old names of the renamed token types still name the same types, for one release.
#[test]
#[expect(deprecated, reason = "the old names are what is tested")]
fn old_names_still_work() {
    assert_eq!(Disposition::Reject, ReportedPolicy::Reject);
    assert_eq!(DmarcResult::from_token("pass"), AlignedResult::Pass);
    let old: SpfResult = ReportedSpfResult::SoftFail;
    assert_eq!(old.as_str(), "softfail");
}
