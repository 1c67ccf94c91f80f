//! Conformance suite, small tables: what keeps a 128-UDP / 256-TCP table from filling up on a
//! small LAN, and what happens when it is full anyway.
//!
//! * Short timers for request/response UDP services once answered (RFC 4787 REQ-5a), with the
//!   RFC floor for every other port.
//! * TCP connections closed by both FINs or an RST give way to new ones (RFC 7857 section 2.2);
//!   half-open connections live the transitory timeout.
//! * The full-table policy: `Reject` never evicts a live session (RFC 6888), `Evict` reclaims
//!   transitory and long idle sessions, resets evicted connections at both ends, and never
//!   lets a session created from outside displace one created from inside.
//!
//! The same through real lwIP, where the shim sends the resets: tests/lwip_small_tables.rs.

mod common;

use common::*;
#[cfg(feature = "filtering")]
use lwip_snat::Filtering;
use lwip_snat::{Config, ConfigError, Eviction, FullPolicy, Protocol, Verdict};

/// Table sizes of [`TestNat`].
const TCP_SLOTS: u16 = 64;
const UDP_SLOTS: u16 = 64;

fn verdict(nat: &mut TestNat, ctx: lwip_snat::Context, p: &[u8], now: u32) -> Verdict {
    nat.process(&mut p.to_vec(), &ctx, now)
}

/// No per-host quota: the tests fill whole tables from one host.
fn config() -> Config {
    Config { host_quota: 0, ..Config::DEFAULT }
}

/// The evict policy, which a build without `evict` refuses.
fn evicting() -> Config {
    Config { full_policy: FullPolicy::Evict, evict_idle_ms: 60_000, ..config() }
}

/// A DNS query from HOST_A:`port` and its answer; returns the external port.
fn dns_exchange(nat: &mut TestNat, port: u16, asked: u32, answered: u32) -> u16 {
    let ext = sport(&out(nat, udp(HOST_A, port, SERVER, 53, b"query"), asked));
    inb(nat, udp(SERVER, 53, WAN_ADDR, ext, b"answer"), answered);
    ext
}

/// Opens a connection HOST_A:`port` → SERVER:443 (handshake both ways); returns the external port.
fn connect(nat: &mut TestNat, port: u16, now: u32) -> u16 {
    let ext = sport(&out(nat, tcp(HOST_A, port, SERVER, 443, SYN), now));
    inb(nat, tcp(SERVER, 443, WAN_ADDR, ext, SYN | ACK), now);
    out(nat, tcp(HOST_A, port, SERVER, 443, ACK), now);
    ext
}

/// Closes the connection of [`connect`] with a FIN each way.
fn close(nat: &mut TestNat, port: u16, ext: u16, now: u32) {
    out(nat, tcp(HOST_A, port, SERVER, 443, FIN | ACK), now);
    inb(nat, tcp(SERVER, 443, WAN_ADDR, ext, FIN | ACK), now);
}

fn has_session(nat: &TestNat, protocol: Protocol, in_port: u16) -> bool {
    nat.sessions().any(|(p, s)| p == protocol && s.inside == addr(HOST_A) && s.in_port == in_port)
}

// ---------------------------------------------------------------- UDP timers (REQ-5a)

#[test]
fn rfc4787_req5a_dns_session_ends_seconds_after_its_answer() {
    let mut nat = nat_with(config());
    dns_exchange(&mut nat, 5000, 0, 1_000);
    nat.tick(6_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1, "5 s after the answer: still there");
    nat.tick(6_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "then gone, not 300 s later");
    assert_eq!(nat.stats().expired[Protocol::Udp.index()], 1);
}

#[test]
fn rfc4787_req5a_unanswered_dns_query_waits_the_full_udp_timeout_for_its_answer() {
    let mut nat = nat_with(config());
    let ext = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"query"), 0));
    nat.tick(299_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
    let answer = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, ext, b"late answer"), 299_500);
    assert_eq!((dst(&answer), dport(&answer)), (HOST_A, 5000));
}

