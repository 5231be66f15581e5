//! Where reports come from: the inputs of an ingest source, enumerated lazily.
//!
//! A [`Source`] is parsed from the string a person gives on the command line:
//!
//! - `maildir:DIR`: every message file in `DIR/new/` and then `DIR/cur/`, whatever its flags,
//!   each listing sorted by file name; `tmp/`, dotfiles and subdirectories are ignored.
//! - `mbox:FILE`: every message of an mbox file (mboxrd or mboxo). A line that starts with
//!   `From ` at the start of the file or after an empty line starts a message; that `From_`
//!   line is not part of the message, nor is the empty line that separates two messages, and
//!   body lines matching `^>+From ` lose one `>` (mboxrd). LF and CRLF files both work.
//! - `file:PATH` or any other string: a path. A file is one input; a directory is walked
//!   recursively, each directory listing sorted by file name, skipping names that start with
//!   `.`, not following symlinked directories (so a symlink loop cannot trap the walk) and not
//!   descending more than [`MAX_DIR_DEPTH`] levels. Every regular file is an input, whatever
//!   its name: the ingest tells XML, gzip, zip, email and JSON apart by content.
//! - a URL (`scheme://...`) is refused here ([`SourceError::Unsupported`]); for `imap://` and
//!   `imaps://` the error says that IMAP mailboxes come through the IMAP source.
//!
//! [`Source::inputs`] checks that the source exists and has the right shape, then returns
//! [`Inputs`], an iterator that reads one input at a time. Memory stays bounded: a directory
//! walk holds one sorted listing per directory level, an mbox is streamed through a
//! [`BufReader`], and no input is larger than [`MAX_MESSAGE_BYTES`]. A file that cannot be
//! read, or a file or mbox message over that size, is an `Err` item naming its location, and
//! the iteration goes on with the next input.

mod mbox;
mod walk;

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::iter::FusedIterator;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use self::mbox::Mbox;
pub use self::mbox::{MboxMessages, mbox_messages};
use self::walk::Walk;

/// The largest input, in bytes, that is read: a file or an mbox message (without its `From_`
/// line) of more than this (64 MiB) is an error item rather than an input.
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// How many directory levels below a path source's root are walked: a directory nested more
/// deeply than this is reported as an error item and not listed.
pub const MAX_DIR_DEPTH: usize = 16;

/// Where reports are read from, as parsed from a command-line string by [`Source::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// A file (one input) or a directory (walked recursively, every regular file an input):
    /// `file:PATH` or a plain path.
    Path(PathBuf),
    /// The messages of a maildir, in `new/` and `cur/`: `maildir:DIR`.
    Maildir(PathBuf),
    /// The messages of an mbox file: `mbox:FILE`.
    Mbox(PathBuf),
}

impl Source {
    /// Parses a source string: `maildir:DIR`, `mbox:FILE`, `file:PATH` (also `file:///PATH`) or
    /// a plain path. The prefixes are matched without regard to ASCII case; to name a path that
    /// itself starts with one of them, write `file:` before it or `./` (relative paths).
    ///
    /// # Errors
    ///
    /// [`SourceError::Empty`] for an empty string, [`SourceError::MissingPath`] for a prefix
    /// with nothing after it, and [`SourceError::Unsupported`] for a URL of another scheme
    /// (`imap://` and `imaps://` among them: IMAP comes through the IMAP source).
    pub fn parse(s: &str) -> Result<Self, SourceError> {
        if s.is_empty() {
            return Err(SourceError::Empty);
        }
        if let Some(rest) = strip_prefix_ignore_case(s, "maildir:") {
            return non_empty(rest, "maildir:").map(Self::Maildir);
        }
        if let Some(rest) = strip_prefix_ignore_case(s, "mbox:") {
            return non_empty(rest, "mbox:").map(Self::Mbox);
        }
        if let Some(rest) = strip_prefix_ignore_case(s, "file:") {
            // `file:///abs/path` is the URL form of `file:/abs/path`.
            let rest = match rest.strip_prefix("//") {
                Some(abs) if abs.starts_with('/') => abs,
                _ => rest,
            };
            return non_empty(rest, "file:").map(Self::Path);
        }
        if let Some(scheme) = url_scheme(s) {
            let hint = if scheme == "imap" || scheme == "imaps" {
                "IMAP mailboxes come through the IMAP source"
            } else {
                "a source is maildir:DIR, mbox:FILE, file:PATH or a path"
            };
            return Err(SourceError::Unsupported { scheme, hint });
        }
        Ok(Self::Path(PathBuf::from(s)))
    }

