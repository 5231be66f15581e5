//! `ZoneResolver`: master-file reading (RFC 1035 §5) and answers (RFC 1034 §4.3.2, RFC 2308,
//! RFC 4592, RFC 8020). Expected values are worked out by hand from the zone text next to them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_dns::zone::{MAX_RECORDS, MAX_ZONE_FILE_SIZE, QueryType};
use mailward_dns::{RecordData, ZoneErrorKind, ZoneResolver};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, Mx, Resolver};
use pollster::block_on;

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

fn err(text: &str) -> (usize, ZoneErrorKind) {
    let e = ZoneResolver::parse(text, "example.com").unwrap_err();
    assert_eq!(e.file, "<string>");
    (e.line, e.kind)
}

const ZONE: &str = r#"
; A zone exercising the master-file syntax.
$ORIGIN example.com.
$TTL 3600
@   IN  SOA ns1 hostmaster (
            2026112801 ; serial
            7200       ; refresh
            900 1209600
            300 )      ; minimum
    IN  NS  ns1
ns1     A   192.0.2.53
www 600 IN A 192.0.2.1
www IN 700 AAAA 2001:db8::1
        MX  10 mail.example.com.
mail    A   192.0.2.25
        A   192.0.2.26
txt     TXT "v=spf1 " "ip4:192.0.2.0/24" -all
        TXT one\ word "\"quoted\"" "semi;colon" "back\\slash"
bin     TXT "\000\013\010\255end" "caf\195\169"
spf     SPF "v=spf1 -all"
alias   CNAME www
alias2  CNAME alias
loop1   CNAME loop2
loop2   CNAME loop1
dangling CNAME nowhere
a.b.c.deep TXT "deep"
*.wild  TXT "wildcard"
*.wild  A 192.0.2.99
sp\032ace TXT "space"
a\:b/c%d TXT "odd"
_dmarc  TXT ( "v=DMARC1; p=reject; "
              "rua=mailto:d@example.com" )
mixed   TXT "a" b
$ORIGIN 2.0.192.in-addr.arpa.
1       PTR www.example.com.
25      PTR mail.example.com.
outside.example.org. 60 TXT "absolute"
"#;

fn zone() -> ZoneResolver {
    ZoneResolver::parse(ZONE, "").unwrap()
}

#[test]
fn basic_answers_and_ttls() {
    let z = zone();
    let a = block_on(z.a(&d("www.example.com"))).unwrap();
    assert_eq!(a.records, [Ipv4Addr::new(192, 0, 2, 1)]);
    assert_eq!(a.ttl, 600);
    let aaaa = block_on(z.aaaa(&d("www.example.com"))).unwrap();
    assert_eq!(aaaa.records, ["2001:db8::1".parse::<Ipv6Addr>().unwrap()]);
    assert_eq!(aaaa.ttl, 700);
    // The MX line has a blank owner: it belongs to www, and the TTL is $TTL (not the 700 of the
    // line before: $TTL takes precedence, RFC 2308 §4).
    let mx = block_on(z.mx(&d("www.example.com"))).unwrap();
    assert_eq!(mx.records[0].preference, 10);
    assert_eq!(mx.records[0].exchange, Some(d("mail.example.com")));
    assert_eq!(mx.ttl, 3600);
    let two = block_on(z.a(&d("mail.example.com"))).unwrap();
    assert_eq!(two.len(), 2);
    let t = block_on(z.txt(&d("outside.example.org"))).unwrap();
    assert_eq!(t.ttl, 60);
}

