//! Fragments through `Nat::process`: reassembly in any order (RFC 4787 REQ-14), re-injection
//! of the whole datagram the way the lwIP shim does it, every hostile pattern with its counter,
//! pool exhaustion and timeout, and ICMP errors quoting a fragment. Fragments are cut and every
//! checksum is recomputed by test-kit, independently of the code under test.
//!
//! The tests of the pool itself need the `reassembly` feature; the others also run without it
//! and then assert what docs/footprint.md "Without reassembly" promises, as does the last
//! section, which runs only in such a build (`tests/adversarial/footprint.rs` has more).

mod common;

use common::*;
use etherparse::Ipv4Header;
#[cfg(feature = "reassembly")]
use lwip_snat::config::{REASS_BYTES, REASS_SLOTS};
#[cfg(feature = "reassembly")]
use lwip_snat::Config;
use lwip_snat::{Context, DropReason, Route, Verdict};
use test_kit::packet::{datagram, icmp_message, Ipv4Fields};

/// Payload bytes `offset..end` of the datagram `whole` as a sender's fragment: MF unless it
/// ends the datagram, non-first fragments without the header options.
fn fragment(whole: &[u8], offset: usize, end: usize) -> Vec<u8> {
    test_kit::packet::fragment(whole, offset, end, end < payload_len(whole))
}

fn payload_len(whole: &[u8]) -> usize {
    let header_len = usize::from(whole[0] & 0xF) * 4;
    usize::from(u16::from_be_bytes([whole[2], whole[3]])) - header_len
}

/// The fragments of `whole` between consecutive `cuts` (payload offsets, multiples of 8).
fn fragments(whole: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload_len(whole));
    bounds.windows(2).map(|w| fragment(whole, w[0], w[1])).collect()
}

/// `whole` as reassembly must hand it back: DF and offset cleared, header checksum redone.
fn as_reassembled(whole: &[u8]) -> Vec<u8> {
    let mut v = whole[..usize::from(u16::from_be_bytes([whole[2], whole[3]]))].to_vec();
    v[6] &= !0x40;
    refill_ip_checksum(&mut v);
    v
}

/// What the shim does: feeds each fragment in turn, and the datagram a `Reassembled` verdict
/// announces back in as a fresh packet. Returns the verdict of the re-injected datagram and the
/// bytes lwIP then carries on with.
fn deliver(nat: &mut TestNat, ctx: Context, frags: &[Vec<u8>], now: u32) -> (Verdict, Vec<u8>) {
    for (i, frag) in frags.iter().enumerate() {
        let mut copy = frag.clone();
        match nat.process(&mut copy, &ctx, now) {
            Verdict::Held => assert!(i + 1 < frags.len(), "the last fragment must complete the datagram"),
            Verdict::Reassembled(len) => {
                assert_eq!(i + 1, frags.len(), "completed before all fragments arrived");
                assert_eq!(copy, *frag, "the fragment's own buffer is not touched");
                let mut whole = nat.reassembled().to_vec();
                assert_eq!(whole.len(), len);
                assert_checksums(&whole);
                let verdict = nat.process(&mut whole, &ctx, now);
                return (verdict, whole);
            }
            other => panic!("fragment {i}: {other:?}"),
        }
    }
    panic!("no fragment completed the datagram");
}

/// `whole` arriving in the fragments between `cuts`, put together and judged as [`deliver`]
/// does. Built without reassembly, which drops fragments on a NAT path, it arrives whole
/// instead (DF clear, as reassembly hands it back): the ICMP errors the tests then make are
/// about the fragments lwIP cuts of it on the way out, which either build must translate.
fn arrive(nat: &mut TestNat, ctx: Context, whole: &[u8], cuts: &[usize], now: u32) -> (Verdict, Vec<u8>) {
    if cfg!(feature = "reassembly") {
        deliver(nat, ctx, &fragments(whole, cuts), now)
    } else {
        let mut p = as_reassembled(whole);
        let verdict = nat.process(&mut p, &ctx, now);
        (verdict, p)
    }
}

fn process(nat: &mut TestNat, ctx: Context, p: &[u8], now: u32) -> Verdict {
    nat.process(&mut p.to_vec(), &ctx, now)
}

/// LAN → WAN forwarded, WAN link MTU 1500.
fn out_ctx() -> Context {
    outbound()
}

