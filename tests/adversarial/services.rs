//! The router's own services are never shadowed by NAT mappings: external ports (and ICMP
//! identifiers) its own endpoints hold are never handed to inside hosts, inbound packets for
//! them reach the router even where a mapping's filter would admit them, and unsolicited SYNs
//! to nothing are dropped silently (RFC 5382 REQ-4). The router's endpoints are told to the
//! NAT through its port check, here a table per test thread.

use crate::common::*;
use lwip_snat::{Config, Context, DropReason, Filtering, Protocol, Route, Verdict};
#[cfg(feature = "portmap")]
use lwip_snat::{Portmap, PortmapError};
use std::cell::RefCell;

thread_local! {
    /// (protocol, netif, port) the router's own pcbs hold in this test.
    static ROUTER_PORTS: RefCell<Vec<(Protocol, u8, u16)>> = const { RefCell::new(Vec::new()) };
}

fn router_holds(protocol: Protocol, netif: u8, port: u16) -> bool {
    ROUTER_PORTS.with(|ports| ports.borrow().contains(&(protocol, netif, port)))
}

/// The router's own endpoint opens (binds, listens, pings with this identifier).
fn router_binds(protocol: Protocol, port: u16) {
    ROUTER_PORTS.with(|ports| ports.borrow_mut().push((protocol, WAN, port)));
}

/// A NAT with `config` whose port check answers from this thread's table (empty at first).
fn nat_asking(config: Config) -> Box<TestNat> {
    ROUTER_PORTS.with(|ports| ports.borrow_mut().clear());
    let mut nat = nat_with(config);
    nat.set_port_check(Some(router_holds));
    nat
}

fn out(nat: &mut TestNat, mut p: Vec<u8>) -> Vec<u8> {
    assert_eq!(nat.process(&mut p, &outbound(), 1000), Verdict::Translated);
    assert_checksums(&p);
    p
}

fn arrive(nat: &mut TestNat, mut p: Vec<u8>) -> Verdict {
    nat.process(&mut p, &inbound(), 1000)
}

fn endpoint_independent() -> Config {
    Config {
        tcp_filtering: Filtering::EndpointIndependent,
        udp_filtering: Filtering::EndpointIndependent,
        ..Config::DEFAULT
    }
}

