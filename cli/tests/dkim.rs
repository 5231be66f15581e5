//! `mailward dkim verify|sign|keygen` end to end.
//!
//! Verification expectations come from RFC 8463 Appendix A (checked with dkimpy) and from the
//! RFC 6376 rules cited next to each case; round trips use keys made by `keygen` itself, whose
//! records must also verify signatures (the dkimpy interop test covers third-party checks).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mailward");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dkim/tests/data")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailward-cli-dkim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn verify_rfc8463_example() {
    let zone = data("rfc8463.zone");
    let msg = data("rfc8463_a3.eml");
    let o = run(&[
        "--zone",
        zone.to_str().unwrap(),
        "dkim",
        "verify",
        msg.to_str().unwrap(),
        "--now",
        "1528637909",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with(
            "pass d=football.example.com s=brisbane a=ed25519-sha256 c=relaxed/relaxed"
        ),
        "{out}"
    );
    assert!(
        lines[1].starts_with("pass d=football.example.com s=test a=rsa-sha256 c=relaxed/relaxed"),
        "{out}"
    );

    let o = run(&[
        "--json",
        "--zone",
        zone.to_str().unwrap(),
        "dkim",
        "verify",
        msg.to_str().unwrap(),
    ]);
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["result"], "pass");
    assert_eq!(first["d"], "football.example.com");
    assert_eq!(first["s"], "brisbane");
    assert_eq!(first["algorithm"], "ed25519-sha256");
    assert_eq!(first["canonicalization"], "relaxed/relaxed");
}

