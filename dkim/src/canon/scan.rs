//! The block scan of body canonicalization: which octets of a 64-octet block may need the
//! state machine (relaxed pairs, simple line starts), as a mask per block and as a run of clean
//! blocks. Plain Rust the compiler vectorizes; the run of clean blocks is also dispatched to
//! AVX2.

use super::{CR, LF, SP, TAB};

/// Whether the adjacent octets `a`, `b` may need the state machine under `relaxed` (then both
/// go through it): a tab at `a`; two octets at most 0x20 side by side (whitespace next to
/// whitespace, a line end or a control octet), except CR LF and LF CR; a CR not followed by LF
/// or an LF not preceded by CR.
///
/// Every octet relaxed canonicalization can change is in such a pair: a tab is `a` of its
/// own pair; a space next to whitespace, a line end or a control octet forms a low pair with
/// that neighbour; so does a CR after one of these; a CR without LF or an LF without CR is
/// caught by the exclusive or. The rule flags more than needed (the state machine handles
/// every octet exactly; a flagged octet only costs time), never less, and looks at two
/// octets instead of three, which makes the vector loop shorter.
///
/// LF CR is left out: with the pairs around it unflagged it can only be CRLF CRLF, an empty
/// line, which relaxed canonicalization keeps unless nothing but empty lines follows (RFC 6376
/// §3.4.4). A run of unchanged octets that ends in empty lines holds them back instead
/// (`BodyCanon::end_run`), so paragraph breaks pass through with the text around them.
///
/// Both line pairs are the low pairs whose octets differ in exactly the bits 0x07 (CR ^ LF),
/// which is one compare in the vector loop. The other such pairs are two control octets
/// (relaxed leaves them as they are) or a TAB and 0x0E, and a TAB is flagged by its own pair.
#[inline(always)]
pub(super) fn special_pair_relaxed(a: u8, b: u8) -> bool {
    const LINE_PAIR: u8 = CR ^ LF;
    let low_pair = (a <= SP) & (b <= SP) & (a ^ b != LINE_PAIR);
    (a == TAB) | low_pair | ((a == CR) ^ (b == LF))
}

/// Whether octet `c` needs the state machine under `simple`, given its predecessor `p`: a CR
/// starting a line (possible empty line) or a bare LF.
#[inline(always)]
pub(super) fn special_simple(p: u8, c: u8) -> bool {
    ((c == CR) & (p == LF)) | ((c == LF) & (p != CR))
}

/// [`skip_clean`] compiled for x86-64-v3 too and chosen at run time (safe Rust: the dispatch is
/// pulp's), twice as wide with AVX2; the baseline build alone without the `runtime-avx2`
/// feature.
#[cfg(feature = "runtime-avx2")]
pub(super) fn skip_clean_dispatched(chunk: &[u8], start: usize, relaxed: bool) -> usize {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || skip_clean(chunk, start, relaxed),
    )
}

/// [`skip_clean`] as compiled for the target (the `runtime-avx2` feature is off).
#[cfg(not(feature = "runtime-avx2"))]
pub(super) fn skip_clean_dispatched(chunk: &[u8], start: usize, relaxed: bool) -> usize {
    skip_clean(chunk, start, relaxed)
}

/// The end of the clean 64-octet blocks from `start` on (a block boundary after a clean
/// block, so `start` ≥ 64): `start` itself when the first is not clean. A block is clean under
/// the rules of [`special_mask`], each block checked with the octet after it (relaxed: pairs of
/// an octet and its successor) or before it (simple: an octet and its predecessor), as
/// `special_mask` does with its window; the loop only ORs the flags. Always inlined, so that
/// inside the caller's run-time dispatch it is compiled for each instruction set.
#[inline(always)]
pub(super) fn skip_clean(chunk: &[u8], start: usize, relaxed: bool) -> usize {
    let base = if relaxed {
        start
    } else {
        start.saturating_sub(1)
    };
    let (Some(firsts), Some(seconds)) = (chunk.get(base..), chunk.get(base + 1..)) else {
        return start;
    };
    let mut pos = start;
    for (a, b) in firsts
        .as_chunks::<64>()
        .0
        .iter()
        .zip(seconds.as_chunks::<64>().0)
    {
        let mut any = 0u8;
        if relaxed {
            for (&x, &y) in a.iter().zip(b) {
                any |= u8::from(special_pair_relaxed(x, y));
            }
        } else {
            for (&x, &y) in a.iter().zip(b) {
                any |= u8::from(special_simple(x, y));
            }
        }
        if any != 0 {
            break;
        }
        pos += 64;
    }
    pos
}

