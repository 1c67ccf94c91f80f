//! The C API: one statically allocated [`Nat`] behind `extern "C"` functions.
//!
//! This module is the crate's only unsafe boundary. The rules it keeps, after rustls-ffi:
//! every pointer is checked and NULL gives [`lwip_snat_err_t::LWIP_SNAT_ERR_NULL`]; out-params
//! are written only on success; structs read from C hold only integer fields (so any bytes C
//! passes are valid values) and are validated before use; result codes have fixed numbers that
//! are never reused. `include/lwip_snat.h` is generated from these files by `build.rs`.
//!
//! All calls are meant to come from lwIP's core context (the tcpip thread with the core lock,
//! or the NO_SYS main loop). A call made while another one runs — from a `foreach` callback,
//! an interrupt or a thread that forgot the lock — is refused with
//! [`lwip_snat_err_t::LWIP_SNAT_ERR_BUSY`] instead of touching the tables. The guard is an
//! atomic compare-and-swap of a flag where the target has one (`target_has_atomic = "8"`), so
//! two threads never both get in. Cores without compare-and-swap (Cortex-M0/M0+, thumbv6m)
//! fall back to an atomic load and store: that still refuses re-entry from a callback or an
//! interrupt that arrives while a call runs, but two threads can pass the check together, so
//! there callers must hold lwIP's core lock (`LOCK_TCPIP_CORE`) or stay in the tcpip thread.
//!
//! This file holds the instance and the guard every call goes through; the rest is one file
//! per concern (declared below).
//!
//! Uses the core's public items; the core uses only [`hide_ref`] (`wire::checksum`).
#![allow(unsafe_code, non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::Nat;

// cbindgen writes the functions in the order it reads them: keep these modules in this order
// (each on its own, so rustfmt leaves the order alone).
mod types;

mod convert;

mod setup;

mod packets;

mod sessions;

mod names;

pub use names::*;
pub use packets::*;
pub use sessions::*;
pub use setup::*;
pub use types::*;

use lwip_snat_err_t::*;

/// The one instance, in `.bss`/`.data`, never on the heap; see the module doc for the guard.
/// Laid out as declared (`repr(C)`), the small fields first: the guard then reaches `busy` and
/// `ready` at the instance's own address and the next byte, not at offsets past the NAT's
/// 12 KiB, each of which cost an instruction more to form.
#[repr(C)]
struct Instance {
    busy: AtomicBool,
    /// Whether `lwip_snat_init` succeeded; written only inside `enter`.
    ready: UnsafeCell<bool>,
    /// The C port check the NAT's [`crate::PortCheck`] hands over to; written only inside `enter`.
    port_check: UnsafeCell<lwip_snat_port_check_fn>,
    nat: UnsafeCell<Nat>,
}

// SAFETY: `ready`, `port_check` and `nat` are only reached through `enter`, which lets one call
// at a time in (see `claim` for cores without compare-and-swap).
unsafe impl Sync for Instance {}

static INSTANCE: Instance = Instance {
    busy: AtomicBool::new(false),
    ready: UnsafeCell::new(false),
    port_check: UnsafeCell::new(None),
    nat: UnsafeCell::new(Nat::new()),
};

