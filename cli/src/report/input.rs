//! Report files from disk: one file read within the input limit (large ones by two threads),
//! and the files under the paths `report summarize` is given.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mailward_reports::Limits;

/// Deepest directory recursion for `summarize DIR` (far beyond any report archive layout).
const MAX_DIR_DEPTH: usize = 16;

/// Reads a file, refusing anything larger than the input limit before reading it.
pub(super) fn read_input(path: &Path, limits: &Limits) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    // Sized once from the file's length (growing a large report's buffer step by step costs
    // copies and fresh pages).
    let size = file.metadata().map_or(0, |m| m.len());
    if let Some(data) = read_in_halves(&file, size, limits) {
        return Ok(data);
    }
    let mut data =
        Vec::with_capacity(usize::try_from(size.min(limits.max_input_bytes)).unwrap_or(0) + 1);
    file.take(limits.max_input_bytes.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read: {e}"))?;
    if data.len() as u64 > limits.max_input_bytes {
        return Err(mailward_reports::Error::Limit(mailward_reports::Limit::InputSize).to_string());
    }
    Ok(data)
}

/// Files from this size are read by two threads, each into its half of the buffer.
const READ_IN_HALVES_MIN: u64 = 4 << 20;

/// Reads a large regular file with two threads, one per half of a buffer sized from its
/// length: most of the time of reading a large report into memory goes to the kernel clearing
/// the buffer's fresh pages, and two threads clear their halves at once. `None` (read it the
/// ordinary way) for small files, one core, a file that changed size, or any error.
fn read_in_halves(file: &std::fs::File, size: u64, limits: &Limits) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt as _;
    if size < READ_IN_HALVES_MIN
        || size > limits.max_input_bytes
        || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) < 2
    {
        return None;
    }
    let len = usize::try_from(size).ok()?;
    let mut data = vec![0u8; len];
    let (head, tail) = data.split_at_mut(len / 2);
    let offset = u64::try_from(head.len()).ok()?;
    let (a, b) = std::thread::scope(|scope| {
        let second = scope.spawn(|| file.read_exact_at(tail, offset));
        (file.read_exact_at(head, 0), second.join())
    });
    // A file that grew while being read is read again the ordinary way.
    let mut probe = [0u8; 1];
    (a.is_ok() && matches!(b, Ok(Ok(()))) && file.read_at(&mut probe, size).ok()? == 0)
        .then_some(data)
}

/// Collects files under the given paths (directories recursively, sorted).
pub(super) fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        if depth > MAX_DIR_DEPTH {
            anyhow::bail!("{}: directories nested too deeply", dir.display());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, depth + 1, out)?;
            } else if p.is_file() {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, 0, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
