//! Writing a mailbox out: a Maildir, an mbox or one file per message, on a few threads, with a
//! summary of the message sizes.

use std::io::{self, Write as _};
use std::path::Path;

use super::dates::asctime;
use super::mailbox::{maildir_path, message_date, report_email};
use super::rng::u64_of;
use super::spec::MailboxSpec;

/// Writes the mailbox as a Maildir: `dir/{new,cur,tmp}`, messages at [`maildir_path`], each
/// file's modification time set to its [`message_date`]. Uses up to 4 threads (each message is
/// independent, so the output does not depend on the thread count).
///
/// # Errors
///
/// Any I/O error creating the directories or writing a file.
pub fn write_maildir(spec: &MailboxSpec, dir: &Path) -> io::Result<()> {
    write_output(spec, dir, OutputFormat::Maildir).map(|_| ())
}

/// Output layouts of [`write_output`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A Maildir (see [`write_maildir`]).
    Maildir,
    /// One mboxrd file: a `From ` line before each message, lines starting with `>*From `
    /// quoted with one more `>`, CRLF turned into LF (the usual mbox line end).
    Mbox,
    /// One file per message, `{index:08}.eml`, bytes exactly as [`report_email`].
    Files,
}

/// Sizes of the messages written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SizeSummary {
    /// Number of messages.
    pub messages: usize,
    /// Sum of the message sizes in bytes (as [`report_email`] returns them).
    pub total_bytes: u64,
    /// Mean size (rounded down).
    pub mean: u64,
    /// Median size.
    pub median: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest message.
    pub max: u64,
}

impl SizeSummary {
    /// Summarises `sizes` (sorted in place).
    pub fn from_sizes(sizes: &mut [u64]) -> Self {
        sizes.sort_unstable();
        let n = sizes.len();
        let total: u64 = sizes.iter().sum();
        let rank = |q: usize| -> u64 {
            if n == 0 {
                return 0;
            }
            // Nearest rank: ceil(q/100 * n), 1-based.
            let r = (q * n).div_ceil(100).clamp(1, n);
            sizes.get(r - 1).copied().unwrap_or(0)
        };
        Self {
            messages: n,
            total_bytes: total,
            mean: total.checked_div(u64_of(n)).unwrap_or(0),
            median: rank(50),
            p99: rank(99),
            max: sizes.last().copied().unwrap_or(0),
        }
    }
}

impl std::fmt::Display for SizeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages, {} bytes, mean {} B, median {} B, p99 {} B, max {} B",
            self.messages, self.total_bytes, self.mean, self.median, self.p99, self.max
        )
    }
}

/// Writes the mailbox in `format` at `out` (a directory for [`OutputFormat::Maildir`] and
/// [`OutputFormat::Files`], a file for [`OutputFormat::Mbox`]) and returns the message sizes.
///
/// # Errors
///
/// Any I/O error.
pub fn write_output(
    spec: &MailboxSpec,
    out: &Path,
    format: OutputFormat,
) -> io::Result<SizeSummary> {
    let mut sizes = match format {
        OutputFormat::Maildir => {
            for sub in ["new", "cur", "tmp"] {
                std::fs::create_dir_all(out.join(sub))?;
            }
            parallel_write(spec, |index, bytes| {
                let path = out.join(maildir_path(spec, index));
                write_file(&path, bytes, message_date(spec, index))
            })?
        }
        OutputFormat::Files => {
            std::fs::create_dir_all(out)?;
            parallel_write(spec, |index, bytes| {
                let path = out.join(format!("{index:08}.eml"));
                write_file(&path, bytes, message_date(spec, index))
            })?
        }
        OutputFormat::Mbox => {
            let file = std::fs::File::create(out)?;
            let mut w = io::BufWriter::new(file);
            let mut sizes = Vec::with_capacity(spec.messages);
            for index in 0..spec.messages {
                let bytes = report_email(spec, index);
                sizes.push(u64_of(bytes.len()));
                write_mbox_message(&mut w, &bytes, message_date(spec, index))?;
            }
            w.flush()?;
            sizes
        }
    };
    Ok(SizeSummary::from_sizes(&mut sizes))
}

