//! What a NAT built without an optional feature does instead (Cargo features; each test runs
//! only in a build that leaves its feature out, e.g.
//! `cargo test --no-default-features --features std,portmap,mss-clamp,fast-path,dump --test adversarial footprint`).
//! Above all: without reassembly no fragment on a NAT path leaves untranslated, and without
//! icmp-queries no timestamp or information query does.
#![allow(unused_imports)]

use crate::common::*;
use lwip_snat::{Context, DropReason, Portmap, PortmapError, Protocol, Route, Verdict};

/// A 3000-byte UDP datagram in three fragments.
#[cfg(not(feature = "reassembly"))]
fn fragmented_udp(src_addr: [u8; 4], sport: u16, dst_addr: [u8; 4], dport: u16) -> Vec<Vec<u8>> {
    let payload: Vec<u8> = (0..3000).map(|i| (i % 251) as u8).collect();
    fragments_of(&udp(src_addr, sport, dst_addr, dport, &payload), 1480)
}

#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_outbound_fragments_are_dropped_and_counted() {
    let mut nat = nat();
    let frags = fragmented_udp(HOST_A, 5000, SERVER, 4000);
    for frag in &frags {
        let mut p = frag.clone();
        assert_eq!(nat.process(&mut p, &outbound(), 0), Verdict::Drop(DropReason::Fragment));
        assert_eq!(&p, frag, "a dropped fragment is left as it came");
    }
    assert_eq!(nat.stats().dropped(DropReason::Fragment), frags.len() as u32);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "no session for a datagram never seen whole");
    assert_eq!(nat.reassembled(), &[] as &[u8]);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_a_fragmented_reply_to_a_mapping_is_dropped_never_delivered() {
    let mut nat = nat();
    let mut p = udp(HOST_A, 5000, SERVER, 4000, b"hello");
    assert_eq!(nat.process(&mut p, &outbound(), 0), Verdict::Translated);
    let ext_port = sport(&p);
    let frags = fragmented_udp(SERVER, 4000, WAN_ADDR, ext_port);
    // The first fragment names the mapping's port: dropped, not handed to the router's stack.
    assert_eq!(nat.process(&mut frags[0].clone(), &inbound(), 1), Verdict::Drop(DropReason::Fragment));
    // Later ones carry no ports; lwIP can only reassemble them with their first, and only for
    // the router itself, so they go to lwIP.
    for frag in &frags[1..] {
        assert_eq!(nat.process(&mut frag.clone(), &inbound(), 1), Verdict::Pass);
    }
    assert_eq!(nat.stats().dropped(DropReason::Fragment), 1);
}

#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_the_routers_own_fragmented_datagrams_still_reach_it() {
    let mut nat = nat();
    // No mapping holds port 7000: the datagram is the router's own.
    for frag in fragmented_udp(SERVER, 4000, WAN_ADDR, 7000) {
        assert_eq!(nat.process(&mut frag.clone(), &inbound(), 0), Verdict::Pass);
    }
    assert_eq!(nat.stats().total_dropped(), 0);
}

#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_a_fragmented_ping_to_the_router_reaches_lwip_in_any_order() {
    let mut nat = nat();
    // An echo mapping with the request's identifier: a request is the router's own all the same.
    let ping = out(&mut nat, echo_request(HOST_A, SERVER, 0x4242, 1), 0);
    let payload: Vec<u8> = (0..3000).map(|i| (i % 253) as u8).collect();
    let request = with_ident(echo_with(SERVER, WAN_ADDR, 8, icmp_ident(&ping), 1, &payload), 0x77);
    let mut frags = fragments_of(&request, 1480);
    frags.rotate_left(1); // the first fragment, which shows whose the datagram is, comes last
    for frag in &frags {
        let mut p = frag.clone();
        assert_eq!(nat.process(&mut p, &inbound(), 1), Verdict::Pass);
        assert_eq!(&p, frag, "handed to lwIP as it came");
    }
    assert_eq!(nat.stats().total_dropped(), 0);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_fragments_from_the_wan_to_the_lan_are_dropped() {
    let mut nat = nat();
    let reverse = Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: 0, out_mtu: 1500 } };
    for frag in fragmented_udp(SERVER, 4000, HOST_A, 5000) {
        assert_eq!(nat.process(&mut frag.clone(), &reverse, 0), Verdict::Drop(DropReason::Fragment));
    }
}

#[cfg(not(feature = "mss-clamp"))]
#[test]
fn without_mss_clamp_a_syn_keeps_its_mss() {
    let mut nat = nat();
    let small =
        Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: 576 } };
    let mut p = syn_with_mss(HOST_A, 40000, SERVER, 80, false, 1460);
    assert_eq!(nat.process(&mut p, &small, 0), Verdict::Translated);
    assert_checksums(&p);
    assert_eq!(mss_of(&p), 1460);
    assert_eq!(nat.stats().mss_clamped, 0);
}

