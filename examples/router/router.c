/**
 * @file
 * lwip-snat-router: a NAT router a person can run. Real lwIP (Debian's liblwip 2.1.3) with two
 * tap interfaces, LAN and WAN, forwards IPv4 between them; lwip-snat, called through the C shim's
 * hook, translates everything forwarded from the LAN (a Source(LAN) rule) to the WAN address.
 *
 *   lwip-snat-router [--lan-tap NAME] [--wan-tap NAME] [--lan ADDR/LEN] [--wan ADDR/LEN]
 *                    [--gateway ADDR] [--forward PROTO:EXT_PORT:IP:PORT]... [--dump-every SECONDS] [--debug]
 *
 * SIGUSR1 prints the NAT table and counters; SIGINT/SIGTERM print them once more and exit. A tap
 * that fails (its interface deleted) is reported and ends the router with status 1.
 * examples/router/try-it.sh wires the taps to network namespaces and runs real traffic through.
 */
#include "lwip_snat_netif.h"
#include "table.h"
#include "tap.h"

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "lwip_snat.h"
#include "lwip_snat_hook.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_FORWARDS LWIP_SNAT_MAX_PORTMAPS
/** Longest interface name + 1 (Linux IFNAMSIZ). */
#define IFNAMSIZ_MAX 16
/** Longest --dump-every period: one day. */
#define DUMP_EVERY_MAX_S 86400

/** One side of the router: its tap and its address. */
struct side {
  struct tap tap;
  ip4_addr_t addr;
  ip4_addr_t mask;
  u8_t prefix;
  struct netif netif;
};

struct options {
  struct side lan;
  struct side wan;
  ip4_addr_t gateway;
  struct lwip_snat_portmap forward[MAX_FORWARDS];
  const char *forward_text[MAX_FORWARDS];
  int forwards;
  unsigned dump_every_s;
};

/** --debug: print lwip-snat's LWIP_SNAT_DEBUG log (drops, mappings, ICMP errors sent) */
static volatile int debug_on;

/** LWIP_PLATFORM_DIAG of the shim (debug.h) */
void router_debug_log(const char *fmt, ...);

void
router_debug_log(const char *fmt, ...)
{
  va_list args;
  if (!debug_on) {
    return;
  }
  va_start(args, fmt);
  vprintf(fmt, args);
  va_end(args);
}

static void
usage(FILE *out)
{
  fprintf(out,
          "usage: lwip-snat-router [options]\n"
          "  --lan-tap NAME       tap interface of the LAN side (default snat-lan)\n"
          "  --wan-tap NAME       tap interface of the WAN side (default snat-wan)\n"
          "  --lan ADDR/LEN       the router's LAN address (default 192.168.7.1/24)\n"
          "  --wan ADDR/LEN       the router's WAN address, the NAT's external address (default 10.77.0.1/24)\n"
          "  --gateway ADDR       next hop of the default route, on the WAN (default 10.77.0.2)\n"
          "  --forward PROTO:EXT_PORT:IP:PORT\n"
          "                       forward tcp or udp port EXT_PORT of the WAN address to IP:PORT on the LAN\n"
          "                       (repeatable, up to %d)\n"
          "  --dump-every SECONDS print the NAT table every SECONDS, 1 to %d (default 0: only on SIGUSR1 and at exit)\n"
          "  --debug              log each drop (reason, addresses, ports), mapping created or expired, and\n"
          "                       ICMP error sent (lwip-snat's LWIP_SNAT_DEBUG)\n"
          "LAN and WAN must be different subnets, the gateway another host of the WAN subnet, and each\n"
          "forward's IP a host of the LAN subnet.\n"
          "The taps are created if they do not exist; configure their other end (the hosts' side) yourself.\n"
          "It prints \"ready\" once the taps exist. SIGUSR1: print the NAT table and counters.\n"
          "SIGINT/SIGTERM (Ctrl-C): print them and exit. A tap that fails ends the router (status 1).\n",
          MAX_FORWARDS, DUMP_EVERY_MAX_S);
}

