//! The DMARC Policy Record: [RFC 9989 §4.7](https://www.rfc-editor.org/rfc/rfc9989#section-4.7)
//! (tags) and [§4.8](https://www.rfc-editor.org/rfc/rfc9989#section-4.8) (formal definition).
//!
//! ```abnf
//! dmarc-record  = dmarc-version *(dmarc-sep dmarc-tag) [dmarc-sep]
//! dmarc-version = "v" equals %s"DMARC1" ; case sensitive
//! dmarc-sep     = *WSP ";" *WSP
//! equals        = *WSP "=" *WSP
//! dmarc-tag     = 1*ALPHA equals 1*dmarc-value
//! dmarc-value   = %x20-3A / %x3C-7E
//! ```
//!
//! The parser is lenient where the RFC asks for leniency: "Unknown tags MUST be ignored.
//! Syntax errors in the remainder of the record MUST be discarded in favor of default values
//! (if any) or ignored outright" (§4.8). Only a missing, misplaced or wrong `v=DMARC1` makes
//! the whole text not a DMARC record. Everything that was ignored is reported as a
//! [`RecordWarning`].
//!
//! Tag names and keyword values are compared without case: RFC 5234 §2.3 makes quoted ABNF
//! strings case-insensitive, and only `DMARC1` is marked `%s` (case-sensitive).

mod parse;

use std::fmt;

use crate::uri::{MAX_REPORT_URIS, ReportUri};

/// Most tag-specs looked at in one record; the rest is ignored with a warning. Mirrors
/// `mailward_types::tag_list::MAX_TAGS` (RFC 9989 registers 13 tags).
pub const MAX_RECORD_TAGS: usize = mailward_types::tag_list::MAX_TAGS;

/// A Domain Owner Assessment Policy value (`dmarc-request`, RFC 9989 §4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum RequestedPolicy {
    /// `none`: no expression of preference.
    None,
    /// `quarantine`: failing mail is suspicious.
    Quarantine,
    /// `reject`: failing mail is a clear indication the use of the domain is not valid.
    Reject,
}

impl RequestedPolicy {
    /// The RFC token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }

    /// One level below: what `t=y` asks for (RFC 9989 §4.7 `t`), and what RFC 7489 §6.6.4
    /// applies to messages not sampled by `pct`.
    pub fn one_level_lower(self) -> Self {
        match self {
            Self::Reject => Self::Quarantine,
            Self::Quarantine | Self::None => Self::None,
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [Self::None, Self::Quarantine, Self::Reject]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(value))
    }
}

impl fmt::Display for RequestedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifier Alignment mode (`dmarc-rors`, RFC 9989 §4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum AlignmentMode {
    /// `r`: same Organizational Domain (the default).
    #[default]
    Relaxed,
    /// `s`: identical domains.
    Strict,
}

impl AlignmentMode {
    /// The RFC token, `r` or `s`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relaxed => "r",
            Self::Strict => "s",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "r" | "R" => Some(Self::Relaxed),
            "s" | "S" => Some(Self::Strict),
            _ => None,
        }
    }
}

impl fmt::Display for AlignmentMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Relaxed => "relaxed",
            Self::Strict => "strict",
        })
    }
}

/// The `psd` flag (`dmarc-psd`, RFC 9989 §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PsdFlag {
    /// `y`: the domain is a Public Suffix Domain.
    Yes,
    /// `n`: not a PSD, and the Organizational Domain for itself and its subdomains.
    No,
    /// `u`: not a PSD, may or may not be an Organizational Domain (the default).
    #[default]
    Unknown,
}

impl PsdFlag {
    /// The RFC token, `y`, `n` or `u`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "y",
            Self::No => "n",
            Self::Unknown => "u",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "y" | "Y" => Some(Self::Yes),
            "n" | "N" => Some(Self::No),
            "u" | "U" => Some(Self::Unknown),
            _ => None,
        }
    }
}

