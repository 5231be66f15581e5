//! The hard messages shared by the DKIM interop tests (dkimpy, OpenDKIM, Mail::DKIM): folded and
//! whitespace-heavy headers, duplicate headers, long lines, empty body, trailing blank lines, no
//! final newline, 8-bit body, LF-only input, and realistic mail from the bench generator.

use mailward_benches::realmail::{self, LineEnding};

/// The hard messages, CRLF unless the name says LF.
pub(crate) fn hard_messages() -> Vec<(&'static str, Vec<u8>)> {
    let crlf = |s: &str| s.replace('\n', "\r\n").into_bytes();
    let base_headers = "From: Alice Example <alice@interop.example>\n\
                        To: bob@example.net\n\
                        Subject: interop\n\
                        Date: Sat, 28 Nov 2026 10:00:00 +0000\n\
                        Message-ID: <m1@interop.example>\n";
    let long_line = "x".repeat(1500);
    let mut eight_bit = crlf(&format!(
        "{base_headers}MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
    ));
    eight_bit.extend_from_slice(b"Gr\xfc\xdfe aus K\xf6ln \xe2\x82\xac\r\n\xff\xfe\x80 end\r\n");
    vec![
        ("plain", crlf(&format!("{base_headers}\nHello.\n"))),
        (
            "folded_whitespace_headers",
            crlf(
                "From:   Alice  Example\t <alice@interop.example>  \n\
                 To: bob@example.net,\n  \tcarol@example.net ,\n        dave@example.net\n\
                 Subject:    Hello \t  world  \n\t  continued   here\t\n\
                 Date: Sat, 28 Nov 2026 10:00:00 +0000\n\
                 Message-ID:\n <m2@interop.example>\n\n\
                 body  with   spaces \t\n\tand tabs\t \n",
            ),
        ),
        (
            "duplicate_headers",
            crlf(&format!(
                "Received: from a by b; Sat, 28 Nov 2026 10:00:00 +0000\n\
                 Received: from c by d; Sat, 28 Nov 2026 09:59:00 +0000\n\
                 {base_headers}Cc: one@example.net\nCc: two@example.net\nX-Dup: 1\nX-Dup: 2\n\nbody\n"
            )),
        ),
        (
            "long_lines",
            crlf(&format!(
                "{base_headers}X-Long: {long_line}\n\n{long_line}\nshort\n{long_line} \n"
            )),
        ),
        ("empty_body", crlf(&format!("{base_headers}\n"))),
        (
            "trailing_blank_lines",
            crlf(&format!("{base_headers}\ntext\n\n\n \n\t\n  \t \n\n")),
        ),
        (
            "whitespace_only_body",
            crlf(&format!("{base_headers}\n \n\t\n\n")),
        ),
        // No trailing whitespace on the unterminated last line: there implementations differ
        // (dkimpy keeps one SP, OpenDKIM drops it; see `canon::tests::no_final_newline`).
        (
            "no_final_newline",
            crlf(&format!(
                "{base_headers}\nfirst\nlast  line \t without newline"
            )),
        ),
        ("eight_bit_body", eight_bit),
        (
            "lf_only",
            format!(
                "{base_headers}Subject2:  folded\n  value \n\nline one  \n\n\tline  three\n\n\n"
            )
            .into_bytes(),
        ),
        // The realistic mail of the DKIM benches (`mailward_benches::realmail`): irregular prose
        // white space, quoted-printable HTML, base64 attachments, 10-30 header fields with
        // folded Received chains, To/Cc lists and ARC sets. The peers agreeing on these is
        // what makes the bench tables measured on them mean something.
        (
            "realistic_2k",
            realmail::message(2 << 10, 7, LineEnding::Crlf),
        ),
        (
            "realistic_20k",
            realmail::message(20 << 10, 8, LineEnding::Crlf),
        ),
        (
            "realistic_200k",
            realmail::message(200 << 10, 9, LineEnding::Crlf),
        ),
        (
            "realistic_20k_lf",
            realmail::message(20 << 10, 10, LineEnding::Lf),
        ),
    ]
}
