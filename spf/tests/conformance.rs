//! Conformance scenarios written from the text of RFC 7208, over
//! `tests/data/conformance.zone` with fault injection (timeouts, SERVFAIL) from
//! `mailward_dns::ZoneResolver`. Every expectation cites the sentence it comes from.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_dns::ZoneResolver;
use mailward_spf::{Query, RecordCache, SpfOutcome, SpfResult, TraceEvent, evaluate};
use mailward_types::Domain;

use SpfResult::{Fail, Neutral, None as NoneR, Pass, PermError, SoftFail, TempError};

const TIMEOUTS: &[&str] = &[
    "slow.example.com",
    "r-timeout.example.net",
    "43.2.0.192.in-addr.arpa",
    "slowhost.example.com",
    "mxslow-host.example.com",
    "exp-slow-text.example.com",
    "top-timeout.example.com",
];
const SERVFAILS: &[&str] = &["top-servfail.example.com", "r-servfail.example.net"];

fn zone() -> ZoneResolver {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conformance.zone");
    let mut z = ZoneResolver::from_file(path).unwrap();
    for t in TIMEOUTS {
        z.mark_timeout(Domain::new(t).unwrap());
    }
    for s in SERVFAILS {
        z.mark_servfail(Domain::new(s).unwrap());
    }
    z
}

fn run(ip: &str, sender: &str, helo: &str) -> SpfOutcome {
    let q = Query::mail_from(ip.parse().unwrap(), sender, helo)
        .with_receiver("mx.receiver.example")
        .with_timestamp(1_700_000_000);
    let z = zone();
    let plain = pollster::block_on(evaluate(&z, &q));
    // The same check through a RecordCache shared by every scenario of this file (records
    // parsed and their literal targets prepared once, then reused; positive A, AAAA and MX
    // answers kept): the outcome is the same, whether the records are new to the cache or
    // already in it, and so is the trace, except that a lookup with records answered by the
    // cache (its TTL has not run out) says `cached`. Void and failed answers are never cached.
    let qc = q.with_record_cache(CACHE.clone());
    for pass in ["first", "second"] {
        let cached = pollster::block_on(evaluate(&z, &qc));
        assert_eq!(
            without_trace(&cached),
            without_trace(&plain),
            "{pass} evaluation with the record cache"
        );
        let (c, p) = (lines(&cached), lines(&plain));
        assert_eq!(c.len(), p.len(), "{pass}: {c:#?} vs {p:#?}");
        for (c, p) in c.iter().zip(&p) {
            let from_cache = c.strip_suffix(" -> cached").is_some_and(|q| {
                ["query TXT ", "query A ", "query AAAA ", "query MX "]
                    .iter()
                    .any(|t| q.trim_start().starts_with(t))
                    && (p.strip_prefix(q) == Some(" -> 1 record")
                        || p.strip_prefix(q).is_some_and(|a| a.ends_with(" records")))
            });
            assert!(c == p || from_cache, "{pass}: {c:?} vs {p:?}");
        }
    }
    plain
}

fn without_trace(o: &SpfOutcome) -> SpfOutcome {
    let mut o = o.clone();
    o.trace = Default::default();
    o
}

fn lines(o: &SpfOutcome) -> Vec<String> {
    o.trace.iter().map(|e| e.to_string()).collect()
}

static CACHE: std::sync::LazyLock<RecordCache> = std::sync::LazyLock::new(RecordCache::new);

