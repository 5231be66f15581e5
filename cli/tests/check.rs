//! `mailward check` end to end on `examples/check/` (messages signed by dkimpy, an independent
//! implementation) and on variants of them. Expected results follow from the zone file and
//! RFC 9989: see `examples/check/README.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/check")
        .join(name)
        .display()
        .to_string()
}

fn temp_file(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailward-check-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Runs `mailward --zone ZONE [extra] check MESSAGE --ip .. --helo .. --mail-from ..`.
fn check(zone: &str, message: &str, smtp: [&str; 3], extra: &[&str]) -> (i32, String) {
    let mut args = vec!["--zone", zone];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "check",
        message,
        "--ip",
        smtp[0],
        "--helo",
        smtp[1],
        "--mail-from",
        smtp[2],
        "--now",
        "1800000000",
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.is_empty(), "stderr: {stderr}");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn check_json(zone: &str, message: &str, smtp: [&str; 3], extra: &[&str]) -> Value {
    let mut extra = extra.to_vec();
    extra.push("--json");
    let (code, out) = check(zone, message, smtp, &extra);
    assert_eq!(code, 0, "exit code 0 for any authentication result");
    serde_json::from_str(&out).unwrap()
}

const OWN: [&str; 3] = [
    "192.0.2.25",
    "mail.example.org",
    "bounces@bounce.example.org",
];
const BULK: [&str; 3] = ["203.0.113.7", "bulk.example.net", "campaign@example.net"];

#[test]
fn pass_example() {
    let zone = example("check.zone");
    let j = check_json(&zone, &example("pass.eml"), OWN, &[]);
    assert_eq!(j["spf"]["result"], "pass");
    assert_eq!(j["spf"]["domain"], "bounce.example.org");
    assert_eq!(j["dkim"][0]["result"], "pass");
    assert_eq!(j["dkim"][0]["domain"], "example.org");
    let d = &j["dmarc"];
    assert_eq!(d["result"], "pass");
    assert_eq!(d["disposition"], "pass");
    assert_eq!(d["policy"], "p");
    assert_eq!(d["requested_policy"], "reject");
    assert_eq!(d["author_domain"], "example.org");
    assert_eq!(d["policy_domain"], "example.org");
    assert_eq!(d["alignment"]["spf"]["aligned"], true);
    assert_eq!(d["alignment"]["spf"]["status"], "relaxed");
    assert_eq!(d["alignment"]["dkim"][0]["aligned"], true);
    assert_eq!(d["alignment"]["dkim"][0]["status"], "strict");
    assert_eq!(d["spf"]["organizational_domain"], "example.org");
    let ar = j["authentication_results"].as_str().unwrap();
    assert!(ar.contains("dmarc=pass"), "{ar}");
    assert!(ar.contains("header.from=example.org"), "{ar}");
    assert!(ar.contains("policy.dmarc=reject"), "{ar}");
    assert!(
        j["received_spf"]
            .as_str()
            .unwrap()
            .starts_with("Received-SPF: pass")
    );
}

#[test]
fn pass_example_text() {
    let (code, out) = check(&example("check.zone"), &example("pass.eml"), OWN, &[]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Authentication-Results: mailward;"),
        "{out}"
    );
    for part in ["spf=pass", "dkim=pass", "dmarc=pass", "Received-SPF: pass"] {
        assert!(out.contains(part), "{part} in {out}");
    }
}

#[test]
fn unaligned_example() {
    let j = check_json(&example("check.zone"), &example("unaligned.eml"), BULK, &[]);
    assert_eq!(j["spf"]["result"], "pass");
    assert_eq!(j["dkim"][0]["result"], "pass");
    let d = &j["dmarc"];
    assert_eq!(d["result"], "fail");
    assert_eq!(d["disposition"], "reject");
    assert_eq!(d["policy"], "p");
    assert_eq!(d["alignment"]["spf"]["aligned"], false);
    assert_eq!(d["alignment"]["spf"]["status"], "not_aligned");
    assert_eq!(d["alignment"]["dkim"][0]["aligned"], false);
    // No common label with example.org: not aligned without any Tree Walk.
    assert!(d["dkim"][0]["organizational_domain"].is_null());
    // The Author Domain's own Organizational Domain is still reported: the walk from
    // example.org finds records at _dmarc.example.org only (not at _dmarc.org), and RFC 9989
    // §4.10.2 step 3 selects "the DMARC Policy Record found at the name with the fewest number
    // of labels": example.org.
    assert_eq!(d["organizational_domain"], "example.org");
    let (code, out) = check(&example("check.zone"), &example("unaligned.eml"), BULK, &[]);
    assert_eq!(code, 0);
    assert!(out.contains("dmarc=fail"), "{out}");
}

#[test]
fn broken_signature_still_passes_on_aligned_spf() {
    let raw = std::fs::read(example("pass.eml")).unwrap();
    let tampered = String::from_utf8(raw)
        .unwrap()
        .replace("usual place", "other place");
    let msg = temp_file("tampered.eml", tampered.as_bytes());
    let j = check_json(&example("check.zone"), msg.to_str().unwrap(), OWN, &[]);
    assert_eq!(j["dkim"][0]["result"], "fail");
    assert_eq!(
        j["dmarc"]["alignment"]["dkim"][0]["status"],
        "not_authenticated"
    );
    assert_eq!(j["dmarc"]["result"], "pass");
    // From another IP, SPF fails too: DMARC fails with p=reject.
    let j = check_json(
        &example("check.zone"),
        msg.to_str().unwrap(),
        [
            "198.51.100.9",
            "mail.example.org",
            "bounces@bounce.example.org",
        ],
        &[],
    );
    assert_eq!(j["spf"]["result"], "fail");
    assert_eq!(j["dmarc"]["result"], "fail");
    assert_eq!(j["dmarc"]["disposition"], "reject");
}

#[test]
fn null_reverse_path_uses_helo_for_spf() {
    // SPF checks postmaster@mail.example.org, which has no SPF record: none. DKIM still aligns.
    let j = check_json(
        &example("check.zone"),
        &example("pass.eml"),
        ["192.0.2.25", "mail.example.org", ""],
        &[],
    );
    assert_eq!(j["spf"]["result"], "none");
    assert_eq!(j["dmarc"]["result"], "pass");
}

#[test]
fn dns_timeout_gives_temperror() {
    // DKIM broken, so only the SPF identifier bounce.example.org can align; its Tree Walk times
    // out: neither pass nor fail (RFC 9989 §5.3.6).
    let raw = std::fs::read_to_string(example("pass.eml")).unwrap();
    let msg = temp_file("timeout.eml", raw.replace("usual place", "x").as_bytes());
    let j = check_json(
        &example("check.zone"),
        msg.to_str().unwrap(),
        OWN,
        &["--dns-timeout", "_dmarc.bounce.example.org"],
    );
    assert_eq!(j["spf"]["result"], "pass");
    assert_eq!(j["dmarc"]["alignment"]["spf"]["status"], "temperror");
    assert_eq!(j["dmarc"]["result"], "temperror");
    assert_eq!(j["dmarc"]["disposition"], "none");
    let ar = j["authentication_results"].as_str().unwrap();
    assert!(ar.contains("dmarc=temperror"), "{ar}");
}

#[test]
fn several_from_domains_give_permerror() {
    let raw = std::fs::read_to_string(example("pass.eml")).unwrap();
    let two = raw.replace(
        "From: Alice Example <alice@example.org>",
        "From: Alice Example <alice@example.org>, eve@example.net",
    );
    let msg = temp_file("two-from.eml", two.as_bytes());
    let j = check_json(&example("check.zone"), msg.to_str().unwrap(), OWN, &[]);
    assert_eq!(j["dmarc"]["result"], "permerror");
    assert!(j["dmarc"]["author_domain"].is_null());
}

#[test]
fn subdomain_policies_and_testing_mode() {
    let zone = temp_file(
        "sub.zone",
        b"$TTL 300
example.org. IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"
_dmarc.example.org. IN TXT \"v=DMARC1; p=reject; sp=quarantine; np=reject; t=y\"
news.example.org. IN MX 10 mail.example.org.
",
    );
    let zone = zone.to_str().unwrap();
    let msg = |from: &str| {
        temp_file(
            &format!("{from}.eml"),
            format!("From: <x@{from}>\r\nSubject: t\r\n\r\nbody\r\n").as_bytes(),
        )
    };
    let news = msg("news.example.org");
    let j = check_json(zone, news.to_str().unwrap(), BULK, &[]);
    assert_eq!(j["dmarc"]["result"], "fail");
    assert_eq!(j["dmarc"]["policy"], "sp");
    assert_eq!(j["dmarc"]["requested_policy"], "quarantine");
    assert_eq!(
        j["dmarc"]["effective_policy"], "none",
        "t=y lowers quarantine to none"
    );
    assert_eq!(j["dmarc"]["disposition"], "none");
    let ghost = msg("ghost.example.org");
    let j = check_json(zone, ghost.to_str().unwrap(), BULK, &[]);
    assert_eq!(j["dmarc"]["policy"], "np");
    // The same key as `mailward dmarc --json` (one name for one fact).
    assert_eq!(j["dmarc"]["domain_exists"], false);
    assert!(j["dmarc"].get("author_exists").is_none());
    assert_eq!(
        j["dmarc"]["disposition"], "quarantine",
        "t=y lowers reject to quarantine"
    );
}

#[test]
fn unreadable_message_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .args([
            "--zone",
            &example("check.zone"),
            "check",
            "/nonexistent/message.eml",
            "--ip",
            "192.0.2.1",
            "--helo",
            "h.example",
            "--mail-from",
            "a@example.org",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn psl_mode_samples_pct() {
    let zone = temp_file(
        "pct.zone",
        b"$TTL 300
_dmarc.example.org. IN TXT \"v=DMARC1; p=reject; pct=30\"
",
    );
    let zone = zone.to_str().unwrap();
    let msg = temp_file("pct.eml", b"From: a@example.org\r\n\r\nbody\r\n");
    let msg = msg.to_str().unwrap();
    let j = check_json(zone, msg, BULK, &[]);
    assert_eq!(
        j["dmarc"]["disposition"], "reject",
        "pct ignored in Tree Walk mode"
    );
    let mut args = vec!["--psl", "--pct-sample", "29"];
    let sampled = check_psl(zone, msg, &args);
    assert_eq!(
        sampled["dmarc"]["disposition"], "reject",
        "29 < 30: sampled"
    );
    args[2] = "30";
    let not_sampled = check_psl(zone, msg, &args);
    assert_eq!(
        not_sampled["dmarc"]["disposition"], "quarantine",
        "not sampled: one lower"
    );
    assert_eq!(not_sampled["dmarc"]["mode"], "public_suffix_list");
}

/// `check` with options placed after the subcommand (`--psl` belongs to `check`).
fn check_psl(zone: &str, message: &str, check_args: &[&str]) -> Value {
    let mut args = vec!["--zone", zone, "--json", "check", message];
    args.extend_from_slice(&["--ip", BULK[0], "--helo", BULK[1], "--mail-from", BULK[2]]);
    args.extend_from_slice(check_args);
    let out = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
