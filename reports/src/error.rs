//! Errors, defects and limits.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Why an input was rejected.
///
/// When a library this crate reads with failed (quick-xml on the XML, flate2 on a gzip stream
/// or a zip entry, serde_json on JSON), its error is the [`source`](std::error::Error::source)
/// (a [`Cause`]), and the message here does not repeat it: print the chain to see both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is empty (or only whitespace).
    #[error("empty input")]
    Empty,
    /// The content is none of XML, gzip, zip or an RFC 5322 message.
    #[error("unrecognised format: {0}")]
    UnknownFormat(String),
    /// Well-formed XML whose root is not a DMARC `feedback` element.
    #[error("not a DMARC aggregate report: root element is <{root}>")]
    NotAReport {
        /// The root element found.
        root: String,
    },
    /// A container (e-mail, zip) held no report.
    #[error("no report found in {0}")]
    NoReport(String),
    /// The input ends early (truncated XML, gzip stream or archive).
    #[error("truncated input: {0}")]
    Truncated(String),
    /// The XML is not well-formed.
    #[error("malformed XML at byte {offset}: {message}")]
    Xml {
        /// Byte offset in the XML document.
        offset: u64,
        /// What was wrong: the class of quick-xml's error when there is a `source`, the whole
        /// story otherwise.
        message: String,
        /// quick-xml's error, when it found the fault.
        #[source]
        source: Option<Cause>,
    },
    /// The document has a document type declaration; DTDs (and so entity expansion,
    /// "billion laughs") are refused outright.
    #[error("document type declarations are not accepted (no DTD, no entity expansion)")]
    Doctype,
    /// A required element without which the report is meaningless is missing.
    #[error("missing required element {0}")]
    MissingElement(String),
    /// A value that must be machine-readable is not (a count, a timestamp, an IP address).
    #[error("invalid value {value:?} in {path}")]
    InvalidValue {
        /// Element path.
        path: String,
        /// The value found (truncated for display).
        value: String,
    },
    /// A configured limit was hit.
    #[error("limit exceeded: {0}")]
    Limit(Limit),
    /// A gzip stream is corrupt; the source is flate2's error.
    #[error("corrupt gzip stream")]
    Gzip(#[source] Cause),
    /// A zip archive is corrupt or uses an unsupported feature.
    #[error("bad zip archive: {message}")]
    Zip {
        /// What was wrong.
        message: String,
        /// flate2's error, when an entry's deflate data is corrupt.
        #[source]
        source: Option<Cause>,
    },
    /// An e-mail message could not be read.
    #[error("bad e-mail message: {0}")]
    Mime(String),
    /// An ARF failure report is malformed.
    #[error("bad failure report: {0}")]
    Arf(String),
    /// A message that presents itself as a DMARC failure report (`multipart/report`, or a
    /// Subject or body naming a DMARC failure) but carries no ARF part and not enough facts in
    /// its text to be read as one.
    #[error("not ARF: {0}")]
    NotArf(String),
    /// A JSON document (an SMTP TLS report, RFC 8460) is not well-formed JSON; the source is
    /// serde_json's error.
    #[error("malformed JSON at line {line}, column {column}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's error.
        #[source]
        source: Cause,
    },
}

impl Error {
    /// Malformed XML found by this crate, not by quick-xml.
    pub(crate) fn xml(offset: u64, message: impl Into<String>) -> Self {
        Self::Xml {
            offset,
            message: message.into(),
            source: None,
        }
    }

    /// A zip archive this crate's reader refuses.
    pub(crate) fn zip(message: impl Into<String>) -> Self {
        Self::Zip {
            message: message.into(),
            source: None,
        }
    }

