//! Macro strings ([RFC 7208 §7](https://www.rfc-editor.org/rfc/rfc7208#section-7)): their AST,
//! canonical text and expansion. The parsers (`MacroString::parse_domain_spec`, …) are in the
//! `parser` module.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

/// Upper bound on the length of one macro expansion, in octets.
///
/// RFC 7208 §6.2: "Implementations MAY limit the length of the resulting explanation string";
/// names are cut to 253 octets anyway (§7.3). An SPF record fits in one DNS message (at most
/// 65535 octets, RFC 1035 §4.2.2), so this bound never cuts a legitimate expansion of a name.
pub const MAX_EXPANSION_LEN: usize = 65_535;

/// The letter of a `%{…}` macro ([RFC 7208 §7.2](https://www.rfc-editor.org/rfc/rfc7208#section-7.2)).
///
/// Complete by definition (the ABNF lists exactly these letters), so not `non_exhaustive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacroLetter {
    /// `s`: the `<sender>`.
    Sender,
    /// `l`: the local-part of `<sender>`.
    LocalPart,
    /// `o`: the domain of `<sender>`.
    SenderDomain,
    /// `d`: the current `<domain>`.
    Domain,
    /// `i`: the client IP (dotted quad, or dotted nibbles for IPv6).
    Ip,
    /// `p`: the validated domain name of the client IP (do not use).
    ValidatedDomain,
    /// `v`: `in-addr` for IPv4, `ip6` for IPv6.
    IpVersion,
    /// `h`: the HELO/EHLO domain.
    Helo,
    /// `c`: the client IP in its readable form (explanations only).
    ClientIp,
    /// `r`: the name of the receiving host (explanations only).
    Receiver,
    /// `t`: the current time in seconds since the epoch (explanations only).
    Timestamp,
}

impl MacroLetter {
    /// The letter from its lower-case character.
    pub fn from_char(c: char) -> Option<Self> {
        Some(match c.to_ascii_lowercase() {
            's' => Self::Sender,
            'l' => Self::LocalPart,
            'o' => Self::SenderDomain,
            'd' => Self::Domain,
            'i' => Self::Ip,
            'p' => Self::ValidatedDomain,
            'v' => Self::IpVersion,
            'h' => Self::Helo,
            'c' => Self::ClientIp,
            'r' => Self::Receiver,
            't' => Self::Timestamp,
            _ => return None,
        })
    }

    /// The lower-case letter.
    pub fn as_char(self) -> char {
        match self {
            Self::Sender => 's',
            Self::LocalPart => 'l',
            Self::SenderDomain => 'o',
            Self::Domain => 'd',
            Self::Ip => 'i',
            Self::ValidatedDomain => 'p',
            Self::IpVersion => 'v',
            Self::Helo => 'h',
            Self::ClientIp => 'c',
            Self::Receiver => 'r',
            Self::Timestamp => 't',
        }
    }

    /// RFC 7208 §7.2: "The following macro letters are allowed only in "exp" text: c, r, t".
    pub fn is_explanation_only(self) -> bool {
        matches!(self, Self::ClientIp | Self::Receiver | Self::Timestamp)
    }
}

/// One `%{letter transformers delimiters}` macro.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MacroExpand {
    /// Which value is expanded.
    pub letter: MacroLetter,
    /// An upper-case letter: the expansion is URL-escaped (RFC 7208 §7.3).
    pub url_escape: bool,
    /// Keep only this many right-hand parts (never zero).
    pub digits: Option<u32>,
    /// The `r` transformer: reverse the parts.
    pub reverse: bool,
    /// The delimiter characters to split on, as written (empty means `.`).
    pub delimiters: String,
}

/// One piece of a macro string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MacroToken {
    /// Literal text (visible ASCII except `%`; in explanations also spaces).
    Literal(String),
    /// A `%{…}` macro.
    Expand(MacroExpand),
    /// `%%`: a literal percent sign.
    Percent,
    /// `%_`: a space.
    Space,
    /// `%-`: a URL-encoded space, `%20`.
    UrlSpace,
}

