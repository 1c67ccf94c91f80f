//! Conformance suite, adversarial section through real lwIP (Debian's liblwip 2.1.3 with the
//! shim's hook in front of `ip4_input()`, tests/lwip/router.c): the attacks of
//! tests/adversarial.rs where the shim takes part. Each module holds one family of attacks.

mod common;
#[path = "lwip/driver.rs"]
mod driver;
#[path = "lwip_adversarial/frags.rs"]
mod frags;
#[allow(dead_code)]
#[path = "lwip/build.rs"]
mod lwip_build;
