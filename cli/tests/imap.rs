//! `mailward report ingest imaps://… | imap://…` against a real Dovecot the tests start on
//! loopback: TLS and STARTTLS, passwords and OAuth tokens, certificates that verify and ones
//! that do not, a server restarted in the middle of a fetch, `--move-to`, and `--watch`.
//!
//! Expected counts come from the messages each test puts in the mailbox: every report has a
//! distinct id and known record counts, so "stored", "duplicates" and the summed volume are
//! known before the run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/dovecot.rs"]
mod dovecot;
#[path = "support/mail.rs"]
mod mail;
#[path = "../../store/tests/support/pg.rs"]
mod pg;
#[path = "../../store/tests/support/ports.rs"]
mod ports;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dovecot::{Config, Dovecot, GOOD_TOKEN, PASSWORD, USER};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mailward");

/// `n` report e-mails, numbered from `first`: report `i` has two records, of `i + 1` and 1
/// messages, so a mailbox of reports `first..first+n` holds a known volume.
fn reports(first: usize, n: usize) -> Vec<Vec<u8>> {
    (first..first + n)
        .map(|i| {
            let xml = mail::report(
                "imap.example",
                &format!("imap-{i}"),
                (i % 20) as u64,
                &[
                    ("192.0.2.1", i as u64 + 1, "pass", "pass"),
                    ("203.0.113.9", 1, "fail", "fail"),
                ],
            );
            mail::email(i, &mail::gz(xml.as_bytes())).into_bytes()
        })
        .collect()
}

fn volume(first: usize, n: usize) -> u64 {
    (first..first + n).map(|i| i as u64 + 2).sum()
}

const NOT_A_REPORT: &[u8] = b"From: someone@example.net\r\nTo: rua@example.com\r\nSubject: hello\r\nMessage-ID: <hello@example.net>\r\n\r\nJust saying hi.\r\n";

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mailward-cli-imap-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ingest(store: &str, source: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "--json",
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        store,
    ])
    .args(extra)
    .arg(source)
    .env_remove("MAILWARD_STORE")
    .env("MAILWARD_IMAP_PASSWORD", PASSWORD)
    .stdin(Stdio::null());
    c
}