#[test]
fn rfc4787_req5a_dns_answer_restarts_the_short_timer_and_a_resent_query_refreshes_it() {
    let mut nat = nat_with(config());
    let ext = dns_exchange(&mut nat, 5000, 0, 200_000);
    nat.tick(204_000);
    out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"next query"), 204_000);
    inb(&mut nat, udp(SERVER, 53, WAN_ADDR, ext, b"next answer"), 208_000);
    nat.tick(213_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
    nat.tick(213_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[test]
fn rfc4787_req5a_ntp_has_its_own_short_timer() {
    let mut nat = nat_with(Config { udp_dns_ms: 2_000, udp_ntp_ms: 8_000, ..config() });
    let ext = sport(&out(&mut nat, udp(HOST_A, 123, SERVER, 123, b"ntp"), 0));
    inb(&mut nat, udp(SERVER, 123, WAN_ADDR, ext, b"time"), 100);
    dns_exchange(&mut nat, 5000, 0, 100);
    nat.tick(2_101);
    assert!(!has_session(&nat, Protocol::Udp, 5000), "DNS gone after 2 s");
    assert!(has_session(&nat, Protocol::Udp, 123), "NTP kept");
    nat.tick(8_101);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[test]
fn rfc4787_req5_other_ports_keep_the_floor_and_inbound_does_not_refresh_them() {
    let mut nat = nat_with(config());
    for (in_port, service) in [(5000, 54), (5001, 5353), (5002, 443), (5003, 1230)] {
        let ext = sport(&out(&mut nat, udp(HOST_A, in_port, SERVER, service, b"q"), 0));
        inb(&mut nat, udp(SERVER, service, WAN_ADDR, ext, b"r"), 1_000);
    }
    nat.tick(300_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 4);
    nat.tick(300_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[cfg(feature = "filtering")]
#[test]
fn a_session_admitted_from_remote_port_53_is_not_a_dns_query() {
    // An endpoint-independent mapping lets a remote in from its port 53: that session is the
    // remote's, not a query of the inside host, and keeps the full timeout.
    let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..config() });
    let ext = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"bind"), 0));
    inb(&mut nat, udp(SERVER2, 53, WAN_ADDR, ext, b"hello"), 0);
    let admitted = nat.sessions().find(|(_, s)| s.remote == addr(SERVER2)).map(|(_, s)| *s).unwrap();
    assert!(admitted.opened_by_remote());
    assert_eq!(nat.timeout_ms(Protocol::Udp, &admitted), 300_000);
}

#[test]
fn short_udp_timers_are_set_at_run_time_and_must_be_usable() {
    let mut nat = nat_with(config());
    dns_exchange(&mut nat, 5000, 0, 0);
    let session = *nat.sessions().next().unwrap().1;
    assert_eq!(nat.timeout_ms(Protocol::Udp, &session), 5_000);
    nat.set_config(Config { udp_dns_ms: 30_000, ..config() }).unwrap();
    assert_eq!(nat.timeout_ms(Protocol::Udp, &session), 30_000, "live sessions pick up the new timer");
    nat.set_config(Config { udp_dns_ms: 1, ..config() }).unwrap();
    for bad in [0, 0x8000_0000] {
        for c in [
            Config { udp_dns_ms: bad, ..config() },
            Config { udp_ntp_ms: bad, ..config() },
            Config { evict_idle_ms: bad, ..config() },
        ] {
            assert_eq!(nat.set_config(c), Err(ConfigError::Timeout));
        }
    }
    assert_eq!(Config::DEFAULT.full_policy, FullPolicy::Reject, "today's policy stays the default");
}

// ---------------------------------------------------------------- TCP

#[test]
fn rfc5382_req5_half_open_connection_lives_the_transitory_timeout() {
    let mut nat = nat_with(config());
    out(&mut nat, tcp(HOST_A, 40000, SERVER, 443, SYN), 0);
    nat.tick(240_000);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
    nat.tick(240_001);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0, "a SYN never answered is not kept 2 hours");
}

/// A TCP table full of established connections from ports 40000.., opened at `now`.
fn full_of_connections(nat: &mut TestNat, now: u32) -> Vec<u16> {
    (0..TCP_SLOTS).map(|i| connect(nat, 40000 + i, now)).collect()
}

