//! Between the C types and the core ones: every value C passes is checked here.

use super::types::*;
use crate::config::{ConfigError, FullPolicy, MAX_ICMP, MAX_TCP, MAX_UDP};
use crate::{
    Config, Context, Eviction, Filtering, IcmpRequest, Nat, Protocol, Route, Rule, RuleError, Session, Stats, Verdict,
};
#[cfg(feature = "portmap")]
use crate::{Portmap, PortmapError};
use lwip_snat_err_t::*;

impl lwip_snat_config {
    /// The settings as C holds them, seed all zero. Never inlined: `lwip_snat_config_default`
    /// and `lwip_snat_get_config` share it.
    #[inline(never)]
    pub(super) fn from_core(config: &Config) -> Self {
        lwip_snat_config {
            tcp_established_ms: config.tcp_established_ms,
            tcp_transitory_ms: config.tcp_transitory_ms,
            udp_ms: config.udp_ms,
            icmp_ms: config.icmp_ms,
            reass_timeout_ms: config.reass_timeout_ms,
            port_range_start: config.port_range.0,
            port_range_end: config.port_range.1,
            host_quota: config.host_quota,
            tcp_filtering: config.tcp_filtering as u8,
            udp_filtering: config.udp_filtering as u8,
            reject_when_full: u8::from(config.reject_when_full),
            allow_short_timeouts: u8::from(config.allow_short_timeouts),
            mss_clamp: u8::from(config.mss_clamp),
            seed: [0; 16],
            mapping_sessions: config.mapping_sessions,
            udp_dns_ms: config.udp_dns_ms,
            udp_ntp_ms: config.udp_ntp_ms,
            evict_idle_ms: config.evict_idle_ms,
            full_policy: config.full_policy as u8,
        }
    }

    /// The core settings and seed, or the error code that names what is wrong.
    /// Never inlined: `lwip_snat_init` and `lwip_snat_set_config` share it.
    #[inline(never)]
    pub(super) fn to_core(self) -> Result<(Config, [u64; 2]), lwip_snat_err_t> {
        let config = Config {
            tcp_established_ms: self.tcp_established_ms,
            tcp_transitory_ms: self.tcp_transitory_ms,
            udp_ms: self.udp_ms,
            icmp_ms: self.icmp_ms,
            port_range: (self.port_range_start, self.port_range_end),
            tcp_filtering: Filtering::from_repr(self.tcp_filtering).ok_or(LWIP_SNAT_ERR_ARG)?,
            udp_filtering: Filtering::from_repr(self.udp_filtering).ok_or(LWIP_SNAT_ERR_ARG)?,
            host_quota: self.host_quota,
            reject_when_full: flag(self.reject_when_full)?,
            allow_short_timeouts: flag(self.allow_short_timeouts)?,
            mss_clamp: flag(self.mss_clamp)?,
            reass_timeout_ms: self.reass_timeout_ms,
            mapping_sessions: self.mapping_sessions,
            udp_dns_ms: self.udp_dns_ms,
            udp_ntp_ms: self.udp_ntp_ms,
            full_policy: FullPolicy::from_repr(self.full_policy).ok_or(LWIP_SNAT_ERR_ARG)?,
            evict_idle_ms: self.evict_idle_ms,
        };
        config.validate().map_err(|e| match e {
            ConfigError::Timeout => LWIP_SNAT_ERR_TIMEOUT,
            ConfigError::PortRange => LWIP_SNAT_ERR_PORT_RANGE,
        })?;
        // Two big-endian words: the first eight bytes, then the last eight.
        let seed = u128::from_be_bytes(self.seed);
        Ok((config, [(seed >> 64) as u64, seed as u64]))
    }
}

fn flag(value: u8) -> Result<bool, lwip_snat_err_t> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(LWIP_SNAT_ERR_ARG),
    }
}

