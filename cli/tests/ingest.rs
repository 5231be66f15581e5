//! `mailward report ingest | summarize --store | prune | export | enrich`, end to end through
//! the binary: sources, counts, exit codes, resumability after SIGKILL, two processes on one
//! PostgreSQL database, a locked and a full store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/mail.rs"]
mod mail;
#[path = "../../store/tests/support/pg.rs"]
mod pg;
#[path = "../../store/tests/support/ports.rs"]
mod ports;

use mail::{D0, DAY, email, gz, report};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mailward");

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mailward-cli-ingest-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("MAILWARD_STORE")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const BOUNCE: &str = "From: MAILER-DAEMON@example.net\nTo: rua@example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce@example.net>\n\nThis is the mail system. Your message could not be delivered.\n";

/// A directory of inputs: 2 reports (xml, gz), one copy of the first inside an e-mail,
/// a bounce, a text file, and a broken gzip.
fn mixed_dir(dir: &Path) {
    let a = report(
        "a.example",
        "1",
        0,
        &[
            ("192.0.2.1", 60, "pass", "pass"),
            ("203.0.113.5", 15, "fail", "fail"),
        ],
    );
    let b = report(
        "b.example",
        "7",
        1,
        &[
            ("192.0.2.1", 20, "pass", "fail"),
            ("198.51.100.3", 5, "fail", "fail"),
        ],
    );
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.xml"), &a).unwrap();
    std::fs::write(dir.join("sub/b.xml.gz"), gz(b.as_bytes())).unwrap();
    std::fs::write(dir.join("sub/copy-of-a.eml"), email(1, &gz(a.as_bytes()))).unwrap();
    std::fs::write(dir.join("bounce.eml"), BOUNCE).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a report").unwrap();
    let mut broken = gz(b.as_bytes());
    broken.truncate(broken.len() / 2);
    std::fs::write(dir.join("broken.xml.gz"), broken).unwrap();
}

