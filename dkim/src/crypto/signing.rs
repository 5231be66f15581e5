//! Private keys: loading (PKCS#1 / PKCS#8, PEM / DER, raw Ed25519 seed), generation, signing.
//! Keys are loaded and encoded with the maintained RustCrypto crates (`rsa` ≥ 0.10, which fixed
//! the Marvin timing side channel of earlier releases, and `ed25519-dalek`), which also sign by
//! default; [`SigningKey::with_provider`] moves signing to `aws-lc-rs`.

use std::fmt;

use getrandom::SysRng;
use rsa::Pkcs1v15Sign;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::algorithm::{KeyType, SigningAlgorithm};
use crate::tag_value::b64_decode;

/// RSA sizes [`SigningKey::generate_rsa`] accepts: RFC 8301 §3.2 "Signers MUST use RSA keys of
/// at least 1024 bits ... SHOULD use RSA keys of at least 2048 bits"; 4096 is the largest size
/// verifiers are required to handle.
pub const RSA_KEY_SIZES: [usize; 4] = [1024, 2048, 3072, 4096];

/// A private key for signing.
#[derive(Clone)]
pub struct SigningKey {
    inner: Inner,
    /// The same key loaded into aws-lc, when that backend signs.
    #[cfg(feature = "aws-lc-rs")]
    aws: Option<std::sync::Arc<super::aws::AwsSigningKey>>,
}

#[derive(Clone)]
enum Inner {
    Rsa(Box<rsa::PrivateKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.key_type())
    }
}

/// Why a private key could not be loaded or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningKeyError {
    /// Not a PKCS#1 / PKCS#8 RSA key, PKCS#8 Ed25519 key or 32-octet Ed25519 seed.
    #[error("unrecognised private key format")]
    UnknownFormat,
    /// The algorithm needs another key type.
    #[error("algorithm {0} does not match the key type")]
    AlgorithmMismatch(SigningAlgorithm),
    /// An RSA key smaller than RFC 8301's 1024 bits.
    #[error("RSA key too small ({0} bits)")]
    WeakKey(usize),
    /// The signing operation failed.
    #[error("signing failed")]
    SigningFailed,
}

/// Why key generation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyGenError {
    /// An RSA size outside [`RSA_KEY_SIZES`].
    #[error("unsupported RSA key size {0} (use 1024, 2048, 3072 or 4096)")]
    UnsupportedSize(usize),
    /// The system random generator or the key generation failed.
    #[error("key generation failed")]
    Failed,
    /// The key could not be encoded.
    #[error("key encoding failed")]
    Encoding,
}

impl SigningKey {
    /// Loads a key from a file's contents: PEM (`RSA PRIVATE KEY` = PKCS#1, `PRIVATE KEY` =
    /// PKCS#8 RSA or Ed25519), DER, a raw 32-octet Ed25519 seed, or a seed in base64 (the form
    /// `dknewkey` of dkimpy writes).
    ///
    /// # Errors
    ///
    /// [`SigningKeyError::UnknownFormat`] when none of these parse; [`SigningKeyError::WeakKey`]
    /// for RSA below 1024 bits.
    pub fn from_bytes(data: &[u8]) -> Result<Self, SigningKeyError> {
        if let Ok(text) = std::str::from_utf8(data) {
            let text = text.trim();
            if text.starts_with("-----BEGIN") {
                return Self::from_pem(text);
            }
            if let Some(seed) = b64_decode(text).and_then(|d| <[u8; 32]>::try_from(d).ok()) {
                return Ok(Self::ed25519_from_seed(&seed));
            }
        }
        Self::from_der(data)
    }

