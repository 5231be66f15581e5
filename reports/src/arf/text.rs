//! Failure reports without a `message/feedback-report` part: the facts are read from the
//! report's text (key: value tables, a sentence such as "received from IP 192.0.2.1", a copy
//! of the header lines pasted into the text), its Subject, and an attached copy of the original
//! header (`text/rfc822-headers` or `message/rfc822`).
//!
//! Every scan is one pass over at most [`MAX_NOTICE_TEXT`] bytes of text and one header block,
//! with the number of kept values bounded by [`MAX_FIELDS`].

use std::net::IpAddr;

use mail_parser::{Message, PartType};

use super::fields::{Field, ip_literal, note_field_defects, read_fields, source_ip};
use super::notice::{MAX_NOTICE_TEXT, clip_str, names_failure_in_subject, normalize};
use super::{
    AuthFailure, DeliveryResult, FailureReport, IdentityAlignment, MAX_FIELDS, header_block_end,
    strip_comments,
};
use crate::defects::Defects;
use crate::error::{DefectKind, Error, Limits, clip};

/// What a text line can state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    SourceIp,
    Domain,
    AuthResults,
    ReceivedSpf,
    Received,
    From,
    ArrivalDate,
    MailFrom,
    RcptTo,
    FeedbackType,
    AuthFailure,
    DeliveryResult,
    UserAgent,
    DkimDomain,
    DkimSelector,
    DkimIdentity,
    EnvelopeId,
    SpfAlignment,
    DkimAlignment,
}

/// Maps a table key or header field name (compared without case, spaces, `-`, `_` or `.`) to
/// the fact it states. The names are those of RFC 5965 / RFC 6591 fields and those receivers
/// use in their own tables: Exim ("Sender Domain", "Sender IP Address", "Received Date",
/// "SPF Alignment", "DKIM Alignment"), and the usual "Source IP", "Header From", "Mail From".
fn fact_of(key: &str) -> Option<Fact> {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Some(match k.as_str() {
        "sourceip" | "sourceipaddress" | "senderip" | "senderipaddress" | "clientip"
        | "connectingip" | "remoteip" | "ipaddress" | "ip" => Fact::SourceIp,
        "reporteddomain" | "senderdomain" | "headerfrom" | "headerfromdomain" | "fromdomain"
        | "authordomain" | "policydomain" | "rfc5322from" | "domain" => Fact::Domain,
        "authenticationresults" => Fact::AuthResults,
        "receivedspf" => Fact::ReceivedSpf,
        "received" => Fact::Received,
        "from" => Fact::From,
        "arrivaldate" | "receiveddate" | "datereceived" | "receivedat" => Fact::ArrivalDate,
        "originalmailfrom" | "mailfrom" | "envelopefrom" | "smtpmailfrom" | "returnpath" => {
            Fact::MailFrom
        }
        "originalrcptto" | "rcptto" | "envelopeto" | "enveloperecipient" => Fact::RcptTo,
        "feedbacktype" => Fact::FeedbackType,
        "authfailure" => Fact::AuthFailure,
        "deliveryresult" => Fact::DeliveryResult,
        "useragent" => Fact::UserAgent,
        "dkimdomain" => Fact::DkimDomain,
        "dkimselector" => Fact::DkimSelector,
        "dkimidentity" => Fact::DkimIdentity,
        "originalenvelopeid" => Fact::EnvelopeId,
        "spfalignment" => Fact::SpfAlignment,
        "dkimalignment" => Fact::DkimAlignment,
        _ => return None,
    })
}

/// Facts found so far, each from the most explicit place that stated it.
#[derive(Debug, Default)]
struct Found {
    /// From a table key or a "received from IP …" sentence.
    stated_ip: Option<IpAddr>,
    /// From `Received-SPF: … client-ip=` or an `Authentication-Results` IP property.
    checked_ip: Option<IpAddr>,
    /// The first public address in the `Received` chain.
    received_ip: Option<IpAddr>,
    stated_domain: Option<String>,
    /// `header.from=` of an `Authentication-Results`.
    ar_domain: Option<String>,
    /// The domain of a `From:` header line.
    from_domain: Option<String>,
    text_auth_results: Vec<String>,
    header_auth_results: Vec<String>,
    spf_aligned: Option<bool>,
    dkim_aligned: Option<bool>,
}

