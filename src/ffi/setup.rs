//! Settings, interface rules and port forwards.

use core::mem::MaybeUninit;

#[cfg(feature = "portmap")]
use super::convert::portmap_error;
use super::convert::rule_error;
#[cfg(feature = "portmap")]
use super::read_and_enter;
use super::{enter, enter_ready, enter_ready_by};
use super::{lwip_snat_config, lwip_snat_err_t, lwip_snat_portmap, lwip_snat_rule};
use crate::config::{MAX_HOSTS, MAX_ICMP, MAX_PORTMAPS, MAX_RULES, MAX_TCP, MAX_UDP, REASS_BYTES, REASS_SLOTS};
use crate::Config;
use lwip_snat_err_t::*;

/// Fills `*out` with the default settings (RFC floors, full port range, address-and-port
/// dependent filtering) and an all-zero seed.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `lwip_snat_config` (any alignment).
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_config_default(out: *mut lwip_snat_config) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    // SAFETY: non-NULL and writable per the contract.
    unsafe { lwip_snat_config::write_from_core(out, &Config::DEFAULT) };
    LWIP_SNAT_OK
}

/// Resets all state (sessions, rules, counters) and starts with `cfg`, or with the defaults
/// and an all-zero seed when `cfg` is NULL. An invalid `cfg` changes nothing.
///
/// # Safety
/// `cfg` is NULL or points to a readable `lwip_snat_config`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_init(cfg: *const lwip_snat_config) -> lwip_snat_err_t {
    // The defaults are taken where they are kept, not copied first into the settings that a
    // `cfg` is checked into.
    let mut checked = MaybeUninit::uninit();
    let parsed = if cfg.is_null() {
        Ok((&Config::DEFAULT, [0, 0]))
    } else {
        // SAFETY: non-NULL and readable per the contract; `checked` is written whole by a check
        // that passes.
        unsafe {
            match lwip_snat_config::check_into(cfg, &mut checked) {
                LWIP_SNAT_OK => Ok((checked.assume_init_ref(), lwip_snat_config::seed(cfg))),
                e => Err(e),
            }
        }
    };
    match parsed {
        Ok((config, seed)) => enter(|instance, nat| {
            nat.reset_valid(*config, seed);
            // SAFETY: inside the guard.
            unsafe { instance.set_ready() };
            Ok(())
        }),
        Err(e) => e,
    }
}

/// Compares the capacities a C unit was compiled with (its `lwip_snat.h`'s `LWIP_SNAT_MAX_*` and
/// `LWIP_SNAT_REASS_*`, in the header's order) with the library's, so that a header from
/// another build than the archive is refused before arrays sized by it meet the tables:
/// `LWIP_SNAT_OK` when all match, `LWIP_SNAT_ERR_CAPACITY` otherwise. `lwip_snat_start()`
/// calls it with the capacities of the unit that calls it.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // one argument per header capacity, so C passes plain macros
pub extern "C" fn lwip_snat_check_capacities(
    max_tcp: u32,
    max_udp: u32,
    max_icmp: u32,
    max_rules: u32,
    max_hosts: u32,
    reass_slots: u32,
    reass_bytes: u32,
    max_portmaps: u32,
) -> lwip_snat_err_t {
    // One test of all against numbers built in (an array compare would keep the library's
    // array in flash and call memcmp): the wrapping differences or'ed, 0 exactly when each
    // is 0, so when every capacity matches. Differences rather than xors: a subtraction of
    // a constant below 256 has a 2-byte form, which LLVM takes where it can (xor has none).
    let [tcp, udp, icmp, rules, hosts, slots, bytes, portmaps] = LIBRARY_CAPACITIES;
    let differences = max_tcp.wrapping_sub(tcp)
        | max_udp.wrapping_sub(udp)
        | max_icmp.wrapping_sub(icmp)
        | max_rules.wrapping_sub(rules)
        | max_hosts.wrapping_sub(hosts)
        | reass_slots.wrapping_sub(slots)
        | reass_bytes.wrapping_sub(bytes)
        | max_portmaps.wrapping_sub(portmaps);
    if differences == 0 {
        LWIP_SNAT_OK
    } else {
        LWIP_SNAT_ERR_CAPACITY
    }
}

/// The library's capacities in `lwip_snat_check_capacities`' order, as the `u32`s C passes.
const LIBRARY_CAPACITIES: [u32; 8] = {
    let library = [MAX_TCP, MAX_UDP, MAX_ICMP, MAX_RULES, MAX_HOSTS, REASS_SLOTS, REASS_BYTES, MAX_PORTMAPS];
    let mut out = [0; 8];
    let mut i = 0;
    while i < library.len() {
        assert!(library[i] <= u32::MAX as usize, "a capacity does not fit the C API's u32");
        out[i] = library[i] as u32;
        i += 1;
    }
    out
};

