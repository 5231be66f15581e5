//! Canonicalization (RFC 6376 §3.4) of header fields and bodies.
//!
//! Both work on the raw bytes as received. A bare LF is treated as CRLF (RFC 6376 §3.4 leaves
//! line endings of non-SMTP input to the implementation; independent verifiers accept LF-only
//! files the same way), so a message signed from a Unix file verifies after SMTP conversion.
//!
//! The body canonicalizer is a streaming state machine. Its fast path checks 64-byte blocks
//! for the few byte patterns the algorithm changes (for `relaxed`: a tab, a space next to other
//! whitespace or a line end, a CR not followed by LF, a bare LF; for `simple`: a CR starting
//! an empty line, a bare LF); a block without them is passed through unchanged. The check is
//! branch-free and vectorises. Under `relaxed`, empty lines pass through with the text around
//! them; those that end a run of unchanged octets are held back until content follows, since
//! only the empty lines at the end of the body are dropped.

use crate::algorithm::Canonicalization;

mod expand;
mod scan;

use self::scan::{block_mask, skip_clean_dispatched};

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const SP: u8 = b' ';
const TAB: u8 = b'\t';

/// Canonicalizes one header field (`raw`: name, colon, value with folding, no final line
/// terminator) and appends it, terminated by CRLF, to `out` (RFC 6376 §3.4.1, §3.4.2).
///
/// # Examples
///
/// ```
/// use mailward_dkim::{Canonicalization, canonicalize_header};
///
/// let mut out = Vec::new();
/// canonicalize_header(Canonicalization::Relaxed, b"SUBJect : AbC\r\n  dEf \t", &mut out);
/// assert_eq!(out, b"subject:AbC dEf\r\n");
/// ```
pub fn canonicalize_header(c: Canonicalization, raw: &[u8], out: &mut Vec<u8>) {
    out.reserve(raw.len() + 4);
    header_into(c, raw, out, true);
}

/// Canonicalizes one header field into `e`: the pieces go straight to the sink (the hash, when
/// verifying), nothing is copied first. Without `line_end` the final CRLF is left out, as for
/// the signature field itself (RFC 6376 §3.7).
pub(crate) fn header_into<E: Emit>(c: Canonicalization, raw: &[u8], e: &mut E, line_end: bool) {
    match c {
        Canonicalization::Simple => simple_header(raw, e),
        Canonicalization::Relaxed => relaxed_header(raw, e),
    }
    if line_end {
        e.emit(b"\r\n");
    }
}

/// §3.4.1: "MUST NOT change header fields in any way"; bare LF in folding becomes CRLF.
fn simple_header<E: Emit>(raw: &[u8], e: &mut E) {
    // Every segment but the last ends in LF; its CR, if any, is the octet before it.
    for seg in raw.split_inclusive(|&b| b == LF) {
        match seg.strip_suffix(&[LF]) {
            Some(line) if line.last() != Some(&CR) => {
                e.emit(line);
                e.emit(b"\r\n");
            }
            _ => e.emit(seg),
        }
    }
}

