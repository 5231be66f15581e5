//! Alignment tables: strict/relaxed × SPF/DKIM (RFC 9989 §3.2.10, §4.4), with the expected
//! status reasoned from the definitions: strict = identical, relaxed = same Organizational
//! Domain (here example.com, the only record above the subdomains).

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

fn zone_for(aspf: &str, adkim: &str) -> mailward_dns::ZoneResolver {
    zone(&format!(
        "_dmarc.example.com. IN TXT \"v=DMARC1; p=reject; aspf={aspf}; adkim={adkim}\"
         example.com. IN A 192.0.2.1
         a.example.com. IN A 192.0.2.1
         b.example.com. IN A 192.0.2.1
         x.a.example.com. IN A 192.0.2.1
         example.net. IN A 192.0.2.1
         _dmarc.example.net. IN TXT \"v=DMARC1; p=none\""
    ))
}

/// (author, identifier, expected under strict, expected under relaxed)
const TABLE: &[(&str, &str, S, S)] = &[
    ("example.com", "example.com", S::Strict, S::Strict),
    ("a.example.com", "a.example.com", S::Strict, S::Strict),
    ("a.example.com", "example.com", S::NotAligned, S::Relaxed),
    ("example.com", "a.example.com", S::NotAligned, S::Relaxed),
    ("a.example.com", "b.example.com", S::NotAligned, S::Relaxed),
    (
        "x.a.example.com",
        "b.example.com",
        S::NotAligned,
        S::Relaxed,
    ),
    ("a.example.com", "example.net", S::NotAligned, S::NotAligned),
    (
        "example.com",
        "example.com.example.net",
        S::NotAligned,
        S::NotAligned,
    ),
    (
        "example.com",
        "notexample.com",
        S::NotAligned,
        S::NotAligned,
    ),
];

#[test]
fn spf_table() {
    for (mode, pick) in [("s", 0), ("r", 1)] {
        let z = zone_for(mode, "r");
        for (author, id, strict, relaxed) in TABLE {
            let want = if pick == 0 { *strict } else { *relaxed };
            let out = eval(&z, author, Some(spf_pass(id)), &[]);
            let got = out.spf.as_ref().unwrap().status;
            assert_eq!(got, want, "aspf={mode} author={author} spf={id}");
            let want_result = if want.is_aligned() {
                DmarcResult::Pass
            } else {
                DmarcResult::Fail
            };
            assert_eq!(
                out.result, want_result,
                "aspf={mode} author={author} spf={id}"
            );
        }
    }
}

#[test]
fn dkim_table() {
    for (mode, pick) in [("s", 0), ("r", 1)] {
        let z = zone_for("r", mode);
        for (author, id, strict, relaxed) in TABLE {
            let want = if pick == 0 { *strict } else { *relaxed };
            let out = eval(&z, author, None, &[dkim_pass(id)]);
            assert_eq!(
                out.dkim[0].status, want,
                "adkim={mode} author={author} d={id}"
            );
            assert_eq!(out.dkim_aligned, want.is_aligned());
        }
    }
}

/// aspf and adkim are independent.
#[test]
fn modes_are_per_mechanism() {
    let z = zone_for("s", "r");
    let out = eval(
        &z,
        "a.example.com",
        Some(spf_pass("b.example.com")),
        &[dkim_pass("b.example.com")],
    );
    assert_eq!(out.spf.as_ref().unwrap().status, S::NotAligned);
    assert_eq!(out.dkim[0].status, S::Relaxed);
    assert_eq!(out.result, DmarcResult::Pass);
}

/// §4.4.2 / §3.2.4: "DMARC relies solely on SPF validation of the MAIL FROM identity" - a
/// HELO-only pass never aligns, and only "pass" authenticates.
#[test]
fn spf_only_mail_from_pass_counts() {
    let z = zone_for("r", "r");
    let helo = SpfInput {
        result: SpfVerdict::Pass,
        domain: d("example.com"),
        scope: SpfScope::Helo,
    };
    let out = eval(&z, "example.com", Some(helo), &[]);
    assert_eq!(out.spf.as_ref().unwrap().status, S::NotAuthenticated);
    assert_eq!(out.result, DmarcResult::Fail);
    for verdict in [
        SpfVerdict::Fail,
        SpfVerdict::SoftFail,
        SpfVerdict::Neutral,
        SpfVerdict::None,
        SpfVerdict::PermError,
    ] {
        let out = eval(&z, "example.com", Some(spf(verdict, "example.com")), &[]);
        assert_eq!(out.spf.as_ref().unwrap().status, S::NotAuthenticated);
        assert_eq!(out.disposition, Disposition::Reject);
    }
    // SPF temperror on an aligned domain: §5.3.6 "the message cannot be considered to pass or
    // fail" (see tests/dns_errors.rs).
    let out = eval(
        &z,
        "example.com",
        Some(spf(SpfVerdict::TempError, "example.com")),
        &[],
    );
    assert_eq!(out.spf.as_ref().unwrap().status, S::TempError);
    assert_eq!(out.result, DmarcResult::TempError);
    assert_eq!(out.disposition, Disposition::None);
}

/// §4.4.1: "it is considered to produce a DMARC "pass" result if any DKIM-Authenticated
/// Identifier aligns".
#[test]
fn any_passing_aligned_signature_suffices() {
    let z = zone_for("r", "s");
    let out = eval(
        &z,
        "a.example.com",
        None,
        &[
            dkim(DkimVerdict::Fail, "a.example.com"),
            dkim_pass("example.net"),
            dkim_pass("example.com"),
            dkim_pass("a.example.com"),
        ],
    );
    let statuses: Vec<S> = out.dkim.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [S::NotAuthenticated, S::NotAligned, S::NotAligned, S::Strict]
    );
    assert_eq!(out.result, DmarcResult::Pass);
    // A failing signature with an aligned d= never counts.
    let out = eval(
        &z,
        "a.example.com",
        None,
        &[
            dkim(DkimVerdict::Fail, "a.example.com"),
            dkim_pass("example.net"),
        ],
    );
    assert_eq!(out.result, DmarcResult::Fail);
    // A temperror one with an aligned d= leaves the result unknown (§5.3.6: "cannot be
    // considered to pass or fail").
    let out = eval(
        &z,
        "a.example.com",
        None,
        &[
            dkim(DkimVerdict::TempError, "a.example.com"),
            dkim_pass("example.net"),
        ],
    );
    assert_eq!(out.result, DmarcResult::TempError);
}

/// §5.3.5: "If no Authenticated Identifiers exist for the domain [...] the message is considered
/// to fail".
#[test]
fn no_identifiers_fail() {
    let z = zone_for("r", "r");
    let out = eval(&z, "example.com", None, &[]);
    assert_eq!(out.result, DmarcResult::Fail);
    assert_eq!(out.disposition, Disposition::Reject);
}
