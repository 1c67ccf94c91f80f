//! The hook forwards what it routed itself (`LWIP_SNAT_FORWARD`, on by default with lwIP 2.2):
//! every packet is held to a router built with `LWIP_SNAT_FORWARD=0`, where lwIP's own
//! `ip4_input()` and `ip4_forward()` do it, for the bytes on the wire (TTL decremented, header
//! checksum adjusted, Ethernet padding trimmed), the ICMP answers and lwIP's IP counters. What
//! the hook forwarded never reaches `ip4_forward()` (its `PERF_STOP`, counted by the harness);
//! what it does not handle (TTL 1, over the MTU, a bad header, a broadcast source) takes lwIP's
//! way as before.

use super::RULE_OUTBOUND;
use crate::common::*;
use crate::driver::{hex, Events, Router};
use crate::lwip22_build;
use test_kit::oracle::{ICMP, TCP, UDP};

/// The router with the hook's forwarding and the reference without it, both started, with the
/// masquerade rule on the WAN when `rule`.
fn routers(rule: bool) -> [Router; 2] {
    routers_built(rule, Build::Words)
}

/// How the hook's router is built: the hook sums a header for its checksum test in 32-bit
/// words (where unaligned loads are cheap, as on this host) or 16-bit ones (the other cores);
/// with the firmware's canforward hook or, as most firmware, without one (the shim then makes
/// `ip4_canforward()`'s tests itself, in line where its route work already ruled some out);
/// or without the shortcuts that only save instructions (`LWIP_SNAT_QUIET_PATH 0`, the shim's
/// own quiet tests, and `LWIP_SNAT_ROUTE_CACHE 0`, as a library without `fast-path` defaults
/// them): every packet the hook routes then goes to the core, which decides and counts the same.
/// A library without `fast-path` keeps no facts for the quiet tests: every build there is
/// without them (the route cache asked for but in `NoShortcuts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    Words,
    Halfwords,
    NoCanforwardHook,
    NoShortcuts,
}

const BUILDS: [Build; 4] = [Build::Words, Build::Halfwords, Build::NoCanforwardHook, Build::NoShortcuts];

fn routers_built(rule: bool, build: Build) -> [Router; 2] {
    // What the features default: the hook forwards (`hook-forward`), with the shortcuts
    // (`fast-path`); a library without them gets the forwarding and the route cache through the
    // defines, as lwipopts.h may (the quiet tests need the facts only `fast-path` keeps).
    let mut hook_defines: Vec<&str> = Vec::new();
    if !cfg!(feature = "hook-forward") {
        hook_defines.push("LWIP_SNAT_FORWARD=1");
    }
    if !cfg!(feature = "fast-path") && build != Build::NoShortcuts {
        hook_defines.push("LWIP_SNAT_ROUTE_CACHE=1");
    }
    let hook_with = |name: &str, defines: &[&str]| {
        let all: Vec<&str> = defines.iter().chain(&hook_defines).copied().collect();
        if all.is_empty() {
            lwip22_build::router()
        } else {
            lwip22_build::router_with(name, &[], &all)
        }
    };
    let (hook, reference) = match build {
        Build::Words => (hook_with("router_hook_forwards", &[]), ("router_lwip_forwards", None)),
        Build::Halfwords => {
            (hook_with("router_halfword_sum", &["LWIP_SNAT_UNALIGNED_LOADS=0"]), ("router_lwip_forwards", None))
        }
        Build::NoCanforwardHook => (
            hook_with("router_no_canforward", &["LWIP22_SHIM_WITHOUT_CANFORWARD"]),
            ("router_lwip_forwards_no_canforward", Some("LWIP22_SHIM_WITHOUT_CANFORWARD")),
        ),
        Build::NoShortcuts => (
            hook_with("router_no_shortcuts", &["LWIP_SNAT_QUIET_PATH=0", "LWIP_SNAT_ROUTE_CACHE=0"]),
            ("router_lwip_forwards", None),
        ),
    };
    let (name, define) = reference;
    let mut defines: Vec<&str> = ["LWIP_SNAT_FORWARD=0"].into_iter().chain(define).collect();
    if !cfg!(feature = "fast-path") {
        // the reference keeps the route cache, as `fast-path` defaults it
        defines.push("LWIP_SNAT_ROUTE_CACHE=1");
    }
    let mut both = [Router::spawn(&hook), Router::spawn(&lwip22_build::router_with(name, &[], &defines))];
    for r in &mut both {
        r.ok("start");
        if rule {
            r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
        }
    }
    both
}

