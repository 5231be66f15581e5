//! Tree Walk edge cases (RFC 9989 §4.10, §4.10.1, §4.10.2) and DNS failures at each step
//! (§5.3.6), over zones with injected faults.

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
    AlignmentStatus, DiscoveryStatus, Disposition, DmarcResult, PolicyTag, RecordLocation,
};
use mailward_dmarc::record::RequestedPolicy;
use mailward_dmarc::walk::{MAX_WALK_QUERIES, QueryOutcome};

#[test]
fn nine_labels_skip_the_eight_label_name() {
    let z = zone("x.example.com. IN A 192.0.2.1");
    let out = eval(&z, "a.b.c.d.e.f.g.example.com", None, &[]);
    let names = walk_names(&out);
    // 9 labels: the second query is at 7 labels (step 4), b.c.d...(8 labels) is skipped.
    assert_eq!(names[1], "_dmarc.c.d.e.f.g.example.com");
    assert_eq!(names.len(), 8);
}

#[test]
fn short_names_walk_every_label() {
    let z = zone("x.example.com. IN A 192.0.2.1");
    let out = eval(&z, "a.b.example.com", None, &[]);
    assert_eq!(
        walk_names(&out),
        [
            "_dmarc.a.b.example.com",
            "_dmarc.b.example.com",
            "_dmarc.example.com",
            "_dmarc.com"
        ]
    );
}

#[test]
fn never_more_than_eight_walk_queries() {
    let z = zone("x.example.com. IN A 192.0.2.1");
    let long: Vec<String> = (0..60).map(|i| format!("l{i}")).collect();
    let author = format!("{}.example.com", long.join("."));
    let out = eval(&z, &author, Some(spf_pass("x.example.com")), &[]);
    assert!(out.walk.len() <= MAX_WALK_QUERIES);
    assert_eq!(out.walk.len(), 8);
}

#[test]
fn dmarc_name_too_long_is_not_queried() {
    // An Author Domain of 248 octets is valid; "_dmarc." makes it 255 > 253.
    let label = "a".repeat(60);
    let author = format!("{label}.{label}.{label}.{}.example.com", "b".repeat(53));
    assert!(
        author.len() > 246 && author.len() <= 253,
        "{}",
        author.len()
    );
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"");
    let out = eval(&z, &author, None, &[]);
    assert_eq!(out.walk[0].outcome, QueryOutcome::NameTooLong);
    assert_eq!(out.policy_domain.unwrap().as_str(), "example.com");
}

#[test]
fn psd_record_with_org_record_below() {
    let z = zone(
        "_dmarc.example. IN TXT \"v=DMARC1; p=reject; psd=y\"
         _dmarc.corp.example. IN TXT \"v=DMARC1; p=none; sp=quarantine\"
         mail.corp.example. IN A 192.0.2.1",
    );
    let p = discover(&z, "mail.corp.example");
    assert_eq!(p.organizational_domain.unwrap().as_str(), "corp.example");
    assert_eq!(p.location, Some(RecordLocation::OrganizationalDomain));
    assert_eq!(p.policy, Some(PolicyTag::Sp));
    assert_eq!(p.requested_policy, Some(RequestedPolicy::Quarantine));
}

#[test]
fn psd_policy_applies_to_unregistered_org_domains() {
    // Only the PSD publishes: its sp/np apply to names below (§4.10.1 "The PSD of the Author
    // Domain").
    let z = zone(
        "_dmarc.example. IN TXT \"v=DMARC1; p=reject; sp=quarantine; np=reject; psd=y\"
         shop.example. IN A 192.0.2.1",
    );
    let p = discover(&z, "shop.example");
    assert_eq!(p.location, Some(RecordLocation::PublicSuffixDomain));
    assert_eq!(
        p.organizational_domain.as_ref().unwrap().as_str(),
        "shop.example"
    );
    assert_eq!(p.policy, Some(PolicyTag::Sp));
    let p = discover(&z, "nowhere.example");
    assert_eq!(p.policy, Some(PolicyTag::Np));
    assert_eq!(p.requested_policy, Some(RequestedPolicy::Reject));
}

