/* Instructions per packet on the target, counted under QEMU `-icount shift=0` (one instruction =
 * 1 ns of virtual time) with a timer read around batches of packets and calibrated against a loop
 * of known length. lwIP 2.2 routes between the in-memory netifs "lan" and "wan" of netifs.c;
 * their output only counts what leaves, so a forwarded packet costs what lwIP and the NAT do.
 *
 * Built twice from the same sources:
 * - with the NAT (the shim in LWIP_HOOK_IP4_INPUT, one masquerade rule): for established TCP and
 *   UDP flows, out and in, at each fill of live sessions, visited round-robin:
 *     core    lwip_snat_process() on the packet alone (the shim's route work excluded),
 *     hook    ip4_input() -> hook -> ip4_forward() -> netif output, the whole path,
 *     chained the same with the packet in a chain of two pool pbufs (40 + 20 bytes),
 *     linear  the same core-level figure for a linear-list NAT (linear_nat.c) at that fill;
 * - with -DFIRMWARE_WITHOUT_NAT (no hook compiled into ip4.c, no NAT linked): lwIP forwarding the
 *   same packets (inbound ones as they look once translated), the reference for the ratio.
 * Each figure is a batch's instructions minus those of the same batch without the measured call
 * (pbuf alloc + copy + free, or the memcpy of the packet), divided by the batch's packets.
 * Output lines: "measure <proto> <dir> <fill> core <a> hook <b> chained <b'> linear <l> shim <s>"
 * (s: the hook function alone, shim and core, without lwIP's own input and forwarding),
 * "measure <proto> <dir> <fill> linear <l>" (the linear list alone, past the NAT's tables) and
 * "measure <proto> <dir> lwip <c> chained <c'>", instructions with one decimal; and for a packet
 * no rule concerns (see measure_unconcerned_all: norule, dmzlan, torouter), "measure <proto> <kind>
 * hook <b> shim <s>" or "measure <proto> <kind> lwip <c>". The exit status is the number of failed checks. */
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/pbuf.h"
#include "netifs.h"
#include "semihost.h"
#include "timer.h"
#ifndef FIRMWARE_WITHOUT_NAT
#include "linear_nat.h"
#include "lwip_snat_hook.h"
#endif

/** Packets per batch: a multiple of every fill, and small enough for a 24-bit SysTick window
 * (the linear list at 1024 sessions takes about 30,000 instructions a packet on Cortex-M0). */
#define BATCH 1024u
/** Most flows of one protocol measured: the default build's largest table holds 256; the linear
 * list alone is measured up to 1024 as well. */
#define FLOWS_MAX 1024u
#define NAT_FLOWS_MAX 256u
/** Every measured packet is 60 bytes: 20 IP + 20 TCP + 20 data, or 20 IP + 8 UDP + 32 data. */
#define PKT_BYTES 60u
/** The chained case: the first pbuf holds the IP and TCP headers (the UDP header and 12 bytes of
 * data), the second the remaining 20 bytes. */
#define CHAIN_FIRST 40u

#define R IPV4(198, 51, 100, 7)
#define HOSTS 16u

static unsigned failures;
static uint8_t out_pkts[FLOWS_MAX][PKT_BYTES], in_pkts[FLOWS_MAX][PKT_BYTES];
static struct pkt scratch;
static const uint8_t data[32] = "lwip-snat measure payload bytes";
static uint64_t cal_instructions, cal_ticks;
/* Packets that left, by netif number (lan, wan, dmz). */
static volatile unsigned left_by[3];
/* A third netif that no rule concerns: 10.0.0.1/24, where LAN-to-LAN traffic goes. */
static struct netif dmz;
#define D IPV4(10, 0, 0, 5)

static void fail(const char *what)
{
  failures++;
  semihost_puts("FAIL: ");
  semihost_puts(what);
  semihost_puts("\n");
}

/* Netif output while measuring: count and drop. */
static err_t count_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop)
{
  LWIP_UNUSED_ARG(p);
  LWIP_UNUSED_ARG(next_hop);
  if (netif->num < 3u) {
    left_by[netif->num]++;
  }
  return ERR_OK;
}

