//! Conformance suite, adversarial section: the NAT as a security boundary, tried as a hostile
//! LAN or WAN host would (through the core). Each module holds one family of attacks; each test
//! is named for the behaviour it protects. The same attacks through real lwIP, where the shim
//! takes part, are in tests/lwip_adversarial.rs.

mod common;
#[path = "adversarial/frags.rs"]
mod frags;