/// Reads a failure report that has no ARF part into `report`.
///
/// # Errors
///
/// [`Error::NotArf`] when neither the text, the Subject nor an attached header states the
/// From domain and at least one of the source IP and the authentication results; limits.
pub(super) fn read_text_notice(
    message: &Message<'_>,
    report: &mut FailureReport,
    defects: &mut Defects,
    limits: &Limits,
) -> Result<(), Error> {
    report.text_notice = true;
    let mut found = Found::default();
    let mut budget = MAX_NOTICE_TEXT;
    let mut original = None;
    for part in message.parts.iter().take(limits.max_children) {
        let (ctype, sub) = super::part_type(part);
        match (ctype.as_str(), sub.as_str(), &part.body) {
            ("text" | "message", "rfc822-headers" | "global-headers" | "rfc822" | "global", _)
                if original.is_none() =>
            {
                original = super::original_of(part, &ctype, &sub);
            }
            ("text", "plain", PartType::Text(t)) if budget > 0 => {
                let t = clip_str(t, budget);
                budget = budget.saturating_sub(t.len());
                if report.description.is_none() && !t.trim().is_empty() {
                    report.description = Some(clip_str(t.trim(), limits.max_string_len).into());
                }
                scan_text(t, report, &mut found, defects);
            }
            _ => {}
        }
    }
    if let Some(subject) = report.subject.clone() {
        scan_subject(&subject, &mut found);
    }
    if let Some((raw, has_body)) = original {
        let end = header_block_end(&raw);
        let fields = read_fields(raw.get(..end).unwrap_or_default(), limits)?;
        note_field_defects(&fields, "original", defects);
        for f in &fields {
            header_fact(f, &mut found, true);
        }
        report.original_headers = fields
            .into_iter()
            .map(|f| (f.name, f.value.trim().to_owned()))
            .collect();
        report.original_has_body = has_body;
    } else {
        // RFC 5965 §2 (d) / RFC 6591 §3.1: the copy of the original "MUST be included".
        defects.push(DefectKind::MissingElement, "original message", None);
    }
    settle(report, found);
    require_facts(report)
}

/// One pass over a text part's lines.
fn scan_text(text: &str, report: &mut FailureReport, found: &mut Found, defects: &mut Defects) {
    // Whether the previous line was an `Authentication-Results` line that may be folded.
    let mut folding = false;
    for line in text.lines() {
        let continued = line.starts_with([' ', '\t']);
        let kv = key_value(line);
        if folding && continued && kv.is_none_or(|(k, _)| fact_of(k).is_none()) {
            if let Some(last) = found.text_auth_results.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
            continue;
        }
        folding = false;
        let Some((key, value)) = kv else {
            if found.stated_ip.is_none() {
                found.stated_ip = sentence_ip(line);
            }
            continue;
        };
        let Some(fact) = fact_of(key) else {
            // A table row naming something else ("DMARC Results: Reject") is kept; a line
            // whose key has no space is a header line pasted into the text ("Subject: …").
            if key.contains(' ') && report.other_fields.len() < MAX_FIELDS {
                report.other_fields.push((key.to_owned(), value.to_owned()));
            }
            continue;
        };
        match fact {
            Fact::SourceIp => match source_ip(value) {
                Some(ip) => {
                    found.stated_ip.get_or_insert(ip);
                }
                None => defects.push(
                    DefectKind::UnparsableValue,
                    format!("text/{key}"),
                    Some(value),
                ),
            },
            Fact::Domain => {
                if let Some(d) = domain_of(value) {
                    found.stated_domain.get_or_insert(d);
                }
            }
            Fact::AuthResults => {
                if found.text_auth_results.len() < MAX_FIELDS {
                    found.text_auth_results.push(value.to_owned());
                    folding = true;
                }
            }
            Fact::SpfAlignment => found.spf_aligned = yes_no(value),
            Fact::DkimAlignment => found.dkim_aligned = yes_no(value),
            _ => {
                let f = Field {
                    name: key.to_owned(),
                    value: value.to_owned(),
                    obsolete_spacing: false,
                    not_utf8: false,
                };
                if !header_fact(&f, found, false) {
                    table_fact(fact, value, report);
                }
            }
        }
        if matches!(fact, Fact::SpfAlignment | Fact::DkimAlignment)
            && report.other_fields.len() < MAX_FIELDS
        {
            report.other_fields.push((key.to_owned(), value.to_owned()));
        }
    }
}

