//! End to end through real lwIP: Debian's liblwip (2.1.3) forwards between two simulated
//! netifs, LAN 192.168.1.1/24 and WAN 10.0.0.1/24, with the C shim's hook in front of
//! `ip4_input()` exactly as `LWIP_HOOK_IP4_INPUT` puts it (tests/lwip/router.c). Tests inject
//! packets into a netif and check the bytes lwIP sends out of the other one, every checksum
//! recomputed from scratch by test-kit's oracle.

mod common;
#[path = "lwip/driver.rs"]
mod driver;
#[path = "lwip/build.rs"]
mod lwip_build;

use common::*;
use driver::{hex, Router};
use etherparse::Ipv4Header;

const LAN_ADDR: [u8; 4] = [192, 168, 1, 1];
const GATEWAY: [u8; 4] = [10, 0, 0, 254];
const RULE_OUTBOUND: u8 = 1;

/// How these tests start the router program (the driver itself is the test kit's).
trait Start {
    fn new() -> Self;
    fn bare() -> Self;
}

impl Start for Router {
    /// lwIP up, NAT started, masquerading everything that leaves by the WAN.
    fn new() -> Router {
        let mut r = Router::bare();
        r.ok("start");
        r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
        r
    }

    /// lwIP up, the NAT not started.
    fn bare() -> Router {
        Router::spawn(&lwip_build::program("router"))
    }
}

fn ttl(p: &[u8]) -> u8 {
    p[8]
}

fn icmp_type_code(p: &[u8]) -> (u8, u8) {
    let l4 = &p[usize::from(p[0] & 0xF) * 4..];
    (l4[0], l4[1])
}

fn payload(p: &[u8]) -> &[u8] {
    let (ip, rest) = Ipv4Header::from_slice(p).unwrap();
    let l4 = &rest[..usize::from(ip.payload_len().unwrap())];
    match ip.protocol.0 {
        17 => &l4[8..],
        6 => &l4[usize::from(l4[12] >> 4) * 4..],
        _ => l4,
    }
}

/// A UDP datagram from HOST_A:5000 out through the NAT; returns the translated packet.
fn udp_out(r: &mut Router, payload: &[u8]) -> Vec<u8> {
    let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, payload));
    sent.nothing_on("lan");
    sent.only("wan")
}

#[test]
fn udp_request_and_reply_cross_lwip_forwarding() {
    let mut r = Router::new();
    let out = udp_out(&mut r, b"query");
    assert_eq!(src(&out), WAN_ADDR, "source is the WAN address");
    assert_eq!(dst(&out), SERVER);
    assert_eq!(dport(&out), 53);
    assert_eq!(ttl(&out), 63, "lwIP's forwarding decremented the TTL");
    assert_eq!(payload(&out), b"query");
    let ext = sport(&out);

    let back = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, ext, b"answer"));
    back.nothing_on("wan");
    let reply = back.only("lan");
    assert_eq!((src(&reply), dst(&reply)), (SERVER, HOST_A));
    assert_eq!((sport(&reply), dport(&reply)), (53, 5000));
    assert_eq!(ttl(&reply), 63);
    assert_eq!(payload(&reply), b"answer");
    assert_eq!(r.stat("translated_out"), 1);
    assert_eq!(r.stat("translated_in"), 1);
}

#[test]
fn chained_pbuf_is_translated_like_a_single_one() {
    let mut r = Router::new();
    let p = udp(HOST_A, 5000, SERVER, 53, &[0x5A; 200]);
    let out = r.ok(&format!("inchain lan {}", hex(&p))).only("wan");
    assert_eq!(src(&out), WAN_ADDR);
    assert_eq!(payload(&out), &[0x5A; 200][..]);
    let back = r
        .ok(&format!("inchain wan {}", hex(&udp(SERVER, 53, WAN_ADDR, sport(&out), b"a reply long enough"))))
        .only("lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
}

#[test]
fn tcp_handshake_data_and_fin_then_rst() {
    let mut r = Router::new();
    let syn = r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).only("wan");
    assert_eq!(src(&syn), WAN_ADDR);
    let ext = sport(&syn);
    r.inject("wan", &tcp(SERVER, 80, WAN_ADDR, ext, SYN | ACK)).only("lan");
    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, ACK)).only("wan");
    if cfg!(feature = "dump") {
        assert!(r.sessions().iter().any(|s| s.contains("ESTABLISHED")), "{:?}", r.sessions());
    }

    let data = r.inject("lan", &tcp_data(HOST_A, 40000, SERVER, 80, ACK, b"GET / HTTP/1.0\r\n\r\n")).only("wan");
    assert_eq!(payload(&data), b"GET / HTTP/1.0\r\n\r\n");
    let resp = r.inject("wan", &tcp_data(SERVER, 80, WAN_ADDR, ext, ACK, b"HTTP/1.0 200 OK\r\n")).only("lan");
    assert_eq!((dst(&resp), dport(&resp)), (HOST_A, 40000));
    assert_eq!(payload(&resp), b"HTTP/1.0 200 OK\r\n");

    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, FIN | ACK)).only("wan");
    r.inject("wan", &tcp(SERVER, 80, WAN_ADDR, ext, FIN | ACK)).only("lan");
    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, ACK)).only("wan");
    if cfg!(feature = "dump") {
        assert!(r.sessions().iter().any(|s| s.contains("TIME_WAIT")), "{:?}", r.sessions());
    }

    // A second connection, refused by the server with an RST.
    let syn2 = r.inject("lan", &tcp(HOST_A, 40001, SERVER, 81, SYN)).only("wan");
    let rst = r.inject("wan", &tcp(SERVER, 81, WAN_ADDR, sport(&syn2), RST | ACK)).only("lan");
    assert_eq!((dst(&rst), dport(&rst)), (HOST_A, 40001));
    if cfg!(feature = "dump") {
        assert!(r.sessions().iter().any(|s| s.contains(" 81 RESET")), "{:?}", r.sessions());
    }
}

