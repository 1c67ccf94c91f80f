//! Conformance suite: one test per requirement of RFC 4787 (UDP), RFC 5382 (TCP),
//! RFC 5508 (ICMP), RFC 6056 (port choice), RFC 6888 (table limits) and RFC 7857 (updates),
//! named after the requirement it proves. Every translated packet has all its checksums
//! recomputed from scratch by test-kit's oracle.

mod common;

use common::*;
use lwip_snat::tables::Protocol;
#[cfg(feature = "filtering")]
use lwip_snat::Filtering;
use lwip_snat::{Config, Context, DropReason, IcmpRequest, Route, Rule, Verdict};

const MIN: u32 = 60_000;

fn verdict(nat: &mut TestNat, ctx: Context, p: &[u8], now: u32) -> Verdict {
    let mut copy = p.to_vec();
    let v = nat.process(&mut copy, &ctx, now);
    if v != Verdict::Translated {
        assert_eq!(copy, p, "a packet that is not translated is not modified");
    }
    v
}

// ---------------------------------------------------------------- mapping (RFC 4787 §4.1)

#[test]
fn rfc4787_req1_endpoint_independent_mapping() {
    let mut nat = nat();
    let a = out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"x"), 0);
    let b = out(&mut nat, udp(HOST_A, 5000, SERVER2, 9999, b"y"), 0);
    assert_eq!(src(&a), WAN_ADDR);
    assert_eq!(sport(&a), sport(&b), "same inside endpoint, same external port whatever the remote");
    let t1 = out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0);
    let t2 = out(&mut nat, tcp(HOST_A, 40000, SERVER2, 443, SYN), 0);
    assert_eq!(sport(&t1), sport(&t2), "RFC 5382 REQ-1 for TCP");
}

#[test]
fn rfc4787_req3_one_external_port_never_serves_two_inside_endpoints() {
    let mut nat = nat();
    let a = out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"a"), 0);
    let b = out(&mut nat, udp(HOST_B, 5000, SERVER, 53, b"b"), 0);
    assert_eq!(sport(&a), 5000, "first comer keeps its port");
    assert_ne!(sport(&a), sport(&b));
    // Replies reach the right host.
    let ra = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, sport(&a), b"ra"), 1);
    let rb = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, sport(&b), b"rb"), 1);
    assert_eq!((dst(&ra), dport(&ra)), (HOST_A, 5000));
    assert_eq!((dst(&rb), dport(&rb)), (HOST_B, 5000));
}

#[test]
fn rfc4787_req3a_port_class_kept_ntp_works() {
    let mut nat = nat();
    let a = out(&mut nat, udp(HOST_A, 123, SERVER, 123, b"ntp"), 0);
    assert_eq!(sport(&a), 123, "NTP's port is preserved when free");
    let b = out(&mut nat, udp(HOST_B, 123, SERVER, 123, b"ntp"), 0);
    assert!(sport(&b) < 1024 && sport(&b) != 123, "privileged stays privileged: {}", sport(&b));
    let c = out(&mut nat, udp(HOST_B, 2000, SERVER, 123, b"x"), 0);
    let d = out(&mut nat, udp(HOST_A, 2000, SERVER, 123, b"x"), 0);
    assert!(sport(&c) >= 1024 && sport(&d) >= 1024);
}

#[test]
fn rfc4787_req4_port_parity_kept() {
    let mut nat = nat();
    for (i, host) in [HOST_A, HOST_B, [192, 168, 1, 12], [192, 168, 1, 13]].iter().enumerate() {
        let p = out(&mut nat, udp(*host, 5004, SERVER, 5004, b"rtp"), 0);
        assert_eq!(sport(&p) % 2, 0, "even (RTP) port stays even for host {i}");
        let q = out(&mut nat, udp(*host, 5005, SERVER, 5005, b"rtcp"), 0);
        assert_eq!(sport(&q) % 2, 1, "odd (RTCP) port stays odd for host {i}");
    }
}

#[test]
fn rfc6056_chosen_ports_are_unpredictable_and_clear_of_lwip_ports() {
    let seeds = [[1u64, 2u64], [3, 4]];
    let mut chosen = Vec::new();
    for seed in seeds {
        let mut nat = Box::new(TestNat::new());
        nat.reset(Config::DEFAULT, seed).unwrap();
        nat.add_rule(Rule::Source(LAN)).unwrap();
        out(&mut nat, udp(HOST_A, 6000, SERVER, 53, b"a"), 0);
        let mut ports = Vec::new();
        for i in 0..10u8 {
            let p = out(&mut nat, udp([192, 168, 2, i], 6000, SERVER, 53, b"a"), 0);
            ports.push(sport(&p));
        }
        assert!(ports.iter().all(|&p| (1024..0xC000).contains(&p)), "{ports:?}");
        let sequential = ports.windows(2).filter(|w| w[1].abs_diff(w[0]) <= 2).count();
        assert!(sequential < 3, "ports look sequential: {ports:?}");
        chosen.push(ports);
    }
    assert_ne!(chosen[0], chosen[1], "a different seed gives different ports");
}

