#![no_main]
//! Whatever parses displays to canonical text that parses back to the same record.

use libfuzzer_sys::fuzz_target;
use mailward_dmarc::record::DmarcRecord;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = DmarcRecord::parse(data) {
        let text = record.to_string();
        assert_eq!(DmarcRecord::parse(text.as_bytes()), Ok(record), "{text}");
    }
});
