//! A throwaway Dovecot IMAP server on loopback ports, for the IMAP source's tests: a temporary
//! configuration, a self-signed certificate made with `openssl`, one user (`alice`, password
//! `secret`) whose maildir the tests fill directly, and optionally an OAuth 2.0 passdb that asks
//! a token endpoint the test starts.
//!
//! When `dovecot` is not installed, [`Dovecot::start`] returns `None` (the test prints why and
//! passes) unless `MAILWARD_REQUIRE_DOVECOT` is set, which CI does: then it panics.

use std::fs;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::ports::free_port;

pub(crate) const REQUIRE_ENV: &str = "MAILWARD_REQUIRE_DOVECOT";
pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "secret";
/// The token the OAuth endpoint accepts for `alice`.
pub(crate) const GOOD_TOKEN: &str = "ya29.good-token-for-alice";

/// What the server offers.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// TLS on (imaps port and STARTTLS); off means a clear-text-only server.
    pub(crate) ssl: bool,
    /// `auth_mechanisms`.
    pub(crate) mechanisms: &'static str,
    /// An oauth2 passdb for XOAUTH2 / OAUTHBEARER, asking a local token endpoint.
    pub(crate) oauth: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ssl: true,
            mechanisms: "plain login",
            oauth: false,
        }
    }
}

pub(crate) struct Dovecot {
    pub(crate) dir: PathBuf,
    pub(crate) imap_port: u16,
    pub(crate) imaps_port: u16,
    conf: PathBuf,
    binary: PathBuf,
    child: Option<Child>,
    mail_uid: u32,
    _token_server: Option<TokenServer>,
}