/// A UDP datagram with `len` bytes of data; the IP identification is the source port, so
/// datagrams of different flows never share a reassembly key.
fn big_udp(src_addr: [u8; 4], sport: u16, dst_addr: [u8; 4], dport: u16, len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut p = udp(src_addr, sport, dst_addr, dport, &payload);
    p[4..6].copy_from_slice(&sport.to_be_bytes());
    refill_ip_checksum(&mut p);
    p
}

/// A translated unfragmented flow that must keep working whatever the pool's state.
#[cfg(feature = "reassembly")]
fn unrelated_flow_translates(nat: &mut TestNat, now: u32) {
    let mut p = tcp(HOST_B, 41000, SERVER2, 443, SYN);
    assert_eq!(nat.process(&mut p, &out_ctx(), now), Verdict::Translated);
    assert_checksums(&p);
    assert_eq!(src(&p), WAN_ADDR);
}

// ---------------------------------------------------------------- the normal way

#[cfg(feature = "reassembly")]
#[test]
fn rfc4787_req14_out_of_order_fragments_are_reassembled_then_translated_both_ways() {
    let mut nat = nat();
    let request = big_udp(HOST_A, 5000, SERVER, 4000, 3000);
    let mut frags = fragments(&request, &[1480, 2960]);
    frags.rotate_left(1); // 2nd, 3rd, then the first, which carries the ports
    let (verdict, out) = deliver(&mut nat, out_ctx(), &frags, 0);
    assert_eq!(verdict, Verdict::Translated);
    assert_checksums(&out);
    // Byte for byte the datagram HOST_A sent, but for source address, port, checksums and the
    // IP ID (a non-atomic datagram gets a fresh one).
    let mut expected = as_reassembled(&request);
    expected[4..6].copy_from_slice(&out[4..6]);
    expected[12..16].copy_from_slice(&WAN_ADDR);
    expected[20..22].copy_from_slice(&out[20..22]);
    expected[10..12].copy_from_slice(&out[10..12]);
    expected[26..28].copy_from_slice(&out[26..28]);
    assert_eq!(out, expected);
    assert_eq!((dst(&out), dport(&out)), (SERVER, 4000));

    // The reply comes back in fragments to the router's address, last one first.
    let reply = big_udp(SERVER, 4000, WAN_ADDR, sport(&out), 2000);
    let mut frags = fragments(&reply, &[984]);
    frags.reverse();
    let (verdict, back) = deliver(&mut nat, inbound(), &frags, 1);
    assert_eq!(verdict, Verdict::Translated);
    assert_checksums(&back);
    assert_eq!((dst(&back), dport(&back), src(&back), sport(&back)), (HOST_A, 5000, SERVER, 4000));

    let stats = nat.stats();
    assert_eq!((stats.fragments_held, stats.reassembled, stats.reass_expired), (5, 2, 0));
    assert_eq!((stats.translated_out, stats.translated_in, stats.total_dropped()), (1, 1, 0));
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(feature = "reassembly")]
#[test]
fn tcp_first_fragment_with_options_in_the_ip_header_reassembles() {
    let mut nat = nat();
    let plain = tcp_data(HOST_A, 40000, SERVER, 80, SYN, &[0x5A; 600]);
    // The same segment with an 8-byte IP option block (NOP padding then EOL).
    let syn = datagram(HOST_A, SERVER, 6, Ipv4Fields::DF, &[1, 1, 1, 1, 1, 1, 1, 0], &plain[20..]);
    let frags = fragments(&syn, &[304]);
    assert_eq!(frags[0].len(), 28 + 304);
    let (verdict, out) = deliver(&mut nat, out_ctx(), &frags, 0);
    assert_eq!(verdict, Verdict::Translated);
    assert_checksums(&out);
    assert_eq!(out[0] & 0x0F, 7, "the first fragment's header, options included");
    assert_eq!((src(&out), dport(&out)), (WAN_ADDR, 80));
}

