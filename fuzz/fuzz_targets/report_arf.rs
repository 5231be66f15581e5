#![no_main]
//! The ARF failure report parser (RFC 5965 / 6591 / 9991) and the failure-notice test.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mailward_reports::failure_notice_kind(data);
    let _ = mailward_reports::parse_failure_report(data);
});
