//! The aggregate report model shared by both XML schemas.
//!
//! One set of types covers the RFC 9990 schema (`urn:ietf:params:xml:ns:dmarc-2.0`) and the
//! RFC 7489 Appendix C schema (no namespace, or `http://dmarc.org/dmarc-xml/0.1`); the
//! [`Schema`] a report used is recorded in [`AggregateReport::schema`]. Elements one schema has
//! and the other lacks are optional here (`np`, `testing`, `discovery_method`, `generator` come
//! from RFC 9990; `pct` and several SPF results come from RFC 7489).
//!
//! Token values (results, dispositions, reasons) are enums with an `Unknown` variant that keeps a
//! value neither schema defines, as received, so nothing is silently rewritten.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The RFC 9990 namespace, `urn:ietf:params:xml:ns:dmarc-2.0` (RFC 9990 §6.1).
pub const NAMESPACE_RFC9990: &str = "urn:ietf:params:xml:ns:dmarc-2.0";
/// The namespace some RFC 7489 reporters declared, `http://dmarc.org/dmarc-xml/0.1`.
pub const NAMESPACE_DMARC_ORG: &str = "http://dmarc.org/dmarc-xml/0.1";

/// Which report schema a document used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Schema {
    /// [RFC 9990](https://www.rfc-editor.org/rfc/rfc9990#appendix-A): the
    /// `urn:ietf:params:xml:ns:dmarc-2.0` namespace.
    Rfc9990,
    /// [RFC 7489 Appendix C](https://www.rfc-editor.org/rfc/rfc7489#appendix-C): no namespace
    /// or `http://dmarc.org/dmarc-xml/0.1`.
    Rfc7489,
}

/// A DMARC aggregate report ([RFC 9990 §3.1](https://www.rfc-editor.org/rfc/rfc9990#section-3.1)).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AggregateReport {
    /// The schema the document used (decided by the root element's namespace).
    pub schema: Schema,
    /// The `version` element, as written (RFC 9990: "MUST have the value 1.0").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `report_metadata`.
    pub report_metadata: ReportMetadata,
    /// `policy_published`.
    pub policy_published: PolicyPublished,
    /// Children of the top-level `extension` element (RFC 9990 §3.1.1.6); `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Vec<XmlElement>>,
    /// The `record` elements, in document order.
    pub records: Vec<Record>,
}

/// Report generator metadata (RFC 9990 §3.1.1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReportMetadata {
    /// `org_name`: the Reporting Organization.
    pub org_name: String,
    /// `email`: contact of the Reporting Organization.
    pub email: String,
    /// `extra_contact_info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_contact_info: Option<String>,
    /// `report_id` (RFC 9990 §3.5.1).
    pub report_id: String,
    /// `date_range`.
    pub date_range: DateRange,
    /// `error` elements (at most one in RFC 9990, unbounded in RFC 7489).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// `generator` (RFC 9990 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
}

/// The reporting period in seconds since the epoch, UTC (RFC 9990 §3.1.1.4).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct DateRange {
    /// Start of the period.
    pub begin: u64,
    /// End of the period.
    pub end: u64,
}

/// The published policy observed by the receiver (RFC 9990 §3.1.1.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyPublished {
    /// `domain`: the DMARC Policy Domain.
    pub domain: String,
    /// `discovery_method` (RFC 9990 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_method: Option<DiscoveryMethod>,
    /// `p` (required by both schemas; `None` when a reporter left it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<ReportedPolicy>,
    /// `sp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp: Option<ReportedPolicy>,
    /// `np` (RFC 9990 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub np: Option<ReportedPolicy>,
    /// `adkim`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adkim: Option<Alignment>,
    /// `aspf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspf: Option<Alignment>,
    /// `pct` (RFC 7489 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct: Option<u8>,
    /// `fo`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fo: Option<String>,
    /// `testing`: the `t` tag (RFC 9990 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testing: Option<Testing>,
}

/// One `record` (RFC 9990 §3.1.1.7).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Record {
    /// `row`.
    pub row: Row,
    /// `identifiers`.
    pub identifiers: Identifiers,
    /// `auth_results`.
    pub auth_results: AuthResults,
    /// Namespaced extension elements at the end of the record (RFC 9990 §3.1.1.7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<XmlElement>,
}

/// `row`: the connecting system and the policy evaluated (RFC 9990 §3.1.1.8).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Row {
    /// `source_ip`.
    pub source_ip: IpAddr,
    /// `count`: the number of messages.
    pub count: u64,
    /// `policy_evaluated`.
    pub policy_evaluated: PolicyEvaluated,
}

impl Default for Row {
    fn default() -> Self {
        Self {
            source_ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            count: 0,
            policy_evaluated: PolicyEvaluated::default(),
        }
    }
}

