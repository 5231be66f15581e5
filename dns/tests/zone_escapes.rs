//! Property tests of RFC 1035 §5.1 escaping: any octets written as a quoted character-string
//! with `\X` / `\DDD` escapes read back unchanged, and owner names made of any ASCII octets but
//! `.` read back as the same `Domain`. The encoder here is written from the RFC text, apart from
//! the reader under test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mailward_dns::ZoneResolver;
use mailward_types::Domain;
use mailward_types::dns::Resolver;
use proptest::prelude::*;

/// `"` and `\` as `\X`; printable ASCII as is; everything else as `\DDD` (or, when `alt`, a
/// printable octet as `\X`, which RFC 1035 also allows for any non-digit).
fn escape(bytes: &[u8], alt: bool) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(char::from(b));
            }
            b'0'..=b'9' => s.push(char::from(b)),
            0x21..=0x7e if alt => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s
}

/// Label octets for owner names: names may not contain `.` inside a label here, and `@`, `(`,
/// `)`, `;`, `"`, `\` and white space are escaped by [`escape_name`].
fn label() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0u8..=0x7f).prop_filter("no dot", |b| *b != b'.'), 1..=20)
}

fn escape_name(label: &[u8]) -> String {
    let mut s = String::new();
    for &b in label {
        match b {
            b'"' | b'\\' | b'(' | b')' | b';' | b'@' | b'$' | b'*' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x21..=0x7e if !b.is_ascii_digit() => s.push(char::from(b)),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s
}

proptest! {
    #[test]
    fn any_octets_round_trip_in_txt(
        strings in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..=255), 1..6),
        alt in any::<bool>(),
    ) {
        let mut text = String::from("$TTL 60\n@ TXT");
        for s in &strings {
            text.push_str(" \"");
            text.push_str(&escape(s, alt));
            text.push('"');
        }
        text.push('\n');
        let zone = ZoneResolver::parse(&text, "example.com").unwrap();
        let txt = pollster::block_on(zone.txt(&Domain::new("example.com").unwrap())).unwrap();
        prop_assert_eq!(&txt[0].strings, &strings);
    }

    #[test]
    fn odd_owner_names_round_trip(labels in prop::collection::vec(label(), 1..4)) {
        let written: Vec<String> = labels.iter().map(|l| escape_name(l)).collect();
        let text = format!("$TTL 60\n{}.example. TXT x\n", written.join("."));
        let joined: Vec<String> = labels
            .iter()
            .map(|l| l.iter().map(|&b| char::from(b)).collect())
            .collect();
        let expected = Domain::new(&format!("{}.example", joined.join("."))).unwrap();
        let zone = ZoneResolver::parse(&text, "").unwrap();
        prop_assert_eq!(zone.names().collect::<Vec<_>>(), vec![&expected]);
    }
}

/// `parse_name` (the command-line form) decides "absolute or not" by whether the last `.` is
/// escaped, which depends on how many `\` precede it: an even run escapes only backslashes.
#[test]
fn parse_name_counts_backslashes_before_the_final_dot() {
    use mailward_dns::zone::{ZoneErrorKind, parse_name};
    // `a\\.`: the label `a\` (RFC 1035 §5.1 `\X` quotes X), then the root.
    assert_eq!(parse_name("a\\\\.").unwrap().as_str(), "a\\");
    assert_eq!(parse_name("a\\\\").unwrap().as_str(), "a\\");
    assert_eq!(parse_name("x.a\\\\\\\\.").unwrap().as_str(), "x.a\\\\");
    // `a\.` and `a\\\.`: the final dot is escaped, so inside a label: not representable.
    assert!(matches!(
        parse_name("a\\."),
        Err(ZoneErrorKind::EscapedDotInLabel { .. })
    ));
    assert!(matches!(
        parse_name("a\\\\\\."),
        Err(ZoneErrorKind::EscapedDotInLabel { .. })
    ));
    // `\DDD` before the final dot: the dot is plain.
    assert_eq!(parse_name("a\\092.").unwrap().as_str(), "a\\");
    assert_eq!(parse_name("Example.COM.").unwrap().as_str(), "example.com");
}
