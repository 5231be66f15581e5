//! The tag-list syntax of [RFC 6376 §3.2](https://www.rfc-editor.org/rfc/rfc6376#section-3.2),
//! shared by DKIM signatures, DKIM key records and DMARC records.
//!
//! ```abnf
//! tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//! tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//! tag-name  =  ALPHA *ALNUMPUNC
//! tag-value =  [ tval *( 1*(WSP / FWS) tval ) ]
//! tval      =  1*VALCHAR
//! VALCHAR   =  %x21-3A / %x3C-7E
//! ALNUMPUNC =  ALPHA / DIGIT / "_"
//! ```
//!
//! The scanner is hand-written rather than nom-based: it is on the DKIM verification hot path, it
//! only splits on `;` (which `VALCHAR` excludes) and checks octet classes, and it reports byte
//! offsets directly.
//!
//! # Examples
//!
//! ```
//! use mailward_types::tag_list::TagList;
//!
//! let list = TagList::parse("v=DKIM1; k=rsa;\r\n\tp=MIGf MA0G;")?;
//! assert_eq!(list.get("k").map(|t| t.value), Some("rsa"));
//! assert_eq!(list.get("p").map(|t| t.value_without_fws()), Some("MIGfMA0G".to_owned()));
//! assert!(TagList::parse("a=1; a=2").is_err()); // duplicate tag
//! # Ok::<(), mailward_types::tag_list::TagListError>(())
//! ```

use std::fmt;

/// Most tags accepted in one list. DKIM signatures define 14 tags, key records 7 and DMARC
/// records 13; 128 leaves room for extensions while bounding hostile input.
pub const MAX_TAGS: usize = 128;

/// One `tag=value` pair, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    /// The tag name (case kept; DKIM tags are case-sensitive, RFC 6376 §3.2).
    pub name: &'a str,
    /// The value with surrounding whitespace removed and any inner folding whitespace kept.
    pub value: &'a str,
    /// Byte offset of the tag name in the parsed input.
    pub offset: usize,
}

impl Tag<'_> {
    /// The value with every whitespace octet (SP, HTAB, CR, LF) removed: what base64 values and
    /// colon-separated lists are compared as (RFC 6376 §3.5 `b=`, `bh=`, `h=`).
    pub fn value_without_fws(&self) -> String {
        self.value.chars().filter(|c| !is_fws_char(*c)).collect()
    }
}

/// Options for [`TagList::parse_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TagListOptions {
    /// Skip empty tag-specs (`a=1;; b=2`, or a list of only whitespace) instead of rejecting
    /// them. Real DMARC records contain `;;` often enough that receivers tolerate it.
    pub allow_empty_specs: bool,
}

impl TagListOptions {
    /// Lenient options: empty tag-specs are skipped.
    pub fn lenient() -> Self {
        Self {
            allow_empty_specs: true,
        }
    }
}

/// A parsed tag-list: the tags in input order, names unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagList<'a> {
    tags: Vec<Tag<'a>>,
}

/// A tag-list that does not follow RFC 6376 §3.2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}")]
#[non_exhaustive]
pub struct TagListError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub kind: TagListErrorKind,
}

/// Which rule a tag-list broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagListErrorKind {
    /// A tag-spec between two `;` is empty.
    EmptySpec,
    /// A tag-spec has no `=`.
    MissingEquals,
    /// The tag name is empty or has a character outside `ALPHA *ALNUMPUNC`.
    InvalidName,
    /// The value has an octet outside VALCHAR and whitespace.
    InvalidValue,
    /// The same tag name appears twice ("the entire tag-list is invalid", RFC 6376 §3.2).
    DuplicateTag(String),
    /// More than [`MAX_TAGS`] tags.
    TooManyTags,
    /// A line break not followed by whitespace, or a CR without LF (RFC 6376 §2.8 FWS).
    InvalidFolding,
}

impl fmt::Display for TagListErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySpec => f.write_str("empty tag-spec"),
            Self::MissingEquals => f.write_str("tag-spec without '='"),
            Self::InvalidName => f.write_str("invalid tag name"),
            Self::InvalidValue => f.write_str("invalid character in tag value"),
            Self::DuplicateTag(name) => write!(f, "duplicate tag {name:?}"),
            Self::TooManyTags => write!(f, "more than {MAX_TAGS} tags"),
            Self::InvalidFolding => f.write_str("line break not followed by whitespace"),
        }
    }
}

