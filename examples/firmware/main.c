/* lwip-snat firmware test on a Cortex-M4F (QEMU mps2-an386), and the other cores of docs/cores.md.
 *
 * lwIP 2.2 runs bare-metal (NO_SYS=1) as a router between two in-memory netifs, "lan" (inside)
 * and "wan" (outside), with the NAT in LWIP_HOOK_IP4_INPUT and one rule: masquerade what leaves
 * by wan. Scripted flows go in through ip4_input(), the real hook path; every packet lwIP sends
 * is checked byte by byte (addresses, ports, identifiers, TTL) and every checksum is recomputed
 * from scratch. The exit status is the number of failed checks (0 = pass), reported to the
 * host through semihosting. */
#include <string.h>

#include "chain.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip_snat_hook.h"
#include "netifs.h"
#include "semihost.h"

void firmware_clock_advance(uint32_t ms);

/* Inside host H and remote hosts R, R2 (documentation addresses, RFC 5737). */
#define H IPV4(192, 168, 1, 10)
#define R IPV4(198, 51, 100, 7)
#define R2 IPV4(198, 51, 100, 8)

/* The UDP checksum field: the test's datagrams all carry one, and a 0 ("none") that comes out
 * means something erased it. */
#define UDP_SUM(ip) rd16(PKT_L4(ip) + 6)

static unsigned checks, failures;
static struct pkt in, whole, frag;
static struct pkt out_udp; /* the translated UDP datagram, quoted by the ICMP error */

static void check(int ok, const char *what)
{
  checks++;
  if (!ok) {
    failures++;
  }
  semihost_puts(ok ? "  ok    " : "  FAIL  ");
  semihost_puts(what);
  semihost_puts("\n");
}

static void flow(const char *name)
{
  semihost_puts(name);
  semihost_puts("\n");
}

/* Runs lwIP's timers (the NAT's expiry timer among them) through `ms` of simulated time. */
static void advance(uint32_t ms)
{
  for (; ms >= 100; ms -= 100) {
    firmware_clock_advance(100);
    sys_check_timeouts();
  }
}

/* The one packet lwIP sent out of `netif` since the last injection, or NULL (a failed check). */
static const uint8_t *sent_one(struct netif *netif, const char *what)
{
  int ok = sent_count() == 1 && sent_at(0)->netif == netif;
  check(ok, what);
  return ok ? sent_at(0)->pkt.b : NULL;
}

static const uint8_t *send(struct netif *inp, const struct pkt *p, struct netif *expect, const char *what)
{
  sent_clear();
  inject(inp, p);
  return sent_one(expect, what);
}

static int payload_is(const uint8_t *ip, uint16_t l4_header, const void *data, uint16_t len)
{
  return PKT_LEN(ip) == PKT_HLEN(ip) + l4_header + len && memcmp(PKT_L4(ip) + l4_header, data, len) == 0;
}

static uint16_t udp_flow(void)
{
  static const char query[] = "query", answer[] = "answer";
  const uint8_t *ip;
  uint16_t ext = 0;

  flow("UDP H:40000 -> R:53 and back");
  build_udp(&in, H, 40000, R, 53, 64, (const uint8_t *)query, sizeof query);
  ip = send(&lan, &in, &wan, "outbound datagram leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_DST(ip) == R, "source is the wan address, destination kept");
    check(PKT_SPORT(ip) == 40000 && PKT_DPORT(ip) == 53, "free source port preserved (RFC 4787 REQ-3/RFC 6056)");
    check(PKT_TTL(ip) == 63, "TTL decremented once");
    check(checksums_ok(ip) && UDP_SUM(ip) != 0, "IP and UDP checksums verify");
    check(payload_is(ip, 8, query, sizeof query), "payload unchanged");
    ext = PKT_SPORT(ip);
    out_udp = sent_at(0)->pkt;
  }
  build_udp(&in, R, 53, WAN_ADDR, ext, 64, (const uint8_t *)answer, sizeof answer);
  ip = send(&wan, &in, &lan, "reply reaches lan");
  if (ip) {
    check(PKT_SRC(ip) == R && PKT_DST(ip) == H, "reply addressed to the inside host");
    check(PKT_SPORT(ip) == 53 && PKT_DPORT(ip) == 40000, "reply to the inside port");
    check(checksums_ok(ip) && UDP_SUM(ip) != 0, "IP and UDP checksums verify");
    check(payload_is(ip, 8, answer, sizeof answer), "payload unchanged");
  }
  build_udp(&in, R2, 53, WAN_ADDR, ext, 64, (const uint8_t *)answer, sizeof answer);
  sent_clear();
  inject(&wan, &in);
  check(sent_count() == 0 || sent_at(0)->netif != &lan,
        "another remote is filtered (address-and-port dependent, RFC 4787 REQ-8)");
  return ext;
}

