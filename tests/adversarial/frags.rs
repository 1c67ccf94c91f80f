//! Fragments turned against the router: a flood of datagrams that never complete must not
//! block reassembly for everyone, the NAT must not change what the router itself can receive,
//! and fragments arriving on different netifs must never be combined into one datagram.

use crate::common::*;
#[cfg(feature = "reassembly")]
use lwip_snat::{
    config::{REASS_BYTES, REASS_SLOTS},
    DropReason, Portmap, Protocol, Route,
};
use lwip_snat::{Context, Verdict};

#[cfg(feature = "reassembly")]
const ATTACKER: [u8; 4] = [198, 51, 100, 66];

/// What a fragment from a LAN host to the router's external address gets: held (a hairpin
/// candidate, reassembled); built without hairpinning, it is the router's own, lwIP's.
#[cfg(feature = "reassembly")]
const FROM_LAN: Verdict = if cfg!(feature = "hairpin") { Verdict::Held } else { Verdict::Pass };

/// A UDP datagram with `len` payload bytes, IP identification `ident`.
fn udp_of(src_addr: [u8; 4], sport: u16, dst_addr: [u8; 4], dport: u16, len: usize, ident: u16) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    with_ident(udp(src_addr, sport, dst_addr, dport, &payload), ident)
}

/// An ICMP echo request carrying `len` payload bytes.
#[cfg(feature = "reassembly")]
fn big_ping(src_addr: [u8; 4], dst_addr: [u8; 4], len: usize, ident: u16) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    with_ident(echo_with(src_addr, dst_addr, 8, 0x4242, 1, &payload), ident)
}

/// Feeds fragments like the shim: the datagram a `Reassembled` verdict announces goes back in.
/// Returns each fragment's verdict and, if one completed the datagram, the re-injected
/// datagram's verdict and bytes.
fn feed(nat: &mut TestNat, ctx: Context, frags: &[Vec<u8>], now: u32) -> (Vec<Verdict>, Option<(Verdict, Vec<u8>)>) {
    let mut verdicts = Vec::new();
    for frag in frags {
        let verdict = nat.process(&mut frag.clone(), &ctx, now);
        verdicts.push(verdict);
        if let Verdict::Reassembled(len) = verdict {
            let mut whole = nat.reassembled().to_vec();
            assert_eq!(whole.len(), len);
            let again = nat.process(&mut whole, &ctx, now);
            return (verdicts, Some((again, whole)));
        }
    }
    (verdicts, None)
}

/// HOST_A:5000 → SERVER:4000 opens a UDP mapping; returns its external port.
fn open_mapping(nat: &mut TestNat) -> u16 {
    let mut p = udp(HOST_A, 5000, SERVER, 4000, b"hello");
    assert_eq!(nat.process(&mut p, &outbound(), 0), Verdict::Translated);
    sport(&p)
}

/// The reply to `open_mapping`'s flow, 3000 bytes, in two fragments, delivered and checked.
#[cfg(feature = "reassembly")]
fn fragmented_reply_reaches_host_a(nat: &mut TestNat, ext_port: u16, ident: u16, now: u32) {
    let reply = udp_of(SERVER, 4000, WAN_ADDR, ext_port, 3000, ident);
    let (verdicts, whole) = feed(nat, inbound(), &fragments_of(&reply, 1480), now);
    assert_eq!(verdicts.first(), Some(&Verdict::Held), "{verdicts:?}");
    let (verdict, back) = whole.unwrap_or_else(|| panic!("the reply never completed: {verdicts:?}"));
    assert_eq!(verdict, Verdict::Translated);
    assert_checksums(&back);
    assert_eq!((dst(&back), dport(&back), src(&back), sport(&back)), (HOST_A, 5000, SERVER, 4000));
    assert_eq!(&back[28..], &reply[28..], "the payload arrives intact");
}

/// Stray pieces of datagrams that never complete, to `dst:port` from `from(i)`: non-first
/// fragments (no ports: the NAT cannot tell whose they are) and first fragments to the port.
#[cfg(feature = "reassembly")]
fn strays(nat: &mut TestNat, ctx: Context, from: impl Fn(u16) -> [u8; 4], dst: [u8; 4], port: u16, now: u32) {
    for i in 0..64u16 {
        let whole = udp_of(from(i), 1000 + i, dst, port, 3000, 0x9000 + i);
        let stray =
            if i % 2 == 0 { raw_fragment(&whole, 1480, 2960, true) } else { raw_fragment(&whole, 0, 1480, true) };
        let verdict = nat.process(&mut stray.clone(), &ctx, now);
        assert_eq!(verdict, Verdict::Held, "stray {i} is held like any fragment that may be legitimate");
    }
}

