//! No wrong bytes, no private address on the WAN, and an MSS option that cannot be turned
//! against the router: TTL at the hairpin, one session per inside 4-tuple, no ICMP error about
//! an ICMP error, ICMP replies matched by kind, ICMP errors only toward the quoted remote,
//! quoted checksums whatever the quoted length claims, every MSS option clamped from the first
//! SYN, and what happens to the IP ID.

#[cfg(feature = "mss-clamp")]
use crate::common::nat as common_nat;
use crate::common::*;
#[cfg(feature = "hairpin")]
use lwip_snat::{Config, Filtering};
use lwip_snat::{Context, DropReason, IcmpRequest, Route, Verdict};
#[cfg(any(feature = "portmap", feature = "hairpin"))]
use lwip_snat::{Portmap, Protocol};

#[cfg(any(feature = "portmap", feature = "hairpin"))]
const HOST_B_ADDR: u32 = 0xC0A8_010B;
#[cfg(any(feature = "portmap", feature = "hairpin"))]
const WEB: Portmap = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: HOST_B_ADDR, in_port: 80 };
#[cfg(feature = "portmap")]
const WEB_AGAIN: Portmap = Portmap { ext_port: 8081, ..WEB };

/// From a LAN host to the router's external address (hairpin), the WAN's MTU given.
#[cfg(feature = "hairpin")]
fn lan_to_wan_address(mtu: u16) -> Context {
    Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu } }
}

/// Arrived on the WAN for the WAN address, the WAN's MTU given (as the lwIP shim gives it).
#[cfg(feature = "mss-clamp")]
fn from_wan(mtu: u16) -> Context {
    Context { in_netif: WAN, route: Route::Local { netif: WAN, mtu } }
}

fn lan_to_wan(mtu: u16) -> Context {
    Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: mtu } }
}

/// An ICMP query of `kind` (13 timestamp, 14 timestamp reply, ...) with a 12-byte body.
#[cfg(feature = "icmp-queries")]
fn icmp_query(src: [u8; 4], dst: [u8; 4], kind: u8, id: u16, seq: u16) -> Vec<u8> {
    packet(src, dst, 1, 64, &icmp_message(kind, 0, ident_seq(id, seq), &[0; 12]))
}

/// A NAT in which HOST_A (TCP port 40000, UDP port 7000) reaches HOST_B's `protocol` port 80
/// through the external address, and that external port: the port forward `WEB` (for
/// `protocol`) where built with `portmap`; else HOST_B's own mapping, opened by a packet out,
/// with endpoint-independent filtering where built with `filtering`, so that another inside host
/// may reach it (hairpinning needs no port forward); else, with the one filter (address and port
/// dependent), by hole punching through the external address: HOST_B first sends to HOST_A's
/// external endpoint (refused by HOST_A's mapping, which never sent to B, but B's own session
/// toward A stays), so that A's packet to B's external endpoint is one B's filter lets in.
#[cfg(feature = "hairpin")]
fn hairpin_to_b(protocol: Protocol) -> (Box<TestNat>, u16) {
    if cfg!(feature = "portmap") {
        let mut nat = nat();
        nat.add_portmap(Portmap { protocol, ..WEB }).unwrap();
        return (nat, WEB.ext_port);
    }
    let open =
        if cfg!(feature = "filtering") { Filtering::EndpointIndependent } else { Filtering::AddressAndPortDependent };
    let mut nat = nat_with(Config { tcp_filtering: open, udp_filtering: open, ..Config::DEFAULT });
    let (register_b, register_a) = match protocol {
        Protocol::Tcp => (tcp(HOST_B, 80, SERVER, 443, SYN), tcp(HOST_A, 40000, SERVER, 443, SYN)),
        _ => (udp(HOST_B, 80, SERVER, 3478, b"register"), udp(HOST_A, 7000, SERVER, 3478, b"register")),
    };
    let (v, register_b) = run(&mut nat, lan_to_wan(1500), &register_b, 0);
    assert_eq!(v, Verdict::Translated);
    if !cfg!(feature = "filtering") {
        let (v, register_a) = run(&mut nat, lan_to_wan(1500), &register_a, 0);
        assert_eq!(v, Verdict::Translated);
        let punch = match protocol {
            Protocol::Tcp => tcp(HOST_B, 80, WAN_ADDR, sport(&register_a), SYN),
            _ => udp(HOST_B, 80, WAN_ADDR, sport(&register_a), b"punch"),
        };
        let (v, _) = run(&mut nat, lan_to_wan_address(1500), &punch, 0);
        assert_eq!(v, Verdict::Drop(DropReason::Filtered), "A's mapping never sent to B");
    }
    (nat, sport(&register_b))
}

