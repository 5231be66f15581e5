//! Fixtures of the integration tests: zones from master-file text, evaluation inputs, and
//! short ways to evaluate and to read what was queried.

#![allow(dead_code, unreachable_pub)]

use mailward_dmarc::evaluate::{
    DkimInput, DkimVerdict, DmarcOutcome, Options, PolicyDiscovery, SpfInput, SpfScope, SpfVerdict,
    discover_policy, evaluate,
};
use mailward_dns::ZoneResolver;
use mailward_types::Domain;

pub fn d(s: &str) -> Domain {
    Domain::new(s).unwrap()
}

/// A zone from master-file text with absolute names. Lines are left-trimmed (the tests indent
/// them; every entry names its owner) and a default `$TTL` is supplied.
pub fn zone(text: &str) -> ZoneResolver {
    let body: Vec<&str> = text.lines().map(str::trim_start).collect();
    ZoneResolver::parse(&format!("$TTL 300\n{}\n", body.join("\n")), "").unwrap()
}

pub fn spf_pass(domain: &str) -> SpfInput {
    SpfInput {
        result: SpfVerdict::Pass,
        domain: d(domain),
        scope: SpfScope::MailFrom,
    }
}

pub fn spf(result: SpfVerdict, domain: &str) -> SpfInput {
    SpfInput {
        result,
        domain: d(domain),
        scope: SpfScope::MailFrom,
    }
}

pub fn dkim_pass(domain: &str) -> DkimInput {
    DkimInput {
        result: DkimVerdict::Pass,
        domain: d(domain),
        selector: "sel".into(),
    }
}

pub fn dkim(result: DkimVerdict, domain: &str) -> DkimInput {
    DkimInput {
        result,
        domain: d(domain),
        selector: "sel".into(),
    }
}

pub fn eval(
    z: &ZoneResolver,
    author: &str,
    spf: Option<SpfInput>,
    dkim: &[DkimInput],
) -> DmarcOutcome {
    eval_with(z, author, spf, dkim, &Options::default())
}

pub fn eval_with(
    z: &ZoneResolver,
    author: &str,
    spf: Option<SpfInput>,
    dkim: &[DkimInput],
    options: &Options,
) -> DmarcOutcome {
    pollster::block_on(evaluate(z, &d(author), spf.as_ref(), dkim, options))
}

pub fn discover(z: &ZoneResolver, author: &str) -> PolicyDiscovery {
    pollster::block_on(discover_policy(z, &d(author), &Options::default()))
}

/// The `_dmarc` names the policy-discovery walk queried.
pub fn walk_names(out: &DmarcOutcome) -> Vec<String> {
    out.walk
        .iter()
        .map(|q| format!("_dmarc.{}", q.domain))
        .collect()
}

/// Every TXT name queried.
pub fn txt_queries(out: &DmarcOutcome) -> Vec<String> {
    out.queries
        .iter()
        .filter(|q| q.rtype == "TXT")
        .map(|q| q.name.to_string())
        .collect()
}
