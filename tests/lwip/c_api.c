/*
 * The C API from C: every call with NULL and invalid arguments, out-params left alone on
 * error, re-entry refused, and hostile packets that must end in a verdict. Built and run by
 * tests/c_api.rs (with AddressSanitizer and UBSan); prints "N passed, N failed".
 *
 * Includes only the generated header and the shim's header, as a firmware engineer would.
 */
#include "lwip_snat.h"
#include "lwip_snat_hook.h"

#include <stdio.h>
#include <string.h>

/* lwIP's own init, declared here so that no lwIP header is needed */
void lwip_init(void);

#include "check.h"

#define LAN 1
#define WAN 2
#define WAN_ADDR 0x0A000001u /* 10.0.0.1 */

static uint16_t
checksum(const uint8_t *data, size_t len, uint32_t sum)
{
  size_t i;
  for (i = 0; i + 1 < len; i += 2) {
    sum += (uint32_t)((data[i] << 8) | data[i + 1]);
  }
  if (len & 1) {
    sum += (uint32_t)(data[len - 1] << 8);
  }
  while (sum >> 16) {
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* UDP/IPv4 192.168.1.10:5000 -> 203.0.113.5:53 with 4 bytes of payload; returns the length */
static size_t
make_udp(uint8_t *p)
{
  static const uint8_t header[] = {
    0x45, 0, 0, 32, 0x12, 0x34, 0, 0, 64, 17, 0, 0, 192, 168, 1, 10, 203, 0, 113, 5,
    0x13, 0x88, 0, 53, 0, 12, 0, 0, 'p', 'i', 'n', 'g'
  };
  uint32_t pseudo;
  memcpy(p, header, sizeof(header));
  put16(p + 10, checksum(p, 20, 0));
  pseudo = get16(p + 12) + get16(p + 14) + get16(p + 16) + get16(p + 18) + 17 + 12;
  put16(p + 26, checksum(p + 20, 12, pseudo));
  return sizeof(header);
}

/* UDP/IPv4 src:sport -> dst:dport (host byte order) with 4 bytes of payload; returns the length */
static size_t
make_udp_between(uint8_t *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
  uint32_t pseudo;
  make_udp(p);
  put16(p + 12, (uint16_t)(src >> 16));
  put16(p + 14, (uint16_t)src);
  put16(p + 16, (uint16_t)(dst >> 16));
  put16(p + 18, (uint16_t)dst);
  put16(p + 20, sport);
  put16(p + 22, dport);
  p[10] = p[11] = 0;
  put16(p + 10, checksum(p, 20, 0));
  p[26] = p[27] = 0;
  pseudo = get16(p + 12) + get16(p + 14) + get16(p + 16) + get16(p + 18) + 17 + 12;
  put16(p + 26, checksum(p + 20, 12, pseudo));
  return 32;
}

static int
udp_checksum_ok(const uint8_t *p)
{
  uint16_t len = get16(p + 24);
  uint32_t pseudo = get16(p + 12) + get16(p + 14) + get16(p + 16) + get16(p + 18) + 17 + len;
  return checksum(p + 20, len, pseudo) == 0;
}

static const struct lwip_snat_ctx forward_ctx = { WAN_ADDR, 1500, LAN, LWIP_SNAT_ROUTE_FORWARD, WAN };

struct walk {
  int sessions;
  lwip_snat_err_t reentry;
  struct lwip_snat_session last;
};

#if defined(LWIP_SNAT_FEATURE_DUMP)
static void
count_session(const struct lwip_snat_session *s, void *arg)
{
  struct walk *w = (struct walk *)arg;
  w->sessions++;
  w->last = *s;
  w->reentry = lwip_snat_flush();
}
#endif

static void
test_before_init(void)
{
  struct lwip_snat_rule rule = { LWIP_SNAT_RULE_OUTBOUND, 0, WAN };
  struct lwip_snat_stats st, untouched;
  struct lwip_snat_config cfg, cfg_untouched;
  struct lwip_snat_verdict v;
  uint8_t pkt[64];
  size_t len = make_udp(pkt);
  struct walk w;

  memset(&st, 0xAB, sizeof(st));
  untouched = st;
  memset(&w, 0, sizeof(w));
  CHECK(lwip_snat_rule_add(&rule) == LWIP_SNAT_ERR_NOT_INIT);
  lwip_snat_config_default(&cfg);
  CHECK(lwip_snat_set_config(&cfg) == LWIP_SNAT_ERR_NOT_INIT);
  memset(&cfg, 0x77, sizeof(cfg));
  cfg_untouched = cfg;
  CHECK(lwip_snat_get_config(&cfg) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(memcmp(&cfg, &cfg_untouched, sizeof(cfg)) == 0);
  CHECK(lwip_snat_process(pkt, len, &forward_ctx, 0, &v) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(lwip_snat_tick(0) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(lwip_snat_flush() == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(memcmp(&st, &untouched, sizeof(st)) == 0);
#if defined(LWIP_SNAT_FEATURE_DUMP)
  CHECK(lwip_snat_foreach(count_session, &w, 0) == LWIP_SNAT_ERR_NOT_INIT);
  CHECK(w.sessions == 0);
#endif
  /* the hook lets everything through while the NAT is not initialised */
  CHECK(lwip_snat_ip4_input_hook(NULL, NULL) == 0);
}

static void
test_config(void)
{
  struct lwip_snat_config c, bad;

  CHECK(lwip_snat_config_default(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_config_default(&c) == LWIP_SNAT_OK);
  CHECK(c.tcp_established_ms == 7440000u && c.tcp_transitory_ms == 240000u);
  CHECK(c.udp_ms == 300000u && c.icmp_ms == 60000u && c.reass_timeout_ms == 15000u);
  CHECK(c.port_range_start == 1024 && c.port_range_end == 0xBFFF);
  CHECK(c.tcp_filtering == LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT);
  CHECK(c.udp_filtering == LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT);
  CHECK(c.reject_when_full == 1 && c.allow_short_timeouts == 0 && c.mss_clamp == 1);
  CHECK(c.mapping_sessions == 64 && c.host_quota == LWIP_SNAT_MAX_TCP / 4);

  bad = c; bad.udp_ms = 1000;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.icmp_ms = 0; bad.allow_short_timeouts = 1;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.tcp_established_ms = 0x80000000u;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.reass_timeout_ms = 0;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.port_range_start = 80;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_PORT_RANGE);
  bad = c; bad.port_range_end = 0xC000;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_PORT_RANGE);
  bad = c; bad.port_range_start = 5000; bad.port_range_end = 4000;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_PORT_RANGE);
  bad = c; bad.tcp_filtering = 3;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
#if !defined(LWIP_SNAT_FEATURE_EVICT)
  bad = c; bad.full_policy = LWIP_SNAT_FULL_EVICT; /* not built in */
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
#endif
  bad = c; bad.udp_filtering = 0xFF;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
  bad = c; bad.reject_when_full = 2;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
  bad = c; bad.allow_short_timeouts = 0x80;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
  bad = c; bad.mss_clamp = 7;
  CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
  /* a refused configuration leaves the NAT uninitialised */
  CHECK(lwip_snat_tick(0) == LWIP_SNAT_ERR_NOT_INIT);

  c.seed[0] = 42;
  CHECK(lwip_snat_init(&c) == LWIP_SNAT_OK);
  CHECK(lwip_snat_init(NULL) == LWIP_SNAT_OK);

  /* lwip_snat_start() tells the NAT of every netif's address right after lwip_snat_init(), as
   * changed where it is not the one the shim saw: a NAT just reset holds nothing that drops,
   * so the counters, the tables' use and the per-netif facts stay as they are */
  {
    struct lwip_snat_stats before, after;
#if defined(LWIP_SNAT_FEATURE_FAST_PATH)
    struct lwip_snat_concerns facts = *lwip_snat_netif_concerns();
#endif
    unsigned idx;

    CHECK(lwip_snat_stats(&before) == LWIP_SNAT_OK);
    for (idx = 1; idx <= 255; idx++) {
      CHECK(lwip_snat_netif_changed((uint8_t)idx) == LWIP_SNAT_OK);
    }
    CHECK(lwip_snat_stats(&after) == LWIP_SNAT_OK);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
#if defined(LWIP_SNAT_FEATURE_FAST_PATH)
    CHECK(memcmp(&facts, lwip_snat_netif_concerns(), sizeof facts) == 0);
#endif
  }
}

static void
test_rules(void)
{
  struct lwip_snat_rule r;
  int i;

  CHECK(lwip_snat_rule_add(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_rule_remove(NULL) == LWIP_SNAT_ERR_NULL);
  r.kind = 3; r.src_netif_idx = LAN; r.out_netif_idx = WAN;
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_ERR_ARG);
  r.kind = LWIP_SNAT_RULE_OUTBOUND; r.out_netif_idx = 0;
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_ERR_ARG);
  r.kind = LWIP_SNAT_RULE_SOURCE; r.src_netif_idx = 0; r.out_netif_idx = WAN;
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_ERR_ARG);
  r.kind = LWIP_SNAT_RULE_PAIR; r.src_netif_idx = LAN; r.out_netif_idx = 0;
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_ERR_ARG);

  r.kind = LWIP_SNAT_RULE_OUTBOUND; r.src_netif_idx = 0; r.out_netif_idx = WAN;
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_OK);
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_ERR_RULE_EXISTS);
  r.out_netif_idx = 9;
  CHECK(lwip_snat_rule_remove(&r) == LWIP_SNAT_ERR_RULE_NOT_FOUND);
  for (i = 1; i < LWIP_SNAT_MAX_RULES; i++) {
    r.out_netif_idx = (uint8_t)(100 + i);
    CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_OK);
  }
  r.out_netif_idx = 200;
  CHECK(lwip_snat_rule_add(&r) == LWIP_SNAT_ERR_RULES_FULL);
  for (i = 1; i < LWIP_SNAT_MAX_RULES; i++) {
    r.out_netif_idx = (uint8_t)(100 + i);
    CHECK(lwip_snat_rule_remove(&r) == LWIP_SNAT_OK);
  }
}

