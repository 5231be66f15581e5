//! The entries and tokens of a master file (RFC 1035 §5.1): white space separates tokens, a line
//! ends an entry unless `( … )` spans lines, `;` starts a comment, and a token keeps its `\X`
//! and `\DDD` escapes until its meaning is known ([`decode_escapes`]).

use crate::zone::error::{ParseError, ZoneErrorKind};
use crate::zone::limits::MAX_TOKENS_PER_ENTRY;

/// One token of an entry: its raw bytes (without the quotes of a quoted string) and the line it
/// started on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) raw: &'a [u8],
    pub(super) quoted: bool,
    pub(super) line: usize,
}

/// One logical entry: the tokens of a line, or of several lines joined by parentheses.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) line: usize,
    /// The entry started with white space: its owner is the previous one (RFC 1035 §5.1).
    pub(super) blank_owner: bool,
    pub(super) tokens: Vec<Token<'a>>,
}

/// Splits the input into entries.
pub(super) struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            line: 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// The next entry, `Ok(None)` at the end of the input.
    pub(super) fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        loop {
            let Some(first) = self.peek() else {
                return Ok(None);
            };
            let start_line = self.line;
            let blank_owner = first == b' ' || first == b'\t';
            let mut tokens = Vec::new();
            let mut depth_line: Option<usize> = None;
            loop {
                let Some(c) = self.peek() else {
                    if let Some(open) = depth_line {
                        return Err((open, ZoneErrorKind::UnclosedParenthesis));
                    }
                    break;
                };
                match c {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b'\n' => {
                        self.pos += 1;
                        self.line += 1;
                        if depth_line.is_none() {
                            break;
                        }
                    }
                    b';' => {
                        while let Some(c) = self.peek() {
                            if c == b'\n' {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    b'(' => {
                        if depth_line.is_some() {
                            return Err((self.line, ZoneErrorKind::NestedParenthesis));
                        }
                        depth_line = Some(self.line);
                        self.pos += 1;
                    }
                    b')' => {
                        if depth_line.is_none() {
                            return Err((self.line, ZoneErrorKind::UnbalancedParenthesis));
                        }
                        depth_line = None;
                        self.pos += 1;
                    }
                    b'"' => {
                        let tok = self.quoted()?;
                        push_token(&mut tokens, tok)?;
                    }
                    _ => {
                        let tok = self.word()?;
                        push_token(&mut tokens, tok)?;
                    }
                }
            }
            if !tokens.is_empty() {
                return Ok(Some(Entry {
                    line: start_line,
                    blank_owner,
                    tokens,
                }));
            }
        }
    }

    /// An unquoted word: up to white space, `;`, `(`, `)` or `"`, with `\X` escapes kept raw.
    fn word(&mut self) -> Result<Token<'a>, ParseError> {
        let start = self.pos;
        let line = self.line;
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                b'\\' => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err((self.line, ZoneErrorKind::BadEscape)),
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                _ => self.pos += 1,
            }
        }
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        Ok(Token {
            raw,
            quoted: false,
            line,
        })
    }

    /// A quoted string: from `"` to the next unescaped `"` on the same line.
    fn quoted(&mut self) -> Result<Token<'a>, ParseError> {
        let line = self.line;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err((line, ZoneErrorKind::UnterminatedQuote)),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err((line, ZoneErrorKind::UnterminatedQuote)),
                        Some(b'\n') => {
                            self.line += 1;
                            self.pos += 1;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        self.pos += 1; // the closing quote
        Ok(Token {
            raw,
            quoted: true,
            line,
        })
    }
}

fn push_token<'a>(tokens: &mut Vec<Token<'a>>, tok: Token<'a>) -> Result<(), ParseError> {
    if tokens.len() >= MAX_TOKENS_PER_ENTRY {
        return Err((
            tok.line,
            ZoneErrorKind::TooManyTokens {
                limit: MAX_TOKENS_PER_ENTRY,
            },
        ));
    }
    tokens.push(tok);
    Ok(())
}

/// One decoded octet of a token: its value and whether it was escaped.
pub(super) fn decode_escapes(raw: &[u8], line: usize) -> Result<Vec<(u8, bool)>, ParseError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push((c, false));
            i += 1;
            continue;
        }
        // RFC 1035 §5.1: "\X where X is any character other than a digit (0-9), is used to quote
        // that character"; "\DDD where each D is a digit is the octet corresponding to the
        // decimal number described by DDD".
        match raw.get(i + 1) {
            Some(d) if d.is_ascii_digit() => {
                let digits = raw
                    .get(i + 1..i + 4)
                    .ok_or((line, ZoneErrorKind::BadEscape))?;
                let mut value: u32 = 0;
                for &d in digits {
                    if !d.is_ascii_digit() {
                        return Err((line, ZoneErrorKind::BadEscape));
                    }
                    value = value * 10 + u32::from(d - b'0');
                }
                let octet = u8::try_from(value).map_err(|_| (line, ZoneErrorKind::BadEscape))?;
                out.push((octet, true));
                i += 4;
            }
            Some(&x) => {
                out.push((x, true));
                i += 2;
            }
            None => return Err((line, ZoneErrorKind::BadEscape)),
        }
    }
    Ok(out)
}

pub(super) fn token_text(tok: &Token<'_>) -> String {
    String::from_utf8_lossy(tok.raw).into_owned()
}
