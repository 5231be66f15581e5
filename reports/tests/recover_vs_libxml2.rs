//! Recovery of broken reports, measured against libxml2's recover mode (`xmllint --recover`,
//! an independent XML parser).
//!
//! For each broken golden input the intended report is known: the same document before it was
//! broken (`recover_base_three.xml` and `base.xml`). libxml2 repairs the broken document into
//! well-formed XML, which our strict reader then reads: that is libxml2's answer. The bound the
//! reader must keep:
//! - everything libxml2 gets right, we get right: each record and metadata value libxml2
//!   recovers as intended, we recover as intended;
//! - nothing libxml2 gets wrong: every record and value we return is the intended one (a record
//!   that cannot be read whole is dropped, never filled with a guess).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use mailward_reports::{AggregateReport, Record, parse, parse_xml};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(name)
}

/// libxml2's recovered document, or `None` when xmllint is not installed (a failure instead
/// when `MAILWARD_REQUIRE_XMLLINT=1`, as in CI).
fn libxml2_recover(path: &Path) -> Option<Vec<u8>> {
    match std::process::Command::new("xmllint")
        .arg("--recover")
        .arg(path)
        .output()
    {
        Ok(out) => Some(out.stdout),
        Err(e) => {
            assert!(
                std::env::var("MAILWARD_REQUIRE_XMLLINT").as_deref() != Ok("1"),
                "xmllint is required (MAILWARD_REQUIRE_XMLLINT=1) but cannot run: {e}"
            );
            eprintln!("xmllint not available ({e}); comparison skipped");
            None
        }
    }
}

fn record_of<'a>(report: &'a AggregateReport, like: &Record) -> Option<&'a Record> {
    report
        .records
        .iter()
        .find(|r| r.row.source_ip == like.row.source_ip)
}

/// The metadata values compared (free text that leaf recovery is about).
fn metadata(report: &AggregateReport) -> [(&'static str, String); 4] {
    let m = &report.report_metadata;
    [
        ("org_name", m.org_name.clone()),
        ("email", m.email.clone()),
        ("report_id", m.report_id.clone()),
        ("policy domain", report.policy_published.domain.clone()),
    ]
}

#[test]
fn recovery_keeps_what_libxml2_gets_right_and_nothing_it_gets_wrong() {
    let cases: &[(&str, &str, usize)] = &[
        // (broken input, intended document, records expected back)
        ("recover_markup.xml", "recover_base_three.xml", 3),
        ("recover_dropped_record.xml", "recover_base_three.xml", 2),
        ("recover_bad_count.xml", "recover_base_three.xml", 2),
        ("recover_truncated.xml", "recover_base_three.xml", 2),
        ("recover_truncated_between.xml", "recover_base_three.xml", 3),
        ("recover_stray_bytes.xml", "base.xml", 1),
        ("recover_stray_end_tag.xml", "recover_base_three.xml", 3),
    ];
    let mut compared = 0;
    for (broken, intended, expected_records) in cases {
        let intended = parse_xml(&std::fs::read(golden(intended)).unwrap())
            .unwrap()
            .report;
        // Our text leaves are recovered with the markup that was written: the intended values
        // of recover_markup.xml are those of the golden expectation, not of the clean base.
        let ours = parse(&std::fs::read(golden(broken)).unwrap())
            .unwrap_or_else(|e| panic!("{broken}: {e}"))
            .remove(0)
            .report;
        let intended = if *broken == "recover_markup.xml" {
            let expected: serde_json::Value =
                serde_json::from_slice(&std::fs::read(golden("recover_markup.xml.json")).unwrap())
                    .unwrap();
            serde_json::from_value(expected["reports"][0]["report"].clone()).unwrap()
        } else {
            intended
        };
        assert_eq!(ours.records.len(), *expected_records, "{broken}");
        // Nothing wrong: every record we return is the intended one, every value too.
        for r in &ours.records {
            assert_eq!(
                Some(r),
                record_of(&intended, r),
                "{broken}: a record differs"
            );
        }
        assert_eq!(metadata(&ours), metadata(&intended), "{broken}");

        let Some(recovered) = libxml2_recover(&golden(broken)) else {
            return;
        };
        // libxml2 may give up on the document (then it got nothing right to keep).
        let Ok(theirs) = parse_xml(&recovered) else {
            continue;
        };
        let theirs = theirs.report;
        // Everything libxml2 gets right, we get right.
        for r in &theirs.records {
            if record_of(&intended, r) == Some(r) {
                assert_eq!(
                    record_of(&ours, r),
                    Some(r),
                    "{broken}: libxml2 recovers record {} whole, we do not",
                    r.row.source_ip
                );
            }
        }
        for ((name, theirs), (_, want)) in metadata(&theirs).iter().zip(metadata(&intended)) {
            if *theirs == want {
                let ours = metadata(&ours);
                assert!(
                    ours.iter().any(|(n, v)| n == name && *v == want),
                    "{broken}: {name}"
                );
            }
        }
        compared += 1;
    }
    assert!(compared > 0 || std::env::var("MAILWARD_REQUIRE_XMLLINT").as_deref() != Ok("1"));
}
