//! Shared pieces of the lwip-snat fuzz targets: the harness that checks what must hold for any
//! input, and the test kit's checksum oracle and packet builders.

pub mod harness;
pub use test_kit::{oracle, packet};
