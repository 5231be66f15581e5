//! mailward-spf against two independent Rust SPF implementations, viaspf and mail-auth, in one
//! process: same in-memory DNS data, same queries, interleaved timing.
//!
//! Every library answers from memory (no socket is ever opened):
//! - mailward-spf: a `Resolver` over hash maps;
//! - viaspf: a `Lookup` over hash maps;
//! - mail-auth: a `MessageAuthenticator` whose hickory resolver is never asked, because every
//!   lookup of the evaluation is served by the `DnsCache` passed with `Parameters::with_cache`,
//!   pre-loaded with records parsed by mail-auth's own parser. A cache miss panics instead of
//!   letting mail-auth go to the network.
//!
//! All columns are driven the same way: `pollster::block_on` per evaluation, inside the context
//! of a current-thread tokio runtime (built once) so viaspf's default per-evaluation timeout can
//! register.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mailward_spf::{Query, RecordCache};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

const CHAIN: &str = include_str!("../../../spf/tests/data/provider_chain.txt");
const LOCK: &str = include_str!("../Cargo.lock");

/// Evaluations per batch, batches (rounds) per column.
const BATCH: usize = 2_000;
const ROUNDS: usize = 30;
/// The fixed clock reading of the warm mailward columns (seconds since the epoch).
const NOW: u64 = 1_700_000_000;

// ---------------------------------------------------------------------------------------------
// The data set of a scenario, shared by all libraries.
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Zone {
    txt: Vec<(String, String)>,
    a: Vec<(String, Vec<Ipv4Addr>)>,
    aaaa: Vec<(String, Vec<Ipv6Addr>)>,
    mx: Vec<(String, Vec<(u16, String)>)>,
}

impl Zone {
    /// Every owner name with at least one record (other types at these names are NODATA, any
    /// other name NXDOMAIN).
    fn names(&self) -> HashSet<String> {
        let mut s = HashSet::new();
        s.extend(self.txt.iter().map(|(n, _)| n.clone()));
        s.extend(self.a.iter().map(|(n, _)| n.clone()));
        s.extend(self.aaaa.iter().map(|(n, _)| n.clone()));
        s.extend(self.mx.iter().map(|(n, _)| n.clone()));
        s
    }
}

fn chain_zone() -> Zone {
    let txt = CHAIN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, record) = l.split_once(' ').expect("`name record` line");
            (name.to_owned(), record.trim().to_owned())
        })
        .collect();
    Zone {
        txt,
        ..Zone::default()
    }
}

fn ip4_zone() -> Zone {
    Zone {
        txt: vec![("example.org".into(), "v=spf1 ip4:192.0.2.0/24 -all".into())],
        ..Zone::default()
    }
}

fn mx_zone() -> Zone {
    let v4 = |s: &str| s.parse::<Ipv4Addr>().expect("IPv4 literal");
    Zone {
        txt: vec![("example.net".into(), "v=spf1 mx a -all".into())],
        a: vec![
            ("example.net".into(), vec![v4("198.51.100.80")]),
            ("mx1.example.net".into(), vec![v4("198.51.100.1")]),
            ("mx2.example.net".into(), vec![v4("198.51.100.2")]),
        ],
        aaaa: vec![],
        mx: vec![(
            "example.net".into(),
            vec![
                (10, "mx1.example.net".into()),
                (20, "mx2.example.net".into()),
            ],
        )],
    }
}

struct Scenario {
    name: &'static str,
    zone: Zone,
    ip: IpAddr,
    sender: &'static str,
    helo: &'static str,
    expected: &'static str,
}

