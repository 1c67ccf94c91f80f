//! Shared pieces of the lwip-snat fuzz targets: an independent checksum oracle, packet
//! builders, and the harness that checks what must hold for any input.

pub mod harness;
pub mod oracle;
pub mod packet;
