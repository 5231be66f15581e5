//! Randomness: a SplitMix64 generator keyed by `(seed, purpose, index)`, so that every choice
//! is a pure function of the spec and the index; no clock, no environment, no `rand` crate.

pub(super) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
pub(super) const SALT_PLAN: u64 = 1;
pub(super) const SALT_RECORDS: u64 = 2;
pub(super) const SALT_DOMAIN: u64 = 3;
pub(super) const SALT_REPORT_ID: u64 = 4;
pub(super) const SALT_MESSAGE_ID: u64 = 5;
pub(super) const SALT_ENVELOPE: u64 = 6;
pub(super) const SALT_DUPLICATE: u64 = 7;
pub(super) const SALT_OTHER: u64 = 8;

/// SplitMix64's finaliser: a bijection on `u64`.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A key for `(seed, salt, n)`; for a fixed seed and salt it is a bijection of `n` (an xor with
/// a constant, then [`mix64`]), which makes ids derived from it unique per index.
pub(super) fn key(seed: u64, salt: u64, n: u64) -> u64 {
    mix64(n ^ mix64(seed ^ mix64(salt.wrapping_mul(GOLDEN))))
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for test data.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64, salt: u64, n: u64) -> Self {
        Self {
            state: key(seed, salt, n),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in `0..n` (0 when `n == 0`), by multiply-shift.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    pub(crate) fn below_usize(&mut self, n: usize) -> usize {
        usize_of(self.below(u64_of(n)))
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo.saturating_add(self.below(hi.saturating_sub(lo).saturating_add(1)))
    }

    /// True with probability `permille / 1000`.
    pub(crate) fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below_usize(items.len()))
    }

    /// Roughly log-uniform in `lo..=hi` (a random power-of-two band, then uniform inside it).
    pub(super) fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let lo = lo.max(1);
        let hi = hi.max(lo);
        let lo_bits = u64::from(lo.ilog2());
        let hi_bits = u64::from(hi.ilog2());
        let band = self.range(lo_bits, hi_bits);
        let band_lo = 1u64
            .checked_shl(u32::try_from(band).unwrap_or(0))
            .unwrap_or(1);
        let band_hi = band_lo.saturating_mul(2).saturating_sub(1);
        self.range(band_lo.max(lo), band_hi.min(hi))
    }

    pub(crate) fn token(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| char::from(self.pick(alphabet).copied().unwrap_or(b'a')))
            .collect()
    }
}

pub(super) fn u64_of(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

pub(super) fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

pub(super) fn u8_of(n: u64) -> u8 {
    u8::try_from(n & 0xFF).unwrap_or(0)
}

pub(super) fn u16_of(n: u64) -> u16 {
    u16::try_from(n & 0xFFFF).unwrap_or(0)
}

pub(super) const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub(super) const BASE64_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