/// `(client ip, local-part@<name>.example.com, expected result, why)`.
fn table(rows: &[(&str, &str, SpfResult, &str)]) {
    let mut failures = Vec::new();
    for (ip, sender, want, why) in rows {
        let sender = if sender.contains('@') {
            (*sender).to_owned()
        } else {
            format!("user@{sender}.example.com")
        };
        let o = run(ip, &sender, "good.example.net");
        if o.result != *want {
            failures.push(format!(
                "{sender} from {ip}: got {} ({:?}), want {want} — {why}",
                o.result, o.problem
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn s4_3_initial_processing() {
    table(&[
        // "If the <domain> is malformed (e.g., label longer than 63 characters, zero-length
        // label not at the end, etc.) or is not a multi-label domain name, ... "none"."
        (
            "192.0.2.1",
            "a@foo..example.com",
            NoneR,
            "zero-length label",
        ),
        (
            "192.0.2.1",
            &format!("a@{}.example.com", "x".repeat(64)),
            NoneR,
            "64-octet label",
        ),
        ("192.0.2.1", "a@localhost", NoneR, "not multi-label"),
        ("192.0.2.1", "a@[192.0.2.1]", NoneR, "domain literal"),
        // "... or if the DNS lookup returns "Name Error" ... "none"."
        ("192.0.2.1", "a@nxdomain.example.com", NoneR, "NXDOMAIN"),
        // "If the <sender> has no local-part, substitute the string "postmaster"".
        ("192.0.2.1", "@lp.example.com", Pass, "%{l} is postmaster"),
    ]);
}

#[test]
fn s4_4_record_lookup_errors() {
    table(&[
        // "If the DNS lookup returns a server failure (RCODE 2) ... or if the lookup times out,
        // then check_host() terminates immediately with the result "temperror"."
        ("192.0.2.1", "top-timeout", TempError, "TXT timeout"),
        ("192.0.2.1", "top-servfail", TempError, "TXT SERVFAIL"),
    ]);
}

#[test]
fn s4_5_record_selection() {
    table(&[
        ("192.0.2.1", "sel-none", NoneR, "no v=spf1 record"),
        (
            "192.0.2.1",
            "sel-version10",
            NoneR,
            "\"v=spf10\" does not match and is discarded",
        ),
        (
            "192.0.2.1",
            "sel-case",
            SoftFail,
            "ABNF literals are case-insensitive (§12)",
        ),
        (
            "192.0.2.1",
            "sel-two",
            PermError,
            "more than one record: permerror",
        ),
        (
            "192.0.2.1",
            "sel-other",
            Fail,
            "other TXT records are discarded",
        ),
        // §3.3: strings "MUST be treated as if those strings are concatenated together
        // without adding spaces".
        (
            "192.0.2.5",
            "sel-concat",
            Pass,
            "\"v=spf1 ip4:\" \"192.0.2.5 -all\"",
        ),
        (
            "192.0.2.5",
            "sel-glued",
            NoneR,
            "\"v=spf1\" \"-all\" is \"v=spf1-all\"",
        ),
        (
            "192.0.2.5",
            "sel-empty",
            Neutral,
            "an empty record: default result (§4.7)",
        ),
        (
            "192.0.2.5",
            "sel-tab",
            NoneR,
            "version terminated by SP or end only",
        ),
    ]);
}

#[test]
fn s4_6_syntax_errors_anywhere() {
    table(&[
        // §4.6: "if there are any syntax errors anywhere in the record, check_host() returns
        // immediately with the result "permerror", without further interpretation".
        (
            "192.0.2.1",
            "syn-anywhere",
            PermError,
            "+all before a bad term",
        ),
        // §12 terms = *( 1*SP ( directive / modifier ) ), record = version terms *SP.
        (
            "192.0.2.1",
            "syn-spaces",
            Pass,
            "runs of spaces and trailing spaces",
        ),
        ("192.0.2.1", "syn-ctrl", PermError, "CR is not SP"),
        // §6: "Unrecognized modifiers MUST be ignored no matter where, or how often".
        (
            "192.0.2.1",
            "syn-unknown-mod",
            Pass,
            "unknown modifiers ignored",
        ),
        (
            "192.0.2.2",
            "syn-unknown-mod",
            Fail,
            "unknown modifiers ignored",
        ),
        // §4.6.1: "mechanism and modifier names are case-insensitive".
        ("192.0.2.2", "syn-mod-case", Fail, "REDIRECT= works"),
        (
            "192.0.2.1",
            "syn-redir-mech",
            PermError,
            "redirect is a modifier",
        ),
        // §6: redirect and exp "MUST NOT appear in a record more than once each".
        ("192.0.2.1", "syn-dup-redir", PermError, "two redirect="),
        ("192.0.2.1", "syn-dup-exp", PermError, "two exp="),
        (
            "192.0.2.1",
            "syn-exp-empty",
            PermError,
            "exp= needs a domain-spec",
        ),
        // §5.6 ip4-cidr-length "value range 0-32", no leading zero.
        ("192.0.2.1", "syn-cidr33", PermError, "/33"),
        ("192.0.2.1", "syn-cidr-zero", PermError, "/024"),
        ("192.0.2.1", "syn-ip6-129", PermError, "/129"),
        // §5.6: "It is not permitted to omit parts of the IP address".
        ("192.0.2.1", "syn-ip4-short", PermError, "ip4:192.0.2"),
        (
            "192.0.2.1",
            "syn-ip4-dual",
            PermError,
            "ip4 takes no dual-cidr-length",
        ),
        // §7.1 toplabel: not all-numeric; a domain-spec needs "." toplabel or a macro.
        ("192.0.2.1", "syn-numeric-top", PermError, "a:foo.123"),
        ("192.0.2.1", "syn-only-top", PermError, "a:com"),
        // §7.3: "A '%' character not followed by a '{', '%', '-', or '_' character is a
        // syntax error".
        ("192.0.2.1", "syn-bad-macro", PermError, "%(ir)"),
        ("192.0.2.1", "syn-trailing-pct", PermError, "trailing %"),
        ("192.0.2.1", "syn-bad-letter", PermError, "%{x}"),
        // §7.2: c, r, t "are allowed only in "exp" text".
        (
            "192.0.2.1",
            "syn-crt-domain",
            PermError,
            "%{c} in a domain-spec",
        ),
        // §7.3: "If a DIGIT is specified, the value MUST be nonzero."
        ("192.0.2.1", "syn-zero-digit", PermError, "%{d0}"),
        // §3.1: records are US-ASCII.
        ("192.0.2.1", "syn-nonascii", PermError, "UTF-8 in a record"),
        (
            "192.0.2.1",
            "syn-all-arg",
            PermError,
            "all takes no argument",
        ),
        (
            "192.0.2.1",
            "syn-include-cidr",
            PermError,
            "include takes no CIDR",
        ),
    ]);
}

#[test]
fn s4_6_4_dns_term_limit() {
    table(&[
        // "SPF implementations MUST limit the total number of those terms to 10 ... If this
        // limit is exceeded, the implementation MUST return "permerror"."
        ("192.0.2.99", "lim-10", Pass, "exactly 10 DNS terms"),
        ("198.51.100.10", "lim-10", Pass, "the 10th term matches"),
        ("192.0.2.99", "lim-11", PermError, "11 DNS terms"),
        (
            "198.51.100.11",
            "lim-11",
            PermError,
            "the 11th term is never queried",
        ),
        // "must be tracked as a single global limit for all evaluations" (§4.1).
        (
            "192.0.2.99",
            "lim-chain",
            Pass,
            "1 include + 4 a + redirect + 4 a = 10",
        ),
        (
            "192.0.2.99",
            "lim-chain-over",
            PermError,
            "the same plus 5 more",
        ),
        ("192.0.2.1", "lim-loop", PermError, "include loop"),
        ("192.0.2.1", "lim-redir-loop", PermError, "redirect loop"),
    ]);
    let o = run("192.0.2.99", "user@lim-10.example.com", "h");
    assert_eq!(o.lookups, 10);
    let o = run("192.0.2.99", "user@lim-11.example.com", "h");
    assert_eq!(o.lookups, 11);
    assert!(!o.trace.iter().any(
        |e| matches!(&e.event, TraceEvent::Query { query, .. } if query.to_string() == "A h11.example.com")
    ));
}

#[test]
fn s4_6_4_void_and_mx_limits() {
    table(&[
        // "SPF implementations SHOULD limit "void lookups" to two ... Exceeding the limit
        // produces a "permerror" result."
        (
            "192.0.2.99",
            "void-2",
            Pass,
            "NXDOMAIN + NODATA = 2 void lookups",
        ),
        ("192.0.2.99", "void-3", PermError, "the 3rd void lookup"),
        // "the evaluation of each "MX" record MUST NOT result in querying more than 10 address
        // records ... If this limit is exceeded, the "mx" mechanism MUST produce a "permerror"".
        (
            "192.0.2.110",
            "mx-10",
            Pass,
            "10 MX names, the 10th matches",
        ),
        ("192.0.2.99", "mx-11", PermError, "11 MX names"),
    ]);
    assert_eq!(
        run("192.0.2.99", "user@void-2.example.com", "h").void_lookups,
        2
    );
    assert_eq!(
        run("192.0.2.99", "user@void-3.example.com", "h").void_lookups,
        3
    );
}

#[test]
fn s4_7_and_5_1_default_and_all() {
    table(&[
        // §4.7: "If none of the mechanisms match and there is no "redirect" modifier, then the
        // check_host() returns a result of "neutral"".
        ("192.0.2.2", "def-neutral", Neutral, "no match, no redirect"),
        ("192.0.2.1", "def-neutral", Pass, "ip4 matches"),
        // §5.1: "Mechanisms after "all" will never be tested."
        ("192.0.2.1", "all-first", Fail, "-all before +ip4"),
        // §5.1: "Any "redirect" modifier ... MUST be ignored when there is an "all" mechanism".
        (
            "192.0.2.1",
            "all-redirect",
            Neutral,
            "?all wins over redirect",
        ),
    ]);
}

#[test]
fn s5_2_include_result_table() {
    table(&[
        ("192.0.2.1", "inc-pass", Pass, "pass -> match"),
        ("192.0.2.1", "inc-fail", Neutral, "fail -> not match"),
        (
            "192.0.2.1",
            "inc-softfail",
            Neutral,
            "softfail -> not match",
        ),
        ("192.0.2.1", "inc-neutral", Fail, "neutral -> not match"),
        (
            "192.0.2.1",
            "inc-temperror",
            TempError,
            "temperror -> temperror (timeout)",
        ),
        (
            "192.0.2.1",
            "inc-servfail",
            TempError,
            "temperror -> temperror (SERVFAIL)",
        ),
        (
            "192.0.2.1",
            "inc-permerror",
            PermError,
            "permerror -> permerror",
        ),
        (
            "192.0.2.1",
            "inc-none",
            PermError,
            "none -> permerror (no SPF record)",
        ),
        (
            "192.0.2.1",
            "inc-nx",
            PermError,
            "none -> permerror (NXDOMAIN)",
        ),
        // "-include produces "fail"".
        ("192.0.2.1", "inc-minus", Fail, "-include of a pass"),
        // §4.3 + §5.2: a target that is not a multi-label domain gives none -> permerror.
        (
            "192.0.2.1",
            "bob@inc-bad-target.example.com",
            PermError,
            "include:%{l}",
        ),
    ]);
}

#[test]
fn s5_3_a() {
    table(&[
        ("192.0.2.55", "a-cidr", Pass, "a/24"),
        ("192.0.3.55", "a-cidr", Fail, "outside /24"),
        // §5: "when <ip> is an IPv6 address, "AAAA" records are fetched".
        ("2001:db8::ffff", "a-dual", Pass, "//64 applies to IPv6"),
        ("192.0.2.21", "a-dual", Fail, "/32 applies to IPv4"),
        ("2001:db8::21", "a-v4only", Fail, "no AAAA"),
        // §5: "SPF implementations on IPv6 servers need to handle both "AAAA" and "A" records,
        // for clients on IPv4-mapped IPv6 addresses".
        (
            "::ffff:192.0.2.20",
            "a-plain",
            Pass,
            "IPv4-mapped client uses A",
        ),
        (
            "192.0.2.1",
            "a-slow",
            TempError,
            "§5: a timeout makes check_host() temperror",
        ),
        (
            "192.0.2.20",
            "a-cname",
            Pass,
            "CNAME followed by the resolver",
        ),
        (
            "203.0.113.1",
            "a-zero",
            Pass,
            "a/0 matches any IPv4 when an A record exists",
        ),
        (
            "2001:db8::1",
            "a-zero",
            Fail,
            "a/0 is the IPv4 length: IPv6 still needs /128",
        ),
        // §7.3: trailing dots "MUST be accepted by implementations".
        ("192.0.2.20", "a-trailing-dot", Pass, "a:mx1.example.com."),
        // §7.1 macro-literal includes ':'.
        ("192.0.2.70", "a-colon", Pass, "a:foo:bar.example.com"),
    ]);
}

#[test]
fn s5_4_mx() {
    table(&[
        ("192.0.2.20", "mxd", Pass, "MX host address"),
        ("192.0.2.10", "mxd", Fail, "the domain's own A is not an MX"),
        // "check_host() MUST NOT apply the implicit MX rules of [RFC5321]".
        ("192.0.2.30", "mx-implicit", Fail, "no implicit MX"),
        // §5: errors while fetching the MX hosts' addresses make it temperror.
        ("192.0.2.1", "mx-slow", TempError, "MX host A timeout"),
        ("2001:db8::abcd", "mx-cidr6", Pass, "mx//64 for IPv6"),
    ]);
}

#[test]
fn s5_5_ptr() {
    table(&[
        (
            "192.0.2.40",
            "ptr-test",
            Pass,
            "validated name within example.com",
        ),
        (
            "192.0.2.41",
            "ptr-test",
            Fail,
            "fake.example.com is 192.0.2.99: not validated",
        ),
        (
            "192.0.2.42",
            "ptr-test",
            Fail,
            "host40.example.org: validated? no, and outside",
        ),
        // "If a DNS error occurs while doing the PTR RR lookup, then this mechanism fails to
        // match."
        (
            "192.0.2.43",
            "ptr-test",
            Fail,
            "PTR timeout: no match, not temperror",
        ),
        // "If a DNS error occurs while doing an A RR lookup, then that domain name is skipped
        // and the search continues."
        (
            "192.0.2.44",
            "ptr-test",
            Pass,
            "first name times out, second validates",
        ),
        // Without domain-spec the target is <domain> (§4.8).
        (
            "192.0.2.45",
            "ptr-self",
            Pass,
            "host below ptr-self.example.com",
        ),
        (
            "192.0.2.40",
            "ptr-self",
            Fail,
            "host40.example.com is not below ptr-self",
        ),
    ]);
}

#[test]
fn s5_6_s5_7_ip_and_exists() {
    table(&[
        ("2001:db8:1::1", "ip6-net", Pass, "inside 2001:db8::/32"),
        (
            "192.0.2.1",
            "ip6-net",
            Fail,
            "ip6 never matches an IPv4 client",
        ),
        (
            "::ffff:192.0.2.1",
            "ip6-net",
            Fail,
            "a mapped client is IPv4 (§5)",
        ),
        (
            "::ffff:192.0.2.1",
            "ip4-net",
            Pass,
            "a mapped client matches ip4",
        ),
        ("192.0.2.2", "exists-test", Pass, "%{ir}.bl A record exists"),
        // §5.7: "used for a DNS A RR lookup (even when the connection type is IPv6)".
        ("2001:db8::1", "exists-test", Pass, "IPv6 client, A lookup"),
        ("192.0.2.3", "exists-test", Fail, "no A record"),
    ]);
}

#[test]
fn s6_1_redirect() {
    table(&[
        ("192.0.2.1", "red-pass", Pass, "the target's result"),
        // "if no SPF record is found, or if the <target-name> is malformed, the result is a
        // "permerror" rather than "none"".
        (
            "192.0.2.1",
            "red-none",
            PermError,
            "target without SPF record",
        ),
        ("192.0.2.1", "red-nx", PermError, "target NXDOMAIN"),
        (
            "192.0.2.1",
            "bob@red-bad-target.example.com",
            PermError,
            "malformed target",
        ),
        // "If all mechanisms fail to match, and a "redirect" modifier is present".
        (
            "192.0.2.1",
            "red-after",
            Pass,
            "mechanisms first, wherever redirect is",
        ),
        ("192.0.2.2", "red-after", Fail, "then the redirect"),
        // %{d} and implicit targets take the new <domain>.
        ("192.0.2.80", "red-domain", Pass, "a on r-a.example.net"),
    ]);
}

#[test]
fn s6_2_explanations() {
    let o = run("192.0.2.9", "user@exp-basic.example.com", "h");
    assert_eq!(o.result, Fail);
    assert_eq!(
        o.explanation.as_deref(),
        Some("192.0.2.9 is not one of exp-basic.example.com's designated mail servers.")
    );
    assert_eq!(o.mechanism.map(|m| m.to_string()).as_deref(), Some("-all"));
    // "If there are any DNS processing errors (any RCODE other than 0), or if no records are
    // returned, or if more than one record is returned, or if there are syntax errors in the
    // explanation string, then proceed as if no "exp" modifier was given."
    for d in [
        "exp-nx",
        "exp-multi",
        "exp-syntax",
        "exp-nonascii",
        "exp-slow",
    ] {
        let o = run("192.0.2.9", &format!("user@{d}.example.com"), "h");
        assert_eq!((o.result, o.explanation), (Fail, None), "{d}");
    }
    // Only "fail" gets an explanation.
    let o = run("192.0.2.9", "user@exp-softfail.example.com", "h");
    assert_eq!((o.result, o.explanation), (SoftFail, None));
    // c, r, t and URL-escaped upper-case letters in explanations (§7.2, §7.3).
    let o = run("192.0.2.9", "a b@exp-crt.example.com", "h");
    assert_eq!(
        o.explanation.as_deref(),
        Some(
            "192.0.2.9 checked by mx.receiver.example at 1700000000; see \
             http://exp-crt.example.com/why.html?s=a%20b%40exp-crt.example.com&i=192.0.2.9"
        )
    );
    let o = run("2001:db8::cb01", "a@exp-crt.example.com", "h");
    assert!(o.explanation.unwrap().starts_with("2001:db8::cb01 checked"));
    // "the explanation string MUST be limited to [US-ASCII]": macro values are sanitised.
    let o = run("192.0.2.9", "caf\u{e9}\r\n@exp-crt.example.com", "h");
    let e = o.explanation.unwrap();
    assert!(
        e.is_ascii() && !e.contains('\r') && !e.contains('\n'),
        "{e}"
    );
    // The exp domain-spec is macro-expanded too.
    let o = run("192.0.2.9", "alice@exp-macro-name.example.com", "h");
    assert_eq!(
        o.explanation.as_deref(),
        Some("per-user explanation for alice")
    );
    // "The fetched TXT record's strings are concatenated with no spaces".
    let o = run("192.0.2.9", "a@exp-joined.example.com", "h");
    assert_eq!(o.explanation.as_deref(), Some("two strings"));
    // "During recursion into an "include" mechanism, an "exp" modifier from the
    // <target-name> MUST NOT be used."
    let o = run("192.0.2.9", "a@inc-exp.example.com", "h");
    assert_eq!(
        o.explanation.as_deref(),
        Some("top explanation for inc-exp.example.com")
    );
    // "when executing a "redirect" modifier, an "exp" modifier from the original domain MUST
    // NOT be used."
    let o = run("192.0.2.9", "a@red-exp.example.com", "h");
    assert_eq!(
        o.explanation.as_deref(),
        Some("inner explanation for r-fail-exp.example.net")
    );
}

#[test]
fn s7_macros_in_queries() {
    table(&[
        // %{p}: the validated name host40.example.com.
        ("192.0.2.40", "mac-p", Pass, "%{p}"),
        // Not validated: "the string "unknown" is used".
        ("192.0.2.41", "mac-p", Fail, "%{p} is unknown"),
        (
            "192.0.2.1",
            "bob+tag@mac-o.example.com",
            Pass,
            "%{l1r+}.%{o}",
        ),
        (
            "192.0.2.1",
            "a+b@mac-upper.example.com",
            Pass,
            "%{L} URL-escapes '+' to %2B",
        ),
        (
            "192.0.2.1",
            "a@mac-special.example.com",
            Fail,
            "%% %_ %- are valid",
        ),
    ]);
    // %{h} is the HELO parameter.
    assert_eq!(
        run("192.0.2.1", "a@mac-h.example.com", "good.example.net").result,
        Pass
    );
    assert_eq!(
        run("192.0.2.1", "a@mac-h.example.com", "bad.example.net").result,
        Fail
    );
    // §7.3: names over 253 characters lose labels on the left.
    let local = "a".repeat(50);
    let o = run("192.0.2.1", &format!("{local}@mac-trunc.example.com"), "h");
    assert_eq!(o.result, Pass, "{:#?}", o.trace);
    // §7.3: %- expands to %20 and %_ to a space, in the queried name.
    let o = run("192.0.2.1", "a@mac-special.example.com", "h");
    assert!(
        o.trace
            .iter()
            .any(|e| e.to_string().contains("A x%y z%20w.special.example.com"))
    );
}

#[test]
fn s2_3_s2_4_identities() {
    let z = zone();
    let ip = |s: &str| s.parse().unwrap();
    // §2.3: the HELO identity, checked with <sender> = postmaster@<helo>.
    let o = pollster::block_on(evaluate(
        &z,
        &Query::helo(ip("192.0.2.60"), "helo.example.com"),
    ));
    assert_eq!(o.result, Pass);
    let o = pollster::block_on(evaluate(
        &z,
        &Query::helo(ip("192.0.2.61"), "helo.example.com"),
    ));
    assert_eq!(o.result, Fail);
    // "This SPF check can only be performed when the "HELO" string is a valid, multi-label
    // domain name."
    for helo in ["[192.0.2.60]", "helo", "192.0.2.60", ""] {
        let o = pollster::block_on(evaluate(&z, &Query::helo(ip("192.0.2.60"), helo)));
        assert_eq!(o.result, NoneR, "{helo:?}");
    }
    // §2.4: "When the reverse-path is null, this document defines the "MAIL FROM" identity to
    // be the mailbox composed of the local-part "postmaster" and the "HELO" identity".
    let o = pollster::block_on(evaluate(
        &z,
        &Query::mail_from(ip("192.0.2.1"), "", "null.example.com"),
    ));
    assert_eq!(o.result, Pass);
    let o = pollster::block_on(evaluate(
        &z,
        &Query::mail_from(ip("192.0.2.60"), "", "helo.example.com"),
    ));
    assert_eq!(o.result, Pass);
}

#[test]
fn s9_recording_the_result() {
    use mailward_spf::{auth_results_entry, received_spf_field, received_spf_value};
    use mailward_types::AuthenticationResults;

    let q = Query::mail_from(
        "192.0.2.9".parse().unwrap(),
        "a@exp-basic.example.com",
        "h.example.net",
    );
    let o = pollster::block_on(evaluate(&zone(), &q));
    // §9.1: "at least "client-ip", "helo", and, if the "MAIL FROM" identity was checked,
    // "envelope-from""; "mechanism the mechanism that matched".
    let v = received_spf_value(&o, &q, "mybox.example.org");
    assert!(v.starts_with("fail (mybox.example.org: domain of a@exp-basic.example.com does not designate 192.0.2.9 as permitted sender) "), "{v}");
    for kv in [
        "client-ip=192.0.2.9;",
        "envelope-from=\"a@exp-basic.example.com\";",
        "helo=h.example.net;",
        "receiver=mybox.example.org;",
        "identity=mailfrom;",
        "mechanism=-all;",
    ] {
        assert!(v.contains(kv), "{kv} in {v}");
    }
    // Folding only inserts CRLF before existing spaces: unfolding restores the value.
    let field = received_spf_field(&o, &q, "mybox.example.org");
    assert_eq!(field.replace("\r\n", ""), format!("Received-SPF: {v}"));
    assert!(field.lines().all(|l| l.trim_end().len() <= 78));
    // §9.2 / RFC 8601 §2.7.2.
    let ar =
        AuthenticationResults::new("mybox.example.org").with_result(auth_results_entry(&o, &q));
    assert_eq!(
        ar.to_string(),
        "mybox.example.org; spf=fail smtp.mailfrom=a@exp-basic.example.com"
    );
    // Errors carry the problem; the HELO identity uses smtp.helo and no envelope-from.
    let q = Query::helo("192.0.2.1".parse().unwrap(), "sel-two.example.com");
    let o = pollster::block_on(evaluate(&zone(), &q));
    let v = received_spf_value(&o, &q, "mybox.example.org");
    assert!(v.starts_with("permerror "), "{v}");
    assert!(v.contains("identity=helo;") && v.contains("problem=") && !v.contains("envelope-from"));
    let entry = auth_results_entry(&o, &q);
    assert_eq!(entry.property("smtp", "helo"), Some("sel-two.example.com"));
    assert!(entry.reason.is_some());
    // A neutral default result names the "default" mechanism (§9.1).
    let q = Query::mail_from(
        "192.0.2.2".parse().unwrap(),
        "a@def-neutral.example.com",
        "h",
    );
    let o = pollster::block_on(evaluate(&zone(), &q));
    assert!(received_spf_value(&o, &q, "r").contains("mechanism=default;"));
}
