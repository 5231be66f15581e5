//! The data of each page, from the store's query functions only. A page renders one of these
//! as HTML; `/api/…` serves the same value as JSON, so the two cannot disagree.

use mailward_reports::DomainSummary;
use mailward_reports::tls::{TlsFailureRow, TlsSummary};
use mailward_store::query::{DayPoint, Filter, Rejection, ReportRow, StoredReport, Window};
use mailward_store::readiness::{AssessedSource, DomainOverview, PolicyImpact, PublishedPolicy};
use mailward_store::services::ServiceMap;
use mailward_store::sources::Detail;
use mailward_store::{Error, Store};
use serde::Serialize;

/// The most report rows one page lists.
pub const REPORTS_PER_PAGE: usize = 200;

/// The most source groups a domain's page lists (the busiest; the rest are counted): a domain
/// seen by big receivers has tens of thousands of one-message forgers.
pub const SOURCES_SHOWN: usize = 100;

/// The overview: one row per policy domain.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The domains, alphabetically.
    pub domains: Vec<DomainOverview>,
}

/// One policy domain.
#[derive(Debug, Clone, Serialize)]
pub struct DomainData {
    /// The domain.
    pub domain: String,
    /// What it published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PublishedPolicy>,
    /// Totals and reporters, as `report summarize` has them (its per-address table is the
    /// sources below).
    pub summary: Option<DomainSummary>,
    /// Messages per day.
    pub daily: Vec<DayPoint>,
    /// Sending sources grouped by service, assessed: the [`SOURCES_SHOWN`] busiest.
    pub sources: Vec<AssessedSource>,
    /// All source groups, per class (the verdict and the impact count them all).
    pub source_classes: std::collections::BTreeMap<mailward_store::readiness::SourceClass, usize>,
    /// Source groups in all.
    pub sources_total: usize,
    /// What `p=quarantine` and `p=reject` would do.
    pub impact: [PolicyImpact; 2],
    /// Where the domain stands, in words.
    pub verdict: String,
}

/// One source group of a domain.
#[derive(Debug, Clone, Serialize)]
pub struct SourceData {
    /// The policy domain.
    pub domain: String,
    /// The group, assessed.
    pub source: AssessedSource,
    /// Its messages per day.
    pub daily: Vec<DayPoint>,
}

/// The reports of the window and the rejected inputs.
#[derive(Debug, Clone, Serialize)]
pub struct ReportsData {
    /// Reports in the window, latest period first (at most [`REPORTS_PER_PAGE`]).
    pub reports: Vec<ReportRow>,
    /// How many there are in all.
    pub total: usize,
    /// Rejected inputs first seen in the window (at most [`REPORTS_PER_PAGE`]).
    pub rejections: Vec<Rejection>,
    /// How many were rejected in the window in all.
    pub rejections_total: usize,
}

/// The SMTP TLS reports of the window.
#[derive(Debug, Clone, Serialize)]
pub struct TlsData {
    /// Sessions per policy domain and failures by result type and receiving MX, each report
    /// counted once ([`Store::tls_summary`]).
    pub summary: TlsSummary,
    /// The failures as rows, most failed sessions first
    /// ([`TlsSummary::failure_rows`]).
    pub failures: Vec<TlsFailureRow>,
}

/// Builds the overview.
///
/// # Errors
///
/// Database errors.
pub async fn overview(
    store: &Store,
    window: &Window,
    services: &ServiceMap,
) -> Result<Overview, Error> {
    Ok(Overview {
        domains: store.overview(window, services).await?,
    })
}

/// Builds a domain's page data (empty when it has no reports in the window).
///
/// # Errors
///
/// Database errors.
pub async fn domain(
    store: &Store,
    window: &Window,
    domain: &str,
    services: &ServiceMap,
) -> Result<DomainData, Error> {
    let filter = Filter::new(*window).domain(domain);
    let domain = filter.domain.clone().unwrap_or_default();
    let policy = store.policies(&filter).await?.remove(&domain);
    let summary = store.totals(&filter).await?.remove(&domain);
    let daily = store.daily(&filter).await?;
    let list = store
        .source_list(&filter, services, Detail::Busiest(SOURCES_SHOWN))
        .await?;
    let source_classes = list
        .classes
        .iter()
        .map(|(class, c)| (*class, c.groups))
        .collect();
    let verdict = mailward_store::readiness::readiness(
        summary.as_ref().and_then(|s| s.published_p.as_ref()),
        summary.as_ref().map_or(0, |s| s.volume),
        list.fixable(),
    )
    .to_string();
    let impact = list.impact();
    let sources_total = list.total;
    let sources = list.shown;
    Ok(DomainData {
        impact,
        source_classes,
        sources_total,
        domain,
        policy,
        summary,
        daily,
        sources,
        verdict,
    })
}

/// Builds a source's page data: the group whose key is `key` (a service's organizational
/// domain, or an address), or the group holding the address `key`.
///
/// # Errors
///
/// Database errors.
pub async fn source(
    store: &Store,
    window: &Window,
    domain: &str,
    key: &str,
    services: &ServiceMap,
) -> Result<Option<SourceData>, Error> {
    let filter = Filter::new(*window).domain(domain);
    let Some(found) = store.source(&filter, key, services).await? else {
        return Ok(None);
    };
    let (source, daily) = (found.source, found.daily);
    Ok(Some(SourceData {
        domain: filter.domain.unwrap_or_default(),
        source,
        daily,
    }))
}

/// Builds the reports page data.
///
/// # Errors
///
/// Database errors.
pub async fn reports(store: &Store, window: &Window) -> Result<ReportsData, Error> {
    let (reports, total) = store
        .reports(&Filter::new(*window), 0, REPORTS_PER_PAGE)
        .await?;
    let mut rejections = store.rejections(window).await?;
    let rejections_total = rejections.len();
    rejections.truncate(REPORTS_PER_PAGE);
    Ok(ReportsData {
        reports,
        total,
        rejections,
        rejections_total,
    })
}

/// Builds the SMTP TLS page data.
///
/// # Errors
///
/// Database errors.
pub async fn tls(store: &Store, window: &Window) -> Result<TlsData, Error> {
    let summary = store.tls_summary(&Filter::new(*window)).await?;
    let failures = summary.failure_rows();
    Ok(TlsData { summary, failures })
}

/// One report whole.
///
/// # Errors
///
/// Database errors.
pub async fn report(store: &Store, id: i64) -> Result<Option<StoredReport>, Error> {
    store.report(id).await
}
