//! Writing aggregate reports: RFC 9990 XML, gzip, the §3.5.2 file name and the report e-mail.

use std::fmt::Write as _;
use std::io::Write as _;

use base64::Engine as _;

use crate::model::{AggregateReport, NAMESPACE_RFC9990, PolicyOverride, SpfScope, XmlElement};

/// Writes `report` as RFC 9990 XML (namespace `urn:ietf:params:xml:ns:dmarc-2.0`), elements in
/// the order of the Appendix A schema.
///
/// Fields the RFC 9990 schema has no place for are left out or mapped: `pct` is left out; of
/// the SPF results only the first one not scoped `helo` is written (RFC 9990 allows "zero or
/// one", for MAIL FROM); `error` elements after the first are joined into the one allowed,
/// separated by newlines; the RFC 7489 override types `forwarded` and `sampled_out` become
/// `other` with the old type leading the comment; a missing DKIM selector (optional in RFC
/// 7489) is written empty. Values outside the schema's enumerations
/// (`Unknown(..)`, only present in reports read from non-conforming sources) are written as
/// they are, so such a report does not validate. Characters XML 1.0 cannot carry are written as
/// U+FFFD.
///
/// # Examples
///
/// ```
/// # let xml = br#"<feedback><report_metadata><org_name>r</org_name><email>e</email>
/// # <report_id>1</report_id><date_range><begin>0</begin><end>1</end></date_range>
/// # </report_metadata><policy_published><domain>example.com</domain><p>none</p>
/// # </policy_published></feedback>"#;
/// let report = mailward_reports::parse_xml(xml).unwrap().report;
/// let out = mailward_reports::to_xml(&report);
/// assert!(out.contains(r#"<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">"#));
/// ```
pub fn to_xml(report: &AggregateReport) -> String {
    let mut w = Writer::default();
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(w.out, "<feedback xmlns=\"{NAMESPACE_RFC9990}\">");
    w.depth = 1;
    if let Some(v) = &report.version {
        w.leaf("version", v);
    }
    let m = &report.report_metadata;
    w.open("report_metadata");
    w.leaf("org_name", &m.org_name);
    w.leaf("email", &m.email);
    w.opt("extra_contact_info", m.extra_contact_info.as_deref());
    w.leaf("report_id", &m.report_id);
    w.open("date_range");
    w.leaf("begin", &m.date_range.begin.to_string());
    w.leaf("end", &m.date_range.end.to_string());
    w.close("date_range");
    if !m.errors.is_empty() {
        w.leaf("error", &m.errors.join("\n"));
    }
    w.opt("generator", m.generator.as_deref());
    w.close("report_metadata");

    let p = &report.policy_published;
    w.open("policy_published");
    w.leaf("domain", &p.domain);
    w.opt("p", p.p.as_ref().map(|v| v.as_str()));
    w.opt("sp", p.sp.as_ref().map(|v| v.as_str()));
    w.opt("np", p.np.as_ref().map(|v| v.as_str()));
    w.opt("adkim", p.adkim.as_ref().map(|v| v.as_str()));
    w.opt("aspf", p.aspf.as_ref().map(|v| v.as_str()));
    w.opt(
        "discovery_method",
        p.discovery_method.as_ref().map(|v| v.as_str()),
    );
    w.opt("fo", p.fo.as_deref());
    w.opt("testing", p.testing.as_ref().map(|v| v.as_str()));
    w.close("policy_published");

    if let Some(ext) = &report.extension {
        w.open("extension");
        for e in ext {
            w.element(e);
        }
        w.close("extension");
    }

    for r in &report.records {
        w.open("record");
        w.open("row");
        w.leaf("source_ip", &r.row.source_ip.to_string());
        w.leaf("count", &r.row.count.to_string());
        let pe = &r.row.policy_evaluated;
        w.open("policy_evaluated");
        w.opt("disposition", pe.disposition.as_ref().map(|v| v.as_str()));
        w.opt("dkim", pe.dkim.as_ref().map(|v| v.as_str()));
        w.opt("spf", pe.spf.as_ref().map(|v| v.as_str()));
        for reason in &pe.reasons {
            w.open("reason");
            match reason.kind {
                // RFC 7489-only types have no RFC 9990 value: written as `other`, the old
                // type leading the comment.
                PolicyOverride::Forwarded | PolicyOverride::SampledOut => {
                    w.leaf("type", "other");
                    let comment = match &reason.comment {
                        Some(c) => format!("{}: {c}", reason.kind),
                        None => reason.kind.to_string(),
                    };
                    w.leaf("comment", &comment);
                }
                _ => {
                    w.leaf("type", reason.kind.as_str());
                    w.opt("comment", reason.comment.as_deref());
                }
            }
            w.close("reason");
        }
        w.close("policy_evaluated");
        w.close("row");
        let id = &r.identifiers;
        w.open("identifiers");
        w.leaf("header_from", &id.header_from);
        w.opt("envelope_from", id.envelope_from.as_deref());
        w.opt("envelope_to", id.envelope_to.as_deref());
        w.close("identifiers");
        w.open("auth_results");
        for d in &r.auth_results.dkim {
            w.open("dkim");
            w.leaf("domain", &d.domain);
            // RFC 9990 requires a selector; a result read from an RFC 7489 report without one is
            // written with an empty selector.
            w.leaf("selector", d.selector.as_deref().unwrap_or_default());
            w.opt("result", d.result.as_ref().map(|v| v.as_str()));
            w.opt("human_result", d.human_result.as_deref());
            w.close("dkim");
        }
        // RFC 9990 reports one SPF result, for the MAIL FROM identity: the first result not
        // scoped `helo` (RFC 7489 reports could carry HELO results too).
        let spf = r
            .auth_results
            .spf
            .iter()
            .find(|s| s.scope != Some(SpfScope::Helo));
        if let Some(s) = spf {
            w.open("spf");
            w.leaf("domain", &s.domain);
            w.opt("scope", s.scope.as_ref().map(|v| v.as_str()));
            w.opt("result", s.result.as_ref().map(|v| v.as_str()));
            w.opt("human_result", s.human_result.as_deref());
            w.close("spf");
        }
        w.close("auth_results");
        for e in &r.extensions {
            w.element(e);
        }
        w.close("record");
    }
    w.out.push_str("</feedback>\n");
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn leaf(&mut self, name: &str, value: &str) {
        self.indent();
        let _ = write!(self.out, "<{name}>");
        escape_into(&mut self.out, value, false);
        let _ = writeln!(self.out, "</{name}>");
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.leaf(name, v);
        }
    }

    fn element(&mut self, e: &XmlElement) {
        self.indent();
        let name = sanitize_name(&e.name);
        let _ = write!(self.out, "<{name}");
        for (k, v) in &e.attributes {
            let _ = write!(self.out, " {}=\"", sanitize_name(k));
            escape_into(&mut self.out, v, true);
            self.out.push('"');
        }
        self.out.push('>');
        escape_into(&mut self.out, &e.text, false);
        if !e.children.is_empty() {
            self.out.push('\n');
            self.depth += 1;
            for c in &e.children {
                self.element(c);
            }
            self.depth = self.depth.saturating_sub(1);
            self.indent();
        }
        let _ = writeln!(self.out, "</{name}>");
    }
}

