//! Report messages: trace headers, the reporter's headers, the body and the attachment
//! (gzip, zip or XML) in the layout of each profile.

use std::fmt::Write as _;
use std::io::{self, Write as _};

use base64::Engine as _;
use mailward_reports::ReportEmail;

use super::dates::{civil_time, iso_time, pacific_offset, rfc5322_date};
use super::domains::v4_in;
use super::plan::{Clock, Profile, Reporter, clock, plan, reporter, resent_date};
use super::records::build_report;
use super::rng::{
    BASE64_ALPHABET, Rng, SALT_ENVELOPE, SALT_MESSAGE_ID, SALT_REPORT_ID, key, u64_of, usize_of,
};
use super::spec::{Container, MailboxSpec};
use super::xml::render_xml;

/// The receiving MX that delivers into the mailbox.
pub(super) const MX: &str = "mx.example.com";

pub(super) fn report_message(spec: &MailboxSpec, content: usize, message: usize) -> Vec<u8> {
    let plan = plan(spec, content);
    let report = build_report(spec, &plan, content);
    let info = reporter(plan.profile, plan.instance);
    let date = if content == message {
        plan.sent
    } else {
        resent_date(spec, content, message)
    };
    let mut env = Rng::new(spec.seed, SALT_ENVELOPE, u64_of(message));
    let msg_key = key(spec.seed, SALT_MESSAGE_ID, u64_of(message));
    let domain = &report.policy_published.domain;
    let rid = report.report_metadata.report_id.clone();
    let range = report.report_metadata.date_range;
    let stem = format!("{}!{domain}!{}!{}", info.submitter, range.begin, range.end);
    // The big providers sign their reports (a dummy signature of the real size).
    let signed = !plan.profile.is_small();
    let mut m = trace_headers(spec, &info, date, signed, &mut env);
    if signed {
        push_dkim_signature(&mut m, &info, date, &mut env);
    }
    if plan.profile == Profile::OutlookCom {
        // The crate's own writer. Its report ids carry no '@', so it writes no Message-ID;
        // this one (unique per delivery) goes after the trace headers.
        let _ = write!(
            m,
            "Message-ID: <{msg_key:016x}.{:08x}@outlook.com>\r\n",
            env.next_u64() >> 32
        );
        let email = ReportEmail {
            from: info.from.clone(),
            to: spec.rua.clone(),
            submitter: info.submitter.clone(),
            date: rfc5322_date(date, 0, false),
            // RFC 9990 §3.5.2's unique-id in the file name: per report, so a re-delivery
            // carries the same attachment.
            unique_id: Some(format!(
                "{:08x}",
                key(spec.seed, SALT_REPORT_ID, u64_of(content)) >> 32
            )),
            gzip: true,
        };
        let mut out = m.into_bytes();
        out.extend_from_slice(&mailward_reports::to_email(&report, &email));
        return out;
    }
    let xml = render_xml(&report, plan.profile);

    // The attachment.
    let (data, content_type, file_name) = match plan.profile.container() {
        Container::Gzip => {
            let ct = if plan.profile == Profile::SmallOctet {
                "application/octet-stream"
            } else {
                "application/gzip"
            };
            (
                mailward_reports::gzip(xml.as_bytes()),
                ct,
                format!("{stem}.xml.gz"),
            )
        }
        Container::Zip => {
            let ct = if plan.profile == Profile::Google {
                "application/zip"
            } else {
                "application/x-zip-compressed"
            };
            (
                zip_one(&format!("{stem}.xml"), xml.as_bytes(), plan.end + 1),
                ct,
                format!("{stem}.zip"),
            )
        }
        Container::Xml => {
            let ct = if plan.instance.is_multiple_of(2) {
                "text/xml"
            } else {
                "application/xml"
            };
            (xml.into_bytes(), ct, format!("{stem}.xml"))
        }
    };

    // Reporter headers.
    let (offset, pad_day) = match plan.profile {
        Profile::Google => (pacific_offset(date), true),
        Profile::SmallOctet | Profile::SmallZip | Profile::SmallXml => {
            match clock(plan.profile, plan.instance) {
                Clock::Local(h) => (h * 60, false),
                _ => (0, false),
            }
        }
        _ => (0, false),
    };
    let date_header = rfc5322_date(date, offset, pad_day);
    let subject_domain_word = if plan.profile == Profile::Google {
        "domain"
    } else {
        "Domain"
    };
    let rid_shown = if plan.profile == Profile::Yahoo {
        format!("<{rid}>")
    } else {
        rid.clone()
    };
    let subject = fold(&format!(
        "Subject: Report {subject_domain_word}: {domain} Submitter: {} Report-ID: {rid_shown}",
        info.submitter
    ));
    let message_id = match plan.profile {
        Profile::Google => format!("<{msg_key}@google.com>"),
        Profile::MsEnterprise => format!(
            "<{msg_key:016x}{:08x}@{}PR{:02}MB{:04}.namprd{:02}.prod.outlook.example>",
            env.next_u64() >> 32,
            ["SN", "BN", "CO", "DM"]
                .get(usize_of(env.below(4)))
                .copied()
                .unwrap_or("SN"),
            env.range(1, 20),
            env.range(1000, 9999),
            env.range(1, 20)
        ),
        Profile::Yahoo => format!("<{msg_key}.{}@dmarc.yahoo.com>", date),
        _ => format!("<{msg_key:016x}@{}>", info.submitter),
    };
    let reporter_headers = |m: &mut String| {
        let _ = write!(m, "MIME-Version: 1.0\r\n");
        let _ = write!(m, "Date: {date_header}\r\n");
        let _ = write!(m, "Message-ID: {message_id}\r\n");
        m.push_str(&subject);
        let _ = write!(m, "From: {}\r\n", info.from);
        let _ = write!(m, "To: {}\r\n", spec.rua);
    };
    reporter_headers(&mut m);
    let attachment_headers = format!(
        "Content-Type: {content_type};\r\n\tname=\"{file_name}\"\r\n\
         Content-Disposition: attachment;\r\n\tfilename=\"{file_name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n"
    );
    let multipart = match plan.profile {
        Profile::Yahoo => false,
        Profile::SmallZip => plan.instance.is_multiple_of(2),
        Profile::SmallXml => !plan.instance.is_multiple_of(3),
        _ => true,
    };
    if multipart {
        let boundary = match plan.profile {
            Profile::Google => format!("000000000000{:016x}", env.next_u64() >> 8),
            Profile::MsEnterprise => format!(
                "_004_{}_",
                env.token(40, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            ),
            _ => format!(
                "----=_Part_{}_{}",
                env.range(1, 99_999),
                env.next_u64() >> 20
            ),
        };
        let _ = write!(
            m,
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
        );
        let text = match plan.profile {
            Profile::Google => String::new(),
            Profile::MsEnterprise => format!(
                "This is a DMARC aggregate report from Microsoft Corporation. For Emails received \
                 between {} UTC to {} UTC.\r\n\r\nYou're receiving this email because you have \
                 included your email address in the 'rua' tag of your DMARC record in DNS for \
                 {domain}. Please remove your email address from the 'rua' tag if you don't want \
                 to receive this email.\r\n",
                iso_time(range.begin),
                iso_time(range.end + 1)
            ),
            _ => format!(
                "This is an aggregate report for {domain} from {}, period {} to {} UTC.\r\n",
                info.submitter,
                iso_time(range.begin),
                iso_time(range.end)
            ),
        };
        let text_type = if plan.profile == Profile::Google {
            "text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes"
        } else {
            "text/plain; charset=\"us-ascii\""
        };
        let _ = write!(
            m,
            "--{boundary}\r\nContent-Type: {text_type}\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{}\r\n",
            fold_text(&text)
        );
        let _ = write!(m, "--{boundary}\r\n{attachment_headers}\r\n");
        push_base64(&mut m, &data);
        let _ = write!(m, "--{boundary}--\r\n");
    } else {
        m.push_str(&attachment_headers);
        m.push_str("\r\n");
        push_base64(&mut m, &data);
    }
    m.into_bytes()
}

/// The headers the delivering MTA puts on top: `Return-Path`, `Delivered-To`, `Received` and
/// `Authentication-Results`.
fn trace_headers(
    spec: &MailboxSpec,
    info: &Reporter,
    date: u64,
    signed: bool,
    rng: &mut Rng,
) -> String {
    let ip = v4_in(rng, info.relay_net);
    let queue = rng.token(12, b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz");
    let received = date + rng.range(2, 90);
    let sender_domain = info.sender.rsplit('@').next().unwrap_or("example.net");
    let dkim = if signed {
        format!("dkim=pass header.d={sender_domain}")
    } else {
        "dkim=none".to_owned()
    };
    format!(
        "Return-Path: <{sender}>\r\n\
         Delivered-To: {rua}\r\n\
         Received: from {relay} ({relay} [{ip}])\r\n\
         \tby {MX} (Postfix) with ESMTPS id {queue}\r\n\
         \tfor <{rua}>; {when}\r\n\
         Authentication-Results: {MX};\r\n\
         \t{dkim};\r\n\
         \tspf=pass smtp.mailfrom={sender_domain};\r\n\
         \tdmarc=pass header.from={sender_domain}\r\n",
        sender = info.sender,
        rua = spec.rua,
        relay = info.relay,
        when = rfc5322_date(received, 0, false) + " (UTC)",
    )
}

/// A `DKIM-Signature` with the shape of a real RSA-2048 one (random `bh=` and `b=`); nothing
/// verifies it, it only gives the header block its real size.
fn push_dkim_signature(m: &mut String, info: &Reporter, date: u64, rng: &mut Rng) {
    let d = info.sender.rsplit('@').next().unwrap_or("example.net");
    let s = match d {
        "google.com" => "20230601",
        "microsoft.com" => "selector2",
        _ => "s2048",
    };
    let bh = rng.token(43, BASE64_ALPHABET);
    let b = rng.token(342, BASE64_ALPHABET) + "==";
    let _ = write!(
        m,
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s={s};\r\n\
         \tt={date}; h=to:subject:message-id:date:from:mime-version;\r\n\
         \tbh={bh}=;\r\n\tb="
    );
    let bytes = b.as_bytes();
    for (i, chunk) in bytes.chunks(70).enumerate() {
        if i > 0 {
            m.push_str("\r\n\t ");
        }
        m.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    m.push_str("\r\n");
}

/// A header line folded (RFC 5322 §2.2.3) before ` Submitter:` and ` Report-ID:` when longer
/// than 78 characters; ends with CRLF.
fn fold(line: &str) -> String {
    let mut out = line.to_owned();
    for marker in [" Submitter:", " Report-ID:"] {
        let last_len = out.rsplit("\r\n").next().map_or(0, str::len);
        if last_len > 78
            && let Some(pos) = out.rfind(marker)
        {
            out.insert_str(pos, "\r\n");
        }
    }
    out.push_str("\r\n");
    out
}

/// Wraps text lines at 76 columns on spaces (RFC 5322 §2.1.1's 78-character recommendation).
fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let mut col = 0;
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                if col + 1 + word.len() > 76 {
                    out.push_str("\r\n");
                    col = 0;
                } else {
                    out.push(' ');
                    col += 1;
                }
            }
            out.push_str(word);
            col += word.len();
        }
    }
    out
}

/// Base64 (RFC 2045 §6.8) in 76-character lines, each ended by CRLF.
fn push_base64(out: &mut String, data: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    out.reserve(b64.len() + b64.len() / 76 * 2 + 2);
    for line in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
}

/// A zip archive holding one deflated file, stamped `mtime` (deterministic).
fn zip_one(name: &str, data: &[u8], mtime: u64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil_time(mtime);
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(y).unwrap_or(1980),
        u8::try_from(mo).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
        u8::try_from(h).unwrap_or(0),
        u8::try_from(mi).unwrap_or(0),
        u8::try_from(s).unwrap_or(0),
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp);
    let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let written = w.start_file(name, options).is_ok() && w.write_all(data).is_ok();
    match w.finish() {
        Ok(cursor) if written => cursor.into_inner(),
        _ => Vec::new(),
    }
}
