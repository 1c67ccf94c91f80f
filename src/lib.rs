//! # lwip-snat
//!
//! Source NAT (NAPT) for the lwIP TCP/IP stack: `#![no_std]`, no heap, no global state.
//!
//! lwIP calls the C shim from `LWIP_HOOK_IP4_INPUT`; the shim describes the packet's route in a
//! [`Context`] and calls [`Nat::process`], which validates the IPv4 header, matches the
//! interface [`Rule`]s, finds or creates a session in the per-protocol tables and rewrites the
//! packet in place with incremental checksums. The [`Verdict`] says what lwIP must do next.
//!
//! Memory is fixed at build time (`LWIP_SNAT_MAX_*`, see [`config`]): 28 bytes per session
//! slot, 16 per tracked host (its sessions in each table, those it opened and those remote
//! senders opened), 4 per rule, 12 per port forward, plus the fragment pool. Per packet the
//! work is O(1): two hash-chain lookups whose chains hold one mapping's sessions (at most
//! `Config::mapping_sessions`) plus collisions at a load factor of at most 1.
//! The caller provides the clock (`u32` milliseconds, wrapping) and the random seed.
//!
//! Modules depend one way, lowest first: `wire` (header views), `random`, `rule`, `verdict`,
//! `stats`; `tables` (the session tables); `flow`, `rewrite`, `mss`, `reass`, `portmap`;
//! `config`; `nat` (the pipeline); `ffi` (the C API). Each module's doc names what it uses.
#![no_std]
// Only `ffi` (the C boundary) may use unsafe code.
#![deny(unsafe_code)]
// The API is documented; the inner modules the `internals` feature opens are not all.
#![cfg_attr(not(feature = "internals"), warn(missing_docs))]
// A build that leaves a feature out leaves the helpers only that feature uses unreferenced (they
// are never compiled into the image); the full build keeps both lints.
#![cfg_attr(
    not(all(
        feature = "reassembly",
        feature = "portmap",
        feature = "mss-clamp",
        feature = "fast-path",
        feature = "dump"
    )),
    allow(dead_code, unused_imports)
)]

#[cfg(any(test, feature = "std"))]
extern crate std;

/// The crate's inner modules: public with the `internals` feature (for the benches, fuzzers
/// and tests, which reach into them), private otherwise, so they are no part of the API.
macro_rules! internal_modules {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        mod $name;
    )*};
}

mod c_enum;
pub mod config;
pub mod ffi;
internal_modules!(flow, mss, nat, portmap, random, reass, rewrite, rule, stats, tables, verdict, wire);

pub use config::{Config, ConfigError, FullPolicy};
pub use nat::{Context, Eviction, Nat, PortCheck, Route};
pub use portmap::{Portmap, PortmapError};
pub use rule::{Rule, RuleError};
pub use stats::Stats;
pub use tables::{Filtering, Protocol, Session};
pub use verdict::{DropReason, IcmpRequest, Verdict};

/// The panic handler a no_std `staticlib` needs, opt-in (`panic-handler`) so that Rust firmware
/// using the rlib keeps its own. No panic is reachable in release builds; with the `panic-never`
/// feature that is proven at link time: the handler then refers to a symbol defined nowhere, so
/// any panic path that survives optimisation and `--gc-sections` fails the firmware link
/// (`.ci/cortex-m no-panic`).
#[cfg(all(feature = "panic-handler", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    #[cfg(feature = "panic-never")]
    {
        extern "C" {
            fn lwip_snat_panic_path_is_linked() -> !;
        }
        // Taking the address is enough to need the symbol; it is never called.
        core::hint::black_box(lwip_snat_panic_path_is_linked as unsafe extern "C" fn() -> !);
    }
    loop {}
}
