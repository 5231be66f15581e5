//! Writing SMTP TLS reports: the JSON, the RFC 8460 §5.1 file name, the §5.3 Subject and the
//! report e-mail.

use std::fmt::Write as _;

use super::model::TlsReport;
use crate::write::{gzip, push_base64_lines, report_file_name};

/// Writes `report` as JSON with the member names and order of RFC 8460 §4.5, indented by two
/// spaces. Absent optional members and empty optional arrays are left out; `policies` is
/// always written ("MUST be an array and not a singular value"). Deterministic: the same
/// report always gives the same bytes.
///
/// # Examples
///
/// ```
/// use mailward_reports::tls::{TlsReport, to_json};
///
/// let report = TlsReport { report_id: "r-1".into(), ..TlsReport::default() };
/// let json = to_json(&report);
/// assert!(json.contains(r#""report-id": "r-1""#));
/// assert!(json.contains(r#""policies": []"#));
/// ```
pub fn to_json(report: &TlsReport) -> String {
    // Serialising these types cannot fail: every map key is a string and every value a
    // string, an unsigned integer, an array or an object.
    serde_json::to_string_pretty(report).unwrap_or_default()
}

/// The file name of RFC 8460 §5.1:
/// `sender "!" policy-domain "!" begin-timestamp "!" end-timestamp [ "!" unique-id ] "."
/// ("json" / "json.gz")`, the timestamps in seconds since the epoch.
///
/// `unique_id` keeps only its ASCII letters and digits (`unique-id = 1*(ALPHA / DIGIT)`); if
/// none are left it is omitted.
///
/// # Examples
///
/// ```
/// // RFC 8460 §5.1's example.
/// assert_eq!(
///     mailward_reports::tls::file_name(
///         "mail.sndr.example.com",
///         "example.net",
///         1_470_013_207,
///         1_470_186_007,
///         Some("001"),
///         true,
///     ),
///     "mail.sndr.example.com!example.net!1470013207!1470186007!001.json.gz"
/// );
/// ```
pub fn file_name(
    submitter: &str,
    policy_domain: &str,
    begin_unix: u64,
    end_unix: u64,
    unique_id: Option<&str>,
    gzipped: bool,
) -> String {
    let period = (begin_unix, end_unix);
    report_file_name(submitter, policy_domain, period, unique_id, "json", gzipped)
}

/// The Subject of RFC 8460 §5.3, folded before `Submitter:` and `Report-ID:` (as
/// [`crate::subject`] does for aggregate reports; unfolded it reads `Report Domain: <policy
/// domain> Submitter: <submitter> Report-ID: <<id>>`).
///
/// The ABNF ends in `"<" id-left "@" id-right ">"`: a `report_id` of that form (with or
/// without the angle brackets) is used as it is, any other `report_id` that is a
/// `dot-atom-text` becomes `<report-id@submitter>`, and a `report_id` that cannot be made
/// into a message id (spaces, brackets) leaves the `Report-ID:` part out.
///
/// # Examples
///
/// ```
/// // RFC 8460 §5.3's example.
/// let subject = mailward_reports::tls::subject(
///     "example.net",
///     "mail.sender.example.com",
///     "735ff.e317+bf22029@mailexample.net",
/// );
/// assert_eq!(
///     subject,
///     "Report Domain: example.net\r\n Submitter: mail.sender.example.com\r\n \
///      Report-ID: <735ff.e317+bf22029@mailexample.net>"
/// );
/// ```
pub fn subject(policy_domain: &str, submitter: &str, report_id: &str) -> String {
    let mut s = format!("Report Domain: {policy_domain}\r\n Submitter: {submitter}");
    if let Some(id) = msg_id(report_id, submitter) {
        let _ = write!(s, "\r\n Report-ID: <{id}>");
    }
    s
}

/// `id-left "@" id-right` for the Subject, without the angle brackets.
fn msg_id(report_id: &str, submitter: &str) -> Option<String> {
    let inner = report_id
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(report_id);
    match inner.split_once('@') {
        Some((left, right)) if is_dot_atom_text(left) && is_dot_atom_text(right) => {
            Some(inner.to_owned())
        }
        None if is_dot_atom_text(inner) && is_dot_atom_text(submitter) => {
            Some(format!("{inner}@{submitter}"))
        }
        _ => None,
    }
}

