//! `mailward serve`: a read-only web view of a report store, where a postmaster decides when
//! to move to `p=quarantine` and `p=reject`.
//!
//! Routes (each page takes `?days=N`, 1 to 3650, or `?since=YYYY-MM-DD`; 30 days otherwise,
//! and keeps the window in its links):
//!
//! | page | HTML | JSON |
//! |---|---|---|
//! | policy domains: policy, messages, pass rate and trend, readiness | `/` | `/api/overview` |
//! | one domain: totals, daily charts, sources by service with their class and fix, what `p=quarantine` / `p=reject` would do | `/domains/{domain}` | `/api/domains/{domain}` |
//! | one source (a service's organizational domain, or an address) | `/domains/{domain}/sources/{key}` | `/api/domains/{domain}/sources/{key}` |
//! | reports and rejected inputs | `/reports` | `/api/reports` |
//! | SMTP TLS reports: sessions and failure rate per policy domain, failures by result type and receiving MX | `/tls` | `/api/tls` |
//! | one report, normalized | `/reports/{id}` | `/api/reports/{id}` |
//! | the summary of `mailward report summarize --store URL --json` | | `/api/summary` |
//!
//! All page data comes from the store's query functions ([`data`]); HTML is built with maud,
//! which escapes every value, and served with a strict Content-Security-Policy (no script at
//! all, styles and images from this server only). No route changes the store. With a token
//! (required for a non-loopback address), every request must carry it as
//! `Authorization: Bearer TOKEN` or in the cookie the login form sets; otherwise the answer is
//! 401.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's examples, compiled and run as doctests (the crate documentation above is the
/// route table, not the README).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod chart;
pub mod data;
pub mod html;
pub mod window;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::get;
use mailward_store::Store;
use mailward_store::query::Filter;
use mailward_store::services::ServiceMap;
use serde::Deserialize;

use crate::window::{Chosen, WindowQuery};

/// The Content-Security-Policy of every response: nothing runs, nothing is fetched from
/// elsewhere.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The shortest token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The cookie the login form sets.
const COOKIE: &str = "mailward_token";

const STYLE: &str = include_str!("../assets/style.css");
const ICON: &str = include_str!("../assets/icon.svg");

/// What the server serves.
#[derive(Debug)]
pub struct App {
    /// The store.
    pub store: Store,
    /// The map of sending services used to group sources.
    pub services: ServiceMap,
    /// The access token, when one is required.
    pub token: Option<String>,
}

/// Why the server refuses to start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A non-loopback address without a token.
    #[error(
        "{0} is reachable from other machines: pass --token-file FILE so that every request must carry the token"
    )]
    NeedsToken(SocketAddr),
    /// An empty token.
    #[error("the token file is empty")]
    EmptyToken,
    /// A token too short to resist guessing.
    #[error("the token is shorter than 16 characters")]
    ShortToken,
}

/// Checks that the address may be served with this token (a non-loopback address needs
/// one), and returns the token trimmed.
///
/// # Errors
///
/// [`ServeError`].
pub fn check_listen(addr: SocketAddr, token: Option<&str>) -> Result<Option<String>, ServeError> {
    let token = match token.map(str::trim) {
        Some("") => return Err(ServeError::EmptyToken),
        Some(t) if t.chars().count() < MIN_TOKEN_CHARS => return Err(ServeError::ShortToken),
        Some(t) => Some(t.to_owned()),
        None => None,
    };
    if token.is_none() && !addr.ip().is_loopback() {
        return Err(ServeError::NeedsToken(addr));
    }
    Ok(token)
}

