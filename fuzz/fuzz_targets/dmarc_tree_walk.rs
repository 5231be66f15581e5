#![no_main]
//! DMARC evaluation over a zone read from the input (first line: the Author Domain): never
//! panics, and every Tree Walk makes at most 8 queries (RFC 9989 §4.10).

use libfuzzer_sys::fuzz_target;
use mailward_dmarc::evaluate::{DkimInput, DkimVerdict, Options, SpfInput, SpfScope, SpfVerdict};
use mailward_dmarc::walk::MAX_WALK_QUERIES;
use mailward_dns::ZoneResolver;
use mailward_types::Domain;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (first, zone_text) = data.split_at(split);
    let Ok(author) = Domain::new(&String::from_utf8_lossy(first)) else {
        return;
    };
    let mut zone = ZoneResolver::new();
    let _ = zone.load_bytes(zone_text, Domain::new("example.com").ok().as_ref(), "fuzz");
    let id = author.parent().unwrap_or_else(|| author.clone());
    let spf = SpfInput {
        result: SpfVerdict::Pass,
        domain: id.clone(),
        scope: SpfScope::MailFrom,
    };
    let dkim = [DkimInput {
        result: DkimVerdict::Pass,
        domain: id,
        selector: "s".into(),
    }];
    let out = pollster::block_on(mailward_dmarc::evaluate(
        &zone,
        &author,
        Some(&spf),
        &dkim,
        &Options::default(),
    ));
    assert!(out.walk.len() <= MAX_WALK_QUERIES);
    assert!(out.queries.len() <= mailward_dmarc::evaluate::MAX_EVALUATION_QUERIES);
});