#[test]
fn rfc7857_closed_connection_gives_way_to_a_new_syn_in_a_full_table() {
    let mut nat = nat_with(Config { reject_when_full: false, ..config() });
    let ext = full_of_connections(&mut nat, 0);
    close(&mut nat, 40007, ext[7], 1_000);
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 2_000);
    assert!(!has_session(&nat, Protocol::Tcp, 40007), "the TIME_WAIT slot was reclaimed");
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), usize::from(TCP_SLOTS));
    assert_eq!(nat.stats().evicted, [1, 0, 0]);
    // With no closed connection left, the next SYN is refused: live ones are never evicted.
    let v = verdict(&mut nat, outbound(), &tcp(HOST_A, 50001, SERVER, 443, SYN), 3_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::TableFull));
}

#[test]
fn rfc7857_reset_connection_gives_way_too() {
    let mut nat = nat_with(config());
    let ext = full_of_connections(&mut nat, 0);
    inb(&mut nat, tcp(SERVER, 443, WAN_ADDR, ext[3], RST), 1_000);
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 2_000);
    assert!(!has_session(&nat, Protocol::Tcp, 40003));
    assert_eq!(nat.stats().evicted[Eviction::Closed as usize], 1);
}

#[test]
fn reject_policy_never_evicts_a_live_session() {
    let mut nat = nat_with(config());
    for i in 0..TCP_SLOTS - 1 {
        connect(&mut nat, 40000 + i, 0);
    }
    out(&mut nat, tcp(HOST_A, 60000, SERVER, 443, SYN), 0);
    // Idle for minutes, half-open ones included: still nothing may go.
    let v = verdict(&mut nat, outbound(), &tcp(HOST_A, 50000, SERVER, 443, SYN), 200_000);
    assert_eq!(v, Verdict::SendIcmp(lwip_snat::IcmpRequest::AdminProhibited));
    assert_eq!(nat.stats().evicted, [0, 0, 0]);
}

// ---------------------------------------------------------------- the evict policy

#[cfg(feature = "evict")]
#[test]
fn evict_policy_reclaims_the_oldest_half_open_connection_before_any_established_one() {
    let mut nat = nat_with(evicting());
    for i in 0..TCP_SLOTS - 2 {
        connect(&mut nat, 40000 + i, 10_000);
    }
    out(&mut nat, tcp(HOST_A, 60000, SERVER, 443, SYN), 20_000);
    out(&mut nat, tcp(HOST_A, 60001, SERVER, 443, SYN), 15_000);
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 30_000);
    assert!(!has_session(&nat, Protocol::Tcp, 60001), "the older half-open one went");
    assert!(has_session(&nat, Protocol::Tcp, 60000));
    assert_eq!(nat.stats().evicted, [0, 1, 0]);
    assert_eq!(nat.stats().resets_requested, 0);
}

#[cfg(feature = "evict")]
#[test]
fn evict_policy_reclaims_an_answered_dns_query_before_a_live_udp_flow() {
    let mut nat = nat_with(Config { udp_dns_ms: 60_000, ..evicting() });
    for i in 0..UDP_SLOTS - 1 {
        out(&mut nat, udp(HOST_A, 6000 + i, SERVER, 3478, b"media"), 0);
    }
    dns_exchange(&mut nat, 5000, 0, 100);
    out(&mut nat, udp(HOST_A, 7000, SERVER, 3478, b"new flow"), 1_000);
    assert!(!has_session(&nat, Protocol::Udp, 5000));
    assert_eq!(nat.stats().evicted, [0, 1, 0]);
}

#[cfg(feature = "evict")]
#[test]
fn evict_policy_reclaims_a_session_idle_past_the_age_and_refuses_when_none_is() {
    let mut nat = nat_with(Config { reject_when_full: false, ..evicting() });
    for i in 0..UDP_SLOTS {
        out(&mut nat, udp(HOST_A, 6000 + i, SERVER, 3478, b"flow"), if i == 9 { 0 } else { 50_000 });
    }
    let v = verdict(&mut nat, outbound(), &udp(HOST_A, 7000, SERVER, 3478, b"new"), 60_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::TableFull), "idle 60 s is not past the 60 s age");
    out(&mut nat, udp(HOST_A, 7000, SERVER, 3478, b"new"), 60_001);
    assert!(!has_session(&nat, Protocol::Udp, 6009));
    assert_eq!(nat.stats().evicted, [0, 0, 1]);
    let v = verdict(&mut nat, outbound(), &udp(HOST_A, 7001, SERVER, 3478, b"new"), 60_002);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::TableFull), "the others are live");
}

