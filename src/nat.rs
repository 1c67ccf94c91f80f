//! The NAT: one packet's way through validation, rules, session tables and rewrite
//! (DESIGN.md §2), as one readable function per step.

use crate::config::{Config, ConfigError, MAX_HOSTS, MAX_ICMP, MAX_PORTMAPS, MAX_RULES, MAX_TCP, MAX_UDP};
use crate::config::{REASS_BLOCKS, REASS_SLOTS};
use crate::flow::{self, Flow, Message};
use crate::mss::{self, LinkMtus};
use crate::pcb::host::{Hosts, Refused};
use crate::pcb::tcp::{self, Direction};
use crate::pcb::{is_expired, port, Filtering, FixedTable, Inbound, Protocol, Session, Slot, Table};
use crate::portmap::{Portmap, PortmapError, Portmaps};
use crate::random::Random;
use crate::reass::{Outcome, Reassembly};
use crate::rewrite::{self, Side};
use crate::rule::{self, Rule, RuleError, Rules};
use crate::stats::Stats;
use crate::verdict::{DropReason, IcmpRequest, Verdict};
use crate::wire::ipv4;
use crate::wire::tcp::flags as tcp_flags;

/// Where lwIP would send the packet, as the caller (the lwIP shim) worked it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Addressed to the router itself; `netif` owns the destination address.
    Local { netif: u8 },
    /// To be forwarded out of `out_netif`, whose address is `out_addr` and MTU `out_mtu`
    /// (0 = unknown, no DF check).
    Forward { out_netif: u8, out_addr: u32, out_mtu: u16 },
}

/// Everything the core needs to know about a packet besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// lwIP index of the netif the packet arrived on.
    pub in_netif: u8,
    pub route: Route,
}

/// The three session tables.
struct Tables<const TCP: usize, const UDP: usize, const ICMP: usize> {
    tcp: FixedTable<TCP>,
    udp: FixedTable<UDP>,
    icmp: FixedTable<ICMP>,
}

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Tables<TCP, UDP, ICMP> {
    fn get(&self, protocol: Protocol) -> &Table {
        match protocol {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
            Protocol::Icmp => &self.icmp,
        }
    }

    fn get_mut(&mut self, protocol: Protocol) -> &mut Table {
        match protocol {
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
            Protocol::Icmp => &mut self.icmp,
        }
    }
}

const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp];