    /// The path this source names, as given.
    pub fn path(&self) -> &Path {
        match self {
            Self::Path(path) | Self::Maildir(path) | Self::Mbox(path) => path,
        }
    }

    /// Checks the source and returns an iterator over its inputs, read one at a time.
    ///
    /// # Errors
    ///
    /// When the path does not exist or cannot be examined, when a path source is neither a
    /// regular file nor a directory, when a maildir has neither a `cur/` nor a `new/`
    /// directory, and when an mbox is not a regular file or cannot be opened. Problems with
    /// single inputs come later, as `Err` items of the iterator.
    pub fn inputs(&self) -> Result<Inputs, SourceError> {
        self.inputs_with_limit(MAX_MESSAGE_BYTES)
    }

    /// [`Source::inputs`] with another size limit than [`MAX_MESSAGE_BYTES`] (for tests).
    fn inputs_with_limit(&self, limit: u64) -> Result<Inputs, SourceError> {
        let path = absolute(self.path())?;
        let inner = match self {
            Self::Path(_) => {
                let meta = metadata(&path)?;
                if meta.is_file() {
                    Inner::File {
                        path: Some(path),
                        limit,
                    }
                } else if meta.is_dir() {
                    Inner::Walk(Walk::new(vec![path], true, "", limit))
                } else {
                    return Err(SourceError::NotFileOrDirectory { path });
                }
            }
            Self::Maildir(_) => {
                if !metadata(&path)?.is_dir() {
                    return Err(SourceError::NotMaildir { path });
                }
                let mut roots = Vec::new();
                for sub in ["new", "cur"] {
                    let dir = path.join(sub);
                    if is_dir(&dir)? {
                        roots.push(dir);
                    }
                }
                if roots.is_empty() {
                    return Err(SourceError::NotMaildir { path });
                }
                Inner::Walk(Walk::new(roots, false, "maildir:", limit))
            }
            Self::Mbox(_) => {
                // Checked before opening: opening a FIFO for reading would block.
                if !metadata(&path)?.is_file() {
                    return Err(SourceError::NotAFile { path });
                }
                let file = match File::open(&path) {
                    Ok(file) => file,
                    Err(source) => return Err(SourceError::Open { path, source }),
                };
                let location = format!("mbox:{}", path.display());
                Inner::Mbox(Mbox::with_limit(BufReader::new(file), location, limit))
            }
        };
        Ok(Inputs { inner })
    }
}

impl fmt::Display for Source {
    /// The source as a person would write it: `maildir:DIR`, `mbox:FILE` or the path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(f, "{}", path.display()),
            Self::Maildir(path) => write!(f, "maildir:{}", path.display()),
            Self::Mbox(path) => write!(f, "mbox:{}", path.display()),
        }
    }
}

