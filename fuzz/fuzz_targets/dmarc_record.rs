#![no_main]
//! The DMARC record parser never panics; whatever it accepts has usable accessors.

use libfuzzer_sys::fuzz_target;
use mailward_dmarc::record::DmarcRecord;

fuzz_target!(|data: &[u8]| {
    if let Ok((record, _warnings)) = DmarcRecord::parse_with_warnings(data) {
        let _ = (record.policies(), record.failure_options(), record.pct());
        for uri in record.rua.iter().chain(&record.ruf) {
            let _ = uri.mailto_domain();
        }
    }
});
