//! Names for numbers C holds: drop reasons, session states, result codes (the `dump` feature);
//! the library's version.

use core::ffi::{c_char, CStr};

use super::lwip_snat_err_t;
#[cfg(feature = "dump")]
use crate::c_enum::nth_c_name;
use crate::tables::{tcp, udp};
use crate::DropReason;

/// Short name of a drop reason ("bad_checksum", ...), or NULL for an unknown number.
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_drop_reason_name(reason: u8) -> *const c_char {
    // The numbers count up from 0 in table order (`verdict`'s test `numbers_are_dense_and_stable`),
    // after the result codes' names: a number past the last reason is past the last name, NULL.
    nth_name(lwip_snat_err_t::COUNT as u32 + u32::from(reason))
}

/// Name of a TCP session state as `lwip_snat_session.state` holds it ("ESTABLISHED", ...).
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_tcp_state_name(state: u8) -> *const c_char {
    tcp::NAMES.c_name(state)
}

/// Name of a UDP session state as `lwip_snat_session.state` holds it ("DNS_ANSWERED", ...).
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_udp_state_name(state: u8) -> *const c_char {
    udp::NAMES.c_name(state)
}

/// Name of a result code ("LWIP_SNAT_ERR_NULL", ...), or NULL for an unknown number.
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_strerror(err: i32) -> *const c_char {
    // The codes count down from 0 in table order: code -i is name i (tested below). Any other
    // number, negated, is an index past the last code (from 17 up, as an unsigned word: 1 is
    // 0xFFFF_FFFF, i32::MIN 0x8000_0000), which becomes an index past every name: NULL. That
    // index is 255 (there are fewer names, checked at build time) rather than u32::MAX: a
    // move of an 8-bit constant, 2 bytes where u32::MAX took 4.
    const PAST: u32 = u8::MAX as u32;
    const { assert!(lwip_snat_err_t::COUNT + DropReason::COUNT < PAST as usize, "255 is past every name") };
    let index = err.wrapping_neg() as u32;
    nth_name(if index < lwip_snat_err_t::COUNT as u32 { index } else { PAST })
}

/// Every result code's name, then every drop reason's (the two tables' `C_NAMES` one after
/// the other): one table, so that one out-of-line scan ([`nth_name`]) serves both lookups.
#[cfg(feature = "dump")]
static NAMES: [u8; NAMES_LEN] = {
    let (codes, reasons) = (lwip_snat_err_t::C_NAMES.as_bytes(), DropReason::C_NAMES.as_bytes());
    let mut names = [0; NAMES_LEN];
    let mut at = 0;
    while at < NAMES_LEN {
        names[at] = if at < codes.len() { codes[at] } else { reasons[at - codes.len()] };
        at += 1;
    }
    names
};

#[cfg(feature = "dump")]
const NAMES_LEN: usize = DropReason::C_NAMES.len() + lwip_snat_err_t::C_NAMES.len();

/// Name `index` of [`NAMES`] (result code `-i` is name `i`, drop reason `i` name
/// `lwip_snat_err_t::COUNT + i`), or NULL past the last. Out of line: its two callers share it.
#[cfg(feature = "dump")]
#[inline(never)]
fn nth_name(index: u32) -> *const c_char {
    nth_c_name(&NAMES, index)
}

/// The library's version, "MAJOR.MINOR.PATCH" from its Cargo.toml (a static string): compare it
/// with LWIP_SNAT_VERSION_STRING to catch a header from another version than the archive's.
#[no_mangle]
pub extern "C" fn lwip_snat_version() -> *const c_char {
    const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version has no NUL"),
    };
    VERSION.as_ptr()
}

#[cfg(all(test, feature = "dump"))]
mod tests {
    use super::*;
    use crate::ffi::types::*;
    use lwip_snat_err_t::*;

    #[test]
    fn drop_reason_numbers_and_names_match_the_core() {
        for reason in DropReason::ALL {
            let name = lwip_snat_drop_reason_name(reason as u8);
            // SAFETY: non-NULL pointers from it are static C strings.
            assert_eq!(unsafe { CStr::from_ptr(name) }.to_str().unwrap(), reason.name());
        }
        assert!(lwip_snat_drop_reason_name(LWIP_SNAT_DROP_REASONS as u8).is_null());
    }

    #[test]
    fn every_session_state_has_the_name_its_table_gives_it() {
        for state in 0..=u8::MAX {
            // SAFETY: both answer static C strings.
            let (tcp_name, udp_name) = unsafe {
                (CStr::from_ptr(lwip_snat_tcp_state_name(state)), CStr::from_ptr(lwip_snat_udp_state_name(state)))
            };
            assert_eq!(tcp_name, tcp::name(state), "{state:#x}");
            assert_eq!(udp_name, udp::name(state), "{state:#x}");
        }
    }

    #[test]
    fn every_error_code_has_its_name() {
        for code in -16..=0 {
            let name = lwip_snat_strerror(code);
            assert!(!name.is_null(), "{code}");
        }
        // SAFETY: non-NULL, static C string.
        let busy = unsafe { CStr::from_ptr(lwip_snat_strerror(LWIP_SNAT_ERR_BUSY as i32)) };
        assert_eq!(busy.to_str(), Ok("LWIP_SNAT_ERR_BUSY"));
        assert!(lwip_snat_strerror(-17).is_null() && lwip_snat_strerror(1).is_null());
        assert!(lwip_snat_strerror(i32::MIN).is_null() && lwip_snat_strerror(i32::MAX).is_null());
        // Every other number near the codes, those whose index would fall on a drop reason's
        // name among them (-17 and below), has none.
        for code in (-600..=600).filter(|code| !(-16..=0).contains(code)) {
            assert!(lwip_snat_strerror(code).is_null(), "{code}");
        }
    }

    #[test]
    fn every_error_code_has_the_name_of_its_table_entry() {
        for code in lwip_snat_err_t::ALL {
            let name = lwip_snat_strerror(code as i32);
            assert!(!name.is_null(), "{code:?}");
            // SAFETY: non-NULL, static C string.
            assert_eq!(unsafe { CStr::from_ptr(name) }, code.c_name());
        }
        for reason in [DropReason::COUNT, 255] {
            assert!(lwip_snat_drop_reason_name(reason as u8).is_null());
        }
    }
}
