//! The SMTP TLS report reader: the report objects of RFC 8460 §4.5, read member by member.

use serde::de::{DeserializeSeed, MapAccess};

use super::datetime::rfc3339_to_unix;
use super::json::{At, CountSeed, Cx, Path, Text, TextListSeed};
use super::model::{
    FailureDetail, PolicyType, ResultType, SessionCounts, TlsDateRange, TlsPolicy, TlsPolicyResult,
    TlsReport,
};
use super::object::{
    ListSeed, MAX_MEMBERS, Object, ObjectSeed, WrongType, expect_present, ip, missing,
    missing_error, required, text, token,
};
use crate::error::{Cause, Defect, DefectKind, Error, Limit, Limits};

/// An SMTP TLS report together with the defects the reader tolerated (the counterpart of
/// [`ParsedReport`](crate::ParsedReport)).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParsedTlsReport {
    /// The report.
    pub report: TlsReport,
    /// Defects found, in document order (see [`DefectKind`]).
    pub defects: Vec<Defect>,
    /// Where the report was found inside its input, as in [`ParsedReport::source`]
    /// (`gzip`, ...); empty for plain JSON.
    ///
    /// [`ParsedReport::source`]: crate::ParsedReport::source
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// Parses one SMTP TLS report from JSON bytes with the default [`Limits`].
///
/// # Errors
///
/// As [`parse_json_with`].
///
/// # Examples
///
/// ```
/// let json = br#"{"organization-name": "Company-X",
///   "date-range": {"start-datetime": "2016-04-01T00:00:00Z",
///                  "end-datetime": "2016-04-01T23:59:59Z"},
///   "contact-info": "sts-reporting@company-x.example", "report-id": "r-1",
///   "policies": [{"policy": {"policy-type": "no-policy-found", "policy-domain": "example.net"},
///                 "summary": {"total-successful-session-count": 10,
///                             "total-failure-session-count": "0"}}]}"#;
/// let parsed = mailward_reports::tls::parse_json(json).unwrap();
/// assert_eq!(parsed.report.policy_domain(), Some("example.net"));
/// assert_eq!(parsed.report.successful_sessions(), 10);
/// // The count written as a string is read, and reported.
/// assert_eq!(parsed.defects[0].kind, mailward_reports::DefectKind::NumberAsString);
/// ```
pub fn parse_json(json: &[u8]) -> Result<ParsedTlsReport, Error> {
    parse_json_with(json, &Limits::default())
}

/// Parses one SMTP TLS report from JSON bytes (UTF-8, I-JSON as RFC 8460 §4 asks) with
/// explicit limits.
///
/// The reader is lenient in the way the aggregate XML reader is: what a reporter got wrong but
/// left readable is read and returned as a [`Defect`] (see the [module](super) documentation
/// for the list). It is strict where the report would otherwise mean something else: the
/// `report-id`, the date range and every session count must be usable.
///
/// # Errors
///
/// - [`Error::Empty`] for empty or all-whitespace input;
/// - [`Error::Json`] for input that is not JSON (or not UTF-8), [`Error::Truncated`] for JSON
///   that ends early;
/// - [`Error::UnknownFormat`] for JSON that is not an SMTP TLS report: a top-level value
///   that is not an object, or an object with neither `organization-name` nor `policies`;
/// - [`Error::MissingElement`] when `report-id`, `date-range` or one of its members, a
///   `summary`, one of its counts, or a `failed-session-count` is missing;
/// - [`Error::InvalidValue`] when one of those is unusable: an empty `report-id`, a date that
///   is not RFC 3339, a count that is negative, fractional, too large or not a number;
/// - [`Error::Limit`] for [`Limits::max_input_bytes`], [`Limits::max_xml_depth`] (JSON
///   nesting), [`Limits::max_string_len`], [`Limits::max_children`] (members of one object,
///   elements of one array other than `policies` and `failure-details`) and
///   [`Limits::max_records`] (policies and failure details together).
pub fn parse_json_with(json: &[u8], limits: &Limits) -> Result<ParsedTlsReport, Error> {
    if u64::try_from(json.len()).unwrap_or(u64::MAX) > limits.max_input_bytes {
        return Err(Error::Limit(Limit::InputSize));
    }
    let mut cx = Cx::new(limits);
    let body = match json.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            cx.defect(DefectKind::ByteOrderMark, Path::Root, None);
            rest
        }
        None => json,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Empty);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let root = At {
        cx: &mut cx,
        path: Path::Root,
        depth: 1,
    };
    let seed = ObjectSeed::<ReportBuilder>::new(root, WrongType::UnknownFormat);
    let report = match seed.deserialize(&mut de) {
        Ok(Some(report)) => report,
        // The root seed fails rather than returning `None`.
        Ok(None) => return Err(Error::UnknownFormat("not an SMTP TLS report".into())),
        Err(e) => return Err(cx.fatal.take().unwrap_or_else(|| json_error(e))),
    };
    if de.end().is_err() {
        cx.defect(DefectKind::TrailingContent, Path::Root, None);
    }
    Ok(ParsedTlsReport {
        report,
        defects: cx.defects.finish(),
        source: String::new(),
    })
}