/// Sets `busy` if it was clear; false when another call holds it. `SWAP`: by a swap, which
/// writes `true` where it already was (changing nothing) and whose exclusive-access loop has
/// no exit of its own to clear: the shared guard's, 12 bytes less. Otherwise by a
/// compare-and-swap: the per-packet guard's, with which the M4 runs an established packet in
/// 1 to 4 instructions fewer, a chained one in 3 to 7 fewer (`.ci/cortex-m measure`).
#[cfg(target_has_atomic = "8")]
#[inline(always)]
fn claim<const SWAP: bool>(busy: &AtomicBool) -> bool {
    if SWAP {
        !busy.swap(true, Ordering::Acquire)
    } else {
        busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
}

/// Without compare-and-swap: a load then a store, exclusive only within one thread (see the
/// module doc).
#[cfg(not(target_has_atomic = "8"))]
#[inline(always)]
fn claim<const SWAP: bool>(busy: &AtomicBool) -> bool {
    if busy.load(Ordering::Acquire) {
        return false;
    }
    busy.store(true, Ordering::Release);
    true
}

/// Claims the state for one call: `LWIP_SNAT_ERR_BUSY` while another call holds it, and
/// `LWIP_SNAT_ERR_NOT_INIT` (released again) when `need_ready` is not 0 and `lwip_snat_init`
/// has not succeeded; `LWIP_SNAT_OK` when the call holds it. Never inlined: every C function
/// shares the guard's atomic sequence.
///
/// `need_ready` is a word, not a `bool`: a caller that needs `lwip_snat_init` and holds a
/// pointer it has tested for NULL passes that pointer's address (see `enter_ready_by`), which
/// is already in the register, rather than setting it to 1.
///
/// The answer is the code with the NAT beside it (the NAT's address whatever the code, to be
/// used only after `LWIP_SNAT_OK`), not a `Result`: a `Result` came back as a tag register
/// and one register for the NAT or the code, so each caller tested the tag and then moved the
/// NAT or the code into the first register; the code in the first register is its own test
/// and already where a refused call returns it.
#[inline(never)]
fn acquire(need_ready: usize) -> (lwip_snat_err_t, *mut Nat) {
    // The NAT's address hidden (see `hide`): the same in both arms, it would otherwise be a
    // constant that the optimiser carries into every function of the NAT the callers call.
    let nat = hide(instance_nat(core::ptr::from_ref(&INSTANCE)));
    match claim_state::<true>(&INSTANCE, need_ready) {
        Ok(_) => (LWIP_SNAT_OK, nat),
        Err(refused) => (refused, nat),
    }
}

/// `acquire` where it is called: only the per-packet call takes it so, where the two calls of
/// the shared guard cost more instructions than its dozen bytes of code.
#[inline(always)]
fn acquire_in_line(need_ready: bool) -> Result<*mut Nat, lwip_snat_err_t> {
    let instance = if HIDE_INSTANCE {
        // SAFETY: `hide` hands the static's address back unchanged; a shared reference to it,
        // as `&INSTANCE` is (its fields written only through their cells or atomically).
        unsafe { &*hide(core::ptr::from_ref(&INSTANCE).cast_mut()) }
    } else {
        &INSTANCE
    };
    claim_state::<false>(instance, usize::from(need_ready))
}

/// Where the in-line guard hides an address from the optimiser (see `hide`), chosen per target
/// by flash measured. On Arm the instance's: the NAT's (the instance's + 8) is then formed only
/// on the way into the NAT, not before the packet's checks (thumbv7em minimal 4 bytes less,
/// thumbv6m full 24), and the release goes through it. Elsewhere the NAT's pointer after the
/// guard, released through the static (on rv32imc the instance's form cost 40 bytes).
const HIDE_INSTANCE: bool = cfg!(target_arch = "arm");

/// The guard's work, for `acquire` (`SWAP`, see `claim`) and `acquire_in_line`.
#[inline(always)]
fn claim_state<const SWAP: bool>(instance: &Instance, need_ready: usize) -> Result<*mut Nat, lwip_snat_err_t> {
    let need_ready = need_ready != 0;
    if !claim::<SWAP>(&instance.busy) {
        return Err(LWIP_SNAT_ERR_BUSY);
    }
    // SAFETY: this call set `busy`, so no reference to `ready` exists (see `enter`).
    let ready = unsafe { *instance.ready.get() };
    // Needed and not there, both flags read (`&`, not `&&`): one test of the pair, where a
    // test of each took 8 bytes more in the shared guard. There (`SWAP`) as the two flags'
    // bytes compared, `ready` then tested as the byte it is rather than by its low bit (2 bytes
    // less); the per-packet guard, whose `need_ready` is `true`, keeps `&` (the compare made
    // the full build's `lwip_snat_process_head` 22 bytes larger).
    let refused = if SWAP { u8::from(need_ready) > u8::from(ready) } else { need_ready & !ready };
    if refused {
        instance.busy.store(false, Ordering::Release);
        return Err(LWIP_SNAT_ERR_NOT_INIT);
    }
    Ok(instance_nat(instance))
}

/// `p` as it is, its value hidden from the optimiser by an empty `asm!` that hands the register
/// back: unlike `core::hint::black_box`, which passes the value through memory (a store, an
/// address and a load on the packet path), it costs no instruction. On the architectures whose
/// inline assembly is stable; elsewhere (e.g. Xtensa) `black_box`.
#[cfg(any(target_arch = "arm", target_arch = "riscv32", target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
#[allow(clippy::pointers_in_nomem_asm_block)] // the pointer is only handed back, never followed
fn hide<T>(mut p: *mut T) -> *mut T {
    // SAFETY: the assembly is empty: it reads and writes no memory, and `p` comes back unchanged.
    unsafe { core::arch::asm!("/* {0} */", inout(reg) p, options(pure, nomem, nostack, preserves_flags)) };
    p
}

/// `p` as it is, hidden from the optimiser by `core::hint::black_box` (see above).
#[cfg(not(any(target_arch = "arm", target_arch = "riscv32", target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn hide<T>(p: *mut T) -> *mut T {
    core::hint::black_box(p)
}

