//! `LWIP_HOOK_FILENAME` pulls c-shim/lwip_snat_hook.h, and with it include/lwip_snat.h, into
//! lwIP's own core files, so both headers (and the shim's C file, built next to lwIP) must
//! compile without a single warning under the flags lwIP builds itself with: `LWIP_COMPILER_FLAGS`
//! of lwIP 2.2's contrib/ports/CMakeCommon.cmake (Debug configuration, no mbedTLS, no
//! sanitizers), `-Werror` included, as C99 and C11 and, for the headers, as C++11. The flags are
//! read from that file (lwIP's source from the crates.io package `lwip` 0.4.0, as
//! tests/lwip22/build.rs finds it), once with gcc/g++ and once with clang/clang++ when those are
//! installed (.ci/install-deps installs Debian's clang).

#[allow(dead_code)]
#[path = "lwip22/build.rs"]
mod lwip22_build;
#[allow(dead_code)]
#[path = "lwip/build.rs"]
mod lwip_build;

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Gnu,
    Clang,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lang {
    C,
    Cxx,
}

/// `LWIP_COMPILER_FLAGS` as CMakeCommon.cmake sets it for `family` compiling `lang` in the
/// Debug configuration without mbedTLS and sanitizers. Every `if()` and generator expression
/// must be one this function knows, so a changed file fails the test instead of being misread.
fn lwip_compiler_flags(cmake: &str, family: Family, lang: Lang) -> Vec<String> {
    let mut active: Vec<bool> = Vec::new();
    let mut in_list = false;
    let mut flags = Vec::new();
    for line in cmake.lines().map(str::trim) {
        if let Some(cond) =
            line.strip_prefix("if(").or_else(|| line.strip_prefix("if (")).and_then(|c| c.strip_suffix(')'))
        {
            active.push(match cond {
                "NOT ${CMAKE_VERSION} VERSION_LESS \"3.10.0\"" | "NOT CMAKE_BUILD_TYPE" => true,
                "NOT DEFINED LWIP_MBEDTLSDIR" => true,
                "EXISTS ${LWIP_MBEDTLSDIR}/CMakeLists.txt" => false,
                "NOT LWIP_HAVE_MBEDTLS" => true,
                "CMAKE_C_COMPILER_ID STREQUAL \"GNU\"" => family == Family::Gnu,
                "CMAKE_C_COMPILER_ID STREQUAL \"Clang\"" => family == Family::Clang,
                "CMAKE_C_COMPILER_ID STREQUAL \"MSVC\"" => false,
                "NOT CMAKE_C_COMPILER_VERSION VERSION_LESS 4.9" => true,
                "LWIP_USE_SANITIZERS" => false,
                other => panic!("CMakeCommon.cmake: unknown condition if({other})"),
            });
            continue;
        }
        assert!(!line.starts_with("else"), "CMakeCommon.cmake: else branches are not understood");
        if line == "endif()" {
            active.pop().expect("CMakeCommon.cmake: endif() without if()");
            continue;
        }
        if line == "set(LWIP_COMPILER_FLAGS_GNU_CLANG" || line == "list(APPEND LWIP_COMPILER_FLAGS_GNU_CLANG" {
            in_list = true;
            continue;
        }
        if !in_list {
            continue;
        }
        if line == ")" {
            in_list = false;
            continue;
        }
        if !active.iter().all(|&a| a) {
            continue;
        }
        let flag = if let Some(genex) = line.strip_prefix("$<$<").and_then(|g| g.strip_suffix('>')) {
            let (cond, flag) = genex.split_once(">:").expect("CMakeCommon.cmake: generator expression");
            let wanted = match cond {
                "CONFIG:Debug" => true,
                "CONFIG:Release" => false,
                "COMPILE_LANGUAGE:C" => lang == Lang::C,
                other => panic!("CMakeCommon.cmake: unknown generator expression condition {other}"),
            };
            if !wanted {
                continue;
            }
            flag
        } else {
            line
        };
        assert!(flag.starts_with('-'), "CMakeCommon.cmake: {flag:?} is not a flag");
        flags.push(flag.to_string());
    }
    assert!(active.is_empty(), "CMakeCommon.cmake: unbalanced if()/endif()");
    assert!(flags.iter().any(|f| f == "-Werror"), "CMakeCommon.cmake: no -Werror in {flags:?}");
    if lang == Lang::Cxx && family == Family::Gnu {
        // lwIP lists -Wmissing-prototypes a second time without the C-only guard; g++ before
        // 14 rejects it for C++ ("valid for C/ObjC but not for C++"), which is no warning
        // about the code. Nothing else is left out.
        flags.retain(|f| f != "-Wmissing-prototypes");
    }
    flags
}

