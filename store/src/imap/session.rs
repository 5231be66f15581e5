//! The IMAP conversation: connecting, authenticating, listing, fetching in batches, moving,
//! IDLE, and reconnecting, driven from the [`ImapMailbox`] iterator on the reader thread.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::time::timeout;

use super::url::mailbox_utf7;
use super::{BATCH_BYTES, BATCH_MESSAGES, ImapError, ImapOptions, ImapUrl};
use crate::source::{Input, InputError, MAX_MESSAGE_BYTES};

use super::login::{Connected, Peer, Session, tidy};

mod moves;

use moves::{quote, uid_set};

/// The most UIDs named in one MOVE (or COPY/STORE/EXPUNGE) command.
const MOVE_CHUNK: usize = 500;

/// How often a server without IDLE is asked for new mail in watch mode.
const POLL_WITHOUT_IDLE: Duration = Duration::from_secs(60);

/// The most answers one listing may bring (8 bytes each are kept): a mailbox this large is
/// read in several runs.
const MAX_LISTED: usize = 10_000_000;

/// Where a fatal error of an [`ImapMailbox`] is left for its owner once the iteration has ended.
#[derive(Debug, Clone, Default)]
pub struct FatalSlot(Arc<Mutex<Option<ImapError>>>);

impl FatalSlot {
    /// The error that ended the iteration early, if one did.
    pub fn take(&self) -> Option<ImapError> {
        self.0.lock().ok().and_then(|mut e| e.take())
    }

    fn set(&self, e: ImapError) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(e);
        }
    }
}

/// Tells an [`ImapMailbox`] which of the messages it handed over are durable in the store, so that
/// it may move them. Give [`Acks::committed`] the locations that
/// [`Store::ingest_inputs_acked`](crate::Store::ingest_inputs_acked) reports; other locations
/// are ignored.
#[derive(Debug, Clone)]
pub struct Acks {
    tx: mpsc::Sender<(u32, u32)>,
    prefix: String,
}

impl Acks {
    /// Acknowledges the messages at these locations.
    pub fn committed(&self, locations: &[String]) {
        for location in locations {
            if let Some(key) = self.parse(location) {
                // The mailbox has finished: nothing is waiting any more.
                let _ = self.tx.send(key);
            }
        }
    }

    fn parse(&self, location: &str) -> Option<(u32, u32)> {
        let rest = location.strip_prefix(&self.prefix)?;
        let rest = rest.strip_prefix(";UIDVALIDITY=")?;
        let (validity, uid) = rest.split_once("/;UID=")?;
        Some((validity.parse().ok()?, uid.parse().ok()?))
    }
}

/// An IMAP mailbox as an iterator of inputs (see the [module documentation](super)).
///
/// The iterator blocks while it talks to the server (and, in watch mode, while it waits for
/// new mail): run it on a thread of its own, as
/// [`Store::ingest_inputs_acked`](crate::Store::ingest_inputs_acked) does.
pub struct ImapMailbox {
    runtime: Option<tokio::runtime::Runtime>,
    state: State,
    ready: VecDeque<Result<Input, InputError>>,
    acks_tx: Option<mpsc::Sender<(u32, u32)>>,
    finished: bool,
}

impl std::fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapMailbox")
            .field("url", &self.state.peer.url)
            .field("listed", &self.state.listed)
            .field("to_fetch", &self.state.todo.len())
            .finish_non_exhaustive()
    }
}

enum Flow {
    Continue,
    Finished,
}

struct State {
    peer: Peer,
    conn: Option<Connected>,
    uid_validity: Option<u32>,
    /// The server's hierarchy delimiter, for the `/` in folder names.
    delimiter: Option<String>,
    /// An EXISTS arrived since the last listing: list again before waiting.
    saw_exists: bool,
    /// Listed and not yet fetched: (UID, size), in UID order.
    todo: VecDeque<(u32, u32)>,
    /// The highest UID listed so far.
    last_listed: u32,
    /// Messages listed in all.
    listed: u64,
    /// Handed over, waiting for the store's acknowledgement before they may be moved.
    unacked: BTreeSet<u32>,
    /// Acknowledged, to be moved.
    to_move: Vec<u32>,
    acks_rx: mpsc::Receiver<(u32, u32)>,
    failures: u32,
    fatal: FatalSlot,
}

