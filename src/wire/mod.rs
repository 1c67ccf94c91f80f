//! Zero-copy views of the headers the NAT reads and rewrites.
//!
//! Modelled on smoltcp's `wire`: a `Packet<T: AsRef<[u8]>>` per header, a private `field`
//! module of byte ranges, `new_checked` for untrusted bytes. The byte helpers below never
//! index out of bounds (a read past the end yields 0, a write past the end does nothing), so
//! no accessor can panic even before `new_checked`, and no panic path is compiled in.
//!
//! Uses nothing else in the crate: every other module may use it.
// The header views are a whole vocabulary (as smoltcp's `wire`): the NAT reads only part
// of it, the benches and tests the rest.
#![cfg_attr(not(feature = "internals"), allow(dead_code))]

pub mod checksum;
pub mod icmp;
pub mod ipv4;
pub mod tcp;
pub mod udp;

/// A byte range inside a header.
pub(crate) type Field = core::ops::Range<usize>;

/// Why bytes could not be viewed as a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than the header needs.
    Truncated,
    /// A field holds a value the protocol forbids (version, header length, ...).
    Malformed,
}

pub(crate) fn byte(bytes: &[u8], index: usize) -> u8 {
    bytes.get(index).copied().unwrap_or(0)
}

#[inline(always)]
pub(crate) fn be16(bytes: &[u8], field: Field) -> u16 {
    match bytes.get(field) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

pub(crate) fn be32(bytes: &[u8], field: Field) -> u32 {
    match bytes.get(field) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

#[inline(always)]
pub(crate) fn put16(bytes: &mut [u8], field: Field, value: u16) {
    // As one 2-byte array: one halfword store, not two byte stores.
    if let Some(pair) = bytes.get_mut(field).and_then(|b| <&mut [u8; 2]>::try_from(b).ok()) {
        *pair = value.to_be_bytes();
    }
}

#[inline(always)]
pub(crate) fn put32(bytes: &mut [u8], field: Field, value: u32) {
    if let Some([a, b, c, d]) = bytes.get_mut(field) {
        [*a, *b, *c, *d] = value.to_be_bytes();
    }
}
