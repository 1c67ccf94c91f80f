//! Reads what the session tables key on out of a packet: protocol, addresses, ports (or the
//! ICMP query identifier), TCP flags, and for ICMP errors the same of the quoted datagram.
//!
//! Uses `wire` and `tables` (the protocol); `rewrite` and `nat` use it.

use crate::tables::table::both_ports;
use crate::tables::Protocol;
use crate::wire::checksum;
use crate::wire::icmp::{self, kind, Class};
use crate::wire::ipv4::{self, protocol};
use crate::wire::{tcp, udp};

/// Which endpoint of a datagram: the one a flow is keyed on, the one a rewrite changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

/// The endpoints of a TCP/UDP packet or ICMP query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub protocol: Protocol,
    /// The destination before the source: the field order that took the least code (measured;
    /// the two ports stay together, the source's first, as `ports_word` stores them).
    pub dst: u32,
    pub src: u32,
    /// For ICMP queries the identifier sits on the side facing the NAT's mapping; the other
    /// side's "port" is the request type of the exchange (see `ident_ports`).
    pub src_port: u16,
    pub dst_port: u16,
    pub tcp_flags: u8,
    /// May start a session: a TCP SYN without ACK, any UDP datagram, an ICMP query request.
    /// For the datagram an ICMP error quotes (which starts none), whether the error can be
    /// trusted instead: see [`Flow::trusted`].
    pub creates: bool,
}

impl Flow {
    /// For a flow [`parse_icmp_error`] read: whether the error can be trusted. Carried in
    /// `creates`, which a quoted datagram has no use for, rather than beside the flow: its
    /// callers then take a 16-byte answer, not a 20-byte pair (less code, measured).
    #[inline(always)]
    pub fn trusted(&self) -> bool {
        self.creates
    }
}

/// What a packet is to the NAT. Its variant is a word of its own (`repr(u32)`), not kept in
/// the values a flow's `creates` byte leaves free: its callers test the word as it is, where
/// the byte's five values (a flow's two, `Other`, `IcmpError`, and `parse`'s error) took a
/// subtraction and a select before the tests. (The variants' order only numbers them; this
/// one took the least code, measured.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Message {
    /// Another protocol or ICMP type: nothing a session could translate.
    Other,
    /// ICMP error (types 3, 11, 12): see [`parse_icmp_error`].
    IcmpError,
    Flow(Flow),
}

/// Parses a whole packet (already validated by `ipv4::Packet::new_head`, whose checks are not
/// made again). `mapped_side` is the side whose endpoint is in a mapping (the source outbound,
/// the destination inbound); an ICMP query's identifier is put there. `None` for a transport
/// header too short or inconsistent, which outbound translation drops as `BadTransport`:
/// the one refusal the pipeline's packets can meet (a buffer shorter than an IPv4 header,
/// refused the same way, never gets here), so no reason byte rides in the answer.
pub fn parse(packet: &[u8], mapped_side: Side) -> Option<Message> {
    let ip = ipv4::Packet::new_accepted(packet).ok()?;
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    // The transport bytes to the buffer's end. Never `None` for the pipeline's packet: `new_head`
    // accepted no header longer than the buffer nor a total length below the header's, and
    // the packet is cut to no less than that (the answer there is `after_header`'s empty
    // slice's for TCP, UDP and ICMP, without its made-up pointer).
    let l4 = packet.get(ip.header_len()..)?;
    // Each arm hands back the flow's fields and the flow is built once, after the match (less
    // code than a closure that built it, called from three arms). TCP and UDP keep their ports
    // in the same first 4 bytes: read once, after the match, for both (`None` here). The ports
    // as one word (`ports_word`): read as one load and stored as one.
    let (protocol, ports, tcp_flags, creates) = match ip.protocol() {
        protocol::TCP => {
            let seg = tcp::Packet::new_checked(l4).ok()?;
            let flags = seg.flags();
            let creates = flags & tcp::flags::SYN != 0 && flags & tcp::flags::ACK == 0;
            (Protocol::Tcp, None, flags, creates)
        }
        protocol::UDP => {
            // Checked against the datagram's length: `packet` may hold only its first bytes.
            // `new_head` accepted no total length below the header's: no saturation needed.
            let l4_len = ip.total_len().wrapping_sub(ip.header_len());
            udp::Packet::new_head(l4, l4_len).ok()?;
            (Protocol::Udp, None, 0, true)
        }
        protocol::ICMP => {
            let msg = icmp::Packet::new_checked(l4).ok()?;
            match icmp::class(msg.msg_type()) {
                Class::Error => return Some(Message::IcmpError),
                Class::Other => return Some(Message::Other),
                // A request or a reply: a request is its exchange's own type.
                _ => {
                    let msg_type = msg.msg_type();
                    let creates = query_exchange(msg_type) == u16::from(msg_type);
                    (Protocol::Icmp, Some(ports_word(ident_ports(msg.ident(), msg_type, mapped_side))), 0, creates)
                }
            }
        }
        _ => return Some(Message::Other),
    };
    // Both arms above refused a transport part shorter than their header (20 or 8 bytes): the
    // `None` of `ports_at` only repeats their answer.
    let ports = match ports {
        Some(ports) => ports,
        None => ports_at(l4)?,
    };
    let (src_port, dst_port) = (ports as u16, (ports >> 16) as u16);
    Some(Message::Flow(Flow { protocol, src, dst, src_port, dst_port, tcp_flags, creates }))
}

