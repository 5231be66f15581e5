//! Message `index` of a mailbox: its report, its bytes, its date and its place in a Maildir,
//! each a pure function of the spec and the index.

use std::path::PathBuf;

use mailward_reports::AggregateReport;

use super::message::report_message;
use super::not_report::not_a_report;
use super::plan::{plan, resent_date};
use super::records::build_report;
use super::spec::{Container, Kind, MailboxSpec, expected_kind};

/// The container of message `index`'s report, `None` for a [`Kind::NotAReport`] message.
pub fn container(spec: &MailboxSpec, index: usize) -> Option<Container> {
    match expected_kind(spec, index) {
        Kind::NotAReport => None,
        Kind::Duplicate { of } => Some(plan(spec, of).profile.container()),
        Kind::Report => Some(plan(spec, index).profile.container()),
    }
}

/// The report carried by message `index`: what a store should hold for it.
///
/// For a [`Kind::Duplicate`] this is the original's report (equal values). For a
/// [`Kind::NotAReport`] message it is the report that slot would have carried, which is never
/// delivered (use [`expected_report`] to get `None` there).
pub fn report_for(spec: &MailboxSpec, index: usize) -> AggregateReport {
    let content = match expected_kind(spec, index) {
        Kind::Duplicate { of } => of,
        Kind::Report | Kind::NotAReport => index,
    };
    let plan = plan(spec, content);
    build_report(spec, &plan, content)
}

/// The report in message `index`, `None` when the message is not a report.
pub fn expected_report(spec: &MailboxSpec, index: usize) -> Option<AggregateReport> {
    match expected_kind(spec, index) {
        Kind::NotAReport => None,
        Kind::Report | Kind::Duplicate { .. } => Some(report_for(spec, index)),
    }
}

/// The complete message `index` (RFC 5322 + MIME, CRLF line ends), as delivered to the
/// mailbox (trace headers first).
pub fn report_email(spec: &MailboxSpec, index: usize) -> Vec<u8> {
    match expected_kind(spec, index) {
        Kind::NotAReport => not_a_report(spec, index),
        Kind::Report => report_message(spec, index, index),
        Kind::Duplicate { of } => report_message(spec, of, index),
    }
}

/// The `Date:` of message `index`, in seconds since the epoch (also the Maildir file's
/// modification time and the mbox `From ` line's date).
pub fn message_date(spec: &MailboxSpec, index: usize) -> u64 {
    match expected_kind(spec, index) {
        Kind::Report | Kind::NotAReport => plan(spec, index).sent,
        Kind::Duplicate { of } => resent_date(spec, of, index),
    }
}