/// Whether `program` runs here.
fn installed(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// One compilation, syntax and semantics only (`-c -o /dev/null`, so -Og's flow analysis runs):
/// its diagnostics if it fails or prints anything.
fn compile(compiler: &str, flags: &[String], args: &[String], what: &str) -> Option<String> {
    let out = Command::new(compiler)
        .args(flags)
        .args(args)
        .args(["-c", "-o", "/dev/null"])
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && stderr.trim().is_empty() {
        return None;
    }
    Some(format!("== {what} with {compiler} {}\n{stderr}", flags.join(" ")))
}

/// A translation unit that includes the hook header the way lwIP's core does: lwIP's own
/// headers first, then `#include LWIP_HOOK_FILENAME` (from tests/lwip22/lwipopts.h).
const LWIP_CORE_UNIT: &str = "#include \"lwip/opt.h\"
#include \"lwip/def.h\"
#include \"lwip/pbuf.h\"
#include \"lwip/netif.h\"
#include \"lwip/ip4.h\"
#ifndef LWIP_HOOK_FILENAME
#error tests/lwip22/lwipopts.h must set LWIP_HOOK_FILENAME
#endif
#include LWIP_HOOK_FILENAME
";

#[test]
fn headers_and_shim_compile_without_warnings_under_lwips_own_flags() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("strict_flags");
    let lwip = lwip22_build::lwip_source(&work);
    let cmake_path = lwip.parent().expect("crate directory").join("contrib/ports/CMakeCommon.cmake");
    let cmake = std::fs::read_to_string(&cmake_path).unwrap_or_else(|e| panic!("{}: {e}", cmake_path.display()));

    let core_unit = work.join("lwip_core_unit.c");
    std::fs::write(&core_unit, LWIP_CORE_UNIT).expect("write the lwIP core unit");
    let header_alone = work.join("header_alone.c");
    std::fs::write(&header_alone, "#include \"lwip_snat.h\"\n").expect("write the header unit");
    let hook_header_alone = work.join("hook_header_alone.c");
    std::fs::write(&hook_header_alone, "#include \"lwip_snat_hook.h\"\n").expect("write the hook header unit");
    // The drop-in headers, each first in its unit as a firmware may include it.
    let compat_napt_alone = work.join("compat_napt_alone.c");
    std::fs::write(&compat_napt_alone, "#include \"lwip_snat_compat_napt.h\"\n").expect("write the NAPT compat unit");
    let compat_nat_alone = work.join("compat_nat_alone.c");
    std::fs::write(&compat_nat_alone, "#include \"lwip_snat_compat_nat.h\"\n").expect("write the add-on compat unit");
    let netif_header_alone = work.join("netif_header_alone.c");
    std::fs::write(&netif_header_alone, "#include \"lwip_snat_netif.h\"\n").expect("write the netif header unit");
    let tcpip_header_alone = work.join("tcpip_header_alone.c");
    std::fs::write(&tcpip_header_alone, "#include \"lwip_snat_tcpip.h\"\n").expect("write the tcpip header unit");

    let path = |p: &PathBuf| p.display().to_string();
    let includes: Vec<String> =
        lwip22_build::include_paths(repo, &lwip).iter().map(|d| format!("-I{}", d.display())).collect();
    let mut families = vec![(Family::Gnu, "gcc", "g++")];
    if installed("clang") && installed("clang++") {
        families.push((Family::Clang, "clang", "clang++"));
    } else {
        println!("clang/clang++ not installed: checking with gcc/g++ only (.ci/install-deps installs clang)");
    }
    let mut failures = Vec::new();
    let mut runs = 0;
    for (family, cc, cxx) in families {
        let c_flags = lwip_compiler_flags(&cmake, family, Lang::C);
        let cxx_flags = lwip_compiler_flags(&cmake, family, Lang::Cxx);
        for std in ["-std=c99", "-std=c11"] {
            let flags: Vec<String> = std::iter::once(std.to_string()).chain(c_flags.iter().cloned()).collect();
            let units = [
                (path(&core_unit), "lwIP core unit (#include LWIP_HOOK_FILENAME)"),
                (path(&repo.join("c-shim/lwip_snat_hook.c")), "c-shim/lwip_snat_hook.c"),
                (path(&repo.join("c-shim/lwip_snat_netif.c")), "c-shim/lwip_snat_netif.c"),
                (path(&repo.join("c-shim/lwip_snat_tcpip.c")), "c-shim/lwip_snat_tcpip.c"),
                (path(&header_alone), "include/lwip_snat.h alone"),
                (path(&compat_napt_alone), "include/lwip_snat_compat_napt.h alone"),
                (path(&compat_nat_alone), "include/lwip_snat_compat_nat.h alone"),
                (path(&repo.join("c-shim/compat/napt.c")), "c-shim/compat/napt.c"),
                (path(&repo.join("c-shim/compat/nat.c")), "c-shim/compat/nat.c"),
            ];
            for (file, what) in units {
                let args: Vec<String> = includes.iter().cloned().chain([file]).collect();
                failures.extend(compile(cc, &flags, &args, &format!("{what} ({std})")));
                runs += 1;
            }
            // The shim with its LWIP_DEBUGF log compiled in.
            let debug = ["-DLWIP_DEBUG".to_string(), "-DLWIP_SNAT_DEBUG=LWIP_DBG_ON".into()];
            let args: Vec<String> =
                includes.iter().cloned().chain(debug).chain([path(&repo.join("c-shim/lwip_snat_hook.c"))]).collect();
            failures.extend(compile(
                cc,
                &flags,
                &args,
                &format!("c-shim/lwip_snat_hook.c, LWIP_SNAT_DEBUG on ({std})"),
            ));
            runs += 1;
            // The shim without the shortcuts a library without `fast-path` leaves out.
            let lean = ["-DLWIP_SNAT_QUIET_PATH=0".to_string(), "-DLWIP_SNAT_ROUTE_CACHE=0".into()];
            let args: Vec<String> =
                includes.iter().cloned().chain(lean).chain([path(&repo.join("c-shim/lwip_snat_hook.c"))]).collect();
            failures.extend(compile(cc, &flags, &args, &format!("c-shim/lwip_snat_hook.c, no shortcuts ({std})")));
            runs += 1;
            // lwIP's ip4.c itself, where LWIP_HOOK_IP4_INPUT expands, with every flag (-Wundef
            // included: the harness's lwipopts.h must define all that lwIP tests with #if).
            let args: Vec<String> = includes.iter().cloned().chain([path(&lwip.join("core/ipv4/ip4.c"))]).collect();
            failures.extend(compile(cc, &flags, &args, &format!("lwIP's core/ipv4/ip4.c ({std})")));
            runs += 1;
        }
        let flags: Vec<String> = ["-std=c++11".to_string(), "-Wall".into(), "-Wextra".into(), "-pedantic".into()]
            .into_iter()
            .chain(cxx_flags)
            .collect();
        for (file, what) in [
            (&header_alone, "include/lwip_snat.h"),
            (&hook_header_alone, "c-shim/lwip_snat_hook.h"),
            (&compat_napt_alone, "include/lwip_snat_compat_napt.h"),
            (&compat_nat_alone, "include/lwip_snat_compat_nat.h"),
            (&netif_header_alone, "c-shim/lwip_snat_netif.h"),
            (&tcpip_header_alone, "c-shim/lwip_snat_tcpip.h"),
        ] {
            let args: Vec<String> = includes.iter().cloned().chain(["-x".into(), "c++".into(), path(file)]).collect();
            failures.extend(compile(cxx, &flags, &args, &format!("{what} alone (C++11)")));
            runs += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} compilations warned or failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_flag_reader_sees_what_cmakecommon_sets() {
    // The reader's output for the C and C++ compile of each compiler, checked against flags the
    // file is known to set: a misread (a lost list, a wrong branch) would silently weaken the
    // check above.
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("strict_flags_reader");
    let lwip = lwip22_build::lwip_source(&work);
    let cmake = std::fs::read_to_string(lwip.parent().unwrap().join("contrib/ports/CMakeCommon.cmake")).unwrap();
    let gcc_c = lwip_compiler_flags(&cmake, Family::Gnu, Lang::C);
    for flag in
        ["-Og", "-Werror", "-pedantic", "-Wshadow", "-Wundef", "-Wc++-compat", "-Wc90-c99-compat", "-Wlogical-op"]
    {
        assert!(gcc_c.iter().any(|f| f == flag), "gcc C flags lack {flag}: {gcc_c:?}");
    }
    assert!(!gcc_c.iter().any(|f| f == "-O3" || f.starts_with("-fsanitize") || f == "-Wdocumentation"), "{gcc_c:?}");
    let gxx = lwip_compiler_flags(&cmake, Family::Gnu, Lang::Cxx);
    assert!(gxx.iter().any(|f| f == "-Wshadow") && !gxx.iter().any(|f| f == "-Wc++-compat"), "{gxx:?}");
    let clang_c = lwip_compiler_flags(&cmake, Family::Clang, Lang::C);
    assert!(clang_c.iter().any(|f| f == "-Wdocumentation"), "{clang_c:?}");
    assert!(!clang_c.iter().any(|f| f == "-Wlogical-op" || f == "-Wc90-c99-compat"), "{clang_c:?}");
}
