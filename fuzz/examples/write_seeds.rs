//! Writes the seed corpora: real packets (as a router on the LAN/WAN border of
//! `harness::nat` sees them) in each target's input format.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example write_seeds -- fuzz/corpus`

use std::fs;
use std::path::{Path, PathBuf};

use lwip_snat_fuzz::harness::{HOST_A, HOST_B, SERVER, WAN_ADDR};
use lwip_snat_fuzz::oracle::{canonicalize, put16};
use lwip_snat_fuzz::packet::{self, ACK, FIN, RST, SYN};

const SERVER2: [u8; 4] = [198, 51, 100, 7];
const ROUTER: [u8; 4] = [198, 51, 100, 1];

/// Context flags of the `packet` target.
const FORWARD_LAN: u8 = 1 << 3 | 2 << 5; // in LAN, out WAN
const LOCAL_WAN: u8 = 1 | 2 << 3 | 2 << 5; // in WAN, for the WAN address
const LOCAL_LAN: u8 = 1 | 1 << 3 | 1 << 5;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into()));
    fragment_seeds(&root);
    let seeds = packets();
    let dir = root.join("packet");
    for (name, flags, bytes) in &seeds {
        write_packet_seed(&dir, name, *flags, 1500, bytes);
    }
    let mut big = packet::udp(HOST_A, 5000, SERVER, 53, &[0x5a; 1400]);
    big[6] |= 0x40;
    canonicalize(&mut big);
    write_packet_seed(&dir, "udp-df-too-big", FORWARD_LAN, 1280, &big);

    let dir = root.join("differential");
    for (name, flags, bytes) in &seeds {
        let direction = if *flags & 1 != 0 { 1 } else { 0 };
        let record = record(direction | 0x10, 16, 1, 3, bytes);
        write(&dir, name, &[&[0u8][..], &record].concat());
    }
    let conversation = [
        record(0x10, 0, 0, 3, &packet::udp(HOST_A, 6000, SERVER, 53, b"a")),
        record(0x14, 20, 1, 0, &packet::tcp(HOST_B, 41000, SERVER2, 443, SYN, &[2, 4, 5, 0xb4], &[])),
        record(0x18, 8, 1, 0, &packet::icmp_query(HOST_B, SERVER2, 8, 77, 1, b"ping")),
        record(1, 0, 1, 0, &packet::udp(SERVER, 53, WAN_ADDR, 6000, b"answer")),
        record(0x10, 0, 200, 3, &packet::udp(HOST_A, 6000, SERVER2, 123, b"ntp")),
    ]
    .concat();
    for config in 0..4u8 {
        write(&dir, &format!("conversation-config{config}"), &[&[config * 5][..], &conversation].concat());
    }
}

