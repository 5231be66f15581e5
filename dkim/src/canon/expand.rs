//! LF-only input made SMTP-like: a CR put before every LF that has none, 64 octets at a time.
//!
//! Each 64-octet block gets two bit masks (its LFs and its CRs); a block without a bare LF is
//! copied whole, and one with bare LFs is copied in pieces that each end just before one of
//! them, with a CR written after each piece. Every piece is copied as a fixed 64 octets (the
//! excess is overwritten by the next piece), so the copies compile to a few vector moves
//! instead of a `memcpy` call per line. The masks are plain Rust the compiler turns into
//! vector compares; with the `runtime-avx2` feature they are also compiled for AVX2 and
//! chosen at run time, where one compare and one `movemask` give 32 bits.

use super::{CR, LF};

/// Room `out` must have past what is written for one more block: a block of LFs doubles, and
/// its last piece is copied as 64 octets.
const BLOCK_ROOM: usize = 2 * 64 + 64;

/// Copies `input[..valid]` to `out` with a CR before each LF not preceded by one (`prev`: the
/// octet before `input`), a block of 64 at a time while `input` has 128 octets from the block
/// on (a piece may start anywhere in a block and is read as 64; past `valid` is padding) and
/// `out` has room for a block. Returns the octets read and written.
#[inline(always)]
fn expand_blocks(
    prev: u8,
    input: &[u8],
    valid: usize,
    out: &mut [u8],
    eq_mask: impl Fn(&[u8; 64], u8) -> u64,
) -> (usize, usize) {
    let (mut read, mut written) = (0, 0);
    let mut cr_before = u64::from(prev == CR);
    while read < valid && read + 128 <= input.len() && written + BLOCK_ROOM <= out.len() {
        let Some(block) = input
            .get(read..read + 64)
            .and_then(|b| <&[u8; 64]>::try_from(b).ok())
        else {
            break;
        };
        let live = (valid - read).min(64);
        let crs = eq_mask(block, CR);
        let mut bare = eq_mask(block, LF) & !((crs << 1) | cr_before);
        if live < 64 {
            bare &= (1 << live) - 1;
        }
        cr_before = crs >> 63;
        // `from`: where the next piece starts in the block; the LF a piece stops before starts
        // the next piece, after the CR.
        let mut from = 0;
        while bare != 0 {
            let at = usize::try_from(bare.trailing_zeros()).unwrap_or(63);
            bare &= bare - 1;
            copy64(input, read + from, out, written);
            written += at - from;
            if let Some(slot) = out.get_mut(written) {
                *slot = CR;
            }
            written += 1;
            from = at;
        }
        copy64(input, read + from, out, written);
        written += live - from;
        read += live;
    }
    (read, written)
}

/// [`expand_blocks`] over all of `input`: what is left when fewer than 128 octets remain (all
/// of a short input) is copied into a zero-padded block pair first, so that it goes in blocks
/// too; octet by octet only when `out` is too small for a block.
#[inline(always)]
fn expand_with(
    prev: u8,
    input: &[u8],
    out: &mut [u8],
    eq_mask: impl Fn(&[u8; 64], u8) -> u64 + Copy,
) -> (usize, usize) {
    let (read, written) = expand_blocks(prev, input, input.len(), out, eq_mask);
    let rest = input.get(read..).unwrap_or_default();
    if rest.is_empty() || (rest.len() >= 128 && read > 0) {
        return (read, written); // done, or `out` is full and the next call goes on in blocks
    }
    let prev = match read.checked_sub(1) {
        Some(last) => input.get(last).copied().unwrap_or(prev),
        None => prev,
    };
    let out_rest = out.get_mut(written..).unwrap_or_default();
    let (more_read, more_written) = if rest.len() < 128 {
        let mut padded = [0u8; 256];
        if let Some(slots) = padded.get_mut(..rest.len()) {
            slots.copy_from_slice(rest);
        }
        expand_blocks(prev, &padded, rest.len(), out_rest, eq_mask)
    } else {
        (0, 0)
    };
    let (tail_read, tail_written) = expand_tail(
        if more_read > 0 {
            rest.get(more_read - 1).copied().unwrap_or(prev)
        } else {
            prev
        },
        rest.get(more_read..).unwrap_or_default(),
        out_rest.get_mut(more_written..).unwrap_or_default(),
    );
    (
        read + more_read + tail_read,
        written + more_written + tail_written,
    )
}

/// `out[to..to + 64] = input[from..from + 64]`, both in bounds by the callers' checks.
#[inline(always)]
fn copy64(input: &[u8], from: usize, out: &mut [u8], to: usize) {
    if let (Some(src), Some(dst)) = (input.get(from..from + 64), out.get_mut(to..to + 64)) {
        dst.copy_from_slice(src);
    }
}

/// [`expand_blocks`] one octet at a time, as far as `out` has room (two octets for an LF).
fn expand_tail(mut prev: u8, input: &[u8], out: &mut [u8]) -> (usize, usize) {
    let (mut read, mut written) = (0, 0);
    for &b in input {
        if b == LF && prev != CR {
            match out.get_mut(written..written + 2) {
                Some(slot) => slot.copy_from_slice(b"\r\n"),
                None => break,
            }
            written += 2;
        } else {
            match out.get_mut(written) {
                Some(slot) => *slot = b,
                None => break,
            }
            written += 1;
        }
        prev = b;
        read += 1;
    }
    (read, written)
}

