//! The nom 8 parser: one function per ABNF rule of
//! [RFC 7208 §12](https://www.rfc-editor.org/rfc/rfc7208#section-12), named after the rule.
//!
//! nom stays private: the public entry points are [`SpfRecord::parse`],
//! [`MacroString::parse_domain_spec`] and [`MacroString::parse_explain_string`]. Terms never
//! contain a space (`macro-literal` excludes it), so [`terms`] splits the record on spaces and
//! every term parser sees exactly one term.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

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

type PResult<'a, T> = IResult<&'a str, T, PError<'a>>;

fn fail<T>(input: &str, kind: ParseErrorKind) -> PResult<'_, T> {
    Err(nom::Err::Error(PError::at(input, kind)))
}

fn cut<T>(input: &str, kind: ParseErrorKind) -> PResult<'_, T> {
    Err(nom::Err::Failure(PError::at(input, kind)))
}

/// A case-insensitive ASCII keyword (RFC 7208 §12: "literal text strings (those in quotes) are
/// case-insensitive"). nom's `tag_no_case` lower-cases Unicode; the ABNF literals are ASCII.
fn kw<'a>(word: &'static str) -> impl Fn(&'a str) -> PResult<'a, &'a str> {
    move |i: &'a str| match (i.get(..word.len()), i.get(word.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(word) => Ok((rest, head)),
        _ => Err(nom::Err::Error(PError {
            input: i,
            kind: None,
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Public entry points.

impl SpfRecord {
    /// Parses a whole record, `v=spf1` included (RFC 7208 §12 `record`).
    ///
    /// # Errors
    ///
    /// A [`ParseError`] with the offending term and its offset: RFC 7208 §4.6 makes any syntax
    /// error anywhere in the record a `permerror`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        record(text)
    }
}

impl FromStr for SpfRecord {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl MacroString {
    /// Parses a `domain-spec` (RFC 7208 §7.1): a macro string that ends in `.toplabel` (with an
    /// optional trailing dot) or in a macro, and that uses none of the explanation-only letters.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] saying where the text stops being a `domain-spec`.
    pub fn parse_domain_spec(text: &str) -> Result<Self, ParseError> {
        parse_domain_spec_str(text)
    }

    /// Parses an `explain-string` (RFC 7208 §6.2, §7.1): macro strings and spaces, every macro
    /// letter allowed.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for a `%` not followed by `{`, `%`, `_` or `-`, an unknown macro letter,
    /// a zero digit transformer, or a character outside visible ASCII and space.
    pub fn parse_explain_string(text: &str) -> Result<Self, ParseError> {
        parse_explain_string_str(text)
    }
}

fn parse_domain_spec_str(text: &str) -> Result<MacroString, ParseError> {
    whole(text, domain_spec, ParseErrorKind::InvalidDomainSpec)
}

fn parse_explain_string_str(text: &str) -> Result<MacroString, ParseError> {
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

/// RFC 7208 §12 (and §4.5):
///
/// ```abnf
/// record           = version terms *SP
/// ```
fn record(text: &str) -> Result<SpfRecord, ParseError> {
    match record_fast(text) {
        Some(r) => Ok(r),
        None => record_general(text),
    }
}

/// [`record`] by the rule functions alone: splits on spaces, then parses term by term.
fn record_general(text: &str) -> Result<SpfRecord, ParseError> {
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
    let (rest, v) = kw("v=spf1")(i)?;
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
fn term(piece: &str, offset: usize) -> Result<Term, ParseError> {
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

// ---------------------------------------------------------------------------------------------
// Fast path: one pass over the record that validates and builds the terms that make up most
// published records (`ip4:`, `ip6:`, `include:` / `ptr:` / `redirect=` with a macro-free
// domain-spec, `all`, `a`, `mx`, `ptr`), read octet by octet without nom and without splitting
// the record first. Other terms (macros, `exp=`, `a:`/`mx:` with CIDR lengths, …) go to the rule
// functions one by one. The fast path accepts a subset of what the rule functions accept and
// builds the same value (property-tested against them); at the first doubt (any error, a
// duplicate modifier, an unusual octet) it gives up and the whole record is parsed again by the
// general path, which finds and names the error exactly as before.

/// The whole record in one pass, or `None` (then [`record`] decides).
fn record_fast(text: &str) -> Option<SpfRecord> {
    let b = text.as_bytes();
    // One word compare (octets past the end read as zero, which `1` never matches).
    if !Kw::VERSION.matches(word8(b, 0)) {
        return None;
    }
    // Presized from the length, without a counting pass over the text: published terms and
    // their space average well over 16 octets.
    let mut out = Vec::with_capacity(b.len() / 16 + 1);
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let mut rest = text.get(6..)?;
    // Each turn consumes at least one space and one octet of a term, or ends the loop.
    loop {
        // RFC 7208 §12: "terms = *( 1*SP ( directive / modifier ) )", then "*SP".
        let spaces = rest.bytes().take_while(|c| *c == b' ').count();
        if spaces == rest.len() {
            break;
        }
        if spaces == 0 {
            return None;
        }
        rest = rest.get(spaces..)?;
        let len = match fast_term(rest, &mut out, &mut seen_redirect) {
            Some(len) => len,
            None => {
                let len = rest.bytes().position(|c| c == b' ').unwrap_or(rest.len());
                let piece = rest.get(..len)?;
                // RFC 7208 §3.1: visible US-ASCII only (the general path reports the error).
                if !piece.bytes().all(|c| matches!(c, b'!'..=b'~')) {
                    return None;
                }
                let t = term(piece, text.len() - rest.len()).ok()?;
                match &t {
                    // RFC 7208 §6: redirect= and exp= at most once each (the general path
                    // names it).
                    Term::Modifier(Modifier::Redirect(_)) if seen_redirect => return None,
                    Term::Modifier(Modifier::Explanation(_)) if seen_exp => return None,
                    Term::Modifier(Modifier::Redirect(_)) => seen_redirect = true,
                    Term::Modifier(Modifier::Explanation(_)) => seen_exp = true,
                    _ => {}
                }
                out.push(t);
                len
            }
        };
        // `len` ends at a space or the end of the record: an octet boundary.
        rest = rest.get(len..)?;
    }
    Some(SpfRecord {
        terms: out,
        targets: Vec::new(),
    })
}

/// One common term at the start of `s` (the rest of the record), ending at a space or the end:
/// pushed to `out`, and its length in octets returned; `None` (and nothing pushed) otherwise.
/// A `redirect=` when `seen_redirect` is already set is left to the general path (RFC 7208 §6:
/// at most once), and sets it otherwise.
fn fast_term(s: &str, out: &mut Vec<Term>, seen_redirect: &mut bool) -> Option<usize> {
    let b = s.as_bytes();
    let (qualifier, q) = match b.first()? {
        b'+' => (Qualifier::Pass, 1),
        b'-' => (Qualifier::Fail, 1),
        b'~' => (Qualifier::SoftFail, 1),
        b'?' => (Qualifier::Neutral, 1),
        _ => (Qualifier::Pass, 0),
    };
    // The name is compared eight octets at a time (see `Kw`).
    let head = word8(b, q);
    let kw = |k: Kw| k.matches(head);
    // Each reader returns what follows the term's argument, which must be a space or the end.
    // Each arm pushes its own variant: with one shared push after the match, the compiler
    // assembles a generic `Term` on the stack and copies it octet by octet.
    let mut push =
        |rest: &[u8], mechanism| push_directive(out, b.len(), rest, qualifier, mechanism);
    match b.get(q)?.to_ascii_lowercase() {
        b'i' if kw(Kw::IP4) => {
            let (net, r) = ip4_network_prefix(b.get(q + 4..)?)?;
            let (len, r) = cidr_prefix(r, 32)?;
            push(r, Mechanism::Ip4(net, len))
        }
        b'i' if kw(Kw::IP6) => {
            let arg = b.get(q + 4..)?;
            let (net, n) = hex_ipv6_prefix(arg)?;
            let (len, r) = cidr_prefix(arg.get(n..)?, 128)?;
            push(r, Mechanism::Ip6(net, len))
        }
        b'i' if kw(Kw::INCLUDE) => {
            let (spec, r) = literal_domain_spec_prefix(s.get(q + 8..)?)?;
            push(r.as_bytes(), Mechanism::Include(spec))
        }
        b'a' if kw(Kw::ALL) => push(b.get(q + 3..)?, Mechanism::All),
        b'a' => push(b.get(q + 1..)?, Mechanism::A(None, DualCidr::default())),
        b'm' if kw(Kw::MX) => push(b.get(q + 2..)?, Mechanism::Mx(None, DualCidr::default())),
        b'p' if kw(Kw::PTR_COLON) => {
            let (spec, r) = literal_domain_spec_prefix(s.get(q + 4..)?)?;
            push(r.as_bytes(), Mechanism::Ptr(Some(spec)))
        }
        b'p' if kw(Kw::PTR) => push(b.get(q + 3..)?, Mechanism::Ptr(None)),
        b'r' if q == 0 && kw(Kw::REDIRECT) && b.get(8) == Some(&b'=') && !*seen_redirect => {
            let (spec, r) = literal_domain_spec_prefix(s.get(9..)?)?;
            if !ends_term(r.as_bytes()) {
                return None;
            }
            *seen_redirect = true;
            out.push(Term::Modifier(Modifier::Redirect(spec)));
            Some(b.len() - r.len())
        }
        _ => None,
    }
}

/// [`fast_term`]'s end: when `rest` ends the term, the directive is pushed and the term's
/// length returned (`len` is that of the text the term starts). Always inlined: called once per
/// arm, and each call then writes its own variant straight into the vector.
#[inline(always)]
fn push_directive(
    out: &mut Vec<Term>,
    len: usize,
    rest: &[u8],
    qualifier: Qualifier,
    mechanism: Mechanism,
) -> Option<usize> {
    if !ends_term(rest) {
        return None;
    }
    out.push(Term::Directive(Directive {
        qualifier,
        mechanism,
    }));
    Some(len - rest.len())
}

/// Whether `rest` (what follows a term's last octet) ends the term: a space or the end.
fn ends_term(rest: &[u8]) -> bool {
    matches!(rest.first(), None | Some(b' '))
}

/// Up to eight octets of `b` from `at`, little-endian (octets past the end read as zero).
fn word8(b: &[u8], at: usize) -> u64 {
    match b.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        Some(w) => u64::from_le_bytes(w),
        None => {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(b.get(at..).unwrap_or_default()) {
                *d = *s;
            }
            u64::from_le_bytes(w)
        }
    }
}

/// A mechanism or modifier name, or the version, (at most eight octets) as compared against
/// [`word8`]: a letter matches either case (its case bit is set before comparing), any other
/// octet only itself; octets after the name are ignored.
#[derive(Clone, Copy)]
struct Kw {
    /// The name in lower case, little-endian.
    value: u64,
    /// 0xFF for each octet of the name.
    keep: u64,
    /// 0x20 for each letter of the name.
    fold: u64,
}

impl Kw {
    /// RFC 7208 §4.5 `version` (the space or end after it is checked by the caller).
    const VERSION: Self = Self::new(b"v=spf1");
    const IP4: Self = Self::new(b"ip4:");
    const IP6: Self = Self::new(b"ip6:");
    const INCLUDE: Self = Self::new(b"include:");
    const ALL: Self = Self::new(b"all");
    const MX: Self = Self::new(b"mx");
    const PTR: Self = Self::new(b"ptr");
    const PTR_COLON: Self = Self::new(b"ptr:");
    /// `redirect` (the `=` after it is checked separately).
    const REDIRECT: Self = Self::new(b"redirect");

    /// For the constants above (lower-case names of at most eight octets).
    const fn new(name: &[u8]) -> Self {
        let (mut value, mut keep, mut fold) = (0u64, 0u64, 0u64);
        let mut i = 0;
        while i < name.len() && i < 8 {
            // `i < name.len()` bounds the index.
            #[allow(clippy::indexing_slicing)]
            let c = name[i];
            value |= (c as u64) << (8 * i);
            keep |= 0xFF << (8 * i);
            if c.is_ascii_lowercase() {
                fold |= 0x20 << (8 * i);
            }
            i += 1;
        }
        Self { value, keep, fold }
    }

    fn matches(self, word: u64) -> bool {
        (word & self.keep) | self.fold == self.value
    }
}

/// `ip4-network` at the start of `a` and what follows it.
fn ip4_network_prefix(a: &[u8]) -> Option<(Ipv4Addr, &[u8])> {
    let (o0, a) = qnum_prefix(a)?;
    let (o1, a) = qnum_prefix(a.strip_prefix(b".")?)?;
    let (o2, a) = qnum_prefix(a.strip_prefix(b".")?)?;
    let (o3, a) = qnum_prefix(a.strip_prefix(b".")?)?;
    Some((Ipv4Addr::new(o0, o1, o2, o3), a))
}

/// A `qnum` at the start of `a` (one to three digits, no leading zero, at most 255, as in
/// [`qnum`]) and what follows it. Taking the longest run of up to three digits is what the
/// rule functions do; a digit left over (a fourth digit, or one after a leading `0`) is not a
/// `.`, `/`, space or the end, so the caller gives up.
fn qnum_prefix(a: &[u8]) -> Option<(u8, &[u8])> {
    let digit = |c: &u8| c - b'0';
    match a {
        [h @ b'1'..=b'9', t @ b'0'..=b'9', o @ b'0'..=b'9', rest @ ..] => {
            let v = u16::from(digit(h)) * 100 + u16::from(digit(t) * 10 + digit(o));
            Some((u8::try_from(v).ok()?, rest))
        }
        [t @ b'1'..=b'9', o @ b'0'..=b'9', rest @ ..] => Some((digit(t) * 10 + digit(o), rest)),
        [o @ b'0'..=b'9', rest @ ..] => Some((digit(o), rest)),
        _ => None,
    }
}

/// An optional `"/" ("0" / %x31-39 0*<extra>DIGIT)` at the start of `a`, at most `max` (the
/// `ip4-cidr-length` / `ip6-cidr-length` rules), and what follows it. The rules allow as many
/// digits as `max` has (two for 32, three for 128); a digit left over is left to the caller's
/// end-of-term test, as in [`qnum_prefix`].
#[inline(always)]
fn cidr_prefix(a: &[u8], max: u8) -> Option<(Option<u8>, &[u8])> {
    let digit = |c: &u8| u16::from(c - b'0');
    let (v, rest) = match a {
        [
            b'/',
            h @ b'1'..=b'9',
            t @ b'0'..=b'9',
            o @ b'0'..=b'9',
            rest @ ..,
        ] if max >= 100 => (digit(h) * 100 + digit(t) * 10 + digit(o), rest),
        [b'/', t @ b'1'..=b'9', o @ b'0'..=b'9', rest @ ..] => (digit(t) * 10 + digit(o), rest),
        [b'/', o @ b'0'..=b'9', rest @ ..] => (digit(o), rest),
        [b'/', ..] => return None,
        _ => return Some((None, a)),
    };
    let v = u8::try_from(v).ok().filter(|v| *v <= max)?;
    Some((Some(v), rest))
}

/// A `domain-spec` without `%` at the start of `s`: a single `macro-literal` run up to a space
/// or the end, that must end in `"." toplabel [ "." ]`; the value and what follows it.
fn literal_domain_spec_prefix(s: &str) -> Option<(MacroString, &str)> {
    let b = s.as_bytes();
    // `macro-literal` octets (%x21-24 / %x26-7E) up to the end of the term.
    let n = literal_run(b);
    let arg = b.get(..n)?;
    if !ends_in_toplabel(arg) {
        return None;
    }
    let (lit, rest) = s.split_at_checked(n)?;
    let spec = MacroString {
        tokens: vec![MacroToken::Literal(lit.to_owned())],
    };
    Some((spec, rest))
}

/// Whether `arg` ends in `"." toplabel [ "." ]` (the literal form of `domain-end`, see
/// [`domain_end_literal`]): the [`toplabel`] rule on octets (only letters, digits and hyphens;
/// then a hyphen inside, not first or last, or else at least one letter) in one backward pass
/// over the last label, which also finds its dot.
fn ends_in_toplabel(arg: &[u8]) -> bool {
    let body = arg.strip_suffix(b".").unwrap_or(arg);
    let (mut alpha, mut hyphen) = (false, false);
    for (k, c) in body.iter().enumerate().rev() {
        match c {
            b'.' => {
                let label = body.get(k + 1..).unwrap_or_default();
                return if hyphen {
                    label.first().is_some_and(u8::is_ascii_alphanumeric)
                        && label.last().is_some_and(u8::is_ascii_alphanumeric)
                } else {
                    alpha
                };
            }
            b'a'..=b'z' | b'A'..=b'Z' => alpha = true,
            b'-' => hyphen = true,
            b'0'..=b'9' => {}
            _ => return false,
        }
    }
    false
}

/// The length of the run of `macro-literal` octets (%x21-24 / %x26-7E) at the start of `b`,
/// eight octets at a time.
fn literal_run(b: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let mut n = 0;
    while let Some(w) = b
        .get(n..n + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map(u64::from_le_bytes)
    {
        // High bit set in each octet below 0x21, above 0x7E, or equal to '%'. Borrows and
        // carries only move upwards from an octet that is itself flagged, so the lowest
        // flagged octet is exact.
        let below = w.wrapping_sub(ONES * 0x21) & !w;
        let above = w.wrapping_add(ONES) | w;
        let pct = w ^ (ONES * u64::from(b'%'));
        let percent = pct.wrapping_sub(ONES) & !pct;
        let bad = (below | above | percent) & HIGH;
        if bad != 0 {
            return n + usize::try_from(bad.trailing_zeros() / 8).unwrap_or(0);
        }
        n += 8;
    }
    while let Some(c) = b.get(n) {
        if *c == b'%' || !(0x21..=0x7e).contains(c) {
            break;
        }
        n += 1;
    }
    n
}

const KNOWN_MECHANISMS: [&str; 8] = ["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"];

/// RFC 7208 §12:
///
/// ```abnf
/// directive        = [ qualifier ] mechanism
/// ```
fn directive(i: &str) -> PResult<'_, Directive> {
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
    value(Mechanism::All, all_consuming(kw("all"))).parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// include          = "include"  ":" domain-spec
/// ```
fn include(i: &str) -> PResult<'_, Mechanism> {
    map(
        preceded((kw("include"), char(':')), domain_spec),
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
    let (i, _) = kw("a")(i)?;
    let (i, (spec, cidr)) = spec_and_dual_cidr(i)?;
    Ok((i, Mechanism::A(spec, cidr)))
}

/// RFC 7208 §12:
///
/// ```abnf
/// mx               = "mx"     [ ":" domain-spec ] [ dual-cidr-length ]
/// ```
fn mx(i: &str) -> PResult<'_, Mechanism> {
    let (i, _) = kw("mx")(i)?;
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
        preceded(kw("ptr"), opt(preceded(char(':'), domain_spec))),
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
        preceded((kw("ip4"), char(':')), (ip4_network, opt(ip4_cidr_length))),
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
        preceded((kw("ip6"), char(':')), (ip6_network, opt(ip6_cidr_length))),
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
        preceded((kw("exists"), char(':')), domain_spec),
        Mechanism::Exists,
    )
    .parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// modifier         = redirect / explanation / unknown-modifier
/// ```
fn modifier(i: &str) -> PResult<'_, Modifier> {
    alt((redirect, explanation, unknown_modifier)).parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// redirect         = "redirect" "=" domain-spec
/// ```
fn redirect(i: &str) -> PResult<'_, Modifier> {
    map(
        preceded((kw("redirect"), char('=')), domain_spec),
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
        preceded((kw("exp"), char('=')), domain_spec),
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
fn ip4_cidr_length(i: &str) -> PResult<'_, u8> {
    preceded(char('/'), cidr_value(32, 1)).parse(i)
}

/// RFC 7208 §12:
///
/// ```abnf
/// ip6-cidr-length  = "/" ("0" / %x31-39 0*2DIGIT) ; value range 0-128
/// ```
fn ip6_cidr_length(i: &str) -> PResult<'_, u8> {
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
fn ip4_network(i: &str) -> PResult<'_, Ipv4Addr> {
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
fn hex_ipv6_prefix(b: &[u8]) -> Option<(Ipv6Addr, usize)> {
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
fn domain_end_literal(lit: &str) -> PResult<'_, ()> {
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

    /// The fast path on one term, which must be all of `piece`.
    fn fast_one(piece: &str) -> Option<Term> {
        let mut out = Vec::new();
        let n = fast_term(piece, &mut out, &mut false)?;
        assert_eq!(out.len(), 1);
        if n == piece.len() { out.pop() } else { None }
    }

    fn fast_directive(piece: &str) -> Option<Directive> {
        match fast_one(piece)? {
            Term::Directive(d) => Some(d),
            Term::Modifier(_) => None,
        }
    }

    fn fast_redirect(piece: &str) -> Option<MacroString> {
        match fast_one(piece)? {
            Term::Modifier(Modifier::Redirect(spec)) => Some(spec),
            _ => None,
        }
    }

    proptest::proptest! {
        /// The hand-written fast path accepts only what the rule functions accept, and builds
        /// the same directive.
        #[test]
        fn fast_path_agrees_with_rules(
            piece in "[-+~?]?(all|ALL|ip4|Ip4|ip6|IP6|include|a|mx|MX|ptr|Ptr)(:[0-9a-fA-F:./]{0,24}|:[0-9a-zA-Z.%{}_/-]{0,20}|:[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}(/[0-9]{1,3})?|:2001:db8:[0-9a-f:]{0,12}(/[0-9]{1,4})?|:[a-z]{1,5}[.][a-z0-9-]{1,4}[.]?)?"
        ) {
            if let Some(fast) = fast_directive(&piece) {
                let slow = all_consuming(directive).parse(piece.as_str()).map(|(_, d)| d);
                proptest::prop_assert_eq!(slow.ok(), Some(fast));
            }
        }
    }

    proptest::proptest! {
        /// A whole record: whenever the one-pass fast path gives a record, the general path
        /// gives the same one (and on any error the general path alone decides).
        #[test]
        fn fast_record_agrees_with_rules(
            terms in proptest::collection::vec("[-+~?]?(all|ALL|ip4|Ip4|ip6|IP6|include|a|mx|MX|ptr|Ptr|exists|redirect|exp|foo)([:=/][0-9a-fA-F:./]{0,24}|[:=][0-9a-zA-Z.%{}_/-]{0,20}|:[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}(/[0-9]{1,3})?|:2001:db8:[0-9a-f:]{0,12}(/[0-9]{1,4})?|[:=][a-z]{1,5}[.][a-z0-9-]{1,4}[.]?)?", 0..6),
            seps in proptest::collection::vec("( |  |\\t|x| \\x01)", 6),
            version in "(v=spf1|V=SPF1|v=spf1 |v=spf)",
        ) {
            let mut text = version;
            for (t, sep) in terms.iter().zip(&seps) {
                text.push_str(sep);
                text.push_str(t);
            }
            if let Some(fast) = record_fast(&text) {
                proptest::prop_assert_eq!(record_general(&text), Ok(fast));
            }
        }
    }

    #[test]
    fn fast_record_covers_published_records() {
        for r in [
            "v=spf1 include:_spf.google.com ~all",
            "v=spf1  ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx ptr -all ",
            "v=spf1 ip4:192.0.2.0/24 a:out.%{d}/28 exists:%{i}._spf.%{d} exp=explain.%{d} -all",
            "v=spf1 redirect=_spf.example.com",
            "v=spf1",
        ] {
            let fast = record_fast(r);
            assert!(fast.is_some(), "{r}");
            assert_eq!(record_general(r).ok(), fast, "{r}");
        }
        for r in [
            "v=spf1 redirect=a.example.com redirect=b.example.com",
            "v=spf1 exp=a.example.com exp=b.example.com",
            "v=spf1 -all\t",
            "v=spf1\tall",
            "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.300",
            "v=spf1 a:\u{e9}.example.com",
            "v=spf10",
        ] {
            assert_eq!(record_fast(r), None, "{r}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_redirect_agrees_with_rules(
            piece in "(redirect|REDIRECT|redirekt)=([0-9a-zA-Z.%{}_/-]{0,20}|[a-z]{1,5}[.][a-z0-9-]{1,4}[.]?)"
        ) {
            if let Some(fast) = fast_redirect(&piece) {
                let slow = all_consuming(modifier).parse(piece.as_str()).map(|(_, m)| m);
                proptest::prop_assert_eq!(slow.ok(), Some(Modifier::Redirect(fast)));
            }
        }
    }

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

    proptest::proptest! {
        /// `literal_run` against the octet-by-octet rule, on text around the edges (space,
        /// '%', DEL, 8-bit, control octets) at every offset of the 8-octet words.
        #[test]
        fn literal_run_agrees_with_octet_rule(
            b in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => 0x21u8..=0x7e,
                    1 => proptest::prop_oneof![
                        proptest::strategy::Just(b' '),
                        proptest::strategy::Just(b'%'),
                        proptest::strategy::Just(0x7f_u8),
                        proptest::strategy::Just(0x20_u8),
                        proptest::strategy::Just(0x21_u8),
                        proptest::strategy::Just(0x7e_u8),
                        0x80u8..=0xff,
                        0u8..0x20,
                    ],
                ],
                0..40,
            ),
        ) {
            let want = b
                .iter()
                .position(|c| *c == b'%' || !(0x21..=0x7e).contains(c))
                .unwrap_or(b.len());
            proptest::prop_assert_eq!(literal_run(&b), want);
        }
    }

    proptest::proptest! {
        /// `ip4_network_prefix` against the `ip4-network` rule and the standard library, where
        /// the address is followed by what can follow it in a term (`/`, a space, the end).
        #[test]
        fn ip4_network_prefix_agrees_with_rule_and_std(
            s in "[0-9]{1,4}([.][0-9]{1,4}){0,4}[/ x]?"
        ) {
            let follows = |r: &[u8]| matches!(r.first(), None | Some(b' ' | b'/'));
            let fast = ip4_network_prefix(s.as_bytes())
                .filter(|(_, r)| follows(r))
                .map(|(a, _)| a);
            let slow = ip4_network(&s)
                .ok()
                .filter(|(r, _)| follows(r.as_bytes()))
                .map(|(_, a)| a);
            proptest::prop_assert_eq!(fast, slow);
            if !s.ends_with('x') {
                let addr = s.strip_suffix(['/', ' ']).unwrap_or(&s);
                proptest::prop_assert_eq!(fast, addr.parse::<Ipv4Addr>().ok());
            }
        }
    }

    proptest::proptest! {
        /// `cidr_prefix` against the `ip4-cidr-length` and `ip6-cidr-length` rules, up to the
        /// end of the term.
        #[test]
        fn cidr_prefix_agrees_with_rules(s in "(/[0-9]{0,4})?[ x/]?") {
            type Rule = fn(&str) -> PResult<'_, u8>;
            let rules: [(u8, Rule); 2] = [(32, ip4_cidr_length), (128, ip6_cidr_length)];
            for (max, rule) in rules {
                let fast = cidr_prefix(s.as_bytes(), max)
                    .filter(|(_, r)| ends_term(r))
                    .map(|(v, _)| v);
                let slow = opt(rule)
                    .parse(s.as_str())
                    .ok()
                    .filter(|(r, _)| ends_term(r.as_bytes()))
                    .map(|(_, v)| v);
                proptest::prop_assert_eq!(fast, slow, "{} max {}", s, max);
            }
        }
    }

    proptest::proptest! {
        /// The backward `ends_in_toplabel` against the `domain_end_literal` rule function.
        #[test]
        fn ends_in_toplabel_agrees_with_rule(
            s in "[a-zA-Z0-9_. %-]{0,10}|[a-z.]{0,4}[.][a-zA-Z0-9-]{0,4}[.]?"
        ) {
            proptest::prop_assert_eq!(
                ends_in_toplabel(s.as_bytes()),
                all_consuming(domain_end_literal).parse(s.as_str()).is_ok()
            );
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

    #[test]
    fn fast_path_covers_the_common_terms() {
        assert!(fast_redirect("redirect=_spf.example.com").is_some());
        assert!(fast_redirect("redirect=%{d}.example.com").is_none());
        assert!(fast_redirect("redirect=example").is_none());
        for t in [
            "all",
            "-all",
            "~ALL",
            "ip4:192.0.2.0/24",
            "+ip4:192.0.2.1",
            "ip4:0.0.0.0/0",
            "ip6:2001:db8::/32",
            "?ip6:::1",
            "include:_spf.example.com",
            "include:example.com.",
            "a",
            "?MX",
            "~ptr",
            "ptr:example.com",
        ] {
            let fast = fast_directive(t);
            assert!(fast.is_some(), "{t}");
            let slow = all_consuming(directive).parse(t).map(|(_, d)| d).ok();
            assert_eq!(slow, fast, "{t}");
        }
        for t in [
            "ip4:192.0.2.0/33",
            "ip4:192.0.2.01",
            "ip4:192.0.2.0/024",
            "ip4:1.2.3",
            "ip4:1.2.3.4.5",
            "ip4:1.2.3.4/",
            "ip6:2001:db8::/129",
            "ip6:2001:db8::/0128",
            "ip6:+1::",
            "ip6:::ffff:1.2.3.4",
            "include:%{d}.example.com",
            "include:example.123",
            "include:",
            "a:example.com",
            "mx/24",
            "ptr:%{d}.example.com",
            "allx",
        ] {
            assert_eq!(fast_directive(t), None, "{t}");
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
