//! The NAT: one packet's way through validation, rules, session tables and rewrite, as one
//! readable function per step.
//!
//! Uses every module above it (`wire` up to `config`); only `ffi` uses it.

use crate::config::{Config, ConfigError, MAX_HOSTS, MAX_ICMP, MAX_PORTMAPS, MAX_RULES, MAX_TCP, MAX_UDP};
#[cfg(feature = "reassembly")]
use crate::config::{REASS_BLOCKS, REASS_SLOTS};
use crate::flow::{self, Flow, Message, Side};
#[cfg(feature = "mss-clamp")]
use crate::mss;
use crate::mss::LinkMtus;
use crate::portmap::{Portmap, PortmapError, Portmaps};
use crate::random::Random;
#[cfg(feature = "reassembly")]
use crate::reass::Reassembly;
use crate::rewrite;
use crate::rule::{self, Rule, RuleError, Rules};
use crate::stats::Stats;
use crate::tables::host::{Acquired, Hosts, Opener, Refused};
use crate::tables::tcp::{self, Direction};
#[cfg(feature = "filtering")]
use crate::tables::inside_has_sent;
use crate::tables::table::is_mapped;
use crate::tables::{is_expired, port, udp, UDP_INBOUND_ONLY};
use crate::tables::{Filtering, FixedTable, Inbound, Protocol, Session, Slot, Table};
use crate::verdict::{DropReason, IcmpRequest, Verdict};
use crate::wire::ipv4::{self, is_martian, is_martian_net};
use crate::wire::tcp::flags as tcp_flags;
#[cfg(feature = "evict")]
use evict::Evicted;
pub use evict::Eviction;
use outbound::NoSession;

mod chain;
#[cfg(feature = "fast-path")]
mod established;
mod evict;
mod fragments;
#[cfg(feature = "hairpin")]
mod hairpin;
mod inbound;
mod outbound;
#[cfg(feature = "fast-path")]
pub(crate) mod quiet;
mod services;
mod session;

pub use services::PortCheck;

/// Where lwIP would send the packet, as the caller (the lwIP shim) worked it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Addressed to the router itself; `netif` owns the destination address and has MTU `mtu`
    /// (0 = unknown: inbound SYNs are then clamped to an MTU learned from outbound traffic).
    Local {
        /// The netif that owns the destination address.
        netif: u8,
        /// Its MTU; 0 = unknown.
        mtu: u16,
    },
    /// To be forwarded out of `out_netif`, whose address is `out_addr` and MTU `out_mtu`
    /// (0 = unknown, no DF check).
    Forward {
        /// The output netif.
        out_netif: u8,
        /// Its address (host byte order): the external address.
        out_addr: u32,
        /// Its MTU; 0 = unknown.
        out_mtu: u16,
    },
}

/// Everything the core needs to know about a packet besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// lwIP index of the netif the packet arrived on.
    pub in_netif: u8,
    /// Where lwIP would send it.
    pub route: Route,
}

/// The three session tables, in C order with TCP's, the largest, last: the table choice
/// then reaches UDP's at the tables' address and ICMP's within an add's 12-bit immediate,
/// where TCP's first put both beyond it (a `movw` and an add each).
#[repr(C)]
struct Tables<const TCP: usize, const UDP: usize, const ICMP: usize> {
    udp: FixedTable<UDP>,
    icmp: FixedTable<ICMP>,
    tcp: FixedTable<TCP>,
}

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Tables<TCP, UDP, ICMP> {
    #[inline(never)]
    fn get(&self, protocol: Protocol) -> &Table {
        match protocol {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
            Protocol::Icmp => &self.icmp,
        }
    }

    /// As [`get`](Self::get), mutably: an in-line wrapper handing the protocol's number as a
    /// word to [`get_number_mut`](Self::get_number_mut), so a caller's byte (loaded
    /// zero-extended already) is not zero-extended again on entry.
    #[inline(always)]
    fn get_mut(&mut self, protocol: Protocol) -> &mut Table {
        self.get_number_mut(u32::from(protocol as u8))
    }

    /// The table of the [`Protocol`] numbered `number`: 6 TCP, 1 ICMP, any other UDP (17, the
    /// only other number [`get_mut`](Self::get_mut) hands it; 3 from `reset_valid`, 11 from
    /// `recount_sessions`).
    #[inline(never)]
    fn get_number_mut(&mut self, number: u32) -> &mut Table {
        if number == Protocol::Tcp as u32 {
            &mut self.tcp
        } else if number == Protocol::Icmp as u32 {
            &mut self.icmp
        } else {
            &mut self.udp
        }
    }

    /// The table of a [`Plain`](crate::flow::Plain) packet, which is TCP or UDP: a two-way
    /// choice on the fast path.
    #[cfg(feature = "fast-path")]
    #[inline(always)]
    fn plain(&mut self, protocol: Protocol) -> &mut Table {
        if protocol == Protocol::Tcp {
            &mut self.tcp
        } else {
            &mut self.udp
        }
    }
}

/// Port forwards a NAT holds: none when built without `portmap`, so every lookup folds away
/// and `add_portmap` answers `Full`.
const PORTMAP_SLOTS: usize = if cfg!(feature = "portmap") { MAX_PORTMAPS } else { 0 };

/// The tables' protocols in their index order (`Protocol::index`). A `static` walked by
/// reference: a loop over a `const` array by value built the array on the stack each time.
pub(crate) static PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp];

