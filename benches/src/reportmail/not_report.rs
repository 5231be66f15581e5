//! Messages that are not reports, as a `rua` mailbox receives them: bounces, auto-replies and
//! newsletters.

use std::fmt::Write as _;

use super::dates::rfc5322_date;
use super::message::MX;
use super::plan::plan;
use super::rng::{Rng, SALT_MESSAGE_ID, SALT_OTHER, key, u64_of};
use super::spec::MailboxSpec;

/// A bounce (Postfix DSN), an out-of-office auto-reply or a newsletter, chosen by the seed.
/// None has a part that `mailward_reports::parse` could take for a report: no gzip or zip, and
/// no XML or HTML part mentioning the report's root element name.
pub(super) fn not_a_report(spec: &MailboxSpec, index: usize) -> Vec<u8> {
    let date = plan(spec, index).sent;
    let mut rng = Rng::new(spec.seed, SALT_OTHER, u64_of(index));
    let id = key(spec.seed, SALT_MESSAGE_ID, u64_of(index));
    let rua = &spec.rua;
    let when = rfc5322_date(date, 0, false);
    let queue = rng.token(10, b"0123456789ABCDEF");
    let mut m = format!("Delivered-To: {rua}\r\n");
    match rng.below(3) {
        0 => {
            let n = rng.range(1, 99);
            let rcpt = format!("postmaster@rcpt{n}.example.net");
            let boundary = format!("{queue}.{date}/{MX}");
            let _ = write!(
                m,
                "Return-Path: <>\r\n\
                 Received: by {MX} (Postfix)\r\n\tid {queue}; {when} (UTC)\r\n\
                 Date: {when}\r\n\
                 From: MAILER-DAEMON@{MX} (Mail Delivery System)\r\n\
                 Subject: Undelivered Mail Returned to Sender\r\n\
                 To: {rua}\r\n\
                 Auto-Submitted: auto-replied\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/report; report-type=delivery-status;\r\n\
                 \tboundary=\"{boundary}\"\r\n\
                 Content-Transfer-Encoding: 8bit\r\n\
                 Message-Id: <{id:016x}.{queue}@{MX}>\r\n\
                 \r\n\
                 This is a MIME-encapsulated message.\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Description: Notification\r\n\
                 Content-Type: text/plain; charset=us-ascii\r\n\
                 \r\n\
                 This is the mail system at host {MX}.\r\n\
                 \r\n\
                 I'm sorry to have to inform you that your message could not\r\n\
                 be delivered to one or more recipients. It's attached below.\r\n\
                 \r\n\
                 For further assistance, please send mail to postmaster.\r\n\
                 \r\n\
                 If you do so, please include this problem report. You can\r\n\
                 delete your own text from the attached returned message.\r\n\
                 \r\n\
                 \x20                  The mail system\r\n\
                 \r\n\
                 <{rcpt}>: host mx.rcpt{n}.example.net[198.51.100.{n}] said:\r\n\
                 \x20   550 5.1.1 <{rcpt}>: Recipient address rejected: User\r\n\
                 \x20   unknown in virtual mailbox table (in reply to RCPT TO command)\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Description: Delivery report\r\n\
                 Content-Type: message/delivery-status\r\n\
                 \r\n\
                 Reporting-MTA: dns; {MX}\r\n\
                 X-Postfix-Queue-ID: {queue}\r\n\
                 X-Postfix-Sender: rfc822; {rua}\r\n\
                 Arrival-Date: {when}\r\n\
                 \r\n\
                 Final-Recipient: rfc822; {rcpt}\r\n\
                 Original-Recipient: rfc822;{rcpt}\r\n\
                 Action: failed\r\n\
                 Status: 5.1.1\r\n\
                 Remote-MTA: dns; mx.rcpt{n}.example.net\r\n\
                 Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected:\r\n\
                 \x20   User unknown in virtual mailbox table\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Description: Undelivered Message Headers\r\n\
                 Content-Type: text/rfc822-headers\r\n\
                 \r\n\
                 Return-Path: <{rua}>\r\n\
                 Received: by {MX} (Postfix, from userid 1000)\r\n\tid {queue}; {when} (UTC)\r\n\
                 From: DMARC reports <{rua}>\r\n\
                 To: {rcpt}\r\n\
                 Subject: Re: your DMARC records\r\n\
                 Date: {when}\r\n\
                 Message-Id: <{id:x}.reply@{MX}>\r\n\
                 \r\n\
                 --{boundary}--\r\n"
            );
        }
        1 => {
            let name = rng
                .pick(&["Jane Doe", "John Smith", "Alex Martin", "Sam Lee"])
                .copied()
                .unwrap_or("Jane Doe");
            let user = name.to_ascii_lowercase().replace(' ', ".");
            let back = rfc5322_date(date + rng.range(2, 14) * 86_400, 0, false);
            let _ = write!(
                m,
                "Return-Path: <{user}@example.net>\r\n\
                 Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n\
                 \tby {MX} (Postfix) with ESMTPS id {queue}\r\n\tfor <{rua}>; {when} (UTC)\r\n\
                 From: \"{name}\" <{user}@example.net>\r\n\
                 To: {rua}\r\n\
                 Subject: Automatic reply: Out of office\r\n\
                 Date: {when}\r\n\
                 Message-ID: <{id:016x}@mail.example.net>\r\n\
                 Auto-Submitted: auto-replied\r\n\
                 X-Auto-Response-Suppress: All\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=\"utf-8\"\r\n\
                 Content-Transfer-Encoding: quoted-printable\r\n\
                 \r\n\
                 Hello,\r\n\
                 \r\n\
                 I am out of the office until {back}, with limited access to\r\n\
                 e-mail. For urgent matters please contact helpdesk@example.net.\r\n\
                 \r\n\
                 Best regards,\r\n\
                 {name}\r\n"
            );
        }
        _ => {
            let issue = rng.range(1, 400);
            let boundary = format!(
                "b1_{:032x}",
                u128::from(id) << 64 | u128::from(rng.next_u64())
            );
            let _ = write!(
                m,
                "Return-Path: <bounce-{issue}-{id:x}@news.example.org>\r\n\
                 Received: from out.news.example.org (out.news.example.org [198.51.100.80])\r\n\
                 \tby {MX} (Postfix) with ESMTPS id {queue}\r\n\tfor <{rua}>; {when} (UTC)\r\n\
                 From: \"Example Weekly\" <newsletter@news.example.org>\r\n\
                 To: {rua}\r\n\
                 Subject: Example Weekly #{issue}: what's new in e-mail authentication\r\n\
                 Date: {when}\r\n\
                 Message-ID: <{id:016x}.{issue}@news.example.org>\r\n\
                 List-Unsubscribe: <mailto:unsubscribe-{id:x}@news.example.org>,\r\n\
                 \x20<https://news.example.org/unsubscribe/{id:x}>\r\n\
                 List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
                 Precedence: bulk\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Type: text/plain; charset=us-ascii\r\n\
                 \r\n\
                 Example Weekly, issue {issue}\r\n\
                 \r\n\
                 * Moving from p=none to p=reject in three steps\r\n\
                 * Why your forwarders break SPF, and what ARC does about it\r\n\
                 * Reading aggregate reports without drowning in them\r\n\
                 \r\n\
                 Unsubscribe: https://news.example.org/unsubscribe/{id:x}\r\n\
                 \r\n\
                 --{boundary}\r\n\
                 Content-Type: text/html; charset=us-ascii\r\n\
                 \r\n\
                 <!DOCTYPE html>\r\n\
                 <html><head><title>Example Weekly {issue}</title></head><body>\r\n\
                 <h1>Example Weekly, issue {issue}</h1>\r\n\
                 <ul><li>Moving from p=none to p=reject in three steps</li>\r\n\
                 <li>Why your forwarders break SPF, and what ARC does about it</li>\r\n\
                 <li>Reading aggregate reports without drowning in them</li></ul>\r\n\
                 <p><a href=\"https://news.example.org/unsubscribe/{id:x}\">Unsubscribe</a></p>\r\n\
                 </body></html>\r\n\
                 \r\n\
                 --{boundary}--\r\n"
            );
        }
    }
    m.into_bytes()
}
