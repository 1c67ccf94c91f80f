//! The NAT every target drives, its interfaces and addresses, and the checks that hold for any
//! packet whatever its bytes.

use lwip_snat::{Config, Context, Filtering, FullPolicy, IcmpRequest, Nat, Protocol, Route, Rule, Stats, Verdict};

use crate::packet::{self, ACK, SYN};

/// Small tables so that floods reach "table full" and reclaim paths within one input.
pub type FuzzNat = Nat<16, 16, 8>;

pub use test_kit::topology::{addr, DMZ, HOST_A, HOST_B, LAN, SERVER, WAN, WAN_ADDR};

/// LAN → WAN, forwarded out of the WAN's address.
pub fn outbound(mtu: u16) -> Context {
    Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: addr(WAN_ADDR), out_mtu: mtu } }
}

/// Arrived on the WAN, addressed to the WAN address.
pub fn inbound() -> Context {
    Context { in_netif: WAN, route: Route::Local { netif: WAN, mtu: 1500 } }
}

/// A settings variant picked by bits of fuzz input: filtering modes, reject-when-full, a host
/// quota, a small port range (so port exhaustion is reachable), MSS clamping, a short
/// reassembly timeout, the full-table policy, and (with the 4th filtering value, endpoint-
/// independent) two sessions per mapping, so a full mapping is reachable.
pub fn config(bits: u8) -> Config {
    let filtering = match bits & 3 {
        0 => Filtering::AddressAndPortDependent,
        1 => Filtering::AddressDependent,
        _ => Filtering::EndpointIndependent,
    };
    Config {
        tcp_filtering: filtering,
        udp_filtering: filtering,
        reject_when_full: bits & 4 != 0,
        host_quota: if bits & 8 != 0 { 6 } else { 0 },
        port_range: if bits & 16 != 0 { (20_000, 20_003) } else { Config::DEFAULT.port_range },
        mss_clamp: bits & 32 != 0,
        reass_timeout_ms: if bits & 64 != 0 { 50 } else { Config::DEFAULT.reass_timeout_ms },
        mapping_sessions: if bits & 3 == 3 { 2 } else { Config::DEFAULT.mapping_sessions },
        full_policy: if bits & 128 != 0 { FullPolicy::Evict } else { FullPolicy::Reject },
        ..Config::DEFAULT
    }
}

/// A NAT with `config`, a `Source(LAN)` rule, a fixed seed, and three live sessions for the
/// inbound paths to find: UDP HOST_A:5000 ↔ SERVER:53, TCP HOST_A:40000 ↔ SERVER:80
/// (established) and ICMP echo id 0x1234 HOST_A ↔ SERVER, each keeping its port.
pub fn nat(nat: &mut FuzzNat, config: Config) {
    nat.reset(config, [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]).expect("valid config");
    nat.add_rule(Rule::Source(LAN)).expect("room for a rule");
    let out = outbound(1500);
    let mut opened = [
        packet::udp(HOST_A, 5000, SERVER, 53, b"query"),
        packet::tcp(HOST_A, 40000, SERVER, 80, SYN, &[], &[]),
        packet::icmp_query(HOST_A, SERVER, 8, 0x1234, 1, b"ping"),
    ];
    for p in opened.iter_mut() {
        assert_eq!(nat.process(p, &out, 0), Verdict::Translated);
    }
    let mut synack = packet::tcp(SERVER, 80, WAN_ADDR, 40000, SYN | ACK, &[], &[]);
    assert_eq!(nat.process(&mut synack, &inbound(), 0), Verdict::Translated);
    let mut ack = packet::tcp(HOST_A, 40000, SERVER, 80, ACK, &[], &[]);
    assert_eq!(nat.process(&mut ack, &out, 0), Verdict::Translated);
}

/// Sum of the counters a packet can land in (a fragment taken into the pool, the one that
/// completes its datagram included, lands in `fragments_held`).
pub fn counted(s: &Stats) -> u64 {
    u64::from(s.translated_out)
        + u64::from(s.translated_in)
        + u64::from(s.hairpinned)
        + u64::from(s.passed)
        + u64::from(s.fragments_held)
        + u64::from(s.total_dropped())
        + u64::from(s.icmp_requested)
        + u64::from(s.resets_requested)
}

/// How many counters one packet with this verdict moves: one, except a flow refused for lack
/// of room and answered with ICMP 3/13, which is both a drop (its reason) and an ICMP request.
pub fn counters_for(verdict: Verdict) -> u64 {
    match verdict {
        Verdict::SendIcmp(IcmpRequest::AdminProhibited) => 2,
        _ => 1,
    }
}

/// Runs one packet and checks what must hold whatever its bytes: the packet is untouched
/// unless translated, bytes past its total length are never touched, a forwarded packet never
/// leaves with a source other than the output address, a translated packet whose checksums
/// were full recomputes still has full recomputes, tables stay within capacity, and exactly
/// the expected counters moved.
pub fn process_checked(nat: &mut FuzzNat, packet: &mut [u8], ctx: &Context, now: u32) -> Verdict {
    let before = packet.to_vec();
    let canonical = crate::oracle::is_canonical(&before);
    let counted_before = counted(nat.stats());
    let verdict = nat.process(packet, ctx, now);
    assert_eq!(
        counted(nat.stats()) - counted_before,
        counters_for(verdict),
        "counters must account for the packet exactly once ({verdict:?})"
    );
    for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp] {
        assert!(nat.sessions_in_use(protocol) <= nat.capacity(protocol));
        assert!(nat.sessions_high_water(protocol) <= nat.capacity(protocol));
    }
    if verdict == Verdict::Release {
        assert!(!is_nat_path(ctx), "only datagrams addressed to the router are left to lwIP's reassembly");
    }
    if verdict != Verdict::Translated {
        assert_eq!(packet, &before[..], "a packet that is not translated is not modified ({verdict:?})");
        if verdict == Verdict::Pass && is_nat_path(ctx) {
            // lwIP's ip4_forward decrements the TTL and forwards unless it reaches 0: only a
            // TTL of exactly 1 is sure not to leave with its private source.
            assert_eq!(before.get(8), Some(&1), "an untranslated packet on a NAT path would be forwarded");
        }
        return verdict;
    }
    let total = usize::from(u16::from_be_bytes([before[2], before[3]]));
    assert_eq!(&packet[total..], &before[total..], "bytes past the total length are untouched");
    assert_eq!(&packet[..2], &before[..2], "version, header length, TOS unchanged");
    if let Route::Forward { out_addr, .. } = ctx.route {
        assert_eq!(addr(packet::src(packet)), out_addr, "a translated forwarded packet leaves from the NAT's address");
    }
    if canonical {
        if let Err(e) = crate::oracle::check_canonical(packet) {
            panic!(
                "translated checksums differ from a full recompute: {e}\nbefore {before:02x?}\nafter  {packet:02x?}"
            );
        }
    }
    verdict
}

/// True when the `Source(LAN)` rule of [`nat`] says to translate a packet with this context.
pub fn is_nat_path(ctx: &Context) -> bool {
    matches!(ctx.route, Route::Forward { .. }) && ctx.in_netif == LAN
}
