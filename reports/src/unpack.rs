//! Unpacking report inputs: plain XML, gzip, zip and RFC 5322 messages, detected from content,
//! and containers nested in each other.
//!
//! Every decompression streams through a limit check: the running total of decompressed bytes
//! (over all entries of one input, nested containers included) is compared with
//! [`Limits::max_decompressed_bytes`] and the decompressed/compressed ratio with
//! [`Limits::max_compression_ratio`] after every 64 KiB, so a bomb fails after at most one chunk
//! past the limit. Sizes written in zip headers are never trusted for allocation.

mod zip;

use std::io::Read;

use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::error::{Cause, Defect, DefectKind, Error, Limit, Limits, clip};
use crate::read::{ParsedReport, find, parse_xml_with};
use crate::tls::ParsedTlsReport;

/// The content formats recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// XML (optionally after a byte order mark and whitespace).
    Xml,
    /// A gzip stream (RFC 1952 magic `1f 8b`).
    Gzip,
    /// A zip archive (`PK\x03\x04` or, for an empty archive, `PK\x05\x06`).
    Zip,
    /// An RFC 5322 message (first line is a header field or an mbox `From ` line).
    Email,
    /// JSON (an SMTP TLS report, RFC 8460; or anything else starting with `{` or `[`).
    Json,
}

/// Decompressed-chunk size for the limit checks.
const CHUNK: usize = 64 * 1024;

/// Detects the format of `input` from its first bytes.
///
/// # Errors
///
/// [`Error::Empty`] for empty input, [`Error::UnknownFormat`] when none matches.
pub fn detect_format(input: &[u8]) -> Result<Format, Error> {
    if input.starts_with(&[0x1f, 0x8b]) {
        return Ok(Format::Gzip);
    }
    if input.starts_with(b"PK\x03\x04") || input.starts_with(b"PK\x05\x06") {
        return Ok(Format::Zip);
    }
    if input.starts_with(&[0xFF, 0xFE])
        || input.starts_with(&[0xFE, 0xFF])
        || input.starts_with(b"<\0?\0")
        || input.starts_with(b"\0<\0?")
    {
        // UTF-16 byte order mark, or an XML declaration in UTF-16 without one (XML 1.0
        // Appendix F.1): only XML is expected in UTF-16 here.
        return Ok(Format::Xml);
    }
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Err(Error::Empty);
    };
    let body = body.get(start..).unwrap_or_default();
    if body.first() == Some(&b'<') {
        return Ok(Format::Xml);
    }
    if matches!(body.first(), Some(b'{' | b'[')) {
        // JSON: an SMTP TLS report, or an API error body; no mail header starts this way.
        return Ok(Format::Json);
    }
    if body.starts_with(b"From ") || looks_like_header(body) {
        return Ok(Format::Email);
    }
    Err(Error::UnknownFormat(describe(body)))
}

/// RFC 5322 §3.6.8: `field-name = 1*ftext`, `ftext = %d33-57 / %d59-126`, then ":".
fn looks_like_header(b: &[u8]) -> bool {
    let name_len = b
        .iter()
        .take(1000)
        .take_while(|c| matches!(c, 33..=57 | 59..=126))
        .count();
    if name_len == 0 {
        return false;
    }
    // Allow whitespace between the name and the colon (obsolete syntax, RFC 5322 §4.5).
    b.get(name_len..)
        .and_then(|r| r.iter().find(|c| **c != b' ' && **c != b'\t'))
        == Some(&b':')
}

fn describe(b: &[u8]) -> String {
    let head: String = b
        .iter()
        .take(16)
        .map(|c| {
            if c.is_ascii_graphic() || *c == b' ' {
                char::from(*c)
            } else {
                '.'
            }
        })
        .collect();
    format!("content starts with {head:?}")
}

