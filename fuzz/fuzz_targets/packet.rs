//! Target 1: arbitrary bytes with an arbitrary context into `Nat::process`.
//!
//! Input: 8 bytes of context, then the packet.
//! * byte 0: bit 0 local route (else forward), bit 1 fix the IP header checksum, bit 2 fix every
//!   checksum, bits 3–4 input netif, bits 5–6 route netif, bit 7 run `tick(now)` first;
//! * byte 1: settings variant (`harness::config`);
//! * bytes 2–3: output MTU; bytes 4–7: the clock.
//!
//! The NAT holds three live sessions (`harness::nat`) so that inbound packets and ICMP errors
//! can reach the translation paths. `harness::process_checked` asserts the invariants, and a
//! twin NAT that takes the general pipeline only (`process_general`, no established-flow fast
//! path) must end in the same verdict, bytes, sessions and counters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwip_snat::{Context, Route};
use lwip_snat_fuzz::harness::{self, FuzzNat, WAN_ADDR};
use lwip_snat_fuzz::oracle;

fuzz_target!(|data: &[u8]| {
    let Some((head, packet)) = data.split_first_chunk::<8>() else { return };
    let flags = head[0];
    let in_netif = (flags >> 3) & 3;
    let netif = (flags >> 5) & 3;
    let mtu = u16::from_be_bytes([head[2], head[3]]);
    let now = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let route = if flags & 1 != 0 {
        Route::Local { netif, mtu }
    } else {
        Route::Forward { out_netif: netif, out_addr: harness::addr(WAN_ADDR), out_mtu: mtu }
    };
    let ctx = Context { in_netif, route };

    let mut packet = packet.to_vec();
    if flags & 4 != 0 {
        oracle::canonicalize(&mut packet);
    } else if flags & 2 != 0 {
        if let Some(ip) = oracle::ip(&packet) {
            let header = &mut packet[..ip.header_len];
            oracle::put16(header, 10, 0);
            let c = oracle::checksum(header);
            oracle::put16(header, 10, c);
        }
    }

    let mut nat = FuzzNat::new();
    harness::nat(&mut nat, harness::config(head[1]));
    let mut twin = FuzzNat::new();
    harness::nat(&mut twin, harness::config(head[1]));
    if flags & 0x80 != 0 {
        nat.tick(now);
        twin.tick(now);
    }
    let mut copy = packet.clone();
    let verdict = harness::process_checked(&mut nat, &mut packet, &ctx, now);
    assert_eq!(verdict, twin.process_general(&mut copy, &ctx, now), "fast path and general pipeline differ");
    assert_eq!(packet, copy, "bytes differ between fast path and general pipeline");
    assert_eq!(nat.stats(), twin.stats());
    assert!(nat.sessions().map(|(p, s)| (p, *s)).eq(twin.sessions().map(|(p, s)| (p, *s))));
});