/// lwIP's IP counters (`ipstat` lines) and, apart, how often its own ip4_forward() forwarded.
fn ip_stats(r: &mut Router) -> (Vec<String>, u64) {
    let lines = r.ok("ipstats").lines;
    let reached = lines
        .iter()
        .find_map(|l| l.strip_prefix("ipstat ip4_forward ").map(|v| v.parse().unwrap()))
        .expect("ipstats: the lwIP 2.2 harness with LWIP_STATS");
    let ours = |l: &String| l.starts_with("ipstat ip4_forward ") || l.starts_with("ipstat canforward ");
    (lines.into_iter().filter(|l| !ours(l)).collect(), reached)
}

/// How often the firmware's LWIP_HOOK_IP4_CANFORWARD (tests/lwip22/port.c) has been called.
fn canforward_calls(r: &mut Router) -> u64 {
    let lines = r.ok("ipstats").lines;
    lines.iter().find_map(|l| l.strip_prefix("ipstat canforward ").map(|v| v.parse().unwrap())).unwrap()
}

fn ip_stat(r: &mut Router, name: &str) -> u64 {
    let prefix = format!("ipstat {name} ");
    ip_stats(r).0.iter().find_map(|l| l.strip_prefix(&prefix).map(|v| v.parse().unwrap())).unwrap()
}

/// Injects `packet` on `netif` into both routers: the same packets leave by the same netifs
/// and lwIP counts the same; returns what the hook's router sent and how many packets each
/// router's ip4_forward() forwarded for it.
pub(super) fn both(routers: &mut [Router; 2], netif: &str, packet: &[u8]) -> (Events, u64, u64) {
    both_run(routers, &format!("in {netif} {}", hex(packet)))
}

/// [`both`] for any command that feeds packets (`inpool` for a chain of pool pbufs).
fn both_run(routers: &mut [Router; 2], command: &str) -> (Events, u64, u64) {
    let before = [ip_stats(&mut routers[0]).1, ip_stats(&mut routers[1]).1];
    let sent = routers[0].ok(command);
    let reference = routers[1].ok(command);
    let wire = |e: &Events| e.out.iter().map(|o| (o.netif.clone(), o.bytes.clone())).collect::<Vec<_>>();
    assert_eq!(wire(&sent), wire(&reference), "on the wire, against lwIP's own forwarding");
    let (stats, reached) = ip_stats(&mut routers[0]);
    let (reference_stats, reference_reached) = ip_stats(&mut routers[1]);
    assert_eq!(stats, reference_stats, "lwIP's IP counters");
    (sent, reached - before[0], reference_reached - before[1])
}

/// Forwarded by the hook: one packet out of `out`, lwIP's bytes, ip4_forward() not reached.
fn forwarded_by_the_hook(routers: &mut [Router; 2], netif: &str, packet: &[u8], out: &str) -> Vec<u8> {
    let (sent, reached, reference_reached) = both(routers, netif, packet);
    let p = sent.only(out);
    assert_eq!(p[8], packet[8] - 1, "TTL decremented");
    assert_eq!((reached, reference_reached), (0, 1), "forwarded by the hook, not by ip4_forward()");
    p
}

#[cfg(feature = "portmap")]
fn with_df(mut packet: Vec<u8>) -> Vec<u8> {
    packet[6] |= 0x40;
    refill_ip_checksum(&mut packet);
    packet
}

fn padded(packet: &[u8], pad: usize) -> Vec<u8> {
    let mut p = packet.to_vec();
    p.resize(packet.len() + pad, 0);
    p
}

#[test]
fn packets_no_rule_concerns_leave_as_lwip_forwards_them_without_ip4_forward() {
    for build in BUILDS {
        no_rule_concerns(build);
    }
}

fn no_rule_concerns(build: Build) {
    let mut r = routers_built(false, build);
    let out = forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"query"), "wan");
    assert_eq!(&out[12..20], &udp(HOST_A, 5000, SERVER, 53, b"query")[12..20], "untranslated");
    forwarded_by_the_hook(&mut r, "lan", &tcp(HOST_A, 40000, SERVER, 80, SYN), "wan");
    forwarded_by_the_hook(&mut r, "lan", &echo_request(HOST_A, SERVER, 0x1234, 1), "wan");
    forwarded_by_the_hook(&mut r, "wan", &udp(SERVER, 53, HOST_A, 5000, b"answer"), "lan");
    // A short frame's Ethernet padding is trimmed, as ip4_input() trims it.
    let short = udp(HOST_A, 5000, SERVER, 53, b"");
    let out = forwarded_by_the_hook(&mut r, "lan", &padded(&short, 18), "wan");
    assert_eq!(out.len(), short.len(), "padding trimmed");
    assert_eq!(ip_stat(&mut r[0], "fw"), 5);
    assert_eq!(ip_stat(&mut r[0], "xmit"), 5);
    assert_eq!(ip_stat(&mut r[0], "recv"), 5);
    // To the router's own LAN address: lwIP answers it.
    let (sent, _, _) = both_counted(&mut r, "lan", &echo_request(HOST_A, [192, 168, 1, 1], 7, 1));
    assert_eq!(dst(&sent.only("lan")), HOST_A, "{build:?}: the router's echo reply");
    // Each passed, and counted so, by the shim's quiet tests or else by the core.
    assert_eq!(nat_stats(&mut r[0]), nat_stats(&mut r[1]), "{build:?}: the NAT's counters");
    assert_eq!(nat_stat(&mut r[0], "passed"), 6, "{build:?}: passed");
    // (none by the shim without its quiet tests: the core passes the same packets itself)
    let by_shim = if build == Build::NoShortcuts || !cfg!(feature = "fast-path") { 0 } else { 6 };
    assert_eq!(r[0].shim_passed(), by_shim, "{build:?}: passed by the shim");
}

