//! Validated DNS domain names.
//!
//! A [`Domain`] is what the protocols query and compare: a fully-qualified name, without the
//! trailing dot, lower-cased, with every internationalised label converted to its A-label
//! (`xn--…`, IDNA 2008 / UTS #46). Comparison is therefore a plain string comparison.
//!
//! DNS itself allows any octet in a label ([RFC 2181 §11](https://www.rfc-editor.org/rfc/rfc2181#section-11)),
//! and SPF macro expansion ([RFC 7208 §7](https://www.rfc-editor.org/rfc/rfc7208#section-7)) can
//! produce names with `:`, `/`, `%` or spaces that must still be queried. `Domain` accepts every
//! printable or non-printable ASCII octet except `.` inside a label; the stricter host-name rule
//! (letters, digits, hyphen) is a separate check, [`Domain::is_hostname`], for protocols that ask
//! for it.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// RFC 1035 §2.3.4: "labels 63 octets or less".
pub const MAX_LABEL_LEN: usize = 63;

/// RFC 1035 §2.3.4: "names 255 octets or less" on the wire, which is 253 octets of text without
/// the trailing dot (each label adds its length octet, the root adds one).
pub const MAX_NAME_LEN: usize = 253;

/// A validated, lower-cased, A-label DNS domain name without the trailing dot.
///
/// A clone shares the text (a reference count), so names are cheap to hand around.
///
/// # Examples
///
/// ```
/// use mailward_types::Domain;
///
/// let d: Domain = "Mail.Example.COM.".parse()?;
/// assert_eq!(d.as_str(), "mail.example.com");
/// assert_eq!(d.parent().map(|p| p.to_string()), Some("example.com".to_owned()));
/// assert_eq!(d.labels().collect::<Vec<_>>(), ["mail", "example", "com"]);
///
/// let idn: Domain = "bücher.example".parse()?;
/// assert_eq!(idn.as_str(), "xn--bcher-kva.example");
/// # Ok::<(), mailward_types::DomainError>(())
/// ```
#[derive(Clone, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Domain(Arc<str>);

/// Equal when the names are. Clones share their text, so two handles on the same text are
/// equal without comparing octets (a cache key found by a name cloned from it, for example).
impl PartialEq for Domain {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

/// The name's hash (as the derived one was: equal names hash alike, shared or not).
impl std::hash::Hash for Domain {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// Why a string is not a valid [`Domain`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The name is empty (or only the root `.`).
    #[error("empty domain name")]
    Empty,
    /// A label is empty (two dots in a row, or a leading dot).
    #[error("empty label in domain name")]
    EmptyLabel,
    /// A label is longer than 63 octets (RFC 1035 §2.3.4).
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// The name is longer than 253 octets of text (RFC 1035 §2.3.4).
    #[error("domain name longer than 253 octets")]
    TooLong,
    /// A non-ASCII name could not be converted to A-labels (IDNA/UTS #46).
    #[error("invalid internationalized domain name")]
    Idna,
}

impl Domain {
    /// Validates and normalises `name`: one trailing dot is removed, ASCII is lower-cased, and
    /// non-ASCII names are converted to A-labels.
    ///
    /// # Errors
    ///
    /// A [`DomainError`] when a label is empty or too long, the name is too long, or a non-ASCII
    /// name is not a valid IDN.
    pub fn new(name: &str) -> Result<Self, DomainError> {
        let trimmed = name.strip_suffix('.').unwrap_or(name);
        if trimmed.is_empty() {
            return Err(DomainError::Empty);
        }
        if trimmed.is_ascii() {
            // Lower-casing keeps the length and the dots, so the name is checked first and
            // copied (lower-cased) only when valid.
            Self::check(trimmed)?;
            return Ok(Self(lowercase_shared(trimmed)));
        }
        let ascii = idna::domain_to_ascii(trimmed).map_err(|_| DomainError::Idna)?;
        Self::check(&ascii)?;
        Ok(Self(ascii.into()))
    }

    /// For names built inside this crate that are valid by construction (lower-case ASCII).
    pub(crate) fn from_valid_ascii(ascii: String) -> Self {
        debug_assert!(Self::check(&ascii).is_ok());
        Self(ascii.into())
    }

