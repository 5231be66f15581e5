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

use std::fmt;

use mailward_types::tag_list::{TagList, TagListOptions};

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
    /// Parses the text of a TXT record (its strings already concatenated, RFC 9989 §4.5).
    ///
    /// # Errors
    ///
    /// [`NotDmarcRecord`] when the text does not start with `v=DMARC1`; any other problem is
    /// ignored as RFC 9989 §4.8 requires (see [`DmarcRecord::parse_with_warnings`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use mailward_dmarc::record::{DmarcRecord, RequestedPolicy};
    ///
    /// let r = DmarcRecord::parse(b"v=DMARC1; p=reject; rua=mailto:d@example.com")?;
    /// assert_eq!(r.p.valid(), Some(RequestedPolicy::Reject));
    /// assert_eq!(r.to_string(), "v=DMARC1; p=reject; rua=mailto:d@example.com");
    /// # Ok::<(), mailward_dmarc::record::NotDmarcRecord>(())
    /// ```
    pub fn parse(text: &[u8]) -> Result<Self, NotDmarcRecord> {
        Self::parse_with_warnings(text).map(|(r, _)| r)
    }

    /// Whether the text starts with `v=DMARC1` (the filter of RFC 9989 §4.10 step 2).
    pub fn is_dmarc(text: &[u8]) -> bool {
        check_version(&String::from_utf8_lossy(text)).is_ok()
    }

    /// Parses like [`DmarcRecord::parse`] and also returns everything that was ignored.
    ///
    /// # Errors
    ///
    /// [`NotDmarcRecord`] when the text does not start with `v=DMARC1`.
    pub fn parse_with_warnings(text: &[u8]) -> Result<(Self, Vec<RecordWarning>), NotDmarcRecord> {
        let text = String::from_utf8_lossy(text);
        let rest_offset = check_version(&text)?;
        let rest = text.get(rest_offset..).unwrap_or("");
        let mut parser = Parser::default();
        let mut offset = rest_offset;
        for (count, spec) in rest.split(';').enumerate() {
            let spec_offset = offset;
            offset += spec.len() + 1;
            if count > MAX_RECORD_TAGS {
                parser.warnings.push(RecordWarning::TooManyTags);
                break;
            }
            if spec.trim_matches(is_wsp).is_empty() {
                // `dmarc-sep` allows a final ";"; receivers also tolerate ";;".
                continue;
            }
            parser.spec(spec, spec_offset);
        }
        let Parser {
            mut record,
            mut warnings,
            ..
        } = parser;
        if record.fo.is_some() && record.ruf.is_empty() {
            warnings.push(RecordWarning::FoWithoutRuf);
        }
        if record.psd == Some(PsdFlag::Yes) && !record.ruf.is_empty() {
            warnings.push(RecordWarning::RufOnPsd);
        }
        match record.policies() {
            Some(p) if p.forced_none => {
                warnings.push(RecordWarning::UnusablePolicy { acts_as_none: true })
            }
            Some(_) => {}
            None => warnings.push(RecordWarning::UnusablePolicy {
                acts_as_none: false,
            }),
        }
        record.legacy.sort_by_key(legacy_rank);
        Ok((record, warnings))
    }

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