/// A whole NAT: settings, rules, session tables, counters. No global state, no heap: the
/// caller owns it (the C API keeps one in a `static`). Capacities are the build's
/// `LWIP_SNAT_MAX_*` unless given.
///
/// In C order with the session tables last: the small fields then lie within the 4 KiB a load
/// or store reaches from the NAT's address with one offset, not 11 KiB further on behind the
/// tables. The rules go right before the tables (after reass): elsewhere (first, or after
/// config) the fast path, which reads the rules' memo first and the tables next, measured 4 to
/// 5 more M4 instructions per established outbound packet; here it measured 6 fewer than in
/// the order rustc chose. Measured orders are in the commit that set this one. With
/// `reassembly` and `evict` (full build, thumbv7em, default capacities) the rules start at
/// 8 KiB and the tables 64 bytes later, both offsets an add's modified immediate (one 4-byte
/// `add.w`, where any other took a `movw` and an add): `full_scan` and `port_check`, 28
/// bytes, fill the gap, and the memory of evicted connections, rarely reached, goes after the
/// tables.
#[repr(C)]
pub struct Nat<const TCP: usize = MAX_TCP, const UDP: usize = MAX_UDP, const ICMP: usize = MAX_ICMP> {
    config: Config,
    /// The UDP idle timeouts of `config` by the three low UDP state bits ([`udp_timeout`]): one
    /// load on the fast path instead of a choice.
    udp_timeouts: [u32; 8],
    stats: Stats,
    /// What the rules, port forwards and sessions make of each netif (see `quiet`); the C API
    /// lends the lwIP shim a pointer to it. A shortcut, kept with the fast path.
    #[cfg(feature = "fast-path")]
    pub(crate) concerns: quiet::Concerns,
    random: Random,
    hosts: Hosts<MAX_HOSTS>,
    link_mtus: LinkMtus,
    portmaps: Portmaps<PORTMAP_SLOTS>,
    #[cfg(feature = "reassembly")]
    reass: Reassembly<REASS_SLOTS, REASS_BLOCKS>,
    rules: Rules<MAX_RULES>,
    /// Per protocol (by [`Protocol::index`]): when its full table was last scanned for expired
    /// sessions in vain, and where its next eviction search starts (see `create`).
    full_scan: [FullScan; 3],
    /// Which ports the router's own endpoints hold (see [`PortCheck`]); `None`: unknown.
    port_check: Option<PortCheck>,
    tables: Tables<TCP, UDP, ICMP>,
    /// Established TCP connections evicted lately, to reset when their ends next send
    /// (`evict` only: without it none is evicted).
    #[cfg(feature = "evict")]
    evicted: Evicted,
}

