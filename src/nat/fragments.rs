//! Fragments addressed to the router: which the NAT must reassemble, and which it leaves to
//! lwIP's own reassembly so that adding the NAT never changes what the router itself can
//! receive (a fragmented datagram larger than the NAT's pool, say).
//!
//! Only a first fragment shows whose a datagram is. One that shows the router's own (an echo
//! request, a port no mapping or port forward uses on that netif, ICMP that is neither an
//! error nor an echo reply) releases its datagram to lwIP: the key is remembered, the datagram's
//! later fragments follow it, and the fragments of it the pool already held are handed back
//! ([`Verdict::Release`]). So is a datagram too large for the pool whose first fragment the
//! pool does not hold (a held first fragment means it concerns a mapping: that one is dropped).
//! Everything else is reassembled as before: a non-first fragment ahead of its first, anything
//! that may concern a mapping. lwIP reassembles what it is given and delivers it to the
//! router's own stack, never onwards, so a released datagram can at worst reach the router
//! itself.

use super::*;
#[cfg(feature = "reassembly")]
use crate::reass::ToRouter;
use crate::wire::icmp::{self, Class};

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// A fragment addressed to the router (`netif` owns the destination), arrived on `in_netif`.
    /// Out of line: inlined into `Nat::general`, its one caller, it took more flash there than
    /// the call costs.
    #[cfg(feature = "reassembly")]
    #[inline(never)]
    pub(super) fn inbound_fragment(&mut self, packet: &[u8], in_netif: u8, netif: u8, now: u32) -> Verdict {
        // Whose it is, asked before the stale datagrams go: it reads the session tables and port
        // forwards, the expiry only the pool and its counter, so the order changes nothing (this
        // one took less code).
        let own = self.is_routers_own(packet, netif);
        self.expire_fragments(now);
        match self.reass.decide_for_router(packet, in_netif, now, own) {
            ToRouter::Reassemble => self.reassemble(packet, in_netif, now, Verdict::Pass),
            ToRouter::Pass => Verdict::Pass,
            ToRouter::Leave { held } => {
                self.stats.reass_released = self.stats.reass_released.wrapping_add(1);
                if held {
                    Verdict::Release
                } else {
                    Verdict::Pass
                }
            }
        }
    }

    /// Built without reassembly: a first fragment that may concern a mapping or port forward is
    /// dropped (`DropReason::Fragment`); the router's own, and later fragments (which lwIP can
    /// put together only with their first, and only for the router itself), go to lwIP.
    #[cfg(not(feature = "reassembly"))]
    pub(super) fn inbound_fragment(&mut self, packet: &[u8], in_netif: u8, netif: u8, now: u32) -> Verdict {
        let first = ipv4::Packet::new_accepted(packet).is_ok_and(|ip| ip.frag_offset() == 0);
        if !first || self.is_routers_own(packet, netif) {
            return Verdict::Pass;
        }
        self.reassemble(packet, in_netif, now, Verdict::Pass)
    }

    /// True for a first fragment whose transport header shows that no mapping or port forward
    /// on `netif` can want its datagram. `packet` is one the pipeline accepted (its header is
    /// not checked again) and cut to no more than its total length: its transport bytes run to
    /// the buffer's end.
    fn is_routers_own(&self, packet: &[u8], netif: u8) -> bool {
        let Ok(ip) = ipv4::Packet::new_accepted(packet) else { return false };
        if ip.frag_offset() != 0 {
            return false;
        }
        let l4 = ip.after_header();
        let field = |at: usize| l4.get(at..at + 2).and_then(|b| <[u8; 2]>::try_from(b).ok()).map(u16::from_be_bytes);
        // Where the port is: the destination port, or an echo reply's identifier, which is its
        // mapping's external port (one read of it after the choice). The ICMP class asked by
        // guards on the protocol's arm, the reply first: less code in both builds than a match
        // on the pair (every ICMP class but an error still answers by its length).
        // An empty `l4` is classed as type 255, other: neither a reply nor an error, and
        // shorter than 8 bytes, it answers as no class did (no `Option` to test).
        let class = icmp::class(l4.first().copied().unwrap_or(u8::MAX));
        let (protocol, at) = match ip.protocol() {
            ipv4::protocol::TCP => (Protocol::Tcp, 2),
            ipv4::protocol::UDP => (Protocol::Udp, 2),
            ipv4::protocol::ICMP if class == Class::Reply => (Protocol::Icmp, 4),
            // A request or other: not an error, and 8 bytes or more.
            ipv4::protocol::ICMP => return class != Class::Error && l4.len() >= 8,
            _ => return false,
        };
        // Both pure lookups: the port forwards' first took less code.
        field(at).is_some_and(|port| {
            self.portmaps.by_external(protocol, netif, port).is_none()
                && !self.tables.get(protocol).ext_port_in_use(netif, port)
        })
    }
}
