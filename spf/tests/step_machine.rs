//! The sans-I/O step machine driven by hand: limits that need precise control of the answers
//! (PTR name limit, hostile resolvers) and caller misuse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use mailward_spf::{CheckHost, DnsAnswer, DnsQuery, Query, SpfOutcome, SpfResult, Step};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, Lookup, Mx, Txt};

/// Drives the machine with `f` answering every query; returns the outcome and the queries.
fn drive(q: &Query, mut f: impl FnMut(&DnsQuery) -> DnsAnswer) -> (SpfOutcome, Vec<DnsQuery>) {
    let mut m = CheckHost::new(q);
    let mut seen = Vec::new();
    loop {
        match m.next() {
            Step::Done(o) => return (o, seen),
            Step::Query(query) => {
                let a = f(&query);
                seen.push(query);
                m.answer(a);
                assert!(seen.len() < 10_000, "unbounded queries");
            }
            _ => unreachable!(),
        }
    }
}

fn txt(s: &str) -> DnsAnswer {
    DnsAnswer::Txt(Ok(Lookup::new(vec![Txt::from(s)], 60)))
}

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

#[test]
fn ptr_names_beyond_ten_are_ignored() {
    // RFC 7208 §4.6.4: "If this limit is exceeded, all records other than the first 10 MUST be
    // ignored." Only the 11th name would validate, so ptr does not match.
    let q = Query::mail_from(
        "192.0.2.1".parse().unwrap(),
        "a@example.com",
        "h.example.com",
    );
    let (o, queries) = drive(&q, |query| match query {
        DnsQuery::Txt(_) => txt("v=spf1 ptr:example.com -all"),
        DnsQuery::Ptr(_) => DnsAnswer::Ptr(Ok(Lookup::new(
            (1..=11).map(|i| d(&format!("n{i}.example.com"))).collect(),
            60,
        ))),
        DnsQuery::A(name) if name.as_str() == "n11.example.com" => {
            DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(192, 0, 2, 1)], 60)))
        }
        DnsQuery::A(_) => DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(192, 0, 2, 250)], 60))),
        other => panic!("unexpected {other}"),
    });
    assert_eq!(o.result, SpfResult::Fail);
    let a_queries = queries
        .iter()
        .filter(|q| matches!(q, DnsQuery::A(_)))
        .count();
    assert_eq!(a_queries, 10);
    // The same with the match at the 10th name passes.
    let (o, _) = drive(&q, |query| match query {
        DnsQuery::Txt(_) => txt("v=spf1 ptr:example.com -all"),
        DnsQuery::Ptr(_) => DnsAnswer::Ptr(Ok(Lookup::new(
            (1..=11).map(|i| d(&format!("n{i}.example.com"))).collect(),
            60,
        ))),
        DnsQuery::A(name) if name.as_str() == "n10.example.com" => {
            DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(192, 0, 2, 1)], 60)))
        }
        DnsQuery::A(_) => DnsAnswer::A(Err(DnsError::NXDOMAIN)),
        other => panic!("unexpected {other}"),
    });
    assert_eq!(o.result, SpfResult::Pass);
}

#[test]
fn hostile_resolver_is_bounded() {
    // Every name has a record that asks for more work, every MX has 10 hosts, every PTR 50
    // names: the §4.6.4 limits still end the evaluation in a bounded number of queries.
    let q = Query::mail_from(
        "192.0.2.1".parse().unwrap(),
        "a@example.com",
        "h.example.com",
    );
    let (o, queries) = drive(&q, |query| match query {
        DnsQuery::Txt(name) => txt(&format!(
            "v=spf1 a mx ptr include:i.{name} redirect=r.{name} exp=e.{name}"
        )),
        DnsQuery::Mx(_) => DnsAnswer::Mx(Ok(Lookup::new(
            (0..10)
                .map(|i| Mx {
                    preference: i,
                    exchange: Some(d(&format!("m{i}.example.net"))),
                })
                .collect(),
            60,
        ))),
        DnsQuery::Ptr(_) => DnsAnswer::Ptr(Ok(Lookup::new(
            (0..50).map(|i| d(&format!("p{i}.example.net"))).collect(),
            60,
        ))),
        DnsQuery::A(_) => DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(10, 0, 0, 1)], 60))),
        DnsQuery::Aaaa(_) => DnsAnswer::Aaaa(Err(DnsError::NODATA)),
        _ => panic!("unexpected"),
    });
    assert_eq!(o.result, SpfResult::PermError);
    assert_eq!(o.lookups, 11);
    // 10 terms: each at most 1 + 10 queries, PTR 1 + 10, TXT fetches for each include.
    assert!(queries.len() <= 10 * 11 + 11 + 10, "{}", queries.len());
}

