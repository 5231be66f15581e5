//! RFC 6376 vectors that can be checked: the Appendix A.2 signature (its fields and its body
//! hash) and the empty-body hashes of §3.4.3 and §3.4.4.
//!
//! The A.2 `b=` value cannot be checked: RFC 6376 publishes no matching key for
//! `brisbane._domainkey.example.com`, so only the parts that do not need the key are tested.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mailward_dkim::{
    BodyHasher, Canonicalization, CanonicalizationPair, DkimSignature, HashAlgorithm,
    SigningAlgorithm,
};

const A2_SIGNATURE: &str = " v=1; a=rsa-sha256; s=brisbane; d=example.com;\r\n\
     \x20\x20\x20\x20c=simple/simple; q=dns/txt; i=joe@football.example.com;\r\n\
     \x20\x20\x20\x20h=Received : From : To : Subject : Date : Message-ID;\r\n\
     \x20\x20\x20\x20bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n\
     \x20\x20\x20\x20b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB\r\n\
     \x20\x20\x20\x20\x20\x204nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut\r\n\
     \x20\x20\x20\x20\x20\x20KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV\r\n\
     \x20\x20\x20\x20\x20\x204bmp/YzhwvcubU4=;";

const A1_BODY: &[u8] = b"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";

fn body_hash(c: Canonicalization, h: HashAlgorithm, body: &[u8]) -> String {
    let mut hasher = BodyHasher::new(c, h, None);
    hasher.update(body);
    STANDARD.encode(hasher.finish().digest)
}

#[test]
fn a2_signature_fields() {
    let sig = DkimSignature::parse(A2_SIGNATURE).unwrap();
    assert_eq!(sig.algorithm, SigningAlgorithm::RsaSha256);
    assert_eq!(sig.selector, "brisbane");
    assert_eq!(sig.domain.as_str(), "example.com");
    assert_eq!(sig.canonicalization, CanonicalizationPair::SIMPLE);
    // i= in a subdomain of d= is allowed (§3.5 i=).
    assert_eq!(sig.auid(), "joe@football.example.com");
    assert_eq!(
        sig.signed_headers.iter().collect::<Vec<_>>(),
        ["Received", "From", "To", "Subject", "Date", "Message-ID"]
    );
    assert_eq!(sig.signature.len(), 128);
    assert_eq!(
        sig.key_name().unwrap().as_str(),
        "brisbane._domainkey.example.com"
    );
}

#[test]
fn a2_body_hash() {
    // A.2 declares c=simple/simple with bh=2jUSOH9N…, but that value is the hash of the
    // *relaxed* body (the double space after "game." collapsed): a known defect of the example,
    // reported in the RFC 6376 errata. Checked independently with Python (hashlib over the
    // bytes) and dkimpy 1.1.8's canonicalizers: simple → 4bLNXImK…, relaxed → 2jUSOH9N…
    // (which RFC 8463 Appendix A, using relaxed, reuses).
    let relaxed = "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=";
    let simple = "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=";
    assert_eq!(
        body_hash(Canonicalization::Relaxed, HashAlgorithm::Sha256, A1_BODY),
        relaxed
    );
    assert_eq!(
        body_hash(Canonicalization::Simple, HashAlgorithm::Sha256, A1_BODY),
        simple
    );
    // Trailing empty lines are removed by both (§3.4.3, §3.4.4).
    let padded = [A1_BODY, b"\r\n\r\n\r\n"].concat();
    assert_eq!(
        body_hash(Canonicalization::Simple, HashAlgorithm::Sha256, &padded),
        simple
    );
    assert_eq!(
        body_hash(Canonicalization::Relaxed, HashAlgorithm::Sha256, &padded),
        relaxed
    );
}

#[test]
fn empty_body_hashes() {
    // §3.4.3: "simple" turns an empty body into CRLF.
    assert_eq!(
        body_hash(Canonicalization::Simple, HashAlgorithm::Sha1, b""),
        "uoq1oCgLlTqpdDX/iUbLy7J1Wic="
    );
    assert_eq!(
        body_hash(Canonicalization::Simple, HashAlgorithm::Sha256, b""),
        "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="
    );
    // §3.4.4: "relaxed" leaves it empty.
    assert_eq!(
        body_hash(Canonicalization::Relaxed, HashAlgorithm::Sha1, b""),
        "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
    );
    assert_eq!(
        body_hash(
            Canonicalization::Relaxed,
            HashAlgorithm::Sha256,
            b"\r\n\r\n"
        ),
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
}
