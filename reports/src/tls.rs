//! Sending MTAs send these reports to a Policy Domain that publishes a TLSRPT record
//! ([RFC 8460](https://www.rfc-editor.org/rfc/rfc8460)), one a day, with the sessions that did
//! and did not negotiate TLS as the domain's MTA-STS or DANE policy requires.
//!
//! - **Model**: [`TlsReport`] (serde, with RFC 8460's member names), token enums
//!   [`PolicyType`] and [`ResultType`] with an `Unknown(..)` variant, and [`ReportedIp`] for
//!   addresses that keeps text that is no address.
//! - **Reading**: [`parse_json`] / [`parse_json_with`], lenient and under [`Limits`]
//!   (described below).
//! - **Writing**: [`to_json`], [`gzip`], the §5.1 [`file_name`], the §5.3 [`subject`] and the
//!   whole report message [`to_email`]; deterministic, no clock.
//! - **Summarising**: [`TlsSummary`] folds many reports into totals per Policy Domain and
//!   failures per result type and MX host.
//! - [`rfc3339_to_unix`] converts the report's `date-time` strings.
//!
//! # Leniency
//!
//! The JSON is read straight from the token stream and each member is mapped by hand, so a
//! reporter's mistakes become [`Defect`](crate::Defect)s next to the report instead of
//! failures ([`DefectKind`](crate::DefectKind), path as `policies[1]/failure-details[2]/foo`
//! with 1-based indices):
//!
//! | Input | Read as | Defect |
//! |---|---|---|
//! | a member RFC 8460 does not define | skipped | `UnknownElement` |
//! | a member given twice in one object | the first | `DuplicateElement` |
//! | a required member left out (`organization-name`, `contact-info`, `policies`, `policy`, `policy-type`, `policy-domain`, `result-type`) | empty / `None` | `MissingElement` |
//! | a count as a string, `"303"` | the number | `NumberAsString` |
//! | a count as `303.0`; a number where a string belongs; a string or an object where an array belongs; `null`; another type that cannot be read (dropped) | converted | `JsonTypeMismatch` |
//! | `STS`, `Certificate-Expired` | lower-cased | `UpperCaseToken` |
//! | a `policy-type` or `result-type` RFC 8460 does not define | `Unknown(..)`, as written | `UnknownValue` |
//! | an address that is not IPv4 or IPv6 | [`ReportedIp::Unparsed`] | `UnparsableValue` |
//! | whitespace around an identifier, address, token, date or count | trimmed | `Whitespace` |
//! | a UTF-8 byte order mark | skipped | `ByteOrderMark` |
//! | content after the report object | ignored | `TrailingContent` |
//!
//! Free text (`organization-name`, `policy-string`, `additional-information`,
//! `failure-reason-code`) is kept exactly as written. What the report cannot mean anything
//! without is checked strictly: input that is not JSON, not an object or has neither
//! `organization-name` nor `policies`, and a missing or unusable `report-id`, date range or
//! session count are [`Error`](crate::Error)s (see [`parse_json_with`]).
//!
//! # Limits
//!
//! [`Limits::max_input_bytes`] is checked first; while reading, JSON nesting is bounded by
//! [`Limits::max_xml_depth`], every string and member name by [`Limits::max_string_len`], the
//! members of one object and the elements of one array by [`Limits::max_children`] (except
//! `policies` and `failure-details`), policies and failure details together by
//! [`Limits::max_records`], and defects by [`Limits::max_defects`]. Unknown members are
//! walked without being stored. Memory is proportional to the report read.
//!
//! # Examples
//!
//! ```
//! use mailward_reports::tls::{self, ResultType};
//!
//! let json = br#"{
//!   "organization-name": "Company-X",
//!   "date-range": {"start-datetime": "2016-04-01T00:00:00Z",
//!                  "end-datetime": "2016-04-01T23:59:59Z"},
//!   "contact-info": "sts-reporting@company-x.example",
//!   "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
//!   "policies": [{
//!     "policy": {"policy-type": "sts", "policy-domain": "company-y.example"},
//!     "summary": {"total-successful-session-count": 5326, "total-failure-session-count": 303},
//!     "failure-details": [{"result-type": "Certificate-Expired",
//!                          "receiving-mx-hostname": "mx1.mail.company-y.example",
//!                          "failed-session-count": 100}]
//!   }]
//! }"#;
//! let parsed = tls::parse_json(json)?;
//! let detail = &parsed.report.policies[0].failure_details[0];
//! assert_eq!(detail.result_type, Some(ResultType::CertificateExpired));
//! assert_eq!(parsed.defects[0].path, "policies[1]/failure-details[1]/result-type");
//! assert_eq!(parsed.report.date_range.start_unix(), Some(1_459_468_800));
//!
//! // What the writer produces reads back as the same report.
//! let again = tls::parse_json(tls::to_json(&parsed.report).as_bytes())?;
//! assert_eq!(again.report, parsed.report);
//! # Ok::<(), mailward_reports::Error>(())
//! ```
//!
// These docs are joined with the doc comment on `pub mod tls` in lib.rs, and rustdoc then
// resolves links from the crate root (where `file_name` is the aggregate report's), so the
// targets are spelled out.
//! [`TlsReport`]: crate::tls::TlsReport
//! [`PolicyType`]: crate::tls::PolicyType
//! [`ResultType`]: crate::tls::ResultType
//! [`ReportedIp`]: crate::tls::ReportedIp
//! [`ReportedIp::Unparsed`]: crate::tls::ReportedIp::Unparsed
//! [`parse_json`]: crate::tls::parse_json
//! [`parse_json_with`]: crate::tls::parse_json_with
//! [`to_json`]: crate::tls::to_json
//! [`gzip`]: crate::tls::gzip
//! [`file_name`]: crate::tls::file_name
//! [`subject`]: crate::tls::subject
//! [`to_email`]: crate::tls::to_email
//! [`TlsSummary`]: crate::tls::TlsSummary
//! [`rfc3339_to_unix`]: crate::tls::rfc3339_to_unix

mod datetime;
mod json;
mod model;
mod object;
mod read;
mod summary;
mod write;

#[cfg(doc)]
use crate::Limits;
pub use crate::write::gzip;
pub use datetime::rfc3339_to_unix;
pub use model::{
    FailureDetail, PolicyType, ReportedIp, ResultType, SessionCounts, TlsDateRange, TlsPolicy,
    TlsPolicyResult, TlsReport,
};
pub use read::{ParsedTlsReport, parse_json, parse_json_with};
pub use summary::{TlsDomainSummary, TlsFailureRow, TlsSummary};
pub use write::{TlsReportEmail, file_name, subject, to_email, to_json};
