//! What the tests, benches, fuzzers and examples of lwip-snat share, written apart from the
//! library so that it can check it: the test network ([`topology`]), packets built byte by
//! byte ([`packet`]), a checksum oracle that recomputes every checksum from scratch
//! ([`oracle`]), a deterministic stream of numbers for attackers ([`rng`]) and the driver of the
//! real-lwIP router program the integration tests run ([`lwip_driver`]).

pub mod lwip_driver;
pub mod oracle;
pub mod packet;
pub mod rng;
pub mod topology;
