//! One entry point for everything a report mailbox receives: DMARC aggregate reports, SMTP TLS
//! reports and DMARC failure reports, in any container.

use serde::{Deserialize, Serialize};

use crate::arf::{FailureReport, NoticeKind, failure_notice_kind, parse_failure_report_with};
use crate::error::{Error, Limits};
use crate::read::ParsedReport;
use crate::tls::ParsedTlsReport;
use crate::unpack::{Format, detect_format, walk};

/// The reports found in one input (a file or a message).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reports {
    /// DMARC aggregate reports, each with its defects and where it was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregate: Vec<ParsedReport>,
    /// SMTP TLS reports (RFC 8460).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<ParsedTlsReport>,
    /// A DMARC failure report (the input is the report message itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReport>,
}

impl Reports {
    /// How many reports were found.
    pub fn len(&self) -> usize {
        self.aggregate.len() + self.tls.len() + usize::from(self.failure.is_some())
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads every report in `input` with the default [`Limits`]: see [`read_with`].
///
/// # Errors
///
/// As [`read_with`].
pub fn read(input: &[u8]) -> Result<Reports, Error> {
    read_with(input, &Limits::default())
}

/// Reads every report in `input`: aggregate reports (XML, gzip, zip), SMTP TLS reports (JSON,
/// gzip) and failure reports, plain or in an e-mail with any number of parts.
///
/// A message is read as a failure report when it has the ARF structure (a
/// `message/feedback-report` part); otherwise its aggregate and TLS report attachments are
/// returned; and when it has none, a message that presents itself as a DMARC failure report
/// in its Subject or text ([`failure_notice_kind`]) is read from its text.
///
/// # Errors
///
/// [`Error::NoReport`] for a message or archive without any report (a bounce, a newsletter),
/// [`Error::NotArf`] for a failure notice that carries too few facts to read, and every error
/// of the readers ([`crate::parse_with`], [`crate::tls::parse_json_with`],
/// [`parse_failure_report_with`]) for a report that is broken beyond their leniency.
///
/// # Examples
///
/// ```
/// let json = br#"{"organization-name": "Company-X", "date-range": {
///   "start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"},
///   "contact-info": "sts-reporting@company-x.example", "report-id": "5065427c-23d3",
///   "policies": [{"policy": {"policy-type": "sts", "policy-domain": "company-y.example"},
///   "summary": {"total-successful-session-count": 5326, "total-failure-session-count": 303}}]}"#;
/// let found = mailward_reports::read(json)?;
/// assert_eq!(found.tls.len(), 1);
/// assert!(found.aggregate.is_empty());
/// # Ok::<(), mailward_reports::Error>(())
/// ```
pub fn read_with(input: &[u8], limits: &Limits) -> Result<Reports, Error> {
    if !matches!(detect_format(input), Ok(Format::Email)) {
        return found(input, limits);
    }
    let kind = failure_notice_kind(input);
    if kind == NoticeKind::Arf {
        return Ok(Reports {
            failure: Some(parse_failure_report_with(input, limits)?),
            ..Reports::default()
        });
    }
    match found(input, limits) {
        Err(Error::NoReport(_)) if kind.is_candidate() => Ok(Reports {
            failure: Some(parse_failure_report_with(input, limits)?),
            ..Reports::default()
        }),
        other => other,
    }
}

/// The aggregate and TLS reports in `input`.
fn found(input: &[u8], limits: &Limits) -> Result<Reports, Error> {
    let mut walked = walk(input, limits, true)?;
    for report in &mut walked.aggregate {
        report
            .defects
            .extend(walked.wrapper_defects.iter().cloned());
    }
    for report in &mut walked.tls {
        report
            .defects
            .extend(walked.wrapper_defects.iter().cloned());
    }
    let reports = Reports {
        aggregate: walked.aggregate,
        tls: walked.tls,
        failure: None,
    };
    if reports.is_empty() {
        return Err(Error::NoReport("input".into()));
    }
    Ok(reports)
}
