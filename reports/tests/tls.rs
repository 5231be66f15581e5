//! SMTP TLS reports (RFC 8460): the RFC's example report read into values written out by hand,
//! one case per leniency with the expected reading argued next to its input, every rejection,
//! the limits, the writer's fixed points from the RFC, the summary, and generate → parse as a
//! property (JSON, gzip and the e-mail).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_reports::tls::*;
use mailward_reports::{DefectKind, Error, Limit, Limits};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// RFC 8460 Appendix B, "Example JSON Report", as published: the `additional-information`
/// URI carries the spaces (and the trailing one) of the RFC's text rendering.
const RFC8460_APPENDIX_B: &str = include_str!("data/rfc8460_appendix_b.json");

fn parse(json: &str) -> ParsedTlsReport {
    parse_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn error_of(json: &[u8]) -> Error {
    parse_json(json).map(|p| p.report).unwrap_err()
}

/// `(kind, path, value)` of every defect, in the order recorded.
fn defects(p: &ParsedTlsReport) -> Vec<(DefectKind, &str, Option<&str>)> {
    p.defects
        .iter()
        .map(|d| (d.kind, d.path.as_str(), d.value.as_deref()))
        .collect()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Option<ReportedIp> {
    Some(ReportedIp::Addr(IpAddr::V4(Ipv4Addr::new(a, b, c, d))))
}

const HEAD: &str = r#""organization-name": "o", "contact-info": "c@o.example", "report-id": "r",
  "date-range": {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"}"#;

/// A report with `policies` as given.
fn with_policies(policies: &str) -> String {
    format!("{{{HEAD}, \"policies\": {policies}}}")
}

/// A report with one `sts` policy for example.net and `details` as its `failure-details`.
fn with_details(details: &str) -> String {
    with_policies(&format!(
        r#"[{{"policy": {{"policy-type": "sts", "policy-domain": "example.net"}},
             "summary": {{"total-successful-session-count": 1, "total-failure-session-count": 2}},
             "failure-details": {details}}}]"#
    ))
}

#[test]
fn rfc8460_appendix_b() {
    let parsed = parse(RFC8460_APPENDIX_B);
    assert_eq!(defects(&parsed), []);
    let expected = TlsReport {
        organization_name: "Company-X".into(),
        date_range: TlsDateRange {
            start_datetime: "2016-04-01T00:00:00Z".into(),
            end_datetime: "2016-04-01T23:59:59Z".into(),
        },
        contact_info: Some("sts-reporting@company-x.example".into()),
        report_id: "5065427c-23d3-47ca-b6e0-946ea0e8c4be".into(),
        policies: vec![TlsPolicyResult {
            policy: TlsPolicy {
                policy_type: Some(PolicyType::Sts),
                policy_string: vec![
                    "version: STSv1".into(),
                    "mode: testing".into(),
                    "mx: *.mail.company-y.example".into(),
                    "max_age: 86400".into(),
                ],
                policy_domain: "company-y.example".into(),
                mx_host: vec!["*.mail.company-y.example".into()],
            },
            summary: SessionCounts {
                total_successful_session_count: 5326,
                total_failure_session_count: 303,
            },
            failure_details: vec![
                FailureDetail {
                    result_type: Some(ResultType::CertificateExpired),
                    // 2001:db8:abcd:0012::1, the leading zero of `0012` dropped.
                    sending_mta_ip: Some(ReportedIp::Addr(IpAddr::V6(Ipv6Addr::new(
                        0x2001, 0x0db8, 0xabcd, 0x0012, 0, 0, 0, 1,
                    )))),
                    receiving_mx_hostname: Some("mx1.mail.company-y.example".into()),
                    failed_session_count: 100,
                    ..FailureDetail::default()
                },
                FailureDetail {
                    result_type: Some(ResultType::StarttlsNotSupported),
                    sending_mta_ip: Some(ReportedIp::Addr(IpAddr::V6(Ipv6Addr::new(
                        0x2001, 0x0db8, 0xabcd, 0x0013, 0, 0, 0, 1,
                    )))),
                    receiving_mx_hostname: Some("mx2.mail.company-y.example".into()),
                    receiving_ip: v4(203, 0, 113, 56),
                    failed_session_count: 200,
                    // Free text: kept exactly, trailing space included.
                    additional_information: Some(
                        "https://reports.company-x.example/report_info ? id = 5065427 c - 23 d3# \
                         StarttlsNotSupported "
                            .into(),
                    ),
                    ..FailureDetail::default()
                },
                FailureDetail {
                    result_type: Some(ResultType::ValidationFailure),
                    sending_mta_ip: v4(198, 51, 100, 62),
                    receiving_mx_hostname: Some("mx-backup.mail.company-y.example".into()),
                    receiving_ip: v4(203, 0, 113, 58),
                    failed_session_count: 3,
                    failure_reason_code: Some("X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED".into()),
                    ..FailureDetail::default()
                },
            ],
        }],
    };
    assert_eq!(parsed.report, expected);
    // 2016-04-01 is day 16 892 after 1970-01-01: 16 892 × 86 400 = 1 459 468 800.
    assert_eq!(parsed.report.date_range.start_unix(), Some(1_459_468_800));
    assert_eq!(
        parsed.report.date_range.end_unix(),
        Some(1_459_468_800 + 86_399)
    );
    assert_eq!(parsed.report.policy_domain(), Some("company-y.example"));
    // The failures (100 + 200 + 3) add up to the summary's 303 in this example.
    let details: u64 = parsed.report.policies[0]
        .failure_details
        .iter()
        .map(|d| d.failed_session_count)
        .sum();
    assert_eq!(details, parsed.report.failed_sessions());
}

