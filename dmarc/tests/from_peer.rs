//! Author Domain extraction compared with an independent RFC 5322 parser (mail-parser 0.11) on
//! well-formed From fields: both must find the same set of address domains. On malformed or
//! ambiguous fields the two may differ by design (mail-parser recovers; DMARC must not guess,
//! RFC 9989 §4.4 and §11.5), so those are checked against our own expectation only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mail_parser::MessageParser;
use mailward_dmarc::from::{FromError, author_domain};
use mailward_types::message::Message;

fn ours(from: &str) -> Result<String, FromError> {
    let raw = format!("From:{from}\r\nSubject: x\r\n\r\nbody\r\n");
    let msg = Message::parse(raw.as_bytes()).unwrap();
    author_domain(&msg).map(|d| d.to_string())
}

fn peer(from: &str) -> Vec<String> {
    let raw = format!("From:{from}\r\nSubject: x\r\n\r\nbody\r\n");
    let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
    let mut domains: Vec<String> = msg
        .from()
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address.as_deref())
                .filter_map(|addr| addr.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default();
    domains.sort();
    domains.dedup();
    domains
}

#[test]
fn well_formed_fields_agree_with_mail_parser() {
    let cases = [
        " alice@example.com",
        " Alice <alice@example.com>",
        " \"Alice Example\" <alice@Example.COM>",
        " \"Doe, John\" <john.doe@example.org>",
        " alice@example.com (Alice)",
        " =?utf-8?q?Alice_=C3=84?= <alice@mail.example.net>",
        " \"Bob <bob@evil.example>\" <bob@example.com>",
        " Alice <alice@example.com>, Bob <bob@example.com>",
        " Friends: alice@example.com, bob@example.com;",
        " \"quoted local\"@example.com",
        " <alice@sub.example.com>",
    ];
    for from in cases {
        let peer = peer(from);
        assert_eq!(peer.len(), 1, "mail-parser on {from:?}: {peer:?}");
        assert_eq!(ours(from).unwrap(), peer[0], "{from:?}");
    }
}

#[test]
fn several_domains_agree_and_are_refused() {
    for from in [
        " alice@example.com, bob@example.net",
        " A: alice@example.com;, B: bob@example.org;",
    ] {
        assert!(peer(from).len() >= 2, "{from:?}");
        assert!(
            matches!(ours(from), Err(FromError::MultipleDomains(_))),
            "{from:?}"
        );
    }
}

#[test]
fn ambiguous_fields_are_refused() {
    // An unquoted address in the display name: which one would a user see? Refuse.
    assert!(ours(" ceo@bank.example <attacker@evil.example>").is_err());
    // Two angle addresses for one mailbox.
    assert!(ours(" <a@bank.example> <b@evil.example>").is_err());
    // No address at all.
    assert!(ours(" Alice").is_err());
}