#[test]
fn source_port_in_lwip_ephemeral_range_is_never_preserved() {
    let mut nat = nat();
    let p = out(&mut nat, udp(HOST_A, 0xC001, SERVER, 53, b"a"), 0);
    assert!(sport(&p) < 0xC000, "{:#x}", sport(&p));
}

// ---------------------------------------------------------------- filtering (RFC 4787 §5)

#[test]
fn rfc4787_req8_address_and_port_dependent_filtering_by_default() {
    let mut nat = nat();
    let a = out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"x"), 0);
    let port = sport(&a);
    assert_eq!(
        verdict(&mut nat, inbound(), &udp(SERVER, 3479, WAN_ADDR, port, b"p"), 1),
        Verdict::Drop(DropReason::Filtered)
    );
    assert_eq!(
        verdict(&mut nat, inbound(), &udp(SERVER2, 3478, WAN_ADDR, port, b"p"), 1),
        Verdict::Drop(DropReason::Filtered)
    );
    inb(&mut nat, udp(SERVER, 3478, WAN_ADDR, port, b"ok"), 1);
    assert_eq!(nat.stats().dropped(DropReason::Filtered), 2);
}

#[cfg(feature = "filtering")]
#[test]
fn rfc4787_req8_address_dependent_filtering_selectable() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::AddressDependent, ..Config::DEFAULT });
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"x"), 0));
    let r = inb(&mut nat, udp(SERVER, 4000, WAN_ADDR, port, b"other port, same address"), 1);
    assert_eq!((dst(&r), dport(&r)), (HOST_A, 5000));
    assert_eq!(
        verdict(&mut nat, inbound(), &udp(SERVER2, 3478, WAN_ADDR, port, b"p"), 1),
        Verdict::Drop(DropReason::Filtered)
    );
}

#[cfg(feature = "filtering")]
#[test]
fn rfc4787_req8_endpoint_independent_filtering_selectable() {
    let mut nat = nat_with(Config { udp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"x"), 0));
    let r = inb(&mut nat, udp(SERVER2, 9, WAN_ADDR, port, b"anyone"), 1);
    assert_eq!((dst(&r), dport(&r)), (HOST_A, 5000));
    // The inside host's answer to the new remote leaves by the same external port.
    let back = out(&mut nat, udp(HOST_A, 5000, SERVER2, 9, b"hi"), 2);
    assert_eq!(sport(&back), port);
}

#[cfg(feature = "filtering")]
#[test]
fn rfc5382_req3_tcp_filtering_selectable_and_only_syn_opens() {
    let mut nat = nat_with(Config { tcp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT });
    let port = sport(&out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0));
    assert_eq!(
        verdict(&mut nat, inbound(), &tcp(SERVER2, 5555, WAN_ADDR, port, ACK), 1),
        Verdict::Drop(DropReason::Filtered)
    );
    let r = inb(&mut nat, tcp(SERVER2, 5555, WAN_ADDR, port, SYN), 1);
    assert_eq!((dst(&r), dport(&r)), (HOST_A, 40000));
}

#[test]
fn unsolicited_inbound_to_an_unmapped_port_passes_to_the_router_untouched() {
    let mut nat = nat();
    let p = udp(SERVER, 1234, WAN_ADDR, 68, b"dhcp or the router's own service");
    assert_eq!(verdict(&mut nat, inbound(), &p, 0), Verdict::Pass);
    assert_eq!(
        verdict(&mut nat, inbound(), &echo_request(SERVER, WAN_ADDR, 7, 1), 0),
        Verdict::Pass,
        "ping to the router"
    );
    assert_eq!(nat.stats().passed, 2);
}

// ---------------------------------------------------------------- timers

#[test]
fn rfc4787_req5_udp_mapping_lives_300s_by_default() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"q"), 0));
    inb(&mut nat, udp(SERVER, 3478, WAN_ADDR, port, b"r"), 300_000);
    nat.tick(300_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
    nat.tick(300_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
    assert_eq!(verdict(&mut nat, inbound(), &udp(SERVER, 3478, WAN_ADDR, port, b"late"), 300_002), Verdict::Pass);
    assert_eq!(nat.stats().expired[Protocol::Udp.index()], 1);
}

#[test]
fn rfc4787_req6_outbound_traffic_refreshes_inbound_does_not() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"q"), 0));
    for t in 1..=5 {
        inb(&mut nat, udp(SERVER, 3478, WAN_ADDR, port, b"r"), t * 60_000);
    }
    nat.tick(300_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "inbound traffic alone does not keep a UDP mapping");
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"q"), 400_000));
    out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"q"), 650_000);
    nat.tick(900_000);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1, "outbound at 650 s keeps it to 950 s");
    inb(&mut nat, udp(SERVER, 3478, WAN_ADDR, port, b"r"), 900_001);
}

