//! Small shared helpers: base64, field-name checks.

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

/// Encodes base64 with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    B64.encode(data)
}

/// `field-name = 1*ftext`, `ftext = %d33-57 / %d59-126` (RFC 5322 §3.6.8).
pub(crate) fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| matches!(b, 33..=57 | 59..=126))
}
