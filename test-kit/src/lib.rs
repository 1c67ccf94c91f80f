//! What the tests, benches, fuzzers and examples of lwip-snat share, written apart from the
//! library so that it can check it: the test network ([`topology`]), packets built byte by
//! byte ([`packet`]), a checksum oracle that recomputes every checksum from scratch
//! ([`oracle`]) and a deterministic stream of numbers for attackers ([`rng`]).

pub mod oracle;
pub mod packet;
pub mod rng;
pub mod topology;