/// §3.4.2: lower-case the name, unfold, reduce WSP runs to one SP, drop WSP at the end of the
/// value and around the colon (the final CRLF is the caller's).
fn relaxed_header<E: Emit>(raw: &[u8], e: &mut E) {
    let (name, value) = match memchr::memchr(b':', raw) {
        Some(colon) => (
            raw.get(..colon).unwrap_or_default(),
            raw.get(colon + 1..).unwrap_or_default(),
        ),
        None => (raw, &[][..]),
    };
    // The name, lower-cased through a small stack buffer.
    let mut lower = [0u8; 32];
    for piece in trim_wsp_end(name).chunks(lower.len()) {
        let out = lower.get_mut(..piece.len()).unwrap_or_default();
        out.copy_from_slice(piece);
        out.make_ascii_lowercase();
        e.emit(out);
    }
    e.emit(b":");
    // The value alternates separators (white space and the line breaks of folding: CRLF or a
    // bare LF) and runs. A run ends before a TAB, a line break, or a SP that is followed by
    // white space, a CR or LF, or the end: so a single SP between words stays inside its run,
    // and a line of a folded field is written in one piece. A separator holding SP or TAB
    // writes one SP, and only between two runs. A CR not followed by LF is not a line break but
    // content (§3.4.2 unfolds "CRLF sequences followed by WSP" only), so it stays in its run.
    let mut rest = value;
    let mut started = false;
    loop {
        let mut white = false;
        let skip = rest
            .iter()
            .enumerate()
            .position(|(k, &b)| {
                white |= b == SP || b == TAB;
                !(b == SP || b == TAB || b == LF || (b == CR && rest.get(k + 1) == Some(&LF)))
            })
            .unwrap_or(rest.len());
        rest = rest.get(skip..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        let (run, tail) = rest.split_at(run_len(rest));
        if white && started {
            e.emit(b" ");
        }
        started = true;
        e.emit(run);
        rest = tail;
    }
}

/// Whether octet `b` ends a run of a relaxed header value, `next` being the octet after it
/// (`None` at the end): a TAB, a line break (LF, or CR before LF), or a SP followed by white
/// space, a line break or the end.
#[inline(always)]
fn breaks_run(b: u8, next: Option<u8>) -> bool {
    match b {
        TAB | LF => true,
        CR => next == Some(LF),
        SP => next.is_none_or(|n| matches!(n, SP | TAB | CR | LF)),
        _ => false,
    }
}

/// The length of the run `rest` starts with (see [`relaxed_header`]): sixteen octets at a time
/// while none of them may end it (most of a line is words and single spaces), then octet by
/// octet.
#[inline]
fn run_len(rest: &[u8]) -> usize {
    let mut k = 0;
    // Each octet with its successor: TAB, LF, or CR or SP before an octet at most SP may end
    // the run (a superset of `breaks_run`, checked exactly below).
    while let (Some(a), Some(b)) = (rest.get(k..k + 16), rest.get(k + 1..k + 17)) {
        let mut any = false;
        for (&x, &y) in a.iter().zip(b) {
            any |= (x == TAB) | (x == LF) | (((x == CR) | (x == SP)) & (y <= SP));
        }
        if any {
            break;
        }
        k += 16;
    }
    let tail = rest.get(k..).unwrap_or_default();
    k + tail
        .iter()
        .enumerate()
        .position(|(i, &b)| b <= SP && breaks_run(b, tail.get(i + 1).copied()))
        .unwrap_or(tail.len())
}

fn trim_wsp_end(s: &[u8]) -> &[u8] {
    let end = s
        .iter()
        .rposition(|&b| !matches!(b, SP | TAB | CR | LF))
        .map_or(0, |p| p + 1);
    s.get(..end).unwrap_or_default()
}

/// The field with the value of its `b=` tag removed, as RFC 6376 §3.7 requires for the
/// `DKIM-Signature` being verified or created ("with the value of the "b=" tag (including all
/// surrounding whitespace) deleted (i.e., treated as the empty string)"). Everything else,
/// including folding, is kept byte for byte.
///
/// Calls `f` with the stripped field: a prefix of `raw` when `b=` comes last (as signers write
/// it), otherwise joined in a stack buffer when it fits (verification does this once per
/// signature).
pub(crate) fn with_b_value_stripped<R>(raw: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let Some((cut_start, cut_end)) = b_value_range(raw) else {
        return f(raw);
    };
    let head = raw.get(..cut_start).unwrap_or_default();
    let tail = raw.get(cut_end..).unwrap_or_default();
    if tail.is_empty() {
        // `b=` ends the field, as signers write it: nothing to join.
        return f(head);
    }
    let len = head.len() + tail.len();
    let mut stack = [0u8; 1024];
    if let Some(buf) = stack.get_mut(..len) {
        let (h, t) = buf.split_at_mut(head.len());
        h.copy_from_slice(head);
        t.copy_from_slice(tail);
        f(buf)
    } else {
        f(&[head, tail].concat())
    }
}

/// The octets of the `b=` value (from just after `=` to the `;` or the end) in a
/// `DKIM-Signature` field.
fn b_value_range(raw: &[u8]) -> Option<(usize, usize)> {
    let colon = memchr::memchr(b':', raw)?;
    // Walks the tag-specs (`;`-separated, VALCHAR excludes `;`) to the one named `b`.
    let mut start = colon + 1;
    loop {
        let rest = raw.get(start..).unwrap_or_default();
        let end = memchr::memchr(b';', rest).map_or(raw.len(), |p| start + p);
        let spec = raw.get(start..end).unwrap_or_default();
        if let Some(eq) = memchr::memchr(b'=', spec)
            && trim_fws(spec.get(..eq).unwrap_or_default()) == b"b"
        {
            return Some((start + eq + 1, end));
        }
        if end >= raw.len() {
            return None;
        }
        start = end + 1;
    }
}

fn trim_fws(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(*b, SP | TAB | CR | LF);
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |p| p + 1);
    s.get(start..end).unwrap_or_default()
}