#if defined(LWIP_SNAT_FEATURE_PORTMAP)
static void
test_portmaps(void)
{
  struct lwip_snat_portmap m = { 0xC0A80114u, 8080, 80, LWIP_SNAT_PROTO_TCP, WAN };
  struct lwip_snat_portmap bad;
  int i;

  CHECK(lwip_snat_portmap_add(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_portmap_remove(NULL) == LWIP_SNAT_ERR_NULL);
  bad = m; bad.proto = LWIP_SNAT_PROTO_ICMP;
  CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_ERR_ARG);
  bad = m; bad.proto = 99;
  CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_ERR_ARG);
  bad = m; bad.out_netif_idx = 0;
  CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_ERR_ARG);
  bad = m; bad.ext_port = 0;
  CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_ERR_ARG);

  CHECK(lwip_snat_portmap_add(&m) == LWIP_SNAT_OK);
  bad = m; bad.inside_addr = 0xC0A80115u;
  CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_ERR_PORTMAP_CONFLICT);
  CHECK(lwip_snat_portmap_remove(&bad) == LWIP_SNAT_ERR_PORTMAP_NOT_FOUND);
  for (i = 1; i < LWIP_SNAT_MAX_PORTMAPS; i++) {
    bad = m; bad.ext_port = (uint16_t)(9000 + i);
    CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_OK);
  }
  bad = m; bad.ext_port = 9999;
  CHECK(lwip_snat_portmap_add(&bad) == LWIP_SNAT_ERR_PORTMAPS_FULL);
  for (i = 1; i < LWIP_SNAT_MAX_PORTMAPS; i++) {
    bad = m; bad.ext_port = (uint16_t)(9000 + i);
    CHECK(lwip_snat_portmap_remove(&bad) == LWIP_SNAT_OK);
  }
  CHECK(lwip_snat_portmap_remove(&m) == LWIP_SNAT_OK);
}
#endif

