//! Headline DKIM verification throughput: mailward-dkim (aws-lc-rs backend) against mail-auth
//! (its default aws-lc-rs backend) in one process, on one corpus of realistic signed messages,
//! verified on every core, interleaved.
//!
//! Neither library ever touches the network:
//! - mailward-dkim: one shared `Verifier` whose key cache is warmed by the correctness check,
//!   over an in-memory `Resolver` that answers the key TXT records (and counts its calls: none
//!   may happen while timing);
//! - mail-auth: one shared `MessageAuthenticator` whose hickory resolver (pointed at 127.0.0.1)
//!   is never asked, because every key is pre-loaded, parsed by mail-auth's own parser, into the
//!   TXT cache passed with `Parameters::with_cache`. A cache miss panics.
//!
//! Both are driven the same way: one poll of the verification future with a no-op waker (every
//! answer is in memory, so it completes at once; a `Pending` would mean a wait for I/O and
//! panics). mail-auth's `AuthenticatedMessage::parse` (which also hashes the bodies) is inside
//! the timed work, as mailward's `verify` parses the message too.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mailward_benches::realmail::{self, LineEnding};
use mailward_dkim::{
    CryptoProvider, Signer, SigningKey, Verifier, VerifyOptions, key_record_text, split_txt_strings,
};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

const LOCK: &str = include_str!("../Cargo.lock");

/// Messages in the corpus.
const MESSAGES: usize = 1_000;
/// Size classes: label, share (per mille of messages), smallest and largest size in octets.
/// Sizes are log-uniform within a class.
const CLASSES: [(&str, usize, usize, usize); 4] = [
    ("2–8 KB", 550, 2 << 10, 8 << 10),
    ("10–60 KB", 300, 10 << 10, 60 << 10),
    ("100–300 KB", 120, 100 << 10, 300 << 10),
    ("1–3 MB", 30, 1 << 20, 3 << 20),
];
/// Messages with two signatures (ESP domain + author domain), per mille.
const TWO_SIGNATURES: usize = 200;
/// ed25519-sha256 signatures, per mille of all signatures (the rest: rsa-sha256, 2048 bits).
const ED25519: usize = 150;
const RSA_BITS: usize = 2048;
/// The author domains: those the generator writes in `From` (each signs its own mail).
const AUTHOR_DOMAINS: &[&str] = realmail::FROM_DOMAINS;
/// Two ESPs, each signing the mail it sends with its own domain as well.
const ESP_DOMAINS: [&str; 2] = ["esp-one.example", "esp-two.example"];
/// Signing time (`t=`); mailward verifies an hour later (mail-auth reads the system clock, and
/// the signatures carry no `x=`).
const SIGN_TIME: u64 = 1_764_000_000;
const VERIFY_TIME: u64 = SIGN_TIME + 3_600;
/// Seed of every random choice of the corpus (sizes, classes, algorithms, ESPs).
const CORPUS_SEED: u64 = 0x6d61_696c_7761_7264;

/// Timing: a warm-up per library, then interleaved windows.
const WARM_UP: Duration = Duration::from_secs(1);
const ALL_CORES_WINDOW: Duration = Duration::from_secs(3);
const ALL_CORES_ROUNDS: usize = 5;
const ONE_CORE_WINDOW: Duration = Duration::from_secs(2);
const ONE_CORE_ROUNDS: usize = 3;

const COMMAND: &str = "cd benches/dkim-peers && CARGO_TARGET_DIR=/tmp/tgt-dkim-peers cargo run --release --ignore-rust-version";

// ---------------------------------------------------------------------------------------------
// Deterministic choices (SplitMix64).
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// `count` flags of which exactly `per_mille`‰ (rounded) are set, in random order.
fn flags(rng: &mut Rng, count: usize, per_mille: usize) -> Vec<bool> {
    let set = (count * per_mille + 500) / 1000;
    let mut v: Vec<bool> = (0..count).map(|i| i < set).collect();
    rng.shuffle(&mut v);
    v
}

// ---------------------------------------------------------------------------------------------
// Keys: an RSA-2048 and an Ed25519 key per signing domain.
// ---------------------------------------------------------------------------------------------

