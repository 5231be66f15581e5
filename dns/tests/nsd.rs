//! A real authoritative server (NLnet Labs' nsd) serves `examples/example.zone` and
//! `tests/data/edge.zone` on loopback; `HickoryResolver` pointed at it must give exactly the
//! answers `ZoneResolver` gives on the same files, for every owner name, every empty
//! non-terminal and some absent names, for A, AAAA, MX, TXT and PTR, NXDOMAIN and NODATA
//! included (with their RFC 2308 negative TTLs).
//!
//! nsd is an independent implementation of the master-file format and of the answer rules, so
//! agreement checks the reader and the resolver logic, not only the transport.
//!
//! Skipped (with a message) only when `nsd` is not installed and `MAILWARD_REQUIRE_NSD` is not
//! set; CI sets it, so there the test fails if nsd is missing.
#![cfg(feature = "hickory")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailward_dns::hickory::{HickoryOptions, HickoryResolver};
use mailward_dns::{RecordData, ZoneResolver};
use mailward_types::Domain;
use mailward_types::dns::{DnsResult, Resolver};

/// The nsd process and its directory; killed and removed on drop.
struct Nsd {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nsd {
    fn drop(&mut self) {
        // SIGTERM lets nsd stop its server process too; SIGKILL only if it lingers.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_nsd() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("nsd"))
        .find(|p| p.is_file())
}

/// A loopback port free for both UDP and TCP right now.
fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port");
}

/// Splits a master file into one text per zone, at `$ORIGIN` lines: each part goes to the zone
/// whose apex (an SOA owner) is the closest one enclosing the part's origin. The `$TTL` in
/// force is repeated at the top of each part.
fn split_zones(text: &str, apexes: &BTreeSet<Domain>, file: &str) -> BTreeMap<Domain, String> {
    let mut zones: BTreeMap<Domain, String> = BTreeMap::new();
    let mut ttl_line = String::new();
    let mut current: Option<Domain> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("$ORIGIN") {
            let origin = Domain::new(rest.split(';').next().unwrap().trim()).unwrap();
            let apex = apexes
                .iter()
                .filter(|a| origin.is_subdomain_of(a))
                .max_by_key(|a| a.label_count())
                .unwrap_or_else(|| panic!("{file}: $ORIGIN {origin} is in no zone with an SOA"))
                .clone();
            let zone = zones.entry(apex.clone()).or_default();
            zone.push_str(&ttl_line);
            current = Some(apex);
        } else if trimmed.starts_with("$TTL") {
            ttl_line = format!("{trimmed}\n");
        }
        match &current {
            Some(apex) => {
                let zone = zones.get_mut(apex).unwrap();
                zone.push_str(line);
                zone.push('\n');
            }
            None => {
                let content = trimmed.split(';').next().unwrap().trim();
                assert!(
                    content.is_empty() || content.starts_with("$TTL"),
                    "{file}: records before the first $ORIGIN: {line}"
                );
            }
        }
    }
    zones
}

