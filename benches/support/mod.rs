//! Traffic for the benchmarks and the callgrind example: a NAT warmed with N real flows, the
//! packets that exercise it (real bytes, valid checksums), and the linear-search references
//! that list-based lwIP NATs amount to.
//!
//! Shared by `benches/translate.rs` and `examples/callgrind_translate.rs` (through `#[path]`),
//! so the instruction counts and the timings come from the same packets.
#![allow(dead_code)]

use lwip_snat::flow::Side;
use lwip_snat::rewrite;
use lwip_snat::tables::tcp::{self as tcp_state, Direction};
use std::hint::black_box;

use lwip_snat::{flow, Config, Context, Nat, Protocol, Route, Rule, Verdict};

pub mod addon;

/// Table capacity of the benched NAT: the largest a build allows (`LWIP_SNAT_MAX_TCP/UDP`
/// ≤ 32768), so every fill level runs in the same table, as on one router getting busier.
pub const CAPACITY: usize = 32768;
pub type BenchNat = Nat<CAPACITY, CAPACITY, 64>;

/// Live mappings per protocol at which lookups are measured; the last is the full table.
pub const SIZES: [usize; 5] = [16, 256, 1024, 4096, CAPACITY];

/// New flows created per timed batch in the creation benches; the table is then brought back
/// to its fill level (untimed). "Near full" leaves exactly this much room.
pub const CHURN_BATCH: usize = 64;
pub const NEAR_FULL: usize = CAPACITY - CHURN_BATCH;

use test_kit::oracle;
use test_kit::packet::{self, Ipv4Fields, TcpFields};
pub use test_kit::topology::{LAN, WAN};
/// The router's address on the WAN netif: 100.64.0.1.
pub const WAN_ADDR: u32 = 0x6440_0001;
/// Inside hosts 192.168.1.10 ... (16 of them), the churn hosts 192.168.2.1 ... (4).
const INSIDE_BASE: u32 = 0xC0A8_010A;
const INSIDE_HOSTS: usize = 16;
pub const CHURN_HOSTS: [u32; 4] = [0xC0A8_0201, 0xC0A8_0202, 0xC0A8_0203, 0xC0A8_0204];
/// Remote servers 203.0.113.1 ... (250 of them).
const REMOTE_BASE: u32 = 0xCB00_7101;
const REMOTES: usize = 250;
const FIRST_PORT: u16 = 1024;
/// The clock the benches run at (ms); far from any timeout.
pub const NOW: u32 = 10_000;

pub const OUTBOUND: Context =
    Context { in_netif: LAN, route: Route::Forward { out_netif: WAN, out_addr: WAN_ADDR, out_mtu: 1500 } };
pub const INBOUND: Context = Context { in_netif: WAN, route: Route::Local { netif: WAN, mtu: 1500 } };

/// Byte stride of one packet template; every packet here is shorter.
pub const STRIDE: usize = 64;

/// The four endpoints of one flow, as the inside host sees them.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    pub inside: u32,
    pub in_port: u16,
    pub remote: u32,
    pub remote_port: u16,
}

/// Flow `i` of a fill: distinct inside ports (so distinct mappings), spread over 16 inside
/// hosts and 250 remote servers.
pub fn endpoints(i: usize) -> Endpoints {
    Endpoints {
        inside: INSIDE_BASE + (i % INSIDE_HOSTS) as u32,
        in_port: FIRST_PORT + i as u16,
        remote: REMOTE_BASE + (i % REMOTES) as u32,
        remote_port: 443,
    }
}

// ---- packets -------------------------------------------------------------------------------

/// The benches' IPv4 fields: TTL 64, IP ID 0x1234, DF set.
const BENCH_IP: Ipv4Fields = Ipv4Fields { ttl: 64, ident: 0x1234, dont_fragment: true };

/// A 40-byte TCP segment (no payload: the common pure ACK).
pub fn tcp(src: u32, sport: u16, dst: u32, dport: u16, flags: u8) -> Vec<u8> {
    let fields = TcpFields { sport, dport, seq: 0x0102_0304, ack: 0x0506_0708, flags, window: 64240 };
    packet::datagram(
        src.to_be_bytes(),
        dst.to_be_bytes(),
        oracle::TCP,
        BENCH_IP,
        &[],
        &packet::tcp_segment(fields, &[], &[]),
    )
}

/// A UDP datagram with a 32-byte payload (60 bytes in all).
pub fn udp(src: u32, sport: u16, dst: u32, dport: u16) -> Vec<u8> {
    let payload: Vec<u8> = (0..32).collect();
    let l4 = packet::udp_segment(sport, dport, &payload);
    packet::datagram(src.to_be_bytes(), dst.to_be_bytes(), oracle::UDP, BENCH_IP, &[], &l4)
}

