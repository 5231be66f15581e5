//! Reporter profiles and the per-message plan: who reports message `index`, on which domain
//! and period, and when it is sent.

use super::rng::{Rng, SALT_DUPLICATE, SALT_PLAN, u8_of, u64_of, usize_of};
use super::spec::{Container, MailboxSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Profile {
    Google,
    MsEnterprise,
    OutlookCom,
    Yahoo,
    SmallOctet,
    SmallZip,
    SmallXml,
}

/// Shares in per mille: gzip 150 + 80 + 120 + 100 = 450, zip 300 + 50 = 350, XML 200.
const PROFILE_WEIGHTS: [(Profile, u64); 7] = [
    (Profile::Google, 300),
    (Profile::MsEnterprise, 150),
    (Profile::OutlookCom, 80),
    (Profile::Yahoo, 120),
    (Profile::SmallOctet, 100),
    (Profile::SmallZip, 50),
    (Profile::SmallXml, 200),
];

/// Instances of each small-receiver profile.
const SMALL_INSTANCES: u64 = 48;

impl Profile {
    pub(super) fn container(self) -> Container {
        match self {
            Self::Google | Self::SmallZip => Container::Zip,
            Self::MsEnterprise | Self::OutlookCom | Self::Yahoo | Self::SmallOctet => {
                Container::Gzip
            }
            Self::SmallXml => Container::Xml,
        }
    }

    pub(super) fn is_small(self) -> bool {
        matches!(self, Self::SmallOctet | Self::SmallZip | Self::SmallXml)
    }
}

/// How a reporter cuts its periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Clock {
    Utc,
    /// Local midnight to local midnight; the offset east of UTC in hours.
    Local(i64),
    /// 48 hours from a UTC midnight.
    TwoDays,
}

/// Message-level choices of one index.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) profile: Profile,
    pub(super) instance: u64,
    pub(super) domain: usize,
    pub(super) begin: u64,
    pub(super) end: u64,
    /// `Date:` of the first delivery.
    pub(super) sent: u64,
}

pub(super) fn plan(spec: &MailboxSpec, index: usize) -> Plan {
    let mut rng = Rng::new(spec.seed, SALT_PLAN, u64_of(index));
    let roll = rng.below(1000);
    let mut acc = 0;
    let mut profile = Profile::SmallXml;
    for (p, w) in PROFILE_WEIGHTS {
        acc += w;
        if roll < acc {
            profile = p;
            break;
        }
    }
    let instance = if profile.is_small() {
        rng.below(SMALL_INSTANCES)
    } else {
        0
    };
    // Lower-numbered domains get more reports (min of two uniforms: a triangular skew).
    let n = spec.domains.max(1);
    let domain = rng.below_usize(n).min(rng.below_usize(n));
    let days = u128::from(spec.days.max(1));
    let offset = u128::from(u64_of(index)) * days / u128::from(u64_of(spec.messages.max(1)));
    let day = spec
        .start_day
        .saturating_add(u64::try_from(offset).unwrap_or(0));
    let midnight = day.saturating_mul(86_400);
    let (begin, end) = match clock(profile, instance) {
        Clock::Utc => (midnight, midnight + 86_399),
        Clock::Local(hours) => {
            let shift = hours.unsigned_abs() * 3600;
            let begin = if hours > 0 {
                midnight.saturating_sub(shift)
            } else {
                midnight.saturating_add(shift)
            };
            (begin, begin + 86_399)
        }
        Clock::TwoDays => (midnight, midnight + 2 * 86_400 - 1),
    };
    let delay = match profile {
        Profile::Google => rng.range(600, 8 * 3600),
        Profile::MsEnterprise | Profile::OutlookCom => rng.range(3600, 20 * 3600),
        Profile::Yahoo => rng.range(60, 4 * 3600),
        Profile::SmallOctet | Profile::SmallZip | Profile::SmallXml => rng.range(300, 2 * 3600),
    };
    Plan {
        profile,
        instance,
        domain,
        begin,
        end,
        sent: end + 1 + delay,
    }
}

