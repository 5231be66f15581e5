//! What a record shows about its sender beyond the counts, kept per row of the daily rollup so
//! that it sums over any window.

use serde::Serialize;

/// What a group's reports show beyond its message counts, gathered per record at ingest (so
/// it can be summed over any window without reading the records again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// A DKIM signature passing for a domain that is not the policy domain or below it.
    pub dkim_foreign_pass: bool,
    /// An SPF check passing for a domain that is not the policy domain or below it.
    pub spf_foreign_pass: bool,
    /// An SPF check for the policy domain (or below it) that does not pass.
    pub spf_own_fail: bool,
}

impl Evidence {
    const DKIM_FOREIGN_PASS: i64 = 1;
    const SPF_FOREIGN_PASS: i64 = 2;
    const SPF_OWN_FAIL: i64 = 4;

    /// The evidence of one record of `domain`'s reports, from its DKIM and SPF results as
    /// `(domain, passed)` pairs.
    pub fn of_record<'a>(
        domain: &str,
        dkim: impl IntoIterator<Item = (&'a str, bool)>,
        spf: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> Self {
        let mut e = Self::default();
        for (d, pass) in dkim {
            e.dkim_foreign_pass |= pass && !within(d, domain);
        }
        for (d, pass) in spf {
            let own = within(d, domain);
            e.spf_foreign_pass |= pass && !own;
            e.spf_own_fail |= !pass && own;
        }
        e
    }

    /// The bits stored with a day's rows (OR-ed when rows merge).
    pub fn bits(self) -> i64 {
        let mut b = 0;
        if self.dkim_foreign_pass {
            b |= Self::DKIM_FOREIGN_PASS;
        }
        if self.spf_foreign_pass {
            b |= Self::SPF_FOREIGN_PASS;
        }
        if self.spf_own_fail {
            b |= Self::SPF_OWN_FAIL;
        }
        b
    }

    /// The evidence of stored bits (unknown bits are ignored).
    pub fn from_bits(b: i64) -> Self {
        Self {
            dkim_foreign_pass: b & Self::DKIM_FOREIGN_PASS != 0,
            spf_foreign_pass: b & Self::SPF_FOREIGN_PASS != 0,
            spf_own_fail: b & Self::SPF_OWN_FAIL != 0,
        }
    }

    /// Both together.
    #[must_use]
    pub fn or(self, other: Self) -> Self {
        Self {
            dkim_foreign_pass: self.dkim_foreign_pass || other.dkim_foreign_pass,
            spf_foreign_pass: self.spf_foreign_pass || other.spf_foreign_pass,
            spf_own_fail: self.spf_own_fail || other.spf_own_fail,
        }
    }
}

/// Whether `name` is `domain` or below it, ignoring ASCII case and trailing dots (without
/// copying either: this runs for every DKIM and SPF result at ingest).
pub(crate) fn within(name: &str, domain: &str) -> bool {
    let (name, domain) = (name.trim_end_matches('.'), domain.trim_end_matches('.'));
    let Some(split) = name.len().checked_sub(domain.len()) else {
        return false;
    };
    match (name.get(..split), name.get(split..)) {
        (Some(head), Some(tail)) => {
            tail.eq_ignore_ascii_case(domain) && (head.is_empty() || head.ends_with('.'))
        }
        _ => false,
    }
}
