//! Small shared helpers: base64, field-name checks.

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
/// `None` when invalid.
pub(crate) fn b64_decode_fws(s: &str) -> Option<Vec<u8>> {
    if !s.bytes().any(is_fws) {
        return B64.decode(s).ok();
    }
    let mut kept = Vec::with_capacity(s.len());
    for piece in s.as_bytes().split(|&b| is_fws(b)) {
        kept.extend_from_slice(piece);
    }
    B64.decode(kept).ok()
}

/// Encodes base64 with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    B64.encode(data)
}

/// `field-name = 1*ftext`, `ftext = %d33-57 / %d59-126` (RFC 5322 §3.6.8).
pub(crate) fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| matches!(b, 33..=57 | 59..=126))
}
