//! A deterministic generator of realistic DMARC aggregate report e-mails (a `rua` mailbox), for
//! ingest benches (a 100 000-message Maildir) and for tests that need to know what a store should
//! hold after reading it.
//!
//! Everything is a pure function of a [`MailboxSpec`] and a message index: [`report_email`]
//! builds the `index`-th message without looking at any other, so a mailbox of any size streams
//! in constant memory and a test can check one message against [`report_for`] and
//! [`expected_kind`]. Randomness comes from a small SplitMix64 generator keyed by
//! `(seed, purpose, index)`; no clock, no environment, no `rand` crate. The same spec always gives
//! the same bytes, whatever the platform or the number of threads writing.
//!
//! # Shape of the mailbox (and why)
//!
//! * **Reporters.** Seven profiles modelled on what real `rua` mailboxes receive, mixed so that
//!   attachments are 45 % gzip, 35 % zip and 20 % plain XML (the proportions seen in mailboxes
//!   of domains that send through the big providers):
//!
//!   | profile | share | schema | container | message layout |
//!   |---|---|---|---|---|
//!   | Google-like (`google.com`) | 30 % | RFC 7489, no namespace, no `<version>`, DKIM `result` before `selector`, no SPF `scope` | `application/zip`, `google.com!D!B!E.zip` | multipart/mixed, empty text/plain first |
//!   | Microsoft enterprise (`Enterprise Outlook`) | 15 % | RFC 7489 with `xmlns:xsd`/`xmlns:xsi` on the root, `envelope_to` first in `identifiers`, `fo` | `application/gzip`, `protection.outlook.com!D!B!E.xml.gz` | multipart/mixed with an explanatory text part |
//!   | Microsoft RFC 9990 (`Outlook.com`) | 8 % | RFC 9990 namespace ([`to_xml`]) | gzip, built by [`to_email`] | multipart/mixed ([`to_email`]'s) |
//!   | Yahoo-like | 12 % | RFC 7489, minimal `policy_published` | `application/gzip` | single part (the attachment is the body) |
//!   | small receivers, gzip | 10 % | RFC 7489, OpenDMARC-like (no DKIM selector, no SPF scope) | gzip sent as `application/octet-stream` | multipart/mixed |
//!   | small receivers, zip | 5 % | RFC 7489 with the `http://dmarc.org/dmarc-xml/0.1` namespace | `application/x-zip-compressed` | single or multipart |
//!   | small receivers, plain XML | 20 % | half RFC 9990 ([`to_xml`]), half RFC 7489 | `text/xml` or `application/xml`, `.xml` | single or multipart |
//!
//!   Small receivers are 48 instances per profile (`mtaN.example.net`, `mxN.example.org`,
//!   `relayN.example.com`). Real provider names appear only where the brief allows them: in
//!   `org_name`, `email`, the submitter/file name and the `From:` address.
//! * **Period.** One UTC day, `00:00:00`–`23:59:59`, for the big reporters. Of the small
//!   receivers, instances with `n % 14 == 4` run on local time (the day starts at local midnight,
//!   so `begin` is not at a UTC midnight) and instances with `n % 14 == 11` send 48-hour reports;
//!   that is 7 of 48 instances of 35 % of the messages, about 5 %. Message `index` reports day
//!   `start_day + index * days / messages`, so the mailbox is in delivery order.
//! * **Records per report** (heavy tail, so the mean message is a few KB and a few are 100+ KB;
//!   10 000 messages of seed 1: mean 4.5 KB, median 3.0 KB, p99 35 KB, max 149 KB). Big
//!   reporters: 78 % have 1–10 records (skewed towards 1), 12 % 11–49, 9.3 % 50–500
//!   (log-uniform), 0.7 % 2 000–5 000. Small receivers see little traffic: 85 % 1–5, 14 % 6–40,
//!   1 % 41–150 (their plain-XML reports are not compressed).
//! * **Sources.** Every policy domain has a stable set of legitimate senders: 1–4 of Google
//!   Workspace (209.85.128.0/17, 2a00:1450:4864::/48), Microsoft 365 (40.107.0.0/16,
//!   52.100.0.0/16, 2a01:111:f400::/48), Amazon SES (54.240.0.0/18), Mailchimp (198.2.128.0/18),
//!   SendGrid (167.89.0.0/17, 149.72.0.0/16) and an own MTA (192.0.2.0/24, 203.0.113.0/24,
//!   2001:db8:1::/48), 2–24 addresses each, plus 1–5 forwarders and mailing lists. Legitimate
//!   rows mostly pass DKIM aligned (82 %); some pass SPF only (10 %: no signature or a broken
//!   one); some are an ESP not yet set up for the domain (8 %, only the ESP's own signature:
//!   fails DMARC unless its bounce domain aligns). Mailing lists break DKIM, plain forwarding
//!   keeps it 30 % of the time; SPF fails or passes for the forwarder's own domain, so most
//!   forwarded rows fail DMARC, and 60 % of those carry a `forwarded` (RFC 7489) /
//!   `trusted_forwarder` (RFC 9990) / `mailing_list` / `local_policy` (`arc=pass`, Google-like)
//!   override when the policy enforces. The rest of a report's rows are
//!   forgeries from random addresses, count 1–3, failing DMARC. Third parties (ESP bounce
//!   domains, lists, spammers) use names under the reserved `.example` TLD, so they never align
//!   with a policy domain by accident.
//! * **Policies and dispositions.** Per domain: `p` none 45 % / quarantine 25 % / reject 30 %,
//!   `sp` mostly equal to `p`, relaxed alignment mostly. Dispositions follow: a DMARC pass gets
//!   `none` (or `pass` in RFC 9990 reports under an enforcing policy), a fail gets the policy
//!   that applies to the `header_from` (`p`, or `sp` for subdomains) unless an override
//!   applies. Alignment is computed from the records' own DKIM/SPF domains, so
//!   `policy_evaluated` is always consistent with `auth_results`.
//! * **Envelope.** Each message starts with the headers a delivering MTA adds (`Return-Path`,
//!   `Delivered-To`, `Received`), then the reporter's own headers: `From`, `To` (the `rua`
//!   mailbox), `Subject: Report Domain: X Submitter: Y Report-ID: Z` (Google writes
//!   `Report domain:`), `Date` (after the period ends), a unique `Message-ID`, `MIME-Version`,
//!   and for the big providers `DKIM-Signature`/`Authentication-Results` lines (dummy values;
//!   they make header blocks as long as real ones). Attachments are base64 in 76-column lines;
//!   all line ends are CRLF.
//!
//! # Exact rules for tests
//!
//! * [`expected_kind`]: `index % 331 == 7` is **not a report** (a bounce, an auto-reply or a
//!   newsletter; about 0.3 %). Otherwise `index % 193 == 97` is a **duplicate delivery** (about
//!   0.5 %) of `of = index - 1 - k`, `k` a seeded value in `0..96`, moved one further back when
//!   that index is itself not a report; `of` is always a [`Kind::Report`]. Everything else is a
//!   report. A duplicate is the original message re-sent: same attachment bytes, same report,
//!   new `Message-ID` and a later `Date`.
//! * Report ids are unique per reporter for every non-duplicate index (they are derived from a
//!   bijection of the index; Yahoo-like ids are unique up to 1 000 000 messages). Note that at
//!   the default density (100 000 messages, 20 domains, 90 days: ~55 reports per domain and day)
//!   the big reporters send several reports for the same domain and day, each with its own id
//!   and records; a store must key reports by reporter and report id, not by period.
//! * Maildir: message `index` is `cur/{index:08}.gen:2,S`, except the last 2 %
//!   (`index >= messages - messages / 50`), which are still unread in `new/{index:08}.gen`; the
//!   file's modification time is the message's `Date`.
//!
//!
//! # Example
//!
//! ```
//! use mailward_benches::reportmail::{Kind, MailboxSpec, expected_kind, report_email, report_for};
//!
//! let spec = MailboxSpec::new(100_000, 7);
//! assert_eq!(expected_kind(&spec, 3), Kind::Report);
//! let message = report_email(&spec, 3);
//! let parsed = mailward_reports::parse(&message).unwrap();
//! assert_eq!(parsed[0].report, report_for(&spec, 3));
//! assert_eq!(expected_kind(&spec, 7), Kind::NotAReport);
//! ```
//!
//! The `gen-report-mail` binary writes a mailbox (Maildir, mbox or one `.eml` per message);
//! `benches/parsedmarc-offline.sh` times parsedmarc over the `.eml` files.
//!
//! The generator is split by concern: `spec` (what to generate and what each message is), `rng`
//! (the seeded randomness), `plan` (reporter profiles and the plan of each message), `domains`
//! (policy domains and their senders), `records` (the aggregate reports), `xml` (RFC 7489-style
//! XML), `message` and `not_report` (the e-mails), `dates`, `mailbox` (message `index`'s report,
//! bytes and date) and `output` (a Maildir, an mbox or files on disk).
//!
//! [`to_xml`]: mailward_reports::to_xml
//! [`to_email`]: mailward_reports::to_email

mod dates;
mod domains;
mod mailbox;
mod message;
mod not_report;
mod output;
mod plan;
mod records;
mod rng;
mod spec;
mod xml;

pub use mailbox::{
    container, expected_report, maildir_path, message_date, report_email, report_for,
};
pub use output::{OutputFormat, SizeSummary, write_maildir, write_output};
pub(crate) use rng::Rng;
pub use spec::{
    Container, DUPLICATE_AT, DUPLICATE_PERIOD, Kind, MailboxSpec, NOT_A_REPORT_AT,
    NOT_A_REPORT_PERIOD, domain_name, expected_kind,
};
