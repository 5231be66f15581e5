//! The OpenSPF test suites (`tests/data/openspf/`, see the README there): every test of
//! `rfc7208-tests.yml` and `rfc4408-tests.yml` run through [`evaluate`] over an in-memory
//! resolver built from the scenario's `zonedata`.
//!
//! The harness follows the conventions of the suites' reference driver (pyspf's
//! `test/testspf.py`), which the suites' own header relies on:
//!
//! - **SPF-type records.** RFC 7208 §3.1 retired the SPF RR type, and this crate never asks for
//!   it (the resolver has no such query). The suites still write most policies as `SPF:`
//!   entries and say "other sections rely on auto-magic duplication of SPF to TXT records (by
//!   test suite drivers)": at a name with no `TXT:` entry at all, the `SPF:` entries answer the
//!   TXT query; a name with any `TXT:` entry (even `TXT: NONE`, which stands for "no TXT
//!   record") answers TXT queries with its TXT entries only, so its SPF-type records are never
//!   seen (the "Record lookup" and "Selecting records" scenarios test exactly that).
//! - **`TIMEOUT`.** A name with the `TIMEOUT` marker times out for every record type except the
//!   types listed before the marker (`spftimeout.example.net` has a TXT record and then
//!   `TIMEOUT`: its TXT query is answered, the SPF-type query it stood for would time out).
//!   In both files every marker is either alone at its name or last, so this is "times out for
//!   every type it has no record of".
//! - **Empty MAIL FROM.** `mailfrom: ""` is a null reverse-path: RFC 7208 §2.4 checks
//!   `postmaster@<helo>`, which is the HELO identity's check (§2.3), and the tests written that
//!   way are about the HELO name (`helo-not-fqdn`, `helo-domain-literal`). They run as
//!   [`Query::helo`]; the same test as [`Query::mail_from`] with `""` must give the same result
//!   and explanation, and a difference is reported as a failure.
//! - **Explanations.** The driver sets the default explanation to `DEFAULT`, so an expected
//!   `explanation: DEFAULT` means the domain gave none ([`SpfOutcome::explanation`] is `None`).
//! - **Other lookups.** A name absent from `zonedata` is NXDOMAIN; a present name without
//!   records of the asked type is NODATA. CNAMEs are followed (as the `Resolver` contract
//!   asks), names compare case-insensitively with the trailing dot ignored, and a CNAME loop or
//!   a chain longer than [`MAX_CNAME_HOPS`] answers SERVFAIL, as recursive resolvers do.
//!
//! A test passes when the result is one of `result` (a string or a list of acceptable results)
//! and, when `explanation` is given, the explanation equals it. The number of passes of each
//! suite is printed (`rfc7208: N/M`), and every failure is listed.
//!
//! `OPENSPF_DUMP=<path>` writes one JSON object a line per test case to `<path>` (relative to
//! the crate directory when relative), in file order, with the outcome's fields and its
//! rendered trace, so that two builds' outputs can be compared byte for byte.
//!
//! YAML parser: `yaml-rust2` (dev-dependency only). `serde_yaml` is deprecated by its author,
//! `serde_yml` is unmaintained (its last release is a shim over another crate), and
//! `serde_norway` builds on `unsafe-libyaml` (C translated to unsafe Rust) and needs serde
//! derives this file has no use for. `yaml-rust2` is maintained, pure safe Rust, YAML 1.2,
//! keeps mapping order (so the dump follows the files' order), and without its default
//! `encoding` feature adds only two small crates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_spf::{Query, SpfOutcome, evaluate};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt, reverse_name};
use yaml_rust2::{Yaml, YamlLoader};

/// The suites: name, text, and the number of tests each holds (a guard against a parse that
/// silently drops some).
const SUITES: &[(&str, &str, usize)] = &[
    (
        "rfc7208",
        include_str!("data/openspf/rfc7208-tests.yml"),
        203,
    ),
    (
        "rfc4408",
        include_str!("data/openspf/rfc4408-tests.yml"),
        191,
    ),
];

/// TTL of every answer (no test depends on it).
const TTL: u32 = 300;

