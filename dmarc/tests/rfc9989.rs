//! Every example of RFC 9989 (body sections and Appendix B), each over a zone in RFC 1035
//! master-file syntax. Expected values are the RFC's own statements, quoted next to each check.

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
    AlignmentStatus, DiscoveryMode, Disposition, DmarcResult, PolicyTag, RecordLocation,
};
use mailward_dmarc::record::{AlignmentMode, DmarcRecord, RequestedPolicy};
use mailward_dmarc::report_dest::{DestinationStatus, ReportKind, verify_destinations};
use mailward_dmarc::uri::ReportUri;

const EXAMPLE_COM: &str = "
example.com.         IN SOA ns.example.com. host.example.com. 1 3600 600 86400 300
example.com.         IN A 192.0.2.1
child.example.com.   IN A 192.0.2.2
news.example.com.    IN A 192.0.2.3
foo.example.com.     IN A 192.0.2.4
_dmarc.example.com.  IN TXT \"v=DMARC1; p=reject\"
example.net.         IN A 192.0.2.5
foo.example.net.     IN A 192.0.2.6
_dmarc.example.net.  IN TXT \"v=DMARC1; p=none\"
";

/// §4.4 Table 1: foo.example.com / news.example.com relaxed; identical strict;
/// foo.example.net / news.example.com none.
#[test]
fn section_4_4_table_1() {
    let z = zone(EXAMPLE_COM);
    let out = eval(
        &z,
        "news.example.com",
        Some(spf_pass("foo.example.com")),
        &[],
    );
    let spf = out.spf.as_ref().unwrap();
    assert_eq!(
        spf.status,
        AlignmentStatus::Relaxed,
        "same Organizational Domain"
    );
    assert_eq!(
        spf.organizational_domain.as_ref().unwrap().as_str(),
        "example.com"
    );
    assert_eq!(
        out.organizational_domain.as_ref().unwrap().as_str(),
        "example.com"
    );

    let out = eval(
        &z,
        "news.example.com",
        Some(spf_pass("news.example.com")),
        &[],
    );
    assert_eq!(
        out.spf.unwrap().status,
        AlignmentStatus::Strict,
        "identical"
    );

    let out = eval(
        &z,
        "news.example.com",
        Some(spf_pass("foo.example.net")),
        &[],
    );
    assert_eq!(out.spf.unwrap().status, AlignmentStatus::NotAligned);
    assert_eq!(out.result, DmarcResult::Fail);
}

/// §4.4: "Domain name comparisons in this context are case-insensitive, per [RFC4343]."
#[test]
fn section_4_4_case_insensitive() {
    let z = zone(EXAMPLE_COM);
    let out = eval(
        &z,
        "News.Example.COM",
        Some(spf_pass("NEWS.example.com")),
        &[],
    );
    assert_eq!(out.spf.unwrap().status, AlignmentStatus::Strict);
}

/// §4.10: the eight queries for "a.b.c.d.e.f.g.h.i.j.mail.example.com".
#[test]
fn section_4_10_eight_queries() {
    let z = zone("example.com. IN A 192.0.2.1\n");
    let out = eval(&z, "a.b.c.d.e.f.g.h.i.j.mail.example.com", None, &[]);
    assert_eq!(
        walk_names(&out),
        [
            "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com",
            "_dmarc.g.h.i.j.mail.example.com",
            "_dmarc.h.i.j.mail.example.com",
            "_dmarc.i.j.mail.example.com",
            "_dmarc.j.mail.example.com",
            "_dmarc.mail.example.com",
            "_dmarc.example.com",
            "_dmarc.com",
        ]
    );
    assert_eq!(out.result, DmarcResult::None);
}