/// A protocol's table when full: its last fruitless reclaim scan (all zero: none yet), so a
/// flood against a full table costs O(1) per packet, not a scan each, and where the next
/// search for a session that may give way starts. One entry per protocol rather than an
/// array per field: `create` reaches the three fields from one address (in this order, of
/// the four measured, with the least code; 8 bytes each, the RAM of the two arrays).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct FullScan {
    pub(crate) evict_from: u16,
    pub(crate) done: bool,
    pub(crate) at: u32,
}

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Default for Nat<TCP, UDP, ICMP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// A NAT with no rules (it translates nothing) and all-zero state: call
    /// [`reset`](Self::reset) with settings and a real seed before use. `const` and all zero
    /// bytes, so a `static` one lives in `.bss` and costs no flash.
    pub const fn new() -> Self {
        Nat {
            config: Config::UNSET,
            rules: Rules::new(),
            portmaps: Portmaps::new(),
            tables: Tables { tcp: FixedTable::new(), udp: FixedTable::new(), icmp: FixedTable::new() },
            link_mtus: LinkMtus::new(),
            hosts: Hosts::new(),
            #[cfg(feature = "reassembly")]
            reass: Reassembly::new(),
            random: Random::new([0, 0]),
            full_scan: [FullScan { at: 0, evict_from: 0, done: false }; 3],
            udp_timeouts: [0; 8],
            stats: Stats {
                translated_out: 0,
                translated_in: 0,
                icmp_errors_translated: 0,
                passed: 0,
                icmp_requested: 0,
                hairpinned: 0,
                mss_clamped: 0,
                dropped: [0; DropReason::COUNT],
                created: [0; 3],
                expired: [0; 3],
                fragments_held: 0,
                reassembled: 0,
                reass_expired: 0,
                hosts_untracked: 0,
                reass_evicted: 0,
                reass_released: 0,
                evicted: [0; 3],
                resets_requested: 0,
            },
            #[cfg(feature = "evict")]
            evicted: Evicted::new(),
            port_check: None,
            #[cfg(feature = "fast-path")]
            concerns: quiet::Concerns::new(),
        }
    }

    /// Clears all state in place and starts over with `config` and a 128-bit random `seed`
    /// (folded into the key of port choice and of the table hashes).
    pub fn reset(&mut self, config: Config, seed: [u64; 2]) -> Result<(), ConfigError> {
        config.validate()?;
        self.reset_valid(config, seed);
        Ok(())
    }

    /// `reset` with settings already validated (the C API checks them at its boundary, where
    /// it names what is wrong): the check is made once.
    pub(crate) fn reset_valid(&mut self, config: Config, seed: [u64; 2]) {
        // Everything back to `new`'s all-zero bytes in one fill (no rules, port forwards,
        // sessions, hosts, fragments, counters or per-netif facts), the registered port check
        // kept; then the settings, the generator and each table's secret drawn from it, in
        // TCP, UDP, ICMP order. One fill costs less code than a clear per part.
        let port_check = self.port_check;
        *self = const { Self::new() };
        self.port_check = port_check;
        self.apply(config);
        // The fill above left the generator's counter at 0 (`new`'s), so only its key is
        // written: the same state as `Random::new(seed)`.
        self.random.rekey(seed);
        // The tables by the numbers 6, 3 and 1 (`get_number_mut`'s TCP, UDP as any other, ICMP),
        // each half the one before: one call in a loop, where three in line took more code
        // (minimal 10 B, full 8 B).
        let mut number = Protocol::Tcp as u32;
        while number != 0 {
            let key = self.random.next_u32();
            self.tables.get_number_mut(number).set_key(key);
            number >>= 1;
        }
    }

    /// Changes settings at run time; live sessions keep their ports and pick up new timeouts.
    /// A changed filter applies to the sessions the old one let in, too.
    pub fn set_config(&mut self, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        self.set_valid_config(config);
        Ok(())
    }

    /// `set_config` with settings already validated (see `reset_valid`).
    pub(crate) fn set_valid_config(&mut self, config: Config) {
        #[cfg(feature = "filtering")]
        {
            let old = self.apply(config);
            self.refilter(Protocol::Tcp, old.tcp_filtering);
            self.refilter(Protocol::Udp, old.udp_filtering);
        }
        // The one filter never changes: no session to remove.
        #[cfg(not(feature = "filtering"))]
        self.apply(config);
    }

    /// Puts validated settings in force (with the timeouts derived from them); returns the
    /// settings they replaced (built with `filtering`). Out of line: `reset` and `set_config` share it.
    #[inline(never)]
    fn apply(&mut self, config: Config) -> Filters {
        debug_assert_eq!(config.validate(), Ok(()));
        #[cfg(feature = "filtering")]
        let old = Filters { tcp_filtering: self.config.tcp_filtering, udp_filtering: self.config.udp_filtering };
        #[cfg(not(feature = "filtering"))]
        let old = Filters;
        self.config = config;
        // One timeout per state of the three state bits, each worked out at compile time to one
        // of the config's three UDP timeouts: three loads and eight stores, no loop (10 B less
        // than a `for_each` over the array, and than `array::from_fn`, which built it on the
        // stack first).
        let timeout = |state| udp_timeout(&config, state);
        self.udp_timeouts = [timeout(0), timeout(1), timeout(2), timeout(3), timeout(4), timeout(5), timeout(6), timeout(7)];
        old
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Mixes more entropy into the port-choice key.
    pub fn stir(&mut self, entropy: u64) {
        self.random.stir(entropy);
    }

    /// Installs an interface rule.
    pub fn add_rule(&mut self, rule: Rule) -> Result<(), RuleError> {
        self.rules.add(rule)?;
        #[cfg(feature = "fast-path")]
        self.recount_rules();
        Ok(())
    }

    /// Removes a rule. Sessions it created stay until they expire and keep translating both
    /// ways: replies still arrive, and the inside hosts' answers still leave translated.
    pub fn remove_rule(&mut self, rule: Rule) -> Result<(), RuleError> {
        self.rules.remove(rule)?;
        #[cfg(feature = "fast-path")]
        self.recount_rules();
        Ok(())
    }

    /// The interface rules installed.
    pub fn rules(&self) -> impl Iterator<Item = Rule> + '_ {
        self.rules.iter()
    }

    /// Forwards `map.ext_port` on `map.netif` to `map.inside:map.in_port`. Refused with
    /// `Conflict` when the port is forwarded already, a live mapping of another inside
    /// endpoint holds it, the router's own endpoint does (see [`PortCheck`]), or the inside
    /// endpoint has a live mapping on another port (one inside endpoint, one external port:
    /// RFC 4787 REQ-1); never a silent duplicate.
    pub fn add_portmap(&mut self, map: Portmap) -> Result<(), PortmapError> {
        let table = self.tables.get(map.protocol);
        // The inside endpoint's mapping word (see `Table::mapping_of`): mapped, to another port.
        let mapped_elsewhere = |mapping: u32| is_mapped(mapping) && mapping as u16 != map.ext_port;
        let conflict = map.protocol != Protocol::Icmp
            && (mapped_elsewhere(table.mapping_of(map.netif, map.inside, map.in_port))
                || table.any_on_port(map.netif, map.ext_port, |s| (s.inside, s.in_port) != (map.inside, map.in_port))
                || self.router_holds(map.protocol, map.netif, map.ext_port));
        if conflict {
            return Err(PortmapError::Conflict);
        }
        self.portmaps.add(map)?;
        #[cfg(feature = "fast-path")]
        self.recount_rules();
        Ok(())
    }

    /// Removes a port forward and the sessions that came in through it.
    pub fn remove_portmap(&mut self, map: Portmap) -> Result<(), PortmapError> {
        self.portmaps.remove(map)?;
        let doomed = Doomed {
            netif: u32::from(map.netif),
            inside: Some(map.inside),
            // (Without `portmap` there are no slots: the removal above fails, and this is never
            // reached.)
            #[cfg(feature = "portmap")]
            ports: crate::tables::table::both_ports(map.in_port, map.ext_port),
        };
        self.remove_sessions(Some(&doomed), 0);
        #[cfg(feature = "fast-path")]
        self.recount_rules();
        Ok(())
    }

    /// The port forwards installed.
    pub fn portmaps(&self) -> impl Iterator<Item = Portmap> + '_ {
        self.portmaps.iter()
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Sessions live now in one protocol's table.
    pub fn sessions_in_use(&self, protocol: Protocol) -> usize {
        self.tables.get(protocol).len()
    }

    /// Most sessions live at once in one protocol's table since the last reset.
    pub fn sessions_high_water(&self, protocol: Protocol) -> usize {
        self.tables.get(protocol).high_water()
    }

    /// Capacity of one protocol's table.
    pub fn capacity(&self, protocol: Protocol) -> usize {
        self.tables.get(protocol).capacity()
    }

    /// Every live session, for dumps: table by table in protocol order, each by slot.
    pub fn sessions(&self) -> impl Iterator<Item = (Protocol, &Session)> {
        // Walked by the caller's `for_each` (the C dump), a `flat_map` compiles to two nested
        // loops, less code than a walk over (table, slot) by hand (a `for` loop's `next` calls
        // on it take three times as much). Each table's slots walked up to the last ever taken
        // (`Table::live`), not to its capacity: no slot past it is in use.
        PROTOCOLS.iter().flat_map(move |&protocol| self.tables.get(protocol).live().map(move |s| (protocol, s)))
    }

    /// Protocol state bits of a session as the dump shows them (TCP: `tables::tcp`).
    pub fn session_state(session: &Session) -> u8 {
        session.protocol_state()
    }

    /// The idle timeout that applies to a session now.
    pub fn timeout_ms(&self, protocol: Protocol, session: &Session) -> u32 {
        self.timeout(protocol, Self::session_state(session))
    }

    /// Removes sessions idle past their timeout. Call about once a second.
    pub fn tick(&mut self, now: u32) {
        self.remove_of(None, None, Some(now));
    }

    /// The netif's address changed or it went down: its mappings are void.
    pub fn netif_changed(&mut self, netif: u8) {
        self.remove_of(Some(netif), None, None);
    }

    /// Drops every session of one inside host.
    pub fn remove_host(&mut self, inside: u32) {
        self.remove_of(None, Some(inside), None);
    }

    /// Drops every session and every fragment waiting for reassembly (rules and settings stay).
    pub fn flush(&mut self) {
        self.remove_of(None, None, None);
    }

    /// Drops the sessions of `netif`, of the inside host `inside`, of both, or (nothing named:
    /// the flush) every session and every fragment waiting for reassembly; with `expired_at`
    /// (and nothing else named: the tick), those idle past their timeout then, and the
    /// fragments that expired.
    /// Told which as data: the C API's upkeep builds one call for all four calls above
    /// (`crate::ffi`), and no all-`None` constant is kept.
    pub(crate) fn remove_of(&mut self, netif: Option<u8>, inside: Option<u32>, expired_at: Option<u32>) {
        // (The rest is the ports, a field only `portmap` builds.)
        #[cfg_attr(not(feature = "portmap"), allow(clippy::needless_update))]
        let doomed = Doomed { netif: netif.map_or(ANY_NETIF, u32::from), inside, ..Doomed::ALL };
        // The tick names nothing else: its removal asks the clock alone (no `Doomed`). One
        // call with both arguments chosen: a call in each arm of a `match` took the upkeep's
        // loop over the tables twice (minimal 28 B more).
        self.remove_sessions(expired_at.is_none().then_some(&doomed), expired_at.unwrap_or_default());
        match (netif, inside, expired_at) {
            (_, _, Some(now)) => self.expire_fragments(now),
            (None, None, None) => self.clear_fragments(),
            _ => {}
        }
    }

    /// Drops every fragment waiting for reassembly: the rest of [`flush`](Self::flush).
    fn clear_fragments(&mut self) {
        #[cfg(feature = "reassembly")]
        self.reass.clear();
    }

    /// Told which sessions by data rather than a closure: one copy of the removal loop serves
    /// every caller, expiry (`tick`: `doomed` `None`, the sessions expired at `now`) among
    /// them. Out of line with `portmap`, whose port forward removal calls it beside the C API's
    /// upkeep; without it the upkeep is its one caller, and in line there it takes less flash
    /// (minimal 16 B).
    #[cfg_attr(feature = "portmap", inline(never))]
    #[cfg_attr(not(feature = "portmap"), inline(always))]
    fn remove_sessions(&mut self, doomed: Option<&Doomed>, now: u32) {
        // Evicted connections go with the sessions they would have been: no RST in their name.
        // Not when sessions merely expire: only `tick` removes by expiry, which forgets none.
        #[cfg(feature = "evict")]
        if let Some(doomed) = doomed {
            self.evicted.forget(|s| doomed.matches(s));
        }
        for &protocol in PROTOCOLS.iter() {
            self.remove_from(protocol, doomed, 0, now);
        }
        #[cfg(feature = "fast-path")]
        self.recount_sessions();
    }

    /// Removes the sessions of one table that `doomed` picks, or with `doomed` `None` those
    /// expired at `now` (counted in `Stats::expired`): of the whole table (`mapping` 0), or of
    /// one mapping (its [`mapping_key`](crate::tables::table::mapping_key), a word in a
    /// register). Out of line with the choice as data: expiry and every other removal share
    /// one copy of the table's removal loop. The expiry as its own argument: an expiry names no
    /// netif, host or ports, so it builds no `Doomed` on the stack, and the loop asks it the
    /// clock alone. `doomed` by reference: a copy handed by value is the callee's to write, so
    /// the upkeep's loop built it again for each table (minimal 8 B more). The clock last, after
    /// `doomed` and the mapping: so the state byte goes to `timeout_of` as loaded in both
    /// builds (with the clock third, the minimal build took 10 B more for that, and its
    /// protocol bits 2 B more than now).
    #[inline(never)]
    fn remove_from(&mut self, protocol: Protocol, doomed: Option<&Doomed>, mapping: u32, now: u32) {
        let mut scan = self.tables.get(protocol).scan(mapping);
        loop {
            // One test or the other: the clock for an expiry, else the sessions named. The
            // state byte as loaded (full 18 B less than its protocol bits): `timeout_of`
            // answers the same for either.
            let picked = |s: &Session| match doomed {
                None => is_expired(s.last_used, now, self.timeout(protocol, s.state)),
                Some(doomed) => doomed.matches(s),
            };
            let Some(slot) = self.tables.get(protocol).next_picked(&mut scan, picked) else { return };
            // Removed, given back to its host and counted by the one out-of-line call.
            self.discard(protocol, u32::from(slot), doomed.is_none());
        }
    }

    /// Runs one packet through the NAT, rewriting it in place when it is translated.
    ///
    /// `packet` starts at the IPv4 header; bytes after its total length are ignored. `now` is
    /// the caller's millisecond clock (wrapping). Never panics, whatever the bytes.
    #[inline]
    pub fn process(&mut self, packet: &mut [u8], ctx: &Context, now: u32) -> Verdict {
        let datagram_len = packet.len();
        #[cfg(feature = "fast-path")]
        if let Some(verdict) = self.established(packet, datagram_len, ctx, now) {
            return verdict;
        }
        self.general(packet, datagram_len, ctx, now)
    }

    /// [`process`](Self::process) without the established-flow fast path: every packet takes
    /// the general pipeline. Same results, more instructions; for tests and benches that
    /// compare the two (with the `internals` feature).
    #[cfg(feature = "internals")]
    pub fn process_general(&mut self, packet: &mut [u8], ctx: &Context, now: u32) -> Verdict {
        self.general(packet, packet.len(), ctx, now)
    }

    /// The general pipeline for the first `packet.len()` bytes of a datagram of `datagram_len`
    /// bytes (more than `packet` only when the caller holds it in a chain: see `chain`).
    ///
    /// The quiet test here (with the fast path), the rest out of line (in line after the quiet
    /// test, the pipeline took more flash than the call costs). Without the fast path this is
    /// in line at the caller (the C API's packet function), which takes less flash still and fewer
    /// instructions per packet (the M4 measured); with it, out of line: at the caller, after
    /// the fast path, the quiet test cost the fast path instructions per established packet.
    #[cfg_attr(feature = "fast-path", inline(never))]
    #[cfg_attr(not(feature = "fast-path"), inline(always))]
    fn general(&mut self, packet: &mut [u8], datagram_len: usize, ctx: &Context, now: u32) -> Verdict {
        #[cfg(feature = "fast-path")]
        if self.passes_quietly(packet, ctx) {
            return Verdict::Pass;
        }
        self.pipeline(packet, datagram_len, ctx, now)
    }

    /// [`general`](Self::general) after its quiet test: validation, routing and translation,
    /// and the verdict's counter.
    #[inline(never)]
    fn pipeline(&mut self, packet: &mut [u8], datagram_len: usize, ctx: &Context, now: u32) -> Verdict {
        let verdict = self.route(packet, datagram_len, ctx, now);
        // The verdict's counter, then one increment for all of them.
        let stats = &mut self.stats;
        let counter = match verdict {
            Verdict::Pass | Verdict::Release => &mut stats.passed,
            Verdict::Drop(reason) => stats.drop_counter(reason),
            Verdict::SendIcmp(_) => &mut stats.icmp_requested,
            #[cfg(feature = "evict")]
            Verdict::SendTcpReset => &mut stats.resets_requested,
            // (without `evict` no reset is asked for: its counter is not compiled)
            #[cfg(not(feature = "evict"))]
            Verdict::SendTcpReset => return verdict,
            // Without `hairpin`, a translation's own counter by its route: forwarded, it went
            // out; to the router, it came in (see `count_translation`).
            #[cfg(not(feature = "hairpin"))]
            Verdict::Translated => match ctx.route {
                Route::Forward { .. } => &mut stats.translated_out,
                Route::Local { .. } => &mut stats.translated_in,
            },
            #[cfg(feature = "hairpin")]
            Verdict::Translated => return verdict,
            Verdict::Held | Verdict::Reassembled(_) => return verdict,
        };
        *counter = counter.wrapping_add(1);
        verdict
    }

    /// Validates the packet, then sends it down the local or forward path.
    fn route(&mut self, packet: &mut [u8], datagram_len: usize, ctx: &Context, now: u32) -> Verdict {
        // With the fast path, one call for the header's tests and its checksum, which share
        // the header length: the full build compares it with the buffer's length once, not
        // twice. Without it, the same two answers asked apart: one call measured more flash and
        // instructions there (a copy of the header length LLVM rewrote from the version nibble
        // is kept for the later readers).
        #[cfg(feature = "fast-path")]
        let head = ipv4::Packet::new_head_verified(&*packet, datagram_len);
        #[cfg(not(feature = "fast-path"))]
        let head = ipv4::Packet::new_head(&*packet, datagram_len).map(|ip| {
            let verified = ip.verify_checksum();
            (ip, verified)
        });
        let header = match head {
            Ok((ip, true)) => Header::of(&ip, ctx.in_netif),
            Ok(_) => return Verdict::Drop(DropReason::BadChecksum),
            Err(_) => return Verdict::Drop(DropReason::Malformed),
        };
        // The datagram, or as much of it as the caller's first buffer holds. Never shorter than
        // the fixed header, which `new_head_verified` found whole in the buffer and within the total
        // length (ipv4 test `an_accepted_head_cut_to_its_total_length_keeps_the_fixed_header`),
        // so the length test never refuses; made here, it tells the compiler so, and the
        // out-of-line parsers and rewrites the packet goes to drop their own test of it.
        let cut = header.total_len.min(packet.len());
        let Some(packet) = packet.get_mut(..cut).filter(|p| p.len() >= ipv4::HEADER_LEN) else {
            return Verdict::Drop(DropReason::Malformed);
        };
        // What the rules make of the way in and the way out (or the netif whose address it is):
        // asked once for either route.
        let (Route::Local { netif: out, .. } | Route::Forward { out_netif: out, .. }) = ctx.route;
        let direction = self.rules.direction(ctx.in_netif, out);
        match ctx.route {
            Route::Local { netif, mtu } => {
                // From a netif a rule translates to another netif's external address: hairpinning.
                let from_inside = ctx.in_netif != netif && direction == rule::Direction::Outbound;
                // Built without it, such a packet is the router's own: lwIP's, as for a port no
                // mapping uses (it is never translated and creates nothing).
                #[cfg(not(feature = "hairpin"))]
                if from_inside {
                    return Verdict::Pass;
                }
                let arrival = inbound::Arrival {
                    in_netif: ctx.in_netif,
                    netif,
                    mtu,
                    #[cfg(feature = "hairpin")]
                    from_inside,
                };
                self.inbound(packet, &header, arrival, now)
            }
            Route::Forward { out_netif, out_addr, out_mtu } => {
                if is_martian(header.src) {
                    return Verdict::Drop(DropReason::Martian);
                }
                // Each step called from one place only: no inlined copies of it.
                let reverse = direction == rule::Direction::Reverse;
                if direction != rule::Direction::Outbound {
                    if header.fragment {
                        // A fragment against a rule, or of a datagram that may belong to a live
                        // session (its ports are unknown): put together, it comes back whole
                        // and is judged like the rest.
                        if !reverse && !self.hosts.may_hold_sessions(header.src) {
                            return Verdict::Pass;
                        }
                        let otherwise =
                            if reverse { Verdict::Drop(DropReason::ReverseDirection) } else { Verdict::Pass };
                        return self.reassemble(packet, ctx.in_netif, now, otherwise);
                    }
                    // Against a rule (from the outside straight to an inside address): only
                    // traffic of a live session on the way in may pass, untranslated. No rule
                    // concerns it: translated only as part of a live session, so this creates
                    // none. One call asks either.
                    let (inside, netif) =
                        if reverse { (Side::Destination, u32::from(ctx.in_netif)) } else { (Side::Source, u32::from(out_netif)) };
                    let live = self.live_session_word(packet, inside, netif, now) != 0;
                    if reverse {
                        return if live { Verdict::Pass } else { Verdict::Drop(DropReason::ReverseDirection) };
                    }
                    if !live {
                        return Verdict::Pass;
                    }
                }
                self.outbound(packet, &header, out_netif, out_addr, out_mtu, now)
            }
        }
    }
}