fn scenarios() -> Vec<Scenario> {
    let ip = |s: &str| s.parse::<IpAddr>().expect("IP literal");
    vec![
        Scenario {
            name: "provider chain (4 includes, 30 ip terms) -> pass",
            zone: chain_zone(),
            ip: ip("203.0.113.77"),
            sender: "user@example.com",
            helo: "mx.example.com",
            expected: "pass",
        },
        Scenario {
            name: "ip4:192.0.2.0/24 -all -> pass",
            zone: ip4_zone(),
            ip: ip("192.0.2.10"),
            sender: "user@example.org",
            helo: "mx.example.org",
            expected: "pass",
        },
        Scenario {
            name: "mx a -all, client = 2nd MX -> pass",
            zone: mx_zone(),
            ip: ip("198.51.100.2"),
            sender: "user@example.net",
            helo: "mx2.example.net",
            expected: "pass",
        },
        // 192.0.2.200 matches no term: every include evaluates to softfail (`~all`), which an
        // include does not pass up (RFC 7208 §5.2), so the top record's `-all` decides.
        Scenario {
            name: "provider chain, no match -> fail",
            zone: chain_zone(),
            ip: ip("192.0.2.200"),
            sender: "user@example.com",
            helo: "mx.example.com",
            expected: "fail",
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// mailward-spf: a `Resolver` over the zone.
// ---------------------------------------------------------------------------------------------

struct MwResolver {
    names: HashSet<Domain>,
    txt: HashMap<Domain, Lookup<Txt>>,
    a: HashMap<Domain, Lookup<Ipv4Addr>>,
    aaaa: HashMap<Domain, Lookup<Ipv6Addr>>,
    mx: HashMap<Domain, Lookup<Mx>>,
}

fn dom(s: &str) -> Domain {
    Domain::new(s).expect("valid domain")
}

impl MwResolver {
    fn new(z: &Zone) -> Self {
        let mut txt: HashMap<Domain, Lookup<Txt>> = HashMap::new();
        for (n, r) in &z.txt {
            txt.entry(dom(n))
                .or_insert_with(|| Lookup::new(Vec::new(), 300))
                .records
                .push(Txt::from(r.as_str()));
        }
        Self {
            names: z.names().iter().map(|n| dom(n)).collect(),
            txt,
            a: z.a
                .iter()
                .map(|(n, v)| (dom(n), Lookup::new(v.clone(), 300)))
                .collect(),
            aaaa: z
                .aaaa
                .iter()
                .map(|(n, v)| (dom(n), Lookup::new(v.clone(), 300)))
                .collect(),
            mx: z
                .mx
                .iter()
                .map(|(n, v)| {
                    let recs = v.iter().map(|(p, x)| Mx::new(*p, dom(x))).collect();
                    (dom(n), Lookup::new(recs, 300))
                })
                .collect(),
        }
    }

    fn answer<T: Clone>(&self, map: &HashMap<Domain, Lookup<T>>, name: &Domain) -> DnsResult<T> {
        match map.get(name) {
            Some(l) => Ok(l.clone()),
            None if self.names.contains(name) => Err(DnsError::NODATA),
            None => Err(DnsError::NXDOMAIN),
        }
    }
}

impl Resolver for MwResolver {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.answer(&self.txt, name)
    }
    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.answer(&self.a, name)
    }
    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.answer(&self.aaaa, name)
    }
    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.answer(&self.mx, name)
    }
    async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> {
        Err(DnsError::NXDOMAIN)
    }
}

// ---------------------------------------------------------------------------------------------
// viaspf: a `Lookup` over the zone (keys are fully qualified, as viaspf's `Name` is).
// ---------------------------------------------------------------------------------------------

struct ViaLookup {
    txt: HashMap<String, Vec<String>>,
    a: HashMap<String, Vec<Ipv4Addr>>,
    aaaa: HashMap<String, Vec<Ipv6Addr>>,
    mx: HashMap<String, Vec<viaspf::lookup::Name>>,
}

fn fqdn(s: &str) -> String {
    let mut s = s.trim_end_matches('.').to_ascii_lowercase();
    s.push('.');
    s
}

impl ViaLookup {
    fn new(z: &Zone) -> Self {
        let mut txt: HashMap<String, Vec<String>> = HashMap::new();
        for (n, r) in &z.txt {
            txt.entry(fqdn(n)).or_default().push(r.clone());
        }
        Self {
            txt,
            a: z.a.iter().map(|(n, v)| (fqdn(n), v.clone())).collect(),
            aaaa: z.aaaa.iter().map(|(n, v)| (fqdn(n), v.clone())).collect(),
            mx: z
                .mx
                .iter()
                .map(|(n, v)| {
                    let mut v = v.clone();
                    v.sort_by_key(|(p, _)| *p);
                    let names = v
                        .iter()
                        .map(|(_, x)| viaspf::lookup::Name::new(x).expect("valid name"))
                        .collect();
                    (fqdn(n), names)
                })
                .collect(),
        }
    }
}

