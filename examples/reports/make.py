#!/usr/bin/env python3
"""Writes the bundled example reports (deterministic; run from anywhere).

One policy domain, example.com at p=none, seen by four receivers over three days
(2026-11-02 .. 2026-11-04 UTC). The traffic is made up but has the shape a postmaster meets:

- 192.0.2.10 and 192.0.2.11, the domain's own servers: DKIM and SPF aligned, pass;
- 198.51.100.20, an ESP sending newsletters with its own DKIM domain and bounce domain:
  DKIM and SPF pass but neither aligns, so DMARC fails (legitimate but unaligned);
- 2001:db8::25, a mailing list that rewrites the message: DKIM broken, SPF fails;
- 203.0.113.50-55, forgers: nothing passes.

Containers as real receivers send them: a Google-style e-mail with a zip attachment in the
RFC 7489 schema, a Microsoft-style e-mail with a gzip attachment in the RFC 9990 schema, a
Yahoo-style gzip e-mail, a plain XML file from a small receiver, a second delivery of one
report in another e-mail (a duplicate), a report whose period spans two days (a receiver
that reports in its local time), and a bounce that landed in the rua mailbox (not a report).
"""
import base64
import gzip
import io
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DAY = 86400
D = {2: 1793577600, 3: 1793664000, 4: 1793750400}  # 2026-11-02/03/04 00:00:00 UTC

# (ip, count, disposition, dkim_aligned, spf_aligned, dkim (d, s, result), spf (domain, result), reason)
def traffic(day, scale):
    own = [("192.0.2.10", 120 * scale + day, "none", "pass", "pass", ("example.com", "sel1", "pass"), ("example.com", "pass"), None),
           ("192.0.2.11", 80 * scale + day, "none", "pass", "pass", ("example.com", "sel1", "pass"), ("example.com", "pass"), None)]
    esp = [("198.51.100.20", 40 * scale, "none", "fail", "fail", ("sendgrid.net", "s1", "pass"), ("bounces.sendgrid.net", "pass"), None)]
    lst = [("2001:db8::25", 6 + day, "none", "fail", "fail", ("example.com", "sel1", "fail"), ("lists.example.org", "pass"), "mailing_list")]
    forged = [(f"203.0.113.{50 + i}", 1 + (i + day) % 3, "none", "fail", "fail", None, ("example.com", "fail"), None) for i in range(day + 2)]
    return own + esp + lst + forged

def rfc9990(org, email, rid, begin, end, records, p="none"):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">', '<version>1.0</version>',
           f'<report_metadata><org_name>{org}</org_name><email>{email}</email><report_id>{rid}</report_id>'
           f'<date_range><begin>{begin}</begin><end>{end}</end></date_range></report_metadata>',
           f'<policy_published><domain>example.com</domain><discovery_method>treewalk</discovery_method><p>{p}</p><sp>{p}</sp><np>{p}</np>'
           '<adkim>r</adkim><aspf>r</aspf><testing>n</testing></policy_published>']
    for ip, n, disp, dk, sp, dkim, spf, reason in records:
        r = f'<record><row><source_ip>{ip}</source_ip><count>{n}</count><policy_evaluated><disposition>{disp}</disposition><dkim>{dk}</dkim><spf>{sp}</spf>'
        if reason:
            r += f'<reason><type>{reason}</type></reason>'
        r += '</policy_evaluated></row><identifiers><header_from>example.com</header_from>'
        r += f'<envelope_from>{spf[0]}</envelope_from></identifiers><auth_results>'
        if dkim:
            r += f'<dkim><domain>{dkim[0]}</domain><selector>{dkim[1]}</selector><result>{dkim[2]}</result></dkim>'
        r += f'<spf><domain>{spf[0]}</domain><scope>mfrom</scope><result>{spf[1]}</result></spf></auth_results></record>'
        out.append(r)
    out.append('</feedback>\n')
    return "\n".join(out).encode()

def rfc7489(org, email, rid, begin, end, records):
    out = ['<?xml version="1.0" encoding="UTF-8" ?>', '<feedback>',
           f'  <report_metadata>\n    <org_name>{org}</org_name>\n    <email>{email}</email>\n    <report_id>{rid}</report_id>\n'
           f'    <date_range>\n      <begin>{begin}</begin>\n      <end>{end}</end>\n    </date_range>\n  </report_metadata>',
           '  <policy_published>\n    <domain>example.com</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n    <pct>100</pct>\n  </policy_published>']
    for ip, n, disp, dk, sp, dkim, spf, reason in records:
        r = f'  <record>\n    <row>\n      <source_ip>{ip}</source_ip>\n      <count>{n}</count>\n      <policy_evaluated>\n        <disposition>{disp}</disposition>\n        <dkim>{dk}</dkim>\n        <spf>{sp}</spf>\n'
        if reason:
            r += f'        <reason>\n          <type>{reason}</type>\n        </reason>\n'
        r += '      </policy_evaluated>\n    </row>\n    <identifiers>\n      <header_from>example.com</header_from>\n    </identifiers>\n    <auth_results>\n'
        if dkim:
            r += f'      <dkim>\n        <domain>{dkim[0]}</domain>\n        <result>{dkim[2]}</result>\n        <selector>{dkim[1]}</selector>\n      </dkim>\n'
        r += f'      <spf>\n        <domain>{spf[0]}</domain>\n        <result>{spf[1]}</result>\n      </spf>\n    </auth_results>\n  </record>'
        out.append(r)
    out.append('</feedback>\n')
    return "\n".join(out).encode()

