//! Expired state stays dead, state and time hold up, and a session translates both
//! directions or none: expiry against a caller's clock that runs a little behind, RSTs from
//! outside, rules, filters and port forwards changed while sessions live.

use crate::common::*;
#[cfg(any(feature = "portmap", all(feature = "hairpin", feature = "filtering")))]
use lwip_snat::Portmap;
#[cfg(feature = "portmap")]
use lwip_snat::PortmapError;
use lwip_snat::{Config, Context, DropReason, Filtering, Protocol, Route, Rule, Verdict};

const T0: u32 = 10_000;
const STRANGER: [u8; 4] = [198, 51, 100, 99];

/// Forwarded from the WAN straight to an inside address (against the `Source(LAN)` rule).
fn reverse() -> Context {
    Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: addr([192, 168, 1, 1]), out_mtu: 1500 } }
}

fn send(nat: &mut TestNat, mut p: Vec<u8>, ctx: &Context, now: u32) -> (Verdict, Vec<u8>) {
    let verdict = nat.process(&mut p, ctx, now);
    (verdict, p)
}

/// HOST_A:5000 → `to`:53 at `now`; returns the external port.
fn udp_out(nat: &mut TestNat, to: [u8; 4], now: u32) -> u16 {
    let (verdict, p) = send(nat, udp(HOST_A, 5000, to, 53, b"q"), &outbound(), now);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!(src(&p), WAN_ADDR);
    sport(&p)
}

/// A TCP connection HOST_A:40000 ↔ SERVER:80 through its handshake at `T0`; the external port.
fn established(nat: &mut TestNat) -> u16 {
    let (verdict, syn) = send(nat, tcp(HOST_A, 40000, SERVER, 80, SYN), &outbound(), T0);
    assert_eq!(verdict, Verdict::Translated);
    let ext = sport(&syn);
    let (verdict, _) = send(nat, tcp(SERVER, 80, WAN_ADDR, ext, SYN | ACK), &inbound(), T0);
    assert_eq!(verdict, Verdict::Translated);
    let (verdict, _) = send(nat, tcp(HOST_A, 40000, SERVER, 80, ACK), &outbound(), T0);
    assert_eq!(verdict, Verdict::Translated);
    ext
}

fn tcp_timeout(nat: &TestNat) -> u32 {
    let session = nat.sessions().find(|(p, _)| *p == Protocol::Tcp).map(|(_, s)| *s).expect("TCP session");
    nat.timeout_ms(Protocol::Tcp, &session)
}

#[test]
fn unsolicited_packet_never_revives_a_mapping_whose_sessions_all_expired() {
    // The most permissive filter the build has.
    let open =
        if cfg!(feature = "filtering") { Filtering::EndpointIndependent } else { Filtering::AddressAndPortDependent };
    let mut nat = nat_with(Config { udp_filtering: open, ..Config::DEFAULT });
    let ext = udp_out(&mut nat, SERVER, T0);
    assert_eq!(udp_out(&mut nat, SERVER2, T0), ext, "one mapping, two sessions");
    // Both sessions expired; no tick ran since.
    let late = T0 + Config::DEFAULT.udp_ms + 1;
    let packet = udp(STRANGER, 4444, WAN_ADDR, ext, b"knock");
    let (verdict, p) = send(&mut nat, packet.clone(), &inbound(), late);
    assert_eq!(verdict, Verdict::Pass, "no mapping: the router's own port, left to lwIP");
    assert_eq!(p, packet, "not translated");
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "both expired sessions are gone, none was created");
    assert_eq!(nat.stats().translated_in, 0);
}