fn is_fws_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_fws_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `VALCHAR = %x21-3A / %x3C-7E`
fn is_valchar(b: u8) -> bool {
    matches!(b, 0x21..=0x3a | 0x3c..=0x7e)
}

impl<'a> TagList<'a> {
    /// Parses a tag-list strictly per RFC 6376 §3.2.
    ///
    /// # Errors
    ///
    /// A [`TagListError`] naming the offset and the rule broken: empty tag-spec, missing `=`,
    /// invalid name or value octet, duplicate tag, or more than [`MAX_TAGS`] tags.
    pub fn parse(input: &'a str) -> Result<Self, TagListError> {
        Self::parse_with(input, TagListOptions::default())
    }

    /// Parses a tag-list with the given leniency.
    ///
    /// One pass over the input: each tag-spec is read rule by rule (FWS, name, `=`, value) and
    /// folding is checked where FWS is read.
    ///
    /// # Errors
    ///
    /// As [`TagList::parse`], except that empty tag-specs are skipped when
    /// [`TagListOptions::allow_empty_specs`] is set.
    pub fn parse_with(input: &'a str, options: TagListOptions) -> Result<Self, TagListError> {
        let bytes = input.as_bytes();
        let mut tags: Vec<Tag<'a>> = Vec::with_capacity(16);
        // Offset of the current tag-spec: 0, or just after a `;`.
        let mut spec_offset = 0;
        loop {
            let start = skip_fws(bytes, spec_offset)?;
            let Some(&first) = bytes.get(start) else {
                // `[ ";" ]`: a trailing semicolon (possibly followed by FWS) is allowed.
                if spec_offset > 0 || options.allow_empty_specs {
                    break;
                }
                return Err(error(spec_offset, TagListErrorKind::EmptySpec));
            };
            if first == b';' {
                if !options.allow_empty_specs {
                    return Err(error(spec_offset, TagListErrorKind::EmptySpec));
                }
                spec_offset = start + 1;
                continue;
            }
            let (tag, end) = parse_spec(input, start)?;
            if tags.iter().any(|t| same_name(t.name, tag.name)) {
                return Err(error(
                    start,
                    TagListErrorKind::DuplicateTag(tag.name.to_owned()),
                ));
            }
            if tags.len() == MAX_TAGS {
                return Err(error(start, TagListErrorKind::TooManyTags));
            }
            tags.push(tag);
            // `end` is at a `;` or at the end of the input.
            if end >= bytes.len() {
                break;
            }
            spec_offset = end + 1;
        }
        Ok(Self { tags })
    }

    /// The tags in input order.
    pub fn tags(&self) -> &[Tag<'a>] {
        &self.tags
    }

    /// The tag with exactly this name.
    pub fn get(&self, name: &str) -> Option<&Tag<'a>> {
        self.tags.iter().find(|t| same_name(t.name, name))
    }

    /// The tag with this name compared ASCII case-insensitively (for DMARC, whose tag names
    /// receivers compare without case).
    pub fn get_ignore_case(&self, name: &str) -> Option<&Tag<'a>> {
        self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Whether the list holds no tag.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

fn error(offset: usize, kind: TagListErrorKind) -> TagListError {
    TagListError { offset, kind }
}

/// Name equality with the first octet compared inline: tag names are one or two letters, and
/// most comparisons differ there.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Skips `[FWS]` from `i`; returns the offset of the first other octet (or the input length).
///
/// RFC 6376 §2.8 `FWS = [*WSP CRLF] 1*WSP`: a line break must be followed by whitespace. A bare
/// LF counts as CRLF (messages stored with LF line ends), and line breaks at the very end of the
/// input are tolerated (a header value or TXT record with a trailing newline).
#[inline]
fn skip_fws(bytes: &[u8], mut i: usize) -> Result<usize, TagListError> {
    loop {
        let after_break = match bytes.get(i) {
            Some(b' ' | b'\t') => {
                i += 1;
                continue;
            }
            Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => i + 2,
            Some(b'\r') => return Err(error(i, TagListErrorKind::InvalidFolding)),
            Some(b'\n') => i + 1,
            _ => return Ok(i),
        };
        let rest = bytes.get(after_break..).unwrap_or_default();
        if !matches!(rest.first(), Some(b' ' | b'\t')) {
            // Not folding: allowed only as trailing line breaks, and then nothing follows (return
            // the end at once, so a long tail of breaks is read once, not once per break).
            if rest.iter().all(|&c| is_fws_byte(c)) {
                // A CR in that tail must still start a CRLF: report a lone one where it is.
                return match lone_cr(rest) {
                    Some(at) => Err(error(after_break + at, TagListErrorKind::InvalidFolding)),
                    None => Ok(bytes.len()),
                };
            }
            return Err(error(i, TagListErrorKind::InvalidFolding));
        }
        i = after_break;
    }
}

