//! An in-memory resolver for tests: TXT records by name, with fault injection.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

#[derive(Debug, Default, Clone)]
pub(crate) struct MapResolver {
    txt: HashMap<String, Vec<Vec<Vec<u8>>>>,
    fail: HashMap<String, DnsError>,
}

#[allow(dead_code)]
impl MapResolver {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds one TXT record at `name` made of one or more strings.
    pub(crate) fn with_txt(mut self, name: &str, strings: &[&str]) -> Self {
        self.txt
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(strings.iter().map(|s| s.as_bytes().to_vec()).collect());
        self
    }

    pub(crate) fn with_error(mut self, name: &str, e: DnsError) -> Self {
        self.fail.insert(name.to_ascii_lowercase(), e);
        self
    }
}

impl Resolver for MapResolver {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        if let Some(e) = self.fail.get(name.as_str()) {
            return Err(e.clone());
        }
        match self.txt.get(name.as_str()) {
            Some(records) => Ok(Lookup::new(
                records.iter().cloned().map(Txt::new).collect(),
                300,
            )),
            None => Err(DnsError::NXDOMAIN),
        }
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