/// Bit `k` set when octet `chunk[i + k]` must go through the state machine, for the block of
/// up to 64 octets at `i` (`prev`: the octet before the chunk). The lanes past the chunk are
/// clear; past its end stand spaces, which flag for the state machine whatever must wait for
/// the next chunk (white space, a line end).
///
/// Inside the chunk the window of [`special_mask`] is borrowed. At the chunk's start and end,
/// where the window would reach outside, a window one octet (or a few) inward is borrowed and
/// its mask shifted into place, with the one octet it leaves out checked on its own: building
/// a padded window there cost a store of each octet and a stalled vector load of them, twice
/// per chunk. Only a chunk shorter than a window is copied.
#[inline(always)]
pub(super) fn block_mask(chunk: &[u8], i: usize, prev: u8, relaxed: bool) -> u64 {
    let len = chunk.len();
    let avail = len.saturating_sub(i).min(64);
    if avail == 0 {
        return 0;
    }
    let window = |at: usize| {
        chunk
            .get(at..at + 66)
            .and_then(|w| <&[u8; 66]>::try_from(w).ok())
    };
    let octet = |k: usize| chunk.get(k).copied().unwrap_or(SP);
    if let Some(w) = i.checked_sub(1).and_then(window) {
        return special_mask(w, relaxed);
    }
    if i == 0
        && let Some(w) = window(0)
    {
        // The window's block is octets 1..65; octet 0 is flagged by its pair with `prev`
        // (and, under relaxed, with octet 1).
        let first = if relaxed {
            special_pair_relaxed(prev, octet(0)) | special_pair_relaxed(octet(0), octet(1))
        } else {
            special_simple(prev, octet(0))
        };
        return (special_mask(w, relaxed) << 1) | u64::from(first);
    }
    if i >= 1
        && let Some(w) = len.checked_sub(66).and_then(window)
    {
        // The window's block is octets len - 65 .. len - 1, which holds the block's octets but
        // the last, from block octet 64 - avail on; the last octet is flagged by its pair with
        // the one before it and, under relaxed, with the space after the chunk.
        let last = if relaxed {
            special_pair_relaxed(octet(len - 2), octet(len - 1))
                | special_pair_relaxed(octet(len - 1), SP)
        } else {
            special_simple(octet(len - 2), octet(len - 1))
        };
        let inner = special_mask(w, relaxed)
            .checked_shr(u32::try_from(65 - avail).unwrap_or(64))
            .unwrap_or(0);
        return inner | (u64::from(last) << (avail - 1));
    }
    // A chunk shorter than a window: the octet before, the chunk, spaces.
    let mut padded = [SP; 66];
    if let Some(first) = padded.first_mut() {
        *first = match i.checked_sub(1) {
            Some(before) => octet(before),
            None => prev,
        };
    }
    let rest = chunk.get(i..(i + 65).min(len)).unwrap_or_default();
    if let Some(slots) = padded.get_mut(1..1 + rest.len()) {
        slots.copy_from_slice(rest);
    }
    let mask = special_mask(&padded, relaxed);
    if avail < 64 {
        mask & ((1u64 << avail) - 1)
    } else {
        mask
    }
}

/// Bit `k` set when octet `w[1 + k]` must go through the state machine (0 for a block passed
/// through unchanged).
#[inline(always)]
pub(super) fn special_mask(w: &[u8; 66], relaxed: bool) -> u64 {
    let (prev, (cur, _)) = split3(w);
    let mut flags = [0u8; 64];
    let pairs = flags.iter_mut().zip(prev.iter().zip(cur));
    // Two monomorphic loops (not a function pointer) so that each vectorises. Under relaxed,
    // lane k flags the pair (w[k], w[k + 1]): block octets k - 1 and k.
    // The OR of all flags is taken in the same pass (vector registers), so a clean block
    // costs no reload of the flags.
    let mut any = 0u8;
    if relaxed {
        for (f, (&a, &b)) in pairs {
            *f = u8::from(special_pair_relaxed(a, b));
            any |= *f;
        }
    } else {
        for (f, (&p, &c)) in pairs {
            *f = u8::from(special_simple(p, c));
            any |= *f;
        }
    }
    // Relaxed: the last pair (block octet 63 and the next octet) is outside the lanes.
    let last_pair = relaxed
        && special_pair_relaxed(
            w.get(64).copied().unwrap_or_default(),
            w.get(65).copied().unwrap_or_default(),
        );
    if any == 0 && !last_pair {
        return 0;
    }
    let mut words = [0u64; 8];
    for (word, eight) in words.iter_mut().zip(flags.chunks_exact(8)) {
        *word = u64::from_le_bytes(<[u8; 8]>::try_from(eight).unwrap_or([0; 8]));
    }
    let mut lanes = 0u64;
    for (k, word) in words.iter().enumerate() {
        // Gathers the low bit of each octet (all 0 or 1) into one octet, octet i → bit i.
        let bits = word.wrapping_mul(0x0102_0408_1020_4080) >> 56;
        lanes |= bits << (8 * k);
    }
    if relaxed {
        // Both octets of a flagged pair: lane k is block octets k - 1 (bit k - 1) and k.
        lanes | (lanes >> 1) | (u64::from(last_pair) << 63)
    } else {
        lanes
    }
}