#[test]
fn ping_through_the_nat() {
    let mut r = Router::new();
    let req = r.inject("lan", &echo_request(HOST_A, SERVER, 0x1234, 1)).only("wan");
    assert_eq!(src(&req), WAN_ADDR);
    let ident = icmp_ident(&req);
    let reply = r.inject("wan", &echo_reply(SERVER, WAN_ADDR, ident, 1)).only("lan");
    assert_eq!(dst(&reply), HOST_A);
    assert_eq!(icmp_ident(&reply), 0x1234);
}

/// Checks an ICMP error delivered to the LAN host: it quotes the datagram as the host sent it.
fn assert_quotes_original(err: &[u8], icmp: (u8, u8), from: [u8; 4]) {
    assert_eq!(icmp_type_code(err), icmp);
    assert_eq!((src(err), dst(err)), (from, HOST_A));
    let q = quoted(err);
    assert_eq!((src(q), dst(q)), (HOST_A, SERVER), "quoted addresses are the inside ones");
    assert_eq!((sport(q), dport(q)), (5000, 53), "quoted ports are the inside ones");
}

#[test]
fn traceroute_time_exceeded_from_beyond_the_wan_reaches_the_host() {
    let mut r = Router::new();
    let mut probe = udp(HOST_A, 5000, SERVER, 53, b"probe");
    set_ttl(&mut probe, 2);
    let out = r.inject("lan", &probe).only("wan");
    assert_eq!(ttl(&out), 1);
    // The next hop's Time Exceeded quotes the translated probe.
    let te = icmp_error(GATEWAY, WAN_ADDR, 11, 0, &out, 28);
    let back = r.inject("wan", &te);
    back.nothing_on("wan");
    assert_quotes_original(&back.only("lan"), (11, 0), GATEWAY);
    assert_eq!(r.stat("icmp_errors_translated"), 1);
}

#[test]
fn port_unreachable_reaches_the_host_with_the_whole_quote() {
    let mut r = Router::new();
    let out = udp_out(&mut r, b"knock");
    let unreach = icmp_error(SERVER, WAN_ADDR, 3, 3, &out, out.len());
    let err = r.inject("wan", &unreach).only("lan");
    assert_quotes_original(&err, (3, 3), SERVER);
    assert_eq!(payload(quoted(&err)), b"knock");
}

#[test]
fn ttl_1_from_the_lan_gets_lwips_time_exceeded_at_the_hosts_real_address() {
    let mut r = Router::new();
    let mut p = udp(HOST_A, 5000, SERVER, 53, b"x");
    set_ttl(&mut p, 1);
    let sent = r.inject("lan", &p);
    sent.nothing_on("wan");
    let err = sent.on("lan").pop().expect("an ICMP error to the LAN host");
    assert_eq!(sent.on("lan").len(), 1);
    assert!(test_kit::oracle::checksums_verify(&err), "IP header and ICMP checksums of lwIP's error");
    assert_eq!(icmp_type_code(&err), (11, 0));
    assert_eq!((src(&err), dst(&err)), (LAN_ADDR, HOST_A), "from lwIP, to the true sender");
    // lwIP quotes the header after its TTL went to 0 (without fixing the quoted checksum).
    let q = quoted(&err);
    assert_eq!((src(q), dst(q), sport(q), dport(q)), (HOST_A, SERVER, 5000, 53), "quotes the untranslated datagram");
    assert_eq!(ttl(q), 0);
    assert_eq!(r.session_count(), 0, "no mapping for a datagram that did not leave");
}

