//! Between the C types and the core ones: every value C passes is checked here.

use core::mem::MaybeUninit;

use super::types::*;
use crate::config::{timeout_offset, ConfigError, FullPolicy, MAX_ICMP, MAX_TCP, MAX_UDP, TIMEOUT_COUNT};
use crate::{
    Config, Context, Eviction, Filtering, IcmpRequest, Nat, Protocol, Route, Rule, RuleError, Session, Stats, Verdict,
};
#[cfg(feature = "portmap")]
use crate::{Portmap, PortmapError};
use lwip_snat_err_t::*;

impl lwip_snat_config {
    /// Writes the settings as C holds them into `out`, seed all zero: the core's bytes in two
    /// runs (a flag or a mode is the same byte in both). Never inlined:
    /// `lwip_snat_config_default` and `lwip_snat_get_config` share it. `out` first: C hands
    /// `lwip_snat_config_default` its `out` in that register, and the guard hands
    /// `lwip_snat_get_config` the NAT, whose settings lie at its start, in the second.
    ///
    /// # Safety
    /// `out` points to writable memory for one `lwip_snat_config` (any alignment).
    #[inline(never)]
    pub(super) unsafe fn write_from_core(out: *mut lwip_snat_config, config: &Config) {
        let to = out.cast::<u8>();
        let from = (config as *const Config).cast::<u8>();
        // The head run first, then every byte after it zeroed (the seed, padding), then the tail
        // run over its part of them: the first call takes `out` and `config` where they came
        // (2 bytes less than zeroing first, which moved them aside and back).
        // SAFETY: `out` is writable per the contract; the runs lie within both structs at
        // fields laid out alike (checked at build time by `config_run`), the zeroed bytes from
        // the head run's end to `out`'s, and every C field is an integer, so any byte is valid
        // there.
        unsafe {
            CONFIG_HEAD.copy(from, to, false);
            let head_end = CONFIG_HEAD.c + CONFIG_HEAD.len;
            to.add(head_end).write_bytes(0, core::mem::size_of::<lwip_snat_config>() - head_end);
            CONFIG_TAIL.copy(from, to, false);
        }
    }

    /// Puts the settings at `cfg` into `config`, or names what is wrong: `LWIP_SNAT_ERR_NULL`,
    /// `LWIP_SNAT_ERR_ARG` for a flag other than 0 or 1 or an unknown mode (`config` then left
    /// as it was), then the core's own checks (`config` then holds the settings refused). Read
    /// where C keeps them, not copied first, into memory not cleared first: the two runs write
    /// every field (`config_runs_hold_every_field`). Never inlined: `lwip_snat_init` and
    /// `lwip_snat_set_config` share it.
    ///
    /// # Safety
    /// `cfg` is NULL or points to a readable `lwip_snat_config` (any alignment).
    ///
    /// The answer is the code, `LWIP_SNAT_OK` when the settings pass, not a `Result`: its `Ok`
    /// came back as 1, which each caller compared with 1; the code's 0 is tested by itself and
    /// a refusal is already where the caller returns it.
    #[inline(never)]
    pub(super) unsafe fn check_into(cfg: *const Self, config: &mut MaybeUninit<Config>) -> lwip_snat_err_t {
        // SAFETY: the contract is this function's.
        super::code(unsafe { Self::check(cfg, config) })
    }

    /// `check_into`'s checks, as a `Result`.
    ///
    /// # Safety
    /// As `check_into`.
    #[inline(always)]
    unsafe fn check(cfg: *const Self, config: &mut MaybeUninit<Config>) -> Result<(), lwip_snat_err_t> {
        if cfg.is_null() {
            return Err(LWIP_SNAT_ERR_NULL);
        }
        let from = cfg.cast::<u8>();
        // SAFETY: readable per the contract; a byte field needs no alignment.
        let byte = |offset: usize| unsafe { from.add(offset).read() };
        use core::mem::offset_of;
        // An unknown mode is no `Filtering` at all; a mode the build lacks is the core's
        // check's (`ConfigError::Filtering`).
        if byte(offset_of!(Self, tcp_filtering)) >= Filtering::COUNT as u8
            || byte(offset_of!(Self, udp_filtering)) >= Filtering::COUNT as u8
            || (byte(offset_of!(Self, reject_when_full))
                | byte(offset_of!(Self, allow_short_timeouts))
                | byte(offset_of!(Self, mss_clamp))
                | byte(offset_of!(Self, full_policy)))
                > 1
        {
            return Err(LWIP_SNAT_ERR_ARG);
        }
        let to = config.as_mut_ptr().cast::<u8>();
        // SAFETY: `cfg` is readable per the contract; the runs lie within both structs at
        // fields laid out alike (checked at build time by `config_run`); the only bytes in them
        // that are not integers in the core are the flags and modes, each one of its values
        // (checked just above). Together the runs write every field of `Config`
        // (`config_runs_hold_every_field`), so it is initialised after them.
        let config = unsafe {
            CONFIG_HEAD.copy(from, to, true);
            CONFIG_TAIL.copy(from, to, true);
            config.assume_init_ref()
        };
        // `validate`, the timeouts read where they lie rather than copied into an array first.
        let at = (config as *const Config).cast::<u8>();
        // SAFETY: each offset is that of a `u32` field of `Config` (see `timeout_offset`), so
        // the read is aligned, within `config` and of initialised bytes.
        let timeouts = (0..TIMEOUT_COUNT).map(|i| unsafe { at.add(timeout_offset(i)).cast::<u32>().read() });
        config.check(timeouts).map_err(|e| match e {
            ConfigError::Timeout => LWIP_SNAT_ERR_TIMEOUT,
            ConfigError::PortRange => LWIP_SNAT_ERR_PORT_RANGE,
            ConfigError::Filtering | ConfigError::Policy => LWIP_SNAT_ERR_ARG,
        })
    }

