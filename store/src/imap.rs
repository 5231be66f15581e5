//! IMAP mailboxes as an ingest source (feature `imap`): the `rua` mailbox read where it is.
//!
//! [`ImapMailbox::open`] connects (`imaps://` with TLS from the first byte, or `imap://` upgraded
//! with STARTTLS), authenticates (a password, or an OAuth 2.0 bearer token with OAUTHBEARER or
//! XOAUTH2), selects the mailbox and lists every message in it, whatever its flags. The
//! [`ImapMailbox`] is then an iterator of [`Input`](crate::source::Input)s, one per message, for
//! [`Store::ingest_inputs_acked`](crate::Store::ingest_inputs_acked):
//!
//! - Messages are fetched by UID in batches (at most [`BATCH_MESSAGES`] messages and
//!   [`BATCH_BYTES`] bytes each), with `BODY.PEEK[]`, so flags are never changed. A message
//!   larger than [`MAX_MESSAGE_BYTES`](crate::source::MAX_MESSAGE_BYTES) is an error item,
//!   never fetched. Memory is bounded by one batch plus the list of UIDs and sizes (8 bytes a
//!   message).
//! - A dropped connection is reopened with exponential backoff, and the listing goes on after
//!   the last message handed over; a message that is read again (the mailbox's UIDVALIDITY
//!   changed, or another run) is a duplicate in the store, never a new report.
//! - With a folder to move to, a message is moved only after the store acknowledged its
//!   outcome ([`Acks`]): a crash at any point leaves every message either in the source folder
//!   or stored and moved. MOVE is used where the server has it; otherwise UID COPY, a
//!   `\Deleted` flag and UID EXPUNGE of exactly those UIDs (UIDPLUS); with neither, the open
//!   fails. Nothing else is ever deleted or expunged.
//! - In watch mode, once the mailbox is read, the connection waits in IDLE and reads new
//!   messages as they arrive, renewing IDLE before servers drop it (every
//!   [`ImapOptions::idle_renew`], 25 minutes by default; RFC 2177 allows 29). It ends when the
//!   [`StopSignal`] is raised.
//!
//! A failure that retrying cannot fix (authentication refused, a certificate that does not
//! verify, no such mailbox) ends the iteration; [`ImapMailbox::fatal`] returns it.

mod login;
mod session;
mod tls;
mod url;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use session::{Acks, FatalSlot, ImapMailbox};
pub use url::{ImapUrl, Security, is_imap_url};

/// The old name of [`ImapMailbox`], which reads like `mailward-dmarc`'s `Mailbox` (a mailbox
/// of a From field).
#[deprecated(note = "renamed to `ImapMailbox`")]
pub type Mailbox = ImapMailbox;

/// The most messages fetched in one `UID FETCH`.
pub const BATCH_MESSAGES: usize = 64;

/// The most bytes (by the sizes the server announced) fetched in one `UID FETCH`; a single
/// larger message is fetched alone.
pub const BATCH_BYTES: u64 = 8 * 1024 * 1024;

/// How the source logs in.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A password, sent with AUTHENTICATE PLAIN (or LOGIN where PLAIN is not offered), only
    /// over TLS unless plaintext was allowed.
    Password(String),
    /// An OAuth 2.0 access token, sent with OAUTHBEARER (RFC 7628) or, where only that is
    /// offered, XOAUTH2.
    BearerToken(String),
    /// A file holding an OAuth 2.0 access token, read again for every connection (tokens
    /// expire within hours; whatever refreshes them rewrites the file).
    BearerTokenFile(PathBuf),
}

impl std::fmt::Debug for Credentials {
    /// Never shows the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password(***)"),
            Self::BearerToken(_) => f.write_str("BearerToken(***)"),
            Self::BearerTokenFile(p) => write!(f, "BearerTokenFile({})", p.display()),
        }
    }
}

impl Credentials {
    /// A password read from a file or the environment: whitespace around it is dropped.
    ///
    /// # Errors
    ///
    /// [`ImapError::Credentials`] when nothing is left.
    pub fn password(secret: &str) -> Result<Self, ImapError> {
        let password = non_empty(secret, "the password")?;
        if password.contains(['\0', '\r', '\n']) {
            return Err(ImapError::Credentials(
                "the password holds a NUL or a line break".into(),
            ));
        }
        Ok(Self::Password(password))
    }

