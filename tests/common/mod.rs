//! Shared helpers for the integration tests: packets built by etherparse (an implementation
//! independent of ours) and a checksum oracle that recomputes every checksum from scratch.
#![allow(dead_code)]

use etherparse::{
    Icmpv4Header, IpFragOffset, IpNumber, Ipv4Header, PacketBuilder, TcpHeader, TcpOptionElement, UdpHeader,
};
use lwip_snat::{Config, Context, Nat, Route, Rule, Verdict};

pub use test_kit::packet::{ACK, FIN, RST, SYN};
pub use test_kit::topology::*;

/// A NAT small enough to fill in a test: 64 TCP, 64 UDP, 16 ICMP sessions.
pub type TestNat = Nat<64, 64, 16>;

/// A NAT with `config`, one `Source(LAN)` rule, and a fixed seed.
pub fn nat_with(config: Config) -> Box<TestNat> {
    let mut nat = Box::new(TestNat::new());
    nat.reset(config, [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]).unwrap();
    nat.add_rule(Rule::Source(LAN)).unwrap();
    nat
}

pub fn nat() -> Box<TestNat> {
    nat_with(Config::DEFAULT)
}

/// LAN → WAN, forwarded.
pub fn outbound() -> Context {
    Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: 1500 } }
}

/// Arrived on the WAN, addressed to the WAN address (MTU not given: the NAT relies on what it
/// learned from outbound traffic).
pub fn inbound() -> Context {
    Context { in_netif: WAN, route: Route::Local { netif: WAN, mtu: 0 } }
}

/// Translates `p` outbound and returns the rewritten bytes, asserting it was translated and
/// that every checksum is right.
pub fn out(nat: &mut TestNat, mut p: Vec<u8>, now: u32) -> Vec<u8> {
    assert_eq!(nat.process(&mut p, &outbound(), now), Verdict::Translated);
    assert_checksums(&p);
    p
}

/// [`out`] for a packet arriving on the WAN for the WAN address.
pub fn inb(nat: &mut TestNat, mut p: Vec<u8>, now: u32) -> Vec<u8> {
    assert_eq!(nat.process(&mut p, &inbound(), now), Verdict::Translated);
    assert_checksums(&p);
    p
}

pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).udp(sport, dport).write(&mut v, payload).unwrap();
    v
}

pub fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8) -> Vec<u8> {
    tcp_data(src, sport, dst, dport, flags, &[])
}

pub fn tcp_data(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = TcpHeader::new(sport, dport, 1000, 64240);
    h.syn = flags & SYN != 0;
    h.ack = flags & ACK != 0;
    h.fin = flags & FIN != 0;
    h.rst = flags & RST != 0;
    if h.ack {
        h.acknowledgment_number = 2000;
    }
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).tcp_header(h).write(&mut v, payload).unwrap();
    v
}

pub fn echo_request(src: [u8; 4], dst: [u8; 4], id: u16, seq: u16) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).icmpv4_echo_request(id, seq).write(&mut v, b"ping-data").unwrap();
    v
}

pub fn echo_reply(src: [u8; 4], dst: [u8; 4], id: u16, seq: u16) -> Vec<u8> {
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).icmpv4_echo_reply(id, seq).write(&mut v, b"ping-data").unwrap();
    v
}

/// An ICMP error from `src` to `dst` quoting `quoted` (a whole datagram, cut to `quote_len`).
pub fn icmp_error(src: [u8; 4], dst: [u8; 4], icmp_type: u8, code: u8, quoted: &[u8], quote_len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    let quote = &quoted[..quote_len.min(quoted.len())];
    PacketBuilder::ipv4(src, dst, 64).icmpv4_raw(icmp_type, code, [0; 4]).write(&mut v, quote).unwrap();
    v
}

