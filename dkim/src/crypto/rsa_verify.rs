//! Fast RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) on `crypto-bigint`.
//!
//! Verification handles only public data (key, signature, digest), so variable-time arithmetic
//! is fine. With the usual exponent 65537 the exponentiation is 16 Montgomery squarings and one
//! multiplication; other exponents use the library's bounded-exponent routine. The padding
//! check builds the whole expected encoding `EM = 0x00 01 FF..FF 00 || DigestInfo || H` and
//! compares it entirely (RFC 8017 §8.2.2 step 3-4), so no parsing of the decrypted block can be
//! fooled by garbage (Bleichenbacher 2006 signature forgery).

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, MontyForm, MontyMultiplier, Odd};

use super::digest_info_prefix;
use crate::algorithm::HashAlgorithm;

/// An RSA public key prepared for repeated verification.
#[derive(Clone, Debug)]
pub(crate) struct RsaVerifyKey {
    params: BoxedMontyParams,
    n: BoxedUint,
    e: BoxedUint,
    /// `e` = 65537 (F4), by far the usual exponent.
    e_is_f4: bool,
    /// Modulus length in octets (`k` of RFC 8017).
    k: usize,
    bits: u32,
}

impl RsaVerifyKey {
    /// From modulus and exponent (big-endian). `None` when `n` is even or `e` is not odd ≥ 3.
    pub(crate) fn new(n_be: &[u8], e_be: &[u8]) -> Option<Self> {
        let n_be = trim_zeros(n_be);
        let e_be = trim_zeros(e_be);
        // e must be odd and at least 3 (RFC 8017 §3.1).
        if e_be.last().is_none_or(|&b| b & 1 == 0) || bit_len(e_be) < 2 {
            return None;
        }
        let n = BoxedUint::from_be_slice_vartime(n_be);
        let bits = n.bit_width_vartime();
        let e = BoxedUint::from_be_slice_vartime(e_be);
        let odd: Option<Odd<BoxedUint>> = Odd::new(n.clone()).into();
        let params = BoxedMontyParams::new_vartime(odd?);
        let e_is_f4 = e_be == [1, 0, 1];
        Some(Self {
            params,
            n,
            e,
            e_is_f4,
            k: usize::try_from(bits.div_ceil(8)).ok()?,
            bits,
        })
    }

    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    pub(crate) fn e_bytes(&self) -> Box<[u8]> {
        self.e.to_be_bytes_trimmed_vartime()
    }

    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    pub(crate) fn n_bytes(&self) -> Box<[u8]> {
        self.n.to_be_bytes_trimmed_vartime()
    }

    pub(crate) fn bits(&self) -> u32 {
        self.bits
    }

    /// RSASSA-PKCS1-V1_5-VERIFY with a precomputed digest.
    pub(crate) fn verify_pkcs1v15(&self, hash: HashAlgorithm, digest: &[u8], sig: &[u8]) -> bool {
        // Step 1: length check.
        if sig.len() != self.k {
            return false;
        }
        let precision = self.n.bits_precision();
        let Ok(s) = BoxedUint::from_be_slice(sig, precision) else {
            return false;
        };
        // RSAVP1 step 1: the representative must be below n.
        if s >= self.n {
            return false;
        }
        let base = BoxedMontyForm::new(s, &self.params);
        let m = if self.e_is_f4 {
            // One multiplier with preallocated scratch space for all 17 operations.
            let mut mm = <BoxedMontyForm as MontyForm>::Multiplier::from(&self.params);
            let mut acc = base.clone();
            for _ in 0..16 {
                mm.square_assign(&mut acc);
            }
            mm.mul_assign(&mut acc, &base);
            acc
        } else {
            base.pow_bounded_exp(&self.e, self.e.bit_width_vartime())
        }
        .retrieve();
        let em_full = m.to_be_bytes();
        // I2OSP(m, k): the value is below n, so the extra leading octets are zero.
        let Some(split) = em_full.len().checked_sub(self.k) else {
            return false;
        };
        let (lead, em) = em_full.split_at(split);
        if lead.iter().any(|&b| b != 0) {
            return false;
        }
        let prefix = digest_info_prefix(hash);
        let t_len = prefix.len() + digest.len();
        // RFC 8017 §9.2 step 3: emLen >= tLen + 11.
        let Some(ps_len) = self.k.checked_sub(t_len + 3) else {
            return false;
        };
        if ps_len < 8 {
            return false;
        }
        let mut expected = Vec::with_capacity(self.k);
        expected.extend_from_slice(&[0x00, 0x01]);
        expected.resize(2 + ps_len, 0xff);
        expected.push(0x00);
        expected.extend_from_slice(prefix);
        expected.extend_from_slice(digest);
        expected == em
    }
}

