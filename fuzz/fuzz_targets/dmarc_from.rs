#![no_main]
//! Author Domain extraction never panics; a single domain is one the mailboxes name.

use libfuzzer_sys::fuzz_target;
use mailward_dmarc::from::{parse_mailboxes, single_domain};

fuzz_target!(|data: &[u8]| {
    if let Ok(mailboxes) = parse_mailboxes(data) {
        if let Ok(domain) = single_domain(&mailboxes) {
            assert!(mailboxes.iter().all(|m| m.domain == domain));
        }
    }
});
