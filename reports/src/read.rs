//! The aggregate report XML reader: lenient about what real reporters get wrong, hardened
//! against hostile input.
//!
//! The document is streamed with quick-xml; each first-level element (`report_metadata`,
//! `policy_published`, `extension`, one `record`) is collected into a small bounded tree and
//! converted, so memory is proportional to the largest single record plus the output, not to
//! the document. There is no DTD processing and no entity expansion: a `<!DOCTYPE` is an error
//! ([`Error::Doctype`]), and an entity reference other than the five predefined ones and
//! character references is kept literally and reported ([`DefectKind::UnknownEntity`]).

use std::borrow::Cow;
use std::net::IpAddr;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::defects::Defects;
use crate::error::{Defect, DefectKind, Error, Limit, Limits, clip};
use crate::model::{
    ActionDisposition, AggregateReport, Alignment, AuthResults, DateRange, DiscoveryMethod,
    Disposition, DkimAuthResult, DkimResult, DmarcResult, Identifiers, NAMESPACE_DMARC_ORG,
    NAMESPACE_RFC9990, PolicyEvaluated, PolicyOverride, PolicyOverrideReason, PolicyPublished,
    Record, ReportMetadata, Row, Schema, SpfAuthResult, SpfResult, SpfScope, Testing, XmlElement,
};
use crate::{charset, recover};

/// An aggregate report together with the defects the reader tolerated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParsedReport {
    /// The report.
    pub report: AggregateReport,
    /// Defects found, in document order (see [`DefectKind`]).
    pub defects: Vec<Defect>,
    /// Where the report was found inside its input (`gzip`, `zip:dir/a.xml`,
    /// `mime[2](r.zip)>zip:r.xml`); empty for plain XML.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// The XML Schema namespace, for recognising stray `<xs:schema>` elements.
const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";

/// Parses one aggregate report from XML bytes with the default [`Limits`].
///
/// # Errors
///
/// [`Error::Doctype`] for any DTD, [`Error::NotAReport`] when the root is not `feedback`,
/// [`Error::Truncated`] / [`Error::Xml`] for broken XML, [`Error::MissingElement`] /
/// [`Error::InvalidValue`] when the policy domain, the date range or a record's source IP or
/// count is unusable, and [`Error::Limit`] when a limit is hit.
///
/// # Examples
///
/// ```
/// let xml = br#"<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
///   <report_metadata><org_name>r.example</org_name><email>a@r.example</email>
///   <report_id>1</report_id><date_range><begin>0</begin><end>86399</end></date_range>
///   </report_metadata>
///   <policy_published><domain>example.com</domain><p>none</p></policy_published>
///   <record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated>
///   <disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
///   <identifiers><header_from>example.com</header_from></identifiers>
///   <auth_results><spf><domain>example.com</domain><result>fail</result></spf></auth_results>
///   </record></feedback>"#;
/// let parsed = mailward_reports::parse_xml(xml).unwrap();
/// assert_eq!(parsed.report.policy_published.domain, "example.com");
/// assert_eq!(parsed.report.message_count(), 2);
/// ```
pub fn parse_xml(xml: &[u8]) -> Result<ParsedReport, Error> {
    parse_xml_with(xml, &Limits::default())
}

/// Parses one aggregate report from XML bytes with explicit limits.
///
/// # Errors
///
/// As [`parse_xml`].
pub fn parse_xml_with(xml: &[u8], limits: &Limits) -> Result<ParsedReport, Error> {
    let decoded = charset::decode(xml);
    let first = read_document(&decoded.bytes, limits, &decoded, &[]);
    // Leaf text with raw markup breaks the strict read (a record dropped, or the report
    // rejected); escaping it inside the free-text leaves and reading again recovers it.
    let broken = match &first {
        Ok(p) => p
            .defects
            .iter()
            .any(|d| d.kind == DefectKind::DroppedRecord),
        Err(e) => matches!(e, Error::Xml { .. } | Error::Truncated(_)),
    };
    if broken && let Some((fixed, repairs)) = recover::repair_leaves(&decoded.bytes, limits) {
        let second = read_document(&fixed, limits, &decoded, &repairs);
        let better = match (&first, &second) {
            (_, Err(_)) => false,
            (Err(_), Ok(_)) => true,
            (Ok(a), Ok(b)) => b.report.records.len() >= a.report.records.len(),
        };
        if better {
            return second;
        }
    }
    first
}

fn read_document(
    xml: &[u8],
    limits: &Limits,
    decoded: &charset::Decoded<'_>,
    repairs: &[recover::Repair],
) -> Result<ParsedReport, Error> {
    let mut p = XmlParser::new(limits);
    if let Some(declared) = &decoded.bad_declaration {
        p.defects
            .push(DefectKind::EncodingDeclaration, "", declared.as_deref());
    }
    for r in repairs {
        p.defects
            .push(DefectKind::RecoveredMarkup, &r.path, Some(&r.text));
    }
    let report = p.parse(xml)?;
    Ok(ParsedReport {
        report,
        defects: p.defects.finish(),
        source: String::new(),
    })
}

/// An element path, rendered only when a defect or error needs it (building path strings for
/// every element would dominate the parse time).
#[derive(Debug, Clone, Copy)]
struct Loc<'a> {
    parent: Option<&'a Self>,
    name: &'a str,
    index: Option<usize>,
}

