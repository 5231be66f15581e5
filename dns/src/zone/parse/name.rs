//! Domain names in a master file (RFC 1035 §5.1): absolute or relative to the origin, `@` for
//! the origin, with `\X` and `\DDD` escapes.

use mailward_types::Domain;

use super::lex::decode_escapes;
use crate::zone::error::{ParseError, ZoneErrorKind};

/// Decodes a domain name token, relative names completed with `origin` (RFC 1035 §5.1).
pub(in crate::zone) fn parse_name_token(
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
}
