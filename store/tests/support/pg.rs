//! A throwaway PostgreSQL cluster for the integration tests of the PostgreSQL backend.
//!
//! [`PgCluster::start`] runs `initdb` into a fresh temporary directory and starts the server with
//! `pg_ctl` on a free loopback TCP port (`listen_addresses = '127.0.0.1'`, the Unix socket in the
//! temporary directory, trust authentication, no fsync). Dropping the value stops the server
//! (`pg_ctl stop -m immediate`) and removes the directory. A small watcher process (`sh`) does
//! the same cleanup when the test process ends without dropping the value (a cluster kept in a
//! `static`, a `panic = abort`, a kill), so no server outlives the tests.
//!
//! PostgreSQL refuses to run as root: when the tests run as root, the server programs run as the
//! `postgres` OS user (`runuser -u postgres --`), which owns the temporary directory.
//!
//! Without PostgreSQL installed, [`PgCluster::start`] returns `None` (the tests skip with a
//! message) unless `MAILWARD_REQUIRE_POSTGRES` is set, which CI does: then it panics.

#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::ports::free_port;

/// The environment variable that turns a missing PostgreSQL into a failure instead of a skip.
pub const REQUIRE_ENV: &str = "MAILWARD_REQUIRE_POSTGRES";

/// The cluster's superuser (`initdb -U`), and the OS user the server runs as under root.
pub const SUPERUSER: &str = "postgres";

/// How long the server gets to accept connections after `pg_ctl start`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many ports are tried when another process takes the chosen one first.
const PORT_ATTEMPTS: usize = 5;

/// The programs the harness runs from PostgreSQL's `bin` directory.
const PROGRAMS: [&str; 4] = ["initdb", "pg_ctl", "pg_isready", "createdb"];

/// Distinguishes the directories of the clusters of one test process.
static NEXT_CLUSTER: AtomicU64 = AtomicU64::new(0);

/// A throwaway PostgreSQL cluster: `initdb` into a fresh temporary directory, started with
/// `pg_ctl` on a free loopback TCP port (`listen_addresses = '127.0.0.1'`, the Unix socket in
/// the temporary directory), trust authentication for local TCP; stopped
/// (`pg_ctl stop -m immediate`) and its directory removed on drop.
#[derive(Debug)]
pub struct PgCluster {
    /// PostgreSQL's `bin` directory (`initdb`, `pg_ctl`, ...).
    bindir: PathBuf,
    /// The temporary directory: `data/` (PGDATA), the server logs, the Unix socket.
    dir: PathBuf,
    /// The TCP port on 127.0.0.1; 0 until the server runs.
    port: u16,
    /// Whether the programs run as the `postgres` OS user (the tests run as root).
    as_postgres: bool,
    /// The process that cleans up once the test process is gone (reads its stdin to EOF).
    watcher: Option<Child>,
    /// Makes the database names of [`PgCluster::create_database`] unique.
    next_db: AtomicU64,
}

impl PgCluster {
    /// Starts one, or returns `None` when PostgreSQL is not installed — unless the environment
    /// variable `MAILWARD_REQUIRE_POSTGRES` is set (non-empty), in which case it panics with a
    /// clear message (CI sets it, so a missing server fails instead of skipping).
    ///
    /// Panics when PostgreSQL is installed but the cluster cannot be started (with the log).
    pub fn start() -> Option<Self> {
        let required = std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty());
        let unavailable = |why: String| -> Option<Self> {
            assert!(
                !required,
                "{REQUIRE_ENV} is set but PostgreSQL is unusable: {why} \
                 (apt-get install postgresql)"
            );
            eprintln!("skipping the PostgreSQL tests: {why} (apt-get install postgresql)");
            None
        };
        let Some(bindir) = find_bindir() else {
            return unavailable(format!(
                "no PostgreSQL server programs found ({} via `pg_config --bindir` or under \
                 /usr/lib/postgresql/*/bin)",
                PROGRAMS.join(", ")
            ));
        };
        let as_postgres = running_as_root();
        if as_postgres && !user_exists(SUPERUSER) {
            return unavailable(format!(
                "running as root, and there is no `{SUPERUSER}` OS user to run the server as"
            ));
        }

