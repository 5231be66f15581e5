//! The `Authentication-Results` header field of
//! [RFC 8601](https://www.rfc-editor.org/rfc/rfc8601): a model, its rendering and a parser.
//!
//! ```abnf
//! authres-payload = [CFWS] authserv-id
//!                   [ CFWS authres-version ]
//!                   ( no-result / 1*resinfo ) [CFWS] CRLF
//! authres-version = 1*DIGIT [CFWS]
//! no-result       = [CFWS] ";" [CFWS] "none"
//! resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ]
//!                   [ CFWS 1*propspec ]
//! methodspec      = [CFWS] method [CFWS] "=" [CFWS] result
//! reasonspec      = "reason" [CFWS] "=" [CFWS] value
//! propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//! method          = Keyword [ [CFWS] "/" [CFWS] method-version ]
//! pvalue          = [CFWS] ( value / [ [ local-part ] "@" ] domain-name )
//!                   [CFWS]
//! ```
//!
//! Rendering quotes a value whenever it is not an RFC 2045 `token` (nor, for property values, a
//! `[local-part] "@" domain`), so what we write always parses back to the same model.
//!
//! # Examples
//!
//! ```
//! use mailward_types::auth_results::{AuthenticationResults, MethodResult};
//!
//! let ar = AuthenticationResults::new("mx.example.org")
//!     .with_result(MethodResult::new("spf", "pass").with_property("smtp", "mailfrom", "a@example.com"))
//!     .with_result(MethodResult::new("dkim", "pass").with_property("header", "d", "example.com"));
//! assert_eq!(
//!     ar.to_string(),
//!     "mx.example.org; spf=pass smtp.mailfrom=a@example.com; dkim=pass header.d=example.com"
//! );
//! assert_eq!(AuthenticationResults::parse(&ar.to_string())?, ar);
//! # Ok::<(), mailward_types::auth_results::ParseError>(())
//! ```

use std::fmt::{self, Write as _};

mod parse;

pub use self::parse::{ParseError, ParseErrorKind};

/// Longest header value accepted by [`AuthenticationResults::parse`].
pub const MAX_INPUT_LEN: usize = 64 * 1024;
/// Most method results accepted in one field.
pub const MAX_RESULTS: usize = 256;
/// Deepest comment nesting accepted (RFC 5322 comments nest).
pub const MAX_COMMENT_DEPTH: usize = 32;

/// One `Authentication-Results` header field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuthenticationResults {
    /// The authentication service that produced the results (usually a host name).
    pub authserv_id: String,
    /// The `authres-version`, when present (RFC 8601 §2.2; version 1 is implied otherwise).
    pub version: Option<u32>,
    /// The results; empty renders as `none`.
    pub results: Vec<MethodResult>,
}

/// One `method=result` clause with its reason and properties.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MethodResult {
    /// The method (`spf`, `dkim`, `dmarc`, `arc`, ...).
    pub method: String,
    /// The method version (`dkim/1`), when given.
    pub method_version: Option<u32>,
    /// The result keyword (`pass`, `fail`, `temperror`, ...).
    pub result: String,
    /// A comment rendered after the result, `(like this)`.
    pub comment: Option<String>,
    /// The `reason=` value.
    pub reason: Option<String>,
    /// The `ptype.property=value` items, in order.
    pub properties: Vec<Property>,
}

/// One `ptype.property=value` item (`smtp.mailfrom=a@example.com`, `header.d=example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Property {
    /// `smtp`, `header`, `body`, `policy`.
    pub ptype: String,
    /// `mailfrom`, `helo`, `d`, `from`, ...
    pub property: String,
    /// The value, unquoted.
    pub value: String,
}

impl AuthenticationResults {
    /// An empty result set (renders as `none`) for `authserv_id`.
    pub fn new(authserv_id: impl Into<String>) -> Self {
        Self {
            authserv_id: authserv_id.into(),
            version: None,
            results: Vec::new(),
        }
    }

    /// Adds a method result.
    #[must_use]
    pub fn with_result(mut self, result: MethodResult) -> Self {
        self.results.push(result);
        self
    }

    /// The header value on one line (what [`Display`](fmt::Display) writes).
    pub fn to_header_value(&self) -> String {
        self.to_string()
    }

