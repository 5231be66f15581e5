//! SMTP TLS reports (RFC 8460) in the store, on both backends (SQLite in a temporary file,
//! PostgreSQL in a throwaway cluster; skipped without PostgreSQL unless
//! MAILWARD_REQUIRE_POSTGRES is set): ingest of the RFC 8460 Appendix B example as plain JSON
//! and gzip-compressed in a report e-mail, duplicates and replacement, a message carrying both
//! kinds of report, windows and the domain filter, prune, the upgrade of a schema 2 store, and
//! the summary against the file mode's over many generated reports.
//!
//! The numbers of the example are written out by hand from
//! `reports/tests/data/rfc8460_appendix_b.json`: one `sts` policy for `company-y.example`,
//! 5 326 successful and 303 failed sessions, and three failure details (100
//! `certificate-expired` at mx1, 200 `starttls-not-supported` at mx2, 3 `validation-failure`
//! at mx-backup), for 2016-04-01 (day 16 892).
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

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;

use mailward_reports::tls::{
    self, PolicyType, TlsDomainSummary, TlsReport, TlsReportEmail, TlsSummary,
};
use mailward_store::query::{Filter, Window};
use mailward_store::{
    IngestCounts, IngestOptions, InputKind, InputOutcome, ReportStatus, Store, StoreUrl,
};

const APPENDIX_B: &str = include_str!("../../reports/tests/data/rfc8460_appendix_b.json");
/// 2016-04-01, the day of the example (1 459 468 800 / 86 400).
const DAY_B: i64 = 16_892;
/// The end of the example's period, 2016-04-01T23:59:59Z.
const END_B: i64 = 1_459_555_199;
const DAY: u64 = 86_400;
/// 2026-11-01, day 20 758.
const D0: u64 = 20_758 * DAY;

/// What the example sums to, written out by hand (see the file's header).
fn appendix_b_summary() -> TlsSummary {
    let mut failures = BTreeMap::new();
    for (kind, mx, n) in [
        ("certificate-expired", "mx1.mail.company-y.example", 100),
        ("starttls-not-supported", "mx2.mail.company-y.example", 200),
        ("validation-failure", "mx-backup.mail.company-y.example", 3),
    ] {
        failures.insert(kind.to_owned(), BTreeMap::from([(mx.to_owned(), n)]));
    }
    TlsSummary {
        reports: 1,
        successful_sessions: 5326,
        failed_sessions: 303,
        domains: BTreeMap::from([(
            "company-y.example".to_owned(),
            TlsDomainSummary {
                policies: 1,
                successful_sessions: 5326,
                failed_sessions: 303,
                policy_types: BTreeSet::from([PolicyType::Sts]),
            },
        )]),
        failures,
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The report e-mail of RFC 8460 §5.3 that a sender would write for `report`, gzip-compressed
/// as §5.2 recommends.
fn report_email(report: &TlsReport, message_id: &str) -> Vec<u8> {
    tls::to_email(
        report,
        &TlsReportEmail {
            from: "tlsrpt@mail.company-x.example".into(),
            to: "tls-reports@company-y.example".into(),
            submitter: "mail.company-x.example".into(),
            date: "Sat, 02 Apr 2016 01:00:00 +0000".into(),
            message_id: message_id.into(),
            unique_id: None,
            gzip: true,
        },
    )
}

fn appendix_b() -> TlsReport {
    tls::parse_json(APPENDIX_B.as_bytes()).unwrap().report
}

/// A DMARC aggregate report of one record on 2026-11-01.
fn aggregate(id: &str, count: u64) -> String {
    let (begin, end) = (D0, D0 + DAY - 1);
    format!(
        r#"<feedback><report_metadata><org_name>a.example</org_name><email>dmarc@a.example</email>
<report_id>{id}</report_id><date_range><begin>{begin}</begin><end>{end}</end></date_range>
</report_metadata><policy_published><domain>example.com</domain><p>none</p></policy_published>
<record><row><source_ip>192.0.2.1</source_ip><count>{count}</count><policy_evaluated>
<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
<identifiers><header_from>example.com</header_from></identifiers><auth_results>
<dkim><domain>example.com</domain><result>pass</result></dkim></auth_results></record></feedback>"#
    )
}

/// One message with two attachments: a gzip-compressed aggregate report and a
/// gzip-compressed TLS report.
fn message_with_both(aggregate_xml: &str, tls_json: &str) -> Vec<u8> {
    use base64::Engine as _;
    let part = |data: &[u8]| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(data));
        b64.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    format!(
        "From: reports@company-x.example\r\nTo: rua@company-y.example\r\nSubject: Reports\r\n\
         Message-ID: <both@company-x.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nTwo reports.\r\n\
         --b\r\nContent-Type: application/gzip; name=\"a.xml.gz\"\r\n\
         Content-Disposition: attachment; filename=\"a.xml.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --b\r\nContent-Type: application/tlsrpt+gzip\r\n\
         Content-Disposition: attachment; filename=\"t.json.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        part(aggregate_xml.as_bytes()),
        part(tls_json.as_bytes())
    )
    .into_bytes()
}

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

#[cfg(feature = "postgres")]
fn cluster() -> Option<&'static pg::PgCluster> {
    static CLUSTER: std::sync::OnceLock<Option<pg::PgCluster>> = std::sync::OnceLock::new();
    CLUSTER.get_or_init(pg::PgCluster::start).as_ref()
}

