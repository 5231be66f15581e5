//! The built-in list of well-known sending services: the data behind
//! [`ServiceMap::builtin`](super::ServiceMap::builtin).

use super::ServiceKind;

/// The built-in entries: a domain, the kind of the service and its name.
///
/// Each service is listed under the domain its own outbound servers' PTR
/// names end in (the comments give the shape of those names), and in a few
/// cases under further domains of its own that its mail infrastructure
/// uses. A domain whose other hosts are not the mail service (a provider's
/// customer servers or subscriber lines) is listed only by the zone of its
/// mail servers. Services that send through another provider's hosts
/// (Atlassian through SparkPost, Braze and Iterable through their ESPs) are
/// found under that provider.
pub(super) const BUILTIN: &[(&str, ServiceKind, &str)] = builtin_entries();

/// The table behind [`BUILTIN`], in a function so that the short kind names
/// stay local to it.
const fn builtin_entries() -> &'static [(&'static str, ServiceKind, &'static str)] {
    use ServiceKind::{Application, Esp, MailboxProvider, Marketing, SecurityGateway};
    &[
        // ---- Mailbox providers ----
        // Gmail and Google Workspace: mail-<x>.google.com.
        ("google.com", MailboxProvider, "Google"),
        ("googlemail.com", MailboxProvider, "Google"),
        // Outlook.com and Microsoft 365: mail-<x>.outbound.protection.outlook.com;
        // older consumer hosts were <x>.hotmail.com.
        (
            "outlook.com",
            MailboxProvider,
            "Microsoft 365 / Outlook.com",
        ),
        (
            "protection.outlook.com",
            MailboxProvider,
            "Microsoft 365 / Outlook.com",
        ),
        (
            "hotmail.com",
            MailboxProvider,
            "Microsoft 365 / Outlook.com",
        ),
        // Yahoo and AOL: <x>.mail.<site>.yahoo.com; older AOL hosts under aol.com.
        ("yahoo.com", MailboxProvider, "Yahoo Mail"),
        ("yahoodns.net", MailboxProvider, "Yahoo Mail"),
        ("aol.com", MailboxProvider, "AOL Mail"),
        // iCloud Mail: <site>p00im-<x>.me.com.
        ("me.com", MailboxProvider, "Apple iCloud Mail"),
        ("icloud.com", MailboxProvider, "Apple iCloud Mail"),
        ("apple.com", MailboxProvider, "Apple"),
        // Fastmail: <x>-smtp.messagingengine.com.
        ("messagingengine.com", MailboxProvider, "Fastmail"),
        ("fastmail.com", MailboxProvider, "Fastmail"),
        // Zoho Mail: sender<n>-<x>.zoho.com, .zoho.eu, .zoho.com.cn.
        ("zoho.com", MailboxProvider, "Zoho Mail"),
        ("zohomail.com", MailboxProvider, "Zoho Mail"),
        ("zoho.eu", MailboxProvider, "Zoho Mail"),
        ("zoho.com.cn", MailboxProvider, "Zoho Mail"),
        // Proton Mail: mail-<n>.protonmail.ch, mail-<n>.mail-europe.com.
        ("protonmail.ch", MailboxProvider, "Proton Mail"),
        ("protonmail.com", MailboxProvider, "Proton Mail"),
        ("proton.me", MailboxProvider, "Proton Mail"),
        ("mail-europe.com", MailboxProvider, "Proton Mail"),
        // GMX, WEB.DE and IONOS (1&1): mout.gmx.net, mout.web.de,
        // mout.kundenserver.de, mout.perfora.net.
        ("gmx.net", MailboxProvider, "GMX"),
        ("gmx.com", MailboxProvider, "GMX"),
        ("web.de", MailboxProvider, "WEB.DE"),
        ("kundenserver.de", MailboxProvider, "IONOS (1&1)"),
        ("perfora.net", MailboxProvider, "IONOS (1&1)"),
        // Yandex Mail: <x>.mail.yandex.net.
        ("yandex.net", MailboxProvider, "Yandex Mail"),
        ("yandex.ru", MailboxProvider, "Yandex Mail"),
        // Mail.ru: smtp<n>.i.mail.ru, fallback<n>.m.smailru.net.
        ("mail.ru", MailboxProvider, "Mail.ru"),
        ("smailru.net", MailboxProvider, "Mail.ru"),
        // Deutsche Telekom: mailout<n>.t-online.de.
        ("t-online.de", MailboxProvider, "Telekom (T-Online)"),
        // Comcast: resqmta-<x>.sys.comcast.net (its subscribers' own lines are
        // elsewhere under comcast.net, so only the mail servers' zone is listed).
        ("sys.comcast.net", MailboxProvider, "Comcast (Xfinity)"),
        // Free: smtp<n>-<x>.free.fr.
        ("free.fr", MailboxProvider, "Free"),
        // Posteo, mailbox.org, Tuta: mout<n>.posteo.de, mout-<x>.mailbox.org,
        // w<n>.tutanota.de.
        ("posteo.de", MailboxProvider, "Posteo"),
        ("mailbox.org", MailboxProvider, "mailbox.org"),
        ("tutanota.de", MailboxProvider, "Tuta"),
        // Hosted mailboxes: GoDaddy (<x>.prod.<site>.secureserver.net), Rackspace
        // (smtp<n>.<site>.emailsrvr.com) and OVHcloud (mo<n>.mail-out.ovh.net;
        // the rest of ovh.net is customers' servers).
        ("secureserver.net", MailboxProvider, "GoDaddy"),
        ("emailsrvr.com", MailboxProvider, "Rackspace Email"),
        ("mail-out.ovh.net", MailboxProvider, "OVHcloud Email"),
        // ---- Email service providers ----
        // Amazon SES: <x>.smtp-out.amazonses.com.
        ("amazonses.com", Esp, "Amazon SES"),
        // SendGrid: o<n>.outbound-mail.sendgrid.net and similar.
        ("sendgrid.net", Esp, "SendGrid"),
        // Mailgun: m<n>-<n>.mailgun.net, so<n>-<n>.mailgun.net.
        ("mailgun.net", Esp, "Mailgun"),
        ("mailgun.org", Esp, "Mailgun"),
        // SparkPost: mta-<n>-<n>.sparkpostmail.com.
        ("sparkpostmail.com", Esp, "SparkPost"),
        // Postmark: mta<n>-<site>.mtasv.net.
        ("mtasv.net", Esp, "Postmark"),
        ("postmarkapp.com", Esp, "Postmark"),
        // Mailjet: o<n>.p<n>.mailjet.com.
        ("mailjet.com", Esp, "Mailjet"),
        // Brevo (formerly Sendinblue): <x>.d.sender-sib.com.
        ("sender-sib.com", Esp, "Brevo (Sendinblue)"),
        ("sendinblue.com", Esp, "Brevo (Sendinblue)"),
        ("brevo.com", Esp, "Brevo (Sendinblue)"),
        // Mandrill (Mailchimp Transactional): mail<n>.<site>.mandrillapp.com.
        ("mandrillapp.com", Esp, "Mandrill"),
        // SocketLabs: <x>.socketlabs.email-od.com.
        ("email-od.com", Esp, "SocketLabs"),
        ("socketlabs.com", Esp, "SocketLabs"),
        // Elastic Email: <x>.mxout.mta<n>.net.
        ("elasticemail.com", Esp, "Elastic Email"),
        ("mta1.net", Esp, "Elastic Email"),
        ("mta2.net", Esp, "Elastic Email"),
        ("mta3.net", Esp, "Elastic Email"),
        ("mta4.net", Esp, "Elastic Email"),
        // SMTP2GO: <x>.smtp2go.com.
        ("smtp2go.com", Esp, "SMTP2GO"),
        // MailChannels, the outbound relay of many web hosts:
        // <x>.<x>.relay.mailchannels.net.
        ("mailchannels.net", Esp, "MailChannels"),
        // ---- Marketing platforms ----
        // Mailchimp: mail<n>.<site>.mcsv.net, .rsgsv.net, .mcdlv.net.
        ("mcsv.net", Marketing, "Mailchimp"),
        ("rsgsv.net", Marketing, "Mailchimp"),
        ("mcdlv.net", Marketing, "Mailchimp"),
        // Salesforce Marketing Cloud (ExactTarget): <x>.mta.exacttarget.com.
        ("exacttarget.com", Marketing, "Salesforce Marketing Cloud"),
        // HubSpot: <x>.<x>.hubspotemail.net.
        ("hubspotemail.net", Marketing, "HubSpot"),
        // Klaviyo: o<n>.shared.klaviyomail.com.
        ("klaviyomail.com", Marketing, "Klaviyo"),
        // Constant Contact: ccm<n>.constantcontact.com.
        ("constantcontact.com", Marketing, "Constant Contact"),
        // Campaign Monitor: mx<n>.<x>.outbound.createsend.com.
        ("createsend.com", Marketing, "Campaign Monitor"),
        // Marketo (Adobe): its shared sending domain.
        ("mktomail.com", Marketing, "Marketo"),
        // ActiveCampaign: mail<n>.<site>.acemsrvh.com; acems1.com is its MTA's
        // own domain.
        ("acemsrvh.com", Marketing, "ActiveCampaign"),
        ("acems1.com", Marketing, "ActiveCampaign"),
        // Customer.io: o<n>.delivery.customeriomail.com.
        ("customeriomail.com", Marketing, "Customer.io"),
        // ---- Security gateways ----
        // Proofpoint: mx0<x>-<id>.pphosted.com; Essentials:
        // dispatch<n>-<region>.ppe-hosted.com.
        ("pphosted.com", SecurityGateway, "Proofpoint"),
        ("ppe-hosted.com", SecurityGateway, "Proofpoint Essentials"),
        // Mimecast: <region>-smtp-<x>.mimecast.com, za-smtp-<x>.mimecast.co.za.
        ("mimecast.com", SecurityGateway, "Mimecast"),
        ("mimecast.co.za", SecurityGateway, "Mimecast"),
        // Broadcom (Symantec) Email Security.cloud: mail<n>.bemta<n>.messagelabs.com.
        (
            "messagelabs.com",
            SecurityGateway,
            "Broadcom Email Security.cloud",
        ),
        // Barracuda: outbound-ip<x>.ess.barracuda.com, <x>.ess.barracudanetworks.com,
        // <x>.ess.aws.cudaops.com.
        (
            "barracuda.com",
            SecurityGateway,
            "Barracuda Email Protection",
        ),
        (
            "barracudanetworks.com",
            SecurityGateway,
            "Barracuda Email Protection",
        ),
        (
            "ess.barracudanetworks.com",
            SecurityGateway,
            "Barracuda Email Protection",
        ),
        ("cudaops.com", SecurityGateway, "Barracuda Email Protection"),
        // Cisco Secure Email (IronPort) cloud: esa<n>.<customer>.iphmx.com.
        ("iphmx.com", SecurityGateway, "Cisco Secure Email"),
        // Trend Micro Email Security: <x>.tmes.trendmicro.com, .tmes.trendmicro.eu.
        ("trendmicro.com", SecurityGateway, "Trend Micro"),
        (
            "tmes.trendmicro.com",
            SecurityGateway,
            "Trend Micro Email Security",
        ),
        ("trendmicro.eu", SecurityGateway, "Trend Micro"),
        (
            "tmes.trendmicro.eu",
            SecurityGateway,
            "Trend Micro Email Security",
        ),
        // Sophos Email: <x>.prod.hydra.sophos.com.
        ("sophos.com", SecurityGateway, "Sophos Email"),
        // Hornetsecurity: mx-relay<n>-<site>.antispameurope.com.
        ("hornetsecurity.com", SecurityGateway, "Hornetsecurity"),
        ("antispameurope.com", SecurityGateway, "Hornetsecurity"),
        // Forcepoint Email Security: cluster-<x>.mailcontrol.com.
        (
            "mailcontrol.com",
            SecurityGateway,
            "Forcepoint Email Security",
        ),
        // AppRiver (Zix, now OpenText): server<n>.appriver.com.
        ("appriver.com", SecurityGateway, "AppRiver"),
        // N-able Mail Assure (SpamExperts): out<n>-<n>.antispamcloud.com.
        (
            "antispamcloud.com",
            SecurityGateway,
            "N-able Mail Assure (SpamExperts)",
        ),
        // Check Point Harmony Email (Avanan): <region>-dlp.cloud-sec-av.com.
        (
            "cloud-sec-av.com",
            SecurityGateway,
            "Check Point Harmony Email (Avanan)",
        ),
        // ---- Applications sending their own notifications ----
        // Zendesk: mta-out<n>.pod<n>.<site>.zdsys.com.
        ("zdsys.com", Application, "Zendesk"),
        ("zendesk.com", Application, "Zendesk"),
        // Salesforce: smtp<n>-<site>.mta.salesforce.com.
        ("salesforce.com", Application, "Salesforce"),
        // Freshworks (Freshdesk): mail-<x>.freshemail.io.
        ("freshemail.io", Application, "Freshworks (Freshdesk)"),
        ("freshdesk.com", Application, "Freshworks (Freshdesk)"),
        // GitHub: out-<n>.smtp.github.com.
        ("github.com", Application, "GitHub"),
        // LinkedIn: mail<x>.linkedin.com.
        ("linkedin.com", Application, "LinkedIn"),
        // Facebook: <ip>.mail-mail.facebook.com.
        ("facebook.com", Application, "Facebook"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{ServiceMap, is_plausible_domain, normalize};

    #[test]
    fn builtin_table_is_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for &(domain, _, name) in BUILTIN {
            // Keys are looked up normalized, so they must be stored that way.
            assert_eq!(normalize(domain), domain, "{domain} is not normalized");
            assert!(is_plausible_domain(domain), "{domain} is not plausible");
            assert!(!name.is_empty() && name.trim() == name, "bad name {name:?}");
            assert!(seen.insert(domain), "{domain} is listed twice");
        }
        let map = ServiceMap::builtin();
        assert_eq!(map.len(), BUILTIN.len());
        // The brief asks for a list of roughly 60 to 120 well-known services.
        assert!((60..=120).contains(&map.len()), "{} entries", map.len());
        // Every kind but `Other` is used by some built-in entry.
        for kind in ServiceKind::ALL {
            let used = BUILTIN.iter().any(|&(_, k, _)| k == kind);
            assert_eq!(used, kind != ServiceKind::Other, "{kind:?}");
        }
    }
}