/// Failure reporting options, the `fo` tag (`dmarc-fo`, RFC 9989 §4.8).
///
/// The tightened ABNF allows `0` or `1` (never both) and each of `d` and `s` at most once, in
/// any order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FailureOptions {
    /// `0` (report when all mechanisms fail to produce an aligned pass) or `1` (when any
    /// does); `None` when neither was given.
    pub any: Option<bool>,
    /// `d`: DKIM failure reports.
    pub dkim: bool,
    /// `s`: SPF failure reports.
    pub spf: bool,
}

impl FailureOptions {
    fn parse(value: &str) -> Option<Self> {
        let mut fo = Self::default();
        for token in value.split(':') {
            match token {
                "0" | "1" if fo.any.is_none() => fo.any = Some(token == "1"),
                "d" | "D" if !fo.dkim => fo.dkim = true,
                "s" | "S" if !fo.spf => fo.spf = true,
                _ => return None,
            }
        }
        Some(fo)
    }
}

impl fmt::Display for FailureOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<&str> = Vec::new();
        match self.any {
            Some(true) => parts.push("1"),
            Some(false) => parts.push("0"),
            None => {}
        }
        if self.dkim {
            parts.push("d");
        }
        if self.spf {
            parts.push("s");
        }
        if parts.is_empty() {
            // Not reachable from the parser; "0" is the RFC default.
            parts.push("0");
        }
        f.write_str(&parts.join(":"))
    }
}

/// A policy tag (`p`, `sp`, `np`) as found in the record.
///
/// The distinction between absent and invalid matters: RFC 9989 §4.10.1 treats a record with
/// an invalid `sp` or `np` like one without a valid `p`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "lowercase", tag = "state", content = "value")
)]
pub enum PolicyValue {
    /// The tag is not in the record.
    #[default]
    Absent,
    /// A valid `dmarc-request`.
    Valid(RequestedPolicy),
    /// The tag is present with this (trimmed, possibly empty) value that is not a
    /// `dmarc-request`.
    Invalid(String),
}

impl PolicyValue {
    /// The policy if valid.
    pub fn valid(&self) -> Option<RequestedPolicy> {
        match self {
            Self::Valid(p) => Some(*p),
            _ => None,
        }
    }

    fn is_invalid(&self) -> bool {
        matches!(self, Self::Invalid(_))
    }
}

/// A tag from the registry that RFC 9989 removed (RFC 9989 Appendix C.5.2), kept as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum LegacyTag {
    /// `pct` (RFC 7489 §6.3): 0 to 100.
    Pct(u8),
    /// `rf` (RFC 7489 §6.3): colon-separated report format keywords, lower-cased.
    Rf(Vec<String>),
    /// `ri` (RFC 7489 §6.3): aggregate report interval in seconds.
    Ri(u32),
}

/// A tag that is not in the DMARC Tags registry, ignored as RFC 9989 §4.7 requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct UnknownTag {
    /// Tag name as written.
    pub name: String,
    /// Value as written (outer whitespace trimmed).
    pub value: String,
}

/// A parsed DMARC Policy Record.
///
/// Fields hold what the record says (`None` = tag absent or invalid); the accessor methods
/// apply the RFC defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DmarcRecord {
    /// `p`: the Domain Owner Assessment Policy.
    pub p: PolicyValue,
    /// `sp`: policy for existing subdomains.
    pub sp: PolicyValue,
    /// `np`: policy for non-existent subdomains.
    pub np: PolicyValue,
    /// `psd`: Public Suffix Domain flag.
    pub psd: Option<PsdFlag>,
    /// `t`: testing mode.
    pub t: Option<bool>,
    /// `adkim`: DKIM alignment mode.
    pub adkim: Option<AlignmentMode>,
    /// `aspf`: SPF alignment mode.
    pub aspf: Option<AlignmentMode>,
    /// `fo`: failure reporting options.
    pub fo: Option<FailureOptions>,
    /// `rua`: the syntactically valid aggregate report URIs, in order.
    pub rua: Vec<ReportUri>,
    /// `ruf`: the syntactically valid failure report URIs, in order.
    pub ruf: Vec<ReportUri>,
    /// RFC 7489 tags removed by RFC 9989 (`pct`, `rf`, `ri`), in canonical order.
    pub legacy: Vec<LegacyTag>,
    /// Tags outside the registry, in input order.
    pub unknown: Vec<UnknownTag>,
}

