//! `mailward serve` in a real browser: headless Chromium driven through chromedriver
//! (WebDriver, with fantoccini), on a store filled from the bundled example reports plus one
//! report whose fields hold HTML and script.
//!
//! Expected numbers come from `mailward report summarize --store --json`, run as a separate
//! command on the same store: the page must show what the CLI prints. Screenshots of every
//! page are written to `target/serve-screenshots/`.
//!
//! When chromium or chromedriver is missing the browser test prints why and passes, unless
//! `MAILWARD_REQUIRE_BROWSER` is set, which CI does: then it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../store/tests/support/ports.rs"]
mod ports;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use ports::free_port;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mailward");
const REQUIRE_ENV: &str = "MAILWARD_REQUIRE_BROWSER";
/// The example reports are of November 2026.
const SINCE: &str = "2026-10-01";

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mailward-cli-serve-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/reports")
}

fn mailward(args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("MAILWARD_STORE")
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "mailward {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `report summarize --store STORE --json ARGS…`: the numbers a page must show.
fn summarize(store: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json", "report", "summarize", "--store", store];
    all.extend_from_slice(args);
    serde_json::from_slice(&mailward(&all).stdout).unwrap()
}

/// A report whose free-text fields are HTML and script (the reports crate accepts them as
/// text; the policy domain stays a domain).
const HOSTILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><version>1.0</version>
<report_metadata><org_name>&lt;script&gt;alert('org')&lt;/script&gt;</org_name>
<email>x@evil.example</email><report_id>"&gt;&lt;img src=x onerror=alert('id')&gt;</report_id>
<date_range><begin>1793836800</begin><end>1793923199</end></date_range></report_metadata>
<policy_published><domain>example.com</domain><p>none</p><sp>none</sp><testing>n</testing><discovery_method>treewalk</discovery_method></policy_published>
<record><row><source_ip>198.51.100.66</source_ip><count>3</count><policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
<identifiers><header_from>example.com</header_from></identifiers>
<auth_results><dkim><domain>evil.example</domain><selector>&lt;b onmouseover=alert('sel')&gt;s1&lt;/b&gt;</selector><result>fail</result></dkim>
<spf><domain>example.com</domain><scope>mfrom</scope><result>fail</result></spf></auth_results></record>
</feedback>"#;

/// A store with the examples (enriched offline) and the hostile report.
fn fill_store(dir: &Path) -> String {
    let store = format!("sqlite:{}", dir.join("s.db").display());
    let hostile = dir.join("hostile.xml");
    std::fs::write(&hostile, HOSTILE).unwrap();
    let examples = examples();
    mailward(&[
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        examples.to_str().unwrap(),
        hostile.to_str().unwrap(),
    ]);
    let zone = examples.join("ptr.zone");
    mailward(&[
        "--zone",
        zone.to_str().unwrap(),
        "report",
        "enrich",
        "--store",
        &store,
    ]);
    store
}

fn wait_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("exited early ({status}): {err}");
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(store: &str, extra: &[&str]) -> (Killed, u16) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["serve", "--store", store, "--listen", &listen])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port, &mut child);
    (Killed(child), port)
}

