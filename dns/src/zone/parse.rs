//! The RFC 1035 §5 master-file reader: tokens, entries, directives and RDATA.
//!
//! The input is bytes (a master file need not be UTF-8). Tokens keep their raw escaped text and
//! are decoded where their meaning is known, because `\.` means "a dot inside a label" in a
//! domain name but just "a dot" in a character-string.

use std::net::{Ipv4Addr, Ipv6Addr};

use mailward_types::Domain;
use mailward_types::dns::{Mx, Txt};

use super::{
    MAX_CHARACTER_STRING, MAX_RDATA_LEN, MAX_TOKENS_PER_ENTRY, RecordData, Soa, ZoneErrorKind,
};

/// One token of an entry: its raw bytes (without the quotes of a quoted string) and the line it
/// started on.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    raw: &'a [u8],
    quoted: bool,
    line: usize,
}

/// One logical entry: the tokens of a line, or of several lines joined by parentheses.
#[derive(Debug)]
struct Entry<'a> {
    line: usize,
    /// The entry started with white space: its owner is the previous one (RFC 1035 §5.1).
    blank_owner: bool,
    tokens: Vec<Token<'a>>,
}

/// A parse failure at a line (the caller adds the source name).
pub(super) type ParseError = (usize, ZoneErrorKind);

/// One record read from the file.
#[derive(Debug)]
pub(super) struct ParsedRecord {
    pub(super) line: usize,
    pub(super) owner: Domain,
    pub(super) ttl: u32,
    pub(super) data: RecordData,
}

/// Splits the input into entries.
struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            line: 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// The next entry, `Ok(None)` at the end of the input.
    fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        loop {
            let Some(first) = self.peek() else {
                return Ok(None);
            };
            let start_line = self.line;
            let blank_owner = first == b' ' || first == b'\t';
            let mut tokens = Vec::new();
            let mut depth_line: Option<usize> = None;
            loop {
                let Some(c) = self.peek() else {
                    if let Some(open) = depth_line {
                        return Err((open, ZoneErrorKind::UnclosedParenthesis));
                    }
                    break;
                };
                match c {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b'\n' => {
                        self.pos += 1;
                        self.line += 1;
                        if depth_line.is_none() {
                            break;
                        }
                    }
                    b';' => {
                        while let Some(c) = self.peek() {
                            if c == b'\n' {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    b'(' => {
                        if depth_line.is_some() {
                            return Err((self.line, ZoneErrorKind::NestedParenthesis));
                        }
                        depth_line = Some(self.line);
                        self.pos += 1;
                    }
                    b')' => {
                        if depth_line.is_none() {
                            return Err((self.line, ZoneErrorKind::UnbalancedParenthesis));
                        }
                        depth_line = None;
                        self.pos += 1;
                    }
                    b'"' => {
                        let tok = self.quoted()?;
                        push_token(&mut tokens, tok)?;
                    }
                    _ => {
                        let tok = self.word()?;
                        push_token(&mut tokens, tok)?;
                    }
                }
            }
            if !tokens.is_empty() {
                return Ok(Some(Entry {
                    line: start_line,
                    blank_owner,
                    tokens,
                }));
            }
        }
    }

    /// An unquoted word: up to white space, `;`, `(`, `)` or `"`, with `\X` escapes kept raw.
    fn word(&mut self) -> Result<Token<'a>, ParseError> {
        let start = self.pos;
        let line = self.line;
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                b'\\' => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err((self.line, ZoneErrorKind::BadEscape)),
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                _ => self.pos += 1,
            }
        }
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        Ok(Token {
            raw,
            quoted: false,
            line,
        })
    }

    /// A quoted string: from `"` to the next unescaped `"` on the same line.
    fn quoted(&mut self) -> Result<Token<'a>, ParseError> {
        let line = self.line;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err((line, ZoneErrorKind::UnterminatedQuote)),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err((line, ZoneErrorKind::UnterminatedQuote)),
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        self.pos += 1; // the closing quote
        Ok(Token {
            raw,
            quoted: true,
            line,
        })
    }
}

fn push_token<'a>(tokens: &mut Vec<Token<'a>>, tok: Token<'a>) -> Result<(), ParseError> {
    if tokens.len() >= MAX_TOKENS_PER_ENTRY {
        return Err((
            tok.line,
            ZoneErrorKind::TooManyTokens {
                limit: MAX_TOKENS_PER_ENTRY,
            },
        ));
    }
    tokens.push(tok);
    Ok(())
}

