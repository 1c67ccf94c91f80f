//! Hairpinning end to end through lwIP 2.2 compiled from source with the NAT in
//! `LWIP_HOOK_IP4_INPUT` (the hook path of a firmware build) and `IP_FORWARD_ALLOW_TX_ON_RX_NETIF`,
//! without which `ip4_forward()` never sends a packet back out of the netif it came in on
//! (Debian's liblwip 2.1.3 lacks it: see `hairpin_is_translated_but_debians_lwip_never_sends_it_back_out_of_the_lan`
//! in tests/lwip_router.rs). The router program is tests/lwip/router.c; tests/lwip22/build.rs
//! builds lwIP and links it.
//!
//! LAN host A (192.168.1.10) reaches LAN host B (192.168.1.11) through the router's external
//! address 10.0.0.1 and a mapped or forwarded port: the packet comes in on the LAN, is
//! translated on both sides by the hook, and lwIP forwards it back out of the LAN. B sees A's
//! external address and port (RFC 4787 REQ-9a), and B's replies and ICMP errors find their way
//! back to A. Every packet's checksums are recomputed from scratch (test-kit's oracle) and none may be
//! zero: lwIP 2.2's forwarding zeroes them unless configured around (tests/lwip22/lwipopts.h).

mod common;
#[path = "lwip/driver.rs"]
mod driver;
#[path = "lwip22/build.rs"]
mod lwip22_build;
#[allow(dead_code)]
#[path = "lwip/build.rs"]
mod lwip_build;

use common::*;
use driver::{Events, Router};

const RULE_OUTBOUND: u8 = 1;

/// lwIP 2.2 up, the NAT started, masquerading everything that leaves by the WAN.
fn router() -> Router {
    let mut r = Router::spawn(&lwip22_build::router());
    r.ok("start");
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
    r
}

/// The one packet `events` sent out of `netif`: every checksum verified from scratch, and none
/// zero (a UDP checksum of 0 would mean "none"; lwIP 2.2 writes 0 into forwarded packets when
/// CHECKSUM_GEN_* is on).
fn forwarded(events: &Events, netif: &str) -> Vec<u8> {
    let p = events.only(netif);
    let ihl = usize::from(p[0] & 0xF) * 4;
    assert_ne!(&p[10..12], [0, 0], "IPv4 header checksum zeroed");
    let at = match p[9] {
        6 => ihl + 16,
        17 => ihl + 6,
        1 => ihl + 2,
        other => panic!("unexpected protocol {other}"),
    };
    assert_ne!(&p[at..at + 2], [0, 0], "transport checksum zeroed: {p:02x?}");
    p
}

#[cfg(feature = "hairpin")]
fn payload(p: &[u8]) -> &[u8] {
    let ihl = usize::from(p[0] & 0xF) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    match p[9] {
        17 => &p[ihl + 8..total],
        6 => &p[ihl + usize::from(p[ihl + 12] >> 4) * 4..total],
        _ => &p[ihl..total],
    }
}

/// A hairpinned packet: in on the LAN, back out of the LAN, nothing on the WAN.
#[cfg(feature = "hairpin")]
fn hairpin(r: &mut Router, packet: &[u8]) -> Vec<u8> {
    let sent = r.inject("lan", packet);
    sent.nothing_on("wan");
    let p = forwarded(&sent, "lan");
    assert_eq!(p[8], packet[8] - 1, "forwarded by lwIP (TTL decremented)");
    p
}

