//! The store's semantics, run the same on both backends: SQLite in a temporary file, and
//! PostgreSQL in a throwaway cluster the test starts (skipped when PostgreSQL is not
//! installed, unless MAILWARD_REQUIRE_POSTGRES is set, as in CI).
//!
//! Every expected number is worked out by hand from the reports written below.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;
#[cfg(feature = "postgres")]
#[path = "support/ports.rs"]
mod ports;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use mailward_dns::ZoneResolver;
use mailward_reports::{Limits, ReportedPolicy};
use mailward_store::enrich::{EnrichOptions, NameStatus};
use mailward_store::query::{Filter, Window};
use mailward_store::services::ServiceMap;
use mailward_store::{
    Error, ExportFormat, IngestOptions, InputKind, ReportStatus, Store, StoreUrl,
};

const DAY: u64 = 86_400;
/// 2026-11-01, day 20 758 (`date -u -d 2026-11-01 +%s` / 86 400).
const D0: u64 = 20_758 * DAY;

/// A record: (ip, count, disposition, dkim aligned, spf aligned).
type Rec<'a> = (&'a str, u64, &'a str, &'a str, &'a str);

fn report(
    org: &str,
    id: &str,
    domain: &str,
    begin: u64,
    end: u64,
    p: &str,
    records: &[Rec<'_>],
) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><version>1.0</version><report_metadata><org_name>{org}</org_name>
<email>dmarc@{org}</email><report_id>{id}</report_id><date_range><begin>{begin}</begin><end>{end}</end></date_range>
</report_metadata><policy_published><domain>{domain}</domain><p>{p}</p><sp>{p}</sp><adkim>r</adkim><aspf>r</aspf><testing>n</testing><discovery_method>treewalk</discovery_method></policy_published>"#
    );
    for (ip, count, disposition, dkim, spf) in records {
        x.push_str(&format!(
            r#"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>
<disposition>{disposition}</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>
<identifiers><header_from>{domain}</header_from><envelope_from>bounce.{domain}</envelope_from></identifiers>
<auth_results><dkim><domain>{domain}</domain><selector>s1</selector><result>{dkim}</result></dkim>
<spf><domain>bounce.{domain}</domain><scope>mfrom</scope><result>{spf}</result></spf></auth_results></record>"#
        ));
    }
    x.push_str("</feedback>\n");
    x
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn email(message_id: &str, attachment_name: &str, gz: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(gz);
    let mut body = String::new();
    for chunk in b64.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(chunk).unwrap());
        body.push_str("\r\n");
    }
    format!(
        "From: dmarc@receiver.example\r\nTo: rua@example.com\r\nSubject: Report\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nA DMARC report.\r\n--b\r\nContent-Type: application/gzip; name=\"{attachment_name}\"\r\nContent-Disposition: attachment; filename=\"{attachment_name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}--b--\r\n"
    )
    .into_bytes()
}