/// A TCP segment or UDP datagram in the shape nearly all traffic has: a 20-byte IPv4 header
/// (no options) with a correct checksum, not a fragment, TTL above 1, and a whole transport
/// header. The established-flow fast path takes only these; anything else goes the general
/// way, which decides about it in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plain {
    pub flow: Flow,
    pub total_len: u16,
    pub dont_frag: bool,
    /// Where the transport checksum is (TCP 36, UDP 26): `packet` holds the 2 bytes there.
    pub checksum_at: usize,
}

/// Where a plain packet's TCP checksum is (20-byte IP header, checksum at 16 in the segment).
const TCP_CHECKSUM_AT: usize = ipv4::HEADER_LEN + 16;
/// Where a plain packet's UDP checksum is (20-byte IP header, checksum at 6 in the datagram).
const UDP_CHECKSUM_AT: usize = ipv4::HEADER_LEN + 6;

/// Reads a [`Plain`] packet in one pass over fixed offsets; `None` when `packet` is anything
/// else (including anything malformed, which the general way then drops and counts).
#[inline(always)]
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
pub fn parse_plain(packet: &[u8]) -> Option<Plain> {
    parse_plain_head(packet, packet.len())
}

/// [`parse_plain`] for the first bytes (`packet`) of a datagram of `datagram_len` bytes held in
/// a chain of buffers: the transport header must be among them.
#[inline(always)]
pub fn parse_plain_head(packet: &[u8], datagram_len: usize) -> Option<Plain> {
    let header: &[u8; ipv4::HEADER_LEN] = packet.get(..ipv4::HEADER_LEN)?.try_into().ok()?;
    if !checksum::header_ok(header) {
        return None;
    }
    let [ver_ihl, _, len_hi, len_lo, _, _, flags_hi, flags_lo, ttl, protocol, ..] = *header;
    let flags_offset = u16::from_be_bytes([flags_hi, flags_lo]);
    // Version 4 with IHL 5, no MF bit and no offset, a hop left after this one.
    if ver_ihl != 0x45 || flags_offset & 0x3FFF != 0 || ttl <= 1 {
        return None;
    }
    let total_len = u16::from_be_bytes([len_hi, len_lo]);
    if usize::from(total_len) > datagram_len {
        return None;
    }
    let tcp = match protocol {
        protocol::TCP => true,
        protocol::UDP => false,
        _ => return None,
    };
    // The transport header up to its checksum, in `packet`: one test for both protocols, of
    // the very bound `rewrite::plain_endpoint` slices by, so that the optimiser drops its own.
    let checksum_at = if tcp { TCP_CHECKSUM_AT } else { UDP_CHECKSUM_AT };
    let head = packet.get(..checksum_at + 2)?;
    // The datagram's bytes that `packet` holds, and its whole length.
    let held = usize::from(total_len).min(packet.len());
    let total = usize::from(total_len);
    let (protocol, tcp_flags, creates) = if tcp {
        let (header_len, flags) = (usize::from(head[32] >> 4) * 4, head[33]);
        if header_len < tcp::HEADER_LEN || ipv4::HEADER_LEN + header_len > held {
            return None;
        }
        let creates = flags & tcp::flags::SYN != 0 && flags & tcp::flags::ACK == 0;
        (Protocol::Tcp, flags, creates)
    } else {
        // Signed words: `length + 20 > total` as `length > total - 20`, which is negative (so
        // refuses every length) for a total below 20, as the sum did; the constant then sits
        // in the subtraction, where the sum took it into a register of its own (2 B less).
        let length = i32::from(u16::from_be_bytes([head[24], head[25]]));
        if length < udp::HEADER_LEN as i32 || length > total as i32 - ipv4::HEADER_LEN as i32 {
            return None;
        }
        (Protocol::Udp, 0, true)
    };
    let ports = u32::from_be_bytes([head[20], head[21], head[22], head[23]]).rotate_left(16);
    Some(Plain {
        flow: Flow {
            protocol,
            src: u32::from_be_bytes([header[12], header[13], header[14], header[15]]),
            dst: u32::from_be_bytes([header[16], header[17], header[18], header[19]]),
            src_port: ports as u16,
            dst_port: (ports >> 16) as u16,
            tcp_flags,
            creates,
        },
        total_len,
        dont_frag: flags_offset & 0x4000 != 0,
        checksum_at,
    })
}