#[cfg(feature = "reassembly")]
#[test]
fn stray_fragments_from_one_source_cannot_block_a_fragmented_reply() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    strays(&mut nat, inbound(), |_| ATTACKER, WAN_ADDR, ext_port, 1);
    fragmented_reply_reaches_host_a(&mut nat, ext_port, 7, 2);
    assert!(nat.fragments_in_flight().0 <= REASS_SLOTS);
    assert!(nat.stats().reass_evicted >= 60, "{:?}", nat.stats());
    assert_eq!(nat.stats().dropped(DropReason::ReassemblyFull), 0);
}

#[cfg(feature = "reassembly")]
#[test]
fn stray_fragments_from_many_spoofed_sources_cannot_block_a_fragmented_reply() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    strays(&mut nat, inbound(), |i| [198, 51, (i >> 8) as u8, i as u8], WAN_ADDR, ext_port, 1);
    fragmented_reply_reaches_host_a(&mut nat, ext_port, 7, 2);
    assert!(nat.stats().reass_evicted >= 60, "{:?}", nat.stats());
}

#[cfg(feature = "reassembly")]
#[test]
fn stray_fragments_from_spoofed_lan_hosts_cannot_block_another_hosts_fragmented_datagram() {
    let mut nat = nat();
    strays(&mut nat, outbound(), |i| [192, 168, 1, 100 + (i % 100) as u8], SERVER, 53, 1);
    let request = udp_of(HOST_A, 5000, SERVER, 53, 3000, 9);
    let (_, whole) = feed(&mut nat, outbound(), &fragments_of(&request, 1480), 2);
    let (verdict, out) = whole.expect("the datagram completes");
    assert_eq!(verdict, Verdict::Translated);
    assert_checksums(&out);
    assert_eq!((src(&out), dst(&out), dport(&out)), (WAN_ADDR, SERVER, 53));
}

#[cfg(feature = "reassembly")]
#[test]
fn a_flood_from_one_source_evicts_its_own_datagrams_not_one_in_progress() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    let reply = udp_of(SERVER, 4000, WAN_ADDR, ext_port, 3000, 7);
    let frags = fragments_of(&reply, 1480);
    assert_eq!(nat.process(&mut frags[0].clone(), &inbound(), 1), Verdict::Held);
    // While the reply is half there, one source keeps sending datagrams that never complete.
    strays(&mut nat, inbound(), |_| ATTACKER, WAN_ADDR, ext_port, 2);
    let (_, whole) = feed(&mut nat, inbound(), &frags[1..], 3);
    let (verdict, back) = whole.expect("the reply completes");
    assert_eq!((verdict, dst(&back), dport(&back)), (Verdict::Translated, HOST_A, 5000));
}

#[cfg(feature = "reassembly")]
#[test]
fn the_oldest_datagram_makes_room_for_a_new_one_and_is_counted() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    for i in 0..REASS_SLOTS as u16 {
        let whole = udp_of([198, 51, 100, i as u8], 1000, WAN_ADDR, ext_port, 3000, i);
        // A small piece each: the pool has blocks enough, only the slots run out.
        assert_eq!(nat.process(&mut raw_fragment(&whole, 1480, 1528, true), &inbound(), u32::from(i)), Verdict::Held);
    }
    assert_eq!(nat.fragments_in_flight().0, REASS_SLOTS);
    fragmented_reply_reaches_host_a(&mut nat, ext_port, 7, 100);
    assert_eq!(nat.stats().reass_evicted, 1, "only the oldest gave way");
    assert_eq!(nat.stats().dropped(DropReason::ReassemblyFull), 0);
    assert_eq!(nat.fragments_in_flight().0, REASS_SLOTS - 1);
    // The other three are intact: their missing pieces complete them.
    for i in 1..REASS_SLOTS as u16 {
        let whole = udp_of([198, 51, 100, i as u8], 1000, WAN_ADDR, ext_port, 3000, i);
        let rest = [raw_fragment(&whole, 0, 1480, true), raw_fragment(&whole, 1528, 3008, false)];
        let (_, done) = feed(&mut nat, inbound(), &rest, 200);
        assert!(done.is_some(), "datagram {i} completes");
    }
}