#[test]
fn inbound_ttl_1_to_a_mapping_is_answered_by_the_router() {
    let mut r = Router::new();
    let out = udp_out(&mut r, b"q");
    let mut reply = udp(SERVER, 53, WAN_ADDR, sport(&out), b"late");
    set_ttl(&mut reply, 1);
    let sent = r.inject("wan", &reply);
    sent.nothing_on("lan");
    let err = sent.only("wan");
    assert_eq!(icmp_type_code(&err), (11, 0));
    assert_eq!((src(&err), dst(&err)), (WAN_ADDR, SERVER));
    assert_eq!(&quoted(&err)[..28], &reply[..28]);
}

#[test]
fn large_udp_datagram_is_translated_then_fragmented_by_lwip() {
    let mut r = Router::new();
    let body: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let mut p = udp(HOST_A, 5000, SERVER, 53, &body);
    p[6] &= !0x40; // the builder sets DF
    refill_ip_checksum(&mut p);
    let frags = r.inject("lan", &p).on("wan");
    assert!(frags.len() >= 3, "3008 bytes of UDP over a 1500-byte MTU: {} fragments", frags.len());
    // Reassemble independently and check the translated datagram's UDP checksum.
    let mut data = vec![0u8; 8 + body.len()];
    for f in &frags {
        let (ip, rest) = Ipv4Header::from_slice(f).unwrap();
        assert_eq!(ip.header_checksum, ip.calc_header_checksum());
        assert_eq!(ip.source, WAN_ADDR);
        let off = usize::from(ip.fragment_offset.value()) * 8;
        let len = usize::from(ip.payload_len().unwrap());
        data[off..off + len].copy_from_slice(&rest[..len]);
    }
    let whole = packet(WAN_ADDR, SERVER, 17, 63, &udp_segment(u16::from_be_bytes([data[0], data[1]]), 53, &body));
    assert_eq!(&data[6..8], &whole[26..28], "UDP checksum of the translated datagram");
    assert_eq!(&data[8..], &body[..]);
}

/// Splits an IPv4 datagram (no options) into fragments of at most `size` payload bytes.
#[cfg(feature = "reassembly")]
fn fragments(datagram: &[u8], size: usize) -> Vec<Vec<u8>> {
    let body = &datagram[20..];
    let chunks: Vec<&[u8]> = body.chunks(size / 8 * 8).collect();
    let mut offset = 0;
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut f = datagram[..20].to_vec();
        f.extend_from_slice(chunk);
        let total = f.len() as u16;
        f[2..4].copy_from_slice(&total.to_be_bytes());
        let more = if i + 1 < chunks.len() { 0x2000 } else { 0 };
        f[6..8].copy_from_slice(&(more | (offset / 8) as u16).to_be_bytes());
        refill_ip_checksum(&mut f);
        offset += chunk.len();
        out.push(f);
    }
    out
}

