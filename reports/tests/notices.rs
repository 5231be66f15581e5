//! Failure reports as they arrive in real `ruf=` mailboxes: the ARF variants receivers send,
//! reports without a feedback part (text notices), and the mail that only looks like a report.
//!
//! Every input in `data/notices/` is written for these tests; where one reproduces a
//! receiver's habit, the receiver is named next to the test. Expected values are read off the
//! input by hand, with the reasoning beside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;

use mailward_reports::*;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/notices/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> FailureReport {
    parse_failure_report(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn defect(kind: DefectKind, path: &str, value: Option<&str>) -> Defect {
    Defect {
        kind,
        path: path.into(),
        value: value.map(str::to_owned),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// ARF variants

/// Netease (163.com / 126.com) sends its reports as `multipart/mixed`, not `multipart/report`,
/// with the feedback part base64-encoded as an attachment named `ATT00001`, no `Auth-Failure`
/// field (RFC 6591 §3.2.1 requires one), `Identity-Alignment` written without a space
/// (`spf,dkim`) and the Subject `[Netease DMARC Failure Report] <original subject>` (facts from
/// parsedmarc's public Netease sample). The description here is in Chinese, in GB2312.
#[test]
fn netease_mixed_base64_gb2312() {
    let input = data("arf_netease_gb2312.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Arf);
    let r = parse("arf_netease_gb2312.eml");
    assert_eq!(
        r.subject.as_deref(),
        Some("[Netease DMARC Failure Report] Your invoice")
    );
    // The description's two lines, decoded from GB2312.
    let description = r.description.as_deref().unwrap();
    assert_eq!(
        description.lines().collect::<Vec<_>>(),
        [
            "这是一封SPF/DKIM认证失败报告。该邮件来自IP 203.0.113.24。",
            "详细信息请查看聚合报告。"
        ]
    );
    // The fields, one per line of the base64-decoded part.
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.user_agent.as_deref(), Some("NtesDmarcReporter/1.0"));
    assert_eq!(r.version.as_deref(), Some("1"));
    assert_eq!(
        r.original_mail_from.as_deref(),
        Some("<bounces+1137@mail.esp.example>")
    );
    assert_eq!(
        r.arrival_date.as_deref(),
        Some("Fri, 28 Sep 2018 16:48:42 +0800")
    );
    assert_eq!(r.source_ip, ip("203.0.113.24"));
    assert_eq!(r.reported_domain, strings(&["shop.example"]));
    assert_eq!(
        r.original_envelope_id.as_deref(),
        Some("N8CowEApcUPo6q1b.44392S3")
    );
    assert_eq!(
        r.authentication_results,
        strings(&[
            "163.example; dkim=pass (verify result: all signatures verified) header.d=esp.example; spf=pass smtp.mailfrom=bounces+1137@mail.esp.example"
        ])
    );
    assert_eq!(r.dkim_domain.as_deref(), Some("esp.example"));
    assert_eq!(r.delivery_result, Some(DeliveryResult::Delivered));
    // "spf,dkim": both failed to give an aligned identifier.
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: true
        })
    );
    assert_eq!(r.auth_failure, None);
    assert!(!r.text_notice);
    // The third part is message/rfc822: whole message, its first field is From.
    assert!(r.original_has_body);
    assert_eq!(
        r.original_headers[0],
        ("From".to_owned(), "Shop <billing@shop.example>".to_owned())
    );
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::MissingElement,
            "feedback-report/Auth-Failure",
            None
        )]
    );
}

