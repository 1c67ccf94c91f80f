//! What the core tells the caller to do with a packet, and why it drops one.
//!
//! Uses only `c_enum`.

use crate::c_enum::c_enum;

/// The outcome of [`Nat::process`](crate::Nat::process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not the NAT's business: let lwIP go on with the packet as it is.
    Pass,
    /// The packet was rewritten in place: let lwIP go on (it routes and forwards it).
    Translated,
    /// Free the packet; the reason has been counted.
    Drop(DropReason),
    /// A fragment was kept by the reassembly pool: the caller no longer needs its buffer.
    Held,
    /// The fragments are complete: the whole datagram, this many bytes, is ready to be fed
    /// back to lwIP's `ip4_input()` (it then takes the unfragmented path).
    Reassembled(usize),
    /// Send this ICMP error about the packet (as it arrived, untranslated), then free it.
    SendIcmp(IcmpRequest),
    /// A fragment addressed to the router whose datagram the NAT leaves to lwIP's own
    /// reassembly: first re-inject into `ip4_input()`, one by one, the fragments of it the NAT
    /// held ([`Nat::next_released`](crate::Nat::next_released) hands them out until it returns
    /// 0), then let lwIP go on with this packet as it is.
    Release,
    /// The packet is a TCP segment of a connection evicted from a full table: answer its
    /// sender with an RST in the name of its destination, built from the segment as RFC 793
    /// says for a connection that does not exist (so its sequence number is one the sender
    /// accepts), then free the packet. Never given by a build without the `evict` feature.
    SendTcpReset,
}

/// An ICMP error the caller must send in the NAT's name (lwIP's `icmp_*` functions). (The
/// variants' order only numbers them: this one took the least code, measured.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpRequest {
    /// Fragmentation Needed and DF set (type 3 code 4) with the next-hop MTU (RFC 1191).
    FragmentationNeeded {
        /// The MTU of the link the packet could not take.
        mtu: u16,
    },
    /// Time Exceeded in transit (type 11 code 0): TTL ran out on the inbound path.
    TimeExceeded,
    /// Communication Administratively Prohibited (type 3 code 13): no room for a new mapping.
    AdminProhibited,
}

