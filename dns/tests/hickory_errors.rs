//! `HickoryResolver` error mapping against tiny loopback servers that answer every query with a
//! fixed RCODE (RFC 1035 §4.1.1), or never answer at all.
#![cfg(feature = "hickory")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use mailward_dns::hickory::{HickoryOptions, HickoryResolver};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, Resolver};

/// A UDP server on loopback that answers each query by echoing it with QR set and the given
/// RCODE (no answer records), or stays silent when `rcode` is `None`. Runs until the test
/// process ends.
fn fake_server(rcode: Option<u8>) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            let Some(rcode) = rcode else { continue };
            if n < 12 {
                continue;
            }
            let mut reply = buf[..n].to_vec();
            // Header byte 2: QR=1, opcode and RD kept; byte 3: RA=1, RCODE.
            reply[2] |= 0x80;
            reply[3] = 0x80 | (rcode & 0x0f);
            let _ = sock.send_to(&reply, peer);
        }
    });
    addr
}

fn resolver(addr: SocketAddr) -> HickoryResolver {
    HickoryResolver::new(
        HickoryOptions::default()
            .with_server(addr)
            .with_timeout(Duration::from_millis(300))
            .with_attempts(1),
    )
    .unwrap()
}

fn name() -> Domain {
    Domain::new("example.com").unwrap()
}

#[tokio::test]
async fn silence_is_a_timeout() {
    let r = resolver(fake_server(None));
    let start = Instant::now();
    let e = r.txt(&name()).await.unwrap_err();
    assert_eq!(e, DnsError::Timeout, "{e:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn servfail_is_servfail() {
    let r = resolver(fake_server(Some(2)));
    let e = r.a(&name()).await.unwrap_err();
    assert_eq!(e, DnsError::ServFail, "{e:?}");
}

#[tokio::test]
async fn nxdomain_without_soa_has_no_negative_ttl() {
    let r = resolver(fake_server(Some(3)));
    let e = r.mx(&name()).await.unwrap_err();
    assert!(
        matches!(e, DnsError::NxDomain { negative_ttl: None }),
        "{e:?}"
    );
}

#[tokio::test]
async fn empty_noerror_is_nodata() {
    let r = resolver(fake_server(Some(0)));
    let e = r.txt(&name()).await.unwrap_err();
    assert!(
        matches!(e, DnsError::NoData { negative_ttl: None }),
        "{e:?}"
    );
}

#[tokio::test]
async fn refused_is_other() {
    let r = resolver(fake_server(Some(5)));
    let e = r.aaaa(&name()).await.unwrap_err();
    assert!(matches!(e, DnsError::Other(_)), "{e:?}");
    assert!(e.is_temporary());
}
