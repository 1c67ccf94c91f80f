//! The established-flow fast path changes nothing but speed: random traffic of a few hosts and
//! servers (SYNs, ACKs, FINs, RSTs, UDP, replies, strays, hairpins), with hostile variations
//! (TTL 0/1, DF over the MTU, IP options, fragments, bad checksums, truncation, martian
//! sources) and a clock that lets sessions expire, goes through two identical NATs: one with
//! `process` (fast path first), one with `process_general` (the general pipeline alone). After
//! every packet both must agree on the verdict, the bytes, every session and every counter.

mod common;

use common::*;
use lwip_snat::{Config, Context, Filtering, Protocol, Route, Verdict};
use proptest::prelude::*;

const INSIDE: [[u8; 4]; 3] = [HOST_A, HOST_B, [127, 0, 0, 1]];
const REMOTES: [[u8; 4]; 3] = [SERVER, SERVER2, [224, 0, 0, 9]];
const PORTS: [u16; 3] = [5000, 5001, 443];
/// The service port of each remote: DNS and NTP, whose sessions have short timers once
/// answered, and HTTPS.
const SERVICES: [u16; 3] = [53, 123, 443];

#[derive(Clone, Debug)]
struct Step {
    direction: u8,
    tcp: bool,
    flags: u8,
    host: usize,
    remote: usize,
    port: usize,
    /// Which live session an inbound packet answers (modulo their number), if any.
    answer: Option<usize>,
    ttl: u8,
    mangle: u8,
    advance_ms: u32,
}

fn step() -> impl Strategy<Value = Step> {
    (
        (0u8..4, any::<bool>(), prop::sample::select(vec![0x02, 0x10, 0x12, 0x11, 0x14, 0x04, 0x18, 0x01])),
        (0..INSIDE.len(), 0..REMOTES.len(), 0..PORTS.len(), prop::option::of(0usize..64)),
        (
            prop::sample::select(vec![64u8, 64, 64, 2, 1, 0]),
            0u8..16,
            prop::sample::select(vec![0u32, 0, 10, 5_000, 40_000]),
        ),
    )
        .prop_map(|((direction, tcp, flags), (host, remote, port, answer), (ttl, mangle, advance_ms))| Step {
            direction,
            tcp,
            flags,
            host,
            remote,
            port,
            answer,
            ttl,
            mangle,
            advance_ms,
        })
}

fn build(tcp: bool, flags: u8, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, ttl: u8) -> Vec<u8> {
    if tcp {
        let flags = flags & (FIN | SYN | RST | ACK);
        let fields = TcpFields { sport, dport, seq: 1000, ack: 0, flags, window: 4096 };
        packet(src, dst, 6, ttl, &tcp_segment(fields, &[], b"data"))
    } else {
        packet(src, dst, 17, ttl, &udp_segment(sport, dport, b"datagram"))
    }
}

/// Variations a hostile or unusual network produces; most leave the packet as built.
fn mangle(p: &mut Vec<u8>, how: u8) {
    match how {
        1 => set_df(p),
        2 => p[10] ^= 0x01, // bad header checksum
        3 => {
            // MF: a first fragment.
            p[6] |= 0x20;
            refill_ip_checksum(p);
        }
        4 => {
            // IHL 6: a 4-byte option (NOPs) shifts the transport header.
            let mut q = p[..20].to_vec();
            q[0] = 0x46;
            q.extend_from_slice(&[1, 1, 1, 1]);
            q.extend_from_slice(&p[20..]);
            let len = q.len() as u16;
            q[2..4].copy_from_slice(&len.to_be_bytes());
            *p = q;
            refill_ip_checksum(p);
        }
        5 => p.truncate(30), // total length beyond the buffer
        6 => {
            // Transport checksum wrong: the NAT translates it incrementally (stays wrong).
            let at = if p[9] == 6 { 36 } else { 26 };
            p[at] ^= 0x40;
        }
        8 => {
            // DF clear (the builder sets it): non-atomic, so translated with a fresh IP ID.
            p[6] &= !0x40;
            refill_ip_checksum(p);
        }
        7 => {
            // TCP data offset 4 / UDP length past the datagram.
            if p[9] == 6 {
                p[32] = 0x40;
            } else {
                p[24] = 0xFF;
            }
        }
        _ => {}
    }
}

fn context(direction: u8) -> Context {
    match direction {
        0 | 1 => outbound(),
        2 => inbound(),
        // An inside host sending to the external address: hairpinning.
        _ => Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } },
    }
}

fn sessions(nat: &TestNat) -> Vec<(Protocol, lwip_snat::tables::Session)> {
    nat.sessions().map(|(p, s)| (p, *s)).collect()
}

