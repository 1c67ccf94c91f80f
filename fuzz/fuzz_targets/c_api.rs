//! Target 3: arbitrary sequences of C API calls (the `extern "C"` functions of
//! `include/lwip_snat.h`, called through their C ABI) interleaved with packets, structure-aware
//! with `arbitrary`. Runs under AddressSanitizer: the C boundary is where unsafe code lives.
//!
//! Every input starts from `lwip_snat_init` with a `SOURCE(LAN)` rule. Checked on every call:
//! NULL pointers give `LWIP_SNAT_ERR_NULL`; out-parameters are written only on success; a
//! packet that is not translated is not modified and no byte past `len` is ever touched; the
//! verdict's fields are in range; the counters account for every processed packet exactly once
//! and no table exceeds its capacity; `lwip_snat_reassembled` hands out exactly the datagram a
//! `REASSEMBLED` verdict announced; after `RELEASE`, `lwip_snat_released` hands out at least
//! one fragment and only well-formed fragments of that datagram that fit the buffer, then none;
//! `lwip_snat_foreach` visits every live session once and
//! re-entry from its callback is refused with `LWIP_SNAT_ERR_BUSY`; name lookups return
//! NUL-terminated strings exactly for the numbers that exist.
#![no_main]

use std::ffi::{c_void, CStr};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use lwip_snat::ffi::*;
use lwip_snat_fuzz::harness::{HOST_A, WAN_ADDR};
use lwip_snat_fuzz::packet::{self, ACK, SYN};

const LAN: u8 = 1;
const WAN: u8 = 2;

#[derive(Arbitrary, Debug)]
struct RawConfig {
    tcp_established_ms: u32,
    tcp_transitory_ms: u32,
    udp_ms: u32,
    icmp_ms: u32,
    reass_timeout_ms: u32,
    port_range: (u16, u16),
    host_quota: u16,
    filtering: (u8, u8),
    flags: (u8, u8, u8),
    seed: [u8; 16],
    mapping_sessions: u16,
    udp_dns_ms: u32,
    udp_ntp_ms: u32,
    evict_idle_ms: u32,
    full_policy: u8,
}

