//! The trace names every MX exchange's address lookup by the exchange it asked for, whether the
//! exchanges are kept with the frame (its first `mx` term) or in the trace's query table (a
//! second `mx` term of the same frame), in the checked domain's record and in an included one,
//! asked of the resolver or answered from a `RecordCache`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mailward_dns::ZoneResolver;
use mailward_spf::{Query, RecordCache, SpfResult, evaluate};

/// `example.com` checks its own exchanges, then `other.example`'s, then includes `inc.example`,
/// which does the same with its own. Only `z2.inc.example` has the client's address, so every
/// exchange is asked for, in this order (RFC 7208 §5.4: by preference).
const ZONE: &str = "\
example.com.       300 TXT \"v=spf1 mx mx:other.example include:inc.example -all\"
example.com.       300 MX 10 a.example.com.
a.example.com.     300 A 192.0.2.1
other.example.     300 MX 20 c.other.example.
other.example.     300 MX 10 b.other.example.
b.other.example.   300 A 192.0.2.2
c.other.example.   300 A 192.0.2.3
inc.example.       300 TXT \"v=spf1 mx mx:two.inc.example -all\"
inc.example.       300 MX 10 y.inc.example.
y.inc.example.     300 A 192.0.2.4
two.inc.example.   300 MX 10 z1.inc.example.
two.inc.example.   300 MX 20 z2.inc.example.
z1.inc.example.    300 A 192.0.2.5
z2.inc.example.    300 A 192.0.2.9
";

const EXCHANGES: [&str; 6] = [
    "a.example.com",
    "b.other.example",
    "c.other.example",
    "y.inc.example",
    "z1.inc.example",
    "z2.inc.example",
];

/// The exchanges whose A lookups the trace shows, in order, and whether each came from the
/// cache.
fn exchanges_asked(lines: &[String]) -> Vec<(String, bool)> {
    lines
        .iter()
        .filter_map(|l| {
            let q = l.trim_start().strip_prefix("query A ")?;
            let (name, answer) = q.split_once(" -> ")?;
            Some((name.to_owned(), answer == "cached"))
        })
        .collect()
}

#[test]
fn every_exchange_lookup_names_its_exchange() {
    let dns = ZoneResolver::parse(ZONE, "").unwrap();
    let plain = Query::mail_from("192.0.2.9".parse().unwrap(), "a@example.com", "h.example");
    let cached = plain
        .clone()
        .with_record_cache(RecordCache::new())
        .with_timestamp(1_700_000_000);
    for (q, from_cache) in [(&plain, false), (&cached, false), (&cached, true)] {
        let o = pollster::block_on(evaluate(&dns, q));
        assert_eq!(o.result, SpfResult::Pass);
        assert_eq!(o.mechanism.unwrap().to_string(), "include:inc.example");
        let lines: Vec<String> = o.trace.iter().map(|e| e.to_string()).collect();
        assert!(lines.iter().all(|l| !l.contains("missing")), "{lines:#?}");
        let asked = exchanges_asked(&lines);
        let names: Vec<&str> = asked.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, EXCHANGES, "{lines:#?}");
        assert!(asked.iter().all(|(_, c)| *c == from_cache), "{lines:#?}");
    }
}
