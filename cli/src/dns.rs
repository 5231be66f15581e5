//! `mailward dns NAME TYPE`: one lookup through the selected resolver, printed like dig's
//! answer section.
//!
//! For PTR, NAME is an IP address or its reverse name (`1.2.0.192.in-addr.arpa`, the 32 nibbles
//! under `ip6.arpa`): both ask for the PTR records at the reverse name.
//!
//! Output: one record per line, `name. TTL IN TYPE data` (TXT as quoted character-strings with
//! RFC 1035 escapes for `"`, `\` and non-printable octets), or one word for a negative answer or
//! a failure: `NXDOMAIN`, `NODATA`, `TIMEOUT`, `SERVFAIL`, `ERROR: …`. With `--json`, one
//! object. Exit code 0 for records, NXDOMAIN and NODATA (all are answers); 1 for TIMEOUT,
//! SERVFAIL and other DNS failures; 2 for usage errors.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use mailward_dns::zone::parse_name;
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Mx, Resolver, Txt, reverse_name};
use serde_json::{Map, Value, json};

use crate::global::GlobalArgs;

/// Arguments of `mailward dns`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The name to look up (master-file escapes such as `\032` allowed); for PTR, an IP address
    /// or its reverse name (`1.2.0.192.in-addr.arpa`, `….ip6.arpa`).
    name: String,
    /// The record type.
    #[arg(value_enum, ignore_case = true)]
    rtype: RType,
}

/// The record types `mailward dns` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RType {
    /// Text records.
    #[value(name = "TXT")]
    Txt,
    /// IPv4 addresses.
    #[value(name = "A")]
    A,
    /// IPv6 addresses.
    #[value(name = "AAAA")]
    Aaaa,
    /// Mail exchangers.
    #[value(name = "MX")]
    Mx,
    /// The names of an IP address.
    #[value(name = "PTR")]
    Ptr,
}

impl RType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Txt => "TXT",
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Mx => "MX",
            Self::Ptr => "PTR",
        }
    }
}

/// One record, as presentation text and as JSON.
struct Shown {
    text: String,
    json: Value,
}

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    // Validate the query before building the resolver, so usage errors come first.
    let target = if args.rtype == RType::Ptr {
        let ip = match args.name.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => parse_name(&args.name)
                .ok()
                .and_then(|name| reverse_name_ip(&name))
                .with_context(|| {
                    format!(
                        "PTR needs an IP address or its reverse name (in-addr.arpa, ip6.arpa), not {:?}",
                        args.name
                    )
                })?,
        };
        Target::Ip(ip)
    } else {
        let name =
            parse_name(&args.name).with_context(|| format!("invalid name {:?}", args.name))?;
        Target::Name(name)
    };
    let resolver = global.resolver()?;
    let (owner, result) = match (&target, args.rtype) {
        (Target::Ip(ip), _) => (reverse_name(*ip), shown(resolver.ptr(*ip).await, show_name)),
        (Target::Name(n), RType::Txt) => (n.clone(), shown(resolver.txt(n).await, show_txt)),
        (Target::Name(n), RType::A) => (n.clone(), shown(resolver.a(n).await, show_ip)),
        (Target::Name(n), RType::Aaaa) => (n.clone(), shown(resolver.aaaa(n).await, show_ip)),
        (Target::Name(n), RType::Mx) => (n.clone(), shown(resolver.mx(n).await, show_mx)),
        (Target::Name(_), RType::Ptr) => bail!("PTR needs an IP address"),
    };
    let owner_text = presentation_name(&owner);
    let code = match &result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.is_void() => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    };
    if global.json {
        let mut obj = Map::new();
        obj.insert("name".into(), json!(owner.as_str()));
        obj.insert("type".into(), json!(args.rtype.as_str()));
        if let Target::Ip(ip) = target {
            obj.insert("ip".into(), json!(ip.to_string()));
        }
        match result {
            Ok((records, ttl)) => {
                obj.insert("status".into(), json!("NOERROR"));
                obj.insert("ttl".into(), json!(ttl));
                let records = records.into_iter().map(|r| r.json).collect();
                obj.insert("records".into(), Value::Array(records));
            }
            Err(e) => {
                obj.insert("status".into(), json!(e.as_str()));
                if let DnsError::NxDomain { negative_ttl } | DnsError::NoData { negative_ttl } = &e
                {
                    obj.insert("negative_ttl".into(), json!(negative_ttl));
                }
                if let DnsError::Other(inner) = &e {
                    obj.insert("error".into(), json!(inner.to_string()));
                }
                obj.insert("records".into(), json!([]));
            }
        }
        let obj = Value::Object(obj);
        outln!("{obj}")?;
        return Ok(code);
    }
    match result {
        Ok((records, ttl)) => {
            for r in records {
                outln!(
                    "{owner_text}\t{ttl}\tIN\t{}\t{}",
                    args.rtype.as_str(),
                    r.text
                )?;
            }
        }
        Err(DnsError::Other(inner)) => outln!("ERROR: {inner}")?,
        Err(e) => outln!("{}", e.as_str())?,
    }
    Ok(code)
}

enum Target {
    Name(Domain),
    Ip(IpAddr),
}

