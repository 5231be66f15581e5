//! The DKIM key record published in DNS (RFC 6376 §3.6.1; RFC 8463 §4).

use std::fmt;

use mailward_types::tag_list::{TagList, TagListError};

use crate::algorithm::{HashAlgorithm, KeyType};
use crate::tag_value::{b64_decode_fws, b64_encode};

/// Longest key record parsed, in octets. An RSA-8192 SubjectPublicKeyInfo is 1.4 KB of base64;
/// 16 KiB bounds the work on hostile TXT data.
pub const MAX_KEY_RECORD_LEN: usize = 16 * 1024;

/// Most entries in the `h=`, `s=` and `t=` lists. RFC 6376 §3.6.1 defines two hash algorithms, two
/// service types and two flags; 32 leaves room for unknown ones, which are ignored.
pub const MAX_LIST_ENTRIES: usize = 32;

/// A parsed key record (RFC 6376 §3.6.1).
///
/// # Examples
///
/// ```
/// use mailward_dkim::{KeyRecord, KeyType};
///
/// let key = KeyRecord::parse("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")?;
/// assert_eq!(key.key_type(), KeyType::Ed25519);
/// assert!(!key.is_revoked());
/// # Ok::<(), mailward_dkim::KeyRecordError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyRecord {
    /// Whether `v=DKIM1` was present.
    pub version: bool,
    /// `h=`: acceptable hash algorithms as written (unknown names kept); `None` = all.
    pub hash_algorithms: Option<Vec<String>>,
    /// `k=`: key type as written, if present (default `rsa`).
    pub key_type: Option<KeyType>,
    /// `n=`: notes, raw.
    pub notes: Option<String>,
    /// `p=`: public key data, decoded; empty means revoked.
    pub public_key: Vec<u8>,
    /// `s=`: service types as written; `None` = `*`.
    pub service_types: Option<Vec<String>>,
    /// `t=`: flags as written (`y`, `s`, unknown ones kept).
    pub flags: Vec<String>,
}

/// Why a key record is not usable (RFC 6376 §3.6.1, §6.1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRecordError {
    /// The record is not a valid tag-list (including duplicate tags).
    #[error("key record is not a valid tag-list")]
    TagList(#[from] TagListError),
    /// The record is not ASCII/UTF-8 text.
    #[error("key record is not text")]
    NotText,
    /// The record is longer than [`MAX_KEY_RECORD_LEN`].
    #[error("key record longer than {MAX_KEY_RECORD_LEN} octets")]
    TooLong,
    /// `v=` is present but not `DKIM1`, or not the first tag (RFC 6376 §3.6.1 `v=`).
    #[error("invalid version tag")]
    InvalidVersion,
    /// `k=` names an unknown key type.
    #[error("unsupported key type k={0}")]
    UnsupportedKeyType(String),
    /// `p=` is missing (required even when empty).
    #[error("required tag p= missing")]
    MissingPublicKey,
    /// `p=` does not decode as base64.
    #[error("invalid base64 in p=")]
    InvalidBase64,
    /// A list has more than [`MAX_LIST_ENTRIES`] entries.
    #[error("too many entries in {0}=")]
    TooManyEntries(&'static str),
}

impl KeyRecord {
    /// Parses a key record (the concatenated TXT strings).
    ///
    /// # Errors
    ///
    /// A [`KeyRecordError`] naming the first rule broken.
    pub fn parse(text: &str) -> Result<Self, KeyRecordError> {
        if text.len() > MAX_KEY_RECORD_LEN {
            return Err(KeyRecordError::TooLong);
        }
        let list = TagList::parse(text)?;
        let mut record = Self::default();
        if let Some(v) = list.get("v") {
            // RFC 6376 §3.6.1 v=: "If specified, this tag MUST be set to "DKIM1" ... MUST be the
            // first tag in the record."
            if v.value != "DKIM1" || list.tags().first().map(|t| t.name) != Some("v") {
                return Err(KeyRecordError::InvalidVersion);
            }
            record.version = true;
        }
        if let Some(h) = list.get("h") {
            record.hash_algorithms = Some(split_list(&h.value_without_fws(), "h")?);
        }
        if let Some(k) = list.get("k") {
            record.key_type = Some(match k.value {
                "rsa" => KeyType::Rsa,
                "ed25519" => KeyType::Ed25519,
                other => return Err(KeyRecordError::UnsupportedKeyType(other.to_owned())),
            });
        }
        record.notes = list.get("n").map(|n| n.value.to_owned());
        let p = list.get("p").ok_or(KeyRecordError::MissingPublicKey)?;
        record.public_key = b64_decode_fws(p.value).ok_or(KeyRecordError::InvalidBase64)?;
        if let Some(s) = list.get("s") {
            record.service_types = Some(split_list(&s.value_without_fws(), "s")?);
        }
        if let Some(t) = list.get("t") {
            record.flags = split_list(&t.value_without_fws(), "t")?;
        }
        Ok(record)
    }

    /// Parses a key record from the raw TXT bytes.
    ///
    /// # Errors
    ///
    /// [`KeyRecordError::NotText`] when not UTF-8, otherwise as [`Self::parse`].
    pub fn parse_bytes(data: &[u8]) -> Result<Self, KeyRecordError> {
        if data.len() > MAX_KEY_RECORD_LEN {
            return Err(KeyRecordError::TooLong);
        }
        Self::parse(std::str::from_utf8(data).map_err(|_| KeyRecordError::NotText)?)
    }

    /// The key type, `rsa` by default (RFC 6376 §3.6.1 `k=`).
    pub fn key_type(&self) -> KeyType {
        self.key_type.unwrap_or(KeyType::Rsa)
    }

    /// Whether `p=` is empty: "An empty value means that this public key has been revoked".
    pub fn is_revoked(&self) -> bool {
        self.public_key.is_empty()
    }

    /// Whether `h=` allows the hash algorithm (absent `h=` allows all).
    pub fn allows_hash(&self, hash: HashAlgorithm) -> bool {
        self.hash_algorithms
            .as_ref()
            .is_none_or(|list| list.iter().any(|h| h == hash.as_str()))
    }

    /// Whether `s=` allows e-mail (`*` or `email`; absent = `*`).
    pub fn allows_email(&self) -> bool {
        self.service_types
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s == "*" || s == "email"))
    }

    /// `t=y`: the domain is testing DKIM.
    pub fn is_testing(&self) -> bool {
        self.flags.iter().any(|f| f == "y")
    }

    /// `t=s`: the `i=` domain must equal `d=` exactly (no subdomains).
    pub fn is_strict(&self) -> bool {
        self.flags.iter().any(|f| f == "s")
    }
}

