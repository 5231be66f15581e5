//! Verification (RFC 6376 §6) with the RFC 8301 policy.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use mailward_types::auth_results::MethodResult;
use mailward_types::dns::{DnsResult, Txt};
use mailward_types::message::{HeaderField, Message, MessageError};
use mailward_types::{Causes, DnsError, Domain, Resolver};

use crate::algorithm::{Canonicalization, HashAlgorithm, SigningAlgorithm};
use crate::canon::with_b_value_stripped;
use crate::crypto::{CryptoProvider, PublicKey, PublicKeyError};
use crate::hash::{BodyHash, BodyHasher};
use crate::header_hash::header_hash;
use crate::key::{KeyRecord, KeyRecordError};
use crate::signature::{DkimSignature, SignatureError};
use crate::tag_value::b64_encode;

/// Default number of signatures checked per message. RFC 6376 §6.1 lets verifiers limit the
/// signatures they check ("A Verifier MAY limit the number of signatures it tries") to bound the
/// work a hostile message can cause; real mail carries one to three.
pub const DEFAULT_MAX_SIGNATURES: usize = 5;

/// Most parsed keys kept in a [`Verifier`]'s cache; the cache is cleared when full.
pub const MAX_CACHED_KEYS: usize = 1024;

/// Default tolerance for a `t=` in the future, in seconds (clock skew between hosts). RFC 6376
/// §3.5 `t=`: "Implementations MAY ... consider signatures with timestamps in the future invalid".
pub const DEFAULT_CLOCK_SKEW: u64 = 300;

/// How a [`Verifier`] judges signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Signatures checked per message; the rest are reported as [`DkimOutcome::NotChecked`].
    pub max_signatures: usize,
    /// Accept `rsa-sha1` (RFC 8301 §3.1: "Verifiers MUST NOT consider signatures using
    /// rsa-sha1 as valid"; off by default, configurable for forensics).
    pub allow_sha1: bool,
    /// Treat signatures with `l=` as policy failures (RFC 6376 §8.2 describes the
    /// content-appending attacks `l=` enables).
    pub reject_body_length: bool,
    /// Seconds a `t=` may lie in the future before the signature fails.
    pub clock_skew: u64,
    /// The crypto backend.
    pub provider: CryptoProvider,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            max_signatures: DEFAULT_MAX_SIGNATURES,
            allow_sha1: false,
            reject_body_length: false,
            clock_skew: DEFAULT_CLOCK_SKEW,
            provider: CryptoProvider::default(),
        }
    }
}

impl VerifyOptions {
    /// Sets [`Self::max_signatures`].
    pub fn with_max_signatures(mut self, n: usize) -> Self {
        self.max_signatures = n;
        self
    }
    /// Sets [`Self::allow_sha1`].
    pub fn with_allow_sha1(mut self, allow: bool) -> Self {
        self.allow_sha1 = allow;
        self
    }
    /// Sets [`Self::reject_body_length`].
    pub fn with_reject_body_length(mut self, reject: bool) -> Self {
        self.reject_body_length = reject;
        self
    }
    /// Sets [`Self::clock_skew`].
    pub fn with_clock_skew(mut self, seconds: u64) -> Self {
        self.clock_skew = seconds;
        self
    }
    /// Sets [`Self::provider`].
    pub fn with_provider(mut self, provider: CryptoProvider) -> Self {
        self.provider = provider;
        self
    }
}

/// What the key record does not allow (RFC 6376 §6.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMismatch {
    /// `k=` is not the key type of `a=`.
    KeyType,
    /// `h=` does not list the hash of `a=`.
    HashAlgorithm,
    /// `s=` does not include `email` or `*`.
    ServiceType,
    /// `t=s` and the `i=` domain is a subdomain of `d=`.
    StrictIdentity,
}