/// One decoded octet of a token: its value and whether it was escaped.
fn decode_escapes(raw: &[u8], line: usize) -> Result<Vec<(u8, bool)>, ParseError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push((c, false));
            i += 1;
            continue;
        }
        // RFC 1035 §5.1: "\X where X is any character other than a digit (0-9), is used to quote
        // that character"; "\DDD where each D is a digit is the octet corresponding to the
        // decimal number described by DDD".
        match raw.get(i + 1) {
            Some(d) if d.is_ascii_digit() => {
                let digits = raw
                    .get(i + 1..i + 4)
                    .ok_or((line, ZoneErrorKind::BadEscape))?;
                let mut value: u32 = 0;
                for &d in digits {
                    if !d.is_ascii_digit() {
                        return Err((line, ZoneErrorKind::BadEscape));
                    }
                    value = value * 10 + u32::from(d - b'0');
                }
                let octet = u8::try_from(value).map_err(|_| (line, ZoneErrorKind::BadEscape))?;
                out.push((octet, true));
                i += 4;
            }
            Some(&x) => {
                out.push((x, true));
                i += 2;
            }
            None => return Err((line, ZoneErrorKind::BadEscape)),
        }
    }
    Ok(out)
}

fn token_text(tok: &Token<'_>) -> String {
    String::from_utf8_lossy(tok.raw).into_owned()
}

/// Decodes a domain name token, relative names completed with `origin` (RFC 1035 §5.1).
pub(super) fn parse_name_token(
    raw: &[u8],
    line: usize,
    origin: Option<&Domain>,
) -> Result<Domain, ParseError> {
    let text = || String::from_utf8_lossy(raw).into_owned();
    if raw == b"@" {
        return origin
            .cloned()
            .ok_or((line, ZoneErrorKind::NoOrigin { name: text() }));
    }
    let octets = decode_escapes(raw, line)?;
    if octets.is_empty() {
        return Err((
            line,
            ZoneErrorKind::InvalidName {
                name: text(),
                reason: "empty name",
            },
        ));
    }
    let absolute = matches!(octets.last(), Some((b'.', false)));
    let body = if absolute {
        octets.get(..octets.len() - 1).unwrap_or_default()
    } else {
        &octets[..]
    };
    if body.is_empty() {
        return Err((
            line,
            ZoneErrorKind::InvalidName {
                name: text(),
                reason: "the root name cannot be used here",
            },
        ));
    }
    // Rebuild the name as bytes with plain dots between labels.
    let mut bytes = Vec::with_capacity(body.len());
    for &(b, escaped) in body {
        if b == b'.' && escaped {
            // `Domain` keeps labels as dot-separated text, so a dot inside a label cannot be
            // represented.
            return Err((line, ZoneErrorKind::EscapedDotInLabel { name: text() }));
        }
        if escaped && !b.is_ascii() {
            return Err((
                line,
                ZoneErrorKind::InvalidName {
                    name: text(),
                    reason: "escaped non-ASCII octets in names are not supported",
                },
            ));
        }
        bytes.push(b);
    }
    let Ok(mut joined) = String::from_utf8(bytes) else {
        return Err((
            line,
            ZoneErrorKind::InvalidName {
                name: text(),
                reason: "not UTF-8",
            },
        ));
    };
    if !absolute {
        let Some(origin) = origin else {
            return Err((line, ZoneErrorKind::NoOrigin { name: text() }));
        };
        joined.push('.');
        joined.push_str(origin.as_str());
    }
    if joined.ends_with('.') {
        // `Domain::new` would silently drop a trailing dot that came from an empty last label.
        return Err((
            line,
            ZoneErrorKind::InvalidName {
                name: text(),
                reason: "empty label",
            },
        ));
    }
    Domain::new(&joined).map_err(|e| {
        (
            line,
            ZoneErrorKind::InvalidName {
                name: text(),
                reason: domain_error_reason(&e),
            },
        )
    })
}

fn domain_error_reason(e: &mailward_types::DomainError) -> &'static str {
    use mailward_types::DomainError as E;
    match e {
        E::Empty => "empty name",
        E::EmptyLabel => "empty label",
        E::LabelTooLong => "label longer than 63 octets",
        E::TooLong => "name longer than 253 octets",
        E::Idna => "invalid internationalized name",
        _ => "invalid name",
    }
}