/// A valid configuration with a few knobs turned, so that most inits succeed.
#[derive(Arbitrary, Debug)]
struct Tweak {
    filtering: u8,
    reject_when_full: bool,
    mss_clamp: bool,
    host_quota: u8,
    narrow_ports: bool,
    short_timeouts: bool,
    seed: [u8; 16],
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct RawRule {
    kind: u8,
    src: u8,
    out: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct RawPortmap {
    inside: u8,
    ext_port: u16,
    inside_port: u16,
    proto: u8,
    netif: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct RawCtx {
    out_addr: u32,
    out_mtu: u16,
    in_netif: u8,
    route: u8,
    out_netif: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Ctx {
    Outbound,
    Inbound,
    Raw(RawCtx),
    Null,
}

/// A packet: raw bytes, or a real one between a few inside hosts, remotes and the WAN address
/// (so that sequences reach mappings, replies, errors and reassembly).
#[derive(Arbitrary, Debug)]
enum Packet {
    Raw(Vec<u8>),
    Udp {
        host: u8,
        sport: u16,
        remote: u8,
        dport: u16,
        inbound: bool,
        payload: Vec<u8>,
    },
    Tcp {
        host: u8,
        sport: u16,
        remote: u8,
        dport: u16,
        flags: u8,
        inbound: bool,
    },
    Echo {
        host: u8,
        ident: u16,
        remote: u8,
        reply: bool,
    },
    /// An ICMP error about a UDP datagram, from a remote to the WAN address or from a host out.
    Error {
        host: u8,
        port: u16,
        remote: u8,
        rport: u16,
        kind: u8,
        quote: u8,
        inbound: bool,
    },
    /// One fragment of a 1600-byte UDP datagram (`part` 0 or 1 of two).
    Fragment {
        host: u8,
        sport: u16,
        ident: u16,
        part: bool,
        inbound: bool,
    },
}

#[derive(Arbitrary, Debug)]
enum Call {
    Init(Option<RawConfig>),
    InitTweaked(Tweak),
    ConfigDefault {
        null: bool,
    },
    RuleAdd(Option<RawRule>),
    RuleRemove(Option<RawRule>),
    PortmapAdd(Option<RawPortmap>),
    PortmapRemove(Option<RawPortmap>),
    /// `cut` shortens `len` (by up to 8 bytes) and, after `RELEASE`, picks how the held
    /// fragments are taken back (see `drain_released`).
    Process {
        packet: Packet,
        ctx: Ctx,
        step_ms: u16,
        null_pkt: bool,
        null_verdict: bool,
        cut: u8,
    },
    Reassembled {
        cap: u16,
        null_buf: bool,
        null_len: bool,
    },
    Tick {
        step_ms: u32,
    },
    NetifChanged(u8),
    RemoveHost(u8),
    Flush,
    Stats {
        null: bool,
    },
    Foreach {
        null: bool,
        reenter: bool,
    },
    Names {
        reason: u8,
        state: u8,
        err: i32,
    },
}

fn inside(host: u8) -> [u8; 4] {
    [192, 168, 1, 10 + host % 4]
}

fn remote(r: u8) -> [u8; 4] {
    [[203, 0, 113, 5], [198, 51, 100, 7], [192, 0, 2, 1]][usize::from(r % 3)]
}

fn addr(a: [u8; 4]) -> u32 {
    u32::from_be_bytes(a)
}

impl Packet {
    /// The bytes, and whether they come in from the WAN.
    fn build(&self) -> (Vec<u8>, bool) {
        match *self {
            Packet::Raw(ref bytes) => (bytes.clone(), false),
            Packet::Udp { host, sport, remote: r, dport, inbound, ref payload } => {
                let payload = &payload[..payload.len().min(256)];
                if inbound {
                    (packet::udp(remote(r), dport, WAN_ADDR, sport, payload), true)
                } else {
                    (packet::udp(inside(host), sport, remote(r), dport, payload), false)
                }
            }
            Packet::Tcp { host, sport, remote: r, dport, flags, inbound } => {
                let flags = flags & (SYN | ACK | 0x05);
                if inbound {
                    (packet::tcp(remote(r), dport, WAN_ADDR, sport, flags, &[], &[]), true)
                } else {
                    (packet::tcp(inside(host), sport, remote(r), dport, flags, &[2, 4, 5, 0xb4], &[]), false)
                }
            }
            Packet::Echo { host, ident, remote: r, reply } => {
                if reply {
                    (packet::icmp_query(remote(r), WAN_ADDR, 0, ident, 1, b"ping"), true)
                } else {
                    (packet::icmp_query(inside(host), remote(r), 8, ident, 1, b"ping"), false)
                }
            }
            Packet::Error { host, port, remote: r, rport, kind, quote, inbound } => {
                let kind = [3, 11, 12][usize::from(kind % 3)];
                if inbound {
                    let sent = packet::udp(WAN_ADDR, port, remote(r), rport, b"sent");
                    let q = (28 + usize::from(quote)).min(sent.len());
                    (packet::icmp_error(remote(r), WAN_ADDR, kind, 3, &sent[..q]), true)
                } else {
                    let got = packet::udp(remote(r), rport, inside(host), port, b"got");
                    let q = (28 + usize::from(quote)).min(got.len());
                    (packet::icmp_error(inside(host), remote(r), kind, 3, &got[..q]), false)
                }
            }
            Packet::Fragment { host, sport, ident, part, inbound } => {
                let whole = if inbound {
                    packet::udp(remote(host), 53, WAN_ADDR, sport, &[0x5a; 1600])
                } else {
                    packet::udp(inside(host), sport, remote(0), 53, &[0x5a; 1600])
                };
                let mut whole = whole;
                packet_ident(&mut whole, ident);
                let frag = if part {
                    packet::fragment(&whole, 1480, 1608, false)
                } else {
                    packet::fragment(&whole, 0, 1480, true)
                };
                (frag, inbound)
            }
        }
    }
}

fn packet_ident(p: &mut [u8], ident: u16) {
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    lwip_snat_fuzz::oracle::canonicalize(p);
}

fn ctx_for(ctx: Ctx, inbound: bool) -> Option<lwip_snat_ctx> {
    let outbound =
        lwip_snat_ctx { out_addr: addr(WAN_ADDR), out_mtu: 1500, in_netif_idx: LAN, route: 1, out_netif_idx: WAN };
    let inbound_ctx = lwip_snat_ctx { out_addr: 0, out_mtu: 0, in_netif_idx: WAN, route: 0, out_netif_idx: WAN };
    match ctx {
        Ctx::Outbound if inbound => Some(inbound_ctx),
        Ctx::Outbound => Some(outbound),
        Ctx::Inbound => Some(inbound_ctx),
        Ctx::Raw(r) => Some(lwip_snat_ctx {
            out_addr: r.out_addr,
            out_mtu: r.out_mtu,
            in_netif_idx: r.in_netif % 4,
            route: r.route % 3,
            out_netif_idx: r.out_netif % 4,
        }),
        Ctx::Null => None,
    }
}

fn stats() -> lwip_snat_stats {
    let mut s = std::mem::MaybeUninit::<lwip_snat_stats>::zeroed();
    // SAFETY: a valid, writable pointer.
    assert_eq!(unsafe { lwip_snat_stats(s.as_mut_ptr()) }, lwip_snat_err_t::LWIP_SNAT_OK);
    // SAFETY: all-integer struct, zero-initialised and then written.
    let s = unsafe { s.assume_init() };
    for p in [&s.tcp, &s.udp, &s.icmp] {
        assert!(p.in_use <= p.capacity && p.high_water <= p.capacity, "{p:?}");
    }
    s
}

fn counted(s: &lwip_snat_stats) -> u64 {
    [s.translated_out, s.translated_in, s.hairpinned, s.passed, s.icmp_requested, s.fragments_held]
        .iter()
        .chain(s.dropped.iter())
        .map(|&c| u64::from(c))
        .sum()
}

struct Walk {
    sessions: usize,
    reenter: bool,
    busy: usize,
}

unsafe extern "C" fn visit(session: *const lwip_snat_session, arg: *mut c_void) {
    // SAFETY: `arg` is the `Walk` passed to lwip_snat_foreach, alive during the call.
    let walk = unsafe { &mut *(arg as *mut Walk) };
    // SAFETY: valid during the callback.
    let s = unsafe { &*session };
    assert!(matches!(s.proto, 1 | 6 | 17), "{s:?}");
    assert!(s.ext_netif_idx != 0);
    walk.sessions += 1;
    if walk.reenter {
        assert_eq!(lwip_snat_flush(), lwip_snat_err_t::LWIP_SNAT_ERR_BUSY);
        assert_eq!(lwip_snat_tick(0), lwip_snat_err_t::LWIP_SNAT_ERR_BUSY);
        walk.busy += 1;
    }
}

fn config_default() -> lwip_snat_config {
    let mut c = std::mem::MaybeUninit::<lwip_snat_config>::zeroed();
    // SAFETY: valid, writable.
    assert_eq!(unsafe { lwip_snat_config_default(c.as_mut_ptr()) }, lwip_snat_err_t::LWIP_SNAT_OK);
    // SAFETY: all-integer struct, written above.
    unsafe { c.assume_init() }
}

/// State the checks carry from one call to the next.
struct Session {
    now: u32,
    /// Length of the datagram the previous call announced as reassembled.
    reassembled: Option<u32>,
}

fuzz_target!(|calls: Vec<Call>| {
    let mut cfg = config_default();
    cfg.seed = [7; 16];
    // SAFETY: valid pointers to initialised structs, here and below.
    assert_eq!(unsafe { lwip_snat_init(&cfg) }, lwip_snat_err_t::LWIP_SNAT_OK);
    let rule = lwip_snat_rule { kind: 0, src_netif_idx: LAN, out_netif_idx: 0 };
    assert_eq!(unsafe { lwip_snat_rule_add(&rule) }, lwip_snat_err_t::LWIP_SNAT_OK);
    let mut state = Session { now: 0, reassembled: None };
    for call in calls.iter().take(64) {
        let announced = state.reassembled.take();
        call_one(call, &mut state, announced);
    }
});

fn call_one(call: &Call, state: &mut Session, announced: Option<u32>) {
    use lwip_snat_err_t::*;
    match call {
        Call::Init(raw) => {
            let before = stats();
            let result = match raw {
                None => unsafe { lwip_snat_init(std::ptr::null()) },
                Some(r) => {
                    let c = lwip_snat_config {
                        tcp_established_ms: r.tcp_established_ms,
                        tcp_transitory_ms: r.tcp_transitory_ms,
                        udp_ms: r.udp_ms,
                        icmp_ms: r.icmp_ms,
                        reass_timeout_ms: r.reass_timeout_ms,
                        port_range_start: r.port_range.0,
                        port_range_end: r.port_range.1,
                        host_quota: r.host_quota,
                        tcp_filtering: r.filtering.0 % 4,
                        udp_filtering: r.filtering.1 % 4,
                        reject_when_full: r.flags.0 % 3,
                        allow_short_timeouts: r.flags.1 % 3,
                        mss_clamp: r.flags.2 % 3,
                        seed: r.seed,
                        mapping_sessions: r.mapping_sessions,
                        udp_dns_ms: r.udp_dns_ms,
                        udp_ntp_ms: r.udp_ntp_ms,
                        evict_idle_ms: r.evict_idle_ms,
                        full_policy: r.full_policy % 3,
                    };
                    unsafe { lwip_snat_init(&c) }
                }
            };
            if result != LWIP_SNAT_OK {
                assert!(matches!(result, LWIP_SNAT_ERR_ARG | LWIP_SNAT_ERR_TIMEOUT | LWIP_SNAT_ERR_PORT_RANGE));
                assert_eq!(counted(&stats()), counted(&before), "an invalid config changes nothing");
            } else {
                assert_eq!(counted(&stats()), 0, "init resets the counters");
            }
        }
        Call::InitTweaked(t) => {
            let mut c = config_default();
            c.tcp_filtering = t.filtering % 3;
            c.udp_filtering = (t.filtering / 3) % 3;
            c.reject_when_full = u8::from(t.reject_when_full);
            c.mss_clamp = u8::from(t.mss_clamp);
            c.host_quota = u16::from(t.host_quota);
            if t.narrow_ports {
                (c.port_range_start, c.port_range_end) = (30_000, 30_003);
            }
            if t.short_timeouts {
                c.allow_short_timeouts = 1;
                (c.udp_ms, c.icmp_ms, c.tcp_transitory_ms, c.reass_timeout_ms) = (1_000, 1_000, 1_000, 100);
            }
            c.seed = t.seed;
            assert_eq!(unsafe { lwip_snat_init(&c) }, LWIP_SNAT_OK);
            let rule = lwip_snat_rule { kind: 0, src_netif_idx: LAN, out_netif_idx: 0 };
            assert_eq!(unsafe { lwip_snat_rule_add(&rule) }, LWIP_SNAT_OK);
        }
        Call::ConfigDefault { null } => {
            if *null {
                assert_eq!(unsafe { lwip_snat_config_default(std::ptr::null_mut()) }, LWIP_SNAT_ERR_NULL);
            } else {
                let c = config_default();
                assert_eq!((c.udp_ms, c.seed), (300_000, [0; 16]));
            }
        }
        Call::RuleAdd(r) | Call::RuleRemove(r) => {
            let rule =
                r.map(|r| lwip_snat_rule { kind: r.kind % 4, src_netif_idx: r.src % 4, out_netif_idx: r.out % 4 });
            let ptr = rule.as_ref().map_or(std::ptr::null(), |r| r as *const _);
            let result = match call {
                Call::RuleAdd(_) => unsafe { lwip_snat_rule_add(ptr) },
                _ => unsafe { lwip_snat_rule_remove(ptr) },
            };
            match rule {
                None => assert_eq!(result, LWIP_SNAT_ERR_NULL),
                Some(_) => assert!(matches!(
                    result,
                    LWIP_SNAT_OK
                        | LWIP_SNAT_ERR_ARG
                        | LWIP_SNAT_ERR_RULES_FULL
                        | LWIP_SNAT_ERR_RULE_EXISTS
                        | LWIP_SNAT_ERR_RULE_NOT_FOUND
                )),
            }
        }
        Call::PortmapAdd(m) | Call::PortmapRemove(m) => {
            let map = m.map(|m| lwip_snat_portmap {
                inside_addr: addr(inside(m.inside)) ^ u32::from(m.inside >= 128) << 31,
                ext_port: m.ext_port,
                inside_port: m.inside_port,
                proto: [1, 6, 17, 47][usize::from(m.proto % 4)],
                out_netif_idx: m.netif % 4,
            });
            let ptr = map.as_ref().map_or(std::ptr::null(), |m| m as *const _);
            let before = stats();
            let result = match call {
                Call::PortmapAdd(_) => unsafe { lwip_snat_portmap_add(ptr) },
                _ => unsafe { lwip_snat_portmap_remove(ptr) },
            };
            match map {
                None => assert_eq!(result, LWIP_SNAT_ERR_NULL),
                Some(_) => assert!(matches!(
                    result,
                    LWIP_SNAT_OK
                        | LWIP_SNAT_ERR_ARG
                        | LWIP_SNAT_ERR_PORTMAPS_FULL
                        | LWIP_SNAT_ERR_PORTMAP_CONFLICT
                        | LWIP_SNAT_ERR_PORTMAP_NOT_FOUND
                )),
            }
            assert_eq!(counted(&stats()), counted(&before), "port forwards process no packet");
        }
        Call::Process { packet, ctx, step_ms, null_pkt, null_verdict, cut } => {
            state.now = state.now.wrapping_add(u32::from(*step_ms));
            let (bytes, inbound) = packet.build();
            let ctx = ctx_for(*ctx, inbound);
            // `len` may stop short of the buffer: the bytes after it are never touched.
            let len = bytes.len() - usize::from(*cut).min(bytes.len()).min(8);
            let mut buffer = bytes.clone();
            const SENTINEL: lwip_snat_verdict = lwip_snat_verdict {
                len: 0xDEAD,
                mtu: 0xBEEF,
                action: 0xAA,
                drop_reason: 0xBB,
                icmp_type: 1,
                icmp_code: 2,
            };
            let mut verdict = SENTINEL;
            let before = stats();
            let pkt = if *null_pkt { std::ptr::null_mut() } else { buffer.as_mut_ptr() };
            let out = if *null_verdict { std::ptr::null_mut() } else { &mut verdict as *mut _ };
            let ctx_ptr = ctx.as_ref().map_or(std::ptr::null(), |c| c as *const _);
            // SAFETY: `pkt` is NULL or has `len` <= buffer.len() writable bytes; the others are
            // NULL or valid.
            let result = unsafe { lwip_snat_process(pkt, len, ctx_ptr, state.now, out) };
            assert_eq!(&buffer[len..], &bytes[len..], "bytes past len are never touched");
            let after = stats();
            if result != LWIP_SNAT_OK {
                if *null_pkt || *null_verdict || ctx.is_none() {
                    assert_eq!(result, LWIP_SNAT_ERR_NULL);
                } else {
                    assert_eq!(result, LWIP_SNAT_ERR_ARG);
                }
                assert_eq!(verdict, SENTINEL, "no verdict written on error");
                assert_eq!(buffer, bytes);
                assert_eq!(counted(&after), counted(&before));
                return;
            }
            assert!(
                verdict.action <= lwip_snat_action::LWIP_SNAT_SEND_RST as u8
                    && usize::from(verdict.drop_reason) < LWIP_SNAT_DROP_REASONS,
                "{verdict:?}"
            );
            if verdict.action != 1 {
                assert_eq!(buffer, bytes, "untranslated packets are not modified");
            }
            let admin_prohibited = verdict.action == 5 && (verdict.icmp_type, verdict.icmp_code) == (3, 13);
            assert_eq!(counted(&after) - counted(&before), if admin_prohibited { 2 } else { 1 }, "{verdict:?}");
            if verdict.action == lwip_snat_action::LWIP_SNAT_REASSEMBLED as u8 {
                state.reassembled = Some(verdict.len);
            }
            if verdict.action == lwip_snat_action::LWIP_SNAT_RELEASE as u8 {
                drain_released(&bytes, *cut);
            }
            if verdict.action != 2 {
                assert_eq!(verdict.drop_reason, 0);
            }
        }
        Call::Reassembled { cap, null_buf, null_len } => {
            let mut buf = vec![0x11u8; usize::from(*cap)];
            let mut len = 0xFFFF_usize;
            let b = if *null_buf { std::ptr::null_mut() } else { buf.as_mut_ptr() };
            let l = if *null_len { std::ptr::null_mut() } else { &mut len as *mut usize };
            // SAFETY: NULL or `cap` writable bytes; NULL or a writable usize.
            let result = unsafe { lwip_snat_reassembled(b, usize::from(*cap), l) };
            if *null_buf || *null_len {
                assert_eq!(result, LWIP_SNAT_ERR_NULL);
            } else if let Some(whole) = announced {
                let whole = whole as usize;
                if whole <= usize::from(*cap) {
                    assert_eq!((result, len), (LWIP_SNAT_OK, whole));
                    assert!(buf[whole..].iter().all(|&b| b == 0x11), "written past the datagram");
                    assert_eq!(lwip_snat_fuzz::oracle::checksum(&buf[..usize::from(buf[0] & 0xF) * 4]), 0);
                } else {
                    assert_eq!((result, len), (LWIP_SNAT_ERR_BUFFER, 0xFFFF));
                }
            } else {
                assert!(matches!(result, LWIP_SNAT_OK | LWIP_SNAT_ERR_NO_DATAGRAM | LWIP_SNAT_ERR_BUFFER));
            }
            if result != LWIP_SNAT_OK && !*null_len {
                assert_eq!(len, 0xFFFF, "no length written on error");
            }
        }
        Call::Tick { step_ms } => {
            state.now = state.now.wrapping_add(step_ms % 600_000);
            assert_eq!(lwip_snat_tick(state.now), LWIP_SNAT_OK);
        }
        Call::NetifChanged(idx) => {
            let expected = if *idx == 0 { LWIP_SNAT_ERR_ARG } else { LWIP_SNAT_OK };
            assert_eq!(lwip_snat_netif_changed(*idx), expected);
        }
        Call::RemoveHost(h) => {
            let host = if *h == 0 { addr(HOST_A) } else { addr(inside(*h)) };
            assert_eq!(lwip_snat_remove_host(host), LWIP_SNAT_OK);
            unsafe extern "C" fn none_of(session: *const lwip_snat_session, arg: *mut c_void) {
                // SAFETY: as in `visit`.
                let (s, host) = unsafe { (&*session, *(arg as *const u32)) };
                assert_ne!(s.inside_addr, host, "a removed host's session survived");
            }
            let mut h = host;
            let arg = &mut h as *mut u32 as *mut c_void;
            // SAFETY: `none_of` matches the callback type; `arg` outlives the call.
            assert_eq!(unsafe { lwip_snat_foreach(Some(none_of), arg, state.now) }, LWIP_SNAT_OK);
        }
        Call::Flush => {
            assert_eq!(lwip_snat_flush(), LWIP_SNAT_OK);
            let s = stats();
            assert_eq!((s.tcp.in_use, s.udp.in_use, s.icmp.in_use, s.reass_in_flight), (0, 0, 0, 0));
        }
        Call::Stats { null } => {
            if *null {
                assert_eq!(unsafe { lwip_snat_stats(std::ptr::null_mut()) }, LWIP_SNAT_ERR_NULL);
            } else {
                stats();
            }
        }
        Call::Foreach { null, reenter } => {
            if *null {
                let result = unsafe { lwip_snat_foreach(None, std::ptr::null_mut(), state.now) };
                assert_eq!(result, LWIP_SNAT_ERR_NULL);
                return;
            }
            let s = stats();
            let mut walk = Walk { sessions: 0, reenter: *reenter, busy: 0 };
            let arg = &mut walk as *mut Walk as *mut c_void;
            // SAFETY: `visit` matches the callback type; `arg` outlives the call.
            assert_eq!(unsafe { lwip_snat_foreach(Some(visit), arg, state.now) }, LWIP_SNAT_OK);
            let live = usize::from(s.tcp.in_use) + usize::from(s.udp.in_use) + usize::from(s.icmp.in_use);
            assert_eq!(walk.sessions, live, "every live session visited once");
            assert_eq!(counted(&stats()), counted(&s));
            if *reenter {
                assert_eq!(walk.busy, live);
                assert_eq!(stats().tcp.in_use, s.tcp.in_use, "a refused re-entrant flush changed nothing");
            }
        }
        Call::Names { reason, state: tcp_state, err } => {
            let name = lwip_snat_drop_reason_name(*reason);
            assert_eq!(name.is_null(), usize::from(*reason) >= LWIP_SNAT_DROP_REASONS);
            if !name.is_null() {
                // SAFETY: non-NULL names are static NUL-terminated strings.
                assert!(!unsafe { CStr::from_ptr(name) }.is_empty());
            }
            let name = lwip_snat_tcp_state_name(*tcp_state);
            // SAFETY: as above.
            assert!(!name.is_null() && !unsafe { CStr::from_ptr(name) }.is_empty());
            let name = lwip_snat_strerror(*err);
            assert_eq!(
                name.is_null(),
                !(-16..=0).contains(err),
                "every result code down to LWIP_SNAT_ERR_CAPACITY has a name"
            );
            if !name.is_null() {
                // SAFETY: as above.
                assert!(unsafe { CStr::from_ptr(name) }.to_bytes().starts_with(b"LWIP_SNAT_"));
            }
        }
    }
}

/// What the shim does after `RELEASE` (`packet` is the released fragment): takes back every
/// fragment the NAT held of its datagram, into a buffer as large as a frame or (by `how`) one
/// that splits them into 8-byte pieces; or discards them with a NULL buffer; or first passes a
/// NULL length, which must be refused and take nothing.
fn drain_released(packet: &[u8], how: u8) {
    use lwip_snat_err_t::*;
    let call = |buf: &mut Vec<u8>, null_buf: bool, null_len: bool| {
        let mut len = 0xFFFF_usize;
        let b = if null_buf { std::ptr::null_mut() } else { buf.as_mut_ptr() };
        let l = if null_len { std::ptr::null_mut() } else { &mut len as *mut usize };
        // SAFETY: NULL or `buf.len()` writable bytes; NULL or a writable usize.
        let result = unsafe { lwip_snat_released(b, buf.len(), l) };
        (result, len)
    };
    let cap = match how % 4 {
        1 => 28 + usize::from(how >> 2) % 8,
        _ => 1600,
    };
    let mut buf = vec![0x11u8; cap];
    match how % 4 {
        2 => {
            assert_eq!(call(&mut buf, true, false), (LWIP_SNAT_OK, 0), "a NULL buffer discards the rest");
            assert_eq!(call(&mut buf, false, false), (LWIP_SNAT_OK, 0), "nothing left after a discard");
            return;
        }
        3 => assert_eq!(call(&mut buf, false, true), (LWIP_SNAT_ERR_NULL, 0xFFFF)),
        _ => {}
    }
    let mut taken = 0;
    loop {
        buf.fill(0x11);
        let (result, len) = call(&mut buf, false, false);
        assert_eq!(result, LWIP_SNAT_OK);
        assert!(len <= cap && buf[len..].iter().all(|&b| b == 0x11), "written past the fragment");
        if len == 0 {
            break;
        }
        let fragment = &buf[..len];
        let header_len = usize::from(fragment[0] & 0xF) * 4;
        assert!(fragment[0] >> 4 == 4 && (20..=60).contains(&header_len) && header_len < len, "{fragment:?}");
        assert_eq!(lwip_snat_fuzz::oracle::checksum(&fragment[..header_len]), 0, "header checksum");
        assert_eq!(usize::from(u16::from_be_bytes([fragment[2], fragment[3]])), len, "total length");
        let (more, offset) = (fragment[6] & 0x20 != 0, u16::from_be_bytes([fragment[6], fragment[7]]) & 0x1FFF);
        assert!(more || offset != 0, "a released piece is a fragment");
        for field in [4..6, 9..10, 12..20] {
            assert_eq!(fragment[field.clone()], packet[field], "a fragment of another datagram");
        }
        taken += 1;
        // A 65,535-byte datagram in 8-byte pieces is the most there can be.
        assert!(taken <= 8192, "the held fragments never run out");
    }
    // The first fragment's header is at most 60 bytes; `cap` leaves room for 8 payload bytes.
    assert!(taken > 0 || cap < 68, "RELEASE announced fragments the NAT held");
    assert_eq!(call(&mut buf, false, false), (LWIP_SNAT_OK, 0), "nothing left once drained");
}
