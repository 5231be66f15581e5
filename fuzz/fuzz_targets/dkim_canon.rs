#![no_main]
//! Body canonicalization + hashing in chunks (split points from the first input octets) equals
//! one-shot, for both algorithms; header canonicalization never panics.

use libfuzzer_sys::fuzz_target;
use mailward_dkim::{BodyHasher, Canonicalization, HashAlgorithm, canonicalize_header};

fuzz_target!(|data: &[u8]| {
    let (splits, body) = data.split_at(data.len().min(4));
    for c in [Canonicalization::Simple, Canonicalization::Relaxed] {
        let mut one = BodyHasher::new(c, HashAlgorithm::Sha256, None);
        one.update(body);
        let mut chunked = BodyHasher::new(c, HashAlgorithm::Sha256, None);
        let mut rest = body;
        for &s in splits {
            let (a, b) = rest.split_at(usize::from(s).min(rest.len()));
            chunked.update(a);
            rest = b;
        }
        chunked.update(rest);
        assert_eq!(one.finish(), chunked.finish());
        canonicalize_header(c, body, &mut Vec::new());
    }
});