/// A TTL: decimal seconds (RFC 1035 §5.1, RFC 2308 §4), or the BIND unit form (`1h30m`,
/// `2d`, `1w`) that nsd and BIND also accept. At most 2^31 - 1 (RFC 2181 §8).
fn parse_ttl(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut digits = 0usize;
    for &c in s {
        if c.is_ascii_digit() {
            current = current.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            digits += 1;
            if current > u64::from(u32::MAX) {
                return None;
            }
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        if digits == 0 {
            return None;
        }
        total = total.checked_add(current.checked_mul(mult)?)?;
        current = 0;
        digits = 0;
    }
    // A trailing number after units counts as seconds (`1h30`), as BIND does.
    if digits > 0 {
        total = total.checked_add(current)?;
    }
    // RFC 2181 §8: TTLs are "unsigned number[s], with a minimum value of 0, and a maximum
    // value of 2147483647".
    u32::try_from(total).ok().filter(|&t| t <= 0x7fff_ffff)
}

fn is_ttl_token(tok: &Token<'_>) -> bool {
    !tok.quoted && tok.raw.first().is_some_and(u8::is_ascii_digit)
}

/// The record types this reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rtype {
    A,
    Aaaa,
    Mx,
    Txt,
    Spf,
    Ptr,
    Cname,
    Ns,
    Soa,
    /// A type known by its mnemonic whose data is not decoded (CAA, SRV, DS, …).
    Opaque(u16),
    Generic(u16),
}

/// The mnemonics of the data types in the IANA "Resource Record (RR) TYPEs" registry (RFC 6895
/// §3.1) that this reader does not decode, with their numbers. A record of one of these types is
/// loaded as [`RecordData::Opaque`]: its data is checked only for being there, then dropped.
/// Query-only and meta types (OPT, TKEY, TSIG, IXFR, AXFR, MAILB, MAILA, ANY) are left out: they
/// never appear in a master file.
const OPAQUE_TYPES: &[(&[u8], u16)] = &[
    (b"MD", 3),
    (b"MF", 4),
    (b"MB", 7),
    (b"MG", 8),
    (b"MR", 9),
    (b"NULL", 10),
    (b"WKS", 11),
    (b"HINFO", 13),
    (b"MINFO", 14),
    (b"RP", 17),
    (b"AFSDB", 18),
    (b"X25", 19),
    (b"ISDN", 20),
    (b"RT", 21),
    (b"NSAP", 22),
    (b"NSAP-PTR", 23),
    (b"SIG", 24),
    (b"KEY", 25),
    (b"PX", 26),
    (b"GPOS", 27),
    (b"LOC", 29),
    (b"NXT", 30),
    (b"EID", 31),
    (b"NIMLOC", 32),
    (b"SRV", 33),
    (b"ATMA", 34),
    (b"NAPTR", 35),
    (b"KX", 36),
    (b"CERT", 37),
    (b"A6", 38),
    (b"DNAME", 39),
    (b"SINK", 40),
    (b"APL", 42),
    (b"DS", 43),
    (b"SSHFP", 44),
    (b"IPSECKEY", 45),
    (b"RRSIG", 46),
    (b"NSEC", 47),
    (b"DNSKEY", 48),
    (b"DHCID", 49),
    (b"NSEC3", 50),
    (b"NSEC3PARAM", 51),
    (b"TLSA", 52),
    (b"SMIMEA", 53),
    (b"HIP", 55),
    (b"NINFO", 56),
    (b"RKEY", 57),
    (b"TALINK", 58),
    (b"CDS", 59),
    (b"CDNSKEY", 60),
    (b"OPENPGPKEY", 61),
    (b"CSYNC", 62),
    (b"ZONEMD", 63),
    (b"SVCB", 64),
    (b"HTTPS", 65),
    (b"DSYNC", 66),
    (b"HHIT", 67),
    (b"BRID", 68),
    (b"UINFO", 100),
    (b"UID", 101),
    (b"GID", 102),
    (b"UNSPEC", 103),
    (b"NID", 104),
    (b"L32", 105),
    (b"L64", 106),
    (b"LP", 107),
    (b"EUI48", 108),
    (b"EUI64", 109),
    (b"URI", 256),
    (b"CAA", 257),
    (b"AVC", 258),
    (b"DOA", 259),
    (b"AMTRELAY", 260),
    (b"RESINFO", 261),
    (b"WALLET", 262),
    (b"CLA", 263),
    (b"IPN", 264),
    (b"TA", 32768),
    (b"DLV", 32769),
];