    fn check(ascii: &str) -> Result<(), DomainError> {
        if ascii.is_empty() {
            return Err(DomainError::Empty);
        }
        if ascii.len() > MAX_NAME_LEN {
            return Err(DomainError::TooLong);
        }
        // Labels left to right (the first bad label decides the error); the dots are found
        // eight octets at a time (this runs for every name a protocol builds).
        let label = |len: usize| match len {
            0 => Err(DomainError::EmptyLabel),
            n if n > MAX_LABEL_LEN => Err(DomainError::LabelTooLong),
            _ => Ok(()),
        };
        const LOW7: u64 = u64::from_le_bytes([0x7F; 8]);
        const DOTS: u64 = u64::from_le_bytes([b'.'; 8]);
        let b = ascii.as_bytes();
        let (mut start, mut i) = (0usize, 0usize);
        while let Some(w) = b
            .get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
        {
            // High bit set exactly in the octets equal to '.' (no carries between octets).
            let x = w ^ DOTS;
            let mut dots = !(((x & LOW7) + LOW7) | x | LOW7);
            while dots != 0 {
                let dot = i + usize::try_from(dots.trailing_zeros() / 8).unwrap_or(0);
                label(dot - start)?;
                start = dot + 1;
                dots &= dots - 1;
            }
            i += 8;
        }
        for (k, c) in b.iter().enumerate().skip(i) {
            if *c == b'.' {
                label(k - start)?;
                start = k + 1;
            }
        }
        label(b.len() - start)?;
        Ok(())
    }

    /// The name as text: lower-case A-labels separated by dots, no trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The labels from the leftmost (most specific) to the rightmost (the TLD).
    pub fn labels(&self) -> std::str::Split<'_, char> {
        self.0.split('.')
    }

    /// Number of labels (`mail.example.com` has 3).
    pub fn label_count(&self) -> usize {
        self.0.split('.').count()
    }