fn via_get<T: Clone>(
    map: &HashMap<String, Vec<T>>,
    name: &viaspf::lookup::Name,
) -> viaspf::lookup::LookupResult<Vec<T>> {
    // viaspf passes names as given in the record (no case folding); the zone is lower case.
    let key = name.as_str();
    let hit = match map.get(key) {
        Some(v) => Some(v),
        None if key.bytes().any(|b| b.is_ascii_uppercase()) => {
            map.get(key.to_ascii_lowercase().as_str())
        }
        None => None,
    };
    hit.cloned().ok_or(viaspf::lookup::LookupError::NoRecords)
}

#[async_trait::async_trait]
impl viaspf::lookup::Lookup for ViaLookup {
    async fn lookup_a<'lookup, 'a>(
        &'lookup self,
        name: &'a viaspf::lookup::Name,
    ) -> viaspf::lookup::LookupResult<Vec<Ipv4Addr>> {
        via_get(&self.a, name)
    }
    async fn lookup_aaaa<'lookup, 'a>(
        &'lookup self,
        name: &'a viaspf::lookup::Name,
    ) -> viaspf::lookup::LookupResult<Vec<Ipv6Addr>> {
        via_get(&self.aaaa, name)
    }
    async fn lookup_mx<'lookup, 'a>(
        &'lookup self,
        name: &'a viaspf::lookup::Name,
    ) -> viaspf::lookup::LookupResult<Vec<viaspf::lookup::Name>> {
        via_get(&self.mx, name)
    }
    async fn lookup_txt<'lookup, 'a>(
        &'lookup self,
        name: &'a viaspf::lookup::Name,
    ) -> viaspf::lookup::LookupResult<Vec<String>> {
        via_get(&self.txt, name)
    }
    async fn lookup_ptr<'lookup>(
        &'lookup self,
        _: IpAddr,
    ) -> viaspf::lookup::LookupResult<Vec<viaspf::lookup::Name>> {
        Err(viaspf::lookup::LookupError::NoRecords)
    }
}

fn via_result(r: &viaspf::SpfResult) -> &'static str {
    use viaspf::SpfResult as R;
    match r {
        R::None => "none",
        R::Neutral => "neutral",
        R::Pass => "pass",
        R::Fail(_) => "fail",
        R::Softfail => "softfail",
        R::Temperror => "temperror",
        R::Permerror => "permerror",
    }
}

// ---------------------------------------------------------------------------------------------
// mail-auth: a `DnsCache` pre-loaded from the zone. mail-auth ships the traits, not a cache;
// this one is a plain locked hash map without expiry checks (the cheapest a caller could write,
// so mail-auth's column is, if anything, optimistic). A miss panics: it would mean a DNS query.
// ---------------------------------------------------------------------------------------------

struct MapCache<K, V> {
    kind: &'static str,
    map: Mutex<HashMap<K, V>>,
}

impl<K: Hash + Eq, V> MapCache<K, V> {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            map: Mutex::new(HashMap::new()),
        }
    }
    fn put(&self, k: K, v: V) {
        self.map.lock().expect("lock").insert(k, v);
    }
}

impl<K: Hash + Eq, V: Clone> mail_auth::ResolverCache<K, V> for MapCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.map.lock().expect("lock");
        match map.get(name) {
            Some(v) => Some(v.clone()),
            None => panic!(
                "mail-auth {} cache miss: it would query DNS (the benchmark must not)",
                self.kind
            ),
        }
    }
    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.lock().expect("lock").remove(name)
    }
    fn insert(&self, key: K, value: V, _valid_until: Instant) {
        self.put(key, value);
    }
}

type MaAnswer<T> = Result<mail_auth::RecordSet<T>, mail_auth::Negative>;

struct MaCaches {
    txt: MapCache<Box<str>, mail_auth::TxtRecord>,
    mx: MapCache<Box<str>, MaAnswer<mail_auth::Mx>>,
    ipv4: MapCache<Box<str>, MaAnswer<Ipv4Addr>>,
    ipv6: MapCache<Box<str>, MaAnswer<Ipv6Addr>>,
    ptr: MapCache<IpAddr, MaAnswer<Box<str>>>,
}