#[test]
fn psd_at_the_author_domain_uses_p() {
    let z = zone("_dmarc.example. IN TXT \"v=DMARC1; p=quarantine; sp=none; psd=y\"");
    let p = discover(&z, "example");
    assert_eq!(p.policy, Some(PolicyTag::P));
    assert_eq!(p.location, Some(RecordLocation::AuthorDomain));
    assert_eq!(p.organizational_domain.unwrap().as_str(), "example");
}

#[test]
fn psd_n_in_the_middle_stops_the_walk() {
    let z = zone(
        "_dmarc.dept.corp.example.com. IN TXT \"v=DMARC1; p=quarantine; psd=n\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         _dmarc.corp.example.com. IN TXT \"v=DMARC1; p=none\"
         a.team.dept.corp.example.com. IN A 192.0.2.1",
    );
    let out = eval(&z, "a.team.dept.corp.example.com", None, &[]);
    assert_eq!(
        walk_names(&out),
        [
            "_dmarc.a.team.dept.corp.example.com",
            "_dmarc.team.dept.corp.example.com",
            "_dmarc.dept.corp.example.com"
        ]
    );
    assert_eq!(
        out.organizational_domain.unwrap().as_str(),
        "dept.corp.example.com"
    );
    assert_eq!(out.disposition, Disposition::Quarantine);
    // Without psd=n the fewest-labels record (example.com) is the Organizational Domain.
    let z = zone(
        "_dmarc.dept.corp.example.com. IN TXT \"v=DMARC1; p=quarantine\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         a.team.dept.corp.example.com. IN A 192.0.2.1",
    );
    let out = eval(&z, "a.team.dept.corp.example.com", None, &[]);
    assert_eq!(out.organizational_domain.unwrap().as_str(), "example.com");
    assert_eq!(out.disposition, Disposition::Reject);
}

#[test]
fn multiple_records_at_author_are_discarded_and_walk_continues() {
    let z = zone(
        "_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=none\"
         _dmarc.mail.example.com. IN TXT \"v=DMARC1; p=quarantine\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         mail.example.com. IN A 192.0.2.1",
    );
    let out = eval(&z, "mail.example.com", None, &[]);
    assert_eq!(
        out.walk[0].outcome,
        QueryOutcome::MultipleRecords { count: 2 }
    );
    assert_eq!(out.policy_domain.unwrap().as_str(), "example.com");
    assert_eq!(out.disposition, Disposition::Reject);
}

#[test]
fn non_dmarc_txt_records_are_ignored() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=spf1 -all\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=quarantine\"
         _dmarc.example.com. IN TXT \"v=DMARC10; p=none\"",
    );
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.disposition, Disposition::Quarantine);
}

#[test]
fn multiple_records_everywhere_means_no_policy() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=none\"
         _dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"",
    );
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::None);
}

#[test]
fn unusable_records() {
    // §4.10.1: no valid p and no valid rua: no DMARC processing.
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=block\"");
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::None);
    let p = discover(&z, "example.com");
    assert_eq!(p.status, DiscoveryStatus::Unusable);
    // With a valid rua: as if p=none.
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=block; rua=mailto:r@example.com\"");
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.requested_policy, Some(RequestedPolicy::None));
    assert_eq!(out.disposition, Disposition::None);
    // A missing p with rua: p=none.
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; rua=mailto:r@example.com\"");
    let out = eval(&z, "example.com", None, &[dkim_pass("example.com")]);
    assert_eq!(out.result, DmarcResult::Pass);
    assert_eq!(out.effective_policy, Some(RequestedPolicy::None));
}

