#![no_main]
//! What ingest decides for any input (container, Message-ID, reports / skipped / rejected):
//! never a panic, and a report it keeps always has its identity's policy domain.

use libfuzzer_sys::fuzz_target;
use mailward_store::{Limits, Read, classify};

fuzz_target!(|data: &[u8]| {
    let c = classify(data, &Limits::default());
    if let Read::Reports(reports) = c.read {
        assert!(!reports.is_empty());
    }
});
