//! Fast path: one pass over the record that validates and builds the terms that make up most
//! published records (`ip4:`, `ip6:`, `include:` / `ptr:` / `redirect=` with a macro-free
//! domain-spec, `all`, `a`, `mx`, `ptr`), read octet by octet without nom and without splitting
//! the record first. Other terms (macros, `exp=`, `a:`/`mx:` with CIDR lengths, …) go to the rule
//! functions one by one. The fast path accepts a subset of what the rule functions accept and
//! builds the same value (property-tested against them); at the first doubt (any error, a
//! duplicate modifier, an unusual octet) it gives up and the whole record is parsed again by the
//! general path, which finds and names the error exactly as before.

use std::net::Ipv4Addr;

use super::rules::{hex_ipv6_prefix, term};
use crate::macros::{MacroString, MacroToken};
use crate::record::{Directive, DualCidr, Mechanism, Modifier, Qualifier, SpfRecord, Term};

/// The whole record in one pass, or `None` (then [`record`](super::record) decides).
#[inline]
pub(super) fn record_fast(text: &str) -> Option<SpfRecord> {
    let b = text.as_bytes();
    // One word compare (octets past the end read as zero, which `1` never matches).
    if !Keyword::VERSION.matches(load_u64_le(b, 0)) {
        return None;
    }
    // Presized from the length, without a counting pass over the text (it costs more than it
    // saves on long records): one term per 16 octets, which long records (address lists)
    // stay under, and at least one per 4 octets up to 16 terms, which the common short records
    // (`v=spf1 mx a -all`: three terms in 16 octets) stay under. Growing costs a reallocation.
    let mut out = Vec::with_capacity((b.len() / 4 + 1).min(16).max(b.len() / 16 + 1));
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
#[inline(always)]
fn fast_term(s: &str, out: &mut Vec<Term>, seen_redirect: &mut bool) -> Option<usize> {
    let b = s.as_bytes();
    let (qualifier, q) = match b.first()? {
        b'+' => (Qualifier::Pass, 1),
        b'-' => (Qualifier::Fail, 1),
        b'~' => (Qualifier::SoftFail, 1),
        b'?' => (Qualifier::Neutral, 1),
        _ => (Qualifier::Pass, 0),
    };
    // The name is compared eight octets at a time (see `Keyword`).
    let head = load_u64_le(b, q);
    let is = |k: Keyword| k.matches(head);
    // Each reader returns what follows the term's argument, which must be a space or the end.
    // Each arm pushes its own variant: with one shared push after the match, the compiler
    // assembles a generic `Term` on the stack and copies it octet by octet.
    let mut push =
        |rest: &[u8], mechanism| push_directive(out, b.len(), rest, qualifier, mechanism);
    match b.get(q)?.to_ascii_lowercase() {
        b'i' if is(Keyword::IP4) => {
            let (net, r) = ip4_network_prefix(b.get(q + 4..)?)?;
            let (len, r) = cidr_prefix(r, 32)?;
            push(r, Mechanism::Ip4(net, len))
        }
        b'i' if is(Keyword::IP6) => {
            let arg = b.get(q + 4..)?;
            let (net, n) = hex_ipv6_prefix(arg)?;
            let (len, r) = cidr_prefix(arg.get(n..)?, 128)?;
            push(r, Mechanism::Ip6(net, len))
        }
        b'i' if is(Keyword::INCLUDE) => {
            let (spec, r) = literal_domain_spec_prefix(s.get(q + 8..)?)?;
            push(r.as_bytes(), Mechanism::Include(spec))
        }
        b'a' if is(Keyword::ALL) => push(b.get(q + 3..)?, Mechanism::All),
        b'a' => push(b.get(q + 1..)?, Mechanism::A(None, DualCidr::default())),
        b'm' if is(Keyword::MX) => push(b.get(q + 2..)?, Mechanism::Mx(None, DualCidr::default())),
        b'p' if is(Keyword::PTR_COLON) => {
            let (spec, r) = literal_domain_spec_prefix(s.get(q + 4..)?)?;
            push(r.as_bytes(), Mechanism::Ptr(Some(spec)))
        }
        b'p' if is(Keyword::PTR) => push(b.get(q + 3..)?, Mechanism::Ptr(None)),
        b'r' if q == 0 && is(Keyword::REDIRECT) && b.get(8) == Some(&b'=') && !*seen_redirect => {
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
fn load_u64_le(b: &[u8], at: usize) -> u64 {
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
/// [`load_u64_le`]: a letter matches either case (its case bit is set before comparing), any other
/// octet only itself; octets after the name are ignored.
#[derive(Clone, Copy)]
struct Keyword {
    /// The name in lower case, little-endian.
    value: u64,
    /// 0xFF for each octet of the name.
    keep: u64,
    /// 0x20 for each letter of the name.
    fold: u64,
}

impl Keyword {
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
/// `rules::qnum`) and what follows it. Taking the longest run of up to three digits is what the
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
/// [`domain_end_literal`](super::rules::domain_end_literal)): the `rules::toplabel` rule on
/// octets (only letters, digits and hyphens; then a hyphen inside, not first or last, or else at
/// least one letter) in one backward pass over the last label, which also finds its dot.
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

#[cfg(test)]
mod tests {
    use nom::Parser;
    use nom::combinator::{all_consuming, opt};

    use super::*;
    use crate::parser::rules::*;

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
}
