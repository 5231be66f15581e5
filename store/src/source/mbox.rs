//! The messages of an mbox (mboxrd or mboxo, LF or CRLF), read one line at a time from any
//! buffered reader, each message bounded in size.

use std::io::{self, BufRead};
use std::iter::FusedIterator;

use super::{Input, InputError, MAX_MESSAGE_BYTES};

/// Bytes of a line kept when only its start matters (`From_` lines, empty lines).
const LINE_PREFIX_BYTES: usize = 16;

/// The messages of an mbox read from any buffered reader (a file, standard input, a
/// decompressed stream), one at a time, each at most [`MAX_MESSAGE_BYTES`]; `name` goes into
/// each input's location (`mbox:NAME#N`).
pub fn mbox_messages<R: BufRead>(reader: R, name: &str) -> MboxMessages<R> {
    MboxMessages(Mbox::with_limit(
        reader,
        format!("mbox:{name}"),
        MAX_MESSAGE_BYTES,
    ))
}

/// The iterator of [`mbox_messages`].
#[derive(Debug)]
pub struct MboxMessages<R>(Mbox<R>);

impl<R: BufRead> Iterator for MboxMessages<R> {
    type Item = Result<Input, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// The messages of an mbox, read from a buffered reader one line at a time.
#[derive(Debug)]
pub(super) struct Mbox<R> {
    reader: R,
    /// `mbox:/abs/file`, to which `#N` is added for message N.
    location: String,
    /// The size limit of one message.
    limit: u64,
    /// The number of the last message begun (0 before the first).
    number: u64,
    state: MboxState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MboxState {
    /// Nothing read yet: the first `From_` line is still to be found.
    Start,
    /// A `From_` line has just been read: a message body follows.
    Message,
    /// The end of the file (or a read error) has been reached.
    Done,
}

/// A message body as read.
enum Body {
    Message(Vec<u8>),
    /// More than the limit: skipped.
    Oversized,
}

impl<R: BufRead> Mbox<R> {
    /// Reads messages of at most `limit` bytes from `reader`; `location` is `mbox:/abs/file`.
    pub(super) fn with_limit(reader: R, location: String, limit: u64) -> Self {
        Self {
            reader,
            location,
            limit,
            number: 0,
            state: MboxState::Start,
        }
    }

    /// Skips what comes before the first `From_` line. Returns whether there was anything
    /// but empty lines there, and whether a `From_` line was found.
    fn skip_preamble(&mut self) -> io::Result<(bool, bool)> {
        let mut line = Vec::with_capacity(LINE_PREFIX_BYTES);
        let mut at_start = true;
        let mut prev_empty = false;
        let mut content = false;
        loop {
            line.clear();
            if read_line_capped(&mut self.reader, &mut line, LINE_PREFIX_BYTES)? == 0 {
                return Ok((content, false));
            }
            if (at_start || prev_empty) && line.starts_with(b"From ") {
                return Ok((content, true));
            }
            at_start = false;
            prev_empty = is_empty_line(&line);
            content |= !prev_empty;
        }
    }