/// Parses the datagram an ICMP error quotes. `mapped_side` is the side of the *quoted*
/// datagram whose endpoint is in a mapping (its source for an error coming in, since it
/// quotes a datagram that went out). In it ([`Flow::trusted`]), whether the error can be
/// trusted: its own checksum and its quoted IP header checksum are both right (RFC 5508
/// REQ-4: a NAT drops errors it cannot trust rather than translate them). Read in the same pass over the
/// headers, not in a second one. `packet` was validated as for [`parse`] (its outer header is
/// not checked again); the quoted header is checked here. `None` when the error quotes too
/// little (or too oddly) to identify the datagram: its one refusal, which its callers name
/// (`IcmpMalformed`) or pass; no reason byte carried through the answer.
pub fn parse_icmp_error(packet: &[u8], mapped_side: Side) -> Option<Flow> {
    let outer = ipv4::Packet::new_accepted(packet).ok()?;
    // The ICMP message to the buffer's end: the pipeline cut the packet to no more than its
    // total length. The quote after its 8-byte header, refused here when shorter than an IPv4
    // header: once, where the ICMP header's test and the quoted header's below (which then
    // never fail for want of bytes) refused it the same way. Taken first, from the packet:
    // the message, which starts before it, then needs no test of its own.
    let at = outer.header_len();
    let quoted = packet.get(at + icmp::field::QUOTED..).filter(|q| q.len() >= ipv4::HEADER_LEN)?;
    let msg = packet.get(at..)?;
    let inner = ipv4::Packet::new_quoted(quoted).ok()?;
    // The quoted transport part runs from the quoted header's end to the quoted total length
    // (or the quote's end, if sooner): a non-first fragment carries no ports, and RFC 792
    // guarantees 8 bytes of the first. Those 8 bytes are all that is read, so the part is
    // measured rather than sliced, and read from the quote after the header.
    let (start, end) = (inner.header_len(), inner.total_len().min(quoted.len()));
    if end < start + 8 || inner.frag_offset() != 0 {
        return None;
    }
    // Whether it can be trusted, asked before the quoted ports are read (both answers are
    // pure, so the same whichever comes first: here the two checksums took the least code).
    let trusted = checksum::verifies(msg) && inner.verify_checksum();
    // The quoted addresses read here too, before the ports (the least code, measured).
    let (src, dst) = (inner.src_addr(), inner.dst_addr());
    let l4 = quoted.get(start..)?;
    let (protocol, ports) = match inner.protocol() {
        protocol::TCP => {
            tcp::Packet::new_quoted(l4).ok()?;
            (Protocol::Tcp, ports_at(l4)?)
        }
        protocol::UDP => {
            udp::Packet::new_quoted(l4).ok()?;
            (Protocol::Udp, ports_at(l4)?)
        }
        protocol::ICMP => {
            let query = icmp::Packet::new_checked(l4).ok()?;
            if !icmp::is_query(query.msg_type()) {
                return None;
            }
            (Protocol::Icmp, ports_word(ident_ports(query.ident(), query.msg_type(), mapped_side)))
        }
        _ => return None,
    };
    let (src_port, dst_port) = (ports as u16, (ports >> 16) as u16);
    let flow = Flow {
        protocol,
        src,
        dst,
        src_port,
        dst_port,
        tcp_flags: 0,
        creates: trusted,
    };
    Some(flow)
}

