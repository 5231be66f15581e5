//! The `aws-lc-rs` backend.

use std::sync::Arc;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey};
use rsa::pkcs1::RsaPublicKey;
use rsa::pkcs1::der::Encode;
use rsa::pkcs1::der::asn1::UintRef;

use super::PublicKeyError;
use super::rsa_verify::RsaVerifyKey;
use crate::algorithm::HashAlgorithm;

/// A key parsed by aws-lc.
#[derive(Clone)]
pub(super) enum AwsKey {
    Rsa {
        sha256: Arc<ParsedPublicKey>,
        pkcs1: Arc<[u8]>,
    },
    Ed25519(Arc<ParsedPublicKey>),
}

pub(super) fn parse_rsa(key: &RsaVerifyKey) -> Result<AwsKey, PublicKeyError> {
    let n = key.n_bytes();
    let e = key.e_bytes();
    let der = RsaPublicKey {
        modulus: UintRef::new(&n).map_err(|_| PublicKeyError::Malformed)?,
        public_exponent: UintRef::new(&e).map_err(|_| PublicKeyError::Malformed)?,
    }
    .to_der()
    .map_err(|_| PublicKeyError::Malformed)?;
    let sha256 = ParsedPublicKey::new(
        &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        &der,
    )
    .map_err(|_| PublicKeyError::Malformed)?;
    Ok(AwsKey::Rsa {
        sha256: Arc::new(sha256),
        pkcs1: der.into(),
    })
}

pub(super) fn parse_ed25519(data: &[u8]) -> Result<AwsKey, PublicKeyError> {
    if data.len() != 32 {
        return Err(PublicKeyError::Malformed);
    }
    let key =
        ParsedPublicKey::new(&signature::ED25519, data).map_err(|_| PublicKeyError::Malformed)?;
    Ok(AwsKey::Ed25519(Arc::new(key)))
}

impl AwsKey {
    pub(super) fn verify(&self, hash: HashAlgorithm, digest_in: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Rsa { sha256, pkcs1 } => match hash {
                HashAlgorithm::Sha256 => Digest::import_less_safe(digest_in, &digest::SHA256)
                    .is_ok_and(|d| sha256.verify_digest_sig(&d, sig).is_ok()),
                HashAlgorithm::Sha1 => {
                    Digest::import_less_safe(digest_in, &digest::SHA1_FOR_LEGACY_USE_ONLY)
                        .is_ok_and(|d| {
                            UnparsedPublicKey::new(
                                &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                                &**pkcs1,
                            )
                            .verify_digest(&d, sig)
                            .is_ok()
                        })
                }
            },
            // RFC 8463 §3: the signed message is the SHA-256 digest itself.
            Self::Ed25519(key) => key.verify_sig(digest_in, sig).is_ok(),
        }
    }
}

/// A private key loaded into aws-lc for signing.
pub(super) enum AwsSigningKey {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ed25519(signature::Ed25519KeyPair),
}

impl AwsSigningKey {
    /// An RSA key from its PKCS#8 DER encoding.
    pub(super) fn rsa_from_pkcs8(der: &[u8]) -> Option<Self> {
        aws_lc_rs::rsa::KeyPair::from_pkcs8(der).ok().map(Self::Rsa)
    }

    /// An Ed25519 key from its 32-octet seed.
    pub(super) fn ed25519_from_seed(seed: &[u8]) -> Option<Self> {
        signature::Ed25519KeyPair::from_seed_unchecked(seed)
            .ok()
            .map(Self::Ed25519)
    }

    /// Signs a SHA-256 header hash: RSA PKCS#1 v1.5 over the digest, Ed25519 over the digest
    /// octets (RFC 8463 §3). `None` on failure.
    pub(super) fn sign_sha256(&self, digest_in: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::Rsa(key) => {
                let digest = Digest::import_less_safe(digest_in, &digest::SHA256).ok()?;
                let mut out = vec![0u8; key.public_modulus_len()];
                key.sign_digest(&signature::RSA_PKCS1_SHA256, &digest, &mut out)
                    .ok()?;
                Some(out)
            }
            Self::Ed25519(key) => Some(key.sign(digest_in).as_ref().to_vec()),
        }
    }
}