#[test]
fn router_own_fragmented_datagrams_are_left_to_lwip_with_what_the_pool_held() {
    let mut nat = nat();
    // A big ping to the router and a UDP datagram to one of its services: no mapping.
    let ping = datagram(SERVER, WAN_ADDR, 1, Ipv4Fields::DF, &[], &icmp_message(8, 0, [0, 7, 0, 1], &[0xEE; 3000]));
    // First fragment first: it shows the datagram is the router's, all go to lwIP's reassembly.
    for frag in fragments(&ping, &[1480, 2960]) {
        assert_eq!(process(&mut nat, inbound(), &frag, 0), Verdict::Pass);
    }
    let dns = big_udp(SERVER, 53, WAN_ADDR, 0xC123, 1800);
    let frags = fragments(&dns, &[1480]);
    if cfg!(feature = "reassembly") {
        // First fragment last: it shows the datagram is the router's, and what the pool held
        // of it is handed back for lwIP's reassembly.
        assert_eq!(process(&mut nat, inbound(), &frags[1], 0), Verdict::Held);
        assert_eq!(process(&mut nat, inbound(), &frags[0], 0), Verdict::Release);
        let mut buf = [0u8; 1500];
        let len = nat.next_released(&mut buf);
        assert_eq!(&buf[..len], &frags[1][..], "the held fragment, byte for byte");
        assert_eq!(nat.next_released(&mut buf), 0);
    } else {
        // Without a pool nothing is held: a later fragment goes to lwIP straight away, and so
        // does the first, which names no mapping's port.
        assert_eq!(process(&mut nat, inbound(), &frags[1], 0), Verdict::Pass);
        assert_eq!(process(&mut nat, inbound(), &frags[0], 0), Verdict::Pass);
    }
    // Protocols no session translates are lwIP's to reassemble.
    let mut esp = fragment(&big_udp(SERVER, 1, WAN_ADDR, 2, 100), 0, 48);
    esp[9] = 50;
    refill_ip_checksum(&mut esp);
    assert_eq!(process(&mut nat, inbound(), &esp, 0), Verdict::Pass);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
    assert_eq!(nat.stats().total_dropped(), 0);
}

#[test]
fn untranslatable_protocol_fragments_are_dropped_on_a_nat_path_without_using_the_pool() {
    let mut nat = nat();
    let mut gre = fragment(&big_udp(HOST_A, 1, SERVER, 2, 100), 0, 48);
    gre[9] = 47;
    refill_ip_checksum(&mut gre);
    assert_eq!(process(&mut nat, out_ctx(), &gre, 0), Verdict::Drop(DropReason::UnsupportedProtocol));
    assert_eq!(nat.fragments_in_flight(), (0, 0));
    assert_eq!(nat.stats().fragments_held, 0);
}

#[test]
fn fragments_against_a_rule_are_reassembled_then_refused() {
    let mut nat = nat();
    let reverse =
        Context { in_netif: WAN, route: Route::Forward { out_netif: LAN, out_addr: addr(HOST_A), out_mtu: 1500 } };
    let sneak = big_udp(SERVER, 53, HOST_A, 5000, 2000);
    if cfg!(feature = "reassembly") {
        let (verdict, _) = deliver(&mut nat, reverse, &fragments(&sneak, &[1480]), 0);
        assert_eq!(verdict, Verdict::Drop(DropReason::ReverseDirection));
    } else {
        // Without reassembly each fragment is dropped as it comes: none reaches the LAN.
        for frag in fragments(&sneak, &[1480]) {
            assert_eq!(process(&mut nat, reverse, &frag, 0), Verdict::Drop(DropReason::Fragment));
        }
        assert_eq!(nat.stats().dropped(DropReason::Fragment), 2);
    }
}

#[test]
fn ttl_expiring_fragments_pass_untranslated_to_lwip() {
    let mut nat = nat();
    let mut frag = fragment(&big_udp(HOST_A, 5000, SERVER, 53, 2000), 0, 1480);
    set_ttl(&mut frag, 1);
    assert_eq!(process(&mut nat, out_ctx(), &frag, 0), Verdict::Pass, "lwIP tells the inside host");
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

// ---------------------------------------------------------------- hostile patterns

/// Asserts `reason` was counted exactly once and nothing else was dropped.
fn counted_once(nat: &TestNat, reason: DropReason) {
    assert_eq!(nat.stats().dropped(reason), 1, "{}", reason.name());
    assert_eq!(nat.stats().total_dropped(), 1);
}

#[cfg(feature = "reassembly")]
#[test]
fn overlapping_fragment_with_other_bytes_drops_the_whole_datagram() {
    let mut nat = nat();
    let whole = big_udp(HOST_A, 5000, SERVER, 53, 200);
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&whole, 0, 96), 0), Verdict::Held);
    let mut forged = fragment(&whole, 88, 200);
    forged[21] ^= 0xFF; // payload byte 89, held already with another value
    refill_ip_checksum(&mut forged);
    assert_eq!(process(&mut nat, out_ctx(), &forged, 0), Verdict::Drop(DropReason::FragmentOverlap));
    counted_once(&nat, DropReason::FragmentOverlap);
    assert_eq!(nat.fragments_in_flight(), (0, 0), "the whole datagram is gone");
    // The genuine rest alone can no longer complete it.
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&whole, 96, 200), 0), Verdict::Held);
}

