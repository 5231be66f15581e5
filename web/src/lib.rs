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
//! | one report, normalized | `/reports/{id}` | `/api/reports/{id}` |
//! | the summary of `mailward report summarize --store URL --json` | | `/api/summary` |
//!
//! All page data comes from the store's query functions ([`data`]); HTML is built with maud,
//! which escapes every value, and served with a strict Content-Security-Policy (no script at
//! all, styles and images from this server only). No route changes the store. With a token
//! (required for a non-loopback address), every request must carry it as
//! `Authorization: Bearer TOKEN` or in the cookie the login form sets; otherwise the answer is
//! 401.

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
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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
        .route("/api/summary", get(summary_api))
        .route("/api/overview", get(overview_api))
        .route("/api/domains/{domain}", get(domain_api))
        .route("/api/domains/{domain}/sources/{key}", get(source_api))
        .route("/api/reports", get(reports_api))
        .route("/api/reports/{id}", get(report_api))
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
    let headers = response.headers_mut();
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
    if app.token.is_some() {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Whether the request carries the token, as a bearer token or in the cookie.
fn carries(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim(), token));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .any(|(k, v)| k == COOKIE && same(v, token));
    bearer || cookie
}

/// Compares in time that does not depend on where the strings differ.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
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
            let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
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

/// A page's outcome: the window could not be read, the thing is not there, or the store
/// failed.
enum Outcome<T> {
    Ok(Chosen, T),
    Err(Response),
}

fn chosen(q: &WindowQuery, json: bool) -> Result<Chosen, Response> {
    q.choose()
        .map_err(|e| failure(StatusCode::BAD_REQUEST, &e, None, json))
}

fn store_failed(e: &mailward_store::Error, w: &Chosen, json: bool) -> Response {
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("the store failed: {e}"),
        Some(w),
        json,
    )
}

async fn overview_data(app: &App, q: &WindowQuery, json: bool) -> Outcome<data::Overview> {
    let w = match chosen(q, json) {
        Ok(w) => w,
        Err(r) => return Outcome::Err(r),
    };
    match data::overview(&app.store, &w.window, &app.services).await {
        Ok(d) => Outcome::Ok(w, d),
        Err(e) => Outcome::Err(store_failed(&e, &w, json)),
    }
}

async fn domain_data(
    app: &App,
    q: &WindowQuery,
    domain: &str,
    json: bool,
) -> Outcome<data::DomainData> {
    let w = match chosen(q, json) {
        Ok(w) => w,
        Err(r) => return Outcome::Err(r),
    };
    match data::domain(&app.store, &w.window, domain, &app.services).await {
        Ok(d) => Outcome::Ok(w, d),
        Err(e) => Outcome::Err(store_failed(&e, &w, json)),
    }
}

async fn source_data(
    app: &App,
    q: &WindowQuery,
    domain: &str,
    key: &str,
    json: bool,
) -> Outcome<data::SourceData> {
    let w = match chosen(q, json) {
        Ok(w) => w,
        Err(r) => return Outcome::Err(r),
    };
    match data::source(&app.store, &w.window, domain, key, &app.services).await {
        Ok(Some(d)) => Outcome::Ok(w, d),
        Ok(None) => Outcome::Err(failure(
            StatusCode::NOT_FOUND,
            &format!("No source {key} sent as {domain} in {}.", w.label),
            Some(&w),
            json,
        )),
        Err(e) => Outcome::Err(store_failed(&e, &w, json)),
    }
}

async fn reports_data(app: &App, q: &WindowQuery, json: bool) -> Outcome<data::ReportsData> {
    let w = match chosen(q, json) {
        Ok(w) => w,
        Err(r) => return Outcome::Err(r),
    };
    match data::reports(&app.store, &w.window).await {
        Ok(d) => Outcome::Ok(w, d),
        Err(e) => Outcome::Err(store_failed(&e, &w, json)),
    }
}

async fn report_data(
    app: &App,
    q: &WindowQuery,
    id: &str,
    json: bool,
) -> Outcome<mailward_store::query::StoredReport> {
    let w = match chosen(q, json) {
        Ok(w) => w,
        Err(r) => return Outcome::Err(r),
    };
    let Ok(id) = id.parse::<i64>() else {
        return Outcome::Err(failure(
            StatusCode::NOT_FOUND,
            "No such report.",
            Some(&w),
            json,
        ));
    };
    match data::report(&app.store, id).await {
        Ok(Some(d)) => Outcome::Ok(w, d),
        Ok(None) => Outcome::Err(failure(
            StatusCode::NOT_FOUND,
            "No such report.",
            Some(&w),
            json,
        )),
        Err(e) => Outcome::Err(store_failed(&e, &w, json)),
    }
}

fn page<T>(o: Outcome<T>, render: impl FnOnce(&T, &Chosen) -> maud::Markup) -> Response {
    match o {
        Outcome::Ok(w, d) => Html(render(&d, &w).into_string()).into_response(),
        Outcome::Err(r) => r,
    }
}

fn api<T: serde::Serialize>(o: Outcome<T>) -> Response {
    match o {
        Outcome::Ok(_, d) => Json(d).into_response(),
        Outcome::Err(r) => r,
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

async fn report_page(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(q): Query<WindowQuery>,
) -> Response {
    page(report_data(&app, &q, &id, false).await, html::report)
}

/// `/api/summary`: exactly what `mailward report summarize --store URL --json` prints for
/// the same window.
async fn summary_api(State(app): State<Arc<App>>, Query(q): Query<WindowQuery>) -> Response {
    let w = match chosen(&q, true) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match app.store.summary(&Filter::new(w.window)).await {
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
            check_listen(public, Some(" t \n")).unwrap().as_deref(),
            Some("t")
        );
        assert!(matches!(
            check_listen(public, Some("  ")),
            Err(ServeError::EmptyToken)
        ));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; mailward_token=t"),
        );
        assert!(carries(&h, "t"));
        assert!(!carries(&h, "u"));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        assert!(carries(&h, "t"));
    }
}
