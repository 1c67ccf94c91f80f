//! `liblwip_snat_host.a`: the C API as a static library for the host the tests run on, linked
//! with std (its panic runtime), for the C programs of tests/lwip/ and tests/lwip22/. The
//! library itself is an rlib; firmware builds make their staticlib with `panic-handler` instead.

pub use lwip_snat::ffi;
