//! Names for well-known sending services, found from reverse DNS names.
//!
//! A DMARC aggregate report lists the IP addresses that sent mail in a
//! domain's name. Grouped by the organizational domain of their reverse DNS
//! (PTR) name, many of those sources are the shared infrastructure of a
//! service: `mail-sor-f41.google.com` is Google, `a8-33.smtp-out.amazonses.com`
//! is Amazon SES and `mx0a-001b2d01.pphosted.com` is a Proofpoint gateway.
//! A [`ServiceMap`] turns such a domain, or a whole host name, into a
//! [`Service`]: a display name and a [`ServiceKind`].
//!
//! [`ServiceMap::builtin`] holds a small list of services whose outbound
//! servers' PTR names are known to end in the listed domains. A deployment can
//! add or override entries with [`ServiceMap::insert`], or from a text file in
//! the format read by [`ServiceMap::parse_extension`]:
//!
//! ```text
//! # domain                  kind              name
//! mail.example-relay.net    esp               Example Relay
//! outbound.partner.example  security_gateway  Partner gateway   # trailing comment
//! ```
//!
//! Lookups match the given name or any parent of it, and the longest matching
//! entry wins, so an entry for `mail.protection.outlook.com` takes precedence
//! over one for `outlook.com`.

mod builtin;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use self::builtin::BUILTIN;

/// The most entries that one extension file may hold
/// ([`ServiceMap::parse_extension`] refuses a file with more).
pub const MAX_EXTENSION_ENTRIES: usize = 10_000;

/// The longest line, in bytes and without its line ending, that an extension
/// file may hold ([`ServiceMap::parse_extension`] refuses a file with a longer
/// one).
pub const MAX_LINE_BYTES: usize = 1_000;

/// The longest DNS name, in bytes without a trailing dot (RFC 1035).
const MAX_DOMAIN_BYTES: usize = 253;

/// The longest DNS label, in bytes (RFC 1035).
const MAX_LABEL_BYTES: usize = 63;

/// What kind of sender a service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ServiceKind {
    /// An email service provider: bulk or transactional sending
    /// infrastructure that sends on its customers' behalf (Amazon SES,
    /// SendGrid, Mailgun).
    Esp,
    /// A mailbox provider: hosted mailboxes whose users' mail leaves from
    /// the provider's servers (Gmail, Outlook.com, Yahoo).
    MailboxProvider,
    /// A marketing platform: newsletters and campaigns (Mailchimp, HubSpot,
    /// Klaviyo).
    Marketing,
    /// A security gateway: a filtering service that relays an organization's
    /// mail in and out (Proofpoint, Mimecast, Cisco Secure Email).
    SecurityGateway,
    /// An online application sending its own notifications for its
    /// customers: helpdesks, CRMs, developer tools, social networks
    /// (Zendesk, Salesforce, GitHub).
    Application,
    /// Any other kind of sender.
    Other,
}

impl ServiceKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 6] = [
        Self::Esp,
        Self::MailboxProvider,
        Self::Marketing,
        Self::SecurityGateway,
        Self::Application,
        Self::Other,
    ];

    /// The kind's snake_case token (`esp`, `mailbox_provider`, `marketing`,
    /// `security_gateway`, `application`, `other`), as serialized and as read
    /// by [`FromStr`].
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Esp => "esp",
            Self::MailboxProvider => "mailbox_provider",
            Self::Marketing => "marketing",
            Self::SecurityGateway => "security_gateway",
            Self::Application => "application",
            Self::Other => "other",
        }
    }

    /// The kind in words, for people ("ESP", "mailbox provider", ...); the
    /// same text as [`Display`](fmt::Display).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Esp => "ESP",
            Self::MailboxProvider => "mailbox provider",
            Self::Marketing => "marketing",
            Self::SecurityGateway => "security gateway",
            Self::Application => "application",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for ServiceKind {
    type Err = ParseServiceKindError;

    /// Reads a snake_case token as given by [`ServiceKind::as_str`], ignoring
    /// ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseServiceKindError {
                token: s.to_owned(),
            })
    }
}

impl Serialize for ServiceKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The error of parsing a [`ServiceKind`] from a string that is none of its
/// tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "unknown service kind {token:?} (expected esp, mailbox_provider, marketing, \
     security_gateway, application or other)"
)]
pub struct ParseServiceKindError {
    token: String,
}

impl ParseServiceKindError {
    /// The string that was not a kind.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// A named sending service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The service's display name ("Google", "Amazon SES").
    pub name: String,
    /// What kind of sender it is.
    pub kind: ServiceKind,
}

