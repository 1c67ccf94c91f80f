//! Property tests: random valid flows translate to exactly what a from-scratch build of the
//! translated packet would be, and their replies translate back to exactly the original
//! endpoints; random and mutated bytes never panic, never leak, never change a packet that
//! is not translated.

mod common;

use common::*;
use lwip_snat::{Context, Route, Verdict};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Udp { zero_checksum: bool },
    TcpSyn,
    Echo,
}

#[allow(clippy::too_many_arguments)] // mirrors the header fields one to one
fn build(
    kind: Kind,
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    ttl: u8,
    payload: &[u8],
    reply: bool,
) -> Vec<u8> {
    match kind {
        Kind::Udp { zero_checksum } => {
            let mut v = packet(src, dst, 17, ttl, &udp_segment(sport, dport, payload));
            if zero_checksum {
                v[26] = 0;
                v[27] = 0;
            }
            v
        }
        Kind::TcpSyn => {
            let flags = if reply { SYN | ACK } else { SYN };
            let fields = TcpFields { sport, dport, seq: 77, ack: 0, flags, window: 1000 };
            packet(src, dst, 6, ttl, &tcp_segment(fields, &[], payload))
        }
        Kind::Echo if reply => packet(src, dst, 1, ttl, &icmp_message(0, 0, ident_seq(dport, 1), payload)),
        Kind::Echo => packet(src, dst, 1, ttl, &icmp_message(8, 0, ident_seq(sport, 1), payload)),
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        any::<bool>().prop_map(|zero_checksum| Kind::Udp { zero_checksum }),
        Just(Kind::TcpSyn),
        Just(Kind::Echo)
    ]
}

fn public_addr() -> impl Strategy<Value = [u8; 4]> {
    (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
        .prop_filter("not private, loopback or ours", |&(a, b, _, _)| a != 10 && a != 127 && !(a == 192 && b == 168))
        .prop_map(|(a, b, c, d)| [a, b, c, d])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn valid_flows_translate_out_and_back(
        flows in prop::collection::vec(
            (kind(), 0u8..=255, 1u16.., public_addr(), 1u16.., 2u8..=255, prop::collection::vec(any::<u8>(), 0..64)),
            1..20,
        )
    ) {
        let mut nat = nat();
        for (kind, host, sport, remote, dport, ttl, payload) in flows {
            let inside = [192, 168, 1, host];
            let p = build(kind, inside, sport, remote, dport, ttl, &payload, false);
            let mut wire = p.clone();
            prop_assert_eq!(nat.process(&mut wire, &outbound(), 0), Verdict::Translated);
            assert_checksums(&wire);
            let ext = match kind {
                Kind::Echo => icmp_ident(&wire),
                _ => common::sport(&wire),
            };
            // The translated packet is bit for bit what building it with the external
            // endpoint from scratch gives: the incremental checksums equal a full recompute.
            let expected_out = build(kind, WAN_ADDR, ext, remote, dport, ttl, &payload, false);
            prop_assert_eq!(&wire, &expected_out);

            // The reply comes back to the external endpoint and reaches the inside endpoint.
            let mut reply = build(kind, remote, dport, WAN_ADDR, ext, 64, &payload, true);
            prop_assert_eq!(nat.process(&mut reply, &inbound(), 1), Verdict::Translated);
            assert_checksums(&reply);
            let expected_in = build(kind, remote, dport, inside, sport, 64, &payload, true);
            prop_assert_eq!(&reply, &expected_in);
        }
    }

    #[test]
    fn random_bytes_never_panic_or_leak(
        packets in prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..96), any::<bool>(), 0u8..4, 0u8..4, any::<u32>()),
            1..40,
        )
    ) {
        let mut nat = nat();
        for (bytes, local, in_netif, netif, now) in packets {
            let ctx = context(local, in_netif, netif);
            check_one(&mut nat, bytes, ctx, now)?;
        }
    }

    #[test]
    fn mutated_valid_packets_never_panic_or_leak(
        base in (kind(), 1u16.., public_addr(), 1u16.., prop::collection::vec(any::<u8>(), 0..32)),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        fix_checksum in any::<bool>(),
        local in any::<bool>(),
    ) {
        let (kind, sport, remote, dport, payload) = base;
        let mut nat = nat();
        // Seed a mapping so that mutated packets can hit the translation paths.
        let mut seed = build(kind, HOST_A, sport, remote, dport, 64, &payload, false);
        nat.process(&mut seed, &outbound(), 0);
        let mut p = if local {
            build(kind, remote, dport, WAN_ADDR, sport, 64, &payload, true)
        } else {
            build(kind, HOST_A, sport, remote, dport, 64, &payload, false)
        };
        for (index, value) in edits {
            let i = index.index(p.len());
            p[i] = value;
        }
        if fix_checksum && p.len() >= 20 && p[0] >> 4 == 4 && usize::from(p[0] & 0xF) * 4 <= p.len() && p[0] & 0xF >= 5 {
            refill_ip_checksum(&mut p);
        }
        check_one(&mut nat, p, context(local, 2, 2), 1)?;
    }
}

fn context(local: bool, in_netif: u8, netif: u8) -> Context {
    if local {
        Context { in_netif, route: Route::Local { netif, mtu: 1500 } }
    } else {
        Context { in_netif, route: Route::Forward { out_netif: netif, out_addr: addr(WAN_ADDR), out_mtu: 1500 } }
    }
}

fn check_one(nat: &mut TestNat, bytes: Vec<u8>, ctx: Context, now: u32) -> Result<(), TestCaseError> {
    let mut p = bytes.clone();
    let verdict = nat.process(&mut p, &ctx, now);
    if verdict == Verdict::Translated {
        if let Route::Forward { out_addr, .. } = ctx.route {
            prop_assert_eq!(u32::from_be_bytes(src(&p)), out_addr, "no private source leaves");
        }
    } else {
        prop_assert_eq!(p, bytes, "an untranslated packet is untouched");
    }
    Ok(())
}
