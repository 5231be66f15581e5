//! RFC 7489-style XML as the big reporters lay it out (the crate's `to_xml` writes RFC 9990
//! only).
//!
//! This is an independent writer on purpose, and its small XML writer looks like the one in
//! `mailward-reports` (`reports/src/write.rs`) without sharing it: the generated mail is the
//! input the reader is measured and checked on, so it must not come from the code of the
//! crate under test, whose mistakes it would then repeat.

use std::fmt::Write as _;

use mailward_reports::{
    ActionDisposition, AggregateReport, AlignedResult, Alignment, DkimResult, ReportedPolicy,
    ReportedSpfResult, Schema, SpfScope,
};

use super::plan::Profile;

/// How an RFC 7489 reporter lays out its XML.
#[derive(Debug, Clone, Copy)]
struct XmlStyle {
    declaration: &'static str,
    root_attributes: &'static str,
    indent: &'static str,
    /// Google writes `<result>` before `<selector>`.
    result_before_selector: bool,
    /// Microsoft writes `envelope_to`, `envelope_from`, `header_from`.
    envelope_first: bool,
}

fn xml_style(profile: Profile) -> XmlStyle {
    match profile {
        Profile::Google => XmlStyle {
            declaration: "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
            root_attributes: "",
            indent: "  ",
            result_before_selector: true,
            envelope_first: false,
        },
        Profile::MsEnterprise => XmlStyle {
            declaration: "<?xml version=\"1.0\"?>",
            root_attributes: " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
                              xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            indent: "  ",
            result_before_selector: false,
            envelope_first: true,
        },
        Profile::Yahoo => XmlStyle {
            declaration: "<?xml version=\"1.0\"?>",
            root_attributes: "",
            indent: "  ",
            result_before_selector: false,
            envelope_first: false,
        },
        Profile::SmallZip => XmlStyle {
            declaration: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            root_attributes: " xmlns=\"http://dmarc.org/dmarc-xml/0.1\"",
            indent: "\t",
            result_before_selector: false,
            envelope_first: false,
        },
        Profile::OutlookCom | Profile::SmallOctet | Profile::SmallXml => XmlStyle {
            declaration: "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
            root_attributes: "",
            indent: " ",
            result_before_selector: false,
            envelope_first: false,
        },
    }
}

struct XmlWriter {
    pub(super) out: String,
    depth: usize,
    indent: &'static str,
}

impl XmlWriter {
    fn pad(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str(self.indent);
        }
    }

    fn open(&mut self, name: &str) {
        self.pad();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.pad();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn leaf(&mut self, name: &str, value: &str) {
        self.pad();
        let _ = write!(self.out, "<{name}>");
        for c in value.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                c => self.out.push(c),
            }
        }
        let _ = writeln!(self.out, "</{name}>");
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.leaf(name, v);
        }
    }
}

/// Writes `report` as an RFC 7489 (Appendix C) document in the reporter's layout: every field
/// that is `Some` is written, in schema order except where [`XmlStyle`] says otherwise.
fn xml_rfc7489(report: &AggregateReport, style: XmlStyle) -> String {
    let mut w = XmlWriter {
        out: String::with_capacity(1024 + report.records.len() * 700),
        depth: 0,
        indent: style.indent,
    };
    let _ = writeln!(w.out, "{}", style.declaration);
    let _ = writeln!(w.out, "<feedback{}>", style.root_attributes);
    w.depth = 1;
    w.opt("version", report.version.as_deref());
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
    for e in &m.errors {
        w.leaf("error", e);
    }
    w.close("report_metadata");
    let p = &report.policy_published;
    w.open("policy_published");
    w.leaf("domain", &p.domain);
    w.opt("adkim", p.adkim.as_ref().map(Alignment::as_str));
    w.opt("aspf", p.aspf.as_ref().map(Alignment::as_str));
    w.opt("p", p.p.as_ref().map(ReportedPolicy::as_str));
    w.opt("sp", p.sp.as_ref().map(ReportedPolicy::as_str));
    w.opt("pct", p.pct.map(|v| v.to_string()).as_deref());
    w.opt("fo", p.fo.as_deref());
    w.close("policy_published");
    for r in &report.records {
        w.open("record");
        w.open("row");
        w.leaf("source_ip", &r.row.source_ip.to_string());
        w.leaf("count", &r.row.count.to_string());
        let pe = &r.row.policy_evaluated;
        w.open("policy_evaluated");
        w.opt(
            "disposition",
            pe.disposition.as_ref().map(ActionDisposition::as_str),
        );
        w.opt("dkim", pe.dkim.as_ref().map(AlignedResult::as_str));
        w.opt("spf", pe.spf.as_ref().map(AlignedResult::as_str));
        for reason in &pe.reasons {
            w.open("reason");
            w.leaf("type", reason.kind.as_str());
            w.opt("comment", reason.comment.as_deref());
            w.close("reason");
        }
        w.close("policy_evaluated");
        w.close("row");
        let id = &r.identifiers;
        w.open("identifiers");
        if style.envelope_first {
            w.opt("envelope_to", id.envelope_to.as_deref());
            w.opt("envelope_from", id.envelope_from.as_deref());
            w.leaf("header_from", &id.header_from);
        } else {
            w.leaf("header_from", &id.header_from);
            w.opt("envelope_from", id.envelope_from.as_deref());
            w.opt("envelope_to", id.envelope_to.as_deref());
        }
        w.close("identifiers");
        w.open("auth_results");
        for d in &r.auth_results.dkim {
            w.open("dkim");
            w.leaf("domain", &d.domain);
            let result = d.result.as_ref().map(DkimResult::as_str);
            if style.result_before_selector {
                w.opt("result", result);
                w.opt("selector", d.selector.as_deref());
            } else {
                w.opt("selector", d.selector.as_deref());
                w.opt("result", result);
            }
            w.opt("human_result", d.human_result.as_deref());
            w.close("dkim");
        }
        for s in &r.auth_results.spf {
            w.open("spf");
            w.leaf("domain", &s.domain);
            w.opt("scope", s.scope.as_ref().map(SpfScope::as_str));
            w.opt("result", s.result.as_ref().map(ReportedSpfResult::as_str));
            w.close("spf");
        }
        w.close("auth_results");
        w.close("record");
    }
    w.out.push_str("</feedback>\n");
    w.out
}

pub(super) fn render_xml(report: &AggregateReport, profile: Profile) -> String {
    match report.schema {
        Schema::Rfc9990 => mailward_reports::to_xml(report),
        _ => xml_rfc7489(report, xml_style(profile)),
    }
}