#[test]
fn rfc4787_req5_udp_timeout_below_two_minutes_is_refused() {
    let mut nat = nat();
    assert!(nat.set_config(Config { udp_ms: 119_999, ..Config::DEFAULT }).is_err());
    assert!(nat.set_config(Config { udp_ms: 120_000, ..Config::DEFAULT }).is_ok());
    assert!(nat.set_config(Config { udp_ms: 10_000, allow_short_timeouts: true, ..Config::DEFAULT }).is_ok());
}

#[test]
fn rfc5382_req5_established_tcp_lives_2h04m() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0));
    inb(&mut nat, tcp(SERVER, 80, WAN_ADDR, port, SYN | ACK), 10);
    out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, ACK), 20);
    nat.tick(20 + 7_440_000);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
    inb(&mut nat, tcp_data(SERVER, 80, WAN_ADDR, port, ACK, b"still here"), 20 + 7_440_000);
    nat.tick(20 + 2 * 7_440_000 + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

#[test]
fn rfc5382_req5_partially_open_tcp_lives_4_minutes() {
    let mut nat = nat();
    out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0);
    nat.tick(240_000);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
    nat.tick(240_001);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

#[test]
fn rfc5382_req5_closing_tcp_lives_4_minutes_after_both_fins() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0));
    inb(&mut nat, tcp(SERVER, 80, WAN_ADDR, port, SYN | ACK), 1);
    out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, FIN | ACK), 2);
    inb(&mut nat, tcp(SERVER, 80, WAN_ADDR, port, FIN | ACK), 3);
    out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, ACK), 4);
    nat.tick(4 + 240_000);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 1);
    nat.tick(4 + 240_001);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

#[test]
fn rfc7857_2_2_rst_keeps_the_session_for_the_transitory_timeout() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0));
    inb(&mut nat, tcp(SERVER, 80, WAN_ADDR, port, SYN | ACK), 1);
    inb(&mut nat, tcp(SERVER, 80, WAN_ADDR, port, RST), 2);
    // A retransmitted RST or a late segment still finds the session.
    inb(&mut nat, tcp(SERVER, 80, WAN_ADDR, port, RST), 3);
    nat.tick(3 + 240_001);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

#[test]
fn rfc5382_req2_tcp_non_syn_without_session_is_dropped() {
    let mut nat = nat();
    assert_eq!(
        verdict(&mut nat, outbound(), &tcp(HOST_A, 40000, SERVER, 80, ACK), 0),
        Verdict::Drop(DropReason::NoMapping)
    );
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), 0);
}

#[test]
fn rfc5508_req2_icmp_query_mapping_lives_60s() {
    let mut nat = nat();
    let p = out(&mut nat, echo_request(HOST_A, SERVER, 0x1234, 1), 0);
    assert_eq!(src(&p), WAN_ADDR);
    let reply = inb(&mut nat, echo_reply(SERVER, WAN_ADDR, icmp_ident(&p), 1), 10);
    assert_eq!((dst(&reply), icmp_ident(&reply)), (HOST_A, 0x1234));
    nat.tick(MIN);
    assert_eq!(nat.sessions_in_use(Protocol::Icmp), 1);
    nat.tick(MIN + 1);
    assert_eq!(nat.sessions_in_use(Protocol::Icmp), 0);
}

#[test]
fn an_icmp_query_session_has_no_protocol_state() {
    // The dump (`lwip_snat_foreach`) shows an ICMP session's state bits as they are, which it
    // documents as 0: nothing sets them (created 0 either way; an outbound query clears a UDP
    // bit, an inbound one sets a bit only on a UDP query).
    let mut nat = nat();
    let icmp_states = |nat: &TestNat| -> Vec<u8> {
        nat.sessions().filter(|(p, _)| *p == Protocol::Icmp).map(|(_, s)| TestNat::session_state(s)).collect()
    };
    let p = out(&mut nat, echo_request(HOST_A, SERVER, 0x1234, 1), 0);
    assert_eq!(icmp_states(&nat), [0]);
    inb(&mut nat, echo_reply(SERVER, WAN_ADDR, icmp_ident(&p), 1), 10);
    assert_eq!(icmp_states(&nat), [0]);
    out(&mut nat, echo_request(HOST_A, SERVER, 0x1234, 2), 20);
    inb(&mut nat, echo_reply(SERVER, WAN_ADDR, icmp_ident(&p), 2), 30);
    out(&mut nat, echo_request(HOST_B, SERVER, 0x1234, 1), 40);
    assert_eq!(icmp_states(&nat), [0, 0]);
}

