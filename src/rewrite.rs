//! In-place rewrite of addresses and ports with incremental checksum updates (RFC 1624).
//!
//! The same function rewrites a whole packet and a datagram quoted inside an ICMP error: it
//! returns the [`Delta`] of every 16-bit word it changed, which the caller folds into the
//! checksum of the ICMP message around it. A quoted transport header may stop before its
//! checksum (TCP's is at byte 16); then only the words that are present change.
//!
//! Every function here takes a datagram whose IPv4 header was already accepted (the packet
//! under way by the pipeline's `new_head`, a quoted one by `flow::parse_icmp_error`) and does
//! not check it again ([`ipv4::Packet::new_accepted`]).
//!
//! Uses `wire`, `flow` and `tables` (the protocol); only `nat` uses it.

use crate::flow::{Plain, Side};
use crate::tables::Protocol;
use crate::wire::checksum::Delta;
use crate::wire::ipv4::{self, protocol};
use crate::wire::{icmp, put16, put32, tcp, udp};

/// Where the IPv4 header checksum starts.
const CHECKSUM_AT: usize = ipv4::field::CHECKSUM.start;

/// Rewrites the `side` address of an IPv4 header and its header checksum. Returns the change
/// to the whole header (what an enclosing ICMP checksum sees) and the change to the address
/// words alone (what a transport pseudo-header sees), both over the words as loaded (see
/// [`word`]). The whole header's first: [`endpoint_at`] adds to it and returns it, and it then
/// comes back in the register it leaves by.
///
/// In line in [`endpoint_at`], its one caller (for an ICMP error's outer header too): a call
/// of its own cost a frame and the moves of its arguments on every packet of the general
/// path. The side comes with the port, which only [`endpoint_at`] reads (see [`SidePort`]).
#[inline(always)]
fn rewrite_address(side: SidePort, addr: u32, datagram: &mut [u8]) -> (Delta, Delta) {
    let mut pseudo = Delta::new();
    let mut header = Delta::new();
    let Ok(ip) = ipv4::Packet::new_accepted(datagram) else {
        return (header, pseudo);
    };
    let bytes = ip.into_inner();
    let at = side.addr_at();
    let old = match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    };
    put32(bytes, at..at + 4, addr);
    pseudo.dword(old, u32::from_le_bytes(addr.to_be_bytes()));
    let old_checksum = word(bytes, CHECKSUM_AT);
    let new_checksum = pseudo.apply(old_checksum);
    set_word(bytes, CHECKSUM_AT, new_checksum);
    header.merge(pseudo);
    header.word(old_checksum, new_checksum);
    (header, pseudo)
}