static void icmp_error_flow(void)
{
  const uint8_t *ip, *quoted;

  flow("ICMP port unreachable from R about the translated datagram");
  build_icmp_error(&in, 3, 3, R, WAN_ADDR, &out_udp, out_udp.len);
  ip = send(&wan, &in, &lan, "error reaches lan");
  if (ip) {
    quoted = PKT_L4(ip) + 8;
    check(PKT_SRC(ip) == R && PKT_DST(ip) == H, "outer header to the inside host");
    check(PKT_ICMP_TYPE(ip) == 3 && PKT_ICMP_CODE(ip) == 3, "type and code kept");
    check(PKT_SRC(quoted) == H && PKT_SPORT(quoted) == 40000, "quoted datagram shows the inside endpoint");
    check(PKT_DST(quoted) == R && PKT_DPORT(quoted) == 53, "quoted destination kept");
    check(ip_checksum_ok(ip) && l4_checksum_ok(ip, 0), "outer IP and ICMP checksums verify");
    check(ip_checksum_ok(quoted) && l4_checksum_ok(quoted, 0) && UDP_SUM(quoted) != 0,
          "quoted IP and UDP checksums verify");
  }
}

static void tcp_flow(void)
{
  static const char get[] = "GET / HTTP/1.0\r\n\r\n", reply[] = "HTTP/1.0 200 OK\r\n\r\n";
  const uint8_t *ip;
  uint16_t ext = 0;

  flow("TCP H:40001 -> R:80: handshake, data, close");
  build_tcp(&in, H, 40001, R, 80, 1000, 0, PKT_SYN, 8960, NULL, 0);
  ip = send(&lan, &in, &wan, "SYN leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_SPORT(ip) == 40001 && PKT_DPORT(ip) == 80, "SYN translated, port kept");
    check(PKT_L4(ip)[13] == PKT_SYN && rd32(PKT_L4(ip) + 4) == 1000, "flags and sequence number kept");
#if defined(LWIP_SNAT_FEATURE_MSS_CLAMP)
    check(rd16(PKT_L4(ip) + 22) == 1460, "MSS 8960 clamped to the wan MTU (1460)");
#else
    check(rd16(PKT_L4(ip) + 22) == 8960, "MSS 8960 left as sent (built without mss-clamp)");
#endif
    check(checksums_ok(ip), "IP and TCP checksums verify");
    ext = PKT_SPORT(ip);
  }
  build_tcp(&in, R, 80, WAN_ADDR, ext, 5000, 1001, PKT_SYN | PKT_ACK, 1400, NULL, 0);
  ip = send(&wan, &in, &lan, "SYN-ACK reaches lan");
  if (ip) {
    check(PKT_DST(ip) == H && PKT_DPORT(ip) == 40001 && PKT_SRC(ip) == R, "SYN-ACK to the inside endpoint");
    check(checksums_ok(ip), "IP and TCP checksums verify");
  }
  build_tcp(&in, H, 40001, R, 80, 1001, 5001, PKT_ACK | PKT_PSH, 0, (const uint8_t *)get, sizeof get);
  ip = send(&lan, &in, &wan, "request leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_SPORT(ip) == ext, "same mapping for the connection");
    check(checksums_ok(ip) && payload_is(ip, 20, get, sizeof get), "checksums verify, payload unchanged");
  }
  build_tcp(&in, R, 80, WAN_ADDR, ext, 5001, 1001 + sizeof get, PKT_ACK | PKT_PSH | PKT_FIN, 0,
            (const uint8_t *)reply, sizeof reply);
  ip = send(&wan, &in, &lan, "response with FIN reaches lan");
  if (ip) {
    check(PKT_DST(ip) == H && PKT_DPORT(ip) == 40001, "response to the inside endpoint");
    check(checksums_ok(ip) && payload_is(ip, 20, reply, sizeof reply), "checksums verify, payload unchanged");
  }
  build_tcp(&in, H, 40001, R, 80, 1001 + sizeof get, 5002 + sizeof reply, PKT_ACK | PKT_FIN, 0, NULL, 0);
  ip = send(&lan, &in, &wan, "FIN leaves by wan");
  if (ip) {
    check(PKT_SPORT(ip) == ext && checksums_ok(ip), "FIN translated, checksums verify");
  }
  build_tcp(&in, R, 80, WAN_ADDR, ext, 5002 + sizeof reply, 1002 + sizeof get, PKT_ACK, 0, NULL, 0);
  ip = send(&wan, &in, &lan, "last ACK reaches lan");
  if (ip) {
    check(PKT_DPORT(ip) == 40001 && checksums_ok(ip), "last ACK translated, checksums verify");
  }
}