/// Splits a 66-byte window into the previous, current and next 64-byte views.
#[inline]
fn split3(w: &[u8; 66]) -> (&[u8; 64], (&[u8; 64], &[u8; 64])) {
    let (prev, _) = w.split_first_chunk::<64>().unwrap_or((&[0; 64], &[]));
    let cur = w
        .get(1..65)
        .and_then(|s| <&[u8; 64]>::try_from(s).ok())
        .unwrap_or(&[0; 64]);
    let (_, next) = w.split_last_chunk::<64>().unwrap_or((&[], &[0; 64]));
    (prev, (cur, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The clean-block scan, compiled for the baseline (called directly here) and as
        /// dispatched at run time (x86-64-v3 where the CPU has it), against a block-by-block
        /// model, on text that is mostly clean with the odd tab, line end or double space.
        #[test]
        fn skip_clean_matches_block_model(
            clean in proptest::collection::vec(
                proptest::sample::select(b"abcdefgh ijklmnop qrstuvwxyz.".to_vec()),
                64..1200,
            ),
            specials in proptest::collection::vec(
                (
                    proptest::prelude::any::<proptest::sample::Index>(),
                    proptest::sample::select(vec![
                        &b"\t"[..],
                        b"\r\n",
                        b"\r\n\r\n",
                        b"  ",
                        b"\n",
                        b"\r",
                    ]),
                ),
                0..3,
            ),
            start in proptest::sample::select(vec![64usize, 128, 192]),
            relaxed: bool,
        ) {
            let mut body = clean;
            for (at, special) in specials {
                let at = at.index(body.len());
                body.splice(at..at, special.iter().copied());
            }
            let want = skip_clean_model(&body, start, relaxed);
            proptest::prop_assert_eq!(skip_clean(&body, start, relaxed), want);
            proptest::prop_assert_eq!(skip_clean_dispatched(&body, start, relaxed), want);
        }

        /// [`block_mask`] at every block of a chunk (and a few positions between) equals the
        /// mask of a window built octet by octet: the octet before the block (`prev` at the
        /// chunk's start), the block and the octet after it, spaces past the chunk's end.
        #[test]
        fn block_mask_matches_padded_windows(
            chunk in proptest::collection::vec(
                proptest::sample::select(b"ab  \t\r\n\r\n.x\x0e\x07".to_vec()),
                0..300,
            ),
            prev in proptest::sample::select(b"a \r\n\t".to_vec()),
            relaxed: bool,
        ) {
            let mut starts: Vec<usize> = (0..chunk.len()).step_by(64).collect();
            starts.extend((0..chunk.len()).step_by(37));
            for i in starts {
                let mut window = [SP; 66];
                window[0] = if i == 0 { prev } else { chunk[i - 1] };
                for (slot, &b) in window[1..].iter_mut().zip(&chunk[i..]) {
                    *slot = b;
                }
                let avail = (chunk.len() - i).min(64);
                let want = special_mask(&window, relaxed) & (u64::MAX >> (64 - avail));
                proptest::prop_assert_eq!(block_mask(&chunk, i, prev, relaxed), want, "at {}", i);
            }
        }
    }

    /// [`skip_clean`] one block and one pair at a time: the block at `b` (64 octets, each
    /// paired with the next, from `start` under relaxed and from the octet before it under
    /// simple) is clean when no pair is flagged, and only blocks whose last pair lies inside
    /// `chunk` are read.
    fn skip_clean_model(chunk: &[u8], start: usize, relaxed: bool) -> usize {
        let mut b = if relaxed { start } else { start - 1 };
        let mut pos = start;
        while b + 64 < chunk.len() {
            let flagged = (b..b + 64).any(|k| {
                let (x, y) = (chunk[k], chunk[k + 1]);
                if relaxed {
                    special_pair_relaxed(x, y)
                } else {
                    special_simple(x, y)
                }
            });
            if flagged {
                break;
            }
            pos += 64;
            b += 64;
        }
        pos
    }
}
