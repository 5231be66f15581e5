#![no_main]
//! The SMTP TLS report JSON reader (RFC 8460), and write → read of whatever it accepts.

use libfuzzer_sys::fuzz_target;
use mailward_reports::tls;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = tls::parse_json(data) {
        let json = tls::to_json(&parsed.report);
        // What the writer produces reads back as the same report.
        let again = tls::parse_json(json.as_bytes()).map(|p| p.report);
        assert_eq!(again.as_ref(), Ok(&parsed.report), "{json}");
    }
});