#[test]
fn ingest_counts_exit_codes_and_a_second_run() {
    let dir = tmpdir("mixed");
    let inputs = dir.join("in");
    mixed_dir(&inputs);
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let args = [
        "--json",
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        inputs.to_str().unwrap(),
    ];
    let out = run(&args);
    // One input rejected (the broken gzip): exit status 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["stored"], 2);
    assert_eq!(v["duplicates"], 1);
    // The bounce and the text file are not reports.
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["rejected"].as_array().unwrap().len(), 1);
    assert!(
        v["rejected"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("broken.xml.gz")
    );
    assert!(
        v["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );

    // Again: every report is now a duplicate and nothing is stored.
    let again = json(&run(&args));
    assert_eq!(again["stored"], 0);
    assert_eq!(again["duplicates"], 3);

    // Without the broken input: exit status 0.
    std::fs::remove_file(inputs.join("broken.xml.gz")).unwrap();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));

    // The store's summary has the file mode's numbers on the same reports.
    let stored = json(&run(&["--json", "report", "summarize", "--store", &store]));
    let files = json(&run(&[
        "--json",
        "report",
        "summarize",
        inputs.to_str().unwrap(),
    ]));
    assert_eq!(stored["domains"], files["domains"]);
    assert_eq!(stored["reports"], 2);
    assert_eq!(files["reports"], 2);
    // The copy of a in the e-mail.
    assert_eq!(stored["duplicates"], 1);
    assert_eq!(files["duplicates"], 1);
    // By hand: 60+15+20+5 = 100 messages; 20 fail DMARC.
    assert_eq!(stored["domains"][0]["volume"], 100);
    assert_eq!(stored["domains"][0]["verdicts"][0]["affected"], 20);
    // The rejection stays listed in the store (it was stored when it happened).
    assert_eq!(stored["rejected"].as_array().unwrap().len(), 1);

    // A window: the first day only holds a's report (75 messages).
    let first = json(&run(&[
        "--json",
        "report",
        "summarize",
        "--store",
        &store,
        "--since",
        "2026-11-01",
        "--domain",
        "example.com",
    ]));
    assert_eq!(first["domains"][0]["volume"], 100);
    let text = run(&["report", "summarize", "--store", &store]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("p=quarantine 20 of 100 messages (20.0%) would be quarantined"),
        "{text}"
    );

    // Usage and store errors: exit status 2.
    assert_eq!(
        run(&["report", "ingest", "--store", "mysql://x/y", "a"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["report", "ingest", "--store", &store, "imaps://u@h/INBOX"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["report", "summarize", "--store", &store, "--days", "0"])
            .status
            .code(),
        Some(2)
    );
    // Summaries of an empty store exit 0.
    let empty = format!("sqlite:{}", dir.join("empty.db").display());
    assert_eq!(
        run(&["report", "summarize", "--store", &empty])
            .status
            .code(),
        Some(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `count` report e-mails; message i carries report i (one record of i+1 messages).
fn write_maildir(dir: &Path, count: usize) {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for i in 0..count {
        let r = report(
            "r.example",
            &format!("id-{i}"),
            (i % 20) as u64,
            &[("192.0.2.7", i as u64 + 1, "pass", "fail")],
        );
        let sub = if i % 3 == 0 { "new" } else { "cur" };
        let name = if sub == "cur" {
            format!("{i:06}.host:2,S")
        } else {
            format!("{i:06}.host")
        };
        std::fs::write(dir.join(sub).join(name), email(i, &gz(r.as_bytes()))).unwrap();
    }
}

#[test]
fn maildir_and_mbox_sources() {
    let dir = tmpdir("mailbox");
    let maildir = dir.join("Maildir");
    write_maildir(&maildir, 30);
    std::fs::write(maildir.join("cur/bounce.host:2,RS"), BOUNCE).unwrap();
    // The same 30 messages as one mbox, with a ">From " line quoted in a body.
    let mut mbox = String::new();
    for i in 0..30 {
        let r = report(
            "r.example",
            &format!("id-{i}"),
            (i % 20) as u64,
            &[("192.0.2.7", i as u64 + 1, "pass", "fail")],
        );
        mbox.push_str(&format!(
            "From dmarc@receiver.example Sun Nov  1 00:00:00 2026\n{}\n",
            email(i, &gz(r.as_bytes()))
        ));
    }
    mbox.push_str(&format!(
        "From x Sun Nov  1 00:00:00 2026\n{}\n>From the desk of nobody\n",
        BOUNCE
    ));
    std::fs::write(dir.join("reports.mbox"), mbox).unwrap();

    let store = format!("sqlite:{}", dir.join("s.db").display());
    let v = json(&run(&[
        "--json",
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        &format!("maildir:{}", maildir.display()),
    ]));
    assert_eq!(
        (v["stored"].as_u64(), v["skipped"].as_u64()),
        (Some(30), Some(1))
    );
    let v = json(&run(&[
        "--json",
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        &format!("mbox:{}", dir.join("reports.mbox").display()),
    ]));
    // The mbox carries the same reports: all duplicates, and its bounce is skipped.
    assert_eq!(
        (
            v["stored"].as_u64(),
            v["duplicates"].as_u64(),
            v["skipped"].as_u64()
        ),
        (Some(0), Some(30), Some(1))
    );
    let s = json(&run(&["--json", "report", "summarize", "--store", &store]));
    // 1 + 2 + … + 30 = 465 messages.
    assert_eq!(s["domains"][0]["volume"], 465);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Everything a store holds that ingest decides: the summary and the list of reports,
/// without the times of ingest.
fn store_state(store: &str) -> (Value, Vec<(String, i64, i64)>) {
    let s = json(&run(&["--json", "report", "summarize", "--store", store]));
    let out = run(&["report", "export", "--format", "jsonl", "--store", store]);
    let mut rows: Vec<(String, i64, i64)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["report_id"].as_str().unwrap().to_owned(),
                v["count"].as_i64().unwrap(),
                v["begin"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    (s, rows)
}

#[test]
fn killed_ingest_resumes_to_the_same_store() {
    let dir = tmpdir("kill");
    let maildir = dir.join("Maildir");
    write_maildir(&maildir, 1200);
    let source = format!("maildir:{}", maildir.display());
    let whole = format!("sqlite:{}", dir.join("whole.db").display());
    let out = run(&[
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &whole,
        &source,
    ]);
    assert_eq!(out.status.code(), Some(0));

    let killed_path = dir.join("killed.db");
    let killed = format!("sqlite:{}", killed_path.display());
    let stored_now = || {
        rusqlite::Connection::open(&killed_path)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM reports", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0)
    };
    // Kill it (SIGKILL) each time it has committed a few more reports, wherever it is then.
    for target in [100, 250, 400] {
        let mut child = Command::new(BIN)
            .args([
                "report",
                "ingest",
                "--no-enrich",
                "--store",
                &killed,
                &source,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while stored_now() < target && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let partial = json(&run(&["--json", "report", "summarize", "--store", &killed]));
    let done = partial["reports"].as_u64().unwrap();
    // Killed part-way: some reports committed, not all.
    assert!((400..1200).contains(&done), "killed runs stored {done}");
    let out = run(&[
        "--json",
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &killed,
        &source,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(
        v["stored"].as_u64().unwrap() + v["duplicates"].as_u64().unwrap(),
        1200,
        "partial run had stored {}",
        partial["reports"]
    );
    assert_eq!(store_state(&killed), store_state(&whole));
    assert_eq!(store_state(&whole).0["reports"], 1200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_processes_ingest_one_mailbox_into_one_postgres_database() {
    let Some(cluster) = pg::PgCluster::start() else {
        return;
    };
    let dir = tmpdir("pg");
    let maildir = dir.join("Maildir");
    write_maildir(&maildir, 200);
    let url = cluster.create_database("cli_race");
    let source = format!("maildir:{}", maildir.display());
    let spawn = || {
        Command::new(BIN)
            .args([
                "--json",
                "report",
                "ingest",
                "--no-enrich",
                "--store",
                &url,
                &source,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Both start on a fresh database: both migrate-or-wait, both ingest everything.
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert_eq!(
        b.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    let (a, b) = (json(&a), json(&b));
    let stored = a["stored"].as_u64().unwrap() + b["stored"].as_u64().unwrap();
    let duplicates = a["duplicates"].as_u64().unwrap() + b["duplicates"].as_u64().unwrap();
    // Each report stored by exactly one of them.
    assert_eq!((stored, duplicates), (200, 200));
    let s = json(&run(&["--json", "report", "summarize", "--store", &url]));
    assert_eq!(s["reports"], 200);
    // 1 + … + 200.
    assert_eq!(s["domains"][0]["volume"], 20_100);
    // The same bytes from two processes are one input each: no further deliveries.
    assert_eq!(s["duplicates"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_locked_store_fails_clearly_and_keeps_what_was_committed() {
    let dir = tmpdir("locked");
    let path = dir.join("s.db");
    let store = format!("sqlite:{}", path.display());
    let a = dir.join("a.xml");
    std::fs::write(
        &a,
        report("a.example", "1", 0, &[("192.0.2.1", 4, "pass", "pass")]),
    )
    .unwrap();
    let b = dir.join("b.xml");
    std::fs::write(
        &b,
        report("b.example", "2", 0, &[("192.0.2.2", 3, "pass", "pass")]),
    )
    .unwrap();
    assert_eq!(
        run(&[
            "report",
            "ingest",
            "--no-enrich",
            "--store",
            &store,
            a.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    // Another process holds the write lock.
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = run(&[
        "report",
        "ingest",
        "--no-enrich",
        "--lock-timeout",
        "1",
        "--store",
        &store,
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("locked by another process"), "{err}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let s = json(&run(&["--json", "report", "summarize", "--store", &store]));
    assert_eq!(s["reports"], 1);
    assert_eq!(s["domains"][0]["volume"], 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_disk_fails_clearly_and_keeps_what_was_committed() {
    let dir = tmpdir("full");
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    // A 1 MiB file system (root only; skipped where mounting is not allowed).
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=1m",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping: cannot mount a small tmpfs here");
        return;
    }
    let store = format!("sqlite:{}", mnt.join("s.db").display());
    let small = dir.join("small.xml");
    std::fs::write(
        &small,
        report("a.example", "1", 0, &[("192.0.2.1", 4, "pass", "pass")]),
    )
    .unwrap();
    assert_eq!(
        run(&[
            "report",
            "ingest",
            "--no-enrich",
            "--store",
            &store,
            small.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    // 20 000 records do not fit in what is left.
    let records: Vec<(String, u64)> = (0..20_000u32)
        .map(|i| (format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255), 1))
        .collect();
    let recs: Vec<(&str, u64, &str, &str)> = records
        .iter()
        .map(|(ip, n)| (ip.as_str(), *n, "pass", "fail"))
        .collect();
    let big = dir.join("big.xml");
    std::fs::write(&big, report("b.example", "2", 0, &recs)).unwrap();
    let out = run(&[
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        big.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let s = json(&run(&["--json", "report", "summarize", "--store", &store]));
    let _ = Command::new("umount").arg(&mnt).status();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("full"), "{err}");
    assert_eq!(s["reports"], 1);
    assert_eq!(s["domains"][0]["volume"], 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn prune_export_and_enrich_through_a_zone() {
    let dir = tmpdir("prune");
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let old = dir.join("old.xml");
    // A report of 2001: older than any --older-than below.
    std::fs::write(
        &old,
        report("a.example", "1", 0, &[("192.0.2.1", 4, "pass", "pass")])
            .replace(&D0.to_string(), "978307200")
            .replace(&(D0 + DAY - 1).to_string(), "978393599"),
    )
    .unwrap();
    let new = dir.join("new.xml");
    std::fs::write(
        &new,
        report("b.example", "2", 0, &[("192.0.2.2", 3, "pass", "pass")]),
    )
    .unwrap();
    for f in [&old, &new] {
        assert_eq!(
            run(&[
                "report",
                "ingest",
                "--no-enrich",
                "--store",
                &store,
                f.to_str().unwrap()
            ])
            .status
            .code(),
            Some(0)
        );
    }
    let csv = run(&["report", "export", "--format", "csv", "--store", &store]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let out = run(&["report", "prune", "--older-than", "3650", "--store", &store]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("removed 1 reports"));
    let s = json(&run(&["--json", "report", "summarize", "--store", &store]));
    assert_eq!(s["reports"], 1);

    let zone = dir.join("ptr.zone");
    std::fs::write(
        &zone,
        "$TTL 3600\n2.2.0.192.in-addr.arpa. IN PTR o1.outbound.sendgrid.net.\no1.outbound.sendgrid.net. IN A 192.0.2.2\n",
    )
    .unwrap();
    let out = run(&[
        "--json",
        "--zone",
        zone.to_str().unwrap(),
        "report",
        "enrich",
        "--store",
        &store,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    // Only the remaining report's address is looked up (the pruned report's went with it,
    // before enrichment discovered it), and it verifies.
    assert_eq!(v["looked_up"], 1);
    assert_eq!(v["verified"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The RFC 8460 Appendix B report, by hand: one `sts` policy for company-y.example with 5 326
/// successful and 303 failed sessions (5 629 in all, 5.4 % failed), and failure details of
/// 200 `starttls-not-supported` at mx2, 100 `certificate-expired` at mx1 and 3
/// `validation-failure` at mx-backup.
const APPENDIX_B: &str = include_str!("../../reports/tests/data/rfc8460_appendix_b.json");

#[test]
fn tls_reports_are_stored_once_and_summarized() {
    use mailward_reports::tls::{self, TlsReportEmail};

    let dir = tmpdir("tls");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(inputs.join("company-y.example.json"), APPENDIX_B).unwrap();
    let report = tls::parse_json(APPENDIX_B.as_bytes()).unwrap().report;
    let mail = tls::to_email(
        &report,
        &TlsReportEmail {
            from: "tlsrpt@mail.company-x.example".into(),
            to: "tls-reports@company-y.example".into(),
            submitter: "mail.company-x.example".into(),
            date: "Sat, 02 Apr 2016 01:00:00 +0000".into(),
            message_id: "tls-1@mail.company-x.example".into(),
            unique_id: None,
            gzip: true,
        },
    );
    std::fs::write(inputs.join("tls.eml"), mail).unwrap();
    std::fs::write(
        inputs.join("a.xml"),
        report_xml_of_day0("a.example", "1", 10),
    )
    .unwrap();
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let ingest = [
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        inputs.to_str().unwrap(),
    ];
    let mut json_ingest = vec!["--json"];
    json_ingest.extend_from_slice(&ingest);
    let out = run(&json_ingest);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    // The two copies of the TLS report are one report and a duplicate.
    assert_eq!(
        (
            &v["stored"],
            &v["duplicates"],
            &v["tls_stored"],
            &v["tls_duplicates"],
            &v["skipped"]
        ),
        (
            &Value::from(1),
            &Value::from(0),
            &Value::from(1),
            &Value::from(1),
            &Value::from(0)
        ),
        "{v}"
    );
    let text = String::from_utf8(run(&ingest).stdout).unwrap();
    assert!(
        text.contains("3 messages: 0 stored, 1 duplicates, 0 TLS reports stored, 2 TLS duplicates, 0 skipped, 0 rejected"),
        "{text}"
    );

    // The store's summary: the TLS member has the example's numbers, as the file mode has
    // them for one copy.
    let s = json(&run(&["--json", "report", "summarize", "--store", &store]));
    let t = &s["tls"];
    assert_eq!(t["reports"], 1, "{s}");
    assert_eq!(t["successful_sessions"], 5326);
    assert_eq!(t["failed_sessions"], 303);
    let d = &t["domains"]["company-y.example"];
    assert_eq!(
        (
            &d["policies"],
            &d["successful_sessions"],
            &d["failed_sessions"]
        ),
        (&Value::from(1), &Value::from(5326), &Value::from(303))
    );
    assert_eq!(d["policy_types"], serde_json::json!(["sts"]));
    assert_eq!(
        t["failures"],
        serde_json::json!({
            "certificate-expired": {"mx1.mail.company-y.example": 100},
            "starttls-not-supported": {"mx2.mail.company-y.example": 200},
            "validation-failure": {"mx-backup.mail.company-y.example": 3},
        })
    );
    let file_mode = json(&run(&[
        "--json",
        "report",
        "summarize",
        inputs.join("company-y.example.json").to_str().unwrap(),
    ]));
    assert_eq!(s["tls"], file_mode["tls"]);
    // The aggregate report is there as before, and three inputs delivered the reports.
    assert_eq!(s["reports"], 1);
    assert_eq!(s["files"], 3);
    assert_eq!(s["domains"][0]["volume"], 10);

    let text = String::from_utf8(run(&["report", "summarize", "--store", &store]).stdout).unwrap();
    assert!(
        text.contains("SMTP TLS (1 reports): 5629 sessions, 303 failed (5.4%)"),
        "{text}"
    );
    let line = |needles: &[&str]| text.lines().any(|l| needles.iter().all(|n| l.contains(n)));
    assert!(
        line(&["company-y.example", "5629", "303", "5.4%", "sts"]),
        "{text}"
    );
    assert!(
        line(&[
            "200",
            "starttls-not-supported",
            "mx2.mail.company-y.example"
        ]),
        "{text}"
    );
    assert!(
        line(&[
            "3",
            "validation-failure",
            "mx-backup.mail.company-y.example"
        ]),
        "{text}"
    );

    // A window without it (the report is of 2016-04-01), and the domain filter.
    let later = json(&run(&[
        "--json",
        "report",
        "summarize",
        "--store",
        &store,
        "--since",
        "2016-04-02",
    ]));
    assert!(later.get("tls").is_none(), "{later}");
    assert_eq!(later["reports"], 1);
    let text = String::from_utf8(
        run(&[
            "report",
            "summarize",
            "--store",
            &store,
            "--since",
            "2016-04-02",
        ])
        .stdout,
    )
    .unwrap();
    assert!(!text.contains("SMTP TLS"), "{text}");
    let one = json(&run(&[
        "--json",
        "report",
        "summarize",
        "--store",
        &store,
        "--domain",
        "company-y.example",
    ]));
    assert_eq!(one["tls"]["successful_sessions"], 5326);
    assert_eq!(one["domains"].as_array().unwrap().len(), 0);

    // Pruning reports that ended more than 2 000 days ago takes the TLS report of 2016, not
    // the aggregate report of 2026.
    let out = run(&["report", "prune", "--older-than", "2000", "--store", &store]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("removed 1 reports"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let s = json(&run(&["--json", "report", "summarize", "--store", &store]));
    assert!(s.get("tls").is_none(), "{s}");
    assert_eq!(s["reports"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An aggregate report of one record of `count` passing messages on 2026-11-01.
fn report_xml_of_day0(org: &str, id: &str, count: u64) -> String {
    report(org, id, 0, &[("192.0.2.1", count, "pass", "pass")])
}
