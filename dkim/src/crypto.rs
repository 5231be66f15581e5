//! The one crypto boundary: parse a public key, verify a signature over a digest, sign a digest.
//!
//! Everything else in the crate hashes with `sha2`/`sha1` and hands digests across this line.
//! Backends are chosen by value ([`CryptoProvider`]), rustls style: the pure-Rust RustCrypto
//! backend is always present; `aws-lc-rs` is an additive feature.

use std::fmt;

use crate::algorithm::{HashAlgorithm, KeyType, SigningAlgorithm};

#[cfg(feature = "aws-lc-rs")]
mod aws;
mod rsa_verify;
pub(crate) mod rust;
pub(crate) mod signing;

pub use signing::{KeyGenError, SigningKey, SigningKeyError};

/// Smallest RSA modulus accepted for verification: RFC 8301 §3.2 "Verifiers MUST NOT consider
/// signatures using RSA keys of less than 1024 bits as valid signatures."
pub const MIN_RSA_BITS: u32 = 1024;

/// Largest RSA modulus accepted (bounds the cost of a hostile key): RFC 8301 §3.2 requires
/// verifiers to handle 1024–4096 bits; 8192 leaves headroom for the largest keys seen in DNS.
pub const MAX_RSA_BITS: u32 = 8192;

/// The cryptographic backend used for verification (chosen by value).
///
/// # Examples
///
/// ```
/// use mailward_dkim::CryptoProvider;
///
/// let p = CryptoProvider::rust_crypto();
/// assert_eq!(p.name(), "rust-crypto");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct CryptoProvider {
    backend: Backend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Backend {
    #[default]
    RustCrypto,
    #[cfg(feature = "aws-lc-rs")]
    AwsLc,
}

impl fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CryptoProvider({})", self.name())
    }
}

impl CryptoProvider {
    /// The pure-Rust backend: RustCrypto `ed25519-dalek`, and for RSA a variable-time public
    /// exponentiation on `crypto-bigint` with a full PKCS#1 v1.5 encoding comparison.
    pub fn rust_crypto() -> Self {
        Self {
            backend: Backend::RustCrypto,
        }
    }

    /// The `aws-lc-rs` backend.
    #[cfg(feature = "aws-lc-rs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-lc-rs")))]
    pub fn aws_lc_rs() -> Self {
        Self {
            backend: Backend::AwsLc,
        }
    }

    /// A short name of the backend.
    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::RustCrypto => "rust-crypto",
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => "aws-lc-rs",
        }
    }

    /// Parses the `p=` data of a key record for this backend.
    ///
    /// RSA keys may be a SubjectPublicKeyInfo (what is published in practice) or a bare PKCS#1
    /// RSAPublicKey (what RFC 6376 §3.6.1 literally names); Ed25519 keys are the raw 32 octets
    /// (RFC 8463 §4).
    ///
    /// # Errors
    ///
    /// A [`PublicKeyError`] when the data is not a key of the type, or an RSA key outside
    /// [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`] (the size is also reported for policy).
    pub fn parse_public_key(
        &self,
        key_type: KeyType,
        data: &[u8],
    ) -> Result<PublicKey, PublicKeyError> {
        match key_type {
            KeyType::Rsa => {
                let parsed = rust::parse_rsa(data)?;
                let bits = parsed.bits();
                if bits < MIN_RSA_BITS {
                    return Err(PublicKeyError::WeakRsaKey(bits));
                }
                if bits > MAX_RSA_BITS {
                    return Err(PublicKeyError::TooLarge(bits));
                }
                let inner = match self.backend {
                    Backend::RustCrypto => Inner::RustRsa(parsed),
                    #[cfg(feature = "aws-lc-rs")]
                    Backend::AwsLc => Inner::Aws(aws::parse_rsa(&parsed)?),
                };
                Ok(PublicKey {
                    inner,
                    key_type,
                    bits,
                })
            }
            KeyType::Ed25519 => {
                let inner = match self.backend {
                    Backend::RustCrypto => Inner::RustEd25519(rust::parse_ed25519(data)?),
                    #[cfg(feature = "aws-lc-rs")]
                    Backend::AwsLc => Inner::Aws(aws::parse_ed25519(data)?),
                };
                Ok(PublicKey {
                    inner,
                    key_type,
                    bits: 256,
                })
            }
        }
    }
}

/// A parsed public key, ready to verify (cacheable; parsing is done once).
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    key_type: KeyType,
    bits: u32,
}

#[derive(Clone)]
enum Inner {
    RustRsa(rsa_verify::RsaVerifyKey),
    RustEd25519(ed25519_dalek::VerifyingKey),
    #[cfg(feature = "aws-lc-rs")]
    Aws(aws::AwsKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_type", &self.key_type)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Modulus size for RSA, 256 for Ed25519.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Verifies `signature` over the header-hash `digest` (RFC 6376 §3.7; for Ed25519 the
    /// signed message is the SHA-256 digest, RFC 8463 §3). False when the algorithm does not
    /// match the key type.
    pub fn verify_digest(&self, alg: SigningAlgorithm, digest: &[u8], signature: &[u8]) -> bool {
        if alg.key_type() != self.key_type {
            return false;
        }
        match &self.inner {
            Inner::RustRsa(k) => k.verify_pkcs1v15(alg.hash(), digest, signature),
            Inner::RustEd25519(k) => rust::verify_ed25519(k, digest, signature),
            #[cfg(feature = "aws-lc-rs")]
            Inner::Aws(k) => k.verify(alg.hash(), digest, signature),
        }
    }
}

/// Why public key data cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublicKeyError {
    /// The data is not a key of the declared type.
    #[error("malformed public key")]
    Malformed,
    /// An RSA key below [`MIN_RSA_BITS`] (RFC 8301 §3.2).
    #[error("RSA key of {0} bits is below the RFC 8301 minimum of 1024")]
    WeakRsaKey(u32),
    /// An RSA key above [`MAX_RSA_BITS`].
    #[error("RSA key of {0} bits is above the supported maximum")]
    TooLarge(u32),
}

/// Hash used for a DigestInfo; exposed for the backends.
pub(crate) fn digest_info_prefix(hash: HashAlgorithm) -> &'static [u8] {
    // RFC 8017 §9.2 note 1: DER of DigestInfo up to the digest octets.
    match hash {
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgorithm::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
    }
}