/// Needs `reassembly`.
#[cfg(feature = "reassembly")]
#[test]
fn fragmented_udp_datagram_is_reassembled_translated_and_forwarded_both_ways() {
    let mut r = Router::new();
    let body: Vec<u8> = (0..1200u32).map(|i| (i * 13) as u8).collect();
    let frags = fragments(&udp(HOST_A, 5000, SERVER, 53, &body), 400);
    assert_eq!(frags.len(), 4);
    // Out of order (RFC 4787 REQ-14): the last fragment first.
    for f in [&frags[3], &frags[1], &frags[0]] {
        let held = r.inject("lan", f);
        held.nothing_on("wan");
        held.nothing_on("lan");
    }
    let out = r.inject("lan", &frags[2]).only("wan");
    assert_eq!(src(&out), WAN_ADDR);
    assert_eq!(out[6] & 0x3F, 0, "whole datagram, no fragment flags");
    assert_eq!(payload(&out), &body[..], "all 1200 bytes, checksum verified above");
    let ext = sport(&out);

    let reply = fragments(&udp(SERVER, 53, WAN_ADDR, ext, &body), 512);
    for f in &reply[..reply.len() - 1] {
        r.inject("wan", f).nothing_on("lan");
    }
    let back = r.inject("wan", reply.last().unwrap()).only("lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    assert_eq!(payload(&back), &body[..]);
    assert_eq!(r.stat("reassembled"), 2);
}

/// `lwip_snat_flush()` drops the fragments held for reassembly with the sessions: the rest of
/// a datagram that arrives after it is never put together from a fragment sent before.
/// Needs `reassembly`.
#[cfg(feature = "reassembly")]
#[test]
fn flush_drops_held_fragments_with_the_sessions() {
    let mut r = Router::new();
    let frags = fragments(&udp(HOST_A, 5000, SERVER, 53, &[3; 1200]), 400);
    r.inject("lan", &frags[0]).nothing_on("wan");
    assert_eq!(r.stat("reass_in_flight"), 1);
    r.ok("flush");
    assert_eq!((r.stat("reass_in_flight"), r.stat("reass_bytes_in_use")), (0, 0));
    for f in &frags[1..] {
        r.inject("lan", f).nothing_on("wan");
    }
    assert_eq!(r.stat("reassembled"), 0, "never put together across the flush");
}

#[test]
fn dont_fragment_too_big_gets_frag_needed_with_the_mtu() {
    let mut r = Router::new();
    let mut p = udp(HOST_A, 5000, SERVER, 53, &[1; 1600]);
    set_df(&mut p);
    let sent = r.inject("lan", &p);
    sent.nothing_on("wan");
    let err = sent.only("lan");
    assert_eq!(icmp_type_code(&err), (3, 4));
    assert_eq!(dst(&err), HOST_A);
    let l4 = &err[20..];
    assert_eq!(u16::from_be_bytes([l4[6], l4[7]]), 1500, "next-hop MTU (RFC 1191)");
    assert_eq!(&quoted(&err)[..28], &p[..28]);
}

#[test]
fn inbound_dont_fragment_too_big_for_the_lan_gets_frag_needed_quoting_the_external_address() {
    let mut r = Router::new();
    r.ok("mtu lan 576");
    let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"query"));
    let port = sport(&sent.only("wan"));
    let mut reply = udp(SERVER, 53, WAN_ADDR, port, &[2; 1000]);
    set_df(&mut reply);
    let back = r.inject("wan", &reply);
    back.nothing_on("lan");
    let err = back.only("wan");
    assert_eq!(icmp_type_code(&err), (3, 4));
    assert_eq!((src(&err), dst(&err)), (WAN_ADDR, SERVER));
    let l4 = &err[20..];
    assert_eq!(u16::from_be_bytes([l4[6], l4[7]]), 576, "the LAN's MTU, not lwIP's 0");
    // (the whole quote: its header and 8 bytes, no more, though the shim keeps more of it)
    assert_eq!(quoted(&err), &reply[..28], "quotes the datagram as the server sent it: no inside address");
}

#[test]
fn unsolicited_inbound_never_reaches_the_lan() {
    let mut r = Router::new();
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, 5000, b"hi")).nothing_on("lan");
    r.inject("wan", &tcp(SERVER, 80, WAN_ADDR, 40000, SYN)).nothing_on("lan");
    r.inject("wan", &echo_reply(SERVER, WAN_ADDR, 0x1234, 1)).nothing_on("lan");
    assert_eq!(r.session_count(), 0);
}

#[test]
fn forwarded_straight_to_an_inside_address_is_dropped() {
    let mut r = Router::new();
    let sent = r.inject("wan", &udp(SERVER, 53, HOST_A, 5000, b"sneak"));
    sent.nothing_on("lan");
    sent.nothing_on("wan");
    assert_eq!(r.stat("drop_reverse_direction"), 1);
}

#[test]
fn routers_own_udp_tcp_and_ping_keep_working_on_the_wan_address() {
    let mut r = Router::new();
    r.ok("udp_echo 7");
    r.ok("tcp_listen 80");
    udp_out(&mut r, b"a mapping exists");

    let sent = r.inject("wan", &udp(SERVER, 9999, WAN_ADDR, 7, b"echo me"));
    assert!(sent.lines.iter().any(|l| l.starts_with("udp_rx 203.0.113.5 9999 6563686f206d65")), "{:?}", sent.lines);
    let echo = sent.only("wan");
    assert_eq!((src(&echo), sport(&echo), dst(&echo), dport(&echo)), (WAN_ADDR, 7, SERVER, 9999));
    sent.nothing_on("lan");

    let synack = r.inject("wan", &tcp(SERVER, 33333, WAN_ADDR, 80, SYN)).only("wan");
    assert_eq!((src(&synack), sport(&synack), dport(&synack)), (WAN_ADDR, 80, 33333));
    assert_eq!(synack[33] & (SYN | ACK), SYN | ACK, "lwIP's own listener answers");

    let pong = r.inject("wan", &echo_request(SERVER, WAN_ADDR, 77, 1)).only("wan");
    assert_eq!(icmp_type_code(&pong), (0, 0));
    assert_eq!(icmp_ident(&pong), 77);
}

