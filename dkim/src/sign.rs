//! Signing (RFC 6376 §5).

use mailward_types::Domain;
use mailward_types::message::{HeaderField, Message, MessageError};

use crate::algorithm::{CanonicalizationPair, SigningAlgorithm};
use crate::crypto::{SigningKey, SigningKeyError};
use crate::hash::BodyHasher;
use crate::header_hash::header_hash;
use crate::tag_value::b64_encode;

/// Fields signed when present, once per occurrence (RFC 6376 §5.4.1 recommendations plus
/// MIME and threading fields).
pub const DEFAULT_SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-ID",
    "Content-Description",
    "Resent-Date",
    "Resent-From",
    "Resent-To",
    "Resent-Cc",
    "Resent-Message-ID",
    "Sender",
    "List-Id",
    "List-Help",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Subscribe",
    "List-Post",
    "List-Owner",
    "List-Archive",
    "DKIM-Signature",
];

/// Fields over-signed by default: listed once more than they occur, so that adding one more
/// instance breaks the signature (RFC 6376 §5.4.2, §8.15).
pub const OVERSIGNED_HEADERS: &[&str] = &[
    "From",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Reply-To",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Longest line the signer writes (RFC 5322 §2.1.1 SHOULD limit of 78 minus margin).
const MAX_LINE: usize = 76;

/// Why signing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The message cannot be split into header and body.
    #[error("cannot split the message into header fields and body")]
    Message(#[from] MessageError),
    /// The message has no From field (RFC 6376 §5.4: From MUST be signed).
    #[error("message has no From field")]
    NoFrom,
    /// The header list is invalid or lacks From.
    #[error("invalid header list: {0}")]
    InvalidHeaders(String),
    /// The selector is not a valid sequence of DNS labels.
    #[error("invalid selector {0:?}")]
    InvalidSelector(String),
    /// `i=` is not within `d=`.
    #[error("identity {0:?} is not within the signing domain")]
    InvalidIdentity(String),
    /// The key cannot make this signature.
    #[error(transparent)]
    Key(#[from] SigningKeyError),
}

/// A DKIM signer: key, domain, selector and choices.
///
/// # Examples
///
/// ```
/// use mailward_dkim::{Signer, SigningKey};
///
/// let key = SigningKey::ed25519_from_seed(&[7; 32]);
/// let signer = Signer::new(key, "example.com".parse()?, "sel")?;
/// let field = signer.sign(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n", 1_700_000_000)?;
/// assert!(field.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Signer {
    key: SigningKey,
    algorithm: SigningAlgorithm,
    domain: Domain,
    selector: String,
    canonicalization: CanonicalizationPair,
    headers: Option<Vec<String>>,
    identity: Option<String>,
    expiration: Option<u64>,
    body_length: bool,
    line_ending: &'static str,
}

impl Signer {
    /// A signer with relaxed/relaxed, the key's default algorithm, the default header set with
    /// over-signing, `t=` and no `x=`.
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidSelector`] when `selector` is not DNS labels.
    pub fn new(key: SigningKey, domain: Domain, selector: &str) -> Result<Self, SignError> {
        let valid = !selector.is_empty()
            && selector.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid || crate::signature::key_name(selector, &domain).is_err() {
            return Err(SignError::InvalidSelector(selector.to_owned()));
        }
        Ok(Self {
            algorithm: key.default_algorithm(),
            key,
            domain,
            selector: selector.to_ascii_lowercase(),
            canonicalization: CanonicalizationPair::RELAXED,
            headers: None,
            identity: None,
            expiration: None,
            body_length: false,
            line_ending: "\r\n",
        })
    }

    /// Sets the algorithm (must match the key type).
    ///
    /// # Errors
    ///
    /// [`SigningKeyError::AlgorithmMismatch`] when it does not.
    pub fn with_algorithm(mut self, algorithm: SigningAlgorithm) -> Result<Self, SignError> {
        if algorithm.key_type() != self.key.key_type() {
            return Err(SigningKeyError::AlgorithmMismatch(algorithm).into());
        }
        self.algorithm = algorithm;
        Ok(self)
    }

    /// Sets the canonicalization.
    pub fn with_canonicalization(mut self, c: CanonicalizationPair) -> Self {
        self.canonicalization = c;
        self
    }

    /// Signs exactly these header names, in this order (repeat a name to over-sign it).
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidHeaders`] when a name is invalid or From is missing.
    pub fn with_headers<I, S>(mut self, names: I) -> Result<Self, SignError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if let Some(bad) = names.iter().find(|n| !is_field_name(n)) {
            return Err(SignError::InvalidHeaders(bad.clone()));
        }
        if !names.iter().any(|n| n.eq_ignore_ascii_case("from")) {
            return Err(SignError::InvalidHeaders("From must be signed".into()));
        }
        self.headers = Some(names);
        Ok(self)
    }

    /// Sets `i=`.
    ///
    /// # Errors
    ///
    /// [`SignError::InvalidIdentity`] when its domain is not `d=` or a subdomain.
    pub fn with_identity(mut self, identity: &str) -> Result<Self, SignError> {
        let ok = identity.rsplit_once('@').is_some_and(|(_, d)| {
            Domain::new(d).is_ok_and(|d| d == self.domain || d.is_subdomain_of(&self.domain))
        });
        if !ok {
            return Err(SignError::InvalidIdentity(identity.to_owned()));
        }
        self.identity = Some(identity.to_owned());
        Ok(self)
    }

    /// Adds `x=` this many seconds after the signing time.
    pub fn with_expiration(mut self, seconds: u64) -> Self {
        self.expiration = Some(seconds.max(1));
        self
    }

    /// Adds `l=` with the canonical body length (not recommended: RFC 6376 §8.2).
    pub fn with_body_length(mut self, on: bool) -> Self {
        self.body_length = on;
        self
    }

    /// Line ending of the written field's folding and end: `"\r\n"` (default) or `"\n"`.
    pub fn with_line_ending(mut self, lf_only: bool) -> Self {
        self.line_ending = if lf_only { "\n" } else { "\r\n" };
        self
    }

    /// Signs a whole message; returns the `DKIM-Signature` field to prepend, folded, ending
    /// with the line ending. `now` is seconds since the epoch (`t=`).
    ///
    /// # Errors
    ///
    /// A [`SignError`] for malformed messages, a missing From, or a key failure.
    pub fn sign(&self, message: &[u8], now: u64) -> Result<String, SignError> {
        let msg = Message::parse(message)?;
        let mut ctx = self.begin(msg.headers())?;
        ctx.update(msg.body());
        ctx.finish(now)
    }

    /// Starts a streaming signature over a parsed header; feed the body with
    /// [`SigningContext::update`]. Memory stays constant whatever the body size.
    ///
    /// # Errors
    ///
    /// [`SignError::NoFrom`] when the header has no From field.
    pub fn begin<'s, 'h>(
        &'s self,
        headers: &'h [HeaderField<'h>],
    ) -> Result<SigningContext<'s, 'h>, SignError> {
        if !headers.iter().any(|f| f.name_eq("From")) {
            return Err(SignError::NoFrom);
        }
        let signed = match &self.headers {
            Some(list) => list.clone(),
            None => default_header_list(headers),
        };
        Ok(SigningContext {
            signer: self,
            headers,
            signed,
            body: BodyHasher::new(self.canonicalization.body, self.algorithm.hash(), None),
        })
    }
}