#[test]
fn unknown_members_are_skipped_and_reported() {
    // Three members RFC 8460 §4.5 does not define, at three depths. Their values (an object,
    // a number, an array) are walked and dropped; the paths count from 1.
    let json = with_details(
        r#"[{"result-type": "dane-required", "failed-session-count": 1},
            {"result-type": "tlsa-invalid", "failed-session-count": 1, "foo": [1, {"a": 2}]}]"#,
    )
    .replacen('{', r#"{"generator": {"name": "x"}, "#, 1)
    .replace(
        r#""policy-type": "sts""#,
        r#""policy-type": "sts", "policy-id": 7"#,
    );
    let parsed = parse(&json);
    assert_eq!(
        defects(&parsed),
        [
            (DefectKind::UnknownElement, "generator", None),
            (
                DefectKind::UnknownElement,
                "policies[1]/policy/policy-id",
                None
            ),
            (
                DefectKind::UnknownElement,
                "policies[1]/failure-details[2]/foo",
                None
            ),
        ]
    );
    let details = &parsed.report.policies[0].failure_details;
    assert_eq!(details.len(), 2);
    assert_eq!(details[1].result_type, Some(ResultType::TlsaInvalid));
}

#[test]
fn missing_members_are_reported() {
    // No organization-name and no contact-info at the top; the first policy has neither
    // policy-type nor policy-domain, its detail no result-type; the second policy has no
    // `policy` at all. Each is read as empty / None. Defects come in the order the objects
    // close: innermost first, the top-level object last.
    let json = r#"{"report-id": "r",
      "date-range": {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"},
      "policies": [
        {"policy": {"mx-host": ["mx.example.net"]},
         "summary": {"total-successful-session-count": 0, "total-failure-session-count": 4},
         "failure-details": [{"failed-session-count": 4}]},
        {"summary": {"total-successful-session-count": 1, "total-failure-session-count": 0}}]}"#;
    let parsed = parse(json);
    assert_eq!(
        defects(&parsed),
        [
            (
                DefectKind::MissingElement,
                "policies[1]/policy/policy-type",
                None
            ),
            (
                DefectKind::MissingElement,
                "policies[1]/policy/policy-domain",
                None
            ),
            (
                DefectKind::MissingElement,
                "policies[1]/failure-details[1]/result-type",
                None
            ),
            (DefectKind::MissingElement, "policies[2]/policy", None),
            (DefectKind::MissingElement, "organization-name", None),
            (DefectKind::MissingElement, "contact-info", None),
        ]
    );
    let r = &parsed.report;
    assert_eq!(r.organization_name, "");
    assert_eq!(r.contact_info, None);
    assert_eq!(r.policies[0].policy.policy_type, None);
    assert_eq!(r.policies[0].policy.policy_domain, "");
    assert_eq!(r.policies[0].policy.mx_host, ["mx.example.net"]);
    assert_eq!(r.policies[0].failure_details[0].result_type, None);
    assert_eq!(r.policies[0].failure_details[0].failed_session_count, 4);
    assert_eq!(r.policies[1].policy, TlsPolicy::default());

    // `policies` itself missing (the organization name shows it is meant as a report).
    let parsed = parse(&format!("{{{HEAD}}}"));
    assert_eq!(
        defects(&parsed),
        [(DefectKind::MissingElement, "policies", None)]
    );
    assert!(parsed.report.policies.is_empty());
}

