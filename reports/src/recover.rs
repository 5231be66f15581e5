//! Recovery of leaf text that real receivers break.
//!
//! Some reporters write values without escaping them: `<email><x@y></email>`, a `header_from`
//! of `bad<xml.net`, an org name with a bare `&`. Such a document is not well-formed, and a
//! strict reader loses the record or the whole report. The schema gives a sound way back: a
//! free-text leaf of the report (`org_name`, `header_from`, `human_result`, ...) never has
//! child elements, so everything between `<header_from>` and the next `</header_from>` is its
//! text. This pass finds those leaves and escapes the markup characters inside them, so the
//! normal reader can run on the result; each repaired leaf is reported.
//!
//! Structure is never guessed. A leaf is repaired only when its closing tag follows before any
//! tag that names an element of the report schema (`<x@y>` or `<xml.net` are text; `<domain>`
//! is structure); otherwise it is left alone, and the reader drops the record or rejects the
//! report as before. The pass runs only after a strict read failed or dropped a record.

use std::borrow::Cow;

use crate::error::{Limits, clip};

/// Free-text leaves: elements whose content is a string value that may hold `<` or `&` as
/// written by the sender or the reporter. Tokens and numbers are not here: markup inside them
/// is no value of theirs to recover.
const TEXT_LEAVES: &[&str] = &[
    "org_name",
    "email",
    "extra_contact_info",
    "report_id",
    "error",
    "generator",
    "domain",
    "header_from",
    "envelope_from",
    "envelope_to",
    "selector",
    "human_result",
    "comment",
    "fo",
];

/// Element names of both report schemas: a tag with one of these names is structure.
const SCHEMA_NAMES: &[&str] = &[
    "feedback",
    "version",
    "report_metadata",
    "org_name",
    "email",
    "extra_contact_info",
    "report_id",
    "date_range",
    "begin",
    "end",
    "error",
    "generator",
    "policy_published",
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
    "extension",
    "record",
    "row",
    "source_ip",
    "count",
    "policy_evaluated",
    "disposition",
    "dkim",
    "spf",
    "reason",
    "type",
    "comment",
    "identifiers",
    "header_from",
    "envelope_from",
    "envelope_to",
    "auth_results",
    "selector",
    "result",
    "human_result",
    "scope",
];

/// One repaired leaf: its path (`feedback/record[3]/identifiers/header_from`) and its text as
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repair {
    pub(crate) path: String,
    pub(crate) text: String,
}

/// The document with the markup inside free-text leaves escaped, and what was repaired; `None`
/// when no leaf needed it.
pub(crate) fn repair_leaves(xml: &[u8], limits: &Limits) -> Option<(Vec<u8>, Vec<Repair>)> {
    let mut out: Option<Vec<u8>> = None;
    let mut repairs = Vec::new();
    // Open elements (local names), for the paths; bounded like the reader's depth.
    let mut stack: Vec<Cow<'_, str>> = Vec::new();
    let mut records = 0usize;
    let mut copied = 0usize;
    let mut pos = 0usize;
    while let Some(lt) = find_byte(xml, b'<', pos) {
        let rest = xml.get(lt..).unwrap_or_default();
        if rest.starts_with(b"<?") {
            pos = skip_past(xml, lt, b"?>");
            continue;
        }
        if rest.starts_with(b"<!--") {
            pos = skip_past(xml, lt, b"-->");
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            pos = skip_past(xml, lt, b"]]>");
            continue;
        }
        let Some(tag) = Tag::read(xml, lt) else {
            pos = lt + 1;
            continue;
        };
        pos = tag.end;
        if tag.closing {
            if let Some(i) = stack.iter().rposition(|n| *n == tag.local) {
                stack.truncate(i);
            }
            continue;
        }
        if tag.self_closing {
            continue;
        }
        if tag.local == "record" && stack.len() == 1 {
            records += 1;
        }
        if TEXT_LEAVES.contains(&tag.local.as_ref())
            && let Some((content_end, close_end)) = leaf_content_end(xml, tag.end, &tag.qname)
        {
            let content = xml.get(tag.end..content_end).unwrap_or_default();
            if content.len() <= limits.max_string_len && needs_escaping(content) {
                let buf = out.get_or_insert_with(|| Vec::with_capacity(xml.len() + 64));
                buf.extend_from_slice(xml.get(copied..tag.end).unwrap_or_default());
                escape_into(buf, content);
                copied = content_end;
                repairs.push(Repair {
                    path: path_of(&stack, records, &tag.local),
                    text: clip(&String::from_utf8_lossy(content)),
                });
            }
            pos = close_end;
            continue;
        }
        if stack.len() >= limits.max_xml_depth {
            // Deeper than the reader accepts: it will refuse the document anyway.
            return None;
        }
        stack.push(tag.local);
    }
    let mut buf = out?;
    buf.extend_from_slice(xml.get(copied..).unwrap_or_default());
    Some((buf, repairs))
}

