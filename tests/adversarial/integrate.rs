//! What a firmware build relies on to know which library it linked: the version in the header
//! (from Cargo.toml) and the same version from the library at run time.

use lwip_snat::ffi::lwip_snat_version;
use std::ffi::CStr;

/// The committed header (the one for the default capacities, which tests/header.rs keeps fresh).
const HEADER: &str = include_str!("../../include/lwip_snat.h");

fn define(name: &str) -> Option<&'static str> {
    HEADER.lines().find_map(|line| line.strip_prefix("#define ")?.strip_prefix(name)?.strip_prefix(' ')).map(str::trim)
}

#[test]
fn header_states_the_cargo_version_as_numbers_and_string() {
    assert_eq!(define("LWIP_SNAT_VERSION_MAJOR"), Some(env!("CARGO_PKG_VERSION_MAJOR")));
    assert_eq!(define("LWIP_SNAT_VERSION_MINOR"), Some(env!("CARGO_PKG_VERSION_MINOR")));
    assert_eq!(define("LWIP_SNAT_VERSION_PATCH"), Some(env!("CARGO_PKG_VERSION_PATCH")));
    assert_eq!(define("LWIP_SNAT_VERSION_STRING"), Some(concat!("\"", env!("CARGO_PKG_VERSION"), "\"")));
}

#[test]
fn library_reports_the_version_its_header_states() {
    let ptr = lwip_snat_version();
    assert!(!ptr.is_null());
    // SAFETY: the library returns a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(ptr) }.to_str().expect("ASCII version");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert!(HEADER.contains("const char *lwip_snat_version(void);"), "the header declares lwip_snat_version()");
}