#[test]
fn numbers_written_as_strings() {
    // "5326" is the count 5326; " 7 " is 7, with the whitespace reported first; the largest
    // u64 still fits.
    let json =
        with_details(r#"[{"result-type": "certificate-expired", "failed-session-count": " 7 "}]"#)
            .replace(
                r#""total-successful-session-count": 1"#,
                r#""total-successful-session-count": "5326""#,
            )
            .replace(
                r#""total-failure-session-count": 2"#,
                r#""total-failure-session-count": "18446744073709551615""#,
            );
    let parsed = parse(&json);
    let p = "policies[1]/summary/";
    assert_eq!(
        defects(&parsed),
        [
            (
                DefectKind::NumberAsString,
                &*format!("{p}total-successful-session-count"),
                Some("5326")
            ),
            (
                DefectKind::NumberAsString,
                &*format!("{p}total-failure-session-count"),
                Some("18446744073709551615")
            ),
            (
                DefectKind::Whitespace,
                "policies[1]/failure-details[1]/failed-session-count",
                Some(" 7 ")
            ),
            (
                DefectKind::NumberAsString,
                "policies[1]/failure-details[1]/failed-session-count",
                Some(" 7 ")
            ),
        ]
    );
    let policy = &parsed.report.policies[0];
    assert_eq!(policy.summary.total_successful_session_count, 5326);
    assert_eq!(policy.summary.total_failure_session_count, u64::MAX);
    assert_eq!(policy.failure_details[0].failed_session_count, 7);
}

#[test]
fn upper_case_tokens_are_lower_cased() {
    // `STS` and `Certificate-Expired` are `sts` and `certificate-expired` in the wrong case;
    // the defect keeps what was written.
    let json =
        with_details(r#"[{"result-type": "Certificate-Expired", "failed-session-count": 1}]"#)
            .replace(r#""policy-type": "sts""#, r#""policy-type": "STS""#);
    let parsed = parse(&json);
    assert_eq!(
        defects(&parsed),
        [
            (
                DefectKind::UpperCaseToken,
                "policies[1]/policy/policy-type",
                Some("STS")
            ),
            (
                DefectKind::UpperCaseToken,
                "policies[1]/failure-details[1]/result-type",
                Some("Certificate-Expired")
            ),
        ]
    );
    let policy = &parsed.report.policies[0];
    assert_eq!(policy.policy.policy_type, Some(PolicyType::Sts));
    assert_eq!(
        policy.failure_details[0].result_type,
        Some(ResultType::CertificateExpired)
    );
}

#[test]
fn unknown_tokens_are_kept_as_written() {
    // `tls-version-invalid` is in no RFC; `FOO-BAR` is unknown in either case, so it is kept
    // with its case (no UpperCaseToken); `dane` is no policy type.
    let json = with_details(
        r#"[{"result-type": "tls-version-invalid", "failed-session-count": 1},
            {"result-type": "FOO-BAR", "failed-session-count": 1}]"#,
    )
    .replace(r#""policy-type": "sts""#, r#""policy-type": "dane""#);
    let parsed = parse(&json);
    assert_eq!(
        defects(&parsed),
        [
            (
                DefectKind::UnknownValue,
                "policies[1]/policy/policy-type",
                Some("dane")
            ),
            (
                DefectKind::UnknownValue,
                "policies[1]/failure-details[1]/result-type",
                Some("tls-version-invalid")
            ),
            (
                DefectKind::UnknownValue,
                "policies[1]/failure-details[2]/result-type",
                Some("FOO-BAR")
            ),
        ]
    );
    let policy = &parsed.report.policies[0];
    assert_eq!(
        policy.policy.policy_type,
        Some(PolicyType::Unknown("dane".into()))
    );
    let types: Vec<_> = policy
        .failure_details
        .iter()
        .map(|d| d.result_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            Some(ResultType::Unknown("tls-version-invalid".into())),
            Some(ResultType::Unknown("FOO-BAR".into())),
        ]
    );
}

#[test]
fn whitespace_around_values_is_trimmed() {
    // Identifiers, addresses and dates are trimmed and reported; the organization name is
    // free text and kept as written, without a defect.
    let json = with_details(
        r#"[{"result-type": " starttls-not-supported", "sending-mta-ip": "192.0.2.1 ",
             "receiving-mx-hostname": "\tmx.example.net", "failed-session-count": 1,
             "failure-reason-code": " kept "}]"#,
    )
    .replace(r#""report-id": "r""#, r#""report-id": " r-1 ""#)
    .replace(
        r#""organization-name": "o""#,
        r#""organization-name": " Company X ""#,
    )
    .replace(r#""2016-04-01T00:00:00Z""#, r#""2016-04-01T00:00:00Z\n""#);
    let parsed = parse(&json);
    let d = "policies[1]/failure-details[1]/";
    assert_eq!(
        defects(&parsed),
        [
            (DefectKind::Whitespace, "report-id", Some(" r-1 ")),
            (
                DefectKind::Whitespace,
                "date-range/start-datetime",
                Some("2016-04-01T00:00:00Z\n")
            ),
            (
                DefectKind::Whitespace,
                &*format!("{d}result-type"),
                Some(" starttls-not-supported")
            ),
            (
                DefectKind::Whitespace,
                &*format!("{d}sending-mta-ip"),
                Some("192.0.2.1 ")
            ),
            (
                DefectKind::Whitespace,
                &*format!("{d}receiving-mx-hostname"),
                Some("\tmx.example.net")
            ),
        ]
    );
    let r = &parsed.report;
    assert_eq!(r.report_id, "r-1");
    assert_eq!(r.organization_name, " Company X ");
    assert_eq!(r.date_range.start_datetime, "2016-04-01T00:00:00Z");
    let detail = &r.policies[0].failure_details[0];
    assert_eq!(detail.result_type, Some(ResultType::StarttlsNotSupported));
    assert_eq!(detail.sending_mta_ip, v4(192, 0, 2, 1));
    assert_eq!(
        detail.receiving_mx_hostname.as_deref(),
        Some("mx.example.net")
    );
    assert_eq!(detail.failure_reason_code.as_deref(), Some(" kept "));
}

#[test]
fn byte_order_mark_is_skipped() {
    let json = format!("\u{FEFF}{}", with_policies("[]"));
    let parsed = parse(&json);
    assert_eq!(defects(&parsed), [(DefectKind::ByteOrderMark, "", None)]);
    assert_eq!(parsed.report, parse(&with_policies("[]")).report);
}

#[test]
fn duplicate_members_keep_the_first() {
    // RFC 7493 §2.3 forbids duplicate names; the first `report-id` and the first
    // `failed-session-count` win.
    let json = with_details(r#"[{"failed-session-count": 5, "result-type": "dane-required", "failed-session-count": 6}]"#)
        .replace(r#""report-id": "r""#, r#""report-id": "first", "report-id": "second""#);
    let parsed = parse(&json);
    assert_eq!(
        defects(&parsed),
        [
            (DefectKind::DuplicateElement, "report-id", None),
            (
                DefectKind::DuplicateElement,
                "policies[1]/failure-details[1]/failed-session-count",
                None
            ),
        ]
    );
    assert_eq!(parsed.report.report_id, "first");
    assert_eq!(
        parsed.report.policies[0].failure_details[0].failed_session_count,
        5
    );
}

#[test]
fn json_types_are_converted_where_the_meaning_is_clear() {
    // - `policies` as one object instead of an array: a one-element array;
    // - `mx-host` as one string: a one-element array;
    // - `report-id` as the number 12345: the text "12345";
    // - `receiving-mx-helo: null`: absent;
    // - `failed-session-count: 3.0`: 3;
    // - a string among the failure details: dropped (the object after it is element 2);
    // - `policy-string: true`: no lines.
    let json = r#"{"organization-name": "o", "report-id": 12345, "contact-info": "c@o.example",
            "date-range": {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"},
            "policies": {"policy": {"policy-type": "sts", "policy-domain": "example.net",
                                      "mx-host": "mx.example.net", "policy-string": true},
                          "summary": {"total-successful-session-count": 1, "total-failure-session-count": 3},
                          "failure-details": ["x", {"result-type": "dnssec-invalid", "receiving-mx-helo": null,
                                                     "failed-session-count": 3.0}]}}"#;
    let parsed = parse(json);
    assert_eq!(
        defects(&parsed),
        [
            (DefectKind::JsonTypeMismatch, "report-id", Some("12345")),
            (DefectKind::JsonTypeMismatch, "policies", Some("object")),
            (
                DefectKind::JsonTypeMismatch,
                "policies/policy/mx-host",
                Some("string")
            ),
            (
                DefectKind::JsonTypeMismatch,
                "policies/policy/policy-string",
                Some("true")
            ),
            (
                DefectKind::JsonTypeMismatch,
                "policies/failure-details[1]",
                Some("string")
            ),
            (
                DefectKind::JsonTypeMismatch,
                "policies/failure-details[2]/receiving-mx-helo",
                Some("null")
            ),
            (
                DefectKind::JsonTypeMismatch,
                "policies/failure-details[2]/failed-session-count",
                Some("3")
            ),
        ]
    );
    let r = &parsed.report;
    assert_eq!(r.report_id, "12345");
    assert_eq!(r.policies.len(), 1);
    assert_eq!(r.policies[0].policy.mx_host, ["mx.example.net"]);
    assert!(r.policies[0].policy.policy_string.is_empty());
    let details = &r.policies[0].failure_details;
    assert_eq!(details.len(), 1);
    assert_eq!(details[0].result_type, Some(ResultType::DnssecInvalid));
    assert_eq!(details[0].receiving_mx_helo, None);
    assert_eq!(details[0].failed_session_count, 3);
}

#[test]
fn addresses_that_do_not_parse_are_kept_as_text() {
    // 300 is no octet; brackets are URI syntax, not RFC 5952.
    let json = with_details(
        r#"[{"result-type": "certificate-not-trusted", "sending-mta-ip": "192.0.2.300",
             "receiving-ip": "[2001:db8::1]", "failed-session-count": 1}]"#,
    );
    let parsed = parse(&json);
    let d = "policies[1]/failure-details[1]/";
    assert_eq!(
        defects(&parsed),
        [
            (
                DefectKind::UnparsableValue,
                &*format!("{d}sending-mta-ip"),
                Some("192.0.2.300")
            ),
            (
                DefectKind::UnparsableValue,
                &*format!("{d}receiving-ip"),
                Some("[2001:db8::1]")
            ),
        ]
    );
    let detail = &parsed.report.policies[0].failure_details[0];
    assert_eq!(
        detail.sending_mta_ip,
        Some(ReportedIp::Unparsed("192.0.2.300".into()))
    );
    assert_eq!(
        detail.receiving_ip,
        Some(ReportedIp::Unparsed("[2001:db8::1]".into()))
    );
}

#[test]
fn trailing_content_is_ignored() {
    for tail in ["x", "{}", ",", "]"] {
        let json = format!("{} \n{tail}", with_policies("[]"));
        let parsed = parse(&json);
        assert_eq!(
            defects(&parsed),
            [(DefectKind::TrailingContent, "", None)],
            "{tail}"
        );
    }
}

#[test]
fn defects_beyond_the_limit_are_counted() {
    let json = format!("{{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,{HEAD},\"policies\":[]}}");
    let limits = Limits {
        max_defects: 2,
        ..Limits::default()
    };
    let parsed = parse_json_with(json.as_bytes(), &limits).unwrap();
    assert_eq!(
        defects(&parsed),
        [
            (DefectKind::UnknownElement, "a", None),
            (DefectKind::UnknownElement, "b", None),
            (DefectKind::DefectsTruncated, "", Some("3")),
        ]
    );
}

/// Every defect class the TLS reader can record has a case above.
#[test]
fn every_tls_defect_class_has_a_case() {
    // The cases are the tests above this one; their expectations name each kind.
    let source = include_str!("tls.rs");
    let cases = &source[..source.find("fn every_tls_defect_class_has_a_case").unwrap()];
    for kind in [
        DefectKind::UnknownElement,
        DefectKind::DuplicateElement,
        DefectKind::MissingElement,
        DefectKind::NumberAsString,
        DefectKind::JsonTypeMismatch,
        DefectKind::UpperCaseToken,
        DefectKind::UnknownValue,
        DefectKind::UnparsableValue,
        DefectKind::Whitespace,
        DefectKind::ByteOrderMark,
        DefectKind::TrailingContent,
        DefectKind::DefectsTruncated,
    ] {
        let needle = format!("DefectKind::{kind:?},");
        assert!(cases.contains(&needle), "no case for {kind:?}");
    }
}

#[test]
fn rejects_what_is_not_a_report() {
    assert_eq!(error_of(b""), Error::Empty);
    assert_eq!(error_of(b" \r\n\t"), Error::Empty);
    assert_eq!(error_of(b"\xEF\xBB\xBF"), Error::Empty);
    // Not JSON: the position is serde_json's (1-based line and column).
    assert!(matches!(
        error_of(b"<feedback/>"),
        Error::Json {
            line: 1,
            column: 1,
            ..
        }
    ));
    assert!(matches!(
        error_of(b"{\"organization-name\": }"),
        Error::Json {
            line: 1,
            column: 23,
            ..
        }
    ));
    // Invalid UTF-8 inside a string, and UTF-16 (I-JSON is UTF-8).
    assert!(matches!(
        error_of(b"{\"organization-name\": \"\xFF\"}"),
        Error::Json { .. }
    ));
    assert!(matches!(error_of(b"\xFF\xFE{\0}\0"), Error::Json { .. }));
    // JSON cut off.
    assert!(matches!(
        error_of(br#"{"organization-name": "x", "policies": [{"#),
        Error::Truncated(_)
    ));
    // JSON, but no report.
    for json in [
        &b"[1, 2]"[..],
        b"\"report\"",
        b"42",
        b"null",
        b"{}",
        br#"{"foo": 1}"#,
    ] {
        assert!(
            matches!(error_of(json), Error::UnknownFormat(_)),
            "{}",
            String::from_utf8_lossy(json)
        );
    }
    let json = br#"{"report-id": "r", "date-range": {"start-datetime": "2016-04-01T00:00:00Z",
        "end-datetime": "2016-04-01T23:59:59Z"}}"#;
    assert!(matches!(error_of(json), Error::UnknownFormat(_)));
}

#[test]
fn rejects_a_missing_report_id_date_or_count() {
    let base = with_details(r#"[{"result-type": "dane-required", "failed-session-count": 1}]"#);
    let cases = [
        (r#""report-id": "r","#, "", "report-id"),
        (
            r#""date-range": {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"}"#,
            r#""x": 0"#,
            "date-range",
        ),
        (
            r#""start-datetime": "2016-04-01T00:00:00Z", "#,
            "",
            "date-range/start-datetime",
        ),
        (
            r#", "end-datetime": "2016-04-01T23:59:59Z""#,
            "",
            "date-range/end-datetime",
        ),
        (
            r#""summary": {"total-successful-session-count": 1, "total-failure-session-count": 2},"#,
            "",
            "policies[1]/summary",
        ),
        (
            r#""total-successful-session-count": 1, "#,
            "",
            "policies[1]/summary/total-successful-session-count",
        ),
        (
            r#", "total-failure-session-count": 2"#,
            "",
            "policies[1]/summary/total-failure-session-count",
        ),
        (
            r#", "failed-session-count": 1"#,
            "",
            "policies[1]/failure-details[1]/failed-session-count",
        ),
    ];
    for (from, to, path) in cases {
        assert!(base.contains(from), "{from}");
        let json = base.replacen(from, to, 1);
        assert_eq!(
            error_of(json.as_bytes()),
            Error::MissingElement(path.into()),
            "{json}"
        );
    }
}

#[test]
fn rejects_an_unusable_report_id_date_or_count() {
    let base = with_details(r#"[{"result-type": "dane-required", "failed-session-count": 1}]"#);
    let count = "policies[1]/failure-details[1]/failed-session-count";
    let cases = [
        (
            r#""report-id": "r""#,
            r#""report-id": "  ""#,
            "report-id",
            "",
        ),
        (
            r#""report-id": "r""#,
            r#""report-id": true"#,
            "report-id",
            "true",
        ),
        (
            r#""report-id": "r""#,
            r#""report-id": ["r"]"#,
            "report-id",
            "array",
        ),
        (
            r#""2016-04-01T00:00:00Z""#,
            r#""2016-04-01""#,
            "date-range/start-datetime",
            "2016-04-01",
        ),
        (
            r#""2016-04-01T23:59:59Z""#,
            r#""2016-04-31T23:59:59Z""#,
            "date-range/end-datetime",
            "2016-04-31T23:59:59Z",
        ),
        (
            r#""2016-04-01T23:59:59Z""#,
            "1459555199",
            "date-range/end-datetime",
            "1459555199",
        ),
        (
            r#""date-range": {"start"#,
            r#""date-range": "today", "x": {"start"#,
            "date-range",
            "string",
        ),
        (
            r#""summary": {"total-successful-session-count": 1, "total-failure-session-count": 2}"#,
            r#""summary": [1, 2]"#,
            "policies[1]/summary",
            "array",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": -1"#,
            count,
            "-1",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": 1.5"#,
            count,
            "1.5",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": 1e30"#,
            count,
            "1000000000000000000000000000000",
        ),
        // 2^64 does not fit; serde_json hands it over as a float, whose shortest decimal
        // form is what the error shows.
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": 18446744073709551616"#,
            count,
            "18446744073709552000",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": "18446744073709551616""#,
            count,
            "18446744073709551616",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": "+1""#,
            count,
            "+1",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": "1 2""#,
            count,
            "1 2",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": """#,
            count,
            "",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": null"#,
            count,
            "null",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": false"#,
            count,
            "false",
        ),
        (
            r#""failed-session-count": 1"#,
            r#""failed-session-count": {}"#,
            count,
            "object",
        ),
    ];
    for (from, to, path, value) in cases {
        assert!(base.contains(from), "{from}");
        let json = base.replacen(from, to, 1);
        assert_eq!(
            error_of(json.as_bytes()),
            Error::InvalidValue {
                path: path.into(),
                value: value.into()
            },
            "{json}"
        );
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn limits_give_typed_errors() {
    let limit = |json: &str, limits: &Limits| parse_json_with(json.as_bytes(), limits).unwrap_err();
    let default = Limits::default();
    let report = with_policies("[]");

    let small = Limits {
        max_input_bytes: 64,
        ..Limits::default()
    };
    assert_eq!(limit(&report, &small), Error::Limit(Limit::InputSize));

    // Depth: the report object is depth 1, so an unknown member holding 31 nested arrays
    // reaches 32 (the default) and 32 arrays one too many; far deeper nesting fails the same
    // way, without reaching serde_json's own limit (128) or the stack.
    let deep = |n| report.replacen('{', &format!("{{\"x\": {}, ", nested(n)), 1);
    assert!(parse_json(deep(31).as_bytes()).is_ok());
    for n in [32, 127, 100_000] {
        assert_eq!(
            limit(&deep(n), &default),
            Error::Limit(Limit::XmlDepth),
            "{n}"
        );
    }
    // Set above serde_json's limit, the depth still fails as a depth limit.
    let deeper = Limits {
        max_xml_depth: 1_000,
        ..Limits::default()
    };
    assert_eq!(limit(&deep(500), &deeper), Error::Limit(Limit::XmlDepth));

    // Children: 1 000 policy-string lines pass, 1 001 do not; the same for the members of an
    // unknown object and the elements of an unknown array.
    let lines = |n: usize| {
        with_policies(&format!(
            r#"[{{"policy": {{"policy-string": [{}]}},
                 "summary": {{"total-successful-session-count": 1, "total-failure-session-count": 0}}}}]"#,
            vec!["\"l\""; n].join(",")
        ))
    };
    assert!(parse_json(lines(1_000).as_bytes()).is_ok());
    assert_eq!(
        limit(&lines(1_001), &default),
        Error::Limit(Limit::Children)
    );
    let members: Vec<String> = (0..1_001).map(|i| format!("\"m{i}\": 0")).collect();
    let json = report.replacen('{', &format!("{{\"x\": {{{}}}, ", members.join(",")), 1);
    assert_eq!(limit(&json, &default), Error::Limit(Limit::Children));
    let json = report.replacen(
        '{',
        &format!("{{\"x\": [{}], ", vec!["0"; 1_001].join(",")),
        1,
    );
    assert_eq!(limit(&json, &default), Error::Limit(Limit::Children));

    // failure-details are bounded by max_records, not max_children: 2 000 pass by default; a
    // policy and 3 details are 4 records.
    let details = |n: usize| {
        with_details(&format!(
            "[{}]",
            vec![r#"{"result-type": "dane-required", "failed-session-count": 1}"#; n].join(",")
        ))
    };
    let parsed = parse(&details(2_000));
    assert_eq!(parsed.report.policies[0].failure_details.len(), 2_000);
    let few = Limits {
        max_records: 3,
        ..Limits::default()
    };
    assert!(parse_json_with(details(2).as_bytes(), &few).is_ok());
    assert_eq!(limit(&details(3), &few), Error::Limit(Limit::Records));

    // Strings: a value, a member name and a value inside an unknown member.
    let long = "x".repeat(default.max_string_len + 1);
    let json = report.replace(
        r#""organization-name": "o""#,
        &format!(r#""organization-name": "{long}""#),
    );
    assert_eq!(limit(&json, &default), Error::Limit(Limit::StringLength));
    let json = report.replacen('{', &format!("{{\"{long}\": 0, "), 1);
    assert_eq!(limit(&json, &default), Error::Limit(Limit::StringLength));
    let json = report.replacen('{', &format!("{{\"x\": [[\"{long}\"]], "), 1);
    assert_eq!(limit(&json, &default), Error::Limit(Limit::StringLength));
    let fits = "x".repeat(default.max_string_len);
    let json = report.replace(
        r#""organization-name": "o""#,
        &format!(r#""organization-name": "{fits}""#),
    );
    assert!(parse_json(json.as_bytes()).is_ok());
}

#[test]
fn writer_fixed_points_from_the_rfc() {
    // RFC 8460 §5.1.
    assert_eq!(
        file_name(
            "mail.sndr.example.com",
            "example.net",
            1_470_013_207,
            1_470_186_007,
            Some("001"),
            true
        ),
        "mail.sndr.example.com!example.net!1470013207!1470186007!001.json.gz"
    );
    assert_eq!(
        file_name(
            "mail.sender.example",
            "example.com",
            1_013_662_812,
            1_013_749_130,
            None,
            false
        ),
        "mail.sender.example!example.com!1013662812!1013749130.json"
    );
    // RFC 8460 §5.3, the Subject line-wrapped as in the RFC.
    assert_eq!(
        subject(
            "example.net",
            "mail.sender.example.com",
            "<735ff.e317+bf22029@mailexample.net>"
        ),
        "Report Domain: example.net\r\n Submitter: mail.sender.example.com\r\n Report-ID: \
         <735ff.e317+bf22029@mailexample.net>"
    );
    // A report id without "@" gets the submitter as id-right.
    assert_eq!(
        subject("example.net", "s.example", "5065427c-23d3"),
        "Report Domain: example.net\r\n Submitter: s.example\r\n Report-ID: <5065427c-23d3@s.example>"
    );
}

#[test]
fn json_output_uses_the_rfc_member_names() {
    let report = parse(RFC8460_APPENDIX_B).report;
    let out: serde_json::Value = serde_json::from_str(&to_json(&report)).unwrap();
    let detail = &out["policies"][0]["failure-details"][0];
    assert_eq!(out["organization-name"], "Company-X");
    assert_eq!(out["date-range"]["end-datetime"], "2016-04-01T23:59:59Z");
    assert_eq!(
        out["policies"][0]["policy"]["mx-host"][0],
        "*.mail.company-y.example"
    );
    assert_eq!(
        out["policies"][0]["summary"]["total-failure-session-count"],
        303
    );
    assert_eq!(detail["result-type"], "certificate-expired");
    // RFC 5952 form: the leading zero of 0012 is not written.
    assert_eq!(detail["sending-mta-ip"], "2001:db8:abcd:12::1");
    // Absent members are left out, not written as null.
    assert!(detail.get("receiving-ip").is_none());
    assert_eq!(to_json(&report), to_json(&report.clone()));
}

fn email_env(gzip: bool) -> TlsReportEmail {
    TlsReportEmail {
        from: "tlsrpt@mail.sender.example.com".into(),
        to: "mts-sts-tlsrpt@example.net".into(),
        submitter: "mail.sender.example.com".into(),
        date: "Fri, 01 Apr 2016 16:54:30 +0000".into(),
        message_id: "<735ff.e317+bf22029@mail.sender.example.com>".into(),
        unique_id: Some("001".into()),
        gzip,
    }
}

/// The JSON of the report attachment of `mail`, read with mail-parser.
fn attachment(mail: &[u8]) -> (String, String, Vec<u8>) {
    use mail_parser::{MessageParser, MimeHeaders};
    let message = MessageParser::default().parse(mail).unwrap();
    let part = message.attachment(0).unwrap();
    let ct = part.content_type().unwrap();
    let media = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default());
    (
        media,
        part.attachment_name().unwrap().to_owned(),
        part.contents().to_vec(),
    )
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn report_email() {
    let report = parse(RFC8460_APPENDIX_B).report;
    let mail = to_email(&report, &email_env(true));
    let text = String::from_utf8(mail.clone()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    assert_eq!(
        head,
        "From: tlsrpt@mail.sender.example.com\r\n\
         To: mts-sts-tlsrpt@example.net\r\n\
         Date: Fri, 01 Apr 2016 16:54:30 +0000\r\n\
         Subject: Report Domain: company-y.example\r\n Submitter: mail.sender.example.com\r\n \
         Report-ID: <5065427c-23d3-47ca-b6e0-946ea0e8c4be@mail.sender.example.com>\r\n\
         Message-ID: <735ff.e317+bf22029@mail.sender.example.com>\r\n\
         TLS-Report-Domain: company-y.example\r\n\
         TLS-Report-Submitter: mail.sender.example.com\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n boundary=\"=_mailward_tlsrpt_=\""
    );
    assert!(text.contains("Sessions: 5326 successful, 303 failed\r\n"));
    assert!(text.lines().all(|l| l.len() <= 998));
    let (media, name, data) = attachment(&mail);
    assert_eq!(media, "application/tlsrpt+gzip");
    // 2016-04-01T00:00:00Z and 2016-04-01T23:59:59Z in seconds.
    assert_eq!(
        name,
        "mail.sender.example.com!company-y.example!1459468800!1459555199!001.json.gz"
    );
    assert_eq!(parse_json(&gunzip(&data)).unwrap().report, report);

    let mail = to_email(&report, &email_env(false));
    let (media, name, data) = attachment(&mail);
    assert_eq!(media, "application/tlsrpt+json");
    assert!(name.ends_with("!001.json"));
    assert_eq!(parse_json(&data).unwrap().report, report);
}

#[test]
fn report_content_cannot_forge_headers_or_parts() {
    let mut report = parse(RFC8460_APPENDIX_B).report;
    report.policies[0].policy.policy_domain = "evil.example\r\nBcc: x@evil.example".into();
    report.report_id = "id\r\nX-Injected: 1".into();
    report.date_range.start_datetime = "\r\n--=_mailward_tlsrpt_=\r\n".into();
    let mail = String::from_utf8(to_email(&report, &email_env(true))).unwrap();
    assert!(!mail.contains("\r\nBcc:"));
    assert!(!mail.contains("\r\nX-Injected:"));
    assert_eq!(mail.matches("--=_mailward_tlsrpt_=").count(), 3);
    assert!(mail.contains("TLS-Report-Domain: evil.example??Bcc??x?evil.example\r\n"));
}

#[test]
fn summary_folds_reports() {
    let a = parse(RFC8460_APPENDIX_B).report;
    // A second report: DANE for example.net, failures at an MX written in upper case, and a
    // detail with neither result type nor host.
    let b = parse(&with_details(
        r#"[{"result-type": "certificate-expired", "receiving-mx-hostname": "MX1.mail.company-y.example",
             "failed-session-count": 5},
            {"failed-session-count": 1}]"#,
    ))
    .report;
    let mut b = b;
    b.policies[0].policy.policy_type = Some(PolicyType::Tlsa);
    let summary = TlsSummary::from_reports([&a, &b, &a]);
    assert_eq!(summary.reports, 3);
    // 5326 + 1 + 5326 and 303 + 2 + 303.
    assert_eq!(summary.successful_sessions, 10_653);
    assert_eq!(summary.failed_sessions, 608);
    let y = &summary.domains["company-y.example"];
    assert_eq!(
        (y.policies, y.successful_sessions, y.failed_sessions),
        (2, 10_652, 606)
    );
    assert_eq!(y.policy_types, BTreeSet::from([PolicyType::Sts]));
    let net = &summary.domains["example.net"];
    assert_eq!(
        (net.policies, net.successful_sessions, net.failed_sessions),
        (1, 1, 2)
    );
    assert_eq!(net.policy_types, BTreeSet::from([PolicyType::Tlsa]));
    // certificate-expired at mx1: 100 + 5 (host lower-cased) + 100.
    assert_eq!(
        summary.failures["certificate-expired"]["mx1.mail.company-y.example"],
        205
    );
    assert_eq!(
        summary.failures["starttls-not-supported"]["mx2.mail.company-y.example"],
        400
    );
    assert_eq!(
        summary.failures["validation-failure"]["mx-backup.mail.company-y.example"],
        6
    );
    assert_eq!(summary.failures[""][""], 1);
    let rows: Vec<_> = summary
        .failure_rows()
        .into_iter()
        .map(|r| (r.result_type, r.receiving_mx_hostname, r.failed_sessions))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "starttls-not-supported".into(),
                "mx2.mail.company-y.example".into(),
                400
            ),
            (
                "certificate-expired".into(),
                "mx1.mail.company-y.example".into(),
                205
            ),
            (
                "validation-failure".into(),
                "mx-backup.mail.company-y.example".into(),
                6
            ),
            (String::new(), String::new(), 1),
        ]
    );
    // Serialisable, with deterministic output.
    let json = serde_json::to_string(&summary).unwrap();
    assert_eq!(
        json,
        serde_json::to_string(&TlsSummary::from_reports([&a, &b, &a])).unwrap()
    );
    let back: TlsSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, summary);
}

