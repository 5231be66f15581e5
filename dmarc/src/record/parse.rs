//! Reading a DMARC Policy Record from TXT data (RFC 9989 §4.8): the version check, then each
//! tag-spec on its own, everything ignored reported as a [`RecordWarning`].

use mailward_types::tag_list::{TagList, TagListOptions};

use super::{
    AlignmentMode, DmarcRecord, FailureOptions, LegacyTag, MAX_RECORD_TAGS, NotDmarcRecord,
    PolicyValue, PsdFlag, RecordWarning, RequestedPolicy, UnknownTag,
};
use crate::uri::{MAX_REPORT_URIS, ReportUri};

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
}
