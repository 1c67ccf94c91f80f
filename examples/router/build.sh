#!/usr/bin/env bash
# Builds the router example: the lwip-snat staticlib (cargo, release) and the C program
# (router.c, tap.c, frames.c, table.c, the shim c-shim/lwip_snat_hook.c) linked with Debian's liblwip.
# Needs liblwip-dev and gcc (examples/router/try-it.sh installs them).
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

(cd "$repo" && cargo build --release --lib --quiet)

mkdir -p "$target/router"
# -include frames.h into the shim: a datagram the NAT reassembled is re-injected through the
# router's hooked input (LWIP_SNAT_REINJECT), since this lwIP has no hook compiled in.
${CC:-gcc} -std=gnu99 -O2 -g -Wall -Wextra \
  -I"$repo/include" -I"$repo/c-shim" -I"$here" -I/usr/include/lwip \
  -include "$here/frames.h" \
  "$here/router.c" "$here/tap.c" "$here/frames.c" "$here/table.c" "$repo/c-shim/lwip_snat_hook.c" \
  "$target/release/liblwip_snat.a" \
  -llwip -lpthread -ldl -lm \
  -o "$target/router/lwip-snat-router"
echo "$target/router/lwip-snat-router"