    /// A stable snake_case name of the error class (`doctype`, `truncated`,
    /// `limit:decompressed_size`, ...), for machine-readable output.
    pub fn kind(&self) -> String {
        match self {
            Self::Empty => "empty".into(),
            Self::UnknownFormat(_) => "unknown_format".into(),
            Self::NotAReport { .. } => "not_a_report".into(),
            Self::NoReport(_) => "no_report".into(),
            Self::Truncated(_) => "truncated".into(),
            Self::Xml { .. } => "xml".into(),
            Self::Doctype => "doctype".into(),
            Self::MissingElement(_) => "missing_element".into(),
            Self::InvalidValue { .. } => "invalid_value".into(),
            Self::Limit(l) => format!("limit:{}", l.as_str()),
            Self::Gzip(_) => "gzip".into(),
            Self::Zip { .. } => "zip".into(),
            Self::Mime(_) => "mime".into(),
            Self::Arf(_) => "arf".into(),
            Self::NotArf(_) => "not_arf".into(),
            Self::Json { .. } => "json".into(),
        }
    }
}

/// The error of a library this crate reads with (quick-xml, flate2, serde_json), kept whole as an
/// [`Error`]'s [`source`](std::error::Error::source) without naming the library's type in this
/// crate's API.
///
/// It displays as the library's error and hands on that error's own source. Two causes are
/// equal when they display the same (which is what tests compare); [`Cause::get_ref`] gives the
/// library's error itself, for a caller that knows the library and wants to downcast it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Cause(Arc<LibraryError>);

/// The boxed error behind a thin [`Arc`]: a `Cause` is one pointer, which keeps [`Error`] as
/// small as it was before it held sources (the reader moves many `Result`s).
type LibraryError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Cause {
    pub(crate) fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(Box::new(error)))
    }

    /// The library's error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &**self.0
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get_ref(), f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.get_ref(), f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.get_ref().source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// Which limit was hit (see [`Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_input_bytes`].
    InputSize,
    /// [`Limits::max_decompressed_bytes`].
    DecompressedSize,
    /// [`Limits::max_compression_ratio`].
    CompressionRatio,
    /// [`Limits::max_zip_entries`].
    ZipEntries,
    /// [`Limits::max_nesting`].
    Nesting,
    /// [`Limits::max_xml_depth`].
    XmlDepth,
    /// [`Limits::max_records`].
    Records,
    /// [`Limits::max_string_len`].
    StringLength,
    /// [`Limits::max_children`].
    Children,
    /// [`Limits::max_defects`] (only reported through [`DefectKind::DefectsTruncated`]).
    Defects,
}

impl Limit {
    /// The snake_case name used in serialised output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InputSize => "input_size",
            Self::DecompressedSize => "decompressed_size",
            Self::CompressionRatio => "compression_ratio",
            Self::ZipEntries => "zip_entries",
            Self::Nesting => "nesting",
            Self::XmlDepth => "xml_depth",
            Self::Records => "records",
            Self::StringLength => "string_length",
            Self::Children => "children",
            Self::Defects => "defects",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InputSize => "input size",
            Self::DecompressedSize => "decompressed size",
            Self::CompressionRatio => "compression ratio",
            Self::ZipEntries => "number of zip entries",
            Self::Nesting => "container nesting",
            Self::XmlDepth => "XML depth",
            Self::Records => "number of records",
            Self::StringLength => "string length",
            Self::Children => "number of child elements",
            Self::Defects => "number of defects",
        })
    }
}

/// Limits against hostile input. [`Limits::default`] is safe for reports from strangers.
///
/// RFC 9990 §8.1 ("Report Content as an Attack") leaves the bounds to the implementation; the
/// defaults below are well above any real report (the largest receivers' daily reports are a
/// few MB) and small enough that a single input never needs more than
/// `max_decompressed_bytes` plus a small constant of memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest raw input accepted (default 64 MiB).
    pub max_input_bytes: u64,
    /// Largest total of decompressed bytes for one input, over all entries (default 64 MiB).
    pub max_decompressed_bytes: u64,
    /// Largest decompressed/compressed ratio once past `ratio_grace_bytes` (default 300; real
    /// report XML compresses 10–50×, deflate's maximum is about 1032×).
    pub max_compression_ratio: u64,
    /// Decompressed bytes allowed before the ratio is checked (default 1 MiB).
    pub ratio_grace_bytes: u64,
    /// Most zip entries examined (default 64).
    pub max_zip_entries: usize,
    /// Deepest container nesting (e-mail → zip → gzip → XML is 3; default 4).
    pub max_nesting: usize,
    /// Deepest XML element nesting (the schema needs 5; default 32 for extensions).
    pub max_xml_depth: usize,
    /// Most records per report (default 1 000 000).
    pub max_records: usize,
    /// Longest text value or attribute (default 64 KiB; RFC 9990 §3.1.5 asks that `error`
    /// "not contain an extremely large body").
    pub max_string_len: usize,
    /// Most children under one element other than `feedback` (default 1 000; RFC 9990 §3.1.3
    /// caps DKIM signatures per row at 100).
    pub max_children: usize,
    /// Most defects recorded per report (default 1 000; the rest are counted in one
    /// [`DefectKind::DefectsTruncated`] defect).
    pub max_defects: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 64 << 20,
            max_decompressed_bytes: 64 << 20,
            max_compression_ratio: 300,
            ratio_grace_bytes: 1 << 20,
            max_zip_entries: 64,
            max_nesting: 4,
            max_xml_depth: 32,
            max_records: 1_000_000,
            max_string_len: 64 << 10,
            max_children: 1_000,
            max_defects: 1_000,
        }
    }
}