static err_t dmz_setup(struct netif *netif)
{
  netif->output = count_output;
  netif->mtu = 1500;
  netif->flags = NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

static void dmz_init(void)
{
  ip4_addr_t ip, mask, gw;
  ip4_addr_set_u32(&ip, lwip_htonl(IPV4(10, 0, 0, 1)));
  ip4_addr_set_u32(&mask, lwip_htonl(0xffffff00u));
  ip4_addr_set_zero(&gw);
  netif_add(&dmz, &ip, &mask, &gw, NULL, dmz_setup, ip4_input);
  netif_set_up(&dmz);
}

/* netifs.c's capture (for opening flows and checking them) or count_output (while measuring). */
static netif_output_fn capture_output;

static void netifs_capture(int on)
{
  lan.output = wan.output = on ? capture_output : count_output;
}

/* Inside host and port of flow i. */
static uint32_t host_of(unsigned i) { return IPV4(192, 168, 1, 10 + i % HOSTS); }
static uint16_t port_of(unsigned i) { return (uint16_t)(20000u + i); }

/* `loops` turns of a two-instruction loop (subtract, branch), the calibration's known length. */
__attribute__((noinline)) static void spin(uint32_t loops)
{
#if defined(__riscv)
  __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(loops));
#elif defined(__ARM_ARCH_6M__)
  /* GCC hands ARMv6-M inline assembly over in divided syntax, where SUB sets the flags. */
  __asm__ volatile("1: sub %0, #1\n\tbne 1b" : "+l"(loops) : : "cc");
#else
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+l"(loops) : : "cc");
#endif
}

/* Instructions per timer tick, from two spins whose difference is 2 * 1,000,000 instructions. */
static void calibrate(void)
{
  uint32_t t0, t1, t2;
  timer_start();
  t0 = timer_read();
  spin(100000u);
  t1 = timer_read();
  spin(1100000u);
  t2 = timer_read();
  cal_instructions = 2000000u;
  cal_ticks = timer_elapsed(t1, t2) - timer_elapsed(t0, t1);
  semihost_puts("measure calibration ");
  semihost_putdec((uint32_t)((cal_instructions * 10u + cal_ticks / 2u) / cal_ticks));
  semihost_puts(" instructions per 10 ticks\n");
}

/* Instructions per packet, in tenths, of `ticks - base_ticks` over a batch. */
static int32_t tenths_per_packet(uint32_t ticks, uint32_t base_ticks)
{
  int64_t d = (int64_t)ticks - (int64_t)base_ticks;
  return (int32_t)((d * (int64_t)cal_instructions * 10 + (int64_t)(cal_ticks * BATCH / 2u)) /
                   (int64_t)(cal_ticks * BATCH));
}

/* Prints `label` and a figure in tenths with one decimal. */
static void put_tenths(const char *label, int32_t tenths)
{
  semihost_puts(label);
  if (tenths < 0) {
    semihost_puts("-");
    tenths = -tenths;
  }
  semihost_putdec((uint32_t)tenths / 10u);
  semihost_puts(".");
  semihost_putdec((uint32_t)tenths % 10u);
}

/* One received packet in pbufs from the pool: one pbuf, or (`first` < PKT_BYTES) a chain whose
 * first pbuf holds `first` bytes, as a driver with small pool buffers delivers it. */
static struct pbuf *received(const uint8_t *pkt, unsigned first)
{
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)first, PBUF_POOL);
  if (first < PKT_BYTES) {
    pbuf_cat(p, pbuf_alloc(PBUF_RAW, (u16_t)(PKT_BYTES - first), PBUF_POOL));
  }
  pbuf_take(p, pkt, PKT_BYTES);
  return p;
}

/* What input_batch() does with each packet. */
enum feed { FREE_ONLY, IP4_INPUT, HOOK_ONLY };

/* A batch through lwIP's input: received(), then ip4_input(), or the NAT's hook alone (the
 * packet freed when the hook passes it, as lwIP would go on with it), or only pbuf_free() (the
 * baseline); round-robin over the first `fill` packets. Ticks. */
