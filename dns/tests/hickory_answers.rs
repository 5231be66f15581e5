//! `HickoryResolver` on answers holding names a `Domain` cannot hold: a label with a `.` inside
//! or a non-ASCII octet (RFC 2181 §11: "any binary string whatever can be used as the label"),
//! and the null MX of RFC 7505 (`MX 0 .`). Such records are skipped; the others are returned,
//! and when none remain the answer is NODATA, not a failure. A tiny loopback server answers
//! every query with fixed records built here in RFC 1035 §4.1 wire format.
#![cfg(feature = "hickory")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use mailward_dns::hickory::{HickoryOptions, HickoryResolver};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, Mx, Resolver};

/// A wire-format name (RFC 1035 §3.1): length-prefixed labels, then the root's zero octet.
fn wire_name(labels: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in labels {
        out.push(u8::try_from(l.len()).unwrap());
        out.extend_from_slice(l);
    }
    out.push(0);
    out
}

/// MX RDATA (RFC 1035 §3.3.9): PREFERENCE then EXCHANGE.
fn mx(preference: u16, exchange: &[&[u8]]) -> Vec<u8> {
    let mut out = preference.to_be_bytes().to_vec();
    out.extend(wire_name(exchange));
    out
}

/// A UDP server on loopback answering each query with its question and one answer record per
/// RDATA given, of the asked type, owner = the question (a pointer to offset 12), TTL 300.
fn fake_server(rdatas: Vec<Vec<u8>>) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            let query = &buf[..n];
            if n < 12 {
                continue;
            }
            // The question: QNAME labels up to the zero octet, then QTYPE and QCLASS.
            let mut end = 12;
            while end < n && query[end] != 0 {
                end += 1 + usize::from(query[end]);
            }
            let qend = end + 5;
            if qend > n {
                continue;
            }
            let qtype = [query[end + 1], query[end + 2]];
            let mut reply = query[..qend].to_vec();
            reply[2] |= 0x80; // QR
            reply[3] = 0x80; // RA, RCODE 0
            reply[4..6].copy_from_slice(&1u16.to_be_bytes()); // QDCOUNT
            let ancount = u16::try_from(rdatas.len()).unwrap();
            reply[6..8].copy_from_slice(&ancount.to_be_bytes());
            reply[8..12].copy_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
            for rdata in &rdatas {
                reply.extend_from_slice(&[0xc0, 12]);
                reply.extend_from_slice(&qtype);
                reply.extend_from_slice(&[0, 1]); // IN
                reply.extend_from_slice(&300u32.to_be_bytes());
                reply.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
                reply.extend_from_slice(rdata);
            }
            let _ = sock.send_to(&reply, peer);
        }
    });
    addr
}

fn resolver(addr: SocketAddr) -> HickoryResolver {
    HickoryResolver::new(
        HickoryOptions::default()
            .with_server(addr)
            .with_timeout(Duration::from_secs(2))
            .with_attempts(1),
    )
    .unwrap()
}

fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

#[tokio::test]
async fn mx_with_unrepresentable_exchanges_keeps_the_others() {
    let addr = fake_server(vec![
        mx(10, &[b"a.b", b"example"]),
        mx(0, &[]),
        mx(20, &[b"mail", b"example"]),
        mx(30, &[b"caf\xc3\xa9", b"example"]),
    ]);
    let l = resolver(addr).mx(&d("example.com")).await.unwrap();
    assert_eq!(l.records, [Mx::null(0), Mx::new(20, d("mail.example"))]);
    assert_eq!(l.ttl, 300);
}

#[tokio::test]
async fn null_mx_is_an_answer() {
    // RFC 7505 §3: "MX 0 ." — the domain accepts no mail. It is a record (not NODATA), with no
    // exchange.
    let addr = fake_server(vec![mx(0, &[])]);
    let l = resolver(addr).mx(&d("example.com")).await.unwrap();
    assert_eq!(l.records, [Mx::null(0)]);
    assert!(l.records[0].is_null());
}

#[tokio::test]
async fn ptr_with_unrepresentable_names() {
    let addr = fake_server(vec![
        wire_name(&[b"x\xff", b"example"]),
        wire_name(&[b"host", b"example"]),
    ]);
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let l = resolver(addr).ptr(ip).await.unwrap();
    assert_eq!(l.records, [d("host.example")]);

    let addr = fake_server(vec![wire_name(&[b"dot.ted", b"example"])]);
    let e = resolver(addr).ptr(ip).await.unwrap_err();
    assert!(matches!(e, DnsError::NoData { .. }), "{e:?}");
}
