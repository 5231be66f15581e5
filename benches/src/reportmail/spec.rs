//! What to generate ([`MailboxSpec`]) and what each message of the mailbox is: its [`Kind`]
//! (report, duplicate delivery, not a report), the [`Container`] of its report, and the names of
//! the policy domains.

use super::rng::{SALT_DUPLICATE, key, u64_of, usize_of};

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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn domain_names_are_distinct() {
        let names: HashSet<String> = (0..500).map(domain_name).collect();
        assert_eq!(names.len(), 500);
        assert_eq!(domain_name(3), "shop.example.com");
        assert_eq!(domain_name(23), "shop.example.net");
        assert_eq!(domain_name(63), "shop1.example.com");
    }
}