/// A header with options goes through the hook's own checksum test too (summed in words up to
/// its length, in halfwords or by lwIP): forwarded by the hook when its checksum holds, dropped
/// and counted as lwIP drops it when it does not.
#[test]
fn headers_with_options_are_checked_and_forwarded_as_lwip_forwards_them() {
    // NOPs and an end of options (4 bytes); a 12-byte timestamp option; 40 bytes of NOPs
    let nops = [1u8; 40];
    let options: [&[u8]; 3] = [&[1, 1, 1, 0], &[68, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0], &nops];
    for build in BUILDS {
        let mut r = routers_built(false, build);
        for opts in options {
            let good = datagram(HOST_A, SERVER, UDP, Ipv4Fields::DF, opts, &udp_segment(5000, 53, b"options"));
            let out = forwarded_by_the_hook(&mut r, "lan", &good, "wan");
            assert_eq!(out.len(), good.len(), "{build:?}: the whole datagram, options and all");
            for flip in [10, 19 + opts.len()] {
                // (a bit of the checksum, then one of the last option word: summed too)
                let mut bad = good.clone();
                bad[flip] ^= 0x01;
                let (sent, reached, _) = both(&mut r, "lan", &bad);
                assert!(sent.out.is_empty() && reached == 0, "{build:?}: dropped, {bad:02x?}");
            }
        }
    }
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn translated_packets_leave_as_lwip_forwards_them_without_ip4_forward() {
    for build in [Build::Words, Build::NoCanforwardHook, Build::NoShortcuts] {
        translated_packets(build);
    }
}

#[cfg(feature = "portmap")]
fn translated_packets(build: Build) {
    let mut r = routers_built(true, build);
    let out = forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"query"), "wan");
    assert_eq!(src(&out), WAN_ADDR);
    let back = forwarded_by_the_hook(&mut r, "wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer"), "lan");
    assert_eq!((dst(&back), dport(&back)), (HOST_A, 5000));
    let syn = forwarded_by_the_hook(&mut r, "lan", &tcp(HOST_A, 40000, SERVER, 80, SYN), "wan");
    forwarded_by_the_hook(&mut r, "wan", &tcp(SERVER, 80, WAN_ADDR, sport(&syn), SYN | ACK), "lan");
    let ping = forwarded_by_the_hook(&mut r, "lan", &echo_request(HOST_A, SERVER, 0x1234, 1), "wan");
    forwarded_by_the_hook(&mut r, "wan", &echo_reply(SERVER, WAN_ADDR, icmp_ident(&ping), 1), "lan");
    // Padded inbound frame of an existing mapping: trimmed too.
    let answer = udp(SERVER, 53, WAN_ADDR, sport(&out), b"");
    let back = forwarded_by_the_hook(&mut r, "wan", &padded(&answer, 18), "lan");
    assert_eq!(back.len(), answer.len());
    // Hairpinned (built with `hairpin`): routed anew to its translated destination, back out
    // of the LAN.
    if cfg!(feature = "hairpin") {
        for router in &mut r {
            router.ok(&format!("portmap 17 {WAN} 5353 192.168.1.11 53"));
        }
        let query = forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 7001, WAN_ADDR, 5353, b"query"), "lan");
        assert_eq!((src(&query), dst(&query)), (WAN_ADDR, HOST_B));
    }
    assert_eq!(ip_stat(&mut r[0], "fw"), if cfg!(feature = "hairpin") { 8 } else { 7 });
}

