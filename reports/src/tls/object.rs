//! The objects of the report schema, read member by member: the generic part of the reader
//! (an object's members, duplicates and unknown members, arrays of objects) and the helpers
//! the report's objects use to read their members.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::json::{
    ARRAY, At, Cx, Key, NULL, OBJECT, Path, Skip, Text, TextSeed, bool_text, numbers_as_text,
};
use super::model::ReportedIp;
use crate::error::{DefectKind, Error};

/// Most members an object of the schema defines (`failure-details` elements have 8).
pub(super) const MAX_MEMBERS: usize = 8;

/// An object of the report schema, filled member by member.
pub(super) trait Object: Default {
    /// The members it defines, in the order of RFC 8460 §4.5.
    const MEMBERS: &'static [&'static str];
    /// What the object becomes once closed.
    type Output;
    /// Reads the value of `MEMBERS[index]` (the first occurrence only).
    fn member<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
        at: At<'_, '_, '_>,
    ) -> Result<(), A::Error>;
    /// Checks what must be there once the object is closed.
    fn finish(self, cx: &mut Cx<'_>, path: Path<'_>) -> Result<Self::Output, Error>;
}

/// What a value of another type than object means where an object is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WrongType {
    /// A [`DefectKind::JsonTypeMismatch`]; the value is skipped.
    Defect,
    /// An [`Error::InvalidValue`] (the object holds counts or dates).
    Invalid,
    /// An [`Error::UnknownFormat`] (the top-level value).
    UnknownFormat,
}

/// Reads one object of type `T`; `None` when the value is another type and was skipped.
pub(super) struct ObjectSeed<'c, 'l, 'p, T> {
    at: At<'c, 'l, 'p>,
    wrong_type: WrongType,
    object: PhantomData<T>,
}

impl<'c, 'l, 'p, T> ObjectSeed<'c, 'l, 'p, T> {
    pub(super) fn new(at: At<'c, 'l, 'p>, wrong_type: WrongType) -> Self {
        Self {
            at,
            wrong_type,
            object: PhantomData,
        }
    }

    /// Not an object: recorded, or the parse stops.
    fn wrong<E: de::Error, O>(self, found: &str) -> Result<Option<O>, E> {
        let cx = self.at.cx;
        match self.wrong_type {
            WrongType::Defect => {
                cx.mismatch(self.at.path, found);
                Ok(None)
            }
            WrongType::Invalid => Err(cx.invalid(self.at.path, found)),
            WrongType::UnknownFormat => {
                let number = found.starts_with(|c: char| c == '-' || c.is_ascii_digit());
                let found = if number { "number" } else { found };
                Err(cx.fail(Error::UnknownFormat(format!(
                    "a JSON {found}, not an SMTP TLS report object"
                ))))
            }
        }
    }
}

impl<'de, T: Object> DeserializeSeed<'de> for ObjectSeed<'_, '_, '_, T> {
    type Value = Option<T::Output>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Object> Visitor<'de> for ObjectSeed<'_, '_, '_, T> {
    type Value = Option<T::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        let inner = depth.saturating_add(1);
        cx.enter(depth)?;
        let mut object = T::default();
        let mut seen = [false; MAX_MEMBERS];
        let mut count = 0usize;
        while let Some(key) = map.next_key_seed(Key { cx: &mut *cx })? {
            count += 1;
            cx.check_children(count)?;
            let member = Path::Member(&path, &key);
            let index = T::MEMBERS.iter().position(|m| *m == key);
            match index.and_then(|i| seen.get_mut(i).map(|s| (i, s))) {
                Some((i, first @ false)) => {
                    *first = true;
                    let at = At {
                        cx: &mut *cx,
                        path: member,
                        depth: inner,
                    };
                    object.member(i, &mut map, at)?;
                    continue;
                }
                // RFC 7493 §2.3 (I-JSON): "Objects in I-JSON messages MUST NOT have members
                // with duplicate names". The first one is kept, as in the XML reader.
                Some((_, true)) => cx.defect(DefectKind::DuplicateElement, member, None),
                None => cx.defect(DefectKind::UnknownElement, member, None),
            }
            map.next_value_seed(Skip {
                cx: &mut *cx,
                depth: inner,
            })?;
        }
        match object.finish(cx, path) {
            Ok(out) => Ok(Some(out)),
            Err(e) => Err(cx.fail(e)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if self.wrong_type != WrongType::Defect {
            return self.wrong(ARRAY);
        }
        let skip = Skip {
            cx: &mut *self.at.cx,
            depth: self.at.depth,
        };
        skip.visit_seq(seq)?;
        self.wrong(ARRAY)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.wrong("string")
    }

    numbers_as_text!(wrong);

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.wrong(bool_text(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.wrong(NULL)
    }
}

/// `policies` and `failure-details`: arrays of objects, bounded together by
/// [`Limits::max_records`] rather than [`Limits::max_children`]. A single object in place of
/// the array is read as a one-element array and `null` as an empty one (both a
/// [`DefectKind::JsonTypeMismatch`]); elements that are not objects are dropped with the same
/// defect.
pub(super) struct ListSeed<'c, 'l, 'p, T> {
    at: At<'c, 'l, 'p>,
    object: PhantomData<T>,
}

impl<'c, 'l, 'p, T> ListSeed<'c, 'l, 'p, T> {
    pub(super) fn new(at: At<'c, 'l, 'p>) -> Self {
        Self {
            at,
            object: PhantomData,
        }
    }
}

impl<T: Object> ListSeed<'_, '_, '_, T> {
    /// A value that is neither array nor object: read as an empty array.
    fn other<E: de::Error>(self, found: &str) -> Result<Vec<T::Output>, E> {
        self.at.cx.mismatch(self.at.path, found);
        Ok(Vec::new())
    }
}

