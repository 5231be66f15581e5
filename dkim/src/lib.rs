#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod canon;
mod crypto;
mod hash;
mod header_hash;
mod key;
mod keygen;
mod sign;
mod signature;
mod tag_value;
mod verify;

pub use algorithm::{
    Canonicalization, CanonicalizationPair, HashAlgorithm, InvalidCanonicalization, KeyType,
    SigningAlgorithm, UnknownAlgorithm,
};
pub use canon::{canonicalize_body, canonicalize_header};
pub use crypto::signing::RSA_KEY_SIZES;
pub use crypto::{
    CryptoProvider, KeyGenError, MAX_RSA_BITS, MIN_RSA_BITS, PublicKey, PublicKeyError, SigningKey,
    SigningKeyError,
};
pub use hash::{BodyHash, BodyHasher};
pub use key::{KeyRecord, KeyRecordError, MAX_KEY_RECORD_LEN, MAX_LIST_ENTRIES};
pub use keygen::{
    MAX_TXT_STRING, generate_key, key_record_text, master_file_entry, split_txt_strings,
};
pub use sign::{DEFAULT_SIGNED_HEADERS, OVERSIGNED_HEADERS, SignError, Signer, SigningContext};
pub use signature::{
    DkimSignature, HeaderNames, MAX_SIGNATURE_LEN, MAX_SIGNED_HEADERS, SignatureError, key_name,
};
pub use verify::{
    DEFAULT_CLOCK_SKEW, DEFAULT_MAX_SIGNATURES, DkimOutcome, KeyAnswers, KeyMismatch,
    MAX_CACHED_KEYS, PolicyViolation, SignatureResult, Verifier, VerifyContext, VerifyOptions,
};
