//! The session tables' upkeep and what C sees of them: counters and a dump.

use core::ffi::c_void;

#[cfg(feature = "fast-path")]
use super::types::{
    lwip_snat_concerns, LWIP_SNAT_CONCERN_NAMED, LWIP_SNAT_CONCERN_OUTSIDE, LWIP_SNAT_CONCERN_PORTMAPPED,
    LWIP_SNAT_CONCERN_SESSIONS,
};
use super::types::{
    lwip_snat_err_t, lwip_snat_foreach_fn, lwip_snat_port_check_fn, lwip_snat_session, lwip_snat_stats,
};
use super::{enter, enter_ready, enter_ready_by, INSTANCE};
use crate::{PortCheck, Protocol};
use lwip_snat_err_t::*;

/// Removes sessions idle past their timeout. Call about once a second (the shim's timer does).
#[no_mangle]
pub extern "C" fn lwip_snat_tick(now_ms: u32) -> lwip_snat_err_t {
    upkeep(now_ms, Upkeep::Tick)
}

/// The session upkeep the C API asks for; its argument goes before it (see [`upkeep`]). A
/// removal's number holds the bits of what its argument names ([`NAMES_NETIF`],
/// [`NAMES_HOST`]): `upkeep` builds the removal from them with a mask each, not a compare.
/// A whole word: `upkeep` tests its register as it came, with no byte to zero-extend first.
#[derive(Clone, Copy)]
#[repr(u32)]
enum Upkeep {
    /// `arg`: the clock.
    Tick = 0,
    /// `arg`: the netif.
    NetifChanged = NAMES_NETIF,
    /// `arg`: the inside host.
    RemoveHost = NAMES_HOST,
    /// `arg`: unused (0).
    Flush = 4,
}

/// In an [`Upkeep`]'s number: its argument is a netif whose sessions go.
const NAMES_NETIF: u32 = 1;
/// In an [`Upkeep`]'s number: its argument is an inside host whose sessions go.
const NAMES_HOST: u32 = 2;

/// Out of line, told what to do by data (two registers): the upkeep calls share one copy of
/// `enter_ready`'s lock, readiness test and release instead of one each. The argument first:
/// it is the C call's own first argument, so the callers that have one leave it in its
/// register and only set `what` (no move of it into the second).
#[inline(never)]
fn upkeep(arg: u32, what: Upkeep) -> lwip_snat_err_t {
    enter_ready(|nat| {
        // One removal for the four: the sessions expired at the clock (tick), the netif's, the
        // host's, or (flush) all.
        let netif = (what as u32 & NAMES_NETIF != 0).then_some(arg as u8);
        let inside = (what as u32 & NAMES_HOST != 0).then_some(arg);
        let expired_at = matches!(what, Upkeep::Tick).then_some(arg);
        nat.remove_of(netif, inside, expired_at);
        Ok(())
    })
}

/// The netif's address changed or it went down: its mappings are dropped.
#[no_mangle]
pub extern "C" fn lwip_snat_netif_changed(netif_idx: u8) -> lwip_snat_err_t {
    if netif_idx == 0 {
        return LWIP_SNAT_ERR_ARG;
    }
    upkeep(netif_idx.into(), Upkeep::NetifChanged)
}

/// For the lwIP shim: the NAT's facts about each netif, which the hook reads to pass a packet
/// no rule, session or port forward concerns without calling into the NAT (it adds such a
/// packet to `passed` itself). The same place for the program's life; read and count only in
/// lwIP's core context, between lwip_snat calls. Before `lwip_snat_init` every bit is clear.
/// A shortcut, built with the `fast-path` feature.
#[cfg(feature = "fast-path")]
#[no_mangle]
pub extern "C" fn lwip_snat_netif_concerns() -> *mut lwip_snat_concerns {
    // SAFETY: computes the field's place inside the static, making no reference to it.
    unsafe { core::ptr::addr_of_mut!((*INSTANCE.nat.get()).concerns) }.cast()
}

// The core's per-netif facts are what the header says they are.
#[cfg(feature = "fast-path")]
const _: () = {
    use crate::nat::quiet::{Concerns, NAMED, OUTSIDE, PORTMAPPED, SESSIONS};
    assert!(core::mem::size_of::<Concerns>() == core::mem::size_of::<lwip_snat_concerns>());
    assert!(core::mem::align_of::<Concerns>() == core::mem::align_of::<lwip_snat_concerns>());
    assert!(core::mem::offset_of!(Concerns, passed) == core::mem::offset_of!(lwip_snat_concerns, passed));
    assert!(NAMED == LWIP_SNAT_CONCERN_NAMED && OUTSIDE == LWIP_SNAT_CONCERN_OUTSIDE);
    assert!(PORTMAPPED == LWIP_SNAT_CONCERN_PORTMAPPED && SESSIONS == LWIP_SNAT_CONCERN_SESSIONS);
};