/// ICMP destination unreachable (port unreachable) from `from` to `to`, quoting the IP header
/// and first 8 bytes of `quoted` as RFC 792 asks.
pub fn icmp_port_unreachable(from: u32, to: u32, quoted: &[u8]) -> Vec<u8> {
    let l4 = packet::icmp_message(3, 3, [0; 4], &quoted[..28]);
    packet::datagram(from.to_be_bytes(), to.to_be_bytes(), oracle::ICMP, BENCH_IP, &[], &l4)
}

fn port_at(p: &[u8], offset: usize) -> u16 {
    u16::from_be_bytes([p[offset], p[offset + 1]])
}

// ---- the NAT under test --------------------------------------------------------------------

/// A NAT of [`CAPACITY`] sessions per protocol, reset with a fixed seed and a LAN → WAN rule.
/// Built on a thread with a large stack: the struct is ~2 MB, and unoptimised builds (CI's
/// test mode) place temporaries of it on the stack.
pub fn new_nat() -> Box<BenchNat> {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut nat = Box::new(BenchNat::new());
            // No per-host quota: 16 hosts share the whole table here.
            let config = Config { host_quota: 0, ..Config::DEFAULT };
            nat.reset(config, [0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210]).expect("valid config");
            nat.add_rule(Rule::Source(LAN)).expect("room for a rule");
            nat
        })
        .expect("spawn")
        .join()
        .expect("build NAT")
}

/// Packet templates at a fixed stride, so per-packet setup is one short copy.
pub struct Templates {
    bytes: Vec<u8>,
    lens: Vec<u8>,
}

impl Templates {
    fn new() -> Self {
        Templates { bytes: Vec::new(), lens: Vec::new() }
    }

    fn push(&mut self, packet: &[u8]) {
        assert!(packet.len() <= STRIDE);
        let start = self.bytes.len();
        self.bytes.resize(start + STRIDE, 0);
        self.bytes[start..start + packet.len()].copy_from_slice(packet);
        self.lens.push(packet.len() as u8);
    }

    pub fn len(&self) -> usize {
        self.lens.len()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        &self.bytes[i * STRIDE..i * STRIDE + usize::from(self.lens[i])]
    }

    /// Copies template `i` into `work` (which must hold [`STRIDE`] bytes) and returns the
    /// packet's slice of it.
    #[inline(always)]
    pub fn load<'a>(&self, i: usize, work: &'a mut [u8; STRIDE]) -> &'a mut [u8] {
        let len = usize::from(self.lens[i]);
        work[..len].copy_from_slice(&self.bytes[i * STRIDE..i * STRIDE + len]);
        &mut work[..len]
    }
}

/// The packets of an established traffic mix: one of each kind per flow.
pub struct Traffic {
    pub flows: usize,
    /// ACK segment inside → remote.
    pub tcp_out: Templates,
    /// ACK segment remote → the flow's external address and port.
    pub tcp_in: Templates,
    pub udp_out: Templates,
    pub udp_in: Templates,
    /// Port unreachable from the remote about the flow's (translated) UDP datagram.
    pub icmp_error_in: Templates,
}

fn expect_translated(
    process: &mut impl FnMut(&mut [u8], &Context) -> Verdict,
    packet: &mut [u8],
    ctx: &Context,
    what: &str,
) {
    let verdict = process(packet, ctx);
    assert_eq!(verdict, Verdict::Translated, "{what}");
    assert!(oracle::checksums_verify(packet), "{what}: checksums after translation");
}

/// Opens `flows` TCP connections (SYN, SYN-ACK, ACK) and UDP flows through `nat`, and returns
/// the packets that then belong to live sessions.
pub fn warm(nat: &mut BenchNat, flows: usize) -> Traffic {
    let traffic = warm_with(|packet, ctx| nat.process(packet, ctx, NOW), flows);
    assert_eq!(nat.sessions_in_use(Protocol::Tcp), flows);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), flows);
    traffic
}