#[test]
fn txt_strings_keep_every_octet() {
    let z = zone();
    let txt = block_on(z.txt(&d("txt.example.com"))).unwrap();
    assert_eq!(txt.len(), 2);
    assert_eq!(
        txt[0].strings,
        [
            b"v=spf1 ".to_vec(),
            b"ip4:192.0.2.0/24".to_vec(),
            b"-all".to_vec()
        ]
    );
    assert_eq!(
        txt[1].strings,
        [
            b"one word".to_vec(),
            b"\"quoted\"".to_vec(),
            b"semi;colon".to_vec(),
            b"back\\slash".to_vec()
        ]
    );
    let bin = block_on(z.txt(&d("bin.example.com"))).unwrap();
    // \000 NUL, \013 CR, \010 LF, \255 a non-UTF-8 octet; \195\169 is "é" in UTF-8.
    assert_eq!(bin[0].strings[0], b"\0\r\n\xffend");
    assert_eq!(bin[0].strings[1], "café".as_bytes());
    let dmarc = block_on(z.txt(&d("_dmarc.example.com"))).unwrap();
    assert_eq!(
        dmarc[0].concat(),
        b"v=DMARC1; p=reject; rua=mailto:d@example.com"
    );
    let mixed = block_on(z.txt(&d("mixed.example.com"))).unwrap();
    assert_eq!(mixed[0].strings, [b"a".to_vec(), b"b".to_vec()]);
}

#[test]
fn spf_type_99_loads_but_is_never_a_txt_answer() {
    let z = zone();
    assert_eq!(
        block_on(z.txt(&d("spf.example.com"))),
        Err(DnsError::NODATA)
    );
    assert!(matches!(
        z.records(&d("spf.example.com"))[0].data,
        RecordData::Spf(_)
    ));
}

#[test]
fn negative_answers() {
    let z = zone();
    // Absent name: NXDOMAIN, with the negative TTL min(SOA TTL 3600, MINIMUM 300) = 300.
    let nx = block_on(z.txt(&d("nope.example.com"))).unwrap_err();
    assert!(matches!(
        nx,
        DnsError::NxDomain {
            negative_ttl: Some(300)
        }
    ));
    // Present without the type: NODATA.
    let nodata = block_on(z.txt(&d("www.example.com"))).unwrap_err();
    assert!(matches!(
        nodata,
        DnsError::NoData {
            negative_ttl: Some(300)
        }
    ));
    // Empty non-terminals (b.c.deep, c.deep, deep) exist: NODATA, RFC 8020.
    for ent in [
        "b.c.deep.example.com",
        "c.deep.example.com",
        "deep.example.com",
    ] {
        assert_eq!(block_on(z.txt(&d(ent))), Err(DnsError::NODATA), "{ent}");
    }
    assert_eq!(
        block_on(z.txt(&d("x.a.b.c.deep.example.com"))),
        Err(DnsError::NXDOMAIN)
    );
    // Outside any SOA: no negative TTL.
    let nx = block_on(z.txt(&d("nothing.example.net"))).unwrap_err();
    assert!(matches!(nx, DnsError::NxDomain { negative_ttl: None }));
}

#[test]
fn cnames_are_chased_with_loop_detection() {
    let z = zone();
    let a = block_on(z.a(&d("alias2.example.com"))).unwrap();
    assert_eq!(a.records, [Ipv4Addr::new(192, 0, 2, 1)]);
    // min(CNAME 3600, CNAME 3600, A 600)
    assert_eq!(a.ttl, 600);
    assert_eq!(
        block_on(z.txt(&d("alias.example.com"))),
        Err(DnsError::NODATA)
    );
    assert_eq!(
        block_on(z.a(&d("loop1.example.com"))),
        Err(DnsError::ServFail)
    );
    assert_eq!(
        block_on(z.a(&d("dangling.example.com"))),
        Err(DnsError::NXDOMAIN)
    );
}

#[test]
fn cname_chain_limit() {
    let mut text = String::from("$TTL 60\n");
    for i in 0..20 {
        text.push_str(&format!("c{i} CNAME c{}\n", i + 1));
    }
    text.push_str("c20 A 192.0.2.1\n");
    let z = ZoneResolver::parse(&text, "example.com").unwrap();
    // c12 → c20 is 8 CNAMEs: allowed; c11 needs 9.
    assert!(block_on(z.a(&d("c12.example.com"))).is_ok());
    assert_eq!(
        block_on(z.a(&d("c11.example.com"))),
        Err(DnsError::ServFail)
    );
}