#[test]
fn timers_are_correct_across_the_u32_clock_wrap() {
    let mut nat = nat();
    let start = u32::MAX - 100_000;
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 3478, b"q"), start));
    let wrapped = start.wrapping_add(299_000);
    assert!(wrapped < start, "the clock wrapped");
    nat.tick(wrapped);
    inb(&mut nat, udp(SERVER, 3478, WAN_ADDR, port, b"r"), wrapped);
    nat.tick(start.wrapping_add(300_001));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[test]
fn an_expired_session_never_translates_even_without_a_tick() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    assert_eq!(verdict(&mut nat, inbound(), &udp(SERVER, 53, WAN_ADDR, port, b"late"), 300_001), Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

// ---------------------------------------------------------------- ICMP (RFC 5508)

#[test]
fn rfc5508_req1_echo_identifier_is_mapped_like_a_port() {
    let mut nat = nat();
    let a = out(&mut nat, echo_request(HOST_A, SERVER, 77, 1), 0);
    let b = out(&mut nat, echo_request(HOST_B, SERVER, 77, 1), 0);
    assert_ne!(icmp_ident(&a), icmp_ident(&b));
    let rb = inb(&mut nat, echo_reply(SERVER, WAN_ADDR, icmp_ident(&b), 1), 1);
    assert_eq!((dst(&rb), icmp_ident(&rb)), (HOST_B, 77));
    assert_eq!(
        verdict(&mut nat, inbound(), &echo_reply(SERVER2, WAN_ADDR, icmp_ident(&a), 1), 1),
        Verdict::Drop(DropReason::Filtered),
        "a reply from a host that was not pinged"
    );
}

#[test]
fn rfc5508_req3_inbound_port_unreachable_reaches_the_inside_host_with_every_checksum_fixed() {
    let mut nat = nat();
    let sent = out(&mut nat, udp(HOST_A, 5000, SERVER, 9, b"to a closed port"), 0);
    let err = icmp_error(SERVER, WAN_ADDR, 3, 3, &sent, sent.len());
    let got = inb(&mut nat, err, 1);
    assert_eq!(dst(&got), HOST_A);
    let q = quoted(&got);
    assert_eq!((src(q), sport(q)), (HOST_A, 5000), "the quoted datagram is what the host sent");
    assert_eq!(q, &udp(HOST_A, 5000, SERVER, 9, b"to a closed port")[..]);
    assert_eq!(nat.stats().icmp_errors_translated, 1);
    // Counted in its own direction, in every build (without `hairpin` the pipeline counts a
    // translation by its route): the datagram out, the error in.
    assert_eq!((nat.stats().translated_out, nat.stats().translated_in), (1, 1));
}

#[test]
fn rfc5508_req3_time_exceeded_quoting_8_bytes_traceroute_udp_and_icmp() {
    let mut nat = nat();
    let mut probe = udp(HOST_A, 33434, SERVER, 33434, b"traceroute probe");
    set_ttl(&mut probe, 3);
    let sent = out(&mut nat, probe, 0);
    let router = [198, 51, 100, 1];
    let got = inb(&mut nat, icmp_error(router, WAN_ADDR, 11, 0, &sent, 28), 1);
    assert_eq!(src(&got), router, "the reporting router stays visible");
    assert_eq!((dst(&got), src(quoted(&got)), sport(quoted(&got))), (HOST_A, HOST_A, 33434));

    let ping = out(&mut nat, echo_request(HOST_A, SERVER, 0x4242, 9), 0);
    let got = inb(&mut nat, icmp_error(router, WAN_ADDR, 11, 0, &ping, 28), 1);
    let q = quoted(&got);
    assert_eq!((dst(&got), src(q), icmp_ident(q)), (HOST_A, HOST_A, 0x4242));
}

#[test]
fn rfc5508_req3_tcp_error_quoting_the_checksum_gets_it_fixed() {
    let mut nat = nat();
    let sent = out(&mut nat, tcp(HOST_A, 40000, SERVER, 80, SYN), 0);
    let got = inb(&mut nat, icmp_error(SERVER, WAN_ADDR, 3, 1, &sent, sent.len()), 1);
    assert_eq!(quoted(&got), &tcp(HOST_A, 40000, SERVER, 80, SYN)[..]);
}

#[test]
fn rfc5508_req4_outbound_error_from_an_inside_host_is_translated() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    let reply = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, port, b"answer"), 1);
    // The inside host's socket is gone: it answers Port Unreachable about the reply.
    let got = out(&mut nat, icmp_error(HOST_A, SERVER, 3, 3, &reply, reply.len()), 2);
    assert_eq!((src(&got), dst(&got)), (WAN_ADDR, SERVER));
    let q = quoted(&got);
    assert_eq!((dst(q), dport(q)), (WAN_ADDR, port));
    assert_eq!(q, &udp(SERVER, 53, WAN_ADDR, port, b"answer")[..], "quoted exactly as the server sent it");
    // The query and the error out, the reply in.
    assert_eq!((nat.stats().translated_out, nat.stats().translated_in, nat.stats().icmp_errors_translated), (2, 1, 1));
}

