//! What the shim and the C API claim, held to what they do through real lwIP: the shim's route
//! decision is ip4_input()'s (broadcast sources and destinations, a firmware's
//! LWIP_HOOK_IP4_CANFORWARD), a failed re-injection frees its pbuf, link-down drops the
//! uplink's mappings, port forwards refuse what the C API documents, and two threads are
//! never inside the NAT at once.

use crate::common::*;
use crate::driver::{hex, Router};
use crate::{router, RULE_OUTBOUND};
#[allow(unused_imports)]
use std::process::Command;

#[path = "../lwip22/build.rs"]
mod lwip22_build;

/// `LWIP_SNAT_ERR_ARG`.
#[cfg(feature = "portmap")]
const ERR_ARG: i32 = -2;

fn lwip22_router() -> Router {
    let mut r = Router::spawn(&lwip22_build::router());
    r.ok("start");
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
    r
}

#[test]
fn packets_from_a_broadcast_address_of_the_router_are_dropped_not_translated() {
    let mut r = router();
    if cfg!(feature = "portmap") {
        r.ok("portmap 17 2 5353 192.168.1.10 53");
    }
    // The LAN's own broadcast, the WAN's broadcast (a subnet the LAN host is not on), the
    // limited broadcast and class E: none may leave by the WAN with the WAN address on it.
    for source in [[192, 168, 1, 255], [10, 0, 0, 255], [255, 255, 255, 255], [240, 0, 0, 1]] {
        let events = r.inject("lan", &udp(source, 5000, SERVER, 53, b"q"));
        events.nothing_on("wan");
        events.nothing_on("lan");
    }
    // From the WAN to a port forward: the LAN's broadcast address must not reach the LAN host.
    // (Without `portmap` there is none: the port is the router's own, lwIP's to answer.)
    let forwarded: &[[u8; 4]] =
        if cfg!(feature = "portmap") { &[[192, 168, 1, 255], [10, 0, 0, 255], [240, 0, 0, 1]] } else { &[] };
    for &source in forwarded {
        let events = r.inject("wan", &udp(source, 5000, WAN_ADDR, 5353, b"q"));
        events.nothing_on("lan");
        events.nothing_on("wan");
    }
    assert_eq!(r.session_count(), 0, "no mapping for a broadcast source");
    assert_eq!(r.stat("translated_out") + r.stat("translated_in"), 0);
    // An ordinary host still gets through.
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
    assert_eq!(src(&out), WAN_ADDR);
}

/// Needs hairpinning through a port forward (tests/lwip/router.c answers err -110 without
/// `portmap`).
#[cfg(all(feature = "portmap", feature = "hairpin"))]
#[test]
fn a_lan_packet_to_the_wan_broadcast_address_is_not_hairpinned_from_the_broadcast_address() {
    let mut r = lwip22_router();
    // Host B's DNS server is forwarded on the WAN address.
    r.ok(&format!("portmap 17 {WAN} 5353 192.168.1.11 53"));
    let mapped = 5353;
    // Host A sends to the WAN subnet's broadcast address on that port: lwIP delivers a
    // broadcast to the router itself; it is no external address of the NAT.
    let events = r.inject("lan", &udp(HOST_A, 5000, [10, 0, 0, 255], mapped, b"b"));
    for p in events.on("lan") {
        assert_ne!(src(&p), [10, 0, 0, 255], "a packet with a broadcast source: {}", hex(&p));
        assert_ne!(dst(&p), HOST_B, "hairpinned to host B: {}", hex(&p));
    }
    events.nothing_on("wan");
    assert_eq!(r.stat("hairpinned"), 0);
    // The unicast external address still hairpins.
    let events = r.inject("lan", &udp(HOST_A, 5000, WAN_ADDR, mapped, b"u"));
    let p = events.only("lan");
    assert_eq!((src(&p), dst(&p)), (WAN_ADDR, HOST_B));
}

#[test]
fn what_a_canforward_hook_forwards_leaves_translated() {
    // tests/lwip22/lwipopts.h: the firmware's LWIP_HOOK_IP4_CANFORWARD forwards class E
    // destinations, which lwIP's own rules refuse. The shim must decide the same.
    let mut r = lwip22_router();
    let out = r.inject("lan", &udp(HOST_A, 5000, [240, 0, 0, 5], 53, b"q")).only("wan");
    assert_eq!(src(&out), WAN_ADDR, "left untranslated: {}", hex(&out));
    assert_eq!(r.session_count(), 1);
    // And what lwIP refuses without the hook's say (a loopback destination) stays refused.
    r.inject("lan", &udp(HOST_A, 5000, [127, 0, 0, 1], 53, b"q")).nothing_on("wan");
}

#[test]
fn without_a_canforward_hook_what_lwip_refuses_to_forward_is_not_translated() {
    // lwIP's own rules (ip4_canforward()) refuse class E and net 0 destinations, which a route
    // still leads to (the WAN is the default netif): the shim must not translate them either.
    let mut r = router();
    for dest in [[240, 0, 0, 5], [254, 1, 2, 3], [0, 1, 2, 3]] {
        r.inject("lan", &udp(HOST_A, 5000, dest, 53, b"q")).nothing_on("wan");
        r.inject("lan", &tcp(HOST_A, 5001, dest, 80, SYN)).nothing_on("wan");
    }
    assert_eq!(r.session_count(), 0, "a mapping for what lwIP does not forward");
    // An ordinary destination on the same route is translated.
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
    assert_eq!(src(&out), WAN_ADDR);
}