/// The offset of the first CR in `s` that is not followed by LF.
fn lone_cr(s: &[u8]) -> Option<usize> {
    s.iter()
        .enumerate()
        .find(|&(i, &c)| c == b'\r' && s.get(i + 1) != Some(&b'\n'))
        .map(|(i, _)| i)
}

/// Length of the run of `VALCHAR` octets (`%x21-3A / %x3C-7E`) that starts `s`: where a
/// tag value's text stops at whitespace, `;` or anything else. Eight octets at a time while they
/// all qualify (each lane tested without carries crossing lanes), then octet by octet.
///
/// ```
/// use mailward_types::tag_list::valchar_run;
///
/// assert_eq!(valchar_run(b"abc=\r\n def"), 4);
/// assert_eq!(valchar_run(b"0123456789abcdef;x"), 16);
/// ```
#[inline]
pub fn valchar_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut n = 0;
    for chunk in s.chunks_exact(8) {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        // With every high bit clear (checked first), per lane: `(b | 0x80) - 0x21` keeps the
        // high bit iff b >= 0x21; `b + 1` sets it iff b >= 0x7f; `b ^ 0x3b` is zero iff b == ';'.
        let at_least_21 = (x | HIGH).wrapping_sub(0x21 * ONES) & HIGH;
        let at_least_7f = x.wrapping_add(ONES) & HIGH;
        let semi = x ^ (0x3b * ONES);
        let semi_zero = !(((semi & !HIGH).wrapping_add(!HIGH & (0x7f * ONES))) | semi) & HIGH;
        if x & HIGH != 0 || at_least_21 != HIGH || at_least_7f != 0 || semi_zero != 0 {
            break;
        }
        n += 8;
    }
    let tail = s.get(n..).unwrap_or_default();
    n + tail
        .iter()
        .position(|&b| !is_valchar(b))
        .unwrap_or(tail.len())
}

/// `tag-spec` from its first octet after the leading FWS (`start`):
/// `tag-name [FWS] "=" [FWS] tag-value [FWS]`. Returns the tag and the offset of the `;` that
/// ends it (or the input length).
fn parse_spec(input: &str, start: usize) -> Result<(Tag<'_>, usize), TagListError> {
    let bytes = input.as_bytes();
    // tag-name = ALPHA *ALNUMPUNC
    if !bytes.get(start).is_some_and(u8::is_ascii_alphabetic) {
        return Err(name_error(bytes, start));
    }
    let mut i = start + 1;
    while bytes
        .get(i)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        i += 1;
    }
    let name_end = i;
    i = skip_fws(bytes, i)?;
    if bytes.get(i) != Some(&b'=') {
        return Err(name_error(bytes, start));
    }
    i = skip_fws(bytes, i + 1)?;
    // tag-value = [ tval *( 1*(WSP / FWS) tval ) ], then [FWS]: the value ends with its last
    // tval, inner FWS kept.
    let value_start = i;
    let mut value_end = i;
    loop {
        // A run of VALCHAR (`tval`) in one tight loop: most of a signature is its base64.
        let run = valchar_run(bytes.get(i..).unwrap_or_default());
        if run > 0 {
            i += run;
            value_end = i;
        }
        match bytes.get(i) {
            None | Some(b';') => break,
            Some(&b) if is_fws_byte(b) => i = skip_fws(bytes, i)?,
            Some(_) => return Err(error(i, TagListErrorKind::InvalidValue)),
        }
    }
    // Every boundary is next to an ASCII octet, so these are char boundaries.
    let name = input.get(start..name_end).unwrap_or_default();
    let value = input.get(value_start..value_end).unwrap_or_default();
    Ok((
        Tag {
            name,
            value,
            offset: start,
        },
        i,
    ))
}