/// `policy_evaluated` (RFC 9990 §3.1.1.9). The three results are required by both schemas and
/// are `None` only when a reporter left them out.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyEvaluated {
    /// `disposition`: the action applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<ActionDisposition>,
    /// `dkim`: the DMARC-aligned DKIM result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim: Option<AlignedResult>,
    /// `spf`: the DMARC-aligned SPF result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<AlignedResult>,
    /// `reason` elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<PolicyOverrideReason>,
}

/// `reason`: a policy override (RFC 9990 §3.1.6).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyOverrideReason {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: PolicyOverride,
    /// `comment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `identifiers` (RFC 9990 §3.1.1.10).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identifiers {
    /// `header_from`: the RFC5322.From domain.
    pub header_from: String,
    /// `envelope_from`: the RFC5321.MailFrom domain (may be empty for null senders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_from: Option<String>,
    /// `envelope_to`: the envelope recipient domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_to: Option<String>,
}

/// `auth_results`: raw DKIM and SPF results (RFC 9990 §3.1.1.11).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AuthResults {
    /// `dkim` elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dkim: Vec<DkimAuthResult>,
    /// `spf` elements (at most one in RFC 9990; RFC 7489 allowed several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spf: Vec<SpfAuthResult>,
}

/// One DKIM signature's result (RFC 9990 §3.1.1.12).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DkimAuthResult {
    /// `domain`: the `d=` tag.
    pub domain: String,
    /// `selector`: the `s=` tag (required by RFC 9990, optional in RFC 7489).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// `result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<DkimResult>,
    /// `human_result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_result: Option<String>,
}

/// The SPF result (RFC 9990 §3.1.1.13).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SpfAuthResult {
    /// `domain`: the checked domain.
    pub domain: String,
    /// `scope` (`mfrom`; RFC 7489 also had `helo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<SpfScope>,
    /// `result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ReportedSpfResult>,
    /// `human_result` (RFC 9990 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_result: Option<String>,
}

/// An extension element kept as a small tree (RFC 9990 §3.1.1.6: "These elements MUST be
/// namespaced").
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct XmlElement {
    /// The element name as written, prefix included (`ext:thing`).
    pub name: String,
    /// Attributes as written (namespace declarations included), in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<(String, String)>,
    /// Character data directly inside the element (trimmed; concatenated when interleaved with
    /// children).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Child elements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Self>,
}

macro_rules! token_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $token:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        ///
        /// Serialised as its token; a value no schema defines is kept in `Unknown`.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value neither schema defines, kept as received (after trimming).
            Unknown(String),
        }

        impl $name {
            /// Every defined variant, for tests and generators.
            pub const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];

            /// The token as written in XML.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $token, )+
                    Self::Unknown(s) => s,
                }
            }

            /// Maps a token (exact, case-sensitive) to its variant; anything else is `Unknown`.
            pub fn from_token(token: &str) -> Self {
                match token {
                    $( $token => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// Whether this is one of the defined values.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl $crate::model::Token for $name {
            fn from_token(token: &str) -> Self {
                Self::from_token(token)
            }

            fn is_known(&self) -> bool {
                Self::is_known(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_token(&s))
            }
        }
    };
}

pub(crate) use token_enum;

/// The token enums of [`token_enum!`], for readers generic over them.
pub(crate) trait Token: Sized {
    /// As the inherent `from_token`.
    fn from_token(token: &str) -> Self;
    /// As the inherent `is_known`.
    fn is_known(&self) -> bool;
}

token_enum! {
    /// A Domain Owner Assessment Policy as a report states it: `p`, `sp`, `np`
    /// (`DispositionType`). Not what was done to the messages ([`ActionDisposition`]), nor
    /// `mailward-dmarc`'s `Disposition` (the outcome of evaluating one message).
    ReportedPolicy {
        /// `none`
        None = "none",
        /// `quarantine`
        Quarantine = "quarantine",
        /// `reject`
        Reject = "reject",
    }
}

token_enum! {
    /// The action applied to messages (`ActionDispositionType`; `pass` is RFC 9990 only).
    ActionDisposition {
        /// `none`: no action taken.
        None = "none",
        /// `pass`: no action, passing DMARC with an enforcing policy (RFC 9990).
        Pass = "pass",
        /// `quarantine`
        Quarantine = "quarantine",
        /// `reject`
        Reject = "reject",
    }
}

token_enum! {
    /// Identifier alignment mode (`AlignmentType`).
    Alignment {
        /// `r`: relaxed.
        Relaxed = "r",
        /// `s`: strict.
        Strict = "s",
    }
}

token_enum! {
    /// How the policy record was found (`DiscoveryType`, RFC 9990).
    DiscoveryMethod {
        /// `psl`: the RFC 7489 Public Suffix List method.
        Psl = "psl",
        /// `treewalk`: the RFC 9989 DNS tree walk.
        Treewalk = "treewalk",
    }
}