impl mail_auth::DnsCache for MaCaches {
    type Txt = MapCache<Box<str>, mail_auth::TxtRecord>;
    type Mx = MapCache<Box<str>, MaAnswer<mail_auth::Mx>>;
    type Ipv4 = MapCache<Box<str>, MaAnswer<Ipv4Addr>>;
    type Ipv6 = MapCache<Box<str>, MaAnswer<Ipv6Addr>>;
    type Ptr = MapCache<IpAddr, MaAnswer<Box<str>>>;

    fn txt(&self) -> Option<&Self::Txt> {
        Some(&self.txt)
    }
    fn mx(&self) -> Option<&Self::Mx> {
        Some(&self.mx)
    }
    fn ipv4(&self) -> Option<&Self::Ipv4> {
        Some(&self.ipv4)
    }
    fn ipv6(&self) -> Option<&Self::Ipv6> {
        Some(&self.ipv6)
    }
    fn ptr(&self) -> Option<&Self::Ptr> {
        Some(&self.ptr)
    }
}

fn ma_set<T>(v: Vec<T>) -> MaAnswer<T> {
    Ok(mail_auth::RecordSet {
        records: Arc::from(v.into_boxed_slice()),
        dnssec_status: mail_auth::DnssecStatus::Indeterminate,
    })
}

impl MaCaches {
    /// The caches as mail-auth's own lookups would leave them after one evaluation: TXT as
    /// parsed `SpfRecord`s (by mail-auth's parser), MX grouped by preference, A/AAAA sets, and
    /// negative answers for the other types at the zone's names.
    fn preload(z: &Zone) -> Self {
        use mail_auth::dns::TxtRecordParser;
        use mail_auth::hickory_resolver::proto::op::ResponseCode;
        let c = Self {
            txt: MapCache::new("TXT"),
            mx: MapCache::new("MX"),
            ipv4: MapCache::new("A"),
            ipv6: MapCache::new("AAAA"),
            ptr: MapCache::new("PTR"),
        };
        let key = |n: &str| fqdn(n).into_boxed_str();
        let mut txt: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();
        for (n, r) in &z.txt {
            txt.entry(n).or_default().push(r.as_bytes().to_vec());
        }
        for (n, records) in txt {
            let parsed = <mail_auth::spf::SpfRecord as TxtRecordParser>::parse_records(&records)
                .expect("mail-auth parses the record");
            c.txt.put(key(n), mail_auth::TxtRecord::from(parsed));
        }
        for (n, v) in &z.a {
            c.ipv4.put(key(n), ma_set(v.clone()));
        }
        for (n, v) in &z.aaaa {
            c.ipv6.put(key(n), ma_set(v.clone()));
        }
        for (n, v) in &z.mx {
            let mut groups: Vec<mail_auth::Mx> = Vec::new();
            let mut v = v.clone();
            v.sort_by_key(|(p, _)| *p);
            for (p, x) in v {
                match groups.iter_mut().find(|g| g.preference == p) {
                    Some(g) => {
                        let mut e = std::mem::take(&mut g.exchanges).into_vec();
                        e.push(x.into_boxed_str());
                        g.exchanges = e.into_boxed_slice();
                    }
                    None => groups.push(mail_auth::Mx {
                        exchanges: vec![x.into_boxed_str()].into_boxed_slice(),
                        preference: p,
                    }),
                }
            }
            c.mx.put(key(n), ma_set(groups));
        }
        // NODATA for the types a name lacks (what a cached negative answer with SOA looks like).
        let nodata = mail_auth::Negative {
            code: ResponseCode::NoError,
        };
        for n in z.names() {
            let k = key(&n);
            if !z.a.iter().any(|(m, _)| *m == n) {
                c.ipv4.put(k.clone(), Err(nodata));
            }
            if !z.aaaa.iter().any(|(m, _)| *m == n) {
                c.ipv6.put(k.clone(), Err(nodata));
            }
            if !z.mx.iter().any(|(m, _)| *m == n) {
                c.mx.put(k.clone(), Err(nodata));
            }
        }
        c
    }
}

fn ma_authenticator() -> mail_auth::MessageAuthenticator {
    use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    // Never queried (the caches answer everything); a loopback server keeps any accident local.
    let config = ResolverConfig::from_name_servers(vec![NameServerConfig::udp(IpAddr::from([
        127, 0, 0, 1,
    ]))]);
    mail_auth::MessageAuthenticator::new(config, ResolverOpts::default())
        .expect("hickory resolver builds")
}