#[cfg(not(feature = "portmap"))]
#[test]
fn without_portmap_no_port_forward_is_accepted_and_nothing_comes_in_unasked() {
    let mut nat = nat();
    let map = Portmap { protocol: Protocol::Udp, netif: WAN, ext_port: 8080, inside: addr(HOST_B), in_port: 80 };
    assert_eq!(nat.add_portmap(map), Err(PortmapError::Full));
    assert_eq!(nat.portmaps().count(), 0);
    let mut p = udp(SERVER, 4000, WAN_ADDR, 8080, b"knock");
    assert_ne!(nat.process(&mut p, &inbound(), 0), Verdict::Translated);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

/// Without port forward slots no forward is ever found to remove: `remove_portmap` refuses
/// before any session goes, even one whose mapping the forward would name (`Doomed::matches`
/// leaves its ports test out in such a build, as no removal asks it).
#[cfg(not(feature = "portmap"))]
#[test]
fn without_portmap_removing_a_port_forward_removes_no_session() {
    let mut nat = nat();
    let p = out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"query"), 0);
    let ext_port = sport(&p);
    let map = Portmap { protocol: Protocol::Udp, netif: WAN, ext_port, inside: addr(HOST_A), in_port: 5000 };
    assert_eq!(nat.remove_portmap(map), Err(PortmapError::NotFound));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
}

/// An ICMP query of `kind` (13 timestamp, 14 its reply, 15 information, 16 its reply).
#[cfg(not(feature = "icmp-queries"))]
fn icmp_query(src: [u8; 4], dst: [u8; 4], kind: u8, ident: u16) -> Vec<u8> {
    packet(src, dst, 1, 64, &icmp_message(kind, 0, ident_seq(ident, 1), &[0; 12]))
}

#[cfg(not(feature = "icmp-queries"))]
const QUERIES: [u8; 4] = [13, 14, 15, 16];

#[cfg(not(feature = "icmp-queries"))]
#[test]
fn without_icmp_queries_outbound_timestamp_and_information_queries_are_dropped_and_counted() {
    let mut nat = nat();
    for (now, kind) in (0..).zip(QUERIES) {
        let (v, _) = run(&mut nat, outbound(), &icmp_query(HOST_A, SERVER, kind, 0x1234), now);
        assert_eq!(v, Verdict::Drop(DropReason::UnsupportedProtocol), "type {kind}");
    }
    assert_eq!(nat.stats().dropped(DropReason::UnsupportedProtocol), 4);
    assert_eq!(nat.sessions_in_use(Protocol::Icmp), 0);
    // Echo is translated as ever.
    let ping = out(&mut nat, echo_request(HOST_A, SERVER, 0x1234, 1), 5);
    assert_eq!(src(&ping), WAN_ADDR);
}

#[cfg(not(feature = "icmp-queries"))]
#[test]
fn without_icmp_queries_no_query_from_outside_reaches_an_inside_host() {
    let mut nat = nat();
    let ping = out(&mut nat, echo_request(HOST_A, SERVER, 0x1234, 1), 0);
    let ident = icmp_ident(&ping);
    // To the router's address, even with the identifier of an echo mapping: no mapping holds
    // such an exchange, so it is the router's own (lwIP answers echo only).
    for kind in QUERIES {
        let (v, _) = run(&mut nat, inbound(), &icmp_query(SERVER, WAN_ADDR, kind, ident), 1);
        assert_eq!(v, Verdict::Pass, "type {kind}");
    }
    // Forwarded from the WAN straight to an inside address: against the rule, dropped.
    let reverse = Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: 0, out_mtu: 1500 } };
    for kind in QUERIES {
        let (v, _) = run(&mut nat, reverse, &icmp_query(SERVER, HOST_A, kind, 0x1234), 2);
        assert_eq!(v, Verdict::Drop(DropReason::ReverseDirection), "type {kind}");
    }
    // An inside host's ICMP error quoting one names no session: dropped.
    let quoted = icmp_query(SERVER, HOST_A, 13, 0x1234);
    let (v, _) = run(&mut nat, outbound(), &icmp_error(HOST_A, SERVER, 3, 3, &quoted, quoted.len()), 3);
    assert_eq!(v, Verdict::Drop(DropReason::IcmpMalformed));
    assert_eq!(nat.stats().translated_in, 0);
    assert_eq!(nat.sessions_in_use(Protocol::Icmp), 1, "the echo session alone");
}