/// Facts the Subject states: "… for example.com …" and an address after "IP", "ip=" or
/// "IP:" (Exim: "DMARC Forensic Report for example.com from IP 192.0.2.1"; Symantec
/// Messaging Gateway: "DMARC Failure Report for example.com (mail-from=…, ip=192.0.2.1)";
/// LinkedIn: "DMARC Failure report for example.com Mail-From: IP:192.0.2.1"). Only a Subject
/// that names a failure report is read.
fn scan_subject(subject: &str, found: &mut Found) {
    let norm = normalize(subject);
    if !names_failure_in_subject(&norm) {
        return;
    }
    let tokens: Vec<&str> = norm
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
        .filter(|t| !t.is_empty())
        .take(64)
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        if found.stated_domain.is_none()
            && *t == "for"
            && let Some(d) = tokens.get(i.saturating_add(1)).and_then(|d| domain_of(d))
        {
            found.stated_domain = Some(d);
        }
        let after_tag = t.strip_prefix("ip=").or_else(|| t.strip_prefix("ip:"));
        let ip = match after_tag {
            Some(rest) => ip_literal(rest),
            None if *t == "ip" || *t == "ip:" => {
                tokens.get(i.saturating_add(1)).and_then(|n| ip_literal(n))
            }
            None => None,
        };
        if found.stated_ip.is_none() && ip.is_some() {
            found.stated_ip = ip;
        }
    }
}

/// Reads the header fields that carry facts: `Authentication-Results`, `Received-SPF`,
/// `Received` and `From`. Returns whether the field was one of them. `Authentication-Results`
/// of attached headers (`attached`) are collected here, those in text by [`scan_text`].
fn header_fact(f: &Field, found: &mut Found, attached: bool) -> bool {
    let Some(fact) = fact_of(&f.name) else {
        return false;
    };
    let v = f.value.trim();
    match fact {
        Fact::AuthResults => {
            if attached && found.header_auth_results.len() < MAX_FIELDS {
                found.header_auth_results.push(v.to_owned());
            }
        }
        // RFC 7208 §9.1: "client-ip" is the address of the SMTP client.
        Fact::ReceivedSpf => {
            if found.checked_ip.is_none() {
                found.checked_ip = property(v, "client-ip").and_then(|ip| ip_literal(&ip));
            }
        }
        Fact::Received => {
            if found.received_ip.is_none() {
                found.received_ip = received_ip(v).filter(is_public);
            }
        }
        Fact::From => {
            if found.from_domain.is_none() {
                found.from_domain = address_domain(v);
            }
        }
        _ => return false,
    }
    true
}

/// Facts stated in a table that fill a report field of the same meaning.
fn table_fact(fact: Fact, value: &str, report: &mut FailureReport) {
    let v = value.to_owned();
    match fact {
        Fact::ArrivalDate => {
            report.arrival_date.get_or_insert(v);
        }
        Fact::MailFrom => {
            report.original_mail_from.get_or_insert(v);
        }
        Fact::RcptTo if report.original_rcpt_to.len() < MAX_FIELDS => {
            report.original_rcpt_to.push(v);
        }
        Fact::FeedbackType if report.feedback_type.is_empty() => report.feedback_type = v,
        Fact::AuthFailure => {
            let t = strip_comments(value).trim().to_ascii_lowercase();
            report
                .auth_failure
                .get_or_insert(AuthFailure::from_token(&t));
        }
        Fact::DeliveryResult => {
            let t = strip_comments(value).trim().to_ascii_lowercase();
            report
                .delivery_result
                .get_or_insert(DeliveryResult::from_token(&t));
        }
        Fact::UserAgent => {
            report.user_agent.get_or_insert(v);
        }
        Fact::DkimDomain => {
            report.dkim_domain.get_or_insert(v);
        }
        Fact::DkimSelector => {
            report.dkim_selector.get_or_insert(v);
        }
        Fact::DkimIdentity => {
            report.dkim_identity.get_or_insert(v);
        }
        Fact::EnvelopeId => {
            report.original_envelope_id.get_or_insert(v);
        }
        _ => {}
    }
}

