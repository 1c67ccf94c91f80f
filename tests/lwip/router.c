/*
 * A router made of real lwIP (Debian's liblwip, 2.1.3) and lwip-snat, driven line by line
 * from stdin by tests/lwip_router.rs.
 *
 * Two simulated netifs, "lan" (192.168.1.1/24) and "wan" (10.0.0.1/24, default route via
 * 10.0.0.254), carry bare IPv4 packets: their output functions print every packet lwIP sends
 * ("out <netif> <next hop> <hex>"), and "in <netif> <hex>" feeds one into the netif's input.
 * Debian's lwIP has no hook compiled in, so the input function calls the shim's hook first and
 * ip4_input() only if the hook passed the packet: the contract of LWIP_HOOK_IP4_INPUT.
 *
 * lwIP runs single-threaded here (lwip_init(), no tcpip thread): each command runs to the end,
 * every frame it causes is printed before its "ok", and nothing happens between commands.
 *
 * Commands (one per line; answered by event lines, then "ok" or "err <code>"):
 *   start [udp_ms]                    lwip_snat_start() (short UDP timeout if given)
 *   startcfg <port lo> <port hi> <host quota>   lwip_snat_start() with that port range and quota
 *   rule <kind> <src idx> <out idx>   lwip_snat_rule_add()
 *   unrule <kind> <src idx> <out idx> lwip_snat_rule_remove()
 *   portmap <proto> <netif idx> <ext port> <inside ip> <inside port>
 *   in <lan|wan> <hex>                inject a packet (one pbuf)
 *   inchain <lan|wan> <hex>           inject it as a chain of two pbufs
 *   inpool <lan|wan> <size> <hex>     inject it as a chain of <size>-byte pbufs (a PBUF_POOL chain)
 *   udp_echo <port>                   router's own UDP endpoint; prints "udp_rx", echoes back
 *   tcp_listen <port>                 router's own TCP listener; prints "tcp_accept", "tcp_rx"
 *   bind <tcp|udp> <ip> <port> [lan|wan]   router's own pcb bound to <ip>:<port> (TCP: bound, not
 *                                     listening), to that netif alone when one is named
 *   setaddr <lan|wan> <ip>            netif_set_ipaddr()
 *   down <lan|wan>                    netif_set_down()
 *   timers <ms>                       advance the clock by <ms>, run lwIP's timers (incl. the NAT's)
 *   now                               prints "now <sys_now()>"
 *   dump                              lwip_snat_foreach(): "session ..." lines (proto, inside, ports,
 *                                     remote, state, admitted|outbound, evictable|kept, idle, timeout)
 *   stats                             "stat <name> <value>" lines (non-zero counters); a build
 *                                     without `dump` has no drop reason names: "stat drop_<number>
 *                                     <value>", which the Rust driver names (tests/lwip/driver.rs)
 *   ipstats                           (lwIP 2.2 build only) lwIP's IP counters as "ipstat <name> <value>"
 *                                     lines, and "ipstat ip4_forward <n>": packets lwIP's own
 *                                     ip4_forward() forwarded, and "ipstat canforward <n>": calls
 *                                     of the firmware's LWIP_HOOK_IP4_CANFORWARD (tests/lwip22/port.c)
 *   index <lan|wan>                   prints "index <n>"
 *   setcfg <key>=<value> ...          lwip_snat_get_config(), change up to 5 fields, lwip_snat_set_config()
 *   unportmap <proto> <netif idx> <ext port> <inside ip> <inside port>   lwip_snat_portmap_remove()
 *   flush                             lwip_snat_flush()
 *   mtu <lan|wan> <bytes>             set the netif's MTU
 *   nodefault                         netif_set_default(NULL): no default route
 *   up <lan|wan>                      netif_set_up()
 *   udp_send <port> <ip> <rport> <hex>   router's own UDP socket bound to <port> (the udp_echo one,
 *                                     else a new one that prints "udp_rx" and does not echo) sends
 *   ping <ip> <id> <seq>              router's own echo request (raw pcb; LWIP_RAW builds only);
 *                                     replies print "ping_reply <src> <id> <seq>"
 *   linkdown <lan|wan>                netif_set_link_down()
 *   linkup <lan|wan>                  netif_set_link_up()
 *   setmask <lan|wan|dmz> <mask>      netif_set_netmask()
 *   default <lan|wan|dmz>             netif_set_default()
 *   addnetif <ip> <mask>              netif_add() of a third netif "dmz" (link up), then netif_set_up()
 *   removenetif                       netif_remove() of "dmz"
 *   failreinject <0|1>                (Debian's lwIP only) the netifs' input function refuses a
 *                                     packet fed to it while it inputs another one: the
 *                                     datagram the shim re-injects after reassembly
 *
 * A command of a feature the library was built without (portmap, unportmap: `portmap`; dump:
 * `dump`) answers "err -110" (ERR_NO_FEATURE): the header generated for the test run's
 * features says which are in (LWIP_SNAT_FEATURE_*).
 *
 * Built twice: against Debian's liblwip 2.1.3 (no hook compiled in; tests/lwip/build.rs) and
 * against lwIP 2.2 compiled from source with LWIP_HOOK_IP4_INPUT defined to the shim's hook
 * (tests/lwip22/), where ip4_input() itself calls the hook.
 */
