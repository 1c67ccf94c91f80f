//! Hostile load through real lwIP (Debian's liblwip 2.1.3, the C shim's hook in front of
//! `ip4_input()`; the router program of tests/lwip/router.c built with AddressSanitizer, whose
//! LeakSanitizer checks the heap when the router exits). Debian's lwIP allocates every pbuf
//! with libc `malloc` (`MEM_LIBC_MALLOC`, `MEMP_MEM_MALLOC`), so a pbuf leaked on any path is
//! a leak report at exit, and one freed twice is an ASan error on the spot.
//!
//! Each test ends with [`Router::finish`]: stdin closes, lwIP's loop ends, the process must
//! exit 0 with no sanitizer report. On the way, every packet lwIP sends out of the WAN must
//! carry the WAN address as its source (nothing private leaks), established flows must keep
//! translating, the NAT's counters must account for every packet injected, and tables and the
//! fragment pool stay within their capacity.

mod common;
#[allow(dead_code)]
#[path = "lwip/driver.rs"]
mod driver;
#[path = "lwip/build.rs"]
mod lwip_build;

use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use test_kit::rng::Rng;

/// `lwip_snat_rule.kind` OUTBOUND: masquerade everything that leaves by the WAN.
const RULE_OUTBOUND: u8 = 1;

struct Router {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// Packets injected while the NAT runs (each goes through `lwip_snat_process` once).
    injected: u64,
    /// ICMP 3/13 sent back to the LAN (a refused flow counts as a drop and an ICMP request).
    prohibited: u64,
}

/// What one injected packet caused: packets out of each netif.
#[derive(Default, Debug)]
struct Out {
    lan: Vec<Vec<u8>>,
    wan: Vec<Vec<u8>>,
}

impl Router {
    /// lwIP up with the NAT started by `start` (a router command) and an OUTBOUND(WAN) rule.
    fn new(start: &str) -> Router {
        let exe = lwip_build::program("router");
        let mut child = Command::new(exe)
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run router");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut r = Router { child, stdin, stdout, injected: 0, prohibited: 0 };
        r.cmd(start);
        r.cmd(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
        r
    }

    /// Runs a command; returns its event lines. Panics with the router's stderr if it died.
    fn cmd(&mut self, line: &str) -> Vec<String> {
        let stdin = self.stdin.as_mut().expect("router running");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut lines = Vec::new();
        loop {
            let mut text = String::new();
            if self.stdout.read_line(&mut text).unwrap_or(0) == 0 {
                let mut err = String::new();
                let _ = self.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("router died during {:.80}:\n{err}", line);
            }
            let text = text.trim_end();
            if text == "ok" {
                return lines;
            }
            assert!(!text.starts_with("err "), "{line:.80}: {text}");
            lines.push(text.to_string());
        }
    }

    /// Injects one packet into `netif` and checks that nothing private leaves by the WAN.
    fn inject(&mut self, netif: &str, packet: &[u8]) -> Out {
        self.send("in", netif, packet)
    }

    /// The same, the packet split over a chain of two pbufs.
    fn inject_chained(&mut self, netif: &str, packet: &[u8]) -> Out {
        self.send("inchain", netif, packet)
    }

    fn send(&mut self, verb: &str, netif: &str, packet: &[u8]) -> Out {
        self.injected += 1;
        let hex: String = packet.iter().map(|b| format!("{b:02x}")).collect();
        let mut out = Out::default();
        for line in self.cmd(&format!("{verb} {netif} {hex}")) {
            let mut words = line.split(' ');
            if words.next() != Some("out") {
                continue;
            }
            let netif = words.next().unwrap();
            let _next_hop = words.next();
            let text = words.next().unwrap_or("");
            let bytes: Vec<u8> =
                (0..text.len() / 2).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap()).collect();
            if netif == "wan" {
                assert_eq!(src(&bytes), WAN_ADDR, "only the WAN address leaves by the WAN: {bytes:02x?}");
                out.wan.push(bytes);
            } else {
                if bytes[9] == 1 && bytes[20..22] == [3, 13] {
                    self.prohibited += 1;
                }
                out.lan.push(bytes);
            }
        }
        out
    }

