//! UDP sessions to request/response services on well-known ports (RFC 4787 REQ-5a): a DNS or
//! NTP exchange is over once the answer came, so its session may go a few seconds later
//! instead of holding a slot for minutes.
//!
//! The session is classified once, when an outbound packet creates it (by its destination
//! port), so no packet compares ports. The answer (the first inbound packet) marks it
//! answered and restarts its timer; until then the query waits the full UDP timeout, so an
//! answer that is slow to come still gets through.

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

/// Short name for table dumps (a C string: the C API hands it out as it is).
pub fn name(state: u8) -> &'static core::ffi::CStr {
    match (state & QUERY, state & ANSWERED != 0) {
        (DNS, false) => c"DNS_QUERY",
        (DNS, true) => c"DNS_ANSWERED",
        (NTP, false) => c"NTP_QUERY",
        (NTP, true) => c"NTP_ANSWERED",
        _ => c"OPEN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dns_and_ntp_are_classified() {
        assert_eq!(name(classify(53)), c"DNS_QUERY");
        assert_eq!(name(classify(123) | ANSWERED), c"NTP_ANSWERED");
        for port in [0, 52, 54, 443, 5353, 12300] {
            assert_eq!(classify(port), 0);
        }
    }
}