impl Service {
    /// A service with this name and kind.
    #[must_use]
    pub fn new(name: impl Into<String>, kind: ServiceKind) -> Self {
        Self {
            name: name.into(),
            kind,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.kind)
    }
}

/// A line of an extension file that [`ServiceMap::parse_extension`] refused.
///
/// Every variant carries the 1-based `line` number it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceMapError {
    /// The line is longer than [`MAX_LINE_BYTES`].
    #[error("line {line}: {len} bytes is longer than the limit of {limit} bytes", limit = MAX_LINE_BYTES)]
    LineTooLong {
        /// The 1-based line number.
        line: usize,
        /// The line's length in bytes, without its line ending.
        len: usize,
    },
    /// The line is not `domain kind name...`.
    #[error("line {line}: {reason}")]
    BadLine {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The second field is not a [`ServiceKind`] token.
    #[error(
        "line {line}: unknown service kind {kind:?} (expected esp, mailbox_provider, marketing, \
         security_gateway, application or other)"
    )]
    UnknownKind {
        /// The 1-based line number.
        line: usize,
        /// The field as written.
        kind: String,
    },
    /// The first field is not a plausible DNS name of at least two labels.
    #[error("line {line}: {domain:?} is not a plausible dns name")]
    InvalidDomain {
        /// The 1-based line number.
        line: usize,
        /// The field as written.
        domain: String,
    },
    /// The file holds more than [`MAX_EXTENSION_ENTRIES`] entries.
    #[error("line {line}: more than {limit} entries in one file", limit = MAX_EXTENSION_ENTRIES)]
    TooManyEntries {
        /// The 1-based line number of the first entry past the limit.
        line: usize,
    },
}

impl ServiceMapError {
    /// The 1-based number of the line the error was found on.
    #[must_use]
    pub const fn line(&self) -> usize {
        match self {
            Self::LineTooLong { line, .. }
            | Self::BadLine { line, .. }
            | Self::UnknownKind { line, .. }
            | Self::InvalidDomain { line, .. }
            | Self::TooManyEntries { line } => *line,
        }
    }
}

/// Sending services keyed by the domain their servers' reverse DNS names end
/// in.
///
/// Keys are stored lower-case without a trailing dot. [`ServiceMap::new`] is
/// empty; [`ServiceMap::builtin`] holds the built-in list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceMap {
    entries: BTreeMap<String, Service>,
}

