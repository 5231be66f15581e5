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
//! [`to_xml`]: mailward_reports::to_xml
//! [`to_email`]: mailward_reports::to_email

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use mailward_reports::{
    ActionDisposition, AggregateReport, AlignedResult, Alignment, AuthResults, DateRange,
    DiscoveryMethod, DkimAuthResult, DkimResult, Identifiers, PolicyEvaluated, PolicyOverride,
    PolicyOverrideReason, PolicyPublished, Record, ReportEmail, ReportMetadata, ReportedPolicy,
    ReportedSpfResult, Row, Schema, SpfAuthResult, SpfScope, Testing,
};

// ----------------------------------------------------------------------------------------------
// Public API
// ----------------------------------------------------------------------------------------------

/// What to generate. Every output is a pure function of these fields and a message index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSpec {
    /// Number of messages in the mailbox.
    pub messages: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of policy domains reported on (default 20): `example.com`, `example.net`,
    /// `example.org`, then `shop.example.com`, ... (see [`domain_name`]).
    pub domains: usize,
    /// Length of the reported period in days (default 90); messages are spread evenly over it.
    pub days: u32,
    /// Days since the Unix epoch of the first report day (default 19 723, 2024-01-01).
    pub start_day: u64,
    /// The `rua` mailbox the reports are addressed to (`To:`), default
    /// `dmarc-reports@example.com`.
    pub rua: String,
}

impl Default for MailboxSpec {
    fn default() -> Self {
        Self {
            messages: 1000,
            seed: 0,
            domains: 20,
            days: 90,
            start_day: 19_723,
            rua: "dmarc-reports@example.com".to_owned(),
        }
    }
}

impl MailboxSpec {
    /// A spec with `messages` messages from `seed`, other fields at their defaults.
    pub fn new(messages: usize, seed: u64) -> Self {
        Self {
            messages,
            seed,
            ..Self::default()
        }
    }
}

/// What message `index` of a mailbox is (see the module docs for the exact rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A report e-mail, the first delivery of its report.
    Report,
    /// The report of message `of` delivered again (same report, new `Message-ID` and `Date`).
    Duplicate {
        /// The index of the original message (always a [`Kind::Report`]).
        of: usize,
    },
    /// A message in the `rua` mailbox that carries no report (bounce, auto-reply,
    /// newsletter); `mailward_reports::parse` answers `Error::NoReport` for it.
    NotAReport,
}

/// Period of the "not a report" rule: `index % NOT_A_REPORT_PERIOD == NOT_A_REPORT_AT`.
pub const NOT_A_REPORT_PERIOD: usize = 331;
/// See [`NOT_A_REPORT_PERIOD`].
pub const NOT_A_REPORT_AT: usize = 7;
/// Period of the duplicate rule: `index % DUPLICATE_PERIOD == DUPLICATE_AT` (unless not a report).
pub const DUPLICATE_PERIOD: usize = 193;
/// See [`DUPLICATE_PERIOD`].
pub const DUPLICATE_AT: usize = 97;

/// The kind of message `index`: `index % 331 == 7` is [`Kind::NotAReport`]; otherwise
/// `index % 193 == 97` is a [`Kind::Duplicate`] of `index - 1 - k` (`k` seeded, `0..96`; one
/// further back when that one is not a report); everything else is a [`Kind::Report`].
pub fn expected_kind(spec: &MailboxSpec, index: usize) -> Kind {
    if index % NOT_A_REPORT_PERIOD == NOT_A_REPORT_AT {
        return Kind::NotAReport;
    }
    if index % DUPLICATE_PERIOD == DUPLICATE_AT {
        // index >= 97 here, so `of` stays in 1..index; the window index-96..index-1 holds no
        // other duplicate (residues 1..=96 mod 193), and one step back from a not-a-report
        // index (residue 7 mod 331) lands on residue 6, a report.
        let back = 1 + usize_of(key(spec.seed, SALT_DUPLICATE, u64_of(index)) % 96);
        let mut of = index.saturating_sub(back);
        if of % NOT_A_REPORT_PERIOD == NOT_A_REPORT_AT {
            of = of.saturating_sub(1);
        }
        return Kind::Duplicate { of };
    }
    Kind::Report
}

/// How the report of a message is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// A gzip file (`.xml.gz`), as `application/gzip` or `application/octet-stream`.
    Gzip,
    /// A zip archive holding one `.xml` file.
    Zip,
    /// Plain XML (`.xml`, `text/xml` or `application/xml`).
    Xml,
}

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

/// The name of the `d`-th policy domain: `example.com`, `example.net`, `example.org`, then
/// `WORD.example.{com,net,org}` over 20 words, then `WORDn.example.{com,net,org}`.
pub fn domain_name(d: usize) -> String {
    const WORDS: [&str; 20] = [
        "shop", "news", "billing", "support", "corp", "store", "blog", "events", "careers",
        "status", "travel", "bank", "health", "media", "school", "labs", "cloud", "pay", "app",
        "promo",
    ];
    const TLDS: [&str; 3] = ["com", "net", "org"];
    match d {
        0 => "example.com".to_owned(),
        1 => "example.net".to_owned(),
        2 => "example.org".to_owned(),
        _ => {
            let k = d - 3;
            let word = WORDS.get(k % WORDS.len()).copied().unwrap_or("shop");
            let tld = TLDS
                .get((k / WORDS.len()) % TLDS.len())
                .copied()
                .unwrap_or("com");
            let round = k / (WORDS.len() * TLDS.len());
            if round == 0 {
                format!("{word}.example.{tld}")
            } else {
                format!("{word}{round}.example.{tld}")
            }
        }
    }
}

/// The path of message `index` inside a Maildir written by [`write_maildir`]:
/// `cur/{index:08}.gen:2,S`, or `new/{index:08}.gen` for the last 2 % of the messages.
pub fn maildir_path(spec: &MailboxSpec, index: usize) -> PathBuf {
    let unread_from = spec.messages.saturating_sub(spec.messages / 50);
    if index >= unread_from {
        PathBuf::from(format!("new/{index:08}.gen"))
    } else {
        PathBuf::from(format!("cur/{index:08}.gen:2,S"))
    }
}

/// Writes the mailbox as a Maildir: `dir/{new,cur,tmp}`, messages at [`maildir_path`], each
/// file's modification time set to its [`message_date`]. Uses up to 4 threads (each message is
/// independent, so the output does not depend on the thread count).
///
/// # Errors
///
/// Any I/O error creating the directories or writing a file.
pub fn write_maildir(spec: &MailboxSpec, dir: &Path) -> io::Result<()> {
    write_output(spec, dir, OutputFormat::Maildir).map(|_| ())
}

/// Output layouts of [`write_output`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A Maildir (see [`write_maildir`]).
    Maildir,
    /// One mboxrd file: a `From ` line before each message, lines starting with `>*From `
    /// quoted with one more `>`, CRLF turned into LF (the usual mbox line end).
    Mbox,
    /// One file per message, `{index:08}.eml`, bytes exactly as [`report_email`].
    Files,
}

/// Sizes of the messages written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SizeSummary {
    /// Number of messages.
    pub messages: usize,
    /// Sum of the message sizes in bytes (as [`report_email`] returns them).
    pub total_bytes: u64,
    /// Mean size (rounded down).
    pub mean: u64,
    /// Median size.
    pub median: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest message.
    pub max: u64,
}

impl SizeSummary {
    /// Summarises `sizes` (sorted in place).
    pub fn from_sizes(sizes: &mut [u64]) -> Self {
        sizes.sort_unstable();
        let n = sizes.len();
        let total: u64 = sizes.iter().sum();
        let rank = |q: usize| -> u64 {
            if n == 0 {
                return 0;
            }
            // Nearest rank: ceil(q/100 * n), 1-based.
            let r = (q * n).div_ceil(100).clamp(1, n);
            sizes.get(r - 1).copied().unwrap_or(0)
        };
        Self {
            messages: n,
            total_bytes: total,
            mean: total.checked_div(u64_of(n)).unwrap_or(0),
            median: rank(50),
            p99: rank(99),
            max: sizes.last().copied().unwrap_or(0),
        }
    }
}

impl std::fmt::Display for SizeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} messages, {} bytes, mean {} B, median {} B, p99 {} B, max {} B",
            self.messages, self.total_bytes, self.mean, self.median, self.p99, self.max
        )
    }
}

/// Writes the mailbox in `format` at `out` (a directory for [`OutputFormat::Maildir`] and
/// [`OutputFormat::Files`], a file for [`OutputFormat::Mbox`]) and returns the message sizes.
///
/// # Errors
///
/// Any I/O error.
pub fn write_output(
    spec: &MailboxSpec,
    out: &Path,
    format: OutputFormat,
) -> io::Result<SizeSummary> {
    let mut sizes = match format {
        OutputFormat::Maildir => {
            for sub in ["new", "cur", "tmp"] {
                std::fs::create_dir_all(out.join(sub))?;
            }
            parallel_write(spec, |index, bytes| {
                let path = out.join(maildir_path(spec, index));
                write_file(&path, bytes, message_date(spec, index))
            })?
        }
        OutputFormat::Files => {
            std::fs::create_dir_all(out)?;
            parallel_write(spec, |index, bytes| {
                let path = out.join(format!("{index:08}.eml"));
                write_file(&path, bytes, message_date(spec, index))
            })?
        }
        OutputFormat::Mbox => {
            let file = std::fs::File::create(out)?;
            let mut w = io::BufWriter::new(file);
            let mut sizes = Vec::with_capacity(spec.messages);
            for index in 0..spec.messages {
                let bytes = report_email(spec, index);
                sizes.push(u64_of(bytes.len()));
                write_mbox_message(&mut w, &bytes, message_date(spec, index))?;
            }
            w.flush()?;
            sizes
        }
    };
    Ok(SizeSummary::from_sizes(&mut sizes))
}

