//! A raw view of an RFC 5322 message: header fields with their exact bytes, and the body.
//!
//! DKIM canonicalization ([RFC 6376 §3.4](https://www.rfc-editor.org/rfc/rfc6376#section-3.4))
//! works on the header fields as received, so nothing here is decoded or re-serialised: each
//! [`HeaderField`] borrows its raw bytes, folding included. Lines may end in CRLF or, as many
//! local mail stores write them, in a bare LF; both are accepted and kept as they are.
//!
//! Parsing is bounded by [`MessageLimits`]: hostile input cannot make the header list grow
//! without end.
//!
//! # Examples
//!
//! ```
//! use mailward_types::message::Message;
//!
//! let raw = b"From: a@example.com\r\nSubject: hi\r\n  there\r\n\r\nbody\r\n";
//! let msg = Message::parse(raw)?;
//! assert_eq!(msg.headers().len(), 2);
//! assert_eq!(msg.headers()[1].raw, b"Subject: hi\r\n  there");
//! assert_eq!(msg.headers()[1].unfolded_value(), " hi  there");
//! assert_eq!(msg.body(), b"body\r\n");
//! # Ok::<(), mailward_types::message::MessageError>(())
//! ```

/// Caps on the header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageLimits {
    /// Most header fields accepted. Default 1000; real messages carry a few dozen, heavily
    /// relayed ones a few hundred.
    pub max_fields: usize,
    /// Most octets in the header block (up to the empty line). Default 1 MiB.
    pub max_header_bytes: usize,
}

impl MessageLimits {
    /// Default number of header fields: 1000.
    pub const DEFAULT_MAX_FIELDS: usize = 1000;
    /// Default size of the header block: 1 MiB.
    pub const DEFAULT_MAX_HEADER_BYTES: usize = 1 << 20;

    /// Limits with the given caps.
    pub fn new(max_fields: usize, max_header_bytes: usize) -> Self {
        Self {
            max_fields,
            max_header_bytes,
        }
    }
}

impl Default for MessageLimits {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_FIELDS, Self::DEFAULT_MAX_HEADER_BYTES)
    }
}

/// One header field as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// The field name, without whitespace between it and the colon (RFC 5322 §4.5.3 obsolete
    /// syntax allows such whitespace; it stays in [`raw`](Self::raw)).
    pub name: &'a str,
    /// The whole field: name, colon and value with folding kept, without the line terminator
    /// that ends the field.
    pub raw: &'a [u8],
    /// Everything after the colon, folding kept, without the final line terminator.
    pub value: &'a [u8],
    /// Byte offset of the field in the message.
    pub offset: usize,
}

impl HeaderField<'_> {
    /// Whether the field name equals `name`, ignoring ASCII case (RFC 5322 §1.2.2).
    #[inline]
    pub fn name_eq(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value with line terminators of folding removed (RFC 5322 §2.2.3 unfolding), decoded
    /// as UTF-8 with invalid octets replaced.
    pub fn unfolded_value(&self) -> String {
        let unfolded: Vec<u8> = self
            .value
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        String::from_utf8_lossy(&unfolded).into_owned()
    }
}

/// A message split into header fields and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    headers: Vec<HeaderField<'a>>,
    body_offset: usize,
    data: &'a [u8],
}

/// Why a message could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// More header fields than [`MessageLimits::max_fields`].
    #[error("more than {limit} header fields")]
    TooManyFields {
        /// The cap that was hit.
        limit: usize,
    },
    /// A header block longer than [`MessageLimits::max_header_bytes`] octets.
    #[error("header block longer than {limit} octets")]
    HeaderTooLarge {
        /// The cap that was hit.
        limit: usize,
    },
    /// A line in the header block is neither a field (`name:`) nor a continuation.
    #[error("malformed header line at offset {offset}")]
    MalformedField {
        /// Offset of the line.
        offset: usize,
    },
    /// The first line is a continuation line (starts with whitespace).
    #[error("message starts with a continuation line")]
    LeadingContinuation,
}

/// `ftext = %d33-57 / %d59-126` (RFC 5322 §3.6.8): printable ASCII except colon.
fn is_ftext(b: u8) -> bool {
    matches!(b, 33..=57 | 59..=126)
}

impl<'a> Message<'a> {
    /// Splits `data` with the default [`MessageLimits`].
    ///
    /// # Errors
    ///
    /// See [`Message::parse_with`].
    pub fn parse(data: &'a [u8]) -> Result<Self, MessageError> {
        Self::parse_with(data, MessageLimits::default())
    }