    /// The one packet that left by `netif`, with every checksum verified.
    fn through(&mut self, netif: &str, packet: &[u8]) -> Vec<u8> {
        let out = self.inject(netif, packet);
        let (there, back) = if netif == "lan" { (&out.wan, &out.lan) } else { (&out.lan, &out.wan) };
        assert_eq!((there.len(), back.len()), (1, 0), "one packet through: {out:?}");
        assert_checksums(&there[0]);
        there[0].clone()
    }

    fn timers(&mut self, ms: u32) {
        self.cmd(&format!("timers {ms}"));
    }

    fn stats(&mut self) -> BTreeMap<String, u64> {
        self.cmd("stats")
            .iter()
            .filter_map(|l| {
                let mut w = l.split(' ');
                (w.next() == Some("stat"))
                    .then(|| (driver::stat_name(w.next().unwrap()), w.next().unwrap().parse().unwrap()))
            })
            .collect()
    }

    /// Every packet injected landed in exactly one counter (a refused flow in two, and a
    /// reassembled datagram is counted again when the shim feeds it back in).
    fn assert_accounted(&mut self) -> BTreeMap<String, u64> {
        let s = self.stats();
        let get = |k: &str| s.get(k).copied().unwrap_or(0);
        let dropped: u64 = s.iter().filter(|(k, _)| k.starts_with("drop_")).map(|(_, v)| v).sum();
        let counted = get("translated_out")
            + get("translated_in")
            + get("hairpinned")
            + get("passed")
            + get("icmp_requested")
            + get("fragments_held")
            + dropped;
        assert_eq!(counted, self.injected + get("reassembled") + self.prohibited, "{s:?}");
        for p in ["tcp", "udp", "icmp"] {
            assert!(get(&format!("{p}_in_use")) <= get(&format!("{p}_capacity")), "{s:?}");
        }
        s
    }