impl ImapMailbox {
    /// Connects, authenticates, selects the mailbox (and makes sure the folder to move to
    /// exists), so that these errors come before any ingest. Blocks the calling thread; safe to
    /// call from inside an async runtime.
    ///
    /// # Errors
    ///
    /// Any [`ImapError`]: the first connection is not retried.
    pub fn open(url: &ImapUrl, options: ImapOptions) -> Result<Self, ImapError> {
        let url = url.clone();
        let server = url.server();
        let worker = std::thread::Builder::new()
            .name("mailward-imap-open".into())
            .spawn(
                move || -> Result<(tokio::runtime::Runtime, State, mpsc::Sender<_>), ImapError> {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(ImapError::Thread)?;
                    let tls = super::tls::connector(&options.trust())?;
                    let (tx, rx) = mpsc::channel();
                    let mut state = State {
                        peer: Peer {
                            server: url.server(),
                            url,
                            opts: options,
                            tls,
                        },
                        conn: None,
                        uid_validity: None,
                        delimiter: None,
                        saw_exists: false,
                        todo: VecDeque::new(),
                        last_listed: 0,
                        listed: 0,
                        unacked: BTreeSet::new(),
                        to_move: Vec::new(),
                        acks_rx: rx,
                        failures: 0,
                        fatal: FatalSlot::default(),
                    };
                    let opened = runtime.block_on(state.ensure_connected());
                    match opened {
                        Ok(()) => Ok((runtime, state, tx)),
                        Err(e) => {
                            drop(state);
                            drop(runtime);
                            Err(e)
                        }
                    }
                },
            )
            .map_err(ImapError::Thread)?;
        let (runtime, state, tx) = worker.join().map_err(|_| ImapError::Session {
            server: server.clone(),
            during: "opening",
            reason: "the worker thread panicked".into(),
            retry: false,
        })??;
        Ok(Self {
            runtime: Some(runtime),
            state,
            ready: VecDeque::new(),
            acks_tx: Some(tx),
            finished: false,
        })
    }

    /// A handle for acknowledging stored messages (needed for moving them). Take it before
    /// the iteration starts: the first [`Iterator::next`] drops the mailbox's own sender, so
    /// that the mailbox stops waiting for acknowledgements once every handle is gone.
    pub fn acks(&self) -> Option<Acks> {
        self.acks_tx.as_ref().map(|tx| Acks {
            tx: tx.clone(),
            prefix: self.state.peer.url.to_string(),
        })
    }

    /// Where a fatal error is left when the iteration ends early.
    pub fn fatal(&self) -> FatalSlot {
        self.state.fatal.clone()
    }

    /// The UIDVALIDITY of the selected mailbox.
    pub fn uid_validity(&self) -> Option<u32> {
        self.state.uid_validity
    }
}

impl Drop for ImapMailbox {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's async context would panic.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Iterator for ImapMailbox {
    type Item = Result<Input, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.acks_tx = None;
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            let Some(runtime) = &self.runtime else {
                return None;
            };
            let state = &mut self.state;
            let ready = &mut self.ready;
            // A panic in the IMAP client on a server's answer (it has happened in imap-proto and
            // async-imap) must end the run as an error, not look like a finished mailbox.
            let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(state.step(ready))
            }))
            .unwrap_or_else(|_| {
                Err(ImapError::Session {
                    server: state.peer.server.clone(),
                    during: "reading the server's answer",
                    reason: "the IMAP client failed on it (a panic); stopping".into(),
                    retry: false,
                })
            });
            match stepped {
                Ok(Flow::Continue) => state.failures = 0,
                Ok(Flow::Finished) => self.finished = true,
                Err(e) if e.is_transient() && !state.peer.opts.stop.is_stopped() => {
                    state.conn = None;
                    state.failures = state.failures.saturating_add(1);
                    if !state.peer.opts.watch && state.failures > state.peer.opts.reconnect_attempts
                    {
                        state.fatal.set(ImapError::GaveUp {
                            attempts: state.failures - 1,
                            last: Box::new(e),
                        });
                        self.finished = true;
                    } else {
                        let pause = state.backoff();
                        let stop = state.peer.opts.stop.clone();
                        runtime.block_on(async {
                            tokio::select! {
                                () = tokio::time::sleep(pause) => {}
                                () = stop.stopped() => {}
                            }
                        });
                    }
                }
                Err(e) => {
                    state.conn = None;
                    state.fatal.set(e);
                    self.finished = true;
                }
            }
        }
    }
}