pub(super) fn clock(profile: Profile, instance: u64) -> Clock {
    const ZONES: [i64; 7] = [3, 8, -5, 9, -3, 2, -8];
    if !profile.is_small() {
        return Clock::Utc;
    }
    match instance % 14 {
        4 => Clock::Local(
            ZONES
                .get(usize_of((instance / 14) % 7))
                .copied()
                .unwrap_or(3),
        ),
        11 => Clock::TwoDays,
        _ => Clock::Utc,
    }
}

/// The `Date:` of a re-delivery: 1 to 36 hours after the original's.
pub(super) fn resent_date(spec: &MailboxSpec, of: usize, index: usize) -> u64 {
    let mut rng = Rng::new(spec.seed, SALT_DUPLICATE, u64_of(index));
    plan(spec, of).sent + rng.range(3600, 36 * 3600)
}

/// Who a profile instance is.
#[derive(Debug, Clone)]
pub(super) struct Reporter {
    pub(super) org_name: String,
    pub(super) email: String,
    pub(super) extra_contact_info: Option<String>,
    /// The Mail Receiver's domain: `Submitter:` and the file name's first part.
    pub(super) submitter: String,
    /// `From:` header value.
    pub(super) from: String,
    /// Bare sender address (Return-Path).
    pub(super) sender: String,
    /// Host named in the `Received:` line.
    pub(super) relay: String,
    /// First two octets and the third-octet range of the relay's address.
    pub(super) relay_net: (u8, u8, u8, u8),
}

pub(super) fn reporter(profile: Profile, instance: u64) -> Reporter {
    match profile {
        Profile::Google => Reporter {
            org_name: "google.com".into(),
            email: "noreply-dmarc-support@google.com".into(),
            extra_contact_info: Some("https://support.google.com/a/answer/2466580".into()),
            submitter: "google.com".into(),
            from: "noreply-dmarc-support@google.com".into(),
            sender: "noreply-dmarc-support@google.com".into(),
            relay: "mail-sor-f69.google.com".into(),
            relay_net: (209, 85, 220, 220),
        },
        Profile::MsEnterprise => Reporter {
            org_name: "Enterprise Outlook".into(),
            email: "dmarcreport@microsoft.com".into(),
            extra_contact_info: None,
            submitter: "protection.outlook.com".into(),
            from: "DMARC Aggregate Report <dmarcreport@microsoft.com>".into(),
            sender: "dmarcreport@microsoft.com".into(),
            relay: "mail-eopbgr-outbound.protection.outlook.com".into(),
            relay_net: (40, 107, 0, 255),
        },
        Profile::OutlookCom => Reporter {
            org_name: "Outlook.com".into(),
            email: "dmarcreport@microsoft.com".into(),
            extra_contact_info: None,
            submitter: "outlook.com".into(),
            from: "dmarcreport@microsoft.com".into(),
            sender: "dmarcreport@microsoft.com".into(),
            relay: "mail-oln040092.outbound.protection.outlook.com".into(),
            relay_net: (40, 92, 0, 255),
        },
        Profile::Yahoo => Reporter {
            org_name: "Yahoo".into(),
            email: "dmarchelp@yahooinc.com".into(),
            extra_contact_info: None,
            submitter: "yahoo.com".into(),
            from: "Yahoo DMARC Report <noreply@dmarc.yahoo.com>".into(),
            sender: "noreply@dmarc.yahoo.com".into(),
            relay: "sonic.gate.mail.ne1.yahoo.com".into(),
            relay_net: (98, 137, 0, 255),
        },
        Profile::SmallOctet | Profile::SmallZip | Profile::SmallXml => {
            let host = match profile {
                Profile::SmallOctet => format!("mta{instance}.example.net"),
                Profile::SmallZip => format!("mx{instance}.example.org"),
                _ => format!("relay{instance}.example.com"),
            };
            let third = u8_of(instance);
            Reporter {
                org_name: host.clone(),
                email: format!("dmarc-noreply@{host}"),
                extra_contact_info: None,
                submitter: host.clone(),
                from: format!("DMARC Reporter <dmarc-noreply@{host}>"),
                sender: format!("dmarc-noreply@{host}"),
                relay: host,
                relay_net: (203, 0, 113, third),
            }
        }
    }
}

pub(super) fn is_rfc9990(profile: Profile, instance: u64) -> bool {
    match profile {
        Profile::OutlookCom => true,
        Profile::SmallXml => instance.is_multiple_of(2),
        _ => false,
    }
}
