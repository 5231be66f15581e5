//! Verifier outcomes: every failure class of RFC 6376 §6 and the RFC 8301 policy.
//!
//! Messages are signed with the RFC 8463 Appendix A keys (the signer itself is checked against
//! dkimpy in `cli/tests/dkim_interop.rs` and against the RFC example in `rfc8463.rs`); each test
//! then changes one thing (key record, time, options, message) and expects the outcome the RFC
//! text cited next to it requires.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/resolver.rs"]
mod resolver;

use mailward_dkim::{
    DkimOutcome, KeyMismatch, PolicyViolation, SignatureResult, Signer, SigningAlgorithm,
    SigningKey, Verifier, VerifyOptions,
};
use mailward_types::DnsError;
use resolver::MapResolver;

const T: u64 = 1_700_000_000;
const ED_P: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const RSA_P: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
const MESSAGE: &[u8] =
    b"From: a@example.com\r\nTo: b@example.net\r\nSubject: test\r\n\r\nHello\r\n";

fn ed_key() -> SigningKey {
    SigningKey::from_bytes(include_bytes!("data/rfc8463_ed25519.seed")).unwrap()
}
fn rsa_key() -> SigningKey {
    SigningKey::from_bytes(include_bytes!("data/rfc8463_rsa.pem")).unwrap()
}

fn sign_with(signer: Signer, msg: &[u8]) -> Vec<u8> {
    [signer.sign(msg, T).unwrap().as_bytes(), msg].concat()
}

fn signed_ed(msg: &[u8]) -> Vec<u8> {
    sign_with(
        Signer::new(ed_key(), "example.com".parse().unwrap(), "ed").unwrap(),
        msg,
    )
}

fn zone(ed_record: &str, rsa_record: &str) -> MapResolver {
    MapResolver::new()
        .with_txt("ed._domainkey.example.com", &[ed_record])
        .with_txt("rsa._domainkey.example.com", &[rsa_record])
}

fn good_zone() -> MapResolver {
    zone(
        &format!("v=DKIM1; k=ed25519; p={ED_P}"),
        &format!("v=DKIM1; p={RSA_P}"),
    )
}

fn run(opts: VerifyOptions, r: &MapResolver, msg: &[u8], now: u64) -> Vec<SignatureResult> {
    pollster::block_on(Verifier::new(opts).verify(r, msg, now)).unwrap()
}

fn one(r: &MapResolver, msg: &[u8]) -> DkimOutcome {
    let res = run(VerifyOptions::default(), r, msg, T);
    assert_eq!(res.len(), 1);
    res[0].outcome.clone()
}

#[test]
fn pass_and_no_signature() {
    assert_eq!(one(&good_zone(), &signed_ed(MESSAGE)), DkimOutcome::Pass);
    assert!(run(VerifyOptions::default(), &good_zone(), MESSAGE, T).is_empty());
}

#[test]
fn key_lookup_failures() {
    let msg = signed_ed(MESSAGE);
    // RFC 6376 §6.1.2 step 2-3: no key → PERMFAIL; temporary DNS failure → TEMPFAIL.
    assert_eq!(one(&MapResolver::new(), &msg), DkimOutcome::KeyNotFound);
    let r = MapResolver::new().with_error("ed._domainkey.example.com", DnsError::Timeout);
    let out = one(&r, &msg);
    assert!(matches!(out, DkimOutcome::KeyDnsError(_)));
    assert_eq!(out.result(), "temperror");
    let r = MapResolver::new().with_error("ed._domainkey.example.com", DnsError::NODATA);
    assert_eq!(one(&r, &msg), DkimOutcome::KeyNotFound);
    assert!(matches!(
        one(&zone("v=DKIM1; k=ed25519; p=!!", ""), &msg),
        DkimOutcome::KeyInvalid(_)
    ));
    assert!(matches!(
        one(&zone("v=DKIM1; k=ed25519; p=AAAA", ""), &msg),
        DkimOutcome::KeyInvalid(_)
    ));
}

