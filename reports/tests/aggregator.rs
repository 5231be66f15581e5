//! The Aggregator (outcomes → reports) and the Summary (reports → verdicts).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_reports::*;

fn reporter() -> Reporter {
    Reporter {
        org_name: "Receiver".into(),
        email: "dmarc@receiver.example".into(),
        receiver: "receiver.example".into(),
        extra_contact_info: None,
        generator: Some("mailward".into()),
    }
}

fn outcome(json: &str) -> MessageOutcome {
    serde_json::from_str(json).unwrap()
}

const A: &str = r#"{"policy":{"domain":"example.com","p":"none"},"source_ip":"192.0.2.1",
  "header_from":"example.com","envelope_from":"example.com","disposition":"none",
  "dkim_aligned":"pass","spf_aligned":"pass",
  "dkim":[{"domain":"example.com","selector":"s1","result":"pass"}],
  "spf":{"domain":"example.com","scope":"mfrom","result":"pass"}}"#;
const B: &str = r#"{"policy":{"domain":"example.com","p":"none"},"source_ip":"198.51.100.2",
  "header_from":"example.com","envelope_from":"forger.example","disposition":"none",
  "dkim_aligned":"fail","spf_aligned":"fail","count":5,
  "spf":{"domain":"forger.example","scope":"mfrom","result":"fail"}}"#;
const C: &str = r#"{"policy":{"domain":"Example.ORG","p":"reject","np":"reject"},"source_ip":"2001:db8::1",
  "header_from":"example.org","disposition":"reject","dkim_aligned":"fail","spf_aligned":"fail"}"#;

#[test]
fn folds_outcomes_into_one_report_per_domain() {
    let mut agg = Aggregator::new(
        reporter(),
        DateRange {
            begin: 1_700_000_000,
            end: 1_700_086_399,
        },
    );
    for _ in 0..1000 {
        agg.add(&outcome(A));
    }
    agg.add(&outcome(B));
    agg.add(&outcome(C));
    agg.add(&outcome(B));
    // Memory follows distinct rows: 1002 outcomes, 3 rows.
    assert_eq!(agg.row_count(), 3);
    let reports = agg.finish();
    assert_eq!(reports.len(), 2);
    // Sorted by (lower-cased) policy domain.
    let com = &reports[0];
    let org = &reports[1];
    assert_eq!(com.policy_published.domain, "example.com");
    assert_eq!(org.policy_published.domain, "example.org");
    assert_eq!(
        com.report_metadata.report_id,
        "1700000000.example.com@receiver.example"
    );
    assert_eq!(com.report_metadata.generator.as_deref(), Some("mailward"));
    // Rows sorted by source IP: 192.0.2.1 (1000 messages), 198.51.100.2 (5 + 5).
    assert_eq!(com.records.len(), 2);
    assert_eq!(com.records[0].row.source_ip.to_string(), "192.0.2.1");
    assert_eq!(com.records[0].row.count, 1000);
    assert_eq!(com.records[1].row.count, 10);
    assert_eq!(
        com.records[1].row.policy_evaluated.dkim,
        Some(AlignedResult::Fail)
    );
    assert_eq!(com.records[1].auth_results.spf[0].domain, "forger.example");
    assert_eq!(org.records[0].row.count, 1);
    assert_eq!(org.policy_published.np, Some(ReportedPolicy::Reject));
    assert_eq!(com.message_count(), 1010);
}

#[test]
fn output_does_not_depend_on_input_order() {
    let lines = [A, B, C, A, B];
    let run = |order: &[usize]| {
        let mut agg = Aggregator::new(
            reporter(),
            DateRange {
                begin: 0,
                end: 86_399,
            },
        );
        for &i in order {
            agg.add(&outcome(lines[i]));
        }
        agg.finish().iter().map(to_xml).collect::<Vec<_>>()
    };
    assert_eq!(run(&[0, 1, 2, 3, 4]), run(&[4, 3, 2, 1, 0]));
    assert_eq!(run(&[0, 1, 2, 3, 4]), run(&[2, 0, 4, 1, 3]));
}