/// §4.10.2 examples, all starting at "a.mail.example.com".
#[test]
fn section_4_10_2_examples() {
    // "If there are DMARC Policy Records published at "_dmarc.mail.example.com" and
    // "_dmarc.example.com", but not at "_dmarc.a.mail.example.com" or "_dmarc.com", then the
    // Organizational Domain for this domain would be "example.com"."
    let z = zone(
        "_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=none\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         a.mail.example.com. IN A 192.0.2.1",
    );
    let p = discover(&z, "a.mail.example.com");
    assert_eq!(p.organizational_domain.unwrap().as_str(), "example.com");
    // The policy is the Organizational Domain's (§4.10.1), for an existing subdomain.
    assert_eq!(p.record.unwrap().domain.as_str(), "example.com");
    assert_eq!(p.location, Some(RecordLocation::OrganizationalDomain));
    assert_eq!(p.policy, Some(PolicyTag::P));
    assert_eq!(p.requested_policy, Some(RequestedPolicy::Reject));

    // "a record at "_dmarc.mail.example.com" with the "psd" tag set to "n", then the
    // Organizational Domain for this domain would be "mail.example.com"."
    let z = zone(
        "_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=none; psd=n\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"",
    );
    let p = discover(&z, "a.mail.example.com");
    assert_eq!(
        p.organizational_domain.unwrap().as_str(),
        "mail.example.com"
    );
    assert_eq!(p.requested_policy, Some(RequestedPolicy::None));
    assert_eq!(p.walk.len(), 2, "the walk stops at psd=n");

    // "only yields a DMARC Policy Record at "_dmarc.com" and that record contains the tag
    // "psd=y", then the Organizational Domain for this domain would be "example.com"."
    let z = zone("_dmarc.com. IN TXT \"v=DMARC1; p=quarantine; psd=y\"");
    let p = discover(&z, "a.mail.example.com");
    assert_eq!(p.organizational_domain.unwrap().as_str(), "example.com");
    // No record at the Organizational Domain: the PSD's record applies.
    assert_eq!(p.location, Some(RecordLocation::PublicSuffixDomain));

    // §4.10.2 rule 2's own example: psd=y at "_dmarc.example.com" while walking from
    // "mail.example.com" makes "mail.example.com" the Organizational Domain.
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=none; psd=y\"");
    let p = discover(&z, "mail.example.com");
    assert_eq!(
        p.organizational_domain.unwrap().as_str(),
        "mail.example.com"
    );
}

/// §4.10.2: "The Author Domain and the Authenticated Identifier(s) are all the same domain, and
/// there is a DMARC Policy Record published for that domain" - no Tree Walk is needed.
#[test]
fn section_4_10_2_no_walk_when_identical() {
    let z = zone("_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject\"");
    let out = eval(
        &z,
        "mail.example.com",
        Some(spf_pass("mail.example.com")),
        &[dkim_pass("mail.example.com")],
    );
    assert_eq!(out.result, DmarcResult::Pass);
    assert_eq!(txt_queries(&out), ["_dmarc.mail.example.com"]);
}

/// §4.10.2: "The DMARC Policy Record for the Author Domain indicates strict alignment. In this
/// case, a simple string comparison [...] is all that is required."
#[test]
fn section_4_10_2_strict_needs_no_walk() {
    // Every query a walk above the Author Domain would make fails: the result must not depend
    // on them. (The outcome still walks once to report the Author Domain's Organizational
    // Domain; that walk's failure only leaves the field empty.)
    let z = zone("_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject; aspf=s; adkim=s\"")
        .with_servfail(d("_dmarc.example.com"))
        .with_servfail(d("_dmarc.com"))
        .with_servfail(d("_dmarc.x.mail.example.com"));
    let out = eval(
        &z,
        "mail.example.com",
        Some(spf_pass("example.com")),
        &[dkim_pass("x.mail.example.com")],
    );
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.disposition, Disposition::Reject);
    assert_eq!(out.organizational_domain, None);
    // No identifier's walk: only the Author Domain's names were queried.
    for q in txt_queries(&out) {
        assert!(
            ["_dmarc.mail.example.com", "_dmarc.example.com"].contains(&q.as_str()),
            "{q}"
        );
    }
}