/// LinkedIn (and other senders on Momentum/ecelerity with its Lua reporter): LF line ends,
/// `User-Agent: Lua/1.0`, `Version: 1.0`, an empty `Original-Mail-From:`, a `Message-ID`
/// field inside the feedback part, an `Authentication-Results` without an authserv-id, no
/// `Identity-Alignment`, and the Subject "DMARC Failure report for <domain> Mail-From: IP:<ip>"
/// (facts from the LinkedIn sample URIports gave parsedmarc, issue #77).
#[test]
fn linkedin_lf() {
    let input = data("arf_linkedin_lf.eml");
    assert!(!input.contains(&b'\r'));
    let r = parse("arf_linkedin_lf.eml");
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.user_agent.as_deref(), Some("Lua/1.0"));
    assert_eq!(r.version.as_deref(), Some("1.0"));
    assert_eq!(r.original_mail_from.as_deref(), Some(""));
    assert_eq!(r.original_rcpt_to, strings(&["member@linkedin.example"]));
    assert_eq!(
        r.arrival_date.as_deref(),
        Some("Tue, 30 Apr 2019 02:09:00 +0000")
    );
    assert_eq!(
        r.authentication_results,
        strings(&["dmarc=fail (p=none; dis=none) header.from=example.com"])
    );
    assert_eq!(r.source_ip, ip("192.0.2.10"));
    assert_eq!(r.delivery_result, Some(DeliveryResult::Delivered));
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(r.reported_domain, strings(&["example.com"]));
    assert_eq!(
        r.other_fields,
        pairs(&[("Message-ID", "<0101@mail02.sender.example>")])
    );
    assert_eq!(
        r.description.as_deref().unwrap().lines().count(),
        2,
        "the two lines of the first part"
    );
    assert!(r.original_has_body);
    assert_eq!(r.original_headers[0], ("Return-Path".into(), "<>".into()));
    assert_eq!(r.original_headers.len(), 10);
    // RFC 9991 §4: a DMARC failure report has Identity-Alignment.
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::MissingElement,
            "feedback-report/Identity-Alignment",
            None
        )]
    );
}

/// Microsoft (outlook.com / Office 365): the `Authentication-Results` Exchange Online writes
/// has no authserv-id, no space after some `;`, `action=oreject` and a `compauth` result, and
/// its `Received` fields give the client address in bare parentheses. Those are Microsoft's;
/// the rest of this report (CRLF, a quoted `report-type`, `text/rfc822-headers`, a folded
/// `Authentication-Results`, two `Original-Rcpt-To`) is the RFC 6591 layout, modelled.
#[test]
fn microsoft_crlf() {
    let input = data("arf_microsoft_crlf.eml");
    assert!(input.windows(2).any(|w| w == b"\r\n"));
    let r = parse("arf_microsoft_crlf.eml");
    assert_eq!(
        r.subject.as_deref(),
        Some("DMARC failure report for example.net")
    );
    assert_eq!(
        r.authentication_results,
        strings(&[
            "spf=fail (sender IP is 198.51.100.45) smtp.mailfrom=example.net; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=example.net;compauth=fail reason=000"
        ])
    );
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: true
        })
    );
    assert_eq!(r.delivery_result, Some(DeliveryResult::Reject));
    assert_eq!(r.source_ip, ip("198.51.100.45"));
    assert_eq!(r.reported_domain, strings(&["example.net"]));
    assert_eq!(
        r.original_rcpt_to,
        strings(&["a@tenant.example", "b@tenant.example"])
    );
    assert!(!r.original_has_body);
    let names: Vec<&str> = r.original_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Received", "From", "To", "Subject", "Date", "Message-ID"]
    );
    assert_eq!(
        r.original_headers[0].1,
        "from phish.example (198.51.100.45) by XX1PR01MB0001.prod.outlook.example with Microsoft SMTP Server id 15.20.7362.0; Mon, 4 Mar 2024 10:14:58 +0000"
    );
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

/// The RFC 9991 Appendix A example with CRLF line ends reads exactly as the LF file does.
#[test]
fn rfc9991_appendix_a_crlf() {
    let lf = include_bytes!("data/rfc9991_appendix_a.eml");
    let crlf: Vec<u8> = lf.iter().fold(Vec::new(), |mut v, b| {
        if *b == b'\n' {
            v.push(b'\r');
        }
        v.push(*b);
        v
    });
    let a = parse_failure_report(lf).unwrap();
    let b = parse_failure_report(&crlf).unwrap();
    assert_eq!(a.source_ip, ip("192.0.2.2"));
    assert_eq!(a.feedback_type, b.feedback_type);
    assert_eq!(a.source_ip, b.source_ip);
    assert_eq!(a.reported_domain, b.reported_domain);
    assert_eq!(a.authentication_results, b.authentication_results);
    assert_eq!(a.original_headers, b.original_headers);
    assert_eq!(a.other_fields, b.other_fields);
    assert!(a.defects.is_empty() && b.defects.is_empty());
    assert_eq!(
        b.description.unwrap().replace("\r\n", "\n"),
        a.description.unwrap()
    );
}

