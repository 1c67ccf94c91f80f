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
    // The numbers count up from 0 in table order (`verdict`'s test `numbers_are_dense_and_stable`).
    nth_c_name(DropReason::C_NAMES, usize::from(reason))
}

/// Name of a TCP session state as `lwip_snat_session.state` holds it ("ESTABLISHED", ...).
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_tcp_state_name(state: u8) -> *const c_char {
    let name = states::TCP.name(state);
    debug_assert!(states::same(name, tcp::name(state)));
    name
}

/// Name of a UDP session state as `lwip_snat_session.state` holds it ("DNS_ANSWERED", ...).
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_udp_state_name(state: u8) -> *const c_char {
    let name = states::UDP.name(state);
    debug_assert!(states::same(name, udp::name(state)));
    name
}

/// The session states' names as the C API hands them out: each protocol's names one after
/// another, each ending in NUL, and per value of its state bits the byte offset of its name,
/// worked out at compile time, so a name is a load and an add (choosing among a pointer per name
/// took branches: 100 and 70 bytes on the M4). `tcp::name` and `udp::name` stay the
/// classification's own names: debug builds check every answer against them, the tests every state.
#[cfg(feature = "dump")]
mod states {
    use core::ffi::{c_char, CStr};

    use crate::tables::{tcp, udp};

    /// Per value of `N` state bits where its name starts (counted from the table's first byte),
    /// then the `L` bytes of the names one after another, each ending in NUL: one address for
    /// both.
    #[repr(C)]
    pub(super) struct StateNames<const N: usize, const L: usize> {
        at: [u8; N],
        names: [u8; L],
    }

    impl<const N: usize, const L: usize> StateNames<N, L> {
        /// The table in which state `s` has name number `index[s]` of `names`.
        const fn new(names: &str, index: [u8; N]) -> Self {
            let bytes = names.as_bytes();
            let mut table = Self { at: [0; N], names: [0; L] };
            let mut byte = 0;
            while byte < L {
                table.names[byte] = bytes[byte];
                byte += 1;
            }
            let mut state = 0;
            while state < N {
                // Name number n starts after the n-th NUL.
                let (mut offset, mut left) = (0, index[state]);
                while left > 0 {
                    if bytes[offset] == 0 {
                        left -= 1;
                    }
                    offset += 1;
                }
                assert!(bytes.len() == L && offset < L && N + offset <= u8::MAX as usize);
                table.at[state] = (N + offset) as u8;
                state += 1;
            }
            table
        }

        /// Name of `state`, whose bits above the `N` values the names tell apart are not read.
        #[inline(always)]
        pub(super) fn name(&'static self, state: u8) -> *const c_char {
            let offset = self.at[usize::from(state) % N];
            core::ptr::from_ref(self).cast::<c_char>().wrapping_add(usize::from(offset))
        }
    }

    /// TCP: the five state bits (`SYN_OUT` ... `RST`), named as `tcp::name` names them.
    const TCP_NAMES: &str = "SYN_RECV\0SYN_SENT\0ESTABLISHED\0FIN_WAIT\0TIME_WAIT\0RESET\0";
    pub(super) static TCP: StateNames<32, { TCP_NAMES.len() }> = {
        let mut index = [0; 32];
        let mut state = 0;
        while state < 32 {
            index[state] = tcp_index(state as u8);
            state += 1;
        }
        StateNames::new(TCP_NAMES, index)
    };

    /// Which of `TCP`'s names a state has: the first that holds of RST, both FINs (closed), one
    /// FIN, both SYNs (established), the outbound SYN.
    const fn tcp_index(state: u8) -> u8 {
        const FINS: u8 = tcp::FIN_OUT | tcp::FIN_IN;
        const SYNS: u8 = tcp::SYN_OUT | tcp::SYN_IN;
        if state & tcp::RST != 0 {
            5
        } else if state & FINS == FINS {
            4
        } else if state & FINS != 0 {
            3
        } else if state & SYNS == SYNS {
            2
        } else if state & tcp::SYN_OUT != 0 {
            1
        } else {
            0
        }
    }

    /// UDP: the three state bits (`QUERY`, `ANSWERED`), named as `udp::name` names them.
    const UDP_NAMES: &str = "OPEN\0DNS_QUERY\0DNS_ANSWERED\0NTP_QUERY\0NTP_ANSWERED\0";
    pub(super) static UDP: StateNames<8, { UDP_NAMES.len() }> = {
        let mut index = [0; 8];
        let mut state = 0;
        while state < 8 {
            index[state] = match (state as u8 & udp::QUERY, state as u8 & udp::ANSWERED != 0) {
                (udp::DNS, false) => 1,
                (udp::DNS, true) => 2,
                (udp::NTP, false) => 3,
                (udp::NTP, true) => 4,
                _ => 0,
            };
            state += 1;
        }
        StateNames::new(UDP_NAMES, index)
    };

    /// Whether `name`, a name from these tables, is `expected` (the debug builds' check).
    pub(super) fn same(name: *const c_char, expected: &CStr) -> bool {
        // SAFETY: the tables hand out pointers to the start of their NUL-terminated static names.
        unsafe { CStr::from_ptr(name) == expected }
    }
}

/// Name of a result code ("LWIP_SNAT_ERR_NULL", ...), or NULL for an unknown number.
#[cfg(feature = "dump")]
#[no_mangle]
pub extern "C" fn lwip_snat_strerror(err: i32) -> *const c_char {
    // The codes count down from 0 in table order: code -i is name i (tested below).
    usize::try_from(err.wrapping_neg()).map_or(core::ptr::null(), |index| nth_c_name(lwip_snat_err_t::C_NAMES, index))
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
