//! Record types in a master file: by mnemonic (the IANA "Resource Record (RR) TYPEs" registry) or
//! as `TYPEnnn` (RFC 3597 §5).

use super::lex::{Token, token_text};
use crate::zone::error::{ParseError, ZoneErrorKind};

/// The record types this reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rtype {
    A,
    Aaaa,
    Mx,
    Txt,
    Spf,
    Ptr,
    Cname,
    Ns,
    Soa,
    /// A type known by its mnemonic whose data is not decoded (CAA, SRV, DS, …).
    Opaque(u16),
    Generic(u16),
}

/// The mnemonics of the data types in the IANA "Resource Record (RR) TYPEs" registry (RFC 6895
/// §3.1) that this reader does not decode, with their numbers. A record of one of these types is
/// loaded as [`RecordData::Opaque`]: its data is checked only for being there, then dropped.
/// Query-only and meta types (OPT, TKEY, TSIG, IXFR, AXFR, MAILB, MAILA, ANY) are left out: they
/// never appear in a master file.
const OPAQUE_TYPES: &[(&[u8], u16)] = &[
    (b"MD", 3),
    (b"MF", 4),
    (b"MB", 7),
    (b"MG", 8),
    (b"MR", 9),
    (b"NULL", 10),
    (b"WKS", 11),
    (b"HINFO", 13),
    (b"MINFO", 14),
    (b"RP", 17),
    (b"AFSDB", 18),
    (b"X25", 19),
    (b"ISDN", 20),
    (b"RT", 21),
    (b"NSAP", 22),
    (b"NSAP-PTR", 23),
    (b"SIG", 24),
    (b"KEY", 25),
    (b"PX", 26),
    (b"GPOS", 27),
    (b"LOC", 29),
    (b"NXT", 30),
    (b"EID", 31),
    (b"NIMLOC", 32),
    (b"SRV", 33),
    (b"ATMA", 34),
    (b"NAPTR", 35),
    (b"KX", 36),
    (b"CERT", 37),
    (b"A6", 38),
    (b"DNAME", 39),
    (b"SINK", 40),
    (b"APL", 42),
    (b"DS", 43),
    (b"SSHFP", 44),
    (b"IPSECKEY", 45),
    (b"RRSIG", 46),
    (b"NSEC", 47),
    (b"DNSKEY", 48),
    (b"DHCID", 49),
    (b"NSEC3", 50),
    (b"NSEC3PARAM", 51),
    (b"TLSA", 52),
    (b"SMIMEA", 53),
    (b"HIP", 55),
    (b"NINFO", 56),
    (b"RKEY", 57),
    (b"TALINK", 58),
    (b"CDS", 59),
    (b"CDNSKEY", 60),
    (b"OPENPGPKEY", 61),
    (b"CSYNC", 62),
    (b"ZONEMD", 63),
    (b"SVCB", 64),
    (b"HTTPS", 65),
    (b"DSYNC", 66),
    (b"HHIT", 67),
    (b"BRID", 68),
    (b"UINFO", 100),
    (b"UID", 101),
    (b"GID", 102),
    (b"UNSPEC", 103),
    (b"NID", 104),
    (b"L32", 105),
    (b"L64", 106),
    (b"LP", 107),
    (b"EUI48", 108),
    (b"EUI64", 109),
    (b"URI", 256),
    (b"CAA", 257),
    (b"AVC", 258),
    (b"DOA", 259),
    (b"AMTRELAY", 260),
    (b"RESINFO", 261),
    (b"WALLET", 262),
    (b"CLA", 263),
    (b"IPN", 264),
    (b"TA", 32768),
    (b"DLV", 32769),
];

/// APL (RFC 3123 §4) is the one type above whose presentation form may have no data at all.
pub(super) const APL: u16 = 42;

pub(super) fn parse_rtype(tok: &Token<'_>) -> Result<Rtype, ParseError> {
    let upper = tok.raw.to_ascii_uppercase();
    Ok(match &upper[..] {
        b"A" => Rtype::A,
        b"AAAA" => Rtype::Aaaa,
        b"MX" => Rtype::Mx,
        b"TXT" => Rtype::Txt,
        b"SPF" => Rtype::Spf,
        b"PTR" => Rtype::Ptr,
        b"CNAME" => Rtype::Cname,
        b"NS" => Rtype::Ns,
        b"SOA" => Rtype::Soa,
        other => {
            if let Some(&(_, n)) = OPAQUE_TYPES.iter().find(|(m, _)| *m == other) {
                return Ok(Rtype::Opaque(n));
            }
            // RFC 3597 §5: "TYPE" immediately followed by the decimal type number.
            if let Some(num) = other.strip_prefix(b"TYPE")
                && !num.is_empty()
                && num.iter().all(u8::is_ascii_digit)
                && let Some(n) = std::str::from_utf8(num)
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok())
            {
                return Ok(match n {
                    1 => Rtype::A,
                    28 => Rtype::Aaaa,
                    15 => Rtype::Mx,
                    16 => Rtype::Txt,
                    99 => Rtype::Spf,
                    12 => Rtype::Ptr,
                    5 => Rtype::Cname,
                    2 => Rtype::Ns,
                    6 => Rtype::Soa,
                    n => Rtype::Generic(n),
                });
            }
            return Err((
                tok.line,
                ZoneErrorKind::UnsupportedType {
                    rtype: token_text(tok),
                },
            ));
        }
    })
}

impl Rtype {
    /// The mnemonic, or `TYPEnnn` (RFC 3597 §5) for a type known only by its number.
    pub(super) fn name(self) -> String {
        match self {
            Self::A => "A".into(),
            Self::Aaaa => "AAAA".into(),
            Self::Mx => "MX".into(),
            Self::Txt => "TXT".into(),
            Self::Spf => "SPF".into(),
            Self::Ptr => "PTR".into(),
            Self::Cname => "CNAME".into(),
            Self::Ns => "NS".into(),
            Self::Soa => "SOA".into(),
            Self::Opaque(n) => OPAQUE_TYPES.iter().find(|(_, t)| *t == n).map_or_else(
                || format!("TYPE{n}"),
                |(m, _)| String::from_utf8_lossy(m).into(),
            ),
            Self::Generic(n) => format!("TYPE{n}"),
        }
    }
}