/// The default `h=` for these fields: each default name once per occurrence, over-signed names
/// once more.
fn default_header_list(headers: &[HeaderField<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for &name in DEFAULT_SIGNED_HEADERS {
        let count = headers.iter().filter(|f| f.name_eq(name)).count();
        let extra = usize::from(
            OVERSIGNED_HEADERS
                .iter()
                .any(|o| o.eq_ignore_ascii_case(name)),
        );
        for _ in 0..count + extra {
            out.push(name.to_owned());
        }
    }
    out
}

/// A signature in progress: the body is streamed in, then [`Self::finish`] signs.
#[derive(Debug)]
pub struct SigningContext<'s, 'h> {
    signer: &'s Signer,
    headers: &'h [HeaderField<'h>],
    signed: Vec<String>,
    body: BodyHasher,
}

impl SigningContext<'_, '_> {
    /// Feeds the next body chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.body.update(chunk);
    }

    /// Computes the signature and returns the folded `DKIM-Signature` field with its final
    /// line ending.
    ///
    /// # Errors
    ///
    /// [`SignError::Key`] when signing fails.
    pub fn finish(self, now: u64) -> Result<String, SignError> {
        let s = self.signer;
        let body = self.body.finish();
        let mut tags: Vec<String> = vec![
            "v=1".into(),
            format!("a={}", s.algorithm),
            format!("c={}", s.canonicalization),
            format!("d={}", s.domain),
            format!("s={}", s.selector),
            format!("t={now}"),
        ];
        if let Some(x) = s.expiration {
            tags.push(format!("x={}", now.saturating_add(x)));
        }
        if let Some(i) = &s.identity {
            tags.push(format!("i={i}"));
        }
        if s.body_length {
            tags.push(format!("l={}", body.canonical_length));
        }
        let mut f = Folder::new(s.line_ending);
        f.push_str("DKIM-Signature:");
        for t in &tags {
            f.token(&format!("{t};"), true);
        }
        // h= folds at the colons.
        let mut first = true;
        for (k, name) in self.signed.iter().enumerate() {
            let last = k + 1 == self.signed.len();
            let piece = format!(
                "{}{name}{}",
                if first { "h=" } else { "" },
                if last { ";" } else { ":" }
            );
            f.token(&piece, first);
            first = false;
        }
        f.base64("bh=", &b64_encode(&body.digest), true);
        f.token("b=", true);
        let unsigned = f.text.clone();
        let digest = header_hash(
            s.algorithm.hash(),
            s.canonicalization.header,
            self.headers,
            self.signed.iter().map(String::as_str),
            None,
            unsigned.as_bytes(),
        );
        let signature = s.key.sign_digest(s.algorithm, &digest)?;
        f.base64("", &b64_encode(&signature), false);
        f.text.push_str(s.line_ending);
        Ok(f.text)
    }
}

