//! The rule functions: one nom 8 function per ABNF rule of
//! [RFC 7208 §12](https://www.rfc-editor.org/rfc/rfc7208#section-12), named after the rule.
//!
//! Terms never contain a space (`macro-literal` excludes it), so [`terms`] splits the record on
//! spaces and every term parser sees exactly one term.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, one_of, satisfy};
use nom::combinator::{all_consuming, map, map_res, opt, recognize, value, verify};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::error::{ParseError, ParseErrorKind};
use crate::macros::{MacroExpand, MacroLetter, MacroString, MacroToken};
use crate::record::{Directive, DualCidr, Mechanism, Modifier, Qualifier, SpfRecord, Term};

/// The parser's error: where it stopped and, when known, which rule was broken.
#[derive(Debug, Clone)]
pub(crate) struct PError<'a> {
    input: &'a str,
    kind: Option<ParseErrorKind>,
}

impl<'a> PError<'a> {
    fn at(input: &'a str, kind: ParseErrorKind) -> Self {
        Self {
            input,
            kind: Some(kind),
        }
    }
}

impl<'a> nom::error::ParseError<&'a str> for PError<'a> {
    fn from_error_kind(input: &'a str, _kind: nom::error::ErrorKind) -> Self {
        Self { input, kind: None }
    }

    fn append(_input: &'a str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }

    /// Keeps the more informative of two alternatives: one that knows its rule, else the one
    /// that got further.
    fn or(self, other: Self) -> Self {
        match (&self.kind, &other.kind) {
            (Some(_), None) => self,
            (None, Some(_)) => other,
            _ if self.input.len() <= other.input.len() => self,
            _ => other,
        }
    }
}

impl<'a, E> nom::error::FromExternalError<&'a str, E> for PError<'a> {
    fn from_external_error(input: &'a str, _kind: nom::error::ErrorKind, _e: E) -> Self {
        Self { input, kind: None }
    }
}

pub(super) type PResult<'a, T> = IResult<&'a str, T, PError<'a>>;

fn fail<T>(input: &str, kind: ParseErrorKind) -> PResult<'_, T> {
    Err(nom::Err::Error(PError::at(input, kind)))
}

fn cut<T>(input: &str, kind: ParseErrorKind) -> PResult<'_, T> {
    Err(nom::Err::Failure(PError::at(input, kind)))
}

