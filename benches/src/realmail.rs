//! A deterministic generator of realistic e-mail for the DKIM benches: what people verify is
//! their own mail, not tidy single-spaced text, so the tables we publish are measured on this.
//!
//! [`message`] builds a message of about `size` octets (2 KB to 10 MB and beyond) as a pure
//! function of the size, a seed and the line ending; no clock, no environment, no `rand` crate.
//! What it holds, and why:
//!
//! * **Header block of 10–30 fields**, as a message reads at the receiver's verifier: a
//!   `Received` chain of 3–6 folded fields, `Authentication-Results` and an `ARC-Seal` /
//!   `ARC-Message-Signature` / `ARC-Authentication-Results` set from an intermediary (long
//!   folded base64), `Return-Path`, `From`, `To` and `Cc` with 2–15 addresses folded over several
//!   lines, a `Subject` (sometimes an RFC 2047 encoded word, sometimes folded), `Date`,
//!   `Message-ID`, `MIME-Version`, `Content-Type`, and for a third of the messages the
//!   `List-Id` / `List-Unsubscribe` / `List-Unsubscribe-Post` / `List-Archive` fields of a
//!   mailing list or ESP.
//! * **Prose with irregular white space** in the `text/plain` part: words wrapped at 60–78
//!   columns, a double space after some sentences, trailing spaces or a trailing TAB on about
//!   one line in eight, blank lines between paragraphs, the odd TAB-indented line. Half of the
//!   messages send it quoted-printable (`=` soft line breaks, `=E2=80=99` apostrophes), half as
//!   8-bit text.
//! * **A `text/html` alternative** of the same text: `<p>` paragraphs with inline styles, lines
//!   up to about 200 octets, quoted-printable.
//! * **Base64 attachments in 76-column lines** (pseudo-random octets, like a PDF or an image)
//!   that bring larger messages to their size: from 8 KB up, the body is `multipart/mixed`
//!   with the alternative part and one to three attachments.
//! * **Line endings**: CRLF as on the wire, or LF only, as many local delivery agents and
//!   milters hand messages over ([`LineEnding::Lf`]).
//!
//! The message is syntactically valid MIME with unique boundaries. It carries no
//! `DKIM-Signature`: the benches sign it.

use std::fmt::Write as _;

use crate::reportmail::Rng;

/// How lines end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\r\n`, as on the wire.
    Crlf,
    /// `\n` only.
    Lf,
}

/// Salts of the generator's streams (one per purpose, so a change in one part of the message
/// does not shift every other).
const SALT_HEADERS: u64 = 101;
const SALT_TEXT: u64 = 102;
const SALT_ATTACH: u64 = 103;

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "for",
    "is",
    "on",
    "that",
    "by",
    "this",
    "with",
    "you",
    "it",
    "not",
    "or",
    "be",
    "are",
    "from",
    "at",
    "as",
    "your",
    "all",
    "have",
    "new",
    "more",
    "an",
    "was",
    "we",
    "will",
    "can",
    "us",
    "about",
    "if",
    "our",
    "my",
    "has",
    "but",
    "one",
    "other",
    "do",
    "no",
    "information",
    "time",
    "they",
    "site",
    "he",
    "up",
    "may",
    "what",
    "which",
    "their",
    "news",
    "out",
    "use",
    "any",
    "there",
    "see",
    "only",
    "so",
    "his",
    "when",
    "contact",
    "here",
    "business",
    "who",
    "also",
    "now",
    "help",
    "get",
    "view",
    "online",
    "first",
    "been",
    "would",
    "how",
    "were",
    "me",
    "services",
    "some",
    "these",
    "click",
    "its",
    "like",
    "service",
    "than",
    "find",
    "price",
    "date",
    "back",
    "top",
    "people",
    "had",
    "list",
    "name",
    "just",
    "over",
    "state",
    "year",
    "day",
    "into",
    "email",
    "two",
    "health",
    "world",
    "next",
    "used",
    "go",
    "work",
    "last",
    "most",
    "products",
    "music",
    "buy",
    "data",
    "make",
    "them",
    "should",
    "product",
    "system",
    "post",
    "her",
    "city",
    "add",
    "policy",
    "number",
    "such",
    "please",
    "available",
    "copyright",
    "support",
    "message",
    "after",
    "best",
    "software",
    "then",
    "jan",
    "good",
    "video",
    "well",
    "where",
    "info",
    "rights",
    "public",
    "books",
    "high",
    "school",
    "through",
    "each",
    "links",
    "she",
    "review",
    "years",
    "order",
    "very",
    "privacy",
    "book",
    "quarterly",
    "invoice",
    "meeting",
    "attached",
    "regards",
    "schedule",
    "deadline",
    "budget",
];

