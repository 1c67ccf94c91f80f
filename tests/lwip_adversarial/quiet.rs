//! What the shim passes without calling the NAT (a packet no rule, session or port forward
//! concerns, decided on the per-netif bits of `lwip_snat_netif_concerns()`), held to what the NAT
//! itself would do with it through real lwIP: answered by the router and counted as passed,
//! but fragments still go by the NAT, a martian source is still dropped, and the router's own
//! address on a netif that is a rule's outside stays guarded. Each test runs with the shim's
//! quiet tests and without them (`LWIP_SNAT_QUIET_PATH=0`), where the core's own test passes
//! and counts the same packets. Both keep to the facts a library with `fast-path` keeps; a
//! library without it (the minimal build) has neither test, and each test runs once there,
//! every packet decided by the core's pipeline.

use crate::common::*;
use crate::driver::Router;
use crate::lwip_build;

/// `lwip_snat_rule.kind` SOURCE: translate everything forwarded from the netif.
const RULE_SOURCE: u8 = 0;
/// The router's address on the LAN.
const LAN_ADDR: [u8; 4] = [192, 168, 1, 1];

fn tcp_flags(p: &[u8]) -> u8 {
    p[usize::from(p[0] & 0xF) * 4 + 13]
}

/// With the shim's quiet tests and without, where the library keeps the facts they read
/// (`fast-path`); without it, once, as the shim builds by default there.
const QUIET: &[bool] = if cfg!(feature = "fast-path") { &[true, false] } else { &[false] };

/// The router program with the shim's quiet tests (`quiet`; the default with `fast-path`), or
/// built with `LWIP_SNAT_QUIET_PATH=0`, where the core makes the same test on everything the
/// hook routes (without `fast-path`, the default build, in which the core's pipeline decides).
fn program(quiet: bool) -> std::path::PathBuf {
    if quiet || !cfg!(feature = "fast-path") {
        lwip_build::program("router")
    } else {
        lwip_build::program_with("router_no_quiet_path", &["tests/lwip/router.c"], &["LWIP_SNAT_QUIET_PATH=0"])
    }
}

fn started(quiet: bool) -> Router {
    let mut r = Router::spawn(&program(quiet));
    r.ok("start");
    r
}

/// [`crate::router`] (the masquerade rule on the WAN), with or without the quiet tests.
fn masquerading(quiet: bool) -> Router {
    crate::masquerading(&program(quiet))
}

#[test]
fn the_routers_own_lan_address_is_answered_and_counted_as_passed() {
    for &quiet in QUIET {
        let mut r = masquerading(quiet);
        r.ok("udp_echo 7");
        for n in 1..=3u64 {
            let sent = r.inject("lan", &udp(HOST_A, 5000, LAN_ADDR, 7, b"echo"));
            sent.nothing_on("wan");
            let echo = sent.only("lan");
            assert_eq!((src(&echo), sport(&echo), dst(&echo), dport(&echo)), (LAN_ADDR, 7, HOST_A, 5000));
            assert_eq!(r.stat("passed"), n, "quiet path {quiet}: the shim's passes are the NAT's `passed`");
        }
        // (passed by the shim's own test, or by the core's without it)
        assert_eq!(r.shim_passed(), if quiet { 3 } else { 0 }, "quiet path {quiet}: passed by the shim");
        assert_eq!(r.session_count(), 0);
    }
}

#[test]
fn fragments_to_the_routers_lan_address_still_go_by_the_nat() {
    for &quiet in QUIET {
        let mut r = masquerading(quiet);
        r.ok("udp_echo 7");
        let whole = with_ident(udp(HOST_A, 5000, LAN_ADDR, 7, &[0x5a; 64]), 0x99);
        let mut echoed = Vec::new();
        for (offset, end, more) in [(0, 48, true), (48, 72, false)] {
            let sent = r.inject("lan", &raw_fragment(&whole, offset, end, more));
            sent.nothing_on("wan");
            echoed.extend(sent.on("lan"));
        }
        let echo = echoed.first().expect("the datagram, put together, reaches the router's socket");
        assert_eq!((src(echo), dst(echo), dport(echo)), (LAN_ADDR, HOST_A, 5000));
        // The NAT looked at the first fragment (it may hold the rest of a datagram) and left the
        // datagram to lwIP's reassembly: not passed on the bits.
        if cfg!(feature = "reassembly") {
            assert_eq!(r.stat("reass_released"), 1, "quiet path {quiet}: the fragments were the NAT's to look at");
        } else {
            // Nothing to hold: the core passes both fragments to lwIP, the shim's test passes none.
            assert_eq!((r.stat("passed"), r.shim_passed()), (2, 0), "quiet path {quiet}: the NAT's to look at");
        }
    }
}

#[test]
fn with_no_rule_a_martian_source_is_still_dropped_and_an_ordinary_one_forwarded_untouched() {
    for &quiet in QUIET {
        let mut r = started(quiet);
        for martian in [[127, 0, 0, 1], [0, 1, 2, 3], [224, 0, 0, 9]] {
            r.inject("lan", &udp(martian, 5000, SERVER, 53, b"m")).nothing_on("wan");
        }
        let p = udp(HOST_A, 5000, SERVER, 53, b"q");
        let out = r.inject("lan", &p).only("wan");
        assert_eq!((src(&out), sport(&out), dst(&out)), (HOST_A, 5000, SERVER), "forwarded as it is");
        assert_eq!(r.stat("passed"), 1, "quiet path {quiet}");
    }
}

#[test]
fn the_routers_own_address_on_an_outside_netif_no_rule_names_stays_guarded() {
    for &quiet in QUIET {
        // Translate what is forwarded from the WAN: the LAN is that rule's outside, though no
        // rule names it. An unsolicited SYN to nothing there gets no RST (RFC 5382 REQ-4)...
        let mut r = started(quiet);
        r.ok(&format!("rule {RULE_SOURCE} {WAN} 0"));
        let sent = r.inject("lan", &tcp(HOST_A, 5555, LAN_ADDR, 4444, SYN));
        sent.nothing_on("lan");
        sent.nothing_on("wan");
        // ... while the router's own listener there answers.
        r.ok("tcp_listen 80");
        let synack = r.inject("lan", &tcp(HOST_A, 5556, LAN_ADDR, 80, SYN)).only("lan");
        assert_eq!(tcp_flags(&synack) & (SYN | ACK), SYN | ACK, "quiet path {quiet}");
    }
}

/// Needs a port forward (tests/lwip/router.c answers err -110 without).
#[cfg(feature = "portmap")]
#[test]
fn a_lan_packet_to_the_wan_address_of_a_port_forward_goes_by_the_nat_without_any_rule() {
    for &quiet in QUIET {
        // No rule names the LAN or the WAN, but a port forward on the WAN address: a LAN host
        // that sends to it is the NAT's to hairpin or refuse, never lwIP's to take as its own.
        let mut r = started(quiet);
        r.ok(&format!("portmap 17 {WAN} 5353 192.168.1.11 53"));
        r.inject("lan", &udp(HOST_A, 5000, WAN_ADDR, 5353, b"to the forward")).nothing_on("wan");
        let counts = (r.stat("translated_in"), r.stat("passed"));
        assert_eq!(counts, (1, 0), "quiet path {quiet}: translated toward host B, not passed");
        assert_eq!(r.session_count(), 1);
    }
}
