//! The aggregate report of a message: its records, built from the domain's senders and
//! forgeries, with `policy_evaluated` consistent with `auth_results`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_reports::{
    ActionDisposition, AggregateReport, AlignedResult, AuthResults, DateRange, DiscoveryMethod,
    DkimAuthResult, DkimResult, Identifiers, PolicyEvaluated, PolicyOverride, PolicyOverrideReason,
    PolicyPublished, Record, ReportMetadata, ReportedPolicy, ReportedSpfResult, Row, Schema,
    SpfAuthResult, SpfScope, Testing,
};

use super::domains::{DomainInfo, ForwardKind, Forwarder, Source, aligned, domain_info};
use super::plan::{Plan, Profile, is_rfc9990, reporter};
use super::rng::{
    GOLDEN, LOWER_ALNUM, Rng, SALT_RECORDS, SALT_REPORT_ID, key, mix64, u8_of, u16_of, u64_of,
    usize_of,
};
use super::spec::MailboxSpec;

/// Which optional parts of a record a reporter writes.
#[derive(Debug, Clone, Copy)]
struct RecordStyle {
    rfc9990: bool,
    pub(super) envelope_from: bool,
    pub(super) envelope_to: bool,
    spf_scope: bool,
    dkim_selector: bool,
    /// Reports ARC-based overrides as `local_policy` / `arc=pass` (Google).
    arc_comment: bool,
}

fn record_style(profile: Profile, instance: u64) -> RecordStyle {
    let rfc9990 = is_rfc9990(profile, instance);
    RecordStyle {
        rfc9990,
        envelope_from: rfc9990 || matches!(profile, Profile::MsEnterprise | Profile::SmallZip),
        envelope_to: profile == Profile::MsEnterprise,
        spf_scope: rfc9990 || matches!(profile, Profile::MsEnterprise | Profile::SmallZip),
        dkim_selector: rfc9990 || profile != Profile::SmallOctet,
        arc_comment: profile == Profile::Google,
    }
}

/// Heavy-tailed record count. Big reporters (most traffic): 78 % 1-10, 12 % 11-49, 9.3 %
/// 50-500, 0.7 % 2 000-5 000. Small receivers see little traffic: 85 % 1-5, 14 % 6-40, 1 %
/// 41-150 (their plain-XML reports are not compressed, so this also keeps them realistic).
fn record_count(rng: &mut Rng, small: bool) -> u64 {
    if small {
        return match rng.below(1000) {
            0..850 => rng.range(1, 5).min(rng.range(1, 5)),
            850..990 => rng.range(6, 40),
            _ => rng.range(41, 150),
        };
    }
    match rng.below(1000) {
        0..780 => {
            // The smaller of two uniforms: 1 is the most common size.
            rng.range(1, 10).min(rng.range(1, 10))
        }
        780..900 => rng.range(11, 49),
        900..993 => rng.log_uniform(50, 500),
        _ => rng.range(2000, 5000),
    }
}