    /// The token to send now: the given one, or the file's current content.
    ///
    /// # Errors
    ///
    /// [`ImapError::Credentials`] when the file cannot be read or holds no token, and for a
    /// password.
    pub fn current_token(&self) -> Result<String, ImapError> {
        match self {
            Self::BearerToken(t) => Ok(t.clone()),
            Self::BearerTokenFile(path) => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    ImapError::Credentials(format!("cannot read {}: {e}", path.display()))
                })?;
                if meta.len() > 64 * 1024 {
                    return Err(ImapError::Credentials(format!(
                        "{} is larger than 64 KiB: not a token",
                        path.display()
                    )));
                }
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ImapError::Credentials(format!("cannot read {}: {e}", path.display()))
                })?;
                match Self::bearer_token(&text)? {
                    Self::BearerToken(t) => Ok(t),
                    _ => Err(ImapError::Credentials("no token".into())),
                }
            }
            Self::Password(_) => Err(ImapError::Credentials("a password is no token".into())),
        }
    }

    /// A bearer token read from a file: whitespace around it is dropped.
    ///
    /// # Errors
    ///
    /// [`ImapError::Credentials`] when nothing is left, or when it holds a control character
    /// (it would break the SASL message).
    pub fn bearer_token(secret: &str) -> Result<Self, ImapError> {
        let token = non_empty(secret, "the OAuth token")?;
        if token.chars().any(char::is_control) {
            return Err(ImapError::Credentials(
                "the OAuth token holds control characters".into(),
            ));
        }
        Ok(Self::BearerToken(token))
    }
}

fn non_empty(secret: &str, what: &str) -> Result<String, ImapError> {
    let trimmed = secret.trim();
    if trimmed.is_empty() {
        return Err(ImapError::Credentials(format!("{what} is empty")));
    }
    Ok(trimmed.to_owned())
}

/// A flag another thread raises to end a watching (or any) IMAP source: the source logs out
/// and its iterator ends after the message it is handing over.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<StopInner>);

#[derive(Debug, Default)]
struct StopInner {
    raised: AtomicBool,
    notify: tokio::sync::Notify,
}

impl StopSignal {
    /// A signal not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the signal (from any thread).
    pub fn stop(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        self.0.notify.notify_one();
    }

    /// Whether the signal was raised.
    pub fn is_stopped(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    /// Completes when the signal is raised.
    pub(crate) async fn stopped(&self) {
        while !self.is_stopped() {
            self.0.notify.notified().await;
        }
        // Leave a permit for any other waiter.
        self.0.notify.notify_one();
    }
}

/// How an IMAP source connects and what it does with the messages it read.
#[derive(Debug, Clone)]
pub struct ImapOptions {
    pub(crate) credentials: Credentials,
    pub(crate) ca: Option<PathBuf>,
    pub(crate) insecure_plaintext: bool,
    pub(crate) move_to: Option<String>,
    pub(crate) watch: bool,
    pub(crate) idle_renew: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) io_timeout: Duration,
    pub(crate) reconnect_attempts: u32,
    pub(crate) backoff_first: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) stop: StopSignal,
}

impl ImapOptions {
    /// Options with these credentials and the defaults: the system's roots, STARTTLS
    /// required, nothing moved, no watching, 8 reconnection attempts from 0.5 s doubling up
    /// to 30 s, 30 s to connect, 120 s for any one answer.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            ca: None,
            insecure_plaintext: false,
            move_to: None,
            watch: false,
            idle_renew: Duration::from_secs(25 * 60),
            connect_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_secs(120),
            reconnect_attempts: 8,
            backoff_first: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            stop: StopSignal::new(),
        }
    }

    /// Trusts the certificates of this PEM file instead of the system's roots: CA
    /// certificates, or the server's own certificate (self-signed ones included), which is
    /// then accepted when presented exactly and valid for the host name.
    pub fn ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some(path.into());
        self
    }

    /// Goes on in clear text when an `imap://` server does not offer STARTTLS (never the
    /// default: passwords and reports would cross the network readable).
    pub fn insecure_plaintext(mut self, allow: bool) -> Self {
        self.insecure_plaintext = allow;
        self
    }

    /// Moves each message, once its outcome is stored, to this folder (created if missing).
    pub fn move_to(mut self, folder: impl Into<String>) -> Self {
        self.move_to = Some(folder.into());
        self
    }

    /// Stays connected after the mailbox is read and reads new messages as they arrive (IMAP
    /// IDLE), until the stop signal.
    pub fn watch(mut self, watch: bool) -> Self {
        self.watch = watch;
        self
    }

    /// How long one IDLE lasts before it is renewed (at least 1 s).
    pub fn idle_renew(mut self, every: Duration) -> Self {
        self.idle_renew = every.max(Duration::from_secs(1));
        self
    }

    /// How long connecting (TCP, TLS, greeting) and any one answer may take.
    pub fn timeouts(mut self, connect: Duration, io: Duration) -> Self {
        self.connect_timeout = connect.max(Duration::from_millis(100));
        self.io_timeout = io.max(Duration::from_millis(100));
        self
    }

    /// How often a lost connection is retried in a row (in watch mode, without end), and the
    /// first and longest pause between attempts.
    pub fn reconnect(mut self, attempts: u32, first: Duration, max: Duration) -> Self {
        self.reconnect_attempts = attempts;
        self.backoff_first = first;
        self.backoff_max = max.max(first);
        self
    }

    /// The signal that ends the source.
    pub fn stop_signal(mut self, stop: StopSignal) -> Self {
        self.stop = stop;
        self
    }

    fn trust(&self) -> tls::Trust {
        match &self.ca {
            Some(p) => tls::Trust::File(p.clone()),
            None => tls::Trust::System,
        }
    }
}

