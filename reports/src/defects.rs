//! The defects a reader collects while it reads one report, bounded by
//! [`Limits::max_defects`](crate::Limits::max_defects).

use crate::error::{Defect, DefectKind, clip};

/// Collected defects, in the order they were found; past the limit they are only counted, and
/// [`finish`](Self::finish) adds one [`DefectKind::DefectsTruncated`] with that count.
#[derive(Debug)]
pub(crate) struct Defects {
    list: Vec<Defect>,
    max: usize,
    dropped: u64,
}

impl Defects {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            list: Vec::new(),
            max,
            dropped: 0,
        }
    }

    pub(crate) fn push(
        &mut self,
        kind: DefectKind,
        path: impl std::fmt::Display,
        value: Option<&str>,
    ) {
        if self.list.len() >= self.max {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.list.push(Defect {
            kind,
            path: path.to_string(),
            value: value.map(clip),
        });
    }

    /// A point to [`rewind`](Self::rewind) to (defects of a record that is then dropped).
    pub(crate) fn mark(&self) -> (usize, u64) {
        (self.list.len(), self.dropped)
    }

    pub(crate) fn rewind(&mut self, (len, dropped): (usize, u64)) {
        self.list.truncate(len);
        self.dropped = dropped;
    }

    /// Whether any defect was only counted (the limit was reached).
    pub(crate) fn overflowed(&self) -> bool {
        self.dropped > 0
    }

    /// The defects, with one [`DefectKind::DefectsTruncated`] counting those over the limit.
    pub(crate) fn finish(mut self) -> Vec<Defect> {
        if self.dropped > 0 {
            self.list.push(Defect {
                kind: DefectKind::DefectsTruncated,
                path: String::new(),
                value: Some(self.dropped.to_string()),
            });
        }
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_it_does_not_keep() {
        let mut d = Defects::new(1);
        d.push(DefectKind::Whitespace, "a", Some("x"));
        let mark = d.mark();
        d.push(DefectKind::Whitespace, "b", None);
        assert!(d.overflowed());
        d.rewind(mark);
        assert!(!d.overflowed());
        d.push(DefectKind::Whitespace, "c", None);
        d.push(DefectKind::Whitespace, "d", None);
        let list = d.finish();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].kind, DefectKind::DefectsTruncated);
        assert_eq!(list[1].value.as_deref(), Some("2"));
    }
}
