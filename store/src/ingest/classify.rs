//! What an input is, decided without a store: the reports it carries, "not a report" with the
//! reason, or a report that cannot be read with its error class. The same reading serves
//! ingest and [`classify`] (`mailward report classify`).

use mailward_reports::tls::ParsedTlsReport;
use mailward_reports::{AggregateReport, Error as ReportError, Format, Limits, ParsedReport};

/// Longest header block searched for a `Message-ID` (RFC 5322 puts no bound; real header
/// blocks are a few KB, long Received chains a few tens).
const MAX_HEADER_SCAN: usize = 256 * 1024;

/// The `Message-ID` of an RFC 5322 message, without its angle brackets (RFC 5322 §3.6.4),
/// read from the raw header block (folded lines unfolded).
pub(crate) fn message_id(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(MAX_HEADER_SCAN))?;
    let mut lines = head.split(|&b| b == b'\n').peekable();
    // An mbox "From " line may precede the header block.
    if lines.peek().is_some_and(|l| l.starts_with(b"From ")) {
        lines.next();
    }
    let mut value: Option<Vec<u8>> = None;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        match (&mut value, folded) {
            (Some(v), true) => v.extend_from_slice(line),
            (Some(_), false) => break,
            (None, false) => {
                let Some(colon) = line.iter().position(|&b| b == b':') else {
                    continue;
                };
                let (name, rest) = line.split_at(colon);
                if name.trim_ascii().eq_ignore_ascii_case(b"message-id") {
                    value = Some(rest.get(1..).unwrap_or_default().to_vec());
                }
            }
            (None, true) => {}
        }
    }
    let v = String::from_utf8_lossy(&value?).trim().to_owned();
    let v = v.trim_start_matches('<').trim_end_matches('>').trim();
    (!v.is_empty()).then(|| v.chars().take(998).collect())
}

/// What an input is, decided without a store (see [`classify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Read {
    /// It carries these reports (at least one).
    Reports(Found),
    /// Not a report; why.
    Skipped(String),
    /// A report that cannot be read: the error class and the reason.
    Rejected(String, String),
}

/// The reports an input carries, of the kinds the store keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Found {
    /// DMARC aggregate reports.
    pub aggregate: Vec<ParsedReport>,
    /// SMTP TLS reports (RFC 8460).
    pub tls: Vec<ParsedTlsReport>,
}

