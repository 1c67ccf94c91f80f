//! Builds tests/lwip/router.c against lwIP 2.2 compiled from C source for the host, with
//! `LWIP_HOOK_IP4_INPUT` defined to the shim's hook (tests/lwip22/lwipopts.h): the hook path a
//! firmware build takes, and `IP_FORWARD_ALLOW_TX_ON_RX_NETIF`, which hairpinning needs and
//! Debian's liblwip lacks.
//!
//! lwIP's C tree comes from the crates.io package `lwip` 0.4.0 through cargo's registry (a
//! throwaway manifest in the test's tmp dir, the way .ci/cortex-m finds it; the crate itself is
//! never built and nothing is copied into this repository). lwIP is compiled without
//! sanitizers, like Debian's library; the harness and the shim with AddressSanitizer and UBSan.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const LWIP_CRATE: &str = "lwip-0.4.0";

/// The router program on lwIP 2.2; built once per test process (lwIP itself once per options).
pub fn router() -> PathBuf {
    router_with("router", &[], &[])
}

/// Program `name`: the router with more C files (paths in the repository) and `-D` defines,
/// on lwIP 2.2; built once per test process.
pub fn router_with(name: &str, sources: &[&str], defines: &[&str]) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, exe)) = built.iter().find(|(n, _)| n == name) {
        return exe.clone();
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lwip22");
    let lwip = lwip_source(&work);
    let objects = lwip_objects(repo, &lwip, &work);
    let exe = work.join(format!("{name}{}", crate::lwip_build::feature_tag()));
    let mut build = crate::lwip_build::c_build();
    build.includes(include_paths(repo, &lwip));
    for d in defines {
        match d.split_once('=') {
            Some((key, value)) => build.define(key, value),
            None => build.define(d, None),
        };
    }
    let status = crate::lwip_build::link_command(&build)
        .arg(repo.join("tests/lwip/router.c"))
        .args(sources.iter().map(|s| repo.join(s)))
        .arg(repo.join("c-shim/lwip_snat_hook.c"))
        .arg(repo.join("tests/lwip22/port.c"))
        .args(&objects)
        .arg(crate::lwip_build::staticlib())
        .args(["-lpthread", "-ldl", "-lm"])
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("run the C compiler: {e}"));
    assert!(status.success(), "linking tests/lwip/router.c {sources:?} with lwIP 2.2 failed");
    built.push((name.to_string(), exe.clone()));
    exe
}

/// Our lwipopts.h and arch/cc.h first, then the shim, the header generated for this test run's
/// features (ahead of the committed one) and lwIP's headers (never Debian's /usr/include/lwip).
pub fn include_paths(repo: &Path, lwip: &Path) -> [PathBuf; 5] {
    let generated = crate::lwip_build::header_dir().to_path_buf();
    [repo.join("tests/lwip22"), repo.join("c-shim"), generated, repo.join("include"), lwip.join("include")]
}

/// `src/` of the `lwip` crate in cargo's registry, fetched by `cargo metadata` if needed.
pub fn lwip_source(work: &Path) -> PathBuf {
    let fetch = work.join("fetch");
    std::fs::create_dir_all(fetch.join("src")).expect("create the fetch crate");
    std::fs::write(fetch.join("src/lib.rs"), "").expect("write the fetch crate");
    std::fs::write(
        fetch.join("Cargo.toml"),
        "[package]\nname = \"lwip-src-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nlwip = \"=0.4.0\"\n\n[workspace]\n",
    )
    .expect("write the fetch manifest");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut errors = String::new();
    // Offline first: no network once the registry holds it.
    for offline in [true, false] {
        let mut cmd = Command::new(&cargo);
        cmd.args(["metadata", "--format-version", "1", "--manifest-path"]).arg(fetch.join("Cargo.toml"));
        if offline {
            cmd.arg("--offline");
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("run {cargo}: {e}"));
        let json = String::from_utf8_lossy(&out.stdout);
        let manifest = json
            .split("\"manifest_path\":\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .find(|path| path.ends_with(&format!("/{LWIP_CRATE}/Cargo.toml")));
        if let Some(manifest) = manifest {
            let src = Path::new(manifest).parent().expect("crate directory").join("src");
            assert!(src.join("core/ipv4/ip4.c").exists(), "no lwIP C tree under {}", src.display());
            return src;
        }
        errors.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    panic!("cargo could not locate the crates.io package lwip 0.4.0 (lwIP 2.2's C source):\n{errors}");
}

/// lwIP's core and IPv4 sources compiled with our options, reused while options and sources
/// are unchanged.
fn lwip_objects(repo: &Path, lwip: &Path, work: &Path) -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = ["core", "core/ipv4"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(lwip.join(dir)).expect("lwIP source directory"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    // Like Debian's library: no sanitizers, no warnings (lwIP's code, not ours).
    let mut build = crate::lwip_build::host_build();
    build.warnings(false).flags(["-w", "-fno-omit-frame-pointer"]).includes(include_paths(repo, lwip)).files(&sources);
    let mut key = DefaultHasher::new();
    let compiler = build.try_get_compiler().expect("cc: no C compiler");
    (lwip, &sources, compiler.path(), compiler.args()).hash(&mut key);
    let generated = crate::lwip_build::header_dir().join("lwip_snat.h");
    for header in [
        repo.join("tests/lwip22/lwipopts.h"),
        repo.join("tests/lwip22/arch/cc.h"),
        repo.join("c-shim/lwip_snat_hook.h"),
        generated,
    ] {
        std::fs::read(header).expect("harness header").hash(&mut key);
    }
    let dir = work.join(format!("obj-{:016x}", key.finish()));
    let list = dir.join("objects");
    if let Ok(objects) = std::fs::read_to_string(&list) {
        return objects.lines().map(PathBuf::from).collect();
    }
    std::fs::create_dir_all(&dir).expect("create the object directory");
    let objects = build.out_dir(&dir).try_compile_intermediates().unwrap_or_else(|e| panic!("compiling lwIP 2.2: {e}"));
    let text: Vec<String> = objects.iter().map(|o| o.display().to_string()).collect();
    std::fs::write(&list, text.join("\n")).expect("write the object list");
    objects
}
