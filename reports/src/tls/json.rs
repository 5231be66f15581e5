//! Reading JSON values leniently and under limits, straight from the serde_json token stream.
//!
//! Every value is read through a [`DeserializeSeed`] that carries the reader state ([`Cx`]),
//! the member path (for defects and errors) and the nesting depth, so limits are checked as
//! the bytes are read and nothing the schema does not define is ever stored: unknown members
//! are walked by [`Skip`], which keeps no data but still enforces depth, string length and
//! children. A limit or an unusable value stops the parse with a serde error; the typed
//! [`Error`] behind it is kept in [`Cx::fatal`].

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::defects::Defects;
use crate::error::{DefectKind, Error, Limit, Limits};

/// Reader state shared by every seed.
pub(super) struct Cx<'l> {
    limits: &'l Limits,
    pub(super) defects: Defects,
    /// Policies and failure details read so far (bounded by [`Limits::max_records`]).
    records: usize,
    /// The typed error behind the serde error being returned, if any.
    pub(super) fatal: Option<Error>,
}

impl<'l> Cx<'l> {
    pub(super) fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            defects: Defects::new(limits.max_defects),
            records: 0,
            fatal: None,
        }
    }

    pub(super) fn defect(&mut self, kind: DefectKind, path: Path<'_>, value: Option<&str>) {
        self.defects.push(kind, path, value);
    }

    /// Keeps `err` as the reason for stopping and returns a serde error to unwind with.
    pub(super) fn fail<E: de::Error>(&mut self, err: Error) -> E {
        let unwind = E::custom(&err);
        self.fatal.get_or_insert(err);
        unwind
    }

    /// An unusable value at `path` (`found` describes it).
    pub(super) fn invalid<E: de::Error>(&mut self, path: Path<'_>, found: &str) -> E {
        self.fail(Error::InvalidValue {
            path: path.to_string(),
            value: crate::error::clip(found),
        })
    }

    /// Entering an array or object at `depth` (the root is depth 1).
    pub(super) fn enter<E: de::Error>(&mut self, depth: usize) -> Result<(), E> {
        if depth > self.limits.max_xml_depth {
            return Err(self.fail(Error::Limit(Limit::XmlDepth)));
        }
        Ok(())
    }

    fn check_len<E: de::Error>(&mut self, text: &str) -> Result<(), E> {
        if text.len() > self.limits.max_string_len {
            return Err(self.fail(Error::Limit(Limit::StringLength)));
        }
        Ok(())
    }

    /// `count` members or elements seen so far in one object or array.
    pub(super) fn check_children<E: de::Error>(&mut self, count: usize) -> Result<(), E> {
        if count > self.limits.max_children {
            return Err(self.fail(Error::Limit(Limit::Children)));
        }
        Ok(())
    }

    /// One more policy or failure detail.
    pub(super) fn count_record<E: de::Error>(&mut self) -> Result<(), E> {
        self.records = self.records.saturating_add(1);
        if self.records > self.limits.max_records {
            return Err(self.fail(Error::Limit(Limit::Records)));
        }
        Ok(())
    }

    /// A value of the wrong JSON type that is read as absent.
    pub(super) fn mismatch(&mut self, path: Path<'_>, found: &str) {
        self.defect(DefectKind::JsonTypeMismatch, path, Some(found));
    }
}

/// Where a value sits: `policies[1]/failure-details[2]/result-type` (indices 1-based, like
/// the aggregate reader's record paths). Rendered only when a defect or error needs it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Path<'a> {
    /// The top-level value.
    Root,
    /// A member of an object.
    Member(&'a Self, &'a str),
    /// An element of an array (0-based here).
    Index(&'a Self, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Member(Self::Root, name) => f.write_str(name),
            Self::Member(parent, name) => write!(f, "{parent}/{name}"),
            Self::Index(parent, i) => write!(f, "{parent}[{}]", i.saturating_add(1)),
        }
    }
}

/// A value's position: the state, its path and its depth (the root is depth 1).
pub(super) struct At<'c, 'l, 'p> {
    pub(super) cx: &'c mut Cx<'l>,
    pub(super) path: Path<'p>,
    pub(super) depth: usize,
}