// ----------------------------------------------------------------------------------------------
// Output helpers
// ----------------------------------------------------------------------------------------------

/// Generates every message on up to 4 threads (interleaved indices) and hands each to `sink`;
/// returns the sizes in index order.
fn parallel_write(
    spec: &MailboxSpec,
    sink: impl Fn(usize, &[u8]) -> io::Result<()> + Sync,
) -> io::Result<Vec<u64>> {
    let threads = std::thread::available_parallelism()
        .map(std::num::NonZeroUsize::get)
        .unwrap_or(1)
        .clamp(1, 4);
    let sink = &sink;
    let parts: Vec<io::Result<Vec<u64>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> io::Result<Vec<u64>> {
                    let mut sizes = Vec::new();
                    for index in (t..spec.messages).step_by(threads) {
                        let bytes = report_email(spec, index);
                        sizes.push(u64_of(bytes.len()));
                        sink(index, &bytes)?;
                    }
                    Ok(sizes)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("generator thread panicked")))
            })
            .collect()
    });
    let parts = parts.into_iter().collect::<io::Result<Vec<_>>>()?;
    let mut sizes = vec![0u64; spec.messages];
    for (t, part) in parts.iter().enumerate() {
        for (k, size) in part.iter().enumerate() {
            if let Some(slot) = sizes.get_mut(t + k * threads) {
                *slot = *size;
            }
        }
    }
    Ok(sizes)
}

fn write_file(path: &Path, bytes: &[u8], date: u64) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date);
    file.set_modified(mtime)
}

fn write_mbox_message(w: &mut impl io::Write, message: &[u8], date: u64) -> io::Result<()> {
    writeln!(w, "From MAILER-DAEMON {}", asctime(date))?;
    for line in message.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let after_quotes = line.iter().position(|b| *b != b'>').unwrap_or(line.len());
        if line
            .get(after_quotes..)
            .is_some_and(|l| l.starts_with(b"From "))
        {
            w.write_all(b">")?;
        }
        w.write_all(line)?;
        w.write_all(b"\n")?;
    }
    // The message ends with CRLF, so the split above already produced one empty last line;
    // the blank line separating messages follows it.
    Ok(())
}

// ----------------------------------------------------------------------------------------------
// Randomness
// ----------------------------------------------------------------------------------------------

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
const SALT_PLAN: u64 = 1;
const SALT_RECORDS: u64 = 2;
const SALT_DOMAIN: u64 = 3;
const SALT_REPORT_ID: u64 = 4;
const SALT_MESSAGE_ID: u64 = 5;
const SALT_ENVELOPE: u64 = 6;
const SALT_DUPLICATE: u64 = 7;
const SALT_OTHER: u64 = 8;

/// SplitMix64's finaliser: a bijection on `u64`.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A key for `(seed, salt, n)`; for a fixed seed and salt it is a bijection of `n` (an xor with
/// a constant, then [`mix64`]), which makes ids derived from it unique per index.
fn key(seed: u64, salt: u64, n: u64) -> u64 {
    mix64(n ^ mix64(seed ^ mix64(salt.wrapping_mul(GOLDEN))))
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for test data.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64, salt: u64, n: u64) -> Self {
        Self {
            state: key(seed, salt, n),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in `0..n` (0 when `n == 0`), by multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    pub(crate) fn below_usize(&mut self, n: usize) -> usize {
        usize_of(self.below(u64_of(n)))
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo.saturating_add(self.below(hi.saturating_sub(lo).saturating_add(1)))
    }

    /// True with probability `permille / 1000`.
    pub(crate) fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below_usize(items.len()))
    }

    /// Roughly log-uniform in `lo..=hi` (a random power-of-two band, then uniform inside it).
    fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let lo = lo.max(1);
        let hi = hi.max(lo);
        let lo_bits = u64::from(lo.ilog2());
        let hi_bits = u64::from(hi.ilog2());
        let band = self.range(lo_bits, hi_bits);
        let band_lo = 1u64
            .checked_shl(u32::try_from(band).unwrap_or(0))
            .unwrap_or(1);
        let band_hi = band_lo.saturating_mul(2).saturating_sub(1);
        self.range(band_lo.max(lo), band_hi.min(hi))
    }

    pub(crate) fn token(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| char::from(self.pick(alphabet).copied().unwrap_or(b'a')))
            .collect()
    }
}

fn u64_of(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn u8_of(n: u64) -> u8 {
    u8::try_from(n & 0xFF).unwrap_or(0)
}

fn u16_of(n: u64) -> u16 {
    u16::try_from(n & 0xFFFF).unwrap_or(0)
}

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const BASE64_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// ----------------------------------------------------------------------------------------------
// Reporter profiles and the per-message plan
// ----------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Google,
    MsEnterprise,
    OutlookCom,
    Yahoo,
    SmallOctet,
    SmallZip,
    SmallXml,
}

/// Shares in per mille: gzip 150 + 80 + 120 + 100 = 450, zip 300 + 50 = 350, XML 200.
const PROFILE_WEIGHTS: [(Profile, u64); 7] = [
    (Profile::Google, 300),
    (Profile::MsEnterprise, 150),
    (Profile::OutlookCom, 80),
    (Profile::Yahoo, 120),
    (Profile::SmallOctet, 100),
    (Profile::SmallZip, 50),
    (Profile::SmallXml, 200),
];

/// Instances of each small-receiver profile.
const SMALL_INSTANCES: u64 = 48;

impl Profile {
    fn container(self) -> Container {
        match self {
            Self::Google | Self::SmallZip => Container::Zip,
            Self::MsEnterprise | Self::OutlookCom | Self::Yahoo | Self::SmallOctet => {
                Container::Gzip
            }
            Self::SmallXml => Container::Xml,
        }
    }

    fn is_small(self) -> bool {
        matches!(self, Self::SmallOctet | Self::SmallZip | Self::SmallXml)
    }
}

/// How a reporter cuts its periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    Utc,
    /// Local midnight to local midnight; the offset east of UTC in hours.
    Local(i64),
    /// 48 hours from a UTC midnight.
    TwoDays,
}

/// Message-level choices of one index.
#[derive(Debug, Clone)]
struct Plan {
    profile: Profile,
    instance: u64,
    domain: usize,
    begin: u64,
    end: u64,
    /// `Date:` of the first delivery.
    sent: u64,
}

fn plan(spec: &MailboxSpec, index: usize) -> Plan {
    let mut rng = Rng::new(spec.seed, SALT_PLAN, u64_of(index));
    let roll = rng.below(1000);
    let mut acc = 0;
    let mut profile = Profile::SmallXml;
    for (p, w) in PROFILE_WEIGHTS {
        acc += w;
        if roll < acc {
            profile = p;
            break;
        }
    }
    let instance = if profile.is_small() {
        rng.below(SMALL_INSTANCES)
    } else {
        0
    };
    // Lower-numbered domains get more reports (min of two uniforms: a triangular skew).
    let n = spec.domains.max(1);
    let domain = rng.below_usize(n).min(rng.below_usize(n));
    let days = u128::from(spec.days.max(1));
    let offset = u128::from(u64_of(index)) * days / u128::from(u64_of(spec.messages.max(1)));
    let day = spec
        .start_day
        .saturating_add(u64::try_from(offset).unwrap_or(0));
    let midnight = day.saturating_mul(86_400);
    let (begin, end) = match clock(profile, instance) {
        Clock::Utc => (midnight, midnight + 86_399),
        Clock::Local(hours) => {
            let shift = hours.unsigned_abs() * 3600;
            let begin = if hours > 0 {
                midnight.saturating_sub(shift)
            } else {
                midnight.saturating_add(shift)
            };
            (begin, begin + 86_399)
        }
        Clock::TwoDays => (midnight, midnight + 2 * 86_400 - 1),
    };
    let delay = match profile {
        Profile::Google => rng.range(600, 8 * 3600),
        Profile::MsEnterprise | Profile::OutlookCom => rng.range(3600, 20 * 3600),
        Profile::Yahoo => rng.range(60, 4 * 3600),
        Profile::SmallOctet | Profile::SmallZip | Profile::SmallXml => rng.range(300, 2 * 3600),
    };
    Plan {
        profile,
        instance,
        domain,
        begin,
        end,
        sent: end + 1 + delay,
    }
}

fn clock(profile: Profile, instance: u64) -> Clock {
    const ZONES: [i64; 7] = [3, 8, -5, 9, -3, 2, -8];
    if !profile.is_small() {
        return Clock::Utc;
    }
    match instance % 14 {
        4 => Clock::Local(
            ZONES
                .get(usize_of((instance / 14) % 7))
                .copied()
                .unwrap_or(3),
        ),
        11 => Clock::TwoDays,
        _ => Clock::Utc,
    }
}

