//! RFC 8463 Appendix A: the example message with an Ed25519-SHA256 and an RSA-SHA256 signature.
//!
//! The message in `data/rfc8463_a3.eml` is Appendix A.3 with the three-space page indent
//! removed and CRLF line ends. Both signatures of this exact file were checked with dkimpy 1.1.8
//! (an independent implementation) before writing this test, so the expectations do not rest on
//! our own output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/resolver.rs"]
mod resolver;

use mailward_dkim::{
    BodyHasher, Canonicalization, CryptoProvider, DkimOutcome, HashAlgorithm, Signer, SigningKey,
    Verifier, VerifyOptions,
};
use resolver::MapResolver;

const MESSAGE: &[u8] = include_bytes!("data/rfc8463_a3.eml");
const T: u64 = 1_528_637_909;

fn zone() -> MapResolver {
    MapResolver::new()
        .with_txt(
            "brisbane._domainkey.football.example.com",
            &["v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="],
        )
        .with_txt(
            "test._domainkey.football.example.com",
            &[
                "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR",
                "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC",
                "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3",
                "Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
            ],
        )
}

fn providers() -> Vec<CryptoProvider> {
    vec![
        CryptoProvider::rust_crypto(),
        #[cfg(feature = "aws-lc-rs")]
        CryptoProvider::aws_lc_rs(),
    ]
}

#[test]
fn both_signatures_pass() {
    for p in providers() {
        let v = Verifier::new(VerifyOptions::default().with_provider(p));
        let results = pollster::block_on(v.verify(&zone(), MESSAGE, T + 60)).unwrap();
        assert_eq!(results.len(), 2);
        for r in &results {
            assert_eq!(r.outcome, DkimOutcome::Pass, "{p:?} {:?}", r.selector);
        }
        assert_eq!(results[0].selector.as_deref(), Some("brisbane"));
        assert_eq!(results[1].key_bits, Some(1024));
        let ar = results[0].to_method_result().to_string();
        assert!(ar.starts_with("dkim=pass"), "{ar}");
        assert!(ar.contains("header.d=football.example.com"), "{ar}");
        assert!(ar.contains("header.b=\"/gCrinpcQOoI\""), "{ar}");
    }
}

#[test]
fn tampered_body_and_header_fail() {
    let v = Verifier::new(VerifyOptions::default());
    let body = String::from_utf8(MESSAGE.to_vec())
        .unwrap()
        .replace("hungry", "thirsty");
    let results = pollster::block_on(v.verify(&zone(), body.as_bytes(), T)).unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.outcome == DkimOutcome::BodyHashMismatch)
    );
    let subject = String::from_utf8(MESSAGE.to_vec())
        .unwrap()
        .replace("dinner", "lunch");
    let results = pollster::block_on(v.verify(&zone(), subject.as_bytes(), T)).unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.outcome == DkimOutcome::SignatureMismatch)
    );
    // A second Subject added on top breaks the over-signed h= (subject listed twice).
    let added = [b"Subject: Free money\r\n".as_slice(), MESSAGE].concat();
    let results = pollster::block_on(v.verify(&zone(), &added, T)).unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.outcome == DkimOutcome::SignatureMismatch)
    );
}

#[test]
fn body_hash_matches_example() {
    let body_start = MESSAGE.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut h = BodyHasher::new(Canonicalization::Relaxed, HashAlgorithm::Sha256, None);
    h.update(&MESSAGE[body_start..]);
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(h.finish().digest),
        "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
    );
}

