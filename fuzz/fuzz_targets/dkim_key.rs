#![no_main]
//! DKIM key record parsing (RFC 6376 §3.6.1) and its round trip; public key parsing of `p=`.

use libfuzzer_sys::fuzz_target;
use mailward_dkim::{CryptoProvider, KeyRecord};

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = KeyRecord::parse_bytes(data) {
        assert_eq!(KeyRecord::parse(&k.to_string()), Ok(k.clone()));
        let _ = CryptoProvider::rust_crypto().parse_public_key(k.key_type(), &k.public_key);
    }
});
