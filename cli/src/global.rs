//! Options shared by every subcommand.

use std::net::SocketAddr;
use std::path::PathBuf;

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
