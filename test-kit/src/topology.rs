//! The test network: an inside LAN, a WAN with the router's external address, a DMZ, two
//! inside hosts and two remote servers (documentation address ranges, RFC 5737).

/// lwIP netif index of the inside LAN.
pub const LAN: u8 = 1;
/// lwIP netif index of the WAN.
pub const WAN: u8 = 2;
/// lwIP netif index of a third network.
pub const DMZ: u8 = 3;
/// The router's address on the WAN: the external address.
pub const WAN_ADDR: [u8; 4] = [10, 0, 0, 1];
/// An inside host.
pub const HOST_A: [u8; 4] = [192, 168, 1, 10];
/// Another inside host.
pub const HOST_B: [u8; 4] = [192, 168, 1, 11];
/// A remote server.
pub const SERVER: [u8; 4] = [203, 0, 113, 5];
/// Another remote server.
pub const SERVER2: [u8; 4] = [198, 51, 100, 7];

/// An address as the library takes it (host byte order).
pub fn addr(a: [u8; 4]) -> u32 {
    u32::from_be_bytes(a)
}