// ---------------------------------------------------------------------------------------------
// The columns.
// ---------------------------------------------------------------------------------------------

const COLUMNS: [&str; 6] = [
    "mailward cold",
    "mailward cold (no trace)",
    "mailward warm",
    "mailward warm (no trace)",
    "viaspf",
    "mail-auth",
];

/// Everything one scenario needs, built once.
struct Prepared<'s> {
    sc: &'s Scenario,
    mw: MwResolver,
    cold: Query,
    cold_nt: Query,
    warm: Query,
    warm_nt: Query,
    warm_caches: [RecordCache; 2],
    via: ViaLookup,
    via_config: viaspf::Config,
    via_sender: viaspf::Sender,
    via_helo: viaspf::DomainName,
    ma: mail_auth::MessageAuthenticator,
    ma_caches: MaCaches,
}

impl<'s> Prepared<'s> {
    fn new(sc: &'s Scenario) -> Self {
        let base = Query::mail_from(sc.ip, sc.sender, sc.helo);
        let c1 = RecordCache::new();
        let c2 = RecordCache::new();
        Self {
            sc,
            mw: MwResolver::new(&sc.zone),
            cold: base.clone(),
            cold_nt: base.clone().with_trace(false),
            warm: base
                .clone()
                .with_timestamp(NOW)
                .with_record_cache(c1.clone()),
            warm_nt: base
                .with_trace(false)
                .with_timestamp(NOW)
                .with_record_cache(c2.clone()),
            warm_caches: [c1, c2],
            via: ViaLookup::new(&sc.zone),
            via_config: viaspf::Config::default(),
            via_sender: viaspf::Sender::new(sc.sender).expect("viaspf sender"),
            via_helo: viaspf::DomainName::new(sc.helo).expect("viaspf helo"),
            ma: ma_authenticator(),
            ma_caches: MaCaches::preload(&sc.zone),
        }
    }

