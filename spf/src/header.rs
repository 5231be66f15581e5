//! Recording the result: the `Received-SPF` header field
//! ([RFC 7208 §9.1](https://www.rfc-editor.org/rfc/rfc7208#section-9.1)) and the `spf` entry of
//! `Authentication-Results` ([RFC 7208 §9.2](https://www.rfc-editor.org/rfc/rfc7208#section-9.2),
//! RFC 8601 §2.7.2).

use std::fmt::Write as _;

use mailward_types::auth_results::MethodResult;

use crate::outcome::SpfOutcome;
use crate::query::{Identity, Query};
use crate::result::SpfResult;

/// Longest value written into a header (RFC 7208 §9.1: the field must not be "excessively
/// long"; RFC 5322 §2.1.1 limits lines to 998 octets).
pub const MAX_HEADER_VALUE_LEN: usize = 256;

/// Makes sender-controlled text safe in a header: printable ASCII only (other octets become
/// `?`), bounded length. RFC 7208 §9.1: "SPF verifiers MUST make sure that the Received-SPF
/// header field does not contain invalid characters … and does not contain malicious data".
fn sanitize(s: &str) -> String {
    s.chars()
        .take(MAX_HEADER_VALUE_LEN)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// Text for inside a comment: no parentheses or backslashes.
fn comment_text(s: &str) -> String {
    sanitize(s).replace(['(', ')', '\\'], "?")
}

/// RFC 5322 `atext` plus `.` (a dot-atom if it also has no leading, trailing or double dot).
fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
}

/// `dot-atom / quoted-string` (RFC 7208 §9.1 `key-value-pair`).
fn kv_value(s: &str) -> String {
    let s = sanitize(s);
    if is_dot_atom(&s) {
        s
    } else {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    }
}

/// The comment of RFC 7208 §9.1: "conveying supporting information for the result, such as
/// <ip>, <sender>, and <domain>".
fn comment(outcome: &SpfOutcome, query: &Query, receiver: &str) -> String {
    let sender = comment_text(&query.effective_sender());
    let ip = query.client_ip();
    let who = match query.identity {
        Identity::Helo => format!("{sender} (HELO {})", comment_text(&query.helo)),
        _ => sender,
    }
    .replace(['(', ')'], "");
    let text = match outcome.result {
        SpfResult::Pass => format!("domain of {who} designates {ip} as permitted sender"),
        SpfResult::Fail => {
            format!("domain of {who} does not designate {ip} as permitted sender")
        }
        SpfResult::SoftFail => {
            format!("domain of transitioning {who} does not designate {ip} as permitted sender")
        }
        SpfResult::Neutral => {
            format!("{ip} is neither permitted nor denied by domain of {who}")
        }
        SpfResult::None => format!("domain of {who} does not designate permitted sender hosts"),
        SpfResult::TempError => format!("error in processing during lookup of {who}"),
        SpfResult::PermError => format!("permanent error in processing domain of {who}"),
    };
    format!("({}: {text})", comment_text(receiver))
}

/// The value of a `Received-SPF` field (after the colon, one line): the result, a comment, and
/// the key-value pairs `client-ip`, `envelope-from` (MAIL FROM checks), `helo`, `receiver`,
/// `identity`, and `mechanism` (or `problem` for errors).
///
/// # Examples
///
/// ```
/// use mailward_spf::{received_spf_value, Query, SpfOutcome};
/// # fn outcome() -> SpfOutcome {
/// #   let q = Query::mail_from("192.0.2.1".parse().unwrap(), "", "[x]");
/// #   pollster::block_on(mailward_spf::evaluate(&Nothing, &q))
/// # }
/// # struct Nothing;
/// # impl mailward_types::dns::Resolver for Nothing {
/// #   async fn txt(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<mailward_types::dns::Txt> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn a(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<std::net::Ipv4Addr> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn aaaa(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<std::net::Ipv6Addr> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn mx(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<mailward_types::dns::Mx> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn ptr(&self, _: std::net::IpAddr) -> mailward_types::dns::DnsResult<mailward_types::Domain> { Err(mailward_types::DnsError::NXDOMAIN) }
/// # }
/// let q = Query::mail_from("192.0.2.1".parse()?, "", "[x]");
/// let v = received_spf_value(&outcome(), &q, "mx.example.org");
/// assert!(v.starts_with("none (mx.example.org: "));
/// assert!(v.contains("client-ip=192.0.2.1;"));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn received_spf_value(outcome: &SpfOutcome, query: &Query, receiver: &str) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("client-ip", query.client_ip().to_string())];
    if query.identity == Identity::MailFrom {
        pairs.push(("envelope-from", query.effective_sender()));
    }
    pairs.push(("helo", query.helo.clone()));
    pairs.push(("receiver", receiver.to_owned()));
    pairs.push(("identity", query.identity.as_str().to_owned()));
    match (outcome.result, &outcome.problem, &outcome.mechanism) {
        (SpfResult::TempError | SpfResult::PermError, Some(p), _) => {
            pairs.push(("problem", p.clone()));
        }
        (_, _, Some(m)) => pairs.push(("mechanism", m.to_string())),
        (SpfResult::Pass | SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral, _, None) => {
            pairs.push(("mechanism", "default".to_owned()));
        }
        _ => {}
    }
    let mut out = format!("{} {}", outcome.result, comment(outcome, query, receiver));
    for (k, v) in pairs {
        let _ = write!(out, " {k}={};", kv_value(&v));
    }
    out
}

