//! The syntax errors of records and macro strings ([`ParseError`]).

use std::fmt;

/// Which rule a record or macro string broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text does not start with `v=spf1` followed by a space or the end.
    Version,
    /// A character outside printable US-ASCII (RFC 7208 §3.1: records are US-ASCII; terms are
    /// separated by spaces only).
    InvalidCharacter,
    /// A term that is neither a known mechanism nor a `name=value` modifier.
    UnknownMechanism,
    /// A known mechanism with a bad argument (domain-spec, network, CIDR length).
    InvalidMechanism(&'static str),
    /// A modifier with a bad name or value.
    InvalidModifier,
    /// `redirect=` or `exp=` given twice (RFC 7208 §6).
    DuplicateModifier(&'static str),
    /// A bad macro (`%` not followed by `{`, `%`, `_`, `-`; unknown letter; zero digits;
    /// `c`, `r` or `t` outside an explanation).
    InvalidMacro,
    /// A `domain-spec` that does not end in `.toplabel` or a macro (RFC 7208 §7.1).
    InvalidDomainSpec,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version => f.write_str("not an SPF version 1 record"),
            Self::InvalidCharacter => f.write_str("invalid character"),
            Self::UnknownMechanism => f.write_str("unknown mechanism"),
            Self::InvalidMechanism(m) => write!(f, "invalid {m} mechanism"),
            Self::InvalidModifier => f.write_str("invalid modifier"),
            Self::DuplicateModifier(m) => write!(f, "{m}= modifier appears twice"),
            Self::InvalidMacro => f.write_str("invalid macro"),
            Self::InvalidDomainSpec => f.write_str("invalid domain-spec"),
        }
    }
}

/// A syntax error: the rule broken, the offending term and its byte offset in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}: {term:?}")]
#[non_exhaustive]
pub struct ParseError {
    /// Byte offset in the parsed text where the rule broke (inside [`term`](Self::term)).
    pub offset: usize,
    /// Which rule failed.
    pub kind: ParseErrorKind,
    /// The offending term as written (possibly shortened).
    pub term: String,
}

impl ParseError {
    pub(crate) fn new(offset: usize, kind: ParseErrorKind, term: &str) -> Self {
        /// Keeps error messages short when a hostile record has a huge term.
        const MAX_TERM_IN_ERROR: usize = 100;
        let mut term = term.to_owned();
        if term.len() > MAX_TERM_IN_ERROR {
            let mut cut = MAX_TERM_IN_ERROR;
            while !term.is_char_boundary(cut) {
                cut -= 1;
            }
            term.truncate(cut);
            term.push('…');
        }
        Self { offset, kind, term }
    }
}