#[test]
fn the_last_policy_seen_is_reported() {
    let mut agg = Aggregator::new(
        reporter(),
        DateRange {
            begin: 0,
            end: 86_399,
        },
    );
    agg.add(&outcome(A));
    agg.add(&outcome(&A.replace(r#""p":"none""#, r#""p":"quarantine""#)));
    let reports = agg.finish();
    assert_eq!(
        reports[0].policy_published.p,
        Some(ReportedPolicy::Quarantine)
    );
    assert_eq!(reports[0].records[0].row.count, 2);
}

/// A minimal RFC 9990 report with the given records `(ip, count, dkim, spf)`.
fn report_xml(
    org: &str,
    id: &str,
    end: u64,
    p: &str,
    records: &[(&str, u64, &str, &str)],
) -> String {
    let mut x = format!(
        r#"<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><report_metadata><org_name>{org}</org_name>
<email>d@{org}</email><report_id>{id}</report_id><date_range><begin>0</begin><end>{end}</end></date_range>
</report_metadata><policy_published><domain>example.com</domain><p>{p}</p></policy_published>"#
    );
    for (ip, count, dkim, spf) in records {
        x.push_str(&format!(
            r#"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>
<disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>
<identifiers><header_from>example.com</header_from></identifiers><auth_results/></record>"#
        ));
    }
    x.push_str("</feedback>");
    x
}

#[test]
fn summary_and_verdicts() {
    let a = report_xml(
        "a.example",
        "1",
        100,
        "none",
        &[
            ("192.0.2.1", 90, "pass", "pass"),
            ("192.0.2.2", 8, "fail", "pass"),
            ("203.0.113.9", 2, "fail", "fail"),
        ],
    );
    let b = report_xml(
        "b.example",
        "1",
        200,
        "quarantine",
        &[("203.0.113.9", 10, "fail", "fail")],
    );
    let mut s = Summary::new();
    for xml in [&a, &b, &a] {
        s.add(&parse_xml(xml.as_bytes()).unwrap().report);
    }
    // The second copy of a.example's report 1 is a duplicate (RFC 9990 §3.5.4).
    assert_eq!(s.reports, 2);
    assert_eq!(s.duplicates, 1);
    let d = &s.domains["example.com"];
    // Hand totals: volume 90+8+2+10 = 110; DKIM aligned pass 90; SPF aligned pass 98;
    // DMARC pass 98; failing 12, all from 203.0.113.9.
    assert_eq!(d.volume, 110);
    assert_eq!(d.dkim_aligned_pass, 90);
    assert_eq!(d.spf_aligned_pass, 98);
    assert_eq!(d.dmarc_pass, 98);
    assert_eq!(d.published_p, Some(ReportedPolicy::Quarantine));
    assert_eq!(d.reporters["a.example"], 100);
    assert_eq!(d.reporters["b.example"], 10);
    let src = &d.sources[&"203.0.113.9".parse().unwrap()];
    assert_eq!(src.volume, 12);
    assert_eq!(src.dmarc_fail, 12);
    assert_eq!(src.reporters.len(), 2);
    let [q, r] = d.verdicts();
    assert_eq!(q.policy, ReportedPolicy::Quarantine);
    assert_eq!(r.policy, ReportedPolicy::Reject);
    assert_eq!(q.affected, 12);
    assert!((q.affected_share - 12.0 / 110.0).abs() < 1e-12);
    assert_eq!(
        q.failing_sources,
        vec![("203.0.113.9".parse().unwrap(), 12, 1.0)]
    );
}

#[test]
fn aggregated_reports_are_valid_rfc9990() {
    let mut agg = Aggregator::new(
        reporter(),
        DateRange {
            begin: 0,
            end: 86_399,
        },
    );
    for l in [A, B, C] {
        agg.add(&outcome(l));
    }
    for r in agg.finish() {
        let parsed = parse_xml(to_xml(&r).as_bytes()).unwrap();
        assert!(parsed.defects.is_empty(), "{:?}", parsed.defects);
        assert_eq!(parsed.report, r);
    }
}