static uint32_t input_batch(struct netif *inp, uint8_t (*pkts)[PKT_BYTES], unsigned fill, unsigned first,
                            enum feed feed)
{
  uint32_t t0 = timer_read();
  for (unsigned i = 0; i < BATCH; i++) {
    struct pbuf *p = received(pkts[i % fill], first);
    if (feed == IP4_INPUT) {
      ip4_input(p, inp);
#ifndef FIRMWARE_WITHOUT_NAT
    } else if (feed == HOOK_ONLY) {
      if (!lwip_snat_ip4_input_hook(p, inp)) {
        pbuf_free(p);
      }
#endif
    } else {
      pbuf_free(p);
    }
  }
  return timer_elapsed(t0, timer_read());
}

#ifndef FIRMWARE_WITHOUT_NAT
/* Instructions the hook alone takes per packet (tenths): the shim and the core, none of lwIP's
 * own input or forwarding. */
static int32_t hook_alone(struct netif *inp, uint8_t (*pkts)[PKT_BYTES], unsigned fill)
{
  uint32_t base = input_batch(inp, pkts, fill, PKT_BYTES, FREE_ONLY);
  return tenths_per_packet(input_batch(inp, pkts, fill, PKT_BYTES, HOOK_ONLY), base);
}
#endif

/* Instructions ip4_input() takes per packet (tenths); checks they all left by `expect`. */
static int32_t through_lwip(struct netif *inp, struct netif *expect, uint8_t (*pkts)[PKT_BYTES], unsigned fill,
                            unsigned first)
{
  uint32_t base, ticks;
  left_by[0] = left_by[1] = left_by[2] = 0;
  base = input_batch(inp, pkts, fill, first, FREE_ONLY);
  ticks = input_batch(inp, pkts, fill, first, IP4_INPUT);
  if (left_by[expect->num] != BATCH || left_by[0] + left_by[1] + left_by[2] != BATCH) {
    fail("a measured packet did not leave by the expected netif");
  }
  return tenths_per_packet(ticks, base);
}

/* Don't Fragment, as hosts doing path MTU discovery send (RFC 1191): the NAT leaves the IP ID
 * of such an atomic datagram alone. */
static void set_df(uint8_t *ip)
{
  ip[6] |= 0x40u;
  fix_ip_checksum(ip);
}

/* The packets: flow i is inside host_of(i):port_of(i) <-> R (TCP port 80, UDP port 53);
 * `in_dst` is where inbound packets are addressed (the wan address, or the inside host for the
 * lwIP-only build), `ext` the flow's external port. */
static void build_flow(unsigned i, uint8_t proto, uint32_t in_dst, uint16_t in_dport)
{
  if (proto == PKT_PROTO_TCP) {
    build_tcp(&scratch, host_of(i), port_of(i), R, 80, 1000, 5000, PKT_ACK | PKT_PSH, 0, data, 20);
    memcpy(out_pkts[i], scratch.b, PKT_BYTES);
    build_tcp(&scratch, R, 80, in_dst, in_dport, 5000, 1020, PKT_ACK | PKT_PSH, 0, data, 20);
  } else {
    build_udp(&scratch, host_of(i), port_of(i), R, 53, 64, data, 32);
    memcpy(out_pkts[i], scratch.b, PKT_BYTES);
    build_udp(&scratch, R, 53, in_dst, in_dport, 64, data, 32);
  }
  memcpy(in_pkts[i], scratch.b, PKT_BYTES);
  set_df(out_pkts[i]);
  set_df(in_pkts[i]);
  if (scratch.len != PKT_BYTES) {
    fail("measured packets are 60 bytes");
  }
}

/* 16 packets of one kind no rule, session or port forward concerns, each from a different host
 * (i is the host's number), in by `inp`, out by `expect`: through the hook when it is compiled in
 * ("hook"), lwIP alone otherwise ("lwip"). */
