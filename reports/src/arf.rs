//! Failure reports: ARF ([RFC 5965](https://www.rfc-editor.org/rfc/rfc5965)) with the
//! authentication-failure extension ([RFC 6591](https://www.rfc-editor.org/rfc/rfc6591)) as
//! updated for DMARC by [RFC 9991](https://www.rfc-editor.org/rfc/rfc9991#section-4).

use std::fmt::Write as _;
use std::net::IpAddr;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

use crate::defects::Defects;
use crate::error::{Defect, DefectKind, Error, Limit, Limits, clip};
use crate::model::token_enum;

mod fields;
mod notice;
mod text;

use notice::Verdict;
pub use notice::{NoticeKind, failure_notice_kind};

/// Most fields read from the `message/feedback-report` part or from the original header block
/// (RFC 5322 sets no bound; 1 000 is far above any real report).
pub const MAX_FIELDS: usize = 1_000;

token_enum! {
    /// `Auth-Failure` values (RFC 6591 §3.3 and RFC 9991 §4 item 3).
    AuthFailure {
        /// `dmarc` (RFC 9991).
        Dmarc = "dmarc",
        /// `adsp`
        Adsp = "adsp",
        /// `bodyhash`
        BodyHash = "bodyhash",
        /// `revoked`
        Revoked = "revoked",
        /// `signature`
        Signature = "signature",
        /// `spf`
        Spf = "spf",
    }
}

token_enum! {
    /// `Delivery-Result` values (RFC 6591 §3.2.2).
    DeliveryResult {
        /// `delivered`
        Delivered = "delivered",
        /// `spam`
        Spam = "spam",
        /// `policy`
        Policy = "policy",
        /// `reject`
        Reject = "reject",
        /// `other`
        Other = "other",
    }
}

/// `Identity-Alignment` (RFC 9991 §4 item 2): the mechanisms that failed to authenticate an
/// aligned identity; both `false` is the keyword `none`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityAlignment {
    /// `dkim` is listed.
    pub dkim: bool,
    /// `spf` is listed.
    pub spf: bool,
}

impl IdentityAlignment {
    /// Parses `"none"` or a comma-separated list of `dkim` / `spf` (CFWS allowed, comments
    /// removed, case-insensitive).
    ///
    /// # Errors
    ///
    /// [`Error::Arf`] for any other method name, a repeated method, or `none` mixed with
    /// methods.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let v = strip_comments(value);
        let v = v.trim();
        if v.eq_ignore_ascii_case("none") {
            return Ok(Self::default());
        }
        let mut out = Self::default();
        for m in v.split(',') {
            let m = m.trim();
            let slot = if m.eq_ignore_ascii_case("dkim") {
                &mut out.dkim
            } else if m.eq_ignore_ascii_case("spf") {
                &mut out.spf
            } else {
                return Err(Error::Arf(format!(
                    "bad Identity-Alignment {:?}",
                    clip(value)
                )));
            };
            if *slot {
                // RFC 9991 §4: "each may appear at most once in an id-align".
                return Err(Error::Arf(format!(
                    "repeated method in Identity-Alignment {:?}",
                    clip(value)
                )));
            }
            *slot = true;
        }
        Ok(out)
    }
}

impl std::fmt::Display for IdentityAlignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.dkim, self.spf) {
            (false, false) => f.write_str("none"),
            (true, false) => f.write_str("dkim"),
            (false, true) => f.write_str("spf"),
            (true, true) => f.write_str("dkim, spf"),
        }
    }
}

