#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod dns;
pub mod domain;

pub use dns::{DnsError, Resolver};
pub use domain::{Domain, DomainError};