/// A deviation from the schema that the reader accepted. Reports come back with the list of
/// defects found, so nothing is repaired silently.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Defect {
    /// The class of defect.
    pub kind: DefectKind,
    /// Where: an element path such as `feedback/record[2]/row/count` (1-based record index),
    /// or the container path for wrapper defects.
    pub path: String,
    /// The offending value or name, when there is one (truncated to 200 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Classes of defect the reader tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DefectKind {
    /// An element the report's schema requires is absent (e.g. `sp`, `pct`, `fo` in RFC 7489,
    /// `selector` in RFC 9990); the field is left empty/`None`.
    MissingElement,
    /// An element neither schema defines (skipped).
    UnknownElement,
    /// An element of the other schema (e.g. `pct` in an RFC 9990 report, `np` in an RFC 7489
    /// one); it is still read.
    OtherSchemaElement,
    /// An element that may appear once appeared again; the first one is kept.
    DuplicateElement,
    /// Elements out of the order the schema's `sequence` requires.
    OutOfOrder,
    /// A token in the wrong case (`PASS`, `Reject`); it is read lower-cased.
    UpperCaseToken,
    /// A token no schema defines; kept as `Unknown(..)`.
    UnknownValue,
    /// Whitespace around a value (`<count> 3 </count>`); it is trimmed.
    Whitespace,
    /// The XML declaration is not followed by a line break (`<?xml ...?><feedback>`).
    DeclarationWithoutNewline,
    /// A byte order mark before the document.
    ByteOrderMark,
    /// Bytes that are not UTF-8 in text; replaced with U+FFFD.
    InvalidUtf8,
    /// An entity reference other than the five predefined ones (kept literally).
    UnknownEntity,
    /// A stray XML Schema element (`<xs:schema ...>`) around or inside the report; ignored.
    StraySchemaElement,
    /// An unexpected namespace on the root (or none where RFC 9990 elements are used).
    UnexpectedNamespace,
    /// The report has no `record` (both schemas require one or more).
    NoRecords,
    /// Content after the root element (ignored).
    TrailingContent,
    /// An e-mail or archive part that is not a report was skipped.
    SkippedPart,
    /// More defects than [`Limits::max_defects`]; `value` holds how many were dropped.
    DefectsTruncated,
    /// Markup characters inside a leaf element's text (an unescaped `<` or `&`, as in
    /// `<email><x@y></email>` or `bad<xml.net`); the text is read as written. Also broken
    /// markup between the report's first-level elements, which is skipped (`path` is
    /// `feedback`, `value` the error class, `xml`).
    RecoveredMarkup,
    /// The encoding declaration is wrong (`encoding="UTF-16"` on UTF-8 bytes, an unknown name)
    /// or missing on a document that is not UTF-8; the bytes were decoded as what they are.
    EncodingDeclaration,
    /// The document ends before the root element is closed; the records read whole up to
    /// there are kept.
    TruncatedDocument,
    /// A record that could not be read whole (broken markup inside it, cut off by the end of
    /// the document, or an unusable source IP or count) was dropped; `value` is the class of
    /// the error that dropped it ([`Error::kind`]: `xml`, `truncated`, `invalid_value`, ...).
    DroppedRecord,
    /// A value that must be machine-readable could not be read (a failure report's
    /// `Source-IP` that is no IP address, an `Identity-Alignment` outside the RFC 9991
    /// grammar); the field is left empty and `value` holds the text.
    UnparsableValue,
    /// A MIME part labelled with the wrong type (a failure report's feedback fields in a
    /// `text/plain` part); it is read as what it holds.
    MislabelledPart,
    /// RFC 5322 §4 obsolete syntax (white space between a header field's name and its colon);
    /// read as the current form.
    ObsoleteSyntax,
    /// A number written as a JSON string (`"total-failure-session-count": "303"` in an SMTP
    /// TLS report); it is read as the number.
    NumberAsString,
    /// A JSON value of another type than the schema's where the meaning is clear (a count
    /// written `303.0`, a number where a string belongs, a single string or object where an
    /// array belongs, `null`); it is converted, or read as absent when it cannot be; `value`
    /// describes what was found.
    JsonTypeMismatch,
}