struct Keyring {
    /// (domain, ed25519?) -> signer.
    signers: HashMap<(&'static str, bool), Signer>,
    /// (owner name, key record text) of every selector.
    records: Vec<(String, String)>,
}

fn selector(domain: &str, ed25519: bool) -> &'static str {
    match (ESP_DOMAINS.contains(&domain), ed25519) {
        (false, false) => "rsa2025",
        (false, true) => "ed2025",
        (true, false) => "s1",
        (true, true) => "s1e",
    }
}

fn keyring() -> Keyring {
    let domains: Vec<&'static str> = AUTHOR_DOMAINS.iter().chain(&ESP_DOMAINS).copied().collect();
    // RSA key generation dominates the setup: spread it over the cores.
    let threads = parallelism().min(domains.len());
    let mut rsa: Vec<Option<SigningKey>> = (0..domains.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        for chunk in rsa.chunks_mut(domains.len().div_ceil(threads)) {
            s.spawn(move || {
                for slot in chunk {
                    *slot = Some(SigningKey::generate_rsa(RSA_BITS).expect("RSA key generation"));
                }
            });
        }
    });
    let mut signers = HashMap::new();
    let mut records = Vec::new();
    for (i, (domain, rsa)) in domains.iter().zip(rsa).enumerate() {
        let ed = SigningKey::ed25519_from_seed(&[u8::try_from(i + 1).expect("few domains"); 32]);
        for (is_ed, key) in [(false, rsa.expect("generated")), (true, ed)] {
            let sel = selector(domain, is_ed);
            records.push((
                format!("{sel}._domainkey.{domain}"),
                key_record_text(&key).expect("key record"),
            ));
            // Sign with aws-lc-rs too: the setup is faster, the signatures are the same octets.
            let key = key
                .with_provider(CryptoProvider::aws_lc_rs())
                .expect("aws-lc-rs signing key");
            let signer = Signer::new(key, domain.parse().expect("domain"), sel).expect("signer");
            signers.insert((*domain, is_ed), signer);
        }
    }
    Keyring { signers, records }
}

// ---------------------------------------------------------------------------------------------
// The corpus.
// ---------------------------------------------------------------------------------------------

/// What one message will be.
#[derive(Clone, Copy)]
struct Plan {
    size: usize,
    seed: u64,
    class: usize,
    author_ed25519: bool,
    /// The ESP index and whether its signature is ed25519, for two-signature messages.
    esp: Option<(usize, bool)>,
}

#[derive(Clone)]
struct Msg {
    bytes: Vec<u8>,
    class: usize,
    signatures: usize,
    ed25519: usize,
}

fn plans() -> Vec<Plan> {
    let mut rng = Rng(CORPUS_SEED);
    let mut classes: Vec<usize> = Vec::with_capacity(MESSAGES);
    for (c, &(_, share, _, _)) in CLASSES.iter().enumerate() {
        classes.extend(std::iter::repeat_n(c, MESSAGES * share / 1000));
    }
    assert_eq!(classes.len(), MESSAGES, "class shares must add up to 1000");
    rng.shuffle(&mut classes);
    let two = flags(&mut rng, MESSAGES, TWO_SIGNATURES);
    let signatures = MESSAGES + two.iter().filter(|&&t| t).count();
    let mut ed = flags(&mut rng, signatures, ED25519).into_iter();
    classes
        .iter()
        .zip(&two)
        .enumerate()
        .map(|(i, (&class, &two))| {
            let (_, _, lo, hi) = CLASSES[class];
            let size = (lo as f64 * (hi as f64 / lo as f64).powf(rng.unit())) as usize;
            let author_ed25519 = ed.next().expect("a flag per signature");
            let esp = two.then(|| {
                (
                    rng.below(ESP_DOMAINS.len()),
                    ed.next().expect("a flag per signature"),
                )
            });
            Plan {
                size,
                seed: i as u64 + 1,
                class,
                author_ed25519,
                esp,
            }
        })
        .collect()
}