#[test]
fn reply_from_a_remote_of_an_expired_mapping_is_not_translated_through_a_sibling() {
    // Address-dependent: SERVER's other port would be admitted through a live sibling only
    // (built without `filtering`, the default, which would not admit it at all).
    let filter =
        if cfg!(feature = "filtering") { Filtering::AddressDependent } else { Filtering::AddressAndPortDependent };
    let mut nat = nat_with(Config { udp_filtering: filter, ..Config::DEFAULT });
    let ext = udp_out(&mut nat, SERVER, T0);
    let (verdict, _) = send(&mut nat, udp(HOST_A, 5000, SERVER, 54, b"q"), &outbound(), T0);
    assert_eq!(verdict, Verdict::Translated);
    let late = T0 + Config::DEFAULT.udp_ms + 1;
    let (verdict, _) = send(&mut nat, udp(SERVER, 55, WAN_ADDR, ext, b"x"), &inbound(), late);
    assert_ne!(verdict, Verdict::Translated);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[test]
fn reverse_direction_traffic_passes_only_for_a_live_session() {
    let mut nat = nat();
    udp_out(&mut nat, SERVER, T0);
    let back = udp(SERVER, 53, HOST_A, 5000, b"straight in");
    assert_eq!(send(&mut nat, back.clone(), &reverse(), T0 + 1).0, Verdict::Pass, "live session");
    let late = T0 + Config::DEFAULT.udp_ms + 1;
    assert_eq!(send(&mut nat, back, &reverse(), late).0, Verdict::Drop(DropReason::ReverseDirection));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "the expired session is reclaimed on the spot");
}

#[test]
fn tick_a_millisecond_behind_the_last_packet_keeps_live_sessions() {
    let mut nat = nat();
    udp_out(&mut nat, SERVER, T0);
    established(&mut nat);
    nat.tick(T0 - 1);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
    assert_eq!(nat.stats().expired, [0, 0, 0]);
    // A clock far behind (2^31 ms or more of "elapsed" time) is behind, not late.
    nat.tick(T0.wrapping_sub(1 << 31));
    nat.tick(T0.wrapping_add(1 << 31));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
}

#[test]
fn reply_stamped_a_millisecond_early_is_translated_and_keeps_its_session() {
    for general in [false, true] {
        let mut nat = nat();
        let ext = established(&mut nat);
        let mut reply = tcp_data(SERVER, 80, WAN_ADDR, ext, ACK, b"data");
        let verdict = if general {
            nat.process_general(&mut reply, &inbound(), T0 - 1)
        } else {
            nat.process(&mut reply, &inbound(), T0 - 1)
        };
        assert_eq!(verdict, Verdict::Translated, "general pipeline: {general}");
        assert_eq!((dst(&reply), dport(&reply)), (HOST_A, 40000));
        assert_checksums(&reply);
        assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
        let (verdict, _) = send(&mut nat, tcp(HOST_A, 40000, SERVER, 80, ACK), &outbound(), T0);
        assert_eq!(verdict, Verdict::Translated);
    }
}

#[cfg(feature = "reassembly")]
#[test]
fn fragments_held_are_kept_by_an_expiry_a_millisecond_behind() {
    let mut nat = nat();
    udp_out(&mut nat, SERVER, T0);
    let datagram = udp(HOST_A, 5000, SERVER, 53, &[7u8; 64]);
    let first = raw_fragment(&datagram, 0, 32, true);
    let rest = raw_fragment(&datagram, 32, datagram.len() - 20, false);
    assert_eq!(send(&mut nat, first, &outbound(), T0).0, Verdict::Held);
    nat.tick(T0 - 1);
    assert_eq!(nat.fragments_in_flight().0, 1, "still waiting for its last fragment");
    assert!(matches!(send(&mut nat, rest, &outbound(), T0).0, Verdict::Reassembled(_)));
    assert_eq!(nat.stats().reass_expired, 0);
}

#[test]
fn one_rst_from_outside_no_longer_pins_a_connection_once_traffic_flows_both_ways() {
    let config = Config::DEFAULT;
    let mut nat = nat();
    let ext = established(&mut nat);
    assert_eq!(tcp_timeout(&nat), config.tcp_established_ms);
    // A spoofed RST: transitory for now (RFC 7857 section 2.2).
    let (verdict, _) = send(&mut nat, tcp(SERVER, 80, WAN_ADDR, ext, RST), &inbound(), T0 + 1);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!(tcp_timeout(&nat), config.tcp_transitory_ms);
    // The connection lives on: data one way is not enough, both ways is.
    let (verdict, _) = send(&mut nat, tcp_data(HOST_A, 40000, SERVER, 80, ACK, b"more"), &outbound(), T0 + 2);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!(tcp_timeout(&nat), config.tcp_transitory_ms);
    let (verdict, _) = send(&mut nat, tcp(SERVER, 80, WAN_ADDR, ext, ACK), &inbound(), T0 + 3);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!(tcp_timeout(&nat), config.tcp_established_ms);
    // Idle past the 4 minutes: still there, and still translating both ways.
    let later = T0 + 3 + config.tcp_transitory_ms + 1_000;
    nat.tick(later);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
    let (verdict, p) = send(&mut nat, tcp(SERVER, 80, WAN_ADDR, ext, ACK), &inbound(), later);
    assert_eq!((verdict, dst(&p)), (Verdict::Translated, HOST_A));
}