static void
test_process(void)
{
  struct lwip_snat_verdict v, untouched;
  struct lwip_snat_ctx ctx;
  uint8_t pkt[64];
  size_t len = make_udp(pkt);

  memset(&v, 0x5A, sizeof(v));
  untouched = v;
  CHECK(lwip_snat_process(NULL, len, &forward_ctx, 0, &v) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_process(pkt, len, NULL, 0, &v) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_process(pkt, len, &forward_ctx, 0, NULL) == LWIP_SNAT_ERR_NULL);
  ctx = forward_ctx; ctx.in_netif_idx = 0;
  CHECK(lwip_snat_process(pkt, len, &ctx, 0, &v) == LWIP_SNAT_ERR_ARG);
  ctx = forward_ctx; ctx.out_netif_idx = 0;
  CHECK(lwip_snat_process(pkt, len, &ctx, 0, &v) == LWIP_SNAT_ERR_ARG);
  ctx = forward_ctx; ctx.route = 7;
  CHECK(lwip_snat_process(pkt, len, &ctx, 0, &v) == LWIP_SNAT_ERR_ARG);
  CHECK(lwip_snat_process(pkt, (size_t)-1, &forward_ctx, 0, &v) == LWIP_SNAT_ERR_ARG);
  CHECK(memcmp(&v, &untouched, sizeof(v)) == 0);

  /* an empty or truncated buffer is a packet like any other: dropped and counted */
  CHECK(lwip_snat_process(pkt, 0, &forward_ctx, 0, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_DROP && v.drop_reason == LWIP_SNAT_DROP_MALFORMED);
  CHECK(lwip_snat_process(pkt, len - 1, &forward_ctx, 0, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_DROP && v.drop_reason == LWIP_SNAT_DROP_MALFORMED);

  CHECK(lwip_snat_process(pkt, len, &forward_ctx, 1000, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_TRANSLATED);
  CHECK(get32(pkt + 12) == WAN_ADDR);
  CHECK(checksum(pkt, 20, 0) == 0);
  CHECK(udp_checksum_ok(pkt));
}

#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
/* IP fragment of the datagram in p: payload bytes [from, from + n), more fragments or not */
static size_t
make_fragment(const uint8_t *p, size_t from, size_t n, int more, uint8_t *out)
{
  memcpy(out, p, 20);
  memcpy(out + 20, p + 20 + from, n);
  put16(out + 2, (uint16_t)(20 + n));
  put16(out + 6, (uint16_t)((more ? 0x2000 : 0) | (from / 8)));
  out[10] = out[11] = 0;
  put16(out + 10, checksum(out, 20, 0));
  return 20 + n;
}

static void
test_reassembled(void)
{
  struct lwip_snat_verdict v;
  uint8_t whole[64], frag[64], buf[64];
  size_t len = make_udp(whole), n = 12345, flen;

  whole[15] = 11; /* another inside host, 192.168.1.11 */
  whole[10] = whole[11] = 0;
  put16(whole + 10, checksum(whole, 20, 0));
  CHECK(lwip_snat_reassembled(NULL, sizeof(buf), &n) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_reassembled(buf, sizeof(buf), NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_reassembled(buf, sizeof(buf), &n) == LWIP_SNAT_ERR_NO_DATAGRAM && n == 12345);
  CHECK(lwip_snat_released(buf, sizeof(buf), NULL) == LWIP_SNAT_ERR_NULL);
  n = 1;
  CHECK(lwip_snat_released(buf, sizeof(buf), &n) == LWIP_SNAT_OK && n == 0); /* nothing released */
  n = 12345;
  flen = make_fragment(whole, 8, len - 28, 0, frag);
  CHECK(lwip_snat_process(frag, flen, &forward_ctx, 2000, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_HELD);
  flen = make_fragment(whole, 0, 8, 1, frag);
  CHECK(lwip_snat_process(frag, flen, &forward_ctx, 2000, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_REASSEMBLED && v.len == len);
  CHECK(lwip_snat_reassembled(buf, len - 1, &n) == LWIP_SNAT_ERR_BUFFER && n == 12345);
  CHECK(lwip_snat_reassembled(buf, sizeof(buf), &n) == LWIP_SNAT_OK && n == len);
  CHECK(memcmp(buf, whole, len) == 0);
}
#endif

static void
test_queries(void)
{
  struct lwip_snat_stats st;
  struct walk w;

  memset(&w, 0, sizeof(w));
#if defined(LWIP_SNAT_FEATURE_DUMP)
  CHECK(lwip_snat_foreach(NULL, &w, 0) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_foreach(count_session, &w, 1500) == LWIP_SNAT_OK);
  CHECK(w.sessions == 1);
  CHECK(w.reentry == LWIP_SNAT_ERR_BUSY);
  CHECK(w.last.proto == LWIP_SNAT_PROTO_UDP && w.last.inside_addr == 0xC0A8010Au && w.last.inside_port == 5000);
  CHECK(w.last.remote_addr == 0xCB007105u && w.last.remote_port == 53 && w.last.ext_netif_idx == WAN);
  CHECK(w.last.idle_ms == 500 && w.last.timeout_ms == 300000u);
#endif

  CHECK(lwip_snat_stats(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK);
  CHECK(st.translated_out == 1 && st.udp.in_use == 1 && st.udp.created == 1);
  CHECK(st.dropped[LWIP_SNAT_DROP_MALFORMED] == 2);
  CHECK(st.tcp.capacity == LWIP_SNAT_MAX_TCP && st.udp.capacity == LWIP_SNAT_MAX_UDP);
  CHECK(st.icmp.capacity == LWIP_SNAT_MAX_ICMP);

  CHECK(lwip_snat_netif_changed(0) == LWIP_SNAT_ERR_ARG);
  CHECK(lwip_snat_netif_changed(LAN) == LWIP_SNAT_OK);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 1);
  CHECK(lwip_snat_remove_host(0xC0A8010Bu) == LWIP_SNAT_OK);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 1);
  CHECK(lwip_snat_remove_host(0xC0A8010Au) == LWIP_SNAT_OK);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 0);
  CHECK(lwip_snat_tick(0xFFFFFFFFu) == LWIP_SNAT_OK);
  CHECK(lwip_snat_flush() == LWIP_SNAT_OK);

#if defined(LWIP_SNAT_FEATURE_DUMP)
  CHECK(strcmp(lwip_snat_drop_reason_name(LWIP_SNAT_DROP_MALFORMED), "malformed") == 0);
  CHECK(strcmp(lwip_snat_drop_reason_name(LWIP_SNAT_DROP_REVERSE_DIRECTION), "reverse_direction") == 0);
  CHECK(lwip_snat_drop_reason_name(LWIP_SNAT_DROP_REASONS) == NULL);
  CHECK(lwip_snat_drop_reason_name(255) == NULL);
  CHECK(strcmp(lwip_snat_strerror(LWIP_SNAT_ERR_BUSY), "LWIP_SNAT_ERR_BUSY") == 0);
  CHECK(strcmp(lwip_snat_strerror(LWIP_SNAT_OK), "LWIP_SNAT_OK") == 0);
  CHECK(lwip_snat_strerror(1) == NULL && lwip_snat_strerror(-1000) == NULL);
  CHECK(strcmp(lwip_snat_tcp_state_name(0x03), "ESTABLISHED") == 0);
  CHECK(lwip_snat_tcp_state_name(0xFF) != NULL);
#endif
}

/* field by field: the struct's trailing padding byte has no defined value */
static int
config_eq(const struct lwip_snat_config *a, const struct lwip_snat_config *b)
{
  return a->tcp_established_ms == b->tcp_established_ms && a->tcp_transitory_ms == b->tcp_transitory_ms
         && a->udp_ms == b->udp_ms && a->icmp_ms == b->icmp_ms && a->reass_timeout_ms == b->reass_timeout_ms
         && a->port_range_start == b->port_range_start && a->port_range_end == b->port_range_end
         && a->host_quota == b->host_quota && a->tcp_filtering == b->tcp_filtering
         && a->udp_filtering == b->udp_filtering && a->reject_when_full == b->reject_when_full
         && a->allow_short_timeouts == b->allow_short_timeouts && a->mss_clamp == b->mss_clamp
         && a->mapping_sessions == b->mapping_sessions && memcmp(a->seed, b->seed, sizeof(a->seed)) == 0;
}

/*
 * lwip_snat_set_config: NULL and invalid settings refused with nothing changed, timeouts below
 * the RFC floors only with allow_short_timeouts, and a filtering change that takes effect on a
 * live mapping (rules, sessions and the seed's keying kept).
 */
static void
test_set_config(void)
{
  static const struct lwip_snat_ctx inbound_ctx = { WAN_ADDR, 1500, WAN, LWIP_SNAT_ROUTE_LOCAL, WAN };
  const uint32_t host = 0xC0A8010Au, server = 0xCB007105u, stranger = 0xC6336407u; /* .1.10, 203.0.113.5, 198.51.100.7 */
  struct lwip_snat_config c, got, bad;
  struct lwip_snat_verdict v;
  struct lwip_snat_stats st;
  uint8_t pkt[64];
  uint16_t ext;

  CHECK(lwip_snat_flush() == LWIP_SNAT_OK);
  CHECK(lwip_snat_set_config(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_get_config(NULL) == LWIP_SNAT_ERR_NULL);
  CHECK(lwip_snat_get_config(&c) == LWIP_SNAT_OK);
  CHECK(c.udp_filtering == LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT && c.udp_ms == 300000u);
  CHECK(c.mss_clamp == 1 && c.allow_short_timeouts == 0);

  /* a live UDP mapping: 192.168.1.10:5000 -> 203.0.113.5:53 */
  make_udp_between(pkt, host, 5000, server, 53);
  CHECK(lwip_snat_process(pkt, 32, &forward_ctx, 10000, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_TRANSLATED);
  ext = get16(pkt + 20);
  /* address-and-port dependent: another remote is filtered */
  make_udp_between(pkt, stranger, 1234, WAN_ADDR, ext);
  CHECK(lwip_snat_process(pkt, 32, &inbound_ctx, 10001, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_DROP && v.drop_reason == LWIP_SNAT_DROP_FILTERED);

  /* refused: each leaves the settings as they were */
  bad = c; bad.udp_ms = 30000; /* below RFC 4787 REQ-5's 2 minutes */
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.tcp_established_ms = 3600000u; /* below RFC 5382 REQ-5's 2 h 4 min */
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.icmp_ms = 0; bad.allow_short_timeouts = 1;
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_TIMEOUT);
  bad = c; bad.udp_filtering = 3;
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_ARG);
  bad = c; bad.mss_clamp = 2;
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_ARG);
  bad = c; bad.port_range_end = 0xC000;
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_PORT_RANGE);
  bad = c; bad.full_policy = 2;
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_ARG);
#if !defined(LWIP_SNAT_FEATURE_EVICT)
  /* a build without `evict` refuses the policy it cannot carry out */
  bad = c; bad.full_policy = LWIP_SNAT_FULL_EVICT;
  CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_ARG);
#endif
  memset(&got, 0x5A, sizeof(got));
  CHECK(lwip_snat_get_config(&got) == LWIP_SNAT_OK && config_eq(&got, &c));
  make_udp_between(pkt, stranger, 1234, WAN_ADDR, ext);
  CHECK(lwip_snat_process(pkt, 32, &inbound_ctx, 10002, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_DROP);

  /* endpoint-independent (built with `filtering`), a short UDP timeout allowed by the flag,
   * another seed (ignored) */
#if defined(LWIP_SNAT_FEATURE_FILTERING)
  c.udp_filtering = LWIP_SNAT_FILTER_ENDPOINT_INDEPENDENT;
#endif
  c.udp_ms = 30000;
  c.allow_short_timeouts = 1;
  c.host_quota = 3;
  memset(c.seed, 0xEE, sizeof(c.seed));
  CHECK(lwip_snat_set_config(&c) == LWIP_SNAT_OK);
  CHECK(lwip_snat_get_config(&got) == LWIP_SNAT_OK);
  CHECK(got.udp_filtering == c.udp_filtering && got.udp_ms == 30000u);
  CHECK(got.allow_short_timeouts == 1 && got.host_quota == 3 && got.seed[0] == 0);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 1);
  /* the same mapping now admits the stranger, delivered to the inside endpoint (without
   * `filtering`, still filtered) */
  make_udp_between(pkt, stranger, 1234, WAN_ADDR, ext);
#if defined(LWIP_SNAT_FEATURE_FILTERING)
  CHECK(lwip_snat_process(pkt, 32, &inbound_ctx, 10003, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_TRANSLATED);
  CHECK(get32(pkt + 16) == host && get16(pkt + 22) == 5000 && udp_checksum_ok(pkt));
#else
  CHECK(lwip_snat_process(pkt, 32, &inbound_ctx, 10003, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_DROP && v.drop_reason == LWIP_SNAT_DROP_FILTERED);
#endif
  /* the rule is kept: a new flow is still translated */
  make_udp_between(pkt, host, 5001, server, 53);
  CHECK(lwip_snat_process(pkt, 32, &forward_ctx, 10004, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_TRANSLATED);
  CHECK(get32(pkt + 12) == WAN_ADDR);
  /* the new quota (3 sessions the host opens itself; it opened 2, the stranger 1 where let
   * in): a third is its last, a fourth is refused */
  make_udp_between(pkt, host, 5002, server, 53);
  CHECK(lwip_snat_process(pkt, 32, &forward_ctx, 10004, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_TRANSLATED);
  make_udp_between(pkt, host, 5003, server, 53);
  CHECK(lwip_snat_process(pkt, 32, &forward_ctx, 10005, &v) == LWIP_SNAT_OK);
  CHECK(v.action == LWIP_SNAT_SEND_ICMP && v.icmp_type == 3 && v.icmp_code == 13);
  /* the 30 s timeout applies to the live sessions: idle 30 s after 10004 they are gone */
  CHECK(lwip_snat_tick(10004 + 29000) == LWIP_SNAT_OK);
#if defined(LWIP_SNAT_FEATURE_FILTERING)
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 4);
#else
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 3);
#endif
  CHECK(lwip_snat_tick(10004 + 30001) == LWIP_SNAT_OK);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 0);

  lwip_snat_config_default(&c);
  CHECK(lwip_snat_set_config(&c) == LWIP_SNAT_OK);
}

#if !defined(LWIP_SNAT_FEATURE_FILTERING)
/*
 * Built without `filtering`: every protocol filters address and port dependently. A config
 * asking for another mode is refused by lwip_snat_init and lwip_snat_set_config with
 * LWIP_SNAT_ERR_ARG, nothing changed, and a new remote still never reaches a live mapping.
 */
static void
test_without_filtering(void)
{
  static const struct lwip_snat_ctx inbound_ctx = { WAN_ADDR, 1500, WAN, LWIP_SNAT_ROUTE_LOCAL, WAN };
  const uint32_t host = 0xC0A8010Au, server = 0xCB007105u, stranger = 0xC6336407u;
  static const uint8_t modes[] = { LWIP_SNAT_FILTER_ENDPOINT_INDEPENDENT, LWIP_SNAT_FILTER_ADDRESS_DEPENDENT };
  struct lwip_snat_config c, got, bad;
  struct lwip_snat_verdict v;
  struct lwip_snat_stats st;
  uint8_t pkt[64];
  uint16_t ext;
  size_t i;

  CHECK(lwip_snat_flush() == LWIP_SNAT_OK);
  CHECK(lwip_snat_get_config(&c) == LWIP_SNAT_OK);
  CHECK(c.tcp_filtering == LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT);
  CHECK(c.udp_filtering == LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT);
  make_udp_between(pkt, host, 5000, server, 53);
  CHECK(lwip_snat_process(pkt, 32, &forward_ctx, 10000, &v) == LWIP_SNAT_OK && v.action == LWIP_SNAT_TRANSLATED);
  ext = get16(pkt + 20);
  for (i = 0; i < sizeof(modes); i++) {
    bad = c; bad.udp_filtering = modes[i];
    CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_ARG);
    CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
    bad = c; bad.tcp_filtering = modes[i];
    CHECK(lwip_snat_set_config(&bad) == LWIP_SNAT_ERR_ARG);
    CHECK(lwip_snat_init(&bad) == LWIP_SNAT_ERR_ARG);
    memset(&got, 0x5A, sizeof(got));
    CHECK(lwip_snat_get_config(&got) == LWIP_SNAT_OK && config_eq(&got, &c));
    CHECK(got.udp_filtering == LWIP_SNAT_FILTER_ADDRESS_AND_PORT_DEPENDENT);
    /* the mapping (kept: nothing was reset) still filters a new remote */
    make_udp_between(pkt, stranger, 1234, WAN_ADDR, ext);
    CHECK(lwip_snat_process(pkt, 32, &inbound_ctx, 10001, &v) == LWIP_SNAT_OK);
    CHECK(v.action == LWIP_SNAT_DROP && v.drop_reason == LWIP_SNAT_DROP_FILTERED);
    CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 1);
  }
  CHECK(lwip_snat_flush() == LWIP_SNAT_OK);
}
#endif

