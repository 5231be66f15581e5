//! The rollups the web view reads (`domain_days`, `ip_days`, the authentication text and
//! evidence of `daily`) against the slower paths they stand in for, on both backends:
//!
//! - the totals and daily series equal those of the per-record summary (`report summarize`),
//!   after ingest, a replacement by a more complete copy, and pruning;
//! - `ip_days` equals a `GROUP BY` over `daily` (SQLite, read directly);
//! - the overview's readiness, which assesses only the candidate sources, equals the one
//!   from assessing every source;
//! - a store written by schema 1 is upgraded and then reads the same.
//!
//! Expected classes are worked out by hand next to each source below.
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

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use mailward_dns::ZoneResolver;
use mailward_store::enrich::EnrichOptions;
use mailward_store::query::{Filter, Window};
use mailward_store::readiness::{SourceClass, fixable, readiness};
use mailward_store::services::ServiceMap;
use mailward_store::sources::Detail;
use mailward_store::{IngestOptions, Store, StoreUrl};

const DAY: u64 = 86_400;
/// 2026-11-01, day 20 758.
const D0: u64 = 20_758 * DAY;
const FIRST_DAY: i64 = 20_758;

/// A record: ip, count, aligned DKIM and SPF results, then the DKIM `(domain, result)` and
/// SPF `(domain, result)` results.
struct Rec {
    ip: &'static str,
    count: u64,
    dkim: &'static str,
    spf: &'static str,
    auth_dkim: &'static [(&'static str, &'static str)],
    auth_spf: &'static [(&'static str, &'static str)],
}

fn report(org: &str, id: &str, domain: &str, day: u64, days: u64, records: &[Rec]) -> String {
    let begin = D0 + day * DAY;
    let end = begin + days * DAY - 1;
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><version>1.0</version><report_metadata><org_name>{org}</org_name>
<email>dmarc@{org}</email><report_id>{id}</report_id><date_range><begin>{begin}</begin><end>{end}</end></date_range>
</report_metadata><policy_published><domain>{domain}</domain><p>none</p><testing>n</testing><discovery_method>treewalk</discovery_method></policy_published>"#
    );
    for r in records {
        let disposition = if r.dkim == "pass" || r.spf == "pass" {
            "pass"
        } else {
            "none"
        };
        x.push_str(&format!(
            r#"<record><row><source_ip>{}</source_ip><count>{}</count><policy_evaluated>
<disposition>{disposition}</disposition><dkim>{}</dkim><spf>{}</spf></policy_evaluated></row>
<identifiers><header_from>{domain}</header_from></identifiers><auth_results>"#,
            r.ip, r.count, r.dkim, r.spf
        ));
        for (d, result) in r.auth_dkim {
            x.push_str(&format!(
                "<dkim><domain>{d}</domain><selector>s1</selector><result>{result}</result></dkim>"
            ));
        }
        for (d, result) in r.auth_spf {
            x.push_str(&format!(
                "<spf><domain>{d}</domain><scope>mfrom</scope><result>{result}</result></spf>"
            ));
        }
        x.push_str("</auth_results></record>");
    }
    x.push_str("</feedback>\n");
    x
}

const fn rec(
    ip: &'static str,
    count: u64,
    dkim: &'static str,
    spf: &'static str,
    auth_dkim: &'static [(&'static str, &'static str)],
    auth_spf: &'static [(&'static str, &'static str)],
) -> Rec {
    Rec {
        ip,
        count,
        dkim,
        spf,
        auth_dkim,
        auth_spf,
    }
}

/// The sources of example.com, with what each is (see `assess`):
fn example_com(day: u64) -> Vec<Rec> {
    vec![
        // The domain's own server: every message passes (aligned).
        rec(
            "192.0.2.1",
            50 + day,
            "pass",
            "pass",
            &[("example.com", "pass")],
            &[("example.com", "pass")],
        ),
        // An ESP: the domain's key signs part of its mail, the rest carries only the ESP's
        // own signature (legitimate, unaligned, fix: sign with d=example.com).
        rec(
            "198.51.100.7",
            20,
            "pass",
            "fail",
            &[("example.com", "pass"), ("esp.example", "pass")],
            &[("bounce.esp.example", "pass")],
        ),
        rec(
            "198.51.100.7",
            15,
            "fail",
            "fail",
            &[("esp.example", "pass")],
            &[("bounce.esp.example", "pass")],
        ),
        // A forwarder: a third keeps the signature, the rest fails, nothing foreign passes
        // (legitimate, no fix on the domain's side).
        rec(
            "203.0.113.50",
            3,
            "pass",
            "fail",
            &[("example.com", "pass")],
            &[("example.com", "fail")],
        ),
        rec(
            "203.0.113.50",
            6,
            "fail",
            "fail",
            &[("example.com", "fail")],
            &[("example.com", "fail")],
        ),
        // Spam from throwaway domains that pass for themselves (likely forgery).
        rec(
            "100.64.0.1",
            2,
            "fail",
            "fail",
            &[("zq3k.example", "pass")],
            &[("zq3k.example", "pass")],
        ),
        rec(
            "100.64.0.2",
            1,
            "fail",
            "fail",
            &[],
            &[("p9x1.example", "pass")],
        ),
        // A verified SendGrid host that never aligns, signing as sendgrid.net (legitimate
        // once enrichment names it; fix: sign with d=example.com).
        rec(
            "192.0.2.99",
            4,
            "fail",
            "fail",
            &[("sendgrid.net", "pass")],
            &[("sendgrid.net", "pass")],
        ),
    ]
}

