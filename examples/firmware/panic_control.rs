//! Control for `.ci/cortex-m no-panic`: a reachable panic (an unchecked index) linked with
//! lwip-snat's `panic-never` handler. This must FAIL to link; if it links, the no-panic proof
//! of the firmware image would prove nothing.
#![no_std]

// The handler lives in lwip-snat.
use lwip_snat as _;

/// Reads `table[index]` with a bounds check that panics when `index` is out of range.
#[no_mangle]
pub extern "C" fn panic_control_index(index: usize) -> u8 {
    static TABLE: [u8; 4] = [1, 2, 3, 4];
    TABLE[core::hint::black_box(index)]
}
