//! Room for a new session in a full table: which live session may give way to it, and the
//! resets owed to the ends of an established connection that did.
//!
//! A TCP connection closed by both FINs or an RST gives way under either policy (RFC 7857
//! section 2.2 lets a NAT cut TIME_WAIT short when a new connection needs the slot); with
//! [`FullPolicy::Evict`] so does a half-open connection, an answered DNS or NTP query, and any
//! session idle longer than `evict_idle_ms`. Closed go before transitory before idle, the least
//! recently used first. A session an inbound packet created never displaces one an inside host
//! created, so no outside host can push the inside's sessions out by opening its own.
//!
//! `Evict` is the `evict` feature's: a build without it has only `Reject` (the settings say no
//! other), so neither the transitory and idle classes nor the memory of evicted connections
//! and their resets are compiled (a closed connection holds no one who awaits a reset).
//!
//! The search covers the whole table at most once a second (with the scan for expired
//! sessions), and otherwise a window of slots per new flow, the next window the next time, so
//! a flood of new flows against a full table costs bounded work per packet.

use super::*;
use crate::config::FullPolicy;
#[cfg(feature = "evict")]
use crate::tables::table::both_ports;

/// Slots looked at per search.
const WINDOW: usize = 32;

/// Established connections remembered for their resets (a new eviction overwrites the oldest).
#[cfg(feature = "evict")]
const REMEMBERED: usize = 4;

// `Evicted::remember` counts on past it, wrapping: a power of two keeps the order.
#[cfg(feature = "evict")]
const _: () = assert!(REMEMBERED.is_power_of_two());

/// Why a session gave way (index into `Stats::evicted`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Eviction {
    /// A TCP connection closed by both FINs or an RST.
    Closed = 0,
    /// A half-open TCP connection, or a UDP query that got its answer.
    Transitory = 1,
    /// Idle longer than `Config::evict_idle_ms`.
    Idle = 2,
}

/// Why `session` may give way to a new session (`admitted`: one an inbound packet creates),
/// or `None` when it may not.
pub(super) fn eviction(
    config: &Config,
    protocol: Protocol,
    session: &Session,
    admitted: bool,
    now: u32,
) -> Option<Eviction> {
    if admitted && !session.opened_by_remote() {
        return None;
    }
    // The state's bit in the protocol's sets (a loop over a table asks with the sets in
    // registers, no branch on the protocol per session).
    let state = 1u32 << session.protocol_state();
    let (closed, transitory) = classes(protocol);
    if closed & state != 0 {
        return Some(Eviction::Closed);
    }
    // (without `evict` the settings hold `Reject`: said as a constant, the rest is not compiled)
    if !cfg!(feature = "evict") || config.full_policy == FullPolicy::Reject {
        return None;
    }
    if transitory & state != 0 {
        Some(Eviction::Transitory)
    } else if is_expired(session.last_used, now, config.evict_idle_ms) {
        Some(Eviction::Idle)
    } else {
        None
    }
}

/// The protocol states (bit `s` for the five state bits `s`) of `protocol`'s sessions that are
/// closed (TCP: both FINs or an RST), and those that are transitory once not closed (TCP: not
/// established; UDP: a query answered).
#[inline(always)]
fn classes(protocol: Protocol) -> (u32, u32) {
    match protocol {
        Protocol::Tcp => (TCP_CLOSED, !TCP_ESTABLISHED),
        Protocol::Udp => (0, UDP_ANSWERED),
        Protocol::Icmp => (0, 0),
    }
}

/// The states of the five state bits for which `test` holds, as a bit set.
macro_rules! states {
    ($test:expr) => {{
        let mut set = 0u32;
        let mut state = 0u8;
        while state < 32 {
            if $test(state) {
                set |= 1 << state;
            }
            state += 1;
        }
        set
    }};
}

const TCP_CLOSED: u32 = states!(tcp::is_closed);
const TCP_ESTABLISHED: u32 = states!(tcp::is_established);
const UDP_ANSWERED: u32 = states!(udp_answered);

