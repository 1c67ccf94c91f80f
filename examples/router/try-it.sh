#!/usr/bin/env bash
# Try lwip-snat: real Linux hosts talk through an lwIP router running the NAT.
#
#   LAN host 192.168.7.2 --tap snat-lan-- [lwIP + lwip-snat] --tap snat-wan-- 10.77.0.2 WAN host
#   (netns lwsnat-lan)     192.168.7.1   (netns lwsnat-router)   10.77.0.1   (netns lwsnat-wan)
#                                                                              | 10.78.0.1 (veth)
#                                                                              | 10.78.0.2 far host
#                                                                              (netns lwsnat-far)
#
# Installs what it needs (Debian packages), builds examples/router, creates the namespaces, and
# checks through the NAT: ping, TCP transfers (iperf3 both ways, a file with its checksum), a UDP
# exchange, UDP and ICMP traceroute showing every hop, the NAT table, that the WAN side saw only
# the router's WAN address, that unsolicited connections from the WAN do not reach the LAN host,
# and a forwarded port (--forward tcp:8080:192.168.7.2:8000) that does; last, that deleting a tap
# ends the router. Prints PASS/FAIL per
# check and exits non-zero if any fails. Everything it creates (namespaces, taps, processes,
# temporary files) is removed on exit, Ctrl-C included. All traffic stays in those namespaces.
#
# Usage: examples/router/try-it.sh   (as root; re-runs itself with sudo otherwise)
#        KEEP_LOGS=1 examples/router/try-it.sh   keeps the logs directory
#        ROUTER=/path/to/lwip-snat-router ...      skips the build and uses that binary
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "try-it.sh: needs root (network namespaces, taps)" >&2; exit 1; }
  exec sudo -- "$0" "$@"
fi

here="$(cd "$(dirname "$0")" && pwd)"

NS_ROUTER=lwsnat-router NS_LAN=lwsnat-lan NS_WAN=lwsnat-wan NS_FAR=lwsnat-far
NAMESPACES=("$NS_ROUTER" "$NS_LAN" "$NS_WAN" "$NS_FAR")
LAN_TAP=snat-lan WAN_TAP=snat-wan
ROUTER_LAN=192.168.7.1 LAN_HOST=192.168.7.2
ROUTER_WAN=10.77.0.1 WAN_HOST=10.77.0.2
WAN_FAR_SIDE=10.78.0.1 FAR_HOST=10.78.0.2
SERVICE_PORT=8000 FORWARD_PORT=8080 UDP_PORT=7000 NC_PORT=9000 IPERF_PORT=5201
TRANSFER_MB=16

packages=(iproute2 iputils-ping iperf3 netcat-openbsd traceroute tcpdump procps liblwip-dev gcc pkg-config cmake)

passed=0
failed=0
work=""
router_pid=""
made_tun=0
tcpdump_pid=""
service=""
bg_pids=()

