//! A small LAN against a small table: does it fill up? Replays simulated hours of a realistic
//! mix through a 256-TCP / 128-UDP NAT (the default build) and counts, per setting, the new
//! flows refused and the live flows lost (a packet of an open flow that no longer translates).
//!
//! The mix, from 8 hosts: DNS queries at a given rate (a new random source port each, answered
//! 30 ms later), short HTTPS connections at a given rate (handshake, 1–10 s of exchanges, then
//! FINs; 10 % end with an RST, 5 % go to a server that never answers), NTP every 10 minutes,
//! and long-lived flows per host: a chatty TCP connection (every 30 s), a quiet one (keepalive
//! every 5 minutes) and a UDP flow (keepalive every 25 s, a push from the server 10 s after).
//!
//! Settings: the reject and evict policies, with the short DNS/NTP timers (the defaults) and
//! without (300 s like any UDP), and a model of esp-lwip's NAT: 2 s UDP, 30 min TCP, 20 s
//! after a close, a full table evicts its least recently used entry whatever it is.
//!
//! `cargo bench --bench small_lan` simulates 2 hours at two rates; run without `--bench` (as
//! `cargo test --benches` does) or with `--test` it simulates 5 minutes at 10 DNS queries and 2 new connections
//! per second, and fails unless the defaults refuse nothing and lose nothing. Not a timing: a
//! count.

#[path = "support/mod.rs"]
mod support;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use lwip_snat::{Config, FullPolicy, Nat, Rule, Verdict};
use support::{tcp, udp, INBOUND, LAN, OUTBOUND, WAN_ADDR};

type SmallNat = Nat<256, 128, 32>;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;

const HOSTS: u32 = 8;
const DNS_SERVER: u32 = 0x0808_0808;

/// One packet of a scripted flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Out(u8),
    In(u8),
}

#[derive(Clone, Copy, Debug)]
struct Flow {
    tcp: bool,
    host: u32,
    port: u16,
    remote: u32,
    remote_port: u16,
    ext: u16,
    started: bool,
    dead: bool,
}

/// What a NAT did with one packet: the external port it used, or `None` (not translated).
trait Router {
    fn send(&mut self, flow: &Flow, step: Step, now: u32) -> Option<u16>;
    fn tick(&mut self, now: u32);
}

struct Ours(Box<SmallNat>);

impl Ours {
    fn new(config: Config) -> Self {
        let mut nat = Box::new(SmallNat::new());
        nat.reset(config, [7, 11]).expect("valid config");
        nat.add_rule(Rule::Source(LAN)).expect("rule");
        Ours(nat)
    }
}

impl Router for Ours {
    fn send(&mut self, f: &Flow, step: Step, now: u32) -> Option<u16> {
        let (mut packet, ctx) = match (step, f.tcp) {
            (Step::Out(flags), true) => (tcp(f.host, f.port, f.remote, f.remote_port, flags), OUTBOUND),
            (Step::Out(_), false) => (udp(f.host, f.port, f.remote, f.remote_port), OUTBOUND),
            (Step::In(flags), true) => (tcp(f.remote, f.remote_port, WAN_ADDR, f.ext, flags), INBOUND),
            (Step::In(_), false) => (udp(f.remote, f.remote_port, WAN_ADDR, f.ext), INBOUND),
        };
        if self.0.process(&mut packet, &ctx, now) != Verdict::Translated {
            return None;
        }
        Some(u16::from_be_bytes([packet[20], packet[21]]))
    }

    fn tick(&mut self, now: u32) {
        self.0.tick(now);
    }
}

/// esp-lwip's NAT as a model: idle timeouts refreshed both ways, an entry of a closed
/// connection kept 20 s, and a full table that evicts its least recently used entry.
struct EspModel {
    tcp: Vec<EspEntry>,
    udp: Vec<EspEntry>,
    next_port: u16,
}

#[derive(Clone, Copy)]
struct EspEntry {
    key: (u32, u16, u32, u16),
    ext: u16,
    last: u32,
    fins: u8,
    closed: bool,
}

impl EspModel {
    fn new() -> Self {
        EspModel { tcp: Vec::new(), udp: Vec::new(), next_port: 1024 }
    }

    fn timeout(tcp: bool, e: &EspEntry) -> u32 {
        match (tcp, e.closed) {
            (false, _) => 2_000,
            (true, false) => 1_800_000,
            (true, true) => 20_000,
        }
    }
}