impl fmt::Display for KeyRecord {
    /// Canonical form: tags in the order v, h, k, n, s, t, p joined by `"; "`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version {
            f.write_str("v=DKIM1; ")?;
        }
        if let Some(h) = &self.hash_algorithms {
            write!(f, "h={}; ", h.join(":"))?;
        }
        if let Some(k) = self.key_type {
            write!(f, "k={k}; ")?;
        }
        if let Some(n) = &self.notes {
            write!(f, "n={n}; ")?;
        }
        if let Some(s) = &self.service_types {
            write!(f, "s={}; ", s.join(":"))?;
        }
        if !self.flags.is_empty() {
            write!(f, "t={}; ", self.flags.join(":"))?;
        }
        write!(f, "p={}", b64_encode(&self.public_key))
    }
}

fn split_list(value: &str, tag: &'static str) -> Result<Vec<String>, KeyRecordError> {
    let list: Vec<String> = value
        .split(':')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .take(MAX_LIST_ENTRIES + 1)
        .collect();
    if list.len() > MAX_LIST_ENTRIES {
        return Err(KeyRecordError::TooManyEntries(tag));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let k = KeyRecord::parse("p=AAAA").unwrap();
        assert_eq!(k.key_type(), KeyType::Rsa);
        assert!(k.allows_hash(HashAlgorithm::Sha1));
        assert!(k.allows_email());
        assert!(!k.is_testing() && !k.is_strict());
    }

    #[test]
    fn tags() {
        let k =
            KeyRecord::parse("v=DKIM1; h=sha256:future; k=rsa; s=email; t=y:s; n=hi; p=").unwrap();
        assert!(k.is_revoked());
        assert!(k.allows_hash(HashAlgorithm::Sha256));
        assert!(!k.allows_hash(HashAlgorithm::Sha1));
        assert!(k.is_testing() && k.is_strict());
        let k2 = KeyRecord::parse("s=other; p=AAAA").unwrap();
        assert!(!k2.allows_email());
        assert!(KeyRecord::parse("s=*; p=AAAA").unwrap().allows_email());
    }

    #[test]
    fn rejects() {
        assert_eq!(
            KeyRecord::parse("k=rsa"),
            Err(KeyRecordError::MissingPublicKey)
        );
        assert_eq!(
            KeyRecord::parse("k=rsa; v=DKIM1; p="),
            Err(KeyRecordError::InvalidVersion)
        );
        assert_eq!(
            KeyRecord::parse("v=DKIM2; p="),
            Err(KeyRecordError::InvalidVersion)
        );
        assert_eq!(
            KeyRecord::parse("k=dsa; p="),
            Err(KeyRecordError::UnsupportedKeyType("dsa".into()))
        );
        assert_eq!(KeyRecord::parse("p=A"), Err(KeyRecordError::InvalidBase64));
        assert!(matches!(
            KeyRecord::parse("p=; p="),
            Err(KeyRecordError::TagList(_))
        ));
    }

    #[test]
    fn tag_list_errors_are_the_source_not_the_message() {
        let e = KeyRecord::parse("p=; p=").unwrap_err();
        assert_eq!(e.to_string(), "key record is not a valid tag-list");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("duplicate tag \"p\" at offset 4"));
    }

    #[test]
    fn round_trip() {
        let k =
            KeyRecord::parse("v=DKIM1; h=sha256; k=ed25519; n=x; s=email:*; t=y; p=AAAA").unwrap();
        assert_eq!(KeyRecord::parse(&k.to_string()).unwrap(), k);
    }
}