static void echo_flow(void)
{
  static const char data[] = "ping-data";
  const uint8_t *ip;
  uint16_t ext = 0;

  flow("ICMP echo H -> R and reply");
  build_echo(&in, 8, H, R, 0x1234, 1, (const uint8_t *)data, sizeof data);
  ip = send(&lan, &in, &wan, "echo request leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_ICMP_TYPE(ip) == 8, "request translated");
    check(PKT_ICMP_ID(ip) == 0x1234, "free identifier preserved");
    check(checksums_ok(ip) && payload_is(ip, 8, data, sizeof data), "checksums verify, payload unchanged");
    ext = PKT_ICMP_ID(ip);
  }
  build_echo(&in, 0, R, WAN_ADDR, ext, 1, (const uint8_t *)data, sizeof data);
  ip = send(&wan, &in, &lan, "echo reply reaches lan");
  if (ip) {
    check(PKT_DST(ip) == H && PKT_ICMP_TYPE(ip) == 0 && PKT_ICMP_ID(ip) == 0x1234, "reply to the inside identifier");
    check(checksums_ok(ip), "IP and ICMP checksums verify");
  }
}

/* The 12 bytes of a timestamp query (originate, receive, transmit). */
static const uint8_t stamps[12] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};

#if defined(LWIP_SNAT_FEATURE_ICMP_QUERIES)
static void icmp_query_flow(void)
{
  const uint8_t *ip;
  uint16_t ext = 0;

  flow("ICMP timestamp H -> R and reply, translated like echo");
  build_echo(&in, 13, H, R, 0x4321, 1, stamps, sizeof stamps);
  ip = send(&lan, &in, &wan, "timestamp request leaves by wan");
  if (ip) {
    check(PKT_SRC(ip) == WAN_ADDR && PKT_ICMP_TYPE(ip) == 13, "request translated");
    check(checksums_ok(ip) && payload_is(ip, 8, stamps, sizeof stamps), "checksums verify, payload unchanged");
    ext = PKT_ICMP_ID(ip);
  }
  build_echo(&in, 14, R, WAN_ADDR, ext, 1, stamps, sizeof stamps);
  ip = send(&wan, &in, &lan, "timestamp reply reaches lan");
  if (ip) {
    check(PKT_DST(ip) == H && PKT_ICMP_TYPE(ip) == 14 && PKT_ICMP_ID(ip) == 0x4321, "reply to the inside identifier");
    check(checksums_ok(ip), "IP and ICMP checksums verify");
  }
}
/* The timestamp exchange opened an ICMP mapping. */
#define ICMP_QUERY_MAPPINGS 1
#else
/* Built without icmp-queries: a timestamp query on a NAT path is dropped and counted. */
static void icmp_query_flow(void)
{
  struct lwip_snat_stats st;

  flow("ICMP timestamp H -> R, NAT built without icmp-queries");
  build_echo(&in, 13, H, R, 0x4321, 1, stamps, sizeof stamps);
  sent_clear();
  inject(&lan, &in);
  check(sent_count() == 0, "nothing leaves, translated or not");
  check(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.dropped[LWIP_SNAT_DROP_UNSUPPORTED_PROTOCOL] == 1,
        "dropped and counted as unsupported_protocol");
}
#define ICMP_QUERY_MAPPINGS 0
#endif

#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
/* Reassembles the fragments lwIP sent (in order of offset) into `whole`; 0 if they do not
 * add up to one datagram. */
static int reassemble_sent(struct pkt *dst)
{
  uint16_t next = 0, hlen = 0;
  int last = 0;
  while (!last) {
    unsigned i;
    for (i = 0; i < sent_count(); i++) {
      const uint8_t *ip = sent_at(i)->pkt.b;
      if (sent_at(i)->netif == &wan && (uint16_t)((rd16(ip + 6) & 0x1fffu) * 8u) == next) {
        uint16_t len = (uint16_t)(PKT_LEN(ip) - PKT_HLEN(ip));
        if (!ip_checksum_ok(ip) || next + len + 20u > PKT_MAX) {
          return 0;
        }
        hlen = PKT_HLEN(ip);
        memcpy(dst->b, ip, hlen);
        memcpy(dst->b + hlen + next, ip + hlen, len);
        next = (uint16_t)(next + len);
        last = (rd16(ip + 6) & 0x2000u) == 0;
        break;
      }
    }
    if (i == sent_count()) {
      return 0;
    }
  }
  dst->len = (uint16_t)(hlen + next);
  wr16(dst->b + 2, dst->len);
  wr16(dst->b + 6, 0);
  fix_ip_checksum(dst->b);
  return 1;
}

