//! Property test: `parse(display(record)) == record` for arbitrary records, and the parser
//! never panics on arbitrary text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_dmarc::record::{
    AlignmentMode, DmarcRecord, FailureOptions, LegacyTag, PolicyValue, PsdFlag, RequestedPolicy,
    UnknownTag,
};
use mailward_dmarc::uri::ReportUri;
use proptest::prelude::*;

fn policy() -> impl Strategy<Value = RequestedPolicy> {
    prop_oneof![
        Just(RequestedPolicy::None),
        Just(RequestedPolicy::Quarantine),
        Just(RequestedPolicy::Reject)
    ]
}

fn policy_value() -> impl Strategy<Value = PolicyValue> {
    prop_oneof![
        Just(PolicyValue::Absent),
        policy().prop_map(PolicyValue::Valid),
        "[a-z0-9]{1,8}"
            .prop_filter("not a policy", |s| {
                !["none", "quarantine", "reject"].contains(&s.as_str())
            })
            .prop_map(PolicyValue::Invalid),
    ]
}

fn mode() -> impl Strategy<Value = Option<AlignmentMode>> {
    prop_oneof![
        Just(None),
        Just(Some(AlignmentMode::Relaxed)),
        Just(Some(AlignmentMode::Strict))
    ]
}

fn uri() -> impl Strategy<Value = ReportUri> {
    (
        "[a-z0-9._-]{1,10}",
        "[a-z0-9-]{1,10}\\.[a-z]{2,5}",
        proptest::option::of("[0-9]{1,4}[kmgt]?"),
    )
        .prop_map(|(local, domain, size)| ReportUri {
            uri: format!("mailto:{local}@{domain}"),
            size_limit: size,
        })
}

fn fo() -> impl Strategy<Value = Option<FailureOptions>> {
    proptest::option::of(
        (
            proptest::option::of(any::<bool>()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_filter("non-empty", |(a, d, s)| a.is_some() || *d || *s)
            .prop_map(|(any, dkim, spf)| FailureOptions { any, dkim, spf }),
    )
}

prop_compose! {
    fn record()(
        p in policy_value(),
        sp in policy_value(),
        np in policy_value(),
        psd in proptest::option::of(prop_oneof![Just(PsdFlag::Yes), Just(PsdFlag::No), Just(PsdFlag::Unknown)]),
        t in proptest::option::of(any::<bool>()),
        adkim in mode(),
        aspf in mode(),
        fo in fo(),
        rua in proptest::collection::vec(uri(), 0..4),
        ruf in proptest::collection::vec(uri(), 0..3),
        pct in proptest::option::of(0u8..=100),
        rf in proptest::option::of(proptest::collection::vec("[a-z][a-z0-9]{0,5}", 1..3)),
        ri in proptest::option::of(any::<u32>()),
        unknown in proptest::collection::vec(("x[a-z]{1,5}", "[a-zA-Z0-9=.]{1,8}"), 0..3),
    ) -> DmarcRecord {
        let mut legacy = Vec::new();
        if let Some(n) = pct { legacy.push(LegacyTag::Pct(n)); }
        if let Some(k) = rf { legacy.push(LegacyTag::Rf(k)); }
        if let Some(n) = ri { legacy.push(LegacyTag::Ri(n)); }
        let mut unknown_tags: Vec<UnknownTag> = Vec::new();
        for (name, value) in unknown {
            if !unknown_tags.iter().any(|t| t.name == name) {
                unknown_tags.push(UnknownTag { name, value });
            }
        }
        DmarcRecord { p, sp, np, psd, t, adkim, aspf, fo, rua, ruf, legacy, unknown: unknown_tags }
    }
}

proptest! {
    #[test]
    fn display_parse_round_trip(r in record()) {
        let text = r.to_string();
        let parsed = DmarcRecord::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &r, "{}", text);
        // Display is canonical: a second round gives the same text.
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn parser_never_panics(s in "v=DMARC1[ -~]{0,200}") {
        if let Ok(r) = DmarcRecord::parse(s.as_bytes()) {
            let again = DmarcRecord::parse(r.to_string().as_bytes()).unwrap();
            prop_assert_eq!(again, r);
        }
    }
}