/// Fragments. Only the first fragment carries the ports, so a datagram
/// is put together before any rule or mapping is applied to it, then handed back whole to be
/// re-injected into `ip4_input()`: it comes through [`Nat::process`] again unfragmented,
/// is translated, and lwIP fragments it again for the output link.
#[cfg(feature = "reassembly")]
impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// The datagram the last [`Verdict::Reassembled`] announced (empty otherwise): copy it into
    /// a fresh pbuf and feed that to `ip4_input()` before the next call into the NAT.
    pub fn reassembled(&self) -> &[u8] {
        self.reass.datagram()
    }

    /// After [`Verdict::Release`]: writes the next fragment the NAT held of the released
    /// datagram into `buf` and returns its length, or 0 when none is left (an empty `buf`
    /// discards the rest). Re-inject each into `ip4_input()` before the next call.
    pub fn next_released(&mut self, buf: &mut [u8]) -> usize {
        self.reass.next_released(buf)
    }

    /// Datagrams waiting for more fragments, and the pool bytes they hold.
    pub fn fragments_in_flight(&self) -> (usize, usize) {
        (self.reass.in_flight(), self.reass.bytes_in_use())
    }

    /// Takes a fragment of a TCP, UDP or ICMP datagram, arrived on `in_netif`, into the pool;
    /// `otherwise` for other protocols, which no session translates (the caller decides their
    /// fate).
    fn reassemble(&mut self, packet: &[u8], in_netif: u8, now: u32, otherwise: Verdict) -> Verdict {
        // Byte 9 of the IPv4 header (the pipeline validated it): its protocol.
        if packet.get(9).copied().and_then(Protocol::from_ip).is_none() {
            return otherwise;
        }
        // Stale datagrams go first, so a late `tick` never keeps a new one out.
        self.expire_fragments(now);
        let outcome = self.reass.accept(packet, in_netif, now);
        // A fragment kept is counted held, and a datagram completed by it (a length, not 0)
        // reassembled too (its flag added as 0 or 1): each count written once.
        let (verdict, held, complete) = match outcome {
            Ok(0) => (Verdict::Held, 1, 0),
            Ok(len) => (Verdict::Reassembled(usize::from(len)), 1, 1),
            Err(reason) => (Verdict::Drop(reason), 0, 0),
        };
        // A copy of the pool's own count (evictions happen only in `accept`).
        self.stats.reass_evicted = self.reass.evicted();
        self.stats.fragments_held = self.stats.fragments_held.wrapping_add(held);
        self.stats.reassembled = self.stats.reassembled.wrapping_add(complete);
        verdict
    }

    fn expire_fragments(&mut self, now: u32) {
        self.reass.expire(now, self.config.reass_timeout_ms, &mut self.stats.reass_expired);
    }
}