#[test]
fn rst_followed_by_silence_still_ends_the_session_after_the_transitory_timeout() {
    let config = Config::DEFAULT;
    let mut nat = nat();
    let ext = established(&mut nat);
    send(&mut nat, tcp(SERVER, 80, WAN_ADDR, ext, RST), &inbound(), T0 + 1);
    nat.tick(T0 + 1 + config.tcp_transitory_ms + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

#[test]
fn after_remove_rule_a_live_session_keeps_translating_both_ways() {
    let mut nat = nat();
    let ext = udp_out(&mut nat, SERVER, T0);
    nat.remove_rule(Rule::Source(LAN)).unwrap();
    let (verdict, reply) = send(&mut nat, udp(SERVER, 53, WAN_ADDR, ext, b"answer"), &inbound(), T0 + 1);
    assert_eq!((verdict, dst(&reply)), (Verdict::Translated, HOST_A));
    let (verdict, again) = send(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"again"), &outbound(), T0 + 2);
    assert_eq!(verdict, Verdict::Translated, "the inside host's answer never leaves with its private source");
    assert_eq!((src(&again), sport(&again)), (WAN_ADDR, ext));
    assert_checksums(&again);
    // No rule: a new flow is routed as it is, and creates nothing.
    let (verdict, _) = send(&mut nat, udp(HOST_A, 5001, SERVER, 53, b"new"), &outbound(), T0 + 3);
    assert_eq!(verdict, Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
}

#[cfg(feature = "portmap")]
#[test]
fn port_forward_without_a_rule_answers_from_the_external_address() {
    let mut nat = Box::new(TestNat::new());
    nat.reset(Config::DEFAULT, [1, 2]).unwrap();
    let web = [192, 168, 1, 20];
    nat.add_portmap(Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: addr(web), in_port: 80 })
        .unwrap();
    let (verdict, syn) = send(&mut nat, tcp(SERVER, 50000, WAN_ADDR, 8080, SYN), &inbound(), T0);
    assert_eq!((verdict, dst(&syn), dport(&syn)), (Verdict::Translated, web, 80));
    let (verdict, synack) = send(&mut nat, tcp(web, 80, SERVER, 50000, SYN | ACK), &outbound(), T0);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
    assert_checksums(&synack);
}

#[cfg(feature = "filtering")]
#[test]
fn filter_tightened_at_run_time_shuts_out_a_remote_the_old_filter_let_in() {
    for protocol in [Protocol::Udp, Protocol::Tcp] {
        let open = Config {
            udp_filtering: Filtering::EndpointIndependent,
            tcp_filtering: Filtering::EndpointIndependent,
            ..Config::DEFAULT
        };
        let mut nat = nat_with(open);
        let (knock, ext) = if protocol == Protocol::Udp {
            let ext = udp_out(&mut nat, SERVER, T0);
            (udp(STRANGER, 4444, WAN_ADDR, ext, b"knock"), ext)
        } else {
            let (_, syn) = send(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), &outbound(), T0);
            (tcp(STRANGER, 4444, WAN_ADDR, sport(&syn), SYN), sport(&syn))
        };
        let (verdict, _) = send(&mut nat, knock.clone(), &inbound(), T0 + 1);
        assert_eq!(verdict, Verdict::Translated, "{protocol:?}: endpoint-independent lets the stranger in");
        nat.set_config(Config {
            udp_filtering: Filtering::AddressAndPortDependent,
            tcp_filtering: Filtering::AddressAndPortDependent,
            ..Config::DEFAULT
        })
        .unwrap();
        let (verdict, _) = send(&mut nat, knock, &inbound(), T0 + 2);
        assert_eq!(verdict, Verdict::Drop(DropReason::Filtered), "{protocol:?}");
        assert_eq!(nat.sessions_in_use(protocol), 1, "{protocol:?}: the inside host's own session stays");
        let reply = if protocol == Protocol::Udp {
            udp(SERVER, 53, WAN_ADDR, ext, b"answer")
        } else {
            tcp(SERVER, 80, WAN_ADDR, ext, SYN | ACK)
        };
        assert_eq!(send(&mut nat, reply, &inbound(), T0 + 3).0, Verdict::Translated, "{protocol:?}");
    }
}