static void fragment_flow(void)
{
  static uint8_t data[3000];

  flow("UDP H:40002 -> R:9999, 3000 bytes in three fragments, last one first");
  fill_pattern(data, sizeof data, 7u, 3u);
  build_udp(&whole, H, 40002, R, 9999, 64, data, sizeof data);
  sent_clear();
  build_fragment(&frag, &whole, 2960, (uint16_t)(whole.len - 20u - 2960u), 0);
  inject(&lan, &frag);
  build_fragment(&frag, &whole, 0, 1480, 1);
  inject(&lan, &frag);
  check(sent_count() == 0, "nothing leaves before the datagram is complete");
  build_fragment(&frag, &whole, 1480, 1480, 1);
  inject(&lan, &frag);
  check(sent_count() >= 3, "the datagram leaves by wan, fragmented again by lwIP for MTU 1500");
  if (reassemble_sent(&frag)) {
    const uint8_t *ip = frag.b;
    check(PKT_SRC(ip) == WAN_ADDR && PKT_DST(ip) == R, "reassembled output: source is the wan address");
    check(PKT_SPORT(ip) == 40002 && PKT_DPORT(ip) == 9999, "ports: source preserved, destination kept");
    check(l4_checksum_ok(ip, 0) && UDP_SUM(ip) != 0, "UDP checksum over the whole datagram verifies");
    check(payload_is(ip, 8, data, sizeof data), "all 3000 payload bytes unchanged");
  } else {
    check(0, "fragments sent by wan reassemble into one datagram with valid IP checksums");
  }
}
/* The fragmented datagram opened a UDP mapping. */
#define FRAGMENT_UDP_MAPPINGS 1
#else
/* Built without reassembly: fragments on a NAT path are dropped and counted, never forwarded. */
static void fragment_flow(void)
{
  static uint8_t data[3000];
  struct lwip_snat_stats st;

  flow("UDP H:40002 -> R:9999, 3000 bytes in three fragments, NAT built without reassembly");
  build_udp(&whole, H, 40002, R, 9999, 64, data, sizeof data);
  sent_clear();
  build_fragment(&frag, &whole, 0, 1480, 1);
  inject(&lan, &frag);
  build_fragment(&frag, &whole, 1480, 1480, 1);
  inject(&lan, &frag);
  build_fragment(&frag, &whole, 2960, (uint16_t)(whole.len - 20u - 2960u), 0);
  inject(&lan, &frag);
  check(sent_count() == 0, "no fragment leaves, translated or not");
  check(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.dropped[LWIP_SNAT_DROP_FRAGMENT] == 3,
        "all three dropped and counted as fragment");
}
#define FRAGMENT_UDP_MAPPINGS 0
#endif

