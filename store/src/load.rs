//! A stored report read back whole: identity, metadata, policy, and every record with its
//! auth results, as an [`AggregateReport`] (what the report page and the export show).

use std::net::IpAddr;

use mailward_reports::{
    ActionDisposition, AggregateReport, AlignedResult, Alignment, AuthResults, DateRange,
    DiscoveryMethod, Identifiers, PolicyEvaluated, PolicyOverrideReason, PolicyPublished, Record,
    ReportMetadata, ReportedPolicy, Row as RecordRow, Schema, Testing, XmlElement,
};

use crate::db::{Conn, Param, Row};
use crate::error::Error;

fn token<T>(v: Option<String>, f: fn(&str) -> T) -> Option<T> {
    v.as_deref().map(f)
}

fn json_or_default<T: serde::de::DeserializeOwned + Default>(v: Option<&str>) -> T {
    v.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// The report `id` as stored: identity, metadata, policy and every record with its auth
/// results.
pub(crate) async fn load_report(
    conn: &mut Conn,
    id: i64,
) -> Result<Option<AggregateReport>, Error> {
    let heads = conn
        .collect(
            "SELECT org_name, email, report_id, policy_domain, date_begin, date_end, schema_name,
                version, extra_contact_info, generator, errors, extension, p, sp, np, adkim, aspf,
                pct, fo, testing, discovery_method
             FROM reports WHERE id = $1",
            &[Param::int(id)],
            |r: &dyn Row| {
                let schema = if r.text(6)? == Some("rfc7489") {
                    Schema::Rfc7489
                } else {
                    Schema::Rfc9990
                };
                Ok(AggregateReport {
                    schema,
                    version: r.opt_text(7)?,
                    report_metadata: ReportMetadata {
                        org_name: r.req_text(0)?,
                        email: r.req_text(1)?,
                        extra_contact_info: r.opt_text(8)?,
                        report_id: r.req_text(2)?,
                        date_range: DateRange {
                            begin: u64::try_from(r.req_int(4)?).unwrap_or(0),
                            end: u64::try_from(r.req_int(5)?).unwrap_or(0),
                        },
                        errors: json_or_default(r.text(10)?),
                        generator: r.opt_text(9)?,
                    },
                    policy_published: PolicyPublished {
                        domain: r.req_text(3)?,
                        discovery_method: token(r.opt_text(20)?, DiscoveryMethod::from_token),
                        p: token(r.opt_text(12)?, ReportedPolicy::from_token),
                        sp: token(r.opt_text(13)?, ReportedPolicy::from_token),
                        np: token(r.opt_text(14)?, ReportedPolicy::from_token),
                        adkim: token(r.opt_text(15)?, Alignment::from_token),
                        aspf: token(r.opt_text(16)?, Alignment::from_token),
                        pct: r.int(17)?.and_then(|v| u8::try_from(v).ok()),
                        fo: r.opt_text(18)?,
                        testing: token(r.opt_text(19)?, Testing::from_token),
                    },
                    extension: r
                        .text(11)?
                        .and_then(|s| serde_json::from_str::<Vec<XmlElement>>(s).ok()),
                    records: Vec::new(),
                })
            },
        )
        .await?;
    let Some(mut report) = heads.into_iter().next() else {
        return Ok(None);
    };
    report.records = conn
        .collect(
            "SELECT source_ip, count, disposition, dkim, spf, reasons, header_from,
                envelope_from, envelope_to, extensions, dkim_results, spf_results
             FROM records WHERE report = $1 ORDER BY ordinal",
            &[Param::int(id)],
            |r| {
                let ip: IpAddr = r
                    .text(0)?
                    .unwrap_or_default()
                    .parse()
                    .map_err(|_| Error::Corrupt("a stored source IP does not parse"))?;
                Ok(Record {
                    row: RecordRow {
                        source_ip: ip,
                        count: u64::try_from(r.req_int(1)?).unwrap_or(0),
                        policy_evaluated: PolicyEvaluated {
                            disposition: token(r.opt_text(2)?, ActionDisposition::from_token),
                            dkim: token(r.opt_text(3)?, AlignedResult::from_token),
                            spf: token(r.opt_text(4)?, AlignedResult::from_token),
                            reasons: json_or_default::<Vec<PolicyOverrideReason>>(r.text(5)?),
                        },
                    },
                    identifiers: Identifiers {
                        header_from: r.req_text(6)?,
                        envelope_from: r.opt_text(7)?,
                        envelope_to: r.opt_text(8)?,
                    },
                    auth_results: AuthResults {
                        dkim: json_or_default(r.text(10)?),
                        spf: json_or_default(r.text(11)?),
                    },
                    extensions: json_or_default(r.text(9)?),
                })
            },
        )
        .await?;
    Ok(Some(report))
}