/// `r` as it is, its address hidden from the optimiser by [`hide`] (no instruction where the
/// inline assembly is stable). For the core's packet path, which may not use `unsafe` itself:
/// `wire::checksum` reads a header through it so that its words are loaded again for the parse
/// that follows instead of kept (and spilled), without `black_box`'s store and load.
#[inline(always)]
pub(crate) fn hide_ref<T>(r: &T) -> &T {
    // SAFETY: `hide` hands the pointer back unchanged: it is `r`'s address, valid and shared
    // for `r`'s lifetime, and only read through (the `*mut` is `hide`'s signature, never
    // written through).
    unsafe { &*hide(core::ptr::from_ref(r).cast_mut()) }
}

/// Ends the call that `acquire` let in, handing back the call's answer `code` as it came: a
/// caller whose last act this is may then jump to it rather than call it.
#[inline(never)]
fn release(code: lwip_snat_err_t) -> lwip_snat_err_t {
    release_in_line();
    code
}

/// `release` where it is called (see `acquire_in_line`).
#[inline(always)]
fn release_in_line() {
    INSTANCE.busy.store(false, Ordering::Release);
}

/// Runs `f` with exclusive access to the NAT, or refuses (see `acquire`). `IN_LINE` puts the
/// guard in the caller (`acquire_in_line`) instead of calling the shared one.
#[inline(always)]
fn enter_with<const IN_LINE: bool>(
    need_ready: usize,
    f: impl FnOnce(&mut Nat) -> Result<(), lwip_snat_err_t>,
) -> lwip_snat_err_t {
    enter_instance::<IN_LINE>(need_ready, |_, nat| f(nat))
}

/// The NAT's place in the instance at `instance`, with the instance's provenance (no reference
/// to the field made): `instance_of` goes back from it.
#[inline(always)]
fn instance_nat(instance: *const Instance) -> *mut Nat {
    // SAFETY: only the place is computed (`addr_of!`), within the instance.
    unsafe { core::ptr::addr_of!((*instance).nat) }.cast::<Nat>().cast_mut()
}

/// The instance whose NAT is at `nat` (from `instance_nat`, as the guard hands it over): the
/// calls that write `ready` or `port_check` reach them at small offsets back from the NAT's
/// address, already in a register, rather than forming the static's address again.
///
/// # Safety
/// `nat` came from `instance_nat` (so it has the instance's provenance).
#[inline(always)]
unsafe fn instance_of(nat: *mut Nat) -> *const Instance {
    // SAFETY: `nat` lies `offset_of!(Instance, nat)` bytes into the instance per the contract.
    unsafe { nat.byte_sub(core::mem::offset_of!(Instance, nat)) }.cast::<Instance>().cast_const()
}

