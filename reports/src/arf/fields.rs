//! Header-field blocks as failure reports carry them: the `message/feedback-report` part
//! ([RFC 5965 §3](https://www.rfc-editor.org/rfc/rfc5965#section-3)) and copies of the original
//! header block (RFC 5965 §2 (d)), read leniently and with every irregularity reported.

use std::borrow::Cow;
use std::net::IpAddr;

use super::{
    AuthFailure, DeliveryResult, FailureReport, IdentityAlignment, MAX_FIELDS, strip_comments,
};
use crate::defects::Defects;
use crate::error::{DefectKind, Error, Limit, Limits};

/// One header field: its name, its unfolded value, and what was irregular about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field {
    /// The name as written, without the colon or white space before it.
    pub(super) name: String,
    /// The value after the colon, unfolded (RFC 5322 §2.2.3: only the line breaks removed).
    pub(super) value: String,
    /// White space between the name and the colon, the RFC 5322 §4.5 `obs-optional` form.
    pub(super) obsolete_spacing: bool,
    /// The value held bytes that are not UTF-8; they were read as ISO-8859-1.
    pub(super) not_utf8: bool,
}

/// Reads a header block up to its first empty line (empty lines before the first field are
/// skipped: some reporters leave one after the part's own header). CRLF and bare LF line ends
/// are both accepted; lines that are neither a field nor a continuation are skipped.
///
/// RFC 5322 §2.2 lets a field name be any printable US-ASCII other than the colon; a line whose
/// text before the colon has anything else (a sentence with a colon in it) is not a field.
pub(super) fn read_fields(block: &[u8], limits: &Limits) -> Result<Vec<Field>, Error> {
    let mut out: Vec<Field> = Vec::new();
    for raw in block.split(|b| *b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if let Some(last) = out.last_mut() {
                let (text, not_utf8) = decode(line);
                if last.value.len().saturating_add(text.len()) > limits.max_string_len {
                    return Err(Error::Limit(Limit::StringLength));
                }
                last.value.push_str(&text);
                last.not_utf8 |= not_utf8;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = line.get(..colon).unwrap_or_default();
        let value = line.get(colon.saturating_add(1)..).unwrap_or_default();
        let trimmed = trim_end_wsp(name);
        if trimmed.is_empty() || !trimmed.iter().all(|b| (33..=126).contains(b)) {
            continue;
        }
        if out.len() >= MAX_FIELDS {
            return Err(Error::Limit(Limit::Children));
        }
        if value.len() > limits.max_string_len {
            return Err(Error::Limit(Limit::StringLength));
        }
        let (text, not_utf8) = decode(value);
        out.push(Field {
            name: String::from_utf8_lossy(trimmed).into_owned(),
            value: text.into_owned(),
            obsolete_spacing: trimmed.len() != name.len(),
            not_utf8,
        });
    }
    Ok(out)
}

/// UTF-8 when the bytes are UTF-8 (RFC 6532 allows it in header fields), otherwise ISO-8859-1,
/// which maps every byte to a character and so loses nothing.
fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (
            Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()),
            true,
        ),
    }
}

fn trim_end_wsp(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count();
    b.get(..b.len().saturating_sub(n)).unwrap_or_default()
}

/// Reports the irregularities [`read_fields`] noted on each field of a block at `path`.
pub(super) fn note_field_defects(fields: &[Field], path: &str, defects: &mut Defects) {
    for f in fields {
        if f.obsolete_spacing {
            defects.push(
                DefectKind::ObsoleteSyntax,
                format!("{path}/{}", f.name),
                Some("white space before the colon"),
            );
        }
        if f.not_utf8 {
            defects.push(
                DefectKind::InvalidUtf8,
                format!("{path}/{}", f.name),
                Some(f.value.trim()),
            );
        }
    }
}

/// Where feedback-report fields are reported in defect paths.
const FEEDBACK: &str = "feedback-report";

