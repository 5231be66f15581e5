//! From quick-xml events to elements: the reader's configuration, the parse state every stage
//! shares ([`XmlParser`]), elements collected into small bounded nodes, attributes, entity and
//! character references, and quick-xml's errors as this crate's.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::names::{intern, local_of, prefix_of};
use crate::defects::Defects;
use crate::error::{Cause, DefectKind, Error, Limit, Limits};
use crate::model::Schema;

/// The XML Schema namespace, for recognising stray `<xs:schema>` elements.
const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";

/// The state of one read, shared by every stage: the limits, the defects found so far, and the
/// schema and namespace the root element declared.
pub(super) struct XmlParser<'l> {
    pub(super) limits: &'l Limits,
    pub(super) defects: Defects,
    /// Decided by the root's namespace; RFC 7489 until the root is read.
    pub(super) schema: Schema,
    /// The prefix the root used (`None` for the default namespace).
    pub(super) root_prefix: Option<String>,
    /// The namespace the root declared for that prefix, if any.
    pub(super) root_namespace: Option<String>,
}

impl<'l> XmlParser<'l> {
    pub(super) fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            defects: Defects::new(limits.max_defects),
            schema: Schema::Rfc7489,
            root_prefix: None,
            root_namespace: None,
        }
    }

    /// Collects the element just started into a bounded tree.
    pub(super) fn collect(
        &mut self,
        reader: &mut Reader<&[u8]>,
        start: BytesStart<'_>,
        depth: usize,
    ) -> Result<Node, Error> {
        let node = self.node_from(&start)?;
        self.fill(reader, node, depth)
    }

    /// The next child element of the element being streamed (at `depth`), as a node whose
    /// content is still in the reader, or `None` at the element's end tag. The caller reads
    /// the child's content before asking for the next one. Text between children (the
    /// indentation of container elements) is passed over.
    pub(super) fn child(
        &mut self,
        reader: &mut Reader<&[u8]>,
        depth: usize,
        count: &mut usize,
    ) -> Result<Option<Node>, Error> {
        loop {
            match reader.read_event().map_err(|e| xml_error(reader, e))? {
                Event::Start(s) => {
                    if depth + 1 > self.limits.max_xml_depth {
                        return Err(Error::Limit(Limit::XmlDepth));
                    }
                    if *count >= self.limits.max_children {
                        return Err(Error::Limit(Limit::Children));
                    }
                    *count += 1;
                    check_not_schema(reader, &s)?;
                    return self.node_from(&s).map(Some);
                }
                Event::End(_) => return Ok(None),
                Event::Eof => {
                    return Err(Error::Truncated("element <record> is not closed".into()));
                }
                Event::DocType(_) => return Err(Error::Doctype),
                _ => {}
            }
        }
    }

    /// Reads the content of `node` (its start tag just read, at `depth`) up to its end tag.
    pub(super) fn fill_in(
        &mut self,
        reader: &mut Reader<&[u8]>,
        node: &mut Node,
        depth: usize,
    ) -> Result<(), Error> {
        *node = self.fill(reader, std::mem::take(node), depth)?;
        Ok(())
    }

    /// Collects the content of `node` (its start tag just read) into a bounded tree.
    fn fill(
        &mut self,
        reader: &mut Reader<&[u8]>,
        node: Node,
        depth: usize,
    ) -> Result<Node, Error> {
        // The element being filled, and its open ancestors below `node` (none for a leaf, the
        // common case, so a leaf costs no allocation here).
        let mut current = node;
        let mut parents: Vec<Node> = Vec::new();
        let mut depth = depth;
        loop {
            let event = reader.read_event().map_err(|e| xml_error(reader, e))?;
            match event {
                Event::Eof => {
                    let outer = parents.first().unwrap_or(&current);
                    return Err(Error::Truncated(format!(
                        "element <{}> is not closed",
                        outer.qname
                    )));
                }
                Event::DocType(_) => return Err(Error::Doctype),
                Event::Start(s) => {
                    depth = depth.saturating_add(1);
                    if depth > self.limits.max_xml_depth {
                        return Err(Error::Limit(Limit::XmlDepth));
                    }
                    check_not_schema(reader, &s)?;
                    let node = self.node_from(&s)?;
                    if current.children.len() >= self.limits.max_children {
                        return Err(Error::Limit(Limit::Children));
                    }
                    parents.push(std::mem::replace(&mut current, node));
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    self.finish_text(&mut current);
                    match parents.pop() {
                        Some(parent) => {
                            let done = std::mem::replace(&mut current, parent);
                            current.children.push(done);
                        }
                        None => return Ok(current),
                    }
                }
                Event::Text(t) => {
                    let node = &mut current;
                    let bytes = t.as_ref();
                    if node.raw_text.is_empty() && bytes.iter().all(u8::is_ascii_whitespace) {
                        node.skipped_ws |= !bytes.is_empty();
                    } else {
                        append(&mut node.raw_text, bytes, self.limits)?;
                    }
                }
                Event::CData(c) => {
                    append(&mut current.raw_text, c.as_ref(), self.limits)?;
                }
                Event::GeneralRef(r) => {
                    let node = &mut current;
                    let name = r.as_ref();
                    let resolved: Option<char> = match name {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ if r.is_char_ref() => r.resolve_char_ref().ok().flatten(),
                        _ => None,
                    };
                    match resolved {
                        Some(c) => {
                            let mut b = [0u8; 4];
                            append(
                                &mut node.raw_text,
                                c.encode_utf8(&mut b).as_bytes(),
                                self.limits,
                            )?;
                        }
                        None => {
                            let lossy = String::from_utf8_lossy(name).into_owned();
                            let path = node.qname.to_string();
                            self.defects
                                .push(DefectKind::UnknownEntity, &path, Some(&lossy));
                            append(&mut node.raw_text, b"&", self.limits)?;
                            append(&mut node.raw_text, name, self.limits)?;
                            append(&mut node.raw_text, b";", self.limits)?;
                        }
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Empty(_) => {}
            }
        }
    }

    pub(super) fn node_from(&mut self, start: &BytesStart<'_>) -> Result<Node, Error> {
        let raw_name = start.name();
        // Fast path: an unprefixed schema name without attributes, in the report's namespace
        // (nearly every element of a report).
        if let Some(known) = intern(raw_name.as_ref())
            && self.root_prefix.is_none()
            && start.attributes_raw().iter().all(u8::is_ascii_whitespace)
        {
            return Ok(Node {
                qname: Cow::Borrowed(known),
                ..Node::default()
            });
        }
        let qname: Cow<'static, str> = match intern(raw_name.as_ref()) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(String::from_utf8_lossy(raw_name.as_ref()).into_owned()),
        };
        if qname.len() > self.limits.max_string_len {
            return Err(Error::Limit(Limit::StringLength));
        }
        let attributes = attributes(start, self.limits)?;
        let prefix = prefix_of(&qname);
        let mut foreign = match (prefix, self.root_prefix.as_deref()) {
            (None, None) => false,
            (Some(p), Some(r)) => p != r,
            (None, Some(_)) => self.root_namespace.is_some(),
            (Some(_), None) => true,
        };
        let own_ns = attributes.iter().find(|(k, _)| k == "xmlns");
        if own_ns.is_some_and(|(_, ns)| {
            prefix.is_none() && Some(ns.trim()) != self.root_namespace.as_deref()
        }) {
            foreign = true;
        }
        Ok(Node {
            local_start: qname.len() - local_of(&qname).len(),
            qname,
            foreign,
            attributes,
            ..Node::default()
        })
    }

    fn finish_text(&mut self, node: &mut Node) {
        let raw = std::mem::take(&mut node.raw_text);
        node.text = match String::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => {
                self.defects
                    .push(DefectKind::InvalidUtf8, node.qname.clone(), None);
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
    }
}

/// A collected element.
#[derive(Debug, Default)]
pub(super) struct Node {
    /// Name as written (with prefix); schema names are interned, not allocated.
    pub(super) qname: Cow<'static, str>,
    /// Byte offset of the local name in `qname`.
    pub(super) local_start: usize,
    /// Whitespace-only text was skipped before any other text (kept as a flag rather than
    /// bytes: container elements are full of indentation).
    pub(super) skipped_ws: bool,
    /// Whether the element belongs to another namespace than the report's.
    pub(super) foreign: bool,
    pub(super) attributes: Vec<(String, String)>,
    /// Unescaped text bytes (may hold invalid UTF-8 until `finish_text`).
    pub(super) raw_text: Vec<u8>,
    pub(super) text: String,
    pub(super) children: Vec<Self>,
}

impl Node {
    pub(super) fn local(&self) -> &str {
        self.qname.get(self.local_start..).unwrap_or_default()
    }

    /// The local name as a `'static` schema name (for paths that outlive a borrow of the
    /// node); names outside the schemas render as `?`.
    pub(super) fn name_static(&self) -> &'static str {
        match &self.qname {
            Cow::Borrowed(s) => s,
            Cow::Owned(_) => intern(self.local().as_bytes()).unwrap_or("?"),
        }
    }
}