/** A whole decimal number in [min, max], nothing else ("abc", "", "5s", "-1" are refused). */
static int
parse_number(const char *text, unsigned long min, unsigned long max, unsigned long *value)
{
  char *end;
  unsigned long v;

  if ((text[0] < '0') || (text[0] > '9')) {
    return -1;
  }
  errno = 0;
  v = strtoul(text, &end, 10);
  if ((*end != '\0') || (errno != 0) || (v < min) || (v > max)) {
    return -1;
  }
  *value = v;
  return 0;
}

static int
parse_addr_prefix(const char *text, struct side *side)
{
  char buf[32];
  char *slash;
  unsigned long len;

  if (strlen(text) >= sizeof(buf)) {
    return -1;
  }
  strcpy(buf, text);
  slash = strchr(buf, '/');
  if (slash == NULL) {
    return -1;
  }
  *slash = '\0';
  if ((parse_number(slash + 1, 1, 30, &len) != 0) || !ip4addr_aton(buf, &side->addr)) {
    return -1;
  }
  side->prefix = (u8_t)len;
  ip4_addr_set_u32(&side->mask, lwip_htonl(0xffffffffUL << (32 - len)));
  return 0;
}

static int
parse_port(const char *text, u16_t *port)
{
  unsigned long v;
  if (parse_number(text, 1, 65535, &v) != 0) {
    return -1;
  }
  *port = (u16_t)v;
  return 0;
}

/** "tcp:8080:192.168.7.2:80" (the netif is filled in once the WAN netif exists). */
static int
parse_forward(const char *text, struct lwip_snat_portmap *map)
{
  char buf[64];
  char *proto, *ext, *ip, *port;
  ip4_addr_t inside;

  if (strlen(text) >= sizeof(buf)) {
    return -1;
  }
  strcpy(buf, text);
  proto = strtok(buf, ":");
  ext = strtok(NULL, ":");
  ip = strtok(NULL, ":");
  port = strtok(NULL, ":");
  if ((port == NULL) || (strtok(NULL, ":") != NULL)) {
    return -1;
  }
  if (strcmp(proto, "tcp") == 0) {
    map->proto = LWIP_SNAT_PROTO_TCP;
  } else if (strcmp(proto, "udp") == 0) {
    map->proto = LWIP_SNAT_PROTO_UDP;
  } else {
    return -1;
  }
  if ((parse_port(ext, &map->ext_port) != 0) || (parse_port(port, &map->inside_port) != 0) ||
      !ip4addr_aton(ip, &inside)) {
    return -1;
  }
  map->inside_addr = lwip_ntohl(ip4_addr_get_u32(&inside));
  return 0;
}

/** "a.b.c.d/len" of a side, for messages. */
static const char *
side_text(const struct side *side, char *buf, size_t cap)
{
  snprintf(buf, cap, "%s/%u", ip4addr_ntoa(&side->addr), side->prefix);
  return buf;
}

/** Whether addr is a host address of side's subnet: inside it, neither its network nor its broadcast address. */
static int
host_of(const struct side *side, u32_t addr)
{
  u32_t mask = lwip_ntohl(ip4_addr_get_u32(&side->mask));
  u32_t net = lwip_ntohl(ip4_addr_get_u32(&side->addr)) & mask;
  return ((addr & mask) == net) && (addr != net) && (addr != (net | ~mask));
}

/**
 * Refuses an addressing the router cannot work with: LAN and WAN must be different subnets
 * (else a host could not be told apart as inside or outside), each address a host of its subnet,
 * the gateway a host of the WAN subnet other than the router, each forward's target a LAN host.
 */