#[test]
fn wan_address_change_flushes_mappings() {
    let mut r = Router::new();
    let ext = sport(&udp_out(&mut r, b"q"));
    assert_eq!(r.session_count(), 1);
    r.ok("setaddr wan 10.0.0.2");
    // The next packet through the hook notices the new address before it is translated.
    let new_wan = [10, 0, 0, 2];
    r.inject("wan", &udp(SERVER, 53, new_wan, ext, b"stale")).nothing_on("lan");
    assert_eq!(r.session_count(), 0, "no session");
    let out = udp_out(&mut r, b"again");
    assert_eq!(src(&out), new_wan, "new mappings use the new address");

    // The timer notices too, without traffic.
    r.ok("setaddr wan 10.0.0.3");
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 0, "no session");
}

#[test]
fn wan_going_down_flushes_mappings_on_the_next_timer() {
    let mut r = Router::new();
    udp_out(&mut r, b"q");
    r.ok("down wan");
    assert_eq!(r.session_count(), 1, "nothing happens before the timer runs");
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 0, "no session");
}

/// The WAN's address stays the router's while the WAN is down, though no netif takes it then:
/// the hook's route lookup answers that (and no route) and leaves the packet to lwIP, which has
/// no route for it either. It must not be translated out of the netif whose address it is.
#[test]
fn a_packet_to_the_address_of_a_netif_that_is_down_is_left_to_lwip() {
    let mut r = Router::new();
    r.ok("down wan");
    let sent = r.inject("lan", &udp(HOST_A, 5000, WAN_ADDR, 53, b"q"));
    assert!(sent.out.is_empty(), "nothing forwarded: {:?}", sent.out);
    assert_eq!(r.session_count(), 0, "no session");
}

#[test]
fn full_table_answers_the_new_flow_with_admin_prohibited() {
    let mut r = Router::new();
    // One endpoint fills the table: no per-host or per-mapping limit in the way.
    r.ok("setcfg host_quota=0 mapping_sessions=0");
    let capacity = r.stat("udp_capacity") as u16;
    assert!(capacity >= 1);
    for port in 0..capacity {
        r.inject("lan", &udp(HOST_A, 5000, SERVER, 1000 + port, b"fill")).only("wan");
    }
    let refused = udp(HOST_A, 5000, SERVER, 999, b"one too many");
    let sent = r.inject("lan", &refused);
    sent.nothing_on("wan");
    let err = sent.only("lan");
    assert_eq!(icmp_type_code(&err), (3, 13), "ICMP communication administratively prohibited");
    assert_eq!((src(&err), dst(&err)), (LAN_ADDR, HOST_A));
    assert_eq!(&quoted(&err)[..28], &refused[..28]);
    assert_eq!(r.stat("drop_table_full"), 1);
}

#[test]
fn idle_udp_mapping_expires_on_the_timer() {
    let mut r = Router::bare();
    r.ok("start 2000");
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
    let ext = sport(&udp_out(&mut r, b"q"));
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 1);
    r.ok("timers 3000");
    assert_eq!(r.session_count(), 0);
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, ext, b"late")).nothing_on("lan");
}

/// Needs port forwards.
#[cfg(feature = "portmap")]
#[test]
fn port_forward_reaches_the_inside_server() {
    let mut r = Router::new();
    let web = [192, 168, 1, 20];
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.20 80"));
    let syn = r.inject("wan", &tcp(SERVER, 50000, WAN_ADDR, 8080, SYN)).only("lan");
    assert_eq!((dst(&syn), dport(&syn)), (web, 80));
    let synack = r.inject("lan", &tcp(web, 80, SERVER, 50000, SYN | ACK)).only("wan");
    assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
}

