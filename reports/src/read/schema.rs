//! The report schemas' elements into the model: the document head (`report_metadata`,
//! `policy_published`) from collected nodes, each `record` streamed from the reader. Leaves are
//! read from the tables below ([`super::fields`]); the elements with structure of their own
//! (`record`, `row`, `policy_evaluated`, `auth_results`) by hand.

use std::net::IpAddr;

use quick_xml::Reader;

use super::events::{Node, XmlParser};
use super::fields::{Field, Kept, MAX_FIELDS, Need, Repeats, Value, set_once, token};
use super::names::{FEEDBACK, Loc};
use crate::error::{DefectKind, Error, clip};
use crate::model::{
    ActionDisposition, AlignedResult, AuthResults, DateRange, DkimAuthResult, Identifiers,
    PolicyEvaluated, PolicyOverride, PolicyOverrideReason, PolicyPublished, Record, ReportMetadata,
    Row, Schema, SpfAuthResult, XmlElement,
};

/// `report_metadata` (RFC 9990 §3.1.1.3), but for `date_range` and `error`.
const REPORT_METADATA: &[Field<ReportMetadata>] = &[
    Field {
        name: "org_name",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Text(|m, v| m.org_name = v),
    },
    Field {
        name: "email",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Text(|m, v| m.email = v),
    },
    Field {
        name: "extra_contact_info",
        only_in: None,
        need: Need::No,
        value: Value::Text(|m, v| m.extra_contact_info = Some(v)),
    },
    // Without its id a report cannot be told from its copies (RFC 9990 §3.5.1: the id "MUST be
    // unique among reports to the same domain to aid receivers in identifying duplicate
    // reports").
    Field {
        name: "report_id",
        only_in: None,
        need: Need::Value,
        value: Value::Text(|m, v| m.report_id = v),
    },
    Field {
        name: "generator",
        only_in: Some(Schema::Rfc9990),
        need: Need::No,
        value: Value::Text(|m, v| m.generator = Some(v)),
    },
];

/// `date_range` (RFC 9990 §3.1.1.4).
const DATE_RANGE: &[Field<DateRange>] = &[
    Field {
        name: "begin",
        only_in: None,
        need: Need::Value,
        value: Value::Number(|d, v| d.begin = v),
    },
    Field {
        name: "end",
        only_in: None,
        need: Need::Value,
        value: Value::Number(|d, v| d.end = v),
    },
];

/// `policy_published` (RFC 9990 §3.1.1.5; RFC 7489 Appendix C makes `sp`, `pct` and `fo`
/// required, with no `minOccurs="0"`).
const POLICY_PUBLISHED: &[Field<PolicyPublished>] = &[
    Field {
        name: "domain",
        only_in: None,
        need: Need::Value,
        value: Value::Text(|p, v| p.domain = v),
    },
    Field {
        name: "discovery_method",
        only_in: Some(Schema::Rfc9990),
        need: Need::No,
        value: Value::Token(|p, t, keep| token(&mut p.discovery_method, t, keep)),
    },
    Field {
        name: "p",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Token(|p, t, keep| token(&mut p.p, t, keep)),
    },
    Field {
        name: "sp",
        only_in: None,
        need: Need::Defect(Some(Schema::Rfc7489)),
        value: Value::Token(|p, t, keep| token(&mut p.sp, t, keep)),
    },
    Field {
        name: "np",
        only_in: Some(Schema::Rfc9990),
        need: Need::No,
        value: Value::Token(|p, t, keep| token(&mut p.np, t, keep)),
    },
    Field {
        name: "adkim",
        only_in: None,
        need: Need::No,
        value: Value::Token(|p, t, keep| token(&mut p.adkim, t, keep)),
    },
    Field {
        name: "aspf",
        only_in: None,
        need: Need::No,
        value: Value::Token(|p, t, keep| token(&mut p.aspf, t, keep)),
    },
    Field {
        name: "pct",
        only_in: Some(Schema::Rfc7489),
        need: Need::Defect(Some(Schema::Rfc7489)),
        value: Value::Percent(|p, v| p.pct = Some(v)),
    },
    Field {
        name: "fo",
        only_in: None,
        need: Need::Defect(Some(Schema::Rfc7489)),
        value: Value::Text(|p, v| p.fo = Some(v)),
    },
    Field {
        name: "testing",
        only_in: Some(Schema::Rfc9990),
        need: Need::No,
        value: Value::Token(|p, t, keep| token(&mut p.testing, t, keep)),
    },
];

/// `reason` (RFC 9990 §3.1.6). A reason without its type keeps an empty `Unknown` one.
const REASON: &[Field<PolicyOverrideReason>] = &[
    Field {
        name: "type",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Token(|r, t, keep| token(&mut r.kind, t, keep)),
    },
    Field {
        name: "comment",
        only_in: None,
        need: Need::No,
        value: Value::Text(|r, v| r.comment = Some(v)),
    },
];

/// `identifiers` (RFC 9990 §3.1.1.10).
const IDENTIFIERS: &[Field<Identifiers>] = &[
    Field {
        name: "header_from",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Text(|i, v| i.header_from = v),
    },
    Field {
        name: "envelope_from",
        only_in: None,
        need: Need::Defect(Some(Schema::Rfc7489)),
        value: Value::Text(|i, v| i.envelope_from = Some(v)),
    },
    Field {
        name: "envelope_to",
        only_in: None,
        need: Need::No,
        value: Value::Text(|i, v| i.envelope_to = Some(v)),
    },
];