/// A parsed `macro-string`, `domain-spec` or `explain-string`: a list of tokens.
///
/// # Examples
///
/// ```
/// use mailward_spf::MacroString;
///
/// let m = MacroString::parse_domain_spec("%{ir}.%{v}._spf.%{d2}")?;
/// assert_eq!(m.to_string(), "%{ir}.%{v}._spf.%{d2}");
/// # Ok::<(), mailward_spf::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MacroString {
    /// The tokens, in order. Adjacent literals are merged by the parser.
    pub tokens: Vec<MacroToken>,
}

impl MacroString {
    /// Whether any macro uses `letter`.
    pub fn uses(&self, letter: MacroLetter) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, MacroToken::Expand(m) if m.letter == letter))
    }

    /// The text of a macro string that is one literal and short enough that [`expand`]
    /// returns it unchanged (lets callers skip the expansion and its allocation).
    ///
    /// [`expand`]: Self::expand
    pub(crate) fn as_literal(&self) -> Option<&str> {
        match self.tokens.as_slice() {
            [MacroToken::Literal(s)] if s.len() <= MAX_EXPANSION_LEN => Some(s),
            _ => None,
        }
    }

    /// Expands the macros with the values in `ctx` (RFC 7208 §7.3). The result is at most
    /// [`MAX_EXPANSION_LEN`] octets.
    ///
    /// # Examples
    ///
    /// ```
    /// use mailward_spf::{MacroContext, MacroString};
    ///
    /// let ctx = MacroContext::new(
    ///     "192.0.2.3".parse()?,
    ///     "strong-bad",
    ///     "email.example.com",
    ///     "email.example.com",
    ///     "mx.example.org",
    /// );
    /// let m = MacroString::parse_domain_spec("%{lr-}.lp._spf.%{d2}")?;
    /// assert_eq!(m.expand(&ctx), "bad.strong.lp._spf.example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expand(&self, ctx: &MacroContext<'_>) -> String {
        let mut out = String::new();
        for token in &self.tokens {
            if out.len() >= MAX_EXPANSION_LEN {
                break;
            }
            match token {
                MacroToken::Literal(s) => out.push_str(s),
                MacroToken::Percent => out.push('%'),
                MacroToken::Space => out.push(' '),
                MacroToken::UrlSpace => out.push_str("%20"),
                MacroToken::Expand(m) => expand_one(m, ctx, &mut out),
            }
        }
        truncate_at_char(&mut out, MAX_EXPANSION_LEN);
        out
    }
}

fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        s.truncate(cut);
    }
}

impl fmt::Display for MacroExpand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = if self.url_escape {
            self.letter.as_char().to_ascii_uppercase()
        } else {
            self.letter.as_char()
        };
        write!(f, "%{{{letter}")?;
        if let Some(n) = self.digits {
            write!(f, "{n}")?;
        }
        if self.reverse {
            f.write_char('r')?;
        }
        write!(f, "{}}}", self.delimiters)
    }
}

impl fmt::Display for MacroToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Literal(s) => f.write_str(s),
            Self::Expand(m) => m.fmt(f),
            Self::Percent => f.write_str("%%"),
            Self::Space => f.write_str("%_"),
            Self::UrlSpace => f.write_str("%-"),
        }
    }
}

impl fmt::Display for MacroString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.tokens.iter().try_for_each(|t| t.fmt(f))
    }
}

/// The values macros expand to (RFC 7208 §7.2).
#[derive(Debug, Clone)]
pub struct MacroContext<'a> {
    /// `<ip>` (an IPv4-mapped IPv6 address should already be converted to IPv4).
    pub ip: IpAddr,
    /// The local-part of `<sender>` (`postmaster` when the sender had none).
    pub local_part: &'a str,
    /// The domain of `<sender>`.
    pub sender_domain: &'a str,
    /// The current `<domain>`.
    pub domain: &'a str,
    /// The HELO/EHLO parameter as given.
    pub helo: &'a str,
    /// The validated domain name of `<ip>` for `%{p}`, `None` for `unknown`.
    pub validated_domain: Option<&'a str>,
    /// The receiving host for `%{r}`, `None` for `unknown`.
    pub receiver: Option<&'a str>,
    /// Seconds since the epoch for `%{t}`.
    pub timestamp: u64,
}

