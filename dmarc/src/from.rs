//! The Author Domain: the domain of the RFC5322.From header field
//! ([RFC 9989 §5.3.1](https://www.rfc-editor.org/rfc/rfc9989#section-5.3.1)).
//!
//! A bounded, hand-written reader of RFC 5322 §3.4 address lists (with RFC 6532 UTF-8 and the
//! §4.4 obsolete forms receivers meet: route addresses, empty list elements, dots in display
//! names). Display names, quoted strings and comments are skipped without being decoded, so an
//! `@` or `<` hidden in an encoded word or a quoted display name never becomes an address.
//! Groups contribute their members. Domains are converted to A-labels (RFC 9989 §5.3.1: "If
//! the domain is a U-label, the domain MUST be converted to an A-label").
//!
//! ```abnf
//! from         = "From:" mailbox-list CRLF          ; RFC 5322 §3.6.2 (address-list tolerated)
//! mailbox      = name-addr / addr-spec
//! name-addr    = [display-name] angle-addr
//! angle-addr   = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
//! group        = display-name ":" [group-list] ";" [CFWS]
//! addr-spec    = local-part "@" domain
//! ```

use std::fmt;

use mailward_types::Domain;
use mailward_types::message::{HeaderField, Message, MessageError};

/// Most mailboxes read from one From field. RFC 5322 allows a list; real mail has one. Bounds
/// the work hostile headers cause (RFC 9989 §11.5 recommends limiting Author Domains).
pub const MAX_MAILBOXES: usize = 64;

/// Deepest nesting of comments accepted (RFC 5322 §3.2.2 comments nest).
pub const MAX_COMMENT_DEPTH: usize = 32;

/// One mailbox of the From field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Mailbox {
    /// `local-part@domain` as written (quoted local parts keep their quotes).
    pub address: String,
    /// The domain as an A-label.
    pub domain: Domain,
}