/* xorshift32: a fixed sequence, so a failure can be replayed */
static uint32_t rng = 0x12345678u;

static uint32_t
next(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void
test_hostile_packets(void)
{
  static const struct lwip_snat_ctx local_ctx = { WAN_ADDR, 1500, WAN, LWIP_SNAT_ROUTE_LOCAL, WAN };
  struct lwip_snat_stats st;
  uint8_t pkt[1600];
  int i, bad_verdicts = 0, errors = 0;

  for (i = 0; i < 200000; i++) {
    struct lwip_snat_verdict v;
    size_t len, k;
    uint32_t r = next();
    if (r & 1) {
      /* a valid datagram with a few bytes changed, IP checksum fixed half of the time */
      len = make_udp(pkt);
      pkt[9] = (uint8_t)((r >> 1) % 3 == 0 ? 6 : ((r >> 1) % 3 == 1 ? 17 : 1));
      for (k = 0; k < 1 + (r >> 8) % 4; k++) {
        pkt[next() % len] = (uint8_t)next();
      }
      len = (r >> 4) & 1 ? len : next() % (len + 1);
      if ((r >> 5) & 1 && len >= 20) {
        pkt[10] = pkt[11] = 0;
        put16(pkt + 10, checksum(pkt, 20, 0));
      }
    } else {
      len = next() % sizeof(pkt);
      for (k = 0; k < len; k++) {
        pkt[k] = (uint8_t)next();
      }
      if (len > 0) {
        pkt[0] = 0x45;
      }
    }
    if (lwip_snat_process(pkt, len, (r >> 2) & 1 ? &forward_ctx : &local_ctx, (uint32_t)i, &v) != LWIP_SNAT_OK) {
      errors++;
    } else if (v.action > LWIP_SNAT_RELEASE || (v.action == LWIP_SNAT_DROP && v.drop_reason >= LWIP_SNAT_DROP_REASONS)) {
      bad_verdicts++;
    } else if (v.action == LWIP_SNAT_RELEASE) {
#if !defined(LWIP_SNAT_FEATURE_REASSEMBLY)
      bad_verdicts++; /* nothing is held without reassembly */
#else
      /* what the shim does: take every held fragment back (here into a small buffer) */
      uint8_t piece[64];
      size_t got = 0;
      int pieces = 0;
      while (lwip_snat_released(piece, sizeof(piece), &got) == LWIP_SNAT_OK && got != 0 && pieces < 100000) {
        if (got > sizeof(piece)) {
          bad_verdicts++;
        }
        pieces++;
      }
#endif
    }
  }
  CHECK(errors == 0);
  CHECK(bad_verdicts == 0);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK);
  CHECK(st.udp.in_use <= st.udp.capacity && st.tcp.in_use <= st.tcp.capacity && st.icmp.in_use <= st.icmp.capacity);
  CHECK(lwip_snat_flush() == LWIP_SNAT_OK);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.udp.in_use == 0 && st.tcp.in_use == 0 && st.icmp.in_use == 0);
}