/// The address whose reverse name `name` is (RFC 1035 §3.5, RFC 3596 §2.5): `1.2.0.192.in-addr.arpa`
/// is 192.0.2.1, and 32 one-nibble labels under `ip6.arpa` are an IPv6 address, least
/// significant first. `None` for any other name: a shorter reverse name (a network, which
/// [`Resolver::ptr`] cannot ask for) and a spelling that is not the address's own name
/// (`01.2.0.192.in-addr.arpa` is another node), so the query is for exactly the name given.
fn reverse_name_ip(name: &Domain) -> Option<IpAddr> {
    let text = name.as_str();
    let ip = if let Some(labels) = text.strip_suffix(".in-addr.arpa") {
        let mut labels = labels.split('.').rev();
        let mut octets = [0u8; 4];
        for octet in &mut octets {
            *octet = labels.next()?.parse().ok()?;
        }
        if labels.next().is_some() {
            return None;
        }
        IpAddr::V4(Ipv4Addr::from(octets))
    } else if let Some(labels) = text.strip_suffix(".ip6.arpa") {
        let mut nibbles = 0;
        let mut value = 0u128;
        for label in labels.split('.').rev() {
            let &[digit] = label.as_bytes() else {
                return None;
            };
            nibbles += 1;
            if nibbles > 32 {
                return None;
            }
            value = (value << 4) | u128::from(char::from(digit).to_digit(16)?);
        }
        if nibbles != 32 {
            return None;
        }
        IpAddr::V6(Ipv6Addr::from(value))
    } else {
        return None;
    };
    (reverse_name(ip) == *name).then_some(ip)
}

fn shown<T>(r: DnsResult<T>, show: fn(&T) -> Shown) -> Result<(Vec<Shown>, u32), DnsError> {
    let lookup = r?;
    if lookup.records.is_empty() {
        // Resolvers must not do this; treat it as NODATA like the protocols do.
        return Err(DnsError::NODATA);
    }
    Ok((lookup.records.iter().map(show).collect(), lookup.ttl))
}

fn show_ip<T: std::fmt::Display>(ip: &T) -> Shown {
    Shown {
        text: ip.to_string(),
        json: json!(ip.to_string()),
    }
}

fn show_name(name: &Domain) -> Shown {
    Shown {
        text: presentation_name(name),
        json: json!(name.as_str()),
    }
}

/// The RFC 7505 null MX shows its exchange as the root, `.`.
fn show_mx(mx: &Mx) -> Shown {
    let exchange = mx.exchange.as_ref();
    Shown {
        text: format!(
            "{} {}",
            mx.preference,
            exchange.map_or_else(|| ".".to_owned(), presentation_name)
        ),
        json: json!({
            "preference": mx.preference,
            "exchange": exchange.map_or(".", Domain::as_str),
        }),
    }
}

fn show_txt(txt: &Txt) -> Shown {
    let quoted: Vec<String> = txt.strings.iter().map(|s| quote(s)).collect();
    Shown {
        text: quoted.join(" "),
        json: json!({
            // Each character-string in master-file form (lossless for any octet).
            "strings": txt.strings.iter().map(|s| escape(s)).collect::<Vec<_>>(),
            // The joined strings, as the protocols read them (invalid UTF-8 replaced).
            "text": String::from_utf8_lossy(&txt.concat()),
        }),
    }
}

/// A character-string in RFC 1035 §5.1 presentation form, without the quotes: `"` and `\`
/// escaped with `\`, octets outside printable ASCII as `\DDD`.
fn escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out
}

fn quote(s: &[u8]) -> String {
    format!("\"{}\"", escape(s))
}

/// A name in presentation form with its trailing dot; octets that are special in master files
/// are escaped (space and non-printables as `\DDD`).
fn presentation_name(name: &Domain) -> String {
    let mut out = String::with_capacity(name.as_str().len() + 1);
    for label in name.labels() {
        for b in label.bytes() {
            match b {
                b'"' | b'(' | b')' | b';' | b'\\' | b'@' | b'$' => {
                    out.push('\\');
                    out.push(char::from(b));
                }
                0x21..=0x7e => out.push(char::from(b)),
                _ => out.push_str(&format!("\\{b:03}")),
            }
        }
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_give_their_address() {
        let ip = |name: &str| reverse_name_ip(&parse_name(name).unwrap());
        for addr in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::10",
            "::",
            "::1",
        ] {
            let addr: IpAddr = addr.parse().unwrap();
            assert_eq!(reverse_name_ip(&reverse_name(addr)), Some(addr));
        }
        assert_eq!(ip("1.2.0.192.IN-ADDR.ARPA."), "192.0.2.1".parse().ok());
        assert_eq!(
            ip("B.A.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"),
            "4321:0:1:2:3:4:567:89ab".parse().ok()
        );
        for other in [
            "example.com",
            "in-addr.arpa",
            "2.0.192.in-addr.arpa",
            "5.1.2.0.192.in-addr.arpa",
            "01.2.0.192.in-addr.arpa",
            "+1.2.0.192.in-addr.arpa",
            "256.2.0.192.in-addr.arpa",
            "x.2.0.192.in-addr.arpa",
            "1.2.0.192.in-addr.arpa.example",
            "8.b.d.0.1.0.0.2.ip6.arpa",
            "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            "10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
        ] {
            assert_eq!(ip(other), None, "{other}");
        }
    }

    #[test]
    fn escapes_follow_rfc_1035_presentation() {
        assert_eq!(quote(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote(b"\0\r\n\xff"), r#""\000\013\010\255""#);
        assert_eq!(
            presentation_name(&Domain::new("sp ace.a:b.example").unwrap()),
            r"sp\032ace.a:b.example."
        );
    }
}
