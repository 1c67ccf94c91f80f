//! What the API claims, held to what the core does: class E sources are martians on every
//! path, the MSS of every uplink is remembered for its inbound SYN-ACKs, and a port forward
//! refuses every inside address its error documents.

use crate::common::*;
#[cfg(feature = "filtering")]
use lwip_snat::{Config, Filtering};
use lwip_snat::{Context, DropReason, Protocol, Route, Verdict};
#[cfg(feature = "portmap")]
use lwip_snat::{Portmap, PortmapError};

fn run(nat: &mut TestNat, ctx: Context, p: &[u8], now: u32) -> (Verdict, Vec<u8>) {
    let mut p = p.to_vec();
    let v = nat.process(&mut p, &ctx, now);
    (v, p)
}

const CLASS_E: [[u8; 4]; 4] = [[240, 0, 0, 1], [247, 1, 2, 3], [250, 9, 9, 9], [255, 255, 255, 254]];

#[test]
fn class_e_sources_from_the_lan_are_dropped_as_martians_not_forwarded() {
    let mut nat = nat();
    for source in CLASS_E {
        let (v, p) = run(&mut nat, outbound(), &udp(source, 5000, SERVER, 53, b"q"), 0);
        assert_eq!(v, Verdict::Drop(DropReason::Martian), "{source:?}");
        assert_eq!(src(&p), source, "not rewritten");
    }
    assert_eq!(nat.stats().dropped(DropReason::Martian), CLASS_E.len() as u32);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[cfg(feature = "portmap")]
#[test]
fn class_e_sources_from_the_wan_never_reach_a_port_forward() {
    let mut nat = nat();
    nat.add_portmap(Portmap { protocol: Protocol::Udp, netif: WAN, ext_port: 5353, inside: addr(HOST_A), in_port: 53 })
        .unwrap();
    for source in CLASS_E {
        let (v, p) = run(&mut nat, inbound(), &udp(source, 5000, WAN_ADDR, 5353, b"q"), 0);
        assert_eq!(v, Verdict::Drop(DropReason::Martian), "{source:?}");
        assert_eq!(dst(&p), WAN_ADDR, "not rewritten");
    }
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[cfg(feature = "filtering")]
#[test]
fn class_e_sources_from_the_wan_never_reach_an_endpoint_independent_mapping() {
    let open = Filtering::EndpointIndependent;
    let mut nat = nat_with(Config { udp_filtering: open, tcp_filtering: open, ..Config::DEFAULT });
    let (_, udp_out) = run(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let (_, tcp_out) = run(&mut nat, outbound(), &tcp(HOST_A, 40000, SERVER, 443, SYN), 0);
    for source in CLASS_E {
        let (v, p) = run(&mut nat, inbound(), &udp(source, 5000, WAN_ADDR, sport(&udp_out), b"q"), 1);
        assert_eq!(v, Verdict::Drop(DropReason::Martian), "UDP from {source:?}");
        assert_eq!(dst(&p), WAN_ADDR, "not rewritten");
        let (v, p) = run(&mut nat, inbound(), &tcp(source, 5000, WAN_ADDR, sport(&tcp_out), SYN), 1);
        assert_eq!(v, Verdict::Drop(DropReason::Martian), "TCP from {source:?}");
        assert_eq!(dst(&p), WAN_ADDR, "not rewritten");
    }
    assert_eq!(
        (nat.sessions_in_use(Protocol::Udp), nat.sessions_in_use(Protocol::Tcp)),
        (1, 1),
        "the inside host's own"
    );
}

#[test]
fn class_e_sources_are_martians_on_the_fast_path_too() {
    // A live session whose remote is in 240/4 (an uplink that routes class E): its replies
    // must be dropped by the fast path exactly as by the general pipeline.
    let remote = [240, 0, 0, 9];
    for general in [false, true] {
        let mut nat = nat();
        let (v, p) = run(&mut nat, outbound(), &udp(HOST_A, 5000, remote, 53, b"q"), 0);
        assert_eq!(v, Verdict::Translated);
        let mut reply = udp(remote, 53, WAN_ADDR, sport(&p), b"a");
        let v = if general {
            nat.process_general(&mut reply, &inbound(), 1)
        } else {
            nat.process(&mut reply, &inbound(), 1)
        };
        assert_eq!(v, Verdict::Drop(DropReason::Martian), "general pipeline: {general}");
        assert_eq!(dst(&reply), WAN_ADDR);
    }
}

/// Uplink `n` (netif index n): address 10.0.n.1, MTU 1400 + n.
fn uplink(n: u8) -> (Context, Context, [u8; 4]) {
    let ext = [10, 0, n, 1];
    let out = Context {
        in_netif: LAN,
        route: Route::Forward { out_netif: n, out_addr: addr(ext), out_mtu: 1400 + n as u16 },
    };
    let back = Context { in_netif: n, route: Route::Local { netif: n, mtu: 0 } };
    (out, back, ext)
}

#[cfg(feature = "mss-clamp")]
#[test]
fn syn_acks_of_every_uplink_are_clamped_to_its_mtu_beyond_four_uplinks() {
    let mut nat = nat();
    let uplinks: Vec<u8> = (2..=9).collect();
    for (i, &n) in uplinks.iter().enumerate() {
        let (out, back, ext) = uplink(n);
        let (v, syn) = run(&mut nat, out, &syn_with_mss(HOST_A, 40000 + i as u16, SERVER, 443, false, 1460), 0);
        assert_eq!(v, Verdict::Translated);
        assert_eq!(mss_of(&syn), 1400 + n as u16 - 40);
        let (v, synack) = run(&mut nat, back, &syn_with_mss(SERVER, 443, ext, sport(&syn), true, 1460), 1);
        assert_eq!(v, Verdict::Translated);
        assert_eq!(mss_of(&synack), 1400 + n as u16 - 40, "SYN-ACK over uplink {n}");
        assert_checksums(&synack);
    }
}

#[test]
fn an_uplink_whose_mtu_was_forgotten_leaves_its_syn_ack_unclamped() {
    // The documented limit: the NAT remembers the MTUs of the LinkMtus::SLOTS uplinks that
    // opened connections most recently. A SYN-ACK that comes back after that many other
    // uplinks opened connections since its own SYN left is not clamped (its SYN was).
    let slots = lwip_snat::mss::LinkMtus::SLOTS as u8;
    let mut nat = nat();
    let (out, back, ext) = uplink(2);
    let (_, syn) = run(&mut nat, out, &syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460), 0);
    for n in 3..3 + slots {
        let (out, _, _) = uplink(n);
        run(&mut nat, out, &syn_with_mss(HOST_A, 41000 + n as u16, SERVER, 443, false, 1460), 0);
    }
    let (v, synack) = run(&mut nat, back, &syn_with_mss(SERVER, 443, ext, sport(&syn), true, 1460), 1);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(mss_of(&synack), 1460);
}

#[cfg(feature = "portmap")]
#[test]
fn port_forwards_to_addresses_that_cannot_be_a_host_are_refused() {
    let mut nat = nat();
    let good = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: addr(HOST_A), in_port: 80 };
    for inside in [
        [255, 255, 255, 255],
        [224, 0, 0, 1],
        [239, 1, 2, 3],
        [127, 0, 0, 1],
        [240, 0, 0, 1],
        [0, 0, 0, 0],
        [0, 1, 2, 3],
    ] {
        assert_eq!(nat.add_portmap(Portmap { inside: addr(inside), ..good }), Err(PortmapError::Invalid), "{inside:?}");
    }
    assert_eq!(nat.add_portmap(Portmap { ext_port: 0, ..good }), Err(PortmapError::Invalid));
    assert_eq!(nat.add_portmap(Portmap { in_port: 0, ..good }), Err(PortmapError::Invalid));
    assert_eq!(nat.add_portmap(Portmap { protocol: Protocol::Icmp, ..good }), Err(PortmapError::Invalid));
    assert_eq!(nat.portmaps().count(), 0);
    assert_eq!(nat.add_portmap(good), Ok(()));
}
