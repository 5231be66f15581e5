//! `imaps://USER@HOST[:PORT]/MAILBOX` and `imap://…`: the IMAP source as a person writes it.

use std::fmt;
use std::str::FromStr;

use super::ImapError;
use crate::source::strip_prefix_ignore_case;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Security {
    /// `imaps://`: TLS from the first byte (port 993 by default).
    Tls,
    /// `imap://`: plain TCP upgraded with STARTTLS (port 143 by default); going on in clear text
    /// when the server does not offer STARTTLS needs
    /// [`ImapOptions::insecure_plaintext`](super::ImapOptions::insecure_plaintext).
    StartTls,
}

/// An IMAP mailbox to read reports from, parsed from `imaps://USER@HOST[:PORT]/MAILBOX` or
/// `imap://USER@HOST[:PORT]/MAILBOX`.
///
/// - The scheme is matched without regard to ASCII case.
/// - The user name may itself hold `@` (`dmarc@example.com@imap.example.com`): the last `@`
///   before the host separates them. `%XX` escapes are decoded in the user and the mailbox.
/// - A password in the URL (`USER:PASSWORD@`) is refused: it would end up in shell history and
///   process lists. Passwords and tokens come through
///   [`Credentials`](super::Credentials).
/// - An IPv6 host is written in brackets (`imaps://u@[::1]:993/INBOX`).
/// - The mailbox is `INBOX` when the path is empty. Names outside ASCII are sent in IMAP's
///   modified UTF-7 (RFC 3501, section 5.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImapUrl {
    security: Security,
    user: String,
    host: String,
    port: u16,
    mailbox: String,
}

/// The longest URL accepted, in bytes.
const MAX_URL_BYTES: usize = 8192;
/// The longest user name, host name and mailbox name, in bytes (decoded). With these, the
/// written form of a URL (escapes take three bytes) stays under [`MAX_URL_BYTES`].
const MAX_USER_BYTES: usize = 255;
const MAX_HOST_BYTES: usize = 255;
const MAX_MAILBOX_BYTES: usize = 1000;

