//! Builds the C programs of tests/lwip/ against real lwIP (Debian's liblwip-dev, installed by
//! .ci/install-deps), the C shim and this crate's staticlib, with AddressSanitizer and UBSan.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const LWIP_INCLUDE: &str = "/usr/include/lwip";

/// The library's Cargo features in this test run (integration tests are compiled with the
/// package's features), so the C programs link and include the NAT the Rust side tests.
const FEATURES: &[(&str, bool)] = &[
    ("full", cfg!(feature = "full")),
    ("reassembly", cfg!(feature = "reassembly")),
    ("portmap", cfg!(feature = "portmap")),
    ("hairpin", cfg!(feature = "hairpin")),
    ("filtering", cfg!(feature = "filtering")),
    ("mss-clamp", cfg!(feature = "mss-clamp")),
    ("fast-path", cfg!(feature = "fast-path")),
    ("hook-forward", cfg!(feature = "hook-forward")),
    ("dump", cfg!(feature = "dump")),
    ("icmp-queries", cfg!(feature = "icmp-queries")),
    ("evict", cfg!(feature = "evict")),
];

/// The features of this test run, comma-separated, as `cargo build --features` takes them.
pub fn features() -> String {
    FEATURES.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect::<Vec<_>>().join(",")
}

/// What tells programs built for these features apart from the full build's (which keep their
/// plain names): empty with `full`, else `-` and the features (`-none` for none).
pub fn feature_tag() -> String {
    let features = features();
    if cfg!(feature = "full") {
        String::new()
    } else if features.is_empty() {
        "-none".to_string()
    } else {
        format!("-{}", features.replace(',', "+"))
    }
}

/// The directory of the header build.rs generated for this test run's features and capacities
/// (`OUT_DIR/lwip_snat.h`; in the full build with default capacities the same text as
/// include/lwip_snat.h, which tests/header.rs checks), searched ahead of include/. The drop-in
/// APIs' headers include "lwip_snat.h" from their own directory, so they are copied beside it,
/// as cmake/lwip_snat.cmake does; once per test process.
pub fn header_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("include{}", feature_tag()));
        std::fs::create_dir_all(&dir).expect("create the header directory");
        let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
        let copy = |from: &Path, name: &str| {
            std::fs::copy(from.join(name), dir.join(name)).unwrap_or_else(|e| panic!("copy {name}: {e}"));
        };
        copy(Path::new(env!("OUT_DIR")), "lwip_snat.h");
        copy(&include, "lwip_snat_compat_napt.h");
        copy(&include, "lwip_snat_compat_nat.h");
        dir
    })
}

/// A `cc` build for the machine the tests run on (the `cc` crate finds the compiler, `CC` and
/// `CFLAGS` included; it gets no build-script environment here): gnu99, -O1, debug info.
pub fn host_build() -> cc::Build {
    let mut build = cc::Build::new();
    build
        .target(env!("LWIP_SNAT_BUILD_TARGET"))
        .host(env!("LWIP_SNAT_BUILD_HOST"))
        .opt_level(1)
        .debug(true)
        .cargo_metadata(false)
        .emit_rerun_if_env_changed(false)
        .std("gnu99");
    build
}

/// [`host_build`] for our own C: every warning an error, AddressSanitizer and UBSan.
pub fn c_build() -> cc::Build {
    let mut build = host_build();
    build.flags(["-Wall", "-Wextra", "-Werror"]).flags([
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=undefined",
        "-fno-omit-frame-pointer",
    ]);
    build
}

/// The compiler of `build` as a command that compiles and links a program.
pub fn link_command(build: &cc::Build) -> Command {
    let tool = build.try_get_compiler().unwrap_or_else(|e| panic!("cc: no C compiler: {e}"));
    tool.to_command()
}

/// Path of `tests/lwip/<name>.c` compiled and linked; built once per test process.
pub fn program(name: &str) -> PathBuf {
    program_with(name, &[&format!("tests/lwip/{name}.c")], &[])
}

/// Path of program `name` made of `sources` (paths in the repository) compiled with `-D`
/// `defines`; built once per test process.
pub fn program_with(name: &str, sources: &[&str], defines: &[&str]) -> PathBuf {
    static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lwip-{name}{}", feature_tag()));
    if built.get_or_insert_with(HashSet::new).contains(name) {
        return out;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    require_debian_lwip();
    let mut build = c_build();
    build
        .include(header_dir())
        .include(repo.join("include"))
        .include(repo.join("c-shim"))
        .include(LWIP_INCLUDE)
        // Debian's lwIP has no hook compiled in: the simulated netifs' input function is the
        // hook followed by ip4_input(), so that is where a reassembled datagram goes.
        .define("LWIP_SNAT_REINJECT(p,inp)", "(inp)->input((p),(inp))");
    for d in defines {
        match d.split_once('=') {
            Some((key, value)) => build.define(key, value),
            None => build.define(d, None),
        };
    }
    let status = link_command(&build)
        .args(sources.iter().map(|s| repo.join(s)))
        .args(["lwip_snat_hook.c", "lwip_snat_netif.c", "lwip_snat_tcpip.c"].map(|c| repo.join("c-shim").join(c)))
        .arg(staticlib())
        .args(["-llwip", "-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("run the C compiler: {e}"));
    assert!(status.success(), "compiling {sources:?} failed");
    built.get_or_insert_with(HashSet::new).insert(name.to_string());
    out
}

/// The suites on Debian's lwIP need liblwip-dev. Without it the whole test program is skipped:
/// it says so on stderr (past the test harness's capture) and exits successfully, so `cargo test`
/// still runs every pure-Rust suite; with `LWIP_SNAT_REQUIRE_LWIP=1` (.ci/test) it fails instead.
fn require_debian_lwip() {
    if Path::new(LWIP_INCLUDE).join("lwipopts.h").exists() {
        return;
    }
    let exe = std::env::current_exe().ok();
    let suite = exe.as_deref().and_then(Path::file_stem).and_then(|s| s.to_str()).unwrap_or("?");
    let suite = suite.split('-').next().unwrap_or(suite);
    let why = format!("tests/{suite}.rs runs on real lwIP and needs Debian's liblwip-dev ({LWIP_INCLUDE}): apt-get install liblwip-dev, or .ci/install-deps");
    assert!(std::env::var("LWIP_SNAT_REQUIRE_LWIP").as_deref() != Ok("1"), "{why}");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\nSKIPPED all of {why}\n").as_bytes());
    std::process::exit(0);
}

/// The host C library `liblwip_snat_host.a` (the example `lwip_snat_host`: the package itself
/// is an rlib), built by `cargo build --example` with this test run's features into the tests'
/// own target directory (cargo holds no lock while tests run; the library is already built, so
/// this only archives it).
pub fn staticlib() -> PathBuf {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(lib) = built.as_ref() {
        return lib.clone();
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target profile directory");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--quiet", "--example", "lwip_snat_host", "--no-default-features", "--features"])
        .arg(features())
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(profile_dir.parent().expect("target directory"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("run {cargo}: {e}"));
    assert!(status.success(), "cargo build --example lwip_snat_host failed");
    let lib = profile_dir.join("examples/liblwip_snat_host.a");
    assert!(lib.exists(), "cargo built no {}", lib.display());
    *built = Some(lib.clone());
    lib
}
