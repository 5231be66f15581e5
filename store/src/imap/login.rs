//! Reaching a logged-in IMAP session: TCP, TLS or STARTTLS, the greeting, capabilities, and
//! SASL (PLAIN, OAUTHBEARER, XOAUTH2) or LOGIN.

use std::collections::HashSet;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::imap_proto::{Capability, Response, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use super::{Credentials, ImapError, ImapOptions, ImapUrl, Security};

pub(super) type Session = async_imap::Session<Conn>;
type Client = async_imap::Client<Conn>;

/// The server and how to talk to it.
pub(super) struct Peer {
    pub(super) url: ImapUrl,
    pub(super) opts: ImapOptions,
    pub(super) tls: TlsConnector,
    /// `host:port`, for messages.
    pub(super) server: String,
}

/// The byte stream under the IMAP client: TCP, or TLS over TCP.
#[derive(Debug)]
pub(super) enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The capabilities a server announced, upper-cased (`IMAP4REV1`, `AUTH=PLAIN`, `MOVE`…).
#[derive(Debug, Default)]
pub(super) struct Capabilities(HashSet<String>);

impl Capabilities {
    pub(super) fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    fn add(&mut self, cap: &Capability<'_>) {
        let name = match cap {
            Capability::Imap4rev1 => "IMAP4REV1".to_owned(),
            Capability::Auth(m) => format!("AUTH={}", m.to_ascii_uppercase()),
            Capability::Atom(a) => a.to_ascii_uppercase(),
        };
        self.0.insert(name);
    }
}

/// A logged-in, selected connection.
pub(super) struct Connected {
    pub(super) session: Session,
    pub(super) capabilities: Capabilities,
}

impl Peer {
    pub(super) fn session_error(
        &self,
        during: &'static str,
        e: async_imap::error::Error,
    ) -> ImapError {
        use async_imap::error::Error as E;
        let reason = truncate(&match &e {
            E::No(said) | E::Bad(said) => tidy(said),
            other => other.to_string(),
        });
        // RFC 5530's codes for conditions that pass.
        let passing = ["[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]"]
            .iter()
            .any(|code| reason.contains(code));
        let retry = passing || matches!(e, E::Io(_) | E::ConnectionLost | E::Parse(_));
        ImapError::Session {
            server: self.server.clone(),
            during,
            reason,
            retry,
        }
    }

    pub(super) fn timeout_error(&self, during: &'static str, limit: Duration) -> ImapError {
        ImapError::Timeout {
            server: self.server.clone(),
            during,
            seconds: limit.as_secs(),
        }
    }

    /// Runs one IMAP operation under the answer timeout.
    pub(super) async fn timed<T>(
        &self,
        during: &'static str,
        op: impl Future<Output = async_imap::error::Result<T>>,
    ) -> Result<T, ImapError> {
        match timeout(self.opts.io_timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.session_error(during, e)),
            Err(_) => Err(self.timeout_error(during, self.opts.io_timeout)),
        }
    }

    /// Reads the answers of a command, each within the answer timeout, at most `max` of them
    /// (a server that keeps answering is refused rather than followed forever).
    pub(super) async fn collect<T, S>(
        &self,
        during: &'static str,
        stream: S,
        max: usize,
    ) -> Result<Vec<T>, ImapError>
    where
        S: futures_util::Stream<Item = async_imap::error::Result<T>>,
    {
        use futures_util::StreamExt as _;
        let mut stream = std::pin::pin!(stream);
        let mut out = Vec::new();
        loop {
            match timeout(self.opts.io_timeout, stream.next()).await {
                Err(_) => return Err(self.timeout_error(during, self.opts.io_timeout)),
                Ok(None) => return Ok(out),
                Ok(Some(Err(e))) => return Err(self.session_error(during, e)),
                Ok(Some(Ok(item))) => {
                    if out.len() >= max {
                        return Err(
                            self.refusal(during, "the server sent more answers than it could have")
                        );
                    }
                    out.push(item);
                }
            }
        }
    }

    /// A server that misbehaves in a way retrying would only repeat.
    pub(super) fn refusal(&self, during: &'static str, reason: &str) -> ImapError {
        ImapError::Session {
            server: self.server.clone(),
            during,
            reason: reason.to_owned(),
            retry: false,
        }
    }

    pub(super) async fn connect(&self) -> Result<Connected, ImapError> {
        let url = &self.url;
        let limit = self.opts.connect_timeout;
        let tcp = match timeout(limit, TcpStream::connect((url.host(), url.port()))).await {
            Err(_) => return Err(self.timeout_error("connecting", limit)),
            Ok(Err(source)) => {
                return Err(ImapError::Connect {
                    server: self.server.clone(),
                    source,
                });
            }
            Ok(Ok(tcp)) => tcp,
        };
        let _ = tcp.set_nodelay(true);
        let mut client = match url.security() {
            Security::Tls => {
                let mut client = Client::new(self.tls_handshake(tcp).await?);
                self.greeting(&mut client).await?;
                client
            }
            Security::StartTls => {
                let mut client = Client::new(Conn::Plain(tcp));
                self.greeting(&mut client).await?;
                let capabilities = self.capabilities(&mut client).await?;
                if capabilities.has("STARTTLS") {
                    self.timed(
                        "STARTTLS",
                        client.run_command_and_check_ok("STARTTLS", None),
                    )
                    .await?;
                    // Whatever the server sent before the handshake is dropped with the
                    // client's buffer: nothing read in clear text is trusted afterwards.
                    let Conn::Plain(tcp) = client.into_inner() else {
                        return Err(ImapError::Session {
                            server: self.server.clone(),
                            during: "STARTTLS",
                            reason: "the connection was already encrypted".into(),
                            retry: false,
                        });
                    };
                    Client::new(self.tls_handshake(tcp).await?)
                } else if self.opts.insecure_plaintext {
                    client
                } else {
                    return Err(ImapError::NoStartTls {
                        server: self.server.clone(),
                    });
                }
            }
        };
        let capabilities = self.capabilities(&mut client).await?;
        let mut session = self.authenticate(client, &capabilities).await?;
        // Servers announce more (MOVE, UIDPLUS, IDLE) once logged in.
        let capabilities = match self.timed("CAPABILITY", session.capabilities()).await {
            Ok(after) => {
                let mut all = Capabilities::default();
                for c in after.iter() {
                    all.0.insert(match c {
                        async_imap::types::Capability::Imap4rev1 => "IMAP4REV1".to_owned(),
                        async_imap::types::Capability::Auth(m) => {
                            format!("AUTH={}", m.to_ascii_uppercase())
                        }
                        async_imap::types::Capability::Atom(a) => a.to_ascii_uppercase(),
                    });
                }
                all
            }
            Err(e) => return Err(e),
        };
        Ok(Connected {
            session,
            capabilities,
        })
    }

    async fn tls_handshake(&self, tcp: TcpStream) -> Result<Conn, ImapError> {
        let name =
            ServerName::try_from(self.url.host().to_owned()).map_err(|e| ImapError::Url {
                url: self.url.to_string(),
                reason: format!("the host is no TLS server name: {e}"),
            })?;
        let limit = self.opts.connect_timeout;
        match timeout(limit, self.tls.connect(name, tcp)).await {
            Err(_) => Err(self.timeout_error("in the TLS handshake", limit)),
            Ok(Err(source)) => Err(ImapError::Tls {
                server: self.server.clone(),
                source,
            }),
            Ok(Ok(s)) => Ok(Conn::Tls(Box::new(s))),
        }
    }

    async fn greeting(&self, client: &mut Client) -> Result<(), ImapError> {
        let limit = self.opts.connect_timeout;
        let response = match timeout(limit, client.read_response()).await {
            Err(_) => return Err(self.timeout_error("waiting for the greeting", limit)),
            Ok(Err(e)) => return Err(self.session_error("reading the greeting", e.into())),
            Ok(Ok(None)) => {
                return Err(self.session_error(
                    "reading the greeting",
                    async_imap::error::Error::ConnectionLost,
                ));
            }
            Ok(Ok(Some(r))) => r,
        };
        match response.parsed() {
            Response::Data {
                status: Status::Ok | Status::PreAuth,
                ..
            } => Ok(()),
            other => Err(ImapError::Session {
                server: self.server.clone(),
                during: "reading the greeting",
                reason: format!("the server said {other:?}"),
                retry: true,
            }),
        }
    }

    /// Asks for the capabilities before login (the client type has no call for it): the
    /// untagged CAPABILITY answer arrives through the channel of unsolicited responses.
    async fn capabilities(&self, client: &mut Client) -> Result<Capabilities, ImapError> {
        let (tx, rx) = async_channel::unbounded();
        self.timed(
            "CAPABILITY",
            client.run_command_and_check_ok("CAPABILITY", Some(tx)),
        )
        .await?;
        let mut capabilities = Capabilities::default();
        while let Ok(response) = rx.try_recv() {
            if let async_imap::types::UnsolicitedResponse::Other(data) = response
                && let Response::Capabilities(list) = data.parsed()
            {
                for c in list {
                    capabilities.add(c);
                }
            }
        }
        Ok(capabilities)
    }

    async fn authenticate(
        &self,
        client: Client,
        capabilities: &Capabilities,
    ) -> Result<Session, ImapError> {
        let user = self.url.user();
        let mut oauth_error: Option<String> = None;
        let (mechanism, result) = match &self.opts.credentials {
            Credentials::Password(password) => {
                if capabilities.has("AUTH=PLAIN") {
                    let sasl = Sasl::new(plain(user, password));
                    (
                        "PLAIN",
                        timeout(self.opts.io_timeout, client.authenticate("PLAIN", sasl)).await,
                    )
                } else if capabilities.has("LOGINDISABLED") {
                    return Err(ImapError::NoMechanism {
                        server: self.server.clone(),
                        wanted: "password (LOGIN is disabled, PLAIN not offered)",
                    });
                } else {
                    (
                        "LOGIN",
                        timeout(self.opts.io_timeout, client.login(user, password)).await,
                    )
                }
            }
            Credentials::BearerToken(_) | Credentials::BearerTokenFile(_) => {
                // A token file is read again on every connection: access tokens last about an
                // hour, and whatever refreshes them rewrites the file.
                let token = self.opts.credentials.current_token()?;
                let (mechanism, payload, abort) = if capabilities.has("AUTH=OAUTHBEARER") {
                    // RFC 7628, section 3.2.3: the client answers an error challenge with ^A.
                    ("OAUTHBEARER", oauthbearer(user, &token), b"\x01".to_vec())
                } else if capabilities.has("AUTH=XOAUTH2") {
                    ("XOAUTH2", xoauth2(user, &token), Vec::new())
                } else {
                    return Err(ImapError::NoMechanism {
                        server: self.server.clone(),
                        wanted: "OAuth (OAUTHBEARER or XOAUTH2)",
                    });
                };
                let sasl = Sasl::new(payload).with_abort(abort);
                let challenge = Arc::clone(&sasl.error);
                let result =
                    timeout(self.opts.io_timeout, client.authenticate(mechanism, sasl)).await;
                oauth_error = challenge.lock().ok().and_then(|mut e| e.take());
                (mechanism, result)
            }
        };
        match result {
            Err(_) => Err(self.timeout_error("authenticating", self.opts.io_timeout)),
            Ok(Ok(session)) => Ok(session),
            Ok(Err((
                async_imap::error::Error::No(said) | async_imap::error::Error::Bad(said),
                _,
            ))) => Err(ImapError::Auth {
                server: self.server.clone(),
                user: user.to_owned(),
                mechanism,
                said: match oauth_error {
                    Some(status) => format!("{} ({status})", tidy(&said)),
                    None => tidy(&said),
                },
            }),
            Ok(Err((e, _))) => Err(self.session_error("authenticating", e)),
        }
    }
}