impl State {
    fn backoff(&self) -> Duration {
        let shift = self.failures.saturating_sub(1).min(16);
        self.peer
            .opts
            .backoff_first
            .saturating_mul(1u32 << shift)
            .min(self.peer.opts.backoff_max)
    }

    async fn step(
        &mut self,
        ready: &mut VecDeque<Result<Input, InputError>>,
    ) -> Result<Flow, ImapError> {
        if self.peer.opts.stop.is_stopped() {
            self.logout().await;
            return Ok(Flow::Finished);
        }
        self.ensure_connected().await?;
        self.collect_acks(Duration::ZERO);
        self.move_acknowledged().await?;
        self.drain_unsolicited();
        if self.todo.is_empty() {
            // What the listing finds covers every EXISTS before it.
            self.saw_exists = false;
            self.list_new().await?;
            self.drain_unsolicited();
        }
        if !self.todo.is_empty() {
            self.fetch_batch(ready).await?;
            return Ok(Flow::Continue);
        }
        // Everything listed was handed over: let the store catch up, then move.
        if self.peer.opts.move_to.is_some() && !self.unacked.is_empty() {
            self.collect_acks(self.peer.opts.io_timeout);
            self.move_acknowledged().await?;
            self.drain_unsolicited();
        }
        if !self.peer.opts.watch {
            self.logout().await;
            return Ok(Flow::Finished);
        }
        self.idle().await?;
        Ok(Flow::Continue)
    }