/// Why a TXT record is not a DMARC Policy Record at all (RFC 9989 §4.7 `v`: "If the tag is not
/// the first in the list, the tag is absent, or the value is not "DMARC1", then the entire
/// record MUST be ignored").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotDmarcRecord {
    /// The first tag-spec is not `v=...`.
    #[error("the record does not start with a v tag")]
    NoVersion,
    /// `v` is first but its value is not exactly `DMARC1`.
    #[error("the v tag is not \"DMARC1\"")]
    WrongVersion,
}

/// Something in a record that was ignored or is worth telling the Domain Owner about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "kind"))]
#[non_exhaustive]
pub enum RecordWarning {
    /// A tag-spec that is not `name=value` (or has octets outside `dmarc-value`); ignored.
    Syntax {
        /// Byte offset of the tag-spec in the record.
        offset: usize,
        /// The offending text.
        text: String,
    },
    /// A known tag with a value its rule does not allow; ignored (default used).
    InvalidValue {
        /// Tag name.
        tag: String,
        /// The value.
        value: String,
    },
    /// A tag given twice; the first one is used.
    DuplicateTag {
        /// Tag name.
        tag: String,
    },
    /// A tag outside the registry (RFC 9989 §4.7: "unknown tags MUST be ignored").
    UnknownTag {
        /// Tag name.
        tag: String,
    },
    /// `pct`, `rf` or `ri`: removed by RFC 9989 (Appendix C.5.2), only used in PSL mode.
    RemovedTag {
        /// Tag name.
        tag: String,
    },
    /// A `rua`/`ruf` entry that is not a valid URI; dropped.
    InvalidUri {
        /// Tag name.
        tag: String,
        /// The entry.
        uri: String,
    },
    /// The obsolete `!size` suffix on a URI (RFC 9989 §4.8 `obs-dmarc-uri`); ignored.
    ObsoleteSizeLimit {
        /// Tag name.
        tag: String,
        /// The URI with its suffix.
        uri: String,
    },
    /// More than [`MAX_REPORT_URIS`] URIs in one list; the rest is dropped.
    TooManyUris {
        /// Tag name.
        tag: String,
    },
    /// More than [`MAX_RECORD_TAGS`] tag-specs; the rest is ignored.
    TooManyTags,
    /// `fo` without `ruf`: "This tag's content MUST be ignored" (RFC 9989 §4.7).
    FoWithoutRuf,
    /// `ruf` in a `psd=y` record: "DMARC Policy Records for multi-organizational PSDs MUST NOT
    /// include the "ruf" tag" (RFC 9989 §10.2).
    RufOnPsd,
    /// `p` absent or invalid, or `sp`/`np` invalid: with a valid `rua` the record acts as
    /// `p=none`, without one it does not apply (RFC 9989 §4.10.1).
    UnusablePolicy {
        /// Whether the record still applies (as `p=none`).
        acts_as_none: bool,
    },
}