/// Why no single Author Domain could be extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FromError {
    /// The message has no From field.
    #[error("the message has no From header field")]
    NoFromField,
    /// The message has several From fields (RFC 5322 §3.6 allows exactly one).
    #[error("the message has {0} From header fields")]
    MultipleFromFields(usize),
    /// The header block could not be read (the [`MessageError`] is the source).
    #[error("the header could not be parsed")]
    Message(#[source] MessageError),
    /// The field does not follow RFC 5322 §3.4.
    #[error("the From field is malformed: {0}")]
    Syntax(&'static str),
    /// The field holds no mailbox (an empty group, for instance).
    #[error("the From field holds no mailbox")]
    NoMailbox,
    /// A mailbox uses a domain literal (`[192.0.2.1]`), which has no DMARC policy.
    #[error("the From address uses a domain literal")]
    DomainLiteral,
    /// A domain that is not a valid host name (letters, digits and hyphens once in A-labels).
    #[error("the From domain {0:?} is not a valid host name")]
    InvalidDomain(String),
    /// More than [`MAX_MAILBOXES`] mailboxes.
    #[error("the From field has more than {MAX_MAILBOXES} mailboxes")]
    TooManyMailboxes,
    /// Mailboxes in several domains: "DMARC validation is not possible" (RFC 9989 §5.3.1).
    #[error("the From field names several domains: {}", join(.0))]
    MultipleDomains(Vec<Domain>),
}

fn join(domains: &[Domain]) -> String {
    domains
        .iter()
        .map(Domain::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Author Domain of a parsed message: its single From field's single domain.
///
/// # Errors
///
/// [`FromError`] when there is not exactly one From field, it cannot be read, or it names zero
/// or several domains.
///
/// # Examples
///
/// ```
/// use mailward_dmarc::from::author_domain;
/// use mailward_types::message::Message;
///
/// let msg = Message::parse(b"From: \"Bob <bob@evil.example>\" <bob@Example.COM>\r\n\r\nhi\r\n").unwrap();
/// assert_eq!(author_domain(&msg).unwrap().as_str(), "example.com");
/// ```
pub fn author_domain(message: &Message<'_>) -> Result<Domain, FromError> {
    author_domain_from_headers(message.headers())
}

/// As [`author_domain`], over header fields.
///
/// # Errors
///
/// As [`author_domain`].
pub fn author_domain_from_headers(headers: &[HeaderField<'_>]) -> Result<Domain, FromError> {
    let mut froms = headers.iter().filter(|h| h.name_eq("From"));
    let Some(from) = froms.next() else {
        return Err(FromError::NoFromField);
    };
    let extra = froms.count();
    if extra > 0 {
        return Err(FromError::MultipleFromFields(extra + 1));
    }
    single_domain(&parse_mailboxes(from.value)?)
}

/// The one domain of a mailbox list.
///
/// # Errors
///
/// [`FromError::NoMailbox`] or [`FromError::MultipleDomains`].
pub fn single_domain(mailboxes: &[Mailbox]) -> Result<Domain, FromError> {
    let mut domains: Vec<Domain> = Vec::new();
    for m in mailboxes {
        if !domains.contains(&m.domain) {
            domains.push(m.domain.clone());
        }
    }
    match domains.len() {
        0 => Err(FromError::NoMailbox),
        1 => domains.pop().ok_or(FromError::NoMailbox),
        _ => Err(FromError::MultipleDomains(domains)),
    }
}

/// Reads the mailboxes of a From field value (the octets after the colon, folding included).
///
/// # Errors
///
/// [`FromError`] for syntax errors, domain literals, invalid domains or too many mailboxes.
pub fn parse_mailboxes(value: &[u8]) -> Result<Vec<Mailbox>, FromError> {
    let tokens = lex(value)?;
    let mut out = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut in_group = false;
    let mut in_angle = false;
    for tok in tokens {
        if in_angle {
            if tok == Token::Special(b'>') {
                in_angle = false;
            }
            current.push(tok);
            continue;
        }
        match tok {
            Token::Special(b'<') => {
                in_angle = true;
                current.push(tok);
            }
            Token::Special(b',') => finish(&mut current, &mut out)?,
            Token::Special(b':') => {
                if in_group {
                    return Err(FromError::Syntax("nested group"));
                }
                check_phrase(&current)?;
                current.clear();
                in_group = true;
            }
            Token::Special(b';') => {
                if !in_group {
                    return Err(FromError::Syntax("';' outside a group"));
                }
                finish(&mut current, &mut out)?;
                in_group = false;
            }
            _ => current.push(tok),
        }
    }
    if in_angle {
        return Err(FromError::Syntax("unterminated angle address"));
    }
    if in_group {
        return Err(FromError::Syntax("group without ';'"));
    }
    finish(&mut current, &mut out)?;
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Atom(String),
    Quoted(String),
    DomainLiteral,
    Special(u8),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Atom(a) => f.write_str(a),
            Self::Quoted(q) => write!(f, "\"{q}\""),
            Self::DomainLiteral => f.write_str("[...]"),
            Self::Special(c) => write!(f, "{}", char::from(*c)),
        }
    }
}

fn lex(value: &[u8]) -> Result<Vec<Token>, FromError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut atom: Vec<u8> = Vec::new();
    let flush = |atom: &mut Vec<u8>, tokens: &mut Vec<Token>| {
        if !atom.is_empty() {
            tokens.push(Token::Atom(String::from_utf8_lossy(atom).into_owned()));
            atom.clear();
        }
    };
    while let Some(&b) = value.get(i) {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                flush(&mut atom, &mut tokens);
                i += 1;
            }
            b'(' => {
                flush(&mut atom, &mut tokens);
                i = skip_comment(value, i)?;
            }
            b'"' => {
                flush(&mut atom, &mut tokens);
                let (q, next) = quoted(value, i)?;
                tokens.push(Token::Quoted(q));
                i = next;
            }
            b'[' => {
                flush(&mut atom, &mut tokens);
                let close = value
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|&c| c == b']'))
                    .ok_or(FromError::Syntax("unterminated domain literal"))?;
                tokens.push(Token::DomainLiteral);
                i += close + 1;
            }
            b'<' | b'>' | b'@' | b',' | b':' | b';' | b'.' => {
                flush(&mut atom, &mut tokens);
                tokens.push(Token::Special(b));
                i += 1;
            }
            b')' | b']' | b'\\' => return Err(FromError::Syntax("stray special character")),
            0..=0x1f | 0x7f => return Err(FromError::Syntax("control character")),
            _ => {
                atom.push(b);
                i += 1;
            }
        }
    }
    flush(&mut atom, &mut tokens);
    Ok(tokens)
}