static void measure_unconcerned(uint8_t proto, const char *name, const char *kind, struct netif *inp,
                                struct netif *expect, uint32_t (*src_of)(unsigned), uint32_t dst)
{
  for (unsigned i = 0; i < 16u; i++) {
    if (proto == PKT_PROTO_TCP) {
      build_tcp(&scratch, src_of(i), port_of(i), dst, 80, 1000, 5000, PKT_ACK | PKT_PSH, 0, data, 20);
    } else {
      build_udp(&scratch, src_of(i), port_of(i), dst, 53, 64, data, 32);
    }
    memcpy(out_pkts[i], scratch.b, PKT_BYTES);
    set_df(out_pkts[i]);
  }
  semihost_puts("measure ");
  semihost_puts(name);
  semihost_puts(" ");
  semihost_puts(kind);
#ifdef FIRMWARE_WITHOUT_NAT
  put_tenths(" lwip ", through_lwip(inp, expect, out_pkts, 16u, PKT_BYTES));
#else
  put_tenths(" hook ", through_lwip(inp, expect, out_pkts, 16u, PKT_BYTES));
  put_tenths(" shim ", hook_alone(inp, out_pkts, 16u));
#endif
  semihost_puts("\n");
}

/* Hosts on the dmz. */
static uint32_t dmz_host_of(unsigned i) { return D + i; }

/* The kinds of packet no rule concerns while the masquerade rule (lan -> wan) is in place:
 * - norule:   LAN-to-LAN forwarding, lan -> dmz;
 * - dmzlan:   between two netifs no rule names, dmz -> lan;
 * - torouter: a LAN host to the router's own LAN address (lwIP answers: ICMP port unreachable
 *             for UDP, RST for TCP, out by lan). */
static void measure_unconcerned_all(uint8_t proto, const char *name)
{
  measure_unconcerned(proto, name, "norule", &lan, &dmz, host_of, D);
  measure_unconcerned(proto, name, "dmzlan", &dmz, &lan, dmz_host_of, IPV4(192, 168, 1, 10));
  measure_unconcerned(proto, name, "torouter", &lan, &lan, host_of, LAN_ADDR);
}

#ifdef FIRMWARE_WITHOUT_NAT

static void lwip_dir(const char *name, const char *dir, struct netif *inp, struct netif *expect,
                     uint8_t (*pkts)[PKT_BYTES])
{
  semihost_puts("measure ");
  semihost_puts(name);
  semihost_puts(" ");
  semihost_puts(dir);
  put_tenths(" lwip ", through_lwip(inp, expect, pkts, FLOWS_MAX, PKT_BYTES));
  put_tenths(" chained ", through_lwip(inp, expect, pkts, FLOWS_MAX, CHAIN_FIRST));
  semihost_puts("\n");
}

static void measure_lwip(uint8_t proto, const char *name)
{
  for (unsigned i = 0; i < FLOWS_MAX; i++) {
    build_flow(i, proto, host_of(i), port_of(i));
  }
  lwip_dir(name, "out", &lan, &wan, out_pkts);
  lwip_dir(name, "in", &wan, &lan, in_pkts);
}

static void measure_all(void)
{
  measure_lwip(PKT_PROTO_TCP, "tcp");
  measure_lwip(PKT_PROTO_UDP, "udp");
}

#else

static struct lwip_snat_ctx out_ctx, in_ctx;
static uint8_t buf[PKT_BYTES];

/* Injects one packet through the hook path, the packet that left by `expect` or NULL. */
static const uint8_t *exchange(struct netif *inp, struct netif *expect)
{
  sent_clear();
  inject(inp, &scratch);
  return sent_count() == 1 && sent_at(0)->netif == expect ? sent_at(0)->pkt.b : NULL;
}

/* Opens flows [from, to) of `proto` through lwIP and the hook (a TCP handshake each, one UDP
 * datagram each), builds their established packets and enters them in the linear list. */
