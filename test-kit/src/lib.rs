//! What the tests, benches, fuzzers and examples of lwip-snat share, written apart from the
//! library so that it can check it: the test network ([`topology`]), packets built byte by
//! byte ([`packet`]) and a checksum oracle that recomputes every checksum from scratch
//! ([`oracle`]).

pub mod oracle;
pub mod packet;
pub mod topology;
