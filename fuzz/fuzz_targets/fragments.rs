//! Target 2: arbitrary fragment sequences, checked against a model of what the reassembly pool
//! must hold.
//!
//! Input: one settings byte (`harness::config`), then records of
//! `[flags, tenths, len_hi, len_lo, packet…]`: flags bit 0 = arrives on the WAN for the WAN
//! address (else forwarded LAN → WAN), bit 1 = repair version, header length and total
//! length; `tenths` advances the clock by 100 ms steps and `tick` runs before every packet.
//! The IP header checksum is always made right, so mutations reach the pool.
//!
//! The model keeps, per datagram key (source, destination, protocol, identification; the input
//! netif follows from the direction bit), the bytes of every fragment the pool accepted. When
//! the pool evicts datagrams to make room (`reass_evicted` grows), the model does not guess
//! which: it forgets every datagram but the current one, and checks fragments of forgotten
//! datagrams no further until they complete or time out. It asserts: bytes accepted twice agree (a
//! conflicting overlap must have been refused), a duplicate brings nothing new, "pool full"
//! only when every slot holds a datagram, the number of datagrams in flight equals the model's,
//! and a reassembled datagram is exactly the first fragment's header (offset, flags, length
//! and checksum redone) followed by every accepted payload byte. The datagram is then fed back
//! in as the lwIP shim does, under `harness::process_checked`.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use lwip_snat::config::REASS_SLOTS;
use lwip_snat::{DropReason, Verdict};
use lwip_snat_fuzz::harness::{self, FuzzNat};
use lwip_snat_fuzz::oracle::{self, be16, put16};

/// Source, destination, protocol, identification, and whether it arrived on the WAN.
type Key = (u32, u32, u8, u16, bool);

/// What the pool must hold of one datagram.
struct Partial {
    first_seen: u32,
    header: Option<Vec<u8>>,
    payload: Vec<Option<u8>>,
}

/// A fragment as the pool sees it.
struct Piece<'a> {
    key: Key,
    header: &'a [u8],
    offset: usize,
    payload: &'a [u8],
    more: bool,
}

fn piece(p: &[u8], wan: bool) -> Option<Piece<'_>> {
    let ip = oracle::ip(p)?;
    if ip.total < ip.header_len || ip.total > p.len() || !ip.fragment {
        return None;
    }
    let flags_offset = be16(p, 6);
    Some(Piece {
        key: (ip.src, ip.dst, ip.protocol, be16(p, 4), wan),
        header: &p[..ip.header_len],
        offset: usize::from(flags_offset & 0x1FFF) * 8,
        payload: &p[ip.header_len..ip.total],
        more: flags_offset & 0x2000 != 0,
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, mut rest)) = data.split_first() else { return };
    let config = harness::config(config);
    let mut nat = FuzzNat::new();
    harness::nat(&mut nat, config);
    let mut model: HashMap<Key, Partial> = HashMap::new();
    // Datagrams the pool may or may not still hold, by the time they were forgotten.
    let mut forgotten: HashMap<Key, u32> = HashMap::new();
    let mut now = 0u32;
    while let Some((head, tail)) = rest.split_first_chunk::<4>() {
        let len = usize::from(u16::from_be_bytes([head[2], head[3]])).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        now = now.wrapping_add(u32::from(head[1]) * 100);
        nat.tick(now);
        model.retain(|_, d| now.wrapping_sub(d.first_seen) <= config.reass_timeout_ms);
        forgotten.retain(|_, &mut since| now.wrapping_sub(since) <= config.reass_timeout_ms);
        in_flight_agrees(&nat, &model, &forgotten);

        let mut p = bytes.to_vec();
        if head[0] & 2 != 0 && p.len() >= 20 {
            p[0] = 0x40 | (p[0] & 0xF).max(5);
            if usize::from(p[0] & 0xF) * 4 > p.len() {
                p[0] = 0x45;
            }
            let total = p.len().min(0xFFFF) as u16;
            put16(&mut p, 2, total);
        }
        if let Some(ip) = oracle::ip(&p) {
            let header = &mut p[..ip.header_len];
            put16(header, 10, 0);
            let c = oracle::checksum(header);
            put16(header, 10, c);
        }
        let ctx = if head[0] & 1 != 0 { harness::inbound() } else { harness::outbound(1500) };
        let evicted = nat.stats().reass_evicted;
        let verdict = harness::process_checked(&mut nat, &mut p, &ctx, now);
        if verdict == Verdict::Release {
            // What the shim does: hand lwIP every fragment the pool held of the datagram.
            let mut buf = [0u8; 1500];
            loop {
                let len = nat.next_released(&mut buf);
                if len == 0 {
                    break;
                }
                let released = harness::process_checked(&mut nat, &mut buf[..len], &ctx, now);
                assert_eq!(released, Verdict::Pass, "a released fragment goes to lwIP");
            }
        }
        if let Some(piece) = piece(&p, head[0] & 1 != 0) {
            if nat.stats().reass_evicted != evicted {
                for (key, d) in model.iter().filter(|(key, _)| **key != piece.key) {
                    forgotten.insert(*key, d.first_seen);
                }
                model.retain(|key, _| *key == piece.key);
            }
            if let Some(since) = forgotten.get_mut(&piece.key) {
                match verdict {
                    // Held anew or by the datagram the pool still had: it stays at most until then.
                    Verdict::Held => *since = now,
                    // The pool finished with it (as `follow` has the model do).
                    Verdict::Reassembled(_) | Verdict::Release => {
                        forgotten.remove(&piece.key);
                    }
                    Verdict::Drop(reason) if ends_datagram(reason) => {
                        forgotten.remove(&piece.key);
                    }
                    // Decided before the pool saw it (a TTL, a checksum), a duplicate, a pass:
                    // whatever the pool held of it, it still holds.
                    _ => {}
                }
            } else {
                follow(&mut model, &piece, verdict, now, nat.reassembled());
            }
        }
        in_flight_agrees(&nat, &model, &forgotten);
        if let Verdict::Reassembled(_) = verdict {
            // What the shim does: feed the whole datagram back to ip4_input().
            let mut whole = nat.reassembled().to_vec();
            harness::process_checked(&mut nat, &mut whole, &ctx, now);
        }
    }
});

