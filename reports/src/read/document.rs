//! The document: its prologue and first-level elements in order, records streamed one by one
//! (or on two threads, [`super::parallel`]), broken markup between them skipped, and what
//! follows the root.

use quick_xml::events::Event;

use super::events::{XmlParser, attributes, is_stray_schema, new_reader, usize_of, xml_error};
use super::fields::set_once;
use super::names::{FEEDBACK, local_of, prefix_of};
use super::scan::{Resync, after_marker, find, resync, trim_start};
use super::schema::to_element;
use crate::error::{DefectKind, Error, Limit, clip};
use crate::model::{
    AggregateReport, NAMESPACE_DMARC_ORG, NAMESPACE_RFC9990, PolicyPublished, Record,
    ReportMetadata, Schema, XmlElement,
};

impl XmlParser<'_> {
    /// Reads the document `input` (UTF-8, see [`crate::charset`]) into a report.
    pub(super) fn parse(&mut self, input: &[u8]) -> Result<AggregateReport, Error> {
        if input.len() as u64
            > self
                .limits
                .max_decompressed_bytes
                .max(self.limits.max_input_bytes)
        {
            return Err(Error::Limit(Limit::InputSize));
        }
        let mut xml = input;
        if let Some(rest) = xml.strip_prefix(b"\xEF\xBB\xBF") {
            self.defects.push(DefectKind::ByteOrderMark, "", None);
            xml = rest;
        }
        if xml.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Empty);
        }
        self.check_declaration(xml);

        // `base` is the offset of the reader's input in `xml`: after broken markup the reader
        // starts afresh at the next record.
        let mut base = 0usize;
        let mut reader = new_reader(xml);
        let mut root_seen = false;
        let mut root_closed = false;

        let mut version: Option<String> = None;
        let mut metadata: Option<ReportMetadata> = None;
        let mut policy: Option<PolicyPublished> = None;
        let mut extension: Option<Vec<XmlElement>> = None;
        let mut records: Vec<Record> = Vec::new();
        // Records met in the document, dropped ones included (for the paths), and the reason
        // the first one was dropped.
        let mut records_seen = 0usize;
        let mut first_drop: Option<Error> = None;
        // Order of the first-level sequence (RFC 9990 §3.1.1.2 "MUST appear in the order listed").
        let mut last_order = 0u8;
        // Depth of stray `xs:schema` wrappers currently open.
        let mut stray_open = 0usize;

        loop {
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let err = xml_error(&reader, e);
                    if !root_seen || matches!(err, Error::Doctype) {
                        return Err(err);
                    }
                    // Broken markup between the first-level elements: skipped up to the next
                    // record (or the end of the root), never read into anything. The search
                    // starts past where this reader started: a record start tag that is itself
                    // broken must not be found again (that would never end).
                    let at = base
                        .saturating_add(usize_of(reader.error_position()))
                        .max(base.saturating_add(1));
                    self.defects
                        .push(DefectKind::RecoveredMarkup, "feedback", Some(&err.kind()));
                    match self.go_on(xml, at, stray_open, &mut root_closed) {
                        Some(at) => {
                            base = at;
                            reader = new_reader(xml.get(at..).unwrap_or_default());
                            continue;
                        }
                        None => break,
                    }
                }
            };
            match event {
                Event::Eof => break,
                Event::DocType(_) => return Err(Error::Doctype),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Text(t) => {
                    if !t.as_ref().iter().all(u8::is_ascii_whitespace) {
                        if !root_seen {
                            return Err(Error::xml(
                                reader.buffer_position(),
                                "text before the root element",
                            ));
                        }
                        self.defects.push(
                            DefectKind::UnknownElement,
                            "feedback",
                            Some(&String::from_utf8_lossy(t.as_ref())),
                        );
                    }
                }
                Event::CData(_) | Event::GeneralRef(_) => {
                    if !root_seen {
                        return Err(Error::xml(
                            reader.buffer_position(),
                            "content before the root element",
                        ));
                    }
                }
                Event::Start(start) => {
                    let qname = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    let local = local_of(&qname).to_owned();
                    if is_stray_schema(&qname, &start) {
                        self.defects
                            .push(DefectKind::StraySchemaElement, "", Some(&qname));
                        stray_open = stray_open.saturating_add(1);
                        continue;
                    }
                    if !root_seen {
                        if local != "feedback" {
                            return Err(Error::NotAReport { root: clip(&qname) });
                        }
                        root_seen = true;
                        self.root_prefix = prefix_of(&qname).map(str::to_owned);
                        let attrs = attributes(&start, self.limits)?;
                        let ns_attr = match &self.root_prefix {
                            Some(p) => format!("xmlns:{p}"),
                            None => "xmlns".to_owned(),
                        };
                        self.root_namespace = attrs
                            .iter()
                            .find(|(k, _)| *k == ns_attr)
                            .map(|(_, v)| v.trim().to_owned());
                        self.schema = match self.root_namespace.as_deref() {
                            Some(NAMESPACE_RFC9990) => Schema::Rfc9990,
                            None | Some(NAMESPACE_DMARC_ORG) | Some("") => Schema::Rfc7489,
                            Some(other) => {
                                self.defects.push(
                                    DefectKind::UnexpectedNamespace,
                                    "feedback",
                                    Some(other),
                                );
                                Schema::Rfc7489
                            }
                        };
                        continue;
                    }
                    // A record is streamed into the model (records are most of a report); a
                    // record that cannot be read whole is dropped, and reading goes on at the
                    // next one.
                    if local == "record" && !self.node_from(&start)?.foreign {
                        // A large run of records is read on two cores when it is plain (see
                        // `records_in_parallel`); otherwise, or when it is not, one by one.
                        if records_seen == 0
                            && metadata.is_some()
                            && policy.is_some()
                            && let Some((mut read, resume)) = self.records_in_parallel(
                                xml,
                                base.saturating_add(usize_of(reader.buffer_position())),
                            )
                        {
                            if read.len() > self.limits.max_records {
                                return Err(Error::Limit(Limit::Records));
                            }
                            records_seen = read.len();
                            last_order = 5;
                            records.append(&mut read);
                            base = resume;
                            reader = new_reader(xml.get(resume..).unwrap_or_default());
                            continue;
                        }
                        records_seen += 1;
                        if last_order > 5 {
                            self.defects
                                .push(DefectKind::OutOfOrder, "feedback", Some("record"));
                        }
                        last_order = last_order.max(5);
                        if records.len() >= self.limits.max_records {
                            return Err(Error::Limit(Limit::Records));
                        }
                        let content_start = base.saturating_add(usize_of(reader.buffer_position()));
                        let path = FEEDBACK.indexed("record", records_seen);
                        let mark = self.defects.mark();
                        let e = match self.record(&mut reader, 2, &path) {
                            Ok(r) => {
                                records.push(r);
                                continue;
                            }
                            Err(e) if recoverable(&e) => e,
                            Err(e) => return Err(e),
                        };
                        self.defects.rewind(mark);
                        self.defects
                            .push(DefectKind::DroppedRecord, path, Some(&e.kind()));
                        first_drop.get_or_insert(e);
                        match self.go_on(xml, content_start, stray_open, &mut root_closed) {
                            Some(at) => {
                                base = at;
                                reader = new_reader(xml.get(at..).unwrap_or_default());
                                continue;
                            }
                            None => break,
                        }
                    }
                    // Any other first-level element: collected, then read.
                    let mut node = self.collect(&mut reader, start, 2)?;
                    let order = match (node.foreign, node.local()) {
                        (false, "version") => 1,
                        (false, "report_metadata") => 2,
                        (false, "policy_published") => 3,
                        (false, "extension") => 4,
                        _ => 0,
                    };
                    if order != 0 {
                        if order < last_order {
                            self.defects.push(
                                DefectKind::OutOfOrder,
                                "feedback",
                                Some(node.local()),
                            );
                        }
                        last_order = last_order.max(order);
                    }
                    match order {
                        1 => {
                            let v = self.leaf(&mut node, "feedback/version");
                            set_once(&mut version, v, &mut self.defects, "feedback/version");
                        }
                        2 => {
                            let m = self.metadata(&mut node)?;
                            set_once(
                                &mut metadata,
                                m,
                                &mut self.defects,
                                "feedback/report_metadata",
                            );
                        }
                        3 => {
                            let p = self.policy(&mut node)?;
                            set_once(
                                &mut policy,
                                p,
                                &mut self.defects,
                                "feedback/policy_published",
                            );
                        }
                        4 => {
                            if self.schema == Schema::Rfc7489 {
                                self.defects.push(
                                    DefectKind::OtherSchemaElement,
                                    "feedback/extension",
                                    None,
                                );
                            }
                            let children = node.children.into_iter().map(to_element).collect();
                            set_once(
                                &mut extension,
                                children,
                                &mut self.defects,
                                "feedback/extension",
                            );
                        }
                        _ => {
                            self.defects.push(
                                DefectKind::UnknownElement,
                                "feedback",
                                Some(&node.qname),
                            );
                        }
                    }
                }
                Event::End(end) => {
                    let qname = String::from_utf8_lossy(end.name().as_ref()).into_owned();
                    if local_of(&qname) == "schema" && stray_open > 0 {
                        stray_open -= 1;
                        continue;
                    }
                    if local_of(&qname) == "schema" && !root_seen {
                        self.defects
                            .push(DefectKind::StraySchemaElement, "", Some(&qname));
                        continue;
                    }
                    if !root_seen {
                        return Err(Error::xml(
                            reader.buffer_position(),
                            format!("unexpected </{}>", clip(&qname)),
                        ));
                    }
                    if local_of(&qname) != "feedback" {
                        // A stray end tag among the first-level elements holds nothing.
                        // (The same class as when the reader reports the mismatch itself.)
                        self.defects
                            .push(DefectKind::RecoveredMarkup, "feedback", Some("xml"));
                        continue;
                    }
                    root_closed = true;
                    let after = base.saturating_add(usize_of(reader.buffer_position()));
                    self.trailing(xml.get(after..).unwrap_or_default(), stray_open);
                    break;
                }
                Event::Empty(_) => {
                    // expand_empty_elements is on; never produced.
                }
            }
        }
        if !root_seen {
            return Err(Error::Truncated("no root element".into()));
        }
        if !root_closed {
            // Cut off: what was read whole stands, provided the report's head and at least one
            // record are there.
            if metadata.is_none() || policy.is_none() || records.is_empty() {
                return Err(first_drop.unwrap_or_else(|| {
                    Error::Truncated("the feedback element is not closed".into())
                }));
            }
            self.defects
                .push(DefectKind::TruncatedDocument, "feedback", None);
        }
        let report_metadata =
            metadata.ok_or_else(|| Error::MissingElement("feedback/report_metadata".into()))?;
        let policy_published =
            policy.ok_or_else(|| Error::MissingElement("feedback/policy_published".into()))?;
        if records.is_empty() {
            if let Some(e) = first_drop {
                // Every record was dropped: the reason says more than an empty report would.
                return Err(e);
            }
            self.defects.push(DefectKind::NoRecords, "feedback", None);
        }
        if version.is_none() && self.schema == Schema::Rfc7489 {
            self.defects
                .push(DefectKind::MissingElement, "feedback/version", None);
        }
        Ok(AggregateReport {
            schema: self.schema,
            version,
            report_metadata,
            policy_published,
            extension,
            records,
        })
    }

    /// Where reading goes on after broken markup at `from`: the offset of the next record, or
    /// `None` when the document ends there (after the root's end tag, whose trailing content
    /// is then read, or cut off).
    fn go_on(
        &mut self,
        xml: &[u8],
        from: usize,
        stray_open: usize,
        root_closed: &mut bool,
    ) -> Option<usize> {
        match resync(xml, from) {
            Resync::Record(at) => Some(at),
            Resync::RootEnd(after) => {
                *root_closed = true;
                self.trailing(xml.get(after..).unwrap_or_default(), stray_open);
                None
            }
            Resync::End => None,
        }
    }

    /// What follows the root element: whitespace, comments and processing instructions are
    /// allowed (XML 1.0 §2.1 `Misc`); closing tags of a stray `xs:schema` wrapper are that
    /// defect (unless they close a wrapper opened before the root, `stray_open`); anything else
    /// is [`DefectKind::TrailingContent`], reported once and ignored.
    fn trailing(&mut self, rest: &[u8], mut stray_open: usize) {
        let mut rest = trim_start(rest);
        while !rest.is_empty() {
            if rest.starts_with(b"<!--") {
                rest = after_marker(rest, b"-->");
            } else if rest.starts_with(b"<?") {
                rest = after_marker(rest, b"?>");
            } else if let Some(name) = rest
                .strip_prefix(b"</")
                .and_then(|r| r.iter().position(|c| *c == b'>').and_then(|i| r.get(..i)))
                .filter(|n| local_of(&String::from_utf8_lossy(n)).trim() == "schema")
            {
                if stray_open > 0 {
                    // Closes the wrapper already reported where it opened.
                    stray_open -= 1;
                } else {
                    let qname = String::from_utf8_lossy(name).trim().to_owned();
                    self.defects
                        .push(DefectKind::StraySchemaElement, "", Some(&qname));
                }
                rest = after_marker(rest, b">");
            } else {
                let name: Vec<u8> = rest
                    .strip_prefix(b"<")
                    .map(|r| {
                        r.iter()
                            .take_while(|c| !c.is_ascii_whitespace() && !matches!(c, b'>' | b'/'))
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default();
                let name = (!name.is_empty()).then(|| String::from_utf8_lossy(&name).into_owned());
                self.defects
                    .push(DefectKind::TrailingContent, "", name.as_deref());
                return;
            }
            rest = trim_start(rest);
        }
    }

    fn check_declaration(&mut self, xml: &[u8]) {
        let trimmed = trim_start(xml);
        if !trimmed.starts_with(b"<?xml") {
            return;
        }
        let Some(end) = find(trimmed, b"?>") else {
            return;
        };
        let after = trimmed.get(end + 2..).unwrap_or_default();
        if matches!(after.first(), Some(b'<')) {
            self.defects
                .push(DefectKind::DeclarationWithoutNewline, "", None);
        }
    }
}

/// Errors that dropping the record recovers from: its markup is broken, it is cut off, or a
/// value it cannot do without is missing or unusable. Not limits, not DTDs.
fn recoverable(e: &Error) -> bool {
    matches!(
        e,
        Error::Xml { .. }
            | Error::Truncated(_)
            | Error::InvalidValue { .. }
            | Error::MissingElement(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Limits;
    use crate::read::parse_xml;

    /// Broken markup right at a record's start tag: reading must go on past it, not find the
    /// same tag again (found by fuzzing as a hang).
    #[test]
    fn broken_record_start_tags_end() {
        let head = "<feedback><report_metadata><org_name>o</org_name><email>e</email>\
                    <report_id>1</report_id><date_range><begin>0</begin><end>1</end>\
                    </date_range></report_metadata><policy_published><domain>d.example</domain>\
                    <p>none</p></policy_published>";
        for tail in [
            "<record ='>",
            "<record a=\"1\" a=\"2\"></record></feedback>",
            "<record <record <record ",
            "</x><record x='<'></feedback>",
            "<record !><record !></feedback>",
            "<record\u{0}><record></record>",
        ] {
            let xml = format!("{head}{tail}");
            // Any answer will do; it must come.
            let _ = parse_xml(xml.as_bytes());
        }
    }

    #[test]
    fn declaration_check() {
        let limits = Limits::default();
        let mut p = XmlParser::new(&limits);
        p.check_declaration(b"<?xml version=\"1.0\"?>\n<feedback/>");
        assert!(p.defects.mark().0 == 0);
        p.check_declaration(b"  <?xml version=\"1.0\"?><feedback/>");
        assert_eq!(p.defects.mark().0, 1);
    }
}