    /// The whole header field, `Authentication-Results: ...`, folded before each `;` clause and
    /// between properties so that lines stay under 78 columns where the items allow it, with
    /// CRLF line ends and no final CRLF.
    pub fn to_header_field(&self) -> String {
        let mut out = String::from("Authentication-Results: ");
        out.push_str(&render_value(&self.authserv_id, false));
        if let Some(v) = self.version {
            let _ = write!(out, " {v}");
        }
        if self.results.is_empty() {
            out.push_str("; none");
            return out;
        }
        for r in &self.results {
            out.push_str(";\r\n\t");
            let mut line_len = 8;
            for (i, piece) in r.pieces().iter().enumerate() {
                if i > 0 {
                    if line_len + 1 + piece.len() > 78 {
                        out.push_str("\r\n\t");
                        line_len = 8;
                    } else {
                        out.push(' ');
                        line_len += 1;
                    }
                }
                out.push_str(piece);
                line_len += piece.len();
            }
        }
        out
    }
}

impl fmt::Display for AuthenticationResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render_value(&self.authserv_id, false))?;
        if let Some(v) = self.version {
            write!(f, " {v}")?;
        }
        if self.results.is_empty() {
            return f.write_str("; none");
        }
        for r in &self.results {
            write!(f, "; {r}")?;
        }
        Ok(())
    }
}

impl MethodResult {
    /// `method=result` with no reason, comment or properties.
    pub fn new(method: impl Into<String>, result: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            method_version: None,
            result: result.into(),
            comment: None,
            reason: None,
            properties: Vec::new(),
        }
    }

    /// Adds `ptype.property=value`.
    #[must_use]
    pub fn with_property(
        mut self,
        ptype: impl Into<String>,
        property: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.properties.push(Property {
            ptype: ptype.into(),
            property: property.into(),
            value: value.into(),
        });
        self
    }

    /// Sets the `reason=` value.
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the comment written after the result.
    #[must_use]
    pub fn with_comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// The value of the first property `ptype.property`, compared without case.
    pub fn property(&self, ptype: &str, property: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| {
                p.ptype.eq_ignore_ascii_case(ptype) && p.property.eq_ignore_ascii_case(property)
            })
            .map(|p| p.value.as_str())
    }

    /// The rendered pieces separated by spaces: `method=result`, `(comment)`, `reason=...`,
    /// each property.
    fn pieces(&self) -> Vec<String> {
        let mut pieces = Vec::with_capacity(3 + self.properties.len());
        let mut head = render_keyword(&self.method);
        if let Some(v) = self.method_version {
            let _ = write!(head, "/{v}");
        }
        let _ = write!(head, "={}", render_keyword(&self.result));
        pieces.push(head);
        if let Some(c) = &self.comment {
            pieces.push(render_comment(c));
        }
        if let Some(r) = &self.reason {
            pieces.push(format!("reason={}", render_value(r, false)));
        }
        for p in &self.properties {
            pieces.push(format!(
                "{}.{}={}",
                render_keyword(&p.ptype),
                render_keyword(&p.property),
                render_value(&p.value, true)
            ));
        }
        pieces
    }
}

impl fmt::Display for MethodResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pieces().join(" "))
    }
}

/// RFC 2045 `tspecials`.
fn is_tspecial(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '<' | '>' | '@' | ',' | ';' | ':' | '\\' | '"' | '/' | '[' | ']' | '?' | '='
    )
}

/// RFC 2045 `token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic() && !is_tspecial(c))
}

/// RFC 5322 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// `[ [ local-part ] "@" ] domain-name` with a dot-atom local part.
fn is_addr_pvalue(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let dot_atom = |t: &str| {
        t.split('.')
            .all(|a| !a.is_empty() && a.chars().all(is_atext))
    };
    let domain_ok = !domain.is_empty()
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    domain_ok && (local.is_empty() || dot_atom(local))
}

/// Keywords (`method`, `result`, `ptype`, `property`) are rendered with only the characters
/// `Keyword` allows (letters, digits, `-`, plus `_` seen in the wild); anything else is dropped so
/// that a value taken from a message can never start a new clause or header line. An empty
/// keyword renders as `invalid`.
fn render_keyword(k: &str) -> String {
    let kept: String = k
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if kept.is_empty() {
        "invalid".to_owned()
    } else {
        kept
    }
}

/// Control characters (CR, LF, NUL, ...) become spaces: a quoted-pair cannot carry them, and
/// copying them through would let a value from a message inject header lines.
fn clean_char(c: char) -> char {
    if c.is_control() && c != '\t' { ' ' } else { c }
}

