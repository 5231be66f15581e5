#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod evaluate;
pub mod from;
#[cfg(feature = "psl")]
#[cfg_attr(docsrs, doc(cfg(feature = "psl")))]
pub mod psl_mode;
pub mod record;
pub mod report_dest;
pub mod uri;
pub mod walk;

pub use evaluate::{
    DiscoveryMode, Disposition, DkimInput, DkimVerdict, DmarcOutcome, DmarcResult, Options,
    PolicyDiscovery, PolicyTag, SpfInput, SpfScope, SpfVerdict, discover_policy, evaluate,
    evaluate_message,
};
pub use from::{FromError, author_domain};
pub use record::{AlignmentMode, DmarcRecord, RequestedPolicy};
