//! The parser of records and macro strings: the public entry points ([`SpfRecord::parse`],
//! [`MacroString::parse_domain_spec`], [`MacroString::parse_explain_string`]) over two
//! implementations that build the same values: `rules`, one nom 8 function per ABNF rule of
//! [RFC 7208 §12](https://www.rfc-editor.org/rfc/rfc7208#section-12), and `fast`, a one-pass
//! reader of the common terms that hands everything else to the rule functions.
//!
//! nom stays private.

mod fast;
mod rules;

use std::str::FromStr;

use crate::error::ParseError;
use crate::macros::MacroString;
use crate::record::SpfRecord;

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
        rules::parse_domain_spec_str(text)
    }

    /// Parses an `explain-string` (RFC 7208 §6.2, §7.1): macro strings and spaces, every macro
    /// letter allowed.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for a `%` not followed by `{`, `%`, `_` or `-`, an unknown macro letter,
    /// a zero digit transformer, or a character outside visible ASCII and space.
    pub fn parse_explain_string(text: &str) -> Result<Self, ParseError> {
        rules::parse_explain_string_str(text)
    }
}

/// RFC 7208 §12 (and §4.5):
///
/// ```abnf
/// record           = version terms *SP
/// ```
fn record(text: &str) -> Result<SpfRecord, ParseError> {
    match fast::record_fast(text) {
        Some(r) => Ok(r),
        None => rules::record_general(text),
    }
}