/// Built without reassembly: no datagram is ever put together. A fragment on a NAT path is
/// dropped and counted (`DropReason::Fragment`): the later fragments carry no ports, so they can
/// be neither matched to a session nor let through with their private source.
#[cfg(not(feature = "reassembly"))]
impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// Always empty: no datagram is reassembled.
    pub fn reassembled(&self) -> &[u8] {
        &[]
    }

    /// Always 0: no fragment is held.
    pub fn next_released(&mut self, _buf: &mut [u8]) -> usize {
        0
    }

    /// Always `(0, 0)`: there is no pool.
    pub fn fragments_in_flight(&self) -> (usize, usize) {
        (0, 0)
    }

    /// Drops a fragment of a TCP, UDP or ICMP datagram; `otherwise` for other protocols, which
    /// no session translates (the caller decides their fate). Out of line: three callers.
    /// `packet` is a datagram the pipeline validated: its protocol byte is read as it is.
    #[inline(never)]
    fn reassemble(&mut self, packet: &[u8], _in_netif: u8, _now: u32, otherwise: Verdict) -> Verdict {
        // Byte 9 of the IPv4 header: its protocol.
        let protocol = packet.get(9).copied();
        match protocol.and_then(Protocol::from_ip) {
            Some(_) => Verdict::Drop(DropReason::Fragment),
            None => otherwise,
        }
    }

    fn expire_fragments(&mut self, _now: u32) {}
}

