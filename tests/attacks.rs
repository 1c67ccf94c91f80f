//! Hostile load through `Nat::process`, deterministic (a fixed-seed generator): a SYN flood
//! from one LAN host to its quota and then to a full table, an unsolicited flood from the WAN
//! to random ports, port exhaustion on one external address, a burst of ICMP errors quoting
//! random tuples, and a flood of fragments that never complete.
//!
//! Every packet goes through [`Border::send`], which asserts that the counters account for it
//! exactly once, that a packet not translated is not modified, that a translated one has every
//! checksum right (test-kit's oracle recomputes them) and that nothing leaves the outbound netif with
//! a private source. Established flows are exercised during and after each attack and must
//! keep their external ports; tables and the fragment pool never exceed their capacity, and
//! once the attack ages out every slot and quota it took is free again.

mod common;

use std::collections::BTreeMap;

use common::*;
use lwip_snat::config::{REASS_BYTES, REASS_SLOTS};
use lwip_snat::tables::Protocol;
use lwip_snat::{Config, Context, DropReason, IcmpRequest, Route, Verdict};
use test_kit::rng::Rng;

const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp];
const REFUSALS: [DropReason; 3] = [DropReason::TableFull, DropReason::HostQuota, DropReason::PortsExhausted];

/// What became of the packets sent, by outcome; refusals answered with ICMP 3/13 are filed
/// under the reason whose counter moved.
#[derive(Default)]
struct Tally {
    translated: u64,
    passed: u64,
    held: u64,
    reassembled: u64,
    dropped: BTreeMap<u8, u64>,
    refused: BTreeMap<u8, u64>,
    icmp: u64,
}

/// The NAT on the LAN/WAN border, with the ledger of everything sent through it.
struct Border {
    nat: Box<TestNat>,
    tally: Tally,
}

/// How a packet that got `Translated` or `Pass` through [`Border::send`] came out.
struct Sent {
    verdict: Verdict,
    bytes: Vec<u8>,
}

impl Border {
    fn new(config: Config) -> Border {
        Border { nat: nat_with(config), tally: Tally::default() }
    }

    fn send(&mut self, packet: &[u8], ctx: Context, now: u32) -> Sent {
        let before = *self.nat.stats();
        let mut bytes = packet.to_vec();
        let verdict = self.nat.process(&mut bytes, &ctx, now);
        let after = *self.nat.stats();
        let moved = |f: fn(&lwip_snat::Stats) -> u32| u64::from(f(&after).wrapping_sub(f(&before)));
        let all = moved(|s| s.translated_out)
            + moved(|s| s.translated_in)
            + moved(|s| s.hairpinned)
            + moved(|s| s.passed)
            + moved(|s| s.fragments_held)
            + moved(|s| s.total_dropped())
            + moved(|s| s.icmp_requested)
            + moved(|s| s.resets_requested);
        let dropped_for = |r: DropReason| after.dropped(r).wrapping_sub(before.dropped(r));
        match verdict {
            Verdict::Translated => {
                assert_eq!(all, 1, "one counter per packet");
                assert_checksums(&bytes);
                if let Route::Forward { out_addr, .. } = ctx.route {
                    assert_eq!(addr(src(&bytes)), out_addr, "translated packets leave from the NAT's address");
                }
                self.tally.translated += 1;
            }
            Verdict::Pass | Verdict::Release => {
                assert_eq!(all, 1);
                self.tally.passed += 1;
            }
            Verdict::Held => {
                assert_eq!((all, moved(|s| s.fragments_held)), (1, 1));
                self.tally.held += 1;
            }
            Verdict::Reassembled(_) => {
                assert_eq!((all, moved(|s| s.reassembled)), (1, 1));
                self.tally.reassembled += 1;
            }
            Verdict::Drop(reason) => {
                assert_eq!((all, dropped_for(reason)), (1, 1), "a drop is counted under its reason");
                *self.tally.dropped.entry(reason as u8).or_default() += 1;
            }
            Verdict::SendIcmp(IcmpRequest::AdminProhibited) => {
                assert_eq!(all, 2, "a refused flow is a drop and an ICMP request");
                let reason = REFUSALS.into_iter().find(|&r| dropped_for(r) == 1).expect("refusal reason counted");
                *self.tally.refused.entry(reason as u8).or_default() += 1;
                self.tally.icmp += 1;
            }
            Verdict::SendIcmp(_) => {
                assert_eq!(all, 1);
                self.tally.icmp += 1;
            }
            Verdict::SendTcpReset => assert_eq!(all, 1),
        }
        if verdict != Verdict::Translated {
            assert_eq!(bytes, packet, "a packet that is not translated is not modified ({verdict:?})");
        }
        let nat_path = matches!(ctx.route, Route::Forward { .. }) && ctx.in_netif == LAN;
        if nat_path && verdict == Verdict::Pass {
            // lwIP forwards it unless its TTL runs out right there.
            assert_eq!(packet[8], 1, "an untranslated packet on the NAT path would leave with its private source");
        }
        self.assert_bounded();
        Sent { verdict, bytes }
    }