/// §4.10.1: with no record at all, "Mail Receivers MUST NOT apply the DMARC mechanism".
#[test]
fn section_4_10_1_no_record() {
    let z = zone("example.org. IN A 192.0.2.1");
    let out = eval(&z, "example.org", Some(spf_pass("example.org")), &[]);
    assert_eq!(out.result, DmarcResult::None);
    assert_eq!(out.disposition, Disposition::None);
    assert_eq!(out.policy, None);
}

/// §4.10.1: the Author Domain's record applies with "p"; an Organizational Domain's record with
/// "sp" for an existing subdomain, "np" for a non-existent one.
#[test]
fn section_4_10_1_p_sp_np() {
    let text = "
        example.com. IN SOA ns.example.com. h.example.com. 1 3600 600 86400 300
        example.com. IN A 192.0.2.1
        _dmarc.example.com. IN TXT \"v=DMARC1; p=reject; sp=quarantine; np=none\"
        exists.example.com. IN MX 10 mx.example.com.
    ";
    let z = zone(text);
    let p = discover(&z, "example.com");
    assert_eq!(
        (p.policy, p.requested_policy),
        (Some(PolicyTag::P), Some(RequestedPolicy::Reject))
    );
    let p = discover(&z, "exists.example.com");
    assert_eq!(
        (p.policy, p.requested_policy),
        (Some(PolicyTag::Sp), Some(RequestedPolicy::Quarantine))
    );
    assert_eq!(p.author_exists, Some(true), "NODATA for A: the name exists");
    let p = discover(&z, "ghost.example.com");
    assert_eq!(
        (p.policy, p.requested_policy),
        (Some(PolicyTag::Np), Some(RequestedPolicy::None))
    );
    assert_eq!(p.author_exists, Some(false), "NXDOMAIN");
}

/// §5.1.8: a psd=n record at an 8-label name is never discovered for a 10-label Author Domain;
/// the receiver queries exactly the listed names.
#[test]
fn section_5_1_8_zone_cut_not_discovered() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         _dmarc.b.c.d.e.f.g.example.com. IN TXT \"v=DMARC1; p=none; psd=n\"",
    );
    let out = eval(&z, "mail.a.b.c.d.e.f.g.example.com", None, &[]);
    assert_eq!(
        walk_names(&out),
        [
            "_dmarc.mail.a.b.c.d.e.f.g.example.com",
            "_dmarc.c.d.e.f.g.example.com",
            "_dmarc.d.e.f.g.example.com",
            "_dmarc.e.f.g.example.com",
            "_dmarc.f.g.example.com",
            "_dmarc.g.example.com",
            "_dmarc.example.com",
            "_dmarc.com",
        ]
    );
    assert_eq!(out.policy_domain.unwrap().as_str(), "example.com");
    assert_eq!(out.requested_policy, Some(RequestedPolicy::Reject));
    // "MUST publish a DMARC Policy Record at that domain's location": then it is found first.
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         _dmarc.mail.a.b.c.d.e.f.g.example.com. IN TXT \"v=DMARC1; p=none\"",
    );
    let out = eval(&z, "mail.a.b.c.d.e.f.g.example.com", None, &[]);
    assert_eq!(out.walk.len(), 1);
    assert_eq!(out.requested_policy, Some(RequestedPolicy::None));
}

/// §11.8: records at "_dmarc.mail.example.com" and "_dmarc.example.com" make "example.com"
/// the Organizational Domain, so "evil.example.com" with an identifier "mail.example.com"
/// passes relaxed alignment; "psd=n" at mail.example.com or strict alignment prevents it.
#[test]
fn section_11_8_relaxed_alignment_considerations() {
    let base = "
        _dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject\"
        _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
        evil.example.com. IN A 192.0.2.66
    ";
    let z = zone(base);
    let out = eval(
        &z,
        "evil.example.com",
        None,
        &[dkim_pass("mail.example.com")],
    );
    assert_eq!(out.result, DmarcResult::Pass);
    assert_eq!(out.dkim[0].status, AlignmentStatus::Relaxed);

    let z = zone(&base.replace(
        "_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject\"",
        "_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject; psd=n\"",
    ));
    let out = eval(
        &z,
        "evil.example.com",
        None,
        &[dkim_pass("mail.example.com")],
    );
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(
        out.dkim[0].organizational_domain.as_ref().unwrap().as_str(),
        "mail.example.com"
    );

    let z = zone(&base.replace(
        "p=reject\"\n        evil",
        "p=reject; adkim=s\"\n        evil",
    ));
    let out = eval(
        &z,
        "evil.example.com",
        None,
        &[dkim_pass("mail.example.com")],
    );
    assert_eq!(out.result, DmarcResult::Fail);
}