impl<'de, T: Object> DeserializeSeed<'de> for ListSeed<'_, '_, '_, T> {
    type Value = Vec<T::Output>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Object> Visitor<'de> for ListSeed<'_, '_, '_, T> {
    type Value = Vec<T::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        cx.enter(depth)?;
        let mut out = Vec::new();
        let mut index = 0usize;
        loop {
            let at = At {
                cx: &mut *cx,
                path: Path::Index(&path, index),
                depth: depth.saturating_add(1),
            };
            match seq.next_element_seed(ObjectSeed::<T>::new(at, WrongType::Defect))? {
                None => break,
                Some(Some(element)) => {
                    cx.count_record()?;
                    out.push(element);
                }
                Some(None) => {}
            }
            index += 1;
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let At { cx, path, depth } = self.at;
        cx.mismatch(path, OBJECT);
        let at = At {
            cx: &mut *cx,
            path,
            depth,
        };
        let element = ObjectSeed::<T>::new(at, WrongType::Defect).visit_map(map)?;
        if element.is_some() {
            cx.count_record()?;
        }
        Ok(element.into_iter().collect())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.other(NULL)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        self.other("string")
    }

    numbers_as_text!(other);

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.other(bool_text(v))
    }
}

/// Reads a string member with `mode`.
pub(super) fn text<'de, A: MapAccess<'de>>(
    map: &mut A,
    at: At<'_, '_, '_>,
    mode: Text,
    required: bool,
) -> Result<Option<String>, A::Error> {
    map.next_value_seed(TextSeed { at, mode, required })
}

/// A trimmed string member, handed to `read` with the state and its path (for the defects
/// `read` finds).
fn read_trimmed<'de, 'l, 'p, A: MapAccess<'de>, T>(
    map: &mut A,
    at: At<'_, 'l, 'p>,
    read: impl FnOnce(&mut Cx<'l>, Path<'p>, String) -> T,
) -> Result<Option<T>, A::Error> {
    let At { cx, path, depth } = at;
    let at = At {
        cx: &mut *cx,
        path,
        depth,
    };
    let value = text(map, at, Text::Trimmed, false)?;
    Ok(value.map(|t| read(cx, path, t)))
}

/// A token member mapped to its enum: exact first, then lower-cased (a
/// [`DefectKind::UpperCaseToken`]); a token the RFC does not define is kept as written (a
/// [`DefectKind::UnknownValue`]).
pub(super) fn token<'de, A: MapAccess<'de>, T>(
    map: &mut A,
    at: At<'_, '_, '_>,
    from_token: fn(&str) -> T,
    is_known: fn(&T) -> bool,
) -> Result<Option<T>, A::Error> {
    read_trimmed(map, at, |cx, path, text| {
        let exact = from_token(&text);
        if is_known(&exact) {
            return exact;
        }
        let lower = from_token(&text.to_ascii_lowercase());
        if is_known(&lower) {
            cx.defect(DefectKind::UpperCaseToken, path, Some(&text));
            return lower;
        }
        cx.defect(DefectKind::UnknownValue, path, Some(&text));
        exact
    })
}

/// An IP address member; text that is not an address is kept, as an
/// [`DefectKind::UnparsableValue`].
pub(super) fn ip<'de, A: MapAccess<'de>>(
    map: &mut A,
    at: At<'_, '_, '_>,
) -> Result<Option<ReportedIp>, A::Error> {
    read_trimmed(map, at, |cx, path, text| {
        let ip = ReportedIp::from_text(&text);
        if let ReportedIp::Unparsed(_) = ip {
            cx.defect(DefectKind::UnparsableValue, path, Some(&text));
        }
        ip
    })
}

/// `name` under `path` should be there: a [`DefectKind::MissingElement`] when it is not.
pub(super) fn expect_present<T>(cx: &mut Cx<'_>, path: Path<'_>, name: &str, value: &Option<T>) {
    if value.is_none() {
        cx.defect(DefectKind::MissingElement, Path::Member(&path, name), None);
    }
}

/// As [`expect_present`], then the value or its default.
pub(super) fn missing<T: Default>(
    cx: &mut Cx<'_>,
    path: Path<'_>,
    name: &str,
    value: Option<T>,
) -> T {
    expect_present(cx, path, name, &value);
    value.unwrap_or_default()
}

/// `name` under `path` must be there.
pub(super) fn required<T>(path: Path<'_>, name: &str, value: Option<T>) -> Result<T, Error> {
    value.ok_or_else(|| missing_error(path, name))
}

pub(super) fn missing_error(path: Path<'_>, name: &str) -> Error {
    Error::MissingElement(Path::Member(&path, name).to_string())
}