#[test]
fn lan_host_never_gets_the_port_of_the_routers_dhcp_client_or_listener() {
    let mut nat = nat_asking(Config::DEFAULT);
    router_binds(Protocol::Udp, 68);
    router_binds(Protocol::Tcp, 8080);
    let dhcp = out(&mut nat, udp(HOST_A, 68, SERVER, 67, b"discover"));
    let ext = sport(&dhcp);
    assert_ne!(ext, 68, "the router's DHCP client port");
    assert!(ext < 1024 && ext.is_multiple_of(2), "same class and parity: {ext}");
    let syn = out(&mut nat, tcp(HOST_A, 8080, SERVER, 80, SYN));
    assert_ne!(sport(&syn), 8080, "the router's listening port");
    // A port the router does not hold is still preserved.
    assert_eq!(sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"))), 5000);
}

#[test]
fn allocator_sweeps_past_every_port_the_router_holds() {
    let config = Config { port_range: (2000, 2003), ..Config::DEFAULT };
    let mut nat = nat_asking(config);
    for port in [2000, 2001, 2002, 5000] {
        router_binds(Protocol::Udp, port);
    }
    let p = out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"));
    assert_eq!(sport(&p), 2003, "the one port of the range the router does not hold");
    let mut refused = udp(HOST_B, 5000, SERVER, 53, b"q");
    assert_eq!(
        nat.process(&mut refused, &outbound(), 1000),
        Verdict::SendIcmp(lwip_snat::IcmpRequest::AdminProhibited)
    );
}

#[test]
fn without_a_port_check_ports_are_preserved_and_unmapped_syns_pass() {
    let mut nat = nat();
    assert_eq!(sport(&out(&mut nat, udp(HOST_A, 68, SERVER, 67, b"discover"))), 68);
    assert_eq!(arrive(&mut nat, tcp(SERVER, 40000, WAN_ADDR, 5555, SYN)), Verdict::Pass);
}

#[test]
fn dhcp_reply_to_the_router_reaches_the_router_while_a_lan_host_uses_port_68() {
    let mut nat = nat_asking(Config::DEFAULT);
    router_binds(Protocol::Udp, 68);
    let ext = sport(&out(&mut nat, udp(HOST_A, 68, SERVER, 67, b"discover")));
    assert_eq!(arrive(&mut nat, udp(SERVER, 67, WAN_ADDR, 68, b"ack")), Verdict::Pass, "for the router");
    let mut reply = udp(SERVER, 67, WAN_ADDR, ext, b"offer");
    assert_eq!(nat.process(&mut reply, &inbound(), 1000), Verdict::Translated, "the LAN host's own reply");
    assert_eq!((dst(&reply), dport(&reply)), (HOST_A, 68));
}

#[cfg(feature = "portmap")]
#[test]
fn portmap_of_a_port_the_router_holds_is_refused() {
    let mut nat = nat_asking(Config::DEFAULT);
    router_binds(Protocol::Tcp, 22);
    let map = |protocol, ext_port| Portmap { protocol, netif: WAN, ext_port, inside: addr(HOST_A), in_port: 22 };
    assert_eq!(nat.add_portmap(map(Protocol::Tcp, 22)), Err(PortmapError::Conflict));
    assert_eq!(nat.portmaps().count(), 0);
    assert_eq!(nat.add_portmap(map(Protocol::Udp, 22)), Ok(()), "UDP 22 is not the router's");
    assert_eq!(nat.add_portmap(map(Protocol::Tcp, 2222)), Ok(()));
}

#[cfg(feature = "filtering")]
#[test]
fn endpoint_independent_syn_for_the_routers_listener_reaches_the_router_not_the_mapping() {
    let mut nat = nat_asking(endpoint_independent());
    assert_eq!(sport(&out(&mut nat, tcp(HOST_A, 9000, SERVER, 80, SYN))), 9000);
    // The filter admits anyone to HOST_A's mapping…
    let mut admitted = tcp(SERVER2, 4000, WAN_ADDR, 9000, SYN);
    assert_eq!(nat.process(&mut admitted, &inbound(), 1000), Verdict::Translated);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 2);
    // …until the router itself listens on that port: then a new remote reaches the router.
    router_binds(Protocol::Tcp, 9000);
    assert_eq!(arrive(&mut nat, tcp(SERVER2, 4001, WAN_ADDR, 9000, SYN)), Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 2, "no session for the router's client");
    // HOST_A's own connection and the session admitted before keep translating.
    let mut reply = tcp(SERVER, 80, WAN_ADDR, 9000, SYN | ACK);
    assert_eq!(nat.process(&mut reply, &inbound(), 1000), Verdict::Translated);
    assert_eq!(dst(&reply), HOST_A);
}