#[test]
fn garbage_from_the_wire_is_dropped_and_the_router_carries_on() {
    let mut r = Router::new();
    let good = udp(HOST_A, 5000, SERVER, 53, b"ok");
    let mut bad_sum = good.clone();
    bad_sum[10] ^= 0xFF;
    let mut long = good.clone();
    long[3] = 0xFF; // total length beyond the buffer
    let mut short_ihl = good.clone();
    short_ihl[0] = 0x44;
    for p in [&bad_sum[..], &long[..], &short_ihl[..], &good[..19], &[0x45][..], &[0x45, 0, 0, 20][..]] {
        let sent = r.inject("lan", p);
        sent.nothing_on("wan");
        sent.nothing_on("lan");
    }
    // Truncated transport headers on the NAT path.
    for cut in [21, 24, 27] {
        let mut p = good[..cut].to_vec();
        p[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
        refill_ip_checksum(&mut p);
        r.inject("lan", &p).nothing_on("wan");
    }
    assert!(r.stat("drop_bad_checksum") >= 1);
    assert_eq!(r.session_count(), 0);
    assert_eq!(src(&udp_out(&mut r, b"still fine")), WAN_ADDR);
}

// ------------------------------------------------ run-time settings, MSS, uplink, forwards

/// `lwip_snat_err_t` values the router prints as "err <code>".
const ERR_ARG: i32 = -2;
const ERR_TIMEOUT: i32 = -5;
#[cfg(feature = "portmap")]
const ERR_PORTMAP_CONFLICT: i32 = -11;
#[cfg(feature = "portmap")]
const ERR_PORTMAP_NOT_FOUND: i32 = -12;

#[cfg(feature = "filtering")]
#[test]
fn rfc4787_req8_filtering_changed_at_run_time_opens_a_live_udp_mapping_and_not_tcp() {
    let mut r = Router::new();
    let ext = sport(&udp_out(&mut r, b"q"));
    let syn = r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).only("wan");
    let tcp_ext = sport(&syn);

    // Address-and-port dependent (the default): a new remote is dropped.
    let stranger = udp(SERVER2, 4000, WAN_ADDR, ext, b"from a stranger");
    r.inject("wan", &stranger).nothing_on("lan");
    assert_eq!(r.stat("drop_filtered"), 1);

    // Endpoint-independent for UDP only, through lwip_snat_set_config: the same packet is
    // delivered to the inside endpoint of the live mapping.
    r.ok("setcfg udp_filtering=0");
    let delivered = r.inject("wan", &stranger).only("lan");
    assert_eq!((src(&delivered), sport(&delivered)), (SERVER2, 4000));
    assert_eq!((dst(&delivered), dport(&delivered)), (HOST_A, 5000));
    assert_eq!(payload(&delivered), b"from a stranger");

    // TCP keeps its own (address-and-port dependent) filter.
    r.inject("wan", &tcp(SERVER2, 4000, WAN_ADDR, tcp_ext, SYN)).nothing_on("lan");
    assert_eq!(r.stat("drop_filtered"), 2);

    // Address dependent: another port of a known address passes, an unknown address does not.
    r.ok("setcfg udp_filtering=1");
    let other_port = r.inject("wan", &udp(SERVER, 54, WAN_ADDR, ext, b"same host")).only("lan");
    assert_eq!(dst(&other_port), HOST_A);
    r.inject("wan", &udp([198, 51, 100, 99], 4000, WAN_ADDR, ext, b"x")).nothing_on("lan");
    r.err("setcfg udp_filtering=3", ERR_ARG);
}

/// Built without `filtering`: another mode is refused through lwip_snat_set_config and a new
/// remote stays filtered.
#[cfg(not(feature = "filtering"))]
#[test]
fn without_filtering_another_mode_is_refused_and_a_new_remote_stays_filtered() {
    let mut r = Router::new();
    let ext = sport(&udp_out(&mut r, b"q"));
    for setting in ["udp_filtering=0", "udp_filtering=1", "tcp_filtering=0", "tcp_filtering=1"] {
        r.err(&format!("setcfg {setting}"), ERR_ARG);
    }
    r.inject("wan", &udp(SERVER2, 4000, WAN_ADDR, ext, b"from a stranger")).nothing_on("lan");
    assert_eq!(r.stat("drop_filtered"), 1);
}

#[test]
fn rfc4787_req5_udp_timeout_changed_at_run_time_goes_below_two_minutes_only_with_the_flag() {
    let mut r = Router::new();
    let ext = sport(&udp_out(&mut r, b"q"));
    r.err("setcfg udp_ms=30000", ERR_TIMEOUT);
    r.err("setcfg tcp_established_ms=3600000", ERR_TIMEOUT);
    r.ok("timers 31000");
    assert_eq!(r.session_count(), 1, "the refused setting changed nothing");

    r.ok("setcfg udp_ms=30000 allow_short_timeouts=1");
    if cfg!(feature = "dump") {
        assert!(r.sessions()[0].ends_with(" 30000"), "the live session has the new timeout: {:?}", r.sessions());
    }
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 0, "idle 32 s with a 30 s timeout: expired on the timer");
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, ext, b"late")).nothing_on("lan");
}