impl Router for EspModel {
    fn send(&mut self, f: &Flow, step: Step, now: u32) -> Option<u16> {
        let (table, capacity) = if f.tcp { (&mut self.tcp, 256) } else { (&mut self.udp, 128) };
        table.retain(|e| now.wrapping_sub(e.last) <= Self::timeout(f.tcp, e));
        let key = (f.host, f.port, f.remote, f.remote_port);
        let found = match step {
            Step::Out(_) => table.iter().position(|e| e.key == key),
            Step::In(_) => table.iter().position(|e| e.ext == f.ext && (e.key.2, e.key.3) == (f.remote, f.remote_port)),
        };
        let flags = match step {
            Step::Out(flags) | Step::In(flags) => flags,
        };
        let i = match (found, step) {
            (Some(i), _) => i,
            (None, Step::Out(flags)) if !f.tcp || flags == SYN => {
                if table.len() >= capacity {
                    let oldest = table.iter().enumerate().max_by_key(|(_, e)| now.wrapping_sub(e.last));
                    let oldest = oldest.map(|(i, _)| i)?;
                    table.swap_remove(oldest);
                }
                self.next_port = if self.next_port >= 65000 { 1024 } else { self.next_port + 1 };
                table.push(EspEntry { key, ext: self.next_port, last: now, fins: 0, closed: false });
                table.len() - 1
            }
            (None, _) => return None,
        };
        let e = table.get_mut(i)?;
        e.last = now;
        e.fins += u8::from(flags & FIN != 0);
        e.closed |= e.fins >= 2 || flags & RST != 0;
        Some(e.ext)
    }

    fn tick(&mut self, _now: u32) {}
}

/// A tiny deterministic generator (xorshift), so every setting sees the same traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Default, Debug)]
struct Outcome {
    flows: u64,
    refused: u64,
    lost: u64,
}