impl fmt::Display for KeyMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::KeyType => "key type (k=) does not match the algorithm",
            Self::HashAlgorithm => "key h= does not allow the hash algorithm",
            Self::ServiceType => "key s= does not allow email",
            Self::StrictIdentity => "key t=s forbids an i= subdomain of d=",
        })
    }
}

/// A local policy the signature breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// An RSA key under 1024 bits (RFC 8301 §3.2).
    WeakKey {
        /// Modulus size.
        bits: u32,
    },
    /// `rsa-sha1` (RFC 8301 §3.1).
    Sha1,
    /// `l=` present while [`VerifyOptions::reject_body_length`] is set.
    BodyLength,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WeakKey { bits } => write!(f, "RSA key of {bits} bits is below 1024 (RFC 8301)"),
            Self::Sha1 => f.write_str("rsa-sha1 is not accepted (RFC 8301)"),
            Self::BodyLength => f.write_str("signatures with l= are not accepted"),
        }
    }
}

/// What happened to one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DkimOutcome {
    /// The signature verified.
    Pass,
    /// The `DKIM-Signature` field does not parse (RFC 6376 §6.1.1).
    Syntax(SignatureError),
    /// No key record at the selector (NXDOMAIN or no TXT).
    KeyNotFound,
    /// The key lookup failed temporarily (timeout, SERVFAIL, …).
    KeyDnsError(String),
    /// The key record does not parse or its `p=` is not a valid key.
    KeyInvalid(String),
    /// `p=` is empty: the key is revoked.
    KeyRevoked,
    /// The key record does not allow this signature.
    KeyMismatch(KeyMismatch),
    /// The computed body hash differs from `bh=`.
    BodyHashMismatch,
    /// `l=` is larger than the canonical body (RFC 6376 §3.5 `l=`: "MUST NOT be larger than the
    /// actual number of octets in the canonicalized message body").
    BodyTooShort {
        /// `l=`.
        body_length: u64,
        /// The canonical body length found.
        canonical_length: u64,
    },
    /// The signature does not verify over the header hash.
    SignatureMismatch,
    /// `x=` has passed.
    Expired {
        /// `x=`.
        expiration: u64,
        /// The time used.
        now: u64,
    },
    /// `t=` is further in the future than the allowed clock skew.
    FutureTimestamp {
        /// `t=`.
        timestamp: u64,
        /// The time used.
        now: u64,
    },
    /// A policy rejects the signature.
    Policy(PolicyViolation),
    /// Not checked: more signatures than [`VerifyOptions::max_signatures`].
    NotChecked,
}

impl DkimOutcome {
    /// The RFC 8601 §2.7.1 result token.
    pub fn result(&self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::BodyHashMismatch
            | Self::BodyTooShort { .. }
            | Self::SignatureMismatch
            | Self::KeyRevoked
            | Self::Expired { .. }
            | Self::FutureTimestamp { .. } => "fail",
            Self::Syntax(_) | Self::KeyNotFound | Self::KeyInvalid(_) | Self::KeyMismatch(_) => {
                "permerror"
            }
            Self::KeyDnsError(_) => "temperror",
            Self::Policy(_) => "policy",
            Self::NotChecked => "neutral",
        }
    }

    /// Whether the signature passed.
    pub fn is_pass(&self) -> bool {
        matches!(self, Self::Pass)
    }
}

impl fmt::Display for DkimOutcome {
    /// A short human-readable reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pass => f.write_str("signature verified"),
            Self::Syntax(e) => write!(f, "signature syntax: {}", Causes(e)),
            Self::KeyNotFound => f.write_str("no key record"),
            Self::KeyDnsError(e) => write!(f, "key lookup failed: {e}"),
            Self::KeyInvalid(e) => write!(f, "invalid key record: {e}"),
            Self::KeyRevoked => f.write_str("key revoked"),
            Self::KeyMismatch(m) => write!(f, "{m}"),
            Self::BodyHashMismatch => f.write_str("body hash did not verify"),
            Self::BodyTooShort {
                body_length,
                canonical_length,
            } => write!(
                f,
                "l={body_length} exceeds the canonical body length {canonical_length}"
            ),
            Self::SignatureMismatch => f.write_str("signature did not verify"),
            Self::Expired { expiration, now } => {
                write!(f, "signature expired at {expiration} (now {now})")
            }
            Self::FutureTimestamp { timestamp, now } => {
                write!(
                    f,
                    "signature timestamp {timestamp} is in the future (now {now})"
                )
            }
            Self::Policy(p) => write!(f, "policy: {p}"),
            Self::NotChecked => f.write_str("not checked (signature limit reached)"),
        }
    }
}