/// No `Feedback-Type`, but `Auth-Failure: dmarc`: read as an auth-failure report with a defect.
#[test]
fn missing_feedback_type_is_a_defect() {
    let r = parse("arf_no_feedback_type.eml");
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(r.user_agent.as_deref(), Some("SomeFilter/2.1"));
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: false,
            spf: true
        })
    );
    assert_eq!(r.source_ip, ip("192.0.2.5"));
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::MissingElement,
            "feedback-report/Feedback-Type",
            None
        )]
    );
}

/// No `Feedback-Type` and nothing else saying what the report is (no Auth-Failure, no
/// `dmarc=fail`, a neutral Subject and description): refused.
#[test]
fn missing_feedback_type_without_evidence_is_refused() {
    assert_eq!(
        parse_failure_report(&data("arf_no_feedback_type_unknown.eml")),
        Err(Error::Arf("missing Feedback-Type".into()))
    );
}

/// The feedback fields in a `text/plain` part of a `multipart/report;
/// report-type=feedback-report`. Part 0 is the multipart itself, 1 the description, 2 the
/// mislabelled fields.
#[test]
fn feedback_part_labelled_text_plain() {
    let r = parse("arf_text_plain_feedback.eml");
    assert!(!r.text_notice);
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.source_ip, ip("192.0.2.5"));
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: false
        })
    );
    assert_eq!(
        r.description.as_deref(),
        Some(
            "This is an authentication failure report for an email message received from IP 192.0.2.5."
        )
    );
    assert_eq!(r.original_headers.len(), 3);
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::MislabelledPart,
            "part[2]",
            Some("text/plain holding the message/feedback-report fields")
        )]
    );
}

/// Only two parts: RFC 5965 §2 (d) requires the third; its absence is a defect.
#[test]
fn original_message_missing() {
    let r = parse("arf_no_original.eml");
    assert_eq!(r.source_ip, ip("192.0.2.5"));
    assert_eq!(r.identity_alignment, Some(IdentityAlignment::default()));
    assert!(r.original_headers.is_empty());
    assert!(!r.original_has_body);
    assert_eq!(
        r.defects,
        [defect(DefectKind::MissingElement, "original message", None)]
    );
}

/// `Source-IP: 198.51.100.61 (a61-100.smtp-out.mailer.example)`: the reverse name in a
/// comment after the address, as parsedmarc pull request #170 reports from real reports.
#[test]
fn source_ip_with_comment() {
    let r = parse("arf_source_ip_comment.eml");
    assert_eq!(r.source_ip, ip("198.51.100.61"));
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

/// `Source-IP: [IPv6:2001:db8::25]`, the RFC 5321 §4.1.3 address literal RFC 5965 §3.2 names.
#[test]
fn source_ip_address_literal() {
    let r = parse("arf_source_ip_ipv6_literal.eml");
    assert_eq!(r.source_ip, ip("2001:db8::25"));
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

/// `Source-IP: unknown`: the rest of the report is read; the value is a defect.
#[test]
fn source_ip_unparsable_is_a_defect() {
    let r = parse("arf_source_ip_unparsable.eml");
    assert_eq!(r.source_ip, None);
    assert_eq!(r.reported_domain, strings(&["example.com"]));
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::UnparsableValue,
            "feedback-report/Source-IP",
            Some("unknown")
        )]
    );
}

/// `Feedback-Type : auth-failure` and `Source-IP<TAB>: …` (RFC 5322 §4.5 `obs-optional`).
#[test]
fn obsolete_spacing() {
    let r = parse("arf_obsolete_spacing.eml");
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.source_ip, ip("192.0.2.7"));
    let note = Some("white space before the colon");
    assert_eq!(
        r.defects,
        [
            defect(
                DefectKind::ObsoleteSyntax,
                "feedback-report/Feedback-Type",
                note
            ),
            defect(
                DefectKind::ObsoleteSyntax,
                "feedback-report/Source-IP",
                note
            ),
        ]
    );
}

