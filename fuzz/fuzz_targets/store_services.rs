#![no_main]
//! The user extension file of the sending-service map: never a panic, and every entry a file
//! adds is found again by its domain.

use libfuzzer_sys::fuzz_target;
use mailward_store::services::ServiceMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut map = ServiceMap::new();
    if let Ok(added) = map.parse_extension(text) {
        assert!(map.len() <= added);
        for (domain, _) in map.iter() {
            assert!(map.lookup(domain).is_some());
        }
    }
});