#[cfg(feature = "reassembly")]
#[test]
fn a_fragmented_ping_to_the_router_larger_than_the_pool_is_left_to_lwip() {
    let mut nat = nat();
    let ping = big_ping(SERVER, WAN_ADDR, 7000, 0x1234);
    assert!(ping.len() > REASS_BYTES);
    let (verdicts, whole) = feed(&mut nat, inbound(), &fragments_of(&ping, 1480), 1);
    assert!(whole.is_none());
    assert!(verdicts.iter().all(|v| *v == Verdict::Pass), "every fragment goes to lwIP's reassembly: {verdicts:?}");
    assert_eq!(verdicts.len(), 5);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
    assert_eq!((nat.stats().total_dropped(), nat.stats().fragments_held), (0, 0));
    assert_eq!(nat.stats().reass_released, 1);
}

#[test]
fn fragments_to_a_port_of_the_router_no_mapping_uses_are_left_to_lwip() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    for (i, port) in [7u16, 161, ext_port.wrapping_add(1)].into_iter().enumerate() {
        let datagram = udp_of(SERVER, 4000, WAN_ADDR, port, 9000, 100 + i as u16);
        let (verdicts, _) = feed(&mut nat, inbound(), &fragments_of(&datagram, 1480), 1);
        assert!(verdicts.iter().all(|v| *v == Verdict::Pass), "port {port}: {verdicts:?}");
    }
    let syn = tcp_data(SERVER, 4000, WAN_ADDR, 22, SYN, &[0x55; 4000]);
    let (verdicts, _) = feed(&mut nat, inbound(), &fragments_of(&with_ident(syn, 200), 1480), 1);
    assert!(verdicts.iter().all(|v| *v == Verdict::Pass), "{verdicts:?}");
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

/// Bytes after a first fragment's total length are not read as its transport header when the
/// NAT decides whether the datagram is the router's own: a first fragment to the router cut by
/// its total length after one transport byte, a UDP header naming a port no mapping uses (the
/// router's own, were it read) after the cut in the same buffer, shows no port, so it is not
/// taken for the router's and left to lwIP: it is dropped as a fragment.
#[test]
fn bytes_past_a_first_fragments_total_length_are_not_read_as_its_ports() {
    let mut nat = nat();
    open_mapping(&mut nat);
    let datagram = udp_of(SERVER, 4000, WAN_ADDR, 7000, 3000, 300);
    let mut first = fragments_of(&datagram, 1480).remove(0);
    first[2..4].copy_from_slice(&21u16.to_be_bytes());
    refill_ip_checksum(&mut first);
    assert_eq!(nat.process(&mut first, &inbound(), 1), Verdict::Drop(lwip_snat::DropReason::Fragment));
    // The same first fragment whole is the router's own.
    let mut whole = fragments_of(&datagram, 1480).remove(0);
    assert_eq!(nat.process(&mut whole, &inbound(), 1), Verdict::Pass);
}

/// The same datagram: addresses, identification, protocol and every payload byte (the
/// fragments' flags are the sender's).
#[cfg(feature = "reassembly")]
fn same_datagram(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a[4..6] == b[4..6] && a[9] == b[9] && a[12..20] == b[12..20] && a[20..] == b[20..]
}

/// Feeds fragments like the shim, handing lwIP what a `Release` verdict releases, and returns
/// each fragment's verdict and every fragment lwIP's own reassembly is given.
#[cfg(feature = "reassembly")]
fn feed_to_lwip(nat: &mut TestNat, ctx: Context, frags: &[Vec<u8>], now: u32) -> (Vec<Verdict>, Vec<Vec<u8>>) {
    let (mut verdicts, mut to_lwip) = (Vec::new(), Vec::new());
    for frag in frags {
        let verdict = nat.process(&mut frag.clone(), &ctx, now);
        verdicts.push(verdict);
        if verdict == Verdict::Release {
            let mut buf = [0u8; 1500];
            loop {
                let len = nat.next_released(&mut buf);
                if len == 0 {
                    break;
                }
                let mut piece = buf[..len].to_vec();
                assert_eq!(nat.process(&mut piece, &ctx, now), Verdict::Pass, "a released piece goes to lwIP");
                to_lwip.push(piece);
            }
        }
        if matches!(verdict, Verdict::Pass | Verdict::Release) {
            to_lwip.push(frag.clone());
        }
    }
    (verdicts, to_lwip)
}

