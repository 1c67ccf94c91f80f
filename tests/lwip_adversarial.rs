//! Conformance suite, adversarial section through real lwIP (Debian's liblwip 2.1.3 with the
//! shim's hook in front of `ip4_input()`, tests/lwip/router.c): the attacks of
//! tests/adversarial.rs where the shim takes part. Each module holds one family of attacks.

#[path = "lwip_adversarial/bytes.rs"]
mod bytes;
#[path = "lwip_adversarial/chain.rs"]
mod chain;
#[path = "lwip_adversarial/claims.rs"]
mod claims;
mod common;
#[path = "lwip/driver.rs"]
mod driver;
#[path = "lwip_adversarial/frags.rs"]
mod frags;
#[path = "lwip_adversarial/hosts.rs"]
mod hosts;
#[path = "lwip_adversarial/integrate.rs"]
mod integrate;
#[path = "lwip_adversarial/integrate2.rs"]
mod integrate2;
#[allow(dead_code)]
#[path = "lwip/build.rs"]
mod lwip_build;
#[path = "lwip_adversarial/quiet.rs"]
mod quiet;
#[path = "lwip_adversarial/services.rs"]
mod services;
#[path = "lwip_adversarial/state.rs"]
mod state;

/// `lwip_snat_rule.kind` OUTBOUND: masquerade everything that leaves by the netif.
const RULE_OUTBOUND: u8 = 1;

/// Debian's lwIP up, the NAT started by the shim with its defaults (which registers its port
/// check), masquerading everything that leaves by the WAN.
fn router() -> driver::Router {
    masquerading(&lwip_build::program("router"))
}

/// `program` started with the masquerade rule on the WAN (what [`router`] runs).
fn masquerading(program: &std::path::Path) -> driver::Router {
    let mut r = driver::Router::spawn(program);
    r.ok("start");
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {}", common::WAN));
    r
}