#[test]
fn a_packet_the_hook_does_not_forward_takes_lwips_way_with_its_answers_and_counts() {
    for rule in [false, true] {
        let mut r = routers(rule);
        // TTL 1: Time Exceeded to the sender (lwIP's quotes the header with the TTL it
        // decremented to 0 and the checksum before: compared with the reference, not checked).
        let mut p = udp(HOST_A, 5000, SERVER, 53, b"ttl");
        set_ttl(&mut p, 1);
        let (sent, _, _) = both(&mut r, "lan", &p);
        sent.nothing_on("wan");
        let answers = sent.on("lan");
        assert_eq!((answers.len(), answers[0][20]), (1, 11), "rule {rule}: Time Exceeded");

        // Over the WAN's MTU: fragmented, or Fragmentation Needed with DF.
        for router in &mut r {
            router.ok("mtu wan 576");
        }
        let df = udp(HOST_A, 5001, SERVER, 53, &[7; 1000]);
        let mut big = df.clone();
        big[6] &= !0x40;
        refill_ip_checksum(&mut big);
        let (sent, _, _) = both(&mut r, "lan", &big);
        assert!(sent.on("wan").len() >= 2, "rule {rule}: fragmented");
        let (sent, _, _) = both(&mut r, "lan", &df);
        sent.nothing_on("wan");
        assert_eq!(&sent.only("lan")[20..22], &[3, 4], "rule {rule}: Fragmentation Needed");
    }

    for build in BUILDS {
        bad_headers_are_lwips_to_drop(build);
    }
}

/// Where no rule concerns the packet, the hook decided it without looking at its header
/// checksum and lengths: lwIP still drops and counts what is wrong with them. A library without
/// `fast-path` keeps no facts for that decision: its pipeline judges every packet the hook
/// routes, and drops and counts a bad header itself (lwIP then counts nothing), and the hook
/// drops every packet from a broadcast address of one of the router's netifs (RFC 1812 5.3.7).
fn bad_headers_are_lwips_to_drop(build: Build) {
    let facts = cfg!(feature = "fast-path");
    let mut r = routers_built(false, build);
    let mut bad_sum = udp(HOST_A, 5000, SERVER, 53, b"sum");
    bad_sum[10] ^= 0x01;
    let drops = r[0].drops();
    let (sent, reached, _) = both(&mut r, "lan", &bad_sum);
    assert!(sent.out.is_empty() && reached == 0);
    let by_lwip = u64::from(facts);
    assert_eq!((ip_stat(&mut r[0], "chkerr"), ip_stat(&mut r[0], "drop")), (by_lwip, by_lwip));
    assert_eq!(r[0].drops() - drops, 1 - by_lwip, "{build:?}: the NAT's drops");

    let mut too_long = udp(HOST_A, 5000, SERVER, 53, b"len");
    too_long[3] += 4;
    refill_ip_checksum(&mut too_long);
    let mut short_header = udp(HOST_A, 5000, SERVER, 53, b"ihl");
    short_header[0] = 0x44;
    refill_ip_checksum(&mut short_header);
    let drops = r[0].drops();
    for p in [&too_long, &short_header] {
        let (sent, reached, _) = both(&mut r, "lan", p);
        assert!(sent.out.is_empty() && reached == 0);
    }
    assert_eq!((ip_stat(&mut r[0], "lenerr"), ip_stat(&mut r[0], "drop")), (2 * by_lwip, 3 * by_lwip));
    assert_eq!(r[0].drops() - drops, 2 - 2 * by_lwip, "{build:?}: the NAT's drops");

    // A source that is the LAN's broadcast address (RFC 1122 3.2.1.3), and a packet to the
    // WAN's broadcast address: neither is forwarded, and the NAT counts them as lwIP's router.
    for p in [udp([192, 168, 1, 255], 5000, SERVER, 53, b"b"), udp(HOST_A, 5000, [10, 0, 0, 255], 53, b"b")] {
        let (sent, reached, _) = both_counted(&mut r, "lan", &p);
        sent.nothing_on("wan");
        assert_eq!(reached, 0);
    }
    assert_eq!(ip_stat(&mut r[0], "fw"), 0);
    // From the WAN's broadcast address, in on the LAN, where no rule concerns it: ip4_input()
    // looks at the input netif's broadcast only, so lwIP forwards it, and so does every build
    // with the facts; without them the hook drops it, as a router should (RFC 1812 5.3.7).
    let (sent, _, _) = both_counted(&mut r, "lan", &udp([10, 0, 0, 255], 5000, SERVER, 53, b"b"));
    if facts {
        assert_eq!(src(&sent.only("wan")), [10, 0, 0, 255], "{build:?}: forwarded as lwIP forwards it");
    } else {
        assert!(sent.out.is_empty(), "{build:?}: dropped");
    }
    // The same source back out of the LAN: a route the hook's tests leave to the NAT, whose
    // broadcast-source drop then takes it, in every build.
    let (sent, _, _) = both_counted(&mut r, "lan", &udp([10, 0, 0, 255], 5000, [192, 168, 1, 99], 53, b"b"));
    assert!(sent.out.is_empty(), "{build:?}: dropped");
}

