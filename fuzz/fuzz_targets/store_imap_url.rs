#![no_main]
//! IMAP source URLs: never a panic, and every URL that parses is written back (`Display`) as a
//! URL that parses to the same user, host, port, mailbox and security.

use libfuzzer_sys::fuzz_target;
use mailward_store::imap::ImapUrl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(url) = ImapUrl::parse(text) {
        let written = url.to_string();
        let again = ImapUrl::parse(&written)
            .unwrap_or_else(|e| panic!("{text:?} -> {written:?} does not parse: {e}"));
        assert_eq!(url, again, "{text:?} -> {written:?}");
    }
});