/// Counts a translation of the general path in `translated_out` or `translated_in` where it
/// is made, with `hairpin` only: a packet to the router may be turned round there (counted
/// `hairpinned`). Without it the route tells the direction, and the pipeline counts it with
/// the verdict's other counters, one increment for all (minimal 18 B less).
#[inline(always)]
fn count_translation(counter: &mut u32) {
    if cfg!(feature = "hairpin") {
        *counter = counter.wrapping_add(1);
    }
}

/// A UDP session's timeout: the short one of its service once a DNS or NTP query was
/// answered (RFC 4787 REQ-5a), the general one otherwise.
#[inline(always)]
fn udp_timeout(config: &Config, state: u8) -> u32 {
    if state & udp::ANSWERED == 0 {
        config.udp_ms
    } else if state & udp::NTP != 0 {
        config.udp_ntp_ms
    } else {
        config.udp_dns_ms
    }
}

/// The filtering modes a configuration change replaced.
#[cfg(feature = "filtering")]
struct Filters {
    tcp_filtering: Filtering,
    udp_filtering: Filtering,
}

/// Built without `filtering` there is one mode, nothing to remember.
#[cfg(not(feature = "filtering"))]
struct Filters;

/// [`Doomed::netif`] when any netif's sessions go.
const ANY_NETIF: u32 = u32::MAX;

