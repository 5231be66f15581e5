#![no_main]
//! The aggregate report XML reader, and write → read of whatever it accepts.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = mailward_reports::parse_xml(data) {
        let xml = mailward_reports::to_xml(&parsed.report);
        // What the writer produces must always be readable again.
        assert!(mailward_reports::parse_xml(xml.as_bytes()).is_ok(), "{xml}");
    }
});