    /// Sends and insists on a translation.
    fn translate(&mut self, packet: &[u8], ctx: Context, now: u32) -> Vec<u8> {
        let sent = self.send(packet, ctx, now);
        assert_eq!(sent.verdict, Verdict::Translated, "packet {packet:02x?}");
        sent.bytes
    }

    /// Memory stays fixed: the tables and the fragment pool never hold more than they were
    /// built for.
    fn assert_bounded(&self) {
        for p in PROTOCOLS {
            assert!(self.nat.sessions_in_use(p) <= self.nat.capacity(p));
            assert!(self.nat.sessions_high_water(p) <= self.nat.capacity(p));
        }
        let (datagrams, bytes) = self.nat.fragments_in_flight();
        assert!(datagrams <= REASS_SLOTS && bytes <= REASS_BYTES, "pool: {datagrams} datagrams, {bytes} bytes");
    }

    /// Every counter equals what the ledger says was sent.
    fn assert_accounted(&self) {
        let s = self.nat.stats();
        assert_eq!(u64::from(s.translated_out + s.translated_in + s.hairpinned), self.tally.translated);
        assert_eq!(u64::from(s.passed), self.tally.passed);
        assert_eq!(u64::from(s.icmp_requested), self.tally.icmp);
        assert_eq!(u64::from(s.fragments_held), self.tally.held + self.tally.reassembled);
        assert_eq!(u64::from(s.reassembled), self.tally.reassembled);
        for reason in DropReason::ALL {
            let key = reason as u8;
            let sent =
                self.tally.dropped.get(&key).copied().unwrap_or(0) + self.tally.refused.get(&key).copied().unwrap_or(0);
            assert_eq!(u64::from(s.dropped(reason)), sent, "{} drops", reason.name());
        }
    }

    fn dropped(&self, reason: DropReason) -> u64 {
        self.tally.dropped.get(&(reason as u8)).copied().unwrap_or(0)
    }

    fn refused(&self, reason: DropReason) -> u64 {
        self.tally.refused.get(&(reason as u8)).copied().unwrap_or(0)
    }

    fn sessions_of(&self, inside: [u8; 4]) -> usize {
        self.nat.sessions().filter(|(_, s)| s.inside == addr(inside)).count()
    }
}

/// Flows established before an attack: they must keep translating, on the same external
/// ports, through it and after it.
struct LiveFlows {
    tcp_port: u16,
    udp_port: u16,
    icmp_ident: u16,
}

const LIVE_TCP: u16 = 40000;
const LIVE_UDP: u16 = 5000;
const LIVE_ICMP: u16 = 7;

impl LiveFlows {
    /// HOST_A: a TCP connection to SERVER:80; HOST_B: UDP to SERVER:53 and a ping to SERVER.
    fn open(border: &mut Border, now: u32) -> LiveFlows {
        let syn = border.translate(&tcp(HOST_A, LIVE_TCP, SERVER, 80, SYN), outbound(), now);
        let tcp_port = sport(&syn);
        border.translate(&tcp(SERVER, 80, WAN_ADDR, tcp_port, SYN | ACK), inbound(), now);
        border.translate(&tcp(HOST_A, LIVE_TCP, SERVER, 80, ACK), outbound(), now);
        let udp_port = sport(&border.translate(&udp(HOST_B, LIVE_UDP, SERVER, 53, b"q"), outbound(), now));
        let icmp_ident = icmp_ident(&border.translate(&echo_request(HOST_B, SERVER, LIVE_ICMP, 1), outbound(), now));
        let live = LiveFlows { tcp_port, udp_port, icmp_ident };
        live.check(border, now);
        live
    }