/// Needs hairpinning through port forwards (`hairpin`, `portmap`).
#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn rfc5382_req8_tcp_hairpin_through_a_forwarded_port_shows_the_senders_external_endpoint() {
    let mut r = router();
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.11 80"));

    let syn = hairpin(&mut r, &tcp(HOST_A, 40000, WAN_ADDR, 8080, SYN));
    assert_eq!((src(&syn), dst(&syn), dport(&syn)), (WAN_ADDR, HOST_B, 80), "B sees the external address");
    let ext_a = sport(&syn);
    assert_eq!(ext_a, 40000, "A's external port (its own, preserved)");

    // B answers the endpoint it saw; A sees the forwarded port, not B's inside endpoint.
    let synack = hairpin(&mut r, &tcp(HOST_B, 80, WAN_ADDR, ext_a, SYN | ACK));
    assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
    assert_eq!((dst(&synack), dport(&synack)), (HOST_A, 40000));
    hairpin(&mut r, &tcp(HOST_A, 40000, WAN_ADDR, 8080, ACK));

    let request = hairpin(&mut r, &tcp_data(HOST_A, 40000, WAN_ADDR, 8080, ACK, b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!((src(&request), sport(&request), dst(&request)), (WAN_ADDR, ext_a, HOST_B));
    assert_eq!(payload(&request), b"GET / HTTP/1.0\r\n\r\n");
    let response = hairpin(&mut r, &tcp_data(HOST_B, 80, WAN_ADDR, ext_a, ACK, b"HTTP/1.0 200 OK\r\n"));
    assert_eq!((dst(&response), dport(&response)), (HOST_A, 40000));
    assert_eq!(payload(&response), b"HTTP/1.0 200 OK\r\n");

    if cfg!(feature = "dump") {
        let sessions = r.sessions();
        assert_eq!(sessions.iter().filter(|s| s.contains("ESTABLISHED")).count(), 2, "{sessions:?}");
    } else {
        assert_eq!(r.session_count(), 2);
    }
    assert_eq!(r.stat("hairpinned"), 5);
}

/// Needs hairpinning (`hairpin`) and endpoint-independent filtering (`filtering`).
#[cfg(all(feature = "hairpin", feature = "filtering"))]
#[test]
fn rfc4787_req9_req9a_udp_hairpin_between_two_mappings_shows_external_endpoints() {
    let mut r = router();
    // Endpoint-independent filtering, as peer-to-peer applications need (RFC 4787 REQ-8).
    r.ok("setcfg udp_filtering=0");
    // B has a mapping, e.g. registered with a rendezvous server; A learnt its external endpoint.
    let reg = forwarded(&r.inject("lan", &udp(HOST_B, 6000, SERVER, 3478, b"register")), "wan");
    let ext_b = sport(&reg);

    let to_b = hairpin(&mut r, &udp(HOST_A, 7000, WAN_ADDR, ext_b, b"hello B"));
    assert_eq!((dst(&to_b), dport(&to_b)), (HOST_B, 6000));
    assert_eq!(src(&to_b), WAN_ADDR, "REQ-9a: the external source address");
    let ext_a = sport(&to_b);
    assert_eq!(payload(&to_b), b"hello B");

    let to_a = hairpin(&mut r, &udp(HOST_B, 6000, WAN_ADDR, ext_a, b"hello A"));
    assert_eq!((src(&to_a), sport(&to_a)), (WAN_ADDR, ext_b), "REQ-9a: B's external endpoint");
    assert_eq!((dst(&to_a), dport(&to_a)), (HOST_A, 7000));
    assert_eq!(payload(&to_a), b"hello A");

    // A's mapping is the one it uses toward the outside too (endpoint-independent mapping).
    let out = forwarded(&r.inject("lan", &udp(HOST_A, 7000, SERVER, 3478, b"register")), "wan");
    assert_eq!((src(&out), sport(&out)), (WAN_ADDR, ext_a));
}

/// Needs hairpinning through port forwards (`hairpin`, `portmap`).
#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn rfc4787_req9_udp_hairpin_through_a_forwarded_port() {
    let mut r = router();
    r.ok(&format!("portmap 17 {WAN} 5353 192.168.1.11 53"));
    let query = hairpin(&mut r, &udp(HOST_A, 7001, WAN_ADDR, 5353, b"query"));
    assert_eq!((src(&query), dst(&query), dport(&query)), (WAN_ADDR, HOST_B, 53));
    let answer = hairpin(&mut r, &udp(HOST_B, 53, WAN_ADDR, sport(&query), b"answer"));
    assert_eq!((src(&answer), sport(&answer), dst(&answer), dport(&answer)), (WAN_ADDR, 5353, HOST_A, 7001));
    assert_eq!(payload(&answer), b"answer");
}

