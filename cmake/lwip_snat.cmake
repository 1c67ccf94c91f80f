# lwip_snat.cmake: lwip-snat in a CMake build, the way lwIP's own src/Filelists.cmake is used.
#
#   set(LWIP_DIR /path/to/lwip)                    # as for lwIP's Filelists.cmake
#   set(LWIP_INCLUDE_DIRS ${LWIP_DIR}/src/include /dir/of/lwipopts.h)
#   include(/path/to/lwip-snat/cmake/lwip_snat.cmake)
#   list(APPEND LWIP_INCLUDE_DIRS ${LWIP_SNAT_INCLUDE_DIRS})   # lwipopts.h's LWIP_HOOK_FILENAME
#   include(${LWIP_DIR}/src/Filelists.cmake)
#   target_link_libraries(firmware PRIVATE lwip_snat lwipcore)
#
# Gives:
#   lwip_snat                the target to link: c-shim/lwip_snat_hook.c compiled with
#                            LWIP_INCLUDE_DIRS / LWIP_DEFINITIONS (the user's lwipopts.h), the Rust
#                            library built by cargo, and the include directories below.
#   LWIP_SNAT_INCLUDE_DIRS   c-shim/ and the directory of the generated lwip_snat.h, which lwIP's
#                            own sources include through LWIP_HOOK_FILENAME.
#   LWIP_SNAT_LIBRARY        the Rust archive, ${CMAKE_CURRENT_BINARY_DIR}/lwip_snat/liblwip_snat.a.
#   LWIP_SNAT_HEADER         lwip_snat.h for the configured capacities, at
#                            ${CMAKE_CURRENT_BINARY_DIR}/lwip_snat/include/lwip_snat.h.
#   lwip_snat_keep_api(tgt)  links every C API function into executable `tgt` (as linker roots),
#                            so a `panic-never` build proves the whole API free of panics.
#
# Cache variables (all optional; docs/integration.md has the full recipe):
#   LWIP_SNAT_RUST_TARGET        Rust target triple; default: from the C compiler's target
#                                (-mcpu/-mfloat-abi/-march in CMAKE_C_FLAGS, CMAKE_SYSTEM_PROCESSOR),
#                                empty (cargo's host) when not cross-compiling.
#   LWIP_SNAT_MAX_TCP, _MAX_UDP, _MAX_ICMP, _MAX_RULES, _MAX_HOSTS, _REASS_SLOTS, _REASS_BYTES,
#   _MAX_PORTMAPS                capacities (empty: the library's default).
#   LWIP_SNAT_CARGO_FEATURES     cargo features (a list); the module adds `panic-handler` for a
#                                no_std target and `std` for the host.
#   LWIP_SNAT_DEFAULT_FEATURES   ON/OFF: cargo's default features (default ON).
#   LWIP_SNAT_LTO                ON/OFF: link-time optimisation of the Rust library (default ON).
#   LWIP_SNAT_CARGO, LWIP_SNAT_RUSTC  the cargo and (optional) rustc to use.
#   LWIP_SNAT_BUILD_STD          ON: build `core` from source (-Zbuild-std, e.g. Debian's rustc-web
#                                with rust-web-src); default: ON when the rustc has no prebuilt core
#                                for the target.
#   LWIP_SNAT_FRAME_POINTERS     ON/OFF: keep the target's frame pointers (default ON: the target's
#                                own setting, which Rust's thumb targets set to always). OFF builds
#                                the library and core for the target's spec with
#                                "frame-pointer": "may-omit", as gcc -Os does (docs/footprint.md:
#                                less flash, no frame-pointer backtraces); needs a cross target and
#                                LWIP_SNAT_BUILD_STD.
#   LWIP_SNAT_CARGO_TARGET_DIR   cargo's target directory (default: in the build tree).
#   LWIP_SNAT_COMPAT             drop-in APIs to build in, a list of `nat` (the original add-on's
#                                nat/nat.h) and `napt` (esp-lwip's lwip_napt.h): their headers go
#                                next to the generated lwip_snat.h, their C files into lwip_snat.
cmake_minimum_required(VERSION 3.13)
include_guard(GLOBAL)

set(LWIP_SNAT_DIR "${CMAKE_CURRENT_LIST_DIR}/.." CACHE INTERNAL "lwip-snat source tree")
get_filename_component(LWIP_SNAT_DIR "${LWIP_SNAT_DIR}" ABSOLUTE)