/// One HTTP/1.1 GET on loopback: (status, headers, body).
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str("Host: 127.0.0.1\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

#[test]
fn serve_refuses_a_public_address_without_a_token_and_checks_it_with_one() {
    let out = Command::new(BIN)
        .args([
            "serve",
            "--store",
            "sqlite:/nonexistent/x.db",
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--token-file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tmpdir("token");
    let store = fill_store(&dir);
    let token_file = dir.join("token");
    std::fs::write(&token_file, "  s3cret-token-of-some-length \n").unwrap();
    let (_server, port) = serve(&store, &["--token-file", token_file.to_str().unwrap()]);
    let (status, head, body) = get(port, "/", &[]);
    assert_eq!(status, 401, "{head}");
    assert!(body.contains("name=\"token\""), "no login form: {body}");
    assert_eq!(get(port, "/api/overview", &[]).0, 401);
    assert_eq!(
        get(port, "/api/overview", &[("Authorization", "Bearer wrong")]).0,
        401
    );
    let bearer = ("Authorization", "Bearer s3cret-token-of-some-length");
    assert_eq!(get(port, "/api/overview", &[bearer]).0, 200);
    // With a token, any Host is fine (the server may sit behind a proxy).
    assert_eq!(
        get(
            port,
            "/api/overview",
            &[bearer, ("Host", "dmarc.example.com")]
        )
        .0,
        200
    );
    // The login cookie holds a digest of the token, never the token.
    assert_eq!(
        get(
            port,
            "/",
            &[("Cookie", "mailward_token=s3cret-token-of-some-length")]
        )
        .0,
        401
    );
    // A token shorter than 16 characters is refused.
    std::fs::write(&token_file, "short").unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--store",
            &store,
            "--listen",
            "0.0.0.0:0",
            "--token-file",
        ])
        .arg(&token_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A store that is not there is not created.
    let missing = dir.join("missing.db");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(format!("sqlite:{}", missing.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!missing.exists());
}

#[test]
fn pages_escape_and_api_matches_the_cli() {
    let dir = tmpdir("api");
    let store = fill_store(&dir);
    let (_server, port) = serve(&store, &[]);
    // `/api/summary` is the CLI's JSON.
    let cli = summarize(&store, &["--since", SINCE]);
    let (status, head, body) = get(port, &format!("/api/summary?since={SINCE}"), &[]);
    assert_eq!(status, 200, "{head}");
    let api: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(api, cli);
    for days in ["1", "3650"] {
        let cli = summarize(&store, &["--days", days]);
        let api: Value =
            serde_json::from_str(&get(port, &format!("/api/summary?days={days}"), &[]).2).unwrap();
        assert_eq!(api, cli, "days={days}");
    }
    assert_eq!(get(port, "/api/summary?days=3651", &[]).0, 400);
    assert_eq!(get(port, "/?days=0", &[]).0, 400);
    assert_eq!(get(port, "/?since=0000-01-01", &[]).0, 400);
    // Without a window, and with a domain, as the CLI.
    let cli_all = summarize(&store, &[]);
    let api_all: Value = serde_json::from_str(&get(port, "/api/summary", &[]).2).unwrap();
    assert_eq!(api_all, cli_all);
    let cli_one = summarize(&store, &["--domain", "example.com"]);
    let api_one: Value =
        serde_json::from_str(&get(port, "/api/summary?domain=example.com", &[]).2).unwrap();
    assert_eq!(api_one, cli_one);
    // A domain without reports is not a page.
    assert_eq!(
        get(
            port,
            &format!("/domains/nowhere.example?since={SINCE}"),
            &[]
        )
        .0,
        404
    );
    // Without a token, only requests for localhost are answered (DNS rebinding).
    assert_eq!(
        get(port, "/api/summary", &[("Host", "attacker.example")]).0,
        421
    );
    assert_eq!(get(port, "/", &[("Host", "localhost:8025")]).0, 200);

    // Every page: a CSP header, no script element, and the hostile text escaped.
    let reports = get(port, &format!("/reports?since={SINCE}"), &[]);
    assert_eq!(reports.0, 200);
    assert!(
        reports
            .1
            .to_ascii_lowercase()
            .contains("content-security-policy: default-src 'none'"),
        "{}",
        reports.1
    );
    assert!(
        reports
            .2
            .contains("&lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt;")
            || reports
                .2
                .contains("&lt;script&gt;alert('org')&lt;/script&gt;"),
        "{}",
        reports.2
    );
    for (_, _, page) in [
        reports,
        get(port, &format!("/?since={SINCE}"), &[]),
        get(port, &format!("/domains/example.com?since={SINCE}"), &[]),
    ] {
        assert!(
            !page.to_ascii_lowercase().contains("<script"),
            "a script element: {page}"
        );
        assert!(!page.contains("<img"), "an injected element: {page}");
        assert!(
            !page.contains("<b onmouseover"),
            "an injected element: {page}"
        );
    }
    // No route writes.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"DELETE /reports/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
}

/// chromedriver on a free port, or `None` (skipped) when it or chromium is missing.
fn chromedriver() -> Option<(Killed, u16)> {
    let found = |p: &str| Path::new(p).is_file();
    if !found("/usr/bin/chromedriver") || !found("/usr/bin/chromium") {
        assert!(
            std::env::var_os(REQUIRE_ENV).is_none_or(|v| v.is_empty()),
            "{REQUIRE_ENV} is set but chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: chromium or chromedriver is missing");
        return None;
    }
    let port = free_port();
    let mut child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port, &mut child);
    Some((Killed(child), port))
}

async fn browser(driver_port: u16) -> Client {
    // Several rustls providers are compiled into this test; name one (an error means it is
    // installed already).
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100"],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("starting headless chromium through chromedriver")
}

/// chromedriver's log of the browser console since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

async fn console_errors(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.unwrap();
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn screenshot(c: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/serve-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.png")),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn count(c: &Client, script: &str) -> u64 {
    c.execute(script, vec![]).await.unwrap().as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_numbers_charts_navigation_and_hostile_text() {
    let Some((_driver, driver_port)) = chromedriver() else {
        return;
    };
    let dir = tmpdir("browser");
    let store = fill_store(&dir);
    let (_server, port) = serve(&store, &[]);
    let cli = summarize(&store, &["--since", SINCE]);
    let example = cli["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "example.com")
        .unwrap()
        .clone();
    let base = format!("http://127.0.0.1:{port}");
    let c = browser(driver_port).await;

    // Overview: the numbers of the CLI.
    c.goto(&format!("{base}/?since={SINCE}")).await.unwrap();
    screenshot(&c, "overview").await;
    let messages = text(&c, "tr[data-domain='example.com'] td.messages").await;
    assert_eq!(messages, example["volume"].to_string());
    let verdict = text(&c, "tr[data-domain='example.com'] td.verdict").await;
    assert!(
        verdict.starts_with("not ready") || verdict.starts_with("ready"),
        "{verdict}"
    );
    assert_eq!(count(&c, "return document.scripts.length").await, 0);

    // Domain page, through the link (the window is kept).
    c.find(Locator::Css("tr[data-domain='example.com'] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .contains(&format!("since={SINCE}"))
    );
    screenshot(&c, "domain").await;
    assert_eq!(text(&c, "h1").await, "example.com");
    assert_eq!(text(&c, "#messages").await, example["volume"].to_string());
    // The charts: one bar per day with passing (failing) mail, as the daily series has it.
    let api: Value = serde_json::from_str(
        &get(
            port,
            &format!("/api/domains/example.com?since={SINCE}"),
            &[],
        )
        .2,
    )
    .unwrap();
    let daily = api["daily"].as_array().unwrap();
    let days_with = |key: &str| {
        daily
            .iter()
            .filter(|d| d[key].as_u64().unwrap() > 0)
            .count() as u64
    };
    let total: u64 = daily.iter().map(|d| d["messages"].as_u64().unwrap()).sum();
    assert_eq!(
        total,
        example["volume"].as_u64().unwrap(),
        "the daily series sums to the volume"
    );
    let bars = |colour: &str| {
        format!("return document.querySelectorAll('#passfail svg rect[fill=\"{colour}\"]').length")
    };
    assert_eq!(count(&c, &bars("#0072B2")).await, days_with("dmarc_pass"));
    assert_eq!(count(&c, &bars("#D55E00")).await, days_with("dmarc_fail"));
    assert!(days_with("dmarc_pass") > 0 && days_with("dmarc_fail") > 0);
    // The hostile selector is text in the sources table.
    let sources = text(&c, "#sources").await;
    assert!(
        sources.contains("<b onmouseover=alert('sel')>s1</b>"),
        "{sources}"
    );

    // A source page, through its link.
    c.find(Locator::Css("#sources tr.source a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    screenshot(&c, "source").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/domains/example.com/sources/")
    );
    assert_eq!(
        count(
            &c,
            "return document.querySelectorAll('#passfail svg').length"
        )
        .await,
        1
    );

    // Reports, then one report.
    c.find(Locator::LinkText("Reports"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    screenshot(&c, "reports").await;
    let listed = text(&c, "#reports").await;
    assert!(listed.contains("<script>alert('org')</script>"), "{listed}");
    c.find(Locator::Css("#reports tbody tr a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    screenshot(&c, "report").await;
    assert!(text(&c, "h1").await.starts_with("Report "));

    // The hostile report's own page: its id and org show as text, nothing ran.
    let (_, _, body) = get(port, &format!("/api/reports?since={SINCE}"), &[]);
    let reports: Value = serde_json::from_str(&body).unwrap();
    let hostile = reports["reports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == "x@evil.example")
        .unwrap()["id"]
        .clone();
    c.goto(&format!("{base}/reports/{hostile}?since={SINCE}"))
        .await
        .unwrap();
    screenshot(&c, "hostile-report").await;
    assert_eq!(
        text(&c, "h1").await,
        "Report \"><img src=x onerror=alert('id')>"
    );
    assert_eq!(count(&c, "return document.images.length").await, 0);
    assert!(c.get_alert_text().await.is_err(), "an alert is open");

    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    c.close().await.unwrap();
}

/// The RFC 8460 Appendix B report moved to 2026-11-02 (a window of the web view reaches back
/// 3 650 days at most), mailed as its sender would. By hand: one `sts` policy for
/// company-y.example, 5 326 successful and 303 failed sessions; failure details 200
/// `starttls-not-supported` at mx2, 100 `certificate-expired` at mx1, 3 `validation-failure`
/// at mx-backup.
fn appendix_b_mail() -> Vec<u8> {
    use mailward_reports::tls::{self, TlsReportEmail};
    let json = include_str!("../../reports/tests/data/rfc8460_appendix_b.json");
    let mut report = tls::parse_json(json.as_bytes()).unwrap().report;
    report.date_range.start_datetime = "2026-11-02T00:00:00Z".into();
    report.date_range.end_datetime = "2026-11-02T23:59:59Z".into();
    tls::to_email(
        &report,
        &TlsReportEmail {
            from: "tlsrpt@mail.company-x.example".into(),
            to: "tls-reports@company-y.example".into(),
            submitter: "mail.company-x.example".into(),
            date: "Tue, 03 Nov 2026 01:00:00 +0000".into(),
            message_id: "tls-1@mail.company-x.example".into(),
            unique_id: None,
            gzip: true,
        },
    )
}

/// A TLS report whose free text is HTML and script: 7 successful and 2 failed sessions to
/// `<svg onload=alert('d')>`, the 2 of an unknown result type at a hostile MX name.
const HOSTILE_TLS: &str = r#"{"organization-name": "<script>alert('org')</script>",
 "date-range": {"start-datetime": "2026-11-03T00:00:00Z", "end-datetime": "2026-11-03T23:59:59Z"},
 "contact-info": "x@evil.example", "report-id": "\"><img src=x onerror=alert('id')>",
 "policies": [{"policy": {"policy-type": "sts", "policy-domain": "<svg onload=alert('d')>"},
   "summary": {"total-successful-session-count": 7, "total-failure-session-count": 2},
   "failure-details": [{"result-type": "<b onmouseover=alert('t')>x</b>",
     "receiving-mx-hostname": "<img src=x onerror=alert('mx')>", "failed-session-count": 2}]}]}"#;

/// A store with the two TLS reports above, the first also in a second copy (plain JSON).
fn fill_tls_store(dir: &Path) -> String {
    let store = format!("sqlite:{}", dir.join("tls.db").display());
    let inputs = dir.join("tls-in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(inputs.join("b.eml"), appendix_b_mail()).unwrap();
    std::fs::write(inputs.join("hostile.json"), HOSTILE_TLS).unwrap();
    let out = mailward(&[
        "--json",
        "report",
        "ingest",
        "--no-enrich",
        "--store",
        &store,
        inputs.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tls_stored"], 2, "{v}");
    // The same report again, as a file: counted once.
    std::fs::write(inputs.join("b-again.eml"), appendix_b_mail()).unwrap();
    let v: Value = serde_json::from_slice(
        &mailward(&[
            "--json",
            "report",
            "ingest",
            "--no-enrich",
            "--store",
            &store,
            inputs.join("b-again.eml").to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(v["tls_duplicates"], 1, "{v}");
    store
}

#[test]
fn tls_page_escapes_and_its_json_has_the_numbers() {
    let dir = tmpdir("tls-api");
    let store = fill_tls_store(&dir);
    let (_server, port) = serve(&store, &[]);
    let (status, head, body) = get(port, &format!("/api/tls?since={SINCE}"), &[]);
    assert_eq!(status, 200, "{head}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let s = &v["summary"];
    assert_eq!(s["reports"], 2);
    assert_eq!(s["successful_sessions"], 5326 + 7);
    assert_eq!(s["failed_sessions"], 303 + 2);
    assert_eq!(
        s["domains"]["company-y.example"]["successful_sessions"],
        5326
    );
    let failed: Vec<u64> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["failed_sessions"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, [200, 100, 3, 2]);
    // `/api/summary` is the CLI's document, with its TLS member.
    let cli = summarize(&store, &["--since", SINCE]);
    let api: Value =
        serde_json::from_str(&get(port, &format!("/api/summary?since={SINCE}"), &[]).2).unwrap();
    assert_eq!(api, cli);
    assert_eq!(api["tls"], v["summary"]);
    // A window without reports.
    let v: Value = serde_json::from_str(&get(port, "/api/tls?since=2026-11-04", &[]).2).unwrap();
    assert_eq!(v["summary"]["reports"], 0);
    assert!(
        get(port, "/tls?since=2026-11-04", &[])
            .2
            .contains("No SMTP TLS reports in this window")
    );
    assert_eq!(get(port, "/tls?days=0", &[]).0, 400);

    let (status, head, page) = get(port, &format!("/tls?since={SINCE}"), &[]);
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    for injected in ["<script", "<img", "<svg", "<b onmouseover"] {
        assert!(!page.contains(injected), "{injected} in {page}");
    }
    assert!(
        page.contains("&lt;img src=x onerror=alert(&#39;mx&#39;)&gt;")
            || page.contains("&lt;img src=x onerror=alert('mx')&gt;"),
        "{page}"
    );
    // Linked from every page's navigation, with the window.
    let (_, _, overview) = get(port, &format!("/?since={SINCE}"), &[]);
    assert!(
        overview.contains(&format!("href=\"/tls?since={SINCE}\"")),
        "{overview}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_page_in_a_browser() {
    let Some((_driver, driver_port)) = chromedriver() else {
        return;
    };
    let dir = tmpdir("tls-browser");
    let store = fill_tls_store(&dir);
    let (_server, port) = serve(&store, &[]);
    let base = format!("http://127.0.0.1:{port}");
    let c = browser(driver_port).await;

    // From the overview through the navigation; the window is kept.
    c.goto(&format!("{base}/?since={SINCE}")).await.unwrap();
    c.find(Locator::LinkText("SMTP TLS"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/tls");
    assert_eq!(url.query(), Some(format!("since={SINCE}").as_str()));
    screenshot(&c, "tls").await;
    assert_eq!(text(&c, "h1").await, "SMTP TLS");
    // By hand: 5 326 + 7 successful, 303 + 2 failed: 5 638 sessions, 305 failed, 5.4 %.
    assert_eq!(text(&c, "#tls-reports").await, "2");
    assert_eq!(text(&c, "#tls-sessions").await, "5638");
    assert_eq!(text(&c, "#tls-failed").await, "305");
    assert_eq!(text(&c, "#tls-failure-rate").await, "5.4 %");
    // company-y.example: 5 629 sessions, 303 failed (5.38 %).
    let row = "#tls-domains tr[data-domain='company-y.example']";
    assert_eq!(text(&c, &format!("{row} td.sessions")).await, "5629");
    assert_eq!(text(&c, &format!("{row} td.failed")).await, "303");
    assert_eq!(text(&c, &format!("{row} td.rate")).await, "5.4 %");
    // The hostile domain, 9 sessions of which 2 failed (22.2 %), is text.
    let hostile = text(
        &c,
        "#tls-domains tbody tr:not([data-domain='company-y.example'])",
    )
    .await;
    assert!(hostile.contains("<svg onload=alert('d')>"), "{hostile}");
    assert!(hostile.contains("22.2 %"), "{hostile}");
    // Failures, most first, with the hostile MX name and result type as text.
    let failed = c
        .execute(
            "return Array.from(document.querySelectorAll('#tls-failures td.failed')).map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(failed, json!(["200", "100", "3", "2"]));
    assert_eq!(
        text(&c, "#tls-failures tbody tr:first-child td.mx").await,
        "mx2.mail.company-y.example"
    );
    assert!(
        text(&c, "#tls-failures tbody tr:first-child td.result")
            .await
            .starts_with("starttls-not-supported")
    );
    assert_eq!(
        text(&c, "#tls-failures tbody tr:last-child td.mx").await,
        "<img src=x onerror=alert('mx')>"
    );
    assert_eq!(
        text(&c, "#tls-failures tbody tr:last-child td.result").await,
        "<b onmouseover=alert('t')>x</b>"
    );
    assert_eq!(count(&c, "return document.scripts.length").await, 0);
    assert_eq!(count(&c, "return document.images.length").await, 0);
    assert_eq!(
        count(&c, "return document.querySelectorAll('svg, b').length").await,
        0
    );
    assert!(c.get_alert_text().await.is_err(), "an alert is open");
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    c.close().await.unwrap();
}
