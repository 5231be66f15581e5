//! Tag values as RFC 6376 writes them: base64 (`b=`, `bh=`, `p=`; §2.4) and values with FWS
//! between their parts (§3.2), which is ignored.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use mailward_types::tag_list::valchar_run;

/// Standard alphabet; padding optional on input (RFC 6376 §2.4 allows FWS, which callers strip;
/// some signers omit `=` padding), always written on output.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 (FWS already removed). `None` when invalid.
pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    B64.decode(s).ok()
}

/// Whether `b` is an FWS octet (SP, HTAB, CR, LF).
#[inline]
fn is_fws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `s` with every FWS octet (SP, HTAB, CR, LF) removed, borrowed when it has none. Works on
/// octets: FWS octets are ASCII, so removing them keeps valid UTF-8 valid.
pub(crate) fn without_fws(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(is_fws) {
        return Cow::Borrowed(s);
    }
    let kept: Vec<u8> = s.bytes().filter(|&b| !is_fws(b)).collect();
    // Removing ASCII octets from UTF-8 leaves UTF-8; the fallback is never taken.
    Cow::Owned(String::from_utf8(kept).unwrap_or_default())
}

/// Decodes a base64 value that may contain FWS (RFC 6376 §2.4: "whitespace is ignored").
/// `None` when invalid. The runs between FWS (a folded `b=` has a few long ones) are found
/// eight octets at a time ([`valchar_run`]: the base64 alphabet and `=` are VALCHAR, FWS is not)
/// and copied whole; an unfolded value is decoded in place.
pub(crate) fn b64_decode_fws(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let first = valchar_run(bytes);
    if first == bytes.len() {
        return B64.decode(bytes).ok();
    }
    let mut kept = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    let mut run = first;
    loop {
        kept.extend_from_slice(rest.get(..run).unwrap_or_default());
        rest = rest.get(run..).unwrap_or_default();
        let Some(&b) = rest.first() else { break };
        if !is_fws(b) {
            // Neither VALCHAR nor FWS, so outside the alphabet: the decoder refuses it too.
            return None;
        }
        rest = rest.get(1..).unwrap_or_default();
        run = valchar_run(rest);
    }
    B64.decode(kept).ok()
}

/// Encodes base64 with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    B64.encode(data)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn b64_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec()
                ),
                2 => proptest::sample::select(b"= \t\r\n".to_vec()),
                1 => proptest::sample::select(b"-_.*\x00\x7f".to_vec()),
            ],
            0..40,
        )
        .prop_map(|v| v.into_iter().map(char::from).collect())
    }

    proptest! {
        /// The one-pass decoder agrees with the `base64` crate (standard alphabet, padding
        /// indifferent) applied after removing FWS: same octets, same rejections.
        #[test]
        fn decoder_matches_base64_crate(text in b64_text()) {
            let without: String = text.chars().filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n')).collect();
            prop_assert_eq!(b64_decode_fws(&text), b64_decode(&without));
        }

        /// Near-valid input: real encodings with padding cut or added, a symbol dropped or
        /// changed, FWS inserted, something appended.
        #[test]
        fn decoder_matches_base64_crate_near_valid(
            data in proptest::collection::vec(any::<u8>(), 0..20),
            cut in 0usize..4,
            at in 0usize..40,
            insert in proptest::sample::select(vec!["", "=", "==", " ", "\r\n ", "A", "/", "-", "Zg"]),
        ) {
            let mut text = b64_encode(&data);
            text.truncate(text.len().saturating_sub(cut));
            let at = at.min(text.len());
            text.insert_str(at, insert);
            let without: String = text.chars().filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n')).collect();
            prop_assert_eq!(b64_decode_fws(&text), b64_decode(&without), "{:?}", text);
        }

        /// Encoded data (folded anywhere) decodes back.
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..100), fold in 0usize..80) {
            let mut text = b64_encode(&data);
            if fold < text.len() {
                text.insert_str(fold, "\r\n\t");
            }
            prop_assert_eq!(b64_decode_fws(&text), Some(data));
        }
    }

    #[test]
    fn rfc_4648_vectors() {
        // RFC 4648 §10.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(b64_decode_fws(coded).unwrap(), plain.as_bytes());
            assert_eq!(
                b64_decode_fws(coded.trim_end_matches('=')).unwrap(),
                plain.as_bytes()
            );
        }
        assert_eq!(b64_decode_fws("Zm9v\r\n YmFy").unwrap(), b"foobar");
        assert_eq!(b64_decode_fws("Zh=="), None); // non-zero cut bits
        assert_eq!(b64_decode_fws("Zm9vY"), None); // one symbol left over
        assert_eq!(b64_decode_fws("Zg==Zg=="), None); // data after padding
    }
}