fn trim_zeros(be: &[u8]) -> &[u8] {
    match be.iter().position(|&b| b != 0) {
        Some(p) => be.get(p..).unwrap_or_default(),
        None => &[],
    }
}

/// Bit length of a big-endian unsigned integer.
pub(super) fn bit_len(be: &[u8]) -> u32 {
    let trimmed: &[u8] = match be.iter().position(|&b| b != 0) {
        Some(p) => be.get(p..).unwrap_or_default(),
        None => &[],
    };
    match trimmed.first() {
        Some(&top) => u32::try_from(trimmed.len().saturating_sub(1).saturating_mul(8))
            .unwrap_or(u32::MAX)
            .saturating_add(8 - top.leading_zeros()),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rsa::Pkcs1v15Sign;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::EncodePublicKey;

    use super::*;

    fn keys() -> Vec<(rsa::PrivateKey, RsaVerifyKey)> {
        [
            include_str!("../../tests/data/rfc8463_rsa.pem"),
            include_str!("../../tests/data/interop_rsa2048.pem"),
        ]
        .iter()
        .map(|pem| {
            let private = rsa::PrivateKey::from_pkcs1_pem(pem).unwrap();
            let der = private.to_public_key().to_public_key_der().unwrap();
            let fast = crate::crypto::rust::parse_rsa(der.as_bytes()).unwrap();
            (private, fast)
        })
        .collect()
    }

    fn scheme(hash: HashAlgorithm) -> Pkcs1v15Sign {
        match hash {
            HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// The fast verifier agrees with the `rsa` crate on valid signatures, on signatures
        /// with one octet changed, on other digests and on the other hash's DigestInfo.
        #[test]
        fn agrees_with_rsa_crate(
            digest in prop::array::uniform32(any::<u8>()),
            flip_at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            which in 0usize..2,
        ) {
            let keys = keys();
            let (private, fast) = &keys[which];
            let public = private.to_public_key();
            let sig = private.sign(scheme(HashAlgorithm::Sha256), &digest).unwrap();
            let reference = |h: HashAlgorithm, d: &[u8], s: &[u8]| public.verify(scheme(h), d, s).is_ok();
            prop_assert!(fast.verify_pkcs1v15(HashAlgorithm::Sha256, &digest, &sig));
            prop_assert!(reference(HashAlgorithm::Sha256, &digest, &sig));

            let mut bad = sig.clone();
            let i = flip_at.index(bad.len());
            bad[i] ^= flip;
            prop_assert_eq!(fast.verify_pkcs1v15(HashAlgorithm::Sha256, &digest, &bad),
                            reference(HashAlgorithm::Sha256, &digest, &bad));
            prop_assert!(!fast.verify_pkcs1v15(HashAlgorithm::Sha256, &digest, &bad));

            let mut other = digest;
            other[i % 32] ^= flip;
            prop_assert!(!fast.verify_pkcs1v15(HashAlgorithm::Sha256, &other, &sig));
            prop_assert!(!reference(HashAlgorithm::Sha256, &other, &sig));

            // SHA-1 DigestInfo with the first 20 digest octets: different encoding, rejected.
            prop_assert!(!fast.verify_pkcs1v15(HashAlgorithm::Sha1, &digest[..20], &sig));
            let sig1 = private.sign(scheme(HashAlgorithm::Sha1), &digest[..20]).unwrap();
            prop_assert!(fast.verify_pkcs1v15(HashAlgorithm::Sha1, &digest[..20], &sig1));
            prop_assert!(reference(HashAlgorithm::Sha1, &digest[..20], &sig1));
        }
    }

    #[test]
    fn rejects_wrong_lengths_and_out_of_range() {
        let keys = keys();
        let (private, fast) = &keys[0];
        let sig = private
            .sign(scheme(HashAlgorithm::Sha256), &[1; 32])
            .unwrap();
        assert!(!fast.verify_pkcs1v15(HashAlgorithm::Sha256, &[1; 32], &sig[1..]));
        assert!(!fast.verify_pkcs1v15(HashAlgorithm::Sha256, &[1; 32], &[0xff; 128]));
        assert!(!fast.verify_pkcs1v15(HashAlgorithm::Sha256, &[1; 32], &[0; 128]));
        assert_eq!(fast.bits(), 1024);
    }
}
