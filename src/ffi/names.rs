//! Names for numbers C holds: drop reasons, session states, result codes.

use core::ffi::{c_char, CStr};

use crate::pcb::{tcp, udp};
use crate::DropReason;

/// Short name of a drop reason ("bad_checksum", ...), or NULL for an unknown number.
#[no_mangle]
pub extern "C" fn lwip_snat_drop_reason_name(reason: u8) -> *const c_char {
    match DropReason::ALL.get(usize::from(reason)) {
        Some(&r) => drop_reason_cname(r).as_ptr(),
        None => core::ptr::null(),
    }
}

fn drop_reason_cname(reason: DropReason) -> &'static CStr {
    match reason {
        DropReason::Malformed => c"malformed",
        DropReason::BadChecksum => c"bad_checksum",
        DropReason::Martian => c"martian",
        DropReason::Fragment => c"fragment",
        DropReason::BadTransport => c"bad_transport",
        DropReason::UnsupportedProtocol => c"unsupported_protocol",
        DropReason::NoMapping => c"no_mapping",
        DropReason::Filtered => c"filtered",
        DropReason::TableFull => c"table_full",
        DropReason::HostQuota => c"host_quota",
        DropReason::PortsExhausted => c"ports_exhausted",
        DropReason::IcmpBadChecksum => c"icmp_bad_checksum",
        DropReason::IcmpNoMapping => c"icmp_no_mapping",
        DropReason::IcmpMalformed => c"icmp_malformed",
        DropReason::ReverseDirection => c"reverse_direction",
        DropReason::TtlExpired => c"ttl_expired",
        DropReason::FragmentOverlap => c"fragment_overlap",
        DropReason::FragmentTooShort => c"fragment_too_short",
        DropReason::FragmentTooBig => c"fragment_too_big",
        DropReason::FragmentBeyondLimit => c"fragment_beyond_limit",
        DropReason::ReassemblyFull => c"reassembly_full",
        DropReason::ReassemblyNoRoom => c"reassembly_no_room",
        DropReason::FragmentDuplicate => c"fragment_duplicate",
        DropReason::UnsolicitedSyn => c"unsolicited_syn",
        DropReason::IcmpErrorTooBig => c"icmp_error_too_big",
        DropReason::MappingFull => c"mapping_full",
        DropReason::RemoteQuota => c"remote_quota",
    }
}

/// Name of a TCP session state as `lwip_snat_session.state` holds it ("ESTABLISHED", ...).
#[no_mangle]
pub extern "C" fn lwip_snat_tcp_state_name(state: u8) -> *const c_char {
    const NAMES: [&CStr; 6] = [c"RESET", c"TIME_WAIT", c"FIN_WAIT", c"ESTABLISHED", c"SYN_SENT", c"SYN_RECV"];
    let name = tcp::name(state).as_bytes();
    NAMES.iter().find(|c| c.to_bytes() == name).map_or(c"UNKNOWN".as_ptr(), |c| c.as_ptr())
}

/// Name of a UDP session state as `lwip_snat_session.state` holds it ("DNS_ANSWERED", ...).
#[no_mangle]
pub extern "C" fn lwip_snat_udp_state_name(state: u8) -> *const c_char {
    const NAMES: [&CStr; 5] = [c"OPEN", c"DNS_QUERY", c"DNS_ANSWERED", c"NTP_QUERY", c"NTP_ANSWERED"];
    let name = udp::name(state).as_bytes();
    NAMES.iter().find(|c| c.to_bytes() == name).map_or(c"UNKNOWN".as_ptr(), |c| c.as_ptr())
}

/// Name of a result code ("LWIP_SNAT_ERR_NULL", ...), or NULL for an unknown number.
#[no_mangle]
pub extern "C" fn lwip_snat_strerror(err: i32) -> *const c_char {
    let name = match err {
        0 => c"LWIP_SNAT_OK",
        -1 => c"LWIP_SNAT_ERR_NULL",
        -2 => c"LWIP_SNAT_ERR_ARG",
        -3 => c"LWIP_SNAT_ERR_BUSY",
        -4 => c"LWIP_SNAT_ERR_NOT_INIT",
        -5 => c"LWIP_SNAT_ERR_TIMEOUT",
        -6 => c"LWIP_SNAT_ERR_PORT_RANGE",
        -7 => c"LWIP_SNAT_ERR_RULES_FULL",
        -8 => c"LWIP_SNAT_ERR_RULE_EXISTS",
        -9 => c"LWIP_SNAT_ERR_RULE_NOT_FOUND",
        -10 => c"LWIP_SNAT_ERR_PORTMAPS_FULL",
        -11 => c"LWIP_SNAT_ERR_PORTMAP_CONFLICT",
        -12 => c"LWIP_SNAT_ERR_PORTMAP_NOT_FOUND",
        -13 => c"LWIP_SNAT_ERR_BUFFER",
        -14 => c"LWIP_SNAT_ERR_NO_DATAGRAM",
        _ => return core::ptr::null(),
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::types::*;
    use lwip_snat_err_t::*;

    #[test]
    fn drop_reason_numbers_and_names_match_the_core() {
        for reason in DropReason::ALL {
            assert_eq!(lwip_snat_drop_reason::from_core(reason) as u8, reason as u8);
            let name = lwip_snat_drop_reason_name(reason as u8);
            // SAFETY: non-NULL pointers from it are static C strings.
            assert_eq!(unsafe { CStr::from_ptr(name) }.to_str().unwrap(), reason.name());
        }
        assert!(lwip_snat_drop_reason_name(LWIP_SNAT_DROP_REASONS as u8).is_null());
    }

    #[test]
    fn every_error_code_has_its_name() {
        for code in -14..=0 {
            let name = lwip_snat_strerror(code);
            assert!(!name.is_null(), "{code}");
        }
        // SAFETY: non-NULL, static C string.
        let busy = unsafe { CStr::from_ptr(lwip_snat_strerror(LWIP_SNAT_ERR_BUSY as i32)) };
        assert_eq!(busy.to_str(), Ok("LWIP_SNAT_ERR_BUSY"));
        assert!(lwip_snat_strerror(-15).is_null() && lwip_snat_strerror(1).is_null());
    }
}
