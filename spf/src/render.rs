//! The canonical text of a directive, written without the formatting machinery
//! ([`write_directive`]).

use std::fmt::Write as _;

use crate::macros::MacroString;
use crate::record::{Directive, DualCidr, Mechanism, Qualifier};

/// The canonical text of `d` (its `Display`). Everything but `ip6` and macros is written
/// directly: the formatting machinery costs about 1 700 instructions for an `ip4` term, a third
/// of a whole warm evaluation of a one-term record.
#[inline]
pub(crate) fn write_directive(out: &mut String, d: &Directive) {
    let start = out.len();
    if d.qualifier != Qualifier::Pass {
        out.push(d.qualifier.as_char());
    }
    let spec_and_cidr = |out: &mut String, spec: Option<&str>, cidr: Option<DualCidr>| {
        if let Some(spec) = spec {
            out.push(':');
            out.push_str(spec);
        }
        if let Some(c) = cidr {
            if let Some(v4) = c.v4 {
                out.push('/');
                push_decimal(out, v4);
            }
            if let Some(v6) = c.v6 {
                out.push_str("//");
                push_decimal(out, v6);
            }
        }
    };
    let m = &d.mechanism;
    out.push_str(m.name());
    let written = match m {
        Mechanism::All => true,
        Mechanism::Include(spec) | Mechanism::Exists(spec) => spec
            .as_literal()
            .map(|lit| spec_and_cidr(out, Some(lit), None))
            .is_some(),
        Mechanism::A(spec, cidr) | Mechanism::Mx(spec, cidr) => literal(spec.as_ref())
            .map(|lit| spec_and_cidr(out, lit, Some(*cidr)))
            .is_some(),
        Mechanism::Ptr(spec) => literal(spec.as_ref())
            .map(|lit| spec_and_cidr(out, lit, None))
            .is_some(),
        Mechanism::Ip4(ip, len) => {
            out.push(':');
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, octet);
            }
            if let Some(len) = len {
                out.push('/');
                push_decimal(out, *len);
            }
            true
        }
        Mechanism::Ip6(..) => false,
    };
    if !written {
        out.truncate(start);
        // Writing to a String cannot fail.
        let _ = write!(out, "{d}");
    }
}

/// A macro-free optional domain-spec as text: `Some(None)` when absent, `None` when it holds
/// macros.
#[inline]
fn literal(spec: Option<&MacroString>) -> Option<Option<&str>> {
    match spec {
        None => Some(None),
        Some(s) => s.as_literal().map(Some),
    }
}

/// `n` in decimal, as `Display` writes it.
#[inline]
fn push_decimal(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::record::SpfRecord;

    proptest::proptest! {
        #[test]
        fn write_directive_is_display_for_any_address_and_lengths(
            ip in proptest::prelude::any::<u32>(),
            len in proptest::option::of(0u8..=255),
            v4 in proptest::option::of(0u8..=255),
            v6 in proptest::option::of(0u8..=255),
            qualifier in 0usize..4,
            spec in proptest::option::of("[a-z]{1,5}\\.[a-z]{2,3}"),
        ) {
            let qualifier = [Qualifier::Pass, Qualifier::Fail, Qualifier::SoftFail,
                Qualifier::Neutral][qualifier];
            let spec = spec.map(|s| MacroString::parse_domain_spec(&s).unwrap());
            let cidr = DualCidr { v4, v6 };
            for mechanism in [
                Mechanism::Ip4(Ipv4Addr::from(ip), len),
                Mechanism::A(spec.clone(), cidr),
                Mechanism::Mx(spec.clone(), cidr),
                Mechanism::Ptr(spec.clone()),
            ] {
                let d = Directive { qualifier, mechanism };
                let mut s = String::new();
                write_directive(&mut s, &d);
                proptest::prop_assert_eq!(s, d.to_string());
            }
        }
    }

    #[test]
    fn write_directive_is_display() {
        let r = SpfRecord::parse(
            "v=spf1 all -all ~include:Ex.COM. ?include:%{d}.example include:a.example ip4:192.0.2.0/24 \
             -a mx:m.example/24 ptr exists:%{i}.e.example ip4:10.0.0.255 a/0//128 mx//64 \
             ptr:p.example ?a:%{d}/24 ip6:2001:db8::/32 exists:x.example",
        )
        .unwrap();
        for d in r.directives() {
            let mut s = String::new();
            write_directive(&mut s, d);
            assert_eq!(s, d.to_string());
        }
        assert_eq!(r.directives().count(), 17);
    }
}
