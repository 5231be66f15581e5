//! RFC 7505 null MX (`MX 0 .`) under the `mx` mechanism.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailward_dns::ZoneResolver;
use mailward_spf::{Query, SpfResult, evaluate};
use pollster::block_on;

const ZONE: &str = "$TTL 300
@        SOA ns hostmaster 1 7200 900 1209600 300
nomail   MX  0 .
nomail   TXT \"v=spf1 mx -all\"
mixed    MX  0 .
mixed    MX  10 mail
mixed    TXT \"v=spf1 mx -all\"
mail     A   192.0.2.10
";

fn outcome(sender: &str, ip: &str) -> mailward_spf::SpfOutcome {
    let zone = ZoneResolver::parse(ZONE, "example.org").unwrap();
    let q = Query::mail_from(ip.parse().unwrap(), sender, "helo.example.org");
    block_on(evaluate(&zone, &q))
}

#[test]
fn null_mx_matches_nothing_and_is_not_a_void_lookup() {
    // RFC 7208 §5.4: the MX answer's exchanges are looked up; the null MX's exchange is the
    // root, which has no address (RFC 7505 §3), so `mx` cannot match and `-all` decides. The MX
    // query returned a record, so §4.6.4 does not count it as a void lookup.
    let o = outcome("a@nomail.example.org", "192.0.2.10");
    assert_eq!(o.result, SpfResult::Fail);
    assert_eq!(o.void_lookups, 0);
}

#[test]
fn other_exchanges_next_to_a_null_mx_still_match() {
    let o = outcome("a@mixed.example.org", "192.0.2.10");
    assert_eq!(o.result, SpfResult::Pass);
}