/// `enter_with`, `f` given the instance too (for `ready` and `port_check`, each written only
/// inside the guard).
#[inline(always)]
fn enter_instance<const IN_LINE: bool>(
    need_ready: usize,
    f: impl FnOnce(&Instance, &mut Nat) -> Result<(), lwip_snat_err_t>,
) -> lwip_snat_err_t {
    // A refusal is returned as the guard gave it, not passed through a `Result<(), _>` (whose
    // `Ok` is a number each caller would have to map back to `LWIP_SNAT_OK`).
    let nat = if IN_LINE {
        // Hidden from the optimiser (`HIDE_INSTANCE`: the instance's address in
        // `acquire_in_line`, or the NAT's pointer here): a NAT address known at build time would
        // be propagated into every function of the NAT, each access then costing an absolute
        // address. On Thumb-2 with the fast path, the NAT's pointer hidden again, a value of its
        // own: the release below goes through it, and the function, which keeps it on the
        // stack, reloads it in one instruction at its two exits after the NAT's calls, where
        // the instance's address was formed again (`movw`, `movt`; full 18 bytes less). Without
        // the fast path the instance's address stays in a register, and a second value had the
        // release written out at each exit (minimal 16 bytes more); on thumbv6m, which loads the
        // address from a literal, the second value cost the full build 76 bytes.
        let acquired = acquire_in_line(need_ready != 0);
        let hide_nat = !HIDE_INSTANCE || cfg!(all(feature = "fast-path", target_feature = "thumb2"));
        let acquired = if hide_nat { acquired.map(hide) } else { acquired };
        match acquired {
            Ok(nat) => nat,
            Err(refused) => return refused,
        }
    } else {
        match acquire(need_ready) {
            (LWIP_SNAT_OK, nat) => nat,
            (refused, _) => return refused,
        }
    };
    // SAFETY: both guards hand over `instance_nat`'s pointer (hidden or not).
    let instance = unsafe { &*instance_of(nat) };
    // SAFETY: `acquire` set `busy` for this call, so no other reference to the NAT exists:
    // with compare-and-swap in any thread, without it in this one (the contract for such cores
    // excludes calls from other threads). The reference does not outlive `f`.
    let result = f(instance, unsafe { &mut *nat });
    if IN_LINE {
        // Released through the instance the guard claimed (`HIDE_INSTANCE`: its hidden address,
        // or the static's; the same flag).
        if HIDE_INSTANCE {
            instance.busy.store(false, Ordering::Release);
        } else {
            release_in_line();
        }
        code(result)
    } else {
        release(code(result))
    }
}

/// Runs `f` with exclusive access to the NAT, or refuses with `LWIP_SNAT_ERR_BUSY`. `f` gets
/// the instance too: the two calls that need no `lwip_snat_init` first are the two that write
/// `ready` or `port_check`.
fn enter(f: impl FnOnce(&Instance, &mut Nat) -> Result<(), lwip_snat_err_t>) -> lwip_snat_err_t {
    enter_instance::<false>(0, f)
}

/// Like `enter`, for calls that need a successful `lwip_snat_init`.
fn enter_ready(f: impl FnOnce(&mut Nat) -> Result<(), lwip_snat_err_t>) -> lwip_snat_err_t {
    enter_with::<false>(1, f)
}

/// `enter_ready` for a caller that holds `token`, a pointer argument it has found not NULL:
/// the guard is handed its address as the non-zero word that asks for `lwip_snat_init` (see
/// `acquire`), already in its register.
fn enter_ready_by<T>(token: *const T, f: impl FnOnce(&mut Nat) -> Result<(), lwip_snat_err_t>) -> lwip_snat_err_t {
    debug_assert!(!token.is_null());
    enter_with::<false>(token.addr(), f)
}

impl Instance {
    /// Records that `lwip_snat_init` succeeded.
    ///
    /// # Safety
    /// Called inside `enter` (which makes no reference to `ready`).
    unsafe fn set_ready(&self) {
        // SAFETY: inside `enter` per the contract, so no other call runs and no reference to
        // `ready` exists.
        unsafe { *self.ready.get() = true };
    }
}