#[test]
fn key_record_restrictions() {
    let msg = signed_ed(MESSAGE);
    // §3.6.1 p=: "An empty value means that this public key has been revoked."
    assert_eq!(
        one(&zone("v=DKIM1; k=ed25519; p=", ""), &msg),
        DkimOutcome::KeyRevoked
    );
    // k= defaults to rsa: an ed25519 signature with an rsa key record.
    assert_eq!(
        one(&zone(&format!("v=DKIM1; p={RSA_P}"), ""), &msg),
        DkimOutcome::KeyMismatch(KeyMismatch::KeyType)
    );
    assert_eq!(
        one(
            &zone(&format!("v=DKIM1; k=ed25519; h=sha1; p={ED_P}"), ""),
            &msg
        ),
        DkimOutcome::KeyMismatch(KeyMismatch::HashAlgorithm)
    );
    assert_eq!(
        one(
            &zone(&format!("v=DKIM1; k=ed25519; s=other; p={ED_P}"), ""),
            &msg
        ),
        DkimOutcome::KeyMismatch(KeyMismatch::ServiceType)
    );
    assert_eq!(
        one(
            &zone(&format!("v=DKIM1; k=ed25519; s=*; p={ED_P}"), ""),
            &msg
        ),
        DkimOutcome::Pass
    );
    // t=s: "i=" domain must not be a subdomain of d=.
    let sub = sign_with(
        Signer::new(ed_key(), "example.com".parse().unwrap(), "ed")
            .unwrap()
            .with_identity("user@mail.example.com")
            .unwrap(),
        MESSAGE,
    );
    let strict = zone(&format!("v=DKIM1; k=ed25519; t=s; p={ED_P}"), "");
    assert_eq!(
        one(&strict, &sub),
        DkimOutcome::KeyMismatch(KeyMismatch::StrictIdentity)
    );
    assert_eq!(one(&strict, &msg), DkimOutcome::Pass);
    // t=y is reported, the result stands.
    let testing = zone(&format!("v=DKIM1; k=ed25519; t=y; p={ED_P}"), "");
    let res = run(VerifyOptions::default(), &testing, &msg, T);
    assert!(res[0].testing && res[0].outcome.is_pass());
    assert!(res[0].to_method_result().to_string().contains("t=y"));
}

#[test]
fn rfc8301_policy() {
    // RSA under 1024 bits: the record publishes a 512-bit key (made with openssl genrsa 512).
    let rsa_signed = sign_with(
        Signer::new(rsa_key(), "example.com".parse().unwrap(), "rsa").unwrap(),
        MESSAGE,
    );
    let weak = format!("v=DKIM1; p={}", include_str!("data/weak512.pub.b64").trim());
    assert_eq!(
        one(&zone("", &weak), &rsa_signed),
        DkimOutcome::Policy(PolicyViolation::WeakKey { bits: 512 })
    );
    assert_eq!(one(&good_zone(), &rsa_signed), DkimOutcome::Pass);
    // rsa-sha1: not valid by default, accepted when configured.
    let sha1 = sign_with(
        Signer::new(rsa_key(), "example.com".parse().unwrap(), "rsa")
            .unwrap()
            .with_algorithm(SigningAlgorithm::RsaSha1)
            .unwrap(),
        MESSAGE,
    );
    assert_eq!(
        one(&good_zone(), &sha1),
        DkimOutcome::Policy(PolicyViolation::Sha1)
    );
    let res = run(
        VerifyOptions::default().with_allow_sha1(true),
        &good_zone(),
        &sha1,
        T,
    );
    assert_eq!(res[0].outcome, DkimOutcome::Pass);
    assert_eq!(res[0].outcome.result(), "pass");
}

#[test]
fn body_length_is_honoured_and_can_be_refused() {
    let signer = Signer::new(ed_key(), "example.com".parse().unwrap(), "ed")
        .unwrap()
        .with_body_length(true);
    let signed = sign_with(signer, MESSAGE);
    let appended = [signed.as_slice(), b"appended by someone else\r\n"].concat();
    // RFC 6376 §3.5 l=: only the first l octets of the canonical body are hashed.
    assert_eq!(one(&good_zone(), &appended), DkimOutcome::Pass);
    let res = run(
        VerifyOptions::default().with_reject_body_length(true),
        &good_zone(),
        &appended,
        T,
    );
    assert_eq!(
        res[0].outcome,
        DkimOutcome::Policy(PolicyViolation::BodyLength)
    );
    // l= larger than the body: the body was cut after signing.
    let cut = String::from_utf8(signed.clone())
        .unwrap()
        .replace("Hello\r\n", "");
    assert!(matches!(
        one(&good_zone(), cut.as_bytes()),
        DkimOutcome::BodyTooShort {
            body_length: 7,
            canonical_length: 0
        }
    ));
    // Without l=, the same addition breaks the body hash.
    let plain = [signed_ed(MESSAGE).as_slice(), b"appended\r\n"].concat();
    assert_eq!(one(&good_zone(), &plain), DkimOutcome::BodyHashMismatch);
}