/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn a_port_forward_to_the_routers_own_address_is_delivered_not_forwarded_whatever_its_size() {
    let mut r = routers(true);
    for router in &mut r {
        router.ok("udp_echo 53");
        router.ok(&format!("portmap 17 {WAN} 5353 192.168.1.1 53"));
        // A netif with a smaller MTU than the LAN's: the hook keeps the header of an inbound
        // DF datagram larger than it and routes the translated datagram itself.
        router.ok("mtu wan 576");
    }
    for size in [10, 1000] {
        let (sent, reached, _) = both(&mut r, "wan", &udp(SERVER, 4000, WAN_ADDR, 5353, &vec![1; size]));
        assert_eq!(reached, 0);
        for p in sent.on("lan") {
            assert_ne!(dst(&p), [192, 168, 1, 1], "{size} bytes: forwarded to the router's own address");
        }
    }
}

#[test]
fn chained_and_padded_frames_leave_as_lwip_forwards_them() {
    for rule in [false, true] {
        let mut r = routers(rule);
        let packet = padded(&udp(HOST_A, 5000, SERVER, 53, &[9; 100]), 10);
        // 16-byte pbufs: the IP header does not fit in the first, lwIP drops it (ip.lenerr).
        for size in [16, 20, 28, 64] {
            let (sent, reached, _) = both_run(&mut r, &format!("inpool lan {size} {}", hex(&packet)));
            if size >= 20 {
                let out = sent.only("wan");
                assert_eq!(out.len(), packet.len() - 10, "rule {rule}, {size}-byte pbufs: padding trimmed");
                assert_eq!(reached, 0, "rule {rule}, {size}-byte pbufs: forwarded by the hook");
            } else {
                assert!(sent.out.is_empty());
            }
        }
    }
}

/// lwIP alone counts a packet it has no route for once in `ip.rterr` (ip4_route()) and asks the
/// canforward hook once (ip4_forward(), before the route): the hook's own route lookups must
/// count nothing more, whether it passed, translated or port-forwarded the packet.
/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn a_packet_with_no_route_is_counted_and_asked_about_once_as_lwip_does() {
    for rule in [false, true] {
        // the hook's forwarding (0), then lwIP's own (1, LWIP_SNAT_FORWARD=0)
        for (which, hook) in routers(rule).iter_mut().enumerate() {
            no_route_counted_once(rule, which, hook);
        }
    }
}

#[cfg(feature = "portmap")]
fn no_route_counted_once(rule: bool, which: usize, hook: &mut Router) {
    hook.ok("nodefault");
    hook.ok(&format!("portmap 17 {WAN} 5353 172.16.0.5 53"));
    hook.ok("mtu wan 576");
    let unroutable = [
        ("lan", udp(HOST_A, 5000, SERVER, 53, b"out")),
        ("lan", tcp(HOST_A, 40000, SERVER, 80, SYN)),
        // port-forwarded to a host no netif leads to: routed anew after translation
        ("wan", udp(SERVER, 4000, WAN_ADDR, 5353, b"in")),
        // the same with DF and larger than the WAN's MTU (the too-big check routes it)
        ("wan", with_df(udp(SERVER, 4000, WAN_ADDR, 5353, &[3; 1000]))),
    ];
    for (i, (netif, p)) in unroutable.iter().enumerate() {
        let (before, asked) = (ip_stat(hook, "rterr"), canforward_calls(hook));
        let sent = hook.ok(&format!("in {netif} {}", hex(p)));
        let at = format!("router {which}, rule {rule}, packet {i}");
        assert!(sent.out.is_empty(), "{at}: sent {:?}", sent.out.len());
        assert_eq!(ip_stat(hook, "rterr") - before, 1, "{at}: ip.rterr");
        if which == 0 {
            // (where lwIP forwards, it asks the canforward hook after the hook did)
            assert_eq!(canforward_calls(hook) - asked, 1, "{at}: canforward hook calls");
        }
    }
}

/// lwIP asks the firmware's LWIP_HOOK_IP4_CANFORWARD once for each packet it tries to forward,
/// whatever comes of it: the hook, which asks it before the NAT decides, must not leave the
/// packet to lwIP to be asked again.
#[test]
fn the_canforward_hook_is_asked_once_per_packet_as_lwip_asks_it() {
    for rule in [false, true] {
        let mut r = routers(rule);
        for router in &mut r {
            router.ok("mtu wan 576");
        }
        let mut ttl1 = udp(HOST_A, 5002, SERVER, 53, b"ttl");
        set_ttl(&mut ttl1, 1);
        let mut big = udp(HOST_A, 5001, SERVER, 53, &[7; 1000]);
        big[6] &= !0x40;
        refill_ip_checksum(&mut big);
        let packets = [
            ("forwarded", udp(HOST_A, 5000, SERVER, 53, b"q")),
            ("class E, forwarded by the firmware's rule", udp(HOST_A, 5000, [240, 0, 0, 5], 53, b"q")),
            ("loopback, refused", udp(HOST_A, 5000, [127, 0, 0, 1], 53, b"q")),
            ("back out of the LAN", udp(HOST_A, 5000, [192, 168, 1, 99], 53, b"q")),
            ("TTL 1", ttl1),
            ("fragmented", big),
        ];
        for (what, p) in &packets {
            let asked = [canforward_calls(&mut r[0]), canforward_calls(&mut r[1])];
            both(&mut r, "lan", p);
            assert_eq!(canforward_calls(&mut r[0]) - asked[0], 1, "rule {rule}, {what}: canforward hook calls");
        }
    }
}