/// Where canonical body bytes go.
pub(crate) trait Emit {
    /// Receives the next canonical bytes.
    fn emit(&mut self, data: &[u8]);
}

impl Emit for Vec<u8> {
    fn emit(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
}

/// Streaming body canonicalization state (RFC 6376 §3.4.3, §3.4.4).
#[derive(Debug, Clone)]
pub(crate) struct BodyCanon {
    relaxed: bool,
    /// Last input byte consumed (LF at the start: the body starts at a line start).
    prev: u8,
    /// The previous chunk ended in CR; whether it ends a line depends on the next byte.
    held_cr: bool,
    /// Relaxed: whitespace seen and not yet written.
    pending_wsp: bool,
    /// Empty lines seen and not yet written (dropped if the body ends).
    empty_lines: u64,
    /// The current line has canonical content written.
    line_has_content: bool,
    /// Canonical octets produced so far (written or not).
    produced: u64,
}

impl BodyCanon {
    pub(crate) fn new(c: Canonicalization) -> Self {
        Self {
            relaxed: c == Canonicalization::Relaxed,
            prev: LF,
            held_cr: false,
            pending_wsp: false,
            empty_lines: 0,
            line_has_content: false,
            produced: 0,
        }
    }

    /// Canonical length so far.
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }

    fn out<E: Emit>(&mut self, e: &mut E, data: &[u8]) {
        self.produced += data.len() as u64;
        e.emit(data);
    }

    fn flush_pending<E: Emit>(&mut self, e: &mut E) {
        while self.empty_lines > 0 {
            self.empty_lines -= 1;
            self.out(e, b"\r\n");
        }
        if self.pending_wsp {
            self.pending_wsp = false;
            self.out(e, b" ");
        }
    }

    fn content<E: Emit>(&mut self, e: &mut E, b: u8) {
        self.flush_pending(e);
        self.out(e, &[b]);
        self.line_has_content = true;
    }

    fn line_end<E: Emit>(&mut self, e: &mut E) {
        self.pending_wsp = false;
        if self.line_has_content {
            self.out(e, b"\r\n");
            self.line_has_content = false;
        } else {
            self.empty_lines += 1;
        }
    }

    /// Feeds the next chunk of the body.
    ///
    /// A chunk whose first line ends in a bare LF (a file from a Unix system, a milter that
    /// hands over LF-only text) is rewritten with CRLF line ends first, through a stack buffer,
    /// and then canonicalized like SMTP input. The result is the same, since a bare LF is a
    /// line end here anyway, but every line end of LF-only input would otherwise stop the fast
    /// path, and inserting the CR costs a copy where the state machine costs a visit per line.
    /// A chunk with a CRLF first goes straight through; a bare LF further on is still exact,
    /// only slower.
    pub(crate) fn update<E: Emit>(&mut self, e: &mut E, chunk: &[u8]) {
        if first_line_end_is_bare(chunk, self.held_cr) {
            self.update_lf_input(e, chunk);
        } else {
            self.update_crlf_input(e, chunk);
        }
    }