/// Fragment trains of real datagrams, in the `fragments` target's records.
fn fragment_seeds(root: &Path) {
    let dir = root.join("fragments");
    let frag = |flags: u8, tenths: u8, p: Vec<u8>| {
        let len = p.len() as u16;
        [&[flags, tenths][..], &len.to_be_bytes(), &p].concat()
    };
    let big_udp = packet::udp(HOST_A, 5000, SERVER, 4000, &(0..3000).map(|i| (i * 7) as u8).collect::<Vec<_>>());
    let reply = packet::udp(SERVER, 4000, WAN_ADDR, 5000, &[0x33; 2000]);
    let syn = packet::tcp(HOST_B, 41000, SERVER2, 443, SYN, &[2, 4, 5, 0xb4], &[0x77; 1200]);
    let ping = packet::icmp_query(HOST_A, SERVER, 8, 0x1234, 9, &[0x61; 1800]);
    let with_options = {
        let mut p = packet::ipv4(HOST_A, SERVER, 17, 64, &[7, 7, 4, 0, 0, 0, 0, 0], &big_udp[20..]);
        canonicalize(&mut p);
        p
    };
    let l = |p: &Vec<u8>| p.len() - usize::from(p[0] & 0xF) * 4;
    let trains: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "udp-in-order-out",
            vec![
                frag(0, 0, packet::fragment(&big_udp, 0, 1480, true)),
                frag(0, 0, packet::fragment(&big_udp, 1480, 2960, true)),
                frag(0, 1, packet::fragment(&big_udp, 2960, l(&big_udp), false)),
            ],
        ),
        (
            "udp-last-first-out",
            vec![
                frag(0, 0, packet::fragment(&big_udp, 2960, l(&big_udp), false)),
                frag(0, 0, packet::fragment(&big_udp, 1480, 2960, true)),
                frag(0, 0, packet::fragment(&big_udp, 0, 1480, true)),
            ],
        ),
        (
            "udp-reply-in",
            vec![
                frag(1, 0, packet::fragment(&reply, 984, l(&reply), false)),
                frag(1, 0, packet::fragment(&reply, 0, 984, true)),
            ],
        ),
        (
            "tcp-syn-out",
            vec![
                frag(0, 0, packet::fragment(&syn, 0, 512, true)),
                frag(0, 0, packet::fragment(&syn, 512, l(&syn), false)),
            ],
        ),
        (
            "icmp-echo-out",
            vec![
                frag(0, 0, packet::fragment(&ping, 0, 1480, true)),
                frag(0, 0, packet::fragment(&ping, 1480, l(&ping), false)),
            ],
        ),
        (
            "ip-options-out",
            vec![
                frag(0, 0, packet::fragment(&with_options, 1000, l(&with_options), false)),
                frag(0, 0, packet::fragment(&with_options, 0, 1000, true)),
            ],
        ),
        (
            "overlap-and-duplicate-out",
            vec![
                frag(0, 0, packet::fragment(&big_udp, 0, 1480, true)),
                frag(0, 0, packet::fragment(&big_udp, 0, 1480, true)),
                frag(0, 0, packet::fragment(&big_udp, 1000, 2000, true)),
                frag(0, 0, packet::fragment(&big_udp, 2000, l(&big_udp), false)),
            ],
        ),
        (
            "tiny-fragments-out",
            (0..8)
                .map(|i| frag(0, 0, packet::fragment(&syn, i * 8, (i + 1) * 8, true)))
                .chain([frag(0, 0, packet::fragment(&syn, 64, l(&syn), false))])
                .collect(),
        ),
        (
            "never-completes-then-times-out",
            vec![
                frag(0, 0, packet::fragment(&big_udp, 0, 1480, true)),
                frag(1, 0, packet::fragment(&reply, 0, 984, true)),
                frag(0, 160, packet::fragment(&big_udp, 1480, 2960, true)),
            ],
        ),
    ];
    for (name, records) in trains {
        for config in [0u8, 64] {
            write(&dir, &format!("{name}-config{config}"), &[&[config][..], &records.concat()].concat());
        }
    }
}

fn record(flags: u8, quote: u8, seconds: u8, code: u8, bytes: &[u8]) -> Vec<u8> {
    let len = bytes.len() as u16;
    [&[flags, quote, seconds, code][..], &len.to_be_bytes(), bytes].concat()
}

fn write_packet_seed(dir: &Path, name: &str, flags: u8, mtu: u16, bytes: &[u8]) {
    let mut head = vec![flags, 0];
    head.extend_from_slice(&mtu.to_be_bytes());
    head.extend_from_slice(&1000u32.to_be_bytes());
    write(dir, name, &[&head[..], bytes].concat());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("create corpus directory");
    fs::write(dir.join(name), bytes).expect("write seed");
}

