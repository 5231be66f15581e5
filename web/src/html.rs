//! The pages as HTML (maud escapes every interpolated value), from the page data of
//! [`crate::data`]. Tables and links need no script; charts are inline SVG.

use mailward_reports::tls::ResultType;
use mailward_store::query::{DayPoint, Rejection, StoredReport, format_day};
use mailward_store::readiness::{AssessedSource, DomainOverview, PublishedPolicy, SourceClass};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::chart;
use crate::data::{DomainData, Overview, ReportsData, SourceData, TlsData};
use crate::window::Chosen;

/// The old name of [`path_segment`].
#[deprecated(note = "renamed to `path_segment`")]
pub fn seg(s: &str) -> String {
    path_segment(s)
}

/// A path segment, percent-encoded (report content ends up in links: a domain could hold `/`,
/// `?` or `#`).
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

fn trend(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(n), Some(b)) => {
            let d = n - b;
            if d.abs() < 0.05 {
                "±0.0 pts".into()
            } else if d > 0.0 {
                format!("+{d:.1} pts")
            } else {
                format!("−{:.1} pts", -d)
            }
        }
        (Some(_), None) => "new".into(),
        _ => "–".into(),
    }
}

fn date(unix: i64) -> String {
    format_day(unix.div_euclid(86_400))
}

/// The most DKIM signatures or reporters listed in one cell of the sources table (the source's
/// page lists them all).
const LIST_SHOWN: usize = 6;

fn defect_name(k: mailward_reports::DefectKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn class_name(c: SourceClass) -> &'static str {
    match c {
        SourceClass::Aligned => "aligned",
        SourceClass::Unaligned => "unaligned",
        _ => "forgery",
    }
}

/// The frame of every page: navigation, the window chooser, the content.
pub fn layout(title: &str, path: &str, w: &Chosen, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Mailward" }
                link rel="stylesheet" href="/assets/style.css";
                link rel="icon" href="/favicon.ico" type="image/svg+xml";
            }
            body {
                header {
                    nav {
                        a.brand href=(w.link("/")) { "Mailward" }
                        a href=(w.link("/")) { "Domains" }
                        a href=(w.link("/reports")) { "Reports" }
                        a href=(w.link("/tls")) { "SMTP TLS" }
                    }
                    form.window method="get" action=(path) {
                        span { "Window: " (w.label) " · " }
                        @for n in [7, 30, 90] {
                            @if w.days == Some(n) {
                                strong { (n) " days" } " "
                            } @else {
                                a href={ (path) "?days=" (n) } { (n) " days" } " "
                            }
                        }
                        label { " or since " input type="date" name="since" value=[w.query.strip_prefix("since=")]; }
                        // Without a date, "Show" keeps the number of days shown now.
                        @if let Some(n) = w.days { input type="hidden" name="days" value=(n); }
                        button type="submit" { "Show" }
                    }
                }
                main { (body) }
                footer { "Read-only view of the report store. Every page is also JSON under " code { "/api/" } "." }
            }
        }
    }
}

fn policy_cells(p: Option<&PublishedPolicy>) -> Markup {
    let get = |f: fn(&PublishedPolicy) -> Option<&String>| {
        p.and_then(f).cloned().unwrap_or_else(|| "–".into())
    };
    html! {
        td { (get(|p| p.p.as_ref())) }
        td { (get(|p| p.sp.as_ref())) }
        td { (get(|p| p.np.as_ref())) }
        td { (get(|p| p.testing.as_ref())) }
    }
}

/// `/`.
pub fn overview(o: &Overview, w: &Chosen) -> Markup {
    let body = html! {
        h1 { "Policy domains" }
        p.lead { "Reports of " (w.label) ". The trend is the change of the DMARC pass rate against the window of the same length just before." }
        @if o.domains.is_empty() {
            p { "No reports in this window. Ingest some with " code { "mailward report ingest" } "." }
        } @else {
            table #domains {
                thead { tr {
                    th { "Domain" } th { "p" } th { "sp" } th { "np" } th { "t" }
                    th.num { "Messages" } th.num { "DMARC pass" } th.num { "Trend" } th { "Verdict" }
                } }
                tbody {
                    @for d in &o.domains { (overview_row(d, w)) }
                }
            }
        }
    };
    layout("Domains", "/", w, body)
}