/// serde_json's syntax errors as this crate's: end of input is [`Error::Truncated`] (in words
/// of ours: where the JSON ends is all serde_json's error says), its recursion limit (128,
/// reached only when [`Limits::max_xml_depth`] is set higher) is [`Limit::XmlDepth`], anything
/// else [`Error::Json`] with serde_json's error as the source.
fn json_error(e: serde_json::Error) -> Error {
    if e.to_string().starts_with("recursion limit exceeded") {
        return Error::Limit(Limit::XmlDepth);
    }
    if e.is_eof() {
        return Error::Truncated(format!(
            "JSON ends at line {}, column {}",
            e.line(),
            e.column()
        ));
    }
    Error::Json {
        line: e.line(),
        column: e.column(),
        source: Cause::new(e),
    }
}

// `ObjectSeed` tracks duplicates for at most `MAX_MEMBERS` members.
const _: () = assert!(
    ReportBuilder::MEMBERS.len() <= MAX_MEMBERS
        && DateRangeBuilder::MEMBERS.len() <= MAX_MEMBERS
        && PolicyResultBuilder::MEMBERS.len() <= MAX_MEMBERS
        && PolicyBuilder::MEMBERS.len() <= MAX_MEMBERS
        && SummaryBuilder::MEMBERS.len() <= MAX_MEMBERS
        && DetailBuilder::MEMBERS.len() <= MAX_MEMBERS
);

/// The top-level object.
#[derive(Default)]
struct ReportBuilder {
    organization_name: Option<String>,
    date_range: Option<TlsDateRange>,
    contact_info: Option<String>,
    report_id: Option<String>,
    policies: Option<Vec<TlsPolicyResult>>,
}

impl Object for ReportBuilder {
    const MEMBERS: &'static [&'static str] = &[
        "organization-name",
        "date-range",
        "contact-info",
        "report-id",
        "policies",
    ];
    type Output = TlsReport;

    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error> {
        match index {
            0 => self.organization_name = text(map, at, Text::Verbatim, false)?,
            1 => {
                let seed = ObjectSeed::<DateRangeBuilder>::new(at, WrongType::Invalid);
                self.date_range = map.next_value_seed(seed)?;
            }
            2 => self.contact_info = text(map, at, Text::Trimmed, false)?,
            3 => self.report_id = text(map, at, Text::Trimmed, true)?,
            _ => {
                let seed = ListSeed::<PolicyResultBuilder>::new(at);
                self.policies = Some(map.next_value_seed(seed)?);
            }
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx<'_>, path: Path<'_>) -> Result<TlsReport, Error> {
        if self.organization_name.is_none() && self.policies.is_none() {
            return Err(Error::UnknownFormat(
                "a JSON object with neither organization-name nor policies, not an SMTP TLS \
                 report"
                    .into(),
            ));
        }
        let report_id = required(path, "report-id", self.report_id)?;
        if report_id.is_empty() {
            return Err(Error::InvalidValue {
                path: "report-id".into(),
                value: report_id,
            });
        }
        let date_range = required(path, "date-range", self.date_range)?;
        Ok(TlsReport {
            organization_name: missing(cx, path, "organization-name", self.organization_name),
            date_range,
            contact_info: {
                expect_present(cx, path, "contact-info", &self.contact_info);
                self.contact_info
            },
            report_id,
            policies: missing(cx, path, "policies", self.policies),
        })
    }
}