/// Parses every aggregate report in `input` (XML, gzip, zip, e-mail, nested) with the default
/// [`Limits`].
///
/// # Errors
///
/// Any [`Error`]: the whole input is rejected if any report inside it is.
///
/// # Examples
///
/// ```
/// let err = mailward_reports::parse(b"hello world").unwrap_err();
/// assert!(matches!(err, mailward_reports::Error::UnknownFormat(_)));
/// ```
pub fn parse(input: &[u8]) -> Result<Vec<ParsedReport>, Error> {
    parse_with(input, &Limits::default())
}

/// Parses every aggregate report in `input` with explicit limits.
///
/// Each report's `source` says where it was found (`zip:dir/a.xml`, `mime[2](r.xml.gz)>gzip`);
/// wrapper defects ([`DefectKind::SkippedPart`]) are added to every report of the input. SMTP
/// TLS reports inside a container are skipped here (see [`read_with`](crate::read_with)).
///
/// # Errors
///
/// As [`parse`].
pub fn parse_with(input: &[u8], limits: &Limits) -> Result<Vec<ParsedReport>, Error> {
    if let Ok(Format::Json) = detect_format(input) {
        return Err(Error::UnknownFormat(describe(input)));
    }
    let mut found = walk(input, limits, false)?;
    if found.aggregate.is_empty() {
        return Err(Error::NoReport("input".into()));
    }
    for report in &mut found.aggregate {
        report.defects.extend(found.wrapper_defects.iter().cloned());
    }
    Ok(found.aggregate)
}

/// Everything a container held.
pub(crate) struct Walked {
    pub(crate) aggregate: Vec<ParsedReport>,
    pub(crate) tls: Vec<ParsedTlsReport>,
    pub(crate) wrapper_defects: Vec<Defect>,
}

/// Unpacks `input` and reads every aggregate report in it, and every TLS report when `tls`.
/// Each document is read where it lies (a plain XML input is not copied).
pub(crate) fn walk(input: &[u8], limits: &Limits, tls: bool) -> Result<Walked, Error> {
    if input.len() as u64 > limits.max_input_bytes {
        return Err(Error::Limit(Limit::InputSize));
    }
    let mut ctx = Ctx {
        limits,
        decompressed: 0,
        wrapper_defects: Vec::new(),
    };
    let mut aggregate = Vec::new();
    let mut tls_reports = Vec::new();
    let mut skipped_tls = Vec::new();
    ctx.expand(input, String::new(), 0, &mut |source, doc, kind, limits| {
        match kind {
            Doc::Aggregate => {
                let mut parsed = parse_xml_with(doc, limits)?;
                parsed.source = source;
                aggregate.push(parsed);
            }
            Doc::Tls if tls => {
                let mut parsed = crate::tls::parse_json_with(doc, limits)?;
                parsed.source = source;
                tls_reports.push(parsed);
            }
            Doc::Tls => skipped_tls.push(source),
        }
        Ok(())
    })?;
    let mut wrapper_defects = ctx.wrapper_defects;
    wrapper_defects.extend(skipped_tls.into_iter().map(|path| Defect {
        kind: DefectKind::SkippedPart,
        path,
        value: Some("SMTP TLS report".into()),
    }));
    Ok(Walked {
        aggregate,
        tls: tls_reports,
        wrapper_defects,
    })
}

/// Returns the report documents in `input` after unpacking containers, without parsing the XML
/// (for tools that want the raw XML). Each item is `(source, xml bytes)`.
///
/// # Errors
///
/// Container errors and limits, as [`parse`].
pub fn unpack_documents(input: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, Error> {
    if input.len() as u64 > limits.max_input_bytes {
        return Err(Error::Limit(Limit::InputSize));
    }
    let mut docs = Vec::new();
    let mut ctx = Ctx {
        limits,
        decompressed: 0,
        wrapper_defects: Vec::new(),
    };
    ctx.expand(input, String::new(), 0, &mut |s, doc, kind, _| {
        if kind == Doc::Aggregate {
            docs.push((s, doc.to_vec()));
        }
        Ok(())
    })?;
    if docs.is_empty() {
        return Err(Error::NoReport("input".into()));
    }
    Ok(docs)
}

/// The old name of [`unpack_documents`].
///
/// # Errors
///
/// As [`unpack_documents`].
#[deprecated(note = "renamed to `unpack_documents`")]
pub fn unwrap_documents(input: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, Error> {
    unpack_documents(input, limits)
}

/// The kind of report document found inside a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doc {
    /// DMARC aggregate report XML.
    Aggregate,
    /// SMTP TLS report JSON (RFC 8460).
    Tls,
}

struct Ctx<'l> {
    limits: &'l Limits,
    decompressed: u64,
    wrapper_defects: Vec<Defect>,
}