fn render_value(v: &str, is_pvalue: bool) -> String {
    if is_token(v) || (is_pvalue && is_addr_pvalue(v)) {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars().map(clean_char) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn render_comment(c: &str) -> String {
    let mut out = String::with_capacity(c.len() + 2);
    out.push('(');
    for ch in c.chars().map(clean_char) {
        if matches!(ch, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn renders_and_quotes_where_needed() {
        let ar = AuthenticationResults::new("mx.example.org").with_result(
            MethodResult::new("dkim", "pass")
                .with_comment("2048-bit key")
                .with_reason("signature ok")
                .with_property("header", "d", "example.com")
                .with_property("header", "b", "Ab+/9x=z"),
        );
        assert_eq!(
            ar.to_string(),
            "mx.example.org; dkim=pass (2048-bit key) reason=\"signature ok\" header.d=example.com header.b=\"Ab+/9x=z\""
        );
        assert_eq!(AuthenticationResults::new("x").to_string(), "x; none");
        let folded = ar.to_header_field();
        assert!(folded.starts_with("Authentication-Results: mx.example.org;\r\n\tdkim=pass"));
        assert!(folded.lines().all(|l| l.len() <= 78));
        let value = folded.strip_prefix("Authentication-Results:").unwrap();
        assert_eq!(AuthenticationResults::parse(value).unwrap(), ar);
    }

    #[test]
    fn values_from_messages_cannot_inject_lines_or_clauses() {
        let ar = AuthenticationResults::new("mx").with_result(
            MethodResult::new("spf", "pass; dkim=fail")
                .with_comment("c\r\nX-Evil: 1")
                .with_reason("x\r\nBcc: victim@example.com")
                .with_property("header", "d", "a\0b.example\r\n"),
        );
        let field = ar.to_header_field();
        assert_eq!(field.matches('\n').count(), field.matches("\r\n\t").count());
        assert!(!field.contains('\0'));
        let parsed = AuthenticationResults::parse(&ar.to_string()).unwrap();
        assert_eq!(parsed.results.len(), 1);
        assert_eq!(parsed.results[0].result, "passdkimfail");
        assert_eq!(
            AuthenticationResults::new("mx")
                .with_result(MethodResult::new("", ""))
                .to_string(),
            "mx; invalid=invalid"
        );
    }

    fn keyword() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,8}[a-z0-9]".prop_filter("no double reading as none", |k| k != "none")
    }

    fn text() -> impl Strategy<Value = String> {
        "[ -~]{1,20}"
    }

    fn method_result() -> impl Strategy<Value = MethodResult> {
        (
            keyword(),
            proptest::option::of(0u32..5),
            keyword(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::collection::vec((keyword(), keyword(), text()), 0..4),
        )
            .prop_map(
                |(method, method_version, result, comment, reason, props)| MethodResult {
                    method,
                    method_version,
                    result,
                    comment,
                    reason,
                    properties: props
                        .into_iter()
                        .map(|(ptype, property, value)| Property {
                            ptype,
                            property,
                            value,
                        })
                        .collect(),
                },
            )
            .prop_filter("reason is a reserved ptype", |r| {
                !r.properties.iter().any(|p| p.ptype == "reason")
            })
    }

    proptest! {
        /// Whatever strings a caller puts in the model, the rendering is one header field that
        /// parses back with the same number of results.
        #[test]
        fn any_model_renders_to_one_parseable_field(
            id in any::<String>(),
            fields in proptest::collection::vec(
                (any::<String>(), any::<String>(), proptest::option::of(any::<String>()),
                 proptest::option::of(any::<String>()), any::<String>(), any::<String>(),
                 any::<String>()),
                0..4,
            ),
        ) {
            let mut ar = AuthenticationResults::new(id);
            for (method, result, comment, reason, ptype, property, value) in fields {
                let mut r = MethodResult::new(method, result).with_property(ptype, property, value);
                r.comment = comment;
                r.reason = reason;
                ar.results.push(r);
            }
            let field = ar.to_header_field();
            prop_assert_eq!(field.matches('\n').count(), field.matches("\r\n\t").count());
            prop_assert_eq!(field.matches('\r').count(), field.matches("\r\n\t").count());
            let value = field.strip_prefix("Authentication-Results:").unwrap_or_default();
            let parsed = AuthenticationResults::parse(value);
            prop_assert!(parsed.is_ok(), "{:?} from {:?}", parsed, field);
            prop_assert_eq!(parsed.map(|p| p.results.len()).unwrap_or(0), ar.results.len());
        }

        #[test]
        fn render_then_parse_is_identity(
            id in "[a-z0-9.-]{1,20}|[ -~]{1,20}",
            version in proptest::option::of(0u32..10),
            results in proptest::collection::vec(method_result(), 0..5),
        ) {
            let ar = AuthenticationResults { authserv_id: id, version, results };
            prop_assert_eq!(AuthenticationResults::parse(&ar.to_string())?, ar.clone());
            let field = ar.to_header_field();
            let value = field.strip_prefix("Authentication-Results:").unwrap_or_default();
            prop_assert_eq!(AuthenticationResults::parse(value)?, ar);
        }
    }
}