/// The `Date:` of a re-delivery: 1 to 36 hours after the original's.
fn resent_date(spec: &MailboxSpec, of: usize, index: usize) -> u64 {
    let mut rng = Rng::new(spec.seed, SALT_DUPLICATE, u64_of(index));
    plan(spec, of).sent + rng.range(3600, 36 * 3600)
}

/// Who a profile instance is.
#[derive(Debug, Clone)]
struct Reporter {
    org_name: String,
    email: String,
    extra_contact_info: Option<String>,
    /// The Mail Receiver's domain: `Submitter:` and the file name's first part.
    submitter: String,
    /// `From:` header value.
    from: String,
    /// Bare sender address (Return-Path).
    sender: String,
    /// Host named in the `Received:` line.
    relay: String,
    /// First two octets and the third-octet range of the relay's address.
    relay_net: (u8, u8, u8, u8),
}

fn reporter(profile: Profile, instance: u64) -> Reporter {
    match profile {
        Profile::Google => Reporter {
            org_name: "google.com".into(),
            email: "noreply-dmarc-support@google.com".into(),
            extra_contact_info: Some("https://support.google.com/a/answer/2466580".into()),
            submitter: "google.com".into(),
            from: "noreply-dmarc-support@google.com".into(),
            sender: "noreply-dmarc-support@google.com".into(),
            relay: "mail-sor-f69.google.com".into(),
            relay_net: (209, 85, 220, 220),
        },
        Profile::MsEnterprise => Reporter {
            org_name: "Enterprise Outlook".into(),
            email: "dmarcreport@microsoft.com".into(),
            extra_contact_info: None,
            submitter: "protection.outlook.com".into(),
            from: "DMARC Aggregate Report <dmarcreport@microsoft.com>".into(),
            sender: "dmarcreport@microsoft.com".into(),
            relay: "mail-eopbgr-outbound.protection.outlook.com".into(),
            relay_net: (40, 107, 0, 255),
        },
        Profile::OutlookCom => Reporter {
            org_name: "Outlook.com".into(),
            email: "dmarcreport@microsoft.com".into(),
            extra_contact_info: None,
            submitter: "outlook.com".into(),
            from: "dmarcreport@microsoft.com".into(),
            sender: "dmarcreport@microsoft.com".into(),
            relay: "mail-oln040092.outbound.protection.outlook.com".into(),
            relay_net: (40, 92, 0, 255),
        },
        Profile::Yahoo => Reporter {
            org_name: "Yahoo".into(),
            email: "dmarchelp@yahooinc.com".into(),
            extra_contact_info: None,
            submitter: "yahoo.com".into(),
            from: "Yahoo DMARC Report <noreply@dmarc.yahoo.com>".into(),
            sender: "noreply@dmarc.yahoo.com".into(),
            relay: "sonic.gate.mail.ne1.yahoo.com".into(),
            relay_net: (98, 137, 0, 255),
        },
        Profile::SmallOctet | Profile::SmallZip | Profile::SmallXml => {
            let host = match profile {
                Profile::SmallOctet => format!("mta{instance}.example.net"),
                Profile::SmallZip => format!("mx{instance}.example.org"),
                _ => format!("relay{instance}.example.com"),
            };
            let third = u8_of(instance);
            Reporter {
                org_name: host.clone(),
                email: format!("dmarc-noreply@{host}"),
                extra_contact_info: None,
                submitter: host.clone(),
                from: format!("DMARC Reporter <dmarc-noreply@{host}>"),
                sender: format!("dmarc-noreply@{host}"),
                relay: host,
                relay_net: (203, 0, 113, third),
            }
        }
    }
}

fn is_rfc9990(profile: Profile, instance: u64) -> bool {
    match profile {
        Profile::OutlookCom => true,
        Profile::SmallXml => instance.is_multiple_of(2),
        _ => false,
    }
}

// ----------------------------------------------------------------------------------------------
// Policy domains and their senders
// ----------------------------------------------------------------------------------------------