/// The error for a tag-spec whose name is not followed by `=`: an invalid name when the spec
/// has a `=` further on, a missing `=` otherwise.
fn name_error(bytes: &[u8], start: usize) -> TagListError {
    let spec = bytes.get(start..).unwrap_or_default();
    let spec = spec.split(|&b| b == b';').next().unwrap_or_default();
    let kind = if spec.contains(&b'=') {
        TagListErrorKind::InvalidName
    } else {
        TagListErrorKind::MissingEquals
    };
    error(start, kind)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The previous, split-based reading of RFC 6376 §3.2 (split on `;`, trim, split on `=`,
    /// check the classes; folding checked over the whole input first), kept as the model the
    /// one-pass scanner is compared against.
    mod model {
        use super::super::*;

        pub(super) fn parse_with(
            input: &str,
            options: TagListOptions,
        ) -> Result<Vec<Tag<'_>>, TagListError> {
            check_folding(input)?;
            let mut tags: Vec<Tag<'_>> = Vec::new();
            let mut offset = 0;
            let mut specs = input.split(';').peekable();
            while let Some(spec) = specs.next() {
                let spec_offset = offset;
                offset += spec.len() + 1;
                let (body, lead) = trim_fws(spec);
                if body.is_empty() {
                    // `[ ";" ]`: a trailing semicolon (possibly followed by FWS) is allowed.
                    let is_last = specs.peek().is_none();
                    if (is_last && spec_offset > 0) || options.allow_empty_specs {
                        continue;
                    }
                    return Err(TagListError {
                        offset: spec_offset,
                        kind: TagListErrorKind::EmptySpec,
                    });
                }
                let body_offset = spec_offset + lead;
                let tag = parse_spec(body, body_offset)?;
                if tags.iter().any(|t| t.name == tag.name) {
                    return Err(TagListError {
                        offset: body_offset,
                        kind: TagListErrorKind::DuplicateTag(tag.name.to_owned()),
                    });
                }
                if tags.len() == MAX_TAGS {
                    return Err(TagListError {
                        offset: body_offset,
                        kind: TagListErrorKind::TooManyTags,
                    });
                }
                tags.push(tag);
            }
            Ok(tags)
        }

        fn trim_fws(s: &str) -> (&str, usize) {
            let start = s.len() - s.trim_start_matches(is_fws_char).len();
            let trimmed = s.trim_matches(is_fws_char);
            (trimmed, start)
        }

        fn check_folding(input: &str) -> Result<(), TagListError> {
            let bytes = input.as_bytes();
            let mut i = 0;
            while let Some(&b) = bytes.get(i) {
                let after_break = match b {
                    b'\r' if bytes.get(i + 1) == Some(&b'\n') => i + 2,
                    b'\r' => {
                        return Err(TagListError {
                            offset: i,
                            kind: TagListErrorKind::InvalidFolding,
                        });
                    }
                    b'\n' => i + 1,
                    _ => {
                        i += 1;
                        continue;
                    }
                };
                let rest = bytes.get(after_break..).unwrap_or_default();
                let continues = matches!(rest.first(), Some(b' ' | b'\t'));
                let only_breaks_left = rest.iter().all(|&c| is_fws_byte(c));
                if !continues && !only_breaks_left {
                    return Err(TagListError {
                        offset: i,
                        kind: TagListErrorKind::InvalidFolding,
                    });
                }
                i = after_break;
            }
            Ok(())
        }

        fn parse_spec(body: &str, body_offset: usize) -> Result<Tag<'_>, TagListError> {
            let Some((raw_name, raw_value)) = body.split_once('=') else {
                return Err(TagListError {
                    offset: body_offset,
                    kind: TagListErrorKind::MissingEquals,
                });
            };
            let name = raw_name.trim_end_matches(is_fws_char);
            if !is_tag_name(name) {
                return Err(TagListError {
                    offset: body_offset,
                    kind: TagListErrorKind::InvalidName,
                });
            }
            let value_start = body_offset + raw_name.len() + 1;
            let (value, lead) = trim_fws(raw_value);
            if let Some(bad) = value
                .bytes()
                .position(|b| !is_valchar(b) && !is_fws_byte(b))
            {
                return Err(TagListError {
                    offset: value_start + lead + bad,
                    kind: TagListErrorKind::InvalidValue,
                });
            }
            Ok(Tag {
                name,
                value,
                offset: body_offset,
            })
        }

        fn is_tag_name(name: &str) -> bool {
            let mut bytes = name.bytes();
            bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
    }

    proptest! {
        /// The eight-at-a-time run length equals the octet-by-octet one.
        #[test]
        fn valchar_run_matches_bytewise(s in proptest::collection::vec(
            prop_oneof![
                6 => 0x21u8..=0x3a,
                6 => 0x3cu8..=0x7e,
                1 => prop_oneof![Just(0x20u8), Just(0x3b), Just(0x7f), Just(0x80), Just(0xff)],
                1 => any::<u8>(),
            ],
            0..64,
        )) {
            let bytewise = s.iter().position(|&b| !is_valchar(b)).unwrap_or(s.len());
            prop_assert_eq!(valchar_run(&s), bytewise);
        }
    }

    fn tag_list_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just("b"),
                Just("x_1"),
                Just("="),
                Just(";"),
                Just(" "),
                Just("\t"),
                Just("\r\n"),
                Just("\r\n "),
                Just("\n\t"),
                Just("\r"),
                Just("\n"),
                Just("9"),
                Just("v=1"),
                Just("; "),
                Just("\u{e9}"),
                Just("\x00"),
                Just("\x7f"),
                Just("=="),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        /// The scanner accepts exactly what the model accepts, with the same tags; errors are
        /// of the same kind at the same offset, except that the model reports a folding error
        /// before any other (it checks folding first) while the scanner reports the first
        /// problem in input order.
        #[test]
        fn scanner_matches_split_model(input in tag_list_text(), lenient in any::<bool>()) {
            let options = if lenient { TagListOptions::lenient() } else { TagListOptions::default() };
            let got = TagList::parse_with(&input, options).map(|l| l.tags);
            let want = model::parse_with(&input, options);
            match (&got, &want) {
                (Ok(g), Ok(w)) => prop_assert_eq!(g, w),
                (Err(g), Err(w)) => {
                    if g.kind != TagListErrorKind::InvalidFolding
                        && w.kind != TagListErrorKind::InvalidFolding
                    {
                        prop_assert_eq!(g, w);
                    }
                }
                _ => prop_assert!(false, "scanner {:?} model {:?}", got, want),
            }
        }
    }

    fn kind(input: &str) -> TagListErrorKind {
        TagList::parse(input).unwrap_err().kind
    }

    #[test]
    fn accepts_rfc_6376_examples() {
        // RFC 6376 §3.5 example signature tags, folded as in the RFC.
        let sig = "v=1; a=rsa-sha256; d=example.net; s=brisbane;\r\n \
                   c=simple; q=dns/txt; i=@eng.example.net;\r\n \
                   t=1117574938; x=1118006938;\r\n \
                   h=from:to:subject:date;\r\n \
                   z=From:foo@eng.example.net|To:joe@example.com|\r\n  \
                   Subject:demo=20run|Date:July=205,=202005=203:44:08=20PM=20-0700;\r\n \
                   bh=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=;\r\n \
                   b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR";
        let list = TagList::parse(sig).unwrap();
        assert_eq!(list.len(), 13);
        assert_eq!(list.get("d").unwrap().value, "example.net");
        assert_eq!(
            list.get("h").unwrap().value_without_fws(),
            "from:to:subject:date"
        );
        assert!(list.get("z").unwrap().value.contains("|\r\n  Subject"));
        assert_eq!(list.get("v").unwrap().offset, 0);
    }

    #[test]
    fn whitespace_around_names_and_values() {
        let list = TagList::parse(" \t v = DKIM1 ;\r\n\tp = ab cd \t").unwrap();
        assert_eq!(list.get("v").unwrap().value, "DKIM1");
        assert_eq!(list.get("p").unwrap().value, "ab cd");
        assert_eq!(list.get("p").unwrap().value_without_fws(), "abcd");
    }

    #[test]
    fn trailing_semicolon_and_empty_value() {
        let list = TagList::parse("v=DKIM1; p=; ").unwrap();
        assert_eq!(list.get("p").unwrap().value, "");
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn rejects_rule_violations() {
        assert_eq!(kind("a=1;;b=2"), TagListErrorKind::EmptySpec);
        assert_eq!(kind(";a=1"), TagListErrorKind::EmptySpec);
        assert_eq!(kind(""), TagListErrorKind::EmptySpec);
        assert_eq!(kind("a=1; b"), TagListErrorKind::MissingEquals);
        assert_eq!(kind("1a=1"), TagListErrorKind::InvalidName);
        assert_eq!(kind("a-b=1"), TagListErrorKind::InvalidName);
        assert_eq!(kind("=1"), TagListErrorKind::InvalidName);
        assert_eq!(kind("a b=1"), TagListErrorKind::InvalidName);
        assert_eq!(kind("a=caf\u{e9}"), TagListErrorKind::InvalidValue);
        assert_eq!(kind("a=1\x00"), TagListErrorKind::InvalidValue);
        assert_eq!(
            kind("a=1; b=2; a=3"),
            TagListErrorKind::DuplicateTag("a".into())
        );
    }

    #[test]
    fn line_breaks_must_be_folding() {
        // RFC 6376 §2.8: FWS = [*WSP CRLF] 1*WSP.
        assert_eq!(kind("a=x\r\ny"), TagListErrorKind::InvalidFolding);
        assert_eq!(kind("a=1\nb; c=2"), TagListErrorKind::InvalidFolding);
        assert_eq!(kind("a=1;\r\nb=2"), TagListErrorKind::InvalidFolding);
        assert_eq!(kind("a=1\r b=2"), TagListErrorKind::InvalidFolding);
        // A lone CR after a trailing line break is still not a line break (found by the
        // scanner_matches_split_model proptest: "\r\n\r").
        assert_eq!(kind("a=1\r\n\r"), TagListErrorKind::InvalidFolding);
        assert_eq!(
            TagList::parse_with("\r\n\r", TagListOptions::lenient())
                .unwrap_err()
                .kind,
            TagListErrorKind::InvalidFolding
        );
        assert!(TagList::parse("a=x\r\n y;\n\tb=2").is_ok());
        assert!(TagList::parse("a=1; b=2\r\n").is_ok());
        assert!(TagList::parse("a=1; b=2\n").is_ok());
    }

    #[test]
    fn error_offsets_point_at_the_problem() {
        let err = TagList::parse("v=1; a=x\x7fy").unwrap_err();
        assert_eq!(err.offset, 8);
        let err = TagList::parse("v=1;  9=2").unwrap_err();
        assert_eq!(err.offset, 6);
    }

    #[test]
    fn names_are_case_sensitive_but_lookup_can_ignore_case() {
        let list = TagList::parse("V=1; v=2").unwrap();
        assert_eq!(list.get("V").unwrap().value, "1");
        assert_eq!(list.get_ignore_case("p"), None);
        assert_eq!(
            TagList::parse("P=reject")
                .unwrap()
                .get_ignore_case("p")
                .unwrap()
                .value,
            "reject"
        );
    }

    #[test]
    fn lenient_mode_skips_empty_specs() {
        let list = TagList::parse_with("v=DMARC1;; p=none; ;", TagListOptions::lenient()).unwrap();
        assert_eq!(list.len(), 2);
        assert!(
            TagList::parse_with("  ", TagListOptions::lenient())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn long_tail_of_line_breaks_is_linear() {
        // Each break not followed by WSP looks at the rest of the input once; 200 000 trailing
        // breaks would take minutes if that happened per break (quadratic).
        let input = format!("a=1{}", "\n".repeat(200_000));
        let list = TagList::parse(&input).unwrap();
        assert_eq!(list.get("a").unwrap().value, "1");
        let input = format!("a=1;{}", "\r\n".repeat(100_000));
        assert_eq!(TagList::parse(&input).unwrap().len(), 1);
    }

    #[test]
    fn ten_thousand_tags_is_a_typed_error() {
        let input: String = (0..10_000).map(|i| format!("t{i}=v;")).collect();
        assert_eq!(kind(&input), TagListErrorKind::TooManyTags);
        let exactly: String = (0..MAX_TAGS).map(|i| format!("t{i}=v;")).collect();
        assert_eq!(TagList::parse(&exactly).unwrap().len(), MAX_TAGS);
    }
}
