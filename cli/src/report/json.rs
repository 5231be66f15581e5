//! `report parse --json` output of large aggregate reports, with the records serialized on
//! every core.
//!
//! Serializing a 10 000-record report takes about a fifth of `report parse --json`'s work, all
//! of it on one core once the two-thread read has finished. Here each thread renders its share
//! of the records to JSON text, and the text is copied into the output in document order, so
//! the bytes are exactly those of the report's own `Serialize` (the tests below compare them).
//! The views mirror `ParsedReport` and `AggregateReport` field for field; a field added there
//! and not here makes those tests fail.

use mailward_reports::{AggregateReport, ParsedReport, Record};
use serde::ser::{Error as _, SerializeSeq as _, SerializeStruct as _};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// Fewer records than this are serialized on the calling thread: below it, starting threads
/// costs more than it saves.
const PARALLEL_MIN_RECORDS: usize = 1024;

/// The reports of one input, each serialized as [`Report`] does. For `serde_json` only: other
/// serializers would not write the pre-rendered records as JSON.
pub(super) struct Reports<'a>(pub(super) &'a [ParsedReport]);

impl Serialize for Reports<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|p| Report {
            parsed: p,
            parallel_min: PARALLEL_MIN_RECORDS,
        }))
    }
}

/// One parsed report: the same JSON as `ParsedReport`'s `Serialize`.
struct Report<'a> {
    parsed: &'a ParsedReport,
    /// Records from which serialization is spread over threads.
    parallel_min: usize,
}

impl Serialize for Report<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.parsed;
        let fields = 2 + usize::from(!p.source.is_empty());
        let mut st = s.serialize_struct("ParsedReport", fields)?;
        st.serialize_field(
            "report",
            &Aggregate {
                report: &p.report,
                parallel_min: self.parallel_min,
            },
        )?;
        st.serialize_field("defects", &p.defects)?;
        if p.source.is_empty() {
            st.skip_field("source")?;
        } else {
            st.serialize_field("source", &p.source)?;
        }
        st.end()
    }
}

/// The report itself: the same JSON as `AggregateReport`'s `Serialize`.
struct Aggregate<'a> {
    report: &'a AggregateReport,
    parallel_min: usize,
}

impl Serialize for Aggregate<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.report;
        let fields = 4 + usize::from(r.version.is_some()) + usize::from(r.extension.is_some());
        let mut st = s.serialize_struct("AggregateReport", fields)?;
        st.serialize_field("schema", &r.schema)?;
        match &r.version {
            Some(v) => st.serialize_field("version", v)?,
            None => st.skip_field("version")?,
        }
        st.serialize_field("report_metadata", &r.report_metadata)?;
        st.serialize_field("policy_published", &r.policy_published)?;
        match &r.extension {
            Some(e) => st.serialize_field("extension", e)?,
            None => st.skip_field("extension")?,
        }
        if r.records.len() < self.parallel_min {
            st.serialize_field("records", &r.records)?;
        } else {
            st.serialize_field("records", &InParallel(&r.records))?;
        }
        st.end()
    }
}

/// Records rendered to JSON text on every core, a window at a time, and written as an array.
struct InParallel<'a>(&'a [Record]);

/// Records rendered per window: enough to keep the threads' start-up cost small, few enough
/// that the rendered text of one window (about 400 bytes a record) is reused memory rather
/// than megabytes of fresh pages.
const WINDOW: usize = 2048;

impl Serialize for InParallel<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for window in self.0.chunks(WINDOW) {
            for r in render(window).map_err(S::Error::custom)? {
                seq.serialize_element(&r)?;
            }
        }
        seq.end()
    }
}

/// Renders each record to JSON text, one contiguous share of the records per core.
fn render(records: &[Record]) -> serde_json::Result<Vec<Box<RawValue>>> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let share = records.len().div_ceil(threads.max(1)).max(1);
    let shares: Vec<serde_json::Result<Vec<Box<RawValue>>>> = std::thread::scope(|scope| {
        let mut chunks = records.chunks(share);
        // The calling thread takes the first share while the others run.
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || render_share(chunk)))
            .collect();
        let mut out = vec![render_share(first)];
        out.extend(handles.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(serde_json::Error::custom("a serializing thread failed")))
        }));
        out
    });
    let mut all = Vec::with_capacity(records.len());
    for share in shares {
        all.extend(share?);
    }
    Ok(all)
}

fn render_share(records: &[Record]) -> serde_json::Result<Vec<Box<RawValue>>> {
    records
        .iter()
        .map(serde_json::value::to_raw_value)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report with every optional part present (version, extension, a record extension,
    /// defects, a source), and many records, read from XML written for this test.
    fn full_report(records: usize) -> ParsedReport {
        let record = |i: usize| {
            format!(
                "<record><row><source_ip>192.0.2.{}</source_ip><count>{}</count>\
                 <policy_evaluated><disposition>none</disposition><dkim>pass</dkim>\
                 <spf>fail</spf><reason><type>local_policy</type><comment>a \"q\" \\ \
                 é</comment></reason></policy_evaluated></row><identifiers>\
                 <header_from>example.com</header_from></identifiers><auth_results>\
                 <dkim><domain>example.com</domain><selector>s</selector><result>pass</result>\
                 </dkim><spf><domain>example.com</domain><result>fail</result></spf>\
                 </auth_results><x:note xmlns:x=\"urn:x\">n{i}</x:note></record>",
                i % 256,
                i + 1
            )
        };
        let xml = format!(
            "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\"><version>1.0</version>\
             <report_metadata><org_name>Org</org_name><email>a@example.net</email>\
             <report_id>r1</report_id><date_range><begin>1</begin><end>2</end></date_range>\
             </report_metadata><policy_published><domain>example.com</domain><p>none</p>\
             <unknown_thing>1</unknown_thing></policy_published>\
             <extension><y:z xmlns:y=\"urn:y\">1</y:z></extension>{}</feedback>",
            (0..records).map(record).collect::<String>()
        );
        let mut p = mailward_reports::parse_xml(xml.as_bytes()).expect("test report reads");
        p.source = "gzip".into();
        assert!(p.report.version.is_some() && p.report.extension.is_some());
        assert!(!p.defects.is_empty() && !p.report.records[0].extensions.is_empty());
        p
    }

    #[test]
    fn same_bytes_as_the_derived_serialization() {
        for records in [1, 5, WINDOW + 5] {
            let mut p = full_report(records);
            for parallel_min in [0, 1, 3, usize::MAX] {
                let ours = serde_json::to_string(&Report {
                    parsed: &p,
                    parallel_min,
                })
                .expect("serializes");
                assert_eq!(ours, serde_json::to_string(&p).expect("serializes"));
            }
            // And with the optional parts absent.
            p.source.clear();
            p.report.version = None;
            p.report.extension = None;
            let ours = serde_json::to_string(&Report {
                parsed: &p,
                parallel_min: 0,
            })
            .expect("serializes");
            assert_eq!(ours, serde_json::to_string(&p).expect("serializes"));
        }
    }

    #[test]
    fn reports_wrapper_writes_every_report() {
        let reports = [full_report(3), full_report(1500)];
        assert_eq!(
            serde_json::to_string(&Reports(&reports)).expect("serializes"),
            serde_json::to_string(&reports[..]).expect("serializes")
        );
    }
}
