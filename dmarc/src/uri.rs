//! DMARC Reporting URIs ([RFC 9989 §4.6](https://www.rfc-editor.org/rfc/rfc9989#section-4.6),
//! ABNF in §4.8).
//!
//! ```abnf
//! dmarc-uri     = URI   ; RFC 3986; commas and "!" MUST be encoded
//! obs-dmarc-uri = dmarc-uri obs-dmarc-report-size
//! obs-dmarc-report-size = "!" 1*DIGIT [ "k" / "m" / "g" / "t" ]
//! ```

use std::fmt;

use mailward_types::Domain;

/// Most URIs kept from one `rua` or `ruf` list. RFC 9989 sets no limit ("A report SHOULD be
/// sent to each listed URI", §4.6); RFC 7489 §6.2 asked receivers to support at least two.
/// 32 bounds hostile records while keeping every real one.
pub const MAX_REPORT_URIS: usize = 32;

/// One reporting URI from `rua` or `ruf`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportUri {
    /// The URI (RFC 3986 syntax checked), without any size suffix.
    pub uri: String,
    /// The obsolete `!size` suffix without the `!` (e.g. `10m`), parsed and ignored.
    pub size_limit: Option<String>,
}

impl ReportUri {
    /// Parses `dmarc-uri / obs-dmarc-uri`; `None` if it is not a URI.
    ///
    /// # Examples
    ///
    /// ```
    /// use mailward_dmarc::uri::ReportUri;
    ///
    /// let u = ReportUri::parse("mailto:reports@example.com!10m").unwrap();
    /// assert_eq!(u.uri, "mailto:reports@example.com");
    /// assert_eq!(u.mailto_domain().unwrap().as_str(), "example.com");
    /// assert!(ReportUri::parse("not a uri").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let (uri, size_limit) = match text.split_once('!') {
            Some((uri, size)) => {
                let digits = size.trim_end_matches(|c: char| "kmgtKMGT".contains(c));
                let unit_len = size.len() - digits.len();
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || unit_len > 1
                {
                    return None;
                }
                (uri, Some(size.to_owned()))
            }
            None => (text, None),
        };
        is_uri(uri).then(|| Self {
            uri: uri.to_owned(),
            size_limit,
        })
    }

    /// The scheme, lower-cased (`mailto`, `https`, ...).
    pub fn scheme(&self) -> String {
        self.uri
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// For a `mailto:` URI with one address, that address percent-decoded (RFC 6068).
    pub fn mailto_address(&self) -> Option<String> {
        if self.scheme() != "mailto" {
            return None;
        }
        let rest = self.uri.split_once(':').map(|(_, r)| r)?;
        let to = rest.split('?').next().unwrap_or("");
        let decoded = mailward_types::percent::decode(to)?;
        let (local, domain) = decoded.rsplit_once('@')?;
        if local.is_empty() || domain.is_empty() {
            return None;
        }
        Some(decoded)
    }

    /// The domain of a `mailto:` address, as an A-label [`Domain`]; `None` unless it is a host
    /// name (letters, digits and hyphens: a mail domain, RFC 5321 §4.1.2).
    pub fn mailto_domain(&self) -> Option<Domain> {
        let address = self.mailto_address()?;
        let (_, domain) = address.rsplit_once('@')?;
        Domain::new(domain).ok().filter(Domain::is_hostname)
    }
}

impl fmt::Display for ReportUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)?;
        if let Some(size) = &self.size_limit {
            write!(f, "!{size}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl serde::Serialize for ReportUri {
    /// As its text (with any size suffix).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// RFC 3986 §3: `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`, checked at the
/// character level: the scheme rule, then only URI characters (unreserved, pct-encoded,
/// gen-delims, sub-delims) with `,` and `!` excluded as RFC 9989 §4.8 requires.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut sb = scheme.bytes();
    if !sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        || !sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return false;
    }
    if rest.is_empty() {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut hashes = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let ok = bytes
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
                if !ok {
                    return false;
                }
                i += 3;
                continue;
            }
            b'#' => hashes += 1,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' => {}
            b':' | b'/' | b'?' | b'[' | b']' | b'@' => {}
            b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b';' | b'=' => {}
            _ => return false,
        }
        i += 1;
    }
    hashes <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_syntax() {
        for ok in [
            "mailto:a@example.com",
            "mailto:dmarc%2Bx@example.com?subject=hi",
            "https://example.com/report",
        ] {
            assert!(ReportUri::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "mailto:",
            "a@example.com",
            "1mailto:a@b",
            "mailto:a b@example.com",
            "mailto:a@example.com!",
            "mailto:a@example.com!10x",
            "mailto:a@example.com!k",
            "mailto:a@example.com!1!2",
            "mailto:%zz@example.com",
        ] {
            assert!(ReportUri::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn size_suffix() {
        let u = ReportUri::parse("mailto:a@example.com!50k").unwrap();
        assert_eq!(u.size_limit.as_deref(), Some("50k"));
        assert_eq!(u.to_string(), "mailto:a@example.com!50k");
        assert!(ReportUri::parse("mailto:a@example.com!100").is_some());
    }

    #[test]
    fn mailto() {
        let u = ReportUri::parse("MAILTO:r%40x@Example.COM?subject=x").unwrap();
        assert_eq!(u.scheme(), "mailto");
        assert_eq!(u.mailto_domain().unwrap().as_str(), "example.com");
        let h = ReportUri::parse("https://example.com/r").unwrap();
        assert_eq!(h.mailto_domain(), None);
        // The mailbox domain must be a host name (RFC 5321 §4.1.2 Domain).
        for bad in [
            "mailto:r@ex_ample.com",
            "mailto:r@a%20b.example",
            "mailto:r@-x.example",
        ] {
            let u = ReportUri::parse(bad);
            assert_eq!(u.and_then(|u| u.mailto_domain()), None, "{bad}");
        }
        let idn = ReportUri::parse("mailto:r@b%C3%BCcher.example").unwrap();
        assert_eq!(
            idn.mailto_domain().unwrap().as_str(),
            "xn--bcher-kva.example"
        );
    }
}
