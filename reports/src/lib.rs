#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aggregator;
mod arf;
mod charset;
mod defects;
mod error;
mod from_dmarc;
mod input;
mod model;
mod read;
mod recover;
mod summary;
/// SMTP TLS Reporting (RFC 8460): JSON reports about MTA-STS and DANE sessions.
pub mod tls;
mod unpack;
mod write;

pub use aggregator::{Aggregator, MessageOutcome, Reporter};
pub use arf::{
    AuthFailure, DeliveryResult, FailureReport, FailureReportInput, IdentityAlignment, MAX_FIELDS,
    NoticeKind, Redaction, failure_notice_kind, generate_failure_report, parse_failure_report,
    parse_failure_report_with,
};
pub use error::{Cause, Defect, DefectKind, Error, Limit, Limits};
pub use input::{Reports, read, read_with};
pub use model::*;
pub use read::{ParsedReport, parse_xml, parse_xml_with};
pub use summary::{
    DomainSummary, MAX_REMEMBERED_REPORT_IDS, ReportIdentity, SourceSummary, Summary, SummaryRow,
    Verdict, policy_domain, ratio, reporter_label,
};
#[expect(deprecated, reason = "the old name stays for one release")]
pub use unpack::unwrap_documents;
pub use unpack::{Format, detect_format, parse, parse_with, unpack_documents};
pub use write::{ReportEmail, file_name, gzip, is_ridtxt, subject, to_email, to_xml};