static int
check_topology(const struct options *o)
{
  char lan[24], wan[24];
  u32_t lan_addr = lwip_ntohl(ip4_addr_get_u32(&o->lan.addr));
  u32_t wan_addr = lwip_ntohl(ip4_addr_get_u32(&o->wan.addr));
  u32_t gw = lwip_ntohl(ip4_addr_get_u32(&o->gateway));
  u32_t wider = lwip_ntohl(ip4_addr_get_u32(o->lan.prefix < o->wan.prefix ? &o->lan.mask : &o->wan.mask));
  int i;

  side_text(&o->lan, lan, sizeof(lan));
  side_text(&o->wan, wan, sizeof(wan));
  if (!host_of(&o->lan, lan_addr) || !host_of(&o->wan, wan_addr)) {
    fprintf(stderr, "lwip-snat-router: --lan %s, --wan %s: each address must be a host of its subnet, "
            "not its network or broadcast address\n", lan, wan);
    return -1;
  }
  if ((lan_addr & wider) == (wan_addr & wider)) {
    fprintf(stderr, "lwip-snat-router: --lan %s and --wan %s overlap: LAN and WAN must be different subnets\n", lan,
            wan);
    return -1;
  }
  if (!host_of(&o->wan, gw) || (gw == wan_addr)) {
    fprintf(stderr, "lwip-snat-router: --gateway %s must be another host of the WAN subnet %s\n",
            ip4addr_ntoa(&o->gateway), wan);
    return -1;
  }
  for (i = 0; i < o->forwards; i++) {
    u32_t inside = o->forward[i].inside_addr;
    if (!host_of(&o->lan, inside) || (inside == lan_addr)) {
      fprintf(stderr, "lwip-snat-router: --forward %s: the target must be another host of the LAN subnet %s\n",
              o->forward_text[i], lan);
      return -1;
    }
  }
  return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
  int i;

  memset(o, 0, sizeof(*o));
  o->lan.tap.name = "snat-lan";
  o->wan.tap.name = "snat-wan";
  parse_addr_prefix("192.168.7.1/24", &o->lan);
  parse_addr_prefix("10.77.0.1/24", &o->wan);
  ip4addr_aton("10.77.0.2", &o->gateway);

  for (i = 1; i < argc; i++) {
    const char *opt = argv[i];
    const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
    if ((strcmp(opt, "-h") == 0) || (strcmp(opt, "--help") == 0)) {
      usage(stdout);
      exit(0);
    }
    if (strcmp(opt, "--debug") == 0) {
      debug_on = 1;
      continue;
    }
    if (val == NULL) {
      fprintf(stderr, "lwip-snat-router: %s needs a value\n", opt);
      return -1;
    }
    i++;
    if (strcmp(opt, "--lan-tap") == 0) {
      o->lan.tap.name = val;
    } else if (strcmp(opt, "--wan-tap") == 0) {
      o->wan.tap.name = val;
    } else if (strcmp(opt, "--lan") == 0 || strcmp(opt, "--wan") == 0) {
      if (parse_addr_prefix(val, opt[2] == 'l' ? &o->lan : &o->wan) != 0) {
        fprintf(stderr, "lwip-snat-router: %s wants ADDR/LEN (e.g. 192.168.7.1/24), not \"%s\"\n", opt, val);
        return -1;
      }
    } else if (strcmp(opt, "--gateway") == 0) {
      if (!ip4addr_aton(val, &o->gateway)) {
        fprintf(stderr, "lwip-snat-router: --gateway wants an IPv4 address, not \"%s\"\n", val);
        return -1;
      }
    } else if (strcmp(opt, "--forward") == 0) {
      if (o->forwards == MAX_FORWARDS) {
        fprintf(stderr, "lwip-snat-router: at most %d --forward options\n", MAX_FORWARDS);
        return -1;
      }
      if (parse_forward(val, &o->forward[o->forwards]) != 0) {
        fprintf(stderr, "lwip-snat-router: --forward wants tcp|udp:EXT_PORT:IP:PORT, not \"%s\"\n", val);
        return -1;
      }
      o->forward_text[o->forwards++] = val;
    } else if (strcmp(opt, "--dump-every") == 0) {
      unsigned long seconds;
      if (parse_number(val, 0, DUMP_EVERY_MAX_S, &seconds) != 0) {
        fprintf(stderr, "lwip-snat-router: --dump-every wants whole seconds from 0 (off) to %d, not \"%s\"\n",
                DUMP_EVERY_MAX_S, val);
        return -1;
      }
      o->dump_every_s = (unsigned)seconds;
    } else {
      fprintf(stderr, "lwip-snat-router: unknown option %s\n", opt);
      usage(stderr);
      return -1;
    }
  }
  if ((strlen(o->lan.tap.name) >= IFNAMSIZ_MAX) || (strlen(o->wan.tap.name) >= IFNAMSIZ_MAX) ||
      (strcmp(o->lan.tap.name, o->wan.tap.name) == 0)) {
    fprintf(stderr, "lwip-snat-router: tap names must differ and be at most 15 characters\n");
    return -1;
  }
  return check_topology(o);
}

