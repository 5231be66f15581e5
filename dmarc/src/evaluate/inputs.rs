//! What an evaluation is given: the SPF and DKIM results of a message, as plain values so that
//! any SPF or DKIM implementation can feed them, and the options that choose how
//! Organizational Domains are found.

use mailward_types::Domain;

/// An SPF result (RFC 7208 §2.6), as far as DMARC needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum SpfVerdict {
    /// `pass`.
    Pass,
    /// `fail`.
    Fail,
    /// `softfail`.
    SoftFail,
    /// `neutral`.
    Neutral,
    /// `none`.
    None,
    /// `temperror`.
    TempError,
    /// `permerror`.
    PermError,
}

impl SpfVerdict {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::SoftFail => "softfail",
            Self::Neutral => "neutral",
            Self::None => "none",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

/// Which identity SPF checked (RFC 7208 §2.3, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SpfScope {
    /// The MAIL FROM identity (with a null reverse-path: `postmaster@<HELO>`, RFC 7208 §2.4).
    MailFrom,
    /// The HELO identity: never an SPF-Authenticated Identifier for DMARC (RFC 9989 §4.4.2).
    Helo,
}

/// The SPF outcome DMARC uses (RFC 9989 §5.3.3: "the domain name used to complete the SPF
/// check").
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SpfInput {
    /// The SPF result.
    pub result: SpfVerdict,
    /// The domain checked.
    pub domain: Domain,
    /// Which identity it was.
    pub scope: SpfScope,
}

/// A DKIM verification result (RFC 8601 §2.7.1), as far as DMARC needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum DkimVerdict {
    /// `pass`.
    Pass,
    /// `fail`.
    Fail,
    /// `neutral`.
    Neutral,
    /// `policy`.
    Policy,
    /// `none`.
    None,
    /// `temperror`.
    TempError,
    /// `permerror`.
    PermError,
}

impl DkimVerdict {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Neutral => "neutral",
            Self::Policy => "policy",
            Self::None => "none",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

/// One checked DKIM signature (RFC 9989 §5.3.3: result, `d=` and `s=`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DkimInput {
    /// The verification result.
    pub result: DkimVerdict,
    /// The signing domain, `d=`.
    pub domain: Domain,
    /// The selector, `s=`.
    pub selector: String,
}

/// How Organizational Domains are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DiscoveryMode {
    /// RFC 9989: the DNS Tree Walk, `psd`, `np`, `t` (the default).
    #[default]
    TreeWalk,
    /// RFC 7489 receivers: Organizational Domain = registrable domain from the Public Suffix
    /// List (RFC 7489 §3.2), policy at the Author Domain or its Organizational Domain (§6.6.3),
    /// `pct` honoured (§6.6.4), `t` and `psd` ignored.
    #[cfg(feature = "psl")]
    #[cfg_attr(docsrs, doc(cfg(feature = "psl")))]
    PublicSuffixList,
}

/// Options of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Options {
    /// Tree Walk (default) or PSL.
    pub mode: DiscoveryMode,
    /// PSL mode only: a number drawn uniformly from `0..100` by the caller's random source.
    /// The policy applies when it is below `pct`; otherwise the next lower policy does (RFC
    /// 7489 §6.6.4). With `None`, `pct=0` lowers the policy and any other value applies it.
    pub pct_sample: Option<u8>,
}

impl Options {
    /// Options for the given mode.
    pub fn with_mode(mode: DiscoveryMode) -> Self {
        Self {
            mode,
            pct_sample: None,
        }
    }

    /// Sets [`Self::pct_sample`]: a number the caller drew uniformly from `0..100` (values
    /// above 99 are clamped).
    #[must_use]
    pub fn with_pct_sample(mut self, sample: u8) -> Self {
        self.pct_sample = Some(sample.min(99));
        self
    }
}