#[test]
fn expiry_and_future_timestamps() {
    let signer = Signer::new(ed_key(), "example.com".parse().unwrap(), "ed")
        .unwrap()
        .with_expiration(3600);
    let msg = sign_with(signer, MESSAGE);
    assert_eq!(
        run(VerifyOptions::default(), &good_zone(), &msg, T + 3600)[0].outcome,
        DkimOutcome::Pass
    );
    assert_eq!(
        run(VerifyOptions::default(), &good_zone(), &msg, T + 3601)[0].outcome,
        DkimOutcome::Expired {
            expiration: T + 3600,
            now: T + 3601
        }
    );
    assert!(matches!(
        run(VerifyOptions::default(), &good_zone(), &msg, T - 301)[0].outcome,
        DkimOutcome::FutureTimestamp { .. }
    ));
    assert!(
        run(VerifyOptions::default(), &good_zone(), &msg, T - 300)[0]
            .outcome
            .is_pass()
    );
}

#[test]
fn syntax_errors_are_reported_with_d_and_s() {
    let msg = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=to; bh=AAAA; b=AAAA\r\nFrom: a@example.com\r\n\r\nx\r\n";
    let res = run(VerifyOptions::default(), &good_zone(), msg, T);
    assert!(matches!(res[0].outcome, DkimOutcome::Syntax(_)));
    assert_eq!(res[0].outcome.result(), "permerror");
    assert_eq!(res[0].domain.as_deref(), Some("example.com"));
    assert_eq!(res[0].selector.as_deref(), Some("sel"));
}

#[test]
fn signature_cap() {
    let mut msg = MESSAGE.to_vec();
    for _ in 0..7 {
        msg = signed_ed(&msg);
    }
    let res = run(VerifyOptions::default(), &good_zone(), &msg, T);
    assert_eq!(res.len(), 7);
    assert!(res[..5].iter().all(|r| r.outcome.is_pass()), "{res:?}");
    assert!(
        res[5..]
            .iter()
            .all(|r| r.outcome == DkimOutcome::NotChecked)
    );
    let res = run(
        VerifyOptions::default().with_max_signatures(7),
        &good_zone(),
        &msg,
        T,
    );
    assert!(res.iter().all(|r| r.outcome.is_pass()));
}

#[test]
fn oversigned_absent_field_blocks_addition() {
    // The default header set over-signs Cc, absent here: adding one breaks the signature.
    let msg = signed_ed(MESSAGE);
    let text = String::from_utf8(msg)
        .unwrap()
        .replace("To: b@", "Cc: evil@example.org\r\nTo: b@");
    assert_eq!(
        one(&good_zone(), text.as_bytes()),
        DkimOutcome::SignatureMismatch
    );
}

#[test]
fn lf_only_message_verifies() {
    let lf = String::from_utf8(signed_ed(MESSAGE))
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(one(&good_zone(), lf.as_bytes()), DkimOutcome::Pass);
}

#[test]
fn streaming_verification_matches_whole_message() {
    let body: Vec<u8> = b"line with  spaces \t\r\n"
        .iter()
        .copied()
        .cycle()
        .take(200_000)
        .collect();
    let msg = [MESSAGE.strip_suffix(b"Hello\r\n").unwrap(), body.as_slice()].concat();
    let signed = signed_ed(&msg);
    let split = signed.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let (header, rest) = signed.split_at(split);
    let verifier = Verifier::new(VerifyOptions::default());
    // The header block may carry the first body octets too.
    let mut ctx = verifier.begin(&signed[..split + 3]).unwrap();
    for chunk in rest[3..].chunks(4093) {
        ctx.update(chunk);
    }
    let results = pollster::block_on(ctx.finish(&good_zone(), T));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].outcome, DkimOutcome::Pass);
    // A changed octet in the streamed body is caught.
    let mut ctx = verifier.begin(header).unwrap();
    ctx.update(&rest[..1000]);
    ctx.update(b"X");
    ctx.update(&rest[1001..]);
    let results = pollster::block_on(ctx.finish(&good_zone(), T));
    assert_eq!(results[0].outcome, DkimOutcome::BodyHashMismatch);
}

/// The reason text of an unusable signature or key carries the cause: errors print their own
/// layer only (the cause is their `source()`), so the outcome writes the whole chain. RFC 6376
/// §3.2 forbids a duplicate tag in a tag-list; the detail ("duplicate tag") is the tag-list
/// error's, below the signature error.
#[test]
fn reasons_name_the_cause() {
    let msg = [
        b"DKIM-Signature: v=1; v=1; a=ed25519-sha256; d=example.com; s=ed; h=from; bh=; b=\r\n"
            .as_slice(),
        MESSAGE,
    ]
    .concat();
    let reason = one(&good_zone(), &msg).to_string();
    assert!(
        reason.starts_with("signature syntax: ") && reason.contains("duplicate tag \"v\""),
        "{reason}"
    );
    let bad_key = zone("v=DKIM1; k=ed25519; p=A; p=B", "v=DKIM1");
    let reason = one(&bad_key, &signed_ed(MESSAGE)).to_string();
    assert!(
        reason.starts_with("invalid key record: ") && reason.contains("duplicate tag \"p\""),
        "{reason}"
    );
}