static void
test_shim_start(void)
{
  struct lwip_snat_config c;
  struct lwip_snat_stats st;

  lwip_snat_config_default(&c);
  c.udp_ms = 1;
  CHECK(lwip_snat_start(&c) == LWIP_SNAT_ERR_TIMEOUT);
  CHECK(lwip_snat_start(NULL) == LWIP_SNAT_OK);
  CHECK(lwip_snat_start(NULL) == LWIP_SNAT_OK);
  CHECK(lwip_snat_stats(&st) == LWIP_SNAT_OK && st.translated_out == 0);
}

/* The port check: the router holds UDP 5000 on the WAN; tries to re-enter the NAT. */
static int check_calls;
static lwip_snat_err_t check_reentry;

static int
router_holds_5000(uint8_t proto, uint8_t netif_idx, uint16_t port)
{
  check_calls++;
  check_reentry = lwip_snat_flush();
  return (proto == LWIP_SNAT_PROTO_UDP) && (netif_idx == WAN) && (port == 5000);
}

/* External source port of 192.168.1.10:5000 -> 203.0.113.5:53 after a flush, or 0. */
static uint16_t
udp_5000_leaves_from(void)
{
  struct lwip_snat_verdict v;
  uint8_t pkt[64];
  size_t len = make_udp(pkt);
  if ((lwip_snat_flush() != LWIP_SNAT_OK) || (lwip_snat_process(pkt, len, &forward_ctx, 0, &v) != LWIP_SNAT_OK)
      || (v.action != LWIP_SNAT_TRANSLATED)) {
    return 0;
  }
  return get16(pkt + 20);
}