    /// [`Self::update`] for input whose line ends are bare LFs: each bare LF becomes CRLF on
    /// its way through a stack buffer (see [`expand`]), which is then canonicalized as SMTP
    /// input.
    fn update_lf_input<E: Emit>(&mut self, e: &mut E, chunk: &[u8]) {
        let mut buf = [0u8; 4096];
        let mut rest = chunk;
        // The octet before the chunk: only a held CR keeps a first LF from being bare.
        let mut prev = if self.held_cr { CR } else { LF };
        while !rest.is_empty() {
            let (read, written) = expand::expand_bare_lf(prev, rest, &mut buf);
            if read == 0 {
                break; // not reached: the buffer always takes a block
            }
            self.update_crlf_input(e, buf.get(..written).unwrap_or_default());
            prev = rest.get(read - 1).copied().unwrap_or(LF);
            rest = rest.get(read..).unwrap_or_default();
        }
    }

    /// [`Self::update`] for SMTP input (CRLF line ends; a bare LF is handled exactly, one at a
    /// time).
    fn update_crlf_input<E: Emit>(&mut self, e: &mut E, chunk: &[u8]) {
        let mut i = 0;
        if self.held_cr {
            let Some(&next) = chunk.first() else { return };
            self.held_cr = false;
            if next == LF {
                self.line_end(e);
                self.prev = LF;
                i = 1;
            } else {
                self.content(e, CR);
                self.prev = CR;
            }
        }
        let len = chunk.len();
        // Start of a run of consecutive unchanged blocks, written in one piece when it ends.
        let mut run: Option<usize> = None;
        while i < len {
            // Every step looks at a block of up to 64 octets with its neighbours known on both
            // sides (see `block_mask`).
            let avail = (len - i).min(64);
            let end = i + avail;
            let ends_chunk_in_cr = end == len && chunk.get(end - 1) == Some(&CR);
            // One pass computes which octets are special; a block without any is the common
            // case and is skipped after an OR over the flags. Lanes past the chunk are cleared;
            // a CR ending the chunk always goes to the state machine (it may start a CRLF).
            let mut mask = block_mask(chunk, i, self.prev, self.relaxed);
            if ends_chunk_in_cr {
                mask |= 1u64 << (avail - 1);
            }
            if mask == 0 {
                if run.is_none() {
                    run = Some(i);
                }
                // The clean blocks after it join the run in a tight loop. A stretch ending in
                // CR stops before it so the CRLF pair is handled as one (the LF starts the next
                // block).
                let clean_to = if chunk.get(end - 1) == Some(&CR) {
                    end
                } else {
                    skip_clean_dispatched(chunk, end, self.relaxed)
                };
                i = if chunk.get(clean_to - 1) == Some(&CR) {
                    clean_to - 1
                } else {
                    clean_to
                };
                continue;
            }
            // Octets between special ones are unchanged and join runs; the state machine takes
            // only the special ones.
            let mut cur = i;
            while mask != 0 {
                let mut pos = i + usize::try_from(mask.trailing_zeros()).unwrap_or(64);
                mask &= mask - 1;
                if pos < cur {
                    continue; // the LF of a CRLF already consumed with its CR
                }
                // An LF flagged for the octet after it keeps its CR: the state machine starts
                // at the CR and takes the pair as one line end.
                if pos > cur && chunk.get(pos) == Some(&LF) && chunk.get(pos - 1) == Some(&CR) {
                    pos -= 1;
                }
                if pos > cur && run.is_none() {
                    run = Some(cur);
                }
                self.end_run(e, chunk, &mut run, pos);
                cur = self.step(e, chunk, pos);
            }
            // The tail of the block joins a run, except a final CR (see above).
            let stop = if cur < end && chunk.get(end - 1) == Some(&CR) {
                end - 1
            } else {
                end
            };
            if cur < stop && run.is_none() {
                run = Some(cur);
            }
            i = cur.max(stop);
        }
        self.end_run(e, chunk, &mut run, i.min(len));
    }