impl ImapUrl {
    /// Parses an `imaps://` or `imap://` URL.
    ///
    /// # Errors
    ///
    /// [`ImapError::Url`] naming what is wrong: another scheme, no user, no host, a password in
    /// the URL, a bad port or escape.
    pub fn parse(s: &str) -> Result<Self, ImapError> {
        let bad = |reason: &str| ImapError::Url {
            url: redact(s),
            reason: reason.to_owned(),
        };
        if s.len() > MAX_URL_BYTES {
            return Err(bad("longer than 8192 bytes"));
        }
        let (security, rest) = if let Some(rest) = strip_prefix_ignore_case(s, "imaps://") {
            (Security::Tls, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(s, "imap://") {
            (Security::StartTls, rest)
        } else {
            return Err(bad("an IMAP source starts with imaps:// or imap://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i + 1..).unwrap_or_default(),
            ),
            None => (rest, ""),
        };
        let Some(at) = authority.rfind('@') else {
            return Err(bad("no user: write imaps://USER@HOST/MAILBOX"));
        };
        let userinfo = authority.get(..at).unwrap_or_default();
        let hostport = authority.get(at + 1..).unwrap_or_default();
        if userinfo.contains(':') {
            return Err(bad(
                "a password in the URL is refused; use MAILWARD_IMAP_PASSWORD or a password file",
            ));
        }
        let user = mailward_types::percent::decode(userinfo)
            .ok_or_else(|| bad("bad %-escape in the user"))?;
        if user.is_empty() {
            return Err(bad("no user: write imaps://USER@HOST/MAILBOX"));
        }
        let default_port = match security {
            Security::Tls => 993,
            Security::StartTls => 143,
        };
        let (host, port) = split_host_port(hostport, default_port).map_err(&bad)?;
        let mailbox = mailward_types::percent::decode(path)
            .ok_or_else(|| bad("bad %-escape in the mailbox"))?;
        let mailbox = if mailbox.is_empty() {
            "INBOX".to_owned()
        } else {
            mailbox
        };
        if user.len() > MAX_USER_BYTES || host.len() > MAX_HOST_BYTES {
            return Err(bad("the user or the host is longer than 255 bytes"));
        }
        if mailbox.len() > MAX_MAILBOX_BYTES {
            return Err(bad("the mailbox name is longer than 1000 bytes"));
        }
        if user.chars().chain(mailbox.chars()).any(char::is_control) {
            return Err(bad("control characters in the user or the mailbox"));
        }
        Ok(Self {
            security,
            user,
            host,
            port,
            mailbox,
        })
    }

    /// How the connection is protected.
    pub fn security(&self) -> Security {
        self.security
    }

    /// The user name to log in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The server's host name or address (without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The mailbox to read, as given (decoded).
    pub fn mailbox(&self) -> &str {
        &self.mailbox
    }

    /// `host:port`, with brackets around an IPv6 address.
    pub(crate) fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The location of one message (RFC 5092's form): this URL with `;UIDVALIDITY=V/;UID=N`.
    pub(crate) fn message_location(&self, uid_validity: u32, uid: u32) -> String {
        format!("{self};UIDVALIDITY={uid_validity}/;UID={uid}")
    }
}

impl fmt::Display for ImapUrl {
    /// The URL with the default port spelled out and the user and mailbox escaped where needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::Tls => "imaps",
            Security::StartTls => "imap",
        };
        write!(
            f,
            "{scheme}://{}@{}/{}",
            percent_encode(&self.user, false),
            self.server(),
            percent_encode(&self.mailbox, true)
        )
    }
}

impl FromStr for ImapUrl {
    type Err = ImapError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Whether a source string is an IMAP URL (so that callers can route it here).
pub fn is_imap_url(s: &str) -> bool {
    strip_prefix_ignore_case(s, "imaps://").is_some()
        || strip_prefix_ignore_case(s, "imap://").is_some()
}

/// The URL for error messages: anything between `//` and the last `@` that holds a `:` (a
/// password) is replaced.
fn redact(s: &str) -> String {
    let short: String = s.chars().take(200).collect();
    let Some(start) = short.find("//").map(|i| i + 2) else {
        return short;
    };
    let end = short
        .get(start..)
        .and_then(|rest| rest.find('/').map(|i| start + i))
        .unwrap_or(short.len());
    let authority = short.get(start..end).unwrap_or_default();
    match authority.rfind('@') {
        Some(at) if authority.get(..at).is_some_and(|u| u.contains(':')) => {
            let user = authority
                .get(..at)
                .and_then(|u| u.split(':').next())
                .unwrap_or_default();
            format!(
                "{}{user}:***{}",
                short.get(..start).unwrap_or_default(),
                short.get(start + at..).unwrap_or_default()
            )
        }
        _ => short,
    }
}

fn split_host_port(s: &str, default_port: u16) -> Result<(String, u16), &'static str> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err("unclosed [ in the host");
        };
        let host = rest.get(..close).unwrap_or_default();
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("not an IPv6 address in brackets");
        }
        let after = rest.get(close + 1..).unwrap_or_default();
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("junk after the bracketed host"),
        };
        (host, port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("no host");
    }
    let bracketed = s.starts_with('[');
    if !bracketed
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err("the host holds characters a host name cannot have");
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err("the port is not a number from 1 to 65535"),
        },
    };
    Ok((host.to_owned(), port))
}