/// The whole `Received-SPF:` field, without the final CRLF. Lines longer than 78 columns are
/// folded by inserting CRLF before an existing space (RFC 5322 §2.2.3), so unfolding gives the
/// value back unchanged.
pub fn received_spf_field(outcome: &SpfOutcome, query: &Query, receiver: &str) -> String {
    let value = received_spf_value(outcome, query, receiver);
    let mut out = String::from("Received-SPF:");
    let mut line = out.len();
    for word in value.split(' ') {
        if line + 1 + word.len() > 78 && line > 1 {
            out.push_str("\r\n ");
            line = 1;
        } else {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// The `spf` method result for `Authentication-Results` (RFC 7208 §9.2, RFC 8601 §2.7.2):
/// `spf=<result> smtp.mailfrom=<sender>` for MAIL FROM checks, `smtp.helo=<helo>` for HELO.
/// The problem of an error result goes in `reason=`.
///
/// # Examples
///
/// ```
/// use mailward_spf::{auth_results_entry, Query, SpfOutcome, SpfResult};
/// use mailward_types::AuthenticationResults;
///
/// let q = Query::mail_from("192.0.2.1".parse()?, "user@example.net", "mx.example.net");
/// # let outcome = |r| { let mut o = pollster::block_on(mailward_spf::evaluate(&N, &Query::helo("192.0.2.1".parse().unwrap(), "x"))); o.result = r; o };
/// # struct N;
/// # impl mailward_types::dns::Resolver for N {
/// #   async fn txt(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<mailward_types::dns::Txt> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn a(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<std::net::Ipv4Addr> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn aaaa(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<std::net::Ipv6Addr> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn mx(&self, _: &mailward_types::Domain) -> mailward_types::dns::DnsResult<mailward_types::dns::Mx> { Err(mailward_types::DnsError::NXDOMAIN) }
/// #   async fn ptr(&self, _: std::net::IpAddr) -> mailward_types::dns::DnsResult<mailward_types::Domain> { Err(mailward_types::DnsError::NXDOMAIN) }
/// # }
/// let entry = auth_results_entry(&outcome(SpfResult::Pass), &q);
/// let ar = AuthenticationResults::new("myhost.example.org").with_result(entry);
/// assert_eq!(ar.to_string(), "myhost.example.org; spf=pass smtp.mailfrom=user@example.net");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn auth_results_entry(outcome: &SpfOutcome, query: &Query) -> MethodResult {
    let entry = MethodResult::new("spf", outcome.result.as_str());
    let entry = match query.identity {
        Identity::Helo => entry.with_property("smtp", "helo", sanitize(&query.helo)),
        _ => entry.with_property("smtp", "mailfrom", sanitize(&query.effective_sender())),
    };
    match (&outcome.problem, outcome.result) {
        (Some(p), SpfResult::PermError | SpfResult::TempError) => entry.with_reason(sanitize(p)),
        _ => entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_sanitized() {
        assert_eq!(kv_value("foo.example.com"), "foo.example.com");
        // '@' is atext in RFC 5322 §3.2.3? No: it is a special, so the address is quoted.
        assert_eq!(kv_value("myname@example.com"), "\"myname@example.com\"");
        assert_eq!(kv_value("a b\"c\r\n"), "\"a b\\\"c??\"");
        assert_eq!(kv_value(""), "\"\"");
        assert_eq!(comment_text("x(y)\\"), "x?y??");
    }
}
