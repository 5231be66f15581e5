//! RDATA in a master file: the data of one record, in its type's presentation form (RFC 1035
//! §3.3, RFC 3596 §2.4, RFC 7505) or the generic form of RFC 3597 §5.

use std::net::{Ipv4Addr, Ipv6Addr};

use mailward_types::Domain;
use mailward_types::dns::{Mx, Txt};

use super::lex::{Token, decode_escapes};
use super::name::parse_name_token;
use super::rtype::{APL, Rtype};
use super::ttl::parse_ttl;
use crate::zone::error::{ParseError, ZoneErrorKind};
use crate::zone::limits::{MAX_CHARACTER_STRING, MAX_RDATA_LEN};
use crate::zone::record::{RecordData, Soa};

/// The data of a record of type `rtype` from its tokens, in the type's presentation form or the
/// RFC 3597 §5 generic form; relative names are completed with `origin`.
pub(super) fn parse_rdata(
    rtype: Rtype,
    rd: &[Token<'_>],
    line: usize,
    origin: Option<&Domain>,
) -> Result<RecordData, ParseError> {
    let bad = invalid(rtype, line);
    if let Some(first) = rd.first()
        && !first.quoted
        && first.raw == b"\\#"
    {
        return generic_rdata(rtype, rd, line);
    }
    match rtype {
        Rtype::A => {
            let [tok] = rd else {
                return Err(bad("expected one IPv4 address"));
            };
            let ip = parse_text::<Ipv4Addr>(tok.raw).ok_or_else(|| bad("not an IPv4 address"))?;
            Ok(RecordData::A(ip))
        }
        Rtype::Aaaa => {
            let [tok] = rd else {
                return Err(bad("expected one IPv6 address"));
            };
            let ip = parse_text::<Ipv6Addr>(tok.raw).ok_or_else(|| bad("not an IPv6 address"))?;
            Ok(RecordData::Aaaa(ip))
        }
        Rtype::Mx => {
            let [pref, exchange] = rd else {
                return Err(bad("expected a preference and an exchange name"));
            };
            let preference = parse_u16(pref.raw).ok_or_else(|| bad("bad preference"))?;
            if !exchange.quoted && exchange.raw == b"." {
                // RFC 7505 null MX (`MX 0 .`, "no mail here"): the exchange is the root.
                return Ok(RecordData::Mx(Mx::null(preference)));
            }
            let exchange = parse_name_token(exchange.raw, exchange.line, origin)?;
            Ok(RecordData::Mx(Mx::new(preference, exchange)))
        }
        Rtype::Ptr | Rtype::Cname | Rtype::Ns => {
            let [tok] = rd else {
                return Err(bad("expected one domain name"));
            };
            let target = parse_name_token(tok.raw, tok.line, origin)?;
            Ok(match rtype {
                Rtype::Ptr => RecordData::Ptr(target),
                Rtype::Cname => RecordData::Cname(target),
                _ => RecordData::Ns(target),
            })
        }
        Rtype::Txt | Rtype::Spf => {
            if rd.is_empty() {
                return Err(bad("expected at least one character-string"));
            }
            let mut strings = Vec::with_capacity(rd.len());
            let mut wire_len = 0usize;
            for tok in rd {
                let s: Vec<u8> = decode_escapes(tok.raw, tok.line)?
                    .into_iter()
                    .map(|(b, _)| b)
                    .collect();
                // RFC 1035 §3.3: "<character-string> is a single length octet followed
                // by that number of characters".
                if s.len() > MAX_CHARACTER_STRING {
                    return Err((
                        tok.line,
                        ZoneErrorKind::StringTooLong {
                            len: s.len(),
                            limit: MAX_CHARACTER_STRING,
                        },
                    ));
                }
                wire_len += 1 + s.len();
                if wire_len > MAX_RDATA_LEN {
                    return Err((
                        tok.line,
                        ZoneErrorKind::RdataTooLong {
                            limit: MAX_RDATA_LEN,
                        },
                    ));
                }
                strings.push(s);
            }
            Ok(txt_data(rtype, strings))
        }
        Rtype::Soa => {
            let [mname, rname, serial, refresh, retry, expire, minimum] = rd else {
                return Err(bad(
                    "expected MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM",
                ));
            };
            let mname = parse_name_token(mname.raw, mname.line, origin)?;
            let rname = parse_name_token(rname.raw, rname.line, origin)?;
            let serial = parse_text::<u32>(serial.raw).ok_or_else(|| bad("bad serial"))?;
            let time = |t: &Token<'_>| parse_ttl(t.raw).ok_or_else(|| bad("bad time value"));
            Ok(RecordData::Soa(Soa {
                mname,
                rname,
                serial,
                refresh: time(refresh)?,
                retry: time(retry)?,
                expire: time(expire)?,
                minimum: time(minimum)?,
            }))
        }
        Rtype::Opaque(n) => {
            if rd.is_empty() && n != APL {
                return Err(bad("missing record data"));
            }
            Ok(RecordData::Opaque { rtype: n })
        }
        Rtype::Generic(_) => Err(bad("generic types need the RFC 3597 \\# form")),
    }
}

/// RFC 3597 §5: `\# <length> <hex words>`.
fn generic_rdata(rtype: Rtype, rd: &[Token<'_>], line: usize) -> Result<RecordData, ParseError> {
    let bad = invalid(rtype, line);
    let Some(len_tok) = rd.get(1) else {
        return Err(bad("\\# needs a length"));
    };
    let len = parse_text::<usize>(len_tok.raw)
        .filter(|&l| l <= MAX_RDATA_LEN)
        .ok_or_else(|| bad("bad \\# length"))?;
    let mut hex = Vec::with_capacity(len * 2);
    for tok in rd.get(2..).unwrap_or_default() {
        if hex.len() > 2 * MAX_RDATA_LEN {
            return Err(bad("\\# data longer than its length"));
        }
        hex.extend_from_slice(tok.raw);
    }
    if hex.len() != len * 2 {
        return Err(bad("\\# data does not match its length"));
    }
    let mut bytes = Vec::with_capacity(len);
    for pair in hex.chunks_exact(2) {
        let [hi, lo] = pair else {
            return Err(bad("bad hex"));
        };
        let hi = hex_val(*hi).ok_or_else(|| bad("bad hex"))?;
        let lo = hex_val(*lo).ok_or_else(|| bad("bad hex"))?;
        bytes.push((hi << 4) | lo);
    }
    match rtype {
        Rtype::Generic(t) | Rtype::Opaque(t) => Ok(RecordData::Unknown {
            rtype: t,
            data: bytes,
        }),
        Rtype::A => {
            let octets: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| bad("A RDATA is 4 octets"))?;
            Ok(RecordData::A(Ipv4Addr::from(octets)))
        }
        Rtype::Aaaa => {
            let octets: [u8; 16] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| bad("AAAA RDATA is 16 octets"))?;
            Ok(RecordData::Aaaa(Ipv6Addr::from(octets)))
        }
        Rtype::Txt | Rtype::Spf => {
            let mut strings = Vec::new();
            let mut rest = bytes.as_slice();
            while let Some((&n, tail)) = rest.split_first() {
                let n = usize::from(n);
                let s = tail
                    .get(..n)
                    .ok_or_else(|| bad("truncated character-string"))?;
                strings.push(s.to_vec());
                rest = tail.get(n..).unwrap_or_default();
            }
            if strings.is_empty() {
                return Err(bad("TXT RDATA needs at least one character-string"));
            }
            Ok(txt_data(rtype, strings))
        }
        _ => Err(bad(
            "the \\# form is only supported for A, AAAA, TXT, SPF and unknown types",
        )),
    }
}

/// The error of an RDATA of type `rtype` on `line` that is not valid, for `reason`.
fn invalid(rtype: Rtype, line: usize) -> impl Fn(&'static str) -> ParseError {
    let name = rtype.name();
    move |reason| {
        (
            line,
            ZoneErrorKind::InvalidRdata {
                rtype: name.clone(),
                reason,
            },
        )
    }
}

/// A token read as text: an address, a serial, a length.
fn parse_text<T: std::str::FromStr>(raw: &[u8]) -> Option<T> {
    std::str::from_utf8(raw).ok()?.parse().ok()
}

/// The record of a TXT or SPF record (`rtype`) with `strings`.
fn txt_data(rtype: Rtype, strings: Vec<Vec<u8>>) -> RecordData {
    let txt = Txt::new(strings);
    if rtype == Rtype::Txt {
        RecordData::Txt(txt)
    } else {
        RecordData::Spf(txt)
    }
}

fn parse_u16(raw: &[u8]) -> Option<u16> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