const SPF_DKIM_ZONE: &str = "
    _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
    example.com. IN A 192.0.2.1
    child.example.com. IN A 192.0.2.2
    example.net. IN A 192.0.2.3
";

/// Appendix B.1.1: SPF strict, relaxed and no alignment.
#[test]
fn appendix_b_1_1_spf() {
    let z = zone(SPF_DKIM_ZONE);
    // Example 1: "the identifiers are in strict alignment".
    let out = eval(&z, "example.com", Some(spf_pass("example.com")), &[]);
    assert_eq!(out.spf.unwrap().status, AlignmentStatus::Strict);
    // Example 2: "in relaxed alignment because they both have the same Organizational Domain".
    let out = eval(&z, "example.com", Some(spf_pass("child.example.com")), &[]);
    assert_eq!(out.spf.unwrap().status, AlignmentStatus::Relaxed);
    assert_eq!(out.result, DmarcResult::Pass);
    // Example 3: "the identifiers are not in alignment".
    let out = eval(&z, "child.example.com", Some(spf_pass("example.net")), &[]);
    assert_eq!(out.spf.unwrap().status, AlignmentStatus::NotAligned);
    assert_eq!(out.result, DmarcResult::Fail);
    // "Alignment cannot exist if SPF does not produce a passing result."
    let out = eval(
        &z,
        "example.com",
        Some(spf(mailward_dmarc::SpfVerdict::SoftFail, "example.com")),
        &[],
    );
    assert_eq!(out.spf.unwrap().status, AlignmentStatus::NotAuthenticated);
}

/// Appendix B.1.2: DKIM strict, relaxed and no alignment.
#[test]
fn appendix_b_1_2_dkim() {
    let z = zone(SPF_DKIM_ZONE);
    let out = eval(&z, "example.com", None, &[dkim_pass("example.com")]);
    assert_eq!(out.dkim[0].status, AlignmentStatus::Strict);
    let out = eval(&z, "child.example.com", None, &[dkim_pass("example.com")]);
    assert_eq!(out.dkim[0].status, AlignmentStatus::Relaxed);
    assert_eq!(out.result, DmarcResult::Pass);
    let out = eval(&z, "child.example.com", None, &[dkim_pass("example.net")]);
    assert_eq!(out.dkim[0].status, AlignmentStatus::NotAligned);
    assert_eq!(out.result, DmarcResult::Fail);
    // "Alignment cannot exist with a DKIM signature that does not validate."
    let out = eval(
        &z,
        "example.com",
        None,
        &[dkim(mailward_dmarc::DkimVerdict::Fail, "example.com")],
    );
    assert_eq!(out.dkim[0].status, AlignmentStatus::NotAuthenticated);
    assert_eq!(out.result, DmarcResult::Fail);
}

/// The zone snippets of Appendix B.2, verbatim, under `$ORIGIN`s.
const B2_ZONE: &str = include_str!("data/rfc9989_b2.zone");

fn b2_record(name: &str) -> DmarcRecord {
    let z = zone(B2_ZONE);
    let p = discover(&z, name);
    p.record.unwrap().record
}

