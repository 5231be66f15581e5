//! Which messages present themselves as DMARC failure reports.
//!
//! A mailbox given as `ruf=` receives RFC 6591 reports, but also receivers' own formats (plain
//! text with a table of facts, or a header copy with a sentence above it), bounces of reports
//! sent from the same domain, auto-replies, newsletters and aggregate reports. The decision is
//! made from the top-level header, the parts' content types and the first text part only.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::error::Limits;

/// How much of a text part is read when looking for words or facts: reports put their
/// description and facts first, and a bound keeps the scan linear in a small constant.
pub(super) const MAX_NOTICE_TEXT: usize = 64 << 10;

/// How a message presents itself, as told by [`failure_notice_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NoticeKind {
    /// An ARF report: a `multipart/report` whose `report-type` is `feedback-report`
    /// ([RFC 5965 §2](https://www.rfc-editor.org/rfc/rfc5965#section-2)), or any message with a
    /// `message/feedback-report` part.
    Arf,
    /// No ARF structure, but the Subject or the first text part names a DMARC failure report
    /// ("DMARC Failure Report for …", "DMARC Forensic Report", "This is an authentication
    /// failure report …", "… has failed the published DMARC policy …").
    Text,
    /// Not a failure report: a delivery status notification or other non-ARF
    /// `multipart/report`, an automatic reply, bulk mail, an aggregate report, or a message
    /// that names no DMARC failure.
    NotAFailureReport,
}

impl NoticeKind {
    /// Whether [`parse_failure_report`](crate::parse_failure_report) reads the message (it
    /// may still find too few facts in a [`NoticeKind::Text`] message).
    pub fn is_candidate(self) -> bool {
        !matches!(self, Self::NotAFailureReport)
    }
}

/// Tells from the top-level header, the parts' content types and the first text part (its
/// first 64 KiB) whether a message presents itself as a DMARC failure report. This is the
/// test [`parse_failure_report`](crate::parse_failure_report) applies first; it does not read
/// the report's fields.
///
/// Input larger than [`Limits::max_input_bytes`](crate::Limits) (default) is judged from its
/// beginning, where a report's header and first parts are.
///
/// # Examples
///
/// ```
/// use mailward_reports::{NoticeKind, failure_notice_kind};
///
/// let dsn = b"From: MAILER-DAEMON@mx.example\r\n\
/// Subject: Undelivered Mail Returned to Sender\r\n\
/// Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
/// --b\r\nContent-Type: text/plain\r\n\r\nDMARC failure report could not be delivered.\r\n--b--\r\n";
/// assert_eq!(failure_notice_kind(dsn), NoticeKind::NotAFailureReport);
///
/// let exim = b"From: mx@receiver.example\r\n\
/// Subject: DMARC Forensic Report for example.com from IP 192.0.2.1\r\n\r\n\
/// A message claiming to be from you has failed the published DMARC\r\n\
/// policy for your domain.\r\n";
/// assert_eq!(failure_notice_kind(exim), NoticeKind::Text);
/// ```
pub fn failure_notice_kind(input: &[u8]) -> NoticeKind {
    let cap = usize::try_from(Limits::default().max_input_bytes).unwrap_or(usize::MAX);
    let input = input.get(..cap).unwrap_or(input);
    match MessageParser::default().parse(input) {
        Some(m) => classify(&m, &Limits::default()).kind(),
        None => NoticeKind::NotAFailureReport,
    }
}

/// The decision with its reason, for [`crate::Error::NoReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Arf,
    Text,
    Not(&'static str),
}

impl Verdict {
    pub(super) fn kind(self) -> NoticeKind {
        match self {
            Self::Arf => NoticeKind::Arf,
            Self::Text => NoticeKind::Text,
            Self::Not(_) => NoticeKind::NotAFailureReport,
        }
    }
}