/// The domain of the generated `From` address (one of [`AUTHOR_DOMAINS`]).
fn author_domain(message: &[u8]) -> &'static str {
    let start = message
        .windows(8)
        .position(|w| w == b"\r\nFrom: ")
        .expect("a From field")
        + 8;
    let line = &message[start..];
    let line = &line[..line.windows(2).position(|w| w == b"\r\n").expect("CRLF")];
    let line = std::str::from_utf8(line).expect("ASCII From");
    let domain = line
        .rsplit_once('@')
        .expect("an address")
        .1
        .trim_end_matches('>');
    AUTHOR_DOMAINS
        .iter()
        .find(|d| **d == domain)
        .copied()
        .unwrap_or_else(|| panic!("unexpected From domain {domain:?}"))
}

fn build(plan: &Plan, keys: &Keyring) -> Msg {
    let mut m = realmail::message(plan.size, plan.seed, LineEnding::Crlf);
    let author = author_domain(&m);
    let sign = |m: &[u8], domain: &'static str, ed: bool| -> Vec<u8> {
        let field = keys.signers[&(domain, ed)]
            .sign(m, SIGN_TIME)
            .expect("signing");
        [field.as_bytes(), m].concat()
    };
    m = sign(&m, author, plan.author_ed25519);
    let mut ed25519 = usize::from(plan.author_ed25519);
    // The ESP signs last (its field on top, covering the author's signature among the fields
    // of mailward's default header set).
    if let Some((esp, ed)) = plan.esp {
        m = sign(&m, ESP_DOMAINS[esp], ed);
        ed25519 += usize::from(ed);
    }
    Msg {
        bytes: m,
        class: plan.class,
        signatures: 1 + usize::from(plan.esp.is_some()),
        ed25519,
    }
}

fn corpus(keys: &Keyring) -> Vec<Msg> {
    let plans = plans();
    let mut out: Vec<Option<Msg>> = (0..plans.len()).map(|_| None).collect();
    let per = plans.len().div_ceil(parallelism());
    std::thread::scope(|s| {
        for (slots, plans) in out.chunks_mut(per).zip(plans.chunks(per)) {
            s.spawn(move || {
                for (slot, plan) in slots.iter_mut().zip(plans) {
                    *slot = Some(build(plan, keys));
                }
            });
        }
    });
    out.into_iter().map(|m| m.expect("built")).collect()
}

// ---------------------------------------------------------------------------------------------
// mailward-dkim: an in-memory resolver of the key records.
// ---------------------------------------------------------------------------------------------

struct KeyDns {
    txt: HashMap<Domain, Lookup<Txt>>,
    calls: AtomicUsize,
}

impl KeyDns {
    fn new(records: &[(String, String)]) -> Self {
        let txt = records
            .iter()
            .map(|(name, text)| {
                // As published: character-strings of at most 255 octets.
                let strings = split_txt_strings(text)
                    .into_iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect();
                (
                    Domain::new(name).expect("owner name"),
                    Lookup::new(vec![Txt::new(strings)], 86_400),
                )
            })
            .collect();
        Self {
            txt,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Resolver for KeyDns {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.txt.get(name).cloned().ok_or(DnsError::NXDOMAIN)
    }
    async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> {
        Err(DnsError::NXDOMAIN)
    }
    async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> {
        Err(DnsError::NXDOMAIN)
    }
    async fn mx(&self, _: &Domain) -> DnsResult<Mx> {
        Err(DnsError::NXDOMAIN)
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        Err(DnsError::NXDOMAIN)
    }
}

// ---------------------------------------------------------------------------------------------
// mail-auth: a TXT cache pre-loaded with the parsed key records. mail-auth ships the cache
// traits, not a cache; this one is a read-locked hash map without expiry checks (the cheapest a
// caller could write, so mail-auth's column is, if anything, optimistic). A miss panics: it
// would mean a DNS query.
// ---------------------------------------------------------------------------------------------

struct TxtCache(RwLock<HashMap<Box<str>, mail_auth::TxtRecord>>);

impl mail_auth::ResolverCache<Box<str>, mail_auth::TxtRecord> for TxtCache {
    fn get<Q>(&self, name: &Q) -> Option<mail_auth::TxtRecord>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        match self.0.read().expect("lock").get(name) {
            Some(v) => Some(v.clone()),
            None => panic!("mail-auth TXT cache miss: it would query DNS (the benchmark must not)"),
        }
    }
    fn remove<Q>(&self, name: &Q) -> Option<mail_auth::TxtRecord>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.0.write().expect("lock").remove(name)
    }
    fn insert(&self, key: Box<str>, value: mail_auth::TxtRecord, _valid_until: Instant) {
        self.0.write().expect("lock").insert(key, value);
    }
}