/// Drops every session of one inside host (address in host byte order).
#[no_mangle]
pub extern "C" fn lwip_snat_remove_host(addr: u32) -> lwip_snat_err_t {
    upkeep(addr, Upkeep::RemoveHost)
}

/// Registers `check` (NULL removes it): which ports and ICMP identifiers the router's own
/// endpoints hold. The NAT then never hands them to inside hosts (port preservation and
/// allocation skip them), refuses port forwards of them (`LWIP_SNAT_ERR_PORTMAP_CONFLICT`),
/// lets inbound packets for them reach lwIP even where an older mapping's filter would take
/// them, and drops unsolicited SYNs from outside to ports nothing holds instead of letting
/// lwIP answer RST (RFC 5382 REQ-4). Without one, the NAT knows only lwIP's ephemeral range.
/// Kept across `lwip_snat_init`; may be called before it. `lwip_snat_start()` registers the
/// shim's check, which answers from lwIP's pcb lists.
///
/// # Safety
/// `check` is NULL or a function that is safe to call with any arguments whenever lwip_snat
/// runs, until it is replaced.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_set_port_check(check: lwip_snat_port_check_fn) -> lwip_snat_err_t {
    enter(|instance, nat| {
        // SAFETY: inside the guard, so no NAT call (the only reader, `c_port_check`) is running.
        unsafe { *instance.port_check.get() = check };
        nat.set_port_check(check.map(|_| c_port_check as PortCheck));
        Ok(())
    })
}

/// The NAT's [`PortCheck`] while a C one is registered: asks it.
fn c_port_check(protocol: Protocol, netif: u8, port: u16) -> bool {
    // SAFETY: called by the NAT, so inside `enter`; the cell is written only inside `enter`
    // and no reference to it outlives that write.
    let check = unsafe { *INSTANCE.port_check.get() };
    // SAFETY: callable with any arguments per `lwip_snat_set_port_check`'s contract.
    check.is_some_and(|f| unsafe { f(protocol as u8, netif, port) } != 0)
}

/// Drops every session; rules, settings and counters stay.
#[no_mangle]
pub extern "C" fn lwip_snat_flush() -> lwip_snat_err_t {
    upkeep(0, Upkeep::Flush)
}

/// Copies the counters into `*out`.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `lwip_snat_stats`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_stats(out: *mut lwip_snat_stats) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    enter_ready_by(out, |nat| {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { lwip_snat_stats::write_from_core(nat, out) };
        Ok(())
    })
}

/// Calls `cb(session, arg)` once per live session (a `conntrack -L` style dump). `now_ms` is
/// the clock the idle times are computed against.
///
/// # Safety
/// `cb` is NULL or a function that is safe to call with a valid session pointer and `arg`.
#[cfg(feature = "dump")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_foreach(cb: lwip_snat_foreach_fn, arg: *mut c_void, now_ms: u32) -> lwip_snat_err_t {
    let Some(cb) = cb else {
        return LWIP_SNAT_ERR_NULL;
    };
    enter_ready(|nat| {
        // `for_each`, not a `for` loop: the walk then compiles to nested loops (`Nat::sessions`).
        nat.sessions().for_each(|(protocol, session)| {
            let info = lwip_snat_session::words_from_core(nat, protocol, session, now_ms);
            // SAFETY: `cb` is callable per the contract; `info` outlives the call and holds a
            // `lwip_snat_session`'s bytes, aligned for it (the layout is checked below). Calls
            // it makes back into this API find `busy` set and are refused.
            unsafe { cb(info.as_ptr().cast(), arg) };
        });
        Ok(())
    })
}

/// The layout `lwip_snat_session::words_from_core` builds (checked at build time).
#[cfg(feature = "dump")]
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    type S = lwip_snat_session;
    assert!(size_of::<S>() == size_of::<[u32; 7]>() && align_of::<S>() <= align_of::<[u32; 7]>());
    assert!(offset_of!(S, inside_addr) == 0 && offset_of!(S, remote_addr) == 4);
    assert!(offset_of!(S, idle_ms) == 8 && offset_of!(S, timeout_ms) == 12);
    assert!(offset_of!(S, inside_port) == 16 && offset_of!(S, ext_port) == 18);
    assert!(offset_of!(S, remote_port) == 20 && offset_of!(S, proto) == 22 && offset_of!(S, ext_netif_idx) == 23);
    assert!(offset_of!(S, state) == 24 && offset_of!(S, admitted) == 25 && offset_of!(S, evictable) == 26);
};