/// The result for one `DKIM-Signature` field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureResult {
    /// What happened.
    pub outcome: DkimOutcome,
    /// The parsed signature, when it parsed.
    pub signature: Option<DkimSignature>,
    /// `d=` as written (also when the signature did not parse), if found.
    pub domain: Option<String>,
    /// `s=` as written, if found.
    pub selector: Option<String>,
    /// The key record has `t=y` (the domain is testing DKIM).
    pub testing: bool,
    /// Size of the key used, when fetched.
    pub key_bits: Option<u32>,
    /// Index of the field among the message's header fields.
    pub field_index: usize,
}

impl SignatureResult {
    fn new(field_index: usize, raw_value: &[u8], outcome: DkimOutcome) -> Self {
        let text = String::from_utf8_lossy(raw_value);
        let (domain, selector) = scan_d_s(&text);
        Self {
            outcome,
            signature: None,
            domain,
            selector,
            testing: false,
            key_bits: None,
            field_index,
        }
    }

    /// The RFC 8601 `dkim` method result: `header.d`, `header.s`, `header.i`, `header.a`
    /// and `header.b` (the first 12 characters of `b=`, enough to tell signatures apart,
    /// RFC 6008 §2), with the reason for anything but pass.
    pub fn to_method_result(&self) -> MethodResult {
        let mut m = MethodResult::new("dkim", self.outcome.result());
        if !self.outcome.is_pass() {
            m = m.with_reason(self.outcome.to_string());
        }
        if self.testing {
            m = m.with_comment("key in testing mode, t=y");
        }
        if let Some(d) = &self.domain {
            m = m.with_property("header", "d", d.clone());
        }
        if let Some(s) = &self.selector {
            m = m.with_property("header", "s", s.clone());
        }
        if let Some(sig) = &self.signature {
            m = m.with_property("header", "i", sig.auid());
            m = m.with_property("header", "a", sig.algorithm.as_str());
            let b = b64_encode(&sig.signature);
            m = m.with_property("header", "b", b.chars().take(12).collect::<String>());
        }
        m
    }
}

/// Finds `d=` and `s=` in an unparseable signature, for reporting.
fn scan_d_s(text: &str) -> (Option<String>, Option<String>) {
    let mut d = None;
    let mut s = None;
    for spec in text.split(';') {
        if let Some((name, value)) = spec.split_once('=') {
            let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            match name.trim() {
                "d" => d = Some(value),
                "s" => s = Some(value),
                _ => {}
            }
        }
    }
    (d, s)
}

#[derive(Debug, Clone)]
struct CachedKey {
    record: KeyEntry,
    expires: u64,
}

/// A key record with its parsed public key (or why it did not parse), shared by the cache.
type KeyEntry = Arc<(KeyRecord, Result<PublicKey, PublicKeyError>)>;

/// A DKIM verifier: options plus a cache of parsed keys.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(resolver: impl mailward_types::Resolver, message: &[u8]) {
/// use mailward_dkim::{Verifier, VerifyOptions};
///
/// let verifier = Verifier::new(VerifyOptions::default());
/// let now = 1_700_000_000;
/// for r in verifier.verify(&resolver, message, now).await.unwrap_or_default() {
///     println!("{}", r.to_method_result());
/// }
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Verifier {
    options: VerifyOptions,
    cache: Mutex<HashMap<Domain, CachedKey>>,
}