/// Classifies a parsed message (see [`failure_notice_kind`]).
pub(super) fn classify(message: &Message<'_>, limits: &Limits) -> Verdict {
    if let Some(ct) = message.content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && let Some(report_type) = ct.attribute("report-type")
    {
        // RFC 6522 §3: the report-type names what the report is; a DSN (RFC 3464) or an MDN
        // (RFC 8098) about a failure report is not one, whatever its text says.
        return if report_type.to_ascii_lowercase().contains("feedback") {
            Verdict::Arf
        } else if report_type.eq_ignore_ascii_case("delivery-status") {
            Verdict::Not("a delivery status notification")
        } else if report_type.eq_ignore_ascii_case("disposition-notification") {
            Verdict::Not("a message disposition notification")
        } else {
            Verdict::Not("a multipart/report that is not a feedback report")
        };
    }
    // Netease sends its reports as multipart/mixed with the feedback part inside.
    if message
        .parts
        .iter()
        .take(limits.max_children)
        .any(|p| has_type(p, "message", "feedback-report"))
    {
        return Verdict::Arf;
    }
    // A report generator's opening sentence outweighs the marks of automatic mail: Exim
    // sends its reports as "Mail Delivery System <Mailer-Daemon@…>" with "Auto-Submitted:
    // auto-replied", like its bounces.
    let text = first_text(message, limits);
    if opens_as_report(clip_str(&text, OPENING)) {
        return Verdict::Text;
    }
    if let Some(reason) = not_a_report(message, limits) {
        return Verdict::Not(reason);
    }
    let subject = message.subject().map(normalize).unwrap_or_default();
    if names_failure_in_subject(&subject) || names_failure_in_text(&text) {
        return Verdict::Text;
    }
    Verdict::Not("a message that neither has an ARF part nor names a DMARC failure")
}

/// How far into the first text part a generator's opening sentence is looked for: it is the
/// first line, where a bounce or a reply quoting a report has its own words instead.
const OPENING: usize = 1 << 10;

/// The sentences report generators open their text with (normalized text), long enough that
/// no person writes them: RFC 9991 Appendix A and OpenDMARC ("This is an authentication
/// failure report for an email message received from IP …"), Netease ("This is a spf/dkim
/// authentication-failure report for an email message …"), Exim ("A message claiming to be
/// from you has failed the published DMARC policy for your domain."), Momentum/ecelerity
/// senders such as LinkedIn ("The message below did not meet the sending domain's dmarc
/// policy.").
fn opens_as_report(opening: &str) -> bool {
    const SENTENCES: [&str; 4] = [
        "authentication failure report for an email message",
        "authentication-failure report for an email message",
        "a message claiming to be from you has failed the published dmarc policy",
        "did not meet the sending domain's dmarc policy",
    ];
    SENTENCES.iter().any(|p| opening.contains(p))
}

/// Messages that mention a failure report without being one.
fn not_a_report(message: &Message<'_>, limits: &Limits) -> Option<&'static str> {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    // RFC 3834 §5: "auto-replied" marks automatic responses (vacation notices).
    if header("Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied"))
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
    {
        return Some("an automatic reply");
    }
    let subject = message.subject().map(normalize).unwrap_or_default();
    const AUTO_REPLY: [&str; 6] = [
        "automatic reply",
        "auto:",
        "autoreply",
        "auto-reply",
        "out of office",
        "abwesenheitsnotiz",
    ];
    if AUTO_REPLY.iter().any(|p| subject.starts_with(p)) {
        return Some("an automatic reply");
    }
    // Bounces that are not RFC 3464 reports (qmail, old Exim, Exchange's "Undeliverable:").
    const BOUNCE: [&str; 10] = [
        "undeliverable",
        "undelivered mail",
        "delivery status notification",
        "mail delivery failed",
        "mail delivery failure",
        "failure notice",
        "returned mail",
        "delivery failure",
        "non-delivery",
        "message not delivered",
    ];
    // A generator that writes as the mailer daemon and opens with its own sentence was
    // recognised before this.
    let from_daemon = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .is_some_and(|a| a.to_ascii_lowercase().starts_with("mailer-daemon@"));
    if from_daemon || BOUNCE.iter().any(|p| subject.starts_with(p)) {
        return Some("a bounce");
    }
    // RFC 2369 / RFC 8058: mailing lists and newsletters. A failure report forwarded through
    // a list keeps its ARF part and was recognised above.
    if header("List-Unsubscribe").is_some()
        || header("Precedence").is_some_and(|v| v == "bulk" || v == "list" || v == "junk")
    {
        return Some("bulk mail");
    }
    // RFC 9990 §3.5: aggregate reports travel as XML, gzip or zip attachments, under a
    // "Report Domain: … Submitter: …" Subject that some receivers reuse for failure reports.
    if message
        .parts
        .iter()
        .take(limits.max_children)
        .any(is_aggregate_attachment)
    {
        return Some("an aggregate report");
    }
    None
}