/// Moves the facts into the report, the most explicit source first.
fn settle(report: &mut FailureReport, mut found: Found) {
    for v in found
        .text_auth_results
        .iter()
        .chain(&found.header_auth_results)
    {
        if found.ar_domain.is_none() {
            found.ar_domain = property(v, "header.from").and_then(|d| domain_of(&d));
        }
        // RFC 8601 §2.7.3 `policy.iprev` and the `smtp.remote-ip` / `smtp.client-ip`
        // properties some verifiers add name the SMTP client's address.
        if found.checked_ip.is_none() {
            found.checked_ip = ["smtp.remote-ip", "smtp.client-ip", "policy.iprev"]
                .iter()
                .find_map(|p| property(v, p).and_then(|ip| ip_literal(&ip)));
        }
    }
    report.source_ip = found.stated_ip.or(found.checked_ip).or(found.received_ip);
    if report.reported_domain.is_empty()
        && let Some(d) = found
            .stated_domain
            .or(found.ar_domain)
            .or(found.from_domain)
    {
        report.reported_domain.push(d);
    }
    report.authentication_results = if found.text_auth_results.is_empty() {
        found.header_auth_results
    } else {
        found.text_auth_results
    };
    // Exim's "SPF Alignment: no" / "DKIM Alignment: no" say which mechanism failed to give an
    // aligned pass, which is what RFC 9991 §4 item 2 lists in Identity-Alignment.
    if let (Some(spf), Some(dkim)) = (found.spf_aligned, found.dkim_aligned) {
        report.identity_alignment = Some(IdentityAlignment {
            dkim: !dkim,
            spf: !spf,
        });
    }
    if report.feedback_type.is_empty() {
        report.feedback_type = "auth-failure".into();
    }
    let names_dmarc = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|s| s.to_ascii_lowercase().contains("dmarc"))
    };
    if report.auth_failure.is_none()
        && (names_dmarc(&report.subject) || names_dmarc(&report.description))
    {
        report.auth_failure = Some(AuthFailure::Dmarc);
    }
}

fn require_facts(report: &FailureReport) -> Result<(), Error> {
    let domain = !report.reported_domain.is_empty();
    let evidence = report.source_ip.is_some() || !report.authentication_results.is_empty();
    let missing = match (domain, evidence) {
        (true, true) => return Ok(()),
        (false, true) => "the From domain",
        (true, false) => "the source IP and the authentication results",
        (false, false) => "the From domain, the source IP and the authentication results",
    };
    Err(Error::NotArf(format!(
        "no message/feedback-report part, and neither the text, the Subject nor an attached \
         header states {missing}"
    )))
}

/// A `key: value` line of a table (`  Sender IP Address: 192.0.2.1`, `1. Source-IP: …`):
/// a key of letters, digits, spaces, `-`, `_` and `.` of at most 40 bytes, and a value.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    // List markers: "1. ", "2) ", "- ", "* ".
    let line = line
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches(['.', ')', '-', '*'])
        .trim_start();
    let (key, value) = line.split_once(':')?;
    let key = key.trim_end();
    let value = value.trim();
    let ok_key = !key.is_empty()
        && key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    (ok_key && !value.is_empty()).then_some((key, value))
}

/// "… received from IP 192.0.2.1 on …" (RFC 9991 Appendix A, OpenDMARC, Netease, LinkedIn).
fn sentence_ip(line: &str) -> Option<IpAddr> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("from ip ")?;
    let rest = line.get(at.saturating_add("from ip ".len())..)?;
    let token = rest.split_whitespace().next()?;
    ip_literal(token.trim_end_matches(['.', ',', ';']))
}

/// The value of `name=` in an `Authentication-Results` or `Received-SPF` value (quotes and a
/// trailing `;` removed).
fn property(v: &str, name: &str) -> Option<String> {
    v.split(|c: char| c.is_whitespace() || c == ';')
        .find_map(|t| {
            let (k, val) = t.split_once('=')?;
            k.eq_ignore_ascii_case(name).then_some(val)
        })
        .map(|val| val.trim_matches('"').to_owned())
        .filter(|val| !val.is_empty())
}