/// RFC 5322 §3.2.3: `dot-atom-text = 1*atext *("." 1*atext)`.
fn is_dot_atom_text(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        })
}

/// Envelope of an SMTP TLS report e-mail
/// ([RFC 8460 §5.3](https://www.rfc-editor.org/rfc/rfc8460#section-5.3)). The crate reads no
/// clock and makes up no identifiers: the date and Message-ID come from the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsReportEmail {
    /// `From:` address.
    pub from: String,
    /// `To:` address (from the `mailto:` URI of the Policy Domain's `rua`).
    pub to: String,
    /// The domain of the Sending MTA (`TLS-Report-Submitter:`, `Submitter:`, the file name's
    /// `sender`). RFC 8460 §5.3: it "MUST match the value found in the filename and the
    /// \[RFC5321\] domain from the contact-info from the report body".
    pub submitter: String,
    /// RFC 5322 `Date:` value.
    pub date: String,
    /// `Message-ID:` value, with or without angle brackets; left out when empty.
    pub message_id: String,
    /// Optional unique id for the file name.
    pub unique_id: Option<String>,
    /// Compress the JSON (RFC 8460 §5.2: "SHOULD be subjected to GZIP").
    pub gzip: bool,
}

/// The MIME boundary. It cannot occur in the body: the text part holds no `=` or `_` (its
/// values pass through [`domain_text`] and [`date_text`]), and base64 has no `_`.
const BOUNDARY: &str = "=_mailward_tlsrpt_=";

/// Builds the complete report message of RFC 8460 §5.3 (RFC 5322 + MIME, CRLF line ends):
/// a `multipart/report; report-type="tlsrpt"` (RFC 6522) with a `text/plain` part and the
/// report as `application/tlsrpt+gzip` or `application/tlsrpt+json`, base64-encoded and
/// named per [`file_name`], under the `TLS-Report-Domain` and `TLS-Report-Submitter` header
/// fields.
///
/// The Policy Domain is [`TlsReport::policy_domain`] (empty if no policy names one); the
/// file name's timestamps come from the date range (0 for a date before 1970). Domains are
/// written with characters outside `[A-Za-z0-9.-]` replaced by `?` and the other header
/// values with control characters replaced by spaces, so report content cannot add header
/// fields or MIME parts. RFC 8460 §3 requires the message to carry a DKIM signature; signing
/// is the caller's step.
///
/// # Examples
///
/// ```
/// use mailward_reports::tls::{TlsReport, TlsReportEmail, to_email};
///
/// let report = TlsReport { report_id: "r-1".into(), ..TlsReport::default() };
/// let env = TlsReportEmail {
///     from: "tlsrpt@mail.sender.example.com".into(),
///     to: "tls-reports@example.net".into(),
///     submitter: "mail.sender.example.com".into(),
///     date: "Fri, 01 Apr 2016 12:00:00 +0000".into(),
///     message_id: "r-1@mail.sender.example.com".into(),
///     unique_id: None,
///     gzip: true,
/// };
/// let mail = String::from_utf8(to_email(&report, &env)).unwrap();
/// assert!(mail.contains("TLS-Report-Submitter: mail.sender.example.com\r\n"));
/// assert!(mail.contains("Content-Type: application/tlsrpt+gzip\r\n"));
/// ```
pub fn to_email(report: &TlsReport, env: &TlsReportEmail) -> Vec<u8> {
    let json = to_json(report);
    let (data, media) = if env.gzip {
        (gzip(json.as_bytes()), "application/tlsrpt+gzip")
    } else {
        (json.into_bytes(), "application/tlsrpt+json")
    };
    let domain = domain_text(report.policy_domain().unwrap_or_default());
    let submitter = domain_text(&env.submitter);
    let unix = |t: Option<i64>| t.and_then(|t| u64::try_from(t).ok()).unwrap_or(0);
    let range = &report.date_range;
    let name = file_name(
        &submitter,
        &domain,
        unix(range.start_unix()),
        unix(range.end_unix()),
        env.unique_id.as_deref(),
        env.gzip,
    );
    let mut m = String::new();
    let _ = write!(m, "From: {}\r\n", header_text(&env.from));
    let _ = write!(m, "To: {}\r\n", header_text(&env.to));
    let _ = write!(m, "Date: {}\r\n", header_text(&env.date));
    let rid = header_text(&report.report_id);
    let _ = write!(m, "Subject: {}\r\n", subject(&domain, &submitter, &rid));
    let mid = header_text(&env.message_id);
    let mid = mid.trim().trim_start_matches('<').trim_end_matches('>');
    if !mid.is_empty() {
        let _ = write!(m, "Message-ID: <{mid}>\r\n");
    }
    let _ = write!(m, "TLS-Report-Domain: {domain}\r\n");
    let _ = write!(m, "TLS-Report-Submitter: {submitter}\r\n");
    m.push_str("MIME-Version: 1.0\r\n");
    let _ = write!(
        m,
        "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n boundary=\"{BOUNDARY}\"\r\n\r\n"
    );
    m.push_str("This is a multipart message in MIME format.\r\n\r\n");
    let _ = write!(m, "--{BOUNDARY}\r\n");
    m.push_str(
        "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
    );
    let _ = write!(
        m,
        "This is an aggregate TLS report from {submitter} for {domain}.\r\n\
         Period: {} to {}\r\n\
         Sessions: {} successful, {} failed\r\n\r\n",
        date_text(&range.start_datetime),
        date_text(&range.end_datetime),
        report.successful_sessions(),
        report.failed_sessions(),
    );
    let _ = write!(m, "--{BOUNDARY}\r\n");
    let _ = write!(
        m,
        "Content-Type: {media}\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment;\r\n filename=\"{name}\"\r\n\r\n"
    );
    push_base64_lines(&mut m, &data);
    let _ = write!(m, "--{BOUNDARY}--\r\n");
    m.into_bytes()
}