#[cfg(feature = "evict")]
#[test]
fn evicted_established_connection_is_reset_at_both_ends_when_they_next_send() {
    let mut nat = nat_with(evicting());
    let ext = full_of_connections(&mut nat, 100_000);
    // The connection of port 40005 went quiet long ago.
    out(&mut nat, tcp_data(HOST_A, 40005, SERVER, 443, ACK, b"old"), 100_000);
    for i in (0..TCP_SLOTS).filter(|&i| i != 5) {
        out(&mut nat, tcp_data(HOST_A, 40000 + i, SERVER, 443, ACK, b"busy"), 170_000);
    }
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 170_000);
    assert!(!has_session(&nat, Protocol::Tcp, 40005));
    assert_eq!(nat.stats().evicted, [0, 0, 1]);

    let from_inside = tcp_data(HOST_A, 40005, SERVER, 443, ACK, b"anyone?");
    assert_eq!(verdict(&mut nat, outbound(), &from_inside, 171_000), Verdict::SendTcpReset);
    let from_outside = tcp_data(SERVER, 443, WAN_ADDR, ext[5], ACK, b"still there?");
    assert_eq!(verdict(&mut nat, inbound(), &from_outside, 171_000), Verdict::SendTcpReset);
    assert_eq!(nat.stats().resets_requested, 2);
    // An RST is never answered, and other connections without a session are not reset.
    let rst = tcp(HOST_A, 40005, SERVER, 443, RST | ACK);
    assert_eq!(verdict(&mut nat, outbound(), &rst, 171_000), Verdict::Drop(lwip_snat::DropReason::NoMapping));
    let stranger = tcp_data(HOST_A, 45555, SERVER, 443, ACK, b"x");
    assert_eq!(verdict(&mut nat, outbound(), &stranger, 171_000), Verdict::Drop(lwip_snat::DropReason::NoMapping));
    assert_eq!(nat.stats().resets_requested, 2);
}

/// Expiry (`tick`) forgets no evicted connection: its segments are still reset after it.
/// A removal of the host's sessions forgets them: then they are dropped as any stranger.
#[cfg(feature = "evict")]
#[test]
fn tick_keeps_evicted_connections_and_a_host_removal_forgets_them() {
    let mut nat = nat_with(evicting());
    full_of_connections(&mut nat, 100_000);
    out(&mut nat, tcp_data(HOST_A, 40005, SERVER, 443, ACK, b"old"), 100_000);
    for i in (0..TCP_SLOTS).filter(|&i| i != 5) {
        out(&mut nat, tcp_data(HOST_A, 40000 + i, SERVER, 443, ACK, b"busy"), 170_000);
    }
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 170_000);
    assert_eq!(nat.stats().evicted, [0, 0, 1]);

    nat.tick(170_500);
    let from_inside = tcp_data(HOST_A, 40005, SERVER, 443, ACK, b"anyone?");
    assert_eq!(verdict(&mut nat, outbound(), &from_inside, 171_000), Verdict::SendTcpReset);
    nat.remove_host(addr(HOST_A));
    let v = verdict(&mut nat, outbound(), &from_inside, 171_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::NoMapping));
    assert_eq!(nat.stats().resets_requested, 1);
}

/// The sessions from outside come through a port forward.
#[cfg(all(feature = "portmap", feature = "evict"))]
#[test]
fn outside_hosts_cannot_evict_inside_sessions_by_opening_their_own() {
    // No per-mapping cap: one forward's mapping fills the whole table below.
    let mut nat = nat_with(Config { reject_when_full: false, mapping_sessions: 0, ..evicting() });
    nat.add_portmap(lwip_snat::Portmap {
        protocol: Protocol::Tcp,
        netif: WAN,
        ext_port: 8080,
        inside: addr(HOST_B),
        in_port: 80,
    })
    .unwrap();
    // Inside connections, all closed: any outbound SYN could take their slots.
    let ext = full_of_connections(&mut nat, 0);
    for (i, &e) in ext.iter().enumerate() {
        close(&mut nat, 40000 + i as u16, e, 0);
    }
    let syn = tcp(SERVER2, 33000, WAN_ADDR, 8080, SYN);
    let v = verdict(&mut nat, inbound(), &syn, 1_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::TableFull));
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), usize::from(TCP_SLOTS));
    assert_eq!(nat.stats().evicted, [0, 0, 0]);

    // A session the outside created may give way to another from outside.
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 1_000);
    nat.flush();
    for i in 0..TCP_SLOTS {
        inb(&mut nat, tcp(SERVER2, 33000 + i, WAN_ADDR, 8080, SYN), 0);
    }
    inb(&mut nat, tcp(SERVER2, 34000, WAN_ADDR, 8080, SYN), 1_000);
    assert_eq!(nat.stats().evicted, [1, 1, 0]);
}

