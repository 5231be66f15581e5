//! Why a master file could not be loaded.

use std::fmt;
use std::sync::Arc;

use mailward_types::Domain;

/// A master file that could not be loaded: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZoneError {
    /// The file path, or `<string>` for text given directly.
    pub file: String,
    /// The line (from 1) of the offending entry; 0 when the error is not about one line.
    pub line: usize,
    /// What is wrong.
    pub kind: ZoneErrorKind,
}

impl fmt::Display for ZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.kind)
        }
    }
}

impl std::error::Error for ZoneError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ZoneErrorKind::Io(e) => Some(&**e),
            _ => None,
        }
    }
}

/// What is wrong in a master file.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneErrorKind {
    /// The file could not be read.
    #[error("cannot read the file")]
    Io(#[source] Arc<std::io::Error>),
    /// The file is larger than [`MAX_ZONE_FILE_SIZE`](super::MAX_ZONE_FILE_SIZE).
    #[error("file larger than {limit} octets")]
    FileTooLarge {
        /// The limit.
        limit: usize,
    },
    /// More records than [`MAX_RECORDS`](super::MAX_RECORDS).
    #[error("more than {limit} records")]
    TooManyRecords {
        /// The limit.
        limit: usize,
    },
    /// An entry has more than [`MAX_TOKENS_PER_ENTRY`](super::MAX_TOKENS_PER_ENTRY) tokens.
    #[error("more than {limit} fields in one entry")]
    TooManyTokens {
        /// The limit.
        limit: usize,
    },
    /// A `(` was never closed.
    #[error("'(' not closed before the end of the file")]
    UnclosedParenthesis,
    /// A `(` inside parentheses.
    #[error("nested '('")]
    NestedParenthesis,
    /// A `)` without `(`.
    #[error("')' without '('")]
    UnbalancedParenthesis,
    /// A `"` without its closing `"` on the same line.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A `\` at the end of the input, or a `\DDD` that is not three digits of at most 255.
    #[error("bad escape: '\\' must be followed by a character or by three digits 000-255")]
    BadEscape,
    /// A domain name is not valid.
    #[error("invalid domain name '{name}': {reason}")]
    InvalidName {
        /// The name as written.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// An escaped dot (`\.` or `\046`) inside a label: valid in DNS, but not representable as a
    /// [`Domain`].
    #[error("escaped dot inside a label is not supported: '{name}'")]
    EscapedDotInLabel {
        /// The name as written.
        name: String,
    },
    /// A relative name (or `@`) with no origin to complete it.
    #[error("relative name '{name}' but no $ORIGIN and no origin given")]
    NoOrigin {
        /// The name as written.
        name: String,
    },
    /// An entry starts with white space (same owner as before) but is the first record.
    #[error("record without owner name and no previous owner")]
    NoPreviousOwner,
    /// An entry has no record type.
    #[error("missing record type")]
    MissingType,
    /// A TTL that is not a number of seconds up to 2147483647 (RFC 2181 §8).
    #[error("invalid TTL '{ttl}'")]
    InvalidTtl {
        /// The TTL as written.
        ttl: String,
    },
    /// A record without TTL and no `$TTL` or earlier TTL to default to.
    #[error("record without TTL, and no $TTL or earlier TTL")]
    NoTtl,
    /// A class other than IN.
    #[error("unsupported class '{class}' (only IN)")]
    UnsupportedClass {
        /// The class as written.
        class: String,
    },
    /// A record type this reader does not know.
    #[error("unsupported record type '{rtype}' (write it as TYPEnnn \\# <len> <hex>, RFC 3597)")]
    UnsupportedType {
        /// The type as written.
        rtype: String,
    },
    /// The RDATA does not fit the type.
    #[error("invalid {rtype} data: {reason}")]
    InvalidRdata {
        /// The record type.
        rtype: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A character-string longer than [`MAX_CHARACTER_STRING`](super::MAX_CHARACTER_STRING).
    #[error("character-string of {len} octets, longer than {limit}")]
    StringTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// RDATA longer than [`MAX_RDATA_LEN`](super::MAX_RDATA_LEN).
    #[error("record data longer than {limit} octets")]
    RdataTooLong {
        /// The limit.
        limit: usize,
    },
    /// A directive with missing or extra arguments.
    #[error("{directive} needs exactly one argument")]
    BadDirective {
        /// The directive.
        directive: &'static str,
    },
    /// `$INCLUDE` is not supported.
    #[error("$INCLUDE is not supported: load each file separately")]
    IncludeNotSupported,
    /// A `$` directive other than `$ORIGIN`, `$TTL`, `$INCLUDE`.
    #[error("unknown directive '{directive}'")]
    UnknownDirective {
        /// The directive as written.
        directive: String,
    },
    /// A CNAME next to other data at the same name (RFC 1034 §3.6.2, RFC 2181 §10.1).
    #[error("CNAME and other data at '{name}'")]
    CnameAndOtherData {
        /// The name.
        name: Domain,
    },
}

impl PartialEq for ZoneErrorKind {
    /// Compares the kind and its fields; I/O errors compare by their kind only.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Io(a), Self::Io(b)) => a.kind() == b.kind(),
            _ => self.to_string() == other.to_string(),
        }
    }
}

impl Eq for ZoneErrorKind {}

/// A parse failure at a line (the caller adds the source name).
pub(super) type ParseError = (usize, ZoneErrorKind);