#[test]
fn tcp_first_fragment_too_short_for_the_header_is_dropped() {
    let mut nat = nat();
    let syn = tcp_data(HOST_A, 40000, SERVER, 80, SYN, &[1; 100]);
    if cfg!(feature = "reassembly") {
        assert_eq!(process(&mut nat, out_ctx(), &fragment(&syn, 16, 120), 0), Verdict::Held);
        // RFC 1858 tiny fragment: 16 bytes cannot hold a 20-byte TCP header.
        let tiny = process(&mut nat, out_ctx(), &fragment(&syn, 0, 16), 0);
        assert_eq!(tiny, Verdict::Drop(DropReason::FragmentTooShort));
        counted_once(&nat, DropReason::FragmentTooShort);
    } else {
        // Without reassembly the tiny fragment goes the way of every fragment on a NAT path.
        for frag in [fragment(&syn, 16, 120), fragment(&syn, 0, 16)] {
            assert_eq!(process(&mut nat, out_ctx(), &frag, 0), Verdict::Drop(DropReason::Fragment));
        }
        assert_eq!((nat.stats().dropped(DropReason::Fragment), nat.stats().total_dropped()), (2, 2));
    }
    assert_eq!(nat.fragments_in_flight(), (0, 0));
    assert_eq!(nat.stats().translated_out, 0);
}

#[test]
fn fragments_adding_up_to_more_than_65535_bytes_are_dropped() {
    let mut nat = nat();
    // Offset 65528 (the largest) carrying 16 bytes: 20 + 65544 > 65535 ("ping of death").
    let mut frag = fragment(&big_udp(HOST_A, 5000, SERVER, 53, 200), 0, 16);
    frag[6..8].copy_from_slice(&8191u16.to_be_bytes());
    refill_ip_checksum(&mut frag);
    // Without reassembly it is dropped as a fragment before its size matters.
    let reason = if cfg!(feature = "reassembly") { DropReason::FragmentTooBig } else { DropReason::Fragment };
    assert_eq!(process(&mut nat, out_ctx(), &frag, 0), Verdict::Drop(reason));
    counted_once(&nat, reason);
}

#[cfg(feature = "reassembly")]
#[test]
fn fragment_beyond_the_pool_limit_drops_its_datagram() {
    let mut nat = nat();
    let whole = big_udp(HOST_A, 5000, SERVER, 53, 200);
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&whole, 0, 96), 0), Verdict::Held);
    // The pool holds a payload of at most REASS_BYTES - 64; reach 8 bytes past that.
    let offset = REASS_BYTES - 64;
    let mut frag = fragment(&whole, 96, 104);
    frag[6..8].copy_from_slice(&((offset / 8) as u16).to_be_bytes());
    refill_ip_checksum(&mut frag);
    let expected = if 20 + offset + 8 > 65535 { DropReason::FragmentTooBig } else { DropReason::FragmentBeyondLimit };
    assert_eq!(process(&mut nat, out_ctx(), &frag, 0), Verdict::Drop(expected));
    counted_once(&nat, expected);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(feature = "reassembly")]
#[test]
fn duplicate_fragment_is_dropped_and_counted_and_the_datagram_still_completes() {
    let mut nat = nat();
    let whole = big_udp(HOST_A, 5000, SERVER, 53, 2000);
    let frags = fragments(&whole, &[1480]);
    assert_eq!(process(&mut nat, out_ctx(), &frags[0], 0), Verdict::Held);
    assert_eq!(process(&mut nat, out_ctx(), &frags[0], 0), Verdict::Drop(DropReason::FragmentDuplicate));
    counted_once(&nat, DropReason::FragmentDuplicate);
    let (verdict, out) = deliver(&mut nat, out_ctx(), &frags[1..], 0);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!(src(&out), WAN_ADDR);
}