pub(super) fn build_report(spec: &MailboxSpec, plan: &Plan, index: usize) -> AggregateReport {
    let info = reporter(plan.profile, plan.instance);
    let domain = domain_info(spec, plan.domain);
    let style = record_style(plan.profile, plan.instance);
    let mut rng = Rng::new(spec.seed, SALT_RECORDS, u64_of(index));
    let records = build_records(&domain, style, plan.profile.is_small(), &mut rng);
    let rid = key(spec.seed, SALT_REPORT_ID, u64_of(index));
    let rid2 = mix64(rid ^ GOLDEN);
    let report_id = match plan.profile {
        Profile::Google => rid.to_string(),
        Profile::MsEnterprise | Profile::OutlookCom => format!("{rid:016x}{rid2:016x}"),
        Profile::Yahoo => {
            // `<seconds>.<6 digits>`; the digits are a bijection of index mod 10^6.
            let frac = (u64_of(index) % 1_000_000 * 387_403 + spec.seed % 1_000_000) % 1_000_000;
            format!("{}.{frac:06}", plan.sent)
        }
        Profile::SmallOctet => format!("{}:{rid}", info.submitter),
        Profile::SmallZip => format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            rid >> 32,
            (rid >> 16) & 0xFFFF,
            rid & 0xFFFF,
            rid2 >> 48,
            rid2 & 0xFFFF_FFFF_FFFF
        ),
        Profile::SmallXml => format!("{rid:016x}@{}", info.submitter),
    };
    let rfc9990 = style.rfc9990;
    let p = Some(domain.p.clone());
    let policy_published = match plan.profile {
        Profile::Google => PolicyPublished {
            domain: domain.name.clone(),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            p,
            sp: Some(domain.sp.clone()),
            pct: Some(100),
            ..PolicyPublished::default()
        },
        Profile::Yahoo => PolicyPublished {
            domain: domain.name.clone(),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            p,
            pct: Some(100),
            ..PolicyPublished::default()
        },
        _ if rfc9990 => PolicyPublished {
            domain: domain.name.clone(),
            discovery_method: (plan.profile == Profile::OutlookCom).then_some(DiscoveryMethod::Psl),
            p,
            sp: Some(domain.sp.clone()),
            np: Some(domain.sp.clone()),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            fo: Some(domain.fo.to_owned()),
            testing: Some(Testing::No),
            ..PolicyPublished::default()
        },
        _ => PolicyPublished {
            domain: domain.name.clone(),
            adkim: Some(domain.adkim.clone()),
            aspf: Some(domain.aspf.clone()),
            p,
            sp: Some(domain.sp.clone()),
            pct: Some(100),
            fo: matches!(plan.profile, Profile::MsEnterprise | Profile::SmallZip)
                .then(|| domain.fo.to_owned()),
            ..PolicyPublished::default()
        },
    };
    let version = match plan.profile {
        Profile::Google | Profile::Yahoo | Profile::SmallOctet => None,
        _ => Some("1.0".to_owned()),
    };
    let generator = match plan.profile {
        Profile::SmallXml if rfc9990 => {
            Some(format!("example-dmarc-reporter/2.{}", plan.instance % 5))
        }
        _ => None,
    };
    AggregateReport {
        schema: if rfc9990 {
            Schema::Rfc9990
        } else {
            Schema::Rfc7489
        },
        version,
        report_metadata: ReportMetadata {
            org_name: info.org_name,
            email: info.email,
            extra_contact_info: info.extra_contact_info,
            report_id,
            date_range: DateRange {
                begin: plan.begin,
                end: plan.end,
            },
            errors: Vec::new(),
            generator,
        },
        policy_published,
        extension: None,
        records,
    }
}

/// A row's source before evaluation.
#[derive(Debug, Clone, Copy)]
enum RowSource {
    Esp(usize),
    Forward(usize),
}

fn build_records(
    domain: &DomainInfo,
    style: RecordStyle,
    small: bool,
    rng: &mut Rng,
) -> Vec<Record> {
    let n = usize_of(record_count(rng, small));
    let pool = domain.sources.len() + domain.forwarders.len();
    let legit = if n <= 10 {
        (0..n).filter(|_| !rng.chance(150)).count()
    } else {
        n - n / 10
    }
    .min(pool);
    // Distinct legitimate sources: a partial Fisher-Yates shuffle of the pool.
    let mut all: Vec<RowSource> = (0..domain.sources.len())
        .map(RowSource::Esp)
        .chain((0..domain.forwarders.len()).map(RowSource::Forward))
        .collect();
    let mut records = Vec::with_capacity(n);
    for i in 0..legit {
        let j = i + rng.below_usize(all.len() - i);
        all.swap(i, j);
        let record = match all.get(i) {
            Some(RowSource::Esp(k)) => domain
                .sources
                .get(*k)
                .map(|s| esp_row(domain, style, s, rng)),
            Some(RowSource::Forward(k)) => domain
                .forwarders
                .get(*k)
                .map(|f| forward_row(domain, style, f, rng)),
            None => None,
        };
        records.extend(record);
    }
    // Forgeries of one report come from a few spam campaigns (their own domains).
    let spam_domains: Vec<String> = (0..rng.range(1, 8))
        .map(|_| {
            let len = usize_of(rng.range(5, 10));
            format!("{}.example", rng.token(len, LOWER_ALNUM))
        })
        .collect();
    while records.len() < n {
        records.push(forgery_row(domain, style, &spam_domains, rng));
    }
    records
}

pub(super) fn header_from(domain: &DomainInfo, rng: &mut Rng, subdomain_permille: u64) -> String {
    const SUBS: [&str; 5] = ["mail", "news", "e", "info", "billing"];
    if rng.chance(subdomain_permille) {
        format!(
            "{}.{}",
            rng.pick(&SUBS).copied().unwrap_or("mail"),
            domain.name
        )
    } else {
        domain.name.clone()
    }
}

fn dkim(style: RecordStyle, domain: &str, selector: &str, result: DkimResult) -> DkimAuthResult {
    DkimAuthResult {
        domain: domain.to_owned(),
        selector: style.dkim_selector.then(|| selector.to_owned()),
        result: Some(result),
        human_result: None,
    }
}

fn spf(style: RecordStyle, domain: &str, result: ReportedSpfResult) -> SpfAuthResult {
    SpfAuthResult {
        domain: domain.to_owned(),
        scope: style.spf_scope.then_some(SpfScope::MailFrom),
        result: Some(result),
        human_result: None,
    }
}

