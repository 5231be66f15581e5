#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cache;
pub mod zone;

pub use cache::{CacheConfig, CachingResolver};
pub use zone::{QueryType, Record, RecordData, ZoneError, ZoneErrorKind, ZoneResolver};