token_enum! {
    /// The `t` tag of the policy record (`TestingType`, RFC 9990).
    Testing {
        /// `n`
        No = "n",
        /// `y`
        Yes = "y",
    }
}

token_enum! {
    /// The DMARC-aligned result of one mechanism as a report states it, `policy_evaluated`'s
    /// `dkim` and `spf` (`DMARCResultType`): whether DKIM or SPF passed with an identifier
    /// aligned to the From domain. Not the DMARC result of a message (`mailward-dmarc`'s
    /// `DmarcResult`, which also has `none`, `temperror`, `permerror`).
    AlignedResult {
        /// `pass`
        Pass = "pass",
        /// `fail`
        Fail = "fail",
    }
}

token_enum! {
    /// Policy override type (`PolicyOverrideType`, both schemas' values).
    PolicyOverride {
        /// `local_policy`
        LocalPolicy = "local_policy",
        /// `mailing_list`
        MailingList = "mailing_list",
        /// `other`
        Other = "other",
        /// `policy_test_mode` (RFC 9990).
        PolicyTestMode = "policy_test_mode",
        /// `trusted_forwarder`
        TrustedForwarder = "trusted_forwarder",
        /// `forwarded` (RFC 7489).
        Forwarded = "forwarded",
        /// `sampled_out` (RFC 7489).
        SampledOut = "sampled_out",
    }
}

token_enum! {
    /// A DKIM verification result (`DKIMResultType`, RFC 8601 §2.7.1).
    DkimResult {
        /// `none`
        None = "none",
        /// `pass`
        Pass = "pass",
        /// `fail`
        Fail = "fail",
        /// `policy`
        Policy = "policy",
        /// `neutral`
        Neutral = "neutral",
        /// `temperror`
        TempError = "temperror",
        /// `permerror`
        PermError = "permerror",
    }
}

token_enum! {
    /// An SPF result as a report states it, `auth_results/spf/result` (`SPFResultType`,
    /// RFC 8601 §2.7.2), kept as written (`policy` and unknown values included). Not
    /// `mailward-spf`'s `SpfResult`, the result of an SPF evaluation.
    ReportedSpfResult {
        /// `none`
        None = "none",
        /// `pass`
        Pass = "pass",
        /// `fail`
        Fail = "fail",
        /// `softfail`
        SoftFail = "softfail",
        /// `policy`
        Policy = "policy",
        /// `neutral`
        Neutral = "neutral",
        /// `temperror`
        TempError = "temperror",
        /// `permerror`
        PermError = "permerror",
    }
}

token_enum! {
    /// The SPF identity checked (`SPFDomainScope`).
    SpfScope {
        /// `mfrom`: RFC5321.MailFrom.
        MailFrom = "mfrom",
        /// `helo` (RFC 7489 only).
        Helo = "helo",
    }
}

/// The old name of [`ReportedPolicy`], which reads like `mailward-dmarc`'s `Disposition`.
#[deprecated(note = "renamed to `ReportedPolicy`")]
pub type Disposition = ReportedPolicy;

/// The old name of [`AlignedResult`], which reads like `mailward-dmarc`'s `DmarcResult`.
#[deprecated(note = "renamed to `AlignedResult`")]
pub type DmarcResult = AlignedResult;

/// The old name of [`ReportedSpfResult`], which reads like `mailward-spf`'s `SpfResult`.
#[deprecated(note = "renamed to `ReportedSpfResult`")]
pub type SpfResult = ReportedSpfResult;

impl AggregateReport {
    /// Total number of messages over all records (saturating).
    pub fn message_count(&self) -> u64 {
        self.records
            .iter()
            .fold(0u64, |acc, r| acc.saturating_add(r.row.count))
    }
}

impl Record {
    /// A reverse DNS name of the source that the reporter included, as a record extension whose
    /// name contains `reverse`, `ptr` or `hostname` (no schema defines one; some reporters add
    /// it). Empty text counts as absent.
    pub fn reported_reverse_name(&self) -> Option<&str> {
        self.extensions
            .iter()
            .find(|e| {
                let n = e.name.to_ascii_lowercase();
                n.contains("reverse") || n.contains("ptr") || n.contains("hostname")
            })
            .map(|e| e.text.trim())
            .filter(|t| !t.is_empty())
    }
}

/// `domain/selector=result`, `-` for what is missing (how the CLI and exports list signatures).
impl std::fmt::Display for DkimAuthResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}={}",
            self.domain,
            self.selector.as_deref().unwrap_or("-"),
            self.result.as_ref().map_or("-", DkimResult::as_str)
        )
    }
}

/// `domain=result`, `-` for a missing result.
impl std::fmt::Display for SpfAuthResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}={}",
            self.domain,
            self.result.as_ref().map_or("-", ReportedSpfResult::as_str)
        )
    }
}