#[test]
fn np_falls_back_to_sp_then_p() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; sp=quarantine\"");
    let out = eval(&z, "ghost.example.com", None, &[]);
    assert_eq!(out.policy, Some(PolicyTag::Sp));
    assert_eq!(out.disposition, Disposition::Quarantine);
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"");
    let out = eval(&z, "ghost.example.com", None, &[]);
    assert_eq!(out.policy, Some(PolicyTag::P));
    assert_eq!(out.disposition, Disposition::Reject);
    // np given but the author exists: sp, else p.
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; np=none\"
         real.example.com. IN A 192.0.2.1",
    );
    let out = eval(&z, "real.example.com", None, &[]);
    assert_eq!(out.policy, Some(PolicyTag::P));
    assert_eq!(out.author_exists, Some(true));
    let out = eval(&z, "ghost.example.com", None, &[]);
    assert_eq!(out.policy, Some(PolicyTag::Np));
    assert_eq!(out.disposition, Disposition::None);
}

/// A DNS timeout or SERVFAIL at each query of policy discovery gives temperror, and the walk
/// stops there.
#[test]
fn dns_failure_at_each_walk_step() {
    let names = [
        "_dmarc.a.b.example.com",
        "_dmarc.b.example.com",
        "_dmarc.example.com",
        "_dmarc.com",
    ];
    for (i, name) in names.iter().enumerate() {
        for servfail in [false, true] {
            let base = zone("a.b.example.com. IN A 192.0.2.1");
            let z = if servfail {
                base.with_servfail(d(name))
            } else {
                base.with_timeout(d(name))
            };
            let out = eval(
                &z,
                "a.b.example.com",
                Some(spf_pass("a.b.example.com")),
                &[],
            );
            assert_eq!(out.result, DmarcResult::TempError, "{name}");
            assert_eq!(out.walk.len(), i + 1, "{name}");
            assert!(matches!(
                out.walk.last().unwrap().outcome,
                QueryOutcome::Error { .. }
            ));
        }
    }
}

#[test]
fn dns_failure_in_existence_check() {
    let z = zone("_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; np=quarantine\"")
        .with_timeout(d("ghost.example.com"));
    // The TXT query at _dmarc.ghost.example.com is NXDOMAIN, the A query times out.
    let z2 = z.clone();
    let out = eval(&z2, "ghost.example.com", None, &[]);
    // `_dmarc.ghost.example.com` is not marked, so only the existence query fails.
    assert_eq!(out.result, DmarcResult::TempError);
    assert!(
        out.queries
            .iter()
            .any(|q| q.rtype == "A" && q.outcome == "timeout")
    );
}

#[test]
fn dns_failure_in_identifier_walk() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         mail.example.com. IN A 192.0.2.1",
    )
    .with_timeout(d("_dmarc.bounce.example.com"));
    // The SPF identifier's walk fails: no pass is possible, so temperror, not fail.
    let out = eval(&z, "example.com", Some(spf_pass("bounce.example.com")), &[]);
    assert_eq!(out.spf.as_ref().unwrap().status, AlignmentStatus::TempError);
    assert_eq!(out.result, DmarcResult::TempError);
    // An aligned DKIM signature still gives pass: the failed query was not needed.
    let out = eval(
        &z,
        "example.com",
        Some(spf_pass("bounce.example.com")),
        &[dkim_pass("example.com")],
    );
    assert_eq!(out.result, DmarcResult::Pass);
}

#[test]
fn dns_failure_in_author_org_walk() {
    // The author has its own record; its Organizational Domain walk fails above it.
    let z = zone("_dmarc.mail.example.com. IN TXT \"v=DMARC1; p=reject\"")
        .with_servfail(d("_dmarc.example.com"));
    let out = eval(&z, "mail.example.com", None, &[dkim_pass("x.example.com")]);
    assert_eq!(out.dkim[0].status, AlignmentStatus::TempError);
    assert_eq!(out.result, DmarcResult::TempError);
}

#[test]
fn queries_are_shared_between_walks() {
    let z = zone(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject\"
         a.example.com. IN A 192.0.2.1",
    );
    let out = eval(
        &z,
        "a.example.com",
        Some(spf_pass("b.example.com")),
        &[dkim_pass("b.example.com"), dkim_pass("c.example.com")],
    );
    let q = txt_queries(&out);
    let mut dedup = q.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(q.len(), dedup.len(), "no TXT name queried twice: {q:?}");
    assert_eq!(out.result, DmarcResult::Pass);
}