static void
test_port_check(void)
{
  struct lwip_snat_rule rule = { LWIP_SNAT_RULE_OUTBOUND, 0, WAN };
  uint16_t port;

  /* registered before init, kept across it */
  CHECK(lwip_snat_set_port_check(router_holds_5000) == LWIP_SNAT_OK);
  CHECK(lwip_snat_init(NULL) == LWIP_SNAT_OK);
  CHECK(lwip_snat_rule_add(&rule) == LWIP_SNAT_OK);
  port = udp_5000_leaves_from();
  CHECK(port != 0 && port != 5000);
  CHECK(check_calls > 0);
  CHECK(check_reentry == LWIP_SNAT_ERR_BUSY);
  /* NULL removes it: the port is preserved again */
  CHECK(lwip_snat_set_port_check(NULL) == LWIP_SNAT_OK);
  CHECK(udp_5000_leaves_from() == 5000);
}

int
main(void)
{
  lwip_init();
  test_before_init();
  test_config();
  test_rules();
#if defined(LWIP_SNAT_FEATURE_PORTMAP)
  test_portmaps();
#endif
  test_process();
  test_queries();
#if defined(LWIP_SNAT_FEATURE_REASSEMBLY)
  test_reassembled();
#endif
  test_set_config();
#if !defined(LWIP_SNAT_FEATURE_FILTERING)
  test_without_filtering();
#endif
  test_hostile_packets();
  test_port_check();
  test_shim_start();
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
