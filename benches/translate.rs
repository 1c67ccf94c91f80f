//! Per-packet cost of the NAT, and how it stays flat as the tables fill.
//!
//! Every measured iteration copies one packet template (real bytes, valid checksums) into a
//! work buffer and runs it through the NAT; flows are visited round-robin, the fair and
//! cache-unfriendly order. The `copy_only` rows measure that copy alone, and the linear
//! references (`linear_array`, `linked_list`, `addon_model`) pay it too, so all rows are
//! comparable.
//!
//! `cargo bench --bench translate` measures; `cargo test --benches` runs each case once.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "support/mod.rs"]
mod support;

use lwip_snat::{Context, Protocol, Verdict};
use support::addon::AddOnModel;
use support::{BenchNat, Layout, Linear, Templates, Traffic, INBOUND, OUTBOUND, STRIDE};

/// One fill level: a NAT with `traffic.flows` live TCP and as many live UDP sessions.
struct Fill {
    nat: Box<BenchNat>,
    traffic: Traffic,
}

fn fills() -> Vec<Fill> {
    support::SIZES
        .iter()
        .map(|&n| {
            let mut nat = support::new_nat();
            let traffic = support::warm(&mut nat, n);
            Fill { nat, traffic }
        })
        .collect()
}

/// Established flows, one direction: the NAT, the two linear references, the model of the
/// original add-on's walk, and the copy alone.
fn established(c: &mut Criterion, fills: &mut [Fill]) {
    type Pick = fn(&Traffic) -> &Templates;
    let cases: [(&str, Protocol, Pick, &Context); 4] = [
        ("tcp_out", Protocol::Tcp, |t| &t.tcp_out, &OUTBOUND),
        ("tcp_in", Protocol::Tcp, |t| &t.tcp_in, &INBOUND),
        ("udp_out", Protocol::Udp, |t| &t.udp_out, &OUTBOUND),
        ("udp_in", Protocol::Udp, |t| &t.udp_in, &INBOUND),
    ];
    for (name, protocol, pick, ctx) in cases {
        let mut group = c.benchmark_group(format!("established/{name}"));
        group.throughput(criterion::Throughput::Elements(1));
        for fill in fills.iter_mut() {
            let n = fill.traffic.flows;
            let templates = pick(&fill.traffic);
            let nat = &mut fill.nat;
            let mut cursor = 0;
            group.bench_with_input(BenchmarkId::new("lwip_snat", n), &n, |b, _| {
                support::round_robin(b, templates, &mut cursor, |p| nat.process(p, ctx, support::NOW))
            });
            for (label, layout) in [("linear_array", Layout::Array), ("linked_list", Layout::List)] {
                let mut linear = Linear::from_nat(nat, protocol, layout);
                assert_eq!(linear.len(), n);
                support::assert_same_translation(nat, |p| linear.process(p, ctx, support::NOW), templates, ctx);
                let mut cursor = 0;
                group.bench_with_input(BenchmarkId::new(label, n), &n, |b, _| {
                    support::round_robin(b, templates, &mut cursor, |p| linear.process(p, ctx, support::NOW))
                });
            }
            // Checked on a copy: the check's lookups would reorder the measured list.
            let mut check = AddOnModel::from_nat(nat, protocol);
            support::assert_same_translation(nat, |p| check.process(p, ctx, support::NOW), templates, ctx);
            let mut addon = AddOnModel::from_nat(nat, protocol);
            assert_eq!(addon.len(), n);
            let mut cursor = 0;
            group.bench_with_input(BenchmarkId::new("addon_model", n), &n, |b, _| {
                support::round_robin(b, templates, &mut cursor, |p| addon.process(p, ctx, support::NOW))
            });
            let mut cursor = 0;
            group.bench_with_input(BenchmarkId::new("copy_only", n), &n, |b, _| {
                support::round_robin(b, templates, &mut cursor, |p| {
                    if p[0] == 0x45 {
                        Verdict::Pass
                    } else {
                        Verdict::Held
                    }
                })
            });
        }
        group.finish();
    }
}