/// Element and attribute names are written only with name characters (others become `_`).
fn sanitize_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        s.insert(0, '_');
    }
    s
}

/// XML 1.0 §2.2 `Char`: tab, LF, CR and U+0020 onwards except surrogates and U+FFFE/U+FFFF
/// (Rust `char` already excludes surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            // Keep CR through parsing (XML end-of-line handling would turn it into LF).
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' if attr => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Gzip-compresses `data` (RFC 1952; modification time 0, so output is deterministic).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// The attachment file name of RFC 9990 §3.5.2:
/// `receiver "!" policy-domain "!" begin "!" end [ "!" unique-id ] "." ("xml" / "xml.gz")`.
///
/// `unique_id` keeps only its ASCII letters and digits (`unique-id = 1*(ALPHA / DIGIT)`); if
/// none are left it is omitted.
///
/// # Examples
///
/// ```
/// # let xml = br#"<feedback><report_metadata><org_name>r</org_name><email>e</email>
/// # <report_id>1</report_id><date_range><begin>1013662812</begin><end>1013749130</end>
/// # </date_range></report_metadata><policy_published><domain>example.com</domain><p>none</p>
/// # </policy_published></feedback>"#;
/// # let report = mailward_reports::parse_xml(xml).unwrap().report;
/// // RFC 9990 §3.5.2's example.
/// assert_eq!(
///     mailward_reports::file_name("mail.receiver.example", &report, None, true),
///     "mail.receiver.example!example.com!1013662812!1013749130.xml.gz"
/// );
/// ```
pub fn file_name(
    receiver: &str,
    report: &AggregateReport,
    unique_id: Option<&str>,
    gzip: bool,
) -> String {
    let d = &report.report_metadata.date_range;
    let period = (d.begin, d.end);
    let domain = &report.policy_published.domain;
    report_file_name(receiver, domain, period, unique_id, "xml", gzip)
}

/// The file name both report kinds use (RFC 9990 §3.5.2, RFC 8460 §5.1):
/// `sender!domain!begin!end[!unique-id].extension[.gz]`, the unique id reduced to its ASCII
/// letters and digits (left out when none are left).
pub(crate) fn report_file_name(
    sender: &str,
    domain: &str,
    (begin, end): (u64, u64),
    unique_id: Option<&str>,
    extension: &str,
    gzip: bool,
) -> String {
    let mut name = format!("{sender}!{domain}!{begin}!{end}");
    if let Some(id) = unique_id {
        let id: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
        if !id.is_empty() {
            name.push('!');
            name.push_str(&id);
        }
    }
    name.push('.');
    name.push_str(extension);
    if gzip {
        name.push_str(".gz");
    }
    name
}