/// Fills `report` from the fields of a `message/feedback-report` part (RFC 5965 §3, RFC 6591
/// §3, RFC 9991 §4). Nothing makes the part unreadable: a field that may appear once and
/// appears again keeps its first value, a value that cannot be read is left out; both are
/// defects.
pub(super) fn read_feedback(report: &mut FailureReport, fields: Vec<Field>, defects: &mut Defects) {
    note_field_defects(&fields, FEEDBACK, defects);
    let mut feedback_type = None;
    for Field { name, value, .. } in fields {
        let v = value.trim().to_owned();
        let lower = name.to_ascii_lowercase();
        let path = format!("{FEEDBACK}/{name}");
        let once = |slot: &mut Option<String>, defects: &mut Defects| {
            set_once(slot, v.clone(), &path, &v, defects);
        };
        match lower.as_str() {
            "feedback-type" => once(&mut feedback_type, defects),
            "version" => once(&mut report.version, defects),
            "user-agent" => once(&mut report.user_agent, defects),
            "original-envelope-id" => once(&mut report.original_envelope_id, defects),
            "original-mail-from" => once(&mut report.original_mail_from, defects),
            // RFC 5965 §3.2: "Received-Date" is read as "Arrival-Date"; both present is
            // malformed, so the second is a duplicate.
            "arrival-date" | "received-date" => once(&mut report.arrival_date, defects),
            "dkim-domain" => once(&mut report.dkim_domain, defects),
            "dkim-identity" => once(&mut report.dkim_identity, defects),
            "dkim-selector" => once(&mut report.dkim_selector, defects),
            "dkim-canonicalized-header" => once(&mut report.dkim_canonicalized_header, defects),
            "dkim-canonicalized-body" => once(&mut report.dkim_canonicalized_body, defects),
            "auth-failure" => {
                let token = AuthFailure::from_token(&token_of(&v));
                set_once(&mut report.auth_failure, token, &path, &v, defects);
            }
            "delivery-result" => {
                let token = DeliveryResult::from_token(&token_of(&v));
                set_once(&mut report.delivery_result, token, &path, &v, defects);
            }
            "identity-alignment" => match IdentityAlignment::parse(&v) {
                Ok(a) => set_once(&mut report.identity_alignment, a, &path, &v, defects),
                Err(_) => defects.push(DefectKind::UnparsableValue, &path, Some(&v)),
            },
            "source-ip" => match source_ip(&v) {
                Some(ip) => set_once(&mut report.source_ip, ip, &path, &v, defects),
                None => defects.push(DefectKind::UnparsableValue, &path, Some(&v)),
            },
            "authentication-results" => report.authentication_results.push(v),
            "original-rcpt-to" => report.original_rcpt_to.push(v),
            "reported-domain" => report.reported_domain.push(v),
            "spf-dns" => report.spf_dns.push(v),
            _ => report.other_fields.push((name, v)),
        }
    }
    if let Some(t) = feedback_type {
        report.feedback_type = t;
    }
    for (name, slot) in [
        ("Version", report.version.is_none()),
        ("User-Agent", report.user_agent.is_none()),
    ] {
        if slot {
            // RFC 5965 §3.1: "MUST appear exactly once".
            defects.push(
                DefectKind::MissingElement,
                format!("{FEEDBACK}/{name}"),
                None,
            );
        }
    }
}

/// RFC 5965 §3.1, §3.2 and RFC 6591 §3.1: these fields appear (at most) once; a repeat is a
/// defect and the first value is kept.
fn set_once<T>(slot: &mut Option<T>, v: T, path: &str, raw: &str, defects: &mut Defects) {
    if slot.is_some() {
        defects.push(DefectKind::DuplicateElement, path, Some(raw));
    } else {
        *slot = Some(v);
    }
}

/// A token value: comments removed, trimmed, lower-cased.
fn token_of(v: &str) -> String {
    strip_comments(v).trim().to_ascii_lowercase()
}

/// Whether the fields read so far are those of an authentication failure report even though
/// `Feedback-Type` is missing: an `Auth-Failure` field or a field only RFC 6591 / RFC 9991
/// define, or an `Authentication-Results` saying DMARC failed.
pub(super) fn looks_like_auth_failure(r: &FailureReport) -> bool {
    r.auth_failure.is_some()
        || r.identity_alignment.is_some()
        || r.delivery_result.is_some()
        || r.dkim_domain.is_some()
        || r.dkim_selector.is_some()
        || !r.spf_dns.is_empty()
        || r.authentication_results
            .iter()
            .any(|a| a.to_ascii_lowercase().contains("dmarc=fail"))
}

/// Reads a `Source-IP` value. RFC 5965 §3.2 asks for the RFC 5321 §4.1.3 form; reporters also
/// write the bare address, a bracketed one, `IPv6:` without brackets, or the address followed
/// by a comment or a host name (`192.0.2.1 (mx.example)`).
pub(super) fn source_ip(v: &str) -> Option<IpAddr> {
    let v = strip_comments(v);
    let first = v
        .split(|c: char| c.is_ascii_whitespace() || c == ',' || c == ';')
        .find(|t| !t.is_empty())?;
    ip_literal(first)
}

/// An IP address, bare or as an RFC 5321 §4.1.3 address literal (`[192.0.2.1]`,
/// `[IPv6:2001:db8::1]`), with the brackets or the `IPv6:` tag each optional.
pub(super) fn ip_literal(t: &str) -> Option<IpAddr> {
    let t = t.strip_prefix('[').unwrap_or(t);
    let t = t.strip_suffix(']').unwrap_or(t);
    let t = match t.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("ipv6:") => t.get(5..).unwrap_or_default(),
        _ => t,
    };
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_unfold_and_note_irregularities() {
        let block =
            b"\r\nA: 1\r\nB : two\r\n  folded\r\nC: \xe9t\xe9\r\nnot a field: x\r\n\r\nD: 4";
        let f = read_fields(block, &Limits::default()).unwrap_or_default();
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert_eq!(f.get(1).map(|f| f.value.as_str()), Some(" two  folded"));
        assert_eq!(f.get(1).map(|f| f.obsolete_spacing), Some(true));
        assert_eq!(f.get(2).map(|f| f.value.as_str()), Some(" été"));
        assert_eq!(f.get(2).map(|f| f.not_utf8), Some(true));
    }

    #[test]
    fn source_ip_forms() {
        let v4: Option<IpAddr> = "192.0.2.1".parse().ok();
        let v6: Option<IpAddr> = "2001:db8::1".parse().ok();
        assert_eq!(source_ip("192.0.2.1"), v4);
        assert_eq!(source_ip(" [192.0.2.1] "), v4);
        assert_eq!(source_ip("192.0.2.1 (mx.example)"), v4);
        assert_eq!(source_ip("(mx) 192.0.2.1 mx.example"), v4);
        assert_eq!(source_ip("[IPv6:2001:db8::1]"), v6);
        assert_eq!(source_ip("ipv6:2001:db8::1"), v6);
        assert_eq!(source_ip("unknown"), None);
        assert_eq!(source_ip(""), None);
        assert_eq!(source_ip("192.0.2.300"), None);
    }
}
