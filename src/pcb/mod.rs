//! Per-protocol session tables ("pcbs"), the external port allocator and the per-host quota.

pub mod host;
pub mod port;
pub mod table;
pub mod tcp;
pub mod udp;

pub use table::{Entry, FixedTable, Inbound, Session, Slot, Table};

/// Which inbound packets may use a mapping (RFC 4787 section 5, REQ-8; RFC 5382 REQ-3).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filtering {
    /// Any remote may send to the mapping.
    EndpointIndependent = 0,
    /// Only remote addresses the inside endpoint has sent to.
    AddressDependent = 1,
    /// Only remote address-and-port pairs the inside endpoint has sent to (the default).
    AddressAndPortDependent = 2,
}

/// The transport protocols the NAT keeps tables for.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp = 6,
    Udp = 17,
    /// ICMP queries, keyed on the identifier.
    Icmp = 1,
}

impl Protocol {
    pub fn from_ip(protocol: u8) -> Option<Self> {
        match protocol {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            1 => Some(Protocol::Icmp),
            _ => None,
        }
    }

    /// Index into per-protocol arrays (stats).
    pub fn index(self) -> usize {
        match self {
            Protocol::Tcp => 0,
            Protocol::Udp => 1,
            Protocol::Icmp => 2,
        }
    }
}

/// True when a session last refreshed at `last_used` has been idle longer than `timeout_ms`
/// at `now`. Both are wrapping u32 milliseconds: correct across the wrap as long as sessions
/// are ticked at least once every 24 days (2^31 ms).
pub fn is_expired(last_used: u32, now: u32, timeout_ms: u32) -> bool {
    now.wrapping_sub(last_used) > timeout_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_correct_across_the_u32_wrap() {
        let start = u32::MAX - 1_000;
        assert!(!is_expired(start, start.wrapping_add(300_000), 300_000));
        assert!(is_expired(start, start.wrapping_add(300_001), 300_000));
        assert!(!is_expired(start, 5_000, 300_000));
    }
}