/// How an ESP's MAIL FROM relates to the customer's domain.
#[derive(Debug, Clone, Copy)]
enum EnvelopeKind {
    /// The customer's own domain (aligned).
    Own,
    /// The ESP's bounce domain (not aligned).
    Bounce(&'static str),
    /// A customer subdomain `PREFIXnnnn.domain` (aligned under relaxed SPF alignment).
    Sub(&'static str),
}

#[derive(Debug)]
struct Esp {
    /// IPv4 networks: first two octets and the third-octet range.
    v4: &'static [(u8, u8, u8, u8)],
    /// An IPv6 /48, if the ESP sends over IPv6.
    v6: Option<[u16; 3]>,
    /// DKIM selectors; empty means a per-domain random token (SES style).
    selectors: &'static [&'static str],
    /// The ESP's own second signature domain; a leading '.' means `<first label><this>`.
    third_party: Option<&'static str>,
    envelope: EnvelopeKind,
    /// Addresses per domain.
    ips: (u64, u64),
}

const ESPS: [Esp; 6] = [
    // Google Workspace.
    Esp {
        v4: &[(209, 85, 128, 255)],
        v6: Some([0x2a00, 0x1450, 0x4864]),
        selectors: &["google"],
        third_party: None,
        envelope: EnvelopeKind::Own,
        ips: (4, 24),
    },
    // Microsoft 365.
    Esp {
        v4: &[(40, 107, 0, 255), (52, 100, 0, 255)],
        v6: Some([0x2a01, 0x0111, 0xf400]),
        selectors: &["selector1", "selector2"],
        third_party: Some(".onmicrosoft.example"),
        envelope: EnvelopeKind::Own,
        ips: (4, 24),
    },
    // Own MTA.
    Esp {
        v4: &[(192, 0, 2, 2), (203, 0, 113, 113)],
        v6: Some([0x2001, 0x0db8, 0x0001]),
        selectors: &["mail", "dkim", "s2024"],
        third_party: None,
        envelope: EnvelopeKind::Own,
        ips: (1, 4),
    },
    // Amazon SES.
    Esp {
        v4: &[(54, 240, 0, 63)],
        v6: None,
        selectors: &[],
        third_party: Some("amazonses.example"),
        envelope: EnvelopeKind::Bounce("amazonses.example"),
        ips: (2, 10),
    },
    // Mailchimp / Mandrill.
    Esp {
        v4: &[(198, 2, 128, 191)],
        v6: None,
        selectors: &["k1", "k2", "k3"],
        third_party: Some("mcsv.example"),
        envelope: EnvelopeKind::Bounce("mcsv.example"),
        ips: (2, 8),
    },
    // SendGrid.
    Esp {
        v4: &[(167, 89, 0, 127), (149, 72, 0, 255)],
        v6: None,
        selectors: &["s1", "s2"],
        third_party: Some("sendgrid.example"),
        envelope: EnvelopeKind::Sub("em"),
        ips: (2, 8),
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ForwardKind {
    List,
    Forward,
}

#[derive(Debug)]
struct ForwardSite {
    kind: ForwardKind,
    v4: (u8, u8, u8, u8),
    envelope: &'static str,
    /// Rewrites MAIL FROM (SRS / list bounce address): SPF passes for `envelope`; otherwise SPF
    /// is checked for the original domain and fails.
    rewrites: bool,
}

const FORWARD_SITES: [ForwardSite; 5] = [
    ForwardSite {
        kind: ForwardKind::List,
        v4: (209, 85, 220, 220),
        envelope: "googlegroups.example",
        rewrites: true,
    },
    ForwardSite {
        kind: ForwardKind::List,
        v4: (198, 51, 100, 100),
        envelope: "lists.example",
        rewrites: true,
    },
    ForwardSite {
        kind: ForwardKind::Forward,
        v4: (40, 92, 0, 255),
        envelope: "outlook-forward.example",
        rewrites: true,
    },
    ForwardSite {
        kind: ForwardKind::Forward,
        v4: (131, 107, 0, 255),
        envelope: "alumni.example",
        rewrites: false,
    },
    ForwardSite {
        kind: ForwardKind::Forward,
        v4: (85, 215, 0, 255),
        envelope: "forward.example",
        rewrites: false,
    },
];

#[derive(Debug)]
struct Source {
    esp: &'static Esp,
    ip: IpAddr,
    selector: String,
    envelope: String,
    third_party: Option<String>,
    third_selector: String,
}

#[derive(Debug)]
struct Forwarder {
    site: &'static ForwardSite,
    ip: IpAddr,
}

#[derive(Debug)]
struct DomainInfo {
    name: String,
    p: ReportedPolicy,
    sp: ReportedPolicy,
    adkim: Alignment,
    aspf: Alignment,
    fo: &'static str,
    sources: Vec<Source>,
    forwarders: Vec<Forwarder>,
}

fn v4_in(rng: &mut Rng, net: (u8, u8, u8, u8)) -> IpAddr {
    let (a, b, lo, hi) = net;
    let c = u8_of(rng.range(u64::from(lo), u64::from(hi)));
    let d = u8_of(rng.range(1, 254));
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn domain_info(spec: &MailboxSpec, d: usize) -> DomainInfo {
    let mut rng = Rng::new(spec.seed, SALT_DOMAIN, u64_of(d));
    let name = domain_name(d);
    let p = match rng.below(100) {
        0..45 => ReportedPolicy::None,
        45..70 => ReportedPolicy::Quarantine,
        _ => ReportedPolicy::Reject,
    };
    let sp = if rng.chance(800) {
        p.clone()
    } else {
        ReportedPolicy::None
    };
    let adkim = if rng.chance(900) {
        Alignment::Relaxed
    } else {
        Alignment::Strict
    };
    let aspf = if rng.chance(900) {
        Alignment::Relaxed
    } else {
        Alignment::Strict
    };
    let fo = if rng.chance(700) { "0" } else { "1" };
    // One mailbox provider (Google Workspace, Microsoft 365 or an own MTA), then 0-3 ESPs.
    let mut order: Vec<usize> = vec![rng.below_usize(3)];
    let mut esps: Vec<usize> = (3..ESPS.len()).collect();
    for _ in 0..rng.below(4) {
        if esps.is_empty() {
            break;
        }
        order.push(esps.swap_remove(rng.below_usize(esps.len())));
    }
    let first_label = name.split('.').next().unwrap_or("example").to_owned();
    let mut sources = Vec::new();
    for e in order {
        let Some(esp) = ESPS.get(e) else { continue };
        let selector = match rng.pick(esp.selectors) {
            Some(s) => (*s).to_owned(),
            None => rng.token(32, LOWER_ALNUM),
        };
        let third_party = esp.third_party.map(|t| {
            if t.starts_with('.') {
                format!("{first_label}{t}")
            } else {
                t.to_owned()
            }
        });
        let third_selector = match rng.pick(esp.selectors) {
            Some(s) => (*s).to_owned(),
            None => rng.token(32, LOWER_ALNUM),
        };
        let envelope = match esp.envelope {
            EnvelopeKind::Own => name.clone(),
            EnvelopeKind::Bounce(b) => b.to_owned(),
            EnvelopeKind::Sub(prefix) => format!("{prefix}{}.{name}", rng.range(1000, 9999)),
        };
        for _ in 0..rng.range(esp.ips.0, esp.ips.1) {
            let ip = match esp.v6 {
                Some([a, b, c]) if rng.chance(150) => IpAddr::V6(Ipv6Addr::new(
                    a,
                    b,
                    c,
                    u16_of(rng.next_u64()),
                    0,
                    0,
                    0,
                    u16_of(rng.range(1, 0xfff)),
                )),
                _ => {
                    let net = rng.pick(esp.v4).copied().unwrap_or((192, 0, 2, 2));
                    v4_in(&mut rng, net)
                }
            };
            sources.push(Source {
                esp,
                ip,
                selector: selector.clone(),
                envelope: envelope.clone(),
                third_party: third_party.clone(),
                third_selector: third_selector.clone(),
            });
        }
    }
    let mut forwarders = Vec::new();
    for _ in 0..rng.range(1, 5) {
        if let Some(site) = rng.pick(&FORWARD_SITES) {
            let ip = v4_in(&mut rng, site.v4);
            forwarders.push(Forwarder { site, ip });
        }
    }
    DomainInfo {
        name,
        p,
        sp,
        adkim,
        aspf,
        fo,
        sources,
        forwarders,
    }
}

/// DMARC identifier alignment (RFC 7489 §3.1), with each policy domain taken as its own
/// Organizational Domain (third parties live under `.example`, so this is exact here).
fn aligned(id: &str, header_from: &str, mode: &Alignment) -> bool {
    if id == header_from {
        return true;
    }
    if *mode == Alignment::Strict {
        return false;
    }
    let sub_of = |a: &str, b: &str| {
        a.len() > b.len()
            && a.ends_with(b)
            && a.as_bytes().get(a.len() - b.len() - 1) == Some(&b'.')
    };
    sub_of(id, header_from) || sub_of(header_from, id)
}

// ----------------------------------------------------------------------------------------------
// Reports
// ----------------------------------------------------------------------------------------------

/// Which optional parts of a record a reporter writes.
#[derive(Debug, Clone, Copy)]
struct RecordStyle {
    rfc9990: bool,
    envelope_from: bool,
    envelope_to: bool,
    spf_scope: bool,
    dkim_selector: bool,
    /// Reports ARC-based overrides as `local_policy` / `arc=pass` (Google).
    arc_comment: bool,
}

fn record_style(profile: Profile, instance: u64) -> RecordStyle {
    let rfc9990 = is_rfc9990(profile, instance);
    RecordStyle {
        rfc9990,
        envelope_from: rfc9990 || matches!(profile, Profile::MsEnterprise | Profile::SmallZip),
        envelope_to: profile == Profile::MsEnterprise,
        spf_scope: rfc9990 || matches!(profile, Profile::MsEnterprise | Profile::SmallZip),
        dkim_selector: rfc9990 || profile != Profile::SmallOctet,
        arc_comment: profile == Profile::Google,
    }
}

/// Heavy-tailed record count. Big reporters (most traffic): 78 % 1-10, 12 % 11-49, 9.3 %
/// 50-500, 0.7 % 2 000-5 000. Small receivers see little traffic: 85 % 1-5, 14 % 6-40, 1 %
/// 41-150 (their plain-XML reports are not compressed, so this also keeps them realistic).
fn record_count(rng: &mut Rng, small: bool) -> u64 {
    if small {
        return match rng.below(1000) {
            0..850 => rng.range(1, 5).min(rng.range(1, 5)),
            850..990 => rng.range(6, 40),
            _ => rng.range(41, 150),
        };
    }
    match rng.below(1000) {
        0..780 => {
            // The smaller of two uniforms: 1 is the most common size.
            rng.range(1, 10).min(rng.range(1, 10))
        }
        780..900 => rng.range(11, 49),
        900..993 => rng.log_uniform(50, 500),
        _ => rng.range(2000, 5000),
    }
}

fn build_report(spec: &MailboxSpec, plan: &Plan, index: usize) -> AggregateReport {
    let info = reporter(plan.profile, plan.instance);
    let domain = domain_info(spec, plan.domain);
    let style = record_style(plan.profile, plan.instance);
    let mut rng = Rng::new(spec.seed, SALT_RECORDS, u64_of(index));
    let records = build_records(&domain, style, plan.profile.is_small(), &mut rng);
    let rid = key(spec.seed, SALT_REPORT_ID, u64_of(index));
    let rid2 = mix64(rid ^ GOLDEN);
    let report_id = match plan.profile {
        Profile::Google => rid.to_string(),
        Profile::MsEnterprise | Profile::OutlookCom => format!("{rid:016x}{rid2:016x}"),
        Profile::Yahoo => {
            // `<seconds>.<6 digits>`; the digits are a bijection of index mod 10^6.
            let frac = (u64_of(index) % 1_000_000 * 387_403 + spec.seed % 1_000_000) % 1_000_000;
            format!("{}.{frac:06}", plan.sent)
        }
        Profile::SmallOctet => format!("{}:{rid}", info.submitter),
        Profile::SmallZip => format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            rid >> 32,
            (rid >> 16) & 0xFFFF,
            rid & 0xFFFF,
            rid2 >> 48,
            rid2 & 0xFFFF_FFFF_FFFF
        ),
        Profile::SmallXml => format!("{rid:016x}@{}", info.submitter),
    };
    let rfc9990 = style.rfc9990;
    let p = Some(domain.p.clone());
    let policy_published = match plan.profile {
        Profile::Google => PolicyPublished {
            domain: domain.name.clone(),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            p,
            sp: Some(domain.sp.clone()),
            pct: Some(100),
            ..PolicyPublished::default()
        },
        Profile::Yahoo => PolicyPublished {
            domain: domain.name.clone(),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            p,
            pct: Some(100),
            ..PolicyPublished::default()
        },
        _ if rfc9990 => PolicyPublished {
            domain: domain.name.clone(),
            discovery_method: (plan.profile == Profile::OutlookCom).then_some(DiscoveryMethod::Psl),
            p,
            sp: Some(domain.sp.clone()),
            np: Some(domain.sp.clone()),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            fo: Some(domain.fo.to_owned()),
            testing: Some(Testing::No),
            ..PolicyPublished::default()
        },
        _ => PolicyPublished {
            domain: domain.name.clone(),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            p,
            sp: Some(domain.sp.clone()),
            pct: Some(100),
            fo: matches!(plan.profile, Profile::MsEnterprise | Profile::SmallZip)
                .then(|| domain.fo.to_owned()),
            ..PolicyPublished::default()
        },
    };
    let version = match plan.profile {
        Profile::Google | Profile::Yahoo | Profile::SmallOctet => None,
        _ => Some("1.0".to_owned()),
    };
    let generator = match plan.profile {
        Profile::SmallXml if rfc9990 => {
            Some(format!("example-dmarc-reporter/2.{}", plan.instance % 5))
        }
        _ => None,
    };
    AggregateReport {
        schema: if rfc9990 {
            Schema::Rfc9990
        } else {
            Schema::Rfc7489
        },
        version,
        report_metadata: ReportMetadata {
            org_name: info.org_name,
            email: info.email,
            extra_contact_info: info.extra_contact_info,
            report_id,
            date_range: DateRange {
                begin: plan.begin,
                end: plan.end,
            },
            errors: Vec::new(),
            generator,
        },
        policy_published,
        extension: None,
        records,
    }
}

/// A row's source before evaluation.
#[derive(Debug, Clone, Copy)]
enum RowSource {
    Esp(usize),
    Forward(usize),
}

fn build_records(
    domain: &DomainInfo,
    style: RecordStyle,
    small: bool,
    rng: &mut Rng,
) -> Vec<Record> {
    let n = usize_of(record_count(rng, small));
    let pool = domain.sources.len() + domain.forwarders.len();
    let legit = if n <= 10 {
        (0..n).filter(|_| !rng.chance(150)).count()
    } else {
        n - n / 10
    }
    .min(pool);
    // Distinct legitimate sources: a partial Fisher-Yates shuffle of the pool.
    let mut all: Vec<RowSource> = (0..domain.sources.len())
        .map(RowSource::Esp)
        .chain((0..domain.forwarders.len()).map(RowSource::Forward))
        .collect();
    let mut records = Vec::with_capacity(n);
    for i in 0..legit {
        let j = i + rng.below_usize(all.len() - i);
        all.swap(i, j);
        let record = match all.get(i) {
            Some(RowSource::Esp(k)) => domain
                .sources
                .get(*k)
                .map(|s| esp_row(domain, style, s, rng)),
            Some(RowSource::Forward(k)) => domain
                .forwarders
                .get(*k)
                .map(|f| forward_row(domain, style, f, rng)),
            None => None,
        };
        records.extend(record);
    }
    // Forgeries of one report come from a few spam campaigns (their own domains).
    let spam_domains: Vec<String> = (0..rng.range(1, 8))
        .map(|_| {
            let len = usize_of(rng.range(5, 10));
            format!("{}.example", rng.token(len, LOWER_ALNUM))
        })
        .collect();
    while records.len() < n {
        records.push(forgery_row(domain, style, &spam_domains, rng));
    }
    records
}

fn header_from(domain: &DomainInfo, rng: &mut Rng, subdomain_permille: u64) -> String {
    const SUBS: [&str; 5] = ["mail", "news", "e", "info", "billing"];
    if rng.chance(subdomain_permille) {
        format!(
            "{}.{}",
            rng.pick(&SUBS).copied().unwrap_or("mail"),
            domain.name
        )
    } else {
        domain.name.clone()
    }
}

fn dkim(style: RecordStyle, domain: &str, selector: &str, result: DkimResult) -> DkimAuthResult {
    DkimAuthResult {
        domain: domain.to_owned(),
        selector: style.dkim_selector.then(|| selector.to_owned()),
        result: Some(result),
        human_result: None,
    }
}

fn spf(style: RecordStyle, domain: &str, result: ReportedSpfResult) -> SpfAuthResult {
    SpfAuthResult {
        domain: domain.to_owned(),
        scope: style.spf_scope.then_some(SpfScope::MailFrom),
        result: Some(result),
        human_result: None,
    }
}

fn esp_row(domain: &DomainInfo, style: RecordStyle, src: &Source, rng: &mut Rng) -> Record {
    let hf = header_from(domain, rng, 200);
    let spf_aligned = aligned(&src.envelope, &hf, &domain.aspf);
    let roll = rng.below(1000);
    let mut sigs = Vec::new();
    let mut spf_result = if rng.chance(970) {
        ReportedSpfResult::Pass
    } else {
        rng.pick(&[
            ReportedSpfResult::SoftFail,
            ReportedSpfResult::TempError,
            ReportedSpfResult::Neutral,
        ])
        .cloned()
        .unwrap_or(ReportedSpfResult::SoftFail)
    };
    if roll < 820 || (roll < 920 && !spf_aligned) {
        // Signed by the domain (aligned); ESPs add their own signature most of the time.
        sigs.push(dkim(style, &domain.name, &src.selector, DkimResult::Pass));
        if let Some(t) = &src.third_party
            && rng.chance(700)
        {
            sigs.push(dkim(style, t, &src.third_selector, DkimResult::Pass));
        }
    } else if roll < 920 {
        // SPF only: unsigned, or a signature that does not verify (key not published).
        spf_result = ReportedSpfResult::Pass;
        match rng.below(3) {
            0 => {}
            1 => sigs.push(dkim(style, &domain.name, &src.selector, DkimResult::Fail)),
            _ => sigs.push(dkim(
                style,
                &domain.name,
                &src.selector,
                DkimResult::PermError,
            )),
        }
    } else {
        // An ESP not (yet) set up for the domain: only its own signature.
        match &src.third_party {
            Some(t) => sigs.push(dkim(style, t, &src.third_selector, DkimResult::Pass)),
            None => sigs.push(dkim(style, &domain.name, &src.selector, DkimResult::Fail)),
        }
    }
    let count = if src.esp.ips.1 > 10 {
        rng.log_uniform(1, 4000)
    } else {
        rng.log_uniform(1, 600)
    };
    finish_row(
        domain,
        style,
        RowParts {
            ip: src.ip,
            count,
            header_from: hf,
            dkim: sigs,
            spf: spf(style, &src.envelope, spf_result),
            override_reason: None,
        },
        rng,
    )
}

fn forward_row(domain: &DomainInfo, style: RecordStyle, fwd: &Forwarder, rng: &mut Rng) -> Record {
    let hf = header_from(domain, rng, 150);
    let original = rng.pick(&domain.sources);
    let selector = original.map_or("selector1", |s| s.selector.as_str());
    // Lists change the body (DKIM fails); plain forwarding keeps it intact 30 % of the time.
    let dkim_result = if fwd.site.kind == ForwardKind::Forward && rng.chance(300) {
        DkimResult::Pass
    } else {
        DkimResult::Fail
    };
    let mut sigs = vec![dkim(style, &domain.name, selector, dkim_result)];
    if fwd.site.kind == ForwardKind::List && rng.chance(500) {
        sigs.push(dkim(style, fwd.site.envelope, "list", DkimResult::Pass));
    }
    let spf_part = if fwd.site.rewrites {
        spf(style, fwd.site.envelope, ReportedSpfResult::Pass)
    } else {
        let r = rng
            .pick(&[
                ReportedSpfResult::SoftFail,
                ReportedSpfResult::Fail,
                ReportedSpfResult::Neutral,
            ])
            .cloned()
            .unwrap_or(ReportedSpfResult::SoftFail);
        spf(style, &hf, r)
    };
    let override_reason = if rng.chance(600) {
        let arc = style.arc_comment && rng.chance(500);
        Some(if arc {
            PolicyOverrideReason {
                kind: PolicyOverride::LocalPolicy,
                comment: Some("arc=pass".to_owned()),
            }
        } else {
            PolicyOverrideReason {
                kind: match (fwd.site.kind, style.rfc9990) {
                    (ForwardKind::List, _) => PolicyOverride::MailingList,
                    (ForwardKind::Forward, true) => PolicyOverride::TrustedForwarder,
                    (ForwardKind::Forward, false) => PolicyOverride::Forwarded,
                },
                comment: None,
            }
        })
    } else {
        None
    };
    let count = rng.log_uniform(1, 40);
    finish_row(
        domain,
        style,
        RowParts {
            ip: fwd.ip,
            count,
            header_from: hf,
            dkim: sigs,
            spf: spf_part,
            override_reason,
        },
        rng,
    )
}

fn forgery_row(
    domain: &DomainInfo,
    style: RecordStyle,
    spam_domains: &[String],
    rng: &mut Rng,
) -> Record {
    let ip = if rng.chance(100) {
        IpAddr::V6(Ipv6Addr::new(
            u16_of(rng.range(0x2001, 0x2c0f)),
            u16_of(rng.next_u64()),
            u16_of(rng.next_u64()),
            u16_of(rng.next_u64()),
            0,
            0,
            0,
            u16_of(rng.range(1, 0xffff)),
        ))
    } else {
        let mut a = u8_of(rng.range(1, 223));
        if a == 10 || a == 127 {
            a += 1;
        }
        let rest = rng.next_u64();
        IpAddr::V4(Ipv4Addr::new(
            a,
            u8_of(rest),
            u8_of(rest >> 8),
            u8_of((rest >> 16) % 254 + 1),
        ))
    };
    let hf = header_from(domain, rng, 100);
    let spam_domain = rng
        .pick(spam_domains)
        .map_or("spam.example", String::as_str);
    let mut sigs = Vec::new();
    match rng.below(4) {
        0 | 1 => {}
        2 => {
            let len = usize_of(rng.range(2, 8));
            let selector = rng.token(len, LOWER_ALNUM);
            sigs.push(dkim(style, &domain.name, &selector, DkimResult::Fail));
        }
        _ => sigs.push(dkim(style, spam_domain, "default", DkimResult::Pass)),
    }
    let spf_part = if rng.chance(500) {
        let r = rng
            .pick(&[
                ReportedSpfResult::Fail,
                ReportedSpfResult::SoftFail,
                ReportedSpfResult::None,
                ReportedSpfResult::Neutral,
            ])
            .cloned()
            .unwrap_or(ReportedSpfResult::Fail);
        spf(style, &hf, r)
    } else {
        spf(style, spam_domain, ReportedSpfResult::Pass)
    };
    let count = rng.range(1, 3);
    finish_row(
        domain,
        style,
        RowParts {
            ip,
            count,
            header_from: hf,
            dkim: sigs,
            spf: spf_part,
            override_reason: None,
        },
        rng,
    )
}

#[derive(Debug)]
struct RowParts {
    ip: IpAddr,
    count: u64,
    header_from: String,
    dkim: Vec<DkimAuthResult>,
    spf: SpfAuthResult,
    override_reason: Option<PolicyOverrideReason>,
}

/// Evaluates DMARC on the parts (alignment, the applicable policy, overrides) and builds the
/// record, so `policy_evaluated` always agrees with `auth_results`.
fn finish_row(domain: &DomainInfo, style: RecordStyle, parts: RowParts, rng: &mut Rng) -> Record {
    const RECIPIENTS: [&str; 5] = [
        "contoso.example",
        "fabrikam.example",
        "tailspin.example",
        "wingtip.example",
        "northwind.example",
    ];
    let RowParts {
        ip,
        count,
        header_from,
        dkim,
        spf,
        override_reason,
    } = parts;
    let dkim_pass = dkim.iter().any(|d| {
        d.result == Some(DkimResult::Pass) && aligned(&d.domain, &header_from, &domain.adkim)
    });
    let spf_pass = spf.result == Some(ReportedSpfResult::Pass)
        && aligned(&spf.domain, &header_from, &domain.aspf);
    let applicable = if header_from == domain.name {
        &domain.p
    } else {
        &domain.sp
    };
    let enforcing = *applicable != ReportedPolicy::None;
    let (disposition, reasons) = if dkim_pass || spf_pass {
        let d = if style.rfc9990 && enforcing {
            ActionDisposition::Pass
        } else {
            ActionDisposition::None
        };
        (d, Vec::new())
    } else if let Some(reason) = override_reason.filter(|_| enforcing) {
        (ActionDisposition::None, vec![reason])
    } else {
        let d = match applicable {
            ReportedPolicy::Quarantine => ActionDisposition::Quarantine,
            ReportedPolicy::Reject => ActionDisposition::Reject,
            _ => ActionDisposition::None,
        };
        (d, Vec::new())
    };
    let result = |pass: bool| {
        if pass {
            AlignedResult::Pass
        } else {
            AlignedResult::Fail
        }
    };
    let envelope_to = style.envelope_to.then(|| {
        rng.pick(&RECIPIENTS)
            .copied()
            .unwrap_or("contoso.example")
            .to_owned()
    });
    Record {
        row: Row {
            source_ip: ip,
            count,
            policy_evaluated: PolicyEvaluated {
                disposition: Some(disposition),
                dkim: Some(result(dkim_pass)),
                spf: Some(result(spf_pass)),
                reasons,
            },
        },
        identifiers: Identifiers {
            header_from,
            envelope_from: style.envelope_from.then(|| spf.domain.clone()),
            envelope_to,
        },
        auth_results: AuthResults {
            dkim,
            spf: vec![spf],
        },
        extensions: Vec::new(),
    }
}

// ----------------------------------------------------------------------------------------------
// RFC 7489-style XML (the crate's `to_xml` writes RFC 9990 only)
// ----------------------------------------------------------------------------------------------

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
    out: String,
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

fn render_xml(report: &AggregateReport, profile: Profile) -> String {
    match report.schema {
        Schema::Rfc9990 => mailward_reports::to_xml(report),
        _ => xml_rfc7489(report, xml_style(profile)),
    }
}

// ----------------------------------------------------------------------------------------------
// Messages
// ----------------------------------------------------------------------------------------------

/// The receiving MX that delivers into the mailbox.
const MX: &str = "mx.example.com";

fn report_message(spec: &MailboxSpec, content: usize, message: usize) -> Vec<u8> {
    let plan = plan(spec, content);
    let report = build_report(spec, &plan, content);
    let info = reporter(plan.profile, plan.instance);
    let date = if content == message {
        plan.sent
    } else {
        resent_date(spec, content, message)
    };
    let mut env = Rng::new(spec.seed, SALT_ENVELOPE, u64_of(message));
    let msg_key = key(spec.seed, SALT_MESSAGE_ID, u64_of(message));
    let domain = &report.policy_published.domain;
    let rid = report.report_metadata.report_id.clone();
    let range = report.report_metadata.date_range;
    let stem = format!("{}!{domain}!{}!{}", info.submitter, range.begin, range.end);
    // The big providers sign their reports (a dummy signature of the real size).
    let signed = !plan.profile.is_small();
    let mut m = trace_headers(spec, &info, date, signed, &mut env);
    if signed {
        push_dkim_signature(&mut m, &info, date, &mut env);
    }
    if plan.profile == Profile::OutlookCom {
        // The crate's own writer. Its report ids carry no '@', so it writes no Message-ID;
        // this one (unique per delivery) goes after the trace headers.
        let _ = write!(
            m,
            "Message-ID: <{msg_key:016x}.{:08x}@outlook.com>\r\n",
            env.next_u64() >> 32
        );
        let email = ReportEmail {
            from: info.from.clone(),
            to: spec.rua.clone(),
            submitter: info.submitter.clone(),
            date: rfc5322_date(date, 0, false),
            // RFC 9990 §3.5.2's unique-id in the file name: per report, so a re-delivery
            // carries the same attachment.
            unique_id: Some(format!(
                "{:08x}",
                key(spec.seed, SALT_REPORT_ID, u64_of(content)) >> 32
            )),
            gzip: true,
        };
        let mut out = m.into_bytes();
        out.extend_from_slice(&mailward_reports::to_email(&report, &email));
        return out;
    }
    let xml = render_xml(&report, plan.profile);

    // The attachment.
    let (data, content_type, file_name) = match plan.profile.container() {
        Container::Gzip => {
            let ct = if plan.profile == Profile::SmallOctet {
                "application/octet-stream"
            } else {
                "application/gzip"
            };
            (
                mailward_reports::gzip(xml.as_bytes()),
                ct,
                format!("{stem}.xml.gz"),
            )
        }
        Container::Zip => {
            let ct = if plan.profile == Profile::Google {
                "application/zip"
            } else {
                "application/x-zip-compressed"
            };
            (
                zip_one(&format!("{stem}.xml"), xml.as_bytes(), plan.end + 1),
                ct,
                format!("{stem}.zip"),
            )
        }
        Container::Xml => {
            let ct = if plan.instance.is_multiple_of(2) {
                "text/xml"
            } else {
                "application/xml"
            };
            (xml.into_bytes(), ct, format!("{stem}.xml"))
        }
    };

    // Reporter headers.
    let (offset, pad_day) = match plan.profile {
        Profile::Google => (pacific_offset(date), true),
        Profile::SmallOctet | Profile::SmallZip | Profile::SmallXml => {
            match clock(plan.profile, plan.instance) {
                Clock::Local(h) => (h * 60, false),
                _ => (0, false),
            }
        }
        _ => (0, false),
    };
    let date_header = rfc5322_date(date, offset, pad_day);
    let subject_domain_word = if plan.profile == Profile::Google {
        "domain"
    } else {
        "Domain"
    };
    let rid_shown = if plan.profile == Profile::Yahoo {
        format!("<{rid}>")
    } else {
        rid.clone()
    };
    let subject = fold(&format!(
        "Subject: Report {subject_domain_word}: {domain} Submitter: {} Report-ID: {rid_shown}",
        info.submitter
    ));
    let message_id = match plan.profile {
        Profile::Google => format!("<{msg_key}@google.com>"),
        Profile::MsEnterprise => format!(
            "<{msg_key:016x}{:08x}@{}PR{:02}MB{:04}.namprd{:02}.prod.outlook.example>",
            env.next_u64() >> 32,
            ["SN", "BN", "CO", "DM"]
                .get(usize_of(env.below(4)))
                .copied()
                .unwrap_or("SN"),
            env.range(1, 20),
            env.range(1000, 9999),
            env.range(1, 20)
        ),
        Profile::Yahoo => format!("<{msg_key}.{}@dmarc.yahoo.com>", date),
        _ => format!("<{msg_key:016x}@{}>", info.submitter),
    };
    let reporter_headers = |m: &mut String| {
        let _ = write!(m, "MIME-Version: 1.0\r\n");
        let _ = write!(m, "Date: {date_header}\r\n");
        let _ = write!(m, "Message-ID: {message_id}\r\n");
        m.push_str(&subject);
        let _ = write!(m, "From: {}\r\n", info.from);
        let _ = write!(m, "To: {}\r\n", spec.rua);
    };
    reporter_headers(&mut m);
    let attachment_headers = format!(
        "Content-Type: {content_type};\r\n\tname=\"{file_name}\"\r\n\
         Content-Disposition: attachment;\r\n\tfilename=\"{file_name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n"
    );
    let multipart = match plan.profile {
        Profile::Yahoo => false,
        Profile::SmallZip => plan.instance.is_multiple_of(2),
        Profile::SmallXml => !plan.instance.is_multiple_of(3),
        _ => true,
    };
    if multipart {
        let boundary = match plan.profile {
            Profile::Google => format!("000000000000{:016x}", env.next_u64() >> 8),
            Profile::MsEnterprise => format!(
                "_004_{}_",
                env.token(40, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            ),
            _ => format!(
                "----=_Part_{}_{}",
                env.range(1, 99_999),
                env.next_u64() >> 20
            ),
        };
        let _ = write!(
            m,
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
        );
        let text = match plan.profile {
            Profile::Google => String::new(),
            Profile::MsEnterprise => format!(
                "This is a DMARC aggregate report from Microsoft Corporation. For Emails received \
                 between {} UTC to {} UTC.\r\n\r\nYou're receiving this email because you have \
                 included your email address in the 'rua' tag of your DMARC record in DNS for \
                 {domain}. Please remove your email address from the 'rua' tag if you don't want \
                 to receive this email.\r\n",
                iso_time(range.begin),
                iso_time(range.end + 1)
            ),
            _ => format!(
                "This is an aggregate report for {domain} from {}, period {} to {} UTC.\r\n",
                info.submitter,
                iso_time(range.begin),
                iso_time(range.end)
            ),
        };
        let text_type = if plan.profile == Profile::Google {
            "text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes"
        } else {
            "text/plain; charset=\"us-ascii\""
        };
        let _ = write!(
            m,
            "--{boundary}\r\nContent-Type: {text_type}\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{}\r\n",
            fold_text(&text)
        );
        let _ = write!(m, "--{boundary}\r\n{attachment_headers}\r\n");
        push_base64(&mut m, &data);
        let _ = write!(m, "--{boundary}--\r\n");
    } else {
        m.push_str(&attachment_headers);
        m.push_str("\r\n");
        push_base64(&mut m, &data);
    }
    m.into_bytes()
}

/// The headers the delivering MTA puts on top: `Return-Path`, `Delivered-To`, `Received` and
/// `Authentication-Results`.
fn trace_headers(
    spec: &MailboxSpec,
    info: &Reporter,
    date: u64,
    signed: bool,
    rng: &mut Rng,
) -> String {
    let ip = v4_in(rng, info.relay_net);
    let queue = rng.token(12, b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz");
    let received = date + rng.range(2, 90);
    let sender_domain = info.sender.rsplit('@').next().unwrap_or("example.net");
    let dkim = if signed {
        format!("dkim=pass header.d={sender_domain}")
    } else {
        "dkim=none".to_owned()
    };
    format!(
        "Return-Path: <{sender}>\r\n\
         Delivered-To: {rua}\r\n\
         Received: from {relay} ({relay} [{ip}])\r\n\
         \tby {MX} (Postfix) with ESMTPS id {queue}\r\n\
         \tfor <{rua}>; {when}\r\n\
         Authentication-Results: {MX};\r\n\
         \t{dkim};\r\n\
         \tspf=pass smtp.mailfrom={sender_domain};\r\n\
         \tdmarc=pass header.from={sender_domain}\r\n",
        sender = info.sender,
        rua = spec.rua,
        relay = info.relay,
        when = rfc5322_date(received, 0, false) + " (UTC)",
    )
}

/// A `DKIM-Signature` with the shape of a real RSA-2048 one (random `bh=` and `b=`); nothing
/// verifies it, it only gives the header block its real size.
fn push_dkim_signature(m: &mut String, info: &Reporter, date: u64, rng: &mut Rng) {
    let d = info.sender.rsplit('@').next().unwrap_or("example.net");
    let s = match d {
        "google.com" => "20230601",
        "microsoft.com" => "selector2",
        _ => "s2048",
    };
    let bh = rng.token(43, BASE64_ALPHABET);
    let b = rng.token(342, BASE64_ALPHABET) + "==";
    let _ = write!(
        m,
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s={s};\r\n\
         \tt={date}; h=to:subject:message-id:date:from:mime-version;\r\n\
         \tbh={bh}=;\r\n\tb="
    );
    let bytes = b.as_bytes();
    for (i, chunk) in bytes.chunks(70).enumerate() {
        if i > 0 {
            m.push_str("\r\n\t ");
        }
        m.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    m.push_str("\r\n");
}

/// A header line folded (RFC 5322 §2.2.3) before ` Submitter:` and ` Report-ID:` when longer
/// than 78 characters; ends with CRLF.
fn fold(line: &str) -> String {
    let mut out = line.to_owned();
    for marker in [" Submitter:", " Report-ID:"] {
        let last_len = out.rsplit("\r\n").next().map_or(0, str::len);
        if last_len > 78
            && let Some(pos) = out.rfind(marker)
        {
            out.insert_str(pos, "\r\n");
        }
    }
    out.push_str("\r\n");
    out
}

/// Wraps text lines at 76 columns on spaces (RFC 5322 §2.1.1's 78-character recommendation).
fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let mut col = 0;
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                if col + 1 + word.len() > 76 {
                    out.push_str("\r\n");
                    col = 0;
                } else {
                    out.push(' ');
                    col += 1;
                }
            }
            out.push_str(word);
            col += word.len();
        }
    }
    out
}

/// Base64 (RFC 2045 §6.8) in 76-character lines, each ended by CRLF.
fn push_base64(out: &mut String, data: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    out.reserve(b64.len() + b64.len() / 76 * 2 + 2);
    for line in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
}

/// A zip archive holding one deflated file, stamped `mtime` (deterministic).
fn zip_one(name: &str, data: &[u8], mtime: u64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil_time(mtime);
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(y).unwrap_or(1980),
        u8::try_from(mo).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
        u8::try_from(h).unwrap_or(0),
        u8::try_from(mi).unwrap_or(0),
        u8::try_from(s).unwrap_or(0),
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp);
    let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let written = w.start_file(name, options).is_ok() && w.write_all(data).is_ok();
    match w.finish() {
        Ok(cursor) if written => cursor.into_inner(),
        _ => Vec::new(),
    }
}

// ----------------------------------------------------------------------------------------------
// Dates (proleptic Gregorian, Howard Hinnant's civil-from-days algorithms)
// ----------------------------------------------------------------------------------------------

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// 0 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// `(year, month, day, hour, minute, second)` of a UTC timestamp.
fn civil_time(ts: u64) -> (i64, i64, i64, i64, i64, i64) {
    let t = i64::try_from(ts).unwrap_or(i64::MAX);
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn name_of(names: &'static [&'static str], i: i64) -> &'static str {
    names
        .get(usize::try_from(i).unwrap_or(0))
        .copied()
        .unwrap_or("")
}