#[test]
fn wildcards_rfc_4592() {
    let z = zone();
    let t = block_on(z.txt(&d("anything.wild.example.com"))).unwrap();
    assert_eq!(t[0].concat(), b"wildcard");
    let a = block_on(z.a(&d("x.y.wild.example.com"))).unwrap();
    assert_eq!(a.records, [Ipv4Addr::new(192, 0, 2, 99)]);
    assert_eq!(
        block_on(z.mx(&d("m.wild.example.com"))),
        Err(DnsError::NODATA)
    );
    // The wildcard does not cover its own parent (which is an empty non-terminal here).
    assert_eq!(
        block_on(z.txt(&d("wild.example.com"))),
        Err(DnsError::NODATA)
    );
}

#[test]
fn odd_owner_names_load() {
    let z = zone();
    let sp = block_on(z.txt(&d("sp ace.example.com"))).unwrap();
    assert_eq!(sp[0].concat(), b"space");
    let odd = block_on(z.txt(&d("a:b/c%d.example.com"))).unwrap();
    assert_eq!(odd[0].concat(), b"odd");
}

#[test]
fn ptr_by_address() {
    let z = zone();
    let p = block_on(z.ptr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 25)))).unwrap();
    assert_eq!(p.records, [d("mail.example.com")]);
    assert_eq!(
        block_on(z.ptr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)))),
        Err(DnsError::NXDOMAIN)
    );
    let v6 = ZoneResolver::parse(
        "$TTL 60\n1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR host.example.\n",
        "",
    )
    .unwrap();
    let p = block_on(v6.ptr("2001:db8::1".parse().unwrap())).unwrap();
    assert_eq!(p.records, [d("host.example")]);
}

#[test]
fn fault_injection() {
    let z = zone()
        .with_timeout(d("www.example.com"))
        .with_servfail(d("absent.example.com"))
        .with_timeout(d("mail.example.com"));
    // Types the name has still answer.
    assert!(block_on(z.a(&d("www.example.com"))).is_ok());
    // Types it lacks time out instead of NODATA.
    assert_eq!(
        block_on(z.txt(&d("www.example.com"))),
        Err(DnsError::Timeout)
    );
    // A name not in the zone can be marked: SERVFAIL instead of NXDOMAIN.
    assert_eq!(
        block_on(z.txt(&d("absent.example.com"))),
        Err(DnsError::ServFail)
    );
    // Unmarked names are unaffected.
    assert_eq!(
        block_on(z.txt(&d("ns1.example.com"))),
        Err(DnsError::NODATA)
    );
    // Marks apply where the CNAME chain ends: alias → www, TXT missing there.
    assert_eq!(
        block_on(z.txt(&d("alias.example.com"))),
        Err(DnsError::Timeout)
    );
    // Builder and mutating forms agree.
    let mut m = ZoneResolver::new();
    m.mark_servfail(d("x.example"));
    assert_eq!(block_on(m.a(&d("x.example"))), Err(DnsError::ServFail));
}

#[test]
fn generic_rfc_3597_types() {
    let z = ZoneResolver::parse(
        "$TTL 60\n@ TYPE65534 \\# 3 abcdef\n@ CAA-free TXT \\# 4 03616263\n",
        "example.com",
    );
    // "CAA-free" is not a type: the error names it.
    let e = z.unwrap_err();
    assert_eq!(e.line, 3);
    assert!(matches!(e.kind, ZoneErrorKind::UnsupportedType { ref rtype } if rtype == "CAA-free"));
    let z = ZoneResolver::parse(
        "$TTL 60\n@ TYPE65534 \\# 3 abcdef\n@ TXT \\# 4 03616263\nx TYPE1 \\# 4 C0000201\n",
        "example.com",
    )
    .unwrap();
    assert_eq!(
        z.records(&d("example.com"))[0].data,
        RecordData::Unknown {
            rtype: 65534,
            data: vec![0xab, 0xcd, 0xef]
        }
    );
    let t = block_on(z.txt(&d("example.com"))).unwrap();
    assert_eq!(t[0].strings, [b"abc".to_vec()]);
    let a = block_on(z.a(&d("x.example.com"))).unwrap();
    assert_eq!(a.records, [Ipv4Addr::new(192, 0, 2, 1)]);
}

