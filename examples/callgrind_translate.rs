//! Translates a fixed number of packets of established flows, for counting instructions per
//! packet under `valgrind --tool=callgrind` (see `.ci/callgrind`).
//!
//! Usage: `callgrind_translate <kind> <flows> <packets>` with kind one of `tcp_out`, `tcp_in`,
//! `udp_out`, `udp_in`, `icmp_error_in`, `udp_no_rule` (forwarded between two netifs no rule
//! names: passed), `udp_to_router` (from the LAN to the router's LAN address: passed),
//! `udp_out_chained` (`udp_out` as a chain whose first buffer holds the headers), or `linear_array_tcp_out` / `linked_list_tcp_out` /
//! `addon_model_tcp_out` for the references of the benches. The NAT is warmed with `flows` TCP
//! and UDP flows, then `packets` ready-made copies of their packets (round-robin over the flows)
//! are translated one by one by [`translate_one`] (or [`linear_one`] for a reference), the only
//! functions callgrind counts (`--toggle-collect`): neither setup nor the loop around them lands
//! in the count, which is one call's work from entry to return.

#[path = "../benches/support/mod.rs"]
mod support;

use lwip_snat::{Context, Protocol, Route, Verdict};
use support::addon::AddOnModel;
use support::{BenchNat, Layout, Linear, Templates, INBOUND, OUTBOUND, STRIDE};

/// One packet through the NAT.
#[inline(never)]
fn translate_one(nat: &mut BenchNat, packet: &mut [u8], ctx: &Context) -> Verdict {
    nat.process(packet, ctx, support::NOW)
}

/// One packet through the NAT as a chain whose first buffer holds its 28 header bytes.
#[inline(never)]
fn translate_one_chained(nat: &mut BenchNat, packet: &mut [u8], ctx: &Context) -> Verdict {
    let len = packet.len();
    match packet.get_mut(..CHAIN_HEAD) {
        Some(head) => nat.process_head(head, len, ctx, support::NOW).unwrap_or(Verdict::Pass),
        None => Verdict::Pass,
    }
}

/// Bytes in the first buffer of `udp_out_chained`'s chains: the IPv4 and UDP headers.
const CHAIN_HEAD: usize = 28;

/// One packet through a linear-search reference.
#[inline(never)]
fn linear_one(linear: &mut Linear, packet: &mut [u8], ctx: &Context) -> Verdict {
    linear.process(packet, ctx, support::NOW)
}

/// One packet through the model of the original add-on's walk (counted as a reference too).
#[inline(never)]
fn linear_one_addon(addon: &mut AddOnModel, packet: &mut [u8], ctx: &Context) -> Verdict {
    addon.process(packet, ctx, support::NOW)
}

/// The references of the benches.
enum Reference {
    Linear(Layout),
    AddOn,
}

/// Forwarded from a netif no rule names to another (the LAN of the benches is the rule's).
const NO_RULE: Context =
    Context { in_netif: 3, route: Route::Forward { out_netif: 4, out_addr: 0xC0A8_0401, out_mtu: 1500 } };
/// From the LAN to the router's own LAN address.
const TO_ROUTER: Context = Context { in_netif: support::LAN, route: Route::Local { netif: support::LAN, mtu: 1500 } };

/// Processes every packet; returns how many got the verdict `expected`.
fn translate_all(
    mut process: impl FnMut(&mut [u8]) -> Verdict,
    packets: &mut [u8],
    lens: &[u8],
    expected: Verdict,
) -> usize {
    let mut done = 0;
    for (packet, &len) in packets.chunks_exact_mut(STRIDE).zip(lens) {
        if process(&mut packet[..usize::from(len)]) == expected {
            done += 1;
        }
    }
    done
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: callgrind_translate \
                 <tcp_out|tcp_in|udp_out|udp_in|icmp_error_in|udp_no_rule|udp_to_router|udp_out_chained|linear_array_tcp_out|linked_list_tcp_out|addon_model_tcp_out> \
                 <flows> <packets>";
    let (Some(kind), Some(flows), Some(packets)) = (
        args.get(1),
        args.get(2).and_then(|a| a.parse::<usize>().ok()),
        args.get(3).and_then(|a| a.parse::<usize>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    if flows == 0 || flows > support::CAPACITY {
        eprintln!("flows must be in 1..={}", support::CAPACITY);
        std::process::exit(2);
    }
    let mut nat = support::new_nat();
    let traffic = support::warm(&mut nat, flows);
    let (templates, ctx, reference): (&Templates, &Context, Option<Reference>) = match kind.as_str() {
        "tcp_out" => (&traffic.tcp_out, &OUTBOUND, None),
        "tcp_in" => (&traffic.tcp_in, &INBOUND, None),
        "udp_out" => (&traffic.udp_out, &OUTBOUND, None),
        "udp_in" => (&traffic.udp_in, &INBOUND, None),
        "icmp_error_in" => (&traffic.icmp_error_in, &INBOUND, None),
        "udp_no_rule" => (&traffic.udp_out, &NO_RULE, None),
        "udp_to_router" => (&traffic.udp_out, &TO_ROUTER, None),
        "udp_out_chained" => (&traffic.udp_out, &OUTBOUND, None),
        "linear_array_tcp_out" => (&traffic.tcp_out, &OUTBOUND, Some(Reference::Linear(Layout::Array))),
        "linked_list_tcp_out" => (&traffic.tcp_out, &OUTBOUND, Some(Reference::Linear(Layout::List))),
        "addon_model_tcp_out" => (&traffic.tcp_out, &OUTBOUND, Some(Reference::AddOn)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let mut buffer = vec![0u8; packets * STRIDE];
    let mut lens = Vec::with_capacity(packets);
    let mut work = [0u8; STRIDE];
    for (i, slot) in buffer.chunks_exact_mut(STRIDE).enumerate() {
        let packet = templates.load(i % flows, &mut work);
        slot[..packet.len()].copy_from_slice(packet);
        lens.push(packet.len() as u8);
    }
    let expected =
        if kind.contains("no_rule") || kind.contains("to_router") { Verdict::Pass } else { Verdict::Translated };
    let translated = match reference {
        None if kind == "udp_out_chained" => {
            translate_all(|p| translate_one_chained(&mut nat, p, ctx), &mut buffer, &lens, expected)
        }
        None => translate_all(|p| translate_one(&mut nat, p, ctx), &mut buffer, &lens, expected),
        Some(Reference::Linear(layout)) => {
            let mut linear = Linear::from_nat(&nat, Protocol::Tcp, layout);
            translate_all(|p| linear_one(&mut linear, p, ctx), &mut buffer, &lens, expected)
        }
        Some(Reference::AddOn) => {
            let mut addon = AddOnModel::from_nat(&nat, Protocol::Tcp);
            translate_all(|p| linear_one_addon(&mut addon, p, ctx), &mut buffer, &lens, expected)
        }
    };
    println!("{kind}: {translated} of {packets} packets {expected:?} over {flows} flows");
    if translated != packets {
        std::process::exit(1);
    }
}