/// Runs one packet through `nat`: a translated one must verify from scratch (every checksum),
/// any other must come back untouched.
pub fn run(nat: &mut TestNat, ctx: Context, p: &[u8], now: u32) -> (Verdict, Vec<u8>) {
    let mut copy = p.to_vec();
    let v = nat.process(&mut copy, &ctx, now);
    if v == Verdict::Translated {
        assert_checksums(&copy);
    } else {
        assert_eq!(copy, p, "a packet that is not translated is not modified");
    }
    (v, copy)
}

/// Recomputes the IPv4 header checksum of a packet after a test edited it by hand.
pub fn refill_ip_checksum(p: &mut [u8]) {
    let (h, _) = Ipv4Header::from_slice(p).unwrap();
    let c = h.calc_header_checksum();
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

pub fn set_ttl(p: &mut [u8], ttl: u8) {
    p[8] = ttl;
    refill_ip_checksum(p);
}

pub fn set_df(p: &mut [u8]) {
    p[6] |= 0x40;
    refill_ip_checksum(p);
}

pub fn src(p: &[u8]) -> [u8; 4] {
    p[12..16].try_into().unwrap()
}

pub fn dst(p: &[u8]) -> [u8; 4] {
    p[16..20].try_into().unwrap()
}

fn l4(p: &[u8]) -> &[u8] {
    &p[usize::from(p[0] & 0xF) * 4..]
}

pub fn sport(p: &[u8]) -> u16 {
    let l = l4(p);
    u16::from_be_bytes([l[0], l[1]])
}

pub fn dport(p: &[u8]) -> u16 {
    let l = l4(p);
    u16::from_be_bytes([l[2], l[3]])
}

/// ICMP identifier of a query packet.
pub fn icmp_ident(p: &[u8]) -> u16 {
    let l = l4(p);
    u16::from_be_bytes([l[4], l[5]])
}

/// The datagram an ICMP error quotes.
pub fn quoted(p: &[u8]) -> &[u8] {
    &l4(p)[8..]
}

/// Asserts that every checksum in `p` equals a from-scratch recompute by etherparse: the IP
/// header, the transport checksum (a UDP 0 is allowed), and for ICMP errors the ICMP checksum,
/// the quoted IP header and, where the whole quoted datagram is present, its transport checksum.
pub fn assert_checksums(p: &[u8]) {
    let (ip, rest) = Ipv4Header::from_slice(p).expect("IPv4 header");
    assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IPv4 header checksum");
    let payload = &rest[..usize::from(ip.payload_len().unwrap())];
    assert_transport(&ip, payload, true);
}

fn assert_transport(ip: &Ipv4Header, payload: &[u8], whole: bool) {
    match ip.protocol {
        IpNumber::UDP => {
            let (h, data) = UdpHeader::from_slice(payload).expect("UDP header");
            if whole && h.checksum != 0 {
                assert_eq!(h.checksum, h.calc_checksum_ipv4(ip, data).unwrap(), "UDP checksum");
            }
        }
        IpNumber::TCP if whole => {
            let (h, data) = TcpHeader::from_slice(payload).expect("TCP header");
            assert_eq!(h.checksum, h.calc_checksum_ipv4(ip, data).unwrap(), "TCP checksum");
        }
        IpNumber::ICMP if whole => {
            let (h, data) = Icmpv4Header::from_slice(payload).expect("ICMP header");
            assert_eq!(h.checksum, h.icmp_type.calc_checksum(data), "ICMP checksum");
            if matches!(payload[0], 3 | 11 | 12) {
                let (inner, inner_rest) = Ipv4Header::from_slice(data).expect("quoted IPv4 header");
                assert_eq!(inner.header_checksum, inner.calc_header_checksum(), "quoted IPv4 header checksum");
                let announced = usize::from(inner.payload_len().unwrap());
                let complete = inner_rest.len() >= announced;
                assert_transport(&inner, &inner_rest[..announced.min(inner_rest.len())], complete);
            }
        }
        _ => {}
    }
}

/// Payload bytes `offset..end` of the datagram `whole` as a fragment with a header checksum that
/// verifies: MF exactly as `more` says (also where a sender would not set it), options kept.
pub fn raw_fragment(whole: &[u8], offset: usize, end: usize, more: bool) -> Vec<u8> {
    let (mut h, rest) = Ipv4Header::from_slice(whole).unwrap();
    h.dont_fragment = false;
    h.more_fragments = more;
    h.fragment_offset = IpFragOffset::try_new((offset / 8) as u16).unwrap();
    h.set_payload_len(end - offset).unwrap();
    h.header_checksum = h.calc_header_checksum();
    let mut v = h.to_bytes().to_vec();
    v.extend_from_slice(&rest[offset..end]);
    v
}

/// `whole` (20-byte header) cut into fragments of at most `size` payload bytes (a multiple of
/// 8), in order, as a sender would.
pub fn fragments_of(whole: &[u8], size: usize) -> Vec<Vec<u8>> {
    let payload_len = whole.len() - 20;
    (0..payload_len)
        .step_by(size)
        .map(|offset| {
            let end = (offset + size).min(payload_len);
            raw_fragment(whole, offset, end, end < payload_len)
        })
        .collect()
}

/// Puts fragments (same datagram, any order) back together: header of the first, payload by offset.
pub fn join_fragments(frags: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut header = None;
    for f in frags {
        let (h, rest) = Ipv4Header::from_slice(f).unwrap();
        let offset = usize::from(h.fragment_offset.value()) * 8;
        let data = &rest[..usize::from(h.payload_len().unwrap())];
        if payload.len() < offset + data.len() {
            payload.resize(offset + data.len(), 0);
        }
        payload[offset..offset + data.len()].copy_from_slice(data);
        if offset == 0 {
            header = Some(h);
        }
    }
    let mut h = header.expect("a first fragment");
    h.more_fragments = false;
    h.set_payload_len(payload.len()).unwrap();
    h.header_checksum = h.calc_header_checksum();
    let mut whole = h.to_bytes().to_vec();
    whole.extend_from_slice(&payload);
    whole
}

/// `p` with IP identification `ident` (which keys reassembly), header checksum redone.
pub fn with_ident(mut p: Vec<u8>, ident: u16) -> Vec<u8> {
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    refill_ip_checksum(&mut p);
    p
}

/// A TCP SYN (or SYN-ACK) carrying an MSS option after a NOP (so the value sits at an odd
/// offset of the segment, the harder case for the incremental checksum).
/// A SYN (a SYN-ACK when `ack`, acknowledging 1) carrying the TCP options `opts`.
pub fn syn_with_options(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    ack: bool,
    opts: &[TcpOptionElement],
) -> Vec<u8> {
    let mut h = TcpHeader::new(sport, dport, 1, 64240);
    h.syn = true;
    h.ack = ack;
    if ack {
        h.acknowledgment_number = 2;
    }
    h.set_options(opts).unwrap();
    let mut v = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).tcp_header(h).write(&mut v, &[]).unwrap();
    v
}

/// [`syn_with_options`] with one MSS option.
pub fn syn_with_mss(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, ack: bool, mss: u16) -> Vec<u8> {
    syn_with_options(src, sport, dst, dport, ack, &[TcpOptionElement::Noop, TcpOptionElement::MaximumSegmentSize(mss)])
}

/// Every MSS option of a TCP segment, in order.
pub fn mss_options(p: &[u8]) -> Vec<u16> {
    let (_, rest) = Ipv4Header::from_slice(p).unwrap();
    let (h, _) = TcpHeader::from_slice(rest).unwrap();
    h.options_iterator()
        .filter_map(|o| match o {
            Ok(TcpOptionElement::MaximumSegmentSize(m)) => Some(m),
            _ => None,
        })
        .collect()
}

/// The first MSS option of a TCP segment.
pub fn mss_of(p: &[u8]) -> u16 {
    *mss_options(p).first().expect("an MSS option")
}