type Sink<'s> = dyn FnMut(String, &[u8], Doc, &Limits) -> Result<(), Error> + 's;

impl Ctx<'_> {
    fn expand(
        &mut self,
        input: &[u8],
        source: String,
        depth: usize,
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        if depth > self.limits.max_nesting {
            return Err(Error::Limit(Limit::Nesting));
        }
        match detect_format(input)? {
            Format::Xml => sink(source, input, Doc::Aggregate, self.limits),
            Format::Json => sink(source, input, Doc::Tls, self.limits),
            Format::Gzip => {
                let inner = self.gunzip(input)?;
                let source = join(&source, "gzip");
                if depth > 0 && candidate(&inner).is_none() {
                    // A compressed part that is no report (a log, a picture): skipped.
                    self.skip(source);
                    return Ok(());
                }
                self.expand(&inner, source, depth + 1, sink)
            }
            Format::Zip => self.unzip(input, &source, depth, sink),
            Format::Email => self.email(input, &source, depth, sink),
        }
    }

    fn skip(&mut self, path: String) {
        self.wrapper_defects.push(Defect {
            kind: DefectKind::SkippedPart,
            path,
            value: None,
        });
    }

    /// Decompresses every member of a gzip file (RFC 1952 §2.2: "a gzip file consists of a
    /// series of members"; some report writers append members). Bytes after the last member
    /// that do not start another member (zero padding) are ignored.
    fn gunzip(&mut self, input: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut rest = input;
        // Each member is at least 18 bytes (RFC 1952 §2.3), so the loop is bounded by the
        // input; the decompressed budget bounds the output.
        while rest.starts_with(&[0x1f, 0x8b]) {
            let mut decoder = flate2::bufread::GzDecoder::new(rest);
            let total = rest.len();
            let member = inflate(
                &mut decoder,
                |d| total.saturating_sub(d.get_ref().len()) as u64,
                &mut self.decompressed,
                self.limits,
                Error::Gzip,
            )?;
            out.extend_from_slice(&member);
            let left = decoder.get_ref().len();
            if left >= rest.len() {
                break;
            }
            rest = rest
                .get(rest.len().saturating_sub(left)..)
                .unwrap_or_default();
        }
        Ok(out)
    }

    fn unzip(
        &mut self,
        input: &[u8],
        source: &str,
        depth: usize,
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        let entries = zip::entries(input, self.limits)?;
        let mut any = false;
        for entry in entries {
            let data = match entry.method {
                0 => {
                    // Stored: the bytes are the content; still counted against the budget.
                    self.decompressed = self.decompressed.saturating_add(entry.data.len() as u64);
                    if self.decompressed > self.limits.max_decompressed_bytes {
                        return Err(Error::Limit(Limit::DecompressedSize));
                    }
                    entry.data.to_vec()
                }
                8 => {
                    let mut decoder = flate2::bufread::DeflateDecoder::new(entry.data);
                    let total = entry.data.len();
                    inflate(
                        &mut decoder,
                        |d| total.saturating_sub(d.get_ref().len()) as u64,
                        &mut self.decompressed,
                        self.limits,
                        |cause| Error::Zip {
                            message: format!("entry {:?} is corrupt", clip(&entry.name)),
                            source: Some(cause),
                        },
                    )?
                }
                m => {
                    return Err(Error::zip(format!(
                        "entry {:?} uses unsupported compression method {m}",
                        clip(&entry.name)
                    )));
                }
            };
            let entry_source = join(source, &format!("zip:{}", entry.name));
            if candidate(&data).is_some() {
                any = true;
                self.expand(&data, entry_source, depth + 1, sink)?;
            } else {
                self.skip(entry_source);
            }
        }
        if !any {
            return Err(Error::NoReport("zip archive".into()));
        }
        Ok(())
    }

    fn email(
        &mut self,
        input: &[u8],
        source: &str,
        depth: usize,
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        let message = MessageParser::default()
            .parse(input)
            .ok_or_else(|| Error::Mime("not a parsable message".into()))?;
        let mut any = false;
        self.email_parts(&message, source, depth, sink, &mut any)?;
        if !any {
            return Err(Error::NoReport("e-mail message".into()));
        }
        Ok(())
    }

    /// Every leaf part of the message (any number, any order, nested messages included) that
    /// holds a report; bodies, pictures and other attachments are passed over.
    fn email_parts(
        &mut self,
        message: &mail_parser::Message<'_>,
        source: &str,
        depth: usize,
        sink: &mut Sink<'_>,
        any: &mut bool,
    ) -> Result<(), Error> {
        if depth > self.limits.max_nesting {
            return Err(Error::Limit(Limit::Nesting));
        }
        for (i, part) in message.parts.iter().enumerate() {
            let label = match part.attachment_name() {
                Some(name) => format!("mime[{i}]({})", clip(name)),
                None => format!("mime[{i}]"),
            };
            let part_source = join(source, &label);
            match &part.body {
                PartType::Multipart(_) => {}
                PartType::Message(nested) => {
                    self.email_parts(nested, &part_source, depth + 1, sink, any)?;
                }
                PartType::Text(_)
                | PartType::Html(_)
                | PartType::Binary(_)
                | PartType::InlineBinary(_) => {
                    let data = part.contents();
                    self.decompressed = self.decompressed.saturating_add(data.len() as u64);
                    if self.decompressed > self.limits.max_decompressed_bytes {
                        return Err(Error::Limit(Limit::DecompressedSize));
                    }
                    let is_report = candidate(data).is_some();
                    if is_report {
                        *any = true;
                        self.expand(data, part_source, depth + 1, sink)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `data` may hold a report, judged from its first bytes: a compressed container, XML
/// whose root element is `feedback` (an HTML body mentioning "feedback" is not), or JSON with
/// the members of an SMTP TLS report.
fn candidate(data: &[u8]) -> Option<Format> {
    let format = detect_format(data).ok()?;
    let head = data.get(..data.len().min(4096)).unwrap_or_default();
    match format {
        Format::Gzip | Format::Zip => Some(format),
        Format::Xml => (root_name(head).as_deref() == Some("feedback")).then_some(format),
        Format::Json => (find(head, b"\"policies\"").is_some()
            || find(head, b"\"organization-name\"").is_some())
        .then_some(format),
        Format::Email => None,
    }
}

/// The local name of the root element of an XML document (after the declaration, comments,
/// processing instructions, a document type declaration and stray `xs:schema` wrappers),
/// looked for in the first bytes; UTF-16 is decoded first.
fn root_name(head: &[u8]) -> Option<String> {
    let decoded = crate::charset::decode(head);
    let mut rest: &[u8] = &decoded.bytes;
    rest = rest.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(rest);
    // Bounded: every round consumes at least one byte of the head.
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        rest = rest.get(start..)?;
        if rest.starts_with(b"<?") {
            rest = after(rest, b"?>")?;
        } else if rest.starts_with(b"<!--") {
            rest = after(rest, b"-->")?;
        } else if rest.starts_with(b"<!") {
            // A document type declaration, with or without an internal subset.
            let gt = rest.iter().position(|b| *b == b'>')?;
            rest = match rest.iter().position(|b| *b == b'[') {
                Some(open) if open < gt => after(after(rest, b"]")?, b">")?,
                _ => rest.get(gt + 1..)?,
            };
        } else {
            let name_bytes = rest.strip_prefix(b"<")?;
            let len = name_bytes
                .iter()
                .take_while(|c| !c.is_ascii_whitespace() && !matches!(c, b'>' | b'/'))
                .count();
            let qname = String::from_utf8_lossy(name_bytes.get(..len)?).into_owned();
            let local = qname.rsplit_once(':').map_or(qname.as_str(), |(_, l)| l);
            if local != "schema" {
                return Some(local.to_owned());
            }
            // A stray `<xs:schema>` wrapper around the report.
            rest = after(name_bytes.get(len..)?, b">")?;
        }
    }
}

/// The bytes after the first `marker`.
fn after<'a>(bytes: &'a [u8], marker: &[u8]) -> Option<&'a [u8]> {
    find(bytes, marker).and_then(|i| bytes.get(i + marker.len()..))
}

fn join(source: &str, part: &str) -> String {
    if source.is_empty() {
        part.to_owned()
    } else {
        format!("{source}>{part}")
    }
}

/// Streams a decoder into memory under the decompressed-size and ratio limits.
fn inflate<D: Read>(
    decoder: &mut D,
    consumed: impl Fn(&D) -> u64,
    budget: &mut u64,
    limits: &Limits,
    corrupt: impl Fn(Cause) -> Error,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(Error::Truncated("compressed stream ends early".into()));
            }
            Err(e) => return Err(corrupt(Cause::new(e))),
        };
        *budget = budget.saturating_add(n as u64);
        if *budget > limits.max_decompressed_bytes {
            return Err(Error::Limit(Limit::DecompressedSize));
        }
        let produced = out.len().saturating_add(n) as u64;
        if produced > limits.ratio_grace_bytes
            && produced / consumed(decoder).max(1) > limits.max_compression_ratio
        {
            return Err(Error::Limit(Limit::CompressionRatio));
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_content() {
        assert_eq!(detect_format(b"\x1f\x8b\x08").unwrap(), Format::Gzip);
        assert_eq!(detect_format(b"PK\x03\x04rest").unwrap(), Format::Zip);
        assert_eq!(detect_format(b"PK\x05\x06").unwrap(), Format::Zip);
        assert_eq!(
            detect_format(b"\xEF\xBB\xBF \n<feedback/>").unwrap(),
            Format::Xml
        );
        assert_eq!(detect_format(b"\xFF\xFE<\x00").unwrap(), Format::Xml);
        assert_eq!(
            detect_format(b"Received: from x\r\n").unwrap(),
            Format::Email
        );
        assert_eq!(
            detect_format(b"Subject : obsolete spacing\r\n").unwrap(),
            Format::Email
        );
        assert_eq!(
            detect_format(b"From alice@example.com Mon Jan  1\n").unwrap(),
            Format::Email
        );
        assert_eq!(detect_format(b" \n\t").unwrap_err(), Error::Empty);
        // JSON is told apart up front, not read as a header block.
        assert_eq!(detect_format(b"{\"json\": 1}").unwrap(), Format::Json);
        assert_eq!(detect_format(b"\n[1, 2]").unwrap(), Format::Json);
        assert!(matches!(detect_format(b"hello: world"), Ok(Format::Email)));
        assert!(matches!(
            detect_format(b"no colon here"),
            Err(Error::UnknownFormat(_))
        ));
    }

    #[test]
    fn empty_zip_is_no_report() {
        // An end of central directory record alone: an archive with no entries.
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0; 18]);
        assert_eq!(
            parse(&eocd).unwrap_err(),
            Error::NoReport("zip archive".into())
        );
    }

    #[test]
    fn zip_without_directory_is_truncated() {
        assert!(matches!(
            parse(b"PK\x03\x04\x14\x00"),
            Err(Error::Truncated(_))
        ));
    }
}