/// The filtering modes the build has (without `filtering`, address and port dependent only).
fn filters() -> Vec<Filtering> {
    if cfg!(feature = "filtering") {
        vec![Filtering::EndpointIndependent, Filtering::AddressDependent, Filtering::AddressAndPortDependent]
    } else {
        vec![Filtering::AddressAndPortDependent]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_and_general_pipeline_agree(
        filtering in prop::sample::select(filters()),
        steps in prop::collection::vec(step(), 1..120),
    ) {
        let config = Config {
            udp_filtering: filtering,
            tcp_filtering: filtering,
            allow_short_timeouts: true,
            udp_ms: 30_000,
            tcp_transitory_ms: 20_000,
            tcp_established_ms: 60_000,
            udp_dns_ms: 5_000,
            udp_ntp_ms: 8_000,
            ..Config::DEFAULT
        };
        let mut fast = nat_with(config);
        let mut general = nat_with(config);
        let mut now = 1_000u32;
        let mut fast_translated = 0;
        // Every run starts with a connection and a UDP flow, so the random steps find
        // established sessions to hit (and miss, and expire).
        let opening = Step { direction: 0, tcp: true, flags: SYN, host: 0, remote: 0, port: 0, answer: None, ttl: 64, mangle: 0, advance_ms: 0 };
        let prefix = [
            opening.clone(),
            Step { direction: 2, flags: SYN | ACK, answer: Some(0), ..opening.clone() },
            Step { flags: ACK, ..opening.clone() },
            Step { tcp: false, port: 1, ..opening },
        ];
        for s in prefix.iter().chain(&steps) {
            now = now.wrapping_add(s.advance_ms);
            let ctx = context(s.direction);
            let live = sessions(&fast);
            let mut packet = match (s.direction, s.answer) {
                // A reply to a live session (or a stray to its port) from its remote or another.
                (2 | 3, Some(i)) if !live.is_empty() => {
                    let (protocol, session) = live[i % live.len()];
                    let remote = if s.remote == 0 { session.remote.to_be_bytes() } else { REMOTES[s.remote] };
                    let sport = if s.port == 0 { session.remote_port } else { PORTS[s.port] };
                    let src = if s.direction == 3 { INSIDE[s.host] } else { remote };
                    build(protocol == Protocol::Tcp, s.flags, src, sport, WAN_ADDR, session.ext_port, s.ttl)
                }
                (2 | 3, _) => build(s.tcp, s.flags, REMOTES[s.remote], SERVICES[s.remote], WAN_ADDR, PORTS[s.port], s.ttl),
                _ => build(s.tcp, s.flags, INSIDE[s.host], PORTS[s.port], REMOTES[s.remote], SERVICES[s.remote], s.ttl),
            };
            mangle(&mut packet, s.mangle);
            let mut copy = packet.clone();
            let v_fast = fast.process(&mut packet, &ctx, now);
            let v_general = general.process_general(&mut copy, &ctx, now);
            prop_assert_eq!(v_fast, v_general, "verdict for {:?}", s);
            prop_assert_eq!(&packet, &copy, "bytes for {:?}", s);
            prop_assert_eq!(fast.stats(), general.stats(), "counters after {:?}", s);
            prop_assert_eq!(sessions(&fast), sessions(&general), "sessions after {:?}", s);
            if v_fast == Verdict::Translated {
                fast_translated += 1;
            }
            if s.mangle % 4 == 0 && s.advance_ms == 0 {
                fast.tick(now);
                general.tick(now);
            }
        }
        // Not a vacuous agreement: the opening translated through both.
        prop_assert!(fast_translated >= prefix.len());
    }
}

/// A connection's handshake and its established segments both ways come out byte for byte the
/// same from the fast path as from the general pipeline, translated to the right endpoints.
#[test]
fn an_established_connection_translates_the_same_both_ways() {
    let (mut fast, mut general) = (nat(), nat());
    let mut ext = 0;
    let segments = [
        (SYN, true),
        (SYN | ACK, false),
        (ACK, true),
        (ACK, false),
        (ACK | 0x08, true),
        (FIN | ACK, false),
        (ACK, true),
    ];
    for (i, (flags, out)) in segments.into_iter().enumerate() {
        let (packet, ctx) = if out {
            (tcp(HOST_A, 5000, SERVER, 443, flags), outbound())
        } else {
            (tcp(SERVER, 443, WAN_ADDR, ext, flags), inbound())
        };
        let (mut a, mut b) = (packet.clone(), packet);
        let now = 10 + i as u32;
        assert_eq!(fast.process(&mut a, &ctx, now), Verdict::Translated, "segment {i}");
        assert_eq!(general.process_general(&mut b, &ctx, now), Verdict::Translated, "segment {i}");
        assert_eq!(a, b, "segment {i}");
        assert_checksums(&a);
        if out {
            ext = sport(&a);
            assert_eq!((src(&a), dst(&a), dport(&a)), (WAN_ADDR, SERVER, 443));
        } else {
            assert_eq!((src(&a), sport(&a), dst(&a), dport(&a)), (SERVER, 443, HOST_A, 5000));
        }
    }
    assert_eq!(fast.stats(), general.stats());
    assert_eq!(sessions(&fast), sessions(&general));
}
