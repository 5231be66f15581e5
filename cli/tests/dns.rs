//! `mailward dns` end to end on `examples/example.zone`: output format, negative answers, fault
//! injection, JSON, exit codes and one-line usage errors. Expected records are the ones written
//! in the zone file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example_zone() -> String {
    root().join("examples/example.zone").display().to_string()
}

fn mailward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailward"))
        .args(args)
        .output()
        .unwrap()
}

fn zone_query(extra: &[&str], query: &[&str]) -> (i32, String, String) {
    let zone = example_zone();
    let mut args = vec!["--zone", &zone];
    args.extend_from_slice(extra);
    args.push("dns");
    args.extend_from_slice(query);
    let out = mailward(&args);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn txt_records_print_dig_style() {
    let (code, out, err) = zone_query(&[], &["example.com", "TXT"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "example.com.\t3600\tIN\tTXT\t\"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx include:_spf.example.org -all\"\n\
         example.com.\t3600\tIN\tTXT\t\"google-site-verification=not-an-spf-record\"\n"
    );
    // Several character-strings stay separate; the type is case-insensitive.
    let (code, out, _) = zone_query(&[], &["news.example.com", "txt"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "news.example.com.\t3600\tIN\tTXT\t\"v=spf1 \" \"ip4:198.51.100.0/24 \" \"-all\"\n"
    );
}

#[test]
fn other_types() {
    let (_, out, _) = zone_query(&[], &["mail.example.com", "A"]);
    assert_eq!(out, "mail.example.com.\t3600\tIN\tA\t192.0.2.25\n");
    let (_, out, _) = zone_query(&[], &["mail.example.com", "aaaa"]);
    assert_eq!(out, "mail.example.com.\t3600\tIN\tAAAA\t2001:db8::25\n");
    let (_, out, _) = zone_query(&[], &["example.com", "Mx"]);
    assert_eq!(
        out,
        "example.com.\t3600\tIN\tMX\t10 mail.example.com.\nexample.com.\t3600\tIN\tMX\t20 mail2.example.com.\n"
    );
    // www is a CNAME of the apex.
    let (_, out, _) = zone_query(&[], &["www.example.com", "A"]);
    assert_eq!(out, "www.example.com.\t3600\tIN\tA\t192.0.2.10\n");
    let (_, out, _) = zone_query(&[], &["192.0.2.25", "PTR"]);
    assert_eq!(
        out,
        "25.2.0.192.in-addr.arpa.\t3600\tIN\tPTR\tmail.example.com.\n"
    );
    let (_, out, _) = zone_query(&[], &["2001:db8::10", "ptr"]);
    assert_eq!(
        out,
        "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.\t3600\tIN\tPTR\texample.com.\n"
    );
}

/// As dig does, PTR takes the reverse name as well as the address (RFC 1035 §3.5, RFC 3596
/// §2.5): the same query, the same answer.
#[test]
fn ptr_of_a_reverse_name() {
    let by_ip = zone_query(&[], &["192.0.2.25", "PTR"]);
    assert_eq!(by_ip.0, 0);
    for name in ["25.2.0.192.in-addr.arpa", "25.2.0.192.IN-ADDR.ARPA."] {
        assert_eq!(zone_query(&[], &[name, "PTR"]), by_ip, "{name}");
    }
    let v6 = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    let (code, out, _) = zone_query(&[], &[v6, "PTR"]);
    assert_eq!(code, 0);
    assert_eq!(out, format!("{v6}.\t3600\tIN\tPTR\texample.com.\n"));
    let (_, out, _) = zone_query(&["--json"], &["25.2.0.192.in-addr.arpa", "PTR"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "25.2.0.192.in-addr.arpa");
    assert_eq!(v["ip"], "192.0.2.25");
    assert_eq!(v["records"][0], "mail.example.com");
    // A name without records answers as any other: NXDOMAIN, exit 0.
    assert_eq!(
        zone_query(&[], &["99.2.0.192.in-addr.arpa", "PTR"]),
        (0, "NXDOMAIN\n".to_owned(), String::new())
    );
    // A network's reverse name is not an address: a usage error, as any other name is.
    let zone = example_zone();
    let err = usage_error(&["--zone", &zone, "dns", "2.0.192.in-addr.arpa", "PTR"]);
    assert!(
        err.contains("PTR needs an IP address or its reverse name"),
        "{err}"
    );
}

#[test]
fn negative_answers_exit_zero() {
    assert_eq!(
        zone_query(&[], &["nope.example.com", "TXT"]).1,
        "NXDOMAIN\n"
    );
    assert_eq!(zone_query(&[], &["nope.example.com", "TXT"]).0, 0);
    assert_eq!(zone_query(&[], &["host1.example.com", "TXT"]).1, "NODATA\n");
    // An empty non-terminal (RFC 8020).
    assert_eq!(zone_query(&[], &["lists.example.com", "A"]).1, "NODATA\n");
    // Type 99 is never a TXT answer.
    let (_, out, _) = zone_query(&[], &["legacy.example.com", "TXT"]);
    assert_eq!(
        out,
        "legacy.example.com.\t3600\tIN\tTXT\t\"v=spf1 ip4:192.0.2.83 -all\"\n"
    );
    assert_eq!(zone_query(&[], &["192.0.2.99", "PTR"]).1, "NXDOMAIN\n");
}

#[test]
fn fault_injection_flags() {
    let (code, out, _) = zone_query(&["--dns-timeout", "example.net"], &["example.net", "MX"]);
    assert_eq!((code, out.as_str()), (1, "TIMEOUT\n"));
    // Types the name has still answer.
    let (code, _, _) = zone_query(&["--dns-timeout", "example.net"], &["example.net", "TXT"]);
    assert_eq!(code, 0);
    let (code, out, _) = zone_query(
        &["--dns-servfail", "absent.example.org"],
        &["absent.example.org", "TXT"],
    );
    assert_eq!((code, out.as_str()), (1, "SERVFAIL\n"));
}

#[test]
fn json_output() {
    let (code, out, _) = zone_query(&["--json"], &["news.example.com", "TXT"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "NOERROR");
    assert_eq!(v["name"], "news.example.com");
    assert_eq!(v["type"], "TXT");
    assert_eq!(v["ttl"], 3600);
    assert_eq!(v["records"][0]["text"], "v=spf1 ip4:198.51.100.0/24 -all");
    assert_eq!(v["records"][0]["strings"][1], "ip4:198.51.100.0/24 ");
    let (_, out, _) = zone_query(&["--json"], &["nope.example.com", "A"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "NXDOMAIN");
    // min(SOA TTL 3600, MINIMUM 300), RFC 2308 §5.
    assert_eq!(v["negative_ttl"], 300);
    let (_, out, _) = zone_query(&["--json"], &["example.com", "MX"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"][0]["preference"], 10);
    assert_eq!(v["records"][0]["exchange"], "mail.example.com");
}

#[test]
fn odd_octets_are_escaped() {
    let edge = root()
        .join("dns/tests/data/edge.zone")
        .display()
        .to_string();
    let out = mailward(&["--zone", &edge, "dns", "bin.edge.example", "TXT"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "bin.edge.example.\t300\tIN\tTXT\t\"\\000\\013\\010\\255\" \"caf\\195\\169\" \"tab\\009\" \"\"\n"
    );
    let out = mailward(&["--zone", &edge, "dns", "sp\\032ace.edge.example", "TXT"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "sp\\032ace.edge.example.\t300\tIN\tTXT\t\"space in owner\"\n"
    );
}

fn usage_error(args: &[&str]) -> String {
    let out = mailward(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn usage_errors_exit_two_with_one_line() {
    let err = usage_error(&["--dns-timeout", "example.com", "dns", "example.com", "TXT"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("need --zone"), "{err}");
    let zone = example_zone();
    let err = usage_error(&["--zone", &zone, "dns", "example.com", "PTR"]);
    assert!(err.contains("PTR needs an IP address"), "{err}");
    let err = usage_error(&["--zone", &zone, "dns", "a..b", "TXT"]);
    assert!(err.contains("invalid name"), "{err}");
    let err = usage_error(&["--zone", &zone, "dns", "example.com", "SRV"]);
    assert!(err.contains("invalid value 'SRV'"), "{err}");
}

#[test]
fn bad_zone_files_name_file_and_line() {
    let dir = std::env::temp_dir().join(format!("mailward-cli-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "$TTL 60\n$ORIGIN example.\n\nwww A 192.0.2\n",
            4,
            "invalid A data",
        ),
        (
            "$TTL 60\n$ORIGIN example.\n@ TXT \"unterminated\n",
            3,
            "unterminated quoted string",
        ),
        (
            "$TTL 60\n$ORIGIN example.\n@ TXT ( \"a\"\n\n",
            3,
            "'(' not closed",
        ),
        ("$INCLUDE other\n", 1, "$INCLUDE is not supported"),
    ];
    for (i, (text, line, what)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("bad{i}.zone"));
        std::fs::write(&path, text).unwrap();
        let p = path.display().to_string();
        let err = usage_error(&["--zone", &p, "dns", "example", "TXT"]);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("mailward: error: {p}:{line}: {what}")),
            "{err}"
        );
    }
    let missing = dir.join("missing.zone").display().to_string();
    let err = usage_error(&["--zone", &missing, "dns", "example", "TXT"]);
    assert!(
        err.starts_with(&format!("mailward: error: {missing}: cannot read")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A UDP server on loopback answering every query with an empty response of the given RCODE.
fn fake_server(rcode: u8) -> String {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            let mut reply = buf[..n].to_vec();
            reply[2] |= 0x80; // QR
            reply[3] = 0x80 | rcode; // RA, RCODE
            let _ = sock.send_to(&reply, peer);
        }
    });
    addr.to_string()
}

#[test]
fn dns_server_flag_uses_real_dns() {
    // RCODE 3 (NXDOMAIN) and 2 (SERVFAIL), RFC 1035 §4.1.1.
    let nx = fake_server(3);
    let out = mailward(&["--dns-server", &nx, "dns", "example.com", "TXT"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "NXDOMAIN\n");
    let sf = fake_server(2);
    let out = mailward(&["--dns-server", &sf, "--json", "dns", "example.com", "A"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "SERVFAIL");
    // --zone and --dns-server together are a usage error.
    let zone = example_zone();
    let err = usage_error(&[
        "--zone",
        &zone,
        "--dns-server",
        &nx,
        "dns",
        "example.com",
        "TXT",
    ]);
    assert!(err.contains("cannot be used together"), "{err}");
}

/// A zone as it would be published: CAA, SRV, TLSA and a null MX (RFC 7505) load; the names
/// holding only those exist (NODATA), and a name ending in an escaped backslash (`a\\.`, the
/// label `a\`) is taken as absolute on the command line.
#[test]
fn real_world_zone_types_and_trailing_backslash() {
    let dir = std::env::temp_dir().join(format!("mailward-cli-dns-types-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("published.zone");
    std::fs::write(
        &path,
        "$TTL 60\n$ORIGIN example.\n@ SOA ns host 1 7200 900 1209600 30\n\
         @ CAA 0 issue \"ca.example.net\"\n@ TXT \"v=spf1 -all\"\n\
         _sip._tcp SRV 10 60 5060 sip\n_25._tcp.mail TLSA 3 1 1 0C72AC70\n\
         nomail MX 0 .\na\\\\. TXT \"bs\"\n",
    )
    .unwrap();
    let p = path.display().to_string();
    let run = |name: &str, rtype: &str| {
        let out = mailward(&["--zone", &p, "dns", name, rtype]);
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
        )
    };
    assert_eq!(
        run("example", "TXT"),
        (0, "example.\t60\tIN\tTXT\t\"v=spf1 -all\"\n".into())
    );
    assert_eq!(run("_sip._tcp.example", "TXT"), (0, "NODATA\n".into()));
    assert_eq!(run("_25._tcp.mail.example", "A"), (0, "NODATA\n".into()));
    // RFC 7505 null MX: a record whose exchange is the root.
    assert_eq!(
        run("nomail.example", "MX"),
        (0, "nomail.example.\t60\tIN\tMX\t0 .\n".into())
    );
    assert_eq!(run("nothing.example", "TXT"), (0, "NXDOMAIN\n".into()));
    assert_eq!(
        run("a\\\\.", "TXT"),
        (0, "a\\\\.\t60\tIN\tTXT\t\"bs\"\n".into())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