/// A short description of a JSON value of the wrong type, for defects and errors.
pub(super) const ARRAY: &str = "array";
/// See [`ARRAY`].
pub(super) const OBJECT: &str = "object";
/// See [`ARRAY`].
pub(super) const NULL: &str = "null";

/// See [`ARRAY`]: `true` or `false`.
pub(super) const fn bool_text(v: bool) -> &'static str {
    if v { "true" } else { "false" }
}

/// The `visit_u64`, `visit_i64` and `visit_f64` of a seed that takes every JSON number alike,
/// as its decimal text: `numbers_as_text!(method)` hands the text to `self.method`.
macro_rules! numbers_as_text {
    ($method:ident) => {
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.$method(&v.to_string())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.$method(&v.to_string())
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.$method(&v.to_string())
        }
    };
}
pub(super) use numbers_as_text;

/// Reads and discards any value, under the limits.
pub(super) struct Skip<'c, 'l> {
    pub(super) cx: &'c mut Cx<'l>,
    pub(super) depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.cx.check_len(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.cx.enter(self.depth)?;
        let mut count = 0usize;
        let depth = self.depth.saturating_add(1);
        while seq
            .next_element_seed(Skip {
                cx: &mut *self.cx,
                depth,
            })?
            .is_some()
        {
            count += 1;
            self.cx.check_children(count)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.cx.enter(self.depth)?;
        let mut count = 0usize;
        let depth = self.depth.saturating_add(1);
        while map.next_key_seed(Key { cx: &mut *self.cx })?.is_some() {
            count += 1;
            self.cx.check_children(count)?;
            map.next_value_seed(Skip {
                cx: &mut *self.cx,
                depth,
            })?;
        }
        Ok(())
    }
}

/// An object member name.
pub(super) struct Key<'c, 'l> {
    pub(super) cx: &'c mut Cx<'l>,
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.cx.check_len(v)?;
        Ok(v.to_owned())
    }
}

/// How a string member is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Text {
    /// Free text (`organization-name`, `policy-string`, `additional-information`,
    /// `failure-reason-code`): kept exactly.
    Verbatim,
    /// Identifiers, names, addresses, tokens and dates: whitespace around the value is a
    /// [`DefectKind::Whitespace`] and trimmed.
    Trimmed,
}

/// A string member. A number is read as its decimal text (a
/// [`DefectKind::JsonTypeMismatch`]); any other type is a `JsonTypeMismatch` and read as
/// absent, or an [`Error::InvalidValue`] when `required`.
pub(super) struct TextSeed<'c, 'l, 'p> {
    pub(super) at: At<'c, 'l, 'p>,
    pub(super) mode: Text,
    pub(super) required: bool,
}

impl TextSeed<'_, '_, '_> {
    fn number<E: de::Error>(self, text: &str) -> Result<Option<String>, E> {
        self.at.cx.mismatch(self.at.path, text);
        Ok(Some(text.to_owned()))
    }

    fn other<E: de::Error>(self, found: &str) -> Result<Option<String>, E> {
        if self.required {
            return Err(self.at.cx.invalid(self.at.path, found));
        }
        self.at.cx.mismatch(self.at.path, found);
        Ok(None)
    }
}

impl<'de> DeserializeSeed<'de> for TextSeed<'_, '_, '_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_, '_, '_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.at.cx.check_len(v)?;
        if self.mode == Text::Verbatim {
            return Ok(Some(v.to_owned()));
        }
        let trimmed = v.trim();
        if trimmed.len() != v.len() {
            self.at
                .cx
                .defect(DefectKind::Whitespace, self.at.path, Some(v));
        }
        Ok(Some(trimmed.to_owned()))
    }

    numbers_as_text!(number);

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.other(bool_text(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.other(NULL)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        if self.required {
            return Err(cx.invalid(path, ARRAY));
        }
        cx.mismatch(path, ARRAY);
        Skip { cx, depth }.visit_seq(seq)?;
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        if self.required {
            return Err(cx.invalid(path, OBJECT));
        }
        cx.mismatch(path, OBJECT);
        Skip { cx, depth }.visit_map(map)?;
        Ok(None)
    }
}

