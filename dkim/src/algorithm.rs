//! Algorithm and canonicalization identifiers (RFC 6376 §3.3, §3.4; RFC 8463 §3).

use std::fmt;
use std::str::FromStr;

/// A DKIM signing algorithm (`a=` tag, RFC 6376 §3.5; RFC 8463 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// `rsa-sha256` (RFC 6376 §3.3.2).
    RsaSha256,
    /// `rsa-sha1` (RFC 6376 §3.3.1); historic, not valid by default (RFC 8301 §3.1).
    RsaSha1,
    /// `ed25519-sha256` (RFC 8463 §3).
    Ed25519Sha256,
}

impl SigningAlgorithm {
    /// The `a=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::RsaSha1 => "rsa-sha1",
            Self::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The key type the algorithm needs (`k=` of the key record).
    pub fn key_type(self) -> KeyType {
        match self {
            Self::RsaSha256 | Self::RsaSha1 => KeyType::Rsa,
            Self::Ed25519Sha256 => KeyType::Ed25519,
        }
    }

    /// The hash algorithm used for the body and header hashes.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaSha1 => HashAlgorithm::Sha1,
            Self::RsaSha256 | Self::Ed25519Sha256 => HashAlgorithm::Sha256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `a=` value that is not a known algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signing algorithm {0:?}")]
#[non_exhaustive]
pub struct UnknownAlgorithm(pub String);

impl FromStr for SigningAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // RFC 6376 §3.2: tag values are case-sensitive unless specified otherwise; the
        // algorithm names are registered in lower case and compared as such.
        match s {
            "rsa-sha256" => Ok(Self::RsaSha256),
            "rsa-sha1" => Ok(Self::RsaSha1),
            "ed25519-sha256" => Ok(Self::Ed25519Sha256),
            other => Err(UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// A key type (`k=` tag of the key record, RFC 6376 §3.6.1; RFC 8463 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `rsa`.
    Rsa,
    /// `ed25519`.
    Ed25519,
}

impl KeyType {
    /// The `k=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::Ed25519 => "ed25519",
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hash algorithm (`h=` of the key record, RFC 6376 §3.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-1.
    Sha1,
}

impl HashAlgorithm {
    /// The `h=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha1 => "sha1",
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A canonicalization algorithm (RFC 6376 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Canonicalization {
    /// `simple`: almost no change (§3.4.1, §3.4.3).
    #[default]
    Simple,
    /// `relaxed`: whitespace and header-name case normalised (§3.4.2, §3.4.4).
    Relaxed,
}

impl Canonicalization {
    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Relaxed => "relaxed",
        }
    }

    fn parse_token(s: &str) -> Option<Self> {
        match s {
            "simple" => Some(Self::Simple),
            "relaxed" => Some(Self::Relaxed),
            _ => None,
        }
    }
}

impl fmt::Display for Canonicalization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `c=` pair: header and body canonicalization (RFC 6376 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CanonicalizationPair {
    /// Header canonicalization.
    pub header: Canonicalization,
    /// Body canonicalization.
    pub body: Canonicalization,
}

impl CanonicalizationPair {
    /// `relaxed/relaxed`, the usual choice for signing.
    pub const RELAXED: Self = Self {
        header: Canonicalization::Relaxed,
        body: Canonicalization::Relaxed,
    };
    /// `simple/simple`, the RFC default when `c=` is absent.
    pub const SIMPLE: Self = Self {
        header: Canonicalization::Simple,
        body: Canonicalization::Simple,
    };

    /// A pair from its two halves.
    pub fn new(header: Canonicalization, body: Canonicalization) -> Self {
        Self { header, body }
    }
}

impl fmt::Display for CanonicalizationPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.header, self.body)
    }
}

/// A `c=` value that is not `header[/body]` with known algorithms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid canonicalization {0:?}")]
#[non_exhaustive]
pub struct InvalidCanonicalization(pub String);

impl FromStr for CanonicalizationPair {
    type Err = InvalidCanonicalization;

    /// RFC 6376 §3.5 `c=`: "If only one algorithm is named, that algorithm is used for the
    /// header and "simple" is used for the body."
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || InvalidCanonicalization(s.to_owned());
        let (h, b) = match s.split_once('/') {
            Some((h, b)) => (h, Some(b)),
            None => (s, None),
        };
        let header = Canonicalization::parse_token(h).ok_or_else(err)?;
        let body = match b {
            Some(b) => Canonicalization::parse_token(b).ok_or_else(err)?,
            None => Canonicalization::Simple,
        };
        Ok(Self { header, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalization_pairs() {
        assert_eq!(
            "relaxed".parse(),
            Ok(CanonicalizationPair::new(
                Canonicalization::Relaxed,
                Canonicalization::Simple
            ))
        );
        assert_eq!(
            "simple/relaxed".parse(),
            Ok(CanonicalizationPair::new(
                Canonicalization::Simple,
                Canonicalization::Relaxed
            ))
        );
        assert!("relaxed/".parse::<CanonicalizationPair>().is_err());
        assert!("Relaxed".parse::<CanonicalizationPair>().is_err());
        assert!("simple/relaxed/x".parse::<CanonicalizationPair>().is_err());
    }

    #[test]
    fn algorithms() {
        assert_eq!(
            "ed25519-sha256".parse(),
            Ok(SigningAlgorithm::Ed25519Sha256)
        );
        assert!("rsa-sha512".parse::<SigningAlgorithm>().is_err());
        assert_eq!(SigningAlgorithm::RsaSha1.hash(), HashAlgorithm::Sha1);
    }
}