/// The routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(overview_page))
        .route("/domains/{domain}", get(domain_page))
        .route("/domains/{domain}/sources/{key}", get(source_page))
        .route("/reports", get(reports_page))
        .route("/reports/{id}", get(report_page))
        .route("/tls", get(tls_page))
        .route("/api/summary", get(summary_api))
        .route("/api/overview", get(overview_api))
        .route("/api/domains/{domain}", get(domain_api))
        .route("/api/domains/{domain}/sources/{key}", get(source_api))
        .route("/api/reports", get(reports_api))
        .route("/api/reports/{id}", get(report_api))
        .route("/api/tls", get(tls_api))
        .route("/assets/style.css", get(style))
        .route("/favicon.ico", get(icon))
        .route("/login", get(login_form).post(login))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), guard))
        .with_state(app)
}

/// Serves `app` on `listener` until the process ends.
///
/// # Errors
///
/// I/O errors of the listener.
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) -> std::io::Result<()> {
    axum::serve(listener, router(app)).await
}

/// Security headers on every response, and the token check.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    // Without a token the server listens on loopback only; a request naming another host is a
    // page elsewhere that rebound its name to 127.0.0.1 (DNS rebinding), and gets nothing.
    if app.token.is_none() && !loopback_host(request.headers()) {
        let mut r = (
            StatusCode::MISDIRECTED_REQUEST,
            "this server answers only requests for localhost",
        )
            .into_response();
        secure(r.headers_mut(), false);
        return r;
    }
    let allowed = match &app.token {
        None => true,
        Some(token) => {
            let path = request.uri().path();
            path == "/login"
                || path == "/assets/style.css"
                || path == "/favicon.ico"
                || carries(request.headers(), token)
        }
    };
    let mut response = if allowed {
        next.run(request).await
    } else if request.uri().path().starts_with("/api/") {
        (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "a token is required"})),
        )
            .into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            Html(html::login(false).into_string()),
        )
            .into_response()
    };
    secure(response.headers_mut(), app.token.is_some());
    response
}