    /// The seed at `cfg` as the core takes it: two big-endian words, the first eight bytes,
    /// then the last eight. Read as two arrays of eight bytes, not one `u128`: its four words
    /// are then loaded at small offsets from the seed's address (2-byte loads), not at the
    /// struct's odd offsets (4-byte loads; `lwip_snat_init` 4 B less).
    ///
    /// # Safety
    /// `cfg` points to a readable `lwip_snat_config` (any alignment).
    pub(super) unsafe fn seed(cfg: *const Self) -> [u64; 2] {
        // SAFETY: readable per the contract; read unaligned.
        let [first, second] = unsafe { core::ptr::addr_of!((*cfg).seed).cast::<[[u8; 8]; 2]>().read_unaligned() };
        [u64::from_be_bytes(first), u64::from_be_bytes(second)]
    }
}

// The modes' numbers count up from 0, so a byte below the count is one of them; `full_policy`
// has two, so it is tested with the flags (0 or 1).
const _: () = {
    assert!(FullPolicy::COUNT == 2);
    let mut i = 0;
    while i < Filtering::COUNT {
        assert!(Filtering::ALL[i] as usize == i);
        i += 1;
    }
    let mut i = 0;
    while i < FullPolicy::COUNT {
        assert!(FullPolicy::ALL[i] as usize == i);
        i += 1;
    }
};

/// `Config` and `lwip_snat_config` alike: everything before C's seed ...
const CONFIG_HEAD: Run = {
    use core::mem::offset_of;
    config_run(&[
        same!(tcp_established_ms),
        same!(tcp_transitory_ms),
        same!(udp_ms),
        same!(icmp_ms),
        same!(reass_timeout_ms),
        (offset_of!(Config, port_range.0), offset_of!(lwip_snat_config, port_range_start)),
        (offset_of!(Config, port_range.1), offset_of!(lwip_snat_config, port_range_end)),
        same!(host_quota),
        same!(tcp_filtering),
        same!(udp_filtering),
        same!(reject_when_full),
        same!(allow_short_timeouts),
        same!(mss_clamp),
    ])
};

/// ... and everything after it.
const CONFIG_TAIL: Run = config_run(&[
    same!(mapping_sessions),
    same!(udp_dns_ms),
    same!(udp_ntp_ms),
    same!(evict_idle_ms),
    same!(full_policy),
]);

/// A field's offsets in `Config` and `lwip_snat_config`, where both name it alike.
macro_rules! same {
    ($field:ident) => {
        (core::mem::offset_of!(Config, $field), core::mem::offset_of!(lwip_snat_config, $field))
    };
}
use same;

/// `Run::of` for the settings, whose last field is a byte.
const fn config_run(fields: &[(usize, usize)]) -> Run {
    Run::of(fields, 1, core::mem::size_of::<Config>(), core::mem::size_of::<lwip_snat_config>())
}

// The head run starts C's struct: `write_from_core` zeroes only the bytes after it, so none
// before it may be left unwritten.
const _: () = assert!(CONFIG_HEAD.c == 0);

// The last run reaches `Config`'s end: no field of it is left out of the copies.
const _: () = {
    let last = CONFIG_TAIL;
    assert!(core::mem::size_of::<Config>() - (last.core + last.len) < core::mem::align_of::<Config>());
};