#include "lwip/opt.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include "lwip_snat.h"
#include "lwip_snat_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The answer to a command of a feature the library was built without. */
#define ERR_NO_FEATURE (-110)

/* dmz exists only between "addnetif" and "removenetif" */
static struct netif lan, wan, dmz;

/* The input hook: the shim's, or a compat API's name for it, declared by the header
 * ROUTER_INCLUDE names (tests/lwip_compat.rs). */
#ifdef ROUTER_INCLUDE
#include ROUTER_INCLUDE
#endif
#ifndef ROUTER_INPUT_HOOK
#define ROUTER_INPUT_HOOK lwip_snat_ip4_input_hook
#endif

#ifdef ROUTER_EXTRA_COMMANDS
/* Commands of another file of the program (tests/lwip/compat_*.c): 0, an error number, or -100
 * for a command it does not know either. */
int router_extra_command(const char *cmd, const char *a, const char *b, const char *c, const char *d, const char *e);
#endif

/* The clock: this sys_now() interposes on liblwip's, so lwIP's timers, the shim and the NAT
 * all see time move only when a test says "timers". */
static u32_t fake_now = 1000;

u32_t
sys_now(void)
{
  return fake_now;
}

static struct netif *
netif_named(const char *name)
{
  if (strcmp(name, "lan") == 0) {
    return &lan;
  }
  if (strcmp(name, "wan") == 0) {
    return &wan;
  }
  if (strcmp(name, "dmz") == 0) {
    return &dmz;
  }
  return NULL;
}

static void
print_hex(const struct pbuf *p)
{
  static u8_t buf[0x10000];
  u16_t len = pbuf_copy_partial(p, buf, p->tot_len, 0);
  u16_t i;
  for (i = 0; i < len; i++) {
    printf("%02x", buf[i]);
  }
}

static err_t
capture_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop)
{
  printf("out %s %s ", netif == &lan ? "lan" : (netif == &dmz ? "dmz" : "wan"), ip4addr_ntoa(next_hop));
  print_hex(p);
  printf("\n");
  return ERR_OK;
}

#ifdef LWIP_HOOK_IP4_INPUT
/* lwIP compiled with the hook: ip4_input() calls it. */
static err_t
hooked_input(struct pbuf *p, struct netif *inp)
{
  return ip4_input(p, inp);
}
#else
/* "failreinject 1": hooked_input() refuses (ERR_MEM, p untouched) a packet it gets while it
 * inputs another, as a netif input function that is out of queue space does; netif_input_fn's
 * contract then has the caller free p. LWIP_SNAT_REINJECT is netif->input in this build
 * (tests/lwip/build.rs), so that is the datagram the shim re-injects after reassembly. */
static int fail_reinject;
static int input_depth;