/// `auth_results/dkim` (RFC 9990 §3.1.1.12; Appendix C: "Selector is now required when
/// reporting a DKIM signature").
const DKIM: &[Field<DkimAuthResult>] = &[
    Field {
        name: "domain",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Text(|d, v| d.domain = v),
    },
    Field {
        name: "result",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Token(|d, t, keep| token(&mut d.result, t, keep)),
    },
    Field {
        name: "selector",
        only_in: None,
        need: Need::Defect(Some(Schema::Rfc9990)),
        value: Value::Text(|d, v| d.selector = Some(v)),
    },
    Field {
        name: "human_result",
        only_in: None,
        need: Need::No,
        value: Value::Text(|d, v| d.human_result = Some(v)),
    },
];

/// `auth_results/spf` (RFC 9990 §3.1.1.13).
const SPF: &[Field<SpfAuthResult>] = &[
    Field {
        name: "domain",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Text(|s, v| s.domain = v),
    },
    Field {
        name: "result",
        only_in: None,
        need: Need::Defect(None),
        value: Value::Token(|s, t, keep| token(&mut s.result, t, keep)),
    },
    Field {
        name: "scope",
        only_in: None,
        need: Need::Defect(Some(Schema::Rfc7489)),
        value: Value::Token(|s, t, keep| token(&mut s.scope, t, keep)),
    },
    Field {
        name: "human_result",
        only_in: Some(Schema::Rfc9990),
        need: Need::No,
        value: Value::Text(|s, v| s.human_result = Some(v)),
    },
];

// `Kept` follows at most `MAX_FIELDS` fields of a table.
const _: () = assert!(
    REPORT_METADATA.len() <= MAX_FIELDS
        && DATE_RANGE.len() <= MAX_FIELDS
        && POLICY_PUBLISHED.len() <= MAX_FIELDS
        && REASON.len() <= MAX_FIELDS
        && IDENTIFIERS.len() <= MAX_FIELDS
        && DKIM.len() <= MAX_FIELDS
        && SPF.len() <= MAX_FIELDS
);

impl XmlParser<'_> {
    pub(super) fn metadata(&mut self, node: &mut Node) -> Result<ReportMetadata, Error> {
        let path = &FEEDBACK.child("report_metadata");
        let mut out = ReportMetadata::default();
        let mut kept = Kept::default();
        let mut date_range = None;
        for child in &mut node.children {
            if child.foreign {
                self.unknown(path, child);
                continue;
            }
            let cpath = path.child(child.name_static());
            match child.local() {
                "date_range" => {
                    let d = self.date_range(child, &cpath)?;
                    set_once(&mut date_range, d, &mut self.defects, cpath);
                }
                "error" => {
                    if self.schema == Schema::Rfc9990 && !out.errors.is_empty() {
                        self.defects.push(DefectKind::DuplicateElement, cpath, None);
                    }
                    let e = self.leaf(child, cpath);
                    out.errors.push(e);
                }
                _ => {
                    let known = self.field(
                        REPORT_METADATA,
                        &mut out,
                        &mut kept,
                        Repeats::Read,
                        child,
                        path,
                        cpath,
                    )?;
                    if !known {
                        self.unknown(path, child);
                    }
                }
            }
        }
        self.required(REPORT_METADATA, &kept, path)?;
        out.date_range =
            date_range.ok_or_else(|| Error::MissingElement(format!("{path}/date_range")))?;
        Ok(out)
    }

    fn date_range(&mut self, node: &mut Node, path: &Loc<'_>) -> Result<DateRange, Error> {
        let mut out = DateRange::default();
        self.node_leaves(node, path, DATE_RANGE, Repeats::Read, &mut out)?;
        Ok(out)
    }

    pub(super) fn policy(&mut self, node: &mut Node) -> Result<PolicyPublished, Error> {
        let path = &FEEDBACK.child("policy_published");
        let mut out = PolicyPublished::default();
        self.node_leaves(node, path, POLICY_PUBLISHED, Repeats::Skipped, &mut out)?;
        Ok(out)
    }

    pub(super) fn record(
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
                    let v: ActionDisposition = self.token(child, cpath);
                    if v == ActionDisposition::Pass && self.schema == Schema::Rfc7489 {
                        self.defects
                            .push(DefectKind::UnknownValue, cpath, Some("pass"));
                    }
                    set_once(&mut out.disposition, v, &mut self.defects, cpath);
                }
                2 => {
                    let v: AlignedResult = self.token(child, cpath);
                    set_once(&mut out.dkim, v, &mut self.defects, cpath);
                }
                3 => {
                    let v: AlignedResult = self.token(child, cpath);
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

    fn reason(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<PolicyOverrideReason, Error> {
        let mut out = PolicyOverrideReason {
            kind: PolicyOverride::Unknown(String::new()),
            comment: None,
        };
        self.leaves(r, depth, path, REASON, &mut out)?;
        Ok(out)
    }

    fn identifiers(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<Identifiers, Error> {
        let mut out = Identifiers::default();
        self.leaves(r, depth, path, IDENTIFIERS, &mut out)?;
        Ok(out)
    }

    fn dkim(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<DkimAuthResult, Error> {
        let mut out = DkimAuthResult::default();
        self.leaves(r, depth, path, DKIM, &mut out)?;
        Ok(out)
    }

    fn spf(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<SpfAuthResult, Error> {
        let mut out = SpfAuthResult::default();
        self.leaves(r, depth, path, SPF, &mut out)?;
        Ok(out)
    }
}

pub(super) fn to_element(node: Node) -> XmlElement {
    XmlElement {
        name: node.qname.into_owned(),
        attributes: node.attributes,
        text: node.text.trim().to_owned(),
        children: node.children.into_iter().map(to_element).collect(),
    }
}