#[cfg(feature = "reassembly")]
#[test]
fn too_many_datagrams_in_flight_the_oldest_give_way_and_a_flooding_source_recycles_its_share() {
    let mut nat = nat();
    let datagrams: Vec<Vec<u8>> = (0..REASS_SLOTS)
        .map(|i| big_udp([192, 168, 1, 20 + i as u8], 6000 + i as u16, SERVER, 53, 1000 + 8 * i))
        .collect();
    for (i, d) in datagrams.iter().enumerate() {
        assert_eq!(process(&mut nat, out_ctx(), &fragment(d, 0, 512), i as u32), Verdict::Held);
    }
    // A flood of first fragments of new datagrams from one host: the two oldest datagrams give
    // way, then the flooder, holding half the slots, only replaces its own.
    for ident in 0..200u16 {
        let mut flood = fragment(&big_udp(HOST_B, 7000, SERVER, 53, 1000), 0, 512);
        flood[4..6].copy_from_slice(&ident.wrapping_add(0x8000).to_be_bytes());
        refill_ip_checksum(&mut flood);
        assert_eq!(process(&mut nat, out_ctx(), &flood, 10), Verdict::Held);
        unrelated_flow_translates(&mut nat, 10);
    }
    assert_eq!(nat.stats().dropped(DropReason::ReassemblyFull), 0);
    assert_eq!(nat.stats().reass_evicted, 200);
    assert_eq!(nat.fragments_in_flight().0, REASS_SLOTS);
    // The datagrams that did not give way are unaffected.
    for d in &datagrams[REASS_SLOTS / 2..] {
        let len = usize::from(Ipv4Header::from_slice(d).unwrap().0.payload_len().unwrap());
        let (verdict, out) = deliver(&mut nat, out_ctx(), &[fragment(d, 512, len)], 20);
        assert_eq!(verdict, Verdict::Translated);
        assert_eq!(&out[28..], &d[28..]);
    }
    assert_eq!(nat.stats().reassembled as usize, REASS_SLOTS - REASS_SLOTS / 2);
}

#[cfg(feature = "reassembly")]
#[test]
fn pool_bytes_exhausted_the_oldest_datagram_gives_way() {
    let mut nat = nat();
    // The largest datagram the pool holds takes all but two of its blocks so far.
    let max_payload = REASS_BYTES - 64;
    let payload = max_payload - 128;
    let hog = big_udp(HOST_A, 5000, SERVER, 53, max_payload - 8);
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&hog, 0, payload), 0), Verdict::Held);
    assert_eq!(nat.fragments_in_flight(), (1, REASS_BYTES - 2 * 64));
    // A second datagram fits its first fragment into the last two blocks, then needs more:
    // the older datagram gives way, as in lwIP's ip_reass.
    let other = big_udp(HOST_B, 5001, SERVER, 53, 300);
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&other, 0, 64), 1), Verdict::Held);
    unrelated_flow_translates(&mut nat, 1);
    let (verdict, out) = deliver(&mut nat, out_ctx(), &[fragment(&other, 64, 308)], 1);
    assert_eq!(verdict, Verdict::Translated);
    assert_checksums(&out);
    assert_eq!((nat.stats().reass_evicted, nat.stats().total_dropped()), (1, 0));
    // The evicted datagram's last piece starts over and waits alone.
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&hog, payload, max_payload), 2), Verdict::Held);
    assert_eq!(nat.fragments_in_flight().0, 1);
}

/// The pool's eviction count is taken after every fragment, so a flush (which clears the pool,
/// count and all) neither loses an eviction counted nor counts one again.
#[cfg(feature = "reassembly")]
#[test]
fn a_flush_keeps_the_evictions_counted() {
    let mut nat = nat();
    for i in 0..=REASS_SLOTS {
        let d = big_udp(HOST_A, 6000 + i as u16, SERVER, 53, 1000);
        assert_eq!(process(&mut nat, out_ctx(), &fragment(&d, 0, 512), i as u32), Verdict::Held);
    }
    assert_eq!(nat.stats().reass_evicted, 1);
    nat.flush();
    assert_eq!((nat.stats().reass_evicted, nat.fragments_in_flight()), (1, (0, 0)));
    for i in 0..=REASS_SLOTS {
        let d = big_udp(HOST_B, 7000 + i as u16, SERVER, 53, 1000);
        assert_eq!(process(&mut nat, out_ctx(), &fragment(&d, 0, 512), 10 + i as u32), Verdict::Held);
    }
    assert_eq!(nat.stats().reass_evicted, 2);
}