/// lwIP 2.2's `ip4_forward()` zeroes the IP, UDP, TCP and ICMP checksums of every packet it
/// forwards whenever `CHECKSUM_GEN_*` is true, which is lwIP's default: with stock options a
/// packet leaves with a header checksum of 0 and no receiver takes it. The hook's forwarding
/// keeps the checksums it wrote, translated or not. (lwIP itself is built once for these tests;
/// `LWIP22_STOCK_CHECKSUMS` gives the hook the stock options, and only `ip4_forward()`, which
/// the hook replaces, reads them in C.)
#[test]
fn with_lwips_stock_checksum_options_forwarded_packets_keep_valid_checksums() {
    let exe = lwip22_build::router_with("router_stock_checksums", &[], &["LWIP22_STOCK_CHECKSUMS"]);
    for rule in [false, true] {
        let mut r = Router::spawn(&exe);
        r.ok("start");
        if rule {
            r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
        }
        let mut forwarded = |netif: &str, packet: &[u8], out: &str| {
            let p = super::forwarded(&r.ok(&format!("in {netif} {}", hex(packet))), out);
            assert_checksums(&p);
            p
        };
        let query = forwarded("lan", &udp(HOST_A, 5000, SERVER, 53, b"query"), "wan");
        forwarded("wan", &udp(SERVER, 53, src(&query), sport(&query), b"answer"), "lan");
        let syn = forwarded("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN), "wan");
        forwarded("wan", &tcp(SERVER, 80, src(&syn), sport(&syn), SYN | ACK), "lan");
        let ping = forwarded("lan", &echo_request(HOST_A, SERVER, 0x1234, 1), "wan");
        forwarded("wan", &echo_reply(SERVER, src(&ping), icmp_ident(&ping), 1), "lan");
        // Fragments in (reassembled and translated with the rule, else forwarded as they are),
        // and a datagram over the WAN's MTU (fragmented on the way out): what leaves verifies.
        let whole = udp(HOST_A, 5002, SERVER, 53, &[9; 1000]);
        let mut sent = Vec::new();
        for piece in fragments_of(&whole, 512) {
            sent.extend(r.ok(&format!("in lan {}", hex(&piece))).on("wan"));
        }
        r.ok("mtu wan 576");
        let mut big = udp(HOST_A, 5003, SERVER, 53, &[7; 1000]);
        big[6] &= !0x40;
        refill_ip_checksum(&mut big);
        let fragmented = r.ok(&format!("in lan {}", hex(&big))).on("wan");
        let mut checked = vec![("fragmented", fragmented)];
        if rule && !cfg!(feature = "reassembly") {
            // fragments on a NAT path are dropped without reassembly
            assert!(sent.is_empty(), "rule {rule}: fragments left: {sent:?}");
        } else {
            checked.push(("reassembled", sent));
        }
        for (what, out) in checked {
            assert!(!out.is_empty(), "rule {rule}: {what}: nothing sent");
            let datagram = join_fragments(&out);
            assert_checksums(&datagram);
            assert_ne!(&datagram[26..28], [0, 0], "rule {rule}: {what}: UDP checksum zeroed");
        }
    }
}

/// The NAT's own counters (`stat` lines).
fn nat_stats(r: &mut Router) -> Vec<String> {
    r.ok("stats").lines
}

/// [`both`], and the NAT counts the same in both routers (its drops, `passed`, mappings).
fn both_counted(routers: &mut [Router; 2], netif: &str, packet: &[u8]) -> (Events, u64, u64) {
    let result = both(routers, netif, packet);
    assert_eq!(nat_stats(&mut routers[0]), nat_stats(&mut routers[1]), "the NAT's counters");
    result
}

fn nat_stat(r: &mut Router, name: &str) -> u64 {
    let prefix = format!("stat {name} ");
    nat_stats(r).iter().find_map(|l| l.strip_prefix(&prefix).map(|v| v.parse().unwrap())).unwrap()
}

/// A martian source (0/8, 127/8, 224/3) is the NAT's to drop and count, whether or not a rule
/// concerns the route to its destination, and also when that route is remembered from an
/// ordinary flow: nothing leaves, lwIP counts what it counts alone.
#[test]
fn a_martian_source_is_dropped_by_the_nat_whatever_its_route() {
    for build in [Build::Words, Build::NoCanforwardHook, Build::NoShortcuts] {
        for rule in [false, true] {
            let mut r = routers_built(rule, build);
            forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"first"), "wan");
            for martian in [[127, 0, 0, 1], [0, 1, 2, 3], [224, 0, 0, 9], [240, 0, 0, 1]] {
                let at = format!("{build:?}, rule {rule}, from {martian:?}");
                let (drops, passed) = (r[0].drops(), nat_stat(&mut r[0], "passed"));
                let (sent, reached, _) = both_counted(&mut r, "lan", &udp(martian, 5000, SERVER, 53, b"m"));
                assert!(sent.out.is_empty() && reached == 0, "{at}: forwarded");
                assert_eq!(r[0].drops() - drops, 1, "{at}: the NAT's drops");
                assert_eq!(nat_stat(&mut r[0], "passed"), passed, "{at}: passed");
            }
        }
    }
}

