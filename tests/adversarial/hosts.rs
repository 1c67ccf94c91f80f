//! One host cannot deny service to the others: not by spoofing many source addresses (the
//! host tracker), not by filling a protocol's table (the per-host quota is a share of each
//! table), not from outside through a port forward or an endpoint-independent mapping (sessions
//! opened by remote senders are bounded per host and per mapping), and not by holding more
//! sessions than a counter can count.

use crate::common::*;
use lwip_snat::config::MAX_HOSTS;
#[cfg(feature = "filtering")]
use lwip_snat::Filtering;
#[cfg(feature = "portmap")]
use lwip_snat::Portmap;
use lwip_snat::{Config, DropReason, IcmpRequest, Nat, Protocol, Verdict};

/// The default quota of one host in a `TestNat` table of `capacity` sessions: a quarter.
fn fair_share(capacity: usize) -> usize {
    capacity / 4
}

/// Spoofed LAN source number `i`, never HOST_A or HOST_B.
fn spoofed(i: usize) -> [u8; 4] {
    [192, 168, 2 + (i / 250) as u8, 1 + (i % 250) as u8]
}

/// A remote sender number `i` in 198.18.0.0/15.
#[cfg(any(feature = "portmap", feature = "filtering"))]
fn remote(i: usize) -> [u8; 4] {
    [198, 18, (i >> 8) as u8, i as u8]
}

fn send<const T: usize, const U: usize, const I: usize>(
    nat: &mut Nat<T, U, I>,
    ctx: lwip_snat::Context,
    mut packet: Vec<u8>,
    now: u32,
) -> Verdict {
    nat.process(&mut packet, &ctx, now)
}

/// A DNS query of `host` from `port`: translated?
fn dns(nat: &mut TestNat, host: [u8; 4], port: u16, now: u32) -> Verdict {
    send(nat, outbound(), udp(host, port, SERVER, 53, b"query"), now)
}

// ---------------------------------------------------------------- the host tracker

#[test]
fn spoofing_every_tracked_host_does_not_shut_out_the_next_host() {
    let mut nat = nat();
    for i in 0..MAX_HOSTS {
        assert_eq!(dns(&mut nat, spoofed(i), 4000, 0), Verdict::Translated, "spoofed host {i}");
    }
    assert_eq!(dns(&mut nat, HOST_A, 5000, 0), Verdict::Translated, "host {} is served", MAX_HOSTS + 1);
    assert_eq!(nat.stats().hosts_untracked, 1, "its quota could not be enforced: counted");
    assert_eq!(nat.stats().total_dropped(), 0);
}

#[test]
fn host_quota_zero_serves_any_number_of_hosts() {
    let mut nat = nat_with(Config { host_quota: 0, ..Config::DEFAULT });
    for i in 0..MAX_HOSTS + 20 {
        assert_eq!(dns(&mut nat, spoofed(i), 4000, 0), Verdict::Translated, "host {i}");
    }
    assert_eq!(nat.stats().total_dropped(), 0);
}