impl ServiceMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in list of well-known services.
    #[must_use]
    pub fn builtin() -> Self {
        let entries = BUILTIN
            .iter()
            .map(|&(domain, kind, name)| (domain.to_owned(), Service::new(name, kind)))
            .collect();
        Self { entries }
    }

    /// The service whose domain is `domain` or the nearest parent of it.
    ///
    /// `domain` may be an organizational domain (`google.com`) or a whole host
    /// name (`mail-sor-f41.google.com`); case and one trailing dot are
    /// ignored. Of all the entries that `domain` equals or ends in (at a
    /// label boundary), the longest wins.
    #[must_use]
    pub fn lookup(&self, domain: &str) -> Option<&Service> {
        let name = normalize(domain);
        let mut rest = name.as_str();
        loop {
            if rest.is_empty() {
                return None;
            }
            if let Some(service) = self.entries.get(rest) {
                return Some(service);
            }
            rest = rest.split_once('.')?.1;
        }
    }

    /// Adds or replaces the entry for `domain`, returning the one it replaced.
    ///
    /// `domain` is stored lower-case without a trailing dot. It is not
    /// checked: an entry for a single label such as `com` would name every
    /// host under it. Read untrusted entries with
    /// [`parse_extension`](Self::parse_extension), which checks them.
    pub fn insert(&mut self, domain: &str, service: Service) -> Option<Service> {
        self.entries.insert(normalize(domain), service)
    }

    /// Reads entries from the text of an extension file and adds them,
    /// replacing entries for the same domains; returns how many entry lines
    /// it read.
    ///
    /// Each line is `domain kind name...`, fields separated by whitespace:
    /// a DNS name of at least two labels (letters, digits and hyphens;
    /// internationalized names in their `xn--` form), a [`ServiceKind`] token
    /// such as `esp` or `security_gateway`, and the rest of the line as the
    /// name (runs of whitespace in it become one space). A `#` starts a
    /// comment that runs to the end of the line; blank lines are skipped.
    ///
    /// At most [`MAX_EXTENSION_ENTRIES`] entries and lines of at most
    /// [`MAX_LINE_BYTES`] bytes are accepted. On any error nothing is added.
    ///
    /// # Errors
    ///
    /// A [`ServiceMapError`] naming the first line that is too long, is not
    /// of the form above, has an unknown kind or an implausible domain, or
    /// holds one entry more than the limit.
    pub fn parse_extension(&mut self, text: &str) -> Result<usize, ServiceMapError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut parsed: Vec<(String, Service)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index.saturating_add(1);
            if raw.len() > MAX_LINE_BYTES {
                return Err(ServiceMapError::LineTooLong {
                    line,
                    len: raw.len(),
                });
            }
            let content = raw.split_once('#').map_or(raw, |(before, _)| before);
            let mut fields = content.split_whitespace();
            let Some(domain) = fields.next() else {
                continue;
            };
            if parsed.len() >= MAX_EXTENSION_ENTRIES {
                return Err(ServiceMapError::TooManyEntries { line });
            }
            let Some(kind) = fields.next() else {
                return Err(ServiceMapError::BadLine {
                    line,
                    reason: "expected a domain, a service kind and a name",
                });
            };
            let name = fields.collect::<Vec<_>>().join(" ");
            if name.is_empty() {
                return Err(ServiceMapError::BadLine {
                    line,
                    reason: "the service name is missing",
                });
            }
            if name.chars().any(char::is_control) {
                return Err(ServiceMapError::BadLine {
                    line,
                    reason: "the service name contains a control character",
                });
            }
            let kind = kind
                .parse::<ServiceKind>()
                .map_err(|_| ServiceMapError::UnknownKind {
                    line,
                    kind: kind.to_owned(),
                })?;
            let key = normalize(domain);
            if !is_plausible_domain(&key) {
                return Err(ServiceMapError::InvalidDomain {
                    line,
                    domain: domain.to_owned(),
                });
            }
            parsed.push((key, Service { name, kind }));
        }
        let count = parsed.len();
        self.entries.extend(parsed);
        Ok(count)
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, ordered by domain.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Service)> {
        self.entries
            .iter()
            .map(|(domain, service)| (domain.as_str(), service))
    }
}

/// `domain` trimmed, without one trailing dot, in ASCII lower case.
fn normalize(domain: &str) -> String {
    let trimmed = domain.trim();
    trimmed
        .strip_suffix('.')
        .unwrap_or(trimmed)
        .to_ascii_lowercase()
}

