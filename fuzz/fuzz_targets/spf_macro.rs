#![no_main]
//! Macro strings: parse as domain-spec and explain-string, expand with a local-part and HELO
//! taken from the input; never panics and stays within MAX_EXPANSION_LEN.

use libfuzzer_sys::fuzz_target;
use mailward_spf::{MAX_EXPANSION_LEN, MacroContext, MacroString};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (spec, local) = text.split_once('\n').unwrap_or((&text, "a.b-c+d"));
    let ip = "2001:db8::1".parse().unwrap();
    let ctx = MacroContext::new(ip, local, "example.com", "sub.example.com", local);
    let parsed = [
        MacroString::parse_domain_spec(spec),
        MacroString::parse_explain_string(spec),
    ];
    for m in parsed.into_iter().flatten() {
        assert!(m.expand(&ctx).len() <= MAX_EXPANSION_LEN);
    }
});
