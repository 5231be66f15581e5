//! Character encodings of report documents: what the bytes are, whatever the declaration says.
//!
//! The XML reader works on UTF-8. A document is decoded to UTF-8 here when its bytes are in
//! another encoding, and a wrong or missing declaration is reported
//! ([`DefectKind::EncodingDeclaration`](crate::DefectKind::EncodingDeclaration)) rather than
//! believed:
//!
//! - UTF-16 is recognised from its byte order mark or from the first characters (the
//!   autodetection table of XML 1.0 Appendix F.1); the declaration is then checked against it.
//! - Valid UTF-8 stays UTF-8 whatever is declared. A declaration of another encoding matters
//!   only when the bytes are not plain ASCII (then it is wrong) or when the name is unknown.
//! - Bytes that are not UTF-8 are decoded as the declared encoding when it is one the
//!   [WHATWG Encoding Standard](https://encoding.spec.whatwg.org/) knows (its labels map
//!   ISO-8859-1 and US-ASCII to windows-1252). Declared as UTF-8 or not declared, they are read
//!   as windows-1252 when no valid multi-byte UTF-8 sequence occurs anywhere (a Latin-1 writer
//!   that forgot the declaration); a document mixing valid UTF-8 with stray bytes stays UTF-8
//!   and the stray bytes become U+FFFD in the reader.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How far into the document the XML declaration's `encoding` is looked for (the declaration
/// comes first, XML 1.0 §2.8; a byte order mark and some whitespace may precede it).
const DECLARATION_SCAN: usize = 256;

/// A document as UTF-8 (or as it was, when the reader handles it: valid UTF-8, or UTF-8 with
/// stray bytes).
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub(crate) bytes: Cow<'a, [u8]>,
    /// `Some` when the declaration is wrong or missing: the declared name, or `None` inside
    /// when there is no declaration.
    pub(crate) bad_declaration: Option<Option<String>>,
}

/// Decodes `input` to UTF-8 when it is in another encoding (see the module documentation).
pub(crate) fn decode(input: &[u8]) -> Decoded<'_> {
    if let Some((encoding, body, has_bom)) = sniff_utf16(input) {
        let (text, _) = encoding.decode_without_bom_handling(body);
        let label = declared_encoding(text.as_bytes());
        let bad_declaration = match &label {
            Some(l) if is_utf16(l) => None,
            Some(l) => Some(Some(l.clone())),
            // XML 1.0 §4.3.3: UTF-16 without a byte order mark needs a declaration.
            None if !has_bom => Some(None),
            None => None,
        };
        return Decoded {
            bytes: Cow::Owned(text.into_owned().into_bytes()),
            bad_declaration,
        };
    }
    let unmarked = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let label = declared_encoding(unmarked);
    let declared = label
        .as_deref()
        .and_then(|l| Encoding::for_label(l.as_bytes()));
    let kept = |bad: bool| Decoded {
        bytes: Cow::Borrowed(input),
        bad_declaration: bad.then(|| label.clone()),
    };
    if std::str::from_utf8(unmarked).is_ok() {
        return match declared {
            None if label.is_none() => kept(false),
            Some(e) if e == UTF_8 => kept(false),
            Some(e) if e.is_ascii_compatible() && unmarked.is_ascii() => kept(false),
            _ => kept(true),
        };
    }
    match declared {
        Some(e) if e != UTF_8 && e != UTF_16LE && e != UTF_16BE && e.is_ascii_compatible() => {
            Decoded {
                bytes: Cow::Owned(decode_as(e, unmarked)),
                bad_declaration: None,
            }
        }
        _ if has_multibyte_utf8(unmarked) => kept(false),
        _ => Decoded {
            bytes: Cow::Owned(decode_as(WINDOWS_1252, unmarked)),
            bad_declaration: Some(label),
        },
    }
}

fn decode_as(encoding: &'static Encoding, bytes: &[u8]) -> Vec<u8> {
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    text.into_owned().into_bytes()
}

fn is_utf16(label: &str) -> bool {
    Encoding::for_label(label.as_bytes()).is_some_and(|e| e == UTF_16LE || e == UTF_16BE)
        || label.eq_ignore_ascii_case("utf-16")
}

/// UTF-16 from a byte order mark or, without one, from the first two characters (`<?` or `<`
/// and a letter: XML 1.0 Appendix F.1). Returns the encoding, the bytes after any byte order
/// mark, and whether there was one.
fn sniff_utf16(input: &[u8]) -> Option<(&'static Encoding, &[u8], bool)> {
    if let Some(b) = input.strip_prefix(&[0xFF, 0xFE]) {
        return Some((UTF_16LE, b, true));
    }
    if let Some(b) = input.strip_prefix(&[0xFE, 0xFF]) {
        return Some((UTF_16BE, b, true));
    }
    match input.get(..4)? {
        [b'<', 0, c, 0] if *c != 0 => Some((UTF_16LE, input, false)),
        [0, b'<', 0, c] if *c != 0 => Some((UTF_16BE, input, false)),
        _ => None,
    }
}