/// A parsed failure report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReport {
    /// The report message's Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The human-readable first part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Feedback-Type` (`auth-failure` for RFC 6591 reports).
    pub feedback_type: String,
    /// `Version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `User-Agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `Auth-Failure` (comments removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_failure: Option<AuthFailure>,
    /// `Delivery-Result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_result: Option<DeliveryResult>,
    /// `Identity-Alignment` (RFC 9991).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_alignment: Option<IdentityAlignment>,
    /// `Authentication-Results` values, unfolded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authentication_results: Vec<String>,
    /// `Original-Envelope-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_envelope_id: Option<String>,
    /// `Original-Mail-From`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_mail_from: Option<String>,
    /// `Original-Rcpt-To` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub original_rcpt_to: Vec<String>,
    /// `Arrival-Date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_date: Option<String>,
    /// `Source-IP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<IpAddr>,
    /// `Reported-Domain` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reported_domain: Vec<String>,
    /// `DKIM-Domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_domain: Option<String>,
    /// `DKIM-Identity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_identity: Option<String>,
    /// `DKIM-Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_selector: Option<String>,
    /// `DKIM-Canonicalized-Header` (base64, as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_canonicalized_header: Option<String>,
    /// `DKIM-Canonicalized-Body` (base64, as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_canonicalized_body: Option<String>,
    /// `SPF-DNS` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spf_dns: Vec<String>,
    /// Any other feedback fields, in order: `(name, unfolded value)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<(String, String)>,
    /// The original message's header fields, in order: `(name, unfolded value)`.
    pub original_headers: Vec<(String, String)>,
    /// Whether the third part carried the whole message (`message/rfc822`) rather than only
    /// its header (`text/rfc822-headers`).
    pub original_has_body: bool,
    /// The message had no `message/feedback-report` part: the facts were read from its text,
    /// its Subject and its attached header copy ([`NoticeKind::Text`]). `feedback_type` is then
    /// `auth-failure` unless the text names another, and `auth_failure` is `dmarc` when the
    /// Subject or the text names DMARC.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub text_notice: bool,
    /// What the report does differently from RFC 5965 / RFC 6591 / RFC 9991 and was accepted
    /// (missing or repeated fields, values that could not be read, a mislabelled part, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<Defect>,
}

/// Parses a failure report message with the default [`Limits`].
///
/// Reads RFC 6591 reports (`multipart/report; report-type=feedback-report`) and the shapes
/// receivers send instead: the feedback part inside `multipart/mixed` (Netease) or labelled
/// `text/plain`, missing fields, repeated fields, unreadable values, and reports without a
/// feedback part whose facts are in their text, Subject or attached header copy
/// ([`FailureReport::text_notice`]). What deviates from the RFCs is listed in
/// [`FailureReport::defects`].
///
/// # Errors
///
/// [`Error::Mime`] when the input is not a message, [`Error::NoReport`] when it does not
/// present itself as a failure report (see [`failure_notice_kind`]): a bounce, an automatic
/// reply, a newsletter, an aggregate report. [`Error::NotArf`] when it does, but has neither a
/// feedback part nor the facts a report gives (the From domain, and the source IP or the
/// authentication results), [`Error::Arf`] when its feedback part has no `Feedback-Type`
/// and nothing else says it is an authentication failure report, [`Error::Limit`] on limits.
///
/// # Examples
///
/// ```
/// use mailward_reports::{Error, parse_failure_report};
///
/// let exim = b"From: mx@receiver.example\r\n\
/// Subject: DMARC Forensic Report for example.com from IP 192.0.2.1\r\n\r\n\
/// A message claiming to be from you has failed the published DMARC\r\n\
/// policy for your domain.\r\n\r\n\
///   Sender Domain: example.com\r\n\
///   Sender IP Address: 192.0.2.1\r\n";
/// let r = parse_failure_report(exim)?;
/// assert!(r.text_notice);
/// assert_eq!(r.reported_domain, ["example.com"]);
/// assert_eq!(r.source_ip, "192.0.2.1".parse().ok());
///
/// let newsletter = b"From: news@shop.example\r\nSubject: Spring sale\r\n\r\nHello!\r\n";
/// assert!(matches!(parse_failure_report(newsletter), Err(Error::NoReport(_))));
/// # Ok::<(), Error>(())
/// ```
pub fn parse_failure_report(input: &[u8]) -> Result<FailureReport, Error> {
    parse_failure_report_with(input, &Limits::default())
}

