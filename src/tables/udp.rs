//! UDP sessions to request/response services on well-known ports (RFC 4787 REQ-5a): a DNS or
//! NTP exchange is over once the answer came, so its session may go a few seconds later
//! instead of holding a slot for minutes.
//!
//! The session is classified once, when an outbound packet creates it (by its destination
//! port), so no packet compares ports. The answer (the first inbound packet) marks it
//! answered and restarts its timer; until then the query waits the full UDP timeout, so an
//! answer that is slow to come still gets through.

use crate::c_enum::{state_names, StateNames};

/// An outbound-created session to port 53.
pub const DNS: u8 = 0x01;
/// An outbound-created session to port 123.
pub const NTP: u8 = 0x02;
/// Either of the two.
pub const QUERY: u8 = DNS | NTP;
/// An answer came back.
pub const ANSWERED: u8 = 0x04;

/// The state bits a new outbound session to `remote_port` starts with.
pub fn classify(remote_port: u16) -> u8 {
    match remote_port {
        53 => DNS,
        123 => NTP,
        _ => 0,
    }
}

/// Short name for table dumps (a C string: the C API hands it out as it is, from `NAMES`).
/// Rust callers are the tests and, through `internals`, the benches and fuzzers.
#[cfg(any(test, feature = "internals"))]
pub fn name(state: u8) -> &'static core::ffi::CStr {
    NAMES.name(state)
}

/// The names of the three state bits' values, in the order `name_index` numbers them.
const NAME_LIST: &str = "OPEN\0DNS_QUERY\0DNS_ANSWERED\0NTP_QUERY\0NTP_ANSWERED\0";

/// Every value of the three state bits with its name (`lwip_snat_udp_state_name` reads it).
pub(crate) static NAMES: StateNames<8, 8, { NAME_LIST.len() }> = state_names!(8, 8, NAME_LIST, name_index);

/// Which of `NAME_LIST`'s names a state has: by the service queried and whether it answered.
const fn name_index(state: u8) -> u8 {
    match (state & QUERY, state & ANSWERED != 0) {
        (DNS, false) => 1,
        (DNS, true) => 2,
        (NTP, false) => 3,
        (NTP, true) => 4,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_state_bits_only() {
        assert_eq!(name(0), c"OPEN");
        assert_eq!(name(ANSWERED), c"OPEN");
        assert_eq!(name(DNS | ANSWERED), c"DNS_ANSWERED");
        assert_eq!(name(NTP), c"NTP_QUERY");
        assert_eq!(name(QUERY), c"OPEN");
        for state in 0..=u8::MAX {
            assert_eq!(name(state), name(state & 0x07), "{state:#04x}");
        }
    }

    #[test]
    fn only_dns_and_ntp_are_classified() {
        assert_eq!(name(classify(53)), c"DNS_QUERY");
        assert_eq!(name(classify(123) | ANSWERED), c"NTP_ANSWERED");
        for port in [0, 52, 54, 443, 5353, 12300] {
            assert_eq!(classify(port), 0);
        }
    }
}
