//! Packets that no rule, session or port forward concerns (forwarding between netifs the NAT
//! has nothing to do with, traffic to the router itself on such netifs) are passed at once,
//! and the early answer never breaks a boundary rule: sessions still translate both ways after
//! their rule is removed, port forwards and hairpinning still work, the router's own services
//! on an outside netif are still guarded, and no martian source is forwarded.

use crate::common::*;
#[cfg(feature = "hairpin")]
use lwip_snat::Filtering;
#[cfg(any(feature = "portmap", feature = "hairpin"))]
use lwip_snat::Portmap;
use lwip_snat::{Config, Context, DropReason, Protocol, Route, Rule, Verdict};

const LAN2: u8 = 4;

fn forward(in_netif: u8, out_netif: u8) -> Context {
    Context { in_netif, route: Route::Forward { out_netif, out_addr: 0xC0A8_0401, out_mtu: 1500 } }
}

fn local(in_netif: u8, netif: u8) -> Context {
    Context { in_netif, route: Route::Local { netif, mtu: 1500 } }
}

/// The usual router: masquerade what leaves by the WAN; DMZ and LAN2 are plain routed netifs.
fn router() -> Box<TestNat> {
    let mut nat = Box::new(TestNat::new());
    nat.reset(Config::DEFAULT, [7, 9]).unwrap();
    nat.add_rule(Rule::Outbound(WAN)).unwrap();
    nat
}

#[test]
fn forwarding_between_netifs_no_rule_or_session_names_passes_untouched() {
    let mut nat = router();
    // A session on the WAN exists: it concerns nothing between DMZ and LAN2.
    out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let p = udp([192, 168, 3, 5], 6000, [192, 168, 4, 9], 7, b"between");
    let (v, bytes) = run(&mut nat, forward(DMZ, LAN2), &p, 1);
    assert_eq!((v, bytes), (Verdict::Pass, p.clone()));
    // A bad header checksum: with the fast path's quiet test, not the NAT's to judge (passed;
    // lwIP checks the header itself and drops it). Without it the pipeline, which judges every
    // packet, drops and counts it: dropped either way, counted in one place.
    let mut bad = p.clone();
    bad[10] ^= 0xFF;
    let quiet = cfg!(feature = "fast-path");
    let expected = if quiet { Verdict::Pass } else { Verdict::Drop(DropReason::BadChecksum) };
    assert_eq!(run(&mut nat, forward(DMZ, LAN2), &bad, 2).0, expected);
    assert_eq!(nat.stats().passed, if quiet { 2 } else { 1 });
    assert_eq!(nat.stats().dropped(DropReason::BadChecksum), u32::from(!quiet));
}

#[test]
fn martian_source_between_quiet_netifs_is_still_dropped() {
    let mut nat = router();
    let p = udp([127, 0, 0, 1], 6000, [192, 168, 4, 9], 7, b"loop");
    assert_eq!(run(&mut nat, forward(DMZ, LAN2), &p, 1).0, Verdict::Drop(DropReason::Martian));
}

#[test]
fn session_keeps_translating_both_ways_after_its_rule_is_removed() {
    let mut nat = router();
    let sent = out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    nat.remove_rule(Rule::Outbound(WAN)).unwrap();
    // No rule names the LAN or the WAN now; the session on the WAN still does.
    let again = out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q2"), 1);
    assert_eq!((src(&again), sport(&again)), (WAN_ADDR, sport(&sent)));
    let back = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, sport(&sent), b"a"), 2);
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    // Once it expired and was reclaimed, the WAN is quiet again: passed untranslated.
    nat.tick(10_000_000);
    let p = udp(HOST_A, 5000, SERVER, 53, b"late");
    assert_eq!(run(&mut nat, outbound(), &p, 10_000_001).0, Verdict::Pass);
}

#[cfg(feature = "portmap")]
#[test]
fn port_forward_on_a_netif_no_rule_names_still_admits() {
    let mut nat = Box::new(TestNat::new());
    nat.reset(Config::DEFAULT, [7, 9]).unwrap();
    let web = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: addr(HOST_B), in_port: 80 };
    nat.add_portmap(web).unwrap();
    let syn = tcp(SERVER, 5555, WAN_ADDR, 8080, SYN);
    let (v, inside) = run(&mut nat, local(WAN, WAN), &syn, 0);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((dst(&inside), dport(&inside)), (HOST_B, 80));
    nat.remove_portmap(web).unwrap();
    assert_eq!(run(&mut nat, local(WAN, WAN), &tcp(SERVER, 5556, WAN_ADDR, 8080, SYN), 1).0, Verdict::Pass);
}

#[test]
fn router_services_on_an_outside_netif_stay_guarded_and_quiet_netifs_reach_them() {
    let mut nat = router();
    nat.set_port_check(Some(|_, _, port| port == 22));
    // An unsolicited SYN from the WAN to a port the router does not serve: dropped.
    let syn = tcp(SERVER, 5555, WAN_ADDR, 2323, SYN);
    assert_eq!(run(&mut nat, local(WAN, WAN), &syn, 0).0, Verdict::Drop(DropReason::UnsolicitedSyn));
    // The same to the router's DMZ address, from the DMZ: the router's own business.
    let syn = tcp([192, 168, 3, 5], 5555, [192, 168, 3, 1], 2323, SYN);
    assert_eq!(run(&mut nat, local(DMZ, DMZ), &syn, 1).0, Verdict::Pass);
}

#[cfg(feature = "hairpin")]
#[test]
fn hairpin_through_the_external_address_still_works() {
    let mut nat = Box::new(TestNat::new());
    // HOST_B:80 is reached through a port forward; without `portmap`, through its own mapping,
    // which endpoint-independent filtering opens to another inside host, or, with the one filter
    // (address and port dependent), which B opens to A's external endpoint by sending to it first.
    let open =
        if cfg!(feature = "filtering") { Filtering::EndpointIndependent } else { Filtering::AddressAndPortDependent };
    let config =
        if cfg!(feature = "portmap") { Config::DEFAULT } else { Config { tcp_filtering: open, ..Config::DEFAULT } };
    nat.reset(config, [7, 9]).unwrap();
    nat.add_rule(Rule::Source(LAN)).unwrap();
    let port = if cfg!(feature = "portmap") {
        let web = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: addr(HOST_B), in_port: 80 };
        nat.add_portmap(web).unwrap();
        8080
    } else {
        let port = sport(&out(&mut nat, tcp(HOST_B, 80, SERVER, 443, SYN), 0));
        if !cfg!(feature = "filtering") {
            let ext_a = sport(&out(&mut nat, tcp(HOST_A, 41000, SERVER, 443, SYN), 0));
            let punch = tcp(HOST_B, 80, WAN_ADDR, ext_a, SYN);
            assert_eq!(run(&mut nat, local(LAN, WAN), &punch, 0).0, Verdict::Drop(DropReason::Filtered));
        }
        port
    };
    let (v, p) = run(&mut nat, local(LAN, WAN), &tcp(HOST_A, 41000, WAN_ADDR, port, SYN), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!((src(&p), dst(&p), dport(&p)), (WAN_ADDR, HOST_B, 80));
}

#[test]
fn flush_and_netif_change_make_a_netif_quiet_again() {
    let mut nat = router();
    out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    nat.remove_rule(Rule::Outbound(WAN)).unwrap();
    nat.netif_changed(WAN);
    let p = udp(HOST_A, 5000, SERVER, 53, b"after");
    assert_eq!(run(&mut nat, outbound(), &p, 1).0, Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}
