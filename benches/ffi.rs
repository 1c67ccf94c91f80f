//! What the C entry point costs on top of the Rust core: the same established-flow
//! packets through `lwip_snat_process` (the call the lwIP shim makes) and through
//! `Nat::process` on a NAT of the same, build-time capacities.
//!
//! The C API keeps one NAT in a `static` sized by `LWIP_SNAT_MAX_*` (default 256 TCP and 128
//! UDP sessions), so the fills here stop at the UDP capacity. Each call checks its pointers,
//! converts the context, takes the re-entry guard and converts the verdict: that is the
//! difference between the two rows.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "support/mod.rs"]
mod support;

use lwip_snat::config::{MAX_TCP, MAX_UDP};
use lwip_snat::ffi::{self, lwip_snat_action, lwip_snat_err_t, lwip_snat_route, lwip_snat_rule_kind};
use lwip_snat::{Context, Nat, Route, Verdict};
use support::{Templates, Traffic, INBOUND, OUTBOUND};

/// The C API's view of a context.
fn c_ctx(ctx: &Context) -> ffi::lwip_snat_ctx {
    let (route, out_netif_idx, out_addr, out_mtu) = match ctx.route {
        Route::Local { netif, mtu } => (lwip_snat_route::LWIP_SNAT_ROUTE_LOCAL, netif, 0, mtu),
        Route::Forward { out_netif, out_addr, out_mtu } => {
            (lwip_snat_route::LWIP_SNAT_ROUTE_FORWARD, out_netif, out_addr, out_mtu)
        }
    };
    ffi::lwip_snat_ctx { out_addr, out_mtu, in_netif_idx: ctx.in_netif, route: route as u8, out_netif_idx }
}

/// `lwip_snat_process` on a packet, its verdict mapped back to the core's for the checks.
fn c_process(packet: &mut [u8], ctx: &ffi::lwip_snat_ctx) -> Verdict {
    let mut verdict = ffi::lwip_snat_verdict { len: 0, mtu: 0, action: 0, drop_reason: 0, icmp_type: 0, icmp_code: 0 };
    // SAFETY: `packet` is `len` writable bytes that nothing else touches during the call; `ctx`
    // and `verdict` are valid for reads and writes.
    let err = unsafe { ffi::lwip_snat_process(packet.as_mut_ptr(), packet.len(), ctx, support::NOW, &mut verdict) };
    match (err, verdict.action) {
        (lwip_snat_err_t::LWIP_SNAT_OK, a) if a == lwip_snat_action::LWIP_SNAT_TRANSLATED as u8 => Verdict::Translated,
        _ => Verdict::Pass,
    }
}

/// Resets the C API's NAT: no per-host quota (16 hosts share the table), a LAN → WAN rule.
fn c_init() {
    let mut cfg = std::mem::MaybeUninit::<ffi::lwip_snat_config>::uninit();
    // SAFETY: `cfg` is writable; on success it is initialised.
    let cfg = unsafe {
        assert_eq!(ffi::lwip_snat_config_default(cfg.as_mut_ptr()), lwip_snat_err_t::LWIP_SNAT_OK);
        cfg.assume_init()
    };
    let cfg = ffi::lwip_snat_config { host_quota: 0, seed: *b"lwip-snat-bench!", ..cfg };
    let rule = ffi::lwip_snat_rule {
        kind: lwip_snat_rule_kind::LWIP_SNAT_RULE_SOURCE as u8,
        src_netif_idx: support::LAN,
        out_netif_idx: 0,
    };
    // SAFETY: both pointers are to valid structs.
    unsafe {
        assert_eq!(ffi::lwip_snat_init(&cfg), lwip_snat_err_t::LWIP_SNAT_OK);
        assert_eq!(ffi::lwip_snat_rule_add(&rule), lwip_snat_err_t::LWIP_SNAT_OK);
    }
}

fn ffi_cost(c: &mut Criterion) {
    type Pick = fn(&Traffic) -> &Templates;
    let cases: [(&str, Pick, &Context); 2] =
        [("tcp_out", |t| &t.tcp_out, &OUTBOUND), ("tcp_in", |t| &t.tcp_in, &INBOUND)];
    let fills = [16, MAX_UDP.min(MAX_TCP)];
    for (name, pick, ctx) in cases {
        let mut group = c.benchmark_group(format!("ffi/{name}"));
        group.throughput(Throughput::Elements(1));
        let c_context = c_ctx(ctx);
        for n in fills {
            c_init();
            let traffic = support::warm_with(|packet, ctx| c_process(packet, &c_ctx(ctx)), n);
            let mut cursor = 0;
            group.bench_with_input(BenchmarkId::new("lwip_snat_process", n), &n, |b, _| {
                support::round_robin(b, pick(&traffic), &mut cursor, |p| c_process(p, &c_context))
            });
            // The Rust core with the same capacities and the same flows.
            let mut nat: Box<Nat> = Box::default();
            let config = lwip_snat::Config { host_quota: 0, ..lwip_snat::Config::DEFAULT };
            nat.reset(config, [1, 2]).expect("valid config");
            nat.add_rule(lwip_snat::Rule::Source(support::LAN)).expect("room for a rule");
            let traffic = support::warm_with(|packet, ctx| nat.process(packet, ctx, support::NOW), n);
            let mut cursor = 0;
            group.bench_with_input(BenchmarkId::new("nat_process", n), &n, |b, _| {
                support::round_robin(b, pick(&traffic), &mut cursor, |p| nat.process(p, ctx, support::NOW))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = ffi_benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = ffi_cost
}
criterion_main!(ffi_benches);