/// A SASL client that answers the first challenge with its message, and any later one (an
/// error report, in XOAUTH2 and OAUTHBEARER) with its abort response, keeping the error's
/// `status` for the message people see; the server then fails the exchange.
struct Sasl {
    message: Option<Vec<u8>>,
    abort: Vec<u8>,
    error: Arc<Mutex<Option<String>>>,
}

impl Sasl {
    fn new(message: Vec<u8>) -> Self {
        Self {
            message: Some(message),
            abort: Vec::new(),
            error: Arc::default(),
        }
    }

    fn with_abort(mut self, abort: Vec<u8>) -> Self {
        self.abort = abort;
        self
    }
}

impl async_imap::Authenticator for Sasl {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Self::Response {
        if let Some(message) = self.message.take() {
            return message;
        }
        // RFC 7628, section 3.2.2: a JSON object with `status` (and `scope`, …).
        let status = serde_json::from_slice::<serde_json::Value>(challenge)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_owned))
            .map(|s| {
                s.chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect::<String>()
            });
        if let (Some(status), Ok(mut slot)) = (status, self.error.lock()) {
            *slot = Some(format!("status {status}"));
        }
        self.abort.clone()
    }
}

/// RFC 4616: `authzid NUL authcid NUL passwd`, with an empty authzid.
fn plain(user: &str, password: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(user.len() + password.len() + 2);
    m.push(0);
    m.extend_from_slice(user.as_bytes());
    m.push(0);
    m.extend_from_slice(password.as_bytes());
    m
}