#[test]
fn malformed_files_get_typed_errors_with_lines() {
    use ZoneErrorKind as K;
    type Check = fn(&K) -> bool;
    let cases: Vec<(&str, usize, Check)> = vec![
        ("$TTL 60\nwww A 300.1.2.3\n", 2, |k| {
            matches!(k, K::InvalidRdata { .. })
        }),
        ("$TTL 60\n\nwww AAAA 192.0.2.1\n", 3, |k| {
            matches!(k, K::InvalidRdata { .. })
        }),
        ("$TTL 60\nwww MX mail\n", 2, |k| {
            matches!(k, K::InvalidRdata { .. })
        }),
        ("$TTL 60\nwww TXT \"open\n", 2, |k| {
            matches!(k, K::UnterminatedQuote)
        }),
        ("$TTL 60\nwww TXT ( \"a\"\n\n", 2, |k| {
            matches!(k, K::UnclosedParenthesis)
        }),
        ("$TTL 60\nwww A 192.0.2.1 )\n", 2, |k| {
            matches!(k, K::UnbalancedParenthesis)
        }),
        ("$TTL 60\nwww SRVX 0 0 25 mail\n", 2, |k| {
            matches!(k, K::UnsupportedType { .. })
        }),
        ("$TTL 60\nwww CH TXT \"x\"\n", 2, |k| {
            matches!(k, K::UnsupportedClass { .. })
        }),
        ("$TTL 60\na\\.b TXT \"x\"\n", 2, |k| {
            matches!(k, K::EscapedDotInLabel { .. })
        }),
        ("$TTL 60\na..b TXT \"x\"\n", 2, |k| {
            matches!(k, K::InvalidName { .. })
        }),
        ("$TTL 60\nwww TXT \"\\999\"\n", 2, |k| {
            matches!(k, K::BadEscape)
        }),
        ("$TTL 1y\n", 1, |k| matches!(k, K::InvalidTtl { .. })),
        ("www A 192.0.2.1\n", 1, |k| matches!(k, K::NoTtl)),
        ("$TTL 60\n  A 192.0.2.1\n", 2, |k| {
            matches!(k, K::NoPreviousOwner)
        }),
        ("$TTL 60\nwww 60 IN\n", 2, |k| matches!(k, K::MissingType)),
        ("$INCLUDE other.zone\n", 1, |k| {
            matches!(k, K::IncludeNotSupported)
        }),
        ("$GENERATE 1-2 a$ A 1.2.3.$\n", 1, |k| {
            matches!(k, K::UnknownDirective { .. })
        }),
        ("$ORIGIN\n", 1, |k| matches!(k, K::BadDirective { .. })),
        ("$TTL 60\nw CNAME x\nw A 192.0.2.1\n", 3, |k| {
            matches!(k, K::CnameAndOtherData { .. })
        }),
        ("$TTL 60\nw A 192.0.2.1\nw CNAME x\n", 3, |k| {
            matches!(k, K::CnameAndOtherData { .. })
        }),
        ("$TTL 60\n@ SOA ns host 1 2 3\n", 2, |k| {
            matches!(k, K::InvalidRdata { .. })
        }),
        ("$TTL 60\n@ TYPE99999 \\# 0\n", 2, |k| {
            matches!(k, K::UnsupportedType { .. })
        }),
        ("$TTL 60\n@ TYPE300 \\# 2 abc\n", 2, |k| {
            matches!(k, K::InvalidRdata { .. })
        }),
        ("$TTL 60\n@ TYPE300 1 2\n", 2, |k| {
            matches!(k, K::InvalidRdata { .. })
        }),
    ];
    for (text, line, check) in cases {
        let (got_line, kind) = err(text);
        assert_eq!(got_line, line, "{text:?}: {kind}");
        assert!(check(&kind), "{text:?}: {kind:?}");
    }
    // Relative names need an origin.
    let e = ZoneResolver::parse("$TTL 60\nwww A 192.0.2.1\n", "").unwrap_err();
    assert!(matches!(e.kind, ZoneErrorKind::NoOrigin { .. }));
    assert_eq!(
        e.to_string(),
        "<string>:2: relative name 'www' but no $ORIGIN and no origin given"
    );
}