impl DefectKind {
    /// Every defect class.
    pub const ALL: &'static [Self] = &[
        Self::MissingElement,
        Self::UnknownElement,
        Self::OtherSchemaElement,
        Self::DuplicateElement,
        Self::OutOfOrder,
        Self::UpperCaseToken,
        Self::UnknownValue,
        Self::Whitespace,
        Self::DeclarationWithoutNewline,
        Self::ByteOrderMark,
        Self::InvalidUtf8,
        Self::UnknownEntity,
        Self::StraySchemaElement,
        Self::UnexpectedNamespace,
        Self::NoRecords,
        Self::TrailingContent,
        Self::SkippedPart,
        Self::DefectsTruncated,
        Self::RecoveredMarkup,
        Self::EncodingDeclaration,
        Self::TruncatedDocument,
        Self::DroppedRecord,
        Self::UnparsableValue,
        Self::MislabelledPart,
        Self::ObsoleteSyntax,
        Self::NumberAsString,
        Self::JsonTypeMismatch,
    ];
}

/// Truncates a value for error messages and defects (at a char boundary, 200 bytes).
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = s.get(..end).unwrap_or_default().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// A library's error is the source of ours, and its text is not repeated in our message.
    fn check(e: &Error, ours: &str, theirs: &str) {
        assert_eq!(e.to_string(), ours);
        let source = e.source().map(ToString::to_string).unwrap_or_default();
        assert!(source.starts_with(theirs), "{source}");
        assert!(!ours.contains(&source), "{ours} repeats {source}");
    }

    #[test]
    fn library_errors_are_sources() {
        let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        gzip.extend_from_slice(&[0xff; 16]);
        let e = crate::parse(&gzip).unwrap_err();
        check(&e, "corrupt gzip stream", "corrupt deflate stream");

        let e = crate::parse_xml(b"<feedback><report_metadata></version></feedback>").unwrap_err();
        check(
            &e,
            "malformed XML at byte 27: ill-formed document",
            "expected `</report_metadata>`",
        );

        let e = crate::tls::parse_json(b"{\"policies\": [,]}").unwrap_err();
        check(&e, "malformed JSON at line 1, column 15", "expected value");
        // Clones compare equal; so do causes that say the same.
        assert_eq!(e.clone(), e);
        assert_eq!(
            crate::tls::parse_json(b"{\"policies\": [,]}").unwrap_err(),
            e
        );
    }

    /// The XML reader moves `Result`s of this error along its hot path: keeping sources must
    /// not make it larger than two strings (a fat `Arc` in `Xml` made it 56 bytes, and reading
    /// a large report 3 % slower).
    #[test]
    fn error_stays_small() {
        assert!(size_of::<Error>() <= 2 * size_of::<String>());
    }

    #[test]
    fn errors_of_our_own_have_no_source() {
        let e = crate::parse_xml(b"text<feedback/>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed XML at byte 4: text before the root element"
        );
        assert!(e.source().is_none());
    }
}
