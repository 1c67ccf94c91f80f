//! Conformance suite, small tables, through real lwIP (Debian's liblwip 2.1.3 with the shim's
//! hook in front of `ip4_input()`, tests/lwip/router.c): the rules of tests/small_tables.rs
//! where the shim takes part, above all the RSTs it sends for a connection evicted from a full
//! table, checked byte for byte as lwIP puts them on the wire.

mod common;
#[path = "lwip/driver.rs"]
mod driver;
#[path = "lwip/build.rs"]
mod lwip_build;

use common::*;
use driver::Router;
#[cfg(feature = "evict")]
use etherparse::{Ipv4Header, TcpHeader};

const RULE_OUTBOUND: u8 = 1;
const ERR_ARG: i32 = -2;
const ERR_TIMEOUT: i32 = -5;

fn router() -> Router {
    let mut r = Router::spawn(&lwip_build::program("router"));
    r.ok("start");
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
    r
}

#[cfg(feature = "evict")]
fn tcp_header(p: &[u8]) -> TcpHeader {
    let (_, rest) = Ipv4Header::from_slice(p).unwrap();
    TcpHeader::from_slice(rest).unwrap().0
}

/// Opens HOST_A-or-B:`port` → SERVER:443 through the router (SYN out, SYN-ACK in); returns
/// the external port.
fn connect(r: &mut Router, host: [u8; 4], port: u16) -> u16 {
    let syn = r.inject("lan", &tcp(host, port, SERVER, 443, SYN)).only("wan");
    let ext = sport(&syn);
    r.inject("wan", &tcp(SERVER, 443, WAN_ADDR, ext, SYN | ACK)).only("lan");
    ext
}

/// Fills the TCP table: HOST_A's connection from port 40000 first, left idle 61 s (past the
/// 60 s eviction age the evict test sets), then HOST_B's up to the capacity. Returns the
/// external port of HOST_A's connection.
fn fill_with_one_idle_connection(r: &mut Router) -> u16 {
    let ext = connect(r, HOST_A, 40000);
    r.ok("timers 61000");
    let capacity = r.stat("tcp_capacity") as u16;
    for i in 1..capacity {
        connect(r, HOST_B, 41000 + i);
    }
    assert_eq!(r.stat("tcp_in_use"), u64::from(capacity));
    ext
}

#[cfg(feature = "evict")]
#[test]
fn evicted_established_connection_gets_an_rst_at_each_end_that_it_accepts() {
    let mut r = router();
    r.ok("setcfg full_policy=1 evict_idle_ms=60000 host_quota=0");
    let ext = fill_with_one_idle_connection(&mut r);
    // A new connection takes the slot of the one idle past the age.
    r.inject("lan", &tcp(HOST_B, 50000, SERVER, 443, SYN)).only("wan");
    assert_eq!(r.stat("evicted_idle"), 1);
    if cfg!(feature = "dump") {
        assert!(!r.sessions().iter().any(|s| s.contains(" 40000 ")));
    }

    // The inside end sends: lwIP answers it in the remote's name, with the segment's
    // acknowledgment number as sequence number, so the inside stack accepts the reset.
    let sent = r.inject("lan", &tcp_data(HOST_A, 40000, SERVER, 443, ACK, b"anyone?"));
    sent.nothing_on("wan");
    let rst = sent.only("lan");
    let h = tcp_header(&rst);
    assert_eq!((src(&rst), h.source_port, dst(&rst), h.destination_port), (SERVER, 443, HOST_A, 40000));
    assert!(h.rst);
    assert_eq!((h.sequence_number, h.acknowledgment_number), (2000, 1000 + 7));

    // The remote end sends to the old external port: reset from the NAT's address.
    let sent = r.inject("wan", &tcp_data(SERVER, 443, WAN_ADDR, ext, ACK, b"still there?"));
    sent.nothing_on("lan");
    let rst = sent.only("wan");
    let h = tcp_header(&rst);
    assert_eq!((src(&rst), h.source_port, dst(&rst), h.destination_port), (WAN_ADDR, ext, SERVER, 443));
    assert!(h.rst);
    assert_eq!((h.sequence_number, h.acknowledgment_number), (2000, 1000 + 12));
    assert_eq!(r.stat("resets_requested"), 2);

    // An RST is never answered.
    let sent = r.inject("lan", &tcp(HOST_A, 40000, SERVER, 443, RST | ACK));
    assert!(sent.out.is_empty(), "{:?}", sent.out);
    assert_eq!(r.stat("resets_requested"), 2);

    // A FIN occupies one sequence number more than its data: acknowledged past it.
    let sent = r.inject("lan", &tcp_data(HOST_A, 40000, SERVER, 443, FIN | ACK, b"bye"));
    sent.nothing_on("wan");
    let h = tcp_header(&sent.only("lan"));
    assert!(h.rst);
    assert_eq!((h.sequence_number, h.acknowledgment_number), (2000, 1000 + 3 + 1));
    assert_eq!(r.stat("resets_requested"), 3);
}

