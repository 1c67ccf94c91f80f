//! The lwIP router driver lives in the test kit (`test_kit::lwip_driver`), one copy for every
//! suite that runs tests/lwip/router.c.
pub use test_kit::lwip_driver::*;
