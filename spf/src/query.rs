//! The inputs of one check ([`Query`]): the client, the identities and the options.

use std::net::IpAddr;

use crate::cache::RecordCache;

/// Which identity is checked ([RFC 7208 §2.3, §2.4](https://www.rfc-editor.org/rfc/rfc7208#section-2.3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Identity {
    /// The MAIL FROM (reverse-path) identity; a null reverse-path uses `postmaster@<helo>`.
    MailFrom,
    /// The HELO/EHLO identity.
    Helo,
}

impl Identity {
    /// `mailfrom` or `helo`, as in Received-SPF `identity=` (RFC 7208 §9.1).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MailFrom => "mailfrom",
            Self::Helo => "helo",
        }
    }
}

/// The inputs of one check.
///
/// # Examples
///
/// ```
/// use mailward_spf::{Identity, Query};
///
/// let q = Query::mail_from("192.0.2.1".parse()?, "", "mx.example.org");
/// assert_eq!(q.identity, Identity::MailFrom);
/// assert_eq!(q.effective_sender(), "postmaster@mx.example.org");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Query {
    /// The SMTP client address; an IPv4-mapped IPv6 address is treated as IPv4 (RFC 7208 §5).
    pub ip: IpAddr,
    /// The MAIL FROM reverse-path as given (`""` for the null reverse-path).
    pub sender: String,
    /// The HELO/EHLO parameter as given.
    pub helo: String,
    /// Which identity to check.
    pub identity: Identity,
    /// The receiving host, for `%{r}` (`unknown` when `None`).
    pub receiver: Option<String>,
    /// Seconds since the epoch, for `%{t}` and the freshness of [`RecordCache`] entries (0: no
    /// clock reading; the crate never reads the clock).
    pub timestamp: u64,
    /// Record [`SpfOutcome::trace`](crate::SpfOutcome::trace) (default `true`); a busy MTA that
    /// only needs the result can turn it off.
    pub trace: bool,
    /// An opt-in cache of parsed records shared between evaluations (`None`: every record is
    /// parsed).
    pub record_cache: Option<RecordCache>,
}

impl Query {
    /// Checks the MAIL FROM identity (RFC 7208 §2.4).
    pub fn mail_from(ip: IpAddr, sender: impl Into<String>, helo: impl Into<String>) -> Self {
        Self {
            ip,
            sender: sender.into(),
            helo: helo.into(),
            identity: Identity::MailFrom,
            receiver: None,
            timestamp: 0,
            trace: true,
            record_cache: None,
        }
    }

    /// Checks the HELO identity (RFC 7208 §2.3).
    pub fn helo(ip: IpAddr, helo: impl Into<String>) -> Self {
        Self {
            ip,
            sender: String::new(),
            helo: helo.into(),
            identity: Identity::Helo,
            receiver: None,
            timestamp: 0,
            trace: true,
            record_cache: None,
        }
    }

    /// Sets the receiving host name for `%{r}`.
    pub fn with_receiver(mut self, receiver: impl Into<String>) -> Self {
        self.receiver = Some(receiver.into());
        self
    }

    /// Turns the trace on or off.
    pub fn with_trace(mut self, trace: bool) -> Self {
        self.trace = trace;
        self
    }

    /// Uses `cache` for parsed records (see [`RecordCache`]); the result is the same as without,
    /// as long as the records do not change within the TTLs of their answers and the cache is
    /// shared only between queries answered by the same resolver. With a
    /// [timestamp](Self::with_timestamp), a record whose answer is still fresh is taken from the
    /// cache without a DNS query, and so are the A, AAAA and MX answers of earlier evaluations
    /// (the trace shows such a lookup as `cached`).
    pub fn with_record_cache(mut self, cache: RecordCache) -> Self {
        self.record_cache = Some(cache);
        self
    }

    /// Sets the time for `%{t}` and for the freshness of [`RecordCache`] entries.
    pub fn with_timestamp(mut self, seconds_since_epoch: u64) -> Self {
        self.timestamp = seconds_since_epoch;
        self
    }

    /// The `<sender>` of RFC 7208 §4.1 after §2.4 and §4.3: `postmaster@<helo>` for a null
    /// reverse-path or the HELO identity, `postmaster` as local-part when there is none.
    pub fn effective_sender(&self) -> String {
        let (local, domain) = self.sender_parts();
        format!("{local}@{domain}")
    }

    pub(crate) fn sender_parts(&self) -> (&str, &str) {
        if self.identity == Identity::Helo || self.sender.is_empty() {
            return ("postmaster", self.helo.as_str());
        }
        // The last '@' (a quoted local-part may hold one): a vector search, a quarter of the
        // instructions of an octet-by-octet scan back from the end on a typical address.
        let at = memchr::memrchr(b'@', self.sender.as_bytes());
        match at.map(|i| (self.sender.get(..i), self.sender.get(i + 1..))) {
            Some((Some(""), Some(d))) => ("postmaster", d),
            Some((Some(l), Some(d))) => (l, d),
            _ => ("postmaster", self.sender.as_str()),
        }
    }

    /// The client address with an IPv4-mapped IPv6 address turned into IPv4.
    pub fn client_ip(&self) -> IpAddr {
        self.ip.to_canonical()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_parts() {
        let ip = "192.0.2.1".parse().unwrap();
        assert_eq!(
            Query::mail_from(ip, "a@b.example", "h.example").effective_sender(),
            "a@b.example"
        );
        assert_eq!(
            Query::mail_from(ip, "@b.example", "h.example").effective_sender(),
            "postmaster@b.example"
        );
        assert_eq!(
            Query::mail_from(ip, "", "h.example").effective_sender(),
            "postmaster@h.example"
        );
        assert_eq!(
            Query::helo(ip, "h.example").effective_sender(),
            "postmaster@h.example"
        );
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(Query::helo(mapped, "h").client_ip(), ip);
    }
}