/// APL (RFC 3123 §4) is the one type above whose presentation form may have no data at all.
const APL: u16 = 42;

fn parse_rtype(tok: &Token<'_>) -> Result<Rtype, ParseError> {
    let upper = tok.raw.to_ascii_uppercase();
    Ok(match &upper[..] {
        b"A" => Rtype::A,
        b"AAAA" => Rtype::Aaaa,
        b"MX" => Rtype::Mx,
        b"TXT" => Rtype::Txt,
        b"SPF" => Rtype::Spf,
        b"PTR" => Rtype::Ptr,
        b"CNAME" => Rtype::Cname,
        b"NS" => Rtype::Ns,
        b"SOA" => Rtype::Soa,
        other => {
            if let Some(&(_, n)) = OPAQUE_TYPES.iter().find(|(m, _)| *m == other) {
                return Ok(Rtype::Opaque(n));
            }
            // RFC 3597 §5: "TYPE" immediately followed by the decimal type number.
            if let Some(num) = other.strip_prefix(b"TYPE")
                && !num.is_empty()
                && num.iter().all(u8::is_ascii_digit)
                && let Some(n) = std::str::from_utf8(num)
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok())
            {
                return Ok(match n {
                    1 => Rtype::A,
                    28 => Rtype::Aaaa,
                    15 => Rtype::Mx,
                    16 => Rtype::Txt,
                    99 => Rtype::Spf,
                    12 => Rtype::Ptr,
                    5 => Rtype::Cname,
                    2 => Rtype::Ns,
                    6 => Rtype::Soa,
                    n => Rtype::Generic(n),
                });
            }
            return Err((
                tok.line,
                ZoneErrorKind::UnsupportedType {
                    rtype: token_text(tok),
                },
            ));
        }
    })
}