const NAMES: &[&str] = &[
    "Alice Martin",
    "Bob Chen",
    "Carol Díaz",
    "Dmitri Ivanov",
    "Emma Schäfer",
    "Farid Haddad",
    "Grace O'Neill",
    "Hiro Tanaka",
    "Inès Laurent",
    "Jamal Wright",
    "Kerstin Berg",
    "Luca Rossi",
    "Maya Patel",
    "Noah Fischer",
    "Olga Nowak",
    "Pedro Alves",
];

/// The domains of the generated `From` addresses: each message's author domain is one of
/// them.
pub const FROM_DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "corp.example.net",
    "lists.example.org",
];

/// A realistic message of about `size` octets (at least the headers and a short text part).
pub fn message(size: usize, seed: u64, ending: LineEnding) -> Vec<u8> {
    let mut g = Gen {
        out: String::with_capacity(size + 4096),
        headers: Rng::new(seed, SALT_HEADERS, size as u64),
        text: Rng::new(seed, SALT_TEXT, size as u64),
        attach: Rng::new(seed, SALT_ATTACH, size as u64),
        boundary: 0,
        seed,
    };
    g.build(size);
    let crlf = g.out.into_bytes();
    match ending {
        LineEnding::Crlf => crlf,
        LineEnding::Lf => {
            // Every CR the generator writes starts a CRLF.
            crlf.into_iter().filter(|&b| b != b'\r').collect()
        }
    }
}

struct Gen {
    out: String,
    headers: Rng,
    text: Rng,
    attach: Rng,
    boundary: u32,
    seed: u64,
}

/// The text part's share of a message below this size is everything; from here on the body
/// is multipart/mixed with attachments.
const ATTACH_FROM: usize = 8 << 10;

impl Gen {
    fn build(&mut self, size: usize) {
        // Small messages carry the lighter header blocks of person-to-person mail (2–3 hops, no
        // ARC set, a few recipients), or the header alone would pass their size.
        let light = size < (6 << 10);
        let list = !light && self.headers.chance(333);
        self.header_block(list, light);
        let header_len = self.out.len();
        let budget = size.saturating_sub(header_len + 400);
        // Text and HTML share what attachments leave: all of it for small messages, a few KB
        // (a letter with a file) for large ones.
        let (text_len, attach_len) = if size < ATTACH_FROM {
            (budget * 2 / 5, 0)
        } else {
            let text = (budget / 8).clamp(1500, 24 << 10);
            (text, budget.saturating_sub(text * 5 / 2))
        };
        let mixed = self.next_boundary();
        let alternative = self.next_boundary();
        if attach_len > 0 {
            self.line(&format!(
                "Content-Type: multipart/mixed; boundary=\"{mixed}\""
            ));
            self.line("");
            self.line("This is a multi-part message in MIME format.");
            self.line("");
            self.line(&format!("--{mixed}"));
        }
        self.line(&format!(
            "Content-Type: multipart/alternative; boundary=\"{alternative}\""
        ));
        self.line("");
        let paragraphs = self.paragraphs(text_len.max(200));
        self.line(&format!("--{alternative}"));
        self.text_part(&paragraphs);
        self.line(&format!("--{alternative}"));
        self.html_part(&paragraphs);
        self.line(&format!("--{alternative}--"));
        if attach_len > 0 {
            let files = 1 + self.attach.below_usize(3);
            for k in 0..files {
                let share = if k + 1 == files {
                    attach_len.saturating_sub(attach_len / files * k)
                } else {
                    attach_len / files
                };
                self.line(&format!("--{mixed}"));
                self.attachment(k, share);
            }
            self.line(&format!("--{mixed}--"));
        }
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push_str("\r\n");
    }

    fn next_boundary(&mut self) -> String {
        self.boundary += 1;
        format!("=_mw{:016x}_{}", self.seed, self.boundary)
    }