#[test]
fn rfc6888_req4_host_quota_changed_at_run_time() {
    let mut r = Router::new();
    for port in [1001, 1002] {
        r.inject("lan", &udp(HOST_A, port, SERVER, 53, b"q")).only("wan");
    }
    r.ok("setcfg host_quota=2");
    assert_eq!(r.session_count(), 2, "live sessions are kept");
    let refused = udp(HOST_A, 1003, SERVER, 53, b"one too many");
    let sent = r.inject("lan", &refused);
    sent.nothing_on("wan");
    let err = sent.only("lan");
    assert_eq!(icmp_type_code(&err), (3, 13));
    assert_eq!(dst(&err), HOST_A);
    assert_eq!(r.stat("drop_host_quota"), 1);
    // The quota is per host: another host is not affected.
    let b = r.inject("lan", &udp(HOST_B, 1003, SERVER, 53, b"q")).only("wan");
    assert_eq!(src(&b), WAN_ADDR);
    // 0 = no limit.
    r.ok("setcfg host_quota=0");
    r.inject("lan", &refused).only("wan");
}

/// Needs `mss-clamp`.
#[cfg(feature = "mss-clamp")]
#[test]
fn mss_of_syns_through_lwip_is_clamped_to_a_pppoe_wan_mtu_with_checksums_that_verify() {
    let mut r = Router::new();
    r.ok("mtu wan 1492");
    // only() recomputes the TCP checksum from scratch (test-kit's oracle) before we look further.
    let syn = r.inject("lan", &syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460)).only("wan");
    assert_eq!(src(&syn), WAN_ADDR);
    assert_eq!(mss_of(&syn), 1452, "1492 - 40");
    let synack = r.inject("wan", &syn_with_mss(SERVER, 443, WAN_ADDR, sport(&syn), true, 1460)).only("lan");
    assert_eq!((dst(&synack), dport(&synack)), (HOST_A, 40000));
    assert!(mss_of(&synack) <= 1452, "the LAN host never sends segments the uplink cannot carry");
    // A smaller MSS is left alone.
    let small = r.inject("lan", &syn_with_mss(HOST_A, 40001, SERVER, 443, false, 1200)).only("wan");
    assert_eq!(mss_of(&small), 1200);
    assert_eq!(r.stat("mss_clamped"), 2);
    // Turned off at run time.
    r.ok("setcfg mss_clamp=0");
    let untouched = r.inject("lan", &syn_with_mss(HOST_A, 40002, SERVER, 443, false, 1460)).only("wan");
    assert_eq!(mss_of(&untouched), 1460);
}

/// Needs a port forward among the mappings.
#[cfg(feature = "portmap")]
#[test]
fn uplink_dhcp_renew_drops_every_mapping_and_new_flows_use_the_new_address() {
    let mut r = Router::new();
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.20 80"));
    let udp_ext = sport(&udp_out(&mut r, b"q"));
    let tcp_ext = sport(&r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)).only("wan"));
    let ping_id = icmp_ident(&r.inject("lan", &echo_request(HOST_A, SERVER, 0x1234, 1)).only("wan"));
    assert_eq!(r.session_count(), 3);

    // What a DHCP renewal to a new address does: netif_set_ipaddr() on the WAN.
    r.ok("setaddr wan 10.0.0.2");
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 0, "the timer noticed the change");
    let new_wan = [10, 0, 0, 2];
    // Replies to the old mappings, now addressed to the new address, are not delivered.
    r.inject("wan", &udp(SERVER, 53, new_wan, udp_ext, b"stale")).nothing_on("lan");
    r.inject("wan", &tcp(SERVER, 80, new_wan, tcp_ext, SYN | ACK)).nothing_on("lan");
    r.inject("wan", &echo_reply(SERVER, new_wan, ping_id, 1)).nothing_on("lan");
    // Nor are those sent to the old address, which is no longer the router's.
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, udp_ext, b"stale")).nothing_on("lan");

    // New flows leave with the new address, each checksum recomputed from scratch.
    let out = udp_out(&mut r, b"again");
    assert_eq!(src(&out), new_wan);
    let syn = r.inject("lan", &tcp(HOST_A, 40001, SERVER, 80, SYN)).only("wan");
    assert_eq!(src(&syn), new_wan);
    let ping = r.inject("lan", &echo_request(HOST_A, SERVER, 0x1234, 2)).only("wan");
    assert_eq!(src(&ping), new_wan);
    let back = r.inject("wan", &udp(SERVER, 53, new_wan, sport(&out), b"answer")).only("lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    // The port forward belongs to the netif, not to the address: it follows the renewal.
    let fwd = r.inject("wan", &tcp(SERVER, 50000, new_wan, 8080, SYN)).only("lan");
    assert_eq!((dst(&fwd), dport(&fwd)), ([192, 168, 1, 20], 80));
}

#[test]
fn wan_down_then_up_again_new_flows_leave_and_old_mappings_are_gone() {
    let mut r = Router::new();
    let ext = sport(&udp_out(&mut r, b"q"));
    r.ok("down wan");
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 0, "no session");
    let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"while down"));
    sent.nothing_on("wan");
    assert_eq!(r.session_count(), 0, "no mapping on a netif that is down");
    r.ok("up wan");
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, ext, b"stale")).nothing_on("lan");
    let out = udp_out(&mut r, b"again");
    assert_eq!(src(&out), WAN_ADDR);
    let back = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer")).only("lan");
    assert_eq!(dst(&back), HOST_A);
}