#[test]
fn limits_are_enforced() {
    // A character-string of 256 octets (RFC 1035 §3.3: one length octet).
    let long = "x".repeat(256);
    let (line, kind) = err(&format!("$TTL 60\n\n@ TXT \"{long}\"\n"));
    assert_eq!(line, 3);
    assert!(matches!(
        kind,
        ZoneErrorKind::StringTooLong {
            len: 256,
            limit: 255
        }
    ));
    let ok = "x".repeat(255);
    assert!(ZoneResolver::parse(&format!("$TTL 60\n@ TXT \"{ok}\"\n"), "example.com").is_ok());
    // 300 strings of 255 octets: 76 800 octets of RDATA, more than RDLENGTH allows.
    let many = format!("\"{ok}\" ").repeat(300);
    let (_, kind) = err(&format!("$TTL 60\n@ TXT {many}\n"));
    assert!(matches!(
        kind,
        ZoneErrorKind::RdataTooLong { limit: 65_535 }
    ));
    // A file over the size limit is refused before it is read.
    let huge = ";".repeat(MAX_ZONE_FILE_SIZE + 1);
    let (line, kind) = err(&huge);
    assert_eq!(line, 0);
    assert!(matches!(kind, ZoneErrorKind::FileTooLarge { .. }));
}

#[test]
fn record_count_limit() {
    let mut text = String::with_capacity((MAX_RECORDS + 1) * 24);
    text.push_str("$TTL 60\n");
    for i in 0..=MAX_RECORDS {
        text.push_str(&format!("h{i} A 192.0.2.1\n"));
    }
    let (line, kind) = err(&text);
    assert_eq!(line, MAX_RECORDS + 2);
    assert!(matches!(kind, ZoneErrorKind::TooManyRecords { .. }));
}