#[cfg(feature = "reassembly")]
#[test]
fn fragments_time_out_through_tick_across_the_clock_wrap() {
    let mut nat = nat();
    let whole = big_udp(HOST_A, 5000, SERVER, 53, 2000);
    let frags = fragments(&whole, &[1480]);
    let start = u32::MAX - 4_000;
    assert_eq!(process(&mut nat, out_ctx(), &frags[0], start), Verdict::Held);
    nat.tick(start.wrapping_add(15_000));
    assert_eq!(nat.fragments_in_flight().0, 1, "lwIP's IP_REASS_MAXAGE is 15 s");
    nat.tick(start.wrapping_add(15_001)); // the clock wrapped past zero in between
    assert_eq!(nat.fragments_in_flight(), (0, 0));
    assert_eq!(nat.stats().reass_expired, 1);
    // The rest of the datagram arrives too late: it starts over and never completes.
    assert_eq!(process(&mut nat, out_ctx(), &frags[1], start.wrapping_add(15_002)), Verdict::Held);
    assert_eq!(nat.stats().reassembled, 0);
}

#[cfg(feature = "reassembly")]
#[test]
fn configured_timeout_applies_and_stale_slots_are_reclaimed_without_a_tick() {
    let mut nat = nat_with(Config { reass_timeout_ms: 2_000, ..Config::DEFAULT });
    for i in 0..REASS_SLOTS {
        let d = big_udp(HOST_A, 6000 + i as u16, SERVER, 53, 1000);
        assert_eq!(process(&mut nat, out_ctx(), &fragment(&d, 0, 512), 0), Verdict::Held);
    }
    // A new datagram when every slot is busy: the oldest gives way.
    let late = big_udp(HOST_B, 7000, SERVER, 53, 1000);
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&late, 0, 512), 2_000), Verdict::Held);
    assert_eq!(nat.stats().reass_evicted, 1);
    // No tick came, yet at 2001 ms the stale datagrams are gone.
    let (verdict, _) = deliver(&mut nat, out_ctx(), &fragments(&late, &[512])[1..], 2_001);
    assert_eq!(verdict, Verdict::Translated);
    assert_eq!(nat.stats().reass_expired as usize, REASS_SLOTS - 1);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(feature = "reassembly")]