impl FromStr for Source {
    type Err = SourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a source string was refused or a source cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source string is empty.
    #[error("empty source")]
    Empty,
    /// A prefix (`maildir:`, `mbox:` or `file:`) with no path after it.
    #[error("`{prefix}` source has no path")]
    MissingPath {
        /// The prefix, with its colon.
        prefix: &'static str,
    },
    /// A URL of a scheme that this module does not read.
    #[error("unsupported source scheme `{scheme}://`: {hint}")]
    Unsupported {
        /// The scheme, in lowercase.
        scheme: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// The path could not be made absolute (the current directory is unavailable).
    #[error("cannot make {} absolute", .path.display())]
    Absolute {
        /// The path as given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The path does not exist.
    #[error("{} does not exist", .path.display())]
    NotFound {
        /// The absolute path.
        path: PathBuf,
    },
    /// The path exists but cannot be examined.
    #[error("cannot access {}", .path.display())]
    Access {
        /// The absolute path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A path source that is neither a regular file nor a directory.
    #[error("{} is neither a regular file nor a directory", .path.display())]
    NotFileOrDirectory {
        /// The absolute path.
        path: PathBuf,
    },
    /// A maildir source that is not a directory, or has neither `cur/` nor `new/`.
    #[error("{} is not a maildir (it has neither a cur/ nor a new/ directory)", .path.display())]
    NotMaildir {
        /// The absolute path.
        path: PathBuf,
    },
    /// An mbox source that is not a regular file.
    #[error("mbox {} is not a regular file", .path.display())]
    NotAFile {
        /// The absolute path.
        path: PathBuf,
    },
    /// An mbox file that cannot be opened.
    #[error("cannot open mbox {}", .path.display())]
    Open {
        /// The absolute path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// One input of a source: a whole file, or one message of a maildir or an mbox.
#[derive(Clone, PartialEq, Eq)]
pub struct Input {
    /// Where the input came from, for people: `/abs/path/file.xml`,
    /// `maildir:/abs/dir/cur/1234.host:2,S`, `mbox:/abs/file#17` (1-based message number).
    pub location: String,
    /// The bytes (whole file, or one message without its `From_` line).
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Input {
    /// Shows the location and the length, not the (possibly large) bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("location", &self.location)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// An input that could not be read: an error item of [`Inputs`], after which the iteration
/// goes on (except after an mbox read error, which ends that mbox).
#[derive(Debug, thiserror::Error)]
#[error("{location}: {reason}")]
#[non_exhaustive]
pub struct InputError {
    /// Where the input is, written as in [`Input::location`] (a directory that could not be
    /// listed is named by its path).
    pub location: String,
    /// What went wrong, for people.
    pub reason: String,
    /// The I/O error behind it, if there is one.
    #[source]
    pub source: Option<io::Error>,
}

impl InputError {
    fn new(location: String, reason: impl Into<String>, source: Option<io::Error>) -> Self {
        Self {
            location,
            reason: reason.into(),
            source,
        }
    }
}

/// The inputs of a [`Source`], read lazily, one per [`Iterator::next`] call.
///
/// An unreadable file, an unlistable directory, a file or mbox message larger than
/// [`MAX_MESSAGE_BYTES`] and a directory nested more than [`MAX_DIR_DEPTH`] levels deep are
/// `Err` items carrying their location, and the iteration goes on.
#[derive(Debug)]
pub struct Inputs {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// A single file, taken when read.
    File { path: Option<PathBuf>, limit: u64 },
    /// A directory walk (a path source or a maildir).
    Walk(Walk),
    /// An mbox file.
    Mbox(Mbox<BufReader<File>>),
}

impl Iterator for Inputs {
    type Item = Result<Input, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::File { path, limit } => {
                let path = path.take()?;
                Some(read_file(&path, path.display().to_string(), *limit))
            }
            Inner::Walk(walk) => walk.next(),
            Inner::Mbox(mbox) => mbox.next(),
        }
    }
}

impl FusedIterator for Inputs {}

/// Reads a whole file of at most `limit` bytes.
fn read_file(path: &Path, location: String, limit: u64) -> Result<Input, InputError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(source) => return Err(InputError::new(location, "cannot open file", Some(source))),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(source) => {
            return Err(InputError::new(
                location,
                "cannot access file",
                Some(source),
            ));
        }
    };
    if !meta.is_file() {
        return Err(InputError::new(location, "not a regular file", None));
    }
    let too_large = || format!("file is larger than the limit of {limit} bytes; not read");
    if meta.len() > limit {
        return Err(InputError::new(location, too_large(), None));
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    // Read one byte past the limit to notice a file that grew after the length check.
    if let Err(source) = file.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
        return Err(InputError::new(location, "cannot read file", Some(source)));
    }
    if len_u64(bytes.len()) > limit {
        return Err(InputError::new(location, too_large(), None));
    }
    Ok(Input { location, bytes })
}

/// `s` without `prefix`, compared without regard to ASCII case.
pub(crate) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

fn non_empty(path: &str, prefix: &'static str) -> Result<PathBuf, SourceError> {
    if path.is_empty() {
        Err(SourceError::MissingPath { prefix })
    } else {
        Ok(PathBuf::from(path))
    }
}

/// The scheme of a URL-like string (`scheme://...`), in lowercase: at least two characters,
/// a letter then letters, digits, `+`, `-` or `.` (so a Windows drive letter is not one).
fn url_scheme(s: &str) -> Option<String> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && scheme.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

fn absolute(path: &Path) -> Result<PathBuf, SourceError> {
    std::path::absolute(path).map_err(|source| SourceError::Absolute {
        path: path.to_path_buf(),
        source,
    })
}

/// The metadata of `path` (following symlinks), or the source error for it.
fn metadata(path: &Path) -> Result<fs::Metadata, SourceError> {
    fs::metadata(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            SourceError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            SourceError::Access {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Whether `path` is a directory (false if it does not exist).
fn is_dir(path: &Path) -> Result<bool, SourceError> {
    match fs::metadata(path) {
        Ok(meta) => Ok(meta.is_dir()),
        Err(source) if source.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(SourceError::Access {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    /// A fresh directory under the system's temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "mailward-source-test-{}-{n}-{tag}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// Writes `bytes` to `rel` below the directory, creating the parents.
        fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The inputs of `items` that were read, as (location, bytes).
    pub(super) fn ok_items(items: &[Result<Input, InputError>]) -> Vec<(String, Vec<u8>)> {
        items
            .iter()
            .filter_map(|item| item.as_ref().ok())
            .map(|input| (input.location.clone(), input.bytes.clone()))
            .collect()
    }

    /// Writes messages as an mbox: each after a `From_` line and followed by the empty
    /// separating line, with `eol` line endings (the messages use `eol` already).
    pub(super) fn mbox_of(messages: &[&str], eol: &str) -> Vec<u8> {
        messages
            .iter()
            .map(|m| format!("From sender@example.com Mon Jan  1 00:00:00 2024{eol}{m}{eol}"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn parses_source_strings() {
        let path = |s: &str| PathBuf::from(s);
        assert_eq!(
            Source::parse("maildir:/var/mail/x").unwrap(),
            Source::Maildir(path("/var/mail/x"))
        );
        assert_eq!(
            Source::parse("MAILDIR:rel").unwrap(),
            Source::Maildir(path("rel"))
        );
        assert_eq!(
            Source::parse("mbox:reports.mbox").unwrap(),
            Source::Mbox(path("reports.mbox"))
        );
        assert_eq!(
            Source::parse("file:/a/b.xml").unwrap(),
            Source::Path(path("/a/b.xml"))
        );
        assert_eq!(
            Source::parse("file:///a/b").unwrap(),
            Source::Path(path("/a/b"))
        );
        // `file:` makes a path that looks like a prefix explicit.
        assert_eq!(
            Source::parse("file:mbox:x").unwrap(),
            Source::Path(path("mbox:x"))
        );
        assert_eq!(
            Source::parse("reports/").unwrap(),
            Source::Path(path("reports/"))
        );
        assert_eq!(Source::parse("a:b").unwrap(), Source::Path(path("a:b")));
        assert_eq!(
            "mbox:/x".parse::<Source>().unwrap(),
            Source::Mbox(path("/x"))
        );

        for s in ["imap://host/INBOX", "IMAPS://user@host/INBOX"] {
            let err = Source::parse(s).unwrap_err();
            assert!(
                matches!(err, SourceError::Unsupported { .. }),
                "{s}: {err:?}"
            );
            assert!(err.to_string().contains("IMAP source"), "{err}");
        }
        let err = Source::parse("https://example.com/r.xml").unwrap_err();
        assert!(matches!(&err, SourceError::Unsupported { scheme, .. } if scheme == "https"));
        assert!(matches!(Source::parse(""), Err(SourceError::Empty)));
        assert!(matches!(
            Source::parse("maildir:"),
            Err(SourceError::MissingPath { prefix: "maildir:" })
        ));
        assert!(matches!(
            Source::parse("mbox:"),
            Err(SourceError::MissingPath { .. })
        ));
        assert!(matches!(
            Source::parse("file:"),
            Err(SourceError::MissingPath { .. })
        ));

        for s in ["maildir:/m", "mbox:/m", "/p/q"] {
            assert_eq!(Source::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn maildir_lists_new_then_cur_sorted_skipping_tmp_hidden_and_subdirs() {
        let tmp = TempDir::new("maildir");
        let md = tmp.0.join("md");
        tmp.write("md/new/b", b"new b");
        tmp.write("md/new/a", b"new a");
        tmp.write("md/cur/2.host:2,S", b"cur 2 seen");
        tmp.write("md/cur/1.host:2,RS", b"cur 1 replied");
        tmp.write("md/cur/3.host", b"cur 3 no flags");
        tmp.write("md/tmp/0.host", b"in delivery");
        tmp.write("md/cur/.hidden", b"dotfile");
        tmp.write("md/cur/sub/x", b"in a subdirectory");
        tmp.write("md/.Folder/cur/y", b"maildir++ folder");

        let items: Vec<_> = Source::Maildir(md.clone()).inputs().unwrap().collect();
        let loc = |rel: &str| format!("maildir:{}", md.join(rel).display());
        // new/ first, then cur/, each sorted by name (byte order).
        let expected = vec![
            (loc("new/a"), b"new a".to_vec()),
            (loc("new/b"), b"new b".to_vec()),
            (loc("cur/1.host:2,RS"), b"cur 1 replied".to_vec()),
            (loc("cur/2.host:2,S"), b"cur 2 seen".to_vec()),
            (loc("cur/3.host"), b"cur 3 no flags".to_vec()),
        ];
        assert_eq!(items.len(), expected.len(), "{items:?}");
        assert_eq!(ok_items(&items), expected);
    }

    #[test]
    fn maildir_with_only_cur_and_maildir_errors() {
        let tmp = TempDir::new("maildir-cur");
        tmp.write("md/cur/1", b"one");
        let md = tmp.0.join("md");
        let items: Vec<_> = Source::Maildir(md.clone()).inputs().unwrap().collect();
        assert_eq!(
            ok_items(&items),
            vec![(
                format!("maildir:{}", md.join("cur/1").display()),
                b"one".to_vec()
            )]
        );

        tmp.write("plain/file", b"x");
        let err = Source::Maildir(tmp.0.join("plain")).inputs().unwrap_err();
        assert!(matches!(err, SourceError::NotMaildir { .. }), "{err:?}");
        let err = Source::Maildir(tmp.0.join("plain/file"))
            .inputs()
            .unwrap_err();
        assert!(matches!(err, SourceError::NotMaildir { .. }), "{err:?}");
        let err = Source::Maildir(tmp.0.join("missing")).inputs().unwrap_err();
        assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
    }

    #[test]
    fn mbox_source_reads_a_file() {
        let tmp = TempDir::new("mbox");
        let messages = ["Subject: 1\n\none\n", "Subject: 2\n\ntwo\n"];
        let path = tmp.write("box.mbox", &mbox_of(&messages, "\n"));
        let items: Vec<_> = Source::Mbox(path.clone()).inputs().unwrap().collect();
        let loc = |n: usize| format!("mbox:{}#{n}", path.display());
        assert_eq!(
            ok_items(&items),
            [
                (loc(1), messages[0].as_bytes().to_vec()),
                (loc(2), messages[1].as_bytes().to_vec())
            ]
        );
        assert_eq!(items.len(), 2);

        let err = Source::Mbox(tmp.0.clone()).inputs().unwrap_err();
        assert!(matches!(err, SourceError::NotAFile { .. }), "{err:?}");
        let err = Source::Mbox(tmp.0.join("missing")).inputs().unwrap_err();
        assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
    }

    #[test]
    fn directory_walk_is_sorted_recursive_and_skips_hidden() {
        let tmp = TempDir::new("walk");
        let root = tmp.0.join("root");
        tmp.write("root/b.xml", b"b");
        tmp.write("root/a/z.gz", b"z");
        tmp.write("root/a/y/x.zip", b"x");
        tmp.write("root/c", b"c without extension");
        tmp.write("root/B.json", b"upper");
        tmp.write("root/.hidden.xml", b"hidden file");
        tmp.write("root/.git/config", b"hidden dir");
        tmp.write("root/a/.cache/w", b"hidden dir below");

        let items: Vec<_> = Source::Path(root.clone()).inputs().unwrap().collect();
        let loc = |rel: &str| root.join(rel).display().to_string();
        // Depth first, each listing in byte order: "B.json" < "a" < "b.xml" < "c", and in
        // a/, "y" < "z.gz".
        let expected = vec![
            (loc("B.json"), b"upper".to_vec()),
            (loc("a/y/x.zip"), b"x".to_vec()),
            (loc("a/z.gz"), b"z".to_vec()),
            (loc("b.xml"), b"b".to_vec()),
            (loc("c"), b"c without extension".to_vec()),
        ];
        assert_eq!(items.len(), expected.len(), "{items:?}");
        assert_eq!(ok_items(&items), expected);
    }

    #[test]
    fn single_file_source_and_path_errors() {
        let tmp = TempDir::new("single");
        let path = tmp.write("r.xml", b"<feedback/>");
        let items: Vec<_> = Source::parse(&format!("file:{}", path.display()))
            .unwrap()
            .inputs()
            .unwrap()
            .collect();
        assert_eq!(
            ok_items(&items),
            [(path.display().to_string(), b"<feedback/>".to_vec())]
        );
        assert_eq!(items.len(), 1);

        // A relative path is reported absolute (without resolving it).
        let relative = Source::parse("some/./relative/../path").unwrap();
        let err = relative.inputs().unwrap_err();
        let SourceError::NotFound { path } = err else {
            panic!("{err:?}")
        };
        assert!(path.is_absolute());
        assert_eq!(
            path,
            std::path::absolute("some/./relative/../path").unwrap()
        );

        let err = Source::Path(tmp.0.join("missing")).inputs().unwrap_err();
        assert!(err.to_string().ends_with("does not exist"), "{err}");
    }

    #[test]
    fn oversized_file_is_an_error_item_and_the_walk_goes_on() {
        let tmp = TempDir::new("big");
        let root = tmp.0.join("root");
        tmp.write("root/1-small", b"0123456789");
        tmp.write("root/2-big", b"0123456789a");
        tmp.write("root/3-small", b"abc");
        let items: Vec<_> = Source::Path(root.clone())
            .inputs_with_limit(10)
            .unwrap()
            .collect();
        assert_eq!(items.len(), 3);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.location, root.join("2-big").display().to_string());
        assert!(
            err.reason.contains("larger than the limit of 10 bytes"),
            "{err}"
        );
        assert_eq!(
            ok_items(&items),
            [
                (
                    root.join("1-small").display().to_string(),
                    b"0123456789".to_vec()
                ),
                (root.join("3-small").display().to_string(), b"abc".to_vec()),
            ]
        );
        // A single file too.
        let items: Vec<_> = Source::Path(root.join("2-big"))
            .inputs_with_limit(10)
            .unwrap()
            .collect();
        assert!(items.len() == 1 && items[0].is_err(), "{items:?}");
    }

    #[test]
    fn directories_deeper_than_the_limit_are_reported_not_walked() {
        let tmp = TempDir::new("deep");
        let root = tmp.0.join("root");
        // A file `f` in the root and in each of MAX_DIR_DEPTH + 1 nested directories `d`.
        let mut dir = root.clone();
        for _ in 0..=MAX_DIR_DEPTH {
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("f"), b"f").unwrap();
            dir.push("d");
        }
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("f"), b"f").unwrap();

        let items: Vec<_> = Source::Path(root).inputs().unwrap().collect();
        // The root and MAX_DIR_DEPTH levels below it are read; the directory one level
        // deeper is one error item ("d" sorts before "f", so it comes first).
        assert_eq!(items.len(), MAX_DIR_DEPTH + 2, "{items:?}");
        let err = items[0].as_ref().unwrap_err();
        assert!(err.location.ends_with("/d"), "{err}");
        assert!(err.reason.contains("levels below"), "{err}");
        assert!(items[1..].iter().all(Result::is_ok));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_does_not_hang_and_file_symlinks_are_read() {
        use std::os::unix::fs::symlink;
        let tmp = TempDir::new("symlink");
        let root = tmp.0.join("root");
        tmp.write("root/sub/f", b"f");
        tmp.write("outside", b"outside");
        symlink(&root, root.join("sub/loop")).unwrap();
        symlink(&root, root.join("loop2")).unwrap();
        symlink(tmp.0.join("outside"), root.join("link")).unwrap();
        symlink(tmp.0.join("nowhere"), root.join("dangling")).unwrap();

        let (tx, rx) = mpsc::channel();
        let source = Source::Path(root.clone());
        std::thread::spawn(move || {
            let items: Vec<_> = source.inputs().unwrap().collect();
            let _ = tx.send(items);
        });
        let items = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the walk hangs");
        // "dangling" < "link" < "loop2" < "sub": the dangling link is an error item, the
        // link to a file is read, the links to directories are not followed.
        assert_eq!(items.len(), 3, "{items:?}");
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err.location, root.join("dangling").display().to_string());
        assert!(std::error::Error::source(err).is_some());
        assert_eq!(
            ok_items(&items),
            [
                (root.join("link").display().to_string(), b"outside".to_vec()),
                (root.join("sub/f").display().to_string(), b"f".to_vec()),
            ]
        );
    }

    #[test]
    fn errors_display_without_repeating_their_source() {
        let err = InputError::new(
            "/x/y".to_owned(),
            "cannot read file",
            Some(io::Error::other("disk on fire")),
        );
        assert_eq!(err.to_string(), "/x/y: cannot read file");
        assert_eq!(
            std::error::Error::source(&err).unwrap().to_string(),
            "disk on fire"
        );
        let input = Input {
            location: "l".to_owned(),
            bytes: vec![0; 3],
        };
        assert_eq!(format!("{input:?}"), r#"Input { location: "l", len: 3 }"#);
    }
}
