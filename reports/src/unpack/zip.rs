//! The zip archive's directory (APPNOTE.TXT), read by hand: where each entry's compressed
//! bytes are, under the limits, before anything is inflated. [`super::Ctx::unzip`] inflates
//! them through the same budget as gzip.
//!
//! Why not the `zip` crate (9.9, the version that builds here and declares the workspace's
//! rust-version): it reads the whole central directory into memory before the caller can see
//! how many entries there are, so [`Limits::max_zip_entries`] could only be applied after the
//! work it is there to prevent. Measured with a release build on this machine: a 66 MB zip64
//! archive (under the default 64 MiB input limit) whose directory lists 1.3 million entries
//! takes `ZipArchive::new` 1.8 s and 339 MB of peak memory; a zip32 one with 65 534 entries,
//! 44 ms and 22 MB. This reader refuses the first (zip64, below) and the second
//! ([`Limit::ZipEntries`], from the end record's count) in about 20 µs, before reading any
//! entry. The crate also keys entries by name, so entries that share a name (the
//! overlapping-entries bomb of `tests/limits.rs`) collapse into one unless that is asked for
//! separately, and it would add ten crates (`getrandom`, `zeroize`, `indexmap`, `typed-path`,
//! ...) to a crate that does no I/O, to replace the hundred lines below; the inflating and the
//! limits would stay ours. What this reader does not do: zip64, encryption, compression
//! methods other than stored and deflate, and archives with bytes prepended (self-extracting
//! ones); none of them occurs in DMARC reports, and each is refused with [`Error::Zip`].

use crate::error::{Error, Limit, Limits, clip};

/// One zip entry located through the central directory.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) name: String,
    pub(super) method: u16,
    /// The compressed bytes (bounded by the input, never by a header's claim alone).
    pub(super) data: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

fn usize_of(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Reads the central directory (APPNOTE.TXT §4.3.16 end of central directory record, §4.3.12
/// central directory header, §4.3.7 local file header).
pub(super) fn entries<'a>(input: &'a [u8], limits: &Limits) -> Result<Vec<Entry<'a>>, Error> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const CDH: u32 = 0x0201_4b50;
    const LFH: u32 = 0x0403_4b50;
    // The EOCD record is 22 bytes plus a comment of at most 65 535 bytes.
    let tail_start = input.len().saturating_sub(22 + 65_535);
    let tail = input.get(tail_start..).unwrap_or_default();
    let eocd = tail
        .windows(4)
        .rposition(|w| w == EOCD)
        .map(|p| p + tail_start)
        .ok_or_else(|| Error::Truncated("zip archive without end of central directory".into()))?;
    let bad = |what: &str| Error::zip(what);
    let total = u16_at(input, eocd + 10).ok_or_else(|| Error::Truncated("zip EOCD".into()))?;
    let cd_offset = u32_at(input, eocd + 16).ok_or_else(|| Error::Truncated("zip EOCD".into()))?;
    if total == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        return Err(bad("zip64 archives are not supported"));
    }
    if usize::from(total) > limits.max_zip_entries {
        return Err(Error::Limit(Limit::ZipEntries));
    }
    let mut pos = usize_of(cd_offset);
    let mut entries = Vec::new();
    let mut local_offsets: Vec<usize> = Vec::new();
    for _ in 0..total {
        if u32_at(input, pos) != Some(CDH) {
            return Err(Error::Truncated("zip central directory".into()));
        }
        let field = |off: usize| u16_at(input, pos + off).map(usize::from);
        let flags = field(8).ok_or_else(|| bad("central directory"))?;
        let method = u16_at(input, pos + 10).ok_or_else(|| bad("central directory"))?;
        let csize = u32_at(input, pos + 20).ok_or_else(|| bad("central directory"))?;
        let name_len = field(28).ok_or_else(|| bad("central directory"))?;
        let extra_len = field(30).ok_or_else(|| bad("central directory"))?;
        let comment_len = field(32).ok_or_else(|| bad("central directory"))?;
        let local = usize_of(u32_at(input, pos + 42).ok_or_else(|| bad("central directory"))?);
        let name_bytes = input
            .get(pos + 46..pos + 46 + name_len)
            .ok_or_else(|| Error::Truncated("zip central directory".into()))?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        pos = pos + 46 + name_len + extra_len + comment_len;
        if name.ends_with('/') {
            continue;
        }
        if flags & 1 != 0 {
            return Err(bad("encrypted zip entries are not supported"));
        }
        if csize == 0xFFFF_FFFF {
            return Err(bad("zip64 entries are not supported"));
        }
        // Several central directory entries pointing at the same data is the overlapping
        // "zip bomb" construction; real archives never do it.
        if local_offsets.contains(&local) {
            return Err(bad("overlapping entries"));
        }
        local_offsets.push(local);
        if u32_at(input, local) != Some(LFH) {
            return Err(Error::Truncated(format!("zip entry {:?}", clip(&name))));
        }
        let lname = u16_at(input, local + 26).map(usize::from).unwrap_or(0);
        let lextra = u16_at(input, local + 28).map(usize::from).unwrap_or(0);
        let start = local + 30 + lname + lextra;
        let end = start.saturating_add(usize_of(csize));
        let data = input
            .get(start..end)
            .ok_or_else(|| Error::Truncated(format!("zip entry {:?}", clip(&name))))?;
        entries.push(Entry { name, method, data });
    }
    Ok(entries)
}
