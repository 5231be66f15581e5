//! Interoperability of `mailward dkim sign|verify` with dkimpy, both ways.
//!
//! For every message in [`messages`] (written to be hard: folding, whitespace runs, duplicate
//! fields, long lines, empty body, trailing blank and whitespace-only lines, no final newline,
//! 8-bit body, LF-only input), each algorithm (rsa-sha256, ed25519-sha256) and each of the four
//! canonicalization pairs:
//! - the message signed by `mailward dkim sign` must verify in dkimpy;
//! - the message signed by dkimpy must verify with `mailward dkim verify`.
//!
//! dkimpy (PyPI `dkimpy`, Ed25519 through `pynacl`) runs as one batch through
//! `dkim/tests/interop/dkimpy_peer.py`; keys reach it through its `dnsfunc` hook and reach
//! Mailward through `--zone`, so no DNS is used. Without python3/dkimpy the test is skipped,
//! unless `MAILWARD_REQUIRE_PEERS=1` (CI), where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mailward_dkim::{SigningKey, key_record_text, master_file_entry};

#[path = "support/hard_messages.rs"]
mod hard_messages;

const BIN: &str = env!("CARGO_BIN_EXE_mailward");
const DOMAIN: &str = "interop.example";
const ALGORITHMS: [(&str, &str, &str); 2] = [
    ("rsa-sha256", "rsa", "interop_rsa2048.pem"),
    ("ed25519-sha256", "ed", "interop_ed25519.seed"),
];
const CANONS: [&str; 4] = [
    "simple/simple",
    "simple/relaxed",
    "relaxed/simple",
    "relaxed/relaxed",
];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dkim/tests/data")
}

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dkim/tests/interop/dkimpy_peer.py")
}

fn peers_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import dkim, nacl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("MAILWARD_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("MAILWARD_REQUIRE_PEERS=1 but python3 with dkimpy and pynacl is not available");
        }
        eprintln!(
            "skipping: python3 with dkimpy + pynacl not found (set MAILWARD_REQUIRE_PEERS=1 to fail)"
        );
    }
    ok
}

/// The hard messages, CRLF unless the name says LF.
fn messages() -> Vec<(&'static str, Vec<u8>)> {
    hard_messages::hard_messages()
}

struct Setup {
    dir: PathBuf,
    zone: PathBuf,
    records: Vec<(String, String)>,
}

fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!(
        "mailward-dkim-interop-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut zone = format!(
        "$ORIGIN {DOMAIN}.\n$TTL 300\n@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 7200 3600 1209600 300\n"
    );
    let mut records = Vec::new();
    for (_, sel, key_file) in ALGORITHMS {
        let key =
            SigningKey::from_bytes(&std::fs::read(data_dir().join(key_file)).unwrap()).unwrap();
        let record = key_record_text(&key).unwrap();
        zone.push_str(&master_file_entry(sel, &DOMAIN.parse().unwrap(), &record).unwrap());
        records.push((format!("{sel}._domainkey.{DOMAIN}"), record));
    }
    let zone_path = dir.join("interop.zone");
    std::fs::write(&zone_path, zone).unwrap();
    Setup {
        dir,
        zone: zone_path,
        records,
    }
}

