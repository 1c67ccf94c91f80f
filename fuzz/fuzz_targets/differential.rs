//! Target 4, differential: every translated packet's checksums equal a full recompute by an
//! independent oracle, only the bytes NAT may change do change, and translating back restores
//! the original bit for bit.
//!
//! Input: one settings byte (`harness::config`), then records of
//! `[flags, quote, seconds, code, len_hi, len_lo, packet…]`:
//! * flags bit 0: the packet arrives inbound on the WAN (else it goes out LAN → WAN); bit 1:
//!   repair version, header length and total length; bits 2–3: ICMP error type for the
//!   round trips (3, 11, 12); bit 4: also round-trip an ICMP error from the inside host;
//! * quote: bytes quoted by the ICMP errors beyond the 8 transport bytes; seconds: clock step.
//!
//! Every packet has all its checksums rewritten to full recomputes before it goes in. For an
//! outbound flow packet `P` that is translated to `P'`:
//! * the reply to `P'` must come back as exactly the reply to `P`;
//! * an ICMP error about `P'` from the remote must reach the inside host as exactly the error
//!   about `P`; and an error from the inside host about the reply it got must leave as exactly
//!   the error about the reply that arrived.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwip_snat::wire::ipv4::is_martian;
use lwip_snat::Verdict;
use lwip_snat_fuzz::harness::{self, FuzzNat, WAN_ADDR};
use lwip_snat_fuzz::oracle::{self, put16};
use lwip_snat_fuzz::packet::{self, Kind};

const ERROR_TYPES: [u8; 4] = [3, 11, 12, 3];

fuzz_target!(|data: &[u8]| {
    let Some((&config, mut rest)) = data.split_first() else { return };
    let mut nat = FuzzNat::new();
    // MSS clamping rewrites option bytes on purpose: off, so that only endpoints may change.
    harness::nat(&mut nat, lwip_snat::Config { mss_clamp: false, ..harness::config(config) });
    let mut now = 0u32;
    while let Some((head, tail)) = rest.split_first_chunk::<6>() {
        let len = usize::from(u16::from_be_bytes([head[4], head[5]])).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        now = now.wrapping_add(u32::from(head[2]) * 1000);
        record(&mut nat, head, bytes, now);
    }
});

fn record(nat: &mut FuzzNat, head: &[u8; 6], bytes: &[u8], now: u32) {
    let [flags, quote, _, code, _, _] = *head;
    let mut p = bytes.to_vec();
    if flags & 2 != 0 && p.len() >= 20 {
        p[0] = 0x40 | (p[0] & 0xF).max(5);
        let header_len = usize::from(p[0] & 0xF) * 4;
        if header_len > p.len() {
            p[0] = 0x45;
        }
        let total = p.len().min(0xFFFF) as u16;
        put16(&mut p, 2, total);
    }
    oracle::canonicalize(&mut p);
    if flags & 1 != 0 {
        harness::process_checked(nat, &mut p, &harness::inbound(), now);
        return;
    }
    let original = p.clone();
    if harness::process_checked(nat, &mut p, &harness::outbound(1500), now) != Verdict::Translated {
        return;
    }
    let Some(kind) = packet::flow_kind(&original) else { return };
    let translated = p;
    only_endpoint_changed(&original, &translated, kind);
    let inside = packet::src(&original);
    let remote = packet::dst(&original);
    if is_martian(harness::addr(remote)) {
        return;
    }

    // The reply comes back to the inside endpoint as if no NAT were there.
    let mut reply = packet::reply(&translated, kind);
    let wire_reply = reply.clone();
    let verdict = harness::process_checked(nat, &mut reply, &harness::inbound(), now);
    assert_eq!(verdict, Verdict::Translated, "the reply to a translated packet is translated back");
    // (The reply here copies the IP ID of the packet it answers.)
    let expected = with_ident_of(&reply, packet::reply(&original, kind));
    assert_eq!(reply, expected, "the reply reaches exactly the original endpoint");

    // An ICMP error about the translated packet reaches the inside host quoting what it sent.
    let error_type = ERROR_TYPES[usize::from(flags >> 2 & 3)];
    let header_len = usize::from(original[0] & 0xF) * 4;
    let total = usize::from(oracle::be16(&original, 2));
    let q = (header_len + 8 + usize::from(quote)).min(total);
    let mut error = packet::icmp_error(remote, WAN_ADDR, error_type, code, &translated[..q]);
    let verdict = harness::process_checked(nat, &mut error, &harness::inbound(), now);
    assert_eq!(verdict, Verdict::Translated, "an ICMP error about a live mapping is translated");
    let expected = packet::icmp_error(remote, inside, error_type, code, &restorable(&original, &translated, q, kind));
    assert_eq!(error, expected, "the error quotes exactly what the inside host sent");

    // The inside host's own error about the reply it got leaves quoting what the remote sent.
    if flags & 0x10 != 0 {
        let q = (header_len + 8 + usize::from(quote)).min(reply.len());
        let mut error = packet::icmp_error(inside, remote, error_type, code, &reply[..q]);
        let verdict = harness::process_checked(nat, &mut error, &harness::outbound(1500), now);
        assert_eq!(verdict, Verdict::Translated, "an inside host's ICMP error about a live session is translated");
        let expected =
            packet::icmp_error(WAN_ADDR, remote, error_type, code, &restorable(&wire_reply, &reply, q, kind));
        assert_eq!(error, with_ident_of(&error, expected), "the error quotes exactly what the remote sent");
    }
}