/// Appendix B.2.1 to B.2.5: the published records mean what the RFC says they mean.
#[test]
fn appendix_b_2_records() {
    // B.2.1 / B.2.2 (B.2.2's record is the one in the zone; it extends B.2.1 by ruf).
    let r = DmarcRecord::parse(b"v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com").unwrap();
    assert_eq!(r.p.valid(), Some(RequestedPolicy::None));
    assert_eq!(r.rua[0].uri, "mailto:dmarc-feedback@example.com");
    assert!(
        !r.testing(),
        "no \"t\" tag present, so the default of \"n\" applies"
    );

    let r = b2_record("example.com");
    assert_eq!(r.rua[0].uri, "mailto:dmarc-feedback@example.com");
    assert_eq!(r.ruf[0].uri, "mailto:auth-reports@thirdparty.example.net");

    // B.2.5: test.example.com, p=quarantine, two rua URIs (the second string starts right
    // after the comma), t=y.
    let r = b2_record("test.example.com");
    assert_eq!(r.p.valid(), Some(RequestedPolicy::Quarantine));
    assert_eq!(
        r.rua.iter().map(|u| u.uri.as_str()).collect::<Vec<_>>(),
        [
            "mailto:dmarc-feedback@example.com",
            "mailto:tld-test@thirdparty.example.net"
        ]
    );
    assert!(r.testing());
}

/// Appendix B.2.5 and §4.7 "t": with t=y and p=quarantine, "a policy of "none" will be applied
/// to failing messages"; after the update to p=reject without t, reject applies.
#[test]
fn appendix_b_2_5_testing_then_reject() {
    let z = zone(B2_ZONE);
    let out = eval(&z, "test.example.com", Some(spf_pass("example.org")), &[]);
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.requested_policy, Some(RequestedPolicy::Quarantine));
    assert_eq!(out.effective_policy, Some(RequestedPolicy::None));
    assert!(out.testing);
    assert_eq!(out.disposition, Disposition::None);

    let z = zone(
        "_dmarc.test.example.com. IN TXT ( \"v=DMARC1; p=reject; \"
            \"rua=mailto:dmarc-feedback@example.com,\"
            \"mailto:tld-test@thirdparty.example.net\" )",
    );
    let out = eval(&z, "test.example.com", Some(spf_pass("example.org")), &[]);
    assert_eq!(out.disposition, Disposition::Reject);
    // §4.7 "t": "if the policy is "reject" and the value of the "t" tag is "y", a policy of
    // "quarantine" will be applied".
    let z = zone("_dmarc.test.example.com. IN TXT \"v=DMARC1; p=reject; t=y\"");
    let out = eval(&z, "test.example.com", None, &[]);
    assert_eq!(out.disposition, Disposition::Quarantine);
    assert_eq!(
        out.to_method_result().property("policy", "dmarc"),
        Some("quarantine")
    );
}

/// Appendix B.2.3 / B.2.4 with RFC 9990 §4: the third party's
/// "example.com._report._dmarc.thirdparty.example.net" record authorizes and overrides `ruf`.
#[test]
fn appendix_b_2_3_and_b_2_4_external_destinations() {
    let z = zone(B2_ZONE);
    let r = b2_record("example.com");
    let ruf = pollster::block_on(verify_destinations(
        &z,
        &d("example.com"),
        &r,
        ReportKind::Ruf,
        DiscoveryMode::TreeWalk,
    ));
    // B.2.4: "only the "ruf" tag is actually overridden".
    assert_eq!(
        ruf[0].status,
        DestinationStatus::Authorized {
            uris: vec![ReportUri::parse("mailto:failure-reports@thirdparty.example.net").unwrap()]
        }
    );
    let rua = pollster::block_on(verify_destinations(
        &z,
        &d("example.com"),
        &r,
        ReportKind::Rua,
        DiscoveryMode::TreeWalk,
    ));
    assert_eq!(rua[0].status, DestinationStatus::Internal);

    // Without the authorizing record the URI "MUST be ignored".
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=none\"");
    let ruf = pollster::block_on(verify_destinations(
        &z,
        &d("example.com"),
        &r,
        ReportKind::Ruf,
        DiscoveryMode::TreeWalk,
    ));
    assert_eq!(ruf[0].status, DestinationStatus::NotAuthorized);
    assert!(ruf[0].usable_uris().is_empty());

    // An override naming another host: "MUST NOT generate a report to either".
    let z = zone(
        "example.com._report._dmarc.thirdparty.example.net. IN TXT \"v=DMARC1; ruf=mailto:x@elsewhere.example\"",
    );
    let ruf = pollster::block_on(verify_destinations(
        &z,
        &d("example.com"),
        &r,
        ReportKind::Ruf,
        DiscoveryMode::TreeWalk,
    ));
    assert_eq!(ruf[0].status, DestinationStatus::Forbidden);

    // RFC 9990 §4: a wildcard "*._report._dmarc.<host>" authorizes any domain.
    let z = zone("*._report._dmarc.thirdparty.example.net. IN TXT \"v=DMARC1;\"");
    let ruf = pollster::block_on(verify_destinations(
        &z,
        &d("example.com"),
        &r,
        ReportKind::Ruf,
        DiscoveryMode::TreeWalk,
    ));
    assert_eq!(ruf[0].usable_uris(), r.ruf);
}

