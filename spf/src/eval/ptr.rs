//! The PTR procedure of RFC 7208 §5.5, shared by the `ptr` mechanism and the `%{p}` macro.

use std::net::IpAddr;

use mailward_types::Domain;

use super::answer::NormalAnswer;
use super::{CheckHost, MAX_PTR_NAMES, PtrNames, PtrProc};
use crate::dns::DnsQuery;
use crate::macros::{MacroLetter, MacroString};
use crate::record::SpfRecord;

impl CheckHost<'_> {
    /// RFC 7208 §7.3: "If the <domain> is present in the list of validated domains, it SHOULD be
    /// used. Otherwise, if a subdomain of the <domain> is present, it SHOULD be used. Otherwise,
    /// any name from the list can be used."
    pub(super) fn p_value(&self, domain: &str) -> Option<&str> {
        let names = &self.ptr_names.as_ref()?.validated;
        let d = Domain::new(domain).ok();
        let exact = names.iter().find(|n| Some(*n) == d.as_ref());
        let sub = d
            .as_ref()
            .and_then(|d| names.iter().find(|n| n.is_subdomain_of(d)));
        exact.or(sub).or(names.first()).map(Domain::as_str)
    }

    /// Whether expanding `spec` needs the validated names first (a `%{p}` not yet resolved);
    /// if so the PTR procedure is started.
    pub(super) fn needs_ptr(&mut self, spec: Option<&MacroString>) -> bool {
        if spec.is_some_and(|s| s.uses(MacroLetter::ValidatedDomain)) && self.ptr_names.is_none() {
            self.ptr_proc = Some(Box::new(PtrProc::Start));
            true
        } else {
            false
        }
    }

    // The PTR procedure of RFC 7208 §5.5, shared by "ptr" and %{p}.

    pub(super) fn step_ptr(&mut self) {
        let Some(proc) = self.ptr_proc.take() else {
            return;
        };
        match *proc {
            PtrProc::Start => {
                self.query(DnsQuery::Ptr(self.ip));
                self.ptr_proc = Some(Box::new(PtrProc::AwaitPtr));
            }
            PtrProc::AwaitPtr => match self.answer.take() {
                Some(NormalAnswer::Ptr(mut names)) => {
                    // RFC 7208 §4.6.4: "all records other than the first 10 MUST be ignored".
                    if names.len() > MAX_PTR_NAMES {
                        self.note(format!(
                            "{} PTR names, only the first {MAX_PTR_NAMES} are used",
                            names.len()
                        ));
                        names.truncate(MAX_PTR_NAMES);
                    }
                    self.ptr_proc = Some(Box::new(PtrProc::Validate {
                        names,
                        next: 0,
                        validated: Vec::new(),
                        awaiting: false,
                    }));
                }
                Some(NormalAnswer::Void(_)) => {
                    self.ptr_names = Some(Box::new(PtrNames {
                        validated: Vec::new(),
                        void: true,
                    }));
                }
                // RFC 7208 §5.5: "If a DNS error occurs while doing the PTR RR lookup, then this
                // mechanism fails to match"; §7.3: %{p} is then "unknown".
                _ => self.ptr_names = Some(Box::default()),
            },
            PtrProc::Validate {
                names,
                next,
                mut validated,
                awaiting,
            } => {
                let mut next = next;
                if awaiting {
                    if let Some(NormalAnswer::Addrs(addrs)) = self.answer.take()
                        && addrs.any(|a| a == self.ip)
                        && let Some(n) = names.get(next)
                    {
                        validated.push(n.clone());
                    }
                    // RFC 7208 §5.5: "If a DNS error occurs while doing an A RR lookup, then that
                    // domain name is skipped and the search continues."
                    next += 1;
                }
                match names.get(next) {
                    Some(name) => {
                        let q = match self.ip {
                            IpAddr::V4(_) => DnsQuery::A(name.clone()),
                            IpAddr::V6(_) => DnsQuery::Aaaa(name.clone()),
                        };
                        self.query(q);
                        self.ptr_proc = Some(Box::new(PtrProc::Validate {
                            names,
                            next,
                            validated,
                            awaiting: true,
                        }));
                    }
                    None => {
                        self.ptr_names = Some(Box::new(PtrNames {
                            validated,
                            void: false,
                        }));
                    }
                }
            }
        }
    }

    /// RFC 7208 §5.5: match if a validated name is the target or below it.
    pub(super) fn eval_ptr(&mut self, record: &SpfRecord, target: &Domain) {
        match &self.ptr_names {
            None => {
                // First use: run the PTR procedure, then come back to this term.
                self.ptr_proc = Some(Box::new(PtrProc::Start));
            }
            Some(p) => {
                let hit = p.validated.iter().any(|n| n.is_subdomain_of(target));
                let void = p.void;
                if void && !self.count_void() {
                    return;
                }
                self.mechanism_done_in(record, hit);
            }
        }
    }
}