// --- generate → parse ---

/// Free text, kept verbatim by the reader: anything, control characters and non-ASCII
/// included.
fn free_text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

/// Text the reader trims: no whitespace at either end.
fn trimmed() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.@_é€<>\"\\\\:-]([a-zA-Z0-9 .@_é€<>\"\\\\:-]{0,10}[a-zA-Z0-9.@_é€<>\"\\\\:-])?"
}

/// An RFC 3339 date-time, with or without a fraction, in UTC or at an offset.
fn datetime() -> impl Strategy<Value = String> {
    (
        (
            0u32..=9999,
            1u32..=12,
            1u32..=28,
            0u32..=23,
            0u32..=59,
            0u32..=60,
        ),
        option::of("[0-9]{1,6}"),
        prop_oneof![
            Just("Z".to_owned()),
            (prop_oneof![Just('+'), Just('-')], 0u32..=23, 0u32..=59)
                .prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
        ],
    )
        .prop_map(|((y, mo, d, h, mi, s), frac, off)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}")
        })
}

/// A token the RFC does not define, in any case.
fn unknown_token(known: fn(&str) -> bool) -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,12}"
        .prop_filter("defined token", move |t| !known(&t.to_ascii_lowercase()))
}

fn policy_type() -> impl Strategy<Value = PolicyType> {
    prop_oneof![
        proptest::sample::select(PolicyType::ALL),
        unknown_token(|t| PolicyType::from_token(t).is_known()).prop_map(PolicyType::Unknown),
    ]
}