/// CNAMEs followed before a lookup answers SERVFAIL.
const MAX_CNAME_HOPS: usize = 8;

/// What the reference driver's `set_default_explanation('DEFAULT')` makes of a fail without
/// `exp=`.
const DEFAULT_EXPLANATION: &str = "DEFAULT";

/// Record types of the zone data (`SPF` is the retired type 99).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RrType {
    Txt,
    Spf,
    A,
    Aaaa,
    Mx,
    Ptr,
    Cname,
}

/// The records of one name.
#[derive(Debug, Default)]
struct Node {
    txt: Vec<Txt>,
    /// The name has a `TXT:` entry (even `TXT: NONE`): its SPF-type records are not copied to
    /// TXT.
    txt_given: bool,
    spf: Vec<Txt>,
    a: Vec<Ipv4Addr>,
    aaaa: Vec<Ipv6Addr>,
    mx: Vec<Mx>,
    ptr: Vec<Domain>,
    cname: Option<String>,
    /// The `TIMEOUT` marker, with the types listed before it (those still answer).
    timeout: Option<Vec<RrType>>,
}

impl Node {
    /// The TXT answer: the TXT records, or the SPF-type records copied to TXT when the name has
    /// no TXT entry at all (the suites' driver convention, see the top of this file).
    fn txt_records(&self) -> Vec<Txt> {
        if self.txt_given {
            self.txt.clone()
        } else {
            self.spf.clone()
        }
    }
}

/// One scenario's `zonedata`, keyed by normalised name.
#[derive(Debug, Default)]
struct Zone {
    nodes: HashMap<String, Node>,
}

/// The lookup key of a name: the [`Domain`] form (lower case, no trailing dot), or the lower
/// case text for a name `Domain` rejects (no query can reach it then).
fn key(name: &str) -> String {
    Domain::new(name).map_or_else(
        |_| name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase(),
        |d| d.as_str().to_owned(),
    )
}

impl Zone {
    fn lookup<T>(&self, name: &str, ty: RrType, pick: impl Fn(&Node) -> Vec<T>) -> DnsResult<T> {
        let mut name = key(name);
        for _ in 0..=MAX_CNAME_HOPS {
            let Some(node) = self.nodes.get(&name) else {
                return Err(DnsError::NXDOMAIN);
            };
            if let Some(target) = &node.cname {
                name.clone_from(target);
                continue;
            }
            if let Some(answered) = &node.timeout
                && !answered.contains(&ty)
            {
                return Err(DnsError::Timeout);
            }
            let records = pick(node);
            return if records.is_empty() {
                Err(DnsError::NODATA)
            } else {
                Ok(Lookup::new(records, TTL))
            };
        }
        Err(DnsError::ServFail)
    }

    fn from_yaml(zonedata: &Yaml) -> Self {
        let mut zone = Self::default();
        let Some(names) = zonedata.as_hash() else {
            assert!(
                zonedata.is_null() || zonedata.is_badvalue(),
                "zonedata: {zonedata:?}"
            );
            return zone;
        };
        for (name, entries) in names {
            let name = text(name);
            let k = key(&name);
            assert!(!zone.nodes.contains_key(&k), "{name} given twice");
            let node = zone.nodes.entry(k).or_default();
            let mut listed = Vec::new();
            for entry in entries
                .as_vec()
                .unwrap_or_else(|| panic!("{name}: {entries:?}"))
            {
                if entry.as_str() == Some("TIMEOUT") {
                    node.timeout = Some(listed.clone());
                    continue;
                }
                let record = entry
                    .as_hash()
                    .unwrap_or_else(|| panic!("{name}: {entry:?}"));
                for (ty, value) in record {
                    let ty = match text(ty).as_str() {
                        "TXT" => {
                            node.txt_given = true;
                            match txt(value) {
                                Some(t) => node.txt.push(t),
                                None => continue,
                            }
                            RrType::Txt
                        }
                        "SPF" => {
                            match txt(value) {
                                Some(t) => node.spf.push(t),
                                None => continue,
                            }
                            RrType::Spf
                        }
                        "A" => {
                            node.a.push(text(value).parse().unwrap());
                            RrType::A
                        }
                        "AAAA" => {
                            node.aaaa.push(text(value).parse().unwrap());
                            RrType::Aaaa
                        }
                        "MX" => {
                            node.mx.push(mx(value));
                            RrType::Mx
                        }
                        "PTR" => {
                            node.ptr.push(Domain::new(&text(value)).unwrap());
                            RrType::Ptr
                        }
                        "CNAME" => {
                            node.cname = Some(key(&text(value)));
                            RrType::Cname
                        }
                        other => panic!("{name}: record type {other}"),
                    };
                    listed.push(ty);
                }
            }
        }
        zone
    }
}