static void open_flows(uint8_t proto, unsigned from, unsigned to)
{
  for (unsigned i = from; i < to; i++) {
    const uint8_t *ip;
    uint16_t ext = 0;
    if (proto == PKT_PROTO_TCP) {
      build_tcp(&scratch, host_of(i), port_of(i), R, 80, 999, 0, PKT_SYN, 0, NULL, 0);
      ip = exchange(&lan, &wan);
      ext = ip ? PKT_SPORT(ip) : 0;
      build_tcp(&scratch, R, 80, WAN_ADDR, ext, 4999, 1000, PKT_SYN | PKT_ACK, 0, NULL, 0);
      ip = ip ? exchange(&wan, &lan) : NULL;
      build_tcp(&scratch, host_of(i), port_of(i), R, 80, 1000, 5000, PKT_ACK, 0, NULL, 0);
      ip = ip ? exchange(&lan, &wan) : NULL;
    } else {
      build_udp(&scratch, host_of(i), port_of(i), R, 53, 64, NULL, 0);
      ip = exchange(&lan, &wan);
      ext = ip ? PKT_SPORT(ip) : 0;
    }
    if (ip == NULL) {
      fail("a flow opens through lwIP and the hook");
    }
    build_flow(i, proto, WAN_ADDR, ext);
    if (!linear_nat_add(proto, host_of(i), port_of(i), ext, R, proto == PKT_PROTO_TCP ? 80 : 53,
                        netif_get_index(&wan), netif_get_index(&lan), WAN_ADDR)) {
      fail("the linear list takes the flow");
    }
  }
}

/* A batch of core calls (`which`: 0 = only the copy of the packet, 1 = lwip_snat_process,
 * 2 = the linear list), round-robin; counts the packets not translated. Ticks. */
static uint32_t core_batch(int which, uint8_t (*pkts)[PKT_BYTES], unsigned fill, const struct lwip_snat_ctx *ctx,
                           unsigned *missed)
{
  struct lwip_snat_verdict v;
  uint32_t t0 = timer_read();
  for (unsigned i = 0; i < BATCH; i++) {
    memcpy(buf, pkts[i % fill], PKT_BYTES);
    if (which == 1) {
      *missed += lwip_snat_process(buf, PKT_BYTES, ctx, 0, &v) != LWIP_SNAT_OK || v.action != LWIP_SNAT_TRANSLATED;
    } else if (which == 2) {
      *missed += !linear_nat_process(buf, PKT_BYTES, ctx);
    }
  }
  return timer_elapsed(t0, timer_read());
}

static void measure_dir(const char *name, const char *dir, unsigned fill, struct netif *inp, struct netif *expect,
                        uint8_t (*pkts)[PKT_BYTES], const struct lwip_snat_ctx *ctx)
{
  unsigned missed = 0;
  uint32_t base = core_batch(0, pkts, fill, ctx, &missed);
  uint32_t core = core_batch(1, pkts, fill, ctx, &missed);
  uint32_t linear = core_batch(2, pkts, fill, ctx, &missed);
  int32_t hook = through_lwip(inp, expect, pkts, fill, PKT_BYTES);
  int32_t chained = through_lwip(inp, expect, pkts, fill, CHAIN_FIRST);
  if (missed != 0) {
    fail("every measured packet is translated");
  }
  semihost_puts("measure ");
  semihost_puts(name);
  semihost_puts(" ");
  semihost_puts(dir);
  semihost_puts(" ");
  semihost_putdec(fill);
  put_tenths(" core ", tenths_per_packet(core, base));
  put_tenths(" hook ", hook);
  put_tenths(" chained ", chained);
  put_tenths(" linear ", tenths_per_packet(linear, base));
  put_tenths(" shim ", hook_alone(inp, pkts, fill));
  semihost_puts("\n");
}

static void linear_only(const char *name, const char *dir, uint8_t (*pkts)[PKT_BYTES], const struct lwip_snat_ctx *ctx)
{
  unsigned missed = 0;
  uint32_t base = core_batch(0, pkts, FLOWS_MAX, ctx, &missed);
  uint32_t linear = core_batch(2, pkts, FLOWS_MAX, ctx, &missed);
  if (missed != 0) {
    fail("every measured packet is translated by the linear list");
  }
  semihost_puts("measure ");
  semihost_puts(name);
  semihost_puts(" ");
  semihost_puts(dir);
  semihost_puts(" ");
  semihost_putdec(FLOWS_MAX);
  put_tenths(" linear ", tenths_per_packet(linear, base));
  semihost_puts("\n");
}

