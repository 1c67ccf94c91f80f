//! Beyond the original add-on: static port forwarding, hairpinning (RFC 4787 REQ-9,
//! RFC 5382 REQ-8), run-time settings, per-host quota at run time, TCP MSS clamping and uplink
//! changes. Every translated packet's checksums are recomputed from scratch by test-kit's oracle.

mod common;

use common::*;
use lwip_snat::tables::Protocol;
use lwip_snat::{Config, Context, DropReason, Filtering, Route, Verdict};
#[cfg(feature = "portmap")]
use lwip_snat::{Portmap, PortmapError};

/// The port forwards need the `portmap` feature; what a build without it does instead is in
/// `tests/adversarial/footprint.rs`.
#[cfg(feature = "portmap")]
const WEB: Portmap = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: 0xC0A8_010B, in_port: 80 };

/// From a LAN host to the router's WAN address (a hairpin candidate).
fn lan_to_wan_address() -> Context {
    Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 0 } }
}

// ---------------------------------------------------------------- port forwarding

#[cfg(feature = "portmap")]
#[test]
fn port_forward_reaches_the_inside_server_and_its_replies_go_back_out() {
    let mut nat = nat();
    nat.add_portmap(WEB).unwrap();
    let (v, syn) = run(&mut nat, inbound(), &tcp(SERVER, 5555, WAN_ADDR, 8080, SYN), 0);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((dst(&syn), dport(&syn)), (HOST_B, 80));
    let (v, synack) = run(&mut nat, outbound(), &tcp(HOST_B, 80, SERVER, 5555, SYN | ACK), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
    // Any remote may connect (endpoint-independent filtering for a forwarded port).
    let (v, other) = run(&mut nat, inbound(), &tcp(SERVER2, 7, WAN_ADDR, 8080, SYN), 2);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(dst(&other), HOST_B);
    // A non-SYN from a stranger opens nothing.
    let (v, _) = run(&mut nat, inbound(), &tcp([9, 9, 9, 9], 7, WAN_ADDR, 8080, ACK), 3);
    assert_eq!(v, Verdict::Drop(DropReason::Filtered));
}

#[cfg(feature = "portmap")]
#[test]
fn port_forward_conflicts_are_refused_never_duplicated() {
    let mut nat = nat();
    // HOST_A holds external TCP port 8080 through a live mapping.
    let (_, p) = run(&mut nat, outbound(), &tcp(HOST_A, 8080, SERVER, 80, SYN), 0);
    assert_eq!(sport(&p), 8080);
    assert_eq!(nat.add_portmap(WEB), Err(PortmapError::Conflict));
    nat.flush();
    nat.add_portmap(WEB).unwrap();
    assert_eq!(nat.add_portmap(Portmap { inside: addr(HOST_A), ..WEB }), Err(PortmapError::Conflict));
    // A forwarded port is never handed out to another inside endpoint.
    let (_, p) = run(&mut nat, outbound(), &tcp(HOST_A, 8080, SERVER, 80, SYN), 1);
    assert_ne!(sport(&p), 8080);
    // UDP 8080 is a different port.
    nat.add_portmap(Portmap { protocol: Protocol::Udp, ..WEB }).unwrap();
    assert_eq!(nat.add_portmap(Portmap { protocol: Protocol::Icmp, ..WEB }), Err(PortmapError::Invalid));
}

#[cfg(feature = "portmap")]
#[test]
fn port_forwards_survive_flush_and_removal_drops_their_sessions() {
    let mut nat = nat();
    nat.add_portmap(WEB).unwrap();
    run(&mut nat, inbound(), &tcp(SERVER, 5555, WAN_ADDR, 8080, SYN), 0);
    nat.flush();
    assert_eq!(nat.portmaps().count(), 1);
    let (v, _) = run(&mut nat, inbound(), &tcp(SERVER, 5556, WAN_ADDR, 8080, SYN), 1);
    assert_eq!(v, Verdict::Translated);
    nat.remove_portmap(WEB).unwrap();
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
    let (v, _) = run(&mut nat, inbound(), &tcp(SERVER, 5557, WAN_ADDR, 8080, SYN), 2);
    assert_eq!(v, Verdict::Pass, "no forward any more: the router's business");
    assert_eq!(nat.remove_portmap(WEB), Err(PortmapError::NotFound));
}

#[cfg(feature = "portmap")]
#[test]
fn outbound_flows_of_a_forwarded_server_use_its_forwarded_port() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::AddressAndPortDependent, ..Config::DEFAULT });
    let dns = Portmap { protocol: Protocol::Udp, ext_port: 5353, in_port: 53, ..WEB };
    nat.add_portmap(dns).unwrap();
    let (_, p) = run(&mut nat, outbound(), &udp(HOST_B, 53, SERVER, 53, b"q"), 0);
    assert_eq!(sport(&p), 5353);
}

