//! DNS errors and DMARC results (RFC 9989 §5.3.6, §4.10.2): when a DNS error makes the result
//! `temperror`, and when it does not matter. Each zone is RFC 1035 master-file text; the
//! expected values are reasoned from the RFC text quoted next to each test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::*;
use mailward_dmarc::evaluate::{
    AlignmentStatus as S, Disposition, DkimVerdict, DmarcResult, SpfInput, SpfScope, SpfVerdict,
};

const ZONE: &str = "
example.com.          IN A 192.0.2.1
_dmarc.example.com.   IN TXT \"v=DMARC1; p=reject\"
example.net.          IN A 192.0.2.2
_dmarc.example.net.   IN TXT \"v=DMARC1; p=none\"
_dmarc.strict.example. IN TXT \"v=DMARC1; p=reject; adkim=s; aspf=s\"
";

/// RFC 9989 §5.3.6: "If one or more DNS queries required to perform DMARC validation on the
/// message do not complete due to temporary or permanent DNS errors, the message cannot be
/// considered to pass or fail the DMARC mechanism check. In such cases, the Domain Owner
/// Assessment Policy cannot be applied to the message".
///
/// An SPF `temperror` on a MAIL FROM domain that would align (§4.4: identical, or the same
/// Organizational Domain) means the one identifier that could have made the message pass was
/// not established because of DNS: neither pass nor fail, so `temperror` and no disposition.
#[test]
fn spf_temperror_on_an_aligned_domain_is_temperror() {
    let z = zone(ZONE);
    for mail_from in ["example.com", "bounce.example.com"] {
        let out = eval(
            &z,
            "example.com",
            Some(spf(SpfVerdict::TempError, mail_from)),
            &[],
        );
        assert_eq!(out.result, DmarcResult::TempError, "{mail_from}");
        assert_eq!(out.disposition, Disposition::None, "{mail_from}");
        assert_eq!(
            out.spf.as_ref().unwrap().status,
            S::TempError,
            "{mail_from}"
        );
        assert!(!out.spf_aligned);
    }
}

/// The same for a DKIM signature whose key lookup failed (RFC 6376 §6.1.2 temperror).
#[test]
fn dkim_temperror_on_an_aligned_domain_is_temperror() {
    let z = zone(ZONE);
    for d in ["example.com", "mail.example.com"] {
        let out = eval(&z, "example.com", None, &[dkim(DkimVerdict::TempError, d)]);
        assert_eq!(out.result, DmarcResult::TempError, "{d}");
        assert_eq!(out.disposition, Disposition::None, "{d}");
        assert_eq!(out.dkim[0].status, S::TempError, "{d}");
    }
}

/// §5.3.5: "If one or more of the Authenticated Identifiers align with the Author Domain, the
/// message is considered to pass": a pass needs no further query, so the failed one was not
/// "required"; pass wins over a temperror elsewhere.
#[test]
fn an_aligned_pass_wins_over_a_temperror() {
    let z = zone(ZONE);
    let out = eval(
        &z,
        "example.com",
        Some(spf(SpfVerdict::TempError, "example.com")),
        &[dkim_pass("example.com")],
    );
    assert_eq!(out.result, DmarcResult::Pass);
    assert_eq!(out.disposition, Disposition::Pass);
    let out = eval(
        &z,
        "example.com",
        Some(spf_pass("example.com")),
        &[dkim(DkimVerdict::TempError, "example.com")],
    );
    assert_eq!(out.result, DmarcResult::Pass);
    let out = eval(
        &z,
        "example.com",
        None,
        &[
            dkim(DkimVerdict::TempError, "example.com"),
            dkim_pass("example.com"),
        ],
    );
    assert_eq!(out.result, DmarcResult::Pass);
}