fn path_of(stack: &[Cow<'_, str>], records: usize, leaf: &str) -> String {
    let mut path = String::new();
    for (depth, name) in stack.iter().enumerate() {
        path.push_str(name);
        if depth == 1 && name == "record" {
            path.push_str(&format!("[{records}]"));
        }
        path.push('/');
    }
    path.push_str(leaf);
    path
}

/// A start or end tag read loosely: its name and where it ends.
struct Tag<'a> {
    qname: Cow<'a, str>,
    local: Cow<'a, str>,
    closing: bool,
    self_closing: bool,
    /// Offset just past the tag's `>`.
    end: usize,
}

impl<'a> Tag<'a> {
    fn read(xml: &'a [u8], lt: usize) -> Option<Self> {
        let mut i = lt + 1;
        let closing = xml.get(i) == Some(&b'/');
        if closing {
            i += 1;
        }
        let name_start = i;
        while xml.get(i).is_some_and(|c| is_name_byte(*c)) {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let qname = String::from_utf8_lossy(xml.get(name_start..i)?);
        let gt = tag_end(xml, i)?;
        let local = match &qname {
            Cow::Borrowed(q) => Cow::Borrowed(q.rsplit_once(':').map_or(*q, |(_, l)| l)),
            Cow::Owned(q) => {
                Cow::Owned(q.rsplit_once(':').map_or(q.as_str(), |(_, l)| l).to_owned())
            }
        };
        Some(Self {
            qname,
            local,
            closing,
            self_closing: gt > 0 && xml.get(gt - 1) == Some(&b'/'),
            end: gt + 1,
        })
    }
}

/// XML name characters as far as this pass needs them (ASCII letters, digits, `_ : . -`, and
/// any non-ASCII byte).
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-') || c >= 0x80
}

/// Where the content of a leaf that starts at `from` ends: the next `</qname>`, provided no tag
/// with a schema name comes first. Returns (content end, offset past the closing tag).
fn leaf_content_end(xml: &[u8], from: usize, qname: &str) -> Option<(usize, usize)> {
    let mut pos = from;
    while let Some(lt) = find_byte(xml, b'<', pos) {
        let after = xml.get(lt + 1..).unwrap_or_default();
        let (closing, name_at) = match after.first() {
            Some(b'/') => (true, lt + 2),
            _ => (false, lt + 1),
        };
        let mut end = name_at;
        while xml.get(end).is_some_and(|c| is_name_byte(*c)) {
            end += 1;
        }
        let name = xml.get(name_at..end).unwrap_or_default();
        if closing && name == qname.as_bytes() {
            let gt = tag_end(xml, end)?;
            // Only whitespace may stand between the name and `>` of an end tag.
            if xml
                .get(end..gt)
                .is_some_and(|b| b.iter().all(u8::is_ascii_whitespace))
            {
                return Some((lt, gt + 1));
            }
            return None;
        }
        let local = name
            .iter()
            .rposition(|c| *c == b':')
            .map_or(name, |i| name.get(i + 1..).unwrap_or_default());
        if SCHEMA_NAMES.iter().any(|n| n.as_bytes() == local) {
            return None;
        }
        pos = lt + 1;
    }
    None
}

/// Whether the text holds a `<` or an `&` that does not start a reference (`&amp;`, `&#233;`,
/// `&name;`).
fn needs_escaping(text: &[u8]) -> bool {
    text.iter().enumerate().any(|(i, c)| {
        *c == b'<' || (*c == b'&' && !starts_reference(text.get(i..).unwrap_or_default()))
    })
}

fn starts_reference(at_amp: &[u8]) -> bool {
    let body = at_amp.get(1..).unwrap_or_default();
    let len = body.iter().take(32).take_while(|c| **c != b';').count();
    if body.get(len) != Some(&b';') || len == 0 {
        return false;
    }
    let name = body.get(..len).unwrap_or_default();
    match name {
        [b'#', b'x' | b'X', hex @ ..] => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
        [b'#', dec @ ..] => !dec.is_empty() && dec.iter().all(u8::is_ascii_digit),
        _ => name.iter().all(|c| is_name_byte(*c) && *c != b':'),
    }
}