/// Whether a normalized name could be a DNS host or domain name worth a map
/// entry: at most 253 bytes, at least two labels of 1 to 63 letters, digits
/// and hyphens that neither start nor end with a hyphen, and a last label
/// that is not all digits (which rules out IPv4 addresses).
fn is_plausible_domain(name: &str) -> bool {
    if name.len() > MAX_DOMAIN_BYTES {
        return false;
    }
    let mut labels = 0_usize;
    let mut last = "";
    for label in name.split('.') {
        let well_formed = !label.is_empty()
            && label.len() <= MAX_LABEL_BYTES
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !well_formed {
            return false;
        }
        labels = labels.saturating_add(1);
        last = label;
    }
    labels >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn kind_of(map: &ServiceMap, domain: &str) -> Option<(String, ServiceKind)> {
        map.lookup(domain).map(|s| (s.name.clone(), s.kind))
    }

    fn named(name: &str, kind: ServiceKind) -> Option<(String, ServiceKind)> {
        Some((name.to_owned(), kind))
    }

    /// Checks that each domain is found as the service named with it.
    fn assert_lookups(map: &ServiceMap, cases: &[(&str, &str, ServiceKind)]) {
        for &(domain, name, kind) in cases {
            assert_eq!(kind_of(map, domain), named(name, kind), "{domain}");
        }
    }

    #[test]
    fn lookup_by_organizational_domain() {
        use ServiceKind::{Application, Esp, MailboxProvider, Marketing, SecurityGateway};
        let map = ServiceMap::builtin();
        assert_lookups(
            &map,
            &[
                // google.com is Google, a mailbox provider (Gmail, Workspace).
                ("google.com", "Google", MailboxProvider),
                // amazonses.com is Amazon SES, an ESP.
                ("amazonses.com", "Amazon SES", Esp),
                // pphosted.com is Proofpoint's hosted gateway.
                ("pphosted.com", "Proofpoint", SecurityGateway),
                // mcsv.net is one of Mailchimp's sending domains, a marketing platform.
                ("mcsv.net", "Mailchimp", Marketing),
                // zdsys.com is Zendesk's infrastructure: an application's notifications.
                ("zdsys.com", "Zendesk", Application),
            ],
        );
        // Domains of no listed service are not named.
        assert_eq!(map.lookup("example.com"), None);
        assert_eq!(map.lookup("com"), None);
    }

    #[test]
    fn lookup_by_host_name() {
        use ServiceKind::{Esp, MailboxProvider, SecurityGateway};
        let map = ServiceMap::builtin();
        assert_lookups(
            &map,
            &[
                ("mail-sor-f41.google.com", "Google", MailboxProvider),
                ("a8-33.smtp-out.amazonses.com", "Amazon SES", Esp),
                ("mx0a-001b2d01.pphosted.com", "Proofpoint", SecurityGateway),
                (
                    "mail-dm6nam10lp2047.outbound.protection.outlook.com",
                    "Microsoft 365 / Outlook.com",
                    MailboxProvider,
                ),
                // Trend Micro's gateway hosts get the more specific product name.
                (
                    "inpost.tmes.trendmicro.com",
                    "Trend Micro Email Security",
                    SecurityGateway,
                ),
                // SparkPost names a customer's dedicated hosts under its own zone; the
                // customer's domain in the middle of the name is not a match.
                (
                    "mta-174-81-113.atlassian.net.sparkpostmail.com",
                    "SparkPost",
                    Esp,
                ),
            ],
        );
    }

    #[test]
    fn lookup_matches_whole_labels_only() {
        let map = ServiceMap::builtin();
        assert_eq!(map.lookup("notgoogle.com"), None);
        assert_eq!(map.lookup("mail.evil-google.com"), None);
        assert_eq!(map.lookup("google.com.example.net"), None);
        // Only OVHcloud's mail zone is listed, not its customers' servers.
        assert_eq!(
            kind_of(&map, "mo1.mail-out.ovh.net"),
            named("OVHcloud Email", ServiceKind::MailboxProvider)
        );
        assert_eq!(map.lookup("vps-1234.vps.ovh.net"), None);
        assert_eq!(map.lookup("ovh.net"), None);
    }

    #[test]
    fn lookup_ignores_case_and_trailing_dot() {
        let map = ServiceMap::builtin();
        let google = named("Google", ServiceKind::MailboxProvider);
        assert_eq!(kind_of(&map, "MAIL-SOR-F41.Google.COM."), google);
        assert_eq!(kind_of(&map, "google.com."), google);
        assert_eq!(kind_of(&map, " Google.Com "), google);
        assert_eq!(map.lookup(""), None);
        assert_eq!(map.lookup("."), None);
        assert_eq!(map.lookup("google.com.."), None);
    }

    #[test]
    fn longest_suffix_wins() {
        let mut map = ServiceMap::builtin();
        let inbound = Service::new("Microsoft inbound", ServiceKind::Other);
        assert_eq!(
            map.insert("mail.protection.outlook.com", inbound.clone()),
            None
        );
        assert_eq!(
            map.lookup("bn8nam04ft033.mail.protection.outlook.com"),
            Some(&inbound)
        );
        assert_eq!(map.lookup("mail.protection.outlook.com"), Some(&inbound));
        // A sibling zone still falls back to the shorter built-in entry.
        assert_eq!(
            kind_of(&map, "mail-x.outbound.protection.outlook.com"),
            named("Microsoft 365 / Outlook.com", ServiceKind::MailboxProvider)
        );
        assert_eq!(
            kind_of(&map, "outlook.com"),
            named("Microsoft 365 / Outlook.com", ServiceKind::MailboxProvider)
        );
    }

    #[test]
    fn user_entries_override_builtin_ones() {
        let mut map = ServiceMap::builtin();
        let ours = Service::new("Our Workspace", ServiceKind::Other);
        let replaced = map.insert("Google.COM.", ours.clone());
        assert_eq!(
            replaced,
            Some(Service::new("Google", ServiceKind::MailboxProvider))
        );
        assert_eq!(map.lookup("mail-sor-f41.google.com"), Some(&ours));
        assert_eq!(map.len(), BUILTIN.len());
        // The normalized key is what is stored.
        assert!(
            map.iter()
                .any(|(domain, s)| domain == "google.com" && s == &ours)
        );
    }

    #[test]
    fn new_map_is_empty() {
        let map = ServiceMap::new();
        assert!(map.is_empty());
        assert_eq!(map.lookup("google.com"), None);
        assert_eq!(map, ServiceMap::default());
    }

    #[test]
    fn kind_tokens_and_words() {
        let expected = [
            (ServiceKind::Esp, "esp", "ESP"),
            (
                ServiceKind::MailboxProvider,
                "mailbox_provider",
                "mailbox provider",
            ),
            (ServiceKind::Marketing, "marketing", "marketing"),
            (
                ServiceKind::SecurityGateway,
                "security_gateway",
                "security gateway",
            ),
            (ServiceKind::Application, "application", "application"),
            (ServiceKind::Other, "other", "other"),
        ];
        assert_eq!(expected.len(), ServiceKind::ALL.len());
        for (kind, token, words) in expected {
            assert_eq!(kind.as_str(), token);
            assert_eq!(kind.to_string(), words);
            assert_eq!(token.parse::<ServiceKind>().unwrap(), kind);
            assert_eq!(token.to_uppercase().parse::<ServiceKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{token}\"")
            );
        }
        let err = "mailbox provider".parse::<ServiceKind>().unwrap_err();
        assert_eq!(err.token(), "mailbox provider");
        assert!(err.to_string().starts_with("unknown service kind"));
    }

    #[test]
    fn service_serializes_and_displays() {
        let service = Service::new("Amazon SES", ServiceKind::Esp);
        assert_eq!(
            serde_json::to_value(&service).unwrap(),
            serde_json::json!({ "name": "Amazon SES", "kind": "esp" })
        );
        assert_eq!(service.to_string(), "Amazon SES (ESP)");
    }

    #[test]
    fn parse_extension_reads_entries_and_skips_comments() {
        let mut map = ServiceMap::builtin();
        let text = "\u{feff}# Our own senders\r\n\
                    \r\n\
                    relay.example.net   esp   Example   Relay  \r\n\
                    \t# an indented comment\n\
                    MAIL.Protection.Outlook.COM.\tsecurity_gateway\tMicrosoft EOP # inbound\n\
                    google.com OTHER Our Google tenant\n\
                    #last.example.net esp Commented Out\n";
        assert_eq!(map.parse_extension(text), Ok(3));
        assert_eq!(
            kind_of(&map, "out1.relay.example.net"),
            named("Example Relay", ServiceKind::Esp)
        );
        assert_eq!(
            kind_of(&map, "x.mail.protection.outlook.com"),
            named("Microsoft EOP", ServiceKind::SecurityGateway)
        );
        assert_eq!(
            kind_of(&map, "mail-sor-f41.google.com"),
            named("Our Google tenant", ServiceKind::Other)
        );
        assert_eq!(map.lookup("last.example.net"), None);
        assert_eq!(map.len(), BUILTIN.len() + 2);
        assert_eq!(map.parse_extension(""), Ok(0));
        assert_eq!(map.parse_extension("# nothing\n\n   \n"), Ok(0));
    }

    #[test]
    fn parse_extension_errors_name_the_line_and_change_nothing() {
        let cases: &[(&str, ServiceMapError)] = &[
            (
                "a.example esp A\nb.example esp\n",
                ServiceMapError::BadLine {
                    line: 2,
                    reason: "the service name is missing",
                },
            ),
            (
                "\n\nlonely.example\n",
                ServiceMapError::BadLine {
                    line: 3,
                    reason: "expected a domain, a service kind and a name",
                },
            ),
            (
                "a.example esp Bad\u{7}Bell\n",
                ServiceMapError::BadLine {
                    line: 1,
                    reason: "the service name contains a control character",
                },
            ),
            (
                "# header\na.example bulk_mailer A\n",
                ServiceMapError::UnknownKind {
                    line: 2,
                    kind: "bulk_mailer".to_owned(),
                },
            ),
            (
                "localhost esp Local\n",
                ServiceMapError::InvalidDomain {
                    line: 1,
                    domain: "localhost".to_owned(),
                },
            ),
        ];
        for (text, expected) in cases {
            let mut map = ServiceMap::builtin();
            let err = map.parse_extension(text).unwrap_err();
            assert_eq!(&err, expected, "{text:?}");
            assert_eq!(err.line(), expected.line());
            assert_eq!(map, ServiceMap::builtin(), "{text:?} changed the map");
            let message = err.to_string();
            assert!(message.starts_with("line "), "{message}");
            assert!(!message.ends_with('.'), "{message}");
            assert_eq!(message, message.to_lowercase(), "{message}");
        }
    }

    #[test]
    fn parse_extension_rejects_implausible_domains() {
        let long_label = format!("{}.com", "a".repeat(64));
        // 26 labels of 9 bytes and dots, then "com": 263 bytes, over 253.
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        let bad = [
            "localhost",
            "192.0.2.1",
            "-bad.example",
            "bad-.example",
            "a..example",
            ".example.com",
            "exa_mple.com",
            "*.example.com",
            "bücher.example",
            long_label.as_str(),
            long_name.as_str(),
        ];
        for domain in bad {
            let mut map = ServiceMap::new();
            assert_eq!(
                map.parse_extension(&format!("{domain} esp X")),
                Err(ServiceMapError::InvalidDomain {
                    line: 1,
                    domain: domain.to_owned(),
                }),
                "{domain}"
            );
        }
        let max_label = format!("{}.com", "a".repeat(63));
        let max_name = format!("{}com", "abcdefghi.".repeat(25));
        assert_eq!(max_name.len(), 253);
        let good = [
            "example.com",
            "xn--bcher-kva.example",
            "mail-1.example.co.uk",
            "1and1.com",
            max_label.as_str(),
            max_name.as_str(),
        ];
        for domain in good {
            let mut map = ServiceMap::new();
            assert_eq!(
                map.parse_extension(&format!("{domain} esp X")),
                Ok(1),
                "{domain}"
            );
        }
    }

    #[test]
    fn parse_extension_limits_line_length() {
        let entry = "a.example esp ";
        let fits = format!("{entry}{}", "n".repeat(MAX_LINE_BYTES - entry.len()));
        assert_eq!(fits.len(), MAX_LINE_BYTES);
        let mut map = ServiceMap::new();
        assert_eq!(map.parse_extension(&fits), Ok(1));

        // One byte more is refused even when the line is only a comment.
        let too_long = format!("# {}", "c".repeat(MAX_LINE_BYTES - 1));
        let mut map = ServiceMap::new();
        assert_eq!(
            map.parse_extension(&format!("a.example esp A\n{too_long}\n")),
            Err(ServiceMapError::LineTooLong {
                line: 2,
                len: MAX_LINE_BYTES + 1,
            })
        );
        assert!(map.is_empty());
    }

    #[test]
    fn parse_extension_limits_entry_count() {
        let mut text = String::from("# generated\n");
        for i in 0..MAX_EXTENSION_ENTRIES {
            text.push_str(&format!("h{i}.example esp Host {i}\n"));
        }
        let mut map = ServiceMap::new();
        assert_eq!(map.parse_extension(&text), Ok(MAX_EXTENSION_ENTRIES));
        assert_eq!(map.len(), MAX_EXTENSION_ENTRIES);

        // Comments and blank lines do not count; one entry more does.
        text.push_str("\n# still fine\nlast.example esp One Too Many\n");
        let mut map = ServiceMap::new();
        let err = map.parse_extension(&text).unwrap_err();
        assert_eq!(
            err,
            ServiceMapError::TooManyEntries {
                line: MAX_EXTENSION_ENTRIES + 4,
            }
        );
        assert_eq!(
            err.to_string(),
            "line 10004: more than 10000 entries in one file"
        );
        assert!(map.is_empty());
    }

    #[test]
    fn error_messages_are_lowercase_sentences_without_period() {
        let errors = [
            ServiceMapError::LineTooLong { line: 3, len: 1001 },
            ServiceMapError::BadLine {
                line: 4,
                reason: "the service name is missing",
            },
            ServiceMapError::UnknownKind {
                line: 5,
                kind: "Bulk".to_owned(),
            },
            ServiceMapError::InvalidDomain {
                line: 6,
                domain: "localhost".to_owned(),
            },
            ServiceMapError::TooManyEntries { line: 7 },
        ];
        for err in errors {
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("line {}: ", err.line())),
                "{message}"
            );
            assert!(!message.ends_with('.'), "{message}");
            // Only echoed input may hold capitals.
            let without_input = message.replace("Bulk", "bulk");
            assert_eq!(without_input, without_input.to_lowercase(), "{message}");
        }
        assert_eq!(
            ServiceMapError::LineTooLong { line: 3, len: 1001 }.to_string(),
            "line 3: 1001 bytes is longer than the limit of 1000 bytes"
        );
        assert_eq!(
            ServiceMapError::InvalidDomain {
                line: 6,
                domain: "localhost".to_owned(),
            }
            .to_string(),
            "line 6: \"localhost\" is not a plausible dns name"
        );
    }
}