/// What `ip4_canforward()` refuses (net 0, class E) or the firmware's canforward hook decides,
/// routed by the hook's own lookup (no remembered route stands for these destinations), with
/// and without a rule: lwIP's answer, the NAT's counts as in a router where lwIP forwards. One
/// count differs without the shortcuts: the shim's quiet test does not look for net 0, so where
/// no rule concerns the route it passes such a packet (counted in `passed`) and lwIP then refuses
/// it; without that test the hook leaves it to lwIP's refusal uncounted, as it leaves every
/// other destination lwIP refuses (multicast, loopback, link-local) with or without the test.
#[test]
fn net_zero_and_class_e_destinations_take_lwips_answer_and_the_nats_counts() {
    for build in BUILDS {
        for rule in [false, true] {
            let mut r = routers_built(rule, build);
            forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"first"), "wan");
            // (lwIP's own objects are built once, with the canforward hook: without it in the
            // shim alone, lwIP would still forward class E where the hook does not)
            let dests: &[[u8; 4]] = match build {
                Build::NoCanforwardHook => &[[0, 1, 2, 3]],
                _ => &[[0, 1, 2, 3], [240, 0, 0, 5], [250, 1, 2, 3]],
            };
            for &dest in dests {
                let at = format!("{build:?}, rule {rule}, to {dest:?}");
                let mappings = nat_stat(&mut r[0], "udp_in_use");
                let passed = [nat_stat(&mut r[0], "passed"), nat_stat(&mut r[1], "passed")];
                let (sent, _, _) = both(&mut r, "lan", &udp(HOST_A, 5001, dest, 53, b"q"));
                let but_passed = |r: &mut Router| {
                    nat_stats(r).into_iter().filter(|l| !l.starts_with("stat passed ")).collect::<Vec<_>>()
                };
                assert_eq!(but_passed(&mut r[0]), but_passed(&mut r[1]), "{at}: the NAT's counters");
                // (only the reference's quiet test, where the library keeps its facts)
                let quietly_passed =
                    u64::from(cfg!(feature = "fast-path") && build == Build::NoShortcuts && !rule && dest[0] == 0);
                assert_eq!(
                    nat_stat(&mut r[0], "passed") - passed[0] + quietly_passed,
                    nat_stat(&mut r[1], "passed") - passed[1],
                    "{at}: passed"
                );
                let forwarded = !sent.on("wan").is_empty();
                // (tests/lwip22/port.c's canforward hook forwards class E; lwIP alone never)
                let lwip_forwards = dest[0] >= 240;
                assert_eq!(forwarded, lwip_forwards, "{at}: forwarded");
                assert_eq!(
                    nat_stat(&mut r[0], "udp_in_use") - mappings,
                    u64::from(rule && lwip_forwards),
                    "{at}: mappings"
                );
            }
        }
    }
}

/// An inbound datagram with DF set that its translation makes larger than the inside netif's
/// MTU gets Fragmentation Needed with that MTU, quoting the datagram exactly as it arrived (the
/// external address and port, the checksums as sent, the IP options): TCP, UDP and ICMP echo,
/// with and without IP options, in one pbuf, in a chain whose first pbuf holds the headers and
/// in one whose first pbuf does not. The hook's forwarding answers as the hook answers in front
/// of lwIP's own forwarding, bytes and counters, and neither reaches ip4_forward().
#[test]
fn inbound_df_too_big_for_the_lan_is_answered_quoting_it_as_it_arrived() {
    // (the halfword build keeps the words as a core without unaligned loads does)
    for build in [Build::Words, Build::Halfwords] {
        inbound_df_too_big_quoted_as_it_arrived(build);
    }
}