/// What went wrong with an IMAP source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImapError {
    /// The source URL cannot be used.
    #[error("bad IMAP source {url}: {reason}")]
    Url {
        /// The URL, with any password hidden.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The password or token cannot be used.
    #[error("{0}")]
    Credentials(String),
    /// The file of trusted certificates cannot be used.
    #[error("trusted certificates {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server cannot be reached.
    #[error("cannot connect to {server}")]
    Connect {
        /// `host:port`.
        server: String,
        /// The network error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake failed: for a certificate, it does not verify.
    #[error("TLS with {server} failed")]
    Tls {
        /// `host:port`.
        server: String,
        /// The TLS error (for a certificate: why it is not trusted).
        #[source]
        source: std::io::Error,
    },
    /// An `imap://` server without STARTTLS, and clear text was not allowed.
    #[error(
        "{server} does not offer STARTTLS; refusing to send credentials in clear text (use imaps://, or allow plaintext explicitly)"
    )]
    NoStartTls {
        /// `host:port`.
        server: String,
    },
    /// The server refused the credentials.
    #[error("{server} refused {mechanism} authentication for {user}: {said}")]
    Auth {
        /// `host:port`.
        server: String,
        /// The user name.
        user: String,
        /// The mechanism tried.
        mechanism: &'static str,
        /// What the server said.
        said: String,
    },
    /// The server offers no mechanism for the credentials given.
    #[error("{server} offers no {wanted} authentication")]
    NoMechanism {
        /// `host:port`.
        server: String,
        /// What was looked for.
        wanted: &'static str,
    },
    /// The mailbox cannot be selected, or the folder to move to cannot be used.
    #[error("mailbox {name:?} on {server}: {said}")]
    Mailbox {
        /// `host:port`.
        server: String,
        /// The mailbox or folder.
        name: String,
        /// What the server said.
        said: String,
    },
    /// `move_to` on a server that has neither MOVE nor UIDPLUS (moving would need an EXPUNGE
    /// of the whole folder).
    #[error("{server} supports neither MOVE nor UIDPLUS: messages cannot be moved safely")]
    MoveUnsupported {
        /// `host:port`.
        server: String,
    },
    /// The connection broke or the server misbehaved while doing something.
    #[error("{server}: {during} failed: {reason}")]
    Session {
        /// `host:port`.
        server: String,
        /// What was being done.
        during: &'static str,
        /// What happened.
        reason: String,
        /// Whether reconnecting may help.
        retry: bool,
    },
    /// The server did not answer in time.
    #[error("{server}: no answer within {seconds} s while {during}")]
    Timeout {
        /// `host:port`.
        server: String,
        /// What was being done.
        during: &'static str,
        /// The limit.
        seconds: u64,
    },
    /// Reconnecting failed this many times in a row.
    #[error("gave up after {attempts} attempts to reconnect")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<Self>,
    },
    /// The worker thread could not start.
    #[error("cannot start the IMAP worker")]
    Thread(#[source] std::io::Error),
}

impl ImapError {
    /// Whether reconnecting may help: a dropped or timed-out connection, not a refusal.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Timeout { .. } => true,
            // A certificate error is InvalidData; a connection reset during the handshake is
            // not.
            Self::Tls { source, .. } => source.kind() != std::io::ErrorKind::InvalidData,
            Self::Session { retry, .. } => *retry,
            _ => false,
        }
    }
}