/// Parses a failure report message with explicit limits.
///
/// # Errors
///
/// As [`parse_failure_report`].
pub fn parse_failure_report_with(input: &[u8], limits: &Limits) -> Result<FailureReport, Error> {
    if input.len() as u64 > limits.max_input_bytes {
        return Err(Error::Limit(Limit::InputSize));
    }
    let message = MessageParser::default()
        .parse(input)
        .ok_or_else(|| Error::Mime("not a parsable message".into()))?;
    parse_message(&message, limits, 0)
}

/// Reads one message; `depth` counts the forwarding messages around it.
fn parse_message(
    message: &Message<'_>,
    limits: &Limits,
    depth: usize,
) -> Result<FailureReport, Error> {
    let verdict = notice::classify(message, limits);
    if let Verdict::Not(reason) = verdict {
        return Err(Error::NoReport(reason.into()));
    }
    if verdict == Verdict::Text
        && let Some(inner) = forwarded_report(message, limits, depth)
    {
        return inner;
    }
    let mut report = FailureReport {
        subject: message.subject().map(str::to_owned),
        ..FailureReport::default()
    };
    let mut defects = Defects::new(limits.max_defects);
    let parts = ArfParts::collect(message, verdict == Verdict::Arf, limits, &mut defects);
    match parts.feedback {
        Some(feedback) => {
            report.description = parts.description;
            read_arf(&mut report, &feedback, parts.original, limits, &mut defects)?;
        }
        None => text::read_text_notice(message, &mut report, &mut defects, limits)?,
    }
    report.defects = defects.finish();
    Ok(report)
}

/// A report forwarded as an attachment ("FW: DMARC Failure Report …" with the report as a
/// `message/rfc822` part) is read from the attachment, up to [`Limits::max_nesting`] deep.
fn forwarded_report(
    message: &Message<'_>,
    limits: &Limits,
    depth: usize,
) -> Option<Result<FailureReport, Error>> {
    if depth >= limits.max_nesting {
        return None;
    }
    let inner = message
        .parts
        .iter()
        .take(limits.max_children)
        .find_map(|p| match &p.body {
            PartType::Message(m) if notice::classify(m, limits) == Verdict::Arf => Some(m),
            _ => None,
        })?;
    Some(
        parse_message(inner, limits, depth.saturating_add(1)).map(|mut r| {
            if r.defects.len() < limits.max_defects {
                r.defects.push(Defect {
                    kind: DefectKind::SkippedPart,
                    path: "forwarding message".into(),
                    value: message.subject().map(clip),
                });
            }
            r
        }),
    )
}

/// The parts of an ARF report (RFC 5965 §2): the description, the feedback fields and the
/// copy of the original.
#[derive(Debug, Default)]
struct ArfParts {
    description: Option<String>,
    feedback: Option<Vec<u8>>,
    original: Option<(Vec<u8>, bool)>,
}

impl ArfParts {
    fn collect(message: &Message<'_>, arf: bool, limits: &Limits, defects: &mut Defects) -> Self {
        let mut out = Self::default();
        let mut texts: Vec<(usize, &str)> = Vec::new();
        for (i, part) in message.parts.iter().enumerate().take(limits.max_children) {
            let (ctype, sub) = part_type(part);
            match (ctype.as_str(), sub.as_str(), &part.body) {
                ("message", "feedback-report", _) if out.feedback.is_none() => {
                    out.feedback = Some(part.contents().to_vec());
                }
                (
                    "text" | "message",
                    "rfc822-headers" | "global-headers" | "rfc822" | "global",
                    _,
                ) if out.original.is_none() => {
                    out.original = original_of(part, &ctype, &sub);
                }
                ("text", "plain", PartType::Text(t)) => texts.push((i, t)),
                _ => {}
            }
        }
        // A `multipart/report; report-type=feedback-report` whose feedback part is labelled
        // `text/plain`: the text part that reads as feedback fields is taken for it.
        let mut mislabelled = None;
        if out.feedback.is_none() && arf {
            for (i, t) in &texts {
                // A text over the limits is not taken for the feedback part (its own reading
                // would fail on them); the report is then read as a text notice.
                let fields = fields::read_fields(t.as_bytes(), limits);
                if fields.is_ok_and(|f| looks_like_feedback(&f)) {
                    defects.push(
                        DefectKind::MislabelledPart,
                        format!("part[{i}]"),
                        Some("text/plain holding the message/feedback-report fields"),
                    );
                    out.feedback = Some(t.as_bytes().to_vec());
                    mislabelled = Some(*i);
                    break;
                }
            }
        }
        out.description = texts
            .iter()
            .find(|(i, _)| Some(*i) != mislabelled)
            .map(|(_, t)| t.trim().to_owned())
            .filter(|d| !d.is_empty());
        out
    }
}