/// Every field of `Config`, each in `CONFIG_HEAD` or `CONFIG_TAIL`: `check_into` counts on the
/// runs to write all of them. Never called; a field added to `Config` fails to compile here
/// until it is named, and so put in one of the runs (or the memory cleared again).
#[allow(dead_code)]
const fn config_runs_hold_every_field(config: Config) {
    let Config {
        tcp_established_ms: _,
        tcp_transitory_ms: _,
        udp_ms: _,
        icmp_ms: _,
        reass_timeout_ms: _,
        port_range: (_, _),
        host_quota: _,
        tcp_filtering: _,
        udp_filtering: _,
        reject_when_full: _,
        allow_short_timeouts: _,
        mss_clamp: _,
        mapping_sessions: _,
        udp_dns_ms: _,
        udp_ntp_ms: _,
        evict_idle_ms: _,
        full_policy: _,
    } = config;
}

impl lwip_snat_rule {
    /// The rule, or `LWIP_SNAT_ERR_ARG` for an unknown kind or a netif it names that is 0.
    pub(super) fn to_core(self) -> Result<Rule, lwip_snat_err_t> {
        let (kind, out, src) = (self.kind, u32::from(self.out_netif_idx), u32::from(self.src_netif_idx));
        // The rule's first netif (an outbound rule's only one is C's second field), taken once
        // for the three kinds; then with the second netif the kind names (the first again for
        // the kinds with one): one test of the pair for every kind, as a product of two bytes,
        // which is 0 exactly when one of them is (it cannot overflow 32 bits; the lower of the
        // two compared with 0 took 6 bytes more). The second picked by one test of the kind,
        // not as the match's second value, and both as words (2 bytes less). The first picked
        // by a mask of the kind's test over the two netifs' difference, both already words:
        // picked as bytes, its byte was zero-extended again after the choice; as a choice of
        // words, the match branched on each kind (full 2 B, minimal 4 B more than the mask).
        let first = src ^ ((src ^ out) & 0u32.wrapping_sub(u32::from(kind == 1)));
        let second = if kind == 2 { out } else { first };
        let rule = match kind {
            0 => Rule::Source(first as u8),
            1 => Rule::Outbound(first as u8),
            2 => Rule::Pair(first as u8, out as u8),
            _ => return Err(LWIP_SNAT_ERR_ARG),
        };
        if first * second == 0 {
            Err(LWIP_SNAT_ERR_ARG)
        } else {
            Ok(rule)
        }
    }
}

#[cfg(feature = "portmap")]
impl lwip_snat_portmap {
    pub(super) fn to_core(self) -> Result<Portmap, lwip_snat_err_t> {
        let protocol = match Protocol::from_ip(self.proto) {
            Some(p @ (Protocol::Tcp | Protocol::Udp)) => p,
            _ => return Err(LWIP_SNAT_ERR_ARG),
        };
        if self.out_netif_idx == 0 {
            return Err(LWIP_SNAT_ERR_ARG);
        }
        Ok(Portmap {
            protocol,
            netif: self.out_netif_idx,
            ext_port: self.ext_port,
            inside: self.inside_addr,
            in_port: self.inside_port,
        })
    }
}

#[cfg(feature = "portmap")]
pub(super) fn portmap_error(e: PortmapError) -> lwip_snat_err_t {
    match e {
        PortmapError::Full => LWIP_SNAT_ERR_PORTMAPS_FULL,
        PortmapError::Conflict => LWIP_SNAT_ERR_PORTMAP_CONFLICT,
        PortmapError::Invalid => LWIP_SNAT_ERR_ARG,
        PortmapError::NotFound => LWIP_SNAT_ERR_PORTMAP_NOT_FOUND,
    }
}

impl lwip_snat_ctx {
    pub(super) fn to_core(self) -> Result<Context, lwip_snat_err_t> {
        // Both netifs tested at once: the product of two bytes is 0 exactly when one of them
        // is (it cannot overflow 32 bits).
        if u32::from(self.in_netif_idx) * u32::from(self.out_netif_idx) == 0 {
            return Err(LWIP_SNAT_ERR_ARG);
        }
        let route = match self.route {
            0 => Route::Local { netif: self.out_netif_idx, mtu: self.out_mtu },
            1 => Route::Forward { out_netif: self.out_netif_idx, out_addr: self.out_addr, out_mtu: self.out_mtu },
            _ => return Err(LWIP_SNAT_ERR_ARG),
        };
        Ok(Context { in_netif: self.in_netif_idx, route })
    }
}