/// A whole NAT: settings, rules, session tables, counters. No global state, no heap: the
/// caller owns it (the C API keeps one in a `static`). Capacities are the build's
/// `LWIP_SNAT_MAX_*` unless given.
pub struct Nat<const TCP: usize = MAX_TCP, const UDP: usize = MAX_UDP, const ICMP: usize = MAX_ICMP> {
    config: Config,
    rules: Rules<MAX_RULES>,
    portmaps: Portmaps<MAX_PORTMAPS>,
    tables: Tables<TCP, UDP, ICMP>,
    link_mtus: LinkMtus,
    hosts: Hosts<MAX_HOSTS>,
    reass: Reassembly<REASS_SLOTS, REASS_BLOCKS>,
    random: Random,
    stats: Stats,
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
            reass: Reassembly::new(),
            random: Random::new([0, 0]),
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
            },
        }
    }

    /// Clears all state in place and starts over with `config` and a 128-bit random `seed`
    /// (the key of port choice and of the table hashes).
    pub fn reset(&mut self, config: Config, seed: [u64; 2]) -> Result<(), ConfigError> {
        config.validate()?;
        self.config = config;
        self.random = Random::new(seed);
        self.rules.clear();
        self.portmaps.clear();
        self.link_mtus = LinkMtus::new();
        self.hosts.clear();
        self.reass.clear();
        self.stats = Stats::default();
        for protocol in PROTOCOLS {
            let secret = self.random.next_u32();
            self.tables.get_mut(protocol).clear(secret);
        }
        Ok(())
    }

    /// Changes settings at run time; live sessions keep their ports and pick up new timeouts.
    pub fn set_config(&mut self, config: Config) -> Result<(), ConfigError> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Mixes more entropy into the port-choice key.
    pub fn stir(&mut self, entropy: u64) {
        self.random.stir(entropy);
    }

    pub fn add_rule(&mut self, rule: Rule) -> Result<(), RuleError> {
        self.rules.add(rule)
    }

    /// Removes a rule. Sessions it created stay until they expire, so replies still arrive.
    pub fn remove_rule(&mut self, rule: Rule) -> Result<(), RuleError> {
        self.rules.remove(rule)
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// Forwards `map.ext_port` on `map.netif` to `map.inside:map.in_port`. Refused with
    /// `Conflict` when the port is forwarded already or a live mapping of another inside
    /// endpoint holds it; never a silent duplicate.
    pub fn add_portmap(&mut self, map: Portmap) -> Result<(), PortmapError> {
        let held_by_other = self.tables.get(map.protocol).iter().any(|(_, s)| {
            s.netif == map.netif && s.ext_port == map.ext_port && (s.inside, s.in_port) != (map.inside, map.in_port)
        });
        if map.protocol != Protocol::Icmp && held_by_other {
            return Err(PortmapError::Conflict);
        }
        self.portmaps.add(map)
    }

    /// Removes a port forward and the sessions that came in through it.
    pub fn remove_portmap(&mut self, map: Portmap) -> Result<(), PortmapError> {
        self.portmaps.remove(map)?;
        self.remove_sessions(|s| {
            s.netif == map.netif && s.ext_port == map.ext_port && s.inside == map.inside && s.in_port == map.in_port
        });
        Ok(())
    }

    pub fn portmaps(&self) -> impl Iterator<Item = Portmap> + '_ {
        self.portmaps.iter()
    }

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

    /// Every live session, for dumps.
    pub fn sessions(&self) -> impl Iterator<Item = (Protocol, &Session)> {
        PROTOCOLS.into_iter().flat_map(move |p| self.tables.get(p).iter().map(move |(_, s)| (p, s)))
    }

    /// Protocol state bits of a session as the dump shows them (TCP: `pcb::tcp`).
    pub fn session_state(session: &Session) -> u8 {
        session.state & 0x7F
    }

    /// The idle timeout that applies to a session now.
    pub fn timeout_ms(&self, protocol: Protocol, session: &Session) -> u32 {
        self.timeout(protocol, Self::session_state(session))
    }

    /// Removes sessions idle past their timeout. Call about once a second.
    pub fn tick(&mut self, now: u32) {
        let config = self.config;
        for protocol in PROTOCOLS {
            let expired = &mut self.stats.expired[protocol.index()];
            let hosts = &mut self.hosts;
            self.tables.get_mut(protocol).remove_if(
                |s| is_expired(s.last_used, now, timeout_for(&config, protocol, s.state & 0x7F)),
                |s| {
                    hosts.release(s.inside);
                    *expired = expired.wrapping_add(1);
                },
            );
        }
        self.expire_fragments(now);
    }

    /// The netif's address changed or it went down: its mappings are void.
    pub fn netif_changed(&mut self, netif: u8) {
        self.remove_sessions(|s| s.netif == netif);
    }

    /// Drops every session of one inside host.
    pub fn remove_host(&mut self, inside: u32) {
        self.remove_sessions(|s| s.inside == inside);
    }

    /// Drops every session and every fragment waiting for reassembly (rules and settings stay).
    pub fn flush(&mut self) {
        self.remove_sessions(|_| true);
        self.reass.clear();
    }

    fn remove_sessions(&mut self, doomed: impl Fn(&Session) -> bool) {
        for protocol in PROTOCOLS {
            let hosts = &mut self.hosts;
            self.tables.get_mut(protocol).remove_if(&doomed, |s| hosts.release(s.inside));
        }
    }

    /// Runs one packet through the NAT, rewriting it in place when it is translated.
    ///
    /// `packet` starts at the IPv4 header; bytes after its total length are ignored. `now` is
    /// the caller's millisecond clock (wrapping). Never panics, whatever the bytes.
    pub fn process(&mut self, packet: &mut [u8], ctx: &Context, now: u32) -> Verdict {
        let verdict = self.route(packet, ctx, now);
        match verdict {
            Verdict::Pass => self.stats.passed = self.stats.passed.wrapping_add(1),
            Verdict::Drop(reason) => self.stats.count_drop(reason),
            Verdict::SendIcmp(_) => self.stats.icmp_requested = self.stats.icmp_requested.wrapping_add(1),
            Verdict::Translated | Verdict::Held | Verdict::Reassembled(_) => {}
        }
        verdict
    }

    /// Step 3 and 5 of the packet's way: validate, then send it down the local or forward path.
    fn route(&mut self, packet: &mut [u8], ctx: &Context, now: u32) -> Verdict {
        let total_len = match ipv4::Packet::new_checked(&*packet) {
            Ok(ip) if ip.verify_checksum() => ip.total_len(),
            Ok(_) => return Verdict::Drop(DropReason::BadChecksum),
            Err(_) => return Verdict::Drop(DropReason::Malformed),
        };
        let Some(packet) = packet.get_mut(..total_len) else {
            return Verdict::Drop(DropReason::Malformed);
        };
        match ctx.route {
            Route::Local { netif } => self.inbound(packet, ctx.in_netif, netif, now),
            Route::Forward { out_netif, out_addr, out_mtu } => {
                let header = Header::read(packet);
                if is_martian(header.src) {
                    return Verdict::Drop(DropReason::Martian);
                }
                match self.rules.direction(ctx.in_netif, out_netif) {
                    rule::Direction::Unrelated => Verdict::Pass,
                    rule::Direction::Reverse if header.fragment => {
                        self.reassemble(packet, now).unwrap_or(Verdict::Drop(DropReason::ReverseDirection))
                    }
                    rule::Direction::Reverse => self.reverse(packet, ctx.in_netif),
                    rule::Direction::Outbound => self.outbound(packet, &header, out_netif, out_addr, out_mtu, now),
                }
            }
        }
    }

    /// A packet a rule says to translate, inside → outside.
    fn outbound(&mut self, packet: &mut [u8], header: &Header, netif: u8, addr: u32, mtu: u16, now: u32) -> Verdict {
        // lwIP's ip4_forward() turns a TTL of 0 into 255 and forwards the packet: passed
        // untranslated, it would leave with its private source (RFC 1812 5.3.1: never forward it).
        if header.ttl == 0 {
            return Verdict::Drop(DropReason::TtlExpired);
        }
        // Left for lwIP, which answers the true (inside) sender with Time Exceeded -- except
        // about ICMP: lwIP's ip4_forward() sends none about any ICMP message (RFC 1812 4.3.2.7
        // only exempts errors), so the NAT asks for it or an ICMP traceroute never sees the hop.
        if header.ttl == 1 {
            return match flow::parse(packet, Side::Source) {
                Ok(Message::Flow(f)) if f.protocol == Protocol::Icmp && !header.fragment => {
                    Verdict::SendIcmp(IcmpRequest::TimeExceeded)
                }
                _ => Verdict::Pass,
            };
        }
        if header.dont_frag && mtu != 0 && header.total_len > usize::from(mtu) {
            return Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu });
        }
        if header.fragment {
            return self.reassemble(packet, now).unwrap_or(Verdict::Drop(DropReason::UnsupportedProtocol));
        }
        match flow::parse(packet, Side::Source) {
            Err(reason) => Verdict::Drop(reason),
            Ok(Message::Flow(flow)) => self.translate_outbound(packet, &flow, netif, addr, mtu, now),
            Ok(Message::IcmpError) => self.icmp_error_outbound(packet, netif, addr, now),
            Ok(Message::Other) => Verdict::Drop(DropReason::UnsupportedProtocol),
        }
    }

    fn translate_outbound(
        &mut self,
        packet: &mut [u8],
        flow: &Flow,
        netif: u8,
        addr: u32,
        mtu: u16,
        now: u32,
    ) -> Verdict {
        let slot = match self.outbound_session(flow, netif, now) {
            Ok(slot) => slot,
            Err(verdict) => return verdict,
        };
        let Some(session) = self.touch(flow, slot, Direction::Outbound, now) else {
            return Verdict::Drop(DropReason::NoMapping);
        };
        self.link_mtus.learn(netif, mtu);
        self.clamp_mss(packet, flow, mtu);
        rewrite::endpoint(packet, Side::Source, addr, session.ext_port);
        self.stats.translated_out = self.stats.translated_out.wrapping_add(1);
        Verdict::Translated
    }

    /// Finds the session of an outbound flow, creating it (and its mapping) when the flow may
    /// start one; `Err` is the verdict for a flow that cannot have one.
    fn outbound_session(&mut self, flow: &Flow, netif: u8, now: u32) -> Result<Slot, Verdict> {
        let found =
            self.tables.get(flow.protocol).find_outbound(netif, flow.src, flow.src_port, flow.dst, flow.dst_port);
        if let Some(slot) = found.filter(|&slot| self.is_live(flow.protocol, slot, now)) {
            return Ok(slot);
        }
        if !flow.creates {
            return Err(Verdict::Drop(DropReason::NoMapping));
        }
        let Some(ext_port) = self.external_port(flow, netif) else {
            return Err(self.refuse(DropReason::PortsExhausted));
        };
        let session = Session {
            inside: flow.src,
            in_port: flow.src_port,
            ext_port,
            remote: flow.dst,
            remote_port: flow.dst_port,
            netif,
            last_used: now,
            ..Session::default()
        };
        self.create(flow.protocol, session, now).map_err(|reason| self.refuse(reason))
    }

    /// The external port for the inside endpoint of an outbound flow: its port forward's, its
    /// existing mapping's (endpoint-independent mapping), or a newly allocated one.
    fn external_port(&mut self, flow: &Flow, netif: u8) -> Option<u16> {
        if let Some(map) = self.portmaps.by_inside(flow.protocol, netif, flow.src, flow.src_port) {
            return Some(map.ext_port);
        }
        let table = self.tables.get(flow.protocol);
        if let Some(port) = table.find_mapping(netif, flow.src, flow.src_port) {
            return Some(port);
        }
        let portmaps = &self.portmaps;
        port::allocate(flow.protocol, flow.src_port, self.config.port_range, &mut self.random, |port| {
            table.ext_port_in_use(netif, port) || portmaps.by_external(flow.protocol, netif, port).is_some()
        })
    }

    /// Updates a session for a packet going `direction` and returns it: TCP state, and the idle
    /// timer (TCP either way; UDP and ICMP outbound only, RFC 4787 REQ-6).
    fn touch(&mut self, flow: &Flow, slot: Slot, direction: Direction, now: u32) -> Option<Session> {
        let table = self.tables.get_mut(flow.protocol);
        if flow.protocol == Protocol::Tcp {
            let state = tcp::advance(table.state(slot), flow.tcp_flags, direction);
            table.set_state(slot, state);
        }
        let session = table.get_mut(slot)?;
        if flow.protocol == Protocol::Tcp || direction == Direction::Outbound {
            session.last_used = now;
        }
        Some(*session)
    }

    /// Clamps the MSS of a TCP SYN to what a link of `mtu` carries, when configured.
    fn clamp_mss(&mut self, packet: &mut [u8], flow: &Flow, mtu: u16) {
        if !self.config.mss_clamp || flow.protocol != Protocol::Tcp || flow.tcp_flags & tcp_flags::SYN == 0 {
            return;
        }
        if let Some(limit) = mss::max_mss(mtu) {
            if mss::clamp(packet, limit) {
                self.stats.mss_clamped = self.stats.mss_clamped.wrapping_add(1);
            }
        }
    }

    /// An ICMP error from inside about a datagram that came in through a mapping.
    fn icmp_error_outbound(&mut self, packet: &mut [u8], netif: u8, addr: u32, now: u32) -> Verdict {
        // The quoted datagram travelled outside → inside: its destination is the inside end.
        let quoted = match flow::parse_icmp_error(packet, Side::Destination) {
            Ok(quoted) => quoted,
            Err(reason) => return Verdict::Drop(reason),
        };
        let table = self.tables.get(quoted.protocol);
        let found = table.find_outbound(netif, quoted.dst, quoted.dst_port, quoted.src, quoted.src_port);
        let Some(slot) = found.filter(|&slot| self.is_live(quoted.protocol, slot, now)) else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        if !flow::icmp_error_checksums_ok(packet) {
            return Verdict::Drop(DropReason::IcmpBadChecksum);
        }
        let Some(ext_port) = self.tables.get(quoted.protocol).get(slot).map(|s| s.ext_port) else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        rewrite::icmp_error(packet, Side::Source, addr, ext_port);
        self.stats.translated_out = self.stats.translated_out.wrapping_add(1);
        self.stats.icmp_errors_translated = self.stats.icmp_errors_translated.wrapping_add(1);
        Verdict::Translated
    }

    /// A forwarded packet going the opposite way of a rule: from the outside straight to an
    /// inside address. Only traffic of a live session may pass (untranslated).
    fn reverse(&mut self, packet: &[u8], netif: u8) -> Verdict {
        match flow::parse(packet, Side::Destination) {
            Ok(Message::Flow(flow))
                if self
                    .tables
                    .get(flow.protocol)
                    .find_outbound(netif, flow.dst, flow.dst_port, flow.src, flow.src_port)
                    .is_some() =>
            {
                Verdict::Pass
            }
            _ => Verdict::Drop(DropReason::ReverseDirection),
        }
    }

    /// A packet addressed to the router: translated when it belongs to a mapping or a port
    /// forward, otherwise left to lwIP (the router's own services).
    fn inbound(&mut self, packet: &mut [u8], in_netif: u8, netif: u8, now: u32) -> Verdict {
        let header = Header::read(packet);
        if header.fragment {
            // Which mapping a non-first fragment belongs to is unknowable, so every fragment
            // that could belong to one is reassembled; the router's own datagrams then come
            // back whole, find no mapping and are passed to lwIP.
            return self.reassemble(packet, now).unwrap_or(Verdict::Pass);
        }
        match flow::parse(packet, Side::Destination) {
            Ok(Message::Flow(flow)) if self.is_hairpin(&flow, in_netif, netif) => {
                self.hairpin(packet, &header, &flow, netif, now)
            }
            Ok(Message::Flow(flow)) => self.translate_inbound(packet, &header, &flow, netif, now),
            Ok(Message::IcmpError)
                if in_netif != netif && self.rules.direction(in_netif, netif) == rule::Direction::Outbound =>
            {
                self.hairpin_icmp_error(packet, &header, netif, now)
            }
            Ok(Message::IcmpError) => self.icmp_error_inbound(packet, &header, netif, now),
            Ok(Message::Other) | Err(_) => Verdict::Pass,
        }
    }

    fn translate_inbound(&mut self, packet: &mut [u8], header: &Header, flow: &Flow, netif: u8, now: u32) -> Verdict {
        if flow.protocol == Protocol::Icmp && flow.creates {
            // An echo request to the router's address: lwIP answers it.
            return Verdict::Pass;
        }
        let admission = match self.admit_inbound(flow, netif, now) {
            Ok(Some(admission)) => admission,
            Ok(None) => return Verdict::Pass,
            Err(verdict) => return verdict,
        };
        if is_martian(flow.src) {
            return Verdict::Drop(DropReason::Martian);
        }
        if header.ttl <= 1 {
            return match flow.protocol {
                // No ICMP error about an ICMP message (RFC 1812 4.3.2.7).
                Protocol::Icmp => Verdict::Drop(DropReason::TtlExpired),
                _ => Verdict::SendIcmp(IcmpRequest::TimeExceeded),
            };
        }
        let slot = match self.admitted_slot(flow.protocol, admission, now) {
            Ok(slot) => slot,
            Err(reason) => return Verdict::Drop(reason),
        };
        let Some(session) = self.touch(flow, slot, Direction::Inbound, now) else {
            return Verdict::Drop(DropReason::NoMapping);
        };
        let mtu = self.link_mtus.get(netif);
        self.clamp_mss(packet, flow, mtu);
        rewrite::endpoint(packet, Side::Destination, session.inside, session.in_port);
        self.stats.translated_in = self.stats.translated_in.wrapping_add(1);
        Verdict::Translated
    }

    /// Decides whether an inbound flow may use a mapping: `Ok(None)` when no mapping or port
    /// forward uses its destination port (the router's own traffic), `Err` when one does and
    /// refuses it.
    fn admit_inbound(&mut self, flow: &Flow, netif: u8, now: u32) -> Result<Option<Admission>, Verdict> {
        let filtering = match flow.protocol {
            Protocol::Tcp => self.config.tcp_filtering,
            Protocol::Udp => self.config.udp_filtering,
            Protocol::Icmp => Filtering::AddressAndPortDependent,
        };
        let lookup = |nat: &Self| {
            nat.tables.get(flow.protocol).find_inbound(netif, flow.dst_port, flow.src, flow.src_port, filtering)
        };
        let mut found = lookup(self);
        if let Inbound::Session(slot) | Inbound::Admitted(slot) = found {
            if !self.is_live(flow.protocol, slot, now) {
                found = lookup(self);
            }
        }
        let portmap = self.portmaps.by_external(flow.protocol, netif, flow.dst_port);
        let mapping = match (found, portmap) {
            (Inbound::Session(slot), _) => return Ok(Some(Admission::Session(slot))),
            (_, Some(map)) => Session {
                inside: map.inside,
                in_port: map.in_port,
                ext_port: map.ext_port,
                netif,
                ..Session::default()
            },
            (Inbound::Admitted(slot), None) => match self.tables.get(flow.protocol).get(slot) {
                Some(&mapping) => mapping,
                None => return Err(Verdict::Drop(DropReason::Filtered)),
            },
            (Inbound::Filtered, None) => return Err(Verdict::Drop(DropReason::Filtered)),
            (Inbound::Unmapped, None) => return Ok(None),
        };
        // From outside, only a SYN may open a TCP session.
        if flow.protocol == Protocol::Tcp && !flow.creates {
            return Err(Verdict::Drop(DropReason::Filtered));
        }
        Ok(Some(Admission::New(Session {
            remote: flow.src,
            remote_port: flow.src_port,
            last_used: now,
            state: 0,
            ..mapping
        })))
    }

    fn admitted_slot(&mut self, protocol: Protocol, admission: Admission, now: u32) -> Result<Slot, DropReason> {
        match admission {
            Admission::Session(slot) => Ok(slot),
            Admission::New(session) => self.create(protocol, session, now),
        }
    }

    /// True for a TCP/UDP packet from a netif a rule translates, sent to the external address of
    /// `netif` on a port a mapping or port forward uses.
    fn is_hairpin(&self, flow: &Flow, in_netif: u8, netif: u8) -> bool {
        flow.protocol != Protocol::Icmp
            && in_netif != netif
            && self.rules.direction(in_netif, netif) == rule::Direction::Outbound
            && (self.tables.get(flow.protocol).ext_port_in_use(netif, flow.dst_port)
                || self.portmaps.by_external(flow.protocol, netif, flow.dst_port).is_some())
    }

    /// An inside host reaching another inside endpoint through the external address: the
    /// source is translated as for any outbound packet and the destination as for any inbound
    /// one, so the receiver sees the sender's external endpoint (RFC 4787 REQ-9, RFC 5382
    /// REQ-8). The packet then goes back out of the netif it came from.
    fn hairpin(&mut self, packet: &mut [u8], header: &Header, flow: &Flow, netif: u8, now: u32) -> Verdict {
        if is_martian(flow.src) {
            return Verdict::Drop(DropReason::Martian);
        }
        let sender_slot = match self.outbound_session(flow, netif, now) {
            Ok(slot) => slot,
            Err(verdict) => return verdict,
        };
        let Some(sender) = self.touch(flow, sender_slot, Direction::Outbound, now) else {
            return Verdict::Drop(DropReason::NoMapping);
        };
        // The receiver's mapping sees the packet as coming from the sender's external endpoint.
        let seen = Flow { src: header.dst, src_port: sender.ext_port, ..*flow };
        let admission = match self.admit_inbound(&seen, netif, now) {
            Ok(Some(admission)) => admission,
            Ok(None) => return Verdict::Drop(DropReason::NoMapping),
            Err(verdict) => return verdict,
        };
        let slot = match self.admitted_slot(flow.protocol, admission, now) {
            Ok(slot) => slot,
            Err(reason) => return Verdict::Drop(reason),
        };
        let Some(receiver) = self.touch(&seen, slot, Direction::Inbound, now) else {
            return Verdict::Drop(DropReason::NoMapping);
        };
        rewrite::endpoint(packet, Side::Source, header.dst, sender.ext_port);
        rewrite::endpoint(packet, Side::Destination, receiver.inside, receiver.in_port);
        self.stats.hairpinned = self.stats.hairpinned.wrapping_add(1);
        Verdict::Translated
    }

    /// An ICMP error from outside about a datagram that left through a mapping.
    fn icmp_error_inbound(&mut self, packet: &mut [u8], header: &Header, netif: u8, now: u32) -> Verdict {
        // The quoted datagram travelled inside → outside: its source is our external end.
        let Ok(quoted) = flow::parse_icmp_error(packet, Side::Source) else {
            return Verdict::Pass;
        };
        if quoted.src != header.dst {
            return Verdict::Pass;
        }
        let table = self.tables.get(quoted.protocol);
        let slot = match table.find_inbound(
            netif,
            quoted.src_port,
            quoted.dst,
            quoted.dst_port,
            Filtering::AddressAndPortDependent,
        ) {
            Inbound::Unmapped => return Verdict::Pass,
            Inbound::Session(slot) if self.is_live(quoted.protocol, slot, now) => slot,
            _ => return Verdict::Drop(DropReason::IcmpNoMapping),
        };
        if !flow::icmp_error_checksums_ok(packet) {
            return Verdict::Drop(DropReason::IcmpBadChecksum);
        }
        if header.ttl <= 1 {
            return Verdict::Drop(DropReason::TtlExpired);
        }
        let Some(&session) = self.tables.get(quoted.protocol).get(slot) else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        rewrite::icmp_error(packet, Side::Destination, session.inside, session.in_port);
        self.stats.translated_in = self.stats.translated_in.wrapping_add(1);
        self.stats.icmp_errors_translated = self.stats.icmp_errors_translated.wrapping_add(1);
        Verdict::Translated
    }

    /// An ICMP error from an inside host about a hairpinned datagram it received from another
    /// inside host (RFC 5508 REQ-7): it quotes `external:ext_a → receiver`, and goes back to the
    /// original sender as if it came through the NAT from outside.
    fn hairpin_icmp_error(&mut self, packet: &mut [u8], header: &Header, netif: u8, now: u32) -> Verdict {
        let Ok(quoted) = flow::parse_icmp_error(packet, Side::Destination) else {
            return Verdict::Pass;
        };
        if quoted.src != header.dst {
            return Verdict::Pass;
        }
        // The receiver's session toward the sender's external endpoint gives its own external port…
        let table = self.tables.get(quoted.protocol);
        let receiver = table.find_outbound(netif, quoted.dst, quoted.dst_port, quoted.src, quoted.src_port);
        let Some(receiver) = receiver.and_then(|slot| table.get(slot)).copied() else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        // …and the sender's session is the one toward that external port.
        let filtering = Filtering::AddressAndPortDependent;
        let sender = match table.find_inbound(netif, quoted.src_port, header.dst, receiver.ext_port, filtering) {
            Inbound::Session(slot) if self.is_live(quoted.protocol, slot, now) => {
                self.tables.get(quoted.protocol).get(slot).copied()
            }
            _ => None,
        };
        let Some(sender) = sender else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        if !flow::icmp_error_checksums_ok(packet) {
            return Verdict::Drop(DropReason::IcmpBadChecksum);
        }
        rewrite::address(packet, Side::Source, header.dst);
        rewrite::address(packet, Side::Destination, sender.inside);
        rewrite::quoted_endpoint(packet, Side::Source, sender.inside, sender.in_port);
        rewrite::quoted_endpoint(packet, Side::Destination, header.dst, receiver.ext_port);
        self.stats.hairpinned = self.stats.hairpinned.wrapping_add(1);
        self.stats.icmp_errors_translated = self.stats.icmp_errors_translated.wrapping_add(1);
        Verdict::Translated
    }

    /// Stores a new session if the table and the host's quota allow. Expired sessions are
    /// reclaimed first; a live one is never evicted (RFC 6888 REQ-11 spirit).
    fn create(&mut self, protocol: Protocol, session: Session, now: u32) -> Result<Slot, DropReason> {
        if self.tables.get(protocol).is_full() {
            self.reclaim(protocol, now);
            if self.tables.get(protocol).is_full() {
                return Err(DropReason::TableFull);
            }
        }
        self.hosts.acquire(session.inside, self.config.host_quota).map_err(|refused| match refused {
            Refused::Quota => DropReason::HostQuota,
            Refused::TooManyHosts => DropReason::TableFull,
        })?;
        match self.tables.get_mut(protocol).insert(session) {
            Ok(slot) => {
                let created = &mut self.stats.created[protocol.index()];
                *created = created.wrapping_add(1);
                Ok(slot)
            }
            Err(_) => {
                self.hosts.release(session.inside);
                Err(DropReason::TableFull)
            }
        }
    }

    /// A new outbound flow that found no room: counted, and answered with ICMP 3/13 when the
    /// configuration asks for it.
    fn refuse(&mut self, reason: DropReason) -> Verdict {
        if self.config.reject_when_full {
            self.stats.count_drop(reason);
            Verdict::SendIcmp(IcmpRequest::AdminProhibited)
        } else {
            Verdict::Drop(reason)
        }
    }

    fn reclaim(&mut self, protocol: Protocol, now: u32) {
        let config = self.config;
        let expired = &mut self.stats.expired[protocol.index()];
        let hosts = &mut self.hosts;
        self.tables.get_mut(protocol).remove_if(
            |s| is_expired(s.last_used, now, timeout_for(&config, protocol, s.state & 0x7F)),
            |s| {
                hosts.release(s.inside);
                *expired = expired.wrapping_add(1);
            },
        );
    }

    /// True when the session in `slot` is still alive; an expired one is removed on the spot,
    /// so a late `tick` never lets a dead mapping translate.
    fn is_live(&mut self, protocol: Protocol, slot: Slot, now: u32) -> bool {
        let table = self.tables.get(protocol);
        let Some(session) = table.get(slot) else { return false };
        if !is_expired(session.last_used, now, self.timeout(protocol, session.state & 0x7F)) {
            return true;
        }
        if let Some(removed) = self.tables.get_mut(protocol).remove(slot) {
            self.hosts.release(removed.inside);
            let expired = &mut self.stats.expired[protocol.index()];
            *expired = expired.wrapping_add(1);
        }
        false
    }

    fn timeout(&self, protocol: Protocol, state: u8) -> u32 {
        timeout_for(&self.config, protocol, state)
    }
}