#[cfg(feature = "filtering")]
#[test]
fn endpoint_independent_udp_for_the_routers_socket_reaches_the_router_not_the_mapping() {
    let mut nat = nat_asking(endpoint_independent());
    assert_eq!(sport(&out(&mut nat, udp(HOST_A, 5353, SERVER, 53, b"q"))), 5353);
    router_binds(Protocol::Udp, 5353);
    assert_eq!(arrive(&mut nat, udp(SERVER2, 53, WAN_ADDR, 5353, b"for the router")), Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
}

#[test]
fn reply_to_the_routers_socket_is_not_filtered_by_an_older_mapping_on_its_port() {
    // Address-and-port dependent filtering (the default): the router's DNS client bound the
    // port after HOST_A's mapping took it; the DNS server's reply must reach the router.
    let mut nat = nat_asking(Config::DEFAULT);
    assert_eq!(sport(&out(&mut nat, udp(HOST_A, 5353, SERVER, 53, b"q"))), 5353);
    router_binds(Protocol::Udp, 5353);
    assert_eq!(arrive(&mut nat, udp(SERVER2, 53, WAN_ADDR, 5353, b"answer")), Verdict::Pass);
    assert_eq!(nat.stats().dropped[DropReason::Filtered as usize], 0);
}

#[test]
fn inside_ping_never_takes_the_identifier_of_the_routers_own_pings() {
    let mut nat = nat_asking(Config::DEFAULT);
    router_binds(Protocol::Icmp, 0xAFAF);
    let ping = out(&mut nat, echo_request(HOST_A, SERVER, 0xAFAF, 1));
    let ext = icmp_ident(&ping);
    assert_ne!(ext, 0xAFAF);
    // The reply to the router's own ping goes to lwIP; the LAN host's reply to the LAN host.
    assert_eq!(arrive(&mut nat, echo_reply(SERVER, WAN_ADDR, 0xAFAF, 1)), Verdict::Pass);
    let mut reply = echo_reply(SERVER, WAN_ADDR, ext, 1);
    assert_eq!(nat.process(&mut reply, &inbound(), 1000), Verdict::Translated);
    assert_eq!((dst(&reply), icmp_ident(&reply)), (HOST_A, 0xAFAF));
}

#[test]
fn unsolicited_syn_to_no_mapping_and_no_listener_is_dropped_silently_and_counted() {
    let mut nat = nat_asking(Config::DEFAULT);
    let verdict = arrive(&mut nat, tcp(SERVER, 40000, WAN_ADDR, 5555, SYN));
    assert_eq!(verdict, Verdict::Drop(DropReason::UnsolicitedSyn), "no RST: RFC 5382 REQ-4");
    assert_eq!(nat.stats().dropped[DropReason::UnsolicitedSyn as usize], 1);
    assert_eq!(DropReason::UnsolicitedSyn.name(), "unsolicited_syn");
}

#[test]
fn syn_to_the_routers_listener_passes_to_lwip() {
    let mut nat = nat_asking(Config::DEFAULT);
    router_binds(Protocol::Tcp, 22);
    assert_eq!(arrive(&mut nat, tcp(SERVER, 40000, WAN_ADDR, 22, SYN)), Verdict::Pass);
}

#[test]
fn unmapped_non_syn_and_udp_still_pass_to_lwip() {
    let mut nat = nat_asking(Config::DEFAULT);
    assert_eq!(arrive(&mut nat, tcp(SERVER, 40000, WAN_ADDR, 5555, ACK)), Verdict::Pass);
    assert_eq!(arrive(&mut nat, udp(SERVER, 40000, WAN_ADDR, 5555, b"x")), Verdict::Pass);
    assert_eq!(arrive(&mut nat, tcp(SERVER, 40000, WAN_ADDR, 5555, SYN | ACK)), Verdict::Pass);
}

#[test]
fn syn_from_the_lan_to_the_router_is_left_to_lwip() {
    // Only the outside of a rule gets the silent drop; the LAN side keeps lwIP's RST.
    let mut nat = nat_asking(Config::DEFAULT);
    let lan_addr = [192, 168, 1, 1];
    let to_router = Context { in_netif: LAN, route: Route::Local { netif: LAN, mtu: 1500 } };
    let mut syn = tcp(HOST_A, 40000, lan_addr, 5555, SYN);
    assert_eq!(nat.process(&mut syn, &to_router, 1000), Verdict::Pass);
    let to_wan_addr = Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } };
    let mut syn = tcp(HOST_A, 40000, WAN_ADDR, 5555, SYN);
    assert_eq!(nat.process(&mut syn, &to_wan_addr, 1000), Verdict::Pass);
}

#[test]
fn lan_host_reaching_the_routers_listener_through_the_external_address_is_not_hairpinned_away() {
    // HOST_A's mapping took 9000 before the router listened there; HOST_B then connects to the
    // external address's 9000: the router's listener answers, not HOST_A, and nothing is lost.
    // (Endpoint-independent where built, so that the mapping would admit HOST_B.)
    let mut nat = nat_asking(if cfg!(feature = "filtering") { endpoint_independent() } else { Config::DEFAULT });
    assert_eq!(sport(&out(&mut nat, tcp(HOST_A, 9000, SERVER, 80, SYN))), 9000);
    router_binds(Protocol::Tcp, 9000);
    let to_wan_addr = Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } };
    let mut syn = tcp(HOST_B, 40000, WAN_ADDR, 9000, SYN);
    assert_eq!(nat.process(&mut syn, &to_wan_addr, 1000), Verdict::Pass);
    assert_eq!(nat.stats().hairpinned, 0);
}

#[test]
fn port_check_is_kept_across_reset_and_removed_by_none() {
    let mut nat = nat_asking(Config::DEFAULT);
    router_binds(Protocol::Udp, 68);
    nat.reset(Config::DEFAULT, [7, 7]).unwrap();
    nat.add_rule(lwip_snat::Rule::Source(LAN)).unwrap();
    assert_ne!(sport(&out(&mut nat, udp(HOST_A, 68, SERVER, 67, b"d"))), 68, "still asked after reset");
    nat.set_port_check(None);
    assert_eq!(sport(&out(&mut nat, udp(HOST_B, 68, SERVER, 67, b"d"))), 68, "no longer asked");
}
