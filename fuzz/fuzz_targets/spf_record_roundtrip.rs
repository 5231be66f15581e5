#![no_main]
//! Whatever parses displays to canonical text that parses back to the same record.

use libfuzzer_sys::fuzz_target;
use mailward_spf::SpfRecord;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = std::str::from_utf8(data).map(SpfRecord::parse) {
        if let Ok(record) = record {
            let text = record.to_string();
            assert_eq!(SpfRecord::parse(&text).as_ref(), Ok(&record), "{text}");
        }
    }
});