    /// Reads the body of a message whose `From_` line was just read, up to the next `From_`
    /// line (consumed) or the end of the file. Returns it and whether another message follows.
    fn read_body(&mut self) -> io::Result<(Body, bool)> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let mut message = Vec::new();
        // Where the last line starts if it is empty: it is only part of the message if a line
        // other than a `From_` line follows it.
        let mut pending_empty: Option<usize> = None;
        loop {
            let start = message.len();
            // Room for the rest of the limit, plus an escaping `>` and a separating empty
            // line, and at least enough to recognise a `From_` line.
            let cap = limit
                .saturating_sub(start)
                .saturating_add(3)
                .max(LINE_PREFIX_BYTES);
            let total = read_line_capped(&mut self.reader, &mut message, cap)?;
            if total == 0 {
                if let Some(end) = pending_empty {
                    message.truncate(end);
                }
                return Ok((Body::Message(message), false));
            }
            let line = message.get(start..).unwrap_or_default();
            if let Some(end) = pending_empty
                && line.starts_with(b"From ")
            {
                message.truncate(end);
                return Ok((Body::Message(message), true));
            }
            if total > line.len() {
                // Cut short by `cap`: the line alone is over the limit.
                drop(message);
                return self.skip_message(false).map(|more| (Body::Oversized, more));
            }
            if is_empty_line(line) {
                pending_empty = Some(start);
            } else {
                pending_empty = None;
                unescape_from(&mut message, start);
            }
            if pending_empty.unwrap_or(message.len()) > limit {
                drop(message);
                let prev_empty = pending_empty.is_some();
                return self
                    .skip_message(prev_empty)
                    .map(|more| (Body::Oversized, more));
            }
        }
    }

    /// Skips the rest of a message, keeping only the start of each line. Returns whether a
    /// `From_` line (consumed) starts another message.
    fn skip_message(&mut self, mut prev_empty: bool) -> io::Result<bool> {
        let mut line = Vec::with_capacity(LINE_PREFIX_BYTES);
        loop {
            line.clear();
            if read_line_capped(&mut self.reader, &mut line, LINE_PREFIX_BYTES)? == 0 {
                return Ok(false);
            }
            if prev_empty && line.starts_with(b"From ") {
                return Ok(true);
            }
            prev_empty = is_empty_line(&line);
        }
    }
}

impl<R: BufRead> Iterator for Mbox<R> {
    type Item = Result<Input, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.state {
                MboxState::Done => return None,
                MboxState::Start => match self.skip_preamble() {
                    Ok((content, found)) => {
                        self.state = if found {
                            MboxState::Message
                        } else {
                            MboxState::Done
                        };
                        if content {
                            let reason = "text before the first `From ` line is not a message \
                                          (not an mbox file?); skipped";
                            return Some(Err(InputError::new(self.location.clone(), reason, None)));
                        }
                    }
                    Err(source) => {
                        self.state = MboxState::Done;
                        let location = self.location.clone();
                        return Some(Err(InputError::new(
                            location,
                            "cannot read mbox",
                            Some(source),
                        )));
                    }
                },
                MboxState::Message => {
                    self.number = self.number.saturating_add(1);
                    let location = format!("{}#{}", self.location, self.number);
                    return Some(match self.read_body() {
                        Ok((body, more)) => {
                            self.state = if more {
                                MboxState::Message
                            } else {
                                MboxState::Done
                            };
                            match body {
                                Body::Message(bytes) => Ok(Input { location, bytes }),
                                Body::Oversized => {
                                    let reason = format!(
                                        "message is larger than the limit of {} bytes; skipped",
                                        self.limit
                                    );
                                    Err(InputError::new(location, reason, None))
                                }
                            }
                        }
                        Err(source) => {
                            // Where the next message starts is unknown: the mbox ends here.
                            self.state = MboxState::Done;
                            Err(InputError::new(location, "cannot read mbox", Some(source)))
                        }
                    });
                }
            }
        }
    }
}

impl<R: BufRead> FusedIterator for Mbox<R> {}

/// Reads one line (through its `\n`, or to the end of the input) and appends at most `cap`
/// bytes of it to `out`. Returns the line's whole length: 0 at the end of the input, and more
/// than what was appended when the line was cut short.
fn read_line_capped<R: BufRead>(
    reader: &mut R,
    out: &mut Vec<u8>,
    cap: usize,
) -> io::Result<usize> {
    let mut total = 0usize;
    let mut stored = 0usize;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(total);
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let used = newline.map_or(available.len(), |i| i.saturating_add(1));
        let chunk = available.get(..used).unwrap_or(available);
        let keep = cap.saturating_sub(stored).min(chunk.len());
        out.extend_from_slice(chunk.get(..keep).unwrap_or_default());
        stored = stored.saturating_add(keep);
        reader.consume(used);
        total = total.saturating_add(used);
        if newline.is_some() {
            return Ok(total);
        }
    }
}

