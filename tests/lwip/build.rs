//! Builds the C programs of tests/lwip/ against real lwIP (Debian's liblwip-dev, installed by
//! .ci/install-deps), the C shim and this crate's staticlib, with AddressSanitizer and UBSan.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const LWIP_INCLUDE: &str = "/usr/include/lwip";

/// Path of `tests/lwip/<name>.c` compiled and linked; built once per test process.
pub fn program(name: &str) -> PathBuf {
    program_with(name, &[&format!("tests/lwip/{name}.c")], &[])
}

/// Path of program `name` made of `sources` (paths in the repository) compiled with `-D`
/// `defines`; built once per test process.
pub fn program_with(name: &str, sources: &[&str], defines: &[&str]) -> PathBuf {
    static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lwip-{name}"));
    if built.get_or_insert_with(HashSet::new).contains(name) {
        return out;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        Path::new(LWIP_INCLUDE).join("lwipopts.h").exists(),
        "Debian's liblwip-dev is missing: run .ci/install-deps (apt-get install liblwip-dev)"
    );
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-std=gnu99", "-g", "-O1", "-Wall", "-Wextra", "-Werror"])
        .args(["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"])
        .arg(format!("-I{}", repo.join("include").display()))
        .arg(format!("-I{}", repo.join("c-shim").display()))
        .arg(format!("-I{LWIP_INCLUDE}"))
        // Debian's lwIP has no hook compiled in: the simulated netifs' input function is the
        // hook followed by ip4_input(), so that is where a reassembled datagram goes.
        .arg("-DLWIP_SNAT_REINJECT(p,inp)=(inp)->input((p),(inp))")
        .args(defines.iter().map(|d| format!("-D{d}")))
        .args(sources.iter().map(|s| repo.join(s)))
        .arg(repo.join("c-shim/lwip_snat_hook.c"))
        .arg(staticlib())
        .args(["-llwip", "-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("run {cc}: {e}"));
    assert!(status.success(), "compiling {sources:?} failed");
    built.get_or_insert_with(HashSet::new).insert(name.to_string());
    out
}

/// The `liblwip_snat-*.a` cargo built with this test (the newest in the test's deps dir).
pub fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    std::fs::read_dir(deps)
        .expect("read deps directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("liblwip_snat-") && name.ends_with(".a")
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .expect("liblwip_snat-*.a next to the test executable (crate-type staticlib)")
}