/// The pool holds every datagram of the model, and at most the forgotten ones besides.
fn in_flight_agrees(nat: &FuzzNat, model: &HashMap<Key, Partial>, forgotten: &HashMap<Key, u32>) {
    let in_flight = nat.fragments_in_flight().0;
    assert!(in_flight >= model.len() && in_flight <= model.len() + forgotten.len(), "datagrams in flight");
}

/// Updates the model with the pool's verdict on one fragment and checks the verdict against it.
fn follow(model: &mut HashMap<Key, Partial>, piece: &Piece, verdict: Verdict, now: u32, datagram: &[u8]) {
    let end = piece.offset + piece.payload.len();
    match verdict {
        Verdict::Held | Verdict::Reassembled(_) => {
            let d = model.entry(piece.key).or_insert(Partial { first_seen: now, header: None, payload: Vec::new() });
            if piece.offset == 0 && d.header.is_none() {
                d.header = Some(piece.header.to_vec());
            }
            if d.payload.len() < end {
                d.payload.resize(end, None);
            }
            for (i, &b) in piece.payload.iter().enumerate() {
                let held = &mut d.payload[piece.offset + i];
                assert!(held.is_none_or(|h| h == b), "accepted a fragment that contradicts held bytes");
                *held = Some(b);
            }
            if let Verdict::Reassembled(len) = verdict {
                let d = model.remove(&piece.key).expect("just inserted");
                check_datagram(&d, datagram, len);
            }
        }
        Verdict::Release => {
            model.remove(&piece.key);
        }
        Verdict::Drop(DropReason::FragmentDuplicate) => {
            let d = model.get(&piece.key).expect("a duplicate of a datagram in progress");
            let held = d.payload.get(piece.offset..end).expect("a duplicate lies within held bytes");
            assert!(held.iter().zip(piece.payload).all(|(h, b)| *h == Some(*b)), "duplicate with new bytes");
        }
        Verdict::Drop(DropReason::ReassemblyFull) => {
            assert!(!model.contains_key(&piece.key), "pool full for a datagram it holds");
            assert_eq!(model.len(), REASS_SLOTS, "pool full with a free slot");
        }
        Verdict::Drop(DropReason::Fragment) => {
            let invalid = piece.payload.is_empty() || (piece.more && !piece.payload.len().is_multiple_of(8));
            assert!(invalid, "a valid fragment dropped as malformed");
        }
        Verdict::Drop(reason) if ends_datagram(reason) => {
            model.remove(&piece.key);
        }
        _ => {}
    }
}

/// Drops of a fragment that end its whole datagram in the pool.
fn ends_datagram(reason: DropReason) -> bool {
    matches!(
        reason,
        DropReason::FragmentOverlap
            | DropReason::FragmentTooShort
            | DropReason::FragmentTooBig
            | DropReason::FragmentBeyondLimit
            | DropReason::ReassemblyNoRoom
    )
}

/// A reassembled datagram is the first fragment's header, with total length, flags, offset
/// and checksum redone, followed by every payload byte the pool accepted.
fn check_datagram(d: &Partial, datagram: &[u8], len: usize) {
    assert_eq!(datagram.len(), len);
    let header = d.header.as_ref().expect("complete without a first fragment");
    let header_len = header.len();
    assert_eq!(len, header_len + d.payload.len(), "header plus payload");
    let ip = oracle::ip(datagram).expect("reassembled datagram parses");
    assert_eq!((ip.header_len, ip.total, ip.fragment), (header_len, len, false));
    assert_eq!(be16(datagram, 6) & 0x3FFF, 0, "offset and MF cleared");
    for (i, (a, b)) in header.iter().zip(&datagram[..header_len]).enumerate() {
        assert!(a == b || matches!(i, 2 | 3 | 6 | 7 | 10 | 11), "header byte {i} changed");
    }
    let checksum = oracle::checksum(&datagram[..header_len]);
    assert_eq!(checksum, 0, "reassembled header checksum");
    for (i, b) in d.payload.iter().enumerate() {
        assert_eq!(Some(datagram[header_len + i]), *b, "payload byte {i}");
    }
}
