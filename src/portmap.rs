//! Static port forwarding: an external port on an outbound netif always leads to one inside
//! endpoint, whoever sends to it (endpoint-independent filtering for that port only).
//!
//! Uses `wire` and `tables` (the protocol).

use crate::tables::Protocol;
use crate::wire::ipv4::is_martian;

/// One forwarded port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Portmap {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// lwIP index of the netif whose address is the external address.
    pub netif: u8,
    /// The forwarded external port.
    pub ext_port: u16,
    /// The inside host it leads to (host byte order).
    pub inside: u32,
    /// The port on the inside host.
    pub in_port: u16,
}

/// Why a port forward could not be added or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortmapError {
    /// No room for another port forward.
    Full,
    /// The external port is forwarded already, or a live mapping of another inside endpoint
    /// uses it.
    Conflict,
    /// Port 0 (external or inside), an ICMP port forward, or an inside address that cannot be
    /// a host: this network (0/8, including 0.0.0.0), loopback (127/8), multicast (224/4) or
    /// class E (240/4, including the limited broadcast 255.255.255.255).
    Invalid,
    /// No such port forward.
    NotFound,
}

impl core::fmt::Display for PortmapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PortmapError::Full => "every port forward slot is in use",
            PortmapError::Conflict => "the external port is taken",
            PortmapError::Invalid => "not a port forward that can exist",
            PortmapError::NotFound => "no such port forward is installed",
        })
    }
}

impl core::error::Error for PortmapError {}

/// A port forward slot, stored as plain numbers so that a free one is all zero bytes (a
/// `static` NAT then stays in `.bss`; `Option<Portmap>` would not). A slot in use holds a
/// protocol number, never 0: lookups compare the numbers as they are.
///
/// The external port, protocol number and netif are kept as the one word [`Slot::external`]
/// makes of them: the search by external port compares that word per slot, and a new forward
/// is stored as two words and a halfword.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
struct Slot {
    inside: u32,
    external: u32,
    in_port: u16,
}

impl Slot {
    const FREE: Slot = Slot { inside: 0, external: 0, in_port: 0 };

    fn of(map: Portmap) -> Slot {
        Slot { external: Slot::external(map.protocol as u8, map.netif, map.ext_port), inside: map.inside, in_port: map.in_port }
    }

    /// The protocol number (0: a free slot).
    fn protocol(&self) -> u8 {
        (self.external >> 16) as u8
    }

    fn netif(&self) -> u8 {
        (self.external >> 24) as u8
    }

    fn map(&self) -> Option<Portmap> {
        Protocol::from_ip(self.protocol()).map(|protocol| self.as_protocol(protocol))
    }

    /// The external port, protocol number and netif as one word: one load and one compare per
    /// slot.
    #[inline(always)]
    fn external(protocol: u8, netif: u8, ext_port: u16) -> u32 {
        u32::from(ext_port) | u32::from(protocol) << 16 | u32::from(netif) << 24
    }

    /// The forward of a slot a lookup found by its protocol number.
    fn as_protocol(&self, protocol: Protocol) -> Portmap {
        Portmap { protocol, netif: self.netif(), ext_port: self.external as u16, inside: self.inside, in_port: self.in_port }
    }
}

/// Up to `P` port forwards (12 bytes each).
#[derive(Debug)]
pub struct Portmaps<const P: usize> {
    slots: [Slot; P],
}

impl<const P: usize> Portmaps<P> {
    pub const fn new() -> Self {
        Portmaps { slots: [Slot::FREE; P] }
    }

    /// Adds `map` unless its external port is forwarded already (`Conflict`).
    pub fn add(&mut self, map: Portmap) -> Result<(), PortmapError> {
        // The four tests as values, joined without a branch (full 2 B less than `||`).
        if (map.protocol == Protocol::Icmp) | (map.ext_port == 0) | (map.in_port == 0) | is_martian(map.inside) {
            return Err(PortmapError::Invalid);
        }
        if self.by_external(map.protocol, map.netif, map.ext_port).is_some() {
            return Err(PortmapError::Conflict);
        }
        // An index walk, not `iter_mut().find`: less code (full 4 B, as in the searches).
        let mut i = 0;
        loop {
            let slot = self.slots.get_mut(i).ok_or(PortmapError::Full)?;
            if slot.protocol() == 0 {
                *slot = Slot::of(map);
                return Ok(());
            }
            i += 1;
        }
    }

    pub fn remove(&mut self, map: Portmap) -> Result<(), PortmapError> {
        // The external port, protocol and netif compared as their one word, as in the search.
        let key = Slot::external(map.protocol as u8, map.netif, map.ext_port);
        let found = |s: &&mut Slot| {
            s.external == key && (s.inside, s.in_port) == (map.inside, map.in_port)
        };
        let slot = self.slots.iter_mut().find(found).ok_or(PortmapError::NotFound)?;
        *slot = Slot::FREE;
        Ok(())
    }

    /// The port forward of an external port. Its search is out of line when there are
    /// forwards (the NAT asks from many places; with none, every call folds away) and hands
    /// back the slot in a register: a caller that only asks whether there is one reads
    /// nothing more, one that needs the forward reads it from the slot.
    #[inline(always)]
    pub fn by_external(&self, protocol: Protocol, netif: u8, ext_port: u16) -> Option<Portmap> {
        self.slot_by_external(protocol, netif, ext_port).map(|slot| slot.as_protocol(protocol))
    }

