//! Inside → outside: a forwarded packet a rule translates (source rewritten), the ICMP errors
//! inside hosts send about inbound traffic, and packets going against a rule.

use super::*;
use crate::tables::table::both_ports;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// A packet a rule says to translate, inside → outside.
    pub(super) fn outbound(
        &mut self,
        packet: &mut [u8],
        header: &Header,
        netif: u8,
        addr: u32,
        mtu: u16,
        now: u32,
    ) -> Verdict {
        // Parsed once for the TTL tests and the translation below (one call, not two). The
        // parse has no effect, so parsing a packet the TTL test then drops changes nothing.
        let message = flow::parse(packet, Side::Source);
        // One choice on the TTL (a smaller pipeline than two tests before and after the parse).
        match header.ttl {
            // lwIP's ip4_forward() turns a TTL of 0 into 255 and forwards the packet: passed
            // untranslated, it would leave with its private source (RFC 1812 5.3.1: never
            // forward it). Dropped by this arm in builds with `hairpin`, by the next one's first
            // arm in those without: the least flash in each (this arm in both took minimal 4 B
            // more, the next one's in both full 6 B more).
            0 if cfg!(feature = "hairpin") => return Verdict::Drop(DropReason::TtlExpired),
            // Left for lwIP, which answers the true (inside) sender with Time Exceeded --
            // except about ICMP: lwIP's ip4_forward() sends none about any ICMP message (RFC
            // 1812 4.3.2.7 only exempts errors), so the NAT asks for it or an ICMP traceroute
            // never sees the hop. A fragment is always left to lwIP (tested in the ICMP arm's
            // guard: less flash than an arm of its own).
            ttl @ 0..=1 => {
                return match message {
                    _ if ttl == 0 => Verdict::Drop(DropReason::TtlExpired),
                    Some(Message::Flow(f)) if f.protocol == Protocol::Icmp && !header.fragment => {
                        Verdict::SendIcmp(IcmpRequest::TimeExceeded)
                    }
                    _ => Verdict::Pass,
                }
            }
            2.. => {}
        }
        // Longer than the link's MTU (0: unknown), tested first: of the six orders of the three
        // tests, this one took the least flash (both builds 4 B less than DF first).
        if header.total_len > usize::from(mtu) && mtu != 0 && header.dont_frag {
            // Never an ICMP error about an ICMP error (RFC 1812 4.3.2.7), nor lwIP's after
            // translation, which would quote the router's own address back to itself.
            if flow::may_be_icmp_error(packet) {
                return Verdict::Drop(DropReason::IcmpErrorTooBig);
            }
            return Verdict::SendIcmp(IcmpRequest::FragmentationNeeded { mtu });
        }
        if header.fragment {
            return self.reassemble(packet, header.in_netif, now, Verdict::Drop(DropReason::UnsupportedProtocol));
        }
        match message {
            None => Verdict::Drop(DropReason::BadTransport),
            Some(Message::Flow(flow)) => self.translate_outbound(packet, &flow, netif, addr, mtu, now),
            Some(Message::IcmpError) => self.icmp_error_outbound(packet, header, netif, addr, now),
            Some(Message::Other) => Verdict::Drop(DropReason::UnsupportedProtocol),
        }
    }

    #[inline(always)]
    pub(super) fn translate_outbound(
        &mut self,
        packet: &mut [u8],
        flow: &Flow,
        netif: u8,
        addr: u32,
        mtu: u16,
        now: u32,
    ) -> Verdict {
        let (ext_port, created) = match self.outbound_session(flow, u32::from(netif), now) {
            Ok(found) => found,
            Err(refused) => return refused.verdict(),
        };
        // Learned from the packets that open sessions and connections, which is when replies
        // (a SYN-ACK) and port-forwarded SYNs will need it; not per packet. Only MSS clamping
        // reads it: a build without it learns nothing.
        if cfg!(feature = "mss-clamp") && (created || flow.tcp_flags & tcp_flags::SYN != 0) {
            self.link_mtus.learn(netif, mtu);
        }
        // Counted before the rewrite, as the ICMP error's and the hairpin's translations are:
        // all three then end in the same two calls (rewrite, renumbering), one tail the
        // pipeline shares (minimal 24 B, full 50 B less than counted after them).
        count_translation(&mut self.stats.translated_out);
        self.clamp_mss(packet, u32::from(mtu), flow);
        rewrite::endpoint(packet, Side::Source, addr, ext_port);
        self.renumber_non_atomic(packet);
        Verdict::Translated
    }

    /// Finds the session of an outbound flow, creating it (and its mapping) when the flow may
    /// start one, and updates it for the packet ([`touch`](Self::touch)); hands back its
    /// external port and whether it was created (always false in a build without MSS
    /// clamping, the flag's one reader). `Err` says why a flow cannot have one. The touch is
    /// here, not at its two callers (translation and hairpinning), so the NAT holds one copy
    /// of the call.
    ///
    /// A refusal handed on by the match below, not by `?`: without `hairpin` (this in line in
    /// the pipeline, its one caller) that took less flash (minimal 26 B). With it (out of
    /// line, two callers) the match alone took more (full 36 B), so there `?` hands it on
    /// first. The netif as a word, as [`live_outbound_word`](Self::live_outbound_word) takes
    /// it: not zero-extended again on entry.
    pub(super) fn outbound_session(&mut self, flow: &Flow, netif_word: u32, now: u32) -> Result<(u16, bool), NoSession> {
        #[cfg(feature = "hairpin")]
        let found = Ok(self.find_or_create_outbound(flow, netif_word, now)?);
        #[cfg(not(feature = "hairpin"))]
        let found = self.find_or_create_outbound(flow, netif_word, now);
        match found {
            Err(refused) => Err(refused),
            Ok((slot, created)) => match self.touch(flow, slot, Direction::Outbound, now) {
                // A constant where nothing reads it: no register kept for it across the calls.
                Some(&Session { ext_port, .. }) => Ok((ext_port, created && cfg!(feature = "mss-clamp"))),
                None => Err(NoSession::Drop(DropReason::NoMapping)),
            },
        }
    }

    /// The session of an outbound flow and whether it was created (see
    /// [`outbound_session`](Self::outbound_session)).
    #[inline(always)]
    fn find_or_create_outbound(&mut self, flow: &Flow, netif_word: u32, now: u32) -> Result<(Slot, bool), NoSession> {
        let netif = netif_word as u8;
        let (inside, remote) = ((flow.src, flow.src_port), (flow.dst, flow.dst_port));
        if let Some((slot, _)) = self.live_outbound(flow.protocol, netif, inside, remote, now) {
            return Ok((slot, false));
        }
        if !flow.creates {
            // A segment of a connection evicted while established is owed a reset (`evict`).
            #[cfg(feature = "evict")]
            if self.reset_evicted(flow, Direction::Outbound, netif_word) {
                return Err(NoSession::Reset);
            }
            return Err(NoSession::Drop(DropReason::NoMapping));
        }
        // Built without `filtering` and `portmap`, every session is an outbound flow's: its
        // mapping's cap is asked here, not in `create` (which takes the proof), by the walk
        // `external_port` makes again to find its port (in line in the pipeline there: the
        // optimiser makes the two one, as nothing is written between them). With either
        // feature `create` asks it.
        #[cfg(not(any(feature = "filtering", feature = "portmap")))]
        let checked = self.cap_checked(flow.protocol, netif, inside);
        #[cfg(any(feature = "filtering", feature = "portmap"))]
        let checked = Some(());
        // A full mapping, no port, or no room for the session: one refusal for all.
        let created = match checked {
            None => Err(DropReason::MappingFull),
            Some(cap) => match self.external_port(flow, netif_word) {
                None => Err(DropReason::PortsExhausted),
                Some(ext_port) => {
                    let session = Session {
                        inside: flow.src,
                        in_port: flow.src_port,
                        ext_port,
                        remote: flow.dst,
                        remote_port: flow.dst_port,
                        netif,
                        last_used: now,
                        state: if flow.protocol == Protocol::Udp { udp::classify(flow.dst_port) } else { 0 },
                        ..Session::default()
                    };
                    self.create(flow.protocol, session, now, cap)
                }
            },
        };
        created.map(|slot| (slot, true)).map_err(|reason| self.refuse(reason))
    }

    /// The external port for the inside endpoint of an outbound flow: its port forward's, its
    /// existing mapping's (endpoint-independent mapping), or a newly allocated one. Out of
    /// line with `hairpin`: in line, `outbound_session` around it (out of line itself there,
    /// with two callers) took more flash than the call costs. Without it the pipeline holds
    /// `outbound_session`, and this in line there takes less (minimal 28 B). The netif as the
    /// word `outbound_session` was handed, not zero-extended again on entry (full 4 B).
    #[cfg_attr(feature = "hairpin", inline(never))]
    #[cfg_attr(not(feature = "hairpin"), inline(always))]
    pub(super) fn external_port(&mut self, flow: &Flow, netif_word: u32) -> Option<u16> {
        let netif = netif_word as u8;
        if let Some(map) = self.portmaps.by_inside(flow.protocol, netif, flow.src, flow.src_port) {
            return Some(map.ext_port);
        }
        let table = self.tables.get(flow.protocol);
        // The mapping's word tested here, not an `Option` made of it: the answer's tag is then
        // a constant on this exit.
        let mapping = table.mapping_of(netif, flow.src, flow.src_port);
        if is_mapped(mapping) {
            return Some(mapping as u16);
        }
        let portmaps = &self.portmaps;
        let port_check = self.port_check;
        // The port forwards asked first, then the sessions (both pure lookups, so the same
        // answer): full 8 B less than the other order.
        port::allocate(flow.protocol, flow.src_port, self.config.port_range, &mut self.random, |port| {
            portmaps.by_external(flow.protocol, netif, port).is_some()
                || table.ext_port_in_use(netif, port)
                || port_check.is_some_and(|check| check(flow.protocol, netif, port))
        })
    }

    /// An ICMP error from inside about a datagram that came in through a mapping, sent back to
    /// the datagram's source (to anyone else it would give away the mapping's external port).
    /// No inline attribute: its one caller inlines it all the same, and `inline(always)` took
    /// more flash there (full 6 B).
    pub(super) fn icmp_error_outbound(
        &mut self,
        packet: &mut [u8],
        header: &Header,
        netif: u8,
        addr: u32,
        now: u32,
    ) -> Verdict {
        // The quoted datagram travelled outside → inside: its destination is the inside end.
        let Some(quoted) = flow::parse_icmp_error(packet, Side::Destination) else {
            return Verdict::Drop(DropReason::IcmpMalformed);
        };
        if quoted.src != header.dst {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        }
        let (inside, remote) = ((quoted.dst, quoted.dst_port), (quoted.src, quoted.src_port));
        let Some((_, ext_port)) = self.live_outbound(quoted.protocol, netif, inside, remote, now) else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        if !quoted.trusted() {
            return Verdict::Drop(DropReason::IcmpBadChecksum);
        }
        // Counted before the rewrite: see `translate_outbound`.
        count_translation(&mut self.stats.translated_out);
        self.stats.icmp_errors_translated = self.stats.icmp_errors_translated.wrapping_add(1);
        rewrite::icmp_error(packet, Side::Source, addr, ext_port);
        self.renumber_non_atomic(packet);
        Verdict::Translated
    }

    /// Not 0 (the session's slot and external port as one word, as
    /// [`live_outbound_word`](Self::live_outbound_word) answers, 0 for none) when a packet
    /// belongs to a live session on `netif` whose inside endpoint is the packet's `inside`
    /// side: the source of an inside → outside packet (or the inside end of the datagram an
    /// inside host's ICMP error quotes), the destination of one from outside.
    /// A session translates both directions or none, so an inside → outside packet of one is
    /// translated even when no rule concerns it (the rule removed since, or the session opened
    /// from outside through a port forward). Its one caller asks only whether it is 0: the
    /// lookup's word handed on as it came, in its register, with no test to make a bool of it.
    ///
    /// In line without `fast-path`: the optimiser writes the call once per direction, and in
    /// line each copy folds its side (minimal 48 B less); in the full build that took 14 B more.
    /// The netif as a word, each caller's byte widened where it is chosen (widened after the
    /// choice, the pipeline took more: full 26 B, minimal 54 B).
    #[cfg_attr(not(feature = "fast-path"), inline(always))]
    pub(super) fn live_session_word(&mut self, packet: &[u8], inside: Side, netif: u32, now: u32) -> u32 {
        // The inside end first: the addresses swapped, and the ports as one word (inside port
        // low) rotated, when the inside end is the destination; worked out once, after the
        // parse (one call of it, where one per parser's arm took more code).
        let key = |flow: Flow, swapped: bool| {
            let addrs = if swapped { (flow.dst, flow.src) } else { (flow.src, flow.dst) };
            let ports = both_ports(flow.src_port, flow.dst_port);
            (flow.protocol, addrs, if swapped { ports.rotate_left(16) } else { ports })
        };
        let (flow, swapped) = match flow::parse(packet, inside) {
            Some(Message::Flow(f)) => (f, inside != Side::Source),
            // An inside host's error about inbound traffic; one from outside has no session.
            Some(Message::IcmpError) if inside == Side::Source => match flow::parse_icmp_error(packet, Side::Destination) {
                Some(f) => (f, true),
                None => return 0,
            },
            _ => return 0,
        };
        let (protocol, addrs, ports) = key(flow, swapped);
        self.live_outbound_word(protocol, netif, addrs.0, ports, addrs.1, now)
    }
}

/// Why an outbound flow gets no session, as its verdict will say. Two bytes: with the external
/// port and the created flag, `outbound_session`'s answer fits one register, where one with a
/// [`Verdict`] went through memory. (The variants' order only numbers them; this one took
/// the least code of the six, measured.)
#[derive(Clone, Copy)]
pub(super) enum NoSession {
    /// No room, and the configuration asks for ICMP 3/13 (the drop already counted).
    Prohibited,
    /// Dropped for this reason.
    Drop(DropReason),
    /// A segment of an evicted connection: answered with a reset (`evict` only).
    #[cfg(feature = "evict")]
    Reset,
}

impl NoSession {
    /// The verdict for the flow. Out of line: translation and hairpinning share one copy;
    /// without `hairpin` translation is its one caller, and in line it takes less flash.
    #[cfg_attr(feature = "hairpin", inline(never))]
    pub(super) fn verdict(self) -> Verdict {
        match self {
            #[cfg(feature = "evict")]
            NoSession::Reset => Verdict::SendTcpReset,
            NoSession::Drop(reason) => Verdict::Drop(reason),
            NoSession::Prohibited => Verdict::SendIcmp(IcmpRequest::AdminProhibited),
        }
    }
}
