//! The aggregate report XML reader: lenient about what real reporters get wrong, hardened
//! against hostile input.
//!
//! The document is streamed with quick-xml. The first-level elements of the head
//! (`report_metadata`, `policy_published`, `extension`) are collected into small bounded trees
//! and converted; each `record` is read from the events straight into the model, only its
//! leaves becoming nodes. Memory is proportional to the output, not to the document. There is no DTD processing and no entity expansion: a `<!DOCTYPE` is an error
//! ([`Error::Doctype`]), and an entity reference other than the five predefined ones and
//! character references is kept literally and reported ([`DefectKind::UnknownEntity`]).
//!
//! The stages, each in its own module: [`scan`] finds records and the root's end in the raw
//! bytes; [`events`] turns quick-xml events into bounded element nodes; [`schema`] maps the
//! schemas' elements into the model; [`document`] walks the first-level elements in order and
//! recovers from broken markup between records; [`parallel`] reads the records of a large
//! report on two threads. Encodings are settled before any of them ([`crate::charset`]), and
//! leaf text with raw markup is repaired between a failed read and a second one
//! ([`crate::recover`]).

mod document;
mod events;
mod fields;
mod names;
mod parallel;
mod scan;
mod schema;

use events::XmlParser;
pub(crate) use scan::find;

use crate::error::{Defect, DefectKind, Error, Limits};
use crate::model::AggregateReport;
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
