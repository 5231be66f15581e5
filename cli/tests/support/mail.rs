//! Aggregate reports and the e-mails that carry them, written for the ingest tests.

use std::io::Write as _;

pub(crate) const DAY: u64 = 86_400;
/// 2026-11-01 (`date -u -d 2026-11-01 +%s`).
pub(crate) const D0: u64 = 20_758 * DAY;

/// A report with records `(ip, count, dkim, spf)` on day `D0 + day`.
pub(crate) fn report(org: &str, id: &str, day: u64, records: &[(&str, u64, &str, &str)]) -> String {
    let (begin, end) = (D0 + day * DAY, D0 + (day + 1) * DAY - 1);
    let mut x = format!(
        r#"<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><report_metadata><org_name>{org}</org_name>
<email>dmarc@{org}</email><report_id>{id}</report_id><date_range><begin>{begin}</begin><end>{end}</end></date_range>
</report_metadata><policy_published><domain>example.com</domain><p>none</p></policy_published>"#
    );
    for (ip, count, dkim, spf) in records {
        x.push_str(&format!(
            r#"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>
<disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>
<identifiers><header_from>example.com</header_from></identifiers><auth_results>
<dkim><domain>example.com</domain><selector>s1</selector><result>{dkim}</result></dkim>
<spf><domain>example.com</domain><result>{spf}</result></spf></auth_results></record>"#
        ));
    }
    x.push_str("</feedback>");
    x
}

pub(crate) fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(crate) fn email(n: usize, report_gz: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(report_gz);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: dmarc@receiver.example\nTo: rua@example.com\nSubject: Report {n}\nMessage-ID: <{n}@receiver.example>\nMIME-Version: 1.0\nContent-Type: application/gzip; name=\"r{n}.xml.gz\"\nContent-Transfer-Encoding: base64\n\n{}\n",
        lines.join("\n")
    )
}