/// Needs hairpinning through port forwards (`hairpin`, `portmap`).
#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn rfc5508_req7_hairpinned_icmp_error_goes_back_to_the_original_sender() {
    let mut r = router();
    r.ok(&format!("portmap 17 {WAN} 8080 192.168.1.11 80"));
    let sent = udp(HOST_A, 7000, WAN_ADDR, 8080, b"to a closed port");
    let there = hairpin(&mut r, &sent);
    // Nothing listens on B's port 80: B's Port Unreachable quotes the datagram as B got it.
    let err = hairpin(&mut r, &icmp_error(HOST_B, WAN_ADDR, 3, 3, &there, there.len()));
    assert_eq!((err[20], err[21]), (3, 3));
    assert_eq!((src(&err), dst(&err)), (WAN_ADDR, HOST_A), "from the external address, to the real sender");
    // The quote is what A sent (only the TTL lwIP decremented differs); its IP header and UDP
    // checksums were verified from scratch above.
    let q = quoted(&err);
    assert_eq!((src(q), sport(q), dst(q), dport(q)), (HOST_A, 7000, WAN_ADDR, 8080));
    assert_eq!(payload(q), b"to a closed port");
    assert_eq!(r.stat("icmp_errors_translated"), 1);
}

/// Hairpinning between two mappings under the default filter (address and port dependent),
/// as peer-to-peer applications punch holes (RFC 4787 REQ-9, REQ-9a): each host learnt the
/// other's external endpoint from a rendezvous server. B's first packet to A's is refused (A's
/// mapping never sent to B), but B's own session toward it stays, so A's packet to B's external
/// endpoint is let in, and then B's to A's. Needs only `hairpin`.
#[cfg(feature = "hairpin")]
#[test]
fn rfc4787_req9_udp_hairpin_by_hole_punching_under_the_default_filter() {
    let mut r = router();
    let ext_a = sport(&forwarded(&r.inject("lan", &udp(HOST_A, 7000, SERVER, 3478, b"register")), "wan"));
    let ext_b = sport(&forwarded(&r.inject("lan", &udp(HOST_B, 6000, SERVER, 3478, b"register")), "wan"));

    let punch = r.inject("lan", &udp(HOST_B, 6000, WAN_ADDR, ext_a, b"punch"));
    punch.nothing_on("lan");
    punch.nothing_on("wan");
    assert_eq!(r.stat("drop_filtered"), 1, "A's mapping never sent to B");

    let to_b = hairpin(&mut r, &udp(HOST_A, 7000, WAN_ADDR, ext_b, b"hello B"));
    assert_eq!((src(&to_b), sport(&to_b)), (WAN_ADDR, ext_a), "REQ-9a: A's external endpoint");
    assert_eq!((dst(&to_b), dport(&to_b)), (HOST_B, 6000));
    assert_eq!(payload(&to_b), b"hello B");

    let to_a = hairpin(&mut r, &udp(HOST_B, 6000, WAN_ADDR, ext_a, b"hello A"));
    assert_eq!((src(&to_a), sport(&to_a)), (WAN_ADDR, ext_b), "REQ-9a: B's external endpoint");
    assert_eq!((dst(&to_a), dport(&to_a)), (HOST_A, 7000));
    assert_eq!(payload(&to_a), b"hello A");
    assert_eq!(r.stat("hairpinned"), 2);
}