fn ip_ident(p: &[u8]) -> u16 {
    u16::from_be_bytes([p[4], p[5]])
}

// ---------------------------------------------------------------- TTL at the hairpin

#[cfg(feature = "hairpin")]
#[test]
fn hairpinned_packet_with_ttl_1_or_0_gets_time_exceeded_to_its_inside_sender() {
    for ttl in [1, 0] {
        let (mut nat, port) = hairpin_to_b(Protocol::Tcp);
        let sessions = nat.sessions_in_use(Protocol::Tcp);
        let mut syn = tcp(HOST_A, 40000, WAN_ADDR, port, SYN);
        set_ttl(&mut syn, ttl);
        // Answered about the packet as it arrived, so the error goes to A, not to the router.
        let (v, _) = run(&mut nat, lan_to_wan_address(1500), &syn, 1);
        assert_eq!(v, Verdict::SendIcmp(IcmpRequest::TimeExceeded), "TTL {ttl}");
        assert_eq!(nat.sessions_in_use(Protocol::Tcp), sessions, "TTL {ttl}: no session for a packet that dies here");
        assert_eq!(nat.stats().hairpinned, 0);
    }
    // One hop more and it is hairpinned.
    let (mut nat, port) = hairpin_to_b(Protocol::Tcp);
    let mut syn = tcp(HOST_A, 40000, WAN_ADDR, port, SYN);
    set_ttl(&mut syn, 2);
    assert_eq!(run(&mut nat, lan_to_wan_address(1500), &syn, 1).0, Verdict::Translated);
    assert_eq!(nat.stats().hairpinned, 1);
}

#[cfg(feature = "hairpin")]
#[test]
fn hairpinned_icmp_error_with_ttl_1_or_0_is_dropped_not_forwarded() {
    for ttl in [1, 0] {
        let (mut nat, port) = hairpin_to_b(Protocol::Udp);
        let (v, there) = run(&mut nat, lan_to_wan_address(1500), &udp(HOST_A, 7000, WAN_ADDR, port, b"x"), 1);
        assert_eq!(v, Verdict::Translated);
        assert_eq!((dst(&there), dport(&there)), (HOST_B, 80));
        let mut err = icmp_error(HOST_B, WAN_ADDR, 3, 3, &there, there.len());
        set_ttl(&mut err, ttl);
        let (v, _) = run(&mut nat, lan_to_wan_address(1500), &err, 2);
        assert_eq!(v, Verdict::Drop(DropReason::TtlExpired), "TTL {ttl}: no ICMP error about an ICMP error");
    }
}

// ---------------------------------------------------------------- one session per inside 4-tuple

#[cfg(feature = "portmap")]
#[test]
fn second_port_forward_to_the_same_inside_endpoint_cannot_take_over_a_connection() {
    let mut nat = nat();
    nat.add_portmap(WEB).unwrap();
    nat.add_portmap(WEB_AGAIN).unwrap();
    assert_eq!(run(&mut nat, inbound(), &tcp(SERVER, 5555, WAN_ADDR, 8080, SYN), 0).0, Verdict::Translated);
    let (_, synack) = run(&mut nat, outbound(), &tcp(HOST_B, 80, SERVER, 5555, SYN | ACK), 1);
    assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
    assert_eq!(run(&mut nat, inbound(), &tcp(SERVER, 5555, WAN_ADDR, 8080, ACK), 2).0, Verdict::Translated);

    // The same remote endpoint (or anyone spoofing it) opens through the other forward.
    let (v, _) = run(&mut nat, inbound(), &tcp(SERVER, 5555, WAN_ADDR, 8081, SYN), 3);
    assert_eq!(v, Verdict::Drop(DropReason::Filtered));
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1, "one session per inside 4-tuple");
    let (_, data) = run(&mut nat, outbound(), &tcp_data(HOST_B, 80, SERVER, 5555, ACK, b"still here"), 4);
    assert_eq!(sport(&data), 8080, "the connection stays on its external port");
}