c_enum! {
    /// Why a packet was dropped; its number indexes the dropped counters. The numbers are part
    /// of the C API and never reused: a new reason takes the next number, at the end.
    pub enum DropReason: u8 as lwip_snat_drop_reason {
        /// IPv4 header invalid: version, header length, or total length vs the buffer.
        Malformed = 0 => LWIP_SNAT_DROP_MALFORMED, "malformed";
        /// IPv4 header checksum wrong.
        BadChecksum = 1 => LWIP_SNAT_DROP_BAD_CHECKSUM, "bad_checksum";
        /// Source address that must never be forwarded (0/8, 127/8, multicast 224/4, class E 240/4,
        /// which holds 255.255.255.255).
        Martian = 2 => LWIP_SNAT_DROP_MARTIAN, "martian";
        /// A fragment the NAT cannot handle (reassembly not available or refused it).
        Fragment = 3 => LWIP_SNAT_DROP_FRAGMENT, "fragment";
        /// TCP/UDP/ICMP header too short or inconsistent on a NAT path.
        BadTransport = 4 => LWIP_SNAT_DROP_BAD_TRANSPORT, "bad_transport";
        /// An IP protocol (GRE, ESP, ...) or ICMP type the NAT does not translate on a NAT path
        /// (timestamp and information queries too in a build without `icmp-queries`).
        UnsupportedProtocol = 5 => LWIP_SNAT_DROP_UNSUPPORTED_PROTOCOL, "unsupported_protocol";
        /// Outbound packet that may not create a mapping and has none (a TCP non-SYN).
        NoMapping = 6 => LWIP_SNAT_DROP_NO_MAPPING, "no_mapping";
        /// Inbound packet to a mapping whose filter refuses its source.
        Filtered = 7 => LWIP_SNAT_DROP_FILTERED, "filtered";
        /// The protocol's table is full of live sessions (none is evicted).
        TableFull = 8 => LWIP_SNAT_DROP_TABLE_FULL, "table_full";
        /// The inside host already opened its quota of sessions in this protocol's table.
        HostQuota = 9 => LWIP_SNAT_DROP_HOST_QUOTA, "host_quota";
        /// No external port (or identifier) of the needed class is free.
        PortsExhausted = 10 => LWIP_SNAT_DROP_PORTS_EXHAUSTED, "ports_exhausted";
        /// ICMP error with a bad ICMP or quoted-IP checksum.
        IcmpBadChecksum = 11 => LWIP_SNAT_DROP_ICMP_BAD_CHECKSUM, "icmp_bad_checksum";
        /// ICMP error (or reply) about a datagram no live mapping matches.
        IcmpNoMapping = 12 => LWIP_SNAT_DROP_ICMP_NO_MAPPING, "icmp_no_mapping";
        /// ICMP error quoting too little to identify the datagram.
        IcmpMalformed = 13 => LWIP_SNAT_DROP_ICMP_MALFORMED, "icmp_malformed";
        /// Forwarded straight from the outside to an inside address, against a rule.
        ReverseDirection = 14 => LWIP_SNAT_DROP_REVERSE_DIRECTION, "reverse_direction";
        /// ICMP error to translate inbound or hairpin with TTL <= 1 (no ICMP error is sent about an
        /// ICMP error), or a packet to translate outbound that arrived with TTL 0.
        TtlExpired = 15 => LWIP_SNAT_DROP_TTL_EXPIRED, "ttl_expired";
        /// A fragment whose bytes differ from bytes already held for its datagram, or that moves
        /// the datagram's end: the whole datagram is discarded (RFC 5722 spirit).
        FragmentOverlap = 16 => LWIP_SNAT_DROP_FRAGMENT_OVERLAP, "fragment_overlap";
        /// A first fragment too short to hold the whole transport header (RFC 1858): the datagram
        /// is discarded.
        FragmentTooShort = 17 => LWIP_SNAT_DROP_FRAGMENT_TOO_SHORT, "fragment_too_short";
        /// Fragments that add up to more than 65535 bytes: the datagram is discarded.
        FragmentTooBig = 18 => LWIP_SNAT_DROP_FRAGMENT_TOO_BIG, "fragment_too_big";
        /// A fragment reaching past the largest datagram the reassembly pool can hold
        /// (`LWIP_SNAT_REASS_BYTES`): the datagram is discarded.
        FragmentBeyondLimit = 19 => LWIP_SNAT_DROP_FRAGMENT_BEYOND_LIMIT, "fragment_beyond_limit";
        /// No longer produced: a new datagram that finds every reassembly slot busy evicts the
        /// oldest (counted in `reass_evicted`). Kept so the numbers stay stable.
        ReassemblyFull = 20 => LWIP_SNAT_DROP_REASSEMBLY_FULL, "reassembly_full";
        /// No longer produced: a fragment that finds too few free pool bytes evicts the oldest other
        /// datagrams (counted in `reass_evicted`). Kept so the numbers stay stable.
        ReassemblyNoRoom = 21 => LWIP_SNAT_DROP_REASSEMBLY_NO_ROOM, "reassembly_no_room";
        /// A fragment that brings nothing new (all its bytes are already held, identical).
        FragmentDuplicate = 22 => LWIP_SNAT_DROP_FRAGMENT_DUPLICATE, "fragment_duplicate";
        /// A TCP SYN from outside to the external address that no mapping, port forward or
        /// listening router pcb takes: dropped silently, not answered with a RST, so simultaneous
        /// open and hole punching work (RFC 5382 REQ-4).
        UnsolicitedSyn = 23 => LWIP_SNAT_DROP_UNSOLICITED_SYN, "unsolicited_syn";
        /// An ICMP error with DF set, larger than the MTU of the link it must leave by: no ICMP
        /// error may be sent about an ICMP error (RFC 1812 4.3.2.7), so it is dropped.
        IcmpErrorTooBig = 24 => LWIP_SNAT_DROP_ICMP_ERROR_TOO_BIG, "icmp_error_too_big";
        /// A new session for a mapping that holds `mapping_sessions` sessions already
        /// (whoever opens it: the inside endpoint or a remote sender).
        MappingFull = 25 => LWIP_SNAT_DROP_MAPPING_FULL, "mapping_full";
        /// A remote sender (through a port forward or a filter that admits it) would open a
        /// session to an inside host that holds as many sessions opened from outside as it may:
        /// half its quota.
        RemoteQuota = 26 => LWIP_SNAT_DROP_REMOTE_QUOTA, "remote_quota";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_stable() {
        for (i, reason) in DropReason::ALL.iter().enumerate() {
            assert_eq!(*reason as usize, i);
        }
    }
}
