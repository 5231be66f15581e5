//! Placeholder until the subcommand lands; replaced by its owner.

use std::process::ExitCode;

use crate::global::GlobalArgs;

/// Arguments of the subcommand.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) async fn run(_global: &GlobalArgs, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this subcommand is not built yet")
}
