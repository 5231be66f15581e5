//! Leaf elements read from a table: most elements of the schemas are a few leaves, each read
//! the same way into one field of the value being built (text, a number, a token), kept the
//! first time it appears, reported when it belongs to the other schema, and reported (or fatal)
//! when a schema requires it and it is absent. A [`Field`] table says which leaf goes where;
//! [`XmlParser::field`] reads one child by it and [`XmlParser::required`] checks what is
//! missing. Elements with structure of their own (`record`, `row`, `policy_evaluated`,
//! `auth_results`) are read by hand in [`super::schema`].

use quick_xml::Reader;

use super::events::{Node, XmlParser};
use super::names::Loc;
use crate::defects::Defects;
use crate::error::{DefectKind, Error, clip};
use crate::model::{Schema, Token};

/// One child element of a schema element, read by [`XmlParser::field`].
pub(super) struct Field<T> {
    /// The local name.
    pub(super) name: &'static str,
    /// The schema that defines it, when only one does; in the other schema it is still read,
    /// and reported as [`DefectKind::OtherSchemaElement`].
    pub(super) only_in: Option<Schema>,
    /// What its absence means.
    pub(super) need: Need,
    /// What it holds and where that goes.
    pub(super) value: Value<T>,
}

/// What the absence of a [`Field`] means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Nothing: it is optional.
    No,
    /// A [`DefectKind::MissingElement`], in the given schema only or (`None`) in both.
    Defect(Option<Schema>),
    /// An [`Error::MissingElement`]: without it, or with empty text, the element is unusable.
    Value,
}

/// What a [`Field`] holds, and how it is stored in the `T` being built.
pub(super) enum Value<T> {
    /// Free text, trimmed ([`XmlParser::leaf`]).
    Text(fn(&mut T, String)),
    /// A non-negative integer; anything else makes the element unusable
    /// ([`Error::InvalidValue`]).
    Number(fn(&mut T, u64)),
    /// A token of the schema, lower-cased; one it does not define is kept and reported
    /// ([`DefectKind::UnknownValue`]). The function stores the token's value when its `bool`
    /// is true, and says whether the schema defines it ([`token`] writes it).
    Token(fn(&mut T, &str, bool) -> bool),
    /// A percentage from 0 to 100; anything else is reported ([`DefectKind::UnknownValue`])
    /// and left out.
    Percent(fn(&mut T, u8)),
}

/// How a repeated [`Field`] is handled (the first one is always the one kept, and the repeat
/// is a [`DefectKind::DuplicateElement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeats {
    /// The repeat is read, its own defects reported, then dropped.
    Read,
    /// The repeat is passed over unread (how `policy_published` has always been read).
    Skipped,
}

/// A field holding a token enum, or an optional one.
pub(super) trait TokenSlot {
    /// Whether the schema defines `token`.
    fn defines(&self, token: &str) -> bool;
    /// Stores `token`'s value; returns whether the schema defines it.
    fn put(&mut self, token: &str) -> bool;
}

impl<E: Token> TokenSlot for Option<E> {
    fn defines(&self, token: &str) -> bool {
        E::from_token(token).is_known()
    }

    fn put(&mut self, token: &str) -> bool {
        let value = E::from_token(token);
        let known = value.is_known();
        *self = Some(value);
        known
    }
}

impl<E: Token> TokenSlot for E {
    fn defines(&self, token: &str) -> bool {
        E::from_token(token).is_known()
    }

    fn put(&mut self, token: &str) -> bool {
        *self = E::from_token(token);
        self.is_known()
    }
}

/// The body of a [`Value::Token`] function: stores `token` in `slot` when `keep`, and says
/// whether the schema defines it.
pub(super) fn token(slot: &mut impl TokenSlot, token: &str, keep: bool) -> bool {
    if keep {
        slot.put(token)
    } else {
        slot.defines(token)
    }
}

/// The most fields a table may have.
pub(super) const MAX_FIELDS: usize = 16;

/// What was read of a table's fields: absent, kept, or kept with empty text.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Kept([Seen; MAX_FIELDS]);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Seen {
    #[default]
    No,
    Yes,
    Blank,
}

impl Kept {
    fn get(&self, i: usize) -> Seen {
        self.0.get(i).copied().unwrap_or_default()
    }

    fn set(&mut self, i: usize, seen: Seen) {
        if let Some(s) = self.0.get_mut(i) {
            *s = seen;
        }
    }
}

