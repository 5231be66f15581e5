//! Property test: every record AST displays to text that parses back to the same AST
//! (STYLE §6), and parsing arbitrary text never panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, Ipv6Addr};

use mailward_spf::{
    Directive, DualCidr, MacroExpand, MacroLetter, MacroString, MacroToken, Mechanism, Modifier,
    Qualifier, SpfRecord, Term,
};
use proptest::prelude::*;

fn letter(explain: bool) -> impl Strategy<Value = MacroLetter> {
    let mut v = vec![
        MacroLetter::Sender,
        MacroLetter::LocalPart,
        MacroLetter::SenderDomain,
        MacroLetter::Domain,
        MacroLetter::Ip,
        MacroLetter::ValidatedDomain,
        MacroLetter::IpVersion,
        MacroLetter::Helo,
    ];
    if explain {
        v.extend([
            MacroLetter::ClientIp,
            MacroLetter::Receiver,
            MacroLetter::Timestamp,
        ]);
    }
    proptest::sample::select(v)
}

fn expand(explain: bool) -> impl Strategy<Value = MacroToken> {
    (
        letter(explain),
        any::<bool>(),
        proptest::option::of(1u32..200),
        any::<bool>(),
        "[-.+,/_=]{0,3}",
    )
        .prop_map(|(letter, url_escape, digits, reverse, delimiters)| {
            MacroToken::Expand(MacroExpand {
                letter,
                url_escape,
                digits,
                reverse,
                delimiters,
            })
        })
}

fn token(explain: bool) -> impl Strategy<Value = MacroToken> {
    prop_oneof![
        "[!-$&-~]{1,6}".prop_map(MacroToken::Literal),
        expand(explain),
        Just(MacroToken::Percent),
        Just(MacroToken::Space),
        Just(MacroToken::UrlSpace),
    ]
}

/// Merges adjacent literals, as the parser does.
fn normalize(tokens: Vec<MacroToken>) -> MacroString {
    let mut out: Vec<MacroToken> = Vec::new();
    for t in tokens {
        match (out.last_mut(), t) {
            (Some(MacroToken::Literal(a)), MacroToken::Literal(b)) => a.push_str(&b),
            (_, t) => out.push(t),
        }
    }
    MacroString { tokens: out }
}

fn macro_string() -> impl Strategy<Value = MacroString> {
    proptest::collection::vec(token(false), 0..5).prop_map(normalize)
}

/// A valid domain-spec: a macro string ending in a macro or in "." toplabel.
fn domain_spec() -> impl Strategy<Value = MacroString> {
    (
        proptest::collection::vec(token(false), 0..4),
        prop_oneof![
            expand(false).prop_map(Some),
            "\\.[a-z0-9]{0,3}[a-z][a-z0-9]{0,3}\\.?".prop_map(|s| Some(MacroToken::Literal(s))),
            "\\.[a-z0-9][a-z0-9-]{0,4}-[a-z0-9]".prop_map(|s| Some(MacroToken::Literal(s))),
        ],
    )
        .prop_map(|(mut v, end)| {
            v.extend(end);
            normalize(v)
        })
}

fn cidr() -> impl Strategy<Value = DualCidr> {
    (
        proptest::option::of(0u8..=32),
        proptest::option::of(0u8..=128),
    )
        .prop_map(|(v4, v6)| DualCidr { v4, v6 })
}

fn mechanism() -> impl Strategy<Value = Mechanism> {
    prop_oneof![
        Just(Mechanism::All),
        domain_spec().prop_map(Mechanism::Include),
        (proptest::option::of(domain_spec()), cidr()).prop_map(|(d, c)| Mechanism::A(d, c)),
        (proptest::option::of(domain_spec()), cidr()).prop_map(|(d, c)| Mechanism::Mx(d, c)),
        proptest::option::of(domain_spec()).prop_map(Mechanism::Ptr),
        (any::<u32>(), proptest::option::of(0u8..=32))
            .prop_map(|(ip, l)| Mechanism::Ip4(Ipv4Addr::from(ip), l)),
        (any::<u128>(), proptest::option::of(0u8..=128))
            .prop_map(|(ip, l)| Mechanism::Ip6(Ipv6Addr::from(ip), l)),
        domain_spec().prop_map(Mechanism::Exists),
    ]
}