fn escape_into(buf: &mut Vec<u8>, text: &[u8]) {
    for (i, c) in text.iter().enumerate() {
        match c {
            b'<' => buf.extend_from_slice(b"&lt;"),
            b'&' if !starts_reference(text.get(i..).unwrap_or_default()) => {
                buf.extend_from_slice(b"&amp;");
            }
            _ => buf.push(*c),
        }
    }
}

/// The `>` that ends a tag whose name ends at `from`; `None` when a `<` comes first (no tag
/// holds one), which also keeps every search within one tag: linear over the document.
fn tag_end(xml: &[u8], from: usize) -> Option<usize> {
    let at = from + memchr::memchr2(b'>', b'<', xml.get(from..)?)?;
    (xml.get(at) == Some(&b'>')).then_some(at)
}

fn find_byte(hay: &[u8], byte: u8, from: usize) -> Option<usize> {
    memchr::memchr(byte, hay.get(from..)?).map(|i| i + from)
}

/// The offset past the next `end` marker at or after `from`, or the end of the input.
fn skip_past(xml: &[u8], from: usize, end: &[u8]) -> usize {
    xml.get(from..)
        .and_then(|rest| rest.windows(end.len()).position(|w| w == end))
        .map_or(xml.len(), |i| from + i + end.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repair(xml: &str) -> Option<(String, Vec<(String, String)>)> {
        repair_leaves(xml.as_bytes(), &Limits::default()).map(|(b, r)| {
            (
                String::from_utf8(b).unwrap_or_default(),
                r.into_iter().map(|r| (r.path, r.text)).collect(),
            )
        })
    }

    #[test]
    fn markup_inside_text_leaves_is_escaped() {
        let xml = "<feedback><report_metadata><email><x@y></email></report_metadata>\
                   <record><identifiers><header_from>bad<xml.net</header_from></identifiers>\
                   </record><record><row/><identifiers><header_from>a & b</header_from>\
                   </identifiers></record></feedback>";
        let (fixed, repairs) = repair(xml).unwrap_or_default();
        assert!(fixed.contains("<email>&lt;x@y></email>"), "{fixed}");
        assert!(
            fixed.contains("<header_from>bad&lt;xml.net</header_from>"),
            "{fixed}"
        );
        assert!(
            fixed.contains("<header_from>a &amp; b</header_from>"),
            "{fixed}"
        );
        assert_eq!(
            repairs,
            vec![
                ("feedback/report_metadata/email".into(), "<x@y>".into()),
                (
                    "feedback/record[1]/identifiers/header_from".into(),
                    "bad<xml.net".into()
                ),
                (
                    "feedback/record[2]/identifiers/header_from".into(),
                    "a & b".into()
                ),
            ]
        );
    }

    #[test]
    fn well_formed_and_structural_cases_are_left_alone() {
        // References are fine as they are.
        assert_eq!(
            repair("<feedback><org_name>A &amp; B &#233; &x;</org_name></feedback>"),
            None
        );
        // A schema element inside a leaf is structure, not text: no guess.
        assert_eq!(
            repair("<feedback><email>a<domain>b</email></feedback>"),
            None
        );
        // No closing tag for the leaf: nothing to bound the text with.
        assert_eq!(repair("<feedback><email>a<b</feedback>"), None);
        // Tokens are not free text.
        assert_eq!(
            repair("<feedback><record><row><count>1<2</count></row></record></feedback>"),
            None
        );
    }

    #[test]
    fn hostile_shapes_stay_linear() {
        // Many `<` without `>`, and many tags before one far `>`: each would rescan the rest
        // of the document if a tag's end were looked for past the next `<`.
        let limits = Limits::default();
        let open = "<a".repeat(200_000);
        let started = std::time::Instant::now();
        assert_eq!(repair_leaves(open.as_bytes(), &limits), None);
        let many = format!(
            "<feedback><email>{}x</email>{}>",
            "<a ".repeat(20_000),
            "<b ".repeat(200_000)
        );
        assert!(repair_leaves(many.as_bytes(), &limits).is_some());
        // Quadratic work on these would take minutes; linear takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn prefixed_names() {
        let (fixed, repairs) =
            repair("<d:feedback><d:record><d:identifiers><d:header_from>x<y</d:header_from>")
                .unwrap_or_default();
        assert!(
            fixed.ends_with("<d:header_from>x&lt;y</d:header_from>"),
            "{fixed}"
        );
        assert_eq!(
            repairs.first().map(|r| r.0.as_str()),
            Some("feedback/record[1]/identifiers/header_from")
        );
    }
}
