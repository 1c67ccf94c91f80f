#!/usr/bin/env bash
# Builds the router example with CMake (examples/router/CMakeLists.txt, through
# cmake/lwip_snat.cmake): the lwip-snat library (cargo, release, for the host), the shim and the C
# program (router.c, tap.c, table.c), linked with Debian's liblwip.
# Needs liblwip-dev, gcc and cmake (examples/router/try-it.sh installs them).
# Output: ${CARGO_TARGET_DIR:-target}/router/lwip-snat-router (path printed on the last line).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac

if [ ! -f /usr/include/lwip/lwipopts.h ]; then
  echo "build.sh: Debian's liblwip-dev is missing (apt-get install liblwip-dev)" >&2
  exit 1
fi

cmake -S "$here" -B "$target/router" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLWIP_SNAT_CARGO_TARGET_DIR="$target" >"$target/router.configure.log" ||
  { cat "$target/router.configure.log" >&2; exit 1; }
cmake --build "$target/router" -j"$(nproc)" >&2
echo "$target/router/lwip-snat-router"
