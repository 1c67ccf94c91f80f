/**
 * @file
 * The router's NAT table dump (lwip_snat_foreach) and counters (lwip_snat_stats).
 *
 *   proto inside                outside               remote                state         idle  timeout
 *   tcp   192.168.7.2:45678     10.77.0.1:45678       10.78.0.2:5201        ESTABLISHED   0.3s   7440s
 *
 * For ICMP the "port" is the query identifier and the remote has none.
 */
#include "table.h"

#include "lwip/def.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"

#include "lwip_snat.h"

#include <stdlib.h>

#define TABLE_MAX_SESSIONS (LWIP_SNAT_MAX_TCP + LWIP_SNAT_MAX_UDP + LWIP_SNAT_MAX_ICMP)

/** Sessions copied out of the foreach walk, so they can be sorted before printing. */
struct table_rows {
  struct lwip_snat_session row[TABLE_MAX_SESSIONS];
  size_t len;
};

static void
collect(const struct lwip_snat_session *s, void *arg)
{
  struct table_rows *rows = (struct table_rows *)arg;
  if (rows->len < TABLE_MAX_SESSIONS) {
    rows->row[rows->len++] = *s;
  }
}

/** tcp, udp, icmp; then by remote, then by inside port. */
static int
proto_rank(uint8_t proto)
{
  return proto == LWIP_SNAT_PROTO_TCP ? 0 : proto == LWIP_SNAT_PROTO_UDP ? 1 : 2;
}

static int
row_order(const void *a, const void *b)
{
  const struct lwip_snat_session *x = (const struct lwip_snat_session *)a;
  const struct lwip_snat_session *y = (const struct lwip_snat_session *)b;
  if (proto_rank(x->proto) != proto_rank(y->proto)) {
    return proto_rank(x->proto) - proto_rank(y->proto);
  }
  if (x->remote_addr != y->remote_addr) {
    return x->remote_addr < y->remote_addr ? -1 : 1;
  }
  if (x->remote_port != y->remote_port) {
    return x->remote_port < y->remote_port ? -1 : 1;
  }
  return (int)x->inside_port - (int)y->inside_port;
}

static const char *
proto_name(uint8_t proto)
{
  return proto == LWIP_SNAT_PROTO_TCP ? "tcp" : proto == LWIP_SNAT_PROTO_UDP ? "udp" : "icmp";
}

/** "a.b.c.d" or "a.b.c.d:port" from a host-order address. */
static const char *
endpoint(char *buf, size_t cap, uint32_t addr, int with_port, uint16_t port)
{
  if (with_port) {
    snprintf(buf, cap, "%u.%u.%u.%u:%u", (unsigned)(addr >> 24), (unsigned)((addr >> 16) & 0xff),
             (unsigned)((addr >> 8) & 0xff), (unsigned)(addr & 0xff), port);
  } else {
    snprintf(buf, cap, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)((addr >> 16) & 0xff),
             (unsigned)((addr >> 8) & 0xff), (unsigned)(addr & 0xff));
  }
  return buf;
}

/** The external address of a session: the current address of its netif. */
static uint32_t
external_addr(uint8_t netif_idx)
{
  struct netif *n = netif_get_by_index(netif_idx);
  return n == NULL ? 0 : lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(n)));
}

static void
print_rows(FILE *out, struct table_rows *rows)
{
  size_t i;
  qsort(rows->row, rows->len, sizeof(rows->row[0]), row_order);
  fprintf(out, "%-5s %-21s %-21s %-21s %-12s %7s %8s\n", "proto", "inside", "outside", "remote", "state", "idle",
          "timeout");
  for (i = 0; i < rows->len; i++) {
    const struct lwip_snat_session *s = &rows->row[i];
    char inside[24], outside[24], remote[24];
    char idle[16];
    int icmp = s->proto == LWIP_SNAT_PROTO_ICMP;
    snprintf(idle, sizeof(idle), "%lu.%lus", (unsigned long)(s->idle_ms / 1000),
             (unsigned long)((s->idle_ms % 1000) / 100));
    fprintf(out, "%-5s %-21s %-21s %-21s %-12s %7s %7lus\n", proto_name(s->proto),
            endpoint(inside, sizeof(inside), s->inside_addr, 1, s->inside_port),
            endpoint(outside, sizeof(outside), external_addr(s->ext_netif_idx), 1, s->ext_port),
            endpoint(remote, sizeof(remote), s->remote_addr, !icmp, s->remote_port),
            s->proto == LWIP_SNAT_PROTO_TCP   ? lwip_snat_tcp_state_name(s->state)
            : s->proto == LWIP_SNAT_PROTO_UDP ? lwip_snat_udp_state_name(s->state)
                                              : "-",
            idle,
            (unsigned long)(s->timeout_ms / 1000));
  }
}

static void
print_proto_counters(FILE *out, const char *name, const struct lwip_snat_proto_stats *p)
{
  fprintf(out, "  %s %u/%u (high %u, created %lu, expired %lu)", name, p->in_use, p->capacity, p->high_water,
          (unsigned long)p->created, (unsigned long)p->expired);
}

static void
print_counters(FILE *out)
{
  struct lwip_snat_stats st;
  int i, drops = 0;

  if (lwip_snat_stats(&st) != LWIP_SNAT_OK) {
    fprintf(out, "counters: unavailable\n");
    return;
  }
  fprintf(out, "packets: translated LAN->WAN %lu, WAN->LAN %lu, LAN->LAN (hairpin) %lu; passed to lwIP untouched %lu\n",
          (unsigned long)st.translated_out, (unsigned long)st.translated_in, (unsigned long)st.hairpinned,
          (unsigned long)st.passed);
  fprintf(out, "icmp: errors translated (both ways, counted in packets too) %lu; errors the NAT had lwIP send %lu; "
          "tcp: SYNs with MSS clamped %lu\n",
          (unsigned long)st.icmp_errors_translated, (unsigned long)st.icmp_requested, (unsigned long)st.mss_clamped);
  fprintf(out, "sessions:");
  print_proto_counters(out, "tcp", &st.tcp);
  print_proto_counters(out, "udp", &st.udp);
  print_proto_counters(out, "icmp", &st.icmp);
  fprintf(out, "\nfragments: held %lu, reassembled %lu, expired %lu\ndrops:", (unsigned long)st.fragments_held,
          (unsigned long)st.reassembled, (unsigned long)st.reass_expired);
  for (i = 0; i < LWIP_SNAT_DROP_REASONS; i++) {
    if (st.dropped[i] != 0) {
      fprintf(out, " %s %lu", lwip_snat_drop_reason_name((uint8_t)i), (unsigned long)st.dropped[i]);
      drops++;
    }
  }
  fprintf(out, "%s\n", drops == 0 ? " none" : "");
}

void
table_dump(FILE *out, unsigned serial)
{
  static struct table_rows rows;
  u32_t now = sys_now();
  lwip_snat_err_t err;

  rows.len = 0;
  err = lwip_snat_foreach(collect, &rows, now);
  fprintf(out, "NAT table #%u: %lu session%s\n", serial, (unsigned long)rows.len, rows.len == 1 ? "" : "s");
  if (err != LWIP_SNAT_OK) {
    fprintf(out, "  (lwip_snat_foreach: %s)\n", lwip_snat_strerror(err));
  }
  print_rows(out, &rows);
  print_counters(out);
  fprintf(out, "end of NAT table #%u\n", serial);
  fflush(out);
}
