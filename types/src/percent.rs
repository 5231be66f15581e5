//! URI percent-encoding (RFC 3986, section 2.1), as the URIs this workspace reads use it:
//! `mailto:` report addresses (RFC 6068) and IMAP source URLs (RFC 5092).

/// Decodes `%XX` escapes (either hex case) and checks that the result is UTF-8.
///
/// Returns `None` for a `%` not followed by two hex digits, or for bytes that are not UTF-8.
/// Everything else passes through unchanged (a `+` stays a `+`: that is form encoding, not
/// URI encoding).
pub fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            // `from_str_radix` also takes a sign ("%+1"): two hex digits only.
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::decode;

    /// RFC 3986, section 2.1: `%20` is a space, hex digits in either case; RFC 6068's
    /// `%40` is `@`.
    #[test]
    fn escapes() {
        assert_eq!(decode("a%20b%2fc%2F").as_deref(), Some("a b/c/"));
        assert_eq!(
            decode("rua%40example.org+x").as_deref(),
            Some("rua@example.org+x")
        );
        assert_eq!(decode("%C3%A9").as_deref(), Some("é"));
        for bad in ["%", "%4", "%zz", "%+1", "%-1", "%FF", "a%é"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