fn qualifier() -> impl Strategy<Value = Qualifier> {
    proptest::sample::select(vec![
        Qualifier::Pass,
        Qualifier::Fail,
        Qualifier::SoftFail,
        Qualifier::Neutral,
    ])
}

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![
        4 => (qualifier(), mechanism()).prop_map(|(qualifier, mechanism)| {
            Term::Directive(Directive { qualifier, mechanism })
        }),
        1 => ("[a-zA-Z][a-zA-Z0-9._-]{0,8}", macro_string())
            .prop_filter("known modifier names", |(n, _)| {
                !n.eq_ignore_ascii_case("redirect") && !n.eq_ignore_ascii_case("exp")
            })
            .prop_map(|(name, value)| Term::Modifier(Modifier::Unknown { name, value })),
    ]
}

fn record() -> impl Strategy<Value = SpfRecord> {
    (
        proptest::collection::vec(term(), 0..8),
        proptest::option::of(domain_spec()),
        proptest::option::of(domain_spec()),
    )
        .prop_map(|(mut terms, redirect, exp)| {
            terms.extend(redirect.map(|d| Term::Modifier(Modifier::Redirect(d))));
            terms.extend(exp.map(|d| Term::Modifier(Modifier::Explanation(d))));
            SpfRecord::from(terms)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn record_display_parse_roundtrip(r in record()) {
        let text = r.to_string();
        let back = SpfRecord::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back, &r, "{}", text);
        // Canonical text is a fixed point.
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn explain_string_roundtrip(v in proptest::collection::vec(
        prop_oneof![token(true), " {1,3}".prop_map(MacroToken::Literal)], 0..8)
    ) {
        let m = normalize(v);
        let text = m.to_string();
        let back = MacroString::parse_explain_string(&text).unwrap();
        prop_assert_eq!(back, m);
    }

    #[test]
    fn parse_never_panics(s in "v=spf1( [ -~]{0,20}){0,6}") {
        if let Ok(r) = SpfRecord::parse(&s) {
            // Whatever parses must survive its own round trip.
            prop_assert_eq!(SpfRecord::parse(&r.to_string()).unwrap(), r);
        }
    }
}

/// The hand-written IPv6 reader of `ip6:` agrees with the standard library on hex-only text.
#[test]
fn ip6_reader_agrees_with_std() {
    proptest!(ProptestConfig::with_cases(20_000), |(s in "[0-9a-fA-F:]{0,41}")| {
        let ours = SpfRecord::parse(&format!("v=spf1 ip6:{s}"));
        let std: Result<Ipv6Addr, _> = s.parse();
        match (ours, std) {
            (Ok(r), Ok(ip)) => prop_assert_eq!(
                r.terms,
                vec![Term::Directive(Directive { qualifier: Qualifier::Pass, mechanism: Mechanism::Ip6(ip, None) })]
            ),
            (Err(_), Err(_)) => {}
            (o, s2) => prop_assert!(false, "{s}: ours {o:?} std {s2:?}"),
        }
    });
    // Structured inputs hit the valid forms more often than random text.
    proptest!(ProptestConfig::with_cases(20_000), |(ip in any::<u128>(), zeros in 0usize..8)| {
        let mut ip = Ipv6Addr::from(ip).segments();
        for g in ip.iter_mut().take(zeros) { *g = 0; }
        let ip = Ipv6Addr::from(ip);
        for text in [ip.to_string(), format!("{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
            ip.segments()[0], ip.segments()[1], ip.segments()[2], ip.segments()[3],
            ip.segments()[4], ip.segments()[5], ip.segments()[6], ip.segments()[7])] {
            if text.contains('.') { continue; }
            let r = SpfRecord::parse(&format!("v=spf1 ip6:{text}")).unwrap();
            prop_assert_eq!(&r.terms[0], &Term::Directive(Directive { qualifier: Qualifier::Pass, mechanism: Mechanism::Ip6(ip, None) }));
        }
    });
}
