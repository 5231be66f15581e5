//! Element names and paths: the schema names interned as `'static` strings, and element paths
//! rendered only when a defect or an error needs one.

/// An element path, rendered only when a defect or error needs it (building path strings for
/// every element would dominate the parse time).
#[derive(Debug, Clone, Copy)]
pub(super) struct Loc<'a> {
    parent: Option<&'a Self>,
    name: &'a str,
    index: Option<usize>,
}

pub(super) const FEEDBACK: Loc<'static> = Loc {
    parent: None,
    name: "feedback",
    index: None,
};

impl<'a> Loc<'a> {
    pub(super) fn child(&'a self, name: &'a str) -> Self {
        Self {
            parent: Some(self),
            name,
            index: None,
        }
    }

    pub(super) fn indexed(&'a self, name: &'a str, index: usize) -> Self {
        Self {
            parent: Some(self),
            name,
            index: Some(index),
        }
    }
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.parent {
            write!(f, "{p}/")?;
        }
        f.write_str(self.name)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

/// The element names of both schemas, so the common case allocates no name.
pub(super) fn intern(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"record" => "record",
        b"row" => "row",
        b"source_ip" => "source_ip",
        b"count" => "count",
        b"policy_evaluated" => "policy_evaluated",
        b"disposition" => "disposition",
        b"dkim" => "dkim",
        b"spf" => "spf",
        b"reason" => "reason",
        b"type" => "type",
        b"comment" => "comment",
        b"identifiers" => "identifiers",
        b"header_from" => "header_from",
        b"envelope_from" => "envelope_from",
        b"envelope_to" => "envelope_to",
        b"auth_results" => "auth_results",
        b"domain" => "domain",
        b"selector" => "selector",
        b"result" => "result",
        b"human_result" => "human_result",
        b"scope" => "scope",
        b"report_metadata" => "report_metadata",
        b"org_name" => "org_name",
        b"email" => "email",
        b"extra_contact_info" => "extra_contact_info",
        b"report_id" => "report_id",
        b"date_range" => "date_range",
        b"begin" => "begin",
        b"end" => "end",
        b"error" => "error",
        b"generator" => "generator",
        b"policy_published" => "policy_published",
        b"p" => "p",
        b"sp" => "sp",
        b"np" => "np",
        b"adkim" => "adkim",
        b"aspf" => "aspf",
        b"pct" => "pct",
        b"fo" => "fo",
        b"testing" => "testing",
        b"discovery_method" => "discovery_method",
        b"version" => "version",
        b"extension" => "extension",
        b"feedback" => "feedback",
        _ => return None,
    })
}

pub(super) fn local_of(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, l)| l)
}

pub(super) fn prefix_of(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loc_renders_lazily_built_paths() {
        let record = FEEDBACK.indexed("record", 3);
        let row = record.child("row");
        assert_eq!(
            row.child("count").to_string(),
            "feedback/record[3]/row/count"
        );
    }

    #[test]
    fn names() {
        assert_eq!(local_of("xs:schema"), "schema");
        assert_eq!(prefix_of("xs:schema"), Some("xs"));
        assert_eq!(prefix_of("feedback"), None);
        assert_eq!(intern(b"source_ip"), Some("source_ip"));
        assert_eq!(intern(b"sourceip"), None);
    }
}