# The Rust target for the C toolchain in use: Arm Cortex-M by -mcpu and float ABI, RISC-V by -march.
function(lwip_snat_guess_rust_target out)
  set(flags "${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_INIT}")
  set(triple "")
  if(flags MATCHES "-mcpu=(cortex-[a-z0-9+.]+)")
    set(cpu "${CMAKE_MATCH_1}")
    set(hf "")
    if(flags MATCHES "-mfloat-abi=hard")
      set(hf "hf")
    endif()
    if(cpu MATCHES "^cortex-m0|^cortex-m1$")
      set(triple thumbv6m-none-eabi)
    elseif(cpu STREQUAL "cortex-m3")
      set(triple thumbv7m-none-eabi)
    elseif(cpu MATCHES "^cortex-m(4|7)")
      set(triple thumbv7em-none-eabi${hf})
    elseif(cpu STREQUAL "cortex-m23")
      set(triple thumbv8m.base-none-eabi)
    elseif(cpu MATCHES "^cortex-m(33|35p|55|85)")
      set(triple thumbv8m.main-none-eabi${hf})
    endif()
  elseif(flags MATCHES "-march=(rv32[a-z0-9_]+)")
    set(isa "${CMAKE_MATCH_1}")
    string(REGEX REPLACE "_.*" "" isa "${isa}")
    string(REPLACE "g" "imafd" isa "${isa}")
    if(isa MATCHES "^rv32ima?f?d?c$" AND isa MATCHES "a")
      set(triple riscv32imac-unknown-none-elf)
    elseif(isa MATCHES "^rv32imc$")
      set(triple riscv32imc-unknown-none-elf)
    elseif(isa MATCHES "^rv32ima$")
      set(triple riscv32ima-unknown-none-elf)
    elseif(isa MATCHES "^rv32im?$")
      set(triple riscv32i-unknown-none-elf)
    endif()
  endif()
  if(triple STREQUAL "" AND CMAKE_CROSSCOMPILING)
    message(FATAL_ERROR "lwip_snat: no Rust target known for this toolchain "
      "(CMAKE_SYSTEM_PROCESSOR=${CMAKE_SYSTEM_PROCESSOR}, C flags: ${flags}); set LWIP_SNAT_RUST_TARGET")
  endif()
  set(${out} "${triple}" PARENT_SCOPE)
endfunction()

if(NOT DEFINED LWIP_SNAT_RUST_TARGET)
  lwip_snat_guess_rust_target(_lwip_snat_triple)
  set(LWIP_SNAT_RUST_TARGET "${_lwip_snat_triple}" CACHE STRING
    "Rust target triple of the library (empty: cargo's host)")
endif()
foreach(capacity MAX_TCP MAX_UDP MAX_ICMP MAX_RULES MAX_HOSTS REASS_SLOTS REASS_BYTES MAX_PORTMAPS)
  set(LWIP_SNAT_${capacity} "" CACHE STRING "lwip-snat capacity ${capacity} (empty: the library default)")