/// Needs hairpinning (`hairpin`).
#[cfg(feature = "hairpin")]
#[test]
fn hairpin_honours_the_receivers_filter() {
    let mut r = router();
    // Address-and-port dependent (the default): B's mapping only admits the server.
    let reg = forwarded(&r.inject("lan", &udp(HOST_B, 6000, SERVER, 3478, b"register")), "wan");
    let sent = r.inject("lan", &udp(HOST_A, 7000, WAN_ADDR, sport(&reg), b"let me in"));
    sent.nothing_on("lan");
    sent.nothing_on("wan");
    assert_eq!(r.stat("drop_filtered"), 1);
}

/// Built without `hairpin`: a LAN host's packet to the external address, on a port B's live
/// mapping uses and endpoint-independent filtering would open, is the router's own. Nothing
/// is translated back out of the LAN; lwIP answers as for any port it does not serve: a TCP
/// reset from the external address, and for UDP nothing (lwIP sends port unreachable only for
/// the address of the netif a datagram came in on), both as for a port no mapping uses.
#[cfg(not(feature = "hairpin"))]
#[test]
fn without_hairpin_a_lan_packet_to_a_mapped_port_of_the_external_address_is_lwips() {
    let mut r = router();
    // Endpoint-independent where built (else the one mode): lwIP's either way.
    if cfg!(feature = "filtering") {
        r.ok("setcfg udp_filtering=0 tcp_filtering=0");
    }
    let ext_b = sport(&forwarded(&r.inject("lan", &udp(HOST_B, 6000, SERVER, 3478, b"register")), "wan"));
    for port in [ext_b, 9] {
        let sent = r.inject("lan", &udp(HOST_A, 7000, WAN_ADDR, port, b"hello B"));
        sent.nothing_on("wan");
        sent.nothing_on("lan");
    }
    assert_eq!(r.stat("passed"), 2, "both left to lwIP");

    let ext_b = sport(&forwarded(&r.inject("lan", &tcp(HOST_B, 6001, SERVER, 80, SYN)), "wan"));
    for port in [ext_b, 9] {
        let sent = r.inject("lan", &tcp(HOST_A, 40000, WAN_ADDR, port, SYN));
        sent.nothing_on("wan");
        let reset = forwarded(&sent, "lan");
        assert_eq!((src(&reset), sport(&reset), dst(&reset), dport(&reset)), (WAN_ADDR, port, HOST_A, 40000));
        assert_ne!(reset[33] & RST, 0, "lwIP's reset (TCP flags)");
    }

    assert_eq!(r.stat("hairpinned"), 0);
    assert_eq!(r.stat("translated_in"), 0);
    assert_eq!(r.session_count(), 2, "B's two mappings, nothing for A");
}

#[test]
fn forwarded_checksums_survive_lwip_2_2_and_lwip_still_checksums_its_own_packets() {
    let mut r = router();
    let out = forwarded(&r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"query")), "wan");
    assert_eq!(src(&out), WAN_ADDR);
    let back = forwarded(&r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer")), "lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    let syn = forwarded(&r.inject("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN)), "wan");
    forwarded(&r.inject("wan", &tcp(SERVER, 80, WAN_ADDR, sport(&syn), SYN | ACK)), "lan");
    let ping = forwarded(&r.inject("lan", &echo_request(HOST_A, SERVER, 0x1234, 1)), "wan");
    forwarded(&r.inject("wan", &echo_reply(SERVER, WAN_ADDR, icmp_ident(&ping), 1)), "lan");
    // lwIP's own answer (a ping to the router) carries checksums lwIP computed.
    let pong = forwarded(&r.inject("lan", &echo_request(HOST_A, [192, 168, 1, 1], 7, 1)), "lan");
    assert_eq!((pong[20], src(&pong), dst(&pong)), (0, [192, 168, 1, 1], HOST_A));
}

// its one test hairpins through a port forward
#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[path = "lwip22_hairpin/bytes.rs"]
mod bytes;
#[path = "lwip22_hairpin/forward.rs"]
mod forward;
#[path = "lwip22_hairpin/route.rs"]
mod route;