impl Dovecot {
    pub(crate) fn start(tag: &str, config: Config) -> Option<Self> {
        let Some(dovecot) = which("dovecot") else {
            assert!(
                std::env::var_os(REQUIRE_ENV).is_none_or(|v| v.is_empty()),
                "{REQUIRE_ENV} is set but dovecot is not installed (apt-get install dovecot-imapd)"
            );
            eprintln!("skipped: dovecot is not installed (apt-get install dovecot-imapd)");
            return None;
        };
        let dir = PathBuf::from("/tmp").join(format!("mw-dovecot-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o755);
        let root = running_as_root();
        let (mail_uid, internal_user) = if root {
            (65534, "dovecot".to_owned())
        } else {
            let uid = current_uid();
            (uid, current_user())
        };
        let mail = dir.join("mail").join(USER);
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(mail.join(sub)).unwrap();
        }
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        make_certificate(&cert, &key);
        let token_server = config.oauth.then(TokenServer::start);
        let imap_port = free_port();
        let imaps_port = free_port();
        let users = dir.join("users");
        fs::write(
            &users,
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_uid}::{}::\n",
                mail.display()
            ),
        )
        .unwrap();
        let mut conf = format!(
            r#"protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
auth_verbose = yes
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
mail_location = maildir:{d}/mail/%u
ssl = {ssl}
ssl_cert = <{cert}
ssl_key = <{key}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
"#,
            d = dir.display(),
            login_user = if root {
                "dovenull".to_owned()
            } else {
                current_user()
            },
            mechanisms = config.mechanisms,
            ssl = if config.ssl { "yes" } else { "no" },
            cert = cert.display(),
            key = key.display(),
            users = users.display(),
            imaps_port = if config.ssl { imaps_port } else { 0 },
        );
        if let Some(server) = &token_server {
            let args = dir.join("oauth2.conf");
            fs::write(
                &args,
                format!(
                    "introspection_mode = post\nintrospection_url = http://127.0.0.1:{}/introspect\n\
                     username_attribute = username\nactive_attribute = active\nactive_value = true\n",
                    server.port
                ),
            )
            .unwrap();
            conf.push_str(&format!(
                "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\n",
                args.display()
            ));
        }
        let conf_path = dir.join("dovecot.conf");
        fs::write(&conf_path, conf).unwrap();
        let mut d = Self {
            dir,
            imap_port,
            imaps_port,
            conf: conf_path,
            binary: dovecot,
            child: None,
            mail_uid,
            _token_server: token_server,
        };
        d.chown_mail();
        d.run();
        Some(d)
    }

    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    pub(crate) fn maildir(&self) -> PathBuf {
        self.dir.join("mail").join(USER)
    }

    /// Puts messages into the user's INBOX (before or while the server runs).
    pub(crate) fn deliver(&self, messages: &[Vec<u8>]) {
        let new = self.maildir().join("new");
        for (i, m) in messages.iter().enumerate() {
            let name = format!("{}.M{i}P{}.test", 1_700_000_000 + i, std::process::id());
            let tmp = self.maildir().join("tmp").join(&name);
            fs::write(&tmp, m).unwrap();
            fs::rename(&tmp, new.join(&name)).unwrap();
        }
        self.chown_mail();
    }

    /// The message files of a folder of the user (`""` for INBOX, else its name).
    pub(crate) fn files(&self, folder: &str) -> Vec<PathBuf> {
        let base = if folder.is_empty() {
            self.maildir()
        } else {
            self.maildir().join(format!(".{folder}"))
        };
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = fs::read_dir(base.join(sub)) {
                out.extend(rd.flatten().map(|e| e.path()));
            }
        }
        out.sort();
        out
    }

    /// Stops the server (SIGTERM to the master, which closes every connection).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
            // The master waits for its children; make sure no imap process lingers.
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Starts the server again on the same ports.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.run();
    }

    fn run(&mut self) {
        let child = Command::new(&self.binary)
            .args(["-F", "-c"])
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting dovecot");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.imap_port)).is_err() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("dovecot exited ({status}): {err}\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The master accepts connections before a login process serves them; under load the
        // first clients then met a closed connection instead of a greeting. Ready means a
        // greeting on the clear-text port.
        while !self.greets() {
            assert!(
                Instant::now() < deadline,
                "dovecot sends no greeting:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether a connection to the clear-text port is greeted (`* OK`, or `* PREAUTH`/`* BYE`
    /// which are answers too).
    fn greets(&self) -> bool {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", self.imap_port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("* ")
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    fn chown_mail(&self) {
        if running_as_root() {
            let _ = Command::new("chown")
                .args(["-R", &format!("{0}:{0}", self.mail_uid)])
                .arg(self.dir.join("mail"))
                .status();
        }
    }

    /// Appends a message to INBOX over IMAP (clear text on loopback, LOGIN), as a mail
    /// delivery agent would while a client watches.
    pub(crate) fn append(&self, message: &[u8]) {
        let stream = TcpStream::connect(("127.0.0.1", self.imap_port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut w = stream;
        let mut line = String::new();
        let mut expect = |reader: &mut BufReader<TcpStream>, prefix: &str| loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            assert!(!line.is_empty(), "connection closed waiting for {prefix}");
            if line.starts_with(prefix) {
                assert!(!line.contains(" NO ") && !line.contains(" BAD "), "{line}");
                return;
            }
        };
        expect(&mut reader, "* OK");
        write!(w, "a1 LOGIN {USER} {PASSWORD}\r\n").unwrap();
        expect(&mut reader, "a1 ");
        write!(w, "a2 APPEND INBOX {{{}}}\r\n", message.len()).unwrap();
        expect(&mut reader, "+");
        w.write_all(message).unwrap();
        w.write_all(b"\r\n").unwrap();
        expect(&mut reader, "a2 ");
        write!(w, "a3 LOGOUT\r\n").unwrap();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A one-purpose HTTP server for Dovecot's OAuth 2.0 token introspection (RFC 7662 style): a
/// POST whose form body holds `token=GOOD_TOKEN` is active for `alice`; anything else is not.
struct TokenServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl TokenServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => answer_introspection(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self { port, stop }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn answer_introspection(stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length.min(65536)];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body);
    let good = body
        .split('&')
        .any(|kv| kv == format!("token={}", form_encode(GOOD_TOKEN)));
    let json = if good {
        format!(r#"{{"active":true,"username":"{USER}"}}"#)
    } else {
        r#"{"active":false}"#.to_owned()
    };
    let mut w = stream;
    let _ = write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A self-signed certificate for `localhost` and 127.0.0.1 (openssl's `req -x509` marks it as
/// a CA, as most hand-made server certificates are).
pub(crate) fn make_certificate(cert: &Path, key: &Path) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .stdin(Stdio::null())
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    set_mode(key, 0o644);
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

fn running_as_root() -> bool {
    current_uid() == 0
}

fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    // The owner of a file we just made is our effective uid.
    let probe = std::env::temp_dir().join(format!("mw-uid-probe-{}", std::process::id()));
    let _ = fs::write(&probe, b"");
    let uid = fs::metadata(&probe).map(|m| m.uid()).unwrap_or(u32::MAX);
    let _ = fs::remove_file(&probe);
    uid
}

fn current_user() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