const FEEDBACK: Loc<'static> = Loc {
    parent: None,
    name: "feedback",
    index: None,
};

impl<'a> Loc<'a> {
    fn child(&'a self, name: &'a str) -> Self {
        Self {
            parent: Some(self),
            name,
            index: None,
        }
    }

    fn indexed(&'a self, name: &'a str, index: usize) -> Self {
        Self {
            parent: Some(self),
            name,
            index: Some(index),
        }
    }
}

impl Node {
    fn local(&self) -> &str {
        self.qname.get(self.local_start..).unwrap_or_default()
    }

    /// The local name as a `'static` schema name (for paths that outlive a borrow of the
    /// node); names outside the schemas render as `?`.
    fn name_static(&self) -> &'static str {
        match &self.qname {
            Cow::Borrowed(s) => s,
            Cow::Owned(_) => intern(self.local().as_bytes()).unwrap_or("?"),
        }
    }
}

/// The element names of both schemas, so the common case allocates no name.
fn intern(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"record" => "record",
        b"row" => "row",
        b"source_ip" => "source_ip",
        b"count" => "count",
        b"policy_evaluated" => "policy_evaluated",
        b"disposition" => "disposition",
        b"dkim" => "dkim",
        b"spf" => "spf",
        b"reason" => "reason",
        b"type" => "type",
        b"comment" => "comment",
        b"identifiers" => "identifiers",
        b"header_from" => "header_from",
        b"envelope_from" => "envelope_from",
        b"envelope_to" => "envelope_to",
        b"auth_results" => "auth_results",
        b"domain" => "domain",
        b"selector" => "selector",
        b"result" => "result",
        b"human_result" => "human_result",
        b"scope" => "scope",
        b"report_metadata" => "report_metadata",
        b"org_name" => "org_name",
        b"email" => "email",
        b"extra_contact_info" => "extra_contact_info",
        b"report_id" => "report_id",
        b"date_range" => "date_range",
        b"begin" => "begin",
        b"end" => "end",
        b"error" => "error",
        b"generator" => "generator",
        b"policy_published" => "policy_published",
        b"p" => "p",
        b"sp" => "sp",
        b"np" => "np",
        b"adkim" => "adkim",
        b"aspf" => "aspf",
        b"pct" => "pct",
        b"fo" => "fo",
        b"testing" => "testing",
        b"discovery_method" => "discovery_method",
        b"version" => "version",
        b"extension" => "extension",
        b"feedback" => "feedback",
        _ => return None,
    })
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.parent {
            write!(f, "{p}/")?;
        }
        f.write_str(self.name)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

/// A collected element.
#[derive(Debug, Default)]
struct Node {
    /// Name as written (with prefix); schema names are interned, not allocated.
    qname: Cow<'static, str>,
    /// Byte offset of the local name in `qname`.
    local_start: usize,
    /// Whitespace-only text was skipped before any other text (kept as a flag rather than
    /// bytes: container elements are full of indentation).
    skipped_ws: bool,
    /// Whether the element belongs to another namespace than the report's.
    foreign: bool,
    attributes: Vec<(String, String)>,
    /// Unescaped text bytes (may hold invalid UTF-8 until `finish_text`).
    raw_text: Vec<u8>,
    text: String,
    children: Vec<Self>,
}

struct XmlParser<'l> {
    limits: &'l Limits,
    defects: Defects,
    schema: Schema,
    /// The prefix the root used (`None` for the default namespace).
    root_prefix: Option<String>,
    root_namespace: Option<String>,
}

impl<'l> XmlParser<'l> {
    fn new(limits: &'l Limits) -> Self {
        Self {
            limits,
            defects: Defects::new(limits.max_defects),
            schema: Schema::Rfc7489,
            root_prefix: None,
            root_namespace: None,
        }
    }