impl fmt::Display for RecordWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { offset, text } => {
                write!(f, "syntax error at offset {offset}: {text:?} ignored")
            }
            Self::InvalidValue { tag, value } => {
                write!(f, "invalid value {value:?} for tag {tag}: ignored")
            }
            Self::DuplicateTag { tag } => write!(f, "duplicate tag {tag}: first one used"),
            Self::UnknownTag { tag } => write!(f, "unknown tag {tag}: ignored"),
            Self::RemovedTag { tag } => write!(
                f,
                "tag {tag} was removed by RFC 9989 (RFC 7489 only; used in PSL mode)"
            ),
            Self::InvalidUri { tag, uri } => write!(f, "invalid URI {uri:?} in {tag}: dropped"),
            Self::ObsoleteSizeLimit { tag, uri } => {
                write!(f, "obsolete size limit in {tag} URI {uri:?}: ignored")
            }
            Self::TooManyUris { tag } => {
                write!(f, "more than {MAX_REPORT_URIS} URIs in {tag}: rest dropped")
            }
            Self::TooManyTags => write!(f, "more than {MAX_RECORD_TAGS} tags: rest ignored"),
            Self::FoWithoutRuf => f.write_str("fo without ruf is ignored"),
            Self::RufOnPsd => f.write_str(
                "ruf in a psd=y record: multi-organizational PSDs must not request failure reports",
            ),
            Self::UnusablePolicy { acts_as_none: true } => f.write_str(
                "p missing or invalid (or sp/np invalid): treated as p=none because rua is valid",
            ),
            Self::UnusablePolicy {
                acts_as_none: false,
            } => f.write_str(
                "p missing or invalid (or sp/np invalid) and no valid rua: the record does not apply",
            ),
        }
    }
}

/// The policies a record stands for after RFC 9989 §4.10.1's fallbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Policies {
    /// For the domain itself.
    pub p: RequestedPolicy,
    /// For existing subdomains (`sp`, else `p`).
    pub sp: RequestedPolicy,
    /// For non-existent subdomains (`np`, else `sp`, else `p`).
    pub np: RequestedPolicy,
    /// Whether the record was unusable and is applied as `p=none` because of a valid `rua`.
    pub forced_none: bool,
}

impl DmarcRecord {
    /// The policies this record stands for, or `None` when it does not apply (RFC 9989
    /// §4.10.1: "If a retrieved DMARC Policy Record does not contain a valid "p" tag, or
    /// contains an "sp" or "np" tag that is not valid, then: If a "rua" tag is present and
    /// contains at least one syntactically valid reporting URI, the Mail Receiver MUST act as
    /// if a record containing "p=none" was retrieved [...] Otherwise, the Mail Receiver applies
    /// no DMARC processing").
    pub fn policies(&self) -> Option<Policies> {
        match (&self.p, self.sp.is_invalid() || self.np.is_invalid()) {
            (PolicyValue::Valid(p), false) => {
                let sp = self.sp.valid().unwrap_or(*p);
                let np = self.np.valid().unwrap_or(sp);
                Some(Policies {
                    p: *p,
                    sp,
                    np,
                    forced_none: false,
                })
            }
            _ if !self.rua.is_empty() => Some(Policies {
                p: RequestedPolicy::None,
                sp: RequestedPolicy::None,
                np: RequestedPolicy::None,
                forced_none: true,
            }),
            _ => None,
        }
    }

    /// `adkim`, default relaxed.
    pub fn adkim(&self) -> AlignmentMode {
        self.adkim.unwrap_or_default()
    }

    /// `aspf`, default relaxed.
    pub fn aspf(&self) -> AlignmentMode {
        self.aspf.unwrap_or_default()
    }

    /// `psd`, default `u`.
    pub fn psd(&self) -> PsdFlag {
        self.psd.unwrap_or_default()
    }

    /// `t=y`: test mode.
    pub fn testing(&self) -> bool {
        self.t.unwrap_or(false)
    }

    /// `fo`, ignored without `ruf` (RFC 9989 §4.7), default `0`.
    pub fn failure_options(&self) -> FailureOptions {
        match self.fo {
            Some(fo) if !self.ruf.is_empty() => fo,
            _ => FailureOptions {
                any: Some(false),
                dkim: false,
                spf: false,
            },
        }
    }