#[test]
fn verify_failures_and_exit_codes() {
    let dir = tmp("fail");
    let zone = data("rfc8463.zone");
    let text = std::fs::read_to_string(data("rfc8463_a3.eml")).unwrap();
    let tampered = dir.join("tampered.eml");
    std::fs::write(&tampered, text.replace("hungry", "thirsty")).unwrap();
    let o = run(&[
        "--zone",
        zone.to_str().unwrap(),
        "dkim",
        "verify",
        tampered.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o)
            .lines()
            .all(|l| l.starts_with("fail ") && l.contains("body hash")),
        "{}",
        stdout(&o)
    );

    let unsigned = dir.join("unsigned.eml");
    std::fs::write(&unsigned, "From: a@example.com\r\n\r\nbody\r\n").unwrap();
    let o = run(&[
        "--zone",
        zone.to_str().unwrap(),
        "dkim",
        "verify",
        unsigned.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("none"));

    // No key in the zone: permerror (RFC 6376 §6.1.2 step 3, key not found).
    let empty_zone = dir.join("empty.zone");
    std::fs::write(
        &empty_zone,
        "$ORIGIN example.org.\n@ 300 IN SOA ns.example.org. h.example.org. 1 2 3 4 5\n",
    )
    .unwrap();
    let o = run(&[
        "--json",
        "--zone",
        empty_zone.to_str().unwrap(),
        "dkim",
        "verify",
        data("rfc8463_a3.eml").to_str().unwrap(),
    ]);
    let first: serde_json::Value =
        serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["result"], "permerror");
    // A timeout on the key name: temperror (RFC 6376 §6.1.2 step 3, TEMPFAIL).
    let o = run(&[
        "--json",
        "--zone",
        empty_zone.to_str().unwrap(),
        "--dns-timeout",
        "brisbane._domainkey.football.example.com",
        "dkim",
        "verify",
        data("rfc8463_a3.eml").to_str().unwrap(),
        "--now",
        "1528637909",
    ]);
    let out = stdout(&o);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["result"], "temperror", "{out}");
    assert_eq!(lines[1]["result"], "permerror", "{out}");
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keygen_sign_verify_round_trip() {
    let dir = tmp("keygen");
    for (kind, extra) in [("ed25519", vec![]), ("rsa", vec!["--bits", "1024"])] {
        let mut args = vec![
            "dkim",
            "keygen",
            "--type",
            kind,
            "--domain",
            "example.com",
            "--selector",
            kind,
            "--out",
        ];
        args.push(dir.to_str().unwrap());
        args.extend(extra);
        let o = run(&args);
        assert!(o.status.success(), "{o:?}");
        let key = dir.join(format!("{kind}.private"));
        let txt = std::fs::read_to_string(dir.join(format!("{kind}.txt"))).unwrap();
        assert!(
            txt.starts_with(&format!("{kind}._domainkey.example.com. IN TXT (")),
            "{txt}"
        );
        assert!(
            std::fs::read_to_string(&key)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        // Quoted strings are at most 255 octets (RFC 1035 §3.3).
        assert!(txt.split('"').skip(1).step_by(2).all(|s| s.len() <= 255));

        let zone = dir.join(format!("{kind}.zone"));
        std::fs::write(
            &zone,
            format!(
                "$ORIGIN example.com.\n@ 300 IN SOA ns.example.com. h.example.com. 1 2 3 4 5\n{txt}"
            ),
        )
        .unwrap();
        for (name, msg) in [
            (
                "crlf",
                "From: a@example.com\r\nTo: b@example.net\r\nSubject: x\r\n\r\nHello  there \r\n\r\n",
            ),
            (
                "lf",
                "From: a@example.com\nTo: b@example.net\nSubject: x\n\nHello  there \n\n",
            ),
        ] {
            let input = dir.join(format!("{kind}-{name}.eml"));
            std::fs::write(&input, msg).unwrap();
            let o = run(&[
                "dkim",
                "sign",
                "--key",
                key.to_str().unwrap(),
                "--domain",
                "example.com",
                "--selector",
                kind,
                "--canonicalization",
                "simple/simple",
                "--headers",
                "From:To:Subject:Subject",
                "--expire",
                "3600",
                input.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{o:?}");
            let signed = o.stdout.clone();
            assert!(signed.ends_with(msg.as_bytes()));
            let field = &signed[..signed.len() - msg.len()];
            let text = String::from_utf8(field.to_vec()).unwrap();
            assert!(
                text.contains("h=From:To:Subject:Subject;") && text.contains("x="),
                "{text}"
            );
            assert_eq!(
                name == "lf",
                !text.contains('\r'),
                "line endings kept: {text:?}"
            );
            assert!(text.lines().all(|l| l.len() < 78), "{text}");
            let out = dir.join(format!("{kind}-{name}.signed.eml"));
            std::fs::write(&out, &signed).unwrap();
            let o = run(&[
                "--zone",
                zone.to_str().unwrap(),
                "dkim",
                "verify",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{kind} {name}: {}", stdout(&o));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keygen_to_stdout_and_bad_arguments() {
    let o = run(&[
        "dkim",
        "keygen",
        "--type",
        "ed25519",
        "--domain",
        "example.com",
        "--selector",
        "s1",
    ]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("-----BEGIN PRIVATE KEY-----")
            && out.contains("s1._domainkey.example.com. IN TXT ( \"v=DKIM1; k=ed25519; p=")
    );
    let o = run(&[
        "dkim",
        "keygen",
        "--type",
        "rsa",
        "--bits",
        "512",
        "--domain",
        "example.com",
        "--selector",
        "s1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "dkim",
        "keygen",
        "--type",
        "dsa",
        "--domain",
        "example.com",
        "--selector",
        "s1",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// `dkim sign --crypto aws-lc-rs` writes the same signed message as the default RustCrypto
/// signer (RSA PKCS#1 v1.5 and Ed25519 are deterministic), and it verifies.
#[cfg(feature = "aws-lc-rs")]
#[test]
fn sign_with_aws_lc_gives_the_same_octets() {
    let dir = tmp("aws-sign");
    let msg = dir.join("m.eml");
    std::fs::write(
        &msg,
        "From: a@example.com\r\nTo: b@example.net\r\nSubject: same\r\n\r\nbody  text \r\n",
    )
    .unwrap();
    for key in ["interop_rsa2048.pem", "interop_ed25519.seed"] {
        let key = data(key);
        let sign = |crypto: &str| {
            let o = run(&[
                "dkim",
                "sign",
                "--key",
                key.to_str().unwrap(),
                "--domain",
                "example.com",
                "--selector",
                "s",
                "--now",
                "1764000000",
                "--crypto",
                crypto,
                msg.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{o:?}");
            o.stdout
        };
        let aws = sign("aws-lc-rs");
        assert!(String::from_utf8_lossy(&aws).starts_with("DKIM-Signature:"));
        assert_eq!(aws, sign("rust-crypto"), "{}", key.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
