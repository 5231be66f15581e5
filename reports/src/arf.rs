//! Failure reports: ARF ([RFC 5965](https://www.rfc-editor.org/rfc/rfc5965)) with the
//! authentication-failure extension ([RFC 6591](https://www.rfc-editor.org/rfc/rfc6591)) as
//! updated for DMARC by [RFC 9991](https://www.rfc-editor.org/rfc/rfc9991#section-4).

use std::fmt::Write as _;
use std::net::IpAddr;

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Limit, Limits, clip};
use crate::model::token_enum;

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
}

/// Parses an ARF failure report message with the default [`Limits`].
///
/// # Errors
///
/// [`Error::Mime`] when the message cannot be read, [`Error::Arf`] when it is not a
/// `multipart/report` with a `message/feedback-report` part, [`Error::Limit`] on limits.
pub fn parse_failure_report(input: &[u8]) -> Result<FailureReport, Error> {
    parse_failure_report_with(input, &Limits::default())
}

/// Parses an ARF failure report message with explicit limits.
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
    let mut report = FailureReport {
        subject: message.subject().map(str::to_owned),
        ..FailureReport::default()
    };
    let mut feedback: Option<Vec<u8>> = None;
    let mut original: Option<(Vec<u8>, bool)> = None;
    let mut description = None;
    for part in &message.parts {
        let (ctype, sub) = match part.content_type() {
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or_default().to_ascii_lowercase(),
            ),
            None => ("text".into(), "plain".into()),
        };
        match (ctype.as_str(), sub.as_str(), &part.body) {
            ("message", "feedback-report", _) if feedback.is_none() => {
                feedback = Some(part.contents().to_vec());
            }
            ("message", "rfc822" | "global", PartType::Message(m)) if original.is_none() => {
                original = Some((m.raw_message().to_vec(), true));
            }
            ("message", "rfc822" | "global", _) if original.is_none() => {
                original = Some((part.contents().to_vec(), true));
            }
            ("text", "rfc822-headers", _) if original.is_none() => {
                original = Some((part.contents().to_vec(), false));
            }
            ("text", "plain", PartType::Text(t)) if description.is_none() && feedback.is_none() => {
                description = Some(t.trim().to_owned());
            }
            _ => {}
        }
    }
    let feedback = feedback.ok_or_else(|| Error::Arf("no message/feedback-report part".into()))?;
    report.description = description.filter(|d| !d.is_empty());
    for (name, value) in header_fields(&feedback, limits)? {
        let v = value.trim().to_owned();
        match name.to_ascii_lowercase().as_str() {
            "feedback-type" => report.feedback_type = v,
            "version" => report.version = Some(v),
            "user-agent" => report.user_agent = Some(v),
            "auth-failure" => {
                report.auth_failure = Some(AuthFailure::from_token(
                    &strip_comments(&v).trim().to_ascii_lowercase(),
                ));
            }
            "delivery-result" => {
                report.delivery_result = Some(DeliveryResult::from_token(
                    &strip_comments(&v).trim().to_ascii_lowercase(),
                ));
            }
            "identity-alignment" => report.identity_alignment = Some(IdentityAlignment::parse(&v)?),
            "authentication-results" => report.authentication_results.push(v),
            "original-envelope-id" => report.original_envelope_id = Some(v),
            "original-mail-from" => report.original_mail_from = Some(v),
            "original-rcpt-to" => report.original_rcpt_to.push(v),
            "arrival-date" | "received-date" => report.arrival_date = Some(v),
            "source-ip" => {
                let ip = strip_comments(&v);
                let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
                report.source_ip = Some(
                    ip.parse()
                        .map_err(|_| Error::Arf(format!("bad Source-IP {:?}", clip(&v))))?,
                );
            }
            "reported-domain" => report.reported_domain.push(v),
            "dkim-domain" => report.dkim_domain = Some(v),
            "dkim-identity" => report.dkim_identity = Some(v),
            "dkim-selector" => report.dkim_selector = Some(v),
            "dkim-canonicalized-header" => report.dkim_canonicalized_header = Some(v),
            "dkim-canonicalized-body" => report.dkim_canonicalized_body = Some(v),
            "spf-dns" => report.spf_dns.push(v),
            _ => report.other_fields.push((name, v)),
        }
    }
    if report.feedback_type.is_empty() {
        // RFC 5965 §3.1: "Feedback-Type" MUST appear exactly once.
        return Err(Error::Arf("missing Feedback-Type".into()));
    }
    if let Some((raw, has_body)) = original {
        let header_end = header_block_end(&raw);
        report.original_headers = header_fields(raw.get(..header_end).unwrap_or_default(), limits)?
            .into_iter()
            .map(|(n, v)| (n, v.trim().to_owned()))
            .collect();
        report.original_has_body = has_body;
    }
    Ok(report)
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
    let text = String::from_utf8_lossy(block);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                if v.len().saturating_add(line.len()) > limits.max_string_len {
                    return Err(Error::Limit(Limit::StringLength));
                }
                v.push_str(line);
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if out.len() >= MAX_FIELDS {
            return Err(Error::Limit(Limit::Children));
        }
        out.push((name.trim_end().to_owned(), value.to_owned()));
    }
    Ok(out)
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