#[cfg(feature = "portmap")]
#[test]
fn second_udp_forward_to_the_same_inside_endpoint_does_not_move_its_replies() {
    let dns = Portmap { protocol: Protocol::Udp, ext_port: 5353, in_port: 53, ..WEB };
    let mut nat = nat();
    nat.add_portmap(dns).unwrap();
    nat.add_portmap(Portmap { ext_port: 5354, ..dns }).unwrap();
    assert_eq!(run(&mut nat, inbound(), &udp(SERVER, 7000, WAN_ADDR, 5353, b"q"), 0).0, Verdict::Translated);
    let (v, _) = run(&mut nat, inbound(), &udp(SERVER, 7000, WAN_ADDR, 5354, b"q"), 1);
    assert_eq!(v, Verdict::Drop(DropReason::Filtered));
    let (_, answer) = run(&mut nat, outbound(), &udp(HOST_B, 53, SERVER, 7000, b"a"), 2);
    assert_eq!(sport(&answer), 5353);
}

// ---------------------------------------------------------------- no ICMP error about an ICMP error

#[test]
fn dont_fragment_icmp_error_too_big_for_the_uplink_is_dropped_not_answered() {
    let mut nat = nat();
    let (_, out) = run(&mut nat, lan_to_wan(576), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let (_, reply) = run(&mut nat, inbound(), &udp(SERVER, 53, WAN_ADDR, sport(&out), &[7; 1000]), 1);
    let mut err = icmp_error(HOST_A, SERVER, 3, 3, &reply, reply.len());
    set_df(&mut err);
    assert!(err.len() > 576);
    let (v, _) = run(&mut nat, lan_to_wan(576), &err, 2);
    assert_eq!(v, Verdict::Drop(DropReason::IcmpErrorTooBig));
    assert_eq!(nat.stats().icmp_requested, 0);
    // A query is no error: it still gets Fragmentation Needed.
    let mut ping = echo_with(HOST_A, SERVER, 8, 1, 1, &[0; 1000]);
    set_df(&mut ping);
    let (v, _) = run(&mut nat, lan_to_wan(576), &ping, 3);
    assert_eq!(v, Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu: 576 }));
}

#[test]
fn inbound_echo_reply_with_ttl_1_or_0_gets_time_exceeded_like_outbound_queries() {
    let mut nat = nat();
    let mut ping = echo_request(HOST_A, SERVER, 0x1234, 1);
    set_ttl(&mut ping, 1);
    assert_eq!(run(&mut nat, outbound(), &ping, 0).0, Verdict::SendIcmp(IcmpRequest::TimeExceeded));
    let (_, out) = run(&mut nat, outbound(), &echo_request(HOST_A, SERVER, 0x1234, 2), 1);
    for ttl in [1, 0] {
        let mut pong = echo_reply(SERVER, WAN_ADDR, icmp_ident(&out), 2);
        set_ttl(&mut pong, ttl);
        assert_eq!(run(&mut nat, inbound(), &pong, 2).0, Verdict::SendIcmp(IcmpRequest::TimeExceeded), "TTL {ttl}");
    }
    // An ICMP error at TTL 1 gets none (RFC 1812 4.3.2.7).
    let mut err = icmp_error(SERVER, WAN_ADDR, 11, 0, &out, out.len());
    set_ttl(&mut err, 1);
    assert_eq!(run(&mut nat, inbound(), &err, 3).0, Verdict::Drop(DropReason::TtlExpired));
}

// ---------------------------------------------------------------- ICMP replies matched by kind

