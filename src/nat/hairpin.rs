//! Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8, RFC 5508 REQ-7): an inside host reaching another
//! inside endpoint through the external address.

use super::*;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// True for a TCP/UDP packet (from a netif a rule translates) sent to the external address
    /// of `netif` on a port a live mapping or a port forward uses. The port's expired sessions
    /// go first: a port only they held is the router's again (on a port no session uses there
    /// is nothing to remove, so one lookup after the removal answers for both cases).
    pub(super) fn is_hairpin(&mut self, flow: &Flow, netif: u8, now: u32) -> bool {
        if flow.protocol == Protocol::Icmp {
            return false;
        }
        if self.portmaps.by_external(flow.protocol, netif, flow.dst_port).is_some() {
            return true;
        }
        self.reclaim_port(flow.protocol, netif, flow.dst_port, now);
        self.tables.get(flow.protocol).ext_port_in_use(netif, flow.dst_port)
    }

    /// An inside host reaching another inside endpoint through the external address: the
    /// source is translated as for any outbound packet and the destination as for any inbound
    /// one, so the receiver sees the sender's external endpoint (RFC 4787 REQ-9, RFC 5382
    /// REQ-8). The packet then goes back out of the netif it came from.
    pub(super) fn hairpin(
        &mut self,
        packet: &mut [u8],
        header: &Header,
        flow: &mut Flow,
        netif: u8,
        mtu: u16,
        now: u32,
    ) -> Verdict {
        if is_martian(flow.src) {
            return Verdict::Drop(DropReason::Martian);
        }
        // Answered here about the packet as it arrived, so the error reaches the inside sender;
        // translated and left to lwIP, it would go from the router to itself (or, at TTL 0,
        // be forwarded with 255).
        if header.ttl <= 1 {
            return Verdict::SendIcmp(IcmpRequest::TimeExceeded);
        }
        let sender_port = match self.outbound_session(flow, u32::from(netif), now) {
            Ok((port, _)) => port,
            Err(refused) => return refused.verdict(),
        };
        // The receiver's mapping sees the packet as coming from the sender's external endpoint
        // (the flow changed where it lies: a copy of it took a block of stores).
        flow.src = header.dst;
        flow.src_port = sender_port;
        let seen = &*flow;
        let admitted = self.admit_inbound(seen, netif, now);
        let admission = match &admitted {
            Some(Ok(admission)) => admission,
            // The router's own endpoint on a port an older mapping holds: lwIP serves it.
            None if self.router_holds(seen.protocol, netif, seen.dst_port) => return Verdict::Pass,
            None => return Verdict::Drop(DropReason::NoMapping),
            Some(Err(verdict)) => return *verdict,
        };
        // A match with the translation last, as `translate_inbound` ends (full 6 B less than
        // an early return of the drop).
        match self.deliver(packet, seen, admission, netif, mtu, now) {
            Err(reason) => Verdict::Drop(reason),
            Ok(()) => {
                // Counted before the rewrite: see `translate_outbound`.
                self.stats.hairpinned = self.stats.hairpinned.wrapping_add(1);
                rewrite::endpoint(packet, Side::Source, header.dst, sender_port);
                self.renumber_non_atomic(packet);
                Verdict::Translated
            }
        }
    }

}