fn result_type() -> impl Strategy<Value = ResultType> {
    prop_oneof![
        3 => proptest::sample::select(ResultType::ALL),
        1 => unknown_token(|t| ResultType::from_token(t).is_known()).prop_map(ResultType::Unknown),
    ]
}

fn reported_ip() -> impl Strategy<Value = ReportedIp> {
    prop_oneof![
        3 => any::<IpAddr>().prop_map(ReportedIp::Addr),
        1 => trimmed()
            .prop_filter("an address", |t| t.parse::<IpAddr>().is_err())
            .prop_map(ReportedIp::Unparsed),
    ]
}

prop_compose! {
    fn failure_detail()(
        result_type in option::of(result_type()),
        sending_mta_ip in option::of(reported_ip()),
        receiving_mx_hostname in option::of(trimmed()),
        receiving_mx_helo in option::of(trimmed()),
        receiving_ip in option::of(reported_ip()),
        failed_session_count in any::<u64>(),
        additional_information in option::of(free_text()),
        failure_reason_code in option::of(free_text()),
    ) -> FailureDetail {
        FailureDetail {
            result_type, sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip,
            failed_session_count, additional_information, failure_reason_code,
        }
    }
}

prop_compose! {
    fn policy_result()(
        policy_type in option::of(policy_type()),
        policy_string in vec(free_text(), 0..3),
        policy_domain in prop_oneof![Just(String::new()), trimmed()],
        mx_host in vec(trimmed(), 0..3),
        ok in any::<u64>(),
        failed in any::<u64>(),
        failure_details in vec(failure_detail(), 0..3),
    ) -> TlsPolicyResult {
        TlsPolicyResult {
            policy: TlsPolicy { policy_type, policy_string, policy_domain, mx_host },
            summary: SessionCounts {
                total_successful_session_count: ok,
                total_failure_session_count: failed,
            },
            failure_details,
        }
    }
}