fn overview_row(d: &DomainOverview, w: &Chosen) -> Markup {
    let now = rate(d.dmarc_pass, d.messages);
    let before = match (d.previous_dmarc_pass, d.previous_messages) {
        (Some(p), Some(m)) => rate(p, m),
        _ => None,
    };
    html! {
        tr data-domain=(d.domain) {
            td { a href=(w.link(&format!("/domains/{}", path_segment(&d.domain)))) { (d.domain) } }
            (policy_cells(d.policy.as_ref()))
            td.num.messages { (d.messages) }
            td.num.pass { (pct(d.dmarc_pass, d.messages)) }
            td.num { (trend(now, before)) }
            td.verdict { (d.verdict) }
        }
    }
}

fn days(points: &[DayPoint]) -> Vec<String> {
    points.iter().map(|p| p.date.clone()).collect()
}

fn pass_fail_chart(points: &[DayPoint], caption: &str) -> Markup {
    let svg = chart::stacked_bars(
        &days(points),
        &[
            (
                "DMARC pass",
                chart::PASS,
                points.iter().map(|p| p.dmarc_pass).collect(),
            ),
            (
                "DMARC fail",
                chart::FAIL,
                points.iter().map(|p| p.dmarc_fail).collect(),
            ),
        ],
        "messages",
    );
    html! {
        figure.chart #passfail {
            figcaption { (caption) " "
                span.key.k-pass { "DMARC pass" } " "
                span.key.k-fail { "DMARC fail" }
            }
            (PreEscaped(svg))
        }
    }
}

fn disposition_chart(points: &[DayPoint]) -> Markup {
    let series: Vec<(&str, _, Vec<u64>)> = chart::DISPOSITIONS
        .iter()
        .map(|(name, colour)| {
            let values = points
                .iter()
                .map(|p| {
                    if *name == "other" {
                        p.disposition
                            .iter()
                            .filter(|(k, _)| {
                                !matches!(k.as_str(), "none" | "quarantine" | "reject")
                            })
                            .map(|(_, v)| *v)
                            .sum()
                    } else {
                        p.disposition.get(*name).copied().unwrap_or(0)
                    }
                })
                .collect();
            (*name, *colour, values)
        })
        .collect();
    let svg = chart::stacked_bars(&days(points), &series, "messages");
    html! {
        figure.chart #dispositions {
            figcaption { "Disposition applied by receivers "
                @for (name, _) in chart::DISPOSITIONS {
                    span class={ "key k-" (name) } { (name) } " "
                }
            }
            (PreEscaped(svg))
        }
    }
}

fn daily_table(points: &[DayPoint]) -> Markup {
    html! {
        details {
            summary { "The numbers by day" }
            table.daily {
                thead { tr { th { "Day" } th.num { "Messages" } th.num { "Pass" } th.num { "Fail" } th.num { "DKIM aligned" } th.num { "SPF aligned" } th { "Dispositions" } } }
                tbody {
                    @for p in points {
                        tr {
                            td { (p.date) } td.num { (p.messages) } td.num { (p.dmarc_pass) } td.num { (p.dmarc_fail) }
                            td.num { (p.dkim_aligned) } td.num { (p.spf_aligned) }
                            td { @for (k, v) in &p.disposition { (k) " " (v) " " } }
                        }
                    }
                }
            }
        }
    }
}