/// A domain for a header field, the file name or the text part: `[A-Za-z0-9.-]`, anything
/// else `?` (RFC 8460 §4.5 asks for A-labels, so a valid domain passes unchanged).
fn domain_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// A date for the text part: `[A-Za-z0-9:.+ -]`, anything else `?`.
fn date_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | ' ' | '-') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// A header field value: printable ASCII and spaces; control characters (CR and LF among
/// them) become spaces and other characters `?`.
fn header_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c,
            c if c.is_control() => ' ',
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_id_forms() {
        let sub = "mail.sender.example.com";
        assert_eq!(msg_id("<a.b@c.d>", sub).as_deref(), Some("a.b@c.d"));
        assert_eq!(msg_id("a.b@c.d", sub).as_deref(), Some("a.b@c.d"));
        assert_eq!(
            msg_id("5065427c-23d3-47ca-b6e0-946ea0e8c4be", sub).as_deref(),
            Some("5065427c-23d3-47ca-b6e0-946ea0e8c4be@mail.sender.example.com")
        );
        assert_eq!(msg_id("2016-04-01T00:00:00Z_example.com", sub), None);
        assert_eq!(msg_id("a b", sub), None);
        assert_eq!(msg_id("a@b@c", sub), None);
        assert_eq!(msg_id("", sub), None);
        assert_eq!(msg_id("x", "bad domain"), None);
    }

    #[test]
    fn header_values_cannot_break_out() {
        assert_eq!(header_text("a\r\nBcc: x"), "a  Bcc: x");
        assert_eq!(header_text("é"), "?");
        assert_eq!(domain_text("ex\"ample.com\r\n--=_"), "ex?ample.com??--??");
        assert_eq!(
            date_text("2016-04-01T00:00:00Z\r\n--=_x"),
            "2016-04-01T00:00:00Z??--??x"
        );
    }

    #[test]
    fn file_name_drops_what_unique_id_cannot_hold() {
        assert_eq!(
            file_name("s", "d", 1, 2, Some("-_-"), false),
            "s!d!1!2.json"
        );
        assert_eq!(
            file_name("s", "d", 1, 2, Some("a-1"), false),
            "s!d!1!2!a1.json"
        );
        assert_eq!(file_name("s", "d", 1, 2, None, true), "s!d!1!2.json.gz");
    }
}