fn append(buf: &mut Vec<u8>, bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    if buf.len().saturating_add(bytes.len()) > limits.max_string_len {
        return Err(Error::Limit(Limit::StringLength));
    }
    buf.extend_from_slice(bytes);
    Ok(())
}

pub(super) fn attributes(
    start: &BytesStart<'_>,
    limits: &Limits,
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| Error::Xml {
            offset: 0,
            message: "bad attribute".into(),
            source: Some(Cause::new(e)),
        })?;
        if out.len() >= limits.max_children {
            return Err(Error::Limit(Limit::Children));
        }
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let raw = String::from_utf8_lossy(&attr.value).into_owned();
        if key.len().saturating_add(raw.len()) > limits.max_string_len {
            return Err(Error::Limit(Limit::StringLength));
        }
        out.push((key, unescape_attr(&raw)));
    }
    Ok(out)
}

/// Resolves the predefined entities and character references in an attribute value; other
/// references are kept literally (there is no DTD).
fn unescape_attr(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i..).unwrap_or_default();
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let name = after.get(1..semi).unwrap_or_default();
        let resolved = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix('x') {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match resolved {
            Some(c) => out.push(c),
            None => out.push_str(after.get(..=semi).unwrap_or_default()),
        }
        rest = after.get(semi + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

pub(super) fn is_stray_schema(qname: &str, start: &BytesStart<'_>) -> bool {
    if local_of(qname) != "schema" {
        return false;
    }
    if matches!(prefix_of(qname), Some("xs" | "xsd")) {
        return true;
    }
    start.attributes().with_checks(false).flatten().any(|a| {
        a.key.as_ref().starts_with(b"xmlns") && a.value.as_ref() == XSD_NAMESPACE.as_bytes()
    })
}

/// quick-xml's error as this crate's. Input ending inside markup is [`Error::Truncated`], in
/// words of ours (quick-xml's error says nothing more); anything else is [`Error::Xml`] with
/// quick-xml's error of that class as the source and the class as the message.
pub(super) fn xml_error(reader: &Reader<&[u8]>, e: quick_xml::Error) -> Error {
    use quick_xml::errors::SyntaxError;
    let (message, source) = match e {
        quick_xml::Error::Syntax(SyntaxError::UnclosedDoctype) => return Error::Doctype,
        quick_xml::Error::Syntax(SyntaxError::UnclosedPIOrXmlDecl) => {
            return Error::Truncated("processing instruction or XML declaration not closed".into());
        }
        quick_xml::Error::Syntax(SyntaxError::UnclosedComment) => {
            return Error::Truncated("comment not closed".into());
        }
        quick_xml::Error::Syntax(SyntaxError::UnclosedCData) => {
            return Error::Truncated("CDATA section not closed".into());
        }
        quick_xml::Error::Syntax(SyntaxError::UnclosedTag) => {
            return Error::Truncated("tag not closed".into());
        }
        quick_xml::Error::Syntax(e) => ("syntax error", Cause::new(e)),
        quick_xml::Error::IllFormed(e) => ("ill-formed document", Cause::new(e)),
        quick_xml::Error::InvalidAttr(e) => ("bad attribute", Cause::new(e)),
        quick_xml::Error::Encoding(e) => ("bad encoding", Cause::new(e)),
        quick_xml::Error::Escape(e) => ("bad escape", Cause::new(e)),
        quick_xml::Error::Namespace(e) => ("bad namespace", Cause::new(e)),
        // Reading from a slice, there is no I/O to fail.
        other => ("XML reader failed", Cause::new(other)),
    };
    Error::Xml {
        offset: reader.error_position(),
        message: message.into(),
        source: Some(source),
    }
}

/// A stray `xs:schema` start tag inside the report is broken structure (checked on the local
/// name's bytes first: the string is built only for an element called `schema`).
fn check_not_schema(reader: &Reader<&[u8]>, start: &BytesStart<'_>) -> Result<(), Error> {
    let name = start.name();
    if !name.as_ref().ends_with(b"schema") {
        return Ok(());
    }
    if is_stray_schema(&String::from_utf8_lossy(name.as_ref()), start) {
        return Err(Error::xml(
            reader.buffer_position(),
            "xs:schema element inside the report",
        ));
    }
    Ok(())
}

pub(super) fn new_reader(xml: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(xml);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.allow_unmatched_ends = true;
    cfg.expand_empty_elements = true;
    cfg.check_comments = false;
    reader
}

pub(super) fn usize_of(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_unescaping() {
        assert_eq!(unescape_attr("a&amp;b&#65;&#x42;&lt;"), "a&bAB<");
        assert_eq!(unescape_attr("&unknown; &"), "&unknown; &");
        assert_eq!(unescape_attr("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }
}