/// Needs `reassembly` (without it the fragments are dropped on a NAT path).
#[cfg(feature = "reassembly")]
#[test]
fn a_reassembled_datagram_the_netif_refuses_to_take_back_is_freed() {
    // LWIP_SNAT_REINJECT is netif->input in the Debian build; with "failreinject 1" it refuses
    // the datagram (ERR_MEM), and netif_input_fn's contract has the shim free it.
    // LeakSanitizer checks at exit.
    let whole = udp(HOST_A, 5000, SERVER, 53, &[0x5a; 64]);
    let commands = [
        "start".to_string(),
        format!("rule {RULE_OUTBOUND} 0 {WAN}"),
        "failreinject 1".to_string(),
        format!("in lan {}", hex(&raw_fragment(&whole, 0, 48, true))),
        format!("in lan {}", hex(&raw_fragment(&whole, 48, 72, false))),
        "stats".to_string(),
    ];
    let script = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("claims-failreinject.txt");
    std::fs::write(&script, commands.join("\n") + "\n").unwrap();
    let out = Command::new(crate::lwip_build::program("router"))
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .stdin(std::fs::File::open(&script).unwrap())
        .output()
        .expect("run router");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("stat reassembled 1"), "the datagram was reassembled:\n{stdout}");
    assert!(!stdout.contains("out wan"), "the refused datagram did not leave:\n{stdout}");
    assert!(out.status.success(), "router exit {:?}:\n{stderr}", out.status);
}

#[test]
fn link_down_on_the_wan_drops_its_mappings() {
    let mut r = router();
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
    assert_eq!(src(&out), WAN_ADDR);
    assert_eq!(r.session_count(), 1);
    r.ok("linkdown wan");
    r.ok("timers 1000");
    assert_eq!(r.session_count(), 0, "mappings of a WAN whose link is down");
    // The reply that would have used the old mapping finds none.
    r.ok("linkup wan");
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"a")).nothing_on("lan");
    // New flows map again once the link is back.
    let again = r.inject("lan", &udp(HOST_A, 5001, SERVER, 53, b"q")).only("wan");
    assert_eq!(src(&again), WAN_ADDR);
}

/// With lwIP's netif callback (`LWIP_NETIF_EXT_STATUS_CALLBACK`, on in tests/lwip22), the
/// shim hears of an address, up/down or link change when lwIP makes it: the WAN's mappings are
/// gone at once, before any packet or timer, and the LAN's changes leave them alone.
#[test]
fn with_lwips_netif_callback_a_change_of_the_wan_drops_its_mappings_at_once() {
    for (change, undo, new_wan) in [
        ("setaddr wan 10.0.0.2", "setaddr wan 10.0.0.1", [10, 0, 0, 2]),
        ("down wan", "up wan", WAN_ADDR),
        ("linkdown wan", "linkup wan", WAN_ADDR),
    ] {
        let mut r = lwip22_router();
        let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
        assert_eq!(src(&out), WAN_ADDR);
        for lan_change in ["setaddr lan 192.168.1.2", "setaddr lan 192.168.1.1", "linkdown lan", "linkup lan"] {
            r.ok(lan_change);
        }
        assert_eq!(r.session_count(), 1, "{change}: a LAN change keeps the WAN's mappings");
        r.ok(change);
        assert_eq!(r.session_count(), 0, "{change}: dropped before any packet or timer");
        if new_wan == WAN_ADDR {
            r.ok(undo);
        }
        r.inject("wan", &udp(SERVER, 53, new_wan, sport(&out), b"a")).nothing_on("lan");
        let again = r.inject("lan", &udp(HOST_A, 5001, SERVER, 53, b"q")).only("wan");
        assert_eq!(src(&again), new_wan, "{change}: new flows map on the netif as it is now");
    }
}

#[test]
fn link_down_is_noticed_by_a_packet_before_the_timer() {
    let mut r = router();
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
    r.ok("linkdown wan");
    // A packet arriving on the WAN (its driver still delivers) sees the link down at once.
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"a")).nothing_on("lan");
    assert_eq!(r.session_count(), 0);
}

/// Needs port forwards (tests/lwip/router.c answers err -110 without).
#[cfg(feature = "portmap")]
#[test]
fn port_forwards_the_c_api_documents_as_invalid_are_refused() {
    let mut r = router();
    for inside in ["255.255.255.255", "224.0.0.1", "239.255.255.250", "127.0.0.1", "240.0.0.1", "0.0.0.0", "0.1.2.3"] {
        r.err(&format!("portmap 6 2 8080 {inside} 80"), ERR_ARG);
    }
    r.err("portmap 6 2 0 192.168.1.10 80", ERR_ARG);
    r.err("portmap 6 2 8080 192.168.1.10 0", ERR_ARG);
    r.err("portmap 1 2 8080 192.168.1.10 80", ERR_ARG);
    r.ok("portmap 6 2 8080 192.168.1.10 80");
}

/// Needs `dump`: the two threads enter the NAT through the session walk (tests/lwip/busy.c).
#[cfg(feature = "dump")]
#[test]
fn two_threads_are_never_inside_the_nat_at_once() {
    let out = Command::new(crate::lwip_build::program("busy"))
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .output()
        .expect("run busy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let value = |name: &str| -> i64 {
        let at = words.iter().position(|w| *w == name).unwrap_or_else(|| panic!("{name} in {stdout}"));
        words[at + 1].parse().unwrap()
    };
    assert_eq!(value("blocked_call"), -3, "a call while another thread is inside: LWIP_SNAT_ERR_BUSY");
    assert_eq!(value("overlaps"), 0, "two threads inside the NAT at once: {stdout}");
    assert!(value("entered") > 0 && value("busy") > 0, "the threads contended: {stdout}");
}
