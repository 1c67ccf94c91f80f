//! The router's own services through real lwIP: the shim's port check answers from lwIP's pcb
//! lists, so inside hosts never get a port a router pcb holds, the router's DHCP, DNS and
//! servers keep working while LAN hosts use the same port numbers, and an unsolicited SYN to
//! nothing gets no RST (RFC 5382 REQ-4) while one to the router's listener gets its SYN-ACK.

use crate::common::*;
use crate::driver::{hex, Router};
use crate::router;

/// lwIP contrib ping's identifier, the shim's default `LWIP_SNAT_ROUTER_ICMP_ID`.
const ROUTER_PING_ID: u16 = 0xAFAF;

fn tcp_flags(p: &[u8]) -> u8 {
    p[usize::from(p[0] & 0xF) * 4 + 13]
}

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// A datagram from `remote:rport` to the WAN address's `port` reaches the router's own socket
/// and nothing goes inside.
fn router_receives_udp(r: &mut Router, remote: [u8; 4], rport: u16, port: u16, payload: &[u8]) {
    let sent = r.inject("wan", &udp(remote, rport, WAN_ADDR, port, payload));
    sent.nothing_on("lan");
    assert_eq!(sent.lines, [format!("udp_rx {} {rport} {}", ip(remote), hex(payload))]);
}

/// A SYN from `remote:rport` to the WAN address's `port` gets the SYN-ACK of the router's own
/// listener and nothing goes inside.
fn router_answers_syn(r: &mut Router, remote: [u8; 4], rport: u16, port: u16) {
    let sent = r.inject("wan", &tcp(remote, rport, WAN_ADDR, port, SYN));
    sent.nothing_on("lan");
    let synack = sent.only("wan");
    assert_eq!((dst(&synack), sport(&synack), dport(&synack)), (remote, port, rport));
    assert_eq!(tcp_flags(&synack) & (SYN | ACK), SYN | ACK, "lwIP's own listener answers");
}

#[test]
fn dhcp_renew_reaches_the_router_while_a_lan_host_sends_from_port_68() {
    let mut r = router();
    // The router's DHCP client socket renews: it leaves from 68 untranslated.
    let renew = r.ok(&format!("udp_send 68 {} 67 {}", ip(SERVER), hex(b"request"))).only("wan");
    assert_eq!((src(&renew), sport(&renew)), (WAN_ADDR, 68));
    // A LAN host's DHCP-like traffic to the same server gets another external port.
    let lan = r.inject("lan", &udp(HOST_A, 68, SERVER, 67, b"lan request")).only("wan");
    let ext = sport(&lan);
    assert_ne!(ext, 68);
    assert!(ext < 1024 && ext.is_multiple_of(2), "same class and parity: {ext}");
    // The server's ACK to port 68 reaches the router's socket, not the LAN host.
    router_receives_udp(&mut r, SERVER, 67, 68, b"ack");
    // And the LAN host's reply still reaches the LAN host.
    let reply = r.inject("wan", &udp(SERVER, 67, WAN_ADDR, ext, b"lan ack")).only("lan");
    assert_eq!((dst(&reply), dport(&reply)), (HOST_A, 68));
}

#[test]
fn dns_answer_to_the_routers_socket_is_not_taken_by_a_lan_mapping_on_its_port() {
    let mut r = router();
    r.ok(&format!("udp_send 5353 {} 53 {}", ip(SERVER), hex(b"router query"))).only("wan");
    let lan = r.inject("lan", &udp(HOST_A, 5353, SERVER, 53, b"lan query")).only("wan");
    assert_ne!(sport(&lan), 5353, "the router's DNS socket holds 5353");
    router_receives_udp(&mut r, SERVER, 53, 5353, b"answer");
}

#[test]
fn lan_host_on_the_routers_listening_port_gets_another_and_the_listener_keeps_answering() {
    let mut r = router();
    r.ok("tcp_listen 8080");
    let syn = r.inject("lan", &tcp(HOST_A, 8080, SERVER, 80, SYN)).only("wan");
    assert_ne!(sport(&syn), 8080);
    router_answers_syn(&mut r, SERVER2, 4000, 8080);
}

/// Needs port forwards (tests/lwip/router.c answers err -110 without).
#[cfg(feature = "portmap")]
#[test]
fn portmap_of_the_routers_listening_port_is_refused() {
    let mut r = router();
    r.ok("tcp_listen 22");
    r.err(&format!("portmap 6 {WAN} 22 {} 22", ip(HOST_A)), -11);
    r.ok(&format!("portmap 6 {WAN} 2222 {} 22", ip(HOST_A)));
}