    /// `pct` (RFC 7489), default 100.
    pub fn pct(&self) -> u8 {
        self.legacy
            .iter()
            .find_map(|t| match t {
                LegacyTag::Pct(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(100)
    }
}

impl fmt::Display for DmarcRecord {
    /// The canonical text: `v=DMARC1`, then the tags present in registry order, `"; "`
    /// separated, unknown tags last.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=DMARC1")?;
        for (name, value) in [("p", &self.p), ("sp", &self.sp), ("np", &self.np)] {
            match value {
                PolicyValue::Absent => {}
                PolicyValue::Valid(p) => write!(f, "; {name}={p}")?,
                PolicyValue::Invalid(raw) => write!(f, "; {name}={raw}")?,
            }
        }
        if let Some(psd) = self.psd {
            write!(f, "; psd={}", psd.as_str())?;
        }
        if let Some(t) = self.t {
            write!(f, "; t={}", if t { "y" } else { "n" })?;
        }
        if let Some(m) = self.adkim {
            write!(f, "; adkim={}", m.as_str())?;
        }
        if let Some(m) = self.aspf {
            write!(f, "; aspf={}", m.as_str())?;
        }
        if let Some(fo) = self.fo {
            write!(f, "; fo={fo}")?;
        }
        for (name, list) in [("rua", &self.rua), ("ruf", &self.ruf)] {
            if !list.is_empty() {
                let joined: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, "; {name}={}", joined.join(","))?;
            }
        }
        for t in &self.legacy {
            match t {
                LegacyTag::Pct(n) => write!(f, "; pct={n}")?,
                LegacyTag::Rf(k) => write!(f, "; rf={}", k.join(":"))?,
                LegacyTag::Ri(n) => write!(f, "; ri={n}")?,
            }
        }
        for t in &self.unknown {
            write!(f, "; {}={}", t.name, t.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (DmarcRecord, Vec<RecordWarning>) {
        DmarcRecord::parse_with_warnings(s.as_bytes()).unwrap()
    }

    #[test]
    fn missing_or_invalid_p() {
        let (r, w) = parse("v=DMARC1; rua=mailto:a@example.com");
        let p = r.policies().unwrap();
        assert!(p.forced_none);
        assert_eq!(p.p, RequestedPolicy::None);
        assert!(w.contains(&RecordWarning::UnusablePolicy { acts_as_none: true }));
        let (r, _) = parse("v=DMARC1; p=bogus");
        assert_eq!(r.policies(), None);
        let (r, _) = parse("v=DMARC1; p=reject; sp=bogus");
        assert_eq!(r.policies(), None);
        let (r, _) = parse("v=DMARC1; p=reject; np=bogus; rua=mailto:a@example.com");
        assert_eq!(r.policies().map(|p| p.np), Some(RequestedPolicy::None));
        // rua present but without a single valid URI does not rescue the record
        let (r, _) = parse("v=DMARC1; p=bogus; rua=not a uri");
        assert_eq!(r.policies(), None);
    }

    #[test]
    fn np_sp_p_fallback() {
        let (r, _) = parse("v=DMARC1; p=reject");
        let p = r.policies().unwrap();
        assert_eq!(
            (p.sp, p.np),
            (RequestedPolicy::Reject, RequestedPolicy::Reject)
        );
        let (r, _) = parse("v=DMARC1; p=reject; sp=quarantine");
        let p = r.policies().unwrap();
        assert_eq!(
            (p.sp, p.np),
            (RequestedPolicy::Quarantine, RequestedPolicy::Quarantine)
        );
        let (r, _) = parse("v=DMARC1; p=reject; np=none");
        let p = r.policies().unwrap();
        assert_eq!(
            (p.sp, p.np),
            (RequestedPolicy::Reject, RequestedPolicy::None)
        );
    }

    #[test]
    fn display_is_canonical() {
        let (r, _) =
            parse("v=DMARC1;ruf=mailto:f@example.com;  fo=s:1; aspf=s;t=n;P=REJECT;x=1;pct=50");
        assert_eq!(
            r.to_string(),
            "v=DMARC1; p=reject; t=n; aspf=s; fo=1:s; ruf=mailto:f@example.com; pct=50; x=1"
        );
        assert_eq!(DmarcRecord::parse(r.to_string().as_bytes()).unwrap(), r);
    }
}