    async fn ensure_connected(&mut self) -> Result<(), ImapError> {
        if self.conn.is_some() {
            return Ok(());
        }
        let mut conn = self.peer.connect().await?;
        self.delimiter = self.hierarchy_delimiter(&mut conn.session).await?;
        let name = self.server_name(self.peer.url.mailbox());
        let selected = if self.peer.opts.move_to.is_some() {
            timeout(self.peer.opts.io_timeout, conn.session.select(&name)).await
        } else {
            timeout(self.peer.opts.io_timeout, conn.session.examine(&name)).await
        };
        let mailbox = match selected {
            Err(_) => {
                return Err(self
                    .peer
                    .timeout_error("selecting the mailbox", self.peer.opts.io_timeout));
            }
            Ok(Err(async_imap::error::Error::No(said) | async_imap::error::Error::Bad(said))) => {
                return Err(ImapError::Mailbox {
                    server: self.peer.server.clone(),
                    name: self.peer.url.mailbox().to_owned(),
                    said: tidy(&said),
                });
            }
            Ok(Err(e)) => return Err(self.peer.session_error("selecting the mailbox", e)),
            Ok(Ok(m)) => m,
        };
        let validity = match mailbox.uid_validity {
            Some(v) => v,
            // RFC 3501, section 6.3.1: required. Without it UIDs cannot be trusted across
            // connections, so nothing is moved on their strength.
            None if self.peer.opts.move_to.is_some() => {
                return Err(ImapError::Mailbox {
                    server: self.peer.server.clone(),
                    name: self.peer.url.mailbox().to_owned(),
                    said: "the server gave no UIDVALIDITY, so messages cannot be moved safely"
                        .into(),
                });
            }
            None => 0,
        };
        if self.uid_validity.is_some_and(|v| v != validity) {
            // UIDs of before mean nothing now: read the mailbox again from the start (what was
            // stored already comes back as duplicates).
            self.todo.clear();
            self.last_listed = 0;
            self.unacked.clear();
            self.to_move.clear();
        }
        self.uid_validity = Some(validity);
        if let Some(folder) = self.peer.opts.move_to.clone() {
            if !conn.capabilities.has("MOVE") && !conn.capabilities.has("UIDPLUS") {
                return Err(ImapError::MoveUnsupported {
                    server: self.peer.server.clone(),
                });
            }
            self.ensure_folder(&mut conn.session, &folder).await?;
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// `LIST "" ""` answers with the hierarchy delimiter.
    async fn hierarchy_delimiter(
        &self,
        session: &mut Session,
    ) -> Result<Option<String>, ImapError> {
        let names = self
            .peer
            .timed("listing folders", session.list(Some(""), Some("\"\"")))
            .await?;
        let names = self.peer.collect("listing folders", names, 16).await?;
        Ok(names.iter().find_map(|n| n.delimiter().map(str::to_owned)))
    }

    /// A mailbox or folder name as the server spells it: `/` stands for the server's
    /// hierarchy delimiter (`Archive/DMARC` is `Archive.DMARC` on a server that uses `.`), and
    /// the name is in modified UTF-7.
    fn server_name(&self, name: &str) -> String {
        match &self.delimiter {
            Some(d) if d != "/" => mailbox_utf7(&name.replace('/', d)),
            _ => mailbox_utf7(name),
        }
    }

    async fn ensure_folder(&self, session: &mut Session, folder: &str) -> Result<(), ImapError> {
        let name = self.server_name(folder);
        let quoted = quote(&name);
        let exists = {
            let names = self
                .peer
                .timed("listing folders", session.list(Some(""), Some(&quoted)))
                .await?;
            // `%` and `*` in the name are LIST wildcards: only the exact name counts, and only
            // as a folder that exists and can be selected.
            let names = self.peer.collect("listing folders", names, 10_000).await?;
            names.iter().any(|n| {
                n.name() == name
                    && !n.attributes().iter().any(|a| {
                        matches!(a, async_imap::types::NameAttribute::NoSelect)
                            || matches!(a, async_imap::types::NameAttribute::Extension(e) if e.eq_ignore_ascii_case("\\NonExistent"))
                    })
            })
        };
        if exists {
            return Ok(());
        }
        match timeout(self.peer.opts.io_timeout, session.create(&name)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(async_imap::error::Error::No(said) | async_imap::error::Error::Bad(said))) => {
                Err(ImapError::Mailbox {
                    server: self.peer.server.clone(),
                    name: folder.to_owned(),
                    said: tidy(&said),
                })
            }
            Ok(Err(e)) => Err(self.peer.session_error("creating the folder", e)),
            Err(_) => Err(self
                .peer
                .timeout_error("creating the folder", self.peer.opts.io_timeout)),
        }
    }

    /// Lists the messages above the last UID listed, with their sizes.
    async fn list_new(&mut self) -> Result<(), ImapError> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        if self.last_listed == u32::MAX {
            // No UID can come after the largest one.
            return Ok(());
        }
        let from = self.last_listed.saturating_add(1);
        let limit = self.peer.opts.io_timeout;
        let mut found = Vec::new();
        let mut answers = 0usize;
        let failure = match timeout(
            limit,
            conn.session
                .uid_fetch(format!("{from}:*"), "(UID RFC822.SIZE)"),
        )
        .await
        {
            Err(_) => Some(None),
            Ok(Err(e)) => Some(Some(e)),
            Ok(Ok(mut stream)) => loop {
                match timeout(limit, stream.next()).await {
                    Err(_) => break Some(None),
                    Ok(None) => break None,
                    Ok(Some(Err(e))) => break Some(Some(e)),
                    Ok(Some(Ok(fetch))) => {
                        answers += 1;
                        if answers > MAX_LISTED {
                            break Some(Some(async_imap::error::Error::Bad(format!(
                                "more than {MAX_LISTED} answers to one listing"
                            ))));
                        }
                        // `N:*` names the last message even when its UID is below N; an
                        // unsolicited FETCH (flags) has no size and is not a listing answer.
                        if let (Some(uid), Some(size)) =
                            (fetch.uid.filter(|&u| u >= from), fetch.size)
                        {
                            found.push((uid, size));
                        }
                    }
                }
            },
        };
        match failure {
            Some(None) => return Err(self.peer.timeout_error("listing", limit)),
            Some(Some(e)) => return Err(self.peer.session_error("listing", e)),
            None => {}
        }
        // The largest announced size wins if a UID comes twice.
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        found.dedup_by_key(|f| f.0);
        if let Some(&(last, _)) = found.last() {
            self.last_listed = last;
        }
        self.listed += found.len() as u64;
        self.todo.extend(found);
        Ok(())
    }