    fn parse(&mut self, input: &[u8]) -> Result<AggregateReport, Error> {
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
                    let err = xml_error(&reader, &e);
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
                            return Err(Error::Xml {
                                offset: reader.buffer_position(),
                                message: "text before the root element".into(),
                            });
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
                        return Err(Error::Xml {
                            offset: reader.buffer_position(),
                            message: "content before the root element".into(),
                        });
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
                        return Err(Error::Xml {
                            offset: reader.buffer_position(),
                            message: format!("unexpected </{}>", clip(&qname)),
                        });
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

    /// Reads the records of a large document on two threads, when the records run without
    /// anything else up to the root's end tag. `first` is the offset just after the first
    /// record's start tag. The records from there to the last `</feedback>` are cut in two at a
    /// record's start tag; each half is read by [`Self::plain_records`], which gives up at the
    /// first thing that is not a plain, whole record (broken markup, another element, a
    /// dropped record). Only when both halves are plain are their records and defects taken
    /// (in document order, with the second half's record numbers counted on from the first);
    /// otherwise `None`, and the caller reads the records one by one as it always does.
    /// Returns the records and the offset to go on reading at (the root's end tag).
    fn records_in_parallel(&mut self, xml: &[u8], first: usize) -> Option<(Vec<Record>, usize)> {
        let end = root_end_tag(xml)?;
        if end.saturating_sub(first) < PARALLEL_MIN_BYTES
            || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) < 2
        {
            return None;
        }
        let middle = first + (end - first) / 2;
        let Resync::Record(split) = resync(xml, middle) else {
            return None;
        };
        if split >= end {
            return None;
        }
        // Records in the first half: the first one (already open) and every start tag after it.
        // Both counts also size the record lists once: growing them step by step, and then
        // joining them, would write the 10 000 records of a large report three times over,
        // into fresh memory each time.
        let before = 1 + count_record_tags(xml.get(first..split)?);
        let after = count_record_tags(xml.get(split..end)?);
        if before.saturating_add(after) > self.limits.max_records {
            return None;
        }
        let mut second = XmlParser {
            limits: self.limits,
            defects: Defects::new(self.limits.max_defects),
            schema: self.schema,
            root_prefix: self.root_prefix.clone(),
            root_namespace: self.root_namespace.clone(),
        };
        let mut first_half = XmlParser {
            limits: self.limits,
            defects: Defects::new(self.limits.max_defects),
            schema: self.schema,
            root_prefix: self.root_prefix.clone(),
            root_namespace: self.root_namespace.clone(),
        };
        let (head, tail) = (xml.get(first..split)?, xml.get(split..end)?);
        let (a, b) = std::thread::scope(|scope| {
            let handle = scope.spawn(|| second.plain_records(tail, false, before, after));
            let a = first_half.plain_records(head, true, 0, before + after);
            (a, handle.join().ok().flatten())
        });
        let (mut records, mut rest) = (a?, b?);
        if records.len() != before {
            return None;
        }
        records.append(&mut rest);
        for d in first_half
            .defects
            .finish()
            .into_iter()
            .chain(second.defects.finish())
        {
            self.defects.push(d.kind, d.path, d.value.as_deref());
        }
        Some((records, end))
    }