fn has_type(part: &mail_parser::MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn is_aggregate_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    const TYPES: [(&str, &str); 7] = [
        ("application", "zip"),
        ("application", "gzip"),
        ("application", "x-gzip"),
        ("application", "x-zip-compressed"),
        ("application", "xml"),
        ("text", "xml"),
        ("application", "x-zip"),
    ];
    if TYPES.iter().any(|(t, s)| has_type(part, t, s)) {
        return true;
    }
    part.attachment_name().is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        n.ends_with(".xml") || n.ends_with(".xml.gz") || n.ends_with(".zip") || n.ends_with(".gz")
    })
}

/// The first text part, cut to [`MAX_NOTICE_TEXT`] bytes and normalized.
fn first_text(message: &Message<'_>, limits: &Limits) -> String {
    message
        .parts
        .iter()
        .take(limits.max_children)
        .find_map(|p| match &p.body {
            PartType::Text(t) => Some(normalize(clip_str(t, MAX_NOTICE_TEXT))),
            _ => None,
        })
        .unwrap_or_default()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(super) fn clip_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Lower-cased (ASCII), each run of white space one space, trimmed: phrases then match across
/// the line breaks and indentation reporters put in them.
pub(super) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    out
}

/// Subjects receivers give failure reports (normalized text): "DMARC Failure Report for …"
/// (LinkedIn, Symantec Messaging Gateway, OpenDMARC-based filters), "[Netease DMARC Failure
/// Report] …", "DMARC Forensic Report for … from IP …" (Exim), "Authentication failure
/// report", forwarded ones ("FW: DMARC failure …"), and the aggregate-style "Report Domain: …
/// Submitter: …" when no aggregate attachment came with it.
pub(super) fn names_failure_in_subject(subject: &str) -> bool {
    const PHRASES: [&str; 8] = [
        "dmarc failure",
        "dmarc forensic",
        "dmarc fail ",
        "forensic report",
        "authentication failure report",
        "authentication-failure report",
        "auth failure report",
        "auth-failure report",
    ];
    PHRASES.iter().any(|p| subject.contains(p))
        || subject.ends_with("dmarc fail")
        || (subject.contains("report domain:") && subject.contains("submitter:"))
}

/// Words that name a failure report anywhere in a text (normalized): the generators' opening
/// sentences ([`opens_as_report`]) and the names reports go by.
pub(super) fn names_failure_in_text(text: &str) -> bool {
    const PHRASES: [&str; 6] = [
        "authentication failure report",
        "authentication-failure report",
        "failed the published dmarc policy",
        "did not meet the sending domain's dmarc policy",
        "dmarc failure report",
        "dmarc forensic report",
    ];
    PHRASES.iter().any(|p| text.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        for s in [
            "DMARC Failure Report for example.com",
            "[Netease DMARC Failure Report] Rent",
            "DMARC Forensic Report for example.com from IP 192.0.2.1",
            "FW: DMARC failure",
            "Authentication failure report",
            "Report Domain: example.com Submitter: mx.example Report-ID: 1",
            "dmarc fail",
        ] {
            assert!(names_failure_in_subject(&normalize(s)), "{s}");
        }
        for s in [
            "Weekly digest",
            "Our DMARC policy changes",
            "DMARC aggregate report",
        ] {
            assert!(!names_failure_in_subject(&normalize(s)), "{s}");
        }
    }

    #[test]
    fn texts() {
        assert!(names_failure_in_text(&normalize(
            "A message claiming to be from you has failed the published DMARC\r\n   policy"
        )));
        assert!(!names_failure_in_text(&normalize(
            "We publish a DMARC policy."
        )));
    }

    #[test]
    fn clip_on_boundary() {
        assert_eq!(clip_str("aé", 2), "a");
        assert_eq!(clip_str("aé", 3), "aé");
        assert_eq!(clip_str("", 0), "");
    }
}
