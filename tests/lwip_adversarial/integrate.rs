//! The C API from an application thread of a NO_SYS=0 lwIP (Debian's liblwip, core locking):
//! lwip_snat_tcpip.h's entry points run their namesakes in lwIP's core context and return
//! what those return (tests/lwip/tcpip_api.c).

use std::process::Command;

#[test]
fn thread_safe_entry_points_return_what_the_core_calls_return() {
    let out = Command::new(crate::lwip_build::program("tcpip_api"))
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .output()
        .expect("run tcpip_api");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tcpip_api failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let summary = stdout.lines().last().unwrap_or("");
    assert!(summary.ends_with(" passed, 0 failed"), "{stdout}");
    let passed: u32 = summary.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    // two checks of port forwards (`portmap`), two of the session walk (`dump`)
    let checks = 15 + 2 * u32::from(cfg!(feature = "portmap")) + 2 * u32::from(cfg!(feature = "dump"));
    assert!(passed >= checks, "every check ran: {summary}");
}
