//! `mailward dmarc DOMAIN` end to end over zone files: where the policy was found, the
//! Organizational Domain, the tag applied, warnings, PSL mode, exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn zone(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailward-dmarc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("$TTL 300\n{text}")).unwrap();
    path
}

fn run(zone: &PathBuf, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .arg("--zone")
        .arg(zone)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn json(zone: &PathBuf, args: &[&str]) -> (i32, Value) {
    let mut a = vec!["--json", "dmarc"];
    a.extend_from_slice(args);
    let (code, out) = run(zone, &a);
    (code, serde_json::from_str(&out).unwrap())
}

const CORP: &str = "
_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; sp=quarantine; np=none; pct=20; x=1; rua=mailto:agg@example.com,mailto:agg@reports.example.net\"
mail.example.com. IN A 192.0.2.1
_dmarc.dept.example.com. IN TXT \"v=DMARC1; p=none; psd=n\"
example.com._report._dmarc.reports.example.net. IN TXT \"v=DMARC1\"
";

#[test]
fn organizational_domain_record_for_a_subdomain() {
    let z = zone("corp.zone", CORP);
    let (code, j) = json(&z, &["mail.example.com"]);
    assert_eq!(code, 0);
    assert_eq!(j["status"], "found");
    assert_eq!(j["policy_domain"], "example.com");
    assert_eq!(j["record_location"], "organizational_domain");
    assert_eq!(j["organizational_domain"], "example.com");
    assert_eq!(j["policy"], "sp");
    assert_eq!(j["requested_policy"], "quarantine");
    assert_eq!(j["effective_policy"], "quarantine");
    assert_eq!(j["walk"].as_array().unwrap().len(), 3);
    let warnings: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(warnings.iter().any(|w| w.contains("pct")), "{warnings:?}");
    assert!(
        warnings.iter().any(|w| w.contains("unknown tag x")),
        "{warnings:?}"
    );
    // The external rua destination is authorized by reports.example.net.
    assert_eq!(
        j["report_destinations"][1]["status"]["status"],
        "authorized"
    );
}

#[test]
fn nonexistent_subdomain_gets_np() {
    let z = zone("corp-np.zone", CORP);
    let (_, j) = json(&z, &["ghost.example.com"]);
    assert_eq!(j["policy"], "np");
    let (_, j) = json(&z, &["someone@Ghost.Example.com"]);
    assert_eq!(j["domain"], "ghost.example.com");
    assert_eq!(j["policy"], "np");
    assert_eq!(j["requested_policy"], "none");
    assert_eq!(j["domain_exists"], false);
}

#[test]
fn own_record_and_psd_n() {
    let z = zone("corp-own.zone", CORP);
    let (_, j) = json(&z, &["example.com"]);
    assert_eq!(j["policy"], "p");
    assert_eq!(j["record_location"], "author_domain");
    let (_, j) = json(&z, &["a.b.dept.example.com"]);
    assert_eq!(j["organizational_domain"], "dept.example.com");
    assert_eq!(j["policy_domain"], "dept.example.com");
    assert_eq!(j["requested_policy"], "none");
}

#[test]
fn psl_mode() {
    let z = zone(
        "psl.zone",
        "_dmarc.example.co.uk. IN TXT \"v=DMARC1; p=quarantine; t=y\"\n\
         _dmarc.mail.example.co.uk. IN TXT \"v=DMARC1; p=none; rua=mailto:a@example.co.uk; pct=abc\"\n",
    );
    let (_, j) = json(&z, &["--psl", "x.y.example.co.uk"]);
    assert_eq!(j["mode"], "public_suffix_list");
    assert_eq!(j["organizational_domain"], "example.co.uk");
    assert_eq!(j["policy"], "p");
    assert_eq!(
        j["effective_policy"], "quarantine",
        "t is not an RFC 7489 tag"
    );
    let (_, j) = json(&z, &["x.y.example.co.uk"]);
    assert_eq!(j["mode"], "tree_walk");
    assert_eq!(j["effective_policy"], "none", "t=y");
}

/// Every discovery outcome is an answer, not a failure of the command: exit 0 (2 is kept for
/// usage errors). "No record" is a normal RFC 9989 §4.10.1 outcome ("Mail Receivers MUST NOT
/// apply the DMARC mechanism").
#[test]
fn no_record_exits_0() {
    let z = zone("none.zone", "example.org. IN A 192.0.2.1\n");
    let (code, j) = json(&z, &["example.org"]);
    assert_eq!(code, 0);
    assert_eq!(j["status"], "no_record");
    assert!(j["policy"].is_null());
    let (code, text) = run(&z, &["dmarc", "example.org"]);
    assert_eq!(code, 0);
    assert!(text.contains("no DMARC policy record"), "{text}");
}

/// §4.10.1: no valid p and no rua: "the Mail Receiver applies no DMARC processing"; several
/// records at one name in PSL mode (RFC 7489 §6.6.3): no policy either. Both exit 0.
#[test]
fn unusable_and_multiple_records_exit_0() {
    let z = zone(
        "u0.zone",
        "_dmarc.example.org. IN TXT \"v=DMARC1; p=bogus\"\n\
         _dmarc.example.net. IN TXT \"v=DMARC1; p=none\"\n\
         _dmarc.example.net. IN TXT \"v=DMARC1; p=reject\"\n",
    );
    let (code, j) = json(&z, &["example.org"]);
    assert_eq!(code, 0);
    assert_eq!(j["status"], "unusable");
    let (code, j) = json(&z, &["--psl", "example.net"]);
    assert_eq!(code, 0);
    assert_eq!(j["status"], "multiple_records");
}

#[test]
fn dns_error_is_temperror() {
    let z = zone("t.zone", CORP);
    let out = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .arg("--zone")
        .arg(&z)
        .args([
            "--dns-servfail",
            "_dmarc.com",
            "--json",
            "dmarc",
            "mail.example.com",
        ])
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    // A DNS error is reported in the output (status temperror), not as a failing command.
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(j["status"], "temperror");
}

#[test]
fn text_output_explains() {
    let z = zone("text.zone", CORP);
    let (code, out) = run(&z, &["dmarc", "mail.example.com"]);
    assert_eq!(code, 0);
    for part in [
        "organizational domain: example.com",
        "record at _dmarc.example.com",
        "policy: sp=quarantine",
        "_dmarc.mail.example.com  NXDOMAIN",
    ] {
        assert!(out.contains(part), "{part:?} in {out}");
    }
}

#[test]
fn invalid_domain_is_a_usage_error() {
    let z = zone("u.zone", CORP);
    let (code, _) = run(&z, &["dmarc", "bad..name"]);
    assert_eq!(code, 2);
}
