//! The RustCrypto backend: key parsing and Ed25519 verification (RSA in `rsa_verify`).

use rsa::pkcs1::RsaPublicKeyRef;
use rsa::pkcs1::der::Decode;
use rsa::pkcs8::spki::SubjectPublicKeyInfoRef;

use super::PublicKeyError;
use super::rsa_verify::{RsaVerifyKey, bit_len};

/// Parses an RSA public key: SubjectPublicKeyInfo (rsaEncryption) or PKCS#1 RSAPublicKey DER.
pub(crate) fn parse_rsa(data: &[u8]) -> Result<RsaVerifyKey, PublicKeyError> {
    let pkcs1 = match SubjectPublicKeyInfoRef::from_der(data) {
        Ok(spki) => {
            if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
                return Err(PublicKeyError::Malformed);
            }
            spki.subject_public_key
                .as_bytes()
                .ok_or(PublicKeyError::Malformed)?
        }
        Err(_) => data,
    };
    let key = RsaPublicKeyRef::from_der(pkcs1).map_err(|_| PublicKeyError::Malformed)?;
    let n = key.modulus.as_bytes();
    let e = key.public_exponent.as_bytes();
    // Bound the work before any arithmetic (a hostile key could be huge).
    let n_bits = bit_len(n);
    if n_bits > super::MAX_RSA_BITS {
        return Err(PublicKeyError::TooLarge(n_bits));
    }
    if bit_len(e) > 64 {
        return Err(PublicKeyError::Malformed);
    }
    RsaVerifyKey::new(n, e).ok_or(PublicKeyError::Malformed)
}

/// RFC 8463 §4: `p=` is the raw 32-octet Ed25519 public key.
pub(super) fn parse_ed25519(data: &[u8]) -> Result<ed25519_dalek::VerifyingKey, PublicKeyError> {
    let bytes: &[u8; 32] = data.try_into().map_err(|_| PublicKeyError::Malformed)?;
    ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| PublicKeyError::Malformed)
}

/// RFC 8463 §3: the Ed25519 signature is over the SHA-256 digest of the canonical header data.
///
/// The check is RFC 8032 §5.1.7 with the cofactorless equation the RFC allows
/// ([S]B = R + [k]A): `S` must be below the group order, and `R` is compared as the canonical
/// encoding of the computed point, so an `R` that is not a valid canonical encoding fails. The
/// aws-lc-rs backend checks the same, so both backends give the same verdict. `verify_strict`
/// would also reject small-order `A` and `R`, which RFC 8032 does not ask for, at the cost of
/// decompressing `R` (a field exponentiation, about 7 % of a verification).
pub(super) fn verify_ed25519(key: &ed25519_dalek::VerifyingKey, digest: &[u8], sig: &[u8]) -> bool {
    use ed25519_dalek::Verifier as _;
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    key.verify(digest, &sig).is_ok()
}