/// A signature with everything computed locally, waiting for its key.
#[derive(Debug)]
struct Prepared<'m> {
    index: usize,
    field: HeaderField<'m>,
    sig: DkimSignature,
}

impl Verifier {
    /// A verifier with these options.
    pub fn new(options: VerifyOptions) -> Self {
        Self {
            options,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The options.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// Verifies every `DKIM-Signature` of `message` (up to the configured cap), fetching keys
    /// through `resolver`; `now` is seconds since the Unix epoch. Results are in header order
    /// (top first).
    ///
    /// # Errors
    ///
    /// A [`MessageError`] when the message cannot be split into header fields and body.
    pub async fn verify<R: Resolver>(
        &self,
        resolver: &R,
        message: &[u8],
        now: u64,
    ) -> Result<Vec<SignatureResult>, MessageError> {
        let msg = Message::parse(message)?;
        let body = msg.body();
        let mut ctx = self.start(msg);
        ctx.update(body);
        Ok(ctx.finish(resolver, now).await)
    }

    /// Starts a streaming verification from the header block alone (everything up to and
    /// including the empty line); feed the body with [`VerifyContext::update`] in chunks of any
    /// size, then call [`VerifyContext::finish`]. Memory beyond the header block is constant
    /// (one 64-octet block per distinct body canonicalization), whatever the body size.
    ///
    /// # Errors
    ///
    /// A [`MessageError`] when the header block cannot be split into fields.
    pub fn begin<'v, 'h>(
        &'v self,
        header: &'h [u8],
    ) -> Result<VerifyContext<'v, 'h>, MessageError> {
        let msg = Message::parse(header)?;
        // Octets after the header block in `header` are the start of the body.
        let body = msg.body();
        let mut ctx = self.start(msg);
        ctx.update(body);
        Ok(ctx)
    }

    fn start<'v, 'h>(&'v self, msg: Message<'h>) -> VerifyContext<'v, 'h> {
        let mut results = Vec::new();
        let mut prepared = Vec::new();
        let mut checked = 0usize;
        for (index, field) in msg
            .headers()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name_eq("DKIM-Signature"))
        {
            if checked >= self.options.max_signatures {
                results.push(SignatureResult::new(
                    index,
                    field.value,
                    DkimOutcome::NotChecked,
                ));
                continue;
            }
            checked += 1;
            match DkimSignature::parse_bytes(field.value) {
                Ok(sig) => prepared.push(Prepared {
                    index,
                    field: *field,
                    sig,
                }),
                Err(e) => results.push(SignatureResult::new(
                    index,
                    field.value,
                    DkimOutcome::Syntax(e),
                )),
            }
        }
        // One body hasher per distinct (canonicalization, hash, l=).
        let mut hashers: Vec<(BodyKey, BodyHasher)> = Vec::new();
        for p in &prepared {
            let key = body_key(&p.sig);
            if !hashers.iter().any(|(k, _)| *k == key) {
                hashers.push((key, BodyHasher::new(key.0, key.1, key.2)));
            }
        }
        VerifyContext {
            verifier: self,
            msg,
            results,
            prepared,
            hashers,
            pinned: Vec::new(),
        }
    }

    /// The policy checks that need no key (RFC 8301 sha1, `l=` by policy, `x=`, `t=`): the
    /// outcome when one fails, before any key lookup.
    fn precheck(&self, sig: &DkimSignature, now: u64) -> Option<DkimOutcome> {
        if sig.algorithm == SigningAlgorithm::RsaSha1 && !self.options.allow_sha1 {
            return Some(DkimOutcome::Policy(PolicyViolation::Sha1));
        }
        if sig.body_length.is_some() && self.options.reject_body_length {
            return Some(DkimOutcome::Policy(PolicyViolation::BodyLength));
        }
        if let Some(x) = sig.expiration {
            // RFC 6376 §3.5 x=: "Signatures MAY be considered invalid if the verification time at
            // the Verifier is past the expiration date."
            if now > x {
                return Some(DkimOutcome::Expired { expiration: x, now });
            }
        }
        if let Some(t) = sig.timestamp
            && t > now.saturating_add(self.options.clock_skew)
        {
            return Some(DkimOutcome::FutureTimestamp { timestamp: t, now });
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    async fn check<R: Resolver>(
        &self,
        resolver: &R,
        p: &Prepared<'_>,
        headers: &[HeaderField<'_>],
        body_hash: &BodyHash,
        now: u64,
        pinned: &[(Domain, KeyEntry)],
        result: &mut SignatureResult,
    ) -> DkimOutcome {
        let sig = &p.sig;
        if let Some(outcome) = self.precheck(sig, now) {
            return outcome;
        }
        let cached = match self.fetch_key(resolver, sig, now, pinned).await {
            Ok(k) => k,
            Err(outcome) => return outcome,
        };
        let (record, public) = &*cached;
        result.testing = record.is_testing();
        // RFC 6376 §6.1.2 step 6-10, in order.
        if record.is_revoked() {
            return DkimOutcome::KeyRevoked;
        }
        if !record.allows_hash(sig.algorithm.hash()) {
            return DkimOutcome::KeyMismatch(KeyMismatch::HashAlgorithm);
        }
        if record.key_type() != sig.algorithm.key_type() {
            return DkimOutcome::KeyMismatch(KeyMismatch::KeyType);
        }
        if !record.allows_email() {
            return DkimOutcome::KeyMismatch(KeyMismatch::ServiceType);
        }
        if record.is_strict() {
            let auid = sig.auid();
            let i_domain = auid.rsplit_once('@').map_or("", |(_, d)| d);
            if !i_domain.eq_ignore_ascii_case(sig.domain.as_str()) {
                return DkimOutcome::KeyMismatch(KeyMismatch::StrictIdentity);
            }
        }
        let public = match public {
            Ok(k) => k,
            Err(PublicKeyError::WeakRsaKey(bits)) => {
                result.key_bits = Some(*bits);
                return DkimOutcome::Policy(PolicyViolation::WeakKey { bits: *bits });
            }
            Err(e) => return DkimOutcome::KeyInvalid(Causes(e).to_string()),
        };
        result.key_bits = Some(public.bits());
        // RFC 6376 §6.1.3 steps 3 and 4, in the listed order: the body hash, then the signature
        // (a changed body is reported as such, and costs no signature check).
        if let Some(l) = sig.body_length
            && l > body_hash.canonical_length
        {
            return DkimOutcome::BodyTooShort {
                body_length: l,
                canonical_length: body_hash.canonical_length,
            };
        }
        if body_hash.digest != sig.body_hash {
            return DkimOutcome::BodyHashMismatch;
        }
        let digest = with_b_value_stripped(p.field.raw, |stripped| {
            header_hash(
                sig.algorithm.hash(),
                sig.canonicalization.header,
                headers,
                sig.signed_headers.iter(),
                Some(p.index),
                stripped,
            )
        });
        if !public.verify_digest(sig.algorithm, &digest, &sig.signature) {
            return DkimOutcome::SignatureMismatch;
        }
        DkimOutcome::Pass
    }

    async fn fetch_key<R: Resolver>(
        &self,
        resolver: &R,
        sig: &DkimSignature,
        now: u64,
        pinned: &[(Domain, KeyEntry)],
    ) -> Result<KeyEntry, DkimOutcome> {
        let name = sig.key_name().map_err(|e| {
            DkimOutcome::Syntax(SignatureError::InvalidSelector(format!(
                "{}: {e}",
                sig.selector
            )))
        })?;
        if let Some((_, key)) = pinned.iter().find(|(n, _)| *n == name) {
            return Ok(Arc::clone(key));
        }
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.get(&name)
            && c.expires > now
        {
            return Ok(Arc::clone(&c.record));
        }
        let lookup = match resolver.txt(&name).await {
            Ok(l) => l,
            Err(e) if e.is_void() => return Err(DkimOutcome::KeyNotFound),
            Err(e) => return Err(DkimOutcome::KeyDnsError(dns_reason(&e))),
        };
        if lookup.records.is_empty() {
            return Err(DkimOutcome::KeyNotFound);
        }
        // RFC 6376 §3.6.2.2: strings of one TXT record are concatenated. With several records,
        // the first that parses is used.
        let mut first_error: Option<KeyRecordError> = None;
        let mut record = None;
        for txt in &lookup.records {
            match KeyRecord::parse_bytes(&txt.concat()) {
                Ok(r) => {
                    record = Some(r);
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let Some(record) = record else {
            return Err(DkimOutcome::KeyInvalid(first_error.map_or_else(
                || "no key record".to_owned(),
                |e| Causes(&e).to_string(),
            )));
        };
        let public = if record.is_revoked() {
            Err(PublicKeyError::Malformed)
        } else {
            self.options
                .provider
                .parse_public_key(record.key_type(), &record.public_key)
        };
        let entry = Arc::new((record, public));
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED_KEYS {
                cache.clear();
            }
            cache.insert(
                name,
                CachedKey {
                    record: Arc::clone(&entry),
                    expires: now.saturating_add(u64::from(lookup.ttl)),
                },
            );
        }
        Ok(entry)
    }
}

type BodyKey = (Canonicalization, HashAlgorithm, Option<u64>);

/// Stands in for a missing body hash (it matches no `bh=`, which is never empty).
static NO_BODY_HASH: BodyHash = BodyHash {
    digest: Vec::new(),
    canonical_length: 0,
    hashed_length: 0,
};

fn body_key(sig: &DkimSignature) -> BodyKey {
    (
        sig.canonicalization.body,
        sig.algorithm.hash(),
        sig.body_length,
    )
}

/// TXT answers for key records, fetched by the caller: the input of
/// [`VerifyContext::finish_with`] (verification without I/O). Also a [`Resolver`] that answers
/// TXT queries from the map (a name without an entry fails with SERVFAIL) and nothing else.
#[derive(Debug, Clone, Default)]
pub struct KeyAnswers {
    answers: HashMap<Domain, DnsResult<Txt>>,
}

impl KeyAnswers {
    /// No answers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the outcome of the TXT query for `name` (records with their TTL, or the error).
    pub fn insert(&mut self, name: Domain, answer: DnsResult<Txt>) {
        self.answers.insert(name, answer);
    }

    /// As [`Self::insert`], builder style.
    pub fn with(mut self, name: Domain, answer: DnsResult<Txt>) -> Self {
        self.insert(name, answer);
        self
    }
}

impl Resolver for KeyAnswers {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.answers
            .get(name)
            .cloned()
            .unwrap_or(Err(DnsError::ServFail))
    }
    async fn a(&self, _: &Domain) -> DnsResult<std::net::Ipv4Addr> {
        Err(DnsError::ServFail)
    }
    async fn aaaa(&self, _: &Domain) -> DnsResult<std::net::Ipv6Addr> {
        Err(DnsError::ServFail)
    }
    async fn mx(&self, _: &Domain) -> DnsResult<mailward_types::dns::Mx> {
        Err(DnsError::ServFail)
    }
    async fn ptr(&self, _: std::net::IpAddr) -> DnsResult<Domain> {
        Err(DnsError::ServFail)
    }
}

/// A verification in progress: signatures parsed from the header, body hashes being computed.
#[derive(Debug)]
pub struct VerifyContext<'v, 'h> {
    verifier: &'v Verifier,
    msg: Message<'h>,
    results: Vec<SignatureResult>,
    prepared: Vec<Prepared<'h>>,
    hashers: Vec<(BodyKey, BodyHasher)>,
    /// Cached keys taken by [`Self::key_queries`], used whatever the cache does afterwards.
    pinned: Vec<(Domain, KeyEntry)>,
}

impl VerifyContext<'_, '_> {
    /// The key records (`<selector>._domainkey.<domain>`, RFC 6376 §3.6.2.1) this verification
    /// still needs, for callers that do their own DNS (sans I/O): query these TXT records, then
    /// call [`Self::finish_with`]. One name per distinct key, leaving out signatures that fail
    /// before any lookup (`rsa-sha1`, `x=`, `t=`, `l=` by policy) and keys the verifier holds in
    /// its cache (unexpired at `now`); those cached keys are kept with this context, so
    /// [`Self::finish_with`] uses them even if the cache drops them in between.
    pub fn key_queries(&mut self, now: u64) -> Vec<Domain> {
        let mut names: Vec<Domain> = Vec::new();
        let Ok(cache) = self.verifier.cache.lock() else {
            // A poisoned cache: ask for every key.
            return self
                .prepared
                .iter()
                .filter(|p| self.verifier.precheck(&p.sig, now).is_none())
                .filter_map(|p| p.sig.key_name().ok())
                .fold(Vec::new(), |mut all, n| {
                    if !all.contains(&n) {
                        all.push(n);
                    }
                    all
                });
        };
        for p in &self.prepared {
            if self.verifier.precheck(&p.sig, now).is_some() {
                continue;
            }
            let Ok(name) = p.sig.key_name() else { continue };
            if names.contains(&name) || self.pinned.iter().any(|(n, _)| *n == name) {
                continue;
            }
            match cache.get(&name).filter(|k| k.expires > now) {
                Some(k) => self.pinned.push((name, Arc::clone(&k.record))),
                None => names.push(name),
            }
        }
        names
    }

    /// As [`Self::finish`], without I/O: the key records come from `answers`, filled by the
    /// caller for the names of [`Self::key_queries`]. A name without an answer counts as a DNS
    /// failure (`temperror`), never as a missing key.
    pub fn finish_with(self, answers: &KeyAnswers, now: u64) -> Vec<SignatureResult> {
        // `KeyAnswers` answers at once, so the future completes on its first poll.
        let mut future = std::pin::pin!(self.finish(answers, now));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(results) => results,
            // Unreachable: the only awaits in `finish` are `KeyAnswers` lookups, which never
            // wait. Were it reached, no signature would pass (nothing is granted).
            std::task::Poll::Pending => {
                debug_assert!(false, "KeyAnswers lookups never wait");
                Vec::new()
            }
        }
    }

    /// Feeds the next body chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        for (_, h) in &mut self.hashers {
            h.update(chunk);
        }
    }

    /// Ends the body, fetches keys and checks each signature. Results are in header order.
    pub async fn finish<R: Resolver>(self, resolver: &R, now: u64) -> Vec<SignatureResult> {
        let Self {
            verifier,
            msg,
            mut results,
            prepared,
            hashers,
            pinned,
        } = self;
        let hashes: Vec<(BodyKey, BodyHash)> =
            hashers.into_iter().map(|(k, h)| (k, h.finish())).collect();
        // Exactly one result per signature: no spare capacity (a result is a few hundred
        // octets; a doubled buffer leaves the allocator's small bins).
        results.reserve_exact(prepared.len());
        for p in prepared {
            let mut result = SignatureResult {
                outcome: DkimOutcome::Pass,
                signature: None,
                domain: Some(p.sig.domain.as_str().to_owned()),
                selector: Some(p.sig.selector.clone()),
                testing: false,
                key_bits: None,
                field_index: p.index,
            };
            let key = body_key(&p.sig);
            // Every prepared signature has its hasher; the empty hash is never used.
            let body_hash = hashes
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(&NO_BODY_HASH, |(_, h)| h);
            result.outcome = verifier
                .check(
                    resolver,
                    &p,
                    msg.headers(),
                    body_hash,
                    now,
                    &pinned,
                    &mut result,
                )
                .await;
            result.signature = Some(p.sig);
            results.push(result);
        }
        results.sort_by_key(|r| r.field_index);
        results
    }
}

fn dns_reason(e: &DnsError) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;

    /// RFC 8463 Appendix A.3 as in `tests/data/rfc8463_a3.eml` (checked with dkimpy there).
    const MESSAGE: &[u8] = include_bytes!("../tests/data/rfc8463_a3.eml");

    fn providers() -> Vec<CryptoProvider> {
        vec![
            CryptoProvider::rust_crypto(),
            #[cfg(feature = "aws-lc-rs")]
            CryptoProvider::aws_lc_rs(),
        ]
    }

    /// Signing the header hash of each Appendix A.3 signature with the Appendix A.1/A.2 private
    /// keys gives back the RFC's own `b=` octets, with every backend: Ed25519 (RFC 8032) and
    /// RSA PKCS#1 v1.5 (RFC 8017 §8.2.1) are deterministic, so this checks header selection,
    /// b= stripping, relaxed canonicalization, hashing and signing against the RFC's values.
    #[test]
    fn signatures_of_rfc8463_a3_are_reproduced() {
        let msg = Message::parse(MESSAGE).unwrap();
        let keys = [
            (
                "ed25519",
                SigningKey::from_bytes(include_bytes!("../tests/data/rfc8463_ed25519.seed"))
                    .unwrap(),
            ),
            (
                "rsa",
                SigningKey::from_bytes(include_bytes!("../tests/data/rfc8463_rsa.pem")).unwrap(),
            ),
        ];
        let mut checked = 0;
        for (index, field) in msg.headers().iter().enumerate() {
            if !field.name_eq("DKIM-Signature") {
                continue;
            }
            let sig = DkimSignature::parse_bytes(field.value).unwrap();
            let digest = with_b_value_stripped(field.raw, |stripped| {
                header_hash(
                    sig.algorithm.hash(),
                    sig.canonicalization.header,
                    msg.headers(),
                    sig.signed_headers.iter(),
                    Some(index),
                    stripped,
                )
            });
            let (_, key) = keys
                .iter()
                .find(|(k, _)| sig.algorithm.key_type().as_str() == *k)
                .unwrap();
            for p in providers() {
                let key = key.clone().with_provider(p).unwrap();
                // aws-lc signs only with RSA keys of 2048 bits or more; the RFC's RSA key has
                // 1024, so that one stays on RustCrypto.
                if sig.algorithm.key_type() == crate::KeyType::Ed25519 {
                    assert_eq!(key.provider(), p);
                }
                let ours = key.sign_digest(sig.algorithm, &digest).unwrap();
                assert_eq!(ours, sig.signature, "{} with {p:?}", sig.algorithm);
                checked += 1;
            }
        }
        assert_eq!(checked, 2 * providers().len());
    }

    /// With a 2048-bit RSA key and an Ed25519 key, aws-lc signs (it does not fall back) and
    /// produces the octets RustCrypto produces (both schemes are deterministic).
    #[cfg(feature = "aws-lc-rs")]
    #[test]
    fn aws_lc_signs_the_same_octets_as_rust_crypto() {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(b"header hash input");
        for key in [
            SigningKey::from_bytes(include_bytes!("../tests/data/interop_rsa2048.pem")).unwrap(),
            SigningKey::from_bytes(include_bytes!("../tests/data/interop_ed25519.seed")).unwrap(),
        ] {
            let alg = key.default_algorithm();
            let rust = key
                .clone()
                .with_provider(CryptoProvider::rust_crypto())
                .unwrap();
            let aws = key.with_provider(CryptoProvider::aws_lc_rs()).unwrap();
            assert_eq!(aws.provider(), CryptoProvider::aws_lc_rs());
            assert_eq!(
                aws.sign_digest(alg, &digest).unwrap(),
                rust.sign_digest(alg, &digest).unwrap(),
                "{alg}"
            );
        }
    }
}
