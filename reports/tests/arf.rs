//! Failure reports: the RFC 9991 Appendix A example, generation, redaction.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_reports::*;

const APPENDIX_A: &[u8] = include_bytes!("data/rfc9991_appendix_a.eml");

#[test]
fn rfc9991_appendix_a() {
    let r = parse_failure_report(APPENDIX_A).unwrap();
    // Every value below is read off the example in RFC 9991 Appendix A.
    assert_eq!(
        r.subject.as_deref(),
        Some("FW: This is the original subject")
    );
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.version.as_deref(), Some("1"));
    assert_eq!(r.user_agent.as_deref(), Some("DMARC-Filter/1.2.3"));
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: false
        })
    );
    assert_eq!(
        r.authentication_results,
        vec!["gen.example;  dmarc=fail header.from=consumer.example".to_owned()]
    );
    assert_eq!(r.dkim_domain.as_deref(), Some("consumer.example"));
    assert_eq!(r.dkim_identity.as_deref(), Some("@consumer.example"));
    assert_eq!(r.dkim_selector.as_deref(), Some("epsilon"));
    assert_eq!(r.original_envelope_id.as_deref(), Some("65E1A3F0A0"));
    assert_eq!(
        r.original_mail_from.as_deref(),
        Some("author=gen.example@forwarder.example")
    );
    assert_eq!(r.source_ip, Some("192.0.2.2".parse().unwrap()));
    assert_eq!(r.reported_domain, vec!["consumer.example".to_owned()]);
    assert_eq!(
        r.other_fields,
        vec![("Source-Port".to_owned(), "12345".to_owned())]
    );
    assert!(r.original_has_body);
    assert_eq!(
        r.description.as_deref(),
        Some(
            "This is an authentication failure report for an email message\nreceived from IP 192.0.2.2 on Tue, 19 Jul 2022 00:57:48 -0500."
        )
    );
    // The original header block: first and last fields of the example's third part.
    let first = &r.original_headers[0];
    assert_eq!(first.0, "Authentication-Results");
    assert!(first.1.starts_with("gen.example;"));
    let last = r.original_headers.last().unwrap();
    assert_eq!(
        last,
        &("Content-Transfer-Encoding".to_owned(), "8bit".to_owned())
    );
    let subject = r
        .original_headers
        .iter()
        .find(|(n, _)| n == "Subject")
        .unwrap();
    assert_eq!(subject.1, "This is the original subject");
    // The example has every field RFC 5965, RFC 6591 and RFC 9991 require.
    assert!(r.defects.is_empty(), "{:?}", r.defects);
    assert!(!r.text_notice);
    assert_eq!(failure_notice_kind(APPENDIX_A), NoticeKind::Arf);
}

#[test]
fn identity_alignment_abnf() {
    assert_eq!(
        IdentityAlignment::parse("none").unwrap(),
        IdentityAlignment::default()
    );
    assert_eq!(
        IdentityAlignment::parse(" dkim (aligned d=) , SPF ").unwrap(),
        IdentityAlignment {
            dkim: true,
            spf: true
        }
    );
    // "each may appear at most once"
    assert!(IdentityAlignment::parse("dkim, dkim").is_err());
    assert!(IdentityAlignment::parse("none, dkim").is_err());
    assert!(IdentityAlignment::parse("arc").is_err());
    assert_eq!(
        IdentityAlignment {
            dkim: true,
            spf: true
        }
        .to_string(),
        "dkim, spf"
    );
    assert_eq!(IdentityAlignment::default().to_string(), "none");
}

const ORIGINAL: &str = "From: Alice <alice@example.com>\r\n\
To: bob@receiver.example,\r\n carol@receiver.example\r\n\
Subject: Quarterly numbers\r\n\
Message-ID: <1@example.com>\r\n\
\r\n\
Secret body.\r\n";

