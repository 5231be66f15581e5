//! `mailward spf` end to end over `spf/tests/data/conformance.zone`: JSON keys, exit codes,
//! fault injection flags, the null reverse-path and the HELO identity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

use serde_json::Value;

const ZONE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../spf/tests/data/conformance.zone"
);

fn mailward(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailward"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn spf_json(ip: &str, sender: &str, helo: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "--zone", ZONE, "--json", "spf", "--ip", ip, "--sender", sender, "--helo", helo,
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = mailward(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn every_result_exits_zero_with_the_json_keys() {
    let cases = [
        ("192.0.2.1", "a@inc-pass.example.com", "pass"),
        ("192.0.2.9", "a@exp-basic.example.com", "fail"),
        ("192.0.2.9", "a@sel-case.example.com", "softfail"),
        ("192.0.2.2", "a@def-neutral.example.com", "neutral"),
        ("192.0.2.2", "a@nxdomain.example.com", "none"),
        ("192.0.2.2", "a@sel-two.example.com", "permerror"),
        ("192.0.2.2", "a@a-slow.example.com", "temperror"),
    ];
    for (ip, sender, want) in cases {
        let v = spf_json(
            ip,
            sender,
            "h.example.com",
            &["--dns-timeout", "slow.example.com"],
        );
        assert_eq!(v["result"], want, "{sender}");
        for key in [
            "explanation",
            "mechanism",
            "lookups",
            "void_lookups",
            "trace",
        ] {
            assert!(v.get(key).is_some(), "{key} missing for {sender}");
        }
        assert!(v["trace"].is_array());
    }
}

#[test]
fn explanation_is_null_without_exp() {
    let v = spf_json("192.0.2.9", "a@exp-basic.example.com", "h.example.com", &[]);
    assert_eq!(
        v["explanation"],
        "192.0.2.9 is not one of exp-basic.example.com's designated mail servers."
    );
    assert_eq!(v["mechanism"], "-all");
    let v = spf_json("192.0.2.9", "a@exp-nx.example.com", "h.example.com", &[]);
    assert_eq!(v["result"], "fail");
    assert!(v["explanation"].is_null());
    let v = spf_json(
        "192.0.2.2",
        "a@def-neutral.example.com",
        "h.example.com",
        &[],
    );
    assert!(v["mechanism"].is_null());
}

#[test]
fn limits_are_counted() {
    let v = spf_json("192.0.2.99", "a@lim-10.example.com", "h", &[]);
    assert_eq!(
        (v["result"].as_str(), v["lookups"].as_u64()),
        (Some("pass"), Some(10))
    );
    let v = spf_json("192.0.2.99", "a@lim-11.example.com", "h", &[]);
    assert_eq!(v["result"], "permerror");
    let v = spf_json("192.0.2.99", "a@void-3.example.com", "h", &[]);
    assert_eq!(
        (v["result"].as_str(), v["void_lookups"].as_u64()),
        (Some("permerror"), Some(3))
    );
}

#[test]
fn dns_timeout_and_servfail_flags() {
    // The zone has an A record at h1.example.com only; a TXT query there times out when marked.
    let v = spf_json(
        "192.0.2.1",
        "a@h1.example.com",
        "h",
        &["--dns-timeout", "h1.example.com"],
    );
    assert_eq!(v["result"], "temperror");
    let v = spf_json(
        "192.0.2.1",
        "a@h1.example.com",
        "h",
        &["--dns-servfail", "h1.example.com"],
    );
    assert_eq!(v["result"], "temperror");
    let v = spf_json("192.0.2.1", "a@h1.example.com", "h", &[]);
    assert_eq!(v["result"], "none");
}

#[test]
fn null_sender_and_helo_identity() {
    let v = spf_json("192.0.2.1", "", "null.example.com", &[]);
    assert_eq!(v["result"], "pass");
    assert_eq!(v["sender"], "postmaster@null.example.com");
    let (code, out, _) = mailward(&[
        "--zone",
        ZONE,
        "--json",
        "spf",
        "--ip",
        "192.0.2.60",
        "--helo",
        "helo.example.com",
        "--identity",
        "helo",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["result"].as_str(), v["identity"].as_str()),
        (Some("pass"), Some("helo"))
    );
}

#[test]
fn human_output_starts_with_the_result() {
    let (code, out, _) = mailward(&[
        "--zone",
        ZONE,
        "spf",
        "--ip",
        "192.0.2.9",
        "--sender",
        "a@exp-basic.example.com",
        "--helo",
        "h.example.com",
        "--headers",
    ]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("fail"));
    assert_eq!(
        lines.next(),
        Some(
            "explanation: 192.0.2.9 is not one of exp-basic.example.com's designated mail servers."
        )
    );
    assert_eq!(lines.next(), Some("mechanism: -all"));
    assert!(out.contains("Received-SPF: fail"));
    assert!(out.contains("spf=fail smtp.mailfrom=a@exp-basic.example.com"));
}

#[test]
fn usage_errors_exit_two() {
    for args in [
        &["spf", "--ip", "1.2.3", "--sender", "a@b.c", "--helo", "h"][..],
        &["spf", "--sender", "a@b.c", "--helo", "h"][..],
        &["--zone", ZONE, "spf", "--ip", "192.0.2.1", "--helo", "h"][..],
        &[
            "--zone",
            "/nonexistent.zone",
            "spf",
            "--ip",
            "192.0.2.1",
            "--sender",
            "",
            "--helo",
            "h",
        ][..],
    ] {
        let (code, _, _) = mailward(args);
        assert_eq!(code, 2, "{args:?}");
    }
}
