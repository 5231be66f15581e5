//! Large reports (several MB: read on two cores when their records run plain) give the same
//! records, in document order, and the same defects with the same record numbers as a record
//! by record reading would. The expectations are worked out from how each document is built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_reports::{DefectKind, parse_xml};

const RECORDS: usize = 4000;

fn ip(i: usize) -> String {
    format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)
}

/// Record `i` (0-based): source 10.x.y.z from `i`, count `i + 1`; every 500th record writes its
/// DKIM result upper-case (an upper_case_token defect at its own path).
fn record(i: usize) -> String {
    let dkim = if i.is_multiple_of(500) {
        "PASS"
    } else {
        "pass"
    };
    format!(
        "  <record>\n    <row>\n      <source_ip>{}</source_ip>\n      <count>{}</count>\n      \
         <policy_evaluated><disposition>none</disposition><dkim>{dkim}</dkim><spf>fail</spf>\
         </policy_evaluated>\n    </row>\n    <identifiers><header_from>example.com</header_from>\
         <envelope_from>bounces.example.net</envelope_from></identifiers>\n    <auth_results>\n      \
         <dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>\n      \
         <spf><domain>bounces.example.net</domain><result>softfail</result></spf>\n    \
         </auth_results>\n  </record>\n",
        ip(i),
        i + 1
    )
}

fn document(record_of: impl Fn(usize) -> String) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n  <version>1.0</version>\n  \
         <report_metadata><org_name>r.example</org_name><email>d@r.example</email>\
         <report_id>big-1</report_id><date_range><begin>0</begin><end>86399</end></date_range>\
         </report_metadata>\n  <policy_published><domain>example.com</domain><p>none</p>\
         </policy_published>\n",
    );
    for i in 0..RECORDS {
        xml.push_str(&record_of(i));
    }
    xml.push_str("</feedback>\n");
    assert!(xml.len() > 2 << 20, "large enough to be read on two cores");
    xml
}

/// The upper-case defects of records 0, 500, 1000, … (paths count from 1), except `skip`.
fn uppercase_paths(skip: Option<usize>) -> Vec<String> {
    (0..RECORDS)
        .step_by(500)
        .filter(|i| Some(*i) != skip)
        .map(|i| format!("feedback/record[{}]/row/policy_evaluated/dkim", i + 1))
        .collect()
}

#[test]
fn records_and_defects_in_document_order() {
    let parsed = parse_xml(document(record).as_bytes()).unwrap();
    let records = &parsed.report.records;
    assert_eq!(records.len(), RECORDS);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.row.source_ip.to_string(), ip(i));
        assert_eq!(r.row.count, i as u64 + 1);
    }
    let paths: Vec<&str> = parsed
        .defects
        .iter()
        .map(|d| {
            assert_eq!(d.kind, DefectKind::UpperCaseToken);
            d.path.as_str()
        })
        .collect();
    assert_eq!(paths, uppercase_paths(None));
}

#[test]
fn a_broken_record_in_the_second_half_is_dropped_at_its_own_number() {
    // Record index 3001 loses its </row>: it cannot be read whole.
    let xml = document(|i| {
        let r = record(i);
        if i == 3001 {
            r.replacen("</row>", "", 1)
        } else {
            r
        }
    });
    let parsed = parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(parsed.report.records.len(), RECORDS - 1);
    assert!(parsed.report.records.iter().all(|r| r.row.count != 3002));
    let mut expected: Vec<(DefectKind, String)> = uppercase_paths(None)
        .into_iter()
        .map(|p| (DefectKind::UpperCaseToken, p))
        .collect();
    // In document order: after record 3000's defect (index 3000, path record[3001]).
    let at = expected
        .iter()
        .position(|(_, p)| p.contains("record[3001]"))
        .unwrap()
        + 1;
    expected.insert(
        at,
        (DefectKind::DroppedRecord, "feedback/record[3002]".into()),
    );
    let got: Vec<(DefectKind, String)> = parsed
        .defects
        .iter()
        .map(|d| (d.kind, d.path.clone()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_record_tag_inside_a_comment_changes_nothing() {
    // A comment that holds "<record>" between records 10 and 11 (counting tags would be off).
    let xml = document(|i| {
        let r = record(i);
        if i == 10 {
            format!("<!-- <record> -->\n{r}")
        } else {
            r
        }
    });
    let parsed = parse_xml(xml.as_bytes()).unwrap();
    assert_eq!(parsed.report.records.len(), RECORDS);
    let paths: Vec<&str> = parsed.defects.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, uppercase_paths(None));
}