fn code(result: Result<(), lwip_snat_err_t>) -> lwip_snat_err_t {
    result.err().unwrap_or(LWIP_SNAT_OK)
}

/// Reads a C struct of plain integers, or `LWIP_SNAT_ERR_NULL`. Unaligned reads, so a struct in
/// a packed buffer is no undefined behaviour either.
///
/// # Safety
/// `ptr` is NULL or points to a readable `T`.
unsafe fn read<T: Copy>(ptr: *const T) -> Result<T, lwip_snat_err_t> {
    if ptr.is_null() {
        return Err(LWIP_SNAT_ERR_NULL);
    }
    // SAFETY: readable per the contract; every `T` used here is integers only, so any bytes
    // are a valid value.
    Ok(unsafe { ptr.read_unaligned() })
}

/// The shape of every call that hands a value back: a NULL `out` is refused before anything
/// runs, `f` runs on the initialised NAT, and `out` is written only on success.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `T` (any alignment).
#[cfg(feature = "reassembly")]
unsafe fn enter_and_write<T>(out: *mut T, f: impl FnOnce(&mut Nat) -> Result<T, lwip_snat_err_t>) -> lwip_snat_err_t {
    // SAFETY: the contract is this function's.
    unsafe { write_entered::<false, T>(1, out, f) }
}

/// `enter_and_write` for a caller that holds `token`, a pointer argument it has found not
/// NULL, handed to the guard as its request for `lwip_snat_init` (see `enter_ready_by`).
///
/// # Safety
/// As `enter_and_write`.
#[cfg(feature = "reassembly")]
unsafe fn enter_and_write_by<U, T>(
    token: *const U,
    out: *mut T,
    f: impl FnOnce(&mut Nat) -> Result<T, lwip_snat_err_t>,
) -> lwip_snat_err_t {
    debug_assert!(!token.is_null());
    // SAFETY: the contract is this function's.
    unsafe { write_entered::<false, T>(token.addr(), out, f) }
}

/// `enter_and_write` with the guard in line (see `acquire_in_line`): the per-packet call.
///
/// # Safety
/// As `enter_and_write`.
unsafe fn enter_and_write_in_line<T>(
    out: *mut T,
    f: impl FnOnce(&mut Nat) -> Result<T, lwip_snat_err_t>,
) -> lwip_snat_err_t {
    // SAFETY: the contract is this function's.
    unsafe { write_entered::<true, T>(1, out, f) }
}

/// `enter_and_write`, the guard in line or not (see `enter_with`).
///
/// # Safety
/// As `enter_and_write`.
#[inline(always)]
unsafe fn write_entered<const IN_LINE: bool, T>(
    need_ready: usize,
    out: *mut T,
    f: impl FnOnce(&mut Nat) -> Result<T, lwip_snat_err_t>,
) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    // Written while the call holds the state: the value goes straight from the NAT into `out`,
    // not through a copy kept across the guard's release.
    enter_with::<IN_LINE>(need_ready, |nat| {
        let value = f(nat)?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write_unaligned(value) };
        Ok(())
    })
}

/// The shape of a call that takes a struct in: read it (NULL refused), check it into a core
/// value, then let `f` apply it to the initialised NAT. The port forwards' (a rule, three
/// bytes, is read field by field: see `change_rule`).
///
/// # Safety
/// `ptr` is NULL or points to a readable `C`.
#[cfg(feature = "portmap")]
unsafe fn read_and_enter<C: Copy, T>(
    ptr: *const C,
    check: impl FnOnce(C) -> Result<T, lwip_snat_err_t>,
    f: impl FnOnce(&mut Nat, T) -> Result<(), lwip_snat_err_t>,
) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    match unsafe { read(ptr) }.and_then(check) {
        Ok(value) => enter_ready_by(ptr, |nat| f(nat, value)),
        Err(e) => e,
    }
}