impl lwip_snat_rule {
    pub(super) fn to_core(self) -> Result<Rule, lwip_snat_err_t> {
        let index = |i: u8| if i == 0 { Err(LWIP_SNAT_ERR_ARG) } else { Ok(i) };
        match self.kind {
            0 => Ok(Rule::Source(index(self.src_netif_idx)?)),
            1 => Ok(Rule::Outbound(index(self.out_netif_idx)?)),
            2 => Ok(Rule::Pair(index(self.src_netif_idx)?, index(self.out_netif_idx)?)),
            _ => Err(LWIP_SNAT_ERR_ARG),
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
        if self.in_netif_idx == 0 || self.out_netif_idx == 0 {
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
    #[inline(always)]
    pub(super) fn from_core(verdict: Verdict) -> Self {
        use lwip_snat_action::*;
        let mut out = lwip_snat_verdict { len: 0, mtu: 0, action: 0, drop_reason: 0, icmp_type: 0, icmp_code: 0 };
        out.action = match verdict {
            Verdict::Pass => LWIP_SNAT_PASS,
            Verdict::Translated => LWIP_SNAT_TRANSLATED,
            Verdict::Drop(reason) => {
                out.drop_reason = reason as u8;
                LWIP_SNAT_DROP
            }
            Verdict::Held => LWIP_SNAT_HELD,
            Verdict::Release => LWIP_SNAT_RELEASE,
            Verdict::Reassembled(len) => {
                out.len = u32::try_from(len).unwrap_or(u32::MAX);
                LWIP_SNAT_REASSEMBLED
            }
            Verdict::SendIcmp(request) => {
                (out.icmp_type, out.icmp_code) = match request {
                    IcmpRequest::TimeExceeded => (11, 0),
                    IcmpRequest::FragmentationNeeded { mtu } => {
                        out.mtu = mtu;
                        (3, 4)
                    }
                    IcmpRequest::AdminProhibited => (3, 13),
                };
                LWIP_SNAT_SEND_ICMP
            }
            Verdict::SendTcpReset => LWIP_SNAT_SEND_RST,
        } as u8;
        out
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
    /// The NAT's counters and table use as C reads them (numbers too big for a field saturate).
    pub(super) fn from_core(nat: &Nat) -> Self {
        let s = nat.stats();
        let in_flight = nat.fragments_in_flight();
        let proto = |p: Protocol| lwip_snat_proto_stats::from_core(nat, p);
        let mut out = lwip_snat_stats::default();
        copy_run(s, &mut out, HEAD_RUN);
        copy_run(s, &mut out, TAIL_RUN);
        out.reass_bytes_in_use = u32::try_from(in_flight.1).unwrap_or(u32::MAX);
        out.reass_in_flight = u16::try_from(in_flight.0).unwrap_or(u16::MAX);
        out.tcp = proto(Protocol::Tcp);
        out.udp = proto(Protocol::Udp);
        out.icmp = proto(Protocol::Icmp);
        out.passed = out.passed.wrapping_add(nat.passed_by_shim());
        out
    }
}

impl lwip_snat_proto_stats {
    /// One protocol's counters and table use. Out of line: the three protocols share it.
    #[inline(never)]
    fn from_core(nat: &Nat, p: Protocol) -> Self {
        let s = nat.stats();
        lwip_snat_proto_stats {
            created: s.created[p.index()],
            expired: s.expired[p.index()],
            in_use: u16::try_from(nat.sessions_in_use(p)).unwrap_or(u16::MAX),
            high_water: u16::try_from(nat.sessions_high_water(p)).unwrap_or(u16::MAX),
            capacity: u16::try_from(nat.capacity(p)).unwrap_or(u16::MAX),
        }
    }
}

/// Copies one run of counters that `Stats` and `lwip_snat_stats` lay out alike.
#[inline(always)]
fn copy_run(stats: &Stats, out: &mut lwip_snat_stats, run: Run) {
    // SAFETY: a `Run` is a span of `u32` counters at the same offsets relative to the run in
    // both structs, within both (checked at build time by `shared_run!`); any bytes are valid
    // `u32`s, and `stats` and `out` are distinct.
    unsafe {
        let from = (stats as *const Stats).cast::<u8>().add(run.core);
        let to = (out as *mut lwip_snat_stats).cast::<u8>().add(run.c);
        core::ptr::copy_nonoverlapping(from, to, run.len);
    }
}

/// Counters `Stats` and `lwip_snat_stats` lay out alike: `len` bytes at `core` in the one, `c`
/// in the other.
#[derive(Clone, Copy)]
struct Run {
    core: usize,
    c: usize,
    len: usize,
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

/// The `Run` from field `$first` through `$last` (a `u32`), after build-time checks that each
/// field named lies at the same offset from `$first` in `Stats` as in `lwip_snat_stats`.
macro_rules! shared_run {
    ($first:ident, $($field:ident),* ; $last:ident) => {{
        use core::mem::offset_of;
        const fn same(core: usize, c: usize) {
            assert!(core - offset_of!(Stats, $first) == c - offset_of!(lwip_snat_stats, $first));
        }
        $(same(offset_of!(Stats, $field), offset_of!(lwip_snat_stats, $field));)*
        same(offset_of!(Stats, $last), offset_of!(lwip_snat_stats, $last));
        let len = offset_of!(Stats, $last) + core::mem::size_of::<u32>() - offset_of!(Stats, $first);
        assert!(offset_of!(Stats, $first) + len <= core::mem::size_of::<Stats>());
        assert!(offset_of!(lwip_snat_stats, $first) + len <= core::mem::size_of::<lwip_snat_stats>());
        Run { core: offset_of!(Stats, $first), c: offset_of!(lwip_snat_stats, $first), len }
    }};
}
use shared_run;

impl lwip_snat_session {
    /// One live session as `lwip_snat_foreach` shows it, idle time counted to `now_ms`.
    pub(super) fn from_core(nat: &Nat, protocol: Protocol, session: &Session, now_ms: u32) -> Self {
        lwip_snat_session {
            inside_addr: session.inside,
            remote_addr: session.remote,
            idle_ms: now_ms.wrapping_sub(session.last_used),
            timeout_ms: nat.timeout_ms(protocol, session),
            inside_port: session.in_port,
            ext_port: session.ext_port,
            remote_port: session.remote_port,
            proto: protocol as u8,
            ext_netif_idx: session.netif,
            state: if protocol == Protocol::Icmp {
                0
            } else {
                Nat::<MAX_TCP, MAX_UDP, MAX_ICMP>::session_state(session)
            },
            admitted: u8::from(session.opened_by_remote()),
            evictable: u8::from(nat.evictable(protocol, session, now_ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_survives_the_round_trip_through_c() {
        let c = lwip_snat_config::from_core(&Config::DEFAULT);
        assert_eq!(c.to_core(), Ok((Config::DEFAULT, [0, 0])));
        let seeded = lwip_snat_config { seed: [1, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, 0, 4], ..c };
        assert_eq!(seeded.to_core().map(|(_, seed)| seed), Ok([0x0100_0000_0000_0002, 0x0300_0000_0000_0004]));
    }
}
