//! The SMTP TLS report model ([RFC 8460 §4](https://www.rfc-editor.org/rfc/rfc8460#section-4)).
//!
//! Field names are the Rust forms of the RFC's JSON member names, and serde writes the
//! members exactly as the RFC spells them (`organization-name`, `total-failure-session-count`).
//! The derived `Deserialize` is strict and meant for reading back this crate's own output; the
//! lenient reader for reports from strangers is [`parse_json_with`](super::parse_json_with).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::datetime::rfc3339_to_unix;
use crate::model::token_enum;

/// An SMTP TLS report
/// ([RFC 8460 §4.5](https://www.rfc-editor.org/rfc/rfc8460#section-4.5)).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsReport {
    /// `organization-name`: the organization responsible for the report (empty when a reporter
    /// left it out).
    pub organization_name: String,
    /// `date-range`: the period the report covers.
    pub date_range: TlsDateRange,
    /// `contact-info`: contact address of the reporting organization (required by RFC 8460;
    /// `None` when a reporter left it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<String>,
    /// `report-id`: unique identifier chosen by the reporter.
    pub report_id: String,
    /// `policies`: one entry per policy the Sending MTA applied.
    pub policies: Vec<TlsPolicyResult>,
}

/// `date-range`: two RFC 3339 `date-time` strings
/// ([RFC 8460 §4.5](https://www.rfc-editor.org/rfc/rfc8460#section-4.5); §4.2: "The report
/// SHOULD cover a full day, from 00:00-24:00 UTC").
///
/// The strings are kept as written (a reporter's time zone offset and fraction of a second
/// are part of what it said); [`TlsDateRange::start_unix`] and [`TlsDateRange::end_unix`]
/// convert them.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsDateRange {
    /// `start-datetime`.
    pub start_datetime: String,
    /// `end-datetime`.
    pub end_datetime: String,
}

impl TlsDateRange {
    /// `start-datetime` in seconds since the epoch, or `None` if it is not an RFC 3339
    /// `date-time` (the reader rejects such reports, so this is `Some` for parsed reports).
    pub fn start_unix(&self) -> Option<i64> {
        rfc3339_to_unix(&self.start_datetime)
    }

    /// `end-datetime` in seconds since the epoch (see [`TlsDateRange::start_unix`]).
    pub fn end_unix(&self) -> Option<i64> {
        rfc3339_to_unix(&self.end_datetime)
    }
}

/// One element of `policies`: a policy, its session counts and its failures.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsPolicyResult {
    /// `policy`.
    pub policy: TlsPolicy,
    /// `summary`.
    pub summary: SessionCounts,
    /// `failure-details` (left out of the JSON when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failure_details: Vec<FailureDetail>,
}

/// `policy`: the policy the Sending MTA applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TlsPolicy {
    /// `policy-type` (required by RFC 8460; `None` when a reporter left it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<PolicyType>,
    /// `policy-string`: the policy as applied, one string per line of an MTA-STS policy or per
    /// TLSA record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_string: Vec<String>,
    /// `policy-domain`: the Policy Domain (empty when a reporter left it out).
    pub policy_domain: String,
    /// `mx-host`: the MX host patterns of the policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx_host: Vec<String>,
}

/// `summary`: session totals for one policy
/// ([RFC 8460 §4.3](https://www.rfc-editor.org/rfc/rfc8460#section-4.3)).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub struct SessionCounts {
    /// `total-successful-session-count`: sessions that negotiated a policy-compliant TLS
    /// connection.
    pub total_successful_session_count: u64,
    /// `total-failure-session-count`: sessions that did not.
    pub total_failure_session_count: u64,
}

/// One element of `failure-details`.
///
/// Only `result-type` and `failed-session-count` are read as required; RFC 8460 marks
/// `receiving-mx-helo` and `additional-information` optional, and reporters leave out the
/// addresses and host names that do not apply (an `sts-policy-fetch-error` involves no MX).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FailureDetail {
    /// `result-type` (`None` when a reporter left it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// `sending-mta-ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_mta_ip: Option<ReportedIp>,
    /// `receiving-mx-hostname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_hostname: Option<String>,
    /// `receiving-mx-helo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_helo: Option<String>,
    /// `receiving-ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_ip: Option<ReportedIp>,
    /// `failed-session-count`.
    pub failed_session_count: u64,
    /// `additional-information`: a URI with more about the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    /// `failure-reason-code`: a TLS error code or message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason_code: Option<String>,
}

/// An IP address member (`sending-mta-ip`, `receiving-ip`).
///
/// Reporters are supposed to write an IPv4 address in dot-decimal or an IPv6 address in
/// RFC 5952 form; what does not parse as either (a zone index, a port, a host name) is kept as
/// text in [`ReportedIp::Unparsed`] rather than dropped, and the reader records a
/// [`DefectKind::UnparsableValue`](crate::DefectKind::UnparsableValue). Both variants are
/// written as a JSON string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportedIp {
    /// A valid IPv4 or IPv6 address.
    Addr(IpAddr),
    /// Text that is not an IP address, as received (after trimming).
    Unparsed(String),
}

impl ReportedIp {
    /// Parses `text` (exactly, without trimming); anything that is not an address is kept in
    /// [`ReportedIp::Unparsed`].
    pub fn from_text(text: &str) -> Self {
        match text.parse() {
            Ok(ip) => Self::Addr(ip),
            Err(_) => Self::Unparsed(text.to_owned()),
        }
    }

    /// The address, if it is one.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Self::Addr(ip) => Some(*ip),
            Self::Unparsed(_) => None,
        }
    }
}

