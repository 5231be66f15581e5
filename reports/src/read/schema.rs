//! The report schemas' elements into the model: the document head (`report_metadata`,
//! `policy_published`) from collected nodes, each `record` streamed from the reader.

use std::net::IpAddr;

use quick_xml::Reader;

use super::events::{Node, XmlParser};
use super::names::{FEEDBACK, Loc};
use crate::defects::Defects;
use crate::error::{DefectKind, Error, clip};
use crate::model::{
    ActionDisposition, Alignment, AuthResults, DateRange, DiscoveryMethod, Disposition,
    DkimAuthResult, DkimResult, DmarcResult, Identifiers, PolicyEvaluated, PolicyOverride,
    PolicyOverrideReason, PolicyPublished, Record, ReportMetadata, Row, Schema, SpfAuthResult,
    SpfResult, SpfScope, Testing, XmlElement,
};

impl XmlParser<'_> {
    /// A leaf value: trimmed, with a defect for surrounding whitespace and for child elements.
    pub(super) fn leaf(&mut self, node: &mut Node, path: impl std::fmt::Display + Copy) -> String {
        for child in &mut node.children {
            self.defects
                .push(DefectKind::UnknownElement, path, Some(&child.qname));
        }
        let trimmed = node.text.trim();
        if trimmed.len() != node.text.len() || (node.skipped_ws && !trimmed.is_empty()) {
            self.defects
                .push(DefectKind::Whitespace, path, Some(&node.text));
            return node.text.trim().to_owned();
        }
        // Already trimmed: hand the string over instead of copying it.
        std::mem::take(&mut node.text)
    }

    /// A token: trimmed, lower-cased (with a defect) and mapped; unknown values reported.
    fn token<T>(
        &mut self,
        node: &mut Node,
        path: impl std::fmt::Display + Copy,
        from: fn(&str) -> T,
        known: fn(&T) -> bool,
    ) -> T {
        let mut v = self.leaf(node, path);
        if v.bytes().any(|b| b.is_ascii_uppercase()) {
            self.defects
                .push(DefectKind::UpperCaseToken, path, Some(&v));
            v.make_ascii_lowercase();
        }
        let t = from(&v);
        if !known(&t) {
            self.defects.push(DefectKind::UnknownValue, path, Some(&v));
        }
        t
    }

    fn number(
        &mut self,
        node: &mut Node,
        path: impl std::fmt::Display + Copy,
    ) -> Result<u64, Error> {
        let v = self.leaf(node, path);
        v.parse::<u64>().map_err(|_| Error::InvalidValue {
            path: path.to_string(),
            value: clip(&v),
        })
    }

    fn missing(&mut self, path: &Loc<'_>, name: &str) {
        self.defects
            .push(DefectKind::MissingElement, path.child(name), None);
    }

    fn unknown(&mut self, path: impl std::fmt::Display, node: &Node) {
        self.defects
            .push(DefectKind::UnknownElement, path, Some(&node.qname));
    }

    fn other_schema(&mut self, path: &Loc<'_>, name: &str, only: Schema) {
        if self.schema != only {
            self.defects
                .push(DefectKind::OtherSchemaElement, path.child(name), None);
        }
    }

    pub(super) fn metadata(&mut self, node: &mut Node) -> Result<ReportMetadata, Error> {
        let path = &FEEDBACK.child("report_metadata");
        let mut org_name = None;
        let mut email = None;
        let mut extra = None;
        let mut report_id = None;
        let mut date_range = None;
        let mut errors = Vec::new();
        let mut generator = None;
        for child in &mut node.children {
            if child.foreign {
                self.unknown(path, child);
                continue;
            }
            let cpath = path.child(child.name_static());
            match child.local() {
                "org_name" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut org_name, v, &mut self.defects, cpath);
                }
                "email" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut email, v, &mut self.defects, cpath);
                }
                "extra_contact_info" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut extra, v, &mut self.defects, cpath);
                }
                "report_id" => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut report_id, v, &mut self.defects, cpath);
                }
                "date_range" => {
                    let d = self.date_range(child, &cpath)?;
                    set_once(&mut date_range, d, &mut self.defects, cpath);
                }
                "error" => {
                    if self.schema == Schema::Rfc9990 && !errors.is_empty() {
                        self.defects.push(DefectKind::DuplicateElement, cpath, None);
                    }
                    errors.push(self.leaf(child, cpath));
                }
                "generator" => {
                    self.other_schema(path, "generator", Schema::Rfc9990);
                    let v = self.leaf(child, cpath);
                    set_once(&mut generator, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        // Without its id a report cannot be told from its copies (RFC 9990 §3.5.1: the id "MUST
        // be unique among reports to the same domain to aid receivers in identifying duplicate
        // reports").
        let report_id = match report_id {
            Some(id) if !id.is_empty() => id,
            _ => return Err(Error::MissingElement(format!("{path}/report_id"))),
        };
        for (name, present) in [("org_name", org_name.is_some()), ("email", email.is_some())] {
            if !present {
                self.missing(path, name);
            }
        }
        let date_range =
            date_range.ok_or_else(|| Error::MissingElement(format!("{path}/date_range")))?;
        Ok(ReportMetadata {
            org_name: org_name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            extra_contact_info: extra,
            report_id,
            date_range,
            errors,
            generator,
        })
    }

    fn date_range(&mut self, node: &mut Node, path: &Loc<'_>) -> Result<DateRange, Error> {
        let mut begin = None;
        let mut end = None;
        for child in &mut node.children {
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "begin") => {
                    let v = self.number(child, cpath)?;
                    set_once(&mut begin, v, &mut self.defects, cpath);
                }
                (false, "end") => {
                    let v = self.number(child, cpath)?;
                    set_once(&mut end, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        Ok(DateRange {
            begin: begin.ok_or_else(|| Error::MissingElement(format!("{path}/begin")))?,
            end: end.ok_or_else(|| Error::MissingElement(format!("{path}/end")))?,
        })
    }

    pub(super) fn policy(&mut self, node: &mut Node) -> Result<PolicyPublished, Error> {
        let path = &FEEDBACK.child("policy_published");
        let mut out = PolicyPublished::default();
        let mut domain = None;
        let mut seen: Vec<&str> = Vec::new();
        for child in &mut node.children {
            if child.foreign {
                self.unknown(path, child);
                continue;
            }
            let name = child.name_static();
            let cpath = path.child(name);
            let known = [
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
            ];
            let Some(k) = known.iter().find(|k| **k == name) else {
                self.unknown(path, child);
                continue;
            };
            if seen.contains(k) {
                self.defects.push(DefectKind::DuplicateElement, cpath, None);
                continue;
            }
            seen.push(k);
            match name {
                "domain" => domain = Some(self.leaf(child, cpath)),
                "discovery_method" => {
                    self.other_schema(path, name, Schema::Rfc9990);
                    out.discovery_method = Some(self.token(
                        child,
                        cpath,
                        DiscoveryMethod::from_token,
                        DiscoveryMethod::is_known,
                    ));
                }
                "p" => {
                    out.p = Some(self.token(
                        child,
                        cpath,
                        Disposition::from_token,
                        Disposition::is_known,
                    ));
                }
                "sp" => {
                    out.sp = Some(self.token(
                        child,
                        cpath,
                        Disposition::from_token,
                        Disposition::is_known,
                    ));
                }
                "np" => {
                    self.other_schema(path, name, Schema::Rfc9990);
                    out.np = Some(self.token(
                        child,
                        cpath,
                        Disposition::from_token,
                        Disposition::is_known,
                    ));
                }
                "adkim" => {
                    out.adkim =
                        Some(self.token(child, cpath, Alignment::from_token, Alignment::is_known));
                }
                "aspf" => {
                    out.aspf =
                        Some(self.token(child, cpath, Alignment::from_token, Alignment::is_known));
                }
                "pct" => {
                    self.other_schema(path, name, Schema::Rfc7489);
                    let v = self.leaf(child, cpath);
                    match v.parse::<u8>() {
                        Ok(n) if n <= 100 => out.pct = Some(n),
                        _ => self.defects.push(DefectKind::UnknownValue, cpath, Some(&v)),
                    }
                }
                "fo" => out.fo = Some(self.leaf(child, cpath)),
                "testing" => {
                    self.other_schema(path, name, Schema::Rfc9990);
                    out.testing =
                        Some(self.token(child, cpath, Testing::from_token, Testing::is_known));
                }
                _ => {}
            }
        }
        out.domain = match domain {
            Some(d) if !d.is_empty() => d,
            _ => return Err(Error::MissingElement(format!("{path}/domain"))),
        };
        if out.p.is_none() {
            self.missing(path, "p");
        }
        if self.schema == Schema::Rfc7489 {
            // RFC 7489 Appendix C makes sp, pct and fo required (no minOccurs="0").
            if out.sp.is_none() {
                self.missing(path, "sp");
            }
            if out.pct.is_none() && !seen.contains(&"pct") {
                self.missing(path, "pct");
            }
            if out.fo.is_none() {
                self.missing(path, "fo");
            }
        }
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
                    let v = self.token(
                        child,
                        cpath,
                        ActionDisposition::from_token,
                        ActionDisposition::is_known,
                    );
                    if v == ActionDisposition::Pass && self.schema == Schema::Rfc7489 {
                        self.defects
                            .push(DefectKind::UnknownValue, cpath, Some("pass"));
                    }
                    set_once(&mut out.disposition, v, &mut self.defects, cpath);
                }
                2 => {
                    let v =
                        self.token(child, cpath, DmarcResult::from_token, DmarcResult::is_known);
                    set_once(&mut out.dkim, v, &mut self.defects, cpath);
                }
                3 => {
                    let v =
                        self.token(child, cpath, DmarcResult::from_token, DmarcResult::is_known);
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

    fn reason(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<PolicyOverrideReason, Error> {
        let mut kind = None;
        let mut comment = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "type") => {
                    let v = self.token(
                        child,
                        cpath,
                        PolicyOverride::from_token,
                        PolicyOverride::is_known,
                    );
                    set_once(&mut kind, v, &mut self.defects, cpath);
                }
                (false, "comment") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut comment, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        let kind = match kind {
            Some(k) => k,
            None => {
                self.missing(path, "type");
                PolicyOverride::Unknown(String::new())
            }
        };
        Ok(PolicyOverrideReason { kind, comment })
    }

    fn identifiers(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<Identifiers, Error> {
        let mut header_from = None;
        let mut envelope_from = None;
        let mut envelope_to = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "header_from") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut header_from, v, &mut self.defects, cpath);
                }
                (false, "envelope_from") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut envelope_from, v, &mut self.defects, cpath);
                }
                (false, "envelope_to") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut envelope_to, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        if header_from.is_none() {
            self.missing(path, "header_from");
        }
        if envelope_from.is_none() && self.schema == Schema::Rfc7489 {
            self.missing(path, "envelope_from");
        }
        Ok(Identifiers {
            header_from: header_from.unwrap_or_default(),
            envelope_from,
            envelope_to,
        })
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

    fn dkim(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<DkimAuthResult, Error> {
        let mut out = DkimAuthResult::default();
        let mut domain = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "domain") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut domain, v, &mut self.defects, cpath);
                }
                (false, "selector") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut out.selector, v, &mut self.defects, cpath);
                }
                (false, "result") => {
                    let v = self.token(child, cpath, DkimResult::from_token, DkimResult::is_known);
                    set_once(&mut out.result, v, &mut self.defects, cpath);
                }
                (false, "human_result") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut out.human_result, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        if domain.is_none() {
            self.missing(path, "domain");
        }
        out.domain = domain.unwrap_or_default();
        if out.result.is_none() {
            self.missing(path, "result");
        }
        if out.selector.is_none() && self.schema == Schema::Rfc9990 {
            // RFC 9990 Appendix C: "Selector is now required when reporting a DKIM signature".
            self.missing(path, "selector");
        }
        Ok(out)
    }

    fn spf(
        &mut self,
        r: &mut Reader<&[u8]>,
        depth: usize,
        path: &Loc<'_>,
    ) -> Result<SpfAuthResult, Error> {
        let mut out = SpfAuthResult::default();
        let mut domain = None;
        let mut kids = 0usize;
        while let Some(mut child) = self.child(r, depth, &mut kids)? {
            let child = &mut child;
            self.fill_in(r, child, depth + 1)?;
            let cpath = path.child(child.name_static());
            match (child.foreign, child.local()) {
                (false, "domain") => {
                    let v = self.leaf(child, cpath);
                    set_once(&mut domain, v, &mut self.defects, cpath);
                }
                (false, "scope") => {
                    let v = self.token(child, cpath, SpfScope::from_token, SpfScope::is_known);
                    set_once(&mut out.scope, v, &mut self.defects, cpath);
                }
                (false, "result") => {
                    let v = self.token(child, cpath, SpfResult::from_token, SpfResult::is_known);
                    set_once(&mut out.result, v, &mut self.defects, cpath);
                }
                (false, "human_result") => {
                    self.other_schema(path, "human_result", Schema::Rfc9990);
                    let v = self.leaf(child, cpath);
                    set_once(&mut out.human_result, v, &mut self.defects, cpath);
                }
                _ => self.unknown(path, child),
            }
        }
        if domain.is_none() {
            self.missing(path, "domain");
        }
        out.domain = domain.unwrap_or_default();
        if out.result.is_none() {
            self.missing(path, "result");
        }
        if out.scope.is_none() && self.schema == Schema::Rfc7489 {
            self.missing(path, "scope");
        }
        Ok(out)
    }
}

/// Keeps the first value; a second one is a [`DefectKind::DuplicateElement`].
pub(super) fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    defects: &mut Defects,
    path: impl std::fmt::Display,
) {
    if slot.is_some() {
        defects.push(DefectKind::DuplicateElement, path, None);
    } else {
        *slot = Some(value);
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