/// Bit `k` set when `block[k] == byte`: a compare per octet, gathered eight at a time by a
/// multiplication (each octet is 0 or 1, and the product moves octet `i` to bit `56 + i`).
#[inline(always)]
fn eq_mask_portable(block: &[u8; 64], byte: u8) -> u64 {
    let mut mask = 0u64;
    for (k, eight) in block.as_chunks::<8>().0.iter().enumerate() {
        let mut word = 0u64;
        for (i, &b) in eight.iter().enumerate() {
            word |= u64::from(b == byte) << (8 * i);
        }
        mask |= (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    mask
}

/// Copies as much of `input` into `out` as fits, with a CR before each LF not preceded by one
/// (`prev`: the octet before `input`; a CR when the previous chunk ended in one). Returns the
/// octets read and written. An `out` of two octets or more always takes some input (192 or
/// more take a block at a time). [`expand_with`] with AVX2 masks where the CPU has them (safe
/// Rust: pulp's run-time detection and intrinsics).
#[cfg(all(feature = "runtime-avx2", target_arch = "x86_64"))]
pub(super) fn expand_bare_lf(prev: u8, input: &[u8], out: &mut [u8]) -> (usize, usize) {
    match pulp::x86::V3::try_new() {
        Some(simd) => simd.vectorize(
            #[inline(always)]
            || {
                expand_with(prev, input, out, |block, byte| {
                    eq_mask_v3(simd, block, byte)
                })
            },
        ),
        None => expand_with(prev, input, out, eq_mask_portable),
    }
}

/// [`expand_with`] as compiled for the target (see the `runtime-avx2` version).
#[cfg(not(all(feature = "runtime-avx2", target_arch = "x86_64")))]
pub(super) fn expand_bare_lf(prev: u8, input: &[u8], out: &mut [u8]) -> (usize, usize) {
    expand_with(prev, input, out, eq_mask_portable)
}

/// [`eq_mask_portable`] in two AVX2 compares and two `movemask`s.
#[cfg(all(feature = "runtime-avx2", target_arch = "x86_64"))]
#[inline(always)]
fn eq_mask_v3(simd: pulp::x86::V3, block: &[u8; 64], byte: u8) -> u64 {
    let (low, high) = block.split_at(32);
    let needle = simd.splat_u8x32(byte);
    let half = |part: &[u8]| -> u64 {
        let Ok(part) = <&[u8; 32]>::try_from(part) else {
            return 0;
        };
        let equal = simd.cmp_eq_u8x32(pulp::cast(*part), needle);
        // movemask's i32 holds the 32 lane bits; as u32 they are the low half of the mask.
        u64::from(
            simd.avx2
                ._mm256_movemask_epi8(pulp::cast(equal))
                .cast_unsigned(),
        )
    };
    half(low) | (half(high) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion by definition: a CR before every LF whose previous octet is not CR.
    fn model(prev: u8, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut before = prev;
        for &b in input {
            if b == LF && before != CR {
                out.push(CR);
            }
            out.push(b);
            before = b;
        }
        out
    }

    /// Runs [`expand_bare_lf`] over `input` with an output buffer of `room` octets, taking
    /// what each call read and wrote, as the body canonicalizer does.
    fn expand_all(prev: u8, input: &[u8], room: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; room];
        let mut rest = input;
        let mut before = prev;
        while !rest.is_empty() {
            let (read, written) = expand_bare_lf(before, rest, &mut buf);
            assert!(read > 0, "no progress with {room} octets of room");
            out.extend_from_slice(&buf[..written]);
            before = rest[read - 1];
            rest = &rest[read..];
        }
        out
    }

    #[test]
    fn masks_agree() {
        let block: [u8; 64] = std::array::from_fn(|k| [b'a', CR, LF, b' '][k * 7 % 4]);
        for byte in [CR, LF, b'a', b'z'] {
            let want = (0..64).fold(0u64, |m, k| m | (u64::from(block[k] == byte) << k));
            assert_eq!(eq_mask_portable(&block, byte), want);
            #[cfg(all(feature = "runtime-avx2", target_arch = "x86_64"))]
            if let Some(simd) = pulp::x86::V3::try_new() {
                assert_eq!(eq_mask_v3(simd, &block, byte), want);
            }
        }
    }

    #[test]
    fn crlf_left_alone_bare_lf_gets_cr() {
        let line = b"Some text of a line, long enough to fill a block or two here\n";
        let input: Vec<u8> = line.repeat(10);
        assert_eq!(expand_all(LF, &input, 4096), model(LF, &input));
        let crlf: Vec<u8> = b"Some text\r\n".repeat(30);
        assert_eq!(expand_all(LF, &crlf, 4096), crlf);
        // An LF at the start after a held CR is not bare; after anything else it is.
        assert_eq!(expand_all(CR, &[LF; 200], 4096)[..2], [LF, CR]);
        assert_eq!(expand_all(b'x', &[LF; 200], 4096).len(), 400);
    }

    proptest::proptest! {
        /// Any mix of text, CR, LF and CRLF, expanded through buffers of any size from two
        /// octets (the octet-by-octet path) to several blocks, equals the octet model.
        #[test]
        fn expansion_matches_model(
            input in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b' ', b'.', CR, LF, LF, b'q']),
                0..1500,
            ),
            prev in proptest::sample::select(vec![CR, LF, b'a']),
            room in 2usize..700,
        ) {
            proptest::prop_assert_eq!(expand_all(prev, &input, room), model(prev, &input));
        }
    }
}