static void router_flows(void)
{
  static const char data[] = "to-the-router";
  const uint8_t *ip;

  flow("ping to the router itself: lwIP answers, untranslated");
  build_echo(&in, 8, H, LAN_ADDR, 7, 1, (const uint8_t *)data, sizeof data);
  ip = send(&lan, &in, &lan, "lwIP's echo reply leaves by lan");
  if (ip) {
    check(PKT_SRC(ip) == LAN_ADDR && PKT_DST(ip) == H && PKT_ICMP_TYPE(ip) == 0, "reply from the router");
    check(checksums_ok(ip), "checksums lwIP generated itself verify");
  }

  flow("UDP H -> the router's closed port: lwIP's port unreachable comes back, untranslated");
  build_udp(&in, H, 40004, LAN_ADDR, 9, 64, (const uint8_t *)data, sizeof data);
  ip = send(&lan, &in, &lan, "ICMP port unreachable leaves by lan, nothing by wan");
  if (ip) {
    check(PKT_ICMP_TYPE(ip) == 3 && PKT_ICMP_CODE(ip) == 3 && PKT_SRC(ip) == LAN_ADDR && PKT_DST(ip) == H,
          "port unreachable from the router to the inside host");
    check(PKT_LEN(ip) == 20u + 8u + 28u && memcmp(PKT_L4(ip) + 8, in.b, 28) == 0,
          "it quotes the datagram's header and first 8 bytes as sent");
    check(checksums_ok(ip), "checksums verify");
  }

  flow("UDP H -> R with TTL 1: lwIP's time exceeded reaches the true sender");
  build_udp(&in, H, 40003, R, 53, 1, (const uint8_t *)data, sizeof data);
  ip = send(&lan, &in, &lan, "ICMP time exceeded leaves by lan, nothing by wan");
  if (ip) {
    const uint8_t *quoted = PKT_L4(ip) + 8;
    check(PKT_ICMP_TYPE(ip) == 11 && PKT_DST(ip) == H, "time exceeded to the inside host");
    check(PKT_SRC(quoted) == H && PKT_SPORT(quoted) == 40003, "it quotes the untranslated datagram");
    check(checksums_ok(ip), "checksums verify");
  }

  /* (its route leads back out of lan: the hook's forwarding takes no such route, as lwIP's
   * ip4_forward() without IP_FORWARD_ALLOW_TX_ON_RX_NETIF does not) */
  flow("UDP H -> another lan address: routed back out of lan, which lwIP refuses");
  build_udp(&in, H, 40005, IPV4(192, 168, 1, 77), 53, 64, (const uint8_t *)data, sizeof data);
  sent_clear();
  inject(&lan, &in);
  check(sent_count() == 0, "nothing leaves, by lan or wan");

  /* (the hook's route lookup refuses it as ip4_forward() does (RFC 3927 2.7), before the core
   * sees it: a refused route is dropped, and only for a packet the core did not translate) */
  flow("UDP H -> a link-local address: not forwarded");
  build_udp(&in, H, 40006, IPV4(169, 254, 1, 1), 53, 64, (const uint8_t *)data, sizeof data);
  sent_clear();
  inject(&lan, &in);
  check(sent_count() == 0, "nothing leaves, translated or not");
}

static void expiry_flow(uint16_t udp_ext)
{
  struct lwip_snat_stats st;
  static const char late[] = "late";

  flow("idle mappings expire through lwIP's timers (the shim's cyclic timeout)");
  check(lwip_snat_stats(&st) == LWIP_SNAT_OK, "stats read");
  check(st.tcp.created == 1 && st.udp.created == 1 + FRAGMENT_UDP_MAPPINGS &&
            st.icmp.created == 1 + ICMP_QUERY_MAPPINGS,
        "one mapping created per flow (TCP 1, UDP 1 + the fragmented one's, ICMP 1 + the timestamp one's)");
  check(st.tcp.in_use == 1 && st.udp.in_use == 1 + FRAGMENT_UDP_MAPPINGS &&
            st.icmp.in_use == 1 + ICMP_QUERY_MAPPINGS,
        "all of them live");
  check(st.dropped[LWIP_SNAT_DROP_FILTERED] == 1, "the filtered datagram was counted");
  advance(301u * 1000u);
  check(lwip_snat_stats(&st) == LWIP_SNAT_OK, "stats read");
  check(st.tcp.in_use == 0 && st.udp.in_use == 0 && st.icmp.in_use == 0,
        "after 301 s: closed TCP, UDP (300 s) and ICMP (60 s) mappings gone");
  build_udp(&in, R, 53, WAN_ADDR, udp_ext, 64, (const uint8_t *)late, sizeof late);
  sent_clear();
  inject(&wan, &in);
  check(sent_count() == 0 || sent_at(0)->netif != &lan, "a reply after expiry does not reach lan");
}

int main(void)
{
  struct lwip_snat_rule masquerade;
  uint16_t udp_ext;

  semihost_puts("lwip-snat firmware test: lwIP " LWIP_VERSION_STRING " on " FIRMWARE_CORE ", NAT in LWIP_HOOK_IP4_INPUT\n");
  lwip_init();
  netifs_init();
  check(lwip_snat_start(NULL) == LWIP_SNAT_OK, "lwip_snat_start");
  masquerade.kind = LWIP_SNAT_RULE_OUTBOUND;
  masquerade.src_netif_idx = 0;
  masquerade.out_netif_idx = netif_get_index(&wan);
  check(lwip_snat_rule_add(&masquerade) == LWIP_SNAT_OK, "rule: masquerade what leaves by wan");

  udp_ext = udp_flow();
  icmp_error_flow();
  tcp_flow();
  echo_flow();
  icmp_query_flow();
  fragment_flow();
  router_flows();
  expiry_flow(udp_ext);
  chain_flows(check);

  semihost_putdec(checks - failures);
  semihost_puts("/");
  semihost_putdec(checks);
  semihost_puts(failures ? " checks passed: FAIL\n" : " checks passed: PASS\n");
  return (int)failures;
}
