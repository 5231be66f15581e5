//! Policy domains and their senders: the legitimate sources (ESPs, an own MTA), forwarders and
//! mailing lists of each domain, and its published policy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_reports::{Alignment, ReportedPolicy};

use super::rng::{LOWER_ALNUM, Rng, SALT_DOMAIN, u8_of, u16_of, u64_of};
use super::spec::{MailboxSpec, domain_name};

/// How an ESP's MAIL FROM relates to the customer's domain.
#[derive(Debug, Clone, Copy)]
pub(super) enum EnvelopeKind {
    /// The customer's own domain (aligned).
    Own,
    /// The ESP's bounce domain (not aligned).
    Bounce(&'static str),
    /// A customer subdomain `PREFIXnnnn.domain` (aligned under relaxed SPF alignment).
    Sub(&'static str),
}

#[derive(Debug)]
pub(super) struct Esp {
    /// IPv4 networks: first two octets and the third-octet range.
    v4: &'static [(u8, u8, u8, u8)],
    /// An IPv6 /48, if the ESP sends over IPv6.
    v6: Option<[u16; 3]>,
    /// DKIM selectors; empty means a per-domain random token (SES style).
    selectors: &'static [&'static str],
    /// The ESP's own second signature domain; a leading '.' means `<first label><this>`.
    pub(super) third_party: Option<&'static str>,
    pub(super) envelope: EnvelopeKind,
    /// Addresses per domain.
    pub(super) ips: (u64, u64),
}

const ESPS: [Esp; 6] = [
    // Google Workspace.
    Esp {
        v4: &[(209, 85, 128, 255)],
        v6: Some([0x2a00, 0x1450, 0x4864]),
        selectors: &["google"],
        third_party: None,
        envelope: EnvelopeKind::Own,
        ips: (4, 24),
    },
    // Microsoft 365.
    Esp {
        v4: &[(40, 107, 0, 255), (52, 100, 0, 255)],
        v6: Some([0x2a01, 0x0111, 0xf400]),
        selectors: &["selector1", "selector2"],
        third_party: Some(".onmicrosoft.example"),
        envelope: EnvelopeKind::Own,
        ips: (4, 24),
    },
    // Own MTA.
    Esp {
        v4: &[(192, 0, 2, 2), (203, 0, 113, 113)],
        v6: Some([0x2001, 0x0db8, 0x0001]),
        selectors: &["mail", "dkim", "s2024"],
        third_party: None,
        envelope: EnvelopeKind::Own,
        ips: (1, 4),
    },
    // Amazon SES.
    Esp {
        v4: &[(54, 240, 0, 63)],
        v6: None,
        selectors: &[],
        third_party: Some("amazonses.example"),
        envelope: EnvelopeKind::Bounce("amazonses.example"),
        ips: (2, 10),
    },
    // Mailchimp / Mandrill.
    Esp {
        v4: &[(198, 2, 128, 191)],
        v6: None,
        selectors: &["k1", "k2", "k3"],
        third_party: Some("mcsv.example"),
        envelope: EnvelopeKind::Bounce("mcsv.example"),
        ips: (2, 8),
    },
    // SendGrid.
    Esp {
        v4: &[(167, 89, 0, 127), (149, 72, 0, 255)],
        v6: None,
        selectors: &["s1", "s2"],
        third_party: Some("sendgrid.example"),
        envelope: EnvelopeKind::Sub("em"),
        ips: (2, 8),
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForwardKind {
    List,
    Forward,
}

#[derive(Debug)]
pub(super) struct ForwardSite {
    pub(super) kind: ForwardKind,
    v4: (u8, u8, u8, u8),
    pub(super) envelope: &'static str,
    /// Rewrites MAIL FROM (SRS / list bounce address): SPF passes for `envelope`; otherwise SPF
    /// is checked for the original domain and fails.
    pub(super) rewrites: bool,
}

const FORWARD_SITES: [ForwardSite; 5] = [
    ForwardSite {
        kind: ForwardKind::List,
        v4: (209, 85, 220, 220),
        envelope: "googlegroups.example",
        rewrites: true,
    },
    ForwardSite {
        kind: ForwardKind::List,
        v4: (198, 51, 100, 100),
        envelope: "lists.example",
        rewrites: true,
    },
    ForwardSite {
        kind: ForwardKind::Forward,
        v4: (40, 92, 0, 255),
        envelope: "outlook-forward.example",
        rewrites: true,
    },
    ForwardSite {
        kind: ForwardKind::Forward,
        v4: (131, 107, 0, 255),
        envelope: "alumni.example",
        rewrites: false,
    },
    ForwardSite {
        kind: ForwardKind::Forward,
        v4: (85, 215, 0, 255),
        envelope: "forward.example",
        rewrites: false,
    },
];

#[derive(Debug)]
pub(super) struct Source {
    pub(super) esp: &'static Esp,
    pub(super) ip: IpAddr,
    pub(super) selector: String,
    pub(super) envelope: String,
    pub(super) third_party: Option<String>,
    pub(super) third_selector: String,
}

#[derive(Debug)]
pub(super) struct Forwarder {
    pub(super) site: &'static ForwardSite,
    pub(super) ip: IpAddr,
}

#[derive(Debug)]
pub(super) struct DomainInfo {
    pub(super) name: String,
    pub(super) p: ReportedPolicy,
    pub(super) sp: ReportedPolicy,
    pub(super) adkim: Alignment,
    pub(super) aspf: Alignment,
    pub(super) fo: &'static str,
    pub(super) sources: Vec<Source>,
    pub(super) forwarders: Vec<Forwarder>,
}

pub(super) fn v4_in(rng: &mut Rng, net: (u8, u8, u8, u8)) -> IpAddr {
    let (a, b, lo, hi) = net;
    let c = u8_of(rng.range(u64::from(lo), u64::from(hi)));
    let d = u8_of(rng.range(1, 254));
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub(super) fn domain_info(spec: &MailboxSpec, d: usize) -> DomainInfo {
    let mut rng = Rng::new(spec.seed, SALT_DOMAIN, u64_of(d));
    let name = domain_name(d);
    let p = match rng.below(100) {
        0..45 => ReportedPolicy::None,
        45..70 => ReportedPolicy::Quarantine,
        _ => ReportedPolicy::Reject,
    };
    let sp = if rng.chance(800) {
        p.clone()
    } else {
        ReportedPolicy::None
    };
    let adkim = if rng.chance(900) {
        Alignment::Relaxed
    } else {
        Alignment::Strict
    };
    let aspf = if rng.chance(900) {
        Alignment::Relaxed
    } else {
        Alignment::Strict
    };
    let fo = if rng.chance(700) { "0" } else { "1" };
    // One mailbox provider (Google Workspace, Microsoft 365 or an own MTA), then 0-3 ESPs.
    let mut order: Vec<usize> = vec![rng.below_usize(3)];
    let mut esps: Vec<usize> = (3..ESPS.len()).collect();
    for _ in 0..rng.below(4) {
        if esps.is_empty() {
            break;
        }
        order.push(esps.swap_remove(rng.below_usize(esps.len())));
    }
    let first_label = name.split('.').next().unwrap_or("example").to_owned();
    let mut sources = Vec::new();
    for e in order {
        let Some(esp) = ESPS.get(e) else { continue };
        let selector = match rng.pick(esp.selectors) {
            Some(s) => (*s).to_owned(),
            None => rng.token(32, LOWER_ALNUM),
        };
        let third_party = esp.third_party.map(|t| {
            if t.starts_with('.') {
                format!("{first_label}{t}")
            } else {
                t.to_owned()
            }
        });
        let third_selector = match rng.pick(esp.selectors) {
            Some(s) => (*s).to_owned(),
            None => rng.token(32, LOWER_ALNUM),
        };
        let envelope = match esp.envelope {
            EnvelopeKind::Own => name.clone(),
            EnvelopeKind::Bounce(b) => b.to_owned(),
            EnvelopeKind::Sub(prefix) => format!("{prefix}{}.{name}", rng.range(1000, 9999)),
        };
        for _ in 0..rng.range(esp.ips.0, esp.ips.1) {
            let ip = match esp.v6 {
                Some([a, b, c]) if rng.chance(150) => IpAddr::V6(Ipv6Addr::new(
                    a,
                    b,
                    c,
                    u16_of(rng.next_u64()),
                    0,
                    0,
                    0,
                    u16_of(rng.range(1, 0xfff)),
                )),
                _ => {
                    let net = rng.pick(esp.v4).copied().unwrap_or((192, 0, 2, 2));
                    v4_in(&mut rng, net)
                }
            };
            sources.push(Source {
                esp,
                ip,
                selector: selector.clone(),
                envelope: envelope.clone(),
                third_party: third_party.clone(),
                third_selector: third_selector.clone(),
            });
        }
    }
    let mut forwarders = Vec::new();
    for _ in 0..rng.range(1, 5) {
        if let Some(site) = rng.pick(&FORWARD_SITES) {
            let ip = v4_in(&mut rng, site.v4);
            forwarders.push(Forwarder { site, ip });
        }
    }
    DomainInfo {
        name,
        p,
        sp,
        adkim,
        aspf,
        fo,
        sources,
        forwarders,
    }
}

/// DMARC identifier alignment (RFC 7489 §3.1), with each policy domain taken as its own
/// Organizational Domain (third parties live under `.example`, so this is exact here).
pub(super) fn aligned(id: &str, header_from: &str, mode: &Alignment) -> bool {
    if id == header_from {
        return true;
    }
    if *mode == Alignment::Strict {
        return false;
    }
    let sub_of = |a: &str, b: &str| {
        a.len() > b.len()
            && a.ends_with(b)
            && a.as_bytes().get(a.len() - b.len() - 1) == Some(&b'.')
    };
    sub_of(id, header_from) || sub_of(header_from, id)
}
