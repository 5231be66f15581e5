//! The IMAP options of `report ingest`, and opening an `imaps://` or `imap://` source.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use mailward_store::imap::{Credentials, ImapError, ImapMailbox, ImapOptions, ImapUrl, StopSignal};

/// How `report ingest` reads IMAP sources (`imaps://USER@HOST[:PORT]/MAILBOX`,
/// `imap://…` with STARTTLS).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ImapArgs {
    /// IMAP: read the password from this file (whitespace around it is ignored). Default:
    /// $MAILWARD_IMAP_PASSWORD.
    #[arg(long, value_name = "FILE", conflicts_with = "oauth_token_file")]
    password_file: Option<PathBuf>,
    /// IMAP: log in with this OAuth 2.0 access token (OAUTHBEARER or XOAUTH2).
    #[arg(long, value_name = "FILE")]
    oauth_token_file: Option<PathBuf>,
    /// IMAP: trust the certificates in this PEM file (a CA, or the server's own self-signed
    /// certificate) instead of the system's roots.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// IMAP: go on in clear text when an imap:// server offers no STARTTLS.
    #[arg(long)]
    insecure_plaintext: bool,
    /// IMAP: move each message to this folder once its reports are stored (created if
    /// missing). Without it, nothing in the mailbox changes.
    #[arg(long, value_name = "FOLDER")]
    move_to: Option<String>,
    /// IMAP: stay connected and ingest new reports as they arrive (IDLE), until interrupted.
    #[arg(long)]
    watch: bool,
    /// IMAP: seconds after which IDLE is renewed.
    #[arg(long, value_name = "SECONDS", default_value_t = 1500, hide = true)]
    idle_renew: u64,
    /// IMAP: seconds to wait for the server's answer before reconnecting.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    imap_timeout: u64,
}

impl ImapArgs {
    pub(crate) fn watch(&self) -> bool {
        self.watch
    }

    pub(crate) fn has_ca(&self) -> bool {
        self.ca.is_some()
    }

    fn credentials(&self) -> anyhow::Result<Credentials> {
        if let Some(path) = &self.oauth_token_file {
            // Read again on every connection (tokens expire); checked once here.
            let credentials = Credentials::BearerTokenFile(path.clone());
            credentials.current_token()?;
            return Ok(credentials);
        }
        if let Some(path) = &self.password_file {
            let text = read_secret(path)?;
            return Credentials::password(&text).with_context(|| format!("{}", path.display()));
        }
        match std::env::var("MAILWARD_IMAP_PASSWORD") {
            Ok(p) => Credentials::password(&p).context("MAILWARD_IMAP_PASSWORD"),
            Err(_) => anyhow::bail!(
                "an IMAP source needs a password (MAILWARD_IMAP_PASSWORD or --password-file) or \
                 --oauth-token-file"
            ),
        }
    }

    /// Connects to the mailbox: errors here (credentials, certificate, mailbox) end the
    /// command before anything is ingested.
    pub(crate) fn open(&self, url: &ImapUrl, stop: &StopSignal) -> anyhow::Result<ImapMailbox> {
        let mut options = ImapOptions::new(self.credentials()?)
            .insecure_plaintext(self.insecure_plaintext)
            .watch(self.watch)
            .idle_renew(Duration::from_secs(self.idle_renew))
            .timeouts(
                Duration::from_secs(30),
                Duration::from_secs(self.imap_timeout.max(1)),
            )
            .stop_signal(stop.clone());
        if let Some(ca) = &self.ca {
            options = options.ca(ca);
        }
        if let Some(folder) = &self.move_to {
            options = options.move_to(folder);
        }
        ImapMailbox::open(url, options).map_err(|e| explain(e, self.ca.is_some()))
    }
}

/// Adds what to do to the errors people hit first.
pub(crate) fn explain(e: ImapError, has_ca: bool) -> anyhow::Error {
    let hint = match &e {
        ImapError::Tls { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
            if has_ca {
                Some("the server's certificate does not verify against --ca")
            } else {
                Some(
                    "the server's certificate does not verify against the system's roots; \
                     pass --ca FILE with its CA or its own certificate",
                )
            }
        }
        _ => None,
    };
    let e = anyhow::Error::new(e);
    match hint {
        Some(h) => e.context(h),
        None => e,
    }
}

fn read_secret(path: &PathBuf) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        meta.len() <= 64 * 1024,
        "{} is larger than 64 KiB: not a password or token",
        path.display()
    );
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Raises `stop` on SIGINT or SIGTERM, from a thread of its own (the ingest blocks the main
/// runtime while it waits for messages).
pub(crate) fn stop_on_signals(stop: StopSignal) {
    crate::global::spawn_on_own_runtime(
        "signals",
        "cannot watch for signals",
        move || async move {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            stop.stop();
        },
    );
}
