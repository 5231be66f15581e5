//! Byte-level scanning of the raw document, without the XML reader: where the next record or
//! the root's end tag is (to go on after broken markup, and to cut a large document in two),
//! and small searches.

pub(super) fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The bytes after the first `marker`, or nothing when it does not occur.
pub(super) fn after_marker<'a>(rest: &'a [u8], marker: &[u8]) -> &'a [u8] {
    find(rest, marker).map_or(&[][..], |i| {
        rest.get(i + marker.len()..).unwrap_or_default()
    })
}

/// The longest namespace prefix looked for before `feedback` in the root's end tag.
const MAX_PREFIX: usize = 64;

/// The offset of the last `</feedback>` (any prefix) end tag.
pub(super) fn root_end_tag(xml: &[u8]) -> Option<usize> {
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
pub(super) fn count_record_tags(xml: &[u8]) -> usize {
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
pub(super) enum Resync {
    /// At the start tag of the next record.
    Record(usize),
    /// After the end tag of the root.
    RootEnd(usize),
    /// Neither follows: the document is cut off.
    End,
}

/// Finds the next `<record>` start tag or `</feedback>` end tag (any prefix) at or after `from`.
pub(super) fn resync(xml: &[u8], from: usize) -> Resync {
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
}
