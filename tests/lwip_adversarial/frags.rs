//! Fragments turned against the router, through real lwIP: a flood of stray fragments cannot
//! block a fragmented reply, and the router still answers a fragmented ping larger than the
//! NAT's reassembly pool (lwIP's own reassembly takes it).

use crate::common::*;
use crate::driver::Router;
use etherparse::{Ipv4Header, PacketBuilder};
use lwip_snat::config::REASS_BYTES;

/// `lwip_snat_rule.kind` OUTBOUND: masquerade everything that leaves by the WAN.
const RULE_OUTBOUND: u8 = 1;

fn router() -> Router {
    let mut r = Router::spawn(&crate::lwip_build::program("router"));
    r.ok("start");
    r.ok(&format!("rule {RULE_OUTBOUND} 0 {WAN}"));
    r
}

/// Puts fragments (same datagram, any order) back together: header of the first, payload by offset.
fn join(frags: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = Vec::new();
    let mut header = None;
    for f in frags {
        let (h, rest) = Ipv4Header::from_slice(f).unwrap();
        let offset = usize::from(h.fragment_offset.value()) * 8;
        let data = &rest[..usize::from(h.payload_len().unwrap())];
        if payload.len() < offset + data.len() {
            payload.resize(offset + data.len(), 0);
        }
        payload[offset..offset + data.len()].copy_from_slice(data);
        if offset == 0 {
            header = Some(h);
        }
    }
    let mut h = header.expect("a first fragment");
    h.more_fragments = false;
    h.set_payload_len(payload.len()).unwrap();
    h.header_checksum = h.calc_header_checksum();
    let mut whole = h.to_bytes().to_vec();
    whole.extend_from_slice(&payload);
    whole
}

#[test]
fn stray_fragment_flood_cannot_block_a_fragmented_reply_through_lwip() {
    let mut r = router();
    let out = r.inject("lan", &udp(HOST_A, 5000, SERVER, 4000, b"hello")).only("wan");
    let ext_port = sport(&out);
    // Pieces of datagrams that never complete, from one source and then from many spoofed ones:
    // non-first fragments (no ports to tell whose they are) and first fragments to the mapping.
    for i in 0..200u16 {
        let from = if i < 100 { [198, 51, 100, 66] } else { [198, 18, (i >> 8) as u8, i as u8] };
        let whole = with_ident(udp(from, 1000 + i, WAN_ADDR, ext_port, &[0x66; 3000]), 0x9000 + i);
        let stray =
            if i % 2 == 0 { raw_fragment(&whole, 1480, 2960, true) } else { raw_fragment(&whole, 0, 1480, true) };
        let sent = r.inject("wan", &stray);
        assert!(sent.out.is_empty(), "a stray fragment goes nowhere: {:?}", sent.out);
    }
    assert!(r.stat("reass_evicted") >= 190);
    assert_eq!(r.stat("drop_reassembly_full"), 0);
    // The genuine reply, 3000 bytes in three fragments, reaches HOST_A whole.
    let payload: Vec<u8> = (0..3000).map(|i| (i * 7) as u8).collect();
    let reply = with_ident(udp(SERVER, 4000, WAN_ADDR, ext_port, &payload), 7);
    let mut delivered = Vec::new();
    for frag in fragments_of(&reply, 1480) {
        let sent = r.inject("wan", &frag);
        sent.nothing_on("wan");
        delivered.extend(sent.on("lan"));
    }
    assert!(!delivered.is_empty(), "the reply must reach the LAN");
    let back = join(&delivered);
    assert_checksums(&back);
    assert_eq!((dst(&back), dport(&back), src(&back), sport(&back)), (HOST_A, 5000, SERVER, 4000));
    assert_eq!(&back[28..], &payload[..]);
}

#[test]
fn the_router_answers_a_fragmented_ping_larger_than_the_pool_through_lwip() {
    let mut r = router();
    let payload: Vec<u8> = (0..7000).map(|i| (i % 251) as u8).collect();
    let mut ping = Vec::new();
    PacketBuilder::ipv4(SERVER, WAN_ADDR, 64).icmpv4_echo_request(0x4242, 9).write(&mut ping, &payload).unwrap();
    let ping = with_ident(ping, 0x1234);
    assert!(ping.len() > REASS_BYTES, "larger than the NAT's pool");
    let mut answer = Vec::new();
    for frag in fragments_of(&ping, 1480) {
        let sent = r.inject("wan", &frag);
        sent.nothing_on("lan");
        answer.extend(sent.on("wan"));
    }
    assert!(answer.len() > 1, "the echo reply, fragmented by lwIP for the WAN: {answer:?}");
    let reply = join(&answer);
    assert_checksums(&reply);
    assert_eq!((src(&reply), dst(&reply)), (WAN_ADDR, SERVER));
    let icmp = &reply[20..];
    assert_eq!((icmp[0], &icmp[4..8]), (0, &[0x42, 0x42, 0, 9][..]), "an echo reply with the request's id and seq");
    assert_eq!(&icmp[8..], &payload[..]);
    assert_eq!(r.stat("reass_released"), 1);
    assert_eq!(r.stat("fragments_held"), 0);
}