fn run_peer(setup: &Setup, jobs: serde_json::Value) -> serde_json::Value {
    let jobs_path = setup.dir.join("jobs.json");
    std::fs::write(&jobs_path, serde_json::to_vec(&jobs).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(peer_script())
        .arg(&jobs_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dkimpy peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn keys_json(setup: &Setup) -> serde_json::Value {
    serde_json::Value::Object(
        setup
            .records
            .iter()
            .map(|(n, r)| (n.clone(), serde_json::Value::String(r.clone())))
            .collect(),
    )
}

#[test]
fn mailward_signs_dkimpy_verifies() {
    if !peers_available() {
        return;
    }
    let setup = setup("mw-sign");
    let mut verify_jobs = Vec::new();
    for (name, msg) in messages() {
        let input = setup.dir.join(format!("{name}.eml"));
        std::fs::write(&input, &msg).unwrap();
        for (alg, sel, key_file) in ALGORITHMS {
            for canon in CANONS {
                let id = format!("{name}/{alg}/{canon}");
                let out = Command::new(BIN)
                    .args([
                        "dkim",
                        "sign",
                        "--domain",
                        DOMAIN,
                        "--selector",
                        sel,
                        "--algorithm",
                        alg,
                    ])
                    .arg("--key")
                    .arg(data_dir().join(key_file))
                    .args(["--canonicalization", canon])
                    .arg(&input)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{id}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                // The signed output keeps the input's line endings.
                let lf_input = !msg.windows(2).any(|w| w == b"\r\n");
                assert_eq!(
                    lf_input,
                    !out.stdout.windows(2).any(|w| w == b"\r\n"),
                    "{id}: line endings"
                );
                assert!(out.stdout.ends_with(&msg), "{id}: message changed");
                let signed = setup.dir.join(format!("{}.mw.eml", id.replace('/', "_")));
                std::fs::write(&signed, &out.stdout).unwrap();
                verify_jobs.push(serde_json::json!({ "id": id, "path": signed }));
            }
        }
    }
    let result = run_peer(
        &setup,
        serde_json::json!({ "keys": keys_json(&setup), "verify": verify_jobs }),
    );
    let verdicts = result["verify"].as_object().unwrap();
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|(_, v)| v["pass"] != true)
        .map(|(k, v)| format!("{k}: {}", v["error"]))
        .collect();
    assert_eq!(verdicts.len(), messages().len() * 8);
    assert!(
        failed.is_empty(),
        "dkimpy rejected Mailward signatures:\n{}",
        failed.join("\n")
    );
    let _ = std::fs::remove_dir_all(&setup.dir);
}

#[test]
fn dkimpy_signs_mailward_verifies() {
    if !peers_available() {
        return;
    }
    let setup = setup("py-sign");
    let mut sign_jobs = Vec::new();
    let mut expected = Vec::new();
    for (name, msg) in messages() {
        let input = setup.dir.join(format!("{name}.eml"));
        std::fs::write(&input, &msg).unwrap();
        let lf = !msg.windows(2).any(|w| w == b"\r\n");
        for (alg, sel, key_file) in ALGORITHMS {
            for canon in CANONS {
                let id = format!("{name}/{alg}/{canon}");
                let out = setup.dir.join(format!("{}.py.eml", id.replace('/', "_")));
                sign_jobs.push(serde_json::json!({
                    "id": id, "path": input, "out": out, "key": data_dir().join(key_file),
                    "domain": DOMAIN, "selector": sel, "algorithm": alg, "canonicalization": canon,
                    "linesep": if lf { "\n" } else { "\r\n" },
                }));
                expected.push((id, out));
            }
        }
    }
    let result = run_peer(
        &setup,
        serde_json::json!({ "keys": keys_json(&setup), "sign": sign_jobs }),
    );
    let mut failed = Vec::new();
    for (id, path) in expected {
        let signed = &result["sign"][&id];
        assert_eq!(
            signed["ok"], true,
            "dkimpy could not sign {id}: {}",
            signed["error"]
        );
        let out = Command::new(BIN)
            .arg("--zone")
            .arg(&setup.zone)
            .args(["--json", "dkim", "verify"])
            .arg(&path)
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let v: serde_json::Value =
            serde_json::from_str(line.lines().next().unwrap_or("{}")).unwrap();
        if v["result"] != "pass" || !out.status.success() {
            failed.push(format!(
                "{id}: {line}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "Mailward rejected dkimpy signatures:\n{}",
        failed.join("\n")
    );
    let _ = std::fs::remove_dir_all(&setup.dir);
}