/* What ip4_input() does with LWIP_HOOK_IP4_INPUT compiled in: version check, hook, the rest. */
static err_t
hooked_input(struct pbuf *p, struct netif *inp)
{
  err_t err = ERR_OK;
  if (fail_reinject && (input_depth > 0)) {
    return ERR_MEM;
  }
  input_depth++;
  if (!((p->len >= 1) && ((((const u8_t *)p->payload)[0] >> 4) == 4) && ROUTER_INPUT_HOOK(p, inp))) {
    err = ip4_input(p, inp);
  }
  input_depth--;
  return err;
}
#endif

static err_t
sim_netif_init(struct netif *netif)
{
  netif->name[0] = (netif == &lan) ? 'l' : ((netif == &dmz) ? 'd' : 'w');
  netif->name[1] = 'n';
  netif->output = capture_output;
  netif->mtu = 1500;
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

static int
parse_hex(const char *hex, u8_t *out, size_t cap, size_t *len)
{
  size_t n = strlen(hex), i;
  if ((n % 2) != 0 || n / 2 > cap) {
    return -1;
  }
  for (i = 0; i < n / 2; i++) {
    unsigned int byte;
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
      return -1;
    }
    out[i] = (u8_t)byte;
  }
  *len = n / 2;
  return 0;
}

/* Feeds @p p to the netif's input, freeing it when not taken. */
static void
feed(struct netif *netif, struct pbuf *p)
{
  if (netif->input(p, netif) != ERR_OK) {
    /* netif_input_fn's contract: not taken, so the caller frees it */
    pbuf_free(p);
  }
}

/* Injects the packet as a chain of @p size-byte pbufs, as a driver filling PBUF_POOL buffers. */
static int
inject_pool(struct netif *netif, size_t size, const char *hex)
{
  static u8_t buf[0x10000];
  size_t len, at;
  struct pbuf *p = NULL;
  if (netif == NULL || size == 0 || parse_hex(hex, buf, sizeof(buf), &len) != 0 || len == 0) {
    return -1;
  }
  for (at = 0; at < len; at += size) {
    size_t n = LWIP_MIN(size, len - at);
    struct pbuf *q = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
    memcpy(q->payload, buf + at, n);
    if (p == NULL) {
      p = q;
    } else {
      pbuf_cat(p, q);
    }
  }
  feed(netif, p);
  return 0;
}

static int
inject(struct netif *netif, const char *hex, int chained)
{
  static u8_t buf[0x10000];
  size_t len;
  struct pbuf *p;
  if (netif == NULL || parse_hex(hex, buf, sizeof(buf), &len) != 0 || len == 0) {
    return -1;
  }
  if (chained && len > 1) {
    /* the first pbuf ends inside the transport header (lwIP itself needs the whole IP
     * header in the first pbuf) */
    size_t first = len < 30 ? len / 2 : 30;
    struct pbuf *tail;
    p = pbuf_alloc(PBUF_RAW, (u16_t)first, PBUF_RAM);
    tail = pbuf_alloc(PBUF_RAW, (u16_t)(len - first), PBUF_RAM);
    memcpy(p->payload, buf, first);
    memcpy(tail->payload, buf + first, len - first);
    pbuf_cat(p, tail);
  } else {
    p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
    memcpy(p->payload, buf, len);
  }
  feed(netif, p);
  return 0;
}

static void
udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  LWIP_UNUSED_ARG(arg);
  printf("udp_rx %s %u ", ipaddr_ntoa(addr), port);
  print_hex(p);
  printf("\n");
  udp_sendto(pcb, p, addr, port);
  pbuf_free(p);
}

/* The router's own UDP sockets (udp_echo, udp_send), to send from by port. */
static struct udp_pcb *udp_socks[16];

static void
udp_print_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  printf("udp_rx %s %u ", ipaddr_ntoa(addr), port);
  print_hex(p);
  printf("\n");
  pbuf_free(p);
}

/* A new router socket bound to any:<port>, remembered for udp_send. */
static struct udp_pcb *
udp_sock(u16_t port, udp_recv_fn recv)
{
  size_t i;
  struct udp_pcb *pcb;
  for (i = 0; i < LWIP_ARRAYSIZE(udp_socks); i++) {
    if ((udp_socks[i] != NULL) && (udp_socks[i]->local_port == port)) {
      return udp_socks[i];
    }
  }
  for (i = 0; (i < LWIP_ARRAYSIZE(udp_socks)) && (udp_socks[i] != NULL); i++) {
  }
  if (i == LWIP_ARRAYSIZE(udp_socks)) {
    return NULL;
  }
  pcb = udp_new();
  udp_bind(pcb, IP_ADDR_ANY, port);
  udp_recv(pcb, recv, NULL);
  udp_socks[i] = pcb;
  return pcb;
}