#[cfg(feature = "reassembly")]
#[test]
fn out_of_order_fragments_to_the_router_are_handed_to_lwip_with_what_the_pool_held() {
    let mut nat = nat();
    let ping = big_ping(SERVER, WAN_ADDR, 3000, 0x4321);
    let mut frags = fragments_of(&ping, 1480);
    frags.rotate_left(1); // the first fragment, which shows whose the datagram is, comes last
    let (verdicts, to_lwip) = feed_to_lwip(&mut nat, inbound(), &frags, 1);
    assert_eq!(verdicts, [Verdict::Held, Verdict::Held, Verdict::Release]);
    assert!(same_datagram(&join_fragments(&to_lwip), &ping), "lwIP can put the echo request together");
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(feature = "reassembly")]
#[test]
fn a_datagram_to_the_router_too_large_for_the_pool_is_handed_to_lwip_whatever_the_order() {
    let mut nat = nat();
    let ping = big_ping(SERVER, WAN_ADDR, 7000, 0x5555);
    let mut frags = fragments_of(&ping, 1480);
    frags.rotate_left(1);
    let (verdicts, to_lwip) = feed_to_lwip(&mut nat, inbound(), &frags, 1);
    // Three pieces held, the fourth reaches past the pool: released with what was held; the
    // first fragment then follows.
    assert_eq!(verdicts, [Verdict::Held, Verdict::Held, Verdict::Held, Verdict::Release, Verdict::Pass]);
    assert!(same_datagram(&join_fragments(&to_lwip), &ping));
    assert_eq!(nat.fragments_in_flight(), (0, 0));
    assert_eq!((nat.stats().reass_released, nat.stats().total_dropped()), (1, 0));
    // A reply to a mapping too large for the pool is dropped once its first fragment is held.
    let ext_port = open_mapping(&mut nat);
    let huge = udp_of(SERVER, 4000, WAN_ADDR, ext_port, 7000, 9);
    let (verdicts, to_lwip) = feed_to_lwip(&mut nat, inbound(), &fragments_of(&huge, 1480), 2);
    assert!(to_lwip.is_empty(), "{verdicts:?}");
    assert!(verdicts.contains(&Verdict::Drop(DropReason::FragmentBeyondLimit)));
}

#[cfg(feature = "reassembly")]
#[test]
fn a_small_buffer_gets_the_held_bytes_in_smaller_fragments_and_none_is_lost() {
    let mut nat = nat();
    let ping = big_ping(SERVER, WAN_ADDR, 3000, 0x4444);
    let frags = fragments_of(&ping, 1480);
    for frag in &frags[1..] {
        assert_eq!(nat.process(&mut frag.clone(), &inbound(), 1), Verdict::Held);
    }
    assert_eq!(nat.process(&mut frags[0].clone(), &inbound(), 1), Verdict::Release);
    let mut pieces = vec![frags[0].clone()];
    let mut buf = [0u8; 100];
    loop {
        let len = nat.next_released(&mut buf);
        if len == 0 {
            break;
        }
        assert!(len <= 100);
        pieces.push(buf[..len].to_vec());
    }
    assert!(pieces.len() > 1528 / 80, "80 payload bytes a piece");
    assert!(same_datagram(&join_fragments(&pieces), &ping));
    assert_eq!(nat.next_released(&mut buf), 0);
    assert_eq!(nat.fragments_in_flight(), (0, 0));
}

