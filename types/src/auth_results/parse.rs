//! The parser of `Authentication-Results` values (RFC 8601 §2.2), and its errors.

use super::{
    AuthenticationResults, MAX_COMMENT_DEPTH, MAX_INPUT_LEN, MAX_RESULTS, MethodResult, Property,
    clean_char,
};

impl AuthenticationResults {
    /// Parses a header value (the part after `Authentication-Results:`), unfolded or folded.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] with the offset and the rule that failed; inputs over
    /// [`MAX_INPUT_LEN`] octets, with more than [`MAX_RESULTS`] results or comments nested
    /// deeper than [`MAX_COMMENT_DEPTH`] are rejected.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        if value.len() > MAX_INPUT_LEN {
            return Err(ParseError {
                offset: MAX_INPUT_LEN,
                kind: ParseErrorKind::TooLong,
            });
        }
        Parser::new(value).authres_payload()
    }
}

/// An `Authentication-Results` value that does not follow RFC 8601 §2.2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at offset {offset}")]
#[non_exhaustive]
pub struct ParseError {
    /// Byte offset where parsing failed.
    pub offset: usize,
    /// What was expected.
    pub kind: ParseErrorKind,
}

/// Which rule an `Authentication-Results` value broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// No authserv-id.
    #[error("missing authserv-id")]
    MissingAuthservId,
    /// Expected `;` between results.
    #[error("expected ';'")]
    ExpectedSemicolon,
    /// Expected a keyword (method, result, ptype, property).
    #[error("expected a keyword")]
    ExpectedKeyword,
    /// Expected `=`.
    #[error("expected '='")]
    ExpectedEquals,
    /// Expected `.` between ptype and property.
    #[error("expected '.'")]
    ExpectedDot,
    /// Expected a value.
    #[error("expected a value")]
    ExpectedValue,
    /// A version number is not a number or out of range.
    #[error("invalid version")]
    InvalidVersion,
    /// A quoted string or comment is not closed.
    #[error("unterminated quoted string or comment")]
    Unterminated,
    /// Comments nest deeper than [`MAX_COMMENT_DEPTH`].
    #[error("comments nested too deeply")]
    CommentTooDeep,
    /// More than [`MAX_RESULTS`] results.
    #[error("too many results")]
    TooManyResults,
    /// Input longer than [`MAX_INPUT_LEN`].
    #[error("input too long")]
    TooLong,
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    fn err(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            offset: self.pos,
            kind,
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, want: char) -> bool {
        if self.peek() == Some(want) {
            self.pos += want.len_utf8();
            true
        } else {
            false
        }
    }

    /// `[CFWS]`: skips whitespace and comments, returning the first comment's text.
    fn cfws(&mut self) -> Result<Option<String>, ParseError> {
        let mut first = None;
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r' | '\n') => {
                    self.pos += 1;
                }
                Some('(') => {
                    let c = self.comment()?;
                    first.get_or_insert(c);
                }
                _ => return Ok(first),
            }
        }
    }

    /// `comment = "(" *([FWS] ccontent) [FWS] ")"`; nested comments are kept as text.
    fn comment(&mut self) -> Result<String, ParseError> {
        let mut depth = 0usize;
        let mut text = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.err(ParseErrorKind::Unterminated));
            };
            match c {
                '(' => {
                    depth += 1;
                    if depth > MAX_COMMENT_DEPTH {
                        return Err(self.err(ParseErrorKind::CommentTooDeep));
                    }
                    if depth > 1 {
                        text.push('(');
                    }
                }
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(text);
                    }
                    text.push(')');
                }
                '\\' => match self.bump() {
                    // A quoted CR or LF is folding, not content (quoted-pair takes VCHAR / WSP).
                    Some('\r' | '\n') => {}
                    Some(q) => text.push(clean_char(q)),
                    None => return Err(self.err(ParseErrorKind::Unterminated)),
                },
                '\r' | '\n' => {}
                other => text.push(clean_char(other)),
            }
        }
    }

    /// `Keyword = Let-dig [ *(Let-dig / "-") Let-dig ]` (read leniently: letters, digits, `-`,
    /// `_`).
    fn keyword(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                self.pos += 1;
            } else {
                break;
            }
        }
        match self.s.get(start..self.pos) {
            Some(k) if !k.is_empty() => Ok(k.to_owned()),
            _ => Err(self.err(ParseErrorKind::ExpectedKeyword)),
        }
    }

    fn digits(&mut self) -> Result<u32, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.s
            .get(start..self.pos)
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| self.err(ParseErrorKind::InvalidVersion))
    }

    /// `quoted-string` (RFC 5322 §3.2.4), opening quote already seen.
    fn quoted_string(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err(ParseErrorKind::Unterminated)),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('\r' | '\n') => {}
                    Some(q) => out.push(clean_char(q)),
                    None => return Err(self.err(ParseErrorKind::Unterminated)),
                },
                Some('\r' | '\n') => {}
                Some(c) => out.push(clean_char(c)),
            }
        }
    }

    /// `value = token / quoted-string`, read leniently: an unquoted value runs to whitespace,
    /// `;` or `(` (many writers leave `/`, `=` and `@` unquoted).
    fn value(&mut self) -> Result<String, ParseError> {
        if self.eat('"') {
            return self.quoted_string();
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            // A token holds no CTLs (RFC 2045); a control octet ends the value.
            if c.is_whitespace() || c.is_control() || c == ';' || c == '(' || c == '"' {
                break;
            }
            self.pos += c.len_utf8();
        }
        match self.s.get(start..self.pos) {
            Some(v) if !v.is_empty() => Ok(v.to_owned()),
            _ => Err(self.err(ParseErrorKind::ExpectedValue)),
        }
    }

    /// `pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]`: a value, or an
    /// address whose local part may be a quoted-string (`"john smith"@example.com`, kept as
    /// `john smith@example.com`).
    fn pvalue(&mut self) -> Result<String, ParseError> {
        let quoted = self.peek() == Some('"');
        let mut v = self.value()?;
        if quoted && self.peek() == Some('@') {
            v.push_str(&self.value()?);
        }
        Ok(v)
    }

    fn authres_payload(&mut self) -> Result<AuthenticationResults, ParseError> {
        self.cfws()?;
        if matches!(self.peek(), None | Some(';')) {
            return Err(self.err(ParseErrorKind::MissingAuthservId));
        }
        let authserv_id = self.value()?;
        self.cfws()?;
        let version = if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            let v = self.digits()?;
            self.cfws()?;
            Some(v)
        } else {
            None
        };
        let mut results = Vec::new();
        loop {
            self.cfws()?;
            if self.peek().is_none() {
                break;
            }
            if !self.eat(';') {
                return Err(self.err(ParseErrorKind::ExpectedSemicolon));
            }
            self.cfws()?;
            if self.peek().is_none() {
                // A trailing ';' is common in the wild; accept it.
                break;
            }
            let save = self.pos;
            let method = self.keyword()?;
            self.cfws()?;
            if results.is_empty()
                && method.eq_ignore_ascii_case("none")
                && self.peek() != Some('=')
                && self.peek() != Some('/')
            {
                self.cfws()?;
                if self.peek().is_none() {
                    break;
                }
                self.pos = save;
            }
            if results.len() == MAX_RESULTS {
                return Err(self.err(ParseErrorKind::TooManyResults));
            }
            results.push(self.resinfo_after_method(method)?);
        }
        Ok(AuthenticationResults {
            authserv_id,
            version,
            results,
        })
    }

    /// The rest of `resinfo` once the method keyword has been read.
    fn resinfo_after_method(&mut self, method: String) -> Result<MethodResult, ParseError> {
        self.cfws()?;
        let method_version = if self.eat('/') {
            self.cfws()?;
            let v = self.digits()?;
            self.cfws()?;
            Some(v)
        } else {
            None
        };
        if !self.eat('=') {
            return Err(self.err(ParseErrorKind::ExpectedEquals));
        }
        self.cfws()?;
        let result = self.keyword()?;
        let mut r = MethodResult::new(method, result);
        r.method_version = method_version;
        r.comment = self.cfws()?;
        loop {
            if matches!(self.peek(), None | Some(';')) {
                return Ok(r);
            }
            let ptype = self.keyword()?;
            self.cfws()?;
            if ptype.eq_ignore_ascii_case("reason")
                && self.peek() == Some('=')
                && r.reason.is_none()
                && r.properties.is_empty()
            {
                self.pos += 1;
                self.cfws()?;
                r.reason = Some(self.value()?);
                self.cfws()?;
                continue;
            }
            if !self.eat('.') {
                return Err(self.err(ParseErrorKind::ExpectedDot));
            }
            self.cfws()?;
            let property = self.keyword()?;
            self.cfws()?;
            if !self.eat('=') {
                return Err(self.err(ParseErrorKind::ExpectedEquals));
            }
            self.cfws()?;
            let value = self.pvalue()?;
            r.properties.push(Property {
                ptype,
                property,
                value,
            });
            let c = self.cfws()?;
            if r.comment.is_none() {
                r.comment = c;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_8601_appendix_b_examples() {
        // B.2: "Authentication-Results: example.org 1; none"
        let ar = AuthenticationResults::parse(" example.org 1; none").unwrap();
        assert_eq!(ar.authserv_id, "example.org");
        assert_eq!(ar.version, Some(1));
        assert!(ar.results.is_empty());

        // B.3
        let ar = AuthenticationResults::parse(
            " example.com;\r\n                  spf=pass smtp.mailfrom=example.net",
        )
        .unwrap();
        assert_eq!(ar.results.len(), 1);
        assert_eq!(ar.results[0].method, "spf");
        assert_eq!(
            ar.results[0].property("smtp", "mailfrom"),
            Some("example.net")
        );

        // B.4, with comments in several places.
        let ar = AuthenticationResults::parse(
            " example.com;\r\n                  auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n                  spf=pass smtp.mailfrom=example.net",
        )
        .unwrap();
        assert_eq!(ar.results.len(), 2);
        assert_eq!(ar.results[0].comment.as_deref(), Some("cram-md5"));
        assert_eq!(
            ar.results[0].property("smtp", "auth"),
            Some("sender@example.net")
        );

        // B.5: method versions, header.i and a quoted reason.
        let ar = AuthenticationResults::parse(
            " example.com;\r\n          dkim=pass (good signature) header.d=mail-router.example.net;\r\n          dkim=fail (bad signature) header.d=newyork.example.com",
        )
        .unwrap();
        assert_eq!(ar.results[1].result, "fail");
        assert_eq!(ar.results[1].comment.as_deref(), Some("bad signature"));

        // B.6: versioned method and reason.
        let ar = AuthenticationResults::parse(
            " example.com;\r\n              dkim/1=fail reason=\"bad sig\" header.i=@example.com",
        )
        .unwrap();
        assert_eq!(ar.results[0].method_version, Some(1));
        assert_eq!(ar.results[0].reason.as_deref(), Some("bad sig"));
        assert_eq!(ar.results[0].property("header", "i"), Some("@example.com"));
    }

    #[test]
    fn garbage_gets_typed_errors() {
        for (input, kind) in [
            ("", ParseErrorKind::MissingAuthservId),
            ("; spf=pass", ParseErrorKind::MissingAuthservId),
            ("x spf=pass", ParseErrorKind::ExpectedSemicolon),
            ("x; spf pass", ParseErrorKind::ExpectedEquals),
            ("x; spf=", ParseErrorKind::ExpectedKeyword),
            ("x; spf=pass smtp", ParseErrorKind::ExpectedDot),
            ("x; spf=pass (unclosed", ParseErrorKind::Unterminated),
            ("x; spf=pass reason=\"open", ParseErrorKind::Unterminated),
            ("x; dkim/=pass", ParseErrorKind::InvalidVersion),
            ("x 99999999999; none", ParseErrorKind::InvalidVersion),
        ] {
            assert_eq!(
                AuthenticationResults::parse(input).unwrap_err().kind,
                kind,
                "{input:?}"
            );
        }
        let deep = format!("x; spf=pass {}", "(".repeat(10_000));
        assert_eq!(
            AuthenticationResults::parse(&deep).unwrap_err().kind,
            ParseErrorKind::CommentTooDeep
        );
        let many = format!("x{}", "; a=b".repeat(MAX_RESULTS + 1));
        assert_eq!(
            AuthenticationResults::parse(&many).unwrap_err().kind,
            ParseErrorKind::TooManyResults
        );
        let long = "x".repeat(MAX_INPUT_LEN + 1);
        assert_eq!(
            AuthenticationResults::parse(&long).unwrap_err().kind,
            ParseErrorKind::TooLong
        );
        // Binary garbage: an error, never a panic.
        let junk: String = (0u8..=255).map(char::from).collect();
        assert!(AuthenticationResults::parse(&junk).is_err());
    }

    #[test]
    fn control_characters_are_not_values() {
        // Found by fuzz target types_auth_results_roundtrip: an unquoted authserv-id with a
        // control octet. RFC 2045 `token` excludes CTLs, so the value ends there.
        assert_eq!(
            AuthenticationResults::parse("example\x0forg; none")
                .unwrap_err()
                .kind,
            ParseErrorKind::ExpectedSemicolon
        );
        // Inside quoted strings and comments they are read as spaces, as they are written.
        let ar = AuthenticationResults::parse("\"a\x01b\"; spf=pass (c\x02d)").unwrap();
        assert_eq!(ar.authserv_id, "a b");
        assert_eq!(ar.results[0].comment.as_deref(), Some("c d"));
        assert_eq!(AuthenticationResults::parse(&ar.to_string()).unwrap(), ar);
        // Also when quoted with a backslash (quoted-pair), in a comment and in a quoted string.
        let ar = AuthenticationResults::parse("\"a\\\x08b\"; spf=pass (c\\\x08d)").unwrap();
        assert_eq!(ar.authserv_id, "a b");
        assert_eq!(ar.results[0].comment.as_deref(), Some("c d"));
    }

    #[test]
    fn quoted_local_part_in_property_value() {
        // RFC 8601 §2.2: pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS];
        // local-part may be a quoted-string (RFC 5322 §3.4.1).
        let ar = AuthenticationResults::parse(
            "mx.example.org; spf=pass smtp.mailfrom=\"john smith\"@example.com",
        )
        .unwrap();
        assert_eq!(
            ar.results[0].property("smtp", "mailfrom"),
            Some("john smith@example.com")
        );
        assert_eq!(AuthenticationResults::parse(&ar.to_string()).unwrap(), ar);
    }
}
