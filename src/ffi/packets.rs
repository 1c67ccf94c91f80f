//! Packets: processing one, and handing back held fragments and reassembled datagrams.

#[cfg(feature = "reassembly")]
use super::{enter_and_write, enter_and_write_by};
use super::{enter_and_write_in_line, read};
use super::{lwip_snat_ctx, lwip_snat_err_t, lwip_snat_verdict};
use crate::Nat;
use lwip_snat_err_t::*;

/// Runs one IPv4 packet through the NAT, rewriting it in place when it is translated, and
/// writes what to do next into `*verdict`. `pkt` starts at the IPv4 header; bytes after its
/// total length are ignored. `now_ms` is a wrapping millisecond clock (`sys_now()`).
/// Whatever the bytes, the outcome is a verdict (malformed packets are dropped and counted).
///
/// # Safety
/// `pkt` is NULL or points to `len` writable bytes that nothing else accesses during the call;
/// `ctx` is NULL or readable; `verdict` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_process(
    pkt: *mut u8,
    len: usize,
    ctx: *const lwip_snat_ctx,
    now_ms: u32,
    verdict: *mut lwip_snat_verdict,
) -> lwip_snat_err_t {
    // A datagram in one span is a chain's head that holds all of it: the one packet function
    // serves both calls, so the firmware links one copy of the fast path.
    // SAFETY: the contract of `lwip_snat_process_head` is this function's.
    unsafe { lwip_snat_process_head(pkt, len, len, ctx, now_ms, verdict) }
}

/// The per-packet calls: checks the arguments, runs the NAT on the `len` bytes at `pkt` as the
/// head of a datagram of `datagram_len` bytes, and writes the verdict. The body of
/// `lwip_snat_process_head`, which `lwip_snat_process` calls: both C entry points share it and
/// the fast path inside it, and a caller of `lwip_snat_process_head` reaches it without a call
/// in between.
///
/// # Safety
/// As `lwip_snat_process`.
#[inline(always)]
unsafe fn run_packet(
    pkt: *mut u8,
    len: usize,
    datagram_len: usize,
    ctx: *const lwip_snat_ctx,
    now_ms: u32,
    verdict: *mut lwip_snat_verdict,
) -> lwip_snat_err_t {
    if pkt.is_null() || verdict.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    if len > isize::MAX as usize {
        return LWIP_SNAT_ERR_ARG;
    }
    // SAFETY: NULL or readable per the contract.
    let ctx = match unsafe { read(ctx) }.and_then(lwip_snat_ctx::to_core) {
        Ok(ctx) => ctx,
        Err(e) => return e,
    };
    let process = |nat: &mut Nat| {
        // SAFETY: non-NULL, `len` writable bytes not aliased during the call, len <= isize::MAX.
        let head = unsafe { core::slice::from_raw_parts_mut(pkt, len) };
        nat.process_head_as(head, datagram_len, &ctx, now_ms, lwip_snat_verdict::words_from_core)
            .ok_or(LWIP_SNAT_ERR_NEED_WHOLE)
    };
    // SAFETY: non-NULL and writable per the contract, for the whole struct (its layout is checked below).
    unsafe { enter_and_write_in_line(verdict.cast::<[u32; 3]>(), process) }
}

/// The layout `lwip_snat_verdict::words_from_core` writes (checked at build time).
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<lwip_snat_verdict>() == size_of::<[u32; 3]>());
    assert!(offset_of!(lwip_snat_verdict, len) == 0 && offset_of!(lwip_snat_verdict, mtu) == 4);
    assert!(offset_of!(lwip_snat_verdict, action) == 6 && offset_of!(lwip_snat_verdict, drop_reason) == 7);
    assert!(offset_of!(lwip_snat_verdict, icmp_type) == 8 && offset_of!(lwip_snat_verdict, icmp_code) == 9);
};

/// `lwip_snat_process` for a datagram held in a chain of buffers (an lwIP `PBUF_POOL` chain):
/// `pkt` is its first buffer (`len` bytes, from the IPv4 header on) and `datagram_len` the
/// length of the whole (`p->tot_len`). When the headers in `pkt` decide the packet, translates
/// it there in place (only the bytes that change are written; the rest of the chain is
/// neither read nor needed) and returns `LWIP_SNAT_OK` with `*verdict` exactly as
/// `lwip_snat_process` would give for the whole. Returns `LWIP_SNAT_ERR_NEED_WHOLE`, having
/// read nothing into state, when it needs the whole datagram in one span: an ICMP error, a
/// fragment, or headers that run past `pkt`. `datagram_len` is never trusted to reach past
/// `pkt`.
///
/// # Safety
/// As `lwip_snat_process`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn lwip_snat_process_head(
    pkt: *mut u8,
    len: usize,
    datagram_len: usize,
    ctx: *const lwip_snat_ctx,
    now_ms: u32,
    verdict: *mut lwip_snat_verdict,
) -> lwip_snat_err_t {
    // SAFETY: the contract of `run_packet` is this function's.
    unsafe { run_packet(pkt, len, datagram_len, ctx, now_ms, verdict) }
}

// Only a build with `reassembly` holds fragments or reassembles datagrams: without it the core
// never gives these two verdicts, and the two calls are not in the C API.

/// After `LWIP_SNAT_RELEASE`: copies the next fragment the NAT held of the released datagram
/// into `buf` (room for `cap` bytes; a smaller `buf` gets smaller fragments) and writes its length to `*len`, 0 when none is left. A NULL `buf` or a `cap`
/// below 28 discards the rest. Feed each to `ip4_input()` before the next call.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes; `len` is NULL or writable.
#[cfg(feature = "reassembly")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_released(buf: *mut u8, cap: usize, len: *mut usize) -> lwip_snat_err_t {
    let next = |nat: &mut Nat| {
        let out: &mut [u8] = if buf.is_null() {
            &mut []
        } else {
            // SAFETY: `buf` points to `cap` writable bytes per the contract, and cannot overlap
            // the NAT's own pool, which C never sees.
            unsafe { core::slice::from_raw_parts_mut(buf, cap) }
        };
        Ok(nat.next_released(out))
    };
    // SAFETY: NULL or writable per the contract.
    unsafe { enter_and_write(len, next) }
}

/// Copies the datagram the last `LWIP_SNAT_REASSEMBLED` verdict announced into `buf` (room for
/// `cap` bytes) and writes its length to `*len`. Call it before any other lwip_snat call.
///
/// # Safety
/// `buf` is NULL or points to `cap` writable bytes; `len` is NULL or writable.
#[cfg(feature = "reassembly")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_reassembled(buf: *mut u8, cap: usize, len: *mut usize) -> lwip_snat_err_t {
    if buf.is_null() || len.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    let copy = |nat: &mut Nat| {
        let datagram = nat.reassembled();
        if datagram.is_empty() {
            return Err(LWIP_SNAT_ERR_NO_DATAGRAM);
        }
        if datagram.len() > cap {
            return Err(LWIP_SNAT_ERR_BUFFER);
        }
        // SAFETY: `buf` has room for `cap` >= datagram.len() bytes per the contract, and it
        // cannot overlap the NAT's own pool, which C never sees.
        unsafe { core::ptr::copy_nonoverlapping(datagram.as_ptr(), buf, datagram.len()) };
        Ok(datagram.len())
    };
    // SAFETY: non-NULL and writable per the contract; `buf`, not NULL, asks the guard for
    // `lwip_snat_init` (see `enter_ready_by`).
    unsafe { enter_and_write_by(buf, len, copy) }
}
