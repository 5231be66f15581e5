//! The RFC 1035 §5 master-file reader: tokens, entries, directives and RDATA.
//!
//! The input is bytes (a master file need not be UTF-8). Tokens keep their raw escaped text and
//! are decoded where their meaning is known, because `\.` means "a dot inside a label" in a
//! domain name but just "a dot" in a character-string.
//!
//! [`lex`] splits the input into entries of tokens; [`Reader`] reads each entry's owner, TTL,
//! class and type ([`name`], [`ttl`], [`rtype`]) and directives, and [`rdata`] its data.

mod lex;
mod name;
mod rdata;
mod rtype;
mod ttl;

use mailward_types::Domain;

use self::lex::{Entry, Lexer, Token, token_text};
pub(super) use self::name::parse_name_token;
use self::rdata::parse_rdata;
use self::rtype::parse_rtype;
use self::ttl::{is_ttl_token, parse_ttl};
use crate::zone::error::{ParseError, ZoneErrorKind};
use crate::zone::record::RecordData;

/// One record read from the file.
#[derive(Debug)]
pub(super) struct ParsedRecord {
    pub(super) line: usize,
    pub(super) owner: Domain,
    pub(super) ttl: u32,
    pub(super) data: RecordData,
}

/// Reader state across entries.
pub(super) struct Reader<'a> {
    lexer: Lexer<'a>,
    origin: Option<Domain>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<Domain>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(input: &'a [u8], origin: Option<Domain>) -> Self {
        Self {
            lexer: Lexer::new(input),
            origin,
            default_ttl: None,
            last_ttl: None,
            last_owner: None,
        }
    }

    /// The next record, `Ok(None)` at the end of the input.
    pub(super) fn next_record(&mut self) -> Result<Option<ParsedRecord>, ParseError> {
        loop {
            let Some(entry) = self.lexer.next_entry()? else {
                return Ok(None);
            };
            if let Some(rec) = self.entry(&entry)? {
                return Ok(Some(rec));
            }
        }
    }

    fn entry(&mut self, entry: &Entry<'_>) -> Result<Option<ParsedRecord>, ParseError> {
        let line = entry.line;
        let mut toks = entry.tokens.iter();
        if !entry.blank_owner
            && let Some(first) = entry.tokens.first()
            && !first.quoted
            && first.raw.first() == Some(&b'$')
        {
            toks.next();
            self.directive(first, line, toks.as_slice())?;
            return Ok(None);
        }
        let owner = if entry.blank_owner {
            self.last_owner
                .clone()
                .ok_or((line, ZoneErrorKind::NoPreviousOwner))?
        } else {
            let tok = toks.next().ok_or((line, ZoneErrorKind::MissingType))?;
            parse_name_token(tok.raw, tok.line, self.origin.as_ref())?
        };
        self.last_owner = Some(owner.clone());

        // RFC 1035 §5.1: "<domain-name> [<TTL>] [<class>] <type> <RDATA>" or with class and TTL
        // swapped; both are optional.
        let mut ttl = None;
        let mut class_seen = false;
        let rtype_tok = loop {
            let tok = toks.next().ok_or((line, ZoneErrorKind::MissingType))?;
            if ttl.is_none() && is_ttl_token(tok) {
                ttl = Some(parse_ttl(tok.raw).ok_or((
                    tok.line,
                    ZoneErrorKind::InvalidTtl {
                        ttl: token_text(tok),
                    },
                ))?);
                continue;
            }
            if !class_seen && !tok.quoted {
                let upper = tok.raw.to_ascii_uppercase();
                match &upper[..] {
                    b"IN" | b"CLASS1" => {
                        class_seen = true;
                        continue;
                    }
                    b"CH" | b"HS" | b"CS" | b"NONE" | b"ANY" => {
                        return Err((
                            tok.line,
                            ZoneErrorKind::UnsupportedClass {
                                class: token_text(tok),
                            },
                        ));
                    }
                    _ => {}
                }
            }
            break tok;
        };
        let rtype = parse_rtype(rtype_tok)?;
        let data = parse_rdata(rtype, toks.as_slice(), line, self.origin.as_ref())?;
        let ttl = match ttl {
            Some(t) => {
                self.last_ttl = Some(t);
                t
            }
            None => match (self.default_ttl, self.last_ttl, &data) {
                (Some(t), _, _) => t,
                (None, Some(t), _) => t,
                // RFC 1035 §5.1 era files: the SOA MINIMUM served as the default TTL.
                (None, None, RecordData::Soa(soa)) => soa.minimum,
                (None, None, _) => return Err((line, ZoneErrorKind::NoTtl)),
            },
        };
        Ok(Some(ParsedRecord {
            line,
            owner,
            ttl,
            data,
        }))
    }

    fn directive(
        &mut self,
        name: &Token<'_>,
        line: usize,
        args: &[Token<'_>],
    ) -> Result<(), ParseError> {
        let upper = name.raw.to_ascii_uppercase();
        match &upper[..] {
            b"$ORIGIN" => {
                let [arg] = args else {
                    return Err((
                        line,
                        ZoneErrorKind::BadDirective {
                            directive: "$ORIGIN",
                        },
                    ));
                };
                // The new origin may itself be relative to the current one.
                self.origin = Some(parse_name_token(arg.raw, arg.line, self.origin.as_ref())?);
                Ok(())
            }
            b"$TTL" => {
                let [arg] = args else {
                    return Err((line, ZoneErrorKind::BadDirective { directive: "$TTL" }));
                };
                self.default_ttl = Some(parse_ttl(arg.raw).ok_or((
                    arg.line,
                    ZoneErrorKind::InvalidTtl {
                        ttl: token_text(arg),
                    },
                ))?);
                Ok(())
            }
            b"$INCLUDE" => Err((line, ZoneErrorKind::IncludeNotSupported)),
            _ => Err((
                line,
                ZoneErrorKind::UnknownDirective {
                    directive: token_text(name),
                },
            )),
        }
    }
}