    /// One exchange each way on every flow: each reaches the right endpoint, on the same
    /// external port as before.
    fn check(&self, border: &mut Border, now: u32) {
        let out = border.translate(&tcp_data(HOST_A, LIVE_TCP, SERVER, 80, ACK, b"GET /"), outbound(), now);
        assert_eq!((src(&out), sport(&out), dst(&out), dport(&out)), (WAN_ADDR, self.tcp_port, SERVER, 80));
        let back = border.translate(&tcp_data(SERVER, 80, WAN_ADDR, self.tcp_port, ACK, b"200 OK"), inbound(), now);
        assert_eq!((src(&back), sport(&back), dst(&back), dport(&back)), (SERVER, 80, HOST_A, LIVE_TCP));

        let out = border.translate(&udp(HOST_B, LIVE_UDP, SERVER, 53, b"query"), outbound(), now);
        assert_eq!((src(&out), sport(&out)), (WAN_ADDR, self.udp_port));
        let back = border.translate(&udp(SERVER, 53, WAN_ADDR, self.udp_port, b"answer"), inbound(), now);
        assert_eq!((dst(&back), dport(&back)), (HOST_B, LIVE_UDP));

        let out = border.translate(&echo_request(HOST_B, SERVER, LIVE_ICMP, 2), outbound(), now);
        assert_eq!((src(&out), icmp_ident(&out)), (WAN_ADDR, self.icmp_ident));
        let back = border.translate(&echo_reply(SERVER, WAN_ADDR, self.icmp_ident, 2), inbound(), now);
        assert_eq!((dst(&back), icmp_ident(&back)), (HOST_B, LIVE_ICMP));
    }

    /// Lets `ms` pass in steps, ticking and keeping the live flows busy as real traffic would.
    fn wait(&self, border: &mut Border, mut now: u32, ms: u32) -> u32 {
        let end = now + ms;
        while now < end {
            now = (now + 20_000).min(end);
            border.nat.tick(now);
            self.check(border, now);
        }
        now
    }
}

/// The sessions the live flows hold: TCP 1, UDP 1, ICMP 1.
fn live_sessions_only(border: &Border) {
    for p in PROTOCOLS {
        assert_eq!(border.nat.sessions_in_use(p), 1, "{p:?} table back to the live flow alone");
    }
}

/// Forwarded from the WAN straight to an inside address.
fn wan_to_lan() -> Context {
    Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: addr(HOST_A), out_mtu: 1500 } }
}

// ---------------------------------------------------------------- SYN flood

