//! Chained buffers (lwIP `PBUF_POOL` chains): a datagram whose IP and transport headers lie in
//! its first buffer is translated there, in place, with only that buffer given to the core and
//! the datagram's length as the caller claims it. The result must be the same, byte for byte,
//! counter for counter, as translating the whole datagram in one span; what needs more than
//! the headers (ICMP errors, fragments) is declined so the caller linearises it; and a claimed
//! length that lies is never a way past the buffer.

use crate::common::*;
use std::collections::HashMap;

use lwip_snat::{Config, Context, DropReason, Filtering, Portmap, Protocol, Route, Stats, Verdict};

const HOST_B_ADDR: u32 = 0xC0A8_010B;
const WEB: Portmap = Portmap { protocol: Protocol::Tcp, netif: WAN, ext_port: 8080, inside: HOST_B_ADDR, in_port: 80 };

/// From the DMZ to a fourth netif: no rule names either.
fn dmz_to_lan2() -> Context {
    Context { in_netif: DMZ, route: Route::Forward { out_netif: 4, out_addr: 0xC0A8_0401, out_mtu: 1500 } }
}

fn wan_to_lan() -> Context {
    Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: 0xC0A8_0101, out_mtu: 1500 } }
}

fn lan_to_wan_address() -> Context {
    Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } }
}

fn with_mtu(ctx: Context, mtu: u16) -> Context {
    match ctx.route {
        Route::Forward { out_netif, out_addr, .. } => {
            Context { route: Route::Forward { out_netif, out_addr, out_mtu: mtu }, ..ctx }
        }
        Route::Local { netif, .. } => Context { route: Route::Local { netif, mtu }, ..ctx },
    }
}

/// Length of the IP header plus the whole transport header (TCP with its options, UDP's and
/// an ICMP query's 8 bytes) of a well-formed packet.
fn headers_len(p: &[u8]) -> usize {
    let ihl = usize::from(p[0] & 0x0F) * 4;
    match p[9] {
        6 => ihl + usize::from(p[ihl + 12] >> 4) * 4,
        _ => ihl + 8,
    }
}

fn is_icmp_error(p: &[u8]) -> bool {
    let ihl = usize::from(p[0] & 0x0F) * 4;
    p[9] == 1 && matches!(p[ihl], 3 | 11 | 12)
}

fn is_fragment(p: &[u8]) -> bool {
    u16::from_be_bytes([p[6], p[7]]) & 0x3FFF != 0
}

/// External ports (ICMP: identifiers) the NAT gave, by inside port, learned as the
/// conversation goes: replies are built to them.
type Ext = HashMap<u16, u16>;

/// One packet of a conversation: where it goes, and how to build it from the ports so far.
type Step = (Context, Box<dyn Fn(&Ext) -> Vec<u8>>);

fn step(ctx: Context, build: impl Fn(&Ext) -> Vec<u8> + 'static) -> Step {
    (ctx, Box::new(build))
}

fn ext(ports: &Ext, inside: u16) -> u16 {
    ports.get(&inside).copied().unwrap_or(1)
}

/// Where the conversation hairpins: the port forward `WEB`, or without `portmap` the external
/// port of HOST_A's TCP connection, which [`fresh`]'s endpoint-independent filter opens.
fn hairpin_port(ports: &Ext) -> u16 {
    if cfg!(feature = "portmap") {
        WEB.ext_port
    } else {
        ext(ports, 40000)
    }
}

fn big() -> Vec<u8> {
    vec![0x5A; 600]
}