/// The backends to run on: a fresh SQLite file, and a fresh PostgreSQL database.
struct Backends {
    urls: Vec<StoreUrl>,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(tag: &str) -> TempDir {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("mailward-store-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

#[cfg(feature = "postgres")]
fn cluster() -> Option<&'static pg::PgCluster> {
    static CLUSTER: std::sync::OnceLock<Option<pg::PgCluster>> = std::sync::OnceLock::new();
    CLUSTER.get_or_init(pg::PgCluster::start).as_ref()
}

fn backends(tag: &str) -> Backends {
    let dir = temp_dir(tag);
    #[allow(unused_mut)]
    let mut urls = vec![StoreUrl::Sqlite(dir.0.join("store.db"))];
    #[cfg(feature = "postgres")]
    if let Some(c) = cluster() {
        urls.push(StoreUrl::Postgres(c.create_database(tag)));
    }
    Backends { urls, _dir: dir }
}

fn statuses(kind: &InputKind) -> Vec<ReportStatus> {
    match kind {
        InputKind::Reports { reports, .. } => reports.iter().map(|r| r.status).collect(),
        other => panic!("not reports: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_across_containers_and_summary_numbers() {
    for url in backends("dup").urls {
        let store = Store::open(&url).await.unwrap();
        let opts = IngestOptions::new();
        let a = report(
            "a.example",
            "r1",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[
                ("192.0.2.1", 60, "none", "pass", "pass"),
                ("203.0.113.5", 15, "none", "fail", "fail"),
            ],
        );
        let b = report(
            "b.example",
            "7",
            "example.com",
            D0 + DAY,
            D0 + 2 * DAY - 1,
            "quarantine",
            &[
                ("192.0.2.1", 20, "none", "pass", "fail"),
                ("198.51.100.3", 5, "quarantine", "fail", "fail"),
            ],
        );
        let o = store.ingest("a.xml", a.as_bytes(), &opts).await.unwrap();
        assert_eq!(statuses(&o.kind), [ReportStatus::Stored], "{url}");
        let o = store
            .ingest("b.xml.gz", &gzip(b.as_bytes()), &opts)
            .await
            .unwrap();
        assert_eq!(statuses(&o.kind), [ReportStatus::Stored]);
        // The same report a again, in an e-mail: a duplicate, not stored again.
        let mail = email("m1@receiver.example", "a.xml.gz", &gzip(a.as_bytes()));
        let o = store.ingest("maildir:x/1", &mail, &opts).await.unwrap();
        assert_eq!(statuses(&o.kind), [ReportStatus::Duplicate]);
        assert_eq!(o.message_id.as_deref(), Some("m1@receiver.example"));
        // The very same bytes read again: a duplicate again, but no new delivery.
        let o = store.ingest("maildir:x/1", &mail, &opts).await.unwrap();
        assert_eq!(statuses(&o.kind), [ReportStatus::Duplicate]);

        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.reports, 2);
        // One further distinct input (the e-mail); reading it twice counts once.
        assert_eq!(s.duplicates, 1);
        // a.xml, b.xml.gz and the e-mail.
        assert_eq!(s.files, 3);
        let d = &s.domains["example.com"];
        // Volume 60+15+20+5 = 100; DKIM aligned 80; SPF aligned 60; DMARC pass 80.
        assert_eq!(d.volume, 100);
        assert_eq!(d.dkim_aligned_pass, 80);
        assert_eq!(d.spf_aligned_pass, 60);
        assert_eq!(d.dmarc_pass, 80);
        // b's period ends later: its p wins.
        assert_eq!(d.published_p, Some(ReportedPolicy::Quarantine));
        assert_eq!(d.reporters["a.example"], 75);
        assert_eq!(d.reporters["b.example"], 25);
        let src = &d.sources[&"192.0.2.1".parse().unwrap()];
        assert_eq!(src.volume, 80);
        assert_eq!(src.reporters.len(), 2);
        let [q, _] = d.verdicts();
        assert_eq!(q.affected, 20);

        // The same numbers as the file-mode summary of the same reports.
        let mut file_mode = mailward_reports::Summary::new();
        for x in [&a, &b, &a] {
            file_mode.add(&mailward_reports::parse_xml(x.as_bytes()).unwrap().report);
        }
        let fm = &file_mode.domains["example.com"];
        assert_eq!(
            serde_json::to_value(fm).unwrap(),
            serde_json::to_value(d).unwrap()
        );
        assert_eq!(file_mode.duplicates, s.duplicates);

        // Windows: day D0 holds a only, the next day b only.
        let first = Window {
            first_day: Some(20_758),
            last_day: Some(20_758),
        };
        let s1 = store.summary(&Filter::new(first)).await.unwrap();
        assert_eq!(s1.reports, 1);
        assert_eq!(s1.domains["example.com"].volume, 75);
        assert_eq!(
            s1.domains["example.com"].published_p,
            Some(ReportedPolicy::None)
        );
        let series = store
            .daily(&Filter::new(Window {
                first_day: Some(20_757),
                last_day: Some(20_760),
            }))
            .await
            .unwrap();
        let got: Vec<(i64, u64, u64)> = series
            .iter()
            .map(|p| (p.day, p.messages, p.dmarc_fail))
            .collect();
        assert_eq!(
            got,
            [
                (20_757, 0, 0),
                (20_758, 75, 15),
                (20_759, 25, 5),
                (20_760, 0, 0)
            ]
        );
        assert_eq!(series[2].disposition["quarantine"], 5);
        assert_eq!(series[2].date, "2026-11-02");

        let reporters = store.reporters(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(reporters[0].org, "a.example");
        assert_eq!((reporters[0].reports, reporters[0].messages), (1, 75));

        let (rows, total) = store
            .reports(&Filter::new(Window::all()), 0, 10)
            .await
            .unwrap();
        assert_eq!(total, 2);
        // Most recent first.
        assert_eq!(rows[0].org_name, "b.example");
        assert_eq!(rows[1].deliveries, 2);

        // The stored report reads back as it was parsed.
        let stored = store.report(rows[1].id).await.unwrap().unwrap();
        let parsed = mailward_reports::parse_xml(a.as_bytes()).unwrap().report;
        assert_eq!(stored.report, parsed);
        assert_eq!(stored.deliveries.len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_more_complete_copy_replaces_the_stored_one() {
    for url in backends("replace").urls {
        let store = Store::open(&url).await.unwrap();
        let opts = IngestOptions::new();
        let whole = report(
            "a.example",
            "r1",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[
                ("192.0.2.1", 3, "none", "pass", "pass"),
                ("192.0.2.2", 4, "none", "pass", "pass"),
            ],
        );
        // The same report with an upper-case token (a defect) ...
        let flawed = whole.replacen(
            "<disposition>none</disposition>",
            "<disposition>NONE</disposition>",
            1,
        );
        // ... and with one record missing.
        let cut = report(
            "a.example",
            "r1",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[("192.0.2.1", 3, "none", "pass", "pass")],
        );
        let st = |o: mailward_store::InputOutcome| statuses(&o.kind)[0];
        assert_eq!(
            st(store.ingest("cut", cut.as_bytes(), &opts).await.unwrap()),
            ReportStatus::Stored
        );
        // More records: replaces.
        assert_eq!(
            st(store
                .ingest("flawed", flawed.as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Replaced
        );
        // As many records, fewer defects: replaces.
        assert_eq!(
            st(store
                .ingest("whole", whole.as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Replaced
        );
        // Less complete than what is stored: a duplicate.
        assert_eq!(
            st(store
                .ingest("cut again", format!("{cut} ").as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Duplicate
        );
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.reports, 1);
        assert_eq!(s.domains["example.com"].volume, 7, "{url}");
        let (rows, _) = store
            .reports(&Filter::new(Window::all()), 0, 10)
            .await
            .unwrap();
        assert_eq!(rows[0].source, "whole");
        assert!(rows[0].defects.is_empty());
        // Four distinct inputs delivered it.
        assert_eq!(rows[0].deliveries, 4);
        assert_eq!(s.duplicates, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_rejected_and_retried() {
    for url in backends("reject").urls {
        let store = Store::open(&url).await.unwrap();
        let opts = IngestOptions::new();
        for (input, what) in [
            (
                &b"Subject: out of office\r\nFrom: a@example.net\r\n\r\nAway.\r\n"[..],
                "auto-reply",
            ),
            (b"<html><body>newsletter</body></html>", "html"),
            (b"", "empty"),
            (b"just text", "text"),
        ] {
            let o = store.ingest(what, input, &opts).await.unwrap();
            assert!(matches!(o.kind, InputKind::Skipped { .. }), "{what}: {o:?}");
        }
        // Hostile inputs: rejected whole, nothing partial left behind.
        let deep = format!(
            "<feedback><report_metadata>{}</report_metadata></feedback>",
            "<a>".repeat(100_000)
        );
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY a \"lol\">]><feedback>&a;</feedback>";
        let half = report(
            "a.example",
            "h",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[("192.0.2.9", 1, "none", "pass", "pass")],
        );
        let half = &half[..half.len() / 2];
        let mut classes = Vec::new();
        for (name, input) in [
            ("deep.xml", deep.as_bytes()),
            ("laughs.xml", laughs.as_bytes()),
            ("half.xml", half.as_bytes()),
        ] {
            let o = store.ingest(name, input, &opts).await.unwrap();
            match o.kind {
                InputKind::Rejected { class, .. } => classes.push(class),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(classes, ["limit:xml_depth", "doctype", "truncated"]);
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.reports, 0);
        assert!(s.domains.is_empty());
        assert_eq!(s.rejected.len(), 3);
        // Read again: still three rejections, not six.
        store
            .ingest("deep.xml", deep.as_bytes(), &opts)
            .await
            .unwrap();
        assert_eq!(store.rejections(&Window::all()).await.unwrap().len(), 3);

        // A report rejected under a strict limit is read after the limit is "fixed".
        let big = report(
            "a.example",
            "big",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[
                ("192.0.2.1", 1, "none", "pass", "pass"),
                ("192.0.2.2", 2, "none", "pass", "pass"),
            ],
        );
        let mut strict = IngestOptions::new();
        strict.limits = Limits {
            max_records: 1,
            ..Limits::default()
        };
        let o = store
            .ingest("big.xml", big.as_bytes(), &strict)
            .await
            .unwrap();
        assert!(
            matches!(o.kind, InputKind::Rejected { ref class, .. } if class == "limit:records")
        );
        let retried = store.retry_rejections(&opts).await.unwrap();
        assert_eq!(retried.len(), 4);
        let stored: Vec<_> = retried
            .iter()
            .filter(|o| matches!(o.kind, InputKind::Reports { .. }))
            .collect();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].source, "big.xml");
        assert_eq!(store.rejections(&Window::all()).await.unwrap().len(), 3);
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.domains["example.com"].volume, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_day_reports_spread_and_conserve() {
    for url in backends("spread").urls {
        let store = Store::open(&url).await.unwrap();
        // 06:00 on D0 to 06:00 on D0+1: 18 hours on D0, 6 on D0+1. 100 messages → 75 + 25;
        // 3 messages → 2.25 + 0.75 → 2 + 1 (largest remainder).
        let r = report(
            "tz.example",
            "x",
            "example.org",
            D0 + 6 * 3600,
            D0 + DAY + 6 * 3600,
            "reject",
            &[
                ("192.0.2.1", 100, "none", "pass", "pass"),
                ("192.0.2.2", 3, "reject", "fail", "fail"),
            ],
        );
        store
            .ingest("tz.xml", r.as_bytes(), &IngestOptions::new())
            .await
            .unwrap();
        let day = |d: i64| {
            Filter::new(Window {
                first_day: Some(d),
                last_day: Some(d),
            })
        };
        let s0 = store.summary(&day(20_758)).await.unwrap();
        let s1 = store.summary(&day(20_759)).await.unwrap();
        assert_eq!(s0.domains["example.org"].volume, 77);
        assert_eq!(s1.domains["example.org"].volume, 26);
        // The report counts in both days; both days together are the whole report.
        assert_eq!((s0.reports, s1.reports), (1, 1));
        let both = store
            .summary(&Filter::new(Window {
                first_day: Some(20_758),
                last_day: Some(20_759),
            }))
            .await
            .unwrap();
        assert_eq!(both.domains["example.org"].volume, 103);
        assert_eq!(both.domains["example.org"].dmarc_pass, 100);
        // --domain filters.
        let none = store
            .summary(&Filter::new(Window::all()).domain("example.com"))
            .await
            .unwrap();
        assert!(none.domains.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_is_refused_when_newer_and_opened_concurrently() {
    for url in backends("schema").urls {
        // Two workers open a fresh store at the same moment: both succeed.
        let (a, b) = tokio::join!(
            tokio::spawn({
                let url = url.clone();
                async move { Store::open(&url).await.map(|_| ()) }
            }),
            tokio::spawn({
                let url = url.clone();
                async move { Store::open(&url).await.map(|_| ()) }
            })
        );
        a.unwrap().unwrap();
        b.unwrap().unwrap();
        // A store written by a newer version is refused.
        set_schema_version(&url, 99).await;
        match Store::open(&url).await {
            Err(Error::NewerSchema {
                found: 99,
                supported,
            }) => {
                assert_eq!(supported, mailward_store::SCHEMA_VERSION);
            }
            other => panic!("{other:?}"),
        }
    }
}

async fn set_schema_version(url: &StoreUrl, v: i64) {
    match url {
        StoreUrl::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute(
                "UPDATE mailward_meta SET value = ?1 WHERE key = 'schema_version'",
                [v.to_string()],
            )
            .unwrap();
        }
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => {
            let (client, conn) = tokio_postgres::connect(u, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .execute(
                    "UPDATE mailward_meta SET value = $1 WHERE key = 'schema_version'",
                    &[&v.to_string()],
                )
                .await
                .unwrap();
        }
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingest_of_the_same_reports_stores_each_once() {
    for url in backends("race").urls {
        let inputs: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                report(
                    "race.example",
                    &format!("id{i}"),
                    "example.com",
                    D0,
                    D0 + DAY - 1,
                    "none",
                    &[("192.0.2.1", i + 1, "none", "pass", "pass")],
                )
                .into_bytes()
            })
            .collect();
        let worker = |url: StoreUrl, inputs: Vec<Vec<u8>>, tag: &'static str| async move {
            let store = Store::open(&url).await.unwrap();
            let mut counts = mailward_store::IngestCounts::default();
            for (i, input) in inputs.iter().enumerate() {
                // Different sources, same bytes: the second worker's copy is a duplicate.
                let o = store
                    .ingest(&format!("{tag}/{i}"), input, &IngestOptions::new())
                    .await
                    .unwrap();
                counts.add(&o);
            }
            counts
        };
        let (a, b) = tokio::join!(
            tokio::spawn(worker(url.clone(), inputs.clone(), "a")),
            tokio::spawn(worker(url.clone(), inputs.clone(), "b"))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.stored + b.stored, 40, "{url}: {a:?} {b:?}");
        assert_eq!(a.duplicates + b.duplicates, 40);
        let store = Store::open(&url).await.unwrap();
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.reports, 40);
        // 1 + 2 + … + 40.
        assert_eq!(s.domains["example.com"].volume, 820);
        // Same bytes from both workers: one input each, no further delivery.
        assert_eq!(s.duplicates, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_and_export() {
    for url in backends("prune").urls {
        let store = Store::open(&url).await.unwrap();
        let old = report(
            "a.example",
            "old",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[("192.0.2.1", 5, "none", "pass", "fail")],
        );
        let new = report(
            "=cmd|' /C calc'!A0",
            "new",
            "example.com",
            D0 + 10 * DAY,
            D0 + 11 * DAY - 1,
            "none",
            &[
                ("192.0.2.1", 7, "none", "pass", "fail"),
                ("2001:db8::1", 1, "none", "fail", "fail"),
            ],
        );
        let opts = IngestOptions::new().keep_raw(true);
        store
            .ingest("old.xml", old.as_bytes(), &opts)
            .await
            .unwrap();
        store
            .ingest("new.xml", new.as_bytes(), &opts)
            .await
            .unwrap();

        let mut jsonl = Vec::new();
        let n = store
            .export(
                &Filter::new(Window::all()),
                ExportFormat::JsonLines,
                &mut jsonl,
            )
            .await
            .unwrap();
        assert_eq!(n, 3);
        let lines: Vec<serde_json::Value> = String::from_utf8(jsonl)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Most recent report first, records in order.
        assert_eq!(lines[0]["report_id"], "new");
        assert_eq!(lines[1]["source_ip"], "2001:db8::1");
        assert_eq!(lines[2]["count"], 5);
        assert_eq!(lines[2]["dkim"][0]["selector"], "s1");

        let mut csv = Vec::new();
        store
            .export(&Filter::new(Window::all()), ExportFormat::Csv, &mut csv)
            .await
            .unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(csv.lines().count(), 4);
        assert!(csv.starts_with("org_name,email,report_id,"));
        // The formula-looking org name is defused for spreadsheets.
        assert!(csv.contains("\n'=cmd|' /C calc'!A0,"), "{csv}");

        // Prune everything that ended before D0 + 5 days: the old report goes.
        let removed = store
            .prune(i64::try_from(D0 + 5 * DAY).unwrap())
            .await
            .unwrap();
        assert_eq!(removed, 1);
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.reports, 1);
        assert_eq!(s.domains["example.com"].volume, 8);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichment_groups_verified_names_by_service() {
    let zone = "$ORIGIN example.\n$TTL 3600\n\
        1.2.0.192.in-addr.arpa. IN PTR mail-a.sendgrid.net.\n\
        2.2.0.192.in-addr.arpa. IN PTR mail-b.sendgrid.net.\n\
        3.2.0.192.in-addr.arpa. IN PTR mail-forged.google.com.\n\
        mail-a.sendgrid.net. IN A 192.0.2.1\n\
        mail-b.sendgrid.net. IN A 192.0.2.2\n\
        mail-forged.google.com. IN A 198.51.100.77\n";
    for url in backends("enrich").urls {
        let store = Store::open(&url).await.unwrap();
        let r = report(
            "a.example",
            "e",
            "example.com",
            D0,
            D0 + DAY - 1,
            "none",
            &[
                ("192.0.2.1", 10, "none", "pass", "pass"),
                ("192.0.2.2", 20, "none", "pass", "fail"),
                ("192.0.2.3", 5, "none", "fail", "fail"),
                ("203.0.113.9", 1, "none", "fail", "fail"),
                ("203.0.113.10", 1, "none", "fail", "fail"),
            ],
        );
        store
            .ingest("e.xml", r.as_bytes(), &IngestOptions::new())
            .await
            .unwrap();
        assert_eq!(store.pending_addresses().await.unwrap(), 5);
        let resolver = zone
            .parse::<ZoneResolver>()
            .unwrap()
            .with_timeout("10.113.0.203.in-addr.arpa".parse().unwrap());
        let stats = store
            .enrich(
                &resolver,
                &EnrichOptions::default(),
                &AtomicBool::new(false),
            )
            .await
            .unwrap();
        // .1 and .2 resolve back; .3 claims google.com but does not; .9 has no name; .10
        // times out.
        assert_eq!(
            (
                stats.looked_up,
                stats.verified,
                stats.unverified,
                stats.no_name,
                stats.failed
            ),
            (5, 2, 1, 1, 1)
        );
        // Only the failed lookup is pending again (after RETRY_AFTER), not now.
        assert_eq!(store.pending_addresses().await.unwrap(), 0);
        let groups = store
            .sources(
                &Filter::new(Window::all()).domain("example.com"),
                &ServiceMap::builtin(),
            )
            .await
            .unwrap();
        let sendgrid = &groups[0];
        assert_eq!(sendgrid.key, "sendgrid.net");
        assert_eq!(sendgrid.messages, 30);
        assert_eq!(sendgrid.service.as_ref().unwrap().name, "SendGrid");
        assert_eq!(sendgrid.addresses.len(), 2);
        assert_eq!(sendgrid.addresses[0].ip.to_string(), "192.0.2.2");
        assert_eq!(sendgrid.spf_aligned_pass, 10);
        assert!(
            sendgrid
                .dkim
                .iter()
                .any(|a| a.selector.as_deref() == Some("s1"))
        );
        // The forged google.com name is not grouped under Google.
        let forged = groups.iter().find(|g| g.key == "192.0.2.3").unwrap();
        assert!(forged.service.is_none());
        assert_eq!(forged.addresses[0].name_status, NameStatus::Unverified);
        assert_eq!(
            forged.addresses[0].reverse_name.as_deref(),
            Some("mail-forged.google.com")
        );
        assert_eq!(groups.len(), 4);
    }
}

/// `ingest_inputs_acked` acknowledges every input once, whatever its outcome, and only once it
/// is durable. A source that goes quiet still gets its acknowledgements (the SQLite group is
/// committed when no input comes for the rest of its time), which a mailbox that moves its
/// messages, or waits in IDLE, relies on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_input_is_acknowledged_once_when_durable() {
    use mailward_store::source::{Input, InputError};
    use std::sync::{Arc, Mutex, mpsc};
    use std::time::Duration;

    for url in backends("acks").urls {
        let store = Store::open(&url).await.unwrap();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        // What the reader saw when it was let go: how many reports the store held.
        let seen_before_fourth: Arc<Mutex<Option<i64>>> = Arc::default();
        let seen = Arc::clone(&seen_before_fourth);
        let sqlite_path = match &url {
            StoreUrl::Sqlite(p) => Some(p.clone()),
            _ => None,
        };
        let report_input = |i: u64| {
            Ok::<_, InputError>(Input {
                location: format!("test/{i}"),
                bytes: report(
                    "acks.example",
                    &format!("a{i}"),
                    "example.com",
                    D0,
                    D0 + DAY - 1,
                    "none",
                    &[("192.0.2.1", i, "none", "pass", "pass")],
                )
                .into_bytes(),
            })
        };
        let mut first: Vec<Result<Input, InputError>> = (1..=3).map(report_input).collect();
        first.push(Ok(Input {
            location: "test/junk".into(),
            bytes: b"not a report".to_vec(),
        }));
        let fourth = report_input(4);
        let inputs = first.into_iter().chain(std::iter::once_with(move || {
            // Quiet until the writer acknowledged the first inputs (or 20 s, to fail, not hang).
            let released = go_rx.recv_timeout(Duration::from_secs(20)).is_ok();
            let count = sqlite_path.as_ref().map(|p| {
                let c = rusqlite::Connection::open(p).unwrap();
                c.query_row("SELECT count(*) FROM reports", [], |r| r.get::<_, i64>(0))
                    .unwrap()
            });
            *seen.lock().unwrap() = Some(if released { count.unwrap_or(3) } else { -1 });
            fourth
        }));
        let mut acked: Vec<String> = Vec::new();
        let mut go = Some(go_tx);
        let counts = store
            .ingest_inputs_acked(
                inputs,
                &IngestOptions::new(),
                |_| {},
                |done| {
                    acked.extend(done.iter().cloned());
                    if acked.len() >= 4
                        && let Some(tx) = go.take()
                    {
                        let _ = tx.send(());
                    }
                },
            )
            .await
            .unwrap();
        assert_eq!(counts.stored, 4, "{url}");
        assert_eq!(counts.skipped, 1, "{url}");
        // Released by the acknowledgements, with the three reports already committed.
        assert_eq!(*seen_before_fourth.lock().unwrap(), Some(3), "{url}");
        acked.sort();
        assert_eq!(
            acked,
            ["test/1", "test/2", "test/3", "test/4", "test/junk"],
            "{url}"
        );
    }
}