/// The caches handed to mail-auth: DKIM verification reads only the TXT cache; the others are
/// disabled.
struct MaCaches {
    txt: TxtCache,
}

impl mail_auth::DnsCache for MaCaches {
    type Txt = TxtCache;
    type Mx = mail_auth::NoCache;
    type Ipv4 = mail_auth::NoCache;
    type Ipv6 = mail_auth::NoCache;
    type Ptr = mail_auth::NoCache;

    fn txt(&self) -> Option<&Self::Txt> {
        Some(&self.txt)
    }
    fn mx(&self) -> Option<&Self::Mx> {
        None
    }
    fn ipv4(&self) -> Option<&Self::Ipv4> {
        None
    }
    fn ipv6(&self) -> Option<&Self::Ipv6> {
        None
    }
    fn ptr(&self) -> Option<&Self::Ptr> {
        None
    }
}

impl MaCaches {
    /// The TXT cache as mail-auth's own `txt_lookup::<DomainKey>` leaves it after a query: the
    /// key under the fully qualified owner name, the record's character-strings concatenated
    /// (as its hickory glue does), parsed by `DomainKey`'s `TxtRecordParser::parse_records`.
    fn preload(records: &[(String, String)]) -> Self {
        use mail_auth::ResolverCache;
        use mail_auth::dns::TxtRecordParser;
        let txt = TxtCache(RwLock::new(HashMap::new()));
        let expires = Instant::now() + Duration::from_secs(86_400);
        for (name, text) in records {
            let parsed = <mail_auth::dkim::DomainKey as TxtRecordParser>::parse_records(&[text
                .as_bytes()
                .to_vec()])
            .expect("mail-auth parses the key record");
            txt.insert(
                format!("{name}.").into_boxed_str(),
                mail_auth::TxtRecord::from(parsed),
                expires,
            );
        }
        Self { txt }
    }
}

fn ma_authenticator() -> mail_auth::MessageAuthenticator {
    use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    // Never queried (the cache answers everything); a loopback server keeps any accident local.
    let config = ResolverConfig::from_name_servers(vec![NameServerConfig::udp(IpAddr::from([
        127, 0, 0, 1,
    ]))]);
    mail_auth::MessageAuthenticator::new(config, ResolverOpts::default())
        .expect("hickory resolver builds")
}

// ---------------------------------------------------------------------------------------------
// Both verifiers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lib {
    Mailward,
    MailAuth,
}

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Self::Mailward => "mailward-dkim",
            Self::MailAuth => "mail-auth",
        }
    }
}

/// Polls a future once with a no-op waker: every answer is in memory, so it is ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a verification waited for I/O (a key was not in memory)"),
    }
}

struct Engines {
    mw: Verifier,
    mw_dns: KeyDns,
    ma: mail_auth::MessageAuthenticator,
    ma_caches: MaCaches,
}

impl Engines {
    /// Verifies `message` with `lib`: the number of passing signatures.
    #[inline(always)]
    fn verify(&self, lib: Lib, message: &[u8]) -> usize {
        match lib {
            Lib::Mailward => ready(self.mw.verify(&self.mw_dns, message, VERIFY_TIME))
                .map_or(0, |rs| rs.iter().filter(|r| r.outcome.is_pass()).count()),
            Lib::MailAuth => {
                let Some(m) = mail_auth::AuthenticatedMessage::parse(message) else {
                    return 0;
                };
                let params = mail_auth::Parameters::new(&m).with_cache(&self.ma_caches);
                ready(self.ma.verify_dkim(params))
                    .iter()
                    .filter(|o| matches!(o.result(), mail_auth::DkimResult::Pass))
                    .count()
            }
        }
    }