/// A case-insensitive ASCII keyword (RFC 7208 §12: "literal text strings (those in quotes) are
/// case-insensitive"). nom's `tag_no_case` lower-cases Unicode; the ABNF literals are ASCII.
fn keyword<'a>(word: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i: &'a str| match (i.get(..word.len()), i.get(word.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(word) => Ok((rest, head)),
        _ => Err(nom::Err::Error(PError {
            input: i,
            kind: None,
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points (see the parent module).

pub(super) fn parse_domain_spec_str(text: &str) -> Result<MacroString, ParseError> {
    whole(text, domain_spec, ParseErrorKind::InvalidDomainSpec)
}

pub(super) fn parse_explain_string_str(text: &str) -> Result<MacroString, ParseError> {
    whole(text, explain_string, ParseErrorKind::InvalidMacro)
}

fn whole<'a, T>(
    text: &'a str,
    f: fn(&'a str) -> PResult<'a, T>,
    default: ParseErrorKind,
) -> Result<T, ParseError> {
    match all_consuming(f).parse(text) {
        Ok((_, v)) => Ok(v),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            let offset = text.len().saturating_sub(e.input.len());
            Err(ParseError::new(offset, e.kind.unwrap_or(default), text))
        }
        Err(nom::Err::Incomplete(_)) => Err(ParseError::new(0, default, text)),
    }
}

// ---------------------------------------------------------------------------------------------
// Record structure (RFC 7208 §4.5, §4.6.1).

/// [`record`](super::record) by the rule functions alone: splits on spaces, then parses term by
/// term.
pub(super) fn record_general(text: &str) -> Result<SpfRecord, ParseError> {
    let rest = match version(text) {
        Ok((rest, _)) => rest,
        Err(_) => return Err(ParseError::new(0, ParseErrorKind::Version, text)),
    };
    // RFC 7208 §3.1: "The character content of the record is encoded as [US-ASCII]"; terms are
    // separated by SP only (§4.6.1), so any other character (TAB, control, 8-bit) is an error.
    if let Some(pos) = text.bytes().position(|b| !matches!(b, b' '..=b'~')) {
        let start = text
            .get(..pos)
            .and_then(|h| h.rfind(' '))
            .map_or(0, |s| s + 1);
        let end = text
            .get(pos..)
            .and_then(|t| t.find(' '))
            .map_or(text.len(), |e| pos + e);
        let term = text.get(start..end).unwrap_or_default();
        return Err(ParseError::new(pos, ParseErrorKind::InvalidCharacter, term));
    }
    let offset = text.len() - rest.len();
    let terms = terms(rest, offset)?;
    Ok(SpfRecord {
        terms,
        targets: Vec::new(),
    })
}

/// RFC 7208 §12:
///
/// ```abnf
/// version          = "v=spf1"
/// ```
///
/// RFC 7208 §4.5: "the version section is terminated by either an SP character or the end of
/// the record" (so `v=spf10` is not a version 1 record).
fn version(i: &str) -> PResult<'_, &str> {
    let (rest, v) = keyword("v=spf1")(i)?;
    if rest.is_empty() || rest.starts_with(' ') {
        Ok((rest, v))
    } else {
        fail(rest, ParseErrorKind::Version)
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// terms            = *( 1*SP ( directive / modifier ) )
/// ```
///
/// Followed by `*SP` in `record`: runs of spaces and trailing spaces are allowed.
fn terms(text: &str, base: usize) -> Result<Vec<Term>, ParseError> {
    // Presized from the length, without a counting pass over the text: published terms and
    // their space average well over 16 octets (records of shorter terms grow the vector; a
    // larger guess costs more in the allocator than it saves).
    let mut out = Vec::with_capacity(text.len() / 16 + 1);
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let mut start = 0;
    let bytes = text.as_bytes();
    while start < bytes.len() {
        // The next piece: up to the next space (no `str::split`: it is slow on short pieces).
        let len = bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|b| *b == b' ')
            .unwrap_or(bytes.len() - start);
        let offset = base + start;
        let piece = text.get(start..start + len).unwrap_or_default();
        start += len + 1;
        if piece.is_empty() {
            continue;
        }
        let t = term(piece, offset)?;
        match &t {
            // RFC 7208 §6: "These two modifiers MUST NOT appear in a record more than once each.
            // If they do, then check_host() exits with a result of "permerror"."
            Term::Modifier(Modifier::Redirect(_)) if seen_redirect => {
                return Err(ParseError::new(
                    offset,
                    ParseErrorKind::DuplicateModifier("redirect"),
                    piece,
                ));
            }
            Term::Modifier(Modifier::Explanation(_)) if seen_exp => {
                return Err(ParseError::new(
                    offset,
                    ParseErrorKind::DuplicateModifier("exp"),
                    piece,
                ));
            }
            Term::Modifier(Modifier::Redirect(_)) => seen_redirect = true,
            Term::Modifier(Modifier::Explanation(_)) => seen_exp = true,
            _ => {}
        }
        out.push(t);
    }
    Ok(out)
}

/// One term: `directive / modifier`, the whole piece consumed.
pub(super) fn term(piece: &str, offset: usize) -> Result<Term, ParseError> {
    // RFC 7208 §4.6.1: "Modifiers always contain an equals ('=') character immediately after
    // the name, and before any ":" or "/" characters"; a directive never has '=' before its
    // first ':' or '/'. So the first of "=:/" decides which alternative can match, and only
    // that one is tried (the same language as "directive / modifier").
    let looks_like_modifier = piece.bytes().find(|b| matches!(b, b'=' | b':' | b'/')) == Some(b'=');
    let err = if looks_like_modifier {
        match all_consuming(modifier).parse(piece) {
            Ok((_, m)) => return Ok(Term::Modifier(m)),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Some(e),
            Err(nom::Err::Incomplete(_)) => None,
        }
    } else {
        match all_consuming(directive).parse(piece) {
            Ok((_, d)) => return Ok(Term::Directive(d)),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Some(e),
            Err(nom::Err::Incomplete(_)) => None,
        }
    };
    let name_end = piece.find(['=', ':', '/']).unwrap_or(piece.len());
    let name = piece
        .get(..name_end)
        .unwrap_or_default()
        .trim_start_matches(['+', '-', '~', '?'])
        .to_ascii_lowercase();
    let fallback = if looks_like_modifier {
        ParseErrorKind::InvalidModifier
    } else {
        match KNOWN_MECHANISMS.iter().find(|m| **m == name) {
            Some(m) => ParseErrorKind::InvalidMechanism(m),
            None => ParseErrorKind::UnknownMechanism,
        }
    };
    let (at, kind) = match err {
        Some(e) => (
            piece.len().saturating_sub(e.input.len()),
            match e.kind {
                Some(k @ (ParseErrorKind::InvalidMacro | ParseErrorKind::InvalidDomainSpec)) => k,
                _ => fallback,
            },
        ),
        None => (0, fallback),
    };
    Err(ParseError::new(offset + at, kind, piece))
}

const KNOWN_MECHANISMS: [&str; 8] = ["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"];

/// RFC 7208 §12:
///
/// ```abnf
/// directive        = [ qualifier ] mechanism
/// ```
pub(super) fn directive(i: &str) -> PResult<'_, Directive> {
    map((opt(qualifier), mechanism), |(q, m)| Directive {
        qualifier: q.unwrap_or_default(),
        mechanism: m,
    })
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// qualifier        = "+" / "-" / "?" / "~"
/// ```
fn qualifier(i: &str) -> PResult<'_, Qualifier> {
    alt((
        value(Qualifier::Pass, char('+')),
        value(Qualifier::Fail, char('-')),
        value(Qualifier::Neutral, char('?')),
        value(Qualifier::SoftFail, char('~')),
    ))
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// mechanism        = ( all / include
///                    / a / mx / ptr / ip4 / ip6 / exists )
/// ```
///
/// The alternatives start with distinct names, so the name (the letters and digits up to the
/// first other character) selects the one alternative that can match.
fn mechanism(i: &str) -> PResult<'_, Mechanism> {
    let len = i
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(i.len());
    let name = i.get(..len).unwrap_or_default();
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    if is("all") {
        all(i)
    } else if is("include") {
        include(i)
    } else if is("a") {
        a(i)
    } else if is("mx") {
        mx(i)
    } else if is("ptr") {
        ptr(i)
    } else if is("ip4") {
        ip4(i)
    } else if is("ip6") {
        ip6(i)
    } else if is("exists") {
        exists(i)
    } else {
        fail(i, ParseErrorKind::UnknownMechanism)
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// all              = "all"
/// ```
fn all(i: &str) -> PResult<'_, Mechanism> {
    value(Mechanism::All, all_consuming(keyword("all"))).parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// include          = "include"  ":" domain-spec
/// ```
fn include(i: &str) -> PResult<'_, Mechanism> {
    map(
        preceded((keyword("include"), char(':')), domain_spec),
        Mechanism::Include,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// a                = "a"      [ ":" domain-spec ] [ dual-cidr-length ]
/// ```
fn a(i: &str) -> PResult<'_, Mechanism> {
    let (i, _) = keyword("a")(i)?;
    let (i, (spec, cidr)) = spec_and_dual_cidr(i)?;
    Ok((i, Mechanism::A(spec, cidr)))
}

/// RFC 7208 §12:
///
/// ```abnf
/// mx               = "mx"     [ ":" domain-spec ] [ dual-cidr-length ]
/// ```
fn mx(i: &str) -> PResult<'_, Mechanism> {
    let (i, _) = keyword("mx")(i)?;
    let (i, (spec, cidr)) = spec_and_dual_cidr(i)?;
    Ok((i, Mechanism::Mx(spec, cidr)))
}

/// `[ ":" domain-spec ] [ dual-cidr-length ]` up to the end of the term.
///
/// `macro-literal` includes `/`, so the ABNF is ambiguous between the end of the domain-spec
/// and the start of the CIDR length; the only reading that can succeed is the one where the
/// text after some `/` is a complete `dual-cidr-length` and the text before it a complete
/// `domain-spec` (a valid domain-spec ends in a macro or a toplabel, never in `/digits`, so at
/// most one split works).
fn spec_and_dual_cidr(i: &str) -> PResult<'_, (Option<MacroString>, DualCidr)> {
    let Some(rest) = i.strip_prefix(':') else {
        let (i, cidr) = dual_cidr_length(i)?;
        return Ok((i, (None, cidr)));
    };
    let splits = rest
        .match_indices('/')
        .map(|(p, _)| p)
        .chain(std::iter::once(rest.len()));
    let mut last_err = None;
    let mut bad_cidr_at = None;
    for p in splits {
        let (Some(spec_text), Some(cidr_text)) = (rest.get(..p), rest.get(p..)) else {
            continue;
        };
        let Ok((_, cidr)) = all_consuming(dual_cidr_length).parse(cidr_text) else {
            if bad_cidr_at.is_none() && all_consuming(domain_spec).parse(spec_text).is_ok() {
                bad_cidr_at = Some(cidr_text);
            }
            continue;
        };
        match all_consuming(domain_spec).parse(spec_text) {
            Ok((_, spec)) => return Ok(("", (Some(spec), cidr))),
            Err(e) => last_err = Some(e),
        }
    }
    match (bad_cidr_at, last_err) {
        // A valid domain-spec followed by a bad CIDR length: the mechanism's argument is wrong.
        (Some(at), _) => Err(nom::Err::Error(PError {
            input: at,
            kind: None,
        })),
        (None, Some(e)) => Err(e),
        (None, None) => all_consuming(domain_spec)
            .parse(rest)
            .map(|(r, spec)| (r, (Some(spec), DualCidr::default()))),
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// ptr              = "ptr"    [ ":" domain-spec ]
/// ```
fn ptr(i: &str) -> PResult<'_, Mechanism> {
    map(
        preceded(keyword("ptr"), opt(preceded(char(':'), domain_spec))),
        Mechanism::Ptr,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip4              = "ip4"      ":" ip4-network   [ ip4-cidr-length ]
/// ```
fn ip4(i: &str) -> PResult<'_, Mechanism> {
    map(
        preceded(
            (keyword("ip4"), char(':')),
            (ip4_network, opt(ip4_cidr_length)),
        ),
        |(net, len)| Mechanism::Ip4(net, len),
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip6              = "ip6"      ":" ip6-network   [ ip6-cidr-length ]
/// ```
fn ip6(i: &str) -> PResult<'_, Mechanism> {
    map(
        preceded(
            (keyword("ip6"), char(':')),
            (ip6_network, opt(ip6_cidr_length)),
        ),
        |(net, len)| Mechanism::Ip6(net, len),
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// exists           = "exists"   ":" domain-spec
/// ```
fn exists(i: &str) -> PResult<'_, Mechanism> {
    map(
        preceded((keyword("exists"), char(':')), domain_spec),
        Mechanism::Exists,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// modifier         = redirect / explanation / unknown-modifier
/// ```
pub(super) fn modifier(i: &str) -> PResult<'_, Modifier> {
    alt((redirect, explanation, unknown_modifier)).parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// redirect         = "redirect" "=" domain-spec
/// ```
fn redirect(i: &str) -> PResult<'_, Modifier> {
    map(
        preceded((keyword("redirect"), char('=')), domain_spec),
        Modifier::Redirect,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// explanation      = "exp" "=" domain-spec
/// ```
fn explanation(i: &str) -> PResult<'_, Modifier> {
    map(
        preceded((keyword("exp"), char('=')), domain_spec),
        Modifier::Explanation,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// unknown-modifier = name "=" macro-string
///                    ; where name is not any known modifier
/// ```
fn unknown_modifier(i: &str) -> PResult<'_, Modifier> {
    let (rest, n) = verify(name, |n: &str| {
        !n.eq_ignore_ascii_case("redirect") && !n.eq_ignore_ascii_case("exp")
    })
    .parse(i)?;
    let (rest, _) = char('=')(rest)?;
    let (rest, value) = macro_string(rest)?;
    Ok((
        rest,
        Modifier::Unknown {
            name: n.to_owned(),
            value,
        },
    ))
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip4-cidr-length  = "/" ("0" / %x31-39 0*1DIGIT) ; value range 0-32
/// ```
pub(super) fn ip4_cidr_length(i: &str) -> PResult<'_, u8> {
    preceded(char('/'), cidr_value(32, 1)).parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip6-cidr-length  = "/" ("0" / %x31-39 0*2DIGIT) ; value range 0-128
/// ```
pub(super) fn ip6_cidr_length(i: &str) -> PResult<'_, u8> {
    preceded(char('/'), cidr_value(128, 2)).parse(i)
}

/// `"0" / %x31-39 0*<extra>DIGIT`, with the value at most `max`: one to `extra + 1` digits,
/// no leading zero (a `0` followed by more digits stops after the `0`, as the ABNF does).
fn cidr_value<'a>(max: u8, extra: usize) -> impl Fn(&'a str) -> PResult<'a, u8> {
    move |i: &'a str| {
        let digits = i
            .bytes()
            .take(extra + 1)
            .take_while(u8::is_ascii_digit)
            .count();
        let digits = if i.starts_with('0') {
            digits.min(1)
        } else {
            digits
        };
        let value = i
            .get(..digits)
            .filter(|d| !d.is_empty())
            .and_then(|d| d.parse::<u8>().ok())
            .filter(|v| *v <= max);
        match (value, i.get(digits..)) {
            (Some(v), Some(rest)) => Ok((rest, v)),
            _ => Err(nom::Err::Error(PError {
                input: i,
                kind: None,
            })),
        }
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
/// ```
fn dual_cidr_length(i: &str) -> PResult<'_, DualCidr> {
    map(
        (
            opt(ip4_cidr_length),
            opt(preceded(char('/'), ip6_cidr_length)),
        ),
        |(v4, v6)| DualCidr { v4, v6 },
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip4-network      = qnum "." qnum "." qnum "." qnum
/// ```
pub(super) fn ip4_network(i: &str) -> PResult<'_, Ipv4Addr> {
    map(
        (
            qnum,
            preceded(char('.'), qnum),
            preceded(char('.'), qnum),
            preceded(char('.'), qnum),
        ),
        |(a, b, c, d)| Ipv4Addr::new(a, b, c, d),
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// qnum             = DIGIT                 ; 0-9
///                    / %x31-39 DIGIT       ; 10-99
///                    / "1" 2DIGIT          ; 100-199
///                    / "2" %x30-34 DIGIT   ; 200-249
///                    / "25" %x30-35        ; 250-255
/// ```
///
/// Written as "one to three digits, no leading zero, at most 255", which accepts exactly the
/// same strings.
fn qnum(i: &str) -> PResult<'_, u8> {
    let len = i.bytes().take(3).take_while(u8::is_ascii_digit).count();
    let value = i
        .get(..len)
        .filter(|d| !(d.is_empty() || (d.len() > 1 && d.starts_with('0'))))
        .and_then(|d| d.parse::<u8>().ok());
    match (value, i.get(len..)) {
        (Some(v), Some(rest)) => Ok((rest, v)),
        _ => Err(nom::Err::Error(PError {
            input: i,
            kind: None,
        })),
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip6-network      = <as per Section 2.2 of [RFC4291]>
/// ```
///
/// The text forms of RFC 4291 §2.2 (full, `::`-compressed, and with an embedded dotted quad).
/// Hex-only forms are read by [`hex_ipv6`]; forms with a dotted quad go to the standard
/// library, which implements exactly those forms (a property test checks both agree).
fn ip6_network(i: &str) -> PResult<'_, Ipv6Addr> {
    map_res(
        take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.'),
        |s: &str| {
            if s.contains('.') {
                s.parse::<Ipv6Addr>().map_err(|_| ())
            } else {
                hex_ipv6(s.as_bytes()).ok_or(())
            }
        },
    )
    .parse(i)
}

/// RFC 4291 §2.2 forms 1 and 2: eight groups of one to four hex digits, or fewer with one
/// `::` standing for at least one group of zeros. Read octet by octet (no splitting: this is on
/// the hot path of every `ip6:` term).
fn hex_ipv6(b: &[u8]) -> Option<Ipv6Addr> {
    let (addr, n) = hex_ipv6_prefix(b)?;
    (n == b.len()).then_some(addr)
}

/// The longest RFC 4291 §2.2 form 1 or 2 address at the start of `b` and its length: it ends
/// after a group not followed by `:`, or after a `::` not followed by a hex digit. `None` when
/// the groups before that are malformed (a group of five digits, a `:` followed by neither a
/// group nor a second `:`, two `::`, too many groups).
pub(super) fn hex_ipv6_prefix(b: &[u8]) -> Option<(Ipv6Addr, usize)> {
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (mut nh, mut nt) = (0usize, 0usize);
    let mut gap = false;
    let mut i = 0;
    let hex_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    if b.starts_with(b"::") {
        gap = true;
        i = 2;
        if !hex_at(2) {
            return Some((Ipv6Addr::UNSPECIFIED, 2));
        }
    }
    // Each turn reads one group (at least one octet), so the loop ends within `b.len()` turns.
    loop {
        // One group: one to four hex digits.
        let start = i;
        let mut v: u16 = 0;
        while let Some(d) = b.get(i).and_then(|c| hex_digit(*c)) {
            if i - start == 4 {
                return None;
            }
            v = (v << 4) | u16::from(d);
            i += 1;
        }
        if i == start {
            return None;
        }
        if gap {
            *tail.get_mut(nt)? = v;
            nt += 1;
        } else {
            *head.get_mut(nh)? = v;
            nh += 1;
        }
        if b.get(i) != Some(&b':') {
            break;
        }
        i += 1;
        if b.get(i) == Some(&b':') {
            if gap {
                return None;
            }
            gap = true;
            i += 1;
            if !hex_at(i) {
                break;
            }
        }
    }
    if gap {
        if nh + nt > 7 {
            return None;
        }
        let start = 8 - nt;
        for k in 0..nt {
            *head.get_mut(start + k)? = *tail.get(k)?;
        }
    } else if nh != 8 {
        return None;
    }
    Some((Ipv6Addr::from(head), i))
}

/// The value of a hex digit (one table load: this runs for every octet of every `ip6:`).
fn hex_digit(c: u8) -> Option<u8> {
    /// Octet → its hex value, or 0xFF for a non-hex octet.
    // Built at compile time: an index out of range would fail the build, not panic.
    #[allow(clippy::indexing_slicing)]
    const VALUES: [u8; 256] = {
        let mut t = [0xFF_u8; 256];
        let mut v = 0u8;
        while v < 16 {
            let lower = if v < 10 { b'0' + v } else { b'a' + v - 10 };
            t[lower as usize] = v;
            t[lower.to_ascii_uppercase() as usize] = v;
            v += 1;
        }
        t
    };
    VALUES.get(usize::from(c)).copied().filter(|v| *v != 0xFF)
}

/// RFC 7208 §12 (and §7.1):
///
/// ```abnf
/// domain-spec      = macro-string domain-end
/// ```
///
/// `macro-string` is greedy, so the `domain-end` is checked on the parsed tokens: the last
/// token is a macro, or the trailing literal ends in `"." toplabel [ "." ]`. RFC 7208 §7.2:
/// `c`, `r` and `t` "are allowed only in "exp" text", so they are rejected here.
fn domain_spec(i: &str) -> PResult<'_, MacroString> {
    let (rest, ms) = macro_string(i)?;
    if ms.tokens.iter().any(
        |t| matches!(t, MacroToken::Expand(MacroExpand { letter, .. }) if letter.is_explanation_only()),
    ) {
        return cut(i, ParseErrorKind::InvalidMacro);
    }
    let ok = match ms.tokens.last() {
        None => false,
        Some(MacroToken::Literal(lit)) => all_consuming(domain_end_literal).parse(lit).is_ok(),
        Some(_) => true,
    };
    if ok {
        Ok((rest, ms))
    } else {
        fail(rest, ParseErrorKind::InvalidDomainSpec)
    }
}

/// The literal form of RFC 7208 §12:
///
/// ```abnf
/// domain-end       = ( "." toplabel [ "." ] ) / macro-expand
/// ```
///
/// applied to the trailing literal of a domain-spec: any text, then `"." toplabel [ "." ]` at the
/// end.
pub(super) fn domain_end_literal(lit: &str) -> PResult<'_, ()> {
    let body = lit.strip_suffix('.').unwrap_or(lit);
    match body.rfind('.') {
        Some(dot) => {
            let label = body.get(dot + 1..).unwrap_or_default();
            let (_, _) = all_consuming(toplabel).parse(label)?;
            Ok(("", ()))
        }
        None => fail(lit, ParseErrorKind::InvalidDomainSpec),
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// toplabel         = ( *alphanum ALPHA *alphanum ) /
///                    ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
/// ```
fn toplabel(i: &str) -> PResult<'_, &str> {
    verify(take_while1(|c: char| alphanum(c) || c == '-'), |s: &str| {
        if s.contains('-') {
            // Second form: starts and ends with alphanum, contains a hyphen.
            s.starts_with(alphanum) && s.ends_with(alphanum)
        } else {
            // First form: all alphanum with at least one letter.
            s.chars().any(|c| c.is_ascii_alphabetic())
        }
    })
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// alphanum         = ALPHA / DIGIT
/// ```
fn alphanum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// RFC 7208 §12:
///
/// ```abnf
/// explain-string   = *( macro-string / SP )
/// ```
fn explain_string(i: &str) -> PResult<'_, MacroString> {
    map(
        many0(alt((
            macro_expand,
            macro_literal,
            map(take_while1(|c| c == ' '), |s: &str| {
                MacroToken::Literal(s.to_owned())
            }),
        ))),
        merge_literals,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// macro-string     = *( macro-expand / macro-literal )
/// ```
fn macro_string(i: &str) -> PResult<'_, MacroString> {
    map(many0(alt((macro_expand, macro_literal))), merge_literals).parse(i)
}

fn merge_literals(tokens: Vec<MacroToken>) -> MacroString {
    let mut out: Vec<MacroToken> = Vec::with_capacity(tokens.len());
    for t in tokens {
        match (out.last_mut(), t) {
            (Some(MacroToken::Literal(prev)), MacroToken::Literal(s)) => prev.push_str(&s),
            (_, t) => out.push(t),
        }
    }
    MacroString { tokens: out }
}

/// RFC 7208 §12:
///
/// ```abnf
/// macro-expand     = ( "%{" macro-letter transformers *delimiter "}" )
///                    / "%%" / "%_" / "%-"
/// ```
///
/// RFC 7208 §7.3: "A '%' character not followed by a '{', '%', '-', or '_' character is a
/// syntax error", so a `%` that starts no valid macro is a hard failure (no backtracking).
fn macro_expand(i: &str) -> PResult<'_, MacroToken> {
    if !i.starts_with('%') {
        return fail(i, ParseErrorKind::InvalidMacro);
    }
    let r = alt((
        value(MacroToken::Percent, tag("%%")),
        value(MacroToken::Space, tag("%_")),
        value(MacroToken::UrlSpace, tag("%-")),
        map(
            (
                tag("%{"),
                macro_letter,
                transformers,
                many0(delimiter),
                char('}'),
            ),
            |(_, (letter, url_escape), (digits, reverse), delims, _)| {
                MacroToken::Expand(MacroExpand {
                    letter,
                    url_escape,
                    digits,
                    reverse,
                    delimiters: delims.into_iter().collect(),
                })
            },
        ),
    ))
    .parse(i);
    match r {
        Ok(ok) => Ok(ok),
        Err(nom::Err::Error(_) | nom::Err::Failure(_)) => cut(i, ParseErrorKind::InvalidMacro),
        Err(e) => Err(e),
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// macro-literal    = %x21-24 / %x26-7E
///                    ; visible characters except "%"
/// ```
///
/// Runs of literals are taken at once.
fn macro_literal(i: &str) -> PResult<'_, MacroToken> {
    map(
        take_while1(|c| matches!(c, '\x21'..='\x24' | '\x26'..='\x7e')),
        |s: &str| MacroToken::Literal(s.to_owned()),
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// macro-letter     = "s" / "l" / "o" / "d" / "i" / "p" / "h" /
///                    "c" / "r" / "t" / "v"
/// ```
///
/// Returns the letter and whether it was upper-case (URL escaping, RFC 7208 §7.3).
fn macro_letter(i: &str) -> PResult<'_, (MacroLetter, bool)> {
    let (rest, c) = satisfy(|c| MacroLetter::from_char(c).is_some())(i)?;
    match MacroLetter::from_char(c) {
        Some(l) => Ok((rest, (l, c.is_ascii_uppercase()))),
        None => fail(i, ParseErrorKind::InvalidMacro),
    }
}

/// RFC 7208 §12:
///
/// ```abnf
/// transformers     = *DIGIT [ "r" ]
/// ```
///
/// RFC 7208 §7.3: "If a DIGIT is specified, the value MUST be nonzero". Values too large for a
/// `u32` are kept as `u32::MAX` (both mean "all parts").
fn transformers(i: &str) -> PResult<'_, (Option<u32>, bool)> {
    let (rest, digits) = take_while(|c: char| c.is_ascii_digit())(i)?;
    let n = if digits.is_empty() {
        None
    } else {
        let v = digits.bytes().fold(0u32, |acc, d| {
            acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
        });
        if v == 0 {
            return cut(i, ParseErrorKind::InvalidMacro);
        }
        Some(v)
    };
    let (rest, r) = opt(one_of("rR")).parse(rest)?;
    Ok((rest, (n, r.is_some())))
}

/// RFC 7208 §12:
///
/// ```abnf
/// delimiter        = "." / "-" / "+" / "," / "/" / "_" / "="
/// ```
fn delimiter(i: &str) -> PResult<'_, char> {
    one_of(".-+,/_=")(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// name             = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
/// ```
fn name(i: &str) -> PResult<'_, &str> {
    recognize((
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
    ))
    .parse(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hex-only reader accepts exactly the RFC 4291 §2.2 forms 1 and 2 that the
        /// standard library accepts, with the same value.
        #[test]
        fn hex_ipv6_agrees_with_std(
            s in "(::)?([0-9a-fA-F]{1,5}(:|::)){0,9}[0-9a-fA-F]{0,5}(::)?|[0-9a-fA-F:]{0,20}"
        ) {
            proptest::prop_assert_eq!(hex_ipv6(s.as_bytes()), s.parse::<Ipv6Addr>().ok());
        }
    }

    #[test]
    fn hex_digits() {
        for c in 0..=u8::MAX {
            let want = char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok());
            assert_eq!(hex_digit(c), want, "{c:#x}");
        }
    }

    #[test]
    fn hex_ipv6_prefix_ends() {
        let at = |s: &str| hex_ipv6_prefix(s.as_bytes()).map(|(_, n)| n);
        assert_eq!(at("2001:db8::/48"), Some(10));
        assert_eq!(at(":: x"), Some(2));
        assert_eq!(at("1:2:3:4:5:6:7:8 "), Some(15));
        assert_eq!(at("1::2:3.4"), Some(6));
        assert_eq!(at("1:2:3:4:5:6:7/"), None);
        assert_eq!(at("2001:/32"), None);
        assert_eq!(at("1::2::3"), None);
        assert_eq!(at("12345::"), None);
        for s in [
            "1:2:3:4:5:6:7::8",
            "::1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7::",
            "::",
            "1::",
        ] {
            assert_eq!(hex_ipv6(s.as_bytes()), s.parse::<Ipv6Addr>().ok(), "{s}");
        }
    }

    fn ok(s: &str) -> SpfRecord {
        SpfRecord::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> ParseError {
        SpfRecord::parse(s).expect_err(s)
    }

    #[test]
    fn version_rule() {
        assert!(version("v=spf1").is_ok());
        assert!(version("V=SpF1 -all").is_ok());
        assert!(version("v=spf10").is_err());
        assert!(version("v=spf1\t-all").is_err());
        assert_eq!(err("v=spf1-all").kind, ParseErrorKind::Version);
        assert_eq!(ok("v=spf1").terms, vec![]);
    }

    #[test]
    fn terms_rule_spaces() {
        assert_eq!(ok("v=spf1   -all   ").terms.len(), 1);
        assert_eq!(err("v=spf1 -all\t").kind, ParseErrorKind::InvalidCharacter);
        assert_eq!(err("v=spf1 a\u{0}").kind, ParseErrorKind::InvalidCharacter);
        assert_eq!(err("v=spf1 a:é.com").kind, ParseErrorKind::InvalidCharacter);
    }

    #[test]
    fn qualifier_rule() {
        for (q, want) in [
            ("+", Qualifier::Pass),
            ("-", Qualifier::Fail),
            ("~", Qualifier::SoftFail),
            ("?", Qualifier::Neutral),
        ] {
            assert_eq!(qualifier(q).unwrap().1, want);
        }
        assert!(qualifier("!").is_err());
        assert!(err("v=spf1 ++all").offset > 0);
    }

    #[test]
    fn all_rule() {
        assert_eq!(all("ALL").unwrap().1, Mechanism::All);
        for bad in [
            "v=spf1 all.",
            "v=spf1 all:foo",
            "v=spf1 all/8",
            "v=spf1 alll",
        ] {
            err(bad);
        }
    }

    #[test]
    fn include_rule() {
        assert!(matches!(
            include("include:_spf.example.com").unwrap().1,
            Mechanism::Include(_)
        ));
        for bad in [
            "include",
            "include:",
            "include:example.com/24",
            "include:foo",
        ] {
            assert!(all_consuming(include).parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_and_mx_rules() {
        let (_, m) = a("a:example.com/24//64").unwrap();
        assert_eq!(m.to_string(), "a:example.com/24//64");
        assert_eq!(a("a").unwrap().1, Mechanism::A(None, DualCidr::default()));
        assert_eq!(
            mx("MX//0").unwrap().1,
            Mechanism::Mx(
                None,
                DualCidr {
                    v4: None,
                    v6: Some(0)
                }
            )
        );
        // A ':' is a macro-literal, allowed inside the domain-spec (not in the toplabel).
        assert!(all_consuming(a).parse("a:foo:bar/baz.example.com").is_ok());
        for bad in [
            "a/33",
            "a//129",
            "a/024",
            "a:",
            "a:foo",
            "a:foo.1",
            "a:foo.-bar",
            "a:example.com/24/64",
            "a:example.com.23",
            "a:example.com\u{0}",
        ] {
            assert!(all_consuming(a).parse(bad).is_err(), "{bad}");
        }
        assert!(all_consuming(mx).parse("mx:foo.com/").is_err());
        assert_eq!(
            err("v=spf1 mx:foo.com/33").kind,
            ParseErrorKind::InvalidMechanism("mx")
        );
    }

    #[test]
    fn ptr_and_exists_rules() {
        assert_eq!(ptr("ptr").unwrap().1, Mechanism::Ptr(None));
        assert!(all_consuming(ptr).parse("ptr:example.com").is_ok());
        assert!(all_consuming(ptr).parse("ptr:").is_err());
        assert!(all_consuming(ptr).parse("ptr/24").is_err());
        assert!(
            all_consuming(exists)
                .parse("exists:%{ir}.bl.example")
                .is_ok()
        );
        assert!(all_consuming(exists).parse("exists").is_err());
        assert!(all_consuming(exists).parse("exists:foo.com/24").is_err());
    }

    #[test]
    fn ip4_rule_and_qnum() {
        assert_eq!(
            ip4("ip4:192.0.2.0/24").unwrap().1,
            Mechanism::Ip4(Ipv4Addr::new(192, 0, 2, 0), Some(24))
        );
        assert_eq!(qnum("255").unwrap().1, 255);
        assert!(qnum("256").is_err());
        assert!(qnum("01").is_err());
        for bad in [
            "ip4",
            "ip4:",
            "ip4:192.0.2",
            "ip4:192.0.2.0/33",
            "ip4:192.0.2.0/032",
            "ip4:192.0.2.0//64",
            "ip4:192.0.2.1:25",
            "ip4:192.00.2.1",
            "ip4:1.2.3.4/",
        ] {
            assert!(all_consuming(ip4).parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ip6_rule() {
        assert!(all_consuming(ip6).parse("ip6:2001:db8::/32").is_ok());
        assert!(all_consuming(ip6).parse("ip6:::ffff:192.0.2.1").is_ok());
        assert!(all_consuming(ip6).parse("IP6:::/0").is_ok());
        for bad in [
            "ip6",
            "ip6:",
            "ip6:::/129",
            "ip6:2001:db8::/0128",
            "ip6:2001:db8::/32/64",
            "ip6:1.2.3.4",
            "ip6:::g",
        ] {
            assert!(all_consuming(ip6).parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidr_rules() {
        assert_eq!(ip4_cidr_length("/0").unwrap().1, 0);
        assert_eq!(ip4_cidr_length("/32").unwrap().1, 32);
        assert!(ip4_cidr_length("/33").is_err());
        assert!(ip4_cidr_length("/").is_err());
        assert_eq!(ip6_cidr_length("/128").unwrap().1, 128);
        assert!(ip6_cidr_length("/129").is_err());
        assert_eq!(dual_cidr_length("").unwrap().1, DualCidr::default());
        assert_eq!(
            dual_cidr_length("/24//64").unwrap().1,
            DualCidr {
                v4: Some(24),
                v6: Some(64)
            }
        );
    }

    #[test]
    fn modifier_rules() {
        assert!(matches!(
            modifier("redirect=_spf.example.com").unwrap().1,
            Modifier::Redirect(_)
        ));
        assert!(matches!(
            modifier("EXP=x.%{d}").unwrap().1,
            Modifier::Explanation(_)
        ));
        assert!(matches!(
            modifier("moo.cow-far_out=man:dog/cat").unwrap().1,
            Modifier::Unknown { .. }
        ));
        assert!(all_consuming(modifier).parse("=foo").is_err());
        assert!(all_consuming(modifier).parse("1x=foo").is_err());
        assert!(all_consuming(modifier).parse("x=%y").is_err());
        assert!(all_consuming(modifier).parse("exp=").is_err());
        assert!(all_consuming(modifier).parse("redirect=").is_err());
        assert!(all_consuming(modifier).parse("redirect=foo").is_err());
        assert_eq!(
            err("v=spf1 exp=a.com EXP=b.com").kind,
            ParseErrorKind::DuplicateModifier("exp")
        );
        assert_eq!(
            err("v=spf1 redirect=a.com redirect=a.com").kind,
            ParseErrorKind::DuplicateModifier("redirect")
        );
        // Unknown modifiers may repeat (RFC 7208 §6).
        ok("v=spf1 foo=1 foo=2");
    }

    #[test]
    fn name_rule() {
        assert_eq!(name("a-b_c.d9=").unwrap().1, "a-b_c.d9");
        assert!(name("9a").is_err());
        assert!(name("_a").is_err());
    }

    #[test]
    fn domain_spec_and_toplabel() {
        for good in [
            "example.com",
            "example.com.",
            "%{d}",
            "foo.%{d}",
            "a.x-1",
            "a.1-x",
            "%{d}.%%",
            ".com",
        ] {
            assert!(parse_domain_spec_str(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "com",
            "com.",
            "example.123",
            "example.-com",
            "example.com-",
            "a.b..",
            "%{c}.com",
            "x.%{r}",
            "%{t}",
            "%{d}.",
        ] {
            assert!(parse_domain_spec_str(bad).is_err(), "{bad}");
        }
        assert!(toplabel("com").is_ok());
        assert!(all_consuming(toplabel).parse("12").is_err());
        assert!(all_consuming(toplabel).parse("1-2").is_ok());
    }

    #[test]
    fn macro_rules() {
        assert_eq!(macro_expand("%%").unwrap().1, MacroToken::Percent);
        assert_eq!(macro_expand("%_").unwrap().1, MacroToken::Space);
        assert_eq!(macro_expand("%-").unwrap().1, MacroToken::UrlSpace);
        let (_, t) = macro_expand("%{L12r-+}").unwrap();
        assert_eq!(
            t,
            MacroToken::Expand(MacroExpand {
                letter: MacroLetter::LocalPart,
                url_escape: true,
                digits: Some(12),
                reverse: true,
                delimiters: "-+".into()
            })
        );
        for bad in [
            "%", "%x", "%(ir)", "%{x}", "%{d0}", "%{d", "%{dr.x}", "%{ d}",
        ] {
            assert!(macro_expand(bad).is_err(), "{bad}");
        }
        assert!(macro_literal("%").is_err());
        assert!(macro_literal(" ").is_err());
        assert_eq!(delimiter("=").unwrap().1, '=');
        assert!(delimiter("a").is_err());
        assert_eq!(transformers("").unwrap().1, (None, false));
        assert_eq!(
            transformers("99999999999r").unwrap().1,
            (Some(u32::MAX), true)
        );
        assert_eq!(macro_letter("D").unwrap().1, (MacroLetter::Domain, true));
        assert!(macro_letter("x").is_err());
        assert_eq!(
            err("v=spf1 exists:%(ir).sbl.example.org").kind,
            ParseErrorKind::InvalidMacro
        );
    }

    #[test]
    fn explain_string_rule() {
        let m =
            parse_explain_string_str("%{i} is not one of %{d}'s designated mail servers.").unwrap();
        assert_eq!(
            m.to_string(),
            "%{i} is not one of %{d}'s designated mail servers."
        );
        assert!(parse_explain_string_str("%{c} %{r} %{t}").is_ok());
        assert!(parse_explain_string_str("bad % here").is_err());
        assert!(parse_explain_string_str("tab\there").is_err());
        assert!(parse_explain_string_str("").is_ok());
    }

    #[test]
    fn error_positions_name_the_term() {
        let e = err("v=spf1 a mx ip4:1.2.3.4/40 -all");
        // The offset points at the CIDR length that broke the rule.
        assert_eq!(e.offset, 23);
        assert_eq!(e.term, "ip4:1.2.3.4/40");
        assert_eq!(e.kind, ParseErrorKind::InvalidMechanism("ip4"));
        let e = err("v=spf1 -all foo");
        assert_eq!((e.offset, e.kind), (12, ParseErrorKind::UnknownMechanism));
        let e = err("v=spf1 redirect:example.com");
        assert_eq!(e.kind, ParseErrorKind::UnknownMechanism);
    }
}