if [ -t 1 ]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' plain=$'\e[0m'; else bold="" green="" red="" plain=""; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
pass() { passed=$((passed + 1)); printf '%sPASS%s  %s\n' "$green" "$plain" "$*"; }
fail() { failed=$((failed + 1)); printf '%sFAIL%s  %s\n' "$red" "$plain" "$*"; }
# check DESCRIPTION COMMAND...: PASS if the command succeeds
check() {
  local what="$1"
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
# bg NS COMMAND...: start a command in a namespace in the background, remember its pid
bg() { local ns="$1"; shift; ip netns exec "$ns" "$@" & bg_pids+=("$!"); }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
  if [ -n "$router_pid" ] && kill -0 "$router_pid" 2>/dev/null; then
    kill -INT "$router_pid" 2>/dev/null   # the router prints its table once more and exits
    for _ in $(seq 30); do kill -0 "$router_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$router_pid" 2>/dev/null
  fi
  remove_namespaces
  [ "$made_tun" = 1 ] && rm -f /dev/net/tun
  if [ -n "$work" ]; then
    if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
  fi
  exit "$status"
}

# Deletes our namespaces (and with them the taps, the veth pair and whatever still runs there).
remove_namespaces() {
  local ns pid
  for ns in "${NAMESPACES[@]}"; do
    ip netns list | grep -qw "^$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Builds as the user who ran sudo (so target/ stays theirs and their rustup toolchain is used).
build_router() {
  local user="${SUDO_USER:-root}" home cargo_dir
  home="$(getent passwd "$user" | cut -d: -f6)"
  cargo_dir="$home/.cargo/bin"
  if ! PATH="$PATH:$cargo_dir" command -v cargo >/dev/null; then
    echo "try-it.sh: cargo not found: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
  fi
  if [ "$user" != root ]; then
    sudo -u "$user" env PATH="$PATH:$cargo_dir" HOME="$home" ${CARGO_TARGET_DIR:+CARGO_TARGET_DIR="$CARGO_TARGET_DIR"} \
      "$here/build.sh" | tail -n 1
  else
    PATH="$PATH:$cargo_dir" "$here/build.sh" | tail -n 1
  fi
}

# wait_for SECONDS COMMAND...: retry until the command succeeds
wait_for() {
  local tries=$(($1 * 10))
  shift
  while ! "$@" 2>/dev/null; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}
listening() { in_ns "$1" ss -Hln"$2" "sport = :$3" | grep -q .; }

# Asks the router for its NAT table (SIGUSR1) and prints it; the dump also goes to $work/table.
dump_table() {
  local n
  n=$(($(grep -c '^end of NAT table' "$work/router.log" || true) + 1))
  kill -USR1 "$router_pid"
  wait_for 5 grep -q "^end of NAT table #$n\$" "$work/router.log" || return 1
  sed -n "/^NAT table #$n:/,/^end of NAT table #$n\$/p" "$work/router.log" | tee "$work/table"
}
# table_has PROTO REMOTE: a session of the LAN host, translated to the router's WAN address
table_has() {
  awk -v p="$1" -v in_ip="$LAN_HOST" -v out_ip="$ROUTER_WAN" -v r="$2" \
    '$1 == p && index($2, in_ip ":") == 1 && index($3, out_ip ":") == 1 && $4 == r { found = 1 }
     END { exit !found }' "$work/table"
}

setup_network() {
  local ns
  remove_namespaces # leftovers of an earlier run that was killed hard
  for ns in "${NAMESPACES[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done

  if [ ! -c /dev/net/tun ]; then # some containers lack the device node (the kernel has the driver)
    mkdir -p /dev/net && mknod -m 600 /dev/net/tun c 10 200 && made_tun=1
  fi
  # The router makes its taps inside its own namespace; their host ends then move to the hosts.
  ip netns exec "$NS_ROUTER" "$router" --lan-tap "$LAN_TAP" --wan-tap "$WAN_TAP" \
    --lan "$ROUTER_LAN/24" --wan "$ROUTER_WAN/24" --gateway "$WAN_HOST" \
    --forward "tcp:$FORWARD_PORT:$LAN_HOST:$SERVICE_PORT" >"$work/router.log" 2>&1 &
  router_pid=$!
  if ! wait_for 10 grep -q '^ready$' "$work/router.log"; then
    cat "$work/router.log"
    echo "try-it.sh: the router did not start" >&2
    return 1
  fi
  ip -n "$NS_ROUTER" link set "$LAN_TAP" netns "$NS_LAN"
  ip -n "$NS_ROUTER" link set "$WAN_TAP" netns "$NS_WAN"

  ip -n "$NS_LAN" addr add "$LAN_HOST/24" dev "$LAN_TAP"
  ip -n "$NS_LAN" link set "$LAN_TAP" up
  ip -n "$NS_LAN" route add default via "$ROUTER_LAN"

  # The WAN host routes between the router's uplink and the far host's network, and knows the
  # LAN prefix is behind the router: whether it gets in is up to the NAT, not to routing.
  ip -n "$NS_WAN" addr add "$WAN_HOST/24" dev "$WAN_TAP"
  ip -n "$NS_WAN" link set "$WAN_TAP" up
  ip -n "$NS_WAN" link add wan-far type veth peer name far-wan netns "$NS_FAR"
  ip -n "$NS_WAN" addr add "$WAN_FAR_SIDE/24" dev wan-far
  ip -n "$NS_WAN" link set wan-far up
  ip -n "$NS_WAN" route add 192.168.7.0/24 via "$ROUTER_WAN"
  in_ns "$NS_WAN" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

  ip -n "$NS_FAR" addr add "$FAR_HOST/24" dev far-wan
  ip -n "$NS_FAR" link set far-wan up
  ip -n "$NS_FAR" route add default via "$WAN_FAR_SIDE"
  in_ns "$NS_FAR" sysctl -qw net.ipv4.icmp_ratelimit=0

  # Everything the router sends to the WAN host, for the "only the WAN address" check.
  bg "$NS_WAN" tcpdump -i "$WAN_TAP" -n -Q in -U -w "$work/wan.pcap" ip 2>"$work/tcpdump.log"
  tcpdump_pid=$!
  wait_for 10 grep -q 'listening on' "$work/tcpdump.log"
}

ping_ok() { # ping_ok DEST: 3 echoes from the LAN host, all answered
  local out
  out="$(in_ns "$NS_LAN" ping -n -c 3 -i 0.2 -W 2 "$1" 2>&1)" || { echo "$out"; return 1; }
  echo "$out" | tail -n 2 | sed 's/^/      /'
  echo "$out" | grep -q ' 0% packet loss'
}

iperf_ok() { # iperf_ok [-R]: an iperf3 transfer between the LAN host and the far host
  local out server
  bg "$NS_FAR" timeout 60 iperf3 -s -1 -B "$FAR_HOST" -p "$IPERF_PORT" --logfile "$work/iperf3-server.log"
  server=$!
  wait_for 5 listening "$NS_FAR" t "$IPERF_PORT" || return 1
  out="$(in_ns "$NS_LAN" timeout 60 iperf3 -c "$FAR_HOST" -p "$IPERF_PORT" -n "${TRANSFER_MB}M" -f m "$@" 2>&1)" ||
    { echo "$out"; return 1; }
  wait "$server" || true # a one-off server: gone before the next one listens
  echo "$out" | grep -E 'sender|receiver' | sed 's/^/      /'
  echo "$out" | grep -q 'receiver'
}

file_ok() { # 4 MiB from the LAN host to the far host with netcat; compare checksums
  local start end sent got ms
  head -c $((4 * 1024 * 1024)) /dev/urandom >"$work/blob"
  bg "$NS_FAR" timeout 60 nc -n -l "$FAR_HOST" "$NC_PORT" >"$work/blob.received" 2>/dev/null
  local server=$!
  wait_for 5 listening "$NS_FAR" t "$NC_PORT" || return 1
  start=$(date +%s%N)
  in_ns "$NS_LAN" timeout 60 nc -n -N "$FAR_HOST" "$NC_PORT" <"$work/blob" || return 1
  wait "$server" || true
  end=$(date +%s%N)
  sent=$(sha256sum <"$work/blob" | cut -c1-16)
  got=$(sha256sum <"$work/blob.received" | cut -c1-16)
  ms=$(((end - start) / 1000000 + 1))
  echo "      4 MiB in ${ms} ms ($((4 * 8 * 1000 / ms)) Mbit/s); sha256 sent $sent, received $got"
  [ "$sent" = "$got" ]
}

udp_ok() { # one datagram each way between the LAN host and the far host
  local reply
  bg "$NS_FAR" sh -c "echo 'pong from the far host' | timeout 10 nc -n -u -l $FAR_HOST $UDP_PORT >'$work/udp-server.txt'"
  wait_for 5 listening "$NS_FAR" u "$UDP_PORT" || return 1
  reply="$(echo 'ping from the LAN host' | in_ns "$NS_LAN" timeout 10 nc -n -u -w 2 "$FAR_HOST" "$UDP_PORT" || true)"
  echo "      LAN host got: ${reply:-nothing}; far host got: $(head -n 1 "$work/udp-server.txt")"
  [ "$reply" = "pong from the far host" ] && grep -q '^ping from the LAN host$' "$work/udp-server.txt"
}

traceroute_ok() { # traceroute_ok [-I]: hops router LAN, WAN host, far host, each probe answered
  local out hop addr expected=("$ROUTER_LAN" "$WAN_HOST" "$FAR_HOST")
  out="$(in_ns "$NS_LAN" timeout 60 traceroute -n -q 3 -w 2 -m 6 "$@" "$FAR_HOST" 2>&1)" || { echo "$out"; return 1; }
  echo "$out" | sed 's/^/      /'
  [ "$(echo "$out" | tail -n +2 | wc -l)" -eq 3 ] || return 1
  for hop in 1 2 3; do
    addr="${expected[$((hop - 1))]}"
    # "N  ADDR  t ms  t ms  t ms": the hop answered all three probes, from that address
    echo "$out" | awk -v h="$hop" -v a="$addr" '$1 == h && $2 == a && gsub(/ ms/, "") == 3 { ok = 1 } END { exit !ok }' ||
      return 1
  done
}

wan_saw_only_router() { # every packet the router sent to the WAN host came from its WAN address
  local total others leaks
  kill -INT "$tcpdump_pid" 2>/dev/null # flush and stop
  wait "$tcpdump_pid" 2>/dev/null || true
  total=$(tcpdump -n -r "$work/wan.pcap" 2>/dev/null | wc -l)
  others=$(tcpdump -n -r "$work/wan.pcap" "not src host $ROUTER_WAN" 2>/dev/null | wc -l)
  leaks=$(tcpdump -nv -r "$work/wan.pcap" 2>/dev/null | grep -c '192\.168\.7\.' || true)
  echo "      tcpdump on the WAN host: $total IPv4 packets from the router, $others with another source," \
    "$leaks mentioning 192.168.7.x (quoted headers included)"
  [ "$total" -gt 1000 ] && [ "$others" -eq 0 ] && [ "$leaks" -eq 0 ]
}

iperf_server_saw_router() {
  echo "      iperf3 server log: $(grep -m1 'Accepted connection' "$work/iperf3-server.log")"
  grep -q "Accepted connection from $ROUTER_WAN," "$work/iperf3-server.log" &&
    ! grep -q "192\.168\.7\." "$work/iperf3-server.log"
}

unsolicited_fails() { # unsolicited_fails DEST PORT: a TCP connection from the WAN host must fail
  ! in_ns "$NS_WAN" timeout 10 nc -n -z -w 2 "$1" "$2" 2>/dev/null
}

ping_from_wan_fails() {
  ! in_ns "$NS_WAN" ping -n -c 2 -i 0.2 -W 1 "$LAN_HOST" >/dev/null 2>&1
}

table_only_our_hosts() { # every session's remote is one of the namespaces' hosts: no traffic left them
  awk -v w="$WAN_HOST" -v f="$FAR_HOST" '$1 ~ /^(tcp|udp|icmp)$/ { split($4, r, ":"); if (r[1] != w && r[1] != f) bad = 1 }
    END { exit bad }' "$work/table"
}

reverse_drops_counted() {
  local n
  n=$(sed -n 's/.* reverse_direction \([0-9]*\).*/\1/p' "$work/table")
  echo "      router counted ${n:-0} packets dropped as reverse_direction"
  [ "${n:-0}" -ge 3 ]
}

forward_ok() { # the WAN host reaches the LAN host's service through the router's WAN port
  local answer peer
  answer="$(echo 'hello from the WAN host' | in_ns "$NS_WAN" timeout 10 nc -n -N -w 5 "$ROUTER_WAN" "$FORWARD_PORT" || true)"
  wait "$service" 2>/dev/null || true
  peer="$(sed -n 's/^Connection received on \([0-9.]*\) .*/\1/p' "$work/service.err")"
  echo "      WAN host got: ${answer:-nothing}"
  echo "      LAN host got: $(head -n 1 "$work/service.txt") (from ${peer:-?})"
  # a forward translates the destination only: the LAN host sees the WAN host's real address
  [ "$answer" = "hello from the LAN host's service" ] && grep -q '^hello from the WAN host$' "$work/service.txt" &&
    [ "$peer" = "$WAN_HOST" ]
}

dead_tap_ends_router() { # a tap deleted under the router (as with its namespace) ends it, status 1
  local status=0
  ip -n "$NS_LAN" link del "$LAN_TAP"
  wait_for 5 grep -q 'stopped: a tap failed' "$work/router.log" || return 1
  wait "$router_pid" || status=$?
  router_pid=""
  grep -E 'read failed|stopped' "$work/router.log" | sed 's/^/      /'
  [ "$status" -eq 1 ] && grep -q 'its interface is gone' "$work/router.log"
}

main() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  say "packages and build"
  install_packages
  router="${ROUTER:-$(build_router)}"
  echo "router: $router"
  work="$(mktemp -d /tmp/lwip-snat-try-it.XXXXXX)"

  say "network: LAN host $LAN_HOST -> router $ROUTER_LAN | $ROUTER_WAN -> WAN host $WAN_HOST -> far host $FAR_HOST"
  setup_network
  sed -n '1,/^ready$/p' "$work/router.log" | grep -v '^ready$'

  say "ping through the NAT"
  check "ping the router's LAN address $ROUTER_LAN" ping_ok "$ROUTER_LAN"
  check "ping the WAN host $WAN_HOST" ping_ok "$WAN_HOST"
  check "ping the far host $FAR_HOST (two hops past the NAT)" ping_ok "$FAR_HOST"

  say "TCP through the NAT"
  check "iperf3 upload, ${TRANSFER_MB} MB LAN host -> far host" iperf_ok
  check "the iperf3 server saw the router's WAN address $ROUTER_WAN, not $LAN_HOST" iperf_server_saw_router
  check "iperf3 download, ${TRANSFER_MB} MB far host -> LAN host" iperf_ok -R
  check "netcat file transfer, same bytes at the far host" file_ok

  say "UDP through the NAT"
  check "UDP datagram to the far host and its reply" udp_ok

  say "traceroute from the LAN host to the far host (ICMP errors translated back to the LAN host)"
  check "UDP traceroute shows $ROUTER_LAN, $WAN_HOST, $FAR_HOST" traceroute_ok
  check "ICMP traceroute shows $ROUTER_LAN, $WAN_HOST, $FAR_HOST" traceroute_ok -I

  say "unsolicited traffic from the WAN (the WAN host routes 192.168.7.0/24 to the router)"
  # the LAN host's service, reachable only through the forward below
  bg "$NS_LAN" sh -c "echo \"hello from the LAN host's service\" | timeout 60 nc -n -v -l -N $LAN_HOST $SERVICE_PORT \
    >'$work/service.txt' 2>'$work/service.err'"
  service=$!
  wait_for 5 listening "$NS_LAN" t "$SERVICE_PORT"
  check "TCP from the WAN host to $LAN_HOST:$SERVICE_PORT fails" unsolicited_fails "$LAN_HOST" "$SERVICE_PORT"
  check "TCP from the WAN host to $ROUTER_WAN:$SERVICE_PORT (not forwarded) fails" \
    unsolicited_fails "$ROUTER_WAN" "$SERVICE_PORT"
  check "ping from the WAN host to $LAN_HOST fails" ping_from_wan_fails

  say "port forward $ROUTER_WAN:$FORWARD_PORT -> $LAN_HOST:$SERVICE_PORT (--forward tcp:$FORWARD_PORT:$LAN_HOST:$SERVICE_PORT)"
  check "the WAN host reaches the LAN host's service through $ROUTER_WAN:$FORWARD_PORT" forward_ok

  say "NAT table (kill -USR1 <router>)"
  if dump_table; then pass "the router printed its NAT table"; else fail "the router printed its NAT table"; fi
  check "it lists the TCP session $LAN_HOST -> $FAR_HOST:$IPERF_PORT as $ROUTER_WAN" table_has tcp "$FAR_HOST:$IPERF_PORT"
  check "it lists the UDP session $LAN_HOST -> $FAR_HOST:$UDP_PORT as $ROUTER_WAN" table_has udp "$FAR_HOST:$UDP_PORT"
  check "it lists ICMP sessions $LAN_HOST -> $FAR_HOST as $ROUTER_WAN" table_has icmp "$FAR_HOST"
  check "every session's remote is $WAN_HOST or $FAR_HOST" table_only_our_hosts
  check "the unsolicited packets were dropped and counted" reverse_drops_counted

  say "what the WAN side saw"
  check "every packet from the router to the WAN host has source $ROUTER_WAN" wan_saw_only_router

  say "a failed tap (the LAN tap deleted under the router)"
  check "the router reports it and exits with status 1" dead_tap_ends_router

  say "result"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

main "$@"