impl lwip_snat_verdict {
    /// The verdict as C reads it, as the struct's three 32-bit words in memory (the padding
    /// zero; `packets` checks the layout at build time): written with three stores rather than
    /// one per field, and for the fast path's verdict three constants. Each kind of verdict
    /// gives its words whole (`len`; `mtu` with `drop_reason`; `icmp_type` with `icmp_code`),
    /// constants but for a length or an MTU, and the action (the verdict's own number) is or'ed
    /// into the second after the match: fields picked one by one were put together after it.
    #[inline(always)]
    pub(super) fn words_from_core(verdict: Verdict) -> [u32; 3] {
        use lwip_snat_action::*;
        let action = match verdict {
            Verdict::Pass => LWIP_SNAT_PASS,
            Verdict::Translated => LWIP_SNAT_TRANSLATED,
            Verdict::Drop(_) => LWIP_SNAT_DROP,
            Verdict::Held => LWIP_SNAT_HELD,
            Verdict::Reassembled(_) => LWIP_SNAT_REASSEMBLED,
            Verdict::SendIcmp(_) => LWIP_SNAT_SEND_ICMP,
            Verdict::Release => LWIP_SNAT_RELEASE,
            Verdict::SendTcpReset => LWIP_SNAT_SEND_RST,
        } as u8;
        // The second word without the action, and the third, from their fields' bytes in
        // memory order.
        let mtu_drop = |mtu: u16, drop_reason: u8| {
            let [mtu_0, mtu_1] = mtu.to_ne_bytes();
            u32::from_ne_bytes([mtu_0, mtu_1, 0, drop_reason])
        };
        let icmp = |icmp_type: u8, icmp_code: u8| u32::from_ne_bytes([icmp_type, icmp_code, 0, 0]);
        let (len, second, third) = match verdict {
            Verdict::Drop(reason) => (0, mtu_drop(0, reason as u8), 0),
            // (only a core with `reassembly` gives it: without, the arm would be code no packet
            // reaches)
            #[cfg(feature = "reassembly")]
            Verdict::Reassembled(len) => (u32::try_from(len).unwrap_or(u32::MAX), 0, 0),
            Verdict::SendIcmp(IcmpRequest::TimeExceeded) => (0, 0, icmp(11, 0)),
            Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu }) => (0, mtu_drop(mtu, 0), icmp(3, 4)),
            Verdict::SendIcmp(IcmpRequest::AdminProhibited) => (0, 0, icmp(3, 13)),
            _ => (0, 0, 0),
        };
        [len, second | u32::from_ne_bytes([0, 0, action, 0]), third]
    }
}

pub(super) fn rule_error(e: RuleError) -> lwip_snat_err_t {
    match e {
        RuleError::Full => LWIP_SNAT_ERR_RULES_FULL,
        RuleError::Exists => LWIP_SNAT_ERR_RULE_EXISTS,
        RuleError::NotFound => LWIP_SNAT_ERR_RULE_NOT_FOUND,
    }
}

impl lwip_snat_stats {
    /// Writes the NAT's counters and table use into `*out` as C reads them (numbers too big for
    /// a field saturate): in place, every byte once, with no copy of the struct built first.
    ///
    /// # Safety
    /// `out` points to writable memory for one `lwip_snat_stats` (any alignment).
    pub(super) unsafe fn write_from_core(nat: &Nat, out: *mut Self) {
        use core::ptr::addr_of_mut;
        let s = nat.stats();
        let (held, held_bytes) = nat.fragments_in_flight();
        let (from, to) = ((s as *const Stats).cast::<u8>(), out.cast::<u8>());
        // SAFETY: a `Run` is a span of `u32` counters at the same offsets relative to the run
        // in both structs, within both (checked at build time by `shared_run!`); any bytes are
        // valid `u32`s, and `s` and `out` are distinct. The other fields are written one by one
        // within `*out`, writable per the contract; `reass_in_flight` with the padding after
        // it, as one word (the layout is checked below).
        unsafe {
            HEAD_RUN.copy(from, to, false);
            TAIL_RUN.copy(from, to, false);
            // With the fast path, the shim's quiet test counts the packets it passes apart:
            // `passed` is written again with them added. Without it, the head run's copy is
            // the count.
            #[cfg(feature = "fast-path")]
            addr_of_mut!((*out).passed).write_unaligned(s.passed.wrapping_add(nat.passed_by_shim()));
            addr_of_mut!((*out).reass_bytes_in_use).write_unaligned(u32::try_from(held_bytes).unwrap_or(u32::MAX));
            addr_of_mut!((*out).reass_in_flight)
                .cast::<u32>()
                .write_unaligned(halves(u16::try_from(held).unwrap_or(u16::MAX), 0));
            // One loop over the three blocks, in the core's protocol order (`Protocol::index`),
            // each block's address stepped on: its four stores then take the short form (from
            // the struct's start with the index scaled, 8 bytes more).
            let mut block = addr_of_mut!((*out).tcp);
            // The NAT's `static` protocol order, read where it lies in flash.
            for (i, &p) in crate::nat::PROTOCOLS.iter().enumerate() {
                lwip_snat_proto_stats::write_from_core(nat, p, i, block);
                block = block.add(1);
            }
        }
    }
}

