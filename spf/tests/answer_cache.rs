//! A `RecordCache` given to queries with a clock reading also keeps the positive A, AAAA and MX
//! answers an evaluation asked for, while their TTLs last: a warm `mx a` record makes no
//! resolver call at all. Expectations are counted against a resolver that records every call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use mailward_spf::{Query, RecordCache, SpfResult, evaluate};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

/// `example.net` publishes `v=spf1 mx a -all`; its MX hosts have TTLs 300 (mx1) and 60 (mx2),
/// the MX answer 600; `void.example.net` has no addresses.
struct Counting {
    calls: Mutex<Vec<String>>,
}

impl Counting {
    fn new() -> Self {
        Self {
            calls: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn log(&self, what: String) {
        self.calls.lock().unwrap().push(what);
    }
}

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

impl Resolver for Counting {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.log(format!("TXT {name}"));
        match name.as_str() {
            "example.net" => Ok(Lookup::new(vec![Txt::from("v=spf1 mx a -all")], 3600)),
            "void.example.net" => Ok(Lookup::new(
                vec![Txt::from("v=spf1 a:none.example.net ?all")],
                3600,
            )),
            _ => Err(DnsError::NXDOMAIN),
        }
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.log(format!("A {name}"));
        match name.as_str() {
            "mx1.example.net" => Ok(Lookup::new(vec![Ipv4Addr::new(198, 51, 100, 1)], 300)),
            "mx2.example.net" => Ok(Lookup::new(vec![Ipv4Addr::new(198, 51, 100, 2)], 60)),
            "example.net" => Ok(Lookup::new(vec![Ipv4Addr::new(198, 51, 100, 80)], 300)),
            _ => Err(DnsError::NXDOMAIN),
        }
    }
    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.log(format!("AAAA {name}"));
        Err(DnsError::NXDOMAIN)
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.log(format!("MX {name}"));
        match name.as_str() {
            "example.net" => Ok(Lookup::new(
                vec![
                    Mx {
                        preference: 20,
                        exchange: Some(d("mx2.example.net")),
                    },
                    Mx {
                        preference: 10,
                        exchange: Some(d("mx1.example.net")),
                    },
                ],
                600,
            )),
            _ => Err(DnsError::NXDOMAIN),
        }
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        self.log("PTR".into());
        Err(DnsError::NXDOMAIN)
    }
}

const T0: u64 = 1_700_000_000;

fn check(r: &Counting, ip: &str, sender: &str, at: u64, cache: &RecordCache) -> SpfResult {
    let q = Query::mail_from(ip.parse().unwrap(), sender, "h.example.net")
        .with_timestamp(at)
        .with_record_cache(cache.clone());
    pollster::block_on(evaluate(r, &q)).result
}

#[test]
fn warm_mx_and_a_make_no_resolver_calls() {
    let r = Counting::new();
    let cache = RecordCache::new();
    // Client = the second MX host by preference (mx2, preference 20).
    assert_eq!(
        check(&r, "198.51.100.2", "a@example.net", T0, &cache),
        SpfResult::Pass
    );
    assert_eq!(
        r.take(),
        [
            "TXT example.net",
            "MX example.net",
            "A mx1.example.net",
            "A mx2.example.net"
        ]
    );
    assert_eq!(
        check(&r, "198.51.100.2", "a@example.net", T0 + 59, &cache),
        SpfResult::Pass
    );
    assert_eq!(r.take(), Vec::<String>::new());
    // The `a` term's own lookup, then cached as well.
    assert_eq!(
        check(&r, "198.51.100.80", "a@example.net", T0 + 1, &cache),
        SpfResult::Pass
    );
    assert_eq!(r.take(), ["A example.net"]);
    assert_eq!(
        check(&r, "198.51.100.80", "a@example.net", T0 + 2, &cache),
        SpfResult::Pass
    );
    assert_eq!(r.take(), Vec::<String>::new());
    // mx2's answer had TTL 60: at T0 + 60 it is asked again, the rest is still fresh.
    assert_eq!(
        check(&r, "198.51.100.2", "a@example.net", T0 + 60, &cache),
        SpfResult::Pass
    );
    assert_eq!(r.take(), ["A mx2.example.net"]);
    // A client that matches nothing: every address is compared, none asked again.
    assert_eq!(
        check(&r, "192.0.2.9", "a@example.net", T0 + 61, &cache),
        SpfResult::Fail
    );
    assert_eq!(r.take(), Vec::<String>::new());
    // The record cache holds one record; the answers are not counted as records.
    assert_eq!(cache.len(), 1);
    cache.clear();
    assert_eq!(
        check(&r, "198.51.100.2", "a@example.net", T0 + 62, &cache),
        SpfResult::Pass
    );
    assert_eq!(r.take().len(), 4);
}

#[test]
fn void_answers_and_queries_without_a_clock_are_not_cached() {
    let r = Counting::new();
    let cache = RecordCache::new();
    // NXDOMAIN for the `a` target: asked every time (the record itself is cached).
    assert_eq!(
        check(&r, "192.0.2.1", "a@void.example.net", T0, &cache),
        SpfResult::Neutral
    );
    assert_eq!(r.take(), ["TXT void.example.net", "A none.example.net"]);
    assert_eq!(
        check(&r, "192.0.2.1", "a@void.example.net", T0 + 1, &cache),
        SpfResult::Neutral
    );
    assert_eq!(r.take(), ["A none.example.net"]);
    // Without a timestamp nothing is fresh: every lookup goes to the resolver.
    let r = Counting::new();
    for _ in 0..2 {
        assert_eq!(
            check(&r, "198.51.100.2", "a@example.net", 0, &cache),
            SpfResult::Pass
        );
        assert_eq!(
            r.take(),
            [
                "TXT example.net",
                "MX example.net",
                "A mx1.example.net",
                "A mx2.example.net"
            ]
        );
    }
}