/// The 16-bit word at `at` as the machine loads it, little-endian: a one's-complement sum of
/// byte-swapped words is the byte-swapped sum (RFC 1071 2.B), so a checksum updated from the
/// words as loaded and stored back the same way is the same checksum, without a byte swap of
/// each word read and written. Every word of one update is taken so (0 when out of bounds).
fn word(bytes: &[u8], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

/// Stores a word taken by [`word`] (nothing when out of bounds).
fn set_word(bytes: &mut [u8], at: usize, value: u16) {
    if let Some(pair) = bytes.get_mut(at..at + 2).and_then(|b| <&mut [u8; 2]>::try_from(b).ok()) {
        *pair = value.to_le_bytes();
    }
}

/// Rewrites the `side` address and port of a datagram (for ICMP queries the identifier, which
/// both sides share), with the IP header checksum and the transport checksum. Returns the
/// change to all the datagram's bytes.
#[inline(always)]
pub fn endpoint(datagram: &mut [u8], side: Side, addr: u32, port: u16) -> Delta {
    endpoint_at(SidePort::new(side, port), addr, datagram)
}

/// A side and a port as one word: the port in the low 16 bits, bit 16 set for the
/// destination, bit 17 for an ICMP error. The out-of-line body below then takes its arguments
/// in the four argument registers: with the side and port apart, the port was a fifth, passed
/// on the stack (a store at every call, a load in the body).
#[derive(Clone, Copy)]
struct SidePort(u32);

impl SidePort {
    #[inline(always)]
    fn new(side: Side, port: u16) -> Self {
        SidePort(u32::from(side == Side::Destination) << 16 | u32::from(port))
    }

    /// Where the side's address starts in an IPv4 header: the source's offset, plus 4 for
    /// the destination, taken from bit 16 by a shift and a mask rather than chosen by a test.
    #[inline(always)]
    fn addr_at(self) -> usize {
        const _: () = assert!(ipv4::field::DST_ADDR.start == ipv4::field::SRC_ADDR.start + 4);
        ipv4::field::SRC_ADDR.start + (self.0 >> 14 & 4) as usize
    }

    #[inline(always)]
    fn is_source(self) -> bool {
        self.0 & 1 << 16 == 0
    }

    /// The same side and port, for an ICMP error: its address, and the other side's endpoint
    /// of the datagram it quotes.
    #[inline(always)]
    fn icmp_error(self) -> Self {
        SidePort(self.0 | 1 << 17)
    }

    #[inline(always)]
    fn is_icmp_error(self) -> bool {
        self.0 & 1 << 17 != 0
    }

    /// For the quote of an [`icmp_error`](Self::icmp_error): the other side, the same port, as
    /// a plain endpoint (bit 17, set, flipped with bit 16).
    #[inline(always)]
    fn quote(self) -> Self {
        SidePort(self.0 ^ 3 << 16)
    }

    #[inline(always)]
    fn port(self) -> u16 {
        self.0 as u16
    }
}

/// [`endpoint`]'s body, out of line, and [`icmp_error`]'s: for an ICMP error
/// ([`SidePort::icmp_error`]) the quote's endpoint takes the place of the identifier, rewritten
/// by a second call of this body (for the quote, as a plain endpoint: one level deep), and the
/// change it returns is what the ICMP checksum sees.
#[inline(never)]
fn endpoint_at(side_port: SidePort, addr: u32, datagram: &mut [u8]) -> Delta {
    let (mut total, pseudo) = rewrite_address(side_port, addr, datagram);
    let Ok(ip) = ipv4::Packet::new_accepted(datagram) else {
        return total;
    };
    let (proto, start, end) = (ip.protocol(), ip.header_len(), ip.total_len());
    // The transport bytes up to the total length (or the buffer's end); none when the header's
    // length is past them: returned as they are, as for any transport part shorter than the 8
    // bytes below.
    let bytes = ip.into_inner();
    let end = end.min(bytes.len());
    let Some(l4) = bytes.get_mut(start..end) else {
        return total;
    };
    // Where the port (for ICMP the identifier, which both sides share) and the checksum start:
    // one code path for the three protocols, not three copies of it.
    // TCP and UDP keep their ports at the same offsets (checked at compile time): one choice
    // of the side for both.
    const _: () = assert!(
        tcp::field::SRC_PORT.start == udp::field::SRC_PORT.start
            && tcp::field::DST_PORT.start == udp::field::DST_PORT.start
    );
    let port_at = if side_port.is_source() { tcp::field::SRC_PORT.start } else { tcp::field::DST_PORT.start };
    // With them, the two facts of the checksum update below, as constants of each arm rather
    // than tests of the protocol after it: `u`, 1 for UDP's zero rules (see
    // `Delta::apply_either`), and the change the checksum starts from, the pseudo header's for
    // TCP and UDP and none for ICMP (no pseudo header: only the identifier, or an error's
    // quote, changes under it).
    let (port_at, checksum_at, u, mut change, error) = match proto {
        protocol::TCP => (port_at, tcp::field::CHECKSUM.start, 0, pseudo, false),
        protocol::UDP => (port_at, udp::field::CHECKSUM.start, 1, pseudo, false),
        protocol::ICMP if side_port.is_icmp_error() => {
            // An ICMP error: the quoted datagram after the 8-byte header, refused when shorter
            // than an IPv4 header (which `parse_icmp_error` never accepts: it would have no
            // word to rewrite) with the ICMP checksum left as it is. Its opposite endpoint
            // rewritten by this function, once more (`quote` clears the flag: no deeper), its
            // change the one the ICMP checksum starts from (no port of the error's own is
            // rewritten: `error`). Only for the quote is the returned change read: the error's
            // own (`icmp_error` discards it) leaves the quote's out.
            let Some(quoted) = l4.get_mut(icmp::field::QUOTED..).filter(|q| q.len() >= ipv4::HEADER_LEN) else {
                return total;
            };
            (0, icmp::field::CHECKSUM.start, 0, endpoint_at(side_port.quote(), addr, quoted), true)
        }
        protocol::ICMP => (icmp::field::IDENT.start, icmp::field::CHECKSUM.start, 0, Delta::new(), false),
        _ => return total,
    };
    // The least a quoted header may hold (TCP's first 8 bytes; a whole UDP or ICMP header).
    if l4.len() < 8 {
        return total;
    }
    if !error {
        // The words as loaded (see `word`): the new port as its bytes will be.
        let old_port = word(l4, port_at);
        let new_port = u16::from_le_bytes(side_port.port().to_be_bytes());
        set_word(l4, port_at, new_port);
        let mut moved = Delta::new();
        moved.word(old_port, new_port);
        total.merge(moved);
        change.merge(moved);
    }
    // A quoted TCP header may stop before its checksum: then only the port changes.
    if l4.len() < checksum_at + 2 {
        return total;
    }
    let old = word(l4, checksum_at);
    // One update for every protocol, UDP's zero rules (RFC 768) in its formula, so the update
    // is not compiled twice (0 and 0xFFFF read the same in either byte order).
    let new = change.apply_either(old, u);
    set_word(l4, checksum_at, new);
    // The checksum's word first, then the rest merged into it (the same sum, one's-complement
    // addition commutes): so LLVM adds with the carry into the register the other returns
    // hold, where `total.word` compared for the carry into another and moved it (4 B).
    let mut last = Delta::new();
    last.word(old, new);
    last.merge(total);
    last
}

/// [`endpoint`] for a [`Plain`] packet (20-byte IPv4 header, whole TCP/UDP header): the same
/// bytes out, at fixed offsets, from the old endpoint `parse_plain` already read, and without
/// the change-sum an enclosing ICMP message would need.
#[inline(always)]
pub fn plain_endpoint(packet: &mut [u8], plain: &Plain, side: Side, addr: u32, port: u16) {
    let flow = &plain.flow;
    let (addr_at, old_addr, port_at, old_port) = match side {
        Side::Source => (12, flow.src, 20, flow.src_port),
        Side::Destination => (16, flow.dst, 22, flow.dst_port),
    };
    // `parse_plain_head` found these bytes in `packet`: the optimiser sees its test and drops
    // this one.
    let checksum_at = plain.checksum_at;
    let Some(bytes) = packet.get_mut(..checksum_at + 2) else { return };
    // Over the words as loaded (see `word`): the old and new address as their bytes are. The
    // ports' change over their values as the flow and the caller hold them, swapped to match
    // (`Delta::swapped`: a rotation, which the addition takes in; the same residue, and 0
    // exactly when the swapped words' change is, so the same checksums), where each port's
    // bytes were swapped first (full 6 B less, and 4 to 7 fewer host instructions per packet).
    let mut change = Delta::new();
    change.dword(old_addr.swap_bytes(), addr.swap_bytes());
    let ip_checksum = change.apply(word(bytes, CHECKSUM_AT));
    let mut moved = Delta::new();
    moved.word(old_port, port);
    change.merge(moved.swapped());
    let old_checksum = word(bytes, checksum_at);
    let l4_checksum = match flow.protocol {
        Protocol::Udp => change.apply_udp(old_checksum),
        _ => change.apply(old_checksum),
    };
    // The wire helpers write through patterns, not `copy_from_slice`, whose length check would
    // link a panic path into builds without LTO.
    set_word(bytes, CHECKSUM_AT, ip_checksum);
    set_word(bytes, checksum_at, l4_checksum);
    put16(bytes, port_at..port_at + 2, port);
    put32(bytes, addr_at..addr_at + 4, addr);
}

/// True when the datagram may be fragmented on its way (DF clear): only then does its IP ID
/// mean anything (RFC 6864).
#[inline(always)]
pub fn non_atomic(packet: &[u8]) -> bool {
    packet.get(6).is_some_and(|&flags| flags & 0x40 == 0)
}

/// Sets the IP ID of a datagram, with its header checksum.
pub fn ident(packet: &mut [u8], ident: u16) {
    // Over the words as loaded (see `word`): the new ID as its bytes will be.
    let mut change = Delta::new();
    change.word(word(packet, ipv4::field::IDENT.start), u16::from_le_bytes(ident.to_be_bytes()));
    let checksum = change.apply(word(packet, CHECKSUM_AT));
    set_word(packet, CHECKSUM_AT, checksum);
    put16(packet, ipv4::field::IDENT, ident);
}

/// Rewrites an ICMP error: the outer `side` address becomes `addr`, and the quoted datagram,
/// which travelled the other way, gets its opposite endpoint rewritten to `addr:port`. The
/// outer IP, quoted IP, quoted transport and ICMP checksums all stay correct. `packet` is the
/// pipeline's, cut to no more than its total length: the ICMP message runs to its end, as
/// [`endpoint_at`] takes the transport part (to the total length or the buffer's end). An ICMP
/// message (`flow::parse` answers `Message::IcmpError` for no other protocol): for another,
/// [`endpoint_at`] would rewrite its endpoint as a plain one.
#[inline(always)]
pub fn icmp_error(packet: &mut [u8], side: Side, addr: u32, port: u16) {
    endpoint_at(SidePort::new(side, port).icmp_error(), addr, packet);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;

    fn udp_packet(checksum_on: bool) -> [u8; 32] {
        let mut p = [0u8; 32];
        p[..20].copy_from_slice(&[0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 192, 168, 1, 2, 8, 8, 8, 8]);
        p[20..28].copy_from_slice(&[0x30, 0x39, 0x00, 0x35, 0x00, 12, 0, 0]);
        p[28..].copy_from_slice(b"abcd");
        ipv4::Packet::new_checked(&mut p[..]).unwrap().fill_checksum();
        if checksum_on {
            let mut sum = checksum::pseudo_header_sum(0xC0A8_0102, 0x0808_0808, 17, 12);
            sum += checksum::sum(&p[20..]);
            let c = !checksum::fold(sum);
            p[26..28].copy_from_slice(&c.to_be_bytes());
        }
        p
    }

    fn udp_checksum_ok(p: &[u8]) -> bool {
        let src = u32::from_be_bytes([p[12], p[13], p[14], p[15]]);
        let dst = u32::from_be_bytes([p[16], p[17], p[18], p[19]]);
        let sum = checksum::pseudo_header_sum(src, dst, 17, (p.len() - 20) as u16) + checksum::sum(&p[20..]);
        checksum::fold(sum) == 0xFFFF
    }

    #[test]
    fn endpoint_rewrite_keeps_checksums_valid() {
        let mut p = udp_packet(true);
        endpoint(&mut p, Side::Source, 0x0A00_0001, 40000);
        assert_eq!(&p[12..16], &[10, 0, 0, 1]);
        assert_eq!(&p[20..22], &40000u16.to_be_bytes());
        assert!(ipv4::Packet::new_checked(&p[..]).unwrap().verify_checksum());
        assert!(udp_checksum_ok(&p));
    }

    #[test]
    fn zero_udp_checksum_stays_zero() {
        let mut p = udp_packet(false);
        endpoint(&mut p, Side::Source, 0x0A00_0001, 40000);
        assert_eq!(&p[26..28], &[0, 0]);
        assert!(ipv4::Packet::new_checked(&p[..]).unwrap().verify_checksum());
    }

    /// An ICMP error whose quote is shorter than an IPv4 header keeps its quote and its
    /// checksum (only the outer address and header checksum change): `endpoint_at` refuses the
    /// quote before it would rewrite it, which would change no word of it either. Every quote
    /// length from 0 to 19 bytes, quoting the UDP packet above.
    #[test]
    fn a_quote_shorter_than_a_header_is_left_as_it_is() {
        let quote = udp_packet(true);
        for len in 0..ipv4::HEADER_LEN {
            let mut p = [0u8; 48];
            p[..20].copy_from_slice(&[0x45, 0, 0, 0, 0, 1, 0, 0, 64, 1, 0, 0, 8, 8, 8, 8, 192, 168, 1, 2]);
            p[2..4].copy_from_slice(&(28 + len as u16).to_be_bytes());
            p[20..24].copy_from_slice(&[3, 3, 0xAB, 0xCD]);
            p[28..28 + len].copy_from_slice(&quote[..len]);
            let p = &mut p[..28 + len];
            let before = p.to_vec();
            icmp_error(p, Side::Destination, 0x0A00_0001, 40000);
            assert_eq!(&p[16..20], &[10, 0, 0, 1], "quote of {len} bytes");
            assert_eq!(p[20..], before[20..], "quote of {len} bytes");
        }
    }

    /// An ICMP error from 8.8.8.8 to the NAT quoting the UDP packet above as it left (from
    /// 192.168.1.2 here): the outer destination and the quote's source, address and port, are
    /// rewritten, and every checksum (outer header, ICMP, quoted header, quoted UDP) stays
    /// right; the ICMP header's bytes 4 to 8 are kept (no identifier in an error).
    #[test]
    fn an_icmp_error_gets_its_outer_address_and_the_quotes_other_endpoint() {
        let quote = udp_packet(true);
        let mut p = [0u8; 60];
        p[..20].copy_from_slice(&[0x45, 0, 0, 60, 0, 1, 0, 0, 64, 1, 0, 0, 8, 8, 8, 8, 203, 0, 113, 7]);
        p[20..28].copy_from_slice(&[3, 3, 0, 0, 0xAB, 0xCD, 0x12, 0x34]);
        p[28..].copy_from_slice(&quote);
        ipv4::Packet::new_checked(&mut p[..]).unwrap().fill_checksum();
        let sum = checksum::checksum(&p[20..]);
        p[22..24].copy_from_slice(&sum.to_be_bytes());
        icmp_error(&mut p, Side::Destination, 0x0A00_0001, 40000);
        assert_eq!(&p[16..20], &[10, 0, 0, 1]);
        assert_eq!(&p[12..16], &[8, 8, 8, 8]);
        assert_eq!(&p[24..28], &[0xAB, 0xCD, 0x12, 0x34]);
        assert_eq!(&p[28 + 12..28 + 16], &[10, 0, 0, 1]);
        assert_eq!(&p[28 + 20..28 + 22], &40000u16.to_be_bytes());
        assert_eq!(&p[28 + 16..28 + 20], &[8, 8, 8, 8]);
        assert!(ipv4::Packet::new_checked(&p[..]).unwrap().verify_checksum());
        assert!(checksum::verifies(&p[20..]));
        assert!(ipv4::Packet::new_checked(&p[28..]).unwrap().verify_checksum());
        assert!(udp_checksum_ok(&p[28..]));
    }

    #[test]
    fn returned_delta_covers_every_changed_word() {
        let mut p = udp_packet(true);
        let before = checksum::sum(&p);
        let delta = endpoint(&mut p, Side::Destination, 0x0102_0304, 53);
        // Summing the bytes after the rewrite equals the old sum plus the delta. The delta is
        // over the words as loaded (little-endian, see `word`): the big-endian sums swapped.
        let mut expected = Delta::new();
        expected.merge(delta);
        let (old_sum, new_sum) = (!checksum::fold(before), !checksum::fold(checksum::sum(&p)));
        assert_eq!(expected.apply(old_sum.swap_bytes()), new_sum.swap_bytes());
    }
}