    /// Reads `xml` as nothing but whole records (and white space and comments between them);
    /// `None` at anything else. `open`: the slice starts inside a record, after its start tag.
    /// Record numbers in paths count on from `before`; `capacity` sizes the list.
    fn plain_records(
        &mut self,
        xml: &[u8],
        open: bool,
        before: usize,
        capacity: usize,
    ) -> Option<Vec<Record>> {
        let mut reader = new_reader(xml);
        let mut records = Vec::with_capacity(capacity);
        let next = |parser: &mut Self, reader: &mut Reader<&[u8]>, records: &mut Vec<Record>| {
            let path = FEEDBACK.indexed("record", before + records.len() + 1);
            let record = parser.record(reader, 2, &path).ok()?;
            records.push(record);
            Some(())
        };
        if open {
            next(self, &mut reader, &mut records)?;
        }
        loop {
            match reader.read_event().ok()? {
                Event::Eof => break,
                Event::Comment(_) => {}
                Event::Text(t) if t.as_ref().iter().all(u8::is_ascii_whitespace) => {}
                Event::Start(start)
                    if local_of(&String::from_utf8_lossy(start.name().as_ref())) == "record"
                        && !self.node_from(&start).ok()?.foreign =>
                {
                    if records.len() >= self.limits.max_records {
                        return None;
                    }
                    next(self, &mut reader, &mut records)?;
                }
                _ => return None,
            }
        }
        // A collector that overflowed would have dropped defects the whole document keeps.
        (!self.defects.overflowed()).then_some(records)
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

    /// Collects the element just started into a bounded tree.
    fn collect(
        &mut self,
        reader: &mut Reader<&[u8]>,
        start: quick_xml::events::BytesStart<'_>,
        depth: usize,
    ) -> Result<Node, Error> {
        let node = self.node_from(&start)?;
        self.fill(reader, node, depth)
    }

    /// The next child element of the element being streamed (at `depth`), as a node whose
    /// content is still in the reader, or `None` at the element's end tag. The caller reads
    /// the child's content before asking for the next one. Text between children (the
    /// indentation of container elements) is passed over.
    fn child(
        &mut self,
        reader: &mut Reader<&[u8]>,
        depth: usize,
        count: &mut usize,
    ) -> Result<Option<Node>, Error> {
        loop {
            match reader.read_event().map_err(|e| xml_error(reader, &e))? {
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
    fn fill_in(
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
            let event = reader.read_event().map_err(|e| xml_error(reader, &e))?;
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

    fn node_from(&mut self, start: &quick_xml::events::BytesStart<'_>) -> Result<Node, Error> {
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

    // ----- conversion helpers -----

    /// A leaf value: trimmed, with a defect for surrounding whitespace and for child elements.
    fn leaf(&mut self, node: &mut Node, path: impl std::fmt::Display + Copy) -> String {
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
    fn token<T>(
        &mut self,
        node: &mut Node,
        path: impl std::fmt::Display + Copy,
        from: fn(&str) -> T,
        known: fn(&T) -> bool,
    ) -> T {
        let mut v = self.leaf(node, path);
        if v.bytes().any(|b| b.is_ascii_uppercase()) {
            self.defects
                .push(DefectKind::UpperCaseToken, path, Some(&v));
            v.make_ascii_lowercase();
        }
        let t = from(&v);
        if !known(&t) {
            self.defects.push(DefectKind::UnknownValue, path, Some(&v));
        }
        t
    }

    fn number(
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

    fn missing(&mut self, path: &Loc<'_>, name: &str) {
        self.defects
            .push(DefectKind::MissingElement, path.child(name), None);
    }

    fn unknown(&mut self, path: impl std::fmt::Display, node: &Node) {
        self.defects
            .push(DefectKind::UnknownElement, path, Some(&node.qname));
    }

    fn other_schema(&mut self, path: &Loc<'_>, name: &str, only: Schema) {
        if self.schema != only {
            self.defects
                .push(DefectKind::OtherSchemaElement, path.child(name), None);
        }
    }

    fn metadata(&mut self, node: &mut Node) -> Result<ReportMetadata, Error> {
        let path = &FEEDBACK.child("report_metadata");
        let mut org_name = None;
        let mut email = None;
        let mut extra = None;
        let mut report_id = None;
        let mut date_range = None;
        let mut errors = Vec::new();
        let mut generator = None;
        for child in &mut node.children {
            if child.foreign {
                self.unknown(path, child);
                continue;
            }
            let cpath = path.child(child.name_static());
            match child.local() {
                "org_name" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut org_name, v, &mut self.defects, cpath);
                }
                "email" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut email, v, &mut self.defects, cpath);
                }
                "extra_contact_info" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut extra, v, &mut self.defects, cpath);
                }
                "report_id" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut report_id, v, &mut self.defects, cpath);
                }
                "date_range" => {
                    let d = self.date_range(child, &cpath)?;
                    set_once(&mut date_range, d, &mut self.defects, cpath);
                }
                "error" => {
                    if self.schema == Schema::Rfc9990 && !errors.is_empty() {
                        self.defects.push(DefectKind::DuplicateElement, cpath, None);
                    }
                    errors.push(self.leaf(child, cpath));
                }
                "generator" => {
                    self.other_schema(path, "generator", Schema::Rfc9990);
                    let v = self.leaf(child, cpath);
                    set_once(&mut generator, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        // Without its id a report cannot be told from its copies (RFC 9990 §3.5.1: the id "MUST
        // be unique among reports to the same domain to aid receivers in identifying duplicate
        // reports").
        let report_id = match report_id {
            Some(id) if !id.is_empty() => id,
            _ => return Err(Error::MissingElement(format!("{path}/report_id"))),
        };
        for (name, present) in [("org_name", org_name.is_some()), ("email", email.is_some())] {
            if !present {
                self.missing(path, name);
            }
        }
        let date_range =
            date_range.ok_or_else(|| Error::MissingElement(format!("{path}/date_range")))?;
        Ok(ReportMetadata {
            org_name: org_name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            extra_contact_info: extra,
            report_id,
            date_range,
            errors,
            generator,
        })
    }

    fn date_range(&mut self, node: &mut Node, path: &Loc<'_>) -> Result<DateRange, Error> {
        let mut begin = None;
        let mut end = None;
        for child in &mut node.children {
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "begin") => {
                    let v = self.number(child, cpath)?;
                    set_once(&mut begin, v, &mut self.defects, cpath);
                }
                (false, "end") => {
                    let v = self.number(child, cpath)?;
                    set_once(&mut end, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        Ok(DateRange {
            begin: begin.ok_or_else(|| Error::MissingElement(format!("{path}/begin")))?,
            end: end.ok_or_else(|| Error::MissingElement(format!("{path}/end")))?,
        })
    }

    fn policy(&mut self, node: &mut Node) -> Result<PolicyPublished, Error> {
        let path = &FEEDBACK.child("policy_published");
        let mut out = PolicyPublished::default();
        let mut domain = None;
        let mut seen: Vec<&str> = Vec::new();
        for child in &mut node.children {
            if child.foreign {
                self.unknown(path, child);
                continue;
            }
            let name = child.name_static();
            let cpath = path.child(name);
            let known = [
                "domain",
                "discovery_method",
                "p",
                "sp",
                "np",
                "adkim",
                "aspf",
                "pct",
                "fo",
                "testing",
            ];
            let Some(k) = known.iter().find(|k| **k == name) else {
                self.unknown(path, child);
                continue;
            };
            if seen.contains(k) {
                self.defects.push(DefectKind::DuplicateElement, cpath, None);
                continue;
            }
            seen.push(k);
            match name {
                "domain" => domain = Some(self.leaf(child, cpath)),
                "discovery_method" => {
                    self.other_schema(path, name, Schema::Rfc9990);
                    out.discovery_method = Some(self.token(
                        child,
                        cpath,
                        DiscoveryMethod::from_token,
                        DiscoveryMethod::is_known,
                    ));
                }
                "p" => {
                    out.p = Some(self.token(
                        child,
                        cpath,
                        Disposition::from_token,
                        Disposition::is_known,
                    ));
                }
                "sp" => {
                    out.sp = Some(self.token(
                        child,
                        cpath,
                        Disposition::from_token,
                        Disposition::is_known,
                    ));
                }
                "np" => {
                    self.other_schema(path, name, Schema::Rfc9990);
                    out.np = Some(self.token(
                        child,
                        cpath,
                        Disposition::from_token,
                        Disposition::is_known,
                    ));
                }
                "adkim" => {
                    out.adkim =
                        Some(self.token(child, cpath, Alignment::from_token, Alignment::is_known));
                }
                "aspf" => {
                    out.aspf =
                        Some(self.token(child, cpath, Alignment::from_token, Alignment::is_known));
                }
                "pct" => {
                    self.other_schema(path, name, Schema::Rfc7489);
                    let v = self.leaf(child, cpath);
                    match v.parse::<u8>() {
                        Ok(n) if n <= 100 => out.pct = Some(n),
                        _ => self.defects.push(DefectKind::UnknownValue, cpath, Some(&v)),
                    }
                }
                "fo" => out.fo = Some(self.leaf(child, cpath)),
                "testing" => {
                    self.other_schema(path, name, Schema::Rfc9990);
                    out.testing =
                        Some(self.token(child, cpath, Testing::from_token, Testing::is_known));
                }
                _ => {}
            }
        }
        out.domain = match domain {
            Some(d) if !d.is_empty() => d,
            _ => return Err(Error::MissingElement(format!("{path}/domain"))),
        };
        if out.p.is_none() {
            self.missing(path, "p");
        }
        if self.schema == Schema::Rfc7489 {
            // RFC 7489 Appendix C makes sp, pct and fo required (no minOccurs="0").
            if out.sp.is_none() {
                self.missing(path, "sp");
            }
            if out.pct.is_none() && !seen.contains(&"pct") {
                self.missing(path, "pct");
            }
            if out.fo.is_none() {
                self.missing(path, "fo");
            }
        }
        Ok(out)
    }

    fn record(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<Record, Error> {
        let mut row = None;
        let mut identifiers = None;
        let mut auth = None;
        let mut extensions = Vec::new();
        let mut last = 0u8;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            if child.foreign
                || (child.local() != "row"
                    && child.local() != "identifiers"
                    && child.local() != "auth_results")
            {
                self.fill_in(r, &mut child, depth + 1)?;
            }
            if child.foreign {
                if self.schema == Schema::Rfc7489 {
                    self.defects.push(
                        DefectKind::OtherSchemaElement,
                        format!("{path}/{}", child.qname),
                        None,
                    );
                }
                extensions.push(to_element(child));
                continue;
            }
            let order = match child.local() {
                "row" => 1,
                "identifiers" => 2,
                "auth_results" => 3,
                _ => 0,
            };
            if order == 0 {
                self.unknown(path, &child);
                continue;
            }
            if order < last {
                self.defects
                    .push(DefectKind::OutOfOrder, path, Some(child.local()));
            }
            last = last.max(order);
            let cpath = path.child(child.name_static());
            match order {
                1 => {
                    let v = self.row(r, depth + 1, &cpath)?;
                    set_once(&mut row, v, &mut self.defects, cpath);
                }
                2 => {
                    let i = self.identifiers(r, depth + 1, &cpath)?;
                    set_once(&mut identifiers, i, &mut self.defects, cpath);
                }
                _ => {
                    let a = self.auth_results(r, depth + 1, &cpath)?;
                    set_once(&mut auth, a, &mut self.defects, cpath);
                }
            }
        }
        let row = row.ok_or_else(|| Error::MissingElement(format!("{path}/row")))?;
        if identifiers.is_none() {
            self.missing(path, "identifiers");
        }
        let auth_results = match auth {
            Some(a) => a,
            None => {
                self.missing(path, "auth_results");
                AuthResults::default()
            }
        };
        if self.schema == Schema::Rfc7489 && auth_results.spf.is_empty() {
            // RFC 7489 Appendix C: "There will always be at least one SPF result."
            self.missing(&path.child("auth_results"), "spf");
        }
        Ok(Record {
            row,
            identifiers: identifiers.unwrap_or_default(),
            auth_results,
            extensions,
        })
    }

    fn row(&mut self, r: &mut Reader<&[u8]>, depth: usize, path: &Loc<'_>) -> Result<Row, Error> {
        let mut ip = None;
        let mut count = None;
        let mut pe = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            if child.foreign || (child.local() != "policy_evaluated") {
                self.fill_in(r, child, depth + 1)?;
            }
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "source_ip") => {
                    let v = self.leaf(child, cpath);
                    let parsed: IpAddr = v.parse().map_err(|_| Error::InvalidValue {
                        path: cpath.to_string(),
                        value: clip(&v),
                    })?;
                    set_once(&mut ip, parsed, &mut self.defects, cpath);
                }
                (false, "count") => {
                    let v = self.number(child, cpath)?;
                    set_once(&mut count, v, &mut self.defects, cpath);
                }
                (false, "policy_evaluated") => {
                    let v = self.policy_evaluated(r, depth + 1, &cpath)?;
                    set_once(&mut pe, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        let policy_evaluated = match pe {
            Some(p) => p,
            None => {
                self.missing(path, "policy_evaluated");
                PolicyEvaluated::default()
            }
        };
        Ok(Row {
            source_ip: ip.ok_or_else(|| Error::MissingElement(format!("{path}/source_ip")))?,
            count: count.ok_or_else(|| Error::MissingElement(format!("{path}/count")))?,
            policy_evaluated,
        })
    }

    fn policy_evaluated(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<PolicyEvaluated, Error> {
        let mut out = PolicyEvaluated::default();
        let mut last = 0u8;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            if child.foreign || (child.local() != "reason") {
                self.fill_in(r, child, depth + 1)?;
            }
            let cpath = path.child(child.name_static());
            let order = match (child.foreign, child.local()) {
                (false, "disposition") => 1,
                (false, "dkim") => 2,
                (false, "spf") => 3,
                (false, "reason") => 4,
                _ => 0,
            };
            if order == 0 {
                self.unknown(path, child);
                continue;
            }
            if order < last {
                self.defects
                    .push(DefectKind::OutOfOrder, path, Some(child.local()));
            }
            last = last.max(order);
            match order {
                1 => {
                    let v = self.token(
                        child,
                        cpath,
                        ActionDisposition::from_token,
                        ActionDisposition::is_known,
                    );
                    if v == ActionDisposition::Pass && self.schema == Schema::Rfc7489 {
                        self.defects
                            .push(DefectKind::UnknownValue, cpath, Some("pass"));
                    }
                    set_once(&mut out.disposition, v, &mut self.defects, cpath);
                }
                2 => {
                    let v =
                        self.token(child, cpath, DmarcResult::from_token, DmarcResult::is_known);
                    set_once(&mut out.dkim, v, &mut self.defects, cpath);
                }
                3 => {
                    let v =
                        self.token(child, cpath, DmarcResult::from_token, DmarcResult::is_known);
                    set_once(&mut out.spf, v, &mut self.defects, cpath);
                }
                _ => {
                    let r = self.reason(r, depth + 1, &cpath)?;
                    out.reasons.push(r);
                }
            }
        }
        for (name, present) in [
            ("disposition", out.disposition.is_some()),
            ("dkim", out.dkim.is_some()),
            ("spf", out.spf.is_some()),
        ] {
            if !present {
                self.missing(path, name);
            }
        }
        Ok(out)
    }

    fn reason(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<PolicyOverrideReason, Error> {
        let mut kind = None;
        let mut comment = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "type") => {
                    let v = self.token(
                        child,
                        cpath,
                        PolicyOverride::from_token,
                        PolicyOverride::is_known,
                    );
                    set_once(&mut kind, v, &mut self.defects, cpath);
                }
                (false, "comment") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut comment, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        let kind = match kind {
            Some(k) => k,
            None => {
                self.missing(path, "type");
                PolicyOverride::Unknown(String::new())
            }
        };
        Ok(PolicyOverrideReason { kind, comment })
    }

    fn identifiers(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<Identifiers, Error> {
        let mut header_from = None;
        let mut envelope_from = None;
        let mut envelope_to = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "header_from") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut header_from, v, &mut self.defects, cpath);
                }
                (false, "envelope_from") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut envelope_from, v, &mut self.defects, cpath);
                }
                (false, "envelope_to") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut envelope_to, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        if header_from.is_none() {
            self.missing(path, "header_from");
        }
        if envelope_from.is_none() && self.schema == Schema::Rfc7489 {
            self.missing(path, "envelope_from");
        }
        Ok(Identifiers {
            header_from: header_from.unwrap_or_default(),
            envelope_from,
            envelope_to,
        })
    }

    fn auth_results(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<AuthResults, Error> {
        let mut out = AuthResults::default();
        let mut seen_spf = false;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            if child.foreign || (child.local() != "dkim" && child.local() != "spf") {
                self.fill_in(r, child, depth + 1)?;
            }
            match (child.foreign, child.local()) {
                (false, "dkim") => {
                    if seen_spf {
                        self.defects
                            .push(DefectKind::OutOfOrder, path, Some("dkim"));
                    }
                    let cpath = path.indexed("dkim", out.dkim.len() + 1);
                    let d = self.dkim(r, depth + 1, &cpath)?;
                    out.dkim.push(d);
                }
                (false, "spf") => {
                    seen_spf = true;
                    let cpath = path.indexed("spf", out.spf.len() + 1);
                    if self.schema == Schema::Rfc9990 && !out.spf.is_empty() {
                        // RFC 9990 Appendix A: "There may be zero or one SPF result."
                        self.defects.push(DefectKind::DuplicateElement, cpath, None);
                    }
                    let s = self.spf(r, depth + 1, &cpath)?;
                    out.spf.push(s);
                }
                _ => self.unknown(path, child),
            }
        }
        Ok(out)
    }

    fn dkim(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<DkimAuthResult, Error> {
        let mut out = DkimAuthResult::default();
        let mut domain = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "domain") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut domain, v, &mut self.defects, cpath);
                }
                (false, "selector") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut out.selector, v, &mut self.defects, cpath);
                }
                (false, "result") => {
                    let v = self.token(child, cpath, DkimResult::from_token, DkimResult::is_known);
                    set_once(&mut out.result, v, &mut self.defects, cpath);
                }
                (false, "human_result") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut out.human_result, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        if domain.is_none() {
            self.missing(path, "domain");
        }
        out.domain = domain.unwrap_or_default();
        if out.result.is_none() {
            self.missing(path, "result");
        }
        if out.selector.is_none() && self.schema == Schema::Rfc9990 {
            // RFC 9990 Appendix C: "Selector is now required when reporting a DKIM signature".
            self.missing(path, "selector");
        }
        Ok(out)
    }

    fn spf(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<SpfAuthResult, Error> {
        let mut out = SpfAuthResult::default();
        let mut domain = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "domain") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut domain, v, &mut self.defects, cpath);
                }
                (false, "scope") => {
                    let v = self.token(child, cpath, SpfScope::from_token, SpfScope::is_known);
                    set_once(&mut out.scope, v, &mut self.defects, cpath);
                }
                (false, "result") => {
                    let v = self.token(child, cpath, SpfResult::from_token, SpfResult::is_known);
                    set_once(&mut out.result, v, &mut self.defects, cpath);
                }
                (false, "human_result") => {
                    self.other_schema(path, "human_result", Schema::Rfc9990);
                    let v = self.leaf(child, cpath);
                    set_once(&mut out.human_result, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        if domain.is_none() {
            self.missing(path, "domain");
        }
        out.domain = domain.unwrap_or_default();
        if out.result.is_none() {
            self.missing(path, "result");
        }
        if out.scope.is_none() && self.schema == Schema::Rfc7489 {
            self.missing(path, "scope");
        }
        Ok(out)
    }
}