/// (name, `packet` context flags, bytes).
fn packets() -> Vec<(&'static str, u8, Vec<u8>)> {
    let udp_out = packet::udp(HOST_A, 5000, SERVER, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00");
    let udp_back = packet::udp(SERVER, 53, WAN_ADDR, 5000, b"\x12\x34\x81\x80 answer");
    let syn = packet::tcp(HOST_A, 40001, SERVER, 443, SYN, &[2, 4, 5, 0xb4, 4, 2, 8, 10], &[]);
    let tcp_data = packet::tcp(HOST_A, 40000, SERVER, 80, ACK, &[], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let tcp_back = packet::tcp(SERVER, 80, WAN_ADDR, 40000, ACK, &[], b"HTTP/1.1 200 OK\r\n\r\n");
    let echo = packet::icmp_query(HOST_A, SERVER, 8, 0x1234, 7, b"abcdefghijklmnop");
    let echo_back = packet::icmp_query(SERVER, WAN_ADDR, 0, 0x1234, 7, b"abcdefghijklmnop");
    let mut zero_checksum = packet::udp(HOST_B, 5353, SERVER2, 5353, b"no checksum");
    put16(&mut zero_checksum, 26, 0);
    let mut options = packet::ipv4(HOST_A, SERVER, 17, 64, &[7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1], &udp_out[20..]);
    canonicalize(&mut options);
    let mut first_fragment = packet::udp(HOST_A, 5000, SERVER, 53, &[1; 64]);
    first_fragment[6] |= 0x20;
    canonicalize(&mut first_fragment);
    let mut later_fragment = packet::ipv4(HOST_A, SERVER, 17, 64, &[], &[2; 40]);
    put16(&mut later_fragment, 6, 9);
    canonicalize(&mut later_fragment);
    let mut ttl1 = packet::udp(HOST_A, 33434, SERVER, 33434, b"traceroute");
    ttl1[8] = 1;
    canonicalize(&mut ttl1);
    let mut ttl0 = ttl1.clone();
    ttl0[8] = 0;
    canonicalize(&mut ttl0);
    let gre = packet::ipv4(HOST_A, SERVER, 47, 64, &[], &[0, 0, 0x08, 0, 0x45, 0, 0, 20]);
    vec![
        ("udp-dns-query-out", FORWARD_LAN, udp_out.clone()),
        ("udp-new-host-out", FORWARD_LAN, packet::udp(HOST_B, 5000, SERVER, 53, b"q")),
        ("udp-privileged-out", FORWARD_LAN, packet::udp(HOST_B, 123, SERVER2, 123, &[0x23; 48])),
        ("udp-dns-answer-in", LOCAL_WAN, udp_back.clone()),
        ("udp-from-stranger-in", LOCAL_WAN, packet::udp(SERVER2, 53, WAN_ADDR, 5000, b"x")),
        ("udp-zero-checksum-out", FORWARD_LAN, zero_checksum),
        ("udp-ip-options-out", FORWARD_LAN, options),
        ("tcp-syn-options-out", FORWARD_LAN, syn.clone()),
        ("tcp-data-out", FORWARD_LAN, tcp_data.clone()),
        ("tcp-data-in", LOCAL_WAN, tcp_back.clone()),
        ("tcp-fin-out", FORWARD_LAN, packet::tcp(HOST_A, 40000, SERVER, 80, FIN | ACK, &[], &[])),
        ("tcp-rst-in", LOCAL_WAN, packet::tcp(SERVER, 80, WAN_ADDR, 40000, RST, &[], &[])),
        ("tcp-ack-no-session-out", FORWARD_LAN, packet::tcp(HOST_B, 40000, SERVER, 80, ACK, &[], &[])),
        ("icmp-echo-out", FORWARD_LAN, echo.clone()),
        ("icmp-echo-reply-in", LOCAL_WAN, echo_back.clone()),
        ("icmp-timestamp-out", FORWARD_LAN, packet::icmp_query(HOST_B, SERVER, 13, 99, 1, &[0; 12])),
        ("icmp-echo-to-router", LOCAL_WAN, packet::icmp_query(SERVER, WAN_ADDR, 8, 5, 1, b"hi")),
        ("icmp-port-unreachable-in", LOCAL_WAN, {
            let mut sent = udp_out.clone();
            sent[12..16].copy_from_slice(&WAN_ADDR);
            canonicalize(&mut sent);
            packet::icmp_error(SERVER, WAN_ADDR, 3, 3, &sent)
        }),
        ("icmp-time-exceeded-in", LOCAL_WAN, {
            let mut sent = tcp_data.clone();
            sent[12..16].copy_from_slice(&WAN_ADDR);
            canonicalize(&mut sent);
            packet::icmp_error(ROUTER, WAN_ADDR, 11, 0, &sent[..28])
        }),
        ("icmp-frag-needed-in", LOCAL_WAN, {
            let mut sent = echo.clone();
            sent[12..16].copy_from_slice(&WAN_ADDR);
            canonicalize(&mut sent);
            packet::icmp_error(ROUTER, WAN_ADDR, 3, 4, &sent[..36])
        }),
        ("icmp-port-unreachable-out", FORWARD_LAN, {
            let mut got = udp_back.clone();
            got[16..20].copy_from_slice(&HOST_A);
            canonicalize(&mut got);
            packet::icmp_error(HOST_A, SERVER, 3, 3, &got)
        }),
        ("fragment-first-out", FORWARD_LAN, first_fragment),
        ("fragment-later-out", FORWARD_LAN, later_fragment),
        ("ttl1-out", FORWARD_LAN, ttl1),
        ("ttl0-out", FORWARD_LAN, ttl0),
        ("gre-out", FORWARD_LAN, gre),
        ("dhcp-discover-to-router", LOCAL_LAN, packet::udp([0; 4], 68, [255; 4], 67, &[1, 1, 6, 0, 0xde, 0xad])),
    ]
}