/// `/domains/{domain}`.
pub fn domain(d: &DomainData, w: &Chosen) -> Markup {
    let (volume, pass, dkim, spf) = d.summary.as_ref().map_or((0, 0, 0, 0), |s| {
        (
            s.volume,
            s.dmarc_pass,
            s.dkim_aligned_pass,
            s.spf_aligned_pass,
        )
    });
    let path = format!("/domains/{}", path_segment(&d.domain));
    let body = html! {
        h1 { (d.domain) }
        p.verdict { strong { (d.verdict) } }
        dl.totals {
            dt { "Messages" } dd #messages { (volume) }
            dt { "DMARC pass" } dd #pass-rate { (pct(pass, volume)) }
            dt { "DKIM aligned" } dd { (pct(dkim, volume)) }
            dt { "SPF aligned" } dd { (pct(spf, volume)) }
            @if let Some(p) = &d.policy {
                dt { "Published" } dd { "p=" (p.p.as_deref().unwrap_or("–")) ", sp=" (p.sp.as_deref().unwrap_or("–")) ", np=" (p.np.as_deref().unwrap_or("–")) ", t=" (p.testing.as_deref().unwrap_or("–")) }
            }
        }
        (pass_fail_chart(&d.daily, "Messages per day"))
        (disposition_chart(&d.daily))
        (daily_table(&d.daily))
        h2 { "At a stricter policy" }
        table #impact {
            thead { tr { th { "Policy" } th.num { "Messages affected" } th.num { "Legitimate mail lost" } th.num { "Likely forgeries stopped" } } }
            tbody {
                @for i in &d.impact {
                    tr { td { "p=" (i.policy) } td.num { (i.affected) " (" (pct(i.affected, volume)) ")" } td.num.lost { (i.legitimate) } td.num { (i.forgeries) } }
                }
            }
        }
        h2 { "Sending sources" }
        p.lead {
            (d.sources_total) " sources: "
            @for (i, (class, n)) in d.source_classes.iter().enumerate() {
                @if i > 0 { ", " } (n) " " (class)
            }
            "."
            @if d.sources_total > d.sources.len() { " The " (d.sources.len()) " busiest are listed." }
        }
        table #sources {
            thead { tr { th { "Source" } th { "Class" } th.num { "Messages" } th.num { "SPF aligned" } th.num { "DKIM aligned" } th { "DKIM d= / s=" } th { "Reporters" } } }
            tbody { @for s in &d.sources { (source_row(s, &d.domain, w)) } }
        }
    };
    layout(&d.domain, &path, w, body)
}

fn source_name(s: &AssessedSource) -> String {
    match &s.group.service {
        Some(service) => format!("{} ({})", service.name, s.group.key),
        None => s.group.key.clone(),
    }
}

fn source_row(s: &AssessedSource, domain: &str, w: &Chosen) -> Markup {
    let g = &s.group;
    let link = w.link(&format!(
        "/domains/{}/sources/{}",
        path_segment(domain),
        path_segment(&g.key)
    ));
    html! {
        tr.source data-class=(class_name(s.assessment.class)) {
            td {
                a href=(link) { (source_name(s)) }
                ul.ips { @for a in g.addresses.iter().take(5) { li { (a.ip) @if let Some(n) = &a.reverse_name { " " span.name { (n) } } } } }
                @if g.addresses.len() > 5 { span.more { "and " (g.addresses.len() - 5) " more" } }
            }
            td {
                span.class { (s.assessment.class) }
                @if let Some(fix) = &s.assessment.fix { br; span.fix { "Fix: " (fix) } }
            }
            td.num { (g.messages) }
            td.num { (pct(g.spf_aligned_pass, g.messages)) }
            td.num { (pct(g.dkim_aligned_pass, g.messages)) }
            td {
                @for d in g.dkim.iter().take(LIST_SHOWN) { span.auth { "d=" (d.domain) @if let Some(sel) = &d.selector { " s=" (sel) } " " (d.result) } " " }
                @if g.dkim.len() > LIST_SHOWN { span.more { "+" (g.dkim.len() - LIST_SHOWN) " more" } }
            }
            td {
                @for r in g.reporters.iter().take(LIST_SHOWN) { span.reporter { (r) } " " }
                @if g.reporters.len() > LIST_SHOWN { span.more { "+" (g.reporters.len() - LIST_SHOWN) " more" } }
            }
        }
    }
}