#[test]
fn rfc5508_req4_error_from_an_inside_router_gets_the_external_source() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    let reply = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, port, b"answer"), 1);
    let inside_router = [192, 168, 1, 1];
    let got = out(&mut nat, icmp_error(inside_router, SERVER, 11, 0, &reply, 28), 2);
    assert_eq!(src(&got), WAN_ADDR, "no private address leaves");
}

#[test]
fn rfc5508_req5_errors_with_bad_checksums_are_dropped() {
    let mut nat = nat();
    let sent = out(&mut nat, udp(HOST_A, 5000, SERVER, 9, b"x"), 0);
    let mut bad_icmp = icmp_error(SERVER, WAN_ADDR, 3, 3, &sent, sent.len());
    bad_icmp[22] ^= 0xFF;
    assert_eq!(verdict(&mut nat, inbound(), &bad_icmp, 1), Verdict::Drop(DropReason::IcmpBadChecksum));
    let mut bad_quote = sent.clone();
    bad_quote[10] ^= 0x55;
    let err = icmp_error(SERVER, WAN_ADDR, 3, 3, &bad_quote, bad_quote.len());
    assert_eq!(verdict(&mut nat, inbound(), &err, 1), Verdict::Drop(DropReason::IcmpBadChecksum));
    assert_eq!(nat.stats().dropped(DropReason::IcmpBadChecksum), 2);
}

#[test]
fn rfc5508_req6_errors_matching_no_mapping() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    // Outbound, about a datagram no mapping knows: dropped, never leaked.
    let stray = udp(SERVER2, 53, HOST_B, 7777, b"?");
    let err = icmp_error(HOST_B, SERVER2, 3, 3, &stray, stray.len());
    assert_eq!(verdict(&mut nat, outbound(), &err, 1), Verdict::Drop(DropReason::IcmpNoMapping));
    // Inbound, about a remote the mapping never talked to: dropped.
    let forged = udp(WAN_ADDR, port, SERVER2, 53, b"?");
    let err = icmp_error(SERVER2, WAN_ADDR, 3, 3, &forged, forged.len());
    assert_eq!(verdict(&mut nat, inbound(), &err, 1), Verdict::Drop(DropReason::IcmpNoMapping));
    // Inbound, about the router's own traffic (no mapping on that port): lwIP's business.
    let own = udp(WAN_ADDR, 0xC123, SERVER, 53, b"router's own");
    let err = icmp_error(SERVER, WAN_ADDR, 3, 3, &own, own.len());
    assert_eq!(verdict(&mut nat, inbound(), &err, 1), Verdict::Pass);
    // Too short to name a datagram, on the NAT path: dropped.
    let err = icmp_error(HOST_A, SERVER, 3, 3, &stray, 24);
    assert_eq!(verdict(&mut nat, outbound(), &err, 1), Verdict::Drop(DropReason::IcmpMalformed));
}

#[test]
fn rfc4787_req12_icmp_errors_never_create_or_refresh_mappings() {
    let mut nat = nat();
    let sent = out(&mut nat, udp(HOST_A, 5000, SERVER, 9, b"x"), 0);
    let before = nat.stats().created;
    for t in [100_000, 200_000, 290_000] {
        inb(&mut nat, icmp_error(SERVER, WAN_ADDR, 3, 3, &sent, sent.len()), t);
    }
    assert_eq!(nat.stats().created, before);
    nat.tick(300_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "errors did not refresh the mapping");
}

// ---------------------------------------------------------------- checksums

#[test]
fn udp_zero_checksum_stays_zero_both_ways() {
    let mut nat = nat();
    let mut p = udp(HOST_A, 5000, SERVER, 53, b"no checksum");
    p[26] = 0;
    p[27] = 0;
    let o = out(&mut nat, p, 0);
    assert_eq!(&o[26..28], &[0, 0]);
    let mut r = udp(SERVER, 53, WAN_ADDR, sport(&o), b"none either");
    r[26] = 0;
    r[27] = 0;
    let i = inb(&mut nat, r, 1);
    assert_eq!(&i[26..28], &[0, 0]);
}

// ---------------------------------------------------------------- path MTU and TTL