impl<'a> MacroContext<'a> {
    /// A context with the mandatory values; `p` and `r` expand to `unknown`, `t` to 0.
    pub fn new(
        ip: IpAddr,
        local_part: &'a str,
        sender_domain: &'a str,
        domain: &'a str,
        helo: &'a str,
    ) -> Self {
        Self {
            ip,
            local_part,
            sender_domain,
            domain,
            helo,
            validated_domain: None,
            receiver: None,
            timestamp: 0,
        }
    }
}

/// RFC 7208 §7.3: "For IPv6 addresses, the "i" macro expands to a dot-format address".
///
/// The nibbles are written as UPPER-case hex digits. RFC 7208 §7.3 does not fix their case, and
/// the §7.4 example (`1.0.b.c....ip6._spf.example.com`) is a domain name, which DNS compares
/// case-insensitively (and [`Domain`](mailward_types::Domain) lower-cases), so lookups are the
/// same either way. The case only shows in `exp=` explanations, where the OpenSPF RFC 7208 test
/// suite (`v-macro-ip6`) and pyspf expect upper-case nibbles while `%{c}` stays lower-case
/// (RFC 5952 text form); we follow them.
fn ip_dotted(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(v4) => {
            let _ = write!(out, "{v4}");
        }
        IpAddr::V6(v6) => {
            for (n, byte) in v6.octets().iter().enumerate() {
                if n > 0 {
                    out.push('.');
                }
                let _ = write!(out, "{:X}.{:X}", byte >> 4, byte & 0x0f);
            }
        }
    }
}

fn raw_value(letter: MacroLetter, ctx: &MacroContext<'_>) -> String {
    match letter {
        MacroLetter::Sender => format!("{}@{}", ctx.local_part, ctx.sender_domain),
        MacroLetter::LocalPart => ctx.local_part.to_owned(),
        MacroLetter::SenderDomain => ctx.sender_domain.to_owned(),
        MacroLetter::Domain => ctx.domain.to_owned(),
        MacroLetter::Ip => {
            let mut s = String::new();
            ip_dotted(ctx.ip, &mut s);
            s
        }
        MacroLetter::ValidatedDomain => ctx.validated_domain.unwrap_or("unknown").to_owned(),
        MacroLetter::IpVersion => match ctx.ip {
            IpAddr::V4(_) => "in-addr".to_owned(),
            IpAddr::V6(_) => "ip6".to_owned(),
        },
        MacroLetter::Helo => ctx.helo.to_owned(),
        MacroLetter::ClientIp => ctx.ip.to_string(),
        MacroLetter::Receiver => ctx.receiver.unwrap_or("unknown").to_owned(),
        MacroLetter::Timestamp => ctx.timestamp.to_string(),
    }
}

/// RFC 7208 §7.3: split on the delimiters, reverse, keep the right-hand parts, join with ".",
/// URL-escape for upper-case letters.
fn expand_one(m: &MacroExpand, ctx: &MacroContext<'_>, out: &mut String) {
    let value = raw_value(m.letter, ctx);
    let transformed = if m.digits.is_none() && !m.reverse && m.delimiters.is_empty() {
        value
    } else {
        let delims: &str = if m.delimiters.is_empty() {
            "."
        } else {
            &m.delimiters
        };
        let mut parts: Vec<&str> = value.split(|c| delims.contains(c)).collect();
        if m.reverse {
            parts.reverse();
        }
        let keep = m
            .digits
            .map_or(parts.len(), |n| usize::try_from(n).unwrap_or(usize::MAX));
        let skip = parts.len().saturating_sub(keep);
        parts.get(skip..).unwrap_or_default().join(".")
    };
    if m.url_escape {
        url_escape(&transformed, out);
    } else {
        out.push_str(&transformed);
    }
}