#[test]
fn a_host_served_untracked_keeps_an_exact_count_once_tracked() {
    let quota = 4;
    let mut nat = nat_with(Config { host_quota: quota, reject_when_full: false, ..Config::DEFAULT });
    for i in 0..MAX_HOSTS {
        assert_eq!(dns(&mut nat, spoofed(i), 4000, 0), Verdict::Translated);
    }
    // HOST_A finds the tracker full: three sessions it is not counted for.
    for port in 10_001..=10_003 {
        assert_eq!(dns(&mut nat, HOST_A, port, 0), Verdict::Translated);
    }
    assert_eq!(nat.stats().hosts_untracked, 3);
    // A slot frees; HOST_A's next session is counted (1 of 4).
    nat.remove_host(addr(spoofed(0)));
    assert_eq!(dns(&mut nat, HOST_A, 10_004, 200_000), Verdict::Translated);
    // The untracked sessions (and the spoofed hosts') expire; removing them must not take
    // from HOST_A's count, which is still exactly 1.
    nat.tick(350_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
    for port in 10_005..=10_007 {
        assert_eq!(dns(&mut nat, HOST_A, port, 350_000), Verdict::Translated, "within the quota");
    }
    assert_eq!(dns(&mut nat, HOST_A, 10_008, 350_000), Verdict::Drop(DropReason::HostQuota), "the quota holds");
}

#[test]
fn a_connection_reopened_on_its_closed_tuple_is_still_given_back_to_its_host() {
    let mut nat = nat_with(Config { host_quota: 1, reject_when_full: false, ..Config::DEFAULT });
    let syn = || tcp(HOST_A, 40_000, SERVER, 80, SYN);
    assert_eq!(send(&mut nat, outbound(), syn(), 0), Verdict::Translated);
    assert_eq!(send(&mut nat, outbound(), tcp(HOST_A, 40_000, SERVER, 80, RST), 0), Verdict::Translated);
    // A fresh SYN on the reset tuple starts the connection's state over, in the same session.
    assert_eq!(send(&mut nat, outbound(), syn(), 1), Verdict::Translated);
    let transitory = Config::DEFAULT.tcp_transitory_ms;
    nat.tick(transitory + 2);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
    let again = tcp(HOST_A, 40_001, SERVER, 80, SYN);
    assert_eq!(send(&mut nat, outbound(), again, transitory + 2), Verdict::Translated, "the quota was given back");
}

// ---------------------------------------------------------------- a fair share of each table

#[test]
fn one_host_cannot_take_the_udp_table_and_every_other_hosts_dns() {
    let mut nat = nat();
    let mut served = 0;
    for port in 10_000..10_000 + 200 {
        match dns(&mut nat, HOST_A, port, 0) {
            Verdict::Translated => served += 1,
            Verdict::SendIcmp(IcmpRequest::AdminProhibited) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(served, fair_share(nat.capacity(Protocol::Udp)));
    assert_eq!(nat.stats().dropped(DropReason::HostQuota), 200 - served as u32);
    assert_eq!(dns(&mut nat, HOST_B, 5000, 0), Verdict::Translated, "another host's DNS still works");
}

#[test]
fn one_host_cannot_take_the_icmp_table() {
    let mut nat = nat();
    let served = (1..=100)
        .filter(|&id| send(&mut nat, outbound(), echo_request(HOST_A, SERVER, id, 1), 0) == Verdict::Translated)
        .count();
    assert_eq!(served, fair_share(nat.capacity(Protocol::Icmp)));
    assert_eq!(send(&mut nat, outbound(), echo_request(HOST_B, SERVER, 1, 1), 0), Verdict::Translated);
}

#[test]
fn the_quota_is_per_protocol_table() {
    let mut nat = nat_with(Config { host_quota: 3, ..Config::DEFAULT });
    for port in 1..=3 {
        assert_eq!(dns(&mut nat, HOST_A, port, 0), Verdict::Translated);
    }
    assert_ne!(dns(&mut nat, HOST_A, 4, 0), Verdict::Translated, "UDP quota reached");
    for port in 1..=3 {
        assert_eq!(send(&mut nat, outbound(), tcp(HOST_A, port, SERVER, 80, SYN), 0), Verdict::Translated);
        assert_eq!(send(&mut nat, outbound(), echo_request(HOST_A, SERVER, port, 1), 0), Verdict::Translated);
    }
    assert_ne!(send(&mut nat, outbound(), tcp(HOST_A, 4, SERVER, 80, SYN), 0), Verdict::Translated);
}

// ---------------------------------------------------------------- sessions remote senders open

#[cfg(feature = "portmap")]
fn forward_to_a(nat: &mut TestNat) {
    let map = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: addr(HOST_A), in_port: 80 };
    nat.add_portmap(map).unwrap();
}

/// Spoofed SYNs from `count` remotes at the forward; returns how many were let in.
#[cfg(feature = "portmap")]
fn syn_flood(nat: &mut TestNat, count: usize, now: u32) -> usize {
    (0..count)
        .filter(|&i| send(nat, inbound(), tcp(remote(i), 40_000, WAN_ADDR, 8080, SYN), now) == Verdict::Translated)
        .count()
}

#[cfg(feature = "portmap")]
#[test]
fn a_syn_flood_at_a_port_forward_leaves_the_table_and_the_servers_own_quota() {
    let mut nat = nat();
    forward_to_a(&mut nat);
    let quota = fair_share(nat.capacity(Protocol::Tcp));
    let admitted = syn_flood(&mut nat, 500, 0);
    assert_eq!(admitted, quota / 2, "remote senders open at most half the server's quota");
    assert_eq!(nat.stats().dropped(DropReason::RemoteQuota), (500 - admitted) as u32);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), admitted);
    // The server still opens its whole quota of its own connections, and other hosts theirs.
    for port in 0..quota as u16 {
        let syn = tcp(HOST_A, 30_000 + port, SERVER, 443, SYN);
        assert_eq!(send(&mut nat, outbound(), syn, 0), Verdict::Translated, "server's own flow {port}");
    }
    assert_eq!(send(&mut nat, outbound(), tcp(HOST_B, 30_000, SERVER, 443, SYN), 0), Verdict::Translated);
}

