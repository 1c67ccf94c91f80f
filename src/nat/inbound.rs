//! Outside → inside: packets addressed to the router that belong to a mapping or a port
//! forward (destination rewritten), and the ICMP errors remotes send about outbound traffic.

use super::*;

/// Where a packet for one of the router's addresses arrived and whose address it is.
#[derive(Clone, Copy)]
pub(super) struct Arrival {
    /// The netif it came in on.
    pub(super) in_netif: u8,
    /// The netif whose address it is addressed to (the external address of its mappings).
    pub(super) netif: u8,
    /// That netif's MTU (0 = unknown).
    pub(super) mtu: u16,
    /// It came from a netif a rule translates to that netif: a hairpin candidate.
    #[cfg(feature = "hairpin")]
    pub(super) from_inside: bool,
}

/// [`Nat::deliver_word`]'s answer for a delivered packet: the number after the last reason's.
const DELIVERED: u32 = DropReason::COUNT as u32;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// A packet addressed to the router: translated when it belongs to a mapping or a port
    /// forward, otherwise left to lwIP (the router's own services).
    pub(super) fn inbound(&mut self, packet: &mut [u8], header: &Header, arrival: Arrival, now: u32) -> Verdict {
        #[cfg(feature = "hairpin")]
        let Arrival { in_netif, netif, mtu, from_inside } = arrival;
        #[cfg(not(feature = "hairpin"))]
        let Arrival { in_netif, netif, .. } = arrival;
        if header.fragment {
            return self.inbound_fragment(packet, in_netif, netif, now);
        }
        // Matched by reference: the flow is lent where it lies, not copied out first.
        match &mut flow::parse(packet, Side::Destination) {
            #[cfg(feature = "hairpin")]
            Some(Message::Flow(flow)) if from_inside && self.is_hairpin(flow, netif, now) => {
                self.hairpin(packet, header, flow, netif, mtu, now)
            }
            Some(Message::Flow(flow)) => self.translate_inbound(packet, header, flow, arrival, now),
            #[cfg(feature = "hairpin")]
            Some(Message::IcmpError) => self.icmp_error_inbound(packet, header, netif, from_inside, now),
            #[cfg(not(feature = "hairpin"))]
            Some(Message::IcmpError) => self.icmp_error_inbound(packet, header, netif, now),
            Some(Message::Other) | None => Verdict::Pass,
        }
    }

    pub(super) fn translate_inbound(
        &mut self,
        packet: &mut [u8],
        header: &Header,
        flow: &Flow,
        arrival: Arrival,
        now: u32,
    ) -> Verdict {
        let Arrival { in_netif, netif, mtu, .. } = arrival;
        // An echo request to the router's address: lwIP answers it. Its two tests in the order
        // that took less flash in each build (the protocol first: minimal 2 B less, full 2 B
        // more).
        let echo_request = match cfg!(feature = "hairpin") {
            true => flow.creates && flow.protocol == Protocol::Icmp,
            false => flow.protocol == Protocol::Icmp && flow.creates,
        };
        if echo_request {
            return Verdict::Pass;
        }
        // Matched by reference: the admission is lent to `deliver` where it lies, not copied.
        let admitted = self.admit_inbound(flow, netif, now);
        let admission = match &admitted {
            Some(Ok(admission)) => admission,
            None if self.is_unsolicited_syn(flow, in_netif, netif) => {
                return Verdict::Drop(DropReason::UnsolicitedSyn)
            }
            None => return Verdict::Pass,
            Some(Err(verdict)) => return *verdict,
        };
        if is_martian(flow.src) {
            return Verdict::Drop(DropReason::Martian);
        }
        // ICMP queries included: RFC 1812 4.3.2.7 only spares ICMP errors, which go elsewhere.
        if header.ttl <= 1 {
            return Verdict::SendIcmp(IcmpRequest::TimeExceeded);
        }
        // A match with the translation last, not an early return of the drop: the translation
        // then ends where the inbound ICMP error's does, one tail for both (minimal 12 B, full
        // 4 B less).
        match self.deliver(packet, flow, admission, netif, mtu, now) {
            Err(reason) => Verdict::Drop(reason),
            Ok(()) => {
                count_translation(&mut self.stats.translated_in);
                Verdict::Translated
            }
        }
    }

    /// The inbound half of a translation, shared by packets from outside and hairpinned ones:
    /// the admitted session (created if new) sees the packet, whose destination becomes the
    /// session's inside endpoint (a SYN's MSS clamped to the link). Every refusal is a drop, so
    /// the reason alone comes back: in a register, where a `Verdict` went through memory.
    #[inline(always)]
    pub(super) fn deliver(
        &mut self,
        packet: &mut [u8],
        flow: &Flow,
        admission: &Admission,
        netif: u8,
        mtu: u16,
        now: u32,
    ) -> Result<(), DropReason> {
        // Below the reasons' count only a reason's number: the conversion is the compare.
        let word = self.deliver_word(flow, packet, admission, netif, u32::from(mtu), now);
        match DropReason::from_repr(word as u8) {
            Some(reason) if word < DELIVERED => Err(reason),
            _ => Ok(()),
        }
    }

    /// [`deliver`](Self::deliver)'s body, out of line: its answer a whole word, a refusal's
    /// number or [`DELIVERED`], zero-extended once here rather than at each of its two callers.
    /// Without `hairpin` it has one caller, and in line it takes less flash.
    /// The flow before the packet: that argument order took less flash (full 12 B). The MTU as a
    /// word, widened by `deliver`, as `local_mtu` and `clamp_mss` take it (full 2 B).
    #[cfg_attr(feature = "hairpin", inline(never))]
    fn deliver_word(&mut self, flow: &Flow, packet: &mut [u8], admission: &Admission, netif: u8, mtu: u32, now: u32) -> u32 {
        // The link's MTU read first: only outbound translation learns link MTUs, so admission
        // and touch leave it as it was, and no register holds the netif and the route's MTU
        // across their calls.
        let mtu = self.local_mtu(netif, mtu);
        let slot = match self.admitted_slot(flow.protocol, admission, now) {
            Ok(slot) => slot,
            Err(reason) => return u32::from(reason as u8),
        };
        let Some(&Session { inside, in_port, .. }) = self.touch(flow, slot, Direction::Inbound, now) else {
            return DropReason::NoMapping as u32;
        };
        // Rewritten before the clamp, so no register holds the inside endpoint across the
        // clamp's call (full 4 B; translate_outbound's pair in this order took 10 B more). The
        // same bytes out as clamping first: the clamp changes only the MSS and the TCP checksum,
        // the rewrite only the address, the port and the checksums, and each checksum update is
        // `!fold(~old + change)` (`Delta::apply`, TCP's `u` 0). Two in a row therefore make
        // one sum, `~old + change + change'`, in either order: the end-around carry addition
        // commutes and associates, `fold` keeps the sum's residue modulo 0xFFFF, and it yields
        // 0 only for a sum of 0 (0 and 0xFFFF, the one residue with two forms, stay apart: 0
        // only when every term is 0, whatever the order). A test pins it for both orders
        // (`nat::tests::rewrite_and_clamp_commute`).
        rewrite::endpoint(packet, Side::Destination, inside, in_port);
        self.clamp_mss(packet, mtu, flow);
        DELIVERED
    }

    /// Decides whether an inbound flow may use a mapping: `None` when no mapping or port
    /// forward uses its destination port (the router's own traffic), `Some(Err)` when one does
    /// and refuses it. (An `Option` of a `Result`, not a `Result` of an `Option`: its callers'
    /// tests of the answer took less code, measured.)
    #[inline(always)]
    pub(super) fn admit_inbound(&mut self, flow: &Flow, netif: u8, now: u32) -> Option<Result<Admission, Verdict>> {
        self.admit_inbound_on(flow, now, u32::from(netif))
    }

    /// [`admit_inbound`](Self::admit_inbound) with the netif as a word (its byte, loaded
    /// zero-extended by the callers), not zero-extended again on entry. Out of line with
    /// `hairpin`, whose hairpinned packets call it too; without it its one caller is the
    /// inbound translation, and in line there it takes less flash (minimal 60 B). The clock
    /// before the netif: full 2 B less than after it.
    #[cfg_attr(feature = "hairpin", inline(never))]
    #[cfg_attr(not(feature = "hairpin"), inline(always))]
    fn admit_inbound_on(&mut self, flow: &Flow, now: u32, netif_word: u32) -> Option<Result<Admission, Verdict>> {
        let netif = netif_word as u8;
        let filtering = self.filtering(flow.protocol);
        let lookup = |nat: &Self| {
            nat.tables.get(flow.protocol).find_inbound(u32::from(netif), flow.dst_port, filtering, flow.src_port, flow.src)
        };
        // Judged against live sessions only: expired ones neither admit nor filter. Unless the
        // first lookup finds its own live session or no mapping, the port's expired sessions
        // go and the second lookup answers (a loop: one call of the lookup).
        let mut reclaimed = false;
        let found = loop {
            let found = lookup(self);
            let own_live_session =
                matches!(found, Inbound::Session(slot) if reclaimed || self.is_live(flow.protocol, slot, now));
            if reclaimed || own_live_session || found == Inbound::Unmapped {
                break found;
            }
            self.reclaim_port(flow.protocol, netif, flow.dst_port, now);
            reclaimed = true;
        };
        // Its own session first: the port forward lookup below is for the other cases only.
        if let Inbound::Session(slot) = found {
            return Some(Ok(Admission::Session(slot as Slot)));
        }
        #[cfg(feature = "evict")]
        if !flow.creates && self.reset_evicted(flow, Direction::Inbound, netif_word) {
            return Some(Err(Verdict::SendTcpReset));
        }
        // Built without `filtering` and `portmap`, nothing but its own session lets a remote
        // in: a mapping refuses it, unless the router has since bound the port (see below).
        #[cfg(not(any(feature = "filtering", feature = "portmap")))]
        return match found {
            Inbound::Unmapped => None,
            _ if self.router_holds(flow.protocol, netif, flow.dst_port) => None,
            _ => Some(Err(Verdict::Drop(DropReason::Filtered))),
        };
        // Otherwise a port forward or the filter (`found`) may let it open a session.
        #[cfg(any(feature = "filtering", feature = "portmap"))]
        {
            let portmap = self.portmaps.by_external(flow.protocol, netif, flow.dst_port);
            // The inside endpoint the flow reaches. Its external port and netif are the flow's
            // destination port and `netif` either way: the port forward and the admitting session
            // were found by them.
            let (inside, in_port) = match (found, portmap) {
                (_, Some(map)) => (map.inside, map.in_port),
                (Inbound::Unmapped, None) => return None,
                // A mapping's port the router has since bound: only the mapping's own sessions
                // use it; new remotes reach the router.
                _ if self.router_holds(flow.protocol, netif, flow.dst_port) => return None,
                #[cfg(feature = "filtering")]
                (Inbound::Admitted(slot), None) => match self.tables.get(flow.protocol).get_at(slot as usize) {
                    Some(mapping) => (mapping.inside, mapping.in_port),
                    None => return Some(Err(Verdict::Drop(DropReason::Filtered))),
                },
                // Filtered (its own session was taken above).
                (_, None) => return Some(Err(Verdict::Drop(DropReason::Filtered))),
            };
            // From outside, only a SYN may open a TCP session.
            if flow.protocol == Protocol::Tcp && !flow.creates {
                return Some(Err(Verdict::Drop(DropReason::Filtered)));
            }
            let state = if flow.protocol == Protocol::Udp { UDP_INBOUND_ONLY } else { 0 };
            let mut session = Session {
                inside,
                in_port,
                ext_port: flow.dst_port,
                netif,
                remote: flow.src,
                remote_port: flow.src_port,
                last_used: now,
                state,
                ..Session::default()
            };
            session.set_opened_by_remote();
            Some(Ok(Admission::New(session)))
        }
    }

    /// The filter of `protocol`'s inbound packets: the config's, ICMP's always address and
    /// port dependent (as every protocol's in a build without `filtering`).
    #[cfg(feature = "filtering")]
    fn filtering(&self, protocol: Protocol) -> Filtering {
        match protocol {
            Protocol::Tcp => self.config.tcp_filtering,
            Protocol::Udp => self.config.udp_filtering,
            Protocol::Icmp => Filtering::AddressAndPortDependent,
        }
    }

    /// Built without `filtering`: the one mode.
    #[cfg(not(feature = "filtering"))]
    fn filtering(&self, _: Protocol) -> Filtering {
        Filtering::AddressAndPortDependent
    }

    /// Removes the sessions the current filter would not let in: those a remote opened that
    /// the inside endpoint has not answered, unless a port forward or a sibling session of the
    /// same mapping admits them. For a filter changed at run time: nothing to do when it is
    /// still `old` (the test made here, not before each of the two calls). Not built without
    /// `filtering`: the filter never changes there.
    #[cfg(feature = "filtering")]
    #[inline(always)]
    pub(super) fn refilter(&mut self, protocol: Protocol, old: Filtering) {
        self.refilter_from(protocol, u32::from(old as u8));
    }

    /// [`refilter`](Self::refilter) with the old mode as a word (`u32::from` of its number,
    /// the byte its callers load): out of line, a `Filtering` was zero-extended on entry.
    #[cfg(feature = "filtering")]
    #[inline(never)]
    fn refilter_from(&mut self, protocol: Protocol, old: u32) {
        let filtering = self.filtering(protocol);
        if u32::from(filtering as u8) == old {
            return;
        }
        // The index as a word for the lookup, a `Slot` (the capacity is at most 32,768) only
        // for the removal: no zero-extension per slot.
        for slot in 0..self.tables.get(protocol).capacity() {
            let Some(&session) = self.tables.get(protocol).get_at(slot) else { continue };
            if self.admits(protocol, &session, filtering) {
                continue;
            }
            self.discard(protocol, slot as u32, false);
        }
    }

    /// True when `filtering` lets the remote of `session` reach its inside endpoint.
    #[cfg(feature = "filtering")]
    fn admits(&self, protocol: Protocol, session: &Session, filtering: Filtering) -> bool {
        // The port forward is looked up only for a session whose inside end has not sent.
        if inside_has_sent(protocol, session)
            || self
                .portmaps
                .by_external(protocol, session.netif, session.ext_port)
                .is_some_and(|m| (m.inside, m.in_port) == (session.inside, session.in_port))
        {
            return true;
        }
        self.tables.get(protocol).any_on_port(session.netif, session.ext_port, |sibling| {
            // The filter as one comparison (`Filtering::passes`), where a `match` on the mode
            // branched per sibling.
            inside_has_sent(protocol, sibling) && filtering.passes(sibling.remote != session.remote)
        })
    }

    /// The slot of an admitted flow's session, created if new (built without `filtering` and
    /// `portmap`, only its own session is ever admitted).
    #[cfg_attr(not(any(feature = "filtering", feature = "portmap")), allow(unused_variables))]
    pub(super) fn admitted_slot(
        &mut self,
        protocol: Protocol,
        admission: &Admission,
        now: u32,
    ) -> Result<Slot, DropReason> {
        match *admission {
            Admission::Session(slot) => Ok(slot),
            #[cfg(any(feature = "filtering", feature = "portmap"))]
            Admission::New(ref session) if self.inside_flow_taken(protocol, session, now) => Err(DropReason::Filtered),
            #[cfg(any(feature = "filtering", feature = "portmap"))]
            Admission::New(session) => self.create(protocol, session, now, ()),
        }
    }

    /// An ICMP error to the router's address about a datagram that left through a mapping,
    /// sent back to that datagram's inside source. From outside, it quotes the datagram as it
    /// left. From an inside host (`from_inside`, built with `hairpin`) it is about a hairpinned datagram it received
    /// from another inside host (RFC 5508 REQ-7): it quotes `external:ext_a → receiver`, and
    /// goes back to the original sender as if it came through the NAT from outside.
    pub(super) fn icmp_error_inbound(
        &mut self,
        packet: &mut [u8],
        header: &Header,
        netif: u8,
        #[cfg(feature = "hairpin")] from_inside: bool,
        now: u32,
    ) -> Verdict {
        // The quoted datagram travelled inside → outside (or inside → external address): its
        // source is our external end.
        #[cfg(feature = "hairpin")]
        let mapped_side = if from_inside { Side::Destination } else { Side::Source };
        // Built without hairpinning, every error here came from outside.
        #[cfg(not(feature = "hairpin"))]
        let mapped_side = Side::Source;
        // Malformed, or about a datagram from another address than this one: lwIP's. Two
        // refusals in either build, the trust (`Flow::trusted`) read between them: one refusal
        // by a filter took as much code with the trust read before it, and 16 B more (minimal)
        // with it read after (measured).
        let Some(quoted) = flow::parse_icmp_error(packet, mapped_side) else {
            return Verdict::Pass;
        };
        let trusted = quoted.trusted();
        if quoted.src != header.dst {
            return Verdict::Pass;
        }
        // The remote end of the sender's session: the quoted destination, or for a hairpinned
        // datagram the receiver's external endpoint, which the receiver's session toward the
        // sender's external endpoint gives.
        #[cfg_attr(not(feature = "hairpin"), allow(unused_mut))]
        let mut remote = (quoted.dst, quoted.dst_port);
        #[cfg(feature = "hairpin")]
        if from_inside {
            let (inside, sender) = ((quoted.dst, quoted.dst_port), (quoted.src, quoted.src_port));
            let Some((_, receiver_port)) = self.live_outbound(quoted.protocol, netif, inside, sender, now) else {
                return Verdict::Drop(DropReason::IcmpNoMapping);
            };
            remote = (header.dst, receiver_port);
        }
        let table = self.tables.get(quoted.protocol);
        let filtering = Filtering::AddressAndPortDependent;
        let live = match table.find_inbound(u32::from(netif), quoted.src_port, filtering, remote.1, remote.0) {
            #[cfg(feature = "hairpin")]
            Inbound::Unmapped if !from_inside => return Verdict::Pass,
            #[cfg(not(feature = "hairpin"))]
            Inbound::Unmapped => return Verdict::Pass,
            Inbound::Session(slot) => self.live_session(quoted.protocol, slot, now),
            _ => None,
        };
        // The live session as the lookup found it (the tests below change nothing).
        let Some(&Session { inside, in_port, .. }) = live else {
            return Verdict::Drop(DropReason::IcmpNoMapping);
        };
        if !trusted {
            return Verdict::Drop(DropReason::IcmpBadChecksum);
        }
        if header.ttl <= 1 {
            return Verdict::Drop(DropReason::TtlExpired);
        }
        // Counted before the rewrite: the error then ends in the rewrite alone, as an inbound
        // translation does, and the two share that ending (minimal 8 B less).
        self.stats.icmp_errors_translated = self.stats.icmp_errors_translated.wrapping_add(1);
        rewrite::icmp_error(packet, Side::Destination, inside, in_port);
        #[cfg(feature = "hairpin")]
        if from_inside {
            // From the external address, quoting the receiver's external endpoint: the same
            // rewrite from the other side (source address, quoted destination). Counted before
            // it (full 6 B less than after).
            self.stats.hairpinned = self.stats.hairpinned.wrapping_add(1);
            rewrite::icmp_error(packet, Side::Source, header.dst, remote.1);
        } else {
            count_translation(&mut self.stats.translated_in);
        }
        // (Without `hairpin`, `translated_in` is counted by the pipeline: `count_translation`.)
        Verdict::Translated
    }
}
