//! Outside → inside: packets addressed to the router that belong to a mapping or a port
//! forward (destination rewritten), and the ICMP errors remotes send about outbound traffic.

use super::*;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// A packet addressed to the router: translated when it belongs to a mapping or a port
    /// forward, otherwise left to lwIP (the router's own services).
    pub(super) fn inbound(&mut self, packet: &mut [u8], header: &Header, in_netif: u8, netif: u8, now: u32) -> Verdict {
        if header.fragment {
            // Which mapping a non-first fragment belongs to is unknowable, so every fragment
            // that could belong to one is reassembled; the router's own datagrams then come
            // back whole, find no mapping and are passed to lwIP.
            return self.reassemble(packet, now).unwrap_or(Verdict::Pass);
        }
        match flow::parse(packet, Side::Destination) {
            Ok(Message::Flow(flow)) if self.is_hairpin(&flow, in_netif, netif) => {
                self.hairpin(packet, header, &flow, netif, now)
            }
            Ok(Message::Flow(flow)) => self.translate_inbound(packet, header, &flow, netif, now),
            Ok(Message::IcmpError)
                if in_netif != netif && self.rules.direction(in_netif, netif) == rule::Direction::Outbound =>
            {
                self.hairpin_icmp_error(packet, header, netif, now)
            }
            Ok(Message::IcmpError) => self.icmp_error_inbound(packet, header, netif, now),
            Ok(Message::Other) | Err(_) => Verdict::Pass,
        }
    }

    pub(super) fn translate_inbound(
        &mut self,
        packet: &mut [u8],
        header: &Header,
        flow: &Flow,
        netif: u8,
        now: u32,
    ) -> Verdict {
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
    pub(super) fn admit_inbound(&mut self, flow: &Flow, netif: u8, now: u32) -> Result<Option<Admission>, Verdict> {
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
        if !matches!(found, Inbound::Session(_)) && !flow.creates {
            if let Some(reset) = self.reset_evicted(flow, Direction::Inbound, netif) {
                return Err(reset);
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
            state: crate::pcb::table::ADMITTED,
            ..mapping
        })))
    }

    pub(super) fn admitted_slot(
        &mut self,
        protocol: Protocol,
        admission: Admission,
        now: u32,
    ) -> Result<Slot, DropReason> {
        match admission {
            Admission::Session(slot) => Ok(slot),
            Admission::New(session) => self.create(protocol, session, now),
        }
    }

    /// An ICMP error from outside about a datagram that left through a mapping.
    pub(super) fn icmp_error_inbound(&mut self, packet: &mut [u8], header: &Header, netif: u8, now: u32) -> Verdict {
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
}