/// A TXT or SPF value: one string or a list of character-strings (UTF-8 encoded, as the
/// reference driver does); `None` for the `NONE` placeholder.
fn txt(value: &Yaml) -> Option<Txt> {
    let strings: Vec<String> = match value.as_vec() {
        Some(list) => list.iter().map(text).collect(),
        None => vec![text(value)],
    };
    if strings == ["NONE"] {
        return None;
    }
    Some(Txt::new(
        strings.into_iter().map(String::into_bytes).collect(),
    ))
}

/// An MX value `[preference, exchange]`; an empty exchange is the null MX.
fn mx(value: &Yaml) -> Mx {
    let Some([pref, exchange]) = value.as_vec().map(Vec::as_slice) else {
        panic!("MX {value:?}");
    };
    let pref = u16::try_from(pref.as_i64().unwrap()).unwrap();
    match text(exchange).as_str() {
        "" | "." => Mx::null(pref),
        e => Mx::new(pref, Domain::new(e).unwrap()),
    }
}

/// A scalar as text. The suites quote whatever is not plain text; a number keeps its text.
fn text(v: &Yaml) -> String {
    match v {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("not a text scalar: {other:?}"),
    }
}

impl Resolver for Zone {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.lookup(name.as_str(), RrType::Txt, Node::txt_records)
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.lookup(name.as_str(), RrType::A, |n| n.a.clone())
    }
    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.lookup(name.as_str(), RrType::Aaaa, |n| n.aaaa.clone())
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.lookup(name.as_str(), RrType::Mx, |n| n.mx.clone())
    }
    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.lookup(reverse_name(ip).as_str(), RrType::Ptr, |n| n.ptr.clone())
    }
}

/// One test case of a suite.
#[derive(Debug)]
struct Case {
    scenario: String,
    name: String,
    helo: String,
    host: IpAddr,
    mailfrom: String,
    /// Acceptable results, the preferred first.
    results: Vec<String>,
    explanation: Option<String>,
}

/// The scenarios of one suite, in file order, each with its zone and its tests in file order.
fn load(suite: &str, source: &str) -> Vec<(Zone, Vec<Case>)> {
    let docs = YamlLoader::load_from_str(source).unwrap_or_else(|e| panic!("{suite}: {e}"));
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let scenario = doc["description"]
                .as_str()
                .map_or_else(|| format!("scenario {}", i + 1), str::to_owned);
            let zone = Zone::from_yaml(&doc["zonedata"]);
            let tests = doc["tests"]
                .as_hash()
                .unwrap_or_else(|| panic!("{suite}: {scenario}: no tests"));
            let cases = tests
                .iter()
                .map(|(name, t)| {
                    let name = text(name);
                    let field = |f: &str| {
                        t[f].as_str()
                            .unwrap_or_else(|| panic!("{suite}: {name}: no {f}"))
                            .to_owned()
                    };
                    let results = match t["result"].as_vec() {
                        Some(list) => list.iter().map(text).collect(),
                        None => vec![field("result")],
                    };
                    Case {
                        scenario: scenario.clone(),
                        helo: field("helo"),
                        host: field("host")
                            .parse()
                            .unwrap_or_else(|e| panic!("{suite}: {name}: host: {e}")),
                        mailfrom: field("mailfrom"),
                        results,
                        explanation: t["explanation"].as_str().map(str::to_owned),
                        name,
                    }
                })
                .collect();
            (zone, cases)
        })
        .collect()
}

