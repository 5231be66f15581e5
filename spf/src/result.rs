//! The SPF result ([`SpfResult`]).

use std::fmt;

use crate::record::Qualifier;

/// An SPF result ([RFC 7208 §2.6](https://www.rfc-editor.org/rfc/rfc7208#section-2.6)).
///
/// Complete by definition (RFC 7208 defines exactly these seven results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpfResult {
    /// No SPF record, or no valid domain to check.
    None,
    /// The domain makes no assertion about the client.
    Neutral,
    /// The client is authorized.
    Pass,
    /// The client is not authorized.
    Fail,
    /// The client is probably not authorized.
    SoftFail,
    /// A transient DNS error.
    TempError,
    /// The domain's records could not be interpreted.
    PermError,
}

impl SpfResult {
    /// The RFC 7208 / RFC 8601 token (`pass`, `softfail`, `temperror`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Neutral => "neutral",
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::SoftFail => "softfail",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }

    pub(crate) fn from_qualifier(q: Qualifier) -> Self {
        match q {
            Qualifier::Pass => Self::Pass,
            Qualifier::Fail => Self::Fail,
            Qualifier::SoftFail => Self::SoftFail,
            Qualifier::Neutral => Self::Neutral,
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