fn input() -> FailureReportInput {
    FailureReportInput {
        from: "dmarc-failures@receiver.example".into(),
        to: "ruf@example.com".into(),
        date: "Tue, 19 Jul 2022 00:57:48 -0500".into(),
        user_agent: "mailward/0.1".into(),
        auth_failure: AuthFailure::Dmarc,
        identity_alignment: IdentityAlignment {
            dkim: true,
            spf: true,
        },
        authentication_results: "receiver.example; dmarc=fail header.from=example.com".into(),
        delivery_result: Some(DeliveryResult::Reject),
        original_envelope_id: None,
        original_mail_from: Some("bounce@forger.example".into()),
        arrival_date: Some("Tue, 19 Jul 2022 00:57:47 -0500".into()),
        source_ip: Some("198.51.100.9".parse().unwrap()),
        reported_domain: "example.com".into(),
        dkim_domain: Some("example.com".into()),
        dkim_identity: Some("@example.com".into()),
        dkim_selector: Some("s1".into()),
        spf_dns: vec!["txt : example.com : \"v=spf1 -all\"".into()],
    }
}

#[test]
fn generated_report_parses_back() {
    let raw =
        generate_failure_report(&input(), ORIGINAL.as_bytes(), &Redaction::default()).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.contains("Content-Type: multipart/report; report-type=feedback-report;"));
    // RFC 5965 §2 (f): Subject is the original's with a forwarding prefix.
    assert!(text.contains("\r\nSubject: FW: Quarterly numbers\r\n"));
    let r = parse_failure_report(&raw).unwrap();
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.version.as_deref(), Some("1"));
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: true
        })
    );
    assert_eq!(r.delivery_result, Some(DeliveryResult::Reject));
    assert_eq!(r.dkim_selector.as_deref(), Some("s1"));
    assert_eq!(
        r.spf_dns,
        vec!["txt : example.com : \"v=spf1 -all\"".to_owned()]
    );
    assert_eq!(r.source_ip, Some("198.51.100.9".parse().unwrap()));
    assert_eq!(r.reported_domain, vec!["example.com".to_owned()]);
    assert!(r.original_has_body);
    assert!(text.contains("Secret body."));
    let to = r.original_headers.iter().find(|(n, _)| n == "To").unwrap();
    assert_eq!(to.1, "bob@receiver.example, carol@receiver.example");
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

#[test]
fn redaction() {
    let redaction = Redaction {
        headers_only: true,
        redact_fields: vec!["subject".into()],
        redact_local_parts: vec!["To".into(), "From".into()],
    };
    let raw = generate_failure_report(&input(), ORIGINAL.as_bytes(), &redaction).unwrap();
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(text.contains("Content-Type: text/rfc822-headers"));
    assert!(!text.contains("Secret body"));
    assert!(!text.contains("bob@"));
    assert!(!text.contains("alice@"));
    let r = parse_failure_report(&raw).unwrap();
    assert!(!r.original_has_body);
    let get = |name: &str| {
        r.original_headers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(get("Subject"), "[redacted]");
    assert_eq!(
        get("To"),
        "redacted@receiver.example, redacted@receiver.example"
    );
    assert_eq!(get("From"), "Alice <redacted@example.com>");
    assert_eq!(get("Message-ID"), "<1@example.com>");
}

#[test]
fn line_breaks_in_values_are_refused() {
    let mut i = input();
    i.reported_domain = "example.com\r\nBcc: victim@example.net".into();
    assert!(matches!(
        generate_failure_report(&i, ORIGINAL.as_bytes(), &Redaction::default()),
        Err(Error::Arf(_))
    ));
}

#[test]
fn not_a_failure_report() {
    // A plain message: no ARF part, and neither its Subject nor its text names a failure.
    assert_eq!(
        failure_notice_kind(ORIGINAL.as_bytes()),
        NoticeKind::NotAFailureReport
    );
    assert!(matches!(
        parse_failure_report(ORIGINAL.as_bytes()),
        Err(Error::NoReport(_))
    ));
}
