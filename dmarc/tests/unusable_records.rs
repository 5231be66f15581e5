//! Records that cannot be used as published (RFC 9989 §4.10.1), over zones in RFC 1035
//! master-file syntax; expected values reasoned from the RFC text quoted next to each test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use mailward_dmarc::evaluate::{Disposition, DmarcResult, PolicyTag};
use mailward_dmarc::record::{DmarcRecord, PolicyValue, RequestedPolicy};

/// §4.10.1: "If a retrieved DMARC Policy Record does not contain a valid "p" tag, or contains
/// an "sp" or "np" tag that is not valid, then: If a "rua" tag is present and contains at least
/// one syntactically valid reporting URI, the Mail Receiver MUST act as if a record containing
/// "p=none" was retrieved and continue processing. Otherwise, the Mail Receiver applies no
/// DMARC processing to this message."
///
/// An empty value is present but is not a `dmarc-request` (§4.8: `dmarc-request = "none" /
/// "quarantine" / "reject"`), so `sp=`, `np=` and `p=` are tags "that [are] not valid", not
/// absent tags.
#[test]
fn empty_policy_values_make_the_record_unusable() {
    for tags in [
        "p=reject; sp=",
        "p=reject; np=",
        "p=; sp=reject",
        "p=reject; sp= ; np=reject",
    ] {
        let z = zone(&format!(
            "example.com.         IN A 192.0.2.1
             sub.example.com.     IN A 192.0.2.2
             _dmarc.example.com.  IN TXT \"v=DMARC1; {tags}\""
        ));
        for author in ["example.com", "sub.example.com", "ghost.example.com"] {
            // No rua: "applies no DMARC processing".
            let out = eval(&z, author, None, &[]);
            assert_eq!(out.result, DmarcResult::None, "{tags} / {author}");
            assert_eq!(out.disposition, Disposition::None, "{tags} / {author}");
            assert_eq!(out.policy, None, "{tags} / {author}");
        }
        // With a valid rua: "act as if a record containing "p=none" was retrieved".
        let z = zone(&format!(
            "example.com.         IN A 192.0.2.1
             sub.example.com.     IN A 192.0.2.2
             _dmarc.example.com.  IN TXT \"v=DMARC1; {tags}; rua=mailto:d@example.com\""
        ));
        for author in ["example.com", "sub.example.com", "ghost.example.com"] {
            let out = eval(&z, author, None, &[]);
            assert_eq!(out.result, DmarcResult::Fail, "{tags} / {author}");
            assert_eq!(out.disposition, Disposition::None, "{tags} / {author}");
            assert_eq!(
                out.requested_policy,
                Some(RequestedPolicy::None),
                "{tags} / {author}"
            );
        }
    }
}

/// The parsed form keeps the empty value as an invalid one.
#[test]
fn empty_policy_value_is_invalid_not_absent() {
    let r = DmarcRecord::parse(b"v=DMARC1; p=reject; sp=; np=").unwrap();
    assert_eq!(r.p, PolicyValue::Valid(RequestedPolicy::Reject));
    assert_eq!(r.sp, PolicyValue::Invalid(String::new()));
    assert_eq!(r.np, PolicyValue::Invalid(String::new()));
    assert!(r.policies().is_none());
    // The canonical text keeps the empty tags and parses back to the same record.
    assert_eq!(r.to_string(), "v=DMARC1; p=reject; sp=; np=");
    assert_eq!(DmarcRecord::parse(r.to_string().as_bytes()).unwrap(), r);
    // Control: a record without sp/np at all is usable and applies p to subdomains.
    let z = zone(
        "sub.example.com.     IN A 192.0.2.2
         _dmarc.example.com.  IN TXT \"v=DMARC1; p=reject\"",
    );
    let out = eval(&z, "sub.example.com", None, &[]);
    assert_eq!(out.policy, Some(PolicyTag::P));
    assert_eq!(out.disposition, Disposition::Reject);
}

/// Reading (README, "Unusable records in the Organizational Domain selection"): a record that
/// starts with `v=DMARC1` and is alone at its name is one of the "valid DMARC Policy Records"
/// of §4.10.2 even when it cannot be applied. §4.10 steps 2/6 discard only records without the
/// version tag and multiple records; §4.8 says syntax errors "MUST be discarded in favor of
/// default values (if any) or ignored outright", not that the record is invalid; §4.7 calls a
/// record without `p` "an otherwise syntactically valid DMARC Policy Record".
///
/// So with an unusable record at example.com (the fewest labels, step 3), example.com is the
/// Organizational Domain of a.mail.example.com; §4.10.1 then applies that record, which (no
/// valid p, no rua) means "applies no DMARC processing".
#[test]
fn unusable_records_count_in_organizational_domain_selection() {
    let z = zone(
        "a.mail.example.com.       IN A 192.0.2.1
         _dmarc.mail.example.com.  IN TXT \"v=DMARC1; p=reject\"
         _dmarc.example.com.       IN TXT \"v=DMARC1; p=bogus\"",
    );
    let out = eval(&z, "a.mail.example.com", None, &[]);
    assert_eq!(
        out.organizational_domain.as_ref().map(|d| d.as_str()),
        Some("example.com")
    );
    assert_eq!(out.result, DmarcResult::None);
    assert_eq!(out.disposition, Disposition::None);
}

/// Reading (README, "Unusable record acting as p=none"): §4.10.1 "MUST act as if a record
/// containing "p=none" was retrieved" covers an invalid `p` and an invalid `sp`/`np` alike, so
/// no policy tag of the record is used: `sp` and `np` are none as well.
#[test]
fn invalid_p_with_rua_ignores_a_valid_sp() {
    let z = zone(
        "sub.example.com.     IN A 192.0.2.2
         _dmarc.example.com.  IN TXT \"v=DMARC1; p=bogus; sp=reject; np=reject; rua=mailto:d@example.com\"",
    );
    for author in ["example.com", "sub.example.com", "ghost.example.com"] {
        let out = eval(&z, author, None, &[]);
        assert_eq!(out.result, DmarcResult::Fail, "{author}");
        assert_eq!(
            out.requested_policy,
            Some(RequestedPolicy::None),
            "{author}"
        );
        assert_eq!(out.disposition, Disposition::None, "{author}");
    }
}