#[test]
fn example_keys_sign_verifiable_messages() {
    let unsigned_start = MESSAGE.windows(6).position(|w| w == b"From: ").unwrap();
    let unsigned = &MESSAGE[unsigned_start..];
    let ed = SigningKey::from_bytes(include_bytes!("data/rfc8463_ed25519.seed")).unwrap();
    let rsa = SigningKey::from_bytes(include_bytes!("data/rfc8463_rsa.pem")).unwrap();
    for (key, sel) in [(ed, "brisbane"), (rsa, "test")] {
        let signer = Signer::new(key, "football.example.com".parse().unwrap(), sel).unwrap();
        let field = signer.sign(unsigned, T).unwrap();
        let signed = [field.as_bytes(), unsigned].concat();
        let v = Verifier::new(VerifyOptions::default());
        let results = pollster::block_on(v.verify(&zone(), &signed, T)).unwrap();
        assert_eq!(results[0].outcome, DkimOutcome::Pass, "{field}");
        assert!(
            field.contains("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="),
            "{field}"
        );
        for line in field.split("\r\n") {
            assert!(line.len() < 78, "{line:?}");
        }
    }
}

/// Verification without I/O: the context names the key records it needs, the caller answers
/// them, and the outcome equals the resolver-driven one (both signatures pass, RFC 8463 A.3).
/// An unanswered name is a DNS failure (temperror), not a missing key; keys cached by the
/// verifier are not asked for again.
#[test]
fn sans_io_key_answers() {
    use mailward_dkim::KeyAnswers;
    use mailward_types::dns::{DnsError, Lookup, Txt};
    let txt = |strings: &[&str]| {
        Ok(Lookup::new(
            vec![Txt::new(
                strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
            )],
            3600,
        ))
    };
    let ed = "brisbane._domainkey.football.example.com";
    let rsa = "test._domainkey.football.example.com";
    let verifier = Verifier::new(VerifyOptions::default());
    let mut ctx = verifier.begin(MESSAGE).unwrap();
    // Verified 1000 s before t=: both signatures fail before any lookup (t= in the future,
    // beyond the 300 s clock skew), so no key is needed.
    assert!(ctx.key_queries(T - 1000).is_empty());
    let names: Vec<String> = ctx
        .key_queries(T)
        .iter()
        .map(|d| d.as_str().to_owned())
        .collect();
    assert_eq!(names, [ed, rsa]);
    // Only the Ed25519 key answered: that signature passes, the other is a DNS failure.
    let answers = KeyAnswers::new().with(
        ed.parse().unwrap(),
        txt(&["v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]),
    );
    let results = ctx.finish_with(&answers, T);
    assert_eq!(results[0].outcome, DkimOutcome::Pass);
    assert!(
        matches!(results[1].outcome, DkimOutcome::KeyDnsError(_)),
        "{:?}",
        results[1].outcome
    );
    assert_eq!(results[1].outcome.result(), "temperror");
    // Now both answered (the RSA key as NXDOMAIN first: a missing key, permerror).
    let mut ctx = verifier.begin(MESSAGE).unwrap();
    assert_eq!(
        ctx.key_queries(T)
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect::<Vec<_>>(),
        [rsa],
        "the Ed25519 key is cached"
    );
    let results = ctx.finish_with(
        &KeyAnswers::new().with(rsa.parse().unwrap(), Err(DnsError::NXDOMAIN)),
        T,
    );
    assert_eq!(results[0].outcome, DkimOutcome::Pass);
    assert_eq!(results[1].outcome, DkimOutcome::KeyNotFound);
    let mut ctx = verifier.begin(MESSAGE).unwrap();
    assert_eq!(ctx.key_queries(T).len(), 1);
    let zone = zone();
    let answers = KeyAnswers::new().with(
        rsa.parse().unwrap(),
        pollster::block_on(mailward_types::Resolver::txt(&zone, &rsa.parse().unwrap())),
    );
    // Finished two hours later, when the cached Ed25519 key (TTL 3600) has expired: the key
    // taken by key_queries is used, not asked for again (no answer for it was given).
    let results = ctx.finish_with(&answers, T + 7200);
    let driven = pollster::block_on(Verifier::new(VerifyOptions::default()).verify(
        &zone,
        MESSAGE,
        T + 7200,
    ))
    .unwrap();
    assert_eq!(
        results.iter().map(|r| &r.outcome).collect::<Vec<_>>(),
        driven.iter().map(|r| &r.outcome).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|r| r.outcome == DkimOutcome::Pass));
}