#[test]
fn ttl_1_on_the_forward_path_is_left_untranslated_for_lwip() {
    let mut nat = nat();
    let mut p = udp(HOST_A, 5000, SERVER, 33434, b"probe");
    set_ttl(&mut p, 1);
    assert_eq!(verdict(&mut nat, outbound(), &p, 0), Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[test]
fn ttl_1_icmp_query_on_the_forward_path_asks_for_time_exceeded() {
    // lwIP's ip4_forward() answers no ICMP message with Time Exceeded: without this an ICMP
    // traceroute (`traceroute -I`) shows no router hop.
    let mut nat = nat();
    let mut p = echo_request(HOST_A, SERVER, 0x4242, 1);
    set_ttl(&mut p, 1);
    assert_eq!(verdict(&mut nat, outbound(), &p, 0), Verdict::SendIcmp(IcmpRequest::TimeExceeded));
    assert_eq!(nat.sessions_in_use(Protocol::Icmp), 0, "nothing left the router");
    // an ICMP error with TTL 1 gets no error about it (RFC 1812 4.3.2.7): left to lwIP, which drops it
    let mut e = icmp_error(HOST_A, SERVER, 3, 3, &udp(SERVER, 53, HOST_A, 5000, b"x"), 28);
    set_ttl(&mut e, 1);
    assert_eq!(verdict(&mut nat, outbound(), &e, 0), Verdict::Pass);
}

#[test]
fn ttl_1_on_the_inbound_path_asks_for_time_exceeded_before_translating() {
    let mut nat = nat();
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    let mut r = udp(SERVER, 53, WAN_ADDR, port, b"r");
    set_ttl(&mut r, 1);
    assert_eq!(verdict(&mut nat, inbound(), &r, 1), Verdict::SendIcmp(IcmpRequest::TimeExceeded));
    assert_eq!(nat.stats().icmp_requested, 1);
}

#[test]
fn df_datagram_larger_than_the_output_mtu_asks_for_frag_needed_with_the_mtu() {
    let mut nat = nat();
    let mut p = udp(HOST_A, 5000, SERVER, 53, &[0u8; 1400]);
    set_df(&mut p);
    let ctx =
        Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: 1280 } };
    assert_eq!(verdict(&mut nat, ctx, &p, 0), Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu: 1280 }));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
    out(&mut nat, p, 0);
}

// ---------------------------------------------------------------- table full and quota

#[test]
fn rfc6888_req11_table_full_never_evicts_a_live_mapping() {
    let mut nat = nat_with(Config { host_quota: 0, reject_when_full: false, ..Config::DEFAULT });
    let mut ports = Vec::new();
    for i in 0..64u16 {
        ports.push(sport(&out(&mut nat, udp(HOST_A, 10_000 + i, SERVER, 53, b"q"), 0)));
    }
    assert_eq!(
        verdict(&mut nat, outbound(), &udp(HOST_B, 1, SERVER, 53, b"q"), 1),
        Verdict::Drop(DropReason::TableFull)
    );
    for (i, &port) in ports.iter().enumerate() {
        let r = inb(&mut nat, udp(SERVER, 53, WAN_ADDR, port, b"r"), 2);
        assert_eq!(dport(&r), 10_000 + i as u16, "every live mapping survived");
    }
    assert_eq!(nat.sessions_high_water(Protocol::Udp), 64);
}

#[test]
fn table_full_reclaims_expired_sessions_first() {
    let mut nat = nat_with(Config { host_quota: 0, ..Config::DEFAULT });
    for i in 0..64u16 {
        out(&mut nat, udp(HOST_A, 10_000 + i, SERVER, 53, b"q"), 0);
    }
    out(&mut nat, udp(HOST_A, 10_000, SERVER, 53, b"refresh"), 200_000);
    // At 300.001 s, 63 sessions are expired (no tick ran): the new flow reclaims them.
    out(&mut nat, udp(HOST_B, 1, SERVER, 53, b"new"), 300_001);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 2);
}

#[test]
fn a_flood_against_a_full_table_scans_it_at_most_once_a_second() {
    let mut nat = nat_with(Config { host_quota: 0, reject_when_full: false, ..Config::DEFAULT });
    for i in 0..64u16 {
        out(&mut nat, udp(HOST_A, 10_000 + i, SERVER, 53, b"q"), 0);
    }
    let new_flow = udp(HOST_B, 1, SERVER, 53, b"new");
    // A scan at 299.5 s finds every session alive...
    assert_eq!(verdict(&mut nat, outbound(), &new_flow, 299_500), Verdict::Drop(DropReason::TableFull));
    // ...so until a second has passed, new flows are refused without another scan, even though
    // the sessions have expired by now (no tick ran).
    assert_eq!(verdict(&mut nat, outbound(), &new_flow, 300_400), Verdict::Drop(DropReason::TableFull));
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 64);
    // A second later the next new flow reclaims them.
    out(&mut nat, new_flow, 300_500);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 1);
}

#[test]
fn table_full_answers_icmp_admin_prohibited_when_configured() {
    let mut nat = nat_with(Config { host_quota: 0, ..Config::DEFAULT });
    for i in 0..64u16 {
        out(&mut nat, tcp(HOST_A, 10_000 + i, SERVER, 80, SYN), 0);
    }
    assert_eq!(
        verdict(&mut nat, outbound(), &tcp(HOST_B, 1, SERVER, 80, SYN), 1),
        Verdict::SendIcmp(IcmpRequest::AdminProhibited)
    );
    assert_eq!(nat.stats().dropped(DropReason::TableFull), 1);
}