    fn address(&mut self) -> String {
        let name = *self.headers.pick(NAMES).unwrap_or(&"A");
        let domain = *self.headers.pick(FROM_DOMAINS).unwrap_or(&"example.com");
        let local: String = name
            .split(' ')
            .next()
            .unwrap_or("a")
            .chars()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_lowercase();
        if self.headers.chance(700) {
            format!("\"{name}\" <{local}@{domain}>")
        } else {
            format!("{local}@{domain}")
        }
    }

    /// `name: a, b, c` folded before an address once a line would pass 76 columns.
    fn address_list(&mut self, name: &str, n: usize) {
        let mut line = format!("{name}:");
        for i in 0..n {
            let a = self.address();
            let sep = if i + 1 < n { "," } else { "" };
            if line.len() + a.len() + 2 > 76 {
                self.out.push_str(&line);
                self.out.push_str("\r\n");
                line = String::from("\t");
            } else {
                line.push(' ');
            }
            line.push_str(&a);
            line.push_str(sep);
        }
        self.line(&line);
    }

    fn base64ish(&mut self, len: usize) -> String {
        self.headers.token(
            len,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        )
    }

    /// A tag=value field folded at 76 columns, its `b=` long.
    fn folded_signature(&mut self, name: &str, tags: &str, b_len: usize) {
        let b = self.base64ish(b_len);
        let mut text = format!("{name}: {tags} b=");
        for chunk in b.as_bytes().chunks(64) {
            text.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            text.push_str("\r\n\t ");
        }
        let text = text.trim_end_matches("\r\n\t ").to_owned();
        self.line(&text);
    }

