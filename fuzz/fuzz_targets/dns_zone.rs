#![no_main]
//! The master-file reader over arbitrary bytes, then lookups of what loaded: never panics.

use libfuzzer_sys::fuzz_target;
use mailward_dns::{QueryType, ZoneResolver};
use mailward_types::Domain;

fuzz_target!(|data: &[u8]| {
    let mut zone = ZoneResolver::new();
    let origin = Domain::new("fuzz.example").ok();
    let _ = zone.load_bytes(data, origin.as_ref(), "fuzz");
    let names: Vec<Domain> = zone.names().take(16).cloned().collect();
    for name in names {
        for q in [QueryType::A, QueryType::Txt, QueryType::Mx, QueryType::Ptr] {
            let _ = zone.lookup(&name, q);
        }
    }
});