#[test]
fn rfc6888_req4_per_host_quota() {
    let mut nat = nat_with(Config { host_quota: 4, reject_when_full: false, ..Config::DEFAULT });
    for i in 0..4u16 {
        out(&mut nat, udp(HOST_A, 10_000 + i, SERVER, 53, b"q"), 0);
    }
    assert_eq!(
        verdict(&mut nat, outbound(), &udp(HOST_A, 10_004, SERVER, 53, b"q"), 0),
        Verdict::Drop(DropReason::HostQuota)
    );
    // The quota is per protocol table: the host's TCP, and other hosts, are not affected.
    out(&mut nat, tcp(HOST_A, 20_000, SERVER, 80, SYN), 0);
    out(&mut nat, udp(HOST_B, 10_004, SERVER, 53, b"q"), 0);
    // Existing sessions of the host still work, and its quota frees up on expiry.
    out(&mut nat, udp(HOST_A, 10_000, SERVER, 53, b"again"), 1);
    nat.tick(300_002);
    out(&mut nat, udp(HOST_A, 10_004, SERVER, 53, b"q"), 300_002);
    assert_eq!(nat.stats().dropped(DropReason::HostQuota), 1);
}

// ---------------------------------------------------------------- validation

#[test]
fn invalid_ipv4_headers_are_dropped_and_counted() {
    let mut nat = nat();
    let good = udp(HOST_A, 5000, SERVER, 53, b"q");
    let mut version = good.clone();
    version[0] = 0x65;
    let mut ihl = good.clone();
    ihl[0] = 0x44;
    let mut long = good.clone();
    long[3] += 1;
    refill_ip_checksum(&mut long);
    let mut checksum = good.clone();
    checksum[10] ^= 1;
    for (p, reason) in [
        (&version, DropReason::Malformed),
        (&ihl, DropReason::Malformed),
        (&long, DropReason::Malformed),
        (&good[..19].to_vec(), DropReason::Malformed),
        (&checksum, DropReason::BadChecksum),
    ] {
        assert_eq!(verdict(&mut nat, outbound(), p, 0), Verdict::Drop(reason));
    }
    assert_eq!(nat.stats().total_dropped(), 5);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

#[test]
fn martian_sources_are_never_forwarded() {
    let mut nat = nat();
    for martian in [[0, 0, 0, 0], [127, 0, 0, 1], [224, 0, 0, 5], [255, 255, 255, 255]] {
        let p = udp(martian, 5000, SERVER, 53, b"q");
        assert_eq!(verdict(&mut nat, outbound(), &p, 0), Verdict::Drop(DropReason::Martian));
    }
    assert_eq!(nat.stats().dropped(DropReason::Martian), 4);
    // A DHCP discover to the router itself (source 0.0.0.0) is the router's business.
    let ctx = Context { in_netif: LAN, route: Route::Local { netif: LAN, mtu: 1500 } };
    assert_eq!(verdict(&mut nat, ctx, &udp([0, 0, 0, 0], 68, [255, 255, 255, 255], 67, b"discover"), 0), Verdict::Pass);
}

#[test]
fn truncated_transport_headers_on_a_nat_path_are_dropped() {
    let mut nat = nat();
    let mut p = udp(HOST_A, 5000, SERVER, 53, b"");
    p.truncate(24);
    p[3] = 24;
    refill_ip_checksum(&mut p);
    assert_eq!(verdict(&mut nat, outbound(), &p, 0), Verdict::Drop(DropReason::BadTransport));
}

#[test]
fn unknown_protocols_on_a_nat_path_are_dropped_not_leaked() {
    let mut nat = nat();
    let mut gre = udp(HOST_A, 5000, SERVER, 53, b"pretend GRE");
    gre[9] = 47;
    refill_ip_checksum(&mut gre);
    assert_eq!(verdict(&mut nat, outbound(), &gre, 0), Verdict::Drop(DropReason::UnsupportedProtocol));
    let mut esp = gre.clone();
    esp[9] = 50;
    refill_ip_checksum(&mut esp);
    assert_eq!(verdict(&mut nat, outbound(), &esp, 0), Verdict::Drop(DropReason::UnsupportedProtocol));
    // Addressed to the router, it is lwIP's to handle.
    assert_eq!(verdict(&mut nat, inbound(), &esp, 0), Verdict::Pass);
}

/// Without reassembly fragments on a NAT path are dropped: tests/reassembly.rs asserts that.
#[cfg(feature = "reassembly")]
#[test]
fn rfc4787_req14_out_of_order_fragments_are_reassembled_before_translation() {
    let mut nat = nat();
    let whole = udp(HOST_A, 5000, SERVER, 53, &[7u8; 64]); // 72 bytes of IP payload
    let mut first = whole[..20 + 32].to_vec();
    first[2..4].copy_from_slice(&52u16.to_be_bytes());
    first[6] = 0x20; // MF, offset 0
    refill_ip_checksum(&mut first);
    let mut second = whole[..20].to_vec();
    second.extend_from_slice(&whole[20 + 32..]);
    second[2..4].copy_from_slice(&60u16.to_be_bytes());
    second[6..8].copy_from_slice(&4u16.to_be_bytes()); // offset 32 bytes, last
    refill_ip_checksum(&mut second);
    // The second fragment has no ports: it is held until the first one arrives.
    assert_eq!(verdict(&mut nat, outbound(), &second, 0), Verdict::Held);
    assert_eq!(verdict(&mut nat, outbound(), &first, 0), Verdict::Reassembled(whole.len()));
    // The shim feeds the whole datagram back to ip4_input (DF cleared, like lwIP's ip4_reass).
    let mut expected = whole.clone();
    expected[6] = 0;
    refill_ip_checksum(&mut expected);
    assert_eq!(nat.reassembled(), &expected[..]);
    let whole = nat.reassembled().to_vec();
    let p = out(&mut nat, whole, 0);
    assert_eq!((src(&p), sport(&p)), (WAN_ADDR, 5000));
}

// ---------------------------------------------------------------- rules

#[test]
fn rules_decide_which_forwarded_packets_are_translated() {
    let mut nat = nat();
    // DMZ → WAN matches no rule: forwarded as is.
    let ctx =
        Context { in_netif: DMZ, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: 1500 } };
    assert_eq!(verdict(&mut nat, ctx, &udp([172, 16, 0, 2], 5000, SERVER, 53, b"q"), 0), Verdict::Pass);
    // WAN → LAN straight to an inside address goes against Source(LAN): dropped.
    let reverse =
        Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: addr(HOST_A), out_mtu: 1500 } };
    assert_eq!(
        verdict(&mut nat, reverse, &udp(SERVER, 53, HOST_A, 5000, b"x"), 0),
        Verdict::Drop(DropReason::ReverseDirection)
    );
    // Pair and Outbound rules.
    nat.remove_rule(Rule::Source(LAN)).unwrap();
    nat.add_rule(Rule::Pair(DMZ, WAN)).unwrap();
    assert_eq!(verdict(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0), Verdict::Pass);
    assert_eq!(verdict(&mut nat, ctx, &udp([172, 16, 0, 2], 5000, SERVER, 53, b"q"), 0), Verdict::Translated);
    nat.add_rule(Rule::Outbound(WAN)).unwrap();
    assert_eq!(verdict(&mut nat, outbound(), &udp(HOST_A, 5000, SERVER, 53, b"q"), 0), Verdict::Translated);
    assert_eq!(nat.add_rule(Rule::Outbound(WAN)), Err(lwip_snat::RuleError::Exists));
}