/// The security headers of every response.
fn secure(headers: &mut HeaderMap, private: bool) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Whether the `Host` of a request is a loopback name or address (any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        // HTTP/1.0 without Host: nothing to rebind.
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What the login cookie holds: a digest of the token, not the token (which may hold
/// characters a cookie cannot).
fn cookie_value(token: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("mailward-web cookie\0{token}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the request carries the token, as a bearer token or in the cookie.
fn carries(headers: &HeaderMap, token: &str) -> bool {
    // RFC 7235: the scheme name is case-insensitive.
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && same(t.trim(), token));
    let expected = cookie_value(token);
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .any(|(k, v)| k == COOKIE && same(v, &expected));
    bearer || cookie
}

/// Compares digests, in time that depends neither on where the strings differ nor on their
/// lengths.
fn same(a: &str, b: &str) -> bool {
    use sha2::Digest as _;
    let (a, b) = (
        sha2::Sha256::digest(a.as_bytes()),
        sha2::Sha256::digest(b.as_bytes()),
    );
    a.iter().zip(b.iter()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[derive(Debug, Deserialize)]
struct SummaryQuery {
    #[serde(flatten)]
    window: WindowQuery,
    domain: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login_form() -> Html<String> {
    Html(html::login(false).into_string())
}

/// Sets the token cookie when the form's token is right. (It changes nothing in the store.)
async fn login(State(app): State<Arc<App>>, Form(form): Form<LoginForm>) -> Response {
    match &app.token {
        Some(token) if same(form.token.trim(), token) => {
            let cookie = format!(
                "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                cookie_value(token)
            );
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Some(_) => (
            StatusCode::UNAUTHORIZED,
            Html(html::login(true).into_string()),
        )
            .into_response(),
        None => Redirect::to("/").into_response(),
    }
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

async fn icon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml")], ICON)
}

async fn not_found() -> Response {
    failure(StatusCode::NOT_FOUND, "No such page.", None, false)
}

fn failure(status: StatusCode, message: &str, w: Option<&Chosen>, json: bool) -> Response {
    if json {
        (status, Json(serde_json::json!({"error": message}))).into_response()
    } else {
        (
            status,
            Html(html::error(status.as_u16(), message, w).into_string()),
        )
            .into_response()
    }
}

/// A page's outcome: its window and data, or the response that says why there are none (the
/// window could not be read, the thing is not there, or the store failed).
type Outcome<T> = Result<(Chosen, T), Response>;

fn chosen(q: &WindowQuery, json: bool) -> Result<Chosen, Response> {
    q.choose()
        .map_err(|e| failure(StatusCode::BAD_REQUEST, &e, None, json))
}

fn store_failed(e: &mailward_store::Error, w: &Chosen, json: bool) -> Response {
    // The details go to the server's log, not to the client.
    eprintln!("mailward serve: the store failed: {e}");
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The store failed; the server's log says why.",
        Some(w),
        json,
    )
}

/// What the store read for the window `w`: its data, or the store's failure.
fn read<T>(w: Chosen, data: Result<T, mailward_store::Error>, json: bool) -> Outcome<T> {
    match data {
        Ok(d) => Ok((w, d)),
        Err(e) => Err(store_failed(&e, &w, json)),
    }
}

/// Not found in the window `w`: a 404 with `message`.
fn missing(w: &Chosen, message: &str, json: bool) -> Response {
    failure(StatusCode::NOT_FOUND, message, Some(w), json)
}

async fn overview_data(app: &App, q: &WindowQuery, json: bool) -> Outcome<data::Overview> {
    let w = chosen(q, json)?;
    let found = data::overview(&app.store, &w.window, &app.services).await;
    read(w, found, json)
}

async fn domain_data(
    app: &App,
    q: &WindowQuery,
    domain: &str,
    json: bool,
) -> Outcome<data::DomainData> {
    let w = chosen(q, json)?;
    let found = data::domain(&app.store, &w.window, domain, &app.services).await;
    let (w, d) = read(w, found, json)?;
    if d.summary.is_none() && d.sources.is_empty() {
        let message = format!("No reports for {domain} in {}.", w.label);
        return Err(missing(&w, &message, json));
    }
    Ok((w, d))
}

async fn source_data(
    app: &App,
    q: &WindowQuery,
    domain: &str,
    key: &str,
    json: bool,
) -> Outcome<data::SourceData> {
    let w = chosen(q, json)?;
    let found = data::source(&app.store, &w.window, domain, key, &app.services).await;
    match read(w, found, json)? {
        (w, Some(d)) => Ok((w, d)),
        (w, None) => {
            let message = format!("No source {key} sent as {domain} in {}.", w.label);
            Err(missing(&w, &message, json))
        }
    }
}

async fn reports_data(app: &App, q: &WindowQuery, json: bool) -> Outcome<data::ReportsData> {
    let w = chosen(q, json)?;
    let found = data::reports(&app.store, &w.window).await;
    read(w, found, json)
}

async fn tls_data(app: &App, q: &WindowQuery, json: bool) -> Outcome<data::TlsData> {
    let w = chosen(q, json)?;
    let found = data::tls(&app.store, &w.window).await;
    read(w, found, json)
}

async fn report_data(
    app: &App,
    q: &WindowQuery,
    id: &str,
    json: bool,
) -> Outcome<mailward_store::query::StoredReport> {
    let w = chosen(q, json)?;
    let Ok(id) = id.parse::<i64>() else {
        return Err(missing(&w, "No such report.", json));
    };
    let found = data::report(&app.store, id).await;
    match read(w, found, json)? {
        (w, Some(d)) => Ok((w, d)),
        (w, None) => Err(missing(&w, "No such report.", json)),
    }
}

fn page<T>(o: Outcome<T>, render: impl FnOnce(&T, &Chosen) -> maud::Markup) -> Response {
    match o {
        Ok((w, d)) => Html(render(&d, &w).into_string()).into_response(),
        Err(r) => r,
    }
}

fn api<T: serde::Serialize>(o: Outcome<T>) -> Response {
    match o {
        Ok((_, d)) => Json(d).into_response(),
        Err(r) => r,
    }
}

async fn overview_page(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    page(overview_data(&app, &q, false).await, html::overview)
}

async fn domain_page(
    State(app): State<Arc<App>>,
    Path(domain): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Response {
    page(domain_data(&app, &q, &domain, false).await, html::domain)
}

async fn source_page(
    State(app): State<Arc<App>>,
    Path((domain, key)): Path<(String, String)>,
    Query(q): Query<WindowQuery>,
) -> Response {
    page(
        source_data(&app, &q, &domain, &key, false).await,
        html::source,
    )
}

async fn reports_page(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    page(reports_data(&app, &q, false).await, html::reports)
}

async fn tls_page(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    page(tls_data(&app, &q, false).await, html::tls)
}

async fn report_page(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Response {
    page(report_data(&app, &q, &id, false).await, html::report)
}

/// `/api/summary`: exactly what `mailward report summarize --store URL --json` prints for
/// the same window.
async fn summary_api(State(app): State<Arc<App>>, Query(q): Query<SummaryQuery>) -> Response {
    // As the CLI: all reports unless a window is given, and `domain=` as `--domain`.
    let window = if q.window.days.is_none() && q.window.since.is_none() {
        mailward_store::query::Window::all()
    } else {
        match chosen(&q.window, true) {
            Ok(w) => w.window,
            Err(r) => return r,
        }
    };
    let filter = match q.domain.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Filter::new(window).domain(d),
        None => Filter::new(window),
    };
    let w = Chosen {
        window,
        query: String::new(),
        label: "the window".into(),
        days: None,
    };
    match app.store.summary(&filter).await {
        Ok(s) => Json(s.to_json()).into_response(),
        Err(e) => store_failed(&e, &w, true),
    }
}

async fn overview_api(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    api(overview_data(&app, &q, true).await)
}

async fn domain_api(
    State(app): State<Arc<App>>,
    Path(domain): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Response {
    api(domain_data(&app, &q, &domain, true).await)
}

async fn source_api(
    State(app): State<Arc<App>>,
    Path((domain, key)): Path<(String, String)>,
    Query(q): Query<WindowQuery>,
) -> Response {
    api(source_data(&app, &q, &domain, &key, true).await)
}

async fn reports_api(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    api(reports_data(&app, &q, true).await)
}

async fn tls_api(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    api(tls_data(&app, &q, true).await)
}

async fn report_api(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Response {
    api(report_data(&app, &q, &id, true).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
        let loopback: SocketAddr = "127.0.0.1:8025".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:8025".parse().unwrap();
        assert_eq!(check_listen(loopback, None).unwrap(), None);
        assert!(matches!(
            check_listen(public, None),
            Err(ServeError::NeedsToken(_))
        ));
        assert_eq!(
            check_listen(public, Some(" a-token-of-16-chars \n"))
                .unwrap()
                .as_deref(),
            Some("a-token-of-16-chars")
        );
        assert!(matches!(
            check_listen(public, Some("short")),
            Err(ServeError::ShortToken)
        ));
        assert!(matches!(
            check_listen(public, Some("  ")),
            Err(ServeError::EmptyToken)
        ));
        let mut h = HeaderMap::new();
        let cookie = format!("a=b; mailward_token={}", cookie_value("t;k"));
        h.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert!(carries(&h, "t;k"));
        assert!(!carries(&h, "u"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("mailward_token=t"));
        assert!(!carries(&h, "t"), "the raw token is not the cookie");
        for auth in ["Bearer t", "bearer t", "BEARER  t"] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
            assert!(carries(&h, "t"), "{auth}");
        }
        for (host, ok) in [
            ("127.0.0.1:8025", true),
            ("localhost", true),
            ("LOCALHOST:1", true),
            ("[::1]:8025", true),
            ("127.1.2.3", true),
            ("attacker.example", false),
            ("attacker.example:8025", false),
            ("192.0.2.1:8025", false),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            assert_eq!(loopback_host(&h), ok, "{host}");
        }
    }
}
