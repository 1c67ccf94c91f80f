//! Shared helpers for the integration tests: the NAT under test and its contexts, and the
//! packets of the tests as test-kit builds them (written apart from the library), checked by
//! test-kit's checksum oracle, which recomputes every checksum from scratch.
#![allow(dead_code)]

use etherparse::{Ipv4Header, TcpHeader, TcpOptionElement};
use lwip_snat::{Config, Context, Nat, Route, Rule, Verdict};
use test_kit::oracle::{ICMP, TCP, UDP};
#[allow(unused_imports)] // each test crate uses some of them
pub use test_kit::packet::{datagram, icmp_message, ident_seq, tcp_segment, udp_segment, Ipv4Fields, TcpFields};

#[allow(unused_imports)] // each test crate uses some of them
pub use test_kit::packet::{fragments_of, join_fragments, mss_option, raw_fragment, NOP};
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

/// An IPv4 datagram around `l4` as the tests' hosts send it: TTL `ttl`, IP ID 0, DF set, the
/// transport and header checksums computed.
pub fn packet(src: [u8; 4], dst: [u8; 4], protocol: u8, ttl: u8, l4: &[u8]) -> Vec<u8> {
    datagram(src, dst, protocol, Ipv4Fields { ttl, ..Ipv4Fields::DF }, &[], l4)
}

pub fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    datagram(src, dst, UDP, Ipv4Fields::DF, &[], &udp_segment(sport, dport, payload))
}

pub fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8) -> Vec<u8> {
    tcp_data(src, sport, dst, dport, flags, &[])
}

/// A TCP segment: sequence number 1000, acknowledgment 2000 when ACK, window 64240.
pub fn tcp_data(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let flags = flags & (SYN | ACK | FIN | RST);
    let ack = if flags & ACK != 0 { 2000 } else { 0 };
    let fields = TcpFields { sport, dport, seq: 1000, ack, flags, window: 64240 };
    datagram(src, dst, TCP, Ipv4Fields::DF, &[], &tcp_segment(fields, &[], payload))
}

/// An echo request (`icmp_type` 8) or reply (0) carrying `payload`, TTL 64.
pub fn echo_with(src: [u8; 4], dst: [u8; 4], icmp_type: u8, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    packet(src, dst, ICMP, 64, &icmp_message(icmp_type, 0, ident_seq(id, seq), payload))
}

pub fn echo_request(src: [u8; 4], dst: [u8; 4], id: u16, seq: u16) -> Vec<u8> {
    echo_with(src, dst, 8, id, seq, b"ping-data")
}

pub fn echo_reply(src: [u8; 4], dst: [u8; 4], id: u16, seq: u16) -> Vec<u8> {
    echo_with(src, dst, 0, id, seq, b"ping-data")
}

/// An ICMP error from `src` to `dst` quoting `quoted` (a whole datagram, cut to `quote_len`).
pub fn icmp_error(src: [u8; 4], dst: [u8; 4], icmp_type: u8, code: u8, quoted: &[u8], quote_len: usize) -> Vec<u8> {
    let quote = &quoted[..quote_len.min(quoted.len())];
    datagram(src, dst, ICMP, Ipv4Fields::DF, &[], &icmp_message(icmp_type, code, [0; 4], quote))
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
    test_kit::oracle::fill_header_checksum(p);
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

/// Asserts that every checksum in `p` equals a from-scratch recompute by test-kit's oracle: the
/// IP header, the transport checksum (a UDP 0 is allowed), and for ICMP errors the quoted IP
/// header and, where the whole quoted datagram is present, its transport checksum.
pub fn assert_checksums(p: &[u8]) {
    if let Err(e) = test_kit::oracle::check_canonical(p) {
        panic!("{e}: {p:02x?}");
    }
}

/// `p` with IP identification `ident` (which keys reassembly), header checksum redone.
pub fn with_ident(mut p: Vec<u8>, ident: u16) -> Vec<u8> {
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    refill_ip_checksum(&mut p);
    p
}

/// A SYN (a SYN-ACK when `ack`, acknowledging 2) carrying the TCP option bytes `options`.
pub fn syn_with_options(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, ack: bool, options: &[u8]) -> Vec<u8> {
    let (flags, ack) = if ack { (SYN | ACK, 2) } else { (SYN, 0) };
    let fields = TcpFields { sport, dport, seq: 1, ack, flags, window: 64240 };
    datagram(src, dst, TCP, Ipv4Fields::DF, &[], &tcp_segment(fields, options, &[]))
}

/// [`syn_with_options`] with one MSS option after a NOP (so the value sits at an odd offset of
/// the segment, the harder case for the incremental checksum).
pub fn syn_with_mss(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, ack: bool, mss: u16) -> Vec<u8> {
    let [a, b, c, d] = mss_option(mss);
    syn_with_options(src, sport, dst, dport, ack, &[NOP, a, b, c, d])
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