/// The same without a port forward (built with `filtering`): remotes open sessions at inside
/// hosts' own mappings through endpoint-independent filtering.
#[cfg(feature = "filtering")]
#[test]
fn outside_hosts_cannot_evict_inside_sessions_through_endpoint_independent_filtering() {
    let mut nat = nat_with(Config {
        reject_when_full: false,
        mapping_sessions: 0,
        tcp_filtering: Filtering::EndpointIndependent,
        // (either policy: a closed connection gives way under both)
        ..if cfg!(feature = "evict") { evicting() } else { config() }
    });
    // Inside connections, all closed: any outbound SYN could take their slots.
    let ext = full_of_connections(&mut nat, 0);
    for (i, &e) in ext.iter().enumerate() {
        close(&mut nat, 40000 + i as u16, e, 0);
    }
    // A SYN from another remote to a live mapping passes the filter and would open a session.
    let syn = tcp(SERVER2, 33000, WAN_ADDR, ext[0], SYN);
    let v = verdict(&mut nat, inbound(), &syn, 1_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::TableFull));
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), usize::from(TCP_SLOTS));
    assert_eq!(nat.stats().evicted, [0, 0, 0]);
    // An inside host's new connection still takes a closed one's slot.
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 1_000);
    assert_eq!(nat.stats().evicted, [1, 0, 0]);
    assert!(has_session(&nat, Protocol::Tcp, 50000));
}

#[test]
fn eviction_searches_the_whole_table_once_a_second_and_a_window_per_flow_in_between() {
    // Bounded work per packet: a full table of live connections is searched whole (refused),
    // then one closes beyond the first window. The next flow within the second only searches a
    // window and is refused; the one after searches the next window and takes the slot.
    let mut nat = nat_with(Config { reject_when_full: false, ..config() });
    let ext = full_of_connections(&mut nat, 0);
    let refused = Verdict::Drop(lwip_snat::DropReason::TableFull);
    assert_eq!(verdict(&mut nat, outbound(), &tcp(HOST_A, 50000, SERVER, 443, SYN), 1_000), refused);
    close(&mut nat, 40050, ext[50], 1_000);
    assert_eq!(verdict(&mut nat, outbound(), &tcp(HOST_A, 50000, SERVER, 443, SYN), 1_001), refused);
    out(&mut nat, tcp(HOST_A, 50001, SERVER, 443, SYN), 1_002);
    assert!(!has_session(&nat, Protocol::Tcp, 40050));

    // A second later the whole table is searched again, and the least recently used goes.
    close(&mut nat, 40040, ext[40], 1_500);
    close(&mut nat, 40001, ext[1], 1_900);
    out(&mut nat, tcp(HOST_A, 50002, SERVER, 443, SYN), 2_001);
    assert!(!has_session(&nat, Protocol::Tcp, 40040) && has_session(&nat, Protocol::Tcp, 40001));
    assert_eq!(nat.stats().evicted, [2, 0, 0]);
}

#[cfg(feature = "evict")]
#[test]
fn dumps_show_the_origin_and_whether_a_session_may_give_way() {
    let mut nat = nat_with(evicting());
    dns_exchange(&mut nat, 5000, 0, 0);
    connect(&mut nat, 40000, 0);
    let dns = *nat.sessions().find(|(p, _)| *p == Protocol::Udp).unwrap().1;
    assert!(nat.evictable(Protocol::Udp, &dns, 0), "an answered query may give way");
    assert!(!dns.opened_by_remote());
    let tcp = *nat.sessions().find(|(p, _)| *p == Protocol::Tcp).unwrap().1;
    assert!(!nat.evictable(Protocol::Tcp, &tcp, 60_000), "an established connection idle 60 s is kept");
    assert!(nat.evictable(Protocol::Tcp, &tcp, 60_001), "idle past the age it may give way");
}