    /// Splits `data` into header fields and body.
    ///
    /// The header block ends at the first empty line (CRLF CRLF or LF LF, mixed forms
    /// accepted); the body starts after it. Without an empty line the whole input is header and
    /// the body is empty.
    ///
    /// # Errors
    ///
    /// [`MessageError`] when a cap is hit, a header line has no colon or an invalid field name,
    /// or the message starts with a continuation line.
    pub fn parse_with(data: &'a [u8], limits: MessageLimits) -> Result<Self, MessageError> {
        // Room for the usual dozen fields in one allocation under 1 KiB.
        let mut headers = Vec::with_capacity(16);
        let mut pos = 0;
        // (field start, name end, colon index) of the field being collected.
        let mut current: Option<(usize, usize, usize)> = None;
        let mut last_end = 0;
        let mut names = Names::new();
        // The line ends in order: each line starts after the LF of the one before.
        let mut lfs = memchr::memchr_iter(b'\n', data);
        let body_offset = loop {
            if pos >= data.len() {
                break data.len();
            }
            if pos > limits.max_header_bytes {
                return Err(MessageError::HeaderTooLarge {
                    limit: limits.max_header_bytes,
                });
            }
            let (end, next) = match lfs.next() {
                Some(lf) if lf > pos && data.get(lf - 1) == Some(&b'\r') => (lf - 1, lf + 1),
                Some(lf) => (lf, lf + 1),
                None => (data.len(), data.len()),
            };
            let line = data.get(pos..end).unwrap_or_default();
            if line.is_empty() && next > end {
                // The empty line that ends the header block.
                break next;
            }
            match line.first() {
                Some(b' ' | b'\t') => {
                    if current.is_none() {
                        return Err(MessageError::LeadingContinuation);
                    }
                }
                _ => {
                    if let Some(field) = current.take() {
                        headers.push(make_field(
                            data,
                            field,
                            last_end,
                            &limits,
                            headers.len(),
                            &mut names,
                        )?);
                    }
                    current = Some(field_start(line, pos)?);
                }
            }
            last_end = end;
            pos = next;
        };
        if body_offset > limits.max_header_bytes.saturating_add(2) {
            return Err(MessageError::HeaderTooLarge {
                limit: limits.max_header_bytes,
            });
        }
        if let Some(field) = current {
            headers.push(make_field(
                data,
                field,
                last_end,
                &limits,
                headers.len(),
                &mut names,
            )?);
        }
        Ok(Self {
            headers,
            body_offset,
            data,
        })
    }

    /// The header fields from top to bottom.
    pub fn headers(&self) -> &[HeaderField<'a>] {
        &self.headers
    }

    /// The header fields named `name` (case-insensitive), from top to bottom.
    pub fn headers_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl DoubleEndedIterator<Item = &'s HeaderField<'a>> + 's {
        self.headers.iter().filter(move |h| h.name_eq(name))
    }

    /// The body: every octet after the empty line that ends the header block.
    pub fn body(&self) -> &'a [u8] {
        self.data.get(self.body_offset..).unwrap_or_default()
    }

    /// Offset of the body in the input.
    pub fn body_offset(&self) -> usize {
        self.body_offset
    }

    /// The header block as received, including the empty line that ends it if there is one.
    pub fn header_bytes(&self) -> &'a [u8] {
        self.data.get(..self.body_offset).unwrap_or_default()
    }

    /// The whole input.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }
}

/// Checks the first line of a field: `field-name *WSP ":"`. Returns (start, name end, colon).
fn field_start(line: &[u8], pos: usize) -> Result<(usize, usize, usize), MessageError> {
    // The name is the ftext before white space or the colon; only white space may come
    // between it and the colon (ftext has no colon, so this colon is the first).
    let name_len = line
        .iter()
        .position(|&b| !is_ftext(b))
        .unwrap_or(line.len());
    let after = line.get(name_len..).unwrap_or_default();
    let wsp = after
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(after.len());
    if name_len == 0 || after.get(wsp) != Some(&b':') {
        return Err(MessageError::MalformedField { offset: pos });
    }
    Ok((pos, pos + name_len, pos + name_len + wsp))
}