fn legacy_rank(t: &LegacyTag) -> u8 {
    match t {
        LegacyTag::Pct(_) => 0,
        LegacyTag::Rf(_) => 1,
        LegacyTag::Ri(_) => 2,
    }
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Checks `dmarc-version` and returns the offset just after it (at the `;` or the end).
fn check_version(text: &str) -> Result<usize, NotDmarcRecord> {
    let first_len = text.find(';').unwrap_or(text.len());
    let first = text.get(..first_len).unwrap_or("");
    let Some((name, value)) = first.split_once('=') else {
        return Err(NotDmarcRecord::NoVersion);
    };
    // Leading whitespace is tolerated (receivers trim TXT data); the ABNF has none.
    if !name.trim_matches(is_wsp).eq_ignore_ascii_case("v") {
        return Err(NotDmarcRecord::NoVersion);
    }
    if value.trim_matches(is_wsp) != "DMARC1" {
        return Err(NotDmarcRecord::WrongVersion);
    }
    Ok(first_len)
}

#[derive(Default)]
struct Parser {
    record: DmarcRecord,
    warnings: Vec<RecordWarning>,
    seen: Vec<String>,
}

impl Parser {
    fn spec(&mut self, spec: &str, offset: usize) {
        let syntax = |w: &mut Vec<RecordWarning>| {
            w.push(RecordWarning::Syntax {
                offset,
                text: spec.trim_matches(is_wsp).to_owned(),
            });
        };
        let Ok(list) = TagList::parse_with(spec, TagListOptions::lenient()) else {
            syntax(&mut self.warnings);
            return;
        };
        let [tag] = list.tags() else {
            syntax(&mut self.warnings);
            return;
        };
        let name = tag.name.to_ascii_lowercase();
        let value = tag.value;
        // `dmarc-tag = 1*ALPHA equals 1*dmarc-value`; `dmarc-value` has no CR/LF. An empty
        // policy tag is still a tag "that is not valid" (§4.10.1: "does not contain a valid
        // "p" tag, or contains an "sp" or "np" tag that is not valid"), not an absent one: it
        // is kept below as `PolicyValue::Invalid("")`.
        let policy_tag = matches!(name.as_str(), "p" | "sp" | "np");
        if (value.is_empty() && !policy_tag)
            || !name.bytes().all(|b| b.is_ascii_alphabetic())
            || value.bytes().any(|b| b == b'\r' || b == b'\n')
        {
            syntax(&mut self.warnings);
            return;
        }
        if self.seen.contains(&name) {
            self.warnings
                .push(RecordWarning::DuplicateTag { tag: name.clone() });
            return;
        }
        self.seen.push(name.clone());
        let invalid = |w: &mut Vec<RecordWarning>| {
            w.push(RecordWarning::InvalidValue {
                tag: name.clone(),
                value: value.to_owned(),
            });
        };
        let r = &mut self.record;
        match name.as_str() {
            "p" | "sp" | "np" => {
                let parsed = match RequestedPolicy::parse(value) {
                    Some(p) => PolicyValue::Valid(p),
                    None => {
                        invalid(&mut self.warnings);
                        PolicyValue::Invalid(value.to_owned())
                    }
                };
                match name.as_str() {
                    "p" => r.p = parsed,
                    "sp" => r.sp = parsed,
                    _ => r.np = parsed,
                }
            }
            "psd" => match PsdFlag::parse(value) {
                Some(v) => r.psd = Some(v),
                None => invalid(&mut self.warnings),
            },
            "t" => match value {
                "y" | "Y" => r.t = Some(true),
                "n" | "N" => r.t = Some(false),
                _ => invalid(&mut self.warnings),
            },
            "adkim" | "aspf" => match AlignmentMode::parse(value) {
                Some(m) if name == "adkim" => r.adkim = Some(m),
                Some(m) => r.aspf = Some(m),
                None => invalid(&mut self.warnings),
            },
            "fo" => match FailureOptions::parse(value) {
                Some(fo) => r.fo = Some(fo),
                None => invalid(&mut self.warnings),
            },
            "rua" | "ruf" => {
                let uris = parse_uri_list(&name, value, &mut self.warnings);
                if name == "rua" {
                    r.rua = uris;
                } else {
                    r.ruf = uris;
                }
            }
            "pct" => {
                self.warnings
                    .push(RecordWarning::RemovedTag { tag: name.clone() });
                match value.parse::<u8>() {
                    Ok(n) if n <= 100 && value.bytes().all(|b| b.is_ascii_digit()) => {
                        r.legacy.push(LegacyTag::Pct(n));
                    }
                    _ => invalid(&mut self.warnings),
                }
            }
            "ri" => {
                self.warnings
                    .push(RecordWarning::RemovedTag { tag: name.clone() });
                match value.parse::<u32>() {
                    Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => {
                        r.legacy.push(LegacyTag::Ri(n));
                    }
                    _ => invalid(&mut self.warnings),
                }
            }
            "rf" => {
                self.warnings
                    .push(RecordWarning::RemovedTag { tag: name.clone() });
                // RFC 7489 §6.4: `dmarc-rfmt = Keyword *(*WSP ":" Keyword)`.
                let keywords: Vec<String> = value
                    .split(':')
                    .map(|k| k.trim_matches(is_wsp).to_ascii_lowercase())
                    .collect();
                if keywords.iter().all(|k| is_keyword(k)) {
                    r.legacy.push(LegacyTag::Rf(keywords));
                } else {
                    invalid(&mut self.warnings);
                }
            }
            "v" => self
                .warnings
                .push(RecordWarning::DuplicateTag { tag: name }),
            _ => {
                self.warnings
                    .push(RecordWarning::UnknownTag { tag: name.clone() });
                r.unknown.push(UnknownTag {
                    name: tag.name.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
    }
}

/// RFC 5321 `Keyword = Ldh-str` (used by RFC 7489's `rf`).
fn is_keyword(k: &str) -> bool {
    !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !k.ends_with('-')
        && !k.starts_with('-')
}

/// `dmarc-urilist = (dmarc-uri / obs-dmarc-uri) *(*WSP "," *WSP (dmarc-uri / obs-dmarc-uri))`
fn parse_uri_list(tag: &str, value: &str, warnings: &mut Vec<RecordWarning>) -> Vec<ReportUri> {
    let mut uris = Vec::new();
    for entry in value.split(',') {
        let entry = entry.trim_matches(is_wsp);
        if uris.len() == MAX_REPORT_URIS {
            warnings.push(RecordWarning::TooManyUris {
                tag: tag.to_owned(),
            });
            break;
        }
        match ReportUri::parse(entry) {
            Some(uri) => {
                if uri.size_limit.is_some() {
                    warnings.push(RecordWarning::ObsoleteSizeLimit {
                        tag: tag.to_owned(),
                        uri: entry.to_owned(),
                    });
                }
                uris.push(uri);
            }
            None => warnings.push(RecordWarning::InvalidUri {
                tag: tag.to_owned(),
                uri: entry.to_owned(),
            }),
        }
    }
    uris
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
    fn version_must_be_first_and_exact() {
        assert_eq!(
            DmarcRecord::parse(b"p=none; v=DMARC1"),
            Err(NotDmarcRecord::NoVersion)
        );
        assert_eq!(
            DmarcRecord::parse(b"v=dmarc1; p=none"),
            Err(NotDmarcRecord::WrongVersion)
        );
        assert_eq!(
            DmarcRecord::parse(b"v=DMARC2; p=none"),
            Err(NotDmarcRecord::WrongVersion)
        );
        assert_eq!(DmarcRecord::parse(b""), Err(NotDmarcRecord::NoVersion));
        assert_eq!(
            DmarcRecord::parse(b"v=spf1 -all"),
            Err(NotDmarcRecord::WrongVersion)
        );
        assert!(DmarcRecord::parse(b"v=DMARC1").is_ok());
        assert!(DmarcRecord::parse(b"v = DMARC1 ;p=none;").is_ok());
        assert!(DmarcRecord::is_dmarc(b"v=DMARC1;p=reject"));
        assert!(!DmarcRecord::is_dmarc(b"v=DMARC1x;p=reject"));
    }

    #[test]
    fn tags_and_defaults() {
        let (r, w) = parse(
            "v=DMARC1; p=quarantine; sp=reject; np=none; psd=n; t=y; adkim=s; aspf=r; fo=1:d:s; ruf=mailto:f@example.com",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(r.p, PolicyValue::Valid(RequestedPolicy::Quarantine));
        assert_eq!(r.sp.valid(), Some(RequestedPolicy::Reject));
        assert_eq!(r.np.valid(), Some(RequestedPolicy::None));
        assert_eq!(r.psd(), PsdFlag::No);
        assert!(r.testing());
        assert_eq!(r.adkim(), AlignmentMode::Strict);
        assert_eq!(r.aspf(), AlignmentMode::Relaxed);
        assert_eq!(
            r.failure_options(),
            FailureOptions {
                any: Some(true),
                dkim: true,
                spf: true
            }
        );
        let (d, _) = parse("v=DMARC1; p=none");
        assert_eq!(d.adkim(), AlignmentMode::Relaxed);
        assert_eq!(d.psd(), PsdFlag::Unknown);
        assert!(!d.testing());
        assert_eq!(d.pct(), 100);
    }

    #[test]
    fn keyword_values_ignore_case() {
        let (r, _) = parse("v=DMARC1; P=Reject; ADKIM=S");
        assert_eq!(r.p.valid(), Some(RequestedPolicy::Reject));
        assert_eq!(r.adkim(), AlignmentMode::Strict);
    }

    #[test]
    fn fo_follows_the_tightened_abnf() {
        for ok in ["0", "1", "d", "s", "0:d", "d:0", "s:d:1", "d:s"] {
            assert!(FailureOptions::parse(ok).is_some(), "{ok}");
        }
        for bad in ["0:1", "d:d", "", "x", "0::d", "0 : d", "1:0"] {
            assert!(FailureOptions::parse(bad).is_none(), "{bad}");
        }
        let (r, w) = parse("v=DMARC1; p=none; fo=0:1");
        assert_eq!(r.fo, None);
        assert!(w.contains(&RecordWarning::InvalidValue {
            tag: "fo".into(),
            value: "0:1".into()
        }));
        let (_, w) = parse("v=DMARC1; p=none; fo=1");
        assert!(w.contains(&RecordWarning::FoWithoutRuf));
        let (_, w) = parse("v=DMARC1; p=none; psd=y; ruf=mailto:f@example.com");
        assert!(w.contains(&RecordWarning::RufOnPsd));
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
    fn legacy_and_unknown_tags_are_kept_and_reported() {
        let (r, w) = parse("v=DMARC1; p=reject; pct=20; rf=afrf; ri=3600; foo=bar");
        assert_eq!(
            r.legacy,
            vec![
                LegacyTag::Pct(20),
                LegacyTag::Rf(vec!["afrf".into()]),
                LegacyTag::Ri(3600)
            ]
        );
        assert_eq!(r.pct(), 20);
        assert_eq!(r.unknown.len(), 1);
        for tag in ["pct", "rf", "ri"] {
            assert!(w.contains(&RecordWarning::RemovedTag { tag: tag.into() }));
        }
        assert!(w.contains(&RecordWarning::UnknownTag { tag: "foo".into() }));
        let (r, _) = parse("v=DMARC1; p=reject; pct=101");
        assert_eq!(r.pct(), 100);
    }

    #[test]
    fn syntax_errors_are_ignored_not_fatal() {
        let (r, w) = parse("v=DMARC1;; p=reject; garbage; x y=1; sp=; ruf=; adkim=q; p=none");
        assert_eq!(r.p.valid(), Some(RequestedPolicy::Reject));
        // Present but empty: an invalid `sp` (§4.10.1), not an absent one.
        assert_eq!(r.sp, PolicyValue::Invalid(String::new()));
        assert_eq!(r.adkim, None);
        assert!(w.contains(&RecordWarning::DuplicateTag { tag: "p".into() }));
        assert!(
            w.iter()
                .filter(|w| matches!(w, RecordWarning::Syntax { .. }))
                .count()
                >= 3
        );
    }

    #[test]
    fn uri_lists() {
        let (r, w) =
            parse("v=DMARC1; p=none; rua=mailto:a@example.com!10m , mailto:b@example.net,bad uri");
        assert_eq!(r.rua.len(), 2);
        assert_eq!(r.rua[0].size_limit.as_deref(), Some("10m"));
        assert!(
            w.iter()
                .any(|w| matches!(w, RecordWarning::ObsoleteSizeLimit { .. }))
        );
        assert!(
            w.iter()
                .any(|w| matches!(w, RecordWarning::InvalidUri { .. }))
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