    #[cfg_attr(feature = "portmap", inline(never))]
    fn slot_by_external(&self, protocol: Protocol, netif: u8, ext_port: u16) -> Option<&Slot> {
        let key = Slot::external(protocol as u8, netif, ext_port);
        // An index walk, not `iter().find`: less code (as in reass.rs).
        let mut i = 0;
        while let Some(s) = self.slots.get(i) {
            if s.external == key {
                return Some(s);
            }
            i += 1;
        }
        None
    }

    /// The first port forward leading to an inside endpoint: its outbound flows use that port.
    /// One caller (a new outbound session), which it is inlined into: less flash than a call.
    pub fn by_inside(&self, protocol: Protocol, netif: u8, inside: u32, in_port: u16) -> Option<Portmap> {
        // The protocol number and netif as the halfword they make (the slot's external word's
        // upper half), compared at once.
        let kind = |protocol: u8, netif: u8| u16::from(protocol) | u16::from(netif) << 8;
        let key = kind(protocol as u8, netif);
        // An index walk, not `iter().find`: less code (as in reass.rs).
        let mut i = 0;
        loop {
            let s = self.slots.get(i)?;
            if kind(s.protocol(), s.netif()) == key && s.inside == inside && s.in_port == in_port {
                return Some(s.as_protocol(protocol));
            }
            i += 1;
        }
    }

    /// The netif of each port forward (repeated when several share one).
    pub fn netifs(&self) -> impl Iterator<Item = u8> + '_ {
        self.slots.iter().filter(|s| s.protocol() != 0).map(Slot::netif)
    }

    pub fn iter(&self) -> impl Iterator<Item = Portmap> + '_ {
        self.slots.iter().filter_map(Slot::map)
    }
}

impl<const P: usize> Default for Portmaps<P> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(ext_port: u16) -> Portmap {
        Portmap { protocol: Protocol::Tcp, netif: 2, ext_port, inside: 0xC0A8_0105, in_port: 80 }
    }

    #[test]
    fn add_find_remove() {
        let mut maps = Portmaps::<2>::new();
        maps.add(web(80)).unwrap();
        maps.add(web(8080)).unwrap();
        assert_eq!(maps.add(web(80)), Err(PortmapError::Conflict));
        assert_eq!(maps.add(web(81)), Err(PortmapError::Full));
        assert_eq!(maps.by_external(Protocol::Tcp, 2, 8080), Some(web(8080)));
        assert_eq!(maps.by_external(Protocol::Udp, 2, 8080), None);
        assert_eq!(maps.by_inside(Protocol::Tcp, 2, 0xC0A8_0105, 80), Some(web(80)));
        maps.remove(web(80)).unwrap();
        assert_eq!(maps.remove(web(80)), Err(PortmapError::NotFound));
        assert_eq!(maps.by_inside(Protocol::Tcp, 2, 0xC0A8_0105, 80), Some(web(8080)));
    }

    /// The external port, protocol and netif kept as one word read back as they were added,
    /// at the extremes of each (every bit of the word set), and only an exact match is found.
    #[test]
    fn a_forward_reads_back_as_it_was_added() {
        let mut maps = Portmaps::<3>::new();
        let wide = Portmap { protocol: Protocol::Udp, netif: 0xFF, ext_port: 0xFFFF, inside: 0x0A00_0001, in_port: 0xFFFF };
        let narrow = Portmap { protocol: Protocol::Tcp, netif: 0, ext_port: 1, inside: 0x0A00_0002, in_port: 1 };
        maps.add(wide).unwrap();
        maps.add(narrow).unwrap();
        assert_eq!(maps.iter().collect::<std::vec::Vec<_>>(), [wide, narrow]);
        assert_eq!(maps.netifs().collect::<std::vec::Vec<_>>(), [0xFF, 0]);
        assert_eq!(maps.by_external(Protocol::Udp, 0xFF, 0xFFFF), Some(wide));
        assert_eq!(maps.by_external(Protocol::Tcp, 0xFF, 0xFFFF), None);
        assert_eq!(maps.by_external(Protocol::Udp, 0xFE, 0xFFFF), None);
        assert_eq!(maps.by_external(Protocol::Udp, 0xFF, 0xFFFE), None);
        assert_eq!(maps.by_external(Protocol::Tcp, 0, 1), Some(narrow));
        assert_eq!(maps.by_inside(Protocol::Udp, 0xFF, 0x0A00_0001, 0xFFFF), Some(wide));
        assert_eq!(maps.by_inside(Protocol::Udp, 0, 0x0A00_0001, 0xFFFF), None);
        assert_eq!(maps.remove(Portmap { in_port: 1, ..wide }), Err(PortmapError::NotFound));
        maps.remove(wide).unwrap();
        assert_eq!(maps.iter().collect::<std::vec::Vec<_>>(), [narrow]);
        assert_eq!(maps.netifs().collect::<std::vec::Vec<_>>(), [0]);
    }

    #[test]
    fn invalid_forwards_are_refused() {
        let mut maps = Portmaps::<4>::new();
        assert_eq!(maps.add(Portmap { protocol: Protocol::Icmp, ..web(1) }), Err(PortmapError::Invalid));
        assert_eq!(maps.add(web(0)), Err(PortmapError::Invalid));
        assert_eq!(maps.add(Portmap { inside: 0, ..web(1) }), Err(PortmapError::Invalid));
    }
}