    /// Ends lwIP's loop and checks that the process exits cleanly: no leak, no bad free.
    fn finish(mut self) {
        drop(self.stdin.take());
        let mut err = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = self.child.wait().unwrap();
        assert!(!err.contains("Sanitizer"), "sanitizer report:\n{err}");
        assert!(status.success(), "router exit {status}:\n{err}");
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A TCP connection HOST_A:40000 ↔ SERVER:80 and a UDP flow HOST_B:5000 ↔ SERVER:53, set up
/// before an attack.
struct Live {
    tcp_port: u16,
    udp_port: u16,
}

impl Live {
    fn open(r: &mut Router) -> Live {
        let syn = r.through("lan", &tcp(HOST_A, 40000, SERVER, 80, SYN));
        let tcp_port = sport(&syn);
        r.through("wan", &tcp(SERVER, 80, WAN_ADDR, tcp_port, SYN | ACK));
        r.through("lan", &tcp(HOST_A, 40000, SERVER, 80, ACK));
        let udp_port = sport(&r.through("lan", &udp(HOST_B, 5000, SERVER, 53, b"q")));
        Live { tcp_port, udp_port }
    }

    /// Both flows still translate both ways, on the same external ports.
    fn check(&self, r: &mut Router) {
        let out = r.through("lan", &tcp_data(HOST_A, 40000, SERVER, 80, ACK, b"GET /"));
        assert_eq!((sport(&out), dst(&out)), (self.tcp_port, SERVER));
        let back = r.through("wan", &tcp_data(SERVER, 80, WAN_ADDR, self.tcp_port, ACK, b"200"));
        assert_eq!((dst(&back), dport(&back)), (HOST_A, 40000));
        let out = r.through("lan", &udp(HOST_B, 5000, SERVER, 53, b"query"));
        assert_eq!(sport(&out), self.udp_port);
        let back = r.through("wan", &udp(SERVER, 53, WAN_ADDR, self.udp_port, b"answer"));
        assert_eq!((dst(&back), dport(&back)), (HOST_B, 5000));
    }
}

// ---------------------------------------------------------------- every path frees its pbuf

#[test]
fn every_verdict_drop_reason_and_reassembly_path_frees_its_pbufs() {
    let mut r = Router::new("start");
    let live = Live::open(&mut r);
    let good = udp(HOST_A, 6000, SERVER, 53, b"x");
    let mut reasons = Vec::new();
    let mut dropped = |r: &mut Router, netif: &str, p: &[u8], reason: &str| {
        let out = r.inject(netif, p);
        assert!(out.wan.is_empty() && out.lan.iter().all(|q| q[9] == 1), "{reason}: {out:?}");
        reasons.push(reason.to_string());
    };
    let mut bad = good.clone();
    bad[0] = 0x44;
    dropped(&mut r, "lan", &bad, "malformed");
    let mut bad = good.clone();
    bad[10] ^= 1;
    dropped(&mut r, "lan", &bad, "bad_checksum");
    dropped(&mut r, "lan", &udp([127, 0, 0, 1], 1, SERVER, 53, b"x"), "martian");
    let mut short = udp(HOST_A, 6000, SERVER, 53, b"");
    short.truncate(24);
    short[3] = 24;
    refill_ip_checksum(&mut short);
    dropped(&mut r, "lan", &short, "bad_transport");
    let mut gre = good.clone();
    gre[9] = 47;
    refill_ip_checksum(&mut gre);
    dropped(&mut r, "lan", &gre, "unsupported_protocol");
    dropped(&mut r, "lan", &tcp(HOST_A, 41000, SERVER, 80, ACK), "no_mapping");
    dropped(&mut r, "wan", &udp(SERVER2, 53, WAN_ADDR, live.udp_port, b"x"), "filtered");
    dropped(&mut r, "wan", &udp(SERVER, 53, HOST_A, 6000, b"x"), "reverse_direction");
    let mut ttl0 = good.clone();
    set_ttl(&mut ttl0, 0);
    dropped(&mut r, "lan", &ttl0, "ttl_expired");
    let stray = udp(SERVER2, 53, HOST_B, 7777, b"?");
    dropped(&mut r, "lan", &icmp_error(HOST_B, SERVER2, 3, 3, &stray, stray.len()), "icmp_no_mapping");
    dropped(&mut r, "lan", &icmp_error(HOST_B, SERVER2, 3, 3, &stray, 24), "icmp_malformed");
    let sent = udp(WAN_ADDR, live.udp_port, SERVER, 53, b"q");
    let mut bad_icmp = icmp_error(SERVER, WAN_ADDR, 3, 3, &sent, sent.len());
    bad_icmp[22] ^= 0xFF;
    dropped(&mut r, "wan", &bad_icmp, "icmp_bad_checksum");

    if cfg!(feature = "reassembly") {
        // Fragments: every reassembly outcome, on single and chained pbufs.
        let dup = with_ident(udp(HOST_A, 7001, SERVER, 53, &[0x43; 2000]), 2);
        assert!(r.inject("lan", &raw_fragment(&dup, 0, 1480, true)).wan.is_empty(), "held");
        dropped(&mut r, "lan", &raw_fragment(&dup, 0, 1480, true), "fragment_duplicate");
        let mut other = raw_fragment(&dup, 0, 1480, true);
        other[100] ^= 1;
        refill_ip_checksum(&mut other);
        dropped(&mut r, "lan", &other, "fragment_overlap");
        let syn = with_ident(tcp(HOST_A, 7002, SERVER, 80, SYN), 3);
        dropped(&mut r, "lan", &raw_fragment(&syn, 0, 8, true), "fragment_too_short");
        let small = with_ident(udp(HOST_A, 7003, SERVER, 53, &[1; 100]), 4);
        dropped(&mut r, "lan", &raw_fragment(&small, 0, 12, true), "fragment");
        let mut beyond = raw_fragment(&small, 0, 16, true);
        beyond[6..8].copy_from_slice(&(0x2000u16 | 1000).to_be_bytes());
        refill_ip_checksum(&mut beyond);
        dropped(&mut r, "lan", &beyond, "fragment_beyond_limit");
        let mut too_big = raw_fragment(&small, 0, 16, false);
        too_big[6..8].copy_from_slice(&0x1FFFu16.to_be_bytes());
        refill_ip_checksum(&mut too_big);
        dropped(&mut r, "lan", &too_big, "fragment_too_big");
        // First fragments to ports of the router no mapping uses go to lwIP's own reassembly;
        // pieces that may belong to a mapping fill the pool, where new datagrams evict the oldest
        // (for a free slot and for free blocks).
        let big = |i: u16| with_ident(udp(SERVER, 53, WAN_ADDR, 9000 + i, &[9; 3000]), 100 + i);
        for i in 0..3 {
            assert!(r.inject("wan", &raw_fragment(&big(i), 0, 2000, true)).lan.is_empty());
        }
        for i in 3..10 {
            assert!(r.inject("wan", &raw_fragment(&big(i), 1000, 2000, true)).lan.is_empty());
        }
        assert_eq!(r.stats().get("reass_released"), Some(&3));
        assert!(r.stats().get("reass_evicted").is_some_and(|&n| n >= 3));
        let whole = with_ident(udp(HOST_A, 7000, SERVER, 53, &[0x42; 2000]), 1);
        r.timers(16_000);
        assert!(r.inject("lan", &raw_fragment(&whole, 0, 1480, true)).wan.is_empty(), "held");
        let out = r.inject_chained("lan", &raw_fragment(&whole, 1480, 2008, false));
        assert_eq!(out.wan.len(), 2, "reassembled, translated, fragmented again by lwIP for the WAN");
    } else {
        // Without reassembly a fragment on a NAT path is dropped and counted as `fragment`.
        let whole = with_ident(udp(HOST_A, 7000, SERVER, 53, &[0x42; 2000]), 1);
        dropped(&mut r, "lan", &raw_fragment(&whole, 0, 1480, true), "fragment");
        dropped(&mut r, "lan", &raw_fragment(&whole, 1480, 2008, false), "fragment");
    }

    // ICMP the NAT asks for: time exceeded inbound, fragmentation needed, table full.
    let mut late = udp(SERVER, 53, WAN_ADDR, live.udp_port, b"r");
    set_ttl(&mut late, 1);
    let out = r.inject("wan", &late);
    assert_eq!((out.wan.len(), out.lan.len()), (1, 0), "time exceeded goes back to the server");
    let mut big = udp(HOST_A, 6001, SERVER, 53, &[0; 1600]);
    set_df(&mut big);
    let out = r.inject("lan", &big);
    assert_eq!((out.wan.len(), out.lan.len()), (0, 1), "fragmentation needed goes back to the host");
    for ident in 0..40u16 {
        r.inject("lan", &echo_request(HOST_A, SERVER, 1000 + ident, 1));
    }
    assert!(r.prohibited > 0, "a full ICMP table answers 3/13");
    // The router's own ping passes; chained pbufs translate.
    let out = r.inject("wan", &echo_request(SERVER, WAN_ADDR, 7, 1));
    assert_eq!(out.wan.len(), 1, "lwIP answers a ping to itself");
    assert_eq!(r.inject_chained("lan", &udp(HOST_B, 5000, SERVER, 53, &[7; 300])).wan.len(), 1);

    let stats = r.assert_accounted();
    for reason in &reasons {
        assert!(stats.get(&format!("drop_{reason}")).copied().unwrap_or(0) > 0, "{reason} not reached: {stats:?}");
    }
    // Fragments left in the pool and sessions are dropped by the timers and by a flush.
    r.timers(20_000);
    assert_eq!(r.stats().get("reass_in_flight"), Some(&0));
    live.check(&mut r);
    r.finish();
}

// ---------------------------------------------------------------- attacks through lwIP

#[test]
fn syn_flood_to_the_host_quota_then_a_full_table_through_lwip() {
    let mut r = Router::new("startcfg 1024 49151 16");
    let mut rng = Rng(0x1157_0001);
    let live = Live::open(&mut r);
    let flooder = [192, 168, 1, 66];
    let mut out = 0;
    for i in 0..300 {
        let syn = tcp(flooder, 1024 + rng.u16() % 60_000, [203, 0, 113, rng.u16() as u8], rng.u16() | 1, SYN);
        out += r.inject("lan", &syn).wan.len();
        if i % 50 == 0 {
            live.check(&mut r);
        }
    }
    assert_eq!(out, 16, "the flooder's quota");
    assert_eq!(r.prohibited, 300 - 16, "every refused SYN is answered with ICMP 3/13");
    let s = r.assert_accounted();
    assert_eq!(s["drop_host_quota"], 284);
    // More flooders until the table is full: then every new flow is refused, none evicted.
    for i in 0..400u32 {
        let spoofed = [192, 168, 1, 100 + (i % 20) as u8];
        let syn = tcp(spoofed, 1024 + rng.u16() % 60_000, [203, 0, 113, rng.u16() as u8], rng.u16() | 1, SYN);
        r.inject("lan", &syn);
        if i % 50 == 0 {
            live.check(&mut r);
        }
    }
    let s = r.assert_accounted();
    assert_eq!((s["tcp_in_use"], s["tcp_high_water"]), (s["tcp_capacity"], s["tcp_capacity"]));
    assert!(s["drop_table_full"] > 100, "{s:?}");
    live.check(&mut r);
    // The half-open sessions age out (240 s); the established one stays; the quota is back.
    for _ in 0..5 {
        r.timers(50_000);
        live.check(&mut r);
    }
    assert_eq!(r.stats()["tcp_in_use"], 1);
    r.through("lan", &tcp(flooder, 2222, SERVER, 22, SYN));
    r.assert_accounted();
    r.finish();
}

#[test]
fn unsolicited_wan_flood_reaches_nothing_inside_through_lwip() {
    let mut r = Router::new("start");
    let mut rng = Rng(0x1157_0002);
    let live = Live::open(&mut r);
    for i in 0..1_500u32 {
        let from = rng.attacker();
        let (sport, port) = (rng.u16(), rng.u16());
        let packet = match i % 6 {
            0 => udp(from, sport, WAN_ADDR, live.udp_port, b"x"),
            1 => tcp(from, sport, WAN_ADDR, live.tcp_port, [SYN, ACK, RST][i as usize / 6 % 3]),
            2 => udp(from, sport, WAN_ADDR, port | 1024, b"x"),
            3 => tcp(from, sport, WAN_ADDR, port | 1024, SYN),
            4 => echo_reply(from, WAN_ADDR, port, 1),
            _ => udp(from, sport, HOST_A, port, b"straight at an inside host"),
        };
        let out = r.inject("wan", &packet);
        assert!(out.lan.is_empty(), "nothing unsolicited reaches the LAN: {packet:02x?}");
        if i % 100 == 0 {
            live.check(&mut r);
        }
    }
    let s = r.assert_accounted();
    assert_eq!((s["drop_filtered"], s["drop_reverse_direction"]), (500, 250));
    assert_eq!((s["tcp_in_use"], s["udp_in_use"]), (1, 1), "no session created");
    live.check(&mut r);
    r.finish();
}

#[test]
fn port_exhaustion_on_the_external_address_through_lwip() {
    let mut r = Router::new("startcfg 20000 20007 0");
    let live = Live::open(&mut r);
    let hosts: Vec<[u8; 4]> = (0..12).map(|i| [192, 168, 1, 20 + i]).collect();
    let mut mapped = Vec::new();
    let mut refused = Vec::new();
    for &h in &hosts {
        let out = r.inject("lan", &udp(h, 20000, SERVER, 9, b"x"));
        match out.wan.first() {
            Some(p) => mapped.push((h, sport(p))),
            None => refused.push(h),
        }
    }
    assert_eq!((mapped.len(), refused.len()), (8, 4));
    assert_eq!(r.prohibited, 4);
    for _ in 0..10 {
        for &(h, port) in &mapped {
            assert_eq!(sport(&r.through("lan", &udp(h, 20000, SERVER2, 7, b"y"))), port);
            assert_eq!(dst(&r.through("wan", &udp(SERVER2, 7, WAN_ADDR, port, b"z"))), h);
        }
        live.check(&mut r);
    }
    r.timers(301_000);
    live.check(&mut r);
    for &h in &refused {
        let port = sport(&r.through("lan", &udp(h, 20000, SERVER, 9, b"x")));
        assert!((20000..=20007).contains(&port));
    }
    assert_eq!(r.assert_accounted()["drop_ports_exhausted"], 4);
    r.finish();
}

#[test]
fn icmp_error_burst_with_random_quoted_tuples_through_lwip() {
    let mut r = Router::new("start");
    let mut rng = Rng(0x1157_0004);
    let live = Live::open(&mut r);
    let mut legit = 0;
    for i in 0..600u32 {
        let router = rng.attacker();
        let kind = [3, 11, 12][i as usize % 3];
        if i % 50 == 0 {
            let sent = r.through("lan", &udp(HOST_B, 5000, SERVER, 53, b"query"));
            let got = r.through("wan", &icmp_error(router, WAN_ADDR, kind, 0, &sent, 28));
            // The quote is the datagram as it left lwIP (TTL decremented), with its inside
            // endpoint back.
            let mut expected = udp(HOST_B, 5000, SERVER, 53, b"query");
            set_ttl(&mut expected, 63);
            assert_eq!((dst(&got), &quoted(&got)[..28]), (HOST_B, &expected[..28]));
            legit += 1;
        }
        let port = if i % 2 == 0 { live.udp_port } else { rng.u16() | 1 };
        let quote = udp(WAN_ADDR, port, rng.attacker(), rng.u16(), b"quoted");
        let out = r.inject("wan", &icmp_error(router, WAN_ADDR, kind, 0, &quote, 28 + i as usize % 20));
        assert!(out.lan.is_empty(), "no error about a stranger reaches inside");
        let quote = udp(rng.attacker(), rng.u16(), HOST_A, rng.u16(), b"quoted");
        let out = r.inject("lan", &icmp_error(HOST_A, SERVER2, kind, 0, &quote, quote.len()));
        assert!(out.wan.is_empty(), "an error about no session never leaves");
    }
    let s = r.assert_accounted();
    assert_eq!(s["icmp_errors_translated"], legit);
    assert_eq!(s["drop_icmp_no_mapping"], 600 + 300);
    live.check(&mut r);
    r.finish();
}

#[test]
fn fragment_flood_of_never_completing_datagrams_through_lwip() {
    let mut r = Router::new("start");
    let mut rng = Rng(0x1157_0005);
    let live = Live::open(&mut r);
    for i in 0..1_500u32 {
        let len = 8 * (1 + (rng.u16() % 185) as usize);
        let (netif, whole) = if i % 2 == 0 {
            ("lan", udp([192, 168, 1, 100 + (i % 50) as u8], rng.u16(), SERVER, 53, &vec![1; len + 8]))
        } else {
            ("wan", udp(rng.attacker(), rng.u16(), WAN_ADDR, rng.u16(), &vec![2; len + 8]))
        };
        let out = r.inject(netif, &raw_fragment(&with_ident(whole, rng.u16()), 0, len, true));
        // First fragments to the router's own ports go to lwIP's reassembly, which answers the
        // oldest it gives up for room with Time Exceeded (fragment reassembly), as without the NAT.
        let reassembly_time_exceeded = |p: &Vec<u8>| p[9] == 1 && p[20..22] == [11, 1] && src(p) == WAN_ADDR;
        assert!(out.lan.is_empty() && out.wan.iter().all(reassembly_time_exceeded), "a lone fragment goes nowhere");
        if i % 100 == 0 {
            live.check(&mut r);
            let s = r.stats();
            assert!(s["reass_in_flight"] <= 4 && s["reass_bytes_in_use"] <= 6400, "{s:?}");
        }
        if i % 30 == 0 {
            r.timers(1_000);
        }
    }
    r.timers(16_000);
    let s = r.assert_accounted();
    assert_eq!((s["reass_in_flight"], s["reass_bytes_in_use"]), (0, 0));
    assert_eq!(
        s["reass_expired"] + s["reass_evicted"],
        s["fragments_held"],
        "every held datagram aged out or gave way"
    );
    assert_eq!(s.get("drop_reassembly_full"), None, "new datagrams make room, none is refused: {s:?}");
    let whole = with_ident(udp(HOST_A, 5353, SERVER, 5353, &[0x42; 2000]), 77);
    assert!(r.inject("lan", &raw_fragment(&whole, 0, 1480, true)).wan.is_empty());
    if cfg!(feature = "reassembly") {
        assert!(s["reass_evicted"] > 100 && s["reass_released"] > 100, "{s:?}");
        assert_eq!(r.inject("lan", &raw_fragment(&whole, 1480, 2008, false)).wan.len(), 2);
    } else {
        // Nothing held: those on a NAT path dropped (`fragment`), the router's own passed to lwIP.
        assert!(s["fragments_held"] == 0 && s["drop_fragment"] > 0 && s["passed"] > 0, "{s:?}");
        assert!(r.inject("lan", &raw_fragment(&whole, 1480, 2008, false)).wan.is_empty());
    }
    live.check(&mut r);
    r.assert_accounted();
    r.finish();
}