fn example_org() -> Vec<Rec> {
    // Only aligned mail and one forger.
    vec![
        rec(
            "192.0.2.20",
            30,
            "pass",
            "pass",
            &[("example.org", "pass")],
            &[("example.org", "pass")],
        ),
        rec(
            "100.64.9.9",
            1,
            "fail",
            "fail",
            &[("example.org", "fail")],
            &[("example.org", "fail")],
        ),
    ]
}

struct Backends {
    urls: Vec<StoreUrl>,
    dir: PathBuf,
}

impl Drop for Backends {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(feature = "postgres")]
fn cluster() -> Option<&'static pg::PgCluster> {
    static CLUSTER: std::sync::OnceLock<Option<pg::PgCluster>> = std::sync::OnceLock::new();
    CLUSTER.get_or_init(pg::PgCluster::start).as_ref()
}

fn backends(tag: &str) -> Backends {
    let dir = std::env::temp_dir().join(format!("mailward-rollups-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    #[allow(unused_mut)]
    let mut urls = vec![StoreUrl::Sqlite(dir.join("store.db"))];
    #[cfg(feature = "postgres")]
    if let Some(c) = cluster() {
        urls.push(StoreUrl::Postgres(c.create_database(tag)));
    }
    Backends { urls, dir }
}

async fn ingest(store: &Store, name: &str, xml: &str) {
    store
        .ingest(name, xml.as_bytes(), &IngestOptions::new())
        .await
        .unwrap();
}

/// Four days of example.com from two reporters (one with a two-day period), example.org, a
/// duplicate, and a replacement by a more complete copy.
async fn fill(store: &Store) {
    for day in 0..4 {
        ingest(
            store,
            "a",
            &report(
                "a.example",
                &format!("a{day}"),
                "example.com",
                day,
                1,
                &example_com(day),
            ),
        )
        .await;
    }
    ingest(
        store,
        "b",
        &report("b.example", "b0", "example.com", 1, 2, &example_com(9)),
    )
    .await;
    ingest(
        store,
        "c",
        &report("a.example", "o0", "example.org", 2, 1, &example_org()),
    )
    .await;
    // The same report again: a duplicate, nothing added.
    ingest(
        store,
        "d",
        &report("a.example", "o0", "example.org", 2, 1, &example_org()),
    )
    .await;
    // A copy of a3 with one more record replaces it.
    let mut more = example_com(3);
    more.push(rec("100.64.0.3", 5, "fail", "fail", &[], &[]));
    ingest(
        store,
        "e",
        &report("a.example", "a3", "example.com", 3, 1, &more),
    )
    .await;
}

fn windows() -> Vec<Window> {
    let day = |first: i64, last: i64| Window {
        first_day: Some(FIRST_DAY + first),
        last_day: Some(FIRST_DAY + last),
    };
    vec![
        Window::all(),
        day(0, 0),
        day(1, 2),
        day(2, 3),
        day(0, 9),
        day(5, 9),
    ]
}

/// Totals and daily series from the rollup against those of the per-record summary.
async fn assert_rollups_match_summary(store: &Store, when: &str) {
    for window in windows() {
        let filter = Filter::new(window);
        let summary = store.summary(&filter).await.unwrap();
        let totals = store.totals(&filter).await.unwrap();
        assert_eq!(
            totals.keys().collect::<Vec<_>>(),
            summary.domains.keys().collect::<Vec<_>>(),
            "{when} {window:?}"
        );
        for (domain, s) in &summary.domains {
            let t = &totals[domain];
            assert_eq!(
                (
                    t.volume,
                    t.dkim_aligned_pass,
                    t.spf_aligned_pass,
                    t.dmarc_pass
                ),
                (
                    s.volume,
                    s.dkim_aligned_pass,
                    s.spf_aligned_pass,
                    s.dmarc_pass
                ),
                "{when} {domain} {window:?}"
            );
            assert_eq!(t.reporters, s.reporters, "{when} {domain} {window:?}");
            assert_eq!(t.published_p, s.published_p, "{when} {domain} {window:?}");
            let f = filter.clone().domain(domain);
            let all: BTreeSet<IpAddr> = s.sources.keys().copied().collect();
            assert_eq!(
                store.daily(&f).await.unwrap(),
                store.daily_for(&f, &all).await.unwrap(),
                "{when} {domain} {window:?}"
            );
        }
    }
}

/// `ip_days` against a GROUP BY over `daily`, read from the SQLite file.
fn assert_ip_days_are_sums(url: &StoreUrl) {
    let StoreUrl::Sqlite(path) = url else { return };
    let c = rusqlite::Connection::open(path).unwrap();
    let read = |sql: &str| -> Vec<(String, String, i64, i64, i64)> {
        let mut st = c.prepare(sql).unwrap();
        st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let sums = read(
        "SELECT domain, source_ip, day, SUM(count),
                SUM(CASE WHEN dkim_pass = 1 OR spf_pass = 1 THEN count ELSE 0 END)
         FROM daily GROUP BY domain, source_ip, day ORDER BY 1, 2, 3",
    );
    let rollup =
        read("SELECT domain, source_ip, day, messages, dmarc_pass FROM ip_days ORDER BY 1, 2, 3");
    assert!(!sums.is_empty());
    assert_eq!(rollup, sums);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_are_the_sums_of_what_is_stored() {
    let b = backends("sums");
    for url in &b.urls {
        let store = Store::open(url).await.unwrap();
        fill(&store).await;
        assert_rollups_match_summary(&store, "after ingest").await;
        assert_ip_days_are_sums(url);
        // Prune the reports whose period ended before day 2: a0, a1 (and b0 spans 1..2, so
        // it stays).
        let removed = store.prune(D0 as i64 + 2 * DAY as i64).await.unwrap();
        assert_eq!(removed, 2);
        assert_rollups_match_summary(&store, "after prune").await;
        assert_ip_days_are_sums(url);
    }
}

/// Per domain: (readiness, aligned groups, unaligned groups) from the overview.
async fn overview_of(store: &Store, window: Window) -> Vec<(String, String, usize, usize)> {
    store
        .overview(&window, &ServiceMap::builtin())
        .await
        .unwrap()
        .into_iter()
        .map(|o| {
            let n = |c| o.classes.get(&c).copied().unwrap_or(0);
            (
                o.domain,
                o.verdict,
                n(SourceClass::Aligned),
                n(SourceClass::Unaligned),
            )
        })
        .collect()
}

/// The same from assessing every source.
async fn full_assessment_of(store: &Store, window: Window) -> Vec<(String, String, usize, usize)> {
    let mut out = Vec::new();
    let totals = store.totals(&Filter::new(window)).await.unwrap();
    for (domain, t) in totals {
        let sources = store
            .assessed_sources(&Filter::new(window).domain(&domain), &ServiceMap::builtin())
            .await
            .unwrap();
        let n = |c| sources.iter().filter(|s| s.assessment.class == c).count();
        let verdict = readiness(
            t.published_p.as_ref(),
            t.volume,
            fixable(sources.iter().map(|s| &s.assessment)),
        );
        out.push((
            domain,
            verdict.to_string(),
            n(SourceClass::Aligned),
            n(SourceClass::Unaligned),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_assesses_as_the_domain_page_does() {
    let zone = "$ORIGIN example.\n$TTL 3600\n\
        99.2.0.192.in-addr.arpa. IN PTR o1.ptr4242.sendgrid.net.\n\
        o1.ptr4242.sendgrid.net. IN A 192.0.2.99\n";
    let b = backends("overview");
    for url in &b.urls {
        let store = Store::open(url).await.unwrap();
        fill(&store).await;
        let all = Window::all();
        // Before enrichment, the SendGrid host is one more address that never aligns: a
        // likely forgery. Aligned: the own server; unaligned: the ESP (fixable) and the
        // forwarder (not), so one source holds the domain back.
        let before = overview_of(&store, all).await;
        assert_eq!(before, full_assessment_of(&store, all).await);
        assert_eq!(
            before[0],
            (
                "example.com".to_owned(),
                "not ready: 1 legitimate source still fails alignment".to_owned(),
                1,
                2
            )
        );
        assert_eq!(before[1].1, "ready for quarantine");

        let resolver: ZoneResolver = zone.parse().unwrap();
        store
            .enrich(
                &resolver,
                &EnrichOptions::default(),
                &AtomicBool::new(false),
            )
            .await
            .unwrap();
        // Now it is a verified SendGrid host signing as sendgrid.net: a second fixable one.
        for window in windows() {
            assert_eq!(
                overview_of(&store, window).await,
                full_assessment_of(&store, window).await,
                "{window:?}"
            );
        }
        assert_eq!(
            overview_of(&store, all).await[0].1,
            "not ready: 2 legitimate sources still fail alignment"
        );
        assert_list_and_source_agree_with_all(&store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_1_store_is_upgraded() {
    let b = backends("upgrade");
    let url = &b.urls[0];
    let StoreUrl::Sqlite(path) = url else {
        unreachable!()
    };
    let store = Store::open(url).await.unwrap();
    fill(&store).await;
    let filter = Filter::new(Window::all()).domain("example.com");
    let services = ServiceMap::builtin();
    let expected = store.assessed_sources(&filter, &services).await.unwrap();
    drop(store);
    // Back to schema 1, as that version wrote it.
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "DROP TABLE tls_deliveries; DROP TABLE tls_failures; DROP TABLE tls_policies;
         DROP TABLE tls_reports;
         DROP INDEX ip_days_passing; DROP INDEX reports_domain_end;
         DROP TABLE ip_days; DROP TABLE domain_days;
         ALTER TABLE daily DROP COLUMN auth; ALTER TABLE daily DROP COLUMN evidence;
         UPDATE mailward_meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    let store = Store::open(url).await.unwrap();
    assert_rollups_match_summary(&store, "after the upgrade").await;
    assert_ip_days_are_sums(url);
    let got = store.assessed_sources(&filter, &services).await.unwrap();
    let view = |v: &[mailward_store::readiness::AssessedSource]| -> Vec<String> {
        v.iter()
            .map(|s| {
                format!(
                    "{} {} {:?} {:?} {:?} {}",
                    s.group.key,
                    s.group.messages,
                    s.group.evidence,
                    s.group.dkim,
                    s.group.spf,
                    s.assessment.why
                )
            })
            .collect()
    };
    assert_eq!(view(&got), view(&expected));
    assert!(got.iter().any(|s| !s.group.dkim.is_empty()));
}

/// The busiest groups, the counts per class and one group with its days, each against the
/// full list of every source.
async fn assert_list_and_source_agree_with_all(store: &Store) {
    let services = ServiceMap::builtin();
    for window in windows() {
        let filter = Filter::new(window).domain("example.com");
        let all = store.assessed_sources(&filter, &services).await.unwrap();
        let list = store
            .source_list(&filter, &services, Detail::Busiest(3))
            .await
            .unwrap();
        let keys = |v: &[mailward_store::readiness::AssessedSource]| -> Vec<String> {
            v.iter().map(|s| s.group.key.clone()).collect()
        };
        assert_eq!(
            keys(&list.shown),
            keys(&all[..all.len().min(3)]),
            "{window:?}"
        );
        assert_eq!(list.total, all.len());
        for class in [
            SourceClass::Aligned,
            SourceClass::Unaligned,
            SourceClass::Forgery,
        ] {
            let of: Vec<_> = all.iter().filter(|s| s.assessment.class == class).collect();
            let c = list.classes.get(&class).copied().unwrap_or_default();
            assert_eq!(c.groups, of.len(), "{class:?} {window:?}");
            assert_eq!(
                c.dmarc_fail,
                of.iter().map(|s| s.group.dmarc_fail).sum::<u64>(),
                "{class:?} {window:?}"
            );
        }
        // One group by its key, and by one of its addresses: the same as in the full list,
        // and its days sum to its messages.
        for s in &all {
            for key in [s.group.key.clone(), s.group.addresses[0].ip.to_string()] {
                let found = store
                    .source(&filter, &key, &services)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(found.source.group.key, s.group.key);
                assert_eq!(found.source.group.messages, s.group.messages);
                assert_eq!(found.source.group.dkim, s.group.dkim);
                assert_eq!(found.source.assessment, s.assessment);
                let by_day: u64 = found.daily.iter().map(|d| d.messages).sum();
                assert_eq!(by_day, s.group.messages, "{key} {window:?}");
            }
        }
        assert!(
            store
                .source(&filter, "203.0.113.254", &services)
                .await
                .unwrap()
                .is_none()
        );
    }
}