/// A conversation through every path of the pipeline.
fn conversation() -> Vec<Step> {
    vec![
        // UDP out (new session), the reply in, more out on the fast path
        step(outbound(), |_| udp(HOST_A, 5000, SERVER, 53, &big())),
        step(inbound(), |e| udp(SERVER, 53, WAN_ADDR, ext(e, 5000), &big())),
        step(outbound(), |_| udp(HOST_A, 5000, SERVER, 53, &[7; 300])),
        // TCP: SYN with MSS (clamped to the WAN's MTU), data both ways, FIN
        step(with_mtu(outbound(), 1400), |_| syn_with_mss(HOST_A, 40000, SERVER, 443, false, 1460)),
        step(with_mtu(inbound(), 1400), |e| syn_with_mss(SERVER, 443, WAN_ADDR, ext(e, 40000), true, 1460)),
        step(outbound(), |_| tcp_data(HOST_A, 40000, SERVER, 443, ACK, &big())),
        step(inbound(), |e| tcp_data(SERVER, 443, WAN_ADDR, ext(e, 40000), ACK, &big())),
        step(outbound(), |_| tcp_data(HOST_A, 40000, SERVER, 443, ACK | FIN, &[1; 100])),
        // ICMP echo out and its reply
        step(outbound(), |_| echo_request(HOST_A, SERVER, 0x1234, 1)),
        step(inbound(), |e| echo_reply(SERVER, WAN_ADDR, ext(e, 0x1234), 1)),
        // hairpin to a port forward (without portmap: to the TCP mapping above; without hairpin:
        // the router's own, passed): SYN and data
        step(lan_to_wan_address(), |e| syn_with_mss(HOST_A, 41000, WAN_ADDR, hairpin_port(e), false, 1460)),
        step(lan_to_wan_address(), |e| tcp_data(HOST_A, 41000, WAN_ADDR, hairpin_port(e), ACK, &big())),
        // no rule concerns it: passed untouched
        step(dmz_to_lan2(), |_| udp([192, 168, 3, 9], 7, [192, 168, 4, 9], 6000, &big())),
        // against the rule, no session: dropped
        step(wan_to_lan(), |_| udp(SERVER, 53, HOST_A, 5001, &big())),
        // DF and larger than the WAN's MTU: Fragmentation Needed
        step(with_mtu(outbound(), 576), |_| {
            let mut p = udp(HOST_A, 5000, SERVER, 53, &big());
            set_df(&mut p);
            p
        }),
        // TTL 1: Time Exceeded for ICMP, lwIP's for the rest
        step(outbound(), |_| {
            let mut p = echo_request(HOST_A, SERVER, 0x99, 2);
            set_ttl(&mut p, 1);
            p
        }),
        step(outbound(), |_| {
            let mut p = udp(HOST_A, 5000, SERVER, 53, &big());
            set_ttl(&mut p, 1);
            p
        }),
        // an ICMP error about the UDP flow from outside, and one from inside about inbound traffic
        step(inbound(), |e| icmp_error(SERVER, WAN_ADDR, 3, 3, &udp(WAN_ADDR, ext(e, 5000), SERVER, 53, &big()), 60)),
        step(outbound(), |_| icmp_error(HOST_A, SERVER, 3, 3, &udp(SERVER, 53, HOST_A, 5000, &big()), 36)),
        // a fragment (first of two)
        step(outbound(), |_| raw_fragment(&udp(HOST_A, 5002, SERVER, 53, &big()), 0, 64, true)),
        // UDP length beyond the datagram, bad header checksum: dropped
        step(outbound(), |_| {
            let mut p = udp(HOST_A, 5000, SERVER, 53, &big());
            p[24..26].copy_from_slice(&2000u16.to_be_bytes());
            p
        }),
        step(outbound(), |_| {
            let mut p = udp(HOST_A, 5000, SERVER, 53, &big());
            p[10] ^= 0xFF;
            p
        }),
        // a martian source, forwarded
        step(outbound(), |_| udp([127, 0, 0, 1], 5000, SERVER, 53, &big())),
    ]
}

/// Learns the external port (or identifier) of an outbound packet the NAT translated.
fn learn(ports: &mut Ext, ctx: &Context, before: &[u8], after: &[u8]) {
    if ctx.in_netif != LAN || !matches!(ctx.route, Route::Forward { out_netif: WAN, .. }) {
        return;
    }
    match before[9] {
        1 if !is_icmp_error(before) => ports.insert(icmp_ident(before), icmp_ident(after)),
        6 | 17 => ports.insert(sport(before), sport(after)),
        _ => None,
    };
}

/// The NAT every comparison starts from: with the port forward `WEB`, or without `portmap`
/// endpoint-independent TCP filtering, so that the conversation still hairpins (to a mapping);
/// without both (nothing lets a new remote in), the default filter, which drops the hairpin.
fn fresh() -> Box<TestNat> {
    if cfg!(feature = "portmap") {
        let mut nat = nat_with(Config { mss_clamp: true, ..Config::DEFAULT });
        nat.add_portmap(Portmap { inside: HOST_B_ADDR, ..WEB }).unwrap();
        nat
    } else if !cfg!(feature = "filtering") {
        nat_with(Config { mss_clamp: true, ..Config::DEFAULT })
    } else {
        nat_with(Config { mss_clamp: true, tcp_filtering: Filtering::EndpointIndependent, ..Config::DEFAULT })
    }
}