/// Without `evict` the policy is refused, and a full table of connections idle past any age
/// refuses a new one (ICMP 3/13 to its sender, nothing on the uplink) and resets none; a
/// connection closed by both FINs still gives way.
#[cfg(not(feature = "evict"))]
#[test]
fn without_evict_a_full_table_refuses_and_only_a_closed_connection_gives_way() {
    let mut r = router();
    r.err("setcfg full_policy=1", ERR_ARG);
    r.ok("setcfg host_quota=0");
    let ext = fill_with_one_idle_connection(&mut r);
    let sent = r.inject("lan", &tcp(HOST_B, 50000, SERVER, 443, SYN));
    sent.nothing_on("wan");
    let icmp = sent.only("lan");
    assert_eq!((icmp[20], icmp[21]), (3, 13), "administratively prohibited");
    assert_eq!((r.stat("evicted_transitory"), r.stat("evicted_idle"), r.stat("resets_requested")), (0, 0, 0));
    // Closed by both FINs, HOST_A's connection gives way to the next new one.
    r.inject("lan", &tcp(HOST_A, 40000, SERVER, 443, FIN | ACK)).only("wan");
    r.inject("wan", &tcp(SERVER, 443, WAN_ADDR, ext, FIN | ACK)).only("lan");
    r.inject("lan", &tcp(HOST_B, 50000, SERVER, 443, SYN)).only("wan");
    assert_eq!((r.stat("evicted_closed"), r.stat("tcp_in_use")), (1, r.stat("tcp_capacity")));
    // Its late segments find no session: never answered with a reset.
    let sent = r.inject("lan", &tcp_data(HOST_A, 40000, SERVER, 443, ACK, b"late"));
    assert!(sent.out.is_empty(), "{:?}", sent.out);
    assert_eq!(r.stat("resets_requested"), 0);
}

/// Needs `dump`: the session walk is what shows states and timeouts.
#[cfg(feature = "dump")]
#[test]
fn dns_session_shows_its_state_and_goes_seconds_after_the_answer() {
    let mut r = router();
    let query = r.inject("lan", &udp(HOST_A, 5000, SERVER, 53, b"query")).only("wan");
    let sessions = r.sessions();
    assert!(sessions[0].contains(" DNS_QUERY outbound kept ") && sessions[0].ends_with(" 300000"), "{sessions:?}");
    r.inject("wan", &udp(SERVER, 53, WAN_ADDR, sport(&query), b"answer")).only("lan");
    let sessions = r.sessions();
    assert!(sessions[0].contains(" DNS_ANSWERED outbound kept ") && sessions[0].ends_with(" 5000"), "{sessions:?}");
    if cfg!(feature = "evict") {
        r.ok("setcfg full_policy=1");
        assert!(r.sessions()[0].contains(" DNS_ANSWERED outbound evictable "), "{:?}", r.sessions());
    } else {
        r.err("setcfg full_policy=1", ERR_ARG);
        assert!(r.sessions()[0].contains(" DNS_ANSWERED outbound kept "), "{:?}", r.sessions());
    }
    r.ok("timers 4000");
    assert_eq!(r.sessions().len(), 1);
    r.ok("timers 2000");
    assert!(r.sessions().is_empty(), "{:?}", r.sessions());
}

#[test]
fn short_timers_and_policy_are_set_through_the_c_config() {
    let mut r = router();
    r.err("setcfg full_policy=2", ERR_ARG);
    r.err("setcfg udp_dns_ms=0", ERR_TIMEOUT);
    r.ok("setcfg udp_ntp_ms=1000 udp_dns_ms=1000");
    let query = r.inject("lan", &udp(HOST_A, 123, SERVER, 123, b"ntp")).only("wan");
    r.inject("wan", &udp(SERVER, 123, WAN_ADDR, sport(&query), b"time")).only("lan");
    if cfg!(feature = "dump") {
        let sessions = r.sessions();
        assert!(sessions[0].contains(" NTP_ANSWERED ") && sessions[0].ends_with(" 1000"), "{sessions:?}");
    }
}