/// Whether a text part's fields are those of a feedback report: a `Feedback-Type`, or two of
/// the fields RFC 5965 / RFC 6591 define.
fn looks_like_feedback(fields: &[fields::Field]) -> bool {
    const ARF_FIELDS: [&str; 10] = [
        "auth-failure",
        "source-ip",
        "reported-domain",
        "original-mail-from",
        "original-rcpt-to",
        "arrival-date",
        "user-agent",
        "authentication-results",
        "delivery-result",
        "identity-alignment",
    ];
    let is = |f: &fields::Field, n: &str| f.name.eq_ignore_ascii_case(n);
    fields.iter().any(|f| is(f, "feedback-type"))
        || fields
            .iter()
            .filter(|f| ARF_FIELDS.iter().any(|n| is(f, n)))
            .take(2)
            .count()
            >= 2
}

/// Reads the feedback fields and the copy of the original into `report`.
fn read_arf(
    report: &mut FailureReport,
    feedback: &[u8],
    original: Option<(Vec<u8>, bool)>,
    limits: &Limits,
    defects: &mut Defects,
) -> Result<(), Error> {
    let fields = fields::read_fields(feedback, limits)?;
    fields::read_feedback(report, fields, defects);
    if report.feedback_type.is_empty() {
        // RFC 5965 §3.1: "Feedback-Type" MUST appear exactly once. A report whose other
        // fields or words say what it is loses nothing by its absence.
        let words = report
            .subject
            .as_deref()
            .is_some_and(|s| notice::names_failure_in_subject(&notice::normalize(s)))
            || report
                .description
                .as_deref()
                .is_some_and(|d| notice::names_failure_in_text(&notice::normalize(d)));
        if !(words || fields::looks_like_auth_failure(report)) {
            return Err(Error::Arf("missing Feedback-Type".into()));
        }
        report.feedback_type = "auth-failure".into();
        defects.push(
            DefectKind::MissingElement,
            "feedback-report/Feedback-Type",
            None,
        );
    }
    if report.feedback_type.eq_ignore_ascii_case("auth-failure") {
        // RFC 6591 §3.2.1: Auth-Failure is "Required for All Reports"; §3.1: for this feedback
        // type Authentication-Results "MUST be present".
        if report.auth_failure.is_none() {
            defects.push(
                DefectKind::MissingElement,
                "feedback-report/Auth-Failure",
                None,
            );
        }
        if report.authentication_results.is_empty() {
            defects.push(
                DefectKind::MissingElement,
                "feedback-report/Authentication-Results",
                None,
            );
        }
        // RFC 9991 §4 item 1: a DMARC failure report includes Identity-Alignment (REQUIRED).
        if report.auth_failure == Some(AuthFailure::Dmarc) && report.identity_alignment.is_none() {
            defects.push(
                DefectKind::MissingElement,
                "feedback-report/Identity-Alignment",
                None,
            );
        }
    }
    match original {
        Some((raw, has_body)) => {
            let header_end = header_block_end(&raw);
            let fields = fields::read_fields(raw.get(..header_end).unwrap_or_default(), limits)?;
            fields::note_field_defects(&fields, "original", defects);
            report.original_headers = fields
                .into_iter()
                .map(|f| (f.name, f.value.trim().to_owned()))
                .collect();
            report.original_has_body = has_body;
        }
        // RFC 5965 §2 (d) and RFC 6591 §3.1: the third part "MUST be included".
        None => defects.push(DefectKind::MissingElement, "original message", None),
    }
    Ok(())
}