#[test]
fn mismatched_answers_are_dns_errors() {
    let q = Query::mail_from(
        "192.0.2.1".parse().unwrap(),
        "a@example.com",
        "h.example.com",
    );
    let (o, _) = drive(&q, |_| DnsAnswer::A(Err(DnsError::NXDOMAIN)));
    assert_eq!(o.result, SpfResult::TempError);
    // An answer when none is expected is ignored.
    let mut m = CheckHost::new(&q);
    m.answer(txt("v=spf1 +all"));
    assert!(matches!(m.next(), Step::Query(DnsQuery::Txt(_))));
    m.answer(txt("v=spf1 +all"));
    assert!(matches!(m.next(), Step::Done(o) if o.result == SpfResult::Pass));
    // Done is sticky.
    assert!(matches!(m.next(), Step::Done(o) if o.result == SpfResult::Pass));
}

#[test]
fn empty_lookup_is_nodata() {
    // The trait says resolvers must not return an empty Lookup; callers still treat one as
    // NODATA, i.e. a void lookup.
    let q = Query::mail_from(
        "192.0.2.1".parse().unwrap(),
        "a@example.com",
        "h.example.com",
    );
    let (o, _) = drive(&q, |query| match query {
        DnsQuery::Txt(_) => txt("v=spf1 a:x.example.com a:y.example.com a:z.example.com -all"),
        _ => DnsAnswer::A(Ok(Lookup::new(vec![], 60))),
    });
    assert_eq!((o.result, o.void_lookups), (SpfResult::PermError, 3));
}

#[test]
fn p_macro_prefers_the_domain() {
    // RFC 7208 §7.3: "If the <domain> is present in the list of validated domains, it SHOULD
    // be used. Otherwise, if a subdomain of the <domain> is present, it SHOULD be used."
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let q = Query::mail_from(ip, "a@example.com", "h.example.com");
    let (o, queries) = drive(&q, |query| match query {
        DnsQuery::Txt(_) => txt("v=spf1 exists:%{p}.p.example.org -all"),
        DnsQuery::Ptr(_) => DnsAnswer::Ptr(Ok(Lookup::new(
            vec![
                d("other.example.net"),
                d("mail.example.com"),
                d("bad.example.com"),
            ],
            60,
        ))),
        DnsQuery::A(n) if n.as_str() == "bad.example.com" => {
            DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(10, 0, 0, 1)], 60)))
        }
        DnsQuery::A(n) if n.as_str().ends_with(".p.example.org") => {
            DnsAnswer::A(Err(DnsError::NXDOMAIN))
        }
        DnsQuery::A(_) => DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(192, 0, 2, 1)], 60))),
        other => panic!("unexpected {other}"),
    });
    assert_eq!(o.result, SpfResult::Fail);
    assert!(queries.contains(&DnsQuery::A(d("mail.example.com.p.example.org"))));
}

#[test]
fn ipv4_mapped_client_queries_a() {
    let q = Query::mail_from(
        "::ffff:192.0.2.1".parse().unwrap(),
        "a@example.com",
        "h.example.com",
    );
    let (o, queries) = drive(&q, |query| match query {
        DnsQuery::Txt(_) => txt("v=spf1 a -all"),
        DnsQuery::A(_) => DnsAnswer::A(Ok(Lookup::new(vec![Ipv4Addr::new(192, 0, 2, 1)], 60))),
        other => panic!("unexpected {other}"),
    });
    assert_eq!(o.result, SpfResult::Pass);
    assert_eq!(queries.len(), 2);
}

#[test]
fn record_cache_gives_the_same_outcome() {
    // The provider chain of the bench: evaluated without a cache, then twice with one (the
    // second time every record comes from the cache); the outcomes, traces included, are equal.
    let chain = include_str!("data/provider_chain.txt");
    let records: Vec<(Domain, String)> = chain
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (n, r) = l.split_once(' ').unwrap();
            (d(n), r.to_owned())
        })
        .collect();
    let answer = |query: &DnsQuery| match query {
        DnsQuery::Txt(name) => match records.iter().find(|(n, _)| n == name) {
            Some((_, r)) => txt(r),
            None => DnsAnswer::Txt(Err(DnsError::NXDOMAIN)),
        },
        _ => DnsAnswer::A(Err(DnsError::NXDOMAIN)),
    };
    let q = Query::mail_from(
        "203.0.113.77".parse().unwrap(),
        "user@example.com",
        "mx.example.com",
    );
    let (plain, _) = drive(&q, answer);
    assert_eq!(plain.result, SpfResult::Pass);
    let cache = mailward_spf::RecordCache::new();
    let qc = q.clone().with_record_cache(cache.clone());
    let (first, _) = drive(&qc, answer);
    assert_eq!(cache.len(), 5);
    let (second, _) = drive(&qc, answer);
    assert_eq!(cache.len(), 5);
    assert_eq!(first, plain);
    assert_eq!(second, plain);
}