/// Fragments (DESIGN.md §2 step 4). Only the first fragment carries the ports, so a datagram
/// is put together before any rule or mapping is applied to it, then handed back whole to be
/// re-injected into `ip4_input()`: it comes through [`Nat::process`] again unfragmented,
/// is translated, and lwIP fragments it again for the output link.
impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// The datagram the last [`Verdict::Reassembled`] announced (empty otherwise): copy it into
    /// a fresh pbuf and feed that to `ip4_input()` before the next call into the NAT.
    pub fn reassembled(&self) -> &[u8] {
        self.reass.datagram()
    }

    /// Datagrams waiting for more fragments, and the pool bytes they hold.
    pub fn fragments_in_flight(&self) -> (usize, usize) {
        (self.reass.in_flight(), self.reass.bytes_in_use())
    }

    /// Takes a fragment of a TCP, UDP or ICMP datagram into the pool; `None` for other
    /// protocols, which no session translates (the caller decides their fate).
    fn reassemble(&mut self, packet: &[u8], now: u32) -> Option<Verdict> {
        let protocol = ipv4::Packet::new_quoted(packet).map(|ip| ip.protocol()).ok()?;
        Protocol::from_ip(protocol)?;
        // Stale datagrams go first, so a late `tick` never keeps a new one out.
        self.expire_fragments(now);
        Some(match self.reass.accept(packet, now) {
            Outcome::Held => {
                self.stats.fragments_held = self.stats.fragments_held.wrapping_add(1);
                Verdict::Held
            }
            Outcome::Complete(len) => {
                self.stats.fragments_held = self.stats.fragments_held.wrapping_add(1);
                self.stats.reassembled = self.stats.reassembled.wrapping_add(1);
                Verdict::Reassembled(len)
            }
            Outcome::Dropped(reason) => Verdict::Drop(reason),
        })
    }

    fn expire_fragments(&mut self, now: u32) {
        let expired = self.reass.expire(now, self.config.reass_timeout_ms) as u32;
        self.stats.reass_expired = self.stats.reass_expired.wrapping_add(expired);
    }
}