/// [`Doomed::ports`] when any ports' sessions go: a port forward's two ports are never 0
/// (`Portmaps::add` refuses port 0, and only a forward it holds is removed).
#[cfg(feature = "portmap")]
const ANY_PORTS: u32 = 0;

/// The sessions a removal concerns: those that match every field given ([`ANY_NETIF`] for
/// the netif, `None` for the inside host: any). The netif as a word with a value no netif has,
/// not an `Option<u8>`: the removal loop keeps one register for it, not a tag and a byte
/// (minimal 4 B). An expiry is no `Doomed`: it names none of these, and
/// [`Nat::remove_from`] takes its clock apart.
///
/// In C order, the ports first (the order that, with the expiry's field still in it, built it
/// on the stack with fewer stores than Rust's order).
#[derive(Clone, Copy)]
#[repr(C)]
struct Doomed {
    /// Inside port in the low half, external port in the high, or [`ANY_PORTS`] (asked only
    /// by `remove_portmap`: not built without `portmap`). One word, not an `Option` of two
    /// halves: one load and one compare against the session's two ports as a word.
    #[cfg(feature = "portmap")]
    ports: u32,
    /// The netif's number, or [`ANY_NETIF`] (no netif is numbered above 255).
    netif: u32,
    inside: Option<u32>,
}

impl Doomed {
    const ALL: Doomed = Doomed {
        netif: ANY_NETIF,
        inside: None,
        #[cfg(feature = "portmap")]
        ports: ANY_PORTS,
    };

    /// Out of line with `evict`: the removal loop and the evicted connections' share one
    /// copy. Without it the removal loop is its one caller, and in line it takes less flash
    /// (minimal 22 B).
    ///
    /// Ports are asked only by `remove_portmap`, after a port forward was removed: a build
    /// without port forward slots (no `portmap` feature) never gets that far, so there the
    /// field and its test are left out (the removals build the rest with fewer stores).
    #[inline(always)]
    fn matches(&self, s: &Session) -> bool {
        self.matches_on(s, u32::from(s.netif))
    }

    /// [`matches`](Self::matches) with the session's netif handed as a word (its byte, loaded
    /// zero-extended by the callers), not zero-extended again on entry.
    #[cfg_attr(feature = "evict", inline(never))]
    #[cfg_attr(not(feature = "evict"), inline(always))]
    fn matches_on(&self, s: &Session, s_netif: u32) -> bool {
        (s_netif == self.netif || self.netif == ANY_NETIF)
            && self.inside.is_none_or(|inside| s.inside == inside)
            && self.ports_match(s)
    }

    /// The ports' part of [`matches_on`](Self::matches_on).
    #[cfg(feature = "portmap")]
    #[inline(always)]
    fn ports_match(&self, s: &Session) -> bool {
        self.ports == ANY_PORTS || crate::tables::table::both_ports(s.in_port, s.ext_port) == self.ports
    }

    /// Built without `portmap`: no removal names ports.
    #[cfg(not(feature = "portmap"))]
    #[inline(always)]
    fn ports_match(&self, _: &Session) -> bool {
        true
    }
}

/// How an inbound flow may use a mapping. (The variants' order only numbers them: a new
/// session first took the least code, measured.)
#[derive(Clone, Copy, Debug)]
enum Admission {
    /// A new session for a remote the filter or a port forward lets in (neither is built
    /// without `filtering` and `portmap`).
    #[cfg(any(feature = "filtering", feature = "portmap"))]
    New(Session),
    /// Its own session.
    Session(Slot),
}

/// The IPv4 header fields the pipeline decides on, read once.
struct Header {
    src: u32,
    dst: u32,
    ttl: u8,
    total_len: usize,
    dont_frag: bool,
    fragment: bool,
    /// The netif it arrived on (a fragment's datagram is keyed on it).
    in_netif: u8,
}