/** A tap died (tap.c said why): wake the main loop, which reports it and ends the router. */
static void
tap_failed(const struct tap *tap, int err)
{
  LWIP_UNUSED_ARG(tap);
  LWIP_UNUSED_ARG(err);
  kill(getpid(), SIGUSR2);
}

static void
tcpip_ready(void *arg)
{
  sys_sem_signal((sys_sem_t *)arg);
}

/** Adds one side's netif on its tap (tap.c), its frames going through the NAT (lwip_snat_netif.h). */
static int
add_tap(struct side *side, u8_t mac_last, const ip4_addr_t *gw)
{
  static const u8_t mac[6] = { 0x02, 0x00, 0x5e, 0x4e, 0x41, 0x00 };
  memcpy(side->tap.mac, mac, sizeof(mac));
  side->tap.failed = tap_failed;
  side->tap.mac[5] = mac_last;
  if (netif_add(&side->netif, &side->addr, &side->mask, gw, &side->tap, tap_netif_init, lwip_snat_netif_input) == NULL) {
    fprintf(stderr, "lwip-snat-router: tap %s: %s%s\n", side->tap.name, strerror(side->tap.fd_error),
            side->tap.fd_error == EPERM ? " (run as root, or create the tap for your user first)" : "");
    return -1;
  }
  return 0;
}

static void
print_side(const char *label, const struct side *side, const char *extra)
{
  const u8_t *hw = side->netif.hwaddr;
  char addr[24];
  side_text(side, addr, sizeof(addr));
  printf("  %s  tap %-10s %-18s netif %u  mac %02x:%02x:%02x:%02x:%02x:%02x%s\n", label, side->tap.name, addr,
         netif_get_index(&side->netif), hw[0], hw[1], hw[2], hw[3], hw[4], hw[5], extra);
}

