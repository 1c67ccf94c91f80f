//! IPv4 header view (RFC 791).

use super::checksum;
use super::{be16, be32, byte, put16, put32, Error, Field};

/// Byte offsets of the header's fields (the rewrites that update them in place name them too).
pub(crate) mod field {
    use super::Field;
    pub const VER_IHL: usize = 0;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Minimum header length.
pub const HEADER_LEN: usize = 20;

/// IP protocol numbers the NAT knows.
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
}

/// The first byte of an IPv4 header that may be accepted: version 4 and an IHL of 5 (20 bytes,
/// [`HEADER_LEN`]) or more, one range of the byte (0x45 to 0x4F) tested at once rather than
/// the version and the length apart.
pub(crate) const VER_IHL_ACCEPTED: core::ops::RangeInclusive<u8> = 0x45..=0x4F;

/// [`Packet::new_head`]'s tests of `bytes`; the header length they accepted.
#[inline(always)]
fn head_len(bytes: &[u8], datagram_len: usize) -> Result<usize, Error> {
    if bytes.len() < HEADER_LEN {
        return Err(Error::Truncated);
    }
    if byte(bytes, field::VER_IHL) >> 4 != 4 {
        return Err(Error::Malformed);
    }
    let header_len = usize::from(byte(bytes, field::VER_IHL) & 0x0F) * 4;
    let total_len = usize::from(be16(bytes, field::LENGTH));
    if header_len < HEADER_LEN || total_len < header_len {
        return Err(Error::Malformed);
    }
    if total_len > datagram_len || header_len > bytes.len() {
        return Err(Error::Truncated);
    }
    Ok(header_len)
}

/// A read/write view of an IPv4 packet.
///
/// After [`new_checked`](Self::new_checked) succeeds the buffer holds at least the whole header
/// and `total_len()` bytes, so no accessor below can panic.
#[derive(Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` after checking version, IHL and total length against the buffer
    /// (RFC 1122 3.2.1.1–3.2.1.2). The header checksum is checked separately by
    /// [`verify_checksum`](Self::verify_checksum).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let len = buffer.as_ref().len();
        Self::new_head(buffer, len)
    }

    /// [`new_checked`](Self::new_checked) for the first bytes of a datagram of `datagram_len`
    /// bytes held in a chain of buffers: the total length is checked against `datagram_len`,
    /// and the header must be whole in `buffer`. Inlined: the host build (x86-64 at opt-level
    /// "s") kept it out of line, 35 instructions on every packet of the general path, which
    /// thumbv7em inlines anyway (its firmware is the same bytes with the hint).
    #[inline]
    pub fn new_head(buffer: T, datagram_len: usize) -> Result<Self, Error> {
        head_len(buffer.as_ref(), datagram_len)?;
        Ok(Packet { buffer })
    }

    /// [`new_head`](Self::new_head) with [`verify_checksum`](Self::verify_checksum)'s answer:
    /// the same tests, and the checksum over the header length they accepted, read once.
    #[inline(always)]
    pub fn new_head_verified(buffer: T, datagram_len: usize) -> Result<(Self, bool), Error> {
        let header_len = head_len(buffer.as_ref(), datagram_len)?;
        let verified = buffer.as_ref().get(..header_len).is_some_and(checksum::verifies);
        Ok((Packet { buffer }, verified))
    }

    /// Wraps a quoted header inside an ICMP error: the header must be whole, but the
    /// datagram it announces may be cut short (RFC 792 quotes only 8 bytes of it).
    pub fn new_quoted(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let ver_ihl = byte(bytes, field::VER_IHL);
        if !VER_IHL_ACCEPTED.contains(&ver_ihl) {
            return Err(Error::Malformed);
        }
        let header_len = usize::from(ver_ihl & 0x0F) * 4;
        if header_len > bytes.len() {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    /// Wraps bytes whose header the caller has already seen accepted ([`new_head`](Self::new_head)
    /// for the packet under way, sliced to no more than its total length; [`new_quoted`](Self::new_quoted)
    /// for the datagram an ICMP error quotes): the NAT's parsers and rewrites, which so do not
    /// make those checks again (on such bytes `new_quoted`'s could not fail). Only the fixed
    /// header's length is checked, which spares its fields their bounds checks. Any bytes stay
    /// safe: no accessor can panic.
    pub fn new_accepted(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), field::VER_IHL) & 0x0F) * 4
    }

    pub fn total_len(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), field::LENGTH))
    }

    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x4000 != 0
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x2000 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), field::FLG_OFF) & 0x1FFF) * 8
    }

    /// True for any fragment: first (MF set), middle or last (offset non-zero). One test of
    /// the MF bit and the offset's 13 bits together.
    pub fn is_fragment(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x3FFF != 0
    }

    pub fn ttl(&self) -> u8 {
        byte(self.buffer.as_ref(), field::TTL)
    }

    pub fn protocol(&self) -> u8 {
        byte(self.buffer.as_ref(), field::PROTOCOL)
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn src_addr(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SRC_ADDR)
    }

    pub fn dst_addr(&self) -> u32 {
        be32(self.buffer.as_ref(), field::DST_ADDR)
    }

    /// True when the header checksum is correct.
    #[inline(always)]
    pub fn verify_checksum(&self) -> bool {
        let bytes = self.buffer.as_ref();
        bytes.get(..self.header_len()).is_some_and(checksum::verifies)
    }

    /// The bytes after the header, to the buffer's end: the payload of a datagram cut to no
    /// more than its total length (the pipeline's packet, which `Nat::process` slices so), for
    /// which [`payload`](Self::payload)'s test against the total length could not cut more.
    pub fn after_header(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// The bytes after the header, up to `total_len` (or the buffer's end for a quoted header).
    #[inline(always)]
    pub fn payload(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        let end = self.total_len().min(bytes.len());
        bytes.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_src_addr(&mut self, addr: u32) {
        put32(self.buffer.as_mut(), field::SRC_ADDR, addr)
    }

    pub fn set_dst_addr(&mut self, addr: u32) {
        put32(self.buffer.as_mut(), field::DST_ADDR, addr)
    }

    pub fn set_checksum(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, value)
    }

    pub fn set_total_len(&mut self, len: u16) {
        put16(self.buffer.as_mut(), field::LENGTH, len)
    }

    /// Sets the flags (top 3 bits) and fragment offset (in 8-byte units) word.
    pub fn set_flags_offset(&mut self, value: u16) {
        put16(self.buffer.as_mut(), field::FLG_OFF, value)
    }

    /// Recomputes the header checksum from scratch (used when building packets).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let value = self.buffer.as_ref().get(..header_len).map_or(0, checksum::checksum);
        self.set_checksum(value);
    }

    /// [`after_header`](Packet::after_header), writable.
    pub fn after_header_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        self.buffer.as_mut().get_mut(start..).unwrap_or(&mut [])
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), self.total_len());
        let bytes = self.buffer.as_mut();
        let end = end.min(bytes.len());
        bytes.get_mut(start..end).unwrap_or(&mut [])
    }

    /// Splits into the header and the payload, both writable.
    pub fn split_mut(&mut self) -> (&mut [u8], &mut [u8]) {
        let (start, end) = (self.header_len(), self.total_len());
        let bytes = self.buffer.as_mut();
        let end = end.min(bytes.len());
        let (header, rest) = bytes.split_at_mut(start.min(end));
        let payload_len = end.saturating_sub(start);
        (header, rest.get_mut(..payload_len).unwrap_or(&mut []))
    }
}