/// Runs `p` through `nat` as a chain whose first buffer holds `split` bytes: the head alone
/// when the core takes it, else (declined) the whole datagram linearised, as the shim does.
/// Returns the verdict, the datagram's bytes after it, and whether it was done in place.
fn chained(nat: &mut TestNat, ctx: &Context, p: &[u8], split: usize, now: u32) -> (Verdict, Vec<u8>, bool) {
    let mut head = p[..split].to_vec();
    match nat.process_head(&mut head, p.len(), ctx, now) {
        Some(v) => {
            let mut whole = head;
            whole.extend_from_slice(&p[split..]);
            (v, whole, true)
        }
        None => {
            let mut whole = p.to_vec();
            let v = nat.process(&mut whole, ctx, now);
            (v, whole, false)
        }
    }
}

#[test]
fn chained_datagram_is_translated_in_its_first_buffer_exactly_as_a_contiguous_one() {
    for split in [20, 24, 27, 28, 30, 36, 40, 44, 47, 48, 60, 64, 128, 600, 627, 628, 640] {
        let mut whole_nat = fresh();
        let mut chain_nat = fresh();
        let mut ports = Ext::new();
        for (i, (ctx, build)) in conversation().into_iter().enumerate() {
            let now = 10 * i as u32;
            let p = build(&ports);
            let split = split.min(p.len() - 1);
            let mut contiguous = p.clone();
            let expected = whole_nat.process(&mut contiguous, &ctx, now);
            if expected == Verdict::Translated {
                learn(&mut ports, &ctx, &p, &contiguous);
            }
            let (verdict, bytes, in_place) = chained(&mut chain_nat, &ctx, &p, split, now);
            let what = format!("packet {i}, first buffer {split} of {} bytes", p.len());
            assert_eq!(verdict, expected, "{what}");
            assert_eq!(bytes, contiguous, "{what}");
            if verdict == Verdict::Translated {
                assert_checksums(&bytes);
            }
            assert_eq!(chain_nat.stats(), whole_nat.stats(), "{what}");
            for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp] {
                assert_eq!(chain_nat.sessions_in_use(protocol), whole_nat.sessions_in_use(protocol), "{what}");
            }
            // Only what needs more than the headers is linearised.
            let needs_whole = is_icmp_error(&p) || is_fragment(&p) || split < headers_len(&p);
            assert_eq!(in_place, !needs_whole, "{what}: done in place");
        }
    }
}

#[test]
fn the_payload_of_a_chained_datagram_is_never_needed() {
    // The payload beyond the first buffer is not given to the core at all: an established
    // flow's data and a new flow's first packet come out right from the headers alone.
    let mut nat = fresh();
    let p = udp(HOST_A, 5000, SERVER, 53, &[0xEE; 1200]);
    let mut head = p[..28].to_vec();
    assert_eq!(nat.process_head(&mut head, p.len(), &outbound(), 0), Some(Verdict::Translated));
    let mut translated = head;
    translated.extend_from_slice(&p[28..]);
    assert_checksums(&translated);
    assert_eq!(src(&translated), WAN_ADDR);
    let mut reply = udp(SERVER, 53, WAN_ADDR, sport(&translated), &[0x11; 1200]);
    let mut head = reply[..28].to_vec();
    assert_eq!(nat.process_head(&mut head, reply.len(), &inbound(), 1), Some(Verdict::Translated));
    reply[..28].copy_from_slice(&head);
    assert_checksums(&reply);
    assert_eq!((dst(&reply), dport(&reply)), (HOST_A, 5000));
}

#[test]
fn a_claimed_datagram_length_that_lies_is_judged_as_the_contiguous_path_judges_it() {
    let p = udp(HOST_A, 5000, SERVER, 53, &[0x42; 500]);
    // Shorter than the IP header says: malformed, as a contiguous buffer of that length is.
    for claimed in [0, 19, 20, 27, 28, 100, p.len() - 1] {
        let mut nat = fresh();
        let mut head = p[..28.min(claimed.max(20))].to_vec();
        let verdict = nat.process_head(&mut head, claimed, &outbound(), 0);
        let mut reference = fresh();
        let mut truncated = p[..claimed.min(head.len())].to_vec();
        let expected = reference.process(&mut truncated, &outbound(), 0);
        assert!(matches!(verdict, Some(Verdict::Drop(DropReason::Malformed)) | None), "claimed {claimed}: {verdict:?}");
        if let Some(verdict) = verdict {
            assert_eq!(verdict, expected, "claimed {claimed}");
            assert_eq!(nat.stats(), reference.stats(), "claimed {claimed}");
        }
        assert_eq!(nat.sessions_in_use(Protocol::Udp), 0, "claimed {claimed}: no session from a lie");
    }
    // Longer than the IP header says (link padding): the header's length counts.
    let mut nat = fresh();
    let mut head = p[..28].to_vec();
    assert_eq!(nat.process_head(&mut head, p.len() + 1000, &outbound(), 0), Some(Verdict::Translated));
    let mut translated = head;
    translated.extend_from_slice(&p[28..]);
    assert_checksums(&translated);
    // A first buffer longer than the claimed datagram: only the claimed bytes are the datagram.
    let mut nat = fresh();
    let mut reference = fresh();
    let mut head = p.clone();
    let verdict = nat.process_head(&mut head, 300, &outbound(), 0);
    let mut truncated = p[..300].to_vec();
    assert_eq!(verdict, Some(reference.process(&mut truncated, &outbound(), 0)));
    assert_eq!(verdict, Some(Verdict::Drop(DropReason::Malformed)));
    assert_eq!(nat.stats(), reference.stats());
    assert_eq!(head, p, "a dropped datagram is not modified");
}

