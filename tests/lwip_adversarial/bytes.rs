//! No wrong bytes and no private address on the WAN, through real lwIP where the shim takes
//! part: no ICMP error about an ICMP error, Time Exceeded about a translated ICMP reply quotes
//! the external address, and the shim's MTU clamps a port-forwarded SYN from the first packet.

use crate::common::*;
use crate::router;

#[test]
fn inbound_dont_fragment_icmp_error_too_big_for_the_lan_gets_no_icmp_error() {
    let mut r = router();
    r.ok("mtu lan 576");
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, &[1; 1000])).only("wan");
    // The server's Port Unreachable quotes all of it, with DF set: too big for the LAN.
    let mut err = icmp_error(SERVER, WAN_ADDR, 3, 3, &out, out.len());
    set_df(&mut err);
    let sent = r.inject("wan", &err);
    sent.nothing_on("wan");
    sent.nothing_on("lan");
}

#[test]
fn time_exceeded_about_a_translated_echo_reply_quotes_the_external_address() {
    let mut r = router();
    let ping = r.inject("lan", &echo_request(HOST_A, SERVER, 0x1234, 1)).only("wan");
    let mut pong = echo_reply(SERVER, WAN_ADDR, icmp_ident(&ping), 1);
    set_ttl(&mut pong, 1);
    let sent = r.inject("wan", &pong);
    sent.nothing_on("lan");
    let err = sent.only("wan");
    assert_eq!((err[20], err[21]), (11, 0));
    assert_eq!((src(&err), dst(&err)), (WAN_ADDR, SERVER));
    assert_eq!(&quoted(&err)[..28], &pong[..28], "the reply as it arrived: no inside address");
}

/// Needs a port forward and the MSS clamp (tests/lwip/router.c answers err -110 without).
#[cfg(all(feature = "portmap", feature = "mss-clamp"))]
#[test]
fn port_forwarded_syn_is_clamped_to_the_wan_mtu_from_the_first_packet_after_boot() {
    let mut r = router();
    r.ok("mtu wan 1492");
    r.ok(&format!("portmap 6 {WAN} 8080 192.168.1.11 80"));
    let syn = syn_with_mss(SERVER, 5555, WAN_ADDR, 8080, false, 1460);
    let inside = r.inject("wan", &syn).only("lan");
    assert_eq!((dst(&inside), dport(&inside)), (HOST_B, 80));
    assert_eq!(mss_options(&inside), [1452], "1492 - 40");
    assert_eq!(r.stat("mss_clamped"), 1);
}

#[test]
fn outbound_dont_fragment_icmp_error_too_big_for_the_wan_gets_no_icmp_error() {
    let mut r = router();
    r.ok("mtu wan 576");
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"q")).only("wan");
    let reply = r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&out), &[2; 1000])).only("lan");
    // A's Port Unreachable quotes all of the reply, with DF set: too big for the WAN.
    let mut err = icmp_error(HOST_A, SERVER, 3, 3, &reply, reply.len());
    set_df(&mut err);
    let sent = r.inject("lan", &err);
    sent.nothing_on("wan");
    sent.nothing_on("lan");
    assert_eq!(r.stat("drop_icmp_error_too_big"), 1);
}