#[cfg(feature = "icmp-queries")]
#[test]
fn timestamp_reply_does_not_ride_an_echo_session() {
    let mut nat = nat();
    let (_, out) = run(&mut nat, outbound(), &echo_request(HOST_A, SERVER, 0x1234, 1), 0);
    let ident = icmp_ident(&out);
    let (v, _) = run(&mut nat, inbound(), &icmp_query(SERVER, WAN_ADDR, 14, ident, 1), 1);
    assert_ne!(v, Verdict::Translated, "a timestamp reply answers no echo request");
    let (v, pong) = run(&mut nat, inbound(), &echo_reply(SERVER, WAN_ADDR, ident, 1), 2);
    assert_eq!((v, dst(&pong), icmp_ident(&pong)), (Verdict::Translated, HOST_A, 0x1234));

    // A timestamp exchange of its own is translated both ways.
    let (v, ts) = run(&mut nat, outbound(), &icmp_query(HOST_A, SERVER, 13, 0x1234, 1), 3);
    assert_eq!(v, Verdict::Translated);
    let (v, back) = run(&mut nat, inbound(), &icmp_query(SERVER, WAN_ADDR, 14, icmp_ident(&ts), 1), 4);
    assert_eq!((v, dst(&back), icmp_ident(&back)), (Verdict::Translated, HOST_A, 0x1234));
    // …and an echo reply does not ride it once the echo session is gone.
    nat.remove_host(addr(HOST_A));
    let (_, ts) = run(&mut nat, outbound(), &icmp_query(HOST_A, SERVER, 13, 0x1234, 1), 5);
    let (v, _) = run(&mut nat, inbound(), &echo_reply(SERVER, WAN_ADDR, icmp_ident(&ts), 1), 6);
    assert_ne!(v, Verdict::Translated);
}

#[cfg(feature = "icmp-queries")]
#[test]
fn information_query_is_translated_both_ways_and_only_its_own_reply_rides_it() {
    let mut nat = nat();
    let (v, req) = run(&mut nat, outbound(), &icmp_query(HOST_A, SERVER, 15, 0x4321, 1), 0);
    assert_eq!((v, src(&req)), (Verdict::Translated, WAN_ADDR));
    let ident = icmp_ident(&req);
    let (v, _) = run(&mut nat, inbound(), &icmp_query(SERVER, WAN_ADDR, 14, ident, 1), 1);
    assert_ne!(v, Verdict::Translated, "a timestamp reply answers no information request");
    let (v, back) = run(&mut nat, inbound(), &icmp_query(SERVER, WAN_ADDR, 16, ident, 1), 2);
    assert_eq!((v, dst(&back), icmp_ident(&back)), (Verdict::Translated, HOST_A, 0x4321));
}