fn timeout_for(config: &Config, protocol: Protocol, state: u8) -> u32 {
    match protocol {
        Protocol::Tcp if tcp::is_established(state) => config.tcp_established_ms,
        Protocol::Tcp => config.tcp_transitory_ms,
        Protocol::Udp => config.udp_ms,
        Protocol::Icmp => config.icmp_ms,
    }
}

/// How an inbound flow may use a mapping.
#[derive(Clone, Copy, Debug)]
enum Admission {
    /// Its own session.
    Session(Slot),
    /// A new session for a remote the filter or a port forward lets in.
    New(Session),
}

/// The IPv4 header fields the pipeline decides on, read once.
struct Header {
    src: u32,
    dst: u32,
    ttl: u8,
    total_len: usize,
    dont_frag: bool,
    fragment: bool,
}

impl Header {
    fn read(packet: &[u8]) -> Header {
        match ipv4::Packet::new_quoted(packet) {
            Ok(ip) => Header {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
                ttl: ip.ttl(),
                total_len: ip.total_len(),
                dont_frag: ip.dont_frag(),
                fragment: ip.is_fragment(),
            },
            Err(_) => Header { src: 0, dst: 0, ttl: 0, total_len: 0, dont_frag: false, fragment: false },
        }
    }
}

/// Sources a router must never forward (RFC 1812 5.3.7): this network (0/8), loopback
/// (127/8), multicast (224/4) and the limited broadcast.
pub fn is_martian(src: u32) -> bool {
    let first = (src >> 24) as u8;
    first == 0 || first == 127 || (224..240).contains(&first) || src == u32::MAX
}