    /// Writes the pending run `chunk[start..end]` unchanged, after what is pending before it
    /// when the run has content, and updates the line state. Empty lines at the end of the run
    /// are held back like those the state machine sees (a relaxed run may hold CRLF CRLF, see
    /// [`scan::special_pair_relaxed`]): they are written only if content follows.
    #[inline]
    fn end_run<E: Emit>(&mut self, e: &mut E, chunk: &[u8], run: &mut Option<usize>, end: usize) {
        let Some(start) = run.take() else { return };
        let block = chunk.get(start..end).unwrap_or_default();
        let Some(&last) = block.last() else { return };
        self.prev = last;
        // A run holds no bare CR or LF (nor, under simple, a CR at a line start), so one that
        // ends in LF ends in CRLF; count the CRLFs that end it.
        let mut rest = block;
        let mut line_ends = 0u64;
        if last == LF {
            while let Some(before) = rest.strip_suffix(b"\r\n") {
                rest = before;
                line_ends += 1;
            }
        }
        if !rest.is_empty() {
            self.flush_pending(e);
        }
        // The first of them ends a line with content (in the run, or before it); the others
        // end empty lines. Under simple they are all of the first kind: a CR at a line start
        // is flagged for it.
        let ends_content = !rest.is_empty() || self.line_has_content;
        let empty = line_ends.saturating_sub(u64::from(ends_content));
        let keep = block.len() - 2 * usize::try_from(empty).unwrap_or(0);
        if keep > 0 {
            self.out(e, block.get(..keep).unwrap_or_default());
        }
        self.empty_lines += empty;
        self.line_has_content = line_ends == 0;
    }

    /// Consumes the byte at `i` (and the LF after a CR); returns the next index.
    fn step<E: Emit>(&mut self, e: &mut E, chunk: &[u8], i: usize) -> usize {
        let Some(&b) = chunk.get(i) else { return i + 1 };
        match b {
            CR => match chunk.get(i + 1) {
                Some(&LF) => {
                    self.line_end(e);
                    self.prev = LF;
                    return i + 2;
                }
                Some(_) => self.content(e, CR),
                None => {
                    self.held_cr = true;
                    return i + 1;
                }
            },
            LF => self.line_end(e),
            SP | TAB if self.relaxed => self.pending_wsp = true,
            _ => self.content(e, b),
        }
        self.prev = b;
        i + 1
    }

    /// Ends the body: a trailing CR is content, an unterminated last line gets its CRLF,
    /// trailing empty lines are dropped; `simple` turns an empty body into CRLF.
    pub(crate) fn finish<E: Emit>(&mut self, e: &mut E) {
        if self.held_cr {
            self.held_cr = false;
            self.content(e, CR);
        }
        if self.line_has_content {
            self.out(e, b"\r\n");
            self.line_has_content = false;
        }
        self.pending_wsp = false;
        self.empty_lines = 0;
        if !self.relaxed && self.produced == 0 {
            self.out(e, b"\r\n");
        }
    }
}

/// Whether the first LF of `chunk` is bare: not preceded by CR (at the chunk's start, the
/// previous chunk ended in a held CR or not).
fn first_line_end_is_bare(chunk: &[u8], held_cr: bool) -> bool {
    match memchr::memchr(LF, chunk) {
        Some(0) => !held_cr,
        Some(p) => chunk.get(p - 1) != Some(&CR),
        None => false,
    }
}