#[cfg(feature = "filtering")]
#[test]
fn remote_the_inside_host_answered_stays_when_the_filter_tightens() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let ext = udp_out(&mut nat, SERVER, T0);
    let (verdict, _) = send(&mut nat, udp(STRANGER, 4444, WAN_ADDR, ext, b"hi"), &inbound(), T0 + 1);
    assert_eq!(verdict, Verdict::Translated);
    let (verdict, _) = send(&mut nat, udp(HOST_A, 5000, STRANGER, 4444, b"hello"), &outbound(), T0 + 2);
    assert_eq!(verdict, Verdict::Translated);
    nat.set_config(Config::DEFAULT).unwrap();
    let (verdict, _) = send(&mut nat, udp(STRANGER, 4444, WAN_ADDR, ext, b"hi"), &inbound(), T0 + 3);
    assert_eq!(verdict, Verdict::Translated, "the inside host has sent to it: address-and-port dependent lets it in");
}

#[cfg(all(feature = "portmap", feature = "filtering"))]
#[test]
fn filter_tightened_keeps_port_forward_sessions() {
    let mut nat = nat_with(Config { tcp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let web = [192, 168, 1, 20];
    nat.add_portmap(Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: addr(web), in_port: 80 })
        .unwrap();
    let (verdict, _) = send(&mut nat, tcp(SERVER, 50000, WAN_ADDR, 8080, SYN), &inbound(), T0);
    assert_eq!(verdict, Verdict::Translated);
    nat.set_config(Config::DEFAULT).unwrap();
    let (verdict, _) = send(&mut nat, tcp(SERVER, 50000, WAN_ADDR, 8080, SYN), &inbound(), T0 + 1);
    assert_eq!(verdict, Verdict::Translated, "a port forward admits any remote whatever the filter");
}

#[cfg(feature = "portmap")]
#[test]
fn port_forward_for_an_endpoint_with_a_dynamic_mapping_on_another_port_is_refused() {
    let mut nat = nat();
    let ext = udp_out(&mut nat, SERVER, T0);
    let forward =
        |ext_port| Portmap { protocol: Protocol::Udp, netif: WAN, ext_port, inside: addr(HOST_A), in_port: 5000 };
    let other = if ext == 6000 { 6001 } else { 6000 };
    assert_eq!(nat.add_portmap(forward(other)), Err(PortmapError::Conflict), "one inside endpoint, one external port");
    // A new remote still reaches (and is reached from) the one mapping's port.
    let (_, p) = send(&mut nat, udp(HOST_A, 5000, SERVER2, 53, b"q"), &outbound(), T0 + 1);
    assert_eq!(sport(&p), ext);
    // The forward of the mapping's own port is fine; so is any forward once the mapping is gone.
    nat.add_portmap(forward(ext)).unwrap();
    nat.remove_portmap(forward(ext)).unwrap();
    nat.tick(T0 + 1 + Config::DEFAULT.udp_ms + 1);
    nat.add_portmap(forward(other)).unwrap();
    assert_eq!(sport(&send(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), &outbound(), T0 + 400_000).1), other);
}