endforeach()
set(LWIP_SNAT_CARGO_FEATURES "" CACHE STRING "cargo features of lwip-snat (a ;-list)")
option(LWIP_SNAT_DEFAULT_FEATURES "lwip-snat's default cargo features" ON)
option(LWIP_SNAT_LTO "link-time optimisation of the Rust library" ON)
option(LWIP_SNAT_FRAME_POINTERS "keep the Rust target's frame pointers (OFF: omit them; needs LWIP_SNAT_BUILD_STD)" ON)
find_program(LWIP_SNAT_CARGO cargo HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin" REQUIRED)
set(LWIP_SNAT_RUSTC "" CACHE FILEPATH "rustc for cargo to use (empty: cargo's choice)")
set(LWIP_SNAT_CARGO_TARGET_DIR "${CMAKE_CURRENT_BINARY_DIR}/lwip_snat/cargo" CACHE PATH "cargo's target directory")

# The rustc cargo runs: LWIP_SNAT_RUSTC, else the one beside cargo.
set(_rustc "${LWIP_SNAT_RUSTC}")
if(_rustc STREQUAL "")
  get_filename_component(_cargo_dir "${LWIP_SNAT_CARGO}" DIRECTORY)
  find_program(_rustc rustc HINTS "${_cargo_dir}" NO_CACHE)
endif()

# -Zbuild-std when the compiler has no prebuilt core for the target (Debian's rustc-web).
if(NOT DEFINED LWIP_SNAT_BUILD_STD)
  set(_lwip_snat_build_std OFF)
  if(NOT LWIP_SNAT_RUST_TARGET STREQUAL "")
    execute_process(COMMAND "${_rustc}" --print target-libdir --target "${LWIP_SNAT_RUST_TARGET}"
      OUTPUT_VARIABLE _libdir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc ERROR_QUIET)
    file(GLOB _core "${_libdir}/libcore-*.rlib")
    if(NOT _rc EQUAL 0 OR NOT _core)
      set(_lwip_snat_build_std ON)
    endif()
  endif()
  set(LWIP_SNAT_BUILD_STD ${_lwip_snat_build_std} CACHE BOOL "build core from source (-Zbuild-std=core)")
endif()

# Without frame pointers: the rustc's own spec of the target (so it matches that compiler) with
# "frame-pointer": "may-omit", written into the build tree as <triple>.json. cargo builds for a
# spec file like for the triple (its output directory is named after the file's stem), but core
# must be built for it too: a prebuilt core keeps its frame pointers and is not usable with a
# spec file, hence -Zbuild-std.
set(LWIP_SNAT_TARGET_SPEC "")
if(NOT LWIP_SNAT_FRAME_POINTERS)
  if(LWIP_SNAT_RUST_TARGET STREQUAL "")
    message(FATAL_ERROR "lwip_snat: LWIP_SNAT_FRAME_POINTERS=OFF is for a cross target (LWIP_SNAT_RUST_TARGET "
      "is empty: cargo's host, whose std is prebuilt); leave it ON for a native build")
  endif()
  if(NOT LWIP_SNAT_BUILD_STD)
    message(FATAL_ERROR "lwip_snat: LWIP_SNAT_FRAME_POINTERS=OFF needs LWIP_SNAT_BUILD_STD=ON: core must be "
      "built from source for a target spec without frame pointers (-Zbuild-std=core; with rustup, "
      "`rustup component add rust-src`)")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env RUSTC_BOOTSTRAP=1
      "${_rustc}" -Z unstable-options --print target-spec-json --target "${LWIP_SNAT_RUST_TARGET}"
    OUTPUT_VARIABLE _spec ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0 OR NOT _spec MATCHES "^[ \n]*{")
    message(FATAL_ERROR "lwip_snat: LWIP_SNAT_FRAME_POINTERS=OFF: `${_rustc} --print target-spec-json "
      "--target ${LWIP_SNAT_RUST_TARGET}` failed: ${_err}")
  endif()
  if(_spec MATCHES "\"frame-pointer\": *\"[a-z-]+\"")
    string(REGEX REPLACE "\"frame-pointer\": *\"[a-z-]+\"" "\"frame-pointer\": \"may-omit\"" _spec "${_spec}")
  else()
    # No key: the target already lets LLVM omit them; say so in the spec all the same.
    string(REGEX REPLACE "^([ \n]*){" "\\1{\n  \"frame-pointer\": \"may-omit\"," _spec "${_spec}")
  endif()
  set(LWIP_SNAT_TARGET_SPEC "${CMAKE_CURRENT_BINARY_DIR}/lwip_snat/target-spec/${LWIP_SNAT_RUST_TARGET}.json")
  # Written only when it changed, so cargo does not rebuild core on every configure.
  file(CONFIGURE OUTPUT "${LWIP_SNAT_TARGET_SPEC}" CONTENT "${_spec}" @ONLY)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env RUSTC_BOOTSTRAP=1 "${LWIP_SNAT_CARGO}" -Z help
    OUTPUT_VARIABLE _zflags ERROR_QUIET)
  message(STATUS "lwip_snat: frame pointers omitted (target spec ${LWIP_SNAT_TARGET_SPEC})")
endif()