/// Appendix B.3.1: Author Domain example.com, SPF identifier mail.example.com, DKIM identifier
/// example.com, "v=DMARC1; p=reject; aspf=r; rua=..." - "both align" and the message passes.
#[test]
fn appendix_b_3_1_smtp_session() {
    let z = zone(
        "_dmarc.example.com. IN TXT ( \"v=DMARC1; p=reject; aspf=r;\"
            \" rua=mailto:dmarc-feedback@example.com\" )
         mail.example.com. IN A 192.0.2.25",
    );
    let out = eval(
        &z,
        "example.com",
        Some(spf_pass("mail.example.com")),
        &[dkim_pass("example.com")],
    );
    assert!(out.spf_aligned && out.dkim_aligned);
    assert_eq!(out.result, DmarcResult::Pass);
    assert_eq!(out.disposition, Disposition::Pass);
    assert_eq!(out.parsed_record.unwrap().aspf(), AlignmentMode::Relaxed);
    // "If no Authenticated Identifiers align [...] the Mail Receiver applies the Domain Owner
    // Assessment Policy."
    let out = eval(&z, "example.com", Some(spf_pass("example.net")), &[]);
    assert_eq!(out.disposition, Disposition::Reject);
}

/// Appendix B.4.1: "_dmarc.example.com" and "_dmarc.signing.example.com" have records,
/// "_dmarc.com" does not; SPF and DKIM both align; example.com is the policy domain.
#[test]
fn appendix_b_4_1_simple() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         _dmarc.signing.example.com. IN TXT \"v=DMARC1; p=none\"",
    );
    let out = eval(
        &z,
        "example.com",
        Some(spf_pass("example.com")),
        &[dkim_pass("signing.example.com")],
    );
    assert_eq!(
        out.organizational_domain.as_ref().unwrap().as_str(),
        "example.com"
    );
    assert_eq!(out.spf.as_ref().unwrap().status, AlignmentStatus::Strict);
    assert_eq!(out.dkim[0].status, AlignmentStatus::Relaxed);
    assert_eq!(
        out.dkim[0].organizational_domain.as_ref().unwrap().as_str(),
        "example.com"
    );
    assert_eq!(out.policy_domain.as_ref().unwrap().as_str(), "example.com");
    assert_eq!(out.result, DmarcResult::Pass);
    // "query "_dmarc.signing.example.com", "_dmarc.example.com", and "_dmarc.com"".
    let q = txt_queries(&out);
    for name in [
        "_dmarc.example.com",
        "_dmarc.com",
        "_dmarc.signing.example.com",
    ] {
        assert!(q.contains(&name.to_owned()), "{name} in {q:?}");
    }
}