/* Measures one protocol at each fill up to `max` live sessions (16, 256 and the table's size). */
static void measure_proto(uint8_t proto, const char *name, unsigned max)
{
  static const unsigned fills[] = { 16, 256, NAT_FLOWS_MAX };
  unsigned open = 0;
  struct lwip_snat_stats st;
  lwip_snat_flush();
  linear_nat_clear();
  for (unsigned f = 0; f < sizeof fills / sizeof fills[0]; f++) {
    unsigned fill = fills[f] < max ? fills[f] : max;
    if (fill <= open && f > 0) {
      continue;
    }
    netifs_capture(1);
    open_flows(proto, open, fill);
    netifs_capture(0);
    open = fill;
    if (lwip_snat_stats(&st) != LWIP_SNAT_OK ||
        (proto == PKT_PROTO_TCP ? st.tcp.in_use : st.udp.in_use) != fill) {
      fail("the table holds exactly the opened flows");
    }
    measure_dir(name, "out", fill, &lan, &wan, out_pkts, &out_ctx);
    measure_dir(name, "in", fill, &wan, &lan, in_pkts, &in_ctx);
  }
  /* The linear list alone at FLOWS_MAX: sessions as the NAT would have made them (port kept). */
  for (unsigned i = open; i < FLOWS_MAX; i++) {
    build_flow(i, proto, WAN_ADDR, port_of(i));
    if (!linear_nat_add(proto, host_of(i), port_of(i), port_of(i), R, proto == PKT_PROTO_TCP ? 80 : 53,
                        netif_get_index(&wan), netif_get_index(&lan), WAN_ADDR)) {
      fail("the linear list takes the flow");
    }
  }
  linear_only(name, "out", out_pkts, &out_ctx);
  linear_only(name, "in", in_pkts, &in_ctx);
}

static void measure_all(void)
{
  struct lwip_snat_rule masquerade;
  if (lwip_snat_start(NULL) != LWIP_SNAT_OK) {
    fail("lwip_snat_start");
  }
  masquerade.kind = LWIP_SNAT_RULE_OUTBOUND;
  masquerade.src_netif_idx = 0;
  masquerade.out_netif_idx = netif_get_index(&wan);
  if (lwip_snat_rule_add(&masquerade) != LWIP_SNAT_OK) {
    fail("rule: masquerade what leaves by wan");
  }
  /* The routes the shim works out for these packets (see lwip_snat_find_route). */
  out_ctx.route = LWIP_SNAT_ROUTE_FORWARD;
  out_ctx.in_netif_idx = netif_get_index(&lan);
  in_ctx.route = LWIP_SNAT_ROUTE_LOCAL;
  in_ctx.in_netif_idx = netif_get_index(&wan);
  out_ctx.out_netif_idx = in_ctx.out_netif_idx = netif_get_index(&wan);
  out_ctx.out_addr = in_ctx.out_addr = WAN_ADDR;
  out_ctx.out_mtu = in_ctx.out_mtu = wan.mtu;
  measure_proto(PKT_PROTO_TCP, "tcp", LWIP_SNAT_MAX_TCP);
  measure_proto(PKT_PROTO_UDP, "udp", LWIP_SNAT_MAX_UDP);
}

#endif

int main(void)
{
  lwip_init();
  netifs_init();
  capture_output = lan.output;
  netifs_capture(0);
  semihost_puts("measure: lwIP " LWIP_VERSION_STRING " on " FIRMWARE_CORE "\n");
  calibrate();
  measure_all();
  /* Only now: each netif more costs lwIP's input and the shim's route lookup instructions. */
  dmz_init();
  measure_unconcerned_all(PKT_PROTO_TCP, "tcp");
  measure_unconcerned_all(PKT_PROTO_UDP, "udp");
  semihost_puts(failures ? "measure: FAIL\n" : "measure: done\n");
  return (int)failures;
}