/// An ICMP port unreachable from outside, about a flow's translated UDP datagram: outer and
/// embedded headers and all four checksums rewritten.
fn icmp_error(c: &mut Criterion, fills: &mut [Fill]) {
    let mut group = c.benchmark_group("icmp_error_in");
    group.throughput(Throughput::Elements(1));
    for fill in fills.iter_mut() {
        let n = fill.traffic.flows;
        let (nat, templates) = (&mut fill.nat, &fill.traffic.icmp_error_in);
        let mut cursor = 0;
        group.bench_with_input(BenchmarkId::new("lwip_snat", n), &n, |b, _| {
            support::round_robin(b, templates, &mut cursor, |p| nat.process(p, &INBOUND, support::NOW))
        });
    }
    group.finish();
}

/// A new flow's first packet: lookup miss, port allocation, host quota, insert, rewrite.
/// Creations are timed in batches of `CHURN_BATCH`; between batches the new sessions are
/// removed again (untimed) so the table stays at its fill level.
fn create(c: &mut Criterion) {
    let levels = [16, 256, 1024, 4096, support::NEAR_FULL];
    for (name, protocol) in [("create/tcp", Protocol::Tcp), ("create/udp", Protocol::Udp)] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(1));
        for n in levels {
            let mut nat = support::new_nat();
            let traffic = support::warm(&mut nat, n);
            drop(traffic);
            for (label, taken) in [("port_kept", false), ("port_taken", true)] {
                let (syns, datagrams) = support::churn(n, taken);
                let templates = if protocol == Protocol::Tcp { &syns } else { &datagrams };
                let mut work = [0u8; STRIDE];
                for i in 0..templates.len() {
                    let verdict = nat.process(templates.load(i, &mut work), &OUTBOUND, support::NOW);
                    assert_eq!(verdict, Verdict::Translated, "{name} {label} at {n}");
                }
                support::drop_churn(&mut nat);
                group.bench_with_input(BenchmarkId::new(label, n), &n, |b, _| {
                    b.iter_custom(|iters| timed_creations(&mut nat, templates, iters))
                });
                assert_eq!(nat.sessions_in_use(protocol), n, "churn removed again");
            }
        }
        group.finish();
    }
}

fn timed_creations(nat: &mut BenchNat, templates: &Templates, iters: u64) -> Duration {
    let mut work = [0u8; STRIDE];
    let mut elapsed = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let batch = (iters - done).min(templates.len() as u64) as usize;
        let start = Instant::now();
        for i in 0..batch {
            black_box(nat.process(templates.load(i, &mut work), &OUTBOUND, support::NOW));
        }
        elapsed += start.elapsed();
        support::drop_churn(nat);
        done += batch as u64;
    }
    elapsed
}

/// A UDP datagram of 3000 bytes sent in three fragments (1500-byte MTU) from inside: two are
/// held, the third completes the datagram. Fragments are only read, never rewritten (the whole
/// datagram comes back through `Nat::reassembled`), so the same bytes serve every iteration.
fn reassemble(c: &mut Criterion) {
    let mut group = c.benchmark_group("reassemble");
    // Three packets per iteration.
    group.throughput(Throughput::Elements(3));
    let (fragments, whole) = support::fragmented_udp(3000, 1500);
    assert_eq!(fragments.len(), 3);
    for (label, order) in [("in_order", [0, 1, 2]), ("last_first", [2, 0, 1])] {
        let mut nat = support::new_nat();
        let mut frames: Vec<Vec<u8>> = order.iter().map(|&i| fragments[i].clone()).collect();
        let run = |nat: &mut BenchNat, frames: &mut [Vec<u8>]| {
            let [a, b, last] = frames else { unreachable!("three fragments") };
            let held = [nat.process(a, &OUTBOUND, support::NOW), nat.process(b, &OUTBOUND, support::NOW)];
            (held, nat.process(last, &OUTBOUND, support::NOW))
        };
        let (held, done) = run(&mut nat, &mut frames);
        assert_eq!((held, done), ([Verdict::Held; 2], Verdict::Reassembled(20 + whole.len())), "{label}");
        assert_eq!(&nat.reassembled()[20..], &whole[..], "{label}: reassembled payload");
        assert!(frames.iter().zip(order).all(|(f, i)| *f == fragments[i]), "fragments left as they were");
        group.bench_function(label, |b| {
            b.iter(|| {
                let (_, done) = run(&mut nat, &mut frames);
                assert!(matches!(done, Verdict::Reassembled(_)));
                black_box(done)
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let mut fills = fills();
    established(c, &mut fills);
    icmp_error(c, &mut fills);
    drop(fills);
    create(c);
    reassemble(c);
}

criterion_group! {
    name = translate;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(translate);