fn esp_row(domain: &DomainInfo, style: RecordStyle, src: &Source, rng: &mut Rng) -> Record {
    let hf = header_from(domain, rng, 200);
    let spf_aligned = aligned(&src.envelope, &hf, &domain.aspf);
    let roll = rng.below(1000);
    let mut sigs = Vec::new();
    let mut spf_result = if rng.chance(970) {
        ReportedSpfResult::Pass
    } else {
        rng.pick(&[
            ReportedSpfResult::SoftFail,
            ReportedSpfResult::TempError,
            ReportedSpfResult::Neutral,
        ])
        .cloned()
        .unwrap_or(ReportedSpfResult::SoftFail)
    };
    if roll < 820 || (roll < 920 && !spf_aligned) {
        // Signed by the domain (aligned); ESPs add their own signature most of the time.
        sigs.push(dkim(style, &domain.name, &src.selector, DkimResult::Pass));
        if let Some(t) = &src.third_party
            && rng.chance(700)
        {
            sigs.push(dkim(style, t, &src.third_selector, DkimResult::Pass));
        }
    } else if roll < 920 {
        // SPF only: unsigned, or a signature that does not verify (key not published).
        spf_result = ReportedSpfResult::Pass;
        match rng.below(3) {
            0 => {}
            1 => sigs.push(dkim(style, &domain.name, &src.selector, DkimResult::Fail)),
            _ => sigs.push(dkim(
                style,
                &domain.name,
                &src.selector,
                DkimResult::PermError,
            )),
        }
    } else {
        // An ESP not (yet) set up for the domain: only its own signature.
        match &src.third_party {
            Some(t) => sigs.push(dkim(style, t, &src.third_selector, DkimResult::Pass)),
            None => sigs.push(dkim(style, &domain.name, &src.selector, DkimResult::Fail)),
        }
    }
    let count = if src.esp.ips.1 > 10 {
        rng.log_uniform(1, 4000)
    } else {
        rng.log_uniform(1, 600)
    };
    finish_row(
        domain,
        style,
        RowParts {
            ip: src.ip,
            count,
            header_from: hf,
            dkim: sigs,
            spf: spf(style, &src.envelope, spf_result),
            override_reason: None,
        },
        rng,
    )
}

fn forward_row(domain: &DomainInfo, style: RecordStyle, fwd: &Forwarder, rng: &mut Rng) -> Record {
    let hf = header_from(domain, rng, 150);
    let original = rng.pick(&domain.sources);
    let selector = original.map_or("selector1", |s| s.selector.as_str());
    // Lists change the body (DKIM fails); plain forwarding keeps it intact 30 % of the time.
    let dkim_result = if fwd.site.kind == ForwardKind::Forward && rng.chance(300) {
        DkimResult::Pass
    } else {
        DkimResult::Fail
    };
    let mut sigs = vec![dkim(style, &domain.name, selector, dkim_result)];
    if fwd.site.kind == ForwardKind::List && rng.chance(500) {
        sigs.push(dkim(style, fwd.site.envelope, "list", DkimResult::Pass));
    }
    let spf_part = if fwd.site.rewrites {
        spf(style, fwd.site.envelope, ReportedSpfResult::Pass)
    } else {
        let r = rng
            .pick(&[
                ReportedSpfResult::SoftFail,
                ReportedSpfResult::Fail,
                ReportedSpfResult::Neutral,
            ])
            .cloned()
            .unwrap_or(ReportedSpfResult::SoftFail);
        spf(style, &hf, r)
    };
    let override_reason = if rng.chance(600) {
        let arc = style.arc_comment && rng.chance(500);
        Some(if arc {
            PolicyOverrideReason {
                kind: PolicyOverride::LocalPolicy,
                comment: Some("arc=pass".to_owned()),
            }
        } else {
            PolicyOverrideReason {
                kind: match (fwd.site.kind, style.rfc9990) {
                    (ForwardKind::List, _) => PolicyOverride::MailingList,
                    (ForwardKind::Forward, true) => PolicyOverride::TrustedForwarder,
                    (ForwardKind::Forward, false) => PolicyOverride::Forwarded,
                },
                comment: None,
            }
        })
    } else {
        None
    };
    let count = rng.log_uniform(1, 40);
    finish_row(
        domain,
        style,
        RowParts {
            ip: fwd.ip,
            count,
            header_from: hf,
            dkim: sigs,
            spf: spf_part,
            override_reason,
        },
        rng,
    )
}