/// Appendix B.4.2: the deep Author Domain "a.b.c.d.e.f.g.h.i.j.k.example.com".
#[test]
fn appendix_b_4_2_deep() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=quarantine\"
         _dmarc.signing.example.com. IN TXT \"v=DMARC1; p=none\"",
    );
    let out = eval(
        &z,
        "a.b.c.d.e.f.g.h.i.j.k.example.com",
        Some(spf_pass("example.com")),
        &[dkim_pass("signing.example.com")],
    );
    assert_eq!(
        walk_names(&out),
        [
            "_dmarc.a.b.c.d.e.f.g.h.i.j.k.example.com",
            "_dmarc.g.h.i.j.k.example.com",
            "_dmarc.h.i.j.k.example.com",
            "_dmarc.i.j.k.example.com",
            "_dmarc.j.k.example.com",
            "_dmarc.k.example.com",
            "_dmarc.example.com",
            "_dmarc.com",
        ]
    );
    assert_eq!(
        out.organizational_domain.as_ref().unwrap().as_str(),
        "example.com"
    );
    assert!(out.spf_aligned, "SPF is aligned");
    assert!(out.dkim_aligned, "DKIM is aligned for relaxed alignment");
    // "the policy domain is the highest element in the DNS tree with a DMARC Policy Record".
    assert_eq!(out.policy_domain.as_ref().unwrap().as_str(), "example.com");
    assert_eq!(
        out.record_location,
        Some(RecordLocation::OrganizationalDomain)
    );
    // The same message without aligned identifiers gets example.com's policy for a subdomain.
    let out = eval(&z, "a.b.c.d.e.f.g.h.i.j.k.example.com", None, &[]);
    assert_eq!(out.disposition, Disposition::Quarantine);
}

/// Appendix B.4.3: PSD record at "_dmarc.bank.example" with psd=y.
#[test]
fn appendix_b_4_3_psd() {
    let z = zone(
        "_dmarc.bank.example. IN TXT \"v=DMARC1; p=reject; psd=y\"
         _dmarc.giant.bank.example. IN TXT \"v=DMARC1; p=quarantine\"
         mail.giant.bank.example. IN A 192.0.2.1
         mail.mega.bank.example. IN A 192.0.2.2",
    );
    let out = eval(
        &z,
        "giant.bank.example",
        Some(spf_pass("mail.giant.bank.example")),
        &[dkim_pass("mail.mega.bank.example")],
    );
    // "The Organizational Domain is "giant.bank.example" [...] it is also the policy domain."
    assert_eq!(
        out.organizational_domain.as_ref().unwrap().as_str(),
        "giant.bank.example"
    );
    assert_eq!(
        out.policy_domain.as_ref().unwrap().as_str(),
        "giant.bank.example"
    );
    // "Since this is the same Organizational Domain as the Author Domain, SPF is aligned."
    let spf = out.spf.as_ref().unwrap();
    assert_eq!(spf.status, AlignmentStatus::Relaxed);
    assert_eq!(
        spf.organizational_domain.as_ref().unwrap().as_str(),
        "giant.bank.example"
    );
    // "The Organizational Domain is "mega.bank.example", so DKIM is not aligned."
    assert_eq!(out.dkim[0].status, AlignmentStatus::NotAligned);
    // The evaluation does not walk for it (mail.mega.bank.example is not at or below
    // giant.bank.example, so it cannot share that Organizational Domain); a walk of its own
    // finds the example's value.
    assert_eq!(out.dkim[0].organizational_domain, None);
    assert_eq!(
        discover(&z, "mail.mega.bank.example")
            .organizational_domain
            .unwrap()
            .as_str(),
        "mega.bank.example"
    );
    assert_eq!(out.result, DmarcResult::Pass);
    // No walk goes above the psd=y record: "_dmarc.example" is never queried.
    assert!(!txt_queries(&out).contains(&"_dmarc.example".to_owned()));
}