/// Whether a valid UTF-8 sequence of two or more bytes occurs.
fn has_multibyte_utf8(bytes: &[u8]) -> bool {
    bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii())
}

/// The `encoding` named in the XML declaration, lower-cased, if there is one.
fn declared_encoding(input: &[u8]) -> Option<String> {
    let head = input.get(..DECLARATION_SCAN.min(input.len()))?;
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let decl_end = head.find("?>")?;
    let decl = head.get(..decl_end)?;
    if !decl
        .trim_start_matches('\u{FEFF}')
        .trim_start()
        .starts_with("<?xml")
    {
        return None;
    }
    let at = decl.find("encoding")?;
    let rest = decl
        .get(at + "encoding".len()..)?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let label = rest.get(1..)?.split(quote).next()?.trim();
    Some(label.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(d: &Decoded<'_>) -> String {
        String::from_utf8_lossy(&d.bytes).into_owned()
    }

    #[test]
    fn utf16_with_and_without_byte_order_mark() {
        let xml = "<feedback/>";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in xml.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        for input in [&le, &be] {
            let d = decode(input);
            assert_eq!(text(&d), xml);
            assert_eq!(
                d.bad_declaration, None,
                "a byte order mark needs no declaration"
            );
        }
        // Without the mark and without a declaration: read, but the declaration is missing.
        let d = decode(le.get(2..).unwrap_or_default());
        assert_eq!(text(&d), xml);
        assert_eq!(d.bad_declaration, Some(None));
        // An unpaired surrogate is replaced; an odd trailing byte too.
        assert_eq!(text(&decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41])), "\u{FFFD}");
    }

    #[test]
    fn utf16_declared_as_utf8() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feedback/>";
        let mut le = vec![0xFF, 0xFE];
        for u in xml.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode(&le);
        assert_eq!(text(&d), xml);
        assert_eq!(d.bad_declaration, Some(Some("utf-8".into())));
    }

    #[test]
    fn utf8_bytes_under_other_declarations() {
        let ascii = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>x</a>";
        assert_eq!(decode(ascii).bad_declaration, None, "ASCII reads the same");
        let utf8 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\u{e9}</a>";
        let d = decode(utf8.as_bytes());
        assert!(matches!(d.bytes, Cow::Borrowed(_)), "valid UTF-8 is kept");
        assert_eq!(d.bad_declaration, Some(Some("iso-8859-1".into())));
        let utf16 = b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>x</a>";
        assert_eq!(decode(utf16).bad_declaration, Some(Some("utf-16".into())));
        let unknown = b"<?xml version=\"1.0\" encoding=\"bogus\"?><a>x</a>";
        assert_eq!(decode(unknown).bad_declaration, Some(Some("bogus".into())));
        let fine = b"<?xml version='1.0' encoding='utf-8'?><a>x</a>";
        assert_eq!(decode(fine).bad_declaration, None);
    }

    #[test]
    fn latin1_bytes() {
        // Declared: decoded as declared (ISO-8859-1 is windows-1252 by the WHATWG labels).
        let declared = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>Soci\xe9t\xe9 \x80</a>";
        let d = decode(declared);
        assert_eq!(
            text(&d),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>Soci\u{e9}t\u{e9} \u{20ac}</a>"
        );
        assert_eq!(d.bad_declaration, None);
        // Declared UTF-8, or not declared: no valid UTF-8 sequence anywhere, so windows-1252.
        let mislabelled = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>M\xfcller</a>";
        let d = decode(mislabelled);
        assert!(text(&d).ends_with("<a>M\u{fc}ller</a>"));
        assert_eq!(d.bad_declaration, Some(Some("utf-8".into())));
        let d = decode(b"<a>M\xfcller</a>");
        assert_eq!(text(&d), "<a>M\u{fc}ller</a>");
        assert_eq!(d.bad_declaration, Some(None));
        // Mixed: valid UTF-8 with one stray byte stays UTF-8 (the reader reports the byte).
        let mixed = "<a>\u{e9}</a><b>\u{ff}</b>".replace('\u{ff}', "#");
        let mut mixed = mixed.into_bytes();
        if let Some(b) = mixed.iter_mut().find(|b| **b == b'#') {
            *b = 0xFF;
        }
        let d = decode(&mixed);
        assert!(matches!(d.bytes, Cow::Borrowed(_)));
        assert_eq!(d.bad_declaration, None);
    }
}