/// RFC 7628, section 3.1: a GS2 header naming the user (`,` and `=` escaped as `=2C` and
/// `=3D`, RFC 5801), then `auth=Bearer TOKEN`, each key-value pair ended by ^A, and a final ^A.
fn oauthbearer(user: &str, token: &str) -> Vec<u8> {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01auth=Bearer {token}\x01\x01").into_bytes()
}

/// Google's and Microsoft's XOAUTH2: `user=USER ^A auth=Bearer TOKEN ^A ^A`.
fn xoauth2(user: &str, token: &str) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {token}\x01\x01").into_bytes()
}

/// What the server said, from async-imap's `code: …, info: Some("…")` rendering: the text,
/// which carries the response code in brackets anyway (`[AUTHENTICATIONFAILED] …`).
pub(super) fn tidy(said: &str) -> String {
    let Some(start) = said.find("info: Some(\"") else {
        return if said.contains("info: None") {
            "the server gave no reason".into()
        } else {
            truncate(said)
        };
    };
    let text = said.get(start + 12..).unwrap_or_default();
    let text = text.strip_suffix("\")").unwrap_or(text);
    truncate(&text.replace("\\\"", "\""))
}

/// At most 300 characters of what a server said (async-imap's parse errors carry the whole
/// receive buffer).
pub(super) fn truncate(s: &str) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(MAX).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7628, section 4.1's example: user `user@example.com`, token `vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==`,
    /// sent as `n,a=user@example.com,^Ahost=server.example.com^Aport=143^Aauth=Bearer …^A^A`
    /// (without the optional host and port here).
    #[test]
    fn sasl_messages() {
        assert_eq!(
            oauthbearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
            b"n,a=user@example.com,\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert_eq!(
            oauthbearer("a,b=c", "t"),
            b"n,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01"
        );
        assert_eq!(xoauth2("u@x", "t"), b"user=u@x\x01auth=Bearer t\x01\x01");
        // RFC 4616, section 4: "\0tim\0tanstaaftanstaaf".
        assert_eq!(plain("tim", "tanstaaftanstaaf"), b"\0tim\0tanstaaftanstaaf");
    }
}
