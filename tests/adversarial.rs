//! Conformance suite, adversarial section: the NAT as a security boundary, tried as a hostile
//! LAN or WAN host would (through the core). Each module holds one family of attacks; each test
//! is named for the behaviour it protects. The same attacks through real lwIP, where the shim
//! takes part, are in tests/lwip_adversarial.rs.

#[path = "adversarial/bytes.rs"]
mod bytes;
#[path = "adversarial/chain.rs"]
mod chain;
#[path = "adversarial/claims.rs"]
mod claims;
mod common;
#[path = "adversarial/footprint.rs"]
mod footprint;
#[path = "adversarial/frags.rs"]
mod frags;
#[path = "adversarial/hosts.rs"]
mod hosts;
#[path = "adversarial/integrate.rs"]
mod integrate;
#[path = "adversarial/quiet.rs"]
mod quiet;
#[path = "adversarial/services.rs"]
mod services;
#[path = "adversarial/state.rs"]
mod state;