/// A part's content type and subtype, lower-cased (`text/plain` when it has none, RFC 2045
/// §5.2).
fn part_type(part: &mail_parser::MessagePart<'_>) -> (String, String) {
    match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        ),
        None => ("text".into(), "plain".into()),
    }
}

/// The copy of the original message a part carries, and whether it has the body:
/// `message/rfc822` (RFC 5965 §2 (d)), `message/global` (RFC 6532), `text/rfc822-headers`
/// (RFC 6522) and its RFC 6533 counterpart `message/global-headers`, and the
/// `message/rfc822-headers` some generators write.
fn original_of(
    part: &mail_parser::MessagePart<'_>,
    ctype: &str,
    sub: &str,
) -> Option<(Vec<u8>, bool)> {
    match (ctype, sub, &part.body) {
        ("message", "rfc822" | "global", PartType::Message(m)) => {
            Some((m.raw_message().to_vec(), true))
        }
        ("message", "rfc822" | "global", _) => Some((part.contents().to_vec(), true)),
        (_, "rfc822-headers" | "global-headers", _) => Some((part.contents().to_vec(), false)),
        _ => None,
    }
}

/// Length of the header block (up to, not including, the empty line).
fn header_block_end(raw: &[u8]) -> usize {
    let mut pos = 0;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            return pos;
        }
        pos += line.len();
    }
    raw.len()
}

/// Splits a header block into `(name, unfolded value)` (RFC 5322 §2.2.3 unfolding).
fn header_fields(block: &[u8], limits: &Limits) -> Result<Vec<(String, String)>, Error> {
    Ok(fields::read_fields(block, limits)?
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect())
}

/// Removes RFC 5322 comments (`(...)`, nested, with quoted-pairs).
fn strip_comments(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for c in v.chars() {
        if depth > 0 {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '(' {
                depth += 1;
            } else if c == ')' {
                depth -= 1;
            }
            continue;
        }
        if c == '(' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

/// What to leave out of the copy of the original message (RFC 5965 §8.5, RFC 6590).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redaction {
    /// Send only the header block (`text/rfc822-headers`) instead of the whole message.
    pub headers_only: bool,
    /// Header fields (case-insensitive names) whose values are replaced by `[redacted]`.
    pub redact_fields: Vec<String>,
    /// Header fields (case-insensitive names) in which the local part of every address is
    /// replaced by `redacted` (RFC 6590 §4: the local part identifies the user).
    pub redact_local_parts: Vec<String>,
}

/// What the receiver knows about the failed message, to build a DMARC failure report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureReportInput {
    /// `From:` of the report.
    pub from: String,
    /// `To:` of the report (from the `ruf` URI).
    pub to: String,
    /// `Date:` of the report (the caller's clock).
    pub date: String,
    /// `User-Agent` field (RFC 5965 §3.1, required).
    pub user_agent: String,
    /// `Auth-Failure` (RFC 9991: `dmarc`).
    pub auth_failure: AuthFailure,
    /// `Identity-Alignment` (RFC 9991: required).
    pub identity_alignment: IdentityAlignment,
    /// `Authentication-Results` value (RFC 6591 §3.1: required, one method's result).
    pub authentication_results: String,
    /// `Delivery-Result`.
    pub delivery_result: Option<DeliveryResult>,
    /// `Original-Envelope-Id`.
    pub original_envelope_id: Option<String>,
    /// `Original-Mail-From`.
    pub original_mail_from: Option<String>,
    /// `Arrival-Date`.
    pub arrival_date: Option<String>,
    /// `Source-IP`.
    pub source_ip: Option<IpAddr>,
    /// `Reported-Domain` (the RFC5322.From domain).
    pub reported_domain: String,
    /// `DKIM-Domain` (RFC 9991: required for DKIM failures of an aligned identifier).
    pub dkim_domain: Option<String>,
    /// `DKIM-Identity`.
    pub dkim_identity: Option<String>,
    /// `DKIM-Selector`.
    pub dkim_selector: Option<String>,
    /// `SPF-DNS` values (`txt : domain : "record"`; RFC 9991: required for SPF failures of an
    /// aligned identifier).
    pub spf_dns: Vec<String>,
}