/// RFC 9990 §3.5.1: `ridfmt = (dot-atom-text ["@" dot-atom-text])`,
/// `ridtxt = ("<" ridfmt ">") / ridfmt`.
pub fn is_ridtxt(id: &str) -> bool {
    let inner = id
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(id);
    let mut parts = inner.splitn(2, '@');
    let left = parts.next().unwrap_or_default();
    let ok = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|atom| {
                !atom.is_empty()
                    && atom
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
            })
    };
    ok(left) && parts.next().is_none_or(ok)
}

/// Envelope of a report e-mail (RFC 9990 §3.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEmail {
    /// `From:` address (an aligned, DMARC-passing address of the reporter).
    pub from: String,
    /// `To:` address (from the `rua` URI).
    pub to: String,
    /// The domain of the Mail Receiver generating the report (`Submitter:`, the file name's
    /// `receiver`).
    pub submitter: String,
    /// RFC 5322 `Date:` value (the caller's clock: the crate reads no time).
    pub date: String,
    /// Optional unique id for the file name.
    pub unique_id: Option<String>,
    /// Compress the XML (RFC 9990: "SHOULD be subjected to GZIP").
    pub gzip: bool,
}

/// The Subject of RFC 9990 §3.5.2, folded before `Submitter:` and `Report-ID:`:
/// `Report Domain: <policy domain> Submitter: <submitter> Report-ID: <ridtxt>`; the Report-ID
/// part is left out when the report id is not a valid `ridtxt`.
pub fn subject(report: &AggregateReport, submitter: &str) -> String {
    let mut s = format!(
        "Report Domain: {}\r\n Submitter: {submitter}",
        report.policy_published.domain
    );
    let rid = &report.report_metadata.report_id;
    if is_ridtxt(rid) {
        let _ = write!(s, "\r\n Report-ID: {rid}");
    }
    s
}

/// Builds the complete report message (RFC 5322 + MIME, CRLF line ends): a `text/plain` note
/// and the report as an attachment (`application/gzip` or `text/xml`) named per
/// [`file_name`].
pub fn to_email(report: &AggregateReport, env: &ReportEmail) -> Vec<u8> {
    const BOUNDARY: &str = "=_mailward_report_boundary_=";
    let xml = to_xml(report);
    let (data, media) = if env.gzip {
        (gzip(xml.as_bytes()), "application/gzip")
    } else {
        (xml.into_bytes(), "text/xml")
    };
    let name = file_name(&env.submitter, report, env.unique_id.as_deref(), env.gzip);
    let rid = &report.report_metadata.report_id;
    let mut m = String::new();
    let _ = write!(m, "From: {}\r\n", env.from);
    let _ = write!(m, "To: {}\r\n", env.to);
    let _ = write!(m, "Date: {}\r\n", env.date);
    let _ = write!(m, "Subject: {}\r\n", subject(report, &env.submitter));
    if is_ridtxt(rid) && rid.trim_start_matches('<').contains('@') {
        let id = rid.trim_start_matches('<').trim_end_matches('>');
        let _ = write!(m, "Message-ID: <{id}>\r\n");
    }
    m.push_str("MIME-Version: 1.0\r\n");
    let _ = write!(
        m,
        "Content-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\r\n\r\n"
    );
    let _ = write!(m, "--{BOUNDARY}\r\n");
    m.push_str(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
    );
    let _ = write!(
        m,
        "This is a DMARC aggregate report for {} from {}.\r\n\r\n",
        ascii_only(&report.policy_published.domain),
        ascii_only(&env.submitter)
    );
    let _ = write!(m, "--{BOUNDARY}\r\n");
    let _ = write!(
        m,
        "Content-Type: {media}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n"
    );
    push_base64_lines(&mut m, &data);
    let _ = write!(m, "--{BOUNDARY}--\r\n");
    m.into_bytes()
}

/// Appends `data` in base64 (RFC 2045 §6.8), in lines of 76 characters, each ending in CRLF.
pub(crate) fn push_base64_lines(m: &mut String, data: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    for line in b64.as_bytes().chunks(76) {
        m.push_str(std::str::from_utf8(line).unwrap_or_default());
        m.push_str("\r\n");
    }
}

fn ascii_only(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        let mut s = String::new();
        escape_into(&mut s, "a<b>&\"c\"\r\u{1}", false);
        assert_eq!(s, "a&lt;b&gt;&amp;\"c\"&#13;\u{FFFD}");
        let mut s = String::new();
        escape_into(&mut s, "\"\t\n", true);
        assert_eq!(s, "&quot;&#9;&#10;");
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitize_name("ext:a-b.c_1"), "ext:a-b.c_1");
        assert_eq!(sanitize_name("1bad name"), "_1bad_name");
        assert_eq!(sanitize_name(""), "_");
    }
}