/// RFC 5322 §3.3 `date-time` of `ts` shown at `offset_minutes` east of UTC.
fn rfc5322_date(ts: u64, offset_minutes: i64, pad_day: bool) -> String {
    let local = i64::try_from(ts)
        .unwrap_or(i64::MAX)
        .saturating_add(offset_minutes * 60);
    let days = local.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let secs = local.rem_euclid(86_400);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.abs();
    let day = if pad_day {
        format!("{d:02}")
    } else {
        d.to_string()
    };
    format!(
        "{}, {day} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        name_of(&DAY_NAMES, weekday(days)),
        name_of(&MONTH_NAMES, m - 1),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// The C `asctime` form used on mbox `From ` lines: `Tue Jan  2 16:59:59 2024`.
fn asctime(ts: u64) -> String {
    let t = i64::try_from(ts).unwrap_or(i64::MAX);
    let days = t.div_euclid(86_400);
    let (y, m, d, h, mi, s) = civil_time(ts);
    format!(
        "{} {} {d:>2} {h:02}:{mi:02}:{s:02} {y}",
        name_of(&DAY_NAMES, weekday(days)),
        name_of(&MONTH_NAMES, m - 1)
    )
}

/// `2024-01-02 00:00:00`.
fn iso_time(ts: u64) -> String {
    let (y, m, d, h, mi, s) = civil_time(ts);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// US Pacific time's offset at `ts` in minutes (Google's report `Date:`): daylight time from the
/// second Sunday of March 10:00 UTC to the first Sunday of November 09:00 UTC.
fn pacific_offset(ts: u64) -> i64 {
    let t = i64::try_from(ts).unwrap_or(i64::MAX);
    let (y, _, _) = civil_from_days(t.div_euclid(86_400));
    let first_sunday = |month: i64| {
        let first = days_from_civil(y, month, 1);
        first + (7 - weekday(first)) % 7
    };
    let start = (first_sunday(3) + 7) * 86_400 + 10 * 3600;
    let end = first_sunday(11) * 86_400 + 9 * 3600;
    if (start..end).contains(&t) {
        -420
    } else {
        -480
    }
}

// ----------------------------------------------------------------------------------------------
// Messages that are not reports
// ----------------------------------------------------------------------------------------------

/// A bounce (Postfix DSN), an out-of-office auto-reply or a newsletter, chosen by the seed.
/// None has a part that `mailward_reports::parse` could take for a report: no gzip or zip, and
/// no XML or HTML part mentioning the report's root element name.
fn not_a_report(spec: &MailboxSpec, index: usize) -> Vec<u8> {
    let date = plan(spec, index).sent;
    let mut rng = Rng::new(spec.seed, SALT_OTHER, u64_of(index));
    let id = key(spec.seed, SALT_MESSAGE_ID, u64_of(index));
    let rua = &spec.rua;
    let when = rfc5322_date(date, 0, false);
    let queue = rng.token(10, b"0123456789ABCDEF");
    let mut m = format!("Delivered-To: {rua}\r\n");
    match rng.below(3) {
        0 => {
            let n = rng.range(1, 99);
            let rcpt = format!("postmaster@rcpt{n}.example.net");
            let boundary = format!("{queue}.{date}/{MX}");
            let _ = write!(
                m,
                "Return-Path: <>\r\n\
                 Received: by {MX} (Postfix)\r\n\tid {queue}; {when} (UTC)\r\n\
                 Date: {when}\r\n\
                 From: MAILER-DAEMON@{MX} (Mail Delivery System)\r\n\
                 Subject: Undelivered Mail Returned to Sender\r\n\
                 To: {rua}\r\n\
                 Auto-Submitted: auto-replied\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/report; report-type=delivery-status;\r\n\
                 \tboundary=\"{boundary}\"\r\n\
                 Content-Transfer-Encoding: 8bit\r\n\
                 Message-Id: <{id:016x}.{queue}@{MX}>\r\n\
                 \r\n\
                 This is a MIME-encapsulated message.\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Description: Notification\r\n\
                 Content-Type: text/plain; charset=us-ascii\r\n\
                 \r\n\
                 This is the mail system at host {MX}.\r\n\
                 \r\n\
                 I'm sorry to have to inform you that your message could not\r\n\
                 be delivered to one or more recipients. It's attached below.\r\n\
                 \r\n\
                 For further assistance, please send mail to postmaster.\r\n\
                 \r\n\
                 If you do so, please include this problem report. You can\r\n\
                 delete your own text from the attached returned message.\r\n\
                 \r\n\
                 \x20                  The mail system\r\n\
                 \r\n\
                 <{rcpt}>: host mx.rcpt{n}.example.net[198.51.100.{n}] said:\r\n\
                 \x20   550 5.1.1 <{rcpt}>: Recipient address rejected: User\r\n\
                 \x20   unknown in virtual mailbox table (in reply to RCPT TO command)\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Description: Delivery report\r\n\
                 Content-Type: message/delivery-status\r\n\
                 \r\n\
                 Reporting-MTA: dns; {MX}\r\n\
                 X-Postfix-Queue-ID: {queue}\r\n\
                 X-Postfix-Sender: rfc822; {rua}\r\n\
                 Arrival-Date: {when}\r\n\
                 \r\n\
                 Final-Recipient: rfc822; {rcpt}\r\n\
                 Original-Recipient: rfc822;{rcpt}\r\n\
                 Action: failed\r\n\
                 Status: 5.1.1\r\n\
                 Remote-MTA: dns; mx.rcpt{n}.example.net\r\n\
                 Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected:\r\n\
                 \x20   User unknown in virtual mailbox table\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Description: Undelivered Message Headers\r\n\
                 Content-Type: text/rfc822-headers\r\n\
                 \r\n\
                 Return-Path: <{rua}>\r\n\
                 Received: by {MX} (Postfix, from userid 1000)\r\n\tid {queue}; {when} (UTC)\r\n\
                 From: DMARC reports <{rua}>\r\n\
                 To: {rcpt}\r\n\
                 Subject: Re: your DMARC records\r\n\
                 Date: {when}\r\n\
                 Message-Id: <{id:x}.reply@{MX}>\r\n\
                 \r\n\
                 --{boundary}--\r\n"
            );
        }
        1 => {
            let name = rng
                .pick(&["Jane Doe", "John Smith", "Alex Martin", "Sam Lee"])
                .copied()
                .unwrap_or("Jane Doe");
            let user = name.to_ascii_lowercase().replace(' ', ".");
            let back = rfc5322_date(date + rng.range(2, 14) * 86_400, 0, false);
            let _ = write!(
                m,
                "Return-Path: <{user}@example.net>\r\n\
                 Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n\
                 \tby {MX} (Postfix) with ESMTPS id {queue}\r\n\tfor <{rua}>; {when} (UTC)\r\n\
                 From: \"{name}\" <{user}@example.net>\r\n\
                 To: {rua}\r\n\
                 Subject: Automatic reply: Out of office\r\n\
                 Date: {when}\r\n\
                 Message-ID: <{id:016x}@mail.example.net>\r\n\
                 Auto-Submitted: auto-replied\r\n\
                 X-Auto-Response-Suppress: All\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=\"utf-8\"\r\n\
                 Content-Transfer-Encoding: quoted-printable\r\n\
                 \r\n\
                 Hello,\r\n\
                 \r\n\
                 I am out of the office until {back}, with limited access to\r\n\
                 e-mail. For urgent matters please contact helpdesk@example.net.\r\n\
                 \r\n\
                 Best regards,\r\n\
                 {name}\r\n"
            );
        }
        _ => {
            let issue = rng.range(1, 400);
            let boundary = format!(
                "b1_{:032x}",
                u128::from(id) << 64 | u128::from(rng.next_u64())
            );
            let _ = write!(
                m,
                "Return-Path: <bounce-{issue}-{id:x}@news.example.org>\r\n\
                 Received: from out.news.example.org (out.news.example.org [198.51.100.80])\r\n\
                 \tby {MX} (Postfix) with ESMTPS id {queue}\r\n\tfor <{rua}>; {when} (UTC)\r\n\
                 From: \"Example Weekly\" <newsletter@news.example.org>\r\n\
                 To: {rua}\r\n\
                 Subject: Example Weekly #{issue}: what's new in e-mail authentication\r\n\
                 Date: {when}\r\n\
                 Message-ID: <{id:016x}.{issue}@news.example.org>\r\n\
                 List-Unsubscribe: <mailto:unsubscribe-{id:x}@news.example.org>,\r\n\
                 \x20<https://news.example.org/unsubscribe/{id:x}>\r\n\
                 List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
                 Precedence: bulk\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Type: text/plain; charset=us-ascii\r\n\
                 \r\n\
                 Example Weekly, issue {issue}\r\n\
                 \r\n\
                 * Moving from p=none to p=reject in three steps\r\n\
                 * Why your forwarders break SPF, and what ARC does about it\r\n\
                 * Reading aggregate reports without drowning in them\r\n\
                 \r\n\
                 Unsubscribe: https://news.example.org/unsubscribe/{id:x}\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Type: text/html; charset=us-ascii\r\n\
                 \r\n\
                 <!DOCTYPE html>\r\n\
                 <html><head><title>Example Weekly {issue}</title></head><body>\r\n\
                 <h1>Example Weekly, issue {issue}</h1>\r\n\
                 <ul><li>Moving from p=none to p=reject in three steps</li>\r\n\
                 <li>Why your forwarders break SPF, and what ARC does about it</li>\r\n\
                 <li>Reading aggregate reports without drowning in them</li></ul>\r\n\
                 <p><a href=\"https://news.example.org/unsubscribe/{id:x}\">Unsubscribe</a></p>\r\n\
                 </body></html>\r\n\
                 \r\n\
                 --{boundary}--\r\n"
            );
        }
    }
    m.into_bytes()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use mailward_reports::{Error, parse};

    use super::*;

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

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0, 0, false), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_704_153_599, -480, true),
            "Mon, 01 Jan 2024 15:59:59 -0800"
        );
        assert_eq!(asctime(1_704_240_000), "Wed Jan  3 00:00:00 2024");
        assert_eq!(iso_time(1_709_251_200), "2024-03-01 00:00:00");
        // 2024: daylight time from 10 March to 3 November.
        assert_eq!(pacific_offset(1_710_064_800 - 1), -480);
        assert_eq!(pacific_offset(1_710_064_800), -420);
        assert_eq!(pacific_offset(1_730_624_400 - 1), -420);
        assert_eq!(pacific_offset(1_730_624_400), -480);
        for days in [-1000, 0, 19_723, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn domain_names_are_distinct() {
        let names: HashSet<String> = (0..500).map(domain_name).collect();
        assert_eq!(names.len(), 500);
        assert_eq!(domain_name(3), "shop.example.com");
        assert_eq!(domain_name(23), "shop.example.net");
        assert_eq!(domain_name(63), "shop1.example.com");
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mailward-reportmail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn maildir_mbox_and_files() {
        let spec = MailboxSpec::new(120, 3);
        let dir = temp_dir("maildir");
        let sizes = write_output(&spec, &dir, OutputFormat::Maildir).unwrap();
        assert_eq!(sizes.messages, 120);
        let mut total = 0;
        for index in 0..spec.messages {
            let bytes = std::fs::read(dir.join(maildir_path(&spec, index))).unwrap();
            assert_eq!(bytes, report_email(&spec, index));
            total += bytes.len() as u64;
        }
        assert_eq!(sizes.total_bytes, total);
        assert_eq!(std::fs::read_dir(dir.join("new")).unwrap().count(), 2);
        assert_eq!(std::fs::read_dir(dir.join("cur")).unwrap().count(), 118);
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        let meta = std::fs::metadata(dir.join(maildir_path(&spec, 5))).unwrap();
        let mtime = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(mtime.as_secs(), message_date(&spec, 5));
        std::fs::remove_dir_all(&dir).unwrap();

        let files = temp_dir("files");
        write_output(&spec, &files, OutputFormat::Files).unwrap();
        assert_eq!(
            std::fs::read(files.join("00000007.eml")).unwrap(),
            report_email(&spec, 7)
        );
        std::fs::remove_dir_all(&files).unwrap();

        let mbox_dir = temp_dir("mbox");
        std::fs::create_dir_all(&mbox_dir).unwrap();
        let mbox = mbox_dir.join("reports.mbox");
        write_output(&spec, &mbox, OutputFormat::Mbox).unwrap();
        let text = std::fs::read_to_string(&mbox).unwrap();
        assert!(!text.contains('\r'));
        assert_eq!(text.lines().filter(|l| l.starts_with("From ")).count(), 120);
        assert!(text.starts_with("From MAILER-DAEMON "));
        std::fs::remove_dir_all(&mbox_dir).unwrap();
    }

    #[test]
    fn size_summary() {
        let mut sizes: Vec<u64> = (1..=100).rev().collect();
        let s = SizeSummary::from_sizes(&mut sizes);
        assert_eq!((s.messages, s.total_bytes, s.mean), (100, 5050, 50));
        assert_eq!((s.median, s.p99, s.max), (50, 99, 100));
        assert_eq!(SizeSummary::from_sizes(&mut []), SizeSummary::default());
    }
}