/// What a NAT can give back of `original[..q]` when the quote it rewrites is `translated[..q]`:
/// all of it, except a TCP checksum cut in half by the quote, whose remaining high byte
/// cannot be updated without the low one (it stays as quoted).
fn restorable(original: &[u8], translated: &[u8], q: usize, kind: Kind) -> Vec<u8> {
    let mut quote = original[..q].to_vec();
    // An outbound non-atomic datagram got a new IP ID (RFC 6864), which is not put back.
    let header_len = usize::from(original[0] & 0xF) * 4;
    if !dont_frag(original) && q >= header_len {
        quote[4..6].copy_from_slice(&translated[4..6]);
        put16(&mut quote, 10, 0);
        let sum = oracle::checksum(&quote[..header_len]);
        put16(&mut quote, 10, sum);
    }
    if kind == Kind::Tcp && q == header_len + 17 {
        quote[q - 1] = translated[q - 1];
    }
    quote
}

/// True when the datagram has DF set (atomic: the NAT keeps its IP ID).
fn dont_frag(p: &[u8]) -> bool {
    p[6] & 0x40 != 0
}

/// `expected` with the IP ID the NAT gave `actual`, when a non-atomic datagram may get a new one.
fn with_ident_of(actual: &[u8], mut expected: Vec<u8>) -> Vec<u8> {
    if !dont_frag(&expected) {
        expected[4..6].copy_from_slice(&actual[4..6]);
        oracle::canonicalize(&mut expected);
    }
    expected
}

/// Outbound translation changes the source address, the source port (ICMP: identifier) and
/// the checksums over them, and the IP ID of a non-atomic datagram; nothing else.
fn only_endpoint_changed(before: &[u8], after: &[u8], kind: Kind) {
    let header_len = usize::from(before[0] & 0xF) * 4;
    let (port, checksum) = match kind {
        Kind::Tcp => (0, 16),
        Kind::Udp => (0, 6),
        Kind::IcmpRequest => (4, 2),
    };
    let allowed = |i: usize| {
        (10..16).contains(&i)
            || ((4..6).contains(&i) && !dont_frag(before))
            || (header_len + port..header_len + port + 2).contains(&i)
            || (header_len + checksum..header_len + checksum + 2).contains(&i)
    };
    assert_eq!(before.len(), after.len());
    for (i, (a, b)) in before.iter().zip(after).enumerate() {
        assert!(a == b || allowed(i), "byte {i} changed ({a:#04x} -> {b:#04x}) but is not the source endpoint");
    }
}
