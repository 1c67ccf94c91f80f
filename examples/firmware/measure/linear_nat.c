/* The linear-list NAT of linear_nat.h. Per packet: parse the IPv4 header and ports, walk the
 * protocol's `used` list from the head calling an out-of-line time-out check per node and
 * comparing netif indices, addresses (lwIP's ip_addr_cmp) and ports, move a match found more than
 * 16 nodes down to the head, refresh it, advance a TCP state byte, and rewrite one address and
 * port with incremental checksum updates (RFC 1624). Visited round-robin, move-to-front leaves
 * the next flow at the tail, so every lookup walks the whole list. */
#include "linear_nat.h"

#include <string.h>

#include "lwip/def.h"
#include "lwip/ip_addr.h"

/** Ticks a refreshed session lives (the add-on's LWIP_NAT_*_TICKS). */
#define REFRESH_TICKS 100u

/* A session laid out as the add-on's pcb: list link, inside address, netif indices and
 * expiry, external and remote addresses, then the protocol pcb's tail with the three ports. */
struct node {
  struct node *next;
  ip_addr_t nat_local_ip;
  uint8_t ext_netif_idx, int_netif_idx, timeout, pad;
  ip_addr_t local_ip, remote_ip;
  uint8_t ip_pcb[8];
  void *pcb_next, *callback_arg;
  uint8_t state, prio;
  uint16_t local_port, remote_port, nat_local_port; /* host order, as lwIP's pcbs */
};

struct list {
  struct node nodes[LINEAR_NAT_MAX];
  unsigned n;
  struct node *used, *free;
  uint8_t tick;
};

static struct list tcp, udp;

void linear_nat_clear(void)
{
  tcp.n = udp.n = 0;
  tcp.used = udp.used = tcp.free = udp.free = NULL;
}

int linear_nat_add(uint8_t proto, uint32_t inside, uint16_t in_port, uint16_t ext_port, uint32_t remote,
                   uint16_t remote_port, uint8_t ext_netif, uint8_t int_netif, uint32_t ext_addr)
{
  struct list *l = proto == 6 ? &tcp : &udp;
  struct node *n;
  if (l->n == LINEAR_NAT_MAX) {
    return 0;
  }
  n = &l->nodes[l->n++];
  memset(n, 0, sizeof *n);
  ip_addr_set_ip4_u32_val(n->nat_local_ip, lwip_htonl(inside));
  ip_addr_set_ip4_u32_val(n->local_ip, lwip_htonl(ext_addr));
  ip_addr_set_ip4_u32_val(n->remote_ip, lwip_htonl(remote));
  n->ext_netif_idx = ext_netif;
  n->int_netif_idx = int_netif;
  n->timeout = (uint8_t)(l->tick + REFRESH_TICKS);
  n->local_port = ext_port;
  n->remote_port = remote_port;
  n->nat_local_port = in_port;
  n->state = 4; /* ESTABLISHED */
  n->next = l->used;
  l->used = n;
  return 1;
}

/* The add-on's time-out check lives in another file: a real call per node. */
__attribute__((noinline)) static int timed_out(const struct node *n, uint8_t tick)
{
  return (uint8_t)(n->timeout - tick) >= 0x80u;
}

/* `int_netif` 0, `local`/`nat` NULL mean "any"; ports in host order. */
static struct node *walk(struct list *l, uint8_t ext_netif, uint8_t int_netif, const ip_addr_t *remote,
                         uint16_t remote_port, const ip_addr_t *local, uint16_t local_port, const ip_addr_t *nat,
                         uint16_t nat_port)
{
  struct node **prev = &l->used, *pcb = l->used;
  unsigned n = 0;
  while (pcb != NULL) {
    struct node *next = pcb->next;
    if (timed_out(pcb, l->tick)) {
      *prev = next;
      pcb->next = l->free;
      l->free = pcb;
      pcb = next;
      continue;
    }
    n++;
    if (ext_netif == pcb->ext_netif_idx && (int_netif == 0 || int_netif == pcb->int_netif_idx) &&
        (local == NULL || (ip_addr_cmp(local, &pcb->local_ip) && local_port == pcb->local_port)) &&
        (nat == NULL || (ip_addr_cmp(nat, &pcb->nat_local_ip) && nat_port == pcb->nat_local_port)) &&
        ip_addr_cmp(remote, &pcb->remote_ip) && remote_port == pcb->remote_port) {
      if (n > 16) {
        *prev = next;
        pcb->next = l->used;
        l->used = pcb;
      }
      return pcb;
    }
    prev = &pcb->next;
    pcb = next;
  }
  return NULL;
}

