//! Incremental hashing of canonical data and the streaming [`BodyHasher`].

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::algorithm::{Canonicalization, HashAlgorithm};
use crate::canon::{BodyCanon, Emit};

/// A running SHA-256 or SHA-1 (the only hashes DKIM defines, RFC 6376 §3.3).
#[derive(Debug, Clone)]
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha1(Sha1),
}

impl Hasher {
    pub(crate) fn new(alg: HashAlgorithm) -> Self {
        match alg {
            HashAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
            HashAlgorithm::Sha1 => Self::Sha1(Sha1::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha1(h) => h.update(data),
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha1(h) => h.finalize().to_vec(),
        }
    }
}

/// Size of the buffer collecting the small pieces of canonical body (single octets, line
/// ends) before they are hashed; unchanged runs of at least this size go to the hash directly.
/// Under 1 KiB so the allocator serves it from its small bins (a larger request makes glibc
/// consolidate its fast bins, which showed up in profiles of 4 KB messages).
const BUFFER: usize = 960;

/// The sink behind the canonicalizer: buffers, cuts at `l=`, hashes.
#[derive(Debug, Clone)]
struct LimitedHash {
    hasher: Hasher,
    buf: Vec<u8>,
    /// Octets still allowed by `l=` (`u64::MAX` without `l=`).
    room: u64,
}

impl LimitedHash {
    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
    }
}

impl Emit for LimitedHash {
    #[inline]
    fn emit(&mut self, data: &[u8]) {
        let data = if (data.len() as u64) <= self.room {
            data
        } else {
            // `room` < data.len() here, so it fits in usize.
            data.get(..usize::try_from(self.room).unwrap_or(0))
                .unwrap_or_default()
        };
        self.room -= data.len() as u64;
        if self.buf.len() + data.len() > BUFFER {
            self.flush();
            if data.len() >= BUFFER {
                self.hasher.update(data);
                return;
            }
        }
        self.buf.extend_from_slice(data);
    }
}

/// The result of hashing a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyHash {
    /// The digest (the `bh=` value, decoded).
    pub digest: Vec<u8>,
    /// Length of the whole canonical body.
    pub canonical_length: u64,
    /// Octets that went into the hash (`min(l, canonical_length)`).
    pub hashed_length: u64,
}

/// Canonicalizes and hashes a body given in chunks of any size (RFC 6376 §3.4, §3.7).
///
/// Memory use is constant (one buffer of under 1 KiB), whatever the body size. `l=` cuts the
/// canonical body exactly.
///
/// # Examples
///
/// ```
/// use mailward_dkim::{BodyHasher, Canonicalization, HashAlgorithm};
///
/// let mut h = BodyHasher::new(Canonicalization::Simple, HashAlgorithm::Sha256, None);
/// h.update(b"");
/// let hash = h.finish();
/// // RFC 6376 §3.4.3: the SHA-256 of an empty body under "simple".
/// assert_eq!(hash.canonical_length, 2);
/// # use base64::Engine;
/// assert_eq!(
///     base64::engine::general_purpose::STANDARD.encode(&hash.digest),
///     "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="
/// );
/// ```
#[derive(Debug, Clone)]
pub struct BodyHasher {
    canon: BodyCanon,
    sink: LimitedHash,
    limit: Option<u64>,
}

impl BodyHasher {
    /// A hasher for the canonicalization and hash algorithm, cutting at `limit` (`l=`) octets
    /// of canonical body if given.
    pub fn new(c: Canonicalization, hash: HashAlgorithm, limit: Option<u64>) -> Self {
        Self {
            canon: BodyCanon::new(c),
            sink: LimitedHash {
                hasher: Hasher::new(hash),
                buf: Vec::with_capacity(BUFFER),
                room: limit.unwrap_or(u64::MAX),
            },
            limit,
        }
    }

    /// Feeds the next chunk of the body (any size, any split point).
    pub fn update(&mut self, chunk: &[u8]) {
        self.canon.update(&mut self.sink, chunk);
    }

    /// Whether `l=` has been reached: further input cannot change the hash (only the reported
    /// canonical length).
    pub fn is_limit_reached(&self) -> bool {
        self.limit.is_some() && self.sink.room == 0
    }

