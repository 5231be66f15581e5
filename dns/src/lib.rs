#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cache;
pub mod zone;

pub use cache::{CacheConfig, CachingResolver};
#[allow(deprecated)]
pub use zone::Record;
pub use zone::{QueryType, RecordData, ZoneError, ZoneErrorKind, ZoneRecord, ZoneResolver};

#[cfg(feature = "hickory")]
#[cfg_attr(docsrs, doc(cfg(feature = "hickory")))]
pub mod hickory;
#[cfg(feature = "hickory")]
#[cfg_attr(docsrs, doc(cfg(feature = "hickory")))]
pub use hickory::HickoryResolver;