    /// Both libraries must find every signature of `msg`, and every one must pass.
    fn check(&self, i: usize, msg: &Msg) {
        let mw = ready(self.mw.verify(&self.mw_dns, &msg.bytes, VERIFY_TIME))
            .unwrap_or_else(|e| panic!("message {i}: mailward cannot parse it: {e}"));
        assert!(
            mw.len() == msg.signatures && mw.iter().all(|r| r.outcome.is_pass()),
            "message {i}: mailward-dkim: {:?}",
            mw.iter().map(|r| r.outcome.to_string()).collect::<Vec<_>>()
        );
        let m = mail_auth::AuthenticatedMessage::parse(&msg.bytes)
            .unwrap_or_else(|| panic!("message {i}: mail-auth cannot parse it"));
        let ma = ready(
            self.ma
                .verify_dkim(mail_auth::Parameters::new(&m).with_cache(&self.ma_caches)),
        );
        assert!(
            ma.len() == msg.signatures
                && ma
                    .iter()
                    .all(|o| matches!(o.result(), mail_auth::DkimResult::Pass)),
            "message {i}: mail-auth: {:?}",
            ma.iter()
                .map(|o| format!("{:?}", o.result()))
                .collect::<Vec<_>>()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Timing.
// ---------------------------------------------------------------------------------------------

/// One window of one library: summed over the threads.
#[derive(Clone, Copy)]
struct Sample {
    messages_per_s: f64,
    gb_per_s: f64,
}

/// Every thread verifies its own slice over and over (from `offset` into it, wrapping) for
/// `window`, all starting together; the rates of the threads add up.
fn run(engines: &Engines, lib: Lib, slices: &[&[Msg]], window: Duration, offset: usize) -> Sample {
    let barrier = Barrier::new(slices.len());
    let per_thread: Vec<(f64, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = slices
            .iter()
            .map(|&slice| {
                let barrier = &barrier;
                s.spawn(move || {
                    let mut i = offset % slice.len();
                    let (mut messages, mut bytes) = (0u64, 0u64);
                    let (mut passed, mut expected) = (0usize, 0usize);
                    barrier.wait();
                    let start = Instant::now();
                    loop {
                        let msg = &slice[i];
                        passed += engines.verify(lib, black_box(&msg.bytes));
                        expected += msg.signatures;
                        messages += 1;
                        bytes += msg.bytes.len() as u64;
                        i += 1;
                        if i == slice.len() {
                            i = 0;
                        }
                        let elapsed = start.elapsed();
                        if elapsed >= window {
                            assert_eq!(passed, expected, "{}: a signature failed", lib.name());
                            let secs = elapsed.as_secs_f64();
                            return (messages as f64 / secs, bytes as f64 / secs);
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread"))
            .collect()
    });
    Sample {
        messages_per_s: per_thread.iter().map(|t| t.0).sum(),
        gb_per_s: per_thread.iter().map(|t| t.1).sum::<f64>() / 1e9,
    }
}

/// `threads` contiguous slices of the corpus holding about the same number of octets.
fn split(corpus: &[Msg], threads: usize) -> Vec<&[Msg]> {
    let total: usize = corpus.iter().map(|m| m.bytes.len()).sum();
    let mut slices = Vec::with_capacity(threads);
    let (mut start, mut acc) = (0, 0);
    for (i, m) in corpus.iter().enumerate() {
        acc += m.bytes.len();
        if slices.len() + 1 < threads && acc * threads >= total * (slices.len() + 1) {
            slices.push(&corpus[start..=i]);
            start = i + 1;
        }
    }
    slices.push(&corpus[start..]);
    assert!(
        slices.iter().all(|s| !s.is_empty()),
        "a thread without messages"
    );
    slices
}

/// Interleaved windows, the first library alternating: per library, its samples in order.
fn rounds(engines: &Engines, slices: &[&[Msg]], window: Duration, n: usize) -> [Vec<Sample>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for round in 0..n {
        let order = if round % 2 == 0 {
            [Lib::Mailward, Lib::MailAuth]
        } else {
            [Lib::MailAuth, Lib::Mailward]
        };
        for lib in order {
            let s = run(engines, lib, slices, window, round * 7_919);
            out[usize::from(lib == Lib::MailAuth)].push(s);
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Summary {
    messages: f64,
    gb: f64,
    min: f64,
    max: f64,
}

fn summarize(samples: &[Sample]) -> Summary {
    let m: Vec<f64> = samples.iter().map(|s| s.messages_per_s).collect();
    Summary {
        messages: median(m.clone()),
        gb: median(samples.iter().map(|s| s.gb_per_s).collect()),
        min: m.iter().copied().fold(f64::INFINITY, f64::min),
        max: m.iter().copied().fold(0.0, f64::max),
    }
}

// ---------------------------------------------------------------------------------------------
// Reporting helpers.
// ---------------------------------------------------------------------------------------------

fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn lock_version(name: &str) -> &str {
    let needle = format!("name = \"{name}\"\nversion = \"");
    LOCK.find(&needle)
        .and_then(|i| LOCK[i + needle.len()..].split('"').next())
        .unwrap_or("?")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `12345.6` -> `12 346`.
fn grouped(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn mb(octets: usize) -> String {
    format!("{:.1} MB", octets as f64 / 1e6)
}

fn main() {
    let threads = parallelism();
    println!(
        "mailward-dkim {} (path ../../dkim, aws-lc-rs) / mail-auth {} (aws-lc-rs) / aws-lc-rs {} — {} — {} threads — load average at start {}\n",
        lock_version("mailward-dkim"),
        lock_version("mail-auth"),
        lock_version("aws-lc-rs"),
        cpu_model(),
        threads,
        load_average()
    );

    let t = Instant::now();
    let keys = keyring();
    let keygen = t.elapsed();
    let t = Instant::now();
    let corpus = corpus(&keys);
    let build_time = t.elapsed();

    // The corpus, as built.
    let total: usize = corpus.iter().map(|m| m.bytes.len()).sum();
    let signatures: usize = corpus.iter().map(|m| m.signatures).sum();
    let ed25519: usize = corpus.iter().map(|m| m.ed25519).sum();
    let two = corpus.iter().filter(|m| m.signatures == 2).count();
    println!(
        "Corpus: {} messages, {} (mean {:.1} KB), from `mailward_benches::realmail::message(size, seed, Crlf)`, seeds 1..={}:",
        corpus.len(),
        mb(total),
        total as f64 / corpus.len() as f64 / 1e3,
        corpus.len()
    );
    println!("\n| class | messages | share of messages | octets | share of octets |");
    println!("|---|---:|---:|---:|---:|");
    for (c, (label, _, _, _)) in CLASSES.iter().enumerate() {
        let n = corpus.iter().filter(|m| m.class == c).count();
        let o: usize = corpus
            .iter()
            .filter(|m| m.class == c)
            .map(|m| m.bytes.len())
            .sum();
        println!(
            "| {label} | {n} | {:.0} % | {} | {:.0} % |",
            100.0 * n as f64 / corpus.len() as f64,
            mb(o),
            100.0 * o as f64 / total as f64
        );
    }
    println!(
        "\nSignatures: {signatures} ({} rsa-sha256 with {RSA_BITS}-bit keys, {ed25519} ed25519-sha256), relaxed/relaxed; \
         {two} messages carry two (ESP domain on top, author domain below). {} selectors \
         ({} author domains + {} ESPs, one RSA and one Ed25519 key each).",
        signatures - ed25519,
        keys.records.len(),
        AUTHOR_DOMAINS.len(),
        ESP_DOMAINS.len()
    );
    println!(
        "Setup: {} RSA-{RSA_BITS} keys generated in {:.1} s; corpus generated and signed in {:.1} s.\n",
        AUTHOR_DOMAINS.len() + ESP_DOMAINS.len(),
        keygen.as_secs_f64(),
        build_time.as_secs_f64()
    );

    let engines = Engines {
        mw: Verifier::new(VerifyOptions::default().with_provider(CryptoProvider::aws_lc_rs())),
        mw_dns: KeyDns::new(&keys.records),
        ma: ma_authenticator(),
        ma_caches: MaCaches::preload(&keys.records),
    };

    // Correctness first; this also warms mailward's key cache (one TXT query per selector).
    for (i, m) in corpus.iter().enumerate() {
        engines.check(i, m);
    }
    let warm_queries = engines.mw_dns.calls.load(Ordering::Relaxed);
    println!(
        "Check: all {signatures} signatures of the {} messages verify as pass with both libraries \
         (mailward's key cache warmed by {warm_queries} TXT queries, one per selector; mail-auth's \
         TXT cache pre-loaded).\n",
        corpus.len()
    );

    let all = split(&corpus, threads);
    let one = [&corpus[..]];
    for lib in [Lib::Mailward, Lib::MailAuth] {
        run(&engines, lib, &all, WARM_UP, 0);
    }
    let [mw_all, ma_all] = rounds(&engines, &all, ALL_CORES_WINDOW, ALL_CORES_ROUNDS);
    let [mw_one, ma_one] = rounds(&engines, &one, ONE_CORE_WINDOW, ONE_CORE_ROUNDS);
    assert_eq!(
        engines.mw_dns.calls.load(Ordering::Relaxed),
        warm_queries,
        "mailward queried its resolver while timing: the key cache did not hold"
    );
    for (i, m) in corpus.iter().enumerate().step_by(97) {
        engines.check(i, m);
    }

    let (mw_all, ma_all, mw_one, ma_one) = (
        summarize(&mw_all),
        summarize(&ma_all),
        summarize(&mw_one),
        summarize(&ma_one),
    );
    println!(
        "| {} threads unless noted | mailward-dkim {} | mail-auth {} | mailward / mail-auth |",
        threads,
        lock_version("mailward-dkim"),
        lock_version("mail-auth")
    );
    println!("|---|---:|---:|---:|");
    let row = |label: &str, a: f64, b: f64, fmt: &dyn Fn(f64) -> String| {
        println!("| {label} | {} | {} | {:.2} |", fmt(a), fmt(b), a / b);
    };
    let gbs = |x: f64| format!("{x:.2}");
    row(
        "all cores: messages/s",
        mw_all.messages,
        ma_all.messages,
        &grouped,
    );
    row("all cores: GB/s", mw_all.gb, ma_all.gb, &gbs);
    row(
        "single core: messages/s",
        mw_one.messages,
        ma_one.messages,
        &grouped,
    );
    row("single core: GB/s", mw_one.gb, ma_one.gb, &gbs);
    println!(
        "\nMedian of {ALL_CORES_ROUNDS} windows of {} s on all cores ({} threads, one contiguous \
         slice of the corpus each, balanced by octets) and {ONE_CORE_ROUNDS} windows of {} s on \
         one thread (whole corpus); the libraries alternate window by window after a {} s \
         warm-up each. GB/s = 10^9 octets of whole signed messages per second. Range of \
         messages/s over the windows: all cores mailward {}–{}, mail-auth {}–{}; single core \
         mailward {}–{}, mail-auth {}–{}. Load average at the end: {}.",
        ALL_CORES_WINDOW.as_secs(),
        all.len(),
        ONE_CORE_WINDOW.as_secs(),
        WARM_UP.as_secs(),
        grouped(mw_all.min),
        grouped(mw_all.max),
        grouped(ma_all.min),
        grouped(ma_all.max),
        grouped(mw_one.min),
        grouped(mw_one.max),
        grouped(ma_one.min),
        grouped(ma_one.max),
        load_average()
    );

    // Per size class on one core: "never slower than mail-auth at any size" is a claim about
    // every class, not the mix.
    println!(
        "\n| one core, by class | mailward messages/s | mail-auth messages/s | mailward / mail-auth |"
    );
    println!("|---|---:|---:|---:|");
    for (c, (label, _, _, _)) in CLASSES.iter().enumerate() {
        let class: Vec<Msg> = corpus.iter().filter(|m| m.class == c).cloned().collect();
        let [mw, ma] = rounds(&engines, &[&class[..]], ONE_CORE_WINDOW, ONE_CORE_ROUNDS);
        let (mw, ma) = (summarize(&mw), summarize(&ma));
        println!(
            "| {label} | {} | {} | {:.2} |",
            grouped(mw.messages),
            grouped(ma.messages),
            mw.messages / ma.messages
        );
    }
    println!("\nCommand: `{COMMAND}`");
}