/// A temperror on an identifier that could not align even had it passed changes nothing: the
/// answer that did not come could not have produced an aligned identifier, so the query was
/// not "required to perform DMARC validation" and the message fails (§5.3.5).
#[test]
fn temperror_on_an_unaligned_domain_is_still_fail() {
    let z = zone(ZONE);
    let out = eval(
        &z,
        "example.com",
        Some(spf(SpfVerdict::TempError, "example.net")),
        &[dkim(DkimVerdict::TempError, "example.net")],
    );
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.disposition, Disposition::Reject);
    assert_eq!(out.spf.as_ref().unwrap().status, S::NotAuthenticated);
    assert_eq!(out.dkim[0].status, S::NotAuthenticated);
    // Strict alignment (§4.4: "the domains must be identical"): a subdomain cannot align.
    let out = eval(
        &z,
        "strict.example",
        Some(spf(SpfVerdict::TempError, "mail.strict.example")),
        &[dkim(DkimVerdict::TempError, "mail.strict.example")],
    );
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.disposition, Disposition::Reject);
    // §4.4.2: only the MAIL FROM identity is an SPF-Authenticated Identifier; a HELO check
    // can never align, so its temperror does not matter either.
    let helo = SpfInput {
        result: SpfVerdict::TempError,
        domain: d("example.com"),
        scope: SpfScope::Helo,
    };
    let out = eval(&z, "example.com", Some(helo), &[]);
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.spf.as_ref().unwrap().status, S::NotAuthenticated);
}

/// The alignment of a temperror identifier may itself need a walk that fails: still unknown
/// whether it would align, so still `temperror`.
#[test]
fn temperror_with_an_alignment_dns_error_is_temperror() {
    let z = zone(ZONE).with_timeout(d("_dmarc.bounce.example.com"));
    let out = eval(
        &z,
        "example.com",
        Some(spf(SpfVerdict::TempError, "bounce.example.com")),
        &[],
    );
    assert_eq!(out.result, DmarcResult::TempError);
    assert_eq!(out.spf.as_ref().unwrap().status, S::TempError);
}

/// §4.10.2: relaxed alignment means "the same Organizational Domain", and a Tree Walk only
/// ever selects the start domain or one of its ancestors (steps 1-3 and "the initial target
/// domain is the Organizational Domain"). So an identifier can share the Author Domain's
/// Organizational Domain only if it is that domain or below it. When it is not, no answer of
/// the identifier's own walk can make it align: a DNS error in that walk is not in a query
/// "required to perform DMARC validation" (§5.3.6) and the message fails.
#[test]
fn identifier_walk_error_is_irrelevant_when_alignment_is_impossible() {
    // The author has its own record; the identifier's _dmarc name times out.
    let z = zone(
        "example.com.          IN A 192.0.2.1
         _dmarc.example.com.   IN TXT \"v=DMARC1; p=reject\"
         example2.com.         IN A 192.0.2.3",
    )
    .with_timeout(d("_dmarc.example2.com"))
    .with_timeout(d("_dmarc.mail.example2.com"));
    for id in ["example2.com", "mail.example2.com"] {
        let out = eval(&z, "example.com", Some(spf_pass(id)), &[dkim_pass(id)]);
        assert_eq!(out.spf.as_ref().unwrap().status, S::NotAligned, "{id}");
        assert_eq!(out.dkim[0].status, S::NotAligned, "{id}");
        assert_eq!(out.result, DmarcResult::Fail, "{id}");
        assert_eq!(out.disposition, Disposition::Reject, "{id}");
    }
}

/// The Author Domain's Organizational Domain is itself (`psd=n`, §4.7: "it is the
/// Organizational Domain for itself and its subdomains"): its parent and siblings can never
/// share it, whatever their walks would say.
#[test]
fn psd_n_author_needs_no_walk_of_parents_or_siblings() {
    let z = zone(
        "a.example.com.         IN A 192.0.2.1
         _dmarc.a.example.com.  IN TXT \"v=DMARC1; p=reject; psd=n\"",
    )
    .with_timeout(d("_dmarc.example.com"))
    .with_timeout(d("_dmarc.b.example.com"));
    for id in ["example.com", "b.example.com"] {
        let out = eval(&z, "a.example.com", Some(spf_pass(id)), &[]);
        assert_eq!(out.spf.as_ref().unwrap().status, S::NotAligned, "{id}");
        assert_eq!(out.result, DmarcResult::Fail, "{id}");
    }
    // Below the Organizational Domain the identifier's own walk is needed (it might publish
    // psd=n itself), so its failure still makes the result unknown.
    let z = z.with_timeout(d("_dmarc.mail.a.example.com"));
    let out = eval(
        &z,
        "a.example.com",
        Some(spf_pass("mail.a.example.com")),
        &[],
    );
    assert_eq!(out.spf.as_ref().unwrap().status, S::TempError);
    assert_eq!(out.result, DmarcResult::TempError);
}