#[test]
fn flush_discards_fragments() {
    let mut nat = nat();
    let whole = big_udp(HOST_A, 5000, SERVER, 53, 2000);
    assert_eq!(process(&mut nat, out_ctx(), &fragment(&whole, 0, 1480), 0), Verdict::Held);
    nat.flush();
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

// ---------------------------------------------------------------- ICMP errors quoting a fragment

/// ICMP error `type/code` from `from` to `to` quoting the IP header and first 8 payload bytes
/// of `quoted` (RFC 792).
fn error_quoting(from: [u8; 4], to: [u8; 4], icmp_type: u8, code: u8, quoted: &[u8]) -> Vec<u8> {
    let header_len = usize::from(quoted[0] & 0x0F) * 4;
    icmp_error(from, to, icmp_type, code, quoted, header_len + 8)
}

#[test]
fn rfc5508_icmp_error_quoting_a_first_fragment_is_translated_both_ways() {
    let mut nat = nat();
    let request = big_udp(HOST_A, 5000, SERVER, 4000, 3000);
    let (verdict, out) = arrive(&mut nat, out_ctx(), &request, &[1480, 2960], 0);
    assert_eq!(verdict, Verdict::Translated);
    let ext_port = sport(&out);

    // lwIP sends `out` on in fragments; a router beyond answers about the first one.
    let first_out = fragment(&out, 0, 1480);
    let error = error_quoting([198, 51, 100, 1], WAN_ADDR, 11, 0, &first_out);
    let mut p = error.clone();
    assert_eq!(nat.process(&mut p, &inbound(), 1), Verdict::Translated);
    assert_checksums(&p); // outer IP, ICMP, quoted IP header
    assert_eq!(dst(&p), HOST_A);
    let inner = quoted(&p);
    let (inner_ip, inner_l4) = Ipv4Header::from_slice(inner).unwrap();
    assert!(inner_ip.more_fragments && inner_ip.fragment_offset.value() == 0, "still a first fragment");
    assert_eq!((src(inner), sport(inner)), (HOST_A, 5000));
    // The quoted UDP header is the one HOST_A sent, checksum (of the whole datagram) included.
    let original_first = fragment(&request, 0, 1480);
    assert_eq!(&inner_l4[..8], &original_first[20..28]);

    // The other way: an inside host answers a fragmented inbound datagram with an error
    // quoting the first fragment it received.
    let reply = big_udp(SERVER, 4000, WAN_ADDR, ext_port, 2000);
    let (verdict, back) = arrive(&mut nat, inbound(), &reply, &[1480], 2);
    assert_eq!(verdict, Verdict::Translated);
    let first_in = fragment(&back, 0, 1480);
    let error = error_quoting(HOST_A, SERVER, 3, 3, &first_in);
    let mut p = error.clone();
    assert_eq!(nat.process(&mut p, &out_ctx(), 3), Verdict::Translated);
    assert_checksums(&p);
    assert_eq!(src(&p), WAN_ADDR);
    let inner = quoted(&p);
    assert_eq!((dst(inner), dport(inner)), (WAN_ADDR, ext_port));
    assert_eq!(&inner[20..28], &fragment(&reply, 0, 1480)[20..28], "the UDP header SERVER sent");
    assert_eq!(nat.stats().icmp_errors_translated, 2);
}

#[test]
fn icmp_error_quoting_a_non_first_fragment_is_never_translated() {
    let mut nat = nat();
    let request = big_udp(HOST_A, 5000, SERVER, 4000, 3000);
    let (verdict, out) = arrive(&mut nat, out_ctx(), &request, &[1480, 2960], 0);
    assert_eq!(verdict, Verdict::Translated);
    // Payload bytes of a middle fragment are not ports: no mapping is looked up on their say-so.
    let error = error_quoting([198, 51, 100, 1], WAN_ADDR, 11, 0, &fragment(&out, 1480, 2960));
    assert_eq!(process(&mut nat, inbound(), &error, 1), Verdict::Pass, "left to lwIP, untranslated");
    let reply = big_udp(SERVER, 4000, WAN_ADDR, sport(&out), 2000);
    let (verdict, back) = arrive(&mut nat, inbound(), &reply, &[1480], 2);
    assert_eq!(verdict, Verdict::Translated);
    let error = error_quoting(HOST_A, SERVER, 3, 3, &fragment(&back, 1480, 2008));
    assert_eq!(process(&mut nat, out_ctx(), &error, 3), Verdict::Drop(DropReason::IcmpMalformed));
    assert_eq!(nat.stats().icmp_errors_translated, 0);
}

// ---------------------------------------------------------------- built without reassembly

/// Built without reassembly, fragments of TCP, UDP and ICMP datagrams out of the LAN are dropped
/// whatever their order, and a reply cut into fragments reaches no inside host: its first
/// fragment names the mapping, its later ones go to lwIP, which reassembles for the router only.
#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_out_of_order_fragments_are_dropped_both_ways() {
    let mut nat = nat();
    let udp_request = big_udp(HOST_A, 5000, SERVER, 4000, 3000);
    let syn = tcp_data(HOST_A, 40000, SERVER, 80, SYN, &[0x5A; 600]);
    let ping = datagram(HOST_A, SERVER, 1, Ipv4Fields::DF, &[], &icmp_message(8, 0, [0, 7, 0, 1], &[0xEE; 2000]));
    let mut sent = 0;
    for whole in [&udp_request, &syn, &ping] {
        let mut frags = fragments(whole, &[304]);
        frags.reverse(); // the first fragment, with the ports, last
        for frag in &frags {
            let mut p = frag.clone();
            assert_eq!(nat.process(&mut p, &out_ctx(), 0), Verdict::Drop(DropReason::Fragment));
            assert_eq!(&p, frag, "left as it came");
            sent += 1;
        }
    }
    assert_eq!(nat.stats().dropped(DropReason::Fragment), sent);
    assert_eq!(nat.stats().created, [0; 3], "no session for a datagram never seen whole");

    // The same request whole opens a mapping; its reply comes back in fragments, last first.
    let (verdict, out) = arrive(&mut nat, out_ctx(), &udp_request, &[], 1);
    assert_eq!(verdict, Verdict::Translated);
    let reply = big_udp(SERVER, 4000, WAN_ADDR, sport(&out), 2000);
    let frags = fragments(&reply, &[984]);
    assert_eq!(process(&mut nat, inbound(), &frags[1], 2), Verdict::Pass, "no ports: lwIP's, for the router only");
    assert_eq!(process(&mut nat, inbound(), &frags[0], 2), Verdict::Drop(DropReason::Fragment));
    let stats = nat.stats();
    assert_eq!((stats.translated_in, stats.fragments_held, stats.reassembled), (0, 0, 0));
    assert_eq!(stats.dropped(DropReason::Fragment), sent + 1);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

/// Built without reassembly, a fragmented echo reply whose identifier an echo mapping holds
/// never reaches the inside host (a big ping to the router itself is lwIP's in every build:
/// `router_own_fragmented_datagrams_are_left_to_lwip_with_what_the_pool_held`).
#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_a_fragmented_echo_reply_reaches_no_inside_host() {
    let mut nat = nat();
    let request = datagram(HOST_A, SERVER, 1, Ipv4Fields::DF, &[], &icmp_message(8, 0, [0x12, 0x34, 0, 1], &[1; 8]));
    let (verdict, out) = arrive(&mut nat, out_ctx(), &request, &[], 1);
    assert_eq!(verdict, Verdict::Translated);
    let ident = [out[24], out[25]];
    let reply =
        datagram(SERVER, WAN_ADDR, 1, Ipv4Fields::DF, &[], &icmp_message(0, 0, [ident[0], ident[1], 0, 1], &[1; 3000]));
    let frags = fragments(&reply, &[1480]);
    assert_eq!(process(&mut nat, inbound(), &frags[0], 2), Verdict::Drop(DropReason::Fragment));
    assert_eq!(process(&mut nat, inbound(), &frags[1], 2), Verdict::Pass);
    assert_eq!((nat.stats().translated_in, nat.stats().total_dropped()), (0, 1));
}