/// Keeps the first value; a second one is a [`DefectKind::DuplicateElement`].
fn set_once<T>(
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

fn to_element(node: Node) -> XmlElement {
    XmlElement {
        name: node.qname.into_owned(),
        attributes: node.attributes,
        text: node.text.trim().to_owned(),
        children: node.children.into_iter().map(to_element).collect(),
    }
}

fn append(buf: &mut Vec<u8>, bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    if buf.len().saturating_add(bytes.len()) > limits.max_string_len {
        return Err(Error::Limit(Limit::StringLength));
    }
    buf.extend_from_slice(bytes);
    Ok(())
}

fn attributes(
    start: &quick_xml::events::BytesStart<'_>,
    limits: &Limits,
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| Error::Xml {
            offset: 0,
            message: format!("bad attribute: {e}"),
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

fn is_stray_schema(qname: &str, start: &quick_xml::events::BytesStart<'_>) -> bool {
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

fn xml_error(reader: &Reader<&[u8]>, e: &quick_xml::Error) -> Error {
    use quick_xml::errors::SyntaxError;
    match e {
        quick_xml::Error::Syntax(SyntaxError::UnclosedDoctype) => Error::Doctype,
        quick_xml::Error::Syntax(
            s @ (SyntaxError::UnclosedPIOrXmlDecl
            | SyntaxError::UnclosedComment
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedTag),
        ) => Error::Truncated(s.to_string()),
        other => Error::Xml {
            offset: reader.error_position(),
            message: other.to_string(),
        },
    }
}

fn local_of(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

fn prefix_of(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A stray `xs:schema` start tag inside the report is broken structure (checked on the local
/// name's bytes first: the string is built only for an element called `schema`).
fn check_not_schema(
    reader: &Reader<&[u8]>,
    start: &quick_xml::events::BytesStart<'_>,
) -> Result<(), Error> {
    let name = start.name();
    if !name.as_ref().ends_with(b"schema") {
        return Ok(());
    }
    if is_stray_schema(&String::from_utf8_lossy(name.as_ref()), start) {
        return Err(Error::Xml {
            offset: reader.buffer_position(),
            message: "xs:schema element inside the report".into(),
        });
    }
    Ok(())
}

/// The bytes after the first `marker`, or nothing when it does not occur.
fn after_marker<'a>(rest: &'a [u8], marker: &[u8]) -> &'a [u8] {
    find(rest, marker).map_or(&[][..], |i| {
        rest.get(i + marker.len()..).unwrap_or_default()
    })
}

fn new_reader(xml: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(xml);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.allow_unmatched_ends = true;
    cfg.expand_empty_elements = true;
    cfg.check_comments = false;
    reader
}

fn usize_of(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
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

/// Records below this many bytes are read on one thread (a thread costs more than it saves).
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// The longest namespace prefix looked for before `feedback` in the root's end tag.
const MAX_PREFIX: usize = 64;

/// The offset of the last `</feedback>` (any prefix) end tag.
fn root_end_tag(xml: &[u8]) -> Option<usize> {
    memchr::memmem::rfind_iter(xml, b"feedback").find_map(|at| {
        // The `</` is at most a prefix away: looking further back would make text full of
        // "feedback" quadratic.
        let from = at.saturating_sub(MAX_PREFIX + 2);
        let head = xml.get(from..at)?;
        let lt = from + memchr::memrchr(b'<', head)?;
        let between = xml.get(lt + 1..at)?;
        let name = between.strip_prefix(b"/")?;
        // Nothing or a prefix (`dmarc:`) between `</` and the local name.
        let prefixed = name.is_empty()
            || (name.ends_with(b":")
                && name
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'_' | b'-' | b'.')));
        let after = xml.get(at + b"feedback".len()..)?;
        let closes = after
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|c| *c == b'>');
        (prefixed && closes).then_some(lt)
    })
}

/// How many record start tags (`<record>`, `<record attr…>`, any prefix) `xml` holds.
/// The number of `<record>` start tags (any prefix) in `xml`: the `<` at which [`resync`] would
/// stop on a record. Found from the word `record` rather than from every `<`, which makes it
/// several times cheaper; `record_tag_at` applies `resync`'s test. Unlike stepping `resync`, it
/// does not stop at a `</feedback>`: one inside the region makes the read there fail anyway.
fn count_record_tags(xml: &[u8]) -> usize {
    memchr::memmem::find_iter(xml, b"record")
        .filter(|&at| record_tag_at(xml, at))
        .count()
}

/// Whether the word `record` at `at` is the local name of a start tag, as [`resync`] decides:
/// the name runs from a `<` (not `</`) up to white space, `>` or `/` (at most 256 bytes), its
/// part after the last `:` is `record`, and it is followed by something other than `<`.
fn record_tag_at(xml: &[u8], at: usize) -> bool {
    const STOP: fn(u8) -> bool = |c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/' | b'<');
    let end = at + b"record".len();
    if !xml.get(end).is_some_and(|&c| STOP(c) && c != b'<') {
        return false;
    }
    let head = xml.get(..at).unwrap_or_default();
    let Some(lt) = head.iter().rposition(|&c| STOP(c)) else {
        return false;
    };
    // Between `<` and `record`: nothing, or a prefix ending in `:`; the name is capped at 256.
    let prefix = head.get(lt + 1..).unwrap_or_default();
    head.get(lt) == Some(&b'<')
        && (prefix.is_empty() || prefix.ends_with(b":"))
        && end - (lt + 1) <= 256
}

/// Where reading may go on after broken markup.
enum Resync {
    /// At the start tag of the next record.
    Record(usize),
    /// After the end tag of the root.
    RootEnd(usize),
    /// Neither follows: the document is cut off.
    End,
}

/// Finds the next `<record>` start tag or `</feedback>` end tag (any prefix) at or after `from`.
fn resync(xml: &[u8], from: usize) -> Resync {
    let mut pos = from;
    while let Some(lt) = xml
        .get(pos..)
        .and_then(|r| memchr::memchr(b'<', r))
        .map(|i| i + pos)
    {
        let rest = xml.get(lt + 1..).unwrap_or_default();
        let (closing, name) = match rest.strip_prefix(b"/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let len = name
            .iter()
            .take(256)
            .take_while(|c| !c.is_ascii_whitespace() && !matches!(c, b'>' | b'/' | b'<'))
            .count();
        let qname = name.get(..len).unwrap_or_default();
        let local = qname
            .iter()
            .rposition(|c| *c == b':')
            .map_or(qname, |i| qname.get(i + 1..).unwrap_or_default());
        let next = name.get(len).copied();
        if !closing && local == b"record" && next.is_some_and(|c| c != b'<') {
            return Resync::Record(lt);
        }
        if closing && local == b"feedback" {
            return match xml.get(lt..).and_then(|r| memchr::memchr(b'>', r)) {
                Some(gt) => Resync::RootEnd(lt + gt + 1),
                None => Resync::End,
            };
        }
        pos = lt + 1;
    }
    Resync::End
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record-tag count by asking `resync` at every `<` whether a record starts there:
    /// the definition the fast count must agree with.
    fn count_by_resync(xml: &[u8]) -> usize {
        (0..xml.len())
            .filter(|&at| matches!(resync(xml, at), Resync::Record(r) if r == at))
            .count()
    }

    #[test]
    fn record_tag_count_examples() {
        for (xml, n) in [
            (&b"<record><row/></record><record>"[..], 2),
            (b"<a:record x='1'></a:record><b:c:record/>", 2),
            (b"</record><recordx><record<record >", 1),
            (b"record <record\n> <:record>", 2),
            (b"<re:<record>", 1),
        ] {
            assert_eq!(
                count_record_tags(xml),
                n,
                "{}",
                String::from_utf8_lossy(xml)
            );
            assert_eq!(count_by_resync(xml), n, "{}", String::from_utf8_lossy(xml));
        }
    }

    proptest::proptest! {
        #[test]
        fn record_tag_count_agrees_with_resync(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "<", "</", "record", ":", "a", " ", ">", "/", "\n", "<record>", "feedback",
                ]),
                0..40,
            )
        ) {
            // Names stay under resync's 256-byte cap here; past it a mismatch would only make
            // the two-thread read fall back to one thread.
            let xml = parts.concat();
            proptest::prop_assert_eq!(
                count_record_tags(xml.as_bytes()),
                count_by_resync(xml.as_bytes())
            );
        }
    }

    #[test]
    fn loc_renders_lazily_built_paths() {
        let record = FEEDBACK.indexed("record", 3);
        let row = record.child("row");
        assert_eq!(
            row.child("count").to_string(),
            "feedback/record[3]/row/count"
        );
    }

    #[test]
    fn attribute_unescaping() {
        assert_eq!(unescape_attr("a&amp;b&#65;&#x42;&lt;"), "a&bAB<");
        assert_eq!(unescape_attr("&unknown; &"), "&unknown; &");
        assert_eq!(unescape_attr("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }

    #[test]
    fn names() {
        assert_eq!(local_of("xs:schema"), "schema");
        assert_eq!(prefix_of("xs:schema"), Some("xs"));
        assert_eq!(prefix_of("feedback"), None);
        assert_eq!(intern(b"source_ip"), Some("source_ip"));
        assert_eq!(intern(b"sourceip"), None);
    }

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