impl Header {
    fn of<T: AsRef<[u8]>>(ip: &ipv4::Packet<T>, in_netif: u8) -> Header {
        Header {
            src: ip.src_addr(),
            dst: ip.dst_addr(),
            ttl: ip.ttl(),
            total_len: ip.total_len(),
            dont_frag: ip.dont_frag(),
            fragment: ip.is_fragment(),
            in_netif,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get_mut` (through the protocol's number) picks the table `get` (by the protocol) does,
    /// for each of the three protocols: told apart by their capacities.
    #[test]
    fn get_mut_picks_the_table_get_does() {
        let mut tables: Tables<4, 2, 1> =
            Tables { tcp: FixedTable::new(), udp: FixedTable::new(), icmp: FixedTable::new() };
        for (protocol, capacity) in [(Protocol::Tcp, 4), (Protocol::Udp, 2), (Protocol::Icmp, 1)] {
            assert_eq!(tables.get(protocol).capacity(), capacity);
            assert_eq!(tables.get_mut(protocol).capacity(), capacity);
            let (shared, mutable): (*const Table, *const Table) = (tables.get(protocol), tables.get_mut(protocol));
            assert_eq!(shared, mutable);
        }
    }

    /// `discard` counts a removal in `expired` exactly when told it expired (the flag added as
    /// 0 or 1), in its protocol's count only.
    #[test]
    fn discard_counts_only_expired_removals() {
        let mut nat = Nat::<4, 4, 4>::new();
        let session = Session { inside: 1, in_port: 1000, ext_port: 1000, remote: 2, remote_port: 53, netif: 1, ..Session::default() };
        for expired in [false, true, false] {
            let slot = nat.tables.get_mut(Protocol::Udp).insert(session).ok().unwrap();
            nat.discard(Protocol::Udp, u32::from(slot), expired);
            assert!(nat.tables.get(Protocol::Udp).get(slot).is_none());
        }
        assert_eq!(nat.stats().expired, [0, 1, 0]);
    }

    /// `reset_valid` keys the tables by the numbers 6, 3 and 1 (each half the one before, from
    /// TCP's): TCP's, UDP's and ICMP's tables, in that order, so each gets the key it got when
    /// they were named one by one.
    #[test]
    fn numbers_6_3_1_are_tcp_udp_icmp() {
        let mut tables: Tables<4, 2, 1> =
            Tables { tcp: FixedTable::new(), udp: FixedTable::new(), icmp: FixedTable::new() };
        let numbers: [u32; 3] = core::array::from_fn(|step| Protocol::Tcp as u32 >> step);
        assert_eq!(numbers, [6, 3, 1]);
        assert_eq!(Protocol::Tcp as u32 >> 3, 0);
        for (number, protocol) in numbers.into_iter().zip(PROTOCOLS) {
            let (by_protocol, by_number): (*const Table, *const Table) =
                (tables.get(protocol), tables.get_number_mut(number));
            assert_eq!(by_protocol, by_number, "{number}");
        }
    }

    /// The inbound translation rewrites the destination before it clamps the MSS
    /// (`deliver_word`): the bytes out are those of clamping first, the TCP checksum
    /// included, whatever it held (every value for some segments, 0 and 0xFFFF among them;
    /// random ones for many more), with the MSS option at even and odd offsets, clamped or
    /// not, once or twice, on either side of the rewrite.
    #[cfg(feature = "mss-clamp")]
    #[test]
    fn rewrite_and_clamp_commute() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut clamped = 0;
        for round in 0..3000 {
            let r = next();
            // Options: 0 to 3 NOPs, an MSS, sometimes a second after one NOP, NOPs to a
            // multiple of 4 bytes.
            let mut options = [1u8; 16];
            let mut len = (r % 4) as usize;
            let mss_count = 1 + (r >> 2 & 1) as usize;
            for _ in 0..mss_count {
                let value = (next() as u16).to_be_bytes();
                options[len..len + 4].copy_from_slice(&[2, 4, value[0], value[1]]);
                len += 5;
            }
            let options_len = len.div_ceil(4) * 4;
            let tcp_len = 20 + options_len;
            let total = 20 + tcp_len;
            let mut packet = [0u8; 60];
            let r = next();
            packet[..20].copy_from_slice(&[
                0x45,
                0,
                0,
                total as u8,
                r as u8,
                (r >> 8) as u8,
                0x40,
                0,
                64,
                6,
                (r >> 16) as u8,
                (r >> 24) as u8,
                10,
                0,
                0,
                (r >> 32) as u8,
                203,
                0,
                113,
                (r >> 40) as u8,
            ]);
            let r = next();
            let tcp = &mut packet[20..total];
            tcp[..4].copy_from_slice(&(r as u32).to_be_bytes());
            tcp[12] = ((tcp_len / 4) as u8) << 4;
            tcp[13] = tcp_flags::SYN;
            tcp[20..].copy_from_slice(&options[..options_len]);
            let limit = mss::max_mss(128 + (r >> 32) as u16 % 1400).unwrap_or(88);
            let (addr, port) = (next() as u32, (r >> 48) as u16);
            let side = if round % 2 == 0 { Side::Destination } else { Side::Source };
            let checksums: &mut dyn Iterator<Item = u16> =
                if round < 12 { &mut (0..=u16::MAX) } else { &mut [0, 0xFFFF, next() as u16, next() as u16].into_iter() };
            for checksum in checksums {
                packet[36..38].copy_from_slice(&checksum.to_be_bytes());
                let (mut first, mut second) = (packet, packet);
                let clamp_first = mss::clamp(&mut first[..total], limit);
                rewrite::endpoint(&mut first[..total], side, addr, port);
                rewrite::endpoint(&mut second[..total], side, addr, port);
                assert_eq!(mss::clamp(&mut second[..total], limit), clamp_first);
                assert_eq!(first, second, "{round} {checksum:#06x}");
                clamped += usize::from(clamp_first);
            }
        }
        assert!(clamped > 100_000, "{clamped}");
    }

    /// `recount_sessions` walks the tables by the numbers 1, 6 and 11 (steps of 5 from 1, below
    /// 16): they are ICMP's, TCP's and UDP's tables, each once, so every table is walked.
    #[test]
    fn numbers_1_6_11_are_the_three_tables() {
        let mut tables: Tables<4, 2, 1> =
            Tables { tcp: FixedTable::new(), udp: FixedTable::new(), icmp: FixedTable::new() };
        let numbers: [u32; 3] = core::array::from_fn(|step| 5 * step as u32 + 1);
        assert_eq!(numbers, [1, 6, 11]);
        for (number, protocol) in numbers.into_iter().zip([Protocol::Icmp, Protocol::Tcp, Protocol::Udp]) {
            let (by_protocol, by_number): (*const Table, *const Table) =
                (tables.get(protocol), tables.get_number_mut(number));
            assert_eq!(by_protocol, by_number, "{number}");
        }
    }
}