#if LWIP_RAW
/* The router's own pinger: echo replies to the router are printed and eaten. */
static struct raw_pcb *ping_pcb;

static u8_t
ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
  u8_t bytes[IP_HLEN_MAX + 8];
  u16_t hlen, len = pbuf_copy_partial(p, bytes, sizeof(bytes), 0);
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  hlen = (u16_t)((bytes[0] & 0x0F) * 4);
  if ((len < hlen + 8) || (bytes[hlen] != ICMP_ER)) {
    return 0;
  }
  printf("ping_reply %s %u %u\n", ipaddr_ntoa(addr), (bytes[hlen + 4] << 8) | bytes[hlen + 5],
         (bytes[hlen + 6] << 8) | bytes[hlen + 7]);
  pbuf_free(p);
  return 1;
}

static int
ping(const char *ip, u16_t id, u16_t seq)
{
  static const char data[] = "router-ping";
  struct icmp_echo_hdr *h;
  struct pbuf *q;
  ip_addr_t dst;
  err_t err;
  if (!ipaddr_aton(ip, &dst)) {
    return -101;
  }
  if (ping_pcb == NULL) {
    ping_pcb = raw_new(IP_PROTO_ICMP);
    raw_recv(ping_pcb, ping_recv, NULL);
  }
  q = pbuf_alloc(PBUF_IP, (u16_t)(sizeof(*h) + sizeof(data)), PBUF_RAM);
  h = (struct icmp_echo_hdr *)q->payload;
  ICMPH_TYPE_SET(h, ICMP_ECHO);
  ICMPH_CODE_SET(h, 0);
  h->id = lwip_htons(id);
  h->seqno = lwip_htons(seq);
  memcpy((u8_t *)q->payload + sizeof(*h), data, sizeof(data));
  h->chksum = 0;
  h->chksum = inet_chksum(h, q->len);
  err = raw_sendto(ping_pcb, q, &dst);
  pbuf_free(q);
  return err == ERR_OK ? 0 : -105;
}
#endif /* LWIP_RAW */

static err_t
tcp_rx(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    printf("tcp_closed\n");
    tcp_close(pcb);
    return ERR_OK;
  }
  printf("tcp_rx ");
  print_hex(p);
  printf("\n");
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t
on_tcp_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  printf("tcp_accept %s %u\n", ipaddr_ntoa(&pcb->remote_ip), pcb->remote_port);
  tcp_recv(pcb, tcp_rx);
  return ERR_OK;
}

#if defined(LWIP_SNAT_FEATURE_DUMP)
static void
print_session(const struct lwip_snat_session *s, void *arg)
{
  ip4_addr_t inside, remote;
  char inside_text[16];
  LWIP_UNUSED_ARG(arg);
  ip4_addr_set_u32(&inside, lwip_htonl(s->inside_addr));
  ip4_addr_set_u32(&remote, lwip_htonl(s->remote_addr));
  strcpy(inside_text, ip4addr_ntoa(&inside));
  printf("session %u %s %u %u %u %s %u %s %s %s %lu %lu\n", s->proto, inside_text, s->inside_port, s->ext_netif_idx,
         s->ext_port, ip4addr_ntoa(&remote), s->remote_port,
         s->proto == LWIP_SNAT_PROTO_TCP   ? lwip_snat_tcp_state_name(s->state)
         : s->proto == LWIP_SNAT_PROTO_UDP ? lwip_snat_udp_state_name(s->state)
                                           : "-",
         s->admitted ? "admitted" : "outbound", s->evictable ? "evictable" : "kept", (unsigned long)s->idle_ms,
         (unsigned long)s->timeout_ms);
}
#endif