/// The SMTP client address a `Received` field records (RFC 5321 §4.4 `TCP-info`): an address
/// in the parentheses of the `from` clause (`from helo (rdns [192.0.2.1])`,
/// `from host (192.0.2.1)`), or a bracketed address opening it when no parentheses name one
/// (Exim's `from [192.0.2.1] (helo=…)`).
fn received_ip(v: &str) -> Option<IpAddr> {
    let lower = v.to_ascii_lowercase();
    let start = lower.find("from ")?;
    let end = lower
        .get(start..)
        .and_then(|r| r.find(" by "))
        .map_or(v.len(), |e| start.saturating_add(e));
    let clause = v.get(start..end)?;
    let mut depth = 0usize;
    let mut outside = None;
    let mut token = String::new();
    for c in clause.chars().chain(std::iter::once(' ')) {
        if c.is_whitespace() || matches!(c, '(' | ')') {
            let t = token.trim_end_matches([',', ';']);
            if let Some(ip) = ip_literal(t) {
                if depth > 0 {
                    return Some(ip);
                }
                if t.starts_with('[') {
                    outside.get_or_insert(ip);
                }
            }
            token.clear();
            match c {
                '(' => depth = depth.saturating_add(1),
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        } else if token.len() < 64 {
            token.push(c);
        }
    }
    outside
}

/// Not a loopback, private, shared, link-local or unspecified address: a hop inside the
/// receiver's own network is not where the message came from.
fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // RFC 6598 shared address space.
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments().first().copied().unwrap_or_default();
            !(v6.is_loopback()
                || v6.is_unspecified()
                // RFC 4193 unique local, RFC 4291 link-local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// `yes` / `no` style answers ("SPF Alignment: no").
fn yes_no(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "pass" | "aligned" => Some(true),
        "no" | "false" | "fail" | "not aligned" | "unaligned" => Some(false),
        _ => None,
    }
}

/// The domain of the first address in a `From:` value (`Name <a@example.com>`,
/// `a@example.com (Name)`).
fn address_domain(v: &str) -> Option<String> {
    let v = strip_comments(v);
    let addr = match (v.find('<'), v.find('>')) {
        (Some(open), Some(close)) if open < close => v.get(open.saturating_add(1)..close)?,
        _ => v.split([',', ' ', '\t']).find(|t| t.contains('@'))?,
    };
    let (_, domain) = addr.rsplit_once('@')?;
    domain_of(domain)
}

/// A domain name as a report states it (`example.com`, `<example.com>`, `example.com.`),
/// lower-cased; `None` for anything that is not a dotted name of LDH labels (RFC 1035 §2.3.1,
/// with `_` allowed) or is an IP address.
fn domain_of(v: &str) -> Option<String> {
    let v = strip_comments(v);
    let t = v.split_whitespace().next()?;
    let t = t.trim_matches(|c| matches!(c, '<' | '>' | '"' | '\'' | ',' | ';' | '.'));
    let t = t.rsplit_once('@').map_or(t, |(_, d)| d);
    let ok = (3..=253).contains(&t.len())
        && t.contains('.')
        && t.parse::<IpAddr>().is_err()
        && t.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    ok.then(|| clip(&t.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(fact_of("Sender IP Address"), Some(Fact::SourceIp));
        assert_eq!(fact_of("Source-IP"), Some(Fact::SourceIp));
        assert_eq!(fact_of("header.from"), Some(Fact::Domain));
        assert_eq!(fact_of("Subject"), None);
        assert_eq!(
            key_value("  1. Sender Domain: example.com"),
            Some(("Sender Domain", "example.com"))
        );
        assert_eq!(
            key_value("Below is some detail information about this message:"),
            None
        );
        assert_eq!(key_value("no colon here"), None);
    }

    #[test]
    fn received_forms() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(
            received_ip("from mx.example (mx.example [192.0.2.1]) by mx.receiver.example"),
            ip("192.0.2.1")
        );
        assert_eq!(
            received_ip("from [198.51.100.7] (helo=x.example) by mx.receiver.example"),
            ip("198.51.100.7")
        );
        assert_eq!(
            received_ip("from [203.0.113.9] (rdns [198.51.100.7]) by y"),
            ip("198.51.100.7")
        );
        assert_eq!(
            received_ip("from DENU (10.1.2.3) by x (10.1.2.4)"),
            ip("10.1.2.3")
        );
        assert_eq!(received_ip("by mx.example with ESMTP"), None);
        assert!(!is_public(
            &"10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
        ));
    }

    #[test]
    fn domains() {
        assert_eq!(domain_of("<Example.COM>."), Some("example.com".into()));
        assert_eq!(domain_of("192.0.2.1"), None);
        assert_eq!(domain_of("nodots"), None);
        assert_eq!(
            address_domain("\"Q @ R\" <a@Mail.Example.org>"),
            Some("mail.example.org".into())
        );
        assert_eq!(
            property("x; dmarc=fail header.from=\"a.example\";", "header.from"),
            Some("a.example".into())
        );
        assert_eq!(
            sentence_ip("received from IP 192.0.2.2 on Tue"),
            "192.0.2.2".parse().ok()
        );
    }
}