/// The path of message `index` inside a Maildir written by [`write_maildir`](super::write_maildir):
/// `cur/{index:08}.gen:2,S`, or `new/{index:08}.gen` for the last 2 % of the messages.
pub fn maildir_path(spec: &MailboxSpec, index: usize) -> PathBuf {
    let unread_from = spec.messages.saturating_sub(spec.messages / 50);
    if index >= unread_from {
        PathBuf::from(format!("new/{index:08}.gen"))
    } else {
        PathBuf::from(format!("cur/{index:08}.gen:2,S"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use mailward_reports::{ActionDisposition, AlignedResult, Error, Schema, parse};

    use super::*;
    use crate::reportmail::{
        Kind, MailboxSpec, NOT_A_REPORT_AT, NOT_A_REPORT_PERIOD, expected_kind,
    };

    fn spec() -> MailboxSpec {
        MailboxSpec::new(100_000, 42)
    }

    fn header<'a>(message: &'a [u8], name: &str) -> Option<&'a str> {
        let text = std::str::from_utf8(message).ok()?;
        let head = text.split("\r\n\r\n").next()?;
        let prefix = format!("{name}: ");
        head.split("\r\n")
            .find(|l| l.starts_with(&prefix))
            .map(|l| &l[prefix.len()..])
    }

    #[test]
    fn same_seed_and_index_give_the_same_bytes() {
        let a = spec();
        let b = spec();
        let other = MailboxSpec::new(100_000, 43);
        for index in (0..60).chain([97, 338, 99_999]) {
            let m = report_email(&a, index);
            assert_eq!(m, report_email(&b, index), "index {index}");
            assert_eq!(report_for(&a, index), report_for(&b, index));
            assert_ne!(
                m,
                report_email(&other, index),
                "seed changes message {index}"
            );
        }
    }

    #[test]
    fn messages_parse_back_to_report_for() {
        let spec = spec();
        let mut per_container: HashMap<Container, usize> = HashMap::new();
        let mut per_schema: HashMap<Schema, usize> = HashMap::new();
        let mut orgs = HashSet::new();
        for index in 0..400 {
            let message = report_email(&spec, index);
            match expected_kind(&spec, index) {
                Kind::NotAReport => continue,
                Kind::Report | Kind::Duplicate { .. } => {}
            }
            let parsed =
                parse(&message).unwrap_or_else(|e| panic!("message {index} does not parse: {e}"));
            assert_eq!(parsed.len(), 1, "message {index}");
            let expected = report_for(&spec, index);
            assert_eq!(parsed[0].report, expected, "message {index}");
            assert_eq!(Some(expected.clone()), expected_report(&spec, index));
            *per_container
                .entry(container(&spec, index).unwrap())
                .or_default() += 1;
            *per_schema.entry(expected.schema).or_default() += 1;
            orgs.insert(expected.report_metadata.org_name.clone());
        }
        for c in [Container::Gzip, Container::Zip, Container::Xml] {
            assert!(
                per_container.get(&c).copied().unwrap_or(0) > 40,
                "{per_container:?}"
            );
        }
        assert!(per_schema.len() == 2, "{per_schema:?}");
        for org in ["google.com", "Enterprise Outlook", "Outlook.com", "Yahoo"] {
            assert!(orgs.contains(org), "{org} missing from {orgs:?}");
        }
    }

    #[test]
    fn rfc9990_reports_parse_without_defects() {
        let spec = spec();
        let mut checked = 0;
        for index in 0..600 {
            if expected_kind(&spec, index) == Kind::NotAReport {
                continue;
            }
            let report = report_for(&spec, index);
            if report.schema != Schema::Rfc9990 {
                continue;
            }
            let parsed = parse(&report_email(&spec, index)).unwrap();
            assert!(
                parsed[0].defects.is_empty(),
                "{index}: {:?}",
                parsed[0].defects
            );
            checked += 1;
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn non_reports_yield_no_report() {
        let spec = spec();
        let indices: Vec<usize> = (0..30)
            .map(|k| k * NOT_A_REPORT_PERIOD + NOT_A_REPORT_AT)
            .collect();
        let mut subjects = HashSet::new();
        for index in indices {
            assert_eq!(expected_kind(&spec, index), Kind::NotAReport);
            assert_eq!(expected_report(&spec, index), None);
            assert_eq!(container(&spec, index), None);
            let message = report_email(&spec, index);
            subjects.insert(header(&message, "Subject").unwrap().to_owned());
            match parse(&message) {
                Err(Error::NoReport(_)) => {}
                other => panic!("message {index}: {other:?}"),
            }
        }
        // Bounces, auto-replies and newsletters all occur.
        assert!(subjects.iter().any(|s| s.starts_with("Undelivered")));
        assert!(subjects.iter().any(|s| s.starts_with("Automatic reply")));
        assert!(subjects.iter().any(|s| s.starts_with("Example Weekly")));
    }

    #[test]
    fn duplicates_carry_their_originals_report() {
        let spec = spec();
        let mut seen = 0;
        for index in 0..20_000 {
            let Kind::Duplicate { of } = expected_kind(&spec, index) else {
                continue;
            };
            assert!(of < index && index - of <= 97, "{index} -> {of}");
            assert_eq!(expected_kind(&spec, of), Kind::Report);
            if seen < 12 {
                let dup = report_email(&spec, index);
                let orig = report_email(&spec, of);
                let parsed = parse(&dup).unwrap();
                assert_eq!(parsed[0].report, report_for(&spec, of));
                assert_eq!(report_for(&spec, index), report_for(&spec, of));
                assert_ne!(header(&dup, "Message-ID"), header(&orig, "Message-ID"));
                assert!(message_date(&spec, index) > message_date(&spec, of));
                // The attachment's base64 lines (after the last blank line, up to a closing
                // boundary, which differs: a re-sent message gets a new one) are the same.
                let tail = |m: &[u8]| {
                    let s = String::from_utf8(m.to_vec()).unwrap();
                    let body = s.rsplit("\r\n\r\n").next().unwrap().to_owned();
                    body.split("\r\n")
                        .take_while(|l| !l.starts_with("--"))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                assert_eq!(tail(&dup), tail(&orig));
            }
            seen += 1;
        }
        assert!(seen > 90, "{seen}");
    }

    #[test]
    fn kind_rates_follow_the_documented_rule() {
        let spec = spec();
        let n = spec.messages;
        let mut not_reports = 0;
        let mut duplicates = 0;
        for index in 0..n {
            match expected_kind(&spec, index) {
                Kind::NotAReport => not_reports += 1,
                Kind::Duplicate { of } => {
                    assert_eq!(expected_kind(&spec, of), Kind::Report);
                    duplicates += 1;
                }
                Kind::Report => {}
            }
        }
        let expected_not = (0..n).filter(|i| i % 331 == 7).count();
        let expected_dup = (0..n).filter(|i| i % 193 == 97 && i % 331 != 7).count();
        assert_eq!(not_reports, expected_not);
        assert_eq!(duplicates, expected_dup);
        // About 0.3 % and 0.5 %.
        assert!((290..=310).contains(&not_reports), "{not_reports}");
        assert!((500..=525).contains(&duplicates), "{duplicates}");
    }

    #[test]
    fn container_mix_and_unique_ids() {
        let spec = MailboxSpec::new(20_000, 7);
        let mut counts: HashMap<Container, usize> = HashMap::new();
        for index in 0..spec.messages {
            if let Some(c) = container(&spec, index) {
                *counts.entry(c).or_default() += 1;
            }
        }
        let total: usize = counts.values().sum();
        let share = |c| counts.get(&c).copied().unwrap_or(0) * 1000 / total;
        assert!((430..=470).contains(&share(Container::Gzip)), "{counts:?}");
        assert!((330..=370).contains(&share(Container::Zip)), "{counts:?}");
        assert!((180..=220).contains(&share(Container::Xml)), "{counts:?}");

        let mut message_ids = HashSet::new();
        let mut report_ids = HashSet::new();
        for index in 0..1500 {
            let m = report_email(&spec, index);
            let id = header(&m, "Message-ID")
                .or_else(|| header(&m, "Message-Id"))
                .unwrap()
                .to_owned();
            assert!(message_ids.insert(id), "duplicate Message-ID at {index}");
            if expected_kind(&spec, index) == Kind::Report {
                let r = report_for(&spec, index);
                assert!(
                    report_ids.insert((r.report_metadata.org_name, r.report_metadata.report_id)),
                    "duplicate report id at {index}"
                );
            }
        }
    }

    #[test]
    fn records_are_consistent_and_heavy_tailed() {
        let spec = spec();
        let mut sizes = Vec::new();
        let mut periods_not_utc_day = 0;
        let mut forwarded = 0;
        for index in 0..3000 {
            let r = report_for(&spec, index);
            sizes.push(r.records.len());
            let d = r.report_metadata.date_range;
            if !d.begin.is_multiple_of(86_400) || d.end - d.begin != 86_399 {
                periods_not_utc_day += 1;
            }
            let domain = &r.policy_published.domain;
            for rec in &r.records {
                let pe = &rec.row.policy_evaluated;
                let passed =
                    pe.dkim == Some(AlignedResult::Pass) || pe.spf == Some(AlignedResult::Pass);
                let hf = &rec.identifiers.header_from;
                assert!(hf == domain || hf.ends_with(&format!(".{domain}")), "{hf}");
                let disposition = pe.disposition.clone().unwrap();
                if passed {
                    assert!(
                        matches!(
                            disposition,
                            ActionDisposition::None | ActionDisposition::Pass
                        ),
                        "{index}: {rec:?}"
                    );
                    assert!(pe.reasons.is_empty());
                } else if !pe.reasons.is_empty() {
                    forwarded += 1;
                    assert_eq!(disposition, ActionDisposition::None);
                }
                if disposition == ActionDisposition::Reject {
                    assert!(!passed);
                }
                assert!(!rec.auth_results.spf.is_empty());
                assert!(rec.auth_results.dkim.len() <= 2);
                assert!(rec.row.count >= 1);
            }
        }
        sizes.sort_unstable();
        let small = sizes.iter().filter(|n| **n <= 10).count();
        assert!(small * 100 / sizes.len() >= 75, "{small}");
        assert!(sizes.iter().any(|n| *n >= 50));
        assert!(
            *sizes.last().unwrap() >= 2000,
            "max {}",
            sizes.last().unwrap()
        );
        // ~5 % local-time or two-day periods.
        assert!(
            (90..=210).contains(&periods_not_utc_day),
            "{periods_not_utc_day}"
        );
        assert!(forwarded > 0);
    }

    #[test]
    fn mime_lines_are_crlf_and_base64_is_76_columns() {
        let spec = spec();
        for index in 0..200 {
            let m = report_email(&spec, index);
            let text = std::str::from_utf8(&m).unwrap();
            assert!(text.ends_with("\r\n"));
            for line in text.split("\r\n") {
                assert!(
                    !line.contains('\n') && !line.contains('\r'),
                    "bare line end in {index}"
                );
                assert!(line.len() <= 998, "{index}: long line");
            }
            assert!(header(&m, "Date").is_some());
            assert!(header(&m, "MIME-Version").is_some());
            assert!(header(&m, "To").is_some());
            if expected_kind(&spec, index) != Kind::NotAReport {
                let body = text.rsplit("\r\n\r\n").next().unwrap();
                let b64: Vec<&str> = body
                    .split("\r\n")
                    .take_while(|l| !l.starts_with("--") && !l.is_empty())
                    .collect();
                assert!(b64.iter().all(|l| l.len() <= 76), "{index}");
                assert!(b64.iter().rev().skip(1).all(|l| l.len() == 76), "{index}");
            }
        }
    }
}
