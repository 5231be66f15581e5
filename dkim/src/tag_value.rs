//! Tag values as RFC 6376 writes them: base64 (`b=`, `bh=`, `p=`; §2.4) and values with FWS
//! between their parts (§3.2), which is ignored.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

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

/// `s` with every FWS octet (SP, HTAB, CR, LF) removed, borrowed when it has none; the runs
/// between FWS are copied whole. Works on octets: FWS octets are ASCII, so removing them keeps
/// valid UTF-8 valid.
pub(crate) fn without_fws(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(is_fws) {
        return Cow::Borrowed(s);
    }
    let mut kept = Vec::with_capacity(s.len());
    for run in s.as_bytes().split(|&b| is_fws(b)) {
        kept.extend_from_slice(run);
    }
    // Removing ASCII octets from UTF-8 leaves UTF-8; the fallback is never taken.
    Cow::Owned(String::from_utf8(kept).unwrap_or_default())
}

/// What an octet is to [`b64_decode_fws`]: its 6-bit value (below 64), or one of these.
const FWS_OCTET: u8 = 64;
const PAD_OCTET: u8 = 65;
const BAD_OCTET: u8 = 66;

/// What octet `b` is: its value in the standard alphabet (RFC 4648 §4), or one of the classes
/// above (one table load: this runs for every octet of every `b=`).
#[inline]
fn b64_class(b: u8) -> u8 {
    // Built at compile time: an index out of range would fail the build, not panic.
    #[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
    const CLASS: [u8; 256] = {
        let mut t = [BAD_OCTET; 256];
        let mut v = 0;
        while v < 64 {
            let symbol = match v {
                0..=25 => b'A' + v,
                26..=51 => b'a' + v - 26,
                52..=61 => b'0' + v - 52,
                62 => b'+',
                _ => b'/',
            };
            t[symbol as usize] = v;
            v += 1;
        }
        t[b'=' as usize] = PAD_OCTET;
        t[b' ' as usize] = FWS_OCTET;
        t[b'\t' as usize] = FWS_OCTET;
        t[b'\r' as usize] = FWS_OCTET;
        t[b'\n' as usize] = FWS_OCTET;
        t
    };
    CLASS.get(usize::from(b)).copied().unwrap_or(BAD_OCTET)
}

/// Decodes a base64 value that may contain FWS (RFC 6376 §2.4: "whitespace is ignored"), in
/// one pass and one allocation. `None` when invalid.
///
/// It accepts what [`b64_decode`] accepts once the FWS is removed (the tests hold the two
/// together): symbols of the standard alphabet, then at most two `=`; a last group of two or
/// three symbols (with or without its padding, but never more than it needs) whose unused
/// bits are zero; never a lone symbol in the last group.
pub(crate) fn b64_decode_fws(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    // The symbols of the group being read, most recent in the low bits, and how many.
    let mut acc: u32 = 0;
    let mut held = 0;
    let mut pads = 0;
    let mut rest = s.as_bytes();
    loop {
        // Eight symbols (two whole groups) at a time, which is most of a value: the lines of a
        // folded `b=` are long. Any class above 63 has bit 6 set, so it shows in the OR.
        if held == 0 && pads == 0 {
            while let Some((eight, after)) = rest.split_first_chunk::<8>() {
                let mut bits: u64 = 0;
                let mut classes = 0;
                for &b in eight {
                    let v = b64_class(b);
                    classes |= v;
                    bits = bits << 6 | u64::from(v);
                }
                if classes >= 64 {
                    break;
                }
                out.extend_from_slice(bits.to_be_bytes().get(2..).unwrap_or_default());
                rest = after;
            }
        }
        let Some((&octet, after)) = rest.split_first() else {
            break;
        };
        rest = after;
        match b64_class(octet) {
            FWS_OCTET => {}
            PAD_OCTET => pads += 1,
            value if value < 64 && pads == 0 => {
                acc = acc << 6 | u32::from(value);
                held += 1;
                if held == 4 {
                    out.extend_from_slice(acc.to_be_bytes().get(1..).unwrap_or_default());
                    acc = 0;
                    held = 0;
                }
            }
            // Outside the alphabet, or a symbol after padding.
            _ => return None,
        }
    }
    // The last group: two symbols hold 12 bits, one octet and 4 unused bits; three hold 18 bits,
    // two octets and 2 unused bits. The unused bits must be zero.
    let (bits, len) = match (held, pads) {
        (0, 0) => (0, 0),
        (2, 0..=2) if acc & 0xf == 0 => (acc >> 4, 1),
        (3, 0 | 1) if acc & 0x3 == 0 => (acc >> 2, 2),
        _ => return None,
    };
    out.extend_from_slice(bits.to_be_bytes().get(4 - len..).unwrap_or_default());
    Some(out)
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

    /// Every text of up to six octets over symbols whose low bits differ (`A` = 0, `B` = 1,
    /// `C` = 2, `I` = 8, `Q` = 16: the unused bits of a last group are its low 2 or 4),
    /// padding, FWS (space and tab) and an octet outside the alphabet; then every text of up to
    /// ten octets over `A`, `Q`, `=` and LF, which reaches the eight-symbol path. The one-pass
    /// decoder and the `base64` crate (after removing FWS) agree on each, octets and
    /// rejections.
    #[test]
    fn decoder_matches_base64_crate_exhaustively() {
        let mut checked = 0;
        for (alphabet, longest) in [(&b"ABCIQ= \t-"[..], 6u32), (&b"AQ=\n"[..], 10)] {
            let mut text = Vec::new();
            for len in 0..=longest {
                for mut n in 0..alphabet.len().pow(len) {
                    text.clear();
                    for _ in 0..len {
                        text.push(alphabet[n % alphabet.len()]);
                        n /= alphabet.len();
                    }
                    let text = std::str::from_utf8(&text).unwrap();
                    let without: String = text
                        .chars()
                        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
                        .collect();
                    assert_eq!(b64_decode_fws(text), b64_decode(&without), "{text:?}");
                    checked += 1;
                }
            }
        }
        let count = |k: usize, longest: u32| (0..=longest).map(|l| k.pow(l)).sum::<usize>();
        assert_eq!(checked, count(9, 6) + count(4, 10));
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