/// True when a TCP session's state byte `state` (its protocol bits, or the whole byte: the same
/// answer) is established ([`tcp::is_established`]): `TCP_ESTABLISHED` rotated by the state. A
/// rotation counts modulo 32, so by the five protocol bits alone, and no mask of the byte is
/// needed. Beside its set, which nothing else reads; `timeout_of` asks it too.
#[inline(always)]
pub(super) fn established(state: u32) -> bool {
    TCP_ESTABLISHED.rotate_right(state) & 1 != 0
}

const fn udp_answered(state: u8) -> bool {
    state & udp::ANSWERED != 0
}

/// Established TCP connections evicted lately: their inside and remote endpoints.
#[cfg(feature = "evict")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Evicted {
    sessions: [Session; REMEMBERED],
    next: usize,
}

#[cfg(feature = "evict")]
impl Evicted {
    pub(crate) const fn new() -> Self {
        Evicted { sessions: [crate::tables::table::EMPTY_SESSION; REMEMBERED], next: 0 }
    }

    /// By reference: a copy straight from its table slot, which LLVM can only prove disjoint
    /// from `self` through the reference, so it copies the words in line rather than calling
    /// `memmove` (which would link 726 bytes of `compiler_builtins`).
    fn remember(&mut self, session: &Session) {
        if let Some(entry) = self.sessions.get_mut(self.next % REMEMBERED) {
            *entry = *session;
        }
        // Counted on, wrapping, and taken modulo the count only where it picks an entry: the
        // same entries in the same order (the count, a power of two, divides the counter's
        // range), with no mask of the stored count (full 4 B less).
        self.next = self.next.wrapping_add(1);
    }

    /// Forgets the connections `doomed` picks (their netif's mappings were removed).
    pub(super) fn forget(&mut self, doomed: impl Fn(&Session) -> bool) {
        // `for_each` rather than a `for` loop: 2 bytes less. Free entries are not told apart:
        // one `doomed` picks is written empty again, as it was.
        self.sessions.iter_mut().filter(|s| doomed(s)).for_each(|s| *s = crate::tables::table::EMPTY_SESSION);
    }