#[test]
fn files_merge_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("mailward-dns-zone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = dir.join("one.zone");
    let two = dir.join("two.zone");
    let bad = dir.join("bad.zone");
    std::fs::write(&one, "$ORIGIN example.com.\n$TTL 60\n@ TXT \"one\"\n").unwrap();
    std::fs::write(&two, "$ORIGIN example.org.\n$TTL 60\n@ TXT \"two\"\n").unwrap();
    std::fs::write(&bad, "$ORIGIN example.net.\n$TTL 60\n\n@ A 1.2.3\n").unwrap();
    let z = ZoneResolver::from_files([&one, &two]).unwrap();
    assert_eq!(z.len(), 2);
    assert!(block_on(z.txt(&d("example.com"))).is_ok());
    assert!(block_on(z.txt(&d("example.org"))).is_ok());
    let e = ZoneResolver::from_files([&one, &bad]).unwrap_err();
    assert_eq!(e.line, 4);
    assert_eq!(e.file, bad.display().to_string());
    assert!(
        e.to_string()
            .starts_with(&format!("{}:4: invalid A data", bad.display()))
    );
    let missing = ZoneResolver::from_file(dir.join("missing.zone")).unwrap_err();
    assert!(matches!(missing.kind, ZoneErrorKind::Io(_)));
    // The I/O error is the source, not part of the message: a chain prints it once.
    let source = std::error::Error::source(&missing).unwrap();
    assert!(source.downcast_ref::<std::io::Error>().is_some());
    assert_eq!(
        missing.to_string(),
        format!(
            "{}: cannot read the file",
            dir.join("missing.zone").display()
        )
    );
    assert!(!missing.to_string().contains(&source.to_string()));
    assert!(std::error::Error::source(&missing.kind).is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sync_lookup_and_names() {
    let z = zone();
    let l = z.lookup(&d("alias.example.com"), QueryType::A).unwrap();
    assert_eq!(l.records, [RecordData::A(Ipv4Addr::new(192, 0, 2, 1))]);
    assert!(z.names().any(|n| n.as_str() == "sp ace.example.com"));
    assert!(!z.is_empty());
}

#[test]
fn ttl_defaults_follow_rfc_1035_without_dollar_ttl() {
    // No $TTL: an omitted TTL is the last one stated (RFC 1035 §5.1).
    let z = ZoneResolver::parse(
        "a 120 A 192.0.2.1\nb A 192.0.2.2\nc 1h TXT x\n",
        "example.com",
    )
    .unwrap();
    assert_eq!(block_on(z.a(&d("b.example.com"))).unwrap().ttl, 120);
    assert_eq!(block_on(z.txt(&d("c.example.com"))).unwrap().ttl, 3600);
}

/// Real zone files hold types this reader does not decode. Each line below is in the
/// presentation form of its RFC (CAA RFC 8659 §4.1, SRV RFC 2782, DS RFC 4034 §5.3, TLSA RFC
/// 6698 §2.2, HINFO RFC 1035 §3.3.2, RRSIG RFC 4034 §3.2, DNSKEY RFC 4034 §2.2, NAPTR RFC 3403
/// §4, SSHFP RFC 4255 §3.2, CDS RFC 7344 §3.2, HTTPS/SVCB RFC 9460 §2.1, URI RFC 7553 §4.4, LOC
/// RFC 1876 §3, NSEC RFC 4034 §4.2, DNAME RFC 6672 §2.1, OPENPGPKEY RFC 7929 §2.3). They load,
/// are never answered, and still make their owner exist.
#[test]
fn known_types_are_loaded_without_their_data() {
    let text = r#"$TTL 60
@        SOA     ns host 1 7200 900 1209600 30
@        TXT     "v=spf1 -all"
@        CAA     0 issue "ca.example.net"
_sip._tcp SRV    10 60 5060 sip
@        DS      60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
_25._tcp.mail TLSA 3 1 1 ( 0C72AC70B745AC19998811B131D662C9
                            AC69DBDBE7CB23E5B514B56664C5D3D6 )
host     HINFO   "PC" "Linux"
@        RRSIG   TXT 8 2 60 20260101000000 20251201000000 12345 example.com. AAAA
@        DNSKEY  257 3 8 AwEAAag=
naptr    NAPTR   100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .
host     SSHFP   4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
@        CDS     60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
svc      HTTPS   1 . alpn=h2
svc2     SVCB    0 svc
_ftp._tcp URI    10 1 "ftp://ftp1.example.com/public"
loc      LOC     52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
@        NSEC    host A TXT RRSIG NSEC
old      DNAME   new.example.net.
key      OPENPGPKEY AQID
caa2     caa     0 iodef "mailto:x@example.com"
rfc3597  CAA     \# 5 0003616263
"#;
    let z = ZoneResolver::parse(text, "example.com").unwrap();
    // The apex answers its TXT as before.
    let t = block_on(z.txt(&d("example.com"))).unwrap();
    assert_eq!(t[0].concat(), b"v=spf1 -all");
    // Names holding only undecoded types exist: NODATA (SOA minimum 30), not NXDOMAIN.
    for name in [
        "_sip._tcp.example.com",
        "_25._tcp.mail.example.com",
        "host.example.com",
        "naptr.example.com",
        "svc.example.com",
        "svc2.example.com",
        "_ftp._tcp.example.com",
        "loc.example.com",
        "old.example.com",
        "key.example.com",
        "caa2.example.com",
        "rfc3597.example.com",
    ] {
        assert_eq!(
            block_on(z.txt(&d(name))),
            Err(DnsError::NoData {
                negative_ttl: Some(30)
            }),
            "{name}"
        );
        assert_eq!(
            block_on(z.mx(&d(name))),
            Err(DnsError::NoData {
                negative_ttl: Some(30)
            }),
            "{name}"
        );
    }
    // Empty non-terminals above them too; absent names are still NXDOMAIN.
    assert!(block_on(z.a(&d("_tcp.example.com"))).unwrap_err().is_void());
    assert!(
        block_on(z.a(&d("nope.example.com")))
            .unwrap_err()
            .is_nxdomain()
    );
    // The types are known by number: CAA is 257 (RFC 8659 §4), SRV 33 (RFC 2782).
    let rtypes =
        |n: &str| -> Vec<u16> { z.records(&d(n)).iter().map(|r| r.data.rtype()).collect() };
    assert_eq!(rtypes("caa2.example.com"), [257]);
    assert_eq!(rtypes("_sip._tcp.example.com"), [33]);
    assert_eq!(rtypes("host.example.com"), [13, 44]);
    // The RFC 3597 form keeps the octets.
    assert_eq!(
        z.records(&d("rfc3597.example.com"))[0].data,
        RecordData::Unknown {
            rtype: 257,
            data: b"\0\x03abc".to_vec()
        }
    );
}

#[test]
fn known_types_still_need_data_and_real_names() {
    use ZoneErrorKind as K;
    // A type word that is neither a known mnemonic nor TYPEnnn is still an error.
    let (line, kind) = err("$TTL 60\nwww CAAA 0 issue \"x\"\n");
    assert_eq!(line, 2);
    assert!(
        matches!(kind, K::UnsupportedType { ref rtype } if rtype == "CAAA"),
        "{kind:?}"
    );
    // A known type without any data is not a plausible record.
    let (line, kind) = err("$TTL 60\nwww CAA\n");
    assert_eq!(line, 2);
    assert!(matches!(kind, K::InvalidRdata { .. }), "{kind:?}");
    // Query-only and meta types never appear in a zone file (RFC 6895 §3.1).
    for t in ["AXFR", "IXFR", "OPT", "TSIG", "MAILB"] {
        let (_, kind) = err(&format!("$TTL 60\nwww {t} 1\n"));
        assert!(matches!(kind, K::UnsupportedType { .. }), "{t}: {kind:?}");
    }
}

/// RFC 2181 §10.1 and RFC 4035 §2.5: DNSSEC records (RRSIG, NSEC, and the older SIG, NXT, KEY)
/// may sit next to a CNAME; anything else may not.
#[test]
fn dnssec_records_may_sit_next_to_a_cname() {
    let z = ZoneResolver::parse(
        "$TTL 60\nw CNAME x\nw RRSIG CNAME 8 3 60 20260101000000 20251201000000 1 example.com. AAAA\n\
         w NSEC x CNAME RRSIG NSEC\nx A 192.0.2.1\n",
        "example.com",
    )
    .unwrap();
    let a = block_on(z.a(&d("w.example.com"))).unwrap();
    assert_eq!(a.records, [Ipv4Addr::new(192, 0, 2, 1)]);
    let (line, kind) = err("$TTL 60\nw CNAME x\nw CAA 0 issue \"ca\"\n");
    assert_eq!(line, 3);
    assert!(
        matches!(kind, ZoneErrorKind::CnameAndOtherData { .. }),
        "{kind:?}"
    );
}

/// RFC 7505 §3: the null MX, `MX 0 .`, says a domain accepts no mail: it loads and is answered
/// as an MX record without exchange.
#[test]
fn null_mx_loads() {
    let z = ZoneResolver::parse(
        "$TTL 60\n@ SOA ns host 1 7200 900 1209600 30\nnomail MX 0 .\nnomail2 MX 0 .\n  TXT \"t\"\n",
        "example.com",
    )
    .unwrap();
    for name in ["nomail.example.com", "nomail2.example.com"] {
        assert_eq!(
            block_on(z.mx(&d(name))).unwrap().records,
            [Mx::null(0)],
            "{name}"
        );
    }
    assert_eq!(
        block_on(z.a(&d("nomail.example.com"))),
        Err(DnsError::NoData {
            negative_ttl: Some(30)
        })
    );
    assert_eq!(
        block_on(z.txt(&d("nomail2.example.com"))).unwrap()[0].concat(),
        b"t"
    );
    // The root is still refused where a name is needed.
    let (line, kind) = err("$TTL 60\nw CNAME .\n");
    assert_eq!(line, 2);
    assert!(
        matches!(kind, ZoneErrorKind::InvalidName { .. }),
        "{kind:?}"
    );
}

/// RFC 8020: a name exists when it or a name below it holds records. Labels that extend one
/// another (`b`, `b-c`, `b/c`, `bc`) or sort around `.` must not make a sibling exist.
#[test]
fn empty_non_terminals_are_found_by_whole_labels() {
    let z = ZoneResolver::parse(
        "$TTL 60\n@ SOA ns host 1 7200 900 1209600 30\nx.b-c A 192.0.2.1\nx.b/c A 192.0.2.2\n\
         x.bc A 192.0.2.3\ny.x.b\\032c A 192.0.2.4\nx.b.z A 192.0.2.5\n",
        "example.com",
    )
    .unwrap();
    let nodata = Err(DnsError::NoData {
        negative_ttl: Some(30),
    });
    let nxdomain = Err(DnsError::NxDomain {
        negative_ttl: Some(30),
    });
    for name in [
        "b-c.example.com",
        "b/c.example.com",
        "bc.example.com",
        "x.b c.example.com",
        "b c.example.com",
        "b.z.example.com",
        "z.example.com",
    ] {
        assert_eq!(block_on(z.a(&d(name))), nodata, "{name}");
    }
    for name in [
        "b.example.com",
        "x.b.example.com",
        "c.example.com",
        "y.b c.example.com",
        "b-.example.com",
        "x.b.example.com",
        "b.example.co",
    ] {
        let r = block_on(z.a(&d(name)));
        if name == "b.example.co" {
            assert_eq!(r, Err(DnsError::NXDOMAIN), "{name}");
        } else {
            assert_eq!(r, nxdomain, "{name}");
        }
    }
}

/// Every lookup of one resolver: each type at each name, with the full error (TTLs included).
async fn answers<R: Resolver + ?Sized>(r: &R, names: &[Domain], ips: &[IpAddr]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        out.push(format!("{n} TXT {:?}", r.txt(n).await));
        out.push(format!("{n} A {:?}", r.a(n).await));
        out.push(format!("{n} AAAA {:?}", r.aaaa(n).await));
        out.push(format!("{n} MX {:?}", r.mx(n).await));
    }
    for ip in ips {
        out.push(format!("{ip} PTR {:?}", r.ptr(*ip).await));
    }
    out
}

/// A resolver chosen at run time (`Box`/`Arc<dyn DynResolver>`) answers exactly as the resolver
/// it wraps: records, TTLs, negative TTLs, CNAME chains, wildcards and injected faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boxed_resolver_answers_as_the_unboxed_one() {
    use std::sync::Arc;

    use mailward_types::dns::DynResolver;

    let faulty = || {
        let mut z = zone();
        z.mark_timeout(d("slow.example.com"));
        z.mark_servfail(d("broken.example.com"));
        z
    };
    let names: Vec<Domain> = [
        "www.example.com",
        "mail.example.com",
        "alias2.example.com",
        "loop1.example.com",
        "x.wild.example.com",
        "txt.example.com",
        "_dmarc.example.com",
        "nothing.example.com",
        "c.deep.example.com",
        "slow.example.com",
        "broken.example.com",
    ]
    .iter()
    .map(|n| d(n))
    .collect();
    let ips: Vec<IpAddr> = ["192.0.2.1", "192.0.2.25", "192.0.2.2", "2001:db8::1"]
        .iter()
        .map(|ip| ip.parse().unwrap())
        .collect();

    let expected = answers(&faulty(), &names, &ips).await;
    assert!(expected.iter().any(|l| l.contains("Timeout")));
    assert!(expected.iter().any(|l| l.contains("negative_ttl: Some")));

    let boxed: Box<dyn DynResolver> = Box::new(faulty());
    assert_eq!(answers(&boxed, &names, &ips).await, expected);
    assert_eq!(answers(&*boxed, &names, &ips).await, expected);

    // Shared with tasks on other worker threads: the trait object and its futures are Send.
    let shared: Arc<dyn DynResolver> = Arc::from(boxed);
    let task = {
        let shared = Arc::clone(&shared);
        let (names, ips) = (names.clone(), ips.clone());
        tokio::spawn(async move { answers(&shared, &names, &ips).await })
    };
    assert_eq!(task.await.unwrap(), expected);
}