// ---------------------------------------------------------------- hairpinning

#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn rfc5382_req8_tcp_hairpin_to_a_forwarded_port_shows_the_external_source() {
    let mut nat = nat();
    nat.add_portmap(WEB).unwrap();
    let (v, there) = run(&mut nat, lan_to_wan_address(), &tcp(HOST_A, 40000, WAN_ADDR, 8080, SYN), 0);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(src(&there), WAN_ADDR, "the receiver sees the sender's external address");
    assert_eq!((dst(&there), dport(&there)), (HOST_B, 80));
    let ext_a = sport(&there);
    // The server answers the external endpoint it saw; that comes back hairpinned too.
    let (v, back) = run(&mut nat, lan_to_wan_address(), &tcp(HOST_B, 80, WAN_ADDR, ext_a, SYN | ACK), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&back), sport(&back)), (WAN_ADDR, 8080));
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 40000));
    assert_eq!(nat.stats().hairpinned, 2);
}

#[cfg(all(feature = "hairpin", feature = "filtering"))]
#[test]
fn rfc4787_req9_udp_hairpin_between_two_mappings() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    // HOST_B has a mapping (e.g. it registered with a rendezvous server).
    let (_, reg) = run(&mut nat, outbound(), &udp(HOST_B, 6000, SERVER, 3478, b"register"), 0);
    let ext_b = sport(&reg);
    let (v, p) = run(&mut nat, lan_to_wan_address(), &udp(HOST_A, 7000, WAN_ADDR, ext_b, b"hello B"), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&p), dst(&p), dport(&p)), (WAN_ADDR, HOST_B, 6000));
    let ext_a = sport(&p);
    let (v, r) = run(&mut nat, lan_to_wan_address(), &udp(HOST_B, 6000, WAN_ADDR, ext_a, b"hello A"), 2);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&r), sport(&r), dst(&r), dport(&r)), (WAN_ADDR, ext_b, HOST_A, 7000));
}

#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn rfc5508_req7_hairpinned_icmp_error_reaches_the_original_sender() {
    let mut nat = nat();
    nat.add_portmap(Portmap { protocol: Protocol::Udp, ..WEB }).unwrap();
    let (_, there) = run(&mut nat, lan_to_wan_address(), &udp(HOST_A, 7000, WAN_ADDR, 8080, b"to a closed port"), 0);
    assert_eq!((src(&there), dst(&there), dport(&there)), (WAN_ADDR, HOST_B, 80));
    // HOST_B has nothing on port 80: Port Unreachable, about the datagram as it received it.
    let err = icmp_error(HOST_B, WAN_ADDR, 3, 3, &there, there.len());
    let (v, back) = run(&mut nat, lan_to_wan_address(), &err, 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&back), dst(&back)), (WAN_ADDR, HOST_A), "from the external address, to the real sender");
    assert_eq!(quoted(&back), &udp(HOST_A, 7000, WAN_ADDR, 8080, b"to a closed port")[..], "quotes what A sent");
}

#[cfg(all(feature = "hairpin", feature = "filtering"))]
#[test]
fn rfc5508_req7_icmp_error_hairpinned_between_two_mappings_reaches_the_original_sender() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let (_, reg) = run(&mut nat, outbound(), &udp(HOST_B, 6000, SERVER, 3478, b"register"), 0);
    let ext_b = sport(&reg);
    let sent = udp(HOST_A, 7000, WAN_ADDR, ext_b, b"to a closed port");
    let (v, there) = run(&mut nat, lan_to_wan_address(), &sent, 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&there), dst(&there), dport(&there)), (WAN_ADDR, HOST_B, 6000));
    // HOST_B's socket has closed: Port Unreachable, about the datagram as it received it.
    let err = icmp_error(HOST_B, WAN_ADDR, 3, 3, &there, there.len());
    let (v, back) = run(&mut nat, lan_to_wan_address(), &err, 2);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&back), dst(&back)), (WAN_ADDR, HOST_A), "from the external address, to the real sender");
    assert_eq!(quoted(&back), &sent[..], "quotes what A sent");
    assert_eq!(nat.stats().icmp_errors_translated, 1);
}

#[cfg(feature = "hairpin")]
#[test]
fn hairpin_honours_the_receivers_filter() {
    let mut nat = nat();
    let (_, reg) = run(&mut nat, outbound(), &udp(HOST_B, 6000, SERVER, 3478, b"register"), 0);
    let (v, _) = run(&mut nat, lan_to_wan_address(), &udp(HOST_A, 7000, WAN_ADDR, sport(&reg), b"x"), 1);
    assert_eq!(v, Verdict::Drop(DropReason::Filtered));
}