/// The port check reads each field of a pcb on UDP's list and on TCP's bound and listening
/// lists: a pcb bound to the WAN address, or to any address, on the WAN or on no netif, holds
/// its port; one bound to the LAN address, or to the LAN alone, or on another port does not.
/// Needs port forwards (tests/lwip/router.c answers err -110 without).
#[cfg(feature = "portmap")]
#[test]
fn portmap_is_refused_for_a_port_a_router_pcb_holds_on_the_wan_address_alone() {
    let mut r = router();
    let lan_addr = "192.168.1.1";
    let mut port = 1000;
    for proto in ["tcp", "udp"] {
        let number = if proto == "tcp" { 6 } else { 17 };
        for (addr, netif, held) in [
            (ip(WAN_ADDR).as_str(), "", true),
            (ip(WAN_ADDR).as_str(), "wan", true),
            (ip(WAN_ADDR).as_str(), "lan", false),
            ("0.0.0.0", "", true),
            ("0.0.0.0", "wan", true),
            ("0.0.0.0", "lan", false),
            (lan_addr, "", false),
        ] {
            port += 1;
            r.ok(&format!("bind {proto} {addr} {port} {netif}"));
            let forward = format!("portmap {number} {WAN} {port} {} 22", ip(HOST_A));
            if held {
                r.err(&forward, -11);
            } else {
                r.ok(&forward);
                r.ok(&format!("un{forward}"));
            }
            let other = format!("portmap {number} {WAN} {} {} 22", port + 500, ip(HOST_A));
            r.ok(&other);
            r.ok(&format!("un{other}"));
        }
    }
    r.ok("tcp_listen 2000");
    r.err(&format!("portmap 6 {WAN} 2000 {} 22", ip(HOST_A)), -11);
    r.ok(&format!("portmap 17 {WAN} 2000 {} 22", ip(HOST_A)));
}

#[cfg(feature = "filtering")]
#[test]
fn endpoint_independent_syn_reaches_a_listener_opened_after_the_mapping_took_its_port() {
    let mut r = router();
    r.ok("setcfg tcp_filtering=0 udp_filtering=0");
    let syn = r.inject("lan", &tcp(HOST_A, 9000, SERVER, 80, SYN)).only("wan");
    assert_eq!(sport(&syn), 9000);
    r.ok("tcp_listen 9000");
    router_answers_syn(&mut r, SERVER2, 4000, 9000);
    // The LAN host's own connection still works.
    r.inject("wan", &tcp(SERVER, 80, WAN_ADDR, 9000, SYN | ACK)).only("lan");
}

#[cfg(feature = "filtering")]
#[test]
fn endpoint_independent_udp_reaches_a_socket_bound_after_the_mapping_took_its_port() {
    let mut r = router();
    r.ok("setcfg udp_filtering=0");
    assert_eq!(sport(&r.inject("lan", &udp(HOST_A, 6000, SERVER, 53, b"q")).only("wan")), 6000);
    r.ok(&format!("udp_send 6000 {} 123 {}", ip(SERVER2), hex(b"sntp")));
    router_receives_udp(&mut r, SERVER2, 123, 6000, b"time");
}

#[test]
fn inside_ping_does_not_steal_the_echo_replies_of_the_routers_own_ping() {
    let mut r = router();
    let lan = r.inject("lan", &echo_request(HOST_A, SERVER, ROUTER_PING_ID, 7)).only("wan");
    let ext = icmp_ident(&lan);
    assert_ne!(ext, ROUTER_PING_ID);
    let own = r.ok(&format!("ping {} {ROUTER_PING_ID} 7", ip(SERVER))).only("wan");
    assert_eq!((src(&own), icmp_ident(&own)), (WAN_ADDR, ROUTER_PING_ID));
    let reply = r.inject("wan", &echo_reply(SERVER, WAN_ADDR, ROUTER_PING_ID, 7));
    reply.nothing_on("lan");
    assert_eq!(reply.lines, [format!("ping_reply {} {ROUTER_PING_ID} 7", ip(SERVER))]);
    let lan_reply = r.inject("wan", &echo_reply(SERVER, WAN_ADDR, ext, 7)).only("lan");
    assert_eq!((dst(&lan_reply), icmp_ident(&lan_reply)), (HOST_A, ROUTER_PING_ID));
}

#[test]
fn unsolicited_syn_from_outside_gets_no_rst_and_is_counted() {
    let mut r = router();
    let sent = r.inject("wan", &tcp(SERVER, 40000, WAN_ADDR, 5555, SYN));
    sent.nothing_on("wan");
    sent.nothing_on("lan");
    assert_eq!(r.stat("drop_unsolicited_syn"), 1);
}

#[test]
fn syn_to_the_routers_listener_still_gets_syn_ack() {
    let mut r = router();
    r.ok("tcp_listen 22");
    router_answers_syn(&mut r, SERVER, 40000, 22);
    assert_eq!(r.stat("drop_unsolicited_syn"), 0);
}

#[test]
fn syn_from_the_lan_to_a_closed_router_port_still_gets_lwips_rst() {
    let mut r = router();
    let rst = r.inject("lan", &tcp(HOST_A, 40000, [192, 168, 1, 1], 5555, SYN)).only("lan");
    assert_ne!(tcp_flags(&rst) & RST, 0);
}

#[test]
fn lan_host_reaches_the_routers_listener_on_the_external_address_despite_an_older_mapping() {
    let mut r = router();
    // Endpoint-independent where built, so that HOST_A's mapping would admit HOST_B.
    if cfg!(feature = "filtering") {
        r.ok("setcfg tcp_filtering=0");
    }
    assert_eq!(sport(&r.inject("lan", &tcp(HOST_A, 9000, SERVER, 80, SYN)).only("wan")), 9000);
    r.ok("tcp_listen 9000");
    let sent = r.inject("lan", &tcp(HOST_B, 40000, WAN_ADDR, 9000, SYN));
    sent.nothing_on("wan");
    let synack = sent.only("lan");
    assert_eq!((src(&synack), dst(&synack), sport(&synack)), (WAN_ADDR, HOST_B, 9000));
    assert_eq!(tcp_flags(&synack) & (SYN | ACK), SYN | ACK, "the router's listener, not HOST_A");
}