#[test]
fn chained_counters_stay_as_for_contiguous_datagrams() {
    // Declined datagrams (ICMP errors) leave no trace in the counters before the whole is judged.
    let mut nat = fresh();
    let error = icmp_error(SERVER, WAN_ADDR, 3, 3, &udp(WAN_ADDR, 1, SERVER, 53, &[0; 64]), 90);
    let mut head = error[..40].to_vec();
    assert_eq!(nat.process_head(&mut head, error.len(), &inbound(), 0), None);
    assert_eq!(*nat.stats(), Stats::default());
    assert_eq!(head, error[..40], "declined: not modified");
}

/// A NAT with one live UDP and one live TCP session of HOST_A, and their external ports.
fn with_sessions() -> (Box<TestNat>, u16, u16) {
    let mut nat = fresh();
    let u = out(&mut nat, udp(HOST_A, 5000, SERVER, 53, b"q"), 0);
    let t = out(&mut nat, tcp(HOST_A, 40000, SERVER, 443, SYN), 0);
    (nat, sport(&u), sport(&t))
}

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Whatever the bytes, the split and the claimed length: the first buffer alone gives
        /// the contiguous path's verdict, bytes and counters, or is declined untouched.
        #[test]
        fn first_buffer_alone_agrees_with_the_contiguous_datagram(
            kind in 0usize..4,
            inbound_side in any::<bool>(),
            flips in proptest::collection::vec((0usize..64, any::<u8>()), 0..4),
            fix_checksum in any::<bool>(),
            split in 0usize..96,
            extra in 0usize..3,
        ) {
            let (mut chain_nat, ext_udp, ext_tcp) = with_sessions();
            let (mut whole_nat, _, _) = with_sessions();
            let payload = [0x33u8; 120];
            let mut p = match (kind, inbound_side) {
                (0, false) => udp(HOST_A, 5000, SERVER, 53, &payload),
                (0, true) => udp(SERVER, 53, WAN_ADDR, ext_udp, &payload),
                (1, false) => tcp_data(HOST_A, 40000, SERVER, 443, ACK, &payload),
                (1, true) => tcp_data(SERVER, 443, WAN_ADDR, ext_tcp, ACK, &payload),
                (2, _) => syn_with_mss(HOST_A, 41000, SERVER, 80, false, 1460),
                _ => icmp_error(SERVER, WAN_ADDR, 3, 3, &udp(WAN_ADDR, ext_udp, SERVER, 53, &payload), 80),
            };
            for (at, value) in flips {
                if let Some(b) = p.get_mut(at) {
                    *b = value;
                }
            }
            if fix_checksum && p.len() >= 20 && p[0] == 0x45 {
                refill_ip_checksum(&mut p);
            }
            // The caller's datagram: the packet, or with link padding after it.
            p.extend(std::iter::repeat_n(0xEE, extra * 7));
            let ctx = if inbound_side { inbound() } else { outbound() };
            let split = split.min(p.len());
            let mut contiguous = p.clone();
            let expected = whole_nat.process(&mut contiguous, &ctx, 5);
            let mut head = p[..split].to_vec();
            match chain_nat.process_head(&mut head, p.len(), &ctx, 5) {
                Some(verdict) => {
                    let mut bytes = head;
                    bytes.extend_from_slice(&p[split..]);
                    prop_assert_eq!(verdict, expected);
                    prop_assert_eq!(bytes, contiguous);
                    prop_assert_eq!(chain_nat.stats(), whole_nat.stats());
                }
                None => {
                    prop_assert_eq!(&head[..], &p[..split], "declined: untouched");
                    prop_assert_eq!(*chain_nat.stats(), *with_sessions().0.stats(), "declined: nothing counted");
                }
            }
        }
    }
}