/// Fields that may appear once, repeated: the first value is kept, each repeat is a defect;
/// `Received-Date` next to `Arrival-Date` is one too (RFC 5965 §3.2). `Reported-Domain` may
/// repeat.
#[test]
fn duplicated_fields() {
    let r = parse("arf_duplicate_fields.eml");
    assert_eq!(r.feedback_type, "auth-failure");
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(r.source_ip, ip("192.0.2.5"));
    assert_eq!(
        r.arrival_date.as_deref(),
        Some("Mon, 1 Jan 2024 00:00:00 +0000")
    );
    assert_eq!(r.reported_domain, strings(&["example.com", "example.org"]));
    assert_eq!(
        r.defects,
        [
            defect(
                DefectKind::DuplicateElement,
                "feedback-report/Feedback-Type",
                Some("abuse")
            ),
            defect(
                DefectKind::DuplicateElement,
                "feedback-report/Auth-Failure",
                Some("spf")
            ),
            defect(
                DefectKind::DuplicateElement,
                "feedback-report/Source-IP",
                Some("192.0.2.6")
            ),
            defect(
                DefectKind::DuplicateElement,
                "feedback-report/Received-Date",
                Some("Mon, 1 Jan 2024 00:00:01 +0000")
            ),
        ]
    );
}

/// The defect list obeys `Limits::max_defects`: one kept, the other three counted.
#[test]
fn defects_are_bounded() {
    let limits = Limits {
        max_defects: 1,
        ..Limits::default()
    };
    let r = parse_failure_report_with(&data("arf_duplicate_fields.eml"), &limits).unwrap();
    assert_eq!(r.defects.len(), 2);
    assert_eq!(r.defects[0].path, "feedback-report/Feedback-Type");
    assert_eq!(
        r.defects[1],
        defect(DefectKind::DefectsTruncated, "", Some("3"))
    );
}

/// 8-bit values: a User-Agent in ISO-8859-1 (`0xE9`, `0xE0`) is read as such, with a defect;
/// a UTF-8 domain (RFC 6532) is kept as it is, without one.
#[test]
fn eight_bit_values() {
    let r = parse("arf_eight_bit.eml");
    assert_eq!(r.user_agent.as_deref(), Some("Filtre-Déjà/2.0"));
    assert_eq!(r.reported_domain, strings(&["bücher.example"]));
    assert_eq!(
        r.subject.as_deref(),
        Some("DMARC Failure Report for bücher.example")
    );
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::InvalidUtf8,
            "feedback-report/User-Agent",
            Some("Filtre-Déjà/2.0")
        )]
    );
}