/// Reader state across entries.
pub(super) struct Reader<'a> {
    lexer: Lexer<'a>,
    origin: Option<Domain>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<Domain>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(input: &'a [u8], origin: Option<Domain>) -> Self {
        Self {
            lexer: Lexer::new(input),
            origin,
            default_ttl: None,
            last_ttl: None,
            last_owner: None,
        }
    }

    /// The next record, `Ok(None)` at the end of the input.
    pub(super) fn next_record(&mut self) -> Result<Option<ParsedRecord>, ParseError> {
        loop {
            let Some(entry) = self.lexer.next_entry()? else {
                return Ok(None);
            };
            if let Some(rec) = self.entry(&entry)? {
                return Ok(Some(rec));
            }
        }
    }

    fn entry(&mut self, entry: &Entry<'_>) -> Result<Option<ParsedRecord>, ParseError> {
        let line = entry.line;
        let mut toks = entry.tokens.iter();
        if !entry.blank_owner
            && let Some(first) = entry.tokens.first()
            && !first.quoted
            && first.raw.first() == Some(&b'$')
        {
            toks.next();
            self.directive(first, line, toks.as_slice())?;
            return Ok(None);
        }
        let owner = if entry.blank_owner {
            self.last_owner
                .clone()
                .ok_or((line, ZoneErrorKind::NoPreviousOwner))?
        } else {
            let tok = toks.next().ok_or((line, ZoneErrorKind::MissingType))?;
            parse_name_token(tok.raw, tok.line, self.origin.as_ref())?
        };
        self.last_owner = Some(owner.clone());

        // RFC 1035 §5.1: "<domain-name> [<TTL>] [<class>] <type> <RDATA>" or with class and TTL
        // swapped; both are optional.
        let mut ttl = None;
        let mut class_seen = false;
        let rtype_tok = loop {
            let tok = toks.next().ok_or((line, ZoneErrorKind::MissingType))?;
            if ttl.is_none() && is_ttl_token(tok) {
                ttl = Some(parse_ttl(tok.raw).ok_or((
                    tok.line,
                    ZoneErrorKind::InvalidTtl {
                        ttl: token_text(tok),
                    },
                ))?);
                continue;
            }
            if !class_seen && !tok.quoted {
                let upper = tok.raw.to_ascii_uppercase();
                match &upper[..] {
                    b"IN" | b"CLASS1" => {
                        class_seen = true;
                        continue;
                    }
                    b"CH" | b"HS" | b"CS" | b"NONE" | b"ANY" => {
                        return Err((
                            tok.line,
                            ZoneErrorKind::UnsupportedClass {
                                class: token_text(tok),
                            },
                        ));
                    }
                    _ => {}
                }
            }
            break tok;
        };
        let rtype = parse_rtype(rtype_tok)?;
        let rdata = toks.as_slice();
        let data = self.rdata(rtype, rdata, line)?;
        let ttl = match ttl {
            Some(t) => {
                self.last_ttl = Some(t);
                t
            }
            None => match (self.default_ttl, self.last_ttl, &data) {
                (Some(t), _, _) => t,
                (None, Some(t), _) => t,
                // RFC 1035 §5.1 era files: the SOA MINIMUM served as the default TTL.
                (None, None, RecordData::Soa(soa)) => soa.minimum,
                (None, None, _) => return Err((line, ZoneErrorKind::NoTtl)),
            },
        };
        Ok(Some(ParsedRecord {
            line,
            owner,
            ttl,
            data,
        }))
    }

    fn directive(
        &mut self,
        name: &Token<'_>,
        line: usize,
        args: &[Token<'_>],
    ) -> Result<(), ParseError> {
        let upper = name.raw.to_ascii_uppercase();
        match &upper[..] {
            b"$ORIGIN" => {
                let [arg] = args else {
                    return Err((
                        line,
                        ZoneErrorKind::BadDirective {
                            directive: "$ORIGIN",
                        },
                    ));
                };
                // The new origin may itself be relative to the current one.
                self.origin = Some(parse_name_token(arg.raw, arg.line, self.origin.as_ref())?);
                Ok(())
            }
            b"$TTL" => {
                let [arg] = args else {
                    return Err((line, ZoneErrorKind::BadDirective { directive: "$TTL" }));
                };
                self.default_ttl = Some(parse_ttl(arg.raw).ok_or((
                    arg.line,
                    ZoneErrorKind::InvalidTtl {
                        ttl: token_text(arg),
                    },
                ))?);
                Ok(())
            }
            b"$INCLUDE" => Err((line, ZoneErrorKind::IncludeNotSupported)),
            _ => Err((
                line,
                ZoneErrorKind::UnknownDirective {
                    directive: token_text(name),
                },
            )),
        }
    }

    fn rdata(&self, rtype: Rtype, rd: &[Token<'_>], line: usize) -> Result<RecordData, ParseError> {
        let name = self.type_name(rtype);
        let bad = |reason: &'static str| {
            (
                line,
                ZoneErrorKind::InvalidRdata {
                    rtype: name.clone(),
                    reason,
                },
            )
        };
        if let Some(first) = rd.first()
            && !first.quoted
            && first.raw == b"\\#"
        {
            return self.generic_rdata(rtype, rd, line);
        }
        let origin = self.origin.as_ref();
        match rtype {
            Rtype::A => {
                let [tok] = rd else {
                    return Err(bad("expected one IPv4 address"));
                };
                let ip = std::str::from_utf8(tok.raw)
                    .ok()
                    .and_then(|s| s.parse::<Ipv4Addr>().ok())
                    .ok_or_else(|| bad("not an IPv4 address"))?;
                Ok(RecordData::A(ip))
            }
            Rtype::Aaaa => {
                let [tok] = rd else {
                    return Err(bad("expected one IPv6 address"));
                };
                let ip = std::str::from_utf8(tok.raw)
                    .ok()
                    .and_then(|s| s.parse::<Ipv6Addr>().ok())
                    .ok_or_else(|| bad("not an IPv6 address"))?;
                Ok(RecordData::Aaaa(ip))
            }
            Rtype::Mx => {
                let [pref, exchange] = rd else {
                    return Err(bad("expected a preference and an exchange name"));
                };
                let preference = parse_u16(pref.raw).ok_or_else(|| bad("bad preference"))?;
                if !exchange.quoted && exchange.raw == b"." {
                    // RFC 7505 null MX (`MX 0 .`, "no mail here"): the exchange is the root.
                    return Ok(RecordData::Mx(Mx::null(preference)));
                }
                let exchange = parse_name_token(exchange.raw, exchange.line, origin)?;
                Ok(RecordData::Mx(Mx::new(preference, exchange)))
            }
            Rtype::Ptr | Rtype::Cname | Rtype::Ns => {
                let [tok] = rd else {
                    return Err(bad("expected one domain name"));
                };
                let target = parse_name_token(tok.raw, tok.line, origin)?;
                Ok(match rtype {
                    Rtype::Ptr => RecordData::Ptr(target),
                    Rtype::Cname => RecordData::Cname(target),
                    _ => RecordData::Ns(target),
                })
            }
            Rtype::Txt | Rtype::Spf => {
                if rd.is_empty() {
                    return Err(bad("expected at least one character-string"));
                }
                let mut strings = Vec::with_capacity(rd.len());
                let mut wire_len = 0usize;
                for tok in rd {
                    let s: Vec<u8> = decode_escapes(tok.raw, tok.line)?
                        .into_iter()
                        .map(|(b, _)| b)
                        .collect();
                    // RFC 1035 §3.3: "<character-string> is a single length octet followed
                    // by that number of characters".
                    if s.len() > MAX_CHARACTER_STRING {
                        return Err((
                            tok.line,
                            ZoneErrorKind::StringTooLong {
                                len: s.len(),
                                limit: MAX_CHARACTER_STRING,
                            },
                        ));
                    }
                    wire_len += 1 + s.len();
                    if wire_len > MAX_RDATA_LEN {
                        return Err((
                            tok.line,
                            ZoneErrorKind::RdataTooLong {
                                limit: MAX_RDATA_LEN,
                            },
                        ));
                    }
                    strings.push(s);
                }
                let txt = Txt::new(strings);
                Ok(if rtype == Rtype::Txt {
                    RecordData::Txt(txt)
                } else {
                    RecordData::Spf(txt)
                })
            }
            Rtype::Soa => {
                let [mname, rname, serial, refresh, retry, expire, minimum] = rd else {
                    return Err(bad(
                        "expected MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM",
                    ));
                };
                let mname = parse_name_token(mname.raw, mname.line, origin)?;
                let rname = parse_name_token(rname.raw, rname.line, origin)?;
                let serial = std::str::from_utf8(serial.raw)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| bad("bad serial"))?;
                let time = |t: &Token<'_>| parse_ttl(t.raw).ok_or_else(|| bad("bad time value"));
                Ok(RecordData::Soa(Soa {
                    mname,
                    rname,
                    serial,
                    refresh: time(refresh)?,
                    retry: time(retry)?,
                    expire: time(expire)?,
                    minimum: time(minimum)?,
                }))
            }
            Rtype::Opaque(n) => {
                if rd.is_empty() && n != APL {
                    return Err(bad("missing record data"));
                }
                Ok(RecordData::Opaque { rtype: n })
            }
            Rtype::Generic(_) => Err(bad("generic types need the RFC 3597 \\# form")),
        }
    }

    /// RFC 3597 §5: `\# <length> <hex words>`.
    fn generic_rdata(
        &self,
        rtype: Rtype,
        rd: &[Token<'_>],
        line: usize,
    ) -> Result<RecordData, ParseError> {
        let name = self.type_name(rtype);
        let bad = |reason: &'static str| {
            (
                line,
                ZoneErrorKind::InvalidRdata {
                    rtype: name.clone(),
                    reason,
                },
            )
        };
        let Some(len_tok) = rd.get(1) else {
            return Err(bad("\\# needs a length"));
        };
        let len = std::str::from_utf8(len_tok.raw)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&l| l <= MAX_RDATA_LEN)
            .ok_or_else(|| bad("bad \\# length"))?;
        let mut hex = Vec::with_capacity(len * 2);
        for tok in rd.get(2..).unwrap_or_default() {
            if hex.len() > 2 * MAX_RDATA_LEN {
                return Err(bad("\\# data longer than its length"));
            }
            hex.extend_from_slice(tok.raw);
        }
        if hex.len() != len * 2 {
            return Err(bad("\\# data does not match its length"));
        }
        let mut bytes = Vec::with_capacity(len);
        for pair in hex.chunks_exact(2) {
            let [hi, lo] = pair else {
                return Err(bad("bad hex"));
            };
            let hi = hex_val(*hi).ok_or_else(|| bad("bad hex"))?;
            let lo = hex_val(*lo).ok_or_else(|| bad("bad hex"))?;
            bytes.push((hi << 4) | lo);
        }
        match rtype {
            Rtype::Generic(t) | Rtype::Opaque(t) => Ok(RecordData::Unknown {
                rtype: t,
                data: bytes,
            }),
            Rtype::A => {
                let octets: [u8; 4] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad("A RDATA is 4 octets"))?;
                Ok(RecordData::A(Ipv4Addr::from(octets)))
            }
            Rtype::Aaaa => {
                let octets: [u8; 16] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad("AAAA RDATA is 16 octets"))?;
                Ok(RecordData::Aaaa(Ipv6Addr::from(octets)))
            }
            Rtype::Txt | Rtype::Spf => {
                let mut strings = Vec::new();
                let mut rest = bytes.as_slice();
                while let Some((&n, tail)) = rest.split_first() {
                    let n = usize::from(n);
                    let s = tail
                        .get(..n)
                        .ok_or_else(|| bad("truncated character-string"))?;
                    strings.push(s.to_vec());
                    rest = tail.get(n..).unwrap_or_default();
                }
                if strings.is_empty() {
                    return Err(bad("TXT RDATA needs at least one character-string"));
                }
                let txt = Txt::new(strings);
                Ok(if rtype == Rtype::Txt {
                    RecordData::Txt(txt)
                } else {
                    RecordData::Spf(txt)
                })
            }
            _ => Err(bad(
                "the \\# form is only supported for A, AAAA, TXT, SPF and unknown types",
            )),
        }
    }

    fn type_name(&self, rtype: Rtype) -> String {
        match rtype {
            Rtype::A => "A".into(),
            Rtype::Aaaa => "AAAA".into(),
            Rtype::Mx => "MX".into(),
            Rtype::Txt => "TXT".into(),
            Rtype::Spf => "SPF".into(),
            Rtype::Ptr => "PTR".into(),
            Rtype::Cname => "CNAME".into(),
            Rtype::Ns => "NS".into(),
            Rtype::Soa => "SOA".into(),
            Rtype::Opaque(n) => OPAQUE_TYPES.iter().find(|(_, t)| *t == n).map_or_else(
                || format!("TYPE{n}"),
                |(m, _)| String::from_utf8_lossy(m).into(),
            ),
            Rtype::Generic(n) => format!("TYPE{n}"),
        }
    }
}