/* RFC 1624 eqn. 3 for one 16-bit word of a checksummed area (both in network order). */
static uint16_t csum_adjust(uint16_t sum, uint16_t old, uint16_t new_)
{
  uint32_t s = (uint16_t)~sum + (uint32_t)(uint16_t)~old + new_;
  s = (s & 0xffffu) + (s >> 16);
  s = (s & 0xffffu) + (s >> 16);
  return (uint16_t)~s;
}

static uint16_t get16(const uint8_t *p)
{
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}

static void put16(uint8_t *p, uint16_t v)
{
  memcpy(p, &v, 2);
}

int linear_nat_process(uint8_t *pkt, uint16_t len, const struct lwip_snat_ctx *ctx)
{
  unsigned hlen = (pkt[0] & 0x0fu) * 4u;
  uint8_t proto = pkt[9];
  struct list *l = proto == 6 ? &tcp : &udp;
  uint8_t *l4 = pkt + hlen, *addr, *port, *sum;
  ip_addr_t src, dst, to;
  struct node *n;
  uint16_t to_port;
  int outbound = ctx->route == LWIP_SNAT_ROUTE_FORWARD;

  if ((pkt[0] >> 4) != 4 || hlen < 20u || len < hlen + 8u || (proto != 6 && proto != 17) ||
      (get16(pkt + 6) & PP_HTONS(0x3fffu)) != 0) {
    return 0;
  }
  memcpy(&src, pkt + 12, 4);
  memcpy(&dst, pkt + 16, 4);
  if (outbound) {
    n = walk(l, ctx->out_netif_idx, ctx->in_netif_idx, &dst, lwip_ntohs(get16(l4 + 2)), NULL, 0, &src,
             lwip_ntohs(get16(l4)));
  } else {
    n = walk(l, ctx->out_netif_idx, 0, &src, lwip_ntohs(get16(l4)), &dst, lwip_ntohs(get16(l4 + 2)), NULL, 0);
  }
  if (n == NULL) {
    return 0;
  }
  n->timeout = (uint8_t)(l->tick + REFRESH_TICKS);
  if (proto == 6) {
    uint8_t flags = l4[13];
    n->state = (flags & 0x04u) ? 0 : (flags & 0x01u) ? (uint8_t)(n->state + 1u) : n->state;
  }
  to = outbound ? n->local_ip : n->nat_local_ip;
  to_port = lwip_htons(outbound ? n->local_port : n->nat_local_port);
  addr = pkt + (outbound ? 12 : 16);
  port = l4 + (outbound ? 0 : 2);
  sum = l4 + (proto == 6 ? 16 : 6);
  {
    uint16_t old_a[2], new_a[2], s = get16(sum), ip_s = get16(pkt + 10), old_p = get16(port);
    memcpy(old_a, addr, 4);
    memcpy(new_a, &to, 4);
    ip_s = csum_adjust(csum_adjust(ip_s, old_a[0], new_a[0]), old_a[1], new_a[1]);
    put16(pkt + 10, ip_s);
    if (proto == 6 || s != 0) {
      s = csum_adjust(csum_adjust(csum_adjust(s, old_a[0], new_a[0]), old_a[1], new_a[1]), old_p, to_port);
      put16(sum, (proto == 17 && s == 0) ? 0xffffu : s);
    }
    memcpy(addr, &to, 4);
    put16(port, to_port);
  }
  return 1;
}