/// Builds a folded field, keeping every line at most [`MAX_LINE`] columns.
struct Folder {
    text: String,
    col: usize,
    eol: &'static str,
}

impl Folder {
    fn new(eol: &'static str) -> Self {
        Self {
            text: String::with_capacity(1024),
            col: 0,
            eol,
        }
    }

    fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.col += s.len();
    }

    fn fold(&mut self) {
        self.text.push_str(self.eol);
        self.text.push('\t');
        self.col = 8;
    }

    /// Appends a token, preceded by a space if `spaced`, folding first if it would not fit.
    fn token(&mut self, tok: &str, spaced: bool) {
        let need = tok.len() + usize::from(spaced);
        if self.col + need > MAX_LINE {
            self.fold();
        } else if spaced {
            self.push_str(" ");
        }
        self.push_str(tok);
    }

    /// Appends `name` + base64, split over lines as needed (FWS is allowed inside base64,
    /// RFC 6376 §3.5).
    fn base64(&mut self, name: &str, b64: &str, with_semicolon: bool) {
        if !name.is_empty() {
            let whole = name.len() + b64.len() + usize::from(with_semicolon);
            if self.col + 1 + whole > MAX_LINE && 8 + whole <= MAX_LINE {
                self.fold();
                self.push_str(name);
            } else {
                self.token(name, true);
            }
        }
        let mut rest = b64;
        while !rest.is_empty() {
            let room = MAX_LINE.saturating_sub(self.col + usize::from(with_semicolon));
            if room < 8 {
                self.fold();
                continue;
            }
            let take = room.min(rest.len());
            let (now, later) = rest.split_at(take);
            self.push_str(now);
            rest = later;
            if !rest.is_empty() {
                self.fold();
            }
        }
        if with_semicolon {
            self.push_str(";");
        }
    }
}

/// `field-name = 1*ftext`, `ftext = %d33-57 / %d59-126` (RFC 5322 §3.6.8).
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| matches!(b, 33..=57 | 59..=126))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_errors_are_the_source_not_the_message() {
        let signer = Signer::new(
            SigningKey::ed25519_from_seed(&[7; 32]),
            Domain::new("example.com").unwrap(),
            "sel",
        )
        .unwrap();
        let e = signer
            .sign(b" folded\r\nFrom: a@example.com\r\n\r\n", 0)
            .unwrap_err();
        assert!(matches!(e, SignError::Message(_)));
        assert_eq!(
            e.to_string(),
            "cannot split the message into header fields and body"
        );
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("message starts with a continuation line")
        );
    }
}