const OWN_AND_PARENT: &str = "
mail.example.com.          IN A 192.0.2.1
_dmarc.mail.example.com.   IN TXT \"v=DMARC1; p=reject\"
_dmarc.example.com.        IN TXT \"v=DMARC1; p=none\"
";

/// The Author Domain's Organizational Domain is reported even when its own record made a walk
/// unnecessary for policy discovery.
///
/// §4.10.2: "There is no need to perform Identifier Alignment Evaluations [when] the Author
/// Domain and the Authenticated Identifier(s) are all the same domain, and there is a DMARC
/// Policy Record published for that domain. In this case, this common domain is treated as the
/// Organizational Domain. For example, if the common domain in question is
/// "mail.example.com", and there is a valid DMARC Policy Record published at
/// "_dmarc.mail.example.com", then "mail.example.com" is the Organizational Domain."
#[test]
fn organizational_domain_of_an_author_with_its_own_record() {
    let z = zone(OWN_AND_PARENT);
    let out = eval(
        &z,
        "mail.example.com",
        Some(spf_pass("mail.example.com")),
        &[dkim_pass("mail.example.com")],
    );
    assert_eq!(out.result, DmarcResult::Pass);
    assert_eq!(
        out.organizational_domain.as_ref().map(|d| d.as_str()),
        Some("mail.example.com")
    );
    // Otherwise the walk decides (§4.10.2 step 3: "select the DMARC Policy Record found at the
    // name with the fewest number of labels"): records at mail.example.com and example.com,
    // none at com → example.com. With no identifier, and with one that has no label in
    // common with the Author Domain (no walk needed for its alignment).
    for spf in [None, Some(spf_pass("example.net"))] {
        let out = eval(&z, "mail.example.com", spf.clone(), &[]);
        assert_eq!(out.result, DmarcResult::Fail, "{spf:?}");
        assert_eq!(
            out.organizational_domain.as_ref().map(|d| d.as_str()),
            Some("example.com"),
            "{spf:?}"
        );
    }
    // Strict alignment needs no walk either (§4.10.2 third bullet); the field is still filled.
    let z = zone(
        "mail.example.com.          IN A 192.0.2.1
         _dmarc.mail.example.com.   IN TXT \"v=DMARC1; p=reject; aspf=s\"
         _dmarc.example.com.        IN TXT \"v=DMARC1; p=none\"",
    );
    let out = eval(
        &z,
        "mail.example.com",
        Some(spf_pass("b.mail.example.com")),
        &[],
    );
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(
        out.organizational_domain.as_ref().map(|d| d.as_str()),
        Some("example.com")
    );
}

/// A DNS error in a walk made only to report the Organizational Domain is not a query
/// "required to perform DMARC validation" (§5.3.6): the result stands, the field stays empty.
#[test]
fn organizational_domain_lookup_error_is_not_fatal() {
    // (The zone's fault injection applies to names without records of the type asked.)
    let z = zone(
        "mail.example.com.          IN A 192.0.2.1
         _dmarc.mail.example.com.   IN TXT \"v=DMARC1; p=reject\"",
    )
    .with_servfail(d("_dmarc.example.com"));
    let out = eval(&z, "mail.example.com", Some(spf_pass("example.net")), &[]);
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.disposition, Disposition::Reject);
    assert_eq!(out.organizational_domain, None);
}

/// An unusable record at the Author Domain (§4.10.1: no valid p, no rua: "applies no DMARC
/// processing") still leaves an Organizational Domain to report: example.com by the walk.
#[test]
fn organizational_domain_with_an_unusable_author_record() {
    let z = zone(
        "mail.example.com.          IN A 192.0.2.1
         _dmarc.mail.example.com.   IN TXT \"v=DMARC1; p=bogus\"
         _dmarc.example.com.        IN TXT \"v=DMARC1; p=reject\"",
    );
    let out = eval(&z, "mail.example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::None);
    assert_eq!(
        out.organizational_domain.as_ref().map(|d| d.as_str()),
        Some("example.com")
    );
}