impl lwip_snat_proto_stats {
    /// Writes one protocol's counters and table use into `*out`, as four words (the padding
    /// zero). `index` is `p.index()`, which the caller's loop counts.
    ///
    /// # Safety
    /// `out` points to writable memory for one `lwip_snat_proto_stats` (any alignment).
    #[inline(always)]
    unsafe fn write_from_core(nat: &Nat, p: Protocol, index: usize, out: *mut Self) {
        debug_assert_eq!(index, p.index());
        let s = nat.stats();
        let half = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        let count = |counts: &[u32; 3]| counts.get(index).copied().unwrap_or(0);
        // The table's use first, then the counters: read after the table's lookup, they are
        // not kept across its call.
        let in_use = halves(half(nat.sessions_in_use(p)), half(nat.sessions_high_water(p)));
        let capacity = halves(half(nat.capacity(p)), 0);
        let words = [count(&s.created), count(&s.expired), in_use, capacity];
        // SAFETY: writable per the contract, for the whole struct (its layout is checked below).
        unsafe { out.cast::<[u32; 4]>().write_unaligned(words) };
    }
}

/// The word whose memory holds `first` then `second`, as two `u16` fields laid out one after
/// the other: a shift and an or (the same bytes as `u32::from_ne_bytes` of their bytes, which
/// compiled to a split into bytes and back).
#[inline(always)]
fn halves(first: u16, second: u16) -> u32 {
    let (first, second) = (u32::from(first), u32::from(second));
    if cfg!(target_endian = "little") {
        first | second << 16
    } else {
        first << 16 | second
    }
}

/// The layout the stats are written in: `reass_in_flight` and its padding one word before the
/// per-protocol blocks, each block four words.
const _: () = {
    use core::mem::{offset_of, size_of};
    type P = lwip_snat_proto_stats;
    assert!(size_of::<P>() == size_of::<[u32; 4]>());
    assert!(offset_of!(P, created) == 0 && offset_of!(P, expired) == 4);
    assert!(offset_of!(P, in_use) == 8 && offset_of!(P, high_water) == 10 && offset_of!(P, capacity) == 12);
    assert!(offset_of!(lwip_snat_stats, reass_in_flight) + size_of::<u32>() == offset_of!(lwip_snat_stats, tcp));
    assert!(offset_of!(lwip_snat_stats, udp) == offset_of!(lwip_snat_stats, tcp) + size_of::<P>());
    assert!(offset_of!(lwip_snat_stats, icmp) == offset_of!(lwip_snat_stats, udp) + size_of::<P>());
    assert!(offset_of!(lwip_snat_stats, hosts_untracked) == offset_of!(lwip_snat_stats, icmp) + size_of::<P>());
};

/// Fields the core's struct and C's lay out alike: `len` bytes at `core` in the one, `c` in
/// the other.
#[derive(Clone, Copy)]
struct Run {
    core: usize,
    c: usize,
    len: usize,
}

impl Run {
    /// The run over fields given as (core offset, C offset) pairs, first to last, the last one
    /// `last_len` bytes long, in structs of `core_size` and `c_size` bytes; refuses to build
    /// unless each field lies at the same distance from the first in both structs and the run
    /// within both.
    const fn of(fields: &[(usize, usize)], last_len: usize, core_size: usize, c_size: usize) -> Run {
        let (core, c) = fields[0];
        let mut i = 0;
        while i < fields.len() {
            assert!(fields[i].0 - core == fields[i].1 - c);
            i += 1;
        }
        let len = fields[fields.len() - 1].0 + last_len - core;
        assert!(core + len <= core_size && c + len <= c_size);
        Run { core, c, len }
    }

    /// Copies the run from C's struct at `from` to the core's at `to` (`to_core`), or back.
    ///
    /// # Safety
    /// `from` and `to` point to the two structs, distinct, `to` writable; the run lies within
    /// both, and its bytes are valid values of `to`'s fields there.
    #[inline(always)]
    unsafe fn copy(self, from: *const u8, to: *mut u8, to_core: bool) {
        let (from_at, to_at) = if to_core { (self.c, self.core) } else { (self.core, self.c) };
        // SAFETY: per the contract.
        unsafe { core::ptr::copy_nonoverlapping(from.add(from_at), to.add(to_at), self.len) };
    }
}

/// The counters C gets as the core keeps them (all but the per-protocol ones), in two runs.
const HEAD_RUN: Run = shared_run!(translated_out, translated_in, icmp_errors_translated, passed, icmp_requested, hairpinned,
        mss_clamped, dropped, fragments_held, reassembled; reass_expired);
const TAIL_RUN: Run = shared_run!(hosts_untracked, reass_evicted, reass_released; resets_requested);