/// `date-range`.
#[derive(Default)]
struct DateRangeBuilder {
    start_datetime: Option<String>,
    end_datetime: Option<String>,
}

impl Object for DateRangeBuilder {
    const MEMBERS: &'static [&'static str] = &["start-datetime", "end-datetime"];
    type Output = TlsDateRange;

    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error> {
        let value = text(map, at, Text::Trimmed, true)?;
        if index == 0 {
            self.start_datetime = value;
        } else {
            self.end_datetime = value;
        }
        Ok(())
    }

    fn finish(self, _: &mut Cx<'_>, path: Path<'_>) -> Result<TlsDateRange, Error> {
        let date = |name: &str, value: Option<String>| {
            let value = required(path, name, value)?;
            if rfc3339_to_unix(&value).is_none() {
                return Err(Error::InvalidValue {
                    path: Path::Member(&path, name).to_string(),
                    value: crate::error::clip(&value),
                });
            }
            Ok(value)
        };
        Ok(TlsDateRange {
            start_datetime: date("start-datetime", self.start_datetime)?,
            end_datetime: date("end-datetime", self.end_datetime)?,
        })
    }
}

/// One element of `policies`.
#[derive(Default)]
struct PolicyResultBuilder {
    policy: Option<TlsPolicy>,
    summary: Option<SessionCounts>,
    failure_details: Vec<FailureDetail>,
}

impl Object for PolicyResultBuilder {
    const MEMBERS: &'static [&'static str] = &["policy", "summary", "failure-details"];
    type Output = TlsPolicyResult;

    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error> {
        match index {
            0 => {
                let seed = ObjectSeed::<PolicyBuilder>::new(at, WrongType::Defect);
                self.policy = map.next_value_seed(seed)?;
            }
            1 => {
                let seed = ObjectSeed::<SummaryBuilder>::new(at, WrongType::Invalid);
                self.summary = map.next_value_seed(seed)?;
            }
            _ => {
                let seed = ListSeed::<DetailBuilder>::new(at);
                self.failure_details = map.next_value_seed(seed)?;
            }
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx<'_>, path: Path<'_>) -> Result<TlsPolicyResult, Error> {
        Ok(TlsPolicyResult {
            summary: required(path, "summary", self.summary)?,
            policy: missing(cx, path, "policy", self.policy),
            failure_details: self.failure_details,
        })
    }
}

/// `policy`.
#[derive(Default)]
struct PolicyBuilder {
    policy_type: Option<PolicyType>,
    policy_string: Vec<String>,
    policy_domain: Option<String>,
    mx_host: Vec<String>,
}

impl Object for PolicyBuilder {
    const MEMBERS: &'static [&'static str] =
        &["policy-type", "policy-string", "policy-domain", "mx-host"];
    type Output = TlsPolicy;

    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error> {
        match index {
            0 => {
                self.policy_type = token(map, at, PolicyType::from_token, PolicyType::is_known)?;
            }
            1 => {
                let mode = Text::Verbatim;
                self.policy_string = map.next_value_seed(TextListSeed { at, mode })?;
            }
            2 => self.policy_domain = text(map, at, Text::Trimmed, false)?,
            _ => {
                let mode = Text::Trimmed;
                self.mx_host = map.next_value_seed(TextListSeed { at, mode })?;
            }
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx<'_>, path: Path<'_>) -> Result<TlsPolicy, Error> {
        expect_present(cx, path, "policy-type", &self.policy_type);
        Ok(TlsPolicy {
            policy_type: self.policy_type,
            policy_string: self.policy_string,
            policy_domain: missing(cx, path, "policy-domain", self.policy_domain),
            mx_host: self.mx_host,
        })
    }
}