prop_compose! {
    fn tls_report()(
        organization_name in free_text(),
        start_datetime in datetime(),
        end_datetime in datetime(),
        contact_info in option::of(trimmed()),
        report_id in trimmed(),
        policies in vec(policy_result(), 0..3),
    ) -> TlsReport {
        TlsReport {
            organization_name,
            date_range: TlsDateRange { start_datetime, end_datetime },
            contact_info,
            report_id,
            policies,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json_roundtrip(report in tls_report()) {
        let json = to_json(&report);
        let parsed = parse_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {json}"));
        prop_assert_eq!(&parsed.report, &report);
        // Only what the model itself holds can show up as a defect: unknown tokens,
        // unparsed addresses and members the model leaves out.
        for d in &parsed.defects {
            prop_assert!(
                matches!(
                    d.kind,
                    DefectKind::UnknownValue | DefectKind::UnparsableValue | DefectKind::MissingElement
                ),
                "{:?}",
                d
            );
        }
    }

    #[test]
    fn gzip_roundtrip(report in tls_report()) {
        let json = to_json(&report);
        let gz = gzip(json.as_bytes());
        prop_assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        prop_assert_eq!(gunzip(&gz), json.as_bytes());
        prop_assert_eq!(parse_json(&gunzip(&gz)).unwrap().report, report);
    }

    #[test]
    fn email_roundtrip(report in tls_report()) {
        let (_, _, data) = attachment(&to_email(&report, &email_env(true)));
        prop_assert_eq!(parse_json(&gunzip(&data)).unwrap().report, report);
    }

    /// The whole message, plain JSON and gzip through the one reader of every report kind.
    #[test]
    fn read_finds_the_tls_report_in_every_container(report in tls_report()) {
        for gzipped in [true, false] {
            let mail = to_email(&report, &email_env(gzipped));
            let found = mailward_reports::read(&mail).unwrap();
            prop_assert!(found.aggregate.is_empty() && found.failure.is_none());
            prop_assert_eq!(found.tls.len(), 1);
            prop_assert_eq!(&found.tls[0].report, &report);
        }
        let json = to_json(&report);
        for input in [json.clone().into_bytes(), gzip(json.as_bytes())] {
            let found = mailward_reports::read(&input).unwrap();
            prop_assert_eq!(&found.tls[0].report, &report);
        }
    }

    #[test]
    fn datetimes_convert(text in datetime()) {
        prop_assert!(rfc3339_to_unix(&text).is_some(), "{}", text);
    }
}