fn run(mut c: Command) -> Output {
    c.output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: status {:?}, stdout {} / stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `report summarize --store STORE --json` (it reads a store while an ingest writes to it);
/// `Null` when it cannot be read yet.
fn summary(store: &str) -> Value {
    let out = Command::new(BIN)
        .args(["--json", "report", "summarize", "--store", store])
        .env_remove("MAILWARD_STORE")
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn summary_volume(store: &str) -> u64 {
    summary(store)["domains"][0]["volume"].as_u64().unwrap_or(0)
}

/// Reports in the store, read directly (the ingest may still be running).
fn stored_reports(db: &Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
        .unwrap_or(0)
}

fn url(d: &Dovecot, tls: bool, mailbox: &str) -> String {
    if tls {
        format!("imaps://{USER}@127.0.0.1:{}/{mailbox}", d.imaps_port)
    } else {
        format!("imap://{USER}@127.0.0.1:{}/{mailbox}", d.imap_port)
    }
}

/// Whether Dovecot keeps a maildir file with the \Seen flag (`:2,…S…`).
fn seen(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    name.split_once(":2,")
        .is_some_and(|(_, flags)| flags.contains('S'))
}

#[test]
fn imaps_and_starttls_read_every_message_and_change_nothing() {
    let Some(d) = Dovecot::start("tls", Config::default()) else {
        return;
    };
    let mut messages = reports(0, 5);
    messages.push(NOT_A_REPORT.to_vec());
    d.deliver(&messages);
    let dir = tmpdir("tls");
    let ca = d.cert();
    let ca = ca.to_str().unwrap();

    let a = format!("sqlite:{}", dir.join("a.db").display());
    let out = run(ingest(&a, &url(&d, true, "INBOX"), &["--ca", ca]));
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stderr(&out), d.log());
    let j = json(&out);
    assert_eq!(j["stored"], 5);
    assert_eq!(j["duplicates"], 0);
    assert_eq!(j["skipped"], 1);
    assert_eq!(summary_volume(&a), volume(0, 5));

    // STARTTLS on the clear-text port: the same messages.
    let b = format!("sqlite:{}", dir.join("b.db").display());
    let out = run(ingest(&b, &url(&d, false, ""), &["--ca", ca]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["stored"], 5);
    assert_eq!(summary_volume(&b), volume(0, 5));
    assert!(
        d.log().contains("TLS") || d.log().contains("secured"),
        "the STARTTLS login is not logged as secured:\n{}",
        d.log()
    );

    // A second run reads every message again: all duplicates, nothing new.
    let out = run(ingest(&a, &url(&d, true, "INBOX"), &["--ca", ca]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(
        (j["stored"].clone(), j["duplicates"].clone()),
        (0.into(), 5.into())
    );
    assert_eq!(summary_volume(&a), volume(0, 5));

    // Read with BODY.PEEK, from a read-only EXAMINE: all six still there, none marked seen.
    let files = d.files("");
    assert_eq!(files.len(), 6, "{files:?}");
    assert!(files.iter().all(|f| !seen(f)), "{files:?}");
}

#[test]
fn refusals_exit_2_with_a_clear_error() {
    let Some(d) = Dovecot::start("refuse", Config::default()) else {
        return;
    };
    d.deliver(&reports(0, 1));
    let dir = tmpdir("refuse");
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let ca = d.cert();
    let ca = ca.to_str().unwrap();

    // A wrong password.
    let mut c = ingest(&store, &url(&d, true, "INBOX"), &["--ca", ca]);
    c.env("MAILWARD_IMAP_PASSWORD", "wrong");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("refused") && e.contains("authentication") && e.contains(USER),
        "{e}"
    );
    assert!(!e.contains("wrong"), "the password leaks: {e}");

    // A password file with whitespace around the password works.
    let pw = dir.join("pw");
    std::fs::write(&pw, format!("  {PASSWORD}\n")).unwrap();
    let pw_arg = format!("--password-file={}", pw.display());
    let mut c = ingest(&store, &url(&d, true, "INBOX"), &["--ca", ca, &pw_arg]);
    c.env_remove("MAILWARD_IMAP_PASSWORD");
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["stored"], 1);

    // The server's self-signed certificate does not verify against the system roots (made
    // deterministic with SSL_CERT_FILE pointing at another certificate).
    let other = dir.join("other.pem");
    dovecot::make_certificate(&other, &dir.join("other.key"));
    let mut c = ingest(&store, &url(&d, true, "INBOX"), &[]);
    c.env("SSL_CERT_FILE", &other).env_remove("SSL_CERT_DIR");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("certificate") && e.contains("--ca"), "{e}");

    // Nor against a --ca file holding another certificate, on either port.
    for tls in [true, false] {
        let out = run(ingest(
            &store,
            &url(&d, tls, "INBOX"),
            &["--ca", other.to_str().unwrap()],
        ));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("certificate"), "{}", stderr(&out));
    }

    // A mailbox that does not exist.
    let out = run(ingest(&store, &url(&d, true, "Nope"), &["--ca", ca]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("Nope"), "{}", stderr(&out));

    // No credentials at all.
    let mut c = ingest(&store, &url(&d, true, "INBOX"), &["--ca", ca]);
    c.env_remove("MAILWARD_IMAP_PASSWORD");
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("MAILWARD_IMAP_PASSWORD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn clear_text_only_with_insecure_plaintext() {
    let Some(d) = Dovecot::start(
        "plain",
        Config {
            ssl: false,
            ..Config::default()
        },
    ) else {
        return;
    };
    d.deliver(&reports(0, 2));
    let dir = tmpdir("plain");
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let out = run(ingest(&store, &url(&d, false, "INBOX"), &[]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("STARTTLS"), "{}", stderr(&out));
    assert_eq!(stored_reports(&dir.join("s.db")), 0);

    let out = run(ingest(
        &store,
        &url(&d, false, "INBOX"),
        &["--insecure-plaintext"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["stored"], 2);
}

#[test]
fn oauth_tokens_with_xoauth2_and_oauthbearer() {
    for mechanism in ["xoauth2", "oauthbearer"] {
        let Some(d) = Dovecot::start(
            mechanism,
            Config {
                mechanisms: if mechanism == "xoauth2" {
                    "plain xoauth2"
                } else {
                    "plain oauthbearer"
                },
                oauth: true,
                ..Config::default()
            },
        ) else {
            return;
        };
        d.deliver(&reports(0, 3));
        let dir = tmpdir(mechanism);
        let store = format!("sqlite:{}", dir.join("s.db").display());
        let ca = d.cert();
        let token = dir.join("token");

        std::fs::write(&token, "expired-or-forged\n").unwrap();
        let mut c = ingest(
            &store,
            &url(&d, true, "INBOX"),
            &["--ca", ca.to_str().unwrap()],
        );
        c.arg("--oauth-token-file").arg(&token);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{mechanism}: {}", stderr(&out));
        let e = stderr(&out);
        assert!(
            e.contains(&mechanism.to_uppercase()) && e.contains("refused"),
            "{e}"
        );

        std::fs::write(&token, format!("\n {GOOD_TOKEN} \n")).unwrap();
        let mut c = ingest(
            &store,
            &url(&d, true, "INBOX"),
            &["--ca", ca.to_str().unwrap()],
        );
        c.arg("--oauth-token-file").arg(&token);
        let out = run(c);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mechanism}: {}\n{}",
            stderr(&out),
            d.log()
        );
        assert_eq!(json(&out)["stored"], 3);
        assert!(
            d.log()
                .contains(&format!("method={}", mechanism.to_uppercase())),
            "{}",
            d.log()
        );
    }
}

#[test]
fn move_to_moves_only_what_was_stored() {
    let Some(d) = Dovecot::start("move", Config::default()) else {
        return;
    };
    let mut messages = reports(0, 4);
    messages.push(NOT_A_REPORT.to_vec());
    d.deliver(&messages);
    let dir = tmpdir("move");
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let ca = d.cert();
    let out = run(ingest(
        &store,
        &url(&d, true, "INBOX"),
        &["--ca", ca.to_str().unwrap(), "--move-to", "Processed/DMARC"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stderr(&out), d.log());
    assert_eq!(json(&out)["stored"], 4);
    assert_eq!(d.files("").len(), 0, "INBOX still holds {:?}", d.files(""));
    // Dovecot's Maildir++ layout names the folder `.Processed.DMARC`.
    assert_eq!(d.files("Processed.DMARC").len(), 5);

    // Nothing left to read; the moved messages are read again from their folder as duplicates.
    let out = run(ingest(
        &store,
        &url(&d, true, "INBOX"),
        &["--ca", ca.to_str().unwrap()],
    ));
    assert_eq!(json(&out)["stored"], 0);
    let out = run(ingest(
        &store,
        &url(&d, true, "Processed%2FDMARC"),
        &["--ca", ca.to_str().unwrap()],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(
        (j["stored"].clone(), j["duplicates"].clone()),
        (0.into(), 4.into())
    );
    assert_eq!(summary_volume(&store), volume(0, 4));
}

/// Dovecot is stopped while the ingest is fetching, and started again a moment later: the
/// ingest reconnects and finishes, every report stored once, none counted twice.
#[test]
fn a_server_restart_in_the_middle_of_a_fetch_loses_nothing() {
    let Some(mut d) = Dovecot::start("restart", Config::default()) else {
        return;
    };
    const N: usize = 3000;
    d.deliver(&reports(0, N));
    let dir = tmpdir("restart");
    let db = dir.join("s.db");
    let store = format!("sqlite:{}", db.display());
    let ca = d.cert();
    let mut c = ingest(
        &store,
        &url(&d, true, "INBOX"),
        &["--ca", ca.to_str().unwrap()],
    );
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until some, not all, reports are in.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut at = 0;
    while at == 0 {
        assert!(Instant::now() < deadline, "no report was stored");
        std::thread::sleep(Duration::from_millis(10));
        at = stored_reports(&db);
    }
    d.stop();
    std::thread::sleep(Duration::from_millis(1500));
    d.restart();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stderr(&out), d.log());
    assert!(
        at < N as i64,
        "the whole mailbox was read before the restart: make it larger"
    );
    let j = json(&out);
    assert_eq!(j["stored"], N as u64, "{j}");
    assert_eq!(j["duplicates"], 0, "{j}");
    assert_eq!(stored_reports(&db), N as i64);
    assert_eq!(summary_volume(&store), volume(0, N));
    eprintln!("restarted after {at} of {N} reports");
}

/// `--watch` reads the mailbox, then waits in IDLE (renewed every 2 s here), picks up a
/// message appended meanwhile, and ends cleanly on SIGTERM; on SQLite and on PostgreSQL (whose
/// connection must keep working while the ingest waits for mail).
#[test]
fn watch_picks_up_new_mail_and_stops_on_sigterm() {
    let dir = tmpdir("watch");
    let mut stores = vec![format!("sqlite:{}", dir.join("s.db").display())];
    let cluster = pg::PgCluster::start();
    if let Some(c) = &cluster {
        stores.push(c.create_database("imap_watch"));
    }
    for (i, store) in stores.iter().enumerate() {
        let Some(d) = Dovecot::start(&format!("watch{i}"), Config::default()) else {
            return;
        };
        watch_once(&d, store);
    }
}

fn watch_once(d: &Dovecot, store: &str) {
    d.deliver(&reports(0, 2));
    let ca = d.cert();
    let mut c = ingest(
        store,
        &url(d, true, "INBOX"),
        &[
            "--ca",
            ca.to_str().unwrap(),
            "--watch",
            "--idle-renew",
            "2",
            "--move-to",
            "Done",
        ],
    );
    let mut child: Child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Waits for `done`; an ingest that ended early (a refused connection, say), or one still
    // running at the deadline, is shown with its error output and the server's log.
    let mut watching = |done: &dyn Fn() -> bool, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        let ended = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break format!("ended ({status})");
            }
            if done() {
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break "still running after 60 s".to_owned();
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        panic!(
            "{store}: waiting for {what}, the ingest {ended}:\n{err}\n{}",
            d.log()
        );
    };
    watching(&|| reports_in(store) == 2, "the first two reports");
    // Let at least one IDLE renewal pass before the new message comes.
    std::thread::sleep(Duration::from_millis(2500));
    d.append(&reports(2, 1)[0]);
    watching(&|| reports_in(store) == 3, "the appended report");
    watching(
        &|| d.files("Done").len() == 3,
        "the appended report to be moved",
    );
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{store}: {}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["stored"], 3, "{store}: {j}");
    assert_eq!(d.files("").len(), 0);
    assert_eq!(summary_volume(store), volume(0, 3));
}

/// Reports in a store, through `report summarize --json` (the ingest may still be running).
fn reports_in(store: &str) -> u64 {
    summary(store)["reports"].as_u64().unwrap_or(0)
}