#[test]
fn syn_flood_from_one_lan_host_fills_its_quota_then_the_table_and_live_flows_survive() {
    const QUOTA: u16 = 16;
    let mut border = Border::new(Config { host_quota: QUOTA, ..Config::DEFAULT });
    let mut rng = Rng(0x5EED_0001);
    let live = LiveFlows::open(&mut border, 0);
    let flooder = [192, 168, 1, 66];
    let mut now = 1_000;

    // One host: its first QUOTA SYNs get sessions, every one after is refused for the quota.
    for i in 0..3_000 {
        let syn = tcp(flooder, 1024 + rng.u16() % 60_000, [203, 0, 113, rng.u16() as u8], rng.u16() | 1, SYN);
        border.send(&syn, outbound(), now);
        if i % 100 == 0 {
            live.check(&mut border, now);
        }
        now += 1;
    }
    assert_eq!(border.sessions_of(flooder), usize::from(QUOTA));
    assert_eq!(border.refused(DropReason::HostQuota), 3_000 - u64::from(QUOTA));
    assert_eq!(border.refused(DropReason::TableFull), 0);

    // The flood goes on from spoofed LAN addresses until the table is full: then every new
    // flow is refused, no live session is evicted.
    for i in 0..3_000u32 {
        let spoofed = [192, 168, 1, 100 + (i % 20) as u8];
        let syn = tcp(spoofed, 1024 + rng.u16() % 60_000, [203, 0, 113, rng.u16() as u8], rng.u16() | 1, SYN);
        border.send(&syn, outbound(), now);
        if i % 100 == 0 {
            live.check(&mut border, now);
        }
        now += 1;
    }
    let capacity = border.nat.capacity(Protocol::Tcp);
    assert_eq!(border.nat.sessions_in_use(Protocol::Tcp), capacity);
    assert_eq!(border.nat.sessions_high_water(Protocol::Tcp), capacity);
    assert!(border.refused(DropReason::TableFull) > 2_500, "{}", border.refused(DropReason::TableFull));
    let sent = border.send(&tcp(HOST_B, 41000, SERVER2, 443, SYN), outbound(), now);
    assert_eq!(sent.verdict, Verdict::SendIcmp(IcmpRequest::AdminProhibited), "a full table refuses, never evicts");
    live.check(&mut border, now);
    // Other protocols' tables are not touched by a TCP flood.
    let udp = border.translate(&udp(HOST_B, 6000, SERVER2, 123, b"ntp"), outbound(), now);
    assert_eq!(sport(&udp), 6000);

    // The half-open sessions age out (240 s); the live ones stay, and the flooder's quota is back.
    now = live.wait(&mut border, now, 240_001);
    assert_eq!(border.nat.sessions_in_use(Protocol::Tcp), 1);
    assert_eq!(border.sessions_of(flooder), 0);
    border.translate(&tcp(flooder, 2222, SERVER, 22, SYN), outbound(), now);
    border.translate(&tcp(HOST_B, 41000, SERVER2, 443, SYN), outbound(), now);
    assert_eq!(border.nat.stats().expired[Protocol::Tcp.index()] as usize, capacity - 1);
    border.assert_accounted();
}

// ---------------------------------------------------------------- WAN flood

#[test]
fn unsolicited_wan_flood_to_random_ports_creates_nothing_and_live_flows_survive() {
    let mut border = Border::new(Config::DEFAULT);
    let mut rng = Rng(0x5EED_0002);
    let live = LiveFlows::open(&mut border, 0);
    let created = border.nat.stats().created;
    let mut now = 1_000;
    for i in 0..20_000u32 {
        let from = rng.attacker();
        let sport = rng.u16();
        let port = rng.u16();
        let packet = match (i % 4, rng.below(6)) {
            // A quarter aim at the live mappings, from the wrong remote: filtered.
            (0, r) if r % 2 == 0 => udp(from, sport, WAN_ADDR, live.udp_port, &rng.bytes(16)),
            (0, r) => tcp(from, sport, WAN_ADDR, live.tcp_port, [SYN, ACK, RST][r as usize % 3]),
            // The rest anywhere.
            (_, 0) => udp(from, sport, WAN_ADDR, port, &rng.bytes(16)),
            (_, 1) => tcp(from, sport, WAN_ADDR, port, SYN),
            (_, 2) => tcp(from, sport, WAN_ADDR, port, [ACK, RST, FIN | ACK, SYN | ACK][i as usize % 4]),
            (_, 3) => echo_reply(from, WAN_ADDR, port, 1),
            (_, 4) => echo_request(from, WAN_ADDR, port, 1),
            _ => {
                // Garbage that claims to be IPv4 from the WAN.
                let len = 20 + rng.below(60) as usize;
                let mut junk = rng.bytes(len);
                junk[0] = 0x45;
                junk
            }
        };
        let sent = border.send(&packet, inbound(), now);
        assert_ne!(sent.verdict, Verdict::Translated, "an attacker never gets through a mapping");
        // And straight at inside addresses: against the rule, dropped.
        let direct = udp(from, sport, HOST_A, port, b"x");
        assert_eq!(border.send(&direct, wan_to_lan(), now).verdict, Verdict::Drop(DropReason::ReverseDirection));
        if i % 500 == 0 {
            live.check(&mut border, now);
        }
        now += 1;
    }
    live.check(&mut border, now);
    assert_eq!(border.nat.stats().created, created, "unsolicited traffic creates no session");
    live_sessions_only(&border);
    assert!(border.dropped(DropReason::Filtered) >= 5_000, "{}", border.dropped(DropReason::Filtered));
    assert_eq!(border.dropped(DropReason::ReverseDirection), 20_000);
    border.assert_accounted();
}