/// True when `packet` is an ICMP error (those the NAT translates, source quench or redirect),
/// or a later fragment of an ICMP message, which may be one: no ICMP error may be sent about
/// it (RFC 1812 4.3.2.7). `packet` was validated as for [`parse`].
pub fn may_be_icmp_error(packet: &[u8]) -> bool {
    let Ok(ip) = ipv4::Packet::new_accepted(packet) else { return false };
    if ip.protocol() != protocol::ICMP {
        return false;
    }
    ip.frag_offset() != 0 || ip.payload().first().is_some_and(|&t| is_error_type(t))
}

/// The ICMP error types: those [`icmp::class`] calls errors and the two older ones, source
/// quench and redirect, as one set (one bit test, where the class and two compares took more
/// code; the unit test below checks that it is the same set).
fn is_error_type(icmp_type: u8) -> bool {
    matches!(
        icmp_type,
        kind::DEST_UNREACHABLE | kind::TIME_EXCEEDED | kind::PARAMETER_PROBLEM | kind::SOURCE_QUENCH | kind::REDIRECT
    )
}

/// A pair of ports (as [`ident_ports`] gives them) as one word, the source's in the low half
/// ([`both_ports`]), as a flow's two ports lie in memory on a little-endian machine: the
/// parsers build it and store it as one word (their two halfword reads and stores took more
/// code).
#[inline(always)]
fn ports_word((src, dst): (u16, u16)) -> u32 {
    both_ports(src, dst)
}

/// The two ports a TCP or UDP header starts with, as [`ports_word`] holds them: the four
/// bytes read as one big-endian word (source port high) and its halves swapped.
#[inline(always)]
fn ports_at(l4: &[u8]) -> Option<u32> {
    match *l4 {
        [a, b, c, d, ..] => Some(u32::from_be_bytes([a, b, c, d]).rotate_left(16)),
        _ => None,
    }
}

/// The "ports" of an ICMP query of type `msg_type` (a type [`icmp::class`] calls a request or
/// a reply: both callers test that first): the identifier on the mapped side, and on the other
/// the request type of its exchange (echo 8, timestamp 13, information 15), so a session keyed
/// on them only lets in replies of the kind of request that opened it.
fn ident_ports(ident: u16, msg_type: u8, mapped_side: Side) -> (u16, u16) {
    // Each reply numbered one above its request, timestamp's and information's requests odd
    // and echo's request the highest type below them (checked at compile time below): the type
    // less one (-1 for 0) with its low bit set is the exchange of the four newer types, and
    // at most 7 for echo's two, which the floor of 8 makes echo's request. One subtraction, an
    // or and a compare where a test of each reply type took more code.
    let exchange = query_exchange(msg_type);
    match mapped_side {
        Side::Source => (ident, exchange),
        Side::Destination => (exchange, ident),
    }
}

/// The request type of the exchange of an ICMP query of type `msg_type` (see [`ident_ports`]):
/// the type itself exactly for a request (a test over every type), which is how [`parse`]
/// tells a request, one compare where the class's test took a bit mask.
#[inline(always)]
fn query_exchange(msg_type: u8) -> u16 {
    match msg_type {
        #[cfg(feature = "icmp-queries")]
        query => exchange_of(query),
        // Without the other queries every request or reply is echo's: its exchange is echo,
        // written as a constant where the type's test took code.
        #[cfg(not(feature = "icmp-queries"))]
        _ => u16::from(kind::ECHO_REQUEST),
    }
}

/// The request type of the exchange an ICMP query of type `msg_type` belongs to, for the types
/// [`icmp::class`] calls a request or a reply (see [`ident_ports`]). In a signed word: the
/// type less one is -1 for type 0 (below echo's floor, as 7 is), so no saturation is needed,
/// nor a narrowing to a byte before the compare (a byte's saturating subtraction took a SIMD
/// instruction and a zero-extension).
#[cfg(feature = "icmp-queries")]
const fn exchange_of(msg_type: u8) -> u16 {
    let odd = (msg_type as i32 - 1) | 1;
    let floor = kind::ECHO_REQUEST as i32;
    (if odd > floor { odd } else { floor }) as u16
}

#[cfg(feature = "icmp-queries")]
const _: () = assert!(
    exchange_of(kind::ECHO_REPLY) == kind::ECHO_REQUEST as u16
        && exchange_of(kind::ECHO_REQUEST) == kind::ECHO_REQUEST as u16
        && exchange_of(kind::TIMESTAMP) == kind::TIMESTAMP as u16
        && exchange_of(kind::TIMESTAMP_REPLY) == kind::TIMESTAMP as u16
        && exchange_of(kind::INFO_REQUEST) == kind::INFO_REQUEST as u16
        && exchange_of(kind::INFO_REPLY) == kind::INFO_REQUEST as u16
);

