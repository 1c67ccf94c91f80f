//! The session tables, one per protocol, with the external port allocator and the per-host
//! quota.
//!
//! Uses `wire`, `random` and `c_enum`; the packet path (`flow` and up) uses it.

pub mod host;
pub mod port;
pub mod table;
pub mod tcp;
pub mod udp;

use crate::c_enum::c_enum;
#[cfg(feature = "internals")]
pub use table::Entry;
pub use table::{FixedTable, Inbound, Session, Slot, Table};

c_enum! {
    /// Which inbound packets may use a mapping (RFC 4787 section 5, REQ-8; RFC 5382 REQ-3).
    pub enum Filtering: u8 as lwip_snat_filtering {
        /// Any remote may send to the mapping.
        EndpointIndependent = 0 => LWIP_SNAT_FILTER_ENDPOINT_INDEPENDENT, "endpoint_independent";
        /// Only remote addresses the inside endpoint has sent to.
        AddressDependent = 1 => LWIP_SNAT_FILTER_ADDRESS_DEPENDENT, "address_dependent";
        /// Only remote address-and-port pairs the inside endpoint has sent to (the default).
        AddressAndPortDependent = 2 => LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT, "address_and_port_dependent";
    }
}

/// UDP session state bit (beside `tables::udp`'s): the session was opened by an inbound packet the filter let in, and
/// the inside endpoint has not sent to that remote since (its first packet out clears it).
/// A TCP session tells the same by the absence of `tcp::SYN_OUT`.
pub const UDP_INBOUND_ONLY: u8 = 0x08;

/// True when the inside endpoint has sent to the session's remote (RFC 4787 section 5: then
/// every filtering mode lets the remote in).
///
/// One test for every protocol, `(state & mask) ^ flip != 0`, from per-protocol bits: TCP's
/// `SYN_OUT` set, UDP's `UDP_INBOUND_ONLY` clear, ICMP always (no bit, flipped). A loop over
/// sessions (`refilter`) picks the bits once, not a protocol branch per session.
#[cfg_attr(not(feature = "filtering"), allow(dead_code))]
pub fn inside_has_sent(protocol: Protocol, session: &Session) -> bool {
    let (mask, flip) = match protocol {
        Protocol::Tcp => (tcp::SYN_OUT, 0),
        Protocol::Udp => (UDP_INBOUND_ONLY, UDP_INBOUND_ONLY),
        Protocol::Icmp => (0, 1),
    };
    (session.protocol_state() & mask) ^ flip != 0
}

c_enum! {
    /// The transport protocols the NAT keeps tables for, by IP protocol number.
    pub enum Protocol: u8 as lwip_snat_proto {
        /// ICMP queries (echo, timestamp, information), keyed on the identifier.
        Icmp = 1 => LWIP_SNAT_PROTO_ICMP, "icmp";
        /// TCP connections.
        Tcp = 6 => LWIP_SNAT_PROTO_TCP, "tcp";
        /// UDP flows.
        Udp = 17 => LWIP_SNAT_PROTO_UDP, "udp";
    }
}

impl Filtering {
    /// True when this filter lets a remote reach a mapping one of whose sessions the inside
    /// endpoint has sent on, the remote's address being `other_address` from that session's
    /// (the port aside): endpoint-independent (0) passes every remote, address-dependent (1)
    /// a known address, address-and-port-dependent (2) none. One comparison of the mode's
    /// number plus the flag with 1, where a `match` branched on the mode (pinned against it
    /// by `filter_passes_is_the_match_over_the_modes`).
    #[inline(always)]
    #[cfg(feature = "filtering")]
    pub(crate) fn passes(self, other_address: bool) -> bool {
        u32::from(self as u8) + u32::from(other_address) <= 1
    }
}

impl Protocol {
    /// The protocol of an IP protocol number, if the NAT keeps a table for it.
    #[inline(always)]
    pub fn from_ip(protocol: u8) -> Option<Self> {
        Self::from_repr(protocol)
    }

    /// Index into per-protocol arrays (stats): TCP 0, UDP 1, ICMP 2. From the IP protocol
    /// number's bits: twice its low bit (TCP 6: 0, UDP 17 and ICMP 1: 2), halved where bit 4
    /// is set (UDP): a few instructions without a branch, where a `match` costs a chain of
    /// compares at every use. One value (a shift by a bit): the sum of two one-bit terms it
    /// was before kept both terms live in `Nat::create`. The firmware links no bounds check
    /// at the arrays either way.
    #[inline(always)]
    pub fn index(self) -> usize {
        let number = self as usize;
        (number << 1 & 2) >> (number >> 4 & 1)
    }
}

/// True when a session last refreshed at `last_used` has been idle longer than `timeout_ms`
/// (at most 2^31 - 1, as `Config::validate` ensures) at `now`. Both are wrapping u32
/// milliseconds, correct across the wrap. An elapsed time of 2^31 ms or more is a `now` taken
/// before `last_used` (a caller's clock a little behind, a timestamp taken at reception), never
/// an expiry: one signed comparison, the instruction count of an unsigned one.
pub fn is_expired(last_used: u32, now: u32, timeout_ms: u32) -> bool {
    (now.wrapping_sub(last_used) as i32) > timeout_ms as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "filtering")]
    #[test]
    fn filter_passes_is_the_match_over_the_modes() {
        for filtering in [Filtering::EndpointIndependent, Filtering::AddressDependent, Filtering::AddressAndPortDependent] {
            for other_address in [false, true] {
                let expected = match filtering {
                    Filtering::EndpointIndependent => true,
                    Filtering::AddressDependent => !other_address,
                    Filtering::AddressAndPortDependent => false,
                };
                assert_eq!(filtering.passes(other_address), expected, "{filtering:?} {other_address}");
            }
        }
    }

    #[test]
    fn inside_has_sent_reads_each_protocols_bit() {
        for state in 0..=u8::MAX {
            let mut session = Session::default();
            session.set_protocol_state(state);
            let bits = session.protocol_state();
            assert_eq!(inside_has_sent(Protocol::Tcp, &session), bits & tcp::SYN_OUT != 0, "{state}");
            assert_eq!(inside_has_sent(Protocol::Udp, &session), bits & UDP_INBOUND_ONLY == 0, "{state}");
            assert!(inside_has_sent(Protocol::Icmp, &session), "{state}");
        }
    }

    #[test]
    fn protocol_index_is_the_stats_order() {
        assert_eq!([Protocol::Tcp.index(), Protocol::Udp.index(), Protocol::Icmp.index()], [0, 1, 2]);
    }

    #[test]
    fn expiry_is_correct_across_the_u32_wrap() {
        let start = u32::MAX - 1_000;
        assert!(!is_expired(start, start.wrapping_add(300_000), 300_000));
        assert!(is_expired(start, start.wrapping_add(300_001), 300_000));
        assert!(!is_expired(start, 5_000, 300_000));
    }

    #[test]
    fn a_now_before_last_used_is_never_expired() {
        for last_used in [0, 10_000, u32::MAX - 1_000, 1 << 31] {
            for behind in [1u32, 1_000, 1 << 30, 1 << 31] {
                assert!(!is_expired(last_used, last_used.wrapping_sub(behind), 1), "{last_used} {behind}");
            }
            assert!(is_expired(last_used, last_used.wrapping_add((1 << 31) - 1), i32::MAX as u32 - 1));
            assert!(!is_expired(last_used, last_used.wrapping_add((1 << 31) - 1), i32::MAX as u32));
        }
    }
}