    /// True when the TCP segment `flow` going `direction` on `netif` belongs to one of them.
    /// The segment's two ports are one word (source low), compared with the two ports of a
    /// session that lie side by side in the same order: inside and remote port outbound,
    /// remote and external port inbound. Then the addresses: the remote (the destination)
    /// outbound, and the segment's source, the inside outbound and the remote inbound, picked
    /// with the ports so that one compare serves both directions. The netif first, then the
    /// in-use state: pure tests in the order that took the least code (4 B).
    fn holds(&self, flow: &Flow, direction: Direction, netif: u8) -> bool {
        let ports = both_ports(flow.src_port, flow.dst_port);
        let outbound = direction == Direction::Outbound;
        self.sessions.iter().any(|s| {
            // The segment's source end: the inside one outbound, the remote one inbound.
            let (source_ports, source) = if outbound {
                (both_ports(s.in_port, s.remote_port), s.inside)
            } else {
                (both_ports(s.remote_port, s.ext_port), s.remote)
            };
            s.netif == netif
                && s.state != 0
                && source_ports == ports
                && (!outbound || s.remote == flow.dst)
                && source == flow.src
        })
    }
}

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// Evicts one session of a full table that may give way to `newcomer`, whose opener may
    /// hold `quota` sessions for its host ([`quota_of`](Self::quota_of)); false when the
    /// part searched this time (the `whole` table, or the next window) holds none.
    pub(super) fn evict_for(
        &mut self,
        protocol: Protocol,
        newcomer: &Session,
        (opener, quota): (Opener, u16),
        whole: bool,
        now: u32,
    ) -> bool {
        let capacity = self.tables.get(protocol).capacity();
        let count = if whole { capacity } else { WINDOW };
        // This search's start, below the capacity (stored masked): below the slots a full table
        // has used, as `least_recent` asks. The next search starts past this one's window,
        // noted before it (which reads neither).
        let mut start = 0;
        if let Some(scan) = self.full_scan.get_mut(protocol.index()) {
            start = usize::from(scan.evict_from);
            // The capacity is a power of two: a mask, not a division.
            scan.evict_from = (start.wrapping_add(count) & capacity.wrapping_sub(1)) as u16;
        }
        let config = &self.config;
        let admitted = newcomer.opened_by_remote();
        // A host at its quota would be refused after the eviction: it may only replace its own.
        let own_only = quota != 0 && self.hosts.sessions(newcomer.inside, protocol, opener) >= usize::from(quota);
        let table = self.tables.get(protocol);
        let victim = table.least_recent(start, count, now, |s| {
            // Both tests as values, joined without a branch (full 4 B less than `&&`).
            if (s.inside != newcomer.inside) & own_only {
                return None;
            }
            // Closed first, then transitory, then idle: the smallest reason wins (ranks 3 to 1).
            eviction(config, protocol, s, admitted, now).map(|reason| 3u8.saturating_sub(reason as u8))
        });
        let Some((slot, rank, session)) = victim else { return false };
        // Remembered straight from its slot, before it goes (no copy of it kept meanwhile).
        // Without `evict` only closed connections give way: none is owed a reset.
        #[cfg(not(feature = "evict"))]
        let _ = session;
        #[cfg(feature = "evict")]
        if protocol == Protocol::Tcp && established(u32::from(session.state)) {
            self.evicted.remember(session);
        }
        self.discard(protocol, slot, false);
        // The rank is 3 - the reason (see above); without `evict` the reason is `Closed`.
        let reason = if cfg!(feature = "evict") { 3usize.wrapping_sub(usize::from(rank)) } else { Eviction::Closed as usize };
        if let Some(count) = self.stats.evicted.get_mut(reason) {
            *count = count.wrapping_add(1);
        }
        true
    }

    /// For a TCP segment that found no session: true when its sender is owed an RST, for it
    /// belongs to a connection evicted while established (never in answer to an RST). The
    /// netif as the word its callers hold, not zero-extended again on entry (full 2 B).
    #[cfg(feature = "evict")]
    pub(super) fn reset_evicted(&self, flow: &Flow, direction: Direction, netif_word: u32) -> bool {
        let netif = netif_word as u8;
        let is_candidate = flow.protocol == Protocol::Tcp && flow.tcp_flags & tcp_flags::RST == 0;
        is_candidate && self.evicted.holds(flow, direction, netif)
    }

    /// True when a full table's `session` would give way to a new outbound flow now (dumps).
    pub fn evictable(&self, protocol: Protocol, session: &Session, now: u32) -> bool {
        eviction(&self.config, protocol, session, false, now).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rotation test agrees with `tcp::is_established` on every state byte, whatever its
    /// bookkeeping bits.
    #[test]
    fn rotated_established_bits_agree_with_is_established() {
        for byte in 0..=u8::MAX {
            assert_eq!(established(u32::from(byte)), tcp::is_established(byte & 0x1F), "{byte:#x}");
        }
    }

    #[test]
    fn state_sets_are_the_state_tests() {
        for state in 0..32u8 {
            let bit = 1u32 << state;
            for &protocol in PROTOCOLS.iter() {
                let (closed, transitory) = classes(protocol);
                let tcp = protocol == Protocol::Tcp;
                assert_eq!(closed & bit != 0, tcp && tcp::is_closed(state), "{protocol:?} {state}");
                let expected = match protocol {
                    Protocol::Tcp => !tcp::is_established(state),
                    Protocol::Udp => state & udp::ANSWERED != 0,
                    Protocol::Icmp => false,
                };
                assert_eq!(transitory & bit != 0, expected, "{protocol:?} {state}");
            }
        }
    }
}