// C names the core's `evicted` array's three counters one by one.
const _: () = {
    use core::mem::offset_of;
    assert!(
        offset_of!(Stats, evicted) - offset_of!(Stats, hosts_untracked)
            == offset_of!(lwip_snat_stats, evicted_closed) - offset_of!(lwip_snat_stats, hosts_untracked)
    );
    assert!(Eviction::Closed as usize == 0 && Eviction::Transitory as usize == 1 && Eviction::Idle as usize == 2);
};

/// The `Run` over the counters named, first to `$last` (a `u32`), with `Run::of`'s build-time
/// checks that each lies at the same offset from the first in `Stats` as in `lwip_snat_stats`.
macro_rules! shared_run {
    ($($field:ident),+ ; $last:ident) => {{
        use core::mem::{offset_of, size_of};
        Run::of(
            &[$((offset_of!(Stats, $field), offset_of!(lwip_snat_stats, $field)),)+
              (offset_of!(Stats, $last), offset_of!(lwip_snat_stats, $last))],
            size_of::<u32>(),
            size_of::<Stats>(),
            size_of::<lwip_snat_stats>(),
        )
    }};
}
use shared_run;

impl lwip_snat_session {
    /// One live session as `lwip_snat_foreach` shows it, idle time counted to `now_ms`, as the
    /// struct's seven 32-bit words in memory (the padding zero; `sessions` checks the layout at
    /// build time): the ports and bytes put together in registers and stored as three words,
    /// not one store of a halfword or a byte per field (4 bytes each; `foreach` 2 bytes less).
    pub(super) fn words_from_core(nat: &Nat, protocol: Protocol, session: &Session, now_ms: u32) -> [u32; 7] {
        // The timeout's call first: the session's fields then go straight into the words instead
        // of being held on the stack across it. The eviction test (in line) last: before the
        // fields, it took 10 bytes more.
        let timeout_ms = nat.timeout_ms(protocol, session);
        let state = Nat::<MAX_TCP, MAX_UDP, MAX_ICMP>::session_state(session);
        let admitted = u8::from(session.opened_by_remote());
        let mut words = [
            session.inside,
            session.remote,
            now_ms.wrapping_sub(session.last_used),
            timeout_ms,
            halves(session.in_port, session.ext_port),
            halves(session.remote_port, u16::from_ne_bytes([protocol as u8, session.netif])),
            0,
        ];
        let evictable = u8::from(nat.evictable(protocol, session, now_ms));
        words[6] = u32::from_ne_bytes([state, admitted, evictable, 0]);
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_core(config: &Config) -> lwip_snat_config {
        let mut c = lwip_snat_config { seed: [0xAA; 16], tcp_established_ms: 1, ..Default::default() };
        // SAFETY: a local, writable.
        unsafe { lwip_snat_config::write_from_core(&mut c, config) };
        c
    }

    fn to_core(c: &lwip_snat_config) -> Result<Config, lwip_snat_err_t> {
        let mut config = MaybeUninit::uninit();
        // SAFETY: a local, written whole by a check that passes.
        match unsafe { lwip_snat_config::check_into(c, &mut config) } {
            LWIP_SNAT_OK => Ok(unsafe { config.assume_init() }),
            e => Err(e),
        }
    }

    #[test]
    fn a_rule_is_its_kind_with_the_netifs_it_names_none_of_them_0() {
        let netifs = [0, 1, 2, 0x80, 0xFF];
        for kind in 0..=u8::MAX {
            for (&src, &out) in netifs.iter().flat_map(|s| netifs.iter().map(move |o| (s, o))) {
                let expected = match kind {
                    0 if src != 0 => Ok(Rule::Source(src)),
                    1 if out != 0 => Ok(Rule::Outbound(out)),
                    2 if src != 0 && out != 0 => Ok(Rule::Pair(src, out)),
                    _ => Err(LWIP_SNAT_ERR_ARG),
                };
                let c = lwip_snat_rule { kind, src_netif_idx: src, out_netif_idx: out };
                assert_eq!(c.to_core(), expected, "{c:?}");
            }
        }
    }

    #[test]
    fn default_config_survives_the_round_trip_through_c() {
        let c = from_core(&Config::DEFAULT);
        assert_eq!(to_core(&c), Ok(Config::DEFAULT));
        // SAFETY: locals.
        assert_eq!(unsafe { lwip_snat_config::seed(&c) }, [0, 0]);
        let seeded = lwip_snat_config { seed: [1, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4], ..c };
        assert_eq!(unsafe { lwip_snat_config::seed(&seeded) }, [0x0100_0000_0000_0002, 0x0300_0000_0000_0004]);
    }

    #[test]
    fn every_field_reaches_its_core_field_and_back() {
        // Built without `filtering`, only address and port dependent passes.
        let (tcp, udp) = if cfg!(feature = "filtering") { (1, 0) } else { (2, 2) };
        let c = lwip_snat_config {
            tcp_established_ms: 7_500_001,
            tcp_transitory_ms: 250_002,
            udp_ms: 130_003,
            icmp_ms: 70_004,
            reass_timeout_ms: 5,
            port_range_start: 2006,
            port_range_end: 3007,
            host_quota: 8,
            tcp_filtering: tcp,
            udp_filtering: udp,
            reject_when_full: 0,
            allow_short_timeouts: 1,
            mss_clamp: 0,
            seed: [0; 16],
            mapping_sessions: 9,
            udp_dns_ms: 10,
            udp_ntp_ms: 11,
            evict_idle_ms: 12,
            // (the one policy a build without `evict` takes is the other one)
            full_policy: u8::from(cfg!(feature = "evict")),
        };
        let core = Config {
            tcp_established_ms: 7_500_001,
            tcp_transitory_ms: 250_002,
            udp_ms: 130_003,
            icmp_ms: 70_004,
            reass_timeout_ms: 5,
            port_range: (2006, 3007),
            host_quota: 8,
            tcp_filtering: Filtering::from_repr(tcp).unwrap(),
            udp_filtering: Filtering::from_repr(udp).unwrap(),
            reject_when_full: false,
            allow_short_timeouts: true,
            mss_clamp: false,
            mapping_sessions: 9,
            udp_dns_ms: 10,
            udp_ntp_ms: 11,
            evict_idle_ms: 12,
            full_policy: if cfg!(feature = "evict") { FullPolicy::Evict } else { FullPolicy::Reject },
        };
        assert_eq!(to_core(&c), Ok(core));
        assert_eq!(from_core(&core), c);
    }

    /// A build without `evict` refuses the evict policy, as an argument error.
    #[cfg(not(feature = "evict"))]
    #[test]
    fn without_evict_the_evict_policy_is_an_argument_error() {
        let evict = lwip_snat_config { full_policy: FullPolicy::Evict as u8, ..from_core(&Config::DEFAULT) };
        assert_eq!(to_core(&evict), Err(LWIP_SNAT_ERR_ARG));
    }

    #[test]
    fn every_timeout_is_checked_where_c_puts_it() {
        // Each timeout written into C's struct as it is (`write_from_core` checks nothing), then
        // checked: the offsets the check reads them by must reach every one of them.
        for (field, floor) in crate::config::timeout_fields() {
            for allow_short_timeouts in [false, true] {
                let lowest = if allow_short_timeouts { 1 } else { floor };
                for (value, valid) in [(0, false), (lowest - 1, false), (lowest, true), (0x8000_0000, false)] {
                    let mut config = Config { allow_short_timeouts, ..Config::DEFAULT };
                    *field(&mut config) = value;
                    let expected = if valid { Ok(config) } else { Err(LWIP_SNAT_ERR_TIMEOUT) };
                    assert_eq!(to_core(&from_core(&config)), expected, "{value} (floor {floor})");
                }
            }
        }
    }

    #[test]
    fn a_flag_or_mode_out_of_range_is_an_argument_error() {
        let ok = from_core(&Config::DEFAULT);
        let fields: [fn(&mut lwip_snat_config) -> &mut u8; 6] = [
            |c| &mut c.tcp_filtering,
            |c| &mut c.udp_filtering,
            |c| &mut c.reject_when_full,
            |c| &mut c.allow_short_timeouts,
            |c| &mut c.mss_clamp,
            |c| &mut c.full_policy,
        ];
        // The values each accepts: built without `filtering`, a filter only 2 (address and
        // port dependent); without `evict`, a policy only 0 (reject).
        let filters = if cfg!(feature = "filtering") { 0..3 } else { 2..3 };
        let policies = if cfg!(feature = "evict") { 0..2 } else { 0..1 };
        for (field, valid) in fields.into_iter().zip([filters.clone(), filters, 0..2, 0..2, 0..2, policies]) {
            for value in 0..=u8::MAX {
                let mut c = ok;
                *field(&mut c) = value;
                // Short timeouts allowed or not, the defaults meet the floors.
                assert_eq!(to_core(&c).is_ok(), valid.contains(&value), "{value}");
                if !valid.contains(&value) {
                    assert_eq!(to_core(&c), Err(LWIP_SNAT_ERR_ARG));
                }
            }
        }
        // A flag or mode refused comes before the timeouts are looked at.
        let both = lwip_snat_config { udp_ms: 0, mss_clamp: 2, ..ok };
        assert_eq!(to_core(&both), Err(LWIP_SNAT_ERR_ARG));
    }

    #[test]
    fn verdict_words_hold_each_field_where_c_reads_it() {
        use crate::DropReason;
        use lwip_snat_action::*;
        let cases = [
            (Verdict::Pass, 0, 0, LWIP_SNAT_PASS, 0, 0, 0),
            (Verdict::Translated, 0, 0, LWIP_SNAT_TRANSLATED, 0, 0, 0),
            (Verdict::Drop(DropReason::Malformed), 0, 0, LWIP_SNAT_DROP, 0, 0, 0),
            (Verdict::Drop(DropReason::BadChecksum), 0, 0, LWIP_SNAT_DROP, 1, 0, 0),
            (Verdict::Held, 0, 0, LWIP_SNAT_HELD, 0, 0, 0),
            (Verdict::Reassembled(1), 1, 0, LWIP_SNAT_REASSEMBLED, 0, 0, 0),
            (Verdict::Reassembled(65_535), 65_535, 0, LWIP_SNAT_REASSEMBLED, 0, 0, 0),
            (Verdict::SendIcmp(IcmpRequest::TimeExceeded), 0, 0, LWIP_SNAT_SEND_ICMP, 0, 11, 0),
            (
                Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu: 1_492 }),
                0,
                1_492,
                LWIP_SNAT_SEND_ICMP,
                0,
                3,
                4,
            ),
            (
                Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu: 0xFFFF }),
                0,
                0xFFFF,
                LWIP_SNAT_SEND_ICMP,
                0,
                3,
                4,
            ),
            (Verdict::SendIcmp(IcmpRequest::AdminProhibited), 0, 0, LWIP_SNAT_SEND_ICMP, 0, 3, 13),
            (Verdict::Release, 0, 0, LWIP_SNAT_RELEASE, 0, 0, 0),
            (Verdict::SendTcpReset, 0, 0, LWIP_SNAT_SEND_RST, 0, 0, 0),
        ];
        for (verdict, len, mtu, action, drop_reason, icmp_type, icmp_code) in cases {
            // Only a core with `reassembly` gives `Reassembled` (its arm is built only there).
            if matches!(verdict, Verdict::Reassembled(_)) && !cfg!(feature = "reassembly") {
                continue;
            }
            // The struct's fields at their offsets (checked in `packets`), word by word.
            let [mtu_0, mtu_1] = u16::to_ne_bytes(mtu);
            let words = [
                len,
                u32::from_ne_bytes([mtu_0, mtu_1, action as u8, drop_reason]),
                u32::from_ne_bytes([icmp_type, icmp_code, 0, 0]),
            ];
            assert_eq!(lwip_snat_verdict::words_from_core(verdict), words, "{verdict:?}");
        }
    }

    #[test]
    fn session_words_hold_each_field_where_c_reads_it() {
        let mut nat = Nat::new();
        let mut seen = [0u32; 2];
        for policy in [FullPolicy::Reject, FullPolicy::Evict] {
            let config = Config { full_policy: policy, evict_idle_ms: 60_000, ..Config::DEFAULT };
            if nat.set_config(config).is_err() {
                continue; // `Evict` without `evict`
            }
            let protocols = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp];
            for (protocol, state) in protocols.into_iter().flat_map(|p| (0x80..=0xFF).map(move |s| (p, s))) {
                for now_ms in [1_000, 60_999, 61_001, u32::MAX] {
                    let session = Session {
                        inside: 0x0A00_0002,
                        remote: 0xC633_6401,
                        last_used: 1_000,
                        in_port: 0x1234,
                        remote_port: 0x5678,
                        ext_port: 0x9ABC,
                        netif: 3,
                        state,
                        ..Session::default()
                    };
                    let words = lwip_snat_session::words_from_core(&nat, protocol, &session, now_ms);
                    // SAFETY: seven words, the struct's size and alignment (checked in `sessions`),
                    // every byte an integer's.
                    let c = unsafe { words.as_ptr().cast::<lwip_snat_session>().read() };
                    let expected = lwip_snat_session {
                        inside_addr: session.inside,
                        remote_addr: session.remote,
                        idle_ms: now_ms.wrapping_sub(session.last_used),
                        timeout_ms: nat.timeout_ms(protocol, &session),
                        inside_port: session.in_port,
                        ext_port: session.ext_port,
                        remote_port: session.remote_port,
                        proto: protocol as u8,
                        ext_netif_idx: session.netif,
                        state: Nat::<MAX_TCP, MAX_UDP, MAX_ICMP>::session_state(&session),
                        admitted: u8::from(session.opened_by_remote()),
                        evictable: u8::from(nat.evictable(protocol, &session, now_ms)),
                    };
                    assert_eq!(c, expected, "{protocol:?} {state:#x} {now_ms}");
                    assert_eq!(words[6] >> 24, 0, "the padding");
                    seen[usize::from(expected.evictable)] += 1;
                }
            }
        }
        // Both answers shown where `evict` is built in.
        assert!(seen[0] > 0 && (seen[1] > 0 || !cfg!(feature = "evict")), "{seen:?}");
    }
}
