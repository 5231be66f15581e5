//! The inputs of a directory (a path source) or of a maildir's `new/` and `cur/`: a walk
//! depth first, each listing sorted by name, hidden names skipped, symlinked directories not
//! followed and nesting bounded by [`MAX_DIR_DEPTH`].

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{self, FileType};
use std::io;
use std::iter::FusedIterator;
use std::path::{Path, PathBuf};

use super::{Input, InputError, MAX_DIR_DEPTH, read_file};

/// A walk over directories: depth first, each listing sorted by name, hidden names skipped.
#[derive(Debug)]
pub(super) struct Walk {
    /// The directories still to be walked, in order.
    roots: VecDeque<PathBuf>,
    /// The listings being walked, innermost last.
    stack: Vec<Level>,
    /// Whether subdirectories are walked (path sources) or ignored (maildirs).
    recurse: bool,
    /// Written before a path in a location (`maildir:`, or nothing).
    prefix: &'static str,
    /// The size limit of one file.
    limit: u64,
}

/// The rest of one directory's sorted listing.
#[derive(Debug)]
struct Level {
    /// How many levels below its root the directory is (a root is at 0).
    depth: usize,
    entries: std::vec::IntoIter<Entry>,
}

/// One entry of a directory listing (hidden names already left out).
#[derive(Debug)]
struct Entry {
    name: OsString,
    path: PathBuf,
    /// Its type (a symlink is not followed), or why that is unknown.
    kind: io::Result<FileType>,
}

impl Walk {
    pub(super) fn new(
        roots: Vec<PathBuf>,
        recurse: bool,
        prefix: &'static str,
        limit: u64,
    ) -> Self {
        Self {
            roots: roots.into(),
            stack: Vec::new(),
            recurse,
            prefix,
            limit,
        }
    }

    fn location(&self, path: &Path) -> String {
        format!("{}{}", self.prefix, path.display())
    }

    /// Lists `dir` onto the stack, or returns the error item saying it cannot be listed.
    fn enter(&mut self, dir: &Path, depth: usize) -> Option<InputError> {
        match list_dir(dir) {
            Ok(entries) => {
                self.stack.push(Level {
                    depth,
                    entries: entries.into_iter(),
                });
                None
            }
            Err(source) => Some(InputError::new(
                self.location(dir),
                "cannot list directory",
                Some(source),
            )),
        }
    }
}

impl Iterator for Walk {
    type Item = Result<Input, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(level) = self.stack.last_mut() else {
                let root = self.roots.pop_front()?;
                if let Some(error) = self.enter(&root, 0) {
                    return Some(Err(error));
                }
                continue;
            };
            let depth = level.depth;
            let Some(entry) = level.entries.next() else {
                self.stack.pop();
                continue;
            };
            let kind = match entry.kind {
                Ok(kind) => kind,
                Err(source) => {
                    let location = self.location(&entry.path);
                    return Some(Err(InputError::new(
                        location,
                        "cannot access",
                        Some(source),
                    )));
                }
            };
            if kind.is_dir() {
                if !self.recurse {
                    continue;
                }
                if depth >= MAX_DIR_DEPTH {
                    let reason = format!(
                        "directory more than {MAX_DIR_DEPTH} levels below the source; not walked"
                    );
                    return Some(Err(InputError::new(
                        self.location(&entry.path),
                        reason,
                        None,
                    )));
                }
                if let Some(error) = self.enter(&entry.path, depth.saturating_add(1)) {
                    return Some(Err(error));
                }
                continue;
            }
            if kind.is_symlink() {
                // A symlink to a file is read; one to a directory is not followed (loops).
                match fs::metadata(&entry.path) {
                    Ok(meta) if meta.is_file() => {}
                    Ok(_) => continue,
                    Err(source) => {
                        let location = self.location(&entry.path);
                        let reason = "cannot follow symlink";
                        return Some(Err(InputError::new(location, reason, Some(source))));
                    }
                }
            } else if !kind.is_file() {
                // FIFOs, sockets and devices are not inputs (reading a FIFO could block).
                continue;
            }
            let location = self.location(&entry.path);
            return Some(read_file(&entry.path, location, self.limit));
        }
    }
}

impl FusedIterator for Walk {}

/// The entries of `dir`, sorted by name, without the hidden ones (names starting with `.`).
fn list_dir(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        match entry {
            Ok(entry) => {
                let name = entry.file_name();
                if name.as_encoded_bytes().first() == Some(&b'.') {
                    continue;
                }
                entries.push(Entry {
                    kind: entry.file_type(),
                    path: entry.path(),
                    name,
                });
            }
            Err(source) => {
                // Reported under the directory's own name, and the listing stops there.
                entries.push(Entry {
                    name: OsString::new(),
                    path: dir.to_path_buf(),
                    kind: Err(source),
                });
                break;
            }
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}