/// An array of strings (`policy-string`, `mx-host`). A single string is read as a
/// one-element array and `null` as an empty one (both a [`DefectKind::JsonTypeMismatch`]);
/// elements that are not strings are dropped with the same defect.
pub(super) struct TextListSeed<'c, 'l, 'p> {
    pub(super) at: At<'c, 'l, 'p>,
    pub(super) mode: Text,
}

impl TextListSeed<'_, '_, '_> {
    /// A number in place of the array: read as the array's one element, as text.
    fn number<E: de::Error>(self, text: &str) -> Result<Vec<String>, E> {
        self.at.cx.mismatch(self.at.path, text);
        Ok(vec![text.to_owned()])
    }

    /// `true`, `false` or `null` in place of the array: read as an empty one.
    fn other<E: de::Error>(self, found: &str) -> Result<Vec<String>, E> {
        self.at.cx.mismatch(self.at.path, found);
        Ok(Vec::new())
    }
}

impl<'de> DeserializeSeed<'de> for TextListSeed<'_, '_, '_> {
    type Value = Vec<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextListSeed<'_, '_, '_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        cx.enter(depth)?;
        let mut out = Vec::new();
        let mut index = 0usize;
        loop {
            let element = TextSeed {
                at: At {
                    cx: &mut *cx,
                    path: Path::Index(&path, index),
                    depth: depth.saturating_add(1),
                },
                mode: self.mode,
                required: false,
            };
            match seq.next_element_seed(element)? {
                None => break,
                Some(Some(text)) => out.push(text),
                Some(None) => {}
            }
            index += 1;
            cx.check_children(index)?;
        }
        Ok(out)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let At { cx, path, depth } = self.at;
        cx.mismatch(path, "string");
        let element = TextSeed {
            at: At { cx, path, depth },
            mode: self.mode,
            required: false,
        };
        Ok(element.visit_str(v)?.into_iter().collect())
    }

    numbers_as_text!(number);

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.other(bool_text(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.other(NULL)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        cx.mismatch(path, OBJECT);
        Skip { cx, depth }.visit_map(map)?;
        Ok(Vec::new())
    }
}

/// A session count: a non-negative integer below 2^64.
///
/// A string of ASCII digits is read as its number (a [`DefectKind::NumberAsString`]) and a
/// number with a zero fraction (`3.0`, `1e3`) as that integer (a
/// [`DefectKind::JsonTypeMismatch`]). Anything else (negative, fractional, too large, not a
/// number) is an [`Error::InvalidValue`].
pub(super) struct CountSeed<'c, 'l, 'p> {
    pub(super) at: At<'c, 'l, 'p>,
}

impl<'de> DeserializeSeed<'de> for CountSeed<'_, '_, '_> {
    type Value = u64;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CountSeed<'_, '_, '_> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a session count")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| self.at.cx.invalid(self.at.path, &v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        let text = v.to_string();
        // `{:.0}` writes an integral value without exponent; parsing it as u64 rejects a sign
        // and anything from 2^64 on.
        let whole = (v.is_finite() && v.fract() == 0.0)
            .then(|| format!("{v:.0}").parse::<u64>().ok())
            .flatten();
        match whole {
            Some(n) => {
                self.at.cx.mismatch(self.at.path, &text);
                Ok(n)
            }
            None => Err(self.at.cx.invalid(self.at.path, &text)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        let At { cx, path, .. } = self.at;
        cx.check_len(v)?;
        let trimmed = v.trim();
        if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(cx.invalid(path, v));
        }
        let n = trimmed.parse().map_err(|_| cx.invalid(path, v))?;
        if trimmed.len() != v.len() {
            cx.defect(DefectKind::Whitespace, path, Some(v));
        }
        cx.defect(DefectKind::NumberAsString, path, Some(v));
        Ok(n)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<u64, E> {
        Err(self.at.cx.invalid(self.at.path, bool_text(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Err(self.at.cx.invalid(self.at.path, NULL))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<u64, A::Error> {
        Err(self.at.cx.invalid(self.at.path, ARRAY))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<u64, A::Error> {
        Err(self.at.cx.invalid(self.at.path, OBJECT))
    }
}