fn backends(tag: &str) -> Backends {
    let d = std::env::temp_dir().join(format!("mailward-store-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    #[allow(unused_mut)]
    let mut urls = vec![StoreUrl::Sqlite(d.join("store.db"))];
    #[cfg(feature = "postgres")]
    if let Some(c) = cluster() {
        urls.push(StoreUrl::Postgres(c.create_database(tag)));
    }
    Backends {
        urls,
        _dir: TempDir(d),
    }
}

/// The statuses of the aggregate and of the TLS reports of an input.
fn statuses(o: &InputOutcome) -> (Vec<ReportStatus>, Vec<ReportStatus>) {
    match &o.kind {
        InputKind::Reports { reports, tls } => (
            reports.iter().map(|r| r.status).collect(),
            tls.iter().map(|r| r.status).collect(),
        ),
        other => panic!("not reports: {other:?}"),
    }
}

fn tls_only(o: &InputOutcome) -> Vec<ReportStatus> {
    let (aggregate, tls) = statuses(o);
    assert!(aggregate.is_empty(), "{o:?}");
    tls
}

fn days(first: i64, last: i64) -> Filter {
    Filter::new(Window {
        first_day: Some(first),
        last_day: Some(last),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appendix_b_as_json_and_in_a_report_email_is_stored_once() {
    for url in backends("appendix-b").urls {
        let store = Store::open(&url).await.unwrap();
        let opts = IngestOptions::new();
        let mut counts = IngestCounts::default();
        let o = store
            .ingest("company-y.example.json", APPENDIX_B.as_bytes(), &opts)
            .await
            .unwrap();
        counts.add(&o);
        assert_eq!(tls_only(&o), [ReportStatus::Stored], "{url}");
        let InputKind::Reports { tls, .. } = &o.kind else {
            unreachable!()
        };
        assert_eq!(tls[0].organization_name, "Company-X");
        assert_eq!(tls[0].report_id, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
        assert_eq!(tls[0].policy_domain.as_deref(), Some("company-y.example"));

        // The same report as its sender mails it: gzip, base64, multipart/report.
        let mail = report_email(&appendix_b(), "r1@mail.company-x.example");
        assert!(
            String::from_utf8_lossy(&mail).contains("Content-Type: application/tlsrpt+gzip"),
            "the writer mails it compressed"
        );
        let o = store.ingest("maildir:tls/1", &mail, &opts).await.unwrap();
        counts.add(&o);
        assert_eq!(tls_only(&o), [ReportStatus::Duplicate]);
        assert_eq!(o.message_id.as_deref(), Some("r1@mail.company-x.example"));
        // The same bytes again: a duplicate, and no further delivery.
        let o = store.ingest("maildir:tls/1", &mail, &opts).await.unwrap();
        counts.add(&o);
        assert_eq!(tls_only(&o), [ReportStatus::Duplicate]);
        assert_eq!(
            (counts.stored, counts.tls_stored, counts.tls_duplicates),
            (0, 1, 2)
        );
        assert_eq!(counts.skipped, 0);

        let expected = appendix_b_summary();
        let all = store
            .tls_summary(&Filter::new(Window::all()))
            .await
            .unwrap();
        assert_eq!(all, expected, "{url}");
        assert_eq!(
            store.tls_summary(&days(DAY_B, DAY_B)).await.unwrap(),
            expected
        );
        assert_eq!(
            store
                .tls_summary(&days(DAY_B, DAY_B).domain("Company-Y.example"))
                .await
                .unwrap(),
            expected
        );
        // The days around it, and another domain, have nothing.
        for filter in [
            days(DAY_B + 1, DAY_B + 30),
            days(DAY_B - 30, DAY_B - 1),
            Filter::new(Window::all()).domain("company-x.example"),
        ] {
            assert_eq!(
                store.tls_summary(&filter).await.unwrap(),
                TlsSummary::new(),
                "{filter:?}"
            );
        }

        // The store's summary carries it: two distinct inputs (the JSON file and the e-mail).
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.tls, expected);
        assert_eq!((s.files, s.reports), (2, 0));
        let json = s.to_json();
        assert_eq!(json["tls"]["successful_sessions"], 5326);
        assert_eq!(json["tls"]["failed_sessions"], 303);
        assert_eq!(
            json["tls"]["domains"]["company-y.example"]["policy_types"],
            serde_json::json!(["sts"])
        );
        assert_eq!(
            json["tls"]["failures"]["starttls-not-supported"]["mx2.mail.company-y.example"],
            200
        );
        let outside = store.summary(&days(DAY_B + 1, DAY_B + 1)).await.unwrap();
        assert!(outside.to_json().get("tls").is_none());
        assert_eq!(outside.files, 0);
    }
}

/// The example with `certificate-expired` written `Certificate-Expired` and the failed count
/// as a string: two defects the reader tolerates.
fn flawed_appendix_b() -> String {
    let s = APPENDIX_B
        .replacen("\"certificate-expired\"", "\"Certificate-Expired\"", 1)
        .replacen(
            "\"total-failure-session-count\": 303",
            "\"total-failure-session-count\": \"303\"",
            1,
        );
    assert_ne!(s, APPENDIX_B);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_more_complete_copy_replaces_the_stored_one() {
    for url in backends("replace").urls {
        let store = Store::open(&url).await.unwrap();
        let opts = IngestOptions::new();
        let flawed = flawed_appendix_b();
        assert_eq!(tls::parse_json(flawed.as_bytes()).unwrap().defects.len(), 2);
        let st = |o: InputOutcome| tls_only(&o)[0];
        assert_eq!(
            st(store
                .ingest("flawed.json", flawed.as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Stored,
            "{url}"
        );
        // As many policies and details, fewer defects: replaces.
        assert_eq!(
            st(store
                .ingest("clean.json.gz", &gzip(APPENDIX_B.as_bytes()), &opts)
                .await
                .unwrap()),
            ReportStatus::Replaced
        );
        // More defects than what is stored: a duplicate.
        assert_eq!(
            st(store
                .ingest("flawed again", format!("{flawed}\n").as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Duplicate
        );
        // Replaced, not added: the numbers of one copy.
        let expected = appendix_b_summary();
        assert_eq!(
            store
                .tls_summary(&Filter::new(Window::all()))
                .await
                .unwrap(),
            expected
        );

        // A copy with one more policy (for company-z.example, 10 sessions, 4 failed, one
        // `dane-required` detail at mx.company-z.example) is more complete, defects or not.
        let mut bigger = tls::parse_json(flawed.as_bytes()).unwrap().report;
        let mut extra = bigger.policies[0].clone();
        extra.policy.policy_type = Some(PolicyType::Tlsa);
        extra.policy.policy_domain = "company-z.example".into();
        extra.summary.total_successful_session_count = 6;
        extra.summary.total_failure_session_count = 4;
        extra.failure_details.truncate(1);
        extra.failure_details[0].result_type = Some(tls::ResultType::DaneRequired);
        extra.failure_details[0].receiving_mx_hostname = Some("MX.company-z.example.".into());
        extra.failure_details[0].failed_session_count = 4;
        bigger.policies.push(extra);
        let bigger_json = tls::to_json(&bigger).replacen("\"sts\"", "\"STS\"", 1);
        assert_eq!(
            st(store
                .ingest("bigger.json", bigger_json.as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Replaced
        );
        let got = store
            .tls_summary(&Filter::new(Window::all()))
            .await
            .unwrap();
        assert_eq!(got.reports, 1);
        assert_eq!(
            (got.successful_sessions, got.failed_sessions),
            (5326 + 6, 303 + 4)
        );
        assert_eq!(got.domains["company-z.example"].policies, 1);
        assert_eq!(
            got.domains["company-z.example"].policy_types,
            BTreeSet::from([PolicyType::Tlsa])
        );
        assert_eq!(got.failures["dane-required"]["mx.company-z.example"], 4);
        assert_eq!(got.failures["certificate-expired"].len(), 1);
        let one = store
            .tls_summary(&Filter::new(Window::all()).domain("company-z.example"))
            .await
            .unwrap();
        assert_eq!(
            (
                one.reports,
                one.successful_sessions,
                one.failed_sessions,
                one.domains.len()
            ),
            (1, 6, 4, 1)
        );
        assert_eq!(one.failures.len(), 1);
        // The clean one-policy copy is now the less complete one.
        assert_eq!(
            st(store
                .ingest("clean.json", APPENDIX_B.as_bytes(), &opts)
                .await
                .unwrap()),
            ReportStatus::Duplicate
        );
        // Five distinct inputs delivered the one report.
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(s.files, 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_both_kinds_stores_both_and_prune_takes_the_old_one() {
    for url in backends("both").urls {
        let store = Store::open(&url).await.unwrap();
        let opts = IngestOptions::new().keep_raw(true);
        let both = message_with_both(&aggregate("agg-1", 7), APPENDIX_B);
        let o = store.ingest("maildir:x/both", &both, &opts).await.unwrap();
        assert_eq!(
            statuses(&o),
            (vec![ReportStatus::Stored], vec![ReportStatus::Stored]),
            "{url}"
        );
        // A TLS report alone, kept raw too.
        let alone = report_email(
            &TlsReport {
                report_id: "other".into(),
                ..appendix_b()
            },
            "r2@mail.company-x.example",
        );
        let o = store
            .ingest("maildir:x/alone", &alone, &opts)
            .await
            .unwrap();
        assert_eq!(tls_only(&o), [ReportStatus::Stored]);

        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!((s.files, s.reports, s.tls.reports), (2, 1, 2));
        assert_eq!(s.domains["example.com"].volume, 7);
        assert_eq!(s.tls.successful_sessions, 2 * 5326);

        // Cut off after the TLS reports' period (2016) and before the aggregate report's (2026):
        // both TLS reports go, the aggregate report stays.
        assert_eq!(store.prune(END_B + 1).await.unwrap(), 2);
        let s = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!((s.reports, s.tls.reports), (1, 0));
        assert_eq!(s.tls, TlsSummary::new());
        assert_eq!(s.domains["example.com"].volume, 7);
        // The message that also carried the aggregate report is still needed; the other not.
        if let StoreUrl::Sqlite(path) = &url {
            let c = rusqlite::Connection::open(path).unwrap();
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            assert_eq!(count("SELECT count(*) FROM raw_inputs"), 1);
            for table in [
                "tls_reports",
                "tls_policies",
                "tls_failures",
                "tls_deliveries",
            ] {
                assert_eq!(
                    count(&format!("SELECT count(*) FROM {table}")),
                    0,
                    "{table}"
                );
            }
        }
        // A cut-off at the end second keeps a report ending then.
        let o = store
            .ingest("again.json", APPENDIX_B.as_bytes(), &opts)
            .await
            .unwrap();
        assert_eq!(tls_only(&o), [ReportStatus::Stored]);
        assert_eq!(store.prune(END_B).await.unwrap(), 0);
        assert_eq!(
            store
                .tls_summary(&Filter::new(Window::all()))
                .await
                .unwrap()
                .reports,
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingest_of_the_same_tls_reports_stores_each_once() {
    for url in backends("race").urls {
        let inputs: Vec<Vec<u8>> = (0..30)
            .map(|i| {
                let mut r = appendix_b();
                r.report_id = format!("race-{i}");
                r.policies[0].summary.total_successful_session_count = i + 1;
                tls::to_json(&r).into_bytes()
            })
            .collect();
        let worker = |url: StoreUrl, inputs: Vec<Vec<u8>>, tag: &'static str| async move {
            let store = Store::open(&url).await.unwrap();
            let mut counts = IngestCounts::default();
            for (i, input) in inputs.iter().enumerate() {
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
            tokio::spawn(worker(url.clone(), inputs, "b"))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.tls_stored + b.tls_stored, 30, "{url}: {a:?} {b:?}");
        assert_eq!(a.tls_duplicates + b.tls_duplicates, 30);
        let store = Store::open(&url).await.unwrap();
        let s = store
            .tls_summary(&Filter::new(Window::all()))
            .await
            .unwrap();
        assert_eq!(s.reports, 30);
        // 1 + 2 + … + 30.
        assert_eq!(s.successful_sessions, 465);
        assert_eq!(s.failed_sessions, 30 * 303);
    }
}

/// Reports with several policy domains (spelled in any case, with a trailing dot), policies
/// without a type or of an unknown one, details without a result type or MX host, on three
/// days: the store's summary of any window is the file mode's over the reports of its days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_equal_the_file_mode_of_the_same_reports() {
    let base = appendix_b();
    let mut reports = Vec::new();
    for i in 0..12u64 {
        let mut r = base.clone();
        r.organization_name = format!("org-{}", i % 3);
        r.report_id = format!("id-{i}");
        let day = 1 + i % 3;
        r.date_range.start_datetime = format!("2016-04-0{day}T00:00:00Z");
        r.date_range.end_datetime = format!("2016-04-0{day}T23:59:59Z");
        let mut second = r.policies[0].clone();
        second.policy.policy_domain = if i % 2 == 0 {
            "Example.NET.".into()
        } else {
            "example.net".into()
        };
        second.policy.policy_type = match i % 4 {
            0 => None,
            1 => Some(PolicyType::NoPolicyFound),
            2 => Some(PolicyType::Unknown("x-future".into())),
            _ => Some(PolicyType::Tlsa),
        };
        second.summary.total_successful_session_count = 10 * i;
        second.summary.total_failure_session_count = i;
        second.failure_details[0].result_type = None;
        second.failure_details[1].receiving_mx_hostname = None;
        second.failure_details[2].failed_session_count = i;
        r.policies[0].summary.total_failure_session_count = 300 + i;
        r.policies.push(second);
        reports.push(r);
    }
    for url in backends("file-mode").urls {
        let store = Store::open(&url).await.unwrap();
        for (i, r) in reports.iter().enumerate() {
            store
                .ingest(
                    &format!("r{i}.json"),
                    tls::to_json(r).as_bytes(),
                    &IngestOptions::new(),
                )
                .await
                .unwrap();
        }
        for (first, last) in [(16_892, 16_892), (16_893, 16_894), (16_800, 17_000)] {
            let in_window: Vec<&TlsReport> = reports
                .iter()
                .filter(|r| {
                    let day = r.date_range.start_unix().unwrap() / 86_400;
                    (first..=last).contains(&day)
                })
                .collect();
            assert!(!in_window.is_empty());
            let file_mode = TlsSummary::from_reports(in_window.iter().copied());
            let got = store.tls_summary(&days(first, last)).await.unwrap();
            assert_eq!(got, file_mode, "{url} {first}..{last}");
            // One domain: the file mode over the reports cut down to that domain's policies.
            let only_net: Vec<TlsReport> = in_window
                .iter()
                .map(|r| {
                    let mut r = (*r).clone();
                    r.policies.retain(|p| {
                        p.policy.policy_domain.trim_end_matches('.').to_lowercase() == "example.net"
                    });
                    r
                })
                .collect();
            let got = store
                .tls_summary(&days(first, last).domain("example.net"))
                .await
                .unwrap();
            assert_eq!(got, TlsSummary::from_reports(&only_net), "{url}");
        }
        // By hand for day 16 892 (i = 0, 3, 6, 9): the Appendix B policy 4 × 5 326 successful,
        // 300 + i failed; example.net 10 × i successful, i failed.
        let d = store.tls_summary(&days(16_892, 16_892)).await.unwrap();
        assert_eq!(d.reports, 4);
        assert_eq!(d.successful_sessions, 4 * 5326 + 10 * (3 + 6 + 9));
        assert_eq!(d.failed_sessions, 4 * 300 + 18 + 18);
        assert_eq!(d.domains["example.net"].policies, 4);
        // i = 0: no type; 3: tlsa; 6: unknown; 9: no-policy-found.
        assert_eq!(
            d.domains["example.net"].policy_types,
            BTreeSet::from([
                PolicyType::Tlsa,
                PolicyType::NoPolicyFound,
                PolicyType::Unknown("x-future".into())
            ])
        );
        // Details without a result type or MX host are kept under "".
        assert_eq!(d.failures[""]["mx1.mail.company-y.example"], 4 * 100);
        assert_eq!(d.failures["starttls-not-supported"][""], 4 * 200);
        assert_eq!(
            d.failures["validation-failure"]["mx-backup.mail.company-y.example"],
            4 * 3 + 18
        );
    }
}

/// A store written by schema 2 (before TLS reports) opens, is upgraded, keeps its aggregate
/// reports and stores TLS reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_2_store_is_upgraded() {
    for url in backends("upgrade").urls {
        let store = Store::open(&url).await.unwrap();
        store
            .ingest(
                "a.xml",
                aggregate("agg-1", 42).as_bytes(),
                &IngestOptions::new(),
            )
            .await
            .unwrap();
        let before = store.summary(&Filter::new(Window::all())).await.unwrap();
        drop(store);
        // Back to schema 2, as that version wrote it.
        downgrade_to_2(&url).await;
        assert_eq!(schema_version(&url).await, "2");
        let store = Store::open(&url).await.unwrap();
        assert_eq!(schema_version(&url).await, "3");
        assert_eq!(mailward_store::SCHEMA_VERSION, 3);
        let after = store.summary(&Filter::new(Window::all())).await.unwrap();
        assert_eq!(after.to_json(), before.to_json(), "{url}");
        assert_eq!(after.domains["example.com"].volume, 42);
        let o = store
            .ingest("b.json", APPENDIX_B.as_bytes(), &IngestOptions::new())
            .await
            .unwrap();
        assert_eq!(tls_only(&o), [ReportStatus::Stored]);
        assert_eq!(
            store
                .tls_summary(&Filter::new(Window::all()))
                .await
                .unwrap(),
            appendix_b_summary()
        );
        // Opening again changes nothing.
        drop(store);
        let store = Store::open(&url).await.unwrap();
        assert_eq!(
            store
                .tls_summary(&Filter::new(Window::all()))
                .await
                .unwrap()
                .reports,
            1
        );
    }
}

/// What schema 2 lacks, dropped.
const DOWNGRADE: &str = "DROP TABLE tls_deliveries; DROP TABLE tls_failures;
     DROP TABLE tls_policies; DROP TABLE tls_reports;
     UPDATE mailward_meta SET value = '2' WHERE key = 'schema_version';";

async fn downgrade_to_2(url: &StoreUrl) {
    match url {
        StoreUrl::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.execute_batch(DOWNGRADE).unwrap();
        }
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => {
            let (client, conn) = tokio_postgres::connect(u, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client.batch_execute(DOWNGRADE).await.unwrap();
        }
        _ => unreachable!(),
    }
}

async fn schema_version(url: &StoreUrl) -> String {
    const SQL: &str = "SELECT value FROM mailward_meta WHERE key = 'schema_version'";
    match url {
        StoreUrl::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.query_row(SQL, [], |r| r.get(0)).unwrap()
        }
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => {
            let (client, conn) = tokio_postgres::connect(u, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client.query_one(SQL, &[]).await.unwrap().get(0)
        }
        _ => unreachable!(),
    }
}