/// Canonicalizes a whole body at once (RFC 6376 §3.4.3, §3.4.4).
///
/// # Examples
///
/// ```
/// use mailward_dkim::{Canonicalization, canonicalize_body};
///
/// assert_eq!(canonicalize_body(Canonicalization::Simple, b""), b"\r\n");
/// assert_eq!(canonicalize_body(Canonicalization::Relaxed, b""), b"");
/// assert_eq!(canonicalize_body(Canonicalization::Relaxed, b"a  b \r\n \t\r\n\r\n"), b"a b\r\n");
/// ```
pub fn canonicalize_body(c: Canonicalization, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 2);
    let mut canon = BodyCanon::new(c);
    canon.update(&mut out, body);
    canon.finish(&mut out);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use Canonicalization::{Relaxed, Simple};

    fn hdr(c: Canonicalization, raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        canonicalize_header(c, raw, &mut out);
        out
    }

    #[test]
    fn rfc6376_3_4_5_examples() {
        // RFC 6376 §3.4.5: "A: X\r\nB : Y\t\r\n\tZ  \r\n" with the body " C \r\nD \t E\r\n\r\n\r\n".
        assert_eq!(hdr(Relaxed, b"A: X"), b"a:X\r\n");
        assert_eq!(hdr(Relaxed, b"B : Y\t\r\n\tZ  "), b"b:Y Z\r\n");
        assert_eq!(hdr(Simple, b"B : Y\t\r\n\tZ  "), b"B : Y\t\r\n\tZ  \r\n");
        let body = b" C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(canonicalize_body(Relaxed, body), b" C\r\nD E\r\n");
        assert_eq!(canonicalize_body(Simple, body), b" C \r\nD \t E\r\n");
    }

    #[test]
    fn empty_bodies() {
        assert_eq!(canonicalize_body(Simple, b""), b"\r\n");
        assert_eq!(canonicalize_body(Simple, b"\r\n\r\n"), b"\r\n");
        assert_eq!(canonicalize_body(Relaxed, b""), b"");
        assert_eq!(canonicalize_body(Relaxed, b"\r\n\r\n"), b"");
    }

    #[test]
    fn whitespace_only_trailing_lines_relaxed() {
        // §3.4.4 (a) empties whitespace-only lines, then (b) drops empty lines at the end.
        assert_eq!(canonicalize_body(Relaxed, b"x\r\n \r\n\t \r\n"), b"x\r\n");
        assert_eq!(
            canonicalize_body(Relaxed, b"x\r\n \r\ny\r\n"),
            b"x\r\n\r\ny\r\n"
        );
        assert_eq!(canonicalize_body(Relaxed, b" \r\n\t\r\n"), b"");
        // simple keeps whitespace-only lines: they are not empty.
        assert_eq!(canonicalize_body(Simple, b"x\r\n \r\n\r\n"), b"x\r\n \r\n");
    }

    /// RFC 6376 §3.4.4: (a) drops whitespace at the end of lines, then (b) adds the missing
    /// CRLF. We read the unterminated last line as a line, so its trailing whitespace goes (as
    /// OpenDKIM does); dkimpy 1.1.8 instead keeps one SP there ("abc \r\n"). Messages sent over
    /// SMTP always end in CRLF, so only files are affected.
    #[test]
    fn no_final_newline() {
        assert_eq!(canonicalize_body(Simple, b"abc"), b"abc\r\n");
        assert_eq!(canonicalize_body(Relaxed, b"abc  "), b"abc\r\n");
        assert_eq!(canonicalize_body(Relaxed, b"  "), b"");
        assert_eq!(canonicalize_body(Simple, b"abc\r"), b"abc\r\r\n");
    }

    #[test]
    fn bare_lf_is_crlf() {
        assert_eq!(canonicalize_body(Simple, b"a\nb\n\n"), b"a\r\nb\r\n");
        assert_eq!(canonicalize_body(Relaxed, b"a \nb\n\n"), b"a\r\nb\r\n");
        assert_eq!(hdr(Simple, b"A: x\n y"), b"A: x\r\n y\r\n");
        assert_eq!(hdr(Relaxed, b"A: x\n y"), b"a:x y\r\n");
    }

    #[test]
    fn bare_cr_is_content() {
        assert_eq!(canonicalize_body(Relaxed, b"a \rb\r\n"), b"a \rb\r\n");
        assert_eq!(canonicalize_body(Simple, b"\r\r\n"), b"\r\r\n");
    }

    fn strip_b_value(raw: &[u8]) -> Vec<u8> {
        with_b_value_stripped(raw, <[u8]>::to_vec)
    }

    #[test]
    fn strip_b() {
        assert_eq!(
            strip_b_value(b"DKIM-Signature: a=1; b=abc\r\n def; bh=xyz"),
            b"DKIM-Signature: a=1; b=; bh=xyz"
        );
        assert_eq!(
            strip_b_value(b"DKIM-Signature: b = abc"),
            b"DKIM-Signature: b ="
        );
        // `b=` last, folded: the prefix up to its `=`.
        assert_eq!(
            strip_b_value(b"DKIM-Signature: a=1; bh=x;\r\n b=abc\r\n def \r\n ghi"),
            b"DKIM-Signature: a=1; bh=x;\r\n b="
        );
        // Longer than the stack buffer: built on the heap, same result.
        let long = format!("DKIM-Signature: a=1; z={}; b=abc; bh=x", "q".repeat(2000));
        let want = format!("DKIM-Signature: a=1; z={}; b=; bh=x", "q".repeat(2000));
        assert_eq!(strip_b_value(long.as_bytes()), want.as_bytes());
        // No b= tag: unchanged.
        assert_eq!(strip_b_value(b"X: a=1; bh=2"), b"X: a=1; bh=2");
    }

    #[test]
    fn relaxed_header_keeps_bare_cr() {
        // RFC 6376 §3.4.2 unfolds CRLF followed by WSP; a CR without LF is content (a verifier
        // that dropped it would let a signed header change without breaking the signature).
        assert_eq!(
            hdr(Relaxed, b"Subject: Is d\rinner ready?"),
            b"subject:Is d\rinner ready?\r\n"
        );
        assert_eq!(hdr(Relaxed, b"To: Suzie\r Q"), b"to:Suzie\r Q\r\n");
        assert_eq!(hdr(Relaxed, b"To: a\r\n\tb \r\n c"), b"to:a b c\r\n");
        assert_eq!(hdr(Relaxed, b"To: a\n b"), b"to:a b\r\n");
    }

    #[test]
    fn long_inputs_use_fast_path_consistently() {
        let line = b"The quick brown fox  jumps over\tthe lazy dog. \r\n";
        let mut body = Vec::new();
        for k in 0..50 {
            body.extend_from_slice(line);
            if k % 7 == 0 {
                body.extend_from_slice(b"\r\n \r\n");
            }
        }
        let relaxed = canonicalize_body(Relaxed, &body);
        let expected: Vec<u8> = naive_relaxed(&body);
        assert_eq!(relaxed, expected);
    }

    /// Octet-at-a-time reading of §3.4.2 (relaxed header), for comparison.
    fn naive_relaxed_header(raw: &[u8]) -> Vec<u8> {
        let colon = raw.iter().position(|&b| b == b':').unwrap_or(raw.len());
        let mut name = raw[..colon].to_vec();
        while name.last().is_some_and(|b| b" \t\r\n".contains(b)) {
            name.pop();
        }
        let mut out: Vec<u8> = name.iter().map(u8::to_ascii_lowercase).collect();
        out.push(b':');
        let value = raw.get(colon + 1..).unwrap_or_default();
        let (mut pending, mut started) = (false, false);
        for (k, &b) in value.iter().enumerate() {
            match b {
                // RFC 6376 §3.4.2: the CRLF of folding goes; a bare CR is an ordinary octet.
                b'\r' if value.get(k + 1) == Some(&b'\n') => {}
                b'\n' => {}
                b' ' | b'\t' => pending = true,
                _ => {
                    if pending && started {
                        out.push(b' ');
                    }
                    pending = false;
                    started = true;
                    out.push(b);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Octet-at-a-time reading of §3.4.1 with bare LF read as CRLF, for comparison.
    fn naive_simple_header(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = 0u8;
        for &b in raw {
            if b == b'\n' && prev != b'\r' {
                out.push(b'\r');
            }
            out.push(b);
            prev = b;
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    proptest::proptest! {
        #[test]
        fn headers_match_octet_models(
            raw in proptest::collection::vec(
                proptest::sample::select(b"aB:; \t\r\n\r\n  x=".to_vec()),
                0..120,
            )
        ) {
            proptest::prop_assert_eq!(hdr(Relaxed, &raw), naive_relaxed_header(&raw));
            proptest::prop_assert_eq!(hdr(Simple, &raw), naive_simple_header(&raw));
        }

        /// Long fields as mail has them: words of up to 40 octets (any octet but white space
        /// and line ends, control and 8-bit octets included) between separators that keep a
        /// run going (one SP, a CR without LF) or end it (two SPs, a TAB, folding with CRLF or
        /// a bare LF, a trailing SP before a fold), so runs cross the sixteen-octet checks
        /// of `run_len` at every offset.
        #[test]
        fn long_folded_headers_match_octet_model(
            words in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::sample::select(b"abcXYZ09.;=/+-<>@\x00\x0b\x7f\x80\xff".to_vec()),
                        1..40,
                    ),
                    proptest::sample::select(vec![
                        &b" "[..], b" ", b" ", b"  ", b"\t", b"\r\n ", b"\r\n\t", b"\n ",
                        b" \r\n ", b"\r", b"\r ", b" \r",
                    ]),
                ),
                0..30,
            ),
            name in proptest::sample::select(vec![&b"Subject:"[..], b"DKIM-Signature :", b"X:"]),
        ) {
            let mut raw = name.to_vec();
            for (word, sep) in words {
                raw.extend_from_slice(&word);
                raw.extend_from_slice(sep);
            }
            proptest::prop_assert_eq!(hdr(Relaxed, &raw), naive_relaxed_header(&raw));
        }

        /// One-line fields of words and spaces (the relaxed fast path: single spaces, nothing
        /// trailing) and their near misses (a double or trailing space, a tab).
        #[test]
        fn one_line_headers_match_octet_model(
            raw in proptest::collection::vec(
                proptest::sample::select(b"aaB:x= ".to_vec()),
                0..40,
            ),
            tail in proptest::sample::select(vec![&b""[..], b" ", b"\t", b"  a", b"a\tb"]),
        ) {
            let raw = [raw.as_slice(), tail].concat();
            proptest::prop_assert_eq!(hdr(Relaxed, &raw), naive_relaxed_header(&raw));
        }
    }

    /// Straightforward reading of §3.4.3 (bare LF read as CRLF), for comparison.
    pub(crate) fn naive_simple(body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        let mut prev = 0u8;
        for &b in body {
            if b == b'\n' && prev != b'\r' {
                v.push(b'\r');
            }
            v.push(b);
            prev = b;
        }
        if !v.ends_with(b"\r\n") {
            v.extend_from_slice(b"\r\n");
        }
        while v.ends_with(b"\r\n\r\n") {
            v.truncate(v.len() - 2);
        }
        v
    }

    /// Straightforward line-by-line reading of §3.4.4, for comparison.
    pub(crate) fn naive_relaxed(body: &[u8]) -> Vec<u8> {
        let text = body.to_vec();
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut cur = Vec::new();
        let mut i = 0;
        let mut terminated = true;
        while i < text.len() {
            let b = text[i];
            if b == b'\r' && text.get(i + 1) == Some(&b'\n') {
                lines.push(std::mem::take(&mut cur));
                i += 2;
                terminated = true;
                continue;
            }
            if b == b'\n' {
                lines.push(std::mem::take(&mut cur));
                i += 1;
                terminated = true;
                continue;
            }
            cur.push(b);
            terminated = false;
            i += 1;
        }
        if !terminated {
            lines.push(cur);
        }
        let mut out_lines: Vec<Vec<u8>> = lines
            .into_iter()
            .map(|l| {
                let mut o = Vec::new();
                let mut ws = false;
                for &b in &l {
                    if b == b' ' || b == b'\t' {
                        ws = true;
                    } else {
                        if ws {
                            o.push(b' ');
                        }
                        ws = false;
                        o.push(b);
                    }
                }
                o
            })
            .collect();
        while out_lines.last().is_some_and(Vec::is_empty) {
            out_lines.pop();
        }
        let mut out = Vec::new();
        for l in out_lines {
            out.extend_from_slice(&l);
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}