#[cfg(all(feature = "hairpin", any(feature = "portmap", feature = "filtering")))]
#[test]
fn icmp_error_about_a_hairpinned_datagram_needs_the_receivers_live_session() {
    // HOST_B:80 is reached through a port forward; without `portmap`, through the mapping of its
    // own packet out at T0, which endpoint-independent filtering opens to another inside host.
    let (mut nat, port) = if cfg!(feature = "portmap") {
        let mut nat = nat();
        let forward =
            Portmap { protocol: Protocol::Udp, netif: WAN, ext_port: 8080, inside: addr(HOST_B), in_port: 80 };
        nat.add_portmap(forward).unwrap();
        (nat, 8080)
    } else {
        let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
        let (verdict, p) = send(&mut nat, udp(HOST_B, 80, SERVER, 3478, b"register"), &outbound(), T0);
        assert_eq!(verdict, Verdict::Translated);
        (nat, sport(&p))
    };
    let lan_to_wan_address = Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } };
    let hairpin = |nat: &mut TestNat, now| {
        let (verdict, there) =
            send(nat, udp(HOST_A, 7000, WAN_ADDR, port, b"to a closed port"), &lan_to_wan_address, now);
        assert_eq!(verdict, Verdict::Translated);
        assert_eq!((dst(&there), dport(&there)), (HOST_B, 80));
        there
    };
    hairpin(&mut nat, T0);
    // A's outbound session is refreshed; B's receiving session (inbound only) is not, and dies.
    let there = hairpin(&mut nat, T0 + 200_000);
    let after_b_expired = T0 + 301_000;
    let err = icmp_error(HOST_B, WAN_ADDR, 3, 3, &there, there.len());
    let (verdict, _) = send(&mut nat, err, &lan_to_wan_address, after_b_expired);
    assert_eq!(verdict, Verdict::Drop(DropReason::IcmpNoMapping), "an expired session translates nothing");
}

#[test]
fn a_lan_packet_to_the_port_of_an_expired_mapping_goes_to_the_router_not_into_a_hairpin() {
    let mut nat = nat();
    let ext = udp_out(&mut nat, SERVER, T0);
    let lan_to_wan_address = Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } };
    let after_expiry = T0 + 301_000;
    let (verdict, _) = send(&mut nat, udp(HOST_B, 6000, WAN_ADDR, ext, b"x"), &lan_to_wan_address, after_expiry);
    assert_eq!(verdict, Verdict::Pass, "no live mapping uses the port: it is the router's");
    // The hairpin test removes the port's expired session; built without hairpinning, no
    // packet from inside to the external address is looked at, and the next tick removes it.
    let expired = usize::from(cfg!(not(feature = "hairpin")));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), expired, "nothing created for the sender");
}

#[test]
fn after_remove_rule_a_live_sessions_fragmented_datagram_is_translated_too() {
    let mut nat = nat();
    let ext = udp_out(&mut nat, SERVER, T0);
    nat.remove_rule(Rule::Source(LAN)).unwrap();
    // The same flow sends a datagram in two fragments: its first must not leave untranslated.
    let whole = with_ident(udp(HOST_A, 5000, SERVER, 53, &[0x5a; 64]), 0x77);
    let mut verdicts = Vec::new();
    for (offset, end, more) in [(0, 48, true), (48, 72, false)] {
        let mut piece = raw_fragment(&whole, offset, end, more);
        let verdict = nat.process(&mut piece, &outbound(), T0 + 1);
        assert_ne!(verdict, Verdict::Pass, "a fragment of a live session's datagram passed untranslated");
        verdicts.push(verdict);
    }
    if !cfg!(feature = "reassembly") {
        // Without reassembly a fragment on a NAT path is dropped and counted, never passed.
        assert_eq!(verdicts, [Verdict::Drop(DropReason::Fragment); 2]);
        assert_eq!(nat.stats().dropped(DropReason::Fragment), 2);
        return;
    }
    assert_eq!(verdicts, [Verdict::Held, Verdict::Reassembled(whole.len())]);
    let mut datagram = nat.reassembled().to_vec();
    assert_eq!(nat.process(&mut datagram, &outbound(), T0 + 1), Verdict::Translated);
    assert_eq!((src(&datagram), sport(&datagram)), (WAN_ADDR, ext));
    assert_checksums(&datagram);
}