fn query(case: &Case) -> Query {
    if case.mailfrom.is_empty() {
        Query::helo(case.host, case.helo.as_str())
    } else {
        Query::mail_from(case.host, case.mailfrom.as_str(), case.helo.as_str())
    }
}

fn explanation(o: &SpfOutcome) -> &str {
    o.explanation.as_deref().unwrap_or(DEFAULT_EXPLANATION)
}

/// Why `o` does not pass `case`, if it does not.
fn check(case: &Case, o: &SpfOutcome) -> Option<String> {
    let got = o.result.as_str();
    let result_ok = case.results.iter().any(|r| r == got);
    let exp_ok = case
        .explanation
        .as_deref()
        .is_none_or(|e| e == explanation(o));
    if result_ok && exp_ok {
        return None;
    }
    let mut why = format!("expected result {}", case.results.join(" or "));
    if let Some(e) = &case.explanation {
        let _ = write!(why, ", explanation {e:?}");
    }
    let _ = write!(why, "; got {got}, explanation {:?}", explanation(o));
    if let Some(p) = &o.problem {
        let _ = write!(why, ", problem {p:?}");
    }
    if let Some(m) = &o.mechanism {
        let _ = write!(why, ", mechanism {:?}", m.to_string());
    }
    Some(why)
}

/// A JSON string literal.
fn json(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_owned(), json)
}

/// The dump line of one test case.
fn dump_line(suite: &str, case: &Case, o: &SpfOutcome) -> String {
    let trace: Vec<String> = o.trace.iter().map(|e| json(&e.to_string())).collect();
    format!(
        "{{\"suite\":{},\"scenario\":{},\"test\":{},\"result\":{},\"explanation\":{},\
         \"mechanism\":{},\"problem\":{},\"lookups\":{},\"void_lookups\":{},\"trace\":[{}]}}\n",
        json(suite),
        json(&case.scenario),
        json(&case.name),
        json(o.result.as_str()),
        json_opt(o.explanation.as_deref()),
        json_opt(o.mechanism.as_ref().map(ToString::to_string).as_deref()),
        json_opt(o.problem.as_deref()),
        o.lookups,
        o.void_lookups,
        trace.join(","),
    )
}

#[test]
fn openspf_suites() {
    let mut failures = Vec::new();
    let mut summary = String::new();
    let mut dump = String::new();
    for (suite, source, expected_tests) in SUITES {
        let (mut passed, mut total) = (0usize, 0usize);
        for (zone, cases) in load(suite, source) {
            for case in &cases {
                total += 1;
                let o = pollster::block_on(evaluate(&zone, &query(case)));
                dump.push_str(&dump_line(suite, case, &o));
                let mut why = check(case, &o);
                if why.is_none() && case.mailfrom.is_empty() {
                    // RFC 7208 §2.4: the null reverse-path is checked as postmaster@<helo>,
                    // the same check_host() as the HELO identity's (§2.3).
                    let q = Query::mail_from(case.host, "", case.helo.as_str());
                    let m = pollster::block_on(evaluate(&zone, &q));
                    if (m.result, m.explanation.as_deref()) != (o.result, o.explanation.as_deref())
                    {
                        why = Some(format!(
                            "as HELO {} ({:?}), as null MAIL FROM {} ({:?})",
                            o.result, o.explanation, m.result, m.explanation
                        ));
                    }
                }
                match why {
                    None => passed += 1,
                    Some(why) => {
                        failures.push(format!("{suite}: {} / {}: {why}", case.scenario, case.name))
                    }
                }
            }
        }
        assert_eq!(total, *expected_tests, "{suite}: tests found");
        let _ = writeln!(summary, "{suite}: {passed}/{total}");
    }
    // Straight to stderr, past the test harness's capture, so the counts show in every run.
    let _ = std::io::stderr().write_all(summary.as_bytes());
    if let Some(path) = std::env::var_os("OPENSPF_DUMP") {
        std::fs::write(&path, &dump)
            .unwrap_or_else(|e| panic!("OPENSPF_DUMP {}: {e}", path.display()));
    }
    assert!(
        failures.is_empty(),
        "{summary}{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
