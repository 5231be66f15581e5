#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth_results;
pub mod dns;
pub mod domain;
pub mod error_chain;
pub mod message;
pub mod percent;
pub mod tag_list;

pub use auth_results::AuthenticationResults;
pub use dns::{DnsError, DynResolver, Resolver};
pub use domain::{Domain, DomainError};
pub use error_chain::Causes;
pub use message::{HeaderField, Message};
pub use tag_list::TagList;