#[test]
fn icmp_errors_about_echo_requests_still_reach_the_inside_host() {
    let mut nat = nat();
    let (_, out) = run(&mut nat, outbound(), &echo_request(HOST_A, SERVER, 0x1234, 1), 0);
    let (v, err) = run(&mut nat, inbound(), &icmp_error(SERVER, WAN_ADDR, 11, 0, &out, out.len()), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((dst(&err), src(quoted(&err)), icmp_ident(quoted(&err))), (HOST_A, HOST_A, 0x1234));
}

// ---------------------------------------------------------------- inside ICMP errors

#[test]
fn inside_icmp_error_is_translated_only_toward_the_remote_of_the_quoted_flow() {
    let mut nat = nat();
    let (_, out) = run(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let (_, reply) = run(&mut nat, inbound(), &udp(SERVER, 53, WAN_ADDR, sport(&out), b"a"), 1);
    // Aimed at a third party, it would tell it the flow's external port.
    let (v, _) = run(&mut nat, outbound(), &icmp_error(HOST_A, SERVER2, 3, 3, &reply, reply.len()), 2);
    assert_eq!(v, Verdict::Drop(DropReason::IcmpNoMapping));
    let (v, err) = run(&mut nat, outbound(), &icmp_error(HOST_A, SERVER, 3, 3, &reply, reply.len()), 3);
    assert_eq!((v, src(&err), dst(&err)), (Verdict::Translated, WAN_ADDR, SERVER));
}

// ---------------------------------------------------------------- quoted checksums

#[test]
fn quoted_transport_checksum_is_right_whatever_the_quoted_total_length_claims() {
    let sent = udp(HOST_A, 5000, SERVER, 53, b"a query of some length");
    for claimed in [28u16, 40, 1000] {
        let mut nat = nat();
        let (_, out) = run(&mut nat, outbound(), &sent, 0);
        // A remote quotes the datagram whole, but with a total length that lies.
        let mut lying = out.clone();
        lying[2..4].copy_from_slice(&claimed.to_be_bytes());
        refill_ip_checksum(&mut lying);
        let mut err = icmp_error(SERVER, WAN_ADDR, 3, 3, &lying, lying.len());
        let v = nat.process(&mut err, &inbound(), 1);
        assert_eq!(v, Verdict::Translated, "claimed {claimed}");
        // (The oracle would believe the lie: the outer checksums are checked here.)
        assert_outer_checksums(&err);
        // What A gets back quotes exactly what A sent, with the same lie (UDP checksum included).
        let mut expected = sent.clone();
        expected[2..4].copy_from_slice(&claimed.to_be_bytes());
        refill_ip_checksum(&mut expected);
        assert_eq!(quoted(&err), &expected[..], "claimed {claimed}");
    }
}

/// Link padding after an ICMP error's total length is no part of it: the error is translated
/// as it is without the padding, which is left as it was (the pipeline cuts the packet to its
/// total length, and the rewrite of the quote, which runs to the packet's end, relies on it).
/// A quote of a TCP segment's first 8 bytes (its checksum would lie in the padding) and of a
/// whole UDP datagram.
#[test]
fn an_icmp_error_with_link_padding_is_translated_as_without_it() {
    for segment in [true, false] {
        let sent = if segment { tcp(HOST_A, 40000, SERVER, 443, SYN) } else { udp(HOST_A, 5000, SERVER, 53, b"q") };
        let (mut nat, mut reference) = (nat(), nat());
        let (_, left) = run(&mut nat, outbound(), &sent, 0);
        run(&mut reference, outbound(), &sent, 0);
        let error = icmp_error(SERVER, WAN_ADDR, 3, 3, &left, if segment { 28 } else { left.len() });
        let (v, expected) = run(&mut reference, inbound(), &error, 1);
        assert_eq!(v, Verdict::Translated, "TCP {segment}");
        let mut padded = error.clone();
        padded.extend_from_slice(&[0xEE; 18]);
        assert_eq!(nat.process(&mut padded, &inbound(), 1), Verdict::Translated, "TCP {segment}");
        assert_eq!(padded[..error.len()], expected[..], "TCP {segment}");
        assert_eq!(padded[error.len()..], [0xEE; 18], "TCP {segment}: the padding untouched");
    }
}

/// A quoted total length that leaves fewer than 8 transport bytes after the quoted header names
/// no ports, even though the quote holds them: an error from outside quoting it is left to lwIP
/// untouched; 8 bytes exactly are enough to translate it.
#[test]
fn a_quoted_total_length_short_of_8_transport_bytes_names_no_ports() {
    let sent = udp(HOST_A, 5000, SERVER, 53, b"a query of some length");
    for (claimed, expected) in [(20u16, Verdict::Pass), (27, Verdict::Pass), (28, Verdict::Translated)] {
        let mut nat = nat();
        let (_, out) = run(&mut nat, outbound(), &sent, 0);
        let mut lying = out.clone();
        lying[2..4].copy_from_slice(&claimed.to_be_bytes());
        refill_ip_checksum(&mut lying);
        let err = icmp_error(SERVER, WAN_ADDR, 3, 3, &lying, lying.len());
        let mut copy = err.clone();
        assert_eq!(nat.process(&mut copy, &inbound(), 1), expected, "claimed {claimed}");
        if expected == Verdict::Pass {
            assert_eq!(copy, err, "claimed {claimed}: untouched");
        }
    }
}

/// The IP header and ICMP checksums of an ICMP error, recomputed from scratch.
fn assert_outer_checksums(p: &[u8]) {
    assert!(test_kit::oracle::checksums_verify(p), "IP header and ICMP checksums: {p:02x?}");
}

// ---------------------------------------------------------------- MSS clamping

#[cfg(feature = "mss-clamp")]
#[test]
fn every_mss_option_of_a_syn_is_clamped() {
    let options = |first: u16, second: u16| [&mss_option(first)[..], &[NOP, NOP], &mss_option(second)].concat();
    let mut nat = nat();
    // Stacks take the last MSS option: one extra must not defeat the clamp.
    let syn = syn_with_options(HOST_A, 40000, SERVER, 443, false, &options(1460, 9000));
    let (v, out) = run(&mut nat, lan_to_wan(1492), &syn, 0);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(mss_options(&out), [1452, 1452]);
    // Inbound too, a small one kept as it is.
    let synack = syn_with_options(SERVER, 443, WAN_ADDR, sport(&out), true, &options(1200, 65535));
    let (v, back) = run(&mut nat, from_wan(1492), &synack, 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(mss_options(&back), [1200, 1452]);
    assert_eq!(nat.stats().mss_clamped, 2);
}

#[cfg(all(feature = "portmap", feature = "mss-clamp"))]
#[test]
fn port_forwarded_syn_is_clamped_to_the_wan_mtu_from_the_first_packet_after_boot() {
    let mut nat = nat();
    nat.add_portmap(WEB).unwrap();
    let (v, syn) = run(&mut nat, from_wan(1492), &syn_with_mss(SERVER, 5555, WAN_ADDR, 8080, false, 1460), 0);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(mss_options(&syn), [1452]);
}

#[cfg(all(feature = "hairpin", feature = "mss-clamp"))]
#[test]
fn hairpinned_syn_is_clamped_like_any_translated_syn() {
    let (mut nat, port) = hairpin_to_b(Protocol::Tcp);
    let clamped = nat.stats().mss_clamped;
    let (v, syn) =
        run(&mut nat, lan_to_wan_address(1492), &syn_with_mss(HOST_A, 40000, WAN_ADDR, port, false, 1460), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((dst(&syn), dport(&syn)), (HOST_B, 80));
    assert_eq!(mss_options(&syn), [1452]);
    assert_eq!(nat.stats().mss_clamped, clamped + 1);
}

/// A SYN out of `uplink` (MTU `mtu`) and the MSS of the SYN-ACK that comes back on it, the
/// uplink's MTU given in the SYN-ACK's route or not (0).
#[cfg(feature = "mss-clamp")]
fn synack_mss(nat: &mut TestNat, uplink: u8, mtu: u16, route_mtu: u16) -> u16 {
    let out = Route::Forward { out_netif: uplink, out_addr: addr(WAN_ADDR), out_mtu: mtu };
    let syn = syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460);
    let (_, syn) = run(nat, Context { in_netif: LAN, route: out }, &syn, 0);
    assert_eq!(mss_options(&syn), [mtu - 40]);
    let synack = syn_with_mss(SERVER, 443, WAN_ADDR, sport(&syn), true, 1460);
    let back = Context { in_netif: uplink, route: Route::Local { netif: uplink, mtu: route_mtu } };
    let (v, synack) = run(nat, back, &synack, 1);
    assert_eq!(v, Verdict::Translated);
    mss_options(&synack)[0]
}

#[cfg(feature = "mss-clamp")]
#[test]
fn syn_acks_on_more_uplinks_than_the_nat_remembers_are_clamped_with_the_route_mtu() {
    // Six uplinks (netifs 2..=7), each with its own MTU.
    let uplinks = || (2u8..=7).map(|uplink| (uplink, 1400 + u16::from(uplink)));
    let mut nat = nat();
    for (uplink, mtu) in uplinks() {
        assert_eq!(synack_mss(&mut nat, uplink, mtu, mtu), mtu - 40, "uplink {uplink}, its MTU given");
    }
    // A caller that gives no MTU for local routes relies on the MTUs the NAT learned from
    // outbound SYNs, of the uplinks that opened connections most recently: a SYN-ACK that
    // follows its SYN is clamped on every uplink (the limit is in tests/adversarial/claims.rs).
    let mut learning = common_nat();
    let clamped: Vec<bool> =
        uplinks().map(|(uplink, mtu)| synack_mss(&mut learning, uplink, mtu, 0) == mtu - 40).collect();
    assert_eq!(clamped, [true; 6]);
}

// ---------------------------------------------------------------- IP ID

#[test]
fn non_atomic_datagrams_of_two_inside_hosts_to_one_server_get_distinct_ip_ids() {
    let mut nat = nat();
    let non_atomic = |mut p: Vec<u8>| {
        p[6] &= !0x40;
        with_ident(p, 0x4242)
    };
    // Both DF clear with the same ID: after translation they share source, destination and
    // protocol, so a hop that fragments both must not see the same ID twice (RFC 6864).
    let (_, a) = run(&mut nat, outbound(), &non_atomic(udp(HOST_A, 5000, SERVER, 53, b"a")), 0);
    let (_, b) = run(&mut nat, outbound(), &non_atomic(udp(HOST_B, 5000, SERVER, 53, b"b")), 0);
    assert_eq!((src(&a), dst(&a), a[9]), (src(&b), dst(&b), b[9]));
    assert_ne!(ip_ident(&a), ip_ident(&b));
    assert_ne!(ip_ident(&a), 0x4242, "a new ID, not the sender's");
    // The next datagram of an established flow (the fast path) gets a new one too.
    let (_, again) = run(&mut nat, outbound(), &non_atomic(udp(HOST_A, 5000, SERVER, 53, b"a")), 1);
    assert_ne!(ip_ident(&again), ip_ident(&a));
    // An atomic datagram (DF set) keeps its ID: it never meets a reassembler.
    let (_, atomic) = run(&mut nat, outbound(), &with_ident(udp(HOST_A, 5000, SERVER, 53, b"a"), 0x4242), 2);
    assert_eq!(ip_ident(&atomic), 0x4242);
}

/// Bytes after a datagram's total length are not part of it: a TCP header the total length
/// cuts short is refused even when the buffer holds its rest (the pipeline slices the packet to
/// its total length before any parser reads the transport header), going out and coming in.
#[test]
fn bytes_past_the_total_length_are_not_read_as_the_transport_header() {
    let mut nat = nat();
    let syn = tcp(HOST_A, 40000, SERVER, 443, SYN);
    let mut cut = syn.clone();
    cut[2..4].copy_from_slice(&36u16.to_be_bytes());
    refill_ip_checksum(&mut cut);
    assert_eq!(run(&mut nat, lan_to_wan(1500), &cut, 0).0, Verdict::Drop(DropReason::BadTransport));
    // The whole SYN opens the session; its reply cut the same way is left to lwIP untranslated.
    let (v, sent) = run(&mut nat, lan_to_wan(1500), &syn, 0);
    assert_eq!(v, Verdict::Translated);
    let mut reply = tcp(SERVER, 443, WAN_ADDR, sport(&sent), SYN | ACK);
    reply[2..4].copy_from_slice(&36u16.to_be_bytes());
    refill_ip_checksum(&mut reply);
    assert_eq!(run(&mut nat, inbound(), &reply, 1).0, Verdict::Pass);
}

/// Bytes after an ICMP error's total length are not part of its message: the quoted datagram
/// the total length cuts to its first 8 transport bytes is rewritten as such (the quoted TCP
/// checksum, past the cut, is neither rewritten nor folded into the ICMP checksum), and the
/// bytes after the cut stay as they were.
#[test]
fn bytes_past_an_icmp_errors_total_length_are_not_rewritten() {
    let mut nat = nat();
    let (_, sent) = run(&mut nat, outbound(), &tcp(HOST_A, 40000, SERVER, 443, SYN), 0);
    let err = icmp_error(SERVER, WAN_ADDR, 3, 1, &sent, 28);
    // The rest of the quoted TCP header after the error's last byte, in the same buffer.
    let mut buffer = [&err[..], &sent[28..]].concat();
    let v = nat.process(&mut buffer, &inbound(), 1);
    assert_eq!(v, Verdict::Translated);
    assert_outer_checksums(&buffer[..err.len()]);
    assert_eq!(&buffer[err.len()..], &sent[28..], "bytes past the total length");
    let expected = icmp_error(SERVER, HOST_A, 3, 1, &tcp(HOST_A, 40000, SERVER, 443, SYN), 28);
    assert_eq!(quoted(&buffer[..err.len()]), quoted(&expected));
}