/// `/domains/{domain}/sources/{key}`.
pub fn source(s: &SourceData, w: &Chosen) -> Markup {
    let g = &s.source.group;
    let path = format!(
        "/domains/{}/sources/{}",
        path_segment(&s.domain),
        path_segment(&g.key)
    );
    let body = html! {
        p.crumbs { a href=(w.link(&format!("/domains/{}", path_segment(&s.domain)))) { (s.domain) } " › source" }
        h1 { (source_name(&s.source)) }
        p { strong { (s.source.assessment.class) } ": " (s.source.assessment.why) }
        @if let Some(fix) = &s.source.assessment.fix { p.fix { "Fix: " (fix) } }
        dl.totals {
            dt { "Messages" } dd #messages { (g.messages) }
            dt { "SPF aligned" } dd { (pct(g.spf_aligned_pass, g.messages)) }
            dt { "DKIM aligned" } dd { (pct(g.dkim_aligned_pass, g.messages)) }
            dt { "DMARC fail" } dd { (g.dmarc_fail) }
        }
        (pass_fail_chart(&s.daily, "Messages per day from this source"))
        (daily_table(&s.daily))
        h2 { "Addresses" }
        table #addresses {
            thead { tr { th { "Address" } th { "Reverse name" } th.num { "Messages" } th.num { "DMARC fail" } th { "Reporters" } } }
            tbody {
                @for a in &g.addresses {
                    tr { td { (a.ip) } td { (a.reverse_name.as_deref().unwrap_or("–")) " (" (format!("{:?}", a.name_status).to_lowercase()) ")" }
                         td.num { (a.summary.volume) } td.num { (a.summary.dmarc_fail) } td { (a.summary.reporters.join(", ")) } }
                }
            }
        }
        h2 { "Authentication results" }
        table #auth {
            thead { tr { th { "Method" } th { "Domain" } th { "Selector" } th { "Result" } } }
            tbody {
                @for d in &g.dkim { tr { td { "DKIM" } td { (d.domain) } td { (d.selector.as_deref().unwrap_or("–")) } td { (d.result) } } }
                @for x in &g.spf { tr { td { "SPF" } td { (x.domain) } td { "–" } td { (x.result) } } }
            }
        }
    };
    layout(&source_name(&s.source), &path, w, body)
}

/// `/reports`.
pub fn reports(r: &ReportsData, w: &Chosen) -> Markup {
    let body = html! {
        h1 { "Reports" }
        p.lead { (r.total) " reports in " (w.label) @if r.total > r.reports.len() { " (the latest " (r.reports.len()) " listed)" } "." }
        table #reports {
            thead { tr { th { "Reporter" } th { "Domain" } th { "Period" } th.num { "Records" } th.num { "Messages" } th.num { "Deliveries" } th { "Defects" } } }
            tbody {
                @for x in &r.reports {
                    tr {
                        td { a href=(w.link(&format!("/reports/{}", x.id))) { (x.org_name) } br; span.small { (x.email) } }
                        td { (x.policy_domain) }
                        td { (date(x.begin)) " – " (date(x.end)) }
                        td.num { (x.records) } td.num { (x.messages) } td.num { (x.deliveries) }
                        td { @for d in &x.defects { span.defect { (defect_name(d.kind)) } " " } }
                    }
                }
            }
        }
        h2 { "Rejected inputs" }
        @if r.rejections_total > r.rejections.len() { p.lead { (r.rejections_total) " in all; the first " (r.rejections.len()) " are listed." } }
        (rejections(&r.rejections))
    };
    layout("Reports", "/reports", w, body)
}

fn rejections(list: &[Rejection]) -> Markup {
    html! {
        @if list.is_empty() { p { "None in this window." } } @else {
            table #rejections {
                thead { tr { th { "Input" } th { "Class" } th { "Reason" } th { "First seen" } } }
                tbody { @for x in list { tr { td { (x.source) } td { (x.class) } td { (x.reason) } td { (date(x.first_seen)) } } } }
            }
        }
    }
}

/// `/reports/{id}`.
pub fn report(s: &StoredReport, w: &Chosen) -> Markup {
    let m = &s.report.report_metadata;
    let p = &s.report.policy_published;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "–".into());
    let body = html! {
        p.crumbs { a href=(w.link("/reports")) { "Reports" } " › one report" }
        h1 { "Report " (m.report_id) }
        dl.totals {
            dt { "Reporter" } dd { (m.org_name) " <" (m.email) ">" }
            dt { "Period" } dd { (date(i64::try_from(m.date_range.begin).unwrap_or(0))) " – " (date(i64::try_from(m.date_range.end).unwrap_or(0))) }
            dt { "Policy domain" } dd { (p.domain) }
            dt { "Published" } dd {
                "p=" (opt(p.p.as_ref().map(ToString::to_string)))
                ", sp=" (opt(p.sp.as_ref().map(ToString::to_string)))
                ", np=" (opt(p.np.as_ref().map(ToString::to_string)))
                ", t=" (opt(p.testing.as_ref().map(ToString::to_string)))
            }
            dt { "Records" } dd { (s.report.records.len()) }
        }
        h2 { "Records" }
        table #records {
            thead { tr { th { "Source" } th.num { "Count" } th { "Disposition" } th { "DKIM" } th { "SPF" } th { "Header From" } th { "Auth results" } } }
            tbody {
                @for r in &s.report.records {
                    tr {
                        td { (r.row.source_ip) }
                        td.num { (r.row.count) }
                        td { (opt(r.row.policy_evaluated.disposition.as_ref().map(ToString::to_string))) }
                        td { (opt(r.row.policy_evaluated.dkim.as_ref().map(ToString::to_string))) }
                        td { (opt(r.row.policy_evaluated.spf.as_ref().map(ToString::to_string))) }
                        td { (r.identifiers.header_from) }
                        td { @for d in &r.auth_results.dkim { span.auth { (d.to_string()) } " " } @for x in &r.auth_results.spf { span.auth { (x.to_string()) } " " } }
                    }
                }
            }
        }
        h2 { "Deliveries" }
        table #deliveries {
            thead { tr { th { "Source" } th { "Container" } th { "Message-ID" } th { "Ingested" } } }
            tbody { @for d in &s.deliveries { tr { td { (d.source) } td { (d.container) } td { (d.message_id.as_deref().unwrap_or("–")) } td { (date(d.ingested_at)) } } } }
        }
        @if !s.row.defects.is_empty() {
            h2 { "Defects" }
            ul { @for d in &s.row.defects { li { (defect_name(d.kind)) " at " (d.path) @if let Some(v) = &d.value { ": " (v) } } } }
        }
    };
    layout(
        &format!("Report {}", m.report_id),
        &format!("/reports/{}", s.row.id),
        w,
        body,
    )
}

