//! `mailward serve`: the web view over a report store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use mailward_web::App;

use crate::report::StoreArgs;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// The address to listen on. Any address but loopback needs --token-file.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8025")]
    listen: SocketAddr,
    /// Require this token (whitespace around it is ignored) on every request, as
    /// `Authorization: Bearer TOKEN` or through the login form's cookie.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// More sending services, one per line: `DOMAIN KIND NAME…`.
    #[arg(long, value_name = "FILE")]
    services: Option<PathBuf>,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let token = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => None,
    };
    let token = mailward_web::check_listen(args.listen, token.as_deref())?;
    let services = crate::report::service_map(args.services.as_deref())?;
    // The view only reads: it does not create a store that is not there.
    if let mailward_store::StoreUrl::Sqlite(path) = args.store.url()?
        && !path.exists()
    {
        anyhow::bail!(
            "no store at {} (ingest reports into it first with mailward report ingest)",
            path.display()
        );
    }
    let store = args.store.open().await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    eprintln!("mailward: serving {} on http://{local}/", store.url());
    let app = Arc::new(App {
        store,
        services,
        token,
    });
    mailward_web::serve(listener, app).await?;
    Ok(ExitCode::SUCCESS)
}