/// As [`warm`], through any entry point that processes a packet at [`NOW`] (the C API).
pub fn warm_with(mut process: impl FnMut(&mut [u8], &Context) -> Verdict, flows: usize) -> Traffic {
    let process = &mut process;
    let mut traffic = Traffic {
        flows,
        tcp_out: Templates::new(),
        tcp_in: Templates::new(),
        udp_out: Templates::new(),
        udp_in: Templates::new(),
        icmp_error_in: Templates::new(),
    };
    for i in 0..flows {
        let e = endpoints(i);
        let mut syn = tcp(e.inside, e.in_port, e.remote, e.remote_port, 0x02);
        expect_translated(process, &mut syn, &OUTBOUND, "SYN out");
        let ext_port = port_at(&syn, 20);
        let mut syn_ack = tcp(e.remote, e.remote_port, WAN_ADDR, ext_port, 0x12);
        expect_translated(process, &mut syn_ack, &INBOUND, "SYN-ACK in");
        let ack_out = tcp(e.inside, e.in_port, e.remote, e.remote_port, 0x10);
        expect_translated(process, &mut ack_out.clone(), &OUTBOUND, "ACK out");
        traffic.tcp_out.push(&ack_out);
        traffic.tcp_in.push(&tcp(e.remote, e.remote_port, WAN_ADDR, ext_port, 0x10));

        let udp_out = udp(e.inside, e.in_port, e.remote, e.remote_port);
        let mut translated = udp_out.clone();
        expect_translated(process, &mut translated, &OUTBOUND, "UDP out");
        let ext_port = port_at(&translated, 20);
        traffic.udp_out.push(&udp_out);
        traffic.udp_in.push(&udp(e.remote, e.remote_port, WAN_ADDR, ext_port));
        traffic.icmp_error_in.push(&icmp_port_unreachable(e.remote, WAN_ADDR, &translated));
    }
    // Every template translates (and is left untouched: `load` copies it first).
    let mut work = [0u8; STRIDE];
    for i in 0..flows {
        expect_translated(process, traffic.tcp_in.load(i, &mut work), &INBOUND, "ACK in");
        expect_translated(process, traffic.udp_in.load(i, &mut work), &INBOUND, "UDP in");
        expect_translated(process, traffic.icmp_error_in.load(i, &mut work), &INBOUND, "ICMP error in");
    }
    traffic
}

/// A UDP datagram of `payload` bytes from flow 0's inside endpoint, cut into fragments of at
/// most `mtu` bytes as a host would send it (offsets in 8-byte units, MF on all but the last),
/// each with a valid header checksum; the UDP checksum covers the whole datagram. Returns the
/// fragments and the whole datagram's IP payload.
pub fn fragmented_udp(payload: usize, mtu: usize) -> (Vec<Vec<u8>>, Vec<u8>) {
    let e = endpoints(0);
    let data: Vec<u8> = (0..payload).map(|i| (i * 7) as u8).collect();
    let l4 = packet::udp_segment(e.in_port, e.remote_port, &data);
    let whole = packet::datagram(e.inside.to_be_bytes(), e.remote.to_be_bytes(), oracle::UDP, BENCH_IP, &[], &l4);
    let step = (mtu - 20) / 8 * 8;
    let fragments = packet::fragments_of(&whole, step);
    (fragments, whole[20..].to_vec())
}

/// New flows for the creation benches: [`CHURN_BATCH`] SYNs and UDP datagrams from the churn
/// hosts. With `taken`, each uses an inside port that a live mapping already holds, so the
/// allocator must draw a random port; otherwise the inside port is free and kept.
pub fn churn(fill: usize, taken: bool) -> (Templates, Templates) {
    let (mut syns, mut datagrams) = (Templates::new(), Templates::new());
    for j in 0..CHURN_BATCH {
        let host = CHURN_HOSTS[j / 16];
        let port = if taken { FIRST_PORT + (j % 16) as u16 } else { FIRST_PORT + (fill + j) as u16 };
        let remote = REMOTE_BASE + (j % REMOTES) as u32;
        syns.push(&tcp(host, port, remote, 443, 0x02));
        datagrams.push(&udp(host, port, remote, 443));
    }
    (syns, datagrams)
}

/// Removes the churn hosts' sessions, bringing the table back to its fill level.
pub fn drop_churn(nat: &mut BenchNat) {
    for host in CHURN_HOSTS {
        nat.remove_host(host);
    }
}

// ---- the linear references -----------------------------------------------------------------

/// A session as a list-based NAT stores it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    inside: u32,
    remote: u32,
    in_port: u16,
    ext_port: u16,
    remote_port: u16,
    netif: u8,
    state: u8,
    last_used: u32,
}