/// What a `result-type` means, in a few words (RFC 8460 §4.4).
fn result_type_meaning(token: &str) -> Option<&'static str> {
    Some(match ResultType::from_token(token) {
        ResultType::StarttlsNotSupported => "the MX did not offer STARTTLS",
        ResultType::CertificateHostMismatch => "its certificate does not name the MX host",
        ResultType::CertificateExpired => "its certificate has expired",
        ResultType::CertificateNotTrusted => "its certificate is not from a trusted CA",
        ResultType::ValidationFailure => "TLS failed for another reason",
        ResultType::TlsaInvalid => "no valid record in its TLSA set",
        ResultType::DnssecInvalid => "no DNSSEC-valid answer for its TLSA records",
        ResultType::DaneRequired => "DANE required, but no DNSSEC-valid TLSA records",
        ResultType::StsPolicyFetchError => "the MTA-STS policy could not be fetched",
        ResultType::StsPolicyInvalid => "the MTA-STS policy is not valid",
        ResultType::StsWebpkiInvalid => "the MTA-STS policy host's certificate did not validate",
        _ => return None,
    })
}

/// `/tls`.
pub fn tls(t: &TlsData, w: &Chosen) -> Markup {
    let s = &t.summary;
    let sessions = s.successful_sessions.saturating_add(s.failed_sessions);
    let dash = |v: &str| {
        if v.is_empty() {
            "–".to_owned()
        } else {
            v.to_owned()
        }
    };
    let body = html! {
        h1 { "SMTP TLS" }
        p.lead { "SMTP TLS reports (RFC 8460) of " (w.label) ": how many sessions of other mail servers to each policy domain negotiated TLS as its MTA-STS or DANE policy requires. Each report counts once, on the day it covers." }
        @if s.reports == 0 {
            p { "No SMTP TLS reports in this window. Publish a TLSRPT record (" code { "_smtp._tls" } ") and ingest the reports with " code { "mailward report ingest" } "." }
        } @else {
            dl.totals {
                dt { "Reports" } dd #tls-reports { (s.reports) }
                dt { "Sessions" } dd #tls-sessions { (sessions) }
                dt { "Failed" } dd #tls-failed { (s.failed_sessions) }
                dt { "Failure rate" } dd #tls-failure-rate { (pct(s.failed_sessions, sessions)) }
            }
            h2 { "Policy domains" }
            table #tls-domains {
                thead { tr {
                    th { "Policy domain" } th { "Policy" } th.num { "Policies reported" }
                    th.num { "Sessions" } th.num { "Successful" } th.num { "Failed" } th.num { "Failure rate" }
                } }
                tbody {
                    @for (domain, d) in &s.domains {
                        @let total = d.successful_sessions.saturating_add(d.failed_sessions);
                        @let types: Vec<&str> = d.policy_types.iter().map(|t| t.as_str()).collect();
                        tr data-domain=(domain) {
                            td { (dash(domain)) }
                            td { (dash(&types.join(", "))) }
                            td.num { (d.policies) }
                            td.num.sessions { (total) }
                            td.num { (d.successful_sessions) }
                            td.num.failed { (d.failed_sessions) }
                            td.num.rate { (pct(d.failed_sessions, total)) }
                        }
                    }
                }
            }
            h2 { "Failures by result type and receiving MX" }
            p.lead { "From the reports' failure details, most failed sessions first. A session that met several errors may be counted under each (RFC 8460 §4), so these need not add up to the failed sessions." }
            @if t.failures.is_empty() { p { "No failure details." } } @else {
                table #tls-failures {
                    thead { tr { th { "Result type" } th { "Receiving MX" } th.num { "Failed sessions" } } }
                    tbody {
                        @for f in &t.failures {
                            tr {
                                td.result {
                                    (dash(&f.result_type))
                                    @if let Some(m) = result_type_meaning(&f.result_type) { br; span.small { (m) } }
                                }
                                td.mx { (dash(&f.receiving_mx_hostname)) }
                                td.num.failed { (f.failed_sessions) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("SMTP TLS", "/tls", w, body)
}

/// An error page.
pub fn error(status: u16, message: &str, w: Option<&Chosen>) -> Markup {
    let fallback = crate::window::WindowQuery::default().choose_at(0).ok();
    let body = html! { h1 { "Error " (status) } p { (message) } };
    match w.or(fallback.as_ref()) {
        Some(w) => layout("Error", "/", w, body),
        None => body,
    }
}

/// The login form asked for when a token is required.
pub fn login(failed: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Sign in · Mailward" } link rel="stylesheet" href="/assets/style.css"; }
            body { main.login {
                h1 { "Mailward" }
                @if failed { p.error { "That token is not the one this server was started with." } }
                form method="post" action="/login" {
                    label { "Access token " input type="password" name="token" autocomplete="current-password"; }
                    button type="submit" { "Sign in" }
                }
            } }
        }
    }
}

#[cfg(test)]
mod tests {
    use mailward_reports::tls::{TlsSummary, parse_json};

    use super::*;
    use crate::window::WindowQuery;

    /// 7 successful and 2 failed sessions to a domain spelled as markup, the 2 at an MX named
    /// as markup.
    const HOSTILE: &[u8] = br#"{"organization-name": "o",
      "date-range": {"start-datetime": "2026-11-03T00:00:00Z", "end-datetime": "2026-11-03T23:59:59Z"},
      "contact-info": "x@o.example", "report-id": "r",
      "policies": [{"policy": {"policy-type": "tlsa", "policy-domain": "<i>d</i>"},
        "summary": {"total-successful-session-count": 7, "total-failure-session-count": 2},
        "failure-details": [{"result-type": "dane-required",
          "receiving-mx-hostname": "<img src=x>", "failed-session-count": 2}]}]}"#;

    #[test]
    fn the_tls_page_escapes_report_text() {
        let report = parse_json(HOSTILE).unwrap().report;
        let summary = TlsSummary::from_reports([&report]);
        let data = TlsData {
            failures: summary.failure_rows(),
            summary,
        };
        let w = WindowQuery::default().choose_at(20_788).unwrap();
        let page = tls(&data, &w).into_string();
        assert!(!page.contains("<img") && !page.contains("<i>"), "{page}");
        assert!(page.contains("&lt;img src=x&gt;"), "{page}");
        assert!(
            page.contains("data-domain=\"&lt;i&gt;d&lt;/i&gt;\""),
            "{page}"
        );
        // 9 sessions, 2 failed: 22.2 %.
        assert!(
            page.contains(">9</td>") && page.contains(">22.2 %</td>"),
            "{page}"
        );
        assert!(page.contains("DANE required"), "{page}");
        assert!(
            page.contains("href=\"/tls?days=30\""),
            "the navigation links the page"
        );

        let empty = TlsData {
            summary: TlsSummary::new(),
            failures: Vec::new(),
        };
        let page = tls(&empty, &w).into_string();
        assert!(
            page.contains("No SMTP TLS reports in this window"),
            "{page}"
        );
        assert!(!page.contains("id=\"tls-domains\""));
    }

    #[test]
    fn every_result_type_is_explained() {
        for t in ResultType::ALL {
            assert!(result_type_meaning(t.as_str()).is_some(), "{t}");
        }
        assert_eq!(result_type_meaning(""), None);
        assert_eq!(result_type_meaning("x-other"), None);
    }
}