    /// Fetches the next batch into `ready`. On a failure the messages not received go back
    /// to the front of the list.
    async fn fetch_batch(
        &mut self,
        ready: &mut VecDeque<Result<Input, InputError>>,
    ) -> Result<(), ImapError> {
        let validity = self.uid_validity.unwrap_or(0);
        let mut batch = Vec::new();
        let mut bytes = 0u64;
        while let Some(&(uid, size)) = self.todo.front() {
            let size = u64::from(size);
            if size > MAX_MESSAGE_BYTES {
                self.todo.pop_front();
                ready.push_back(Err(InputError {
                    location: self.peer.url.message_location(validity, uid),
                    reason: format!(
                        "message of {size} bytes is over the {MAX_MESSAGE_BYTES}-byte limit"
                    ),
                    source: None,
                }));
                self.handed(uid);
                continue;
            }
            if !batch.is_empty() && (batch.len() >= BATCH_MESSAGES || bytes + size > BATCH_BYTES) {
                break;
            }
            self.todo.pop_front();
            batch.push((uid, u32::try_from(size).unwrap_or(u32::MAX)));
            bytes += size;
        }
        if batch.is_empty() {
            return Ok(());
        }
        let set = uid_set(batch.iter().map(|b| b.0));
        let wanted: HashSet<u32> = batch.iter().map(|b| b.0).collect();
        let mut received: HashSet<u32> = HashSet::with_capacity(batch.len());
        let limit = self.peer.opts.io_timeout;
        let mut failure: Option<Result<async_imap::error::Error, ()>> = None;
        let mut got: Vec<(u32, Vec<u8>)> = Vec::with_capacity(batch.len());
        let mut answers = 0usize;
        let mut received_bytes = 0u64;
        let mut oversent = false;
        if let Some(conn) = self.conn.as_mut() {
            match timeout(
                limit,
                conn.session
                    .uid_fetch(&set, "(UID RFC822.SIZE BODY.PEEK[])"),
            )
            .await
            {
                Err(_) => failure = Some(Err(())),
                Ok(Err(e)) => failure = Some(Ok(e)),
                Ok(Ok(mut stream)) => loop {
                    match timeout(limit, stream.next()).await {
                        Err(_) => {
                            failure = Some(Err(()));
                            break;
                        }
                        Ok(None) => break,
                        Ok(Some(Err(e))) => {
                            failure = Some(Ok(e));
                            break;
                        }
                        Ok(Some(Ok(fetch))) => {
                            answers += 1;
                            let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                                if answers > 4 * batch.len() + 64 {
                                    failure = Some(Ok(async_imap::error::Error::Bad(
                                        "answers that were not asked for".into(),
                                    )));
                                    break;
                                }
                                continue;
                            };
                            if wanted.contains(&uid) && received.insert(uid) {
                                received_bytes = received_bytes.saturating_add(body.len() as u64);
                                if received_bytes > BATCH_BYTES.saturating_add(MAX_MESSAGE_BYTES) {
                                    // Not handed over: it goes back to the list below.
                                    received.remove(&uid);
                                    oversent = true;
                                    break;
                                }
                                got.push((uid, body.to_vec()));
                            }
                        }
                    }
                },
            }
        } else {
            failure = Some(Ok(async_imap::error::Error::ConnectionLost));
        }
        got.sort_unstable_by_key(|g| g.0);
        for (uid, body) in got {
            let location = self.peer.url.message_location(validity, uid);
            if body.len() as u64 > MAX_MESSAGE_BYTES {
                ready.push_back(Err(InputError {
                    location,
                    reason: format!("message over the {MAX_MESSAGE_BYTES}-byte limit"),
                    source: None,
                }));
            } else {
                ready.push_back(Ok(Input {
                    location,
                    bytes: body,
                }));
            }
            self.handed(uid);
        }
        if oversent {
            failure = Some(Ok(async_imap::error::Error::Bad(
                "the server sent far more bytes than the sizes it announced".into(),
            )));
        }
        match failure {
            None => Ok(()),
            Some(e) => {
                // Put back what did not arrive, in order, for after the reconnection.
                for &(uid, size) in batch.iter().rev() {
                    if !received.contains(&uid) {
                        self.todo.push_front((uid, size));
                    }
                }
                Err(match e {
                    Ok(e) => self.peer.session_error("fetching", e),
                    Err(()) => self.peer.timeout_error("fetching", limit),
                })
            }
        }
    }

    fn handed(&mut self, uid: u32) {
        if self.peer.opts.move_to.is_some() {
            self.unacked.insert(uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_locations() {
        let (tx, rx) = mpsc::channel();
        let url = ImapUrl::parse("imaps://u@h/INBOX").unwrap();
        let acks = Acks {
            tx,
            prefix: url.to_string(),
        };
        acks.committed(&[
            url.message_location(7, 42),
            "maildir:/x/cur/1".into(),
            "imaps://u@h:993/Other;UIDVALIDITY=7/;UID=5".into(),
            format!("{url};UIDVALIDITY=x/;UID=1"),
        ]);
        drop(acks);
        assert_eq!(rx.iter().collect::<Vec<_>>(), vec![(7, 42)]);
    }
}