fn start_nsd(nsd: &Path, zones: &BTreeMap<Domain, String>) -> (Nsd, SocketAddr) {
    let dir = std::env::temp_dir().join(format!(
        "mailward-nsd-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let d = dir.display();
    let mut conf = format!(
        "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n  server-count: 1\n  \
         username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  \
         database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
         xfrdir: \"{d}\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 1\n\
         remote-control:\n  control-enable: no\n"
    );
    for (apex, text) in zones {
        let file = format!("{apex}.zone");
        std::fs::write(dir.join(&file), text).unwrap();
        writeln!(conf, "zone:\n  name: \"{apex}\"\n  zonefile: \"{file}\"").unwrap();
    }
    std::fs::write(dir.join("nsd.conf"), conf).unwrap();
    let child = Command::new(nsd)
        .arg("-d")
        .arg("-c")
        .arg(dir.join("nsd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    (Nsd { child, dir }, addr)
}

/// An answer reduced to what must agree: sorted records as text and the TTL, or the error class
/// with its negative TTL.
type Outcome = Result<(Vec<String>, u32), (String, Option<u32>)>;

fn outcome<T: std::fmt::Debug>(r: DnsResult<T>) -> Outcome {
    match r {
        Ok(l) => {
            let mut v: Vec<String> = l.records.iter().map(|t| format!("{t:?}")).collect();
            v.sort();
            Ok((v, l.ttl))
        }
        Err(e) => {
            let neg = match &e {
                mailward_types::dns::DnsError::NxDomain { negative_ttl }
                | mailward_types::dns::DnsError::NoData { negative_ttl } => *negative_ttl,
                _ => None,
            };
            Err((e.to_string(), neg))
        }
    }
}

/// The address a reverse name stands for, if it is a complete one.
fn reverse_to_ip(name: &Domain) -> Option<IpAddr> {
    let s = name.as_str();
    if let Some(head) = s.strip_suffix(".in-addr.arpa") {
        let parts: Vec<u8> = head
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let [d, c, b, a] = parts[..] else { return None };
        return Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)));
    }
    let head = s.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = head
        .split('.')
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        octets[i] = (pair[1] << 4) | pair[0];
    }
    Some(IpAddr::V6(Ipv6Addr::from(octets)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nsd_and_zone_resolver_agree() {
    let required = std::env::var_os("MAILWARD_REQUIRE_NSD").is_some();
    let Some(nsd) = find_nsd() else {
        assert!(
            !required,
            "MAILWARD_REQUIRE_NSD is set but nsd is not installed (apt-get install nsd)"
        );
        eprintln!(
            "skipped: nsd is not installed (apt-get install nsd; set MAILWARD_REQUIRE_NSD=1 to make this an error)"
        );
        return;
    };

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        root.join("../examples/example.zone"),
        root.join("tests/data/edge.zone"),
    ];
    let zone = ZoneResolver::from_files(&files).unwrap();
    let apexes: BTreeSet<Domain> = zone
        .names()
        .filter(|n| {
            zone.records(n)
                .iter()
                .any(|r| matches!(r.data, RecordData::Soa(_)))
        })
        .cloned()
        .collect();
    let mut zones = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (apex, part) in split_zones(&text, &apexes, &file.display().to_string()) {
            assert!(
                zones.insert(apex.clone(), part).is_none(),
                "zone {apex} in two files"
            );
        }
    }

    // Start nsd and wait until it answers (it loads the zones after binding). If it exits
    // early (say the port was taken between our probe and its bind), try another port.
    let probe = apexes.first().unwrap().clone();
    let mut started = None;
    let mut last_failure = String::new();
    for _ in 0..3 {
        last_failure.clear();
        let (mut server, addr) = start_nsd(&nsd, &zones);
        let hickory = HickoryResolver::new(
            HickoryOptions::default()
                .with_server(addr)
                .with_timeout(Duration::from_secs(2))
                .with_attempts(2),
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match hickory.txt(&probe).await {
                Ok(_) => break,
                Err(e) if e.is_void() => break,
                Err(e) => {
                    let exited = server.child.try_wait().ok().flatten().is_some();
                    if exited || Instant::now() > deadline {
                        let log =
                            std::fs::read_to_string(server.dir.join("nsd.log")).unwrap_or_default();
                        last_failure =
                            format!("nsd did not answer on {addr}: {e}\nnsd.log:\n{log}");
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        if last_failure.is_empty() {
            started = Some((server, hickory));
            break;
        }
        eprintln!("{last_failure}");
    }
    let Some((server, hickory)) = started else {
        panic!("{last_failure}");
    };

    // Every owner name, every empty non-terminal between it and its apex, and absent names.
    let mut names: BTreeSet<Domain> = BTreeSet::new();
    for name in zone.names() {
        let mut n = Some(name.clone());
        while let Some(cur) = n {
            if !apexes.iter().any(|a| cur.is_subdomain_of(a)) {
                break;
            }
            names.insert(cur.clone());
            n = cur.parent();
        }
    }
    for apex in &apexes {
        names.insert(Domain::new(&format!("no-such-name.{apex}")).unwrap());
        names.insert(Domain::new(&format!("deeper.no-such-name.{apex}")).unwrap());
    }
    for extra in [
        "x.wild.edge.example",
        "y.x.wild.edge.example",
        "x.sub.wild.edge.example",
        "mixed.case.edge.example",
    ] {
        names.insert(Domain::new(extra).unwrap());
    }

    let mut checked = 0;
    let mut mismatches = Vec::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &names {
        let pairs = [
            (
                "A",
                outcome(zone.a(name).await),
                outcome(hickory.a(name).await),
            ),
            (
                "AAAA",
                outcome(zone.aaaa(name).await),
                outcome(hickory.aaaa(name).await),
            ),
            (
                "MX",
                outcome(zone.mx(name).await),
                outcome(hickory.mx(name).await),
            ),
            (
                "TXT",
                outcome(zone.txt(name).await),
                outcome(hickory.txt(name).await),
            ),
        ];
        for (rtype, ours, theirs) in pairs {
            checked += 1;
            *kinds
                .entry(match &ours {
                    Ok(_) => "answer",
                    Err((e, _)) if e.contains("NXDOMAIN") => "NXDOMAIN",
                    Err((e, _)) if e.contains("NODATA") => "NODATA",
                    Err(_) => "other",
                })
                .or_default() += 1;
            if ours != theirs {
                mismatches.push(format!(
                    "{name} {rtype}:\n  zone: {ours:?}\n  nsd:  {theirs:?}"
                ));
            }
        }
    }
    // PTR by address: every complete reverse name, and addresses without a record.
    let mut ips: Vec<IpAddr> = names.iter().filter_map(reverse_to_ip).collect();
    ips.push("192.0.2.200".parse().unwrap());
    ips.push("2001:db8::99".parse().unwrap());
    for ip in ips {
        checked += 1;
        let ours = outcome(zone.ptr(ip).await);
        let theirs = outcome(hickory.ptr(ip).await);
        *kinds
            .entry(if ours.is_ok() {
                "PTR answer"
            } else {
                "PTR negative"
            })
            .or_default() += 1;
        if ours != theirs {
            mismatches.push(format!("PTR {ip}:\n  zone: {ours:?}\n  nsd:  {theirs:?}"));
        }
    }
    eprintln!(
        "{checked} queries compared over {} names: {kinds:?}",
        names.len()
    );
    if !mismatches.is_empty() {
        let log = std::fs::read_to_string(server.dir.join("nsd.log")).unwrap_or_default();
        panic!(
            "{} mismatches:\n{}\nnsd.log (a zone nsd refused to load shows here):\n{log}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
    // The comparison must have covered every kind of answer.
    for kind in ["answer", "NXDOMAIN", "NODATA", "PTR answer", "PTR negative"] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} compared"
        );
    }
    drop(server);
}