/// The MAIL FROM check of a@example.com from 192.0.2.9 through `cache`, at time `t` (`None`: no
/// timestamp).
fn cached_query(cache: &mailward_spf::RecordCache, t: Option<u64>) -> Query {
    let q = Query::mail_from(
        "192.0.2.9".parse().unwrap(),
        "a@example.com",
        "h.example.com",
    )
    .with_record_cache(cache.clone());
    match t {
        Some(t) => q.with_timestamp(t),
        None => q,
    }
}

/// Answers TXT queries with the record `published` holds at the time (TTL 60 s), everything else
/// with NXDOMAIN.
fn publishing<'a>(
    published: &'a std::cell::RefCell<&'static str>,
) -> impl FnMut(&DnsQuery) -> DnsAnswer + 'a {
    move |query| match query {
        DnsQuery::Txt(_) => txt(&published.borrow()),
        _ => DnsAnswer::A(Err(DnsError::NXDOMAIN)),
    }
}

#[test]
fn record_cache_answers_while_the_ttl_lasts() {
    // A cached record is used without a TXT query while its answer's TTL (60 s) lasts, counted
    // from the query's timestamp; then it is asked for again, and a record that changed
    // meanwhile is the one evaluated.
    let published = std::cell::RefCell::new("v=spf1 ip4:192.0.2.0/24 -all");
    let cache = mailward_spf::RecordCache::new();
    let at = |t| cached_query(&cache, Some(t));
    let (o, queries) = drive(&at(1000), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Pass, 1));
    // 59 s later: from the cache, and the trace says so.
    let (o, queries) = drive(&at(1059), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Pass, 0));
    let lines: Vec<String> = o.trace.iter().map(|e| e.to_string()).collect();
    assert_eq!(lines[1], "query TXT example.com -> cached", "{lines:#?}");
    // The record changes; the cache does not know until the TTL has run out (60 s after 1000).
    *published.borrow_mut() = "v=spf1 -all";
    let (o, queries) = drive(&at(1059), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Pass, 0));
    let (o, queries) = drive(&at(1060), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Fail, 1));
    // The new answer is fresh from 1060 on.
    let (o, queries) = drive(&at(1119), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Fail, 0));
    // Without a timestamp the crate has no clock: every record is queried (and the cached
    // parse reused when the text is the same).
    let (o, queries) = drive(&cached_query(&cache, None), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Fail, 1));
}

#[test]
fn record_cache_caps_and_honours_zero_ttls() {
    let with_ttl = |ttl: u32| {
        move |query: &DnsQuery| match query {
            DnsQuery::Txt(_) => {
                DnsAnswer::Txt(Ok(Lookup::new(vec![Txt::from("v=spf1 -all")], ttl)))
            }
            _ => DnsAnswer::A(Err(DnsError::NXDOMAIN)),
        }
    };
    // TTL 0: never reused without asking.
    let cache = mailward_spf::RecordCache::new();
    drive(&cached_query(&cache, Some(1000)), with_ttl(0));
    assert_eq!(
        drive(&cached_query(&cache, Some(1000)), with_ttl(0))
            .1
            .len(),
        1
    );
    // A week-long TTL is used for at most MAX_CACHED_TTL seconds.
    let cache = mailward_spf::RecordCache::new();
    let max = u64::from(mailward_spf::MAX_CACHED_TTL);
    drive(&cached_query(&cache, Some(1000)), with_ttl(7 * 86_400));
    let later = |t| drive(&cached_query(&cache, Some(t)), with_ttl(60)).1.len();
    assert_eq!(later(1000 + max - 1), 0);
    assert_eq!(later(1000 + max), 1);
}

#[test]
fn record_cache_freshness_is_bounded_on_both_sides() {
    // An answer is fresh from the time it came until its TTL ran out, never outside: a query
    // with a far-future timestamp (a bad clock, a message date) cannot keep an entry fresh for
    // later queries, nor can a clock that steps back (found by the review of this change).
    let published = std::cell::RefCell::new("v=spf1 +all");
    let cache = mailward_spf::RecordCache::new();
    let at = |t| cached_query(&cache, Some(t));
    let (o, queries) = drive(&at(u64::MAX - 5), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Pass, 1));
    *published.borrow_mut() = "v=spf1 -all";
    let (o, queries) = drive(&at(1_800_000_000), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Fail, 1));
    // Fetched at 1_800_000_000 with TTL 60: a day earlier it is not fresh.
    *published.borrow_mut() = "v=spf1 +all";
    let (o, queries) = drive(&at(1_800_000_000 - 86_400), publishing(&published));
    assert_eq!((o.result, queries.len()), (SpfResult::Pass, 1));
    // A query without a timestamp leaves the freshness of the last timed answer as it was.
    assert_eq!(
        drive(&cached_query(&cache, None), publishing(&published))
            .1
            .len(),
        1
    );
    let (_, queries) = drive(&at(1_800_000_000 - 86_400 + 30), publishing(&published));
    assert_eq!(queries.len(), 0);
}