#[test]
fn reverse_direction_traffic_of_a_live_session_passes() {
    let mut nat = nat();
    out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let reverse =
        Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: addr(HOST_A), out_mtu: 1500 } };
    assert_eq!(verdict(&mut nat, reverse, &udp(SERVER, 53, HOST_A, 5000, b"x"), 1), Verdict::Pass);
}

// ---------------------------------------------------------------- management

#[test]
fn netif_change_remove_host_and_flush_drop_mappings() {
    let mut nat = nat();
    let pa = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    out(&mut nat, udp(HOST_B, 5001, SERVER, 53, b"q"), 0);
    out(&mut nat, tcp(HOST_B, 5002, SERVER, 80, SYN), 0);
    nat.remove_host(addr(HOST_A));
    assert_eq!(verdict(&mut nat, inbound(), &udp(SERVER, 53, WAN_ADDR, pa, b"r"), 1), Verdict::Pass);
    assert_eq!(nat.sessions().count(), 2);
    nat.netif_changed(WAN);
    assert_eq!(nat.sessions().count(), 0);
    out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 2);
    nat.flush();
    assert_eq!(nat.sessions().count(), 0);
    assert!(nat.rules().count() == 1, "flush keeps the rules");
}

#[test]
fn every_packet_lands_in_exactly_one_counter() {
    let mut nat = nat();
    let mut n = 0;
    let port = sport(&out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0));
    n += 1;
    inb(&mut nat, udp(SERVER, 53, WAN_ADDR, port, b"r"), 1);
    n += 1;
    verdict(&mut nat, inbound(), &udp(SERVER, 54, WAN_ADDR, port, b"f"), 1);
    n += 1;
    verdict(&mut nat, inbound(), &udp(SERVER, 54, WAN_ADDR, 7, b"p"), 1);
    n += 1;
    let s = nat.stats();
    assert_eq!(s.translated_out + s.translated_in + s.passed + s.total_dropped() + s.icmp_requested, n);
}