/// Skips a (nested) comment starting at `start` (a `(`); returns the index after it.
fn skip_comment(value: &[u8], start: usize) -> Result<usize, FromError> {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&b) = value.get(i) {
        match b {
            b'\\' => i += 1,
            b'(' => {
                depth += 1;
                if depth > MAX_COMMENT_DEPTH {
                    return Err(FromError::Syntax("comments nested too deeply"));
                }
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(FromError::Syntax("unterminated comment"))
}

/// Reads a quoted string starting at `start` (a `"`); returns its content (quoted-pairs kept
/// escaped) and the index after the closing quote.
fn quoted(value: &[u8], start: usize) -> Result<(String, usize), FromError> {
    let mut i = start + 1;
    let mut content = Vec::new();
    while let Some(&b) = value.get(i) {
        match b {
            b'\\' => {
                let next = value
                    .get(i + 1)
                    .ok_or(FromError::Syntax("unterminated quoted string"))?;
                content.push(b'\\');
                content.push(*next);
                i += 2;
            }
            b'"' => return Ok((String::from_utf8_lossy(&content).into_owned(), i + 1)),
            _ => {
                content.push(b);
                i += 1;
            }
        }
    }
    Err(FromError::Syntax("unterminated quoted string"))
}

/// `display-name = phrase`, with RFC 5322 §4.1 `obs-phrase` dots allowed.
fn check_phrase(tokens: &[Token]) -> Result<(), FromError> {
    let ok = tokens
        .iter()
        .all(|t| matches!(t, Token::Atom(_) | Token::Quoted(_) | Token::Special(b'.')));
    if ok {
        Ok(())
    } else {
        Err(FromError::Syntax("invalid display name"))
    }
}

fn finish(current: &mut Vec<Token>, out: &mut Vec<Mailbox>) -> Result<(), FromError> {
    if current.is_empty() {
        // RFC 5322 §4.4 obs-mbox-list: empty list elements are tolerated.
        return Ok(());
    }
    let tokens = std::mem::take(current);
    let spec: &[Token] = match tokens.iter().position(|t| *t == Token::Special(b'<')) {
        Some(open) => {
            let close = tokens
                .iter()
                .rposition(|t| *t == Token::Special(b'>'))
                .ok_or(FromError::Syntax("unterminated angle address"))?;
            if close + 1 != tokens.len() {
                return Err(FromError::Syntax("text after angle address"));
            }
            check_phrase(tokens.get(..open).unwrap_or(&[]))?;
            let inner = tokens.get(open + 1..close).unwrap_or(&[]);
            // RFC 5322 §4.4 obs-route: "<@a.example,@b.example:user@c.example>".
            match inner.iter().rposition(|t| *t == Token::Special(b':')) {
                Some(colon) if inner.first() == Some(&Token::Special(b'@')) => {
                    inner.get(colon + 1..).unwrap_or(&[])
                }
                _ => inner,
            }
        }
        None => &tokens,
    };
    if out.len() >= MAX_MAILBOXES {
        return Err(FromError::TooManyMailboxes);
    }
    out.push(addr_spec(spec)?);
    Ok(())
}

/// `addr-spec = local-part "@" domain`
fn addr_spec(tokens: &[Token]) -> Result<Mailbox, FromError> {
    let at = tokens
        .iter()
        .rposition(|t| *t == Token::Special(b'@'))
        .ok_or(FromError::Syntax("address without '@'"))?;
    let local = tokens.get(..at).unwrap_or(&[]);
    let domain = tokens.get(at + 1..).unwrap_or(&[]);
    if !alternates(local, |t| matches!(t, Token::Atom(_) | Token::Quoted(_))) {
        return Err(FromError::Syntax("invalid local part"));
    }
    if domain.contains(&Token::DomainLiteral) {
        return Err(FromError::DomainLiteral);
    }
    if !alternates(domain, |t| matches!(t, Token::Atom(_))) {
        return Err(FromError::Syntax("invalid domain"));
    }
    let local_text: String = local.iter().map(ToString::to_string).collect();
    let domain_text: String = domain.iter().map(ToString::to_string).collect();
    // A host name (RFC 5322 §3.4.1's dot-atom, checked as RFC 1123 letters, digits and
    // hyphens after A-label conversion): `Domain` alone also takes the octets SPF macros can
    // produce, and atext allows `_`, `+`, `!` and the like, which name no DMARC policy.
    let parsed = Domain::new(&domain_text)
        .ok()
        .filter(Domain::is_hostname)
        .ok_or_else(|| FromError::InvalidDomain(domain_text.clone()))?;
    Ok(Mailbox {
        address: format!("{local_text}@{domain_text}"),
        domain: parsed,
    })
}

/// `word *("." word)`: non-empty, words and dots alternating, starting and ending on a word.
fn alternates(tokens: &[Token], is_word: impl Fn(&Token) -> bool) -> bool {
    !tokens.is_empty()
        && tokens.len() % 2 == 1
        && tokens.iter().enumerate().all(|(i, t)| {
            if i % 2 == 0 {
                is_word(t)
            } else {
                *t == Token::Special(b'.')
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(v: &str) -> Result<String, FromError> {
        single_domain(&parse_mailboxes(v.as_bytes())?).map(|d| d.to_string())
    }

    #[test]
    fn plain_and_named() {
        assert_eq!(domain(" user@example.com").unwrap(), "example.com");
        assert_eq!(domain(" User <user@EXAMPLE.com>").unwrap(), "example.com");
        assert_eq!(
            domain(" \"Doe, John\" <j@example.com>").unwrap(),
            "example.com"
        );
        assert_eq!(
            domain(" John Q. Public <j@example.com>").unwrap(),
            "example.com"
        );
        assert_eq!(
            domain(" user@example.com (Some (nested) comment)").unwrap(),
            "example.com"
        );
        assert_eq!(
            domain(" (c) user (c) @ (c) example (c) . (c) com (c)").unwrap(),
            "example.com"
        );
        assert_eq!(
            domain("\r\n user@\r\n\texample.com").unwrap(),
            "example.com"
        );
    }

    #[test]
    fn the_domain_must_be_a_host_name() {
        // atext (RFC 5322 §3.2.3) allows these in a dot-atom; a host name (RFC 1123 §2.1) does
        // not, and no DMARC policy can be published at such a name.
        for bad in [
            "u@ex_ample.com",
            "u@exa+mple.com",
            "u@a!b.example",
            "u@-a.example",
        ] {
            assert!(
                matches!(domain(bad), Err(FromError::InvalidDomain(_))),
                "{bad}: {:?}",
                domain(bad)
            );
        }
        // Internationalized names are checked in their A-label form.
        assert_eq!(domain("u@bücher.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(
            domain("u@mail-1.example.com").unwrap(),
            "mail-1.example.com"
        );
    }

    #[test]
    fn hidden_addresses_in_display_names_do_not_count() {
        assert_eq!(
            domain(" \"ceo@bank.example\" <x@evil.example>").unwrap(),
            "evil.example"
        );
        assert_eq!(
            domain(" =?utf-8?q?ceo=40bank=2Eexample?= <x@evil.example>").unwrap(),
            "evil.example"
        );
        assert_eq!(
            domain(" (ceo@bank.example) x@evil.example").unwrap(),
            "evil.example"
        );
        assert!(domain(" ceo@bank.example <x@evil.example>").is_err());
    }

    #[test]
    fn quoted_local_parts() {
        assert_eq!(
            domain(" \"john..doe@x\"@example.com").unwrap(),
            "example.com"
        );
        assert_eq!(domain(" \"a\\\"b\"@example.com").unwrap(), "example.com");
    }

    #[test]
    fn groups() {
        assert_eq!(
            domain(" Team: a@example.com, b@example.com;").unwrap(),
            "example.com"
        );
        assert_eq!(domain(" undisclosed:;"), Err(FromError::NoMailbox));
        assert!(matches!(
            domain(" Team: a@example.com, b@example.net;"),
            Err(FromError::MultipleDomains(_))
        ));
        assert!(domain(" a: b: c@example.com;;").is_err());
    }

    #[test]
    fn several_mailboxes() {
        assert_eq!(
            domain(" a@example.com, B <b@Example.com>").unwrap(),
            "example.com"
        );
        let e = domain(" a@example.com, b@example.org").unwrap_err();
        assert!(matches!(e, FromError::MultipleDomains(ref d) if d.len() == 2));
        // obs-mbox-list empty elements
        assert_eq!(domain(" , a@example.com ,,").unwrap(), "example.com");
    }

    #[test]
    fn idn_and_literals() {
        assert_eq!(
            domain(" user@bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(domain(" u@[192.0.2.1]"), Err(FromError::DomainLiteral));
        assert_eq!(
            domain(" <@relay.example,@r2.example:user@example.com>").unwrap(),
            "example.com"
        );
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            " ",
            " user",
            " user@",
            " @example.com",
            " <user@example.com",
            " user@example.com>",
            " user@@example.com",
            " user@example..com",
            " user@.example.com",
            " (unterminated user@example.com",
            " \"unterminated@example.com",
            " <>",
            " a <b@example.com> c",
            " user@exa mple.com",
        ] {
            assert!(domain(bad).is_err(), "{bad:?}");
        }
        let deep = format!(" {}x{} a@example.com", "(".repeat(40), ")".repeat(40));
        assert!(domain(&deep).is_err());
    }

    #[test]
    fn message_level() {
        let m = Message::parse(b"From: a@example.com\r\nFrom: b@example.com\r\n\r\n").unwrap();
        assert_eq!(author_domain(&m), Err(FromError::MultipleFromFields(2)));
        let m = Message::parse(b"Subject: x\r\n\r\n").unwrap();
        assert_eq!(author_domain(&m), Err(FromError::NoFromField));
        let m = Message::parse(b"fRoM: a@Example.com\r\n\r\n").unwrap();
        assert_eq!(author_domain(&m).unwrap().as_str(), "example.com");
    }
}