        let started = Instant::now();
        let dir = make_cluster_dir(as_postgres);
        let mut cluster = Self {
            bindir,
            dir,
            port: 0,
            as_postgres,
            watcher: None,
            next_db: AtomicU64::new(0),
        };
        // From here on a panic drops `cluster`, which cleans up; so does the watcher if the
        // process dies instead.
        cluster.watcher = cluster.spawn_watcher();
        cluster.init();
        cluster.run_server();
        eprintln!(
            "PostgreSQL test cluster on 127.0.0.1:{} in {} (started in {} ms)",
            cluster.port,
            cluster.dir.display(),
            started.elapsed().as_millis()
        );
        Some(cluster)
    }

    /// Creates a fresh empty database with a unique name (derived from `name`) and returns its
    /// URL: `postgres://postgres@127.0.0.1:PORT/DBNAME`, as `tokio_postgres::connect` takes it.
    pub fn create_database(&self, name: &str) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let mut base: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
            base.insert_str(0, "db_");
        }
        let db = format!("{base}_{n}");
        let port = self.port.to_string();
        let out = self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, &db],
        );
        assert!(
            out.status.success(),
            "createdb {db} on port {port} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        format!("postgres://{SUPERUSER}@127.0.0.1:{port}/{db}")
    }

    /// The server's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the `postgres` maintenance database (for `CREATE DATABASE`, `pg_stat_*`, ...).
    pub fn admin_url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/postgres", self.port)
    }

    /// The temporary directory of the cluster (the data directory is its `data/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `initdb`, then the settings appended to `postgresql.conf`.
    fn init(&self) {
        let data = self.data_dir();
        let data = path_str(&data);
        let out = self.run(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb -D {data} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let settings = format!(
            "\n# mailward test cluster\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             fsync = off\n\
             full_page_writes = off\n\
             synchronous_commit = off\n\
             max_connections = 50\n",
            path_str(&self.dir)
        );
        let conf = self.data_dir().join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .unwrap_or_else(|e| panic!("appending to {}: {e}", conf.display()));
    }

    /// `pg_ctl start` on a free port (another one when that port is taken meanwhile), then
    /// waits until the server accepts connections.
    fn run_server(&mut self) {
        let data = self.data_dir();
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let log = self.dir.join(format!("server-{port}.log"));
            let port_opt = format!("-p {port}");
            let out = self.run(
                "pg_ctl",
                &[
                    "-D",
                    path_str(&data),
                    "-l",
                    path_str(&log),
                    "-o",
                    &port_opt,
                    "-w",
                    "-t",
                    "30",
                    "start",
                ],
            );
            if out.status.success() {
                self.port = port;
                self.wait_ready();
                return;
            }
            last_log = format!(
                "pg_ctl start on port {port} failed ({}): {}{}\n--- {} ---\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                log.display(),
                fs::read_to_string(&log).unwrap_or_default()
            );
            let port_taken = last_log.contains("Address already in use")
                || last_log.contains("could not create any TCP/IP sockets");
            assert!(port_taken, "{last_log}");
            // Port taken by another process between `free_port` and the server's bind: the
            // server has exited; try another one.
        }
        panic!("no free port after {PORT_ATTEMPTS} attempts; last: {last_log}");
    }

    /// Polls `pg_isready` until the server accepts TCP connections.
    fn wait_ready(&self) {
        let port = self.port.to_string();
        let pg_isready = self.bindir.join("pg_isready");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let status = Command::new(&pg_isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER])
                .args(["-d", "postgres", "-t", "2"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("running {}: {e}", pg_isready.display()));
            if status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL on 127.0.0.1:{port} did not accept connections within {:?}; log:\n{}",
                READY_TIMEOUT,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server logs (for failure messages).
    fn logs(&self) -> String {
        let mut all = String::new();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "log") {
                    all.push_str(&format!("--- {} ---\n", path.display()));
                    all.push_str(&fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        all
    }

    /// Runs a program of `bindir`, as the `postgres` OS user under root, in the cluster's
    /// directory (which that user can enter; the test's own working directory may not be).
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let exe = self.bindir.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", SUPERUSER, "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env_remove("PGUSER")
            .env_remove("PGDATABASE")
            .env_remove("PGOPTIONS")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()))
    }

    /// A `sh` that waits for EOF on its stdin (whose write end only this process holds: std
    /// opens pipes close-on-exec), then stops the server and removes the directory. Terminal
    /// signals are ignored so a ^C of the tests does not skip the cleanup.
    fn spawn_watcher(&self) -> Option<Child> {
        const SCRIPT: &str = r#"trap '' INT HUP QUIT
cat >/dev/null
if [ "$3" = 1 ]; then
  runuser -u postgres -- "$2" -D "$1/data" stop -m immediate -w
else
  "$2" -D "$1/data" stop -m immediate -w
fi >/dev/null 2>&1
cd / && rm -rf "$1""#;
        Command::new("sh")
            .args(["-c", SCRIPT, "mailward-pg-watcher"])
            .arg(&self.dir)
            .arg(self.bindir.join("pg_ctl"))
            .arg(if self.as_postgres { "1" } else { "0" })
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(mut watcher) = self.watcher.take() {
            // Closing its stdin makes the watcher stop the server and remove the directory.
            drop(watcher.stdin.take());
            let _ = watcher.wait();
        }
        if self.dir.exists() {
            // No watcher (or it failed): the same cleanup from here.
            let data = self.data_dir();
            let _ = self.run(
                "pg_ctl",
                &["-D", path_str(&data), "stop", "-m", "immediate", "-w"],
            );
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// PostgreSQL's `bin` directory with the server programs: `pg_config --bindir` when that has
/// them, else the highest version under `/usr/lib/postgresql/*/bin` (Debian's layout).
fn find_bindir() -> Option<PathBuf> {
    let has_programs = |dir: &Path| PROGRAMS.iter().all(|p| dir.join(p).is_file());
    if let Ok(out) = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_programs(&dir) {
            return Some(dir);
        }
    }
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    for entry in fs::read_dir("/usr/lib/postgresql").ok()?.flatten() {
        let name = entry.file_name();
        let Some(version) = name.to_str().and_then(|v| {
            v.split('.')
                .map(|n| n.parse().ok())
                .collect::<Option<Vec<u32>>>()
        }) else {
            continue;
        };
        let dir = entry.path().join("bin");
        if has_programs(&dir) && best.as_ref().is_none_or(|(v, _)| version > *v) {
            best = Some((version, dir));
        }
    }
    best.map(|(_, dir)| dir)
}

/// Whether the effective uid is 0 (`/proc/self/status`, else `id -u`).
fn running_as_root() -> bool {
    if let Ok(status) = fs::read_to_string("/proc/self/status")
        && let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:"))
        && let Some(euid) = uids.split_whitespace().nth(1)
    {
        return euid == "0";
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A fresh directory for one cluster, owned by the `postgres` OS user when `as_postgres`.
/// Under the system temporary directory, or `/tmp` when that one does not suit (a path too long
/// for the Unix socket, a quote, a parent that `postgres` cannot traverse).
fn make_cluster_dir(as_postgres: bool) -> PathBuf {
    let mut bases = vec![std::env::temp_dir()];
    if bases.first().is_none_or(|b| b != Path::new("/tmp")) {
        bases.push(PathBuf::from("/tmp"));
    }
    let mut failures = Vec::new();
    for base in bases {
        match try_cluster_dir(&base, as_postgres) {
            Ok(dir) => return dir,
            Err(e) => failures.push(format!("{}: {e}", base.display())),
        }
    }
    panic!(
        "no usable directory for a PostgreSQL test cluster: {}",
        failures.join("; ")
    );
}

fn try_cluster_dir(base: &Path, as_postgres: bool) -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "mailward-pg-{}-{}-{nanos:x}",
        std::process::id(),
        NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed)
    );
    let dir = base.join(name);
    let text = dir.to_str().ok_or("not UTF-8")?;
    // The socket is DIR/.s.PGSQL.PORT and sun_path holds 107 bytes.
    if text.len() > 80 || text.contains('\'') {
        return Err("path unsuitable for unix_socket_directories".into());
    }
    fs::create_dir(&dir).map_err(|e| format!("creating {text}: {e}"))?;
    if as_postgres {
        let usable = Command::new("chown")
            .args([SUPERUSER, text])
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("runuser")
                .args(["-u", SUPERUSER, "--", "test", "-w", text, "-a", "-x", text])
                .status()
                .is_ok_and(|s| s.success());
        if !usable {
            let _ = fs::remove_dir_all(&dir);
            return Err(format!("not usable by the {SUPERUSER} OS user"));
        }
    }
    Ok(dir)
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()))
}