# The header for the configured capacities: the committed include/lwip_snat.h (the default
# capacities) with the capacity #defines set; the build checks it equals what build.rs generates.
set(_dir "${CMAKE_CURRENT_BINARY_DIR}/lwip_snat")
set(LWIP_SNAT_HEADER "${_dir}/include/lwip_snat.h")
set(LWIP_SNAT_LIBRARY "${_dir}/liblwip_snat.a")
set(LWIP_SNAT_INCLUDE_DIRS "${LWIP_SNAT_DIR}/c-shim" "${_dir}/include")
file(READ "${LWIP_SNAT_DIR}/include/lwip_snat.h" _header)
set(_env "")
foreach(capacity MAX_TCP MAX_UDP MAX_ICMP MAX_RULES MAX_HOSTS REASS_SLOTS REASS_BYTES MAX_PORTMAPS)
  if(NOT LWIP_SNAT_${capacity} STREQUAL "")
    if(NOT _header MATCHES "#define LWIP_SNAT_${capacity} [0-9]+\n")
      message(FATAL_ERROR "lwip_snat: include/lwip_snat.h has no LWIP_SNAT_${capacity}")
    endif()
    string(REGEX REPLACE "#define LWIP_SNAT_${capacity} [0-9]+\n"
      "#define LWIP_SNAT_${capacity} ${LWIP_SNAT_${capacity}}\n" _header "${_header}")
    list(APPEND _env "LWIP_SNAT_${capacity}=${LWIP_SNAT_${capacity}}")
  endif()
endforeach()
# A feature the build leaves out loses its LWIP_SNAT_FEATURE_* #define (docs/footprint.md).
foreach(feature reassembly portmap hairpin filtering mss-clamp fast-path hook-forward dump icmp-queries evict)
  if(NOT (LWIP_SNAT_DEFAULT_FEATURES OR "full" IN_LIST LWIP_SNAT_CARGO_FEATURES OR feature IN_LIST LWIP_SNAT_CARGO_FEATURES))
    string(TOUPPER "${feature}" _macro)
    string(REPLACE "-" "_" _macro "${_macro}")
    string(REGEX REPLACE "#define LWIP_SNAT_FEATURE_${_macro} 1[^\n]*\n" "" _header "${_header}")
  endif()
endforeach()
file(CONFIGURE OUTPUT "${LWIP_SNAT_HEADER}" CONTENT "${_header}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${LWIP_SNAT_DIR}/include/lwip_snat.h")

# cargo: the staticlib crate type (the package itself is an rlib), release profile.
set(_features ${LWIP_SNAT_CARGO_FEATURES})
set(_cargo_args rustc --manifest-path "${LWIP_SNAT_DIR}/Cargo.toml" --release --lib --crate-type staticlib)
if(LWIP_SNAT_RUST_TARGET STREQUAL "")
  list(APPEND _features std)
  set(_out "${LWIP_SNAT_CARGO_TARGET_DIR}/release")
else()
  list(APPEND _features panic-handler)
  if(LWIP_SNAT_TARGET_SPEC STREQUAL "")
    list(APPEND _cargo_args --target "${LWIP_SNAT_RUST_TARGET}")
  else()
    list(APPEND _cargo_args --target "${LWIP_SNAT_TARGET_SPEC}")
    # Newer cargo wants .json targets enabled (older ones take them as they are).
    if(_zflags MATCHES "json-target-spec")
      list(APPEND _cargo_args -Zjson-target-spec)
    endif()
  endif()
  set(_out "${LWIP_SNAT_CARGO_TARGET_DIR}/${LWIP_SNAT_RUST_TARGET}/release")
endif()
list(REMOVE_DUPLICATES _features)
string(REPLACE ";" "," _features "${_features}")
list(APPEND _cargo_args --features "${_features}")
if(NOT LWIP_SNAT_DEFAULT_FEATURES)
  list(APPEND _cargo_args --no-default-features)
endif()
if(LWIP_SNAT_BUILD_STD)
  list(APPEND _cargo_args -Zbuild-std=core)
  list(APPEND _env RUSTC_BOOTSTRAP=1)
endif()
if(NOT LWIP_SNAT_RUSTC STREQUAL "")
  list(APPEND _env "RUSTC=${LWIP_SNAT_RUSTC}")
endif()
if(NOT LWIP_SNAT_LTO)
  list(APPEND _env CARGO_PROFILE_RELEASE_LTO=false)
endif()
list(APPEND _env "CARGO_TARGET_DIR=${LWIP_SNAT_CARGO_TARGET_DIR}")
# build.rs writes the header the build compares with the one above into this directory, one per
# feature set: cargo reruns build.rs when the directory changes, not when a build tree goes back
# to a feature set it built before, so each set's header must stay where that set left it.
set(_generated "${_dir}/generated/${_features}")
if(LWIP_SNAT_DEFAULT_FEATURES)
  set(_generated "${_dir}/generated/default,${_features}")
endif()
list(APPEND _env "LWIP_SNAT_HEADER_DIR=${_generated}")

