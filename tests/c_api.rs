//! The C API exercised from C (tests/lwip/c_api.c): NULL and invalid arguments get their error
//! codes, out-params stay untouched on error, re-entry is refused, hostile packets end in a
//! verdict. Compiled with AddressSanitizer and UBSan, so memory errors fail the run too.

#[path = "lwip/build.rs"]
mod lwip_build;

use std::process::Command;

#[test]
fn c_program_exercises_the_whole_api() {
    let exe = lwip_build::program("c_api");
    let out = Command::new(exe).env("ASAN_OPTIONS", "detect_leaks=0").output().expect("run c_api");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "c_api failed:\n{stdout}\n{stderr}");
    let summary = stdout.lines().last().unwrap_or("");
    assert!(summary.ends_with(" passed, 0 failed"), "{stdout}");
    let passed: u32 = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed > 100, "the C program ran its checks: {summary}");
}