static void
print_stats(void)
{
  struct lwip_snat_stats st;
  int i;
  if (lwip_snat_stats(&st) != LWIP_SNAT_OK) {
    return;
  }
  printf("stat translated_out %lu\nstat translated_in %lu\nstat passed %lu\nstat icmp_requested %lu\n",
         (unsigned long)st.translated_out, (unsigned long)st.translated_in, (unsigned long)st.passed,
         (unsigned long)st.icmp_requested);
  printf("stat icmp_errors_translated %lu\n", (unsigned long)st.icmp_errors_translated);
  printf("stat reassembled %lu\nstat fragments_held %lu\n", (unsigned long)st.reassembled,
         (unsigned long)st.fragments_held);
  printf("stat tcp_in_use %u\nstat udp_in_use %u\nstat icmp_in_use %u\n", st.tcp.in_use, st.udp.in_use,
         st.icmp.in_use);
  printf("stat udp_capacity %u\n", st.udp.capacity);
  printf("stat mss_clamped %lu\n", (unsigned long)st.mss_clamped);
  printf("stat tcp_capacity %u\nstat icmp_capacity %u\nstat tcp_high_water %u\n", st.tcp.capacity,
         st.icmp.capacity, st.tcp.high_water);
  printf("stat hairpinned %lu\nstat reass_expired %lu\nstat reass_in_flight %u\nstat reass_bytes_in_use %lu\n",
         (unsigned long)st.hairpinned, (unsigned long)st.reass_expired, st.reass_in_flight,
         (unsigned long)st.reass_bytes_in_use);
  printf("stat hosts_untracked %lu\n", (unsigned long)st.hosts_untracked);
  printf("stat hook_copies %lu\n", (unsigned long)lwip_snat_hook_copies());
  printf("stat reass_evicted %lu\nstat reass_released %lu\n", (unsigned long)st.reass_evicted,
         (unsigned long)st.reass_released);
  printf("stat evicted_closed %lu\nstat evicted_transitory %lu\nstat evicted_idle %lu\nstat resets_requested %lu\n",
         (unsigned long)st.evicted_closed, (unsigned long)st.evicted_transitory, (unsigned long)st.evicted_idle,
         (unsigned long)st.resets_requested);
  for (i = 0; i < LWIP_SNAT_DROP_REASONS; i++) {
    if (st.dropped[i] != 0) {
#if defined(LWIP_SNAT_FEATURE_DUMP)
      printf("stat drop_%s %lu\n", lwip_snat_drop_reason_name((uint8_t)i), (unsigned long)st.dropped[i]);
#else
      printf("stat drop_%d %lu\n", i, (unsigned long)st.dropped[i]);
#endif
    }
  }
}