/// Appendix A.4: "an "NXDOMAIN" response [...] means that the domain name does not exist,
/// while a "NODATA" response [...] means that the given RR type queried for does not exist, but
/// the domain name does." The np policy follows that distinction.
#[test]
fn appendix_a_4_nxdomain_vs_nodata() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=none; sp=quarantine; np=reject\"
         txt-only.example.com. IN TXT \"hello\"
         x.empty-non-terminal.example.com. IN A 192.0.2.1",
    );
    let ghost = eval(&z, "ghost.example.com", None, &[]);
    assert_eq!(ghost.policy, Some(PolicyTag::Np));
    assert_eq!(ghost.disposition, Disposition::Reject);
    let txt_only = eval(&z, "txt-only.example.com", None, &[]);
    assert_eq!(txt_only.policy, Some(PolicyTag::Sp));
    assert_eq!(txt_only.disposition, Disposition::Quarantine);
    let ent = eval(&z, "empty-non-terminal.example.com", None, &[]);
    assert_eq!(
        ent.policy,
        Some(PolicyTag::Sp),
        "an empty non-terminal exists (RFC 8020)"
    );
    // RFC 8020: below an NXDOMAIN name nothing exists.
    let deeper = eval(&z, "a.ghost.example.com", None, &[]);
    assert_eq!(deeper.policy, Some(PolicyTag::Np));
}

/// Appendix A.6 / C.5: pct is removed; a record with pct is still a record, pct is ignored in
/// Tree Walk mode and reported.
#[test]
fn appendix_a_6_pct_ignored_in_tree_walk_mode() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; pct=0\"");
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.disposition, Disposition::Reject);
    assert!(out.warnings.iter().any(|w| w.contains("pct")));
}

/// §5.3.6: "If one or more DNS queries required to perform DMARC validation on the message do
/// not complete [...] the message cannot be considered to pass or fail".
#[test]
fn section_5_3_6_temperror() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"")
        .with_timeout(d("_dmarc.mail.example.com"));
    let out = eval(&z, "mail.example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::TempError);
    assert_eq!(out.disposition, Disposition::None);
    assert_eq!(out.to_method_result().result, "temperror");
}

/// §9.1: the Authentication-Results entry carries header.from and policy.dmarc.
#[test]
fn section_9_1_authentication_results() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=quarantine\"");
    let out = eval(&z, "example.com", Some(spf_pass("example.net")), &[]);
    let m = out.to_method_result();
    assert_eq!(m.method, "dmarc");
    assert_eq!(m.result, "fail");
    assert_eq!(m.property("header", "from"), Some("example.com"));
    assert_eq!(m.property("policy", "dmarc"), Some("quarantine"));
}

/// §5.3.1: the Author Domain comes from RFC5322.From (U-labels become A-labels); zero or
/// several domains end the process.
#[test]
fn section_5_3_1_author_domain_from_the_message() {
    use mailward_dmarc::evaluate::{Options, evaluate_message};
    use mailward_types::message::Message;
    let z = zone("_dmarc.xn--bcher-kva.example. IN TXT \"v=DMARC1; p=reject\"");
    let raw = "From: =?utf-8?q?B=C3=BCcher?= <info@Bücher.example>\r\n\r\nhi\r\n";
    let msg = Message::parse(raw.as_bytes()).unwrap();
    let spf = spf_pass("xn--bcher-kva.example");
    let out = pollster::block_on(evaluate_message(
        &z,
        &msg,
        Some(&spf),
        &[],
        &Options::default(),
    ));
    assert_eq!(
        out.author_domain.as_ref().unwrap().as_str(),
        "xn--bcher-kva.example"
    );
    assert_eq!(out.result, DmarcResult::Pass);
    for bad in [
        "From: a@example.com, b@example.net\r\n\r\n",
        "To: a@example.com\r\n\r\n",
        "From: a@example.com\r\nFrom: a@example.com\r\n\r\n",
        "From: undisclosed-recipients:;\r\n\r\n",
    ] {
        let msg = Message::parse(bad.as_bytes()).unwrap();
        let out = pollster::block_on(evaluate_message(&z, &msg, None, &[], &Options::default()));
        assert_eq!(out.result, DmarcResult::PermError, "{bad:?}");
        assert_eq!(out.to_method_result().result, "permerror");
    }
}