/// Sources a router must never forward (RFC 1812 5.3.7, 5.3.7 (c)): this network (0/8),
/// loopback (127/8), multicast (224/4) and class E (240/4, which holds the limited broadcast).
/// lwIP's `ip4_input()` drops the broadcast addresses of the input netif itself; the shim
/// drops those of the router's other netifs.
#[inline(always)]
pub fn is_martian(src: u32) -> bool {
    is_martian_net((src >> 24) as u8)
}

/// [`is_martian`] of an address whose first byte is `first`, the only byte the test reads: for
/// a caller that holds the address as bytes.
#[inline(always)]
pub fn is_martian_net(first: u8) -> bool {
    // Three compares, not a 256-bit table: a table indexed by 64-bit words costs a 64-bit
    // shift (a dozen instructions) on a 32-bit core at every use.
    first == 0 || first == 127 || first >= 224
}

#[cfg(test)]
mod tests {
    use super::*;

    // 192.168.1.2 -> 8.8.8.8, UDP, 28 bytes total, valid checksum.
    static PACKET: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0xab, 0xcd, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 192, 168, 1, 2, 8, 8, 8, 8, 0x30, 0x39,
        0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
    ];

    fn packet() -> [u8; 28] {
        let mut bytes = PACKET;
        Packet::new_checked(&mut bytes[..]).unwrap().fill_checksum();
        bytes
    }

    #[test]
    fn test_deconstruct() {
        let bytes = packet();
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 28);
        assert_eq!(p.ident(), 0xabcd);
        assert!(p.dont_frag());
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), protocol::UDP);
        assert_eq!(p.src_addr(), 0xC0A8_0102);
        assert_eq!(p.dst_addr(), 0x0808_0808);
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 8);
    }

    /// `is_fragment` is "MF set or a non-zero offset" for every flags-and-offset word.
    #[test]
    fn is_fragment_is_more_fragments_or_an_offset() {
        let mut bytes = packet();
        for word in 0..=u16::MAX {
            bytes[6..8].copy_from_slice(&word.to_be_bytes());
            let p = Packet::new_accepted(&bytes[..]).unwrap();
            assert_eq!(p.is_fragment(), p.more_frags() || p.frag_offset() != 0, "{word:#06x}");
        }
    }

    #[test]
    fn test_construct() {
        let mut bytes = packet();
        let mut p = Packet::new_checked(&mut bytes[..]).unwrap();
        p.set_src_addr(0x0A00_0001);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(&bytes[12..16], &[10, 0, 0, 1]);
    }

    #[test]
    fn test_impossible_len() {
        let mut bytes = packet();
        assert_eq!(Packet::new_checked(&bytes[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&bytes[..27]).unwrap_err(), Error::Truncated);
        bytes[0] = 0x44; // IHL 4
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Malformed);
        bytes[0] = 0x4F; // IHL 15 = 60 bytes > total length 28
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Malformed);
        bytes[0] = 0x65; // version 6
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Malformed);
    }

    /// The first bytes of a chained datagram must hold its whole header, whatever the total
    /// length (`flow::parse` reads the transport bytes after it without a fallback).
    #[test]
    fn a_head_shorter_than_its_header_is_truncated() {
        let mut bytes = packet();
        bytes[0] = 0x46; // IHL 6: 24 bytes
        assert_eq!(Packet::new_head(&bytes[..22], 100).unwrap_err(), Error::Truncated);
        assert!(Packet::new_head(&bytes[..24], 28).is_ok());
    }

    /// The pipeline cuts an accepted head to its total length or its buffer's end, whichever
    /// is shorter, and relies on the cut holding the fixed header (`Nat::route`): for every
    /// header length, total length, buffer length and datagram length around the bounds.
    #[test]
    fn an_accepted_head_cut_to_its_total_length_keeps_the_fixed_header() {
        let mut bytes = [0u8; 80];
        bytes[..28].copy_from_slice(&packet());
        for ihl in 0..16u8 {
            bytes[0] = 0x40 | ihl;
            for total_len in 0..=80u16 {
                bytes[2..4].copy_from_slice(&total_len.to_be_bytes());
                for len in 0..=bytes.len() {
                    for datagram_len in [len, 100] {
                        if Packet::new_head(&bytes[..len], datagram_len).is_ok() {
                            let cut = usize::from(total_len).min(len);
                            assert!(cut >= HEADER_LEN, "ihl {ihl} total {total_len} len {len} datagram {datagram_len}");
                        }
                    }
                }
            }
        }
    }

    /// `new_head_verified` answers as `new_head` followed by `verify_checksum` (the pipeline's
    /// one call for both): for version and IHL nibbles around the accepted ones, total lengths,
    /// buffer and datagram lengths around the bounds, each header's checksum right and wrong.
    #[test]
    fn new_head_verified_is_new_head_then_verify_checksum() {
        let mut bytes = [0u8; 80];
        bytes[..28].copy_from_slice(&packet());
        for first in [0x00, 0x35, 0x55, 0x65].into_iter().chain(0x40..=0x4F) {
            for total_len in 0..=80u16 {
                bytes[0] = first;
                bytes[2..4].copy_from_slice(&total_len.to_be_bytes());
                Packet { buffer: &mut bytes[..] }.fill_checksum();
                for wrong in [false, true] {
                    bytes[11] ^= u8::from(wrong);
                    for len in 0..=bytes.len() {
                        for datagram_len in [len, 100] {
                            let expected = Packet::new_head(&bytes[..len], datagram_len).map(|ip| ip.verify_checksum());
                            let got = Packet::new_head_verified(&bytes[..len], datagram_len).map(|(_, ok)| ok);
                            assert_eq!(got, expected, "{first:#04x} total {total_len} len {len} datagram {datagram_len}");
                        }
                    }
                }
            }
        }
    }

    /// `new_quoted` tests the version and the header length as one range of the first byte:
    /// for every first byte and buffer length, the answer of the two tests made apart (version
    /// 4, then IHL 5 or more, both `Malformed`; then the header whole in the buffer).
    #[test]
    fn new_quoted_takes_version_4_with_a_header_of_20_bytes_or_more() {
        let mut bytes = [0u8; 64];
        bytes[..28].copy_from_slice(&packet());
        for first in 0..=u8::MAX {
            bytes[0] = first;
            for len in 0..=bytes.len() {
                let header_len = usize::from(first & 0x0F) * 4;
                let expected = if len < HEADER_LEN {
                    Err(Error::Truncated)
                } else if first >> 4 != 4 || header_len < HEADER_LEN {
                    Err(Error::Malformed)
                } else if header_len > len {
                    Err(Error::Truncated)
                } else {
                    Ok(())
                };
                assert_eq!(Packet::new_quoted(&bytes[..len]).map(|_| ()), expected, "{first:#04x} len {len}");
            }
        }
    }

    #[test]
    fn trailing_bytes_after_total_len_are_not_payload() {
        let mut bytes = [0u8; 40];
        bytes[..28].copy_from_slice(&packet());
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload().len(), 8);
    }

    #[test]
    fn martians_are_this_network_loopback_multicast_and_class_e() {
        for first in 0..=255u32 {
            let expected = first == 0 || first == 127 || first >= 224;
            for rest in [0, 1, 0x00FF_FFFF] {
                let src = first << 24 | rest;
                assert_eq!(is_martian(src), expected, "{src:#010x}");
                assert_eq!(is_martian_net(first as u8), expected, "{src:#010x}");
            }
        }
    }
}