impl From<IpAddr> for ReportedIp {
    fn from(ip: IpAddr) -> Self {
        Self::Addr(ip)
    }
}

/// The address in its standard text form (RFC 5952 for IPv6), or the unparsed text.
impl fmt::Display for ReportedIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr(ip) => ip.fmt(f),
            Self::Unparsed(text) => f.write_str(text),
        }
    }
}

impl Serialize for ReportedIp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReportedIp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::from_text(&text))
    }
}

token_enum! {
    /// `policy-type`: the kind of policy applied
    /// ([RFC 8460 §4.5](https://www.rfc-editor.org/rfc/rfc8460#section-4.5)).
    PolicyType {
        /// `tlsa`: a DANE TLSA record set (RFC 6698, RFC 7672).
        Tlsa = "tlsa",
        /// `sts`: an MTA-STS policy (RFC 8461).
        Sts = "sts",
        /// `no-policy-found`: neither was found.
        NoPolicyFound = "no-policy-found",
    }
}

token_enum! {
    /// `result-type`: why sessions failed
    /// ([RFC 8460 §4.4](https://www.rfc-editor.org/rfc/rfc8460#section-4.4); the IANA "STARTTLS
    /// Validation Result Types" registry).
    ResultType {
        /// `starttls-not-supported`: the MX did not offer STARTTLS (§4.4.1).
        StarttlsNotSupported = "starttls-not-supported",
        /// `certificate-host-mismatch`: the certificate does not match the host (§4.4.1).
        CertificateHostMismatch = "certificate-host-mismatch",
        /// `certificate-expired` (§4.4.1).
        CertificateExpired = "certificate-expired",
        /// `certificate-not-trusted`: untrusted CA, chain errors and the like (§4.4.1).
        CertificateNotTrusted = "certificate-not-trusted",
        /// `validation-failure`: any other negotiation failure (§4.4.1, §4.4.3).
        ValidationFailure = "validation-failure",
        /// `tlsa-invalid`: no record of the TLSA RRset was valid (§4.4.2.1).
        TlsaInvalid = "tlsa-invalid",
        /// `dnssec-invalid`: no valid records came back from the resolver (§4.4.2.1).
        DnssecInvalid = "dnssec-invalid",
        /// `dane-required`: DANE was required but the MX had no DNSSEC-valid TLSA records
        /// (§4.4.2.1).
        DaneRequired = "dane-required",
        /// `sts-policy-fetch-error`: the MTA-STS policy could not be fetched (§4.4.2.2).
        StsPolicyFetchError = "sts-policy-fetch-error",
        /// `sts-policy-invalid`: the MTA-STS policy did not validate (§4.4.2.2).
        StsPolicyInvalid = "sts-policy-invalid",
        /// `sts-webpki-invalid`: the MTA-STS policy host failed PKIX validation (§4.4.2.2).
        StsWebpkiInvalid = "sts-webpki-invalid",
    }
}

impl TlsReport {
    /// The Policy Domain the report is about: the first non-empty `policy-domain` (a report
    /// is sent per Policy Domain, so every policy normally names the same one).
    pub fn policy_domain(&self) -> Option<&str> {
        self.policies
            .iter()
            .map(|p| p.policy.policy_domain.as_str())
            .find(|d| !d.is_empty())
    }

    /// `total-successful-session-count` over all policies (saturating).
    pub fn successful_sessions(&self) -> u64 {
        self.policies.iter().fold(0u64, |acc, p| {
            acc.saturating_add(p.summary.total_successful_session_count)
        })
    }

    /// `total-failure-session-count` over all policies (saturating).
    pub fn failed_sessions(&self) -> u64 {
        self.policies.iter().fold(0u64, |acc, p| {
            acc.saturating_add(p.summary.total_failure_session_count)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    #[test]
    fn member_names_are_the_rfc_ones() {
        let detail = FailureDetail {
            result_type: Some(ResultType::DaneRequired),
            receiving_mx_helo: Some("mx".into()),
            failed_session_count: 2,
            ..FailureDetail::default()
        };
        let json = serde_json::to_string(&detail).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"result-type":"dane-required","receiving-mx-helo":"mx","failed-session-count":2}"#
        );
    }

    #[test]
    fn reported_ip_keeps_what_does_not_parse() {
        assert_eq!(
            ReportedIp::from_text("2001:db8:abcd:0012::1"),
            ReportedIp::Addr(IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 0xabcd, 0x12, 0, 0, 0, 1
            )))
        );
        // Rust's parser, like RFC 3986's dec-octet, refuses leading zeros.
        assert_eq!(
            ReportedIp::from_text("192.0.2.01"),
            ReportedIp::Unparsed("192.0.2.01".into())
        );
        assert_eq!(
            ReportedIp::from_text("fe80::1%eth0").to_string(),
            "fe80::1%eth0"
        );
        assert_eq!(
            ReportedIp::from_text("192.0.2.1")
                .as_ip()
                .map(|i| i.is_ipv4()),
            Some(true)
        );
    }

    #[test]
    fn totals_saturate() {
        let policy = |s, f| TlsPolicyResult {
            summary: SessionCounts {
                total_successful_session_count: s,
                total_failure_session_count: f,
            },
            ..TlsPolicyResult::default()
        };
        let report = TlsReport {
            policies: vec![policy(u64::MAX, 1), policy(1, 2)],
            ..TlsReport::default()
        };
        assert_eq!(report.successful_sessions(), u64::MAX);
        assert_eq!(report.failed_sessions(), 3);
        assert_eq!(report.policy_domain(), None);
    }
}