/// RFC 7208 §7.3: "URL escaping MUST be performed for characters not in the "unreserved" set,
/// which is defined in [RFC3986]" (ALPHA / DIGIT / "-" / "." / "_" / "~").
fn url_escape(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7208 §7.4: sender strong-bad@email.example.com, IPv4 192.0.2.3, IPv6 2001:db8::cb01.
    fn ctx(ip: &str) -> MacroContext<'static> {
        MacroContext::new(
            ip.parse().unwrap(),
            "strong-bad",
            "email.example.com",
            "email.example.com",
            "mx.example.org",
        )
    }

    fn exp(spec: &str, ip: &str) -> String {
        MacroString::parse_domain_spec(spec)
            .unwrap()
            .expand(&ctx(ip))
    }

    #[test]
    fn rfc7208_7_4_single_macros() {
        let table = [
            ("%{s}", "strong-bad@email.example.com"),
            ("%{o}", "email.example.com"),
            ("%{d}", "email.example.com"),
            ("%{d4}", "email.example.com"),
            ("%{d3}", "email.example.com"),
            ("%{d2}", "example.com"),
            ("%{d1}", "com"),
            ("%{dr}", "com.example.email"),
            ("%{d2r}", "example.email"),
            ("%{l}", "strong-bad"),
            ("%{l-}", "strong.bad"),
            ("%{lr}", "strong-bad"),
            ("%{lr-}", "bad.strong"),
            ("%{l1r-}", "strong"),
        ];
        for (m, want) in table {
            assert_eq!(exp(m, "192.0.2.3"), want, "{m}");
        }
    }

    #[test]
    fn rfc7208_7_4_macro_strings() {
        let table = [
            (
                "%{ir}.%{v}._spf.%{d2}",
                "3.2.0.192.in-addr._spf.example.com",
            ),
            ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
            (
                "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
                "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
            ),
            (
                "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
                "3.2.0.192.in-addr.strong.lp._spf.example.com",
            ),
            (
                "%{d2}.trusted-domains.example.net",
                "example.com.trusted-domains.example.net",
            ),
        ];
        for (m, want) in table {
            assert_eq!(exp(m, "192.0.2.3"), want, "{m}");
        }
        // The §7.4 example is a domain name, compared case-insensitively in DNS; the RFC writes
        // lower-case nibbles, we expand them upper-case (see `ip_dotted`: the OpenSPF suite and
        // pyspf do), so the comparison ignores ASCII case.
        let got = exp("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01");
        assert!(
            got.eq_ignore_ascii_case(
                "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
            ),
            "{got}"
        );
        // And the nibbles themselves are upper-case (v-macro-ip6 of the OpenSPF suite).
        assert!(got.starts_with("1.0.B.C."), "{got}");
    }

    #[test]
    fn special_escapes_and_url_escaping() {
        let m = MacroString::parse_explain_string("%% %_ %- %{S}").unwrap();
        // %{S}: '@' is not unreserved, so it becomes %40 (RFC 3986 §2.3).
        assert_eq!(
            m.expand(&ctx("192.0.2.3")),
            "%   %20 strong-bad%40email.example.com"
        );
    }

    #[test]
    fn explanation_only_letters() {
        let mut c = ctx("2001:db8::cb01");
        c.receiver = Some("mx.receiver.example");
        c.timestamp = 1_700_000_000;
        let m = MacroString::parse_explain_string("%{c} %{r} %{t} %{p}").unwrap();
        assert_eq!(
            m.expand(&c),
            "2001:db8::cb01 mx.receiver.example 1700000000 unknown"
        );
    }

    #[test]
    fn digits_larger_than_parts_and_empty_parts() {
        // RFC 7208 §7.3: "If the DIGIT was 5, and only 3 parts were available, the macro
        // interpreter would pretend the DIGIT was 3" and empty parts are kept.
        let mut c = ctx("192.0.2.3");
        c.local_part = "a..b";
        let m = MacroString::parse_domain_spec("%{l127r}.x.com").unwrap();
        assert_eq!(m.expand(&c), "b..a.x.com");
        let m = MacroString::parse_domain_spec("%{l-+.}").unwrap();
        c.local_part = "foo-bar+zip.q";
        assert_eq!(m.expand(&c), "foo.bar.zip.q");
    }
}