/// Needs port forwards.
#[cfg(feature = "portmap")]
#[test]
fn port_forward_conflicts_get_error_codes_and_forwards_survive_flush() {
    let mut r = Router::new();
    // HOST_A's live mapping holds external TCP port 8080 (its own port, preserved).
    let held = r.inject("lan", &tcp(HOST_A, 8080, SERVER, 80, SYN)).only("wan");
    assert_eq!(sport(&held), 8080);
    r.err(&format!("portmap 6 {WAN} 8080 192.168.1.20 80"), ERR_PORTMAP_CONFLICT);
    // Same port, other protocol: no conflict.
    r.ok(&format!("portmap 17 {WAN} 8080 192.168.1.20 80"));
    r.ok(&format!("portmap 6 {WAN} 9090 192.168.1.20 80"));
    // Another forward of the same port, even an identical one, is refused: never a duplicate.
    r.err(&format!("portmap 6 {WAN} 9090 192.168.1.21 80"), ERR_PORTMAP_CONFLICT);
    r.err(&format!("portmap 6 {WAN} 9090 192.168.1.20 80"), ERR_PORTMAP_CONFLICT);
    r.err(&format!("portmap 1 {WAN} 7 192.168.1.20 7"), ERR_ARG);
    r.err(&format!("portmap 6 {WAN} 0 192.168.1.20 80"), ERR_ARG);
    r.err("portmap 6 0 9091 192.168.1.20 80", ERR_ARG);
    r.err(&format!("unportmap 6 {WAN} 9090 192.168.1.21 80"), ERR_PORTMAP_NOT_FOUND);
    // A forwarded port is never handed out: HOST_B's own port 9090 gets another one.
    let b = r.inject("lan", &tcp(HOST_B, 9090, SERVER, 80, SYN)).only("wan");
    assert_ne!(sport(&b), 9090);

    let web = [192, 168, 1, 20];
    r.inject("wan", &tcp(SERVER, 50000, WAN_ADDR, 9090, SYN)).only("lan");
    r.ok("flush");
    assert_eq!(r.session_count(), 0);
    // After the flush HOST_A's port is free: the forward may take it now.
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.20 8080"));
    for (port, inside) in [(9090, 80), (8080, 8080)] {
        let syn = r.inject("wan", &tcp(SERVER, 50001, WAN_ADDR, port, SYN)).only("lan");
        assert_eq!((src(&syn), dst(&syn), dport(&syn)), (SERVER, web, inside), "forward survived the flush");
        let synack = r.inject("lan", &tcp(web, inside, SERVER, 50001, SYN | ACK)).only("wan");
        assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, port));
    }
    let udp_fwd = r.inject("wan", &udp(SERVER, 5353, WAN_ADDR, 8080, b"udp fwd")).only("lan");
    assert_eq!((dst(&udp_fwd), dport(&udp_fwd)), (web, 80));

    // Removed: the port is the router's again; no router pcb holds it, so the SYN is dropped
    // silently (RFC 5382 REQ-4: no RST) and nothing goes inside.
    r.ok(&format!("unportmap 6 {WAN} 9090 192.168.1.20 80"));
    let sent = r.inject("wan", &tcp(SERVER, 50002, WAN_ADDR, 9090, SYN));
    sent.nothing_on("lan");
    sent.nothing_on("wan");
    assert_eq!(r.stat("drop_unsolicited_syn"), 1);
}

/// Needs hairpinning through a port forward.
#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn hairpin_is_translated_but_debians_lwip_never_sends_it_back_out_of_the_lan() {
    // Debian's liblwip is built without IP_FORWARD_ALLOW_TX_ON_RX_NETIF, so ip4_forward()
    // refuses to send a packet out of the netif it came in on: the NAT translates the hairpin
    // (WAN_ADDR:ext_a -> HOST_B:80) and lwIP then drops it. tests/lwip22_hairpin.rs proves
    // hairpinning end to end with lwIP 2.2 built with that option. What must hold here too:
    // nothing leaves, least of all by the WAN with a private source.
    let mut r = Router::new();
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.11 80"));
    let sent = r.inject("lan", &tcp(HOST_A, 40000, WAN_ADDR, 8080, SYN));
    sent.nothing_on("wan");
    sent.nothing_on("lan");
    assert_eq!(r.stat("hairpinned"), 1, "the NAT translated it");
}