    fn header_block(&mut self, list: bool, light: bool) {
        let hops = if light {
            2 + self.headers.below_usize(2)
        } else {
            3 + self.headers.below_usize(4)
        };
        for hop in 0..hops {
            let a = self.headers.range(1, 254);
            let b = self.headers.range(1, 254);
            let id = self.headers.token(12, b"0123456789ABCDEF");
            self.line(&format!(
                "Received: from mx{hop}.relay.example.net (mx{hop}.relay.example.net [198.51.100.{a}])"
            ));
            self.line(&format!(
                "\tby mail{b}.example.com (Postfix) with ESMTPS id {id}"
            ));
            let (m, sec) = (self.headers.below_usize(60), self.headers.below_usize(60));
            self.line(&format!(
                "\tfor <bob@example.com>; Mon, 7 Dec 2026 0{}:{m:02}:{sec:02} +0000 (UTC)",
                hop % 10
            ));
        }
        self.line("Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=example.net;");
        self.line("\tdkim=pass header.d=example.net header.s=s2026 header.b=Abc12345;");
        self.line("\tdmarc=pass (p=reject dis=none) header.from=example.net");
        let arc = !light && self.headers.chance(500);
        if arc {
            self.folded_signature(
                "ARC-Seal",
                "i=1; a=rsa-sha256; t=1796601600; cv=none; d=relay.example.net; s=arc-2026;",
                344,
            );
            self.folded_signature(
                "ARC-Message-Signature",
                "i=1; a=rsa-sha256; c=relaxed/relaxed; d=relay.example.net; s=arc-2026;\r\n\th=to:subject:message-id:date:from:mime-version:dkim-signature;\r\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;",
                344,
            );
            self.line("ARC-Authentication-Results: i=1; relay.example.net; dkim=pass");
            self.line("\theader.d=example.net header.s=s2026; spf=pass smtp.mailfrom=example.net");
        }
        self.line("Return-Path: <bounces+8213@example.net>");
        let from = self.address();
        self.line(&format!("From: {from}"));
        let most = if light { 2 } else { 8 };
        let to = 1 + self.headers.below_usize(most);
        self.address_list("To", to);
        if self.headers.chance(600) {
            let cc = 1 + self.headers.below_usize(most - 1);
            self.address_list("Cc", cc);
        }
        match self.headers.below_usize(3) {
            0 => self.line("Subject: =?UTF-8?Q?Quarterly_numbers_=E2=80=93_please_review?="),
            1 => {
                self.line("Subject: Re: Fwd: Agenda for the planning meeting next week and the");
                self.line(" budget figures we discussed");
            }
            _ => self.line("Subject: Your December statement is ready"),
        }
        self.line("Date: Mon, 7 Dec 2026 09:41:17 +0100");
        let id = self
            .headers
            .token(24, b"abcdefghijklmnopqrstuvwxyz0123456789");
        self.line(&format!("Message-ID: <{id}@example.net>"));
        self.line("MIME-Version: 1.0");
        if list {
            self.line("List-Id: \"Announcements\" <announce.lists.example.org>");
            let token = self
                .headers
                .token(40, b"abcdefghijklmnopqrstuvwxyz0123456789");
            self.line(&format!(
                "List-Unsubscribe: <https://lists.example.org/unsubscribe/{token}>,"
            ));
            self.line(&format!(
                " <mailto:unsubscribe+{}@lists.example.org?subject=unsubscribe>",
                &token[..16]
            ));
            self.line("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
            self.line("List-Archive: <https://lists.example.org/archive/announce/>");
            self.line("Precedence: list");
        }
        if self.headers.chance(500) {
            self.line("X-Mailer: Mailward bench generator 1.0");
        }
    }

    /// Paragraphs of prose, `len` octets in all (before encoding), with irregular white space.
    fn paragraphs(&mut self, len: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut total = 0;
        while total < len {
            let sentences = 2 + self.text.below_usize(6);
            let mut p = String::new();
            for _ in 0..sentences {
                let words = 6 + self.text.below_usize(18);
                for w in 0..words {
                    let word = *self.text.pick(WORDS).unwrap_or(&"word");
                    if w == 0 {
                        let mut c = word.chars();
                        if let Some(first) = c.next() {
                            p.extend(first.to_uppercase());
                            p.push_str(c.as_str());
                        }
                    } else {
                        p.push(' ');
                        // An apostrophe now and then (non-ASCII, so quoted-printable encodes
                        // it).
                        if self.text.chance(20) {
                            p.push_str("it’s ");
                        }
                        p.push_str(word);
                    }
                }
                p.push('.');
                // Two spaces after a sentence in about a third of cases.
                p.push_str(if self.text.chance(330) { "  " } else { " " });
            }
            total += p.len() + 2;
            out.push(p.trim_end().to_owned());
        }
        out
    }

    /// Wraps `p` at 60–78 columns; some lines get trailing spaces or a TAB, some a TAB indent.
    fn wrap(&mut self, p: &str) -> Vec<String> {
        let width = 60 + self.text.below_usize(19);
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in p.split(' ') {
            if !line.is_empty() && line.len() + word.len() + 1 > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
        for l in &mut lines {
            match self.text.below_usize(40) {
                0..=2 => l.push_str("  "),
                3 => l.push(' '),
                4 => l.push('\t'),
                5 => l.insert(0, '\t'),
                _ => {}
            }
        }
        lines
    }

    fn text_part(&mut self, paragraphs: &[String]) {
        let qp = self.text.chance(500);
        self.line("Content-Type: text/plain; charset=\"utf-8\"");
        self.line(if qp {
            "Content-Transfer-Encoding: quoted-printable"
        } else {
            "Content-Transfer-Encoding: 8bit"
        });
        self.line("");
        for p in paragraphs {
            for l in self.wrap(p) {
                let l = if qp { quoted_printable(&l) } else { l };
                self.line(&l);
            }
            self.line("");
        }
        self.line("-- ");
        self.line("Sent from the bench generator");
        self.line("");
    }

    fn html_part(&mut self, paragraphs: &[String]) {
        self.line("Content-Type: text/html; charset=\"utf-8\"");
        self.line("Content-Transfer-Encoding: quoted-printable");
        self.line("");
        let mut html = String::from(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body style=\"font-family: Arial, sans-serif; font-size: 14px; color: #222222;\">",
        );
        for p in paragraphs {
            let _ = write!(
                html,
                "<p style=\"margin: 0 0 12px 0; line-height: 1.5;\">{}</p>",
                p.replace("  ", "&nbsp; ")
            );
        }
        html.push_str("</body></html>");
        // Quoted-printable with soft breaks: lines of up to 76 octets, many of them ending in
        // `=` (HTML has few natural breaks).
        for l in html.split_inclusive("</p>") {
            for chunk in soft_break(&quoted_printable(l)) {
                self.line(&chunk);
            }
        }
        self.line("");
    }

    fn attachment(&mut self, k: usize, len: usize) {
        let (kind, name) = match k % 3 {
            0 => ("application/pdf", "statement.pdf"),
            1 => ("image/png", "chart.png"),
            _ => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "figures.xlsx",
            ),
        };
        self.line(&format!("Content-Type: {kind}; name=\"{name}\""));
        self.line("Content-Transfer-Encoding: base64");
        self.line(&format!(
            "Content-Disposition: attachment; filename=\"{name}\""
        ));
        self.line("");
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        // 76 base64 characters a line (57 octets of data), as RFC 2045 §6.8 caps them.
        let lines = len / 78;
        let mut buf = [0u8; 76];
        for _ in 0..lines {
            for chunk in buf.chunks_mut(8) {
                let r = self.attach.next_u64();
                for (i, c) in chunk.iter_mut().enumerate() {
                    let sextet = usize::try_from((r >> (i * 6)) & 63).unwrap_or(0);
                    *c = B64.get(sextet).copied().unwrap_or(b'A');
                }
            }
            self.out.push_str(std::str::from_utf8(&buf).unwrap_or(""));
            self.out.push_str("\r\n");
        }
        self.line("AAAA");
    }
}

/// Quoted-printable (RFC 2045 §6.7) of one line: `=`, non-ASCII octets and trailing white space
/// encoded; no soft breaks (see [`soft_break`]).
fn quoted_printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let bytes = line.as_bytes();
    let end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        let trailing_ws = (b == b' ' || b == b'\t') && i + 1 == end;
        if b == b'=' || !(b == b'\t' || (32..127).contains(&b)) || trailing_ws {
            let _ = write!(out, "={b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Splits a quoted-printable line into lines of at most 76 octets ending in a soft break `=`,
/// never inside an `=XX` escape.
fn soft_break(qp: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = qp;
    while rest.len() > 76 {
        let mut cut = 75;
        // Do not split "=XX".
        if let Some(eq) = rest[..cut].rfind('=')
            && eq + 3 > cut
        {
            cut = eq;
        }
        out.push(format!("{}=", &rest[..cut]));
        rest = &rest[cut..];
    }
    out.push(rest.to_owned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_shapes_and_line_endings() {
        for size in [2 << 10, 20 << 10, 200 << 10, 2 << 20] {
            let m = message(size, 1, LineEnding::Crlf);
            // Within a tenth of the size asked for.
            assert!(
                m.len().abs_diff(size) < size / 10 + 2048,
                "{size}: {}",
                m.len()
            );
            let text = String::from_utf8(m.clone()).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let fields = head
                .split("\r\n")
                .filter(|l| !l.starts_with([' ', '\t']))
                .count();
            assert!((10..=30).contains(&fields), "{size}: {fields} fields");
            // Every line fits the RFC 5322 limit; no bare CR or LF.
            assert!(text.split("\r\n").all(|l| l.len() <= 998));
            assert!(!text.replace("\r\n", "").contains(['\r', '\n']));
            // The irregular white space the relaxed algorithms have to deal with.
            assert!(body.contains("  \r\n") || body.contains("\t\r\n") || body.contains(" \r\n"));
            assert!(body.contains("\r\n\r\n"));
            if size >= ATTACH_FROM {
                assert!(body.contains("Content-Transfer-Encoding: base64"));
                assert!(body.lines().any(|l| l.len() == 76));
            }
            // Deterministic; another seed gives other bytes.
            assert_eq!(message(size, 1, LineEnding::Crlf), m);
            assert_ne!(message(size, 2, LineEnding::Crlf), m);
            let lf = message(size, 1, LineEnding::Lf);
            assert!(!lf.contains(&b'\r'));
            assert_eq!(
                lf.len() + m.iter().filter(|&&b| b == b'\n').count(),
                m.len()
            );
        }
    }

    #[test]
    fn quoted_printable_lines() {
        assert_eq!(quoted_printable("a=b it’s "), "a=3Db it=E2=80=99s=20");
        let qp = "x=E2".repeat(40);
        let lines = soft_break(&qp);
        assert!(lines.len() > 1);
        let mut joined = String::new();
        for (i, l) in lines.iter().enumerate() {
            assert!(l.len() <= 76, "{l}");
            let data = if i + 1 < lines.len() {
                l.strip_suffix('=').unwrap()
            } else {
                l.as_str()
            };
            // No escape cut in two: every '=' in the data has its two hex digits.
            for (k, _) in data.match_indices('=') {
                assert!(k + 3 <= data.len(), "{data}");
            }
            joined.push_str(data);
        }
        assert_eq!(joined, qp);
    }
}