/// A report forwarded as an attachment ("FW: …" around the RFC 9991 example) is read from the
/// attachment; the wrapper is a skipped part.
#[test]
fn forwarded_report_is_read_from_its_attachment() {
    let input = data("forwarded_arf.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Text);
    let r = parse("forwarded_arf.eml");
    assert!(!r.text_notice);
    assert_eq!(
        r.subject.as_deref(),
        Some("FW: This is the original subject")
    );
    assert_eq!(r.user_agent.as_deref(), Some("DMARC-Filter/1.2.3"));
    assert_eq!(r.source_ip, ip("192.0.2.2"));
    assert_eq!(r.reported_domain, strings(&["consumer.example"]));
    assert_eq!(
        r.defects,
        [defect(
            DefectKind::SkippedPart,
            "forwarding message",
            Some("FW: DMARC Failure Report for example.com")
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Text notices (no feedback part)

/// Exim's DMARC module: a plain-text message, Subject "DMARC Forensic Report for <domain>
/// from IP <ip>", the sentence "A message claiming to be from you has failed the published
/// DMARC policy for your domain.", an indented table (Sender Domain, Sender IP Address,
/// Received Date, SPF Alignment, DKIM Alignment, DMARC Results) and the received header lines
/// pasted below (facts from parsedmarc issues #64 and #84). Unless `dmarc_forensic_sender` is
/// set, Exim sends it like a bounce: "From: Mail Delivery System <Mailer-Daemon@…>" and
/// "Auto-Submitted: auto-replied" (Exim's moan.c), which must not make it one.
#[test]
fn exim_text_notice() {
    let input = data("text_exim.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Text);
    let r = parse("text_exim.eml");
    assert!(r.text_notice);
    assert_eq!(r.feedback_type, "auth-failure");
    // The Subject names DMARC.
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(r.reported_domain, strings(&["example.com"]));
    assert_eq!(r.source_ip, ip("198.51.100.77"));
    assert_eq!(
        r.arrival_date.as_deref(),
        Some("Wed, 20 Feb 2019 08:52:51 +0100")
    );
    // "SPF Alignment: no", "DKIM Alignment: no": both failed to align.
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: true
        })
    );
    assert_eq!(
        r.other_fields,
        pairs(&[
            ("SPF Alignment", "no"),
            ("DKIM Alignment", "no"),
            ("DMARC Results", "Reject")
        ])
    );
    assert!(r.authentication_results.is_empty());
    assert!(
        r.description
            .as_deref()
            .unwrap()
            .starts_with("A message claiming to be from you has failed the published DMARC")
    );
    // The header copy is in the text, not in a part of its own.
    assert!(r.original_headers.is_empty());
    assert_eq!(
        r.defects,
        [defect(DefectKind::MissingElement, "original message", None)]
    );
}

/// Exim as cPanel servers run it: a `multipart/report` with no `report-type` and no feedback
/// part, the Exim text, and the header in `text/rfc822-headers` (parsedmarc issue #332).
#[test]
fn cpanel_multipart_report_without_report_type() {
    let input = data("text_cpanel_multipart_report.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Text);
    let r = parse("text_cpanel_multipart_report.eml");
    assert!(r.text_notice);
    assert_eq!(r.reported_domain, strings(&["example.net"]));
    assert_eq!(r.source_ip, ip("203.0.113.200"));
    // "SPF Alignment: yes" (aligned), "DKIM Alignment: no" (failed).
    assert_eq!(
        r.identity_alignment,
        Some(IdentityAlignment {
            dkim: true,
            spf: false
        })
    );
    assert_eq!(
        r.other_fields,
        pairs(&[
            ("SPF Alignment", "yes"),
            ("DKIM Alignment", "no"),
            ("DMARC Results", "None")
        ])
    );
    assert!(!r.original_has_body);
    let names: Vec<&str> = r.original_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Received", "From", "To", "Subject"]);
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

/// "FW: DMARC failure" with one sentence and the header attached: the From domain comes from
/// `Authentication-Results: … header.from=`, the source IP from `Received-SPF: … client-ip=`.
#[test]
fn facts_from_attached_headers() {
    let r = parse("text_attached_headers.eml");
    assert!(r.text_notice);
    assert_eq!(r.reported_domain, strings(&["example.org"]));
    assert_eq!(r.source_ip, ip("203.0.113.66"));
    assert_eq!(
        r.authentication_results,
        strings(&[
            "mx.receiver.example; spf=fail smtp.mailfrom=example.org; dkim=none; dmarc=fail header.from=example.org"
        ])
    );
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(
        r.description.as_deref(),
        Some("The attached message failed authentication checks.")
    );
    assert!(!r.original_has_body);
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

/// No table, no Authentication-Results: the source IP is the first public address down the
/// `Received` chain (127.0.0.1 is the receiver's own hop, 198.51.100.200 the relay that
/// connected to it, 10.0.0.5 behind it), the domain that of `From:`. Neither the Subject nor
/// the text names DMARC, so `auth_failure` stays empty.
#[test]
fn facts_from_received_chain_and_from() {
    let r = parse("text_received_chain.eml");
    assert!(r.text_notice);
    assert_eq!(r.source_ip, ip("198.51.100.200"));
    assert_eq!(r.reported_domain, strings(&["sender.example"]));
    assert!(r.authentication_results.is_empty());
    assert_eq!(r.auth_failure, None);
    assert!(r.original_has_body);
    assert!(r.defects.is_empty(), "{:?}", r.defects);
}

/// The aggregate-report Subject form ("Report Domain: … Submitter: …") on a plain-text failure
/// notice with a key: value table and a folded Authentication-Results.
#[test]
fn report_domain_subject_with_table() {
    let input = data("text_report_domain_subject.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Text);
    let r = parse("text_report_domain_subject.eml");
    assert!(r.text_notice);
    assert_eq!(r.source_ip, ip("192.0.2.99"));
    assert_eq!(r.reported_domain, strings(&["example.com"]));
    assert_eq!(
        r.original_mail_from.as_deref(),
        Some("bounce@mailer.example")
    );
    assert_eq!(
        r.authentication_results,
        strings(&[
            "mx.receiver.example; dkim=fail header.d=example.com; spf=fail smtp.mailfrom=mailer.example; dmarc=fail header.from=example.com"
        ])
    );
    assert_eq!(r.other_fields, pairs(&[("Policy Applied", "quarantine")]));
    assert_eq!(r.auth_failure, Some(AuthFailure::Dmarc));
    assert_eq!(
        r.defects,
        [defect(DefectKind::MissingElement, "original message", None)]
    );
}

/// The text scan reads the first 64 KiB: a fact past it is not seen.
#[test]
fn text_scan_is_bounded() {
    let notice = |filler: usize| {
        let mut m = b"From: a@receiver.example\r\nSubject: DMARC failure\r\n\r\n".to_vec();
        for _ in 0..filler {
            m.extend_from_slice(b"........................................\r\n");
        }
        m.extend_from_slice(b"Source IP: 192.0.2.1\r\nSender Domain: example.com\r\n");
        m
    };
    // 100 lines of 42 bytes: well inside.
    let r = parse_failure_report(&notice(100)).unwrap();
    assert_eq!(r.source_ip, ip("192.0.2.1"));
    // 2 000 lines of 42 bytes = 84 000 bytes before the facts.
    assert!(matches!(
        parse_failure_report(&notice(2_000)),
        Err(Error::NotArf(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Not failure reports

/// A Postfix-style DSN for a failure report that was refused "due to domain's DMARC policy":
/// its Subject, text and returned header all mention DMARC failure, but `report-type` is
/// `delivery-status`.
#[test]
fn dsn_bounce_is_no_report() {
    let input = data("not_dsn_bounce.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::NotAFailureReport);
    assert_eq!(
        parse_failure_report(&input),
        Err(Error::NoReport("a delivery status notification".into()))
    );
}

/// A newsletter about failure reports, with an example table in it: `List-Unsubscribe` and
/// `Precedence: bulk` mark it as bulk mail.
#[test]
fn newsletter_is_no_report() {
    let input = data("not_newsletter.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::NotAFailureReport);
    assert_eq!(
        parse_failure_report(&input),
        Err(Error::NoReport("bulk mail".into()))
    );
}

/// An out-of-office reply quoting a report's Subject. Its `Auto-Submitted` is
/// `auto-generated` (not `auto-replied`), so only the Outlook-style "Automatic reply:" prefix
/// tells.
#[test]
fn out_of_office_is_no_report() {
    let input = data("not_out_of_office.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::NotAFailureReport);
    assert_eq!(
        parse_failure_report(&input),
        Err(Error::NoReport("an automatic reply".into()))
    );
}

/// An aggregate report: the "Report Domain: … Submitter: …" Subject with a `.xml.gz`
/// attachment.
#[test]
fn aggregate_report_is_no_report() {
    let input = data("not_aggregate.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::NotAFailureReport);
    assert_eq!(
        parse_failure_report(&input),
        Err(Error::NoReport("an aggregate report".into()))
    );
}

/// "DMARC failure" and a sentence, but no domain, address or results anywhere.
#[test]
fn subject_without_facts_is_not_arf() {
    let input = data("notarf_subject_only.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Text);
    match parse_failure_report(&input) {
        Err(Error::NotArf(why)) => assert!(
            why.ends_with("the From domain, the source IP and the authentication results"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
}

/// A `multipart/report; report-type=feedback-report` with no feedback part and a header copy
/// holding only a Subject and a Message-ID.
#[test]
fn feedback_report_without_part_or_facts_is_not_arf() {
    let input = data("notarf_feedback_report_no_part.eml");
    assert_eq!(failure_notice_kind(&input), NoticeKind::Arf);
    assert!(matches!(
        parse_failure_report(&input),
        Err(Error::NotArf(_))
    ));
}

/// The `text_notice` flag and the defects appear in JSON only when set.
#[test]
fn json_shape() {
    let arf = parse_failure_report(include_bytes!("data/rfc9991_appendix_a.eml")).unwrap();
    let json = serde_json::to_value(&arf).unwrap();
    assert!(json.get("text_notice").is_none());
    assert!(json.get("defects").is_none());
    let text = parse("text_exim.eml");
    let json = serde_json::to_value(&text).unwrap();
    assert_eq!(json["text_notice"], true);
    assert_eq!(json["defects"][0]["kind"], "missing_element");
    let back: FailureReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, text);
}

/// Every input of this file and the RFC example: the quick test and the parser agree on
/// what is a candidate.
#[test]
fn kind_and_parser_agree() {
    let dir = format!("{}/tests/data/notices", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let kind = failure_notice_kind(&input);
        let parsed = parse_failure_report(&input);
        assert_eq!(
            kind.is_candidate(),
            !matches!(parsed, Err(Error::NoReport(_))),
            "{}: {kind:?} {parsed:?}",
            path.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 25);
}