#[cfg(feature = "portmap")]
#[test]
fn half_open_sessions_opened_from_outside_expire_after_the_transitory_timeout() {
    let mut nat = nat();
    forward_to_a(&mut nat);
    let transitory = Config::DEFAULT.tcp_transitory_ms;
    let admitted = syn_flood(&mut nat, 10, 0);
    assert_eq!(admitted, fair_share(nat.capacity(Protocol::Tcp)) / 2);
    // A spoofed sender's bare ACK does not complete a handshake the server never answered.
    assert_eq!(send(&mut nat, inbound(), tcp(remote(0), 40_000, WAN_ADDR, 8080, ACK), 0), Verdict::Translated);
    // One real client: the server answers, the handshake completes both ways.
    assert_eq!(send(&mut nat, outbound(), tcp(HOST_A, 80, remote(1), 40_000, SYN | ACK), 0), Verdict::Translated);
    nat.tick(transitory);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), admitted, "not before the transitory timeout");
    nat.tick(transitory + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1, "only the completed connection is left");
    // The remote quota is free again: the client's connection and new senders fill it.
    syn_flood(&mut nat, 10, transitory + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), admitted);
}

#[cfg(feature = "filtering")]
#[test]
fn half_open_sessions_remotes_open_at_an_endpoint_independent_mapping_expire_after_the_transitory_timeout() {
    // The same bounds as at a port forward, for the mapping a filter opens (no port forward
    // needed: this runs in every build).
    let mut nat = nat_with(Config { tcp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let transitory = Config::DEFAULT.tcp_transitory_ms;
    // HOST_A:80's own connection, established: it outlives the transitory timeout.
    let (v, syn) = run(&mut nat, outbound(), &tcp(HOST_A, 80, SERVER, 443, SYN), 0);
    assert_eq!(v, Verdict::Translated);
    let ext = sport(&syn);
    assert_eq!(send(&mut nat, inbound(), tcp(SERVER, 443, WAN_ADDR, ext, SYN | ACK), 0), Verdict::Translated);
    assert_eq!(send(&mut nat, outbound(), tcp(HOST_A, 80, SERVER, 443, ACK), 0), Verdict::Translated);
    let flood = |nat: &mut TestNat, count: usize, now: u32| {
        (0..count)
            .filter(|&i| send(nat, inbound(), tcp(remote(i), 40_000, WAN_ADDR, ext, SYN), now) == Verdict::Translated)
            .count()
    };
    let admitted = flood(&mut nat, 10, 0);
    assert_eq!(admitted, fair_share(nat.capacity(Protocol::Tcp)) / 2);
    assert_eq!(nat.stats().dropped(DropReason::RemoteQuota), (10 - admitted) as u32);
    // A spoofed sender's bare ACK does not complete a handshake the server never answered.
    assert_eq!(send(&mut nat, inbound(), tcp(remote(0), 40_000, WAN_ADDR, ext, ACK), 0), Verdict::Translated);
    // One real client: the server answers, the handshake completes both ways.
    assert_eq!(send(&mut nat, outbound(), tcp(HOST_A, 80, remote(1), 40_000, SYN | ACK), 0), Verdict::Translated);
    nat.tick(transitory);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1 + admitted, "not before the transitory timeout");
    nat.tick(transitory + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 2, "the server's own connection and the completed one are left");
    // The remote quota is free again: the client's connection and new senders fill it.
    flood(&mut nat, 10, transitory + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1 + admitted);
}

/// HOST_A:5000 opens a UDP mapping, then `remotes` senders write to it: how many got in.
#[cfg(feature = "filtering")]
fn remotes_at_a_mapping<const T: usize, const U: usize, const I: usize>(
    nat: &mut Nat<T, U, I>,
    remotes: usize,
) -> usize {
    let mut out = udp(HOST_A, 5000, SERVER, 3478, b"stun");
    assert_eq!(nat.process(&mut out, &outbound(), 0), Verdict::Translated);
    let ext = sport(&out);
    (0..remotes)
        .filter(|&i| send(nat, inbound(), udp(remote(i), 6000, WAN_ADDR, ext, b"hi"), 0) == Verdict::Translated)
        .count()
}

#[cfg(feature = "filtering")]
#[test]
fn two_hundred_remotes_at_one_endpoint_independent_mapping_are_bounded() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let admitted = remotes_at_a_mapping(&mut *nat, 200);
    let quota = fair_share(nat.capacity(Protocol::Udp));
    assert_eq!(admitted, quota / 2);
    assert_eq!(nat.stats().dropped(DropReason::RemoteQuota), (200 - admitted) as u32);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1 + admitted);
    assert_eq!(dns(&mut nat, HOST_B, 5000, 0), Verdict::Translated);
    for port in 1..quota as u16 {
        assert_eq!(dns(&mut nat, HOST_A, port, 0), Verdict::Translated, "HOST_A's own flow {port}");
    }
}