def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()

def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, date_time=(2026, 11, 5, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
    return buf.getvalue()

def mail(sender, subject, msgid, date, ctype, fname, payload, text_part=True):
    b64 = base64.b64encode(payload).decode()
    body = "\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
    head = (f"Return-Path: <{sender}>\r\nFrom: {sender}\r\nTo: dmarc-rua@example.com\r\n"
            f"Subject: {subject}\r\nDate: {date}\r\nMessage-ID: <{msgid}>\r\nMIME-Version: 1.0\r\n")
    att = (f"Content-Type: {ctype}; name=\"{fname}\"\r\nContent-Disposition: attachment; filename=\"{fname}\"\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n")
    if not text_part:
        return (head + att).encode()
    return (head + "Content-Type: multipart/mixed; boundary=\"==b==\"\r\n\r\n"
            "--==b==\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is an aggregate report from the receiver.\r\n"
            f"--==b==\r\n{att}--==b==--\r\n").encode()

def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)

def main():
    for day in (2, 3, 4):
        b, e = D[day], D[day] + DAY - 1
        # Google-style: zip attachment, RFC 7489 schema, report id a long number.
        rid = f"1{day:02d}4827730112{day}"
        xml = rfc7489("google.com", "noreply-dmarc-support@google.com", rid, b, e, traffic(day, 3))
        name = f"google.com!example.com!{b}!{e}"
        write(f"google-{day}.eml", mail("noreply-dmarc-support@google.com",
              f"Report domain: example.com Submitter: google.com Report-ID: {rid}",
              f"{rid}@google.com", f"Thu, 0{day + 3} Nov 2026 08:0{day}:11 -0800", "application/zip",
              name + ".zip", zipped(name + ".xml", xml), text_part=False))
        # Microsoft-style: gzip attachment, RFC 9990 schema, a GUID-like id.
        rid = f"a1b2c3d4e5f6400{day}9c8b7a6f5e4d3c2{day}"
        xml = rfc9990("Outlook.com", "dmarcreport@microsoft.com", rid, b, e, traffic(day, 2))
        name = f"protection.outlook.com!example.com!{b}!{e}!{rid}"
        write(f"outlook-{day}.eml", mail("dmarcreport@microsoft.com",
              f"Report Domain: example.com Submitter: protection.outlook.com Report-ID: <{rid}>",
              f"{rid}@outlook.example", f"Thu, 0{day + 3} Nov 2026 02:1{day}:40 +0000", "application/gzip",
              name + ".xml.gz", gz(xml)))
    # Yahoo-style, whose report covers 2026-11-02 07:00 to 2026-11-03 07:00 (its local day).
    b = D[2] + 7 * 3600
    xml = rfc9990("Yahoo", "dmarchelp@yahooinc.com", "17930000000001", b, b + DAY, traffic(2, 1))
    write("yahoo-2.eml", mail("noreply@dmarc.yahoo.com", "Report Domain: example.com Submitter: yahoo.com Report-ID: <17930000000001>",
          "17930000000001@dmarc.yahoo.com", "Wed, 04 Nov 2026 09:00:00 +0000", "application/gzip",
          f"yahoo.com!example.com!{b}!{b + DAY}.xml.gz", gz(xml)))
    # The same Yahoo report delivered a second time, in another message.
    write("yahoo-2-resent.eml", mail("noreply@dmarc.yahoo.com", "Report Domain: example.com Submitter: yahoo.com Report-ID: <17930000000001>",
          "17930000000001.retry@dmarc.yahoo.com", "Wed, 04 Nov 2026 21:00:00 +0000", "application/gzip",
          f"yahoo.com!example.com!{b}!{b + DAY}.xml.gz", gz(xml)))
    # A small receiver mails plain XML; saved here as the file it attached.
    write(f"mx.receiver.example!example.com!{D[3]}!{D[3] + DAY - 1}.xml",
          rfc9990("receiver.example", "postmaster@receiver.example", "rx-2026-11-03", D[3], D[3] + DAY - 1, traffic(3, 1)[:3]))
    # A bounce in the rua mailbox: not a report.
    write("bounce.eml", (b"From: MAILER-DAEMON@mx.example.net\r\nTo: dmarc-rua@example.com\r\n"
          b"Subject: Undelivered Mail Returned to Sender\r\nDate: Thu, 05 Nov 2026 10:00:00 +0000\r\n"
          b"Message-ID: <bounce.1@mx.example.net>\r\n\r\nThis is the mail system at host mx.example.net.\r\n"
          b"I'm sorry to have to inform you that your message could not be delivered.\r\n"))

if __name__ == "__main__":
    main()