fn parse_u16(raw: &[u8]) -> Option<u16> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str, origin: Option<&str>) -> Result<String, ZoneErrorKind> {
        let origin = origin.map(|o| Domain::new(o).unwrap());
        parse_name_token(raw.as_bytes(), 1, origin.as_ref())
            .map(|d| d.to_string())
            .map_err(|(_, k)| k)
    }

    #[test]
    fn names_relative_absolute_and_escaped() {
        assert_eq!(name("www", Some("example.com")).unwrap(), "www.example.com");
        assert_eq!(
            name("www.example.org.", Some("example.com")).unwrap(),
            "www.example.org"
        );
        assert_eq!(name("@", Some("example.com")).unwrap(), "example.com");
        // \032 is a space (RFC 1035 §5.1 \DDD), \: is a quoted colon.
        assert_eq!(name("a\\032b\\:c.example.", None).unwrap(), "a b:c.example");
        assert_eq!(name("A\\066C.Example.", None).unwrap(), "abc.example");
        assert!(matches!(
            name("a\\.b.example.", None),
            Err(ZoneErrorKind::EscapedDotInLabel { .. })
        ));
        assert!(matches!(
            name("www", None),
            Err(ZoneErrorKind::NoOrigin { .. })
        ));
        assert!(matches!(
            name("a..b.", None),
            Err(ZoneErrorKind::InvalidName { .. })
        ));
        assert!(matches!(
            name(".", None),
            Err(ZoneErrorKind::InvalidName { .. })
        ));
        assert!(matches!(
            name("a\\256.", None),
            Err(ZoneErrorKind::BadEscape)
        ));
        assert!(matches!(name("a\\25", None), Err(ZoneErrorKind::BadEscape)));
    }

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl(b"3600"), Some(3600));
        assert_eq!(parse_ttl(b"1h30m"), Some(5400));
        assert_eq!(parse_ttl(b"1W"), Some(604_800));
        assert_eq!(parse_ttl(b"2147483647"), Some(2_147_483_647));
        assert_eq!(parse_ttl(b"2147483648"), None);
        assert_eq!(parse_ttl(b"99999999999999999999"), None);
        assert_eq!(parse_ttl(b"1x"), None);
        assert_eq!(parse_ttl(b"h"), None);
    }
}
