//! `include/lwip_snat.h` is committed; it must be exactly what build.rs generates from src/ffi/
//! and the c_enum! tables with the pinned cbindgen, so C users never compile against a stale API.

#[test]
fn committed_header_is_what_build_rs_generates() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/lwip_snat.h")).expect("generated header");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/lwip_snat.h"))
        .expect("include/lwip_snat.h");
    // The committed header carries the default capacities; a build with other LWIP_SNAT_MAX_*
    // values has its own header in OUT_DIR and only the rest must match.
    let strip = |h: &str| h.lines().filter(|l| !l.starts_with("#define LWIP_SNAT_")).collect::<Vec<_>>().join("\n");
    if env!("LWIP_SNAT_CUSTOM_CAPACITIES") == "1" {
        assert_eq!(strip(&generated), strip(&committed), "include/lwip_snat.h is stale");
    } else {
        assert!(
            generated == committed,
            "include/lwip_snat.h is stale: regenerate it with `LWIP_SNAT_UPDATE_HEADER=1 cargo build` and commit it"
        );
    }
}