/// Changes the settings at run time: filtering, timeouts, port range, host quota, reject and
/// MSS clamping take effect from the next packet or tick, for live sessions too (a shorter
/// timeout expires them sooner, a more open filter admits more). Sessions, rules, port
/// forwards and counters stay. `cfg->seed` is ignored: the tables are keyed with the seed
/// given at init. An invalid `cfg` changes nothing (same checks as `lwip_snat_init`).
///
/// # Safety
/// `cfg` is NULL or points to a readable `lwip_snat_config`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_set_config(cfg: *const lwip_snat_config) -> lwip_snat_err_t {
    let mut checked = MaybeUninit::uninit();
    // SAFETY: NULL or readable per the contract.
    match unsafe { lwip_snat_config::check_into(cfg, &mut checked) } {
        LWIP_SNAT_OK => enter_ready(|nat| {
            // SAFETY: written whole by the check, which passed.
            nat.set_valid_config(unsafe { checked.assume_init() });
            Ok(())
        }),
        e => e,
    }
}

/// Writes the settings in force into `*out` (seed all zero), e.g. to change one field with
/// `lwip_snat_set_config`.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `lwip_snat_config` (any alignment).
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_get_config(out: *mut lwip_snat_config) -> lwip_snat_err_t {
    if out.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    enter_ready_by(out, |nat| {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { lwip_snat_config::write_from_core(out, nat.config()) };
        Ok(())
    })
}

/// Installs an interface rule.
///
/// # Safety
/// `rule` is NULL or points to a readable `lwip_snat_rule`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_rule_add(rule: *const lwip_snat_rule) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    unsafe { change_rule(rule, true) }
}

/// Removes an interface rule. Sessions it created stay until they expire.
///
/// # Safety
/// `rule` is NULL or points to a readable `lwip_snat_rule`.
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_rule_remove(rule: *const lwip_snat_rule) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    unsafe { change_rule(rule, false) }
}

/// Installs (`add`) or removes an interface rule: the two calls share the reading and checks.
///
/// # Safety
/// `rule` is NULL or points to a readable `lwip_snat_rule`.
#[inline(never)]
unsafe fn change_rule(rule: *const lwip_snat_rule, add: bool) -> lwip_snat_err_t {
    if rule.is_null() {
        return LWIP_SNAT_ERR_NULL;
    }
    // Field by field (bytes: any alignment), not the struct as one value (two loads and a
    // merge, then each byte taken out again: 2 bytes more in the full build).
    // SAFETY: non-NULL and readable per the contract.
    let fields = unsafe {
        lwip_snat_rule {
            kind: (*rule).kind,
            src_netif_idx: (*rule).src_netif_idx,
            out_netif_idx: (*rule).out_netif_idx,
        }
    };
    match fields.to_core() {
        // `rule`, not NULL, asks the guard for `lwip_snat_init` (see `enter_ready_by`).
        Ok(checked) => enter_ready_by(rule, |nat| {
            if add { nat.add_rule(checked) } else { nat.remove_rule(checked) }.map_err(rule_error)
        }),
        Err(e) => e,
    }
}

/// Forwards `map->ext_port` on the address of `map->out_netif_idx` to
/// `map->inside_addr`:`map->inside_port` (TCP or UDP), whoever sends to it.
/// `LWIP_SNAT_ERR_ARG` for port 0 (either side) and for an inside address that cannot be a
/// host: 0.0.0.0/8, loopback 127/8, multicast 224/4, class E 240/4 (which holds
/// 255.255.255.255).
///
/// # Safety
/// `map` is NULL or points to a readable `lwip_snat_portmap`.
#[cfg(feature = "portmap")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_portmap_add(map: *const lwip_snat_portmap) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    unsafe { change_portmap(map, true) }
}

/// Removes a port forward and the sessions that came in through it.
///
/// # Safety
/// `map` is NULL or points to a readable `lwip_snat_portmap`.
#[cfg(feature = "portmap")]
#[no_mangle]
pub unsafe extern "C" fn lwip_snat_portmap_remove(map: *const lwip_snat_portmap) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    unsafe { change_portmap(map, false) }
}

/// Installs (`add`) or removes a port forward: the two calls share the reading and checks.
///
/// # Safety
/// `map` is NULL or points to a readable `lwip_snat_portmap`.
#[cfg(feature = "portmap")]
#[inline(never)]
unsafe fn change_portmap(map: *const lwip_snat_portmap, add: bool) -> lwip_snat_err_t {
    // SAFETY: NULL or readable per the contract.
    unsafe {
        read_and_enter(map, lwip_snat_portmap::to_core, |nat, map| {
            if add { nat.add_portmap(map) } else { nat.remove_portmap(map) }.map_err(portmap_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every capacity that differs from the library's, by any amount (wrapping too), is
    /// refused; all of them matching is accepted.
    #[test]
    fn capacities_are_accepted_only_when_all_match() {
        let check = |c: [u32; 8]| lwip_snat_check_capacities(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
        assert_eq!(check(LIBRARY_CAPACITIES), LWIP_SNAT_OK);
        for which in 0..8 {
            for delta in [1, 2, 64, 0x100, 0x8000_0000, u32::MAX, u32::MAX - 1] {
                let mut c = LIBRARY_CAPACITIES;
                c[which] = c[which].wrapping_add(delta);
                assert_eq!(check(c), LWIP_SNAT_ERR_CAPACITY, "capacity {which} off by {delta:#x}");
            }
            for value in [0, u32::MAX].into_iter().filter(|&value| value != LIBRARY_CAPACITIES[which]) {
                let mut c = LIBRARY_CAPACITIES;
                c[which] = value;
                assert_eq!(check(c), LWIP_SNAT_ERR_CAPACITY, "capacity {which} as {value:#x}");
            }
        }
    }
}
