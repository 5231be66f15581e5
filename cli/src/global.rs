//! Options shared by every subcommand, and the resolver they select.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use mailward_dns::ZoneResolver;
use mailward_dns::hickory::{HickoryOptions, HickoryResolver};
use mailward_dns::zone::parse_name;
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, DynResolver, Mx, Resolver, Txt};

/// Options every subcommand accepts.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// Resolve offline from this RFC 1035 master file (repeatable).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) zone: Vec<PathBuf>,
    /// Queries at NAME for types it has no records of time out (repeatable; needs --zone).
    #[arg(long = "dns-timeout", global = true, value_name = "NAME")]
    pub(crate) dns_timeout: Vec<String>,
    /// Queries at NAME for types it has no records of fail with SERVFAIL (repeatable; needs --zone).
    #[arg(long = "dns-servfail", global = true, value_name = "NAME")]
    pub(crate) dns_servfail: Vec<String>,
    /// Use real DNS through this server instead of the system configuration.
    #[arg(long = "dns-server", global = true, value_name = "IP:PORT")]
    pub(crate) dns_server: Option<SocketAddr>,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl GlobalArgs {
    /// The resolver the options select: the `--zone` files (with the `--dns-timeout` and
    /// `--dns-servfail` marks) when any is given, else real DNS through `--dns-server` or the
    /// system configuration.
    ///
    /// Errors are usage errors (exit code 2): a zone file that does not load (the message names
    /// the file and line), a mark that is not a domain name, marks without `--zone`, or
    /// `--zone` together with `--dns-server`.
    pub(crate) fn resolver(&self) -> anyhow::Result<Box<dyn DynResolver>> {
        if self.zone.is_empty() {
            if !self.dns_timeout.is_empty() || !self.dns_servfail.is_empty() {
                bail!(
                    "--dns-timeout and --dns-servfail need --zone (faults are injected into zone files only)"
                );
            }
            let mut options = HickoryOptions::default();
            if let Some(server) = self.dns_server {
                options = options.with_server(server);
            }
            let resolver = HickoryResolver::new(options)?;
            return Ok(Box::new(resolver));
        }
        if self.dns_server.is_some() {
            bail!("--zone and --dns-server cannot be used together");
        }
        // The ZoneError's Display is already "file:line: what is wrong".
        let mut zone = ZoneResolver::from_files(&self.zone)?;
        for name in &self.dns_timeout {
            zone.mark_timeout(mark_name("--dns-timeout", name)?);
        }
        for name in &self.dns_servfail {
            zone.mark_servfail(mark_name("--dns-servfail", name)?);
        }
        Ok(Box::new(zone))
    }
}

fn mark_name(option: &str, name: &str) -> anyhow::Result<Domain> {
    parse_name(name).with_context(|| format!("{option} {name:?}"))
}

/// A resolver whose every lookup gives up after a timeout (reported as
/// [`DnsError::Timeout`]), so one slow name cannot hold a batch of reverse lookups.
#[derive(Debug)]
pub(crate) struct TimeoutResolver<R> {
    inner: R,
    timeout: std::time::Duration,
}

impl<R> TimeoutResolver<R> {
    pub(crate) fn new(inner: R, timeout: std::time::Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<R: Resolver> TimeoutResolver<R> {
    async fn within<T>(&self, f: impl Future<Output = DnsResult<T>>) -> DnsResult<T> {
        tokio::time::timeout(self.timeout, f)
            .await
            .unwrap_or(Err(DnsError::Timeout))
    }
}

impl<R: Resolver> Resolver for TimeoutResolver<R> {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.within(self.inner.txt(name)).await
    }

    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.within(self.inner.a(name)).await
    }

    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.within(self.inner.aaaa(name)).await
    }

    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.within(self.inner.mx(name)).await
    }

    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.within(self.inner.ptr(ip)).await
    }
}

/// Runs `task` on a thread of its own with its own current-thread runtime, for background
/// work while the main runtime is busy (or blocked, as an ingest is while it waits for
/// inputs). The process does not wait for the thread; `what` names it in the message printed
/// when it cannot start.
pub(crate) fn spawn_on_own_runtime<F>(
    name: &str,
    what: &str,
    task: impl FnOnce() -> F + Send + 'static,
) where
    F: Future<Output = ()>,
{
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(task());
            }
        });
    if let Err(e) = spawned {
        eprintln!("mailward: {what}: {e}");
    }
}