/* One "key=value" of setcfg into cfg; returns 0 or -104 for an unknown key. */
static int
set_config_field(struct lwip_snat_config *cfg, const char *pair)
{
  const char *eq = strchr(pair, '=');
  unsigned long v;
  size_t n;
  if (eq == NULL) {
    return -104;
  }
  n = (size_t)(eq - pair);
  v = strtoul(eq + 1, NULL, 0);
#define FIELD(name, type) \
  if (n == strlen(#name) && strncmp(pair, #name, n) == 0) { \
    cfg->name = (type)v; \
    return 0; \
  }
  FIELD(tcp_established_ms, uint32_t)
  FIELD(tcp_transitory_ms, uint32_t)
  FIELD(udp_ms, uint32_t)
  FIELD(icmp_ms, uint32_t)
  FIELD(host_quota, uint16_t)
  FIELD(tcp_filtering, uint8_t)
  FIELD(udp_filtering, uint8_t)
  FIELD(reject_when_full, uint8_t)
  FIELD(allow_short_timeouts, uint8_t)
  FIELD(mss_clamp, uint8_t)
  FIELD(mapping_sessions, uint16_t)
  FIELD(udp_dns_ms, uint32_t)
  FIELD(udp_ntp_ms, uint32_t)
  FIELD(evict_idle_ms, uint32_t)
  FIELD(full_policy, uint8_t)
#undef FIELD
  return -104;
}

/* Runs one command; returns 0 or an error number for "err". */
static int
run(char *line)
{
  char *cmd = strtok(line, " \n");
  char *a = strtok(NULL, " \n");
  char *b = strtok(NULL, " \n");
  char *c = strtok(NULL, " \n");
  char *d = strtok(NULL, " \n");
  char *e = strtok(NULL, " \n");
  if (cmd == NULL) {
    return -100;
  }
  if (strcmp(cmd, "start") == 0) {
    struct lwip_snat_config cfg;
    lwip_snat_config_default(&cfg);
    if (a != NULL) {
      cfg.udp_ms = (uint32_t)strtoul(a, NULL, 0);
      cfg.allow_short_timeouts = 1;
    }
    return lwip_snat_start(&cfg);
  }
  if (strcmp(cmd, "startcfg") == 0 && c != NULL) {
    struct lwip_snat_config cfg;
    lwip_snat_config_default(&cfg);
    cfg.port_range_start = (uint16_t)atoi(a);
    cfg.port_range_end = (uint16_t)atoi(b);
    cfg.host_quota = (uint16_t)atoi(c);
    return lwip_snat_start(&cfg);
  }
  if ((strcmp(cmd, "rule") == 0 || strcmp(cmd, "unrule") == 0) && c != NULL) {
    struct lwip_snat_rule r;
    r.kind = (uint8_t)atoi(a);
    r.src_netif_idx = (uint8_t)atoi(b);
    r.out_netif_idx = (uint8_t)atoi(c);
    return strcmp(cmd, "rule") == 0 ? lwip_snat_rule_add(&r) : lwip_snat_rule_remove(&r);
  }
  if (strcmp(cmd, "portmap") == 0 && e != NULL) {
#if defined(LWIP_SNAT_FEATURE_PORTMAP)
    struct lwip_snat_portmap m;
    ip4_addr_t inside;
    if (!ip4addr_aton(d, &inside)) {
      return -101;
    }
    m.proto = (uint8_t)atoi(a);
    m.out_netif_idx = (uint8_t)atoi(b);
    m.ext_port = (uint16_t)atoi(c);
    m.inside_addr = lwip_ntohl(ip4_addr_get_u32(&inside));
    m.inside_port = (uint16_t)atoi(e);
    return lwip_snat_portmap_add(&m);
#else
    return ERR_NO_FEATURE;
#endif
  }
  if ((strcmp(cmd, "in") == 0 || strcmp(cmd, "inchain") == 0) && b != NULL) {
    return inject(netif_named(a), b, strcmp(cmd, "inchain") == 0) == 0 ? 0 : -102;
  }
  if (strcmp(cmd, "inpool") == 0 && c != NULL) {
    return inject_pool(netif_named(a), (size_t)atoi(b), c) == 0 ? 0 : -102;
  }
  if (strcmp(cmd, "udp_echo") == 0 && a != NULL) {
    return udp_sock((u16_t)atoi(a), udp_echo_recv) != NULL ? 0 : -105;
  }
  if (strcmp(cmd, "udp_send") == 0 && d != NULL) {
    static u8_t buf[1024];
    struct udp_pcb *pcb = udp_sock((u16_t)atoi(a), udp_print_recv);
    struct pbuf *q;
    ip_addr_t dst;
    size_t len;
    err_t err;
    if ((pcb == NULL) || !ipaddr_aton(b, &dst) || (parse_hex(d, buf, sizeof(buf), &len) != 0)) {
      return -101;
    }
    q = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    memcpy(q->payload, buf, len);
    err = udp_sendto(pcb, q, &dst, (u16_t)atoi(c));
    pbuf_free(q);
    return err == ERR_OK ? 0 : -105;
  }
#if LWIP_RAW
  if (strcmp(cmd, "ping") == 0 && c != NULL) {
    return ping(a, (u16_t)strtoul(b, NULL, 0), (u16_t)strtoul(c, NULL, 0));
  }
#endif
  if (strcmp(cmd, "bind") == 0 && c != NULL) {
    ip_addr_t addr;
    struct netif *only = (d != NULL) ? netif_named(d) : NULL;
    if (!ipaddr_aton(b, &addr)) {
      return -103;
    }
    if (strcmp(a, "tcp") == 0) {
      struct tcp_pcb *pcb = tcp_new();
      if ((pcb == NULL) || (tcp_bind(pcb, &addr, (u16_t)atoi(c)) != ERR_OK)) {
        return -105;
      }
      tcp_bind_netif(pcb, only);
    } else {
      struct udp_pcb *pcb = udp_new();
      if ((pcb == NULL) || (udp_bind(pcb, &addr, (u16_t)atoi(c)) != ERR_OK)) {
        return -105;
      }
      udp_bind_netif(pcb, only);
    }
    return 0;
  }
  if (strcmp(cmd, "tcp_listen") == 0 && a != NULL) {
    struct tcp_pcb *pcb = tcp_new();
    tcp_bind(pcb, IP_ADDR_ANY, (u16_t)atoi(a));
    pcb = tcp_listen(pcb);
    tcp_accept(pcb, on_tcp_accept);
    return 0;
  }
  if ((strcmp(cmd, "setaddr") == 0 || strcmp(cmd, "setmask") == 0) && b != NULL) {
    ip4_addr_t addr;
    if (netif_named(a) == NULL || !ip4addr_aton(b, &addr)) {
      return -103;
    }
    if (strcmp(cmd, "setaddr") == 0) {
      netif_set_ipaddr(netif_named(a), &addr);
    } else {
      netif_set_netmask(netif_named(a), &addr);
    }
    return 0;
  }
  if (strcmp(cmd, "down") == 0 && netif_named(a) != NULL) {
    netif_set_down(netif_named(a));
    return 0;
  }
  if (strcmp(cmd, "timers") == 0 && a != NULL) {
    /* step by at most a second so cyclic timers run as often as they would */
    u32_t left = (u32_t)strtoul(a, NULL, 0);
    while (left > 0) {
      u32_t step = left > 1000 ? 1000 : left;
      fake_now += step;
      left -= step;
      sys_check_timeouts();
    }
    return 0;
  }
  if (strcmp(cmd, "now") == 0) {
    printf("now %lu\n", (unsigned long)sys_now());
    return 0;
  }
  if (strcmp(cmd, "dump") == 0) {
#if defined(LWIP_SNAT_FEATURE_DUMP)
    return lwip_snat_foreach(print_session, NULL, sys_now());
#else
    return ERR_NO_FEATURE;
#endif
  }
  if (strcmp(cmd, "stats") == 0) {
    print_stats();
    return 0;
  }
  if (strcmp(cmd, "shimpassed") == 0) {
    /* the part of `passed` the shim's own quiet tests counted (LWIP_SNAT_QUIET_PATH); none
     * without the library's fast-path feature, which keeps the facts they read */
#if defined(LWIP_SNAT_FEATURE_FAST_PATH)
    printf("shimpassed %lu\n", (unsigned long)lwip_snat_netif_concerns()->passed);
#else
    printf("shimpassed 0\n");
#endif
    return 0;
  }
#if defined(LWIP22_PP_ONLY) && LWIP_STATS && IP_STATS
  if (strcmp(cmd, "ipstats") == 0) {
    extern unsigned long lwip22_ip4_forward_reached, lwip22_canforward_calls;
    const struct stats_proto *ip = &lwip_stats.ip;
    printf("ipstat recv %u\nipstat fw %u\nipstat xmit %u\nipstat drop %u\nipstat chkerr %u\nipstat lenerr %u\n"
           "ipstat err %u\nipstat rterr %u\nipstat proterr %u\nipstat opterr %u\nipstat ip4_forward %lu\n"
           "ipstat canforward %lu\n",
           (unsigned)ip->recv, (unsigned)ip->fw, (unsigned)ip->xmit, (unsigned)ip->drop, (unsigned)ip->chkerr,
           (unsigned)ip->lenerr, (unsigned)ip->err, (unsigned)ip->rterr, (unsigned)ip->proterr, (unsigned)ip->opterr,
           lwip22_ip4_forward_reached, lwip22_canforward_calls);
    return 0;
  }
#endif
  if (strcmp(cmd, "index") == 0 && netif_named(a) != NULL) {
    printf("index %u\n", netif_get_index(netif_named(a)));
    return 0;
  }
  if (strcmp(cmd, "setcfg") == 0) {
    struct lwip_snat_config cfg;
    const char *pairs[5] = { a, b, c, d, e };
    int i, err = lwip_snat_get_config(&cfg);
    for (i = 0; (err == 0) && (i < 5) && (pairs[i] != NULL); i++) {
      err = set_config_field(&cfg, pairs[i]);
    }
    return err != 0 ? err : lwip_snat_set_config(&cfg);
  }
  if (strcmp(cmd, "unportmap") == 0 && e != NULL) {
#if defined(LWIP_SNAT_FEATURE_PORTMAP)
    struct lwip_snat_portmap m;
    ip4_addr_t inside;
    if (!ip4addr_aton(d, &inside)) {
      return -101;
    }
    m.proto = (uint8_t)atoi(a);
    m.out_netif_idx = (uint8_t)atoi(b);
    m.ext_port = (uint16_t)atoi(c);
    m.inside_addr = lwip_ntohl(ip4_addr_get_u32(&inside));
    m.inside_port = (uint16_t)atoi(e);
    return lwip_snat_portmap_remove(&m);
#else
    return ERR_NO_FEATURE;
#endif
  }
  if (strcmp(cmd, "flush") == 0) {
    return lwip_snat_flush();
  }
  if (strcmp(cmd, "mtu") == 0 && netif_named(a) != NULL && b != NULL) {
    netif_named(a)->mtu = (u16_t)atoi(b);
    return 0;
  }
  if (strcmp(cmd, "nodefault") == 0) {
    netif_set_default(NULL);
    return 0;
  }
  if (strcmp(cmd, "up") == 0 && netif_named(a) != NULL) {
    netif_set_up(netif_named(a));
    return 0;
  }
  if (strcmp(cmd, "linkdown") == 0 && netif_named(a) != NULL) {
    netif_set_link_down(netif_named(a));
    return 0;
  }
  if (strcmp(cmd, "default") == 0 && netif_named(a) != NULL) {
    netif_set_default(netif_named(a));
    return 0;
  }
  if (strcmp(cmd, "addnetif") == 0 && b != NULL) {
    ip4_addr_t addr, mask, gw;
    if (!ip4addr_aton(a, &addr) || !ip4addr_aton(b, &mask)) {
      return -103;
    }
    ip4_addr_set_zero(&gw);
    if (netif_add(&dmz, &addr, &mask, &gw, NULL, sim_netif_init, hooked_input) == NULL) {
      return -105;
    }
    netif_set_up(&dmz);
    return 0;
  }
  if (strcmp(cmd, "removenetif") == 0) {
    netif_remove(&dmz);
    return 0;
  }
  if (strcmp(cmd, "linkup") == 0 && netif_named(a) != NULL) {
    netif_set_link_up(netif_named(a));
    return 0;
  }
#ifndef LWIP_HOOK_IP4_INPUT
  if (strcmp(cmd, "failreinject") == 0 && a != NULL) {
    fail_reinject = atoi(a);
    return 0;
  }
#endif
#ifdef ROUTER_EXTRA_COMMANDS
  return router_extra_command(cmd, a, b, c, d, e);
#else
  return -100;
#endif
}

int
main(void)
{
  static char line[0x20100];
  ip4_addr_t addr, mask, gw;

  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  lwip_init();

  IP4_ADDR(&addr, 192, 168, 1, 1);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  IP4_ADDR(&gw, 0, 0, 0, 0);
  netif_add(&lan, &addr, &mask, &gw, NULL, sim_netif_init, hooked_input);
  IP4_ADDR(&addr, 10, 0, 0, 1);
  IP4_ADDR(&gw, 10, 0, 0, 254);
  netif_add(&wan, &addr, &mask, &gw, NULL, sim_netif_init, hooked_input);
  netif_set_default(&wan);
  netif_set_up(&lan);
  netif_set_up(&wan);

  while (fgets(line, sizeof(line), stdin) != NULL) {
    int err = run(line);
    if (err == 0) {
      printf("ok\n");
    } else {
      printf("err %d\n", err);
    }
    fflush(stdout);
  }
  return 0;
}