/** Everything that needs lwIP's core lock at start: netifs, NAT, rule, forwards, banner. */
static int
start_router(struct options *o)
{
  struct lwip_snat_config cfg;
  struct lwip_snat_rule rule;
  lwip_snat_err_t err;
  char gw_text[48];
  int i;

  if ((add_tap(&o->lan, 1, IP4_ADDR_ANY4) != 0) || (add_tap(&o->wan, 2, &o->gateway) != 0)) {
    return -1;
  }
  /* A good seed for the unpredictable port choice (RFC 6056): Debian's LWIP_RAND() is rand(). */
  lwip_snat_config_default(&cfg);
  if (getrandom(cfg.seed, sizeof(cfg.seed), 0) != (ssize_t)sizeof(cfg.seed)) {
    fprintf(stderr, "lwip-snat-router: getrandom: %s\n", strerror(errno));
    return -1;
  }
  err = lwip_snat_start(&cfg);
  if (err == LWIP_SNAT_OK) {
    rule.kind = LWIP_SNAT_RULE_SOURCE;
    rule.src_netif_idx = netif_get_index(&o->lan.netif);
    rule.out_netif_idx = 0;
    err = lwip_snat_rule_add(&rule);
  }
  if (err != LWIP_SNAT_OK) {
    fprintf(stderr, "lwip-snat-router: starting the NAT: %s\n", lwip_snat_strerror(err));
    return -1;
  }

  printf("lwip-snat router: lwIP %s (Debian liblwip) + lwip-snat, pid %ld\n", LWIP_VERSION_STRING,
         (long)getpid());
  print_side("LAN", &o->lan, "  rule Source(LAN): what comes from here is translated");
  snprintf(gw_text, sizeof(gw_text), "  default route via %s", ip4addr_ntoa(&o->gateway));
  print_side("WAN", &o->wan, gw_text);
  for (i = 0; i < o->forwards; i++) {
    struct lwip_snat_portmap *m = &o->forward[i];
    m->out_netif_idx = netif_get_index(&o->wan.netif);
    err = lwip_snat_portmap_add(m);
    printf("  forward %-5s %s:%u -> %s%s%s\n", m->proto == LWIP_SNAT_PROTO_TCP ? "tcp" : "udp",
           ip4addr_ntoa(&o->wan.addr), m->ext_port, strchr(strchr(o->forward_text[i], ':') + 1, ':') + 1,
           err == LWIP_SNAT_OK ? "" : "  FAILED: ", err == LWIP_SNAT_OK ? "" : lwip_snat_strerror(err));
    if (err != LWIP_SNAT_OK) {
      return -1;
    }
  }
  /* Up only now that the NAT is ready: nothing from the LAN is ever forwarded untranslated. */
  netif_set_default(&o->wan.netif);
  netif_set_up(&o->lan.netif);
  netif_set_up(&o->wan.netif);
  printf("  sessions: tcp %d, udp %d, icmp %d; ip forwarding on; every IPv4 frame: tap -> hook -> ip4_input\n",
         LWIP_SNAT_MAX_TCP, LWIP_SNAT_MAX_UDP, LWIP_SNAT_MAX_ICMP);
  printf("  NAT table: kill -USR1 %ld%s; quit: Ctrl-C\n", (long)getpid(),
         o->dump_every_s ? " (and periodically)" : "");
  printf("ready\n");
  fflush(stdout);
  return 0;
}

int
main(int argc, char **argv)
{
  static struct options o;
  sys_sem_t ready;
  sigset_t signals;
  unsigned serial = 0;

  if (parse_options(argc, argv, &o) != 0) {
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  /* Only this thread takes the signals: lwIP's threads inherit the blocked set. The default
   * action first: a shell starts background jobs with SIGINT ignored. */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2); /* a tap died */
  pthread_sigmask(SIG_BLOCK, &signals, NULL);

  if (sys_sem_new(&ready, 0) != ERR_OK) {
    return 1;
  }
  tcpip_init(tcpip_ready, &ready);
  sys_sem_wait(&ready);
  sys_sem_free(&ready);

  LOCK_TCPIP_CORE();
  if (start_router(&o) != 0) {
    UNLOCK_TCPIP_CORE();
    return 1;
  }
  UNLOCK_TCPIP_CORE();

  for (;;) {
    struct timespec every = { (time_t)o.dump_every_s, 0 };
    int sig = o.dump_every_s ? sigtimedwait(&signals, NULL, &every) : sigwaitinfo(&signals, NULL);
    if ((sig < 0) && (errno == EINTR)) {
      continue;
    }
    LOCK_TCPIP_CORE();
    table_dump(stdout, ++serial);
    if ((sig == SIGINT) || (sig == SIGTERM) || (sig == SIGHUP) || (sig == SIGUSR2)) {
      netif_set_down(&o.lan.netif);
      netif_set_down(&o.wan.netif);
      UNLOCK_TCPIP_CORE();
      if (sig == SIGUSR2) {
        printf("lwip-snat router: stopped: a tap failed (see the message above); a router with one side deaf "
               "would only lose traffic\n");
        fprintf(stderr, "lwip-snat-router: stopped: a tap failed\n");
        return 1;
      }
      printf("lwip-snat router: stopped (signal %d); the taps go away with this process\n", sig);
      return 0;
    }
    UNLOCK_TCPIP_CORE();
  }
}
