//! The records of a large report read on two threads.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::events::{XmlParser, new_reader};
use super::names::{FEEDBACK, local_of};
use super::scan::{Resync, count_record_tags, resync, root_end_tag};
use crate::defects::Defects;
use crate::model::Record;

/// Records below this many bytes are read on one thread (a thread costs more than it saves).
const PARALLEL_MIN_BYTES: usize = 1 << 20;

impl XmlParser<'_> {
    /// Reads the records of a large document on two threads, when the records run without
    /// anything else up to the root's end tag. `first` is the offset just after the first
    /// record's start tag. The records from there to the last `</feedback>` are cut in two at a
    /// record's start tag; each half is read by [`Self::plain_records`], which gives up at the
    /// first thing that is not a plain, whole record (broken markup, another element, a
    /// dropped record). Only when both halves are plain are their records and defects taken
    /// (in document order, with the second half's record numbers counted on from the first);
    /// otherwise `None`, and the caller reads the records one by one as it always does.
    /// Returns the records and the offset to go on reading at (the root's end tag).
    pub(super) fn records_in_parallel(
        &mut self,
        xml: &[u8],
        first: usize,
    ) -> Option<(Vec<Record>, usize)> {
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
}