// ---------------------------------------------------------------- port exhaustion

#[test]
fn port_exhaustion_on_one_external_address_refuses_new_endpoints_only() {
    const RANGE: (u16, u16) = (20_000, 20_015);
    let config = Config { port_range: RANGE, host_quota: 0, reject_when_full: false, ..Config::DEFAULT };
    let mut border = Border::new(config);
    let live = LiveFlows::open(&mut border, 0);
    let mut now = 1_000;
    // 24 inside hosts all use inside port 20000: 16 external ports exist for them.
    let hosts: Vec<[u8; 4]> = (0..24).map(|i| [192, 168, 2, 10 + i]).collect();
    let mut owner: BTreeMap<u16, [u8; 4]> = BTreeMap::new();
    let mut refused = Vec::new();
    for &host in &hosts {
        let sent = border.send(&udp(host, RANGE.0, SERVER, 9, b"x"), outbound(), now);
        match sent.verdict {
            Verdict::Translated => {
                let port = sport(&sent.bytes);
                assert!((RANGE.0..=RANGE.1).contains(&port), "{port}");
                assert_eq!(owner.insert(port, host), None, "one external port, one inside endpoint");
            }
            Verdict::Drop(DropReason::PortsExhausted) => refused.push(host),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(owner.len(), 16);
    assert_eq!(refused.len(), 8);
    live.check(&mut border, now);

    // While exhausted: mapped endpoints reach new remotes on their port (endpoint-independent
    // mapping needs no new port), replies come back, and other protocols are unaffected.
    for _ in 0..50 {
        now += 100;
        for (&port, &host) in &owner {
            let out = border.translate(&udp(host, RANGE.0, SERVER2, 7, b"y"), outbound(), now);
            assert_eq!(sport(&out), port);
            let back = border.translate(&udp(SERVER2, 7, WAN_ADDR, port, b"z"), inbound(), now);
            assert_eq!((dst(&back), dport(&back)), (host, RANGE.0));
        }
        for &host in &refused {
            let sent = border.send(&udp(host, RANGE.0, SERVER, 9, b"again"), outbound(), now);
            assert_eq!(sent.verdict, Verdict::Drop(DropReason::PortsExhausted));
        }
        live.check(&mut border, now);
    }
    border.translate(&tcp(refused[0], RANGE.0, SERVER, 80, SYN), outbound(), now);
    assert_eq!(border.dropped(DropReason::PortsExhausted), 8 + 50 * 8);

    // Once the exhausting mappings expire (300 s idle), their ports serve new endpoints.
    now = live.wait(&mut border, now, 300_001);
    for &host in &refused {
        let out = border.translate(&udp(host, RANGE.0, SERVER, 9, b"finally"), outbound(), now);
        assert!((RANGE.0..=RANGE.1).contains(&sport(&out)));
    }
    border.assert_accounted();
}

// ---------------------------------------------------------------- ICMP error burst

/// A datagram with a random tuple, as an ICMP error would quote it: from our external address
/// (or anyone) to anyone, TCP, UDP or ICMP echo.
fn random_quote(rng: &mut Rng, from: [u8; 4], to: [u8; 4], ports: (u16, u16)) -> Vec<u8> {
    match rng.below(3) {
        0 => udp(from, ports.0, to, ports.1, &rng.bytes(8)),
        1 => tcp(from, ports.0, to, ports.1, SYN),
        _ => echo_request(from, to, ports.0, ports.1),
    }
}

#[test]
fn icmp_error_burst_with_random_quoted_tuples_translates_only_live_sessions() {
    let mut border = Border::new(Config::DEFAULT);
    let mut rng = Rng(0x5EED_0004);
    let live = LiveFlows::open(&mut border, 0);
    let created = border.nat.stats().created;
    let mut legit = 0;
    for i in 0..10_000u32 {
        let now = 1_000 + i;
        let router = rng.attacker();
        let (kind, code) = [(3, 3), (3, 1), (3, 4), (11, 0), (12, 0)][rng.below(5) as usize];
        if i % 50 == 0 {
            // A genuine error about what the live UDP flow sent: translated, quote restored.
            let sent = border.translate(&udp(HOST_B, LIVE_UDP, SERVER, 53, b"query"), outbound(), now);
            let error = icmp_error(router, WAN_ADDR, kind, code, &sent, 28 + (i as usize % 3) * 8);
            let got = border.translate(&error, inbound(), now);
            assert_eq!(dst(&got), HOST_B);
            assert_eq!(&quoted(&got)[..28], &udp(HOST_B, LIVE_UDP, SERVER, 53, b"query")[..28]);
            legit += 1;
        }
        // Inbound: quoting our address with a random or a live port, toward a random remote.
        let port = if i % 2 == 0 { live.udp_port } else { rng.u16() };
        let (remote, remote_port) = (rng.attacker(), rng.u16());
        let quote = random_quote(&mut rng, WAN_ADDR, remote, (port, remote_port));
        let len = [28, 36, quote.len()][rng.below(3) as usize];
        let mut error = icmp_error(router, WAN_ADDR, kind, code, &quote, len);
        if i % 7 == 0 {
            let at = 20 + rng.below((error.len() - 20) as u64) as usize;
            error[at] ^= 1 << rng.below(8); // a corrupted ICMP body: bad checksum somewhere
        }
        let sent = border.send(&error, inbound(), now);
        assert_ne!(sent.verdict, Verdict::Translated, "no error about a stranger reaches inside");
        // Outbound, from an inside host about a random datagram it "received": dropped, never
        // passed with its private source.
        let (stranger, ports) = (rng.attacker(), (rng.u16(), rng.u16()));
        let quote = random_quote(&mut rng, stranger, HOST_A, ports);
        let error = icmp_error(HOST_A, SERVER2, kind, code, &quote, 28 + rng.below(20) as usize);
        let sent = border.send(&error, outbound(), now);
        assert!(matches!(sent.verdict, Verdict::Drop(_)), "{:?}", sent.verdict);
        if i % 500 == 0 {
            live.check(&mut border, now);
        }
    }
    assert_eq!(legit, 200);
    assert_eq!(u64::from(border.nat.stats().icmp_errors_translated), legit);
    assert_eq!(border.nat.stats().created, created, "ICMP errors never create a session");
    live_sessions_only(&border);
    let errors_dropped = border.dropped(DropReason::IcmpNoMapping)
        + border.dropped(DropReason::IcmpMalformed)
        + border.dropped(DropReason::IcmpBadChecksum);
    assert_eq!(errors_dropped + border.tally.passed, 20_000);
    border.assert_accounted();
}

// ---------------------------------------------------------------- fragment flood

#[test]
fn fragment_flood_of_never_completing_datagrams_is_bounded_and_ages_out() {
    let mut border = Border::new(Config::DEFAULT);
    let mut rng = Rng(0x5EED_0005);
    let live = LiveFlows::open(&mut border, 0);
    let mut now = 1_000;
    for i in 0..20_000u32 {
        // First fragments of 8..1480 bytes, from LAN hosts out and from the WAN in.
        let len = 8 * (1 + rng.below(185) as usize);
        let (packet, ctx) = if i % 2 == 0 {
            (udp([192, 168, 1, 100 + (i % 50) as u8], rng.u16(), SERVER, 53, &rng.bytes(len + 8)), outbound())
        } else {
            (udp(rng.attacker(), rng.u16(), WAN_ADDR, rng.u16(), &rng.bytes(len + 8)), inbound())
        };
        let first = raw_fragment(&with_ident(packet, rng.u16()), 0, len, true);
        let sent = border.send(&first, ctx, now);
        if cfg!(feature = "reassembly") {
            // Held (making room by evicting the oldest), or, addressed to a port of the router
            // no mapping uses, left to lwIP's own reassembly.
            let expected = if i % 2 == 0 { Verdict::Held } else { Verdict::Pass };
            assert!(sent.verdict == expected || sent.verdict == Verdict::Held, "{:?}", sent.verdict);
        } else if i % 2 == 0 {
            // Built without reassembly: dropped on the NAT path, never forwarded untranslated.
            assert_eq!(sent.verdict, Verdict::Drop(DropReason::Fragment));
        } else {
            // To the router: lwIP's, unless a mapping uses its port.
            let to_lwip = sent.verdict == Verdict::Pass || sent.verdict == Verdict::Drop(DropReason::Fragment);
            assert!(to_lwip, "{:?}", sent.verdict);
        }
        if i % 200 == 0 {
            live.check(&mut border, now);
        }
        // 20 000 fragments over 100 s: the pool keeps turning over on its 15 s timeout.
        if i % 4 == 0 {
            now += 20;
            border.nat.tick(now);
        }
    }
    if !cfg!(feature = "reassembly") {
        // Built without reassembly nothing was held and every fragment was dropped or left to
        // lwIP; a fragmented datagram later is dropped too, and the live flows never noticed.
        let stats = *border.nat.stats();
        assert_eq!((border.tally.held, stats.fragments_held, stats.reass_evicted), (0, 0, 0));
        assert!(stats.dropped(DropReason::Fragment) >= 10_000, "{stats:?}");
        assert_eq!(u64::from(stats.dropped(DropReason::Fragment)) + border.tally.passed, 20_000);
        let whole = with_ident(udp(HOST_A, 5353, SERVER, 5353, &[0x42; 2000]), 77);
        for (offset, end, more) in [(0, 1480, true), (1480, whole.len() - 20, false)] {
            let sent = border.send(&raw_fragment(&whole, offset, end, more), outbound(), now);
            assert_eq!(sent.verdict, Verdict::Drop(DropReason::Fragment));
        }
        assert_eq!(border.nat.fragments_in_flight(), (0, 0));
        live.check(&mut border, now);
        border.assert_accounted();
        return;
    }
    assert!(border.tally.held > 20, "some flood datagrams were taken in turn: {}", border.tally.held);
    let stats = *border.nat.stats();
    assert_eq!(stats.dropped(DropReason::ReassemblyFull), 0, "new datagrams make room, none is refused");
    assert!(stats.reass_evicted > 5_000 && stats.reass_released > 5_000, "{stats:?}");

    // After the flood, the pool empties on its timeout and fragmented traffic works again.
    now = live.wait(&mut border, now, 15_001);
    assert_eq!(border.nat.fragments_in_flight(), (0, 0));
    let stats = border.nat.stats();
    assert_eq!(
        u64::from(stats.reass_expired) + u64::from(stats.reass_evicted),
        border.tally.held,
        "every held datagram aged out or gave way"
    );
    let whole = with_ident(udp(HOST_A, 5353, SERVER, 5353, &[0x42; 2000]), 77);
    assert_eq!(border.send(&raw_fragment(&whole, 0, 1480, true), outbound(), now).verdict, Verdict::Held);
    let sent = border.send(&raw_fragment(&whole, 1480, whole.len() - 20, false), outbound(), now);
    assert_eq!(sent.verdict, Verdict::Reassembled(whole.len()));
    let datagram = border.nat.reassembled().to_vec();
    let out = border.translate(&datagram, outbound(), now);
    assert_eq!((src(&out), sport(&out), &out[28..]), (WAN_ADDR, 5353, &whole[28..]));
    live.check(&mut border, now);
    border.assert_accounted();
}

// ---------------------------------------------------------------- TTL

/// Found by the `packet` fuzz target: lwIP's `ip4_forward()` turns a TTL of 0 into 255 and
/// forwards; the NAT used to pass such a packet untranslated, private source and all.
#[test]
fn ttl_0_on_a_nat_path_is_dropped_never_forwarded_with_its_private_source() {
    let mut border = Border::new(Config::DEFAULT);
    let mut p = udp(HOST_A, 33434, SERVER, 33434, b"probe");
    set_ttl(&mut p, 0);
    assert_eq!(border.send(&p, outbound(), 0).verdict, Verdict::Drop(DropReason::TtlExpired));
    set_ttl(&mut p, 1);
    assert_eq!(border.send(&p, outbound(), 0).verdict, Verdict::Pass, "TTL 1: lwIP answers Time Exceeded");
    border.assert_accounted();
}