/// Generates every message on up to 4 threads (interleaved indices) and hands each to `sink`;
/// returns the sizes in index order.
fn parallel_write(
    spec: &MailboxSpec,
    sink: impl Fn(usize, &[u8]) -> io::Result<()> + Sync,
) -> io::Result<Vec<u64>> {
    let threads = std::thread::available_parallelism()
        .map(std::num::NonZeroUsize::get)
        .unwrap_or(1)
        .clamp(1, 4);
    let sink = &sink;
    let parts: Vec<io::Result<Vec<u64>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> io::Result<Vec<u64>> {
                    let mut sizes = Vec::new();
                    for index in (t..spec.messages).step_by(threads) {
                        let bytes = report_email(spec, index);
                        sizes.push(u64_of(bytes.len()));
                        sink(index, &bytes)?;
                    }
                    Ok(sizes)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("generator thread panicked")))
            })
            .collect()
    });
    let parts = parts.into_iter().collect::<io::Result<Vec<_>>>()?;
    let mut sizes = vec![0u64; spec.messages];
    for (t, part) in parts.iter().enumerate() {
        for (k, size) in part.iter().enumerate() {
            if let Some(slot) = sizes.get_mut(t + k * threads) {
                *slot = *size;
            }
        }
    }
    Ok(sizes)
}

fn write_file(path: &Path, bytes: &[u8], date: u64) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date);
    file.set_modified(mtime)
}

fn write_mbox_message(w: &mut impl io::Write, message: &[u8], date: u64) -> io::Result<()> {
    writeln!(w, "From MAILER-DAEMON {}", asctime(date))?;
    for line in message.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let after_quotes = line.iter().position(|b| *b != b'>').unwrap_or(line.len());
        if line
            .get(after_quotes..)
            .is_some_and(|l| l.starts_with(b"From "))
        {
            w.write_all(b">")?;
        }
        w.write_all(line)?;
        w.write_all(b"\n")?;
    }
    // The message ends with CRLF, so the split above already produced one empty last line;
    // the blank line separating messages follows it.
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::reportmail::{maildir_path, message_date, report_email};

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mailward-reportmail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn maildir_mbox_and_files() {
        let spec = MailboxSpec::new(120, 3);
        let dir = temp_dir("maildir");
        let sizes = write_output(&spec, &dir, OutputFormat::Maildir).unwrap();
        assert_eq!(sizes.messages, 120);
        let mut total = 0;
        for index in 0..spec.messages {
            let bytes = std::fs::read(dir.join(maildir_path(&spec, index))).unwrap();
            assert_eq!(bytes, report_email(&spec, index));
            total += bytes.len() as u64;
        }
        assert_eq!(sizes.total_bytes, total);
        assert_eq!(std::fs::read_dir(dir.join("new")).unwrap().count(), 2);
        assert_eq!(std::fs::read_dir(dir.join("cur")).unwrap().count(), 118);
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        let meta = std::fs::metadata(dir.join(maildir_path(&spec, 5))).unwrap();
        let mtime = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(mtime.as_secs(), message_date(&spec, 5));
        std::fs::remove_dir_all(&dir).unwrap();

        let files = temp_dir("files");
        write_output(&spec, &files, OutputFormat::Files).unwrap();
        assert_eq!(
            std::fs::read(files.join("00000007.eml")).unwrap(),
            report_email(&spec, 7)
        );
        std::fs::remove_dir_all(&files).unwrap();

        let mbox_dir = temp_dir("mbox");
        std::fs::create_dir_all(&mbox_dir).unwrap();
        let mbox = mbox_dir.join("reports.mbox");
        write_output(&spec, &mbox, OutputFormat::Mbox).unwrap();
        let text = std::fs::read_to_string(&mbox).unwrap();
        assert!(!text.contains('\r'));
        assert_eq!(text.lines().filter(|l| l.starts_with("From ")).count(), 120);
        assert!(text.starts_with("From MAILER-DAEMON "));
        std::fs::remove_dir_all(&mbox_dir).unwrap();
    }

    #[test]
    fn size_summary() {
        let mut sizes: Vec<u64> = (1..=100).rev().collect();
        let s = SizeSummary::from_sizes(&mut sizes);
        assert_eq!((s.messages, s.total_bytes, s.mean), (100, 5050, 50));
        assert_eq!((s.median, s.p99, s.max), (50, 99, 100));
        assert_eq!(SizeSummary::from_sizes(&mut []), SizeSummary::default());
    }
}