fn inbound_df_too_big_quoted_as_it_arrived(build: Build) {
    let mut r = routers_built(true, build);
    let udp_out = forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"query"), "wan");
    let syn = forwarded_by_the_hook(&mut r, "lan", &tcp(HOST_A, 40000, SERVER, 80, SYN), "wan");
    forwarded_by_the_hook(&mut r, "wan", &tcp(SERVER, 80, WAN_ADDR, sport(&syn), SYN | ACK), "lan");
    let ping = forwarded_by_the_hook(&mut r, "lan", &echo_request(HOST_A, SERVER, 0x1234, 1), "wan");
    for router in &mut r {
        router.ok("mtu lan 576");
    }
    let body = [5u8; 1000];
    let tcp_fields = TcpFields { sport: 80, dport: sport(&syn), seq: 1001, ack: 2000, flags: ACK, window: 64240 };
    let inbound = [
        ("udp", UDP, udp_segment(53, sport(&udp_out), &body)),
        ("tcp", TCP, tcp_segment(tcp_fields, &[], &body)),
        ("echo", ICMP, icmp_message(0, 0, ident_seq(icmp_ident(&ping), 1), &body)),
    ];
    // no options; NOPs and an end of options (4 bytes); a 12-byte timestamp option
    let options: [&[u8]; 3] = [&[], &[1, 1, 1, 0], &[68, 12, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0]];
    for (what, protocol, l4) in &inbound {
        for opts in options {
            let reply = datagram(SERVER, WAN_ADDR, *protocol, Ipv4Fields::DF, opts, l4);
            let quote_len = usize::from(reply[0] & 0xF) * 4 + 8;
            for how in [
                format!("in wan {}", hex(&reply)),
                format!("inpool wan 64 {}", hex(&reply)),
                format!("inpool wan {} {}", quote_len - 4, hex(&reply)),
            ] {
                let at = format!("{build:?}, {what}, {} option bytes, `{}`", opts.len(), &how[..12]);
                let (sent, reached, reference_reached) = both_run(&mut r, &how);
                sent.nothing_on("lan");
                let err = sent.only("wan");
                assert_eq!(&err[20..22], &[3, 4], "{at}: Fragmentation Needed");
                assert_eq!((src(&err), dst(&err)), (WAN_ADDR, SERVER), "{at}");
                assert_eq!(u16::from_be_bytes([err[26], err[27]]), 576, "{at}: the LAN's MTU");
                assert_eq!(quoted(&err), &reply[..quote_len], "{at}: quoted as it arrived");
                assert_checksums(&err);
                assert_eq!((reached, reference_reached), (0, 0), "{at}: answered by the hook");
            }
        }
    }
}

/// Nothing the NAT translates from a source no host sends from (0.0.0.0, multicast, class E,
/// the limited broadcast, a netif's broadcast) leaves otherwise than lwIP's own forwarding lets
/// it: the hook's forwarding leaves out only the source tests the core or the hook made before
/// (the core translates nothing from a martian source but ICMP errors; the hook drops every
/// netif's broadcast source before the core sees the packet). TCP, UDP, an echo reply, an ICMP
/// error about a mapping and a port-forwarded datagram, each from every such source.
/// Needs port forwards (`portmap`).
#[cfg(feature = "portmap")]
#[test]
fn what_is_translated_from_a_source_no_host_sends_from_leaves_as_lwip_lets_it() {
    let mut r = routers(true);
    for router in &mut r {
        router.ok(&format!("portmap 17 {WAN} 5353 192.168.1.11 53"));
    }
    let out = forwarded_by_the_hook(&mut r, "lan", &udp(HOST_A, 5000, SERVER, 53, b"query"), "wan");
    let syn = forwarded_by_the_hook(&mut r, "lan", &tcp(HOST_A, 40000, SERVER, 80, SYN), "wan");
    forwarded_by_the_hook(&mut r, "wan", &tcp(SERVER, 80, WAN_ADDR, sport(&syn), SYN | ACK), "lan");
    let ping = forwarded_by_the_hook(&mut r, "lan", &echo_request(HOST_A, SERVER, 0x1234, 1), "wan");
    let sources =
        [[0, 0, 0, 0], [224, 0, 0, 9], [240, 0, 0, 1], [255, 255, 255, 255], [10, 0, 0, 255], [192, 168, 1, 255]];
    for source in sources {
        let packets = [
            udp(source, 53, WAN_ADDR, sport(&out), b"answer"),
            tcp(source, 80, WAN_ADDR, sport(&syn), ACK),
            echo_reply(source, WAN_ADDR, icmp_ident(&ping), 1),
            icmp_error(source, WAN_ADDR, 3, 3, &out, 28),
            udp(source, 4000, WAN_ADDR, 5353, b"forwarded"),
        ];
        for p in &packets {
            // (both() holds the bytes on the wire and lwIP's counters to lwIP's forwarding)
            let (sent, _, _) = both(&mut r, "wan", p);
            if p[9] != 1 || p[20] == 0 {
                sent.nothing_on("lan");
            }
        }
    }
    // An ordinary server still gets through.
    forwarded_by_the_hook(&mut r, "wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), b"answer"), "lan");
}