#[cfg(feature = "filtering")]
#[test]
fn sessions_per_mapping_are_capped_whoever_opens_them() {
    let cap = 8;
    let config = Config {
        host_quota: 0,
        mapping_sessions: cap,
        udp_filtering: Filtering::EndpointIndependent,
        reject_when_full: false,
        ..Config::DEFAULT
    };
    let mut nat = nat_with(config);
    let admitted = remotes_at_a_mapping(&mut *nat, 200);
    assert_eq!(admitted, usize::from(cap) - 1);
    assert_eq!(nat.stats().dropped(DropReason::MappingFull), (200 - admitted) as u32);
    // The inside endpoint itself cannot grow the mapping either.
    assert_eq!(
        send(&mut nat, outbound(), udp(HOST_A, 5000, SERVER2, 53, b"q"), 0),
        Verdict::Drop(DropReason::MappingFull)
    );
    // Its other ports, and other hosts, are not affected.
    assert_eq!(send(&mut nat, outbound(), udp(HOST_A, 5001, SERVER2, 53, b"q"), 0), Verdict::Translated);
    assert_eq!(dns(&mut nat, HOST_B, 5000, 0), Verdict::Translated);
}

#[cfg(feature = "filtering")]
#[test]
fn the_default_mapping_cap_bounds_a_mapping_without_host_quota() {
    let config = Config { host_quota: 0, udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT };
    let cap = usize::from(Config::DEFAULT.mapping_sessions);
    assert!(cap >= 16, "a forwarded server serves a few dozen clients");
    let mut nat = Box::new(Nat::<64, 1024, 16>::new());
    nat.reset(config, [1, 2]).unwrap();
    nat.add_rule(lwip_snat::Rule::Source(LAN)).unwrap();
    let admitted = remotes_at_a_mapping(&mut *nat, cap + 200);
    assert_eq!(admitted, cap - 1);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), cap);
}

// ---------------------------------------------------------------- counters

/// 32768 TCP and 32768 UDP sessions of one host: more than a `u16` counts.
#[test]
fn a_host_with_more_than_65535_sessions_does_not_overflow_its_counter() {
    type Big = Nat<32768, 32768, 16>;
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut nat = Box::new(Big::new());
            nat.reset(Config { host_quota: 0, ..Config::DEFAULT }, [3, 4]).unwrap();
            nat.add_rule(lwip_snat::Rule::Source(LAN)).unwrap();
            for i in 0..32768u16 {
                let port = 1024 + i;
                assert_eq!(send(&mut *nat, outbound(), tcp(HOST_A, port, SERVER, 80, SYN), 0), Verdict::Translated);
                assert_eq!(send(&mut *nat, outbound(), udp(HOST_A, port, SERVER, 53, b"q"), 0), Verdict::Translated);
            }
            assert_eq!(nat.sessions_in_use(Protocol::Tcp) + nat.sessions_in_use(Protocol::Udp), 65536);
            nat.remove_host(addr(HOST_A));
            assert_eq!(nat.sessions_in_use(Protocol::Tcp) + nat.sessions_in_use(Protocol::Udp), 0);
            // The count went back to zero: a quota set now applies from scratch.
            nat.set_config(Config { host_quota: 1, ..Config::DEFAULT }).unwrap();
            assert_eq!(send(&mut *nat, outbound(), udp(HOST_A, 1, SERVER, 53, b"q"), 0), Verdict::Translated);
        })
        .unwrap()
        .join()
        .unwrap();
}