impl Found {
    /// How many reports there are.
    pub fn len(&self) -> usize {
        self.aggregate.len() + self.tls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An input classified as ingest would: its container, its `Message-ID` (e-mail) and what it
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Classified {
    /// `xml`, `gzip`, `zip`, `email`, `json` or `other`.
    pub container: &'static str,
    /// The `Message-ID` of an e-mail, without angle brackets.
    pub message_id: Option<String>,
    /// Its reports, or why it has none.
    pub read: Read,
}

/// Decides what ingest would do with `bytes`, without a store: the same reading, the same
/// "not a report" and "rejected" classes. Never panics, whatever the input.
pub fn classify(bytes: &[u8], limits: &Limits) -> Classified {
    let (read, container) = read(bytes, limits);
    let message_id = if container == "email" {
        message_id(bytes)
    } else {
        None
    };
    Classified {
        container,
        message_id,
        read,
    }
}

/// Reads an input as aggregate and TLS reports (no I/O).
pub(crate) fn read(bytes: &[u8], limits: &Limits) -> (Read, &'static str) {
    let format = mailward_reports::detect_format(bytes);
    let container = match format {
        Ok(Format::Xml) => "xml",
        Ok(Format::Gzip) => "gzip",
        Ok(Format::Zip) => "zip",
        Ok(Format::Email) => "email",
        Ok(Format::Json) => "json",
        Ok(_) | Err(_) => "other",
    };
    let read = match mailward_reports::read_with(bytes, limits) {
        Ok(found) if !found.aggregate.is_empty() || !found.tls.is_empty() => Read::Reports(Found {
            aggregate: found.aggregate,
            tls: found.tls,
        }),
        Ok(_) => {
            Read::Skipped("a failure report; the store keeps aggregate and TLS reports".into())
        }
        // Not a TLS report the reader could read: JSON as this workspace writes aggregate
        // reports, else a TLS report broken beyond the reader's leniency (a missing
        // `report-id`, a negative count, a limit), rejected like any other broken report. JSON
        // that does not parse at all says nothing about what it was meant to be: skipped.
        Err(e) if container == "json" => match read_json(bytes, limits) {
            Read::Skipped(reason) if matches!(e, ReportError::Json { .. }) => Read::Skipped(reason),
            Read::Skipped(reason) => match classify_error(&e) {
                Read::Skipped(_) => Read::Skipped(reason),
                rejected => rejected,
            },
            other => other,
        },
        Err(e) => classify_error(&e),
    };
    (read, container)
}

fn classify_error(e: &ReportError) -> Read {
    match e {
        ReportError::Empty
        | ReportError::UnknownFormat(_)
        | ReportError::NotAReport { .. }
        | ReportError::NoReport(_) => Read::Skipped(format!("not a report: {e}")),
        // A failure notice without the facts to read: the store does not keep failure reports.
        ReportError::NotArf(_) => Read::Skipped(format!("a failure notice: {e}")),
        _ => Read::Rejected(e.kind(), mailward_types::Causes(e).to_string()),
    }
}

/// JSON inputs: a report as this workspace serialises it (`AggregateReport`, a
/// `ParsedReport`, a list of either, or the output of `mailward report parse --json`).
fn read_json(bytes: &[u8], limits: &Limits) -> Read {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Doc {
        Parsed(ParsedReport),
        Report(AggregateReport),
        Many(Vec<Self>),
        File { reports: Vec<ParsedReport> },
    }
    fn flatten(doc: Doc, out: &mut Vec<ParsedReport>) {
        match doc {
            Doc::Parsed(p) => out.push(p),
            Doc::Report(report) => out.push(ParsedReport {
                report,
                defects: Vec::new(),
                source: String::new(),
            }),
            Doc::Many(docs) => docs.into_iter().for_each(|d| flatten(d, out)),
            Doc::File { reports } => out.extend(reports),
        }
    }
    match serde_json::from_slice::<Doc>(bytes) {
        Ok(doc) => {
            let mut out = Vec::new();
            flatten(doc, &mut out);
            if out.is_empty() {
                return Read::Skipped("not a report: JSON without aggregate reports".into());
            }
            // The XML reader's record limit holds for JSON too (its size is bounded by the
            // input limit already).
            if out
                .iter()
                .any(|p| p.report.records.len() > limits.max_records)
            {
                let e = ReportError::Limit(mailward_reports::Limit::Records);
                return Read::Rejected(e.kind(), mailward_types::Causes(&e).to_string());
            }
            Read::Reports(Found {
                aggregate: out,
                tls: Vec::new(),
            })
        }
        Err(_) => Read::Skipped("not a report: JSON that is not an aggregate report".into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn message_id_from_raw_headers() {
        let m = b"From someone Mon Jan 1\nReceived: x\r\nMessage-ID:\r\n <abc@example.com>\r\nSubject: s\r\n\r\nMessage-ID: <body@x>";
        assert_eq!(message_id(m).as_deref(), Some("abc@example.com"));
        assert_eq!(message_id(b"Subject: s\r\n\r\nMessage-ID: <body@x>"), None);
        assert_eq!(
            message_id(b"message-id : <A@B>\n\n").as_deref(),
            Some("A@B")
        );
    }

    #[test]
    fn what_is_not_a_report() {
        let limits = Limits::default();
        for input in [
            &b""[..],
            b"hello world",
            b"<html><body>hi</body></html>",
            b"{\"organization\": \"x\"}",
            b"[1, 2]",
            b"From: a@example.com\r\nSubject: out of office\r\n\r\nI am away.\r\n",
        ] {
            let (r, _) = read(input, &limits);
            assert!(
                matches!(r, Read::Skipped(_)),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let (r, _) = read(b"<!DOCTYPE feedback><feedback/>", &limits);
        assert!(matches!(r, Read::Rejected(ref k, _) if k == "doctype"));
        // An SMTP TLS report without its report-id cannot be stored: rejected, to be read again
        // after a fix, as a broken aggregate report is.
        let (r, container) = read(br#"{"organization-name": "x", "policies": []}"#, &limits);
        assert_eq!(container, "json");
        assert!(
            matches!(r, Read::Rejected(ref k, _) if k == "missing_element"),
            "{r:?}"
        );
    }

    #[test]
    fn json_reports_obey_the_record_limit() {
        let xml = b"<feedback><report_metadata><org_name>o</org_name><email>e@o</email>\
            <report_id>1</report_id><date_range><begin>0</begin><end>1</end></date_range>\
            </report_metadata><policy_published><domain>example.com</domain><p>none</p>\
            </policy_published><record><row><source_ip>192.0.2.1</source_ip><count>1</count>\
            <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>\
            </policy_evaluated></row><identifiers><header_from>example.com</header_from>\
            </identifiers><auth_results/></record></feedback>";
        let parsed = mailward_reports::parse_xml(xml).unwrap();
        let json = serde_json::to_vec(&parsed).unwrap();
        let (r, container) = read(&json, &Limits::default());
        assert_eq!(container, "json");
        assert!(matches!(r, Read::Reports(ref v) if v.aggregate.len() == 1));
        let strict = Limits {
            max_records: 0,
            ..Limits::default()
        };
        let (r, _) = read(&json, &strict);
        assert!(matches!(r, Read::Rejected(ref k, _) if k == "limit:records"));
    }
}