    /// Loads a PEM key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    ///
    /// # Errors
    ///
    /// As [`Self::from_bytes`].
    pub fn from_pem(pem: &str) -> Result<Self, SigningKeyError> {
        if let Ok(k) = rsa::PrivateKey::from_pkcs1_pem(pem) {
            return Self::rsa(k);
        }
        if let Ok(k) = rsa::PrivateKey::from_pkcs8_pem(pem) {
            return Self::rsa(k);
        }
        if let Ok(k) = <ed25519_dalek::SigningKey as DecodePrivateKey>::from_pkcs8_pem(pem) {
            return Ok(Self::from_inner(Inner::Ed25519(Box::new(k))));
        }
        Err(SigningKeyError::UnknownFormat)
    }

    /// Loads a DER key (PKCS#8 RSA or Ed25519, PKCS#1 RSA) or a raw 32-octet Ed25519 seed.
    ///
    /// # Errors
    ///
    /// As [`Self::from_bytes`].
    pub fn from_der(der: &[u8]) -> Result<Self, SigningKeyError> {
        if let Ok(seed) = <[u8; 32]>::try_from(der) {
            return Ok(Self::ed25519_from_seed(&seed));
        }
        if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(der) {
            return Self::rsa(k);
        }
        if let Ok(k) = rsa::PrivateKey::from_pkcs1_der(der) {
            return Self::rsa(k);
        }
        if let Ok(k) = <ed25519_dalek::SigningKey as DecodePrivateKey>::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::Ed25519(Box::new(k))));
        }
        Err(SigningKeyError::UnknownFormat)
    }

    fn from_inner(inner: Inner) -> Self {
        Self {
            inner,
            #[cfg(feature = "aws-lc-rs")]
            aws: None,
        }
    }

    /// The same key signing with `provider` (RustCrypto by default). Signatures are the same
    /// octets either way: RSA PKCS#1 v1.5 and Ed25519 are deterministic. aws-lc signs only with
    /// RSA keys of at least 2048 bits: a 1024-bit key (still allowed by RFC 8301) keeps signing
    /// with RustCrypto, as does `rsa-sha1`; [`Self::provider`] tells which backend signs.
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for backends that refuse keys.
    pub fn with_provider(self, provider: super::CryptoProvider) -> Result<Self, SigningKeyError> {
        match provider.backend {
            super::Backend::RustCrypto => Ok(Self::from_inner(self.inner)),
            #[cfg(feature = "aws-lc-rs")]
            super::Backend::AwsLc => {
                let aws = match &self.inner {
                    Inner::Rsa(k) => k
                        .to_pkcs8_der()
                        .ok()
                        .and_then(|der| super::aws::AwsSigningKey::rsa_from_pkcs8(der.as_bytes())),
                    Inner::Ed25519(k) => {
                        super::aws::AwsSigningKey::ed25519_from_seed(&k.to_bytes())
                    }
                };
                // aws-lc signs only with RSA keys of 2048 bits or more (RFC 8301 still allows
                // 1024); such a key keeps signing with RustCrypto.
                Ok(Self {
                    inner: self.inner,
                    aws: aws.map(std::sync::Arc::new),
                })
            }
        }
    }

    /// The backend that signs with this key.
    pub fn provider(&self) -> super::CryptoProvider {
        #[cfg(feature = "aws-lc-rs")]
        if self.aws.is_some() {
            return super::CryptoProvider::aws_lc_rs();
        }
        super::CryptoProvider::rust_crypto()
    }

    /// An Ed25519 key from its 32-octet seed (RFC 8032 §5.1.5).
    pub fn ed25519_from_seed(seed: &[u8; 32]) -> Self {
        Self::from_inner(Inner::Ed25519(Box::new(
            ed25519_dalek::SigningKey::from_bytes(seed),
        )))
    }

    fn rsa(k: rsa::PrivateKey) -> Result<Self, SigningKeyError> {
        use rsa::traits::PublicKeyParts;
        let bits = k.n().bit_width_vartime() as usize;
        if bits < 1024 {
            return Err(SigningKeyError::WeakKey(bits));
        }
        Ok(Self::from_inner(Inner::Rsa(Box::new(k))))
    }

    /// Generates an RSA key of `bits` (one of [`RSA_KEY_SIZES`]) with e = 65537.
    ///
    /// # Errors
    ///
    /// [`KeyGenError`] for other sizes or when the system RNG fails.
    pub fn generate_rsa(bits: usize) -> Result<Self, KeyGenError> {
        if !RSA_KEY_SIZES.contains(&bits) {
            return Err(KeyGenError::UnsupportedSize(bits));
        }
        let k = rsa::PrivateKey::new(&mut SysRng, bits).map_err(|_| KeyGenError::Failed)?;
        Ok(Self::from_inner(Inner::Rsa(Box::new(k))))
    }

    /// Generates an Ed25519 key.
    ///
    /// # Errors
    ///
    /// [`KeyGenError::Failed`] when the system RNG fails.
    pub fn generate_ed25519() -> Result<Self, KeyGenError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| KeyGenError::Failed)?;
        Ok(Self::ed25519_from_seed(&seed))
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self.inner {
            Inner::Rsa(_) => KeyType::Rsa,
            Inner::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The algorithm used by default with this key (`rsa-sha256` or `ed25519-sha256`).
    pub fn default_algorithm(&self) -> SigningAlgorithm {
        match self.inner {
            Inner::Rsa(_) => SigningAlgorithm::RsaSha256,
            Inner::Ed25519(_) => SigningAlgorithm::Ed25519Sha256,
        }
    }

    /// The `p=` data to publish: SubjectPublicKeyInfo DER for RSA (what verifiers expect in
    /// practice), the raw 32 octets for Ed25519 (RFC 8463 §4).
    ///
    /// # Errors
    ///
    /// [`KeyGenError::Encoding`] if the RSA key cannot be encoded.
    pub fn public_key_data(&self) -> Result<Vec<u8>, KeyGenError> {
        match &self.inner {
            Inner::Rsa(k) => Ok(k
                .to_public_key()
                .to_public_key_der()
                .map_err(|_| KeyGenError::Encoding)?
                .as_bytes()
                .to_vec()),
            Inner::Ed25519(k) => Ok(k.verifying_key().to_bytes().to_vec()),
        }
    }

    /// The private key as PKCS#8 PEM (LF line endings).
    ///
    /// # Errors
    ///
    /// [`KeyGenError::Encoding`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyGenError> {
        let pem = match &self.inner {
            Inner::Rsa(k) => k
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|_| KeyGenError::Encoding)?,
            Inner::Ed25519(k) => EncodePrivateKey::to_pkcs8_pem(&**k, LineEnding::LF)
                .map_err(|_| KeyGenError::Encoding)?,
        };
        Ok(pem.to_string())
    }

    /// Signs the header-hash `digest` (RSA: PKCS#1 v1.5 with blinding; Ed25519: over the digest,
    /// RFC 8463 §3).
    pub(crate) fn sign_digest(
        &self,
        alg: SigningAlgorithm,
        digest: &[u8],
    ) -> Result<Vec<u8>, SigningKeyError> {
        if alg.key_type() != self.key_type() {
            return Err(SigningKeyError::AlgorithmMismatch(alg));
        }
        // aws-lc signs SHA-256 digests; rsa-sha1 (legacy, RFC 8301) stays on RustCrypto.
        #[cfg(feature = "aws-lc-rs")]
        if let Some(aws) = &self.aws
            && alg.hash() == crate::algorithm::HashAlgorithm::Sha256
        {
            return aws
                .sign_sha256(digest)
                .ok_or(SigningKeyError::SigningFailed);
        }
        match &self.inner {
            Inner::Rsa(k) => {
                let scheme = match alg {
                    SigningAlgorithm::RsaSha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                    _ => Pkcs1v15Sign::new::<sha2::Sha256>(),
                };
                k.sign_with_rng(&mut SysRng, scheme, digest)
                    .map_err(|_| SigningKeyError::SigningFailed)
            }
            Inner::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(digest).to_bytes().to_vec())
            }
        }
    }
}