#[cfg(feature = "evict")]
#[test]
fn a_host_at_its_quota_cannot_make_others_give_way_for_nothing() {
    // Eviction happens for a flow that will get the slot: a host at its quota is refused
    // without pushing another host's session out first. The quota is a quarter of the table
    // at most (16 of 64): HOST_A holds its 16, four other hosts 12 each fill the rest.
    let quota = TCP_SLOTS / 4;
    let mut nat = nat_with(Config { host_quota: quota, reject_when_full: false, ..evicting() });
    for i in 0..quota {
        connect(&mut nat, 40000 + i, 0);
    }
    let others = [HOST_B, [192, 168, 1, 12], [192, 168, 1, 13], [192, 168, 1, 14]];
    for host in others {
        for i in 0..(TCP_SLOTS - quota) / 4 {
            let ext = sport(&out(&mut nat, tcp(host, 40000 + i, SERVER, 443, SYN), 0));
            inb(&mut nat, tcp(SERVER, 443, WAN_ADDR, ext, SYN | ACK), 0);
        }
    }
    for i in 0..quota {
        out(&mut nat, tcp_data(HOST_A, 40000 + i, SERVER, 443, ACK, b"busy"), 90_000);
    }
    let v = verdict(&mut nat, outbound(), &tcp(HOST_A, 50000, SERVER, 443, SYN), 100_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::TableFull));
    assert_eq!(nat.stats().evicted, [0, 0, 0]);
    assert_eq!(nat.sessions().filter(|(_, s)| s.inside != addr(HOST_A)).count(), usize::from(TCP_SLOTS - quota));
    // HOST_B, under its quota, may take the slot of a session idle past the age.
    out(&mut nat, tcp(HOST_B, 50000, SERVER, 443, SYN), 101_000);
    assert_eq!(nat.stats().evicted, [0, 0, 1]);
    // A host at its quota may still replace one of its own sessions.
    let v = verdict(&mut nat, outbound(), &tcp(HOST_A, 50000, SERVER, 443, SYN), 200_000);
    assert_eq!(v, Verdict::Translated);
    assert_eq!(nat.sessions().filter(|(_, s)| s.inside == addr(HOST_A)).count(), usize::from(quota));
}

#[test]
fn a_shorter_dns_timer_set_at_run_time_ends_answered_sessions_on_every_path() {
    let mut nat = nat_with(Config { udp_dns_ms: 30_000, ..config() });
    let ext = dns_exchange(&mut nat, 5000, 0, 0);
    nat.set_config(Config { udp_dns_ms: 5_000, ..config() }).unwrap();
    // A plain datagram of a live UDP session takes the established-flow shortcut: it must
    // know the new timer as well as the general way does.
    let late = udp(SERVER, 53, WAN_ADDR, ext, b"late answer");
    assert_ne!(verdict(&mut nat, inbound(), &late, 10_000), Verdict::Translated);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "the expired session is gone");
}

#[test]
fn a_flow_its_mapping_cap_refuses_makes_no_session_give_way() {
    let mut nat = nat_with(Config { reject_when_full: false, mapping_sessions: 1, ..config() });
    let ext = full_of_connections(&mut nat, 0);
    close(&mut nat, 40007, ext[7], 1_000);
    // HOST_A:40000 holds its one session: a second remote is refused before anything is evicted.
    let v = verdict(&mut nat, outbound(), &tcp(HOST_A, 40000, SERVER2, 443, SYN), 2_000);
    assert_eq!(v, Verdict::Drop(lwip_snat::DropReason::MappingFull));
    assert_eq!(nat.stats().evicted, [0, 0, 0]);
    assert!(has_session(&nat, Protocol::Tcp, 40007), "the closed connection keeps its slot for a flow that may use it");
}