impl XmlParser<'_> {
    /// Reads `node`, a child of `path` whose own path is `cpath`, into `out` when `table` has
    /// its name; `false` when it does not (the caller decides what else it may be).
    #[expect(
        clippy::too_many_arguments,
        reason = "the state of one child's reading"
    )]
    pub(super) fn field<T>(
        &mut self,
        table: &[Field<T>],
        out: &mut T,
        kept: &mut Kept,
        repeats: Repeats,
        node: &mut Node,
        path: &Loc<'_>,
        cpath: Loc<'_>,
    ) -> Result<bool, Error> {
        let local = node.local();
        let Some((i, f)) = table.iter().enumerate().find(|(_, f)| f.name == local) else {
            return Ok(false);
        };
        let repeat = kept.get(i) != Seen::No;
        if repeat && repeats == Repeats::Skipped {
            self.defects.push(DefectKind::DuplicateElement, cpath, None);
            return Ok(true);
        }
        if f.only_in.is_some_and(|s| s != self.schema) {
            self.defects
                .push(DefectKind::OtherSchemaElement, path.child(f.name), None);
        }
        let seen = match f.value {
            Value::Text(set) => {
                let v = self.leaf(node, cpath);
                let seen = if v.is_empty() { Seen::Blank } else { Seen::Yes };
                if !repeat {
                    set(out, v);
                }
                seen
            }
            Value::Number(set) => {
                let v = self.number(node, cpath)?;
                if !repeat {
                    set(out, v);
                }
                Seen::Yes
            }
            Value::Token(set) => {
                let v = self.token_text(node, cpath);
                if !set(out, &v, !repeat) {
                    self.defects.push(DefectKind::UnknownValue, cpath, Some(&v));
                }
                Seen::Yes
            }
            Value::Percent(set) => {
                let v = self.leaf(node, cpath);
                match v.parse::<u8>() {
                    Ok(n) if n <= 100 => {
                        if !repeat {
                            set(out, n);
                        }
                    }
                    _ => self.defects.push(DefectKind::UnknownValue, cpath, Some(&v)),
                }
                Seen::Yes
            }
        };
        if repeat {
            self.defects.push(DefectKind::DuplicateElement, cpath, None);
        } else {
            kept.set(i, seen);
        }
        Ok(true)
    }

    /// Reports the fields of `table` that this report's schema requires and `kept` lacks, in
    /// table order; the first one that is [`Need::Value`] is an [`Error::MissingElement`].
    pub(super) fn required<T>(
        &mut self,
        table: &[Field<T>],
        kept: &Kept,
        path: &Loc<'_>,
    ) -> Result<(), Error> {
        for (i, f) in table.iter().enumerate() {
            match (f.need, kept.get(i)) {
                (Need::Value, Seen::No | Seen::Blank) => {
                    return Err(Error::MissingElement(path.child(f.name).to_string()));
                }
                (Need::Defect(schema), Seen::No) if schema.is_none_or(|s| s == self.schema) => {
                    self.missing(path, f.name);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads an element whose children are all leaves of `table`, streamed from the reader
    /// (its start tag just read, at `depth`), into `out`.
    pub(super) fn leaves<T>(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
        table: &[Field<T>],
        out: &mut T,
    ) -> Result<(), Error> {
        let mut kept = Kept::default();
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            self.fill_in(r, &mut child, depth + 1)?;
            let cpath = path.child(child.name_static());
            if child.foreign
                || !self.field(
                    table,
                    out,
                    &mut kept,
                    Repeats::Read,
                    &mut child,
                    path,
                    cpath,
                )?
            {
                self.unknown(path, &child);
            }
        }
        self.required(table, &kept, path)
    }

    /// Reads the children of a collected `node` that are leaves of `table` into `out`; any
    /// other child is reported unknown.
    pub(super) fn node_leaves<T>(
        &mut self,
        node: &mut Node,
        path: &Loc<'_>,
        table: &[Field<T>],
        repeats: Repeats,
        out: &mut T,
    ) -> Result<(), Error> {
        let mut kept = Kept::default();
        for child in &mut node.children {
            if child.foreign {
                self.unknown(path, child);
                continue;
            }
            let cpath = path.child(child.name_static());
            if !self.field(table, out, &mut kept, repeats, child, path, cpath)? {
                self.unknown(path, child);
            }
        }
        self.required(table, &kept, path)
    }

    /// A token's text: a leaf, lower-cased, with a defect when it was not.
    #[inline]
    pub(super) fn token_text(
        &mut self,
        node: &mut Node,
        path: impl std::fmt::Display + Copy,
    ) -> String {
        let mut v = self.leaf(node, path);
        if v.bytes().any(|b| b.is_ascii_uppercase()) {
            self.defects
                .push(DefectKind::UpperCaseToken, path, Some(&v));
            v.make_ascii_lowercase();
        }
        v
    }

    /// A number: a leaf that must be a non-negative integer.
    pub(super) fn number(
        &mut self,
        node: &mut Node,
        path: impl std::fmt::Display + Copy,
    ) -> Result<u64, Error> {
        let v = self.leaf(node, path);
        v.parse::<u64>().map_err(|_| Error::InvalidValue {
            path: path.to_string(),
            value: clip(&v),
        })
    }

    /// A leaf value: trimmed, with a defect for surrounding whitespace and for child elements.
    pub(super) fn leaf(&mut self, node: &mut Node, path: impl std::fmt::Display + Copy) -> String {
        for child in &mut node.children {
            self.defects
                .push(DefectKind::UnknownElement, path, Some(&child.qname));
        }
        let trimmed = node.text.trim();
        if trimmed.len() != node.text.len() || (node.skipped_ws && !trimmed.is_empty()) {
            self.defects
                .push(DefectKind::Whitespace, path, Some(&node.text));
            return node.text.trim().to_owned();
        }
        // Already trimmed: hand the string over instead of copying it.
        std::mem::take(&mut node.text)
    }

    /// A token: trimmed, lower-cased (with a defect) and mapped; unknown values reported.
    pub(super) fn token<T: Token>(
        &mut self,
        node: &mut Node,
        path: impl std::fmt::Display + Copy,
    ) -> T {
        let v = self.token_text(node, path);
        let t = T::from_token(&v);
        if !t.is_known() {
            self.defects.push(DefectKind::UnknownValue, path, Some(&v));
        }
        t
    }

    pub(super) fn missing(&mut self, path: &Loc<'_>, name: &str) {
        self.defects
            .push(DefectKind::MissingElement, path.child(name), None);
    }

    pub(super) fn unknown(&mut self, path: impl std::fmt::Display, node: &Node) {
        self.defects
            .push(DefectKind::UnknownElement, path, Some(&node.qname));
    }
}

/// Keeps the first value; a second one is a [`DefectKind::DuplicateElement`].
pub(super) fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    defects: &mut Defects,
    path: impl std::fmt::Display,
) {
    if slot.is_some() {
        defects.push(DefectKind::DuplicateElement, path, None);
    } else {
        *slot = Some(value);
    }
}