/// Builds the scripts of `seconds` of traffic and replays them through `router`.
fn simulate(router: &mut dyn Router, dns_per_s: u32, tcp_per_s: u32, seconds: u32) -> Outcome {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut flows: Vec<Flow> = Vec::new();
    let mut events: BinaryHeap<Reverse<(u32, u64, usize, Step)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |events: &mut BinaryHeap<_>, at: u32, flow: usize, step: Step| {
        order += 1;
        events.push(Reverse((at, order, flow, step)));
    };
    let host = |i: u64| 0xC0A8_010A + i as u32;
    let mut tcp_port = [32768u16; HOSTS as usize];
    let mut new_flow = |flows: &mut Vec<Flow>, rng: &mut Rng, tcp: bool, remote: u32, remote_port: u16| {
        let h = rng.below(u64::from(HOSTS));
        let port = if tcp {
            let p = &mut tcp_port[h as usize];
            *p = if *p >= 60999 { 32768 } else { *p + 1 };
            *p
        } else {
            1024 + rng.below(64000) as u16
        };
        flows.push(Flow { tcp, host: host(h), port, remote, remote_port, ext: 0, started: false, dead: false });
        flows.len() - 1
    };
    let end = seconds * 1000;
    // Long-lived flows of every host, for the whole run.
    for h in 0..u64::from(HOSTS) {
        for (tcp, every, push_after) in [(true, 30_000, None), (true, 300_000, None), (false, 25_000, Some(10_000))] {
            let remote = 0x2200_0000 + h as u32;
            flows.push(Flow {
                tcp,
                host: host(h),
                port: 20000 + h as u16 + if tcp { every as u16 / 1000 } else { 0 },
                remote,
                remote_port: if tcp { 443 } else { 3478 },
                ext: 0,
                started: false,
                dead: false,
            });
            let i = flows.len() - 1;
            if tcp {
                push(&mut events, 0, i, Step::Out(SYN));
                push(&mut events, 40, i, Step::In(SYN | ACK));
                push(&mut events, 41, i, Step::Out(ACK));
            }
            let mut t = 100;
            while t < end {
                push(&mut events, t, i, Step::Out(ACK));
                push(&mut events, t + 40, i, Step::In(ACK));
                if let Some(after) = push_after {
                    push(&mut events, t + after, i, Step::In(ACK));
                }
                t += every;
            }
        }
    }
    for second in 0..seconds {
        let base = second * 1000;
        for _ in 0..dns_per_s {
            let i = new_flow(&mut flows, &mut rng, false, DNS_SERVER, 53);
            let at = base + rng.below(1000) as u32;
            push(&mut events, at, i, Step::Out(0));
            push(&mut events, at + 30, i, Step::In(0));
        }
        if second % 600 == 0 {
            for _ in 0..HOSTS {
                let i = new_flow(&mut flows, &mut rng, false, 0x2300_0001, 123);
                push(&mut events, base + 500, i, Step::Out(0));
                push(&mut events, base + 540, i, Step::In(0));
            }
        }
        for _ in 0..tcp_per_s {
            let remote = 0x2400_0000 + rng.below(50) as u32;
            let i = new_flow(&mut flows, &mut rng, true, remote, 443);
            let mut at = base + rng.below(1000) as u32;
            push(&mut events, at, i, Step::Out(SYN));
            if rng.below(100) < 5 {
                // A server that never answers: the SYN is sent again, then given up.
                push(&mut events, at + 1_000, i, Step::Out(SYN));
                push(&mut events, at + 3_000, i, Step::Out(SYN));
                continue;
            }
            push(&mut events, at + 40, i, Step::In(SYN | ACK));
            push(&mut events, at + 41, i, Step::Out(ACK));
            for _ in 0..1 + rng.below(20) {
                at += 500;
                push(&mut events, at, i, Step::Out(ACK));
                push(&mut events, at + 40, i, Step::In(ACK));
            }
            if rng.below(100) < 10 {
                push(&mut events, at + 100, i, Step::Out(RST | ACK));
            } else {
                push(&mut events, at + 100, i, Step::Out(FIN | ACK));
                push(&mut events, at + 140, i, Step::In(FIN | ACK));
                push(&mut events, at + 141, i, Step::Out(ACK));
            }
        }
    }
    let mut outcome = Outcome { flows: flows.len() as u64, ..Outcome::default() };
    let mut next_tick = 1_000;
    while let Some(Reverse((at, _, i, step))) = events.pop() {
        while next_tick <= at {
            router.tick(next_tick);
            next_tick += 1_000;
        }
        let Some(flow) = flows.get_mut(i) else { continue };
        if flow.dead {
            continue;
        }
        let first = !flow.started;
        flow.started = true;
        match router.send(flow, step, at) {
            Some(ext) => {
                if let Step::Out(_) = step {
                    flow.ext = ext;
                }
            }
            None => {
                flow.dead = true;
                if first {
                    outcome.refused += 1;
                } else {
                    outcome.lost += 1;
                }
            }
        }
    }
    outcome
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let seconds = if full { 2 * 3600 } else { 300 };
    let rates: &[(u32, u32)] = if full { &[(10, 2), (40, 6)] } else { &[(10, 2)] };
    let long_dns = |c: Config| Config { udp_dns_ms: c.udp_ms, udp_ntp_ms: c.udp_ms, ..c };
    let evict = Config { full_policy: FullPolicy::Evict, ..Config::DEFAULT };
    let settings: [(&str, Option<Config>); 5] = [
        ("reject, 300 s DNS", Some(long_dns(Config::DEFAULT))),
        ("reject, short DNS (default)", Some(Config::DEFAULT)),
        ("evict, 300 s DNS", Some(long_dns(evict))),
        ("evict, short DNS", Some(evict)),
        ("esp-lwip model", None),
    ];
    let hours = f64::from(seconds) / 3600.0;
    println!("small LAN, 8 hosts, 256 TCP / 128 UDP sessions, {seconds} s simulated");
    println!(
        "{:<30} {:>8} {:>8} {:>10} {:>16} {:>10}",
        "setting", "DNS/s", "TCP/s", "flows", "refused per hour", "lost"
    );
    for &(dns, conns) in rates {
        // (a build without `evict` refuses that policy: its rows are left out)
        for (name, config) in
            settings.into_iter().filter(|(name, _)| cfg!(feature = "evict") || !name.starts_with("evict"))
        {
            let mut router: Box<dyn Router> = match config {
                Some(c) => Box::new(Ours::new(c)),
                None => Box::new(EspModel::new()),
            };
            let o = simulate(router.as_mut(), dns, conns, seconds);
            println!(
                "{:<30} {:>8} {:>8} {:>10} {:>16.1} {:>10}",
                name,
                dns,
                conns,
                o.flows,
                o.refused as f64 / hours,
                o.lost
            );
            if config == Some(Config::DEFAULT) && (dns, conns) == (10, 2) {
                assert_eq!((o.refused, o.lost), (0, 0), "the defaults must neither refuse nor lose a flow");
            }
        }
    }
}