#[cfg(feature = "evict")]
#[test]
fn an_evicted_connection_is_forgotten_with_the_sessions_of_its_netif() {
    // A flush (or an uplink's new address) ends every mapping: no RST is asked for afterwards
    // in the name of a connection evicted before it.
    let mut nat = nat_with(evicting());
    full_of_connections(&mut nat, 100_000);
    for i in (0..TCP_SLOTS).filter(|&i| i != 5) {
        out(&mut nat, tcp_data(HOST_A, 40000 + i, SERVER, 443, ACK, b"busy"), 170_000);
    }
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 170_000);
    assert_eq!(nat.stats().evicted, [0, 0, 1]);
    nat.netif_changed(WAN);
    let from_inside = tcp_data(HOST_A, 40005, SERVER, 443, ACK, b"anyone?");
    assert_eq!(verdict(&mut nat, outbound(), &from_inside, 171_000), Verdict::Drop(lwip_snat::DropReason::NoMapping));
    assert_eq!(nat.stats().resets_requested, 0);
}

// ---------------------------------------------------------------- a build without `evict`

/// Without the `evict` feature the policy is refused wherever settings come in, and the
/// settings in force stay as they were.
#[cfg(not(feature = "evict"))]
#[test]
fn without_evict_the_evict_policy_is_refused() {
    assert_eq!(evicting().validate(), Err(ConfigError::Policy));
    let mut nat = nat_with(Config { udp_dns_ms: 30_000, ..config() });
    assert_eq!(nat.set_config(evicting()), Err(ConfigError::Policy));
    assert_eq!(*nat.config(), Config { udp_dns_ms: 30_000, ..config() }, "the old settings stay");
    let mut fresh = TestNat::new();
    assert_eq!(fresh.reset(evicting(), [1, 2]), Err(ConfigError::Policy));
}

/// Without `evict` a full table of live sessions, established, half-open and idle long, and
/// answered DNS queries, refuses a new flow and evicts none; a closed connection still gives
/// way (RFC 7857 section 2.2) and no reset is ever asked for.
#[cfg(not(feature = "evict"))]
#[test]
fn without_evict_only_closed_connections_give_way() {
    let mut nat = nat_with(Config { reject_when_full: false, udp_dns_ms: 300_000, ..config() });
    for i in 0..TCP_SLOTS - 2 {
        connect(&mut nat, 40000 + i, 0);
    }
    out(&mut nat, tcp(HOST_A, 60000, SERVER, 443, SYN), 0);
    out(&mut nat, tcp(HOST_A, 60001, SERVER, 443, SYN), 0);
    for i in 0..UDP_SLOTS {
        dns_exchange(&mut nat, 5000 + i, 0, 0);
    }
    let refused = Verdict::Drop(lwip_snat::DropReason::TableFull);
    // Idle for 200 s (past any `evict_idle_ms`), the half-open ones within their timeout.
    assert_eq!(verdict(&mut nat, outbound(), &tcp(HOST_A, 50000, SERVER, 443, SYN), 200_000), refused);
    assert_eq!(verdict(&mut nat, outbound(), &udp(HOST_A, 7000, SERVER, 3478, b"new"), 200_000), refused);
    assert_eq!(nat.stats().evicted, [0, 0, 0]);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), usize::from(TCP_SLOTS));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), usize::from(UDP_SLOTS));
    // A connection closed by both FINs gives way.
    let ext = sport(&out(&mut nat, tcp(HOST_A, 40007, SERVER, 443, FIN | ACK), 200_001));
    inb(&mut nat, tcp(SERVER, 443, WAN_ADDR, ext, FIN | ACK), 200_001);
    out(&mut nat, tcp(HOST_A, 50000, SERVER, 443, SYN), 200_002);
    assert!(!has_session(&nat, Protocol::Tcp, 40007) && has_session(&nat, Protocol::Tcp, 50000));
    assert_eq!(nat.stats().evicted, [1, 0, 0]);
    // Segments of the connections that lost their slot find none: dropped, never reset.
    let late = tcp_data(HOST_A, 40007, SERVER, 443, ACK, b"late");
    assert_eq!(verdict(&mut nat, outbound(), &late, 200_003), Verdict::Drop(lwip_snat::DropReason::NoMapping));
    assert_eq!(nat.stats().resets_requested, 0);
}
