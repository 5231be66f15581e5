#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod dns;
mod error;
mod eval;
mod header;
mod macros;
mod outcome;
mod parser;
mod query;
mod record;
mod render;
mod result;
mod target;
mod trace;

pub use cache::{MAX_CACHED_ANSWERS, MAX_CACHED_RECORDS, MAX_CACHED_TTL, RecordCache};
pub use dns::{AnswerSummary, DnsAnswer, DnsQuery, QueryRef};
pub use error::{ParseError, ParseErrorKind};
pub use eval::{
    CheckHost, MAX_DNS_TERMS, MAX_MX_NAMES, MAX_PTR_NAMES, MAX_TRACE_ENTRIES, MAX_VOID_LOOKUPS,
    Step, evaluate, is_spf1,
};
pub use header::{
    MAX_HEADER_VALUE_LEN, auth_results_entry, received_spf_field, received_spf_value,
};
pub use macros::{
    MAX_EXPANSION_LEN, MacroContext, MacroExpand, MacroLetter, MacroString, MacroToken,
};
pub use outcome::{MatchedDirective, SpfOutcome};
pub use query::{Identity, Query};
pub use record::{Directive, DualCidr, Mechanism, Modifier, Qualifier, SpfRecord, Term, VERSION};
pub use result::SpfResult;
pub use target::MAX_TARGET_LEN;
pub use trace::{Trace, TraceEntry, TraceEvent, TraceIter};