/// `summary`.
#[derive(Default)]
struct SummaryBuilder {
    successful: Option<u64>,
    failed: Option<u64>,
}

impl Object for SummaryBuilder {
    const MEMBERS: &'static [&'static str] = &[
        "total-successful-session-count",
        "total-failure-session-count",
    ];
    type Output = SessionCounts;

    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error> {
        let count = Some(map.next_value_seed(CountSeed { at })?);
        if index == 0 {
            self.successful = count;
        } else {
            self.failed = count;
        }
        Ok(())
    }

    fn finish(self, _: &mut Cx<'_>, path: Path<'_>) -> Result<SessionCounts, Error> {
        Ok(SessionCounts {
            total_successful_session_count: required(
                path,
                "total-successful-session-count",
                self.successful,
            )?,
            total_failure_session_count: required(
                path,
                "total-failure-session-count",
                self.failed,
            )?,
        })
    }
}

/// One element of `failure-details`.
#[derive(Default)]
struct DetailBuilder {
    detail: FailureDetail,
    failed_session_count: bool,
}

impl Object for DetailBuilder {
    const MEMBERS: &'static [&'static str] = &[
        "result-type",
        "sending-mta-ip",
        "receiving-mx-hostname",
        "receiving-mx-helo",
        "receiving-ip",
        "failed-session-count",
        "additional-information",
        "failure-reason-code",
    ];
    type Output = FailureDetail;

    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error> {
        let d = &mut self.detail;
        match index {
            0 => d.result_type = token(map, at, ResultType::from_token, ResultType::is_known)?,
            1 => d.sending_mta_ip = ip(map, at)?,
            2 => d.receiving_mx_hostname = text(map, at, Text::Trimmed, false)?,
            3 => d.receiving_mx_helo = text(map, at, Text::Trimmed, false)?,
            4 => d.receiving_ip = ip(map, at)?,
            5 => {
                d.failed_session_count = map.next_value_seed(CountSeed { at })?;
                self.failed_session_count = true;
            }
            6 => d.additional_information = text(map, at, Text::Verbatim, false)?,
            _ => d.failure_reason_code = text(map, at, Text::Verbatim, false)?,
        }
        Ok(())
    }

    fn finish(self, cx: &mut Cx<'_>, path: Path<'_>) -> Result<FailureDetail, Error> {
        if !self.failed_session_count {
            return Err(missing_error(path, "failed-session-count"));
        }
        expect_present(cx, path, "result-type", &self.detail.result_type);
        Ok(self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(json: &str) -> Error {
        match parse_json(json.as_bytes()) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn json_errors_are_located() {
        let e = error_of("{\"organization-name\": \"x\",\n  \"policies\": [,]}");
        let Error::Json {
            line,
            column,
            ref source,
        } = e
        else {
            panic!("not a JSON error: {e:?}");
        };
        assert_eq!((line, column), (2, 16));
        // serde_json's message is the source's, not repeated in ours.
        assert!(source.to_string().starts_with("expected value"), "{source}");
        assert_eq!(e.to_string(), "malformed JSON at line 2, column 16");
        assert!(matches!(error_of("{\"policies\": ["), Error::Truncated(_)));
    }

    #[test]
    fn paths_render_one_based() {
        let root = Path::Root;
        let policies = Path::Member(&root, "policies");
        let second = Path::Index(&policies, 1);
        let details = Path::Member(&second, "failure-details");
        let third = Path::Index(&details, 2);
        let foo = Path::Member(&third, "foo");
        assert_eq!(foo.to_string(), "policies[2]/failure-details[3]/foo");
        assert_eq!(policies.to_string(), "policies");
        assert_eq!(root.to_string(), "");
    }
}