    /// Ends the body and returns the hash.
    pub fn finish(mut self) -> BodyHash {
        self.canon.finish(&mut self.sink);
        self.sink.flush();
        let canonical_length = self.canon.produced();
        BodyHash {
            digest: self.sink.hasher.finish(),
            canonical_length,
            hashed_length: self
                .limit
                .map_or(canonical_length, |l| l.min(canonical_length)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::canon::canonicalize_body;

    fn one_shot(c: Canonicalization, body: &[u8], limit: Option<u64>) -> BodyHash {
        let mut h = BodyHasher::new(c, HashAlgorithm::Sha256, limit);
        h.update(body);
        h.finish()
    }

    fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
        // Bytes weighted towards the ones canonicalization cares about.
        let byte = prop_oneof![
            4 => Just(b' '),
            2 => Just(b'\t'),
            3 => Just(b'\r'),
            3 => Just(b'\n'),
            6 => prop::sample::select(b"abcXYZ.-\x80\xff".to_vec()),
        ];
        prop::collection::vec(byte, 0..400)
    }

    /// Mostly text with occasional whitespace and line ends: long unchanged runs, so the
    /// 64-octet fast path and its hand-over to the state machine are exercised.
    fn texty_body_strategy() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            60 => prop::sample::select(b"abcdefghXYZ.,-".to_vec()),
            // Control octets next to whitespace take the exact path (the fast check flags
            // anything at or below 0x20 near a space or CR).
            1 => prop::sample::select(b"\x00\x0b\x1f\x7f".to_vec()),
            8 => Just(b' '),
            1 => Just(b'\t'),
            2 => Just(b'\r'),
            2 => Just(b'\n'),
        ];
        prop::collection::vec(byte, 0..3000)
    }

    fn canon_strategy() -> impl Strategy<Value = Canonicalization> {
        prop_oneof![
            Just(Canonicalization::Simple),
            Just(Canonicalization::Relaxed)
        ]
    }

    /// Hashes `body` fed in the pieces between the (clamped, sorted) `cuts`.
    fn in_pieces(c: Canonicalization, body: &[u8], cuts: Vec<usize>) -> BodyHash {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|x| x.min(body.len())).collect();
        cuts.sort_unstable();
        let mut h = BodyHasher::new(c, HashAlgorithm::Sha256, None);
        let mut start = 0;
        for cut in cuts {
            h.update(&body[start..cut]);
            start = cut;
        }
        h.update(&body[start..]);
        h.finish()
    }

    proptest! {
        #[test]
        fn every_split_equals_one_shot(
            body in body_strategy(),
            c in canon_strategy(),
            cuts in prop::collection::vec(0usize..400, 0..8),
        ) {
            let expected = one_shot(c, &body, None);
            prop_assert_eq!(in_pieces(c, &body, cuts), expected);
        }

        #[test]
        fn byte_by_byte_equals_one_shot(body in body_strategy(), c in canon_strategy()) {
            let expected = one_shot(c, &body, None);
            let mut h = BodyHasher::new(c, HashAlgorithm::Sha256, None);
            for b in &body {
                h.update(std::slice::from_ref(b));
            }
            prop_assert_eq!(h.finish(), expected);
        }

        #[test]
        fn length_limit_cuts_exactly(body in body_strategy(), c in canon_strategy(), l in 0u64..500) {
            let canonical = canonicalize_body(c, &body);
            let cut = &canonical[..canonical.len().min(usize::try_from(l).unwrap())];
            let mut h = Hasher::new(HashAlgorithm::Sha256);
            h.update(cut);
            let got = one_shot(c, &body, Some(l));
            prop_assert_eq!(got.digest, h.finish());
            prop_assert_eq!(got.canonical_length, canonical.len() as u64);
            prop_assert_eq!(got.hashed_length, cut.len() as u64);
        }

        #[test]
        fn long_runs_split_anywhere(
            body in texty_body_strategy(),
            c in canon_strategy(),
            cuts in prop::collection::vec(0usize..3000, 0..6),
        ) {
            let expected = one_shot(c, &body, None);
            prop_assert_eq!(in_pieces(c, &body, cuts), expected);
            let model = match c {
                Canonicalization::Relaxed => crate::canon::tests::naive_relaxed(&body),
                Canonicalization::Simple => crate::canon::tests::naive_simple(&body),
            };
            prop_assert_eq!(canonicalize_body(c, &body), model);
        }

        #[test]
        fn simple_matches_model(body in body_strategy()) {
            prop_assert_eq!(
                canonicalize_body(Canonicalization::Simple, &body),
                crate::canon::tests::naive_simple(&body)
            );
        }

        #[test]
        fn relaxed_matches_line_model(body in body_strategy()) {
            prop_assert_eq!(
                canonicalize_body(Canonicalization::Relaxed, &body),
                crate::canon::tests::naive_relaxed(&body)
            );
        }
    }

    #[test]
    fn large_body_with_long_runs() {
        // Exercise the 64-byte fast path across chunk splits.
        let mut body = Vec::new();
        for i in 0..2000 {
            body.extend_from_slice(
                b"Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do\r\n",
            );
            if i % 97 == 0 {
                body.extend_from_slice(b"\r\n\t  \r\n");
            }
        }
        for c in [Canonicalization::Simple, Canonicalization::Relaxed] {
            let expected = one_shot(c, &body, None);
            for chunk in [1usize, 7, 63, 64, 65, 127, 4096] {
                let mut h = BodyHasher::new(c, HashAlgorithm::Sha256, None);
                for part in body.chunks(chunk) {
                    h.update(part);
                }
                assert_eq!(h.finish(), expected, "{c} chunk {chunk}");
            }
        }
        assert_eq!(
            canonicalize_body(Canonicalization::Relaxed, &body),
            crate::canon::tests::naive_relaxed(&body)
        );
    }
}
