#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
mod canon;
mod hash;
mod key;
mod signature;
mod util;

pub use algorithm::{
    Canonicalization, CanonicalizationPair, HashAlgorithm, InvalidCanonicalization, KeyType,
    SigningAlgorithm, UnknownAlgorithm,
};
pub use canon::{canonicalize_body, canonicalize_header};
pub use hash::{BodyHash, BodyHasher};
pub use key::{KeyRecord, KeyRecordError, MAX_KEY_RECORD_LEN, MAX_LIST_ENTRIES};
pub use signature::{
    DkimSignature, MAX_SIGNATURE_LEN, MAX_SIGNED_HEADERS, SignatureError, key_name,
};