# cargo decides what is stale, so it runs on every build (a no-op when nothing changed).
add_custom_target(lwip_snat_cargo
  COMMAND ${CMAKE_COMMAND} -E env ${_env} "${LWIP_SNAT_CARGO}" ${_cargo_args}
  COMMAND ${CMAKE_COMMAND} -E copy_if_different "${_out}/liblwip_snat.a" "${LWIP_SNAT_LIBRARY}"
  COMMAND ${CMAKE_COMMAND} -E compare_files "${_generated}/lwip_snat.h" "${LWIP_SNAT_HEADER}"
  BYPRODUCTS "${LWIP_SNAT_LIBRARY}"
  WORKING_DIRECTORY "${LWIP_SNAT_DIR}"
  COMMENT "cargo: liblwip_snat.a for ${LWIP_SNAT_RUST_TARGET} (features ${_features})"
  USES_TERMINAL VERBATIM)

add_library(lwip_snat_rust STATIC IMPORTED GLOBAL)
set_target_properties(lwip_snat_rust PROPERTIES IMPORTED_LOCATION "${LWIP_SNAT_LIBRARY}")
add_dependencies(lwip_snat_rust lwip_snat_cargo)
if(LWIP_SNAT_RUST_TARGET STREQUAL "" AND UNIX)
  # A host staticlib links std, which needs the C library's threads and dynamic loader.
  set_property(TARGET lwip_snat_rust PROPERTY INTERFACE_LINK_LIBRARIES pthread dl m)
endif()

# The shim is lwIP code: it sees the user's lwipopts.h through LWIP_INCLUDE_DIRS.
add_library(lwip_snat STATIC "${LWIP_SNAT_DIR}/c-shim/lwip_snat_hook.c" "${LWIP_SNAT_DIR}/c-shim/lwip_snat_netif.c"
  "${LWIP_SNAT_DIR}/c-shim/lwip_snat_tcpip.c")
set_target_properties(lwip_snat PROPERTIES OUTPUT_NAME lwip_snat_hook)
target_include_directories(lwip_snat PUBLIC ${LWIP_SNAT_INCLUDE_DIRS} PRIVATE ${LWIP_INCLUDE_DIRS})
target_compile_definitions(lwip_snat PRIVATE ${LWIP_DEFINITIONS})
target_compile_options(lwip_snat PRIVATE ${LWIP_COMPILER_FLAGS})
target_link_libraries(lwip_snat PUBLIC lwip_snat_rust)
add_dependencies(lwip_snat lwip_snat_cargo)

# Drop-in APIs (docs/migrating.md). Their headers include "lwip_snat.h" from their own directory,
# so they are copied beside the generated one, never used from include/ (the default capacities).
set(LWIP_SNAT_COMPAT "" CACHE STRING "drop-in APIs to build in: a list of nat, napt")
foreach(_api IN LISTS LWIP_SNAT_COMPAT)
  if(NOT _api MATCHES "^(nat|napt)$")
    message(FATAL_ERROR "lwip_snat: LWIP_SNAT_COMPAT has '${_api}': neither nat nor napt")
  endif()
  configure_file("${LWIP_SNAT_DIR}/include/lwip_snat_compat_${_api}.h" "${_dir}/include/lwip_snat_compat_${_api}.h"
    COPYONLY)
  target_sources(lwip_snat PRIVATE "${LWIP_SNAT_DIR}/c-shim/compat/${_api}.c")
endforeach()

# Every C API function of the archive as a linker root of `target` (an EXTERN() script made from
# the archive's symbol table after cargo ran), so --gc-sections keeps the whole API.
function(lwip_snat_keep_api target)
  set(roots "${CMAKE_CURRENT_BINARY_DIR}/${target}.lwip_snat_api.ld")
  add_custom_command(OUTPUT "${roots}"
    COMMAND ${CMAKE_COMMAND} -DREADELF=${CMAKE_READELF} -DARCHIVE=${LWIP_SNAT_LIBRARY} -DOUT=${roots}
      -P "${LWIP_SNAT_DIR}/cmake/lwip_snat_api_roots.cmake"
    DEPENDS lwip_snat_cargo "${LWIP_SNAT_LIBRARY}" VERBATIM)
  add_custom_target(${target}_lwip_snat_api DEPENDS "${roots}")
  add_dependencies(${target} ${target}_lwip_snat_api)
  target_link_options(${target} PRIVATE "${roots}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${roots}")
endfunction()