    /// One evaluation of column `col`; returns the result name.
    #[inline(always)]
    fn eval(&self, col: usize) -> &'static str {
        match col {
            0..=3 => {
                let q = [&self.cold, &self.cold_nt, &self.warm, &self.warm_nt][col];
                let o = pollster::block_on(mailward_spf::evaluate(&self.mw, black_box(q)));
                o.result.as_str()
            }
            4 => {
                let r = pollster::block_on(viaspf::evaluate_sender(
                    &self.via,
                    &self.via_config,
                    black_box(self.sc.ip),
                    &self.via_sender,
                    Some(&self.via_helo),
                ));
                via_result(&r.spf_result)
            }
            _ => {
                use mail_auth::spf::verify::SpfParameters;
                let params = mail_auth::Parameters::new(SpfParameters::mail_from(
                    black_box(self.sc.ip),
                    self.sc.helo,
                    "mx.receiver.example",
                    self.sc.sender,
                ))
                .with_cache(&self.ma_caches);
                let o = pollster::block_on(self.ma.verify_spf(params));
                match o.result() {
                    mail_auth::SpfResult::Pass => "pass",
                    mail_auth::SpfResult::Fail => "fail",
                    mail_auth::SpfResult::SoftFail => "softfail",
                    mail_auth::SpfResult::Neutral => "neutral",
                    mail_auth::SpfResult::TempError => "temperror",
                    mail_auth::SpfResult::PermError => "permerror",
                    mail_auth::SpfResult::None => "none",
                }
            }
        }
    }

    /// A batch of `n` evaluations of column `col`: ns per evaluation.
    fn batch(&self, col: usize, n: usize) -> f64 {
        let t = Instant::now();
        for _ in 0..n {
            black_box(self.eval(black_box(col)));
        }
        t.elapsed().as_nanos() as f64 / n as f64
    }

    /// Every column must give the expected result, cold and (for the cached columns) warm.
    fn verify(&self) -> String {
        let mut line = Vec::new();
        for (col, name) in COLUMNS.iter().enumerate() {
            for pass in 0..2 {
                let got = self.eval(col);
                assert_eq!(
                    got,
                    self.sc.expected,
                    "{name} (call {}) gave {got} in scenario {:?}, expected {}",
                    pass + 1,
                    self.sc.name,
                    self.sc.expected
                );
            }
            line.push(format!("{name}={}", self.eval(col)));
        }
        for c in &self.warm_caches {
            assert!(!c.is_empty(), "the warm mailward RecordCache stayed empty");
        }
        // What decided mailward's result, for the record.
        let o = pollster::block_on(mailward_spf::evaluate(&self.mw, &self.cold));
        format!(
            "{} [mailward: {} via {}, {} DNS terms]",
            line.join(" "),
            o.result,
            o.mechanism.as_ref().map_or("(default)".to_owned(), ToString::to_string),
            o.lookups
        )
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
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

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime");
    // viaspf's default `tokio-timeout` feature needs a runtime context for its timer.
    let _ctx = rt.enter();

    println!(
        "viaspf {} / mail-auth {} / mailward-spf {} (path) — {} — {} rounds x {} evaluations per column\n",
        lock_version("viaspf"),
        lock_version("mail-auth"),
        lock_version("mailward-spf"),
        cpu_model(),
        ROUNDS,
        BATCH
    );

    let scs = scenarios();
    let prepared: Vec<Prepared<'_>> = scs.iter().map(Prepared::new).collect();

    println!("Verification (each column called twice, all must agree):");
    for p in &prepared {
        println!("- {}: {}", p.sc.name, p.verify());
    }
    println!();

    // Warm-up (not recorded), then interleaved rounds: every scenario and column in turn, the
    // column order rotated each round so no column always runs first.
    for p in &prepared {
        for col in 0..COLUMNS.len() {
            p.batch(col, BATCH / 4);
        }
    }
    let mut samples = vec![vec![Vec::with_capacity(ROUNDS); COLUMNS.len()]; prepared.len()];
    for round in 0..ROUNDS {
        for (si, p) in prepared.iter().enumerate() {
            for k in 0..COLUMNS.len() {
                let col = (k + round) % COLUMNS.len();
                samples[si][col].push(p.batch(col, BATCH));
            }
        }
    }

    // Sanity: the caches and results are unchanged after timing.
    for p in &prepared {
        for col in 0..COLUMNS.len() {
            assert_eq!(p.eval(col), p.sc.expected, "{} drifted", COLUMNS[col]);
        }
    }

    println!(
        "| scenario | {} | viaspf / cold | mail-auth / warm |",
        COLUMNS.join(" | ")
    );
    println!("|---|{}---:|---:|", "---:|".repeat(COLUMNS.len()));
    let mut spread = Vec::new();
    for (si, p) in prepared.iter().enumerate() {
        let med: Vec<f64> = samples[si].iter_mut().map(|s| median(s)).collect();
        let cells: Vec<String> = med.iter().map(|m| format!("{m:.0}")).collect();
        println!(
            "| {} | {} | {:.2} | {:.2} |",
            p.sc.name,
            cells.join(" | "),
            med[4] / med[0],
            med[5] / med[2]
        );
        // `median` sorted each column's samples: first and last are the extremes.
        let s: Vec<String> = samples[si]
            .iter()
            .map(|v| format!("{:.0}–{:.0}", v[0], v[v.len() - 1]))
            .collect();
        spread.push(format!("| {} | {} |", p.sc.name, s.join(" | ")));
    }
    println!(
        "\nns per evaluation, median of {ROUNDS} batches of {BATCH}; ratios > 1: mailward faster \
         (viaspf vs mailward cold with trace, mail-auth vs mailward warm with trace).\n"
    );
    println!("Range over the {ROUNDS} batches (min–max ns per evaluation):\n");
    println!("| scenario | {} |", COLUMNS.join(" | "));
    println!("|---|{}", "---:|".repeat(COLUMNS.len()));
    for line in spread {
        println!("{line}");
    }

    // How much of a column is the executor: one `block_on` of a ready future, both ways.
    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(pollster::block_on(black_box(async { 1u8 })));
    }
    let pollster_ns = t.elapsed().as_nanos() as f64 / n as f64;
    drop(_ctx);
    let t = Instant::now();
    for _ in 0..n {
        black_box(rt.block_on(black_box(async { 1u8 })));
    }
    let tokio_ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!(
        "\nExecutor cost per evaluation (ready future): pollster::block_on {pollster_ns:.0} ns \
         (used for every column), tokio current-thread block_on {tokio_ns:.0} ns."
    );
}
