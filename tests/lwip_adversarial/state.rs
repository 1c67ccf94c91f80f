//! A session translates both directions or none, through real lwIP: after its rule is removed,
//! and for a port forward on a router with no rule. Nothing with a private source ever leaves
//! by the WAN.

use crate::common::*;
use crate::driver::{Events, Router};
use crate::RULE_OUTBOUND;

#[cfg(feature = "portmap")]
const WEB: [u8; 4] = [192, 168, 1, 20];

fn router() -> Router {
    let mut r = Router::spawn(&crate::lwip_build::program("router"));
    r.ok("start");
    r
}

/// Every packet out of the WAN carries the WAN address as its source.
fn nothing_private_on_the_wan(events: &Events) {
    for p in events.on("wan") {
        assert_eq!(src(&p), WAN_ADDR, "left by the WAN with source {:?}", src(&p));
    }
}

#[test]
fn after_remove_rule_replies_and_answers_of_a_live_session_stay_translated() {
    let mut r = router();
    let rule = format!("{RULE_OUTBOUND} 0 {WAN}");
    r.ok(&format!("rule {rule}"));
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
    let ext = sport(&out);
    r.ok(&format!("unrule {rule}"));

    let sent = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, ext, b"answer"));
    nothing_private_on_the_wan(&sent);
    let reply = sent.only("lan");
    assert_eq!((dst(&reply), dport(&reply)), (HOST_A, 5000));

    let sent = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"thanks"));
    nothing_private_on_the_wan(&sent);
    let answer = sent.only("wan");
    assert_eq!((src(&answer), sport(&answer)), (WAN_ADDR, ext));
}

/// Needs a port forward (tests/lwip/router.c answers err -110 without).
#[cfg(feature = "portmap")]
#[test]
fn port_forward_without_a_rule_never_answers_with_the_inside_address() {
    let mut r = router();
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.20 80"));
    let sent = r.inject("wan", &tcp(SERVER, 50000, WAN_ADDR, 8080, SYN));
    nothing_private_on_the_wan(&sent);
    let syn = sent.only("lan");
    assert_eq!((dst(&syn), dport(&syn)), (WEB, 80));

    let sent = r.inject("lan", &tcp(WEB, 80, SERVER, 50000, SYN | ACK));
    nothing_private_on_the_wan(&sent);
    let synack = sent.only("wan");
    assert_eq!((src(&synack), sport(&synack)), (WAN_ADDR, 8080));
}

#[cfg(feature = "filtering")]
#[test]
fn filter_tightened_through_the_c_api_shuts_out_a_remote_the_old_filter_let_in() {
    let mut r = router();
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
    r.ok("setcfg udp_filtering=0");
    let ext = sport(&r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan"));
    let stranger = udp(SERVER2, 4000, WAN_ADDR, ext, b"let in");
    assert_eq!(dst(&r.inject("wan", &stranger).only("lan")), HOST_A, "endpoint-independent");

    r.ok("setcfg udp_filtering=2");
    r.inject("wan", &stranger).nothing_on("lan");
    assert_eq!(r.stat("drop_filtered"), 1);
    assert_eq!(r.session_count(), 1, "only the inside host's own session is left");
    let reply = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, ext, b"answer")).only("lan");
    assert_eq!(dst(&reply), HOST_A);
}

#[test]
fn after_remove_rule_a_live_sessions_fragmented_datagram_leaves_translated() {
    let mut r = router();
    let rule = format!("{RULE_OUTBOUND} 0 {WAN}");
    r.ok(&format!("rule {rule}"));
    let ext = sport(&r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan"));
    r.ok(&format!("unrule {rule}"));
    let whole = with_ident(udp(HOST_A, 5000, SERVER, 53, &[0x5a; 64]), 0x77);
    let mut left = Vec::new();
    for (offset, end, more) in [(0, 48, true), (48, 72, false)] {
        let sent = r.inject("lan", &raw_fragment(&whole, offset, end, more));
        nothing_private_on_the_wan(&sent);
        left.extend(sent.on("wan"));
    }
    if !cfg!(feature = "reassembly") {
        // Fragments on a NAT path are dropped and counted.
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(r.stat("drop_fragment"), 2);
        return;
    }
    let out = left.first().expect("the datagram, put together and translated, leaves by the WAN");
    assert_eq!((src(out), sport(out), dst(out)), (WAN_ADDR, ext, SERVER));
    assert_checksums(out);
}