#[cfg(test)]
mod tests {
    use super::*;

    /// What `parse_plain_head` answered, for a packet whose IP header it accepts (any in the
    /// test below that holds 20 bytes), when each protocol's arm sliced the datagram's bytes
    /// after the IP header (`total_len` or the buffer, the shorter) and read its fixed header
    /// from them: the protocol, TCP flags, whether it creates, where the checksum is.
    fn transport_per_arm(packet: &[u8], datagram_len: usize) -> Option<(Protocol, u8, bool, usize)> {
        let total = usize::from(u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]));
        if packet.len() < ipv4::HEADER_LEN || total > datagram_len {
            return None;
        }
        let l4 = packet.get(ipv4::HEADER_LEN..total.min(packet.len()))?;
        match packet[9] {
            protocol::TCP => {
                let seg = l4.get(..tcp::HEADER_LEN)?;
                let header_len = usize::from(seg[12] >> 4) * 4;
                let flags = seg[13];
                let ok = (tcp::HEADER_LEN..=l4.len()).contains(&header_len);
                let creates = flags & (tcp::flags::SYN | tcp::flags::ACK) == tcp::flags::SYN;
                ok.then_some((Protocol::Tcp, flags, creates, 36))
            }
            protocol::UDP => {
                let dgram = l4.get(..udp::HEADER_LEN)?;
                let length = usize::from(u16::from_be_bytes([dgram[4], dgram[5]]));
                let ok = (udp::HEADER_LEN..=total.saturating_sub(ipv4::HEADER_LEN)).contains(&length);
                ok.then_some((Protocol::Udp, 0, true, 26))
            }
            _ => None,
        }
    }

    /// `parse_plain_head` takes exactly the packets the per-arm reading took, the same way, and
    /// every `Plain` it gives holds its transport checksum (`rewrite::plain_endpoint` relies
    /// on it and makes no test of its own): TCP (every data offset, SYN or ACK) and UDP (length
    /// 0 to 40 and 0xFFFF), total length 0 to 72 and 0xFFFF, buffer 0 to 72 bytes, datagram
    /// as long as the buffer or 100 bytes.
    #[test]
    fn a_plain_packet_holds_its_transport_checksum() {
        for (number, at) in [(protocol::TCP, 36), (protocol::UDP, 26), (1, 0)] {
            let mut taken = 0;
            let fields: &[u16] = if number == protocol::UDP { &[0, 7, 8, 9, 20, 28, 40, 0xFFFF] } else { &[0, 1, 2] };
            for &field in fields {
                for offset in 0..=15u8 {
                    if number != protocol::TCP && offset > 0 {
                        continue;
                    }
                    for total in (0..=72u16).chain([0xFFFF]) {
                        let mut p = [0u8; 72];
                        p[..20].copy_from_slice(&[0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, number, 0, 0, 10, 0, 0, 2, 8, 8, 8, 8]);
                        p[2..4].copy_from_slice(&total.to_be_bytes());
                        p[20..24].copy_from_slice(&[0x30, 0x39, 0x00, 0x50]);
                        p[24..26].copy_from_slice(&field.to_be_bytes());
                        p[32] = offset << 4;
                        p[33] = [tcp::flags::ACK, tcp::flags::SYN, tcp::flags::SYN | tcp::flags::ACK][usize::from(field % 3)];
                        let sum = checksum::checksum(&p[..20]);
                        p[10..12].copy_from_slice(&sum.to_be_bytes());
                        for len in 0..=p.len() {
                            for datagram_len in [len, 100] {
                                let plain = parse_plain_head(&p[..len], datagram_len);
                                let fields = plain.map(|p| (p.flow.protocol, p.flow.tcp_flags, p.flow.creates, p.checksum_at));
                                assert_eq!(fields, transport_per_arm(&p[..len], datagram_len));
                                if let Some(plain) = plain {
                                    assert_eq!((plain.flow.src_port, plain.flow.dst_port), (12345, 80));
                                    assert_eq!((plain.total_len, plain.dont_frag), (total, true));
                                    assert_eq!(plain.checksum_at, at);
                                    assert!(plain.checksum_at + 2 <= len);
                                    taken += 1;
                                }
                            }
                        }
                    }
                }
            }
            assert_eq!(taken > 0, number != 1, "IP protocol {number}: {taken} taken");
        }
    }

    /// `ident_ports` puts the identifier on the mapped side and, on the other, the request type
    /// of the exchange, for every type `icmp::class` calls a request or a reply (the only ones
    /// its callers hand it); that exchange is the type itself for requests alone.
    #[test]
    fn ident_ports_name_the_exchange_of_every_query_type() {
        for t in 0..=u8::MAX {
            let exchange = match (icmp::class(t), t) {
                (Class::Request, request) => request,
                (Class::Reply, kind::ECHO_REPLY) => kind::ECHO_REQUEST,
                (Class::Reply, kind::TIMESTAMP_REPLY) => kind::TIMESTAMP,
                (Class::Reply, kind::INFO_REPLY) => kind::INFO_REQUEST,
                (Class::Reply, _) => unreachable!("type {t}: no other replies"),
                (Class::Error | Class::Other, _) => continue,
            };
            assert_eq!(ident_ports(0x1234, t, Side::Source), (0x1234, u16::from(exchange)), "type {t}");
            assert_eq!(ident_ports(0x1234, t, Side::Destination), (u16::from(exchange), 0x1234), "type {t}");
            // `parse` tells a request by its exchange being its own type.
            assert_eq!(query_exchange(t) == u16::from(t), icmp::class(t) == Class::Request, "type {t}");
        }
    }

    /// An ICMP error from 8.8.8.8 to 203.0.113.7, destination unreachable, port unreachable,
    /// quoting a UDP datagram 203.0.113.7:40000 -> 8.8.8.8:53 of 28 bytes; no checksum filled.
    fn port_unreachable_quoting_udp() -> [u8; 56] {
        let mut p = [0u8; 56];
        p[..20].copy_from_slice(&[0x45, 0, 0, 56, 0, 1, 0, 0, 64, 1, 0, 0, 8, 8, 8, 8, 203, 0, 113, 7]);
        p[20..22].copy_from_slice(&[3, 3]);
        p[28..48].copy_from_slice(&[0x45, 0, 0, 28, 0, 2, 0, 0, 64, 17, 0, 0, 203, 0, 113, 7, 8, 8, 8, 8]);
        p[48..56].copy_from_slice(&[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
        p
    }

    /// An ICMP error is refused as malformed unless its message holds the 8-byte ICMP header,
    /// a whole quoted IPv4 header and the 8 bytes after it (which `parse_icmp_error` tests in
    /// one place or another): every message length from 0 to a whole one, against the whole
    /// one taken (and trusted, both checksums right).
    #[test]
    fn an_icmp_error_cut_short_of_its_quoted_ports_is_malformed() {
        let mut p = port_unreachable_quoting_udp();
        ipv4::Packet::new_checked(&mut p[..]).unwrap().fill_checksum();
        ipv4::Packet::new_checked(&mut p[28..]).unwrap().fill_checksum();
        let sum = checksum::checksum(&p[20..]);
        p[22..24].copy_from_slice(&sum.to_be_bytes());
        let flow = parse_icmp_error(&p, Side::Source).unwrap();
        assert!(flow.trusted());
        assert_eq!((flow.protocol, flow.src, flow.src_port, flow.dst, flow.dst_port), (Protocol::Udp, 0xCB00_7107, 40000, 0x0808_0808, 53));
        for cut in 20..p.len() {
            assert_eq!(parse_icmp_error(&p[..cut], Side::Source), None, "message of {} bytes", cut - 20);
        }
    }

    /// `parse` answers `IcmpError` for protocol 1 (ICMP) only: the same ICMP error bytes under
    /// every IP protocol number (`rewrite::icmp_error` takes its packet as an ICMP message).
    #[test]
    fn only_an_icmp_message_is_an_icmp_error() {
        let mut p = port_unreachable_quoting_udp();
        for number in 0..=u8::MAX {
            p[9] = number;
            let error = matches!(parse(&p, Side::Destination), Some(Message::IcmpError));
            assert_eq!(error, number == protocol::ICMP, "protocol {number}");
        }
    }

    /// `is_error_type` is `icmp::class`'s errors plus source quench and redirect, for every type.
    #[test]
    fn error_types_are_the_classes_errors_and_the_older_two() {
        for t in 0..=u8::MAX {
            let expected = icmp::class(t) == Class::Error || t == kind::SOURCE_QUENCH || t == kind::REDIRECT;
            assert_eq!(is_error_type(t), expected, "type {t}");
        }
    }
}