#[test]
fn lan_host_reaching_the_routers_own_wan_service_is_untouched() {
    let mut nat = nat();
    let (v, _) = run(&mut nat, lan_to_wan_address(), &tcp(HOST_A, 40000, WAN_ADDR, 80, SYN), 0);
    assert_eq!(v, Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

// ---------------------------------------------------------------- built without hairpinning

/// The most permissive filter the build has: endpoint independent, or without `filtering`
/// the one mode.
fn most_open() -> Filtering {
    if cfg!(feature = "filtering") {
        Filtering::EndpointIndependent
    } else {
        Filtering::AddressAndPortDependent
    }
}

/// Runs `p` from a LAN host to the router's WAN address in a build without `hairpin`: the
/// packet is lwIP's (passed, untouched), no session appears and only `passed` moves.
#[cfg(not(feature = "hairpin"))]
fn left_to_lwip(nat: &mut TestNat, p: &[u8], now: u32) {
    let before = *nat.stats();
    let sessions = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp].map(|proto| nat.sessions_in_use(proto));
    let (v, after) = run(nat, lan_to_wan_address(), p, now);
    assert_eq!(v, Verdict::Pass);
    assert_eq!(after, p, "untouched");
    assert_eq!([Protocol::Tcp, Protocol::Udp, Protocol::Icmp].map(|proto| nat.sessions_in_use(proto)), sessions);
    assert_eq!(*nat.stats(), lwip_snat::Stats { passed: before.passed + 1, ..before });
    assert_eq!(nat.stats().hairpinned, 0);
}

#[cfg(not(feature = "hairpin"))]
#[test]
fn without_hairpin_udp_to_a_mapped_port_of_the_external_address_is_left_to_lwip() {
    let mut nat = nat_with(Config { udp_filtering: most_open(), ..Config::DEFAULT });
    let (_, reg) = run(&mut nat, outbound(), &udp(HOST_B, 6000, SERVER, 3478, b"register"), 0);
    left_to_lwip(&mut nat, &udp(HOST_A, 7000, WAN_ADDR, sport(&reg), b"hello B"), 1);
    // Again once HOST_A has a mapping of its own: still no hairpin.
    run(&mut nat, outbound(), &udp(HOST_A, 7000, SERVER, 3478, b"register"), 2);
    left_to_lwip(&mut nat, &udp(HOST_A, 7000, WAN_ADDR, sport(&reg), b"hello B"), 3);
}

#[cfg(not(feature = "hairpin"))]
#[test]
fn without_hairpin_tcp_to_a_mapped_port_of_the_external_address_is_left_to_lwip() {
    let mut nat = nat_with(Config { tcp_filtering: most_open(), ..Config::DEFAULT });
    let (_, syn) = run(&mut nat, outbound(), &tcp(HOST_B, 6000, SERVER, 80, SYN), 0);
    let ext_b = sport(&syn);
    left_to_lwip(&mut nat, &tcp(HOST_A, 40000, WAN_ADDR, ext_b, SYN), 1);
    left_to_lwip(&mut nat, &tcp_data(HOST_A, 40000, WAN_ADDR, ext_b, ACK, b"data"), 2);
}

#[cfg(not(feature = "hairpin"))]
#[test]
fn without_hairpin_an_icmp_error_from_inside_about_a_mapped_port_is_left_to_lwip() {
    let mut nat = nat_with(Config { udp_filtering: most_open(), ..Config::DEFAULT });
    let (_, reg_a) = run(&mut nat, outbound(), &udp(HOST_A, 7000, SERVER, 3478, b"register"), 0);
    run(&mut nat, outbound(), &udp(HOST_B, 6000, SERVER, 3478, b"register"), 0);
    // What a hairpinned datagram from HOST_A would have looked like at HOST_B.
    let there = udp(WAN_ADDR, sport(&reg_a), HOST_B, 6000, b"to a closed port");
    left_to_lwip(&mut nat, &icmp_error(HOST_B, WAN_ADDR, 3, 3, &there, there.len()), 1);
    // About HOST_A's own mapping as it left (the shape of an error from outside).
    left_to_lwip(&mut nat, &icmp_error(HOST_B, WAN_ADDR, 3, 3, &reg_a, reg_a.len()), 2);
}

#[cfg(all(feature = "portmap", not(feature = "hairpin")))]
#[test]
fn without_hairpin_a_port_forward_is_not_reached_from_inside() {
    let mut nat = nat();
    nat.add_portmap(WEB).unwrap();
    left_to_lwip(&mut nat, &tcp(HOST_A, 40000, WAN_ADDR, 8080, SYN), 0);
}

// ---------------------------------------------------------------- run-time settings

#[test]
fn filtering_timeouts_and_quota_change_at_run_time() {
    let mut nat = nat();
    let (_, p) = run(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let port = sport(&p);
    assert_eq!(
        run(&mut nat, inbound(), &udp(SERVER2, 1, WAN_ADDR, port, b"x"), 1).0,
        Verdict::Drop(DropReason::Filtered)
    );
    let open = Config { udp_filtering: most_open(), udp_ms: 120_000, host_quota: 2, ..Config::DEFAULT };
    nat.set_config(open).unwrap();
    // The filter opens where the build has another (without `filtering`: still filtered).
    let expected = if cfg!(feature = "filtering") { Verdict::Translated } else { Verdict::Drop(DropReason::Filtered) };
    assert_eq!(run(&mut nat, inbound(), &udp(SERVER2, 1, WAN_ADDR, port, b"x"), 2).0, expected);
    nat.tick(120_003);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "the shorter timeout applies to live sessions");
    run(&mut nat, outbound(), &udp(HOST_A, 1, SERVER, 53, b"q"), 200_000);
    run(&mut nat, outbound(), &udp(HOST_A, 2, SERVER, 53, b"q"), 200_000);
    let refused = run(&mut nat, outbound(), &udp(HOST_A, 3, SERVER, 53, b"q"), 200_000).0;
    assert_eq!(refused, Verdict::SendIcmp(lwip_snat::IcmpRequest::AdminProhibited));
    assert_eq!(nat.stats().dropped(DropReason::HostQuota), 1);
    assert!(
        nat.set_config(Config { tcp_established_ms: 3_600_000, ..Config::DEFAULT }).is_err(),
        "below RFC 5382's floor"
    );
}

// ---------------------------------------------------------------- built without `filtering`

/// Every configuration a build without `filtering` refuses: EIF or ADF for TCP or UDP.
#[cfg(not(feature = "filtering"))]
fn other_filters() -> impl Iterator<Item = Config> {
    [Filtering::EndpointIndependent, Filtering::AddressDependent].into_iter().flat_map(|mode| {
        [Config { tcp_filtering: mode, ..Config::DEFAULT }, Config { udp_filtering: mode, ..Config::DEFAULT }]
    })
}

#[cfg(not(feature = "filtering"))]
#[test]
fn without_filtering_a_config_asking_for_another_filter_is_refused_and_the_old_one_stays() {
    let seed = [1, 2];
    for config in other_filters() {
        assert_eq!(config.validate(), Err(lwip_snat::ConfigError::Filtering), "{config:?}");
        let mut nat = nat();
        let before = *nat.config();
        assert_eq!(nat.set_config(config), Err(lwip_snat::ConfigError::Filtering), "set_config {config:?}");
        assert_eq!(*nat.config(), before);
        assert!(nat.reset(config, seed).is_err(), "reset {config:?}");
        assert_eq!(*nat.config(), before);
        let mut fresh = Box::new(TestNat::new());
        assert!(fresh.reset(config, seed).is_err(), "a new NAT's reset {config:?}");
    }
}

/// A new remote sending to a live mapping's external port is filtered (address and port
/// dependent), whatever configuration was asked for: no translation, no session.
#[cfg(not(feature = "filtering"))]
#[test]
fn without_filtering_a_new_remote_never_reaches_a_live_mapping() {
    for config in other_filters() {
        let mut nat = nat();
        let _ = nat.set_config(config);
        let (_, p) = run(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
        let port = sport(&p);
        let (_, syn) = run(&mut nat, outbound(), &tcp(HOST_A, 40000, SERVER, 80, SYN), 0);
        let tcp_port = sport(&syn);
        let before = *nat.stats();
        let sent = udp(SERVER2, 1, WAN_ADDR, port, b"x");
        let (v, after) = run(&mut nat, inbound(), &sent, 1);
        assert_eq!(v, Verdict::Drop(DropReason::Filtered), "{config:?}");
        assert_eq!(after, sent, "untouched");
        let (v, _) = run(&mut nat, inbound(), &tcp(SERVER, 81, WAN_ADDR, tcp_port, SYN), 2);
        assert_eq!(v, Verdict::Drop(DropReason::Filtered), "{config:?}");
        assert_eq!((nat.sessions_in_use(Protocol::Udp), nat.sessions_in_use(Protocol::Tcp)), (1, 1));
        assert_eq!(nat.stats().translated_in, before.translated_in);
    }
}

/// `reset` leaves a NAT that was used every way it keeps state (rules, a port forward,
/// sessions of each protocol, host counts, counters, learnt uplinks) as a new NAT given the
/// same settings and seed: nothing kept, the same tables' secrets and port choices after.
#[test]
fn reset_leaves_a_used_nat_as_a_new_one() {
    let seed = [0x0bad_5eed_0000_0001, 0x0000_0002_0bad_5eed];
    let config = Config { udp_filtering: most_open(), ..Config::DEFAULT };
    let traffic = |nat: &mut TestNat, now: u32| {
        let packets = [
            (outbound(), tcp(HOST_A, 40000, SERVER, 80, SYN)),
            (outbound(), udp(HOST_B, 5000, SERVER, 53, b"q")),
            (outbound(), echo_request(HOST_A, SERVER, 7, 1)),
            (inbound(), udp(SERVER2, 9, WAN_ADDR, 1, b"x")),
        ];
        packets.map(|(ctx, p)| run(nat, ctx, &p, now))
    };
    let mut used = nat();
    #[cfg(feature = "portmap")]
    used.add_portmap(WEB).unwrap();
    used.add_rule(lwip_snat::Rule::Outbound(WAN)).unwrap();
    traffic(&mut used, 5);
    assert!(used.stats().translated_out > 0 && used.sessions().count() == 3);
    used.reset(config, seed).unwrap();

    let mut fresh = Box::new(TestNat::new());
    fresh.reset(config, seed).unwrap();
    assert_eq!(used.stats(), fresh.stats());
    assert_eq!(used.config(), fresh.config());
    assert_eq!((used.rules().count(), used.portmaps().count(), used.sessions().count()), (0, 0, 0));
    assert_eq!(used.fragments_in_flight(), (0, 0));
    for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp] {
        assert_eq!(used.sessions_high_water(protocol), 0);
    }
    for nat in [&mut used, &mut fresh] {
        nat.add_rule(lwip_snat::Rule::Source(LAN)).unwrap();
    }
    assert_eq!(traffic(&mut used, 1000), traffic(&mut fresh, 1000));
    assert_eq!(used.stats(), fresh.stats());
    assert!(used.sessions().eq(fresh.sessions()));
}

// ---------------------------------------------------------------- MSS clamping

#[test]
fn mss_of_forwarded_syns_is_clamped_to_the_uplink_mtu() {
    let mut nat = nat();
    let pppoe =
        Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: 1492 } };
    let (v, syn) = run(&mut nat, pppoe, &syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460), 0);
    assert_eq!(v, Verdict::Translated);
    // Built without mss-clamp, SYNs keep the MSS their sender chose, both ways.
    let clamped = if cfg!(feature = "mss-clamp") { 1452 } else { 1460 };
    assert_eq!(mss_of(&syn), clamped);
    // The SYN-ACK coming in over the same uplink is clamped too, so the inside host never
    // sends segments the uplink cannot carry.
    let (v, synack) = run(&mut nat, inbound(), &syn_with_mss(SERVER, 443, WAN_ADDR, sport(&syn), true, 1460), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(mss_of(&synack), clamped);
    // A smaller MSS is left alone.
    let (_, small) = run(&mut nat, pppoe, &syn_with_mss(HOST_A, 40001, SERVER, 443, false, 1200), 2);
    assert_eq!(mss_of(&small), 1200);
    assert_eq!(nat.stats().mss_clamped, if cfg!(feature = "mss-clamp") { 2 } else { 0 });
}

#[test]
fn mss_clamping_can_be_turned_off() {
    let mut nat = nat_with(Config { mss_clamp: false, ..Config::DEFAULT });
    let pppoe =
        Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: 1492 } };
    let (_, syn) = run(&mut nat, pppoe, &syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460), 0);
    assert_eq!(mss_of(&syn), 1460);
}

// ---------------------------------------------------------------- uplink changes

#[test]
fn uplink_address_change_drops_its_mappings_and_new_flows_use_the_new_address() {
    let mut nat = nat();
    let (_, p) = run(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let old_port = sport(&p);
    // DHCP renews the WAN to 10.0.0.99: the shim reports it.
    nat.netif_changed(WAN);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
    let new_wan = [10, 0, 0, 99];
    let ctx =
        Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(new_wan), out_mtu: 1500 } };
    let (_, p) = run(&mut nat, ctx, &udp(HOST_A, 5000, SERVER, 53, b"q"), 1);
    assert_eq!(src(&p), new_wan);
    assert_eq!(sport(&p), old_port, "the freed port is preserved again");
}