/// Escapes what cannot stand for itself: in the mailbox (`path`) a `/` stays; in the user a
/// `:` is escaped, since in the user part it would start a password (RFC 3986, section 3.2.1).
fn percent_encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'\'' | b'(' | b')'
            )
            || matches!(b, b'*' | b'+' | b',' | b'=' | b'@' | b'&')
            || (path && matches!(b, b'/' | b':'));
        if plain {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A mailbox name in IMAP's modified UTF-7 (RFC 3501, section 5.1.3): printable ASCII stands
/// for itself except `&`, written `&-`; other characters are UTF-16 in modified base64 (`,`
/// for `/`, no padding) between `&` and `-`.
pub(crate) fn mailbox_utf7(name: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::IMAP_MUTF7,
        base64::engine::general_purpose::NO_PAD,
    );
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u8> = Vec::new();
    let flush = |pending: &mut Vec<u8>, out: &mut String| {
        if !pending.is_empty() {
            out.push('&');
            out.push_str(&engine.encode(&*pending));
            out.push('-');
            pending.clear();
        }
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                pending.extend_from_slice(&unit.to_be_bytes());
            }
        }
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        // Found by fuzzing: a `:` decoded into the user must be written escaped, or the
        // written URL reads as one with a password.
        let u = ImapUrl::parse("IMAP://rua%40exrqa%3ag@1").unwrap();
        assert_eq!(u.user(), "rua@exrqa:g");
        assert_eq!(u.to_string(), "imap://rua@exrqa%3Ag@1:143/INBOX");
        assert_eq!(ImapUrl::parse(&u.to_string()).unwrap(), u);

        let u = ImapUrl::parse("imaps://dmarc@example.com@imap.example.com/Reports").unwrap();
        assert_eq!(u.security(), Security::Tls);
        assert_eq!(u.user(), "dmarc@example.com");
        assert_eq!(u.host(), "imap.example.com");
        assert_eq!(u.port(), 993);
        assert_eq!(u.mailbox(), "Reports");
        assert_eq!(
            u.to_string(),
            "imaps://dmarc@example.com@imap.example.com:993/Reports"
        );

        let u = ImapUrl::parse("IMAP://rua%40example.org@[::1]:1143").unwrap();
        assert_eq!(u.security(), Security::StartTls);
        assert_eq!(u.user(), "rua@example.org");
        assert_eq!(u.host(), "::1");
        assert_eq!(u.port(), 1143);
        assert_eq!(u.mailbox(), "INBOX");
        assert_eq!(u.server(), "[::1]:1143");

        let u = ImapUrl::parse("imap://u@h/Archive/DMARC%20reports").unwrap();
        assert_eq!(u.port(), 143);
        assert_eq!(u.mailbox(), "Archive/DMARC reports");
        assert_eq!(u.to_string(), "imap://u@h:143/Archive/DMARC%20reports");
        assert_eq!(
            u.message_location(7, 42),
            "imap://u@h:143/Archive/DMARC%20reports;UIDVALIDITY=7/;UID=42"
        );
    }

    #[test]
    fn refusals() {
        for bad in [
            "imaps://host/INBOX",
            "imaps://@host/INBOX",
            "imaps://u@/INBOX",
            "imaps://u@h:0/INBOX",
            "imaps://u@h:99999/INBOX",
            "imaps://u@h:x/INBOX",
            "imaps://u@[nothex]/INBOX",
            "imaps://u@[::1/INBOX",
            "imaps://u@h/IN%ZZ",
            "imaps://u@h/a%0Ab",
            "imaps://u@ho st/INBOX",
            // Found by fuzzing: a colon inside an unbracketed host.
            "imap://u@bhipsimap:p:2/:",
            "imaps://u@::1/INBOX",
            "pop3://u@h/INBOX",
        ] {
            assert!(ImapUrl::parse(bad).is_err(), "{bad}");
        }
        let e = ImapUrl::parse("imaps://u:hunter2@h/INBOX")
            .unwrap_err()
            .to_string();
        assert!(e.contains("password"), "{e}");
        assert!(!e.contains("hunter2"), "the password leaks: {e}");
    }

    /// RFC 3501, section 5.1.3, gives `~peter/mail/&U,BTFw-/&ZeVnLIqe-` for the name
    /// "~peter/mail/台北/日本語", and `&-` for `&`.
    #[test]
    fn modified_utf7() {
        assert_eq!(
            mailbox_utf7("~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(mailbox_utf7("Q&A"), "Q&-A");
        assert_eq!(mailbox_utf7("INBOX"), "INBOX");
    }
}