fn make_field<'a>(
    data: &'a [u8],
    (start, name_end, colon): (usize, usize, usize),
    end: usize,
    limits: &MessageLimits,
    count: usize,
    names: &mut Names<'a>,
) -> Result<HeaderField<'a>, MessageError> {
    if count >= limits.max_fields {
        return Err(MessageError::TooManyFields {
            limit: limits.max_fields,
        });
    }
    Ok(HeaderField {
        name: names.get(data, start, name_end),
        raw: data.get(start..end).unwrap_or_default(),
        value: data.get(colon + 1..end).unwrap_or_default(),
        offset: start,
    })
}

/// Field names as `&str` from one UTF-8 check of a stretch of the header block, not one per
/// name (`field_start` accepted only printable ASCII in a name, so every name is UTF-8).
struct Names<'a> {
    /// `text` is `data[base..base + text.len()]`, checked.
    base: usize,
    text: &'a str,
}

/// How far ahead one UTF-8 check of the header block reaches.
const NAMES_STRETCH: usize = 1024;

impl<'a> Names<'a> {
    fn new() -> Self {
        Self { base: 0, text: "" }
    }

    /// The name at `data[start..end]` (ASCII): from the checked stretch when it lies inside,
    /// else after checking a new stretch from `start` (up to its first invalid octet, which
    /// lies after the name).
    fn get(&mut self, data: &'a [u8], start: usize, end: usize) -> &'a str {
        if let Some(name) = start
            .checked_sub(self.base)
            .and_then(|from| self.text.get(from..from + (end - start)))
        {
            return name;
        }
        // At least the whole name, however long.
        let reach = NAMES_STRETCH.max(end - start);
        let stretch = data
            .get(start..data.len().min(start.saturating_add(reach)))
            .unwrap_or_default();
        self.base = start;
        self.text = match std::str::from_utf8(stretch) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(stretch.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default(),
        };
        self.text.get(..end - start).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The previous reading (a `memchr` for the colon, the name checked after trimming, one
    /// UTF-8 check per name), kept as the model the parser is compared against.
    mod model {
        use super::super::*;

        /// Finds the end of the line starting at `start`: the index of its terminator and the index
        /// after it. A bare LF or a CRLF ends a line; at the end of data the terminator is empty.
        fn line_end(data: &[u8], start: usize) -> (usize, usize) {
            let rest = data.get(start..).unwrap_or_default();
            match memchr_lf(rest) {
                Some(i) => {
                    let lf = start + i;
                    let end = if i > 0 && rest.get(i - 1) == Some(&b'\r') {
                        lf - 1
                    } else {
                        lf
                    };
                    (end, lf + 1)
                }
                None => (data.len(), data.len()),
            }
        }

        fn memchr_lf(s: &[u8]) -> Option<usize> {
            memchr::memchr(b'\n', s)
        }

        pub(super) fn parse_with(
            data: &[u8],
            limits: MessageLimits,
        ) -> Result<(Vec<HeaderField<'_>>, usize), MessageError> {
            // Room for the usual dozen fields in one allocation under 1 KiB.
            let mut headers = Vec::with_capacity(16);
            let mut pos = 0;
            // (field start, name end, colon index) of the field being collected.
            let mut current: Option<(usize, usize, usize)> = None;
            let mut last_end = 0;
            let body_offset = loop {
                if pos >= data.len() {
                    break data.len();
                }
                if pos > limits.max_header_bytes {
                    return Err(MessageError::HeaderTooLarge {
                        limit: limits.max_header_bytes,
                    });
                }
                let (end, next) = line_end(data, pos);
                let line = data.get(pos..end).unwrap_or_default();
                if line.is_empty() && next > end {
                    // The empty line that ends the header block.
                    break next;
                }
                match line.first() {
                    Some(b' ' | b'\t') => {
                        if current.is_none() {
                            return Err(MessageError::LeadingContinuation);
                        }
                    }
                    _ => {
                        if let Some(field) = current.take() {
                            headers.push(make_field(
                                data,
                                field,
                                last_end,
                                &limits,
                                headers.len(),
                            )?);
                        }
                        current = Some(field_start(line, pos)?);
                    }
                }
                last_end = end;
                pos = next;
            };
            if body_offset > limits.max_header_bytes.saturating_add(2) {
                return Err(MessageError::HeaderTooLarge {
                    limit: limits.max_header_bytes,
                });
            }
            if let Some(field) = current {
                headers.push(make_field(data, field, last_end, &limits, headers.len())?);
            }
            Ok((headers, body_offset))
        }

        fn field_start(line: &[u8], pos: usize) -> Result<(usize, usize, usize), MessageError> {
            let malformed = MessageError::MalformedField { offset: pos };
            let colon = memchr::memchr(b':', line).ok_or(malformed.clone())?;
            let name_part = line.get(..colon).unwrap_or_default();
            let name_len = name_part.len()
                - name_part
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
            let name = name_part.get(..name_len).unwrap_or_default();
            if name.is_empty() || !name.iter().all(|&b| is_ftext(b)) {
                return Err(malformed);
            }
            Ok((pos, pos + name_len, pos + colon))
        }

        fn make_field<'a>(
            data: &'a [u8],
            (start, name_end, colon): (usize, usize, usize),
            end: usize,
            limits: &MessageLimits,
            count: usize,
        ) -> Result<HeaderField<'a>, MessageError> {
            if count >= limits.max_fields {
                return Err(MessageError::TooManyFields {
                    limit: limits.max_fields,
                });
            }
            let name_bytes = data.get(start..name_end).unwrap_or_default();
            // `field_start` accepted only printable ASCII here.
            let name = std::str::from_utf8(name_bytes).unwrap_or_default();
            Ok(HeaderField {
                name,
                raw: data.get(start..end).unwrap_or_default(),
                value: data.get(colon + 1..end).unwrap_or_default(),
                offset: start,
            })
        }
    }

    proptest::proptest! {
        /// The parser against the model on header-like text: names with and without white
        /// space before the colon, invalid names (a space or a control octet inside, none at
        /// all), folding with CRLF or bare LF, continuation lines first, CRs without LF, 8-bit
        /// octets (invalid UTF-8) in values and names, the empty line in either form, and low
        /// caps. Same fields (name, raw, value, offset), same body offset, same error.
        #[test]
        fn parser_matches_model(
            lines in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        &b"From"[..], b"From", b"X-A", b"X-A", b"DKIM-Signature", b"Subject ",
                        b"X-B\t", b"Bad Name", b"", b" ", b"\t", b"N\x01",
                        b"\xc3\xa9t\xc3\xa9", b"\xff",
                    ]),
                    // Long names and values too: past the 1 KB stretch of one UTF-8 check.
                    proptest::sample::select(vec![1usize, 1, 1, 2, 70, 300]),
                    proptest::sample::select(vec![&b":"[..], b":", b": ", b"", b"::"]),
                    proptest::collection::vec(
                        proptest::sample::select(b"ab :\t\r\x80\xff\xc3\xa9".to_vec()),
                        0..30,
                    ),
                    proptest::sample::select(vec![1usize, 1, 1, 40]),
                    proptest::sample::select(vec![&b"\r\n"[..], b"\n", b"\r\n\t", b"\n "]),
                ),
                0..8,
            ),
            end in proptest::sample::select(vec![&b"\r\n"[..], b"\n", b""]),
            body in proptest::sample::select(vec![&b""[..], b"body\r\n", b"\xff"]),
            max_fields in 1usize..8,
            max_header_bytes in proptest::sample::select(vec![16usize, 100, 1 << 20]),
        ) {
            let mut data = Vec::new();
            for (name, name_times, colon, value, value_times, eol) in lines {
                data.extend(name.repeat(name_times));
                data.extend_from_slice(colon);
                data.extend(value.repeat(value_times));
                data.extend_from_slice(eol);
            }
            data.extend_from_slice(end);
            data.extend_from_slice(body);
            let limits = MessageLimits::new(max_fields, max_header_bytes);
            let got = Message::parse_with(&data, limits).map(|m| (m.headers, m.body_offset));
            proptest::prop_assert_eq!(got, model::parse_with(&data, limits));
        }
    }

    /// A name is found whole whatever its length (RFC 5322 sets none): one longer than the
    /// stretch of header block checked as UTF-8 at once, after a long field and alone.
    #[test]
    fn long_field_names_are_whole() {
        for len in [1023usize, 1024, 1025, 3000] {
            let name = "N".repeat(len);
            let raw = format!(
                "X: {}\r\n{name}: v\r\n{name}:w\r\n\r\nbody",
                "x".repeat(900)
            );
            let m = Message::parse(raw.as_bytes()).unwrap();
            let names: Vec<&str> = m.headers().iter().map(|h| h.name).collect();
            assert_eq!(names, ["X", name.as_str(), name.as_str()], "{len}");
            assert_eq!(m.headers_named(&name).count(), 2, "{len}");
        }
    }

    #[test]
    fn crlf_message_with_folding() {
        let raw = b"A: 1\r\nB:2\r\n\t3\r\nC : x\r\n\r\nbody\r\n\r\n";
        let m = Message::parse(raw).unwrap();
        let h = m.headers();
        assert_eq!(h.len(), 3);
        assert_eq!(
            (h[0].name, h[0].raw, h[0].value),
            ("A", &b"A: 1"[..], &b" 1"[..])
        );
        assert_eq!(h[1].raw, b"B:2\r\n\t3");
        assert_eq!(h[1].offset, 6);
        assert_eq!(h[2].name, "C");
        assert_eq!(h[2].raw, b"C : x");
        assert_eq!(m.body(), b"body\r\n\r\n");
        assert_eq!(m.header_bytes(), b"A: 1\r\nB:2\r\n\t3\r\nC : x\r\n\r\n");
    }

    #[test]
    fn lf_only_and_mixed_line_ends() {
        let m = Message::parse(b"A: 1\nB: 2\n 3\n\nbody\n").unwrap();
        assert_eq!(m.headers()[1].raw, b"B: 2\n 3");
        assert_eq!(m.body(), b"body\n");
        let m = Message::parse(b"A: 1\r\n\nbody").unwrap();
        assert_eq!(m.body(), b"body");
    }

    #[test]
    fn missing_body_and_missing_final_newline() {
        let m = Message::parse(b"A: 1\r\nB: 2").unwrap();
        assert_eq!(m.headers().len(), 2);
        assert_eq!(m.headers()[1].raw, b"B: 2");
        assert_eq!(m.body(), b"");
        let m = Message::parse(b"A: 1\r\n").unwrap();
        assert_eq!(m.body(), b"");
        assert_eq!(m.body_offset(), 6);
        let m = Message::parse(b"A: 1\r\n\r\n").unwrap();
        assert_eq!(m.body(), b"");
        let m = Message::parse(b"").unwrap();
        assert!(m.headers().is_empty());
    }

    #[test]
    fn empty_header_block() {
        let m = Message::parse(b"\r\nbody").unwrap();
        assert!(m.headers().is_empty());
        assert_eq!(m.body(), b"body");
    }

    #[test]
    fn rejects_malformed_lines() {
        assert_eq!(
            Message::parse(b"A: 1\r\nno colon here\r\n\r\n"),
            Err(MessageError::MalformedField { offset: 6 })
        );
        assert_eq!(
            Message::parse(b" A: 1\r\n"),
            Err(MessageError::LeadingContinuation)
        );
        assert_eq!(
            Message::parse(b": empty name\r\n"),
            Err(MessageError::MalformedField { offset: 0 })
        );
        assert_eq!(
            Message::parse(b"Bad\x01Name: x\r\n"),
            Err(MessageError::MalformedField { offset: 0 })
        );
    }

    #[test]
    fn names_compare_without_case() {
        let m = Message::parse(b"FROM: a\r\nfrom: b\r\nTo: c\r\n\r\n").unwrap();
        let froms: Vec<_> = m.headers_named("From").map(|h| h.value).collect();
        assert_eq!(froms, [&b" a"[..], &b" b"[..]]);
        assert_eq!(m.headers_named("from").next_back().unwrap().value, b" b");
    }

    #[test]
    fn ten_megabyte_header_block_is_rejected() {
        let mut raw = Vec::with_capacity(10 << 20);
        while raw.len() < 10 << 20 {
            raw.extend_from_slice(
                b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            );
        }
        raw.extend_from_slice(b"\r\nbody");
        // 1000 fields come before 1 MiB with these 60-octet lines.
        assert_eq!(
            Message::parse(&raw),
            Err(MessageError::TooManyFields { limit: 1000 })
        );
        // One enormous folded field hits the byte cap instead.
        let mut one = b"Subject: x".to_vec();
        while one.len() < 10 << 20 {
            one.extend_from_slice(b"\r\n continued continued continued");
        }
        assert_eq!(
            Message::parse(&one),
            Err(MessageError::HeaderTooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn limits_are_configurable() {
        let raw = b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(Message::parse_with(raw, MessageLimits::new(3, 100)).is_ok());
        assert_eq!(
            Message::parse_with(raw, MessageLimits::new(2, 100)),
            Err(MessageError::TooManyFields { limit: 2 })
        );
        assert_eq!(
            Message::parse_with(raw, MessageLimits::new(10, 8)),
            Err(MessageError::HeaderTooLarge { limit: 8 })
        );
    }
}