#[cfg(feature = "reassembly")]
#[test]
fn fragments_of_a_mapping_or_port_forward_are_never_left_untranslated() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    // A reply to the mapping, first fragment first: held and translated, never passed.
    fragmented_reply_reaches_host_a(&mut nat, ext_port, 7, 1);
    // The same for a port forward.
    if cfg!(feature = "portmap") {
        let forward =
            Portmap { protocol: Protocol::Udp, netif: WAN, ext_port: 8080, inside: addr(HOST_B), in_port: 80 };
        nat.add_portmap(forward).unwrap();
        let request = udp_of(SERVER2, 999, WAN_ADDR, 8080, 3000, 8);
        let (verdicts, whole) = feed(&mut nat, inbound(), &fragments_of(&request, 1480), 2);
        assert_eq!(verdicts[0], Verdict::Held);
        let (verdict, fwd) = whole.unwrap();
        assert_eq!((verdict, dst(&fwd), dport(&fwd)), (Verdict::Translated, HOST_B, 80));
    }
    // A reply the pool cannot hold is dropped, not handed on.
    let huge = udp_of(SERVER, 4000, WAN_ADDR, ext_port, 7000, 9);
    let (verdicts, whole) = feed(&mut nat, inbound(), &fragments_of(&huge, 1480), 3);
    assert!(whole.is_none());
    assert!(!verdicts.contains(&Verdict::Pass), "{verdicts:?}");
    assert!(verdicts.contains(&Verdict::Drop(DropReason::FragmentBeyondLimit)));
    // Outbound, forwarded fragments too large for the pool never leave untranslated.
    let out = udp_of(HOST_A, 5000, SERVER, 4000, 7000, 10);
    let (verdicts, whole) = feed(&mut nat, outbound(), &fragments_of(&out, 1480), 4);
    assert!(whole.is_none());
    assert!(verdicts.iter().all(|v| matches!(v, Verdict::Held | Verdict::Drop(_))), "{verdicts:?}");
    // Echo replies to the router's ICMP mapping identifiers are the NAT's, other ICMP the router's.
    let mut echo = echo_request(HOST_A, SERVER, 0x77, 1);
    assert_eq!(nat.process(&mut echo, &outbound(), 5), Verdict::Translated);
    let reply = echo_with(SERVER, WAN_ADDR, 0, icmp_ident(&echo), 1, &[0x31; 2000]);
    let (verdicts, whole) = feed(&mut nat, inbound(), &fragments_of(&with_ident(reply, 11), 1480), 6);
    assert_eq!(verdicts[0], Verdict::Held);
    let (verdict, back) = whole.unwrap();
    assert_eq!((verdict, dst(&back)), (Verdict::Translated, HOST_A));
}

#[cfg(feature = "reassembly")]
#[test]
fn a_released_datagram_opens_the_way_for_no_other() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    let ping = big_ping(SERVER, WAN_ADDR, 3000, 7);
    assert_eq!(nat.process(&mut fragments_of(&ping, 1480)[0].clone(), &inbound(), 1), Verdict::Pass);
    // Same identification, but another source, protocol or netif: still the NAT's to hold.
    let reply = udp_of(SERVER2, 4000, WAN_ADDR, ext_port, 3000, 7);
    assert_eq!(nat.process(&mut raw_fragment(&reply, 1480, 2960, true), &inbound(), 2), Verdict::Held);
    let reply = udp_of(SERVER, 4000, WAN_ADDR, ext_port, 3000, 7);
    assert_eq!(nat.process(&mut raw_fragment(&reply, 1480, 2960, true), &inbound(), 2), Verdict::Held);
    let from_lan = Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } };
    assert_eq!(nat.process(&mut raw_fragment(&ping, 1480, 2960, true), &from_lan, 2), FROM_LAN);
    // Released datagrams are forgotten on the reassembly timeout.
    nat.tick(15_002);
    assert_eq!(nat.process(&mut raw_fragment(&ping, 1480, 2960, true), &inbound(), 15_003), Verdict::Held);
}

#[cfg(feature = "reassembly")]
#[test]
fn fragments_arriving_on_two_netifs_are_never_combined() {
    let mut nat = nat();
    let ext_port = open_mapping(&mut nat);
    let reply = udp_of(SERVER, 4000, WAN_ADDR, ext_port, 3000, 7);
    let frags = fragments_of(&reply, 1480);
    assert_eq!(nat.process(&mut frags[0].clone(), &inbound(), 1), Verdict::Held);
    assert_eq!(nat.process(&mut frags[1].clone(), &inbound(), 1), Verdict::Held);
    // A LAN host forges the missing piece: same source, destination, protocol and
    // identification, other bytes, sent to the router's external address from inside.
    let mut forged = frags[2].clone();
    let last = forged.len() - 1;
    forged[last] ^= 0xFF;
    let from_lan = Context { in_netif: LAN, route: Route::Local { netif: WAN, mtu: 1500 } };
    assert_eq!(nat.process(&mut forged, &from_lan, 2), FROM_LAN, "a datagram of its own, never completed");
    // The genuine piece from the WAN completes the reply with the genuine bytes.
    let (_, whole) = feed(&mut nat, inbound(), &frags[2..], 3);
    let (verdict, back) = whole.expect("the reply completes");
    assert_eq!((verdict, dst(&back)), (Verdict::Translated, HOST_A));
    assert_eq!(&back[28..], &reply[28..]);
}
