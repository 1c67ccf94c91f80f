//! The hook caches the route it works out for a destination until lwIP reports a netif change
//! (`LWIP_SNAT_ROUTE_CACHE`, on with `LWIP_NETIF_EXT_STATUS_CALLBACK` where no route hook or only
//! cacheable ones are built in). After each kind of change the very next packet of an
//! established flow, the reply to its mapping and the first packet of a new flow leave as they
//! leave a router built without the cache, which looks every route up (same bytes out of the
//! same netifs, same IP counters; forward.rs holds that router to lwIP's own forwarding), and
//! by the netif the new route names: a stale route would send them out of the old one.

use super::RULE_OUTBOUND;
use crate::common::*;
use crate::driver::Router;
use crate::forward::both;
use crate::lwip22_build;

/// The hook's router (route cache on) and the reference (no cache), both
/// started with the masquerade rule on the WAN, after `setup` (commands run on both).
fn routers(setup: &[&str]) -> [Router; 2] {
    let reference = lwip22_build::router_with("router_uncached", &[], &["LWIP_SNAT_ROUTE_CACHE=0"]);
    let mut r = [Router::spawn(&lwip22_build::router()), Router::spawn(&reference)];
    for router in &mut r {
        router.ok("start");
        router.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
        for command in setup {
            router.ok(command);
        }
    }
    r
}

/// Sends `packet` in on `netif` through both routers (held to each other by [`both`]); what
/// the hook's router sent out of `out` (one packet), nothing when `out` is None.
fn through(r: &mut [Router; 2], netif: &str, packet: &[u8], out: Option<&str>) -> Vec<u8> {
    let sent = both(r, netif, packet).0;
    match out {
        Some(out) => {
            assert_eq!(sent.out.len(), 1, "one packet out of {out}: {:?}", sent.out);
            sent.only(out)
        }
        None => {
            assert!(sent.out.is_empty(), "nothing forwarded: {:?}", sent.out);
            Vec::new()
        }
    }
}

/// Where the packets after the change must leave: the established flow's next packet, the reply
/// to its mapping (as the mapping was before the change), a new flow's first packet.
struct Expect {
    next: Option<&'static str>,
    reply: Option<&'static str>,
    new_flow: Option<&'static str>,
}

/// After `setup`, a UDP flow from host A to the server by the WAN, answered out of `reply_by`
/// (so the hook has looked up, and cached, the routes to the server and to host A), then
/// `change` on both routers, then the three packets of [`Expect`].
fn after_change(setup: &[&str], reply_by: &str, change: &[&str], expect: Expect) {
    let mut r = routers(setup);
    let port = sport(&through(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"query"), Some("wan")));
    through(&mut r, "wan", &udp(SERVER, 53, WAN_ADDR, port, b"answer"), Some(reply_by));
    for router in &mut r {
        for command in change {
            router.ok(command);
        }
    }
    through(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"again"), expect.next);
    through(&mut r, "wan", &udp(SERVER, 53, WAN_ADDR, port, b"answer again"), expect.reply);
    through(&mut r, "lan", &udp(HOST_B, 6000, SERVER, 53, b"new"), expect.new_flow);
}

#[test]
fn an_address_change_moves_the_routes_at_the_next_packet() {
    // The LAN moves to the server's subnet: the server is on the LAN, host A only by default.
    let expect = Expect { next: Some("lan"), reply: Some("wan"), new_flow: Some("lan") };
    after_change(&[], "lan", &["setaddr lan 203.0.113.1"], expect);
}

#[test]
fn a_netmask_change_moves_the_routes_at_the_next_packet() {
    let expect = Expect { next: Some("lan"), reply: Some("lan"), new_flow: Some("lan") };
    after_change(&[], "lan", &["setmask lan 0.0.0.0"], expect);
}

#[test]
fn a_netif_taken_down_is_routed_around_at_the_next_packet() {
    // Host A's subnet is gone: its reply takes the default route.
    let expect = Expect { next: Some("wan"), reply: Some("wan"), new_flow: Some("wan") };
    after_change(&[], "lan", &["down lan"], expect);
    // The default netif down: no route (and the WAN's mappings are gone).
    let expect = Expect { next: None, reply: None, new_flow: None };
    after_change(&[], "lan", &["down wan"], expect);
}

#[test]
fn a_netif_losing_its_link_is_routed_around_at_the_next_packet() {
    let expect = Expect { next: Some("wan"), reply: Some("wan"), new_flow: Some("wan") };
    after_change(&[], "lan", &["linkdown lan"], expect);
    let expect = Expect { next: None, reply: None, new_flow: None };
    after_change(&[], "lan", &["linkdown wan"], expect);
}

#[test]
fn another_default_netif_takes_the_next_packet() {
    let expect = Expect { next: Some("lan"), reply: Some("lan"), new_flow: Some("lan") };
    after_change(&[], "lan", &["default lan"], expect);
}

#[test]
fn a_netif_added_with_a_more_specific_route_takes_the_next_packet() {
    // Before the LAN in lwIP's list: its /28 holds hosts A and B, and the reply goes there.
    let expect = Expect { next: Some("wan"), reply: Some("dmz"), new_flow: Some("wan") };
    after_change(&[], "lan", &["addnetif 192.168.1.9 255.255.255.240"], expect);
    // The server's subnet: the flow and the new one leave by the new netif.
    let expect = Expect { next: Some("dmz"), reply: Some("lan"), new_flow: Some("dmz") };
    after_change(&[], "lan", &["addnetif 203.0.113.1 255.255.255.0"], expect);
}

#[test]
fn a_removed_netif_is_routed_around_at_the_next_packet() {
    // The /28 that took host A's replies from the LAN.
    let expect = Expect { next: Some("wan"), reply: Some("lan"), new_flow: Some("wan") };
    after_change(&["addnetif 192.168.1.9 255.255.255.240"], "dmz", &["removenetif"], expect);
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn a_source_that_became_a_netifs_broadcast_address_is_dropped_at_the_next_packet() {
    // A /31 beside the server makes the server's address that netif's broadcast address: lwIP
    // takes packets to it as the router's, and drops those from it (the reply to the mapping
    // must not be translated from a remembered route).
    let expect = Expect { next: None, reply: None, new_flow: None };
    after_change(&[], "lan", &["addnetif 203.0.113.4 255.255.255.254"], expect);
    // A sender the router never routed to (to a port forward), found no broadcast address once.
    let mut r = routers(&[&format!("portmap 17 {WAN} 5353 192.168.1.11 53")]);
    let query = udp(SERVER2, 7000, WAN_ADDR, 5353, b"query");
    through(&mut r, "wan", &query, Some("lan"));
    for router in &mut r {
        router.ok("addnetif 198.51.100.6 255.255.255.254");
    }
    through(&mut r, "wan", &query, None);
}