    /// The name with its leftmost label removed, or `None` for a single-label name.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_once('.')?;
        // A suffix of a valid name made of whole labels is itself valid.
        Some(Self(rest.into()))
    }

    /// The name made of the rightmost `n` labels, or `None` if `n` is zero or larger than the
    /// label count. `mail.example.com` with `n = 2` gives `example.com`.
    pub fn suffix(&self, n: usize) -> Option<Self> {
        let count = self.label_count();
        if n == 0 || n > count {
            return None;
        }
        let mut rest: &str = &self.0;
        for _ in 0..count - n {
            rest = rest.split_once('.').map_or(rest, |(_, r)| r);
        }
        Some(Self(rest.into()))
    }

    /// Whether `self` equals `other` or lies below it (`a.example.com` is a subdomain of
    /// `example.com`; `badexample.com` is not).
    pub fn is_subdomain_of(&self, other: &Self) -> bool {
        match self.0.strip_suffix(&*other.0) {
            Some("") => true,
            Some(head) => head.ends_with('.'),
            None => false,
        }
    }

    /// The stricter host-name rule ([RFC 1123 §2.1](https://www.rfc-editor.org/rfc/rfc1123#section-2.1),
    /// RFC 952): every label made of letters, digits and hyphens, not starting or ending with a
    /// hyphen. A-labels (`xn--…`) pass.
    pub fn is_hostname(&self) -> bool {
        self.labels().all(|label| {
            label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
    }

    /// The name in Unicode (U-labels), for display to people. Labels that are not valid A-labels
    /// are kept as they are.
    pub fn to_unicode(&self) -> String {
        idna::domain_to_unicode(&self.0).0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({:?})", &*self.0)
    }
}

impl FromStr for Domain {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Domain {
    type Error = DomainError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for Domain {
    type Error = DomainError;

    /// As [`Domain::new`].
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if !s.is_ascii() || s.ends_with('.') || s.is_empty() {
            return Self::new(&s);
        }
        Self::check(&s)?;
        Ok(Self(lowercase_shared(&s)))
    }
}

impl From<Domain> for String {
    fn from(d: Domain) -> Self {
        d.0.as_ref().to_owned()
    }
}

/// The same name as text: `HashMap<Domain, _>` can be searched with a `&str` that is already a
/// domain's text (lower case, no trailing dot), without building a `Domain`.
impl Borrow<str> for Domain {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// `ascii` lower-cased in one shared allocation (no intermediate `String`): names are at most
/// [`MAX_NAME_LEN`] octets, checked before this is called, so a stack buffer holds any of them.
fn lowercase_shared(ascii: &str) -> Arc<str> {
    if !ascii.bytes().any(|b| b.is_ascii_uppercase()) {
        return Arc::from(ascii);
    }
    let mut buf = [0u8; MAX_NAME_LEN];
    match buf.get_mut(..ascii.len()) {
        Some(dst) => {
            dst.copy_from_slice(ascii.as_bytes());
            dst.make_ascii_lowercase();
            // Lower-casing ASCII keeps it ASCII, hence UTF-8.
            Arc::from(std::str::from_utf8(dst).unwrap_or_default())
        }
        None => Arc::from(ascii.to_ascii_lowercase()),
    }
}

impl AsRef<str> for Domain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_from_string_matches_new() {
        for name in [
            "ExAmple.COM",
            "example.com.",
            "b\u{fc}cher.de",
            "a..b",
            "",
            "x_y.example",
        ] {
            assert_eq!(
                Domain::try_from(name.to_owned()),
                Domain::new(name),
                "{name:?}"
            );
        }
        assert_eq!(
            Domain::try_from("Sel._DomainKey.Example.ORG".to_owned())
                .unwrap()
                .as_str(),
            "sel._domainkey.example.org"
        );
    }

    /// The label rule written with `split`, the model for the one-pass [`Domain::check`].
    fn check_by_split(ascii: &str) -> Result<(), DomainError> {
        if ascii.is_empty() {
            return Err(DomainError::Empty);
        }
        if ascii.len() > MAX_NAME_LEN {
            return Err(DomainError::TooLong);
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(DomainError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(DomainError::LabelTooLong);
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn check_matches_split_model(
            s in "[aB.]{0,12}|(x{0,70}[.]{0,2}){0,5}|([a-z]{1,63}[.]){0,5}[a-z]{0,64}[.]?",
        ) {
            proptest::prop_assert_eq!(Domain::check(&s), check_by_split(&s));
            // `new` agrees with the model too (after removing one final dot), and lower-cases.
            let trimmed = s.strip_suffix('.').unwrap_or(&s);
            let expected = check_by_split(trimmed).map(|()| trimmed.to_ascii_lowercase());
            proptest::prop_assert_eq!(
                Domain::new(&s).map(|d| d.as_str().to_owned()),
                expected
            );
        }
    }

    #[test]
    fn normalises_case_and_trailing_dot() {
        assert_eq!(Domain::new("ExAmPle.COM.").unwrap().as_str(), "example.com");
        assert_eq!(
            Domain::new("example.com").unwrap(),
            Domain::new("EXAMPLE.com.").unwrap()
        );
    }

    #[test]
    fn rejects_structural_errors() {
        assert_eq!(Domain::new(""), Err(DomainError::Empty));
        assert_eq!(Domain::new("."), Err(DomainError::Empty));
        assert_eq!(Domain::new("a..b"), Err(DomainError::EmptyLabel));
        assert_eq!(Domain::new(".a"), Err(DomainError::EmptyLabel));
        assert_eq!(Domain::new("a.."), Err(DomainError::EmptyLabel));
        let long_label = "a".repeat(64);
        assert_eq!(
            Domain::new(&format!("{long_label}.com")),
            Err(DomainError::LabelTooLong)
        );
        assert!(Domain::new(&format!("{}.com", "a".repeat(63))).is_ok());
    }

    #[test]
    fn length_limit_is_253_text_octets() {
        // 4 labels of 63 = 252 + 3 dots = 255 > 253.
        let l = "a".repeat(63);
        assert_eq!(
            Domain::new(&format!("{l}.{l}.{l}.{l}")),
            Err(DomainError::TooLong)
        );
        // 3 x 63 + 61 + 3 dots = 253 exactly.
        let name = format!("{l}.{l}.{l}.{}", "b".repeat(61));
        assert_eq!(name.len(), 253);
        assert!(Domain::new(&name).is_ok());
        assert!(Domain::new(&format!("{name}.")).is_ok());
    }

    #[test]
    fn idn_becomes_a_label() {
        // RFC 3492 / UTS #46: "bücher" encodes as "bcher-kva".
        assert_eq!(
            Domain::new("Bücher.Example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            Domain::new("xn--bcher-kva.example").unwrap().to_unicode(),
            "bücher.example"
        );
    }

    #[test]
    fn odd_octets_are_allowed_but_not_hostnames() {
        // RFC 7208 §7 macro expansions may produce these; they must be queryable.
        for name in [
            "a:b.example",
            "1.2.3.4/24.example",
            "100%.example",
            "sp ace.example",
        ] {
            let d = Domain::new(name).unwrap();
            assert!(!d.is_hostname(), "{name}");
        }
        assert!(Domain::new("mail-1.example.com").unwrap().is_hostname());
        assert!(!Domain::new("-a.example").unwrap().is_hostname());
        assert!(!Domain::new("_dmarc.example").unwrap().is_hostname());
    }

    #[test]
    fn parent_suffix_and_labels() {
        let d = Domain::new("a.b.example.com").unwrap();
        assert_eq!(d.label_count(), 4);
        assert_eq!(d.parent().unwrap().as_str(), "b.example.com");
        assert_eq!(d.suffix(2).unwrap().as_str(), "example.com");
        assert_eq!(d.suffix(4).unwrap(), d);
        assert_eq!(d.suffix(5), None);
        assert_eq!(d.suffix(0), None);
        assert_eq!(Domain::new("com").unwrap().parent(), None);
        assert_eq!(
            d.labels().rev().collect::<Vec<_>>(),
            ["com", "example", "b", "a"]
        );
    }

    #[test]
    fn subdomain_relation_respects_label_boundaries() {
        let org = Domain::new("example.com").unwrap();
        assert!(Domain::new("example.com").unwrap().is_subdomain_of(&org));
        assert!(Domain::new("a.example.com").unwrap().is_subdomain_of(&org));
        assert!(!Domain::new("badexample.com").unwrap().is_subdomain_of(&org));
        assert!(!org.is_subdomain_of(&Domain::new("a.example.com").unwrap()));
    }
}