/// Whether a line (with its line ending) is empty.
fn is_empty_line(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// Removes one `>` from the line starting at `start` in `message` if it matches `^>+From `
/// (mboxrd quoting).
fn unescape_from(message: &mut Vec<u8>, start: usize) {
    let line = message.get(start..).unwrap_or_default();
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0
        && line
            .get(quotes..)
            .is_some_and(|rest| rest.starts_with(b"From "))
    {
        // In bounds: the line has at least `quotes` bytes from `start` on.
        message.remove(start);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::source::len_u64;
    use crate::source::tests::{mbox_of, ok_items};

    /// The messages of an in-memory mbox.
    fn mbox_items(data: &[u8], limit: u64) -> Vec<Result<Input, InputError>> {
        Mbox::with_limit(data, "mbox:/m".to_owned(), limit).collect()
    }

    /// The message bodies of an in-memory mbox, failing on any error item.
    fn mbox_messages(data: &[u8]) -> Vec<Vec<u8>> {
        mbox_items(data, MAX_MESSAGE_BYTES)
            .into_iter()
            .map(|item| item.unwrap().bytes)
            .collect()
    }

    #[test]
    fn mbox_with_lf_line_endings() {
        let messages = [
            "Subject: one\n\nbody one\n",
            "Subject: two\n\nbody two\n\nlast para\n",
        ];
        let data = mbox_of(&messages, "\n");
        let got = mbox_messages(&data);
        assert_eq!(got, messages.map(|m| m.as_bytes().to_vec()));
    }

    #[test]
    fn mbox_with_crlf_line_endings() {
        let messages = [
            "Subject: one\r\n\r\nbody one\r\n",
            "Subject: two\r\n\r\nbody two\r\n",
        ];
        let data = mbox_of(&messages, "\r\n");
        let got = mbox_messages(&data);
        assert_eq!(got, messages.map(|m| m.as_bytes().to_vec()));
    }

    #[test]
    fn mbox_locations_number_messages_from_one() {
        let data = mbox_of(&["a\n", "b\n", "c\n"], "\n");
        let locations: Vec<_> = mbox_items(&data, MAX_MESSAGE_BYTES)
            .into_iter()
            .map(|item| item.unwrap().location)
            .collect();
        assert_eq!(locations, ["mbox:/m#1", "mbox:/m#2", "mbox:/m#3"]);
    }

    #[test]
    fn mboxrd_from_lines_lose_one_quote() {
        let data = mbox_of(
            &["Subject: q\n\n>From here\n>>From there\n>Fromage\n> From x\n"],
            "\n",
        );
        // Only lines matching `^>+From ` lose a `>`.
        let expected = "Subject: q\n\nFrom here\n>From there\n>Fromage\n> From x\n";
        assert_eq!(mbox_messages(&data), [expected.as_bytes().to_vec()]);
    }

    #[test]
    fn from_line_not_after_an_empty_line_stays_in_the_body() {
        let messages = [
            "Subject: s\n\nline\nFrom here on it is body\n",
            "Subject: t\n\nx\n",
        ];
        let data = mbox_of(&messages, "\n");
        assert_eq!(
            mbox_messages(&data),
            messages.map(|m| m.as_bytes().to_vec())
        );
    }

    #[test]
    fn mbox_edge_cases() {
        assert!(mbox_items(b"", MAX_MESSAGE_BYTES).is_empty());
        // A last message without a final newline, and one with no body at all.
        assert_eq!(
            mbox_messages(b"From a\nno newline"),
            [b"no newline".to_vec()]
        );
        assert_eq!(
            mbox_messages(b"From a\nx\n\nFrom b\n"),
            [b"x\n".to_vec(), Vec::new()]
        );
        // Only one empty line separates messages: others belong to the message.
        assert_eq!(
            mbox_messages(b"From a\nx\n\n\nFrom b\ny\n"),
            [b"x\n\n".to_vec(), b"y\n".to_vec()]
        );
        // Empty lines before the first `From_` line are not an error.
        assert_eq!(mbox_messages(b"\n\nFrom a\nx\n"), [b"x\n".to_vec()]);

        // Text before the first `From_` line is an error item, then the messages follow.
        let items = mbox_items(
            b"junk\nFrom not-a-separator\n\nFrom a\nx\n",
            MAX_MESSAGE_BYTES,
        );
        assert_eq!(items.len(), 2, "{items:?}");
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err.location, "mbox:/m");
        assert_eq!(
            ok_items(&items),
            [("mbox:/m#1".to_owned(), b"x\n".to_vec())]
        );
    }

    #[test]
    fn oversized_mbox_message_is_an_error_item_and_the_next_comes_out() {
        let limit = 64;
        let small1 = "Subject: 1\n\nsmall\n".to_owned();
        let big = format!("Subject: 2\n\n{}\n", "many lines\n".repeat(20));
        let small3 = "Subject: 3\n\nsmall too\n".to_owned();
        assert!(small1.len() <= 64 && big.len() > 64 && small3.len() <= 64);
        let data = mbox_of(&[&small1, &big, &small3], "\n");
        let items = mbox_items(&data, limit);
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap().bytes, small1.as_bytes());
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.location, "mbox:/m#2");
        assert!(
            err.reason.contains("larger than the limit of 64 bytes"),
            "{err}"
        );
        assert_eq!(items[2].as_ref().unwrap().bytes, small3.as_bytes());
        assert_eq!(items[2].as_ref().unwrap().location, "mbox:/m#3");
    }

    #[test]
    fn oversized_single_line_and_boundaries() {
        // One line far over the limit (no newline to stop the read) is cut short and skipped.
        let long_line = format!("{}\n", "x".repeat(10_000));
        let data = mbox_of(&[&long_line, "ok\n"], "\n");
        let items = mbox_items(&data, 100);
        assert!(items[0].is_err(), "{items:?}");
        assert_eq!(
            ok_items(&items),
            [("mbox:/m#2".to_owned(), b"ok\n".to_vec())]
        );

        // The same with no newline at all up to the end of the input.
        let data = format!("From a\n{}", "x".repeat(10_000));
        let items = mbox_items(data.as_bytes(), 100);
        assert!(items.len() == 1 && items[0].is_err(), "{items:?}");

        // A message of exactly the limit passes, with either line ending and with a quoted
        // `From ` line (whose `>` does not count); one byte more does not.
        for eol in ["\n", "\r\n"] {
            for body in ["abcdefghi", ">From abc"] {
                let message = format!("{body}{eol}");
                let unquoted = message.strip_prefix('>').unwrap_or(&message).to_owned();
                let limit = len_u64(unquoted.len());
                let data = mbox_of(&[&message, &message], eol);
                let items = mbox_items(&data, limit);
                assert_eq!(items.len(), 2);
                for item in &items {
                    assert_eq!(item.as_ref().unwrap().bytes, unquoted.as_bytes());
                }
                let items = mbox_items(&data, limit - 1);
                assert_eq!(items.len(), 2);
                assert!(items.iter().all(Result::is_err), "{items:?}");
            }
        }

        // An oversized message whose excess ends in empty lines still finds the next one.
        let data = b"From a\n0123456789\n\n\n\nFrom b\nnext\n";
        let items = mbox_items(data, 11);
        assert!(items[0].is_err(), "{items:?}");
        assert_eq!(
            ok_items(&items),
            [("mbox:/m#2".to_owned(), b"next\n".to_vec())]
        );
    }
}