/// Built without reassembly (with portmap), a fragmented datagram to a forwarded port never
/// reaches the inside server: its first fragment is dropped, not left to the router's stack.
#[cfg(all(not(feature = "reassembly"), feature = "portmap"))]
#[test]
fn without_reassembly_fragments_to_a_forwarded_port_are_dropped() {
    use lwip_snat::{Portmap, Protocol};
    let mut nat = nat();
    let dns = Portmap { protocol: Protocol::Udp, netif: WAN, ext_port: 5353, inside: addr(HOST_B), in_port: 53 };
    nat.add_portmap(dns).unwrap();
    let query = big_udp(SERVER, 4000, WAN_ADDR, 5353, 2000);
    let frags = fragments(&query, &[1480]);
    assert_eq!(process(&mut nat, inbound(), &frags[0], 0), Verdict::Drop(DropReason::Fragment));
    assert_eq!(process(&mut nat, inbound(), &frags[1], 0), Verdict::Pass);
    assert_eq!(nat.sessions_in_use(Protocol::Udp), 0);
}

/// Built without reassembly, on a path no rule concerns (which translates only live sessions)
/// a fragment from a host that holds sessions may belong to one: dropped. A host that holds
/// none is forwarded as it is, fragments and all.
#[cfg(not(feature = "reassembly"))]
#[test]
fn without_reassembly_fragments_on_a_path_no_rule_concerns_are_dropped_only_from_hosts_with_sessions() {
    use lwip_snat::{Config, Rule};
    // Only LAN → WAN is translated; LAN → DMZ is a path no rule concerns.
    let mut nat = Box::new(TestNat::new());
    nat.reset(Config::DEFAULT, [1, 2]).unwrap();
    nat.add_rule(Rule::Pair(LAN, WAN)).unwrap();
    let to_dmz = Context { in_netif: LAN, route: Route::Forward { out_netif: DMZ, out_addr: 0, out_mtu: 1500 } };
    let mut p = udp(HOST_A, 5000, SERVER, 53, b"q");
    assert_eq!(nat.process(&mut p, &out_ctx(), 0), Verdict::Translated);
    let dmz_host = [172, 16, 0, 2];
    let from_a = fragments(&big_udp(HOST_A, 5000, dmz_host, 4000, 2000), &[1480]);
    for frag in &from_a {
        assert_eq!(process(&mut nat, to_dmz, frag, 1), Verdict::Drop(DropReason::Fragment));
    }
    for frag in fragments(&big_udp(HOST_B, 5000, dmz_host, 4000, 2000), &[1480]) {
        assert_eq!(process(&mut nat, to_dmz, &frag, 1), Verdict::Pass, "HOST_B holds no session");
    }
    assert_eq!(nat.stats().dropped(DropReason::Fragment), 2);
}
