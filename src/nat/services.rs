//! The router's own services: lwIP's pcbs on the external address are never shadowed by
//! NAT mappings. The core cannot see lwIP's pcb lists, so it asks a [`PortCheck`] the caller
//! registers (the lwIP shim answers from `udp_pcbs` and the TCP pcb lists). Asked only where
//! a mapping or session is about to be created and on the unmapped and filtered inbound paths,
//! never per packet of an established flow.

use super::*;

/// Says whether the router itself (an lwIP pcb) holds `port` of `protocol` on the address of
/// netif `netif`: a UDP or TCP pcb bound to that address or to any address, or, for
/// [`Protocol::Icmp`], an echo identifier the router's own pings use. A plain `fn` (no heap,
/// no captured state): it reads the caller's own tables.
pub type PortCheck = fn(protocol: Protocol, netif: u8, port: u16) -> bool;

impl<const TCP: usize, const UDP: usize, const ICMP: usize> Nat<TCP, UDP, ICMP> {
    /// Registers (or with `None` removes) the check that tells which external ports and ICMP
    /// identifiers the router's own endpoints hold. Kept across [`reset`](Self::reset).
    /// Without one, the NAT knows only lwIP's ephemeral range (never handed out) and passes
    /// every unmapped inbound packet to lwIP.
    pub fn set_port_check(&mut self, check: Option<PortCheck>) {
        self.port_check = check;
    }

    /// True when the registered check says the router's own endpoint holds `port`.
    pub(super) fn router_holds(&self, protocol: Protocol, netif: u8, port: u16) -> bool {
        self.port_check.is_some_and(|check| check(protocol, netif, port))
    }

    /// True when a rule translates packets leaving by `netif`: the bit the quiet test's facts
    /// keep where they are built in (with the fast path), else a scan of the rules.
    #[inline(always)]
    fn is_outside(&self, netif: u8) -> bool {
        #[cfg(feature = "fast-path")]
        return self.concerns.is_outside(netif);
        #[cfg(not(feature = "fast-path"))]
        return self.rules.is_outside(netif);
    }

    /// True for a TCP SYN that arrived from outside a rule and that no mapping, port forward
    /// or router pcb takes: dropped silently rather than left to lwIP, whose RST would break
    /// simultaneous open and hole punching (RFC 5382 REQ-4). Needs a registered check: without
    /// one the NAT cannot tell a closed port from the router's listener. Pure tests but the
    /// last, in the order that took the least code (measured), the rules' outside after the
    /// protocol: without the fast path that is a scan of the rules, which UDP then skips.
    pub(super) fn is_unsolicited_syn(&self, flow: &Flow, in_netif: u8, netif: u8) -> bool {
        flow.creates
            && self.port_check.is_some()
            && flow.protocol == Protocol::Tcp
            && self.is_outside(in_netif)
            && !self.router_holds(Protocol::Tcp, netif, flow.dst_port)
    }
}