/// What list-based lwIP NATs do per packet, over the same sessions as a [`BenchNat`]: the same
/// validation, parsing, state update and in-place rewrite (the crate's own fast-path
/// functions), with the session found by a linear search. Only the lookup differs (and the
/// rules, liveness and martian checks the references skip), so the ratio measures it.
pub struct Linear {
    protocol: Protocol,
    /// Array entries in creation order (`Layout::Array`), or nodes linked newest first in
    /// pool order (`Layout::List`, as a linked list allocated from a memory pool).
    entries: Vec<Entry>,
    next: Vec<u32>,
    head: u32,
    layout: Layout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A contiguous array scanned front to back (esp-lwip's table, at best).
    Array,
    /// A singly linked list: every step waits for the previous node's `next` (the original
    /// add-on's lists).
    List,
}

const END: u32 = u32::MAX;

impl Linear {
    /// A copy of `nat`'s sessions of one protocol, in the order they were created.
    pub fn from_nat(nat: &BenchNat, protocol: Protocol, layout: Layout) -> Self {
        let entries: Vec<Entry> = nat
            .sessions()
            .filter(|&(p, _)| p == protocol)
            .map(|(_, s)| Entry {
                inside: s.inside,
                remote: s.remote,
                in_port: s.in_port,
                ext_port: s.ext_port,
                remote_port: s.remote_port,
                netif: s.netif,
                state: BenchNat::session_state(s),
                last_used: s.last_used,
            })
            .collect();
        // Newest first: node i links to node i - 1.
        let next = (0..entries.len() as u32).map(|i| if i == 0 { END } else { i - 1 }).collect();
        let head = if entries.is_empty() { END } else { entries.len() as u32 - 1 };
        Linear { protocol, entries, next, head, layout }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn find(&self, matches: impl Fn(&Entry) -> bool) -> Option<usize> {
        match self.layout {
            Layout::Array => self.entries.iter().position(matches),
            Layout::List => {
                let mut i = self.head;
                while i != END {
                    if matches(&self.entries[i as usize]) {
                        return Some(i as usize);
                    }
                    i = self.next[i as usize];
                }
                None
            }
        }
    }

    /// Translates an established flow's packet in either direction, with the parse and rewrite
    /// of the NAT's own fast path (`flow::parse_plain`, `rewrite::plain_endpoint`).
    pub fn process(&mut self, packet: &mut [u8], ctx: &Context, now: u32) -> Verdict {
        let Some(plain) = flow::parse_plain(packet) else { return Verdict::Pass };
        let f = &plain.flow;
        if f.protocol != self.protocol {
            return Verdict::Pass;
        }
        let (side, netif, out_addr) = match ctx.route {
            Route::Forward { out_netif, out_addr, .. } => (Side::Source, out_netif, out_addr),
            Route::Local { netif, .. } => (Side::Destination, netif, 0),
        };
        // The key in locals, so the scan compares registers against each entry.
        let (src, src_port, dst, dst_port) = (f.src, f.src_port, f.dst, f.dst_port);
        let found = match side {
            Side::Source => self.find(|e| {
                e.remote == dst
                    && e.inside == src
                    && e.in_port == src_port
                    && e.remote_port == dst_port
                    && e.netif == netif
            }),
            Side::Destination => self
                .find(|e| e.ext_port == dst_port && e.remote == src && e.remote_port == src_port && e.netif == netif),
        };
        let Some(i) = found else { return Verdict::Pass };
        let e = &mut self.entries[i];
        if f.protocol == Protocol::Tcp {
            let direction = if side == Side::Source { Direction::Outbound } else { Direction::Inbound };
            e.state = tcp_state::advance(direction, e.state, f.tcp_flags);
            e.last_used = now;
        } else if side == Side::Source {
            e.last_used = now;
        }
        match side {
            Side::Source => rewrite::plain_endpoint(packet, &plain, side, out_addr, e.ext_port),
            Side::Destination => rewrite::plain_endpoint(packet, &plain, side, e.inside, e.in_port),
        };
        Verdict::Translated
    }
}

/// Asserts that `reference` translates flows of `templates` exactly as `nat` does (verdict and
/// bytes), so a reference row times a lookup that works. Checks the first 64 flows and the
/// last: every flow would take minutes for the slow references in CI's unoptimised test mode.
pub fn assert_same_translation(
    nat: &mut BenchNat,
    mut reference: impl FnMut(&mut [u8]) -> Verdict,
    templates: &Templates,
    ctx: &Context,
) {
    let (mut ours, mut theirs) = ([0u8; STRIDE], [0u8; STRIDE]);
    for i in (0..templates.len().min(64)).chain([templates.len() - 1]) {
        let expected = nat.process(templates.load(i, &mut ours), ctx, NOW);
        assert_eq!(expected, Verdict::Translated);
        assert_eq!(reference(templates.load(i, &mut theirs)), expected, "flow {i}: verdict");
        assert_eq!(ours, theirs, "flow {i}: bytes");
    }
}

// ---- measuring --------------------------------------------------------------------------

/// One packet per iteration, round-robin over `templates` (copied into a work buffer first).
/// Criterion calls a bench routine once per sample, so the cursor lives outside it: every
/// sample continues where the last one stopped, and all flows are visited in turn.
pub fn round_robin(
    b: &mut criterion::Bencher,
    templates: &Templates,
    cursor: &mut usize,
    mut process: impl FnMut(&mut [u8]) -> Verdict,
) {
    let mut work = [0u8; STRIDE];
    b.iter(|| {
        let verdict = process(templates.load(*cursor, &mut work));
        *cursor += 1;
        if *cursor == templates.len() {
            *cursor = 0;
        }
        black_box(verdict)
    });
}