#[allow(clippy::derivable_impls)] // the enum comes from a macro without `#[default]`
impl Default for AuthFailure {
    fn default() -> Self {
        Self::Dmarc
    }
}

/// Builds an RFC 9991 failure report (`multipart/report; report-type=feedback-report`) about
/// `original`, applying `redaction` to the copy of the original.
///
/// # Errors
///
/// [`Error::Arf`] when a field value would break the report (line breaks in single-line
/// values).
pub fn generate_failure_report(
    input: &FailureReportInput,
    original: &[u8],
    redaction: &Redaction,
) -> Result<Vec<u8>, Error> {
    const BOUNDARY: &str = "=_mailward_arf_boundary_=";
    let header_end = header_block_end(original);
    let header = original.get(..header_end).unwrap_or_default();
    let body = original.get(header_end..).unwrap_or_default();
    let redacted_header = redact(header, redaction);
    let original_subject = header_fields(header, &Limits::default())?
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("subject"))
        .map(|(_, v)| v.trim().to_owned());

    let one_line = |name: &str, v: &str| -> Result<String, Error> {
        if v.contains(['\r', '\n']) {
            return Err(Error::Arf(format!("{name} value contains a line break")));
        }
        Ok(v.to_owned())
    };
    let mut m = String::new();
    let _ = write!(m, "From: {}\r\n", one_line("From", &input.from)?);
    let _ = write!(m, "To: {}\r\n", one_line("To", &input.to)?);
    let _ = write!(m, "Date: {}\r\n", one_line("Date", &input.date)?);
    // RFC 5965 §2 (f): the Subject SHOULD be the original's, a forwarding prefix allowed.
    let subject = match original_subject {
        Some(s) => format!("FW: {s}"),
        None => format!("DMARC failure report for {}", input.reported_domain),
    };
    let _ = write!(m, "Subject: {}\r\n", one_line("Subject", &subject)?);
    m.push_str("MIME-Version: 1.0\r\n");
    let _ = write!(
        m,
        "Content-Type: multipart/report; report-type=feedback-report;\r\n boundary=\"{BOUNDARY}\"\r\n\r\n"
    );
    let _ = write!(m, "--{BOUNDARY}\r\n");
    m.push_str(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    let _ = write!(
        m,
        "This is an authentication failure report for a message claiming to be from {}",
        input.reported_domain
    );
    if let Some(ip) = input.source_ip {
        let _ = write!(m, ", received from IP {ip}");
    }
    m.push_str(".\r\n\r\n");
    let _ = write!(m, "--{BOUNDARY}\r\n");
    m.push_str("Content-Type: message/feedback-report\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
    let mut field = |name: &str, v: &str| -> Result<(), Error> {
        let _ = write!(m, "{name}: {}\r\n", one_line(name, v)?);
        Ok(())
    };
    field("Feedback-Type", "auth-failure")?;
    field("Version", "1")?;
    field("User-Agent", &input.user_agent)?;
    field("Auth-Failure", input.auth_failure.as_str())?;
    field("Authentication-Results", &input.authentication_results)?;
    field("Identity-Alignment", &input.identity_alignment.to_string())?;
    if let Some(d) = &input.delivery_result {
        field("Delivery-Result", d.as_str())?;
    }
    if let Some(v) = &input.dkim_domain {
        field("DKIM-Domain", v)?;
    }
    if let Some(v) = &input.dkim_identity {
        field("DKIM-Identity", v)?;
    }
    if let Some(v) = &input.dkim_selector {
        field("DKIM-Selector", v)?;
    }
    for v in &input.spf_dns {
        field("SPF-DNS", v)?;
    }
    if let Some(v) = &input.original_envelope_id {
        field("Original-Envelope-Id", v)?;
    }
    if let Some(v) = &input.original_mail_from {
        field("Original-Mail-From", v)?;
    }
    if let Some(v) = &input.arrival_date {
        field("Arrival-Date", v)?;
    }
    if let Some(ip) = input.source_ip {
        field("Source-IP", &ip.to_string())?;
    }
    field("Reported-Domain", &input.reported_domain)?;
    m.push_str("\r\n");
    let _ = write!(m, "--{BOUNDARY}\r\n");
    let mut out = m.into_bytes();
    let eight_bit = |b: &[u8]| b.iter().any(|c| *c >= 0x80);
    if redaction.headers_only {
        let cte = if eight_bit(&redacted_header) {
            "8bit"
        } else {
            "7bit"
        };
        out.extend_from_slice(
            format!(
                "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(&redacted_header);
    } else {
        let cte = if eight_bit(&redacted_header) || eight_bit(body) {
            "8bit"
        } else {
            "7bit"
        };
        out.extend_from_slice(
            format!("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: {cte}\r\n\r\n")
                .as_bytes(),
        );
        out.extend_from_slice(&redacted_header);
        out.extend_from_slice(body);
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Ok(out)
}

/// Applies the redaction options to a raw header block (folding kept for untouched fields).
fn redact(header: &[u8], r: &Redaction) -> Vec<u8> {
    if r.redact_fields.is_empty() && r.redact_local_parts.is_empty() {
        return header.to_vec();
    }
    let mut out = Vec::with_capacity(header.len());
    // Group physical lines into fields.
    let mut fields: Vec<Vec<u8>> = Vec::new();
    for line in header.split_inclusive(|b| *b == b'\n') {
        match (line.first(), fields.last_mut()) {
            (Some(b' ' | b'\t'), Some(last)) => last.extend_from_slice(line),
            _ => fields.push(line.to_vec()),
        }
    }
    for f in fields {
        let colon = f.iter().position(|b| *b == b':');
        let name = colon
            .and_then(|c| f.get(..c))
            .map(|n| String::from_utf8_lossy(n).trim().to_owned())
            .unwrap_or_default();
        let eol: &[u8] = if f.ends_with(b"\r\n") { b"\r\n" } else { b"\n" };
        if r.redact_fields
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&name))
        {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": [redacted]");
            out.extend_from_slice(eol);
        } else if r
            .redact_local_parts
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&name))
        {
            out.extend_from_slice(&redact_local_parts(&f));
        } else {
            out.extend_from_slice(&f);
        }
    }
    out
}

/// Replaces the local part before every `@` (RFC 5322 `atext` and `.`) with `redacted`.
fn redact_local_parts(field: &[u8]) -> Vec<u8> {
    let is_local = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c);
    let mut out: Vec<u8> = Vec::with_capacity(field.len());
    for &c in field {
        if c == b'@' {
            let keep = out.iter().rev().take_while(|b| is_local(**b)).count();
            out.truncate(out.len() - keep);
            out.extend_from_slice(b"redacted");
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_removed() {
        assert_eq!(
            strip_comments("dmarc (aligned (nested) \\) ) x"),
            "dmarc  x"
        );
        assert_eq!(strip_comments("none"), "none");
    }

    #[test]
    fn local_parts() {
        assert_eq!(
            redact_local_parts(b"To: a.b+c@x.example, \"Q\" <d@y.example>"),
            b"To: redacted@x.example, \"Q\" <redacted@y.example>".to_vec()
        );
    }

    #[test]
    fn header_block() {
        assert_eq!(header_block_end(b"A: 1\r\nB: 2\r\n\r\nbody"), 12);
        assert_eq!(header_block_end(b"A: 1\n\nbody"), 5);
        assert_eq!(header_block_end(b"A: 1"), 4);
    }
}
