//! Golden tests: every input under `tests/data/golden/` is parsed and its normalised JSON
//! compared with `<input>.json` (written by hand through `make.py`, see there). On a mismatch
//! the actual output is written to `<input>.failed` and the test fails listing every mismatch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

fn normalise(input: &[u8]) -> Value {
    match mailward_reports::parse(input) {
        Ok(reports) => json!({ "reports": reports }),
        Err(e) => json!({ "error": e.kind() }),
    }
}

#[test]
fn golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".json") && !n.ends_with(".failed") && !n.ends_with(".py"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "golden inputs missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let input = fs::read(dir.join(name)).unwrap();
        let expected_path = dir.join(format!("{name}.json"));
        let expected: Value = serde_json::from_slice(
            &fs::read(&expected_path).unwrap_or_else(|_| panic!("{name}: no expected JSON")),
        )
        .unwrap();
        let actual = normalise(&input);
        let failed = dir.join(format!("{name}.failed"));
        if actual == expected {
            let _ = fs::remove_file(&failed);
        } else {
            fs::write(&failed, serde_json::to_string_pretty(&actual).unwrap()).unwrap();
            failures.push(name.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (see tests/data/golden/<name>.failed): {failures:?}"
    );
}

/// Every defect class the aggregate reader reports appears in at least one golden expectation
/// (except the ones that need limits to trigger, tested in `limits.rs`).
#[test]
fn every_defect_class_has_a_golden_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let mut all = String::new();
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            all.push_str(&fs::read_to_string(p).unwrap());
        }
    }
    use mailward_reports::DefectKind;
    // Classes only the failure report and TLS report readers record have their cases in
    // tests/arf.rs and tests/tls.rs.
    let elsewhere = [
        DefectKind::DefectsTruncated,
        DefectKind::UnparsableValue,
        DefectKind::MislabelledPart,
        DefectKind::ObsoleteSyntax,
        DefectKind::NumberAsString,
        DefectKind::JsonTypeMismatch,
    ];
    for kind in DefectKind::ALL {
        if elsewhere.contains(kind) {
            continue;
        }
        let name = serde_json::to_value(kind).unwrap();
        let needle = format!("\"kind\": {name}");
        assert!(all.contains(&needle), "no golden case for defect {name}");
    }
}