fn forgery_row(
    domain: &DomainInfo,
    style: RecordStyle,
    spam_domains: &[String],
    rng: &mut Rng,
) -> Record {
    let ip = if rng.chance(100) {
        IpAddr::V6(Ipv6Addr::new(
            u16_of(rng.range(0x2001, 0x2c0f)),
            u16_of(rng.next_u64()),
            u16_of(rng.next_u64()),
            u16_of(rng.next_u64()),
            0,
            0,
            0,
            u16_of(rng.range(1, 0xffff)),
        ))
    } else {
        let mut a = u8_of(rng.range(1, 223));
        if a == 10 || a == 127 {
            a += 1;
        }
        let rest = rng.next_u64();
        IpAddr::V4(Ipv4Addr::new(
            a,
            u8_of(rest),
            u8_of(rest >> 8),
            u8_of((rest >> 16) % 254 + 1),
        ))
    };
    let hf = header_from(domain, rng, 100);
    let spam_domain = rng
        .pick(spam_domains)
        .map_or("spam.example", String::as_str);
    let mut sigs = Vec::new();
    match rng.below(4) {
        0 | 1 => {}
        2 => {
            let len = usize_of(rng.range(2, 8));
            let selector = rng.token(len, LOWER_ALNUM);
            sigs.push(dkim(style, &domain.name, &selector, DkimResult::Fail));
        }
        _ => sigs.push(dkim(style, spam_domain, "default", DkimResult::Pass)),
    }
    let spf_part = if rng.chance(500) {
        let r = rng
            .pick(&[
                ReportedSpfResult::Fail,
                ReportedSpfResult::SoftFail,
                ReportedSpfResult::None,
                ReportedSpfResult::Neutral,
            ])
            .cloned()
            .unwrap_or(ReportedSpfResult::Fail);
        spf(style, &hf, r)
    } else {
        spf(style, spam_domain, ReportedSpfResult::Pass)
    };
    let count = rng.range(1, 3);
    finish_row(
        domain,
        style,
        RowParts {
            ip,
            count,
            header_from: hf,
            dkim: sigs,
            spf: spf_part,
            override_reason: None,
        },
        rng,
    )
}

#[derive(Debug)]
struct RowParts {
    pub(super) ip: IpAddr,
    pub(super) count: u64,
    pub(super) header_from: String,
    pub(super) dkim: Vec<DkimAuthResult>,
    pub(super) spf: SpfAuthResult,
    override_reason: Option<PolicyOverrideReason>,
}

/// Evaluates DMARC on the parts (alignment, the applicable policy, overrides) and builds the
/// record, so `policy_evaluated` always agrees with `auth_results`.
fn finish_row(domain: &DomainInfo, style: RecordStyle, parts: RowParts, rng: &mut Rng) -> Record {
    const RECIPIENTS: [&str; 5] = [
        "contoso.example",
        "fabrikam.example",
        "tailspin.example",
        "wingtip.example",
        "northwind.example",
    ];
    let RowParts {
        ip,
        count,
        header_from,
        dkim,
        spf,
        override_reason,
    } = parts;
    let dkim_pass = dkim.iter().any(|d| {
        d.result == Some(DkimResult::Pass) && aligned(&d.domain, &header_from, &domain.adkim)
    });
    let spf_pass = spf.result == Some(ReportedSpfResult::Pass)
        && aligned(&spf.domain, &header_from, &domain.aspf);
    let applicable = if header_from == domain.name {
        &domain.p
    } else {
        &domain.sp
    };
    let enforcing = *applicable != ReportedPolicy::None;
    let (disposition, reasons) = if dkim_pass || spf_pass {
        let d = if style.rfc9990 && enforcing {
            ActionDisposition::Pass
        } else {
            ActionDisposition::None
        };
        (d, Vec::new())
    } else if let Some(reason) = override_reason.filter(|_| enforcing) {
        (ActionDisposition::None, vec![reason])
    } else {
        let d = match applicable {
            ReportedPolicy::Quarantine => ActionDisposition::Quarantine,
            ReportedPolicy::Reject => ActionDisposition::Reject,
            _ => ActionDisposition::None,
        };
        (d, Vec::new())
    };
    let result = |pass: bool| {
        if pass {
            AlignedResult::Pass
        } else {
            AlignedResult::Fail
        }
    };
    let envelope_to = style.envelope_to.then(|| {
        rng.pick(&RECIPIENTS)
            .copied()
            .unwrap_or("contoso.example")
            .to_owned()
    });
    Record {
        row: Row {
            source_ip: ip,
            count,
            policy_evaluated: PolicyEvaluated {
                disposition: Some(disposition),
                dkim: Some(result(dkim_pass)),
                spf: Some(result(spf_pass)),
                reasons,
            },
        },
        identifiers: Identifiers {
            header_from,
            envelope_from: style.envelope_from.then(|| spf.domain.clone()),
            envelope_to,
        },
        auth_results: AuthResults {
            dkim,
            spf: vec![spf],
        },
        extensions: Vec::new(),
    }
}
